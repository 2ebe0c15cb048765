/*
 * wkd.h - OpenPGP Web Key Directory lookup (draft-koch-openpgp-webkey-
 * service, sections 3.1 and 4.1, as GnuPG does it): the z-base-32 hash of
 * the local part, the two URLs, and the HTTPS fetch of the key.
 *
 * Library module: never logs. Reasons go to the caller's why buffer.
 * The key bytes are handed over as served; importing them (GPGME) and
 * checking that the key has a user ID with the address is the caller's.
 * Threads: no state except libcurl's global init (done once,
 * pthread_once); give every thread its own resolver.
 */
#ifndef SEALGATE_WKD_H
#define SEALGATE_WKD_H

#include <stddef.h>

struct buf;
struct dns_resolver;

#define WKD_MAX_KEY		65536	/* body cap, counted as it arrives */
#define WKD_ADDR_MAX		254	/* RFC 5321 4.5.3.1.3 path less <> */
#define WKD_HASH_LEN		32	/* z-base-32 of a 160-bit SHA-1 */
#define WKD_URL_MAX		1024	/* fits either URL of any valid
					 * address (l= percent-encoded) */
#define WKD_REDIRECTS_MAX	3	/* https redirects followed per URL */
#define WKD_TIMEOUT_DEFAULT	30	/* seconds, timeout 0 */
#define WKD_TIMEOUT_MAX		120	/* larger values are cut */

/*
 * wkd_hash - the "hu" file name of a local part: SHA-1 of local[0..
 * local_len) with ASCII A-Z lower-cased (other bytes, UTF-8 included,
 * hashed as they are, as GnuPG does), z-base-32 encoded with the WKD
 * alphabet "ybndrfg8ejkmcpqxot1uwisza345h769": 32 characters and a NUL.
 * "joe.doe" gives "iy9q119eutrkn8s1mk4r39qejnbu3n5q". out is "" only if
 * libcrypto cannot compute SHA-1 (out of memory).
 */
void wkd_hash(const char *local, size_t local_len,
    char out[WKD_HASH_LEN + 1]);

/*
 * wkd_urls - both lookup URLs of ADDR ("Joe.Doe@Example.ORG"):
 *   advanced: https://openpgpkey.example.org/.well-known/openpgpkey/
 *             example.org/hu/<hash>?l=Joe.Doe
 *   direct:   https://example.org/.well-known/openpgpkey/hu/<hash>?l=Joe.Doe
 * The domain is lower-cased; the l= value is the local part as given,
 * percent-encoded except RFC 3986 unreserved characters (ALPHA DIGIT
 * "-" "." "_" "~"; "%XX" upper-case hex). The local part is everything
 * before the last '@'. Returns 0, or -1 (advanced and direct untouched
 * or "") when ADDR is NULL, has no '@', an empty local part or domain, is
 * longer than WKD_ADDR_MAX, holds a control character (0x00-0x1f,
 * 0x7f), its domain (no trailing dot) is not a host name as
 * dns_hostname_valid() has it, openpgpkey.DOMAIN would be too long, or a
 * URL does not fit alen/dlen (WKD_URL_MAX always does).
 */
int wkd_urls(const char *addr, char *advanced, size_t alen, char *direct,
    size_t dlen);

/*
 * wkd_fetch - fetch the key of ADDR from its Web Key Directory.
 *
 * The advanced method first: openpgpkey.DOMAIN is resolved with r
 * (dns_lookup_host(): A, and AAAA when the resolver does IPv6). Only
 * when that name does not exist or has no address (NXDOMAIN, NODATA) is
 * the direct method tried, with DOMAIN itself (the draft: direct only
 * when the subdomain does not exist); a server at openpgpkey.DOMAIN that
 * answers 404 means no key, without asking DOMAIN.
 *
 * Each GET: libcurl pinned to our resolver's addresses (CURLOPT_RESOLVE;
 * curl never resolves a name itself), https only, TLS >= 1.2, no proxy,
 * the certificate verified for the host name against ca_file (PEM; then
 * ONLY that file) or the system store (NULL). 3xx redirects are followed
 * by hand, at most WKD_REDIRECTS_MAX of them, each target an https URL
 * whose host name is resolved with r again; a redirect to another scheme
 * or to an IP literal is refused. The body is capped at WKD_MAX_KEY
 * (exactly that many bytes pass; one more aborts the transfer). timeout
 * (seconds; 0: WKD_TIMEOUT_DEFAULT, at most WKD_TIMEOUT_MAX) bounds all
 * HTTP transfers of the call together; DNS lookups have the resolver's
 * own timeout.
 *
 * Returns:
 *   1  key found: HTTP 200 with a non-empty body; the raw bytes (binary
 *      OpenPGP, as served) appended to key_out;
 *   0  no key: HTTP 404 or 410, HTTP 200 with an empty body, or neither
 *      openpgpkey.DOMAIN nor DOMAIN has an address;
 *  -1  failure: DNS SERVFAIL/timeout or DNSSEC-bogus, connect or TLS
 *      failure, a certificate that does not verify, HTTP 5xx or any other
 *      status, too many or bad redirects, timeout, a body over
 *      WKD_MAX_KEY, key_out's own maximum reached; also for an address
 *      wkd_urls() refuses (retrying does not help then; why says so).
 * key_out is changed only on 1. why (whylen bytes, may be NULL/0) is
 * set in every case: one line naming the host and what happened, with
 * network text escaped and cut. *method_out (method_out may be NULL):
 * "advanced" or "direct", the method whose answer decided the result
 * ("direct" when neither host exists), NULL for an invalid address.
 */
int wkd_fetch(const char *addr, struct dns_resolver *r, const char *ca_file,
    unsigned timeout, struct buf *key_out, const char **method_out,
    char *why, size_t whylen);

#endif
