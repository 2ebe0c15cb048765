/*
 * tls_rpt.c - SMTP TLS Reporting (RFC 8460): TXT record, JSON report,
 * report mail, gzip.
 *
 * Implements: RFC 8460 3 (the _smtp._tls TXT record ABNF), 4.3 (report
 * JSON), 5.1 (file name), 5.3 (report mail); RFC 1952 (gzip via zlib);
 * RFC 6068 (mailto:, the address part only).
 * Trust: the TXT record comes from the network (hostile, fuzzed); the
 * report's values come from our database but are escaped (JSON) or
 * checked (mail headers) anyway, so nothing can inject a header line.
 * Library module: no I/O, never logs.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/x509.h>
#include <zlib.h>

#include "dns.h"
#include "lib/b64.h"
#include "lib/json.h"
#include "smtp_client.h"
#include "tls_rpt.h"

static const char *const policy_names[] = { "sts", "tlsa",
    "no-policy-found" };

static const char *const result_names[TLS_RPT_NRESULTS] = {
	"",
	"starttls-not-supported",
	"certificate-host-mismatch",
	"certificate-expired",
	"certificate-not-trusted",
	"validation-failure",
	"tlsa-invalid",
	"dnssec-invalid",
	"dane-required",
	"sts-policy-fetch-error",
	"sts-policy-invalid",
	"sts-webpki-invalid",
};

const char *
tls_rpt_policy_name(enum tls_rpt_policy p)
{
	if ((unsigned)p > TLS_RPT_POLICY_NONE)
		return "no-policy-found";
	return policy_names[p];
}

int
tls_rpt_policy_parse(const char *s, enum tls_rpt_policy *out)
{
	unsigned i;

	for (i = 0; i <= TLS_RPT_POLICY_NONE; i++)
		if (strcmp(s, policy_names[i]) == 0) {
			*out = (enum tls_rpt_policy)i;
			return 0;
		}
	return -1;
}

const char *
tls_rpt_result_name(enum tls_rpt_result r)
{
	if ((unsigned)r >= TLS_RPT_NRESULTS)
		return "validation-failure";
	return result_names[r];
}

int
tls_rpt_result_parse(const char *s, enum tls_rpt_result *out)
{
	unsigned i;

	for (i = 0; i < TLS_RPT_NRESULTS; i++)
		if (strcmp(s, result_names[i]) == 0) {
			*out = (enum tls_rpt_result)i;
			return 0;
		}
	return -1;
}

/* --- classifying a session ---------------------------------------------- */

static int
says(const char *reply, long x509_err)
{
	return strstr(reply, X509_verify_cert_error_string(x509_err)) != NULL;
}

int
tls_rpt_classify(const struct smtpc_result *res, enum tls_rpt_result *out)
{
	const char *r = res->reply;

	if (res->tls && res->status != SMTPC_TLS_FAIL) {
		*out = TLS_RPT_SUCCESS;
		return 0;
	}
	if (res->status != SMTPC_TLS_FAIL)
		return -1;		/* no TLS attempted: nothing to report */
	if (strstr(r, "STARTTLS not offered") != NULL ||
	    (res->code >= 400 && res->code < 600)) {
		/* not offered, or the server refused STARTTLS/EHLO */
		*out = TLS_RPT_STARTTLS_NOT_SUPPORTED;
		return 0;
	}
	*out = TLS_RPT_VALIDATION_FAILURE;
	if (res->verified != TLS_VERIFIED_FAILED ||
	    strstr(r, "DANE:") != NULL)
		return 0;
	if (says(r, X509_V_ERR_CERT_HAS_EXPIRED))
		*out = TLS_RPT_CERT_EXPIRED;
	else if (says(r, X509_V_ERR_HOSTNAME_MISMATCH))
		*out = TLS_RPT_CERT_HOST_MISMATCH;
	else if (says(r, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) ||
	    says(r, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN) ||
	    says(r, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) ||
	    says(r, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) ||
	    says(r, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE) ||
	    says(r, X509_V_ERR_CERT_UNTRUSTED))
		*out = TLS_RPT_CERT_NOT_TRUSTED;
	return 0;
}

/* --- TXT record ---------------------------------------------------------- */

static int
fail_why(char *why, size_t whysz, const char *msg)
{
	if (why != NULL && whysz > 0)
		snprintf(why, whysz, "%s", msg);
	return -1;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* addr_ok - local@domain fit for an envelope and a header: printable,
 * no space or specials in the local part, a host name after the '@' */
static int
addr_ok(const char *a)
{
	const char *at = strrchr(a, '@'), *p;

	if (at == NULL || at == a || strlen(a) > 254 ||
	    !dns_hostname_valid(at + 1))
		return 0;
	for (p = a; p < at; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("\"<>()[],;:\\@", *p) != NULL)
			return 0;
	return 1;
}

/* mailto_addr - the address of a mailto: URI (RFC 6068: up to '?',
 * percent-decoded; one address only). 0 / -1. */
static int
mailto_addr(const char *u, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;
	int h, l;

	for (i = 0; i < n && u[i] != '?'; i++) {
		char c = u[i];

		if (c == '%') {
			if (i + 2 >= n || (h = hexval(u[i + 1])) < 0 ||
			    (l = hexval(u[i + 2])) < 0)
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return addr_ok(out) ? 0 : -1;
}

/* https_ok - "https://" host [":" port] [path...]: a host name or an IP
 * literal, no userinfo */
static int
https_ok(const char *u, size_t n)
{
	size_t i = 8, hs;

	if (n <= 8)
		return 0;
	hs = i;
	if (u[i] == '[') {
		while (i < n && u[i] != ']')
			i++;
		if (i == n)
			return 0;
		i++;
	} else {
		while (i < n && (is_alnum(u[i]) || u[i] == '.' || u[i] == '-'))
			i++;
	}
	if (i == hs)
		return 0;
	if (i < n && u[i] == ':') {
		size_t ps = ++i;
		while (i < n && u[i] >= '0' && u[i] <= '9')
			i++;
		if (i == ps || i - ps > 5)
			return 0;
	}
	return i == n || u[i] == '/' || u[i] == '?';
}

/* add_uri - one URI of the rua list */
static void
add_uri(struct tls_rpt_txt *out, const char *u, size_t n)
{
	struct tls_rpt_rua *r;

	if (out->nrua == TLS_RPT_RUA_MAX || n > TLS_RPT_URI_MAX) {
		out->nignored++;
		return;
	}
	r = &out->rua[out->nrua];
	memset(r, 0, sizeof(*r));
	if (n > 7 && strncasecmp(u, "mailto:", 7) == 0) {
		if (mailto_addr(u + 7, n - 7, r->addr, sizeof(r->addr)) < 0) {
			out->nignored++;
			return;
		}
		r->kind = TLS_RPT_URI_MAILTO;
	} else if (n > 8 && strncasecmp(u, "https://", 8) == 0 &&
	    https_ok(u, n)) {
		r->kind = TLS_RPT_URI_HTTPS;
	} else {
		out->nignored++;
		return;
	}
	memcpy(r->uri, u, n);
	r->uri[n] = '\0';
	out->nrua++;
}

/* parse_rua - tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri); 0 / -1 */
static int
parse_rua(const char *v, size_t n, struct tls_rpt_txt *out)
{
	size_t i = 0, s;

	for (;;) {
		s = i;
		/* URI characters: visible ASCII, ',' and ';' encoded */
		while (i < n && (unsigned char)v[i] > 0x20 &&
		    (unsigned char)v[i] < 0x7f && v[i] != ',' && v[i] != ';')
			i++;
		if (i == s)
			return -1;
		add_uri(out, v + s, i - s);
		while (i < n && is_wsp(v[i]))
			i++;
		if (i == n)
			return 0;
		if (v[i] != ',')
			return -1;
		i++;
		while (i < n && is_wsp(v[i]))
			i++;
	}
}

int
tls_rpt_txt_record_parse(const char *txt, size_t len,
    struct tls_rpt_txt *out, char *why, size_t whysz)
{
	size_t pos = 10, p, ns, ve, nfields = 0, nrua = 0;

	memset(out, 0, sizeof(*out));
	if (len > TLS_RPT_TXT_MAX)
		return fail_why(why, whysz, "TLS-RPT record too long");
	if (len < 10 || memcmp(txt, "v=TLSRPTv1", 10) != 0)
		return fail_why(why, whysz, "does not start with v=TLSRPTv1");
	for (;;) {
		p = pos;
		while (p < len && is_wsp(txt[p]))
			p++;
		if (p == len && nfields > 0)
			break;		/* trailing white space: tolerated */
		if (p == len || txt[p] != ';')
			return fail_why(why, whysz, "expected ';' between "
			    "fields");
		p++;
		while (p < len && is_wsp(txt[p]))
			p++;
		if (p == len) {
			if (nfields == 0)
				return fail_why(why, whysz, "no rua field");
			break;
		}
		ns = p;
		if (!is_alnum(txt[p]))
			return fail_why(why, whysz, "bad field name");
		while (p < len && (is_alnum(txt[p]) || txt[p] == '_' ||
		    txt[p] == '-' || txt[p] == '.'))
			p++;
		if (p - ns > 32 || p == len || txt[p] != '=')
			return fail_why(why, whysz, "bad field (name=value)");
		p++;
		ve = p;
		while (ve < len && txt[ve] != ';')
			ve++;
		pos = ve;
		while (ve > p && is_wsp(txt[ve - 1]))
			ve--;		/* belongs to the next field-delim */
		if (p - ns == 4 && memcmp(txt + ns, "rua=", 4) == 0) {
			if (++nrua > 1)
				return fail_why(why, whysz, "more than one "
				    "rua field");
			if (parse_rua(txt + p, ve - p, out) < 0)
				return fail_why(why, whysz, "bad rua URI "
				    "list");
		} else {
			size_t k;
			if (ve == p)
				return fail_why(why, whysz, "empty extension "
				    "value");
			for (k = p; k < ve; k++)
				if ((unsigned char)txt[k] <= 0x20 ||
				    (unsigned char)txt[k] >= 0x7f ||
				    txt[k] == '=')
					return fail_why(why, whysz, "bad "
					    "extension value");
		}
		nfields++;
	}
	if (nrua == 0)
		return fail_why(why, whysz, "no rua field");
	if (out->nrua == 0)
		return fail_why(why, whysz, "no usable rua URI (mailto: or "
		    "https:)");
	return 0;
}

int
tls_rpt_txt_join(const unsigned char *rd, size_t rdlen, char *out,
    size_t outsz, size_t *len_out)
{
	size_t i = 0, o = 0, n;

	while (i < rdlen) {
		n = rd[i++];
		if (n > rdlen - i || o + n + 1 > outsz)
			return -1;
		memcpy(out + o, rd + i, n);
		o += n;
		i += n;
	}
	if (outsz == 0)
		return -1;
	out[o] = '\0';
	*len_out = o;
	return 0;
}

/* is_candidate - "v=TLSRPTv1" then ';', white space or the end */
static int
is_candidate(const char *t, size_t n)
{
	return n >= 10 && memcmp(t, "v=TLSRPTv1", 10) == 0 &&
	    (n == 10 || t[10] == ';' || is_wsp(t[10]));
}

int
tls_rpt_txt_select(const struct dns_rrset *rr, struct tls_rpt_txt *out,
    char *why, size_t whysz)
{
	char txt[TLS_RPT_TXT_MAX + 1];
	size_t i, n, found = 0, pick = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < rr->n; i++) {
		if (tls_rpt_txt_join(rr->rdata[i], rr->rdlen[i], txt,
		    sizeof(txt), &n) < 0)
			return fail_why(why, whysz, "TXT record is not valid "
			    "character-strings (or too long)");
		if (is_candidate(txt, n)) {
			found++;
			pick = i;
		}
	}
	if (found == 0)
		return 0;
	if (found > 1)
		return fail_why(why, whysz, "several TLS-RPT records");
	(void)tls_rpt_txt_join(rr->rdata[pick], rr->rdlen[pick], txt,
	    sizeof(txt), &n);
	return tls_rpt_txt_record_parse(txt, n, out, why, whysz) < 0 ? -1 : 1;
}

/* --- JSON report -------------------------------------------------------- */

static void
iso_time(long long t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* lines_json - an LF-separated list as a JSON array of strings */
static int
lines_json(struct buf *b, const char *s)
{
	const char *p = s, *e;
	int ok = 1, first = 1;

	ok &= buf_append_char(b, '[') == 0;
	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (e > p) {
			ok &= buf_append_str(b, first ? "" : ",") == 0;
			ok &= json_append_string(b, p, (size_t)(e - p)) == 0;
			first = 0;
		}
		p = *e != '\0' ? e + 1 : e;
	}
	ok &= buf_append_char(b, ']') == 0;
	return ok ? 0 : -1;
}

static int
opt_str(struct buf *b, const char *key, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return 0;
	if (buf_printf(b, ",\"%s\":", key) < 0)
		return -1;
	return json_append_cstr(b, v);
}

static int
policy_json(struct buf *b, const struct tls_rpt_policy_report *p)
{
	size_t i;
	int ok = 1;

	ok &= buf_printf(b, "{\"policy\":{\"policy-type\":\"%s\"",
	    tls_rpt_policy_name(p->type)) == 0;
	if (p->type != TLS_RPT_POLICY_NONE && p->policy_string != NULL &&
	    p->policy_string[0] != '\0') {
		ok &= buf_append_str(b, ",\"policy-string\":") == 0;
		ok &= lines_json(b, p->policy_string) == 0;
	}
	ok &= buf_append_str(b, ",\"policy-domain\":") == 0;
	ok &= json_append_cstr(b, p->policy_domain) == 0;
	if (p->mx_patterns != NULL && p->mx_patterns[0] != '\0') {
		ok &= buf_append_str(b, ",\"mx-host\":") == 0;
		ok &= lines_json(b, p->mx_patterns) == 0;
	}
	ok &= buf_printf(b, "},\"summary\":{\"total-successful-session-count\""
	    ":%lld,\"total-failure-session-count\":%lld}", p->success,
	    p->failure) == 0;
	if (p->nfail > 0) {
		ok &= buf_append_str(b, ",\"failure-details\":[") == 0;
		for (i = 0; i < p->nfail; i++) {
			const struct tls_rpt_failure *f = &p->fail[i];

			ok &= buf_append_str(b, i ? ",{" : "{") == 0;
			ok &= buf_append_str(b, "\"result-type\":") == 0;
			ok &= json_append_cstr(b, f->result_type) == 0;
			ok &= opt_str(b, "sending-mta-ip", f->sending_ip) == 0;
			ok &= opt_str(b, "receiving-mx-hostname",
			    f->receiving_mx) == 0;
			ok &= opt_str(b, "receiving-ip", f->receiving_ip) == 0;
			ok &= buf_printf(b, ",\"failed-session-count\":%lld",
			    f->count) == 0;
			ok &= opt_str(b, "failure-reason-code",
			    f->failure_code) == 0;
			ok &= buf_append_char(b, '}') == 0;
		}
		ok &= buf_append_char(b, ']') == 0;
	}
	ok &= buf_append_char(b, '}') == 0;
	return ok ? 0 : -1;
}

int
tls_rpt_report_json(const struct tls_rpt_report *r, struct buf *b)
{
	char start[32], end[32];
	size_t i;
	int ok = 1;

	iso_time(r->start, start, sizeof(start));
	iso_time(r->end - 1, end, sizeof(end));
	ok &= buf_append_str(b, "{\"organization-name\":") == 0;
	ok &= json_append_cstr(b, r->org_name) == 0;
	ok &= buf_printf(b, ",\"date-range\":{\"start-datetime\":\"%s\","
	    "\"end-datetime\":\"%s\"}", start, end) == 0;
	ok &= buf_append_str(b, ",\"contact-info\":") == 0;
	ok &= json_append_cstr(b, r->contact) == 0;
	ok &= buf_append_str(b, ",\"report-id\":") == 0;
	ok &= json_append_cstr(b, r->report_id) == 0;
	ok &= buf_append_str(b, ",\"policies\":[") == 0;
	for (i = 0; i < r->npol; i++) {
		ok &= buf_append_str(b, i ? "," : "") == 0;
		ok &= policy_json(b, &r->pol[i]) == 0;
	}
	ok &= buf_append_str(b, "]}") == 0;
	return ok ? 0 : -1;
}

/* --- gzip --------------------------------------------------------------- */

int
tls_rpt_gzip(const void *in, size_t len, struct buf *out)
{
	unsigned char chunk[16384];
	z_stream z;
	int r;

	memset(&z, 0, sizeof(z));
	if (len > 0x7fffffffu)
		return -1;
	/* windowBits 15 + 16: a gzip header and trailer, not zlib's */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		r = deflate(&z, Z_FINISH);
		if (r == Z_STREAM_ERROR ||
		    buf_append(out, chunk, sizeof(chunk) - z.avail_out) < 0) {
			deflateEnd(&z);
			return -1;
		}
	} while (r != Z_STREAM_END);
	deflateEnd(&z);
	return 0;
}

/* --- the report mail ---------------------------------------------------- */

/* token_ok - printable ASCII without space, quotes, angle brackets */
static int
token_ok(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 200)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("\"<>\\", *p) != NULL)
			return 0;
	return 1;
}

static int
alnum_ok(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!is_alnum(*p))
			return 0;
	return 1;
}

int
tls_rpt_filename(const struct tls_rpt_mail *m, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s!%s!%lld!%lld!%s.json.gz",
	    m->submitter, m->policy_domain, m->start, m->end, m->message_id);

	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* rfc5322_date - "Mon, 02 Jan 2006 15:04:05 +0000", locale-free */
static void
rfc5322_date(long long t, char *out, size_t outsz)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, outsz, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    wd[tm.tm_wday % 7], tm.tm_mday, mo[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int
tls_rpt_mail_build(const struct tls_rpt_mail *m, struct buf *out)
{
	char date[64], start[32], end[32], fname[700], bnd[100];
	struct buf b64;
	size_t i;
	int ok = 1;

	if (!addr_ok(m->from) || !addr_ok(m->to) ||
	    !dns_hostname_valid(m->submitter) ||
	    !dns_hostname_valid(m->policy_domain) ||
	    !token_ok(m->report_id) || !alnum_ok(m->message_id) ||
	    tls_rpt_filename(m, fname, sizeof(fname)) < 0)
		return -1;
	rfc5322_date(m->now, date, sizeof(date));
	iso_time(m->start, start, sizeof(start));
	iso_time(m->end - 1, end, sizeof(end));
	snprintf(bnd, sizeof(bnd), "=_tlsrpt_%s", m->message_id);
	ok &= buf_printf(out, "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\n"
	    "Subject: Report Domain: %s\r\n Submitter: %s\r\n"
	    " Report-ID: <%s>\r\n"
	    "Message-ID: <%s@%s>\r\n"
	    "TLS-Report-Domain: %s\r\nTLS-Report-Submitter: %s\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
	    "\tboundary=\"%s\"\r\n\r\n"
	    "This is an aggregate TLS report (RFC 8460) in MIME format.\r\n"
	    "\r\n--%s\r\n"
	    "Content-Type: text/plain; charset=\"us-ascii\"\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "This is an aggregate TLS report from %s\r\n"
	    "for %s, %s to %s.\r\n"
	    "\r\n--%s\r\n"
	    "Content-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment;\r\n"
	    "\tfilename=\"%s\"\r\n\r\n",
	    m->from, m->to, date, m->policy_domain, m->submitter,
	    m->report_id, m->message_id, m->submitter, m->policy_domain,
	    m->submitter, bnd, bnd, m->submitter, m->policy_domain, start,
	    end, bnd, fname) == 0;
	buf_init(&b64, out->max);
	ok &= b64_encode(m->gz, m->gzlen, &b64) == 0;
	for (i = 0; ok && i < b64.len; i += 76) {
		size_t n = b64.len - i < 76 ? b64.len - i : 76;
		ok &= buf_append(out, b64.data + i, n) == 0;
		ok &= buf_append_str(out, "\r\n") == 0;
	}
	buf_free(&b64);
	ok &= buf_printf(out, "\r\n--%s--\r\n", bnd) == 0;
	return ok ? 0 : -1;
}
