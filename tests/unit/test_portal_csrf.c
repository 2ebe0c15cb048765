/*
 * test_portal_csrf.c - unit tests for escrow-web/web_csrf.c: the
 * pre-session CSRF token is bound to its cookie, its secret and its
 * period (current and previous accepted, older refused), and junk in
 * any argument is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web_csrf.h"
#include "web_limits.h"

#define PRE1 "q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE"
#define PRE2 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static const unsigned char secret1[WEB_CSRF_SECRET_LEN] = { 1, 2, 3 };
static const unsigned char secret2[WEB_CSRF_SECRET_LEN] = { 9 };

static void
test_roundtrip(void **state)
{
	char t[WEB_CSRF_PRE_LEN + 1], t2[WEB_CSRF_PRE_LEN + 1];
	time_t now = 1800000000;

	web_csrf_pre(secret1, PRE1, now, t);
	assert_int_equal(strlen(t), WEB_CSRF_PRE_LEN);
	assert_true(strspn(t, "0123456789abcdef") == WEB_CSRF_PRE_LEN);
	/* deterministic within a period */
	web_csrf_pre(secret1, PRE1, now + 1, t2);
	if (now / WEB_PRE_TTL == (now + 1) / WEB_PRE_TTL)
		assert_string_equal(t, t2);
	assert_int_equal(web_csrf_pre_check(secret1, PRE1, t, now), 1);
	/* the next period still takes it, the one after does not */
	assert_int_equal(web_csrf_pre_check(secret1, PRE1, t,
	    now + WEB_PRE_TTL), 1);
	assert_int_equal(web_csrf_pre_check(secret1, PRE1, t,
	    now + 2 * WEB_PRE_TTL), 0);
	/* not before it was made */
	assert_int_equal(web_csrf_pre_check(secret1, PRE1, t,
	    now - WEB_PRE_TTL), 0);
}

static void
test_binding(void **state)
{
	char t[WEB_CSRF_PRE_LEN + 1], bad[WEB_CSRF_PRE_LEN + 1];
	time_t now = 1800000000;

	web_csrf_pre(secret1, PRE1, now, t);
	/* another pre-session, another secret (a restart) */
	assert_int_equal(web_csrf_pre_check(secret1, PRE2, t, now), 0);
	assert_int_equal(web_csrf_pre_check(secret2, PRE1, t, now), 0);
	/* one changed character, case, length */
	memcpy(bad, t, sizeof(bad));
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	assert_int_equal(web_csrf_pre_check(secret1, PRE1, bad, now), 0);
	memcpy(bad, t, sizeof(bad));
	for (size_t i = 0; i < WEB_CSRF_PRE_LEN; i++)
		if (bad[i] >= 'a' && bad[i] <= 'f')
			bad[i] = (char)(bad[i] - 32);
	if (strcmp(bad, t) != 0)
		assert_int_equal(web_csrf_pre_check(secret1, PRE1, bad, now),
		    0);
	t[WEB_CSRF_PRE_LEN - 1] = '\0';
	assert_int_equal(web_csrf_pre_check(secret1, PRE1, t, now), 0);
	/* junk */
	assert_int_equal(web_csrf_pre_check(secret1, PRE1, NULL, now), 0);
	assert_int_equal(web_csrf_pre_check(secret1, NULL, "x", now), 0);
	assert_int_equal(web_csrf_pre_check(secret1, PRE1, "", now), 0);
	/* a session csrf (a token) is never a pre-session one */
	assert_int_equal(web_csrf_pre_check(secret1, PRE1, PRE1, now), 0);
}

static void
test_bad_pre(void **state)
{
	char t[WEB_CSRF_PRE_LEN + 1];

	/* a cookie that is not a token yields no token at all */
	web_csrf_pre(secret1, "short", 1800000000, t);
	assert_string_equal(t, "");
	web_csrf_pre(secret1, NULL, 1800000000, t);
	assert_string_equal(t, "");
	web_csrf_pre(secret1, PRE1 "\r\nX", 1800000000, t);
	assert_string_equal(t, "");
	assert_int_equal(web_csrf_pre_check(secret1, "short", t,
	    1800000000), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_binding),
		cmocka_unit_test(test_bad_pre),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
