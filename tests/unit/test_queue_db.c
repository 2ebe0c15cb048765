/*
 * test_queue_db.c - db.c, migrate.c, queue_db.c and user_db.c against a
 * REAL PostgreSQL.
 *
 *   SEALGATE_TEST_DB="host=/tmp/x/var/pg/sock port=5439 dbname=sealgate
 *       user=sealgate"            conninfo; every test skips when unset
 *   SEALGATE_TEST_PG_STOP=CMD     shell commands that stop and start that
 *   SEALGATE_TEST_PG_START=CMD    server: enable test_server_restart
 *                                 (tests/integration/db_restart.sh)
 *
 * The database is migrated to the embedded schema; rows the tests write
 * use ids unique to the run and are deleted afterwards.
 */
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>
#include <cmocka.h>

#include "db.h"
#include "migrate.h"
#include "queue_db.h"
#include "user_db.h"
#include "lib/xalloc.h"

static const char *conninfo;
static struct db *db;		/* the connection under test */
static struct db *aux;		/* a second one: listener, killer, checks */
static char run_tag[8];		/* per-run prefix of ids and names */

#define SKIP_WITHOUT_DB() do { if (db == NULL) skip(); } while (0)

/* new_id - a queue-id-like string unique to this run: P + tag + seq */
static void
new_id(char out[QUEUE_ID_LEN + 1], char prefix)
{
	static unsigned seq;

	snprintf(out, QUEUE_ID_LEN + 1, "%c%s%08u", prefix, run_tag, ++seq);
}

/* sql - run a statement on d; the test fails if it does */
static PGresult *
sql(struct db *d, const char *q, int n, const char *const *p)
{
	char *err = NULL;
	PGresult *r = db_exec(d, q, n, p, NULL, &err);

	if (r == NULL)
		fail_msg("%s: %s", q, err);
	return r;
}

static void
sql_cmd(struct db *d, const char *q, int n, const char *const *p)
{
	PQclear(sql(d, q, n, p));
}

/* count - SELECT count(*) ... as an integer */
static long
count(struct db *d, const char *q, const char *arg)
{
	const char *p[1] = { arg };
	PGresult *r = sql(d, q, arg != NULL ? 1 : 0, p);
	long v = strtol(PQgetvalue(r, 0, 0), NULL, 10);

	PQclear(r);
	return v;
}

static int
group_setup(void **state)
{
	char *err = NULL;
	int applied = -1, version = -1;

	conninfo = getenv("SEALGATE_TEST_DB");
	if (conninfo == NULL || conninfo[0] == '\0') {
		fprintf(stderr, "test_queue_db: SEALGATE_TEST_DB unset, "
		    "skipping (see tests/integration/db_restart.sh)\n");
		return 0;
	}
	snprintf(run_tag, sizeof(run_tag), "%07lx",
	    ((unsigned long)time(NULL) << 12 ^ (unsigned long)getpid()) &
	    0xfffffff);
	db = db_open(conninfo, &err);
	if (db == NULL) {
		fprintf(stderr, "test_queue_db: %s\n", err);
		return -1;
	}
	aux = db_open_app(conninfo, "sealgate-test-aux", &err);
	if (aux == NULL) {
		fprintf(stderr, "test_queue_db: %s\n", err);
		return -1;
	}
	if (migrate_run(db, sg_migrations, sg_nmigrations, &applied,
	    &version, &err) < 0) {
		fprintf(stderr, "test_queue_db: migrate: %s\n", err);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	char pat[16];
	const char *p[1] = { pat };

	if (aux != NULL) {
		snprintf(pat, sizeof(pat), "_%s%%", run_tag);
		PQclear(db_exec(aux, "DELETE FROM messages WHERE id LIKE $1",
		    1, p, NULL, NULL));
		snprintf(pat, sizeof(pat), "t-%s-%%", run_tag);
		PQclear(db_exec(aux, "DELETE FROM users WHERE name LIKE $1",
		    1, p, NULL, NULL));
	}
	db_close(&db);
	db_close(&aux);
	return 0;
}

/* --- migrations --- */

static void
test_migrate_idempotent(void **state)
{
	char *err = NULL;
	int applied = -1, version = -1, cur = -1;

	SKIP_WITHOUT_DB();
	/* group_setup ran it once already */
	assert_int_equal(migrate_run(db, sg_migrations, sg_nmigrations,
	    &applied, &version, &err), 0);
	assert_int_equal(applied, 0);
	assert_true(version >= migrate_latest(sg_migrations, sg_nmigrations));
	assert_int_equal(migrate_current(db, &cur, &err), 0);
	assert_int_equal(cur, version);
	assert_int_equal(count(db, "SELECT count(*) FROM schema_migrations "
	    "WHERE version = 1 AND name = 'init'", NULL), 1);
}

static void
test_migrate_bad_list(void **state)
{
	static const struct migration twice[] = {
		{ 1, "init", "SELECT 1" }, { 1, "again", "SELECT 1" },
	};
	static const struct migration renamed[] = {
		{ 1, "not_init", "SELECT 1" },
	};
	char *err = NULL;

	SKIP_WITHOUT_DB();
	assert_int_equal(migrate_run(db, twice, 2, NULL, NULL, &err), -1);
	assert_non_null(strstr(err, "ascending"));
	xfree(err);
	err = NULL;
	/* a recorded version under another name: refuse, change nothing */
	assert_int_equal(migrate_run(db, renamed, 1, NULL, NULL, &err), -1);
	assert_non_null(strstr(err, "not_init"));
	xfree(err);
}

/* A failing migration is rolled back whole and not recorded. */
static void
test_migrate_failure_rolls_back(void **state)
{
	char sqlbuf[256], name[32];
	struct migration m[2];
	char *err = NULL;
	int applied = -1;

	SKIP_WITHOUT_DB();
	/* a version far beyond real ones, unique to the run */
	m[0] = sg_migrations[0];
	snprintf(name, sizeof(name), "test_fail_%s", run_tag);
	snprintf(sqlbuf, sizeof(sqlbuf), "CREATE TABLE %s (x int); "
	    "SELECT no_such_function();", name);
	m[1].version = 900000000 + (int)(strtoul(run_tag, NULL, 16) % 1000000);
	m[1].name = name;
	m[1].sql = sqlbuf;
	assert_int_equal(migrate_run(db, m, 2, &applied, NULL, &err), -1);
	assert_int_equal(applied, 0);
	assert_non_null(strstr(err, name));
	xfree(err);
	assert_int_equal(count(db, "SELECT count(*) FROM schema_migrations "
	    "WHERE name = $1", name), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM pg_class WHERE "
	    "relname = $1", name), 0);
}

/* --- queue --- */

static const char body[] =
    "Received: from client.test\r\n"
    "Subject: test\r\n"
    "\r\n"
    "bytes: \0\x01\xff\xfe \\x00 '\"\r\n"
    "..leading dot\r\n"
    ".\r\n"
    "last line\r\n";

static void
fill_msg(struct queue_msg *m, const char *id, const char *const *rcpts,
    size_t n)
{
	memset(m, 0, sizeof(*m));
	m->id = id;
	m->mail_from = "sender@example.org";
	m->rcpts = rcpts;
	m->nrcpt = n;
	m->data = body;
	m->len = sizeof(body) - 1;
	m->mail_params = "SIZE=100 BODY=8BITMIME REQUIRETLS";
	m->body_type = "8BITMIME";
	m->requiretls = 1;
	m->client_addr = "192.0.2.7";
	m->client_helo = "client.test";
	m->auth_user = "alice";
	m->tls_protocol = "TLSv1.3";
	m->tls_cipher = "TLS_AES_256_GCM_SHA384";
	m->tls_bits = 256;
}

static void
insert_ok(struct db *d, const struct queue_msg *m)
{
	char *err = NULL;
	int r = queue_db_insert(d, m, &err);

	if (r != 0)
		fail_msg("queue_db_insert %s: got %d (%s), want 0", m->id, r,
		    err != NULL ? err : "");
}

/* wait_notify - the payload of the next notification on d, or NULL */
static char *
wait_notify(struct db *d, int ms)
{
	struct pollfd pfd;
	PGnotify *n;
	char *s;

	for (;;) {
		PQconsumeInput(db_conn(d));
		n = PQnotifies(db_conn(d));
		if (n != NULL) {
			s = xstrdup(n->extra);
			assert_string_equal(n->relname, QUEUE_DB_NOTIFY_CHANNEL);
			PQfreemem(n);
			return s;
		}
		if (ms <= 0)
			return NULL;
		pfd.fd = PQsocket(db_conn(d));
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) < 0)
			return NULL;
		ms -= 100;
	}
}

static void
test_insert_notify(void **state)
{
	const char *rcpts[] = { "a@one.example", "B@Two.Example",
	    "\"quoted \\\" @ local\"@three.example", "a@one.example" };
	struct queue_msg_info *mi = NULL;
	struct queue_msg m;
	char id[QUEUE_ID_LEN + 1], *err = NULL, *got;

	SKIP_WITHOUT_DB();
	sql_cmd(aux, "LISTEN " QUEUE_DB_NOTIFY_CHANNEL, 0, NULL);
	while ((got = wait_notify(aux, 0)) != NULL)	/* drain others */
		xfree(got);

	new_id(id, '_');
	fill_msg(&m, id, rcpts, 4);
	insert_ok(db, &m);

	got = wait_notify(aux, 5000);
	assert_non_null(got);
	assert_string_equal(got, id);
	xfree(got);
	sql_cmd(aux, "UNLISTEN *", 0, NULL);

	/* committed together: the message and (deduplicated) recipients */
	assert_int_equal(count(aux, "SELECT count(*) FROM recipients WHERE "
	    "message_id = $1 AND state = 'queued' AND attempts = 0", id), 3);
	assert_int_equal(queue_db_show(aux, id, &mi, &err), 1);
	assert_int_equal(mi->nrcpt, 3);
	/* envelope order, exact bytes */
	assert_string_equal(mi->rcpts[0].rcpt, rcpts[0]);
	assert_string_equal(mi->rcpts[1].rcpt, rcpts[1]);
	assert_string_equal(mi->rcpts[2].rcpt, rcpts[2]);
	assert_int_equal(mi->state_count[QUEUE_RCPT_QUEUED], 3);
	queue_db_info_free(&mi);
	assert_null(mi);
	assert_int_equal(count(aux, "SELECT count(*) FROM recipients WHERE "
	    "message_id = $1 AND domain = 'two.example'", id), 1);
}

static void
test_show_and_data(void **state)
{
	const char *rcpts[] = { "x@y.example" };
	struct queue_msg_info *mi = NULL;
	struct queue_msg m;
	char id[QUEUE_ID_LEN + 1], *err = NULL, *data = NULL;
	size_t len = 0;

	SKIP_WITHOUT_DB();
	new_id(id, '_');
	fill_msg(&m, id, rcpts, 1);
	insert_ok(db, &m);

	assert_int_equal(queue_db_show(db, id, &mi, &err), 1);
	assert_string_equal(mi->id, id);
	assert_string_equal(mi->mail_from, "sender@example.org");
	assert_string_equal(mi->mail_params, m.mail_params);
	assert_string_equal(mi->body_type, "8BITMIME");
	assert_int_equal(mi->requiretls, 1);
	assert_int_equal(mi->size, sizeof(body) - 1);
	assert_string_equal(mi->client_addr, "192.0.2.7");
	assert_string_equal(mi->client_helo, "client.test");
	assert_string_equal(mi->auth_user, "alice");
	assert_string_equal(mi->tls_protocol, "TLSv1.3");
	assert_string_equal(mi->tls_cipher, "TLS_AES_256_GCM_SHA384");
	assert_int_equal(mi->tls_bits, 256);
	/* ISO 8601 UTC */
	assert_int_equal(strlen(mi->received_at), 20);
	assert_int_equal(mi->received_at[10], 'T');
	assert_int_equal(mi->received_at[19], 'Z');
	assert_int_equal(mi->nrcpt, 1);
	assert_string_equal(mi->rcpts[0].state, "queued");
	assert_int_equal(mi->rcpts[0].attempts, 0);
	assert_non_null(mi->rcpts[0].next_attempt_at);
	assert_null(mi->rcpts[0].last_reply);
	queue_db_info_free(&mi);

	/* the exact bytes, NULs and 8-bit included */
	assert_int_equal(queue_db_data(db, id, &data, &len, &err), 1);
	assert_int_equal(len, sizeof(body) - 1);
	assert_memory_equal(data, body, len);
	assert_int_equal(data[len], '\0');
	xfree(data);
}

static void
test_plaintext_null_sender(void **state)
{
	const char *rcpts[] = { "bounce@y.example" };
	struct queue_msg_info *mi = NULL;
	struct queue_msg m;
	char id[QUEUE_ID_LEN + 1], *err = NULL;

	SKIP_WITHOUT_DB();
	new_id(id, '_');
	fill_msg(&m, id, rcpts, 1);
	m.mail_from = "";
	m.mail_params = "";
	m.requiretls = 0;
	m.auth_user = NULL;
	m.tls_protocol = NULL;
	m.tls_cipher = NULL;
	m.tls_bits = 0;
	m.client_helo = "bad\xff\xfehelo";	/* not UTF-8: stored as '?' */
	insert_ok(db, &m);
	assert_int_equal(queue_db_show(db, id, &mi, &err), 1);
	assert_string_equal(mi->mail_from, "");
	assert_null(mi->auth_user);
	assert_null(mi->tls_protocol);
	assert_null(mi->tls_cipher);
	assert_int_equal(mi->tls_bits, 0);
	assert_int_equal(mi->requiretls, 0);
	assert_string_equal(mi->client_helo, "bad??helo");
	queue_db_info_free(&mi);
}

static void
test_show_unknown(void **state)
{
	struct queue_msg_info *mi = NULL;
	char *err = NULL, *data = NULL;
	size_t len = 1;

	SKIP_WITHOUT_DB();
	assert_int_equal(queue_db_show(db, "NOSUCHMESSAGE000", &mi, &err), 0);
	assert_null(mi);
	assert_int_equal(queue_db_data(db, "NOSUCHMESSAGE000", &data, &len,
	    &err), 0);
	assert_null(data);
	assert_int_equal(len, 0);
}

static void
test_insert_refused(void **state)
{
	const char *rcpts[] = { "x@y.example" };
	const char *bad_rcpts[] = { "x@y.example", "bad\xc0@y.example" };
	struct queue_msg m;
	char id[QUEUE_ID_LEN + 1], *err = NULL;

	SKIP_WITHOUT_DB();
	new_id(id, '_');
	fill_msg(&m, id, rcpts, 1);
	m.nrcpt = 0;
	assert_int_equal(queue_db_insert(db, &m, &err), -1);
	xfree(err);
	fill_msg(&m, id, bad_rcpts, 2);
	assert_int_equal(queue_db_insert(db, &m, &err), -1);
	assert_non_null(strstr(err, "recipient 2"));
	xfree(err);
	assert_int_equal(count(db, "SELECT count(*) FROM messages WHERE "
	    "id = $1", id), 0);

	/* the same id twice: the second is refused, the first untouched */
	fill_msg(&m, id, rcpts, 1);
	insert_ok(db, &m);
	m.mail_from = "other@example.org";
	assert_int_equal(queue_db_insert(db, &m, &err), -1);
	xfree(err);
	assert_int_equal(count(db, "SELECT count(*) FROM messages WHERE "
	    "id = $1 AND mail_from = 'sender@example.org'", id), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM recipients WHERE "
	    "message_id = $1", id), 1);
}

static void
test_list(void **state)
{
	const char *rcpts[] = { "a@x.example", "b@x.example" };
	struct queue_list_opts opts = { 0, 0 };
	struct queue_msg_info *list = NULL;
	struct queue_msg m;
	char ids[3][QUEUE_ID_LEN + 1], *err = NULL;
	size_t n = 0, i, found;
	const char *p[1];

	SKIP_WITHOUT_DB();
	for (i = 0; i < 3; i++) {
		new_id(ids[i], '_');
		fill_msg(&m, ids[i], rcpts, 2);
		insert_ok(db, &m);
	}
	/* newest first */
	opts.limit = 3;
	assert_int_equal(queue_db_list(db, &opts, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].id, ids[2]);
	assert_string_equal(list[1].id, ids[1]);
	assert_string_equal(list[2].id, ids[0]);
	assert_int_equal(list[0].nrcpt, 2);
	assert_int_equal(list[0].state_count[QUEUE_RCPT_QUEUED], 2);
	assert_string_equal(list[0].tls_protocol, "TLSv1.3");
	assert_int_equal(list[0].size, sizeof(body) - 1);
	assert_null(list[0].rcpts);
	queue_db_list_free(&list, n);
	assert_null(list);

	opts.limit = 1;
	assert_int_equal(queue_db_list(db, &opts, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	queue_db_list_free(&list, n);

	/* finished messages drop out of --pending */
	p[0] = ids[2];
	sql_cmd(db, "UPDATE recipients SET state = 'delivered' WHERE "
	    "message_id = $1", 1, p);
	p[0] = ids[1];
	sql_cmd(db, "UPDATE recipients SET state = 'bounced' WHERE "
	    "message_id = $1 AND rcpt = 'a@x.example'", 1, p);
	opts.limit = QUEUE_DB_LIST_MAX;
	opts.pending_only = 1;
	assert_int_equal(queue_db_list(db, &opts, &list, &n, &err), 0);
	for (i = 0, found = 0; i < n; i++) {
		assert_string_not_equal(list[i].id, ids[2]);
		if (strcmp(list[i].id, ids[1]) == 0) {
			found++;
			assert_int_equal(list[i].state_count[
			    QUEUE_RCPT_BOUNCED], 1);
			assert_int_equal(list[i].state_count[
			    QUEUE_RCPT_QUEUED], 1);
		}
	}
	assert_int_equal(found, 1);
	queue_db_list_free(&list, n);
}

/* --- transactions and lost connections --- */

static void
test_failed_statement_fails_tx(void **state)
{
	char id[QUEUE_ID_LEN + 1], *err = NULL;
	const char *p[1] = { id };
	int transient = -1;

	SKIP_WITHOUT_DB();
	new_id(id, '_');
	assert_int_equal(db_begin(db, &err), 0);
	sql_cmd(db, "INSERT INTO messages (id, mail_from, size, data) "
	    "VALUES ($1, '', 0, '')", 1, p);
	assert_null(db_exec(db, "SELECT no_such_column FROM messages", 0,
	    NULL, &transient, &err));
	assert_int_equal(transient, 0);
	assert_string_equal(db_sqlstate(db), "42703");
	xfree(err);
	err = NULL;
	/* nothing more runs in a failed transaction */
	assert_null(db_exec(db, "SELECT 1", 0, NULL, &transient, &err));
	xfree(err);
	err = NULL;
	assert_int_equal(db_commit(db, &err), -1);
	xfree(err);
	assert_int_equal(count(db, "SELECT count(*) FROM messages WHERE "
	    "id = $1", id), 0);
	/* and the connection is fine for the next one */
	assert_int_equal(count(db, "SELECT 1", NULL), 1);
}

/* raise_code - make the server fail a statement with SQLSTATE code */
static PGresult *
raise_code(const char *code, int *transient, char **err)
{
	char q[256];

	snprintf(q, sizeof(q), "DO $$ BEGIN RAISE EXCEPTION 'test' USING "
	    "ERRCODE = '%s'; END $$", code);
	return db_exec(db, q, 0, NULL, transient, err);
}

/* Serialization failures and deadlocks are worth a retry; constraint
 * violations are not; neither costs the connection. */
static void
test_error_classes(void **state)
{
	char *err = NULL;
	int transient = -1, pid;

	SKIP_WITHOUT_DB();
	assert_int_equal(count(db, "SELECT 1", NULL), 1);
	pid = PQbackendPID(db_conn(db));

	assert_null(raise_code("40001", &transient, &err));
	assert_int_equal(transient, 1);
	assert_string_equal(db_sqlstate(db), "40001");
	assert_non_null(strstr(err, "40001"));
	xfree(err);
	err = NULL;

	assert_null(raise_code("23505", &transient, &err));
	assert_int_equal(transient, 0);
	xfree(err);
	err = NULL;
	assert_int_equal(PQbackendPID(db_conn(db)), pid);

	/* inside a transaction: the commit reports it as transient too */
	assert_int_equal(db_begin(db, &err), 0);
	assert_null(raise_code("40P01", &transient, &err));
	assert_int_equal(transient, 1);
	xfree(err);
	err = NULL;
	assert_int_equal(db_commit(db, &err), -2);
	xfree(err);
	err = NULL;
	assert_int_equal(PQbackendPID(db_conn(db)), pid);

	/* misuse */
	assert_int_equal(db_commit(db, &err), -1);
	xfree(err);
	err = NULL;
	db_rollback(db);		/* harmless outside a transaction */
	assert_int_equal(db_begin(db, &err), 0);
	assert_int_equal(db_begin(db, &err), -1);
	xfree(err);
	db_rollback(db);
	assert_int_equal(count(db, "SELECT 1", NULL), 1);
}

static void
test_bad_conninfo(void **state)
{
	struct timeval t0, t1;
	struct db *d;
	char *err = NULL;

	SKIP_WITHOUT_DB();
	gettimeofday(&t0, NULL);
	d = db_open("host=/nonexistent no_such_option=1", &err);
	gettimeofday(&t1, NULL);
	assert_null(d);
	assert_non_null(strstr(err, "conninfo"));
	xfree(err);
	/* refused at once, not after DB_RECONNECT_WINDOW */
	assert_true(t1.tv_sec - t0.tv_sec <= 1);
}

/* kill_backend - terminate d's server process from aux */
static void
kill_backend(struct db *d)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", PQbackendPID(db_conn(d)));
	assert_int_equal(count(aux, "SELECT pg_terminate_backend("
	    "$1::integer)::integer", pid), 1);
	/* let it die */
	for (int i = 0; i < 50; i++) {
		if (count(aux, "SELECT count(*) FROM pg_stat_activity WHERE "
		    "pid = $1::integer", pid) == 0)
			return;
		usleep(20000);
	}
	fail_msg("backend %s did not exit", pid);
}

/* The connection dies inside a transaction: everything after fails as
 * transient, nothing is committed, and no statement silently runs on a
 * new connection outside the transaction. */
static void
test_killed_in_tx(void **state)
{
	const char *rcpts[] = { "x@y.example" };
	struct queue_msg m;
	char id[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1], *err = NULL;
	const char *p[1] = { id };
	int transient = 0;

	SKIP_WITHOUT_DB();
	new_id(id, '_');
	assert_int_equal(db_begin(db, &err), 0);
	sql_cmd(db, "INSERT INTO messages (id, mail_from, size, data) "
	    "VALUES ($1, '', 0, '')", 1, p);
	kill_backend(db);
	assert_null(db_exec(db, "INSERT INTO recipients (message_id, rcpt) "
	    "VALUES ($1, 'x@y')", 1, p, &transient, &err));
	assert_int_equal(transient, 1);
	xfree(err);
	err = NULL;
	transient = 0;
	assert_null(db_exec(db, "SELECT 1", 0, NULL, &transient, &err));
	assert_int_equal(transient, 1);
	xfree(err);
	err = NULL;
	assert_int_equal(db_commit(db, &err), -2);
	xfree(err);
	assert_int_equal(count(aux, "SELECT count(*) FROM messages WHERE "
	    "id = $1", id), 0);

	/* the same struct db carries on */
	new_id(id2, '_');
	fill_msg(&m, id2, rcpts, 1);
	insert_ok(db, &m);
}

/* Killed while idle: the next insert reconnects and succeeds. */
static void
test_killed_idle(void **state)
{
	const char *rcpts[] = { "x@y.example" };
	struct queue_msg m;
	char id[QUEUE_ID_LEN + 1];

	char *err = NULL;
	int pid;

	SKIP_WITHOUT_DB();
	assert_int_equal(count(db, "SELECT 1", NULL), 1);
	pid = PQbackendPID(db_conn(db));
	kill_backend(db);
	/* noticed before any statement is sent: a fresh connection */
	assert_int_equal(db_ensure(db, &err), 0);
	assert_int_equal(PQstatus(db_conn(db)), CONNECTION_OK);
	assert_int_not_equal(PQbackendPID(db_conn(db)), pid);
	kill_backend(db);
	new_id(id, '_');
	fill_msg(&m, id, rcpts, 1);
	insert_ok(db, &m);
	assert_int_equal(count(aux, "SELECT count(*) FROM messages WHERE "
	    "id = $1", id), 1);
}

/*
 * The connection dies during COMMIT (a deferred trigger kills its own
 * backend, so COMMIT never answers): db_commit reports -2, outcome
 * unknown.
 */
static void
test_commit_outcome_unknown(void **state)
{
	char *err = NULL;

	SKIP_WITHOUT_DB();
	sql_cmd(db, "CREATE TEMP TABLE commit_kill (x int)", 0, NULL);
	sql_cmd(db, "CREATE FUNCTION pg_temp.kill_self() RETURNS trigger "
	    "LANGUAGE plpgsql AS $$ BEGIN "
	    "PERFORM pg_terminate_backend(pg_backend_pid()); "
	    "PERFORM pg_sleep(5); RETURN NULL; END $$", 0, NULL);
	sql_cmd(db, "CREATE CONSTRAINT TRIGGER commit_kill AFTER INSERT ON "
	    "commit_kill DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE "
	    "FUNCTION pg_temp.kill_self()", 0, NULL);
	assert_int_equal(db_begin(db, &err), 0);
	sql_cmd(db, "INSERT INTO commit_kill VALUES (1)", 0, NULL);
	assert_int_equal(db_commit(db, &err), -2);
	assert_non_null(strstr(err, "unknown"));
	xfree(err);
	/* reconnected; the temp table went with the old session */
	assert_int_equal(count(db, "SELECT count(*) FROM pg_class WHERE "
	    "relname = 'commit_kill' AND relpersistence = 't' AND "
	    "pg_table_is_visible(oid)", NULL), 0);
}

/*
 * queue_db_insert whose first COMMIT dies: it reconnects, sees the
 * message is not there, inserts again, and the message exists once.
 * The trigger fires only for this run's 'K' ids and kills only the
 * first time (a sequence is not rolled back).
 */
static void
test_insert_retry_after_commit_death(void **state)
{
	const char *rcpts[] = { "x@y.example", "z@y.example" };
	char fn[64], seq[64], trg[64], q[1024];
	char id[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1], *err = NULL;
	struct queue_msg m;

	SKIP_WITHOUT_DB();
	snprintf(fn, sizeof(fn), "test_kill_%s", run_tag);
	snprintf(seq, sizeof(seq), "test_kill_seq_%s", run_tag);
	snprintf(trg, sizeof(trg), "test_kill_trg_%s", run_tag);
	snprintf(q, sizeof(q), "CREATE SEQUENCE %s", seq);
	sql_cmd(aux, q, 0, NULL);
	snprintf(q, sizeof(q), "CREATE FUNCTION %s() RETURNS trigger "
	    "LANGUAGE plpgsql AS $$ BEGIN IF nextval('%s') = 1 THEN "
	    "PERFORM pg_terminate_backend(pg_backend_pid()); "
	    "PERFORM pg_sleep(5); END IF; RETURN NULL; END $$", fn, seq);
	sql_cmd(aux, q, 0, NULL);
	snprintf(q, sizeof(q), "CREATE CONSTRAINT TRIGGER %s AFTER INSERT ON "
	    "messages DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN "
	    "(NEW.id LIKE 'K%s%%') EXECUTE FUNCTION %s()", trg, run_tag, fn);
	sql_cmd(aux, q, 0, NULL);

	new_id(id, 'K');
	fill_msg(&m, id, rcpts, 2);
	insert_ok(db, &m);

	snprintf(q, sizeof(q), "DROP TRIGGER %s ON messages", trg);
	sql_cmd(aux, q, 0, NULL);
	snprintf(q, sizeof(q), "DROP FUNCTION %s()", fn);
	sql_cmd(aux, q, 0, NULL);
	snprintf(q, sizeof(q), "SELECT last_value::text FROM %s", seq);
	assert_int_equal(count(aux, q, NULL), 2);	/* killed once */
	snprintf(q, sizeof(q), "DROP SEQUENCE %s", seq);
	sql_cmd(aux, q, 0, NULL);

	assert_int_equal(count(aux, "SELECT count(*) FROM messages WHERE "
	    "id = $1", id), 1);
	assert_int_equal(count(aux, "SELECT count(*) FROM recipients WHERE "
	    "message_id = $1", id), 2);
	/* clean up our 'K' row (teardown removes '_' ones) */
	{
		const char *p[1] = { id };
		sql_cmd(aux, "DELETE FROM messages WHERE id = $1", 1, p);
	}
	new_id(id2, '_');
	fill_msg(&m, id2, rcpts, 1);
	insert_ok(db, &m);
	xfree(err);
}

/* --- users --- */

static void
test_users(void **state)
{
	struct user_info *list = NULL;
	char name[64], *hash = NULL, *err = NULL;
	const char *p[1] = { name };
	size_t n = 0, i, found = 0;

	SKIP_WITHOUT_DB();
	snprintf(name, sizeof(name), "t-%s-alice@example.org", run_tag);
	assert_int_equal(user_db_get_hash(db, name, &hash, &err), 0);
	assert_null(hash);
	assert_int_equal(user_db_set(db, name, "$scrypt$one", &err), 1);
	assert_int_equal(user_db_get_hash(db, name, &hash, &err), 1);
	assert_string_equal(hash, "$scrypt$one");
	xfree(hash);
	hash = NULL;
	assert_int_equal(user_db_set(db, name, "$scrypt$two", &err), 0);
	assert_int_equal(user_db_get_hash(db, name, &hash, &err), 1);
	assert_string_equal(hash, "$scrypt$two");
	xfree(hash);
	hash = NULL;

	assert_int_equal(user_db_list(db, &list, &n, &err), 0);
	for (i = 0; i < n; i++) {
		if (strcmp(list[i].name, name) == 0) {
			found++;
			assert_int_equal(list[i].disabled, 0);
			assert_int_equal(strlen(list[i].created_at), 20);
		}
	}
	assert_int_equal(found, 1);
	user_db_list_free(&list, n);
	assert_null(list);

	/* disabled users do not authenticate */
	sql_cmd(db, "UPDATE users SET disabled = true WHERE name = $1", 1, p);
	assert_int_equal(user_db_get_hash(db, name, &hash, &err), 0);
	assert_null(hash);

	/* malformed names: unknown for AUTH, refused for admin */
	assert_int_equal(user_db_get_hash(db, "", &hash, &err), 0);
	assert_int_equal(user_db_get_hash(db, "a\nb", &hash, &err), 0);
	assert_int_equal(user_db_get_hash(db, "\xff", &hash, &err), 0);
	assert_int_equal(user_db_set(db, "a\tb", "$x", &err), -1);
	xfree(err);
	err = NULL;
	assert_int_equal(user_db_set(db, name, "", &err), -1);
	xfree(err);
	err = NULL;

	assert_int_equal(user_db_delete(db, name, &err), 1);
	assert_int_equal(user_db_delete(db, name, &err), 0);
}

/* --- server restart (only from tests/integration/db_restart.sh) --- */

static void
run(const char *what, const char *cmd)
{
	int r = system(cmd);

	if (r != 0)
		fail_msg("%s: \"%s\" exited with %d", what, cmd, r);
}

static void
test_server_restart(void **state)
{
	const char *stop = getenv("SEALGATE_TEST_PG_STOP");
	const char *start = getenv("SEALGATE_TEST_PG_START");
	const char *rcpts[] = { "x@y.example" };
	char ids[3][QUEUE_ID_LEN + 1], bg[2048];
	struct queue_msg m;
	struct timeval t0, t1;
	char *err = NULL;
	int version = 0;

	SKIP_WITHOUT_DB();
	if (stop == NULL || start == NULL)
		skip();
	for (int i = 0; i < 3; i++)
		new_id(ids[i], '_');

	fill_msg(&m, ids[0], rcpts, 1);
	insert_ok(db, &m);

	/* 1. restart between two inserts: same struct db */
	run("stop", stop);
	run("start", start);
	fill_msg(&m, ids[1], rcpts, 1);
	insert_ok(db, &m);

	/* 2. insert while the server is down; it comes back 2 s later,
	 * within DB_RECONNECT_WINDOW */
	run("stop", stop);
	snprintf(bg, sizeof(bg), "(sleep 2; %s) >/dev/null 2>&1 &", start);
	run("background start", bg);
	gettimeofday(&t0, NULL);
	fill_msg(&m, ids[2], rcpts, 1);
	insert_ok(db, &m);
	gettimeofday(&t1, NULL);
	assert_true(t1.tv_sec - t0.tv_sec >= 1);
	assert_true(t1.tv_sec - t0.tv_sec <= DB_RECONNECT_WINDOW + 5);

	/* the other connection recovers too; all three are there */
	assert_int_equal(migrate_current(aux, &version, &err), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(count(aux, "SELECT count(*) FROM messages "
		    "WHERE id = $1", ids[i]), 1);

	/* 3. down for longer than the window: -2, promptly */
	run("stop", stop);
	new_id(ids[0], '_');
	fill_msg(&m, ids[0], rcpts, 1);
	gettimeofday(&t0, NULL);
	assert_int_equal(queue_db_insert(db, &m, &err), -2);
	gettimeofday(&t1, NULL);
	assert_non_null(err);
	xfree(err);
	assert_true(t1.tv_sec - t0.tv_sec <= DB_RECONNECT_WINDOW + 2);
	run("start", start);
	insert_ok(db, &m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_idempotent),
		cmocka_unit_test(test_migrate_bad_list),
		cmocka_unit_test(test_migrate_failure_rolls_back),
		cmocka_unit_test(test_insert_notify),
		cmocka_unit_test(test_show_and_data),
		cmocka_unit_test(test_plaintext_null_sender),
		cmocka_unit_test(test_show_unknown),
		cmocka_unit_test(test_insert_refused),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_failed_statement_fails_tx),
		cmocka_unit_test(test_error_classes),
		cmocka_unit_test(test_bad_conninfo),
		cmocka_unit_test(test_killed_in_tx),
		cmocka_unit_test(test_killed_idle),
		cmocka_unit_test(test_commit_outcome_unknown),
		cmocka_unit_test(test_insert_retry_after_commit_death),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_server_restart),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
