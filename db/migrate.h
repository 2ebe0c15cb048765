/*
 * migrate.h - numbered schema migrations, applied in order, each in its
 * own transaction, recorded in schema_migrations(version, name,
 * applied_at). Safe to run from several nodes at once (advisory lock)
 * and idempotent. The SQL is compiled into the binary
 * (scripts/embed-sql.sh turns db/migrations/NNNN_name.sql into
 * build/gen/migrations.c) so an installed binary carries its schema.
 * Library module: never logs.
 */
#ifndef SEALGATE_MIGRATE_H
#define SEALGATE_MIGRATE_H

#include <stddef.h>

struct db;

struct migration {
	int version;		/* NNNN from the file name, >= 1 */
	const char *name;	/* "init" for 0001_init.sql */
	const char *sql;	/* statements, no BEGIN/COMMIT of its own */
};

/* The embedded migrations, ascending by version (generated file). */
extern const struct migration sg_migrations[];
extern const size_t sg_nmigrations;

/*
 * migrate_run - apply every migration of list[0..n) (ascending versions)
 * not yet recorded. *applied_out: how many were applied now;
 * *version_out: the schema version afterwards (highest recorded, which
 * may exceed the list's when a newer binary migrated). Either out
 * pointer may be NULL. 0 ok; -1 (*err_out, names the migration) /
 * -2 transient. A failed migration leaves no trace (its transaction is
 * rolled back); earlier ones stay applied.
 */
int migrate_run(struct db *db, const struct migration *list, size_t n,
    int *applied_out, int *version_out, char **err_out);

/* migrate_current - highest applied version, 0 for an empty database.
 * 0 / -1 / -2 like migrate_run. */
int migrate_current(struct db *db, int *version_out, char **err_out);

/* Highest version in list[0..n), 0 if empty. */
int migrate_latest(const struct migration *list, size_t n);

#endif
