/*
 * db.c - one PostgreSQL connection that survives server restarts.
 *
 * Implements: db.h. Parameterized statements only (PQexecParams); the one
 * exception, db_exec_script(), runs compiled-in migration SQL.
 * Reconnects: before each statement outside a transaction (back-off
 * 100 ms doubling to 2 s, at most DB_RECONNECT_WINDOW seconds); never
 * inside one, where a lost connection fails the whole transaction.
 * Trust: SQL text is ours; parameters may hold anything.
 * Library module: never logs (libpq notices are swallowed too).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "db.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define DB_BACKOFF_FIRST_MS	100
#define DB_BACKOFF_MAX_MS	2000
#define DB_STMT_MAX	64	/* prepared statements per connection */
#define DB_ERR_MAX		4096

enum db_tx_state {
	DB_TX_NONE = 0,		/* autocommit */
	DB_TX_OK,		/* inside BEGIN, all well so far */
	DB_TX_FAILED,		/* a statement failed: only rollback left */
	DB_TX_LOST,		/* the connection died inside the transaction */
};

struct db {
	char *conninfo;
	char *app_name;
	PGconn *conn;		/* NULL when not connected */
	enum db_tx_state tx;
	int tx_transient;	/* DB_TX_FAILED by an error worth retrying */
	int doomed;		/* the server said FATAL: it is closing */
	char sqlstate[6];
	int sync_commit;	/* 1: COMMIT waits for the WAL flush */
	/* statements prepared on this connection (forgotten on reconnect):
	 * the same SQL text is parsed and planned once, not per call */
	char *stmt_sql[DB_STMT_MAX];
	size_t nstmt;
};

/*
 * db_notice - libpq's notice receiver. Library modules do not write to
 * stderr, so notices are dropped; but a FATAL that arrives while we are
 * idle is the server saying goodbye (shutdown, terminated backend)
 * before it closes the socket: remember it.
 */
static void
db_notice(void *arg, const PGresult *res)
{
	struct db *db = arg;
	const char *sev;

	sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	if (sev != NULL && (strcmp(sev, "FATAL") == 0 ||
	    strcmp(sev, "PANIC") == 0))
		db->doomed = 1;
}

/* db_errstr - one-line copy of a libpq message, prefixed */
static char *
db_errstr(const char *prefix, const char *msg)
{
	struct buf b;
	size_t n;
	char *s;

	buf_init(&b, DB_ERR_MAX);
	(void)buf_append_str(&b, prefix);
	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	for (size_t i = 0; i < n; i++) {
		char c = msg[i] == '\n' ? ' ' : msg[i];
		if (buf_append_char(&b, c) < 0)
			break;
	}
	s = buf_steal(&b, NULL);
	return s != NULL ? s : xstrdup(prefix);
}

static void
set_err(char **err_out, char *msg)
{
	if (err_out != NULL)
		*err_out = msg;
	else
		xfree(msg);
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void db_forget_stmts(struct db *db);

static void
db_disconnect(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db_forget_stmts(db);
}

/* db_connect_once - one connection attempt plus session settings */
static int
db_connect_once(struct db *db, char **err_out)
{
	/*
	 * Entries before the expanded conninfo ("dbname") are defaults it
	 * may override; entries after it are forced (libpq: last wins).
	 * Keepalives notice a server that vanished without a FIN.
	 */
	const char *kw[] = { "connect_timeout", "keepalives",
	    "keepalives_idle", "keepalives_interval", "keepalives_count",
	    "dbname", "fallback_application_name", "client_encoding", NULL };
	const char *val[] = { "5", "1", "30", "10", "3",
	    db->conninfo, db->app_name, "UTF8", NULL };
	PGconn *c;
	PGresult *r;

	c = PQconnectdbParams(kw, val, 1);
	if (c == NULL) {
		*err_out = xstrdup("connect: out of memory");
		return -1;
	}
	db->doomed = 0;
	PQsetNoticeReceiver(c, db_notice, db);
	if (PQstatus(c) != CONNECTION_OK) {
		*err_out = db_errstr("connect: ", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	/* A 250 is a promise: COMMIT returns only once the WAL is flushed,
	 * whatever the server's default says (db_set_sync_commit()). */
	r = PQexecParams(c, db->sync_commit ? "SET synchronous_commit = on" :
	    "SET synchronous_commit = off", 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*err_out = db_errstr("connect: SET synchronous_commit: ",
		    PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		return -1;
	}
	PQclear(r);
	db->conn = c;
	return 0;
}

/* db_reconnect - connect with back-off within DB_RECONNECT_WINDOW */
static int
db_reconnect(struct db *db, char **err_out)
{
	struct timespec t0;
	long delay = DB_BACKOFF_FIRST_MS;
	char *err = NULL;

	db_disconnect(db);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		xfree(err);
		err = NULL;
		if (db_connect_once(db, &err) == 0)
			return 0;
		if (elapsed_ms(&t0) + delay > DB_RECONNECT_WINDOW * 1000L)
			break;
		sleep_ms(delay);
		delay *= 2;
		if (delay > DB_BACKOFF_MAX_MS)
			delay = DB_BACKOFF_MAX_MS;
	}
	set_err(err_out, err);
	return -1;
}

/*
 * db_alive - read whatever an idle connection has pending: notifications,
 * or the FATAL a server sends before it closes the connection (the EOF
 * itself may come a moment later). 1 alive, 0 gone. Never blocks.
 */
static int
db_alive(struct db *db)
{
	PGconn *c = db->conn;
	struct pollfd pfd;

	for (int i = 0; i < 8 && !db->doomed; i++) {
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0)
			return 0;
		if (poll(&pfd, 1, 0) <= 0)
			break;		/* nothing pending (or EINTR) */
		if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK)
			return 0;
		(void)PQisBusy(c);	/* parse: notices reach db_notice */
	}
	return !db->doomed && PQstatus(c) == CONNECTION_OK;
}

/*
 * db_ensure_conn - a usable connection for the next statement.
 * 0 ok; -2 lost inside a transaction (no reconnect) or reconnect failed.
 */
static int
db_ensure_conn(struct db *db, char **err_out)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK &&
	    db->tx == DB_TX_NONE) {
		/*
		 * A server that shut down while we were idle has sent its
		 * FATAL and closed the socket: read that now, so the
		 * statement goes to a fresh connection instead of failing.
		 * Never blocks (libpq sockets are non-blocking inside).
		 */
		if (!db_alive(db))
			db_disconnect(db);
		else if (PQtransactionStatus(db->conn) != PQTRANS_IDLE)
			db_disconnect(db);	/* stray BEGIN: never reuse */
	}
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	if (db->tx != DB_TX_NONE) {
		db->tx = DB_TX_LOST;
		set_err(err_out, xstrdup("database connection lost inside "
		    "a transaction"));
		return -2;
	}
	if (db_reconnect(db, err_out) < 0)
		return -2;
	return 0;
}

static int
sqlstate_is(const char *s, const char *code)
{
	return strcmp(s, code) == 0;
}

/*
 * db_classify - 1 if the failed result is worth retrying (the whole
 * transaction), else 0; drops a connection that cannot be reused.
 */
static int
db_classify(struct db *db, const PGresult *res)
{
	const char *s = NULL;
	int drop = 0, transient = 0;

	if (res != NULL)
		s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (s != NULL) {
		if (strncmp(s, "08", 2) == 0 ||		/* connection exception */
		    sqlstate_is(s, "57P01") ||		/* admin_shutdown */
		    sqlstate_is(s, "57P02") ||		/* crash_shutdown */
		    sqlstate_is(s, "57P03") ||		/* cannot_connect_now */
		    sqlstate_is(s, "25006"))		/* read-only: failed over */
			drop = 1;
		else if (sqlstate_is(s, "40001") ||	/* serialization */
		    sqlstate_is(s, "40P01") ||		/* deadlock */
		    strncmp(s, "53", 2) == 0)		/* disk full, OOM */
			transient = 1;
	}
	if (db->conn == NULL || PQstatus(db->conn) == CONNECTION_BAD)
		drop = 1;
	if (drop) {
		db_disconnect(db);
		transient = 1;
	}
	return transient;
}

static char *
db_result_err(const struct db *db, const PGresult *res, const char *what)
{
	const char *prim = NULL;
	struct buf b;
	char *s;

	if (res != NULL)
		prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (prim == NULL)
		return db_errstr(what, db->conn != NULL ?
		    PQerrorMessage(db->conn) : "connection lost");
	buf_init(&b, DB_ERR_MAX);
	(void)buf_printf(&b, "%s%s%s%s", what, db->sqlstate,
	    db->sqlstate[0] ? ": " : "", prim);
	s = buf_steal(&b, NULL);
	return s != NULL ? s : xstrdup(what);
}

/*
 * db_fail - record a failed statement: sets the transaction state, the
 * transient flag and the error. Always returns NULL.
 */
static PGresult *
db_fail(struct db *db, PGresult *res, const char *what, int *transient_out,
    char **err_out)
{
	int transient;
	char *msg;

	/* message first: classifying may drop the connection */
	if (res != NULL && PQresultErrorField(res, PG_DIAG_SQLSTATE) != NULL)
		snprintf(db->sqlstate, sizeof(db->sqlstate), "%s",
		    PQresultErrorField(res, PG_DIAG_SQLSTATE));
	msg = db_result_err(db, res, what);
	transient = db_classify(db, res);
	if (res != NULL)
		PQclear(res);
	if (db->tx != DB_TX_NONE) {
		db->tx = db->conn == NULL ? DB_TX_LOST : DB_TX_FAILED;
		db->tx_transient = transient;
	}
	if (transient_out != NULL)
		*transient_out = transient;
	set_err(err_out, msg);
	return NULL;
}

/* db_refuse_in_failed_tx - error for a statement after the transaction
 * broke */
static PGresult *
db_refuse_in_failed_tx(struct db *db, int *transient_out, char **err_out)
{
	if (transient_out != NULL)
		*transient_out = db->tx == DB_TX_LOST || db->tx_transient;
	set_err(err_out, xstrdup(db->tx == DB_TX_LOST ?
	    "database connection lost inside a transaction" :
	    "transaction already failed; roll back"));
	return NULL;
}

struct db *
db_open_app(const char *conninfo, const char *app_name, char **err_out)
{
	PQconninfoOption *opts;
	struct db *db;
	char *perr = NULL;

	/* a typo in the conninfo is not worth DB_RECONNECT_WINDOW of retries */
	opts = PQconninfoParse(conninfo != NULL ? conninfo : "", &perr);
	if (opts == NULL) {
		set_err(err_out, db_errstr("bad database conninfo: ",
		    perr != NULL ? perr : "out of memory"));
		PQfreemem(perr);
		return NULL;
	}
	PQconninfoFree(opts);

	db = xcalloc(1, sizeof(*db));
	db->conninfo = xstrdup(conninfo != NULL ? conninfo : "");
	db->app_name = xstrdup(app_name != NULL ? app_name : "sealgate");
	db->sync_commit = 1;
	if (db_reconnect(db, err_out) < 0) {
		db_close(&db);
		return NULL;
	}
	return db;
}

struct db *
db_open(const char *conninfo, char **err_out)
{
	return db_open_app(conninfo, "sealgate", err_out);
}

void
db_close(struct db **dbp)
{
	struct db *db = *dbp;

	if (db == NULL)
		return;
	db_disconnect(db);
	/* the conninfo may hold a password */
	if (db->conninfo != NULL) {
		explicit_bzero(db->conninfo, strlen(db->conninfo));
		xfree(db->conninfo);
	}
	xfree(db->app_name);
	xfree(db);
	*dbp = NULL;
}

int
db_ensure(struct db *db, char **err_out)
{
	return db_ensure_conn(db, err_out) < 0 ? -1 : 0;
}

PGconn *
db_conn(struct db *db)
{
	return db->conn;
}

const char *
db_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

/* db_forget_stmts - the connection is gone: so are its statements */
static void
db_forget_stmts(struct db *db)
{
	size_t i;

	for (i = 0; i < db->nstmt; i++)
		xfree(db->stmt_sql[i]);
	db->nstmt = 0;
}

/*
 * db_exec_cached - run sql as a prepared statement, preparing it the
 * first time on this connection (at most DB_STMT_MAX of them; beyond,
 * the unnamed statement). A statement that fails to prepare returns that
 * failure, exactly as executing it would have.
 */
static PGresult *
db_exec_cached(struct db *db, const char *sql, int nparams,
    const char *const *params, const int *lengths, const int *formats,
    int result_format)
{
	char name[24];
	size_t i;
	PGresult *r;

	for (i = 0; i < db->nstmt; i++)
		if (strcmp(db->stmt_sql[i], sql) == 0)
			break;
	if (i == db->nstmt) {
		if (db->nstmt == DB_STMT_MAX)
			goto unnamed;
		snprintf(name, sizeof(name), "sg%zu", i);
		r = PQprepare(db->conn, name, sql, nparams, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return r;	/* the statement's own error (and, in a
					 * transaction, it is now failed) */
		PQclear(r);
		db->stmt_sql[db->nstmt++] = xstrdup(sql);
	}
	snprintf(name, sizeof(name), "sg%zu", i);
	return PQexecPrepared(db->conn, name, nparams, params, lengths,
	    formats, result_format);
unnamed:
	return PQexecParams(db->conn, sql, nparams, NULL, params, lengths,
	    formats, result_format);
}

void
db_set_sync_commit(struct db *db, int on)
{
	db->sync_commit = on;
	if (db->conn != NULL)
		PQclear(PQexec(db->conn, on ? "SET synchronous_commit = on" :
		    "SET synchronous_commit = off"));
}

PGresult *
db_exec_bin(struct db *db, const char *sql, int nparams,
    const char *const *params, const int *lengths, const int *formats,
    int result_format, int *transient_out, char **err_out)
{
	PGresult *res;
	ExecStatusType st;

	if (transient_out != NULL)
		*transient_out = 0;
	db->sqlstate[0] = '\0';
	if (db->tx == DB_TX_FAILED || db->tx == DB_TX_LOST)
		return db_refuse_in_failed_tx(db, transient_out, err_out);
	if (db_ensure_conn(db, err_out) < 0) {
		if (transient_out != NULL)
			*transient_out = 1;
		return NULL;
	}
	res = db_exec_cached(db, sql, nparams, params, lengths, formats,
	    result_format);
	st = PQresultStatus(res);
	if (res != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK))
		return res;
	return db_fail(db, res, "", transient_out, err_out);
}

PGresult *
db_exec(struct db *db, const char *sql, int nparams,
    const char *const *params, int *transient_out, char **err_out)
{
	return db_exec_bin(db, sql, nparams, params, NULL, NULL, 0,
	    transient_out, err_out);
}

int
db_exec_script(struct db *db, const char *sql, char **err_out)
{
	PGresult *res;
	int transient = 0;

	db->sqlstate[0] = '\0';
	if (db->tx == DB_TX_FAILED || db->tx == DB_TX_LOST) {
		db_refuse_in_failed_tx(db, &transient, err_out);
		return transient ? -2 : -1;
	}
	if (db_ensure_conn(db, err_out) < 0)
		return -2;
	/* PQexec: several statements in one string, trusted text only */
	res = PQexec(db->conn, sql);
	if (res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK)) {
		PQclear(res);
		return 0;
	}
	db_fail(db, res, "", &transient, err_out);
	return transient ? -2 : -1;
}

int
db_begin(struct db *db, char **err_out)
{
	PGresult *res;
	int transient = 0;

	db->sqlstate[0] = '\0';
	if (db->tx != DB_TX_NONE) {
		set_err(err_out, xstrdup("db_begin: already in a transaction"));
		return -1;
	}
	if (db_ensure_conn(db, err_out) < 0)
		return -2;
	res = PQexecParams(db->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
	if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK) {
		PQclear(res);
		db->tx = DB_TX_OK;
		db->tx_transient = 0;
		return 0;
	}
	db_fail(db, res, "BEGIN: ", &transient, err_out);
	return transient ? -2 : -1;
}

int
db_commit(struct db *db, char **err_out)
{
	PGresult *res;
	int transient = 0;

	db->sqlstate[0] = '\0';
	switch (db->tx) {
	case DB_TX_NONE:
		set_err(err_out, xstrdup("db_commit: no transaction"));
		return -1;
	case DB_TX_FAILED:
		transient = db->tx_transient;
		db_rollback(db);
		set_err(err_out, xstrdup("transaction failed earlier; "
		    "rolled back"));
		return transient ? -2 : -1;
	case DB_TX_LOST:
		db_rollback(db);
		set_err(err_out, xstrdup("database connection lost inside "
		    "a transaction; nothing committed"));
		return -2;
	case DB_TX_OK:
		break;
	}
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		db->tx = DB_TX_NONE;
		db_disconnect(db);
		set_err(err_out, xstrdup("database connection lost inside "
		    "a transaction; nothing committed"));
		return -2;
	}
	res = PQexecParams(db->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
	db->tx = DB_TX_NONE;
	if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK) {
		/* COMMIT of an aborted transaction "succeeds" as ROLLBACK */
		int ok = strcmp(PQcmdStatus(res), "COMMIT") == 0;
		PQclear(res);
		if (ok)
			return 0;
		set_err(err_out, xstrdup("COMMIT: transaction was rolled "
		    "back"));
		return -1;
	}
	db_fail(db, res, "COMMIT: ", &transient, err_out);
	if (db->conn == NULL) {
		/* Died during COMMIT: it may or may not have committed. */
		char *m = NULL;
		if (err_out != NULL) {
			m = *err_out;
			*err_out = db_errstr("COMMIT outcome unknown, "
			    "connection lost: ", m);
			xfree(m);
		}
		return -2;
	}
	return transient ? -2 : -1;
}

void
db_rollback(struct db *db)
{
	PGresult *res;

	if (db->tx == DB_TX_NONE)
		return;
	db->tx = DB_TX_NONE;
	db->tx_transient = 0;
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		db_disconnect(db);
		return;
	}
	res = PQexecParams(db->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL,
	    0);
	PQclear(res);
	/* a connection still inside a transaction is never reused */
	if (PQstatus(db->conn) != CONNECTION_OK ||
	    PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		db_disconnect(db);
}

int
db_run(struct db *db, const char *sql, int nparams, const char *const *params,
    PGresult **res_out, char **err_out)
{
	int transient = 0;
	PGresult *res = db_exec(db, sql, nparams, params, &transient, err_out);

	if (res == NULL)
		return transient ? -2 : -1;
	if (res_out != NULL)
		*res_out = res;
	else
		PQclear(res);
	return 0;
}
