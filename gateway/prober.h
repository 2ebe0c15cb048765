/*
 * prober.h - the prober role: keeps every recipient domain's TLS status
 * (probe.h) fresh and sends the daily TLS-RPT reports.
 *
 *  - every probe_interval for each domain mail went to in the last
 *    probe_seen_days days (recipients.domain, synced into
 *    domain_tls_status);
 *  - at once for a domain never probed: delivery calls
 *    domain_db_request_probe(), which NOTIFYs sealgate_probe with the
 *    domain as payload (DOMAIN_DB_NOTIFY_CHANNEL);
 *  - probe_concurrency domains at a time (worker threads, each with its
 *    own database connection and resolver); a domain is leased before it
 *    is probed, so several nodes share the work;
 *  - one log line per probe (event=probe ...), and event=tls_lost (warn)
 *    when a domain goes from tls_capable to not;
 *  - once a day (and at start), yesterday's (and any unsent recent)
 *    TLS-RPT reports (tls_rpt_send.h), one line each (event=tls_rpt).
 */
#ifndef SEALGATE_PROBER_H
#define SEALGATE_PROBER_H

#include <stddef.h>

#include "config.h"

int prober_main(const struct sg_config *cfg, const int *fds, size_t nfds);

#endif
