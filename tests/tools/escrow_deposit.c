/*
 * escrow_deposit.c - test driver for escrow_deposit(): what the delivery
 * role does for a recipient whose plan reached "escrow", from the
 * command line, so t_escrow can test the store before delivery uses it.
 *
 * usage: escrow_deposit -c CONFIG QUEUE_ID RECIPIENT_ID SENDER RCPT FILE
 * Prints "0 WHY", "-1 WHY" or "-2 WHY"; exit 0, 1 (permanent), 2
 * (transient), 3 (usage, config, key or database not available).
 *
 *        escrow_deposit -c CONFIG --unseal ESCROW_ID
 * Writes the stored message, unsealed with aad = ESCROW_ID, to stdout
 * (what the web role will do); exit 1 if it cannot be unsealed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "escrow.h"
#include "seal.h"
#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

#define MSG_MAX	(64u * 1024 * 1024)

static int
unseal_one(const char *conf, const char *id)
{
	struct sg_config *cfg;
	struct seal_master *m;
	struct db *db;
	struct buf pt;
	PGresult *res;
	const char *p[1] = { id };
	char *err = NULL, *ci;
	int st = 1;

	if ((cfg = config_load(conf, &err)) == NULL ||
	    (m = escrow_master_load(cfg, &err)) == NULL) {
		fprintf(stderr, "escrow_deposit: %s\n", err);
		return 3;
	}
	ci = config_conninfo(cfg);
	if ((db = db_open_app(ci, "escrow-deposit-test", &err)) == NULL) {
		fprintf(stderr, "escrow_deposit: database: %s\n", err);
		return 3;
	}
	res = db_exec_bin(db, "SELECT sealed FROM escrow_messages WHERE id = "
	    "$1", 1, p, NULL, NULL, 1, NULL, &err);
	if (res == NULL || PQntuples(res) != 1) {
		fprintf(stderr, "escrow_deposit: no row %s %s\n", id,
		    err != NULL ? err : "");
	} else {
		buf_init(&pt, MSG_MAX);
		if (unseal(m, (const unsigned char *)PQgetvalue(res, 0, 0),
		    (size_t)PQgetlength(res, 0, 0), id, &pt, &err) < 0) {
			fprintf(stderr, "escrow_deposit: unseal: %s\n", err);
		} else if (pt.len == 0 ||
		    write(1, pt.data, pt.len) == (ssize_t)pt.len) {
			st = 0;
		}
		buf_free_secure(&pt);
	}
	if (res != NULL)
		PQclear(res);
	db_close(&db);
	seal_master_free(&m);
	xfree(ci);
	config_free(&cfg);
	return st;
}

int
main(int argc, char **argv)
{
	struct sg_config *cfg;
	struct seal_master *m;
	struct escrow_item it;
	struct db *db;
	struct buf msg;
	char why[300], chunk[8192], *err = NULL, *ci;
	uint64_t rid;
	size_t n;
	FILE *f;
	int r;

	if (argc == 5 && strcmp(argv[1], "-c") == 0 &&
	    strcmp(argv[3], "--unseal") == 0)
		return unseal_one(argv[2], argv[4]);
	if (argc != 8 || strcmp(argv[1], "-c") != 0 ||
	    num_parse_u64_str(argv[4], 1, INT64_MAX, &rid) < 0) {
		fprintf(stderr, "usage: escrow_deposit -c CONFIG QUEUE_ID "
		    "RECIPIENT_ID SENDER RCPT FILE\n"
		    "       escrow_deposit -c CONFIG --unseal ESCROW_ID\n");
		return 3;
	}
	if ((cfg = config_load(argv[2], &err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		xfree(err);
		return 3;
	}
	if ((m = escrow_master_load(cfg, &err)) == NULL) {
		fprintf(stderr, "escrow_deposit: %s\n", err);
		xfree(err);
		config_free(&cfg);
		return 3;
	}
	buf_init(&msg, MSG_MAX);
	if ((f = fopen(argv[7], "rb")) == NULL) {
		perror(argv[7]);
		return 3;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&msg, chunk, n) < 0) {
			fprintf(stderr, "%s: too large\n", argv[7]);
			return 3;
		}
	fclose(f);
	ci = config_conninfo(cfg);
	if ((db = db_open_app(ci, "escrow-deposit-test", &err)) == NULL) {
		fprintf(stderr, "escrow_deposit: database: %s\n", err);
		return 3;
	}
	memset(&it, 0, sizeof(it));
	it.queue_id = argv[3];
	it.recipient_id = (int64_t)rid;
	it.sender = strcmp(argv[5], "<>") == 0 ? "" : argv[5];
	it.rcpt = argv[6];
	it.msg = buf_cstr(&msg);
	it.len = msg.len;
	r = escrow_deposit(db, cfg, m, &it, why, sizeof(why));
	printf("%d %s\n", r, why);
	db_close(&db);
	seal_master_free(&m);
	buf_free(&msg);
	xfree(ci);
	config_free(&cfg);
	return r == 0 ? 0 : r == -1 ? 1 : 2;
}
