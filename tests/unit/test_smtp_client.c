/*
 * test_smtp_client.c - unit tests for the pure parts of the delivery
 * client: smtp_dot_stuff() (whole, streamed in every split, byte at a
 * time, and with a full output buffer), EHLO extension parsing through
 * smtp_reply_has_ext()/smtp_reply_ext(), TLS level/verified/status names,
 * the client TLS context policy (floor, weak ciphers, CA store) and
 * per-connection setup (SNI, verification, DANE), the certificate facts
 * (tls_cert_facts_get() on certificates made here), and connect failure.
 * The network paths are covered by tests/integration/t_smtp_client.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <time.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "smtp_client.h"
#include "smtp_reply.h"
#include "tls_client.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define IN(s)	s, sizeof(s) - 1

struct stuff_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
	size_t want_len;
};

#define CASE(name, in, want)	{ name, IN(in), want, sizeof(want) - 1 }

static const struct stuff_case stuff_cases[] = {
	CASE("empty message", "", ".\r\n"),
	CASE("one line", "hello\r\n", "hello\r\n.\r\n"),
	CASE("missing final CRLF", "hello", "hello\r\n.\r\n"),
	CASE("leading dot", ".hidden\r\n", "..hidden\r\n.\r\n"),
	CASE("a lone dot line", "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"),
	CASE("dot line at the end", "a\r\n.\r\n", "a\r\n..\r\n.\r\n"),
	CASE("only a dot", ".", "..\r\n.\r\n"),
	CASE("only a dot line", ".\r\n", "..\r\n.\r\n"),
	CASE("two dots", "..\r\n", "...\r\n.\r\n"),
	CASE("dot inside a line", "a.b\r\n.c.\r\n", "a.b\r\n..c.\r\n.\r\n"),
	CASE("empty lines", "\r\n\r\n", "\r\n\r\n.\r\n"),
	CASE("header and body",
	    "Subject: x\r\n\r\n.body\r\nend\r\n",
	    "Subject: x\r\n\r\n..body\r\nend\r\n.\r\n"),
	CASE("bare LF becomes CRLF", "a\nb\n", "a\r\nb\r\n.\r\n"),
	CASE("bare LF dot line (smuggling)", "a\n.\nb\r\n",
	    "a\r\n..\r\nb\r\n.\r\n"),
	CASE("CRLF dot LF (smuggling)", "a\r\n.\nMAIL FROM:<x>\r\n",
	    "a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n"),
	CASE("bare CR kept", "a\rb\r\n", "a\rb\r\n.\r\n"),
	CASE("bare CR then dot is not a line start", "a\r.b\r\n",
	    "a\r.b\r\n.\r\n"),
	CASE("CR CR LF", "a\r\r\n", "a\r\r\n.\r\n"),
	CASE("final CR taken as CRLF", "a\r", "a\r\n.\r\n"),
	CASE("final dot CR", "a\r\n.\r", "a\r\n..\r\n.\r\n"),
	CASE("8-bit and NUL pass", "caf\xc3\xa9\0x\r\n",
	    "caf\xc3\xa9\0x\r\n.\r\n"),
};

static void
stuff_stream(const char *in, size_t len, size_t split, size_t chunk,
    struct buf *out)
{
	struct smtp_dot_stuffer st;
	size_t off, n;

	smtp_dot_stuff_init(&st);
	if (chunk == 0) {
		assert_int_equal(smtp_dot_stuff_update(&st, in, split, out), 0);
		assert_int_equal(smtp_dot_stuff_update(&st, in + split,
		    len - split, out), 0);
	} else {
		for (off = 0; off < len; off += n) {
			n = len - off < chunk ? len - off : chunk;
			assert_int_equal(smtp_dot_stuff_update(&st, in + off, n,
			    out), 0);
		}
	}
	assert_int_equal(smtp_dot_stuff_final(&st, out), 0);
}

static void
check_out(const char *name, const char *how, const struct buf *out,
    const struct stuff_case *c)
{
	if (out->len != c->want_len ||
	    memcmp(buf_cstr(out), c->want, c->want_len) != 0)
		fail_msg("%s (%s): got %zu bytes [%s], want %zu bytes [%s]",
		    name, how, out->len, buf_cstr(out), c->want_len, c->want);
}

static void
test_stuff_case(void **state)
{
	const struct stuff_case *c = *state;
	struct buf out;
	size_t k;

	buf_init(&out, 1 << 16);
	assert_int_equal(smtp_dot_stuff(c->in, c->len, &out), 0);
	check_out(c->name, "whole", &out, c);
	/* appends: what was in out stays */
	buf_reset(&out);
	assert_int_equal(buf_append_str(&out, "KEEP"), 0);
	assert_int_equal(smtp_dot_stuff(c->in, c->len, &out), 0);
	assert_memory_equal(out.data, "KEEP", 4);
	assert_int_equal(out.len, c->want_len + 4);
	assert_memory_equal(out.data + 4, c->want, c->want_len);
	buf_reset(&out);
	stuff_stream(c->in, c->len, 0, 1, &out);
	check_out(c->name, "byte at a time", &out, c);
	for (k = 0; k <= c->len; k++) {
		buf_reset(&out);
		stuff_stream(c->in, c->len, k, 0, &out);
		check_out(c->name, "split", &out, c);
	}
	buf_free(&out);
}

/* -1 leaves out and the state as they were; after a flush the same
 * input goes through */
static void
test_stuff_full(void **state)
{
	static const char in[] = "a\r\n.b\r\n.\r\nlast";
	static const char want[] = "a\r\n..b\r\n..\r\nlast\r\n.\r\n";
	struct smtp_dot_stuffer st, saved;
	struct buf out, all;
	size_t max, off;

	/* every max below the need fails cleanly, the exact need passes */
	for (max = 0; max <= sizeof(want) - 1; max++) {
		buf_init(&out, max);
		if (max < sizeof(want) - 1) {
			assert_int_equal(smtp_dot_stuff(in, sizeof(in) - 1,
			    &out), -1);
			assert_int_equal(out.len, 0);
		} else {
			assert_int_equal(smtp_dot_stuff(in, sizeof(in) - 1,
			    &out), 0);
			assert_int_equal(out.len, sizeof(want) - 1);
			assert_memory_equal(out.data, want, out.len);
		}
		buf_free(&out);
	}

	/* streaming through a 4-byte window, flushing on -1 */
	buf_init(&out, 4);
	buf_init(&all, 1024);
	smtp_dot_stuff_init(&st);
	for (off = 0; off < sizeof(in) - 1; off++) {
		saved = st;
		if (smtp_dot_stuff_update(&st, in + off, 1, &out) < 0) {
			assert_memory_equal(&st, &saved, sizeof(st));
			assert_int_equal(buf_append(&all, out.data, out.len), 0);
			buf_reset(&out);
			assert_int_equal(smtp_dot_stuff_update(&st, in + off, 1,
			    &out), 0);
		}
	}
	/* the end (CRLF + ".\r\n" = 5) does not fit 4 bytes: state kept */
	assert_int_equal(buf_append(&all, out.data, out.len), 0);
	buf_reset(&out);
	saved = st;
	assert_int_equal(smtp_dot_stuff_final(&st, &out), -1);
	assert_memory_equal(&st, &saved, sizeof(st));
	assert_int_equal(out.len, 0);
	buf_free(&out);
	buf_init(&out, 5);
	assert_int_equal(smtp_dot_stuff_final(&st, &out), 0);
	assert_int_equal(buf_append(&all, out.data, out.len), 0);
	assert_int_equal(all.len, sizeof(want) - 1);
	assert_memory_equal(all.data, want, all.len);
	buf_free(&out);
	buf_free(&all);
}

/* EHLO replies as the client parses them */
static void
test_ehlo_ext(void **state)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	const struct smtp_reply *r;
	enum smtp_reply_err e;
	const char *param;
	struct slice s;
	size_t used;

	assert_int_equal(smtp_reply_next(p,
	    IN("250-mx.example.com Hello client [192.0.2.1]\r\n"
	    "250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n"
	    "250-PIPE_CONNECT\r\n250-CHUNKING\r\n250-STARTTLS\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n"), &used, &r, &e),
	    1);
	assert_true(smtp_reply_has_ext(r, "PIPELINING", &param));
	assert_string_equal(param, "");
	assert_true(smtp_reply_has_ext(r, "STARTTLS", NULL));
	assert_true(smtp_reply_has_ext(r, "8bitmime", NULL));
	assert_false(smtp_reply_has_ext(r, "REQUIRETLS", NULL));
	assert_false(smtp_reply_has_ext(r, "PIPE", NULL));
	assert_true(smtp_reply_ext(r, "SIZE", &s));
	assert_int_equal(s.len, 8);
	assert_memory_equal(s.ptr, "52428800", 8);
	assert_true(smtp_reply_ext(r, "SMTPUTF8", &s));
	assert_int_equal(s.len, 0);

	/* SIZE without a number, and a hostile server name line */
	assert_int_equal(smtp_reply_next(p,
	    IN("250-STARTTLS\r\n250-SIZE\r\n250 REQUIRETLS\r\n"), &used, &r,
	    &e), 1);
	assert_false(smtp_reply_has_ext(r, "STARTTLS", NULL));
	assert_true(smtp_reply_ext(r, "SIZE", &s));
	assert_int_equal(s.len, 0);
	assert_true(smtp_reply_has_ext(r, "REQUIRETLS", NULL));
	smtp_reply_parser_free(&p);
}

static void
test_names(void **state)
{
	static const struct {
		const char *s;
		int ok;
		enum tls_level l;
	} lv[] = {
		{ "none", 0, TLS_LEVEL_NONE },
		{ "may", 0, TLS_LEVEL_MAY },
		{ "encrypt", 0, TLS_LEVEL_ENCRYPT },
		{ "verify", 0, TLS_LEVEL_VERIFY },
		{ "VERIFY", 0, TLS_LEVEL_VERIFY },
		{ "May", 0, TLS_LEVEL_MAY },
		{ "dane", 0, TLS_LEVEL_DANE },
		{ "DANE", 0, TLS_LEVEL_DANE },
		{ "", -1, 0 },
		{ "verify2", -1, 0 },
		{ "ver", -1, 0 },
		{ "dane-only", -1, 0 },
		{ "mta-sts", -1, 0 },
		{ " may", -1, 0 },
	};
	enum tls_level l;
	size_t i;

	for (i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		l = (enum tls_level)99;
		if (tls_level_parse(lv[i].s, &l) != lv[i].ok)
			fail_msg("tls_level_parse(\"%s\"): got %d, want %d",
			    lv[i].s, -lv[i].ok - 1, lv[i].ok);
		if (lv[i].ok == 0)
			assert_int_equal(l, lv[i].l);
		else
			assert_int_equal(l, 99);
	}
	assert_int_equal(tls_level_parse(NULL, &l), -1);
	for (l = TLS_LEVEL_NONE; l <= TLS_LEVEL_DANE; l++) {
		enum tls_level back;

		assert_int_equal(tls_level_parse(tls_level_name(l), &back), 0);
		assert_int_equal(back, l);
	}
	assert_string_equal(tls_level_name((enum tls_level)42), "unknown");
	assert_string_equal(tls_verified_name(TLS_VERIFIED_NONE), "none");
	assert_string_equal(tls_verified_name(TLS_VERIFIED_CA), "ca");
	assert_string_equal(tls_verified_name(TLS_VERIFIED_FAILED), "failed");
	assert_string_equal(tls_verified_name(TLS_VERIFIED_DANE), "dane");
	assert_string_equal(tls_verified_name(TLS_VERIFIED_MTA_STS),
	    "mta-sts");
	assert_string_equal(tls_verified_name((enum tls_verified)42),
	    "unknown");
	assert_string_equal(smtpc_status_name(SMTPC_OK), "OK");
	assert_string_equal(smtpc_status_name(SMTPC_TEMPFAIL), "TEMPFAIL");
	assert_string_equal(smtpc_status_name(SMTPC_PERMFAIL), "PERMFAIL");
	assert_string_equal(smtpc_status_name(SMTPC_TLS_FAIL), "TLS_FAIL");
	assert_string_equal(smtpc_status_name(SMTPC_REQUIRETLS_FAIL),
	    "REQUIRETLS_FAIL");
}

static void
test_timeouts_default(void **state)
{
	struct smtp_client_timeouts t;

	smtp_client_timeouts_default(&t);
	assert_int_equal(t.connect, 30);
	assert_int_equal(t.greeting, 300);
	assert_int_equal(t.data_init, 120);
	assert_int_equal(t.data_block, 180);
	assert_int_equal(t.data_done, 600);
	assert_int_equal(t.quit, 30);
}

static void
test_ctx_policy(void **state)
{
	struct tls_client_conf c = { 0 };
	SSL_CTX *ctx;
	char *err = NULL;

	/* defaults: TLS 1.2 floor, no weak cipher, a session cache */
	ctx = tls_client_ctx_new(&c, &err);
	assert_non_null(ctx);
	assert_null(err);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	assert_true(SSL_CTX_get_session_cache_mode(ctx) &
	    SSL_SESS_CACHE_CLIENT);
	assert_true(SSL_CTX_get_options(ctx) & SSL_OP_NO_COMPRESSION);
	assert_true(SSL_CTX_get_options(ctx) & SSL_OP_NO_RENEGOTIATION);
	assert_int_equal(tls_client_session_count(ctx), 0);
	SSL_CTX_free(ctx);

	/* below TLS 1.0 is raised to it; < 1.2 needs security level 0 */
	c.min_version = SSL3_VERSION;
	ctx = tls_client_ctx_new(&c, &err);
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_VERSION);
	assert_int_equal(SSL_CTX_get_security_level(ctx), 0);
	SSL_CTX_free(ctx);
	c.min_version = TLS1_3_VERSION;
	ctx = tls_client_ctx_new(&c, &err);
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
	assert_true(SSL_CTX_get_security_level(ctx) > 0);
	SSL_CTX_free(ctx);
	c.min_version = 0;

	/* a cipher list that enables anything under 128 bits is refused */
	c.ciphers = "eNULL:@SECLEVEL=0";
	assert_null(tls_client_ctx_new(&c, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "128"));
	xfree(err);
	err = NULL;
	c.ciphers = "HIGH:!aNULL";
	ctx = tls_client_ctx_new(&c, &err);
	assert_non_null(ctx);
	SSL_CTX_free(ctx);
	c.ciphers = "no-such-cipher";
	assert_null(tls_client_ctx_new(&c, &err));
	xfree(err);
	err = NULL;
	c.ciphers = NULL;
	c.ciphersuites = "TLS_NO_SUCH_SUITE";
	assert_null(tls_client_ctx_new(&c, &err));
	xfree(err);
	err = NULL;
	c.ciphersuites = NULL;

	/* a CA file that is not there */
	c.ca_file = "/nonexistent/ca.pem";
	assert_null(tls_client_ctx_new(&c, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	xfree(err);
}

static void
test_ssl_new(void **state)
{
	struct tls_client_conf c = { 0 };
	SSL_CTX *ctx;
	SSL *ssl;
	char *err = NULL;

	ctx = tls_client_ctx_new(&c, &err);
	assert_non_null(ctx);

	/* verify: SNI, peer verification, the host name check */
	ssl = tls_client_ssl_new(ctx, "mx.example.com.", "mx.example.com:25",
	    TLS_LEVEL_VERIFY, &err);
	assert_non_null(ssl);
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
	    "mx.example.com");
	assert_int_equal(SSL_get_verify_mode(ssl), SSL_VERIFY_PEER);
	assert_string_equal(X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl),
	    0), "mx.example.com");
	tls_client_session_commit(ssl);
	tls_client_session_forget(ssl);
	SSL_free(ssl);

	/* encrypt: SNI, no verification */
	ssl = tls_client_ssl_new(ctx, "mx.example.com", "mx.example.com:25",
	    TLS_LEVEL_ENCRYPT, &err);
	assert_non_null(ssl);
	assert_int_equal(SSL_get_verify_mode(ssl), SSL_VERIFY_NONE);
	assert_non_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	SSL_free(ssl);

	/* an IP literal: no SNI (RFC 6066 3) */
	ssl = tls_client_ssl_new(ctx, "192.0.2.1", "192.0.2.1:25",
	    TLS_LEVEL_VERIFY, &err);
	assert_non_null(ssl);
	assert_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	SSL_free(ssl);

	assert_null(tls_client_ssl_new(ctx, "", "x:25", TLS_LEVEL_MAY, &err));
	assert_non_null(err);
	xfree(err);
	assert_int_equal(tls_client_session_count(ctx), 0);
	SSL_CTX_free(ctx);
}

/* tls_client_ssl_new_dane: what goes into OpenSSL, what is refused */
static void
test_ssl_new_dane(void **state)
{
	static const unsigned char d32[32] = { 1, 2, 3 };
	static const unsigned char d64[64] = { 4, 5, 6 };
	struct tls_client_conf c = { 0 };
	struct tls_tlsa ee = { 3, 1, 1, d32, sizeof(d32) };
	struct tls_tlsa ta512 = { 2, 0, 2, d64, sizeof(d64) };
	struct tls_tlsa pkix_ee = { 1, 1, 1, d32, sizeof(d32) };
	struct tls_tlsa pkix_ta = { 0, 0, 1, d32, sizeof(d32) };
	struct tls_tlsa short_digest = { 3, 1, 1, d32, 31 };
	struct tls_tlsa bad_full = { 3, 0, 0, d32, sizeof(d32) };
	struct tls_tlsa bad_mtype = { 3, 1, 7, d32, sizeof(d32) };
	struct tls_tlsa set[3];
	SSL_CTX *ctx;
	SSL *ssl;
	char *err = NULL;
	size_t i;

	ctx = tls_client_ctx_new(&c, &err);
	assert_non_null(ctx);

	ssl = tls_client_ssl_new_dane(ctx, "mx.example.com.",
	    "mx.example.com:25", &ee, 1, &err);
	assert_non_null(ssl);
	assert_null(err);
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
	    "mx.example.com");
	assert_int_equal(SSL_get_verify_mode(ssl), SSL_VERIFY_PEER);
	/* the DANE-TA(2) reference identifier */
	assert_string_equal(X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl),
	    0), "mx.example.com");
	assert_true(SSL_dane_set_flags(ssl, 0) &
	    DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	{
		int u, d;

		/* no handshake: no match */
		assert_int_equal(tls_client_dane_match(ssl, &u, &d), 0);
		assert_int_equal(u, -1);
		assert_int_equal(d, -1);
	}
	SSL_free(ssl);

	/* unusable ones next to a usable one: fine */
	set[0] = pkix_ee;
	set[1] = short_digest;
	set[2] = ta512;
	ssl = tls_client_ssl_new_dane(ctx, "mx.example.com",
	    "mx.example.com:25", set, 3, &err);
	assert_non_null(ssl);
	SSL_free(ssl);

	/* nothing usable: refused, never a quiet PKIX fallback */
	{
		const struct tls_tlsa *bad[] = { &pkix_ee, &pkix_ta,
		    &short_digest, &bad_full, &bad_mtype };

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			ssl = tls_client_ssl_new_dane(ctx, "mx.example.com",
			    "mx.example.com:25", bad[i], 1, &err);
			if (ssl != NULL)
				fail_msg("record %zu: got an SSL, want none",
				    i);
			assert_non_null(err);
			assert_non_null(strstr(err, "no usable TLSA"));
			xfree(err);
			err = NULL;
		}
	}
	assert_null(tls_client_ssl_new_dane(ctx, "mx.example.com",
	    "mx.example.com:25", &ee, 0, &err));
	xfree(err);
	err = NULL;
	/* DANE binds names, not addresses */
	assert_null(tls_client_ssl_new_dane(ctx, "192.0.2.1", "192.0.2.1:25",
	    &ee, 1, &err));
	assert_non_null(strstr(err, "host name"));
	xfree(err);
	err = NULL;
	/* the plain constructor does not do DANE */
	assert_null(tls_client_ssl_new(ctx, "mx.example.com",
	    "mx.example.com:25", TLS_LEVEL_DANE, &err));
	xfree(err);
	err = NULL;
	assert_null(tls_client_ssl_new(ctx, "mx.example.com",
	    "mx.example.com:25", (enum tls_level)42, &err));
	xfree(err);
	SSL_CTX_free(ctx);
}

/* --- certificate facts on certificates made here ------------------------ */

struct certs {
	EVP_PKEY *ca_key, *leaf_key;
	X509 *ca, *leaf, *expired, *self, *many, *odd;
	X509_STORE *store, *empty;
};

#define NOT_AFTER	((time_t)2000000000)	/* 2033-05-18 */

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* mkcert - CN cn with key, signed by issuer/ikey (NULL: self-signed);
 * valid from nb to na (unix time); SAN san (NULL: none) */
static X509 *
mkcert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
    time_t nb, time_t na, const char *san, int ca, long serial)
{
	X509 *x = X509_new();
	X509_NAME *nm;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial),
	    1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), nb));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), na));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	nm = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : nm), 1);
	if (ca) {
		add_ext(x, issuer != NULL ? issuer : x,
		    NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, issuer != NULL ? issuer : x, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer != NULL ? issuer : x,
		    NID_basic_constraints, "CA:FALSE");
		add_ext(x, issuer != NULL ? issuer : x, NID_ext_key_usage,
		    "serverAuth");
	}
	if (san != NULL)
		add_ext(x, issuer != NULL ? issuer : x,
		    NID_subject_alt_name, san);
	assert_true(X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) >
	    0);
	return x;
}

static int
certs_setup(void **state)
{
	struct certs *k = calloc(1, sizeof(*k));
	time_t now = time(NULL);
	GENERAL_NAMES *gens;
	char san[4096];
	size_t i, off = 0;

	if (k == NULL)
		return -1;
	k->ca_key = EVP_EC_gen("P-256");
	k->leaf_key = EVP_EC_gen("P-256");
	if (k->ca_key == NULL || k->leaf_key == NULL)
		return -1;
	k->ca = mkcert("Test CA", k->ca_key, NULL, NULL, now - 86400,
	    now + 86400 * 30, NULL, 1, 1);
	k->leaf = mkcert("mx.example.test", k->leaf_key, k->ca, k->ca_key,
	    now - 3600, NOT_AFTER,
	    "DNS:mx.example.test,DNS:*.wild.example.test,IP:192.0.2.1", 0, 2);
	k->expired = mkcert("mx.example.test", k->leaf_key, k->ca, k->ca_key,
	    now - 86400 * 10, now - 86400, "DNS:mx.example.test", 0, 3);
	k->self = mkcert("mx.example.test", k->leaf_key, NULL, NULL,
	    now - 3600, now + 86400, "DNS:mx.example.test", 0, 4);
	/* 60 names of 21 characters: more than fit in 512 */
	for (i = 0; i < 60; i++)
		off += (size_t)snprintf(san + off, sizeof(san) - off,
		    "%sDNS:host%02zu.example.test", i ? "," : "", i);
	k->many = mkcert("many", k->leaf_key, k->ca, k->ca_key, now - 3600,
	    now + 86400, san, 0, 5);
	/* a name with a comma and a control byte, an empty one */
	k->odd = mkcert("odd\x01", k->leaf_key, k->ca, k->ca_key, now - 3600,
	    now + 86400, NULL, 0, 6);
	gens = sk_GENERAL_NAME_new_null();
	{
		static const char *const odd[] = { "a,b\x01.test", "",
		    "c.test" };

		for (i = 0; i < 3; i++) {
			GENERAL_NAME *g = GENERAL_NAME_new();
			ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

			ASN1_STRING_set(ia5, odd[i], (int)strlen(odd[i]));
			GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
			sk_GENERAL_NAME_push(gens, g);
		}
	}
	X509_add1_ext_i2d(k->odd, NID_subject_alt_name, gens, 0, 0);
	GENERAL_NAMES_free(gens);
	X509_sign(k->odd, k->ca_key, EVP_sha256());
	k->store = X509_STORE_new();
	k->empty = X509_STORE_new();
	X509_STORE_add_cert(k->store, k->ca);
	*state = k;
	return 0;
}

static int
certs_teardown(void **state)
{
	struct certs *k = *state;

	X509_free(k->ca);
	X509_free(k->leaf);
	X509_free(k->expired);
	X509_free(k->self);
	X509_free(k->many);
	X509_free(k->odd);
	X509_STORE_free(k->store);
	X509_STORE_free(k->empty);
	EVP_PKEY_free(k->ca_key);
	EVP_PKEY_free(k->leaf_key);
	free(k);
	return 0;
}

static void
test_cert_facts(void **state)
{
	struct certs *k = *state;
	struct tls_cert_facts f;
	static const struct {
		const char *host;
		int want;
	} hosts[] = {
		{ "mx.example.test", 1 },
		{ "MX.Example.TEST.", 1 },	/* case, trailing dot */
		{ "a.wild.example.test", 1 },
		{ "b.a.wild.example.test", 0 },	/* left-most label only */
		{ "wild.example.test", 0 },
		{ "example.test", 0 },
		{ "other.test", 0 },
		{ "192.0.2.1", 1 },
		{ "192.0.2.2", 0 },
		{ "", 0 },
		{ ".", 0 },
		{ NULL, 0 },
	};
	size_t i;

	tls_cert_facts_get(k->leaf, NULL, k->store, "mx.example.test", &f);
	assert_int_equal(f.have_cert, 1);
	assert_string_equal(f.subject, "CN=mx.example.test");
	assert_string_equal(f.issuer, "CN=Test CA");
	assert_string_equal(f.names, "mx.example.test,*.wild.example.test");
	assert_int_equal(f.names_total, 2);
	assert_int_equal(f.names_listed, 2);
	assert_int_equal(f.not_after, (int64_t)NOT_AFTER);
	assert_true(f.not_before > 0 && f.not_before < f.not_after);
	assert_string_equal(f.key_type, "EC");
	assert_int_equal(f.key_bits, 256);
	assert_int_equal(f.pkix_valid, 1);
	assert_string_equal(f.pkix_error, "");
	assert_int_equal(f.name_match, 1);

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		tls_cert_facts_get(k->leaf, NULL, NULL, hosts[i].host, &f);
		if (f.name_match != hosts[i].want)
			fail_msg("name_match(%s): got %d, want %d",
			    hosts[i].host ? hosts[i].host : "NULL",
			    f.name_match, hosts[i].want);
		/* no store: PKIX not known */
		assert_int_equal(f.pkix_valid, -1);
	}

	/* a chain passed along, the leaf in it as a TLS peer sends it */
	{
		STACK_OF(X509) *chain = sk_X509_new_null();

		sk_X509_push(chain, k->leaf);
		sk_X509_push(chain, k->ca);
		tls_cert_facts_get(k->leaf, chain, k->store, NULL, &f);
		assert_int_equal(f.pkix_valid, 1);
		/* the CA only in the chain, not trusted: not valid */
		tls_cert_facts_get(k->leaf, chain, k->empty, NULL, &f);
		assert_int_equal(f.pkix_valid, 0);
		sk_X509_free(chain);
	}
	tls_cert_facts_get(k->leaf, NULL, k->empty, "mx.example.test", &f);
	assert_int_equal(f.pkix_valid, 0);
	assert_non_null(strstr(f.pkix_error, "issuer"));
	assert_int_equal(f.name_match, 1);	/* names are not PKIX */

	tls_cert_facts_get(k->expired, NULL, k->store, "mx.example.test", &f);
	assert_int_equal(f.pkix_valid, 0);
	assert_non_null(strstr(f.pkix_error, "expired"));
	assert_true(f.not_after < (int64_t)time(NULL));
	assert_int_equal(f.name_match, 1);

	tls_cert_facts_get(k->self, NULL, k->store, "mx.example.test", &f);
	assert_int_equal(f.pkix_valid, 0);
	assert_string_equal(f.issuer, "CN=mx.example.test");

	/* bounded: whole names only, in order, the rest counted */
	tls_cert_facts_get(k->many, NULL, k->store, "host59.example.test", &f);
	assert_int_equal(f.names_total, 60);
	assert_true(f.names_listed > 0 && f.names_listed < 60);
	assert_true(strlen(f.names) < sizeof(f.names));
	assert_int_equal(strlen(f.names), f.names_listed * 20 - 1);
	{
		char last[32];

		snprintf(last, sizeof(last), "host%02u.example.test",
		    f.names_listed - 1);
		assert_string_equal(f.names + strlen(f.names) - strlen(last),
		    last);
	}
	assert_int_equal(f.name_match, 1);	/* listed or not */

	/* network text is made printable; ',' in a name cannot split it */
	tls_cert_facts_get(k->odd, NULL, k->store, "c.test", &f);
	assert_string_equal(f.subject, "CN=odd\\01");
	assert_string_equal(f.names, "a?b?.test,c.test");
	assert_int_equal(f.names_total, 3);
	assert_int_equal(f.names_listed, 2);
	assert_int_equal(f.name_match, 1);

	/* no certificate */
	memset(&f, 0x55, sizeof(f));
	tls_cert_facts_get(NULL, NULL, k->store, "mx.example.test", &f);
	assert_int_equal(f.have_cert, 0);
	assert_int_equal(f.pkix_valid, -1);
	assert_string_equal(f.names, "");
	assert_int_equal(f.name_match, 0);
}

/* connect refused: TEMPFAIL with the reason, the facts recorded */
static void
test_connect_refused(void **state)
{
	struct smtp_client_conf cc = { 0 };
	struct smtpc_result res;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	/* a port that was free a moment ago and is not listening */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);

	cc.helo_name = "client.test";
	smtp_client_timeouts_default(&cc.t);
	memset(&res, 0, sizeof(res));
	assert_null(smtp_conn_open(&cc, "mx.test", (struct sockaddr *)&sin,
	    sizeof(sin), TLS_LEVEL_NONE, &res));
	assert_int_equal(res.status, SMTPC_TEMPFAIL);
	assert_non_null(strstr(res.reply, "refused"));
	assert_string_equal(res.mx_host, "mx.test");
	assert_string_equal(res.mx_addr, "127.0.0.1");

	/* TLS asked for, no context: TLS_FAIL before any connection */
	memset(&res, 0, sizeof(res));
	assert_null(smtp_conn_open(&cc, "mx.test", (struct sockaddr *)&sin,
	    sizeof(sin), TLS_LEVEL_ENCRYPT, &res));
	assert_int_equal(res.status, SMTPC_TLS_FAIL);

	/* a bad EHLO name (command injection) never goes out */
	cc.helo_name = "evil\r\nMAIL FROM:<x>";
	memset(&res, 0, sizeof(res));
	assert_null(smtp_conn_open(&cc, "mx.test", (struct sockaddr *)&sin,
	    sizeof(sin), TLS_LEVEL_NONE, &res));
	assert_int_equal(res.status, SMTPC_TEMPFAIL);
	assert_non_null(strstr(res.reply, "EHLO name"));
	{
		struct smtp_conn *none = NULL;

		smtp_conn_close(&none);	/* a no-op */
		assert_false(smtp_conn_usable(none));
	}
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_stuff_full),
		cmocka_unit_test(test_ehlo_ext),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_timeouts_default),
		cmocka_unit_test(test_ctx_policy),
		cmocka_unit_test(test_ssl_new),
		cmocka_unit_test(test_ssl_new_dane),
		cmocka_unit_test_setup_teardown(test_cert_facts, certs_setup,
		    certs_teardown),
		cmocka_unit_test(test_connect_refused),
	};
	size_t ncase = sizeof(stuff_cases) / sizeof(stuff_cases[0]);
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *t;
	size_t i;
	int r;

	t = calloc(ncase + nfixed, sizeof(*t));
	if (t == NULL)
		return 1;
	for (i = 0; i < ncase; i++) {
		t[i].name = stuff_cases[i].name;
		t[i].test_func = test_stuff_case;
		t[i].initial_state = (void *)&stuff_cases[i];
	}
	memcpy(t + ncase, fixed, sizeof(fixed));
	r = _cmocka_run_group_tests("smtp_client", t, ncase + nfixed, NULL,
	    NULL);
	free(t);
	return r;
}
