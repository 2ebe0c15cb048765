/*
 * test_portal_disp.c - unit tests for escrow-web/web_disp.c: file names
 * cleaned from hostile input (paths, controls, bidi overrides, invalid
 * UTF-8, Windows-reserved characters, length cut on a character with
 * the extension kept), RFC 6266 Content-Disposition values checked by
 * decoding them back, and the content-type allowlist.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web_disp.h"
#include "web_limits.h"
#include "lib/json.h"
#include "lib/xalloc.h"

static void
test_clean_name(void **state)
{
	static const struct {
		const char *what, *in, *want;
	} v[] = {
		{ "plain", "report.pdf", "report.pdf" },
		{ "UTF-8 kept", "Pr\xc3\xbc" "fbericht \xce\xa9.pdf",
		  "Pr\xc3\xbc" "fbericht \xce\xa9.pdf" },
		{ "unix path", "../../etc/passwd", "passwd" },
		{ "windows path", "C:\\Users\\x\\evil.exe", "evil.exe" },
		{ "trailing slash", "dir/", "fallback" },
		{ "dot files", "...htaccess", "htaccess" },
		{ "trailing dots and blanks", "name.txt. . ", "name.txt" },
		{ "controls dropped", "a\r\nb\tc\x01" "d.txt", "abcd.txt" },
		{ "C1 dropped", "a\xc2\x85" "b", "ab" },
		{ "bidi override dropped", "evil\xe2\x80\xae" "fdp.exe",
		  "evilfdp.exe" },
		{ "reserved replaced", "a<b>c:d\"e|f?g*h", "a_b_c_d_e_f_g_h" },
		{ "invalid UTF-8", "a\xff" "b", "a\xef\xbf\xbd" "b" },
		{ "overlong NUL-ish", "a\xc0\x80" "b",
		  "a\xef\xbf\xbd\xef\xbf\xbd" "b" },
		{ "empty", "", "fallback" },
		{ "only dots", "..", "fallback" },
		{ "NULL", NULL, "fallback" },
	};
	struct buf b;

	buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_reset(&b);
		assert_int_equal(web_disp_clean_name(v[i].in, "fallback", &b),
		    0);
		if (strcmp(buf_cstr(&b), v[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", v[i].what,
			    buf_cstr(&b), v[i].want);
	}
	buf_free(&b);
}

/* valid_utf8 - 1 if s is well-formed UTF-8 */
static int
valid_utf8(const char *s)
{
	size_t len = strlen(s), i = 0, n;

	while (i < len) {
		n = utf8_seq_len((const unsigned char *)s + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

static void
test_clean_name_long(void **state)
{
	struct buf b;
	char *in = xmalloc(4 * 1000 + 16);
	size_t i;

	buf_init(&b, 8192);
	/* 1000 three-byte characters and an extension: cut on a character,
	 * at most WEB_FILENAME_MAX bytes, ".pdf" kept */
	for (i = 0; i < 1000; i++)
		memcpy(in + 3 * i, "\xe2\x82\xac", 3);
	memcpy(in + 3000, ".pdf", 5);
	assert_int_equal(web_disp_clean_name(in, "f", &b), 0);
	assert_true(b.len <= WEB_FILENAME_MAX);
	assert_true(valid_utf8(buf_cstr(&b)));
	assert_int_equal(strcmp(buf_cstr(&b) + b.len - 4, ".pdf"), 0);
	/* exactly the cap: unchanged */
	buf_reset(&b);
	memset(in, 'a', WEB_FILENAME_MAX);
	in[WEB_FILENAME_MAX] = '\0';
	assert_int_equal(web_disp_clean_name(in, "f", &b), 0);
	assert_int_equal(b.len, WEB_FILENAME_MAX);
	/* one over: cut */
	buf_reset(&b);
	memset(in, 'a', WEB_FILENAME_MAX + 1);
	in[WEB_FILENAME_MAX + 1] = '\0';
	assert_int_equal(web_disp_clean_name(in, "f", &b), 0);
	assert_int_equal(b.len, WEB_FILENAME_MAX);
	/* the cut lands on a blank or a dot: trimmed, so cleaning the
	 * result again changes nothing */
	{
		static const char tail[] = { ' ', '.' };
		for (size_t k = 0; k < 2; k++) {
			struct buf again;
			buf_reset(&b);
			memset(in, 'a', 199);
			in[199] = tail[k];
			memset(in + 200, 'b', 20);
			in[220] = '\0';
			assert_int_equal(web_disp_clean_name(in, "f", &b), 0);
			assert_int_equal(b.len, 199);
			buf_init(&again, 8192);
			assert_int_equal(web_disp_clean_name(buf_cstr(&b), "f",
			    &again), 0);
			assert_string_equal(buf_cstr(&again), buf_cstr(&b));
			buf_free(&again);
		}
	}
	/* a long "extension" is not kept specially */
	buf_reset(&b);
	memset(in, 'a', 300);
	in[100] = '.';
	in[300] = '\0';
	assert_int_equal(web_disp_clean_name(in, "f", &b), 0);
	assert_int_equal(b.len, WEB_FILENAME_MAX);
	buf_free(&b);
	xfree(in);
}

/* pct_decode - RFC 8187 value back to bytes */
static void
pct_decode(const char *s, struct buf *out)
{
	while (*s != '\0') {
		if (*s == '%') {
			char h[3] = { s[1], s[2], '\0' };
			unsigned v = (unsigned)strtoul(h, NULL, 16);
			assert_true(s[1] != '\0' && s[2] != '\0');
			assert_int_equal(buf_append_char(out, (char)v), 0);
			s += 3;
		} else {
			assert_int_equal(buf_append_char(out, *s), 0);
			s++;
		}
	}
}

static void
test_attachment(void **state)
{
	static const struct {
		const char *name, *ascii;
	} v[] = {
		{ "report.pdf", "report.pdf" },
		{ "Pr\xc3\xbc" "fbericht \xce\xa9mega \xe2\x84\x96" "1.pdf",
		  "Pr_fbericht _mega _1.pdf" },
		{ "Seite f\xc3\xbcr dich.html", "Seite f_r dich.html" },
		{ "100% sure; \"quoted\" \\.txt", "100_ sure_ _quoted_ _.txt" },
		{ "emoji \xf0\x9f\x98\x80.png", "emoji _.png" },
		{ "a'b(c)=d.txt", "a'b(c)=d.txt" },
	};
	struct buf b, dec;

	buf_init(&b, 4096);
	buf_init(&dec, 4096);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *p, *star;
		char *want;

		buf_reset(&b);
		buf_reset(&dec);
		assert_int_equal(web_disp_attachment(v[i].name, &b), 0);
		p = buf_cstr(&b);
		want = xasprintf("attachment; filename=\"%s\"; filename*=UTF-8''",
		    v[i].ascii);
		if (strncmp(p, want, strlen(want)) != 0)
			fail_msg("\"%s\": got %s, want prefix %s", v[i].name, p,
			    want);
		star = p + strlen(want);
		/* only attr-char and %XX in the extended value */
		for (const char *q = star; *q != '\0'; q++)
			if (strchr("!#$&+-.^_`|~%", *q) == NULL &&
			    !((*q >= '0' && *q <= '9') ||
			    (*q >= 'a' && *q <= 'z') ||
			    (*q >= 'A' && *q <= 'Z')))
				fail_msg("\"%s\": '%c' in filename*", v[i].name,
				    *q);
		pct_decode(star, &dec);
		assert_string_equal(buf_cstr(&dec), v[i].name);
		/* nothing that ends the header or the quoted string */
		assert_null(strpbrk(p, "\r\n"));
		xfree(want);
	}
	/* out of room: unchanged */
	buf_free(&b);
	buf_init(&b, 30);
	assert_int_equal(buf_append_str(&b, "x"), 0);
	assert_int_equal(web_disp_attachment("a-rather-long-name.pdf", &b),
	    -1);
	assert_string_equal(buf_cstr(&b), "x");
	buf_free(&b);
	buf_free(&dec);
}

static void
test_content_type(void **state)
{
	static const struct {
		const char *type, *charset, *want;
	} v[] = {
		{ "application/pdf", NULL, "application/pdf" },
		{ "Application/PDF", NULL, "application/pdf" },
		{ "image/png", "x", "image/png" },
		{ "text/plain", "utf-8", "text/plain; charset=utf-8" },
		{ "text/plain", "ISO-8859-1", "text/plain; charset=ISO-8859-1" },
		{ "text/plain", NULL, "text/plain" },
		{ "text/plain", "utf-8\r\nX-Evil: 1", "text/plain" },
		{ "text/plain", "a;b", "text/plain" },
		{ "text/html", "utf-8", WEB_DISP_OCTET },
		{ "application/xhtml+xml", NULL, WEB_DISP_OCTET },
		{ "image/svg+xml", NULL, WEB_DISP_OCTET },
		{ "text/xml", NULL, WEB_DISP_OCTET },
		{ "application/xml", NULL, WEB_DISP_OCTET },
		{ "application/javascript", NULL, WEB_DISP_OCTET },
		{ "text/javascript", NULL, WEB_DISP_OCTET },
		{ "message/rfc822", NULL, WEB_DISP_OCTET },
		{ "multipart/x-mixed-replace", NULL, WEB_DISP_OCTET },
		{ "application/pdf; x=y", NULL, WEB_DISP_OCTET },
		{ "", NULL, WEB_DISP_OCTET },
		{ NULL, NULL, WEB_DISP_OCTET },
	};
	struct buf b;

	buf_init(&b, 1024);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_reset(&b);
		assert_int_equal(web_disp_content_type(v[i].type, v[i].charset,
		    &b), 0);
		if (strcmp(buf_cstr(&b), v[i].want) != 0)
			fail_msg("%s/%s: got \"%s\", want \"%s\"",
			    v[i].type ? v[i].type : "NULL",
			    v[i].charset ? v[i].charset : "NULL", buf_cstr(&b),
			    v[i].want);
	}
	buf_free(&b);
	assert_int_equal(web_disp_type_safe("application/pdf"), 1);
	assert_int_equal(web_disp_type_safe("text/html"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_name),
		cmocka_unit_test(test_clean_name_long),
		cmocka_unit_test(test_attachment),
		cmocka_unit_test(test_content_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
