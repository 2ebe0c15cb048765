/*
 * subject_tag.c - escalation tags in the Subject and X-Sealgate-Escalate
 *
 * Implements: RFC 5322 2.2 and 2.2.3 (fields, unfolding), RFC 2047
 * (encoded words: decoded by GMime; written here, UTF-8, at most 75
 * characters each, never splitting a UTF-8 sequence), RFC 5322 2.1.1
 * (fold at 78 columns).
 * Trust: message bytes from an authenticated submitter, still hostile:
 * every length is capped and no decoded control character reaches a
 * header line (a decoded =0D=0A would otherwise inject a field).
 * Ownership: strings handed out are xalloc'd; GMime's are freed here.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <gmime/gmime.h>

#include "subject_tag.h"
#include "lib/xalloc.h"

struct field {
	size_t start;		/* first byte of the field */
	size_t end;		/* one past its last line's EOL */
	size_t name_len;	/* 0: no colon on the first line */
	size_t val_start;	/* after the colon */
	size_t val_end;		/* before the final EOL */
	const char *eol;	/* "\r\n" or "\n" of the first line */
	int has_eol;		/* the field ends with an EOL */
};

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void
gmime_init_once(void)
{
	g_mime_init();
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* ci_find - first ASCII case-insensitive occurrence of needle, or -1 */
static long
ci_find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	size_t i, j;

	if (nlen == 0 || nlen > hlen)
		return -1;
	for (i = 0; i + nlen <= hlen; i++) {
		for (j = 0; j < nlen; j++)
			if (lower((unsigned char)hay[i + j]) !=
			    lower((unsigned char)needle[j]))
				break;
		if (j == nlen)
			return (long)i;
	}
	return -1;
}

/* line_end - one past the LF ending the line at pos, or len */
static size_t
line_end(const char *msg, size_t len, size_t pos)
{
	const char *lf = memchr(msg + pos, '\n', len - pos);

	return lf == NULL ? len : (size_t)(lf - msg) + 1;
}

/*
 * field_next - the field at *pos: 1 and *f set, 0 at the end of the
 * header section (*pos at the empty line or len), -1 over the cap.
 */
static int
field_next(const char *msg, size_t len, size_t *pos, struct field *f)
{
	size_t p = *pos, e, i;
	const char *colon;

	if (p >= len)
		return 0;
	if (msg[p] == '\n' || (msg[p] == '\r' && p + 1 < len &&
	    msg[p + 1] == '\n'))
		return 0;
	e = line_end(msg, len, p);
	memset(f, 0, sizeof(*f));
	f->start = p;
	f->eol = e >= 2 && msg[e - 1] == '\n' && msg[e - 2] == '\r' ?
	    "\r\n" : (e > p && msg[e - 1] == '\n' ? "\n" : "\r\n");
	colon = memchr(msg + p, ':', e - p);
	/* a first line starting with WSP continues nothing: not a field */
	if (colon != NULL && !is_wsp(msg[p])) {
		i = (size_t)(colon - msg);
		f->val_start = i + 1;
		while (i > p && is_wsp(msg[i - 1]))
			i--;
		f->name_len = i - p;
	}
	while (e < len && is_wsp(msg[e])) {
		if (e > SUBJECT_TAG_HEADER_MAX)
			return -1;
		e = line_end(msg, len, e);
	}
	if (e > SUBJECT_TAG_HEADER_MAX)
		return -1;
	f->end = e;
	f->has_eol = e > p && msg[e - 1] == '\n';
	f->val_end = e;
	if (f->has_eol) {
		f->val_end--;
		if (f->val_end > p && msg[f->val_end - 1] == '\r')
			f->val_end--;
	}
	if (f->name_len == 0)
		f->val_start = f->val_end;
	*pos = e;
	return 1;
}

static int
field_is(const char *msg, const struct field *f, const char *name)
{
	return f->name_len > 0 &&
	    slice_eq_ci(slice_make(msg + f->start, f->name_len), name);
}

/* unfold - the field value without its line breaks, NUL-terminated */
static char *
unfold(const char *msg, const struct field *f, size_t *len_out)
{
	char *s = xmalloc(f->val_end - f->val_start + 1);
	size_t i, n = 0;

	for (i = f->val_start; i < f->val_end; i++) {
		if (msg[i] == '\n')
			continue;
		if (msg[i] == '\r' && i + 1 < f->val_end && msg[i + 1] == '\n')
			continue;
		s[n++] = msg[i];
	}
	s[n] = '\0';
	*len_out = n;
	return s;
}

/* decode_subject - the Subject as UTF-8 (xalloc'd), or NULL if malformed */
static char *
decode_subject(const char *msg, const struct field *f, const char **why)
{
	char *raw, *dec, *res;
	size_t rlen, dlen, i;

	if (f->val_end - f->val_start > SUBJECT_TAG_RAW_MAX * 2) {
		*why = "Subject too long";
		return NULL;
	}
	raw = unfold(msg, f, &rlen);
	/* the space after the colon is syntax, not Subject text */
	for (i = 0; i < rlen && is_wsp(raw[i]); i++)
		;
	memmove(raw, raw + i, rlen - i + 1);
	rlen -= i;
	if (rlen > SUBJECT_TAG_RAW_MAX || memchr(raw, '\0', rlen)) {
		xfree(raw);
		*why = rlen > SUBJECT_TAG_RAW_MAX ? "Subject too long" :
		    "NUL in Subject";
		return NULL;
	}
	pthread_once(&gmime_once, gmime_init_once);
	dec = g_mime_utils_header_decode_text(NULL, raw);
	xfree(raw);
	if (dec == NULL) {
		*why = "Subject cannot be decoded";
		return NULL;
	}
	dlen = strlen(dec);
	if (dlen > SUBJECT_TAG_SUBJECT_MAX || !g_utf8_validate(dec, -1,
	    NULL)) {
		g_free(dec);
		*why = dlen > SUBJECT_TAG_SUBJECT_MAX ?
		    "decoded Subject too long" : "Subject decodes to bad UTF-8";
		return NULL;
	}
	/* leading WSP was cut above; an encoded word may decode to more */
	while (dlen > 0 && is_wsp(dec[dlen - 1]))
		dlen--;
	res = xstrndup(dec, dlen);
	g_free(dec);
	return res;
}

/* core - a tag or header value without surrounding WSP and brackets */
static struct slice
core(const char *s, size_t n)
{
	while (n > 0 && is_wsp(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_wsp(s[n - 1]))
		n--;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	return slice_make(s, n);
}

static int
escalate_matches(const char *val, size_t vlen, const char *tag)
{
	struct slice v = core(val, vlen), t = core(tag, strlen(tag));

	return v.len > 0 && v.len == t.len &&
	    strncasecmp(v.ptr, t.ptr, v.len) == 0;
}

int
subject_tag_find(const char *msg, size_t len, const char *const *tags,
    size_t ntags, size_t *which_out, char **decoded_subject_out)
{
	struct field f;
	size_t pos = 0, i, vlen;
	char *subject = NULL, *val, *hit;
	const char *why;
	int r, found = 0;

	if (decoded_subject_out != NULL)
		*decoded_subject_out = NULL;
	if (msg == NULL && len > 0)
		return -1;
	hit = xcalloc(ntags > 0 ? ntags : 1, 1);
	while ((r = field_next(msg, len, &pos, &f)) == 1) {
		if (subject == NULL && field_is(msg, &f, "Subject")) {
			subject = decode_subject(msg, &f, &why);
			if (subject == NULL) {
				r = -1;
				break;
			}
			for (i = 0; i < ntags; i++)
				if (ci_find(subject, strlen(subject), tags[i],
				    strlen(tags[i])) >= 0)
					hit[i] = 1;
		} else if (field_is(msg, &f, SUBJECT_TAG_ESCALATE)) {
			val = unfold(msg, &f, &vlen);
			for (i = 0; i < ntags; i++)
				if (escalate_matches(val, vlen, tags[i]))
					hit[i] = 1;
			xfree(val);
		}
	}
	if (r < 0) {
		xfree(hit);
		xfree(subject);
		return -1;
	}
	for (i = 0; i < ntags && !found; i++) {
		if (hit[i]) {
			found = 1;
			if (which_out != NULL)
				*which_out = i;
		}
	}
	xfree(hit);
	if (decoded_subject_out != NULL)
		*decoded_subject_out = subject;
	else
		xfree(subject);
	return found;
}

/*
 * clean_subject - controls to spaces, every tag removed, spaces collapsed,
 * trimmed, in place; until stable, since removing "[secure]" from
 * "[sec[secure]ure]" makes a new one. Returns whether a tag was removed.
 */
static int
clean_subject(char *s, const char *tag)
{
	size_t n = strlen(s), tlen = strlen(tag), i, o;
	int removed = 0, changed;
	long at;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	do {
		changed = 0;
		while ((at = ci_find(s, n, tag, tlen)) >= 0) {
			memmove(s + at, s + at + tlen, n - (size_t)at - tlen);
			n -= tlen;
			changed = removed = 1;
		}
		for (i = o = 0; i < n; i++) {
			if (s[i] == ' ' && (o == 0 || s[o - 1] == ' '))
				continue;
			s[o++] = s[i];
		}
		while (o > 0 && s[o - 1] == ' ')
			o--;
		if (o != n)
			changed = 1;
		n = o;
		s[n] = '\0';
	} while (changed && n > 0);
	return removed;
}

/* word_plain - may this word be written as is? */
static int
word_plain(const char *w, size_t n)
{
	size_t i;

	/* longer words are encoded so that they can be split and folded */
	if (n > 70)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)w[i] < 0x21 || (unsigned char)w[i] > 0x7e)
			return 0;
		/* would read as (part of) an encoded word */
		if (i + 1 < n && ((w[i] == '=' && w[i + 1] == '?') ||
		    (w[i] == '?' && w[i + 1] == '=')))
			return 0;
	}
	return 1;
}

/* ways to write a Subject, tried in this order until one decodes back */
enum {
	SUBJECT_WRITE_MIXED,	/* plain words plain, the rest encoded */
	SUBJECT_WRITE_ALL,	/* everything encoded */
	SUBJECT_WRITE_Q,	/* everything encoded, Q only */
};

static int
q_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	    c == '-' || c == '/' || c == ' ';
}

static size_t
utf8_seq(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	return k > n ? n : k;
}

/* q_append - one byte in Q encoding (RFC 2047 4.2) */
static int
q_append(struct buf *toks, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = { '=', hex[c >> 4], hex[c & 15] };

	if (c == ' ')
		return buf_append_char(toks, '_');
	if (q_safe(c))
		return buf_append_char(toks, (char)c);
	return buf_append(toks, e, 3);
}

/*
 * chunk_end - where the next encoded word starting at s[i] ends: whole
 * UTF-8 sequences only, within the payload. A B chunk other than the last
 * must be a multiple of 3 bytes: GMime joins adjacent encoded words of
 * one charset before decoding, and base64 padding mid-way loses the rest.
 * Returns i when no such B chunk exists.
 */
static size_t
chunk_end(const char *s, size_t n, size_t i, int b)
{
	/* 75 = "=?UTF-8?X?" + payload + "?=" (RFC 2047 section 2) */
	const size_t payload = 75 - 12, bmax = payload / 4 * 3;
	size_t j, k, m, cost, used = 0, best = i;

	for (j = i; j < n; j += k) {
		k = utf8_seq(s + j, n - j);
		cost = k;
		if (!b)
			for (cost = 0, m = 0; m < k; m++)
				cost += q_safe((unsigned char)s[j + m]) ? 1 : 3;
		if (used + cost > (b ? bmax : payload))
			break;
		used += cost;
		if (!b || (j + k - i) % 3 == 0 || j + k == n)
			best = j + k;
	}
	return best;
}

/* tokens_encode - append encoded words for s[0..n) to toks, NUL-separated;
 * q_only: never B */
static int
tokens_encode(struct buf *toks, const char *s, size_t n, int q_only)
{
	size_t i = 0, j, k, hi = 0;
	int b, r;
	gchar *b64;

	for (j = 0; j < n; j++)
		hi += (unsigned char)s[j] >= 0x80;
	while (i < n) {
		/* B when mostly non-ASCII (CJK), Q when mostly readable */
		b = !q_only && hi * 2 > n;
		j = chunk_end(s, n, i, b);
		if (j == i) {
			b = 0;
			j = chunk_end(s, n, i, b);
		}
		if (j == i)	/* one character over the payload: not UTF-8 */
			return -1;
		if (buf_append_str(toks, b ? "=?UTF-8?B?" : "=?UTF-8?Q?") < 0)
			return -1;
		if (b) {
			b64 = g_base64_encode((const guchar *)s + i, j - i);
			r = buf_append_str(toks, b64);
			g_free(b64);
			if (r < 0)
				return -1;
		} else {
			for (k = i; k < j; k++)
				if (q_append(toks, (unsigned char)s[k]) < 0)
					return -1;
		}
		if (buf_append(toks, "?=", 3) < 0)	/* with the NUL */
			return -1;
		i = j;
	}
	return 0;
}

/*
 * tokens_make - s as NUL-separated tokens in toks: plain words, and runs
 * of words that need encoding, each run encoded as one piece (its inner
 * spaces inside the encoded text, since space between encoded words is
 * ignored on decoding).
 */
static int
tokens_make(struct buf *toks, const char *s, int mode)
{
	size_t n = strlen(s), i = 0, j, run = 0, run_end = 0;
	int in_run = 0;

	while (i < n) {
		j = i;
		while (j < n && s[j] != ' ')
			j++;
		if (mode == SUBJECT_WRITE_MIXED && word_plain(s + i, j - i)) {
			if (in_run && tokens_encode(toks, s + run,
			    run_end - run, mode == SUBJECT_WRITE_Q) < 0)
				return -1;
			in_run = 0;
			if (buf_append(toks, s + i, j - i) < 0 ||
			    buf_append_char(toks, '\0') < 0)
				return -1;
		} else {
			if (!in_run)
				run = i;
			in_run = 1;
			run_end = j;
		}
		i = j + 1;
	}
	if (in_run && tokens_encode(toks, s + run, run_end - run,
	    mode == SUBJECT_WRITE_Q) < 0)
		return -1;
	return 0;
}

/* subject_write - the folded field for s into out; -1 if it would not
 * decode back to s */
static int
subject_write(struct buf *out, const char *name, size_t name_len,
    const char *s, const char *eol, int mode)
{
	struct buf toks, val;
	size_t i, tlen, col;
	const char *t;
	char *dec;
	int ok;

	buf_init(&toks, SUBJECT_TAG_SUBJECT_MAX * 4);
	buf_init(&val, SUBJECT_TAG_SUBJECT_MAX * 4);
	if (tokens_make(&toks, s, mode) < 0 ||
	    buf_append(out, name, name_len) < 0 ||
	    buf_append_char(out, ':') < 0)
		goto fail;
	col = name_len + 1;
	for (i = 0; i < toks.len; i += tlen + 1) {
		t = toks.data + i;
		tlen = strlen(t);
		if (col + 1 + tlen > SUBJECT_TAG_FOLD) {
			if (buf_append_str(out, eol) < 0)
				goto fail;
			col = 0;
		}
		if (buf_append_char(out, ' ') < 0 ||
		    buf_append(out, t, tlen) < 0 ||
		    (val.len > 0 && buf_append_char(&val, ' ') < 0) ||
		    buf_append(&val, t, tlen) < 0)
			goto fail;
		col += 1 + tlen;
	}
	dec = g_mime_utils_header_decode_text(NULL, buf_cstr(&val));
	ok = dec != NULL && strcmp(dec, s) == 0;
	g_free(dec);
	buf_free(&toks);
	buf_free(&val);
	return ok ? 0 : -1;
fail:
	buf_free(&toks);
	buf_free(&val);
	return -1;
}

static int
strip_fail(char **err_out, const char *why)
{
	if (err_out != NULL)
		*err_out = xstrdup(why);
	return -1;
}

int
subject_tag_strip(const char *msg, size_t len, const char *tag,
    struct buf *out, char **err_out)
{
	struct buf tmp, field;
	struct field f;
	size_t pos = 0;
	char *subject;
	const char *why = "header section too long";
	int r, mode, seen = 0;

	if (err_out != NULL)
		*err_out = NULL;
	if (tag == NULL || tag[0] == '\0')
		return strip_fail(err_out, "empty tag");
	if (msg == NULL && len > 0)
		return strip_fail(err_out, "no message");
	buf_init(&tmp, out->max);
	while ((r = field_next(msg, len, &pos, &f)) == 1) {
		if (field_is(msg, &f, SUBJECT_TAG_ESCALATE))
			continue;
		if (seen || !field_is(msg, &f, "Subject")) {
			if (buf_append(&tmp, msg + f.start, f.end - f.start) < 0)
				goto toolong;
			continue;
		}
		seen = 1;
		subject = decode_subject(msg, &f, &why);
		if (subject == NULL) {
			r = -1;
			break;
		}
		if (!clean_subject(subject, tag)) {
			xfree(subject);
			if (buf_append(&tmp, msg + f.start, f.end - f.start) < 0)
				goto toolong;
			continue;
		}
		buf_init(&field, SUBJECT_TAG_SUBJECT_MAX * 8);
		r = -1;
		for (mode = SUBJECT_WRITE_MIXED; r < 0 &&
		    mode <= SUBJECT_WRITE_Q; mode++) {
			buf_reset(&field);
			r = subject_write(&field, msg + f.start, f.name_len,
			    subject, f.eol, mode);
		}
		xfree(subject);
		if (r < 0) {
			buf_free(&field);
			why = "Subject cannot be re-encoded";
			break;
		}
		if (buf_append(&tmp, field.data, field.len) < 0 ||
		    (f.has_eol && buf_append_str(&tmp, f.eol) < 0)) {
			buf_free(&field);
			goto toolong;
		}
		buf_free(&field);
	}
	if (r < 0) {
		buf_free(&tmp);
		return strip_fail(err_out, why);
	}
	if (buf_append(&tmp, msg + pos, len - pos) < 0 ||
	    buf_append(out, tmp.data, tmp.len) < 0)
		goto toolong;
	buf_free(&tmp);
	return 0;
toolong:
	buf_free(&tmp);
	return strip_fail(err_out, "output over the buffer maximum");
}
