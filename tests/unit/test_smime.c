/*
 * test_smime.c - crypto/smime.c: certificate checks (table-driven, keys
 * and certificates made here with OpenSSL), the inner MIME entity, the
 * already-encrypted test, and encryption decrypted by real tools:
 * openssl cms -decrypt (RSA and EC, CBC and GCM), Python's email parser
 * for the outer structure, and gpgsm for RSA + AES-256-CBC (gpgsm 2.2
 * reads no AuthEnvelopedData and crashes importing EC PKCS#12 files;
 * the gpgsm check is skipped with a message when gpgsm is missing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/smime.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define NOW	((time_t)1800000000)	/* 2027-01-15 */
#define DAY	((time_t)86400)

static char tmpdir[] = "/tmp/test_smime.XXXXXX";
static EVP_PKEY *rsa_key, *ec_key, *rsa1024_key;

static const char sample[] =
    "From: Sender <s@example.net>\r\n"
    "To: alice@example.org\r\n"
    "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and more\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain;\r\n"
    " charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "Message-ID: <1@example.net>\r\n"
    "\r\n"
    "Hello Gr\xc3\xbc\xc3\x9f\xc3\xa9!\r\n"
    ".\r\n"
    ".leading dot line\r\n"
    "end\r\n";

static const char sample_inner[] =
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain;\r\n"
    " charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Hello Gr\xc3\xbc\xc3\x9f\xc3\xa9!\r\n"
    ".\r\n"
    ".leading dot line\r\n"
    "end\r\n";

static const char sample_outer_head[] =
    "From: Sender <s@example.net>\r\n"
    "To: alice@example.org\r\n"
    "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and more\r\n"
    "Message-ID: <1@example.net>\r\n"
    "MIME-Version: 1.0\r\n";

/* ---- certificate factory ------------------------------------------ */

static void
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

/* make_cert - self-signed; NULL strings leave the extension out */
static X509 *
make_cert(EVP_PKEY *key, const char *subj_email, const char *san,
    const char *ku, const char *eku, time_t nb, time_t na)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	static long serial = 1;

	assert_non_null(x);
	assert_true(X509_set_version(x, 2));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++));
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), nb));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), na));
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"test recipient", -1, -1, 0));
	if (subj_email != NULL)
		assert_true(X509_NAME_add_entry_by_NID(n,
		    NID_pkcs9_emailAddress, MBSTRING_ASC,
		    (const unsigned char *)subj_email, -1, -1, 0));
	assert_true(X509_set_subject_name(x, n));
	assert_true(X509_set_issuer_name(x, n));
	X509_NAME_free(n);
	assert_true(X509_set_pubkey(x, key));
	if (san != NULL)
		add_ext(x, NID_subject_alt_name, san);
	if (ku != NULL)
		add_ext(x, NID_key_usage, ku);
	if (eku != NULL)
		add_ext(x, NID_ext_key_usage, eku);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static void
path_of(char *p, size_t n, const char *name)
{
	int r = snprintf(p, n, "%s/%s", tmpdir, name);

	assert_true(r > 0 && (size_t)r < n);
}

static void
write_pem(const char *name, X509 *cert, EVP_PKEY *key)
{
	char p[256];
	FILE *f;

	path_of(p, sizeof(p), name);
	assert_non_null(f = fopen(p, "w"));
	if (cert != NULL)
		assert_true(PEM_write_X509(f, cert));
	if (key != NULL)
		assert_true(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL,
		    NULL));
	assert_int_equal(fclose(f), 0);
}

static void
write_file(const char *name, const char *data, size_t len)
{
	char p[256];
	FILE *f;

	path_of(p, sizeof(p), name);
	assert_non_null(f = fopen(p, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* read_file - whole file into b (new buffer) */
static void
read_file(const char *name, struct buf *b)
{
	char p[256], chunk[4096];
	FILE *f;
	size_t n;

	path_of(p, sizeof(p), name);
	assert_non_null(f = fopen(p, "rb"));
	buf_init(b, 1 << 24);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(b, chunk, n), 0);
	assert_int_equal(fclose(f), 0);
}

static int
run(const char *cmd)
{
	int r = system(cmd);

	if (r != 0)
		print_message("command failed (%d): %s\n", r, cmd);
	return r;
}

static int
setup(void **state)
{
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	rsa_key = EVP_RSA_gen(2048);
	rsa1024_key = EVP_RSA_gen(1024);
	ec_key = EVP_EC_gen("P-256");
	return rsa_key != NULL && ec_key != NULL && rsa1024_key != NULL ?
	    0 : -1;
}

static int
teardown(void **state)
{
	char cmd[300];

	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(rsa1024_key);
	if (getenv("SMIME_KEEP_TMP") == NULL) {
		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			print_message("cannot run: %s\n", cmd);
	} else {
		print_message("kept %s\n", tmpdir);
	}
	return 0;
}

/* ---- smime_cert_usable -------------------------------------------- */

enum keysel { K_RSA, K_EC, K_RSA1024 };

static const struct usable_case {
	const char *label;
	enum keysel key;
	const char *subj_email, *san, *ku, *eku;
	time_t nb, na;
	const char *rcpt;
	int want;
	const char *why;	/* substring of the reason */
} usable_cases[] = {
	{ "rsa ok", K_RSA, NULL, "email:alice@example.org",
	  "digitalSignature,keyEncipherment", "emailProtection",
	  NOW - DAY, NOW + DAY, "alice@example.org", 1, "ok" },
	{ "rsa domain case", K_RSA, NULL, "email:alice@Example.ORG",
	  "keyEncipherment", "emailProtection",
	  NOW - DAY, NOW + DAY, "alice@EXAMPLE.org", 1, "ok" },
	{ "local part is exact", K_RSA, NULL, "email:alice@example.org",
	  "keyEncipherment", "emailProtection",
	  NOW - DAY, NOW + DAY, "Alice@example.org", 0, "name" },
	{ "ec ok", K_EC, NULL, "email:bob@example.org",
	  "digitalSignature,keyAgreement", "emailProtection",
	  NOW - DAY, NOW + DAY, "bob@example.org", 1, "ok" },
	{ "no eku, no ku", K_RSA, NULL, "email:alice@example.org",
	  NULL, NULL, NOW - DAY, NOW + DAY, "alice@example.org", 1, "ok" },
	{ "any eku", K_RSA, NULL, "email:alice@example.org",
	  "keyEncipherment", "anyExtendedKeyUsage",
	  NOW - DAY, NOW + DAY, "alice@example.org", 1, "ok" },
	{ "serverAuth eku only", K_RSA, NULL, "email:alice@example.org",
	  "keyEncipherment", "serverAuth,clientAuth",
	  NOW - DAY, NOW + DAY, "alice@example.org", 0, "emailProtection" },
	{ "ec serverAuth eku only", K_EC, NULL, "email:bob@example.org",
	  NULL, "serverAuth", NOW - DAY, NOW + DAY, "bob@example.org", 0,
	  "emailProtection" },
	{ "expired", K_RSA, NULL, "email:alice@example.org",
	  "keyEncipherment", "emailProtection",
	  NOW - 10 * DAY, NOW - DAY, "alice@example.org", 0, "expired" },
	{ "not yet valid", K_EC, NULL, "email:bob@example.org",
	  "keyAgreement", "emailProtection",
	  NOW + DAY, NOW + 10 * DAY, "bob@example.org", 0, "not yet" },
	{ "wrong address", K_RSA, NULL, "email:alice@example.org",
	  "keyEncipherment", "emailProtection",
	  NOW - DAY, NOW + DAY, "mallory@example.org", 0, "name" },
	{ "wrong domain", K_EC, NULL, "email:bob@example.org",
	  "keyAgreement", NULL,
	  NOW - DAY, NOW + DAY, "bob@example.org.evil", 0, "name" },
	{ "second san email", K_RSA, NULL,
	  "DNS:mail.example.org,email:a@x.org,email:alice@example.org",
	  NULL, NULL, NOW - DAY, NOW + DAY, "alice@example.org", 1, "ok" },
	{ "subject email, no san", K_RSA, "alice@example.org", NULL,
	  "keyEncipherment", "emailProtection",
	  NOW - DAY, NOW + DAY, "alice@example.org", 1, "ok" },
	{ "subject email ignored with san", K_RSA, "alice@example.org",
	  "DNS:example.org", "keyEncipherment", "emailProtection",
	  NOW - DAY, NOW + DAY, "alice@example.org", 0, "name" },
	{ "rsa signature-only ku", K_RSA, NULL, "email:alice@example.org",
	  "digitalSignature", "emailProtection",
	  NOW - DAY, NOW + DAY, "alice@example.org", 0, "keyEncipherment" },
	{ "ec without keyAgreement", K_EC, NULL, "email:bob@example.org",
	  "digitalSignature,keyEncipherment", "emailProtection",
	  NOW - DAY, NOW + DAY, "bob@example.org", 0, "keyAgreement" },
	{ "rsa 1024", K_RSA1024, NULL, "email:alice@example.org",
	  "keyEncipherment", "emailProtection",
	  NOW - DAY, NOW + DAY, "alice@example.org", 0, "2048" },
};

static EVP_PKEY *
key_of(enum keysel k)
{
	return k == K_RSA ? rsa_key : k == K_EC ? ec_key : rsa1024_key;
}

static void
test_cert_usable(void **state)
{
	size_t i;
	char why[128];

	for (i = 0; i < sizeof(usable_cases) / sizeof(usable_cases[0]); i++) {
		const struct usable_case *c = &usable_cases[i];
		X509 *x = make_cert(key_of(c->key), c->subj_email, c->san,
		    c->ku, c->eku, c->nb, c->na);
		int got;

		why[0] = '\0';
		got = smime_cert_usable(x, c->rcpt, NOW, why, sizeof(why));
		if (got != c->want || strstr(why, c->why) == NULL)
			fail_msg("case '%s': got %d (%s), want %d (%s)",
			    c->label, got, why, c->want, c->why);
		/* why may be NULL */
		assert_int_equal(smime_cert_usable(x, c->rcpt, NOW, NULL, 0),
		    c->want);
		X509_free(x);
	}
	assert_int_equal(smime_cert_usable(NULL, "a@b", NOW, why,
	    sizeof(why)), 0);
}

/* ---- inner entity and already-encrypted --------------------------- */

static void
test_inner_entity(void **state)
{
	struct buf b;
	static const char lf[] =
	    "Subject: x\n"
	    "content-type: text/plain\n"
	    "X-Other: y\n"
	    "\n"
	    "a\nb\r\n";
	static const char nohdr[] = "Subject: only\r\n\r\nbody\r\n";

	buf_init(&b, 1 << 16);
	assert_int_equal(smime_inner_entity(sample, sizeof(sample) - 1, &b),
	    0);
	assert_int_equal(b.len, sizeof(sample_inner) - 1);
	assert_memory_equal(b.data, sample_inner, b.len);

	buf_reset(&b);
	assert_int_equal(smime_inner_entity(lf, sizeof(lf) - 1, &b), 0);
	assert_string_equal(buf_cstr(&b),
	    "content-type: text/plain\r\n\r\na\r\nb\r\n");

	buf_reset(&b);
	assert_int_equal(smime_inner_entity(nohdr, sizeof(nohdr) - 1, &b), 0);
	assert_string_equal(buf_cstr(&b), "\r\nbody\r\n");
	buf_free(&b);

	/* full: -1, unchanged */
	buf_init(&b, 20);
	assert_int_equal(buf_append_str(&b, "keep"), 0);
	assert_int_equal(smime_inner_entity(sample, sizeof(sample) - 1, &b),
	    -1);
	assert_string_equal(buf_cstr(&b), "keep");
	buf_free(&b);
}

static void
test_already_encrypted(void **state)
{
	static const struct {
		const char *msg;
		int want;
	} t[] = {
		{ "Content-Type: application/pkcs7-mime; "
		  "smime-type=enveloped-data; name=smime.p7m\r\n\r\nx", 1 },
		{ "Subject: a\r\nCONTENT-TYPE:  Application/PKCS7-MIME;\r\n"
		  "\tname=\"smime.p7m\";\r\n smime-type=\"authEnveloped-data\""
		  "\r\n\r\nx", 1 },
		{ "Content-Type: application/x-pkcs7-mime; "
		  "smime-type=enveloped-data\r\n\r\n", 1 },
		{ "Content-Type: multipart/encrypted; "
		  "protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n",
		  1 },
		{ "Content-Type: application/pkcs7-mime; "
		  "smime-type=signed-data\r\n\r\n", 0 },
		{ "Content-Type: application/pkcs7-mime; name=smime.p7m\r\n\r\n",
		  0 },
		{ "Content-Type: multipart/signed; protocol="
		  "\"application/pkcs7-signature\"\r\n\r\n", 0 },
		{ "Content-Type: text/plain\r\n\r\n"
		  "Content-Type: multipart/encrypted\r\n", 0 },
		{ "Subject: x\r\n\r\nContent-Type: multipart/encrypted\r\n", 0 },
		{ "X-Content-Type: multipart/encrypted\r\n\r\n", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (smime_already_encrypted(t[i].msg, strlen(t[i].msg)) !=
		    t[i].want)
			fail_msg("case %zu: want %d", i, t[i].want);
	}
}

/* ---- encryption, checked with real tools --------------------------- */

/* check_outer - the structure of an encrypted message */
static void
check_outer(const struct buf *o, enum smime_cipher c)
{
	const char *ct = c == SMIME_AES256_GCM ?
	    "Content-Type: application/pkcs7-mime; "
	    "smime-type=authEnveloped-data;\r\n" :
	    "Content-Type: application/pkcs7-mime; "
	    "smime-type=enveloped-data;\r\n";
	const char *p, *body;
	size_t hl = sizeof(sample_outer_head) - 1;

	assert_true(o->len > hl);
	assert_memory_equal(o->data, sample_outer_head, hl);
	assert_memory_equal(o->data + hl, ct, strlen(ct));
	body = strstr(o->data, "\r\n\r\n");
	assert_non_null(body);
	assert_null(strstr(o->data, "text/plain"));
	assert_null(strstr(o->data, "8bit"));
	/* base64 lines: 76 characters, the last one at most */
	for (p = body + 4; p < o->data + o->len;) {
		const char *e = strstr(p, "\r\n");
		assert_non_null(e);
		assert_true(e - p <= 76);
		if (e + 2 < o->data + o->len)
			assert_int_equal(e - p, 76);
		p = e + 2;
	}
}

static void
python_check(const char *file, const char *smime_type)
{
	char cmd[2048];
	int r;

	r = snprintf(cmd, sizeof(cmd),
	    "python3 -c '"
	    "import email, email.policy, sys\n"
	    "m = email.message_from_binary_file(open(sys.argv[1], \"rb\"),"
	    " policy=email.policy.default)\n"
	    "assert m.get_content_type() == \"application/pkcs7-mime\", "
	    "m.get_content_type()\n"
	    "assert m.get_param(\"smime-type\") == sys.argv[2]\n"
	    "assert m.get_filename() == \"smime.p7m\"\n"
	    "assert len(m.get_all(\"Content-Type\")) == 1\n"
	    "assert len(m.get_all(\"MIME-Version\")) == 1\n"
	    "assert m[\"Subject\"] == \"Gr\\u00fc\\u00dfe and more\", "
	    "m[\"Subject\"]\n"
	    "assert m.get_content_disposition() == \"attachment\"\n"
	    "assert m[\"Content-Transfer-Encoding\"] == \"base64\"\n"
	    "der = m.get_payload(decode=True)\n"
	    "assert der[0] == 0x30 and len(der) > 200\n"
	    "' %s/%s %s", tmpdir, file, smime_type);
	assert_true(r > 0 && (size_t)r < sizeof(cmd));
	assert_int_equal(run(cmd), 0);
}

/* openssl_decrypt - openssl cms -decrypt with <who>.pem; compare */
static void
openssl_decrypt(const char *file, const char *who)
{
	char cmd[1024];
	struct buf dec;

	(void)snprintf(cmd, sizeof(cmd),
	    "openssl cms -decrypt -in %s/%s -recip %s/%s.pem -inkey "
	    "%s/%s.pem -out %s/dec.txt", tmpdir, file, tmpdir, who, tmpdir,
	    who, tmpdir);
	assert_int_equal(run(cmd), 0);
	read_file("dec.txt", &dec);
	assert_int_equal(dec.len, sizeof(sample_inner) - 1);
	assert_memory_equal(dec.data, sample_inner, dec.len);
	buf_free(&dec);
}

static void
encrypt_to(X509 **certs, size_t n, enum smime_cipher c, const char *file)
{
	struct buf o;
	char *err = NULL;

	buf_init(&o, 1 << 20);
	if (smime_encrypt(sample, sizeof(sample) - 1, certs, n, c, &o,
	    &err) != 0)
		fail_msg("smime_encrypt: %s", err);
	assert_null(err);
	check_outer(&o, c);
	write_file(file, o.data, o.len);
	buf_free(&o);
}

static void
test_encrypt_openssl(void **state)
{
	X509 *rsa = make_cert(rsa_key, NULL, "email:alice@example.org",
	    "keyEncipherment", "emailProtection", time(NULL) - DAY,
	    time(NULL) + DAY);
	X509 *ec = make_cert(ec_key, NULL, "email:bob@example.org",
	    "keyAgreement", "emailProtection", time(NULL) - DAY,
	    time(NULL) + DAY);
	X509 *both[2] = { rsa, ec };

	write_pem("alice.pem", rsa, rsa_key);
	write_pem("bob.pem", ec, ec_key);

	encrypt_to(&rsa, 1, SMIME_AES256_GCM, "rsa_gcm.eml");
	openssl_decrypt("rsa_gcm.eml", "alice");
	python_check("rsa_gcm.eml", "authEnveloped-data");

	encrypt_to(&rsa, 1, SMIME_AES256_CBC, "rsa_cbc.eml");
	openssl_decrypt("rsa_cbc.eml", "alice");
	python_check("rsa_cbc.eml", "enveloped-data");

	encrypt_to(&ec, 1, SMIME_AES256_GCM, "ec_gcm.eml");
	openssl_decrypt("ec_gcm.eml", "bob");

	encrypt_to(&ec, 1, SMIME_AES256_CBC, "ec_cbc.eml");
	openssl_decrypt("ec_cbc.eml", "bob");

	encrypt_to(both, 2, SMIME_AES256_GCM, "both_gcm.eml");
	openssl_decrypt("both_gcm.eml", "alice");
	openssl_decrypt("both_gcm.eml", "bob");

	X509_free(rsa);
	X509_free(ec);
}

/* test_cms_types - DER content types as openssl cms -cmsout prints them */
static void
test_cms_types(void **state)
{
	char cmd[1024];

	(void)snprintf(cmd, sizeof(cmd), "openssl cms -cmsout -print -in "
	    "%s/rsa_gcm.eml | grep -q 'contentType: id-smime-ct-authEnvelopedData'",
	    tmpdir);
	assert_int_equal(run(cmd), 0);
	(void)snprintf(cmd, sizeof(cmd), "openssl cms -cmsout -print -in "
	    "%s/rsa_cbc.eml | grep -q 'contentType: pkcs7-envelopedData'",
	    tmpdir);
	assert_int_equal(run(cmd), 0);
	/* our output is itself recognised as already encrypted */
	{
		struct buf o;
		read_file("rsa_gcm.eml", &o);
		assert_int_equal(smime_already_encrypted(o.data, o.len), 1);
		buf_free(&o);
		read_file("rsa_cbc.eml", &o);
		assert_int_equal(smime_already_encrypted(o.data, o.len), 1);
		buf_free(&o);
	}
}

static void
test_encrypt_gpgsm(void **state)
{
	char cmd[2048];
	struct buf dec;
	int r;

	if (system("gpgsm --version >/dev/null 2>&1") != 0) {
		print_message("SKIP gpgsm check: gpgsm not installed\n");
		return;
	}
	/* 3DES/SHA-1 PKCS#12: gpgsm 2.2 reads no PBES2 */
	(void)snprintf(cmd, sizeof(cmd),
	    "set -e; cd %s; mkdir -m 700 gnupg; export GNUPGHOME=$PWD/gnupg;"
	    " trap 'gpgconf --kill gpg-agent' EXIT;"
	    " echo allow-loopback-pinentry > gnupg/gpg-agent.conf;"
	    " openssl pkcs12 -export -certpbe PBE-SHA1-3DES"
	    " -keypbe PBE-SHA1-3DES -macalg sha1 -in alice.pem"
	    " -out alice.p12 -passout pass:test;"
	    " echo test | timeout 30 gpgsm --batch --pinentry-mode loopback"
	    " --passphrase-fd 0 --import alice.p12 2>gpgsm.log;"
	    " tr -d '\\r' < rsa_cbc.eml | sed -n '/^$/,$p' | base64 -d > rsa_cbc.p7m;"
	    " echo test | timeout 30 gpgsm --batch --pinentry-mode loopback"
	    " --passphrase-fd 0 --decrypt rsa_cbc.p7m > gdec.txt"
	    " 2>>gpgsm.log",
	    tmpdir);
	r = system(cmd);
	if (r != 0) {
		(void)snprintf(cmd, sizeof(cmd), "cat %s/gpgsm.log", tmpdir);
		if (system(cmd) != 0)
			print_message("cannot run: %s\n", cmd);
		fail_msg("gpgsm import/decrypt failed (%d)", r);
	}
	read_file("gdec.txt", &dec);
	assert_int_equal(dec.len, sizeof(sample_inner) - 1);
	assert_memory_equal(dec.data, sample_inner, dec.len);
	buf_free(&dec);
}

static void
test_encrypt_errors(void **state)
{
	X509 *rsa = make_cert(rsa_key, NULL, "email:alice@example.org",
	    NULL, NULL, NOW - DAY, NOW + DAY);
	X509 *none[1] = { NULL };
	struct buf o;
	char *err = NULL;

	/* output limit: -1, message, buffer unchanged */
	buf_init(&o, 600);
	assert_int_equal(buf_append_str(&o, "keep"), 0);
	assert_int_equal(smime_encrypt(sample, sizeof(sample) - 1, &rsa, 1,
	    SMIME_AES256_GCM, &o, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "limit"));
	assert_string_equal(buf_cstr(&o), "keep");
	xfree(err);
	err = NULL;

	assert_int_equal(smime_encrypt(sample, sizeof(sample) - 1, none, 1,
	    SMIME_AES256_CBC, &o, &err), -1);
	assert_non_null(err);
	xfree(err);
	err = NULL;
	assert_int_equal(smime_encrypt(sample, sizeof(sample) - 1, &rsa, 0,
	    SMIME_AES256_CBC, &o, &err), -1);
	assert_non_null(err);
	xfree(err);
	assert_string_equal(buf_cstr(&o), "keep");
	buf_free(&o);
	X509_free(rsa);
}

static void
test_load_cert(void **state)
{
	char p[256], *err = NULL;
	X509 *x;

	path_of(p, sizeof(p), "alice.pem");
	x = smime_load_cert_pem(p, &err);
	assert_non_null(x);
	assert_null(err);
	assert_int_equal(smime_cert_usable(x, "alice@example.org",
	    time(NULL), NULL, 0), 1);
	X509_free(x);

	path_of(p, sizeof(p), "nonexistent.pem");
	assert_null(smime_load_cert_pem(p, &err));
	assert_non_null(err);
	xfree(err);
	err = NULL;
	path_of(p, sizeof(p), "dec.txt");
	assert_null(smime_load_cert_pem(p, &err));
	assert_non_null(err);
	xfree(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_usable),
		cmocka_unit_test(test_inner_entity),
		cmocka_unit_test(test_already_encrypted),
		cmocka_unit_test(test_encrypt_openssl),
		cmocka_unit_test(test_cms_types),
		cmocka_unit_test(test_encrypt_gpgsm),
		cmocka_unit_test(test_encrypt_errors),
		cmocka_unit_test(test_load_cert),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
