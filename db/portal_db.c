/*
 * portal_db.c - the web role's SQL (escrow portal).
 *
 * Implements: portal_db.h over migrations/0008_escrow.sql.
 * Trust: every value is a parameter; addresses, ids and hashes come
 * from the web layer, which has checked their syntax, but nothing
 * here relies on that. Multi-statement changes run in one
 * transaction, so a crash never leaves a token used without its
 * password set, or a session without its audit row.
 * Library module: never logs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "portal_db.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD HH24:MI \"UTC\"')"
#define SECS(p) "(" p "::integer * interval '1 second')"

/* readable: what a recipient may see (docs/portal.md: else 404) */
#define READABLE "recalled_at IS NULL AND purged_at IS NULL AND " \
	"expires_at > now()"

static void
i64(char *out, size_t sz, int64_t v)
{
	snprintf(out, sz, "%" PRId64, v);
}

static char *
dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL :
	    xstrdup(PQgetvalue(res, row, col));
}

/* get_i64 - a non-negative integer column (ids, sizes); 0 if odd */
static int64_t
get_i64(const PGresult *res, int row, int col)
{
	uint64_t v = 0;

	if (num_parse_u64_str(PQgetvalue(res, row, col), 0, INT64_MAX,
	    &v) < 0)
		return 0;
	return (int64_t)v;
}

static int
is_true(const PGresult *res, int row, int col)
{
	return strcmp(PQgetvalue(res, row, col), "t") == 0;
}

void
portal_user_release(struct portal_user *u)
{
	xfree(u->address);
	xfree(u->password_hash);
	memset(u, 0, sizeof(*u));
}

int
portal_db_user_get(struct db *db, const char *address, struct portal_user *u,
    char **err_out)
{
	const char *p[1] = { address };
	PGresult *res = NULL;
	int r;

	memset(u, 0, sizeof(*u));
	r = db_run(db, "SELECT id, address, password_hash, "
	    "coalesce(locked_until > now(), false) FROM escrow_users "
	    "WHERE address = $1", 1, p, &res, err_out);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	u->id = get_i64(res, 0, 0);
	u->address = xstrdup(PQgetvalue(res, 0, 1));
	u->password_hash = dup_or_null(res, 0, 2);
	u->locked = is_true(res, 0, 3);
	PQclear(res);
	return 1;
}

int
portal_db_throttle_locked(struct db *db, const char *key, char **err_out)
{
	const char *p[1] = { key };
	PGresult *res = NULL;
	int r;

	r = db_run(db, "SELECT 1 FROM escrow_throttle WHERE client_addr = $1 "
	    "AND locked_until > now()", 1, p, &res, err_out);
	if (r < 0)
		return r;
	r = PQntuples(res) > 0;
	PQclear(res);
	return r;
}

/* throttle_fail - count one failure for key within the window; the
 * failure that reaches the maximum locks and starts the count afresh */
static int
throttle_fail(struct db *db, const char *key, const struct portal_limits *lim,
    char **err_out)
{
	char max[24], win[24], lock[24];
	const char *pc[2] = { key, win };
	const char *pl[3] = { key, max, lock };
	int r;

	snprintf(max, sizeof(max), "%u", lim->max_failures);
	snprintf(win, sizeof(win), "%u", lim->window);
	snprintf(lock, sizeof(lock), "%u", lim->lockout);
	/* a window that has run out starts again at this failure */
	r = db_run(db,
	    "INSERT INTO escrow_throttle AS t (client_addr, failures, "
	    "window_start) VALUES ($1, 1, now()) ON CONFLICT (client_addr) "
	    "DO UPDATE SET failures = CASE WHEN t.window_start < now() - "
	    SECS("$2") " THEN 1 ELSE t.failures + 1 END, window_start = "
	    "CASE WHEN t.window_start < now() - " SECS("$2") " THEN now() "
	    "ELSE t.window_start END", 2, pc, NULL, err_out);
	if (r < 0)
		return r;
	return db_run(db, "UPDATE escrow_throttle SET failures = 0, "
	    "window_start = now(), locked_until = now() + " SECS("$3")
	    " WHERE client_addr = $1 AND failures >= $2::integer", 3, pl,
	    NULL, err_out);
}

/* user_fail - the same on the account row (escrow_users.failed_logins);
 * its window is the time since the account's latest audited failure */
static int
user_fail(struct db *db, int64_t user_id, const struct portal_limits *lim,
    char **err_out)
{
	char id[24], max[24], win[24], lock[24];
	const char *pc[2] = { id, win };
	const char *pl[3] = { id, max, lock };
	int r;

	i64(id, sizeof(id), user_id);
	snprintf(max, sizeof(max), "%u", lim->max_failures);
	snprintf(win, sizeof(win), "%u", lim->window);
	snprintf(lock, sizeof(lock), "%u", lim->lockout);
	r = db_run(db, "UPDATE escrow_users SET failed_logins = CASE WHEN "
	    "EXISTS (SELECT 1 FROM escrow_audit WHERE user_id = $1::bigint "
	    "AND action = 'login_failed' AND at > now() - " SECS("$2")
	    ") THEN failed_logins + 1 ELSE 1 END WHERE id = $1::bigint", 2,
	    pc, NULL, err_out);
	if (r < 0)
		return r;
	return db_run(db, "UPDATE escrow_users SET failed_logins = 0, "
	    "locked_until = now() + " SECS("$3") " WHERE id = $1::bigint "
	    "AND failed_logins >= $2::integer", 3, pl, NULL, err_out);
}

static int
audit(struct db *db, const char *escrow_id, int64_t user_id,
    const char *action, const char *client_addr, const char *detail,
    char **err_out)
{
	char id[24];
	const char *p[5] = { escrow_id, user_id > 0 ? id : NULL, action,
	    client_addr, detail != NULL ? detail : "" };

	i64(id, sizeof(id), user_id);
	return db_run(db,
	    "INSERT INTO escrow_audit (escrow_id, user_id, action, "
	    "client_addr, detail) VALUES ($1, $2::bigint, $3, $4, $5)", 5, p,
	    NULL, err_out);
}

/* tx_end - commit if all went well, else roll back; the db.h code */
static int
tx_end(struct db *db, int r, char **err_out)
{
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	return db_commit(db, err_out);
}

int
portal_db_login_failed(struct db *db, int64_t user_id,
    const char *client_addr, const char *acct_key,
    const struct portal_limits *lim, char **err_out)
{
	int r;

	if ((r = db_begin(db, err_out)) < 0)
		return r;
	r = throttle_fail(db, client_addr, lim, err_out);
	if (r == 0)
		r = user_id > 0 ? user_fail(db, user_id, lim, err_out) :
		    throttle_fail(db, acct_key, lim, err_out);
	/* after user_fail: its window looks at earlier failures only */
	if (r == 0)
		r = audit(db, NULL, user_id, "login_failed", client_addr, "",
		    err_out);
	return tx_end(db, r, err_out);
}

void
portal_session_release(struct portal_session *s)
{
	xfree(s->address);
	xfree(s->csrf);
	memset(s, 0, sizeof(*s));
}

int
portal_db_session_get(struct db *db, const char *hash, unsigned ttl,
    struct portal_session *s, char **err_out)
{
	char t[24];
	const char *p[2] = { hash, t };
	PGresult *res = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(t, sizeof(t), "%u", ttl);
	r = db_run(db, "UPDATE escrow_sessions AS s SET last_seen_at = now(), "
	    "expires_at = now() + " SECS("$2") " FROM escrow_users AS u "
	    "WHERE s.hash = $1 AND s.expires_at > now() AND u.id = s.user_id "
	    "RETURNING s.user_id, u.address, s.csrf", 2, p, &res, err_out);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	s->user_id = get_i64(res, 0, 0);
	s->address = xstrdup(PQgetvalue(res, 0, 1));
	s->csrf = xstrdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	return 1;
}

int
portal_db_logout(struct db *db, const char *hash, const char *client_addr,
    char **err_out)
{
	const char *p[1] = { hash };
	PGresult *res = NULL;
	int64_t uid = 0;
	int r;

	if ((r = db_begin(db, err_out)) < 0)
		return r;
	r = db_run(db, "DELETE FROM escrow_sessions WHERE hash = $1 "
	    "RETURNING user_id", 1, p, &res, err_out);
	if (r == 0) {
		if (PQntuples(res) == 1)
			uid = get_i64(res, 0, 0);
		PQclear(res);
		if (uid > 0)
			r = audit(db, NULL, uid, "logout", client_addr, "",
			    err_out);
	}
	r = tx_end(db, r, err_out);
	return r < 0 ? r : uid > 0;
}

/* session_new - insert a session row */
static int
session_new(struct db *db, int64_t user_id, const char *hash,
    const char *csrf, unsigned ttl, const char *client_addr, char **err_out)
{
	char id[24], t[24];
	const char *p[5] = { hash, id, csrf, t, client_addr };

	i64(id, sizeof(id), user_id);
	snprintf(t, sizeof(t), "%u", ttl);
	return db_run(db, "INSERT INTO escrow_sessions (hash, user_id, csrf, "
	    "expires_at, client_addr) VALUES ($1, $2::bigint, $3, now() + "
	    SECS("$4") ", $5)", 5, p, NULL, err_out);
}

int
portal_db_login(struct db *db, int64_t user_id, const char *old_hash,
    const char *new_hash, const char *csrf, unsigned ttl,
    const char *client_addr, char **err_out)
{
	char id[24];
	const char *p1[1] = { old_hash };
	const char *p2[1] = { id };
	int r;

	i64(id, sizeof(id), user_id);
	if ((r = db_begin(db, err_out)) < 0)
		return r;
	r = 0;
	if (old_hash != NULL)
		r = db_run(db, "DELETE FROM escrow_sessions WHERE hash = $1", 1,
		    p1, NULL, err_out);
	if (r == 0)
		r = session_new(db, user_id, new_hash, csrf, ttl, client_addr,
		    err_out);
	if (r == 0)
		r = db_run(db, "UPDATE escrow_users SET failed_logins = 0, "
		    "locked_until = NULL WHERE id = $1::bigint", 1, p2, NULL,
		    err_out);
	if (r == 0)
		r = audit(db, NULL, user_id, "login", client_addr, "",
		    err_out);
	return tx_end(db, r, err_out);
}

void
portal_token_release(struct portal_token *t)
{
	xfree(t->address);
	xfree(t->escrow_id);
	memset(t, 0, sizeof(*t));
}

/* the usable-token condition on escrow_tokens t joined to escrow_users u */
#define TOKEN_USABLE "t.hash = $1 AND t.kind = $2 AND t.used_at IS NULL " \
	"AND t.expires_at > now() AND (t.kind <> 'enroll' OR " \
	"u.password_hash IS NULL)"

int
portal_db_token_peek(struct db *db, const char *hash, const char *kind,
    struct portal_token *t, char **err_out)
{
	const char *p[2] = { hash, kind };
	PGresult *res = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	r = db_run(db, "SELECT t.user_id, u.address, t.escrow_id FROM "
	    "escrow_tokens AS t JOIN escrow_users AS u ON u.id = t.user_id "
	    "WHERE " TOKEN_USABLE, 2, p, &res, err_out);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	t->user_id = get_i64(res, 0, 0);
	t->address = xstrdup(PQgetvalue(res, 0, 1));
	t->escrow_id = dup_or_null(res, 0, 2);
	PQclear(res);
	return 1;
}

int
portal_db_token_escrow(struct db *db, const char *hash, const char *kind,
    char **escrow_id_out, char **err_out)
{
	const char *p[2] = { hash, kind };
	PGresult *res = NULL;
	int r;

	*escrow_id_out = NULL;
	r = db_run(db, "SELECT escrow_id FROM escrow_tokens WHERE hash = $1 "
	    "AND kind = $2 AND escrow_id IS NOT NULL", 2, p, &res, err_out);
	if (r < 0)
		return r;
	r = PQntuples(res) == 1;
	if (r)
		*escrow_id_out = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return r;
}

int
portal_db_token_redeem(struct db *db, const char *hash, const char *kind,
    const char *pw_hash, const char *sess_hash, const char *csrf,
    unsigned ttl, const char *client_addr, struct portal_token *t,
    char **err_out)
{
	const char *p[2] = { hash, kind };
	char id[24];
	const char *pu[2] = { id, pw_hash };
	const char *pk[2] = { id, kind };
	PGresult *res = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	if ((r = db_begin(db, err_out)) < 0)
		return r;
	/* the claim: of two concurrent redeems one finds nothing */
	r = db_run(db, "UPDATE escrow_tokens AS t SET used_at = now() FROM "
	    "escrow_users AS u WHERE u.id = t.user_id AND " TOKEN_USABLE
	    " RETURNING t.user_id, u.address, t.escrow_id", 2, p, &res,
	    err_out);
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(db);
		return 0;
	}
	t->user_id = get_i64(res, 0, 0);
	t->address = xstrdup(PQgetvalue(res, 0, 1));
	t->escrow_id = dup_or_null(res, 0, 2);
	PQclear(res);
	i64(id, sizeof(id), t->user_id);
	r = db_run(db, "UPDATE escrow_users SET password_hash = $2, "
	    "enrolled_at = coalesce(enrolled_at, now()), failed_logins = 0, "
	    "locked_until = NULL WHERE id = $1::bigint", 2, pu, NULL,
	    err_out);
	if (r == 0)
		r = db_run(db, "UPDATE escrow_tokens SET used_at = now() WHERE "
		    "user_id = $1::bigint AND kind = $2 AND used_at IS NULL",
		    2, pk, NULL, err_out);
	/* a new password ends every session the old one opened */
	if (r == 0)
		r = db_run(db, "DELETE FROM escrow_sessions WHERE "
		    "user_id = $1::bigint", 1, pu, NULL, err_out);
	if (r == 0)
		r = session_new(db, t->user_id, sess_hash, csrf, ttl,
		    client_addr, err_out);
	if (r == 0)
		r = audit(db, t->escrow_id, t->user_id, kind, client_addr, "",
		    err_out);
	r = tx_end(db, r, err_out);
	if (r < 0) {
		portal_token_release(t);
		return r;
	}
	return 1;
}

int
portal_db_reset_token_new(struct db *db, int64_t user_id, const char *hash,
    unsigned ttl, unsigned per_hour, const char *client_addr,
    char **err_out)
{
	char id[24], t[24], ph[24];
	const char *pc[2] = { id, ph };
	const char *pi[3] = { hash, id, t };
	PGresult *res = NULL;
	int r, made = 0;

	i64(id, sizeof(id), user_id);
	snprintf(t, sizeof(t), "%u", ttl);
	snprintf(ph, sizeof(ph), "%u", per_hour);
	if ((r = db_begin(db, err_out)) < 0)
		return r;
	/* serialize requests for one account: the count stays true */
	r = db_run(db, "SELECT 1 FROM escrow_users WHERE id = $1::bigint FOR "
	    "UPDATE", 1, pc, NULL, err_out);
	if (r == 0)
		r = db_run(db,
		    "SELECT count(*) < $2::integer FROM escrow_tokens "
		    "WHERE user_id = $1::bigint AND kind = 'reset' AND "
		    "created_at > now() - interval '1 hour'", 2, pc, &res,
		    err_out);
	if (r == 0) {
		made = PQntuples(res) == 1 && is_true(res, 0, 0);
		PQclear(res);
	}
	if (r == 0 && made)
		r = db_run(db,
		    "INSERT INTO escrow_tokens (hash, kind, user_id, "
		    "expires_at) VALUES ($1, 'reset', $2::bigint, now() + "
		    SECS("$3") ")", 3, pi, NULL, err_out);
	if (r == 0)
		r = audit(db, NULL, user_id, "reset_request", client_addr,
		    made ? "" : "rate limited", err_out);
	r = tx_end(db, r, err_out);
	return r < 0 ? r : made;
}

void
portal_msg_release(struct portal_msg *m)
{
	xfree(m->id);
	xfree(m->queue_id);
	xfree(m->sender);
	xfree(m->received);
	xfree(m->expires);
	memset(m, 0, sizeof(*m));
}

void
portal_msgs_free(struct portal_msg **msgs, size_t n)
{
	size_t i;

	if (*msgs == NULL)
		return;
	for (i = 0; i < n; i++)
		portal_msg_release(&(*msgs)[i]);
	xfree(*msgs);
	*msgs = NULL;
}

#define MSG_COLS "id, message_id, sender, " TS("created_at") ", " \
	TS("expires_at") ", first_read_at IS NULL, read_notice, size"

static void
msg_fill(struct portal_msg *m, const PGresult *res, int row)
{
	m->id = xstrdup(PQgetvalue(res, row, 0));
	m->queue_id = xstrdup(PQgetvalue(res, row, 1));
	m->sender = xstrdup(PQgetvalue(res, row, 2));
	m->received = xstrdup(PQgetvalue(res, row, 3));
	m->expires = xstrdup(PQgetvalue(res, row, 4));
	m->unread = is_true(res, row, 5);
	m->read_notice = is_true(res, row, 6);
	m->size = (size_t)get_i64(res, row, 7);
}

int
portal_db_inbox(struct db *db, int64_t user_id, size_t max,
    struct portal_msg **msgs_out, size_t *n_out, char **err_out)
{
	char id[24], lim[24];
	const char *p[2] = { id, lim };
	PGresult *res = NULL;
	int r, n, i;

	*msgs_out = NULL;
	*n_out = 0;
	i64(id, sizeof(id), user_id);
	snprintf(lim, sizeof(lim), "%zu", max);
	r = db_run(db, "SELECT " MSG_COLS " FROM escrow_messages WHERE "
	    "user_id = $1::bigint AND " READABLE " ORDER BY created_at DESC, "
	    "id LIMIT $2::integer", 2, p, &res, err_out);
	if (r < 0)
		return r;
	n = PQntuples(res);
	*msgs_out = xcalloc(n > 0 ? (size_t)n : 1, sizeof(**msgs_out));
	for (i = 0; i < n; i++)
		msg_fill(&(*msgs_out)[i], res, i);
	*n_out = (size_t)n;
	PQclear(res);
	return 0;
}

int
portal_db_sealed(struct db *db, const char *id, int64_t user_id,
    unsigned char **sealed_out, size_t *len_out, char **err_out)
{
	char uid[24];
	const char *p[2] = { id, uid };
	PGresult *res;
	int transient = 0, len;

	*sealed_out = NULL;
	*len_out = 0;
	i64(uid, sizeof(uid), user_id);
	/* binary result: the blob as raw bytes, not hex text */
	res = db_exec_bin(db, "SELECT sealed FROM escrow_messages WHERE "
	    "id = $1 AND user_id = $2::bigint AND " READABLE, 2, p, NULL,
	    NULL, 1, &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	len = PQgetlength(res, 0, 0);
	*sealed_out = xmalloc((size_t)len + 1);
	memcpy(*sealed_out, PQgetvalue(res, 0, 0), (size_t)len);
	*len_out = (size_t)len;
	PQclear(res);
	return 1;
}

/* unescape_bytea - a bytea column in text form (hex) as raw bytes:
 * 0 (*out: xfree()), -1 malformed */
static int
unescape_bytea(const PGresult *res, int row, int col, unsigned char **out,
    size_t *len_out, char **err_out)
{
	unsigned char *raw;
	size_t len = 0;

	raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row,
	    col), &len);
	if (raw == NULL) {
		*err_out = xstrdup("sealed column: cannot decode bytea");
		return -1;
	}
	*out = xmalloc(len + 1);
	if (len > 0)
		memcpy(*out, raw, len);
	*len_out = len;
	PQfreemem(raw);
	return 0;
}

int
portal_db_message(struct db *db, const char *id, int64_t user_id,
    struct portal_msg *m, unsigned char **sealed_out, size_t *len_out,
    int *first_out, char **err_out)
{
	char uid[24];
	const char *p[2] = { id, uid };
	PGresult *res = NULL;
	int r;

	memset(m, 0, sizeof(*m));
	*sealed_out = NULL;
	*len_out = 0;
	*first_out = 0;
	i64(uid, sizeof(uid), user_id);
	/*
	 * One statement: lock the readable row (FOR UPDATE waits for a
	 * concurrent recall and re-checks READABLE on what it committed),
	 * mark it read, hand out the blob of that same row version. A
	 * recall after this finds first_read_at set.
	 */
	r = db_run(db, "WITH o AS (SELECT id, first_read_at IS NULL AS first "
	    "FROM escrow_messages WHERE id = $1 AND user_id = $2::bigint AND "
	    READABLE " FOR UPDATE) "
	    "UPDATE escrow_messages e SET first_read_at = "
	    "coalesce(e.first_read_at, now()) FROM o WHERE e.id = o.id "
	    "RETURNING e.id, e.message_id, e.sender, " TS("e.created_at")
	    ", " TS("e.expires_at") ", o.first, e.read_notice, e.size, "
	    "e.sealed", 2, p, &res, err_out);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	if (unescape_bytea(res, 0, 8, sealed_out, len_out, err_out) < 0) {
		PQclear(res);
		return -1;
	}
	msg_fill(m, res, 0);
	*first_out = m->unread;
	PQclear(res);
	return 1;
}

int
portal_db_read_notice_sent(struct db *db, const char *id, char **err_out)
{
	const char *p[1] = { id };

	return db_run(db, "UPDATE escrow_messages SET read_notice = true "
	    "WHERE id = $1", 1, p, NULL, err_out);
}

void
portal_recall_release(struct portal_recall *rc)
{
	xfree(rc->id);
	xfree(rc->sender);
	xfree(rc->recipient);
	xfree(rc->expires);
	memset(rc, 0, sizeof(*rc));
}

int
portal_db_recall_peek(struct db *db, const char *hash,
    struct portal_recall *rc, unsigned char **sealed_out, size_t *len_out,
    char **err_out)
{
	const char *p[1] = { hash };
	PGresult *res = NULL;
	int r;

	memset(rc, 0, sizeof(*rc));
	*sealed_out = NULL;
	*len_out = 0;
	r = db_run(db, "SELECT e.id, e.sender, u.address, " TS("e.expires_at")
	    ", e.recalled_at IS NOT NULL, e.first_read_at IS NOT NULL, "
	    "e.expires_at <= now(), e.sealed FROM escrow_messages e JOIN "
	    "escrow_users u ON u.id = e.user_id WHERE e.recall_hash = $1 "
	    "AND e.purged_at IS NULL", 1, p, &res, err_out);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	if (unescape_bytea(res, 0, 7, sealed_out, len_out, err_out) < 0) {
		PQclear(res);
		return -1;
	}
	rc->id = xstrdup(PQgetvalue(res, 0, 0));
	rc->sender = xstrdup(PQgetvalue(res, 0, 1));
	rc->recipient = xstrdup(PQgetvalue(res, 0, 2));
	rc->expires = xstrdup(PQgetvalue(res, 0, 3));
	if (is_true(res, 0, 4))
		rc->state = PORTAL_RECALL_WITHDRAWN;
	else if (is_true(res, 0, 5))
		rc->state = PORTAL_RECALL_READ;
	else if (is_true(res, 0, 6))
		rc->state = PORTAL_RECALL_EXPIRED;
	else
		rc->state = PORTAL_RECALL_UNREAD;
	PQclear(res);
	return 1;
}

int
portal_db_recall(struct db *db, const char *hash, const char *client_addr,
    char **id_out, char **err_out)
{
	const char *p[2] = { hash, client_addr };
	PGresult *res = NULL;
	int r;

	*id_out = NULL;
	/* check and wipe in one statement: a read committed first wins;
	 * the audit row commits with it */
	r = db_run(db, "WITH w AS (UPDATE escrow_messages SET recalled_at = "
	    "now(), sealed = ''::bytea WHERE recall_hash = $1 AND "
	    "first_read_at IS NULL AND recalled_at IS NULL AND purged_at IS "
	    "NULL AND expires_at > now() RETURNING id, user_id) "
	    "INSERT INTO escrow_audit (escrow_id, user_id, action, "
	    "client_addr, detail) SELECT id, user_id, 'recall', $2, 'sender' "
	    "FROM w RETURNING escrow_id", 2, p, &res, err_out);
	if (r < 0)
		return r;
	r = PQntuples(res) == 1;
	if (r)
		*id_out = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return r;
}

int
portal_db_audit(struct db *db, const char *escrow_id, int64_t user_id,
    const char *action, const char *client_addr, const char *detail,
    char **err_out)
{
	return audit(db, escrow_id, user_id, action, client_addr, detail,
	    err_out);
}

int
portal_db_cleanup(struct db *db, unsigned window, long *sessions_out,
    char **err_out)
{
	char w[24];
	const char *p[1] = { w };
	PGresult *res = NULL;
	int r;

	*sessions_out = 0;
	snprintf(w, sizeof(w), "%u", window);
	r = db_run(db, "DELETE FROM escrow_sessions WHERE expires_at <= now()",
	    0, NULL, &res, err_out);
	if (r < 0)
		return r;
	{
		uint64_t n = 0;
		if (num_parse_u64_str(PQcmdTuples(res), 0, INT64_MAX, &n) == 0)
			*sessions_out = (long)n;
	}
	PQclear(res);
	r = db_run(db, "DELETE FROM escrow_tokens WHERE expires_at < "
	    "now() - interval '7 days'", 0, NULL, NULL, err_out);
	if (r < 0)
		return r;
	return db_run(db, "DELETE FROM escrow_throttle WHERE window_start < "
	    "now() - " SECS("$1") " AND (locked_until IS NULL OR "
	    "locked_until < now())", 1, p, NULL, err_out);
}
