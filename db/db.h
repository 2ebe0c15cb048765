/*
 * db.h - the libpq access layer. Parameterized statements only.
 *
 * A struct db wraps one connection. Every call checks the connection and
 * reconnects (bounded retries with back-off, total at most
 * DB_RECONNECT_WINDOW seconds) after a PostgreSQL restart; a statement
 * that failed because the connection dropped inside a transaction is
 * reported as a transient error (-2) so the caller can retry the WHOLE
 * transaction or answer 4xx: acknowledged work is never half-committed.
 * Library module: never logs; errors come back in *err_out (new string,
 * xfree()).
 */
#ifndef SEALGATE_DB_H
#define SEALGATE_DB_H

#include <libpq-fe.h>

#define DB_RECONNECT_WINDOW 10	/* seconds spent reconnecting per call */

struct db;

/* Connect now (with retries). NULL and *err_out on failure. */
struct db *db_open(const char *conninfo, char **err_out);
/* Same, with application_name app_name (e.g. "sealgate-ingress") unless
 * the conninfo sets one. db_open() uses "sealgate". */
struct db *db_open_app(const char *conninfo, const char *app_name,
    char **err_out);
void db_close(struct db **dbp);

/* Make sure the connection is up, reconnecting if needed. 0 / -1. */
int db_ensure(struct db *db, char **err_out);

/*
 * db_exec - run one parameterized statement (text params, NULL = SQL NULL).
 * Returns the PGresult (PGRES_COMMAND_OK or PGRES_TUPLES_OK; PQclear() it)
 * or NULL with *err_out set; *transient_out (may be NULL) is set to 1
 * when the failure was a lost connection or a serialization/deadlock
 * error worth retrying.
 */
PGresult *db_exec(struct db *db, const char *sql, int nparams,
    const char *const *params, int *transient_out, char **err_out);

/* db_run - db_exec returning 0 / -1 / -2 (transient); the result goes
 * to *res_out when res_out is not NULL, else it is cleared. */
int db_run(struct db *db, const char *sql, int nparams,
    const char *const *params, PGresult **res_out, char **err_out);

/*
 * db_exec_bin - db_exec with per-parameter lengths and formats (1 =
 * binary, e.g. raw bytea; NULL arrays = all text) and the result format
 * (0 text, 1 binary) passed through to PQexecParams().
 */
PGresult *db_exec_bin(struct db *db, const char *sql, int nparams,
    const char *const *params, const int *lengths, const int *formats,
    int result_format, int *transient_out, char **err_out);

/*
 * db_exec_script - run trusted, compiled-in SQL that may hold several
 * statements (migrations only: PQexec, so never with outside data).
 * 0 / -1 (err_out), -2 transient.
 */
int db_exec_script(struct db *db, const char *sql, char **err_out);

/* SQLSTATE of the last failed statement, "" if none or no server reply
 * (e.g. "23505" unique_violation). Valid until the next call. */
const char *db_sqlstate(const struct db *db);

/*
 * Transactions: 0 / -1 (err_out), -2 transient.
 * Once a statement inside a transaction has failed, every further
 * statement fails the same way (the connection is never silently
 * re-established mid-transaction: the rest would run outside it), and
 * db_commit() rolls back and returns that failure. db_commit() returns
 * -2 when the connection died during COMMIT: the outcome is unknown and
 * the transaction may or may not have committed. db_rollback() is always
 * safe to call and ends the transaction state.
 */
int db_begin(struct db *db, char **err_out);
int db_commit(struct db *db, char **err_out);
void db_rollback(struct db *db);

/*
 * db_set_sync_commit - 1 (the default): COMMIT returns once the WAL is on
 * disk, which ingress needs before it may say 250. 0: the delivery side's
 * bookkeeping (claims, outcomes), where a crash can at worst lose a
 * committed outcome and deliver again: at-least-once, as documented. WAL
 * order keeps an earlier commit durable whenever a later one is.
 * Survives reconnects.
 */
void db_set_sync_commit(struct db *db, int on);

/* Underlying connection (LISTEN/NOTIFY users); may change on reconnect. */
PGconn *db_conn(struct db *db);

#endif
