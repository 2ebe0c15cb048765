/*
 * test_smime.c - crypto/smime.c: certificate checks (table-driven, keys
 * and certificates made here with OpenSSL), the inner MIME entity, the
 * already-encrypted test, and encryption decrypted by real tools:
 * openssl cms -decrypt (RSA and EC, CBC and GCM), Python's email parser
 * for the outer structure, and gpgsm for RSA + AES-256-CBC (gpgsm 2.2
 * reads no AuthEnvelopedData and crashes importing EC PKCS#12 files;
 * the gpgsm check is skipped with a message when gpgsm is missing).
 * Certificates for the key store: smime_cert_from_mem (PEM, DER, junk),
 * smime_cert_inspect against `openssl x509 -fingerprint -sha256` and its
 * subjectAltName, smime_der. Signing then encrypting with a test CA
 * (root, intermediate, signer): openssl cms -decrypt, then
 * openssl cms -verify -CAfile root must accept the signature over exactly
 * smime_inner_entity(msg); gpgsm decrypts the CBC variant.
 */
#define _GNU_SOURCE		/* memmem */
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

#include <gmime/gmime.h>

#include "crypto/smime.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define NOW	((time_t)1800000000)	/* 2027-01-15 */
#define DAY	((time_t)86400)

static char tmpdir[] = "/tmp/test_smime.XXXXXX";
static EVP_PKEY *rsa_key, *ec_key, *rsa1024_key;
static EVP_PKEY *ca_key, *inter_key, *org_key;	/* the signing side */

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
	ca_key = EVP_EC_gen("P-256");
	inter_key = EVP_EC_gen("P-256");
	org_key = EVP_EC_gen("P-256");
	return rsa_key != NULL && ec_key != NULL && rsa1024_key != NULL &&
	    ca_key != NULL && inter_key != NULL && org_key != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[300];

	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(rsa1024_key);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(inter_key);
	EVP_PKEY_free(org_key);
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

/* gmime_check - GMime parses the output as application/pkcs7-mime with
 * the smime-type the cipher calls for */
static void
gmime_check(const struct buf *o, enum smime_cipher c)
{
	GMimeStream *st;
	GMimeParser *p;
	GMimeMessage *m;
	GMimeObject *part;
	GMimeContentType *ct;
	const char *t;

	g_mime_init();
	st = g_mime_stream_mem_new_with_buffer(o->data, o->len);
	p = g_mime_parser_new_with_stream(st);
	m = g_mime_parser_construct_message(p, NULL);
	assert_non_null(m);
	part = g_mime_message_get_mime_part(m);
	assert_non_null(part);
	assert_true(GMIME_IS_APPLICATION_PKCS7_MIME(part));
	ct = g_mime_object_get_content_type(part);
	assert_true(g_mime_content_type_is_type(ct, "application",
	    "pkcs7-mime"));
	t = g_mime_content_type_get_parameter(ct, "smime-type");
	assert_non_null(t);
	assert_string_equal(t, c == SMIME_AES256_GCM ? "authEnveloped-data" :
	    "enveloped-data");
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(st);
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
	gmime_check(&o, c);
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

/* ---- certificates for the key store ------------------------------ */

static int
runf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
runf(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(cmd));
	return run(cmd);
}

/* cmd_line - first line of a command's output, without the newline */
static void
cmd_line(char *out, size_t n, const char *cmd)
{
	FILE *f = popen(cmd, "r");

	assert_non_null(f);
	out[0] = '\0';
	if (fgets(out, (int)n, f) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	(void)pclose(f);
}

/* pem_of / der_of - the certificate encoded into a new buffer */
static void
pem_of(X509 *x, struct buf *b)
{
	BIO *m = BIO_new(BIO_s_mem());
	char *p;
	long n;

	assert_non_null(m);
	assert_true(PEM_write_bio_X509(m, x));
	n = BIO_get_mem_data(m, &p);
	buf_init(b, 1 << 20);
	assert_int_equal(buf_append(b, p, (size_t)n), 0);
	BIO_free(m);
}

static void
der_of(X509 *x, struct buf *b)
{
	buf_init(b, 1 << 20);
	assert_int_equal(smime_der(x, b), 0);
}

static int
has_addr(const struct smime_cert_info *ci, const char *a)
{
	size_t i;

	for (i = 0; i < ci->nemails; i++)
		if (strcmp(ci->emails[i], a) == 0)
			return 1;
	return 0;
}

/* openssl_view - what `openssl x509` says: SHA-256 fingerprint as lower
 * hex, the SAN e-mail addresses (domain lower-cased, once each) and the
 * validity period through date(1) */
static void
openssl_view(const char *file, char *sha, struct smime_cert_info *v)
{
	char cmd[600], line[1024], *p, *q, *e;
	size_t i, j;

	(void)snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s -noout "
	    "-fingerprint -sha256", tmpdir, file);
	cmd_line(line, sizeof(line), cmd);
	p = strchr(line, '=');
	assert_non_null(p);
	for (p++, j = 0; *p != '\0' && j < 64; p++)
		if (*p != ':')
			sha[j++] = (char)(*p >= 'A' && *p <= 'F' ?
			    *p - 'A' + 'a' : *p);
	sha[j] = '\0';

	memset(v, 0, sizeof(*v));
	(void)snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s -noout "
	    "-ext subjectAltName 2>&1 | grep -c 'Subject Alternative Name'",
	    tmpdir, file);
	cmd_line(line, sizeof(line), cmd);
	if (strcmp(line, "0") == 0) {
		/* no SAN: -email lists the subject's addresses */
		(void)snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s "
		    "-noout -email | sed 's/^/email:/' | paste -sd,", tmpdir,
		    file);
	} else {
		(void)snprintf(cmd, sizeof(cmd), "openssl x509 -in %s/%s "
		    "-noout -ext subjectAltName | tail -n +2", tmpdir, file);
	}
	cmd_line(line, sizeof(line), cmd);
	for (p = line; (p = strstr(p, "email:")) != NULL; p = e) {
		p += 6;
		e = p + strcspn(p, ", ");
		q = xstrndup(p, (size_t)(e - p));
		for (i = (size_t)(strrchr(q, '@') - q); q[i] != '\0'; i++)
			if (q[i] >= 'A' && q[i] <= 'Z')
				q[i] = (char)(q[i] - 'A' + 'a');
		if (has_addr(v, q)) {
			xfree(q);
			continue;
		}
		v->emails = xrealloc(v->emails,
		    (v->nemails + 1) * sizeof(*v->emails));
		v->emails[v->nemails++] = q;
	}
	(void)snprintf(cmd, sizeof(cmd), "date -u +%%s -d \"$(openssl x509 "
	    "-in %s/%s -noout -startdate | cut -d= -f2)\"", tmpdir, file);
	cmd_line(line, sizeof(line), cmd);
	v->not_before = strtoll(line, NULL, 10);
	(void)snprintf(cmd, sizeof(cmd), "date -u +%%s -d \"$(openssl x509 "
	    "-in %s/%s -noout -enddate | cut -d= -f2)\"", tmpdir, file);
	cmd_line(line, sizeof(line), cmd);
	v->not_after = strtoll(line, NULL, 10);
}

/* inspect_like_openssl - smime_cert_inspect agrees with openssl x509 */
static void
inspect_like_openssl(X509 *x, const char *file)
{
	struct smime_cert_info ci, v;
	char sha[65], *err = NULL;
	size_t i;

	write_pem(file, x, NULL);
	openssl_view(file, sha, &v);
	if (smime_cert_inspect(x, &ci, &err) != 0)
		fail_msg("inspect: %s", err);
	assert_string_equal(ci.sha256, sha);
	assert_int_equal(ci.not_before, v.not_before);
	assert_int_equal(ci.not_after, v.not_after);
	if (ci.nemails != v.nemails)
		fail_msg("%s: %zu addresses, openssl shows %zu", file,
		    ci.nemails, v.nemails);
	for (i = 0; i < v.nemails; i++)
		if (!has_addr(&ci, v.emails[i]))
			fail_msg("%s: %s missing", file, v.emails[i]);
	smime_cert_info_release(&ci);
	smime_cert_info_release(&v);
	assert_null(ci.emails);
	assert_int_equal(ci.nemails, 0);
}

/* add_raw_email_san - a SAN whose one rfc822Name is name[0..len) as is */
static void
add_raw_email_san(X509 *x, const char *name, int len)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	assert_non_null(gens);
	assert_non_null(g);
	assert_non_null(s);
	assert_true(ASN1_STRING_set(s, name, len));
	GENERAL_NAME_set0_value(g, GEN_EMAIL, s);
	assert_true(sk_GENERAL_NAME_push(gens, g));
	assert_true(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0));
	GENERAL_NAMES_free(gens);
}

static void
test_cert_inspect(void **state)
{
	time_t now = time(NULL);
	struct smime_cert_info ci;
	char *err = NULL;
	X509 *x;

	/* SAN: domain case folded, the same address once, DNS ignored */
	x = make_cert(rsa_key, "subject@example.org",
	    "email:Alice@Example.ORG,DNS:mail.example.org,"
	    "email:bob@example.org,email:Alice@example.org",
	    NULL, NULL, now - DAY, now + 30 * DAY);
	inspect_like_openssl(x, "inspect1.pem");
	assert_int_equal(smime_cert_inspect(x, &ci, &err), 0);
	assert_int_equal(ci.nemails, 2);
	assert_string_equal(ci.emails[0], "Alice@example.org");
	assert_string_equal(ci.emails[1], "bob@example.org");
	assert_false(has_addr(&ci, "subject@example.org"));	/* SAN wins */
	assert_int_equal(ci.not_before, (long long)(now - DAY));
	assert_int_equal(ci.not_after, (long long)(now + 30 * DAY));
	assert_int_equal(strlen(ci.sha256), 64);
	smime_cert_info_release(&ci);
	smime_cert_info_release(&ci);		/* twice is harmless */
	smime_cert_info_release(NULL);
	X509_free(x);

	/* no SAN: the subject's emailAddress; GeneralizedTime (2100) */
	x = make_cert(ec_key, "Carol@EXAMPLE.net", NULL, NULL, NULL,
	    (time_t)946684800, (time_t)4102444800LL);
	inspect_like_openssl(x, "inspect2.pem");
	assert_int_equal(smime_cert_inspect(x, &ci, &err), 0);
	assert_int_equal(ci.nemails, 1);
	assert_string_equal(ci.emails[0], "Carol@example.net");
	assert_int_equal(ci.not_before, 946684800LL);
	assert_int_equal(ci.not_after, 4102444800LL);
	smime_cert_info_release(&ci);
	X509_free(x);

	/* a SAN without e-mail names hides the subject's address */
	x = make_cert(ec_key, "carol@example.net", "DNS:example.net", NULL,
	    NULL, now - DAY, now + DAY);
	assert_int_equal(smime_cert_inspect(x, &ci, &err), 0);
	assert_int_equal(ci.nemails, 0);
	assert_null(ci.emails);
	smime_cert_info_release(&ci);
	X509_free(x);

	assert_int_equal(smime_cert_inspect(NULL, &ci, &err), -1);
	assert_non_null(err);
	assert_int_equal(ci.nemails, 0);
	xfree(err);
}

/* hostile names in certificates that came with someone's mail */
static void
test_cert_inspect_hostile(void **state)
{
	static const struct {
		const char *name;
		int len;
	} bad[] = {
		{ "evil@example.org\0@good.example", 30 },	/* NUL */
		{ "no-at-sign.example.org", 22 },
		{ "@example.org", 12 },
		{ "alice@", 6 },
		{ "al ice@example.org", 18 },
		{ "alice@exa\nmple.org", 18 },
		{ "j\xc3\xb6rg@example.org", 17 },
		{ "", 0 },
	};
	struct smime_cert_info ci;
	ASN1_OCTET_STRING *junk;
	X509_EXTENSION *ext;
	char *err = NULL, longname[300];
	size_t i;
	X509 *x;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		x = make_cert(ec_key, "subject@example.org", NULL, NULL, NULL,
		    NOW - DAY, NOW + DAY);
		add_raw_email_san(x, bad[i].name, bad[i].len);
		assert_int_equal(smime_cert_inspect(x, &ci, &err), 0);
		if (ci.nemails != 0)
			fail_msg("case %zu: got %s", i, ci.emails[0]);
		smime_cert_info_release(&ci);
		X509_free(x);
	}
	/* longer than an address can be */
	memset(longname, 'a', sizeof(longname));
	memcpy(longname + 250, "@example.org", 12);
	x = make_cert(ec_key, NULL, NULL, NULL, NULL, NOW - DAY, NOW + DAY);
	add_raw_email_san(x, longname, 262);
	assert_int_equal(smime_cert_inspect(x, &ci, &err), 0);
	assert_int_equal(ci.nemails, 0);
	X509_free(x);

	/* an undecodable SAN extension: no addresses, subject ignored */
	x = make_cert(ec_key, "subject@example.org", NULL, NULL, NULL,
	    NOW - DAY, NOW + DAY);
	junk = ASN1_OCTET_STRING_new();
	assert_non_null(junk);
	assert_true(ASN1_OCTET_STRING_set(junk, (const unsigned char *)
	    "\x04\x03junk", 6));
	ext = X509_EXTENSION_create_by_NID(NULL, NID_subject_alt_name, 0,
	    junk);
	assert_non_null(ext);
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(junk);
	assert_int_equal(smime_cert_inspect(x, &ci, &err), 0);
	assert_int_equal(ci.nemails, 0);
	assert_int_equal(strlen(ci.sha256), 64);
	smime_cert_info_release(&ci);
	X509_free(x);
}

/* from_mem_fails - NULL with a message */
static void
from_mem_fails(const char *label, const char *data, size_t len)
{
	char *err = NULL;
	X509 *x = smime_cert_from_mem(data, len, &err);

	if (x != NULL) {
		X509_free(x);
		fail_msg("%s: parsed", label);
	}
	if (err == NULL)
		fail_msg("%s: no error message", label);
	xfree(err);
}

static void
test_cert_from_mem(void **state)
{
	X509 *a = make_cert(rsa_key, NULL, "email:alice@example.org", NULL,
	    NULL, NOW - DAY, NOW + DAY);
	X509 *b = make_cert(ec_key, NULL, "email:bob@example.org", NULL,
	    NULL, NOW - DAY, NOW + DAY);
	struct buf pa, pb, da, both, tiny;
	char *err = NULL;
	X509 *x;

	pem_of(a, &pa);
	pem_of(b, &pb);
	der_of(a, &da);
	/* DER as i2d makes it; smime_der appends */
	assert_int_equal(i2d_X509(a, NULL), (int)da.len);
	assert_int_equal(smime_der(a, &da), 0);
	assert_int_equal(da.len, 2 * (size_t)i2d_X509(a, NULL));
	da.len /= 2;
	buf_init(&tiny, 10);
	assert_int_equal(buf_append_str(&tiny, "keep"), 0);
	assert_int_equal(smime_der(a, &tiny), -1);
	assert_string_equal(buf_cstr(&tiny), "keep");
	assert_int_equal(smime_der(NULL, &tiny), -1);
	buf_free(&tiny);

	/* PEM; PEM after text and with a second certificate: the first */
	x = smime_cert_from_mem(pa.data, pa.len, &err);
	assert_non_null(x);
	assert_int_equal(X509_cmp(x, a), 0);
	X509_free(x);
	buf_init(&both, 1 << 20);
	assert_int_equal(buf_append_str(&both, "Subject: my cert\n\n"), 0);
	assert_int_equal(buf_append(&both, pb.data, pb.len), 0);
	assert_int_equal(buf_append(&both, pa.data, pa.len), 0);
	x = smime_cert_from_mem(both.data, both.len, &err);
	assert_non_null(x);
	assert_int_equal(X509_cmp(x, b), 0);
	X509_free(x);
	/* DER, and DER with bytes after it */
	x = smime_cert_from_mem(da.data, da.len, &err);
	assert_non_null(x);
	assert_int_equal(X509_cmp(x, a), 0);
	X509_free(x);
	assert_int_equal(buf_append_str(&da, "trailing"), 0);
	x = smime_cert_from_mem(da.data, da.len, &err);
	assert_non_null(x);
	assert_int_equal(X509_cmp(x, a), 0);
	X509_free(x);
	da.len -= 8;
	assert_null(err);

	/* DER that happens to hold the PEM marker is still DER */
	{
		X509 *c = make_cert(ec_key, NULL,
		    "email:-----BEGIN x@example.org", NULL, NULL, NOW - DAY,
		    NOW + DAY);
		struct buf dc;

		der_of(c, &dc);
		assert_non_null(memmem(dc.data, dc.len, "-----BEGIN ", 11));
		x = smime_cert_from_mem(dc.data, dc.len, &err);
		assert_non_null(x);
		assert_int_equal(X509_cmp(x, c), 0);
		X509_free(x);
		X509_free(c);
		buf_free(&dc);
	}

	from_mem_fails("NULL", NULL, 10);
	from_mem_fails("empty", "", 0);
	from_mem_fails("text", "hello world", 11);
	from_mem_fails("one byte", "\x30", 1);
	from_mem_fails("huge DER length", "\x30\x84\xff\xff\xff\xff\x00", 7);
	from_mem_fails("DER cut short", da.data, da.len - 1);
	from_mem_fails("DER half", da.data, da.len / 2);
	from_mem_fails("PEM cut short", pa.data, pa.len / 2);
	from_mem_fails("PEM without END", pa.data, pa.len - 28);
	from_mem_fails("PEM header only",
	    "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", 54);
	from_mem_fails("PEM with junk base64",
	    "-----BEGIN CERTIFICATE-----\nMIIBaGVsbG8=\n"
	    "-----END CERTIFICATE-----\n", 67);
	from_mem_fails("PEM private key",
	    "-----BEGIN PRIVATE KEY-----\nMIIBaGVsbG8=\n"
	    "-----END PRIVATE KEY-----\n", 67);
	from_mem_fails("over the cap", pa.data, (size_t)SMIME_CERT_MAX + 1);

	buf_free(&pa);
	buf_free(&pb);
	buf_free(&da);
	buf_free(&both);
	X509_free(a);
	X509_free(b);
}

/* ---- signing, then encrypting -------------------------------------- */

/*
 * make_issued - certificate for key, named cn, signed by issuer (self
 * when NULL); ca: a CA certificate (basicConstraints, keyCertSign)
 */
static X509 *
make_issued(EVP_PKEY *key, const char *cn, const char *san, int ca,
    X509 *issuer, EVP_PKEY *issuer_key)
{
	static long serial = 1000;
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	time_t now = time(NULL);
	const char *ku = ca ? "critical,keyCertSign,cRLSign" :
	    "critical,digitalSignature,nonRepudiation";

	assert_non_null(x);
	assert_non_null(n);
	assert_true(X509_set_version(x, 2));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++));
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), now - DAY));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), now + DAY));
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0));
	assert_true(X509_set_subject_name(x, n));
	assert_true(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n));
	X509_NAME_free(n);
	assert_true(X509_set_pubkey(x, key));
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "CA:FALSE");
	assert_non_null(ext);
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, ku);
	assert_non_null(ext);
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
	if (!ca) {
		add_ext(x, NID_ext_key_usage, "emailProtection");
		if (san != NULL)
			add_ext(x, NID_subject_alt_name, san);
	}
	assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key,
	    EVP_sha256()) > 0);
	return x;
}

/* the test PKI: root -> intermediate -> org signer; org.pem holds the
 * signer and then the intermediate, org.key the key; rsaorg.pem a
 * second, RSA signer straight under the root */
static X509 *ca_root, *ca_inter, *org_cert, *rsaorg_cert;

static void
make_pki(void)
{
	char p[256];
	FILE *f;

	if (ca_root != NULL)
		return;
	ca_root = make_issued(ca_key, "sealgate test root", NULL, 1, NULL,
	    NULL);
	ca_inter = make_issued(inter_key, "sealgate test intermediate", NULL,
	    1, ca_root, ca_key);
	org_cert = make_issued(org_key, "Example Org mail gateway",
	    "email:postmaster@example.net", 0, ca_inter, inter_key);
	rsaorg_cert = make_issued(rsa_key, "Example Org RSA signer",
	    "email:postmaster@example.net", 0, ca_root, ca_key);
	write_pem("root.pem", ca_root, NULL);
	write_pem("org.key", NULL, org_key);
	write_pem("rsaorg.pem", rsaorg_cert, rsa_key);
	path_of(p, sizeof(p), "org.pem");
	assert_non_null(f = fopen(p, "w"));
	assert_true(PEM_write_X509(f, org_cert));
	assert_true(PEM_write_X509(f, ca_inter));
	assert_int_equal(fclose(f), 0);
}

static void
free_pki(void)
{
	X509_free(ca_root);
	X509_free(ca_inter);
	X509_free(org_cert);
	X509_free(rsaorg_cert);
	ca_root = ca_inter = org_cert = rsaorg_cert = NULL;
}

/* sign_encrypt_to - smime_sign_encrypt sample to alice into file */
static void
sign_encrypt_to(X509 *rcpt, enum smime_cipher c, X509 *signer,
    EVP_PKEY *key, STACK_OF(X509) *chain, const char *file)
{
	struct buf o;
	char *err = NULL;

	buf_init(&o, 1 << 20);
	if (smime_sign_encrypt(sample, sizeof(sample) - 1, &rcpt, 1, c,
	    signer, key, chain, &o, &err) != 0)
		fail_msg("smime_sign_encrypt: %s", err);
	assert_null(err);
	check_outer(&o, c);
	assert_int_equal(smime_already_encrypted(o.data, o.len), 1);
	write_file(file, o.data, o.len);
	buf_free(&o);
}

static const char py_signed[] =
    "import email, email.policy, sys\n"
    "m = email.message_from_binary_file(open(sys.argv[1], 'rb'),"
    " policy=email.policy.default)\n"
    "assert not m.defects, m.defects\n"
    "assert m.get_content_type() == 'multipart/signed'\n"
    "assert m.get_param('protocol') == 'application/pkcs7-signature'\n"
    "assert m.get_param('micalg') == 'sha-256'\n"
    "p = m.get_payload()\n"
    "assert len(p) == 2, len(p)\n"
    "assert p[0].get_content_type() == 'text/plain'\n"
    "assert p[0]['Content-Transfer-Encoding'] == '8bit'\n"
    "assert p[1].get_content_type() == 'application/pkcs7-signature'\n"
    "assert p[1].get_filename() == 'smime.p7s'\n"
    "sig = p[1].get_payload(decode=True)\n"
    "assert sig[0] == 0x30 and len(sig) > 300\n";

/*
 * carve_and_verify - cut the multipart/signed entity by hand (RFC 2046
 * 5.1.1: the CRLF before a delimiter belongs to it): the first part must
 * be inner byte for byte, and the second part's SignedData must verify
 * over exactly those bytes (-binary: no canonicalisation by OpenSSL)
 */
static void
carve_and_verify(const struct buf *dec, const struct buf *inner)
{
	char bnd[100], delim[110];
	const char *b, *e, *p1, *p1e, *sig, *sige;
	size_t n;

	b = strstr(dec->data, "boundary=\"");
	assert_non_null(b);
	b += 10;
	e = strchr(b, '"');
	assert_non_null(e);
	n = (size_t)(e - b);
	assert_true(n > 0 && n < sizeof(bnd));
	memcpy(bnd, b, n);
	bnd[n] = '\0';
	(void)snprintf(delim, sizeof(delim), "\r\n--%s", bnd);
	p1 = strstr(dec->data, delim);
	assert_non_null(p1);
	p1 += strlen(delim) + 2;		/* the delimiter line's CRLF */
	p1e = strstr(p1, delim);
	assert_non_null(p1e);
	assert_int_equal((size_t)(p1e - p1), inner->len);
	assert_memory_equal(p1, inner->data, inner->len);
	write_file("part1.bin", p1, inner->len);
	sig = strstr(p1e + 2, "\r\n\r\n");
	assert_non_null(sig);
	sig += 4;
	(void)snprintf(delim, sizeof(delim), "\r\n--%s--\r\n", bnd);
	sige = strstr(sig, delim);
	assert_non_null(sige);
	assert_ptr_equal(sige + strlen(delim), dec->data + dec->len);
	write_file("sig.b64", sig, (size_t)(sige - sig));
	assert_int_equal(runf("openssl base64 -d -in %s/sig.b64 "
	    "-out %s/sig.der && openssl cms -verify -inform DER -in "
	    "%s/sig.der -content %s/part1.bin -binary -CAfile %s/root.pem "
	    "-no-CApath -purpose smimesign -out /dev/null 2>/dev/null",
	    tmpdir, tmpdir, tmpdir, tmpdir, tmpdir), 0);
}

/*
 * verify_signed - decrypt file as alice with openssl cms; the result is
 * a multipart/signed entity that openssl cms -verify accepts with only
 * the root as trust anchor, over exactly smime_inner_entity(sample),
 * signed by want_signer with SHA-256
 */
static void
verify_signed(const char *file, X509 *want_signer)
{
	struct buf dec, content, inner;
	char p[256], *err = NULL;
	X509 *got;

	assert_int_equal(runf("openssl cms -decrypt -in %s/%s -recip "
	    "%s/alice.pem -inkey %s/alice.pem -out %s/sdec.eml", tmpdir, file,
	    tmpdir, tmpdir, tmpdir), 0);
	read_file("sdec.eml", &dec);
	assert_non_null(strstr(dec.data, "Content-Type: multipart/signed;"));
	write_file("py_signed.py", py_signed, sizeof(py_signed) - 1);
	assert_int_equal(runf("python3 %s/py_signed.py %s/sdec.eml", tmpdir,
	    tmpdir), 0);
	/* S/MIME input without -binary: OpenSSL 3.0's binary multipart
	 * reader keeps the CR of the delimiter's CRLF in the content; the
	 * text reader is exact for CRLF-canonical parts like ours */
	assert_int_equal(runf("openssl cms -verify -in %s/sdec.eml "
	    "-CAfile %s/root.pem -no-CApath -purpose smimesign "
	    "-signer %s/signer.pem -out %s/content.bin", tmpdir,
	    tmpdir, tmpdir, tmpdir), 0);
	read_file("content.bin", &content);
	buf_init(&inner, 1 << 20);
	assert_int_equal(smime_inner_entity(sample, sizeof(sample) - 1,
	    &inner), 0);
	assert_int_equal(content.len, inner.len);
	assert_memory_equal(content.data, inner.data, inner.len);
	assert_int_equal(inner.len, sizeof(sample_inner) - 1);
	carve_and_verify(&dec, &inner);
	/* the signer's certificate travels in the signature */
	path_of(p, sizeof(p), "signer.pem");
	got = smime_load_cert_pem(p, &err);
	assert_non_null(got);
	assert_int_equal(X509_cmp(got, want_signer), 0);
	X509_free(got);
	assert_int_equal(runf("openssl cms -cmsout -print -in %s/sdec.eml "
	    "| grep -A1 'digestAlgorithm:' | grep -q 'algorithm: sha256'",
	    tmpdir), 0);
	/* a changed byte in the signed part breaks the signature */
	{
		char *q = strstr(dec.data, ".leading dot line");
		assert_non_null(q);
		*q = ',';
		char cmd[1024];

		write_file("sdec_bad.eml", dec.data, dec.len);
		(void)snprintf(cmd, sizeof(cmd), "openssl cms -verify -in "
		    "%s/sdec_bad.eml -CAfile %s/root.pem -no-CApath "
		    "-out /dev/null 2>/dev/null", tmpdir, tmpdir);
		assert_int_not_equal(system(cmd), 0);
	}
	buf_free(&dec);
	buf_free(&content);
	buf_free(&inner);
}

static void
test_sign_encrypt(void **state)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL, *rkey = NULL;
	X509 *alice, *signer = NULL, *rsigner = NULL;
	char p[256], k[256], *err = NULL;

	make_pki();
	path_of(p, sizeof(p), "alice.pem");	/* test_encrypt_openssl's */
	alice = smime_load_cert_pem(p, &err);
	assert_non_null(alice);

	/* EC signer with its intermediate in the certificate file */
	path_of(p, sizeof(p), "org.pem");
	path_of(k, sizeof(k), "org.key");
	if (smime_load_signer(p, k, &signer, &key, &chain, &err) != 0)
		fail_msg("load signer: %s", err);
	assert_int_equal(X509_cmp(signer, org_cert), 0);
	assert_int_equal(sk_X509_num(chain), 1);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), ca_inter), 0);
	sign_encrypt_to(alice, SMIME_AES256_GCM, signer, key, chain,
	    "signed_gcm.eml");
	verify_signed("signed_gcm.eml", org_cert);
	sign_encrypt_to(alice, SMIME_AES256_CBC, signer, key, chain,
	    "signed_cbc.eml");
	verify_signed("signed_cbc.eml", org_cert);

	/* RSA signer, certificate and key in one file, no chain wanted */
	path_of(p, sizeof(p), "rsaorg.pem");
	if (smime_load_signer(p, p, &rsigner, &rkey, NULL, &err) != 0)
		fail_msg("load signer: %s", err);
	sign_encrypt_to(alice, SMIME_AES256_CBC, rsigner, rkey, NULL,
	    "signed_rsa_cbc.eml");
	verify_signed("signed_rsa_cbc.eml", rsaorg_cert);

	/* no signer: smime_encrypt, whatever key and chain say */
	sign_encrypt_to(alice, SMIME_AES256_GCM, NULL, key, chain,
	    "unsigned.eml");
	openssl_decrypt("unsigned.eml", "alice");

	X509_free(alice);
	X509_free(signer);
	X509_free(rsigner);
	EVP_PKEY_free(key);
	EVP_PKEY_free(rkey);
	sk_X509_pop_free(chain, X509_free);
}

/* gpgsm (test_encrypt_gpgsm's home, alice imported) decrypts the signed
 * CBC message to what openssl decrypted */
static void
test_sign_encrypt_gpgsm(void **state)
{
	struct buf g, o;
	char p[256];

	path_of(p, sizeof(p), "gnupg/pubring.kbx");
	if (system("gpgsm --version >/dev/null 2>&1") != 0 ||
	    access(p, F_OK) != 0) {
		print_message("SKIP gpgsm check: gpgsm or its home missing\n");
		return;
	}
	assert_int_equal(runf("set -e; cd %s; export GNUPGHOME=$PWD/gnupg;"
	    " trap 'gpgconf --kill gpg-agent' EXIT;"
	    " tr -d '\\r' < signed_cbc.eml | sed -n '/^$/,$p' | base64 -d"
	    " > signed_cbc.p7m;"
	    " echo test | timeout 30 gpgsm --batch --pinentry-mode loopback"
	    " --passphrase-fd 0 --decrypt signed_cbc.p7m > gsdec.eml"
	    " 2>>gpgsm.log", tmpdir), 0);
	assert_int_equal(runf("openssl cms -decrypt -in %s/signed_cbc.eml "
	    "-recip %s/alice.pem -inkey %s/alice.pem -out %s/sdec.eml",
	    tmpdir, tmpdir, tmpdir, tmpdir), 0);
	read_file("gsdec.eml", &g);
	read_file("sdec.eml", &o);
	assert_int_equal(g.len, o.len);
	assert_memory_equal(g.data, o.data, o.len);
	buf_free(&g);
	buf_free(&o);
}

static void
test_sign_encrypt_errors(void **state)
{
	STACK_OF(X509) *chain = NULL;
	X509 *alice = make_cert(rsa_key, NULL, "email:alice@example.org",
	    NULL, NULL, NOW - DAY, NOW + DAY);
	X509 *none[1] = { NULL };
	struct buf o;
	char *err = NULL;

	make_pki();
	buf_init(&o, 1 << 20);
	assert_int_equal(buf_append_str(&o, "keep"), 0);
#define SE_FAILS(certs, n, c, signer, key, part) do {			\
	assert_int_equal(smime_sign_encrypt(sample, sizeof(sample) - 1,	\
	    certs, n, c, signer, key, chain, &o, &err), -1);		\
	assert_non_null(err);						\
	if (strstr(err, part) == NULL)					\
		fail_msg("error \"%s\" lacks \"%s\"", err, part);	\
	xfree(err);							\
	err = NULL;							\
	assert_string_equal(buf_cstr(&o), "keep");			\
} while (0)
	SE_FAILS(&alice, 1, SMIME_AES256_GCM, org_cert, rsa_key,
	    "does not match");
	SE_FAILS(&alice, 1, SMIME_AES256_GCM, org_cert, NULL, "key");
	SE_FAILS(none, 1, SMIME_AES256_GCM, org_cert, org_key, "");
	SE_FAILS(&alice, 0, SMIME_AES256_GCM, org_cert, org_key, "bad");
	SE_FAILS(&alice, 1, (enum smime_cipher)7, org_cert, org_key, "bad");
	buf_free(&o);

	/* output limit: room for the unsigned message, not the signed */
	buf_init(&o, 2000);
	assert_int_equal(buf_append_str(&o, "keep"), 0);
	SE_FAILS(&alice, 1, SMIME_AES256_CBC, org_cert, org_key, "limit");
	assert_int_equal(smime_sign_encrypt(sample, sizeof(sample) - 1,
	    &alice, 1, SMIME_AES256_CBC, NULL, NULL, NULL, &o, &err), 0);
	buf_free(&o);
#undef SE_FAILS
	X509_free(alice);
}

/* load_signer_fails - -1, a message, every output NULL */
static void
load_signer_fails(const char *cert_name, const char *key_name,
    const char *part)
{
	char cp[256], kp[256], *err = NULL;
	STACK_OF(X509) *chain = (STACK_OF(X509) *)1;
	EVP_PKEY *key = (EVP_PKEY *)1;
	X509 *cert = (X509 *)1;

	path_of(cp, sizeof(cp), cert_name);
	path_of(kp, sizeof(kp), key_name);
	assert_int_equal(smime_load_signer(cp, kp, &cert, &key, &chain, &err),
	    -1);
	assert_null(cert);
	assert_null(key);
	assert_null(chain);
	assert_non_null(err);
	if (strstr(err, part) == NULL)
		fail_msg("%s/%s: error \"%s\" lacks \"%s\"", cert_name,
		    key_name, err, part);
	xfree(err);
}

static void
test_load_signer_errors(void **state)
{
	char p[256];
	FILE *f;
	int i;

	make_pki();
	/* a passphrase-protected key fails, it never prompts */
	path_of(p, sizeof(p), "org_enc.key");
	assert_non_null(f = fopen(p, "w"));
	assert_true(PEM_write_PrivateKey(f, org_key, EVP_aes_256_cbc(),
	    (unsigned char *)"secret", 6, NULL, NULL));
	assert_int_equal(fclose(f), 0);
	/* after the leaf, something that is not a certificate */
	path_of(p, sizeof(p), "badchain.pem");
	assert_non_null(f = fopen(p, "w"));
	assert_true(PEM_write_X509(f, org_cert));
	assert_true(fputs("-----BEGIN CERTIFICATE-----\nMIIBaGVsbG8=\n"
	    "-----END CERTIFICATE-----\n", f) >= 0);
	assert_int_equal(fclose(f), 0);
	/* more chain than we accept */
	path_of(p, sizeof(p), "longchain.pem");
	assert_non_null(f = fopen(p, "w"));
	assert_true(PEM_write_X509(f, org_cert));
	for (i = 0; i <= SMIME_CHAIN_MAX; i++)
		assert_true(PEM_write_X509(f, ca_inter));
	assert_int_equal(fclose(f), 0);
	write_file("empty.pem", "", 0);

	load_signer_fails("nonexistent.pem", "org.key", "cannot open");
	load_signer_fails("org.pem", "nonexistent.key", "cannot open");
	load_signer_fails("empty.pem", "org.key", "no PEM certificate");
	load_signer_fails("org.key", "org.key", "no PEM certificate");
	load_signer_fails("org.pem", "empty.pem", "private key");
	load_signer_fails("org.pem", "root.pem", "private key");
	load_signer_fails("org.pem", "org_enc.key", "private key");
	load_signer_fails("org.pem", "alice.pem", "does not match");
	load_signer_fails("badchain.pem", "org.key", "chain");
	load_signer_fails("longchain.pem", "org.key", "too many");
	free_pki();
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
		cmocka_unit_test(test_cert_inspect),
		cmocka_unit_test(test_cert_inspect_hostile),
		cmocka_unit_test(test_cert_from_mem),
		cmocka_unit_test(test_sign_encrypt),
		cmocka_unit_test(test_sign_encrypt_gpgsm),
		cmocka_unit_test(test_sign_encrypt_errors),
		cmocka_unit_test(test_load_signer_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
