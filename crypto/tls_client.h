/*
 * tls_client.h - the delivery side's TLS: one client SSL_CTX per policy
 * (floor, ciphers, CA store), levels as in Postfix:
 *   none     never STARTTLS
 *   may      STARTTLS when offered; on any TLS failure fall back to
 *            plaintext (a new connection), certificate not checked
 *   encrypt  TLS required, any certificate; no TLS: no message data sent
 *   verify   TLS required, chain to the CA store and the MX host name
 *            matched (RFC 6125, wildcards in the left-most label only);
 *            SNI always sent
 * Library module: never logs.
 */
#ifndef SEALGATE_TLS_CLIENT_H
#define SEALGATE_TLS_CLIENT_H

#include <openssl/ssl.h>

enum tls_level {
	TLS_LEVEL_NONE = 0,
	TLS_LEVEL_MAY,
	TLS_LEVEL_ENCRYPT,
	TLS_LEVEL_VERIFY,
};

/* certificate verification outcome recorded with every attempt */
enum tls_verified {
	TLS_VERIFIED_NONE = 0,		/* not checked (may/encrypt) or no TLS */
	TLS_VERIFIED_CA,		/* PKIX chain + host name */
	TLS_VERIFIED_FAILED,		/* checked and failed */
};

struct tls_client_conf {
	int min_version;		/* TLS1_2_VERSION by default */
	const char *ciphers;
	const char *ciphersuites;
	const char *ca_file;		/* NULL: the system store */
	const char *ca_path;
};

/* New client context (SSL_CTX_free()), session cache enabled so TLS
 * sessions are resumed per destination. NULL with *err_out (xfree()).
 * min_version 0 means TLS1_2_VERSION; below TLS1_VERSION is raised to it.
 * ciphers NULL: "DEFAULT:!aNULL:!eNULL:!3DES:!RC4:!MD5:!DES". Refused
 * when any enabled cipher has fewer than 128 secret bits. The context is
 * safe to share between threads (the session cache is locked). */
SSL_CTX *tls_client_ctx_new(const struct tls_client_conf *c, char **err_out);

/*
 * tls_client_ssl_new - one client connection's SSL (SSL_free()): SNI =
 * host (not for an IP literal; a trailing dot dropped); at
 * TLS_LEVEL_VERIFY SSL_VERIFY_PEER plus the host name check; the cached
 * session for dest ("host:port"; kept apart per level, so a session made
 * without verification is never resumed at verify) when there is one.
 * The connection's later sessions (TLS 1.3 tickets too) enter the cache
 * only after tls_client_session_commit(). NULL with *err_out (xfree()).
 */
SSL *tls_client_ssl_new(SSL_CTX *ctx, const char *host, const char *dest,
    enum tls_level level, char **err_out);
/* The connection passed every check (floor, bits, verification): keep its
 * session, and any ticket that arrives later, for the next connection. */
void tls_client_session_commit(SSL *ssl);
/* The connection failed: forget any session cached for its destination. */
void tls_client_session_forget(SSL *ssl);
/* Sessions cached in ctx (tests). */
size_t tls_client_session_count(SSL_CTX *ctx);

/* Cache bounds: destinations kept, bytes of one serialized session. */
#define TLS_CLIENT_SESS_MAX	64
#define TLS_CLIENT_SESS_DER_MAX	8192

const char *tls_level_name(enum tls_level l);
/* 0 ok, -1 unknown name */
int tls_level_parse(const char *s, enum tls_level *out);
const char *tls_verified_name(enum tls_verified v);

#endif
