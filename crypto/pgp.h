/*
 * pgp.h - PGP/MIME encryption (RFC 3156) through GPGME, against the
 * gateway's own GnuPG home.
 *
 * Library module: never logs; errors come back in *err_out (a new string,
 * free with xfree()) or in a caller-supplied "why" buffer.
 *
 * Trust: keys in the gateway home are put there by the admin (or by the
 * gateway's own key store after its provenance checks), so the gateway
 * decides trust itself; GnuPG's web of trust is not consulted and
 * encryption uses GPGME_ENCRYPT_ALWAYS_TRUST (see pgp.c).
 *
 * A context is not thread-safe; use one per thread (GPGME's rule).
 */
#ifndef SEALGATE_PGP_H
#define SEALGATE_PGP_H

#include <stddef.h>

#include "lib/buf.h"

struct pgp_ctx;			/* opaque: one gpgme_ctx_t bound to a home */

#define PGP_FPR_SIZE	41	/* 40 hex digits (v4 fingerprint) + NUL */
#define PGP_OUTER_SUBJECT_DEFAULT	"..."

/*
 * New context using gnupghome as GNUPGHOME (the engine's home for this
 * context only; the process environment is not touched). OpenPGP protocol,
 * ASCII armor on, local key listing only. NULL with *err_out on failure.
 * Free with pgp_ctx_free().
 */
struct pgp_ctx *pgp_ctx_new(const char *gnupghome, char **err_out);
void pgp_ctx_free(struct pgp_ctx **pp);

/*
 * Find a key to encrypt to addr. A key qualifies when it is not expired,
 * revoked, disabled or invalid, has a usable encryption subkey, and has a
 * valid (not revoked) user ID whose e-mail address equals addr: the local
 * part byte for byte, the domain case-insensitively. Among several the
 * newest (primary key creation time) wins.
 * 1: fpr_out (>= PGP_FPR_SIZE bytes) holds the primary fingerprint;
 * 0: no usable key, why says "none", "expired", "revoked", "disabled",
 *    "invalid" or "no encryption subkey";
 * -1: error (why holds the reason).
 */
int pgp_key_find(struct pgp_ctx *pc, const char *addr, char *fpr_out,
    char *why, size_t why_len);

/*
 * Import ASCII-armored (or binary) public keys. Returns the number of
 * distinct keys imported or already present (>= 1) and *fprs_out, a new
 * comma-separated list of their fingerprints (xfree()); -1 with *err_out
 * when nothing could be imported.
 * Secret keys in the data are not filtered out here: the caller must hand
 * in public keys only.
 */
int pgp_key_import(struct pgp_ctx *pc, const char *armored, size_t len,
    char **fprs_out, char **err_out);

/*
 * Encrypt a whole RFC 5322 message (msg, len; CRLF lines) to the keys
 * fprs[0..n-1] as PGP/MIME (RFC 3156 section 4) and append the whole new
 * message to out. outer_subject replaces the visible Subject (NULL means
 * PGP_OUTER_SUBJECT_DEFAULT); it must not contain CR or LF.
 *
 * Outer header: the original fields except Content-* and MIME-Version,
 * Subject replaced, then MIME-Version and the multipart/encrypted
 * Content-Type. The encrypted inner entity is
 *   the original Content-* fields (Content-Type, default
 *     "text/plain; charset=us-ascii", gets protected-headers="v1"),
 *   copies of From, To, Cc, Subject, Date and Message-ID
 *     (protected headers, RFC 9788 / draft-autocrypt "memory hole"),
 *   an empty line and the original body,
 * with every bare LF turned into CRLF. The original entity is not wrapped
 * in another part, multipart or not: the parameter goes on its own
 * Content-Type.
 * 0 on success; -1 with *err_out (out is then unchanged).
 */
int pgp_encrypt_mime(struct pgp_ctx *pc, const char *msg, size_t len,
    const char *const *fprs, size_t n, const char *outer_subject,
    struct buf *out, char **err_out);

#endif
