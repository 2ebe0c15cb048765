/*
 * fuzz_dns_rdata.c - libFuzzer target for dns_mx_rdata_parse(), with
 * dns_hostname_valid() and dns_mx_order() on what it yields.
 *
 * Input: MX RDATA as it comes from libunbound (preference, then a wire
 * format name), in an exactly sized heap copy (ASan sees any read past
 * it). An accepted RDATA must keep the contract (NUL-terminated name of
 * at most 253 characters, lower case, no empty label, no byte the text
 * form cannot carry) and must encode back to the input, up to case. The
 * input bytes also drive dns_mx_order(): hosts with preferences taken
 * from the input and random numbers from it must come out sorted, as a
 * permutation of what went in.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

#define ORDER_MAX	DNS_MX_HOSTS_MAX

struct rnd_bytes {
	const uint8_t *p;
	size_t n, i;
};

static unsigned
rnd_from_input(void *arg)
{
	struct rnd_bytes *r = arg;
	unsigned v = 0;
	int k;

	for (k = 0; k < 4; k++) {
		v = (v << 8) | (r->n ? r->p[r->i % r->n] : 0);
		r->i++;
	}
	return v;
}

/* check_accepted - the contract of a successful parse */
static void
check_accepted(const uint8_t *rd, size_t len, unsigned pref,
    const char *name)
{
	unsigned char wire[DNS_NAME_MAX + 3];
	size_t n = strlen(name), pos = 2, start, i;

	CHECK(n <= DNS_NAME_MAX - 2);
	CHECK(pref == (((unsigned)rd[0] << 8) | rd[1]));
	wire[0] = rd[0];
	wire[1] = rd[1];
	/* re-encode: labels between dots */
	for (start = 0; n > 0 && start <= n; ) {
		size_t end = start;

		while (end < n && name[end] != '.')
			end++;
		CHECK(end > start);		/* no empty label */
		CHECK(end - start <= 63);
		CHECK(pos + 1 + (end - start) < sizeof(wire));
		wire[pos++] = (unsigned char)(end - start);
		for (i = start; i < end; i++) {
			unsigned char c = (unsigned char)name[i];

			CHECK(c > 0x20 && c < 0x7f && c != '\\');
			CHECK(!(c >= 'A' && c <= 'Z'));
			wire[pos++] = c;
		}
		start = end + 1;
	}
	wire[pos++] = 0;
	CHECK(pos == len);
	CHECK(memcmp(wire, rd, 2) == 0);
	for (i = 2; i < len; i++) {
		unsigned char a = wire[i], b = rd[i];

		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b - 'A' + 'a');
		CHECK(a == b);
	}
	/* the host name check must cope with anything the parser gives */
	if (dns_hostname_valid(name)) {
		CHECK(n > 0);
		CHECK(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-.") ==
		    n);
	}
}

/* check_order - hosts from the input bytes, ordered */
static void
check_order(const uint8_t *data, size_t size)
{
	struct dns_mx_host h[ORDER_MAX];
	unsigned count[ORDER_MAX];
	struct rnd_bytes r = { data, size, 0 };
	size_t n = size % (ORDER_MAX + 1), i;

	memset(h, 0, sizeof(h));
	memset(count, 0, sizeof(count));
	for (i = 0; i < n; i++) {
		/* few distinct preferences, so runs of equal ones are long */
		h[i].pref = data[i] % 4;
		h[i].naddrs = i;		/* identity, to check afterwards */
	}
	dns_mx_order(h, n, rnd_from_input, &r);
	for (i = 0; i < n; i++) {
		CHECK(h[i].naddrs < n);
		count[h[i].naddrs]++;
		CHECK(h[i].pref == data[h[i].naddrs] % 4u);
		if (i > 0)
			CHECK(h[i - 1].pref <= h[i].pref);
	}
	for (i = 0; i < n; i++)
		CHECK(count[i] == 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[DNS_NAME_MAX + 1];
	unsigned pref = 0;
	uint8_t *copy;
	char *text;
	int r;

	if (size > 4096)
		return 0;
	copy = malloc(size ? size : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	memset(name, 'x', sizeof(name));
	r = dns_mx_rdata_parse(size ? copy : NULL, size, &pref, name);
	CHECK(r == 0 || r == -1);
	if (r == 0)
		check_accepted(copy, size, pref, name);
	else
		CHECK(name[0] == '\0');

	/* the raw bytes as a would-be host name */
	text = malloc(size + 1);
	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	if (dns_hostname_valid(text))
		CHECK(strlen(text) <= DNS_NAME_MAX - 2);
	free(text);

	check_order(data, size);
	free(copy);
	return 0;
}
