/*
 * test_numparse.c - lib/numparse.c: ranges at their edges, junk, signs,
 * white space, suffixes and overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/numparse.h"

#define NOVAL	0xdeadbeefULL	/* *out must keep this on failure */

struct u64_case {
	const char *in;
	uint64_t min, max;
	int ok;
	uint64_t want;
};

static const struct u64_case u64_cases[] = {
	{ "0", 0, 10, 1, 0 },
	{ "10", 0, 10, 1, 10 },
	{ "11", 0, 10, 0, 0 },
	{ "1", 1, 65535, 1, 1 },
	{ "0", 1, 65535, 0, 0 },
	{ "65535", 1, 65535, 1, 65535 },
	{ "65536", 1, 65535, 0, 0 },
	{ "007", 0, 10, 1, 7 },
	{ "18446744073709551615", 0, UINT64_MAX, 1, UINT64_MAX },
	{ "18446744073709551616", 0, UINT64_MAX, 0, 0 },
	{ "18446744073709551620", 0, UINT64_MAX, 0, 0 },
	{ "99999999999999999999", 0, UINT64_MAX, 0, 0 },
	{ "100000000000000000000", 0, UINT64_MAX, 0, 0 },
	{ "000000000000000000001", 0, UINT64_MAX, 0, 0 },  /* > 20 digits */
	{ "", 0, 10, 0, 0 },
	{ "-1", 0, 10, 0, 0 },
	{ "+1", 0, 10, 0, 0 },
	{ " 1", 0, 10, 0, 0 },
	{ "1 ", 0, 10, 0, 0 },
	{ "1x", 0, 10, 0, 0 },
	{ "0x1", 0, 10, 0, 0 },
	{ "1.0", 0, 10, 0, 0 },
	{ "1e3", 0, 10000, 0, 0 },
	{ "abc", 0, 10, 0, 0 },
};

static void
test_u64(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(u64_cases) / sizeof(u64_cases[0]); i++) {
		const struct u64_case *c = &u64_cases[i];
		uint64_t got = NOVAL;
		int r;

		r = num_parse_u64_str(c->in, c->min, c->max, &got);
		if (c->ok && (r != 0 || got != c->want))
			fail_msg("\"%s\" in %ju..%ju: got %d/%ju, want %ju",
			    c->in, (uintmax_t)c->min, (uintmax_t)c->max, r,
			    (uintmax_t)got, (uintmax_t)c->want);
		if (!c->ok && (r != -1 || got != NOVAL))
			fail_msg("\"%s\" in %ju..%ju: got %d/%ju, want -1, "
			    "output untouched", c->in, (uintmax_t)c->min,
			    (uintmax_t)c->max, r, (uintmax_t)got);
	}
}

/* test_u64_len - only s[0..len) is looked at; NUL inside is junk */
static void
test_u64_len(void **state)
{
	uint64_t v = NOVAL;

	assert_int_equal(num_parse_u64("1234xyz", 4, 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(num_parse_u64("1234", 2, 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 12);
	v = NOVAL;
	assert_int_equal(num_parse_u64("1234", 0, 0, UINT64_MAX, &v), -1);
	assert_int_equal(num_parse_u64("12\0" "4", 4, 0, UINT64_MAX, &v), -1);
	assert_int_equal(v, NOVAL);
}

struct sfx_case {
	const char *in;
	uint64_t max;
	int ok;
	uint64_t want;
};

static const struct sfx_case duration_cases[] = {
	{ "0", 100, 1, 0 },
	{ "30", 100, 1, 30 },
	{ "30s", 100, 1, 30 },
	{ "5m", 300, 1, 300 },
	{ "5m", 299, 0, 0 },
	{ "2h", UINT64_MAX, 1, 7200 },
	{ "5d", UINT64_MAX, 1, 432000 },
	{ "1w", UINT64_MAX, 1, 604800 },
	{ "18446744073709551615s", UINT64_MAX, 1, UINT64_MAX },
	{ "18446744073709551615m", UINT64_MAX, 0, 0 },
	{ "307445734561825860m", UINT64_MAX, 1, 18446744073709551600ULL },
	{ "307445734561825861m", UINT64_MAX, 0, 0 },
	{ "30499999999999999w", UINT64_MAX, 0, 0 },
	{ "", 100, 0, 0 },
	{ "s", 100, 0, 0 },
	{ "m", 100, 0, 0 },
	{ "5M", UINT64_MAX, 0, 0 },	/* durations are lower case */
	{ "5ms", UINT64_MAX, 0, 0 },
	{ "5 m", UINT64_MAX, 0, 0 },
	{ " 5m", UINT64_MAX, 0, 0 },
	{ "5m ", UINT64_MAX, 0, 0 },
	{ "-5m", UINT64_MAX, 0, 0 },
	{ "5y", UINT64_MAX, 0, 0 },
	{ "1.5h", UINT64_MAX, 0, 0 },
};

static const struct sfx_case size_cases[] = {
	{ "0", 100, 1, 0 },
	{ "1024", 1024, 1, 1024 },
	{ "1025", 1024, 0, 0 },
	{ "1k", 1024, 1, 1024 },
	{ "1K", 1024, 1, 1024 },
	{ "2k", 1024, 0, 0 },
	{ "25M", UINT64_MAX, 1, 26214400 },
	{ "25m", UINT64_MAX, 1, 26214400 },
	{ "1G", UINT64_MAX, 1, 1073741824 },
	{ "1g", 1073741824, 1, 1073741824 },
	{ "1g", 1073741823, 0, 0 },
	{ "17179869183G", UINT64_MAX, 1, 18446744072635809792ULL },
	{ "17179869184G", UINT64_MAX, 0, 0 },
	{ "18014398509481984k", UINT64_MAX, 0, 0 },
	{ "", UINT64_MAX, 0, 0 },
	{ "k", UINT64_MAX, 0, 0 },
	{ "10MB", UINT64_MAX, 0, 0 },
	{ "10T", UINT64_MAX, 0, 0 },
	{ "10 M", UINT64_MAX, 0, 0 },
	{ "-1M", UINT64_MAX, 0, 0 },
	{ "0x10", UINT64_MAX, 0, 0 },
};

static void
run_sfx(const char *what, int (*fn)(const char *, uint64_t, uint64_t *),
    const struct sfx_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct sfx_case *c = &cases[i];
		uint64_t got = NOVAL;
		int r;

		r = fn(c->in, c->max, &got);
		if (c->ok && (r != 0 || got != c->want))
			fail_msg("%s \"%s\" max %ju: got %d/%ju, want %ju",
			    what, c->in, (uintmax_t)c->max, r,
			    (uintmax_t)got, (uintmax_t)c->want);
		if (!c->ok && (r != -1 || got != NOVAL))
			fail_msg("%s \"%s\" max %ju: got %d/%ju, want -1, "
			    "output untouched", what, c->in,
			    (uintmax_t)c->max, r, (uintmax_t)got);
	}
}

static void
test_duration(void **state)
{
	run_sfx("duration", num_parse_duration, duration_cases,
	    sizeof(duration_cases) / sizeof(duration_cases[0]));
}

static void
test_size(void **state)
{
	run_sfx("size", num_parse_size, size_cases,
	    sizeof(size_cases) / sizeof(size_cases[0]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_u64_len),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
