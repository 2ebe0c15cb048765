/*
 * test_config.c - config.c: good and bad files, exact "FILE:LINE: reason"
 * messages, defaults, paths, TLS files, and sealgate.conf.example kept
 * true to the key table. Run from the repository root (make unit).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "lib/buf.h"
#include "lib/sg_limits.h"
#include "lib/xalloc.h"

#define EXAMPLE_FILE	"sealgate.conf.example"

static char tmpdir[] = "/tmp/sg-test-config-XXXXXX";

/* subst - text with every "@DIR@" replaced by the temp directory */
static char *
subst(const char *text)
{
	struct buf b;
	const char *p;

	buf_init(&b, 1u << 24);
	while ((p = strstr(text, "@DIR@")) != NULL) {
		assert_int_equal(buf_append(&b, text, (size_t)(p - text)), 0);
		assert_int_equal(buf_append_str(&b, tmpdir), 0);
		text = p + 5;
	}
	assert_int_equal(buf_append_str(&b, text), 0);
	return buf_steal(&b, NULL);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static char *
tmp_path(const char *name)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(buf_printf(&b, "%s/%s", tmpdir, name), 0);
	return buf_steal(&b, NULL);
}

/* make_cert - a self-signed certificate for k, written as PEM */
static void
make_cert(EVP_PKEY *k, const char *file)
{
	X509 *x = X509_new();
	X509_NAME *n;
	char *path = tmp_path(file);
	FILE *f;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	n = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"mail.example.com", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	X509_free(x);
	xfree(path);
}

static void
write_key(EVP_PKEY *k, const char *file, int encrypted)
{
	char *path = tmp_path(file);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (encrypted)
		assert_int_equal(PEM_write_PrivateKey(f, k, EVP_aes_256_cbc(),
		    (unsigned char *)"secret", 6, NULL, NULL), 1);
	else
		assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0,
		    NULL, NULL), 1);
	fclose(f);
	xfree(path);
}

/* group_setup - temp dir with cert.pem/key.pem (a pair), other.pem (a
 * different key), enc.pem (encrypted key), junk.pem, subdir/ */
static int
group_setup(void **state)
{
	EVP_PKEY *k1, *k2;
	char *p;

	if (mkdtemp(tmpdir) == NULL)
		return -1;
	k1 = EVP_EC_gen("P-256");
	k2 = EVP_EC_gen("P-256");
	if (k1 == NULL || k2 == NULL)
		return -1;
	make_cert(k1, "cert.pem");
	write_key(k1, "key.pem", 0);
	write_key(k2, "other.pem", 0);
	write_key(k1, "enc.pem", 1);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	p = tmp_path("junk.pem");
	write_file(p, "not a certificate\n", 18);
	xfree(p);
	p = tmp_path("subdir");
	if (mkdir(p, 0700) < 0)
		return -1;
	xfree(p);
	return 0;
}

static int
group_teardown(void **state)
{
	static const char *const files[] = { "cert.pem", "key.pem",
	    "other.pem", "enc.pem", "junk.pem", "big.conf", "rel.conf",
	    "subdir/nested.conf" };
	size_t i;
	char *p;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		p = tmp_path(files[i]);
		(void)unlink(p);
		xfree(p);
	}
	p = tmp_path("subdir");
	(void)rmdir(p);
	xfree(p);
	(void)rmdir(tmpdir);
	return 0;
}

static struct sg_config *
load_n(const char *text, size_t len, char **err)
{
	*err = NULL;
	return config_load_string("test.conf", text, len, err);
}

/* load_ok - text must load; fails the test with the error otherwise */
static struct sg_config *
load_ok(const char *text)
{
	struct sg_config *cfg;
	char *t = subst(text), *err;

	cfg = load_n(t, strlen(t), &err);
	if (cfg == NULL)
		fail_msg("config:\n%s\ngot error \"%s\", want success", t,
		    err);
	assert_null(err);
	xfree(t);
	return cfg;
}

/*
 * Bad configurations: each must fail with exactly this message prefix.
 */
struct bad_case {
	const char *name;
	const char *text;
	const char *want;	/* prefix of the error; @DIR@ expanded */
	const char *sub;	/* and, if set, this somewhere in it */
};

static const struct bad_case bad_cases[] = {
	/* keys and syntax */
	{ "unknown key", "# c\nfoo = 1\n",
	  "test.conf:2: unknown key 'foo'", NULL },
	{ "unknown key, case matters", "SMTP_AUTH = yes\n",
	  "test.conf:1: unknown key 'SMTP_AUTH'", NULL },
	{ "duplicate key", "smtp_auth = yes\n\nsmtp_auth = no\n",
	  "test.conf:3: duplicate key 'smtp_auth' (first set on line 1)",
	  NULL },
	{ "no equals sign", "smtp_auth yes\n",
	  "test.conf:1: syntax error: expected 'key = value'", NULL },
	{ "no key", "  = yes\n",
	  "test.conf:1: syntax error: no key before '='", NULL },
	{ "junk key char", "smtp-auth = yes\n",
	  "test.conf:1: syntax error: expected 'key = value'", NULL },
	{ "unterminated quote", "hostname = \"mx.example.com\n",
	  "test.conf:1: hostname: unterminated quoted value", NULL },
	{ "text after quote", "hostname = \"mx.example.com\" x\n",
	  "test.conf:1: hostname: text after the closing quote", NULL },
	{ "bad escape", "hostname = \"mx\\n\"\n",
	  "test.conf:1: hostname: bad escape in quoted value", NULL },
	{ "backslash at end of quote", "hostname = \"mx\\",
	  "test.conf:1: hostname: bad escape in quoted value", NULL },
	{ "quote in unquoted value", "hostname = mx\"x\"\n",
	  "test.conf:1: hostname: quote inside an unquoted value", NULL },
	{ "control character", "hostname = mx\x01\n",
	  "test.conf:1: control character 0x01 in line", NULL },
	{ "bare CR inside a line", "hostname = a\rb\n",
	  "test.conf:1: control character 0x0d in line", NULL },
	{ "empty value", "hostname =\n",
	  "test.conf:1: hostname: empty value", NULL },
	{ "empty quoted value", "smtp_auth = \"\"\n",
	  "test.conf:1: smtp_auth: empty value", NULL },
	{ "comment only value", "smtp_auth = # yes\n",
	  "test.conf:1: smtp_auth: empty value", NULL },
	{ "CRLF line count", "# a\r\n\r\nsmtp_auth = yes\r\nbogus = 1\r\n",
	  "test.conf:4: unknown key 'bogus'", NULL },

	/* numbers */
	{ "bad number", "smtp_max_sessions = abc\n",
	  "test.conf:1: smtp_max_sessions: 'abc' is not a number in "
	  "1..100000", NULL },
	{ "number zero", "smtp_max_sessions = 0\n",
	  "test.conf:1: smtp_max_sessions: '0' is not a number in "
	  "1..100000", NULL },
	{ "number one over", "smtp_max_sessions = 100001\n",
	  "test.conf:1: smtp_max_sessions: '100001' is not a number in "
	  "1..100000", NULL },
	{ "negative number", "smtp_hard_error_limit = -1\n",
	  "test.conf:1: smtp_hard_error_limit: '-1' is not a number in "
	  "1..1000", NULL },
	{ "plus sign", "smtp_recipient_limit = +5\n",
	  "test.conf:1: smtp_recipient_limit: '+5' is not a number in "
	  "1..100000", NULL },
	{ "number with junk", "embedded_db_port = 5432x\n",
	  "test.conf:1: embedded_db_port: '5432x' is not a number in "
	  "1..65535", NULL },
	{ "number with inner space", "ingress_db_workers = 1 0\n",
	  "test.conf:1: ingress_db_workers: '1 0' is not a number in "
	  "1..256", NULL },
	{ "number overflow", "ingress_db_workers = 99999999999999999999999\n",
	  "test.conf:1: ingress_db_workers: '99999999999999999999999' is not "
	  "a number in 1..256", NULL },
	{ "duration too long", "smtp_idle_timeout = 2h\n",
	  "test.conf:1: smtp_idle_timeout: '2h' is not a duration in "
	  "1s..3600s", NULL },
	{ "duration zero", "smtp_data_timeout = 0s\n",
	  "test.conf:1: smtp_data_timeout: '0s' is not a duration in "
	  "1s..3600s", NULL },
	{ "duration bad suffix", "restart_backoff_max = 5x\n",
	  "test.conf:1: restart_backoff_max: '5x' is not a duration", NULL },
	{ "size too big", "message_size_limit = 2G\n",
	  "test.conf:1: message_size_limit: '2G' is not a size in "
	  "1024..1073741824 bytes", NULL },
	{ "size too small", "message_size_limit = 1023\n",
	  "test.conf:1: message_size_limit: '1023' is not a size", NULL },
	{ "size bad suffix", "message_size_limit = 10MB\n",
	  "test.conf:1: message_size_limit: '10MB' is not a size", NULL },

	/* booleans, enums, levels */
	{ "bad bool", "smtp_auth = maybe\n",
	  "test.conf:1: smtp_auth: 'maybe' is not yes or no", NULL },
	{ "bad enum", "smtp_bare_lf = fix\n",
	  "test.conf:1: smtp_bare_lf: 'fix' is not one of reject, normalize",
	  NULL },
	{ "bad enum 2", "smtp_8bit_headers = yes\n",
	  "test.conf:1: smtp_8bit_headers: 'yes' is not one of accept, "
	  "reject", NULL },
	{ "bad log level", "log_level = verbose\n",
	  "test.conf:1: log_level: 'verbose' is not one of debug, info, "
	  "warn, err", NULL },

	/* strings */
	{ "bad hostname", "hostname = mail_1.example.com\n",
	  "test.conf:1: hostname: 'mail_1.example.com' is not a valid host "
	  "name", NULL },
	{ "hostname trailing dot", "hostname = mail.example.com.\n",
	  "test.conf:1: hostname: 'mail.example.com.' is not a valid host "
	  "name", NULL },
	{ "hostname label dash", "hostname = -mail.example.com\n",
	  "test.conf:1: hostname: '-mail.example.com' is not a valid host "
	  "name", NULL },
	{ "hostname label too long", "hostname = "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  ".example\n", "test.conf:1: hostname: 'aaaa", NULL },
	{ "user root", "user = root\n",
	  "test.conf:1: user: 'root' would leave every role privileged", NULL },
	{ "bad user", "user = \"a b\"\n",
	  "test.conf:1: user: 'a b' is not a valid user name", NULL },
	{ "bad conninfo", "database = host\n",
	  "test.conf:1: database: not a valid libpq connection string: ",
	  NULL },
	{ "bad conninfo option", "database = \"hots=db\"\n",
	  "test.conf:1: database: not a valid libpq connection string: ",
	  NULL },

	/* listen */
	{ "listen host name", "smtp_listen = localhost:25\n",
	  "test.conf:1: smtp_listen: 'localhost:25': host must be a numeric "
	  "IPv4 address, [IPv6 address] or *", NULL },
	{ "listen no port", "smtp_listen = 127.0.0.1\n",
	  "test.conf:1: smtp_listen: '127.0.0.1': port required", NULL },
	{ "listen v6 no port", "smtp_listen = [::1]\n",
	  "test.conf:1: smtp_listen: '[::1]': port required", NULL },
	{ "listen v6 no brackets", "smtp_listen = ::1:25\n",
	  "test.conf:1: smtp_listen: '::1:25': write IPv6 addresses in "
	  "brackets", NULL },
	{ "listen port zero", "smtp_listen = 127.0.0.1:0\n",
	  "test.conf:1: smtp_listen: '127.0.0.1:0': port must be a number in "
	  "1..65535", NULL },
	{ "listen port too big", "smtp_listen = *:65536\n",
	  "test.conf:1: smtp_listen: '*:65536': port must be a number in "
	  "1..65535", NULL },
	{ "listen port name", "smtp_listen = *:smtp\n",
	  "test.conf:1: smtp_listen: '*:smtp': port must be a number", NULL },
	{ "listen second item bad", "smtp_listen = *:25, 300.1.1.1:25\n",
	  "test.conf:1: smtp_listen: '300.1.1.1:25': host must be", NULL },
	{ "listen twice", "smtp_listen = 127.0.0.1:25 127.0.0.1:25\n",
	  "test.conf:1: smtp_listen: '127.0.0.1:25' is listed twice", NULL },
	{ "listen twice, v6 spellings", "smtp_listen = [::1]:25,[0::1]:25\n",
	  "test.conf:1: smtp_listen: '[0::1]:25' is listed twice", NULL },
	{ "listen only commas", "smtp_listen = , ,\n",
	  "test.conf:1: smtp_listen: no address given", NULL },
	{ "listen empty", "smtp_listen = \"\"\n",
	  "test.conf:1: smtp_listen: empty value", NULL },

	/* cidr */
	/* delivery keys */
	{ "unknown role", "roles = ingress bogus\n",
	  "test.conf:1: roles: 'bogus' is not a role (ingress, delivery, "
	  "prober, web)", NULL },
	{ "probe interval too short", "probe_interval = 5s\n",
	  "test.conf:1: probe_interval: ", NULL },
	{ "probe concurrency 0", "probe_concurrency = 0\n",
	  "test.conf:1: probe_concurrency: ", NULL },
	{ "tls_rpt_from not an address", "tls_rpt_from = nobody\n",
	  "test.conf:1: tls_rpt_from: 'nobody' is not an address", NULL },
	{ "tls_rpt_org_name control char", "tls_rpt_org_name = \"a\\tb\"\n",
	  "test.conf:1: tls_rpt_org_name: ", NULL },
	{ "bad tls level", "delivery_tls_level = maybe\n",
	  "test.conf:1: delivery_tls_level: ", NULL },
	{ "forced domain with space junk", "forced_tls_domains = bank..example\n",
	  "test.conf:1: forced_tls_domains: 'bank..example' is not a domain", NULL },
	{ "route without =", "routes = example.com\n",
	  "test.conf:1: routes: 'example.com' is not domain=host:port", NULL },
	{ "route without port", "routes = example.com=[127.0.0.1]\n",
	  "test.conf:1: routes: '[127.0.0.1]' is not host:port", NULL },
	{ "route bad literal", "routes = a.test=[1.2.3]:25\n",
	  "test.conf:1: routes: '[1.2.3]:25' is not host:port", NULL },
	{ "smart host port 0", "smart_host = relay.example:0\n",
	  "test.conf:1: smart_host: 'relay.example:0' is not host:port", NULL },
	{ "forwarder not an IP", "dns_forwarders = ns.example\n",
	  "test.conf:1: dns_forwarders: 'ns.example' is not a DNS server", NULL },
	{ "forwarder bad port", "dns_forwarders = 127.0.0.1@99999\n",
	  "test.conf:1: dns_forwarders: '127.0.0.1@99999' is not a DNS", NULL },
	{ "delivery floor below TLSv1", "delivery_tls_min_version = SSLv3\n",
	  "test.conf:1: delivery_tls_min_version: ", NULL },
	{ "cidr prefix too long", "relay_networks = 10.0.0.0/33\n",
	  "test.conf:1: relay_networks: '10.0.0.0/33' is not an IPv4 or IPv6 "
	  "network", NULL },
	{ "cidr leading zero", "relay_networks = 10.0.0.0/08\n",
	  "test.conf:1: relay_networks: '10.0.0.0/08' is not an IPv4", NULL },
	{ "cidr junk", "relay_networks = 127.0.0.0/8, lan\n",
	  "test.conf:1: relay_networks: 'lan' is not an IPv4", NULL },
	{ "cidr v6 prefix", "relay_networks = ::1/129\n",
	  "test.conf:1: relay_networks: '::1/129' is not an IPv4", NULL },

	/* TLS */
	{ "TLS floor SSLv3", "smtp_tls_min_version = SSLv3\n",
	  "test.conf:1: smtp_tls_min_version: 'SSLv3' is below TLSv1; "
	  "sealgate never goes below TLS 1.0", NULL },
	{ "TLS version unknown", "smtp_tls_min_version = TLSv1.4\n",
	  "test.conf:1: smtp_tls_min_version: 'TLSv1.4' is not one of TLSv1, "
	  "TLSv1.1, TLSv1.2, TLSv1.3", NULL },
	{ "cipher list eNULL", "smtp_tls_ciphers = ECDHE+AESGCM:eNULL\n",
	  "test.conf:1: smtp_tls_ciphers: enables ",
	  "without encryption (eNULL)" },
	{ "cipher list aNULL", "smtp_tls_ciphers = HIGH\n",
	  "test.conf:1: smtp_tls_ciphers: enables A",
	  "without authentication (aNULL)" },
	{ "cipher list aNULL added", "smtp_tls_ciphers = "
	  "ECDHE+AESGCM:ADH-AES256-GCM-SHA384\n",
	  "test.conf:1: smtp_tls_ciphers: enables ADH-AES256-GCM-SHA384 "
	  "without authentication (aNULL)", NULL },
	{ "cipher list NULL only", "smtp_tls_ciphers = NULL-SHA256\n",
	  "test.conf:1: smtp_tls_ciphers: enables NULL-SHA256 without "
	  "encryption (eNULL)", NULL },
	{ "cipher list nothing", "smtp_tls_ciphers = FOO\n",
	  "test.conf:1: smtp_tls_ciphers: 'FOO' selects no TLS 1.2 cipher",
	  NULL },
	{ "cipher list export", "smtp_tls_ciphers = EXPORT\n",
	  "test.conf:1: smtp_tls_ciphers: 'EXPORT' selects no TLS 1.2 "
	  "cipher", NULL },
	{ "ciphersuite unknown",
	  "smtp_tls_ciphersuites = TLS_AES_128_GCM_SHA256:TLS_FOO\n",
	  "test.conf:1: smtp_tls_ciphersuites: 'TLS_FOO' is not a TLS 1.3 "
	  "ciphersuite", NULL },
	{ "ciphersuite empty item",
	  "smtp_tls_ciphersuites = TLS_AES_128_GCM_SHA256:\n",
	  "test.conf:1: smtp_tls_ciphersuites: 'TLS_AES_128_GCM_SHA256:' is "
	  "not a list of TLS 1.3 ciphersuites", NULL },
	{ "cert without key", "smtp_tls_cert_file = @DIR@/cert.pem\n",
	  "test.conf:1: smtp_tls_cert_file: smtp_tls_key_file must be set "
	  "too", NULL },
	{ "key without cert", "\nsmtp_tls_key_file = @DIR@/key.pem\n",
	  "test.conf:2: smtp_tls_key_file: smtp_tls_cert_file must be set "
	  "too", NULL },
	{ "cert file missing", "smtp_tls_cert_file = @DIR@/missing.pem\n",
	  "test.conf:1: smtp_tls_cert_file: cannot open '@DIR@/missing.pem': "
	  "No such file or directory", NULL },
	{ "cert file is a directory", "smtp_tls_cert_file = @DIR@/subdir\n",
	  "test.conf:1: smtp_tls_cert_file: '@DIR@/subdir' is not a regular "
	  "file", NULL },
	{ "cert file is a device", "smtp_tls_cert_file = /dev/zero\n",
	  "test.conf:1: smtp_tls_cert_file: '/dev/zero' is not a regular "
	  "file", NULL },
	{ "cert file not PEM", "smtp_tls_cert_file = @DIR@/junk.pem\n",
	  "test.conf:1: smtp_tls_cert_file: '@DIR@/junk.pem' holds no PEM "
	  "certificate", NULL },
	{ "key given as cert", "smtp_tls_cert_file = @DIR@/key.pem\n",
	  "test.conf:1: smtp_tls_cert_file: '@DIR@/key.pem' holds no PEM "
	  "certificate", NULL },
	{ "cert given as key", "smtp_tls_key_file = @DIR@/cert.pem\n",
	  "test.conf:1: smtp_tls_key_file: '@DIR@/cert.pem' holds no "
	  "unencrypted PEM private key", NULL },
	{ "encrypted key", "smtp_tls_key_file = @DIR@/enc.pem\n",
	  "test.conf:1: smtp_tls_key_file: '@DIR@/enc.pem' holds no "
	  "unencrypted PEM private key", NULL },
	{ "cert/key mismatch", "smtp_tls_cert_file = @DIR@/cert.pem\n"
	  "smtp_tls_key_file = @DIR@/other.pem\n",
	  "test.conf:2: smtp_tls_key_file: does not match certificate", NULL },
	{ "key before cert, mismatch", "smtp_tls_key_file = @DIR@/other.pem\n"
	  "# x\nsmtp_tls_cert_file = @DIR@/cert.pem\n",
	  "test.conf:1: smtp_tls_key_file: does not match certificate", NULL },
	{ "require TLS without cert",
	  "smtp_auth = no\nsmtp_require_tls = yes\n",
	  "test.conf:2: smtp_require_tls: needs smtp_tls_cert_file", NULL },

	/* paths */
	{ "state_dir too long for the socket", "state_dir = /"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
	  "test.conf:1: state_dir: '/aaaa", NULL },
};

static void
test_bad_configs(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		char *text = subst(c->text), *want = subst(c->want), *err;
		struct sg_config *cfg;

		cfg = load_n(text, strlen(text), &err);
		if (cfg != NULL)
			fail_msg("%s: got success, want \"%s\"", c->name, want);
		if (err == NULL || strncmp(err, want, strlen(want)) != 0)
			fail_msg("%s: got \"%s\", want \"%s...\"", c->name,
			    err ? err : "(null)", want);
		if (c->sub != NULL && strstr(err, c->sub) == NULL)
			fail_msg("%s: got \"%s\", want \"...%s...\"", c->name,
			    err, c->sub);
		xfree(err);
		xfree(text);
		xfree(want);
	}
}

static void
test_state_dir_ok_with_database(void **state)
{
	struct sg_config *cfg;

	/* a long state_dir is fine when the embedded database is not used */
	cfg = load_ok("database = host=db.example.com\nstate_dir = /"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	    "\n");
	config_free(&cfg);
	assert_null(cfg);
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "# ok\nhostname = mx\0.example.com\n";
	struct sg_config *cfg;
	char *err;

	cfg = load_n(text, sizeof(text) - 1, &err);
	assert_null(cfg);
	assert_string_equal(err, "test.conf:2: NUL byte in line");
	xfree(err);
}

/* test_line_max - exactly SG_CONFIG_LINE_MAX bytes pass, one more fails */
static void
test_line_max(void **state)
{
	struct sg_config *cfg;
	struct buf b;
	char *err, want[128];
	size_t i;

	for (i = 0; i < 2; i++) {
		buf_init(&b, 2 * SG_CONFIG_LINE_MAX);
		assert_int_equal(buf_append_str(&b, "smtp_auth = yes\n#"), 0);
		while (b.len < strlen("smtp_auth = yes\n") +
		    SG_CONFIG_LINE_MAX + i)
			assert_int_equal(buf_append_char(&b, 'x'), 0);
		/* the CR of CRLF does not count */
		assert_int_equal(buf_append_str(&b, "\r\nlog_level = warn\n"),
		    0);
		cfg = load_n(buf_cstr(&b), b.len, &err);
		if (i == 0) {
			assert_non_null(cfg);
			assert_int_equal(cfg->log_level, LOG_LVL_WARN);
			config_free(&cfg);
		} else {
			assert_null(cfg);
			snprintf(want, sizeof(want), "test.conf:2: line longer "
			    "than %d bytes", SG_CONFIG_LINE_MAX);
			assert_string_equal(err, want);
			xfree(err);
		}
		buf_free(&b);
	}
}

/* test_file_max - SG_CONFIG_FILE_MAX bytes pass, one more fails */
static void
test_file_max(void **state)
{
	struct sg_config *cfg;
	char *text, *err, *path, want[4200];
	size_t n = SG_CONFIG_FILE_MAX + 1;

	text = xmalloc(n);
	memset(text, '\n', n);
	cfg = load_n(text, n - 1, &err);
	assert_non_null(cfg);
	config_free(&cfg);
	cfg = load_n(text, n, &err);
	assert_null(cfg);
	snprintf(want, sizeof(want), "test.conf: larger than %d bytes",
	    SG_CONFIG_FILE_MAX);
	assert_string_equal(err, want);
	xfree(err);

	path = tmp_path("big.conf");
	write_file(path, text, n);
	cfg = config_load(path, &err);
	assert_null(cfg);
	snprintf(want, sizeof(want), "%s: larger than %d bytes", path,
	    SG_CONFIG_FILE_MAX);
	assert_string_equal(err, want);
	xfree(err);
	write_file(path, text, n - 1);
	cfg = config_load(path, &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->path, path);
	config_free(&cfg);
	xfree(path);
	xfree(text);
}

static void
test_unreadable_file(void **state)
{
	struct sg_config *cfg;
	char *err, *path, want[4200];

	path = tmp_path("nonexistent.conf");
	cfg = config_load(path, &err);
	assert_null(cfg);
	snprintf(want, sizeof(want), "%s: cannot read: %s", path,
	    strerror(ENOENT));
	assert_string_equal(err, want);
	xfree(err);
	xfree(path);

	path = tmp_path("subdir");
	cfg = config_load(path, &err);
	assert_null(cfg);
	snprintf(want, sizeof(want), "%s: cannot read: %s", path,
	    strerror(EISDIR));
	assert_string_equal(err, want);
	xfree(err);
	xfree(path);
}

/* check_defaults - every field at the value config.h documents */
static void
check_defaults(const struct sg_config *cfg)
{
	char cwd[4096], want[4200], host[256];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/var", cwd);
	assert_string_equal(cfg->state_dir, want);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	assert_non_null(cfg->hostname);
	if (strcmp(cfg->hostname, "localhost") != 0)
		assert_string_equal(cfg->hostname, host);
	assert_string_equal(cfg->run_user, "sealgate");
	assert_null(cfg->database);
	assert_int_equal(cfg->embedded_db_port, 5439);
	assert_int_equal(cfg->log_level, LOG_LVL_INFO);
	assert_int_equal(cfg->nlisten, 1);
	assert_string_equal(cfg->listen[0].host, "127.0.0.1");
	assert_string_equal(cfg->listen[0].port, "2525");
	assert_null(cfg->tls_cert_file);
	assert_null(cfg->tls_key_file);
	assert_int_equal(cfg->tls_min_version, TLS1_2_VERSION);
	assert_string_equal(cfg->tls_ciphers, "HIGH:!aNULL:!eNULL:!MD5:!RC4:"
	    "!3DES:!CAMELLIA:!ARIA:!SEED:!PSK:!SRP:!DSS");
	assert_string_equal(cfg->tls_ciphersuites, "TLS_AES_256_GCM_SHA384:"
	    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256");
	assert_int_equal(cfg->message_size_limit, SG_SMTP_MSG_MAX_DEFAULT);
	assert_int_equal(cfg->message_size_limit, 25 * 1024 * 1024);
	assert_int_equal(cfg->recipient_limit, SG_SMTP_RCPT_MAX_DEFAULT);
	assert_int_equal(cfg->idle_timeout, SG_SMTP_IDLE_TIMEOUT_DEFAULT);
	assert_int_equal(cfg->data_timeout, SG_SMTP_DATA_TIMEOUT_DEFAULT);
	assert_int_equal(cfg->max_sessions, 1000);
	assert_int_equal(cfg->max_sessions_per_client, 50);
	assert_int_equal(cfg->hard_error_limit, SG_SMTP_ERRORS_MAX);
	assert_int_equal(cfg->nrelay_networks, 2);
	assert_int_equal(cfg->relay_networks[0].family, AF_INET);
	assert_int_equal(cfg->relay_networks[0].prefix, 8);
	assert_int_equal(cfg->relay_networks[0].addr[0], 127);
	assert_int_equal(cfg->relay_networks[1].family, AF_INET6);
	assert_int_equal(cfg->relay_networks[1].prefix, 128);
	assert_int_equal(cfg->relay_networks[1].addr[15], 1);
	assert_int_equal(cfg->auth_enabled, 1);
	assert_int_equal(cfg->require_tls, 0);
	assert_int_equal(cfg->bare_lf, BARE_LF_REJECT);
	assert_int_equal(cfg->eightbit_headers, EIGHTBIT_HDR_ACCEPT);
	assert_int_equal(cfg->db_workers, 4);
	assert_int_equal(cfg->restart_backoff_max, 30);
	assert_int_equal(cfg->nroles, 3);
	assert_string_equal(cfg->roles[0], "ingress");
	assert_string_equal(cfg->roles[1], "delivery");
	assert_string_equal(cfg->roles[2], "prober");
	assert_int_equal(cfg->probe_interval, 86400);
	assert_int_equal(cfg->probe_retry, 3600);
	assert_int_equal(cfg->probe_seen_days, 30);
	assert_int_equal(cfg->probe_timeout, 30);
	assert_int_equal(cfg->probe_concurrency, 4);
	assert_int_equal(cfg->tls_rpt_enabled, 1);
	assert_null(cfg->tls_rpt_org_name);
	assert_null(cfg->tls_rpt_contact);
	assert_null(cfg->tls_rpt_from);
	assert_int_equal(cfg->tls_rpt_timeout, 60);
}

static void
test_defaults(void **state)
{
	struct sg_config *cfg;
	char *ci, want[4300];

	cfg = config_defaults();
	assert_non_null(cfg);
	assert_null(cfg->path);
	check_defaults(cfg);
	ci = config_conninfo(cfg);
	snprintf(want, sizeof(want), "host=%s/pg/sock port=5439 "
	    "dbname=sealgate user=sealgate", cfg->state_dir);
	assert_string_equal(ci, want);
	xfree(ci);
	config_free(&cfg);
	assert_null(cfg);
	config_free(&cfg);	/* safe twice */

	cfg = load_ok("");
	assert_string_equal(cfg->path, "test.conf");
	check_defaults(cfg);
	config_free(&cfg);

	/* comments, blank lines, white space only */
	cfg = load_ok("# only comments\n\n   \n\t# indented\n\n");
	check_defaults(cfg);
	config_free(&cfg);
}

static void
test_every_value(void **state)
{
	struct sg_config *cfg;

	cfg = load_ok(
	    "hostname=mx1.example.com\n"
	    "state_dir = /srv/sealgate//state/./\n"
	    "user\t=\t_sealgate\n"
	    "log_level = DEBUG\n"
	    "database = postgresql://sg@db.example.com/sealgate\n"
	    "embedded_db_port = 65535\n"
	    "smtp_listen = *:25, [::]:25 [2001:db8::1]:587,192.0.2.1:2525\n"
	    "smtp_bare_lf = normalize\n"
	    "smtp_8bit_headers = reject\n"
	    "ingress_db_workers = 256\n"
	    "smtp_tls_min_version = TLSv1.3\n"
	    "smtp_tls_ciphers = ECDHE+AESGCM:!aNULL\n"
	    "smtp_tls_ciphersuites = TLS_AES_128_GCM_SHA256\n"
	    "relay_networks = 10.1.2.3/8, 2001:db8::/32 ::ffff:192.0.2.0/120\n"
	    "smtp_auth = off\n"
	    "message_size_limit = 10M\n"
	    "smtp_recipient_limit = 1\n"
	    "smtp_idle_timeout = 5m\n"
	    "smtp_data_timeout = 1h\n"
	    "smtp_max_sessions = 100000\n"
	    "smtp_max_sessions_per_client = 1\n"
	    "smtp_hard_error_limit = 1000\n"
	    "restart_backoff_max = 1\n");
	assert_string_equal(cfg->hostname, "mx1.example.com");
	assert_string_equal(cfg->state_dir, "/srv/sealgate/state");
	assert_string_equal(cfg->run_user, "_sealgate");
	assert_int_equal(cfg->log_level, LOG_LVL_DEBUG);
	assert_string_equal(cfg->database,
	    "postgresql://sg@db.example.com/sealgate");
	assert_int_equal(cfg->embedded_db_port, 65535);
	assert_int_equal(cfg->nlisten, 4);
	assert_string_equal(cfg->listen[0].host, "0.0.0.0");
	assert_string_equal(cfg->listen[0].port, "25");
	assert_string_equal(cfg->listen[1].host, "::");
	assert_string_equal(cfg->listen[1].port, "25");
	assert_string_equal(cfg->listen[2].host, "2001:db8::1");
	assert_string_equal(cfg->listen[2].port, "587");
	assert_string_equal(cfg->listen[3].host, "192.0.2.1");
	assert_string_equal(cfg->listen[3].port, "2525");
	assert_int_equal(cfg->bare_lf, BARE_LF_NORMALIZE);
	assert_int_equal(cfg->eightbit_headers, EIGHTBIT_HDR_REJECT);
	assert_int_equal(cfg->db_workers, 256);
	assert_int_equal(cfg->tls_min_version, TLS1_3_VERSION);
	assert_string_equal(cfg->tls_ciphers, "ECDHE+AESGCM:!aNULL");
	assert_string_equal(cfg->tls_ciphersuites, "TLS_AES_128_GCM_SHA256");
	assert_int_equal(cfg->nrelay_networks, 3);
	assert_int_equal(cfg->relay_networks[0].family, AF_INET);
	assert_int_equal(cfg->relay_networks[0].prefix, 8);
	assert_memory_equal(cfg->relay_networks[0].addr, "\x0a\0\0\0", 4);
	assert_int_equal(cfg->relay_networks[1].family, AF_INET6);
	assert_int_equal(cfg->relay_networks[1].prefix, 32);
	assert_int_equal(cfg->relay_networks[2].family, AF_INET);
	assert_int_equal(cfg->relay_networks[2].prefix, 24);
	assert_memory_equal(cfg->relay_networks[2].addr, "\xc0\x00\x02\x00",
	    4);
	assert_int_equal(cfg->auth_enabled, 0);
	assert_int_equal(cfg->message_size_limit, 10 * 1024 * 1024);
	assert_int_equal(cfg->recipient_limit, 1);
	assert_int_equal(cfg->idle_timeout, 300);
	assert_int_equal(cfg->data_timeout, 3600);
	assert_int_equal(cfg->max_sessions, 100000);
	assert_int_equal(cfg->max_sessions_per_client, 1);
	assert_int_equal(cfg->hard_error_limit, 1000);
	assert_int_equal(cfg->restart_backoff_max, 1);
	config_free(&cfg);
}

struct value_case {
	const char *text;
	size_t off;		/* int or unsigned field */
	int want;
};

#define CFGOFF(f)	offsetof(struct sg_config, f)

static const struct value_case value_cases[] = {
	{ "smtp_auth = yes", CFGOFF(auth_enabled), 1 },
	{ "smtp_auth = YES", CFGOFF(auth_enabled), 1 },
	{ "smtp_auth = true", CFGOFF(auth_enabled), 1 },
	{ "smtp_auth = on", CFGOFF(auth_enabled), 1 },
	{ "smtp_auth = 1", CFGOFF(auth_enabled), 1 },
	{ "smtp_auth = no", CFGOFF(auth_enabled), 0 },
	{ "smtp_auth = False", CFGOFF(auth_enabled), 0 },
	{ "smtp_auth = off", CFGOFF(auth_enabled), 0 },
	{ "smtp_auth = 0", CFGOFF(auth_enabled), 0 },
	{ "smtp_tls_min_version = TLSv1", CFGOFF(tls_min_version),
	  TLS1_VERSION },
	{ "smtp_tls_min_version = TLSv1.0", CFGOFF(tls_min_version),
	  TLS1_VERSION },
	{ "smtp_tls_min_version = TLSv1.1", CFGOFF(tls_min_version),
	  TLS1_1_VERSION },
	{ "smtp_tls_min_version = tlsv1.2", CFGOFF(tls_min_version),
	  TLS1_2_VERSION },
	{ "smtp_tls_min_version = TLSv1.3", CFGOFF(tls_min_version),
	  TLS1_3_VERSION },
	{ "smtp_idle_timeout = 1", CFGOFF(idle_timeout), 1 },
	{ "smtp_idle_timeout = 3600", CFGOFF(idle_timeout), 3600 },
	{ "smtp_idle_timeout = 60m", CFGOFF(idle_timeout), 3600 },
	{ "smtp_idle_timeout = 90s", CFGOFF(idle_timeout), 90 },
	{ "restart_backoff_max = 1h", CFGOFF(restart_backoff_max), 3600 },
	{ "embedded_db_port = 1", CFGOFF(embedded_db_port), 1 },
	{ "log_level = warn", CFGOFF(log_level), LOG_LVL_WARN },
	{ "log_level = error", CFGOFF(log_level), LOG_LVL_ERR },
	{ "log_level = err", CFGOFF(log_level), LOG_LVL_ERR },
	{ "smtp_bare_lf = REJECT", CFGOFF(bare_lf), BARE_LF_REJECT },
	/* comments after unquoted values, quotes, CRLF */
	{ "smtp_auth = no # not yet", CFGOFF(auth_enabled), 0 },
	{ "smtp_auth = no\t# tab before", CFGOFF(auth_enabled), 0 },
	{ "smtp_auth = \"no\"", CFGOFF(auth_enabled), 0 },
	{ "smtp_auth = \"no\" # quoted", CFGOFF(auth_enabled), 0 },
	{ "smtp_auth = \"no\"# quoted", CFGOFF(auth_enabled), 0 },
	{ "smtp_auth=no\r", CFGOFF(auth_enabled), 0 },
	{ "  smtp_auth  =  no  \r", CFGOFF(auth_enabled), 0 },
	{ "\xef\xbb\xbfsmtp_auth = no", CFGOFF(auth_enabled), 0 },
	{ "smtp_max_sessions = 100 # in all", CFGOFF(max_sessions), 100 },
};

static void
test_values(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
		const struct value_case *c = &value_cases[i];
		struct sg_config *cfg;
		int got;

		cfg = load_ok(c->text);
		memcpy(&got, (char *)cfg + c->off, sizeof(got));
		if (got != c->want)
			fail_msg("\"%s\": got %d, want %d", c->text, got,
			    c->want);
		config_free(&cfg);
	}
}

static void
test_strings(void **state)
{
	struct sg_config *cfg;

	/* '#' is a comment only after white space */
	cfg = load_ok("database = host=db password=a#b\n");
	assert_string_equal(cfg->database, "host=db password=a#b");
	config_free(&cfg);
	cfg = load_ok("database = host=db # password=x\n");
	assert_string_equal(cfg->database, "host=db");
	config_free(&cfg);
	/* quotes keep " #" and escapes */
	cfg = load_ok("database = \"host=db password='a #\\\"\\\\\\\\'\"\n");
	assert_string_equal(cfg->database, "host=db password='a #\"\\\\'");
	config_free(&cfg);
	/* empty optional value: unset */
	cfg = load_ok("database =\n");
	assert_null(cfg->database);
	config_free(&cfg);
	cfg = load_ok("database = \"\"\n");
	assert_null(cfg->database);
	config_free(&cfg);
	/* empty relay list: relay for authenticated clients only */
	cfg = load_ok("relay_networks =\n");
	assert_int_equal(cfg->nrelay_networks, 0);
	config_free(&cfg);
	cfg = load_ok("relay_networks = \" , \"\n");
	assert_int_equal(cfg->nrelay_networks, 0);
	config_free(&cfg);
	/* a key name is not a prefix match */
	cfg = load_ok("hostname = a\nsmtp_listen = 127.0.0.1:25\n");
	assert_string_equal(cfg->hostname, "a");
	config_free(&cfg);
}

static void
test_conninfo(void **state)
{
	struct sg_config *cfg;
	char *ci;

	cfg = load_ok("database = dbname=x host=/tmp\n");
	ci = config_conninfo(cfg);
	assert_string_equal(ci, "dbname=x host=/tmp");
	xfree(ci);
	config_free(&cfg);

	cfg = load_ok("state_dir = /srv/sg\nembedded_db_port = 6000\n");
	ci = config_conninfo(cfg);
	assert_string_equal(ci, "host=/srv/sg/pg/sock port=6000 "
	    "dbname=sealgate user=sealgate");
	xfree(ci);
	config_free(&cfg);

	/* characters that would split or end a conninfo value */
	cfg = load_ok("state_dir = \"/srv/my sg/it's\"\n");
	ci = config_conninfo(cfg);
	assert_string_equal(ci, "host='/srv/my sg/it\\'s/pg/sock' port=5439 "
	    "dbname=sealgate user=sealgate");
	xfree(ci);
	config_free(&cfg);
}

static void
test_tls_files(void **state)
{
	struct sg_config *cfg;
	char *cert = tmp_path("cert.pem"), *key = tmp_path("key.pem");

	cfg = load_ok("smtp_tls_cert_file = @DIR@/cert.pem\n"
	    "smtp_tls_key_file = \"@DIR@/key.pem\"\n"
	    "smtp_require_tls = yes\n");
	assert_string_equal(cfg->tls_cert_file, cert);
	assert_string_equal(cfg->tls_key_file, key);
	assert_int_equal(cfg->require_tls, 1);
	config_free(&cfg);
	/* AUTH without a certificate is allowed (it is just never offered) */
	cfg = load_ok("smtp_auth = yes\n");
	assert_null(cfg->tls_cert_file);
	config_free(&cfg);
	xfree(cert);
	xfree(key);
}

/* test_relative_paths - against the config file's directory */
static void
test_relative_paths(void **state)
{
	static const char text[] = "smtp_tls_cert_file = ../cert.pem\n"
	    "smtp_tls_key_file = ./.././key.pem\n"
	    "state_dir = state\n";
	struct sg_config *cfg;
	char *path, *err, want[4200];

	path = tmp_path("subdir/nested.conf");
	write_file(path, text, sizeof(text) - 1);
	cfg = config_load(path, &err);
	if (cfg == NULL)
		fail_msg("got \"%s\", want success", err);
	snprintf(want, sizeof(want), "%s/subdir/../cert.pem", tmpdir);
	assert_string_equal(cfg->tls_cert_file, want);
	snprintf(want, sizeof(want), "%s/subdir/../key.pem", tmpdir);
	assert_string_equal(cfg->tls_key_file, want);
	snprintf(want, sizeof(want), "%s/subdir/state", tmpdir);
	assert_string_equal(cfg->state_dir, want);
	config_free(&cfg);
	xfree(path);

	/* a relative config path: relative to the working directory */
	path = tmp_path("rel.conf");
	write_file(path, "state_dir = st\n", 15);
	assert_int_equal(chdir("/tmp"), 0);
	cfg = config_load(path + strlen("/tmp/"), &err);
	assert_int_equal(chdir(getenv("SG_TEST_CWD")), 0);
	assert_non_null(cfg);
	snprintf(want, sizeof(want), "%s/st", tmpdir);
	assert_string_equal(cfg->state_dir, want);
	config_free(&cfg);
	xfree(path);

	/* a name without a directory: the working directory */
	cfg = load_ok("state_dir = a/b\n");
	snprintf(want, sizeof(want), "%s/a/b", getenv("SG_TEST_CWD"));
	assert_string_equal(cfg->state_dir, want);
	config_free(&cfg);
}

/*
 * sealgate.conf.example: it loads, it names every key of the table, and
 * the value it shows for a key is the key's built-in default.
 */

static char *
read_example(size_t *len)
{
	FILE *f = fopen(EXAMPLE_FILE, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root): %s",
		    EXAMPLE_FILE, strerror(errno));
	buf_init(&b, SG_CONFIG_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(f);
	return buf_steal(&b, len);
}

/* example_line - the "# KEY = VALUE" line for key, value into *val */
static int
example_line(const char *text, const char *key, char *val, size_t valsz)
{
	const char *p = text, *q, *eol;
	size_t klen = strlen(key), n;

	for (; *p != '\0'; p = eol + (*eol != '\0')) {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		q = p;
		if (*q != '#')
			continue;
		q++;
		while (*q == ' ')
			q++;
		if (strncmp(q, key, klen) != 0)
			continue;
		q += klen;
		while (*q == ' ')
			q++;
		if (*q != '=')
			continue;
		q++;
		while (*q == ' ')
			q++;
		n = (size_t)(eol - q);
		while (n > 0 && q[n - 1] == ' ')
			n--;
		if (n >= valsz)
			n = valsz - 1;
		memcpy(val, q, n);
		val[n] = '\0';
		return 1;
	}
	return 0;
}

static void
test_example_loads(void **state)
{
	struct sg_config *cfg;
	char *err = NULL;

	cfg = config_load(EXAMPLE_FILE, &err);
	if (cfg == NULL)
		fail_msg("%s: got \"%s\", want success", EXAMPLE_FILE, err);
	check_defaults(cfg);
	config_free(&cfg);
}

static void
test_example_documents_every_key(void **state)
{
	const char *name, *def, *help;
	char *text, val[4096];
	size_t i, len;

	text = read_example(&len);
	for (i = 0; config_key_info(i, &name, &def, &help) == 0; i++) {
		assert_non_null(help);
		if (!example_line(text, name, val, sizeof(val)))
			fail_msg("%s: no \"# %s = ...\" line for key %s",
			    EXAMPLE_FILE, name, name);
		/* a value starting with '#' must be quoted in a file */
		if (val[0] == '"' && strlen(val) >= 2 &&
		    val[strlen(val) - 1] == '"') {
			memmove(val, val + 1, strlen(val) - 2);
			val[strlen(val) - 2] = '\0';
		}
		if (def != NULL && strcmp(val, def) != 0)
			fail_msg("%s: shows \"%s = %s\", the default is \"%s\"",
			    EXAMPLE_FILE, name, val, def);
	}
	assert_true(i >= 25);
	assert_int_equal(config_key_info(i, &name, NULL, NULL), -1);
	xfree(text);
}

/* test_example_uncommented - the documented defaults, as live lines,
 * load and equal the built-in defaults */
static void
test_example_uncommented(void **state)
{
	const char *name, *def;
	char *text, val[4096], *err;
	struct sg_config *cfg;
	struct buf b;
	size_t i, len;

	text = read_example(&len);
	buf_init(&b, SG_CONFIG_FILE_MAX);
	for (i = 0; config_key_info(i, &name, &def, NULL) == 0; i++) {
		if (def == NULL)
			continue;
		assert_true(example_line(text, name, val, sizeof(val)));
		assert_int_equal(buf_printf(&b, "%s = %s\n", name, val), 0);
	}
	cfg = config_load_string("uncommented.conf", buf_cstr(&b), b.len,
	    &err);
	if (cfg == NULL)
		fail_msg("got \"%s\", want success", err);
	check_defaults(cfg);
	config_free(&cfg);
	buf_free(&b);
	xfree(text);
}

int
main(void)
{
	static char cwd[4096];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_state_dir_ok_with_database),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_line_max),
		cmocka_unit_test(test_file_max),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_value),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_conninfo),
		cmocka_unit_test(test_tls_files),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_example_loads),
		cmocka_unit_test(test_example_documents_every_key),
		cmocka_unit_test(test_example_uncommented),
	};

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return 1;
	setenv("SG_TEST_CWD", cwd, 1);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
