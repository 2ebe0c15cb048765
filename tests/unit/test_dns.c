/*
 * test_dns.c - unit tests for dns.c.
 *
 * Pure parts first: dns_mx_rdata_parse() over a table of named RDATA
 * (each parsed from an exactly sized heap copy, and every proper prefix
 * of a valid one must fail), the length limits at the edge, the
 * dns_hostname_valid() table and dns_mx_order() with deterministic
 * random numbers. Then the resolver without a DNS server: setup errors,
 * literals, bad names, and the deadline against a UDP port that never
 * answers.
 *
 * Against a real server: with SEALGATE_TEST_DNS="127.0.0.1@PORT" (and
 * SEALGATE_TEST_DNS_TA, the trust anchor file, for the DNSSEC cases)
 * the lookups run against the zones of scripts/dns-test-server.sh
 * (tests/dns/zones/); without it those tests are skipped.
 * tests/integration/t_dns.sh runs them with the server up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dns.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

/* ---- dns_mx_rdata_parse ---- */

#define RD(...)	(const unsigned char[]){ __VA_ARGS__ }, \
	sizeof((const unsigned char[]){ __VA_ARGS__ })

struct rdata_case {
	const char *name;
	const unsigned char *rd;
	size_t len;
	int rc;			/* 0 ok, -1 malformed */
	unsigned pref;
	const char *want;
};

static const struct rdata_case rdata_cases[] = {
	{ "simple", RD(0, 10, 2, 'm', 'x', 7, 'e', 'x', 'a', 'm', 'p', 'l',
	    'e', 3, 'o', 'r', 'g', 0), 0, 10, "mx.example.org" },
	{ "null MX", RD(0, 0, 0), 0, 0, "" },
	{ "root with pref 10", RD(0, 10, 0), 0, 10, "" },
	{ "single label", RD(0, 1, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o',
	    's', 't', 0), 0, 1, "localhost" },
	{ "pref 65535", RD(0xff, 0xff, 1, 'a', 0), 0, 65535, "a" },
	{ "pref 256", RD(1, 0, 1, 'a', 0), 0, 256, "a" },
	{ "upper case lowered", RD(0, 5, 2, 'M', 'X', 3, 'F', 'o', 'O', 0),
	    0, 5, "mx.foo" },
	{ "digits and hyphen", RD(0, 5, 4, 'm', 'x', '-', '1', 1, '9', 0),
	    0, 5, "mx-1.9" },
	{ "underscore kept (checked later)", RD(0, 5, 4, 'm', 'x', '_',
	    '1', 0), 0, 5, "mx_1" },
	/* bad */
	{ "empty", RD(0), -1, 0, NULL },	/* len forced to 0 below */
	{ "one byte", RD(0), -1, 0, NULL },
	{ "pref only", RD(0, 10), -1, 0, NULL },
	{ "no root label", RD(0, 10, 1, 'a'), -1, 0, NULL },
	{ "label longer than rest", RD(0, 10, 5, 'a', 'b', 'c'), -1, 0,
	    NULL },
	{ "label length past end", RD(0, 10, 1, 'a', 3), -1, 0, NULL },
	{ "compression pointer", RD(0, 10, 0xc0, 0x0c), -1, 0, NULL },
	{ "pointer after label", RD(0, 10, 2, 'm', 'x', 0xc0, 0x0c), -1, 0,
	    NULL },
	{ "extended label 0x40", RD(0, 10, 0x41, 'a', 0), -1, 0, NULL },
	{ "extended label 0x80", RD(0, 10, 0x81, 'a', 0), -1, 0, NULL },
	{ "trailing byte", RD(0, 10, 1, 'a', 0, 0), -1, 0, NULL },
	{ "trailing bytes after root", RD(0, 0, 0, 'x', 'y'), -1, 0, NULL },
	{ "dot inside label", RD(0, 10, 3, 'a', '.', 'b', 0), -1, 0, NULL },
	{ "NUL inside label", RD(0, 10, 3, 'a', 0, 'b', 0), -1, 0, NULL },
	{ "space inside label", RD(0, 10, 3, 'a', ' ', 'b', 0), -1, 0,
	    NULL },
	{ "backslash inside label", RD(0, 10, 3, 'a', '\\', 'b', 0), -1, 0,
	    NULL },
	{ "DEL inside label", RD(0, 10, 3, 'a', 0x7f, 'b', 0), -1, 0, NULL },
	{ "8-bit inside label", RD(0, 10, 3, 'a', 0xc3, 'b', 0), -1, 0,
	    NULL },
	{ "control inside label", RD(0, 10, 3, 'a', '\n', 'b', 0), -1, 0,
	    NULL },
};

/* rdata_run - parse rd[0..len) from an exact heap copy */
static int
rdata_run(const unsigned char *rd, size_t len, unsigned *pref,
    char name[DNS_NAME_MAX + 1])
{
	unsigned char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, rd, len);
	rc = dns_mx_rdata_parse(len ? copy : NULL, len, pref, name);
	free(copy);
	return rc;
}

static void
test_rdata_table(void **state)
{
	char name[DNS_NAME_MAX + 1];
	unsigned pref;
	size_t i, k, len;
	int rc, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(rdata_cases) / sizeof(rdata_cases[0]); i++) {
		const struct rdata_case *c = &rdata_cases[i];

		len = strcmp(c->name, "empty") == 0 ? 0 : c->len;
		pref = 12345;
		rc = rdata_run(c->rd, len, &pref, name);
		if (rc != c->rc) {
			print_error("%s: got rc %d, want %d\n", c->name, rc,
			    c->rc);
			bad++;
			continue;
		}
		if (rc != 0) {
			if (name[0] != '\0') {
				print_error("%s: failed but name is \"%s\"\n",
				    c->name, name);
				bad++;
			}
			continue;
		}
		if (pref != c->pref || strcmp(name, c->want) != 0) {
			print_error("%s: got %u \"%s\", want %u \"%s\"\n",
			    c->name, pref, name, c->pref, c->want);
			bad++;
		}
		/* every proper prefix of a valid RDATA is malformed */
		for (k = 0; k < len; k++) {
			if (rdata_run(c->rd, k, &pref, name) != -1) {
				print_error("%s: prefix of %zu bytes "
				    "accepted\n", c->name, k);
				bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
}

/* rdata_build - MX RDATA for pref and labels of the given lengths */
static size_t
rdata_build(unsigned char *rd, size_t cap, const size_t *labels, size_t n)
{
	size_t pos = 2, i, j;

	rd[0] = 0;
	rd[1] = 7;
	for (i = 0; i < n; i++) {
		assert_true(pos + 1 + labels[i] < cap);
		rd[pos++] = (unsigned char)labels[i];
		for (j = 0; j < labels[i]; j++)
			rd[pos++] = (unsigned char)('a' + (i + j) % 26);
	}
	rd[pos++] = 0;
	return pos;
}

static void
test_rdata_label_limit(void **state)
{
	unsigned char rd[600];
	char name[DNS_NAME_MAX + 1];
	size_t l63[] = { 63, 3 }, l64[] = { 64, 3 };
	unsigned pref;
	size_t len;

	(void)state;
	len = rdata_build(rd, sizeof(rd), l63, 2);
	assert_int_equal(rdata_run(rd, len, &pref, name), 0);
	assert_int_equal(strlen(name), 63 + 1 + 3);
	assert_int_equal(pref, 7);
	len = rdata_build(rd, sizeof(rd), l64, 2);
	assert_int_equal(rdata_run(rd, len, &pref, name), -1);
}

static void
test_rdata_name_limit(void **state)
{
	unsigned char rd[600];
	char name[DNS_NAME_MAX + 1];
	/* wire length: 3 * (1 + 63) + (1 + 61) + 1 root = 255 */
	size_t n255[] = { 63, 63, 63, 61 }, n256[] = { 63, 63, 63, 62 };
	/* many short labels: 127 * 2 + 1 = 255, 128 * 2 + 1 = 257 */
	size_t many[128];
	unsigned pref;
	size_t len, i;

	(void)state;
	len = rdata_build(rd, sizeof(rd), n255, 4);
	assert_int_equal(len, 2 + 255);
	assert_int_equal(rdata_run(rd, len, &pref, name), 0);
	assert_int_equal(strlen(name), 253);
	len = rdata_build(rd, sizeof(rd), n256, 4);
	assert_int_equal(len, 2 + 256);
	assert_int_equal(rdata_run(rd, len, &pref, name), -1);
	for (i = 0; i < 128; i++)
		many[i] = 1;
	len = rdata_build(rd, sizeof(rd), many, 127);
	assert_int_equal(rdata_run(rd, len, &pref, name), 0);
	assert_int_equal(strlen(name), 253);
	len = rdata_build(rd, sizeof(rd), many, 128);
	assert_int_equal(rdata_run(rd, len, &pref, name), -1);
}

/* ---- dns_hostname_valid ---- */

struct host_case {
	const char *name;
	int valid;
};

static const struct host_case host_cases[] = {
	{ "mx.example.org", 1 },
	{ "MX.Example.ORG", 1 },
	{ "localhost", 1 },
	{ "a", 1 },
	{ "mx-1.example.org", 1 },
	{ "1mx.example.org", 1 },
	{ "123.example.org", 1 },
	{ "a1.b2.c3", 1 },
	{ "example.x1", 1 },
	{ "xn--bcher-kva.example", 1 },
	{ "", 0 },
	{ ".", 0 },
	{ "example.org.", 0 },		/* callers strip the root dot */
	{ ".example.org", 0 },
	{ "mx..example.org", 0 },
	{ "-mx.example.org", 0 },
	{ "mx-.example.org", 0 },
	{ "mx.example.org-", 0 },
	{ "mx_1.example.org", 0 },
	{ "mx 1.example.org", 0 },
	{ "mx*.example.org", 0 },
	{ "m\xc3\xbc.example", 0 },
	{ "192.0.2.1", 0 },
	{ "10.1", 0 },
	{ "1", 0 },
	{ "mx.123", 0 },
	{ "2001:db8::1", 0 },
	{ "[192.0.2.1]", 0 },
	{ "mx.example.-", 0 },
};

static void
test_hostname_table(void **state)
{
	size_t i;
	int bad = 0, got;

	(void)state;
	for (i = 0; i < sizeof(host_cases) / sizeof(host_cases[0]); i++) {
		got = dns_hostname_valid(host_cases[i].name);
		if (got != host_cases[i].valid) {
			print_error("\"%s\": got %d, want %d\n",
			    host_cases[i].name, got, host_cases[i].valid);
			bad++;
		}
	}
	assert_int_equal(dns_hostname_valid(NULL), 0);
	assert_int_equal(bad, 0);
}

static void
test_hostname_limits(void **state)
{
	char name[300];
	size_t i;

	(void)state;
	/* label of 63 ok, 64 not */
	memset(name, 'a', 63);
	name[63] = '\0';
	assert_int_equal(dns_hostname_valid(name), 1);
	memset(name, 'a', 64);
	name[64] = '\0';
	assert_int_equal(dns_hostname_valid(name), 0);
	/* 253 characters ok, 254 not: "a.a.a....a" */
	for (i = 0; i < 253; i++)
		name[i] = (i % 2) ? '.' : 'a';
	name[253] = '\0';
	assert_int_equal(dns_hostname_valid(name), 1);
	name[253] = '.';
	name[254] = 'a';
	name[255] = '\0';
	assert_int_equal(dns_hostname_valid(name), 0);
}

/* ---- dns_mx_order ---- */

/* rnd_seq - hands out the numbers of an array in turn, then 0 */
struct rnd_seq {
	const unsigned *v;
	size_t n, next, calls;
};

static unsigned
rnd_next(void *arg)
{
	struct rnd_seq *s = arg;

	s->calls++;
	if (s->next < s->n)
		return s->v[s->next++];
	return 0;
}

static void
hosts_make(struct dns_mx_host *h, const char *const *names,
    const unsigned *prefs, size_t n)
{
	size_t i;

	memset(h, 0, n * sizeof(*h));
	for (i = 0; i < n; i++) {
		snprintf(h[i].name, sizeof(h[i].name), "%s", names[i]);
		h[i].pref = prefs[i];
	}
}

/* hosts_names - "a b c" */
static const char *
hosts_names(const struct dns_mx_host *h, size_t n, char *out, size_t len)
{
	struct buf b;
	size_t i;

	buf_init(&b, len - 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_append_char(&b, ' ');
		buf_append_str(&b, h[i].name);
	}
	snprintf(out, len, "%s", buf_cstr(&b));
	buf_free(&b);
	return out;
}

static void
test_order_small(void **state)
{
	struct dns_mx_host h[2];
	const char *names[] = { "a", "b" };
	const unsigned prefs[] = { 10, 10 };
	struct rnd_seq s = { NULL, 0, 0, 0 };

	(void)state;
	dns_mx_order(NULL, 0, rnd_next, &s);
	dns_mx_order(h, 0, rnd_next, &s);
	hosts_make(h, names, prefs, 1);
	dns_mx_order(h, 1, rnd_next, &s);
	assert_string_equal(h[0].name, "a");
	assert_int_equal(h[0].pref, 10);
	assert_int_equal(s.calls, 0);
}

struct order_case {
	const char *name;
	const char *hosts;	/* names; prefs in prefs[] */
	unsigned prefs[8];
	size_t n;
	unsigned rnd[8];
	size_t nrnd;
	const char *want;
};

static const struct order_case order_cases[] = {
	{ "sorted stays sorted", "a b c", { 10, 20, 30 }, 3, { 0 }, 0,
	    "a b c" },
	{ "reversed gets sorted", "c b a", { 30, 20, 10 }, 3, { 0 }, 0,
	    "a b c" },
	{ "unsorted", "d a c b", { 40, 10, 30, 20 }, 4, { 0 }, 0,
	    "a b c d" },
	/* Fisher-Yates over a run of 2: k = rnd % 2; 1 keeps, 0 swaps */
	{ "pair kept", "a b", { 10, 10 }, 2, { 1 }, 1, "a b" },
	{ "pair swapped", "a b", { 10, 10 }, 2, { 0 }, 1, "b a" },
	{ "pair, big number", "a b", { 5, 5 }, 2, { 0xffffffffu }, 1,
	    "a b" },
	/* run of 3: j=3 swaps [k] and [2], then j=2 swaps [k] and [1] */
	{ "three, identity", "a b c", { 1, 1, 1 }, 3, { 2, 1 }, 2,
	    "a b c" },
	{ "three, rnd 0", "a b c", { 1, 1, 1 }, 3, { 0, 0 }, 2, "b c a" },
	/* runs are shuffled separately, never across preferences */
	{ "two runs", "x1 y1 x2 y2 z", { 10, 20, 10, 20, 30 }, 5,
	    { 0, 0 }, 2, "x2 x1 y2 y1 z" },
	{ "low pref first, equal shuffled", "mxa mx0 mxb", { 10, 5, 10 }, 3,
	    { 0 }, 1, "mx0 mxb mxa" },
};

static void
test_order_table(void **state)
{
	struct dns_mx_host h[8];
	const char *names[8];
	char buf[256], words[256], *p;
	size_t i, k, n;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(order_cases) / sizeof(order_cases[0]); i++) {
		const struct order_case *c = &order_cases[i];
		struct rnd_seq s = { c->rnd, c->nrnd, 0, 0 };

		snprintf(words, sizeof(words), "%s", c->hosts);
		n = 0;
		for (p = words; n < 8 && *p != '\0'; ) {
			names[n++] = p;
			p += strcspn(p, " ");
			if (*p == ' ')
				*p++ = '\0';
		}
		assert_int_equal(n, c->n);
		hosts_make(h, names, c->prefs, n);
		dns_mx_order(h, n, rnd_next, &s);
		hosts_names(h, n, buf, sizeof(buf));
		if (strcmp(buf, c->want) != 0) {
			print_error("%s: got \"%s\", want \"%s\"\n", c->name,
			    buf, c->want);
			bad++;
		}
		for (k = 1; k < n; k++)
			if (h[k - 1].pref > h[k].pref)
				bad++;
	}
	assert_int_equal(bad, 0);
}

/* every order of three equal hosts comes out for some random numbers,
 * each exactly once over the 3 * 2 choices (no bias, none missing) */
static void
test_order_all_permutations(void **state)
{
	static const char *const perms[6] = {
		"a b c", "a c b", "b a c", "b c a", "c a b", "c b a"
	};
	const char *names[] = { "a", "b", "c" };
	const unsigned prefs[] = { 7, 7, 7 };
	struct dns_mx_host h[3];
	unsigned v[2];
	char buf[64];
	int seen[6] = { 0 };
	size_t i;

	(void)state;
	for (v[0] = 0; v[0] < 3; v[0]++) {
		for (v[1] = 0; v[1] < 2; v[1]++) {
			struct rnd_seq s = { v, 2, 0, 0 };

			hosts_make(h, names, prefs, 3);
			dns_mx_order(h, 3, rnd_next, &s);
			assert_int_equal(s.calls, 2);
			hosts_names(h, 3, buf, sizeof(buf));
			for (i = 0; i < 6; i++)
				if (strcmp(buf, perms[i]) == 0)
					seen[i]++;
		}
	}
	for (i = 0; i < 6; i++)
		assert_int_equal(seen[i], 1);
}

/* the host's other fields travel with it */
static void
test_order_moves_whole_hosts(void **state)
{
	const char *names[] = { "b", "a" };
	const unsigned prefs[] = { 20, 10 };
	struct dns_mx_host h[2];
	struct dns_addr addr;

	(void)state;
	memset(&addr, 0, sizeof(addr));
	hosts_make(h, names, prefs, 2);
	h[0].addrs = &addr;
	h[0].naddrs = 1;
	h[0].secure = 1;
	h[0].status = DNS_TEMPFAIL;
	dns_mx_order(h, 2, NULL, NULL);
	assert_string_equal(h[1].name, "b");
	assert_ptr_equal(h[1].addrs, &addr);
	assert_int_equal(h[1].naddrs, 1);
	assert_int_equal(h[1].secure, 1);
	assert_int_equal(h[1].status, DNS_TEMPFAIL);
	assert_null(h[0].addrs);
}

/* the default (system) randomness reaches both orders of a pair */
static void
test_order_system_random(void **state)
{
	const char *names[] = { "a", "b" };
	const unsigned prefs[] = { 10, 10 };
	struct dns_mx_host h[2];
	int first_a = 0, first_b = 0, i;

	(void)state;
	for (i = 0; i < 200 && (first_a == 0 || first_b == 0); i++) {
		hosts_make(h, names, prefs, 2);
		dns_mx_order(h, 2, NULL, NULL);
		if (h[0].name[0] == 'a')
			first_a++;
		else
			first_b++;
	}
	assert_true(first_a > 0 && first_b > 0);
}

/* ---- resolver without a DNS server ---- */

static struct dns_resolver *
resolver_fwd(const char *fwd, unsigned timeout_ms, int ipv6)
{
	const char *fw[1] = { fwd };
	const char *zones[1] = { "test" };
	struct dns_conf c;
	struct dns_resolver *r;
	char *err = NULL;

	memset(&c, 0, sizeof(c));
	c.forwarders = fw;
	c.nforwarders = 1;
	c.timeout_ms = timeout_ms;
	c.ipv6 = ipv6;
	c.allow_zones = zones;
	c.nallow_zones = 1;
	r = dns_resolver_new(&c, &err);
	if (r == NULL)
		print_error("dns_resolver_new: %s\n", err ? err : "?");
	xfree(err);
	assert_non_null(r);
	return r;
}

/* setup_error - dns_resolver_new(c) must fail with a reason containing
 * want */
static void
setup_error(const struct dns_conf *c, const char *want)
{
	struct dns_resolver *r;
	char *err = NULL;

	r = dns_resolver_new(c, &err);
	assert_null(r);
	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("got error \"%s\", want one with \"%s\"", err, want);
	xfree(err);
}

static void
test_setup_errors(void **state)
{
	const char *bad_fwd[] = { "127.0.0.1@notaport" };
	const char *bad_fwd2[] = { "not an address" };
	const char *good_fwd[] = { "127.0.0.1@53" };
	const char *bad_zone[] = { "te st" };
	char tmpl[] = "/tmp/test_dns_ta.XXXXXX";
	struct dns_conf c;
	int fd;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.forwarders = bad_fwd;
	c.nforwarders = 1;
	setup_error(&c, "forwarder \"127.0.0.1@notaport\"");
	c.forwarders = bad_fwd2;
	setup_error(&c, "forwarder");

	c.forwarders = good_fwd;
	c.trust_anchor_file = "/nonexistent/ta.keys";
	setup_error(&c, "/nonexistent/ta.keys");

	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_true(write(fd, "this is not a zone file\n", 24) == 24);
	close(fd);
	c.trust_anchor_file = tmpl;
	setup_error(&c, tmpl);
	unlink(tmpl);

	c.trust_anchor_file = NULL;
	c.allow_zones = bad_zone;
	c.nallow_zones = 1;
	setup_error(&c, "allow_zones");
}

static void
test_free_null(void **state)
{
	struct dns_resolver *r = NULL;
	struct dns_mx_result res;

	(void)state;
	dns_resolver_free(NULL);
	dns_resolver_free(&r);
	memset(&res, 0, sizeof(res));
	dns_mx_result_free(&res);
	dns_mx_result_free(&res);
	dns_mx_result_free(NULL);
}

struct literal_case {
	const char *in;
	const char *text;	/* NULL: not a literal (bad name) */
	int family;
};

static const struct literal_case literal_cases[] = {
	{ "192.0.2.1", "192.0.2.1", AF_INET },
	{ "[192.0.2.1]", "192.0.2.1", AF_INET },
	{ "2001:db8::1", "2001:db8::1", AF_INET6 },
	{ "[2001:DB8:0::1]", "2001:db8::1", AF_INET6 },
	{ "[IPv6:2001:db8::1]", "2001:db8::1", AF_INET6 },
	{ "[ipv6:::1]", "::1", AF_INET6 },
	{ "::ffff:192.0.2.1", "::ffff:192.0.2.1", AF_INET6 },
	{ "[]", NULL, 0 },
	{ "[192.0.2.1", NULL, 0 },
	{ "192.0.2.256", NULL, 0 },
	{ "192.0.2", NULL, 0 },
	{ "[IPv6:192.0.2.1]", NULL, 0 },
	{ "[IPv6:]", NULL, 0 },
};

static void
test_lookup_host_literal(void **state)
{
	struct dns_resolver *r;
	struct dns_mx_result res;
	const struct dns_addr *a;
	size_t i;

	(void)state;
	/* nothing listens on port 9: a query would time out */
	r = resolver_fwd("127.0.0.1@9", 200, 1);
	for (i = 0; i < sizeof(literal_cases) / sizeof(literal_cases[0]);
	    i++) {
		const struct literal_case *c = &literal_cases[i];

		dns_lookup_host(r, c->in, &res);
		if (c->text == NULL) {
			if (res.status != DNS_NXDOMAIN)
				fail_msg("%s: got status %d, want NXDOMAIN",
				    c->in, res.status);
			assert_int_equal(res.nhosts, 0);
			assert_non_null(strstr(res.why, "not a valid host"));
			dns_mx_result_free(&res);
			continue;
		}
		assert_int_equal(res.status, DNS_OK);
		assert_int_equal(res.nhosts, 1);
		assert_int_equal(res.hosts[0].naddrs, 1);
		assert_int_equal(res.hosts[0].pref, 0);
		assert_int_equal(res.hosts[0].status, DNS_OK);
		a = &res.hosts[0].addrs[0];
		assert_string_equal(a->text, c->text);
		assert_string_equal(res.hosts[0].name, c->text);
		assert_int_equal(a->ss.ss_family, c->family);
		assert_int_equal(a->len, c->family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		if (c->family == AF_INET)
			assert_int_equal(((const struct sockaddr_in *)
			    &a->ss)->sin_port, 0);
		else
			assert_int_equal(((const struct sockaddr_in6 *)
			    &a->ss)->sin6_port, 0);
		dns_mx_result_free(&res);
		assert_null(res.hosts);
	}
	dns_resolver_free(&r);
	assert_null(r);
}

/* names that are not host names never reach the network */
static void
test_lookup_bad_names(void **state)
{
	static const char *const bad[] = {
		"", ".", "..", "exa mple.org", "example..org", "-x.org",
		"192.0.2.1", "[192.0.2.1]", "ex_ample.org", "\xc3\xa9.org",
		"a.b.c.123",
	};
	struct dns_resolver *r;
	struct dns_mx_result res;
	size_t i;

	(void)state;
	r = resolver_fwd("127.0.0.1@9", 200, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dns_lookup_mx(r, bad[i], &res), DNS_NXDOMAIN);
		assert_int_equal(res.nhosts, 0);
		assert_non_null(strstr(res.why, "not a valid domain"));
		dns_mx_result_free(&res);
	}
	assert_int_equal(dns_lookup_mx(r, NULL, &res), DNS_NXDOMAIN);
	dns_mx_result_free(&res);
	dns_resolver_free(&r);
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* a forwarder that never answers: each call ends at its deadline with
 * TEMPFAIL, and the resolver still works (and frees) afterwards */
static void
test_timeout(void **state)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct dns_resolver *r;
	struct dns_mx_result res;
	struct timespec t0;
	char fwd[64];
	long ms;
	int s, i;

	(void)state;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &sl), 0);
	snprintf(fwd, sizeof(fwd), "127.0.0.1@%u",
	    (unsigned)ntohs(sin.sin_port));

	r = resolver_fwd(fwd, 300, 1);
	for (i = 0; i < 2; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(dns_lookup_mx(r, i ? "other.example" :
		    "example.org", &res), DNS_TEMPFAIL);
		ms = ms_since(&t0);
		if (ms < 250 || ms > 2000)
			fail_msg("lookup took %ld ms, want about 300", ms);
		assert_non_null(strstr(res.why, "no answer within 300 ms"));
		assert_int_equal(res.nhosts, 0);
		dns_mx_result_free(&res);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(dns_lookup_host(r, "mx.example.org", &res),
	    DNS_TEMPFAIL);
	ms = ms_since(&t0);
	assert_true(ms >= 250 && ms <= 2000);
	assert_int_equal(res.nhosts, 1);
	assert_int_equal(res.hosts[0].status, DNS_TEMPFAIL);
	assert_int_equal(res.hosts[0].secure, 0);
	dns_mx_result_free(&res);
	dns_resolver_free(&r);
	close(s);
}

/* ---- against the test DNS server (scripts/dns-test-server.sh) ---- */

static const char *
test_server(void)
{
	const char *s = getenv("SEALGATE_TEST_DNS");

	return s != NULL && *s != '\0' ? s : NULL;
}

/* server_resolver - a resolver for the test server; trust anchors from
 * SEALGATE_TEST_DNS_TA when want_ta; skips the test without a server */
static struct dns_resolver *
server_resolver(int ipv6, int want_ta, int allow_test)
{
	const char *fw[1], *ta = getenv("SEALGATE_TEST_DNS_TA");
	const char *zones[1] = { "test." };
	struct dns_conf c;
	struct dns_resolver *r;
	char *err = NULL;

	fw[0] = test_server();
	if (fw[0] == NULL) {
		skip();
		return NULL;
	}
	if (want_ta && (ta == NULL || *ta == '\0'))
		fail_msg("SEALGATE_TEST_DNS is set but SEALGATE_TEST_DNS_TA "
		    "(the trust anchor file) is not");
	memset(&c, 0, sizeof(c));
	c.forwarders = fw;
	c.nforwarders = 1;
	c.timeout_ms = 5000;
	c.ipv6 = ipv6;
	c.trust_anchor_file = want_ta ? ta : NULL;
	if (allow_test) {
		c.allow_zones = zones;
		c.nallow_zones = 1;
	}
	r = dns_resolver_new(&c, &err);
	if (r == NULL)
		fail_msg("dns_resolver_new: %s", err ? err : "?");
	return r;
}

struct want_host {
	const char *name;
	unsigned pref;
	enum dns_status status;
	const char *addrs;	/* sorted, comma separated */
	int secure;		/* -1: do not care */
};

struct mx_case {
	const char *domain;
	int ipv6;
	enum dns_status status;
	int implicit;
	int secure;		/* -1: do not care */
	size_t nhosts;
	struct want_host hosts[4];
	const char *why;	/* substring of why, or NULL */
};

static const struct mx_case mx_cases[] = {
	{ "plain.test", 1, DNS_OK, 0, 0, 1, {
	    { "mx1.plain.test", 10, DNS_OK, "127.0.0.21", 0 } }, NULL },
	{ "PLAIN.Test.", 1, DNS_OK, 0, 0, 1, {
	    { "mx1.plain.test", 10, DNS_OK, "127.0.0.21", 0 } }, NULL },
	{ "tls.test", 0, DNS_OK, 0, 0, 1, {
	    { "mx.tls.test", 10, DNS_OK, "127.0.0.22", 0 } }, NULL },
	{ "multi.test", 1, DNS_OK, 0, 0, 3, {
	    { "mx0.multi.test", 5, DNS_OK, "127.0.0.30", 0 },
	    { "mxa.multi.test", 10, DNS_OK, "127.0.0.31", 0 },
	    { "mxb.multi.test", 10, DNS_OK, "127.0.0.32,127.0.0.33", 0 } },
	    NULL },
	{ "nullmx.test", 1, DNS_NULL_MX, 0, 0, 0, { { NULL, 0, 0, NULL, 0 } },
	    "null MX" },
	{ "nullmulti.test", 1, DNS_NULL_MX, 0, 0, 0,
	    { { NULL, 0, 0, NULL, 0 } }, "null MX" },
	{ "nomx.test", 1, DNS_OK, 1, 0, 1, {
	    { "nomx.test", 0, DNS_OK, "127.0.0.25", 0 } }, NULL },
	{ "empty.test", 1, DNS_NO_ADDRESS, 1, 0, 1, {
	    { "empty.test", 0, DNS_NO_ADDRESS, "", 0 } },
	    "no MX and no address" },
	{ "nxdomain.test", 1, DNS_NXDOMAIN, 0, 0, 0,
	    { { NULL, 0, 0, NULL, 0 } }, "NXDOMAIN" },
	{ "nx.plain.test", 1, DNS_NXDOMAIN, 0, 0, 0,
	    { { NULL, 0, 0, NULL, 0 } }, "NXDOMAIN" },
	{ "v6.test", 1, DNS_OK, 0, 0, 1, {
	    { "mx.v6.test", 10, DNS_OK, "::1", 0 } }, NULL },
	{ "v6.test", 0, DNS_NO_ADDRESS, 0, 0, 1, {
	    { "mx.v6.test", 10, DNS_NO_ADDRESS, "", 0 } }, "no MX host" },
	{ "dual.v6.test", 1, DNS_OK, 0, 0, 1, {
	    { "mx.dual.v6.test", 10, DNS_OK, "127.0.0.26,::1", 0 } }, NULL },
	{ "dual.v6.test", 0, DNS_OK, 0, 0, 1, {
	    { "mx.dual.v6.test", 10, DNS_OK, "127.0.0.26", 0 } }, NULL },
	{ "dup.odd.test", 1, DNS_OK, 0, 0, 1, {
	    { "mx.dup.odd.test", 10, DNS_OK, "127.0.0.40", 0 } }, NULL },
	{ "literal.odd.test", 1, DNS_OK, 0, 0, 1, {
	    { "mx.literal.odd.test", 20, DNS_OK, "127.0.0.41", 0 } }, NULL },
	{ "partial.odd.test", 1, DNS_OK, 0, 0, 2, {
	    { "gone.partial.odd.test", 10, DNS_NXDOMAIN, "", 0 },
	    { "mx.partial.odd.test", 20, DNS_OK, "127.0.0.42", 0 } }, NULL },
	{ "noaddr.odd.test", 1, DNS_NO_ADDRESS, 0, 0, 1, {
	    { "gone.noaddr.odd.test", 10, DNS_NXDOMAIN, "", 0 } },
	    "no MX host has an address" },
	{ "cname.odd.test", 1, DNS_OK, 0, 0, 1, {
	    { "alias.cname.odd.test", 10, DNS_OK, "127.0.0.43", 0 } }, NULL },
	{ "bad.odd.test", 1, DNS_NO_ADDRESS, 0, 0, 0,
	    { { NULL, 0, 0, NULL, 0 } }, "not a host name" },
	{ "refused.test", 1, DNS_TEMPFAIL, 0, 0, 0,
	    { { NULL, 0, 0, NULL, 0 } }, "SERVFAIL" },
	{ "x.refused.test", 1, DNS_TEMPFAIL, 0, 0, 0,
	    { { NULL, 0, 0, NULL, 0 } }, "refused.test MX" },
	/* outside .test the server refuses at once */
	{ "example.com", 1, DNS_TEMPFAIL, 0, 0, 0,
	    { { NULL, 0, 0, NULL, 0 } }, NULL },
};

/* addrs_joined - a host's address texts, sorted, comma separated; and
 * every IPv4 one before every IPv6 one */
static void
addrs_joined(const struct dns_mx_host *h, char *out, size_t len)
{
	const char *t[DNS_ADDRS_MAX];
	const char *tmp;
	struct buf b;
	size_t i, j;
	int seen6 = 0;

	assert_true(h->naddrs <= DNS_ADDRS_MAX);
	for (i = 0; i < h->naddrs; i++) {
		t[i] = h->addrs[i].text;
		if (h->addrs[i].ss.ss_family == AF_INET6)
			seen6 = 1;
		else if (seen6)
			fail_msg("%s: IPv4 address after IPv6", h->name);
	}
	for (i = 1; i < h->naddrs; i++)
		for (j = i; j > 0 && strcmp(t[j - 1], t[j]) > 0; j--) {
			tmp = t[j];
			t[j] = t[j - 1];
			t[j - 1] = tmp;
		}
	buf_init(&b, len - 1);
	for (i = 0; i < h->naddrs; i++) {
		if (i > 0)
			buf_append_char(&b, ',');
		buf_append_str(&b, t[i]);
	}
	snprintf(out, len, "%s", buf_cstr(&b));
	buf_free(&b);
}

/* check_result - res against the case; returns the number of problems */
static int
check_result(const char *what, const struct dns_mx_result *res,
    enum dns_status status, int implicit, int secure, size_t nhosts,
    const struct want_host *hosts, const char *why)
{
	char addrs[512];
	size_t i, k;
	int bad = 0;

	if (res->status != status) {
		print_error("%s: got status %d (%s), want %d\n", what,
		    res->status, res->why, status);
		return 1;
	}
	if (res->implicit != implicit) {
		print_error("%s: got implicit %d, want %d\n", what,
		    res->implicit, implicit);
		bad++;
	}
	if (secure >= 0 && res->secure != secure) {
		print_error("%s: got secure %d, want %d\n", what, res->secure,
		    secure);
		bad++;
	}
	if (why != NULL && strstr(res->why, why) == NULL) {
		print_error("%s: got why \"%s\", want \"%s\" in it\n", what,
		    res->why, why);
		bad++;
	}
	if (status == DNS_OK && res->why[0] != '\0') {
		print_error("%s: OK with why \"%s\"\n", what, res->why);
		bad++;
	}
	if (res->nhosts != nhosts) {
		print_error("%s: got %zu hosts, want %zu\n", what, res->nhosts,
		    nhosts);
		return bad + 1;
	}
	for (i = 1; i < res->nhosts; i++) {
		if (res->hosts[i - 1].pref > res->hosts[i].pref) {
			print_error("%s: hosts not in preference order\n",
			    what);
			bad++;
		}
	}
	for (k = 0; k < nhosts; k++) {
		const struct want_host *w = &hosts[k];
		const struct dns_mx_host *h = NULL;

		for (i = 0; i < res->nhosts; i++)
			if (strcmp(res->hosts[i].name, w->name) == 0)
				h = &res->hosts[i];
		if (h == NULL) {
			print_error("%s: host %s missing\n", what, w->name);
			bad++;
			continue;
		}
		addrs_joined(h, addrs, sizeof(addrs));
		if (h->pref != w->pref || h->status != w->status ||
		    strcmp(addrs, w->addrs) != 0 ||
		    (w->secure >= 0 && h->secure != w->secure)) {
			print_error("%s: host %s: got pref %u status %d "
			    "addrs \"%s\" secure %d, want %u %d \"%s\" %d\n",
			    what, h->name, h->pref, h->status, addrs,
			    h->secure, w->pref, w->status, w->addrs,
			    w->secure);
			bad++;
		}
	}
	return bad;
}

static void
test_server_mx_table(void **state)
{
	struct dns_resolver *r4, *r6;
	struct dns_mx_result res;
	char what[300];
	size_t i;
	int bad = 0;

	(void)state;
	r4 = server_resolver(0, 0, 1);
	r6 = server_resolver(1, 0, 1);
	for (i = 0; i < sizeof(mx_cases) / sizeof(mx_cases[0]); i++) {
		const struct mx_case *c = &mx_cases[i];

		snprintf(what, sizeof(what), "%s (ipv6=%d)", c->domain,
		    c->ipv6);
		dns_lookup_mx(c->ipv6 ? r6 : r4, c->domain, &res);
		bad += check_result(what, &res, c->status, c->implicit,
		    c->secure, c->nhosts, c->hosts, c->why);
		dns_mx_result_free(&res);
	}
	dns_resolver_free(&r4);
	dns_resolver_free(&r6);
	assert_int_equal(bad, 0);
}

/* multi.test: mx0 (5) always first, mxa and mxb (10) in both orders */
static void
test_server_mx_shuffle(void **state)
{
	struct dns_resolver *r;
	struct dns_mx_result res;
	int a_first = 0, b_first = 0, i;

	(void)state;
	r = server_resolver(0, 0, 1);
	for (i = 0; i < 64 && (a_first == 0 || b_first == 0); i++) {
		assert_int_equal(dns_lookup_mx(r, "multi.test", &res), DNS_OK);
		assert_int_equal(res.nhosts, 3);
		assert_string_equal(res.hosts[0].name, "mx0.multi.test");
		if (strcmp(res.hosts[1].name, "mxa.multi.test") == 0)
			a_first++;
		else
			b_first++;
		dns_mx_result_free(&res);
	}
	dns_resolver_free(&r);
	assert_true(a_first > 0 && b_first > 0);
}

/* RFC 6761: libunbound answers NXDOMAIN for .test itself unless the
 * zone is in allow_zones */
static void
test_server_test_tld_blocked(void **state)
{
	struct dns_resolver *r;
	struct dns_mx_result res;

	(void)state;
	r = server_resolver(0, 0, 0);
	assert_int_equal(dns_lookup_mx(r, "plain.test", &res), DNS_NXDOMAIN);
	dns_mx_result_free(&res);
	dns_resolver_free(&r);
}

struct host_lookup_case {
	const char *host;
	int ipv6;
	enum dns_status status;
	const char *addrs;
};

static const struct host_lookup_case host_lookup_cases[] = {
	{ "mx1.plain.test", 1, DNS_OK, "127.0.0.21" },
	{ "MX1.plain.test.", 0, DNS_OK, "127.0.0.21" },
	{ "mxb.multi.test", 0, DNS_OK, "127.0.0.32,127.0.0.33" },
	{ "mx.dual.v6.test", 1, DNS_OK, "127.0.0.26,::1" },
	{ "mx.v6.test", 0, DNS_NO_ADDRESS, "" },
	{ "plain.test", 1, DNS_NO_ADDRESS, "" },
	{ "nosuch.test", 1, DNS_NXDOMAIN, "" },
	{ "alias.cname.odd.test", 1, DNS_OK, "127.0.0.43" },
	{ "refused.test", 1, DNS_TEMPFAIL, "" },
	{ "127.0.0.99", 1, DNS_OK, "127.0.0.99" },
};

static void
test_server_lookup_host(void **state)
{
	struct dns_resolver *r4, *r6;
	struct dns_mx_result res;
	char addrs[512];
	size_t i;
	int bad = 0;

	(void)state;
	r4 = server_resolver(0, 0, 1);
	r6 = server_resolver(1, 0, 1);
	for (i = 0; i < sizeof(host_lookup_cases) /
	    sizeof(host_lookup_cases[0]); i++) {
		const struct host_lookup_case *c = &host_lookup_cases[i];

		dns_lookup_host(c->ipv6 ? r6 : r4, c->host, &res);
		if (res.nhosts != 1) {
			print_error("%s: got %zu hosts, want 1\n", c->host,
			    res.nhosts);
			bad++;
			dns_mx_result_free(&res);
			continue;
		}
		addrs_joined(&res.hosts[0], addrs, sizeof(addrs));
		if (res.status != c->status || strcmp(addrs, c->addrs) != 0 ||
		    res.hosts[0].pref != 0 || res.implicit != 0) {
			print_error("%s: got %d \"%s\" (%s), want %d \"%s\"\n",
			    c->host, res.status, addrs, res.why, c->status,
			    c->addrs);
			bad++;
		}
		dns_mx_result_free(&res);
	}
	dns_resolver_free(&r4);
	dns_resolver_free(&r6);
	assert_int_equal(bad, 0);
}

/* DNSSEC: secure.test is signed and anchored, bogus.test is signed with
 * a key the anchor does not match, plain.test is outside any anchor */
static const struct mx_case dnssec_cases[] = {
	{ "secure.test", 1, DNS_OK, 0, 1, 1, {
	    { "mx.secure.test", 10, DNS_OK, "127.0.0.50", 1 } }, NULL },
	{ "insecure-mx.secure.test", 1, DNS_OK, 0, 1, 1, {
	    { "mx1.plain.test", 10, DNS_OK, "127.0.0.21", 0 } }, NULL },
	{ "nx.secure.test", 1, DNS_NXDOMAIN, 0, 1, 0,
	    { { NULL, 0, 0, NULL, 0 } }, NULL },
	{ "mx.secure.test", 1, DNS_OK, 1, 1, 1, {
	    { "mx.secure.test", 0, DNS_OK, "127.0.0.50", 1 } }, NULL },
	{ "plain.test", 1, DNS_OK, 0, 0, 1, {
	    { "mx1.plain.test", 10, DNS_OK, "127.0.0.21", 0 } }, NULL },
	{ "nxdomain.test", 1, DNS_NXDOMAIN, 0, 0, 0,
	    { { NULL, 0, 0, NULL, 0 } }, NULL },
	{ "bogus.test", 1, DNS_BOGUS, 0, 0, 0,
	    { { NULL, 0, 0, NULL, 0 } }, "DNSSEC bogus: validation failure" },
	{ "mx.bogus.test", 1, DNS_BOGUS, 0, 0, 0,
	    { { NULL, 0, 0, NULL, 0 } }, "bogus" },
};

static void
test_server_dnssec(void **state)
{
	struct dns_resolver *r;
	struct dns_mx_result res;
	char what[300];
	size_t i;
	int bad = 0;

	(void)state;
	r = server_resolver(1, 1, 1);
	for (i = 0; i < sizeof(dnssec_cases) / sizeof(dnssec_cases[0]);
	    i++) {
		const struct mx_case *c = &dnssec_cases[i];

		snprintf(what, sizeof(what), "%s (dnssec)", c->domain);
		dns_lookup_mx(r, c->domain, &res);
		bad += check_result(what, &res, c->status, c->implicit,
		    c->secure, c->nhosts, c->hosts, c->why);
		dns_mx_result_free(&res);
	}

	/* a host lookup into the bogus zone: bogus, nothing usable */
	dns_lookup_host(r, "mx.bogus.test", &res);
	if (res.status != DNS_BOGUS || res.nhosts != 1 ||
	    res.hosts[0].naddrs != 0 || res.hosts[0].secure != 0) {
		print_error("host mx.bogus.test: got %d (%s)\n", res.status,
		    res.why);
		bad++;
	}
	dns_mx_result_free(&res);
	dns_lookup_host(r, "mx.secure.test", &res);
	if (res.status != DNS_OK || !res.secure || !res.hosts[0].secure) {
		print_error("host mx.secure.test: got %d secure %d\n",
		    res.status, res.secure);
		bad++;
	}
	dns_mx_result_free(&res);
	dns_resolver_free(&r);
	assert_int_equal(bad, 0);
}

/* without the anchor the signed zones are merely insecure */
static void
test_server_dnssec_no_anchor(void **state)
{
	struct dns_resolver *r;
	struct dns_mx_result res;

	(void)state;
	r = server_resolver(0, 0, 1);
	assert_int_equal(dns_lookup_mx(r, "secure.test", &res), DNS_OK);
	assert_int_equal(res.secure, 0);
	assert_int_equal(res.hosts[0].secure, 0);
	dns_mx_result_free(&res);
	assert_int_equal(dns_lookup_mx(r, "bogus.test", &res), DNS_OK);
	assert_int_equal(res.secure, 0);
	dns_mx_result_free(&res);
	dns_resolver_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rdata_table),
		cmocka_unit_test(test_rdata_label_limit),
		cmocka_unit_test(test_rdata_name_limit),
		cmocka_unit_test(test_hostname_table),
		cmocka_unit_test(test_hostname_limits),
		cmocka_unit_test(test_order_small),
		cmocka_unit_test(test_order_table),
		cmocka_unit_test(test_order_all_permutations),
		cmocka_unit_test(test_order_moves_whole_hosts),
		cmocka_unit_test(test_order_system_random),
		cmocka_unit_test(test_setup_errors),
		cmocka_unit_test(test_free_null),
		cmocka_unit_test(test_lookup_host_literal),
		cmocka_unit_test(test_lookup_bad_names),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_server_mx_table),
		cmocka_unit_test(test_server_mx_shuffle),
		cmocka_unit_test(test_server_test_tld_blocked),
		cmocka_unit_test(test_server_lookup_host),
		cmocka_unit_test(test_server_dnssec),
		cmocka_unit_test(test_server_dnssec_no_anchor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
