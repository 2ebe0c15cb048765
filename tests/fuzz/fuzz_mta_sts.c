/*
 * fuzz_mta_sts.c - libFuzzer target for the MTA-STS parsers in
 * mta_sts.c: mta_sts_policy_parse(), mta_sts_txt_record_parse(),
 * mta_sts_txt_parse() and mta_sts_mx_pattern_match().
 *
 * The whole input is, at once:
 *   - a policy body, in an exactly sized heap copy (ASan sees any read
 *     past it); an accepted policy must keep the contract: a known mode,
 *     max_age in range, mx present unless mode none, every pattern
 *     lower-case ["*."]Domain that matches a host built from it, the
 *     body kept verbatim;
 *   - one TXT record's text: an accepted one yields an id of 1-32
 *     letters and digits that occurs in the input after "id=";
 *   - a TXT RRset: records as [length byte][RDATA], each RDATA in its
 *     own exactly sized copy;
 *   - up to the first LF, an mx pattern, and after it a host name: a
 *     match by a pattern without "*." means equal up to case and one
 *     trailing dot.
 */
#define _GNU_SOURCE		/* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "mta_sts.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static int
alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* check_pattern - an accepted mx pattern: lower case, LDH labels, no
 * trailing dot, at most 253 characters after an optional "*." */
static void
check_pattern(const char *m)
{
	const char *d = strncmp(m, "*.", 2) == 0 ? m + 2 : m;
	size_t n = strlen(d), i;
	char host[DNS_NAME_MAX + 8];

	CHECK(n > 0 && n <= DNS_NAME_MAX - 2);
	CHECK(d[n - 1] != '.' && d[0] != '.');
	for (i = 0; i < n; i++)
		CHECK((d[i] >= 'a' && d[i] <= 'z') ||
		    (d[i] >= '0' && d[i] <= '9') || d[i] == '-' ||
		    d[i] == '.');
	/* a host the pattern must match, and one it must not */
	if (d != m) {
		host[0] = 'x';
		host[1] = '.';
		memcpy(host + 2, d, n + 1);
		CHECK(mta_sts_mx_pattern_match(m, host));
		CHECK(!mta_sts_mx_pattern_match(m, d));
	} else {
		CHECK(mta_sts_mx_pattern_match(m, d));
	}
}

static void
fuzz_policy(const uint8_t *data, size_t size)
{
	struct mta_sts_policy *p = NULL;
	char *copy = malloc(size ? size : 1), *err = NULL;
	size_t i;

	CHECK(copy != NULL);
	memcpy(copy, data, size);
	if (mta_sts_policy_parse(copy, size, &p, &err) == 0) {
		CHECK(err == NULL && p != NULL);
		CHECK(size <= MTA_STS_POLICY_MAX);
		CHECK(p->mode == MTA_STS_MODE_NONE ||
		    p->mode == MTA_STS_MODE_TESTING ||
		    p->mode == MTA_STS_MODE_ENFORCE);
		CHECK(p->max_age <= MTA_STS_MAX_AGE_MAX);
		CHECK(p->nmx <= MTA_STS_MX_MAX);
		CHECK(p->nmx > 0 || p->mode == MTA_STS_MODE_NONE);
		CHECK(p->text_len == size && p->text[size] == '\0');
		CHECK(memcmp(p->text, data, size) == 0);
		/* no NUL and no bare CR made it through */
		CHECK(memchr(data, '\0', size) == NULL);
		for (i = 0; i < p->nmx; i++) {
			check_pattern(p->mx[i]);
			if (strncmp(p->mx[i], "*.", 2) != 0)
				CHECK(mta_sts_mx_match(p, p->mx[i]));
		}
		mta_sts_policy_free(&p);
		CHECK(p == NULL);
	} else {
		CHECK(p == NULL && err != NULL && *err != '\0');
		xfree(err);
	}
	free(copy);
}

static void
fuzz_txt_record(const uint8_t *data, size_t size)
{
	char id[MTA_STS_ID_MAX + 1], *err = NULL, needle[MTA_STS_ID_MAX + 4];
	char *copy = malloc(size ? size : 1);
	size_t n, i;

	CHECK(copy != NULL);
	memcpy(copy, data, size);
	if (mta_sts_txt_record_parse(copy, size, id, &err) == 0) {
		CHECK(err == NULL);
		CHECK(size >= 7 && memcmp(data, "v=STSv1", 7) == 0);
		n = strlen(id);
		CHECK(n >= 1 && n <= MTA_STS_ID_MAX);
		for (i = 0; i < n; i++)
			CHECK(alnum(id[i]));
		needle[0] = 'i';
		needle[1] = 'd';
		needle[2] = '=';
		memcpy(needle + 3, id, n);
		CHECK(memmem(data, size, needle, n + 3) != NULL);
	} else {
		CHECK(id[0] == '\0' && err != NULL);
		xfree(err);
	}
	free(copy);
}

static void
fuzz_rrset(const uint8_t *data, size_t size)
{
	unsigned char *rd[DNS_RR_MAX];
	size_t len[DNS_RR_MAX], pos = 0, n = 0, i;
	struct dns_rrset rr;
	char id[MTA_STS_ID_MAX + 1], *err = NULL;
	int rc;

	while (pos < size && n < DNS_RR_MAX) {
		size_t l = data[pos++];

		if (l > size - pos)
			l = size - pos;
		rd[n] = malloc(l ? l : 1);
		CHECK(rd[n] != NULL);
		memcpy(rd[n], data + pos, l);
		len[n++] = l;
		pos += l;
	}
	memset(&rr, 0, sizeof(rr));
	rr.rdata = rd;
	rr.rdlen = len;
	rr.n = n;
	rc = mta_sts_txt_parse(&rr, id, &err);
	CHECK(rc >= -1 && rc <= 1);
	if (rc == 1) {
		n = strlen(id);
		CHECK(err == NULL && n >= 1 && n <= MTA_STS_ID_MAX);
	} else {
		CHECK(id[0] == '\0');
		CHECK((rc == 0) == (err == NULL));
		xfree(err);
	}
	for (i = 0; i < rr.n; i++)
		free(rd[i]);
}

static void
fuzz_match(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t pl, hl;
	char *pat, *host;

	if (nl == NULL)
		return;
	pl = (size_t)(nl - data);
	hl = size - pl - 1;
	pat = malloc(pl + 1);
	host = malloc(hl + 1);
	CHECK(pat != NULL && host != NULL);
	memcpy(pat, data, pl);
	pat[pl] = '\0';
	memcpy(host, nl + 1, hl);
	host[hl] = '\0';
	if (mta_sts_mx_pattern_match(pat, host)) {
		pl = strlen(pat);
		hl = strlen(host);
		if (pl > 0 && pat[pl - 1] == '.')
			pl--;
		if (hl > 0 && host[hl - 1] == '.')
			hl--;
		CHECK(hl > 0 && strchr(host, '*') == NULL);
		if (strncmp(pat, "*.", 2) != 0)
			CHECK(pl == hl && strncasecmp(pat, host, pl) == 0);
		else
			CHECK(hl > pl - 1);
	}
	free(pat);
	free(host);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_policy(data, size);
	fuzz_txt_record(data, size);
	fuzz_rrset(data, size);
	fuzz_match(data, size);
	return 0;
}
