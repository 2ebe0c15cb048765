/*
 * web_secure.c - security headers for each kind of portal response.
 *
 * Implements: CSP Level 3 (frame-ancestors, sandbox, form-action),
 * RFC 6797 (HSTS: only over HTTPS, 6.1.1 "MUST NOT" otherwise),
 * RFC 7034 (X-Frame-Options), Referrer Policy, Fetch (nosniff),
 * RFC 7234 5.2.2.3 (no-store).
 * Pure: no I/O, no logging.
 */
#include "web_secure.h"

/* web_secure_headers - the fixed header set of a response kind */
size_t
web_secure_headers(enum web_sec_kind kind, int https,
    struct web_header out[WEB_SEC_HEADERS_MAX])
{
	size_t n = 0;

	switch (kind) {
	case WEB_SEC_FRAME:
		out[n++] = (struct web_header){ "Content-Security-Policy",
		    WEB_CSP_FRAME };
		break;
	case WEB_SEC_FRAME_IMAGES:
		out[n++] = (struct web_header){ "Content-Security-Policy",
		    WEB_CSP_FRAME_IMAGES };
		break;
	case WEB_SEC_PAGE:
	case WEB_SEC_STATIC:
	default:
		out[n++] = (struct web_header){ "Content-Security-Policy",
		    WEB_CSP_PAGE };
		break;
	}
	if (https)
		out[n++] = (struct web_header){ "Strict-Transport-Security",
		    WEB_HSTS };
	/* the frame may sit in our own message page, nowhere else */
	out[n++] = (struct web_header){ "X-Frame-Options",
	    kind == WEB_SEC_FRAME || kind == WEB_SEC_FRAME_IMAGES ?
	    "SAMEORIGIN" : "DENY" };
	out[n++] = (struct web_header){ "Referrer-Policy", "no-referrer" };
	out[n++] = (struct web_header){ "X-Content-Type-Options", "nosniff" };
	out[n++] = (struct web_header){ "Cache-Control",
	    kind == WEB_SEC_STATIC ? "public, max-age=3600" : "no-store" };
	return n;
}
