/*
 * test_pgp.c - unit tests for crypto/pgp.c against the real GnuPG:
 * keys are made with gpg in a recipient home, imported into a gateway
 * home through pgp_key_import(), looked up with pgp_key_find() (good,
 * older, expired, revoked, unknown), and encrypted messages are decrypted
 * with the real `gpg --decrypt` and parsed with Python's email package.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pgp.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define GPG_Q	" --batch --quiet --no-tty --passphrase '' "

static char gw_home[64];	/* the gateway's GNUPGHOME */
static char rc_home[64];	/* the recipient's */
static char fpr_new[PGP_FPR_SIZE];	/* rcpt@, made now */
static char fpr_older[PGP_FPR_SIZE];	/* rcpt@, made in 2021 */
static char fpr_expired[PGP_FPR_SIZE];
static char *import_list;		/* what pgp_key_import returned */
static struct pgp_ctx *pc;

/* run - system() on a formatted command; 0 when it exited 0 */
static int
run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	return system(cmd);
}

/* uid_fpr - fingerprint of the key with exactly this user ID */
static int
uid_fpr(const char *uid, char *fpr)
{
	char cmd[512], line[1024];
	FILE *f;
	int ok = 0;

	snprintf(cmd, sizeof(cmd), "gpg --homedir %s --batch --with-colons "
	    "--list-keys '=%s' 2>/dev/null", rc_home, uid);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* fpr:::::::::<40 hex>: the first one is the primary's */
		if (!ok && strncmp(line, "fpr:::::::::", 12) == 0 &&
		    strlen(line) > 12 + 40) {
			memcpy(fpr, line + 12, 40);
			fpr[40] = '\0';
			ok = 1;
		}
	}
	pclose(f);
	return ok ? 0 : -1;
}

static int
read_file(const char *path, struct buf *b)
{
	char tmp[4096];
	size_t n;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (buf_append(b, tmp, n) != 0)
			break;
	fclose(f);
	return 0;
}

static int
write_file(const char *path, const char *p, size_t n)
{
	FILE *f;
	int rc;

	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	rc = fwrite(p, 1, n, f) == n ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static int
gen_key(const char *faked, const char *uid, const char *expire)
{
	return run("gpg --homedir %s" GPG_Q "%s%s --quick-gen-key '%s' "
	    "future-default default %s 2>/dev/null", rc_home,
	    faked != NULL ? "--faked-system-time " : "",
	    faked != NULL ? faked : "", uid, expire);
}

static int
setup(void **state)
{
	char fpr_gone[PGP_FPR_SIZE], path[128];
	struct buf pub;
	char *err = NULL;
	int n;

	snprintf(gw_home, sizeof(gw_home), "/tmp/sgpg-gwXXXXXX");
	snprintf(rc_home, sizeof(rc_home), "/tmp/sgpg-rcXXXXXX");
	if (mkdtemp(gw_home) == NULL || mkdtemp(rc_home) == NULL)
		return -1;
	/* an older key for the same address: the newer one must win */
	if (gen_key("20210101T000000!", "Rcpt Old <rcpt@example.test>",
	    "never") != 0 ||
	    gen_key(NULL, "Rcpt <rcpt@example.test>", "never") != 0 ||
	    /* made "in 2020" valid for a day: already expired */
	    gen_key("20200101T000000!", "Old <old@example.test>",
	    "1d") != 0 ||
	    gen_key(NULL, "Gone <gone@example.test>", "never") != 0)
		return -1;
	if (uid_fpr("Rcpt <rcpt@example.test>", fpr_new) != 0 ||
	    uid_fpr("Rcpt Old <rcpt@example.test>", fpr_older) != 0 ||
	    uid_fpr("Old <old@example.test>", fpr_expired) != 0 ||
	    uid_fpr("Gone <gone@example.test>", fpr_gone) != 0)
		return -1;
	/* revoke with the certificate gpg stored at generation time */
	if (run("sed 's/^:-----BEGIN/-----BEGIN/' %s/openpgp-revocs.d/%s.rev"
	    " | gpg --homedir %s" GPG_Q "--import 2>/dev/null",
	    rc_home, fpr_gone, rc_home) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/pub.asc", rc_home);
	if (run("gpg --homedir %s" GPG_Q "--armor --export > %s",
	    rc_home, path) != 0)
		return -1;

	pc = pgp_ctx_new(gw_home, &err);
	if (pc == NULL) {
		print_error("pgp_ctx_new: %s\n", err);
		xfree(err);
		return -1;
	}
	buf_init(&pub, 1024 * 1024);
	if (read_file(path, &pub) != 0)
		return -1;
	n = pgp_key_import(pc, pub.data, pub.len, &import_list, &err);
	buf_free(&pub);
	if (n != 4) {
		print_error("import: got %d (%s), want 4\n", n,
		    err != NULL ? err : "");
		xfree(err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	pgp_ctx_free(&pc);
	xfree(import_list);
	import_list = NULL;
	if (gw_home[0] != '\0') {
		run("gpgconf --homedir %s --kill all 2>/dev/null", gw_home);
		run("rm -rf %s", gw_home);
	}
	if (rc_home[0] != '\0') {
		run("gpgconf --homedir %s --kill all 2>/dev/null", rc_home);
		run("rm -rf %s", rc_home);
	}
	return 0;
}

static void
test_ctx_errors(void **state)
{
	char *err = NULL;

	assert_null(pgp_ctx_new("", &err));
	assert_non_null(err);
	xfree(err);
	pgp_ctx_free(NULL);
}

static void
test_import(void **state)
{
	char *list = NULL, *err = NULL;
	const char junk[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
	    "bm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n";

	/* setup imported four keys; the list names each once */
	assert_int_equal(strlen(import_list), 4 * 40 + 3);
	assert_non_null(strstr(import_list, fpr_new));
	assert_non_null(strstr(import_list, fpr_older));
	assert_non_null(strstr(import_list, fpr_expired));

	assert_int_equal(pgp_key_import(pc, junk, sizeof(junk) - 1, &list,
	    &err), -1);
	assert_null(list);
	assert_non_null(err);
	xfree(err);
	err = NULL;
	assert_int_equal(pgp_key_import(pc, "", 0, &list, &err), -1);
	xfree(err);
}

static void
test_find(void **state)
{
	static const struct {
		const char *addr;
		int rc;
		const char *why;
	} cases[] = {
		{ "rcpt@example.test", 1, "" },
		{ "rcpt@EXAMPLE.Test", 1, "" },		/* domain: any case */
		{ "RCPT@example.test", 0, "none" },	/* local part: exact */
		{ "old@example.test", 0, "expired" },
		{ "gone@example.test", 0, "revoked" },
		{ "nobody@example.test", 0, "none" },
		{ "example.test", -1, NULL },		/* no '@' */
	};
	char fpr[PGP_FPR_SIZE], why[128];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = pgp_key_find(pc, cases[i].addr, fpr, why, sizeof(why));
		if (rc != cases[i].rc || (cases[i].why != NULL &&
		    strcmp(why, cases[i].why) != 0))
			fail_msg("%s: got %d \"%s\", want %d \"%s\"",
			    cases[i].addr, rc, why, cases[i].rc,
			    cases[i].why);
		if (rc == 1)
			assert_string_equal(fpr, fpr_new);	/* newest */
	}
	assert_int_equal(pgp_key_find(pc, "a b@example.test", fpr, why,
	    sizeof(why)), -1);
	assert_int_equal(pgp_key_find(pc, "<x@example.test>", fpr, why,
	    sizeof(why)), -1);
}

/* decrypt_part2 - the armor from out, through the real gpg */
static void
decrypt_part2(const struct buf *out, struct buf *plain)
{
	const char *b, *e;
	char asc[128], dec[128];

	b = strstr(out->data, "\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n");
	e = strstr(out->data, "-----END PGP MESSAGE-----\r\n");
	assert_non_null(b);
	assert_non_null(e);
	assert_true(e > b);
	b += 4;
	e += strlen("-----END PGP MESSAGE-----\r\n");
	snprintf(asc, sizeof(asc), "%s/part2.asc", rc_home);
	snprintf(dec, sizeof(dec), "%s/part2.out", rc_home);
	assert_int_equal(write_file(asc, b, (size_t)(e - b)), 0);
	assert_int_equal(run("gpg --homedir %s" GPG_Q "--yes --decrypt "
	    "-o %s %s 2>/dev/null", rc_home, dec, asc), 0);
	assert_int_equal(read_file(dec, plain), 0);
}

static const char py_check[] =
    "import sys, email, email.policy\n"
    "m = email.message_from_binary_file(open(sys.argv[1], 'rb'),\n"
    "    policy=email.policy.default)\n"
    "assert not m.defects, m.defects\n"
    "assert m.get_content_type() == 'multipart/encrypted'\n"
    "assert m.get_param('protocol') == 'application/pgp-encrypted'\n"
    "assert str(m['Subject']) == '...', m['Subject']\n"
    "assert m['MIME-Version'] == '1.0'\n"
    "p = m.get_payload()\n"
    "assert len(p) == 2, len(p)\n"
    "assert p[0].get_content_type() == 'application/pgp-encrypted'\n"
    "assert p[0].get_payload().strip() == 'Version: 1'\n"
    "assert p[1].get_content_type() == 'application/octet-stream'\n"
    "assert p[1].get_param('name') == 'encrypted.asc'\n"
    "assert p[1].get_payload().startswith("
    "'-----BEGIN PGP MESSAGE-----')\n";

static void
python_check(const struct buf *out)
{
	char msg[128], py[128];

	snprintf(msg, sizeof(msg), "%s/out.eml", rc_home);
	snprintf(py, sizeof(py), "%s/check.py", rc_home);
	assert_int_equal(write_file(msg, out->data, out->len), 0);
	assert_int_equal(write_file(py, py_check, sizeof(py_check) - 1), 0);
	assert_int_equal(run("python3 %s %s", py, msg), 0);
}

#define UTF8_BODY	"Gr\xc3\xbc\xc3\x9f" "e, \xe2\x82\xac 5 Mio.\r\n"

static void
test_encrypt(void **state)
{
	static const char msg[] =
	    "Return-Path: <alice@example.org>\r\n"
	    "From: Alice <alice@example.org>\r\n"
	    "To: Rcpt <rcpt@example.test>\r\n"
	    "Subject: Quarterly numbers\r\n"
	    "Date: Sun, 29 Nov 2026 08:00:00 +0000\r\n"
	    "Message-ID: <q1@example.org>\r\n"
	    "X-Mailer: test\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain;\r\n"
	    "\tcharset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "\r\n"
	    "Numbers attached.\r\n"
	    ".leading dot line\r\n"
	    UTF8_BODY;
	static const char want_inner[] =
	    "Content-Type: text/plain;\r\n"
	    "\tcharset=utf-8;\r\n"
	    " protected-headers=\"v1\"\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "From: Alice <alice@example.org>\r\n"
	    "To: Rcpt <rcpt@example.test>\r\n"
	    "Subject: Quarterly numbers\r\n"
	    "Date: Sun, 29 Nov 2026 08:00:00 +0000\r\n"
	    "Message-ID: <q1@example.org>\r\n"
	    "\r\n"
	    "Numbers attached.\r\n"
	    ".leading dot line\r\n"
	    UTF8_BODY;
	const char *fprs[] = { fpr_new };
	struct buf out, plain;
	const char *hdr_end;
	char *err = NULL;
	int rc;

	buf_init(&out, 1024 * 1024);
	buf_init(&plain, 1024 * 1024);
	rc = pgp_encrypt_mime(pc, msg, sizeof(msg) - 1, fprs, 1, NULL,
	    &out, &err);
	if (rc != 0)
		fail_msg("encrypt: %s", err);

	/* outer header: placeholder subject, no content fields of the
	 * original, everything else kept */
	hdr_end = strstr(out.data, "\r\n\r\n");
	assert_non_null(hdr_end);
	assert_non_null(strstr(out.data, "\r\nSubject: ...\r\n"));
	assert_null(strstr(out.data, "Quarterly"));
	assert_null(strstr(out.data, "Content-Transfer-Encoding"));
	assert_null(strstr(out.data, "charset=utf-8"));
	assert_true(strncmp(out.data, "Return-Path: <alice@example.org>\r\n"
	    "From: Alice <alice@example.org>\r\n", 66) == 0);
	assert_non_null(strstr(out.data, "\r\nX-Mailer: test\r\n"));
	assert_non_null(strstr(out.data, "\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/encrypted;\r\n"
	    " protocol=\"application/pgp-encrypted\";\r\n boundary=\""));
	assert_ptr_equal(strstr(out.data, "MIME-Version"),
	    strstr(out.data + 1, "MIME-Version"));	/* only once */

	decrypt_part2(&out, &plain);
	if (plain.len != sizeof(want_inner) - 1 ||
	    memcmp(plain.data, want_inner, plain.len) != 0)
		fail_msg("inner entity: got\n%s\nwant\n%s", buf_cstr(&plain),
		    want_inner);
	python_check(&out);
	buf_free(&out);
	buf_free(&plain);
}

/* no Content-Type, LF line ends, two recipients, own outer subject */
static void
test_encrypt_plain_lf(void **state)
{
	static const char msg[] =
	    "From: a@example.org\n"
	    "Subject: hi\n"
	    "\n"
	    "line one\n"
	    "line two\r\n";
	static const char want_inner[] =
	    "Content-Type: text/plain; charset=us-ascii;\r\n"
	    " protected-headers=\"v1\"\r\n"
	    "From: a@example.org\r\n"
	    "Subject: hi\r\n"
	    "\r\n"
	    "line one\r\n"
	    "line two\r\n";
	const char *fprs[] = { fpr_older, fpr_new };
	struct buf out, plain;
	char *err = NULL;

	buf_init(&out, 1024 * 1024);
	buf_init(&plain, 1024 * 1024);
	if (pgp_encrypt_mime(pc, msg, sizeof(msg) - 1, fprs, 2,
	    "Encrypted message", &out, &err) != 0)
		fail_msg("encrypt: %s", err);
	assert_non_null(strstr(out.data, "\r\nSubject: Encrypted message\r\n"));
	assert_null(strstr(out.data, "Subject: hi"));
	decrypt_part2(&out, &plain);
	assert_int_equal(plain.len, sizeof(want_inner) - 1);
	assert_memory_equal(plain.data, want_inner, plain.len);
	buf_free(&out);
	buf_free(&plain);
}

static void
test_encrypt_errors(void **state)
{
	static const char msg[] = "From: a@example.org\r\n\r\nbody\r\n";
	static const char bad_hdr[] = "From a@example.org\r\n\r\nbody\r\n";
	static const char cont_first[] = " x\r\nFrom: a\r\n\r\nbody\r\n";
	const char *good[] = { fpr_new };
	const char *expired[] = { fpr_expired };
	const char *unknown[] = { "0000000000000000000000000000000000000000" };
	const char *pattern[] = { "rcpt@example.test" };
	struct buf out, tiny;
	char *err = NULL;

	buf_init(&out, 1024 * 1024);
#define FAILS(m, f, n, s, o) do {					\
	assert_int_equal(pgp_encrypt_mime(pc, m, sizeof(m) - 1, f, n, s,	\
	    o, &err), -1);						\
	assert_non_null(err);						\
	xfree(err);							\
	err = NULL;							\
} while (0)
	FAILS(msg, good, 0, NULL, &out);
	FAILS(msg, good, 1, "a\r\nBcc: x@y", &out);	/* header injection */
	FAILS(bad_hdr, good, 1, NULL, &out);
	FAILS(cont_first, good, 1, NULL, &out);
	FAILS(msg, unknown, 1, NULL, &out);
	FAILS(msg, pattern, 1, NULL, &out);		/* not a fingerprint */
	FAILS(msg, expired, 1, NULL, &out);		/* gpg refuses it */
	assert_int_equal(out.len, 0);
	buf_init(&tiny, 100);				/* cap: out unchanged */
	FAILS(msg, good, 1, NULL, &tiny);
	assert_int_equal(tiny.len, 0);
#undef FAILS
	buf_free(&out);
	buf_free(&tiny);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctx_errors),
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_encrypt),
		cmocka_unit_test(test_encrypt_plain_lf),
		cmocka_unit_test(test_encrypt_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
