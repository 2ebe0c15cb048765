/*
 * test_portal_route.c - unit tests for escrow-web/web_route.c: every
 * route of docs/portal.md, near misses (trailing slash, double slash,
 * dot segments, bad ids and indexes), methods and Allow values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web_route.h"

#define ID "q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE"

static void
test_match(void **state)
{
	static const struct {
		const char *path;
		enum web_route_id id;
		unsigned att;
	} v[] = {
		{ "/", WEB_R_ROOT, 0 },
		{ "/login", WEB_R_LOGIN, 0 },
		{ "/logout", WEB_R_LOGOUT, 0 },
		{ "/enroll", WEB_R_ENROLL, 0 },
		{ "/reset", WEB_R_RESET, 0 },
		{ "/reset/confirm", WEB_R_RESET_CONFIRM, 0 },
		{ "/recall", WEB_R_RECALL, 0 },
		{ "/inbox", WEB_R_INBOX, 0 },
		{ "/static/portal.css", WEB_R_CSS, 0 },
		{ "/m/" ID, WEB_R_MSG, 0 },
		{ "/m/" ID "/html", WEB_R_MSG_HTML, 0 },
		{ "/m/" ID "/reply", WEB_R_MSG_REPLY, 0 },
		{ "/m/" ID "/att/0", WEB_R_MSG_ATT, 0 },
		{ "/m/" ID "/att/7", WEB_R_MSG_ATT, 7 },
		{ "/m/" ID "/att/9999", WEB_R_MSG_ATT, 9999 },
		/* near misses */
		{ "", WEB_R_NOT_FOUND, 0 },
		{ "//", WEB_R_NOT_FOUND, 0 },
		{ "/login/", WEB_R_NOT_FOUND, 0 },
		{ "//login", WEB_R_NOT_FOUND, 0 },
		{ "/LOGIN", WEB_R_NOT_FOUND, 0 },
		{ "/inbox/../login", WEB_R_NOT_FOUND, 0 },
		{ "/static/../static/portal.css", WEB_R_NOT_FOUND, 0 },
		{ "/static/portal.css.map", WEB_R_NOT_FOUND, 0 },
		{ "/static/", WEB_R_NOT_FOUND, 0 },
		{ "/m/", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "x", WEB_R_NOT_FOUND, 0 },
		{ "/m/short", WEB_R_NOT_FOUND, 0 },
		{ "/m/q7Xr0+/bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE",
		  WEB_R_NOT_FOUND, 0 },
		{ "/m/../m/" ID, WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/html/", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/HTML", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/att", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/att/", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/att/01", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/att/-1", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/att/+1", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/att/10000", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/att/99999999999999999999", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/att/1/", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/att/1x", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/att/ 1", WEB_R_NOT_FOUND, 0 },
		{ "/m/" ID "/forward", WEB_R_NOT_FOUND, 0 },
		{ "/recall/", WEB_R_NOT_FOUND, 0 },
		{ "/recall/" ID, WEB_R_NOT_FOUND, 0 },
		{ "/RECALL", WEB_R_NOT_FOUND, 0 },
	};
	struct web_route r;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		web_route_match(v[i].path, &r);
		if (r.id != v[i].id || r.att != v[i].att)
			fail_msg("\"%s\": got route %d att %u, want %d att %u",
			    v[i].path, r.id, r.att, v[i].id, v[i].att);
		if (r.id >= WEB_R_MSG && r.id <= WEB_R_MSG_REPLY)
			assert_string_equal(r.escrow_id, ID);
		else
			assert_string_equal(r.escrow_id, "");
	}
	web_route_match(NULL, &r);
	assert_int_equal(r.id, WEB_R_NOT_FOUND);
}

static void
test_methods(void **state)
{
	assert_int_equal(web_route_method("GET"), WEB_M_GET);
	assert_int_equal(web_route_method("HEAD"), WEB_M_HEAD);
	assert_int_equal(web_route_method("POST"), WEB_M_POST);
	assert_int_equal(web_route_method("get"), 0);
	assert_int_equal(web_route_method("PUT"), 0);
	assert_int_equal(web_route_method(""), 0);

	assert_int_equal(web_route_methods(WEB_R_NOT_FOUND), 0);
	/* state changes only by POST; reads are audited: no HEAD */
	assert_int_equal(web_route_methods(WEB_R_LOGOUT), WEB_M_POST);
	assert_int_equal(web_route_methods(WEB_R_MSG_REPLY), WEB_M_POST);
	assert_int_equal(web_route_methods(WEB_R_MSG), WEB_M_GET);
	assert_int_equal(web_route_methods(WEB_R_MSG_ATT), WEB_M_GET);
	assert_int_equal(web_route_methods(WEB_R_INBOX),
	    WEB_M_GET | WEB_M_HEAD);
	assert_int_equal(web_route_methods(WEB_R_LOGIN),
	    WEB_M_GET | WEB_M_HEAD | WEB_M_POST);

	assert_string_equal(web_route_allow(WEB_R_LOGOUT), "POST");
	assert_string_equal(web_route_allow(WEB_R_CSS), "GET, HEAD");
	assert_string_equal(web_route_allow(WEB_R_MSG_HTML), "GET");
	assert_string_equal(web_route_allow(WEB_R_RESET), "GET, HEAD, POST");
	/* the recall page only looks; the withdrawal is a POST */
	assert_int_equal(web_route_methods(WEB_R_RECALL),
	    WEB_M_GET | WEB_M_HEAD | WEB_M_POST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_methods),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
