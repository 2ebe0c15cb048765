/*
 * escrow.c - the escrow store: deposit (seal, rows, notification mail),
 * purge, and the notification builder.
 *
 * Implements: docs/portal.md "Deposit", "Recall, expiry, audit";
 * RFC 5322 (header fields, 2.1.1 line length, 3.6.4 Message-ID),
 * RFC 2045 6.7 (quoted-printable), RFC 2046 5.1.4 (multipart/
 * alternative), RFC 2047 (encoded words), RFC 3834 (Auto-Submitted).
 * Trust: the message, its Subject and From come from an authenticated
 * submitter, still hostile: they reach the notification only as
 * template values (escaped per context by tmpl.c), cut to fixed sizes,
 * and never as header text without encoding. The message content is
 * written to the database only sealed; enrollment tokens only hashed.
 * Ownership: strings handed out are xalloc'd (xfree()); tokens and the
 * notification (which holds the link) are wiped after use.
 * Never logs: the caller logs the reason it is given.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gmime/gmime.h>
#include <openssl/crypto.h>

#include "config.h"
#include "escrow.h"
#include "escrow_db.h"
#include "seal.h"
#include "subject_tag.h"
#include "tmpl.h"
#include "token.h"
#include "lib/b64.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/queue_id.h"
#include "lib/xalloc.h"

#define ESCROW_ERR_MAX		2048
#define ESCROW_HDR_SECTION_MAX	(1024 * 1024)	/* scanned for From */
#define ESCROW_HDR_VALUE_MAX	(64 * 1024)	/* one unfolded field */
#define ESCROW_ADDR_MAX		512		/* addresses, message ids */
#define ESCROW_FOLD		78		/* RFC 5322 2.1.1 SHOULD */
#define ESCROW_WORD_MAX		900		/* longer: encode instead */
#define ESCROW_EW_CHUNK		42	/* bytes per encoded word: 56 base64
					 * chars + 12 = 68, under 75 */
#define ESCROW_QP_LINE		76		/* RFC 2045 6.7 (5) */
#define ESCROW_HELO		"sealgate-escrow"	/* queue show */

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void
gmime_init_once(void)
{
	g_mime_init();
}

static char *
msgf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
msgf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	char *s;

	buf_init(&b, ESCROW_ERR_MAX);
	va_start(ap, fmt);
	(void)buf_vprintf(&b, fmt, ap);
	va_end(ap);
	s = buf_steal(&b, NULL);
	return s != NULL ? s : xstrdup("out of memory");
}

static void
set_err(char **err_out, char *msg)
{
	if (err_out != NULL)
		*err_out = msg;
	else
		xfree(msg);
}

/* ---------------------------------------------------------------- pure */

void
escrow_time_text(long long t, char out[ESCROW_TIME_TEXT_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, ESCROW_TIME_TEXT_MAX, "%Y-%m-%d %H:%M UTC",
	    &tm) == 0)
		snprintf(out, ESCROW_TIME_TEXT_MAX, "?");
}

/* rfc5322_date - "Tue, 01 Jan 2030 00:00:00 +0000" */
static void
rfc5322_date(long long t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		snprintf(out, outsz, "Thu, 01 Jan 1970 00:00:00 +0000");
}

/*
 * clean_line - s as well-formed UTF-8 on one line: ill-formed bytes as
 * U+FFFD, every control character (CR, LF, tab included) a space, runs
 * of spaces collapsed, trimmed. New string.
 */
static char *
clean_line(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;
	struct buf b;
	int space = 1, r = 0;
	char *res;

	buf_init(&b, len * 3 + 1);
	while (i < len) {
		n = utf8_seq_len(p + i, len - i);
		if (n == 0) {
			r |= buf_append_str(&b, "\xef\xbf\xbd");
			space = 0;
			i++;
			continue;
		}
		/* C1 controls U+0080..U+009F are C2 80..C2 9F */
		if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f || p[i] == ' ')) {
			if (!space)
				r |= buf_append_char(&b, ' ');
			space = 1;
		} else if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			if (!space)
				r |= buf_append_char(&b, ' ');
			space = 1;
		} else {
			r |= buf_append(&b, p + i, n);
			space = 0;
		}
		i += n;
	}
	if (b.len > 0 && b.data[b.len - 1] == ' ') {
		b.len--;
		b.data[b.len] = '\0';
	}
	res = buf_steal(&b, NULL);
	(void)r;	/* cannot fill: the maximum is three bytes per byte */
	return res != NULL ? res : xstrdup("");
}

/* cut_utf8 - s (well-formed UTF-8) cut to at most max bytes at a
 * character boundary, "..." appended when cut. New string. */
static char *
cut_utf8(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;

	if (len <= max)
		return xstrdup(s);
	while (i < len) {
		n = utf8_seq_len(p + i, len - i);
		if (n == 0)
			n = 1;
		if (i + n > max - 3)
			break;
		i += n;
	}
	while (i > 0 && s[i - 1] == ' ')
		i--;
	return xasprintf("%.*s...", (int)i, s);
}

/* utf8_ok - well-formed UTF-8 */
static int
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;

	while (i < len) {
		n = utf8_seq_len(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* plain_ascii - printable ASCII with nothing a reader would decode */
static int
plain_ascii(const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return 0;
	return strstr(s, "=?") == NULL;
}

/* encoded_words - s as UTF-8 B encoded words, ESCROW_EW_CHUNK bytes each
 * at most, never splitting a character, separated by sep */
static int
encoded_words(struct buf *out, const char *s, const char *sep)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, start, n;
	int r = 0;

	while (i < len) {
		start = i;
		while (i < len) {
			n = utf8_seq_len(p + i, len - i);
			if (n == 0)
				n = 1;	/* cleaned before: cannot happen */
			if (i - start + n > ESCROW_EW_CHUNK)
				break;
			i += n;
		}
		if (start > 0)
			r |= buf_append_str(out, sep);
		r |= buf_append_str(out, "=?UTF-8?B?");
		r |= b64_encode(p + start, i - start, out);
		r |= buf_append_str(out, "?=");
	}
	return r ? -1 : 0;
}

int
escrow_header_append(struct buf *out, const char *name, const char *utf8)
{
	char *v = clean_line(utf8 != NULL ? utf8 : "");
	size_t saved = out->len, col, i, j, n = strlen(v), word = 0;
	int r = 0, encode;

	encode = !plain_ascii(v);
	for (i = 0; i < n && !encode; i++) {
		word = v[i] == ' ' ? 0 : word + 1;
		if (word > ESCROW_WORD_MAX)
			encode = 1;
	}
	r |= buf_printf(out, "%s:", name);
	col = strlen(name) + 1;
	if (n == 0) {
		r |= buf_append_str(out, "\r\n");
	} else if (encode) {
		r |= buf_append_char(out, ' ');
		r |= encoded_words(out, v, "\r\n ");
		r |= buf_append_str(out, "\r\n");
	} else {
		r |= buf_append_char(out, ' ');
		col++;
		/* fold only before a space, which unfolding keeps */
		for (i = 0; i < n; i = j) {
			j = i;
			if (v[j] == ' ')
				j++;
			while (j < n && v[j] != ' ')
				j++;
			if (v[i] == ' ' && col + (j - i) > ESCROW_FOLD) {
				r |= buf_append_str(out, "\r\n");
				col = 0;
			}
			r |= buf_append(out, v + i, j - i);
			col += j - i;
		}
		r |= buf_append_str(out, "\r\n");
	}
	xfree(v);
	if (r) {
		out->len = saved;
		if (out->data != NULL)
			out->data[saved] = '\0';
		return -1;
	}
	return 0;
}

/* phrase_append - a display name: quoted-string, or encoded words */
static int
phrase_append(struct buf *out, const char *utf8)
{
	char *v = clean_line(utf8);
	const char *p;
	int r = 0;

	if (plain_ascii(v)) {
		r |= buf_append_char(out, '"');
		for (p = v; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				r |= buf_append_char(out, '\\');
			r |= buf_append_char(out, *p);
		}
		r |= buf_append_char(out, '"');
	} else {
		r |= encoded_words(out, v, "\r\n ");
	}
	xfree(v);
	return r ? -1 : 0;
}

/* qp_append - data as quoted-printable (RFC 2045 6.7), CRLF lines of at
 * most 76 characters; '\n' and CRLF both end a line */
static int
qp_append(struct buf *out, const char *data, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, col = 0;
	int r = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		char tok[4];
		size_t tl;
		int eol;

		if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		if (c == '\n') {
			r |= buf_append_str(out, "\r\n");
			col = 0;
			continue;
		}
		eol = i + 1 == len || data[i + 1] == '\n' ||
		    (data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n');
		/* trailing blanks would be stripped in transit (6.7 (3)) */
		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !eol)) {
			tok[0] = (char)c;
			tl = 1;
		} else {
			tok[0] = '=';
			tok[1] = hex[c >> 4];
			tok[2] = hex[c & 15];
			tl = 3;
		}
		/* a soft break "=" takes the 76th column */
		if (col + tl > ESCROW_QP_LINE - 1) {
			r |= buf_append_str(out, "=\r\n");
			col = 0;
		}
		r |= buf_append(out, tok, tl);
		col += tl;
	}
	if (col > 0)
		r |= buf_append_str(out, "\r\n");
	return r ? -1 : 0;
}

/* addr_ok - an address or message id we can put in <...> as is */
static int
addr_ok(const char *s, int want_at)
{
	const unsigned char *p;

	if (s == NULL || s[0] == '\0' || strlen(s) > ESCROW_ADDR_MAX)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			return 0;
	return !want_at || strchr(s, '@') != NULL;
}

/* msgid_ok - "<...>" with no blanks, controls or inner angles */
static int
msgid_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 3 || n > ESCROW_ADDR_MAX || s[0] != '<' || s[n - 1] != '>')
		return 0;
	for (i = 1; i + 1 < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f ||
		    s[i] == '<' || s[i] == '>')
			return 0;
	return 1;
}

static int
seed_ok(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-");
	return n > 0 && n == strlen(s) && n <= ESCROW_BOUNDARY_MAX;
}

int
escrow_mail_build(const struct escrow_mail *m, struct buf *out,
    char **err_out)
{
	char date[64], boundary[ESCROW_BOUNDARY_MAX + 16];
	size_t saved = out->len;
	int r = 0;

	if (!addr_ok(m->from_addr, 1) || !addr_ok(m->to_addr, 1)) {
		set_err(err_out, xstrdup("mail: From or To address is empty, "
		    "too long, or holds control characters or <>"));
		return -1;
	}
	if (!addr_ok(m->message_id, 1) || strchr(m->message_id, ' ') != NULL) {
		set_err(err_out, xstrdup("mail: bad Message-ID"));
		return -1;
	}
	if (m->in_reply_to != NULL && !msgid_ok(m->in_reply_to)) {
		set_err(err_out, xstrdup("mail: bad In-Reply-To"));
		return -1;
	}
	if (!seed_ok(m->boundary_seed)) {
		set_err(err_out, xstrdup("mail: bad boundary seed"));
		return -1;
	}
	if (m->text == NULL) {
		set_err(err_out, xstrdup("mail: no text part"));
		return -1;
	}
	rfc5322_date(m->date, date, sizeof(date));
	snprintf(boundary, sizeof(boundary), "=_sg_%s", m->boundary_seed);

	r |= buf_append_str(out, "From: ");
	if (m->from_name != NULL && m->from_name[0] != '\0') {
		r |= phrase_append(out, m->from_name);
		r |= buf_append_char(out, ' ');
	}
	r |= buf_printf(out, "<%s>\r\nTo: ", m->from_addr);
	if (m->to_name != NULL && m->to_name[0] != '\0') {
		r |= phrase_append(out, m->to_name);
		r |= buf_append_char(out, ' ');
	}
	r |= buf_printf(out, "<%s>\r\n", m->to_addr);
	r |= escrow_header_append(out, "Subject", m->subject);
	r |= buf_printf(out, "Date: %s\r\nMessage-ID: <%s>\r\n", date,
	    m->message_id);
	if (m->in_reply_to != NULL)
		r |= buf_printf(out, "In-Reply-To: %s\r\nReferences: %s\r\n",
		    m->in_reply_to, m->in_reply_to);
	r |= buf_append_str(out, "MIME-Version: 1.0\r\n");
	if (m->auto_generated)
		r |= buf_append_str(out, "Auto-Submitted: auto-generated\r\n"
		    "X-Auto-Response-Suppress: All\r\n");
	if (m->mark)
		r |= buf_append_str(out, ESCROW_MARK_HEADER ": "
		    ESCROW_MARK_VALUE "\r\n");
	if (m->html == NULL) {
		r |= buf_append_str(out, "Content-Type: text/plain; "
		    "charset=utf-8\r\nContent-Transfer-Encoding: "
		    "quoted-printable\r\n\r\n");
		r |= qp_append(out, m->text, m->text_len);
	} else {
		r |= buf_printf(out, "Content-Type: multipart/alternative;\r\n"
		    "\tboundary=\"%s\"\r\n\r\nThis is a message in MIME "
		    "format.\r\n\r\n--%s\r\nContent-Type: text/plain; "
		    "charset=utf-8\r\nContent-Transfer-Encoding: "
		    "quoted-printable\r\n\r\n", boundary, boundary);
		r |= qp_append(out, m->text, m->text_len);
		r |= buf_printf(out, "\r\n--%s\r\nContent-Type: text/html; "
		    "charset=utf-8\r\nContent-Transfer-Encoding: "
		    "quoted-printable\r\n\r\n", boundary);
		r |= qp_append(out, m->html, m->html_len);
		r |= buf_printf(out, "\r\n--%s--\r\n", boundary);
	}
	if (r) {
		out->len = saved;
		if (out->data != NULL)
			out->data[saved] = '\0';
		set_err(err_out, xstrdup("mail: larger than the buffer allows"));
		return -1;
	}
	return 0;
}

/* url_ok - https://, printable, nothing that ends an attribute */
static int
url_ok(const char *s)
{
	const unsigned char *p;

	if (s == NULL || strncmp(s, "https://", 8) != 0 || s[8] == '\0' ||
	    s[8] == '/' || strlen(s) > 2000)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("\"'<>\\`", *p) != NULL)
			return 0;
	return 1;
}

/* color_ok - "#rrggbb": it lands in style attributes */
static int
color_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] != '#' || strlen(s) != 7)
		return 0;
	for (i = 1; i < 7; i++)
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return 0;
	return 1;
}

/* render - one template into a new string; 0 / -1 (err_out) */
static int
render(const char *label, const char *t, enum tmpl_ctx ctx,
    const struct tmpl_vars *v, struct buf *out, char **err_out)
{
	char *e = NULL;

	buf_init(out, ESCROW_MAIL_MAX);
	if (t == NULL) {
		set_err(err_out, msgf("notification: no %s template", label));
		return -1;
	}
	if (tmpl_render(t, strlen(t), ctx, v, out, &e) < 0) {
		set_err(err_out, msgf("notification: %s template: %s", label,
		    e != NULL ? e : "?"));
		xfree(e);
		buf_free_secure(out);
		return -1;
	}
	return 0;
}

int
escrow_notify_build(const struct escrow_notify *n, struct buf *out,
    char **err_out)
{
	struct tmpl_vars *v;
	struct buf subj, text, html;
	struct escrow_mail m;
	char *name = NULL, *subject = NULL;
	int r = -1, ok = 1;

	buf_init(&subj, 1);
	buf_init(&text, 1);
	buf_init(&html, 1);
	if (n->sender_address == NULL || n->expires == NULL ||
	    n->org_name == NULL || n->org_name[0] == '\0') {
		set_err(err_out, xstrdup("notification: sender, expiry or "
		    "organization name missing"));
		return -1;
	}
	if (!url_ok(n->link)) {
		set_err(err_out, xstrdup("notification: the link is not an "
		    "https:// URL"));
		return -1;
	}
	if (n->logo_url != NULL && n->logo_url[0] != '\0' &&
	    !url_ok(n->logo_url)) {
		set_err(err_out, xstrdup("notification: logo URL is not "
		    "https://"));
		return -1;
	}
	if (!color_ok(n->color_accent) || !color_ok(n->color_accent_text)) {
		set_err(err_out, xstrdup("notification: colours must be "
		    "#rrggbb"));
		return -1;
	}
	if (n->sender_name != NULL && n->sender_name[0] != '\0') {
		char *c = clean_line(n->sender_name);
		name = cut_utf8(c, ESCROW_NAME_MAX);
		xfree(c);
	}
	if (n->subject != NULL && n->subject[0] != '\0') {
		char *c = clean_line(n->subject);
		subject = cut_utf8(c, ESCROW_SUBJECT_MAX);
		xfree(c);
	}
	v = tmpl_vars_new();
	ok &= tmpl_set(v, "sender_address", n->sender_address[0] != '\0' ?
	    n->sender_address : "<>") == 0;
	if (name != NULL && name[0] != '\0')
		ok &= tmpl_set(v, "sender_name", name) == 0;
	if (subject != NULL && subject[0] != '\0')
		ok &= tmpl_set(v, "subject", subject) == 0;
	ok &= tmpl_set(v, "expires", n->expires) == 0;
	ok &= tmpl_set(v, "link", n->link) == 0;
	if (n->enroll)
		ok &= tmpl_set(v, "enroll", "yes") == 0;
	if (n->recipient != NULL && n->recipient[0] != '\0')
		ok &= tmpl_set(v, "recipient", n->recipient) == 0;
	ok &= tmpl_set(v, "org_name", n->org_name) == 0;
	if (n->support != NULL && n->support[0] != '\0')
		ok &= tmpl_set(v, "support", n->support) == 0;
	if (n->logo_url != NULL && n->logo_url[0] != '\0')
		ok &= tmpl_set(v, "logo_url", n->logo_url) == 0;
	ok &= tmpl_set(v, "color_accent", n->color_accent) == 0;
	ok &= tmpl_set(v, "color_accent_text", n->color_accent_text) == 0;
	if (!ok) {
		set_err(err_out, xstrdup("notification: a value was refused"));
		goto out;
	}
	if (render("subject", n->tmpl_subject, TMPL_HEADER, v, &subj,
	    err_out) < 0 ||
	    render("text", n->tmpl_text, TMPL_TEXT, v, &text, err_out) < 0 ||
	    render("html", n->tmpl_html, TMPL_HTML, v, &html, err_out) < 0)
		goto out;
	memset(&m, 0, sizeof(m));
	m.from_addr = n->from_addr;
	m.from_name = n->org_name;
	m.to_addr = n->to_addr;
	m.subject = buf_cstr(&subj);
	m.text = buf_cstr(&text);
	m.text_len = text.len;
	m.html = buf_cstr(&html);
	m.html_len = html.len;
	m.message_id = n->message_id;
	m.boundary_seed = n->boundary_seed;
	m.date = n->date;
	m.auto_generated = 1;
	m.mark = 1;
	r = escrow_mail_build(&m, out, err_out);
out:
	tmpl_vars_free(&v);
	/* the text and HTML parts hold the link */
	buf_free_secure(&subj);
	buf_free_secure(&text);
	buf_free_secure(&html);
	xfree(name);
	xfree(subject);
	return r;
}

/* ------------------------------------------------------- configuration */

char *
escrow_master_path(const struct sg_config *cfg)
{
	if (cfg->escrow_master_key_file != NULL)
		return xstrdup(cfg->escrow_master_key_file);
	return xasprintf("%s/escrow.key", cfg->state_dir);
}

struct seal_master *
escrow_master_load(const struct sg_config *cfg, char **err_out)
{
	char *path = escrow_master_path(cfg);
	struct seal_master *m;

	m = seal_master_load(path, err_out);
	xfree(path);
	return m;
}

char *
escrow_portal_url(const struct sg_config *cfg)
{
	size_t n;

	if (cfg->portal_url != NULL && cfg->portal_url[0] != '\0') {
		n = strlen(cfg->portal_url);
		while (n > 0 && cfg->portal_url[n - 1] == '/')
			n--;
		return xstrndup(cfg->portal_url, n);
	}
	if (cfg->nportal_listen == 0 ||
	    strcmp(cfg->portal_listen[0].port, "443") == 0)
		return xasprintf("https://%s", cfg->hostname);
	return xasprintf("https://%s:%s", cfg->hostname,
	    cfg->portal_listen[0].port);
}

char *
escrow_from_address(const struct sg_config *cfg)
{
	if (cfg->escrow_from != NULL && cfg->escrow_from[0] != '\0')
		return xstrdup(cfg->escrow_from);
	return xasprintf("secure-mail@%s", cfg->hostname);
}

const char *
escrow_org_name(const struct sg_config *cfg)
{
	if (cfg->escrow_org_name != NULL && cfg->escrow_org_name[0] != '\0')
		return cfg->escrow_org_name;
	return cfg->hostname;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 0;
}

/* accent_text - black or white, whichever contrasts more with color
 * (WCAG relative luminance, gamma approximated by squaring) */
static const char *
accent_text(const char *color)
{
	double l = 0, w[3] = { 0.2126, 0.7152, 0.0722 }, c;
	int i;

	if (!color_ok(color))
		return "#ffffff";
	for (i = 0; i < 3; i++) {
		c = (hexval(color[1 + 2 * i]) * 16 +
		    hexval(color[2 + 2 * i])) / 255.0;
		l += w[i] * c * c;
	}
	/* equal contrast against black and white at l = 0.179 */
	return l > 0.179 ? "#000000" : "#ffffff";
}

int
escrow_brand_vars(const struct sg_config *cfg, struct tmpl_vars *v)
{
	const char *color = color_ok(cfg->escrow_color) ? cfg->escrow_color :
	    "#1f4e79";
	int ok = 1;

	ok &= tmpl_set(v, "org_name", escrow_org_name(cfg)) == 0;
	if (cfg->escrow_support != NULL && cfg->escrow_support[0] != '\0')
		ok &= tmpl_set(v, "support", cfg->escrow_support) == 0;
	if (url_ok(cfg->escrow_logo_url))
		ok &= tmpl_set(v, "logo_url", cfg->escrow_logo_url) == 0;
	ok &= tmpl_set(v, "color_accent", color) == 0;
	ok &= tmpl_set(v, "color_accent_text", accent_text(color)) == 0;
	return ok ? 0 : -1;
}

/* ------------------------------------------------------------- deposit */

/*
 * header_value - the unfolded value of the first field called name in
 * msg's header section (at most ESCROW_HDR_SECTION_MAX bytes looked at).
 * New string, or NULL when there is none (or it is too long).
 */
static char *
header_value(const char *msg, size_t len, const char *name)
{
	size_t nlen = strlen(name), i = 0, ll, k;
	struct buf v;
	int in = 0;

	if (len > ESCROW_HDR_SECTION_MAX)
		len = ESCROW_HDR_SECTION_MAX;
	buf_init(&v, ESCROW_HDR_VALUE_MAX);
	while (i < len) {
		const char *line = msg + i, *nl = memchr(line, '\n', len - i);

		ll = nl != NULL ? (size_t)(nl - line) : len - i;
		i += ll + (nl != NULL);
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;			/* end of the header section */
		if (line[0] == ' ' || line[0] == '\t') {
			if (in && buf_append(&v, line, ll) < 0)
				goto toolong;
			continue;
		}
		if (in)
			break;
		if (ll > nlen && strncasecmp(line, name, nlen) == 0) {
			k = nlen;
			while (k < ll && (line[k] == ' ' || line[k] == '\t'))
				k++;
			if (k < ll && line[k] == ':') {
				in = 1;
				if (buf_append(&v, line + k + 1, ll - k - 1) < 0)
					goto toolong;
			}
		}
	}
	if (!in) {
		buf_free(&v);
		return NULL;
	}
	{
		char *s = buf_steal(&v, NULL);
		return s != NULL ? s : xstrdup("");
	}
toolong:
	buf_free(&v);
	return NULL;
}

/* sender_display_name - the From display name, when From's address is
 * the envelope sender (another name would be someone else's). New
 * string or NULL. */
static char *
sender_display_name(const char *msg, size_t len, const char *sender)
{
	InternetAddressList *list;
	InternetAddress *ia;
	const char *name, *addr;
	char *from, *res = NULL;

	if (sender == NULL || sender[0] == '\0')
		return NULL;
	from = header_value(msg, len, "From");
	if (from == NULL)
		return NULL;
	pthread_once(&gmime_once, gmime_init_once);
	list = internet_address_list_parse(NULL, from);
	xfree(from);
	if (list == NULL)
		return NULL;
	if (internet_address_list_length(list) >= 1) {
		ia = internet_address_list_get_address(list, 0);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			name = internet_address_get_name(ia);
			addr = internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia));
			if (name != NULL && name[0] != '\0' && addr != NULL &&
			    strcasecmp(addr, sender) == 0 &&
			    strcasecmp(name, sender) != 0)
				res = xstrdup(name);
		}
	}
	g_object_unref(list);
	return res;
}

/* normalize_addr - local part as is, domain lower case (escrow_users) */
static char *
normalize_addr(const char *rcpt)
{
	char *a = xstrdup(rcpt), *at = strrchr(a, '@'), *p;

	for (p = at; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return a;
}

/* read_template - templates_dir/name into out; 0 / -1 (err_out) */
static int
read_template(const struct sg_config *cfg, const char *name, struct buf *out,
    char **err_out)
{
	char *path = xasprintf("%s/%s", cfg->templates_dir != NULL ?
	    cfg->templates_dir : "templates", name);
	char chunk[8192];
	FILE *f;
	size_t n;
	int r = 0;

	buf_init(out, TMPL_SIZE_MAX);
	f = fopen(path, "rb");
	if (f == NULL) {
		set_err(err_out, msgf("template %s: %s", path,
		    strerror(errno)));
		xfree(path);
		return -1;
	}
	while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		r = buf_append(out, chunk, n);
	if (r == 0 && ferror(f))
		r = -1;
	fclose(f);
	if (r < 0) {
		set_err(err_out, msgf("template %s: unreadable or larger than "
		    "%d bytes", path, TMPL_SIZE_MAX));
		buf_free(out);
	} else if (memchr(buf_cstr(out), '\0', out->len) != NULL) {
		set_err(err_out, msgf("template %s: holds a NUL byte", path));
		buf_free(out);
		r = -1;
	}
	xfree(path);
	return r;
}

static void
say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* item_check - what makes a deposit impossible for good; NULL if fine */
static const char *
item_check(const struct escrow_item *it)
{
	const unsigned char *p;
	char *mark;

	if (it->queue_id == NULL || it->queue_id[0] == '\0' ||
	    it->sender == NULL || it->msg == NULL || it->recipient_id <= 0)
		return "incomplete escrow item";
	if (it->rcpt == NULL || !addr_ok(it->rcpt, 1))
		return "recipient address unusable for a notification";
	for (p = (const unsigned char *)it->sender; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "control character in the sender address";
	if (!utf8_ok(it->sender) || !utf8_ok(it->rcpt) ||
	    !utf8_ok(it->queue_id))
		return "sender or recipient address is not UTF-8";
	if (it->len > (size_t)INT32_MAX - SEAL_OVERHEAD)
		return "message too large to escrow";
	mark = header_value(it->msg, it->len, ESCROW_MARK_HEADER);
	if (mark != NULL) {
		xfree(mark);
		return "an escrow notification is never escrowed (it would "
		    "loop): deliver it by TLS or plain";
	}
	return NULL;
}

struct deposit {
	const struct sg_config *cfg;
	const struct seal_master *m;
	const struct escrow_item *it;
	char *address;			/* normalized recipient */
	char *sender_name;		/* From display name or NULL */
	char *subject;			/* decoded Subject or NULL */
	char *portal;			/* PORTAL_URL */
	char *from;			/* escrow_from */
	struct buf t_subject, t_text, t_html;
	struct buf r_subject, r_text, r_html;	/* the sender's receipt */
	int receipt;			/* the sender gets one */
	char rid[QUEUE_ID_SIZE];	/* its queue id, "" if none */
	long long now;
};

/*
 * notify_fill - the values the notification and the receipt share
 */
static void
notify_fill(struct deposit *d, struct escrow_notify *n, const char *expires,
    const char *link, const char *msgid, const char *seed)
{
	memset(n, 0, sizeof(*n));
	n->sender_address = d->it->sender;
	n->sender_name = d->sender_name;
	n->subject = d->cfg->escrow_hide_subject ? NULL : d->subject;
	n->expires = expires;
	n->link = link;
	n->org_name = escrow_org_name(d->cfg);
	n->support = d->cfg->escrow_support;
	n->logo_url = d->cfg->escrow_logo_url;
	n->color_accent = color_ok(d->cfg->escrow_color) ?
	    d->cfg->escrow_color : "#1f4e79";
	n->color_accent_text = accent_text(n->color_accent);
	n->from_addr = d->from;
	n->message_id = msgid;
	n->boundary_seed = seed;
	n->date = d->now;
}

/*
 * receipt_tx - build and queue the sender's receipt (recall link with
 * the token rtok), inside the deposit's transaction. 0 / -1 / -2.
 */
static int
receipt_tx(struct db *db, struct deposit *d, const char *rtok,
    const char *expires, char **err_out)
{
	const struct escrow_item *it = d->it;
	char msgid[QUEUE_ID_SIZE + 300];
	struct escrow_db_mail qm;
	struct escrow_notify n;
	struct buf mail;
	char *link;
	int r;

	if (queue_id_new(d->rid) < 0) {
		set_err(err_out, xstrdup("no randomness for a queue id"));
		return -2;
	}
	link = xasprintf("%s/recall?t=%s", d->portal, rtok);
	snprintf(msgid, sizeof(msgid), "%s.receipt@%s", d->rid,
	    d->cfg->hostname);
	notify_fill(d, &n, expires, link, msgid, d->rid);
	n.tmpl_subject = buf_cstr(&d->r_subject);
	n.tmpl_text = buf_cstr(&d->r_text);
	n.tmpl_html = buf_cstr(&d->r_html);
	n.recipient = it->rcpt;
	n.to_addr = it->sender;
	buf_init(&mail, ESCROW_MAIL_MAX);
	r = escrow_notify_build(&n, &mail, err_out);
	OPENSSL_cleanse(link, strlen(link));
	xfree(link);
	if (r < 0) {
		buf_free_secure(&mail);
		return -2;	/* templates or settings: the admin fixes them */
	}
	memset(&qm, 0, sizeof(qm));
	qm.id = d->rid;
	qm.mail_from = "";	/* automatic mail: no bounces (RFC 3834) */
	qm.rcpt = it->sender;
	qm.data = mail.data;
	qm.len = mail.len;
	qm.tls_required = 0;
	qm.escrow_notice = 1;	/* ordinary mail, wiped once sent */
	qm.client_helo = ESCROW_HELO;
	r = escrow_db_queue_insert(db, &qm, err_out);
	buf_free_secure(&mail);
	return r;
}

/*
 * deposit_tx - the statements of one deposit, inside a transaction the
 * caller opened. 1 stored, 0 there already, -1 / -2 (*err_out).
 */
static int
deposit_tx(struct db *db, struct deposit *d, char *nid, char **err_out)
{
	const struct escrow_item *it = d->it;
	char id[TOKEN_TEXT_LEN + 1], tok[TOKEN_TEXT_LEN + 1];
	char rtok[TOKEN_TEXT_LEN + 1], rhash[TOKEN_HASH_LEN + 1];
	char hash[TOKEN_HASH_LEN + 1], expires[ESCROW_TIME_TEXT_MAX];
	char msgid[QUEUE_ID_SIZE + 300], detail[200];
	struct escrow_db_msg em;
	struct escrow_db_mail qm;
	struct escrow_notify n;
	struct buf sealed, mail;
	char *link = NULL, *e = NULL;
	int64_t user_id = 0;
	int enrolled = 0, r;

	tok[0] = '\0';
	rtok[0] = '\0';
	d->rid[0] = '\0';
	r = escrow_db_exists(db, it->queue_id, it->recipient_id, err_out);
	if (r != 0)
		return r < 0 ? r : 0;
	r = escrow_db_user_ensure(db, d->address, &user_id, &enrolled,
	    err_out);
	if (r < 0)
		return r;
	if (token_new(id) < 0 || queue_id_new(nid) < 0 ||
	    (!enrolled && token_new(tok) < 0) ||
	    (d->receipt && token_new(rtok) < 0)) {
		set_err(err_out, xstrdup("no randomness for an id or token"));
		goto wipe;
	}
	if (d->receipt) {
		token_hash(rtok, rhash);
		if (rhash[0] == '\0') {
			set_err(err_out, xstrdup("token hash failed"));
			goto wipe;
		}
	}
	buf_init(&sealed, it->len + SEAL_OVERHEAD + 1);
	if (seal(d->m, (const unsigned char *)it->msg, it->len, id, &sealed,
	    &e) < 0) {
		set_err(err_out, msgf("seal: %s", e != NULL ? e : "?"));
		xfree(e);
		buf_free(&sealed);
		goto wipe;
	}
	memset(&em, 0, sizeof(em));
	em.id = id;
	em.queue_id = it->queue_id;
	em.recipient_id = it->recipient_id;
	em.user_id = user_id;
	em.sender = it->sender;
	em.sealed = (const unsigned char *)sealed.data;
	em.sealed_len = sealed.len;
	em.master_id = seal_master_id(d->m);
	em.size = it->len;
	em.expires_at = d->now + (long long)d->cfg->escrow_retention;
	em.recall_hash = d->receipt ? rhash : NULL;
	r = escrow_db_msg_insert(db, &em, err_out);
	buf_free(&sealed);
	if (r <= 0) {
		/* 0: a concurrent deposit won the race */
		OPENSSL_cleanse(tok, sizeof(tok));
		OPENSSL_cleanse(rtok, sizeof(rtok));
		return r;
	}

	if (!enrolled) {
		token_hash(tok, hash);
		if (hash[0] == '\0') {
			set_err(err_out, xstrdup("token hash failed"));
			goto wipe;
		}
		r = escrow_db_token_insert(db, hash, "enroll", user_id, id,
		    d->now + (long long)d->cfg->escrow_link_ttl, err_out);
		if (r < 0) {
			OPENSSL_cleanse(tok, sizeof(tok));
			OPENSSL_cleanse(rtok, sizeof(rtok));
			return r;
		}
		link = xasprintf("%s/enroll?t=%s", d->portal, tok);
		OPENSSL_cleanse(tok, sizeof(tok));
	} else {
		link = xasprintf("%s/m/%s", d->portal, id);
	}

	/* the notification */
	escrow_time_text(em.expires_at, expires);
	snprintf(msgid, sizeof(msgid), "%s.escrow@%s", nid,
	    d->cfg->hostname);
	notify_fill(d, &n, expires, link, msgid, nid);
	n.tmpl_subject = buf_cstr(&d->t_subject);
	n.tmpl_text = buf_cstr(&d->t_text);
	n.tmpl_html = buf_cstr(&d->t_html);
	n.enroll = !enrolled;
	n.to_addr = it->rcpt;
	buf_init(&mail, ESCROW_MAIL_MAX);
	r = escrow_notify_build(&n, &mail, err_out);
	OPENSSL_cleanse(link, strlen(link));
	xfree(link);
	if (r < 0) {
		buf_free_secure(&mail);
		OPENSSL_cleanse(rtok, sizeof(rtok));
		return -2;	/* templates or settings: the admin fixes them */
	}
	memset(&qm, 0, sizeof(qm));
	qm.id = nid;
	qm.mail_from = it->sender;
	qm.rcpt = it->rcpt;
	qm.data = mail.data;
	qm.len = mail.len;
	qm.tls_required = 0;
	qm.escrow_notice = 1;
	qm.client_helo = ESCROW_HELO;
	r = escrow_db_queue_insert(db, &qm, err_out);
	buf_free_secure(&mail);
	if (r < 0) {
		OPENSSL_cleanse(rtok, sizeof(rtok));
		return r;
	}
	if (d->receipt) {
		r = receipt_tx(db, d, rtok, expires, err_out);
		OPENSSL_cleanse(rtok, sizeof(rtok));
		if (r < 0)
			return r;
	}
	snprintf(detail, sizeof(detail), "queue_id=%s recipient_id=%lld "
	    "size=%zu notification=%s link=%s receipt=%s", it->queue_id,
	    (long long)it->recipient_id, it->len, nid,
	    enrolled ? "message" : "enroll",
	    d->rid[0] != '\0' ? d->rid : "none");
	r = escrow_db_audit(db, id, user_id, "deposit", NULL, detail, err_out);
	return r < 0 ? r : 1;
wipe:
	OPENSSL_cleanse(tok, sizeof(tok));
	OPENSSL_cleanse(rtok, sizeof(rtok));
	return -2;
}

int
escrow_deposit(struct db *db, const struct sg_config *cfg,
    const struct seal_master *m, const struct escrow_item *it, char *why,
    size_t whylen)
{
	struct deposit d;
	char nid[QUEUE_ID_SIZE], *err = NULL;
	const char *bad;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (db == NULL || cfg == NULL || m == NULL || it == NULL) {
		say(why, whylen, "escrow store not set up");
		return -2;
	}
	if ((bad = item_check(it)) != NULL) {
		say(why, whylen, "%s", bad);
		return -1;
	}
	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.m = m;
	d.it = it;
	d.now = (long long)time(NULL);
	buf_init(&d.t_subject, 1);
	buf_init(&d.t_text, 1);
	buf_init(&d.t_html, 1);
	buf_init(&d.r_subject, 1);
	buf_init(&d.r_text, 1);
	buf_init(&d.r_html, 1);
	/* the null sender, or one we cannot write to: no receipt */
	d.receipt = it->sender[0] != '\0' && addr_ok(it->sender, 1);
	if (read_template(cfg, "notification_subject.txt", &d.t_subject,
	    &err) < 0 ||
	    read_template(cfg, "notification.txt", &d.t_text, &err) < 0 ||
	    read_template(cfg, "notification.html", &d.t_html, &err) < 0 ||
	    (d.receipt && (read_template(cfg, "receipt_subject.txt",
	    &d.r_subject, &err) < 0 ||
	    read_template(cfg, "receipt.txt", &d.r_text, &err) < 0 ||
	    read_template(cfg, "receipt.html", &d.r_html, &err) < 0))) {
		say(why, whylen, "%s", err != NULL ? err : "template");
		r = -2;
		goto out;
	}
	d.address = normalize_addr(it->rcpt);
	d.portal = escrow_portal_url(cfg);
	d.from = escrow_from_address(cfg);
	d.sender_name = sender_display_name(it->msg, it->len, it->sender);
	/* a Subject GMime cannot decode is left out, not fatal */
	if (subject_tag_find(it->msg, it->len, NULL, 0, NULL,
	    &d.subject) < 0)
		d.subject = NULL;

	r = db_begin(db, &err);
	if (r < 0) {
		say(why, whylen, "database: %s", err != NULL ? err : "?");
		r = -2;
		goto out;
	}
	r = deposit_tx(db, &d, nid, &err);
	if (r < 0) {
		db_rollback(db);
		say(why, whylen, "%s", err != NULL ? err : "?");
		/* a database refusal is no fault of the message: hold it */
		r = -2;
		goto out;
	}
	if (r == 0) {
		db_rollback(db);
		say(why, whylen, "already escrowed");
		goto out;
	}
	r = db_commit(db, &err);
	if (r < 0) {
		/* -2 from COMMIT: maybe committed; the retry finds the row */
		say(why, whylen, "database: %s", err != NULL ? err : "?");
		r = -2;
		goto out;
	}
	if (d.rid[0] != '\0')
		say(why, whylen, "escrowed, notification %s, receipt %s", nid,
		    d.rid);
	else
		say(why, whylen, "escrowed, notification %s, no receipt", nid);
	r = 0;
out:
	xfree(err);
	xfree(d.address);
	xfree(d.portal);
	xfree(d.from);
	xfree(d.sender_name);
	xfree(d.subject);
	buf_free(&d.t_subject);
	buf_free(&d.t_text);
	buf_free(&d.t_html);
	buf_free(&d.r_subject);
	buf_free(&d.r_text);
	buf_free(&d.r_html);
	return r;
}

int
escrow_queue_mail(struct db *db, const char *mail_from, const char *rcpt,
    const char *data, size_t len, int tls_required, char *queue_id_out,
    char **err_out)
{
	struct escrow_db_mail qm;
	char id[QUEUE_ID_SIZE];
	int r;

	if (err_out != NULL)
		*err_out = NULL;
	if (queue_id_out != NULL)
		queue_id_out[0] = '\0';
	if (mail_from == NULL || !addr_ok(rcpt, 1) || data == NULL) {
		set_err(err_out, xstrdup("queue: missing sender, recipient or "
		    "data"));
		return -1;
	}
	if (queue_id_new(id) < 0) {
		set_err(err_out, xstrdup("queue: no randomness for a queue "
		    "id"));
		return -2;
	}
	memset(&qm, 0, sizeof(qm));
	qm.id = id;
	qm.mail_from = mail_from;
	qm.rcpt = rcpt;
	qm.data = data;
	qm.len = len;
	qm.tls_required = tls_required != 0;
	/* our own notices (reset links, read notices) are ordinary mail,
	 * never escrowed, and wiped from the queue once sent */
	qm.escrow_notice = tls_required == 0;
	qm.client_helo = ESCROW_HELO;
	r = escrow_db_queue_mail(db, &qm, err_out);
	if (r == 0 && queue_id_out != NULL)
		memcpy(queue_id_out, id, QUEUE_ID_SIZE);
	return r;
}

int
escrow_purge_expired(struct db *db, long *n, char **err)
{
	long dummy;

	return escrow_db_purge_expired(db, n != NULL ? n : &dummy, err);
}
