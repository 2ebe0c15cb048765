/*
 * key_db.c - recipient_keys and key_lookups. See key_db.h for the rules
 * (automatic keys that differ from the one in use wait for review).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "key_db.h"
#include "lib/xalloc.h"

#define KEY_COLS "id, kind, address, fingerprint, source, status, note," \
	" smime_cipher, extract(epoch FROM not_before)::bigint," \
	" extract(epoch FROM not_after)::bigint," \
	" extract(epoch FROM created_at)::bigint," \
	" extract(epoch FROM first_used)::bigint," \
	" extract(epoch FROM last_used)::bigint," \
	" extract(epoch FROM reviewed_at)::bigint"
#define KEY_NCOLS 14

void
key_rows_free(struct key_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		xfree(rows[i].kind);
		xfree(rows[i].address);
		xfree(rows[i].fingerprint);
		xfree(rows[i].source);
		xfree(rows[i].status);
		xfree(rows[i].note);
		xfree(rows[i].smime_cipher);
		if (rows[i].material != NULL)
			PQfreemem(rows[i].material);
	}
	xfree(rows);
}

static long long
col_ll(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 :
	    strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static struct key_row *
rows_from(PGresult *res, int with_material, size_t *n_out)
{
	int i, n = PQntuples(res);
	struct key_row *rows = xcalloc((size_t)n + 1, sizeof(*rows));

	for (i = 0; i < n; i++) {
		struct key_row *k = &rows[i];

		k->id = col_ll(res, i, 0);
		k->kind = xstrdup(PQgetvalue(res, i, 1));
		k->address = xstrdup(PQgetvalue(res, i, 2));
		k->fingerprint = xstrdup(PQgetvalue(res, i, 3));
		k->source = xstrdup(PQgetvalue(res, i, 4));
		k->status = xstrdup(PQgetvalue(res, i, 5));
		k->note = xstrdup(PQgetvalue(res, i, 6));
		k->smime_cipher = PQgetisnull(res, i, 7) ? NULL :
		    xstrdup(PQgetvalue(res, i, 7));
		k->not_before = col_ll(res, i, 8);
		k->not_after = col_ll(res, i, 9);
		k->created_at = col_ll(res, i, 10);
		k->first_used = col_ll(res, i, 11);
		k->last_used = col_ll(res, i, 12);
		k->reviewed_at = col_ll(res, i, 13);
		if (with_material) {
			size_t len = 0;
			k->material = PQunescapeBytea((const unsigned char *)
			    PQgetvalue(res, i, KEY_NCOLS), &len);
			k->material_len = k->material != NULL ? len : 0;
		}
	}
	*n_out = (size_t)n;
	return rows;
}

static int
finish(struct db *db, int r, char **err_out)
{
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	return db_commit(db, err_out);
}

int
key_db_add(struct db *db, const struct key_new *k, long long *id_out,
    char *status_out, char **err_out)
{
	char nb[24], na[24];
	const char *p[10];
	int len[10] = { 0 }, fmt[10] = { 0 };
	int admin = strcmp(k->source, "admin") == 0;
	int transient = 0, r;
	PGresult *res;

	snprintf(nb, sizeof(nb), "%lld", k->not_before);
	snprintf(na, sizeof(na), "%lld", k->not_after);
	p[0] = k->kind;
	p[1] = k->address;
	p[2] = k->fingerprint;
	p[3] = k->source;
	p[4] = k->not_before > 0 ? nb : NULL;
	p[5] = k->not_after > 0 ? na : NULL;
	p[6] = k->smime_cipher;
	p[7] = (const char *)k->material;
	len[7] = (int)k->material_len;
	fmt[7] = 1;
	p[8] = k->note != NULL ? k->note : "";
	p[9] = admin ? "1" : "0";
	if ((r = db_begin(db, err_out)) < 0)
		return r;
	/* one writer per address and kind at a time */
	r = db_run(db, "SELECT pg_advisory_xact_lock(hashtext($1 || ':' ||"
	    " $2))", 2, p, NULL, err_out);
	if (r < 0)
		return finish(db, r, err_out);
	/*
	 * New key: active when admin-imported or when the address has no
	 * other active key of this kind; pending otherwise. Known key:
	 * refresh validity and material; an admin import activates it.
	 */
	res = db_exec_bin(db,
	    "INSERT INTO recipient_keys (kind, address, fingerprint, source,"
	    " status, not_before, not_after, smime_cipher, material, note)"
	    " VALUES ($1, $2, lower($3), $4,"
	    "  CASE WHEN $10 = '1' OR NOT EXISTS (SELECT 1 FROM recipient_keys"
	    "   WHERE kind = $1 AND address = $2 AND status = 'active'"
	    "   AND fingerprint <> lower($3)) THEN 'active' ELSE 'pending' END,"
	    "  to_timestamp($5::bigint), to_timestamp($6::bigint), $7, $8, $9)"
	    " ON CONFLICT (kind, address, fingerprint) DO UPDATE SET"
	    "  not_before = EXCLUDED.not_before, not_after = EXCLUDED.not_after,"
	    "  material = EXCLUDED.material,"
	    "  smime_cipher = coalesce(EXCLUDED.smime_cipher,"
	    "   recipient_keys.smime_cipher),"
	    "  status = CASE WHEN $10 = '1' THEN 'active'"
	    "   ELSE recipient_keys.status END,"
	    "  source = CASE WHEN $10 = '1' THEN 'admin'"
	    "   ELSE recipient_keys.source END"
	    " RETURNING id, status", 10, p, len, fmt, 0, &transient, err_out);
	if (res == NULL)
		return finish(db, transient ? -2 : -1, err_out);
	*id_out = col_ll(res, 0, 0);
	snprintf(status_out, 16, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return finish(db, 0, err_out);
}

int
key_db_find(struct db *db, const char *kind, const char *address,
    long long now, struct key_row **out, size_t *n_out,
    enum key_state *state_out, char **err_out)
{
	char nowb[24];
	const char *p[3] = { kind, address, nowb };
	PGresult *res;
	struct key_row *all;
	size_t n, i, k = 0;
	int r, expired = 0, pending = 0;

	*out = NULL;
	*n_out = 0;
	*state_out = KEY_NONE;
	snprintf(nowb, sizeof(nowb), "%lld", now);
	r = db_run(db, "SELECT " KEY_COLS ", material FROM recipient_keys"
	    " WHERE kind = $1 AND address = $2"
	    "  AND status IN ('active', 'pending')"
	    " ORDER BY coalesce(not_before, created_at) DESC, id DESC",
	    2, p, &res, err_out);
	if (r < 0)
		return r;
	all = rows_from(res, 1, &n);
	PQclear(res);
	/* keep the usable ones at the front */
	for (i = 0; i < n; i++) {
		int ok = strcmp(all[i].status, "active") == 0;
		if (ok && ((all[i].not_after != 0 && all[i].not_after < now) ||
		    all[i].not_before > now)) {
			expired = 1;
			ok = 0;
		}
		if (!ok && strcmp(all[i].status, "pending") == 0)
			pending = 1;
		if (ok) {
			struct key_row t = all[k];
			all[k++] = all[i];
			all[i] = t;
		}
	}
	if (k > 0)
		*state_out = KEY_OK;
	else if (expired)
		*state_out = KEY_EXPIRED;
	else if (pending)
		*state_out = KEY_PENDING;
	for (i = k; i < n; i++) {
		struct key_row *t = &all[i];
		xfree(t->kind);
		xfree(t->address);
		xfree(t->fingerprint);
		xfree(t->source);
		xfree(t->status);
		xfree(t->note);
		xfree(t->smime_cipher);
		if (t->material != NULL)
			PQfreemem(t->material);
		memset(t, 0, sizeof(*t));
	}
	*out = all;
	*n_out = k;
	return 0;
}

int
key_db_used(struct db *db, long long id, char **err_out)
{
	char idb[24];
	const char *p[1] = { idb };

	snprintf(idb, sizeof(idb), "%lld", id);
	return db_run(db, "UPDATE recipient_keys SET last_used = now(),"
	    " first_used = coalesce(first_used, now()) WHERE id = $1::bigint",
	    1, p, NULL, err_out);
}

int
key_db_list(struct db *db, const char *address, struct key_row **out,
    size_t *n_out, char **err_out)
{
	const char *p[1] = { address };
	PGresult *res;
	int r;

	*out = NULL;
	*n_out = 0;
	r = db_run(db, "SELECT " KEY_COLS " FROM recipient_keys"
	    " WHERE $1::text IS NULL OR address = $1"
	    " ORDER BY address, kind, created_at DESC, id DESC", 1, p, &res,
	    err_out);
	if (r < 0)
		return r;
	*out = rows_from(res, 0, n_out);
	PQclear(res);
	return 0;
}

int
key_db_review(struct db *db, long long id, int approve, char **err_out)
{
	char idb[24];
	const char *p[1] = { idb };
	PGresult *res;
	int r, found;

	snprintf(idb, sizeof(idb), "%lld", id);
	if ((r = db_begin(db, err_out)) < 0)
		return r;
	r = db_run(db, approve ?
	    "UPDATE recipient_keys SET status = 'active', reviewed_at = now()"
	    " WHERE id = $1::bigint RETURNING kind, address" :
	    "UPDATE recipient_keys SET status = 'rejected', reviewed_at = now()"
	    " WHERE id = $1::bigint RETURNING kind, address", 1, p, &res,
	    err_out);
	if (r < 0)
		return finish(db, r, err_out);
	found = PQntuples(res) > 0;
	if (found && approve) {
		const char *q[3] = { idb, PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1) };
		r = db_run(db, "UPDATE recipient_keys SET status = 'retired',"
		    " note = 'replaced by key ' || $1"
		    " WHERE kind = $2 AND address = $3 AND status = 'active'"
		    " AND id <> $1::bigint", 3, q, NULL, err_out);
	}
	PQclear(res);
	r = finish(db, r, err_out);
	return r < 0 ? r : !found;
}

int
key_db_delete(struct db *db, long long id, char **err_out)
{
	char idb[24];
	const char *p[1] = { idb };
	PGresult *res;
	int r, found;

	snprintf(idb, sizeof(idb), "%lld", id);
	r = db_run(db, "DELETE FROM recipient_keys WHERE id = $1::bigint", 1,
	    p, &res, err_out);
	if (r < 0)
		return r;
	found = strtol(PQcmdTuples(res), NULL, 10) > 0;
	PQclear(res);
	return !found;
}

int
key_lookup_fresh(struct db *db, const char *address, const char *method,
    unsigned max_age, int *found_out, char **err_out)
{
	char age[16];
	const char *p[3] = { address, method, age };
	PGresult *res;
	int r, fresh;

	snprintf(age, sizeof(age), "%u", max_age);
	r = db_run(db, "SELECT found FROM key_lookups WHERE address = $1"
	    " AND method = $2 AND checked_at > now() - make_interval(secs =>"
	    " $3::int)", 3, p, &res, err_out);
	if (r < 0)
		return r;
	fresh = PQntuples(res) > 0;
	*found_out = fresh && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return fresh;
}

int
key_lookup_note(struct db *db, const char *address, const char *method,
    int found, const char *detail, char **err_out)
{
	const char *p[4] = { address, method, found ? "t" : "f",
	    detail != NULL ? detail : "" };

	return db_run(db, "INSERT INTO key_lookups (address, method, found,"
	    " detail) VALUES ($1, $2, $3::boolean, $4)"
	    " ON CONFLICT (address, method) DO UPDATE SET checked_at = now(),"
	    " found = EXCLUDED.found, detail = EXCLUDED.detail", 4, p, NULL,
	    err_out);
}
