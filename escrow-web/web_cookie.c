/*
 * web_cookie.c - Cookie header parsing and Set-Cookie building.
 *
 * Implements: RFC 6265 4.1.1 (Set-Cookie syntax: cookie-octet, token),
 * 5.4 (the Cookie header as browsers send it), draft-ietf-httpbis-
 * rfc6265bis (SameSite).
 * Trust: the header is raw client input: bounded, control bytes
 * refused, duplicates refused (cookie tossing from a sibling domain
 * must not pick which session we see). No I/O, no logging.
 */
#include <string.h>

#include "web_cookie.h"
#include "web_limits.h"

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* is_tchar - RFC 7230 3.2.6 token character */
static int
is_tchar(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return 1;
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* is_cookie_octet - RFC 6265 4.1.1: no CTL, blank, DQUOTE, ',', ';', '\' */
static int
is_cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
	    (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e);
}

/* web_cookie_find - the one value of name in a Cookie header */
int
web_cookie_find(const char *hdr, size_t len, const char *name,
    struct slice *val_out)
{
	size_t nlen = strlen(name), i = 0;
	int found = 0;

	*val_out = SLICE_EMPTY;
	if (len > WEB_COOKIE_HDR_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)hdr[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	i = 0;
	while (i < len) {
		size_t start = i, end, eq, ks, ke, vs, ve;

		while (i < len && hdr[i] != ';')
			i++;
		end = i;
		i++;	/* past ';' */
		for (eq = start; eq < end && hdr[eq] != '='; eq++)
			;
		if (eq == end)
			continue;
		ks = start;
		ke = eq;
		while (ks < ke && is_ows(hdr[ks]))
			ks++;
		while (ke > ks && is_ows(hdr[ke - 1]))
			ke--;
		if (ke - ks != nlen || memcmp(hdr + ks, name, nlen) != 0)
			continue;
		vs = eq + 1;
		ve = end;
		while (vs < ve && is_ows(hdr[vs]))
			vs++;
		while (ve > vs && is_ows(hdr[ve - 1]))
			ve--;
		if (ve - vs >= 2 && hdr[vs] == '"' && hdr[ve - 1] == '"') {
			vs++;
			ve--;
		}
		if (found) {
			/* a duplicate: ambiguous, nothing is returned */
			*val_out = SLICE_EMPTY;
			return -1;
		}
		found = 1;
		*val_out = slice_make(hdr + vs, ve - vs);
	}
	if (!found)
		*val_out = SLICE_EMPTY;
	return found;
}

/* web_cookie_build - one Set-Cookie value with our fixed attributes */
int
web_cookie_build(struct buf *out, const char *name, const char *value,
    long max_age)
{
	size_t old = out->len, i;
	int r;

	if (name[0] == '\0')
		return -1;
	for (i = 0; name[i] != '\0'; i++)
		if (!is_tchar((unsigned char)name[i]))
			return -1;
	for (i = 0; value[i] != '\0'; i++)
		if (!is_cookie_octet((unsigned char)value[i]))
			return -1;
	/* Secure even behind a plain-HTTP proxy hop: the browser sees
	 * https; SameSite=Strict keeps it off cross-site requests */
	r = buf_printf(out, "%s=%s; Path=/", name, value);
	if (r == 0 && max_age >= 0)
		r = buf_printf(out, "; Max-Age=%ld", max_age);
	if (r == 0)
		r = buf_append_str(out, "; HttpOnly; Secure; SameSite=Strict");
	if (r < 0) {
		out->len = old;
		if (out->data != NULL)
			out->data[old] = '\0';
		return -1;
	}
	return 0;
}
