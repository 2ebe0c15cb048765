/*
 * test_portal_mime.c - unit tests for escrow-web/web_mime.c: which part
 * is the text, which the HTML and which are attachments (disposition,
 * non-text, repeated bodies, nested multiparts, message/rfc822), names
 * in RFC 2231 and RFC 2047 form, charset conversion, header summary
 * with encoded control characters, hostile structure (no boundary,
 * truncated, deep nesting, thousands of parts, garbage), and the
 * remote-image hint.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web_limits.h"
#include "web_mime.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

static struct web_msg *
parse_ok(const char *s)
{
	char *err = NULL;
	struct web_msg *m = web_msg_parse(s, strlen(s), &err);

	if (m == NULL)
		fail_msg("parse failed: %s", err);
	return m;
}

static const char *
att_data(struct web_msg *m, size_t i, struct buf *b)
{
	buf_reset(b);
	assert_int_equal(web_msg_att_data(m, i, b), 0);
	return buf_cstr(b);
}

static void
test_text_only(void **state)
{
	struct web_msg *m = parse_ok(
	    "From: Sam Sender <sam@sender.test>\r\n"
	    "To: bob@rcpt.test\r\n"
	    "Subject: =?UTF-8?Q?quarterly_=C3=9C_report?=\r\n"
	    "Date: Mon, 02 Jun 2025 12:00:00 +0200\r\n"
	    "Message-ID: <m1@sender.test>\r\n"
	    "References: <r0@x> <r1@y>\r\n"
	    "\r\n"
	    "Hello <b>not bold</b>\r\n");

	assert_string_equal(web_msg_from(m), "Sam Sender <sam@sender.test>");
	assert_string_equal(web_msg_subject(m), "quarterly \xc3\x9c report");
	assert_string_equal(web_msg_date(m), "2025-06-02 10:00 UTC");
	assert_string_equal(web_msg_message_id(m), "m1@sender.test");
	assert_int_equal(web_msg_nrefs(m), 2);
	assert_string_equal(web_msg_ref(m, 0), "r0@x");
	assert_string_equal(web_msg_ref(m, 1), "r1@y");
	assert_null(web_msg_ref(m, 2));
	assert_string_equal(web_msg_text(m), "Hello <b>not bold</b>\r\n");
	assert_null(web_msg_html(m));
	assert_int_equal(web_msg_natt(m), 0);
	assert_null(web_msg_att(m, 0));
	web_msg_free(&m);
	assert_null(m);
}

static const char *MIXED =
    "From: sam@sender.test\r\n"
    "Subject: mixed\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"OUT\"\r\n"
    "\r\n"
    "--OUT\r\n"
    "Content-Type: multipart/alternative; boundary=\"ALT\"\r\n"
    "\r\n"
    "--ALT\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Gr=FC=DFe text-MARK\r\n"
    "--ALT\r\n"
    "Content-Type: multipart/related; boundary=\"REL\"\r\n"
    "\r\n"
    "--REL\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PHA+aHRtbC1NQVJLPC9wPg==\r\n"
    "--REL\r\n"
    "Content-Type: image/png\r\n"
    "Content-ID: <img1>\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "iVBORw0K\r\n"
    "--REL--\r\n"
    "--ALT--\r\n"
    "--OUT\r\n"
    "Content-Type: application/pdf\r\n"
    "Content-Disposition: attachment;\r\n"
    " filename*=utf-8''Pr%C3%BCfbericht%20%CE%A9mega.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0xLjQK\r\n"
    "--OUT\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Disposition: attachment;\r\n"
    " filename=\"=?UTF-8?Q?Seite_f=C3=BCr_dich.html?=\"\r\n"
    "\r\n"
    "<script>alert(1)</script>\r\n"
    "--OUT\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "a second text part\r\n"
    "--OUT\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "inner body\r\n"
    "--OUT\r\n"
    "Content-Type: application/octet-stream; name=\"../../evil\r\n"
    " .exe\"\r\n"
    "\r\n"
    "MZ\r\n"
    "--OUT--\r\n";

static void
test_mixed(void **state)
{
	struct web_msg *m = parse_ok(MIXED);
	struct buf b;
	const struct web_att *a;

	buf_init(&b, 1024 * 1024);
	assert_string_equal(web_msg_text(m),
	    "Gr\xc3\xbc\xc3\x9f" "e text-MARK");
	assert_string_equal(web_msg_html(m), "<p>html-MARK</p>");
	assert_int_equal(web_msg_natt(m), 6);

	a = web_msg_att(m, 0);	/* the related image */
	assert_string_equal(a->type, "image/png");
	assert_string_equal(a->filename, "attachment-1");
	assert_int_equal(a->size, 6);

	a = web_msg_att(m, 1);
	assert_string_equal(a->type, "application/pdf");
	assert_string_equal(a->filename,
	    "Pr\xc3\xbc" "fbericht \xce\xa9mega.pdf");
	assert_string_equal(att_data(m, 1, &b), "%PDF-1.4\n");
	assert_int_equal(a->size, 9);

	a = web_msg_att(m, 2);	/* HTML marked as attachment */
	assert_string_equal(a->type, "text/html");
	assert_string_equal(a->charset, "utf-8");
	assert_string_equal(a->filename, "Seite f\xc3\xbcr dich.html");
	assert_non_null(strstr(att_data(m, 2, &b), "<script>"));

	a = web_msg_att(m, 3);	/* a second text body */
	assert_string_equal(a->type, "text/plain");
	assert_string_equal(att_data(m, 3, &b), "a second text part");

	a = web_msg_att(m, 4);	/* message/rfc822, whole */
	assert_string_equal(a->type, "message/rfc822");
	assert_string_equal(a->filename, "attachment-5.eml");
	assert_non_null(strstr(att_data(m, 4, &b), "inner body"));
	assert_non_null(strstr(buf_cstr(&b), "Subject: inner"));

	a = web_msg_att(m, 5);	/* a path in the name */
	assert_null(strchr(a->filename, '/'));
	assert_null(strchr(a->filename, '\n'));

	assert_int_equal(web_msg_att_data(m, 6, &b), -1);
	web_msg_free(&m);
	buf_free(&b);
}

static void
test_headers_only(void **state)
{
	char *err = NULL;
	struct web_msg *m = web_msg_parse_headers(MIXED, strlen(MIXED), &err);

	assert_non_null(m);
	assert_string_equal(web_msg_subject(m), "mixed");
	assert_string_equal(web_msg_from(m), "sam@sender.test");
	assert_null(web_msg_text(m));
	assert_null(web_msg_html(m));
	assert_int_equal(web_msg_natt(m), 0);
	web_msg_free(&m);
}

static void
test_hostile_headers(void **state)
{
	struct web_msg *m = parse_ok(
	    "From: =?UTF-8?Q?Evil=0D=0ABcc=3A_x?= <e@x.test>\r\n"
	    "Subject: =?UTF-8?Q?line1=0D=0ABcc:_victim@x.test?= \x01\x7f"
	    "\r\n"
	    "Message-ID: <a b@x>\r\n"
	    "\r\n"
	    "body\r\n");
	const char *s = web_msg_subject(m);

	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fail_msg("control 0x%02x in subject \"%s\"",
			    (unsigned char)*p, s);
	assert_non_null(strstr(s, "line1"));
	for (const char *p = web_msg_from(m); *p != '\0'; p++)
		assert_false((unsigned char)*p < 0x20);
	web_msg_free(&m);
}

static void
test_malformed(void **state)
{
	static const char *const v[] = {
		/* multipart without a boundary */
		"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nhi\r\n",
		/* truncated: no closing boundary, part cut */
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
		"Content-Type: text/plain\r\n\r\nhello\r\n--b\r\n"
		"Content-Type: application/pdf\r\nContent-Transfer-Encoding: "
		"base64\r\n\r\nJVBER",
		/* bad base64, unknown encoding, unknown charset */
		"Content-Type: text/plain; charset=x-no-such\r\n"
		"Content-Transfer-Encoding: x-evil\r\n\r\n\xff\xfe text\r\n",
		"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64"
		"\r\n\r\n!!!!====****\r\n",
		/* no header section at all */
		"just some text without headers",
		"",
		"\r\n\r\n",
		/* binary junk */
		"\x00\x01\x02\xff\xfe",
		/* a header line of 100 KiB */
		NULL,
	};
	struct buf big;
	char *err = NULL;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *s = v[i];
		size_t len;
		struct web_msg *m;

		buf_init(&big, 1024 * 1024);
		if (s == NULL) {
			assert_int_equal(buf_append_str(&big, "Subject: "), 0);
			for (int k = 0; k < 100 * 1024; k++)
				assert_int_equal(buf_append_char(&big, 'x'), 0);
			assert_int_equal(buf_append_str(&big, "\r\n\r\nb\r\n"),
			    0);
			s = big.data;
			len = big.len;
		} else {
			len = i == 7 ? 5 : strlen(s);
		}
		m = web_msg_parse(s, len, &err);
		if (m == NULL) {
			xfree(err);
			err = NULL;
		} else {
			/* whatever came out is valid and bounded */
			if (web_msg_text(m) != NULL)
				assert_true(strlen(web_msg_text(m)) <= len * 4);
			web_msg_free(&m);
		}
		buf_free(&big);
	}
}

/* nesting far beyond WEB_MIME_DEPTH_MAX, and more leaves than
 * WEB_MIME_PARTS_MAX: bounded, no crash */
static void
test_deep_and_wide(void **state)
{
	struct buf b;
	struct web_msg *m;
	char *err = NULL;
	int i;

	buf_init(&b, 8 * 1024 * 1024);
	assert_int_equal(buf_append_str(&b, "Subject: deep\r\n"), 0);
	for (i = 0; i < 200; i++)
		assert_int_equal(buf_printf(&b, "Content-Type: multipart/mixed;"
		    " boundary=b%d\r\n\r\n--b%d\r\n", i, i), 0);
	assert_int_equal(buf_append_str(&b, "Content-Type: text/plain\r\n"
	    "\r\ndeepest\r\n"), 0);
	m = web_msg_parse(b.data, b.len, &err);
	assert_non_null(m);
	assert_null(web_msg_text(m));	/* below the depth cap */
	web_msg_free(&m);

	buf_reset(&b);
	assert_int_equal(buf_append_str(&b, "Content-Type: multipart/mixed; "
	    "boundary=w\r\n\r\n"), 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "--w\r\nContent-Type: "
		    "application/octet-stream\r\n\r\npart%d\r\n", i), 0);
	assert_int_equal(buf_append_str(&b, "--w--\r\n"), 0);
	m = web_msg_parse(b.data, b.len, &err);
	assert_non_null(m);
	assert_int_equal(web_msg_natt(m), WEB_MIME_PARTS_MAX);
	web_msg_free(&m);
	buf_free(&b);
}

static void
test_invalid_utf8_body(void **state)
{
	struct web_msg *m = parse_ok("Content-Type: text/plain; "
	    "charset=utf-8\r\n\r\nok \xff\xfe \xc3 end\r\n");
	const char *t = web_msg_text(m);

	assert_non_null(strstr(t, "ok "));
	assert_non_null(strstr(t, "end"));
	assert_null(strchr(t, '\xff'));
	web_msg_free(&m);
}

static void
test_remote_images(void **state)
{
	static const struct {
		const char *html;
		int want;
	} v[] = {
		{ "<p>no images</p>", 0 },
		{ "<a href=\"https://x.test/\">link</a>", 0 },
		{ "<p style=\"color:#1f4e79\">styled</p>", 0 },
		{ "<img src=\"data:image/png;base64,AAAA\">", 0 },
		{ "<img src=\"cid:img1\">", 0 },
		{ "<img src=\"https://t.test/p.png\">", 1 },
		{ "<IMG SRC='HTTP://t.test/p.png'>", 1 },
		{ "<img src = \"//t.test/p.png\">", 1 },
		{ "<img srcset=\"https://t.test/a.png 2x\">", 1 },
		{ "<img data-src=\"https://t.test/lazy.png\">", 1 },
		{ "<td background=\"http://t.test/bg.gif\">", 1 },
		{ "<video poster=\"https://t.test/p.jpg\">", 1 },
		{ "<div style=\"background:url(https://t.test/b)\">", 1 },
		{ "<style>@import url( 'https://t.test/s.css');</style>", 1 },
		{ "<p>my src=https is text</p>", 0 },
		{ "<p>resource=https://x</p>", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (web_html_remote_images(v[i].html) != v[i].want)
			fail_msg("\"%s\": got %d, want %d", v[i].html,
			    !v[i].want, v[i].want);
	assert_int_equal(web_html_remote_images(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_only),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_headers_only),
		cmocka_unit_test(test_hostile_headers),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_deep_and_wide),
		cmocka_unit_test(test_invalid_utf8_body),
		cmocka_unit_test(test_remote_images),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
