/*
 * escrow_db.c - the escrow store's tables in PostgreSQL.
 *
 * Implements: escrow_db.h; schema db/migrations/0008_escrow.sql.
 * Trust: addresses and message bytes come from mail; they travel as
 * parameters only (blobs as binary bytea). Only sealed content and token
 * hashes are ever written here, never plaintext or a usable token.
 * Library module: never logs.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "escrow_db.h"
#include "queue_db.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

/* ISO 8601 UTC, whatever the session's TimeZone and DateStyle */
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static void
set_err(char **err_out, char *msg)
{
	if (err_out != NULL)
		*err_out = msg;
	else
		xfree(msg);
}

static void
clear_err(char **err_out)
{
	if (err_out != NULL) {
		xfree(*err_out);
		*err_out = NULL;
	}
}

/* utf8_ok - the whole C string is well-formed UTF-8 (PostgreSQL refuses
 * the rest) */
static int
utf8_ok(const char *s)
{
	return utf8_valid(s, strlen(s));
}

/* run - one statement, result to *res_out (may be NULL); 0 / -1 / -2 */
static int
run(struct db *db, const char *sql, int n, const char *const *p,
    const int *lengths, const int *formats, PGresult **res_out,
    char **err_out)
{
	PGresult *r;
	int transient = 0;

	r = db_exec_bin(db, sql, n, p, lengths, formats, 0, &transient,
	    err_out);
	if (r == NULL)
		return transient ? -2 : -1;
	if (res_out != NULL)
		*res_out = r;
	else
		PQclear(r);
	return 0;
}

static char *
dup_or_null(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return xstrdup(PQgetvalue(res, row, col));
}

static int64_t
get_i64(const PGresult *res, int row, int col)
{
	uint64_t v = 0;

	if (PQgetisnull(res, row, col) ||
	    num_parse_u64_str(PQgetvalue(res, row, col), 0, INT64_MAX,
	    &v) < 0)
		return 0;
	return (int64_t)v;
}

/* ---------------------------------------------------------------- steps */

int
escrow_db_exists(struct db *db, const char *queue_id, int64_t recipient_id,
    char **err_out)
{
	char rid[24];
	const char *p[2] = { queue_id, rid };
	PGresult *res;
	int r;

	snprintf(rid, sizeof(rid), "%" PRId64, recipient_id);
	r = run(db, "SELECT 1 FROM escrow_messages WHERE message_id = $1 "
	    "AND recipient_id = $2::bigint", 2, p, NULL, NULL, &res, err_out);
	if (r < 0)
		return r;
	r = PQntuples(res) > 0;
	PQclear(res);
	return r;
}

int
escrow_db_user_ensure(struct db *db, const char *address, int64_t *id_out,
    int *enrolled_out, char **err_out)
{
	const char *p[1] = { address };
	PGresult *res;
	int r;

	if (!utf8_ok(address)) {
		set_err(err_out, xstrdup("escrow: recipient address is not "
		    "UTF-8"));
		return -1;
	}
	/* the no-op update makes RETURNING give the existing row too, and
	 * locks it against a concurrent enrollment until we commit */
	r = run(db, "INSERT INTO escrow_users (address) VALUES ($1) "
	    "ON CONFLICT (address) DO UPDATE SET address = EXCLUDED.address "
	    "RETURNING id, password_hash IS NOT NULL", 1, p, NULL, NULL,
	    &res, err_out);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		set_err(err_out, xstrdup("escrow: user row not returned"));
		return -1;
	}
	*id_out = get_i64(res, 0, 0);
	*enrolled_out = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	return 0;
}

int
escrow_db_msg_insert(struct db *db, const struct escrow_db_msg *m,
    char **err_out)
{
	char rid[24], uid[24], size[24], exp[24];
	const char *p[10];
	int len[10], fmt[10];
	PGresult *res;
	int r;

	if (m->sealed_len > INT_MAX || m->size > INT_MAX) {
		set_err(err_out, xstrdup("escrow: message larger than 2 GB"));
		return -1;
	}
	if (!utf8_ok(m->sender) || !utf8_ok(m->queue_id)) {
		set_err(err_out, xstrdup("escrow: sender or queue id is not "
		    "UTF-8"));
		return -1;
	}
	snprintf(rid, sizeof(rid), "%" PRId64, m->recipient_id);
	snprintf(uid, sizeof(uid), "%" PRId64, m->user_id);
	snprintf(size, sizeof(size), "%zu", m->size);
	snprintf(exp, sizeof(exp), "%lld", m->expires_at);
	memset(len, 0, sizeof(len));
	memset(fmt, 0, sizeof(fmt));
	p[0] = m->id;
	p[1] = m->queue_id;
	p[2] = rid;
	p[3] = uid;
	p[4] = m->sender;
	p[5] = (const char *)m->sealed;
	len[5] = (int)m->sealed_len;
	fmt[5] = 1;		/* raw bytes */
	p[6] = m->master_id;
	p[7] = size;
	p[8] = exp;
	p[9] = m->recall_hash;	/* NULL: no receipt */
	r = run(db, "INSERT INTO escrow_messages (id, message_id, "
	    "recipient_id, user_id, sender, sealed, master_id, size, "
	    "expires_at, recall_hash) VALUES ($1, $2, $3::bigint, $4::bigint, "
	    "$5, $6::bytea, $7, $8::integer, to_timestamp($9::bigint), $10) "
	    "ON CONFLICT (message_id, recipient_id) DO NOTHING RETURNING 1",
	    10, p, len, fmt, &res, err_out);
	if (r < 0)
		return r;
	r = PQntuples(res) == 1;
	PQclear(res);
	return r;
}

int
escrow_db_token_insert(struct db *db, const char *hash, const char *kind,
    int64_t user_id, const char *escrow_id, long long expires_at,
    char **err_out)
{
	char uid[24], exp[24];
	const char *p[5] = { hash, kind, uid, escrow_id, exp };

	snprintf(uid, sizeof(uid), "%" PRId64, user_id);
	snprintf(exp, sizeof(exp), "%lld", expires_at);
	return run(db, "INSERT INTO escrow_tokens (hash, kind, user_id, "
	    "escrow_id, expires_at) VALUES ($1, $2, $3::bigint, $4, "
	    "to_timestamp($5::bigint))", 5, p, NULL, NULL, NULL, err_out);
}

int
escrow_db_audit(struct db *db, const char *escrow_id, int64_t user_id,
    const char *action, const char *client_addr, const char *detail,
    char **err_out)
{
	char uid[24];
	const char *p[5];

	snprintf(uid, sizeof(uid), "%" PRId64, user_id);
	p[0] = escrow_id;
	p[1] = user_id > 0 ? uid : NULL;
	p[2] = action;
	p[3] = client_addr;
	p[4] = detail != NULL ? detail : "";
	if ((p[3] != NULL && !utf8_ok(p[3])) || !utf8_ok(p[4])) {
		set_err(err_out, xstrdup("escrow audit: text is not UTF-8"));
		return -1;
	}
	return run(db, "INSERT INTO escrow_audit (escrow_id, user_id, action, "
	    "client_addr, detail) VALUES ($1, $2::bigint, $3, $4, $5)", 5, p,
	    NULL, NULL, NULL, err_out);
}

/* body_type - "8BITMIME" when any byte has the high bit set */
static const char *
body_type(const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)data[i] >= 0x80)
			return "8BITMIME";
	return "7BIT";
}

int
escrow_db_queue_insert(struct db *db, const struct escrow_db_mail *m,
    char **err_out)
{
	char size[24];
	const char *p[8];
	int len[8], fmt[8], r;

	if (m->id == NULL || m->id[0] == '\0' || m->mail_from == NULL ||
	    m->rcpt == NULL || m->rcpt[0] == '\0' || m->data == NULL) {
		set_err(err_out, xstrdup("queue insert: missing id, sender, "
		    "recipient or data"));
		return -1;
	}
	if (!utf8_ok(m->mail_from) || !utf8_ok(m->rcpt) ||
	    (m->client_helo != NULL && !utf8_ok(m->client_helo))) {
		set_err(err_out, xstrdup("queue insert: address is not "
		    "UTF-8"));
		return -1;
	}
	if (m->len > INT_MAX) {
		set_err(err_out, xstrdup("queue insert: message larger than "
		    "2 GB"));
		return -1;
	}
	snprintf(size, sizeof(size), "%zu", m->len);
	memset(len, 0, sizeof(len));
	memset(fmt, 0, sizeof(fmt));
	p[0] = m->id;
	p[1] = m->mail_from;
	p[2] = body_type(m->data, m->len);
	p[3] = size;
	p[4] = m->data;
	len[4] = (int)m->len;
	fmt[4] = 1;
	p[5] = m->tls_required ? "t" : "f";
	p[6] = m->client_helo;
	p[7] = m->escrow_notice ? "t" : "f";
	/* client_addr 127.0.0.1 as for our other own mail (DSNs, reports) */
	r = run(db, "INSERT INTO messages (id, mail_from, mail_params, "
	    "body_type, size, data, tls_required, client_addr, client_helo, "
	    "escrow_notice) "
	    "VALUES ($1, $2, '', $3, $4::bigint, $5::bytea, $6::boolean, "
	    "'127.0.0.1', $7, $8::boolean)", 8, p, len, fmt, NULL, err_out);
	if (r < 0)
		return r;
	{
		const char *rp[2] = { m->id, m->rcpt };

		r = run(db, "INSERT INTO recipients (message_id, rcpt) VALUES "
		    "($1, $2)", 2, rp, NULL, NULL, NULL, err_out);
		if (r < 0)
			return r;
		/* delivered to listeners at COMMIT, not before */
		r = run(db, "SELECT pg_notify('" QUEUE_DB_NOTIFY_CHANNEL
		    "', $1)", 1, rp, NULL, NULL, NULL, err_out);
	}
	return r;
}

/* ----------------------------------------------------- units of work */

/* queue_once - one transaction; 0 / -1 / -2 */
static int
queue_once(struct db *db, const struct escrow_db_mail *m, char **err_out)
{
	int r;

	r = db_begin(db, err_out);
	if (r < 0)
		return r;
	r = escrow_db_queue_insert(db, m, err_out);
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	return db_commit(db, err_out);
}

/* queued - is message id m->id with this size in the queue? 1 / 0 / -2 */
static int
queued(struct db *db, const struct escrow_db_mail *m, char **err_out)
{
	char size[24];
	const char *p[2] = { m->id, size };
	PGresult *res;
	int r;

	snprintf(size, sizeof(size), "%zu", m->len);
	r = run(db, "SELECT 1 FROM messages WHERE id = $1 AND size = "
	    "$2::bigint", 2, p, NULL, NULL, &res, err_out);
	if (r < 0)
		return -2;
	r = PQntuples(res) > 0;
	PQclear(res);
	return r;
}

int
escrow_db_queue_mail(struct db *db, const struct escrow_db_mail *m,
    char **err_out)
{
	int r, q;

	if (err_out != NULL)
		*err_out = NULL;
	r = queue_once(db, m, err_out);
	if (r != -2)
		return r;
	/* the connection went away, maybe during COMMIT: look first */
	clear_err(err_out);
	if (db_ensure(db, err_out) < 0)
		return -2;
	q = queued(db, m, err_out);
	if (q != 0)
		return q == 1 ? 0 : -2;
	return queue_once(db, m, err_out);
}

int
escrow_db_list(struct db *db, size_t limit, struct escrow_db_row **rows_out,
    size_t *n_out, char **err_out)
{
	char lim[24];
	const char *p[1] = { lim };
	struct escrow_db_row *rows;
	PGresult *res;
	int r, i, n;

	*rows_out = NULL;
	*n_out = 0;
	if (limit == 0)
		limit = ESCROW_DB_LIST_DEFAULT;
	if (limit > ESCROW_DB_LIST_MAX)
		limit = ESCROW_DB_LIST_MAX;
	snprintf(lim, sizeof(lim), "%zu", limit);
	r = run(db, "SELECT e.id, u.address, e.sender, e.size, "
	    TS("e.created_at") ", " TS("e.expires_at") ", "
	    TS("e.first_read_at") ", " TS("e.recalled_at") ", "
	    TS("e.purged_at") ", e.expires_at <= now() "
	    "FROM escrow_messages e JOIN escrow_users u ON u.id = e.user_id "
	    "ORDER BY e.created_at DESC, e.id LIMIT $1::bigint", 1, p, NULL,
	    NULL, &res, err_out);
	if (r < 0)
		return r;
	n = PQntuples(res);
	rows = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*rows));
	for (i = 0; i < n; i++) {
		rows[i].id = dup_or_null(res, i, 0);
		rows[i].recipient = dup_or_null(res, i, 1);
		rows[i].sender = dup_or_null(res, i, 2);
		rows[i].size = get_i64(res, i, 3);
		rows[i].created_at = dup_or_null(res, i, 4);
		rows[i].expires_at = dup_or_null(res, i, 5);
		rows[i].first_read_at = dup_or_null(res, i, 6);
		rows[i].recalled_at = dup_or_null(res, i, 7);
		rows[i].purged_at = dup_or_null(res, i, 8);
		rows[i].expired = strcmp(PQgetvalue(res, i, 9), "t") == 0;
	}
	PQclear(res);
	*rows_out = rows;
	*n_out = (size_t)n;
	return 0;
}

void
escrow_db_rows_free(struct escrow_db_row **rowsp, size_t n)
{
	struct escrow_db_row *rows = *rowsp;
	size_t i;

	if (rows == NULL)
		return;
	for (i = 0; i < n; i++) {
		xfree(rows[i].id);
		xfree(rows[i].recipient);
		xfree(rows[i].sender);
		xfree(rows[i].created_at);
		xfree(rows[i].expires_at);
		xfree(rows[i].first_read_at);
		xfree(rows[i].recalled_at);
		xfree(rows[i].purged_at);
	}
	xfree(rows);
	*rowsp = NULL;
}

int
escrow_db_recall(struct db *db, const char *id, const char *detail,
    char **err_out)
{
	const char *p[2] = { id, detail != NULL ? detail : "" };
	PGresult *res;
	int r, st;

	if (!utf8_ok(id) || !utf8_ok(p[1]))
		return ESCROW_RECALL_NOT_FOUND;
	r = db_begin(db, err_out);
	if (r < 0)
		return r;
	/* check and wipe in one statement: a read committed first wins */
	r = run(db, "WITH w AS (UPDATE escrow_messages SET recalled_at = "
	    "now(), sealed = ''::bytea WHERE id = $1 AND first_read_at IS "
	    "NULL AND recalled_at IS NULL AND purged_at IS NULL "
	    "RETURNING id, user_id) "
	    "INSERT INTO escrow_audit (escrow_id, user_id, action, detail) "
	    "SELECT id, user_id, 'recall', $2 FROM w RETURNING 1", 2, p,
	    NULL, NULL, &res, err_out);
	if (r < 0)
		goto fail;
	st = PQntuples(res) == 1 ? ESCROW_RECALLED : -1;
	PQclear(res);
	if (st != ESCROW_RECALLED) {
		/* why not: say so precisely */
		r = run(db, "SELECT first_read_at IS NOT NULL, recalled_at IS "
		    "NOT NULL, purged_at IS NOT NULL FROM escrow_messages "
		    "WHERE id = $1", 1, p, NULL, NULL, &res, err_out);
		if (r < 0)
			goto fail;
		if (PQntuples(res) == 0)
			st = ESCROW_RECALL_NOT_FOUND;
		else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
			st = ESCROW_RECALL_ALREADY;
		else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
			st = ESCROW_RECALL_READ;
		else
			st = ESCROW_RECALL_PURGED;
		PQclear(res);
	}
	r = db_commit(db, err_out);
	if (r < 0)
		return r;
	return st;
fail:
	db_rollback(db);
	return r;
}

int
escrow_db_purge_expired(struct db *db, long *n_out, char **err_out)
{
	PGresult *res;
	uint64_t n = 0;
	int r;

	*n_out = 0;
	/* one statement: the wipe and its audit rows commit together */
	r = run(db, "WITH p AS (UPDATE escrow_messages SET sealed = ''::bytea, "
	    "purged_at = now() WHERE expires_at <= now() AND purged_at IS NULL "
	    "RETURNING id, user_id), a AS (INSERT INTO escrow_audit "
	    "(escrow_id, user_id, action, detail) SELECT id, user_id, 'purge', "
	    "'expired' FROM p RETURNING 1) SELECT count(*) FROM a", 0, NULL,
	    NULL, NULL, &res, err_out);
	if (r < 0)
		return r;
	if (PQntuples(res) == 1)
		(void)num_parse_u64_str(PQgetvalue(res, 0, 0), 0, LONG_MAX, &n);
	PQclear(res);
	*n_out = (long)n;
	return 0;
}

int
escrow_db_audit_list(struct db *db, const char *escrow_id,
    struct escrow_db_audit_row **rows_out, size_t *n_out, char **err_out)
{
	const char *p[1] = { escrow_id };
	struct escrow_db_audit_row *rows;
	PGresult *res;
	int r, i, n, exists;

	*rows_out = NULL;
	*n_out = 0;
	if (!utf8_ok(escrow_id))
		return 0;
	r = run(db, "SELECT 1 FROM escrow_messages WHERE id = $1", 1, p,
	    NULL, NULL, &res, err_out);
	if (r < 0)
		return r;
	exists = PQntuples(res) > 0;
	PQclear(res);
	r = run(db, "SELECT a.id, " TS("a.at") ", a.action, u.address, "
	    "a.client_addr, a.detail FROM escrow_audit a LEFT JOIN "
	    "escrow_users u ON u.id = a.user_id WHERE a.escrow_id = $1 "
	    "ORDER BY a.at, a.id", 1, p, NULL, NULL, &res, err_out);
	if (r < 0)
		return r;
	n = PQntuples(res);
	rows = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*rows));
	for (i = 0; i < n; i++) {
		rows[i].id = get_i64(res, i, 0);
		rows[i].at = dup_or_null(res, i, 1);
		rows[i].action = dup_or_null(res, i, 2);
		rows[i].user = dup_or_null(res, i, 3);
		rows[i].client_addr = dup_or_null(res, i, 4);
		rows[i].detail = dup_or_null(res, i, 5);
	}
	PQclear(res);
	*rows_out = rows;
	*n_out = (size_t)n;
	return exists || n > 0;
}

void
escrow_db_audit_rows_free(struct escrow_db_audit_row **rowsp, size_t n)
{
	struct escrow_db_audit_row *rows = *rowsp;
	size_t i;

	if (rows == NULL)
		return;
	for (i = 0; i < n; i++) {
		xfree(rows[i].at);
		xfree(rows[i].action);
		xfree(rows[i].user);
		xfree(rows[i].client_addr);
		xfree(rows[i].detail);
	}
	xfree(rows);
	*rowsp = NULL;
}
