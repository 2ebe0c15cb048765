/*
 * tls_rpt_db.h - TLS-RPT (RFC 8460) storage: per policy domain and UTC
 * day, how many TLS sessions succeeded and how many failed, by result
 * type (table tls_rpt_counts), and which daily reports were sent
 * (tls_rpt_reports, claimed once across nodes).
 * Library module: never logs. 0 / -1 / -2 (transient) like db.h unless
 * said otherwise.
 */
#ifndef SEALGATE_TLS_RPT_DB_H
#define SEALGATE_TLS_RPT_DB_H

#include <stddef.h>

#include "db.h"
#include "tls_rpt.h"

/* One session's outcome, as delivery sees it (RFC 8460 4.3 terms). */
struct tls_rpt_event {
	const char *policy_domain;	/* the recipient domain, lower case */
	enum tls_rpt_policy policy_type;	/* sts, tlsa, no-policy-found */
	const char *policy_string;	/* the policy's lines, LF-separated
					 * (sts: the policy text; tlsa: the
					 * TLSA records); NULL none */
	const char *mx_patterns;	/* sts: the "mx" patterns, LF-
					 * separated; NULL none */
	enum tls_rpt_result result;	/* TLS_RPT_SUCCESS for a session that
					 * met the policy */
	const char *mx_host;		/* receiving-mx-hostname; NULL none */
	const char *receiving_ip;	/* NULL none */
	const char *sending_ip;		/* NULL none */
	const char *failure_code;	/* failure-reason-code; NULL none */
	long long when;			/* unix time; 0: now (the UTC day of
					 * it is the report day) */
};

/*
 * tls_rpt_record - count one session: +1 on the row of its day, policy,
 * result and hosts (one upsert, no transaction needed). Cheap enough to
 * call after every delivery attempt that tried TLS.
 */
int tls_rpt_record(struct db *db, const struct tls_rpt_event *ev,
    char **err_out);

/* A (policy domain, day) with counts and no report yet. */
struct tls_rpt_day {
	char *domain;
	char day[11];			/* "YYYY-MM-DD" */
};

/* tls_rpt_db_pending - days before today (UTC), at most max_days back,
 * with counts and no report row. *out: new array (tls_rpt_days_free()). */
int tls_rpt_db_pending(struct db *db, unsigned max_days,
    struct tls_rpt_day **out, size_t *n_out, char **err_out);
void tls_rpt_days_free(struct tls_rpt_day **dp, size_t n);

/*
 * tls_rpt_db_claim - take the (domain, day) report with report_id: 1
 * claimed (also a claim that another node left in "sending" for over an
 * hour), 0 someone else has it, -1 / -2.
 */
int tls_rpt_db_claim(struct db *db, const char *domain, const char *day,
    const char *report_id, char **err_out);
/* tls_rpt_db_release - give a claim back (retry later: DNS failed) */
int tls_rpt_db_release(struct db *db, const char *domain, const char *day,
    char **err_out);
/* tls_rpt_db_finish - status: "sent", "partial", "failed", "no-rua" */
int tls_rpt_db_finish(struct db *db, const char *domain, const char *day,
    const char *status, const char *rua, const char *detail,
    char **err_out);

/* The day's counts as report policies (tls_rpt.h), grouped by policy. */
struct tls_rpt_loaded {
	struct tls_rpt_policy_report *pol;
	size_t npol;
	struct tls_rpt_failure *fail;	/* all policies' details */
	size_t nfail;
	long long success, failure;	/* totals */
	void *res;			/* the strings live here */
};

/* tls_rpt_db_load - *out (tls_rpt_loaded_free()); npol 0: no counts */
int tls_rpt_db_load(struct db *db, const char *domain, const char *day,
    struct tls_rpt_loaded *out, char **err_out);
void tls_rpt_loaded_free(struct tls_rpt_loaded *l);

#endif
