/*
 * fuzz_tls_rpt_txt.c - libFuzzer target for the TLS-RPT TXT record
 * (RFC 8460 3): tls_rpt_txt_record_parse() on the input as record text,
 * and tls_rpt_txt_select() on the input as TXT RDATA (one or, split at
 * the first 0x00 byte, two records), each in an exactly sized heap copy
 * (ASan sees any read past it). An accepted record must keep the
 * contract: 1..TLS_RPT_RUA_MAX usable URIs, each NUL-terminated, at most
 * TLS_RPT_URI_MAX bytes of visible ASCII without ',' or ';', a mailto:
 * address printable and with an '@', an https: URI starting "https://".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "tls_rpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static void
check(const struct tls_rpt_txt *t)
{
	size_t i, j, n;

	CHECK(t->nrua >= 1 && t->nrua <= TLS_RPT_RUA_MAX);
	for (i = 0; i < t->nrua; i++) {
		const struct tls_rpt_rua *r = &t->rua[i];

		n = strlen(r->uri);
		CHECK(n > 0 && n <= TLS_RPT_URI_MAX);
		for (j = 0; j < n; j++)
			CHECK((unsigned char)r->uri[j] > 0x20 &&
			    (unsigned char)r->uri[j] < 0x7f &&
			    r->uri[j] != ',' && r->uri[j] != ';');
		if (r->kind == TLS_RPT_URI_MAILTO) {
			CHECK(strncasecmp(r->uri, "mailto:", 7) == 0);
			CHECK(strchr(r->addr, '@') != NULL);
			for (j = 0; r->addr[j] != '\0'; j++)
				CHECK((unsigned char)r->addr[j] > 0x20 &&
				    (unsigned char)r->addr[j] < 0x7f);
		} else {
			CHECK(r->kind == TLS_RPT_URI_HTTPS);
			CHECK(strncasecmp(r->uri, "https://", 8) == 0);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_rpt_txt t;
	struct dns_rrset rr;
	unsigned char *rd[2];
	size_t rl[2], cut;
	char why[256], *txt;
	const uint8_t *z;

	txt = malloc(size ? size : 1);
	if (txt == NULL)
		return 0;
	memcpy(txt, data, size);
	if (tls_rpt_txt_record_parse(txt, size, &t, why, sizeof(why)) == 0)
		check(&t);
	free(txt);

	z = memchr(data, 0, size);
	cut = z != NULL ? (size_t)(z - data) : size;
	rd[0] = malloc(cut ? cut : 1);
	rd[1] = malloc(size - cut ? size - cut : 1);
	if (rd[0] == NULL || rd[1] == NULL)
		goto out;
	memcpy(rd[0], data, cut);
	rl[0] = cut;
	if (z != NULL) {
		memcpy(rd[1], z + 1, size - cut - 1);
		rl[1] = size - cut - 1;
	}
	memset(&rr, 0, sizeof(rr));
	rr.rdata = rd;
	rr.rdlen = rl;
	rr.n = z != NULL ? 2 : 1;
	if (tls_rpt_txt_select(&rr, &t, why, sizeof(why)) == 1)
		check(&t);
out:
	free(rd[0]);
	free(rd[1]);
	return 0;
}
