/*
 * web_csrf.c - pre-session CSRF tokens (HMAC-SHA256, RFC 2104).
 *
 * Trust: pre (cookie) and csrf (form) are client input; pre must be a
 * well-formed token before anything is computed; the comparison is
 * constant-time (token_equal). No I/O, no logging.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "token.h"
#include "web_csrf.h"
#include "web_limits.h"

static void
mac(const unsigned char secret[WEB_CSRF_SECRET_LEN], const char *pre,
    long period, char out[WEB_CSRF_PRE_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE], msg[128];
	unsigned int mdlen = 0, i;
	int n;

	out[0] = '\0';
	/* domain-separated: a session csrf can never equal one of these */
	n = snprintf((char *)msg, sizeof(msg), "sealgate-pre-csrf\n%s\n%ld",
	    pre, period);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	if (HMAC(EVP_sha256(), secret, WEB_CSRF_SECRET_LEN, msg, (size_t)n,
	    md, &mdlen) == NULL || mdlen != 32)
		return;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
}

void
web_csrf_pre(const unsigned char secret[WEB_CSRF_SECRET_LEN],
    const char *pre, time_t now, char out[WEB_CSRF_PRE_LEN + 1])
{
	out[0] = '\0';
	if (pre == NULL || !token_valid_syntax(pre))
		return;
	mac(secret, pre, (long)(now / WEB_PRE_TTL), out);
}

int
web_csrf_pre_check(const unsigned char secret[WEB_CSRF_SECRET_LEN],
    const char *pre, const char *csrf, time_t now)
{
	char want[WEB_CSRF_PRE_LEN + 1];
	long period = (long)(now / WEB_PRE_TTL);
	int ok = 0, k;

	if (pre == NULL || csrf == NULL || !token_valid_syntax(pre) ||
	    strlen(csrf) != WEB_CSRF_PRE_LEN)
		return 0;
	for (k = 0; k < 2; k++) {
		mac(secret, pre, period - k, want);
		if (want[0] != '\0' && token_equal(want, csrf))
			ok = 1;
	}
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}
