/*
 * delivery.h - the delivery role: the queue runner. Worker threads claim
 * due recipients (grouped per message and domain), route them (static
 * route, smart host or MX), deliver with the TLS level decide() gives,
 * record every attempt, defer with back-off, and bounce with a DSN.
 * LISTEN sealgate_queue wakes it; no busy polling.
 */
#ifndef SEALGATE_DELIVERY_H
#define SEALGATE_DELIVERY_H

#include <stddef.h>

#include "config.h"

int delivery_main(const struct sg_config *cfg, const int *fds, size_t nfds);

/* Pure helpers (tests): retry delay for the n-th attempt (1-based). */
unsigned delivery_retry_delay(unsigned min, unsigned max, int attempt);
/* The static route for domain, or NULL: items "domain=nexthop",
 * ".domain=nexthop" for subdomains. Returns a pointer into the item. */
const char *delivery_route_lookup(const char *const *routes, size_t n,
    const char *domain);

#endif
