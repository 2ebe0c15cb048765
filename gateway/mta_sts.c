/*
 * mta_sts.c - MTA-STS: TXT record and policy parsers, MX matching, the
 * HTTPS policy fetch (libcurl) and the policy cache (PostgreSQL).
 *
 * Implements: RFC 8461 3.1 (TXT record), 3.2 (policy), 3.3 (HTTPS
 * fetch), 4.1 (MX matching), 5.1 and 10.2 (cache and refresh); RFC 1035
 * 3.3.14 (TXT RDATA).
 * Trust: TXT RDATA from DNS and policy bodies from any web server; the
 * parsers are pure, bounded and fuzzed. No logging here.
 * Ownership: policies are heap objects owned by the caller
 * (mta_sts_policy_free()); reasons are new strings (xfree()).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "db.h"
#include "dns.h"
#include "https_get.h"
#include "mta_sts.h"
#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

#define MTA_STS_ERR_MAX		1024	/* one reason string */
#define MTA_STS_SHOW_MAX	64	/* network text quoted in a reason */
#define MTA_STS_NAME_MAX	32	/* TXT and policy key names */
#define MTA_STS_TXT_TYPE	16
#define MTA_STS_PATH		"/.well-known/mta-sts.txt"

static void set_err(char **err_out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* set_err - *err_out = a new formatted string, when err_out is wanted */
static void
set_err(char **err_out, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	if (err_out == NULL)
		return;
	buf_init(&b, MTA_STS_ERR_MAX);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) < 0)
		(void)buf_append_str(&b, "(reason too long)");
	va_end(ap);
	xfree(*err_out);
	*err_out = buf_steal(&b, NULL);
}

/* show - network bytes as a short printable quote for a reason string:
 * printable ASCII kept, anything else \xNN, cut after MTA_STS_SHOW_MAX */
static void
show(char *out, size_t outlen, const char *p, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && i < MTA_STS_SHOW_MAX; i++) {
		unsigned char c = (unsigned char)p[i];
		int w;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			w = snprintf(out + o, outlen - o, "%c", c);
		else
			w = snprintf(out + o, outlen - o, "\\x%02x", c);
		if (w < 0 || (size_t)w >= outlen - o)
			break;
		o += (size_t)w;
	}
	out[o] = '\0';
	if (n > MTA_STS_SHOW_MAX && o + 4 < outlen)
		snprintf(out + o, outlen - o, "...");
}

/* mta_sts_mode_name - the mode as the policy spells it */
const char *
mta_sts_mode_name(enum mta_sts_mode m)
{
	switch (m) {
	case MTA_STS_MODE_ENFORCE:
		return "enforce";
	case MTA_STS_MODE_TESTING:
		return "testing";
	default:
		return "none";
	}
}

/* mta_sts_policy_free - free a policy and clear the caller's pointer */
void
mta_sts_policy_free(struct mta_sts_policy **pp)
{
	struct mta_sts_policy *p;
	size_t i;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	for (i = 0; i < p->nmx; i++)
		xfree(p->mx[i]);
	xfree(p->mx);
	xfree(p->text);
	xfree(p);
	*pp = NULL;
}

/* is_alnum - ASCII letter or digit (no locale) */
static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* is_wsp - ABNF WSP: space or horizontal tab */
static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* name_len - length of an RFC 8461 field name at p[0..n) (ALPHA/DIGIT
 * then up to 31 of ALPHA/DIGIT/"_"/"-"/"."): the run of such characters,
 * 0 when the first is not alnum; may exceed MTA_STS_NAME_MAX (the caller
 * refuses it) */
static size_t
name_len(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || !is_alnum((unsigned char)p[0]))
		return 0;
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!is_alnum(c) && c != '_' && c != '-' && c != '.')
			break;
	}
	return i;
}

/* ---- TXT record (RFC 8461 3.1) ---- */

/* txt_record_parse - mta_sts_txt_record_parse() but id_out may hold a
 * partial result on failure */
static int
txt_record_parse(const char *txt, size_t len,
    char id_out[MTA_STS_ID_MAX + 1], char **err_out)
{
	char q[MTA_STS_SHOW_MAX * 4 + 8];
	size_t i = 7, nfields = 0;
	int have_id = 0;

	id_out[0] = '\0';
	if (len < 7 || memcmp(txt, "v=STSv1", 7) != 0) {
		set_err(err_out, "TXT record does not start with v=STSv1");
		return -1;
	}
	for (;;) {
		size_t j = i, nl, vs;

		if (i == len)
			break;
		/* sts-field-delim = *WSP ";" *WSP */
		while (j < len && is_wsp(txt[j]))
			j++;
		if (j == len || txt[j] != ';') {
			show(q, sizeof(q), txt + i, len - i);
			set_err(err_out, "TXT record: expected ';' at \"%s\"",
			    q);
			return -1;
		}
		j++;
		while (j < len && is_wsp(txt[j]))
			j++;
		if (j == len)
			break;		/* the optional final delimiter */
		nl = name_len(txt + j, len - j);
		if (nl == 0 || nl > MTA_STS_NAME_MAX || j + nl == len ||
		    txt[j + nl] != '=') {
			show(q, sizeof(q), txt + j, len - j);
			set_err(err_out, "TXT record: expected name=value "
			    "at \"%s\"", q);
			return -1;
		}
		vs = j + nl + 1;
		/* sts-ext-value: %x21-3A / %x3C / %x3E-7E */
		for (i = vs; i < len; i++) {
			unsigned char c = (unsigned char)txt[i];

			if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
				break;
		}
		if (i == vs || (i < len && !is_wsp(txt[i]) && txt[i] != ';')) {
			show(q, sizeof(q), txt + j, len - j);
			set_err(err_out, "TXT record: bad value at \"%s\"", q);
			return -1;
		}
		if (nl == 2 && memcmp(txt + j, "id", 2) == 0) {
			size_t k;

			if (have_id) {
				set_err(err_out, "TXT record: more than one "
				    "id");
				return -1;
			}
			for (k = vs; k < i; k++)
				if (!is_alnum((unsigned char)txt[k]))
					break;
			if (k < i || i - vs > MTA_STS_ID_MAX) {
				show(q, sizeof(q), txt + vs, i - vs);
				set_err(err_out, "TXT record: id \"%s\" is not "
				    "1-32 letters or digits", q);
				return -1;
			}
			memcpy(id_out, txt + vs, i - vs);
			id_out[i - vs] = '\0';
			have_id = 1;
		}
		nfields++;
	}
	if (nfields == 0 || !have_id) {
		set_err(err_out, "TXT record has no id");
		return -1;
	}
	return 0;
}

/* mta_sts_txt_record_parse - one STS record's id; id_out "" on failure */
int
mta_sts_txt_record_parse(const char *txt, size_t len,
    char id_out[MTA_STS_ID_MAX + 1], char **err_out)
{
	if (txt_record_parse(txt, len, id_out, err_out) < 0) {
		id_out[0] = '\0';
		return -1;
	}
	return 0;
}

/* txt_is_sts - the record claims to be MTA-STS: "v=STSv1" and then ';',
 * white space or the end (RFC 8461 3.1 names "v=STSv1;"; the ABNF allows
 * white space before the ';', so such a record counts as one too) */
static int
txt_is_sts(const char *t, size_t n)
{
	return n >= 7 && memcmp(t, "v=STSv1", 7) == 0 &&
	    (n == 7 || t[7] == ';' || is_wsp(t[7]));
}

/* txt_decode - TXT RDATA (RFC 1035 3.3.14: one or more <character-
 * string>s, a length byte then that many bytes) concatenated into out
 * (rdlen bytes of room); 0 ok, -1 malformed */
static int
txt_decode(const unsigned char *rd, size_t rdlen, char *out,
    size_t *outlen)
{
	size_t pos = 0, o = 0;

	if (rdlen == 0)
		return -1;
	while (pos < rdlen) {
		size_t l = rd[pos];

		if (l > rdlen - pos - 1)
			return -1;
		memcpy(out + o, rd + pos + 1, l);
		o += l;
		pos += 1 + l;
	}
	*outlen = o;
	return 0;
}

/* mta_sts_txt_parse - the id of the one STS record of a TXT RRset */
int
mta_sts_txt_parse(const struct dns_rrset *rr,
    char id_out[MTA_STS_ID_MAX + 1], char **err_out)
{
	char *sts = NULL, *t;
	size_t i, nsts = 0, stslen = 0;
	int rc;

	id_out[0] = '\0';
	if (rr == NULL || rr->n == 0)
		return 0;
	for (i = 0; i < rr->n; i++) {
		size_t tl;

		t = xmalloc(rr->rdlen[i] + 1);
		if (txt_decode(rr->rdata[i], rr->rdlen[i], t, &tl) < 0) {
			xfree(t);
			xfree(sts);
			set_err(err_out, "TXT record %zu: malformed RDATA",
			    i + 1);
			return -1;
		}
		if (!txt_is_sts(t, tl)) {
			xfree(t);
			continue;
		}
		if (++nsts == 1) {
			sts = t;
			stslen = tl;
		} else {
			xfree(t);
		}
	}
	if (nsts == 0)
		return 0;
	if (nsts > 1) {
		xfree(sts);
		set_err(err_out, "%zu v=STSv1 TXT records (exactly one "
		    "allowed)", nsts);
		return -1;
	}
	rc = mta_sts_txt_record_parse(sts, stslen, id_out, err_out);
	xfree(sts);
	return rc < 0 ? -1 : 1;
}

/* ---- policy (RFC 8461 3.2) ---- */

/* utf8_len - length of the well-formed UTF-8 sequence (RFC 3629 4) at
 * p[0..n) that starts with a byte >= 0x80; 0 when ill-formed */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	/* no overlong forms, no surrogates, nothing above U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return need;
}

/* domain_syntax_ok - RFC 5321 4.1.2 Domain: sub-domain *("." sub-domain),
 * sub-domain = Let-dig [Ldh-str]; labels 1..63, at most 253 characters,
 * no trailing dot */
static int
domain_syntax_ok(const char *p, size_t n)
{
	size_t i, lab = 0;
	char prev = '.';

	if (n == 0 || n > DNS_NAME_MAX - 2)
		return 0;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '.') {
			if (lab == 0 || prev == '-')
				return 0;
			lab = 0;
		} else if (c == '-') {
			if (lab == 0)
				return 0;
			lab++;
		} else if (is_alnum((unsigned char)c)) {
			lab++;
		} else {
			return 0;
		}
		if (lab > 63)
			return 0;
		prev = c;
	}
	return lab > 0 && prev != '-';
}

struct policy_state {
	struct mta_sts_policy *p;
	size_t mxcap;
	int seen_version, seen_mode, seen_max_age;
};

/* policy_field - one known field's value; 0 ok, -1 with *err_out */
static int
policy_field(struct policy_state *st, unsigned lineno, const char *key,
    size_t kl, const char *v, size_t vl, char **err_out)
{
	struct mta_sts_policy *p = st->p;
	char q[MTA_STS_SHOW_MAX * 4 + 8];
	uint64_t age;
	size_t i;

	show(q, sizeof(q), v, vl);
	if (kl == 7 && memcmp(key, "version", 7) == 0) {
		if (st->seen_version++) {
			set_err(err_out, "policy line %u: second version",
			    lineno);
			return -1;
		}
		if (vl != 5 || memcmp(v, "STSv1", 5) != 0) {
			set_err(err_out, "policy line %u: version \"%s\" is "
			    "not STSv1", lineno, q);
			return -1;
		}
		return 0;
	}
	if (kl == 4 && memcmp(key, "mode", 4) == 0) {
		if (st->seen_mode++) {
			set_err(err_out, "policy line %u: second mode", lineno);
			return -1;
		}
		if (vl == 7 && memcmp(v, "enforce", 7) == 0) {
			p->mode = MTA_STS_MODE_ENFORCE;
		} else if (vl == 7 && memcmp(v, "testing", 7) == 0) {
			p->mode = MTA_STS_MODE_TESTING;
		} else if (vl == 4 && memcmp(v, "none", 4) == 0) {
			p->mode = MTA_STS_MODE_NONE;
		} else {
			set_err(err_out, "policy line %u: mode \"%s\" is not "
			    "enforce, testing or none", lineno, q);
			return -1;
		}
		return 0;
	}
	if (kl == 7 && memcmp(key, "max_age", 7) == 0) {
		if (st->seen_max_age++) {
			set_err(err_out, "policy line %u: second max_age",
			    lineno);
			return -1;
		}
		/* 1*10(DIGIT), then the range */
		for (i = 0; i < vl; i++)
			if (v[i] < '0' || v[i] > '9')
				break;
		if (i < vl || vl > 10 || num_parse_u64(v, vl, 0,
		    MTA_STS_MAX_AGE_MAX, &age) < 0) {
			set_err(err_out, "policy line %u: max_age \"%s\" is "
			    "not 0..%u", lineno, q, MTA_STS_MAX_AGE_MAX);
			return -1;
		}
		p->max_age = (uint32_t)age;
		return 0;
	}
	if (kl == 2 && memcmp(key, "mx", 2) == 0) {
		size_t off = vl >= 2 && v[0] == '*' && v[1] == '.' ? 2 : 0;
		char *m;

		if (!domain_syntax_ok(v + off, vl - off)) {
			set_err(err_out, "policy line %u: mx \"%s\" is not a "
			    "host name or *.host name", lineno, q);
			return -1;
		}
		if (p->nmx == MTA_STS_MX_MAX) {
			set_err(err_out, "policy line %u: more than %d mx",
			    lineno, MTA_STS_MX_MAX);
			return -1;
		}
		if (p->nmx == st->mxcap) {
			st->mxcap = st->mxcap ? st->mxcap * 2 : 4;
			p->mx = xrealloc(p->mx, st->mxcap * sizeof(*p->mx));
		}
		m = xstrndup(v, vl);
		for (i = 0; i < vl; i++)
			if (m[i] >= 'A' && m[i] <= 'Z')
				m[i] = (char)(m[i] - 'A' + 'a');
		p->mx[p->nmx++] = m;
		return 0;
	}
	return 0;		/* unknown fields are ignored */
}

/* policy_line - one line without its terminator; 0 ok, -1 *err_out */
static int
policy_line(struct policy_state *st, unsigned lineno, const char *l,
    size_t n, char **err_out)
{
	char q[MTA_STS_SHOW_MAX * 4 + 8];
	size_t kl, vs, ve, i;

	kl = name_len(l, n);
	if (kl == 0 || kl == n || l[kl] != ':' || kl > MTA_STS_NAME_MAX) {
		show(q, sizeof(q), l, n);
		set_err(err_out, "policy line %u: not \"key: value\": \"%s\"",
		    lineno, q);
		return -1;
	}
	vs = kl + 1;
	while (vs < n && is_wsp(l[vs]))
		vs++;
	ve = n;
	while (ve > vs && is_wsp(l[ve - 1]))
		ve--;
	if (ve == vs) {
		show(q, sizeof(q), l, kl);
		set_err(err_out, "policy line %u: %s has no value", lineno, q);
		return -1;
	}
	/* sts-policy-vchar / SP: VCHAR or UTF-8, no control characters */
	for (i = vs; i < ve; ) {
		unsigned char c = (unsigned char)l[i];
		size_t u;

		if (c >= 0x20 && c < 0x7f) {
			i++;
			continue;
		}
		if (c < 0x80) {
			set_err(err_out, "policy line %u: control character "
			    "0x%02x", lineno, c);
			return -1;
		}
		u = utf8_len((const unsigned char *)l + i, ve - i);
		if (u == 0) {
			set_err(err_out, "policy line %u: invalid UTF-8",
			    lineno);
			return -1;
		}
		i += u;
	}
	return policy_field(st, lineno, l, kl, l + vs, ve - vs, err_out);
}

/* mta_sts_policy_parse - a policy body into a new policy, strictly */
int
mta_sts_policy_parse(const char *text, size_t len,
    struct mta_sts_policy **out, char **err_out)
{
	struct policy_state st;
	size_t pos = 0;
	unsigned lineno = 0;

	*out = NULL;
	if (len > MTA_STS_POLICY_MAX) {
		set_err(err_out, "policy larger than %d bytes",
		    MTA_STS_POLICY_MAX);
		return -1;
	}
	if (len == 0) {
		set_err(err_out, "empty policy");
		return -1;
	}
	memset(&st, 0, sizeof(st));
	st.p = xcalloc(1, sizeof(*st.p));
	while (pos < len) {
		const char *eol = memchr(text + pos, '\n', len - pos);
		size_t end = eol != NULL ? (size_t)(eol - text) : len;
		size_t n = end - pos;

		lineno++;
		/* sts-policy-term = LF / CRLF; a lone CR is a control
		 * character inside the line */
		if (eol != NULL && n > 0 && text[end - 1] == '\r')
			n--;
		if (n == 0) {
			set_err(err_out, "policy line %u: empty line", lineno);
			goto bad;
		}
		if (policy_line(&st, lineno, text + pos, n, err_out) < 0)
			goto bad;
		pos = eol != NULL ? end + 1 : len;
	}
	if (!st.seen_version) {
		set_err(err_out, "policy has no version");
		goto bad;
	}
	if (!st.seen_mode) {
		set_err(err_out, "policy has no mode");
		goto bad;
	}
	if (!st.seen_max_age) {
		set_err(err_out, "policy has no max_age");
		goto bad;
	}
	if (st.p->nmx == 0 && st.p->mode != MTA_STS_MODE_NONE) {
		set_err(err_out, "policy has no mx (required in mode %s)",
		    mta_sts_mode_name(st.p->mode));
		goto bad;
	}
	st.p->text = xmalloc(len + 1);
	memcpy(st.p->text, text, len);
	st.p->text[len] = '\0';
	st.p->text_len = len;
	*out = st.p;
	return 0;
bad:
	mta_sts_policy_free(&st.p);
	return -1;
}

/* ---- MX matching (RFC 8461 4.1) ---- */

/* mta_sts_mx_pattern_match - does one mx pattern match an MX host */
int
mta_sts_mx_pattern_match(const char *pattern, const char *host)
{
	size_t pl, hl, sl;

	if (pattern == NULL || host == NULL)
		return 0;
	pl = strlen(pattern);
	hl = strlen(host);
	if (pl > 0 && pattern[pl - 1] == '.')
		pl--;
	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (pl == 0 || hl == 0 || memchr(host, '*', hl) != NULL)
		return 0;
	if (pl >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* suffix ".example.com"; exactly one label before it */
		sl = pl - 1;
		if (sl < 2 || hl <= sl)
			return 0;
		if (strncasecmp(host + hl - sl, pattern + 1, sl) != 0)
			return 0;
		return memchr(host, '.', hl - sl) == NULL;
	}
	return pl == hl && strncasecmp(pattern, host, pl) == 0;
}

/* mta_sts_mx_match - does any of the policy's patterns match */
int
mta_sts_mx_match(const struct mta_sts_policy *p, const char *mxhost)
{
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < p->nmx; i++)
		if (mta_sts_mx_pattern_match(p->mx[i], mxhost))
			return 1;
	return 0;
}

/* mta_sts_content_type_ok - is a Content-Type value text/plain */
int
mta_sts_content_type_ok(const char *ct)
{
	if (ct == NULL)
		return 0;
	while (is_wsp(*ct))
		ct++;
	if (strncasecmp(ct, "text/plain", 10) != 0)
		return 0;
	ct += 10;
	while (is_wsp(*ct))
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* ---- HTTPS fetch (RFC 8461 3.3) ---- */

/* domain_norm - DOMAIN lower case without one trailing dot into out; 0
 * if it is a valid host name then, else -1 */
static int
domain_norm(const char *domain, char out[DNS_NAME_MAX + 1])
{
	size_t n, i;

	if (domain == NULL)
		return -1;
	n = strlen(domain);
	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n > DNS_NAME_MAX - 2)
		return -1;
	for (i = 0; i < n; i++) {
		char c = domain[i];

		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return dns_hostname_valid(out) ? 0 : -1;
}

/* fetch_curl_err - the reason for a failed curl_easy_perform() */
static void
fetch_curl_err(const char *host, CURLcode rc, const char *errbuf,
    const struct https_body *fb, unsigned timeout, char **err_out)
{
	const char *detail = errbuf[0] != '\0' ? errbuf :
	    curl_easy_strerror(rc);

	if (fb->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		set_err(err_out, "%s: policy larger than %d bytes", host,
		    MTA_STS_POLICY_MAX);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		set_err(err_out, "%s: timed out after %u s: %s", host, timeout,
		    detail);
	else
		set_err(err_out, "%s: %s: %s", host, https_curl_why(rc),
		    detail);
}

/* mta_sts_fetch - GET and parse DOMAIN's policy over verified HTTPS */
int
mta_sts_fetch(const char *domain, struct dns_resolver *r,
    const char *ca_file, unsigned timeout_secs,
    struct mta_sts_policy **policy_out, char **err_out)
{
	char dom[DNS_NAME_MAX + 1], host[DNS_NAME_MAX + 16];
	char url[DNS_NAME_MAX + 64], errbuf[CURL_ERROR_SIZE];
	char q[MTA_STS_SHOW_MAX * 4 + 8], *perr = NULL;
	struct curl_slist *resolve = NULL;
	struct dns_mx_result res;
	struct https_body fb;
	struct https_opts o;
	CURL *c = NULL;
	CURLcode rc;
	long code = 0;
	char *ct = NULL, *loc = NULL;
	int ret = -1, st;

	*policy_out = NULL;
	memset(&res, 0, sizeof(res));
	buf_init(&fb.b, MTA_STS_POLICY_MAX);
	fb.too_big = 0;
	if (domain_norm(domain, dom) < 0) {
		show(q, sizeof(q), domain ? domain : "",
		    domain ? strlen(domain) : 0);
		set_err(err_out, "\"%s\" is not a valid domain", q);
		return -1;
	}
	snprintf(host, sizeof(host), "mta-sts.%s", dom);
	if (!dns_hostname_valid(host)) {
		set_err(err_out, "%s: name too long", host);
		return -1;
	}
	if (timeout_secs == 0)
		timeout_secs = MTA_STS_TIMEOUT_DEFAULT;
	if (timeout_secs > MTA_STS_TIMEOUT_MAX)
		timeout_secs = MTA_STS_TIMEOUT_MAX;

	/* our resolver, not curl's: the same DNS (and DNSSEC state) as
	 * every other lookup, and nothing else for curl to consult */
	if (dns_lookup_host(r, host, &res) != DNS_OK || res.nhosts == 0 ||
	    res.hosts[0].naddrs == 0) {
		set_err(err_out, "%s: no address: %s", host,
		    res.why[0] != '\0' ? res.why : "no A/AAAA record");
		goto out;
	}
	resolve = https_resolve_entry(host, 443, &res.hosts[0]);
	if (resolve == NULL || (c = https_curl_new()) == NULL) {
		set_err(err_out, "%s: cannot initialise libcurl", host);
		goto out;
	}
	snprintf(url, sizeof(url), "https://%s%s", host, MTA_STS_PATH);
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.resolve = resolve;
	o.ca_file = ca_file;
	o.timeout_ms = o.connect_timeout_ms = (long)timeout_secs * 1000L;
	o.body = &fb;
	o.errbuf = errbuf;
	o.user_agent = "sealgate-mta-sts";
	st = https_curl_setup(c, &o);
	if (st < 0) {
		set_err(err_out, "%s: libcurl refused %s", host,
		    st == HTTPS_SETUP_CA_FILE ? "the CA file" : "an option");
		goto out;
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		fetch_curl_err(host, rc, errbuf, &fb, timeout_secs, err_out);
		goto out;
	}
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 300 && code < 400) {
		/* RFC 8461 3.3: 3xx redirects MUST NOT be followed */
		(void)curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
		show(q, sizeof(q), loc ? loc : "", loc ? strlen(loc) : 0);
		set_err(err_out, "%s: HTTP %ld redirect (not followed, RFC "
		    "8461 3.3) to \"%s\"", host, code, q);
		goto out;
	}
	if (code != 200) {
		set_err(err_out, "%s: HTTP %ld (want 200)", host, code);
		goto out;
	}
	(void)curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if (!mta_sts_content_type_ok(ct)) {
		show(q, sizeof(q), ct ? ct : "", ct ? strlen(ct) : 0);
		set_err(err_out, "%s: Content-Type \"%s\" is not text/plain",
		    host, q);
		goto out;
	}
	if (mta_sts_policy_parse(fb.b.data ? fb.b.data : "", fb.b.len,
	    policy_out, &perr) < 0) {
		set_err(err_out, "%s: invalid policy: %s", host, perr);
		goto out;
	}
	(*policy_out)->fetched_at = time(NULL);
	(*policy_out)->expires_at = (*policy_out)->fetched_at +
	    (time_t)(*policy_out)->max_age;
	ret = 0;
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(resolve);
	xfree(perr);
	buf_free(&fb.b);
	dns_mx_result_free(&res);
	return ret;
}

/* ---- the cache (db/migrations/0003_mta_sts.sql) ---- */

struct cache_row {
	struct mta_sts_policy *p;	/* NULL: no policy cached */
	int exists;			/* a row, with or without policy */
	char failed_id[MTA_STS_ID_MAX + 1];
	time_t failed_at;
};

static const char load_sql[] =
    "SELECT policy_id, mode, array_to_string(mx, ' '), max_age,"
    " extract(epoch FROM fetched_at)::bigint,"
    " extract(epoch FROM expires_at)::bigint, policy_text,"
    " failed_id, extract(epoch FROM failed_at)::bigint"
    " FROM mta_sts_policies WHERE domain = $1";

/* col_time - an epoch column of row 0, 0 when NULL */
static time_t
col_time(PGresult *res, int col)
{
	uint64_t v = 0;

	if (PQgetisnull(res, 0, col))
		return 0;
	/* epochs before 1970 do not occur here; a '-' fails the parse */
	(void)num_parse_u64_str(PQgetvalue(res, 0, col), 0, INT64_MAX, &v);
	return (time_t)v;
}

/* cache_read - the row for dom into *row; 0 ok (row->exists says if
 * there was one), -1/-2 with *err_out */
static int
cache_read(struct db *db, const char *dom, struct cache_row *row,
    char **err_out)
{
	const char *params[1] = { dom };
	struct mta_sts_policy *p;
	PGresult *res;
	int transient = 0;
	const char *mode, *mx, *s;
	uint64_t age = 0;

	memset(row, 0, sizeof(*row));
	res = db_exec(db, load_sql, 1, params, &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	row->exists = 1;
	if (!PQgetisnull(res, 0, 7) &&
	    strlen(PQgetvalue(res, 0, 7)) <= MTA_STS_ID_MAX) {
		snprintf(row->failed_id, sizeof(row->failed_id), "%s",
		    PQgetvalue(res, 0, 7));
		row->failed_at = col_time(res, 8);
	}
	if (PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1) ||
	    strlen(PQgetvalue(res, 0, 0)) > MTA_STS_ID_MAX) {
		PQclear(res);
		return 0;
	}
	p = xcalloc(1, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", PQgetvalue(res, 0, 0));
	mode = PQgetvalue(res, 0, 1);
	p->mode = strcmp(mode, "enforce") == 0 ? MTA_STS_MODE_ENFORCE :
	    strcmp(mode, "testing") == 0 ? MTA_STS_MODE_TESTING :
	    MTA_STS_MODE_NONE;
	(void)num_parse_u64_str(PQgetvalue(res, 0, 3), 0,
	    MTA_STS_MAX_AGE_MAX, &age);
	p->max_age = (uint32_t)age;
	p->fetched_at = col_time(res, 4);
	p->expires_at = col_time(res, 5);
	/* patterns never hold spaces (the parser checked them) */
	mx = PQgetvalue(res, 0, 2);
	for (s = mx; *s != '\0'; ) {
		const char *e = strchr(s, ' ');
		size_t n = e != NULL ? (size_t)(e - s) : strlen(s);

		if (n > 0) {
			p->mx = xrealloc(p->mx, (p->nmx + 1) * sizeof(*p->mx));
			p->mx[p->nmx++] = xstrndup(s, n);
		}
		s += n;
		if (*s == ' ')
			s++;
	}
	s = PQgetvalue(res, 0, 6);
	p->text_len = strlen(s);
	p->text = xstrndup(s, p->text_len);
	row->p = p;
	PQclear(res);
	return 0;
}

/* mta_sts_cache_load - the cached policy, no network */
int
mta_sts_cache_load(struct db *db, const char *domain,
    struct mta_sts_policy **policy_out, char **err_out)
{
	char dom[DNS_NAME_MAX + 1];
	struct cache_row row;
	int rc;

	*policy_out = NULL;
	if (domain_norm(domain, dom) < 0)
		return 0;
	rc = cache_read(db, dom, &row, err_out);
	if (rc < 0)
		return rc;
	*policy_out = row.p;
	return row.p != NULL;
}

/* cache_store - a freshly fetched policy for dom under TXT id p->id; an
 * older fetch never overwrites a newer one (concurrent workers) */
static int
cache_store(struct db *db, const char *dom, const struct mta_sts_policy *p,
    char **err_out)
{
	static const char sql[] =
	    "INSERT INTO mta_sts_policies AS c (domain, policy_id, mode, mx,"
	    " max_age, fetched_at, expires_at, policy_text, last_checked,"
	    " last_txt_id, last_error, failed_id, failed_at)"
	    " VALUES ($1, $2, $3, string_to_array($4, ' '), $5::bigint,"
	    " to_timestamp($6::bigint), to_timestamp($7::bigint), $8,"
	    " to_timestamp($6::bigint), $2, NULL, NULL, NULL)"
	    " ON CONFLICT (domain) DO UPDATE SET"
	    " policy_id = EXCLUDED.policy_id, mode = EXCLUDED.mode,"
	    " mx = EXCLUDED.mx, max_age = EXCLUDED.max_age,"
	    " fetched_at = EXCLUDED.fetched_at,"
	    " expires_at = EXCLUDED.expires_at,"
	    " policy_text = EXCLUDED.policy_text,"
	    " last_checked = EXCLUDED.last_checked,"
	    " last_txt_id = EXCLUDED.last_txt_id, last_error = NULL,"
	    " failed_id = NULL, failed_at = NULL"
	    " WHERE c.fetched_at IS NULL"
	    "   OR c.fetched_at <= EXCLUDED.fetched_at";
	char age[16], fetched[24], expires[24];
	const char *params[8];
	struct buf mx;
	PGresult *res;
	int transient = 0;
	size_t i;

	buf_init(&mx, (size_t)MTA_STS_POLICY_MAX * 2);
	for (i = 0; i < p->nmx; i++)
		(void)buf_printf(&mx, "%s%s", i ? " " : "", p->mx[i]);
	snprintf(age, sizeof(age), "%u", p->max_age);
	snprintf(fetched, sizeof(fetched), "%lld", (long long)p->fetched_at);
	snprintf(expires, sizeof(expires), "%lld", (long long)p->expires_at);
	params[0] = dom;
	params[1] = p->id;
	params[2] = mta_sts_mode_name(p->mode);
	params[3] = buf_cstr(&mx);
	params[4] = age;
	params[5] = fetched;
	params[6] = expires;
	params[7] = p->text != NULL ? p->text : "";
	res = db_exec(db, sql, 8, params, &transient, err_out);
	buf_free(&mx);
	if (res == NULL)
		return transient ? -2 : -1;
	PQclear(res);
	return 0;
}

/* cache_note - record a check that stored no policy: the TXT id seen
 * (NULL none) and the error (NULL none; keep_error: leave the recorded
 * one), or, when failed_id is not NULL, a failed fetch of that id. Only
 * a failed fetch creates a row (a domain without MTA-STS gets none). */
static int
cache_note(struct db *db, const char *dom, time_t now, const char *txt_id,
    const char *error, int keep_error, const char *failed_id,
    char **err_out)
{
	static const char upd_sql[] =
	    "UPDATE mta_sts_policies SET"
	    " last_checked = to_timestamp($2::bigint), last_txt_id = $3,"
	    " last_error = CASE WHEN $5::boolean THEN last_error ELSE $4 END"
	    " WHERE domain = $1";
	static const char fail_sql[] =
	    "INSERT INTO mta_sts_policies AS c (domain, last_checked,"
	    " last_txt_id, last_error, failed_id, failed_at)"
	    " VALUES ($1, to_timestamp($2::bigint), $3, $4, $3,"
	    " to_timestamp($2::bigint))"
	    " ON CONFLICT (domain) DO UPDATE SET"
	    " last_checked = EXCLUDED.last_checked,"
	    " last_txt_id = EXCLUDED.last_txt_id,"
	    " last_error = EXCLUDED.last_error,"
	    " failed_id = EXCLUDED.failed_id, failed_at = EXCLUDED.failed_at";
	char t[24];
	const char *params[5];
	PGresult *res;
	int transient = 0;

	snprintf(t, sizeof(t), "%lld", (long long)now);
	params[0] = dom;
	params[1] = t;
	params[2] = failed_id != NULL ? failed_id : txt_id;
	params[3] = error;
	params[4] = keep_error ? "true" : "false";
	if (failed_id != NULL)
		res = db_exec(db, fail_sql, 4, params, &transient, err_out);
	else
		res = db_exec(db, upd_sql, 5, params, &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	PQclear(res);
	return 0;
}

/* fmt_time - t as RFC 3339 UTC for reason strings */
static void
fmt_time(char *out, size_t n, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "@%lld", (long long)t);
}

/* use_cached - hand out the cached policy with a reason */
static int
use_cached(struct cache_row *row, const char *reason,
    struct mta_sts_policy **policy_out, int *from_cache_out,
    char **why_out)
{
	char exp[32];

	fmt_time(exp, sizeof(exp), row->p->expires_at);
	set_err(why_out, "%s%scached policy id=%s mode=%s expires %s",
	    reason != NULL ? reason : "", reason != NULL ? "; using " :
	    "using ", row->p->id, mta_sts_mode_name(row->p->mode), exp);
	*policy_out = row->p;
	row->p = NULL;
	if (from_cache_out != NULL)
		*from_cache_out = 1;
	return 1;
}

/* mta_sts_get - the policy in force for DOMAIN: TXT, cache, fetch */
int
mta_sts_get(struct db *db, struct dns_resolver *r, const char *domain,
    const char *ca_file, unsigned timeout_secs, time_t now,
    struct mta_sts_policy **policy_out, int *from_cache_out,
    char **why_out)
{
	char dom[DNS_NAME_MAX + 1], name[DNS_NAME_MAX + 16];
	char id[MTA_STS_ID_MAX + 1], q[MTA_STS_SHOW_MAX * 4 + 8];
	char *txt_err = NULL, *ferr = NULL, *dberr = NULL, *reason = NULL;
	struct mta_sts_policy *fresh = NULL;
	struct cache_row row;
	struct dns_rrset rr;
	int valid, tr, rc, refresh, wfail = 0;

	*policy_out = NULL;
	if (from_cache_out != NULL)
		*from_cache_out = 0;
	memset(&row, 0, sizeof(row));
	if (domain_norm(domain, dom) < 0) {
		show(q, sizeof(q), domain ? domain : "",
		    domain ? strlen(domain) : 0);
		set_err(why_out, "\"%s\" is not a valid domain", q);
		return 0;
	}
	rc = cache_read(db, dom, &row, &dberr);
	if (rc < 0) {
		set_err(why_out, "mta_sts_policies: %s", dberr);
		xfree(dberr);
		return rc;
	}
	valid = row.p != NULL && row.p->expires_at > now;

	/* the TXT record on every call (RFC 8461 3.1, 5.1) */
	snprintf(name, sizeof(name), "_mta-sts.%s", dom);
	dns_lookup_rr(r, name, MTA_STS_TXT_TYPE, &rr);
	if (rr.status == DNS_OK)
		tr = mta_sts_txt_parse(&rr, id, &txt_err);
	else if (rr.status == DNS_NXDOMAIN)
		tr = 0;
	else
		tr = -2;
	if (tr <= 0) {
		const char *what = tr == 0 ? "no MTA-STS TXT record" : NULL;

		if (tr == -1)
			set_err(&reason, "invalid MTA-STS TXT record: %s",
			    txt_err);
		else if (tr == -2)
			set_err(&reason, "MTA-STS TXT lookup failed (%s): %s",
			    rr.status == DNS_BOGUS ? "DNSSEC bogus" :
			    "temporary", rr.why);
		else
			set_err(&reason, "%s", what);
		dns_rrset_free(&rr);
		xfree(txt_err);
		if (row.exists)
			wfail = cache_note(db, dom, now, NULL, reason, 0,
			    NULL, &dberr) < 0;
		/* RFC 8461 5.1: no live policy, but a valid cached one */
		if (valid)
			rc = use_cached(&row, reason, policy_out,
			    from_cache_out, why_out);
		else {
			set_err(why_out, "%s", reason);
			rc = 0;
		}
		goto done;
	}
	dns_rrset_free(&rr);

	if (valid && strcmp(row.p->id, id) == 0) {
		refresh = row.p->fetched_at + MTA_STS_REFRESH_SECS <= now;
		if (!refresh || (strcmp(row.failed_id, id) == 0 &&
		    row.failed_at + MTA_STS_RETRY_SECS > now)) {
			wfail = cache_note(db, dom, now, id, NULL, refresh,
			    NULL, &dberr) < 0;
			rc = use_cached(&row, refresh ? "refresh failed "
			    "recently" : NULL, policy_out, from_cache_out,
			    why_out);
			goto done;
		}
	} else if (strcmp(row.failed_id, id) == 0 &&
	    row.failed_at + MTA_STS_RETRY_SECS > now) {
		/* this id failed a moment ago: do not hammer the server */
		char when[32];

		fmt_time(when, sizeof(when), row.failed_at +
		    MTA_STS_RETRY_SECS);
		set_err(&reason, "policy fetch for TXT id=%s failed "
		    "recently; not retried before %s", id, when);
		wfail = cache_note(db, dom, now, id, NULL, 1, NULL,
		    &dberr) < 0;
		if (valid)
			rc = use_cached(&row, reason, policy_out,
			    from_cache_out, why_out);
		else {
			set_err(why_out, "%s", reason);
			rc = 0;
		}
		goto done;
	}

	/* new id, changed id, expired cache, or time to refresh */
	if (mta_sts_fetch(dom, r, ca_file, timeout_secs, &fresh, &ferr) < 0) {
		set_err(&reason, "policy fetch failed for TXT id=%s: %s", id,
		    ferr);
		wfail = cache_note(db, dom, now, NULL, reason, 0, id,
		    &dberr) < 0;
		if (valid)
			rc = use_cached(&row, reason, policy_out,
			    from_cache_out, why_out);
		else {
			set_err(why_out, "%s", reason);
			rc = 0;
		}
		goto done;
	}
	snprintf(fresh->id, sizeof(fresh->id), "%s", id);
	fresh->fetched_at = now;
	fresh->expires_at = now + (time_t)fresh->max_age;
	wfail = cache_store(db, dom, fresh, &dberr) < 0;
	set_err(why_out, "fetched policy id=%s mode=%s max_age=%u (%s)", id,
	    mta_sts_mode_name(fresh->mode), fresh->max_age,
	    row.p == NULL ? "not cached before" :
	    strcmp(row.p->id, id) != 0 ? "TXT id changed" :
	    !valid ? "cached copy expired" : "refresh");
	*policy_out = fresh;
	fresh = NULL;
	rc = 1;
done:
	/* the answer stands without the bookkeeping; say it is missing */
	if (wfail && why_out != NULL && *why_out != NULL) {
		char *w = *why_out;

		*why_out = NULL;
		set_err(why_out, "%s; cache not updated: %s", w,
		    dberr != NULL ? dberr : "database error");
		xfree(w);
	}
	mta_sts_policy_free(&fresh);
	mta_sts_policy_free(&row.p);
	xfree(dberr);
	xfree(ferr);
	xfree(reason);
	return rc;
}
