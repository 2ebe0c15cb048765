/*
 * smime_harvest.h - take the signer's certificate from S/MIME-signed mail
 * (RFC 8551), so that later mail to that correspondent can be encrypted.
 * Library module: errors in the caller's why[] buffer; never logs.
 */
#ifndef SEALGATE_SMIME_HARVEST_H
#define SEALGATE_SMIME_HARVEST_H

#include <stddef.h>
#include <time.h>

/* Ceilings (kept here until sg_limits.h grows an S/MIME section). */
#define SMIME_HARVEST_HDR_MAX	(256 * 1024)	/* a header section */
#define SMIME_HARVEST_BOUNDARY_MAX 70		/* RFC 2046 5.1.1 */
#define SMIME_HARVEST_FIELD_MAX	16384	/* one unfolded Content-* field */
#define SMIME_HARVEST_EMAILS_MAX 32	/* addresses kept from one cert */
#define SMIME_HARVEST_ADDR_MAX	256	/* RFC 5321 4.5.3.1.3 path */

struct smime_harvest {
	unsigned char *der;	/* signer certificate, DER (xfree) */
	size_t der_len;
	/*
	 * Addresses the certificate names: every subjectAltName rfc822Name
	 * or, only when there is no subjectAltName extension, every subject
	 * emailAddress; domain lower-cased, duplicates dropped, at most
	 * SMIME_HARVEST_EMAILS_MAX (each and the array: xfree).
	 */
	char **emails;
	size_t nemails;
	/* the signed SMIMECapabilities attribute lists id-aes256-GCM
	 * (2.16.840.1.101.3.4.1.46) before or without id-aes256-CBC */
	int prefers_gcm;
	long long signed_at;	/* signingTime attribute, 0 if absent */
};

/*
 * smime_harvest - verify the S/MIME signature of msg[0..len) (CRLF line
 * ends, as received over SMTP) and harvest the signer's certificate.
 *
 * Recognised: a top-level multipart/signed with protocol
 * application/pkcs7-signature (or x-pkcs7-signature), whose first part
 * is the signed content byte for byte, and a top-level opaque
 * application/pkcs7-mime (or x-pkcs7-mime) with smime-type=signed-data
 * (or no smime-type and SignedData inside), base64. Nested parts are
 * not searched.
 *
 * The SignedData must have exactly one signer whose certificate it
 * carries; the signature (and signed attributes) must verify; with
 * ca_file (PEM), the signer's chain must verify against it at time now
 * for S/MIME signing (intermediates may come from the message); ca_file
 * NULL checks the signature only. The certificate must name from_addr
 * (local part exact, domain case-insensitive) and pass
 * smime_cert_usable() at now (validity, encryption key usage, EKU).
 *
 * 1: harvested; *out filled, free with smime_harvest_release().
 * 0: not S/MIME-signed, signature or chain does not verify, or the
 *    certificate is not usable for from_addr (why says which; a bad
 *    signature gives "signature does not verify").
 * -1: malformed message or internal error (why).
 * On 0 and -1 *out is zeroed. why may be NULL; on 1 it reads "ok".
 * The OpenSSL error queue is left as it was found.
 */
int smime_harvest(const char *msg, size_t len, const char *from_addr,
    time_t now, const char *ca_file, struct smime_harvest *out,
    char *why, size_t whylen);

/* smime_harvest_release - free what *h owns and zero it; safe on a
 * zeroed struct and twice. */
void smime_harvest_release(struct smime_harvest *h);

#endif
