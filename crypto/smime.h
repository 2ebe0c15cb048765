/*
 * smime.h - S/MIME encryption of a whole RFC 5322 message (RFC 8551) with
 * OpenSSL CMS: recipient certificate checks, EnvelopedData (AES-256-CBC)
 * or AuthEnvelopedData (AES-256-GCM, RFC 5083/5084), and detection of
 * mail that is already encrypted (S/MIME or PGP/MIME); signing with the
 * organisation's certificate before encryption; certificate parsing and
 * description for the key store.
 * Library module: errors in *err_out (new string, xfree()) or in a
 * caller's why[] buffer; never logs.
 */
#ifndef SEALGATE_SMIME_H
#define SEALGATE_SMIME_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/buf.h"

enum smime_cipher {
	SMIME_AES256_GCM,	/* AuthEnvelopedData, smime-type=authEnveloped-data */
	SMIME_AES256_CBC	/* EnvelopedData, smime-type=enveloped-data */
};

/*
 * smime_cert_usable - may mail to rcpt_addr be encrypted to cert at time
 * now? 1 yes, 0 no with the reason in why[0..whylen) (why may be NULL).
 * Checks: notBefore <= now <= notAfter; an RSA key of >= 2048 bits or an
 * EC key (other key types refused); keyUsage, when present, allows
 * keyEncipherment (RSA) or keyAgreement (EC); extendedKeyUsage, when
 * present, holds emailProtection or anyExtendedKeyUsage; the address is
 * named by a subjectAltName rfc822Name or, only when the certificate has
 * no subjectAltName extension, by a subject emailAddress. Local parts
 * compare exactly, domains case-insensitively (ASCII).
 * Chain validation is not done here (the caller's trust store does it).
 */
int smime_cert_usable(X509 *cert, const char *rcpt_addr, time_t now,
    char *why, size_t whylen);

/*
 * smime_encrypt - encrypt the message msg[0..len) (CRLF lines, headers,
 * blank line, body) to every certificate in certs[0..ncerts) and append
 * the resulting whole message to out.
 *
 * The original header fields stay outside, except MIME-Version and every
 * Content-* field: those move into the encrypted MIME entity with the
 * body (bare LF canonicalised to CRLF). The outer message gets
 * MIME-Version, an application/pkcs7-mime Content-Type with smime-type
 * enveloped-data or authEnveloped-data, Content-Disposition attachment
 * smime.p7m and the DER in base64 lines of 76 characters.
 * RSA recipients use RSAES-PKCS1-v1_5 key transport (OpenSSL default,
 * what deployed clients decrypt); EC recipients ECDH key agreement.
 *
 * 0 on success; -1 with *err_out (xfree()) and out unchanged on failure
 * (bad arguments, OpenSSL error, out's maximum reached).
 */
int smime_encrypt(const char *msg, size_t len, X509 **certs, size_t ncerts,
    enum smime_cipher cipher, struct buf *out, char **err_out);

/*
 * smime_inner_entity - append to out the MIME entity smime_encrypt()
 * encrypts for msg (content headers, blank line, body; CRLF). 0 or -1
 * when out is full. smime_sign_encrypt() signs exactly this entity.
 */
int smime_inner_entity(const char *msg, size_t len, struct buf *out);

/*
 * smime_already_encrypted - 1 when the top-level Content-Type of msg is
 * application/pkcs7-mime (or x-pkcs7-mime) with smime-type enveloped-data
 * or authEnveloped-data, or multipart/encrypted (PGP/MIME); else 0.
 * pkcs7-mime without smime-type gives 0: it may be opaque signed-data,
 * and encrypting twice is harmless where skipping would leak.
 */
int smime_already_encrypted(const char *msg, size_t len);

/* smime_load_cert_pem - first certificate in a PEM file (X509_free()),
 * or NULL with *err_out (xfree()). */
X509 *smime_load_cert_pem(const char *path, char **err_out);

#define SMIME_CERT_MAX		(1024 * 1024)	/* smime_cert_from_mem input */
#define SMIME_INFO_MAX_EMAILS	256	/* addresses listed per certificate */
#define SMIME_CHAIN_MAX		16	/* certificates after the leaf */

/*
 * smime_cert_from_mem - the first certificate in data[0..len): PEM (the
 * first "-----BEGIN CERTIFICATE-----" block; text before it is skipped)
 * when data holds a PEM header line, DER otherwise (bytes after the
 * certificate are ignored). A new X509 (X509_free()), or NULL with
 * *err_out (xfree()) for empty, oversized (> SMIME_CERT_MAX), truncated
 * or malformed input.
 */
X509 *smime_cert_from_mem(const char *data, size_t len, char **err_out);

/* What a certificate says, for the key store. */
struct smime_cert_info {
	char sha256[65];	/* SHA-256 of the DER, lower-case hex */
	char **emails;		/* see smime_cert_inspect() */
	size_t nemails;
	long long not_before, not_after;	/* Unix time */
};

/*
 * smime_cert_inspect - fill *out from cert. emails: every subjectAltName
 * rfc822Name or, only when the certificate has no subjectAltName
 * extension, every subject emailAddress (the rule of smime_cert_usable);
 * domain lower-cased (ASCII), local part as is, each address once, at
 * most SMIME_INFO_MAX_EMAILS. Names that are not a plausible address
 * (no '@' or an empty side, a NUL or a byte outside printable ASCII,
 * longer than 254) are left out. 0, or -1 with *err_out and *out empty
 * (nothing to release). Release a filled *out with
 * smime_cert_info_release().
 */
int smime_cert_inspect(X509 *cert, struct smime_cert_info *out,
    char **err_out);
void smime_cert_info_release(struct smime_cert_info *i);

/* smime_der - append cert's DER encoding to out. 0, or -1 (encoding
 * failed or out's maximum reached; out unchanged). */
int smime_der(X509 *cert, struct buf *out);

/*
 * smime_sign_encrypt - sign, then encrypt (RFC 8551 section 3.7).
 * The entity smime_inner_entity() makes for msg is signed as
 * multipart/signed (RFC 8551 3.5.3, RFC 1847): the entity byte for byte
 * as first part, a detached CMS SignedData (SHA-256, signer's
 * certificate and every certificate of chain included, OpenSSL's default
 * signed attributes) as application/pkcs7-signature smime.p7s in
 * base64, protocol="application/pkcs7-signature", micalg=sha-256. That
 * multipart/signed entity (with MIME-Version) is then encrypted and the
 * message built exactly as smime_encrypt() does.
 * signer NULL: exactly smime_encrypt() (signer_key and chain ignored).
 * signer_key must be signer's private key; chain may be NULL.
 * 0, or -1 with *err_out (xfree()) and out unchanged.
 */
int smime_sign_encrypt(const char *msg, size_t len, X509 **certs,
    size_t ncerts, enum smime_cipher cipher, X509 *signer,
    EVP_PKEY *signer_key, STACK_OF(X509) *chain, struct buf *out,
    char **err_out);

/*
 * smime_load_signer - the organisation's signing certificate (the first
 * PEM certificate in cert_file; up to SMIME_CHAIN_MAX further
 * certificates in that file are its chain, leaf first) and its private
 * key (the first PEM private key in key_file, which may be the same
 * file). The key must not be encrypted: no passphrase is ever asked for.
 * It must match the certificate. 0 with *cert_out (X509_free()),
 * *key_out (EVP_PKEY_free()) and, when chain_out is not NULL,
 * *chain_out (a stack, possibly empty; sk_X509_pop_free(c, X509_free));
 * -1 with *err_out and every output NULL.
 */
int smime_load_signer(const char *cert_file, const char *key_file,
    X509 **cert_out, EVP_PKEY **key_out, STACK_OF(X509) **chain_out,
    char **err_out);

#endif
