/*
 * web_cookie.h - the Cookie request header and Set-Cookie values of the
 * portal (RFC 6265).
 *
 * Pure: no I/O, no logging. Cookies are attacker-controlled input (a
 * sibling host may toss cookies at us), so a name present twice is
 * refused rather than guessed at.
 */
#ifndef SEALGATE_WEB_COOKIE_H
#define SEALGATE_WEB_COOKIE_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/slice.h"

#define WEB_COOKIE_SESSION	"sg_session"
#define WEB_COOKIE_PRE		"sg_pre"

/*
 * web_cookie_find - the value of cookie name in hdr[0..len), the
 * Cookie header(s) joined with "; ". RFC 6265 5.4 syntax, leniently:
 * pairs split at ';', blanks around names and values trimmed, a
 * DQUOTE-wrapped value unwrapped, pairs without '=' skipped.
 * 1: found, *val_out points into hdr; 0: absent; -1: hdr over
 * WEB_COOKIE_HDR_MAX, holds a control byte, or name occurs more than
 * once (ambiguous: treated by callers as "no cookie").
 */
int web_cookie_find(const char *hdr, size_t len, const char *name,
    struct slice *val_out);

/*
 * web_cookie_build - append one Set-Cookie value to out:
 *   name=value; Path=/; [Max-Age=N; ]HttpOnly; Secure; SameSite=Strict
 * max_age < 0: a browser-session cookie (no Max-Age); 0: delete it.
 * name must be an RFC 6265 token and value cookie-octets (checked).
 * 0 ok; -1 bad name/value or out full (out unchanged).
 */
int web_cookie_build(struct buf *out, const char *name, const char *value,
    long max_age);

#endif
