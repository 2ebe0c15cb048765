/*
 * test_portal_cookie.c - unit tests for escrow-web/web_cookie.c: the
 * Cookie header as browsers send it and as attackers might (duplicates,
 * control bytes, quotes, junk pairs, a header at and over the cap),
 * and Set-Cookie values with the fixed attributes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web_cookie.h"
#include "web_limits.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

static void
test_find_table(void **state)
{
	static const struct {
		const char *what, *hdr, *name;
		int rc;
		const char *want;
	} v[] = {
		{ "alone", "sg_session=abc", "sg_session", 1, "abc" },
		{ "among others", "a=1; sg_session=abc; b=2", "sg_session", 1,
		  "abc" },
		{ "no space after ;", "a=1;sg_session=abc;b=2", "sg_session", 1,
		  "abc" },
		{ "blanks around", "  sg_session =  abc  ; x=y", "sg_session", 1,
		  "abc" },
		{ "quoted", "sg_session=\"abc\"", "sg_session", 1, "abc" },
		{ "empty value", "sg_session=", "sg_session", 1, "" },
		{ "absent", "a=1; b=2", "sg_session", 0, "" },
		{ "empty header", "", "sg_session", 0, "" },
		{ "prefix is not a match", "sg_session2=x; xsg_session=y",
		  "sg_session", 0, "" },
		{ "case matters", "SG_SESSION=abc", "sg_session", 0, "" },
		{ "pair without =", "sg_session; a=1", "sg_session", 0, "" },
		{ "value holds =", "sg_pre=a=b", "sg_pre", 1, "a=b" },
		{ "duplicate (cookie tossing)",
		  "sg_session=abc; sg_session=def", "sg_session", -1, "" },
		{ "duplicate, same value", "sg_session=a; sg_session=a",
		  "sg_session", -1, "" },
		{ "duplicate of another name is fine",
		  "a=1; a=2; sg_session=abc", "sg_session", 1, "abc" },
		{ "CR", "sg_session=abc\r\nX: y", "sg_session", -1, "" },
		{ "LF", "sg_session=a\nb", "sg_session", -1, "" },
		{ "DEL", "sg_session=a\x7f", "sg_session", -1, "" },
		{ "tab is allowed", "sg_session=\tabc", "sg_session", 1,
		  "abc" },
		{ "only separators", ";;;;", "sg_session", 0, "" },
		{ "lone quote kept", "sg_session=\"", "sg_session", 1, "\"" },
	};
	struct slice val;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int rc = web_cookie_find(v[i].hdr, strlen(v[i].hdr), v[i].name,
		    &val);
		if (rc != v[i].rc)
			fail_msg("%s: got %d, want %d", v[i].what, rc, v[i].rc);
		if (rc != 1 && val.len != 0)
			fail_msg("%s: a value came back with %d", v[i].what,
			    rc);
		if (rc == 1 && (val.len != strlen(v[i].want) ||
		    memcmp(val.ptr, v[i].want, val.len) != 0))
			fail_msg("%s: got \"%.*s\", want \"%s\"", v[i].what,
			    (int)val.len, val.ptr, v[i].want);
	}
}

/* a NUL byte inside the header: length is authoritative */
static void
test_find_nul(void **state)
{
	static const char hdr[] = "a=1\0; sg_session=abc";
	struct slice val;

	assert_int_equal(web_cookie_find(hdr, sizeof(hdr) - 1, "sg_session",
	    &val), -1);
}

/* the cap: exactly WEB_COOKIE_HDR_MAX passes, one more fails */
static void
test_find_limit(void **state)
{
	char *h = xmalloc(WEB_COOKIE_HDR_MAX + 2);
	struct slice val;
	size_t n;

	memset(h, 'x', WEB_COOKIE_HDR_MAX + 1);
	memcpy(h, "sg_session=abc; y=", 18);
	n = WEB_COOKIE_HDR_MAX;
	assert_int_equal(web_cookie_find(h, n, "sg_session", &val), 1);
	assert_int_equal(val.len, 3);
	assert_int_equal(web_cookie_find(h, n + 1, "sg_session", &val), -1);
	xfree(h);
}

/* a header of many tiny pairs: linear, and still found at the end */
static void
test_find_many_pairs(void **state)
{
	struct buf b;
	struct slice val;

	buf_init(&b, WEB_COOKIE_HDR_MAX);
	while (b.len + 20 < WEB_COOKIE_HDR_MAX)
		assert_int_equal(buf_append_str(&b, "a=;"), 0);
	assert_int_equal(buf_append_str(&b, "sg_pre=zz"), 0);
	assert_int_equal(web_cookie_find(b.data, b.len, "sg_pre", &val), 1);
	assert_int_equal(val.len, 2);
	buf_free(&b);
}

static void
test_build(void **state)
{
	struct buf b;

	buf_init(&b, 1024);
	assert_int_equal(web_cookie_build(&b, "sg_session", "abc-_", -1), 0);
	assert_string_equal(buf_cstr(&b), "sg_session=abc-_; Path=/; "
	    "HttpOnly; Secure; SameSite=Strict");
	buf_reset(&b);
	assert_int_equal(web_cookie_build(&b, "sg_pre", "x", 7200), 0);
	assert_string_equal(buf_cstr(&b), "sg_pre=x; Path=/; Max-Age=7200; "
	    "HttpOnly; Secure; SameSite=Strict");
	buf_reset(&b);
	/* deletion */
	assert_int_equal(web_cookie_build(&b, "sg_session", "", 0), 0);
	assert_string_equal(buf_cstr(&b), "sg_session=; Path=/; Max-Age=0; "
	    "HttpOnly; Secure; SameSite=Strict");
	buf_free(&b);
}

static void
test_build_refuses(void **state)
{
	static const struct {
		const char *name, *value;
	} v[] = {
		{ "", "x" },
		{ "a b", "x" },
		{ "a=b", "x" },
		{ "a;b", "x" },
		{ "ok", "semi;colon" },
		{ "ok", "sp ace" },
		{ "ok", "quo\"te" },
		{ "ok", "back\\slash" },
		{ "ok", "com,ma" },
		{ "ok", "new\r\nline" },
		{ "ok", "\xc3\xa9" },
	};
	struct buf b;

	buf_init(&b, 1024);
	assert_int_equal(buf_append_str(&b, "keep"), 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (web_cookie_build(&b, v[i].name, v[i].value, -1) != -1)
			fail_msg("name \"%s\" value \"%s\": accepted",
			    v[i].name, v[i].value);
		assert_string_equal(buf_cstr(&b), "keep");
	}
	buf_free(&b);
	/* out of room: unchanged */
	buf_init(&b, 20);
	assert_int_equal(buf_append_str(&b, "keep"), 0);
	assert_int_equal(web_cookie_build(&b, "sg_session", "abc", -1), -1);
	assert_string_equal(buf_cstr(&b), "keep");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_table),
		cmocka_unit_test(test_find_nul),
		cmocka_unit_test(test_find_limit),
		cmocka_unit_test(test_find_many_pairs),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
