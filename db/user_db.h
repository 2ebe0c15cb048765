/*
 * user_db.h - SMTP AUTH accounts (table users). Hashes are
 * crypto/passwd.h strings; this module never sees a password.
 * Library module: never logs. Errors: *err_out (new string, xfree()).
 */
#ifndef SEALGATE_USER_DB_H
#define SEALGATE_USER_DB_H

#include <stddef.h>

#include "db.h"

#define USER_NAME_MAX	255	/* bytes; users.name CHECK */

struct user_info {
	char *name;
	char *created_at;	/* ISO 8601 UTC */
	char *updated_at;
	int disabled;
};

/* user_name_valid - 1 if name is well-formed (1..USER_NAME_MAX bytes of
 * UTF-8, no control characters), else 0. */
int user_name_valid(const char *name);

/*
 * user_db_get_hash - the stored hash of an enabled user.
 * 1 found (*hash_out: xfree()), 0 unknown or disabled, -1 error,
 * -2 transient.
 */
int user_db_get_hash(struct db *db, const char *name, char **hash_out,
    char **err_out);

/* user_db_set - create the user or replace its hash (upsert).
 * 1 created, 0 updated, -1, -2. */
int user_db_set(struct db *db, const char *name, const char *hash,
    char **err_out);

/* user_db_delete - 1 deleted, 0 no such user, -1, -2. */
int user_db_delete(struct db *db, const char *name, char **err_out);

/* user_db_list - all users by name; *list_out: free with
 * user_db_list_free(). 0 / -1 / -2. */
int user_db_list(struct db *db, struct user_info **list_out, size_t *n_out,
    char **err_out);
void user_db_list_free(struct user_info **listp, size_t n);

#endif
