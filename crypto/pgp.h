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

/*
 * Is the key whose PRIMARY fingerprint is fpr (40 hex digits, any case)
 * usable right now to encrypt mail to addr? Same criteria as
 * pgp_key_find(). A subkey's fingerprint does not name a key here.
 * 1: usable;
 * 0: not usable, why says "not in keyring", "revoked", "expired",
 *    "disabled", "invalid" (the key as a whole, checked in that order),
 *    "no user ID for <addr>" (the address itself in place of <addr>),
 *    then as pgp_key_find() does: "revoked" when the only user IDs for
 *    addr are revoked, "revoked"/"expired"/"invalid" when every
 *    encryption subkey is, "no encryption subkey" when there is none;
 * -1: bad fingerprint or address, or GPGME error (why holds the reason).
 */
int pgp_key_check(struct pgp_ctx *pc, const char *fpr, const char *addr,
    char *why, size_t why_len);

#define PGP_KEYDATA_MAX		(8 * 1024 * 1024)	/* pgp_key_inspect input */
#define PGP_INFO_MAX_KEYS	1000	/* keys described per call */
#define PGP_INFO_MAX_EMAILS	256	/* addresses listed per key */

/* What the gateway home says about one key after an import. */
struct pgp_key_info {
	char fpr[PGP_FPR_SIZE];	/* primary, upper-case hex as GnuPG prints */
	char **emails;		/* addresses of valid (not revoked, not
				 * invalid) user IDs: domain lower-cased,
				 * local part as is, each once */
	size_t nemails;
	long long created;	/* primary key creation, Unix time */
	long long expires;	/* primary key expiry; 0: never */
	int revoked, expired, disabled, invalid;	/* the key as a whole */
	int can_encrypt;	/* has an encryption subkey that is not
				 * revoked, expired, disabled or invalid */
};

/*
 * Import armored or binary PUBLIC key data into the home and describe
 * every key the import reports (imported, or already present and
 * unchanged), in the order GnuPG reports them. Data holding any secret
 * key material is refused before anything is imported: GnuPG first
 * lists the data without importing (keylist from data); the import
 * result is checked again afterwards. Keys GnuPG will not import (no
 * valid self-signed user ID, ...) are not described.
 * Returns the number of keys (>= 1) with *out a new array of *nout
 * entries (free with pgp_key_info_free()); -1 with *err_out (xfree())
 * and *out NULL, *nout 0 when nothing could be described.
 * Limits: more than PGP_KEYDATA_MAX bytes is refused before anything
 * is imported; more than PGP_INFO_MAX_KEYS keys gives -1 (after the
 * import); at most PGP_INFO_MAX_EMAILS addresses are listed per key
 * (further ones are left out).
 */
int pgp_key_inspect(struct pgp_ctx *pc, const char *data, size_t len,
    struct pgp_key_info **out, size_t *nout, char **err_out);
void pgp_key_info_free(struct pgp_key_info *a, size_t n);

/*
 * Sign with the organisation's key: when a signer is set,
 * pgp_encrypt_mime() signs and encrypts in one OpenPGP message
 * (RFC 3156 section 6.2, combined method) with the secret key whose
 * primary fingerprint is fpr (40 hex, any case).
 * The secret key must be in the home and must have NO passphrase: the
 * context runs GnuPG with loopback pinentry and a passphrase callback
 * that always refuses, so a protected key fails (never blocks on a
 * prompt). A trial signature is made here, so such a key, a missing
 * secret key, or a key that cannot sign (revoked, expired, no signing
 * capability) gives -1 with *err_out, and the signer stays what it was.
 * fpr NULL clears the signer (encrypt only). 0 on success.
 */
int pgp_set_signer(struct pgp_ctx *pc, const char *fpr, char **err_out);

#endif
