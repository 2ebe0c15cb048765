/*
 * cli_db.c - the database subcommands: migrate, queue, admin.
 *
 * Output: human text by default, one JSON document with --json. Values
 * that came from the network (addresses, HELO, replies) are escaped in
 * text output so they cannot drive the terminal.
 * Passwords are read from stdin or a file, never from argv (which every
 * local user can see in ps), and wiped after hashing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "migrate.h"
#include "passwd.h"
#include "queue_db.h"
#include "user_db.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/numparse.h"
#include "lib/sg_limits.h"
#include "lib/xalloc.h"

#define CLI_PASSWORD_MAX	1024

/* cli_err - "sealgate CMD: message" on stderr */
void
cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sealgate %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* cli_esc - printable form of untrusted text for a terminal (truncated) */
const char *
cli_esc(char *out, size_t outsz, const char *s)
{
	if (s == NULL)
		return "-";
	return log_escape(out, outsz, s, strlen(s));
}

/* cli_db_open - connect with the configured conninfo */
struct db *
cli_db_open(const struct sg_config *cfg, const char *cmd)
{
	struct db *db;
	char *ci, *err = NULL;

	if (cfg == NULL) {
		cli_err(cmd, "no configuration");
		return NULL;
	}
	ci = config_conninfo(cfg);
	if (ci == NULL) {
		cli_err(cmd, "no database configured");
		return NULL;
	}
	db = db_open_app(ci, "sealgate-cli", &err);
	explicit_bzero(ci, strlen(ci));		/* may hold a password */
	xfree(ci);
	if (db == NULL) {
		cli_err(cmd, "database: %s", err != NULL ? err : "unknown");
		xfree(err);
	}
	return db;
}

/* cli_write_out - the whole buffer to stdout; 0 / -1 */
int
cli_write_out(const char *p, size_t n)
{
	if (n > 0 && fwrite(p, 1, n, stdout) != n)
		return -1;
	if (fflush(stdout) != 0)
		return -1;
	return 0;
}

/* cli_emit_json - print the document and a newline; exit status */
int
cli_emit_json(const char *cmd, struct buf *b, int ok)
{
	int st = 0;

	if (!ok || buf_append_char(b, '\n') < 0) {
		cli_err(cmd, "output too large");
		st = 1;
	} else if (cli_write_out(b->data, b->len) < 0) {
		cli_err(cmd, "write: %s", strerror(errno));
		st = 1;
	}
	buf_free(b);
	return st;
}

/* ---------------------------------------------------------------- migrate */

static void
migrate_usage(FILE *f)
{
	fprintf(f, "usage: sealgate [-c FILE] migrate\n"
	    "Apply the database schema migrations built into this binary\n"
	    "(safe to run repeatedly and from several nodes at once).\n");
}

int
cli_migrate(const struct sg_config *cfg, int argc, char **argv)
{
	struct db *db;
	char *err = NULL;
	int applied = 0, version = 0, r, latest;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			migrate_usage(stdout);
			return 0;
		}
		cli_err("migrate", "unexpected argument \"%s\"", argv[i]);
		migrate_usage(stderr);
		return EXIT_USAGE;
	}
	db = cli_db_open(cfg, "migrate");
	if (db == NULL)
		return 1;
	r = migrate_run(db, sg_migrations, sg_nmigrations, &applied,
	    &version, &err);
	db_close(&db);
	if (r < 0) {
		cli_err("migrate", "%s (%d applied before the failure)",
		    err != NULL ? err : "failed", applied);
		xfree(err);
		return 1;
	}
	printf("migrate: %d applied, schema at version %d\n", applied,
	    version);
	latest = migrate_latest(sg_migrations, sg_nmigrations);
	if (version > latest)
		cli_err("migrate", "warning: the database schema (version %d) "
		    "is newer than this binary's (%d)", version, latest);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ------------------------------------------------------------------ queue */

static void
queue_usage(FILE *f)
{
	fprintf(f, "usage: sealgate [-c FILE] queue list [--json] "
	    "[--limit N] [--pending]\n"
	    "       sealgate [-c FILE] queue show ID [--json | --raw]\n"
	    "list: newest messages first (default limit %d); --pending "
	    "only those\n"
	    "      with a recipient still queued or deferred.\n"
	    "show: envelope, client, inbound TLS and every recipient; "
	    "--raw writes\n"
	    "      the exact stored message bytes to stdout.\n",
	    QUEUE_DB_LIST_DEFAULT);
}

/* states_text - "queued=1 delivered=2" */
static void
states_text(const struct queue_msg_info *mi, struct buf *b)
{
	int any = 0;

	for (int s = 0; s < QUEUE_RCPT_NSTATES; s++) {
		if (mi->state_count[s] == 0)
			continue;
		(void)buf_printf(b, "%s%s=%zu", any ? " " : "",
		    queue_rcpt_state_name((enum queue_rcpt_state)s),
		    mi->state_count[s]);
		any = 1;
	}
	if (!any)
		(void)buf_append_str(b, "-");
}

/* json_msg - the fields list and show share */
static int
json_msg(struct buf *b, const struct queue_msg_info *mi)
{
	int ok = 1;

	ok &= buf_append_str(b, "{\"id\":") == 0;
	ok &= json_append_cstr(b, mi->id) == 0;
	ok &= buf_append_str(b, ",\"received_at\":") == 0;
	ok &= json_append_cstr(b, mi->received_at) == 0;
	ok &= buf_append_str(b, ",\"mail_from\":") == 0;
	ok &= json_append_cstr(b, mi->mail_from) == 0;
	ok &= buf_append_str(b, ",\"mail_params\":") == 0;
	ok &= json_append_cstr(b, mi->mail_params) == 0;
	ok &= buf_append_str(b, ",\"body_type\":") == 0;
	ok &= json_append_cstr(b, mi->body_type) == 0;
	ok &= buf_printf(b, ",\"requiretls\":%s,\"size\":%llu",
	    mi->requiretls ? "true" : "false",
	    (unsigned long long)mi->size) == 0;
	ok &= buf_append_str(b, ",\"client_addr\":") == 0;
	ok &= json_append_cstr(b, mi->client_addr) == 0;
	ok &= buf_append_str(b, ",\"client_helo\":") == 0;
	ok &= json_append_cstr(b, mi->client_helo) == 0;
	ok &= buf_append_str(b, ",\"auth_user\":") == 0;
	ok &= json_append_cstr(b, mi->auth_user) == 0;
	ok &= buf_append_str(b, ",\"tls_protocol\":") == 0;
	ok &= json_append_cstr(b, mi->tls_protocol) == 0;
	ok &= buf_append_str(b, ",\"tls_cipher\":") == 0;
	ok &= json_append_cstr(b, mi->tls_cipher) == 0;
	if (mi->tls_protocol != NULL)
		ok &= buf_printf(b, ",\"tls_bits\":%d", mi->tls_bits) == 0;
	else
		ok &= buf_append_str(b, ",\"tls_bits\":null") == 0;
	ok &= buf_printf(b, ",\"recipient_count\":%zu,\"states\":{",
	    mi->nrcpt) == 0;
	for (int s = 0; s < QUEUE_RCPT_NSTATES; s++)
		ok &= buf_printf(b, "%s\"%s\":%zu", s ? "," : "",
		    queue_rcpt_state_name((enum queue_rcpt_state)s),
		    mi->state_count[s]) == 0;
	ok &= buf_append_char(b, '}') == 0;
	return ok;
}

static int
queue_list_json(const struct queue_msg_info *list, size_t n)
{
	struct buf b;
	int ok = 1;

	buf_init(&b, CLI_OUT_MAX);
	ok &= buf_append_str(&b, "{\"messages\":[") == 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			ok &= buf_append_char(&b, ',') == 0;
		ok &= json_msg(&b, &list[i]);
		ok &= buf_append_char(&b, '}') == 0;
	}
	ok &= buf_printf(&b, "],\"count\":%zu}", n) == 0;
	return cli_emit_json("queue", &b, ok);
}

static int
queue_list_text(const struct queue_msg_info *list, size_t n)
{
	char e1[CLI_ESC_MAX];
	struct buf b, st;
	int ok = 1;

	buf_init(&b, CLI_OUT_MAX);
	if (n == 0)
		ok &= buf_append_str(&b, "no messages\n") == 0;
	else
		ok &= buf_printf(&b, "%-16s  %-20s  %9s  %5s  %-8s  %-24s  "
		    "%s\n", "ID", "RECEIVED (UTC)", "SIZE", "RCPTS", "TLS",
		    "STATES", "FROM") == 0;
	for (size_t i = 0; i < n; i++) {
		const struct queue_msg_info *mi = &list[i];
		buf_init(&st, 256);
		states_text(mi, &st);
		ok &= buf_printf(&b, "%-16s  %-20s  %9llu  %5zu  %-8s  %-24s  "
		    "<%s>\n", mi->id, mi->received_at,
		    (unsigned long long)mi->size, mi->nrcpt,
		    mi->tls_protocol != NULL ? mi->tls_protocol : "none",
		    buf_cstr(&st), cli_esc(e1, sizeof(e1), mi->mail_from)) == 0;
		buf_free(&st);
	}
	if (!ok || cli_write_out(b.data, b.len) < 0) {
		cli_err("queue", "cannot write the list");
		buf_free(&b);
		return 1;
	}
	buf_free(&b);
	return 0;
}

static int
queue_list(const struct sg_config *cfg, int argc, char **argv)
{
	struct queue_list_opts opts = { QUEUE_DB_LIST_DEFAULT, 0 };
	struct queue_msg_info *list = NULL;
	struct db *db;
	char *err = NULL;
	int json = 0, r;
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		uint64_t lim;

		if (strcmp(a, "--json") == 0)
			json = 1;
		else if (strcmp(a, "--pending") == 0)
			opts.pending_only = 1;
		else if (strcmp(a, "--limit") == 0 && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(a, "--limit=", 8) == 0)
			v = a + 8;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			queue_usage(stdout);
			return 0;
		} else {
			cli_err("queue", "unexpected argument \"%s\"", a);
			queue_usage(stderr);
			return EXIT_USAGE;
		}
		if (v != NULL) {
			if (num_parse_u64_str(v, 1, QUEUE_DB_LIST_MAX,
			    &lim) < 0) {
				cli_err("queue", "--limit: want 1..%d, got "
				    "\"%s\"", QUEUE_DB_LIST_MAX, v);
				return EXIT_USAGE;
			}
			opts.limit = (size_t)lim;
		}
	}
	db = cli_db_open(cfg, "queue");
	if (db == NULL)
		return 1;
	r = queue_db_list(db, &opts, &list, &n, &err);
	db_close(&db);
	if (r < 0) {
		cli_err("queue", "list: %s", err != NULL ? err : "failed");
		xfree(err);
		return 1;
	}
	r = json ? queue_list_json(list, n) : queue_list_text(list, n);
	queue_db_list_free(&list, n);
	return r;
}

static int
queue_show_raw(struct db *db, const char *id)
{
	char *data = NULL, *err = NULL;
	size_t len = 0;
	int r;

	r = queue_db_data(db, id, &data, &len, &err);
	if (r < 0) {
		cli_err("queue", "show: %s", err != NULL ? err : "failed");
		xfree(err);
		return 1;
	}
	if (r == 0) {
		cli_err("queue", "no message with id \"%s\"", id);
		return 1;
	}
	r = cli_write_out(data, len);
	xfree(data);
	if (r < 0) {
		cli_err("queue", "write: %s", strerror(errno));
		return 1;
	}
	return 0;
}

static int
queue_show_json(const struct queue_msg_info *mi)
{
	struct buf b;
	int ok = 1;

	buf_init(&b, CLI_OUT_MAX);
	ok &= json_msg(&b, mi);
	ok &= buf_append_str(&b, ",\"recipients\":[") == 0;
	for (size_t i = 0; i < mi->nrcpt; i++) {
		const struct queue_rcpt_info *r = &mi->rcpts[i];
		ok &= buf_append_str(&b, i ? ",{\"rcpt\":" : "{\"rcpt\":") == 0;
		ok &= json_append_cstr(&b, r->rcpt) == 0;
		ok &= buf_append_str(&b, ",\"state\":") == 0;
		ok &= json_append_cstr(&b, r->state) == 0;
		ok &= buf_printf(&b, ",\"attempts\":%d", r->attempts) == 0;
		ok &= buf_append_str(&b, ",\"next_attempt_at\":") == 0;
		ok &= json_append_cstr(&b, r->next_attempt_at) == 0;
		ok &= buf_append_str(&b, ",\"last_reply\":") == 0;
		ok &= json_append_cstr(&b, r->last_reply) == 0;
		ok &= buf_append_str(&b, ",\"updated_at\":") == 0;
		ok &= json_append_cstr(&b, r->updated_at) == 0;
		ok &= buf_append_char(&b, '}') == 0;
	}
	ok &= buf_append_str(&b, "]}") == 0;
	return cli_emit_json("queue", &b, ok);
}

static int
queue_show_text(const struct queue_msg_info *mi)
{
	char e1[CLI_ESC_MAX], e2[CLI_ESC_MAX];
	struct buf b, st;
	int ok = 1;

	buf_init(&b, CLI_OUT_MAX);
	buf_init(&st, 256);
	states_text(mi, &st);
	ok &= buf_printf(&b,
	    "id:           %s\n"
	    "received:     %s\n"
	    "from:         <%s>\n"
	    "mail params:  %s\n"
	    "body type:    %s\n"
	    "requiretls:   %s\n"
	    "size:         %llu bytes\n",
	    mi->id, mi->received_at, cli_esc(e1, sizeof(e1), mi->mail_from),
	    cli_esc(e2, sizeof(e2), mi->mail_params),
	    mi->body_type != NULL ? mi->body_type : "-",
	    mi->requiretls ? "yes" : "no",
	    (unsigned long long)mi->size) == 0;
	ok &= buf_printf(&b, "client:       %s",
	    cli_esc(e1, sizeof(e1), mi->client_addr)) == 0;
	ok &= buf_printf(&b, " helo=%s\n",
	    cli_esc(e1, sizeof(e1), mi->client_helo)) == 0;
	ok &= buf_printf(&b, "auth user:    %s\n",
	    cli_esc(e1, sizeof(e1), mi->auth_user)) == 0;
	if (mi->tls_protocol != NULL)
		ok &= buf_printf(&b, "inbound TLS:  %s %s (%d bits)\n",
		    cli_esc(e1, sizeof(e1), mi->tls_protocol),
		    cli_esc(e2, sizeof(e2), mi->tls_cipher), mi->tls_bits) == 0;
	else
		ok &= buf_append_str(&b, "inbound TLS:  none (plaintext)\n")
		    == 0;
	ok &= buf_printf(&b, "recipients:   %zu (%s)\n", mi->nrcpt,
	    buf_cstr(&st)) == 0;
	buf_free(&st);
	for (size_t i = 0; i < mi->nrcpt; i++) {
		const struct queue_rcpt_info *r = &mi->rcpts[i];
		int pending = r->state != NULL &&
		    (strcmp(r->state, "queued") == 0 ||
		    strcmp(r->state, "deferred") == 0);
		ok &= buf_printf(&b, "  <%s>  %s  attempts=%d",
		    cli_esc(e1, sizeof(e1), r->rcpt),
		    r->state != NULL ? r->state : "-", r->attempts) == 0;
		if (pending && r->next_attempt_at != NULL)
			ok &= buf_printf(&b, "  next=%s", r->next_attempt_at)
			    == 0;
		ok &= buf_append_char(&b, '\n') == 0;
		if (r->last_reply != NULL)
			ok &= buf_printf(&b, "      last reply: %s\n",
			    cli_esc(e1, sizeof(e1), r->last_reply)) == 0;
	}
	if (!ok || cli_write_out(b.data, b.len) < 0) {
		cli_err("queue", "cannot write the message");
		buf_free(&b);
		return 1;
	}
	buf_free(&b);
	return 0;
}

static int
queue_show(const struct sg_config *cfg, int argc, char **argv)
{
	struct queue_msg_info *mi = NULL;
	const char *id = NULL;
	struct db *db;
	char *err = NULL;
	int json = 0, raw = 0, r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0)
			json = 1;
		else if (strcmp(a, "--raw") == 0)
			raw = 1;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			queue_usage(stdout);
			return 0;
		} else if (a[0] != '-' && id == NULL)
			id = a;
		else {
			cli_err("queue", "unexpected argument \"%s\"", a);
			queue_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (id == NULL || (json && raw)) {
		cli_err("queue", id == NULL ? "show: which ID?" :
		    "show: --json and --raw exclude each other");
		queue_usage(stderr);
		return EXIT_USAGE;
	}
	db = cli_db_open(cfg, "queue");
	if (db == NULL)
		return 1;
	if (raw) {
		r = queue_show_raw(db, id);
		db_close(&db);
		return r;
	}
	r = queue_db_show(db, id, &mi, &err);
	db_close(&db);
	if (r < 0) {
		cli_err("queue", "show: %s", err != NULL ? err : "failed");
		xfree(err);
		return 1;
	}
	if (r == 0) {
		char e[CLI_ESC_MAX];
		cli_err("queue", "no message with id \"%s\"",
		    cli_esc(e, sizeof(e), id));
		return 1;
	}
	r = json ? queue_show_json(mi) : queue_show_text(mi);
	queue_db_info_free(&mi);
	return r;
}

int
cli_queue(const struct sg_config *cfg, int argc, char **argv)
{
	if (argc < 2) {
		queue_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		queue_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "list") == 0)
		return queue_list(cfg, argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return queue_show(cfg, argc - 1, argv + 1);
	cli_err("queue", "unknown command \"%s\"", argv[1]);
	queue_usage(stderr);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------------ admin */

static void
admin_usage(FILE *f)
{
	fprintf(f, "usage: sealgate [-c FILE] admin user add NAME "
	    "[--password-file FILE]\n"
	    "       sealgate [-c FILE] admin user delete NAME\n"
	    "       sealgate [-c FILE] admin user list [--json]\n"
	    "user add: create an SMTP AUTH user or set its password. The "
	    "password is\n"
	    "the first line of FILE, else of standard input (asked twice "
	    "on a terminal);\n"
	    "never give it on the command line.\n");
}

/* read_line - one line (without CR/LF) into out; -1 empty/too long/none */
static int
read_line(FILE *f, char *out, size_t outsz, size_t *len_out)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (n + 1 >= outsz) {
			/* drain: do not leave the rest for anyone */
			while ((c = getc(f)) != EOF && c != '\n')
				;
			explicit_bzero(out, outsz);
			return -1;
		}
		out[n++] = (char)c;
	}
	if (n > 0 && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	*len_out = n;
	return n > 0 ? 0 : -1;
}

/* prompt - read a password from the terminal without echo */
static int
prompt(const char *text, char *out, size_t outsz, size_t *len_out)
{
	struct termios old, quiet;
	int r, restore;

	fputs(text, stderr);
	fflush(stderr);
	restore = tcgetattr(STDIN_FILENO, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	r = read_line(stdin, out, outsz, len_out);
	if (restore)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return r;
}

/* get_password - from FILE, the terminal (twice) or stdin; 0 / -1 */
static int
get_password(const char *file, char *pw, size_t pwsz, size_t *len_out)
{
	char again[CLI_PASSWORD_MAX + 2];
	size_t alen = 0;
	FILE *f;
	int r;

	if (file != NULL) {
		f = fopen(file, "r");
		if (f == NULL) {
			cli_err("admin", "%s: %s", file, strerror(errno));
			return -1;
		}
		r = read_line(f, pw, pwsz, len_out);
		fclose(f);
	} else if (isatty(STDIN_FILENO)) {
		r = prompt("Password: ", pw, pwsz, len_out);
		if (r == 0) {
			r = prompt("Again: ", again, sizeof(again), &alen);
			if (r == 0 && (alen != *len_out ||
			    memcmp(again, pw, alen) != 0)) {
				cli_err("admin", "passwords differ");
				explicit_bzero(again, sizeof(again));
				explicit_bzero(pw, pwsz);
				return -1;
			}
			explicit_bzero(again, sizeof(again));
		}
	} else
		r = read_line(stdin, pw, pwsz, len_out);
	if (r < 0)
		cli_err("admin", "need a password of 1..%d bytes on one line",
		    CLI_PASSWORD_MAX);
	return r;
}

static int
user_add(struct db *db, const char *name, const char *file)
{
	char pw[CLI_PASSWORD_MAX + 2];
	size_t len = 0;
	char *hash, *err = NULL;
	int r;

	if (get_password(file, pw, sizeof(pw), &len) < 0)
		return 1;
	hash = passwd_hash(pw, len);
	explicit_bzero(pw, sizeof(pw));
	if (hash == NULL) {
		cli_err("admin", "cannot hash the password");
		return 1;
	}
	r = user_db_set(db, name, hash, &err);
	xfree(hash);
	if (r < 0) {
		cli_err("admin", "user add: %s", err != NULL ? err : "failed");
		xfree(err);
		return 1;
	}
	printf("admin: user %s %s\n", name, r == 1 ? "added" :
	    "updated (new password)");
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
user_delete(struct db *db, const char *name)
{
	char *err = NULL;
	int r;

	r = user_db_delete(db, name, &err);
	if (r < 0) {
		cli_err("admin", "user delete: %s", err != NULL ? err :
		    "failed");
		xfree(err);
		return 1;
	}
	if (r == 0) {
		cli_err("admin", "no user \"%s\"", name);
		return 1;
	}
	printf("admin: user %s deleted\n", name);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
user_list(struct db *db, int json)
{
	struct user_info *list = NULL;
	struct buf b;
	char *err = NULL;
	size_t n = 0;
	int ok = 1;

	if (user_db_list(db, &list, &n, &err) < 0) {
		cli_err("admin", "user list: %s", err != NULL ? err :
		    "failed");
		xfree(err);
		return 1;
	}
	buf_init(&b, CLI_OUT_MAX);
	if (json) {
		ok &= buf_append_str(&b, "{\"users\":[") == 0;
		for (size_t i = 0; i < n; i++) {
			ok &= buf_append_str(&b, i ? ",{\"name\":" :
			    "{\"name\":") == 0;
			ok &= json_append_cstr(&b, list[i].name) == 0;
			ok &= buf_append_str(&b, ",\"created_at\":") == 0;
			ok &= json_append_cstr(&b, list[i].created_at) == 0;
			ok &= buf_append_str(&b, ",\"updated_at\":") == 0;
			ok &= json_append_cstr(&b, list[i].updated_at) == 0;
			ok &= buf_printf(&b, ",\"disabled\":%s}",
			    list[i].disabled ? "true" : "false") == 0;
		}
		ok &= buf_printf(&b, "],\"count\":%zu}", n) == 0;
		user_db_list_free(&list, n);
		return cli_emit_json("admin", &b, ok);
	}
	if (n == 0)
		ok &= buf_append_str(&b, "no users\n") == 0;
	else
		ok &= buf_printf(&b, "%-32s  %-20s  %-20s  %s\n", "NAME",
		    "CREATED (UTC)", "UPDATED (UTC)", "STATUS") == 0;
	for (size_t i = 0; i < n; i++) {
		char e[CLI_ESC_MAX];
		ok &= buf_printf(&b, "%-32s  %-20s  %-20s  %s\n",
		    cli_esc(e, sizeof(e), list[i].name), list[i].created_at,
		    list[i].updated_at, list[i].disabled ? "disabled" :
		    "enabled") == 0;
	}
	user_db_list_free(&list, n);
	if (!ok || cli_write_out(b.data, b.len) < 0) {
		cli_err("admin", "cannot write the list");
		buf_free(&b);
		return 1;
	}
	buf_free(&b);
	return 0;
}

int
cli_admin(const struct sg_config *cfg, int argc, char **argv)
{
	const char *verb, *name = NULL, *file = NULL;
	struct db *db;
	int json = 0, r;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)) {
		admin_usage(stdout);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "user") != 0) {
		admin_usage(stderr);
		return EXIT_USAGE;
	}
	verb = argv[2];
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			admin_usage(stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0)
			json = 1;
		else if (strcmp(a, "--password-file") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strncmp(a, "--password-file=", 16) == 0)
			file = a + 16;
		else if (strcmp(a, "--password") == 0 ||
		    strncmp(a, "--password=", 11) == 0) {
			cli_err("admin", "passwords are never taken from the "
			    "command line: use stdin or --password-file");
			return EXIT_USAGE;
		} else if (a[0] != '-' && name == NULL)
			name = a;
		else {
			cli_err("admin", "unexpected argument \"%s\"", a);
			admin_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (strcmp(verb, "list") == 0) {
		if (name != NULL || file != NULL) {
			admin_usage(stderr);
			return EXIT_USAGE;
		}
	} else if (strcmp(verb, "add") == 0 || strcmp(verb, "delete") == 0) {
		if (name == NULL || json ||
		    (file != NULL && strcmp(verb, "add") != 0)) {
			admin_usage(stderr);
			return EXIT_USAGE;
		}
		if (!user_name_valid(name)) {
			cli_err("admin", "invalid user name (1..%d bytes of "
			    "UTF-8, no control characters)", USER_NAME_MAX);
			return EXIT_USAGE;
		}
	} else {
		cli_err("admin", "unknown command \"user %s\"", verb);
		admin_usage(stderr);
		return EXIT_USAGE;
	}

	db = cli_db_open(cfg, "admin");
	if (db == NULL)
		return 1;
	if (strcmp(verb, "add") == 0)
		r = user_add(db, name, file);
	else if (strcmp(verb, "delete") == 0)
		r = user_delete(db, name);
	else
		r = user_list(db, json);
	db_close(&db);
	return r;
}
