/*
 * probe.c - probe one recipient domain's MX hosts for TLS (see probe.h).
 *
 * Implements: RFC 5321 5.1 (MX order), RFC 3207 (STARTTLS), RFC 7672 and
 * RFC 8461 only as inputs to the derived verify mode.
 * Sessions: smtp_conn_open() at TLS_LEVEL_MAY with the delivery TLS
 * client settings does greeting, EHLO, STARTTLS, EHLO; smtp_conn_close()
 * sends QUIT. No MAIL, RCPT or DATA is ever sent. The TLS client records
 * the peer certificate's facts at every level (PKIX validity against the
 * delivery CA store and the host name match included), so one session
 * per host tells everything.
 * Trust: everything from the network is hostile; the SMTP client bounds
 * and sanitises it, JSON output escapes it.
 * Library module: never logs.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dane.h"
#include "domain_db.h"
#include "dns.h"
#include "lib/json.h"
#include "lib/xalloc.h"
#include "mta_sts.h"
#include "probe.h"
#include "smtp_client.h"
#include "tls_client.h"

int
probe_protocol_version(const char *name)
{
	static const struct {
		const char *name;
		int version;
	} v[] = {
		{ "TLSv1.3", TLS1_3_VERSION },
		{ "TLSv1.2", TLS1_2_VERSION },
		{ "TLSv1.1", TLS1_1_VERSION },
		{ "TLSv1", TLS1_VERSION },
		{ "SSLv3", SSL3_VERSION },
	};
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(name, v[i].name) == 0)
			return v[i].version;
	return 0;
}

int
probe_domain_name(const char *in, char out[256])
{
	size_t n = strlen(in), i;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 :
		    in[i]);
	out[n] = '\0';
	return dns_hostname_valid(out) ? 0 : -1;
}

const char *
probe_verify_name(enum probe_verify v)
{
	switch (v) {
	case PROBE_VERIFY_PKIX:
		return "pkix";
	case PROBE_VERIFY_MTA_STS:
		return "mta-sts";
	case PROBE_VERIFY_DANE:
		return "dane";
	default:
		return "none";
	}
}

const char *
probe_dane_name(enum probe_dane d)
{
	switch (d) {
	case PROBE_DANE_NONE:
		return "none";
	case PROBE_DANE_USABLE:
		return "usable";
	case PROBE_DANE_UNUSABLE:
		return "unusable";
	case PROBE_DANE_BOGUS:
		return "bogus";
	case PROBE_DANE_TEMPFAIL:
		return "tempfail";
	default:
		return "unchecked";
	}
}

/* probe_derive - the domain's verdict from its MX hosts; see probe.h */
void
probe_derive(struct probe_result *r, int floor)
{
	size_t i, ndane = 0, npkix = 0;
	int capable = 1, minv = 0, v;

	if (floor == 0)
		floor = TLS1_2_VERSION;
	r->nreached = 0;
	r->min_protocol[0] = '\0';
	r->min_bits = 0;
	for (i = 0; i < r->nmx; i++) {
		const struct probe_mx *m = &r->mx[i];

		if (m->dane == PROBE_DANE_USABLE)
			ndane++;
		if (!m->reached)
			continue;
		r->nreached++;
		if (m->starttls != 1 || !m->tls) {
			capable = 0;
			continue;
		}
		v = probe_protocol_version(m->protocol);
		if (v == 0 || v < floor || m->bits < 128)
			capable = 0;
		if (v != 0 && (minv == 0 || v < minv)) {
			minv = v;
			snprintf(r->min_protocol, sizeof(r->min_protocol), "%s",
			    m->protocol);
		}
		if (m->bits > 0 && (r->min_bits == 0 || m->bits < r->min_bits))
			r->min_bits = m->bits;
		if (m->pkix_valid == 1 && m->name_match == 1)
			npkix++;
	}
	r->conclusive = r->nreached > 0;
	r->tls_capable = r->conclusive ? capable : -1;
	r->dane = r->nmx > 0 && ndane == r->nmx;
	if (r->dane)
		r->verify = PROBE_VERIFY_DANE;
	else if (strcmp(r->sts_mode, "enforce") == 0)
		r->verify = PROBE_VERIFY_MTA_STS;
	else if (r->nreached > 0 && npkix == r->nreached)
		r->verify = PROBE_VERIFY_PKIX;
	else
		r->verify = PROBE_VERIFY_NONE;
}

/* --- the I/O ------------------------------------------------------------ */

static void
set_port(struct dns_addr *a, unsigned port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&a->ss)->sin6_port =
		    htons((uint16_t)port);
}

/* cert_facts - what the TLS client saw of the peer certificate */
static void
cert_facts(const struct tls_cert_facts *f, struct probe_mx *m)
{
	struct tm tm;
	time_t t;

	if (!f->have_cert)
		return;
	snprintf(m->cert_subject, sizeof(m->cert_subject), "%s", f->subject);
	snprintf(m->cert_issuer, sizeof(m->cert_issuer), "%s", f->issuer);
	snprintf(m->cert_sans, sizeof(m->cert_sans), "%s", f->names);
	if (f->not_after != 0) {
		t = (time_t)f->not_after;
		gmtime_r(&t, &tm);
		strftime(m->cert_not_after, sizeof(m->cert_not_after),
		    "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	snprintf(m->cert_key_type, sizeof(m->cert_key_type), "%s",
	    f->key_type);
	m->cert_key_bits = f->key_bits;
	m->pkix_valid = f->pkix_valid;
	if (f->pkix_valid == 0)
		snprintf(m->pkix_error, sizeof(m->pkix_error), "%s",
		    f->pkix_error);
	m->name_match = f->name_match;
}

/* probe_dane - the host's TLSA records, when DANE applies to it */
static void
probe_dane(const struct probe_ctx *ctx, int mx_secure,
    const struct dns_mx_host *h, struct probe_mx *m)
{
	struct dane_result dr;

	if (!dane_applies(mx_secure, h->secure)) {
		snprintf(m->dane_why, sizeof(m->dane_why), "DANE does not "
		    "apply: MX or address answers not DNSSEC-secure");
		return;
	}
	switch (dane_lookup(ctx->dns, h->name, ctx->port, &dr)) {
	case DANE_USABLE:
		m->dane = PROBE_DANE_USABLE;
		break;
	case DANE_UNUSABLE:
		m->dane = PROBE_DANE_UNUSABLE;
		break;
	case DANE_BOGUS:
		m->dane = PROBE_DANE_BOGUS;
		break;
	case DANE_TEMPFAIL:
		m->dane = PROBE_DANE_TEMPFAIL;
		break;
	default:
		m->dane = PROBE_DANE_NONE;
		break;
	}
	snprintf(m->dane_why, sizeof(m->dane_why), "%s", dr.why);
	dane_result_free(&dr);
}

/* probe_sts - the domain's MTA-STS policy, and which MX it names */
static void
probe_sts(const struct probe_ctx *ctx, struct probe_result *out)
{
	struct mta_sts_policy *pol = NULL;
	char *why = NULL;
	size_t i;
	int r, o;

	if (ctx->db == NULL)
		return;
	r = mta_sts_get(ctx->db, ctx->dns, out->domain, ctx->ca_file,
	    ctx->sts_timeout, time(NULL), &pol, NULL, &why);
	out->sts_checked = r >= 0;
	if (r != 1)
		snprintf(out->sts_error, sizeof(out->sts_error), "%s",
		    why != NULL ? why : "no policy");
	xfree(why);
	if (r != 1)
		return;
	snprintf(out->sts_mode, sizeof(out->sts_mode), "%s",
	    mta_sts_mode_name(pol->mode));
	snprintf(out->sts_id, sizeof(out->sts_id), "%s", pol->id);
	out->sts_max_age = pol->max_age;
	for (i = 0, o = 0; i < pol->nmx; i++) {
		int n = snprintf(out->sts_mx + o, sizeof(out->sts_mx) -
		    (size_t)o, "%s%s", o ? " " : "", pol->mx[i]);
		if (n < 0 || (size_t)n >= sizeof(out->sts_mx) - (size_t)o) {
			out->sts_mx[o] = '\0';	/* whole patterns only */
			break;
		}
		o += n;
	}
	for (i = 0; i < out->nmx; i++)
		out->mx[i].sts_match = mta_sts_mx_match(pol, out->mx[i].name);
	mta_sts_policy_free(&pol);
}

/* probe_host - one MX host, its first address */
static void
probe_host(const struct probe_ctx *ctx, const struct dns_mx_host *h,
    struct probe_mx *m)
{
	struct smtpc_result res;
	struct smtp_conn *c;
	struct dns_addr a;
	size_t i;

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", h->name);
	m->pref = h->pref;
	m->starttls = -1;
	m->pkix_valid = -1;
	m->name_match = -1;
	m->sts_match = -1;
	m->dane = PROBE_DANE_UNCHECKED;
	for (i = 0; i < h->naddrs && i < PROBE_ADDRS_MAX; i++)
		snprintf(m->addrs[i], sizeof(m->addrs[i]), "%s",
		    h->addrs[i].text);
	m->naddrs = i;
	if (h->naddrs == 0) {
		snprintf(m->error, sizeof(m->error), "no address");
		return;
	}
	a = h->addrs[0];
	set_port(&a, ctx->port);
	snprintf(m->addr, sizeof(m->addr), "%s", a.text);
	memset(&res, 0, sizeof(res));
	c = smtp_conn_open(ctx->cc, h->name, (const struct sockaddr *)&a.ss,
	    a.len, TLS_LEVEL_MAY, &res);
	if (c == NULL && res.status != SMTPC_TLS_FAIL) {
		/* no session: connection refused, timeout, 4xx/5xx greeting */
		snprintf(m->error, sizeof(m->error), "%s", res.reply);
		return;
	}
	m->reached = 1;
	/*
	 * MAY: a session without TLS means STARTTLS was not offered (or a
	 * 4xx/5xx answered it); TLS_FAIL means it was offered and the
	 * handshake failed or gave less than the floor or 128 bits.
	 */
	m->starttls = c == NULL || res.tls;
	m->tls = c != NULL && res.tls;
	snprintf(m->protocol, sizeof(m->protocol), "%s", res.tls_protocol);
	snprintf(m->cipher, sizeof(m->cipher), "%s", res.tls_cipher);
	m->bits = res.tls_bits;
	cert_facts(&res.cert, m);
	if (c == NULL)
		snprintf(m->error, sizeof(m->error), "%s", res.reply);
	smtp_conn_close(&c);
}

int
probe_domain(const struct probe_ctx *ctx, const char *domain,
    struct probe_result *out)
{
	struct dns_mx_result mx;
	enum dns_status st;
	size_t i;

	memset(out, 0, sizeof(*out));
	snprintf(out->domain, sizeof(out->domain), "%s", domain);
	out->probed_at = (long long)time(NULL);
	out->tls_capable = -1;
	st = dns_lookup_mx(ctx->dns, domain, &mx);
	out->implicit_mx = mx.implicit;
	out->mx_secure = mx.secure;
	switch (st) {
	case DNS_OK:
		out->dns_ok = 1;
		break;
	case DNS_NULL_MX:
		snprintf(out->error, sizeof(out->error), "null MX: the domain "
		    "accepts no mail");
		break;
	case DNS_NXDOMAIN:
		snprintf(out->error, sizeof(out->error), "domain not found "
		    "(%s)", mx.why);
		break;
	case DNS_NO_ADDRESS:
		snprintf(out->error, sizeof(out->error), "no MX host has an "
		    "address (%s)", mx.why);
		break;
	default:
		snprintf(out->error, sizeof(out->error), "DNS lookup failed "
		    "(%s)", mx.why);
		break;
	}
	for (i = 0; out->dns_ok && i < mx.nhosts && i < PROBE_MX_MAX; i++) {
		probe_host(ctx, &mx.hosts[i], &out->mx[out->nmx]);
		probe_dane(ctx, mx.secure, &mx.hosts[i], &out->mx[out->nmx]);
		out->nmx++;
	}
	out->dane_checked = out->nmx > 0;
	if (out->dns_ok && mx.nhosts > PROBE_MX_MAX)
		snprintf(out->error, sizeof(out->error), "%zu MX hosts, only "
		    "the first %d probed", mx.nhosts, PROBE_MX_MAX);
	dns_mx_result_free(&mx);
	if (out->dns_ok)
		probe_sts(ctx, out);
	probe_derive(out, ctx->floor);
	if (!out->conclusive && out->error[0] == '\0')
		snprintf(out->error, sizeof(out->error), "no MX host reached");
	return out->conclusive ? 0 : -1;
}

/* --- JSON --------------------------------------------------------------- */

static int
j_str(struct buf *b, const char *key, const char *v, int comma)
{
	int ok = buf_printf(b, "%s\"%s\":", comma ? "," : "", key) == 0;

	return ok && json_append_cstr(b, v != NULL && v[0] != '\0' ? v :
	    NULL) == 0 ? 0 : -1;
}

static int
j_tri(struct buf *b, const char *key, int v)
{
	return buf_printf(b, ",\"%s\":%s", key, v < 0 ? "null" : v ? "true" :
	    "false");
}

static int
j_num(struct buf *b, const char *key, long long v, int null_if_zero)
{
	if (null_if_zero && v == 0)
		return buf_printf(b, ",\"%s\":null", key);
	return buf_printf(b, ",\"%s\":%lld", key, v);
}

/* j_list - s split at sep as a JSON array of strings */
static int
j_list(struct buf *b, const char *key, const char *s, const char *sep)
{
	const char *p = s, *e;
	int ok, first = 1;

	ok = buf_printf(b, ",\"%s\":[", key) == 0;
	while (ok && *p != '\0') {
		e = strstr(p, sep);
		if (e == NULL)
			e = p + strlen(p);
		if (e > p) {
			ok &= buf_append_str(b, first ? "" : ",") == 0;
			ok &= json_append_string(b, p, (size_t)(e - p)) == 0;
			first = 0;
		}
		p = *e != '\0' ? e + strlen(sep) : e;
	}
	ok &= buf_append_char(b, ']') == 0;
	return ok ? 0 : -1;
}

static int
mx_one_json(const struct probe_mx *m, struct buf *b)
{
	int ok = 1;
	size_t i;

	ok &= j_str(b, "name", m->name, 0) == 0;
	ok &= j_num(b, "pref", m->pref, 0) == 0;
	ok &= buf_append_str(b, ",\"addresses\":[") == 0;
	for (i = 0; i < m->naddrs; i++) {
		ok &= buf_append_str(b, i ? "," : "") == 0;
		ok &= json_append_cstr(b, m->addrs[i]) == 0;
	}
	ok &= buf_append_char(b, ']') == 0;
	ok &= j_str(b, "address", m->addr, 1) == 0;
	ok &= j_tri(b, "reached", m->reached) == 0;
	ok &= j_tri(b, "starttls", m->starttls) == 0;
	ok &= j_tri(b, "tls", m->tls) == 0;
	ok &= j_str(b, "protocol", m->protocol, 1) == 0;
	ok &= j_str(b, "cipher", m->cipher, 1) == 0;
	ok &= j_num(b, "bits", m->bits, 1) == 0;
	ok &= buf_append_str(b, ",\"cert\":{") == 0;
	ok &= j_str(b, "subject", m->cert_subject, 0) == 0;
	ok &= j_str(b, "issuer", m->cert_issuer, 1) == 0;
	ok &= j_list(b, "sans", m->cert_sans, ",") == 0;
	ok &= j_str(b, "not_after", m->cert_not_after, 1) == 0;
	ok &= j_str(b, "key_type", m->cert_key_type, 1) == 0;
	ok &= j_num(b, "key_bits", m->cert_key_bits, 1) == 0;
	ok &= j_tri(b, "pkix_valid", m->pkix_valid) == 0;
	ok &= j_str(b, "pkix_error", m->pkix_error, 1) == 0;
	ok &= j_tri(b, "name_match", m->name_match) == 0;
	ok &= buf_append_char(b, '}') == 0;
	ok &= j_str(b, "dane", probe_dane_name(m->dane), 1) == 0;
	ok &= j_str(b, "dane_why", m->dane_why, 1) == 0;
	ok &= j_tri(b, "mta_sts_match", m->sts_match) == 0;
	ok &= j_str(b, "error", m->error, 1) == 0;
	return ok ? 0 : -1;
}

int
probe_mx_json(const struct probe_result *r, struct buf *b)
{
	int ok = 1;
	size_t i;

	ok &= buf_append_char(b, '[') == 0;
	for (i = 0; i < r->nmx; i++) {
		ok &= buf_append_str(b, i ? ",{" : "{") == 0;
		ok &= mx_one_json(&r->mx[i], b) == 0;
		ok &= buf_append_char(b, '}') == 0;
	}
	ok &= buf_append_char(b, ']') == 0;
	return ok ? 0 : -1;
}

int
probe_result_json(const struct probe_result *r, struct buf *b)
{
	char when[32];
	struct tm tm;
	time_t t = (time_t)r->probed_at;
	int ok = 1;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ok &= buf_append_char(b, '{') == 0;
	ok &= j_str(b, "domain", r->domain, 0) == 0;
	ok &= j_str(b, "probed_at", when, 1) == 0;
	ok &= j_tri(b, "conclusive", r->conclusive) == 0;
	ok &= j_tri(b, "tls_capable", r->tls_capable) == 0;
	ok &= j_str(b, "verify_mode", r->conclusive ?
	    probe_verify_name(r->verify) : NULL, 1) == 0;
	ok &= j_num(b, "mx_count", (long long)r->nmx, 0) == 0;
	ok &= j_num(b, "mx_reached", (long long)r->nreached, 0) == 0;
	ok &= j_str(b, "min_protocol", r->min_protocol, 1) == 0;
	ok &= j_num(b, "min_cipher_bits", r->min_bits, 1) == 0;
	ok &= j_tri(b, "implicit_mx", r->implicit_mx) == 0;
	ok &= j_tri(b, "mx_dnssec", r->mx_secure) == 0;
	ok &= buf_append_str(b, ",\"mta_sts\":{") == 0;
	ok &= buf_printf(b, "\"checked\":%s", r->sts_checked ? "true" :
	    "false") == 0;
	ok &= j_str(b, "mode", r->sts_mode, 1) == 0;
	ok &= j_str(b, "id", r->sts_id, 1) == 0;
	ok &= j_num(b, "max_age", r->sts_max_age, 1) == 0;
	ok &= j_list(b, "mx", r->sts_mx, " ") == 0;
	ok &= j_str(b, "error", r->sts_error, 1) == 0;
	ok &= buf_append_char(b, '}') == 0;
	ok &= j_tri(b, "dane", r->dane_checked ? r->dane : -1) == 0;
	ok &= j_str(b, "error", r->error, 1) == 0;
	ok &= buf_append_str(b, ",\"mx\":") == 0;
	ok &= probe_mx_json(r, b) == 0;
	ok &= buf_append_char(b, '}') == 0;
	return ok ? 0 : -1;
}

int
probe_db_update(const struct probe_result *r, unsigned next_secs,
    struct buf *facts, struct domain_db_update *u)
{
	memset(u, 0, sizeof(*u));
	if (probe_mx_json(r, facts) < 0)
		return -1;
	u->domain = r->domain;
	u->conclusive = r->conclusive;
	u->tls_capable = r->tls_capable == 1;
	u->verify_mode = probe_verify_name(r->verify);
	u->mx_count = (int)r->nmx;
	u->min_protocol = r->min_protocol[0] != '\0' ? r->min_protocol : NULL;
	u->min_cipher_bits = r->min_bits;
	u->mta_sts_mode = r->sts_mode[0] != '\0' ? r->sts_mode : NULL;
	u->mta_sts_id = r->sts_id[0] != '\0' ? r->sts_id : NULL;
	u->dane = r->dane_checked ? r->dane : -1;
	u->facts = buf_cstr(facts);
	u->error = r->error[0] != '\0' ? r->error : NULL;
	u->next_probe_secs = next_secs;
	return 0;
}
