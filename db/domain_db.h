/*
 * domain_db.h - the domain TLS status cache and its history
 * (db/migrations/0004_domain_status.sql): store a probe's result, read a
 * domain's status (delivery), find the domains due for a probe, and ask
 * the prober role for one (NOTIFY).
 *
 * Domains are passed lower case without a trailing dot. Several prober
 * nodes may share the database: a domain is claimed with a lease before
 * it is probed. Library module: never logs. Returns 0 / -1 / -2
 * (transient) like db.h unless said otherwise; err_out may be NULL.
 */
#ifndef SEALGATE_DOMAIN_DB_H
#define SEALGATE_DOMAIN_DB_H

#include <stddef.h>

#include "db.h"

/* LISTEN/NOTIFY channel of the prober role; the payload is a domain. */
#define DOMAIN_DB_NOTIFY_CHANNEL "sealgate_probe"

/* One domain's row. Strings owned (NULL where the column is NULL). */
struct domain_status {
	char *domain;
	long long probed_at;		/* unix time; 0: never probed */
	long long next_probe_at;
	long long last_seen_at;		/* 0: never */
	int tls_capable;		/* -1 unknown (never conclusive), 0, 1 */
	char *verify_mode;		/* "dane", "mta-sts", "pkix", "none" */
	int mx_count;			/* -1 unknown */
	char *min_protocol;		/* "TLSv1.2" */
	int min_cipher_bits;		/* -1 unknown */
	char *mta_sts_mode;		/* "enforce", "testing", "none" */
	char *mta_sts_id;
	int dane;			/* -1 unknown, 0, 1 */
	char *facts;			/* JSON array, probe_mx_json() */
	char *error;			/* last probe's problem */
};

/*
 * domain_db_get - the status of domain. 1 found (*out filled; release
 * with domain_status_release()), 0 no row, -1 / -2. A found row may
 * still be unprobed (probed_at 0): ask for a probe then.
 */
int domain_db_get(struct db *db, const char *domain,
    struct domain_status *out, char **err_out);
void domain_status_release(struct domain_status *s);

/* What one probe found (probe.h's result, flattened). */
struct domain_db_update {
	const char *domain;
	int conclusive;			/* 0: keep the old verdict, store
					 * only facts, error, probed_at */
	int tls_capable;		/* 0 / 1 */
	const char *verify_mode;
	int mx_count;
	const char *min_protocol;	/* NULL: no TLS session */
	int min_cipher_bits;		/* 0: none */
	const char *mta_sts_mode;	/* NULL: no policy */
	const char *mta_sts_id;
	int dane;			/* -1: not checked */
	const char *facts;		/* JSON text */
	const char *error;		/* NULL: none */
	unsigned next_probe_secs;	/* next probe after this */
};

/* The verdict before and after a store. */
struct domain_db_change {
	int changed;			/* a history row was written */
	int first;			/* the domain had no verdict before */
	int old_tls_capable;		/* -1 unknown */
	char old_verify_mode[16];	/* "" unknown */
	char old_mta_sts_mode[16];	/* "" none */
	int old_dane;			/* -1 unknown */
};

/*
 * domain_db_store - upsert the result in ONE transaction: the status row
 * (probed_at now, next_probe_at now + next_probe_secs, lease freed) and,
 * when tls_capable, verify_mode, mta_sts_mode or dane differ from the
 * stored verdict (or there was none), a domain_tls_history row with the
 * old and new values. An inconclusive result changes no verdict and
 * writes no history. *chg (may be NULL) tells what changed.
 */
int domain_db_store(struct db *db, const struct domain_db_update *u,
    struct domain_db_change *chg, char **err_out);

/* domain_db_mark_seen - last_seen_at = now(), creating the row (due at
 * once) if the domain is new. */
int domain_db_mark_seen(struct db *db, const char *domain, char **err_out);

/*
 * domain_db_request_probe - what delivery calls for a domain without a
 * status: mark it seen and NOTIFY sealgate_probe with the domain; the
 * prober probes it at once if it was never probed (or force: make it due
 * now, e.g. the console's "probe again").
 */
int domain_db_request_probe(struct db *db, const char *domain, int force,
    char **err_out);

/*
 * domain_db_sync_seen - create/refresh rows for every recipient domain
 * of mail queued in the last since_secs seconds (recipients.domain),
 * last_seen_at = the newest such message. *n_out: domains touched.
 */
int domain_db_sync_seen(struct db *db, unsigned since_secs, long *n_out,
    char **err_out);

/*
 * domain_db_claim_due - lease up to max domains whose next_probe_at has
 * come and that were seen in the last seen_days days (never-probed ones
 * first), for lease_secs. *domains_out: new array of *n_out new strings
 * (domain_db_list_free()).
 */
int domain_db_claim_due(struct db *db, unsigned seen_days,
    unsigned lease_secs, size_t max, char ***domains_out, size_t *n_out,
    char **err_out);
void domain_db_list_free(char ***listp, size_t n);

/*
 * domain_db_claim - lease one domain (a NOTIFY) if it was never probed or
 * is due, and no other prober holds it. 1 claimed, 0 not, -1 / -2.
 */
int domain_db_claim(struct db *db, const char *domain, unsigned lease_secs,
    char **err_out);

/* One history row, oldest first; strings owned, NULL for SQL NULL. */
struct domain_history {
	char *at;			/* ISO 8601 UTC */
	int old_tls_capable, new_tls_capable;	/* -1 NULL */
	char *old_verify_mode, *new_verify_mode;
	char *old_mta_sts_mode, *new_mta_sts_mode;
	int old_dane, new_dane;			/* -1 NULL */
};

/* domain_db_history - the newest limit rows of domain, oldest first.
 * *out: new array of *n_out (domain_db_history_free()). */
int domain_db_history(struct db *db, const char *domain, size_t limit,
    struct domain_history **out, size_t *n_out, char **err_out);
void domain_db_history_free(struct domain_history **hp, size_t n);

#endif
