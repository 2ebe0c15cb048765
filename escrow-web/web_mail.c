/*
 * web_mail.c - compose the secure reply with GMime.
 *
 * Implements: RFC 5322 3.6 (From, To, Date, Message-ID, In-Reply-To,
 * References: 3.6.4), RFC 2045-2047 (MIME, quoted-printable, base64,
 * encoded words), RFC 2183 and 2231 (attachment names), RFC 5321 4.5.3.1.6 (lines under 1000: QP/base64).
 * Trust: the reply text, file names and types come from the browser,
 * the subject and ids from the escrowed message; GMime encodes every
 * header value, and addresses with control bytes are refused, so no
 * input can add a header or a MIME part of its own.
 * No I/O, no logging.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "token.h"
#include "web_disp.h"
#include "web_limits.h"
#include "web_mail.h"
#include "web_mime.h"
#include "lib/xalloc.h"

static int
addr_ok(const char *a)
{
	size_t i;

	if (a == NULL || a[0] == '\0' || strlen(a) > 512 ||
	    strchr(a, '@') == NULL)
		return 0;
	for (i = 0; a[i] != '\0'; i++)
		if ((unsigned char)a[i] < 0x21 || a[i] == 0x7f ||
		    strchr("<>,;\"", a[i]) != NULL)
			return 0;
	return 1;
}

/* one_line - s with every control byte a space (xalloc'd) */
static char *
one_line(const char *s)
{
	char *r = xstrdup(s != NULL ? s : "");
	size_t i;

	for (i = 0; r[i] != '\0'; i++)
		if ((unsigned char)r[i] < 0x20 || r[i] == 0x7f)
			r[i] = ' ';
	return r;
}

/* id_ok - a Message-ID body we may repeat in a header */
static int
id_ok(const char *id)
{
	size_t i;

	if (id == NULL || id[0] == '\0' || strlen(id) > 900)
		return 0;
	for (i = 0; id[i] != '\0'; i++)
		if ((unsigned char)id[i] <= 0x20 || id[i] == 0x7f ||
		    id[i] == '<' || id[i] == '>')
			return 0;
	return 1;
}

static GMimeMessage *
new_message(const char *from, const char *to, const char *subject,
    const char *msgid_domain, time_t date)
{
	GMimeMessage *msg = g_mime_message_new(TRUE);
	char tok[TOKEN_TEXT_LEN + 1], *id, *subj;
	GDateTime *dt;

	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, NULL, from);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, to);
	subj = one_line(subject);
	g_mime_message_set_subject(msg, subj, "utf-8");
	xfree(subj);
	dt = g_date_time_new_from_unix_utc((gint64)date);
	if (dt != NULL) {
		g_mime_message_set_date(msg, dt);
		g_date_time_unref(dt);
	}
	if (token_new(tok) < 0)
		memcpy(tok, "x", 2);
	id = xasprintf("%s@%s", tok, msgid_domain != NULL &&
	    id_ok(msgid_domain) ? msgid_domain : "localhost");
	g_mime_message_set_message_id(msg, id);
	xfree(id);
	return msg;
}

/* text_part - a text/SUBTYPE part holding text (LF lines), QP */
static GMimeObject *
text_part(const char *subtype, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);
	char *lf = xstrdup(text != NULL ? text : "");
	size_t i, o = 0;

	/* CRLF and lone CR to LF: the writer emits CRLF for each */
	for (i = 0; lf[i] != '\0'; i++) {
		if (lf[i] == '\r') {
			if (lf[i + 1] != '\n')
				lf[o++] = '\n';
			continue;
		}
		lf[o++] = lf[i];
	}
	lf[o] = '\0';
	g_mime_text_part_set_charset(tp, "utf-8");
	g_mime_text_part_set_text(tp, lf);
	g_mime_part_set_content_encoding(GMIME_PART(tp),
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	explicit_bzero(lf, o);
	xfree(lf);
	return GMIME_OBJECT(tp);
}

/* type_ok - a plain "type/subtype" of tokens */
static int
type_ok(const char *t, char *type, size_t tsz, char *sub, size_t ssz)
{
	const char *slash;
	size_t i, n1, n2;

	if (t == NULL || (slash = strchr(t, '/')) == NULL)
		return 0;
	n1 = (size_t)(slash - t);
	n2 = strlen(slash + 1);
	if (n1 == 0 || n2 == 0 || n1 >= tsz || n2 >= ssz)
		return 0;
	for (i = 0; t[i] != '\0'; i++) {
		char c = t[i];
		if (i == n1)
			continue;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || strchr("!#$&^_.+-", c)))
			return 0;
	}
	memcpy(type, t, n1);
	type[n1] = '\0';
	memcpy(sub, slash + 1, n2 + 1);
	return 1;
}

static GMimeObject *
file_part(const struct web_mail_file *f, size_t idx)
{
	char type[64], sub[128], fallback[32];
	GMimePart *p;
	GMimeStream *s;
	GMimeDataWrapper *dw;
	struct buf name;

	if (!type_ok(f->type, type, sizeof(type), sub, sizeof(sub))) {
		memcpy(type, "application", sizeof("application"));
		memcpy(sub, "octet-stream", sizeof("octet-stream"));
	}
	p = g_mime_part_new_with_type(type, sub);
	g_mime_object_set_disposition(GMIME_OBJECT(p), "attachment");
	snprintf(fallback, sizeof(fallback), "attachment-%zu", idx + 1);
	buf_init(&name, WEB_FILENAME_MAX * 2 + 64);
	if (web_disp_clean_name(f->name, fallback, &name) < 0)
		(void)buf_append_str(&name, fallback);
	g_mime_part_set_filename(p, buf_cstr(&name));
	buf_free(&name);
	s = g_mime_stream_mem_new_with_buffer(f->data, f->len);
	dw = g_mime_data_wrapper_new_with_stream(s,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(p, dw);
	g_object_unref(dw);
	g_object_unref(s);
	g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_BASE64);
	return GMIME_OBJECT(p);
}

/* write_out - serialize msg with CRLF lines onto out */
static int
write_out(GMimeMessage *msg, struct buf *out, char **err_out)
{
	GMimeFormatOptions *fo = g_mime_format_options_new();
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *ba;
	int r = -1;

	g_mime_format_options_set_newline_format(fo,
	    GMIME_NEWLINE_FORMAT_DOS);
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, mem) < 0) {
		*err_out = xstrdup("cannot write the message");
	} else {
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		if (ba == NULL || ba->len > WEB_MAIL_MAX ||
		    buf_append(out, ba->data, ba->len) < 0)
			*err_out = xstrdup("message too large");
		else
			r = 0;
		if (ba != NULL)
			explicit_bzero(ba->data, ba->len);
	}
	g_object_unref(mem);
	g_mime_format_options_free(fo);
	return r;
}

int
web_mail_reply(const struct web_reply *r, struct buf *out, char **err_out)
{
	GMimeMessage *msg;
	GMimeMultipart *mixed;
	GMimeObject *part;
	char *subject;
	const char *s;
	size_t i;
	int rc;

	web_mime_init();
	if (!addr_ok(r->from) || !addr_ok(r->to)) {
		*err_out = xstrdup("bad address");
		return -1;
	}
	s = r->subject != NULL ? r->subject : "";
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, "re:", 3) == 0)
		subject = xstrdup(s);
	else if (*s == '\0')
		subject = xstrdup("Re:");
	else
		subject = xasprintf("Re: %s", s);
	msg = new_message(r->from, r->to, subject, r->msgid_domain, r->date);
	xfree(subject);
	if (id_ok(r->in_reply_to)) {
		struct buf refs;
		char *irt = xasprintf("<%s>", r->in_reply_to);

		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", irt,
		    NULL);
		xfree(irt);
		buf_init(&refs, 64 * 1024);
		for (i = 0; i < r->nrefs; i++)
			if (id_ok(r->refs[i]))
				(void)buf_printf(&refs, "<%s> ", r->refs[i]);
		(void)buf_printf(&refs, "<%s>", r->in_reply_to);
		g_mime_object_set_header(GMIME_OBJECT(msg), "References",
		    buf_cstr(&refs), NULL);
		buf_free(&refs);
	}
	mixed = g_mime_multipart_new_with_subtype("mixed");
	part = text_part("plain", r->text);
	g_mime_multipart_add(mixed, part);
	g_object_unref(part);
	for (i = 0; i < r->nfiles; i++) {
		part = file_part(&r->files[i], i);
		g_mime_multipart_add(mixed, part);
		g_object_unref(part);
	}
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
	g_object_unref(mixed);
	rc = write_out(msg, out, err_out);
	g_object_unref(msg);
	return rc;
}
