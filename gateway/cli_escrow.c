/*
 * cli_escrow.c - `sealgate escrow`: the admin's side of the escrow store
 * (docs/portal.md "Master key", "Recall, expiry, audit"): make the master
 * key, list escrowed messages, recall an unread one, purge expired ones,
 * show a message's audit trail.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "escrow.h"
#include "escrow_db.h"
#include "seal.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

static void
escrow_usage(FILE *f)
{
	fprintf(f,
	    "usage: sealgate escrow keygen\n"
	    "       sealgate escrow list [--json] [--limit N]\n"
	    "       sealgate escrow recall ID\n"
	    "       sealgate escrow purge\n"
	    "       sealgate escrow audit ID [--json]\n"
	    "\n"
	    "keygen: write a new master key to escrow_master_key_file\n"
	    "(unset: STATE_DIR/escrow.key), mode 0600; an existing file is\n"
	    "never overwritten. Keep a copy somewhere safe: without it no\n"
	    "escrowed message can be read.\n"
	    "list: escrowed messages, newest first (default %d), with their\n"
	    "state: unread, read, recalled, expired, purged.\n"
	    "recall: wipe an unread message; the recipient sees nothing.\n"
	    "A message that has been read cannot be recalled.\n"
	    "purge: wipe the content of every expired message (the portal\n"
	    "also does this every 10 minutes); the rows stay for the audit.\n"
	    "audit: who did what with one message, oldest first.\n",
	    ESCROW_DB_LIST_DEFAULT);
}

static const char *
row_state(const struct escrow_db_row *r)
{
	if (r->purged_at != NULL)
		return "purged";
	if (r->recalled_at != NULL)
		return "recalled";
	if (r->expired)
		return "expired";
	if (r->first_read_at != NULL)
		return "read";
	return "unread";
}

/* ---------------------------------------------------------------- keygen */

static int
escrow_keygen(const struct sg_config *cfg)
{
	struct seal_master *m;
	char *path = escrow_master_path(cfg), *err = NULL;
	int st = 0;

	if (seal_master_generate(path, &err) < 0) {
		cli_err("escrow", "keygen: %s", err != NULL ? err : "failed");
		xfree(err);
		xfree(path);
		return 1;
	}
	/*
	 * Not handed to the run user when we are root: the delivery and
	 * web roles read the key as root before dropping privileges, and
	 * seal_master_load() as root accepts only a root-owned file (any
	 * other owner could swap the key).
	 */
	m = seal_master_load(path, &err);
	if (m == NULL) {
		cli_err("escrow", "keygen: written, but %s",
		    err != NULL ? err : "cannot be read back");
		xfree(err);
		st = 1;
	} else {
		printf("master key %s written to %s (mode 0600)\n"
		    "Keep a copy in a safe place: escrowed mail cannot be read "
		    "without it.\n", seal_master_id(m), path);
		seal_master_free(&m);
	}
	xfree(path);
	return st;
}

/* ------------------------------------------------------------------ list */

static int
list_json(const struct escrow_db_row *rows, size_t n)
{
	struct buf b;
	size_t i;
	int ok = 1;

	buf_init(&b, CLI_OUT_MAX);
	ok &= buf_append_char(&b, '[') == 0;
	for (i = 0; i < n; i++) {
		const struct escrow_db_row *r = &rows[i];

		ok &= buf_append_str(&b, i ? ",{\"id\":" : "{\"id\":") == 0;
		ok &= json_append_cstr(&b, r->id) == 0;
		ok &= buf_append_str(&b, ",\"recipient\":") == 0;
		ok &= json_append_cstr(&b, r->recipient) == 0;
		ok &= buf_append_str(&b, ",\"sender\":") == 0;
		ok &= json_append_cstr(&b, r->sender) == 0;
		ok &= buf_printf(&b, ",\"size\":%lld,\"state\":\"%s\","
		    "\"created\":", (long long)r->size, row_state(r)) == 0;
		ok &= json_append_cstr(&b, r->created_at) == 0;
		ok &= buf_append_str(&b, ",\"expires\":") == 0;
		ok &= json_append_cstr(&b, r->expires_at) == 0;
		ok &= buf_append_str(&b, ",\"read\":") == 0;
		ok &= json_append_cstr(&b, r->first_read_at) == 0;
		ok &= buf_append_str(&b, ",\"recalled\":") == 0;
		ok &= json_append_cstr(&b, r->recalled_at) == 0;
		ok &= buf_append_str(&b, ",\"purged\":") == 0;
		ok &= json_append_cstr(&b, r->purged_at) == 0;
		ok &= buf_append_char(&b, '}') == 0;
	}
	ok &= buf_append_char(&b, ']') == 0;
	return cli_emit_json("escrow", &b, ok);
}

static int
list_text(const struct escrow_db_row *rows, size_t n)
{
	char e1[CLI_ESC_MAX], e2[CLI_ESC_MAX];
	size_t i;

	if (n == 0) {
		printf("no escrowed messages\n");
		return 0;
	}
	printf("%-43s %-8s %-20s %-20s %s -> %s\n", "id", "state", "created",
	    "expires", "sender", "recipient");
	for (i = 0; i < n; i++) {
		const struct escrow_db_row *r = &rows[i];

		printf("%-43s %-8s %-20s %-20s <%s> -> <%s>\n", r->id,
		    row_state(r), r->created_at, r->expires_at,
		    cli_esc(e1, sizeof(e1), r->sender),
		    cli_esc(e2, sizeof(e2), r->recipient));
	}
	return 0;
}

static int
escrow_list(const struct sg_config *cfg, int argc, char **argv)
{
	struct escrow_db_row *rows = NULL;
	size_t n = 0, limit = 0;
	struct db *db;
	char *err = NULL;
	int json = 0, r, i;

	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		uint64_t lim;

		if (strcmp(a, "--json") == 0)
			json = 1;
		else if (strcmp(a, "--limit") == 0 && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(a, "--limit=", 8) == 0)
			v = a + 8;
		else {
			cli_err("escrow", "unexpected argument \"%s\"", a);
			escrow_usage(stderr);
			return EXIT_USAGE;
		}
		if (v != NULL) {
			if (num_parse_u64_str(v, 1, ESCROW_DB_LIST_MAX,
			    &lim) < 0) {
				cli_err("escrow", "--limit: want 1..%d",
				    ESCROW_DB_LIST_MAX);
				return EXIT_USAGE;
			}
			limit = (size_t)lim;
		}
	}
	if ((db = cli_db_open(cfg, "escrow")) == NULL)
		return 1;
	r = escrow_db_list(db, limit, &rows, &n, &err);
	db_close(&db);
	if (r < 0) {
		cli_err("escrow", "list: %s", err != NULL ? err : "failed");
		xfree(err);
		return 1;
	}
	r = json ? list_json(rows, n) : list_text(rows, n);
	escrow_db_rows_free(&rows, n);
	return r;
}

/* ---------------------------------------------------------------- recall */

static int
escrow_recall(const struct sg_config *cfg, const char *id)
{
	char e[CLI_ESC_MAX], detail[64], *err = NULL;
	struct db *db;
	int r;

	if ((db = cli_db_open(cfg, "escrow")) == NULL)
		return 1;
	snprintf(detail, sizeof(detail), "sealgate escrow recall (uid %lu)",
	    (unsigned long)getuid());
	r = escrow_db_recall(db, id, detail, &err);
	db_close(&db);
	cli_esc(e, sizeof(e), id);
	switch (r) {
	case ESCROW_RECALLED:
		printf("%s recalled: its content is wiped\n", e);
		return 0;
	case ESCROW_RECALL_NOT_FOUND:
		cli_err("escrow", "recall: no escrowed message %s", e);
		return 1;
	case ESCROW_RECALL_READ:
		cli_err("escrow", "recall: %s has been read by its recipient: "
		    "a read message cannot be recalled", e);
		return 1;
	case ESCROW_RECALL_ALREADY:
		cli_err("escrow", "recall: %s was recalled already", e);
		return 1;
	case ESCROW_RECALL_PURGED:
		cli_err("escrow", "recall: %s has expired and been purged: "
		    "nothing left to recall", e);
		return 1;
	default:
		cli_err("escrow", "recall: %s", err != NULL ? err : "failed");
		xfree(err);
		return 1;
	}
}

/* ----------------------------------------------------------------- purge */

static int
escrow_purge(const struct sg_config *cfg)
{
	struct db *db;
	char *err = NULL;
	long n = 0;
	int r;

	if ((db = cli_db_open(cfg, "escrow")) == NULL)
		return 1;
	r = escrow_purge_expired(db, &n, &err);
	db_close(&db);
	if (r < 0) {
		cli_err("escrow", "purge: %s", err != NULL ? err : "failed");
		xfree(err);
		return 1;
	}
	printf("purged %ld expired message%s\n", n, n == 1 ? "" : "s");
	return 0;
}

/* ----------------------------------------------------------------- audit */

static int
escrow_audit(const struct sg_config *cfg, const char *id, int json)
{
	struct escrow_db_audit_row *rows = NULL;
	char e1[CLI_ESC_MAX], e2[CLI_ESC_MAX], e3[CLI_ESC_MAX];
	struct db *db;
	char *err = NULL;
	size_t n = 0, i;
	int r, ok = 1;

	if ((db = cli_db_open(cfg, "escrow")) == NULL)
		return 1;
	r = escrow_db_audit_list(db, id, &rows, &n, &err);
	db_close(&db);
	if (r < 0) {
		cli_err("escrow", "audit: %s", err != NULL ? err : "failed");
		xfree(err);
		return 1;
	}
	if (r == 0) {
		cli_err("escrow", "audit: no escrowed message %s",
		    cli_esc(e1, sizeof(e1), id));
		return 1;
	}
	if (json) {
		struct buf b;

		buf_init(&b, CLI_OUT_MAX);
		ok &= buf_append_char(&b, '[') == 0;
		for (i = 0; i < n; i++) {
			ok &= buf_printf(&b, "%s{\"id\":%lld,\"at\":",
			    i ? "," : "", (long long)rows[i].id) == 0;
			ok &= json_append_cstr(&b, rows[i].at) == 0;
			ok &= buf_append_str(&b, ",\"action\":") == 0;
			ok &= json_append_cstr(&b, rows[i].action) == 0;
			ok &= buf_append_str(&b, ",\"user\":") == 0;
			ok &= json_append_cstr(&b, rows[i].user) == 0;
			ok &= buf_append_str(&b, ",\"client\":") == 0;
			ok &= json_append_cstr(&b, rows[i].client_addr) == 0;
			ok &= buf_append_str(&b, ",\"detail\":") == 0;
			ok &= json_append_cstr(&b, rows[i].detail) == 0;
			ok &= buf_append_char(&b, '}') == 0;
		}
		ok &= buf_append_char(&b, ']') == 0;
		escrow_db_audit_rows_free(&rows, n);
		return cli_emit_json("escrow", &b, ok);
	}
	printf("%-20s %-14s %-30s %-16s %s\n", "at", "action", "user",
	    "client", "detail");
	for (i = 0; i < n; i++)
		printf("%-20s %-14s %-30s %-16s %s\n", rows[i].at,
		    rows[i].action, cli_esc(e1, sizeof(e1), rows[i].user),
		    cli_esc(e2, sizeof(e2), rows[i].client_addr),
		    cli_esc(e3, sizeof(e3), rows[i].detail));
	escrow_db_audit_rows_free(&rows, n);
	return 0;
}

int
cli_escrow(const struct sg_config *cfg, int argc, char **argv)
{
	const char *sub;

	if (argc < 2) {
		escrow_usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			escrow_usage(stdout);
			return 0;
		}
	sub = argv[1];
	if (strcmp(sub, "keygen") == 0 && argc == 2)
		return escrow_keygen(cfg);
	if (strcmp(sub, "list") == 0)
		return escrow_list(cfg, argc, argv);
	if (strcmp(sub, "recall") == 0 && argc == 3)
		return escrow_recall(cfg, argv[2]);
	if (strcmp(sub, "purge") == 0 && argc == 2)
		return escrow_purge(cfg);
	if (strcmp(sub, "audit") == 0 && (argc == 3 || (argc == 4 &&
	    strcmp(argv[3], "--json") == 0)))
		return escrow_audit(cfg, argv[2], argc == 4);
	escrow_usage(stderr);
	return EXIT_USAGE;
}
