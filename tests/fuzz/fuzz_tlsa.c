/*
 * fuzz_tlsa.c - libFuzzer target for dane_tlsa_parse() and
 * dane_tlsa_usable(), and for handing what they accept to OpenSSL's DANE
 * support the way the delivery client does (tls_client_ssl_new_dane()).
 *
 * Input: TLSA RDATA as it comes from libunbound, in an exactly sized heap
 * copy (ASan sees any read past it). An accepted RDATA must keep the
 * contract: at least 4 bytes, the three parameter octets as given, data
 * a slice of the input right after them, of exactly 32 bytes for
 * SHA2-256(1), 64 for SHA2-512(2), 1..DANE_TLSA_FULL_MAX otherwise. A
 * record judged usable must be DANE-TA(2)/DANE-EE(3) with selector 0/1
 * and matching type 0/1/2; it then goes into SSL_dane_tlsa_add() (a
 * Full(0) record makes OpenSSL parse a certificate or key from the input)
 * through tls_client_ssl_new_dane(), which must either give an SSL or a
 * reason, never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "dane.h"
#include "lib/xalloc.h"
#include "tls_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static SSL_CTX *ctx;

static void
check_accepted(const uint8_t *rd, size_t len, const struct tls_tlsa *rec)
{
	CHECK(len >= 4);
	CHECK(rec->usage == rd[0]);
	CHECK(rec->selector == rd[1]);
	CHECK(rec->mtype == rd[2]);
	CHECK(rec->data == rd + 3);
	CHECK(rec->len == len - 3);
	if (rec->mtype == DANE_MTYPE_SHA256)
		CHECK(rec->len == 32);
	else if (rec->mtype == DANE_MTYPE_SHA512)
		CHECK(rec->len == 64);
	else
		CHECK(rec->len >= 1 && rec->len <= DANE_TLSA_FULL_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_tlsa rec;
	uint8_t *copy;
	char *err = NULL;
	SSL *ssl;
	int r;

	if (size > DANE_TLSA_FULL_MAX + 16)
		return 0;
	if (ctx == NULL) {
		struct tls_client_conf c;

		memset(&c, 0, sizeof(c));
		ctx = tls_client_ctx_new(&c, &err);
		CHECK(ctx != NULL);
	}
	copy = malloc(size ? size : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	r = dane_tlsa_parse(size ? copy : NULL, size, &rec);
	CHECK(r == 0 || r == -1);
	if (r < 0) {
		CHECK(rec.data == NULL && rec.len == 0);
		free(copy);
		return 0;
	}
	check_accepted(copy, size, &rec);
	if (!dane_tlsa_usable(&rec)) {
		CHECK(rec.usage < 2 || rec.usage > 3 || rec.selector > 1 ||
		    rec.mtype > 2);
		free(copy);
		return 0;
	}
	CHECK(rec.usage >= 2 && rec.usage <= 3 && rec.selector <= 1 &&
	    rec.mtype <= 2);
	ssl = tls_client_ssl_new_dane(ctx, "mx.example.test",
	    "mx.example.test:25", &rec, 1, &err);
	if (ssl == NULL) {
		CHECK(err != NULL);
		/* only a Full(0) record that does not parse is refused */
		CHECK(rec.mtype == DANE_MTYPE_FULL);
		xfree(err);
	} else {
		CHECK(err == NULL);
		CHECK(SSL_get_verify_mode(ssl) == SSL_VERIFY_PEER);
		SSL_free(ssl);
	}
	free(copy);
	return 0;
}
