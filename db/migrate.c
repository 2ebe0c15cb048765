/*
 * migrate.c - apply numbered schema migrations.
 *
 * Each migration runs in its own transaction that first takes a
 * transaction-scoped advisory lock, so concurrent migrators (two nodes
 * starting at once) run one after the other and the second finds the
 * work done. The check "already applied?" is made under that lock.
 * Trust: the SQL is compiled in (db_exec_script); versions and names go
 * as parameters.
 * Library module: never logs.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "migrate.h"
#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

/* pg_advisory_xact_lock key: "sealgate migrate", arbitrary but fixed */
#define MIGRATE_LOCK_SQL "SELECT pg_advisory_xact_lock(7264830102)"

#define MIGRATE_RETRIES	2	/* per migration, after transient errors */

static char *
msgf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* msgf - new formatted error string */
static char *
msgf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	char *s;

	buf_init(&b, 8192);
	va_start(ap, fmt);
	(void)buf_vprintf(&b, fmt, ap);
	va_end(ap);
	s = buf_steal(&b, NULL);
	return s != NULL ? s : xstrdup("out of memory");
}

/* exec_cmd - run a statement whose result we do not need; 0/-1/-2 */
static int
exec_cmd(struct db *db, const char *sql, int n, const char *const *p,
    char **err_out)
{
	PGresult *r;
	int transient = 0;

	r = db_exec(db, sql, n, p, &transient, err_out);
	if (r == NULL)
		return transient ? -2 : -1;
	PQclear(r);
	return 0;
}

/* wrap_err - prefix *err_out with context */
static void
wrap_err(char **err_out, const char *what)
{
	char *e;

	if (err_out == NULL || *err_out == NULL)
		return;
	e = msgf("%s: %s", what, *err_out);
	xfree(*err_out);
	*err_out = e;
}

/* bootstrap - create schema_migrations (under the lock: race-free) */
static int
bootstrap(struct db *db, char **err_out)
{
	int r;

	r = db_begin(db, err_out);
	if (r < 0)
		return r;
	r = exec_cmd(db, MIGRATE_LOCK_SQL, 0, NULL, err_out);
	if (r == 0)
		r = exec_cmd(db,
		    "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    " version integer PRIMARY KEY,"
		    " name text NOT NULL,"
		    " applied_at timestamptz NOT NULL DEFAULT now())",
		    0, NULL, err_out);
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	return db_commit(db, err_out);
}

/*
 * apply_one - apply m unless recorded. 1 applied, 0 already there,
 * -1/-2 error (rolled back).
 */
static int
apply_one(struct db *db, const struct migration *m, char **err_out)
{
	char vbuf[16];
	const char *p[2];
	PGresult *res;
	int r, transient = 0;

	snprintf(vbuf, sizeof(vbuf), "%d", m->version);
	p[0] = vbuf;
	p[1] = m->name;

	r = db_begin(db, err_out);
	if (r < 0)
		return r;
	r = exec_cmd(db, MIGRATE_LOCK_SQL, 0, NULL, err_out);
	if (r < 0)
		goto fail;
	res = db_exec(db, "SELECT name FROM schema_migrations "
	    "WHERE version = $1::integer", 1, p, &transient, err_out);
	if (res == NULL) {
		r = transient ? -2 : -1;
		goto fail;
	}
	if (PQntuples(res) > 0) {
		int same = strcmp(PQgetvalue(res, 0, 0), m->name) == 0;
		if (!same && err_out != NULL)
			*err_out = msgf("version %d is \"%s\" in the "
			    "database but \"%s\" in this binary",
			    m->version, PQgetvalue(res, 0, 0), m->name);
		PQclear(res);
		db_rollback(db);
		return same ? 0 : -1;
	}
	PQclear(res);
	r = db_exec_script(db, m->sql, err_out);
	if (r < 0)
		goto fail;
	r = exec_cmd(db, "INSERT INTO schema_migrations (version, name) "
	    "VALUES ($1::integer, $2)", 2, p, err_out);
	if (r < 0)
		goto fail;
	r = db_commit(db, err_out);
	return r < 0 ? r : 1;
fail:
	db_rollback(db);
	return r;
}

int
migrate_current(struct db *db, int *version_out, char **err_out)
{
	PGresult *res;
	uint64_t v = 0;
	int transient = 0;

	/* to_regclass: NULL when the table does not exist yet */
	res = db_exec(db, "SELECT CASE WHEN to_regclass('schema_migrations') "
	    "IS NULL THEN 0 ELSE (SELECT coalesce(max(version), 0) "
	    "FROM schema_migrations) END", 0, NULL, &transient, err_out);
	if (res == NULL)
		return transient ? -2 : -1;
	if (PQntuples(res) != 1 ||
	    num_parse_u64_str(PQgetvalue(res, 0, 0), 0, 0x7fffffff, &v) < 0) {
		PQclear(res);
		if (err_out != NULL)
			*err_out = xstrdup("schema_migrations: bad version");
		return -1;
	}
	PQclear(res);
	*version_out = (int)v;
	return 0;
}

int
migrate_latest(const struct migration *list, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		if (list[i].version > v)
			v = list[i].version;
	return v;
}

int
migrate_run(struct db *db, const struct migration *list, size_t n,
    int *applied_out, int *version_out, char **err_out)
{
	int applied = 0, r = 0, v = 0;
	size_t i;

	if (applied_out != NULL)
		*applied_out = 0;
	for (i = 0; i < n; i++) {
		if (list[i].version < 1 || list[i].name == NULL ||
		    list[i].sql == NULL ||
		    (i > 0 && list[i].version <= list[i - 1].version)) {
			if (err_out != NULL)
				*err_out = msgf("migration list not strictly "
				    "ascending at index %zu", i);
			return -1;
		}
	}
	for (int t = 0; t < MIGRATE_RETRIES; t++) {
		if (t > 0 && err_out != NULL) {
			xfree(*err_out);
			*err_out = NULL;
		}
		r = bootstrap(db, err_out);
		if (r != -2)
			break;
	}
	if (r < 0) {
		wrap_err(err_out, "schema_migrations");
		return r;
	}
	for (i = 0; i < n; i++) {
		for (int t = 0; t < MIGRATE_RETRIES; t++) {
			if (t > 0 && err_out != NULL) {
				xfree(*err_out);
				*err_out = NULL;
			}
			r = apply_one(db, &list[i], err_out);
			if (r != -2)
				break;
		}
		if (r < 0) {
			if (err_out != NULL && *err_out != NULL) {
				char *e = msgf("migration %04d_%s: %s",
				    list[i].version, list[i].name, *err_out);
				xfree(*err_out);
				*err_out = e;
			}
			if (applied_out != NULL)
				*applied_out = applied;
			return r;
		}
		applied += r;
		if (applied_out != NULL)
			*applied_out = applied;
	}
	r = migrate_current(db, &v, err_out);
	if (r < 0)
		return r;
	if (version_out != NULL)
		*version_out = v;
	return 0;
}
