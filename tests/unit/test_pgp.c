/*
 * test_pgp.c - unit tests for crypto/pgp.c against the real GnuPG:
 * keys are made with gpg in a recipient home, imported into a gateway
 * home through pgp_key_import(), looked up with pgp_key_find() (good,
 * older, expired, revoked, unknown), and encrypted messages are decrypted
 * with the real `gpg --decrypt` and parsed with Python's email package.
 * A third home ("kx") makes keys for pgp_key_check() (disabled, signing
 * only, several user IDs), pgp_key_inspect() (compared with what
 * `gpg --with-colons` says; secret key data refused) and the signing
 * keys (unprotected org key, passphrase-protected key, certify-only key)
 * whose signatures `gpg --decrypt --status-fd` must report as GOODSIG.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gmime/gmime.h>

#include "pgp.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define GPG_Q	" --batch --quiet --no-tty --passphrase '' "

static char gw_home[64];	/* the gateway's GNUPGHOME */
static char rc_home[64];	/* the recipient's */
static char fpr_new[PGP_FPR_SIZE];	/* rcpt@, made now */
static char fpr_older[PGP_FPR_SIZE];	/* rcpt@, made in 2021 */
static char fpr_expired[PGP_FPR_SIZE];
static char fpr_gone[PGP_FPR_SIZE];	/* revoked */
static char kx_home[64];		/* where the extra keys are made */
static char fpr_org[PGP_FPR_SIZE];	/* org signing key, no passphrase */
static char fpr_pw[PGP_FPR_SIZE];	/* signing key with a passphrase */
static char fpr_certonly[PGP_FPR_SIZE];	/* can certify, not sign */
static char fpr_signonly[PGP_FPR_SIZE];	/* no encryption subkey */
static char fpr_multi[PGP_FPR_SIZE];	/* several user IDs, expires */
static char fpr_dis[PGP_FPR_SIZE];	/* disabled in the gateway home */
static char fpr_sec[PGP_FPR_SIZE];	/* only ever offered as secret key */
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

/* uid_fpr_in - fingerprint of the key in home with exactly this uid */
static int
uid_fpr_in(const char *home, const char *uid, char *fpr)
{
	char cmd[512], line[1024];
	FILE *f;
	int ok = 0;

	snprintf(cmd, sizeof(cmd), "gpg --homedir %s --batch --with-colons "
	    "--list-keys '=%s' 2>/dev/null", home, uid);
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
uid_fpr(const char *uid, char *fpr)
{
	return uid_fpr_in(rc_home, uid, fpr);
}

/* What gpg --with-colons says about one key. */
struct gpg_key {
	long long created, expires;	/* pub fields 6 and 7 */
	char validity;			/* pub field 2 */
	char subfpr[PGP_FPR_SIZE];	/* the first subkey's fingerprint */
};

/* colon_field - field n (1-based) of a --with-colons line */
static const char *
colon_field(const char *line, int n, size_t *len)
{
	const char *p = line, *e;

	while (--n > 0) {
		p = strchr(p, ':');
		if (p == NULL)
			return NULL;
		p++;
	}
	e = strpbrk(p, ":\n");
	*len = e != NULL ? (size_t)(e - p) : strlen(p);
	return p;
}

static long long
colon_num(const char *line, int n)
{
	char tmp[32];
	size_t len;
	const char *p = colon_field(line, n, &len);

	if (p == NULL || len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	return strtoll(tmp, NULL, 10);
}

/* gpg_key_of - the pub line and the second fpr line for fpr in home */
static int
gpg_key_of(const char *home, const char *fpr, struct gpg_key *g)
{
	char cmd[512], line[4096];
	FILE *f;
	int nfpr = 0, pub = 0;

	memset(g, 0, sizeof(*g));
	snprintf(cmd, sizeof(cmd), "gpg --homedir %s --batch --with-colons "
	    "--fixed-list-mode --list-keys %s 2>/dev/null", home, fpr);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "pub:", 4) == 0) {
			pub++;
			g->validity = line[4];
			g->created = colon_num(line, 6);
			g->expires = colon_num(line, 7);
		} else if (strncmp(line, "fpr:::::::::", 12) == 0 &&
		    strlen(line) > 12 + 40 && ++nfpr == 2) {
			memcpy(g->subfpr, line + 12, 40);
			g->subfpr[40] = '\0';
		}
	}
	pclose(f);
	return pub == 1 ? 0 : -1;
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

/* kx_gen - a key in kx_home: algo and usage as --quick-gen-key takes
 * them; fpr_out gets its fingerprint */
static int
kx_gen(const char *uid, const char *algo, const char *usage,
    const char *expire, char *fpr_out)
{
	if (run("gpg --homedir %s" GPG_Q "--quick-gen-key '%s' %s %s %s "
	    "2>/dev/null", kx_home, uid, algo, usage, expire) != 0)
		return -1;
	return uid_fpr_in(kx_home, uid, fpr_out);
}

/*
 * setup_kx - the extra keys. The org key's secret half goes into the
 * gateway home (as an admin would put it there) and its public half
 * into the recipient's, who verifies the signatures.
 */
static int
setup_kx(void)
{
	snprintf(kx_home, sizeof(kx_home), "/tmp/sgpg-kxXXXXXX");
	if (mkdtemp(kx_home) == NULL)
		return -1;
	if (kx_gen("Org <org@example.org>", "future-default", "default",
	    "never", fpr_org) != 0 ||
	    kx_gen("Cert <cert@example.org>", "ed25519", "cert", "never",
	    fpr_certonly) != 0 ||
	    kx_gen("Sign <sign@example.test>", "ed25519", "sign", "never",
	    fpr_signonly) != 0 ||
	    kx_gen("Multi <multi@Example.TEST>", "future-default", "default",
	    "2y", fpr_multi) != 0 ||
	    kx_gen("Dis <dis@example.test>", "future-default", "default",
	    "never", fpr_dis) != 0 ||
	    kx_gen("Sec <sec@example.test>", "future-default", "default",
	    "never", fpr_sec) != 0)
		return -1;
	if (run("gpg --homedir %s --batch --quiet --no-tty --pinentry-mode "
	    "loopback --passphrase pw --quick-gen-key 'Pw <pw@example.org>' "
	    "future-default default never 2>/dev/null", kx_home) != 0 ||
	    uid_fpr_in(kx_home, "Pw <pw@example.org>", fpr_pw) != 0)
		return -1;
	/* same address twice (domain case), another one, a revoked one */
	if (run("gpg --homedir %s" GPG_Q "--quick-add-uid %s "
	    "'multi@example.test' 2>/dev/null", kx_home, fpr_multi) != 0 ||
	    run("gpg --homedir %s" GPG_Q "--quick-add-uid %s "
	    "'Other <Other.Name@EXAMPLE.test>' 2>/dev/null", kx_home,
	    fpr_multi) != 0 ||
	    run("gpg --homedir %s" GPG_Q "--quick-add-uid %s "
	    "'Rev <rev@example.test>' 2>/dev/null", kx_home, fpr_multi) != 0 ||
	    run("gpg --homedir %s" GPG_Q "--quick-revoke-uid %s "
	    "'Rev <rev@example.test>' 2>/dev/null", kx_home, fpr_multi) != 0)
		return -1;
	if (run("gpg --homedir %s" GPG_Q "--export-secret-keys %s %s | "
	    "gpg --homedir %s" GPG_Q "--import 2>/dev/null", kx_home,
	    fpr_org, fpr_certonly, gw_home) != 0 ||
	    run("gpg --homedir %s --batch --quiet --no-tty --pinentry-mode "
	    "loopback --passphrase pw --export-secret-keys %s | gpg "
	    "--homedir %s" GPG_Q "--import 2>/dev/null", kx_home, fpr_pw,
	    gw_home) != 0 ||
	    run("gpg --homedir %s" GPG_Q "--export %s | gpg --homedir %s"
	    GPG_Q "--import 2>/dev/null", kx_home, fpr_org, rc_home) != 0)
		return -1;
	return 0;
}

static int
setup(void **state)
{
	char path[128];
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
	return setup_kx();
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
	if (kx_home[0] != '\0') {
		run("gpgconf --homedir %s --kill all 2>/dev/null", kx_home);
		run("rm -rf %s", kx_home);
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

/* gmime_check - GMime parses the output as RFC 3156 multipart/encrypted:
 * two parts, application/pgp-encrypted then application/octet-stream */
static void
gmime_check(const struct buf *o)
{
	GMimeStream *st;
	GMimeParser *p;
	GMimeMessage *m;
	GMimeObject *part, *p0, *p1;
	GMimeContentType *ct;

	g_mime_init();
	st = g_mime_stream_mem_new_with_buffer(o->data, o->len);
	p = g_mime_parser_new_with_stream(st);
	m = g_mime_parser_construct_message(p, NULL);
	assert_non_null(m);
	part = g_mime_message_get_mime_part(m);
	assert_non_null(part);
	assert_true(GMIME_IS_MULTIPART_ENCRYPTED(part));
	ct = g_mime_object_get_content_type(part);
	assert_string_equal(g_mime_content_type_get_parameter(ct, "protocol"),
	    "application/pgp-encrypted");
	assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(part)), 2);
	p0 = g_mime_multipart_get_part(GMIME_MULTIPART(part), 0);
	p1 = g_mime_multipart_get_part(GMIME_MULTIPART(part), 1);
	assert_true(g_mime_content_type_is_type(
	    g_mime_object_get_content_type(p0), "application",
	    "pgp-encrypted"));
	assert_true(g_mime_content_type_is_type(
	    g_mime_object_get_content_type(p1), "application",
	    "octet-stream"));
	assert_string_equal(g_mime_message_get_subject(m), "...");
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(st);
}

/* decrypt_part2_status - the armor from out, through the real gpg;
 * gpg's --status-fd lines into status when not NULL */
static void
decrypt_part2_status(const struct buf *out, struct buf *plain,
    struct buf *status)
{
	const char *b, *e;
	char asc[128], dec[128], st[128];

	b = strstr(out->data, "\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n");
	e = strstr(out->data, "-----END PGP MESSAGE-----\r\n");
	assert_non_null(b);
	assert_non_null(e);
	assert_true(e > b);
	b += 4;
	e += strlen("-----END PGP MESSAGE-----\r\n");
	snprintf(asc, sizeof(asc), "%s/part2.asc", rc_home);
	snprintf(dec, sizeof(dec), "%s/part2.out", rc_home);
	snprintf(st, sizeof(st), "%s/part2.status", rc_home);
	assert_int_equal(write_file(asc, b, (size_t)(e - b)), 0);
	assert_int_equal(run("gpg --homedir %s" GPG_Q "--yes --status-file %s "
	    "--decrypt -o %s %s 2>/dev/null", rc_home, st, dec, asc), 0);
	assert_int_equal(read_file(dec, plain), 0);
	if (status != NULL)
		assert_int_equal(read_file(st, status), 0);
}

static void
decrypt_part2(const struct buf *out, struct buf *plain)
{
	decrypt_part2_status(out, plain, NULL);
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
	gmime_check(&out);
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

/* ---- pgp_key_check ---------------------------------------------- */

/* import_from - export keys from home with gpg and pgp_key_import them */
static void
import_from(const char *home, const char *fprs)
{
	char path[128], *list = NULL, *err = NULL;
	struct buf pub;

	snprintf(path, sizeof(path), "%s/export.asc", home);
	assert_int_equal(run("gpg --homedir %s" GPG_Q "--armor --export %s "
	    "> %s", home, fprs, path), 0);
	buf_init(&pub, 1024 * 1024);
	assert_int_equal(read_file(path, &pub), 0);
	if (pgp_key_import(pc, pub.data, pub.len, &list, &err) < 1)
		fail_msg("import: %s", err);
	xfree(list);
	buf_free(&pub);
}

static void
lower(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i] != '\0'; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'F' ?
		    src[i] - 'A' + 'a' : src[i]);
	dst[i] = '\0';
}

static void
test_key_check(void **state)
{
	char fprs[3 * PGP_FPR_SIZE + 3], low[PGP_FPR_SIZE], why[128];
	char longer[PGP_FPR_SIZE + 1];
	struct gpg_key g;
	size_t i;
	int rc;

	snprintf(fprs, sizeof(fprs), "%s %s %s", fpr_signonly, fpr_multi,
	    fpr_dis);
	import_from(kx_home, fprs);
	/* disabled is a property of the gateway's own trust database */
	assert_int_equal(run("printf 'disable\\nquit\\n' | gpg --homedir %s "
	    "--batch --no-tty --command-fd 0 --edit-key %s >/dev/null 2>&1",
	    gw_home, fpr_dis), 0);
	lower(low, fpr_new, sizeof(low));
	assert_int_equal(gpg_key_of(rc_home, fpr_new, &g), 0);
	assert_int_equal(strlen(g.subfpr), 40);	/* encryption subkey */
	{
		const struct {
			const char *fpr, *addr;
			int rc;
			const char *why;
		} cases[] = {
			{ fpr_new, "rcpt@example.test", 1, "" },
			{ low, "rcpt@EXAMPLE.test", 1, "" },
			{ fpr_older, "rcpt@example.test", 1, "" },
			{ fpr_multi, "multi@example.TEST", 1, "" },
			{ fpr_multi, "Other.Name@example.test", 1, "" },
			{ fpr_expired, "old@example.test", 0, "expired" },
			{ fpr_gone, "gone@example.test", 0, "revoked" },
			{ fpr_signonly, "sign@example.test", 0,
			  "no encryption subkey" },
			{ fpr_dis, "dis@example.test", 0, "disabled" },
			{ fpr_new, "other@example.test", 0,
			  "no user ID for other@example.test" },
			{ fpr_new, "RCPT@example.test", 0,	/* exact local */
			  "no user ID for RCPT@example.test" },
			{ fpr_multi, "other.name@example.test", 0,
			  "no user ID for other.name@example.test" },
			{ fpr_multi, "rev@example.test", 0, "revoked" },
			{ fpr_new, "old@example.test", 0,	/* not its uid */
			  "no user ID for old@example.test" },
			{ "0000000000000000000000000000000000000000",
			  "rcpt@example.test", 0, "not in keyring" },
			/* a subkey's fingerprint does not name a key */
			{ g.subfpr, "rcpt@example.test", 0, "not in keyring" },
			{ fpr_sec, "sec@example.test", 0, "not in keyring" },
			{ "rcpt@example.test", "rcpt@example.test", -1,
			  "not a fingerprint" },
			{ "", "rcpt@example.test", -1, "not a fingerprint" },
			{ fpr_new, "rcpt example.test", -1, "invalid address" },
			{ fpr_new, "", -1, "invalid address" },
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			rc = pgp_key_check(pc, cases[i].fpr, cases[i].addr,
			    why, sizeof(why));
			if (rc != cases[i].rc ||
			    strcmp(why, cases[i].why) != 0)
				fail_msg("case %zu %s %s: got %d \"%s\", "
				    "want %d \"%s\"", i, cases[i].fpr,
				    cases[i].addr, rc, why, cases[i].rc,
				    cases[i].why);
		}
	}
	/* 39 and 41 hex digits, NULL, no why buffer */
	snprintf(longer, sizeof(longer), "%.39s", fpr_new);
	assert_int_equal(pgp_key_check(pc, longer, "rcpt@example.test", why,
	    sizeof(why)), -1);
	snprintf(longer, sizeof(longer), "%sA", fpr_new);
	assert_int_equal(pgp_key_check(pc, longer, "rcpt@example.test", why,
	    sizeof(why)), -1);
	assert_int_equal(pgp_key_check(pc, NULL, "rcpt@example.test", why,
	    sizeof(why)), -1);
	assert_int_equal(pgp_key_check(pc, fpr_new, NULL, why, sizeof(why)),
	    -1);
	assert_int_equal(pgp_key_check(pc, fpr_new, "rcpt@example.test", NULL,
	    0), 1);
	assert_int_equal(pgp_key_check(pc, fpr_gone, "gone@example.test",
	    NULL, 0), 0);
	/* why is cut, not overrun */
	assert_int_equal(pgp_key_check(pc, fpr_new, "other@example.test",
	    why, 8), 0);
	assert_string_equal(why, "no user");
}

/* ---- pgp_key_inspect -------------------------------------------- */

/* export_to - gpg --export (armor or not) of fprs from home into b */
static void
export_to(const char *home, const char *opts, const char *fprs,
    struct buf *b)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/inspect.key", home);
	assert_int_equal(run("gpg --homedir %s" GPG_Q "%s %s > %s", home,
	    opts, fprs, path), 0);
	buf_init(b, 4 * 1024 * 1024);
	assert_int_equal(read_file(path, b), 0);
	assert_true(b->len > 0);
}

static const struct pgp_key_info *
info_of(const struct pgp_key_info *a, size_t n, const char *fpr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(a[i].fpr, fpr) == 0)
			return &a[i];
	fail_msg("key %s not described", fpr);
	return NULL;
}

static int
has_email(const struct pgp_key_info *ki, const char *e)
{
	size_t i;

	for (i = 0; i < ki->nemails; i++)
		if (strcmp(ki->emails[i], e) == 0)
			return 1;
	return 0;
}

/* same_as_gpg - fingerprint, dates and flags as gpg --with-colons says */
static void
same_as_gpg(const char *home, const struct pgp_key_info *ki)
{
	struct gpg_key g;

	assert_int_equal(gpg_key_of(home, ki->fpr, &g), 0);
	if (ki->created != g.created || ki->expires != g.expires)
		fail_msg("%s: got created %lld expires %lld, gpg says %lld %lld",
		    ki->fpr, ki->created, ki->expires, g.created, g.expires);
	assert_int_equal(ki->revoked, g.validity == 'r');
	assert_int_equal(ki->expired, g.validity == 'e');
	assert_true(ki->created > 0);
}

static void
test_key_inspect(void **state)
{
	char fprs[3 * PGP_FPR_SIZE + 3], *err = NULL;
	struct pgp_key_info *a = NULL;
	const struct pgp_key_info *ki;
	struct buf data;
	size_t n = 0, i;
	int rc;

	/* armored: several user IDs, signing only, disabled-or-not */
	snprintf(fprs, sizeof(fprs), "%s %s %s", fpr_multi, fpr_signonly,
	    fpr_dis);
	export_to(kx_home, "--armor --export", fprs, &data);
	rc = pgp_key_inspect(pc, data.data, data.len, &a, &n, &err);
	if (rc != 3)
		fail_msg("inspect: got %d (%s), want 3", rc, err ? err : "");
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		same_as_gpg(kx_home, &a[i]);
	ki = info_of(a, n, fpr_multi);
	/* "multi@Example.TEST" and "multi@example.test" are one address;
	 * the local part keeps its case; the revoked uid is left out */
	assert_int_equal(ki->nemails, 2);
	assert_true(has_email(ki, "multi@example.test"));
	assert_true(has_email(ki, "Other.Name@example.test"));
	assert_true(ki->expires > ki->created);
	assert_true(ki->can_encrypt);
	assert_false(ki->revoked || ki->expired || ki->invalid);
	ki = info_of(a, n, fpr_signonly);
	assert_int_equal(ki->nemails, 1);
	assert_string_equal(ki->emails[0], "sign@example.test");
	assert_false(ki->can_encrypt);
	assert_int_equal(ki->expires, 0);
	pgp_key_info_free(a, n);
	buf_free(&data);

	/* binary: the recipient's keys, one expired and one revoked, and
	 * the org key's public half (setup_kx) */
	export_to(rc_home, "--export", "", &data);
	rc = pgp_key_inspect(pc, data.data, data.len, &a, &n, &err);
	if (rc != 5)
		fail_msg("inspect: got %d (%s), want 5", rc, err ? err : "");
	for (i = 0; i < n; i++)
		same_as_gpg(rc_home, &a[i]);
	ki = info_of(a, n, fpr_expired);
	assert_true(ki->expired);
	assert_false(ki->revoked);
	assert_int_equal(ki->expires - ki->created, 86400);
	ki = info_of(a, n, fpr_gone);
	assert_true(ki->revoked);
	ki = info_of(a, n, fpr_new);
	assert_false(ki->revoked || ki->expired || ki->disabled ||
	    ki->invalid);
	assert_true(ki->can_encrypt);
	assert_int_equal(ki->expires, 0);
	assert_int_equal(ki->nemails, 1);
	assert_string_equal(ki->emails[0], "rcpt@example.test");
	ki = info_of(a, n, fpr_org);
	assert_string_equal(ki->emails[0], "org@example.org");
	pgp_key_info_free(a, n);
	buf_free(&data);
	pgp_key_info_free(NULL, 0);
}

/* inspect_fails - -1, a message, nothing handed out */
static void
inspect_fails(const char *data, size_t len, const char *msg_part)
{
	struct pgp_key_info *a = (struct pgp_key_info *)1;
	size_t n = 99;
	char *err = NULL;
	int rc;

	rc = pgp_key_inspect(pc, data, len, &a, &n, &err);
	if (rc != -1)
		fail_msg("inspect of %zu bytes: got %d, want -1", len, rc);
	assert_null(a);
	assert_int_equal(n, 0);
	assert_non_null(err);
	if (msg_part != NULL && strstr(err, msg_part) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, msg_part);
	xfree(err);
}

static void
test_key_inspect_secret(void **state)
{
	struct buf sec, pub, both;
	char why[128];

	/* armored and binary secret keys, secret subkeys only, and a
	 * public key followed by a secret one: all refused */
	export_to(kx_home, "--armor --export-secret-keys", fpr_sec, &sec);
	inspect_fails(sec.data, sec.len, "secret");
	buf_free(&sec);
	export_to(kx_home, "--export-secret-keys", fpr_sec, &sec);
	inspect_fails(sec.data, sec.len, "secret");
	buf_free(&sec);
	export_to(kx_home, "--armor --export-secret-subkeys", fpr_sec, &sec);
	inspect_fails(sec.data, sec.len, "secret");
	export_to(kx_home, "--armor --export", fpr_multi, &pub);
	buf_init(&both, 4 * 1024 * 1024);
	assert_int_equal(buf_append(&both, pub.data, pub.len), 0);
	assert_int_equal(buf_append(&both, sec.data, sec.len), 0);
	inspect_fails(both.data, both.len, "secret");
	buf_free(&sec);
	buf_free(&pub);
	buf_free(&both);

	/* and nothing of it went into the gateway home */
	assert_int_equal(pgp_key_check(pc, fpr_sec, "sec@example.test", why,
	    sizeof(why)), 0);
	assert_string_equal(why, "not in keyring");
	assert_int_not_equal(run("gpg --homedir %s --batch --list-secret-keys "
	    "%s >/dev/null 2>&1", gw_home, fpr_sec), 0);
}

static void
test_key_inspect_hostile(void **state)
{
	static const char junk_armor[] =
	    "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
	    "bm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n";
	static const char garbage[] = "\x99\x01\xff garbage \x00\x01\x02";
	static const char message[] =
	    "-----BEGIN PGP MESSAGE-----\n\nowGbwMvMwCE=\n=AAAA\n"
	    "-----END PGP MESSAGE-----\n";
	struct pgp_key_info *a = NULL;
	struct buf pub;
	size_t n = 0;
	char *err = NULL;
	int rc;

	inspect_fails(NULL, 10, NULL);
	inspect_fails("", 0, NULL);
	inspect_fails(garbage, sizeof(garbage) - 1, NULL);
	inspect_fails(junk_armor, sizeof(junk_armor) - 1, NULL);
	inspect_fails(message, sizeof(message) - 1, NULL);
	/* larger than the cap: refused before a byte is read */
	inspect_fails(garbage, (size_t)PGP_KEYDATA_MAX + 1, "larger");
	assert_int_equal(pgp_key_inspect(NULL, garbage, 4, &a, &n, &err), -1);
	xfree(err);
	err = NULL;

	/* truncated binary: inside the first packet */
	export_to(kx_home, "--export", fpr_multi, &pub);
	inspect_fails(pub.data, 12, NULL);
	inspect_fails(pub.data, 1, NULL);
	/* truncated armor: whatever gpg makes of it, the answer is
	 * consistent and never more than the one key */
	buf_free(&pub);
	export_to(kx_home, "--armor --export", fpr_multi, &pub);
	rc = pgp_key_inspect(pc, pub.data, pub.len / 2, &a, &n, &err);
	if (rc == -1) {
		assert_null(a);
		assert_int_equal(n, 0);
		assert_non_null(err);
		xfree(err);
	} else {
		assert_int_equal(rc, 1);
		assert_int_equal(n, 1);
		assert_string_equal(a[0].fpr, fpr_multi);
		pgp_key_info_free(a, n);
	}
	buf_free(&pub);
}

/* ---- signing ------------------------------------------------------ */

static const char sign_msg[] =
    "From: Alice <alice@example.org>\r\n"
    "To: Rcpt <rcpt@example.test>\r\n"
    "Subject: signed\r\n"
    "\r\n"
    "Signed by the organisation.\r\n";
static const char sign_inner[] =
    "Content-Type: text/plain; charset=us-ascii;\r\n"
    " protected-headers=\"v1\"\r\n"
    "From: Alice <alice@example.org>\r\n"
    "To: Rcpt <rcpt@example.test>\r\n"
    "Subject: signed\r\n"
    "\r\n"
    "Signed by the organisation.\r\n";

/* encrypt_check - encrypt sign_msg to fpr_new, decrypt with gpg; the
 * plaintext must be exact; signer_fpr NULL: no signature at all */
static void
encrypt_check(const char *signer_fpr)
{
	const char *fprs[] = { fpr_new };
	struct buf out, plain, status;
	char want[128], *err = NULL;

	buf_init(&out, 1024 * 1024);
	buf_init(&plain, 1024 * 1024);
	buf_init(&status, 1024 * 1024);
	if (pgp_encrypt_mime(pc, sign_msg, sizeof(sign_msg) - 1, fprs, 1,
	    NULL, &out, &err) != 0)
		fail_msg("encrypt: %s", err);
	decrypt_part2_status(&out, &plain, &status);
	assert_int_equal(plain.len, sizeof(sign_inner) - 1);
	assert_memory_equal(plain.data, sign_inner, plain.len);
	assert_null(strstr(status.data, "BADSIG"));
	assert_null(strstr(status.data, "ERRSIG"));
	if (signer_fpr == NULL) {
		assert_null(strstr(status.data, "NEWSIG"));
		assert_null(strstr(status.data, "GOODSIG"));
	} else {
		/* GOODSIG <long key ID>; VALIDSIG <signing fpr> ... */
		snprintf(want, sizeof(want), "[GNUPG:] GOODSIG %s ",
		    signer_fpr + 24);
		if (strstr(status.data, want) == NULL)
			fail_msg("no %s in\n%s", want, status.data);
		snprintf(want, sizeof(want), "[GNUPG:] VALIDSIG %s ",
		    signer_fpr);
		if (strstr(status.data, want) == NULL)
			fail_msg("no %s in\n%s", want, status.data);
		assert_non_null(strstr(status.data, "[GNUPG:] DECRYPTION_OKAY"));
	}
	python_check(&out);
	buf_free(&out);
	buf_free(&plain);
	buf_free(&status);
}

static void
test_sign_encrypt(void **state)
{
	char low[PGP_FPR_SIZE], *err = NULL;

	if (pgp_set_signer(pc, fpr_org, &err) != 0)
		fail_msg("set_signer: %s", err);
	encrypt_check(fpr_org);
	/* fingerprint in lower case: the same key */
	lower(low, fpr_org, sizeof(low));
	if (pgp_set_signer(pc, low, &err) != 0)
		fail_msg("set_signer: %s", err);
	encrypt_check(fpr_org);
	assert_int_equal(pgp_set_signer(pc, NULL, &err), 0);
	encrypt_check(NULL);
}

/* signer_fails - -1 with a message containing part */
static void
signer_fails(const char *fpr, const char *part)
{
	char *err = NULL;

	assert_int_equal(pgp_set_signer(pc, fpr, &err), -1);
	assert_non_null(err);
	if (part != NULL && strstr(err, part) == NULL)
		fail_msg("signer %s: error \"%s\" lacks \"%s\"", fpr, err,
		    part);
	xfree(err);
}

static void
test_signer_errors(void **state)
{
	char *err = NULL;

	if (pgp_set_signer(pc, fpr_org, &err) != 0)
		fail_msg("set_signer: %s", err);
	signer_fails(fpr_new, "no secret key");		/* public only */
	signer_fails("0000000000000000000000000000000000000000",
	    "no secret key");
	signer_fails("org@example.org", "not a fingerprint");
	signer_fails("", "not a fingerprint");
	signer_fails(fpr_certonly, "no usable signing key");
	/* passphrase-protected: refused, and the test does not hang */
	signer_fails(fpr_pw, NULL);
	/* the org key is still the signer after all those failures */
	encrypt_check(fpr_org);
	assert_int_equal(pgp_set_signer(pc, NULL, &err), 0);
	assert_int_equal(pgp_set_signer(pc, NULL, &err), 0);	/* twice */
	encrypt_check(NULL);
	/* a failed set with no signer before leaves none */
	signer_fails(fpr_pw, NULL);
	encrypt_check(NULL);
	assert_int_equal(pgp_set_signer(NULL, NULL, &err), -1);
	xfree(err);
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
		cmocka_unit_test(test_key_check),
		cmocka_unit_test(test_key_inspect),
		cmocka_unit_test(test_key_inspect_secret),
		cmocka_unit_test(test_key_inspect_hostile),
		cmocka_unit_test(test_sign_encrypt),
		cmocka_unit_test(test_signer_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
