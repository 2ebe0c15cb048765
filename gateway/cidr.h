/*
 * cidr.h - IPv4/IPv6 network lists (relay_networks).
 */
#ifndef SEALGATE_CIDR_H
#define SEALGATE_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

struct cidr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* network, host bits zeroed */
	unsigned prefix;		/* 0..32 or 0..128 */
};

/* "10.0.0.0/8", "::1/128", "192.0.2.1" (host: /32 or /128). 0 ok, -1 bad
 * syntax (prefix out of range, with sign or leading zeros, junk). Host bits
 * beyond the prefix are masked off, not refused. A v4-mapped IPv6 network
 * (::ffff:a.b.c.d with prefix >= 96) is stored as the IPv4 network. */
int cidr_parse(const char *s, struct cidr *out);

/* 1 if sa (AF_INET/AF_INET6, v4-mapped v6 treated as v4) is inside any
 * of list[0..n), else 0. */
int cidr_match(const struct cidr *list, size_t n, const struct sockaddr *sa);

#endif
