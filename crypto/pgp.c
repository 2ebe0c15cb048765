/*
 * pgp.c - PGP/MIME encryption (RFC 3156) through GPGME.
 *
 * Implements: RFC 3156 section 4 (multipart/encrypted, application/
 *   pgp-encrypted with "Version: 1", application/octet-stream armor),
 *   RFC 9788 / draft-autocrypt-lamps-protected-headers ("memory hole"):
 *   the real Subject and friends travel inside the ciphertext, the outer
 *   Subject is a placeholder.
 * Trust: the message comes from our own queue, the keys from the gateway's
 *   own GnuPG home (admin import or the key store). We never let GnuPG's
 *   web of trust decide: GPGME_ENCRYPT_ALWAYS_TRUST, because an admin-
 *   imported key is not certified by any key in that home and would
 *   otherwise be refused as "unusable public key"; the gateway's key store
 *   records provenance and is the place where trust is decided.
 * Ownership: see pgp.h. No logging; errors in out-parameters.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gpgme.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "pgp.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define PGP_MAX_FIELDS		1000	/* header fields we accept */
#define PGP_MAX_RCPTS		1000	/* keys per message */
#define PGP_LOCAL_MAX		((size_t)SIZE_MAX / 4)	/* out caps the result */

struct pgp_ctx {
	gpgme_ctx_t ctx;
	int signing;		/* a signer is set: encrypt and sign */
};

/* One header field: first byte of the name to the end of its last line. */
struct pgp_field {
	const char *p;
	size_t len;
	size_t name_len;
};

static pthread_once_t pgp_once = PTHREAD_ONCE_INIT;
static const char *pgp_version;		/* NULL when GPGME refused */

static void
pgp_init_once(void)
{
	/* GPGME requires this before any other call; it also sets locale. */
	pgp_version = gpgme_check_version(NULL);
}

static void
set_err(char **err_out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* set_err - *err_out = new formatted string, if the caller wants one */
static void
set_err(char **err_out, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	if (err_out == NULL)
		return;
	buf_init(&b, 1024);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) != 0)
		buf_append_str(&b, "error (message too long)");
	va_end(ap);
	*err_out = buf_steal(&b, NULL);
	if (*err_out == NULL)
		*err_out = xstrdup("error");
}

struct pgp_ctx *
pgp_ctx_new(const char *gnupghome, char **err_out)
{
	struct pgp_ctx *pc;
	gpgme_ctx_t ctx;
	gpgme_error_t e;

	if (gnupghome == NULL || *gnupghome == '\0') {
		set_err(err_out, "pgp: no GnuPG home given");
		return NULL;
	}
	pthread_once(&pgp_once, pgp_init_once);
	if (pgp_version == NULL) {
		set_err(err_out, "pgp: GPGME library initialisation failed");
		return NULL;
	}
	e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
	if (e != 0) {
		set_err(err_out, "pgp: no usable gpg engine: %s",
		    gpgme_strerror(e));
		return NULL;
	}
	e = gpgme_new(&ctx);
	if (e != 0) {
		set_err(err_out, "pgp: gpgme_new: %s", gpgme_strerror(e));
		return NULL;
	}
	e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
	if (e == 0) {
		/* Per context: the process GNUPGHOME stays what it was. */
		e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP,
		    NULL, gnupghome);
	}
	if (e == 0)
		e = gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL);
	if (e != 0) {
		set_err(err_out, "pgp: setting up context for %s: %s",
		    gnupghome, gpgme_strerror(e));
		gpgme_release(ctx);
		return NULL;
	}
	gpgme_set_armor(ctx, 1);
	gpgme_set_textmode(ctx, 0);
	pc = xcalloc(1, sizeof(*pc));
	pc->ctx = ctx;
	return pc;
}

void
pgp_ctx_free(struct pgp_ctx **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	gpgme_release((*pp)->ctx);
	xfree(*pp);
	*pp = NULL;
}

/* addr_ok - one '@', both sides non-empty, nothing GnuPG's pattern
 * syntax or a user ID's angle brackets could take another way */
static int
addr_ok(const char *addr)
{
	const char *at, *s;

	if (addr == NULL || *addr == '\0' || strlen(addr) > 254)
		return 0;
	at = strrchr(addr, '@');
	if (at == NULL || at == addr || at[1] == '\0')
		return 0;
	for (s = addr; *s != '\0'; s++) {
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '<' ||
		    *s == '>')
			return 0;
		if (*s == '@' && s != at)
			return 0;
	}
	return 1;
}

/* fpr_ok - a full v4 fingerprint, so gpg cannot read it as a pattern */
static int
fpr_ok(const char *f)
{
	size_t i;

	for (i = 0; f[i] != '\0'; i++)
		if (!((f[i] >= '0' && f[i] <= '9') ||
		    (f[i] >= 'A' && f[i] <= 'F') ||
		    (f[i] >= 'a' && f[i] <= 'f')))
			return 0;
	return i == PGP_FPR_SIZE - 1;
}

/* email_eq - local part byte for byte, domain case-insensitively */
static int
email_eq(const char *uid_email, const char *addr)
{
	const char *a1, *a2;

	if (uid_email == NULL)
		return 0;
	a1 = strrchr(uid_email, '@');
	a2 = strrchr(addr, '@');
	if (a1 == NULL || a2 == NULL || a1 - uid_email != a2 - addr)
		return 0;
	if (memcmp(uid_email, addr, (size_t)(a1 - uid_email)) != 0)
		return 0;
	return strcasecmp(a1 + 1, a2 + 1) == 0;
}

enum pgp_key_state {
	PGP_KEY_OK = 0,
	PGP_KEY_NOCAP,		/* least telling reason first */
	PGP_KEY_INVALID,
	PGP_KEY_DISABLED,
	PGP_KEY_EXPIRED,
	PGP_KEY_REVOKED,
	PGP_KEY_NOMATCH,	/* no user ID for addr at all */
};

static const char *
key_state_str(enum pgp_key_state s)
{
	switch (s) {
	case PGP_KEY_NOCAP:
		return "no encryption subkey";
	case PGP_KEY_INVALID:
		return "invalid";
	case PGP_KEY_DISABLED:
		return "disabled";
	case PGP_KEY_EXPIRED:
		return "expired";
	case PGP_KEY_REVOKED:
		return "revoked";
	default:
		return "none";
	}
}

/* key_classify - can we encrypt to addr with this key, and if not, why */
static enum pgp_key_state
key_classify(gpgme_key_t k, const char *addr)
{
	gpgme_user_id_t u;
	gpgme_subkey_t sk;
	int match = 0, match_revoked = 0;
	enum pgp_key_state sub = PGP_KEY_NOCAP;

	for (u = k->uids; u != NULL; u = u->next) {
		if (!email_eq(u->email, addr))
			continue;
		if (u->revoked || u->invalid)
			match_revoked = 1;
		else
			match = 1;
	}
	if (!match && !match_revoked)
		return PGP_KEY_NOMATCH;
	if (k->revoked)
		return PGP_KEY_REVOKED;
	if (k->expired)
		return PGP_KEY_EXPIRED;
	if (k->disabled)
		return PGP_KEY_DISABLED;
	if (k->invalid)
		return PGP_KEY_INVALID;
	if (!match)
		return PGP_KEY_REVOKED;		/* only revoked user IDs */
	for (sk = k->subkeys; sk != NULL; sk = sk->next) {
		if (!sk->can_encrypt)
			continue;
		if (!sk->revoked && !sk->expired && !sk->disabled &&
		    !sk->invalid)
			return PGP_KEY_OK;
		if (sk->revoked)
			sub = PGP_KEY_REVOKED;
		else if (sk->expired && sub != PGP_KEY_REVOKED)
			sub = PGP_KEY_EXPIRED;
		else if (sub == PGP_KEY_NOCAP)
			sub = PGP_KEY_INVALID;
	}
	return sub;
}

int
pgp_key_find(struct pgp_ctx *pc, const char *addr, char *fpr_out,
    char *why, size_t why_len)
{
	char pattern[260];
	gpgme_key_t k;
	gpgme_error_t e;
	enum pgp_key_state st, worst = PGP_KEY_NOMATCH;
	long best_ts = -1;
	int found = 0, rc = 0;

	fpr_out[0] = '\0';
	if (why_len > 0)
		why[0] = '\0';
	if (!addr_ok(addr)) {
		snprintf(why, why_len, "invalid address");
		return -1;
	}
	/* "<addr>": GnuPG's exact e-mail match; we still check ourselves. */
	if (snprintf(pattern, sizeof(pattern), "<%s>", addr) >=
	    (int)sizeof(pattern)) {
		snprintf(why, why_len, "address too long");
		return -1;
	}
	e = gpgme_op_keylist_start(pc->ctx, pattern, 0);
	if (e != 0) {
		snprintf(why, why_len, "keylist: %s", gpgme_strerror(e));
		return -1;
	}
	for (;;) {
		e = gpgme_op_keylist_next(pc->ctx, &k);
		if (e != 0)
			break;
		st = key_classify(k, addr);
		if (st == PGP_KEY_OK && k->subkeys != NULL &&
		    k->subkeys->fpr != NULL &&
		    strlen(k->subkeys->fpr) == PGP_FPR_SIZE - 1 &&
		    k->subkeys->timestamp > best_ts) {
			/* newest wins: a rotated key replaces the old one */
			best_ts = k->subkeys->timestamp;
			memcpy(fpr_out, k->subkeys->fpr, PGP_FPR_SIZE);
			found = 1;
		} else if (st != PGP_KEY_OK && (worst == PGP_KEY_NOMATCH ||
		    (st != PGP_KEY_NOMATCH && st > worst)))
			worst = st;
		gpgme_key_unref(k);
	}
	if (gpgme_err_code(e) != GPG_ERR_EOF) {
		snprintf(why, why_len, "keylist: %s", gpgme_strerror(e));
		gpgme_op_keylist_end(pc->ctx);
		fpr_out[0] = '\0';
		return -1;
	}
	gpgme_op_keylist_end(pc->ctx);
	if (found)
		rc = 1;
	else
		snprintf(why, why_len, "%s", key_state_str(worst));
	return rc;
}

int
pgp_key_import(struct pgp_ctx *pc, const char *armored, size_t len,
    char **fprs_out, char **err_out)
{
	gpgme_data_t d;
	gpgme_error_t e;
	gpgme_import_result_t r;
	gpgme_import_status_t s, t;
	struct buf list;
	int n = 0;

	*fprs_out = NULL;
	if (armored == NULL || len == 0) {
		set_err(err_out, "pgp: no key data");
		return -1;
	}
	e = gpgme_data_new_from_mem(&d, armored, len, 0);
	if (e != 0) {
		set_err(err_out, "pgp: key data: %s", gpgme_strerror(e));
		return -1;
	}
	e = gpgme_op_import(pc->ctx, d);
	gpgme_data_release(d);
	if (e != 0) {
		set_err(err_out, "pgp: import: %s", gpgme_strerror(e));
		return -1;
	}
	r = gpgme_op_import_result(pc->ctx);
	buf_init(&list, 64 * 1024);
	for (s = r != NULL ? r->imports : NULL; s != NULL; s = s->next) {
		if (s->result != 0 || s->fpr == NULL)
			continue;
		/* GnuPG reports one key several times (key, uid, subkey) */
		for (t = r->imports; t != s; t = t->next)
			if (t->result == 0 && t->fpr != NULL &&
			    strcmp(t->fpr, s->fpr) == 0)
				break;
		if (t != s)
			continue;
		if ((n > 0 && buf_append_char(&list, ',') != 0) ||
		    buf_append_str(&list, s->fpr) != 0) {
			buf_free(&list);
			set_err(err_out, "pgp: import: too many keys");
			return -1;
		}
		n++;
	}
	if (n == 0) {
		buf_free(&list);
		set_err(err_out, "pgp: import: no usable OpenPGP key in data "
		    "(%d considered, %d not imported)",
		    r != NULL ? r->considered : 0,
		    r != NULL ? r->not_imported : 0);
		return -1;
	}
	*fprs_out = buf_steal(&list, NULL);
	return n;
}

/* append_crlf - copy p, turning every bare LF into CRLF */
static int
append_crlf(struct buf *b, const char *p, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n' || (i > 0 && p[i - 1] == '\r'))
			continue;
		if (buf_append(b, p + start, i - start) != 0 ||
		    buf_append(b, "\r\n", 2) != 0)
			return -1;
		start = i + 1;
	}
	return buf_append(b, p + start, n - start);
}

/* append_field - a header field, CRLF-canonical, ending in CRLF */
static int
append_field(struct buf *b, const struct pgp_field *f)
{
	if (append_crlf(b, f->p, f->len) != 0)
		return -1;
	if (f->len == 0 || f->p[f->len - 1] != '\n')
		return buf_append(b, "\r\n", 2);
	return 0;
}

static int
field_is(const struct pgp_field *f, const char *name)
{
	return f->name_len == strlen(name) &&
	    strncasecmp(f->p, name, f->name_len) == 0;
}

/* content fields (RFC 2045 section 9: "Content-" prefix) go inside */
static int
field_is_content(const struct pgp_field *f)
{
	return f->name_len > 8 && strncasecmp(f->p, "Content-", 8) == 0;
}

static int
field_is_protected(const struct pgp_field *f)
{
	static const char *const names[] = {
		"From", "To", "Cc", "Subject", "Date", "Message-ID",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (field_is(f, names[i]))
			return 1;
	return 0;
}

/*
 * split_header - cut msg into header fields and the body. The header ends
 * at the first empty line (or the end of input); continuation lines start
 * with SP or HTAB (RFC 5322 2.2.3). -1 on a line that is neither.
 */
static int
split_header(const char *msg, size_t len, struct pgp_field **fields_out,
    size_t *nfields_out, size_t *body_out, char **err_out)
{
	struct pgp_field *fs = NULL;
	size_t n = 0, pos = 0, eol, i;
	const char *nl;

	*body_out = len;
	while (pos < len) {
		if (msg[pos] == '\n' || (msg[pos] == '\r' && pos + 1 < len &&
		    msg[pos + 1] == '\n')) {
			*body_out = pos + (msg[pos] == '\r' ? 2 : 1);
			break;
		}
		if (msg[pos] == ' ' || msg[pos] == '\t')
			goto bad;
		if (n == PGP_MAX_FIELDS) {
			set_err(err_out, "pgp: more than %d header fields",
			    PGP_MAX_FIELDS);
			xfree(fs);
			return -1;
		}
		fs = xrealloc(fs, (n + 1) * sizeof(*fs));
		fs[n].p = msg + pos;
		fs[n].name_len = 0;
		/* field name: printable US-ASCII except ':' (RFC 5322 3.6.8) */
		for (i = pos; i < len && msg[i] != ':'; i++)
			if ((unsigned char)msg[i] <= ' ' ||
			    (unsigned char)msg[i] >= 0x7f)
				goto bad;
		if (i == len || i == pos)
			goto bad;
		fs[n].name_len = i - pos;
		eol = pos;
		do {
			nl = memchr(msg + eol, '\n', len - eol);
			eol = nl != NULL ? (size_t)(nl - msg) + 1 : len;
		} while (eol < len && (msg[eol] == ' ' || msg[eol] == '\t'));
		fs[n].len = eol - pos;
		n++;
		pos = eol;
	}
	*fields_out = fs;
	*nfields_out = n;
	return 0;
bad:
	set_err(err_out, "pgp: malformed header line at offset %zu", pos);
	xfree(fs);
	return -1;
}

/* build_inner - the entity that gets encrypted (see pgp.h) */
static int
build_inner(struct buf *b, const struct pgp_field *fs, size_t n,
    const char *body, size_t body_len)
{
	size_t i, l;
	int have_ct = 0;

	for (i = 0; i < n; i++) {
		if (!field_is_content(&fs[i]))
			continue;
		if (!field_is(&fs[i], "Content-Type") || have_ct) {
			if (!field_is(&fs[i], "Content-Type") &&
			    append_field(b, &fs[i]) != 0)
				return -1;
			continue;	/* a second Content-Type is dropped */
		}
		have_ct = 1;
		l = fs[i].len;
		while (l > 0 && (fs[i].p[l - 1] == '\r' ||
		    fs[i].p[l - 1] == '\n' || fs[i].p[l - 1] == ' ' ||
		    fs[i].p[l - 1] == '\t'))
			l--;
		if (l > 0 && fs[i].p[l - 1] == ';')
			l--;
		if (append_crlf(b, fs[i].p, l) != 0 ||
		    buf_append_str(b, ";\r\n protected-headers=\"v1\"\r\n") != 0)
			return -1;
	}
	if (!have_ct && buf_append_str(b, "Content-Type: text/plain; "
	    "charset=us-ascii;\r\n protected-headers=\"v1\"\r\n") != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (field_is_protected(&fs[i]) && append_field(b, &fs[i]) != 0)
			return -1;
	if (buf_append(b, "\r\n", 2) != 0)
		return -1;
	return append_crlf(b, body, body_len);
}

/* build_outer - the visible message around the armored ciphertext */
static int
build_outer(struct buf *b, const struct pgp_field *fs, size_t n,
    const char *subject, const char *armor, size_t armor_len,
    char **err_out)
{
	unsigned char rnd[12];
	char bnd[64];
	size_t i;
	int subj = 0;

	/* "=_" cannot start an armor line, so the boundary never collides */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		set_err(err_out, "pgp: no random bytes for the boundary");
		return -1;
	}
	i = (size_t)snprintf(bnd, sizeof(bnd), "=_sealgate_");
	for (size_t j = 0; j < sizeof(rnd); j++, i += 2)
		snprintf(bnd + i, sizeof(bnd) - i, "%02x", rnd[j]);

	for (i = 0; i < n; i++) {
		if (field_is_content(&fs[i]) || field_is(&fs[i], "MIME-Version"))
			continue;
		if (field_is(&fs[i], "Subject")) {
			if (!subj && buf_printf(b, "Subject: %s\r\n",
			    subject) != 0)
				goto full;
			subj = 1;
			continue;
		}
		if (append_field(b, &fs[i]) != 0)
			goto full;
	}
	if (!subj && buf_printf(b, "Subject: %s\r\n", subject) != 0)
		goto full;
	if (buf_printf(b, "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/encrypted;\r\n"
	    " protocol=\"application/pgp-encrypted\";\r\n"
	    " boundary=\"%s\"\r\n"
	    "\r\n"
	    "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
	    "--%s\r\n"
	    "Content-Type: application/pgp-encrypted\r\n"
	    "Content-Description: PGP/MIME version identification\r\n"
	    "\r\n"
	    "Version: 1\r\n"
	    "\r\n"
	    "--%s\r\n"
	    "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
	    "Content-Description: OpenPGP encrypted message\r\n"
	    "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n"
	    "\r\n", bnd, bnd, bnd) != 0)
		goto full;
	if (append_crlf(b, armor, armor_len) != 0)
		goto full;
	if ((armor_len == 0 || armor[armor_len - 1] != '\n') &&
	    buf_append(b, "\r\n", 2) != 0)
		goto full;
	if (buf_printf(b, "\r\n--%s--\r\n", bnd) != 0)
		goto full;
	return 0;
full:
	set_err(err_out, "pgp: output too large");
	return -1;
}

/* sign_error - why a signing operation failed, from its result */
static void
sign_error(gpgme_ctx_t ctx, gpgme_error_t e, char **err_out)
{
	gpgme_sign_result_t sr = gpgme_op_sign_result(ctx);

	if (sr != NULL && sr->invalid_signers != NULL)
		set_err(err_out, "pgp: sign: key %s: %s",
		    sr->invalid_signers->fpr != NULL ?
		    sr->invalid_signers->fpr : "?",
		    gpgme_strerror(sr->invalid_signers->reason));
	else
		set_err(err_out, "pgp: sign: %s", gpgme_strerror(e));
}

/* sign_check - the last operation made exactly one signature */
static int
sign_check(gpgme_ctx_t ctx, char **err_out)
{
	gpgme_sign_result_t sr = gpgme_op_sign_result(ctx);

	if (sr != NULL && sr->invalid_signers != NULL) {
		sign_error(ctx, gpg_error(GPG_ERR_GENERAL), err_out);
		return -1;
	}
	if (sr == NULL || sr->signatures == NULL ||
	    sr->signatures->next != NULL) {
		set_err(err_out, "pgp: sign: not exactly one signature made");
		return -1;
	}
	return 0;
}

int
pgp_encrypt_mime(struct pgp_ctx *pc, const char *msg, size_t len,
    const char *const *fprs, size_t n, const char *outer_subject,
    struct buf *out, char **err_out)
{
	struct pgp_field *fs = NULL;
	size_t nf = 0, body, i, clen = 0;
	struct buf rcpts;
	gpgme_data_t plain = NULL, cipher = NULL;
	gpgme_encrypt_result_t er;
	gpgme_error_t e;
	struct buf inner, whole;
	char *ctext = NULL;
	int rc = -1;

	if (outer_subject == NULL)
		outer_subject = PGP_OUTER_SUBJECT_DEFAULT;
	if (strpbrk(outer_subject, "\r\n") != NULL) {
		set_err(err_out, "pgp: outer subject contains a line break");
		return -1;
	}
	if (n == 0 || n > PGP_MAX_RCPTS || fprs == NULL) {
		set_err(err_out, "pgp: need 1..%d recipient keys",
		    PGP_MAX_RCPTS);
		return -1;
	}
	if (split_header(msg, len, &fs, &nf, &body, err_out) != 0)
		return -1;
	buf_init(&inner, PGP_LOCAL_MAX);
	buf_init(&whole, PGP_LOCAL_MAX);
	/*
	 * Recipients by fingerprint (gpgme_op_encrypt_ext's recipient
	 * string): no key listing per message, which would cost two more
	 * gpg processes per message than the encryption itself.
	 */
	buf_init(&rcpts, (PGP_FPR_SIZE + 1) * (PGP_MAX_RCPTS + 1));
	for (i = 0; i < n; i++) {
		if (fprs[i] == NULL || !fpr_ok(fprs[i])) {
			set_err(err_out, "pgp: recipient %zu: not a "
			    "fingerprint", i);
			goto done;
		}
		if (buf_printf(&rcpts, "%s%s", i ? "\n" : "", fprs[i]) != 0) {
			set_err(err_out, "pgp: too many recipients");
			goto done;
		}
	}
	if (build_inner(&inner, fs, nf, msg + body, len - body) != 0) {
		set_err(err_out, "pgp: message too large");
		goto done;
	}
	e = gpgme_data_new_from_mem(&plain, inner.data, inner.len, 0);
	if (e == 0)
		e = gpgme_data_new(&cipher);
	if (e != 0) {
		set_err(err_out, "pgp: data: %s", gpgme_strerror(e));
		goto done;
	}
	/* ALWAYS_TRUST: see the file header; validity is our decision. */
	if (pc->signing)
		e = gpgme_op_encrypt_sign_ext(pc->ctx, NULL, buf_cstr(&rcpts),
		    GPGME_ENCRYPT_ALWAYS_TRUST, plain, cipher);
	else
		e = gpgme_op_encrypt_ext(pc->ctx, NULL, buf_cstr(&rcpts),
		    GPGME_ENCRYPT_ALWAYS_TRUST, plain, cipher);
	if (e != 0) {
		er = gpgme_op_encrypt_result(pc->ctx);
		if (er != NULL && er->invalid_recipients != NULL)
			set_err(err_out, "pgp: encrypt: key %s: %s",
			    er->invalid_recipients->fpr != NULL ?
			    er->invalid_recipients->fpr : "?",
			    gpgme_strerror(er->invalid_recipients->reason));
		else if (pc->signing)
			sign_error(pc->ctx, e, err_out);
		else
			set_err(err_out, "pgp: encrypt: %s", gpgme_strerror(e));
		goto done;
	}
	if (pc->signing && sign_check(pc->ctx, err_out) != 0)
		goto done;
	ctext = gpgme_data_release_and_get_mem(cipher, &clen);
	cipher = NULL;
	if (ctext == NULL || clen == 0) {
		set_err(err_out, "pgp: encrypt: no output");
		goto done;
	}
	if (build_outer(&whole, fs, nf, outer_subject, ctext, clen,
	    err_out) != 0)
		goto done;
	if (buf_append(out, whole.data, whole.len) != 0) {
		set_err(err_out, "pgp: output exceeds the buffer maximum");
		goto done;
	}
	rc = 0;
done:
	if (plain != NULL)
		gpgme_data_release(plain);
	if (cipher != NULL)
		gpgme_data_release(cipher);
	if (ctext != NULL)
		gpgme_free(ctext);
	buf_free(&rcpts);
	buf_free_secure(&inner);	/* the plaintext */
	buf_free(&whole);
	xfree(fs);
	return rc;
}

/* ---- key checks, inspection, signer ------------------------------- */

/*
 * key_by_fpr - the key whose PRIMARY fingerprint is fpr. GnuPG matches a
 * fingerprint against subkeys too, and anyone can attach a copy of
 * another key's public material as an encryption subkey of their own, so
 * we list every match and keep only the primary one.
 * 1 found (*k_out, gpgme_key_unref()); 0 none; -1 error in why.
 */
static int
key_by_fpr(struct pgp_ctx *pc, const char *fpr, int secret,
    gpgme_key_t *k_out, char *why, size_t why_len)
{
	gpgme_key_t k;
	gpgme_error_t e;

	*k_out = NULL;
	e = gpgme_op_keylist_start(pc->ctx, fpr, secret);
	if (e != 0) {
		snprintf(why, why_len, "keylist: %s", gpgme_strerror(e));
		return -1;
	}
	while ((e = gpgme_op_keylist_next(pc->ctx, &k)) == 0) {
		if (*k_out == NULL && k->subkeys != NULL &&
		    k->subkeys->fpr != NULL &&
		    strcasecmp(k->subkeys->fpr, fpr) == 0)
			*k_out = k;
		else
			gpgme_key_unref(k);
	}
	gpgme_op_keylist_end(pc->ctx);
	if (gpgme_err_code(e) != GPG_ERR_EOF) {
		snprintf(why, why_len, "keylist: %s", gpgme_strerror(e));
		if (*k_out != NULL)
			gpgme_key_unref(*k_out);
		*k_out = NULL;
		return -1;
	}
	return *k_out != NULL ? 1 : 0;
}

/* key_level_state - revoked, expired, disabled or invalid as a whole */
static enum pgp_key_state
key_level_state(gpgme_key_t k)
{
	if (k->revoked)
		return PGP_KEY_REVOKED;
	if (k->expired)
		return PGP_KEY_EXPIRED;
	if (k->disabled)
		return PGP_KEY_DISABLED;
	if (k->invalid)
		return PGP_KEY_INVALID;
	return PGP_KEY_OK;
}

int
pgp_key_check(struct pgp_ctx *pc, const char *fpr, const char *addr,
    char *why, size_t why_len)
{
	gpgme_key_t k;
	enum pgp_key_state st;
	int rc;

	if (why_len > 0)
		why[0] = '\0';
	if (pc == NULL || fpr == NULL || !fpr_ok(fpr)) {
		snprintf(why, why_len, "not a fingerprint");
		return -1;
	}
	if (!addr_ok(addr)) {
		snprintf(why, why_len, "invalid address");
		return -1;
	}
	rc = key_by_fpr(pc, fpr, 0, &k, why, why_len);
	if (rc <= 0) {
		if (rc == 0)
			snprintf(why, why_len, "not in keyring");
		return rc;
	}
	st = key_level_state(k);
	if (st == PGP_KEY_OK)
		st = key_classify(k, addr);
	gpgme_key_unref(k);
	if (st == PGP_KEY_OK)
		return 1;
	if (st == PGP_KEY_NOMATCH)
		snprintf(why, why_len, "no user ID for %s", addr);
	else
		snprintf(why, why_len, "%s", key_state_str(st));
	return 0;
}

/*
 * data_has_secret - list the key data without importing it (gpg
 * --import --import-options show-only underneath). 1 when any key in it
 * carries secret material, 0 when none does, -1 on error.
 */
static int
data_has_secret(struct pgp_ctx *pc, const char *data, size_t len,
    char **err_out)
{
	gpgme_data_t d;
	gpgme_key_t k;
	gpgme_subkey_t sk;
	gpgme_error_t e;
	int secret = 0;

	e = gpgme_data_new_from_mem(&d, data, len, 0);
	if (e != 0) {
		set_err(err_out, "pgp: key data: %s", gpgme_strerror(e));
		return -1;
	}
	e = gpgme_op_keylist_from_data_start(pc->ctx, d, 0);
	if (e != 0) {
		gpgme_data_release(d);
		set_err(err_out, "pgp: examining key data: %s",
		    gpgme_strerror(e));
		return -1;
	}
	while ((e = gpgme_op_keylist_next(pc->ctx, &k)) == 0) {
		if (k->secret)
			secret = 1;
		for (sk = k->subkeys; sk != NULL; sk = sk->next)
			if (sk->secret)
				secret = 1;
		gpgme_key_unref(k);
	}
	gpgme_op_keylist_end(pc->ctx);
	gpgme_data_release(d);
	if (gpgme_err_code(e) != GPG_ERR_EOF) {
		set_err(err_out, "pgp: examining key data: %s",
		    gpgme_strerror(e));
		return -1;
	}
	return secret;
}

/* add_email - append addr (domain lower-cased) to info unless present */
static void
add_email(struct pgp_key_info *ki, const char *addr)
{
	char *a, *at, *p;
	size_t i;

	if (!addr_ok(addr) || ki->nemails >= PGP_INFO_MAX_EMAILS)
		return;
	a = xstrdup(addr);
	at = strrchr(a, '@');
	for (p = at + 1; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	for (i = 0; i < ki->nemails; i++) {
		if (strcmp(ki->emails[i], a) == 0) {
			xfree(a);
			return;
		}
	}
	ki->emails = xrealloc(ki->emails,
	    (ki->nemails + 1) * sizeof(*ki->emails));
	ki->emails[ki->nemails++] = a;
}

/* key_describe - fill ki from k (see struct pgp_key_info) */
static void
key_describe(gpgme_key_t k, struct pgp_key_info *ki)
{
	gpgme_user_id_t u;
	gpgme_subkey_t sk;
	char *p;

	memset(ki, 0, sizeof(*ki));
	memcpy(ki->fpr, k->subkeys->fpr, PGP_FPR_SIZE);
	for (p = ki->fpr; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	ki->created = k->subkeys->timestamp;
	ki->expires = k->subkeys->expires;
	ki->revoked = k->revoked != 0;
	ki->expired = k->expired != 0;
	ki->disabled = k->disabled != 0;
	ki->invalid = k->invalid != 0;
	for (sk = k->subkeys; sk != NULL; sk = sk->next)
		if (sk->can_encrypt && !sk->revoked && !sk->expired &&
		    !sk->disabled && !sk->invalid)
			ki->can_encrypt = 1;
	for (u = k->uids; u != NULL; u = u->next)
		if (!u->revoked && !u->invalid && u->email != NULL)
			add_email(ki, u->email);
}

/* import_fprs - import data; the distinct primary fingerprints GnuPG
 * reports as imported or unchanged, in its order (a new array of
 * PGP_FPR_SIZE strings). -1 when secret material went in after all. */
static int
import_fprs(struct pgp_ctx *pc, const char *data, size_t len,
    char (**fprs_out)[PGP_FPR_SIZE], size_t *n_out, char **err_out)
{
	char (*fprs)[PGP_FPR_SIZE] = NULL;
	gpgme_data_t d;
	gpgme_error_t e;
	gpgme_import_result_t r;
	gpgme_import_status_t s;
	size_t n = 0, i;

	e = gpgme_data_new_from_mem(&d, data, len, 0);
	if (e != 0) {
		set_err(err_out, "pgp: key data: %s", gpgme_strerror(e));
		return -1;
	}
	e = gpgme_op_import(pc->ctx, d);
	gpgme_data_release(d);
	r = e == 0 ? gpgme_op_import_result(pc->ctx) : NULL;
	if (r == NULL) {
		set_err(err_out, "pgp: import: %s",
		    gpgme_strerror(e != 0 ? e : gpg_error(GPG_ERR_GENERAL)));
		return -1;
	}
	if (r->secret_read != 0 || r->secret_imported != 0) {
		set_err(err_out, "pgp: key data holds secret keys");
		return -1;
	}
	for (s = r->imports; s != NULL; s = s->next) {
		if (s->result != 0 || s->fpr == NULL || !fpr_ok(s->fpr))
			continue;
		for (i = 0; i < n; i++)
			if (strcasecmp(fprs[i], s->fpr) == 0)
				break;
		if (i < n)
			continue;
		if (n == PGP_INFO_MAX_KEYS) {
			xfree(fprs);
			set_err(err_out, "pgp: more than %d keys in key data",
			    PGP_INFO_MAX_KEYS);
			return -1;
		}
		fprs = xrealloc(fprs, (n + 1) * sizeof(*fprs));
		memcpy(fprs[n++], s->fpr, PGP_FPR_SIZE);
	}
	*fprs_out = fprs;
	*n_out = n;
	return 0;
}

int
pgp_key_inspect(struct pgp_ctx *pc, const char *data, size_t len,
    struct pgp_key_info **out, size_t *nout, char **err_out)
{
	char (*fprs)[PGP_FPR_SIZE] = NULL;
	struct pgp_key_info *a = NULL;
	gpgme_key_t k;
	char why[256];
	size_t nf = 0, n = 0, i;
	int rc;

	*out = NULL;
	*nout = 0;
	if (pc == NULL || data == NULL || len == 0) {
		set_err(err_out, "pgp: no key data");
		return -1;
	}
	if (len > PGP_KEYDATA_MAX) {
		set_err(err_out, "pgp: key data larger than %d bytes",
		    PGP_KEYDATA_MAX);
		return -1;
	}
	rc = data_has_secret(pc, data, len, err_out);
	if (rc != 0) {
		if (rc == 1)
			set_err(err_out, "pgp: key data holds secret keys; "
			    "only public keys may be imported");
		return -1;
	}
	if (import_fprs(pc, data, len, &fprs, &nf, err_out) != 0)
		return -1;
	for (i = 0; i < nf; i++) {
		rc = key_by_fpr(pc, fprs[i], 0, &k, why, sizeof(why));
		if (rc < 0) {
			set_err(err_out, "pgp: key %s: %s", fprs[i], why);
			pgp_key_info_free(a, n);
			xfree(fprs);
			return -1;
		}
		if (rc == 0)
			continue;
		a = xrealloc(a, (n + 1) * sizeof(*a));
		key_describe(k, &a[n++]);
		gpgme_key_unref(k);
	}
	xfree(fprs);
	if (n == 0) {
		set_err(err_out, "pgp: no usable OpenPGP public key in data");
		return -1;
	}
	*out = a;
	*nout = n;
	return (int)n;
}

void
pgp_key_info_free(struct pgp_key_info *a, size_t n)
{
	size_t i, j;

	if (a == NULL)
		return;
	for (i = 0; i < n; i++) {
		for (j = 0; j < a[i].nemails; j++)
			xfree(a[i].emails[j]);
		xfree(a[i].emails);
	}
	xfree(a);
}

/* no_passphrase - GnuPG asks for a passphrase: refuse, never prompt */
static gpgme_error_t
no_passphrase(void *hook, const char *uid_hint, const char *info,
    int prev_was_bad, int fd)
{
	return gpg_error(GPG_ERR_NO_PASSPHRASE);
}

/* signer_usable - a secret key we may sign with; reason in why */
static int
signer_usable(gpgme_key_t k, char *why, size_t why_len)
{
	gpgme_subkey_t sk;
	enum pgp_key_state st = key_level_state(k);

	if (st != PGP_KEY_OK) {
		snprintf(why, why_len, "%s", key_state_str(st));
		return 0;
	}
	for (sk = k->subkeys; sk != NULL; sk = sk->next)
		if (sk->can_sign && sk->secret && !sk->revoked &&
		    !sk->expired && !sk->disabled && !sk->invalid)
			return 1;
	snprintf(why, why_len, "no usable signing key");
	return 0;
}

/* trial_sign - sign a few bytes with the context's signers */
static int
trial_sign(struct pgp_ctx *pc, char **err_out)
{
	static const char probe[] = "sealgate signer check\r\n";
	gpgme_data_t in = NULL, sig = NULL;
	gpgme_error_t e;
	int rc = -1;

	e = gpgme_data_new_from_mem(&in, probe, sizeof(probe) - 1, 0);
	if (e == 0)
		e = gpgme_data_new(&sig);
	if (e != 0) {
		set_err(err_out, "pgp: data: %s", gpgme_strerror(e));
		goto done;
	}
	e = gpgme_op_sign(pc->ctx, in, sig, GPGME_SIG_MODE_DETACH);
	if (e != 0) {
		sign_error(pc->ctx, e, err_out);
		goto done;
	}
	rc = sign_check(pc->ctx, err_out);
done:
	if (in != NULL)
		gpgme_data_release(in);
	if (sig != NULL)
		gpgme_data_release(sig);
	return rc;
}

/* signer_install - make k the only signer and try it; 0 or -1 */
static int
signer_install(struct pgp_ctx *pc, gpgme_key_t k, char **err_out)
{
	gpgme_error_t e;

	gpgme_signers_clear(pc->ctx);
	e = gpgme_signers_add(pc->ctx, k);
	if (e != 0) {
		set_err(err_out, "pgp: signer: %s", gpgme_strerror(e));
		return -1;
	}
	return trial_sign(pc, err_out);
}

int
pgp_set_signer(struct pgp_ctx *pc, const char *fpr, char **err_out)
{
	gpgme_key_t k = NULL, old;
	gpgme_error_t e;
	char why[256];
	int rc;

	if (pc == NULL) {
		set_err(err_out, "pgp: no context");
		return -1;
	}
	if (fpr == NULL) {
		gpgme_signers_clear(pc->ctx);
		pc->signing = 0;
		return 0;
	}
	if (!fpr_ok(fpr)) {
		set_err(err_out, "pgp: signer: not a fingerprint");
		return -1;
	}
	/* A passphrase prompt must fail, not wait for a user. */
	e = gpgme_set_pinentry_mode(pc->ctx, GPGME_PINENTRY_MODE_LOOPBACK);
	if (e != 0) {
		set_err(err_out, "pgp: loopback pinentry: %s",
		    gpgme_strerror(e));
		return -1;
	}
	gpgme_set_passphrase_cb(pc->ctx, no_passphrase, NULL);
	rc = key_by_fpr(pc, fpr, 1, &k, why, sizeof(why));
	if (rc <= 0) {
		set_err(err_out, "pgp: signer %s: %s", fpr,
		    rc == 0 ? "no secret key in the home" : why);
		return -1;
	}
	if (!signer_usable(k, why, sizeof(why))) {
		set_err(err_out, "pgp: signer %s: %s", fpr, why);
		gpgme_key_unref(k);
		return -1;
	}
	old = pc->signing ? gpgme_signers_enum(pc->ctx, 0) : NULL;
	rc = signer_install(pc, k, err_out);
	gpgme_key_unref(k);
	if (rc != 0) {
		/* keep the previous signer, or none */
		gpgme_signers_clear(pc->ctx);
		if (old != NULL && gpgme_signers_add(pc->ctx, old) != 0)
			pc->signing = 0;
	} else {
		pc->signing = 1;
	}
	if (old != NULL)
		gpgme_key_unref(old);
	return rc;
}
