/*
 * json.c - JSON string escaping.
 *
 * Implements: RFC 8259 7 (strings), RFC 3629 4 (well-formed UTF-8).
 * Trust: input is anything (network text, stored mail); output is always
 * valid JSON in valid UTF-8.
 */
#include <stdio.h>

#include "json.h"

size_t
utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c, lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;		/* continuation, C0/C1, F5..FF */
	if (len < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

int
json_append_string(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = b->len, i = 0, n;
	char esc[8];

	if (buf_append_char(b, '"') < 0)
		goto full;
	while (i < len) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			if (buf_append(b, esc, 2) < 0)
				goto full;
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			if (buf_append(b, esc, 6) < 0)
				goto full;
			i++;
			continue;
		}
		n = utf8_seq_len(p + i, len - i);
		if (n == 0) {
			if (buf_append_str(b, "\\ufffd") < 0)
				goto full;
			i++;
			continue;
		}
		/* U+2028/U+2029: legal JSON, but line ends to JavaScript */
		if (n == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
		    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			if (buf_append_str(b, p[i + 2] == 0xa8 ?
			    "\\u2028" : "\\u2029") < 0)
				goto full;
			i += n;
			continue;
		}
		if (buf_append(b, p + i, n) < 0)
			goto full;
		i += n;
	}
	if (buf_append_char(b, '"') < 0)
		goto full;
	return 0;
full:
	/* leave the buffer as it was */
	b->len = start;
	if (b->data != NULL)
		b->data[start] = '\0';
	return -1;
}

int
json_append_cstr(struct buf *b, const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return buf_append_str(b, "null");
	while (s[n] != '\0')
		n++;
	return json_append_string(b, s, n);
}

int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq_len(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}
