/*
 * test_smtp_reply.c - unit tests for smtp_reply.c (the delivery client's
 * reply parser).
 *
 * Every table case runs whole, trickled one byte per call, and split in
 * two at every position; each run must give the same transcript. A
 * transcript line is "R code enhanced nlines [text]" for a reply (enhanced
 * "-" when absent, "\n" in the text as "|"), or the error name; after an
 * error the parser is not fed again (the connection is dead).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_reply.h"
#include "lib/buf.h"
#include "lib/sg_limits.h"

#define IN(s)	s, sizeof(s) - 1

struct reply_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
};

static const struct reply_case cases[] = {
	/* single and multi-line replies */
	{ "greeting", IN("220 mx.example ESMTP\r\n"),
	    "R 220 - 1 [mx.example ESMTP]\n" },
	{ "code only", IN("250\r\n"), "R 250 - 1 []\n" },
	{ "code and space", IN("250 \r\n"), "R 250 - 1 []\n" },
	{ "bare LF ends a line", IN("250 ok\n"), "R 250 - 1 [ok]\n" },
	{ "ehlo multi-line",
	    IN("250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
	    "250 STARTTLS\r\n"),
	    "R 250 - 4 [mx.example|PIPELINING|SIZE 1000|STARTTLS]\n" },
	{ "continuation with no text", IN("250-\r\n250 end\r\n"),
	    "R 250 - 2 [|end]\n" },
	{ "two replies in one read", IN("250 a\r\n354 go\r\n"),
	    "R 250 - 1 [a]\nR 354 - 1 [go]\n" },
	{ "pipelined group replies",
	    IN("250 2.1.0 Ok\r\n550 5.1.1 no\r\n250 2.1.5 Ok\r\n354 go\r\n"),
	    "R 250 2.1.0 1 [2.1.0 Ok]\nR 550 5.1.1 1 [5.1.1 no]\n"
	    "R 250 2.1.5 1 [2.1.5 Ok]\nR 354 - 1 [go]\n" },
	{ "incomplete reply", IN("250-a\r\n250"), "" },
	{ "incomplete line", IN("220 hel"), "" },
	{ "CR inside a line is text", IN("250 a\rb\r\n"),
	    "R 250 - 1 [a\rb]\n" },
	{ "8-bit text kept", IN("250 caf\xc3\xa9\r\n"),
	    "R 250 - 1 [caf\xc3\xa9]\n" },

	/* enhanced status codes (RFC 3463) */
	{ "enhanced", IN("550 5.1.1 unknown user\r\n"),
	    "R 550 5.1.1 1 [5.1.1 unknown user]\n" },
	{ "enhanced alone", IN("250 2.0.0\r\n"), "R 250 2.0.0 1 [2.0.0]\n" },
	{ "enhanced 3-digit parts", IN("451 4.123.456 x\r\n"),
	    "R 451 4.123.456 1 [4.123.456 x]\n" },
	{ "enhanced class differs from code", IN("250 5.1.1 odd\r\n"),
	    "R 250 - 1 [5.1.1 odd]\n" },
	{ "enhanced two parts", IN("250 2.0 x\r\n"), "R 250 - 1 [2.0 x]\n" },
	{ "enhanced 2-digit class", IN("250 22.0.0 x\r\n"),
	    "R 250 - 1 [22.0.0 x]\n" },
	{ "enhanced 4-digit part", IN("451 4.7.1234 x\r\n"),
	    "R 451 - 1 [4.7.1234 x]\n" },
	{ "enhanced glued to text", IN("250 2.1.5x\r\n"),
	    "R 250 - 1 [2.1.5x]\n" },
	{ "enhanced class 3 does not exist", IN("354 3.0.0 go\r\n"),
	    "R 354 - 1 [3.0.0 go]\n" },
	{ "enhanced from the first line only",
	    IN("250-2.0.0 a\r\n250 2.0.1 b\r\n"),
	    "R 250 2.0.0 2 [2.0.0 a|2.0.1 b]\n" },

	/* errors */
	{ "letter in code", IN("25O ok\r\n"), "E_SYNTAX\n" },
	{ "no code", IN("hello\r\n"), "E_SYNTAX\n" },
	{ "four digits", IN("2500 x\r\n"), "E_SYNTAX\n" },
	{ "two digits", IN("25\r\n"), "E_SYNTAX\n" },
	{ "empty line", IN("\r\n"), "E_SYNTAX\n" },
	{ "1xx", IN("150 x\r\n"), "E_SYNTAX\n" },
	{ "6xx", IN("600 x\r\n"), "E_SYNTAX\n" },
	{ "tab separator", IN("250\tx\r\n"), "E_SYNTAX\n" },
	{ "NUL in text", IN("250 a\0b\r\n"), "E_SYNTAX\n" },
	{ "NUL in code", IN("2\0" "0 x\r\n"), "E_SYNTAX\n" },
	{ "NUL before CRLF", IN("250 ab\0\r\n"), "E_SYNTAX\n" },
	{ "code changes mid-reply", IN("250-first\r\n251 second\r\n"),
	    "E_CODE_CHANGED\n" },
	{ "class changes mid-reply", IN("250-a\r\n550 b\r\n"),
	    "E_CODE_CHANGED\n" },
	{ "syntax error mid-reply", IN("250-a\r\nxyz\r\n"), "E_SYNTAX\n" },
	{ "good reply then junk", IN("250 ok\r\njunk\r\n"),
	    "R 250 - 1 [ok]\nE_SYNTAX\n" },
};

static void
tr_reply(struct buf *tr, const struct smtp_reply *r)
{
	size_t i;

	assert_int_equal(buf_printf(tr, "R %d %s %zu [", r->code,
	    r->enhanced[0] ? r->enhanced : "-", r->nlines), 0);
	for (i = 0; i < r->text.len; i++)
		assert_int_equal(buf_append_char(tr, r->text.data[i] == '\n' ?
		    '|' : r->text.data[i]), 0);
	assert_int_equal(buf_append_str(tr, "]\n"), 0);
}

static const char *
err_name(enum smtp_reply_err e)
{
	switch (e) {
	case SMTP_REPLY_E_NONE:
		return "E_NONE";
	case SMTP_REPLY_E_SYNTAX:
		return "E_SYNTAX";
	case SMTP_REPLY_E_TOO_LONG:
		return "E_TOO_LONG";
	case SMTP_REPLY_E_TOO_MANY:
		return "E_TOO_MANY";
	case SMTP_REPLY_E_CODE_CHANGED:
		return "E_CODE_CHANGED";
	}
	return "E_?";
}

/* feed - one chunk; returns -1 once the parser reported an error */
static int
feed(struct smtp_reply_parser *p, const char *in, size_t len, struct buf *tr)
{
	const struct smtp_reply *r;
	enum smtp_reply_err e;
	size_t off = 0, used;
	int rc;

	for (;;) {
		used = (size_t)-1;
		rc = smtp_reply_next(p, in + off, len - off, &used, &r, &e);
		assert_true(used <= len - off);
		off += used;
		if (rc == 0) {
			assert_int_equal(off, len);
			assert_int_equal(e, SMTP_REPLY_E_NONE);
			return 0;
		}
		if (rc < 0) {
			assert_int_not_equal(e, SMTP_REPLY_E_NONE);
			assert_int_equal(buf_printf(tr, "%s\n", err_name(e)), 0);
			return -1;
		}
		assert_int_equal(rc, 1);
		assert_int_equal(e, SMTP_REPLY_E_NONE);
		assert_true(r->code >= 200 && r->code <= 599);
		assert_true(r->nlines >= 1 && r->nlines <= SMTP_REPLY_LINES_MAX);
		assert_true(r->text.len <= SMTP_REPLY_TEXT_MAX);
		tr_reply(tr, r);
		if (off == len)
			return 0;
	}
}

/* run - in[0..len) in pieces of chunk bytes (0: split once at split) */
static void
run(const char *in, size_t len, size_t split, size_t chunk, struct buf *tr)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	size_t off, n;

	if (chunk == 0) {
		if (feed(p, in, split, tr) == 0)
			(void)feed(p, in + split, len - split, tr);
	} else {
		for (off = 0; off < len; off += n) {
			n = len - off < chunk ? len - off : chunk;
			if (feed(p, in + off, n, tr) < 0)
				break;
		}
	}
	smtp_reply_parser_free(&p);
	assert_null(p);
}

static void
check_all_ways(const char *name, const char *in, size_t len, const char *want,
    size_t want_len)
{
	struct buf tr;
	size_t k;

	buf_init(&tr, 1 << 22);
	run(in, len, len, 0, &tr);
	if (tr.len != want_len || memcmp(buf_cstr(&tr), want, want_len) != 0)
		fail_msg("%s whole: got\n%s\nwant\n%.*s", name, buf_cstr(&tr),
		    (int)want_len, want);
	buf_reset(&tr);
	run(in, len, 0, 1, &tr);
	if (tr.len != want_len || memcmp(buf_cstr(&tr), want, want_len) != 0)
		fail_msg("%s trickled: got\n%s\nwant\n%.*s", name,
		    buf_cstr(&tr), (int)want_len, want);
	for (k = 0; k <= len && len < 4096; k++) {
		buf_reset(&tr);
		run(in, len, k, 0, &tr);
		if (tr.len != want_len ||
		    memcmp(buf_cstr(&tr), want, want_len) != 0)
			fail_msg("%s split at %zu: got\n%s\nwant\n%.*s", name, k,
			    buf_cstr(&tr), (int)want_len, want);
	}
	buf_free(&tr);
}

static void
test_table_case(void **state)
{
	const struct reply_case *c = *state;

	check_all_ways(c->name, c->in, c->len, c->want, strlen(c->want));
}

/* line_of - "250 xxx...\r\n" of exactly total bytes including CRLF */
static void
line_of(struct buf *b, const char *prefix, size_t total)
{
	size_t n = strlen(prefix);

	assert_int_equal(buf_append_str(b, prefix), 0);
	while (n < total - 2) {
		assert_int_equal(buf_append_char(b, 'x'), 0);
		n++;
	}
	assert_int_equal(buf_append(b, "\r\n", 2), 0);
}

static void
test_line_limit(void **state)
{
	struct buf in, want;

	/* exactly SG_SMTP_REPLY_LINE_MAX including CRLF: accepted */
	buf_init(&in, 1 << 16);
	buf_init(&want, 1 << 16);
	line_of(&in, "250 ", SG_SMTP_REPLY_LINE_MAX);
	assert_int_equal(buf_printf(&want, "R 250 - 1 [%.*s]\n",
	    SG_SMTP_REPLY_LINE_MAX - 6, in.data + 4), 0);
	check_all_ways("512", in.data, in.len, want.data, want.len);
	/* one more: too long */
	buf_reset(&in);
	line_of(&in, "250 ", SG_SMTP_REPLY_LINE_MAX + 1);
	check_all_ways("513", in.data, in.len, "E_TOO_LONG\n", 11);
	/* too long without any line end at all */
	buf_reset(&in);
	line_of(&in, "250-", 5000);
	check_all_ways("5000 no LF", in.data, in.len - 2, "E_TOO_LONG\n",
	    11);
	/* a long continuation line */
	buf_reset(&in);
	assert_int_equal(buf_append_str(&in, "250-ok\r\n"), 0);
	line_of(&in, "250 ", 600);
	check_all_ways("long continuation", in.data, in.len, "E_TOO_LONG\n",
	    11);
	buf_free(&in);
	buf_free(&want);
}

static void
test_line_count(void **state)
{
	struct buf in, want;
	int i;

	buf_init(&in, 1 << 20);
	buf_init(&want, 1 << 20);
	for (i = 1; i < SMTP_REPLY_LINES_MAX; i++)
		assert_int_equal(buf_printf(&in, "250-l%d\r\n", i), 0);
	assert_int_equal(buf_append_str(&in, "250 end\r\n"), 0);
	assert_int_equal(buf_printf(&want, "R 250 - %d [",
	    SMTP_REPLY_LINES_MAX), 0);
	for (i = 1; i < SMTP_REPLY_LINES_MAX; i++)
		assert_int_equal(buf_printf(&want, "l%d|", i), 0);
	assert_int_equal(buf_append_str(&want, "end]\n"), 0);
	check_all_ways("100 lines", in.data, in.len, want.data, want.len);

	buf_reset(&in);
	for (i = 0; i < SMTP_REPLY_LINES_MAX; i++)
		assert_int_equal(buf_printf(&in, "250-l%d\r\n", i), 0);
	assert_int_equal(buf_append_str(&in, "250 end\r\n"), 0);
	check_all_ways("101 lines", in.data, in.len, "E_TOO_MANY\n", 11);
	buf_free(&in);
	buf_free(&want);
}

/* past SMTP_REPLY_TEXT_MAX whole lines are dropped, and every one after */
static void
test_text_cap(void **state)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	const struct smtp_reply *r;
	enum smtp_reply_err e;
	struct buf in;
	size_t used, i;
	int rc;

	buf_init(&in, 1 << 20);
	/* 20 lines of 4 + 300 text: 6000+ bytes of text */
	for (i = 0; i < 20; i++) {
		assert_int_equal(buf_printf(&in, "250-%02zu", i), 0);
		line_of(&in, "", 300);
	}
	assert_int_equal(buf_append_str(&in, "250 STARTTLS\r\n"), 0);
	rc = smtp_reply_next(p, in.data, in.len, &used, &r, &e);
	assert_int_equal(rc, 1);
	assert_int_equal(used, in.len);
	assert_int_equal(r->nlines, 21);
	assert_true(r->text.len <= SMTP_REPLY_TEXT_MAX);
	assert_true(r->text.len > SMTP_REPLY_TEXT_MAX - 310);
	/* a prefix: whole lines, the last kept line complete */
	assert_int_equal(r->text.data[r->text.len - 1], 'x');
	assert_int_equal(r->text.data[r->text.len], '\0');
	assert_int_equal(r->text.len % 301, 300);
	/* the keyword after the cut is not seen, nor a line in pieces */
	assert_false(smtp_reply_has_ext(r, "STARTTLS", NULL));
	/* the next reply starts fresh */
	rc = smtp_reply_next(p, IN("250-a\r\n250 STARTTLS\r\n"), &used, &r, &e);
	assert_int_equal(rc, 1);
	assert_string_equal(buf_cstr(&r->text), "a\nSTARTTLS");
	assert_true(smtp_reply_has_ext(r, "STARTTLS", NULL));
	smtp_reply_parser_free(&p);
	buf_free(&in);
}

static void
test_discard(void **state)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	const struct smtp_reply *r;
	enum smtp_reply_err e;
	size_t used;

	/* "220 Ready" then injected bytes in the same read: the parser
	 * stops after the reply; the rest is the caller's to see */
	assert_int_equal(smtp_reply_next(p,
	    IN("220 2.0.0 Ready\r\n250 injected\r\n"), &used, &r, &e), 1);
	assert_int_equal(used, 17);
	assert_int_equal(smtp_reply_discard(p), 0);
	/* a partial line is held, and dropped by discard */
	assert_int_equal(smtp_reply_next(p, IN("250-inj"), &used, &r, &e), 0);
	assert_int_equal(used, 7);
	assert_int_equal(smtp_reply_discard(p), 7);
	assert_int_equal(smtp_reply_discard(p), 0);
	/* inside a multi-line reply: the next line starts a new reply */
	assert_int_equal(smtp_reply_next(p, IN("250-a\r\n"), &used, &r, &e),
	    0);
	(void)smtp_reply_discard(p);
	assert_int_equal(smtp_reply_next(p, IN("220 b\r\n"), &used, &r, &e),
	    1);
	assert_int_equal(r->code, 220);
	assert_int_equal(r->nlines, 1);
	assert_string_equal(buf_cstr(&r->text), "b");
	smtp_reply_parser_free(&p);
	smtp_reply_parser_free(&p);	/* twice: a no-op */
}

static void
test_ext(void **state)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	const struct smtp_reply *r;
	enum smtp_reply_err e;
	const char *param;
	struct slice s;
	size_t used;

	assert_int_equal(smtp_reply_next(p,
	    IN("250-mx.example PIPELINING says hello\r\n"
	    "250-size 10240000\r\n250-AUTH=LOGIN PLAIN\r\n"
	    "250-STARTTLSX\r\n250-8BITMIME\r\n250 REQUIRETLS\r\n"),
	    &used, &r, &e), 1);
	/* the first line is the server's name, never a keyword */
	assert_false(smtp_reply_has_ext(r, "mx.example", NULL));
	assert_false(smtp_reply_has_ext(r, "PIPELINING", NULL));
	/* case-insensitive, with parameters */
	assert_true(smtp_reply_has_ext(r, "SIZE", &param));
	assert_int_equal(strncmp(param, "10240000\n", 9), 0);
	assert_true(smtp_reply_ext(r, "Size", &s));
	assert_int_equal(s.len, 8);
	assert_memory_equal(s.ptr, "10240000", 8);
	/* old "AUTH=" form */
	assert_true(smtp_reply_ext(r, "AUTH", &s));
	assert_int_equal(s.len, 11);
	assert_memory_equal(s.ptr, "LOGIN PLAIN", 11);
	/* a keyword is the whole word */
	assert_false(smtp_reply_has_ext(r, "STARTTLS", NULL));
	assert_false(smtp_reply_has_ext(r, "8BIT", NULL));
	assert_false(smtp_reply_has_ext(r, "", NULL));
	assert_true(smtp_reply_has_ext(r, "8BITMIME", &param));
	assert_string_equal(param, "");
	assert_true(smtp_reply_ext(r, "REQUIRETLS", &s));
	assert_int_equal(s.len, 0);
	assert_true(smtp_reply_has_ext(r, "requiretls", NULL));

	/* a single-line EHLO reply has no extensions */
	assert_int_equal(smtp_reply_next(p, IN("250 STARTTLS\r\n"), &used, &r,
	    &e), 1);
	assert_false(smtp_reply_has_ext(r, "STARTTLS", NULL));
	smtp_reply_parser_free(&p);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_line_count),
		cmocka_unit_test(test_text_cap),
		cmocka_unit_test(test_discard),
		cmocka_unit_test(test_ext),
	};
	size_t ncase = sizeof(cases) / sizeof(cases[0]);
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *t;
	size_t i;
	int r;

	t = calloc(ncase + nfixed, sizeof(*t));
	if (t == NULL)
		return 1;
	for (i = 0; i < ncase; i++) {
		t[i].name = cases[i].name;
		t[i].test_func = test_table_case;
		t[i].initial_state = (void *)&cases[i];
	}
	memcpy(t + ncase, fixed, sizeof(fixed));
	r = _cmocka_run_group_tests("smtp_reply", t, ncase + nfixed, NULL,
	    NULL);
	free(t);
	return r;
}
