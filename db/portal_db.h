/*
 * portal_db.h - every statement of the web role (escrow portal):
 * accounts, throttling, sessions, link tokens, the inbox, message
 * rows and the audit trail. Schema: migrations/0008_escrow.sql.
 *
 * Parameterized SQL only; tokens arrive here already hashed
 * (token_hash), passwords already hashed (passwd_hash): this module
 * never sees a secret. Timestamps for display come as
 * "YYYY-MM-DD HH:MM UTC". Returns follow db.h: -1 error, -2 transient,
 * *err_out set (xfree()). Library module: never logs.
 */
#ifndef SEALGATE_PORTAL_DB_H
#define SEALGATE_PORTAL_DB_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct portal_user {
	int64_t id;
	char *address;
	char *password_hash;	/* NULL: not enrolled */
	int locked;		/* locked_until is in the future */
};
void portal_user_release(struct portal_user *u);

/* portal_db_user_get - the account of address (exact, as stored).
 * 1 found (*u filled), 0 none, -1, -2. */
int portal_db_user_get(struct db *db, const char *address,
    struct portal_user *u, char **err_out);

/* portal_db_throttle_locked - 1 if key (a client address, or
 * "acct:HASH" for an address without account) is locked out now, else
 * 0; -1, -2 */
int portal_db_throttle_locked(struct db *db, const char *key,
    char **err_out);

struct portal_limits {
	unsigned max_failures;	/* portal_max_failures */
	unsigned window;	/* seconds failures are counted within */
	unsigned lockout;	/* portal_lockout, seconds */
};

/*
 * portal_db_login_failed - one failed login, in one transaction: the
 * client address's count (escrow_throttle), the account's
 * (escrow_users.failed_logins, when user_id > 0) or else acct_key's
 * (escrow_throttle), each locking for lim->lockout on reaching
 * lim->max_failures within lim->window; audit login_failed.
 * 0 ok, -1, -2.
 */
int portal_db_login_failed(struct db *db, int64_t user_id,
    const char *client_addr, const char *acct_key,
    const struct portal_limits *lim, char **err_out);

struct portal_session {
	int64_t user_id;
	char *address;
	char *csrf;
};
void portal_session_release(struct portal_session *s);

/* portal_db_session_get - the live session with this hash; its idle
 * expiry moves to now + ttl. 1 found, 0 none or expired, -1, -2. */
int portal_db_session_get(struct db *db, const char *hash, unsigned ttl,
    struct portal_session *s, char **err_out);

/* portal_db_logout - delete the session, audit logout. 1 there was
 * one, 0 not, -1, -2. */
int portal_db_logout(struct db *db, const char *hash,
    const char *client_addr, char **err_out);

/*
 * portal_db_login - a successful login, in one transaction: the old
 * session (old_hash, may be NULL) deleted, a new one (new_hash, csrf,
 * expiring now + ttl) made, the account's failures reset, audit
 * login. 0, -1, -2.
 */
int portal_db_login(struct db *db, int64_t user_id, const char *old_hash,
    const char *new_hash, const char *csrf, unsigned ttl,
    const char *client_addr, char **err_out);

struct portal_token {
	int64_t user_id;
	char *address;
	char *escrow_id;	/* the message the link was for, or NULL */
};
void portal_token_release(struct portal_token *t);

/* portal_db_token_peek - is hash an unused, unexpired token of kind
 * ("enroll", "reset")? An enroll token of an account already enrolled
 * is not. 1 yes (*t filled), 0 no, -1, -2. Changes nothing. */
int portal_db_token_peek(struct db *db, const char *hash, const char *kind,
    struct portal_token *t, char **err_out);

/* portal_db_token_escrow - the message a token of kind was for,
 * whatever its state (to send a used enroll link's owner to log in).
 * 1 found (*escrow_id_out: xfree()), 0 no, -1, -2. */
int portal_db_token_escrow(struct db *db, const char *hash,
    const char *kind, char **escrow_id_out, char **err_out);

/*
 * portal_db_token_redeem - use a link token, in one transaction: claim
 * it (single use: a second redeem finds nothing), set the password
 * hash (and enrolled_at the first time), unlock the account, mark every
 * other token of that kind of the user used, delete all the user's
 * sessions, start a new one (sess_hash, csrf, ttl), audit the action
 * ("enroll" or "reset"). 1 done (*t filled), 0 token not usable,
 * -1, -2.
 */
int portal_db_token_redeem(struct db *db, const char *hash,
    const char *kind, const char *pw_hash, const char *sess_hash,
    const char *csrf, unsigned ttl, const char *client_addr,
    struct portal_token *t, char **err_out);

/* portal_db_reset_token_new - a reset token (hash) for user_id valid
 * ttl seconds, unless per_hour were already made in the last hour;
 * audit reset_request either way. 1 made, 0 over the limit, -1, -2. */
int portal_db_reset_token_new(struct db *db, int64_t user_id,
    const char *hash, unsigned ttl, unsigned per_hour,
    const char *client_addr, char **err_out);

struct portal_msg {
	char *id;
	char *queue_id;		/* escrow_messages.message_id */
	char *sender;		/* envelope sender */
	char *received;		/* created_at */
	char *expires;		/* expires_at */
	int unread;		/* first_read_at IS NULL */
	int read_notice;
	size_t size;
};
void portal_msg_release(struct portal_msg *m);
void portal_msgs_free(struct portal_msg **msgs, size_t n);

/* portal_db_inbox - the user's readable messages (not recalled,
 * purged or expired), newest first. 0 (*msgs_out: portal_msgs_free()),
 * -1, -2. */
int portal_db_inbox(struct db *db, int64_t user_id, size_t max,
    struct portal_msg **msgs_out, size_t *n_out, char **err_out);

/*
 * portal_db_message - one readable message of the user with its sealed
 * blob (*sealed_out, *len_out: xfree()), marked read: the check, the
 * read of the blob and setting first_read_at (if unset) are ONE
 * statement holding the row lock, so a recall (portal_db_recall,
 * escrow_db_recall) either commits first (then this finds nothing) or
 * finds the message read. *first_out: 1 this was the first read.
 * 1 found, 0 not (also: another user's, recalled, purged, expired),
 * -1, -2.
 */
int portal_db_message(struct db *db, const char *id, int64_t user_id,
    struct portal_msg *m, unsigned char **sealed_out, size_t *len_out,
    int *first_out, char **err_out);

/* portal_db_sealed - the sealed blob alone (inbox summaries), same
 * conditions. 1, 0, -1, -2. */
int portal_db_sealed(struct db *db, const char *id, int64_t user_id,
    unsigned char **sealed_out, size_t *len_out, char **err_out);

/* portal_db_read_notice_sent - remember that the notice went out */
int portal_db_read_notice_sent(struct db *db, const char *id,
    char **err_out);

/* --- the sender's recall link (escrow_messages.recall_hash) --- */

enum portal_recall_state {
	PORTAL_RECALL_UNREAD = 1,	/* can be withdrawn */
	PORTAL_RECALL_READ,		/* the recipient has opened it */
	PORTAL_RECALL_WITHDRAWN,	/* recalled (by the sender or admin) */
	PORTAL_RECALL_EXPIRED,		/* past expires_at, not purged yet */
};

struct portal_recall {
	char *id;			/* escrow_messages.id */
	char *sender;			/* envelope sender */
	char *recipient;		/* escrow_users.address */
	char *expires;			/* expires_at */
	enum portal_recall_state state;
};
void portal_recall_release(struct portal_recall *rc);

/*
 * portal_db_recall_peek - the message whose recall_hash is hash, while
 * it is not purged, with its sealed blob (*sealed_out, *len_out:
 * xfree(); empty once withdrawn). Changes nothing. 1 found (*rc
 * filled), 0 no such link (or purged), -1, -2.
 */
int portal_db_recall_peek(struct db *db, const char *hash,
    struct portal_recall *rc, unsigned char **sealed_out, size_t *len_out,
    char **err_out);

/*
 * portal_db_recall - withdraw the message whose recall_hash is hash:
 * ONE statement checks that it is unread, not recalled, not purged and
 * not expired, sets recalled_at, empties sealed and writes audit
 * "recall" (client_addr, detail "sender"). A read that commits first
 * wins (see portal_db_message). 1 withdrawn now (*id_out: the escrow
 * id, xfree()), 0 not (portal_db_recall_peek says why), -1, -2.
 */
int portal_db_recall(struct db *db, const char *hash,
    const char *client_addr, char **id_out, char **err_out);

/* portal_db_audit - one audit row; escrow_id, client_addr may be NULL,
 * user_id 0 for none. 0, -1, -2. */
int portal_db_audit(struct db *db, const char *escrow_id, int64_t user_id,
    const char *action, const char *client_addr, const char *detail,
    char **err_out);

/* portal_db_cleanup - drop expired sessions, link tokens expired for a
 * week, and throttle rows that count nothing any more. 0, -1, -2. */
int portal_db_cleanup(struct db *db, unsigned window, long *sessions_out,
    char **err_out);

#endif
