/*
 * cli_probe.c - `sealgate probe DOMAIN`: probe a recipient domain's MX
 * hosts now (EHLO, STARTTLS, EHLO, QUIT; never MAIL), store the result
 * in the domain TLS status cache (with a history row when the verdict
 * changed) and print it; `--history` prints the stored history instead.
 *
 * Output: text by default, one JSON document with --json (the field
 * names are listed in probe_usage() and stay stable). Network-supplied
 * text (certificate names, replies) is escaped in text output.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "dns.h"
#include "domain_db.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/xalloc.h"
#include "outbound.h"
#include "probe.h"
#include "smtp_client.h"

#define HISTORY_LIMIT 100

static void
probe_usage(FILE *f)
{
	fprintf(f,
	    "usage: sealgate [-c FILE] probe DOMAIN [--json] [--no-store]\n"
	    "       sealgate [-c FILE] probe DOMAIN --history [--json]\n"
	    "\n"
	    "Probe DOMAIN's mail servers now: resolve its MX hosts and open "
	    "one SMTP\nsession to each (first address; EHLO, STARTTLS, "
	    "EHLO, QUIT - never MAIL)\nwith the delivery TLS settings; look "
	    "up MTA-STS and DANE; store the result\nas the domain's TLS "
	    "status (unless --no-store) and print it. --history\nprints the "
	    "stored changes of the verdict instead (no probe). With "
	    "--no-store nothing\nis written and MTA-STS is not looked up "
	    "(its policy cache is in the\ndatabase).\n"
	    "Exit status: 0 when at least one MX host was reached, 1 "
	    "otherwise.\n"
	    "\n"
	    "JSON fields (text output uses the same names):\n"
	    "  domain, probed_at (ISO 8601 UTC), conclusive (an MX host was "
	    "reached),\n"
	    "  tls_capable (every reached MX offers STARTTLS and negotiates "
	    ">= the\n"
	    "  floor delivery_tls_min_version with a >= 128-bit cipher; null "
	    "when\n"
	    "  inconclusive), verify_mode (dane, mta-sts, pkix, none), "
	    "mx_count,\n"
	    "  mx_reached, min_protocol, min_cipher_bits (the weakest MX), "
	    "implicit_mx,\n"
	    "  mx_dnssec, mta_sts {checked, mode, id, max_age, mx[], error}, "
	    "dane\n"
	    "  (usable TLSA for every MX; null unchecked), error, stored,\n"
	    "  history_changed, and mx[]: one object per MX host:\n"
	    "    name, pref, addresses[], address (the one probed), reached, "
	    "starttls\n"
	    "    (offered; null when not reached), tls (handshake done), "
	    "protocol,\n"
	    "    cipher, bits, cert {subject, issuer, sans[], not_after, "
	    "key_type,\n"
	    "    key_bits, pkix_valid, name_match, pkix_error}, dane "
	    "(unchecked, none,\n"
	    "    usable, unusable, bogus, tempfail), dane_why, mta_sts_match, "
	    "error.\n"
	    "  Unknown values are null.\n"
	    "--history JSON: an array of {at, old_tls_capable, "
	    "new_tls_capable,\n"
	    "  old_verify_mode, new_verify_mode, old_mta_sts_mode, "
	    "new_mta_sts_mode,\n"
	    "  old_dane, new_dane}, oldest first.\n");
}

static const char *
tri(int v)
{
	return v < 0 ? "unknown" : v ? "yes" : "no";
}

static const char *
dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

static void
print_text(const struct probe_result *r, int stored, int changed)
{
	char e[CLI_ESC_MAX], when[32];
	time_t t = (time_t)r->probed_at;
	struct tm tm;
	size_t i, k;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("domain: %s\n", r->domain);
	printf("probed_at: %s\n", when);
	printf("conclusive: %s\n", tri(r->conclusive));
	printf("tls_capable: %s\n", tri(r->tls_capable));
	printf("verify_mode: %s\n", r->conclusive ?
	    probe_verify_name(r->verify) : "-");
	printf("mx_count: %zu\n", r->nmx);
	printf("mx_reached: %zu\n", r->nreached);
	printf("min_protocol: %s\n", dash(r->min_protocol));
	if (r->min_bits > 0)
		printf("min_cipher_bits: %d\n", r->min_bits);
	else
		printf("min_cipher_bits: -\n");
	printf("implicit_mx: %s\n", tri(r->implicit_mx));
	printf("mx_dnssec: %s\n", tri(r->mx_secure));
	if (r->sts_mode[0] != '\0')
		printf("mta_sts: mode=%s id=%s max_age=%lld mx=%s\n",
		    r->sts_mode, cli_esc(e, sizeof(e), r->sts_id),
		    r->sts_max_age, dash(r->sts_mx));
	else
		printf("mta_sts: none (%s)\n", cli_esc(e, sizeof(e),
		    r->sts_checked || r->sts_error[0] ? r->sts_error :
		    "not checked"));
	printf("dane: %s\n", r->dane_checked ? tri(r->dane) : "unchecked");
	printf("error: %s\n", cli_esc(e, sizeof(e), dash(r->error)));
	printf("stored: %s%s\n", stored ? "yes" : "no", changed ?
	    " (verdict changed: history row written)" : "");
	for (i = 0; i < r->nmx; i++) {
		const struct probe_mx *m = &r->mx[i];

		printf("mx: %s pref=%u\n", m->name, m->pref);
		printf("  addresses:");
		for (k = 0; k < m->naddrs; k++)
			printf(" %s", m->addrs[k]);
		printf("%s\n", m->naddrs ? "" : " -");
		printf("  address: %s\n", dash(m->addr));
		printf("  reached: %s\n", tri(m->reached));
		printf("  starttls: %s\n", tri(m->starttls));
		printf("  tls: %s\n", tri(m->tls));
		printf("  protocol: %s\n", dash(m->protocol));
		printf("  cipher: %s\n", dash(m->cipher));
		if (m->bits > 0)
			printf("  bits: %d\n", m->bits);
		else
			printf("  bits: -\n");
		printf("  cert_subject: %s\n", cli_esc(e, sizeof(e),
		    dash(m->cert_subject)));
		printf("  cert_issuer: %s\n", cli_esc(e, sizeof(e),
		    dash(m->cert_issuer)));
		printf("  cert_sans: %s\n", cli_esc(e, sizeof(e),
		    dash(m->cert_sans)));
		printf("  cert_not_after: %s\n", dash(m->cert_not_after));
		if (m->cert_key_bits > 0)
			printf("  cert_key: %s %d\n", dash(m->cert_key_type),
			    m->cert_key_bits);
		else
			printf("  cert_key: -\n");
		printf("  pkix_valid: %s%s%s\n", tri(m->pkix_valid),
		    m->pkix_error[0] ? " " : "", m->pkix_error[0] ?
		    cli_esc(e, sizeof(e), m->pkix_error) : "");
		printf("  name_match: %s\n", tri(m->name_match));
		printf("  dane: %s\n", probe_dane_name(m->dane));
		printf("  mta_sts_match: %s\n", m->sts_match < 0 ? "-" :
		    tri(m->sts_match));
		printf("  error: %s\n", cli_esc(e, sizeof(e),
		    dash(m->error)));
	}
}

static int
print_json(const struct probe_result *r, int stored, int changed)
{
	struct buf b;
	int ok = 1;

	buf_init(&b, CLI_OUT_MAX);
	ok &= probe_result_json(r, &b) == 0;
	if (ok && b.len > 0 && b.data[b.len - 1] == '}') {
		/* the stored/changed facts belong to this command only */
		b.len--;
		b.data[b.len] = '\0';
		ok &= buf_printf(&b, ",\"stored\":%s,\"history_changed\":%s}",
		    stored ? "true" : "false", changed ? "true" : "false") == 0;
	}
	return cli_emit_json("probe", &b, ok);
}

static const char *
tri_json(int v)
{
	return v < 0 ? "null" : v ? "true" : "false";
}

static int
history(struct db *db, const char *domain, int json)
{
	struct domain_history *h = NULL;
	char *err = NULL;
	size_t n = 0, i;
	struct buf b;
	int ok = 1, r;

	if (domain_db_history(db, domain, HISTORY_LIMIT, &h, &n, &err) < 0) {
		cli_err("probe", "%s", err != NULL ? err : "query failed");
		xfree(err);
		return 1;
	}
	if (!json) {
		if (n == 0)
			printf("no history for %s\n", domain);
		for (i = 0; i < n; i++)
			printf("%s tls_capable=%s->%s verify_mode=%s->%s "
			    "mta_sts=%s->%s dane=%s->%s\n", h[i].at,
			    tri(h[i].old_tls_capable),
			    tri(h[i].new_tls_capable),
			    dash(h[i].old_verify_mode),
			    dash(h[i].new_verify_mode),
			    dash(h[i].old_mta_sts_mode),
			    dash(h[i].new_mta_sts_mode), tri(h[i].old_dane),
			    tri(h[i].new_dane));
		domain_db_history_free(&h, n);
		return 0;
	}
	buf_init(&b, CLI_OUT_MAX);
	ok &= buf_append_char(&b, '[') == 0;
	for (i = 0; i < n; i++) {
		ok &= buf_append_str(&b, i ? ",{\"at\":" : "{\"at\":") == 0;
		ok &= json_append_cstr(&b, h[i].at) == 0;
		ok &= buf_printf(&b, ",\"old_tls_capable\":%s,"
		    "\"new_tls_capable\":%s", tri_json(h[i].old_tls_capable),
		    tri_json(h[i].new_tls_capable)) == 0;
		ok &= buf_append_str(&b, ",\"old_verify_mode\":") == 0;
		ok &= json_append_cstr(&b, h[i].old_verify_mode) == 0;
		ok &= buf_append_str(&b, ",\"new_verify_mode\":") == 0;
		ok &= json_append_cstr(&b, h[i].new_verify_mode) == 0;
		ok &= buf_append_str(&b, ",\"old_mta_sts_mode\":") == 0;
		ok &= json_append_cstr(&b, h[i].old_mta_sts_mode) == 0;
		ok &= buf_append_str(&b, ",\"new_mta_sts_mode\":") == 0;
		ok &= json_append_cstr(&b, h[i].new_mta_sts_mode) == 0;
		ok &= buf_printf(&b, ",\"old_dane\":%s,\"new_dane\":%s}",
		    tri_json(h[i].old_dane), tri_json(h[i].new_dane)) == 0;
	}
	ok &= buf_append_char(&b, ']') == 0;
	domain_db_history_free(&h, n);
	r = cli_emit_json("probe", &b, ok);
	return r;
}

int
cli_probe(const struct sg_config *cfg, int argc, char **argv)
{
	const char *arg = NULL;
	char domain[256], e[CLI_ESC_MAX], *err = NULL;
	int json = 0, store = 1, hist = 0, i, rc, stored = 0;
	struct domain_db_change chg;
	struct smtp_client_conf cc;
	struct probe_result *res;
	struct dns_conf dc;
	struct dns_resolver *dns = NULL;
	struct probe_ctx pc;
	struct db *db = NULL;
	SSL_CTX *ctx = NULL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			probe_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--no-store") == 0) {
			store = 0;
		} else if (strcmp(argv[i], "--history") == 0) {
			hist = 1;
		} else if (argv[i][0] != '-' && arg == NULL) {
			arg = argv[i];
		} else {
			cli_err("probe", "unexpected argument \"%s\"", argv[i]);
			probe_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (arg == NULL || (hist && !store)) {
		probe_usage(stderr);
		return EXIT_USAGE;
	}
	if (probe_domain_name(arg, domain) < 0) {
		cli_err("probe", "\"%s\" is not a domain name",
		    cli_esc(e, sizeof(e), arg));
		return EXIT_USAGE;
	}
	if (store) {
		db = cli_db_open(cfg, "probe");
		if (db == NULL)
			return 1;
	}
	if (hist) {
		rc = history(db, domain, json);
		db_close(&db);
		return rc;
	}
	ctx = outbound_tls_ctx(cfg, &err);
	if (ctx == NULL) {
		cli_err("probe", "TLS setup: %s", err);
		xfree(err);
		db_close(&db);
		return 1;
	}
	outbound_dns_conf(cfg, &dc);
	dns = dns_resolver_new(&dc, &err);
	if (dns == NULL) {
		cli_err("probe", "DNS setup: %s", err);
		xfree(err);
		SSL_CTX_free(ctx);
		db_close(&db);
		return 1;
	}
	outbound_probe_conf(cfg, ctx, &cc);
	memset(&pc, 0, sizeof(pc));
	pc.cc = &cc;
	pc.dns = dns;
	pc.db = db;
	pc.port = cfg->delivery_port;
	pc.floor = cfg->delivery_tls_min_version;
	pc.ca_file = cfg->delivery_ca_file;
	pc.sts_timeout = cfg->probe_timeout;
	res = xcalloc(1, sizeof(*res));
	rc = probe_domain(&pc, domain, res) == 0 ? 0 : 1;
	memset(&chg, 0, sizeof(chg));
	if (store) {
		struct domain_db_update u;
		struct buf facts;

		buf_init(&facts, CLI_OUT_MAX);
		if (probe_db_update(res, res->conclusive ? cfg->probe_interval :
		    cfg->probe_retry, &facts, &u) < 0 ||
		    domain_db_store(db, &u, &chg, &err) < 0) {
			cli_err("probe", "storing the result: %s",
			    err != NULL ? err : "facts too large");
			xfree(err);
			rc = 1;
		} else {
			stored = 1;
		}
		buf_free(&facts);
	}
	if (json) {
		if (print_json(res, stored, chg.changed) != 0)
			rc = 1;
	} else {
		print_text(res, stored, chg.changed);
		if (fflush(stdout) != 0)
			rc = 1;
	}
	xfree(res);
	dns_resolver_free(&dns);
	SSL_CTX_free(ctx);
	db_close(&db);
	return rc;
}
