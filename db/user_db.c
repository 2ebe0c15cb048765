/*
 * user_db.c - SMTP AUTH accounts in PostgreSQL.
 *
 * Implements: user_db.h. Names come from AUTH exchanges (untrusted) and
 * go as parameters only.
 * Library module: never logs.
 */
#include <string.h>

#include "db.h"
#include "user_db.h"
#include "lib/json.h"
#include "lib/xalloc.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

int
user_name_valid(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len, i = 0, n;

	if (name == NULL)
		return 0;
	len = strlen(name);
	if (len == 0 || len > USER_NAME_MAX)
		return 0;
	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
		n = utf8_seq_len(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

static int
bad_name(char **err_out)
{
	if (err_out != NULL)
		*err_out = xstrdup("invalid user name (1-255 bytes of UTF-8, "
		    "no control characters)");
	return -1;
}

int
user_db_get_hash(struct db *db, const char *name, char **hash_out,
    char **err_out)
{
	const char *p[1] = { name };
	PGresult *res;
	int transient = 0;

	*hash_out = NULL;
	/* an AUTH attempt with a malformed name is simply unknown */
	if (!user_name_valid(name))
		return 0;
	res = db_exec(db, "SELECT password_hash FROM users WHERE name = $1 "
	    "AND NOT disabled", 1, p, &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	*hash_out = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 1;
}

int
user_db_set(struct db *db, const char *name, const char *hash,
    char **err_out)
{
	const char *p[2] = { name, hash };
	PGresult *res;
	int transient = 0, created;

	if (!user_name_valid(name))
		return bad_name(err_out);
	if (hash == NULL || hash[0] == '\0') {
		if (err_out != NULL)
			*err_out = xstrdup("empty password hash");
		return -1;
	}
	/* xmax = 0 on the returned row: it was inserted, not updated */
	res = db_exec(db, "INSERT INTO users (name, password_hash) "
	    "VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET "
	    "password_hash = EXCLUDED.password_hash, updated_at = now() "
	    "RETURNING (xmax = 0)", 2, p, &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	created = PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return created;
}

int
user_db_delete(struct db *db, const char *name, char **err_out)
{
	const char *p[1] = { name };
	PGresult *res;
	int transient = 0, n;

	if (!user_name_valid(name))
		return bad_name(err_out);
	res = db_exec(db, "DELETE FROM users WHERE name = $1", 1, p,
	    &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	n = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	return n;
}

int
user_db_list(struct db *db, struct user_info **list_out, size_t *n_out,
    char **err_out)
{
	struct user_info *list;
	PGresult *res;
	int transient = 0, n;

	*list_out = NULL;
	*n_out = 0;
	res = db_exec(db, "SELECT name, " TS("created_at") ", "
	    TS("updated_at") ", disabled FROM users ORDER BY name", 0, NULL,
	    &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	n = PQntuples(res);
	list = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*list));
	for (int i = 0; i < n; i++) {
		list[i].name = xstrdup(PQgetvalue(res, i, 0));
		list[i].created_at = xstrdup(PQgetvalue(res, i, 1));
		list[i].updated_at = xstrdup(PQgetvalue(res, i, 2));
		list[i].disabled = strcmp(PQgetvalue(res, i, 3), "t") == 0;
	}
	PQclear(res);
	*list_out = list;
	*n_out = (size_t)n;
	return 0;
}

void
user_db_list_free(struct user_info **listp, size_t n)
{
	if (*listp == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		xfree((*listp)[i].name);
		xfree((*listp)[i].created_at);
		xfree((*listp)[i].updated_at);
	}
	xfree(*listp);
	*listp = NULL;
}
