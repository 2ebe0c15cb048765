/*
 * test_token.c - unit tests for escrow-web/token.c: fresh tokens
 * (syntax, alphabet, uniqueness), hash vectors checked against
 * `printf %s TOKEN | sha256sum`, equality and the syntax check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "token.h"
#include "lib/xalloc.h"

#define NTOKENS 10000

static int
cmp_tok(const void *a, const void *b)
{
	return memcmp(a, b, TOKEN_TEXT_LEN + 1);
}

static void
test_new_syntax_and_alphabet(void **state)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	/* 256 = 42 * 6 + 4: the last character carries 4 bits, so its
	 * two low bits are zero: one of these 16 */
	static const char last_ok[] = "AEIMQUYcgkosw048";
	char (*t)[TOKEN_TEXT_LEN + 1];
	int seen[256] = { 0 };

	t = xcalloc(NTOKENS, sizeof(*t));
	for (size_t i = 0; i < NTOKENS; i++) {
		assert_int_equal(token_new(t[i]), 0);
		assert_int_equal(strlen(t[i]), TOKEN_TEXT_LEN);
		if (!token_valid_syntax(t[i]))
			fail_msg("token %zu \"%s\": bad syntax", i, t[i]);
		for (size_t j = 0; j < TOKEN_TEXT_LEN; j++)
			seen[(unsigned char)t[i][j]]++;
		if (strchr(last_ok, t[i][TOKEN_TEXT_LEN - 1]) == NULL)
			fail_msg("token \"%s\": last char not canonical",
			    t[i]);
	}
	/* 430000 characters: every one of the 64 shows up */
	for (size_t c = 0; c < 64; c++)
		if (seen[(unsigned char)alphabet[c]] == 0)
			fail_msg("'%c' never used", alphabet[c]);
	assert_int_equal(seen['='] + seen['+'] + seen['/'], 0);

	/* no two alike */
	qsort(t, NTOKENS, sizeof(*t), cmp_tok);
	for (size_t i = 1; i < NTOKENS; i++)
		if (memcmp(t[i - 1], t[i], sizeof(*t)) == 0)
			fail_msg("duplicate token %s", t[i]);
	xfree(t);
}

static void
test_hash_vectors(void **state)
{
	static const struct {
		const char *token, *hash;
	} v[] = {
		/* printf %s TOKEN | sha256sum */
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		  "0f007385b6f9d4b7eeb2748605afe1a9"
		  "84a0a3bfa3f014d09e2a784ce9e5cd1a" },
		{ "q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE",
		  "61b32adce72f8153e7070ec278bb5846"
		  "9d1b14465abc069f87281109e7331fa3" },
		{ "",
		  "e3b0c44298fc1c149afbf4c8996fb924"
		  "27ae41e4649b934ca495991b7852b855" },
	};
	char h[TOKEN_HASH_LEN + 1], t[TOKEN_TEXT_LEN + 1];
	char h2[TOKEN_HASH_LEN + 1];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		token_hash(v[i].token, h);
		if (strcmp(h, v[i].hash) != 0)
			fail_msg("hash(\"%s\"): got %s, want %s", v[i].token,
			    h, v[i].hash);
	}
	/* a fresh token: stable, not the token itself, differs per token */
	assert_int_equal(token_new(t), 0);
	token_hash(t, h);
	token_hash(t, h2);
	assert_string_equal(h, h2);
	assert_int_equal(strlen(h), TOKEN_HASH_LEN);
	assert_null(strstr(h, t));
	t[0] = t[0] == 'A' ? 'B' : 'A';
	token_hash(t, h2);
	assert_string_not_equal(h, h2);
}

static void
test_equal(void **state)
{
	static const char a[] = "q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE";
	char b[sizeof(a)];

	memcpy(b, a, sizeof(a));
	assert_int_equal(token_equal(a, b), 1);
	assert_int_equal(token_equal(a, a), 1);
	assert_int_equal(token_equal("", ""), 1);
	/* each position matters */
	for (size_t i = 0; i < sizeof(a) - 1; i++) {
		b[i] ^= 1;
		if (token_equal(a, b) != 0)
			fail_msg("differ at %zu: equal", i);
		b[i] ^= 1;
	}
	/* prefixes and extensions are not equal */
	assert_int_equal(token_equal(a, "q7Xr0"), 0);
	assert_int_equal(token_equal("q7Xr0", a), 0);
	assert_int_equal(token_equal(a, ""), 0);
	b[sizeof(a) - 2] = '\0';
	assert_int_equal(token_equal(a, b), 0);
	assert_int_equal(token_equal(NULL, a), 0);
	assert_int_equal(token_equal(a, NULL), 0);
	assert_int_equal(token_equal(NULL, NULL), 0);
}

static void
test_valid_syntax(void **state)
{
	static const struct {
		const char *s;
		int ok;
	} v[] = {
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1 },
		{ "q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE", 1 },
		{ "-__-0123456789abcdefghijklmnopqrstuvwxyzABC", 1 },
		{ "", 0 },
		{ "A", 0 },
		/* 42 and 44 characters */
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0 },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0 },
		/* standard base64 characters, padding, junk */
		{ "q7Xr0+/bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE", 0 },
		{ "q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4x=", 0 },
		{ "q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4x ", 0 },
		{ " q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4x", 0 },
		{ "q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE\n", 0 },
		{ "q7Xr0-_bZ9kLmN3pQvW8sT1uYhJc.eFgHiK2oPaS4xE", 0 },
		{ "q7Xr0-_bZ9kLmN3pQvW8sT1uYhJc%eFgHiK2oPaS4xE", 0 },
		{ "q7Xr0-_bZ9kLmN3pQvW8sT1uYhJc\xc3\xa9" "FgHiK2oPaS4xE", 0 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (token_valid_syntax(v[i].s) != v[i].ok)
			fail_msg("\"%s\": got %d, want %d", v[i].s, !v[i].ok,
			    v[i].ok);
	assert_int_equal(token_valid_syntax(NULL), 0);
	/* a NUL inside: the string ends there */
	assert_int_equal(token_valid_syntax(
	    "AAAAAAAAAAAAAAAAAAAA\0AAAAAAAAAAAAAAAAAAAAAA"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_syntax_and_alphabet),
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_valid_syntax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
