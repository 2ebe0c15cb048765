/*
 * test_passwd.c - unit tests for crypto/passwd.c: round trip, wrong
 * passwords, salts, malformed strings and tampered cost parameters
 * (which must be refused before any work is done).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "passwd.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define PW	"correct horse battery staple"

static char *good;	/* hash of PW, made once */

static int
setup(void **state)
{
	good = passwd_hash(PW, strlen(PW));
	return good != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	xfree(good);
	good = NULL;
	return 0;
}

/* with - good with its "$"-separated field idx replaced by repl */
static char *
with(int idx, const char *repl)
{
	struct buf b;
	const char *p = good, *e;
	int field = 0;

	buf_init(&b, 1024);
	/* fields: "" "scrypt" "ln=..,r=..,p=.." salt hash */
	for (;;) {
		e = strchr(p, '$');
		if (field > 0)
			assert_int_equal(buf_append_char(&b, '$'), 0);
		if (field == idx)
			assert_int_equal(buf_append_str(&b, repl), 0);
		else
			assert_int_equal(buf_append(&b, p,
			    e != NULL ? (size_t)(e - p) : strlen(p)), 0);
		if (e == NULL)
			break;
		p = e + 1;
		field++;
	}
	return buf_steal(&b, NULL);
}

static void
test_roundtrip(void **state)
{
	size_t dollars = 0;

	assert_true(strncmp(good, "$scrypt$ln=15,r=8,p=1$", 22) == 0);
	for (const char *p = good; *p; p++)
		dollars += *p == '$';
	assert_int_equal(dollars, 4);
	/* 16-byte salt and 32-byte hash in padded base64, no newlines */
	assert_int_equal(strlen(good), 22 + 24 + 1 + 44);
	assert_null(strchr(good, '\n'));
	assert_int_equal(passwd_verify(PW, strlen(PW), good), 1);
}

static void
test_wrong_password(void **state)
{
	assert_int_equal(passwd_verify("correct horse battery stapl", 27,
	    good), 0);
	assert_int_equal(passwd_verify(PW "!", strlen(PW) + 1, good), 0);
	assert_int_equal(passwd_verify("", 0, good), 0);
	/* length counts, not the NUL */
	assert_int_equal(passwd_verify(PW "\0x", strlen(PW) + 2, good), 0);
}

static void
test_salted(void **state)
{
	char *h2 = passwd_hash(PW, strlen(PW));

	assert_non_null(h2);
	assert_string_not_equal(h2, good);
	assert_int_equal(passwd_verify(PW, strlen(PW), h2), 1);
	xfree(h2);
}

static void
test_binary_and_empty(void **state)
{
	char *h = passwd_hash("a\0b", 3);

	assert_non_null(h);
	assert_int_equal(passwd_verify("a\0b", 3, h), 1);
	assert_int_equal(passwd_verify("a\0c", 3, h), 0);
	assert_int_equal(passwd_verify("a", 1, h), 0);
	xfree(h);
	h = passwd_hash("", 0);
	assert_non_null(h);
	assert_int_equal(passwd_verify("", 0, h), 1);
	assert_int_equal(passwd_verify("x", 1, h), 0);
	xfree(h);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"$",
		"$scrypt$",
		"$scrypt$ln=15,r=8,p=1$",
		"$scrypt$ln=15,r=8,p=1$$",
		"scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
		"$bcrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
		"$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"$scrypt$r=8,ln=15,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
		"$scrypt$ln=15,r=8$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
		"$scrypt$ln=15,r=8,p=1,x=2$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
		"$scrypt$ln=,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
		"$scrypt$ln=+15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
		"$scrypt$ln= 15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
		"$scrypt$ln=015,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
		/* salt: not base64, bad padding, too short */
		"$scrypt$ln=15,r=8,p=1$AAAA*AAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
		"$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA=$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
		"$scrypt$ln=15,r=8,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==",
		/* hash: too short, trailing junk, extra field */
		"$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
		"$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA== ",
		"$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==$",
		"$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==\n",
		/* non-canonical base64: pad bits set ("AB==" vs "AA==") */
		"$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAB==$"
		    "AAAAAAAAAAAAAAAAAAAAAA==",
	};

	assert_int_equal(passwd_verify(PW, strlen(PW), NULL), -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (passwd_verify(PW, strlen(PW), bad[i]) != -1)
			fail_msg("case %zu (%s): want -1", i, bad[i]);
}

/* Cost parameters out of bounds are refused at once (a planted hash
 * must not buy gigabytes or minutes); in bounds but different just
 * fails to match. */
static void
test_tampered_params(void **state)
{
	static const char *const refused[] = {
		"ln=21,r=8,p=1", "ln=9,r=8,p=1", "ln=0,r=8,p=1",
		"ln=63,r=8,p=1", "ln=64,r=8,p=1",
		"ln=99999999999999999999,r=8,p=1",
		"ln=15,r=0,p=1", "ln=15,r=33,p=1", "ln=15,r=8,p=0",
		"ln=15,r=8,p=17", "ln=15,r=4294967297,p=1",
		"ln=20,r=8,p=1",	/* 1 GiB */
		"ln=18,r=16,p=16",	/* work */
		"ln=15,r=16,p=16",	/* work: 2^23 > 2^22 */
	};
	static const char *const mismatch[] = {
		"ln=14,r=8,p=1", "ln=15,r=4,p=1", "ln=15,r=8,p=2",
	};
	struct timespec t0, t1;
	char *h;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		h = with(2, refused[i]);
		if (passwd_verify(PW, strlen(PW), h) != -1)
			fail_msg("%s: want -1", refused[i]);
		xfree(h);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* refused without deriving anything */
	assert_true(t1.tv_sec - t0.tv_sec < 2);

	for (size_t i = 0; i < sizeof(mismatch) / sizeof(mismatch[0]); i++) {
		h = with(2, mismatch[i]);
		if (passwd_verify(PW, strlen(PW), h) != 0)
			fail_msg("%s: want 0", mismatch[i]);
		xfree(h);
	}
}

static void
test_tampered_salt_and_hash(void **state)
{
	char *h;
	size_t n;

	/* another valid salt */
	h = with(3, "c2VhbGdhdGUtZHVtbXlzYQ==");
	assert_int_equal(passwd_verify(PW, strlen(PW), h), 0);
	xfree(h);

	/* one character of the hash changed */
	h = xstrdup(good);
	n = strlen(h);
	h[n - 3] = h[n - 3] == 'A' ? 'B' : 'A';
	assert_int_equal(passwd_verify(PW, strlen(PW), h), 0);
	xfree(h);

	/* truncated hash (shorter key, still >= 16 bytes) */
	h = with(4, "AAAAAAAAAAAAAAAAAAAAAA==");
	assert_int_equal(passwd_verify(PW, strlen(PW), h), 0);
	xfree(h);
}

static void
test_burn(void **state)
{
	/* same order of time as a verification; must not crash */
	passwd_burn(PW, strlen(PW));
	passwd_burn("", 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_salted),
		cmocka_unit_test(test_binary_and_empty),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_tampered_params),
		cmocka_unit_test(test_tampered_salt_and_hash),
		cmocka_unit_test(test_burn),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
