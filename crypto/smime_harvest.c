/*
 * smime_harvest.c - signer certificates from S/MIME-signed mail.
 *
 * Implements: RFC 8551 3.5 (multipart/signed and opaque signed-data),
 * RFC 1847 2.1 and RFC 2046 5.1.1 (boundaries, delimiter lines), RFC
 * 2045 5.1 and 6.1 (Content-Type and Content-Transfer-Encoding syntax),
 * RFC 8551 2.5.2 (SMIMECapabilities), RFC 5652 11.3 (signingTime).
 * Trust: the whole message comes from the network. Every offset is
 * found by scanning the bytes we were given, never taken from a length
 * in the input; only the top-level header and, for multipart/signed,
 * the two body parts are looked at (no recursion). No logging; the
 * only I/O is reading the caller's CA file.
 * Ownership: *out owns its DER and address strings (xfree).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "lib/b64.h"
#include "lib/buf.h"
#include "lib/xalloc.h"
#include "smime.h"
#include "smime_harvest.h"

#define CT_VALUE_MAX	128	/* media type and parameter values kept */
#define CT_COMMENT_DEPTH 16	/* nested (comments) in a field */

static void
set_why(char *why, size_t whylen, const char *s)
{
	if (why != NULL && whylen > 0)
		(void)snprintf(why, whylen, "%s", s);
}

/* ---- header sections ---------------------------------------------- */

/* line_end - offset just past the LF ending the line at pos, or len */
static size_t
line_end(const char *m, size_t len, size_t pos)
{
	const char *nl = memchr(m + pos, '\n', len - pos);

	return nl == NULL ? len : (size_t)(nl - m) + 1;
}

static int
is_blank_line(const char *m, size_t len, size_t pos)
{
	if (pos < len && m[pos] == '\n')
		return 1;
	return len - pos >= 2 && m[pos] == '\r' && m[pos + 1] == '\n';
}

/*
 * hdr_split - the header section of m[0..len) is m[0..*hlen); the body
 * starts at *body (len when there is no blank line). -1 when the header
 * section is longer than SMIME_HARVEST_HDR_MAX.
 */
static int
hdr_split(const char *m, size_t len, size_t *hlen, size_t *body)
{
	size_t pos = 0;

	while (pos < len) {
		if (pos > SMIME_HARVEST_HDR_MAX)
			return -1;
		if (is_blank_line(m, len, pos)) {
			*hlen = pos;
			*body = line_end(m, len, pos);
			return 0;
		}
		pos = line_end(m, len, pos);
	}
	if (len > SMIME_HARVEST_HDR_MAX)
		return -1;
	*hlen = len;
	*body = len;
	return 0;
}

/* One field of a header section: m[start..end) with its folded lines;
 * the name is m[start..start+namelen), the value m[vstart..end). */
struct hfield {
	size_t start, end, vstart, namelen;
};

/* hdr_next - the field at *pos of the section m[0..hlen); 0 at its end */
static int
hdr_next(const char *m, size_t hlen, size_t *pos, struct hfield *f)
{
	size_t p = *pos, e, i;

	if (p >= hlen)
		return 0;
	e = line_end(m, hlen, p);
	while (e < hlen && (m[e] == ' ' || m[e] == '\t'))
		e = line_end(m, hlen, e);
	f->start = p;
	f->end = e;
	f->vstart = e;
	f->namelen = 0;
	for (i = p; i < e && m[i] != ':' && m[i] != '\n'; i++)
		;
	if (i < e && m[i] == ':') {
		f->namelen = i - p;
		while (f->namelen > 0 && (m[p + f->namelen - 1] == ' ' ||
		    m[p + f->namelen - 1] == '\t'))
			f->namelen--;
		f->vstart = i + 1;
	}
	*pos = e;
	return 1;
}

static int
field_is(const char *m, const struct hfield *f, const char *name)
{
	size_t l = strlen(name);

	return f->namelen == l && strncasecmp(m + f->start, name, l) == 0;
}

/* unfold - the value of f without CR and LF into v: 0, -1 when it is
 * longer than SMIME_HARVEST_FIELD_MAX or holds a NUL, -2 out of memory */
static int
unfold(const char *m, const struct hfield *f, struct buf *v)
{
	size_t i, run = f->vstart, n = 0;

	for (i = f->vstart; i < f->end; i++) {
		if (m[i] == '\0')
			return -1;
		if (m[i] != '\r' && m[i] != '\n')
			n++;
	}
	if (n > SMIME_HARVEST_FIELD_MAX)
		return -1;
	for (i = f->vstart; i < f->end; i++) {
		if (m[i] != '\r' && m[i] != '\n')
			continue;
		if (buf_append(v, m + run, i - run) == -1)
			return -2;
		run = i + 1;
	}
	return buf_append(v, m + run, f->end - run) == -1 ? -2 : 0;
}

/* ---- Content-Type (RFC 2045 5.1) ---------------------------------- */

struct ct_param {
	char v[CT_VALUE_MAX + 1];	/* unquoted value, NUL-terminated */
	size_t len;
	int seen;
	int toolong;			/* value longer than CT_VALUE_MAX */
};

struct ctype {
	char type[CT_VALUE_MAX + 1];	/* "type/subtype", lower case */
	struct ct_param boundary, protocol, smime_type;
};

enum ct_kind {
	CT_OTHER,
	CT_SIGNED,		/* multipart/signed */
	CT_PKCS7_MIME,		/* application/(x-)pkcs7-mime */
	CT_PKCS7_SIG		/* application/(x-)pkcs7-signature */
};

static int
is_tchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f &&
	    strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* skip_cfws - blanks and (nested, quoted) comments; -1 if one is open */
static int
skip_cfws(const char *s, size_t n, size_t *i)
{
	size_t depth = 0;

	while (*i < n) {
		char c = s[*i];

		if (c == '(') {
			if (++depth > CT_COMMENT_DEPTH)
				return -1;
		} else if (depth > 0 && c == ')') {
			depth--;
		} else if (depth > 0 && c == '\\') {
			if (*i + 1 >= n)
				return -1;
			(*i)++;
		} else if (depth == 0 && c != ' ' && c != '\t') {
			break;
		}
		(*i)++;
	}
	return depth == 0 ? 0 : -1;
}

static size_t
take_token(const char *s, size_t n, size_t *i)
{
	size_t st = *i;

	while (*i < n && is_tchar((unsigned char)s[*i]))
		(*i)++;
	return *i - st;
}

static void
param_put(struct ct_param *p, char c)
{
	if (p->len >= CT_VALUE_MAX) {
		p->toolong = 1;
		return;
	}
	p->v[p->len++] = c;
	p->v[p->len] = '\0';
}

/* take_value - a token or quoted-string into p, unquoted; -1 malformed */
static int
take_value(const char *s, size_t n, size_t *i, struct ct_param *p)
{
	size_t st, tl, k;

	p->len = 0;
	p->v[0] = '\0';
	p->toolong = 0;
	if (*i < n && s[*i] == '"') {
		for ((*i)++; *i < n && s[*i] != '"'; (*i)++) {
			if (s[*i] == '\\') {
				if (*i + 1 >= n)
					return -1;
				(*i)++;
			}
			param_put(p, s[*i]);
		}
		if (*i >= n)
			return -1;	/* unterminated quoted-string */
		(*i)++;
		return 0;
	}
	st = *i;
	tl = take_token(s, n, i);
	if (tl == 0)
		return -1;
	for (k = 0; k < tl; k++)
		param_put(p, s[st + k]);
	return 0;
}

static void
append_lower(char *dst, size_t cap, size_t *dl, const char *src, size_t n,
    int *toolong)
{
	size_t k;

	for (k = 0; k < n; k++) {
		unsigned char c = (unsigned char)src[k];

		if (*dl + 1 >= cap) {
			*toolong = 1;
			return;
		}
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		dst[(*dl)++] = (char)c;
		dst[*dl] = '\0';
	}
}

/*
 * ct_parse - Content-Type value s[0..n) into ct. -1 when malformed: a
 * bad media type leaves ct->type empty; bad or repeated parameters
 * after a good type leave ct->type set, so the caller can tell whether
 * the broken field claimed to be S/MIME. A repeated boundary, protocol
 * or smime-type is refused: two readers could pick different ones.
 */
static int
ct_parse(const char *s, size_t n, struct ctype *ct)
{
	struct ct_param scratch, *dst;
	size_t i = 0, st, tl, dl = 0;
	int toolong = 0;

	memset(ct, 0, sizeof(*ct));
	if (skip_cfws(s, n, &i) == -1)
		return -1;
	st = i;
	if ((tl = take_token(s, n, &i)) == 0)
		return -1;
	append_lower(ct->type, sizeof(ct->type), &dl, s + st, tl, &toolong);
	if (skip_cfws(s, n, &i) == -1 || i >= n || s[i] != '/')
		goto bad_type;
	i++;
	if (skip_cfws(s, n, &i) == -1)
		goto bad_type;
	st = i;
	if ((tl = take_token(s, n, &i)) == 0)
		goto bad_type;
	append_lower(ct->type, sizeof(ct->type), &dl, "/", 1, &toolong);
	append_lower(ct->type, sizeof(ct->type), &dl, s + st, tl, &toolong);
	if (toolong)
		goto bad_type;
	for (;;) {
		if (skip_cfws(s, n, &i) == -1)
			return -1;
		if (i >= n)
			return 0;
		if (s[i] != ';')
			return -1;
		i++;
		if (skip_cfws(s, n, &i) == -1)
			return -1;
		if (i >= n)
			return 0;
		if (s[i] == ';')
			continue;
		st = i;
		if ((tl = take_token(s, n, &i)) == 0)
			return -1;
		if (tl == 8 && strncasecmp(s + st, "boundary", 8) == 0)
			dst = &ct->boundary;
		else if (tl == 8 && strncasecmp(s + st, "protocol", 8) == 0)
			dst = &ct->protocol;
		else if (tl == 10 && strncasecmp(s + st, "smime-type", 10) == 0)
			dst = &ct->smime_type;
		else
			dst = &scratch;
		if (dst != &scratch && dst->seen)
			return -1;
		if (skip_cfws(s, n, &i) == -1 || i >= n || s[i] != '=')
			return -1;
		i++;
		if (skip_cfws(s, n, &i) == -1 ||
		    take_value(s, n, &i, dst) == -1)
			return -1;
		dst->seen = 1;
	}
bad_type:
	ct->type[0] = '\0';
	return -1;
}

static enum ct_kind
ct_kind(const struct ctype *ct)
{
	if (strcmp(ct->type, "multipart/signed") == 0)
		return CT_SIGNED;
	if (strcmp(ct->type, "application/pkcs7-mime") == 0 ||
	    strcmp(ct->type, "application/x-pkcs7-mime") == 0)
		return CT_PKCS7_MIME;
	if (strcmp(ct->type, "application/pkcs7-signature") == 0 ||
	    strcmp(ct->type, "application/x-pkcs7-signature") == 0)
		return CT_PKCS7_SIG;
	return CT_OTHER;
}

static int
param_eq(const struct ct_param *p, const char *want)
{
	return p->seen && !p->toolong && strcasecmp(p->v, want) == 0;
}

/* What a header section says about its content. */
struct part_hdr {
	struct ctype ct;	/* the first Content-Type */
	int nct;		/* Content-Type fields */
	int ct_bad;		/* the first one did not parse */
	int smime_shaped;	/* some Content-Type is not CT_OTHER */
	int ncte;		/* Content-Transfer-Encoding fields */
	int base64;		/* the first one says base64 */
};

/* cte_is_base64 - the unfolded value is the token base64 (CFWS aside) */
static int
cte_is_base64(const char *s, size_t n)
{
	size_t i = 0, st, tl;

	if (skip_cfws(s, n, &i) == -1)
		return 0;
	st = i;
	tl = take_token(s, n, &i);
	if (skip_cfws(s, n, &i) == -1 || i != n)
		return 0;
	return tl == 6 && strncasecmp(s + st, "base64", 6) == 0;
}

/* section_scan - the Content-Type and -Transfer-Encoding fields of the
 * header section m[0..hlen); -1 only when out of memory */
static int
section_scan(const char *m, size_t hlen, struct part_hdr *ph)
{
	struct hfield f;
	struct ctype ct;
	struct buf v;
	size_t pos = 0;
	int ok, is_ct, rc = 0;

	memset(ph, 0, sizeof(*ph));
	buf_init(&v, SMIME_HARVEST_FIELD_MAX + 1);
	while (hdr_next(m, hlen, &pos, &f)) {
		is_ct = field_is(m, &f, "Content-Type");
		if (!is_ct && !field_is(m, &f, "Content-Transfer-Encoding"))
			continue;
		buf_reset(&v);
		if ((ok = unfold(m, &f, &v)) == -2) {
			rc = -1;
			break;
		}
		ok = ok == 0;
		if (!is_ct) {
			if (ph->ncte++ == 0)
				ph->base64 = ok && cte_is_base64(v.data,
				    v.len);
			continue;
		}
		if (ok)
			ok = ct_parse(v.data == NULL ? "" : v.data, v.len,
			    &ct) == 0;
		else
			memset(&ct, 0, sizeof(ct));
		if (ct_kind(&ct) != CT_OTHER)
			ph->smime_shaped = 1;
		if (ph->nct++ == 0) {
			ph->ct = ct;
			ph->ct_bad = !ok;
		}
	}
	buf_free(&v);
	return rc;
}

/* ---- multipart/signed body (RFC 2046 5.1.1, RFC 1847 2.1) --------- */

/* boundary_ok - 1..70 bchars, not ending in a space */
static int
boundary_ok(const struct ct_param *b)
{
	size_t i;

	if (!b->seen || b->toolong || b->len == 0 ||
	    b->len > SMIME_HARVEST_BOUNDARY_MAX || b->v[b->len - 1] == ' ')
		return 0;
	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->v[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || strchr("'()+_,-./:=? ", c) !=
		    NULL) || c == '\0')
			return 0;
	}
	return 1;
}

/*
 * delim_at - m[p..len) begins with "--" boundary and then "--" (2: close
 * delimiter, *next past the dashes), or transport padding and CRLF (1:
 * *next past the CRLF); otherwise 0.
 */
static int
delim_at(const char *m, size_t len, size_t p, const char *b, size_t bl,
    size_t *next)
{
	size_t i;

	if (p > len || len - p < 2 + bl || m[p] != '-' || m[p + 1] != '-' ||
	    memcmp(m + p + 2, b, bl) != 0)
		return 0;
	i = p + 2 + bl;
	if (len - i >= 2 && m[i] == '-' && m[i + 1] == '-') {
		*next = i + 2;
		return 2;
	}
	while (i < len && (m[i] == ' ' || m[i] == '\t'))
		i++;
	if (len - i >= 2 && m[i] == '\r' && m[i + 1] == '\n') {
		*next = i + 2;
		return 1;
	}
	return 0;
}

/* delim_find - the first CRLF at or after from that starts a delimiter
 * (*at is the CR); what delim_at() says about it, 0 when none */
static int
delim_find(const char *m, size_t len, size_t from, const char *b,
    size_t bl, size_t *at, size_t *next)
{
	size_t i = from;
	const char *cr;
	int k;

	while (i < len) {
		if ((cr = memchr(m + i, '\r', len - i)) == NULL)
			return 0;
		i = (size_t)(cr - m);
		if (len - i >= 2 && m[i + 1] == '\n' &&
		    (k = delim_at(m, len, i + 2, b, bl, next)) != 0) {
			*at = i;
			return k;
		}
		i++;
	}
	return 0;
}

/* A byte range m[off..off+len). */
struct range {
	size_t off, len;
};

/*
 * signed_parts - the two body parts of multipart/signed starting at
 * body: *content is the first part as signed (RFC 1847: up to, not
 * including, the CRLF of the next delimiter), *sig the second.
 * 1 found, -1 malformed (why).
 */
static int
signed_parts(const char *m, size_t len, size_t body, const struct ct_param *b,
    struct range *content, struct range *sig, char *why, size_t whylen)
{
	size_t at = 0, next = 0, p1, p2;
	int k;

	k = delim_at(m, len, body, b->v, b->len, &next);
	if (k == 0)
		k = delim_find(m, len, body, b->v, b->len, &at, &next);
	if (k != 1) {
		set_why(why, whylen, k == 0 ? "no boundary delimiter line" :
		    "multipart/signed has no body parts");
		return -1;
	}
	/* search from the delimiter line's own CRLF: an empty part */
	p1 = next;
	k = delim_find(m, len, p1 - 2, b->v, b->len, &at, &next);
	if (k != 1 || at == p1 - 2) {
		set_why(why, whylen, k == 0 ? "multipart/signed is truncated" :
		    k == 2 ? "multipart/signed has only one part" :
		    "signed part is empty");
		return -1;
	}
	content->off = p1;
	content->len = at - p1;
	p2 = next;
	k = delim_find(m, len, p2 - 2, b->v, b->len, &at, &next);
	if (k != 2 || at == p2 - 2) {
		set_why(why, whylen, k == 0 ?
		    "multipart/signed has no closing delimiter" :
		    k == 1 ? "multipart/signed has more than two parts" :
		    "signature part is empty");
		return -1;
	}
	sig->off = p2;
	sig->len = at - p2;
	return 1;
}

/* ---- CMS ---------------------------------------------------------- */

/*
 * cms_from_b64 - base64 text m[r] (line breaks and blanks allowed
 * between characters) to a CMS structure. -1 with why when it is not
 * base64 or not exactly one DER/BER ContentInfo.
 */
static int
cms_from_b64(const char *m, struct range r, CMS_ContentInfo **cms,
    char *why, size_t whylen)
{
	struct buf txt, der;
	const unsigned char *p;
	size_t i, run;
	int rc = -1;

	*cms = NULL;
	buf_init(&txt, r.len);
	buf_init(&der, r.len / 4 * 3);
	for (i = run = r.off; i <= r.off + r.len; i++) {
		char c = i < r.off + r.len ? m[i] : ' ';

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			continue;
		if (buf_append(&txt, m + run, i - run) == -1) {
			set_why(why, whylen, "out of memory");
			goto out;
		}
		run = i + 1;
	}
	if (txt.len == 0) {
		set_why(why, whylen, "empty signature");
		goto out;
	}
	if (b64_decode(txt.data, txt.len, &der) == -1 || der.len == 0) {
		set_why(why, whylen, "signature is not valid base64");
		goto out;
	}
	if (der.len > LONG_MAX) {
		set_why(why, whylen, "signature too large");
		goto out;
	}
	p = (const unsigned char *)der.data;
	*cms = d2i_CMS_ContentInfo(NULL, &p, (long)der.len);
	if (*cms == NULL) {
		set_why(why, whylen, "signature is not a CMS structure");
		goto out;
	}
	if (p != (const unsigned char *)der.data + der.len) {
		CMS_ContentInfo_free(*cms);
		*cms = NULL;
		set_why(why, whylen, "bytes after the CMS structure");
		goto out;
	}
	rc = 0;
out:
	buf_free(&txt);
	buf_free(&der);
	return rc;
}

/* addr_match - addr (NUL-terminated) and n[0..nl): local part exact,
 * domain ASCII case-insensitive */
static int
addr_match(const char *addr, const char *n, size_t nl)
{
	const char *at_a = strrchr(addr, '@');
	const char *at_n = NULL;
	size_t i, local;

	if (at_a == NULL || strlen(addr) != nl)
		return 0;
	for (i = nl; i > 0; i--) {
		if (n[i - 1] == '@') {
			at_n = n + i - 1;
			break;
		}
	}
	local = (size_t)(at_a - addr);
	if (at_n == NULL || (size_t)(at_n - n) != local ||
	    memcmp(addr, n, local) != 0)
		return 0;
	return strncasecmp(at_a + 1, at_n + 1, nl - local - 1) == 0;
}

/*
 * take_name - one address from the certificate: checked (printable
 * ASCII, a local part and a domain), matched against from, kept in h
 * (domain lower-cased) unless a duplicate or h is full.
 */
static void
take_name(struct smime_harvest *h, const unsigned char *n, int nlen,
    const char *from, int *named)
{
	const char *s = (const char *)n;
	size_t nl, i, at = 0;
	char *a;

	if (n == NULL || nlen <= 0 || nlen > SMIME_HARVEST_ADDR_MAX)
		return;
	nl = (size_t)nlen;
	for (i = 0; i < nl; i++) {
		if (n[i] <= 0x20 || n[i] >= 0x7f)
			return;
		if (n[i] == '@')
			at = i;
	}
	if (at == 0 || at + 1 >= nl)
		return;
	if (addr_match(from, s, nl))
		*named = 1;
	if (h->nemails >= SMIME_HARVEST_EMAILS_MAX)
		return;
	a = xstrndup(s, nl);
	for (i = at + 1; i < nl; i++) {
		if (a[i] >= 'A' && a[i] <= 'Z')
			a[i] = (char)(a[i] - 'A' + 'a');
	}
	for (i = 0; i < h->nemails; i++) {
		if (strcmp(h->emails[i], a) == 0) {
			xfree(a);
			return;
		}
	}
	if (h->emails == NULL)
		h->emails = xcalloc(SMIME_HARVEST_EMAILS_MAX, sizeof(char *));
	h->emails[h->nemails++] = a;
}

/* cert_names - fill h->emails; 1 when one of the names is from */
static int
cert_names(X509 *cert, const char *from, struct smime_harvest *h)
{
	GENERAL_NAMES *gens;
	X509_NAME *subj;
	int crit = -1, i, named = 0;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (gens != NULL || crit != -1) {
		/* a SAN extension exists (even unparsable): only it counts,
		 * as in smime_cert_usable() */
		for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens);
		    i++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

			if (g->type == GEN_EMAIL)
				take_name(h, ASN1_STRING_get0_data(
				    g->d.rfc822Name), ASN1_STRING_length(
				    g->d.rfc822Name), from, &named);
		}
		GENERAL_NAMES_free(gens);
		return named;
	}
	subj = X509_get_subject_name(cert);
	i = -1;
	while ((i = X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress,
	    i)) >= 0) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, i));

		take_name(h, ASN1_STRING_get0_data(s), ASN1_STRING_length(s),
		    from, &named);
	}
	return named;
}

/* caps_prefer_gcm - the signed SMIMECapabilities list id-aes256-GCM
 * before or without id-aes256-CBC (absent or unreadable: 0) */
static int
caps_prefer_gcm(CMS_SignerInfo *si)
{
	STACK_OF(X509_ALGOR) *algs;
	const ASN1_STRING *seq;
	const ASN1_OBJECT *obj;
	const unsigned char *p;
	int i, gcm = -1, cbc = -1, nid;

	/* -3: exactly one attribute with exactly one value */
	seq = CMS_signed_get0_data_by_OBJ(si,
	    OBJ_nid2obj(NID_SMIMECapabilities), -3, V_ASN1_SEQUENCE);
	if (seq == NULL)
		return 0;
	p = ASN1_STRING_get0_data(seq);
	algs = d2i_X509_ALGORS(NULL, &p, ASN1_STRING_length(seq));
	if (algs == NULL)
		return 0;
	for (i = 0; i < sk_X509_ALGOR_num(algs); i++) {
		X509_ALGOR_get0(&obj, NULL, NULL, sk_X509_ALGOR_value(algs, i));
		nid = OBJ_obj2nid(obj);
		if (nid == NID_aes_256_gcm && gcm < 0)
			gcm = i;
		else if (nid == NID_aes_256_cbc && cbc < 0)
			cbc = i;
	}
	sk_X509_ALGOR_pop_free(algs, X509_ALGOR_free);
	return gcm >= 0 && (cbc < 0 || gcm < cbc);
}

/* signing_time - the signed signingTime as seconds since the epoch,
 * 0 when absent or unreadable */
static long long
signing_time(CMS_SignerInfo *si)
{
	const ASN1_OBJECT *obj = OBJ_nid2obj(NID_pkcs9_signingTime);
	const ASN1_TIME *t;
	ASN1_TIME *epoch;
	int day = 0, sec = 0, ok;

	t = CMS_signed_get0_data_by_OBJ(si, obj, -3, V_ASN1_UTCTIME);
	if (t == NULL)
		t = CMS_signed_get0_data_by_OBJ(si, obj, -3,
		    V_ASN1_GENERALIZEDTIME);
	if (t == NULL || (epoch = ASN1_TIME_set(NULL, 0)) == NULL)
		return 0;
	ok = ASN1_TIME_diff(&day, &sec, epoch, t);
	ASN1_TIME_free(epoch);
	return ok ? (long long)day * 86400 + sec : 0;
}

/* chain_verify - signer chains to ca_file at now for S/MIME signing;
 * the message's other certificates may serve as intermediates */
static int
chain_verify(CMS_ContentInfo *cms, X509 *signer, const char *ca_file,
    time_t now, char *why, size_t whylen)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	char m[200];
	int rc = -1;

	if ((st = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL) {
		set_why(why, whylen, "out of memory");
		goto out;
	}
	if (X509_STORE_load_file(st, ca_file) != 1) {
		set_why(why, whylen, "cannot load the CA file");
		goto out;
	}
	untrusted = CMS_get1_certs(cms);
	if (X509_STORE_CTX_init(ctx, st, signer, untrusted) != 1 ||
	    X509_STORE_CTX_set_default(ctx, "smime_sign") != 1) {
		set_why(why, whylen, "cannot set up chain verification");
		goto out;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), now);
	if (X509_verify_cert(ctx) != 1) {
		(void)snprintf(m, sizeof(m),
		    "certificate chain does not verify: %s",
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		set_why(why, whylen, m);
		rc = 0;
		goto out;
	}
	rc = 1;
out:
	sk_X509_pop_free(untrusted, X509_free);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rc;
}

/*
 * harvest_cms - check the SignedData cms (detached: signed by it are
 * content[0..clen)) and fill h. Returns as smime_harvest().
 */
static int
harvest_cms(CMS_ContentInfo *cms, const char *content, size_t clen,
    int detached, const char *from, time_t now, const char *ca_file,
    struct smime_harvest *h, char *why, size_t whylen)
{
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	X509 *signer = NULL;
	BIO *dc = NULL, *mem = NULL;
	unsigned char *p;
	int d, n, r, rc = -1;

	d = CMS_is_detached(cms);
	if (d < 0 || detached != (d == 1)) {
		set_why(why, whylen, d < 0 ? "unreadable SignedData" :
		    detached ? "detached signature carries content" :
		    "opaque SignedData without content");
		goto out;
	}
	sis = CMS_get0_SignerInfos(cms);
	n = sis == NULL ? 0 : sk_CMS_SignerInfo_num(sis);
	if (n <= 0) {
		set_why(why, whylen, "SignedData without a signer");
		goto out;
	}
	if (n > 1) {
		set_why(why, whylen, "more than one signer");
		rc = 0;
		goto out;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	if (CMS_set1_signers_certs(cms, NULL, 0) < 0) {
		set_why(why, whylen, "unreadable SignedData certificates");
		goto out;
	}
	CMS_SignerInfo_get0_algs(si, NULL, &signer, NULL, NULL);
	if (signer == NULL) {
		set_why(why, whylen, "signer certificate not in the message");
		rc = 0;
		goto out;
	}
	/*
	 * The detached content goes in behind a pass-through filter: given
	 * a memory BIO, CMS_verify() with CMS_BINARY copies it into a BIO of
	 * its own that it leaks when CMS_dataInit() fails (an empty
	 * digestAlgorithms SET does it; openssl/openssl PR 30471, fixed
	 * after 3.0.19). With any other BIO type it reads ours directly.
	 */
	if (detached) {
		if ((mem = BIO_new_mem_buf(content, (int)clen)) == NULL ||
		    (dc = BIO_new(BIO_f_null())) == NULL) {
			set_why(why, whylen, "out of memory");
			goto out;
		}
		dc = BIO_push(dc, mem);
		mem = NULL;
	}
	/* the chain, if asked for, is checked below at `now' with our own
	 * store, so that its failure has its own reason */
	if (CMS_verify(cms, NULL, NULL, dc, NULL,
	    CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		set_why(why, whylen, "signature does not verify");
		rc = 0;
		goto out;
	}
	if (ca_file != NULL &&
	    (r = chain_verify(cms, signer, ca_file, now, why, whylen)) != 1) {
		rc = r;
		goto out;
	}
	if (!cert_names(signer, from, h)) {
		set_why(why, whylen, "certificate does not name the sender");
		rc = 0;
		goto out;
	}
	if (!smime_cert_usable(signer, from, now, why, whylen)) {
		rc = 0;
		goto out;
	}
	if ((n = i2d_X509(signer, NULL)) <= 0) {
		set_why(why, whylen, "cannot encode the certificate");
		goto out;
	}
	h->der = xmalloc((size_t)n);
	p = h->der;
	if (i2d_X509(signer, &p) != n) {
		set_why(why, whylen, "cannot encode the certificate");
		goto out;
	}
	h->der_len = (size_t)n;
	h->prefers_gcm = caps_prefer_gcm(si);
	h->signed_at = signing_time(si);
	set_why(why, whylen, "ok");
	rc = 1;
out:
	BIO_free_all(dc);
	BIO_free(mem);
	return rc;
}

/* ---- the two forms ------------------------------------------------ */

/* from_signed - multipart/signed at body with Content-Type ct */
static int
from_signed(const char *m, size_t len, size_t body, const struct ctype *ct,
    CMS_ContentInfo **cms, struct range *content, char *why,
    size_t whylen)
{
	struct part_hdr ph;
	struct range sig, b64;
	size_t hlen, sbody;

	if (!ct->protocol.seen) {
		set_why(why, whylen, "multipart/signed without protocol");
		return -1;
	}
	if (!param_eq(&ct->protocol, "application/pkcs7-signature") &&
	    !param_eq(&ct->protocol, "application/x-pkcs7-signature")) {
		set_why(why, whylen, "not S/MIME-signed (other protocol)");
		return 0;
	}
	if (!boundary_ok(&ct->boundary)) {
		set_why(why, whylen, !ct->boundary.seen ? "no boundary" :
		    "boundary is not 1-70 valid characters");
		return -1;
	}
	if (signed_parts(m, len, body, &ct->boundary, content, &sig, why,
	    whylen) != 1)
		return -1;
	if (hdr_split(m + sig.off, sig.len, &hlen, &sbody) == -1) {
		set_why(why, whylen, "signature part header too large");
		return -1;
	}
	if (section_scan(m + sig.off, hlen, &ph) == -1) {
		set_why(why, whylen, "out of memory");
		return -1;
	}
	if (ph.nct != 1 || ph.ct_bad || ct_kind(&ph.ct) != CT_PKCS7_SIG) {
		set_why(why, whylen,
		    "second part is not application/pkcs7-signature");
		return -1;
	}
	if (ph.ncte != 1 || !ph.base64) {
		set_why(why, whylen, "signature part is not base64");
		return -1;
	}
	b64.off = sig.off + sbody;
	b64.len = sig.len - sbody;
	if (cms_from_b64(m, b64, cms, why, whylen) == -1)
		return -1;
	if (OBJ_obj2nid(CMS_get0_type(*cms)) != NID_pkcs7_signed) {
		set_why(why, whylen, "signature part is not SignedData");
		return -1;
	}
	return 1;
}

/* from_opaque - application/pkcs7-mime at body with Content-Type ct */
static int
from_opaque(const char *m, size_t len, size_t body, const struct ctype *ct,
    const struct part_hdr *ph, CMS_ContentInfo **cms, char *why,
    size_t whylen)
{
	struct range b64;

	/* without smime-type, the content decides (older clients) */
	if (ct->smime_type.seen &&
	    !param_eq(&ct->smime_type, "signed-data")) {
		set_why(why, whylen, "not S/MIME-signed (smime-type)");
		return 0;
	}
	if (ph->ncte != 1 || !ph->base64) {
		set_why(why, whylen, "application/pkcs7-mime is not base64");
		return -1;
	}
	b64.off = body;
	b64.len = len - body;
	if (cms_from_b64(m, b64, cms, why, whylen) == -1)
		return -1;
	if (OBJ_obj2nid(CMS_get0_type(*cms)) != NID_pkcs7_signed) {
		set_why(why, whylen, ct->smime_type.seen ?
		    "smime-type=signed-data without SignedData" :
		    "not S/MIME-signed (no SignedData)");
		return ct->smime_type.seen ? -1 : 0;
	}
	return 1;
}

int
smime_harvest(const char *msg, size_t len, const char *from_addr,
    time_t now, const char *ca_file, struct smime_harvest *out,
    char *why, size_t whylen)
{
	struct smime_harvest h;
	struct part_hdr top;
	struct range content = { 0, 0 };
	CMS_ContentInfo *cms = NULL;
	size_t hlen, body;
	int rc = -1, detached = 0;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	memset(&h, 0, sizeof(h));
	if (msg == NULL || from_addr == NULL || out == NULL) {
		set_why(why, whylen, "bad arguments");
		return -1;
	}
	if (len > INT_MAX) {	/* BIO_new_mem_buf() takes an int */
		set_why(why, whylen, "message too large");
		return -1;
	}
	ERR_set_mark();
	if (hdr_split(msg, len, &hlen, &body) == -1) {
		set_why(why, whylen, "header section too large");
		goto out;
	}
	if (section_scan(msg, hlen, &top) == -1) {
		set_why(why, whylen, "out of memory");
		goto out;
	}
	if (top.nct > 1 && top.smime_shaped) {
		set_why(why, whylen, "more than one Content-Type field");
		goto out;
	}
	switch (top.nct == 1 ? ct_kind(&top.ct) : CT_OTHER) {
	case CT_SIGNED:
		if (top.ct_bad) {
			set_why(why, whylen, "malformed Content-Type");
			goto out;
		}
		rc = from_signed(msg, len, body, &top.ct, &cms, &content,
		    why, whylen);
		detached = 1;
		break;
	case CT_PKCS7_MIME:
		if (top.ct_bad) {
			set_why(why, whylen, "malformed Content-Type");
			goto out;
		}
		rc = from_opaque(msg, len, body, &top.ct, &top, &cms, why,
		    whylen);
		break;
	default:
		set_why(why, whylen, "not S/MIME-signed");
		rc = 0;
		break;
	}
	if (rc != 1)
		goto out;
	rc = harvest_cms(cms, msg + content.off, content.len, detached,
	    from_addr, now, ca_file, &h, why, whylen);
out:
	CMS_ContentInfo_free(cms);
	if (rc == 1)
		*out = h;
	else
		smime_harvest_release(&h);
	(void)ERR_pop_to_mark();
	return rc;
}

void
smime_harvest_release(struct smime_harvest *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nemails; i++)
		xfree(h->emails[i]);
	xfree(h->emails);
	xfree(h->der);
	memset(h, 0, sizeof(*h));
}
