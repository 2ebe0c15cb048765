/*
 * web.h - the web role: the escrow portal over HTTPS (libmicrohttpd with
 * GnuTLS, a thread pool on epoll), optionally plain HTTP on loopback
 * behind a TLS-terminating proxy. docs/portal.md is its contract.
 */
#ifndef SEALGATE_WEB_H
#define SEALGATE_WEB_H

#include <stddef.h>

#include "config.h"

/*
 * web_main - run the role until SIGTERM/SIGINT; returns the exit status.
 * It binds its own sockets (portal_listen, portal_http_listen), reads
 * the certificate, key, templates and master key, then drops root
 * (privdrop); it refuses to start (fatal) without a usable master key,
 * certificate or database. fds (the SMTP listeners the supervisor
 * bound for ingress) are not used and are closed here.
 */
int web_main(const struct sg_config *cfg, const int *fds, size_t nfds);

#endif
