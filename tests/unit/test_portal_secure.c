/*
 * test_portal_secure.c - unit tests for escrow-web/web_secure.c: the
 * security headers of each response kind (docs/portal.md "Security on
 * every response"), HSTS only over HTTPS, the frame's own CSP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web_secure.h"

/* get - the value of header name in h[0..n), NULL if absent (and fail
 * if it is there twice) */
static const char *
get(const struct web_header *h, size_t n, const char *name)
{
	const char *v = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0) {
			if (v != NULL)
				fail_msg("%s twice", name);
			v = h[i].value;
		}
	return v;
}

static void
test_page(void **state)
{
	struct web_header h[WEB_SEC_HEADERS_MAX];
	size_t n;

	for (int https = 0; https < 2; https++) {
		n = web_secure_headers(WEB_SEC_PAGE, https, h);
		assert_true(n <= WEB_SEC_HEADERS_MAX);
		assert_string_equal(get(h, n, "Content-Security-Policy"),
		    "default-src 'none'; style-src 'self'; img-src 'self' "
		    "https:; form-action 'self'; frame-src 'self'; "
		    "frame-ancestors 'none'; base-uri 'none'");
		assert_string_equal(get(h, n, "X-Frame-Options"), "DENY");
		assert_string_equal(get(h, n, "Referrer-Policy"), "no-referrer");
		assert_string_equal(get(h, n, "X-Content-Type-Options"),
		    "nosniff");
		assert_string_equal(get(h, n, "Cache-Control"), "no-store");
		if (https)
			assert_string_equal(get(h, n,
			    "Strict-Transport-Security"), "max-age=31536000");
		else
			assert_null(get(h, n, "Strict-Transport-Security"));
	}
}

static void
test_frame(void **state)
{
	struct web_header h[WEB_SEC_HEADERS_MAX];
	const char *csp;
	size_t n;

	n = web_secure_headers(WEB_SEC_FRAME, 1, h);
	csp = get(h, n, "Content-Security-Policy");
	assert_string_equal(csp, "default-src 'none'; style-src "
	    "'unsafe-inline'; img-src data: cid:; sandbox; form-action "
	    "'none'; frame-ancestors 'self'");
	assert_null(strstr(csp, "https:"));
	assert_null(strstr(csp, "script"));
	assert_null(strstr(csp, "allow-"));
	assert_string_equal(get(h, n, "X-Frame-Options"), "SAMEORIGIN");
	assert_string_equal(get(h, n, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(get(h, n, "Cache-Control"), "no-store");
	assert_non_null(get(h, n, "Strict-Transport-Security"));

	n = web_secure_headers(WEB_SEC_FRAME_IMAGES, 0, h);
	csp = get(h, n, "Content-Security-Policy");
	assert_non_null(strstr(csp, "img-src data: https:;"));
	assert_null(strstr(csp, "cid:"));
	assert_non_null(strstr(csp, "sandbox"));
	assert_non_null(strstr(csp, "default-src 'none'"));
	assert_string_equal(get(h, n, "X-Frame-Options"), "SAMEORIGIN");
	assert_null(get(h, n, "Strict-Transport-Security"));
}

static void
test_static(void **state)
{
	struct web_header h[WEB_SEC_HEADERS_MAX];
	size_t n = web_secure_headers(WEB_SEC_STATIC, 1, h);

	/* cacheable, yet every other header as on a page */
	assert_null(strstr(get(h, n, "Cache-Control"), "no-store"));
	assert_string_equal(get(h, n, "X-Frame-Options"), "DENY");
	assert_string_equal(get(h, n, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(get(h, n, "Referrer-Policy"), "no-referrer");
	assert_non_null(get(h, n, "Content-Security-Policy"));
	assert_non_null(get(h, n, "Strict-Transport-Security"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_static),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
