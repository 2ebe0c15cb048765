/*
 * test_escrow.c - the pure parts of the escrow store: the notification
 * mail (headers, both parts, escaping, hidden and RFC 2047 subjects,
 * links), header encoding, quoted-printable lines, refusals, and the
 * configuration helpers. Uses the shipped templates in templates/ (run
 * from the repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "escrow.h"
#include "tmpl.h"
#include "lib/b64.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define LINK_ENROLL "https://portal.example.com:8443/enroll?t=" \
	"AAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKK"
#define LINK_MSG "https://portal.example.com:8443/m/" \
	"ZZZZyyyyXXXXwwwwVVVVuuuuTTTTssssRRRRqqqqPPP"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	buf_init(&b, TMPL_SIZE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(f);
	return buf_steal(&b, NULL);
}

struct tmpls {
	char *subject, *text, *html;
};

static int
setup(void **state)
{
	struct tmpls *t = xcalloc(1, sizeof(*t));

	t->subject = slurp("templates/notification_subject.txt");
	t->text = slurp("templates/notification.txt");
	t->html = slurp("templates/notification.html");
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tmpls *t = *state;

	xfree(t->subject);
	xfree(t->text);
	xfree(t->html);
	xfree(t);
	return 0;
}

static void
base_notify(const struct tmpls *t, struct escrow_notify *n)
{
	memset(n, 0, sizeof(*n));
	n->tmpl_subject = t->subject;
	n->tmpl_text = t->text;
	n->tmpl_html = t->html;
	n->sender_address = "alice@example.org";
	n->sender_name = "Alice Example";
	n->subject = "Quarterly figures";
	n->expires = "2030-01-31 12:00 UTC";
	n->link = LINK_ENROLL;
	n->enroll = 1;
	n->org_name = "Example Org";
	n->support = "help@example.org";
	n->color_accent = "#1f4e79";
	n->color_accent_text = "#ffffff";
	n->from_addr = "secure-mail@mx.example.org";
	n->to_addr = "bob@example.com";
	n->message_id = "01HQID.escrow@mx.example.org";
	n->boundary_seed = "01HQID";
	n->date = 1893456000;	/* 2030-01-01 00:00:00 UTC */
}

/* build - the notification into out (freed by the caller) */
static void
build(const struct escrow_notify *n, struct buf *out)
{
	char *err = NULL;
	int r;

	buf_init(out, ESCROW_MAIL_MAX);
	r = escrow_notify_build(n, out, &err);
	if (r != 0)
		fail_msg("escrow_notify_build: got %d (%s), want 0", r,
		    err != NULL ? err : "-");
}

/* qp_decode - quoted-printable body into a new string */
static char *
qp_decode(const char *s, size_t len)
{
	char *o = xmalloc(len + 1);
	size_t i = 0, k = 0;

	while (i < len) {
		if (s[i] == '=' && i + 2 < len + 1 && s[i + 1] == '\r' &&
		    s[i + 2] == '\n') {
			i += 3;
		} else if (s[i] == '=' && i + 2 < len) {
			char h[3] = { s[i + 1], s[i + 2], 0 };
			o[k++] = (char)strtol(h, NULL, 16);
			i += 3;
		} else {
			o[k++] = s[i++];
		}
	}
	o[k] = '\0';
	return o;
}

/* part - the decoded body of the part with this Content-Type, with
 * '\n' line ends */
static char *
part(const char *mail, const char *ctype)
{
	const char *p = strstr(mail, ctype), *b, *e;
	char *d, *r, *w;

	if (p == NULL)
		fail_msg("no %s part", ctype);
	b = strstr(p, "\r\n\r\n");
	assert_non_null(b);
	b += 4;
	e = strstr(b, "\r\n--=_sg_");
	assert_non_null(e);
	d = qp_decode(b, (size_t)(e - b));
	for (r = w = d; *r != '\0'; r++)
		if (!(r[0] == '\r' && r[1] == '\n'))
			*w++ = *r;
	*w = '\0';
	return d;
}

/* header_section - up to the empty line */
static char *
header_section(const char *mail)
{
	const char *e = strstr(mail, "\r\n\r\n");

	assert_non_null(e);
	return xstrndup(mail, (size_t)(e - mail) + 2);
}

/* subject_decoded - the Subject field, unfolded, encoded words decoded */
static char *
subject_decoded(const char *mail)
{
	char *h = header_section(mail), *p, *q;
	struct buf out;

	p = strstr(h, "\r\nSubject: ");
	assert_non_null(p);
	p += 11;
	buf_init(&out, 65536);
	for (;;) {
		if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
			q = strstr(p + 10, "?=");
			assert_non_null(q);
			assert_int_equal(b64_decode(p + 10, (size_t)(q - p - 10),
			    &out), 0);
			p = q + 2;
		} else if (strncmp(p, "\r\n ", 3) == 0) {
			p += 3;
			/* between two encoded words folding is not text */
			if (strncmp(p, "=?", 2) != 0)
				assert_int_equal(buf_append_char(&out, ' '), 0);
		} else if (strncmp(p, "\r\n", 2) == 0) {
			break;
		} else {
			assert_int_equal(buf_append_char(&out, *p), 0);
			p++;
		}
	}
	xfree(h);
	return buf_steal(&out, NULL);
}

static void
assert_lines_max(const char *mail, size_t max)
{
	const char *p = mail, *nl;

	while ((nl = strstr(p, "\r\n")) != NULL) {
		if ((size_t)(nl - p) > max)
			fail_msg("line of %zu characters, want at most %zu: "
			    "%.80s", (size_t)(nl - p), max, p);
		p = nl + 2;
	}
}

static void
assert_7bit(const char *mail, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)mail[i] >= 0x80 || mail[i] == '\0')
			fail_msg("byte 0x%02x at %zu: want 7-bit text",
			    (unsigned char)mail[i], i);
	/* no bare CR or LF */
	for (i = 0; i < len; i++)
		if ((mail[i] == '\n' && (i == 0 || mail[i - 1] != '\r')) ||
		    (mail[i] == '\r' && (i + 1 == len || mail[i + 1] != '\n')))
			fail_msg("bare CR or LF at %zu", i);
}

/* ---------------------------------------------------------------- tests */

static void
test_structure(void **state)
{
	struct escrow_notify n;
	struct buf b;
	char *h, *text, *html, *subj;
	const char *s;

	base_notify(*state, &n);
	build(&n, &b);
	s = buf_cstr(&b);
	h = header_section(s);
	assert_true(strncmp(h, "From: \"Example Org\" "
	    "<secure-mail@mx.example.org>\r\n", 50) == 0);
	assert_non_null(strstr(h, "\r\nTo: <bob@example.com>\r\n"));
	assert_non_null(strstr(h, "\r\nDate: Tue, 01 Jan 2030 00:00:00 "
	    "+0000\r\n"));
	assert_non_null(strstr(h, "\r\nMessage-ID: "
	    "<01HQID.escrow@mx.example.org>\r\n"));
	assert_non_null(strstr(h, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(h, "\r\nAuto-Submitted: auto-generated\r\n"));
	assert_non_null(strstr(h, "\r\n" ESCROW_MARK_HEADER ": "
	    ESCROW_MARK_VALUE "\r\n"));
	assert_non_null(strstr(h, "\r\nContent-Type: multipart/alternative;"
	    "\r\n\tboundary=\"=_sg_01HQID\"\r\n"));
	subj = subject_decoded(s);
	assert_string_equal(subj, "Secure message from Alice Example: "
	    "Quarterly figures");
	/* text first, then HTML, then the closing delimiter */
	assert_true(strstr(s, "Content-Type: text/plain; charset=utf-8") <
	    strstr(s, "Content-Type: text/html; charset=utf-8"));
	assert_non_null(strstr(s, "\r\n--=_sg_01HQID--\r\n"));
	text = part(s, "Content-Type: text/plain");
	html = part(s, "Content-Type: text/html");
	assert_non_null(strstr(text, "\n" LINK_ENROLL "\n"));
	assert_non_null(strstr(text, "Alice Example <alice@example.org> has "
	    "sent you a secure message"));
	assert_non_null(strstr(text, "Subject: Quarterly figures\n"));
	assert_non_null(strstr(text, "Available until: 2030-01-31 12:00 "
	    "UTC"));
	assert_non_null(strstr(text, "choose a password"));
	assert_non_null(strstr(text, "Questions? Contact help@example.org."));
	assert_non_null(strstr(html, "href=\"" LINK_ENROLL "\""));
	assert_non_null(strstr(html, "background-color:#1f4e79"));
	assert_non_null(strstr(html, "color:#ffffff"));
	assert_non_null(strstr(html, ">Quarterly figures</td>"));
	assert_null(strstr(html, "<img"));	/* no logo configured */
	assert_lines_max(s, 78);
	assert_7bit(s, b.len);
	xfree(h);
	xfree(subj);
	xfree(text);
	xfree(html);
	buf_free(&b);
}

static void
test_enrolled_link(void **state)
{
	struct escrow_notify n;
	struct buf b;
	char *text, *html;

	base_notify(*state, &n);
	n.link = LINK_MSG;
	n.enroll = 0;
	build(&n, &b);
	text = part(buf_cstr(&b), "Content-Type: text/plain");
	html = part(buf_cstr(&b), "Content-Type: text/html");
	assert_non_null(strstr(text, LINK_MSG));
	assert_null(strstr(text, "/enroll"));
	assert_null(strstr(text, "choose a password"));
	assert_non_null(strstr(text, "Sign in with the password you chose"));
	assert_non_null(strstr(html, "href=\"" LINK_MSG "\""));
	assert_null(strstr(html, "/enroll"));
	xfree(text);
	xfree(html);
	buf_free(&b);
}

static void
test_hostile_values(void **state)
{
	struct escrow_notify n;
	struct buf b;
	char *h, *text, *html;

	base_notify(*state, &n);
	n.sender_name = "<script>alert(1)</script>";
	n.sender_address = "\"<b onmouseover=x>\"@evil.test";
	n.subject = "\"><img src=x onerror=alert(2)>\r\nBcc: victim@x.test";
	build(&n, &b);
	h = header_section(buf_cstr(&b));
	html = part(buf_cstr(&b), "Content-Type: text/html");
	text = part(buf_cstr(&b), "Content-Type: text/plain");
	/* HTML: every value escaped, nothing active survives */
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<img src=x"));
	assert_null(strstr(html, "<b onmouseover"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(html, "&quot;&gt;&lt;img src=x "
	    "onerror=alert(2)&gt;"));
	assert_non_null(strstr(html, "&quot;&lt;b onmouseover=x&gt;&quot;"
	    "@evil.test"));
	/* the text part shows them as text, on one line */
	assert_non_null(strstr(text, "Subject: \"><img src=x onerror="
	    "alert(2)> Bcc: victim@x.test\n"));
	/* no header injection: the CRLF in the Subject is gone */
	assert_null(strstr(h, "\r\nBcc:"));
	assert_null(strstr(buf_cstr(&b), "\nBcc:"));
	xfree(h);
	xfree(text);
	xfree(html);
	buf_free(&b);
}

static void
test_hidden_subject(void **state)
{
	struct escrow_notify n;
	struct buf b;
	char *subj, *text, *html;

	base_notify(*state, &n);
	n.subject = NULL;	/* escrow_hide_subject = yes */
	build(&n, &b);
	assert_null(strstr(buf_cstr(&b), "Quarterly"));
	subj = subject_decoded(buf_cstr(&b));
	assert_string_equal(subj, "Secure message from Alice Example");
	text = part(buf_cstr(&b), "Content-Type: text/plain");
	html = part(buf_cstr(&b), "Content-Type: text/html");
	assert_null(strstr(text, "Subject:"));
	assert_null(strstr(html, ">Subject</td>"));
	assert_non_null(strstr(text, LINK_ENROLL));
	xfree(subj);
	xfree(text);
	xfree(html);
	buf_free(&b);
}

static void
test_rfc2047_subject(void **state)
{
	struct escrow_notify n;
	struct buf b;
	char *subj, *text, *h;

	base_notify(*state, &n);
	n.sender_name = "J\xc3\xbcrgen M\xc3\xbcller";
	n.subject = "Gr\xc3\xbc\xc3\x9f" "e \xe2\x80\x93 Bericht "
	    "\xf0\x9f\x94\x92 mit einem recht langen Betreff, der "
	    "gefaltet werden muss";
	build(&n, &b);
	h = header_section(buf_cstr(&b));
	assert_non_null(strstr(h, "\r\nSubject: =?UTF-8?B?"));
	subj = subject_decoded(buf_cstr(&b));
	assert_string_equal(subj, "Secure message from J\xc3\xbcrgen "
	    "M\xc3\xbcller: Gr\xc3\xbc\xc3\x9f" "e \xe2\x80\x93 Bericht "
	    "\xf0\x9f\x94\x92 mit einem recht langen Betreff, der "
	    "gefaltet werden muss");
	/* encoded words at most 75 characters; the whole mail 7-bit */
	assert_lines_max(buf_cstr(&b), 78);
	assert_7bit(buf_cstr(&b), b.len);
	text = part(buf_cstr(&b), "Content-Type: text/plain");
	assert_non_null(strstr(text, "J\xc3\xbcrgen M\xc3\xbcller <alice@"));
	xfree(h);
	xfree(subj);
	xfree(text);
	buf_free(&b);
}

static void
test_long_values_cut(void **state)
{
	struct escrow_notify n;
	struct buf b;
	char longs[1000], *subj;

	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	base_notify(*state, &n);
	n.sender_name = NULL;
	n.subject = longs;
	build(&n, &b);
	subj = subject_decoded(buf_cstr(&b));
	/* "Secure message from alice@example.org: " + 197 x + "..." */
	assert_int_equal(strlen(subj), strlen("Secure message from "
	    "alice@example.org: ") + ESCROW_SUBJECT_MAX);
	assert_true(strstr(subj, "xxx...") != NULL);
	assert_lines_max(buf_cstr(&b), 998);
	xfree(subj);
	buf_free(&b);
}

static void
test_refusals(void **state)
{
	struct escrow_notify n;
	struct buf b;
	char *err = NULL;

	buf_init(&b, ESCROW_MAIL_MAX);
#define REFUSE(field, value) do { \
	base_notify(*state, &n); \
	n.field = value; \
	assert_int_equal(escrow_notify_build(&n, &b, &err), -1); \
	assert_non_null(err); \
	xfree(err); \
	err = NULL; \
	assert_int_equal(b.len, 0); \
} while (0)
	REFUSE(link, "http://portal.example.com/m/x");
	REFUSE(link, "javascript:alert(1)");
	REFUSE(link, "https://portal.example.com/\"onmouseover=x");
	REFUSE(link, NULL);
	REFUSE(logo_url, "javascript:alert(1)");
	REFUSE(color_accent, "red;background:url(x)");
	REFUSE(color_accent_text, "#12345");
	REFUSE(sender_address, NULL);
	REFUSE(org_name, "");
	REFUSE(to_addr, "bob@example.com>\r\nBcc: <x@y");
	REFUSE(to_addr, "no-at-sign");
	REFUSE(from_addr, "a\r\n@b");
	REFUSE(message_id, "id with space@x");
	REFUSE(boundary_seed, "\"; x");
	REFUSE(tmpl_html, "<p>{{#subject}}unclosed</p>");
#undef REFUSE
	/* a syntax error says where */
	base_notify(*state, &n);
	n.tmpl_text = "line one\n{{#x}}\n";
	assert_int_equal(escrow_notify_build(&n, &b, &err), -1);
	assert_non_null(strstr(err, "text template"));
	xfree(err);
	buf_free(&b);
}

static void
test_logo(void **state)
{
	struct escrow_notify n;
	struct buf b;
	char *html;

	base_notify(*state, &n);
	n.logo_url = "https://cdn.example.org/logo.png";
	build(&n, &b);
	html = part(buf_cstr(&b), "Content-Type: text/html");
	assert_non_null(strstr(html, "<img src=\"https://cdn.example.org/"
	    "logo.png\" alt=\"Example Org\""));
	xfree(html);
	buf_free(&b);
}

static void
test_header_append(void **state)
{
	struct buf b;
	const char *s;

	(void)state;
	buf_init(&b, 65536);
	assert_int_equal(escrow_header_append(&b, "Subject", "hello  world "),
	    0);
	assert_string_equal(buf_cstr(&b), "Subject: hello world\r\n");
	buf_reset(&b);
	/* long ASCII: folded before a space, unfolds to the same text */
	assert_int_equal(escrow_header_append(&b, "Subject",
	    "one two three four five six seven eight nine ten eleven twelve "
	    "thirteen fourteen fifteen sixteen"), 0);
	s = buf_cstr(&b);
	assert_non_null(strstr(s, "\r\n "));
	assert_lines_max(s, 78);
	buf_reset(&b);
	/* "=?" would be decoded by a reader: encoded instead */
	assert_int_equal(escrow_header_append(&b, "Subject",
	    "=?UTF-8?B?SGk=?="), 0);
	assert_string_equal(buf_cstr(&b), "Subject: "
	    "=?UTF-8?B?PT9VVEYtOD9CP1NHaz0/PQ==?=\r\n");
	buf_reset(&b);
	/* bad UTF-8 becomes U+FFFD, CR LF a space */
	assert_int_equal(escrow_header_append(&b, "Subject", "a\xff\r\nb"), 0);
	assert_string_equal(buf_cstr(&b), "Subject: =?UTF-8?B?Ye+/vSBi?=\r\n");
	buf_reset(&b);
	assert_int_equal(escrow_header_append(&b, "Subject", ""), 0);
	assert_string_equal(buf_cstr(&b), "Subject:\r\n");
	/* the buffer's maximum: -1, buffer unchanged */
	buf_free(&b);
	buf_init(&b, 16);
	assert_int_equal(buf_append_str(&b, "X"), 0);
	assert_int_equal(escrow_header_append(&b, "Subject", "far too long "
	    "for sixteen bytes"), -1);
	assert_string_equal(buf_cstr(&b), "X");
	buf_free(&b);
}

static void
test_qp_lines(void **state)
{
	struct escrow_mail m;
	struct buf b;
	char text[600], *dec, *err = NULL;
	const char *body;

	(void)state;
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text + 100, "x=y ", 4);
	memcpy(text + 200, "tail \n", 6);
	memset(&m, 0, sizeof(m));
	m.from_addr = "a@b.test";
	m.to_addr = "c@d.test";
	m.subject = "s";
	m.text = text;
	m.text_len = strlen(text);
	m.message_id = "1@b.test";
	m.boundary_seed = "S1";
	m.date = 0;
	buf_init(&b, 65536);
	assert_int_equal(escrow_mail_build(&m, &b, &err), 0);
	assert_null(strstr(buf_cstr(&b), "multipart"));
	assert_non_null(strstr(buf_cstr(&b), "Content-Transfer-Encoding: "
	    "quoted-printable\r\n"));
	assert_null(strstr(buf_cstr(&b), "Auto-Submitted"));
	assert_lines_max(buf_cstr(&b), 76);
	assert_non_null(strstr(buf_cstr(&b), "x=3Dy"));
	assert_non_null(strstr(buf_cstr(&b), "tail=20\r\n"));
	body = strstr(buf_cstr(&b), "\r\n\r\n") + 4;
	dec = qp_decode(body, strlen(body));
	/* the decoded body is the text with CRLF line ends */
	assert_int_equal(strncmp(dec, text, 200), 0);
	assert_int_equal(strncmp(dec + 200, "tail \r\n", 7), 0);
	assert_int_equal(strncmp(dec + 207, text + 206, strlen(text + 206)),
	    0);
	assert_string_equal(dec + 207 + strlen(text + 206), "\r\n");
	xfree(dec);
	buf_free(&b);
}

static void
test_time_text(void **state)
{
	char t[ESCROW_TIME_TEXT_MAX];

	(void)state;
	escrow_time_text(1893456000LL + 17 * 3600 + 5 * 60, t);
	assert_string_equal(t, "2030-01-01 17:05 UTC");
}

/* the sender's receipt: the shipped receipt templates through the same
 * builder, with the recipient and the recall link in both parts and the
 * subject only when given */
static void
test_receipt(void **state)
{
	static const char link[] = "https://portal.example.com:8443/recall?t="
	    "RRRRecallTokenTokenTokenTokenTokenTokenTok";
	struct tmpls r;
	struct escrow_notify n;
	struct buf out;
	char *text;

	(void)state;
	r.subject = slurp("templates/receipt_subject.txt");
	r.text = slurp("templates/receipt.txt");
	r.html = slurp("templates/receipt.html");
	base_notify(&r, &n);
	n.enroll = 0;
	n.link = link;
	n.recipient = "bob@example.com";
	n.to_addr = "alice@example.org";
	build(&n, &out);
	assert_7bit(out.data, out.len);
	assert_lines_max(buf_cstr(&out), 998);
	assert_non_null(strstr(buf_cstr(&out), "\r\nTo: <alice@example.org>"
	    "\r\n"));
	assert_non_null(strstr(buf_cstr(&out),
	    "Subject: Delivered securely: Quarterly figures\r\n"));
	assert_non_null(strstr(buf_cstr(&out), "X-Sealgate-Escrow: "
	    "notification\r\n"));
	/* the parts from the text part on (the headers hold "=_") */
	{
		const char *b = strstr(buf_cstr(&out), "Content-Transfer-"
		    "Encoding: quoted-printable\r\n\r\n");

		assert_non_null(b);
		text = qp_decode(b, strlen(b));
	}
	assert_non_null(strstr(text, "bob@example.com"));
	assert_non_null(strstr(text, link));
	assert_non_null(strstr(text, "withdraw"));
	xfree(text);
	buf_free(&out);

	/* hidden subject: the receipt says nothing about it */
	n.subject = NULL;
	build(&n, &out);
	assert_null(strstr(buf_cstr(&out), "Quarterly"));
	assert_non_null(strstr(buf_cstr(&out), "Subject: Delivered securely: "
	    "your message to bob@example.com\r\n"));
	buf_free(&out);
	xfree(r.subject);
	xfree(r.text);
	xfree(r.html);
}

static void
test_config_helpers(void **state)
{
	static const char brand[] = "{{org_name}} {{color_accent}} "
	    "{{color_accent_text}}{{#logo_url}}L{{/logo_url}}";
	struct sg_config *cfg = config_defaults();
	struct tmpl_vars *v;
	struct buf b;
	char *s, *err = NULL, want[600];

	(void)state;
	assert_non_null(cfg);
	xfree(cfg->hostname);
	cfg->hostname = xstrdup("mx.example.org");
	s = escrow_portal_url(cfg);
	assert_string_equal(s, "https://mx.example.org:8443");
	xfree(s);
	cfg->portal_url = xstrdup("https://secure.example.org/portal/");
	s = escrow_portal_url(cfg);
	assert_string_equal(s, "https://secure.example.org/portal");
	xfree(s);
	s = escrow_from_address(cfg);
	assert_string_equal(s, "secure-mail@mx.example.org");
	xfree(s);
	cfg->escrow_from = xstrdup("noreply@example.org");
	s = escrow_from_address(cfg);
	assert_string_equal(s, "noreply@example.org");
	xfree(s);
	assert_string_equal(escrow_org_name(cfg), "mx.example.org");
	s = escrow_master_path(cfg);
	snprintf(want, sizeof(want), "%s/escrow.key", cfg->state_dir);
	assert_string_equal(s, want);
	xfree(s);

	/* text colour: white on the dark default, black on yellow */
	v = tmpl_vars_new();
	assert_int_equal(escrow_brand_vars(cfg, v), 0);
	buf_init(&b, 1024);
	assert_int_equal(tmpl_render(brand, strlen(brand), TMPL_TEXT, v, &b,
	    &err), 0);
	assert_string_equal(buf_cstr(&b), "mx.example.org #1f4e79 #ffffff");
	tmpl_vars_free(&v);
	xfree(cfg->escrow_color);
	cfg->escrow_color = xstrdup("#ffff00");
	v = tmpl_vars_new();
	assert_int_equal(escrow_brand_vars(cfg, v), 0);
	buf_reset(&b);
	assert_int_equal(tmpl_render("{{color_accent_text}}",
	    strlen("{{color_accent_text}}"), TMPL_TEXT, v, &b, &err), 0);
	assert_string_equal(buf_cstr(&b), "#000000");
	tmpl_vars_free(&v);
	buf_free(&b);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receipt),
		cmocka_unit_test_setup_teardown(test_structure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enrolled_link, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_values, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hidden_subject, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rfc2047_subject, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_values_cut, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_logo, setup, teardown),
		cmocka_unit_test(test_header_append),
		cmocka_unit_test(test_qp_lines),
		cmocka_unit_test(test_time_text),
		cmocka_unit_test(test_config_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
