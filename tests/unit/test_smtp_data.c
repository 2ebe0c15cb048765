/*
 * test_smtp_data.c - unit tests for smtp_data.c (end of data, dot
 * unstuffing, bare LF/CR, line and size limits, 8-bit headers).
 *
 * Every table case runs whole, trickled one byte per call, and split in
 * two at every position (so the end of data falls across two feeds at
 * every offset); each run must give the same return, consumed count,
 * flags and output. The output is compared only while the message is not
 * refused: after a stopping flag it is an unspecified prefix.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_data.h"
#include "lib/buf.h"
#include "lib/sg_limits.h"

#define D(s)	.in = s, .len = sizeof(s) - 1
#define N	.mode = SMTP_DATA_BARE_NORMALIZE

#define E_LF	SMTP_DATA_E_BARE_LF
#define E_CR	SMTP_DATA_E_BARE_CR
#define E_LONG	SMTP_DATA_E_LINE_TOO_LONG
#define E_BIG	SMTP_DATA_E_TOO_BIG
#define E_NUL	SMTP_DATA_E_NUL
#define E_8BIT	SMTP_DATA_E_8BIT_HDR
#define STOPS	(~(unsigned)SMTP_DATA_E_8BIT_HDR)

#define DEFAULT_SIZE_MAX	(1u << 20)

struct data_case {
	const char *name;
	const char *in;
	size_t len;
	enum smtp_data_mode mode;	/* default: reject */
	size_t line_max;		/* 0: SG_SMTP_TEXT_LINE_MAX */
	size_t size_max;		/* 0: DEFAULT_SIZE_MAX */
	int ret;			/* 1: end of data seen */
	size_t rest;			/* input left after the end */
	unsigned errors;		/* smtp_data_errors() */
	unsigned bare;			/* smtp_data_bare_seen() */
	const char *out;		/* NULL when refused (not compared) */
};

static const struct data_case data_cases[] = {
	/* End of data */
	{ "simple message", D("Subject: x\r\n\r\nbody\r\n.\r\n"), .ret = 1,
	    .out = "Subject: x\r\n\r\nbody\r\n" },
	{ "empty message", D(".\r\n"), .ret = 1, .out = "" },
	{ "one empty line", D("\r\n.\r\n"), .ret = 1, .out = "\r\n" },
	{ "commands after the end stay", D("a\r\n.\r\nQUIT\r\n"), .ret = 1,
	    .rest = 6, .out = "a\r\n" },
	{ "pipelined transaction after the end",
	    D("a\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n.\r\n"),
	    .ret = 1, .rest = 35, .out = "a\r\n" },
	{ "no end yet", D("a\r\nb\r\n"), .out = "a\r\nb\r\n" },
	{ "no end, partial line", D("a\r\nb"), .out = "a\r\nb" },
	{ "end pending after dot CR", D("a\r\n.\r"), .out = "a\r\n" },
	{ "end pending after dot", D("a\r\n."), .out = "a\r\n" },
	{ "CR pending", D("a\r"), .out = "a\r" },
	{ "space dot is text", D(" .\r\n.\r\n"), .ret = 1, .out = " .\r\n" },
	{ "dot mid-line is text", D("a.\r\n.\r\n"), .ret = 1, .out = "a.\r\n" },

	/* Dot-unstuffing (RFC 5321 4.5.2) */
	{ "stuffed lone dot", D("..\r\n.\r\n"), .ret = 1, .out = ".\r\n" },
	{ "stuffed dot text", D("..x\r\n.\r\n"), .ret = 1, .out = ".x\r\n" },
	{ "stuffed two dots", D("...\r\n.\r\n"), .ret = 1, .out = "..\r\n" },
	{ "unstuffed leading dot removed", D(".x\r\n.\r\n"), .ret = 1,
	    .out = "x\r\n" },
	{ "stuffing after a line", D("a\r\n..\r\nb\r\n.\r\n"), .ret = 1,
	    .out = "a\r\n.\r\nb\r\n" },
	{ "dot dot CR pending", D("a\r\n..\r"), .out = "a\r\n.\r" },

	/* Smuggling, reject mode: only CRLF.CRLF ends data */
	{ "LF dot LF", D("a\n.\nMAIL FROM:<x@y>\r\n"), .errors = E_LF,
	    .bare = E_LF },
	{ "CRLF dot LF", D("a\r\n.\nMAIL FROM:<x@y>\r\n"), .errors = E_LF,
	    .bare = E_LF },
	{ "LF dot CRLF", D("a\n.\r\nMAIL FROM:<x@y>\r\n"), .errors = E_LF,
	    .bare = E_LF },
	{ "CR dot CR", D("a\r.\rMAIL FROM:<x@y>\r\n"), .errors = E_CR,
	    .bare = E_CR },
	{ "CRLF dot CR", D("a\r\n.\rMAIL FROM:<x@y>\r\n"), .errors = E_CR,
	    .bare = E_CR },
	{ "CR dot CRLF", D("a\r.\r\nMAIL FROM:<x@y>\r\n"), .errors = E_CR,
	    .bare = E_CR },
	{ "LF LF dot CRLF", D("a\r\n\n.\r\nX\r\n"), .errors = E_LF,
	    .bare = E_LF },
	{ "dot LF at the start", D(".\nMAIL FROM:<x@y>\r\n"), .errors = E_LF,
	    .bare = E_LF },
	{ "dot CR at the start", D(".\rMAIL FROM:<x@y>\r\n"), .errors = E_CR,
	    .bare = E_CR },
	{ "LF dot LF at the start", D("\n.\n"), .errors = E_LF, .bare = E_LF },
	{ "CRLF dot LF dot CRLF", D("a\r\n.\n.\r\nX\r\n"), .errors = E_LF,
	    .bare = E_LF },
	{ "CRLF dot CR dot CRLF", D("a\r\n.\r.\r\nX\r\n"), .errors = E_CR,
	    .bare = E_CR },
	{ "dot LF dot CRLF at the start", D(".\n.\r\n"), .errors = E_LF,
	    .bare = E_LF },
	{ "smuggled, then the real end",
	    D("a\r\n.\nMAIL FROM:<x@y>\r\n.\r\nQUIT\r\n"), .ret = 1,
	    .rest = 6, .errors = E_LF, .bare = E_LF },
	{ "dot CR CR LF, then the real end", D("a\r\n.\r\r\n.\r\nQ"),
	    .ret = 1, .rest = 1, .errors = E_CR, .bare = E_CR },
	{ "bare LF, then CRLF dot CRLF", D("a\n\r\n.\r\n"), .ret = 1,
	    .errors = E_LF, .bare = E_LF },
	{ "bare CR before a real CRLF end", D("a\r\r\n.\r\n"), .ret = 1,
	    .errors = E_CR, .bare = E_CR },
	{ "bare LF in the body only", D("a\r\n\r\nb\nc\r\n.\r\n"), .ret = 1,
	    .errors = E_LF, .bare = E_LF },

	/* Smuggling, normalize mode: bare ends become CRLF, no end */
	{ "norm LF", D("a\nb\r\n.\r\n"), N, .ret = 1, .bare = E_LF,
	    .out = "a\r\nb\r\n" },
	{ "norm CR", D("a\rb\r\n.\r\n"), N, .ret = 1, .bare = E_CR,
	    .out = "a\r\nb\r\n" },
	{ "norm CRLF dot LF keeps the dot",
	    D("a\r\n.\nMAIL FROM:<x@y>\r\n.\r\n"), N, .ret = 1, .bare = E_LF,
	    .out = "a\r\n.\r\nMAIL FROM:<x@y>\r\n" },
	{ "norm CRLF dot CR keeps the dot", D("a\r\n.\rb\r\n.\r\n"), N,
	    .ret = 1, .bare = E_CR, .out = "a\r\n.\r\nb\r\n" },
	{ "norm LF dot LF", D("a\n.\nb\r\n.\r\n"), N, .ret = 1, .bare = E_LF,
	    .out = "a\r\n.\r\nb\r\n" },
	{ "norm LF dot CRLF is content", D("a\n.\r\nb\r\n.\r\n"), N,
	    .ret = 1, .bare = E_LF, .out = "a\r\n.\r\nb\r\n" },
	{ "norm CR dot CRLF is content", D("a\r.\r\n.\r\n"), N, .ret = 1,
	    .bare = E_CR, .out = "a\r\n.\r\n" },
	{ "norm no unstuffing after bare LF", D("a\n..b\r\n.\r\n"), N,
	    .ret = 1, .bare = E_LF, .out = "a\r\n..b\r\n" },
	{ "norm stuffed dot then bare LF", D("..\nx\r\n.\r\n"), N, .ret = 1,
	    .bare = E_LF, .out = ".\r\nx\r\n" },
	{ "norm dot LF at the start", D(".\n"), N, .bare = E_LF,
	    .out = ".\r\n" },
	{ "norm CRLF dot LF dot CRLF", D("a\r\n.\n.\r\nX\r\n.\r\n"), N,
	    .ret = 1, .bare = E_LF, .out = "a\r\n.\r\n.\r\nX\r\n" },
	{ "norm CRLF dot CR dot CRLF", D("a\r\n.\r.\r\nX\r\n.\r\n"), N,
	    .ret = 1, .bare = E_CR, .out = "a\r\n.\r\n.\r\nX\r\n" },
	{ "norm dot CR CR LF", D("a\r\n.\r\r\n.\r\n"), N, .ret = 1,
	    .bare = E_CR, .out = "a\r\n.\r\n\r\n" },
	{ "norm CR CR LF", D("a\r\r\n.\r\n"), N, .ret = 1, .bare = E_CR,
	    .out = "a\r\n\r\n" },
	{ "norm LF LF", D("\n\n.\r\n"), N, .bare = E_LF,
	    .out = "\r\n\r\n.\r\n" },
	{ "norm CR pending", D("a\r"), N, .out = "a\r" },
	{ "norm both kinds", D("a\rb\nc\r\n.\r\n"), N, .ret = 1,
	    .bare = E_CR | E_LF, .out = "a\r\nb\r\nc\r\n" },

	/* NUL */
	{ "NUL", D("a\0b\r\n.\r\nQ"), .ret = 1, .rest = 1, .errors = E_NUL },
	{ "NUL after stuffing dot", D(".\0\r\n.\r\n"), .ret = 1,
	    .errors = E_NUL },
	{ "NUL in normalize mode too", D("\0\r\n.\r\n"), N, .ret = 1,
	    .errors = E_NUL },
	{ "NUL and bare LF", D("a\0\n.\r\n"), .errors = E_NUL | E_LF,
	    .bare = E_LF },

	/* Line length: line_max 5 leaves 3 octets of content */
	{ "line at the limit", D("abc\r\n.\r\n"), .line_max = 5, .ret = 1,
	    .out = "abc\r\n" },
	{ "line over the limit", D("abcd\r\n.\r\n"), .line_max = 5, .ret = 1,
	    .errors = E_LONG },
	{ "stuffing dot not counted", D("..ab\r\n.\r\n"), .line_max = 5,
	    .ret = 1, .out = ".ab\r\n" },
	{ "stuffed line over the limit", D("..abc\r\n.\r\n"), .line_max = 5,
	    .ret = 1, .errors = E_LONG },
	{ "long line, end still found", D("abcdefghij\r\n.\r\nQ"),
	    .line_max = 5, .ret = 1, .rest = 1, .errors = E_LONG },
	{ "long unterminated line", D("abcdefghij"), .line_max = 5,
	    .errors = E_LONG },
	{ "norm bare LF line at the limit", D("abc\n.\r\n"), N, .line_max = 5,
	    .bare = E_LF, .out = "abc\r\n.\r\n" },
	{ "norm bare LF line over the limit", D("abcd\n"), N, .line_max = 5,
	    .bare = E_LF, .errors = E_LONG },
	{ "each line counted alone", D("abc\r\nabc\r\nabc\r\n.\r\n"),
	    .line_max = 5, .ret = 1, .out = "abc\r\nabc\r\nabc\r\n" },

	/* Size: counted in output octets */
	{ "size at the limit", D("12345678\r\n.\r\n"), .size_max = 10,
	    .ret = 1, .out = "12345678\r\n" },
	{ "size over the limit", D("123456789\r\n.\r\nQ"), .size_max = 10,
	    .ret = 1, .rest = 1, .errors = E_BIG },
	{ "size after unstuffing", D("..2345678\r\n.\r\n"), .size_max = 10,
	    .ret = 1, .out = ".2345678\r\n" },
	{ "norm size counts the added CR", D("123456789\n.\r\n"), N,
	    .size_max = 10, .bare = E_LF, .errors = E_BIG },
	{ "size_max 1", D("a\r\n.\r\n"), .size_max = 1, .ret = 1,
	    .errors = E_BIG },

	/* 8-bit octets in the header section */
	{ "8-bit header", D("Subject: \xc3\xa9\r\n\r\nbody\r\n.\r\n"), .ret = 1,
	    .errors = E_8BIT, .out = "Subject: \xc3\xa9\r\n\r\nbody\r\n" },
	{ "8-bit body", D("Subject: x\r\n\r\n\xc3\xa9\r\n.\r\n"), .ret = 1,
	    .out = "Subject: x\r\n\r\n\xc3\xa9\r\n" },
	{ "8-bit after an empty first line", D("\r\n\xc3\xa9\r\n.\r\n"),
	    .ret = 1, .out = "\r\n\xc3\xa9\r\n" },
	{ "8-bit after stuffing dot", D("..\xc3\xa9\r\n\r\n.\r\n"), .ret = 1,
	    .errors = E_8BIT, .out = ".\xc3\xa9\r\n\r\n" },
	{ "8-bit with no body", D("\xff\r\n.\r\n"), .ret = 1,
	    .errors = E_8BIT, .out = "\xff\r\n" },
	{ "norm bare LF empty line ends headers",
	    D("S: x\n\n\xc3\xa9\r\n.\r\n"), N, .ret = 1, .bare = E_LF,
	    .out = "S: x\r\n\r\n\xc3\xa9\r\n" },
	{ "8-bit header and too big", D("\x80\x80\x80\r\n.\r\n"),
	    .size_max = 3, .ret = 1, .errors = E_8BIT | E_BIG },
};

/* esc - printable form of bytes for a failure message (static buffer) */
static const char *
esc(const char *p, size_t n)
{
	static char out[4096];
	size_t i, o = 0;

	for (i = 0; i < n && o + 8 < sizeof(out); i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

struct run_result {
	int ret;
	size_t used;
	unsigned errors;
	unsigned bare;
	size_t size;
	struct buf out;
};

/*
 * run_feed - feed in as chunks of chunk bytes (0: whole) or in two
 * pieces split at split, stopping at the end of data.
 */
static void
run_feed(const struct smtp_data_limits *lim, const char *in, size_t len,
    size_t chunk, size_t split, struct run_result *res)
{
	struct smtp_data *d = smtp_data_new(lim);
	size_t off = 0, n, used;
	int r = 0;

	buf_init(&res->out, lim->size_max + 1);
	while (off < len) {
		if (split != (size_t)-1)
			n = off < split ? split - off : len - off;
		else if (chunk == 0)
			n = len - off;
		else
			n = len - off < chunk ? len - off : chunk;
		used = (size_t)-1;
		r = smtp_data_feed(d, in + off, n, &used, &res->out);
		if (used > n)
			fail_msg("used_out: got %zu, want <= %zu", used, n);
		off += used;
		if (r == 1)
			break;
		assert_int_equal(r, 0);
		if (used != n)
			fail_msg("return 0: got used %zu, want %zu", used, n);
		if (res->out.len > lim->size_max)
			fail_msg("output: got %zu octets, want <= %zu",
			    res->out.len, lim->size_max);
	}
	if (r == 1) {
		/* once done, nothing more is consumed */
		used = 99;
		assert_int_equal(smtp_data_feed(d, "x", 1, &used, &res->out),
		    1);
		assert_int_equal(used, 0);
	}
	res->ret = r;
	res->used = off;
	res->errors = smtp_data_errors(d);
	res->bare = smtp_data_bare_seen(d);
	res->size = smtp_data_size(d);
	assert_int_equal(smtp_data_8bit_headers(d),
	    (res->errors & SMTP_DATA_E_8BIT_HDR) != 0);
	assert_true(res->out.len <= lim->size_max);
	smtp_data_free(&d);
	assert_null(d);
}

static void
check_run(const struct data_case *c, const char *in, size_t len,
    const char *how, size_t at, size_t chunk, size_t split)
{
	struct smtp_data_limits lim;
	struct run_result res;

	lim.line_max = c->line_max ? c->line_max : SG_SMTP_TEXT_LINE_MAX;
	lim.size_max = c->size_max ? c->size_max : DEFAULT_SIZE_MAX;
	lim.mode = c->mode;
	run_feed(&lim, in, len, chunk, split, &res);
	if (res.ret != c->ret)
		fail_msg("%s (%s %zu): return: got %d, want %d", c->name, how,
		    at, res.ret, c->ret);
	if (res.used != len - c->rest)
		fail_msg("%s (%s %zu): used: got %zu, want %zu", c->name, how,
		    at, res.used, len - c->rest);
	if (res.errors != c->errors)
		fail_msg("%s (%s %zu): errors: got %#x, want %#x", c->name,
		    how, at, res.errors, c->errors);
	if (res.bare != c->bare)
		fail_msg("%s (%s %zu): bare seen: got %#x, want %#x", c->name,
		    how, at, res.bare, c->bare);
	if (c->out != NULL) {
		assert_int_equal(c->errors & STOPS, 0);
		if (res.out.len != strlen(c->out) || (res.out.len > 0 &&
		    memcmp(res.out.data, c->out, res.out.len) != 0)) {
			char got[4096];

			snprintf(got, sizeof(got), "%s",
			    esc(res.out.data, res.out.len));
			fail_msg("%s (%s %zu): output: got \"%s\", want "
			    "\"%s\"", c->name, how, at, got,
			    esc(c->out, strlen(c->out)));
		}
		/* while nothing stops output, size is the output */
		if (res.size != res.out.len)
			fail_msg("%s (%s %zu): size: got %zu, want %zu",
			    c->name, how, at, res.size, res.out.len);
	}
	buf_free(&res.out);
}

/* check_case - whole, trickled, and split in two at every point */
static void
check_case(const struct data_case *c, const char *in, size_t len)
{
	size_t k;

	check_run(c, in, len, "whole", 0, 0, (size_t)-1);
	check_run(c, in, len, "trickle", 1, 1, (size_t)-1);
	if (len > 4096)
		return;
	for (k = 0; k <= len; k++)
		check_run(c, in, len, "split at", k, 0, k);
}

static void
test_table_case(void **state)
{
	const struct data_case *c = *state;

	check_case(c, c->in, c->len);
}

/* lines - n lines of width content octets each, then "\r\n.\r\n" tail */
static char *
lines(size_t n, size_t width, size_t *len_out)
{
	size_t i, len = n * (width + 2) + 3;
	char *s = malloc(len), *p = s;

	assert_non_null(s);
	for (i = 0; i < n; i++) {
		memset(p, 'x', width);
		memcpy(p + width, "\r\n", 2);
		p += width + 2;
	}
	memcpy(p, ".\r\n", 3);
	*len_out = len;
	return s;
}

static void
test_limit_text_line_1000(void **state)
{
	struct data_case c = { .ret = 1 };
	size_t len;
	char *s, *want;

	/* 998 + CRLF = 1000 passes */
	s = lines(1, 998, &len);
	want = strndup(s, len - 3);
	assert_non_null(want);
	c.name = "1000";
	c.out = want;
	check_case(&c, s, len);

	/* a stuffing dot makes 1001 octets sent, still 1000 counted */
	s = realloc(s, len + 1);
	assert_non_null(s);
	memmove(s + 1, s, len);
	s[0] = '.';
	c.name = "1000 plus a stuffing dot";
	check_case(&c, s, len + 1);
	free(want);
	free(s);

	/* 999 + CRLF = 1001 fails */
	s = lines(1, 999, &len);
	c.name = "1001";
	c.out = NULL;
	c.errors = SMTP_DATA_E_LINE_TOO_LONG;
	check_case(&c, s, len);
	free(s);
}

static void
test_limit_size_edge(void **state)
{
	struct data_case c = { .name = "size", .ret = 1, .size_max = 4000 };
	size_t len;
	char *s, *want;

	/* 40 lines of 98 + CRLF = 4000 octets: exactly the limit */
	s = lines(40, 98, &len);
	want = strndup(s, len - 3);
	assert_non_null(want);
	c.out = want;
	check_case(&c, s, len);
	free(want);
	c.size_max = 3999;
	c.out = NULL;
	c.errors = SMTP_DATA_E_TOO_BIG;
	c.name = "size - 1";
	check_case(&c, s, len);
	free(s);
}

/* 25 MB at the default limit: exact passes, one more octet fails, and
 * the scan stays in whole-buffer runs (timed loosely by the CI log). */
static void
test_limit_size_25mb(void **state)
{
	struct smtp_data_limits lim = { SG_SMTP_TEXT_LINE_MAX,
	    SG_SMTP_MSG_MAX_DEFAULT, SMTP_DATA_BARE_REJECT };
	struct run_result res;
	size_t n = SG_SMTP_MSG_MAX_DEFAULT / 80, len;
	size_t chunks[] = { 0, 65536, 4093 };
	char *s;
	size_t i;

	/* lines of 78 + CRLF = 80; 25 MiB is a multiple of 80 */
	assert_int_equal(SG_SMTP_MSG_MAX_DEFAULT % 80, 0);
	s = lines(n, 78, &len);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		run_feed(&lim, s, len, chunks[i], (size_t)-1, &res);
		assert_int_equal(res.ret, 1);
		assert_int_equal(res.used, len);
		assert_int_equal(res.errors, 0);
		assert_int_equal(res.out.len, SG_SMTP_MSG_MAX_DEFAULT);
		assert_memory_equal(res.out.data, s, res.out.len);
		buf_free(&res.out);
	}
	lim.size_max--;
	run_feed(&lim, s, len, 65536, (size_t)-1, &res);
	assert_int_equal(res.ret, 1);
	assert_int_equal(res.errors, SMTP_DATA_E_TOO_BIG);
	assert_int_equal(res.size, SG_SMTP_MSG_MAX_DEFAULT);
	assert_true(res.out.len <= lim.size_max);
	buf_free(&res.out);
	free(s);
}

/* A buf whose max is below size_max: a failed append is TOO_BIG. */
static void
test_small_output_buffer(void **state)
{
	struct smtp_data_limits lim = { SG_SMTP_TEXT_LINE_MAX, 1000,
	    SMTP_DATA_BARE_REJECT };
	struct smtp_data *d = smtp_data_new(&lim);
	struct buf out;
	size_t used;

	buf_init(&out, 4);
	assert_int_equal(smtp_data_feed(d, "abcdef\r\n.\r\n", 11, &used, &out),
	    1);
	assert_int_equal(used, 11);
	assert_int_equal(smtp_data_errors(d), SMTP_DATA_E_TOO_BIG);
	buf_free(&out);
	smtp_data_free(&d);
}

/* smtp_data_reset starts a new message: state and flags cleared. */
static void
test_reset(void **state)
{
	struct smtp_data_limits lim = { SG_SMTP_TEXT_LINE_MAX, 1000,
	    SMTP_DATA_BARE_REJECT };
	struct smtp_data *d = smtp_data_new(&lim);
	struct buf out;
	size_t used;

	buf_init(&out, 2000);
	assert_int_equal(smtp_data_feed(d, "\xff\n\0x\r\n.", 7, &used, &out),
	    0);
	assert_int_equal(smtp_data_errors(d), SMTP_DATA_E_BARE_LF |
	    SMTP_DATA_E_NUL | SMTP_DATA_E_8BIT_HDR);
	smtp_data_reset(d);
	buf_reset(&out);
	assert_int_equal(smtp_data_errors(d), 0);
	assert_int_equal(smtp_data_size(d), 0);
	assert_int_equal(smtp_data_bare_seen(d), 0);
	assert_int_equal(smtp_data_8bit_headers(d), 0);
	/* the pending "." is gone too: this starts at a line start */
	assert_int_equal(smtp_data_feed(d, ".\r\n", 3, &used, &out), 1);
	assert_int_equal(used, 3);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	smtp_data_free(&d);
	smtp_data_free(&d);	/* safe twice */
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_limit_text_line_1000),
		cmocka_unit_test(test_limit_size_edge),
		cmocka_unit_test(test_limit_size_25mb),
		cmocka_unit_test(test_small_output_buffer),
		cmocka_unit_test(test_reset),
	};
	size_t ncase = sizeof(data_cases) / sizeof(data_cases[0]);
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *t;
	size_t i;
	int r;

	t = calloc(ncase + nfixed, sizeof(*t));
	if (t == NULL)
		return 1;
	for (i = 0; i < ncase; i++) {
		t[i].name = data_cases[i].name;
		t[i].test_func = test_table_case;
		t[i].initial_state = (void *)&data_cases[i];
	}
	memcpy(t + ncase, fixed, sizeof(fixed));
	r = _cmocka_run_group_tests("smtp_data", t, ncase + nfixed, NULL,
	    NULL);
	free(t);
	return r;
}
