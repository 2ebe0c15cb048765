/*
 * test_dsn.c - RFC 3464 bounce composition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dsn.h"

static const char orig[] =
    "Received: from a ([127.0.0.1])\r\n\tby mx.test; Tue, 1 Jan 2030\r\n"
    "From: Alice <alice@example.org>\r\nSubject: hello\r\n"
    "Message-ID: <m1@example.org>\r\n\r\nSECRET BODY TEXT\r\n";

static void
build(const struct dsn_rcpt *r, size_t n, struct buf *out)
{
	struct dsn_info info = {
		.reporting_mta = "mx.test", .queue_id = "QID1",
		.sender = "alice@example.org", .arrival = 1700000000,
		.now = 1700003600, .original = orig,
		.original_len = sizeof(orig) - 1, .boundary_seed = "B1",
	};

	buf_init(out, 1 << 20);
	assert_int_equal(dsn_build(&info, r, n, out), 0);
}

static void
test_structure(void **state)
{
	struct dsn_rcpt r[2] = {
		{ "bob@example.com", "5.1.1", "550 5.1.1 no such user",
		  "mx.example.com", NULL },
		{ "carol@example.com", "5.7.30", NULL, NULL,
		  "REQUIRETLS not supported" },
	};
	struct buf b;
	const char *s;

	build(r, 2, &b);
	s = buf_cstr(&b);
	assert_non_null(strstr(s, "To: <alice@example.org>\r\n"));
	assert_non_null(strstr(s, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\r\n\tboundary=\"B1/mx.test\"\r\n"));
	assert_non_null(strstr(s, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(s, "\r\n--B1/mx.test\r\nContent-Description: "
	    "Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mx.test\r\n"));
	assert_non_null(strstr(s, "Final-Recipient: rfc822; bob@example.com"
	    "\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; "
	    "mx.example.com\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user"
	    "\r\n"));
	assert_non_null(strstr(s, "Final-Recipient: rfc822; carol@example.com"
	    "\r\nAction: failed\r\nStatus: 5.7.30\r\n"));
	assert_non_null(strstr(s, "<carol@example.com>: REQUIRETLS not "
	    "supported\r\n"));
	/* the original's headers, never its body */
	assert_non_null(strstr(s, "Content-Type: text/rfc822-headers\r\n\r\n"
	    "Received: from a"));
	assert_non_null(strstr(s, "Subject: hello\r\n"));
	assert_null(strstr(s, "SECRET BODY TEXT"));
	/* closing boundary at the very end */
	assert_string_equal(s + b.len - strlen("\r\n--B1/mx.test--\r\n"),
	    "\r\n--B1/mx.test--\r\n");
	/* every line ends in CRLF: no bare LF */
	for (size_t i = 0; i < b.len; i++)
		if (s[i] == '\n')
			assert_int_equal(s[i - 1], '\r');
	buf_free(&b);
}

/* a hostile remote reply cannot add header lines to the report */
static void
test_reply_injection(void **state)
{
	struct dsn_rcpt r = { "bob@example.com", "5.0.0",
	    "550 no\r\nX-Injected: yes\r\n\r\nbody", "mx\r\nX-Evil: 1", NULL };
	struct buf b;

	build(&r, 1, &b);
	assert_null(strstr(buf_cstr(&b), "\r\nX-Injected:"));
	assert_null(strstr(buf_cstr(&b), "\r\nX-Evil:"));
	assert_non_null(strstr(buf_cstr(&b), "Diagnostic-Code: smtp; 550 no  "
	    "X-Injected: yes    body\r\n"));
	buf_free(&b);
}

static void
test_output_cap(void **state)
{
	struct dsn_rcpt r = { "bob@example.com", "5.0.0", "550 x", NULL,
	    NULL };
	struct dsn_info info = {
		.reporting_mta = "mx.test", .queue_id = "Q", .sender = "a@b",
		.original = orig, .original_len = sizeof(orig) - 1,
		.boundary_seed = "B",
	};
	struct buf b;

	buf_init(&b, 100);
	assert_int_equal(dsn_build(&info, &r, 1, &b), -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_reply_injection),
		cmocka_unit_test(test_output_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
