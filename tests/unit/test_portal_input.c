/*
 * test_portal_input.c - unit tests for escrow-web/web_input.c: address
 * normalisation (domain lower case, local part as is), password rules
 * at the edges (9, 10 characters; multi-byte; the byte cap), and the
 * only places a login may send back to.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "web_input.h"
#include "lib/xalloc.h"

static void
test_email(void **state)
{
	static const struct {
		const char *in, *want;	/* want NULL: refused */
	} v[] = {
		{ "bob@rcpt.test", "bob@rcpt.test" },
		{ "Bob.Smith@RCPT.Test", "Bob.Smith@rcpt.test" },
		{ "  bob@rcpt.test\t", "bob@rcpt.test" },
		{ "a@b", "a@b" },
		{ "quoted\"local@x.test", "quoted\"local@x.test" },
		{ "at@in@local@x.TEST", "at@in@local@x.test" },
		{ "", NULL },
		{ "   ", NULL },
		{ "bob", NULL },
		{ "@rcpt.test", NULL },
		{ "bob@", NULL },
		{ "bob @rcpt.test", NULL },
		{ "bob@rcpt.test\r\nBcc: x", NULL },
		{ "<bob@rcpt.test>", NULL },
		{ "bob@rcpt.test, eve@x.test", NULL },
		{ "bob@rcpt.test;x", NULL },
		{ "bob\x7f@x.test", NULL },
		{ "b\x01ob@x.test", NULL },
	};
	char out[WEB_EMAIL_MAX + 1];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int r = web_input_email(v[i].in, out, sizeof(out));
		if (v[i].want == NULL) {
			if (r != -1)
				fail_msg("\"%s\": accepted as \"%s\"", v[i].in,
				    out);
		} else if (r != 0 || strcmp(out, v[i].want) != 0) {
			fail_msg("\"%s\": got %d \"%s\", want \"%s\"",
			    v[i].in, r, r == 0 ? out : "", v[i].want);
		}
	}
	assert_int_equal(web_input_email(NULL, out, sizeof(out)), -1);
	/* non-ASCII local part and domain pass through (SMTPUTF8) */
	assert_int_equal(web_input_email("j\xc3\xb6rg@B\xc3\xa4r.test", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "j\xc3\xb6rg@b\xc3\xa4r.test");
	/* not UTF-8: the database would refuse it, so do we */
	assert_int_equal(web_input_email("\xff@example.org", out,
	    sizeof(out)), -1);
	assert_int_equal(web_input_email("a@ex\xc3" "ample.org", out,
	    sizeof(out)), -1);
	/* the length cap, exactly and one over */
	{
		char *a = xmalloc(WEB_EMAIL_MAX + 2);

		memset(a, 'a', WEB_EMAIL_MAX + 1);
		memcpy(a + WEB_EMAIL_MAX - 7, "@x.test", 7);
		a[WEB_EMAIL_MAX] = '\0';
		assert_int_equal(web_input_email(a, out, sizeof(out)), 0);
		memset(a, 'a', WEB_EMAIL_MAX + 1);
		memcpy(a + WEB_EMAIL_MAX + 1 - 7, "@x.test", 7);
		a[WEB_EMAIL_MAX + 1] = '\0';
		assert_int_equal(web_input_email(a, out, sizeof(out)), -1);
		/* too small an output buffer */
		assert_int_equal(web_input_email("bob@rcpt.test", out, 5), -1);
		xfree(a);
	}
}

static void
test_password(void **state)
{
	char *big = xmalloc(WEB_PASSWORD_MAX + 2);

	assert_int_equal(web_input_password("0123456789", "0123456789"),
	    WEB_PW_OK);
	assert_int_equal(web_input_password("012345678", "012345678"),
	    WEB_PW_SHORT);
	assert_int_equal(web_input_password("", ""), WEB_PW_SHORT);
	assert_int_equal(web_input_password("0123456789", "0123456788"),
	    WEB_PW_MISMATCH);
	assert_int_equal(web_input_password("0123456789", "0123456789 "),
	    WEB_PW_MISMATCH);
	assert_int_equal(web_input_password(NULL, "0123456789"),
	    WEB_PW_MISSING);
	assert_int_equal(web_input_password("0123456789", NULL),
	    WEB_PW_MISSING);
	/* characters, not bytes: 9 two-byte characters are 18 bytes */
	assert_int_equal(web_input_password(
	    "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	    "\xc3\xa4", "x"), WEB_PW_SHORT);
	assert_int_equal(web_input_password(
	    "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	    "\xc3\xa4\xc3\xa4", "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
	    "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"), WEB_PW_OK);
	/* malformed bytes count one each */
	assert_int_equal(web_input_password("\xff\xff\xff\xff\xff\xff\xff"
	    "\xff\xff\xff", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
	    WEB_PW_OK);
	memset(big, 'p', WEB_PASSWORD_MAX);
	big[WEB_PASSWORD_MAX] = '\0';
	assert_int_equal(web_input_password(big, big), WEB_PW_OK);
	memset(big, 'p', WEB_PASSWORD_MAX + 1);
	big[WEB_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(web_input_password(big, big), WEB_PW_LONG);
	xfree(big);
	for (int c = WEB_PW_OK; c <= WEB_PW_MISSING; c++)
		assert_non_null(web_input_password_text(c));
	assert_non_null(strstr(web_input_password_text(WEB_PW_SHORT), "10"));
}

static void
test_next(void **state)
{
	static const struct {
		const char *next;
		int ok;
	} v[] = {
		{ "/m/q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE", 1 },
		{ "/inbox", 0 },
		{ "/m/q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE/html", 0 },
		{ "/m/q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE?x=1", 0 },
		{ "https://evil.test/m/q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPa",
		  0 },
		{ "//evil.test/x", 0 },
		{ "/\\evil.test", 0 },
		{ "/inbox/../m/x", 0 },
		{ "/m/x", 0 },
		{ "", 0 },
		{ "m/q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4xE", 0 },
		{ "/m//q7Xr0-_bZ9kLmN3pQvW8sT1uYhJcDeFgHiK2oPaS4x", 0 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (web_input_next(v[i].next) != v[i].ok)
			fail_msg("\"%s\": got %d, want %d", v[i].next,
			    !v[i].ok, v[i].ok);
	assert_int_equal(web_input_next(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
