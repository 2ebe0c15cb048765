/*
 * supervisor.h - `sealgate serve`: bind sockets, migrate, start one
 * process per role, restart crashed roles with back-off, stop cleanly.
 */
#ifndef SEALGATE_SUPERVISOR_H
#define SEALGATE_SUPERVISOR_H

#include "config.h"

int supervisor_serve(const struct sg_config *cfg);

#endif
