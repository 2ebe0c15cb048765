/*
 * test_portal_client.c - unit tests for escrow-web/web_client.c: the
 * client address and scheme behind trusted proxies only, the
 * rightmost-untrusted rule, malformed and oversized X-Forwarded-For.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "web_client.h"
#include "web_limits.h"
#include "lib/buf.h"

static struct sockaddr_storage
sa_of(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return ss;
}

static void
test_table(void **state)
{
	struct cidr trusted[2];
	static const struct {
		const char *what, *peer, *xff, *xfp;
		int tls;
		const char *addr;
		int https, forwarded;
	} v[] = {
		{ "direct TLS", "192.0.2.1", NULL, NULL, 1, "192.0.2.1", 1, 0 },
		{ "direct plain", "192.0.2.1", NULL, NULL, 0, "192.0.2.1", 0,
		  0 },
		{ "untrusted peer: XFF ignored", "192.0.2.1", "203.0.113.9",
		  "https", 0, "192.0.2.1", 0, 0 },
		{ "untrusted peer over TLS: XFP http ignored", "192.0.2.1",
		  NULL, "http", 1, "192.0.2.1", 1, 0 },
		{ "trusted proxy", "127.0.0.1", "203.0.113.9", "https", 0,
		  "203.0.113.9", 1, 1 },
		{ "trusted: client-supplied left part ignored", "127.0.0.1",
		  "6.6.6.6, 203.0.113.9", "https", 0, "203.0.113.9", 1, 1 },
		{ "trusted chain walked", "127.0.0.1",
		  "203.0.113.9, 10.1.2.3, 10.1.2.4", NULL, 0, "203.0.113.9", 0,
		  1 },
		{ "all trusted: leftmost", "127.0.0.1", "10.0.0.1, 10.0.0.2",
		  NULL, 0, "10.0.0.1", 0, 1 },
		{ "malformed rightmost: peer stands", "127.0.0.1",
		  "203.0.113.9, not-an-ip", NULL, 0, "127.0.0.1", 0, 0 },
		{ "malformed further left: last good", "127.0.0.1",
		  "junk, 10.0.0.5", NULL, 0, "10.0.0.5", 0, 1 },
		{ "port on v4", "127.0.0.1", "203.0.113.9:4711", NULL, 0,
		  "203.0.113.9", 0, 1 },
		{ "bracketed v6 with port", "127.0.0.1", "[2001:db8::1]:443",
		  NULL, 0, "2001:db8::1", 0, 1 },
		{ "bare v6", "127.0.0.1", "2001:db8::2", NULL, 0, "2001:db8::2",
		  0, 1 },
		{ "bad port", "127.0.0.1", "203.0.113.9:x", NULL, 0,
		  "127.0.0.1", 0, 0 },
		{ "unclosed bracket", "127.0.0.1", "[2001:db8::1", NULL, 0,
		  "127.0.0.1", 0, 0 },
		{ "empty XFF", "127.0.0.1", "", "HTTPS", 0, "127.0.0.1", 1, 0 },
		{ "XFP last item wins", "127.0.0.1", NULL, "http, https", 0,
		  "127.0.0.1", 1, 0 },
		{ "XFP junk ignored", "127.0.0.1", NULL, "gopher", 1,
		  "127.0.0.1", 1, 0 },
		{ "XFP http over TLS from proxy", "127.0.0.1", NULL, "http", 1,
		  "127.0.0.1", 0, 0 },
		{ "v4-mapped peer is trusted v4", "::ffff:127.0.0.1",
		  "203.0.113.7", NULL, 0, "203.0.113.7", 0, 1 },
		{ "v4-mapped peer printed as v4", "::ffff:192.0.2.5", NULL,
		  NULL, 0, "192.0.2.5", 0, 0 },
		{ "blanks and empty items", "127.0.0.1", " 203.0.113.9 ,  ",
		  NULL, 0, "127.0.0.1", 0, 0 },
	};
	struct web_client c;

	assert_int_equal(cidr_parse("127.0.0.0/8", &trusted[0]), 0);
	assert_int_equal(cidr_parse("10.0.0.0/8", &trusted[1]), 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sockaddr_storage ss = sa_of(v[i].peer);

		web_client_resolve((struct sockaddr *)&ss, trusted, 2,
		    v[i].xff, v[i].xfp, v[i].tls, &c);
		if (strcmp(c.addr, v[i].addr) != 0 ||
		    c.https != v[i].https || c.forwarded != v[i].forwarded)
			fail_msg("%s: got %s https=%d fwd=%d, want %s https=%d "
			    "fwd=%d", v[i].what, c.addr, c.https, c.forwarded,
			    v[i].addr, v[i].https, v[i].forwarded);
	}
}

static void
test_no_trusted(void **state)
{
	struct sockaddr_storage ss = sa_of("127.0.0.1");
	struct web_client c;

	web_client_resolve((struct sockaddr *)&ss, NULL, 0, "203.0.113.9",
	    "https", 0, &c);
	assert_string_equal(c.addr, "127.0.0.1");
	assert_int_equal(c.https, 0);
	web_client_resolve(NULL, NULL, 0, NULL, NULL, 1, &c);
	assert_string_equal(c.addr, "unknown");
	assert_int_equal(c.https, 1);
}

/* a huge header: only its tail is read, and only WEB_XFF_HOPS_MAX hops */
static void
test_huge(void **state)
{
	struct sockaddr_storage ss = sa_of("127.0.0.1");
	struct cidr trusted[1];
	struct web_client c;
	struct buf b;
	size_t i;

	assert_int_equal(cidr_parse("127.0.0.0/8", &trusted[0]), 0);
	buf_init(&b, 1024 * 1024);
	/* a client address far to the left, then thousands of "proxies" */
	assert_int_equal(buf_append_str(&b, "198.51.100.1"), 0);
	for (i = 0; i < 5000; i++)
		assert_int_equal(buf_append_str(&b, ", 127.0.0.9"), 0);
	web_client_resolve((struct sockaddr *)&ss, trusted, 1, buf_cstr(&b),
	    NULL, 0, &c);
	/* the walk stops after WEB_XFF_HOPS_MAX trusted hops */
	assert_string_equal(c.addr, "127.0.0.9");
	buf_reset(&b);
	for (i = 0; i < 400; i++)
		assert_int_equal(buf_append_str(&b, "198.51.100.200, "), 0);
	assert_int_equal(buf_append_str(&b, "203.0.113.44"), 0);
	assert_true(b.len > WEB_XFF_MAX);
	web_client_resolve((struct sockaddr *)&ss, trusted, 1, buf_cstr(&b),
	    NULL, 0, &c);
	assert_string_equal(c.addr, "203.0.113.44");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_no_trusted),
		cmocka_unit_test(test_huge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
