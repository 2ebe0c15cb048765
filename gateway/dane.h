/*
 * dane.h - DANE for SMTP (RFC 7672, RFC 6698, RFC 7671): the TLSA
 * records of one MX host, DNSSEC-validated through dns.h, reduced to
 * what the delivery client must do with that host.
 *
 * When DANE applies (RFC 7672 2.2):
 *   - Only to a host whose address records validated ("secure": the
 *     dns_mx_host.secure flag). With insecure address records the
 *     connection can be redirected anyway, so no TLSA lookup is done.
 *   - RFC 7672 2.2.1 lets a client (MAY) use DANE even for MX hosts
 *     from an insecure MX RRset; sealgate does not: an attacker who can
 *     forge an insecure MX RRset picks a host without TLSA records
 *     anyway. So DANE applies only when the MX lookup was secure too
 *     (dns_mx_result.secure; for a domain without MX, RFC 7672 2.2.2,
 *     the secure denial of the MX and the domain's own secure address
 *     records). A bogus MX RRset never gets this far: dns_lookup_mx()
 *     fails it.
 *   - The TLSA RRset is looked up at _PORT._tcp.MXHOST (RFC 7672 2.2.3);
 *     for an MX host that is a CNAME, RFC 7672 2.2.3 would first try the
 *     CNAME-expanded name: not done, the MX host name is the base domain
 *     (and the one reference identifier, 3.2.2). An alias at the TLSA
 *     name itself is followed by the resolver, its DNSSEC state included.
 *
 * What the lookup result means for delivery to that host:
 *   DANE_NONE      no DANE for this host (insecure answer, no records,
 *                  NXDOMAIN, or DANE does not apply): the rule's own
 *                  level, unchanged.
 *   DANE_USABLE    secure, at least one usable record (usage DANE-TA(2)
 *                  or DANE-EE(3), selector 0/1, matching type 0/1/2 of
 *                  the right length): TLS_LEVEL_DANE with result.recs;
 *                  whatever the rule said (RFC 7672 2.2: TLS mandatory,
 *                  authenticated by the records; a weaker level would be
 *                  a downgrade).
 *   DANE_UNUSABLE  secure records, none usable (only PKIX-TA(0)/
 *                  PKIX-EE(1), RFC 7672 3.1.3, or unknown parameters):
 *                  TLS still mandatory without authentication
 *                  (RFC 7672 2.2): at least TLS_LEVEL_ENCRYPT.
 *   DANE_BOGUS     the TLSA answer failed DNSSEC validation, and
 *   DANE_TEMPFAIL  the lookup failed (SERVFAIL, timeout): RFC 7672
 *                  2.1.1: this host must not be used at all; try the
 *                  next MX host, defer when none is left.
 *
 * Library module: never logs; reasons in result.why. dane_lookup()
 * blocks on the resolver (a delivery worker thread's own).
 */
#ifndef SEALGATE_DANE_H
#define SEALGATE_DANE_H

#include <stddef.h>

#include "dns.h"
#include "tls_client.h"		/* struct tls_tlsa */

#define DANE_RR_TLSA		52
#define DANE_TLSA_FULL_MAX	8192	/* a Full(0) certificate or key;
					 * larger records are refused */

/* RFC 7218 names of the TLSA parameters */
#define DANE_USAGE_PKIX_TA	0
#define DANE_USAGE_PKIX_EE	1
#define DANE_USAGE_DANE_TA	2
#define DANE_USAGE_DANE_EE	3
#define DANE_SELECTOR_CERT	0
#define DANE_SELECTOR_SPKI	1
#define DANE_MTYPE_FULL		0
#define DANE_MTYPE_SHA256	1
#define DANE_MTYPE_SHA512	2

enum dane_status {
	DANE_NONE = 0,
	DANE_USABLE,
	DANE_UNUSABLE,
	DANE_BOGUS,
	DANE_TEMPFAIL,
};

struct dane_result {
	enum dane_status status;
	struct tls_tlsa *recs;		/* DANE_USABLE: the usable records,
					 * data owned by the result */
	size_t nrecs;
	size_t nanswer;			/* records in the answer (at most
					 * DNS_RR_MAX) */
	size_t nmalformed;		/* of them, not parseable */
	char qname[DNS_NAME_MAX + 1];	/* "_25._tcp.mx.example" */
	char why[512];			/* what decided the status */
};

/*
 * dane_tlsa_parse - TLSA RDATA (RFC 6698 2.1: usage, selector, matching
 * type, association data) into *rec; rec->data points into rd (valid as
 * long as rd). 0 ok; -1 malformed: shorter than 4 bytes, or the data of
 * the wrong length for its matching type: SHA2-256(1) exactly 32 bytes,
 * SHA2-512(2) exactly 64, any other type 1..DANE_TLSA_FULL_MAX. Unknown
 * parameter values parse (dane_tlsa_usable() says whether they count).
 * Pure.
 */
int dane_tlsa_parse(const unsigned char *rd, size_t len,
    struct tls_tlsa *rec);

/*
 * dane_tlsa_usable - 1 when an SMTP client may use rec (RFC 7672 3.1):
 * usage DANE-TA(2) or DANE-EE(3), selector Cert(0) or SPKI(1), matching
 * type Full(0), SHA2-256(1) or SHA2-512(2); else 0 (PKIX-TA(0) and
 * PKIX-EE(1) among them, RFC 7672 3.1.3). Pure.
 */
int dane_tlsa_usable(const struct tls_tlsa *rec);

/*
 * dane_applies - 1 when a TLSA lookup is to be made for an MX host, by
 * the rule above: the MX lookup and the host's address lookups were all
 * DNSSEC-secure (dns_mx_result.secure, dns_mx_host.secure). Pure.
 */
int dane_applies(int mx_secure, int host_addr_secure);

/*
 * dane_lookup - the TLSA records of mx_host (no trailing dot needed) for
 * port (0: 25) into *out (always filled; free with dane_result_free()).
 * Returns out->status, as in the table above. Call it only when
 * dane_applies(); it checks no address records itself. An IP literal or
 * a name that cannot carry TLSA records gives DANE_NONE without a query.
 */
enum dane_status dane_lookup(struct dns_resolver *r, const char *mx_host,
    unsigned port, struct dane_result *out);
void dane_result_free(struct dane_result *res);

/* "none", "usable", "unusable", "bogus", "tempfail" */
const char *dane_status_name(enum dane_status s);

#endif
