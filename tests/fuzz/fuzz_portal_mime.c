/*
 * fuzz_portal_mime.c - libFuzzer target for the escrowed message as the
 * portal shows it (escrow-web/web_mime.c with GMime): web_msg_parse()
 * and the part selection, the header summary, web_msg_att_data(), the
 * download headers built from an attachment (web_disp.c) and the
 * remote-image hint; web_msg_parse_headers() as the inbox uses it.
 *
 * Input: the whole message (what the sender wrote, after unsealing).
 *
 * Any bytes: no crash, leak or hang; a NULL result comes with a reason.
 * Summary strings (From, Subject, Date, Message-ID, References) are
 * valid UTF-8 without any control character (C0, DEL, C1): they go into
 * new headers; Message-ID and each reference under 1000 bytes, at most
 * 20 references, no NULL among them. Bodies are valid UTF-8. Leaves
 * picked are bounded: text + HTML + attachments <= WEB_MIME_PARTS_MAX.
 * Every attachment has a clean name (valid UTF-8, non-empty, at most
 * WEB_FILENAME_MAX bytes, no path separator, control, bidi control or
 * <>:"|?*), a lower-case type, a size equal to the bytes
 * web_msg_att_data() gives; out-of-range indexes are refused; the
 * Content-Type served is a safe type or octet-stream and the
 * Content-Disposition one printable line. The header-only parse has
 * no bodies or attachments and the same From and Subject (the inbox
 * and the message page agree). The remote-image hint is 0 for HTML
 * without "http:", "https:" or "//".
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "web_disp.h"
#include "web_limits.h"
#include "web_mime.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

#define MSG_MAX_FZ	(256 * 1024)

/* next_cp - strict UTF-8 (RFC 3629); length, 0 if malformed */
static size_t
next_cp(const unsigned char *s, size_t len, unsigned long *cp)
{
	size_t n, k;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		*cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		*cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[k] & 0x3f);
	}
	if ((n == 2 && *cp < 0x80) || (n == 3 && *cp < 0x800) ||
	    (n == 4 && *cp < 0x10000) || *cp > 0x10ffff ||
	    (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/* check_utf8 - valid UTF-8; line: no control character at all */
static void
check_utf8(const char *s, int line)
{
	size_t len = strlen(s), i = 0, n;
	unsigned long cp;

	while (i < len) {
		n = next_cp((const unsigned char *)s + i, len - i, &cp);
		CHECK(n > 0);
		if (line)
			CHECK(cp >= 0x20 && !(cp >= 0x7f && cp < 0xa0));
		i += n;
	}
}

static void
check_name(const char *s)
{
	size_t len = strlen(s), i = 0, n;
	unsigned long cp;

	CHECK(len > 0 && len <= WEB_FILENAME_MAX);
	while (i < len) {
		n = next_cp((const unsigned char *)s + i, len - i, &cp);
		CHECK(n > 0);
		CHECK(cp >= 0x20 && !(cp >= 0x7f && cp < 0xa0));
		CHECK(cp != 0x2028 && cp != 0x2029);
		CHECK(!(cp >= 0x202a && cp <= 0x202e));
		CHECK(!(cp >= 0x2066 && cp <= 0x2069));
		CHECK(cp >= 0x80 || strchr("/\\<>:\"|?*", (int)cp) == NULL);
		i += n;
	}
	CHECK(s[0] != '.' && s[0] != ' ');
}

/* check_header_value - one printable ASCII line, no quote tricks */
static void
check_header_value(const struct buf *b)
{
	size_t i;

	CHECK(b->len > 0 && strlen(b->data) == b->len);
	for (i = 0; i < b->len; i++)
		CHECK(b->data[i] >= 0x20 && b->data[i] < 0x7f);
}

static int
has_ci(const char *s, const char *lit)
{
	size_t n = strlen(lit);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, lit, n) == 0)
			return 1;
	return 0;
}

static void
check_msg(const struct web_msg *m, int headers_only)
{
	const char *s;
	size_t i, n, natt, leaves;
	struct buf b, ct, cd;

	if ((s = web_msg_from(m)) != NULL)
		check_utf8(s, 1);
	if ((s = web_msg_subject(m)) != NULL)
		check_utf8(s, 1);
	if ((s = web_msg_date(m)) != NULL)
		check_utf8(s, 1);
	if ((s = web_msg_message_id(m)) != NULL) {
		check_utf8(s, 1);
		CHECK(strlen(s) < 1000);
	}
	n = web_msg_nrefs(m);
	CHECK(n <= 20);
	for (i = 0; i < n; i++) {
		s = web_msg_ref(m, i);
		CHECK(s != NULL && s[0] != '\0' && strlen(s) < 1000);
		check_utf8(s, 1);
	}
	CHECK(web_msg_ref(m, n) == NULL);

	natt = web_msg_natt(m);
	CHECK(web_msg_att(m, natt) == NULL);
	buf_init(&b, SIZE_MAX - 1);
	CHECK(web_msg_att_data(m, natt, &b) == -1 && b.len == 0);
	if (headers_only) {
		CHECK(web_msg_text(m) == NULL && web_msg_html(m) == NULL &&
		    natt == 0);
		buf_free(&b);
		return;
	}
	leaves = natt;
	if ((s = web_msg_text(m)) != NULL) {
		check_utf8(s, 0);
		leaves++;
	}
	if ((s = web_msg_html(m)) != NULL) {
		int ri;

		check_utf8(s, 0);
		leaves++;
		ri = web_html_remote_images(s);
		CHECK(ri == 0 || ri == 1);
		if (!has_ci(s, "http:") && !has_ci(s, "https:") &&
		    strstr(s, "//") == NULL)
			CHECK(ri == 0);
	}
	CHECK(leaves <= WEB_MIME_PARTS_MAX);

	for (i = 0; i < natt; i++) {
		const struct web_att *a = web_msg_att(m, i);
		size_t k;

		CHECK(a != NULL && a->filename != NULL && a->type != NULL);
		check_name(a->filename);
		for (k = 0; a->type[k] != '\0'; k++)
			CHECK(!(a->type[k] >= 'A' && a->type[k] <= 'Z'));
		buf_reset(&b);
		CHECK(web_msg_att_data(m, i, &b) == 0);
		CHECK(b.len == a->size);
		/* the download: Content-Type and Content-Disposition */
		buf_init(&ct, 4096);
		buf_init(&cd, 4096);
		CHECK(web_disp_content_type(a->type, a->charset, &ct) == 0);
		check_header_value(&ct);
		if (strcmp(ct.data, WEB_DISP_OCTET) != 0) {
			char *semi = strchr(ct.data, ';');
			if (semi != NULL)
				*semi = '\0';
			CHECK(web_disp_type_safe(ct.data));
			CHECK(strcmp(ct.data, a->type) == 0);
		}
		CHECK(web_disp_attachment(a->filename, &cd) == 0);
		check_header_value(&cd);
		buf_free(&ct);
		buf_free(&cd);
	}
	buf_free(&b);
}

static int
same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web_msg *m, *h;
	char *copy, *err = NULL;

	if (size > MSG_MAX_FZ)
		return 0;
	/* exact-size heap copy: ASan sees any read past the end */
	copy = xmalloc(size > 0 ? size : 1);
	memcpy(copy, data, size);

	m = web_msg_parse(copy, size, &err);
	if (m == NULL) {
		CHECK(err != NULL && err[0] != '\0');
		xfree(err);
		err = NULL;
	} else {
		CHECK(err == NULL);
		check_msg(m, 0);
	}

	h = web_msg_parse_headers(copy, size, &err);
	if (h == NULL) {
		CHECK(err != NULL && err[0] != '\0');
		xfree(err);
	} else {
		CHECK(err == NULL);
		check_msg(h, 1);
		/* the inbox shows what the message page shows */
		if (m != NULL) {
			CHECK(same(web_msg_from(m), web_msg_from(h)));
			CHECK(same(web_msg_subject(m), web_msg_subject(h)));
		}
		web_msg_free(&h);
		CHECK(h == NULL);
	}
	if (m != NULL) {
		web_msg_free(&m);
		CHECK(m == NULL);
	}
	xfree(copy);
	return 0;
}
