/*
 * test_json.c - unit tests for gateway/lib/json.c: escaping, ill-formed
 * UTF-8, the buffer cap, and that arbitrary bytes always come out as
 * valid JSON in valid UTF-8.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "lib/json.h"

#define IN(s)	s, sizeof(s) - 1

struct json_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;	/* complete output, quotes included */
};

static const struct json_case json_cases[] = {
	{ "empty", IN(""), "\"\"" },
	{ "plain", IN("a@b.example"), "\"a@b.example\"" },
	{ "quote", IN("say \"hi\""), "\"say \\\"hi\\\"\"" },
	{ "backslash", IN("a\\b"), "\"a\\\\b\"" },
	{ "slash left alone", IN("a/b"), "\"a/b\"" },
	{ "newline tab cr", IN("a\nb\tc\r"),
	    "\"a\\u000ab\\u0009c\\u000d\"" },
	{ "NUL inside", IN("a\0b"), "\"a\\u0000b\"" },
	{ "C0 edges", IN("\x01\x1f\x20"), "\"\\u0001\\u001f \"" },
	{ "DEL", IN("\x7f"), "\"\\u007f\"" },
	{ "2-byte", IN("caf\xc3\xa9"), "\"caf\xc3\xa9\"" },
	{ "3-byte", IN("\xe2\x82\xac"), "\"\xe2\x82\xac\"" },
	{ "4-byte", IN("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"" },
	{ "max code point", IN("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"" },
	{ "U+2028", IN("a\xe2\x80\xa8z"), "\"a\\u2028z\"" },
	{ "U+2029", IN("\xe2\x80\xa9"), "\"\\u2029\"" },
	{ "lone continuation", IN("a\x80z"), "\"a\\ufffdz\"" },
	{ "overlong slash", IN("\xc0\xaf"), "\"\\ufffd\\ufffd\"" },
	{ "overlong 3-byte", IN("\xe0\x80\xaf"),
	    "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "surrogate", IN("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "above U+10FFFF", IN("\xf4\x90\x80\x80"),
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "F5 lead", IN("\xf5\x80"), "\"\\ufffd\\ufffd\"" },
	{ "FF byte", IN("\xff"), "\"\\ufffd\"" },
	{ "truncated at end", IN("x\xe2\x82"), "\"x\\ufffd\\ufffd\"" },
	{ "truncated then ASCII", IN("\xe2\x82" "A"), "\"\\ufffd\\ufffdA\"" },
	{ "latin-1 e-acute", IN("caf\xe9"), "\"caf\\ufffd\"" },
};

static void
test_json_cases(void **state)
{
	for (size_t i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]);
	    i++) {
		const struct json_case *c = &json_cases[i];
		struct buf b;

		buf_init(&b, 1024);
		assert_int_equal(json_append_string(&b, c->in, c->len), 0);
		if (strcmp(buf_cstr(&b), c->want) != 0)
			fail_msg("%s: got %s, want %s", c->name, buf_cstr(&b),
			    c->want);
		buf_free(&b);
	}
}

static void
test_json_cstr(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(json_append_cstr(&b, NULL), 0);
	assert_int_equal(buf_append_char(&b, ','), 0);
	assert_int_equal(json_append_cstr(&b, "x\"y"), 0);
	assert_string_equal(buf_cstr(&b), "null,\"x\\\"y\"");
	buf_free(&b);
}

/* An append that does not fit leaves the buffer exactly as it was. */
static void
test_json_cap(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	/* "ab" + "\"12345\"" = 9 > 8 */
	assert_int_equal(json_append_string(&b, IN("12345")), -1);
	assert_int_equal(b.len, 2);
	assert_string_equal(buf_cstr(&b), "ab");
	/* exactly at the cap: "ab" + "\"1234\"" = 8 */
	assert_int_equal(json_append_string(&b, IN("1234")), 0);
	assert_string_equal(buf_cstr(&b), "ab\"1234\"");
	buf_reset(&b);
	/* an escape that would cross the cap */
	assert_int_equal(json_append_string(&b, IN("\x01\x01")), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

struct utf8_case {
	const char *in;
	size_t len;
	size_t want;
};

static void
test_utf8_seq_len(void **state)
{
	static const struct utf8_case cases[] = {
		{ IN("A"), 1 },
		{ IN("\xc2\x80"), 2 },		/* U+0080, smallest 2-byte */
		{ IN("\xc1\xbf"), 0 },		/* overlong */
		{ IN("\xdf\xbf"), 2 },
		{ IN("\xe0\xa0\x80"), 3 },	/* U+0800 */
		{ IN("\xe0\x9f\xbf"), 0 },	/* overlong */
		{ IN("\xed\x9f\xbf"), 3 },	/* U+D7FF */
		{ IN("\xed\xa0\x80"), 0 },	/* U+D800 */
		{ IN("\xee\x80\x80"), 3 },	/* U+E000 */
		{ IN("\xf0\x90\x80\x80"), 4 },	/* U+10000 */
		{ IN("\xf0\x8f\xbf\xbf"), 0 },	/* overlong */
		{ IN("\xf4\x8f\xbf\xbf"), 4 },	/* U+10FFFF */
		{ IN("\xf4\x90\x80\x80"), 0 },	/* U+110000 */
		{ IN("\xe2\x82"), 0 },		/* truncated */
		{ IN("\xe2\x82\x41"), 0 },	/* bad continuation */
		{ IN("\x80"), 0 },
		{ IN("\xfe"), 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = utf8_seq_len((const unsigned char *)cases[i].in,
		    cases[i].len);
		if (got != cases[i].want)
			fail_msg("case %zu: got %zu, want %zu", i, got,
			    cases[i].want);
	}
	assert_int_equal(utf8_seq_len((const unsigned char *)"", 0), 0);
}

/* check_output - quoted, no raw control bytes, well-formed UTF-8 */
static void
check_output(const struct buf *b)
{
	const unsigned char *p = (const unsigned char *)b->data;
	size_t i = 1, n;

	assert_true(b->len >= 2);
	assert_int_equal(p[0], '"');
	assert_int_equal(p[b->len - 1], '"');
	while (i < b->len - 1) {
		assert_true(p[i] >= 0x20 && p[i] != 0x7f);
		if (p[i] == '\\') {
			/* only our escapes */
			assert_true(p[i + 1] == '"' || p[i + 1] == '\\' ||
			    p[i + 1] == 'u');
			i += p[i + 1] == 'u' ? 6 : 2;
			continue;
		}
		assert_true(p[i] != '"');
		n = utf8_seq_len(p + i, b->len - 1 - i);
		assert_true(n > 0);
		i += n;
	}
	assert_int_equal(i, b->len - 1);
}

/* Random bytes (fixed seed, biased to the interesting ranges) always
 * give valid output. */
static void
test_json_random(void **state)
{
	static const unsigned char pick[] = { 0x00, 0x0a, 0x1f, 0x22, 0x5c,
	    0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0,
	    0xf4, 0xf5, 0xff, 'a' };
	unsigned long long x = 0x5ea19a7eull;
	unsigned char in[64];

	for (int round = 0; round < 20000; round++) {
		struct buf b;
		size_t len = (size_t)(round % 64);

		for (size_t i = 0; i < len; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			in[i] = (x >> 60) & 1 ? pick[(x >> 33) % sizeof(pick)] :
			    (unsigned char)(x >> 40);
		}
		buf_init(&b, 1024);
		assert_int_equal(json_append_string(&b, (const char *)in, len),
		    0);
		check_output(&b);
		buf_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_cases),
		cmocka_unit_test(test_json_cstr),
		cmocka_unit_test(test_json_cap),
		cmocka_unit_test(test_utf8_seq_len),
		cmocka_unit_test(test_json_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
