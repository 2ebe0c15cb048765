/*
 * tls_ctx.h - OpenSSL context setup shared by the SMTP server and client.
 * Policy: never below the configured floor (never below TLS 1.0, SSL
 * never), no cipher under 128 bits, no compression, no renegotiation.
 * Library module: errors in *err_out (new string), never logs.
 */
#ifndef SEALGATE_TLS_CTX_H
#define SEALGATE_TLS_CTX_H

#include <openssl/ssl.h>

struct tls_ctx_conf {
	const char *cert_file;		/* PEM chain; NULL for a client ctx */
	const char *key_file;
	int min_version;		/* TLS1_VERSION .. TLS1_3_VERSION */
	const char *ciphers;		/* TLS <= 1.2 cipher list */
	const char *ciphersuites;	/* TLS 1.3 suites */
};

/* New server context (SSL_CTX_free()) or NULL with *err_out. */
SSL_CTX *tls_ctx_server_new(const struct tls_ctx_conf *c, char **err_out);

/* Facts about an established connection, for logs, headers and the DB. */
struct tls_info {
	char protocol[16];		/* "TLSv1.3" */
	char cipher[64];		/* "TLS_AES_256_GCM_SHA384" */
	int bits;			/* secret bits of the cipher */
	int alg_bits;			/* algorithm bits */
};

void tls_info_get(SSL *ssl, struct tls_info *out);

/* Last OpenSSL error queue entries as a new string (xfree()). */
char *tls_errors(void);

#endif
