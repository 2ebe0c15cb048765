/*
 * test_cidr.c - cidr.c: parsing (v4, v6, v4-mapped, edges, bad syntax)
 * and matching of sockaddrs against lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "cidr.h"

struct parse_case {
	const char *in;
	int family;		/* 0: must fail */
	const char *net;	/* network in inet_ntop form */
	unsigned prefix;
};

static const struct parse_case parse_cases[] = {
	{ "10.0.0.0/8", AF_INET, "10.0.0.0", 8 },
	{ "192.0.2.1", AF_INET, "192.0.2.1", 32 },
	{ "192.0.2.1/32", AF_INET, "192.0.2.1", 32 },
	{ "0.0.0.0/0", AF_INET, "0.0.0.0", 0 },
	{ "255.255.255.255/0", AF_INET, "0.0.0.0", 0 },
	{ "10.1.2.3/8", AF_INET, "10.0.0.0", 8 },	/* host bits masked */
	{ "192.0.2.255/25", AF_INET, "192.0.2.128", 25 },
	{ "192.0.2.255/31", AF_INET, "192.0.2.254", 31 },
	{ "172.31.255.255/12", AF_INET, "172.16.0.0", 12 },
	{ "::1", AF_INET6, "::1", 128 },
	{ "::1/128", AF_INET6, "::1", 128 },
	{ "::/0", AF_INET6, "::", 0 },
	{ "2001:db8::1/32", AF_INET6, "2001:db8::", 32 },
	{ "2001:db8:ffff:ffff::/33", AF_INET6, "2001:db8:8000::", 33 },
	{ "fe80::1234/10", AF_INET6, "fe80::", 10 },
	{ "2001:db8::ff/127", AF_INET6, "2001:db8::fe", 127 },
	/* v4-mapped networks are stored as IPv4 */
	{ "::ffff:192.0.2.1", AF_INET, "192.0.2.1", 32 },
	{ "::ffff:192.0.2.0/120", AF_INET, "192.0.2.0", 24 },
	{ "::ffff:0.0.0.0/96", AF_INET, "0.0.0.0", 0 },
	{ "::ffff:0:0/95", AF_INET6, "::fffe:0:0", 95 },
	/* bad */
	{ "", 0, NULL, 0 },
	{ "/8", 0, NULL, 0 },
	{ "10.0.0.0/", 0, NULL, 0 },
	{ "10.0.0.0/33", 0, NULL, 0 },
	{ "::/129", 0, NULL, 0 },
	{ "10.0.0.0/08", 0, NULL, 0 },
	{ "10.0.0.0/00", 0, NULL, 0 },
	{ "10.0.0.0/-1", 0, NULL, 0 },
	{ "10.0.0.0/+8", 0, NULL, 0 },
	{ "10.0.0.0/8 ", 0, NULL, 0 },
	{ " 10.0.0.0/8", 0, NULL, 0 },
	{ "10.0.0.0/8/8", 0, NULL, 0 },
	{ "10.0.0.0/8x", 0, NULL, 0 },
	{ "10.0.0/8", 0, NULL, 0 },
	{ "10.0.0.0.0/8", 0, NULL, 0 },
	{ "010.0.0.0/8", 0, NULL, 0 },
	{ "256.0.0.0/8", 0, NULL, 0 },
	{ "0x0a.0.0.0/8", 0, NULL, 0 },
	{ "localhost", 0, NULL, 0 },
	{ "10.0.0.0/99999999999999999999999", 0, NULL, 0 },
	{ "2001:db8::1::1/64", 0, NULL, 0 },
	{ "2001:db8:::/64", 0, NULL, 0 },
	{ "fe80::1%eth0/64", 0, NULL, 0 },
	{ "[::1]/128", 0, NULL, 0 },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999/128", 0, NULL, 0 },
	{ "1111:2222:3333:4444:5555:6666:255.255.255.255:1234:5678/128", 0,
	  NULL, 0 },
};

static void
test_parse(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct cidr got;
		char text[INET6_ADDRSTRLEN];
		int r;

		memset(&got, 0xa5, sizeof(got));
		r = cidr_parse(c->in, &got);
		if (c->family == 0) {
			if (r != -1)
				fail_msg("\"%s\": got %d, want -1", c->in, r);
			continue;
		}
		if (r != 0)
			fail_msg("\"%s\": got %d, want 0", c->in, r);
		if (got.family != c->family)
			fail_msg("\"%s\": got family %d, want %d", c->in,
			    got.family, c->family);
		assert_non_null(inet_ntop(got.family, got.addr, text,
		    sizeof(text)));
		if (strcmp(text, c->net) != 0 || got.prefix != c->prefix)
			fail_msg("\"%s\": got %s/%u, want %s/%u", c->in, text,
			    got.prefix, c->net, c->prefix);
		if (got.family == AF_INET) {
			static const unsigned char zero[12];

			/* nothing left over past the IPv4 bytes */
			assert_memory_equal(got.addr + 4, zero, 12);
		}
	}
}

/* test_parse_failure_leaves_output - *out untouched on error */
static void
test_parse_failure_leaves_output(void **state)
{
	struct cidr c, before;

	memset(&c, 0x5a, sizeof(c));
	before = c;
	assert_int_equal(cidr_parse("10.0.0.0/33", &c), -1);
	assert_memory_equal(&c, &before, sizeof(c));
}

static struct sockaddr_in
sin_of(const char *a)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons(25);
	assert_int_equal(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6
sin6_of(const char *a)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	s.sin6_port = htons(25);
	assert_int_equal(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return s;
}

struct match_case {
	const char *list;	/* space separated networks */
	const char *addr;	/* client, v4 or v6 text */
	int want;
};

static const struct match_case match_cases[] = {
	{ "127.0.0.0/8", "127.0.0.1", 1 },
	{ "127.0.0.0/8", "127.255.255.255", 1 },
	{ "127.0.0.0/8", "128.0.0.0", 0 },
	{ "127.0.0.0/8", "126.255.255.255", 0 },
	{ "192.0.2.128/25", "192.0.2.128", 1 },
	{ "192.0.2.128/25", "192.0.2.127", 0 },
	{ "192.0.2.1", "192.0.2.1", 1 },
	{ "192.0.2.1", "192.0.2.2", 0 },
	{ "192.0.2.1/31", "192.0.2.0", 1 },
	{ "0.0.0.0/0", "203.0.113.7", 1 },
	{ "0.0.0.0/0", "::1", 0 },		/* v4 list, v6 client */
	{ "::/0", "203.0.113.7", 0 },		/* v6 list, v4 client */
	{ "::/0", "2001:db8::1", 1 },
	{ "::1/128", "::1", 1 },
	{ "::1/128", "::2", 0 },
	{ "::1", "127.0.0.1", 0 },
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "2001:db8:8000::/33", "2001:db8:7fff::1", 0 },
	{ "2001:db8:8000::/33", "2001:db8:8000::1", 1 },
	{ "2001:db8::fe/127", "2001:db8::ff", 1 },
	{ "2001:db8::fe/127", "2001:db8::fd", 0 },
	/* v4-mapped clients match IPv4 entries */
	{ "127.0.0.0/8", "::ffff:127.0.0.1", 1 },
	{ "10.0.0.0/8", "::ffff:127.0.0.1", 0 },
	{ "0.0.0.0/0", "::ffff:8.8.8.8", 1 },
	{ "::/0", "::ffff:8.8.8.8", 0 },
	/* v4-mapped entries match IPv4 and v4-mapped clients */
	{ "::ffff:192.0.2.0/120", "192.0.2.9", 1 },
	{ "::ffff:192.0.2.0/120", "::ffff:192.0.2.9", 1 },
	{ "::ffff:192.0.2.0/120", "192.0.3.9", 0 },
	/* lists: any entry */
	{ "10.0.0.0/8 172.16.0.0/12 ::1", "172.20.1.1", 1 },
	{ "10.0.0.0/8 172.16.0.0/12 ::1", "::1", 1 },
	{ "10.0.0.0/8 172.16.0.0/12 ::1", "192.168.1.1", 0 },
	{ "", "127.0.0.1", 0 },
};

static void
test_match(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];
		struct cidr list[8];
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
		const struct sockaddr *sa;
		char buf[256], *item, *save = NULL;
		size_t n = 0;
		int got;

		snprintf(buf, sizeof(buf), "%s", c->list);
		for (item = strtok_r(buf, " ", &save); item != NULL;
		    item = strtok_r(NULL, " ", &save)) {
			assert_true(n < 8);
			assert_int_equal(cidr_parse(item, &list[n]), 0);
			n++;
		}
		if (strchr(c->addr, ':') != NULL) {
			sin6 = sin6_of(c->addr);
			sa = (const struct sockaddr *)&sin6;
		} else {
			sin = sin_of(c->addr);
			sa = (const struct sockaddr *)&sin;
		}
		got = cidr_match(list, n, sa);
		if (got != c->want)
			fail_msg("%s in [%s]: got %d, want %d", c->addr,
			    c->list, got, c->want);
	}
}

static void
test_match_odd_input(void **state)
{
	struct sockaddr_storage ss;
	struct cidr all;

	assert_int_equal(cidr_parse("0.0.0.0/0", &all), 0);
	assert_int_equal(cidr_match(&all, 1, NULL), 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_int_equal(cidr_match(&all, 1, (struct sockaddr *)&ss), 0);
	ss.ss_family = AF_UNSPEC;
	assert_int_equal(cidr_match(&all, 1, (struct sockaddr *)&ss), 0);
	assert_int_equal(cidr_match(NULL, 0, (struct sockaddr *)&ss), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_failure_leaves_output),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_odd_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
