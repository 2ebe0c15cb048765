/*
 * test_portal_form.c - unit tests for escrow-web/web_form.c: the field
 * rules fed chunk by chunk (unknown and repeated fields, files where
 * text belongs and the reverse, NUL bytes, every cap at its edge,
 * chunks out of order, several files under one name, empty file
 * inputs), then the same collector behind libmicrohttpd's own post
 * processor on a loopback daemon, with real request bodies
 * (urlencoded and multipart, hostile and malformed) fed whole and one
 * byte at a time: both ways must give the same answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "web_form.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

static const struct web_form_spec spec[] = {
	{ "csrf", 8, 0 },
	{ "body", 16, 0 },
	{ "file", 10, WEB_FORM_F_FILE },
};
#define NSPEC (sizeof(spec) / sizeof(spec[0]))

static int
feed(struct web_form *f, const char *key, const char *filename,
    const char *data, uint64_t off)
{
	return web_form_feed(f, key, filename, NULL, data, off, strlen(data));
}

static void
test_basic(void **state)
{
	struct web_form *f = web_form_new(spec, NSPEC, 100, 4);

	assert_int_equal(feed(f, "csrf", NULL, "abc", 0), 0);
	/* a value in chunks, announced with an empty first call */
	assert_int_equal(feed(f, "body", NULL, "", 0), 0);
	assert_int_equal(feed(f, "body", NULL, "hel", 0), 0);
	assert_int_equal(feed(f, "body", NULL, "lo", 3), 0);
	assert_int_equal(web_form_finish(f), 0);
	assert_string_equal(web_form_value(f, "csrf"), "abc");
	assert_string_equal(web_form_value(f, "body"), "hello");
	assert_null(web_form_value(f, "file"));
	assert_null(web_form_value(f, "nope"));
	assert_int_equal(web_form_nfiles(f), 0);
	assert_null(web_form_file_at(f, 0));
	web_form_free(&f);
	assert_null(f);
}

static void
test_files(void **state)
{
	struct web_form *f = web_form_new(spec, NSPEC, 100, 4);
	const struct web_form_file *ff;

	assert_int_equal(web_form_feed(f, "file", "a.txt", "text/plain",
	    "12", 0, 2), 0);
	assert_int_equal(web_form_feed(f, "file", "a.txt", "text/plain",
	    "3\0" "4", 2, 3), 0);	/* NUL is fine in a file */
	assert_int_equal(web_form_feed(f, "file", "b.bin", NULL, "x", 0, 1),
	    0);
	/* an empty file input: no file chosen */
	assert_int_equal(web_form_feed(f, "file", "", NULL, "", 0, 0), 0);
	assert_int_equal(web_form_nfiles(f), 3);
	assert_int_equal(web_form_finish(f), 0);
	assert_int_equal(web_form_nfiles(f), 2);
	ff = web_form_file_at(f, 0);
	assert_string_equal(ff->filename, "a.txt");
	assert_string_equal(ff->content_type, "text/plain");
	assert_int_equal(ff->data.len, 5);
	assert_memory_equal(ff->data.data, "123\0" "4", 5);
	ff = web_form_file_at(f, 1);
	assert_string_equal(ff->filename, "b.bin");
	assert_string_equal(ff->content_type, "");
	web_form_free(&f);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *what;
		const char *key, *filename, *data;
		uint64_t off;
		enum web_form_err err;
	} v[] = {
		{ "unknown field", "evil", NULL, "x", 0, WEB_FORM_E_UNKNOWN },
		{ "file for a text field", "csrf", "a.txt", "x", 0,
		  WEB_FORM_E_SHAPE },
		{ "text for a file field", "file", NULL, "x", 0,
		  WEB_FORM_E_SHAPE },
		{ "NUL in text", "body", NULL, "a\0b", 0, WEB_FORM_E_NUL },
		{ "first chunk not at 0", "body", NULL, "x", 5,
		  WEB_FORM_E_ORDER },
		{ "field over its max", "csrf", NULL, "123456789", 0,
		  WEB_FORM_E_FIELD_SIZE },
		{ "file over its max", "file", "f", "12345678901", 0,
		  WEB_FORM_E_FIELD_SIZE },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct web_form *f = web_form_new(spec, NSPEC, 100, 4);
		size_t len = strlen(v[i].data);

		if (v[i].err == WEB_FORM_E_NUL)
			len = 3;
		if (web_form_feed(f, v[i].key, v[i].filename, NULL, v[i].data,
		    v[i].off, len) != -1 || web_form_error(f) != v[i].err)
			fail_msg("%s: got error %d, want %d", v[i].what,
			    web_form_error(f), v[i].err);
		/* sticky: nothing is taken any more */
		assert_int_equal(feed(f, "csrf", NULL, "ok", 0), -1);
		assert_int_equal(web_form_finish(f), -1);
		assert_int_equal(web_form_error(f), v[i].err);
		assert_non_null(web_form_error_text(v[i].err));
		web_form_free(&f);
	}
}

static void
test_edges(void **state)
{
	struct web_form *f;

	/* exactly the field max, then one more byte */
	f = web_form_new(spec, NSPEC, 100, 4);
	assert_int_equal(feed(f, "csrf", NULL, "1234", 0), 0);
	assert_int_equal(feed(f, "csrf", NULL, "5678", 4), 0);
	assert_string_equal(web_form_value(f, "csrf"), "12345678");
	assert_int_equal(feed(f, "csrf", NULL, "9", 8), -1);
	assert_int_equal(web_form_error(f), WEB_FORM_E_FIELD_SIZE);
	web_form_free(&f);

	/* total: exactly, then over */
	f = web_form_new(spec, NSPEC, 12, 4);
	assert_int_equal(feed(f, "csrf", NULL, "12345678", 0), 0);
	assert_int_equal(feed(f, "body", NULL, "1234", 0), 0);
	assert_int_equal(feed(f, "file", "a", "1", 0), -1);
	assert_int_equal(web_form_error(f), WEB_FORM_E_TOTAL_SIZE);
	web_form_free(&f);

	/* files: exactly files_max, then one more */
	f = web_form_new(spec, NSPEC, 100, 2);
	assert_int_equal(feed(f, "file", "a", "1", 0), 0);
	assert_int_equal(feed(f, "file", "b", "2", 0), 0);
	assert_int_equal(feed(f, "file", "c", "3", 0), -1);
	assert_int_equal(web_form_error(f), WEB_FORM_E_FILES);
	web_form_free(&f);

	/* a text field twice */
	f = web_form_new(spec, NSPEC, 100, 2);
	assert_int_equal(feed(f, "csrf", NULL, "a", 0), 0);
	assert_int_equal(feed(f, "body", NULL, "b", 0), 0);
	assert_int_equal(feed(f, "csrf", NULL, "c", 0), -1);
	assert_int_equal(web_form_error(f), WEB_FORM_E_DUP);
	web_form_free(&f);

	/* a chunk that skips bytes */
	f = web_form_new(spec, NSPEC, 100, 2);
	assert_int_equal(feed(f, "body", NULL, "ab", 0), 0);
	assert_int_equal(feed(f, "body", NULL, "cd", 5), -1);
	assert_int_equal(web_form_error(f), WEB_FORM_E_ORDER);
	web_form_free(&f);

	/* no files allowed at all */
	f = web_form_new(spec, NSPEC, 100, 0);
	assert_int_equal(feed(f, "file", "a", "1", 0), -1);
	assert_int_equal(web_form_error(f), WEB_FORM_E_FILES);
	web_form_free(&f);
	web_form_free(&f);	/* twice is harmless */
}

/* --- through libmicrohttpd's post processor ---------------------------- */

static int trickle;	/* feed MHD_post_process one byte at a time */

struct treq {
	struct web_form *form;
	struct MHD_PostProcessor *pp;
	int bad;
};

static const struct web_form_spec mspec[] = {
	{ "csrf", 64, 0 },
	{ "body", 4096, 0 },
	{ "file", 65536, WEB_FORM_F_FILE },
};

static enum MHD_Result
answer(struct MHD_Connection *c, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text),
	    (void *)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret = MHD_queue_response(c, 200, r);

	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **rc)
{
	struct treq *t = *rc;
	struct buf out;
	enum MHD_Result ret;

	if (t == NULL) {
		t = xcalloc(1, sizeof(*t));
		t->form = web_form_new(mspec, 3, 200000, 4);
		t->pp = MHD_create_post_processor(c, 1024, web_form_iterator,
		    t->form);
		*rc = t;
		return MHD_YES;
	}
	if (*size > 0) {
		if (t->pp == NULL)
			t->bad = 1;
		else if (!trickle) {
			if (MHD_post_process(t->pp, data, *size) != MHD_YES)
				t->bad = 1;
		} else {
			for (size_t i = 0; i < *size && !t->bad; i++)
				if (MHD_post_process(t->pp, data + i, 1) !=
				    MHD_YES)
					t->bad = 1;
		}
		*size = 0;
		return MHD_YES;
	}
	if (t->pp != NULL && MHD_destroy_post_processor(t->pp) != MHD_YES)
		t->bad = 1;
	t->pp = NULL;
	if (!t->bad && web_form_finish(t->form) < 0)
		t->bad = 1;
	buf_init(&out, 1 << 20);
	if (t->bad) {
		buf_printf(&out, "ERR %d", web_form_error(t->form));
	} else {
		const char *cs = web_form_value(t->form, "csrf");
		const char *b = web_form_value(t->form, "body");

		buf_printf(&out, "OK csrf=%s body=%s files=%zu",
		    cs ? cs : "-", b ? b : "-", web_form_nfiles(t->form));
		for (size_t i = 0; i < web_form_nfiles(t->form); i++) {
			const struct web_form_file *ff =
			    web_form_file_at(t->form, i);
			buf_printf(&out, " [%s|%s|%zu]", ff->filename,
			    ff->content_type, ff->data.len);
		}
	}
	ret = answer(c, buf_cstr(&out));
	buf_free(&out);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *c, void **rc,
    enum MHD_RequestTerminationCode toe)
{
	struct treq *t = *rc;

	if (t == NULL)
		return;
	if (t->pp != NULL)
		MHD_destroy_post_processor(t->pp);
	web_form_free(&t->form);
	xfree(t);
	*rc = NULL;
}

static struct MHD_Daemon *daemon_;
static int port_;

static int
setup(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	port_ = ntohs(sa.sin_port);
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
	    NULL, handler, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	return daemon_ != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	MHD_stop_daemon(daemon_);
	return 0;
}

/* post - one request with ctype and body; the answer's body */
static char *
post(const char *ctype, const char *body, size_t len)
{
	struct sockaddr_in sa;
	struct buf req, resp;
	char chunk[4096];
	ssize_t n;
	size_t off = 0;
	const char *p;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port_);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	buf_init(&req, 1 << 20);
	buf_printf(&req, "POST /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n", ctype, len);
	buf_append(&req, body, len);
	while (off < req.len) {
		n = write(fd, req.data + off, req.len - off);
		assert_true(n > 0);
		off += (size_t)n;
	}
	buf_init(&resp, 1 << 20);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&resp, chunk, (size_t)n);
	close(fd);
	buf_free(&req);
	p = strstr(buf_cstr(&resp), "\r\n\r\n");
	assert_non_null(p);
	p = xstrdup(p + 4);
	buf_free(&resp);
	return (char *)p;
}

#define MP "multipart/form-data; boundary=XyZ"

static void
test_through_mhd(void **state)
{
	static const char bin_body[] =
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"body\"\r\n\r\n"
	    "hello\r\nworld\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"file\"; "
	    "filename=\"Antwort f\xc3\xbcr Sam.txt\"\r\n"
	    "Content-Type: text/plain\r\n\r\n"
	    "almost --XyZ but not\r\nXyZ--\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"file\"; "
	    "filename=\"b.bin\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n"
	    "\x00\x01\x02\xff\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"file\"; filename=\"\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n"
	    "\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
	    "tok\r\n"
	    "--XyZ--\r\n";
	/* "ERR n": n is the enum web_form_err (1 unknown, 2 dup, 3 shape,
	 * 4 NUL, 5 field size); "ERR" alone: MHD's parser refused */
	static const struct {
		const char *what, *ctype, *body;
		size_t len;		/* 0: strlen */
		const char *want;	/* prefix of the answer */
	} v[] = {
		{ "urlencoded", "application/x-www-form-urlencoded",
		  "csrf=abc&body=hello+world%21", 0,
		  "OK csrf=abc body=hello world! files=0" },
		{ "urlencoded, trailing &", "application/x-www-form-urlencoded",
		  "body=x&csrf=abc&", 0, "OK csrf=abc body=x files=0" },
		{ "urlencoded, empty value", "application/x-www-form-urlencoded",
		  "csrf=&body=y", 0, "OK csrf= body=y files=0" },
		{ "urlencoded, unknown field",
		  "application/x-www-form-urlencoded", "csrf=a&evil=1", 0,
		  "ERR 1" },
		{ "urlencoded, %00", "application/x-www-form-urlencoded",
		  "csrf=a%00b", 0, "ERR 4" },
		{ "urlencoded, field too long",
		  "application/x-www-form-urlencoded",
		  "csrf=0123456789012345678901234567890123456789012345678901234"
		  "567890123456789", 0, "ERR 5" },
		{ "multipart with files", MP, bin_body, sizeof(bin_body) - 1,
		  "OK csrf=tok body=hello\r\nworld files=2 "
		  "[Antwort f\xc3\xbcr Sam.txt|text/plain|27] "
		  "[b.bin|application/octet-stream|4]" },
		{ "multipart, text where a file belongs", MP,
		  "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n"
		  "\r\nx\r\n--XyZ--\r\n", 0, "ERR 3" },
		{ "multipart, file where text belongs", MP,
		  "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"; "
		  "filename=\"a\"\r\n\r\nx\r\n--XyZ--\r\n", 0, "ERR 3" },
		{ "multipart, csrf twice", MP,
		  "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n"
		  "\r\na\r\n--XyZ\r\nContent-Disposition: form-data; "
		  "name=\"csrf\"\r\n\r\nb\r\n--XyZ--\r\n", 0, "ERR 2" },
		{ "multipart, no closing boundary", MP,
		  "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n"
		  "\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; "
		  "name=\"body\"\r\n\r\ncut sho", 0, "ERR" },
	};

	for (trickle = 0; trickle < 2; trickle++)
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			char *got = post(v[i].ctype, v[i].body,
			    v[i].len ? v[i].len : strlen(v[i].body));

			if (strncmp(got, v[i].want, strlen(v[i].want)) != 0)
				fail_msg("%s%s: got \"%s\", want \"%s\"",
				    v[i].what, trickle ? " (byte by byte)" : "",
				    got, v[i].want);
			xfree(got);
		}
}

/* hostile multipart that must not crash or pass as a good form */
static void
test_hostile_multipart(void **state)
{
	static const char *const v[] = {
		"--XyZ\r\n\r\nno disposition\r\n--XyZ--\r\n",
		"--XyZ\r\nContent-Disposition: form-data\r\n\r\nno name\r\n"
		"--XyZ--\r\n",
		"garbage before\r\n--XyZ--\r\n",
		"--XyZ--\r\n",
		"",
		"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n",
		"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\r\n\r\n"
		"x\r\n--XyZ--\r\n",
		"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"; "
		"filename*=UTF-8''%E2%80%AE.exe\r\n\r\nx\r\n--XyZ--\r\n",
		"--XyZ\r\nContent-Disposition: form-data; name=\"body\"\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\naGk=\r\n--XyZ--\r\n",
		/* the delimiter inside the content (RFC 2046 5.1.1 forbids) */
		"--XyZ\r\nContent-Disposition: form-data; name=\"body\"\r\n"
		"\r\na\r\n--XyZnot a delimiter\r\n--XyZ--\r\n",
	};

	for (trickle = 0; trickle < 2; trickle++)
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			char *got = post(MP, v[i], strlen(v[i]));

			/* either refused, or an answer that holds none of
			 * the garbage as a csrf */
			if (strncmp(got, "ERR", 3) != 0 &&
			    strncmp(got, "OK csrf=- ", 10) != 0 &&
			    strncmp(got, "OK csrf=x ", 10) != 0)
				fail_msg("case %zu%s: got \"%s\"", i,
				    trickle ? " (byte by byte)" : "", got);
			xfree(got);
		}
	/* no boundary parameter at all: MHD gives no post processor */
	{
		char *got = post("multipart/form-data", "x", 1);
		assert_string_equal(got, "ERR 0");
		xfree(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_edges),
		cmocka_unit_test_setup_teardown(test_through_mhd, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_multipart, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
