/*
 * test_buf.c - lib/buf.c: the maximum (exactly max ok, one more fails and
 * leaves the buffer unchanged), the spare NUL, consume, steal, printf
 * growth, size overflow and allocation failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

/* same_as - b holds exactly the len bytes of want, NUL after them */
static void
same_as(const struct buf *b, const char *want, size_t len)
{
	assert_int_equal(b->len, len);
	assert_memory_equal(buf_cstr(b), want, len);
	assert_int_equal(buf_cstr(b)[len], '\0');
	assert_true(b->len <= b->max);
	if (b->data != NULL)
		assert_true(b->cap > b->len);
}

static void
test_empty(void **state)
{
	struct buf b;
	struct slice s;

	buf_init(&b, 16);
	assert_null(b.data);
	assert_string_equal(buf_cstr(&b), "");
	s = buf_slice(&b);
	assert_int_equal(s.len, 0);
	assert_non_null(s.ptr);
	buf_reset(&b);
	buf_consume(&b, 5);
	same_as(&b, "", 0);
	buf_free(&b);
	buf_free(&b);		/* twice is harmless */
}

/* test_max_exact - appends up to max succeed; one byte more fails, and
 * the buffer is left exactly as it was */
static void
test_max_exact(void **state)
{
	struct buf b;

	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, "0123456789", 10), 0);
	same_as(&b, "0123456789", 10);
	assert_int_equal(buf_append(&b, "x", 1), -1);
	same_as(&b, "0123456789", 10);
	assert_int_equal(buf_append_char(&b, 'x'), -1);
	assert_int_equal(buf_append_str(&b, "x"), -1);
	assert_int_equal(buf_printf(&b, "%d", 1), -1);
	same_as(&b, "0123456789", 10);
	/* appending nothing at the maximum is fine */
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	same_as(&b, "0123456789", 10);
	buf_free(&b);

	/* in pieces: 4 + 6 ok, then a 2-byte append that would end at 12 */
	buf_init(&b, 10);
	assert_int_equal(buf_append_str(&b, "abcd"), 0);
	assert_int_equal(buf_append_str(&b, "efghij"), 0);
	buf_consume(&b, 1);
	assert_int_equal(buf_append_str(&b, "kl"), -1);
	same_as(&b, "bcdefghij", 9);
	assert_int_equal(buf_append_str(&b, "k"), 0);
	same_as(&b, "bcdefghijk", 10);
	buf_free(&b);

	/* one more than max in a single call on an empty buffer */
	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, "0123456789A", 11), -1);
	assert_null(b.data);
	same_as(&b, "", 0);
	buf_free(&b);

	/* max 0: only empty appends */
	buf_init(&b, 0);
	assert_int_equal(buf_append_char(&b, 'a'), -1);
	assert_int_equal(buf_append(&b, "", 0), 0);
	same_as(&b, "", 0);
	buf_free(&b);
}

static void
test_printf_max_exact(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_printf(&b, "%s-%d", "ab", 12345), 0);
	same_as(&b, "ab-12345", 8);
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%s-%d", "ab", 123456), -1);
	same_as(&b, "", 0);
	assert_int_equal(buf_printf(&b, "%s", "1234"), 0);
	assert_int_equal(buf_printf(&b, "%s", "56789"), -1);
	same_as(&b, "1234", 4);
	buf_free(&b);
}

static void
test_binary_safe(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(buf_append(&b, "a\0b\0", 4), 0);
	assert_int_equal(buf_append_char(&b, '\0'), 0);
	same_as(&b, "a\0b\0\0", 5);
	buf_consume(&b, 1);
	same_as(&b, "\0b\0\0", 4);
	buf_free(&b);
}

/* test_growth - capacity grows as needed across many sizes; content
 * and the spare NUL survive every reallocation */
static void
test_growth(void **state)
{
	struct buf b;
	size_t i;

	buf_init(&b, 100000);
	for (i = 0; i < 100000; i++) {
		assert_int_equal(buf_append_char(&b, (char)('a' + i % 26)), 0);
		assert_true(b.cap > b.len);
		assert_int_equal(b.data[b.len], '\0');
	}
	assert_int_equal(buf_append_char(&b, 'x'), -1);
	for (i = 0; i < 100000; i++)
		assert_int_equal(b.data[i], (char)('a' + i % 26));
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void
test_printf_growth(void **state)
{
	struct buf b;
	char big[3000];
	size_t i;

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_printf(&b, "%s", "x"), 0);
	/* far past the first capacity in one call */
	assert_int_equal(buf_printf(&b, "<%s>%d", big, 42), 0);
	assert_int_equal(b.len, 1 + 1 + 2999 + 1 + 2);
	assert_int_equal(b.data[0], 'x');
	assert_int_equal(b.data[1], '<');
	assert_int_equal(b.data[2 + 2999], '>');
	assert_string_equal(b.data + b.len - 2, "42");
	for (i = 0; i < 200; i++)
		assert_int_equal(buf_printf(&b, "%zu,", i), 0);
	assert_memory_equal(b.data + b.len - 4, "199,", 4);
	assert_int_equal(b.data[b.len], '\0');
	buf_free(&b);
}

static void
test_consume(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(buf_append_str(&b, "EHLO a\r\nMAIL"), 0);
	buf_consume(&b, 0);
	same_as(&b, "EHLO a\r\nMAIL", 12);
	buf_consume(&b, 8);
	same_as(&b, "MAIL", 4);
	buf_consume(&b, 4);
	same_as(&b, "", 0);
	assert_int_equal(buf_append_str(&b, "RCPT"), 0);
	buf_consume(&b, 100);	/* more than held: empties it */
	same_as(&b, "", 0);
	/* room freed by consume can be used up to max again */
	assert_int_equal(buf_append(&b, "01234567890123456789012345678901"
	    "23456789012345678901234567890123", 64), 0);
	assert_int_equal(buf_append_char(&b, 'x'), -1);
	buf_consume(&b, 1);
	assert_int_equal(buf_append_char(&b, 'x'), 0);
	assert_int_equal(b.len, 64);
	assert_int_equal(b.data[63], 'x');
	buf_free(&b);
}

static void
test_reset(void **state)
{
	struct buf b;

	buf_init(&b, 16);
	assert_int_equal(buf_append_str(&b, "secret"), 0);
	buf_reset(&b);
	same_as(&b, "", 0);
	assert_non_null(b.data);	/* storage kept for reuse */
	assert_int_equal(buf_append_str(&b, "again"), 0);
	same_as(&b, "again", 5);
	buf_free_secure(&b);
	assert_null(b.data);
	buf_free_secure(&b);		/* on an empty buffer too */
}

static void
test_steal(void **state)
{
	struct buf b;
	size_t len = 99;
	char *p;

	buf_init(&b, 32);
	assert_int_equal(buf_append_str(&b, "hello"), 0);
	p = buf_steal(&b, &len);
	assert_string_equal(p, "hello");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	xfree(p);
	/* the buffer is usable again, max unchanged */
	assert_int_equal(buf_append_str(&b, "0123456789012345678901234567890"
	    "12"), -1);
	assert_int_equal(buf_append_str(&b, "x"), 0);
	p = buf_steal(&b, NULL);
	assert_string_equal(p, "x");
	xfree(p);

	/* a buffer never appended to still hands out a C string "" */
	buf_init(&b, 32);
	p = buf_steal(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 0);
	assert_int_equal(p[0], '\0');
	xfree(p);

	/* after reset: "" too, not the old contents */
	buf_init(&b, 32);
	assert_int_equal(buf_append_str(&b, "old"), 0);
	buf_reset(&b);
	p = buf_steal(&b, &len);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	xfree(p);
}

/* test_size_overflow - lengths near SIZE_MAX fail cleanly */
static void
test_size_overflow(void **state)
{
	struct buf b;

	buf_init(&b, SIZE_MAX);
	assert_int_equal(buf_append_str(&b, "abc"), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 3), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 2), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX / 2 + 1), -1);
	same_as(&b, "abc", 3);
	buf_free(&b);

	buf_init(&b, SIZE_MAX - 1);
	assert_int_equal(buf_append_str(&b, "abc"), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 4), -1);
	same_as(&b, "abc", 3);
	buf_free(&b);
}

/* test_alloc_failure - a failed allocation leaves the buffer unchanged */
static void
test_alloc_failure(void **state)
{
	struct buf b;
	char big[200];

	memset(big, 'q', sizeof(big));
	buf_init(&b, 4096);
	xalloc_fail_after(0);
	assert_int_equal(buf_append_str(&b, "a"), -1);
	xalloc_fail_after(-1);
	same_as(&b, "", 0);
	assert_null(b.data);

	assert_int_equal(buf_append_str(&b, "abc"), 0);
	xalloc_fail_after(0);
	assert_int_equal(buf_append(&b, big, sizeof(big)), -1);
	assert_int_equal(buf_printf(&b, "%.*s", (int)sizeof(big), big), -1);
	xalloc_fail_after(-1);
	same_as(&b, "abc", 3);
	assert_int_equal(buf_append(&b, big, sizeof(big)), 0);
	assert_int_equal(b.len, 203);
	buf_free(&b);

	buf_init(&b, 64);
	xalloc_fail_after(0);
	assert_null(buf_steal(&b, NULL));
	xalloc_fail_after(-1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_max_exact),
		cmocka_unit_test(test_printf_max_exact),
		cmocka_unit_test(test_binary_safe),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_printf_growth),
		cmocka_unit_test(test_consume),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_steal),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
