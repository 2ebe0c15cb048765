/*
 * https_get.c - the libcurl setup shared by our HTTPS clients (see
 * https_get.h).
 *
 * Implements: RFC 8461 3.3 and RFC 8460 5.2 (HTTPS with a verified
 * certificate; no redirects followed by libcurl), RFC 8996 (TLS >= 1.2).
 * Trust: the URL and host come from the callers, which checked them; the
 * addresses from our resolver. Bodies are capped, never interpreted.
 * Library module: never logs.
 * Ownership: https_curl_new() and https_resolve_entry() return new
 * objects of the caller's; https_curl_why() static text.
 */
#include <pthread.h>
#include <string.h>

#include <curl/curl.h>

#include "dns.h"
#include "https_get.h"
#include "lib/buf.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/* curl_init_once - libcurl's global init, once per process */
static void
curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* https_curl_new - a new easy handle after the global init */
CURL *
https_curl_new(void)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return NULL;
	return curl_easy_init();
}

/* https_resolve_entry - "host:port:addr,addr,[v6]" for CURLOPT_RESOLVE */
struct curl_slist *
https_resolve_entry(const char *host, long port,
    const struct dns_mx_host *h)
{
	struct curl_slist *sl;
	struct buf b;
	size_t i;

	buf_init(&b, 4096);
	(void)buf_printf(&b, "%s:%ld:", host, port);
	for (i = 0; i < h->naddrs; i++) {
		const char *a = h->addrs[i].text;

		if (strchr(a, ':') != NULL)
			(void)buf_printf(&b, "%s[%s]", i ? "," : "", a);
		else
			(void)buf_printf(&b, "%s%s", i ? "," : "", a);
	}
	sl = curl_slist_append(NULL, buf_cstr(&b));
	buf_free(&b);
	return sl;
}

/* body_write - collect the body; one byte past the cap aborts */
static size_t
body_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct https_body *hb = arg;
	size_t n = size * nmemb;

	if (n > hb->b.max - hb->b.len) {
		hb->too_big = 1;
		return 0;
	}
	if (buf_append(&hb->b, ptr, n) < 0)
		return 0;
	return n;
}

/* https_curl_setup - https only, TLS >= 1.2, verified, no proxy */
int
https_curl_setup(CURL *c, const struct https_opts *o)
{
	o->errbuf[0] = '\0';
	if (curl_easy_setopt(c, CURLOPT_URL, o->url) != CURLE_OK ||
	    /* our resolver, not curl's: the same DNS as every other
	     * lookup, and nothing for curl to resolve itself */
	    (o->resolve != NULL &&
	    curl_easy_setopt(c, CURLOPT_RESOLVE, o->resolve) != CURLE_OK) ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") !=
	    CURLE_OK ||
	    /* MTA-STS and TLS-RPT follow none (RFC 8461 3.3, RFC 8460
	     * 5.2); WKD follows them itself, each target resolved by us */
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    /* no proxy, whatever the environment says */
	    curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms) !=
	    CURLE_OK ||
	    (o->connect_timeout_ms > 0 &&
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    o->connect_timeout_ms) != CURLE_OK) ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, o->errbuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent) !=
	    CURLE_OK)
		return HTTPS_SETUP_OPTION;
	/* refuse a declared Content-Length over the cap at once;
	 * body_write counts what actually arrives */
	if (o->body != NULL &&
	    (curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)o->body->b.max) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, o->body) != CURLE_OK))
		return HTTPS_SETUP_OPTION;
	/* that file and nothing else: no compiled-in CA path */
	if (o->ca_file != NULL &&
	    (curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CAPATH, NULL) != CURLE_OK))
		return HTTPS_SETUP_CA_FILE;
	return 0;
}

/* https_curl_why - the reason for a failed curl_easy_perform() */
const char *
https_curl_why(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return "TLS certificate verification failed";
	case CURLE_SSL_CONNECT_ERROR:
		return "TLS handshake failed";
	case CURLE_SSL_CACERT_BADFILE:
		return "cannot use the CA file";
	case CURLE_COULDNT_CONNECT:
		return "cannot connect";
	default:
		return curl_easy_strerror(rc);
	}
}
