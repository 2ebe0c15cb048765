/*
 * test_probe.c - the pure parts of probe.c: deriving a domain's verdict
 * (tls_capable, verify_mode, weakest protocol and bits) from per-MX
 * facts, table-driven; the JSON document; domain names; the DB row.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/ssl.h>

#include "domain_db.h"
#include "lib/buf.h"
#include "probe.h"

/* one MX host's facts in a table row */
struct mx_spec {
	int reached;
	int starttls;
	int tls;
	const char *protocol;
	int bits;
	int pkix;		/* -1 / 0 / 1 */
	int name;		/* -1 / 0 / 1 */
	enum probe_dane dane;
};

struct derive_case {
	const char *name;
	int floor;
	const char *sts_mode;
	size_t nmx;
	struct mx_spec mx[4];
	/* want */
	int conclusive;
	int tls_capable;
	enum probe_verify verify;
	const char *min_protocol;
	int min_bits;
};

#define OK13	{ 1, 1, 1, "TLSv1.3", 256, 1, 1, PROBE_DANE_NONE }
#define OK12	{ 1, 1, 1, "TLSv1.2", 128, 1, 1, PROBE_DANE_NONE }
#define NOTLS	{ 1, 0, 0, "", 0, -1, -1, PROBE_DANE_NONE }
#define DOWN	{ 0, -1, 0, "", 0, -1, -1, PROBE_DANE_NONE }

static const struct derive_case derive_cases[] = {
	{ "one good MX", TLS1_2_VERSION, "", 1, { OK13 },
	  1, 1, PROBE_VERIFY_PKIX, "TLSv1.3", 256 },
	{ "weakest of two", TLS1_2_VERSION, "", 2, { OK13, OK12 },
	  1, 1, PROBE_VERIFY_PKIX, "TLSv1.2", 128 },
	{ "no STARTTLS on one MX", TLS1_2_VERSION, "", 2, { OK13, NOTLS },
	  1, 0, PROBE_VERIFY_NONE, "TLSv1.3", 256 },
	{ "no STARTTLS at all", TLS1_2_VERSION, "", 1, { NOTLS },
	  1, 0, PROBE_VERIFY_NONE, "", 0 },
	{ "STARTTLS offered, handshake failed", TLS1_2_VERSION, "", 1,
	  { { 1, 1, 0, "", 0, -1, -1, PROBE_DANE_NONE } },
	  1, 0, PROBE_VERIFY_NONE, "", 0 },
	{ "below the floor", TLS1_2_VERSION, "", 1,
	  { { 1, 1, 1, "TLSv1.1", 256, 1, 1, PROBE_DANE_NONE } },
	  1, 0, PROBE_VERIFY_PKIX, "TLSv1.1", 256 },
	{ "TLSv1.1 meets a TLSv1 floor", TLS1_VERSION, "", 1,
	  { { 1, 1, 1, "TLSv1.1", 256, 1, 1, PROBE_DANE_NONE } },
	  1, 1, PROBE_VERIFY_PKIX, "TLSv1.1", 256 },
	{ "floor 1.3, 1.2 session", TLS1_3_VERSION, "", 1, { OK12 },
	  1, 0, PROBE_VERIFY_PKIX, "TLSv1.2", 128 },
	{ "floor 0 means 1.2", 0, "", 1, { OK12 },
	  1, 1, PROBE_VERIFY_PKIX, "TLSv1.2", 128 },
	{ "127-bit cipher", TLS1_2_VERSION, "", 1,
	  { { 1, 1, 1, "TLSv1.2", 127, 1, 1, PROBE_DANE_NONE } },
	  1, 0, PROBE_VERIFY_PKIX, "TLSv1.2", 127 },
	{ "128 bits exactly", TLS1_2_VERSION, "", 1,
	  { { 1, 1, 1, "TLSv1.2", 128, 1, 1, PROBE_DANE_NONE } },
	  1, 1, PROBE_VERIFY_PKIX, "TLSv1.2", 128 },
	{ "unknown protocol name", TLS1_2_VERSION, "", 1,
	  { { 1, 1, 1, "QUIC", 256, 1, 1, PROBE_DANE_NONE } },
	  1, 0, PROBE_VERIFY_PKIX, "", 256 },
	{ "unreached MX ignored", TLS1_2_VERSION, "", 2, { DOWN, OK13 },
	  1, 1, PROBE_VERIFY_PKIX, "TLSv1.3", 256 },
	{ "nothing reached: inconclusive", TLS1_2_VERSION, "", 2,
	  { DOWN, DOWN }, 0, -1, PROBE_VERIFY_NONE, "", 0 },
	{ "no MX at all", TLS1_2_VERSION, "", 0, { DOWN },
	  0, -1, PROBE_VERIFY_NONE, "", 0 },
	{ "self-signed: pkix no", TLS1_2_VERSION, "", 1,
	  { { 1, 1, 1, "TLSv1.3", 256, 0, 1, PROBE_DANE_NONE } },
	  1, 1, PROBE_VERIFY_NONE, "TLSv1.3", 256 },
	{ "name mismatch: pkix no", TLS1_2_VERSION, "", 1,
	  { { 1, 1, 1, "TLSv1.3", 256, 1, 0, PROBE_DANE_NONE } },
	  1, 1, PROBE_VERIFY_NONE, "TLSv1.3", 256 },
	{ "pkix unknown: not pkix", TLS1_2_VERSION, "", 1,
	  { { 1, 1, 1, "TLSv1.3", 256, -1, -1, PROBE_DANE_NONE } },
	  1, 1, PROBE_VERIFY_NONE, "TLSv1.3", 256 },
	{ "one MX pkix, one not", TLS1_2_VERSION, "", 2,
	  { OK13, { 1, 1, 1, "TLSv1.3", 256, 0, 0, PROBE_DANE_NONE } },
	  1, 1, PROBE_VERIFY_NONE, "TLSv1.3", 256 },
	{ "MTA-STS enforce beats pkix", TLS1_2_VERSION, "enforce", 1,
	  { OK13 }, 1, 1, PROBE_VERIFY_MTA_STS, "TLSv1.3", 256 },
	{ "MTA-STS enforce, certs bad", TLS1_2_VERSION, "enforce", 1,
	  { { 1, 1, 1, "TLSv1.3", 256, 0, 0, PROBE_DANE_NONE } },
	  1, 1, PROBE_VERIFY_MTA_STS, "TLSv1.3", 256 },
	{ "MTA-STS testing is not enforce", TLS1_2_VERSION, "testing", 1,
	  { OK13 }, 1, 1, PROBE_VERIFY_PKIX, "TLSv1.3", 256 },
	{ "MTA-STS none", TLS1_2_VERSION, "none", 1,
	  { { 1, 1, 1, "TLSv1.3", 256, 0, 1, PROBE_DANE_NONE } },
	  1, 1, PROBE_VERIFY_NONE, "TLSv1.3", 256 },
	{ "DANE on every MX beats MTA-STS", TLS1_2_VERSION, "enforce", 2,
	  { { 1, 1, 1, "TLSv1.3", 256, 0, 0, PROBE_DANE_USABLE },
	    { 1, 1, 1, "TLSv1.2", 256, 0, 0, PROBE_DANE_USABLE } },
	  1, 1, PROBE_VERIFY_DANE, "TLSv1.2", 256 },
	{ "DANE on one MX of two", TLS1_2_VERSION, "", 2,
	  { { 1, 1, 1, "TLSv1.3", 256, 1, 1, PROBE_DANE_USABLE }, OK13 },
	  1, 1, PROBE_VERIFY_PKIX, "TLSv1.3", 256 },
	{ "DANE unusable is not DANE", TLS1_2_VERSION, "", 1,
	  { { 1, 1, 1, "TLSv1.3", 256, 0, 0, PROBE_DANE_UNUSABLE } },
	  1, 1, PROBE_VERIFY_NONE, "TLSv1.3", 256 },
	{ "DANE usable on an unreached MX counts", TLS1_2_VERSION, "", 2,
	  { { 0, -1, 0, "", 0, -1, -1, PROBE_DANE_USABLE },
	    { 1, 1, 1, "TLSv1.3", 256, 0, 0, PROBE_DANE_USABLE } },
	  1, 1, PROBE_VERIFY_DANE, "TLSv1.3", 256 },
	{ "DANE but no STARTTLS: dane, not capable", TLS1_2_VERSION, "", 1,
	  { { 1, 0, 0, "", 0, -1, -1, PROBE_DANE_USABLE } },
	  1, 0, PROBE_VERIFY_DANE, "", 0 },
};

static void
fill(struct probe_result *r, const struct derive_case *c)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	snprintf(r->domain, sizeof(r->domain), "example.test");
	snprintf(r->sts_mode, sizeof(r->sts_mode), "%s", c->sts_mode);
	r->nmx = c->nmx;
	for (i = 0; i < c->nmx; i++) {
		struct probe_mx *m = &r->mx[i];
		const struct mx_spec *s = &c->mx[i];

		snprintf(m->name, sizeof(m->name), "mx%zu.example.test", i);
		m->reached = s->reached;
		m->starttls = s->starttls;
		m->tls = s->tls;
		snprintf(m->protocol, sizeof(m->protocol), "%s", s->protocol);
		m->bits = s->bits;
		m->pkix_valid = s->pkix;
		m->name_match = s->name;
		m->dane = s->dane;
		m->sts_match = -1;
	}
}

static void
test_derive(void **state)
{
	struct probe_result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(derive_cases) / sizeof(derive_cases[0]); i++) {
		const struct derive_case *c = &derive_cases[i];

		fill(&r, c);
		probe_derive(&r, c->floor);
		if (r.conclusive != c->conclusive)
			fail_msg("%s: conclusive got %d, want %d", c->name,
			    r.conclusive, c->conclusive);
		if (r.tls_capable != c->tls_capable)
			fail_msg("%s: tls_capable got %d, want %d", c->name,
			    r.tls_capable, c->tls_capable);
		if (r.verify != c->verify)
			fail_msg("%s: verify got %s, want %s", c->name,
			    probe_verify_name(r.verify),
			    probe_verify_name(c->verify));
		if (strcmp(r.min_protocol, c->min_protocol) != 0)
			fail_msg("%s: min_protocol got \"%s\", want \"%s\"",
			    c->name, r.min_protocol, c->min_protocol);
		if (r.min_bits != c->min_bits)
			fail_msg("%s: min_bits got %d, want %d", c->name,
			    r.min_bits, c->min_bits);
	}
}

static void
test_protocol_version(void **state)
{
	(void)state;
	assert_int_equal(probe_protocol_version("TLSv1.3"), TLS1_3_VERSION);
	assert_int_equal(probe_protocol_version("TLSv1.2"), TLS1_2_VERSION);
	assert_int_equal(probe_protocol_version("TLSv1.1"), TLS1_1_VERSION);
	assert_int_equal(probe_protocol_version("TLSv1"), TLS1_VERSION);
	assert_int_equal(probe_protocol_version("SSLv3"), SSL3_VERSION);
	assert_int_equal(probe_protocol_version("tlsv1.3"), 0);
	assert_int_equal(probe_protocol_version(""), 0);
	assert_int_equal(probe_protocol_version(NULL), 0);
	assert_string_equal(probe_verify_name(PROBE_VERIFY_MTA_STS),
	    "mta-sts");
	assert_string_equal(probe_dane_name(PROBE_DANE_TEMPFAIL), "tempfail");
}

static void
test_domain_name(void **state)
{
	static const struct {
		const char *in, *want;	/* want NULL: refused */
	} c[] = {
		{ "Example.COM", "example.com" },
		{ "example.com.", "example.com" },
		{ "a-b.example", "a-b.example" },
		{ "", NULL },
		{ ".", NULL },
		{ "example..com", NULL },
		{ "-a.example", NULL },
		{ "192.0.2.1", NULL },
		{ "[192.0.2.1]", NULL },
		{ "a b.example", NULL },
		{ "exa\nmple.com", NULL },
	};
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int r = probe_domain_name(c[i].in, out);

		if (c[i].want == NULL && r == 0)
			fail_msg("\"%s\": accepted as \"%s\"", c[i].in, out);
		if (c[i].want != NULL && (r != 0 ||
		    strcmp(out, c[i].want) != 0))
			fail_msg("\"%s\": got %d \"%s\", want \"%s\"", c[i].in,
			    r, r == 0 ? out : "", c[i].want);
	}
}

/* a result as a probe of two MX hosts fills it, with hostile text */
static void
sample(struct probe_result *r)
{
	static const struct derive_case c = { "sample", TLS1_2_VERSION, "",
	    2, { OK13, NOTLS }, 0, 0, 0, "", 0 };

	fill(r, &c);
	r->probed_at = 1700000000;
	r->sts_checked = 1;
	snprintf(r->sts_error, sizeof(r->sts_error), "no \"record\"\n");
	r->dane_checked = 1;
	snprintf(r->mx[0].addrs[0], sizeof(r->mx[0].addrs[0]), "192.0.2.1");
	snprintf(r->mx[0].addrs[1], sizeof(r->mx[0].addrs[1]), "2001:db8::1");
	r->mx[0].naddrs = 2;
	snprintf(r->mx[0].addr, sizeof(r->mx[0].addr), "192.0.2.1");
	snprintf(r->mx[0].cipher, sizeof(r->mx[0].cipher),
	    "TLS_AES_256_GCM_SHA384");
	snprintf(r->mx[0].cert_subject, sizeof(r->mx[0].cert_subject),
	    "CN=mx\\\"0\x01");
	snprintf(r->mx[0].cert_sans, sizeof(r->mx[0].cert_sans),
	    "mx0.example.test,*.example.test");
	snprintf(r->mx[1].error, sizeof(r->mx[1].error), "550 \xff nope");
	probe_derive(r, TLS1_2_VERSION);
}

static void
test_json(void **state)
{
	struct probe_result r;
	struct buf b;
	FILE *f;
	char path[] = "/tmp/test_probe_XXXXXX", cmd[512];
	int fd, rc;

	(void)state;
	sample(&r);
	buf_init(&b, 1 << 20);
	assert_int_equal(probe_result_json(&r, &b), 0);
	/* spot checks; the full structure is checked by python below */
	assert_non_null(strstr(b.data, "\"domain\":\"example.test\""));
	assert_non_null(strstr(b.data, "\"probed_at\":\"2023-11-14T22:13:20Z\""));
	assert_non_null(strstr(b.data, "\"tls_capable\":false"));
	assert_non_null(strstr(b.data, "\"verify_mode\":\"none\""));
	assert_non_null(strstr(b.data, "\"sans\":[\"mx0.example.test\","
	    "\"*.example.test\"]"));
	assert_non_null(strstr(b.data, "\"addresses\":[\"192.0.2.1\","
	    "\"2001:db8::1\"]"));
	assert_non_null(strstr(b.data, "\"starttls\":false"));
	assert_non_null(strstr(b.data, "\\ufffd"));	/* bad UTF-8 */

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 -c '"
	    "import json,sys; j=json.load(open(sys.argv[1]));"
	    "assert j[\"mx_count\"] == 2 and len(j[\"mx\"]) == 2;"
	    "assert j[\"mx\"][0][\"protocol\"] == \"TLSv1.3\";"
	    "assert j[\"mx\"][0][\"bits\"] == 256;"
	    "assert j[\"mx\"][1][\"bits\"] is None;"
	    "assert j[\"mx\"][0][\"cert\"][\"subject\"] == \"CN=mx\\\\\\\"0\\x01\";"
	    "assert j[\"mta_sts\"][\"checked\"] is True;"
	    "assert j[\"mta_sts\"][\"mode\"] is None;"
	    "assert j[\"mta_sts\"][\"mx\"] == [];"
	    "assert j[\"dane\"] is False;"
	    "assert j[\"min_protocol\"] == \"TLSv1.3\"' %s", path);
	rc = system(cmd);
	unlink(path);
	if (rc == 127 << 8)
		skip();
	assert_int_equal(rc, 0);
	buf_free(&b);
}

static void
test_json_full_buffer(void **state)
{
	struct probe_result r;
	struct buf b;
	size_t max;

	(void)state;
	sample(&r);
	/* every cap below the document's size fails cleanly */
	buf_init(&b, 1 << 20);
	assert_int_equal(probe_result_json(&r, &b), 0);
	max = b.len;
	buf_free(&b);
	for (size_t cap = 0; cap < max; cap += 97) {
		buf_init(&b, cap);
		assert_int_equal(probe_result_json(&r, &b), -1);
		buf_free(&b);
	}
}

static void
test_db_update(void **state)
{
	struct probe_result r;
	struct domain_db_update u;
	struct buf facts;

	(void)state;
	sample(&r);
	buf_init(&facts, 1 << 20);
	assert_int_equal(probe_db_update(&r, 86400, &facts, &u), 0);
	assert_string_equal(u.domain, "example.test");
	assert_int_equal(u.conclusive, 1);
	assert_int_equal(u.tls_capable, 0);
	assert_string_equal(u.verify_mode, "none");
	assert_int_equal(u.mx_count, 2);
	assert_string_equal(u.min_protocol, "TLSv1.3");
	assert_int_equal(u.min_cipher_bits, 256);
	assert_null(u.mta_sts_mode);
	assert_int_equal(u.dane, 0);
	assert_int_equal(u.next_probe_secs, 86400);
	assert_true(u.facts[0] == '[');
	assert_null(u.error);
	buf_free(&facts);

	r.dane_checked = 0;
	snprintf(r.sts_mode, sizeof(r.sts_mode), "enforce");
	snprintf(r.error, sizeof(r.error), "x");
	buf_init(&facts, 1 << 20);
	assert_int_equal(probe_db_update(&r, 60, &facts, &u), 0);
	assert_int_equal(u.dane, -1);
	assert_string_equal(u.mta_sts_mode, "enforce");
	assert_string_equal(u.error, "x");
	buf_free(&facts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_protocol_version),
		cmocka_unit_test(test_domain_name),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_full_buffer),
		cmocka_unit_test(test_db_update),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
