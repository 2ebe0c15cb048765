/*
 * rule_db.h - the policy rules in PostgreSQL (policy_rules, migration
 * 0007): ordered by position, first match wins (decide.h). Library
 * module: never logs. 0 / -1 / -2 (transient) unless said otherwise.
 */
#ifndef SEALGATE_RULE_DB_H
#define SEALGATE_RULE_DB_H

#include <stddef.h>

#include "db.h"
#include "decide.h"

/* One stored rule: the strings are owned (rule_set_free()). */
struct rule_set {
	struct policy_rule *rules;	/* ordered by position */
	char **comments;
	size_t n;
};

/* All rules in order. A row the engine cannot parse (edited by hand) is
 * an error: delivery must not guess. */
int rule_db_load(struct db *db, struct rule_set *out, char **err_out);
void rule_set_free(struct rule_set *s);

/*
 * rule_db_add - insert at position pos (1-based; 0 or past the end:
 * last), moving the later rules down. *id_out gets the new id.
 */
int rule_db_add(struct db *db, const struct policy_rule *r,
    const char *comment, int pos, long long *id_out, char **err_out);

/* rule_db_delete / rule_db_move - by id; 0, 1 no such rule, -1 / -2.
 * Positions stay 1..n without gaps. */
int rule_db_delete(struct db *db, long long id, char **err_out);
int rule_db_move(struct db *db, long long id, int pos, char **err_out);

#endif
