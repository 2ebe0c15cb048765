/*
 * https_get.h - the libcurl setup shared by our HTTPS clients (MTA-STS
 * policy fetch, WKD key lookup, TLS-RPT upload): libcurl's global init
 * once per process, the CURLOPT_RESOLVE entry that pins a host to OUR
 * resolver's addresses, and one easy handle configured for https only,
 * TLS >= 1.2 with the certificate and name checked, no proxy, no
 * redirects followed by curl, time limits and a body capped as it
 * arrives. Each caller keeps its own URL checks, redirect policy and
 * reason texts.
 * Library module: never logs.
 */
#ifndef SEALGATE_HTTPS_GET_H
#define SEALGATE_HTTPS_GET_H

#include <stddef.h>

#include <curl/curl.h>

#include "lib/buf.h"

struct dns_mx_host;

/* a body collected up to b.max bytes (buf_init(&b, cap)); one byte past
 * the cap sets too_big and aborts the transfer */
struct https_body {
	struct buf b;
	int too_big;
};

struct https_opts {
	const char *url;
	struct curl_slist *resolve;	/* NULL: no CURLOPT_RESOLVE */
	const char *ca_file;		/* only this file; NULL: system store */
	long timeout_ms;		/* the whole transfer */
	long connect_timeout_ms;	/* 0: libcurl's default */
	struct https_body *body;	/* NULL: the caller sets a write
					 * function of its own */
	char *errbuf;			/* CURL_ERROR_SIZE bytes */
	const char *user_agent;
};

#define HTTPS_SETUP_OPTION	-1	/* libcurl refused an option */
#define HTTPS_SETUP_CA_FILE	-2	/* libcurl refused the CA file */

/* https_curl_new - a new easy handle (curl_easy_cleanup()), after
 * libcurl's global init once per process; NULL if either failed */
CURL *https_curl_new(void);

/* https_resolve_entry - the one-entry CURLOPT_RESOLVE list
 * "host:port:addr,addr,[v6]" of h's addresses (curl_slist_free_all());
 * NULL when out of memory */
struct curl_slist *https_resolve_entry(const char *host, long port,
    const struct dns_mx_host *h);

/* https_curl_setup - the shared options on c (see above; o->errbuf is
 * cleared); 0, HTTPS_SETUP_OPTION or HTTPS_SETUP_CA_FILE */
int https_curl_setup(CURL *c, const struct https_opts *o);

/* https_curl_why - a failed transfer's reason, without the host: "TLS
 * certificate verification failed", "TLS handshake failed", "cannot use
 * the CA file", "cannot connect", else curl_easy_strerror(rc). Static
 * text. Timeouts and oversized bodies are the caller's to word. */
const char *https_curl_why(CURLcode rc);

#endif
