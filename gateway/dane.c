/*
 * dane.c - TLSA records for SMTP delivery: parse, judge, look up.
 *
 * Implements: RFC 6698 2.1 (TLSA RDATA), RFC 7218 (parameter names),
 * RFC 7671 4.1 and 5 (unusable records are ignored), RFC 7672 2.1.1
 * (bogus or failed TLSA lookups: the host is not used), 2.2 (secure
 * usable records make TLS mandatory and authenticated, secure unusable
 * ones make it mandatory only), 2.2.3 (the TLSA base domain), 3.1
 * (DANE-TA(2) and DANE-EE(3) only; PKIX-TA(0)/PKIX-EE(1) unusable).
 * Trust: the RDATA comes from the network (through a validating
 * resolver, but a signed zone can still hold anything): every length is
 * checked before it is read, and the records kept are copies bounded by
 * DANE_TLSA_FULL_MAX and DNS_RR_MAX.
 * Ownership: a dane_result owns its records and their data; free with
 * dane_result_free().
 * Library module: never logs.
 */
#include <stdio.h>
#include <string.h>

#include "dane.h"
#include "dns.h"
#include "lib/xalloc.h"
#include "tls_client.h"

/* dane_tlsa_parse - RFC 6698 2.1 wire format, bounds checked */
int
dane_tlsa_parse(const unsigned char *rd, size_t len, struct tls_tlsa *rec)
{
	size_t dlen;

	memset(rec, 0, sizeof(*rec));
	if (rd == NULL || len < 4)
		return -1;		/* three octets and some data */
	dlen = len - 3;
	switch (rd[2]) {
	case DANE_MTYPE_SHA256:
		if (dlen != 32)
			return -1;
		break;
	case DANE_MTYPE_SHA512:
		if (dlen != 64)
			return -1;
		break;
	default:
		/* Full(0), or a matching type we do not know: bounded */
		if (dlen > DANE_TLSA_FULL_MAX)
			return -1;
		break;
	}
	rec->usage = rd[0];
	rec->selector = rd[1];
	rec->mtype = rd[2];
	rec->data = rd + 3;
	rec->len = dlen;
	return 0;
}

/* dane_tlsa_usable - RFC 7672 3.1, and what OpenSSL can match */
int
dane_tlsa_usable(const struct tls_tlsa *rec)
{
	if (rec->usage != DANE_USAGE_DANE_TA &&
	    rec->usage != DANE_USAGE_DANE_EE)
		return 0;
	if (rec->selector != DANE_SELECTOR_CERT &&
	    rec->selector != DANE_SELECTOR_SPKI)
		return 0;
	if (rec->mtype != DANE_MTYPE_FULL && rec->mtype != DANE_MTYPE_SHA256 &&
	    rec->mtype != DANE_MTYPE_SHA512)
		return 0;
	return rec->data != NULL && rec->len > 0;
}

int
dane_applies(int mx_secure, int host_addr_secure)
{
	return mx_secure != 0 && host_addr_secure != 0;
}

/* tlsa_name - "_PORT._tcp.HOST" (trailing dot of host dropped); 0 / -1
 * when host cannot be a TLSA base domain (IP literal, too long, empty) */
static int
tlsa_name(const char *host, unsigned port, char *dst, size_t dstsz)
{
	char h[DNS_NAME_MAX + 1];
	size_t n;
	int w;

	n = strlen(host);
	if (n == 0 || n > DNS_NAME_MAX)
		return -1;
	memcpy(h, host, n + 1);
	if (h[n - 1] == '.')
		h[--n] = '\0';
	/* also refuses IP literals: DANE binds names, not addresses */
	if (!dns_hostname_valid(h))
		return -1;
	w = snprintf(dst, dstsz, "_%u._tcp.%s", port, h);
	/* 253 characters is the longest name DNS can carry (RFC 1035) */
	if (w < 0 || (size_t)w >= dstsz || w > DNS_NAME_MAX - 2) {
		dst[0] = '\0';
		return -1;
	}
	return 0;
}

/* keep - a copy of rec into out->recs */
static void
keep(struct dane_result *out, const struct tls_tlsa *rec)
{
	struct tls_tlsa *k = &out->recs[out->nrecs++];
	unsigned char *d;

	d = xmalloc(rec->len);
	memcpy(d, rec->data, rec->len);
	*k = *rec;
	k->data = d;
}

enum dane_status
dane_lookup(struct dns_resolver *r, const char *mx_host, unsigned port,
    struct dane_result *out)
{
	struct dns_rrset rr;
	struct tls_tlsa rec;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (port == 0)
		port = 25;
	if (port > 65535 || mx_host == NULL ||
	    tlsa_name(mx_host, port, out->qname, sizeof(out->qname)) < 0) {
		out->status = DANE_NONE;
		snprintf(out->why, sizeof(out->why), "not a host name DANE "
		    "applies to");
		return out->status;
	}
	(void)dns_lookup_rr(r, out->qname, DANE_RR_TLSA, &rr);
	switch (rr.status) {
	case DNS_BOGUS:
		out->status = DANE_BOGUS;
		snprintf(out->why, sizeof(out->why), "%s", rr.why);
		goto done;
	case DNS_NXDOMAIN:
		out->status = DANE_NONE;
		snprintf(out->why, sizeof(out->why), "%s TLSA: no such name%s",
		    out->qname, rr.secure ? " (secure)" : "");
		goto done;
	case DNS_OK:
		break;
	default:
		/* RFC 7672 2.1.1: a failed lookup is not "no records" */
		out->status = DANE_TEMPFAIL;
		snprintf(out->why, sizeof(out->why), "%s", rr.why[0] != '\0' ?
		    rr.why : "TLSA lookup failed");
		goto done;
	}
	if (rr.nodata || rr.n == 0) {
		out->status = DANE_NONE;
		snprintf(out->why, sizeof(out->why), "%s TLSA: no records%s",
		    out->qname, rr.secure ? " (secure)" : "");
		goto done;
	}
	out->nanswer = rr.n;
	if (!rr.secure) {
		/* RFC 7672 2.2: insecure TLSA records are not used */
		out->status = DANE_NONE;
		snprintf(out->why, sizeof(out->why), "%s TLSA: %zu record%s, "
		    "not DNSSEC-validated: ignored", out->qname, rr.n,
		    rr.n == 1 ? "" : "s");
		goto done;
	}
	out->recs = xcalloc(rr.n, sizeof(*out->recs));
	for (i = 0; i < rr.n; i++) {
		if (dane_tlsa_parse(rr.rdata[i], rr.rdlen[i], &rec) < 0) {
			out->nmalformed++;
			continue;
		}
		if (dane_tlsa_usable(&rec))
			keep(out, &rec);
	}
	if (out->nrecs > 0) {
		out->status = DANE_USABLE;
		snprintf(out->why, sizeof(out->why), "%s TLSA: %zu of %zu "
		    "record%s usable", out->qname, out->nrecs, rr.n,
		    rr.n == 1 ? "" : "s");
	} else {
		out->status = DANE_UNUSABLE;
		snprintf(out->why, sizeof(out->why), "%s TLSA: none of %zu "
		    "record%s usable (%zu malformed): TLS without "
		    "authentication", out->qname, rr.n, rr.n == 1 ? "" : "s",
		    out->nmalformed);
		xfree(out->recs);
		out->recs = NULL;
	}
done:
	dns_rrset_free(&rr);
	return out->status;
}

void
dane_result_free(struct dane_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->nrecs; i++)
		xfree((void *)res->recs[i].data);
	xfree(res->recs);
	memset(res, 0, sizeof(*res));
}

const char *
dane_status_name(enum dane_status s)
{
	switch (s) {
	case DANE_NONE:
		return "none";
	case DANE_USABLE:
		return "usable";
	case DANE_UNUSABLE:
		return "unusable";
	case DANE_BOGUS:
		return "bogus";
	case DANE_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}
