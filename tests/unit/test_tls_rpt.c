/*
 * test_tls_rpt.c - tls_rpt.c: the _smtp._tls TXT record (RFC 8460 3),
 * table-driven, whole and through tls_rpt_txt_select() with TXT RDATA;
 * the JSON aggregate report (RFC 8460 4.3) checked against the schema by
 * python3; gzip round trip; the report mail (RFC 8460 5.3); result and
 * policy names; day parsing.
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

#include <openssl/x509.h>
#include <zlib.h>

#include "dns.h"
#include "lib/buf.h"
#include "smtp_client.h"
#include "tls_rpt.h"
#include "tls_rpt_send.h"

struct txt_case {
	const char *name;
	const char *txt;
	int ok;			/* 0 parsed, -1 refused */
	size_t nrua;
	const char *uri0;	/* first usable URI */
	const char *addr0;	/* its mailto address, or NULL */
	size_t nignored;
	const char *why;	/* refusal reason contains this */
};

static const struct txt_case txt_cases[] = {
	{ "mailto", "v=TLSRPTv1; rua=mailto:reports@example.com",
	  0, 1, "mailto:reports@example.com", "reports@example.com", 0, NULL },
	{ "https", "v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt",
	  0, 1, "https://reporting.example.com/v1/tlsrpt", NULL, 0, NULL },
	{ "both, spaces around ,", "v=TLSRPTv1; rua=mailto:a@example.com ,\t"
	  "https://r.example.com:8443/x", 0, 2, "mailto:a@example.com",
	  "a@example.com", 0, NULL },
	{ "trailing ;", "v=TLSRPTv1; rua=mailto:a@example.com;",
	  0, 1, "mailto:a@example.com", "a@example.com", 0, NULL },
	{ "trailing ; and spaces", "v=TLSRPTv1 ; rua=mailto:a@example.com ; ",
	  0, 1, "mailto:a@example.com", "a@example.com", 0, NULL },
	{ "trailing space tolerated", "v=TLSRPTv1; rua=mailto:a@example.com ",
	  0, 1, "mailto:a@example.com", "a@example.com", 0, NULL },
	{ "extension field", "v=TLSRPTv1; ext-1=foo:bar; "
	  "rua=mailto:a@example.com", 0, 1, "mailto:a@example.com",
	  "a@example.com", 0, NULL },
	{ "mailto with query", "v=TLSRPTv1; rua=mailto:a@example.com?subject=x",
	  0, 1, "mailto:a@example.com?subject=x", "a@example.com", 0, NULL },
	{ "percent-encoded", "v=TLSRPTv1; rua=mailto:tls%2Brpt@example.com",
	  0, 1, "mailto:tls%2Brpt@example.com", "tls+rpt@example.com", 0,
	  NULL },
	{ "MAILTO upper case scheme", "v=TLSRPTv1; rua=MAILTO:a@example.com",
	  0, 1, "MAILTO:a@example.com", "a@example.com", 0, NULL },
	{ "other scheme ignored", "v=TLSRPTv1; rua=ftp://x.example,"
	  "mailto:a@example.com", 0, 1, "mailto:a@example.com",
	  "a@example.com", 1, NULL },
	{ "http (not https) ignored", "v=TLSRPTv1; rua=http://x.example/r,"
	  "mailto:a@example.com", 0, 1, "mailto:a@example.com",
	  "a@example.com", 1, NULL },
	{ "bad mailto ignored", "v=TLSRPTv1; rua=mailto:nobody,"
	  "mailto:a@example.com", 0, 1, "mailto:a@example.com",
	  "a@example.com", 1, NULL },
	{ "encoded CRLF in mailto ignored",
	  "v=TLSRPTv1; rua=mailto:a%0D%0ABcc:x@example.com,"
	  "https://r.example/", 0, 1, "https://r.example/", NULL, 1, NULL },
	{ "https with userinfo ignored", "v=TLSRPTv1; rua=https://u:p@h.example/,"
	  "mailto:a@example.com", 0, 1, "mailto:a@example.com",
	  "a@example.com", 1, NULL },
	{ "https IPv6 literal", "v=TLSRPTv1; rua=https://[2001:db8::1]/r",
	  0, 1, "https://[2001:db8::1]/r", NULL, 0, NULL },
	{ "only unusable URIs", "v=TLSRPTv1; rua=ftp://x.example",
	  -1, 0, NULL, NULL, 0, "no usable rua" },
	{ "no rua", "v=TLSRPTv1; ext=1", -1, 0, NULL, NULL, 0, "no rua" },
	{ "version only", "v=TLSRPTv1", -1, 0, NULL, NULL, 0, NULL },
	{ "version and ;", "v=TLSRPTv1;", -1, 0, NULL, NULL, 0, "no rua" },
	{ "two rua fields", "v=TLSRPTv1; rua=mailto:a@example.com; "
	  "rua=mailto:b@example.com", -1, 0, NULL, NULL, 0, "more than one" },
	{ "wrong version", "v=TLSRPTv2; rua=mailto:a@example.com",
	  -1, 0, NULL, NULL, 0, "v=TLSRPTv1" },
	{ "lower case version", "v=tlsrptv1; rua=mailto:a@example.com",
	  -1, 0, NULL, NULL, 0, "v=TLSRPTv1" },
	{ "missing ;", "v=TLSRPTv1 rua=mailto:a@example.com",
	  -1, 0, NULL, NULL, 0, "';'" },
	{ "space inside URI", "v=TLSRPTv1; rua=mailto:a @example.com",
	  -1, 0, NULL, NULL, 0, "rua" },
	{ "empty URI", "v=TLSRPTv1; rua=mailto:a@example.com,,"
	  "mailto:b@example.com", -1, 0, NULL, NULL, 0, "rua" },
	{ "empty rua", "v=TLSRPTv1; rua=", -1, 0, NULL, NULL, 0, "rua" },
	{ "field without =", "v=TLSRPTv1; rua", -1, 0, NULL, NULL, 0,
	  "name=value" },
	{ "empty extension value", "v=TLSRPTv1; x=; rua=mailto:a@example.com",
	  -1, 0, NULL, NULL, 0, "extension" },
	{ "extension name too long", "v=TLSRPTv1; "
	  "abcdefghijabcdefghijabcdefghijabc=1; rua=mailto:a@example.com",
	  -1, 0, NULL, NULL, 0, NULL },
	{ "leading space", " v=TLSRPTv1; rua=mailto:a@example.com",
	  -1, 0, NULL, NULL, 0, NULL },
};

static void
check_txt(const struct txt_case *c, const char *txt, size_t len)
{
	struct tls_rpt_txt out;
	char why[256] = "";
	int r = tls_rpt_txt_record_parse(txt, len, &out, why, sizeof(why));

	if (r != c->ok)
		fail_msg("%s: got %d (%s), want %d", c->name, r, why, c->ok);
	if (r < 0) {
		if (c->why != NULL && strstr(why, c->why) == NULL)
			fail_msg("%s: reason \"%s\", want one with \"%s\"",
			    c->name, why, c->why);
		return;
	}
	if (out.nrua != c->nrua)
		fail_msg("%s: nrua got %zu, want %zu", c->name, out.nrua,
		    c->nrua);
	if (out.nignored != c->nignored)
		fail_msg("%s: nignored got %zu, want %zu", c->name,
		    out.nignored, c->nignored);
	if (strcmp(out.rua[0].uri, c->uri0) != 0)
		fail_msg("%s: uri got \"%s\", want \"%s\"", c->name,
		    out.rua[0].uri, c->uri0);
	if (c->addr0 != NULL && (out.rua[0].kind != TLS_RPT_URI_MAILTO ||
	    strcmp(out.rua[0].addr, c->addr0) != 0))
		fail_msg("%s: addr got \"%s\", want \"%s\"", c->name,
		    out.rua[0].addr, c->addr0);
	if (c->addr0 == NULL && out.rua[0].kind != TLS_RPT_URI_HTTPS)
		fail_msg("%s: want an https URI", c->name);
}

static void
test_txt_parse(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(txt_cases) / sizeof(txt_cases[0]); i++) {
		const struct txt_case *c = &txt_cases[i];
		size_t n = strlen(c->txt);
		char *copy = malloc(n ? n : 1);	/* exact size: ASan */

		memcpy(copy, c->txt, n);
		check_txt(c, copy, n);
		free(copy);
	}
}

static void
test_txt_limits(void **state)
{
	struct tls_rpt_txt out;
	struct buf b;
	char why[256];
	size_t i;

	(void)state;
	/* more than TLS_RPT_RUA_MAX URIs: the rest ignored */
	buf_init(&b, 1 << 16);
	assert_int_equal(buf_append_str(&b, "v=TLSRPTv1; rua="), 0);
	for (i = 0; i < TLS_RPT_RUA_MAX + 3; i++)
		assert_int_equal(buf_printf(&b, "%smailto:r%zu@example.com",
		    i ? "," : "", i), 0);
	assert_int_equal(tls_rpt_txt_record_parse(b.data, b.len, &out, why,
	    sizeof(why)), 0);
	assert_int_equal(out.nrua, TLS_RPT_RUA_MAX);
	assert_int_equal(out.nignored, 3);
	buf_free(&b);

	/* a URI of TLS_RPT_URI_MAX passes, one more is ignored */
	for (i = 0; i < 2; i++) {
		size_t ul = TLS_RPT_URI_MAX + i;
		buf_init(&b, 1 << 16);
		assert_int_equal(buf_append_str(&b, "v=TLSRPTv1; rua="
		    "mailto:a@example.com,https://h.example/"), 0);
		while (b.len < 37 + ul)
			assert_int_equal(buf_append_char(&b, 'p'), 0);
		assert_int_equal(tls_rpt_txt_record_parse(b.data, b.len, &out,
		    why, sizeof(why)), 0);
		assert_int_equal(out.nrua, i == 0 ? 2 : 1);
		buf_free(&b);
	}

	/* the whole record: TLS_RPT_TXT_MAX */
	buf_init(&b, 1 << 16);
	assert_int_equal(buf_append_str(&b, "v=TLSRPTv1; rua="
	    "mailto:a@example.com; x="), 0);
	while (b.len < TLS_RPT_TXT_MAX)
		assert_int_equal(buf_append_char(&b, 'y'), 0);
	assert_int_equal(tls_rpt_txt_record_parse(b.data, b.len, &out, why,
	    sizeof(why)), 0);
	assert_int_equal(buf_append_char(&b, 'y'), 0);
	assert_int_equal(tls_rpt_txt_record_parse(b.data, b.len, &out, why,
	    sizeof(why)), -1);
	buf_free(&b);
}

/* rdata - one TXT RDATA made of the given strings */
static size_t
rdata(unsigned char *out, const char *const *s, size_t n)
{
	size_t i, o = 0, l;

	for (i = 0; i < n; i++) {
		l = strlen(s[i]);
		out[o++] = (unsigned char)l;
		memcpy(out + o, s[i], l);
		o += l;
	}
	return o;
}

static void
test_txt_select(void **state)
{
	static const char *const split[] = { "v=TLSRPTv1; rua=mailto:",
	    "a@example.com" };
	static const char *const spf[] = { "v=spf1 -all" };
	static const char *const other[] = { "v=TLSRPTv1;rua=https://r.example/" };
	static const char *const bad[] = { "v=TLSRPTv1; nothing" };
	unsigned char r0[600], r1[600], r2[600];
	unsigned char *rd[3] = { r0, r1, r2 };
	size_t rl[3];
	struct dns_rrset rr;
	struct tls_rpt_txt out;
	char why[256], joined[64];
	size_t n;

	(void)state;
	memset(&rr, 0, sizeof(rr));
	rr.rdata = rd;
	rr.rdlen = rl;
	/* a record in two character-strings, next to an SPF record */
	rl[0] = rdata(r0, spf, 1);
	rl[1] = rdata(r1, split, 2);
	rr.n = 2;
	assert_int_equal(tls_rpt_txt_select(&rr, &out, why, sizeof(why)), 1);
	assert_string_equal(out.rua[0].addr, "a@example.com");
	/* none */
	rr.n = 1;
	assert_int_equal(tls_rpt_txt_select(&rr, &out, why, sizeof(why)), 0);
	rr.n = 0;
	assert_int_equal(tls_rpt_txt_select(&rr, &out, why, sizeof(why)), 0);
	/* two TLS-RPT records: none applies (RFC 8460 3) */
	rl[2] = rdata(r2, other, 1);
	rr.n = 3;
	assert_int_equal(tls_rpt_txt_select(&rr, &out, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "several"));
	/* one, malformed */
	rl[1] = rdata(r1, bad, 1);
	rr.n = 2;
	assert_int_equal(tls_rpt_txt_select(&rr, &out, why, sizeof(why)), -1);
	/* a character-string running past the RDATA */
	rl[0] = 5;
	r0[0] = 9;
	assert_int_equal(tls_rpt_txt_select(&rr, &out, why, sizeof(why)), -1);
	/* join: exact fit and one byte short */
	rl[0] = rdata(r0, split, 2);
	assert_int_equal(tls_rpt_txt_join(r0, rl[0], joined, 37, &n), 0);
	assert_int_equal(n, 36);
	assert_int_equal(tls_rpt_txt_join(r0, rl[0], joined, 36, &n), -1);
}

static void
test_names(void **state)
{
	enum tls_rpt_result r;
	enum tls_rpt_policy p;
	int i;

	(void)state;
	for (i = 0; i < TLS_RPT_NRESULTS; i++) {
		assert_int_equal(tls_rpt_result_parse(tls_rpt_result_name(
		    (enum tls_rpt_result)i), &r), 0);
		assert_int_equal(r, i);
	}
	assert_string_equal(tls_rpt_result_name(TLS_RPT_SUCCESS), "");
	assert_string_equal(tls_rpt_result_name(TLS_RPT_STARTTLS_NOT_SUPPORTED),
	    "starttls-not-supported");
	assert_string_equal(tls_rpt_result_name(TLS_RPT_STS_WEBPKI_INVALID),
	    "sts-webpki-invalid");
	assert_int_equal(tls_rpt_result_parse("nope", &r), -1);
	assert_int_equal(tls_rpt_policy_parse("no-policy-found", &p), 0);
	assert_int_equal(p, TLS_RPT_POLICY_NONE);
	assert_string_equal(tls_rpt_policy_name(TLS_RPT_POLICY_TLSA), "tlsa");
	assert_int_equal(tls_rpt_policy_parse("STS", &p), -1);
	assert_int_equal(tls_rpt_day_start("1970-01-02"), 86400);
	assert_int_equal(tls_rpt_day_start("2024-03-01"), 1709251200);
	assert_int_equal(tls_rpt_day_start("2024-3-01"), -1);
	assert_int_equal(tls_rpt_day_start("2024-13-01"), -1);
	assert_int_equal(tls_rpt_day_start("2024-03-01x"), -1);
}

/* the RFC 8460 4.3 report of a day with two policies */
static const struct tls_rpt_failure fails[] = {
	{ "certificate-expired", "192.0.2.1", "mx1.example.com",
	  "198.51.100.1", "", 100 },
	{ "starttls-not-supported", "", "mx2.example.com", "", "\"x\"\n",
	  3 },
};
static const struct tls_rpt_policy_report pols[] = {
	{ TLS_RPT_POLICY_STS, "example.com", "version: STSv1\nmode: enforce\n"
	  "mx: *.example.com\nmax_age: 86400", "*.example.com", 5326, 103,
	  fails, 2 },
	{ TLS_RPT_POLICY_NONE, "example.com", NULL, NULL, 7, 0, NULL, 0 },
};

static void
test_report_json(void **state)
{
	struct tls_rpt_report rep;
	struct buf b;
	char path[] = "/tmp/test_tls_rpt_XXXXXX", cmd[4096];
	FILE *f;
	int fd, rc;

	(void)state;
	memset(&rep, 0, sizeof(rep));
	rep.org_name = "Example \"Org\"";
	rep.contact = "postmaster@sender.example";
	rep.report_id = "20240301.ABC@sender.example";
	rep.start = 1709251200;
	rep.end = rep.start + 86400;
	rep.pol = pols;
	rep.npol = 2;
	buf_init(&b, 1 << 20);
	assert_int_equal(tls_rpt_report_json(&rep, &b), 0);
	assert_non_null(strstr(b.data, "\"start-datetime\":"
	    "\"2024-03-01T00:00:00Z\",\"end-datetime\":\"2024-03-01T23:59:59Z\""));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
	fclose(f);
	/* RFC 8460 4.3: required members and their types */
	snprintf(cmd, sizeof(cmd), "python3 - %s <<'EOF'\n"
	    "import json, sys\n"
	    "j = json.load(open(sys.argv[1]))\n"
	    "def s(o, k): assert isinstance(o[k], str) and o[k], k\n"
	    "def n(o, k): assert isinstance(o[k], int) and o[k] >= 0, k\n"
	    "for k in ('organization-name', 'contact-info', 'report-id'): s(j, k)\n"
	    "s(j['date-range'], 'start-datetime'); s(j['date-range'], 'end-datetime')\n"
	    "assert isinstance(j['policies'], list) and len(j['policies']) == 2\n"
	    "for p in j['policies']:\n"
	    "    pol = p['policy']\n"
	    "    assert pol['policy-type'] in ('sts', 'tlsa', 'no-policy-found')\n"
	    "    s(pol, 'policy-domain')\n"
	    "    for k in ('policy-string', 'mx-host'):\n"
	    "        if k in pol: assert all(isinstance(x, str) for x in pol[k])\n"
	    "    n(p['summary'], 'total-successful-session-count')\n"
	    "    n(p['summary'], 'total-failure-session-count')\n"
	    "    tot = 0\n"
	    "    for f in p.get('failure-details', []):\n"
	    "        s(f, 'result-type'); n(f, 'failed-session-count')\n"
	    "        tot += f['failed-session-count']\n"
	    "    assert tot == p['summary']['total-failure-session-count']\n"
	    "p = j['policies'][0]\n"
	    "assert p['policy']['policy-string'] == ['version: STSv1', "
	    "'mode: enforce', 'mx: *.example.com', 'max_age: 86400']\n"
	    "assert p['policy']['mx-host'] == ['*.example.com']\n"
	    "f = p['failure-details'][0]\n"
	    "assert f['sending-mta-ip'] == '192.0.2.1' and "
	    "f['receiving-ip'] == '198.51.100.1'\n"
	    "assert 'failure-reason-code' not in f\n"
	    "assert 'sending-mta-ip' not in p['failure-details'][1]\n"
	    "assert p['failure-details'][1]['failure-reason-code'] == '\"x\"\\n'\n"
	    "q = j['policies'][1]\n"
	    "assert 'policy-string' not in q['policy'] and "
	    "'failure-details' not in q\n"
	    "assert j['organization-name'] == 'Example \"Org\"'\n"
	    "EOF\n", path);
	rc = system(cmd);
	unlink(path);
	if (rc == 127 << 8)
		skip();
	assert_int_equal(rc, 0);
	buf_free(&b);
}

static void
test_gzip(void **state)
{
	static const char text[] = "{\"organization-name\":\"x\"}";
	unsigned char out[256];
	struct buf gz;
	z_stream z;

	(void)state;
	buf_init(&gz, 1 << 16);
	assert_int_equal(tls_rpt_gzip(text, strlen(text), &gz), 0);
	assert_true(gz.len > 18);
	assert_int_equal((unsigned char)gz.data[0], 0x1f);
	assert_int_equal((unsigned char)gz.data[1], 0x8b);
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (unsigned char *)gz.data;
	z.avail_in = (uInt)gz.len;
	z.next_out = out;
	z.avail_out = sizeof(out);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, strlen(text));
	assert_memory_equal(out, text, strlen(text));
	inflateEnd(&z);
	buf_free(&gz);
	/* too small an output buffer fails */
	buf_init(&gz, 8);
	assert_int_equal(tls_rpt_gzip(text, strlen(text), &gz), -1);
	buf_free(&gz);
}

static void
mail_template(struct tls_rpt_mail *m, const void *gz, size_t gzlen)
{
	memset(m, 0, sizeof(*m));
	m->from = "tlsrpt-noreply@sender.example";
	m->to = "reports@example.com";
	m->submitter = "sender.example";
	m->policy_domain = "example.com";
	m->report_id = "20240301.ABC@sender.example";
	m->start = 1709251200;
	m->end = m->start + 86400;
	m->now = m->end + 60;
	m->message_id = "ABC123";
	m->gz = gz;
	m->gzlen = gzlen;
}

static void
test_mail(void **state)
{
	static const char json[] = "{\"policies\":[]}";
	struct tls_rpt_mail m;
	struct buf gz, out;
	char path[] = "/tmp/test_tls_rpt_XXXXXX", cmd[2048], fname[300];
	FILE *f;
	int fd, rc;

	(void)state;
	buf_init(&gz, 1 << 16);
	assert_int_equal(tls_rpt_gzip(json, strlen(json), &gz), 0);
	mail_template(&m, gz.data, gz.len);
	assert_int_equal(tls_rpt_filename(&m, fname, sizeof(fname)), 0);
	assert_string_equal(fname, "sender.example!example.com!1709251200!"
	    "1709337600!ABC123.json.gz");
	buf_init(&out, 1 << 20);
	assert_int_equal(tls_rpt_mail_build(&m, &out), 0);
	assert_non_null(strstr(out.data, "\r\nTLS-Report-Domain: example.com"
	    "\r\n"));
	assert_non_null(strstr(out.data, "\r\nDate: Sat, 02 Mar 2024 "
	    "00:01:00 +0000\r\n"));
	assert_null(strstr(out.data, "\n\n"));	/* CRLF only */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(out.data, 1, out.len, f), out.len);
	fclose(f);
	/* Python's email parser sees the RFC 8460 5.3 structure */
	snprintf(cmd, sizeof(cmd), "python3 - %s <<'EOF'\n"
	    "import email, email.policy, gzip, json, sys\n"
	    "m = email.message_from_bytes(open(sys.argv[1], 'rb').read(),"
	    " policy=email.policy.default)\n"
	    "assert m.get_content_type() == 'multipart/report'\n"
	    "assert m.get_param('report-type') == 'tlsrpt'\n"
	    "assert str(m['Subject']) == 'Report Domain: example.com "
	    "Submitter: sender.example Report-ID: "
	    "<20240301.ABC@sender.example>', m['Subject']\n"
	    "assert m['TLS-Report-Submitter'] == 'sender.example'\n"
	    "parts = list(m.iter_parts())\n"
	    "assert parts[0].get_content_type() == 'text/plain'\n"
	    "a = parts[1]\n"
	    "assert a.get_content_type() == 'application/tlsrpt+gzip'\n"
	    "assert a.get_filename() == 'sender.example!example.com!"
	    "1709251200!1709337600!ABC123.json.gz'\n"
	    "assert json.loads(gzip.decompress(a.get_content())) == "
	    "{'policies': []}\n"
	    "EOF\n", path);
	rc = system(cmd);
	unlink(path);
	buf_free(&out);
	if (rc == 127 << 8)
		skip();
	assert_int_equal(rc, 0);

	/* header injection and bad names are refused */
	buf_init(&out, 1 << 20);
	mail_template(&m, gz.data, gz.len);
	m.to = "a@example.com\r\nBcc: x@example.org";
	assert_int_equal(tls_rpt_mail_build(&m, &out), -1);
	mail_template(&m, gz.data, gz.len);
	m.report_id = "x>\r\nBcc: y";
	assert_int_equal(tls_rpt_mail_build(&m, &out), -1);
	mail_template(&m, gz.data, gz.len);
	m.policy_domain = "example..com";
	assert_int_equal(tls_rpt_mail_build(&m, &out), -1);
	mail_template(&m, gz.data, gz.len);
	m.message_id = "a-b";
	assert_int_equal(tls_rpt_mail_build(&m, &out), -1);
	mail_template(&m, gz.data, gz.len);
	m.from = "no at sign";
	assert_int_equal(tls_rpt_mail_build(&m, &out), -1);
	buf_free(&out);
	buf_free(&gz);
}

static void
test_classify(void **state)
{
	static const struct {
		const char *name;
		enum smtpc_status st;
		int tls, code;
		enum tls_verified v;
		long x509;		/* 0: reply as is */
		const char *reply;
		int ret;
		enum tls_rpt_result want;
	} c[] = {
		{ "TLS ok", SMTPC_OK, 1, 0, TLS_VERIFIED_NONE, 0, "", 0,
		  TLS_RPT_SUCCESS },
		{ "verified ok", SMTPC_OK, 1, 0, TLS_VERIFIED_CA, 0, "", 0,
		  TLS_RPT_SUCCESS },
		{ "no TLS at all (may)", SMTPC_OK, 0, 0, TLS_VERIFIED_NONE, 0,
		  "", -1, TLS_RPT_SUCCESS },
		{ "connection refused", SMTPC_TEMPFAIL, 0, 0,
		  TLS_VERIFIED_NONE, 0, "local: connect: refused", -1,
		  TLS_RPT_SUCCESS },
		{ "not offered", SMTPC_TLS_FAIL, 0, 0, TLS_VERIFIED_NONE, 0,
		  "local: STARTTLS not offered by mx.example", 0,
		  TLS_RPT_STARTTLS_NOT_SUPPORTED },
		{ "refused 454", SMTPC_TLS_FAIL, 0, 454, TLS_VERIFIED_NONE, 0,
		  "454 4.7.0 TLS not available", 0,
		  TLS_RPT_STARTTLS_NOT_SUPPORTED },
		{ "expired", SMTPC_TLS_FAIL, 0, 0, TLS_VERIFIED_FAILED,
		  X509_V_ERR_CERT_HAS_EXPIRED, NULL, 0, TLS_RPT_CERT_EXPIRED },
		{ "host mismatch", SMTPC_TLS_FAIL, 0, 0, TLS_VERIFIED_FAILED,
		  X509_V_ERR_HOSTNAME_MISMATCH, NULL, 0,
		  TLS_RPT_CERT_HOST_MISMATCH },
		{ "self-signed", SMTPC_TLS_FAIL, 0, 0, TLS_VERIFIED_FAILED,
		  X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, NULL, 0,
		  TLS_RPT_CERT_NOT_TRUSTED },
		{ "unknown CA", SMTPC_TLS_FAIL, 0, 0, TLS_VERIFIED_FAILED,
		  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, NULL, 0,
		  TLS_RPT_CERT_NOT_TRUSTED },
		{ "DANE mismatch", SMTPC_TLS_FAIL, 0, 0, TLS_VERIFIED_FAILED,
		  0, "local: certificate of mx not verified: DANE: x", 0,
		  TLS_RPT_VALIDATION_FAILURE },
		{ "handshake failure", SMTPC_TLS_FAIL, 0, 0, TLS_VERIFIED_NONE,
		  0, "local: TLS handshake: alert with mx", 0,
		  TLS_RPT_VALIDATION_FAILURE },
	};
	struct smtpc_result res;
	enum tls_rpt_result got;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&res, 0, sizeof(res));
		res.status = c[i].st;
		res.tls = c[i].tls;
		res.code = c[i].code;
		res.verified = c[i].v;
		if (c[i].x509 != 0)
			snprintf(res.reply, sizeof(res.reply), "local: "
			    "certificate of mx not verified: %s",
			    X509_verify_cert_error_string(c[i].x509));
		else
			snprintf(res.reply, sizeof(res.reply), "%s",
			    c[i].reply);
		got = TLS_RPT_SUCCESS;
		r = tls_rpt_classify(&res, &got);
		if (r != c[i].ret || (r == 0 && got != c[i].want))
			fail_msg("%s: got %d %s, want %d %s", c[i].name, r,
			    tls_rpt_result_name(got), c[i].ret,
			    tls_rpt_result_name(c[i].want));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txt_parse),
		cmocka_unit_test(test_txt_limits),
		cmocka_unit_test(test_txt_select),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_report_json),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_mail),
		cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
