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

struct dns_conf {
	const char *const *forwarders;	/* "127.0.0.1", "127.0.0.1@5353";
					 * none: /etc/resolv.conf */
	size_t nforwarders;
	const char *trust_anchor_file;	/* DNSSEC root/zone anchor, or NULL */
	unsigned timeout_ms;		/* per lookup, bounded; 0 = 10000 */
	int ipv6;			/* also look up and return AAAA */
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

/* New resolver or NULL with *err_out (xfree()). */
struct dns_resolver *dns_resolver_new(const struct dns_conf *c,
    char **err_out);
void dns_resolver_free(struct dns_resolver **rp);

/*
 * dns_lookup_mx - resolve DOMAIN for mail delivery into *out (always
 * filled; free with dns_mx_result_free()). Returns out->status.
 */
enum dns_status dns_lookup_mx(struct dns_resolver *r, const char *domain,
    struct dns_mx_result *out);
/* dns_lookup_host - A/AAAA of one host (static routes), as one MX host */
enum dns_status dns_lookup_host(struct dns_resolver *r, const char *host,
    struct dns_mx_result *out);
void dns_mx_result_free(struct dns_mx_result *res);

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
/* dns_mx_order - sort by preference; shuffle runs of equal preference
 * with rnd (returns a random number; deterministic in tests). */
void dns_mx_order(struct dns_mx_host *h, size_t n,
    unsigned (*rnd)(void *), void *arg);

#endif
