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

#endif
