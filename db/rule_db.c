/*
 * rule_db.c - policy_rules: load, add, delete, move. Positions are kept
 * dense (1..n) inside one transaction per change; the unique constraint
 * on position is DEFERRABLE so renumbering may pass through duplicates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_db.h"
#include "lib/xalloc.h"

static const char *
chain_text(const struct policy_chain *c, char *buf, size_t n)
{
	policy_chain_format(c, buf, n);
	return buf;
}

void
rule_set_free(struct rule_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		xfree((char *)s->rules[i].sender);
		xfree((char *)s->rules[i].rcpt);
		xfree((char *)s->rules[i].tag);
		xfree(s->comments[i]);
	}
	xfree(s->rules);
	xfree(s->comments);
	memset(s, 0, sizeof(*s));
}

int
rule_db_load(struct db *db, struct rule_set *out, char **err_out)
{
	PGresult *res;
	int r, i, n;

	memset(out, 0, sizeof(*out));
	r = db_run(db, "SELECT id, position, sender_match, rcpt_match, tag,"
	    " chain, tls_floor, on_exhausted, comment FROM policy_rules"
	    " ORDER BY position", 0, NULL, &res, err_out);
	if (r < 0)
		return r;
	n = PQntuples(res);
	out->rules = xcalloc((size_t)n + 1, sizeof(*out->rules));
	out->comments = xcalloc((size_t)n + 1, sizeof(*out->comments));
	for (i = 0; i < n; i++) {
		struct policy_rule *pr = &out->rules[i];
		char why[120];

		pr->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		pr->position = (int)strtol(PQgetvalue(res, i, 1), NULL, 10);
		pr->sender = xstrdup(PQgetvalue(res, i, 2));
		pr->rcpt = xstrdup(PQgetvalue(res, i, 3));
		pr->tag = PQgetisnull(res, i, 4) ? NULL :
		    xstrdup(PQgetvalue(res, i, 4));
		out->comments[i] = xstrdup(PQgetvalue(res, i, 8));
		out->n = (size_t)i + 1;
		if (policy_chain_parse(PQgetvalue(res, i, 5), &pr->chain, why,
		    sizeof(why)) < 0 || policy_floor_parse(PQgetvalue(res, i,
		    6), &pr->chain.floor) < 0) {
			if (err_out != NULL)
				*err_out = xasprintf("rule %lld: %s", pr->id,
				    why);
			PQclear(res);
			rule_set_free(out);
			return -1;
		}
		pr->chain.bounce = strcmp(PQgetvalue(res, i, 7), "bounce") == 0;
	}
	PQclear(res);
	return 0;
}

/* renumber - positions 1..n in the current order (inside a transaction) */
static int
renumber(struct db *db, char **err_out)
{
	return db_run(db, "UPDATE policy_rules r SET position = o.rn"
	    " FROM (SELECT id, row_number() OVER (ORDER BY position, id) rn"
	    " FROM policy_rules) o WHERE r.id = o.id AND r.position <> o.rn",
	    0, NULL, NULL, err_out);
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
rule_db_add(struct db *db, const struct policy_rule *pr, const char *comment,
    int pos, long long *id_out, char **err_out)
{
	char posb[16], chain[64];
	const char *p[8];
	PGresult *res = NULL;
	int r;

	if ((r = db_begin(db, err_out)) < 0)
		return r;
	r = db_run(db, "SET CONSTRAINTS policy_rules_position_key DEFERRED",
	    0, NULL, NULL, err_out);
	snprintf(posb, sizeof(posb), "%d", pos);
	p[0] = posb;
	/* make room: rules at pos and after move down one */
	if (r == 0 && pos > 0)
		r = db_run(db, "UPDATE policy_rules SET position = position + 1"
		    " WHERE position >= $1::int", 1, p, NULL, err_out);
	p[1] = pr->sender;
	p[2] = pr->rcpt;
	p[3] = pr->tag;
	p[4] = chain_text(&pr->chain, chain, sizeof(chain));
	p[5] = policy_floor_name(pr->chain.floor);
	p[6] = pr->chain.bounce ? "bounce" : "defer";
	p[7] = comment != NULL ? comment : "";
	if (r == 0)
		r = db_run(db, "INSERT INTO policy_rules (position, sender_match,"
		    " rcpt_match, tag, chain, tls_floor, on_exhausted, comment)"
		    " VALUES (CASE WHEN $1::int > 0 THEN $1::int ELSE"
		    " (SELECT coalesce(max(position), 0) + 1 FROM policy_rules)"
		    " END, $2, $3, $4, $5, $6, $7, $8) RETURNING id", 8, p,
		    &res, err_out);
	if (r == 0) {
		*id_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		r = renumber(db, err_out);
	}
	return finish(db, r, err_out);
}

int
rule_db_delete(struct db *db, long long id, char **err_out)
{
	char idb[24];
	const char *p[1] = { idb };
	PGresult *res = NULL;
	int r, gone = 0;

	snprintf(idb, sizeof(idb), "%lld", id);
	if ((r = db_begin(db, err_out)) < 0)
		return r;
	r = db_run(db, "SET CONSTRAINTS policy_rules_position_key DEFERRED",
	    0, NULL, NULL, err_out);
	if (r == 0)
		r = db_run(db, "DELETE FROM policy_rules WHERE id = $1::bigint",
		    1, p, &res, err_out);
	if (r == 0) {
		gone = strtol(PQcmdTuples(res), NULL, 10) > 0;
		PQclear(res);
		r = renumber(db, err_out);
	}
	r = finish(db, r, err_out);
	return r < 0 ? r : !gone;
}

int
rule_db_move(struct db *db, long long id, int pos, char **err_out)
{
	char idb[24], posb[16];
	const char *p[2] = { idb, posb };
	PGresult *res = NULL;
	int r, found = 0;

	snprintf(idb, sizeof(idb), "%lld", id);
	snprintf(posb, sizeof(posb), "%d", pos < 1 ? 1 : pos);
	if ((r = db_begin(db, err_out)) < 0)
		return r;
	r = db_run(db, "SET CONSTRAINTS policy_rules_position_key DEFERRED",
	    0, NULL, NULL, err_out);
	/* take it out of the order, open a gap at pos, put it there */
	if (r == 0)
		r = db_run(db, "UPDATE policy_rules SET position = 0"
		    " WHERE id = $1::bigint", 1, p, &res, err_out);
	if (r == 0) {
		found = strtol(PQcmdTuples(res), NULL, 10) > 0;
		PQclear(res);
	}
	if (r == 0 && found)
		r = renumber(db, err_out);	/* it is now 1; others 2.. */
	if (r == 0 && found)
		r = db_run(db, "UPDATE policy_rules SET position = CASE"
		    " WHEN id = $1::bigint THEN LEAST($2::int,"
		    "   (SELECT count(*) FROM policy_rules)::int)"
		    " WHEN position - 1 >= $2::int THEN position"
		    " ELSE position - 1 END", 2, p, NULL, err_out);
	if (r == 0 && found)
		r = renumber(db, err_out);
	r = finish(db, r, err_out);
	return r < 0 ? r : !found;
}
