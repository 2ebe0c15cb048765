/*
 * test_smtp_cmd.c - unit tests for smtp_cmd.c (command lines, raw lines,
 * the command table).
 *
 * Every table case runs whole, trickled one byte per call, and split in
 * two at every position; each run must produce the same transcript of
 * events. A transcript line is "VERB verb_text [args]" (plus " bare-lf")
 * for a command, "LINE [text]" for smtp_line_take(), or the error name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_cmd.h"
#include "lib/buf.h"
#include "lib/sg_limits.h"

#define IN(s)	s, sizeof(s) - 1

struct cmd_case {
	const char *name;
	const char *in;
	size_t len;
	size_t line_max;	/* 0: SG_SMTP_CMD_LINE_MAX */
	size_t take_max;	/* 0: smtp_cmd_next(); else smtp_line_take() */
	const char *want;	/* transcript, one event per line */
};

static const struct cmd_case cmd_cases[] = {
	/* Commands and arguments */
	{ "ehlo", IN("EHLO client.example\r\n"), 0, 0,
	    "EHLO EHLO [client.example]\n" },
	{ "verb lower case", IN("ehlo x\r\n"), 0, 0, "EHLO ehlo [x]\n" },
	{ "verb mixed case", IN("StartTLS\r\n"), 0, 0,
	    "STARTTLS StartTLS []\n" },
	{ "no args", IN("QUIT\r\n"), 0, 0, "QUIT QUIT []\n" },
	{ "one space, empty args", IN("NOOP \r\n"), 0, 0, "NOOP NOOP []\n" },
	{ "extra spaces kept", IN("MAIL  FROM:<a@b>  \r\n"), 0, 0,
	    "MAIL MAIL [ FROM:<a@b>  ]\n" },
	{ "tab in args kept", IN("HELO a\tb\r\n"), 0, 0,
	    "HELO HELO [a\\x09b]\n" },
	{ "8-bit args passed on", IN("HELO \xc3\xa9\r\n"), 0, 0,
	    "HELO HELO [\\xc3\\xa9]\n" },
	{ "pipelined group",
	    IN("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"), 0, 0,
	    "MAIL MAIL [FROM:<a@b>]\nRCPT RCPT [TO:<c@d>]\nDATA DATA []\n" },
	{ "every verb",
	    IN("HELO h\r\nEHLO h\r\nMAIL x\r\nRCPT x\r\nDATA\r\nRSET\r\n"
	    "NOOP\r\nQUIT\r\nVRFY u\r\nEXPN l\r\nHELP\r\nSTARTTLS\r\n"
	    "AUTH PLAIN\r\nBDAT 10 LAST\r\n"), 0, 0,
	    "HELO HELO [h]\nEHLO EHLO [h]\nMAIL MAIL [x]\nRCPT RCPT [x]\n"
	    "DATA DATA []\nRSET RSET []\nNOOP NOOP []\nQUIT QUIT []\n"
	    "VRFY VRFY [u]\nEXPN EXPN [l]\nHELP HELP []\n"
	    "STARTTLS STARTTLS []\nAUTH AUTH [PLAIN]\nBDAT BDAT [10 LAST]\n" },
	{ "unknown verb", IN("XYZZY foo\r\n"), 0, 0,
	    "UNKNOWN XYZZY [foo]\n" },
	{ "verb with a suffix is unknown", IN("MAILX FROM:<>\r\n"), 0, 0,
	    "UNKNOWN MAILX [FROM:<>]\n" },
	{ "verb prefix is unknown", IN("MAI\r\n"), 0, 0, "UNKNOWN MAI []\n" },
	{ "http request is unknown", IN("GET / HTTP/1.0\r\n"), 0, 0,
	    "UNKNOWN GET [/ HTTP/1.0]\n" },

	/* Line ends */
	{ "bare LF ends the line, flagged", IN("NOOP\n"), 0, 0,
	    "NOOP NOOP [] bare-lf\n" },
	{ "bare LF then CRLF", IN("NOOP\nQUIT\r\n"), 0, 0,
	    "NOOP NOOP [] bare-lf\nQUIT QUIT []\n" },
	{ "CR inside the line", IN("HELO a\rb\r\nQUIT\r\n"), 0, 0,
	    "E_SYNTAX\nQUIT QUIT []\n" },
	{ "CR CR LF", IN("QUIT\r\r\n"), 0, 0, "E_SYNTAX\n" },
	{ "CR then bare LF later", IN("QUIT\rX\n"), 0, 0, "E_SYNTAX\n" },
	{ "incomplete line", IN("HELO a"), 0, 0, "" },
	{ "CR pending at the end", IN("QUIT\r"), 0, 0, "" },
	{ "complete then incomplete", IN("QUIT\r\nHEL"), 0, 0,
	    "QUIT QUIT []\n" },

	/* Syntax errors, and recovery after them */
	{ "empty line", IN("\r\n"), 0, 0, "E_SYNTAX\n" },
	{ "empty line, bare LF", IN("\n"), 0, 0, "E_SYNTAX\n" },
	{ "recovery after empty line", IN("\r\nHELO x\r\n"), 0, 0,
	    "E_SYNTAX\nHELO HELO [x]\n" },
	{ "leading space", IN(" HELO x\r\n"), 0, 0, "E_SYNTAX\n" },
	{ "only a space", IN(" \r\n"), 0, 0, "E_SYNTAX\n" },
	{ "tab in verb", IN("HELO\tx\r\n"), 0, 0, "E_SYNTAX\n" },
	{ "8-bit verb", IN("H\xc3\xa9LO x\r\n"), 0, 0, "E_SYNTAX\n" },
	{ "DEL in verb", IN("HE\x7fLO\r\n"), 0, 0, "E_SYNTAX\n" },
	{ "NUL in args", IN("HELO a\0b\r\nQUIT\r\n"), 0, 0,
	    "E_NUL\nQUIT QUIT []\n" },
	{ "NUL alone", IN("\0\r\n"), 0, 0, "E_NUL\n" },
	{ "NUL before a CR", IN("\0\rx\r\n"), 0, 0, "E_NUL\n" },

	/* Limits at the edge: line_max 8 counts the terminator */
	{ "8 with CRLF passes", IN("NOOP 1\r\n"), 8, 0, "NOOP NOOP [1]\n" },
	{ "9 with CRLF fails", IN("NOOP 12\r\nQUIT\r\n"), 8, 0,
	    "E_TOO_LONG\nQUIT QUIT []\n" },
	{ "8 with bare LF passes", IN("NOOP 12\n"), 8, 0,
	    "NOOP NOOP [12] bare-lf\n" },
	{ "9 with bare LF fails", IN("NOOP 123\nQUIT\r\n"), 8, 0,
	    "E_TOO_LONG\nQUIT QUIT []\n" },
	{ "very long line reported once",
	    IN("NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nQUIT\r\n"), 8, 0,
	    "E_TOO_LONG\nQUIT QUIT []\n" },
	{ "too long before its LF arrives", IN("NOOP xxxxxxxxxxxxx"), 8, 0,
	    "E_TOO_LONG\n" },
	{ "too long wins over NUL", IN("NOOP\0xxxxxxxxx\r\nQUIT\r\n"), 8, 0,
	    "E_TOO_LONG\nQUIT QUIT []\n" },
	{ "two long lines, two errors",
	    IN("NOOP xxxxxxxxx\r\nNOOP yyyyyyyyy\r\nRSET\r\n"), 8, 0,
	    "E_TOO_LONG\nE_TOO_LONG\nRSET RSET []\n" },
	{ "long line ended by bare LF", IN("NOOP xxxxxxxxx\nQUIT\r\n"), 8, 0,
	    "E_TOO_LONG\nQUIT QUIT []\n" },
	{ "skip ends at the first LF", IN("xxxxxxxx\r\r\r\nNOOP\r\n"), 8, 0,
	    "E_TOO_LONG\nNOOP NOOP []\n" },

	/* smtp_line_take(): raw lines, own limit */
	{ "take a line", IN("dGVzdA==\r\n"), 0, 64, "LINE [dGVzdA==]\n" },
	{ "take an empty line", IN("\r\n"), 0, 64, "LINE []\n" },
	{ "take a cancel", IN("*\r\n"), 0, 64, "LINE [*]\n" },
	{ "take keeps spaces", IN(" a b \r\n"), 0, 64, "LINE [ a b ]\n" },
	{ "take bare LF", IN("abc\n"), 0, 64, "LINE [abc] bare-lf\n" },
	{ "take NUL", IN("a\0b\r\nc\r\n"), 0, 64, "E_NUL\nLINE [c]\n" },
	{ "take CR inside", IN("a\rb\r\n"), 0, 64, "E_SYNTAX\n" },
	{ "take 8 with CRLF passes", IN("123456\r\n"), 0, 8,
	    "LINE [123456]\n" },
	{ "take 9 with CRLF fails", IN("1234567\r\nabc\r\n"), 0, 8,
	    "E_TOO_LONG\nLINE [abc]\n" },
	{ "take above line_max", IN("0123456789abcdef\r\n"), 8, 32,
	    "LINE [0123456789abcdef]\n" },
};

/* esc_append - bytes into the transcript, non-printables as \xNN */
static void
esc_append(struct buf *b, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			assert_int_equal(buf_append_char(b, (char)c), 0);
		else
			assert_int_equal(buf_printf(b, "\\x%02x", c), 0);
	}
}

static const char *
err_name(enum smtp_cmd_err e)
{
	switch (e) {
	case SMTP_CMD_E_NONE:
		return "E_NONE";
	case SMTP_CMD_E_TOO_LONG:
		return "E_TOO_LONG";
	case SMTP_CMD_E_NUL:
		return "E_NUL";
	case SMTP_CMD_E_SYNTAX:
		return "E_SYNTAX";
	}
	return "E_?";
}

/*
 * feed - one chunk: call the parser until it asks for more, appending
 * events to the transcript. Checks the used_out contract on the way.
 */
static void
feed(struct smtp_cmd_parser *p, size_t take_max, const char *in,
    size_t len, struct buf *tr)
{
	struct smtp_cmd cmd;
	struct slice line;
	enum smtp_cmd_err err;
	size_t off = 0, used;
	int r;

	for (;;) {
		used = (size_t)-1;
		if (take_max > 0)
			r = smtp_line_take(p, in + off, len - off, take_max,
			    &used, &line, &err);
		else
			r = smtp_cmd_next(p, in + off, len - off, &used, &cmd,
			    &err);
		if (used > len - off)
			fail_msg("used_out: got %zu, want <= %zu", used,
			    len - off);
		off += used;
		if (r == 0) {
			if (off != len)
				fail_msg("return 0 with input left: got used "
				    "%zu, want %zu", off, len);
			return;
		}
		if (used == 0)
			fail_msg("return %d consumed nothing", r);
		if (r < 0) {
			if (err == SMTP_CMD_E_NONE)
				fail_msg("return -1 without an error");
			assert_int_equal(buf_printf(tr, "%s\n", err_name(err)),
			    0);
			continue;
		}
		assert_int_equal(r, 1);
		assert_int_equal(err, SMTP_CMD_E_NONE);
		if (take_max > 0) {
			assert_int_equal(buf_append_str(tr, "LINE ["), 0);
			esc_append(tr, line.ptr, line.len);
			assert_int_equal(buf_append_str(tr, "]"), 0);
			if (smtp_cmd_line_flags(p) & SMTP_CMD_F_BARE_LF)
				assert_int_equal(buf_append_str(tr,
				    " bare-lf"), 0);
		} else {
			/* Ownership: never a pointer into the caller's input */
			if (cmd.args.ptr >= in && cmd.args.ptr < in + len)
				fail_msg("args point into the input");
			assert_int_equal(buf_printf(tr, "%s ",
			    smtp_verb_name(cmd.verb)), 0);
			esc_append(tr, cmd.verb_text.ptr, cmd.verb_text.len);
			assert_int_equal(buf_append_str(tr, " ["), 0);
			esc_append(tr, cmd.args.ptr, cmd.args.len);
			assert_int_equal(buf_append_str(tr, "]"), 0);
			if (cmd.flags & SMTP_CMD_F_BARE_LF)
				assert_int_equal(buf_append_str(tr,
				    " bare-lf"), 0);
			assert_int_equal(cmd.flags, smtp_cmd_line_flags(p));
		}
		assert_int_equal(buf_append_char(tr, '\n'), 0);
	}
}

/* run_chunks - feed in as chunks of chunk bytes (0: whole), or as two
 * pieces split at split; compare the transcript with want */
static void
run_chunks(const char *name, const char *how, const char *in, size_t len,
    size_t line_max, size_t take_max, size_t chunk, size_t split,
    const char *want)
{
	struct smtp_cmd_limits lim = { line_max ? line_max :
	    SG_SMTP_CMD_LINE_MAX };
	struct smtp_cmd_parser *p;
	struct buf tr;
	size_t off, n;

	buf_init(&tr, 1 << 20);
	p = smtp_cmd_parser_new(&lim);
	if (split != (size_t)-1) {
		feed(p, take_max, in, split, &tr);
		feed(p, take_max, in + split, len - split, &tr);
	} else if (chunk == 0) {
		feed(p, take_max, in, len, &tr);
	} else {
		for (off = 0; off < len; off += n) {
			n = len - off < chunk ? len - off : chunk;
			feed(p, take_max, in + off, n, &tr);
		}
	}
	if (strcmp(buf_cstr(&tr), want) != 0)
		fail_msg("%s (%s at %zu): got\n%swant\n%s", name, how,
		    split != (size_t)-1 ? split : chunk, buf_cstr(&tr), want);
	smtp_cmd_parser_free(&p);
	assert_null(p);
	buf_free(&tr);
}

/* check_case - whole, trickled, and split at every point */
static void
check_case(const char *name, const char *in, size_t len, size_t line_max,
    size_t take_max, const char *want)
{
	size_t k;

	run_chunks(name, "whole", in, len, line_max, take_max, 0,
	    (size_t)-1, want);
	run_chunks(name, "trickle", in, len, line_max, take_max, 1,
	    (size_t)-1, want);
	if (len > 4096)
		return;
	for (k = 0; k <= len; k++)
		run_chunks(name, "split", in, len, line_max, take_max, 0, k,
		    want);
}

static void
test_table_case(void **state)
{
	const struct cmd_case *c = *state;

	check_case(c->name, c->in, c->len, c->line_max, c->take_max, c->want);
}

/* A command of exactly n bytes with its CRLF (or bare LF) */
static char *
make_cmd(size_t n, int bare_lf, size_t *len_out)
{
	size_t term = bare_lf ? 1 : 2;
	char *s;

	assert_true(n >= 5 + term);
	s = malloc(n);
	assert_non_null(s);
	memcpy(s, "MAIL ", 5);
	memset(s + 5, 'a', n - 5 - term);
	memcpy(s + n - term, bare_lf ? "\n" : "\r\n", term);
	*len_out = n;
	return s;
}

static void
test_limit_512(void **state)
{
	char want[1024];
	char *s;
	size_t len;

	/* 512 with CRLF passes */
	s = make_cmd(512, 0, &len);
	snprintf(want, sizeof(want), "MAIL MAIL [%.*s]\n", 505, s + 5);
	check_case("512 CRLF", s, len, 0, 0, want);
	free(s);

	/* 513 with CRLF fails */
	s = make_cmd(513, 0, &len);
	check_case("513 CRLF", s, len, 0, 0, "E_TOO_LONG\n");
	free(s);

	/* the terminator counts: 512 with bare LF passes, 513 fails */
	s = make_cmd(512, 1, &len);
	snprintf(want, sizeof(want), "MAIL MAIL [%.*s] bare-lf\n", 506,
	    s + 5);
	check_case("512 bare LF", s, len, 0, 0, want);
	free(s);
	s = make_cmd(513, 1, &len);
	check_case("513 bare LF", s, len, 0, 0, "E_TOO_LONG\n");
	free(s);
}

static void
test_limit_auth_line(void **state)
{
	struct buf want;
	char *s;
	size_t n = SG_SMTP_AUTH_LINE_MAX;

	/* exactly the AUTH limit with CRLF passes, above the 512 limit */
	s = malloc(n + 1);
	assert_non_null(s);
	memset(s, 'Q', n + 1);
	memcpy(s + n - 2, "\r\n", 2);
	buf_init(&want, n + 64);
	assert_int_equal(buf_append_str(&want, "LINE ["), 0);
	assert_int_equal(buf_append(&want, s, n - 2), 0);
	assert_int_equal(buf_append_str(&want, "]\n"), 0);
	check_case("auth max", s, n, 0, n, buf_cstr(&want));
	buf_free(&want);

	/* one more fails */
	memset(s, 'Q', n + 1);
	memcpy(s + n - 1, "\r\n", 2);
	check_case("auth max + 1", s, n + 1, 0, n, "E_TOO_LONG\n");
	free(s);
}

/* The session hands the parser over between commands and AUTH lines. */
static void
test_switch_cmd_take(void **state)
{
	static const char in[] = "AUTH PLAIN\r\ndGVzdA==\r\nQUIT\r\n";
	size_t chunk, off, used, n;
	struct smtp_cmd_limits lim = { SG_SMTP_CMD_LINE_MAX };

	for (chunk = 1; chunk <= sizeof(in) - 1; chunk++) {
		struct smtp_cmd_parser *p = smtp_cmd_parser_new(&lim);
		struct smtp_cmd cmd;
		struct slice line;
		enum smtp_cmd_err err;
		int step = 0, r;

		for (off = 0; off < sizeof(in) - 1; ) {
			n = sizeof(in) - 1 - off;
			if (n > chunk)
				n = chunk;
			if (step == 1)
				r = smtp_line_take(p, in + off, n,
				    SG_SMTP_AUTH_LINE_MAX, &used, &line, &err);
			else
				r = smtp_cmd_next(p, in + off, n, &used, &cmd,
				    &err);
			off += used;
			if (r == 0)
				continue;
			assert_int_equal(r, 1);
			if (step == 0) {
				assert_int_equal(cmd.verb, SMTP_VERB_AUTH);
				assert_true(slice_eq_ci(cmd.args, "PLAIN"));
			} else if (step == 1) {
				assert_true(slice_eq_ci(line, "dGVzdA=="));
			} else {
				assert_int_equal(cmd.verb, SMTP_VERB_QUIT);
			}
			step++;
		}
		if (step != 3)
			fail_msg("chunk %zu: got %d events, want 3", chunk,
			    step);
		smtp_cmd_parser_free(&p);
	}
}

static void
test_discard(void **state)
{
	struct smtp_cmd_limits lim = { 8 };
	struct smtp_cmd_parser *p = smtp_cmd_parser_new(&lim);
	struct smtp_cmd cmd;
	enum smtp_cmd_err err;
	size_t used;

	/* a partial line is forgotten (STARTTLS injection) */
	assert_int_equal(smtp_cmd_next(p, IN("HELO a"), &used, &cmd, &err),
	    0);
	smtp_cmd_discard(p);
	assert_int_equal(smtp_cmd_next(p, IN("QUIT\r\n"), &used, &cmd, &err),
	    1);
	assert_int_equal(cmd.verb, SMTP_VERB_QUIT);
	assert_int_equal(used, 6);

	/* so is an overlong line being skipped */
	assert_int_equal(smtp_cmd_next(p, IN("NOOP xxxxxx"), &used, &cmd,
	    &err), -1);
	assert_int_equal(err, SMTP_CMD_E_TOO_LONG);
	assert_int_equal(used, 11);
	smtp_cmd_discard(p);
	assert_int_equal(smtp_cmd_next(p, IN("RSET\r\n"), &used, &cmd, &err),
	    1);
	assert_int_equal(cmd.verb, SMTP_VERB_RSET);
	smtp_cmd_parser_free(&p);
	smtp_cmd_parser_free(&p);	/* safe twice */
}

/* used_out stops after one line: the rest may be DATA or TLS bytes */
static void
test_used_one_line(void **state)
{
	struct smtp_cmd_parser *p = smtp_cmd_parser_new(NULL);
	struct smtp_cmd cmd;
	enum smtp_cmd_err err;
	size_t used = 99;

	assert_int_equal(smtp_cmd_next(p, IN("DATA\r\nSubject: x\r\n"), &used,
	    &cmd, &err), 1);
	assert_int_equal(used, 6);
	assert_int_equal(cmd.verb, SMTP_VERB_DATA);
	assert_int_equal(smtp_cmd_next(p, "", 0, &used, &cmd, &err), 0);
	assert_int_equal(used, 0);
	smtp_cmd_parser_free(&p);
}

static void
test_verb_table(void **state)
{
	static const struct {
		enum smtp_verb v;
		const char *name;
		unsigned flags;
	} want[] = {
		{ SMTP_VERB_UNKNOWN, "UNKNOWN", SMTP_CMDF_JUNK },
		{ SMTP_VERB_HELO, "HELO", SMTP_CMDF_PRE_TLS | SMTP_CMDF_LAST },
		{ SMTP_VERB_EHLO, "EHLO", SMTP_CMDF_PRE_TLS | SMTP_CMDF_LAST },
		{ SMTP_VERB_MAIL, "MAIL", 0 },
		{ SMTP_VERB_RCPT, "RCPT", 0 },
		{ SMTP_VERB_DATA, "DATA", SMTP_CMDF_LAST },
		{ SMTP_VERB_RSET, "RSET", SMTP_CMDF_PRE_TLS },
		{ SMTP_VERB_NOOP, "NOOP", SMTP_CMDF_PRE_TLS | SMTP_CMDF_LAST },
		{ SMTP_VERB_QUIT, "QUIT", SMTP_CMDF_PRE_TLS | SMTP_CMDF_LAST },
		{ SMTP_VERB_VRFY, "VRFY", SMTP_CMDF_LAST },
		{ SMTP_VERB_EXPN, "EXPN", SMTP_CMDF_LAST },
		{ SMTP_VERB_HELP, "HELP", SMTP_CMDF_PRE_TLS },
		{ SMTP_VERB_STARTTLS, "STARTTLS",
		    SMTP_CMDF_PRE_TLS | SMTP_CMDF_LAST },
		{ SMTP_VERB_AUTH, "AUTH", SMTP_CMDF_LAST },
		{ SMTP_VERB_BDAT, "BDAT", 0 },
	};
	size_t i;

	assert_int_equal(sizeof(want) / sizeof(want[0]), SMTP_VERB__COUNT);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strcmp(smtp_verb_name(want[i].v), want[i].name) != 0)
			fail_msg("name of %d: got %s, want %s", want[i].v,
			    smtp_verb_name(want[i].v), want[i].name);
		if (smtp_verb_flags(want[i].v) != want[i].flags)
			fail_msg("flags of %s: got %#x, want %#x",
			    want[i].name, smtp_verb_flags(want[i].v),
			    want[i].flags);
	}
	assert_string_equal(smtp_verb_name(SMTP_VERB__COUNT), "UNKNOWN");
	assert_string_equal(smtp_verb_name((enum smtp_verb)-1), "UNKNOWN");
	assert_int_equal(smtp_verb_flags(SMTP_VERB__COUNT), SMTP_CMDF_JUNK);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_limit_512),
		cmocka_unit_test(test_limit_auth_line),
		cmocka_unit_test(test_switch_cmd_take),
		cmocka_unit_test(test_discard),
		cmocka_unit_test(test_used_one_line),
		cmocka_unit_test(test_verb_table),
	};
	size_t ncase = sizeof(cmd_cases) / sizeof(cmd_cases[0]);
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *t;
	size_t i;
	int r;

	t = calloc(ncase + nfixed, sizeof(*t));
	if (t == NULL)
		return 1;
	for (i = 0; i < ncase; i++) {
		t[i].name = cmd_cases[i].name;
		t[i].test_func = test_table_case;
		t[i].initial_state = (void *)&cmd_cases[i];
	}
	memcpy(t + ncase, fixed, sizeof(fixed));
	r = _cmocka_run_group_tests("smtp_cmd", t, ncase + nfixed, NULL, NULL);
	free(t);
	return r;
}
