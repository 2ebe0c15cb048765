/*
 * tls_rpt_send.h - sending one day's TLS-RPT report (RFC 8460 5): look
 * up the policy domain's _smtp._tls TXT record, build the JSON report
 * from the stored counts, gzip it, and deliver it to every rua URI:
 * mailto: as a multipart/report message through our own queue
 * (queue_db_insert; delivery sends it like any mail), https: as a POST
 * of application/tlsrpt+gzip with libcurl. Claimed once across nodes.
 * Library module: never logs; the outcome says what happened.
 */
#ifndef SEALGATE_TLS_RPT_SEND_H
#define SEALGATE_TLS_RPT_SEND_H

#include <stddef.h>

struct sg_config;
struct db;
struct dns_resolver;

#define TLS_RPT_MAX_DAYS 7	/* unsent days older than this are dropped */

struct tls_rpt_sender {
	const struct sg_config *cfg;	/* hostname, tls_rpt_*, CA file */
	struct db *db;
	struct dns_resolver *dns;
};

struct tls_rpt_outcome {
	const char *status;		/* "sent", "partial", "failed",
					 * "no-rua", "retry" (DNS failed:
					 * claim given back), "taken"
					 * (another node has it) */
	char report_id[300];
	size_t nrua, nok;		/* URIs tried, delivered */
	long long success, failure;	/* the day's session counts */
	char detail[1024];		/* per URI: "uri: ok|reason" */
};

/*
 * tls_rpt_send_day - the report of DOMAIN for DAY ("YYYY-MM-DD", UTC).
 * 0 with *out filled (whatever the status), -1 / -2 on a database error
 * (*err_out).
 */
int tls_rpt_send_day(const struct tls_rpt_sender *s, const char *domain,
    const char *day, struct tls_rpt_outcome *out, char **err_out);

/* tls_rpt_day_start - "YYYY-MM-DD" as the unix time of its 00:00:00Z;
 * -1 when it is not a date. Pure. */
long long tls_rpt_day_start(const char *day);

#endif
