/*
 * queue_db.c - the durable queue in PostgreSQL.
 *
 * Implements: queue_db.h. A message and all its recipients are inserted
 * in one transaction; NOTIFY sealgate_queue is sent inside it, so
 * listeners hear of the message exactly when it is committed.
 * Durability: db.c forces synchronous_commit = on, so a returned 0 means
 * the message is on disk and ingress may answer 250.
 * Trust: envelope and message bytes come from SMTP clients; they travel
 * as parameters only (the message as binary bytea).
 * Library module: never logs.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "queue_db.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

#define QDB_ERR_MAX	4096
#define QDB_ARRAY_MAX	(16u * 1024 * 1024)	/* recipient array literal */

/* ISO 8601 UTC, whatever the session's TimeZone and DateStyle */
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const char *const state_names[QUEUE_RCPT_NSTATES] = {
	"queued", "deferred", "delivered", "escrowed", "bounced",
};

const char *
queue_rcpt_state_name(enum queue_rcpt_state s)
{
	if ((unsigned)s >= QUEUE_RCPT_NSTATES)
		return "unknown";
	return state_names[s];
}

static char *
msgf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
msgf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	char *s;

	buf_init(&b, QDB_ERR_MAX);
	va_start(ap, fmt);
	(void)buf_vprintf(&b, fmt, ap);
	va_end(ap);
	s = buf_steal(&b, NULL);
	return s != NULL ? s : xstrdup("out of memory");
}

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

/*
 * info_text - informational text (HELO, MAIL parameters, TLS names) as
 * a parameter: ill-formed UTF-8 bytes become '?' rather than making the
 * message unqueueable. Returns s or *tmp (a new copy; xfree()).
 */
static const char *
info_text(const char *s, char **tmp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, i = 0, n;
	char *c;

	*tmp = NULL;
	if (s == NULL || utf8_ok(s))
		return s;
	len = strlen(s);
	c = xstrdup(s);
	while (i < len) {
		n = utf8_seq_len(p + i, len - i);
		if (n == 0) {
			c[i] = '?';
			n = 1;
		}
		i += n;
	}
	*tmp = c;
	return c;
}

/* rcpt_array - text[] literal {"a","b"} for unnest() */
static int
rcpt_array(const struct queue_msg *m, struct buf *b)
{
	size_t i;
	const char *p;

	if (buf_append_char(b, '{') < 0)
		return -1;
	for (i = 0; i < m->nrcpt; i++) {
		if (i > 0 && buf_append_char(b, ',') < 0)
			return -1;
		if (buf_append_char(b, '"') < 0)
			return -1;
		for (p = m->rcpts[i]; *p != '\0'; p++) {
			if ((*p == '"' || *p == '\\') &&
			    buf_append_char(b, '\\') < 0)
				return -1;
			if (buf_append_char(b, *p) < 0)
				return -1;
		}
		if (buf_append_char(b, '"') < 0)
			return -1;
	}
	return buf_append_char(b, '}');
}

/* validate - refuse what could only fail later, with a clear reason */
static int
validate(const struct queue_msg *m, char **err_out)
{
	size_t i;

	if (m->id == NULL || m->id[0] == '\0' || !utf8_ok(m->id)) {
		set_err(err_out, xstrdup("queue insert: bad queue id"));
		return -1;
	}
	if (m->mail_from == NULL || !utf8_ok(m->mail_from)) {
		set_err(err_out, xstrdup("queue insert: reverse-path is not "
		    "UTF-8"));
		return -1;
	}
	if (m->nrcpt == 0 || m->rcpts == NULL) {
		set_err(err_out, xstrdup("queue insert: no recipients"));
		return -1;
	}
	for (i = 0; i < m->nrcpt; i++) {
		if (m->rcpts[i] == NULL || !utf8_ok(m->rcpts[i])) {
			set_err(err_out, msgf("queue insert: recipient %zu "
			    "is not UTF-8", i + 1));
			return -1;
		}
	}
	if (m->data == NULL || m->len > INT_MAX) {
		set_err(err_out, xstrdup("queue insert: message missing or "
		    "larger than 2 GB"));
		return -1;
	}
	return 0;
}

/* exec_ok - run a statement, discard its result; 0 / -1 / -2 */
static int
exec_ok(struct db *db, const char *sql, int n, const char *const *p,
    const int *lengths, const int *formats, char **err_out)
{
	PGresult *r;
	int transient = 0;

	r = db_exec_bin(db, sql, n, p, lengths, formats, 0, &transient,
	    err_out);
	if (r == NULL)
		return transient ? -2 : -1;
	PQclear(r);
	return 0;
}

#define INSERT_DUP	(-3)	/* unique_violation on the queue id */

/*
 * insert_once - one transaction: message, recipients, notify, commit.
 * 0 / -1 / -2 / INSERT_DUP. *reached_out: we had a connection (a retry
 * can help); otherwise the database was unreachable for the whole
 * reconnect window already.
 */
static int
insert_once(struct db *db, const struct queue_msg *m, int *reached_out,
    char **err_out)
{
	char sizebuf[24], bitsbuf[16];
	char *tmp[5] = { NULL, NULL, NULL, NULL, NULL };
	const char *p[13];
	int len[13], fmt[13];
	struct buf arr;
	int r;

	*reached_out = 0;
	buf_init(&arr, QDB_ARRAY_MAX);
	if (rcpt_array(m, &arr) < 0) {
		buf_free(&arr);
		set_err(err_out, xstrdup("queue insert: recipient list too "
		    "long"));
		return -1;
	}
	snprintf(sizebuf, sizeof(sizebuf), "%zu", m->len);
	snprintf(bitsbuf, sizeof(bitsbuf), "%d", m->tls_bits);
	memset(len, 0, sizeof(len));
	memset(fmt, 0, sizeof(fmt));
	p[0] = m->id;
	p[1] = m->mail_from;
	p[2] = info_text(m->mail_params, &tmp[0]);
	p[3] = info_text(m->body_type, &tmp[1]);
	p[4] = m->requiretls ? "t" : "f";
	p[5] = sizebuf;
	p[6] = info_text(m->client_addr, &tmp[2]);
	p[7] = info_text(m->client_helo, &tmp[3]);
	p[8] = m->auth_user;
	p[9] = info_text(m->tls_protocol, &tmp[4]);
	p[10] = m->tls_protocol != NULL ? m->tls_cipher : NULL;
	p[11] = m->tls_protocol != NULL ? bitsbuf : NULL;
	p[12] = m->data;
	len[12] = (int)m->len;
	fmt[12] = 1;		/* raw bytes: no escaping, no doubling */
	if (p[8] != NULL && !utf8_ok(p[8]))
		p[8] = "?";
	if (p[10] != NULL && !utf8_ok(p[10]))
		p[10] = "?";

	/* a failed reconnect has used up the whole window: no retry */
	if (db_ensure(db, err_out) < 0) {
		r = -2;
		goto out;
	}
	*reached_out = 1;
	r = db_begin(db, err_out);
	if (r < 0)
		goto out;
	r = exec_ok(db, "INSERT INTO messages (id, mail_from, mail_params, "
	    "body_type, requiretls, size, client_addr, client_helo, "
	    "auth_user, tls_protocol, tls_cipher, tls_bits, data) VALUES "
	    "($1, $2, $3, $4, $5::boolean, $6::bigint, $7, $8, $9, $10, "
	    "$11, $12::integer, $13::bytea)", 13, p, len, fmt, err_out);
	if (r == -1 && strcmp(db_sqlstate(db), "23505") == 0)
		r = INSERT_DUP;
	if (r < 0)
		goto fail;
	{
		const char *rp[2] = { m->id, buf_cstr(&arr) };
		/* ORDINALITY keeps the envelope order in recipients.id */
		r = exec_ok(db, "INSERT INTO recipients (message_id, rcpt) "
		    "SELECT $1, u.rcpt FROM unnest($2::text[]) WITH "
		    "ORDINALITY AS u(rcpt, n) ORDER BY u.n "
		    "ON CONFLICT (message_id, rcpt) DO NOTHING",
		    2, rp, NULL, NULL, err_out);
		if (r < 0)
			goto fail;
		/* delivered to listeners at COMMIT, not before */
		r = exec_ok(db, "SELECT pg_notify('" QUEUE_DB_NOTIFY_CHANNEL
		    "', $1)", 1, rp, NULL, NULL, err_out);
		if (r < 0)
			goto fail;
	}
	r = db_commit(db, err_out);
	goto out;
fail:
	db_rollback(db);
out:
	buf_free(&arr);
	for (size_t i = 0; i < sizeof(tmp) / sizeof(tmp[0]); i++)
		xfree(tmp[i]);
	return r;
}

/*
 * already_queued - is m (same id, size and sender) in the table? After a
 * COMMIT whose outcome was unknown this tells "it did commit".
 * 1 yes, 0 no, -1 the id is taken by another message, -2 transient.
 */
static int
already_queued(struct db *db, const struct queue_msg *m, char **err_out)
{
	const char *p[1] = { m->id };
	PGresult *res;
	uint64_t size = 0;
	int transient = 0, r;

	res = db_exec(db, "SELECT size, mail_from FROM messages WHERE id = $1",
	    1, p, &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	r = num_parse_u64_str(PQgetvalue(res, 0, 0), 0, UINT64_MAX,
	    &size) == 0 && size == m->len &&
	    strcmp(PQgetvalue(res, 0, 1), m->mail_from) == 0;
	PQclear(res);
	if (!r) {
		set_err(err_out, msgf("queue insert: queue id %s already in "
		    "use by another message", m->id));
		return -1;
	}
	return 1;
}

int
queue_db_insert(struct db *db, const struct queue_msg *m, char **err_out)
{
	int r, q, reached;

	if (err_out != NULL)
		*err_out = NULL;
	if (validate(m, err_out) < 0)
		return -1;
	r = insert_once(db, m, &reached, err_out);
	if (r == INSERT_DUP) {
		/* not a retry: a second message with this id */
		return -1;
	}
	if (r != -2 || !reached)
		return r;

	/*
	 * The connection went away (server restart, failover) or the
	 * server asked us to retry. If it died during COMMIT, the message
	 * may be committed already: look before inserting again, so a
	 * restart does not queue it twice.
	 */
	clear_err(err_out);
	q = already_queued(db, m, err_out);
	if (q != 0)
		return q == 1 ? 0 : q;
	r = insert_once(db, m, &reached, err_out);
	if (r == INSERT_DUP) {
		/* the first COMMIT finished while we were reconnecting */
		clear_err(err_out);
		q = already_queued(db, m, err_out);
		if (q == 0) {
			set_err(err_out, xstrdup("queue insert: duplicate "
			    "queue id vanished"));
			return -2;
		}
		return q == 1 ? 0 : q;
	}
	return r;
}

/* --- reading --- */

static char *
dup_or_null(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return xstrdup(PQgetvalue(res, row, col));
}

static uint64_t
get_u64(const PGresult *res, int row, int col)
{
	uint64_t v = 0;

	if (PQgetisnull(res, row, col) ||
	    num_parse_u64_str(PQgetvalue(res, row, col), 0, UINT64_MAX,
	    &v) < 0)
		return 0;
	return v;
}

static int
get_int(const PGresult *res, int row, int col)
{
	return (int)(get_u64(res, row, col) & INT_MAX);
}

/* Columns shared by list and show; fill_msg() reads them by position. */
#define MSG_COLS "m.id, " TS("m.received_at") ", m.mail_from, " \
	"m.mail_params, m.body_type, m.requiretls, m.size, m.client_addr, " \
	"m.client_helo, m.auth_user, m.tls_protocol, m.tls_cipher, " \
	"m.tls_bits"
#define MSG_NCOLS 13

static void
fill_msg(const PGresult *res, int row, struct queue_msg_info *mi)
{
	memset(mi, 0, sizeof(*mi));
	mi->id = dup_or_null(res, row, 0);
	mi->received_at = dup_or_null(res, row, 1);
	mi->mail_from = dup_or_null(res, row, 2);
	mi->mail_params = dup_or_null(res, row, 3);
	mi->body_type = dup_or_null(res, row, 4);
	mi->requiretls = strcmp(PQgetvalue(res, row, 5), "t") == 0;
	mi->size = get_u64(res, row, 6);
	mi->client_addr = dup_or_null(res, row, 7);
	mi->client_helo = dup_or_null(res, row, 8);
	mi->auth_user = dup_or_null(res, row, 9);
	mi->tls_protocol = dup_or_null(res, row, 10);
	mi->tls_cipher = dup_or_null(res, row, 11);
	mi->tls_bits = get_int(res, row, 12);
}

static void
info_release(struct queue_msg_info *mi)
{
	xfree(mi->id);
	xfree(mi->received_at);
	xfree(mi->mail_from);
	xfree(mi->mail_params);
	xfree(mi->body_type);
	xfree(mi->client_addr);
	xfree(mi->client_helo);
	xfree(mi->auth_user);
	xfree(mi->tls_protocol);
	xfree(mi->tls_cipher);
	for (size_t i = 0; mi->rcpts != NULL && i < mi->nrcpt; i++) {
		struct queue_rcpt_info *r = &mi->rcpts[i];
		xfree(r->rcpt);
		xfree(r->state);
		xfree(r->next_attempt_at);
		xfree(r->last_reply);
		xfree(r->updated_at);
	}
	xfree(mi->rcpts);
	memset(mi, 0, sizeof(*mi));
}

void
queue_db_info_free(struct queue_msg_info **infop)
{
	if (*infop == NULL)
		return;
	info_release(*infop);
	xfree(*infop);
	*infop = NULL;
}

void
queue_db_list_free(struct queue_msg_info **listp, size_t n)
{
	if (*listp == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		info_release(&(*listp)[i]);
	xfree(*listp);
	*listp = NULL;
}

int
queue_db_list(struct db *db, const struct queue_list_opts *opts,
    struct queue_msg_info **list_out, size_t *n_out, char **err_out)
{
	char limbuf[24];
	const char *p[2];
	struct queue_msg_info *list;
	PGresult *res;
	size_t limit = QUEUE_DB_LIST_DEFAULT;
	int transient = 0, n;

	*list_out = NULL;
	*n_out = 0;
	if (opts != NULL && opts->limit > 0)
		limit = opts->limit;
	if (limit > QUEUE_DB_LIST_MAX)
		limit = QUEUE_DB_LIST_MAX;
	snprintf(limbuf, sizeof(limbuf), "%zu", limit);
	p[0] = limbuf;
	p[1] = opts != NULL && opts->pending_only ? "t" : "f";
	/* Pick the page first, then count recipients for those rows only;
	 * the message bytes are never read. */
	res = db_exec(db, "SELECT " MSG_COLS ", c.total, c.queued, "
	    "c.deferred, c.delivered, c.escrowed, c.bounced FROM ("
	    "SELECT id, received_at, mail_from, mail_params, body_type, "
	    "requiretls, size, client_addr, client_helo, auth_user, "
	    "tls_protocol, tls_cipher, tls_bits FROM messages mm "
	    "WHERE NOT $2::boolean OR EXISTS (SELECT 1 FROM recipients p "
	    "WHERE p.message_id = mm.id AND p.state IN ('queued', "
	    "'deferred')) ORDER BY received_at DESC, id DESC "
	    "LIMIT $1::integer) m CROSS JOIN LATERAL (SELECT "
	    "count(*) AS total, "
	    "count(*) FILTER (WHERE state = 'queued') AS queued, "
	    "count(*) FILTER (WHERE state = 'deferred') AS deferred, "
	    "count(*) FILTER (WHERE state = 'delivered') AS delivered, "
	    "count(*) FILTER (WHERE state = 'escrowed') AS escrowed, "
	    "count(*) FILTER (WHERE state = 'bounced') AS bounced "
	    "FROM recipients r WHERE r.message_id = m.id) c "
	    "ORDER BY m.received_at DESC, m.id DESC", 2, p, &transient,
	    err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	n = PQntuples(res);
	list = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*list));
	for (int i = 0; i < n; i++) {
		fill_msg(res, i, &list[i]);
		list[i].nrcpt = (size_t)get_u64(res, i, MSG_NCOLS);
		for (int s = 0; s < QUEUE_RCPT_NSTATES; s++)
			list[i].state_count[s] =
			    (size_t)get_u64(res, i, MSG_NCOLS + 1 + s);
	}
	PQclear(res);
	*list_out = list;
	*n_out = (size_t)n;
	return 0;
}

int
queue_db_show(struct db *db, const char *id, struct queue_msg_info **info_out,
    char **err_out)
{
	const char *p[1] = { id };
	struct queue_msg_info *mi;
	PGresult *res;
	int transient = 0, n;

	*info_out = NULL;
	res = db_exec(db, "SELECT " MSG_COLS " FROM messages m WHERE "
	    "m.id = $1", 1, p, &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	mi = xcalloc(1, sizeof(*mi));
	fill_msg(res, 0, mi);
	PQclear(res);

	res = db_exec(db, "SELECT rcpt, state, attempts, "
	    TS("next_attempt_at") ", last_reply, " TS("updated_at")
	    " FROM recipients WHERE message_id = $1 ORDER BY id", 1, p,
	    &transient, err_out);
	if (res == NULL) {
		queue_db_info_free(&mi);
		return transient ? -2 : -1;
	}
	n = PQntuples(res);
	mi->rcpts = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*mi->rcpts));
	mi->nrcpt = (size_t)n;
	for (int i = 0; i < n; i++) {
		struct queue_rcpt_info *r = &mi->rcpts[i];
		r->rcpt = dup_or_null(res, i, 0);
		r->state = dup_or_null(res, i, 1);
		r->attempts = get_int(res, i, 2);
		r->next_attempt_at = dup_or_null(res, i, 3);
		r->last_reply = dup_or_null(res, i, 4);
		r->updated_at = dup_or_null(res, i, 5);
		/* counts from these rows: consistent with the list shown */
		for (int s = 0; s < QUEUE_RCPT_NSTATES; s++)
			if (r->state != NULL &&
			    strcmp(r->state, state_names[s]) == 0)
				mi->state_count[s]++;
	}
	PQclear(res);
	*info_out = mi;
	return 1;
}

int
queue_db_data(struct db *db, const char *id, char **data_out,
    size_t *len_out, char **err_out)
{
	const char *p[1] = { id };
	PGresult *res;
	int transient = 0, len;
	char *d;

	*data_out = NULL;
	*len_out = 0;
	/* binary result: bytea arrives as the raw bytes */
	res = db_exec_bin(db, "SELECT data FROM messages WHERE id = $1", 1, p,
	    NULL, NULL, 1, &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	len = PQgetlength(res, 0, 0);
	d = xmalloc((size_t)len + 1);
	memcpy(d, PQgetvalue(res, 0, 0), (size_t)len);
	d[len] = '\0';
	PQclear(res);
	*data_out = d;
	*len_out = (size_t)len;
	return 1;
}
