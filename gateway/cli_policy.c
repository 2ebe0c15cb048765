/*
 * cli_policy.c - `sealgate rule`, `sealgate key` and `sealgate policy
 * preview`: the admin's side of the policy engine (DESIGN.md "Rules").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "decide.h"
#include "key_db.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"
#include "pgp.h"
#include "policy.h"
#include "privdrop.h"
#include "rule_db.h"
#include "smime.h"

#define KEY_FILE_MAX	(1024 * 1024)

/* ------------------------------------------------------------------ rule */

static void
rule_usage(FILE *f)
{
	fprintf(f,
	    "usage: sealgate rule list [--json]\n"
	    "       sealgate rule add [--from PATTERN] [--to PATTERN] "
	    "[--tag TAG]\n"
	    "                 [--chain METHODS] [--floor FLOOR] "
	    "[--exhausted defer|bounce]\n"
	    "                 [--position N] [--comment TEXT]\n"
	    "       sealgate rule delete ID\n"
	    "       sealgate rule move ID POSITION\n"
	    "\n"
	    "Rules are tried in order; the first whose sender (--from) and\n"
	    "recipient (--to) patterns match decides. PATTERN: * (any),\n"
	    "@example.com, *.example.com (subdomains), user@example.com,\n"
	    "<> (null sender). --tag makes the rule apply only to mail with\n"
	    "that escalation tag. METHODS: a chain of tls, pgp, smime,\n"
	    "escrow, plain (default tls,pgp,smime,escrow). FLOOR of tls:\n"
	    "encrypt (default), verify, mta-sts, dane. TLS-only forwarding:\n"
	    "--chain tls --exhausted bounce.\n");
}

static int
rule_list(struct db *db, int json)
{
	struct rule_set rs;
	char *err = NULL, chain[64];
	size_t i;

	if (rule_db_load(db, &rs, &err) < 0) {
		cli_err("rule", "%s", err ? err : "?");
		xfree(err);
		return 1;
	}
	if (json) {
		struct buf b;
		int ok = 1;

		buf_init(&b, CLI_OUT_MAX);
		ok &= buf_append_char(&b, '[') == 0;
		for (i = 0; i < rs.n; i++) {
			const struct policy_rule *r = &rs.rules[i];
			policy_chain_format(&r->chain, chain, sizeof(chain));
			ok &= buf_printf(&b, "%s{\"id\":%lld,\"position\":%d,"
			    "\"from\":", i ? "," : "", r->id, r->position) == 0;
			ok &= json_append_cstr(&b, r->sender) == 0;
			ok &= buf_append_str(&b, ",\"to\":") == 0;
			ok &= json_append_cstr(&b, r->rcpt) == 0;
			ok &= buf_append_str(&b, ",\"tag\":") == 0;
			ok &= (r->tag ? json_append_cstr(&b, r->tag) :
			    buf_append_str(&b, "null")) == 0;
			ok &= buf_printf(&b, ",\"chain\":\"%s\",\"floor\":"
			    "\"%s\",\"exhausted\":\"%s\",\"comment\":", chain,
			    policy_floor_name(r->chain.floor), r->chain.bounce ?
			    "bounce" : "defer") == 0;
			ok &= json_append_cstr(&b, rs.comments[i]) == 0;
			ok &= buf_append_char(&b, '}') == 0;
		}
		ok &= buf_append_char(&b, ']') == 0;
		rule_set_free(&rs);
		return cli_emit_json("rule", &b, ok);
	}
	if (rs.n == 0)
		printf("no rules: every message gets the default chain "
		    "(policy_default)\n");
	else
		printf("%-4s %-6s %-24s %-24s %-10s %-22s %-8s %s\n", "pos",
		    "id", "from", "to", "tag", "chain", "floor", "exhausted");
	for (i = 0; i < rs.n; i++) {
		const struct policy_rule *r = &rs.rules[i];
		char e1[CLI_ESC_MAX], e2[CLI_ESC_MAX], e3[CLI_ESC_MAX];

		policy_chain_format(&r->chain, chain, sizeof(chain));
		printf("%-4d %-6lld %-24s %-24s %-10s %-22s %-8s %s%s%s\n",
		    r->position, r->id, cli_esc(e1, sizeof(e1), r->sender),
		    cli_esc(e2, sizeof(e2), r->rcpt), r->tag ? cli_esc(e3,
		    sizeof(e3), r->tag) : "-", chain,
		    policy_floor_name(r->chain.floor), r->chain.bounce ?
		    "bounce" : "defer", rs.comments[i][0] ? "  # " : "",
		    rs.comments[i]);
	}
	rule_set_free(&rs);
	return 0;
}

static int
rule_add(struct db *db, int argc, char **argv)
{
	struct policy_rule r;
	const char *comment = "", *chain = "tls,pgp,smime,escrow";
	char why[160];
	uint64_t pos = 0;
	long long id = 0;
	char *err = NULL;
	int i;

	memset(&r, 0, sizeof(r));
	r.sender = "*";
	r.rcpt = "*";
	r.chain.floor = PF_ENCRYPT;
	for (i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			goto usage;
		i++;
		if (strcmp(o, "--from") == 0)
			r.sender = v;
		else if (strcmp(o, "--to") == 0)
			r.rcpt = v;
		else if (strcmp(o, "--tag") == 0)
			r.tag = v;
		else if (strcmp(o, "--chain") == 0)
			chain = v;
		else if (strcmp(o, "--floor") == 0) {
			if (policy_floor_parse(v, &r.chain.floor) < 0) {
				cli_err("rule", "--floor: encrypt, verify, "
				    "mta-sts or dane");
				return EXIT_USAGE;
			}
		} else if (strcmp(o, "--exhausted") == 0) {
			if (strcmp(v, "bounce") != 0 && strcmp(v, "defer") != 0) {
				cli_err("rule", "--exhausted: defer or bounce");
				return EXIT_USAGE;
			}
			r.chain.bounce = strcmp(v, "bounce") == 0;
		} else if (strcmp(o, "--position") == 0) {
			if (num_parse_u64_str(v, 1, 100000, &pos) < 0) {
				cli_err("rule", "--position: 1..100000");
				return EXIT_USAGE;
			}
		} else if (strcmp(o, "--comment") == 0)
			comment = v;
		else
			goto usage;
	}
	if (!policy_pattern_valid(r.sender) || !policy_pattern_valid(r.rcpt)) {
		cli_err("rule", "bad pattern: use *, @domain, *.domain, "
		    "user@domain or <>");
		return EXIT_USAGE;
	}
	if (r.tag != NULL && (r.tag[0] == '\0' || strlen(r.tag) > 64 ||
	    strpbrk(r.tag, " \t\r\n") != NULL)) {
		cli_err("rule", "bad --tag (no spaces, at most 64 bytes)");
		return EXIT_USAGE;
	}
	if (policy_chain_parse(chain, &r.chain, why, sizeof(why)) < 0) {
		cli_err("rule", "--chain: %s", why);
		return EXIT_USAGE;
	}
	if (strlen(comment) > 500) {
		cli_err("rule", "--comment: at most 500 bytes");
		return EXIT_USAGE;
	}
	if (rule_db_add(db, &r, comment, (int)pos, &id, &err) < 0) {
		cli_err("rule", "%s", err ? err : "?");
		xfree(err);
		return 1;
	}
	printf("rule %lld added\n", id);
	return 0;
usage:
	rule_usage(stderr);
	return EXIT_USAGE;
}

int
cli_rule(const struct sg_config *cfg, int argc, char **argv)
{
	struct db *db;
	uint64_t id, pos;
	char *err = NULL;
	int r, st = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		rule_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "list") == 0 && argc <= 3 && (argc == 2 ||
	    strcmp(argv[2], "--json") == 0)) {
		if ((db = cli_db_open(cfg, "rule")) == NULL)
			return 1;
		st = rule_list(db, argc == 3);
	} else if (strcmp(argv[1], "add") == 0) {
		if ((db = cli_db_open(cfg, "rule")) == NULL)
			return 1;
		st = rule_add(db, argc, argv);
	} else if ((strcmp(argv[1], "delete") == 0 && argc == 3) ||
	    (strcmp(argv[1], "move") == 0 && argc == 4)) {
		int move = argv[1][0] == 'm';
		if (num_parse_u64_str(argv[2], 1, INT64_MAX, &id) < 0 ||
		    (move && num_parse_u64_str(argv[3], 1, 100000, &pos) < 0)) {
			rule_usage(stderr);
			return EXIT_USAGE;
		}
		if ((db = cli_db_open(cfg, "rule")) == NULL)
			return 1;
		r = move ? rule_db_move(db, (long long)id, (int)pos, &err) :
		    rule_db_delete(db, (long long)id, &err);
		if (r < 0) {
			cli_err("rule", "%s", err ? err : "?");
			st = 1;
		} else if (r == 1) {
			cli_err("rule", "no rule %llu", (unsigned long long)id);
			st = 1;
		} else {
			printf("rule %llu %s\n", (unsigned long long)id,
			    move ? "moved" : "deleted");
		}
		xfree(err);
	} else {
		rule_usage(stderr);
		return EXIT_USAGE;
	}
	db_close(&db);
	return st;
}

/* ------------------------------------------------------------------- key */

static void
key_usage(FILE *f)
{
	fprintf(f,
	    "usage: sealgate key import FILE [--address ADDR]\n"
	    "       sealgate key list [--address ADDR] [--json]\n"
	    "       sealgate key approve ID | reject ID | delete ID\n"
	    "\n"
	    "import: an OpenPGP public key (armored or binary, one key per\n"
	    "file) or an X.509 certificate (PEM or DER) for S/MIME; stored\n"
	    "for each address the key names (or only ADDR), source admin,\n"
	    "active at once. Keys found by WKD or harvested from signed mail\n"
	    "that differ from the key in use wait as \"pending\" until\n"
	    "approved; approving retires the old key.\n");
}

static int
read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	buf_init(b, KEY_FILE_MAX);
	if (f == NULL) {
		cli_err("key", "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) < 0) {
			cli_err("key", "%s: larger than %d bytes", path,
			    KEY_FILE_MAX);
			fclose(f);
			buf_free(b);
			return -1;
		}
	fclose(f);
	return 0;
}

static void
lower_hex(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'F')
			*s = (char)(*s - 'A' + 'a');
}

static int
store_key(struct db *db, struct key_new *kn, const char *what)
{
	char status[16], *err = NULL;
	long long id;

	if (key_db_add(db, kn, &id, status, &err) < 0) {
		cli_err("key", "%s", err ? err : "?");
		xfree(err);
		return -1;
	}
	printf("key %lld: %s %s for <%s>: %s\n", id, what, kn->fingerprint,
	    kn->address, status);
	return 0;
}

static int
import_smime(struct db *db, X509 *c, const char *only)
{
	struct smime_cert_info ci;
	struct buf der;
	char *err = NULL;
	size_t i;
	int n = 0, st = 0;

	if (smime_cert_inspect(c, &ci, &err) < 0) {
		cli_err("key", "%s", err ? err : "?");
		xfree(err);
		return 1;
	}
	buf_init(&der, KEY_FILE_MAX);
	if (smime_der(c, &der) < 0) {
		cli_err("key", "certificate too large");
		smime_cert_info_release(&ci);
		return 1;
	}
	for (i = 0; i < ci.nemails && st == 0; i++) {
		struct key_new kn;
		char why[160];

		if (only != NULL && strcasecmp(only, ci.emails[i]) != 0)
			continue;
		if (smime_cert_usable(c, ci.emails[i], time(NULL), why,
		    sizeof(why)) != 1)
			printf("warning: <%s>: %s: it will not be used\n",
			    ci.emails[i], why);
		memset(&kn, 0, sizeof(kn));
		kn.kind = "smime";
		kn.address = ci.emails[i];
		kn.fingerprint = ci.sha256;
		kn.source = "admin";
		kn.not_before = ci.not_before;
		kn.not_after = ci.not_after;
		kn.material = (const unsigned char *)der.data;
		kn.material_len = der.len;
		st = store_key(db, &kn, "S/MIME certificate") < 0;
		n++;
	}
	if (n == 0 && st == 0) {
		cli_err("key", "the certificate names no%s address%s%s",
		    only ? " such" : "", only ? ": " : "", only ? only : "");
		st = 1;
	}
	buf_free(&der);
	smime_cert_info_release(&ci);
	return st;
}

static int
import_pgp(const struct sg_config *cfg, struct db *db, const struct buf *raw,
    const char *only)
{
	struct policy_conf pc;
	struct policy_env env;
	struct pgp_key_info *info = NULL;
	struct pgp_ctx *pg;
	size_t n = 0, i, j;
	char *err = NULL;
	int st = 0, stored = 0;

	memset(&pc, 0, sizeof(pc));
	policy_env_init(&env, cfg, &pc, db);
	if ((pg = policy_env_pgp(&env, &err)) == NULL ||
	    pgp_key_inspect(pg, raw->data, raw->len, &info, &n, &err) < 0) {
		cli_err("key", "not a usable OpenPGP public key or X.509 "
		    "certificate: %s", err ? err : "?");
		xfree(err);
		policy_env_free(&env);
		return 1;
	}
	if (n != 1) {
		cli_err("key", "the file holds %zu keys: import one key per "
		    "file (gpg --export FINGERPRINT)", n);
		st = 1;
	}
	for (i = 0; i < n && st == 0; i++) {
		char fpr[PGP_FPR_SIZE];

		snprintf(fpr, sizeof(fpr), "%s", info[i].fpr);
		lower_hex(fpr);
		if (info[i].revoked || info[i].expired || !info[i].can_encrypt)
			printf("warning: key %s is %s: it will not be used\n",
			    fpr, info[i].revoked ? "revoked" :
			    info[i].expired ? "expired" :
			    "without an encryption subkey");
		for (j = 0; j < info[i].nemails && st == 0; j++) {
			struct key_new kn;

			if (only != NULL && strcasecmp(only,
			    info[i].emails[j]) != 0)
				continue;
			memset(&kn, 0, sizeof(kn));
			kn.kind = "pgp";
			kn.address = info[i].emails[j];
			kn.fingerprint = fpr;
			kn.source = "admin";
			kn.not_before = info[i].created;
			kn.not_after = info[i].expires;
			kn.material = (const unsigned char *)raw->data;
			kn.material_len = raw->len;
			st = store_key(db, &kn, "OpenPGP key") < 0;
			stored++;
		}
	}
	if (st == 0 && stored == 0) {
		cli_err("key", "the key has no user ID with %s%s",
		    only ? "the address " : "an address", only ? only : "");
		st = 1;
	}
	pgp_key_info_free(info, n);
	policy_env_free(&env);
	return st;
}

static int
key_import(const struct sg_config *cfg, struct db *db, struct buf *rawp,
    const char *only)
{
	struct buf raw = *rawp;
	X509 *c;
	char *err = NULL;
	int st;

	c = smime_cert_from_mem(raw.data, raw.len, &err);
	xfree(err);
	if (c != NULL) {
		st = import_smime(db, c, only);
		X509_free(c);
	} else {
		st = import_pgp(cfg, db, &raw, only);
	}
	buf_free(&raw);
	return st;
}

static void
fmt_time(char *out, size_t n, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(out, n, "-");
	else
		strftime(out, n, "%Y-%m-%d", &tm);
}

static int
key_list(struct db *db, const char *addr, int json)
{
	struct key_row *rows = NULL;
	size_t n = 0, i;
	char *err = NULL;

	if (key_db_list(db, addr, &rows, &n, &err) < 0) {
		cli_err("key", "%s", err ? err : "?");
		xfree(err);
		return 1;
	}
	if (json) {
		struct buf b;
		int ok = 1;

		buf_init(&b, CLI_OUT_MAX);
		ok &= buf_append_char(&b, '[') == 0;
		for (i = 0; i < n; i++) {
			const struct key_row *k = &rows[i];
			ok &= buf_printf(&b, "%s{\"id\":%lld,\"kind\":\"%s\","
			    "\"address\":", i ? "," : "", k->id, k->kind) == 0;
			ok &= json_append_cstr(&b, k->address) == 0;
			ok &= buf_printf(&b, ",\"fingerprint\":\"%s\","
			    "\"source\":\"%s\",\"status\":\"%s\","
			    "\"not_before\":%lld,\"not_after\":%lld,"
			    "\"created_at\":%lld,\"first_used\":%lld,"
			    "\"last_used\":%lld,\"note\":", k->fingerprint,
			    k->source, k->status, k->not_before, k->not_after,
			    k->created_at, k->first_used, k->last_used) == 0;
			ok &= json_append_cstr(&b, k->note) == 0;
			ok &= buf_append_char(&b, '}') == 0;
		}
		ok &= buf_append_char(&b, ']') == 0;
		key_rows_free(rows, n);
		return cli_emit_json("key", &b, ok);
	}
	if (n == 0)
		printf("no keys\n");
	for (i = 0; i < n; i++) {
		const struct key_row *k = &rows[i];
		char e[CLI_ESC_MAX], nb[16], na[16], fu[16], lu[16], ca[16];

		fmt_time(nb, sizeof(nb), k->not_before);
		fmt_time(na, sizeof(na), k->not_after);
		fmt_time(fu, sizeof(fu), k->first_used);
		fmt_time(lu, sizeof(lu), k->last_used);
		fmt_time(ca, sizeof(ca), k->created_at);
		printf("%lld  %-5s <%s>  %s\n", k->id, k->kind,
		    cli_esc(e, sizeof(e), k->address), k->status);
		printf("    fingerprint %s\n", k->fingerprint);
		printf("    source %s, added %s, valid %s .. %s%s\n",
		    k->source, ca, nb, k->not_after ? na : "no expiry",
		    k->smime_cipher ? (strcmp(k->smime_cipher, "cbc") == 0 ?
		    ", cipher AES-256-CBC" : ", cipher AES-256-GCM") : "");
		printf("    first used %s, last used %s%s%s\n", fu, lu,
		    k->note[0] ? "; " : "", cli_esc(e, sizeof(e), k->note));
	}
	key_rows_free(rows, n);
	return 0;
}

int
cli_key(const struct sg_config *cfg, int argc, char **argv)
{
	const char *addr = NULL, *file = NULL;
	struct db *db;
	uint64_t id;
	char *err = NULL;
	int i, json = 0, st = 0, r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		key_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "import") == 0 || strcmp(argv[1], "list") == 0) {
		for (i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--address") == 0 && i + 1 < argc)
				addr = argv[++i];
			else if (strcmp(argv[i], "--json") == 0)
				json = 1;
			else if (argv[i][0] != '-' && file == NULL)
				file = argv[i];
			else {
				key_usage(stderr);
				return EXIT_USAGE;
			}
		}
		if ((argv[1][0] == 'i') != (file != NULL)) {
			key_usage(stderr);
			return EXIT_USAGE;
		}
		if (argv[1][0] == 'i') {
			char *e2 = NULL;
			/* the keyring belongs to the run user */
			if (policy_pgp_home_prepare(cfg, &e2) < 0) {
				cli_err("key", "%s", e2);
				xfree(e2);
				return 1;
			}
		}
		if ((db = cli_db_open(cfg, "key")) == NULL)
			return 1;
		if (argv[1][0] == 'i') {
			char *e2 = NULL;
			struct buf raw;
			/* read the file as the caller, then act as the
			 * gateway's user (its GnuPG home) */
			if (read_file(file, &raw) < 0) {
				db_close(&db);
				return 1;
			}
			if (geteuid() == 0 && privdrop(cfg->run_user, &e2) < 0) {
				cli_err("key", "%s", e2);
				xfree(e2);
				buf_free(&raw);
				db_close(&db);
				return 1;
			}
			st = key_import(cfg, db, &raw, addr);
		} else {
			st = key_list(db, addr, json);
		}
		db_close(&db);
		return st;
	}
	if (argc != 3 || num_parse_u64_str(argv[2], 1, INT64_MAX, &id) < 0 ||
	    (strcmp(argv[1], "approve") != 0 && strcmp(argv[1], "reject") != 0 &&
	    strcmp(argv[1], "delete") != 0)) {
		key_usage(stderr);
		return EXIT_USAGE;
	}
	if ((db = cli_db_open(cfg, "key")) == NULL)
		return 1;
	r = argv[1][0] == 'd' ? key_db_delete(db, (long long)id, &err) :
	    key_db_review(db, (long long)id, argv[1][0] == 'a', &err);
	if (r < 0)
		cli_err("key", "%s", err ? err : "?");
	else if (r == 1)
		cli_err("key", "no key %llu", (unsigned long long)id);
	else
		printf("key %llu %s\n", (unsigned long long)id,
		    argv[1][0] == 'a' ? "approved (active)" :
		    argv[1][0] == 'r' ? "rejected" : "deleted");
	st = r != 0;
	xfree(err);
	db_close(&db);
	return st;
}

/* ---------------------------------------------------------------- policy */

static void
policy_usage(FILE *f)
{
	fprintf(f,
	    "usage: sealgate policy preview --from SENDER --to RECIPIENT\n"
	    "                 [--subject TEXT] [--requiretls] [--json]\n"
	    "\n"
	    "What would happen to mail from SENDER to RECIPIENT now, and "
	    "why:\n"
	    "the rule that matches, escalation tags in TEXT (as it would "
	    "appear\n"
	    "in the Subject header, RFC 2047 encoded words allowed), what "
	    "the\n"
	    "domain TLS cache and the key store know, and the resulting "
	    "plan.\n"
	    "Nothing is sent, probed or fetched.\n");
}

int
cli_policy(const struct sg_config *cfg, int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *subject = NULL;
	struct policy_conf pc;
	struct policy_env env;
	struct decide_input din;
	struct decide_plan plan;
	struct policy_keys keys;
	struct buf msg;
	struct db *db;
	char *err = NULL, *dom;
	int i, json = 0, reqtls = 0, tag = -1, enc = 0, st = 0;
	size_t k;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		policy_usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "preview") != 0) {
		policy_usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			from = argv[++i];
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to = argv[++i];
		else if (strcmp(argv[i], "--subject") == 0 && i + 1 < argc)
			subject = argv[++i];
		else if (strcmp(argv[i], "--requiretls") == 0)
			reqtls = 1;
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else {
			policy_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (from == NULL || to == NULL || strchr(to, '@') == NULL ||
	    (subject != NULL && strpbrk(subject, "\r\n") != NULL)) {
		policy_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(from, "<>") == 0)
		from = "";
	if (policy_conf_init(cfg, &pc, &err) < 0) {
		cli_err("policy", "%s", err);
		xfree(err);
		return 1;
	}
	if ((db = cli_db_open(cfg, "policy")) == NULL) {
		policy_conf_free(&pc);
		return 1;
	}
	buf_init(&msg, 1 << 20);
	(void)buf_printf(&msg, "From: <%s>\r\nTo: <%s>\r\n%s%s%s\r\n"
	    "preview\r\n", from, to, subject ? "Subject: " : "",
	    subject ? subject : "", subject ? "\r\n" : "");
	policy_message_facts(&pc, msg.data, msg.len, &tag, &enc);
	buf_free(&msg);

	dom = xstrdup(strrchr(to, '@') + 1);
	for (char *p = dom; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	memset(&din, 0, sizeof(din));
	din.sender = from;
	din.rcpt = to;
	din.domain = dom;
	din.tag = tag;
	din.requiretls = reqtls;
	din.default_level = (enum tls_level)cfg->delivery_tls_level;
	din.forced_tls = (const char *const *)cfg->forced_tls_domains;
	din.nforced = cfg->nforced_tls_domains;
	din.escrow_available = cfg->escrow_enabled;
	policy_env_init(&env, cfg, &pc, db);
	env.offline = 1;
	if (policy_domain_cached(db, dom, &din, &err) < 0 ||
	    policy_recipient(&env, &din, &plan, &keys, &err) < 0) {
		cli_err("policy", "%s", err ? err : "?");
		xfree(err);
		st = 1;
		goto out;
	}
	if (json) {
		struct buf b;
		int ok = 1;

		buf_init(&b, 1 << 20);
		ok &= buf_append_str(&b, "{\"from\":") == 0;
		ok &= json_append_cstr(&b, from) == 0;
		ok &= buf_append_str(&b, ",\"to\":") == 0;
		ok &= json_append_cstr(&b, to) == 0;
		ok &= buf_append_str(&b, ",\"tag\":") == 0;
		ok &= (tag >= 0 ? json_append_cstr(&b, pc.tags[tag].tag) :
		    buf_append_str(&b, "null")) == 0;
		ok &= buf_printf(&b, ",\"rule_id\":%lld,\"tls_capable\":%d,"
		    "\"mta_sts_enforce\":%d,\"steps\":[", plan.rule_id,
		    din.tls_capable, din.mta_sts_enforce) == 0;
		for (k = 0; k < plan.nsteps; k++)
			ok &= buf_printf(&b, "%s{\"method\":\"%s\","
			    "\"tls_level\":\"%s\",\"mta_sts\":%s}", k ? "," : "",
			    policy_method_name(plan.steps[k].method),
			    tls_level_name(plan.steps[k].level),
			    plan.steps[k].mta_sts ? "true" : "false") == 0;
		ok &= buf_printf(&b, "],\"exhausted\":\"%s\",\"reason\":",
		    plan.bounce ? "bounce" : "defer") == 0;
		ok &= json_append_cstr(&b, plan.reason) == 0;
		ok &= buf_append_char(&b, '}') == 0;
		st = cli_emit_json("policy", &b, ok);
	} else {
		char e1[CLI_ESC_MAX], e2[CLI_ESC_MAX];

		printf("from <%s> to <%s>%s%s\n", cli_esc(e1, sizeof(e1), from),
		    cli_esc(e2, sizeof(e2), to), tag >= 0 ? ", tag " : "",
		    tag >= 0 ? pc.tags[tag].tag : "");
		printf("domain %s: %s%s\n", dom, din.tls_capable == 1 ?
		    "probed TLS-capable" : din.tls_capable == 0 ?
		    "probed without STARTTLS" : "not probed yet",
		    din.mta_sts_enforce ? ", MTA-STS enforce" : "");
		if (plan.nsteps == 0)
			printf("plan: nothing usable now: %s\n",
			    plan.bounce ? "bounce" : "defer");
		for (k = 0; k < plan.nsteps; k++)
			printf("%zu. %-6s TLS %s%s%s\n", k + 1,
			    policy_method_name(plan.steps[k].method),
			    tls_level_name(plan.steps[k].level),
			    plan.steps[k].mta_sts ? " (MTA-STS policy MX)" : "",
			    plan.steps[k].method == PM_ESCROW &&
			    !din.escrow_available ? " (portal not available: "
			    "defers)" : "");
		if (plan.nsteps > 0)
			printf("then: %s\n", plan.bounce ? "bounce" : "defer");
		printf("reason: %s\n", plan.reason);
	}
	policy_keys_release(&keys);
out:
	policy_env_free(&env);
	policy_conf_free(&pc);
	xfree(dom);
	db_close(&db);
	return st;
}
