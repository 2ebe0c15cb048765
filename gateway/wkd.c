/*
 * wkd.c - OpenPGP Web Key Directory lookup: the z-base-32 local-part
 * hash, the advanced and direct URLs, and the HTTPS GET of the key
 * (libcurl, pinned to our own resolver's addresses).
 *
 * Implements: draft-koch-openpgp-webkey-service 3.1 (key discovery, the
 * advanced method first, direct only without the openpgpkey subdomain),
 * 4.1 (the hu/ path, z-base-32 SHA-1 of the lower-cased local part, the
 * l= parameter); RFC 6189 5.1.6 (z-base-32 alphabet); RFC 3986 2.3
 * (unreserved characters); RFC 9110 15.4 (redirects).
 * Trust: the address comes from a message envelope, the answers from any
 * DNS and web server; bodies are capped and never interpreted here.
 * No logging here.
 * Ownership: nothing returned is allocated; the key is appended to the
 * caller's buffer.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "dns.h"
#include "https_get.h"
#include "wkd.h"
#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

#define WKD_SHOW_MAX	80	/* network text quoted in a reason */
#define WKD_SUBDOMAIN	"openpgpkey."
#define WKD_PATH	"/.well-known/openpgpkey/"

static const char zb32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

static void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* set_why - format the reason into the caller's buffer, if there is one */
static void
set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* show - text from the network as a short printable quote: printable
 * ASCII kept, anything else \xNN, cut after WKD_SHOW_MAX bytes */
static void
show(char *out, size_t outlen, const char *p)
{
	size_t i, o = 0, n = p != NULL ? strlen(p) : 0;

	out[0] = '\0';
	for (i = 0; i < n && i < WKD_SHOW_MAX; i++) {
		unsigned char c = (unsigned char)p[i];
		int w;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			w = snprintf(out + o, outlen - o, "%c", c);
		else
			w = snprintf(out + o, outlen - o, "\\x%02x", c);
		if (w < 0 || (size_t)w >= outlen - o)
			break;
		o += (size_t)w;
	}
	out[o] = '\0';
	if (n > WKD_SHOW_MAX && o + 4 < outlen)
		snprintf(out + o, outlen - o, "...");
}

/* ---- names and URLs (pure) ---- */

/* wkd_hash - z-base-32 SHA-1 of the ASCII-lower-cased local part */
void
wkd_hash(const char *local, size_t local_len, char out[WKD_HASH_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE], chunk[256];
	unsigned mdlen = 0, acc = 0;
	size_t i, done = 0, o = 0;
	EVP_MD_CTX *m;
	int ok, bits = 0;

	out[0] = '\0';
	m = EVP_MD_CTX_new();
	if (m == NULL)
		return;
	ok = EVP_DigestInit_ex(m, EVP_sha1(), NULL);
	/* lower-case in pieces: no copy of an input of any length */
	while (ok && done < local_len) {
		size_t n = local_len - done;

		if (n > sizeof(chunk))
			n = sizeof(chunk);
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)local[done + i];

			chunk[i] = c >= 'A' && c <= 'Z' ?
			    (unsigned char)(c - 'A' + 'a') : c;
		}
		ok = EVP_DigestUpdate(m, chunk, n);
		done += n;
	}
	if (ok)
		ok = EVP_DigestFinal_ex(m, md, &mdlen);
	EVP_MD_CTX_free(m);
	if (!ok || mdlen != 20)
		return;
	/* 160 bits, most significant first, 5 at a time: 32 characters */
	for (i = 0; i < mdlen; i++) {
		acc = (acc << 8) | md[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = zb32[(acc >> bits) & 0x1f];
		}
		acc &= (1u << bits) - 1;
	}
	out[o] = '\0';
}

/* is_unreserved - RFC 3986 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~" */
static int
is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* wkd_urls - the advanced and direct URLs of an address */
int
wkd_urls(const char *addr, char *advanced, size_t alen, char *direct,
    size_t dlen)
{
	char dom[DNS_NAME_MAX + 1], sub[DNS_NAME_MAX + 16];
	char enc[3 * WKD_ADDR_MAX + 1], hash[WKD_HASH_LEN + 1];
	const char *at;
	size_t n, i, ll, dl, e = 0;
	int w;

	if (advanced != NULL && alen > 0)
		advanced[0] = '\0';
	if (direct != NULL && dlen > 0)
		direct[0] = '\0';
	if (addr == NULL || advanced == NULL || direct == NULL)
		return -1;
	n = strnlen(addr, WKD_ADDR_MAX + 1);
	if (n == 0 || n > WKD_ADDR_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)addr[i];

		if (c < 0x20 || c == 0x7f)
			return -1;
	}
	/* the domain never holds an '@'; a quoted local part may */
	at = strrchr(addr, '@');
	if (at == NULL)
		return -1;
	ll = (size_t)(at - addr);
	dl = n - ll - 1;
	if (ll == 0 || dl == 0 || dl > DNS_NAME_MAX - 2)
		return -1;
	for (i = 0; i < dl; i++) {
		char c = at[1 + i];

		dom[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	dom[dl] = '\0';
	snprintf(sub, sizeof(sub), WKD_SUBDOMAIN "%s", dom);
	if (!dns_hostname_valid(dom) || !dns_hostname_valid(sub))
		return -1;
	for (i = 0; i < ll; i++) {
		unsigned char c = (unsigned char)addr[i];

		if (is_unreserved(c)) {
			enc[e++] = (char)c;
		} else {
			snprintf(enc + e, sizeof(enc) - e, "%%%02X", c);
			e += 3;
		}
	}
	enc[e] = '\0';
	wkd_hash(addr, ll, hash);
	if (hash[0] == '\0')
		return -1;
	w = snprintf(advanced, alen, "https://%s" WKD_PATH "%s/hu/%s?l=%s",
	    sub, dom, hash, enc);
	if (w < 0 || (size_t)w >= alen)
		goto too_long;
	w = snprintf(direct, dlen, "https://%s" WKD_PATH "hu/%s?l=%s",
	    dom, hash, enc);
	if (w < 0 || (size_t)w >= dlen)
		goto too_long;
	return 0;
too_long:
	if (alen > 0)
		advanced[0] = '\0';
	if (dlen > 0)
		direct[0] = '\0';
	return -1;
}

/* ---- HTTPS GET ---- */

/* one wkd_fetch() call: the limits shared by all its transfers */
struct wkd_get {
	struct dns_resolver *r;
	const char *ca_file;
	unsigned timeout;		/* seconds, for the reasons */
	struct timespec deadline;	/* CLOCK_MONOTONIC */
	struct https_body body;		/* max WKD_MAX_KEY */
	char *why;
	size_t whylen;
};

/* remaining_ms - time left before the deadline, 0 if none */
static long
remaining_ms(const struct wkd_get *g)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(g->deadline.tv_sec - now.tv_sec) * 1000L +
	    (g->deadline.tv_nsec - now.tv_nsec) / 1000000L;
	return ms > 0 ? ms : 0;
}

/* url_target - check an https URL and take it apart: the lower-cased
 * host name (no IP literals), the port, the URL again with that host;
 * 0, or -1 with *err_out a static reason */
static int
url_target(const char *url, char host[DNS_NAME_MAX + 1], long *port_out,
    char **url_out, const char **err_out)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *h = NULL, *port = NULL, *full = NULL;
	uint64_t pv = 0;
	size_t i, n;
	int ret = -1;

	*url_out = NULL;
	*err_out = "not a URL";
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url,
	    CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "https") != 0) {
		*err_out = "not https";
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK)
		goto out;
	n = strlen(h);
	if (n > DNS_NAME_MAX) {
		*err_out = "host name too long";
		goto out;
	}
	for (i = 0; i <= n; i++)
		host[i] = h[i] >= 'A' && h[i] <= 'Z' ?
		    (char)(h[i] - 'A' + 'a') : h[i];
	/* a name the certificate is checked for, resolved by us; an IP
	 * literal (or anything else) would bypass our resolver */
	if (!dns_hostname_valid(host)) {
		*err_out = "host is not a host name";
		goto out;
	}
	if (curl_url_set(u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK || num_parse_u64_str(port, 1, 65535, &pv) < 0 ||
	    curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK)
		goto out;
	*port_out = (long)pv;
	*url_out = xstrdup(full);
	ret = 0;
out:
	curl_free(scheme);
	curl_free(h);
	curl_free(port);
	curl_free(full);
	curl_url_cleanup(u);
	return ret;
}

/* curl_why - the reason for a failed curl_easy_perform() */
static void
curl_why(struct wkd_get *g, const char *host, CURLcode rc,
    const char *errbuf)
{
	char q[WKD_SHOW_MAX * 4 + 8];

	show(q, sizeof(q), errbuf[0] != '\0' ? errbuf :
	    curl_easy_strerror(rc));
	if (g->body.too_big || rc == CURLE_FILESIZE_EXCEEDED)
		set_why(g->why, g->whylen, "%s: key larger than %d bytes",
		    host, WKD_MAX_KEY);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		set_why(g->why, g->whylen, "%s: timed out (%u s in all): %s",
		    host, g->timeout, q);
	else
		set_why(g->why, g->whylen, "%s: %s: %s", host,
		    https_curl_why(rc), q);
}

/* get_once - one GET of url (host:port pinned to h's addresses) into
 * g->body; the HTTP status in *code_out and, for a 3xx, the Location
 * (resolved against url) in *loc_out (new; xfree()). 0 transfer done,
 * -1 failed (why set) */
static int
get_once(struct wkd_get *g, const char *url, const char *host, long port,
    const struct dns_mx_host *h, long *code_out, char **loc_out)
{
	char errbuf[CURL_ERROR_SIZE], *loc = NULL;
	struct curl_slist *resolve;
	struct https_opts o;
	CURL *c = NULL;
	CURLcode rc;
	long ms = remaining_ms(g);
	int ret = -1, st;

	*code_out = 0;
	*loc_out = NULL;
	buf_reset(&g->body.b);
	g->body.too_big = 0;
	if (ms == 0) {
		set_why(g->why, g->whylen, "%s: timed out (%u s in all)",
		    host, g->timeout);
		return -1;
	}
	resolve = https_resolve_entry(host, port, h);
	if (resolve == NULL || (c = https_curl_new()) == NULL) {
		set_why(g->why, g->whylen, "%s: cannot initialise libcurl",
		    host);
		goto out;
	}
	/* redirects are followed by hand (get_url), each target resolved
	 * by us: https_curl_setup() tells curl to follow none */
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.resolve = resolve;
	o.ca_file = g->ca_file;
	o.timeout_ms = o.connect_timeout_ms = ms;
	o.body = &g->body;
	o.errbuf = errbuf;
	o.user_agent = "sealgate-wkd";
	st = https_curl_setup(c, &o);
	if (st < 0) {
		set_why(g->why, g->whylen, "%s: libcurl refused %s", host,
		    st == HTTPS_SETUP_CA_FILE ? "the CA file" : "an option");
		goto out;
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		curl_why(g, host, rc, errbuf);
		goto out;
	}
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code_out);
	if (*code_out >= 300 && *code_out < 400) {
		(void)curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
		if (loc != NULL)
			*loc_out = xstrdup(loc);
	}
	ret = 0;
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(resolve);
	return ret;
}

/* get_url - GET url0, whose host's addresses are first, following up to
 * WKD_REDIRECTS_MAX https redirects; 1 body in g->body, 0 no key,
 * -1 failure; why set in every case */
static int
get_url(struct wkd_get *g, const char *url0, const struct dns_mx_host *first)
{
	char host[DNS_NAME_MAX + 1], next[DNS_NAME_MAX + 1];
	char q[WKD_SHOW_MAX * 4 + 8], *url = NULL, *loc = NULL;
	const char *err;
	struct dns_mx_result res;
	const struct dns_mx_host *h = first;
	long port = 443, code = 0;
	int hop, ret = -1;

	memset(&res, 0, sizeof(res));
	if (url_target(url0, host, &port, &url, &err) < 0) {
		show(q, sizeof(q), url0);
		set_why(g->why, g->whylen, "\"%s\": %s", q, err);
		return -1;
	}
	for (hop = 0; ; hop++) {
		if (get_once(g, url, host, port, h, &code, &loc) < 0)
			goto out;
		if (code < 300 || code >= 400)
			break;
		if (loc == NULL) {
			set_why(g->why, g->whylen, "%s: HTTP %ld redirect "
			    "without a Location", host, code);
			goto out;
		}
		show(q, sizeof(q), loc);
		if (hop == WKD_REDIRECTS_MAX) {
			set_why(g->why, g->whylen, "%s: more than %d redirects "
			    "(the last to \"%s\")", host, WKD_REDIRECTS_MAX, q);
			goto out;
		}
		xfree(url);
		if (url_target(loc, next, &port, &url, &err) < 0) {
			set_why(g->why, g->whylen, "%s: HTTP %ld redirect to "
			    "\"%s\" refused: %s", host, code, q, err);
			goto out;
		}
		memcpy(host, next, sizeof(host));
		xfree(loc);
		loc = NULL;
		dns_mx_result_free(&res);
		if (dns_lookup_host(g->r, host, &res) != DNS_OK ||
		    res.nhosts == 0 || res.hosts[0].naddrs == 0) {
			set_why(g->why, g->whylen, "redirect target %s: no "
			    "address: %s", host, res.why[0] != '\0' ?
			    res.why : "no A/AAAA record");
			goto out;
		}
		h = &res.hosts[0];
	}
	if (code == 200 && g->body.b.len > 0) {
		set_why(g->why, g->whylen, "%s: HTTP 200, %zu bytes%s", host,
		    g->body.b.len, hop > 0 ? " (after redirects)" : "");
		ret = 1;
	} else if (code == 200) {
		set_why(g->why, g->whylen, "%s: HTTP 200 with an empty body",
		    host);
		ret = 0;
	} else if (code == 404 || code == 410) {
		set_why(g->why, g->whylen, "%s: HTTP %ld: no key", host, code);
		ret = 0;
	} else {
		set_why(g->why, g->whylen, "%s: HTTP %ld", host, code);
	}
out:
	xfree(url);
	xfree(loc);
	dns_mx_result_free(&res);
	return ret;
}

/* host_state - 1 has an address, 0 does not exist (NXDOMAIN, NODATA),
 * -1 lookup failed */
static int
host_state(enum dns_status st, const struct dns_mx_result *res)
{
	if (st == DNS_OK)
		return res->nhosts > 0 && res->hosts[0].naddrs > 0 ? 1 : 0;
	if (st == DNS_NXDOMAIN || st == DNS_NO_ADDRESS)
		return 0;
	return -1;
}

/* wkd_fetch - the key of an address, advanced method first */
int
wkd_fetch(const char *addr, struct dns_resolver *r, const char *ca_file,
    unsigned timeout, struct buf *key_out, const char **method_out,
    char *why, size_t whylen)
{
	char adv[WKD_URL_MAX], dir[WKD_URL_MAX];
	char sub[DNS_NAME_MAX + 16], q[WKD_SHOW_MAX * 4 + 8];
	const char *dom;
	struct dns_mx_result res;
	struct wkd_get g;
	int hs, ret = -1;

	if (method_out != NULL)
		*method_out = NULL;
	set_why(why, whylen, "%s", "");
	if (wkd_urls(addr, adv, sizeof(adv), dir, sizeof(dir)) < 0) {
		show(q, sizeof(q), addr != NULL ? addr : "");
		set_why(why, whylen, "\"%s\" is not an address a Web Key "
		    "Directory can serve", q);
		return -1;
	}
	/* the host names, from the URLs wkd_urls() built and checked */
	dom = dir + strlen("https://");
	snprintf(sub, sizeof(sub), "%.*s", (int)strcspn(adv +
	    strlen("https://"), "/"), adv + strlen("https://"));

	memset(&g, 0, sizeof(g));
	g.r = r;
	g.ca_file = ca_file;
	g.timeout = timeout == 0 ? WKD_TIMEOUT_DEFAULT :
	    timeout > WKD_TIMEOUT_MAX ? WKD_TIMEOUT_MAX : timeout;
	g.why = why;
	g.whylen = whylen;
	clock_gettime(CLOCK_MONOTONIC, &g.deadline);
	g.deadline.tv_sec += (time_t)g.timeout;
	buf_init(&g.body.b, WKD_MAX_KEY);

	if (method_out != NULL)
		*method_out = "advanced";
	hs = host_state(dns_lookup_host(r, sub, &res), &res);
	if (hs < 0) {
		set_why(why, whylen, "%s: DNS lookup failed: %s", sub,
		    res.why);
		goto out;
	}
	if (hs > 0) {
		ret = get_url(&g, adv, &res.hosts[0]);
		goto got;
	}
	/* draft 3.1: the direct method only without the subdomain */
	dns_mx_result_free(&res);
	if (method_out != NULL)
		*method_out = "direct";
	snprintf(sub, sizeof(sub), "%.*s", (int)strcspn(dom, "/"), dom);
	hs = host_state(dns_lookup_host(r, sub, &res), &res);
	if (hs < 0) {
		set_why(why, whylen, "%s: DNS lookup failed: %s", sub,
		    res.why);
		goto out;
	}
	if (hs == 0) {
		set_why(why, whylen, "neither " WKD_SUBDOMAIN "%s nor %s has "
		    "an address", sub, sub);
		ret = 0;
		goto out;
	}
	ret = get_url(&g, dir, &res.hosts[0]);
got:
	if (ret == 1 &&
	    buf_append(key_out, g.body.b.data, g.body.b.len) < 0) {
		set_why(why, whylen, "%s: the key (%zu bytes) does not fit "
		    "the caller's buffer", sub, g.body.b.len);
		ret = -1;
	}
out:
	dns_mx_result_free(&res);
	buf_free(&g.body.b);
	return ret;
}
