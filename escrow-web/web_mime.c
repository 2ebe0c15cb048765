/*
 * web_mime.c - parse an escrowed message with GMime and pick its parts.
 *
 * Implements: RFC 2045/2046 (MIME structure), RFC 2047 and RFC 2231
 * (encoded words and parameters, decoded by GMime), RFC 2183
 * (Content-Disposition), RFC 5322 3.6.4 (Message-ID, References).
 * Trust: the message is what a sender of ours wrote, yet it reaches a
 * recipient's browser: every string handed out is valid UTF-8 without
 * control characters (bodies keep tab and newlines), every walk is
 * bounded. Ownership: strings belong to the struct web_msg; GMime
 * objects are released in web_msg_free(). No I/O, no logging.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "web_disp.h"
#include "web_limits.h"
#include "web_mime.h"
#include "lib/xalloc.h"

struct web_msg {
	GMimeMessage *msg;
	char *from, *subject, *date, *message_id;
	char **refs;
	size_t nrefs;
	char *text, *html;
	struct web_att *att;
	GMimeObject **att_obj;		/* ref'd, parallel to att */
	size_t natt, capatt;
	size_t leaves;
};

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void
gmime_init_once(void)
{
	g_mime_init();
}

void
web_mime_init(void)
{
	pthread_once(&gmime_once, gmime_init_once);
}

/* clean_line - a new xalloc'd copy of s, valid UTF-8, every control
 * character (tab and line breaks too) a space */
static char *
clean_line(const char *s)
{
	char *v, *r;
	size_t i;

	if (s == NULL)
		return NULL;
	v = g_utf8_make_valid(s, -1);
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			v[i] = ' ';
	/* C1 controls: U+0080..U+009F, two bytes C2 80..C2 9F */
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] == 0xc2 && v[i + 1] != '\0' &&
		    (unsigned char)v[i + 1] >= 0x80 &&
		    (unsigned char)v[i + 1] <= 0x9f) {
			v[i] = ' ';
			v[i + 1] = ' ';
		}
	r = xstrdup(v);
	g_free(v);
	return r;
}

/* clean_body - valid UTF-8 (xalloc'd); controls are left to the
 * renderer (tmpl drops them, the frame's HTML is inert) */
static char *
clean_body(char *g)
{
	char *v, *r;

	if (g == NULL)
		return NULL;
	v = g_utf8_make_valid(g, -1);
	g_free(g);
	r = xstrdup(v);
	g_free(v);
	return r;
}

static void
att_add(struct web_msg *m, GMimeObject *obj, const char *fallback_ext)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *name = NULL, *cs = NULL;
	struct web_att *a;
	struct buf b;
	char fallback[64], *type;
	GMimeStream *null;

	if (m->natt == m->capatt) {
		m->capatt = m->capatt ? m->capatt * 2 : 8;
		m->att = xrealloc(m->att, m->capatt * sizeof(*m->att));
		m->att_obj = xrealloc(m->att_obj,
		    m->capatt * sizeof(*m->att_obj));
	}
	a = &m->att[m->natt];
	memset(a, 0, sizeof(*a));
	if (GMIME_IS_PART(obj))
		name = g_mime_part_get_filename(GMIME_PART(obj));
	snprintf(fallback, sizeof(fallback), "attachment-%zu%s",
	    m->natt + 1, fallback_ext);
	buf_init(&b, WEB_FILENAME_MAX * 2 + 64);
	if (web_disp_clean_name(name, fallback, &b) < 0)
		(void)buf_append_str(&b, fallback);
	a->filename = buf_steal(&b, NULL);
	if (ct != NULL) {
		type = g_mime_content_type_get_mime_type(ct);
		a->type = xstrdup(type != NULL ? type :
		    "application/octet-stream");
		g_free(type);
		cs = g_mime_content_type_get_parameter(ct, "charset");
	} else {
		a->type = xstrdup("application/octet-stream");
	}
	for (char *p = a->type; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	a->charset = cs != NULL ? xstrdup(cs) : NULL;
	/* decoded size: write through a counting stream */
	null = g_mime_stream_null_new();
	if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(obj));
		if (dw != NULL)
			g_mime_data_wrapper_write_to_stream(dw, null);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));
		if (inner != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(inner),
			    NULL, null);
	}
	a->size = GMIME_STREAM_NULL(null)->written;
	g_object_unref(null);
	g_object_ref(obj);
	m->att_obj[m->natt] = obj;
	m->natt++;
}

static int
is_attachment_disp(GMimeObject *obj)
{
	GMimeContentDisposition *d =
	    g_mime_object_get_content_disposition(obj);

	return d != NULL && g_mime_content_disposition_is_attachment(d);
}

/* walk - visit obj and below, picking bodies and attachments */
static void
walk(struct web_msg *m, GMimeObject *obj, int depth)
{
	if (obj == NULL || m->leaves >= WEB_MIME_PARTS_MAX)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int i, n = g_mime_multipart_get_count(mp);

		if (depth >= WEB_MIME_DEPTH_MAX)
			return;
		for (i = 0; i < n; i++)
			walk(m, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	m->leaves++;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		att_add(m, obj, ".eml");
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	if (GMIME_IS_TEXT_PART(obj) && !is_attachment_disp(obj)) {
		GMimeContentType *ct = g_mime_object_get_content_type(obj);

		if (m->text == NULL &&
		    g_mime_content_type_is_type(ct, "text", "plain")) {
			m->text = clean_body(g_mime_text_part_get_text(
			    GMIME_TEXT_PART(obj)));
			if (m->text != NULL)
				return;
		}
		if (m->html == NULL &&
		    g_mime_content_type_is_type(ct, "text", "html")) {
			m->html = clean_body(g_mime_text_part_get_text(
			    GMIME_TEXT_PART(obj)));
			if (m->html != NULL)
				return;
		}
	}
	att_add(m, obj, "");
}

static void
summarize(struct web_msg *m)
{
	InternetAddressList *from;
	GDateTime *dt;
	const char *s;

	from = g_mime_message_get_from(m->msg);
	if (from != NULL && internet_address_list_length(from) > 0) {
		char *f = internet_address_list_to_string(from, NULL, FALSE);
		m->from = clean_line(f);
		g_free(f);
	}
	m->subject = clean_line(g_mime_message_get_subject(m->msg));
	dt = g_mime_message_get_date(m->msg);
	if (dt != NULL) {
		GDateTime *utc = g_date_time_to_utc(dt);
		if (utc != NULL) {
			char *f = g_date_time_format(utc, "%Y-%m-%d %H:%M UTC");
			m->date = clean_line(f);
			g_free(f);
			g_date_time_unref(utc);
		}
	}
	s = g_mime_message_get_message_id(m->msg);
	if (s != NULL && s[0] != '\0' && strlen(s) < 1000)
		m->message_id = clean_line(s);
	s = g_mime_object_get_header(GMIME_OBJECT(m->msg), "References");
	if (s != NULL) {
		GMimeReferences *refs = g_mime_references_parse(NULL, s);
		int i, n = refs != NULL ? g_mime_references_length(refs) : 0;

		/* keep the newest 20: enough threading, bounded header */
		m->refs = xcalloc(n > 0 ? (size_t)n : 1, sizeof(char *));
		for (i = n > 20 ? n - 20 : 0; i < n; i++) {
			const char *id = g_mime_references_get_message_id(refs,
			    i);
			if (id != NULL && id[0] != '\0' && strlen(id) < 1000)
				m->refs[m->nrefs++] = clean_line(id);
		}
		if (refs != NULL)
			g_mime_references_free(refs);
	}
}

static struct web_msg *
parse(const char *data, size_t len, int headers_only, char **err_out)
{
	GMimeStream *stream;
	GMimeParser *parser;
	struct web_msg *m;

	web_mime_init();
	stream = g_mime_stream_mem_new_with_buffer(data, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	m = xcalloc(1, sizeof(*m));
	m->msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (m->msg == NULL) {
		xfree(m);
		*err_out = xstrdup("message cannot be parsed");
		return NULL;
	}
	summarize(m);
	if (!headers_only)
		walk(m, g_mime_message_get_mime_part(m->msg), 0);
	return m;
}

struct web_msg *
web_msg_parse(const char *data, size_t len, char **err_out)
{
	return parse(data, len, 0, err_out);
}

/* header_end - length of the header section with its empty line */
static size_t
header_end(const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if (i + 1 < len && data[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

struct web_msg *
web_msg_parse_headers(const char *data, size_t len, char **err_out)
{
	return parse(data, header_end(data, len), 1, err_out);
}

void
web_msg_free(struct web_msg **mp)
{
	struct web_msg *m = *mp;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->natt; i++) {
		xfree(m->att[i].filename);
		xfree(m->att[i].type);
		xfree(m->att[i].charset);
		g_object_unref(m->att_obj[i]);
	}
	for (i = 0; i < m->nrefs; i++)
		xfree(m->refs[i]);
	xfree(m->refs);
	xfree(m->att);
	xfree(m->att_obj);
	xfree(m->from);
	xfree(m->subject);
	xfree(m->date);
	xfree(m->message_id);
	if (m->text != NULL)
		explicit_bzero(m->text, strlen(m->text));
	if (m->html != NULL)
		explicit_bzero(m->html, strlen(m->html));
	xfree(m->text);
	xfree(m->html);
	g_object_unref(m->msg);
	xfree(m);
	*mp = NULL;
}

const char *
web_msg_from(const struct web_msg *m)
{
	return m->from;
}

const char *
web_msg_subject(const struct web_msg *m)
{
	return m->subject;
}

const char *
web_msg_date(const struct web_msg *m)
{
	return m->date;
}

const char *
web_msg_message_id(const struct web_msg *m)
{
	return m->message_id;
}

size_t
web_msg_nrefs(const struct web_msg *m)
{
	return m->nrefs;
}

const char *
web_msg_ref(const struct web_msg *m, size_t i)
{
	return i < m->nrefs ? m->refs[i] : NULL;
}

const char *
web_msg_text(const struct web_msg *m)
{
	return m->text;
}

const char *
web_msg_html(const struct web_msg *m)
{
	return m->html;
}

size_t
web_msg_natt(const struct web_msg *m)
{
	return m->natt;
}

const struct web_att *
web_msg_att(const struct web_msg *m, size_t i)
{
	return i < m->natt ? &m->att[i] : NULL;
}

int
web_msg_att_data(const struct web_msg *m, size_t i, struct buf *out)
{
	GMimeStream *mem;
	GByteArray *ba;
	GMimeObject *obj;
	int r = -1;

	if (i >= m->natt)
		return -1;
	obj = m->att_obj[i];
	mem = g_mime_stream_mem_new();
	if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(obj));
		if (dw != NULL)
			g_mime_data_wrapper_write_to_stream(dw, mem);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));
		if (inner != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(inner),
			    NULL, mem);
	}
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	if (ba != NULL)
		r = buf_append(out, ba->data, ba->len);
	g_object_unref(mem);
	return r;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
starts_ci(const char *s, const char *lit)
{
	while (*lit != '\0') {
		if (lower((unsigned char)*s) != *lit)
			return 0;
		s++;
		lit++;
	}
	return 1;
}

static const char *
skip_blank(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' ||
	    *s == '\f')
		s++;
	return s;
}

/* remote_url - does the value at s start with a network URL? */
static int
remote_url(const char *s)
{
	s = skip_blank(s);
	if (*s == '"' || *s == '\'')
		s = skip_blank(s + 1);
	return starts_ci(s, "http:") || starts_ci(s, "https:") ||
	    starts_ci(s, "//");
}

int
web_html_remote_images(const char *html)
{
	static const char *const attrs[] = { "src", "background", "poster",
	    NULL };
	const char *p;
	size_t k;

	if (html == NULL)
		return 0;
	for (p = html; *p != '\0'; p++) {
		if (starts_ci(p, "url(") && remote_url(p + 4))
			return 1;
		for (k = 0; attrs[k] != NULL; k++) {
			const char *q;

			if (!starts_ci(p, attrs[k]))
				continue;
			/* an attribute name: not the end of a longer word
			 * before it ("data-src" still counts) */
			if (p > html && ((lower((unsigned char)p[-1]) >= 'a' &&
			    lower((unsigned char)p[-1]) <= 'z')))
				continue;
			q = p + strlen(attrs[k]);
			while ((lower((unsigned char)*q) >= 'a' &&
			    lower((unsigned char)*q) <= 'z'))
				q++;	/* srcset */
			q = skip_blank(q);
			if (*q == '=' && remote_url(q + 1))
				return 1;
		}
	}
	return 0;
}
