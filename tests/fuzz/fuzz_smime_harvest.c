/*
 * fuzz_smime_harvest.c - libFuzzer target for smime_harvest().
 *
 * The input is a whole message; the sender is alice@example.org and the
 * time fixed inside the validity of the seed corpus's certificates, so
 * that seeds reach signature verification and harvesting. Any bytes: no
 * crash, leak or hang; a result in -1..1 with a reason; *out zeroed
 * unless harvested; a harvest holds a certificate and names the sender;
 * the OpenSSL error queue is left empty.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "smime_harvest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FROM	"alice@example.org"
#define FUZZ_NOW	((time_t)1800000000)	/* 2027-01-15 */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct smime_harvest zero;
	struct smime_harvest h;
	char why[256];
	size_t i;
	int r, named = 0;

	ERR_clear_error();
	memset(&h, 0x5a, sizeof(h));
	why[0] = '\0';
	r = smime_harvest((const char *)data, size, FUZZ_FROM, FUZZ_NOW,
	    NULL, &h, why, sizeof(why));
	if (r < -1 || r > 1 || why[0] == '\0' ||
	    memchr(why, '\0', sizeof(why)) == NULL)
		__builtin_trap();
	if (ERR_peek_error() != 0)
		__builtin_trap();
	if (r != 1) {
		if (memcmp(&h, &zero, sizeof(h)) != 0)
			__builtin_trap();
		return 0;
	}
	if (h.der == NULL || h.der_len == 0 || h.nemails == 0 ||
	    h.nemails > SMIME_HARVEST_EMAILS_MAX || strcmp(why, "ok") != 0)
		__builtin_trap();
	for (i = 0; i < h.nemails; i++) {
		if (h.emails[i] == NULL || strlen(h.emails[i]) >
		    SMIME_HARVEST_ADDR_MAX)
			__builtin_trap();
		if (strcmp(h.emails[i], FUZZ_FROM) == 0)
			named = 1;
	}
	/* the sender may only be missing past the kept addresses */
	if (!named && h.nemails < SMIME_HARVEST_EMAILS_MAX)
		__builtin_trap();
	smime_harvest_release(&h);
	if (memcmp(&h, &zero, sizeof(h)) != 0)
		__builtin_trap();
	return 0;
}
