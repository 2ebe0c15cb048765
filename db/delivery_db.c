/*
 * delivery_db.c - claims, outcomes and the delivery audit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery_db.h"
#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"
#include "queue_db.h"

static int
fail(PGresult *res, int transient)
{
	if (res != NULL)
		PQclear(res);
	return transient ? -2 : -1;
}

void
delivery_batch_free(struct delivery_batch *b)
{
	size_t i;

	for (i = 0; i < b->nrcpt; i++)
		xfree(b->rcpts[i].rcpt);
	xfree(b->rcpts);
	xfree(b->message_id);
	xfree(b->domain);
	xfree(b->mail_from);
	xfree(b->data);
	memset(b, 0, sizeof(*b));
}

const char *
delivery_outcome_name(enum delivery_outcome o)
{
	switch (o) {
	case DELIVERY_DELIVERED:
		return "delivered";
	case DELIVERY_BOUNCED:
		return "bounced";
	case DELIVERY_ESCROWED:
		return "escrowed";
	default:
		return "deferred";
	}
}

/* text array literal {"a","b"} for = ANY($n) */
static char *
array_literal(const char *const *v, size_t n)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	(void)buf_append_char(&b, '{');
	for (i = 0; i < n; i++) {
		const char *p;
		if (i > 0)
			(void)buf_append_char(&b, ',');
		(void)buf_append_char(&b, '"');
		for (p = v[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				(void)buf_append_char(&b, '\\');
			(void)buf_append_char(&b, *p);
		}
		(void)buf_append_char(&b, '"');
	}
	(void)buf_append_char(&b, '}');
	return buf_steal(&b, NULL);
}

/*
 * The claim: pick one due row (skipping rows others hold), then every due
 * row of that message and domain that nobody holds. Both steps lock with
 * SKIP LOCKED, so two workers never wait on each other (no deadlock);
 * at worst a message's recipients at one domain go out in two batches.
 */
static const char claim_sql[] =
    "WITH pick AS ("
    " SELECT message_id, domain FROM recipients"
    " WHERE state IN ('queued', 'deferred') AND next_attempt_at <= now()"
    "   AND (lease_until IS NULL OR lease_until < now())"
    "   AND NOT (domain = ANY ($3::text[]))"
    "   AND ($4::text IS NULL OR domain = $4)"
    " ORDER BY next_attempt_at"
    " LIMIT 1 FOR UPDATE SKIP LOCKED),"
    " batch AS ("
    " SELECT r.id FROM recipients r, pick"
    " WHERE r.message_id = pick.message_id"
    "   AND r.domain IS NOT DISTINCT FROM pick.domain"
    "   AND r.state IN ('queued', 'deferred') AND r.next_attempt_at <= now()"
    "   AND (r.lease_until IS NULL OR r.lease_until < now())"
    " FOR UPDATE OF r SKIP LOCKED)"
    " UPDATE recipients r SET lease_owner = $1,"
    "   lease_until = now() + make_interval(secs => $2::int),"
    "   attempts = r.attempts + 1, updated_at = now()"
    " FROM batch WHERE r.id = batch.id"
    " RETURNING r.id, r.rcpt, r.attempts, r.message_id, r.domain";

int
delivery_db_claim(struct db *db, const char *owner, unsigned lease_secs,
    const char *const *busy, size_t nbusy, const char *prefer,
    struct delivery_batch *out, char **err_out)
{
	char lease[16], *arr;
	const char *p[4];
	PGresult *res;
	int transient = 0, i, n;
	char *data = NULL;
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	snprintf(lease, sizeof(lease), "%u", lease_secs);
	arr = array_literal(busy, nbusy);
	p[0] = owner;
	p[1] = lease;
	p[2] = arr;
	p[3] = prefer;
	/* the preferred domain (a connection is open to it) first; no
	 * ORDER BY on an expression, so the due-time index serves both */
	res = db_exec(db, claim_sql, 4, p, &transient, err_out);
	if (res != NULL && PQntuples(res) == 0 && prefer != NULL) {
		PQclear(res);
		p[3] = NULL;
		res = db_exec(db, claim_sql, 4, p, &transient, err_out);
	}
	xfree(arr);
	if (res == NULL)
		return transient ? -2 : -1;
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return 0;
	}
	out->message_id = xstrdup(PQgetvalue(res, 0, 3));
	out->domain = xstrdup(PQgetvalue(res, 0, 4));
	out->rcpts = xcalloc((size_t)n, sizeof(*out->rcpts));
	out->nrcpt = (size_t)n;
	for (i = 0; i < n; i++) {
		uint64_t v;
		(void)num_parse_u64_str(PQgetvalue(res, i, 0), 0, INT64_MAX, &v);
		out->rcpts[i].id = (int64_t)v;
		out->rcpts[i].rcpt = xstrdup(PQgetvalue(res, i, 1));
		(void)num_parse_u64_str(PQgetvalue(res, i, 2), 0, INT32_MAX, &v);
		out->rcpts[i].attempts = (int)v;
	}
	PQclear(res);

	p[0] = out->message_id;
	res = db_exec(db, "SELECT mail_from, requiretls, body_type,"
	    " extract(epoch FROM received_at)::bigint, tls_required,"
	    " escrow_notice FROM messages"
	    " WHERE id = $1", 1, p, &transient, err_out);
	if (res == NULL || PQntuples(res) != 1) {
		if (res != NULL && err_out != NULL)
			*err_out = xstrdup("claimed message vanished");
		delivery_batch_free(out);
		return fail(res, transient);
	}
	out->mail_from = xstrdup(PQgetvalue(res, 0, 0));
	out->requiretls = PQgetvalue(res, 0, 1)[0] == 't';
	out->body_8bit = strcmp(PQgetvalue(res, 0, 2), "8BITMIME") == 0;
	out->tls_required = PQgetvalue(res, 0, 4)[0] == 't';
	out->escrow_notice = PQgetvalue(res, 0, 5)[0] == 't';
	{
		uint64_t v = 0;
		(void)num_parse_u64_str(PQgetvalue(res, 0, 3), 0, INT64_MAX,
		    &v);
		out->received_at = (long long)v;
	}
	PQclear(res);
	if (queue_db_data(db, out->message_id, &data, &len, err_out) != 1) {
		delivery_batch_free(out);
		return -1;
	}
	out->data = data;
	out->len = len;
	return 1;
}

int
delivery_db_finish(struct db *db, const char *owner,
    const struct delivery_attempt *a, unsigned retry_secs, char **err_out)
{
	char rid[24], bits[16], dur[16], retry[16], ruleb[24];
	const char *state = delivery_outcome_name(a->outcome);
	const char *p1[17], *p2[5];
	PGresult *res;
	int transient = 0, r, n;

	snprintf(rid, sizeof(rid), "%lld", (long long)a->recipient_id);
	snprintf(bits, sizeof(bits), "%d", a->tls_bits);
	snprintf(dur, sizeof(dur), "%u", a->duration_ms);
	snprintf(retry, sizeof(retry), "%u", retry_secs);

	r = db_begin(db, err_out);
	if (r < 0)
		return r;
	p2[0] = state;
	p2[1] = retry;
	p2[2] = a->reply;
	p2[3] = rid;
	p2[4] = owner;
	res = db_exec(db, "UPDATE recipients SET state = $1,"
	    " next_attempt_at = CASE WHEN $1 = 'deferred'"
	    "   THEN now() + make_interval(secs => $2::int)"
	    "   ELSE next_attempt_at END,"
	    " last_reply = $3, lease_owner = NULL, lease_until = NULL,"
	    " updated_at = now()"
	    " WHERE id = $4::bigint AND lease_owner = $5", 5, p2, &transient,
	    err_out);
	if (res == NULL) {
		db_rollback(db);
		return transient ? -2 : -1;
	}
	n = (int)strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	if (n != 1) {
		db_rollback(db);
		if (err_out != NULL)
			*err_out = xstrdup("lease lost");
		return -1;
	}
	p1[0] = a->message_id;
	p1[1] = rid;
	p1[2] = a->rcpt;
	p1[3] = a->method;
	p1[4] = a->tls_level;
	p1[5] = a->reason;
	p1[6] = a->mx_host;
	p1[7] = a->mx_addr;
	p1[8] = a->tls_protocol;
	p1[9] = a->tls_cipher;
	p1[10] = a->tls_protocol != NULL ? bits : NULL;
	p1[11] = a->tls_verified != NULL ? a->tls_verified : "none";
	p1[12] = delivery_outcome_name(a->outcome);
	p1[13] = a->reply;
	p1[14] = dur;
	snprintf(ruleb, sizeof(ruleb), "%lld", a->rule_id);
	p1[15] = a->rule_id > 0 ? ruleb : NULL;
	res = db_exec(db, "INSERT INTO delivery_attempts (message_id,"
	    " recipient_id, rcpt, method, tls_level, reason, mx_host, mx_addr,"
	    " tls_protocol, tls_cipher, tls_bits, tls_verified, outcome, reply,"
	    " duration_ms, rule_id) VALUES ($1, $2::bigint, $3, $4, $5, $6, $7,"
	    " $8, $9, $10, $11::int, $12, $13, $14, $15::int, $16::bigint)", 16,
	    p1, &transient, err_out);
	if (res == NULL) {
		db_rollback(db);
		return transient ? -2 : -1;
	}
	PQclear(res);
	/*
	 * Escrowed content lives only sealed: once no recipient of a message
	 * with an escrowed one (or of an escrow notification, which holds a
	 * live link, or of a portal reply) is waiting, the queue's plaintext
	 * copy is wiped.
	 */
	if (a->outcome != DELIVERY_DEFERRED) {
		res = db_exec(db, "UPDATE messages m SET data = ''::bytea"
		    " WHERE m.id = $1 AND length(m.data) > 0"
		    " AND (m.escrow_notice OR m.tls_required OR EXISTS (SELECT 1"
		    "  FROM recipients"
		    "  WHERE message_id = $1 AND state = 'escrowed'))"
		    " AND NOT EXISTS (SELECT 1 FROM recipients"
		    "  WHERE message_id = $1 AND state IN ('queued', 'deferred'))",
		    1, p1, &transient, err_out);
		if (res == NULL) {
			db_rollback(db);
			return transient ? -2 : -1;
		}
		PQclear(res);
	}
	return db_commit(db, err_out);
}

int
delivery_db_release_node(struct db *db, const char *prefix, long *freed_out,
    char **err_out)
{
	const char *p[1] = { prefix };
	PGresult *res;
	int transient = 0;

	res = db_exec(db, "UPDATE recipients SET lease_owner = NULL,"
	    " lease_until = NULL WHERE lease_owner IS NOT NULL"
	    " AND starts_with(lease_owner, $1)", 1, p, &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	if (freed_out != NULL)
		*freed_out = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

int
delivery_db_next_due(struct db *db, double *secs_out, char **err_out)
{
	PGresult *res;
	int transient = 0;

	res = db_exec(db, "SELECT extract(epoch FROM min(next_attempt_at)"
	    " - now()) FROM recipients WHERE state IN ('queued', 'deferred')"
	    " AND lease_owner IS NULL", 0, NULL, &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	if (PQgetisnull(res, 0, 0)) {
		*secs_out = -1;
	} else {
		*secs_out = strtod(PQgetvalue(res, 0, 0), NULL);
		if (*secs_out < 0)
			*secs_out = 0;
	}
	PQclear(res);
	return 0;
}
