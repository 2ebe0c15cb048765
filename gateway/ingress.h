/*
 * ingress.h - the ingress role: SMTP server event loop (epoll), STARTTLS
 * with OpenSSL, and a small pool of database threads that commit messages
 * and check AUTH passwords so the loop never blocks on them.
 */
#ifndef SEALGATE_INGRESS_H
#define SEALGATE_INGRESS_H

#include <stddef.h>

#include "config.h"

/* Run the role on already-bound listening sockets; returns exit status. */
int ingress_main(const struct sg_config *cfg, const int *fds, size_t nfds);

#endif
