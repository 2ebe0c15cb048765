/*
 * probe.h - the TLS status of one recipient domain (DESIGN.md "Domain TLS
 * status"): resolve its MX hosts, open one SMTP session to each (first
 * address; EHLO, STARTTLS, EHLO, QUIT: never MAIL FROM), record what each
 * offers and negotiates, and derive the domain's status from the
 * weakest MX.
 *
 * probe_domain() does the I/O (DNS, SMTP, TLS) and never logs; the
 * derivation and the JSON form are pure (unit-tested).
 */
#ifndef SEALGATE_PROBE_H
#define SEALGATE_PROBE_H

#include <stddef.h>

#include "lib/buf.h"

struct dns_resolver;
struct smtp_client_conf;
struct db;
struct domain_db_update;

#define PROBE_MX_MAX		10	/* MX hosts probed per domain */
#define PROBE_ADDRS_MAX		4	/* addresses listed per host */

enum probe_verify {
	PROBE_VERIFY_NONE = 0,
	PROBE_VERIFY_PKIX,		/* every MX: chain + name (RFC 6125) */
	PROBE_VERIFY_MTA_STS,		/* an enforce policy (RFC 8461) */
	PROBE_VERIFY_DANE,		/* usable TLSA for every MX (RFC 7672) */
};

/* DANE state of one MX host (the order of dane.h's results) */
enum probe_dane {
	PROBE_DANE_UNCHECKED = 0,	/* not looked up */
	PROBE_DANE_NONE,		/* no TLSA records (or insecure) */
	PROBE_DANE_USABLE,
	PROBE_DANE_UNUSABLE,		/* TLSA records, none usable */
	PROBE_DANE_BOGUS,		/* DNSSEC validation failed */
	PROBE_DANE_TEMPFAIL,		/* the TLSA lookup failed */
};

/* tri-state facts: -1 unknown, 0 no, 1 yes */
struct probe_mx {
	char name[256];			/* MX host, lower case, no dot */
	unsigned pref;
	char addrs[PROBE_ADDRS_MAX][46];	/* its addresses (A first) */
	size_t naddrs;
	char addr[46];			/* the one probed ("" none) */
	int reached;			/* the SMTP session got to EHLO */
	int starttls;			/* -1 / 0 / 1: STARTTLS offered */
	int tls;			/* the TLS handshake completed */
	char protocol[16];		/* "TLSv1.3"; "" unknown */
	char cipher[64];
	int bits;			/* secret bits; 0 unknown */
	/* the certificate (when the handshake got that far) */
	char cert_subject[256];		/* RFC 2253 */
	char cert_issuer[256];
	char cert_sans[512];		/* subjectAltName dNSNames, "a,b" */
	char cert_not_after[32];	/* ISO 8601 UTC; "" unknown */
	char cert_key_type[16];		/* "RSA", "EC", ... */
	int cert_key_bits;		/* 0 unknown */
	int pkix_valid;			/* -1 / 0 / 1: chains to the CA store */
	char pkix_error[128];		/* why not, when 0 */
	int name_match;			/* -1 / 0 / 1: names the MX host */
	enum probe_dane dane;		/* UNCHECKED also: DANE does not apply
					 * (insecure MX or address answers) */
	char dane_why[512];
	int sts_match;			/* -1 no policy / 0 / 1: a pattern of
					 * the MTA-STS policy names the host */
	char error[512];		/* why it was not reached / TLS failed */
};

struct probe_result {
	char domain[256];
	long long probed_at;		/* unix time */
	int dns_ok;			/* the MX lookup gave hosts */
	int implicit_mx;		/* no MX: the domain's own address */
	int mx_secure;			/* the MX answer validated (DNSSEC) */
	struct probe_mx mx[PROBE_MX_MAX];
	size_t nmx;
	/* MTA-STS (RFC 8461) */
	int sts_checked;		/* the lookup was made */
	char sts_mode[16];		/* enforce, testing, none; "" none */
	char sts_id[64];
	long long sts_max_age;
	char sts_mx[512];		/* "mx: " patterns, space-separated */
	char sts_error[256];
	int dane_checked;		/* TLSA lookups were made */
	/* derived by probe_derive() */
	int conclusive;			/* at least one MX reached */
	int tls_capable;		/* -1 (inconclusive) / 0 / 1 */
	enum probe_verify verify;
	int dane;			/* every MX has usable TLSA */
	size_t nreached;
	char min_protocol[16];		/* weakest over the TLS MX hosts */
	int min_bits;			/* 0 when none did TLS */
	char error[512];		/* domain-level problem, "" none */
};

/* What a probe needs; points into the caller's objects. */
struct probe_ctx {
	const struct smtp_client_conf *cc;	/* delivery's, timeouts cut */
	struct dns_resolver *dns;		/* the calling thread's */
	struct db *db;				/* MTA-STS cache; NULL: no
						 * MTA-STS lookup */
	unsigned port;				/* delivery_port */
	int floor;				/* delivery_tls_min_version */
	const char *ca_file;			/* MTA-STS fetch: CA bundle,
						 * NULL the system store */
	unsigned sts_timeout;			/* MTA-STS fetch, seconds */
};

/*
 * probe_domain - probe DOMAIN (lower case, no trailing dot) into *out
 * (always filled) and run probe_derive(): MX lookup, per host its TLSA
 * records (dane_lookup(), when DANE applies) and one SMTP session, then
 * the MTA-STS policy (mta_sts_get(): TXT every time, the policy from the
 * cache or HTTPS; a failure there leaves sts_checked 0 and says why in
 * sts_error). Returns 0 when conclusive, -1
 * when no MX could be reached (DNS failure, null MX, every host down):
 * out->error says why, and a stored status must keep its old verdict.
 */
int probe_domain(const struct probe_ctx *ctx, const char *domain,
    struct probe_result *out);

/*
 * probe_derive - fill the derived fields from the per-MX facts (pure):
 *   tls_capable: over the MX hosts reached, every one offered STARTTLS
 *     and completed TLS at >= floor with a >= 128-bit cipher; -1 when
 *     none was reached (conclusive = 0).
 *   verify: DANE when every MX host has usable TLSA; else MTA-STS when an
 *     "enforce" policy exists; else PKIX when every reached MX did TLS
 *     with a certificate that is PKIX-valid and names the host; else none.
 *   min_protocol/min_bits: the weakest of the TLS sessions.
 */
void probe_derive(struct probe_result *r, int floor);

/* probe_domain_name - in as a domain to probe: lower case, one trailing
 * dot dropped, a host name (dns_hostname_valid()). 0 / -1. */
int probe_domain_name(const char *in, char out[256]);

/* "TLSv1.2" -> TLS1_2_VERSION (0x0303), ... ; 0 for anything else */
int probe_protocol_version(const char *name);

/* "none", "pkix", "mta-sts", "dane" (the stored verify_mode) */
const char *probe_verify_name(enum probe_verify v);
/* "unchecked", "none", "usable", "unusable", "bogus", "tempfail" */
const char *probe_dane_name(enum probe_dane d);

/*
 * probe_mx_json - the "mx" array (the stored facts); probe_result_json -
 * the whole document `sealgate probe --json` prints (field names in
 * cli_probe.c's --help). 0, -1 when b is full.
 */
int probe_mx_json(const struct probe_result *r, struct buf *b);
int probe_result_json(const struct probe_result *r, struct buf *b);

/*
 * probe_db_update - the row domain_db_store() writes for r (pure): facts
 * gets probe_mx_json() and must outlive *u, which points into r and
 * facts; next_secs: when to probe again. 0 / -1 (facts full).
 */
int probe_db_update(const struct probe_result *r, unsigned next_secs,
    struct buf *facts, struct domain_db_update *u);

#endif
