/*
 * smime.c - S/MIME (RFC 8551) encryption of whole messages with OpenSSL CMS.
 *
 * OpenSSL 3.0's CMS_encrypt() builds AuthEnvelopedData (RFC 5083) by
 * itself when the cipher is AEAD (EVP_CIPH_FLAG_AEAD_CIPHER, as
 * AES-256-GCM is), EnvelopedData otherwise; smime_encrypt() checks the
 * resulting content type and fails if it is not the one asked for.
 *
 * Signing (RFC 8551 3.7: sign first, then encrypt) wraps the inner entity
 * in multipart/signed with a detached SHA-256 SignedData (RFC 8551 3.5.3)
 * before the same encryption step.
 * Trust: msg comes from our own queue; certificates handed to
 * smime_cert_from_mem() / smime_cert_inspect() may come from anywhere
 * (harvested from signed mail) and are parsed defensively.
 */
#define _GNU_SOURCE		/* memmem */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/b64.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "smime.h"

#define SMIME_B64_LINE	76
#define SMIME_HDR_MAX	8192	/* unfolded Content-Type we look at */
#define SMIME_SIG_ROOM	(1024 * 1024)	/* signature part, certs included */

/* smime_fail - new error string "what: <OpenSSL error queue>" */
static char *
smime_fail(const char *what)
{
	struct buf b;
	unsigned long e;
	char line[256];
	int first = 1;

	buf_init(&b, 4096);
	(void)buf_append_str(&b, what);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, line, sizeof(line));
		(void)buf_append_str(&b, first ? ": " : "; ");
		(void)buf_append_str(&b, line);
		first = 0;
	}
	return buf_steal(&b, NULL);
}

/* no_passphrase - PEM callback: never prompt on a terminal; an
 * encrypted PEM object simply fails to load */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static void
set_why(char *why, size_t whylen, const char *s)
{
	if (why != NULL && whylen > 0)
		(void)snprintf(why, whylen, "%s", s);
}

/* ---- certificate checks ------------------------------------------- */

/*
 * addr_equal - local part exact, domain ASCII case-insensitive. a is the
 * recipient (NUL-terminated), n[0..nlen) a name from the certificate.
 */
static int
addr_equal(const char *a, const unsigned char *n, size_t nlen)
{
	size_t alen = strlen(a), i;
	const char *at_a = strrchr(a, '@');
	const unsigned char *at_n = NULL;

	if (alen != nlen || at_a == NULL || memchr(n, '\0', nlen) != NULL)
		return 0;
	for (i = nlen; i > 0; i--) {
		if (n[i - 1] == '@') {
			at_n = n + i - 1;
			break;
		}
	}
	if (at_n == NULL || (size_t)(at_a - a) != (size_t)(at_n - n))
		return 0;
	if (memcmp(a, n, (size_t)(at_a - a)) != 0)
		return 0;
	for (i = (size_t)(at_a - a) + 1; i < nlen; i++) {
		unsigned char x = (unsigned char)a[i], y = n[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

/* cert_names_addr - 1 when cert names addr (see smime.h) */
static int
cert_names_addr(X509 *cert, const char *addr)
{
	GENERAL_NAMES *gens;
	X509_NAME *subj;
	int crit = -1, i, found = 0;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (gens != NULL || crit != -1) {
		/* a SAN extension exists (even if unparsable): only it counts */
		for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens);
		    i++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
			if (g->type != GEN_EMAIL)
				continue;
			if (addr_equal(addr,
			    ASN1_STRING_get0_data(g->d.rfc822Name),
			    (size_t)ASN1_STRING_length(g->d.rfc822Name))) {
				found = 1;
				break;
			}
		}
		GENERAL_NAMES_free(gens);
		return found;
	}
	subj = X509_get_subject_name(cert);
	i = -1;
	while ((i = X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress,
	    i)) >= 0) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, i));
		if (addr_equal(addr, ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s)))
			return 1;
	}
	return 0;
}

int
smime_cert_usable(X509 *cert, const char *rcpt_addr, time_t now,
    char *why, size_t whylen)
{
	EVP_PKEY *pk;
	uint32_t flags, ku, xku;
	int c;

	if (cert == NULL || rcpt_addr == NULL) {
		set_why(why, whylen, "no certificate or address");
		return 0;
	}
	c = X509_cmp_time(X509_get0_notBefore(cert), &now);
	if (c == 0) {
		set_why(why, whylen, "unreadable notBefore");
		return 0;
	}
	if (c > 0) {
		set_why(why, whylen, "certificate not yet valid");
		return 0;
	}
	c = X509_cmp_time(X509_get0_notAfter(cert), &now);
	if (c == 0) {
		set_why(why, whylen, "unreadable notAfter");
		return 0;
	}
	if (c < 0) {
		set_why(why, whylen, "certificate expired");
		return 0;
	}

	flags = X509_get_extension_flags(cert);
	if (flags & EXFLAG_INVALID) {
		set_why(why, whylen, "invalid certificate extensions");
		return 0;
	}
	pk = X509_get0_pubkey(cert);
	if (pk == NULL) {
		set_why(why, whylen, "unreadable public key");
		return 0;
	}
	ku = X509_get_key_usage(cert);	/* UINT32_MAX when absent */
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pk) < 2048) {
			set_why(why, whylen, "RSA key shorter than 2048 bits");
			return 0;
		}
		if ((flags & EXFLAG_KUSAGE) && !(ku & KU_KEY_ENCIPHERMENT)) {
			set_why(why, whylen,
			    "keyUsage lacks keyEncipherment");
			return 0;
		}
		break;
	case EVP_PKEY_EC:
		if ((flags & EXFLAG_KUSAGE) && !(ku & KU_KEY_AGREEMENT)) {
			set_why(why, whylen, "keyUsage lacks keyAgreement");
			return 0;
		}
		break;
	default:
		set_why(why, whylen, "key type not usable for encryption");
		return 0;
	}
	if (flags & EXFLAG_XKUSAGE) {
		xku = X509_get_extended_key_usage(cert);
		if (!(xku & (XKU_SMIME | XKU_ANYEKU))) {
			set_why(why, whylen,
			    "extendedKeyUsage lacks emailProtection");
			return 0;
		}
	}
	if (!cert_names_addr(cert, rcpt_addr)) {
		set_why(why, whylen, "certificate does not name the recipient");
		return 0;
	}
	set_why(why, whylen, "ok");
	return 1;
}

X509 *
smime_load_cert_pem(const char *path, char **err_out)
{
	BIO *in;
	X509 *x;

	if ((in = BIO_new_file(path, "r")) == NULL) {
		*err_out = smime_fail("cannot open certificate file");
		return NULL;
	}
	x = PEM_read_bio_X509(in, NULL, NULL, NULL);
	BIO_free(in);
	if (x == NULL)
		*err_out = smime_fail("no PEM certificate");
	return x;
}

/* ---- header walking ----------------------------------------------- */

/*
 * One header field: [start, end) covers the field with its folded lines
 * and the final line break; name[0..namelen) is the field name (0 when
 * the line has no colon).
 */
struct hfield {
	size_t start, end;
	const char *name;
	size_t namelen;
};

static size_t
line_end(const char *m, size_t len, size_t pos)
{
	const char *nl = memchr(m + pos, '\n', len - pos);

	return nl == NULL ? len : (size_t)(nl - m) + 1;
}

/* is_blank_line - the line at pos is empty (CRLF, LF) */
static int
is_blank_line(const char *m, size_t len, size_t pos)
{
	if (pos < len && m[pos] == '\n')
		return 1;
	return pos + 1 < len && m[pos] == '\r' && m[pos + 1] == '\n';
}

/*
 * hdr_next - the field at *pos, advancing *pos. 0 at the end of the
 * header (then *pos is the start of the body, after the blank line).
 */
static int
hdr_next(const char *m, size_t len, size_t *pos, struct hfield *f)
{
	size_t p = *pos, e, i;

	if (p >= len)
		return 0;
	if (is_blank_line(m, len, p)) {
		*pos = line_end(m, len, p);
		return 0;
	}
	f->start = p;
	e = line_end(m, len, p);
	while (e < len && (m[e] == ' ' || m[e] == '\t'))
		e = line_end(m, len, e);
	f->end = e;
	f->name = m + p;
	f->namelen = 0;
	for (i = p; i < e && m[i] != ':' && m[i] != '\n'; i++)
		;
	if (i < e && m[i] == ':') {
		f->namelen = i - p;
		while (f->namelen > 0 && (f->name[f->namelen - 1] == ' ' ||
		    f->name[f->namelen - 1] == '\t'))
			f->namelen--;
	}
	*pos = e;
	return 1;
}

static int
name_is(const struct hfield *f, const char *n)
{
	size_t l = strlen(n);

	return f->namelen == l && strncasecmp(f->name, n, l) == 0;
}

/* is_content_field - goes inside the encrypted entity */
static int
is_content_field(const struct hfield *f)
{
	return name_is(f, "MIME-Version") || (f->namelen >= 8 &&
	    strncasecmp(f->name, "Content-", 8) == 0);
}

/* append_crlf - append p[0..n), turning bare LF into CRLF */
static int
append_crlf(struct buf *out, const char *p, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n' || (i > 0 && p[i - 1] == '\r'))
			continue;
		if (buf_append(out, p + run, i - run) == -1 ||
		    buf_append(out, "\r\n", 2) == -1)
			return -1;
		run = i + 1;
	}
	return buf_append(out, p + run, n - run);
}

/* append_field - a header field, ending in CRLF even if the input's
 * last line had no line break */
static int
append_field(struct buf *out, const char *m, const struct hfield *f)
{
	if (append_crlf(out, m + f->start, f->end - f->start) == -1)
		return -1;
	if (m[f->end - 1] != '\n')
		return buf_append(out, "\r\n", 2);
	return 0;
}

int
smime_inner_entity(const char *msg, size_t len, struct buf *out)
{
	struct hfield f;
	size_t pos = 0, mark = out->len;

	while (hdr_next(msg, len, &pos, &f)) {
		if (is_content_field(&f) && append_field(out, msg, &f) == -1)
			goto full;
	}
	if (buf_append(out, "\r\n", 2) == -1 ||
	    append_crlf(out, msg + pos, len - pos) == -1)
		goto full;
	return 0;
full:
	out->len = mark;
	if (out->data != NULL)
		out->data[mark] = '\0';
	return -1;
}

/* ---- already encrypted? ------------------------------------------- */

/* unfold - field value of f without the name, CR and LF dropped */
static void
unfold(const char *m, const struct hfield *f, struct buf *v)
{
	size_t i = f->start + f->namelen;

	while (i < f->end && m[i] != ':')
		i++;
	for (i++; i < f->end; i++) {
		if (m[i] == '\r' || m[i] == '\n')
			continue;
		if (buf_append_char(v, m[i]) == -1)
			break;
	}
}

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* token_eq - s[0..n) trimmed equals want, case-insensitive */
static int
token_eq(const char *s, size_t n, const char *want)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == strlen(want) && strncasecmp(s, want, n) == 0;
}

/*
 * param_is - the Content-Type parameters in p (after the media type)
 * hold name=value (value a token or quoted string; case-insensitive)
 */
static int
param_is(const char *p, const char *name, const char *value)
{
	const char *eq, *v, *ve;

	while ((p = strchr(p, ';')) != NULL) {
		p = skip_ws(p + 1);
		if ((eq = strchr(p, '=')) == NULL)
			return 0;
		v = skip_ws(eq + 1);
		if (*v == '"') {
			v++;
			ve = strchr(v, '"');
			if (ve == NULL)
				ve = v + strlen(v);
		} else {
			ve = v + strcspn(v, "; \t");
		}
		if (token_eq(p, (size_t)(eq - p), name) &&
		    token_eq(v, (size_t)(ve - v), value))
			return 1;
		p = ve;
	}
	return 0;
}

int
smime_already_encrypted(const char *msg, size_t len)
{
	struct hfield f;
	struct buf v;
	size_t pos = 0, tl;
	const char *s;
	int r = 0;

	f.namelen = 0;
	while (hdr_next(msg, len, &pos, &f)) {
		if (name_is(&f, "Content-Type"))
			break;
		f.namelen = 0;
	}
	if (!name_is(&f, "Content-Type"))
		return 0;
	buf_init(&v, SMIME_HDR_MAX);
	unfold(msg, &f, &v);
	s = skip_ws(buf_cstr(&v));
	tl = strcspn(s, ";");
	if (token_eq(s, tl, "multipart/encrypted"))
		r = 1;
	else if (token_eq(s, tl, "application/pkcs7-mime") ||
	    token_eq(s, tl, "application/x-pkcs7-mime"))
		r = param_is(s + tl, "smime-type", "enveloped-data") ||
		    param_is(s + tl, "smime-type", "authEnveloped-data");
	buf_free(&v);
	return r;
}

/* ---- encryption --------------------------------------------------- */

/* cms_der - CMS structure for entity, DER in *der (OPENSSL_free()) */
static int
cms_der(const struct buf *entity, X509 **certs, size_t ncerts,
    enum smime_cipher cipher, unsigned char **der, int *derlen,
    char **err_out)
{
	STACK_OF(X509) *sk = NULL;
	BIO *in = NULL;
	CMS_ContentInfo *cms = NULL;
	const EVP_CIPHER *ciph;
	int want, rc = -1;
	size_t i;

	ciph = cipher == SMIME_AES256_GCM ? EVP_aes_256_gcm() :
	    EVP_aes_256_cbc();
	want = cipher == SMIME_AES256_GCM ? NID_id_smime_ct_authEnvelopedData :
	    NID_pkcs7_enveloped;
	if ((sk = sk_X509_new_null()) == NULL) {
		*err_out = smime_fail("out of memory");
		goto out;
	}
	for (i = 0; i < ncerts; i++) {
		if (certs[i] == NULL || !sk_X509_push(sk, certs[i])) {
			*err_out = xstrdup("bad recipient certificate list");
			goto out;
		}
	}
	if (entity->len > INT_MAX ||
	    (in = BIO_new_mem_buf(buf_cstr(entity), (int)entity->len)) ==
	    NULL) {
		*err_out = smime_fail("cannot wrap message");
		goto out;
	}
	cms = CMS_encrypt(sk, in, ciph, CMS_BINARY);
	if (cms == NULL) {
		*err_out = smime_fail("CMS_encrypt failed");
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != want) {
		*err_out = xstrdup("CMS content type is not the one asked for");
		goto out;
	}
	*der = NULL;
	if ((*derlen = i2d_CMS_ContentInfo(cms, der)) <= 0) {
		*err_out = smime_fail("cannot encode CMS");
		goto out;
	}
	rc = 0;
out:
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	sk_X509_free(sk);	/* certificates stay the caller's */
	return rc;
}

/* append_b64_lines - base64 of der in lines of 76 characters, CRLF */
static int
append_b64_lines(struct buf *out, const unsigned char *der, size_t len)
{
	struct buf b;
	size_t i, n;
	int rc = -1;

	if (len > (SIZE_MAX - 16) / 2)
		return -1;
	buf_init(&b, len / 3 * 4 + 16);
	if (b64_encode(der, len, &b) == -1)
		goto out;
	for (i = 0; i < b.len; i += n) {
		n = b.len - i < SMIME_B64_LINE ? b.len - i : SMIME_B64_LINE;
		if (buf_append(out, b.data + i, n) == -1 ||
		    buf_append(out, "\r\n", 2) == -1)
			goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/*
 * encrypt_entity - the whole message: msg's non-content header fields,
 * the S/MIME header and entity encrypted to certs. out unchanged on
 * failure.
 */
static int
encrypt_entity(const char *msg, size_t len, const struct buf *entity,
    X509 **certs, size_t ncerts, enum smime_cipher cipher, struct buf *out,
    char **err_out)
{
	struct hfield f;
	unsigned char *der = NULL;
	int derlen = 0, rc = -1;
	size_t pos = 0, mark = out->len;

	if (cms_der(entity, certs, ncerts, cipher, &der, &derlen,
	    err_out) == -1)
		goto fail;

	while (hdr_next(msg, len, &pos, &f)) {
		if (!is_content_field(&f) && append_field(out, msg, &f) == -1)
			goto full;
	}
	if (buf_printf(out,
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: application/pkcs7-mime; smime-type=%s;\r\n"
	    "\tname=smime.p7m\r\n"
	    "Content-Disposition: attachment; filename=smime.p7m\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n",
	    cipher == SMIME_AES256_GCM ? "authEnveloped-data" :
	    "enveloped-data") == -1 ||
	    append_b64_lines(out, der, (size_t)derlen) == -1)
		goto full;
	rc = 0;
	goto done;
full:
	*err_out = xstrdup("encrypted message exceeds the output limit");
fail:
	out->len = mark;
	if (out->data != NULL)
		out->data[mark] = '\0';
done:
	OPENSSL_free(der);
	return rc;
}

/* encrypt_args_ok - the checks smime_encrypt() and
 * smime_sign_encrypt() share */
static int
encrypt_args_ok(const char *msg, size_t len, X509 **certs, size_t ncerts,
    enum smime_cipher cipher, char **err_out)
{
	if (msg == NULL || certs == NULL || ncerts == 0 ||
	    (cipher != SMIME_AES256_GCM && cipher != SMIME_AES256_CBC)) {
		*err_out = xstrdup("smime_encrypt: bad arguments");
		return 0;
	}
	if (len > SIZE_MAX / 2 - 1024) {
		*err_out = xstrdup("message too large");
		return 0;
	}
	return 1;
}

int
smime_encrypt(const char *msg, size_t len, X509 **certs, size_t ncerts,
    enum smime_cipher cipher, struct buf *out, char **err_out)
{
	struct buf entity;
	int rc = -1;

	*err_out = NULL;
	if (!encrypt_args_ok(msg, len, certs, ncerts, cipher, err_out))
		return -1;
	buf_init(&entity, len * 2 + 1024);	/* LF -> CRLF at most doubles */
	if (smime_inner_entity(msg, len, &entity) == -1)
		*err_out = xstrdup("out of memory building the MIME entity");
	else
		rc = encrypt_entity(msg, len, &entity, certs, ncerts, cipher,
		    out, err_out);
	buf_free_secure(&entity);
	return rc;
}

/* ---- certificates for the key store ------------------------------- */

/* cert_from_pem - the first PEM certificate in data */
static X509 *
cert_from_pem(const char *data, size_t len, char **err_out)
{
	BIO *in;
	X509 *x;

	in = BIO_new_mem_buf(data, (int)len);
	if (in == NULL) {
		*err_out = smime_fail("cannot wrap certificate data");
		return NULL;
	}
	x = PEM_read_bio_X509(in, NULL, no_passphrase, NULL);
	BIO_free(in);
	if (x == NULL)
		*err_out = smime_fail("no PEM certificate");
	return x;
}

X509 *
smime_cert_from_mem(const char *data, size_t len, char **err_out)
{
	static const char pem_begin[] = "-----BEGIN ";
	const unsigned char *p;
	int pem;
	X509 *x = NULL;

	if (data == NULL || len == 0) {
		*err_out = xstrdup("empty certificate data");
		return NULL;
	}
	if (len > SMIME_CERT_MAX) {
		*err_out = xstrdup("certificate data too large");
		return NULL;
	}
	ERR_clear_error();
	pem = memmem(data, len, pem_begin, sizeof(pem_begin) - 1) != NULL;
	/* DER first when it looks like a SEQUENCE: the DER may well hold
	 * the PEM marker inside a name */
	if ((unsigned char)data[0] == 0x30) {
		p = (const unsigned char *)data;
		x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL)
			return x;
		if (!pem) {
			*err_out = smime_fail("not a DER certificate");
			return NULL;
		}
		ERR_clear_error();
	}
	if (!pem) {
		*err_out = xstrdup("neither a PEM nor a DER certificate");
		return NULL;
	}
	return cert_from_pem(data, len, err_out);
}

/* email_norm - name[0..len) as a plausible address with the domain
 * lower-cased (new string), or NULL */
static char *
email_norm(const unsigned char *name, size_t len)
{
	size_t i, at = len;
	char *e;

	if (len < 3 || len > 254)
		return NULL;
	for (i = 0; i < len; i++) {
		if (name[i] <= ' ' || name[i] >= 0x7f)
			return NULL;
		if (name[i] == '@')
			at = i;
	}
	if (at == len || at == 0 || at == len - 1)
		return NULL;
	e = xstrndup((const char *)name, len);
	for (i = at + 1; i < len; i++)
		if (e[i] >= 'A' && e[i] <= 'Z')
			e[i] = (char)(e[i] - 'A' + 'a');
	return e;
}

/* info_add_email - add a name to i->emails unless unusable or present */
static void
info_add_email(struct smime_cert_info *i, const ASN1_STRING *s)
{
	char *e;
	size_t k;

	if (s == NULL || i->nemails >= SMIME_INFO_MAX_EMAILS ||
	    ASN1_STRING_length(s) <= 0)
		return;
	e = email_norm(ASN1_STRING_get0_data(s),
	    (size_t)ASN1_STRING_length(s));
	if (e == NULL)
		return;
	for (k = 0; k < i->nemails; k++) {
		if (strcmp(i->emails[k], e) == 0) {
			xfree(e);
			return;
		}
	}
	i->emails = xrealloc(i->emails, (i->nemails + 1) * sizeof(*i->emails));
	i->emails[i->nemails++] = e;
}

/* info_emails - the addresses cert names (same rule as cert_names_addr) */
static void
info_emails(X509 *cert, struct smime_cert_info *i)
{
	GENERAL_NAMES *gens;
	X509_NAME *subj;
	int crit = -1, k;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (gens != NULL || crit != -1) {
		for (k = 0; gens != NULL && k < sk_GENERAL_NAME_num(gens);
		    k++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, k);
			if (g->type == GEN_EMAIL)
				info_add_email(i, g->d.rfc822Name);
		}
		GENERAL_NAMES_free(gens);
		return;
	}
	subj = X509_get_subject_name(cert);
	k = -1;
	while ((k = X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress,
	    k)) >= 0)
		info_add_email(i, X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, k)));
}

/* asn1_time_unix - t as Unix time; -1 when unreadable */
static int
asn1_time_unix(const ASN1_TIME *t, long long *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (long long)timegm(&tm);
	return 0;
}

int
smime_cert_inspect(X509 *cert, struct smime_cert_info *out, char **err_out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, k;

	memset(out, 0, sizeof(*out));
	if (cert == NULL) {
		*err_out = xstrdup("no certificate");
		return -1;
	}
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) {
		*err_out = smime_fail("cannot hash certificate");
		return -1;
	}
	for (k = 0; k < mdlen; k++) {
		out->sha256[2 * k] = hex[md[k] >> 4];
		out->sha256[2 * k + 1] = hex[md[k] & 0x0f];
	}
	out->sha256[64] = '\0';
	if (asn1_time_unix(X509_get0_notBefore(cert), &out->not_before) != 0 ||
	    asn1_time_unix(X509_get0_notAfter(cert), &out->not_after) != 0) {
		*err_out = smime_fail("unreadable validity period");
		memset(out, 0, sizeof(*out));
		return -1;
	}
	info_emails(cert, out);
	return 0;
}

void
smime_cert_info_release(struct smime_cert_info *i)
{
	size_t k;

	if (i == NULL)
		return;
	for (k = 0; k < i->nemails; k++)
		xfree(i->emails[k]);
	xfree(i->emails);
	memset(i, 0, sizeof(*i));
}

int
smime_der(X509 *cert, struct buf *out)
{
	unsigned char *der = NULL;
	int n, rc;

	if (cert == NULL)
		return -1;
	n = i2d_X509(cert, &der);
	if (n <= 0)
		return -1;
	rc = buf_append(out, der, (size_t)n);
	OPENSSL_free(der);
	return rc;
}

/* ---- signing ------------------------------------------------------- */

/* cms_sign_der - detached SignedData over content, DER in *der */
static int
cms_sign_der(const struct buf *content, X509 *signer, EVP_PKEY *key,
    STACK_OF(X509) *chain, unsigned char **der, int *derlen,
    char **err_out)
{
	const unsigned int flags = CMS_DETACHED | CMS_BINARY;
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL;
	int rc = -1;

	if (content->len <= INT_MAX)
		in = BIO_new_mem_buf(buf_cstr(content), (int)content->len);
	if (in == NULL) {
		*err_out = smime_fail("cannot wrap message");
		goto out;
	}
	/* PARTIAL: add the signer ourselves, to choose SHA-256 */
	cms = CMS_sign(NULL, NULL, chain, NULL, flags | CMS_PARTIAL);
	if (cms == NULL) {
		*err_out = smime_fail("CMS_sign failed");
		goto out;
	}
	if (CMS_add1_signer(cms, signer, key, EVP_sha256(), 0) == NULL) {
		*err_out = smime_fail("cannot add the signer");
		goto out;
	}
	if (CMS_final(cms, in, NULL, flags) != 1) {
		*err_out = smime_fail("cannot sign");
		goto out;
	}
	*der = NULL;
	*derlen = i2d_CMS_ContentInfo(cms, der);
	if (*derlen <= 0) {
		*err_out = smime_fail("cannot encode CMS");
		goto out;
	}
	rc = 0;
out:
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return rc;
}

/* new_boundary - a random boundary whose delimiter is not in entity */
static int
new_boundary(const struct buf *entity, char *bnd, size_t bndlen)
{
	unsigned char rnd[12];
	char delim[80];
	size_t i, n;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -1;
		n = (size_t)snprintf(bnd, bndlen, "=_sealgate_sig_");
		for (i = 0; i < sizeof(rnd) && n + 3 <= bndlen; i++, n += 2)
			(void)snprintf(bnd + n, bndlen - n, "%02x", rnd[i]);
		(void)snprintf(delim, sizeof(delim), "--%s", bnd);
		if (memmem(buf_cstr(entity), entity->len, delim,
		    strlen(delim)) == NULL)
			return 0;
	}
	return -1;
}

/*
 * signed_entity - out = multipart/signed around entity: the first part
 * is entity byte for byte (the CRLF before a delimiter belongs to the
 * delimiter, RFC 2046 5.1.1), the second the signature.
 */
static int
signed_entity(const struct buf *entity, const unsigned char *sig,
    size_t siglen, struct buf *out, char **err_out)
{
	char bnd[64];

	if (new_boundary(entity, bnd, sizeof(bnd)) != 0) {
		*err_out = xstrdup("no MIME boundary for the signed entity");
		return -1;
	}
	if (buf_printf(out,
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/signed;\r\n"
	    "\tprotocol=\"application/pkcs7-signature\";\r\n"
	    "\tmicalg=sha-256; boundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a cryptographically signed message in MIME format.\r\n"
	    "\r\n"
	    "--%s\r\n", bnd, bnd) == -1 ||
	    buf_append(out, entity->data, entity->len) == -1 ||
	    buf_printf(out,
	    "\r\n--%s\r\n"
	    "Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=smime.p7s\r\n"
	    "Content-Description: S/MIME Cryptographic Signature\r\n"
	    "\r\n", bnd) == -1 ||
	    append_b64_lines(out, sig, siglen) == -1 ||
	    buf_printf(out, "\r\n--%s--\r\n", bnd) == -1) {
		*err_out = xstrdup("signed entity exceeds the size limit");
		return -1;
	}
	return 0;
}

int
smime_sign_encrypt(const char *msg, size_t len, X509 **certs,
    size_t ncerts, enum smime_cipher cipher, X509 *signer,
    EVP_PKEY *signer_key, STACK_OF(X509) *chain, struct buf *out,
    char **err_out)
{
	struct buf entity, signd;
	unsigned char *sig = NULL;
	int siglen = 0, rc = -1;

	if (signer == NULL)
		return smime_encrypt(msg, len, certs, ncerts, cipher, out,
		    err_out);
	*err_out = NULL;
	if (!encrypt_args_ok(msg, len, certs, ncerts, cipher, err_out))
		return -1;
	if (signer_key == NULL) {
		*err_out = xstrdup("smime_sign_encrypt: no signing key");
		return -1;
	}
	ERR_clear_error();
	if (X509_check_private_key(signer, signer_key) != 1) {
		*err_out = smime_fail("signing key does not match the "
		    "signing certificate");
		return -1;
	}
	if (len > (SIZE_MAX - SMIME_SIG_ROOM) / 2 - 1024) {
		*err_out = xstrdup("message too large");
		return -1;
	}
	buf_init(&entity, len * 2 + 1024);
	buf_init(&signd, len * 2 + 1024 + SMIME_SIG_ROOM);
	if (smime_inner_entity(msg, len, &entity) == -1) {
		*err_out = xstrdup("out of memory building the MIME entity");
		goto done;
	}
	if (cms_sign_der(&entity, signer, signer_key, chain, &sig, &siglen,
	    err_out) == -1 ||
	    signed_entity(&entity, sig, (size_t)siglen, &signd, err_out) == -1)
		goto done;
	rc = encrypt_entity(msg, len, &signd, certs, ncerts, cipher, out,
	    err_out);
done:
	OPENSSL_free(sig);
	buf_free_secure(&entity);
	buf_free_secure(&signd);
	return rc;
}

/* read_chain - the certificates after the leaf, until the end */
static int
read_chain(BIO *in, STACK_OF(X509) *chain, char **err_out)
{
	unsigned long e;
	X509 *x;

	for (;;) {
		x = PEM_read_bio_X509(in, NULL, no_passphrase, NULL);
		if (x == NULL)
			break;
		if (sk_X509_num(chain) >= SMIME_CHAIN_MAX ||
		    !sk_X509_push(chain, x)) {
			X509_free(x);
			*err_out = xstrdup("too many certificates in the "
			    "signing certificate file");
			return -1;
		}
	}
	/* the normal end: no further PEM block */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return 0;
	}
	*err_out = smime_fail("bad certificate in the chain");
	return -1;
}

/* load_key - the first private key in path, never asking a passphrase */
static EVP_PKEY *
load_key(const char *path, char **err_out)
{
	EVP_PKEY *k;
	BIO *in;

	in = BIO_new_file(path, "r");
	if (in == NULL) {
		*err_out = smime_fail("cannot open signing key file");
		return NULL;
	}
	k = PEM_read_bio_PrivateKey(in, NULL, no_passphrase, NULL);
	BIO_free(in);
	if (k == NULL)
		*err_out = smime_fail("no unencrypted PEM private key in the "
		    "signing key file");
	return k;
}

int
smime_load_signer(const char *cert_file, const char *key_file,
    X509 **cert_out, EVP_PKEY **key_out, STACK_OF(X509) **chain_out,
    char **err_out)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	BIO *in = NULL;

	*cert_out = NULL;
	*key_out = NULL;
	if (chain_out != NULL)
		*chain_out = NULL;
	ERR_clear_error();
	if (cert_file == NULL || key_file == NULL) {
		*err_out = xstrdup("no signing certificate or key file");
		return -1;
	}
	in = BIO_new_file(cert_file, "r");
	if (in == NULL) {
		*err_out = smime_fail("cannot open signing certificate file");
		goto fail;
	}
	leaf = PEM_read_bio_X509(in, NULL, no_passphrase, NULL);
	if (leaf == NULL) {
		*err_out = smime_fail("no PEM certificate in the signing "
		    "certificate file");
		goto fail;
	}
	chain = sk_X509_new_null();
	if (chain == NULL) {
		*err_out = smime_fail("out of memory");
		goto fail;
	}
	if (read_chain(in, chain, err_out) == -1)
		goto fail;
	key = load_key(key_file, err_out);
	if (key == NULL)
		goto fail;
	if (X509_check_private_key(leaf, key) != 1) {
		*err_out = smime_fail("signing key does not match the "
		    "signing certificate");
		goto fail;
	}
	BIO_free(in);
	*cert_out = leaf;
	*key_out = key;
	if (chain_out != NULL)
		*chain_out = chain;
	else
		sk_X509_pop_free(chain, X509_free);
	return 0;
fail:
	BIO_free(in);
	X509_free(leaf);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return -1;
}
