/*
 * dns.h - mail routing lookups with libunbound: MX (RFC 5321 5.1) with
 * null MX (RFC 7505) and the implicit MX (the domain's own A/AAAA), and
 * the A/AAAA addresses of each MX host. DNSSEC status is kept per answer
 * (DANE needs it later). Configurable forwarders and trust anchors so
 * tests point it at a local DNS server.
 *
 * Library module: never logs; reasons in the result. One resolver per
 * thread (it is not shared between threads).
 */
#ifndef SEALGATE_DNS_H
#define SEALGATE_DNS_H

#include <stddef.h>
#include <sys/socket.h>

#define DNS_NAME_MAX 255
#define DNS_MX_HOSTS_MAX 32		/* more MX records are ignored */
#define DNS_ADDRS_MAX 16		/* per host */
#define DNS_TIMEOUT_DEFAULT_MS 10000	/* dns_conf.timeout_ms == 0 */
#define DNS_TIMEOUT_MAX_MS 120000	/* larger values are cut to this */

struct dns_conf {
	const char *const *forwarders;	/* "127.0.0.1", "127.0.0.1@5353";
					 * none: /etc/resolv.conf */
	size_t nforwarders;
	const char *trust_anchor_file;	/* DNSSEC root/zone anchor, or NULL */
	unsigned timeout_ms;		/* per dns_lookup_mx()/_host() call,
					 * all its queries together; 0 =
					 * DNS_TIMEOUT_DEFAULT_MS */
	int ipv6;			/* also look up and return AAAA */
	const char *const *allow_zones;	/* special-use zones libunbound
					 * answers NXDOMAIN itself (RFC 6761:
					 * "test", "invalid", "onion", ...)
					 * to resolve through the forwarders
					 * anyway; tests use { "test" } */
	size_t nallow_zones;
};

enum dns_status {
	DNS_OK = 0,
	DNS_TEMPFAIL,		/* SERVFAIL, timeout, network: retry later */
	DNS_NXDOMAIN,		/* domain does not exist: permanent */
	DNS_NULL_MX,		/* "MX 0 ." : domain accepts no mail: permanent */
	DNS_NO_ADDRESS,		/* no MX and no A/AAAA: permanent */
	DNS_BOGUS,		/* DNSSEC validation failed: treat as tempfail */
};

struct dns_addr {
	struct sockaddr_storage ss;	/* port 0; the caller sets it */
	socklen_t len;
	char text[46];			/* numeric form */
};

struct dns_mx_host {
	char name[DNS_NAME_MAX + 1];	/* no trailing dot, lower case */
	unsigned pref;
	struct dns_addr *addrs;		/* A first, then AAAA */
	size_t naddrs;
	int secure;			/* the address answers validated */
	enum dns_status status;		/* DNS_OK or why it has no address */
};

struct dns_mx_result {
	enum dns_status status;
	int implicit;			/* no MX records: the domain itself */
	int secure;			/* the MX answer validated (DNSSEC) */
	struct dns_mx_host *hosts;	/* preference order, equal shuffled */
	size_t nhosts;
	char why[256];			/* human-readable reason when not OK */
};

struct dns_resolver;

/* New resolver or NULL with *err_out (xfree()); c NULL: all defaults.
 * Reads the trust anchor file now, so a bad one fails here and not at
 * the first lookup. Silences libunbound's own log (process-wide). */
struct dns_resolver *dns_resolver_new(const struct dns_conf *c,
    char **err_out);
void dns_resolver_free(struct dns_resolver **rp);

/*
 * dns_lookup_mx - resolve DOMAIN for mail delivery into *out (always
 * filled; free with dns_mx_result_free()). Returns out->status.
 * DNS_OK: at least one host has an address; hosts without one stay in
 * the list with their own status. A domain that is not a valid host
 * name gives DNS_NXDOMAIN. MX targets that are IP literals or not valid
 * host names are skipped; if none is left: DNS_NO_ADDRESS.
 */
enum dns_status dns_lookup_mx(struct dns_resolver *r, const char *domain,
    struct dns_mx_result *out);
/* dns_lookup_host - A/AAAA of one host (static routes), as one MX host
 * with preference 0 (out->secure: its address answers validated); an IP
 * literal ("192.0.2.1", "2001:db8::1", also in brackets,
 * "[IPv6:2001:db8::1]") is returned as is without DNS. */
enum dns_status dns_lookup_host(struct dns_resolver *r, const char *host,
    struct dns_mx_result *out);
void dns_mx_result_free(struct dns_mx_result *res);

/*
 * A raw RRset for the protocols built on DNS (MTA-STS TXT, TLS-RPT TXT,
 * DANE TLSA): the RDATA of each record, uncompressed as libunbound hands
 * it, and the DNSSEC state. Parsing the RDATA is the caller's (pure,
 * bounded) job.
 */
#define DNS_RR_MAX 64			/* more records are ignored */

struct dns_rrset {
	enum dns_status status;		/* DNS_OK (data or no data),
					 * NXDOMAIN, TEMPFAIL, BOGUS */
	int nodata;			/* the name exists, no such records */
	int secure;			/* validated by DNSSEC */
	unsigned char **rdata;		/* n records */
	size_t *rdlen;
	size_t n;
	char why[256];
};

/* dns_lookup_rr - RRtype (e.g. 16 TXT, 52 TLSA) records of name. Always
 * fills out (free with dns_rrset_free()); returns out->status. */
enum dns_status dns_lookup_rr(struct dns_resolver *r, const char *name,
    int rrtype, struct dns_rrset *out);
void dns_rrset_free(struct dns_rrset *rr);

/*
 * Pure helpers, exposed for unit tests and fuzzing:
 * dns_mx_rdata_parse - MX RDATA (RFC 1035 3.3.9: 16-bit preference, then
 * an uncompressed wire-format name; libunbound hands rdata uncompressed)
 * into pref and a dotted lower-case name without the trailing dot ("" for
 * the root: null MX). 0 ok, -1 malformed (bounds, label > 63, name > 255,
 * compression pointer, trailing bytes).
 */
int dns_mx_rdata_parse(const unsigned char *rd, size_t len,
    unsigned *pref_out, char name_out[DNS_NAME_MAX + 1]);
/* dns_mx_order - sort by preference (stable); shuffle runs of equal
 * preference with rnd (returns a random number; deterministic in tests;
 * NULL: the system's random numbers, getrandom(2)). */
void dns_mx_order(struct dns_mx_host *h, size_t n,
    unsigned (*rnd)(void *), void *arg);
/* dns_hostname_valid - 1 if NAME (no trailing dot) is a host name as
 * RFC 5321 4.1.2 "Domain" has it (letters, digits, inner hyphens; labels
 * 1-63, at most 253 characters) and not an IP address (the last label is
 * not all digits), else 0 */
int dns_hostname_valid(const char *name);

#endif
