/*
 * fuzz_portal_form.c - libFuzzer target for the request data of portal
 * forms: web_form_feed()/web_form_finish() (escrow-web/web_form.c) and
 * the checks of what the fields carry, web_input_email(),
 * web_input_password() and web_input_next() (escrow-web/web_input.c).
 *
 * Byte 0 bit 0 picks the mode, bits 1-3 the form (login, logout,
 * password, reset, reply, as web_http.c declares them), bit 4 tiny
 * field caps, bits 5-6 the total cap; byte 1 bits 0-1 the file limit.
 *
 * Chunk mode (bit 0 clear): the rest is a list of iterator calls, each
 * 3 header bytes (key, filename and offset choice; a byte for the
 * offset or content type; the data length) and the data. A reference
 * model of the web_form.h rules runs alongside: every call must
 * succeed or fail as the model says, with the same error, and errors
 * are sticky; after finish, every text value and file is exactly what
 * the model collected.
 *
 * Body mode (bit 0 set): byte 1 bits 2-4 pick the Content-Type
 * (urlencoded, multipart with two boundary styles, text/plain, or a
 * line from the input), the rest is the request body. It is POSTed to
 * a libmicrohttpd daemon (no listen socket, driven from this thread
 * over a socketpair) whose post processor feeds web_form_iterator, as
 * web_http.c does; once with the body's chunks handed over whole, once
 * one byte at a time: both must accept with the same fields, or both
 * refuse (the first error seen may differ with the chunking).
 *
 * Either way the outcome must hold: text values NUL-free and under
 * their caps, everything under total_max, at most files_max files, no
 * empty file input left; and the values checked the way the handlers
 * do agree with independent reference checks (email trimmed, refused
 * for blanks/controls/<>,; or a missing side, domain lower-cased, at
 * most WEB_EMAIL_MAX, idempotent; password length in code points and
 * bytes; next only "/m/" and a 43-char token).
 */
#include <glib.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "web_form.h"
#include "web_input.h"
#include "web_limits.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

#define NSPEC_MAX	4
#define REPLY_MAX_FZ	(64 * 1024)	/* portal_reply_max here */

/* the forms of web_http.c / web.c */
static const struct web_form_spec spec_login[] = {
	{ "csrf", 128, 0 },
	{ "email", 1024, 0 },
	{ "password", WEB_PASSWORD_MAX * 4, 0 },
	{ "next", 256, 0 },
};
static const struct web_form_spec spec_logout[] = {
	{ "csrf", 128, 0 },
};
static const struct web_form_spec spec_password[] = {
	{ "csrf", 128, 0 },
	{ "t", 128, 0 },
	{ "password", WEB_PASSWORD_MAX * 4, 0 },
	{ "password2", WEB_PASSWORD_MAX * 4, 0 },
};
static const struct web_form_spec spec_reset[] = {
	{ "csrf", 128, 0 },
	{ "email", 1024, 0 },
};
static const struct web_form_spec spec_reply[] = {
	{ "csrf", 128, 0 },
	{ "body", WEB_REPLY_TEXT_MAX, 0 },
	{ "file", REPLY_MAX_FZ, WEB_FORM_F_FILE },
};
static const struct {
	const struct web_form_spec *spec;
	size_t n;
	int reply;
} forms[] = {
	{ spec_login, 4, 0 },
	{ spec_logout, 1, 0 },
	{ spec_password, 4, 0 },
	{ spec_reset, 2, 0 },
	{ spec_reply, 3, 1 },
};
#define NFORMS	(sizeof(forms) / sizeof(forms[0]))

struct setup {
	struct web_form_spec spec[NSPEC_MAX];
	size_t nspec, total_max, files_max;
};

/* --- reference model of web_form.h ------------------------------------- */

struct m_file {
	const char *field, *filename, *ctype;
	struct buf data;
};

struct model {
	const struct setup *s;
	struct buf val[NSPEC_MAX];
	int seen[NSPEC_MAX];
	struct m_file files[WEB_REPLY_FILES_MAX + 1];
	size_t nfiles, total;
	/* the value being filled */
	int cur_kind;			/* 0 none, 1 text, 2 file */
	size_t cur_idx;			/* spec index or file index */
	const char *cur_key, *cur_filename;
	enum web_form_err err;
};

static void
model_init(struct model *m, const struct setup *s)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->s = s;
	for (i = 0; i < NSPEC_MAX; i++)
		buf_init(&m->val[i], SIZE_MAX - 1);
}

static void
model_free(struct model *m)
{
	size_t i;

	for (i = 0; i < NSPEC_MAX; i++)
		buf_free(&m->val[i]);
	for (i = 0; i < m->nfiles; i++)
		buf_free(&m->files[i].data);
}

static struct buf *
model_cur(struct model *m)
{
	return m->cur_kind == 1 ? &m->val[m->cur_idx] :
	    &m->files[m->cur_idx].data;
}

static int
model_fail(struct model *m, enum web_form_err e)
{
	m->err = e;
	return -1;
}

/* model_feed - the rules of web_form.h, one call */
static int
model_feed(struct model *m, const char *key, const char *filename,
    const char *ctype, const char *d, uint64_t off, size_t size)
{
	const struct setup *s = m->s;
	size_t i, idx = 0, max;
	int cont, found = 0;

	if (m->err != WEB_FORM_E_NONE)
		return -1;
	if (key == NULL)
		return model_fail(m, WEB_FORM_E_UNKNOWN);
	cont = m->cur_kind != 0 && strcmp(m->cur_key, key) == 0 &&
	    (m->cur_kind == 2) == (filename != NULL) &&
	    off == model_cur(m)->len &&
	    (filename == NULL || strcmp(m->cur_filename, filename) == 0);
	if (!cont) {
		if (off != 0)
			return model_fail(m, WEB_FORM_E_ORDER);
		for (i = 0; i < s->nspec && !found; i++)
			if (strcmp(s->spec[i].name, key) == 0) {
				idx = i;
				found = 1;
			}
		if (!found)
			return model_fail(m, WEB_FORM_E_UNKNOWN);
		if (((s->spec[idx].flags & WEB_FORM_F_FILE) != 0) !=
		    (filename != NULL))
			return model_fail(m, WEB_FORM_E_SHAPE);
		if (filename != NULL) {
			if (m->nfiles >= s->files_max)
				return model_fail(m, WEB_FORM_E_FILES);
			m->files[m->nfiles].field = s->spec[idx].name;
			m->files[m->nfiles].filename = filename;
			m->files[m->nfiles].ctype = ctype != NULL ? ctype : "";
			buf_init(&m->files[m->nfiles].data, SIZE_MAX - 1);
			m->cur_kind = 2;
			m->cur_idx = m->nfiles++;
		} else {
			if (m->seen[idx])
				return model_fail(m, WEB_FORM_E_DUP);
			m->seen[idx] = 1;
			m->cur_kind = 1;
			m->cur_idx = idx;
		}
		m->cur_key = s->spec[idx].name;
		m->cur_filename = filename;
	}
	if (size == 0)
		return 0;
	if (m->cur_kind == 1 && memchr(d, '\0', size) != NULL)
		return model_fail(m, WEB_FORM_E_NUL);
	if (size > s->total_max - m->total)
		return model_fail(m, WEB_FORM_E_TOTAL_SIZE);
	for (i = 0; i < s->nspec; i++)
		if (strcmp(s->spec[i].name, m->cur_key) == 0)
			break;
	max = s->spec[i].max;
	if (model_cur(m)->len + size > max)
		return model_fail(m, WEB_FORM_E_FIELD_SIZE);
	CHECK(buf_append(model_cur(m), d, size) == 0);
	m->total += size;
	return 0;
}

/* --- checks of a finished form ------------------------------------------ */

/* ref_email - the reference of web_input_email(); 0 ok with out */
static int
ref_email(const char *in, char *out)
{
	size_t s = 0, e = strlen(in), i, at = (size_t)-1;

	while (s < e && (in[s] == ' ' || in[s] == '\t'))
		s++;
	while (e > s && (in[e - 1] == ' ' || in[e - 1] == '\t'))
		e--;
	if (e == s || e - s > WEB_EMAIL_MAX)
		return -1;
	for (i = s; i < e; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' ||
		    c == ',' || c == ';')
			return -1;
		if (c == '@')
			at = i;
	}
	if (at == (size_t)-1 || at == s || at == e - 1)
		return -1;
	if (!g_utf8_validate(in + s, (gssize)(e - s), NULL))
		return -1;	/* the database speaks UTF-8 */
	for (i = s; i < e; i++)
		out[i - s] = (char)(i > at && in[i] >= 'A' && in[i] <= 'Z' ?
		    in[i] + 32 : in[i]);
	out[e - s] = '\0';
	return 0;
}

static void
check_email(const char *in)
{
	char out[WEB_EMAIL_MAX + 1], ref[WEB_EMAIL_MAX + 1];
	char small[8], again[WEB_EMAIL_MAX + 1];
	int r;

	memset(out, 0x41, sizeof(out));
	r = web_input_email(in, out, sizeof(out));
	CHECK(r == ref_email(in, ref));
	CHECK(web_input_email(in, small, sizeof(small)) == -1 ||
	    (r == 0 && strlen(ref) < sizeof(small)));
	if (r < 0)
		return;
	CHECK(strcmp(out, ref) == 0 && strlen(out) <= WEB_EMAIL_MAX);
	CHECK(strchr(out, '@') != NULL);
	/* stored addresses check again as themselves */
	CHECK(web_input_email(out, again, sizeof(again)) == 0 &&
	    strcmp(out, again) == 0);
}

/* ref_chars - code points, a malformed byte counting as one */
static size_t
ref_chars(const unsigned char *s)
{
	size_t n = 0, k, need;
	unsigned long cp;

	while (*s != '\0') {
		need = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 :
		    (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
		cp = need == 1 ? s[0] : need == 2 ? (s[0] & 0x1fu) :
		    need == 3 ? (s[0] & 0x0fu) : (s[0] & 0x07u);
		for (k = 1; k < need; k++) {
			if ((s[k] & 0xc0) != 0x80) {
				need = 0;
				break;
			}
			cp = cp << 6 | (s[k] & 0x3f);
		}
		if (need > 1 && ((need == 2 && cp < 0x80) ||
		    (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
			need = 0;
		s += need == 0 ? 1 : need;
		n++;
	}
	return n;
}

static void
check_password(const char *pw, const char *pw2)
{
	enum web_pw_check c = web_input_password(pw, pw2), want;

	if (pw == NULL || pw2 == NULL)
		want = WEB_PW_MISSING;
	else if (strlen(pw) > WEB_PASSWORD_MAX)
		want = WEB_PW_LONG;
	else if (ref_chars((const unsigned char *)pw) < WEB_PASSWORD_MIN)
		want = WEB_PW_SHORT;
	else if (strcmp(pw, pw2) != 0)
		want = WEB_PW_MISMATCH;
	else
		want = WEB_PW_OK;
	CHECK(c == want);
	CHECK(web_input_password_text(c) != NULL);
	CHECK((c == WEB_PW_OK) == (web_input_password_text(c)[0] == '\0'));
}

static void
check_next(const char *next)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	int want = next != NULL && strncmp(next, "/m/", 3) == 0 &&
	    strlen(next + 3) == 43 && strspn(next + 3, set) == 43;

	CHECK(web_input_next(next) == want);
}

/* check_form - a form without a pending error, after finish */
static void
check_form(const struct web_form *f, const struct setup *s, struct buf *tr)
{
	size_t i, total = 0, n;
	const char *v;

	for (i = 0; i < s->nspec; i++) {
		v = web_form_value(f, s->spec[i].name);
		if (s->spec[i].flags & WEB_FORM_F_FILE) {
			CHECK(v == NULL);
			continue;
		}
		(void)buf_printf(tr, "v%zu:", i);
		if (v == NULL) {
			(void)buf_append_str(tr, "-;");
			continue;
		}
		n = strlen(v);
		CHECK(n <= s->spec[i].max);
		total += n;
		(void)buf_printf(tr, "%zu:", n);
		(void)buf_append(tr, v, n);
	}
	CHECK(web_form_value(f, "no-such-field") == NULL);
	n = web_form_nfiles(f);
	CHECK(n <= s->files_max);
	CHECK(web_form_file_at(f, n) == NULL);
	for (i = 0; i < n; i++) {
		const struct web_form_file *ff = web_form_file_at(f, i);
		size_t k;
		int is_file = 0;

		CHECK(ff != NULL && ff->field != NULL &&
		    ff->filename != NULL && ff->content_type != NULL);
		CHECK(ff->filename[0] != '\0' || ff->data.len > 0);
		for (k = 0; k < s->nspec; k++)
			if (strcmp(s->spec[k].name, ff->field) == 0) {
				is_file = (s->spec[k].flags &
				    WEB_FORM_F_FILE) != 0;
				CHECK(ff->data.len <= s->spec[k].max);
			}
		CHECK(is_file);
		total += ff->data.len;
		(void)buf_printf(tr, "f%s|%s|%s|%zu:", ff->field, ff->filename,
		    ff->content_type, ff->data.len);
		if (ff->data.len > 0)
			(void)buf_append(tr, ff->data.data, ff->data.len);
	}
	CHECK(total <= s->total_max);

	/* what the handlers do with the fields */
	v = web_form_value(f, "email");
	if (v != NULL)
		check_email(v);
	check_password(web_form_value(f, "password"),
	    web_form_value(f, "password2"));
	check_next(web_form_value(f, "next"));
	check_next(web_form_value(f, "t"));
	check_next(web_form_value(f, "csrf"));
}

/* check_model - the finished form holds what the model collected */
static void
check_model(const struct web_form *f, struct model *m)
{
	const struct setup *s = m->s;
	size_t i, o = 0;
	const char *v;

	for (i = 0; i < s->nspec; i++) {
		if (s->spec[i].flags & WEB_FORM_F_FILE)
			continue;
		v = web_form_value(f, s->spec[i].name);
		CHECK((v != NULL) == m->seen[i]);
		if (v != NULL)
			CHECK(strlen(v) == m->val[i].len &&
			    memcmp(v, buf_cstr(&m->val[i]), m->val[i].len) ==
			    0);
	}
	for (i = 0; i < m->nfiles; i++) {
		const struct m_file *mf = &m->files[i];
		const struct web_form_file *ff;

		if (mf->filename[0] == '\0' && mf->data.len == 0)
			continue;	/* no file chosen: dropped */
		ff = web_form_file_at(f, o++);
		CHECK(ff != NULL);
		CHECK(strcmp(ff->field, mf->field) == 0 &&
		    strcmp(ff->filename, mf->filename) == 0 &&
		    strcmp(ff->content_type, mf->ctype) == 0 &&
		    ff->data.len == mf->data.len);
		if (mf->data.len > 0)
			CHECK(memcmp(ff->data.data, mf->data.data,
			    mf->data.len) == 0);
	}
	CHECK(web_form_nfiles(f) == o);
}

/* --- chunk mode ------------------------------------------------------------- */

static const char *const filenames[] = { "a.txt", "", "b.bin",
    "../c\xff\r\n.exe" };
static const char *const ctypes[] = { NULL, "text/plain", "",
    "application/octet-stream; x=\"y\"" };

static void
run_chunks(const struct setup *s, const uint8_t *p, size_t len)
{
	struct web_form *f = web_form_new(s->spec, s->nspec, s->total_max,
	    s->files_max);
	struct model m;
	struct buf tr;
	size_t nkeys = s->nspec + 3, calls = 0;
	enum web_form_err sticky = WEB_FORM_E_NONE;

	model_init(&m, s);
	while (len >= 3 && calls++ < 4096) {
		const char *key, *filename = NULL, *ctype;
		size_t k = p[0] & 7, n = p[2];
		uint64_t off;
		int r, mr;

		k %= nkeys;
		key = k < s->nspec ? s->spec[k].name : k == s->nspec ? "x" :
		    k == s->nspec + 1 ? "" : NULL;
		if (p[0] & 8)
			filename = filenames[(p[0] >> 4) & 3];
		ctype = ctypes[p[1] & 3];
		switch (p[0] >> 6) {
		case 0:		/* go on with the current value */
			off = m.cur_kind != 0 && key != NULL &&
			    strcmp(key, m.cur_key) == 0 ?
			    model_cur(&m)->len : 0;
			break;
		case 1:
			off = 0;
			break;
		case 2:
			off = (m.cur_kind != 0 ? model_cur(&m)->len : 0) +
			    (p[1] >> 2);
			break;
		default:
			off = p[1] == 255 ? UINT64_MAX : p[1];
			break;
		}
		p += 3;
		len -= 3;
		if (n > len)
			n = len;
		r = web_form_feed(f, key, filename, ctype,
		    n > 0 ? (const char *)p : "", off, n);
		mr = model_feed(&m, key, filename, ctype, (const char *)p,
		    off, n);
		CHECK(r == mr);
		CHECK(web_form_error(f) == m.err);
		if (sticky != WEB_FORM_E_NONE)
			CHECK(r == -1 && web_form_error(f) == sticky);
		sticky = web_form_error(f);
		CHECK((r == -1) == (sticky != WEB_FORM_E_NONE));
		CHECK(web_form_error_text(sticky) != NULL);
		p += n;
		len -= n;
	}
	if (web_form_finish(f) == 0) {
		CHECK(m.err == WEB_FORM_E_NONE);
		check_model(f, &m);
		buf_init(&tr, SIZE_MAX - 1);
		check_form(f, s, &tr);
		buf_free(&tr);
		/* finish twice: nothing changes */
		CHECK(web_form_finish(f) == 0);
		check_model(f, &m);
	} else {
		CHECK(m.err != WEB_FORM_E_NONE &&
		    web_form_error(f) == m.err);
		CHECK(web_form_feed(f, s->spec[0].name, NULL, NULL, "a", 0, 1)
		    == -1);
	}
	model_free(&m);
	web_form_free(&f);
	CHECK(f == NULL);
}

/* --- body mode: through libmicrohttpd ---------------------------------------- */

struct treq {
	const struct setup *s;
	struct web_form *form;
	struct MHD_PostProcessor *pp;
	int trickle, bad, answered, called;
	struct buf *tr;
};

static struct treq *cur_req;
static int req_done;
static struct MHD_Daemon *daemon_;

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *d,
    size_t *size, void **rc)
{
	struct treq *t = cur_req;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t i;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	if (*rc == NULL) {
		*rc = t;
		t->called = 1;
		t->form = web_form_new(t->s->spec, t->s->nspec,
		    t->s->total_max, t->s->files_max);
		t->pp = MHD_create_post_processor(c, 1024, web_form_iterator,
		    t->form);
		return MHD_YES;
	}
	if (*size > 0) {
		if (t->pp == NULL) {
			t->bad = 1;
		} else if (!t->bad && !t->trickle) {
			if (MHD_post_process(t->pp, d, *size) != MHD_YES)
				t->bad = 1;
		} else {
			for (i = 0; i < *size && !t->bad; i++)
				if (MHD_post_process(t->pp, d + i, 1) !=
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
	if (t->bad) {
		/* an error is sticky and the form refuses more */
		if (web_form_error(t->form) != WEB_FORM_E_NONE)
			CHECK(web_form_feed(t->form, "csrf", NULL, NULL, "a",
			    0, 1) == -1);
		(void)buf_printf(t->tr, "ERR %d",
		    (int)web_form_error(t->form));
	} else {
		(void)buf_append_str(t->tr, "OK ");
		check_form(t->form, t->s, t->tr);
	}
	t->answered = 1;
	resp = MHD_create_response_from_buffer(2, (void *)"ok",
	    MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *c, void **rc,
    enum MHD_RequestTerminationCode toe)
{
	struct treq *t = *rc;

	(void)cls;
	(void)c;
	(void)toe;
	if (t != NULL) {
		if (t->pp != NULL)
			MHD_destroy_post_processor(t->pp);
		t->pp = NULL;
		web_form_free(&t->form);
		*rc = NULL;
	}
	req_done = 1;
}

static void
mhd_init(void)
{
	if (daemon_ != NULL)
		return;
	signal(SIGPIPE, SIG_IGN);
	daemon_ = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL,
	    handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT, 0u, MHD_OPTION_END);
	CHECK(daemon_ != NULL);
}

/* post - one request through the daemon; the outcome into tr. 0 done,
 * -1 the daemon refused the request before the body (too large a
 * header, say) */
static int
post(const struct setup *s, const char *ctype, const uint8_t *body,
    size_t len, int trickle, struct buf *tr)
{
	struct treq t;
	struct sockaddr_in sa;
	struct buf req;
	char junk[4096];
	size_t off = 0;
	ssize_t n;
	int sv[2], i, eof = 0;

	memset(&t, 0, sizeof(t));
	t.s = s;
	t.trickle = trickle;
	t.tr = tr;
	cur_req = &t;
	req_done = 0;
	buf_init(&req, SIZE_MAX - 1);
	CHECK(buf_printf(&req, "POST /f HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n\r\n", ctype, len) == 0);
	CHECK(buf_append(&req, body, len) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(MHD_add_connection(daemon_, sv[1], (struct sockaddr *)&sa,
	    sizeof(sa)) == MHD_YES);
	/* small requests fit the socket buffer: write it all first */
	while (off < req.len) {
		n = write(sv[0], req.data + off, req.len - off);
		CHECK(n > 0);
		off += (size_t)n;
	}
	/* until the daemon closes its end (Connection: close), having
	 * answered: drain what it sends, so it never blocks on us */
	for (i = 0; i < 100000 && !eof; i++) {
		CHECK(MHD_run(daemon_) == MHD_YES);
		while ((n = recv(sv[0], junk, sizeof(junk),
		    MSG_DONTWAIT)) > 0)
			;
		if (n == 0 || (n < 0 && errno != EAGAIN &&
		    errno != EWOULDBLOCK))
			eof = 1;
	}
	CHECK(eof);
	close(sv[0]);
	/* let the daemon clean up the closed connection */
	for (i = 0; i < 100 && !req_done && t.called; i++)
		(void)MHD_run(daemon_);
	/* once the handler has seen the request, the daemon must report
	 * it completed (t lives on this stack) */
	CHECK(req_done || !t.called);
	CHECK(t.form == NULL && t.pp == NULL);
	buf_free(&req);
	cur_req = NULL;
	if (!t.answered) {
		(void)buf_append_str(tr, "REFUSED");
		return -1;
	}
	return 0;
}

static int
is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* urlenc_clean - no NUL, every '%' followed by two hex digits */
static int
urlenc_clean(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\0')
			return 0;
		if (p[i] == '%' && (len - i < 3 || !is_hex(p[i + 1]) ||
		    !is_hex(p[i + 2])))
			return 0;
	}
	return 1;
}

static void
run_body(const struct setup *s, unsigned ct, const uint8_t *p, size_t len)
{
	static const char *const cts[] = {
		"application/x-www-form-urlencoded",
		"application/x-www-form-urlencoded; charset=utf-8",
		"multipart/form-data; boundary=XyZ",
		"multipart/form-data; boundary=\"a b:c\"",
		"Multipart/Form-Data;boundary=-",
		"text/plain",
		"multipart/form-data",
	};
	char ctype[128];
	struct buf a, b;
	size_t i;
	int ra, rb;

	if (ct < sizeof(cts) / sizeof(cts[0])) {
		snprintf(ctype, sizeof(ctype), "%s", cts[ct]);
	} else {
		/* the Content-Type from the input: up to a NUL or line end */
		for (i = 0; i < len && i < sizeof(ctype) - 1 &&
		    p[i] != '\0' && p[i] != '\r' && p[i] != '\n'; i++)
			ctype[i] = (char)p[i];
		ctype[i] = '\0';
		if (i < len)
			i++;
		p += i;
		len -= i;
	}
	buf_init(&a, SIZE_MAX - 1);
	buf_init(&b, SIZE_MAX - 1);
	ra = post(s, ctype, p, len, 0, &a);
	rb = post(s, ctype, p, len, 1, &b);
	CHECK(ra == rb);
	/*
	 * Accepted the same, with the same fields, or refused both ways.
	 * Which error comes first may depend on the chunks: the post
	 * processor hands over a value's bytes as they arrive, so one
	 * byte at a time an unknown name or an oversized value can be
	 * seen before the processor itself finds the body malformed
	 * ("x=a=b": ERR 0 whole, ERR unknown field trickled), and a
	 * chunk over a cap is refused before a NUL later in it is seen.
	 */
	/*
	 * Known libmicrohttpd 0.9.75 quirks (reported): in an urlencoded
	 * body, a raw NUL byte and a '%' without two hex digits after it
	 * decode differently with the chunking: "next=ab\0x" gives "ab"
	 * whole and "abx" trickled, "next=a%%41b" "a%Ab" and "aAb".
	 * Browsers send neither; such bodies are only run for crashes.
	 */
	if (strncasecmp(ctype, "multipart/", 10) != 0 &&
	    !urlenc_clean(p, len))
		goto out;
	CHECK((strncmp(a.data, "ERR ", 4) == 0) ==
	    (strncmp(b.data, "ERR ", 4) == 0));
	if (strncmp(a.data, "ERR ", 4) != 0)
		CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
out:
	buf_free(&a);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t totals[] = { WEB_FORM_MAX, 64, 300, 100000 };
	static const size_t files[] = { 0, 1, 3, WEB_REPLY_FILES_MAX };
	struct setup s;
	size_t i, form;

	if (size < 2 || size > 64 * 1024)
		return 0;
	form = ((data[0] >> 1) & 7) % NFORMS;
	memset(&s, 0, sizeof(s));
	s.nspec = forms[form].n;
	memcpy(s.spec, forms[form].spec, s.nspec * sizeof(s.spec[0]));
	if (data[0] & 0x10)
		for (i = 0; i < s.nspec; i++)
			s.spec[i].max = 1 + s.spec[i].max % 13;
	s.total_max = totals[(data[0] >> 5) & 3];
	s.files_max = files[data[1] & 3];

	if (data[0] & 1) {
		mhd_init();
		run_body(&s, (data[1] >> 2) & 7, data + 2, size - 2);
	} else {
		run_chunks(&s, data + 2, size - 2);
	}
	return 0;
}
