/*
 * test_dane.c - unit tests for dane.c.
 *
 * Pure parts: dane_tlsa_parse() over a table of named RDATA (each parsed
 * from an exactly sized heap copy, so ASan sees any read past it; every
 * proper prefix of a digest record must fail), the Full(0) size limit at
 * the edge, dane_tlsa_usable() over every usage/selector/matching type
 * combination around the valid ones, dane_applies() and the status
 * names. Then dane_lookup() without a DNS server: names that cannot carry
 * TLSA records give DANE_NONE without a query, and a lookup that gets no
 * answer is DANE_TEMPFAIL (never "no records").
 * The lookups against signed, bogus and insecure zones are in
 * tests/integration/t_dane.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dane.h"
#include "dns.h"
#include "lib/xalloc.h"

#define RD(...)	(const unsigned char[]){ __VA_ARGS__ }, \
	sizeof((const unsigned char[]){ __VA_ARGS__ })

#define D8(b)	b, b, b, b, b, b, b, b
#define D32(b)	D8(b), D8(b), D8(b), D8(b)

struct parse_case {
	const char *name;
	const unsigned char *rd;
	size_t len;
	int want;		/* 0 / -1 */
	int usage, selector, mtype;
	size_t dlen;
	int usable;
};

static const struct parse_case parse_cases[] = {
	{ "3 1 1 sha256", RD(3, 1, 1, D32(0xab)), 0, 3, 1, 1, 32, 1 },
	{ "2 0 1 sha256", RD(2, 0, 1, D32(0x01)), 0, 2, 0, 1, 32, 1 },
	{ "3 0 2 sha512", RD(3, 0, 2, D32(0x11), D32(0x22)), 0, 3, 0, 2, 64,
	  1 },
	{ "2 1 0 full", RD(2, 1, 0, 0x30, 0x03, 0x02, 0x01, 0x00), 0, 2, 1,
	  0, 5, 1 },
	{ "3 1 0 one byte", RD(3, 1, 0, 0x00), 0, 3, 1, 0, 1, 1 },
	{ "1 1 1 PKIX-EE", RD(1, 1, 1, D32(0xab)), 0, 1, 1, 1, 32, 0 },
	{ "0 0 1 PKIX-TA", RD(0, 0, 1, D32(0xab)), 0, 0, 0, 1, 32, 0 },
	{ "4 1 1 unknown usage", RD(4, 1, 1, D32(0)), 0, 4, 1, 1, 32, 0 },
	{ "255 1 1", RD(255, 1, 1, D32(0)), 0, 255, 1, 1, 32, 0 },
	{ "3 2 1 unknown selector", RD(3, 2, 1, D32(0)), 0, 3, 2, 1, 32, 0 },
	{ "3 1 3 unknown mtype", RD(3, 1, 3, D32(0)), 0, 3, 1, 3, 32, 0 },
	{ "3 1 255 one byte", RD(3, 1, 255, 7), 0, 3, 1, 255, 1, 0 },
	{ "sha256 31 bytes", RD(3, 1, 1, D8(1), D8(1), D8(1), 1, 1, 1, 1, 1,
	  1, 1), -1, 0, 0, 0, 0, 0 },
	{ "sha256 33 bytes", RD(3, 1, 1, D32(1), 1), -1, 0, 0, 0, 0, 0 },
	{ "sha256 as sha512", RD(3, 1, 2, D32(1)), -1, 0, 0, 0, 0, 0 },
	{ "sha512 as sha256", RD(3, 1, 1, D32(1), D32(2)), -1, 0, 0, 0, 0,
	  0 },
	{ "no data", RD(3, 1, 0), -1, 0, 0, 0, 0, 0 },
	{ "two bytes", RD(3, 1), -1, 0, 0, 0, 0, 0 },
	{ "one byte", RD(3), -1, 0, 0, 0, 0, 0 },
};

static void
test_parse_case(void **state)
{
	const struct parse_case *c = *state;
	struct tls_tlsa rec;
	unsigned char *copy;
	size_t n;
	int r;

	copy = xmalloc(c->len);
	memcpy(copy, c->rd, c->len);
	memset(&rec, 0x5a, sizeof(rec));
	r = dane_tlsa_parse(copy, c->len, &rec);
	if (r != c->want)
		fail_msg("%s: got %d, want %d", c->name, r, c->want);
	if (r == 0) {
		assert_int_equal(rec.usage, c->usage);
		assert_int_equal(rec.selector, c->selector);
		assert_int_equal(rec.mtype, c->mtype);
		assert_int_equal(rec.len, c->dlen);
		/* a slice of the input, not a copy */
		assert_ptr_equal(rec.data, copy + 3);
		if (dane_tlsa_usable(&rec) != c->usable)
			fail_msg("%s: usable got %d, want %d", c->name,
			    dane_tlsa_usable(&rec), c->usable);
	} else {
		assert_null(rec.data);
		assert_int_equal(rec.len, 0);
	}
	xfree(copy);

	/* a digest record cut anywhere is malformed */
	if (r == 0 && (c->mtype == 1 || c->mtype == 2)) {
		for (n = 0; n < c->len; n++) {
			copy = xmalloc(n ? n : 1);
			memcpy(copy, c->rd, n);
			if (dane_tlsa_parse(n ? copy : NULL, n, &rec) != -1)
				fail_msg("%s: prefix of %zu bytes parsed",
				    c->name, n);
			xfree(copy);
		}
	}
}

/* Full(0) and unknown matching types: 1..DANE_TLSA_FULL_MAX bytes */
static void
test_parse_full_limit(void **state)
{
	size_t len = 3 + DANE_TLSA_FULL_MAX;
	unsigned char *rd = xcalloc(1, len + 1);
	struct tls_tlsa rec;

	(void)state;
	rd[0] = 2;
	rd[1] = 0;
	rd[2] = 0;
	assert_int_equal(dane_tlsa_parse(rd, len, &rec), 0);
	assert_int_equal(rec.len, DANE_TLSA_FULL_MAX);
	assert_int_equal(dane_tlsa_parse(rd, len + 1, &rec), -1);
	rd[2] = 9;
	assert_int_equal(dane_tlsa_parse(rd, len, &rec), 0);
	assert_int_equal(dane_tlsa_usable(&rec), 0);
	assert_int_equal(dane_tlsa_parse(rd, len + 1, &rec), -1);
	assert_int_equal(dane_tlsa_parse(NULL, 40, &rec), -1);
	xfree(rd);
}

/* every combination next to the usable ones: only 2/3 x 0/1 x 0/1/2 */
static void
test_usable_grid(void **state)
{
	static const unsigned char d[64];
	struct tls_tlsa rec;
	int u, s, m, want;

	(void)state;
	for (u = 0; u <= 5; u++)
		for (s = 0; s <= 3; s++)
			for (m = 0; m <= 4; m++) {
				rec.usage = (uint8_t)u;
				rec.selector = (uint8_t)s;
				rec.mtype = (uint8_t)m;
				rec.data = d;
				rec.len = m == 2 ? 64 : 32;
				want = (u == 2 || u == 3) && s <= 1 && m <= 2;
				if (dane_tlsa_usable(&rec) != want)
					fail_msg("%d %d %d: got %d, want %d",
					    u, s, m, !want, want);
			}
	rec.usage = 3;
	rec.selector = 1;
	rec.mtype = 0;
	rec.data = NULL;
	rec.len = 0;
	assert_int_equal(dane_tlsa_usable(&rec), 0);
}

static void
test_applies_and_names(void **state)
{
	(void)state;
	/* RFC 7672 2.2: the MX RRset and the address records secure */
	assert_int_equal(dane_applies(1, 1), 1);
	assert_int_equal(dane_applies(1, 0), 0);
	assert_int_equal(dane_applies(0, 1), 0);
	assert_int_equal(dane_applies(0, 0), 0);
	assert_int_equal(dane_applies(7, 2), 1);
	assert_string_equal(dane_status_name(DANE_NONE), "none");
	assert_string_equal(dane_status_name(DANE_USABLE), "usable");
	assert_string_equal(dane_status_name(DANE_UNUSABLE), "unusable");
	assert_string_equal(dane_status_name(DANE_BOGUS), "bogus");
	assert_string_equal(dane_status_name(DANE_TEMPFAIL), "tempfail");
	assert_string_equal(dane_status_name((enum dane_status)42),
	    "unknown");
}

static struct dns_resolver *
resolver_dead(void)
{
	/* nothing answers on port 9: every query times out */
	const char *fw[1] = { "127.0.0.1@9" };
	const char *zones[1] = { "test" };
	struct dns_conf c;
	struct dns_resolver *r;
	char *err = NULL;

	memset(&c, 0, sizeof(c));
	c.forwarders = fw;
	c.nforwarders = 1;
	c.timeout_ms = 300;
	c.allow_zones = zones;
	c.nallow_zones = 1;
	r = dns_resolver_new(&c, &err);
	if (r == NULL)
		fail_msg("dns_resolver_new: %s", err ? err : "?");
	return r;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* names DANE cannot apply to: DANE_NONE at once, no query */
static void
test_lookup_no_query(void **state)
{
	static const char *const bad[] = {
		"", ".", "192.0.2.1", "[192.0.2.1]", "2001:db8::1",
		"exa mple.test", "ex_ample.test", "-x.test", "a..test",
		/* a host name of 245 characters, 254 with "_25._tcp.": one
		 * more than DNS can carry */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test",
	};
	struct dns_resolver *r = resolver_dead();
	struct dane_result res;
	struct timespec t0;
	size_t i;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dane_lookup(r, bad[i], 25, &res) != DANE_NONE)
			fail_msg("\"%s\": got %s, want none", bad[i],
			    dane_status_name(res.status));
		assert_string_equal(res.qname, "");
		assert_int_equal(res.nrecs, 0);
		assert_null(res.recs);
		dane_result_free(&res);
	}
	assert_int_equal(dane_lookup(r, NULL, 25, &res), DANE_NONE);
	dane_result_free(&res);
	assert_int_equal(dane_lookup(r, "mx.example.test", 70000, &res),
	    DANE_NONE);
	dane_result_free(&res);
	/* no query went out: well under one resolver timeout */
	assert_true(ms_since(&t0) < 250);
	dns_resolver_free(&r);
}

/* no answer is a failure, not "no records": the host is not used */
static void
test_lookup_tempfail(void **state)
{
	struct dns_resolver *r = resolver_dead();
	struct dane_result res;

	(void)state;
	assert_int_equal(dane_lookup(r, "mx.example.test.", 0, &res),
	    DANE_TEMPFAIL);
	assert_string_equal(res.qname, "_25._tcp.mx.example.test");
	assert_true(res.why[0] != '\0');
	assert_null(res.recs);
	dane_result_free(&res);
	dane_result_free(&res);		/* twice: harmless */
	assert_int_equal(dane_lookup(r, "MX.Example.Test", 587, &res),
	    DANE_TEMPFAIL);
	assert_string_equal(res.qname, "_587._tcp.MX.Example.Test");
	dane_result_free(&res);
	dane_result_free(NULL);
	dns_resolver_free(&r);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_parse_full_limit),
		cmocka_unit_test(test_usable_grid),
		cmocka_unit_test(test_applies_and_names),
		cmocka_unit_test(test_lookup_no_query),
		cmocka_unit_test(test_lookup_tempfail),
	};
	size_t ncase = sizeof(parse_cases) / sizeof(parse_cases[0]);
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *t;
	size_t i;
	int r;

	t = calloc(ncase + nfixed, sizeof(*t));
	if (t == NULL)
		return 1;
	for (i = 0; i < ncase; i++) {
		t[i].name = parse_cases[i].name;
		t[i].test_func = test_parse_case;
		t[i].initial_state = (void *)&parse_cases[i];
	}
	memcpy(t + ncase, fixed, sizeof(fixed));
	r = _cmocka_run_group_tests("dane", t, ncase + nfixed, NULL, NULL);
	free(t);
	return r;
}
