/*
 * tls_ctx.c - OpenSSL context construction with sealgate's TLS floor.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "tls_ctx.h"

char *
tls_errors(void)
{
	struct buf b;
	unsigned long e;
	char line[256];

	buf_init(&b, 2048);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, line, sizeof(line));
		if (b.len > 0)
			(void)buf_append_str(&b, "; ");
		(void)buf_append_str(&b, line);
	}
	if (b.len == 0)
		(void)buf_append_str(&b, "unknown TLS error");
	return buf_steal(&b, NULL);
}

static char *
tls_fail(const char *what)
{
	char *detail = tls_errors();
	struct buf b;

	buf_init(&b, 4096);
	(void)buf_printf(&b, "%s: %s", what, detail);
	xfree(detail);
	return buf_steal(&b, NULL);
}

/* tls_ctx_no_weak - refuse a context that would offer a <128-bit cipher */
static int
tls_ctx_no_weak(SSL_CTX *ctx)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
	int i;

	for (i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		if (SSL_CIPHER_get_bits(c, NULL) < 128)
			return -1;
	}
	return 0;
}

SSL_CTX *
tls_ctx_server_new(const struct tls_ctx_conf *c, char **err_out)
{
	SSL_CTX *ctx;
	int minv = c->min_version;

	if (minv < TLS1_VERSION)
		minv = TLS1_VERSION;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		*err_out = tls_fail("SSL_CTX_new");
		return NULL;
	}
	if (minv < TLS1_2_VERSION)
		/* OpenSSL 3 refuses TLS < 1.2 at security level 1+ (SHA-1). */
		SSL_CTX_set_security_level(ctx, 0);
	if (SSL_CTX_set_min_proto_version(ctx, minv) != 1) {
		*err_out = tls_fail("TLS minimum version");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_SSLv3);
	if (c->ciphers != NULL &&
	    SSL_CTX_set_cipher_list(ctx, c->ciphers) != 1) {
		*err_out = tls_fail("cipher list");
		goto fail;
	}
	if (c->ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, c->ciphersuites) != 1) {
		*err_out = tls_fail("TLS 1.3 cipher suites");
		goto fail;
	}
	if (tls_ctx_no_weak(ctx) < 0) {
		*err_out = xstrdup("cipher list enables a cipher under 128 bits");
		goto fail;
	}
	if (c->cert_file != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1) {
			*err_out = tls_fail(c->cert_file);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, c->key_file,
		    SSL_FILETYPE_PEM) != 1) {
			*err_out = tls_fail(c->key_file);
			goto fail;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			*err_out = tls_fail("key does not match certificate");
			goto fail;
		}
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sealgate",
	    8);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void
tls_info_get(SSL *ssl, struct tls_info *out)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	memset(out, 0, sizeof(*out));
	snprintf(out->protocol, sizeof(out->protocol), "%s",
	    SSL_get_version(ssl));
	if (c != NULL) {
		snprintf(out->cipher, sizeof(out->cipher), "%s",
		    SSL_CIPHER_get_name(c));
		out->bits = SSL_CIPHER_get_bits(c, &out->alg_bits);
	}
}
