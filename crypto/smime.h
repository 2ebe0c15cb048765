/*
 * smime.h - S/MIME encryption of a whole RFC 5322 message (RFC 8551) with
 * OpenSSL CMS: recipient certificate checks, EnvelopedData (AES-256-CBC)
 * or AuthEnvelopedData (AES-256-GCM, RFC 5083/5084), and detection of
 * mail that is already encrypted (S/MIME or PGP/MIME).
 * Library module: errors in *err_out (new string, xfree()) or in a
 * caller's why[] buffer; never logs.
 */
#ifndef SEALGATE_SMIME_H
#define SEALGATE_SMIME_H

#include <stddef.h>
#include <time.h>

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
 * when out is full. Exposed for tests and for signing later.
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

#endif
