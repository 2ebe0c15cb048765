/*
 * escrow_db.h - the escrow store's tables (db/migrations/0008_escrow.sql):
 * users, sealed messages, link tokens, audit, and the queue rows of the
 * mail the escrow side sends (notifications, portal mail).
 *
 * Two kinds of functions:
 *  - "step" functions run ONE statement on the caller's connection and
 *    never begin or commit: the caller wraps several in db_begin() /
 *    db_commit() (escrow_deposit() does, so a deposit is all or nothing);
 *  - the others (list, recall, purge, audit listing, queue_mail) are
 *    complete units of work of their own.
 * Every function returns 0 (or the count / state documented) on success,
 * -1 for a hard error and -2 for a transient one (lost connection,
 * serialization failure: retry the whole unit), with *err_out set (new
 * string, xfree()). Timestamps handed out are ISO 8601 UTC strings
 * ("2024-05-01T12:00:00Z").
 * Library module: never logs.
 */
#ifndef SEALGATE_ESCROW_DB_H
#define SEALGATE_ESCROW_DB_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* ---------------------------------------------------------------- steps */

/*
 * escrow_db_exists - is there an escrowed copy of (queue_id,
 * recipient_id)? 1 yes, 0 no, -1 / -2.
 */
int escrow_db_exists(struct db *db, const char *queue_id,
    int64_t recipient_id, char **err_out);

/*
 * escrow_db_user_ensure - the account for address (already normalized:
 * domain lower case), created if missing. *id_out its id, *enrolled_out
 * 1 when a password is set. 0 / -1 / -2.
 */
int escrow_db_user_ensure(struct db *db, const char *address,
    int64_t *id_out, int *enrolled_out, char **err_out);

struct escrow_db_msg {
	const char *id;			/* token_new() */
	const char *queue_id;		/* messages.id of the original */
	int64_t recipient_id;		/* recipients.id */
	int64_t user_id;
	const char *sender;		/* envelope sender, "" for <> */
	const unsigned char *sealed;	/* seal() blob */
	size_t sealed_len;
	const char *master_id;		/* seal_master_id() */
	size_t size;			/* plaintext bytes */
	long long expires_at;		/* unix time */
	const char *recall_hash;	/* token_hash() of the sender's recall
					 * link, or NULL (no receipt) */
};

/*
 * escrow_db_msg_insert - the escrow_messages row. 1 inserted, 0 a row
 * for (queue_id, recipient_id) exists already (nothing written), -1 / -2.
 */
int escrow_db_msg_insert(struct db *db, const struct escrow_db_msg *m,
    char **err_out);

/*
 * escrow_db_token_insert - a link token row: hash (token_hash()), kind
 * "enroll" or "reset", the message it was made for (may be NULL),
 * expiry as unix time. 0 / -1 / -2.
 */
int escrow_db_token_insert(struct db *db, const char *hash, const char *kind,
    int64_t user_id, const char *escrow_id, long long expires_at,
    char **err_out);

/*
 * escrow_db_audit - one escrow_audit row. escrow_id, client_addr may be
 * NULL; user_id <= 0 is stored as NULL; detail NULL is "". 0 / -1 / -2.
 */
int escrow_db_audit(struct db *db, const char *escrow_id, int64_t user_id,
    const char *action, const char *client_addr, const char *detail,
    char **err_out);

struct escrow_db_mail {
	const char *id;			/* queue_id_new() */
	const char *mail_from;		/* envelope sender, "" for <> */
	const char *rcpt;		/* the one recipient */
	const char *data;		/* the message, CRLF lines */
	size_t len;
	int tls_required;		/* messages.tls_required */
	int escrow_notice;		/* messages.escrow_notice */
	const char *client_helo;	/* shown by `queue show`; may be NULL */
};

/*
 * escrow_db_queue_insert - a message and its one recipient into the
 * queue (state 'queued'), and NOTIFY sealgate_queue (heard at COMMIT),
 * as queue_db_insert() does, but inside the caller's transaction.
 * 0 / -1 / -2.
 */
int escrow_db_queue_insert(struct db *db, const struct escrow_db_mail *m,
    char **err_out);

/* ----------------------------------------------------- units of work */

/*
 * escrow_db_queue_mail - escrow_db_queue_insert() in a transaction of its
 * own. After a connection lost during COMMIT it looks whether the message
 * made it before trying once more, so it is never queued twice.
 * 0 / -1 / -2.
 */
int escrow_db_queue_mail(struct db *db, const struct escrow_db_mail *m,
    char **err_out);

struct escrow_db_row {
	char *id;
	char *recipient;		/* escrow_users.address */
	char *sender;
	int64_t size;
	char *created_at;
	char *expires_at;
	char *first_read_at;		/* NULL: unread */
	char *recalled_at;		/* NULL: not recalled */
	char *purged_at;		/* NULL: content still there */
	int expired;			/* expires_at has passed */
};

#define ESCROW_DB_LIST_DEFAULT	100
#define ESCROW_DB_LIST_MAX	100000

/*
 * escrow_db_list - escrowed messages, newest first, at most limit (0:
 * ESCROW_DB_LIST_DEFAULT). *rows_out: new array of *n_out, free with
 * escrow_db_rows_free(). 0 / -1 / -2.
 */
int escrow_db_list(struct db *db, size_t limit, struct escrow_db_row **rows_out,
    size_t *n_out, char **err_out);
void escrow_db_rows_free(struct escrow_db_row **rowsp, size_t n);

enum escrow_recall_result {
	ESCROW_RECALLED = 0,		/* done: content wiped, audited */
	ESCROW_RECALL_NOT_FOUND,
	ESCROW_RECALL_READ,		/* the recipient has read it */
	ESCROW_RECALL_ALREADY,		/* recalled before */
	ESCROW_RECALL_PURGED,		/* expired and purged */
};

/*
 * escrow_db_recall - recall an unread message: recalled_at set, sealed
 * emptied, audit "recall" (detail), in one transaction; the check and
 * the update are one statement, so a read that commits first wins.
 * Returns an enum escrow_recall_result (>= 0) or -1 / -2.
 */
int escrow_db_recall(struct db *db, const char *id, const char *detail,
    char **err_out);

/*
 * escrow_db_purge_expired - every message past expires_at and not purged
 * yet: sealed emptied, purged_at set, one audit "purge" row each; one
 * statement. *n_out: how many. 0 / -1 / -2.
 */
int escrow_db_purge_expired(struct db *db, long *n_out, char **err_out);

struct escrow_db_audit_row {
	int64_t id;
	char *at;
	char *action;
	char *user;			/* escrow_users.address, or NULL */
	char *client_addr;		/* NULL when not from the web */
	char *detail;
};

/*
 * escrow_db_audit_list - the audit trail of one escrowed message, oldest
 * first. 1 the message exists (*rows_out, *n_out: free with
 * escrow_db_audit_rows_free()), 0 no such message and no audit rows,
 * -1 / -2.
 */
int escrow_db_audit_list(struct db *db, const char *escrow_id,
    struct escrow_db_audit_row **rows_out, size_t *n_out, char **err_out);
void escrow_db_audit_rows_free(struct escrow_db_audit_row **rowsp, size_t n);

#endif
