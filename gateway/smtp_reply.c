/*
 * smtp_reply.c - bounded, incremental SMTP reply parser.
 *
 * Implements: RFC 5321 4.2 (reply lines), 4.5.3.1.5 (reply line length),
 * RFC 3463 / RFC 2034 (enhanced status code on the first line).
 * Trust: bytes straight from a remote MX; no I/O and no logging here.
 * Ownership: the returned reply lives in the parser; valid until the next
 * call.
 */
#include <string.h>
#include <strings.h>

#include "lib/sg_limits.h"
#include "lib/xalloc.h"
#include "smtp_reply.h"

struct smtp_reply_parser {
	char line[SG_SMTP_REPLY_LINE_MAX];
	size_t llen;
	struct smtp_reply cur;
	int in_reply;			/* a continuation line was seen */
	int text_full;			/* a line did not fit: keep the prefix */
};

struct smtp_reply_parser *
smtp_reply_parser_new(void)
{
	struct smtp_reply_parser *p = xcalloc(1, sizeof(*p));

	buf_init(&p->cur.text, SMTP_REPLY_TEXT_MAX);
	return p;
}

void
smtp_reply_parser_free(struct smtp_reply_parser **pp)
{
	if (*pp == NULL)
		return;
	buf_free(&(*pp)->cur.text);
	xfree(*pp);
	*pp = NULL;
}

size_t
smtp_reply_discard(struct smtp_reply_parser *p)
{
	size_t n = p->llen;

	p->llen = 0;
	p->in_reply = 0;
	return n;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* enhanced_code - "x.y.z " at the start of text (RFC 3463): class one
 * digit and the same as the reply's ("250 5.1.1" is not believed),
 * subject and detail 1-3 digits */
static void
enhanced_code(int code, const char *t, size_t n, char *out, size_t outsz)
{
	size_t i = 0, parts = 0, start;

	out[0] = '\0';
	if (n == 0 || (t[0] != '2' && t[0] != '4' && t[0] != '5') ||
	    t[0] - '0' != code / 100)
		return;
	for (;;) {
		start = i;
		while (i < n && is_digit(t[i]) && i - start < (parts ? 3 : 1))
			i++;
		if (i == start)
			return;
		parts++;
		if (parts == 3)
			break;
		if (i >= n || t[i] != '.')
			return;
		i++;
	}
	if (i < n && t[i] != ' ')
		return;
	if (i < outsz) {
		memcpy(out, t, i);
		out[i] = '\0';
	}
}

/* take_line - one complete line (without CRLF) into the reply */
static int
take_line(struct smtp_reply_parser *p, const char *l, size_t n,
    enum smtp_reply_err *err_out)
{
	int code;
	char sep;

	if (n < 3 || !is_digit(l[0]) || !is_digit(l[1]) || !is_digit(l[2]) ||
	    l[0] < '2' || l[0] > '5' || (n > 3 && l[3] != ' ' && l[3] != '-')) {
		*err_out = SMTP_REPLY_E_SYNTAX;
		return -1;
	}
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	sep = n > 3 ? l[3] : ' ';
	if (!p->in_reply) {
		buf_reset(&p->cur.text);
		p->text_full = 0;
		p->cur.code = code;
		p->cur.nlines = 0;
		p->cur.enhanced[0] = '\0';
	} else if (code != p->cur.code) {
		*err_out = SMTP_REPLY_E_CODE_CHANGED;
		return -1;
	}
	if (++p->cur.nlines > SMTP_REPLY_LINES_MAX) {
		*err_out = SMTP_REPLY_E_TOO_MANY;
		return -1;
	}
	/*
	 * Past the text cap whole lines are dropped, and every line after
	 * the first one dropped too: the text is always a prefix of the
	 * reply, so no later line (an EHLO keyword) is seen without the
	 * ones before it, and no line is ever cut in two.
	 */
	if (!p->text_full) {
		size_t mark = p->cur.text.len;
		int bad = 0;

		if (p->cur.nlines > 1)
			bad = buf_append_char(&p->cur.text, '\n') < 0;
		if (!bad && n > 4)
			bad = buf_append(&p->cur.text, l + 4, n - 4) < 0;
		if (bad) {
			p->text_full = 1;
			p->cur.text.len = mark;
			if (p->cur.text.data != NULL)
				p->cur.text.data[mark] = '\0';
		}
	}
	if (p->cur.nlines == 1 && n > 4)
		enhanced_code(code, l + 4, n - 4, p->cur.enhanced,
		    sizeof(p->cur.enhanced));
	if (sep == '-') {
		p->in_reply = 1;
		return 0;
	}
	p->in_reply = 0;
	return 1;
}

int
smtp_reply_next(struct smtp_reply_parser *p, const char *in, size_t len,
    size_t *used_out, const struct smtp_reply **out,
    enum smtp_reply_err *err_out)
{
	size_t i = 0;

	*err_out = SMTP_REPLY_E_NONE;
	while (i < len) {
		const char *lf = memchr(in + i, '\n', len - i);
		size_t take = lf ? (size_t)(lf - (in + i)) + 1 : len - i;
		size_t n;
		int r;

		if (p->llen + take > sizeof(p->line)) {
			*used_out = i + take;
			*err_out = SMTP_REPLY_E_TOO_LONG;
			return -1;
		}
		memcpy(p->line + p->llen, in + i, take);
		p->llen += take;
		i += take;
		if (lf == NULL)
			break;
		n = p->llen - 1;		/* drop LF */
		if (n > 0 && p->line[n - 1] == '\r')
			n--;
		if (memchr(p->line, '\0', n) != NULL) {
			*used_out = i;
			*err_out = SMTP_REPLY_E_SYNTAX;
			return -1;
		}
		r = take_line(p, p->line, n, err_out);
		p->llen = 0;
		if (r < 0) {
			*used_out = i;
			return -1;
		}
		if (r == 1) {
			*used_out = i;
			*out = &p->cur;
			return 1;
		}
	}
	*used_out = i;
	return 0;
}

int
smtp_reply_ext(const struct smtp_reply *r, const char *kw,
    struct slice *param_out)
{
	const char *t = buf_cstr(&r->text), *end = t + r->text.len;
	size_t kl = strlen(kw);
	int first = 1;

	while (t < end) {
		const char *nl = memchr(t, '\n', (size_t)(end - t));
		size_t ll = nl ? (size_t)(nl - t) : (size_t)(end - t);
		/* the first line is the server's greeting name, not a keyword */
		if (!first && kl > 0 && ll >= kl &&
		    strncasecmp(t, kw, kl) == 0 &&
		    (ll == kl || t[kl] == ' ' || t[kl] == '=')) {
			if (param_out != NULL)
				*param_out = ll == kl ? SLICE_EMPTY :
				    slice_make(t + kl + 1, ll - kl - 1);
			return 1;
		}
		first = 0;
		t += ll + (nl ? 1 : 0);
	}
	return 0;
}

int
smtp_reply_has_ext(const struct smtp_reply *r, const char *kw,
    const char **param_out)
{
	struct slice s;

	if (!smtp_reply_ext(r, kw, &s))
		return 0;
	if (param_out != NULL)
		*param_out = s.ptr;
	return 1;
}
