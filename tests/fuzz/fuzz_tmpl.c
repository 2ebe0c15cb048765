/*
 * fuzz_tmpl.c - libFuzzer target for tmpl_render().
 *
 * Input: one byte choosing the context (mod 3), then a template, a NUL,
 * and a value (up to the next NUL). The value is set as "v" and "name",
 * inside two list items and a nested list, so sections and lists see
 * it too.
 *
 * Any bytes: no crash, leak or hang; an error leaves out as it was and
 * comes with a reason; HEADER output is one line. The value alone,
 * rendered escaped, must come out safe for its context: valid UTF-8,
 * no controls the context forbids, and in HTML none of < > " ' and no
 * '&' that does not start one of our five entities. A template without
 * tags renders as itself (HTML and TEXT).
 */
#define _GNU_SOURCE		/* memmem */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tmpl.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX		(64 * 1024)

/* utf8_ok - independent check: strict UTF-8 (RFC 3629) */
static int
utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 2;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 3;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 4;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (len - i < n)
			return 0;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		/* C1 controls are removed in every context */
		if (cp >= 0x80 && cp <= 0x9f)
			return 0;
		i += n;
	}
	return 1;
}

/* value_safe - the escaped rendering of a value obeys its context */
static void
value_safe(const struct buf *o, enum tmpl_ctx ctx)
{
	const unsigned char *s = (const unsigned char *)o->data;
	static const char *const ents[] = { "&amp;", "&lt;", "&gt;",
	    "&quot;", "&#39;" };
	size_t k;
	int ok;

	if (!utf8_ok(s, o->len))
		__builtin_trap();
	for (size_t i = 0; i < o->len; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c == 0x7f) {
			ok = (c == '\t' && ctx != TMPL_HEADER) ||
			    (c == '\n' && ctx != TMPL_HEADER) ||
			    (c == '\r' && ctx == TMPL_HTML);
			if (!ok)
				__builtin_trap();
		}
		if (ctx != TMPL_HTML)
			continue;
		if (c == '<' || c == '>' || c == '"' || c == '\'')
			__builtin_trap();
		if (c == '&') {
			for (k = 0; k < 5; k++)
				if (o->len - i >= strlen(ents[k]) &&
				    memcmp(s + i, ents[k],
				    strlen(ents[k])) == 0)
					break;
			if (k == 5)
				__builtin_trap();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl_vars *v, *it, *sub;
	const char *tmpl, *nul;
	enum tmpl_ctx ctx;
	struct buf out;
	size_t tlen, vlen;
	char *value, *err = NULL;
	int r;

	if (size < 1)
		return 0;
	ctx = (enum tmpl_ctx)(data[0] % 3);
	tmpl = (const char *)data + 1;
	tlen = size - 1;
	nul = memchr(tmpl, '\0', tlen);
	if (nul != NULL) {
		vlen = tlen - (size_t)(nul - tmpl) - 1;
		tlen = (size_t)(nul - tmpl);
		value = xstrndup(nul + 1, vlen);	/* stops at a NUL */
	} else
		value = xstrdup("a&b<c>\"d'e\xff");

	v = tmpl_vars_new();
	tmpl_set(v, "v", value);
	tmpl_set(v, "name", value);
	tmpl_set(v, "empty", "");
	for (int i = 0; i < 2; i++) {
		it = tmpl_list_add(v, "items");
		tmpl_set(it, "v", i ? value : "item");
		tmpl_set(it, "x", "x");
		sub = tmpl_list_add(it, "sub");
		tmpl_set(sub, "v", value);
	}

	/* the fuzzed template */
	buf_init(&out, OUT_MAX);
	(void)buf_append_str(&out, "pre");
	r = tmpl_render(tmpl, tlen, ctx, v, &out, &err);
	if ((r < 0) != (err != NULL) || (r != 0 && r != -1))
		__builtin_trap();
	if (r < 0 && (out.len != 3 || memcmp(out.data, "pre", 4) != 0))
		__builtin_trap();
	if (r == 0 && ctx == TMPL_HEADER &&
	    (memchr(out.data, '\n', out.len) != NULL ||
	    memchr(out.data, '\r', out.len) != NULL))
		__builtin_trap();
	if (ctx != TMPL_HEADER && tlen <= TMPL_SIZE_MAX &&
	    tlen + 3 <= OUT_MAX && memmem(tmpl, tlen, "{{", 2) == NULL &&
	    (r != 0 || out.len != tlen + 3 ||
	    memcmp(out.data + 3, tmpl, tlen) != 0))
		__builtin_trap();
	xfree(err);
	err = NULL;
	buf_free(&out);

	/* the fuzzed value, escaped, in each context */
	for (int c = TMPL_HTML; c <= TMPL_HEADER; c++) {
		buf_init(&out, 8 * strlen(value) + 16);
		if (tmpl_render("{{v}}", 5, (enum tmpl_ctx)c, v, &out,
		    &err) != 0)
			__builtin_trap();
		value_safe(&out, (enum tmpl_ctx)c);
		buf_free(&out);
	}
	/* raw in TEXT is the value itself */
	buf_init(&out, strlen(value) + 1);
	if (tmpl_render("{{{v}}}", 7, TMPL_TEXT, v, &out, &err) != 0 ||
	    out.len != strlen(value) || memcmp(buf_cstr(&out), value,
	    out.len) != 0)
		__builtin_trap();
	buf_free(&out);

	tmpl_vars_free(&v);
	xfree(value);
	return 0;
}
