/*
 * cidr.c - IPv4/IPv6 network lists (relay_networks).
 *
 * Syntax: ADDRESS or ADDRESS/PREFIX, the address as inet_pton(3) takes it
 * (dotted quad without leading zeros, or IPv6 text), the prefix a plain
 * decimal number without sign or leading zeros (so "/08" and "/010" cannot
 * be read as octal by one tool and as decimal by another). Host bits beyond
 * the prefix are masked off.
 * An IPv4-mapped IPv6 network (::ffff:a.b.c.d/96..128) is stored as the
 * IPv4 network it denotes, and IPv4-mapped client addresses are matched
 * as IPv4, so a dual-stack socket sees the same answers as an IPv4 one.
 * Trust: strings from the configuration file; no I/O and no logging here.
 */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "cidr.h"
#include "lib/numparse.h"

/* room for the longest IPv6 text form plus "/128" */
#define CIDR_TEXT_MAX	(INET6_ADDRSTRLEN + 4)

static const unsigned char v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* cidr_mask - zero every bit of addr past the first prefix bits */
static void
cidr_mask(unsigned char *addr, size_t addrlen, unsigned prefix)
{
	size_t i;

	for (i = 0; i < addrlen; i++) {
		if (prefix >= 8) {
			prefix -= 8;
			continue;
		}
		addr[i] &= (unsigned char)(0xff00u >> prefix);
		prefix = 0;
	}
}

/* cidr_prefix_eq - do a and b agree in their first prefix bits? */
static int
cidr_prefix_eq(const unsigned char *a, const unsigned char *b,
    unsigned prefix)
{
	size_t full = prefix / 8;
	unsigned rest = prefix % 8;
	unsigned char m;

	if (full > 0 && memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	m = (unsigned char)(0xff00u >> rest);
	return (a[full] & m) == (b[full] & m);
}

/* cidr_parse - parse one network; see cidr.h */
int
cidr_parse(const char *s, struct cidr *out)
{
	char text[CIDR_TEXT_MAX + 1];
	const char *slash;
	size_t alen, plen;
	uint64_t prefix;
	unsigned maxprefix;
	struct cidr c;

	memset(&c, 0, sizeof(c));
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen > CIDR_TEXT_MAX)
		return -1;
	memcpy(text, s, alen);
	text[alen] = '\0';

	if (memchr(text, ':', alen) != NULL) {
		c.family = AF_INET6;
		maxprefix = 128;
	} else {
		c.family = AF_INET;
		maxprefix = 32;
	}
	if (inet_pton(c.family, text, c.addr) != 1)
		return -1;

	if (slash == NULL) {
		prefix = maxprefix;
	} else {
		plen = strlen(slash + 1);
		if (plen > 1 && slash[1] == '0')
			return -1;
		if (num_parse_u64(slash + 1, plen, 0, maxprefix, &prefix) < 0)
			return -1;
	}
	c.prefix = (unsigned)prefix;

	if (c.family == AF_INET6 && c.prefix >= 96 &&
	    memcmp(c.addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		memmove(c.addr, c.addr + 12, 4);
		memset(c.addr + 4, 0, sizeof(c.addr) - 4);
		c.family = AF_INET;
		c.prefix -= 96;
	}
	cidr_mask(c.addr, c.family == AF_INET ? 4 : 16, c.prefix);
	*out = c;
	return 0;
}

/* cidr_match - is sa inside any network of the list? see cidr.h */
int
cidr_match(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
	unsigned char addr[16];
	int family;
	size_t i;

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		family = AF_INET;
		memcpy(addr, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;

		family = AF_INET6;
		memcpy(addr, &sin6->sin6_addr, 16);
		if (memcmp(addr, v4mapped_prefix,
		    sizeof(v4mapped_prefix)) == 0) {
			family = AF_INET;
			memmove(addr, addr + 12, 4);
		}
	} else {
		return 0;
	}

	for (i = 0; i < n; i++) {
		if (list[i].family != family)
			continue;
		if (cidr_prefix_eq(list[i].addr, addr, list[i].prefix))
			return 1;
	}
	return 0;
}
