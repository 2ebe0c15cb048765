/*
 * key_db.h - the recipient key store with provenance (recipient_keys,
 * key_lookups; migration 0007). Where each key came from (admin import,
 * WKD, harvested from signed mail), its fingerprint, validity, first and
 * last use, and its review status.
 *
 * No silent key substitution: a key found automatically for an address
 * that already has a different active key of the same kind is stored as
 * "pending" and not used until an admin approves it (which retires the
 * old one). An admin import is active at once. Library module: never
 * logs. 0 / -1 / -2 (transient) unless said otherwise.
 */
#ifndef SEALGATE_KEY_DB_H
#define SEALGATE_KEY_DB_H

#include <stddef.h>

#include "db.h"
#include "decide.h"

struct key_new {
	const char *kind;		/* "pgp" | "smime" */
	const char *address;		/* local part as is, domain lower */
	const char *fingerprint;	/* lower-case hex */
	const char *source;		/* "admin" | "wkd" | "harvest" */
	long long not_before;		/* unix time, 0 unknown */
	long long not_after;		/* 0: does not expire */
	const char *smime_cipher;	/* "gcm" | "cbc" | NULL */
	const unsigned char *material;
	size_t material_len;
	const char *note;		/* NULL: "" */
};

struct key_row {
	long long id;
	char *kind, *address, *fingerprint, *source, *status, *note;
	char *smime_cipher;		/* NULL: not known */
	long long not_before, not_after;	/* 0: NULL */
	long long created_at, first_used, last_used, reviewed_at;
	unsigned char *material;	/* only from key_db_find() */
	size_t material_len;
};

void key_rows_free(struct key_row *rows, size_t n);

/*
 * key_db_add - store a key. *status_out (>= 16 bytes) gets what it
 * became: "active", "pending" (differs from an active key found for the
 * address, automatic source), or, when the same key is already stored,
 * its current status (validity and material refreshed). An admin import
 * of a key that was pending or rejected makes it active.
 */
int key_db_add(struct db *db, const struct key_new *k, long long *id_out,
    char *status_out, char **err_out);

/*
 * key_db_find - the active keys of kind for address, newest first, with
 * material, not expired at now (unix time); *state_out sums up for the
 * policy: KEY_OK (n > 0), KEY_EXPIRED (only expired active ones),
 * KEY_PENDING (only pending ones), KEY_NONE.
 */
int key_db_find(struct db *db, const char *kind, const char *address,
    long long now, struct key_row **out, size_t *n_out,
    enum key_state *state_out, char **err_out);

/* key_db_used - first_used (once) and last_used = now */
int key_db_used(struct db *db, long long id, char **err_out);

/* key_db_list - every key (address NULL) or one address's, by address,
 * kind, newest first; no material. */
int key_db_list(struct db *db, const char *address, struct key_row **out,
    size_t *n_out, char **err_out);

/*
 * key_db_review - approve (status active: other active keys of the same
 * kind and address become "retired") or reject a key. 0, 1 no such key,
 * -1 / -2.
 */
int key_db_review(struct db *db, long long id, int approve, char **err_out);

/* key_db_delete - 0, 1 no such key, -1 / -2 */
int key_db_delete(struct db *db, long long id, char **err_out);

/*
 * Automatic lookups (WKD): key_lookup_fresh - 1 when address was looked
 * up by method less than max_age seconds ago (*found_out: what it
 * found), 0 not, -1 / -2. key_lookup_note records one.
 */
int key_lookup_fresh(struct db *db, const char *address, const char *method,
    unsigned max_age, int *found_out, char **err_out);
int key_lookup_note(struct db *db, const char *address, const char *method,
    int found, const char *detail, char **err_out);

#endif
