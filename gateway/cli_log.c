/*
 * cli_log.c - `sealgate log`: every delivery attempt of a message or to a
 * recipient, with how the hop was protected (TLS version, cipher,
 * certificate verification) — the answer to "was this sent over TLS?".
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

static void
log_usage(FILE *f)
{
	fprintf(f, "usage: sealgate [-c FILE] log --message ID [--json] "
	    "[--limit N]\n"
	    "       sealgate [-c FILE] log --recipient ADDR [--json] "
	    "[--limit N]\n"
	    "Print the delivery attempts of a message, or to a recipient "
	    "(newest last):\ntime, outcome, method, TLS level, MX host and "
	    "address, TLS protocol,\ncipher and bits, certificate "
	    "verification, remote reply, duration.\n");
}

/* the columns, in the order the printers read them */
static const char *const cols[] = {
	"at", "message_id", "rcpt", "outcome", "method", "tls_level",
	"mx_host", "mx_addr", "tls_protocol", "tls_cipher", "tls_bits",
	"tls_verified", "reply", "duration_ms", "reason",
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))
#define SELECT_COLS "to_char(at AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), message_id, rcpt, outcome, " \
	"method, tls_level, mx_host, mx_addr, tls_protocol, tls_cipher, " \
	"tls_bits, tls_verified, reply, duration_ms, reason"

static int
print_json(PGresult *res)
{
	struct buf b;
	int ok = 1, i;
	size_t c;

	buf_init(&b, CLI_OUT_MAX);
	ok &= buf_append_char(&b, '[') == 0;
	for (i = 0; i < PQntuples(res); i++) {
		ok &= buf_append_str(&b, i ? ",{" : "{") == 0;
		for (c = 0; c < NCOLS; c++) {
			const char *v = PQgetvalue(res, i, (int)c);
			ok &= buf_printf(&b, "%s\"%s\":", c ? "," : "",
			    cols[c]) == 0;
			if (PQgetisnull(res, i, (int)c))
				ok &= buf_append_str(&b, "null") == 0;
			else if (strcmp(cols[c], "tls_bits") == 0 ||
			    strcmp(cols[c], "duration_ms") == 0)
				ok &= buf_append_str(&b, v) == 0;
			else
				ok &= json_append_cstr(&b, v) == 0;
		}
		ok &= buf_append_char(&b, '}') == 0;
	}
	ok &= buf_append_char(&b, ']') == 0;
	return cli_emit_json("log", &b, ok);
}

static const char *
val(PGresult *res, int i, int c)
{
	return PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
}

static int
print_text(PGresult *res)
{
	char e1[CLI_ESC_MAX], e2[CLI_ESC_MAX];
	int i;

	if (PQntuples(res) == 0) {
		printf("no delivery attempts\n");
		return 0;
	}
	for (i = 0; i < PQntuples(res); i++) {
		const char *proto = val(res, i, 8);
		printf("%s  %s  <%s>  %s\n", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), cli_esc(e1, sizeof(e1),
		    val(res, i, 2)), PQgetvalue(res, i, 3));
		printf("    method=%s tls_level=%s mx=%s [%s]\n",
		    PQgetvalue(res, i, 4), PQgetvalue(res, i, 5),
		    cli_esc(e1, sizeof(e1), val(res, i, 6)),
		    cli_esc(e2, sizeof(e2), val(res, i, 7)));
		if (proto != NULL)
			printf("    TLS: %s %s (%s bits) verified=%s\n", proto,
			    PQgetvalue(res, i, 9), PQgetvalue(res, i, 10),
			    PQgetvalue(res, i, 11));
		else
			printf("    TLS: none (plaintext or not connected)\n");
		printf("    reply: %s (%s ms)\n", cli_esc(e1, sizeof(e1),
		    val(res, i, 12)), PQgetvalue(res, i, 13));
		if (val(res, i, 14) != NULL)
			printf("    reason: %s\n", cli_esc(e1, sizeof(e1),
			    val(res, i, 14)));
	}
	return 0;
}

int
cli_log(const struct sg_config *cfg, int argc, char **argv)
{
	const char *msg = NULL, *rcpt = NULL, *limit = "1000";
	const char *p[2];
	char *err = NULL;
	struct db *db;
	PGresult *res;
	uint64_t lim;
	int json = 0, i, r;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			log_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--message") == 0 && i + 1 < argc) {
			msg = argv[++i];
		} else if (strcmp(argv[i], "--recipient") == 0 &&
		    i + 1 < argc) {
			rcpt = argv[++i];
		} else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			limit = argv[++i];
		} else {
			cli_err("log", "unexpected argument \"%s\"", argv[i]);
			log_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if ((msg == NULL) == (rcpt == NULL) ||
	    num_parse_u64_str(limit, 1, 1000000, &lim) < 0) {
		cli_err("log", "give exactly one of --message ID or "
		    "--recipient ADDR (and --limit 1..1000000)");
		log_usage(stderr);
		return EXIT_USAGE;
	}
	db = cli_db_open(cfg, "log");
	if (db == NULL)
		return 1;
	p[0] = msg != NULL ? msg : rcpt;
	p[1] = limit;
	res = db_exec(db, msg != NULL ?
	    "SELECT * FROM (SELECT " SELECT_COLS ", id FROM delivery_attempts"
	    " WHERE message_id = $1 ORDER BY id DESC LIMIT $2::int) t"
	    " ORDER BY id" :
	    "SELECT * FROM (SELECT " SELECT_COLS ", id FROM delivery_attempts"
	    " WHERE lower(rcpt) = lower($1) ORDER BY id DESC LIMIT $2::int) t"
	    " ORDER BY id", 2, p, NULL, &err);
	db_close(&db);
	if (res == NULL) {
		cli_err("log", "%s", err != NULL ? err : "query failed");
		xfree(err);
		return 1;
	}
	r = json ? print_json(res) : print_text(res);
	PQclear(res);
	return r;
}
