/*
 * domain_db.c - the domain TLS status cache and its history (see
 * domain_db.h). Parameterized SQL only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain_db.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

#define DOMAIN_DB_RETRIES 2	/* a transaction cut by a reconnect */

/* --- small helpers ------------------------------------------------------ */

static char *
col_str(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL :
	    xstrdup(PQgetvalue(res, row, col));
}

static int
col_tri(PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return -1;
	return PQgetvalue(res, row, col)[0] == 't';
}

static long long
col_ll(PGresult *res, int row, int col, long long dflt)
{
	const char *v;
	int neg;
	uint64_t u;

	if (PQgetisnull(res, row, col))
		return dflt;
	v = PQgetvalue(res, row, col);
	neg = v[0] == '-';
	if (num_parse_u64_str(v + neg, 0, INT64_MAX, &u) < 0)
		return dflt;
	return neg ? -(long long)u : (long long)u;
}

static const char *
tri_param(int v)
{
	return v < 0 ? NULL : v ? "true" : "false";
}

/* same_str - equal, with NULL and "" as one value */
static int
same_str(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* --- reading ------------------------------------------------------------ */

int
domain_db_get(struct db *db, const char *domain, struct domain_status *out,
    char **err_out)
{
	const char *p[1] = { domain };
	PGresult *res;
	int transient = 0;

	memset(out, 0, sizeof(*out));
	res = db_exec(db, "SELECT domain,"
	    " extract(epoch FROM probed_at)::bigint,"
	    " extract(epoch FROM next_probe_at)::bigint,"
	    " extract(epoch FROM last_seen_at)::bigint,"
	    " tls_capable, verify_mode, mx_count, min_protocol,"
	    " min_cipher_bits, mta_sts_mode, mta_sts_id, dane, facts::text,"
	    " error FROM domain_tls_status WHERE domain = lower($1)", 1, p,
	    &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	out->domain = col_str(res, 0, 0);
	out->probed_at = col_ll(res, 0, 1, 0);
	out->next_probe_at = col_ll(res, 0, 2, 0);
	out->last_seen_at = col_ll(res, 0, 3, 0);
	out->tls_capable = col_tri(res, 0, 4);
	out->verify_mode = col_str(res, 0, 5);
	out->mx_count = (int)col_ll(res, 0, 6, -1);
	out->min_protocol = col_str(res, 0, 7);
	out->min_cipher_bits = (int)col_ll(res, 0, 8, -1);
	out->mta_sts_mode = col_str(res, 0, 9);
	out->mta_sts_id = col_str(res, 0, 10);
	out->dane = col_tri(res, 0, 11);
	out->facts = col_str(res, 0, 12);
	out->error = col_str(res, 0, 13);
	PQclear(res);
	return 1;
}

void
domain_status_release(struct domain_status *s)
{
	xfree(s->domain);
	xfree(s->verify_mode);
	xfree(s->min_protocol);
	xfree(s->mta_sts_mode);
	xfree(s->mta_sts_id);
	xfree(s->facts);
	xfree(s->error);
	memset(s, 0, sizeof(*s));
}

/* --- storing a probe ---------------------------------------------------- */

static const char store_conclusive_sql[] =
    "UPDATE domain_tls_status SET probed_at = now(),"
    " next_probe_at = now() + make_interval(secs => $2::int),"
    " probe_lease_until = NULL, tls_capable = $3::boolean,"
    " verify_mode = $4, mx_count = $5::int, min_protocol = $6,"
    " min_cipher_bits = $7::int, mta_sts_mode = $8, mta_sts_id = $9,"
    " dane = $10::boolean, facts = $11::jsonb, error = $12"
    " WHERE domain = lower($1)";

static const char store_inconclusive_sql[] =
    "UPDATE domain_tls_status SET probed_at = now(),"
    " next_probe_at = now() + make_interval(secs => $2::int),"
    " probe_lease_until = NULL, facts = $3::jsonb, error = $4"
    " WHERE domain = lower($1)";

static const char history_sql[] =
    "INSERT INTO domain_tls_history (domain, old_tls_capable,"
    " new_tls_capable, old_verify_mode, new_verify_mode, old_mta_sts_mode,"
    " new_mta_sts_mode, old_dane, new_dane) VALUES (lower($1),"
    " $2::boolean, $3::boolean, $4, $5, $6, $7, $8::boolean, $9::boolean)";

/* exec_in_tx - one statement of the open transaction; 0 / -1 / -2 */
static int
exec_in_tx(struct db *db, const char *sql, int n, const char *const *p,
    PGresult **res_out, char **err_out)
{
	int transient = 0;
	PGresult *res = db_exec(db, sql, n, p, &transient, err_out);

	if (res == NULL)
		return transient ? -2 : -1;
	if (res_out != NULL)
		*res_out = res;
	else
		PQclear(res);
	return 0;
}

static int
store_once(struct db *db, const struct domain_db_update *u,
    struct domain_db_change *chg, char **err_out)
{
	const char *p[12];
	char secs[16], mxn[16], bits[16];
	PGresult *res = NULL;
	int r, old_cap, old_dane;
	char *old_mode = NULL, *old_sts = NULL;

	memset(chg, 0, sizeof(*chg));
	chg->old_tls_capable = -1;
	chg->old_dane = -1;
	snprintf(secs, sizeof(secs), "%u", u->next_probe_secs);
	snprintf(mxn, sizeof(mxn), "%d", u->mx_count);
	snprintf(bits, sizeof(bits), "%d", u->min_cipher_bits);
	r = db_begin(db, err_out);
	if (r < 0)
		return r;
	p[0] = u->domain;
	r = exec_in_tx(db, "INSERT INTO domain_tls_status (domain)"
	    " VALUES (lower($1)) ON CONFLICT (domain) DO NOTHING", 1, p, NULL,
	    err_out);
	if (r == 0)
		r = exec_in_tx(db, "SELECT tls_capable, verify_mode,"
		    " mta_sts_mode, dane FROM domain_tls_status"
		    " WHERE domain = lower($1) FOR UPDATE", 1, p, &res,
		    err_out);
	if (r < 0)
		goto fail;
	if (PQntuples(res) != 1) {
		PQclear(res);
		if (err_out != NULL)
			*err_out = xstrdup("domain_tls_status: row vanished");
		r = -1;
		goto fail;
	}
	old_cap = col_tri(res, 0, 0);
	old_mode = col_str(res, 0, 1);
	old_sts = col_str(res, 0, 2);
	old_dane = col_tri(res, 0, 3);
	PQclear(res);
	chg->old_tls_capable = old_cap;
	chg->old_dane = old_dane;
	snprintf(chg->old_verify_mode, sizeof(chg->old_verify_mode), "%s",
	    old_mode != NULL ? old_mode : "");
	snprintf(chg->old_mta_sts_mode, sizeof(chg->old_mta_sts_mode), "%s",
	    old_sts != NULL ? old_sts : "");
	chg->first = old_cap < 0;

	p[1] = secs;
	if (u->conclusive) {
		p[2] = tri_param(u->tls_capable != 0);
		p[3] = u->verify_mode;
		p[4] = mxn;
		p[5] = u->min_protocol;
		p[6] = u->min_cipher_bits > 0 ? bits : NULL;
		p[7] = u->mta_sts_mode;
		p[8] = u->mta_sts_id;
		p[9] = tri_param(u->dane);
		p[10] = u->facts;
		p[11] = u->error;
		r = exec_in_tx(db, store_conclusive_sql, 12, p, NULL, err_out);
		if (r < 0)
			goto fail;
		chg->changed = old_cap != (u->tls_capable != 0) ||
		    !same_str(old_mode, u->verify_mode) ||
		    !same_str(old_sts, u->mta_sts_mode) || old_dane != u->dane;
		if (chg->changed) {
			p[1] = tri_param(old_cap);
			p[2] = tri_param(u->tls_capable != 0);
			p[3] = old_mode;
			p[4] = u->verify_mode;
			p[5] = old_sts;
			p[6] = u->mta_sts_mode;
			p[7] = tri_param(old_dane);
			p[8] = tri_param(u->dane);
			r = exec_in_tx(db, history_sql, 9, p, NULL, err_out);
			if (r < 0)
				goto fail;
		}
	} else {
		p[2] = u->facts;
		p[3] = u->error;
		r = exec_in_tx(db, store_inconclusive_sql, 4, p, NULL, err_out);
		if (r < 0)
			goto fail;
	}
	xfree(old_mode);
	xfree(old_sts);
	return db_commit(db, err_out);
fail:
	xfree(old_mode);
	xfree(old_sts);
	db_rollback(db);
	return r;
}

int
domain_db_store(struct db *db, const struct domain_db_update *u,
    struct domain_db_change *chg, char **err_out)
{
	struct domain_db_change scratch;
	int r = -1, t;

	if (chg == NULL)
		chg = &scratch;
	for (t = 0; t < DOMAIN_DB_RETRIES; t++) {
		if (t > 0 && err_out != NULL) {
			xfree(*err_out);
			*err_out = NULL;
		}
		r = store_once(db, u, chg, err_out);
		if (r != -2)
			break;
	}
	return r;
}

/* --- seen, requested, due ----------------------------------------------- */

static int
exec_simple(struct db *db, const char *sql, int n, const char *const *p,
    long *rows_out, char **err_out)
{
	int transient = 0;
	PGresult *res = db_exec(db, sql, n, p, &transient, err_out);
	uint64_t v = 0;

	if (res == NULL)
		return transient ? -2 : -1;
	if (rows_out != NULL) {
		(void)num_parse_u64_str(PQcmdTuples(res), 0, INT64_MAX, &v);
		*rows_out = (long)v;
	}
	PQclear(res);
	return 0;
}

int
domain_db_mark_seen(struct db *db, const char *domain, char **err_out)
{
	const char *p[1] = { domain };

	return exec_simple(db, "INSERT INTO domain_tls_status (domain,"
	    " last_seen_at) VALUES (lower($1), now()) ON CONFLICT (domain)"
	    " DO UPDATE SET last_seen_at = now()", 1, p, NULL, err_out);
}

int
domain_db_request_probe(struct db *db, const char *domain, int force,
    char **err_out)
{
	const char *p[2] = { domain, force ? "true" : "false" };

	/* pg_notify() is sent at commit: after the row exists */
	return exec_simple(db, "WITH s AS (INSERT INTO domain_tls_status"
	    " (domain, last_seen_at) VALUES (lower($1), now())"
	    " ON CONFLICT (domain) DO UPDATE SET last_seen_at = now(),"
	    " next_probe_at = CASE WHEN $2::boolean THEN now()"
	    " ELSE domain_tls_status.next_probe_at END RETURNING domain)"
	    " SELECT pg_notify('" DOMAIN_DB_NOTIFY_CHANNEL "', s.domain)"
	    " FROM s", 2, p, NULL, err_out);
}

int
domain_db_sync_seen(struct db *db, unsigned since_secs, long *n_out,
    char **err_out)
{
	char secs[16];
	const char *p[1] = { secs };
	long n = 0;
	int r;

	snprintf(secs, sizeof(secs), "%u", since_secs);
	/* host names only: an address literal has no MX to probe */
	r = exec_simple(db, "INSERT INTO domain_tls_status (domain,"
	    " last_seen_at) SELECT r.domain, max(m.received_at)"
	    " FROM messages m JOIN recipients r ON r.message_id = m.id"
	    " WHERE m.received_at > now() - make_interval(secs => $1::int)"
	    "   AND r.domain ~ '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$'"
	    " GROUP BY r.domain ON CONFLICT (domain) DO UPDATE"
	    " SET last_seen_at = GREATEST(domain_tls_status.last_seen_at,"
	    " EXCLUDED.last_seen_at)", 1, p, &n, err_out);
	if (n_out != NULL)
		*n_out = n;
	return r;
}

int
domain_db_claim_due(struct db *db, unsigned seen_days, unsigned lease_secs,
    size_t max, char ***domains_out, size_t *n_out, char **err_out)
{
	char days[16], lease[16], lim[24];
	const char *p[3] = { days, lease, lim };
	PGresult *res;
	int transient = 0, i, n;

	*domains_out = NULL;
	*n_out = 0;
	snprintf(days, sizeof(days), "%u", seen_days);
	snprintf(lease, sizeof(lease), "%u", lease_secs);
	snprintf(lim, sizeof(lim), "%zu", max);
	res = db_exec(db, "UPDATE domain_tls_status d SET probe_lease_until ="
	    " now() + make_interval(secs => $2::int) FROM (SELECT domain"
	    " FROM domain_tls_status WHERE next_probe_at <= now()"
	    "   AND last_seen_at >= now() - make_interval(days => $1::int)"
	    "   AND (probe_lease_until IS NULL OR probe_lease_until < now())"
	    " ORDER BY probed_at NULLS FIRST, next_probe_at"
	    " LIMIT $3::int FOR UPDATE SKIP LOCKED) due"
	    " WHERE d.domain = due.domain RETURNING d.domain", 3, p,
	    &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	n = PQntuples(res);
	if (n > 0) {
		*domains_out = xcalloc((size_t)n, sizeof(char *));
		for (i = 0; i < n; i++)
			(*domains_out)[i] = xstrdup(PQgetvalue(res, i, 0));
	}
	*n_out = (size_t)n;
	PQclear(res);
	return 0;
}

void
domain_db_list_free(char ***listp, size_t n)
{
	size_t i;

	if (*listp == NULL)
		return;
	for (i = 0; i < n; i++)
		xfree((*listp)[i]);
	xfree(*listp);
	*listp = NULL;
}

int
domain_db_claim(struct db *db, const char *domain, unsigned lease_secs,
    char **err_out)
{
	char lease[16];
	const char *p[2] = { domain, lease };
	long n = 0;
	int r;

	snprintf(lease, sizeof(lease), "%u", lease_secs);
	r = exec_simple(db, "UPDATE domain_tls_status SET probe_lease_until ="
	    " now() + make_interval(secs => $2::int) WHERE domain = lower($1)"
	    "   AND (probed_at IS NULL OR next_probe_at <= now())"
	    "   AND (probe_lease_until IS NULL OR probe_lease_until < now())",
	    2, p, &n, err_out);
	if (r < 0)
		return r;
	return n > 0;
}

int
domain_db_history(struct db *db, const char *domain, size_t limit,
    struct domain_history **out, size_t *n_out, char **err_out)
{
	char lim[24];
	const char *p[2] = { domain, lim };
	PGresult *res;
	int transient = 0, i, n;

	*out = NULL;
	*n_out = 0;
	snprintf(lim, sizeof(lim), "%zu", limit);
	res = db_exec(db, "SELECT * FROM (SELECT to_char(at AT TIME ZONE"
	    " 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), old_tls_capable,"
	    " new_tls_capable, old_verify_mode, new_verify_mode,"
	    " old_mta_sts_mode, new_mta_sts_mode, old_dane, new_dane, id"
	    " FROM domain_tls_history WHERE domain = lower($1)"
	    " ORDER BY id DESC LIMIT $2::int) t ORDER BY id", 2, p,
	    &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	n = PQntuples(res);
	if (n > 0)
		*out = xcalloc((size_t)n, sizeof(**out));
	for (i = 0; i < n; i++) {
		struct domain_history *h = &(*out)[i];

		h->at = col_str(res, i, 0);
		h->old_tls_capable = col_tri(res, i, 1);
		h->new_tls_capable = col_tri(res, i, 2);
		h->old_verify_mode = col_str(res, i, 3);
		h->new_verify_mode = col_str(res, i, 4);
		h->old_mta_sts_mode = col_str(res, i, 5);
		h->new_mta_sts_mode = col_str(res, i, 6);
		h->old_dane = col_tri(res, i, 7);
		h->new_dane = col_tri(res, i, 8);
	}
	*n_out = (size_t)n;
	PQclear(res);
	return 0;
}

void
domain_db_history_free(struct domain_history **hp, size_t n)
{
	size_t i;

	if (*hp == NULL)
		return;
	for (i = 0; i < n; i++) {
		xfree((*hp)[i].at);
		xfree((*hp)[i].old_verify_mode);
		xfree((*hp)[i].new_verify_mode);
		xfree((*hp)[i].old_mta_sts_mode);
		xfree((*hp)[i].new_mta_sts_mode);
	}
	xfree(*hp);
	*hp = NULL;
}
