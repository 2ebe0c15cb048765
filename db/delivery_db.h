/*
 * delivery_db.h - the delivery side of the queue: claiming due recipients
 * with SELECT ... FOR UPDATE SKIP LOCKED and a lease, recording outcomes
 * and the per-attempt audit.
 *
 * A claim takes every due recipient of ONE message for ONE domain, so one
 * SMTP transaction carries them. The lease (lease_owner, lease_until)
 * keeps other workers and nodes off; when a node dies its claims fall out
 * at lease_until; a restarting node frees its own at once
 * (delivery_db_release_node). Library module: never logs.
 */
#ifndef SEALGATE_DELIVERY_DB_H
#define SEALGATE_DELIVERY_DB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db.h"

struct delivery_rcpt {
	int64_t id;
	char *rcpt;
	int attempts;			/* including this one */
};

struct delivery_batch {
	char *message_id;
	char *domain;
	char *mail_from;
	int requiretls;
	int tls_required;		/* messages.tls_required: plan "tls" */
	int escrow_notice;		/* messages.escrow_notice: plain */
	int body_8bit;
	long long received_at;		/* unix time */
	char *data;			/* the message bytes */
	size_t len;
	struct delivery_rcpt *rcpts;
	size_t nrcpt;
};

/*
 * delivery_db_claim - claim the next due batch for owner ("node:pid:n"),
 * skipping domains in busy[0..nbusy) (per-destination limit); prefer
 * domain `prefer` (connection reuse) when not NULL. 1 claimed (*out
 * filled; free with delivery_batch_free()), 0 nothing due, -1/-2 error.
 */
int delivery_db_claim(struct db *db, const char *owner, unsigned lease_secs,
    const char *const *busy, size_t nbusy, const char *prefer,
    struct delivery_batch *out, char **err_out);
void delivery_batch_free(struct delivery_batch *b);

enum delivery_outcome { DELIVERY_DELIVERED, DELIVERY_DEFERRED,
    DELIVERY_BOUNCED, DELIVERY_ESCROWED };

const char *delivery_outcome_name(enum delivery_outcome o);

/* One audit row (DESIGN.md step 5). Strings may be NULL. */
struct delivery_attempt {
	const char *message_id;
	int64_t recipient_id;
	const char *rcpt;
	const char *method;
	const char *tls_level;
	const char *reason;
	const char *mx_host;
	const char *mx_addr;
	const char *tls_protocol;
	const char *tls_cipher;
	int tls_bits;
	const char *tls_verified;
	enum delivery_outcome outcome;
	const char *reply;
	unsigned duration_ms;
	long long rule_id;		/* the deciding rule, 0: none */
};

/*
 * delivery_db_finish - record the attempt and the recipient's new state
 * in one transaction: delivered/bounced end the recipient; deferred sets
 * next_attempt_at = now() + retry_secs. Only while owner holds the lease
 * (a lost lease is -1 "lease lost": someone else has it now).
 */
int delivery_db_finish(struct db *db, const char *owner,
    const struct delivery_attempt *a, unsigned retry_secs, char **err_out);

/* Free every lease held by owners starting with prefix (a restarted
 * node's dead claims). *freed_out: rows released. 0 / -1 / -2. */
int delivery_db_release_node(struct db *db, const char *prefix,
    long *freed_out, char **err_out);

/* Seconds until the next recipient is due (0 if one is due now, -1 if
 * none is waiting). 0 / -1 / -2 return. */
int delivery_db_next_due(struct db *db, double *secs_out, char **err_out);

#endif
