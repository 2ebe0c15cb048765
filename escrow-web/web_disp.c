/*
 * web_disp.c - attachment file names and content types.
 *
 * Implements: RFC 6266 4.1 and appendix D (filename plus filename*),
 * RFC 8187 3.2 (ext-value: UTF-8''pct-encoded, attr-char), RFC 3629
 * (UTF-8 validity, via utf8_seq_len).
 * Trust: names come from senders and from browsers: any bytes. What
 * leaves here cannot break out of the header (no CR, LF, quote or
 * backslash in the quoted form), cannot name a path, and cannot make
 * a browser render active content (type allowlist).
 * No I/O, no logging.
 */
#include <string.h>

#include "web_disp.h"
#include "web_limits.h"
#include "lib/json.h"		/* utf8_seq_len */

#define EXT_KEEP_MAX	16	/* bytes of extension kept when cutting */

/* the types a browser may be told; anything else is a byte stream */
static const char *const safe_types[] = {
	"application/pdf",
	"application/zip",
	"application/gzip",
	"application/msword",
	"application/rtf",
	"application/vnd.ms-excel",
	"application/vnd.ms-powerpoint",
	"application/vnd.oasis.opendocument.text",
	"application/vnd.oasis.opendocument.spreadsheet",
	"application/vnd.oasis.opendocument.presentation",
	"application/vnd.openxmlformats-officedocument."
	    "wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument."
	    "presentationml.presentation",
	"audio/mpeg",
	"audio/ogg",
	"audio/wav",
	"image/gif",
	"image/jpeg",
	"image/png",
	"image/tiff",
	"image/webp",
	"text/calendar",
	"text/csv",
	"text/plain",
	"video/mp4",
	"video/mpeg",
	NULL
};

/* decode_cp - the code point of the n-byte sequence at s */
static unsigned long
decode_cp(const unsigned char *s, size_t n)
{
	switch (n) {
	case 1:
		return s[0];
	case 2:
		return (unsigned long)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	case 3:
		return (unsigned long)(s[0] & 0x0f) << 12 |
		    (unsigned long)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	default:
		return (unsigned long)(s[0] & 0x07) << 18 |
		    (unsigned long)(s[1] & 0x3f) << 12 |
		    (unsigned long)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	}
}

/* cut_utf8 - the largest length <= max that ends on a character */
static size_t
cut_utf8(const char *s, size_t len, size_t max)
{
	size_t n = 0, k;

	while (n < len) {
		k = utf8_seq_len((const unsigned char *)s + n, len - n);
		if (k == 0 || n + k > max)
			break;
		n += k;
	}
	return n;
}

int
web_disp_clean_name(const char *name, const char *fallback,
    struct buf *out)
{
	struct buf t;
	const unsigned char *p = (const unsigned char *)(name ? name : "");
	size_t len = strlen((const char *)p), i = 0, s, e, dot, extlen, keep;
	int r;

	buf_init(&t, len * 3 + 16);
	while (i < len) {
		size_t n = utf8_seq_len(p + i, len - i);
		unsigned long cp;

		if (n == 0) {
			(void)buf_append(&t, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		cp = decode_cp(p + i, n);
		if (cp == '/' || cp == '\\') {
			/* only the last path component counts */
			buf_reset(&t);
		} else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
		    cp == 0x2028 || cp == 0x2029 ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069)) {
			/* controls, line separators and bidi overrides
			 * ("evil\u202Efdp.exe") are dropped */
		} else if (cp < 0x80 && strchr("<>:\"|?*", (int)cp) != NULL) {
			(void)buf_append_char(&t, '_');
		} else {
			(void)buf_append(&t, p + i, n);
		}
		i += n;
	}
	s = 0;
	e = t.len;
	while (s < e && (t.data[s] == '.' || t.data[s] == ' '))
		s++;
	while (e > s && (t.data[e - 1] == '.' || t.data[e - 1] == ' '))
		e--;
	if (s == e) {
		buf_free(&t);
		return buf_append_str(out, fallback);
	}
	if (e - s <= WEB_FILENAME_MAX) {
		r = buf_append(out, t.data + s, e - s);
		buf_free(&t);
		return r;
	}
	/* too long: keep a short extension, cut the stem on a character */
	for (dot = e; dot > s && t.data[dot - 1] != '.'; dot--)
		;
	extlen = dot > s ? e - dot + 1 : 0;
	if (extlen > EXT_KEEP_MAX)
		extlen = 0;
	keep = cut_utf8(t.data + s, e - s, WEB_FILENAME_MAX - extlen);
	/* the cut may end on a blank or dot: trim again, so cleaning a
	 * cleaned name changes nothing */
	while (keep > 0 && (t.data[s + keep - 1] == '.' ||
	    t.data[s + keep - 1] == ' '))
		keep--;
	if (keep == 0) {
		buf_free(&t);
		return buf_append_str(out, fallback);
	}
	{
		size_t old = out->len;
		r = buf_append(out, t.data + s, keep);
		if (r == 0 && extlen > 0)
			r = buf_append(out, t.data + e - extlen, extlen);
		if (r < 0) {
			out->len = old;
			if (out->data != NULL)
				out->data[old] = '\0';
		}
	}
	buf_free(&t);
	return r;
}

/* is_attr_char - RFC 8187 attr-char */
static int
is_attr_char(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL;
}

int
web_disp_attachment(const char *name, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)name;
	size_t len = strlen(name), i = 0, old = out->len;
	int r;

	r = buf_append_str(out, "attachment; filename=\"");
	while (r == 0 && i < len) {
		size_t n = utf8_seq_len(p + i, len - i);

		if (n == 0)
			n = 1;
		if (n > 1 || p[i] < 0x20 || p[i] >= 0x7f ||
		    strchr("\"\\%;", p[i]) != NULL)
			r = buf_append_char(out, '_');
		else
			r = buf_append_char(out, (char)p[i]);
		i += n;
	}
	if (r == 0)
		r = buf_append_str(out, "\"; filename*=UTF-8''");
	for (i = 0; r == 0 && i < len; i++) {
		if (is_attr_char(p[i])) {
			r = buf_append_char(out, (char)p[i]);
		} else {
			char pc[3] = { '%', hex[p[i] >> 4], hex[p[i] & 15] };
			r = buf_append(out, pc, 3);
		}
	}
	if (r < 0) {
		out->len = old;
		if (out->data != NULL)
			out->data[old] = '\0';
	}
	return r;
}

int
web_disp_type_safe(const char *type)
{
	size_t i;

	for (i = 0; safe_types[i] != NULL; i++)
		if (strcmp(type, safe_types[i]) == 0)
			return 1;
	return 0;
}

/* charset_ok - a plain charset token: [A-Za-z0-9._:-]{1,40} */
static int
charset_ok(const char *cs)
{
	size_t i;

	for (i = 0; cs[i] != '\0'; i++) {
		char c = cs[i];
		if (i >= 40 || !((c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '.' || c == '_' || c == ':' || c == '-'))
			return 0;
	}
	return i > 0;
}

int
web_disp_content_type(const char *type, const char *charset,
    struct buf *out)
{
	char low[128];
	size_t i, n;

	if (type == NULL)
		return buf_append_str(out, WEB_DISP_OCTET);
	n = strlen(type);
	if (n >= sizeof(low))
		return buf_append_str(out, WEB_DISP_OCTET);
	for (i = 0; i < n; i++)
		low[i] = type[i] >= 'A' && type[i] <= 'Z' ?
		    (char)(type[i] + 32) : type[i];
	low[n] = '\0';
	if (!web_disp_type_safe(low))
		return buf_append_str(out, WEB_DISP_OCTET);
	if (strncmp(low, "text/", 5) == 0 && charset != NULL &&
	    charset_ok(charset))
		return buf_printf(out, "%s; charset=%s", low, charset);
	return buf_append_str(out, low);
}
