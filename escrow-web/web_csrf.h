/*
 * web_csrf.h - CSRF tokens of the forms shown before login (login,
 * enrollment, password reset). They are bound to the short-lived
 * pre-session cookie sg_pre: csrf = HMAC-SHA256(secret, sg_pre, hour),
 * so a site that cannot read our pages cannot produce one, and a
 * cookie tossed at us from a sibling host does not help without the
 * secret. The secret is random per web process (a restart makes open
 * login forms answer 403 once; reloading the page fixes it).
 * After login the session's own csrf column is used instead.
 *
 * Pure: no I/O, no logging.
 */
#ifndef SEALGATE_WEB_CSRF_H
#define SEALGATE_WEB_CSRF_H

#include <time.h>

#define WEB_CSRF_SECRET_LEN	32
#define WEB_CSRF_PRE_LEN	64	/* hex chars */

/* web_csrf_pre - the token for cookie value pre at time now into out
 * (64 hex chars and NUL); "" if the MAC failed. */
void web_csrf_pre(const unsigned char secret[WEB_CSRF_SECRET_LEN],
    const char *pre, time_t now, char out[WEB_CSRF_PRE_LEN + 1]);

/* web_csrf_pre_check - 1 if csrf is the token of pre made in the
 * current or the previous WEB_PRE_TTL period (so a form lives between
 * one and two periods), else 0. Constant-time comparison; NULLs are
 * 0. */
int web_csrf_pre_check(const unsigned char secret[WEB_CSRF_SECRET_LEN],
    const char *pre, const char *csrf, time_t now);

#endif
