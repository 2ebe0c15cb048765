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
 *   dane     TLS required, the peer authenticated by DNSSEC-validated
 *            TLSA records (RFC 7672, RFC 6698/7671) through OpenSSL's
 *            DANE support, never by the CA store: DANE-EE(3) matches
 *            the server's own certificate or key, names and dates not
 *            checked (RFC 7672 3.1.1); DANE-TA(2) matches a certificate
 *            or key in the chain the server sends (or, Full(0), given
 *            whole in the record), which is then the trust anchor of
 *            the chain; the MX host name is checked (3.1.2, 3.2.2,
 *            3.2.3). PKIX-TA(0)/PKIX-EE(1) are never
 *            passed (3.1.3; gateway/dane.c filters them). SNI always sent.
 * Every TLS connection also records the peer certificate's facts (struct
 * tls_cert_facts), PKIX validity included, whatever the level.
 * Library module: never logs.
 */
#ifndef SEALGATE_TLS_CLIENT_H
#define SEALGATE_TLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

enum tls_level {
	TLS_LEVEL_NONE = 0,
	TLS_LEVEL_MAY,
	TLS_LEVEL_ENCRYPT,
	TLS_LEVEL_VERIFY,
	TLS_LEVEL_DANE,			/* needs TLSA records: see below */
};

/* certificate verification outcome recorded with every attempt */
enum tls_verified {
	TLS_VERIFIED_NONE = 0,		/* not checked (may/encrypt) or no TLS */
	TLS_VERIFIED_CA,		/* PKIX chain + host name */
	TLS_VERIFIED_FAILED,		/* checked and failed */
	TLS_VERIFIED_DANE,		/* a usable TLSA record matched */
	TLS_VERIFIED_MTA_STS,		/* PKIX + host name under an MTA-STS
					 * policy (RFC 8461 4.2, 4.3) */
};

/*
 * One TLSA record as OpenSSL's DANE support takes it (RFC 6698 2.1,
 * names from RFC 7218). data is not owned: it points into the caller's
 * storage (gateway/dane.c's result) and is copied by OpenSSL.
 */
struct tls_tlsa {
	uint8_t usage;			/* 2 DANE-TA, 3 DANE-EE */
	uint8_t selector;		/* 0 Cert, 1 SPKI */
	uint8_t mtype;			/* 0 Full, 1 SHA2-256, 2 SHA2-512 */
	const unsigned char *data;
	size_t len;
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
/*
 * tls_client_ssl_new_dane - the same at TLS_LEVEL_DANE: SNI = host,
 * SSL_dane_enable() with host as the reference identifier (a trailing dot
 * dropped; DANE-TA(2) names are checked against it, wildcards in the
 * left-most label only), DANE_FLAG_NO_DANE_EE_NAMECHECKS, each record
 * added with SSL_dane_tlsa_add(), peer verification on. The cached
 * session is kept apart per TLSA RRset (a digest of recs is part of its
 * key), so a session authenticated by old records is not resumed once
 * they change. Records of a usage other than DANE-TA(2)/DANE-EE(3) are
 * skipped (RFC 7672 3.1.3). NULL with *err_out (xfree()) when host is an
 * IP literal, or when no record is usable (that usage rule, or
 * OpenSSL's: unknown selector or matching type, wrong digest length, a
 * Full(0) that does not parse): DANE then cannot authenticate and must
 * not silently become PKIX.
 */
SSL *tls_client_ssl_new_dane(SSL_CTX *ctx, const char *host,
    const char *dest, const struct tls_tlsa *recs, size_t nrecs,
    char **err_out);
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

/*
 * tls_client_dane_match - after a handshake at TLS_LEVEL_DANE: 1 when
 * OpenSSL authenticated the peer by a TLSA record, with the record's
 * usage and the chain depth of the certificate it matched (0: the leaf)
 * in *usage_out and *depth_out; 0 otherwise (-1 in both). A resumed
 * session carries no match of its own: 0.
 */
int tls_client_dane_match(SSL *ssl, int *usage_out, int *depth_out);

/*
 * Facts about the peer certificate (DESIGN "Domain TLS status"), bounded
 * and printable (anything outside printable ASCII as '?'), recorded at
 * every level so a probe or an audit row can say what the peer showed.
 */
#define TLS_CERT_NAME_MAX	256	/* subject, issuer */
#define TLS_CERT_NAMES_MAX	512	/* the joined SAN list */

struct tls_cert_facts {
	int have_cert;			/* 0: nothing below is set */
	char subject[TLS_CERT_NAME_MAX];	/* RFC 2253 */
	char issuer[TLS_CERT_NAME_MAX];		/* RFC 2253 */
	char names[TLS_CERT_NAMES_MAX];	/* subjectAltName dNSNames joined
					 * by ',' (a ',' inside a name is
					 * '?'); whole names only */
	unsigned names_total;		/* dNSNames in the certificate */
	unsigned names_listed;		/* of them, in names */
	int64_t not_before;		/* unix time; 0: unreadable */
	int64_t not_after;
	char key_type[16];		/* "RSA", "EC", "ED25519", ... */
	int key_bits;			/* of the public key */
	int pkix_valid;			/* 1: the chain verifies against the
					 * CA store (purpose TLS server, now,
					 * no name check); 0: it does not;
					 * -1: not known */
	char pkix_error[128];		/* why not, when 0 */
	int name_match;			/* 1: the reference host name matches
					 * (RFC 6125 as X509_check_host with
					 * no partial wildcards) */
};

/*
 * tls_cert_facts_get - facts of leaf; pkix_valid by verifying leaf with
 * the untrusted certificates in chain (may be NULL; may hold leaf)
 * against store (NULL: pkix_valid -1); name_match against host (a name or
 * an IP literal; NULL or "": 0). Pure apart from reading the clock and
 * the store. leaf NULL: *out cleared (have_cert 0, pkix_valid -1).
 */
void tls_cert_facts_get(X509 *leaf, STACK_OF(X509) *chain, X509_STORE *store,
    const char *host, struct tls_cert_facts *out);
/*
 * tls_client_peer_facts - the same for ssl's peer (after a handshake,
 * also a failed one), against the context's CA store. A resumed session
 * brings no chain: pkix_valid is then the result of the handshake that
 * made the session (OpenSSL checks the chain even at may/encrypt), or -1
 * at TLS_LEVEL_DANE, where that result was DANE's.
 */
void tls_client_peer_facts(SSL *ssl, const char *host,
    struct tls_cert_facts *out);

const char *tls_level_name(enum tls_level l);
/* 0 ok, -1 unknown name */
int tls_level_parse(const char *s, enum tls_level *out);
/* "none", "ca", "failed", "dane", "mta-sts" */
const char *tls_verified_name(enum tls_verified v);

#endif
