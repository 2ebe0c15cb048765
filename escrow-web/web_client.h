/*
 * web_client.h - who is the client of a portal request: the peer's
 * address, or the address a trusted proxy says it forwarded for
 * (X-Forwarded-For), and whether the client used HTTPS
 * (X-Forwarded-Proto). Used for throttling, audit and HSTS.
 *
 * Pure: no I/O, no logging.
 */
#ifndef SEALGATE_WEB_CLIENT_H
#define SEALGATE_WEB_CLIENT_H

#include <stddef.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "cidr.h"

struct web_client {
	char addr[INET6_ADDRSTRLEN];	/* numeric; "unknown" if none */
	int https;			/* the browser's hop was HTTPS */
	int forwarded;			/* addr came from X-Forwarded-For */
};

/*
 * web_client_resolve - fill *out for a request from peer (NULL: unknown)
 * over TLS (tls = 1) or plain HTTP.
 *
 * The forwarding headers (xff, xfp: NULL when absent) are used only when
 * the peer is inside trusted[0..ntrusted). X-Forwarded-For is walked
 * from the right (each proxy appends the address it saw): every
 * address inside trusted is skipped, the first one outside is the
 * client; a malformed item stops the walk (the last good address
 * stands). At most WEB_XFF_HOPS_MAX items and the last WEB_XFF_MAX
 * bytes are looked at. X-Forwarded-Proto: the last item, "https" or
 * "http" (any case), replaces the peer's scheme; anything else is
 * ignored. Items may be "a.b.c.d", "a.b.c.d:port", an IPv6 address,
 * "[v6]" or "[v6]:port"; IPv4-mapped IPv6 addresses come out as IPv4.
 */
void web_client_resolve(const struct sockaddr *peer,
    const struct cidr *trusted, size_t ntrusted, const char *xff,
    const char *xfp, int tls, struct web_client *out);

#endif
