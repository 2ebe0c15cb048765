/*
 * fuzz_portal_cookie.c - libFuzzer target for web_cookie_find() and
 * web_cookie_build() (escrow-web/web_cookie.c).
 *
 * Input: byte 0 picks the cookie name looked for (the portal's two,
 * a one-letter one, or one taken from the input) and the checks run;
 * the rest is the Cookie header (all Cookie headers joined with "; ").
 *
 * Any bytes: no crash, leak or hang; the result is -1, 0 or 1 and
 * agrees with an independent parser of the header (RFC 6265 5.4,
 * lenient, duplicates refused); a found value lies inside the header,
 * is never longer than it, holds no ';', control byte or surrounding
 * blank; a header over WEB_COOKIE_HDR_MAX or with a control byte is
 * refused. Metamorphic: unrelated pairs added in front change nothing,
 * the same name added again makes it ambiguous (-1). What
 * web_cookie_build() writes is one line with the fixed attributes,
 * refuses what is not a token / cookie-octets (out unchanged), and
 * parses back to the same value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "web_cookie.h"
#include "web_limits.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

#define NAME_MAX_FZ	32

static int
ows(char c)
{
	return c == ' ' || c == '\t';
}

/* ref_find - the reference: same contract, written independently */
static int
ref_find(const char *h, size_t len, const char *name, size_t *vs_out,
    size_t *vl_out)
{
	size_t i, p, q, nlen = strlen(name);
	int found = 0;

	if (len > WEB_COOKIE_HDR_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (((unsigned char)h[i] < 0x20 && h[i] != '\t') ||
		    (unsigned char)h[i] == 0x7f)
			return -1;
	p = 0;
	while (p <= len) {
		const char *pair = h + p, *semi, *eq, *k, *ke, *v, *ve;
		size_t plen;

		semi = memchr(pair, ';', len - p);
		plen = semi != NULL ? (size_t)(semi - pair) : len - p;
		q = p + plen + 1;
		eq = memchr(pair, '=', plen);
		if (eq != NULL) {
			k = pair;
			ke = eq;
			while (k < ke && ows(*k))
				k++;
			while (ke > k && ows(ke[-1]))
				ke--;
			if ((size_t)(ke - k) == nlen &&
			    strncmp(k, name, nlen) == 0) {
				v = eq + 1;
				ve = pair + plen;
				while (v < ve && ows(*v))
					v++;
				while (ve > v && ows(ve[-1]))
					ve--;
				if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
					v++;
					ve--;
				}
				if (found)
					return -1;
				found = 1;
				*vs_out = (size_t)(v - h);
				*vl_out = (size_t)(ve - v);
			}
		}
		if (semi == NULL)
			break;
		p = q;
	}
	return found;
}

/* find_checked - web_cookie_find with its contract checked */
static int
find_checked(const char *h, size_t len, const char *name, struct slice *v)
{
	size_t rs = 0, rl = 0, i;
	int r, ref;

	v->ptr = (const char *)0x1;	/* must be overwritten */
	v->len = (size_t)-1;
	r = web_cookie_find(h, len, name, v);
	ref = ref_find(h, len, name, &rs, &rl);
	CHECK(r == -1 || r == 0 || r == 1);
	CHECK(r == ref);
	if (r == 0) {
		CHECK(v->len == 0 && v->ptr != NULL);
		return r;
	}
	if (r == -1) {
		/* a duplicate leaves the first value in *v (callers test
		 * for 1); it must still lie inside the header */
		CHECK(v->ptr != NULL);
		CHECK(v->len == 0 || (v->len <= len && v->ptr >= h &&
		    v->ptr + v->len <= h + len));
		return r;
	}
	CHECK(v->len <= len);
	CHECK(v->ptr >= h && v->ptr + v->len <= h + len);
	CHECK((size_t)(v->ptr - h) == rs && v->len == rl);
	for (i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->ptr[i];
		CHECK(c != ';' && c != 0x7f && (c >= 0x20 || c == '\t'));
	}
	if (v->len > 0) {
		CHECK(!ows(v->ptr[0]) || (v->ptr > h && v->ptr[-1] == '"'));
		CHECK(!ows(v->ptr[v->len - 1]) ||
		    (v->ptr + v->len < h + len && v->ptr[v->len] == '"'));
	}
	return r;
}

/* is_token - RFC 7230 tchar+, independently */
static int
is_token(const char *s)
{
	static const char set[] = "!#$%&'*+-.^_`|~0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	return s[0] != '\0' && strspn(s, set) == strlen(s);
}

static int
is_octets(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x21 || c > 0x7e || c == '"' || c == ',' ||
		    c == ';' || c == '\\')
			return 0;
	}
	return 1;
}

/* check_build - Set-Cookie of name=value */
static void
check_build(const char *name, const char *value, long max_age,
    size_t outmax)
{
	struct buf out;
	struct slice v;
	char *dup;
	size_t i;
	int r, ok = is_token(name) && is_octets(value);

	buf_init(&out, outmax);
	CHECK(buf_append_str(&out, "X") == 0 || outmax == 0);
	r = web_cookie_build(&out, name, value, max_age);
	if (!ok || r < 0) {
		CHECK(r == -1);
		CHECK(outmax == 0 ? out.len == 0 :
		    (out.len == 1 && strcmp(out.data, "X") == 0));
		buf_free(&out);
		return;
	}
	CHECK(r == 0);
	CHECK(out.len == strlen(out.data));
	for (i = 0; i < out.len; i++) {
		unsigned char c = (unsigned char)out.data[i];
		CHECK(c >= 0x20 && c < 0x7f);
	}
	dup = xstrdup(out.data + 1);
	CHECK(strncmp(dup, name, strlen(name)) == 0 &&
	    dup[strlen(name)] == '=');
	CHECK(strstr(dup, "; Path=/") != NULL);
	CHECK(strstr(dup, "; HttpOnly; Secure; SameSite=Strict") != NULL);
	CHECK((strstr(dup, "; Max-Age=") != NULL) == (max_age >= 0));
	/* the pair before the first ';' is what the browser sends back */
	*strchr(dup, ';') = '\0';
	CHECK(find_checked(dup, strlen(dup), name, &v) == 1);
	/* a value wrapped in quotes comes back unwrapped: not a round
	 * trip, but no such value is a cookie-octet string anyway */
	CHECK(v.len == strlen(value) && memcmp(v.ptr, value, v.len) == 0);
	xfree(dup);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { WEB_COOKIE_SESSION,
	    WEB_COOKIE_PRE, "a" };
	char name[NAME_MAX_FZ + 1];
	const char *hdr_in;
	char *hdr, *h2;
	size_t len, nl, i;
	struct slice v, v2;
	int r, r2;

	if (size < 1 || size > 3 * WEB_COOKIE_HDR_MAX)
		return 0;
	hdr_in = (const char *)data + 1;
	len = size - 1;
	if ((data[0] & 3) < 3) {
		snprintf(name, sizeof(name), "%s", names[data[0] & 3]);
	} else {
		/* name: the header's first bytes up to '=' (bounded) */
		for (nl = 0; nl < len && nl < NAME_MAX_FZ &&
		    hdr_in[nl] != '=' && hdr_in[nl] != '\0'; nl++)
			name[nl] = hdr_in[nl];
		name[nl] = '\0';
	}
	/* exact-size copy: ASan catches a read past the end */
	hdr = xmalloc(len > 0 ? len : 1);
	memcpy(hdr, hdr_in, len);

	r = find_checked(hdr, len, name, &v);

	/* an unrelated pair in front changes nothing */
	if (len + 16 <= 3 * WEB_COOKIE_HDR_MAX && strcmp(name, "zz") != 0) {
		static const char pre[] = "zz=\"1\"; ";
		h2 = xmalloc(len + sizeof(pre) - 1);
		memcpy(h2, pre, sizeof(pre) - 1);
		memcpy(h2 + sizeof(pre) - 1, hdr, len);
		r2 = find_checked(h2, len + sizeof(pre) - 1, name, &v2);
		if (len + sizeof(pre) - 1 <= WEB_COOKIE_HDR_MAX) {
			CHECK(r2 == r);
			if (r == 1)
				CHECK(v2.len == v.len &&
				    memcmp(v2.ptr, v.ptr, v.len) == 0);
		}
		xfree(h2);
	}
	/* the name once more: ambiguous, refused */
	if (r == 1 && name[0] != '\0' && strchr(name, '=') == NULL &&
	    strchr(name, ';') == NULL) {
		nl = strlen(name);
		h2 = xmalloc(len + nl + 4);
		memcpy(h2, hdr, len);
		memcpy(h2 + len, "; ", 2);
		memcpy(h2 + len + 2, name, nl);
		memcpy(h2 + len + 2 + nl, "=x", 2);
		CHECK(find_checked(h2, len + nl + 4, name, &v2) == -1);
		xfree(h2);
	}

	/* Set-Cookie: the found value (or the input) as a value */
	if (data[0] & 4) {
		char *val = xmalloc(len + 1);
		long ages[] = { -1, 0, 3600, 2147483647L };

		memcpy(val, r == 1 ? v.ptr : hdr, r == 1 ? v.len : len);
		val[r == 1 ? v.len : len] = '\0';
		for (i = 0; i < 4; i++)
			check_build(name, val, ages[(data[0] >> 3) & 3],
			    i == 0 ? 0 : i == 1 ? 16 : 1 << 16);
		xfree(val);
	}
	xfree(hdr);
	return 0;
}
