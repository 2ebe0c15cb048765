/*
 * queue_db.h - the durable queue: one row per message, one per recipient.
 * Library module: never logs.
 */
#ifndef SEALGATE_QUEUE_DB_H
#define SEALGATE_QUEUE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define QUEUE_ID_LEN 16		/* see gateway/lib/queue_id.h */

struct queue_msg {
	const char *id;			/* queue id (queue_id_new()) */
	const char *mail_from;		/* "" for the null reverse-path */
	const char *const *rcpts;	/* nrcpt recipient addresses */
	size_t nrcpt;
	const char *data;		/* the message as queued (with our
					 * Received: header), CRLF lines */
	size_t len;
	const char *mail_params;	/* MAIL FROM parameters as sent, or "" */
	const char *body_type;		/* "7BIT" / "8BITMIME" */
	int requiretls;			/* REQUIRETLS given on MAIL (RFC 8689) */
	const char *client_addr;	/* numeric IP */
	const char *client_helo;	/* EHLO/HELO argument */
	const char *auth_user;		/* NULL if not authenticated */
	const char *tls_protocol;	/* NULL if plaintext, e.g. "TLSv1.3" */
	const char *tls_cipher;		/* e.g. "TLS_AES_256_GCM_SHA384" */
	int tls_bits;			/* cipher strength */
};

/*
 * queue_db_insert - insert message and recipient rows (state 'queued') in
 * ONE transaction and commit; NOTIFY sealgate_queue. 0 committed; -1 hard
 * error; -2 transient (connection lost: the caller answers 451 4.3.0).
 * Retries the whole transaction once after a reconnect.
 */
int queue_db_insert(struct db *db, const struct queue_msg *m, char **err_out);

/* The channel queue_db_insert() notifies; the payload is the queue id. */
#define QUEUE_DB_NOTIFY_CHANNEL "sealgate_queue"

/*
 * Reading the queue (CLI, console). Timestamps are ISO 8601 UTC strings
 * ("2024-05-01T12:00:00Z"). Strings are owned by the struct; NULL where
 * the column is NULL. Free with queue_db_info_free().
 */
enum queue_rcpt_state {
	QUEUE_RCPT_QUEUED = 0,
	QUEUE_RCPT_DEFERRED,
	QUEUE_RCPT_DELIVERED,
	QUEUE_RCPT_ESCROWED,
	QUEUE_RCPT_BOUNCED,
	QUEUE_RCPT_NSTATES
};

/* "queued", ... (the strings stored in recipients.state) */
const char *queue_rcpt_state_name(enum queue_rcpt_state s);

struct queue_rcpt_info {
	char *rcpt;
	char *state;			/* recipients.state as stored */
	int attempts;
	char *next_attempt_at;
	char *last_reply;		/* NULL until an attempt was made */
	char *updated_at;
};

struct queue_msg_info {
	char *id;
	char *received_at;
	char *mail_from;
	char *mail_params;
	char *body_type;
	int requiretls;
	uint64_t size;
	char *client_addr;
	char *client_helo;
	char *auth_user;
	char *tls_protocol;		/* NULL: inbound hop was plaintext */
	char *tls_cipher;
	int tls_bits;			/* 0 when NULL */
	size_t nrcpt;			/* recipients, whatever their state */
	size_t state_count[QUEUE_RCPT_NSTATES];
	struct queue_rcpt_info *rcpts;	/* queue_db_show() only, nrcpt of
					 * them in insertion order */
};

struct queue_list_opts {
	size_t limit;			/* 0: QUEUE_DB_LIST_DEFAULT */
	int pending_only;		/* only messages with a recipient still
					 * queued or deferred */
};
#define QUEUE_DB_LIST_DEFAULT	100
#define QUEUE_DB_LIST_MAX	100000

/*
 * queue_db_list - newest messages first, without recipients' details
 * (nrcpt and state_count are filled). *list_out: new array of *n_out
 * (free with queue_db_list_free()). 0 / -1 / -2.
 */
int queue_db_list(struct db *db, const struct queue_list_opts *opts,
    struct queue_msg_info **list_out, size_t *n_out, char **err_out);
void queue_db_list_free(struct queue_msg_info **listp, size_t n);

/*
 * queue_db_show - one message with its recipients. 1 found (*info_out:
 * free with queue_db_info_free()), 0 no such id, -1 / -2.
 */
int queue_db_show(struct db *db, const char *id,
    struct queue_msg_info **info_out, char **err_out);
void queue_db_info_free(struct queue_msg_info **infop);

/*
 * queue_db_data - the exact stored message bytes. 1 found (*data_out,
 * *len_out; xfree(), NUL-terminated for convenience), 0 no such id,
 * -1 / -2.
 */
int queue_db_data(struct db *db, const char *id, char **data_out,
    size_t *len_out, char **err_out);

#endif
