/*
 * web_secure.h - the security headers on every portal response
 * (docs/portal.md "Security on every response").
 *
 * Pure: a table lookup; no I/O, no logging.
 */
#ifndef SEALGATE_WEB_SECURE_H
#define SEALGATE_WEB_SECURE_H

#include <stddef.h>

enum web_sec_kind {
	WEB_SEC_PAGE,		/* pages, redirects, errors, downloads */
	WEB_SEC_FRAME,		/* /m/ID/html: the message's own HTML */
	WEB_SEC_FRAME_IMAGES,	/* the same after "Show images" */
	WEB_SEC_STATIC,		/* /static/portal.css: cacheable */
};

#define WEB_SEC_HEADERS_MAX	8

struct web_header {
	const char *name;
	const char *value;	/* static strings */
};

#define WEB_CSP_PAGE "default-src 'none'; style-src 'self'; " \
	"img-src 'self' https:; form-action 'self'; frame-src 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'"
/* the message frame: no scripts (sandbox without allow-scripts and
 * default-src 'none'), no forms, no remote loads unless asked */
#define WEB_CSP_FRAME "default-src 'none'; style-src 'unsafe-inline'; " \
	"img-src data: cid:; sandbox; form-action 'none'; " \
	"frame-ancestors 'self'"
#define WEB_CSP_FRAME_IMAGES "default-src 'none'; " \
	"style-src 'unsafe-inline'; img-src data: https:; sandbox; " \
	"form-action 'none'; frame-ancestors 'self'"
#define WEB_HSTS		"max-age=31536000"

/*
 * web_secure_headers - fill out[0..WEB_SEC_HEADERS_MAX) with the headers
 * for a response of this kind; https: the client reached us over HTTPS
 * (directly or through a trusted proxy), which alone earns HSTS.
 * Returns the number of headers written.
 */
size_t web_secure_headers(enum web_sec_kind kind, int https,
    struct web_header out[WEB_SEC_HEADERS_MAX]);

#endif
