/*
 * test_portal_mail.c - unit tests for escrow-web/web_mail.c: the secure
 * reply as a message, read back with the portal's own parser: headers
 * (Re:, In-Reply-To, References), multipart/mixed with the text and
 * every file byte for byte, non-ASCII names, and hostile input (CR/LF
 * in the subject and file names, bad addresses, odd types), 7-bit
 * clean output with CRLF lines under 1000 octets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "web_mail.h"
#include "web_mime.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

static const char *const refs2[] = { "r0@x.test", "r1@y.test" };

static void
base_reply(struct web_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->from = "bob@rcpt.test";
	r->to = "sam@sender.test";
	r->subject = "quarterly \xc3\x9c report";
	r->in_reply_to = "m1@sender.test";
	r->refs = refs2;
	r->nrefs = 2;
	r->text = "reply text\r\nsecond line\n";
	r->msgid_domain = "mx.test";
	r->date = 1800000000;
}

/* header - the first raw header field value (unfolded) of msg */
static char *
header(const char *msg, const char *name)
{
	size_t n = strlen(name);
	const char *p = msg;
	struct buf b;

	while (*p != '\0' && !(p[0] == '\r' && p[1] == '\n')) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			buf_init(&b, 64 * 1024);
			for (;;) {
				const char *e = strstr(p, "\r\n");
				(void)buf_append(&b, p, (size_t)(e - p));
				p = e + 2;
				if (*p != ' ' && *p != '\t')
					break;
			}
			return buf_steal(&b, NULL);
		}
		p = strstr(p, "\r\n") + 2;
	}
	return NULL;
}

/* check_wire - CRLF only, 7-bit, lines under 1000 octets */
static void
check_wire(const struct buf *b)
{
	size_t line = 0;

	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if (c >= 0x80 || c == 0)
			fail_msg("octet 0x%02x at %zu", c, i);
		if (c == '\n' && (i == 0 || b->data[i - 1] != '\r'))
			fail_msg("bare LF at %zu", i);
		if (c == '\r' && (i + 1 >= b->len || b->data[i + 1] != '\n'))
			fail_msg("bare CR at %zu", i);
		line = c == '\n' ? 0 : line + 1;
		if (line > 998)
			fail_msg("line over 998 octets at %zu", i);
	}
}

static void
test_reply(void **state)
{
	static const char bin[] = "\x00\x01\xff\r\n\xfe binary";
	struct web_mail_file f[2] = {
		{ "Antwort f\xc3\xbcr Sam.txt", "text/plain",
		  "reply attachment \xc3\xa4\r\n", 20 },
		{ "data.bin", "application/octet-stream", bin,
		  sizeof(bin) - 1 },
	};
	struct web_reply r;
	struct buf b, d;
	struct web_msg *m;
	char *err = NULL, *h;

	base_reply(&r);
	r.files = f;
	r.nfiles = 2;
	buf_init(&b, WEB_MAIL_MAX);
	assert_int_equal(web_mail_reply(&r, &b, &err), 0);
	check_wire(&b);
	h = header(b.data, "In-Reply-To");
	assert_string_equal(h, " <m1@sender.test>");
	xfree(h);
	h = header(b.data, "References");
	assert_non_null(strstr(h, "<r0@x.test>"));
	assert_non_null(strstr(h, "<r1@y.test>"));
	assert_non_null(strstr(h, "<m1@sender.test>"));
	assert_true(strstr(h, "<r1@y.test>") < strstr(h, "<m1@sender.test>"));
	xfree(h);
	h = header(b.data, "Content-Type");
	assert_non_null(strstr(h, "multipart/mixed"));
	xfree(h);
	h = header(b.data, "Message-Id");
	if (h == NULL)
		h = header(b.data, "Message-ID");
	assert_non_null(strstr(h, "@mx.test>"));
	xfree(h);
	h = header(b.data, "Date");
	assert_non_null(h);
	xfree(h);

	m = web_msg_parse(b.data, b.len, &err);
	assert_non_null(m);
	assert_string_equal(web_msg_subject(m), "Re: quarterly \xc3\x9c report");
	assert_non_null(strstr(web_msg_from(m), "bob@rcpt.test"));
	assert_string_equal(web_msg_message_id(m) + strlen(web_msg_message_id(
	    m)) - 8, "@mx.test");
	assert_non_null(strstr(web_msg_text(m), "reply text"));
	assert_non_null(strstr(web_msg_text(m), "second line"));
	assert_int_equal(web_msg_natt(m), 2);
	assert_string_equal(web_msg_att(m, 0)->filename,
	    "Antwort f\xc3\xbcr Sam.txt");
	assert_string_equal(web_msg_att(m, 0)->type, "text/plain");
	assert_string_equal(web_msg_att(m, 1)->type,
	    "application/octet-stream");
	buf_init(&d, 1024);
	assert_int_equal(web_msg_att_data(m, 0, &d), 0);
	assert_int_equal(d.len, 20);
	assert_memory_equal(d.data, f[0].data, 20);
	buf_reset(&d);
	assert_int_equal(web_msg_att_data(m, 1, &d), 0);
	assert_int_equal(d.len, sizeof(bin) - 1);
	assert_memory_equal(d.data, bin, sizeof(bin) - 1);
	buf_free(&d);
	web_msg_free(&m);
	buf_free(&b);
}

static void
test_subjects(void **state)
{
	static const struct {
		const char *in, *want;
	} v[] = {
		{ "hello", "Re: hello" },
		{ "Re: hello", "Re: hello" },
		{ "RE: hello", "RE: hello" },
		{ "  re:hello", "re:hello" },
		{ "", "Re:" },
		{ NULL, "Re:" },
		{ "Rebecca", "Re: Rebecca" },
		{ "line\r\nBcc: victim@x.test", "Re: line  Bcc: victim@x.test" },
	};
	struct web_reply r;
	struct buf b;
	char *err = NULL;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct web_msg *m;

		base_reply(&r);
		r.subject = v[i].in;
		buf_init(&b, WEB_MAIL_MAX);
		assert_int_equal(web_mail_reply(&r, &b, &err), 0);
		check_wire(&b);
		assert_null(header(b.data, "Bcc"));
		m = web_msg_parse(b.data, b.len, &err);
		assert_non_null(m);
		if (strcmp(web_msg_subject(m), v[i].want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"",
			    v[i].in ? v[i].in : "NULL", web_msg_subject(m),
			    v[i].want);
		web_msg_free(&m);
		buf_free(&b);
	}
}

static void
test_no_original_id(void **state)
{
	struct web_reply r;
	struct buf b;
	char *err = NULL;

	base_reply(&r);
	r.in_reply_to = NULL;
	buf_init(&b, WEB_MAIL_MAX);
	assert_int_equal(web_mail_reply(&r, &b, &err), 0);
	assert_null(header(b.data, "In-Reply-To"));
	assert_null(header(b.data, "References"));
	buf_free(&b);
	/* an id that would break the header is left out too */
	base_reply(&r);
	r.in_reply_to = "a>\r\nBcc: x@y";
	buf_init(&b, WEB_MAIL_MAX);
	assert_int_equal(web_mail_reply(&r, &b, &err), 0);
	assert_null(header(b.data, "In-Reply-To"));
	assert_null(header(b.data, "Bcc"));
	buf_free(&b);
}

static void
test_hostile_files(void **state)
{
	struct web_mail_file f[3] = {
		{ "../../etc/passwd\r\nX-Evil: 1", "text/plain\r\nX-Evil: 2",
		  "x", 1 },
		{ "", "not a type", "y", 1 },
		{ "long-\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac.txt", NULL, "z",
		  1 },
	};
	struct web_reply r;
	struct web_msg *m;
	struct buf b;
	char *err = NULL;

	base_reply(&r);
	r.files = f;
	r.nfiles = 3;
	r.text = "";
	buf_init(&b, WEB_MAIL_MAX);
	assert_int_equal(web_mail_reply(&r, &b, &err), 0);
	check_wire(&b);
	/* the names stay inside their parameter: no field of their own */
	assert_null(strstr(b.data, "\nX-Evil"));
	m = web_msg_parse(b.data, b.len, &err);
	assert_non_null(m);
	assert_int_equal(web_msg_natt(m), 3);
	assert_null(strchr(web_msg_att(m, 0)->filename, '/'));
	assert_string_equal(web_msg_att(m, 0)->type,
	    "application/octet-stream");
	assert_string_equal(web_msg_att(m, 1)->filename, "attachment-2");
	assert_string_equal(web_msg_att(m, 1)->type,
	    "application/octet-stream");
	assert_string_equal(web_msg_att(m, 2)->filename,
	    "long-\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac.txt");
	web_msg_free(&m);
	buf_free(&b);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = { "", "no-at", "a b@x", "a@x\r\n",
	    "<a@x>", "a@x,b@y", NULL };
	struct web_reply r;
	struct buf b;
	char *err = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int which = 0; which < 2; which++) {
			base_reply(&r);
			if (which)
				r.to = bad[i];
			else
				r.from = bad[i];
			buf_init(&b, WEB_MAIL_MAX);
			assert_int_equal(buf_append_str(&b, "keep"), 0);
			assert_int_equal(web_mail_reply(&r, &b, &err), -1);
			assert_non_null(err);
			xfree(err);
			err = NULL;
			assert_string_equal(buf_cstr(&b), "keep");
			buf_free(&b);
		}
	}
	/* out of room: refused, out unchanged */
	base_reply(&r);
	buf_init(&b, 100);
	assert_int_equal(web_mail_reply(&r, &b, &err), -1);
	xfree(err);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_no_original_id),
		cmocka_unit_test(test_hostile_files),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
