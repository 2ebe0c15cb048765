/*
 * token.c - random portal tokens (base64url), their stored hashes and
 * constant-time comparison.
 *
 * Implements: RFC 4648 section 5 (base64url, no padding).
 * Trust: token_valid_syntax() and token_equal() see strings straight
 * from URLs and cookies; they read no further than the terminating NUL
 * and no further than TOKEN_TEXT_LEN + 1 characters for the syntax
 * check. Never logs; the random bytes are wiped after encoding.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "token.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* b64url_encode - unpadded base64url of in[0..len) into out; returns the
 * number of characters written (no NUL) */
static size_t
b64url_encode(const unsigned char *in, size_t len, char *out)
{
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i + 3 <= len; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (len - i == 1) {
		v = (unsigned)in[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	return o;
}

int
token_new(char out[TOKEN_TEXT_LEN + 1])
{
	unsigned char raw[TOKEN_BYTES];
	size_t n;

	out[0] = '\0';
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	n = b64url_encode(raw, sizeof(raw), out);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (n != TOKEN_TEXT_LEN) {
		OPENSSL_cleanse(out, n);
		out[0] = '\0';
		return -1;
	}
	out[TOKEN_TEXT_LEN] = '\0';
	return 0;
}

void
token_hash(const char *token, char out[TOKEN_HASH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen * 2 != TOKEN_HASH_LEN)
		return;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[TOKEN_HASH_LEN] = '\0';
}

int
token_equal(const char *a, const char *b)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

int
token_valid_syntax(const char *s)
{
	size_t i;
	char c;

	if (s == NULL)
		return 0;
	for (i = 0; i < TOKEN_TEXT_LEN; i++) {
		c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;	/* also stops at the NUL */
	}
	return s[TOKEN_TEXT_LEN] == '\0';
}
