/*
 * mta_sts.h - MTA-STS (RFC 8461): the _mta-sts TXT record, the HTTPS
 * policy, MX host matching, and a policy cache in PostgreSQL keyed by
 * domain and TXT id. The prober and the delivery side call it.
 *
 * Three layers:
 *   pure     mta_sts_txt_parse(), mta_sts_policy_parse(),
 *            mta_sts_mx_match(): bytes in, result out; no I/O, no
 *            logging; fuzzed (tests/fuzz/fuzz_mta_sts.c).
 *   fetch    mta_sts_fetch(): GET https://mta-sts.DOMAIN/.well-known/
 *            mta-sts.txt with libcurl, the host resolved by OUR resolver
 *            (dns_lookup_host(), pinned with CURLOPT_RESOLVE).
 *   cached   mta_sts_get(): TXT lookup every call, then the cache table
 *            mta_sts_policies (db/migrations/0003_mta_sts.sql) or a fetch.
 *
 * Library module: never logs; reasons come back as new strings (xfree()).
 * Thread safety: no shared state except libcurl's global init (done once,
 * pthread_once); give every thread its own resolver and db handle.
 */
#ifndef SEALGATE_MTA_STS_H
#define SEALGATE_MTA_STS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct db;
struct dns_resolver;
struct dns_rrset;

#define MTA_STS_ID_MAX		32		/* RFC 8461 3.1: 1*32 alnum */
#define MTA_STS_POLICY_MAX	65536		/* body cap, RFC 8461 3.2 */
#define MTA_STS_MAX_AGE_MAX	31557600u	/* RFC 8461 3.2 */
#define MTA_STS_MX_MAX		256		/* more "mx" lines: invalid */
#define MTA_STS_TIMEOUT_DEFAULT	30		/* seconds, timeout_secs 0 */
#define MTA_STS_TIMEOUT_MAX	120		/* larger values are cut */
/* a failed fetch for TXT id X is not retried for X within this long */
#define MTA_STS_RETRY_SECS	300
/* an unexpired cached policy whose id is unchanged is fetched again
 * (proactive refresh, RFC 8461 5.1 / 10.2) once it is this old */
#define MTA_STS_REFRESH_SECS	86400

enum mta_sts_mode {
	MTA_STS_MODE_NONE = 0,		/* "none": do not enforce anything */
	MTA_STS_MODE_TESTING,		/* "testing": check and report only */
	MTA_STS_MODE_ENFORCE,		/* "enforce": MX match + verified TLS */
};

/*
 * One policy. Every string is owned by the policy and freed with
 * mta_sts_policy_free().
 */
struct mta_sts_policy {
	enum mta_sts_mode mode;
	uint32_t max_age;		/* seconds, 0..MTA_STS_MAX_AGE_MAX */
	char **mx;			/* patterns, lower case, no trailing
					 * dot: "mx.example.com" or
					 * "*.example.com"; may be 0 only in
					 * mode none */
	size_t nmx;
	char *text;			/* the policy body as served (NUL-
					 * terminated, text_len bytes) */
	size_t text_len;
	/* set by mta_sts_get() (id, times) and mta_sts_fetch() (times);
	 * "" and 0 from mta_sts_policy_parse() */
	char id[MTA_STS_ID_MAX + 1];	/* TXT id it was fetched under */
	time_t fetched_at;
	time_t expires_at;		/* fetched_at + max_age */
};

/* "none", "testing", "enforce" */
const char *mta_sts_mode_name(enum mta_sts_mode m);
/* Free *pp and set it to NULL; NULL and *pp == NULL are fine. */
void mta_sts_policy_free(struct mta_sts_policy **pp);

/* ---- pure parsers and matching ---- */

/*
 * mta_sts_txt_parse - the policy id from the _mta-sts.DOMAIN TXT RRset as
 * dns_lookup_rr() returned it (rr->rdata[i]: RFC 1035 character-strings,
 * concatenated into one text per record). RFC 8461 3.1: records that do
 * not start with "v=STSv1" (followed by ';', white space or the end) are
 * ignored; exactly one must remain, and it must match the ABNF strictly
 * (case-sensitive "v=STSv1" and "id=", id 1..32 letters/digits, exactly
 * one id, extensions name=value with the RFC's characters, ';' between
 * fields with optional SP/HTAB around it, an optional ';' at the end).
 * Returns 1 with id_out set, 0 when there is no STS record (or rr holds
 * no records), -1 when the RRset is unusable (several STS records, the
 * STS record is malformed, or an RDATA is not valid character-strings):
 * *err_out (may be NULL) says why. For the sender 0 and -1 both mean
 * "no policy" (RFC 8461 3.1); -1 is worth reporting.
 */
int mta_sts_txt_parse(const struct dns_rrset *rr,
    char id_out[MTA_STS_ID_MAX + 1], char **err_out);

/* mta_sts_txt_record_parse - one record's concatenated text; 0 ok with
 * id_out, -1 malformed (*err_out). The "starts with v=STSv1" selection
 * is the caller's (mta_sts_txt_parse does it). */
int mta_sts_txt_record_parse(const char *txt, size_t len,
    char id_out[MTA_STS_ID_MAX + 1], char **err_out);

/*
 * mta_sts_policy_parse - the policy body (RFC 8461 3.2), len bytes (not
 * NUL-terminated; NUL bytes are invalid). Strict ABNF: lines end in LF
 * or CRLF, the last terminator optional; no empty lines, no leading
 * white space; "key:" then optional SP/HTAB then the value, trailing
 * SP/HTAB ignored; keys and the values of version/mode case-sensitive;
 * fields in any order. version "STSv1", mode enforce|testing|none and
 * max_age 0..31557600 (1-10 digits) exactly once each; mx ["*."]Domain
 * (RFC 5321 letters/digits/hyphen labels, no trailing dot), at least one
 * unless mode is none, at most MTA_STS_MX_MAX; unknown keys ignored but
 * their syntax checked (name 1-32 of [A-Za-z0-9_.-] starting alnum,
 * value visible ASCII or UTF-8 and spaces, no control characters).
 * len > MTA_STS_POLICY_MAX is refused. 0 with *out (a new policy, the
 * text copied; free with mta_sts_policy_free()), -1 with *err_out
 * naming the line.
 */
int mta_sts_policy_parse(const char *text, size_t len,
    struct mta_sts_policy **out, char **err_out);

/*
 * mta_sts_mx_pattern_match - 1 if MX host name HOST is matched by one
 * policy mx PATTERN (RFC 8461 4.1), else 0: "mx.example.com" exactly,
 * "*.example.com" any host with exactly one more (non-empty) label on
 * the left ("a.example.com", not "a.b.example.com" nor "example.com").
 * ASCII case-insensitive; one trailing dot on either side ignored.
 * NUL-terminated strings.
 */
int mta_sts_mx_pattern_match(const char *pattern, const char *host);
/* mta_sts_mx_match - 1 if any of the policy's mx patterns matches host */
int mta_sts_mx_match(const struct mta_sts_policy *p, const char *mxhost);

/* mta_sts_content_type_ok - 1 if a Content-Type header value is
 * text/plain (case-insensitive, parameters such as charset allowed) */
int mta_sts_content_type_ok(const char *ct);

/* ---- network ---- */

/*
 * mta_sts_fetch - fetch and parse DOMAIN's policy (RFC 8461 3.3):
 * mta-sts.DOMAIN is resolved with r (dns_lookup_host(): A, and AAAA when
 * the resolver does IPv6; a DNSSEC-bogus answer fails) and libcurl is
 * pinned to those addresses on port 443; GET https://mta-sts.DOMAIN/
 * .well-known/mta-sts.txt over TLS >= 1.2, https only, no redirects
 * followed (a 3xx fails), no proxy, the certificate verified against
 * ca_file (PEM; then ONLY that file) or the system store (NULL) for the
 * host name mta-sts.DOMAIN; HTTP 200 with Content-Type text/plain only;
 * the body capped at MTA_STS_POLICY_MAX (the transfer is aborted past
 * it); timeout_secs for the whole transfer (0: MTA_STS_TIMEOUT_DEFAULT;
 * at most MTA_STS_TIMEOUT_MAX). DOMAIN: a host name, any case, one
 * trailing dot allowed.
 * 0 with *policy_out (new; id "", fetched_at = time(NULL), expires_at
 * fetched_at + max_age), -1 with *err_out: one line saying what failed
 * ("mta-sts.example.com: HTTP 302 redirect (not followed) to ...",
 * "...: TLS certificate verification failed: ...", ...).
 */
int mta_sts_fetch(const char *domain, struct dns_resolver *r,
    const char *ca_file, unsigned timeout_secs,
    struct mta_sts_policy **policy_out, char **err_out);

/*
 * mta_sts_get - the policy that applies to mail for DOMAIN now (RFC 8461
 * 3, 5.1), using the cache table mta_sts_policies:
 *
 *  - The _mta-sts.DOMAIN TXT record is looked up on EVERY call, so a
 *    caller that calls mta_sts_get() before each delivery attempt has
 *    always re-checked the TXT id (RFC 8461 5.1: never fail a message
 *    permanently before that). Only DOMAIN itself is looked up: a
 *    subdomain never uses its parent's policy.
 *  - TXT id equals the cached policy's id and the cache has not expired:
 *    the cached policy (*from_cache_out 1), refetched first when it is
 *    older than MTA_STS_REFRESH_SECS (a failed refresh keeps the cache).
 *  - New or changed id, or the cache expired: fetch (mta_sts_fetch) and
 *    store. If the fetch fails, an unexpired cached policy is used
 *    (whatever its id), else there is no policy; the failure is recorded
 *    and the same id is not fetched again for MTA_STS_RETRY_SECS.
 *  - No TXT record, an invalid one, or a failed TXT lookup: an unexpired
 *    cached policy is used, else there is no policy.
 * now: the time to reason with (time(NULL) in production; tests move
 * it); the fetch itself checks certificates against the real clock.
 *
 * Returns 1 with *policy_out (new; free with mta_sts_policy_free(); its
 * id, fetched_at, expires_at filled; mode may be none), 0 when no policy
 * applies, -1 when the cache cannot be read, -2 when that failure is
 * transient (connection lost: retry, or defer the delivery; never go on
 * as if there were no policy: a cached enforce policy may exist). A
 * failed cache WRITE does not change the answer; why says "cache not
 * updated: ...". *from_cache_out (may be NULL): 1 when the policy came
 * from the table. *why_out (may be NULL; a new string in every case):
 * what happened, for the log ("no MTA-STS TXT record", "policy fetch
 * failed for TXT id=...: ...; using cached policy id=... expires ...",
 * the database error on -1/-2).
 */
int mta_sts_get(struct db *db, struct dns_resolver *r, const char *domain,
    const char *ca_file, unsigned timeout_secs, time_t now,
    struct mta_sts_policy **policy_out, int *from_cache_out,
    char **why_out);

/*
 * mta_sts_cache_load - the cached policy for DOMAIN without any network
 * I/O (console, policy preview, decide inputs). 1 with *policy_out (may
 * have expired: compare expires_at with the time), 0 none cached, -1/-2
 * database error (*err_out).
 */
int mta_sts_cache_load(struct db *db, const char *domain,
    struct mta_sts_policy **policy_out, char **err_out);

#endif
