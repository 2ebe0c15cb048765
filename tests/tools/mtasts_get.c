/*
 * mtasts_get.c - drive the MTA-STS module (mta_sts.c) from the command
 * line, for integration tests.
 *
 *   mtasts_get --dns FORWARDER [--ta FILE] [--db CONNINFO] [--ca FILE]
 *       [--timeout SECS] [--now UNIX] [--ipv6] [--match HOST ...]
 *       [--fetch | --cache] DOMAIN
 *
 * Default: mta_sts_get() with the cache in --db (time --now, default
 * the real clock). --fetch: mta_sts_fetch() alone, no database. --cache:
 * mta_sts_cache_load() alone, no network. FORWARDER is a dns_conf
 * forwarder ("127.0.0.1@5353"); .test names are allowed; --ta: its
 * DNSSEC trust anchor file (DS records).
 *
 * Prints key=value lines: rc, result (policy, none, error), from_cache,
 * why, and for a policy id, mode, max_age, mx (space-separated),
 * fetched_at, expires_at, then match.HOST=0|1 per --match. Exit 0 when
 * the call did not fail (rc >= 0), 1 when it did, 2 on bad usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "dns.h"
#include "mta_sts.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

#define MATCH_MAX	32

static void
usage(void)
{
	fprintf(stderr, "usage: mtasts_get --dns FORWARDER [--ta FILE] "
	    "[--db CONNINFO] "
	    "[--ca FILE] [--timeout SECS] [--now UNIX] [--ipv6] "
	    "[--match HOST ...] [--fetch | --cache] DOMAIN\n");
	exit(2);
}

/* print_kv - "k=s" with CR/LF shown as spaces: one line per value */
static void
print_kv(const char *k, const char *s)
{
	printf("%s=", k);
	for (; s != NULL && *s != '\0'; s++)
		putchar(*s == '\n' || *s == '\r' ? ' ' : *s);
	putchar('\n');
}

int
main(int argc, char **argv)
{
	const char *dns = NULL, *conninfo = NULL, *ca = NULL, *domain = NULL;
	const char *ta = NULL;
	const char *match[MATCH_MAX];
	const char *zones[1] = { "test" }, *fw[1];
	struct mta_sts_policy *p = NULL;
	struct dns_resolver *r;
	struct dns_conf dc;
	struct db *db = NULL;
	size_t nmatch = 0, i;
	uint64_t v;
	time_t now = time(NULL);
	unsigned timeout = 10;
	int from_cache = 0, rc, a, fetch_only = 0, cache_only = 0, ipv6 = 0;
	char *why = NULL, *err = NULL;

	for (a = 1; a < argc; a++) {
		const char *o = argv[a];
		const char *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (strcmp(o, "--fetch") == 0) {
			fetch_only = 1;
			continue;
		}
		if (strcmp(o, "--cache") == 0) {
			cache_only = 1;
			continue;
		}
		if (strcmp(o, "--ipv6") == 0) {
			ipv6 = 1;
			continue;
		}
		if (o[0] != '-') {
			if (domain != NULL)
				usage();
			domain = o;
			continue;
		}
		if (val == NULL)
			usage();
		a++;
		if (strcmp(o, "--dns") == 0) {
			dns = val;
		} else if (strcmp(o, "--ta") == 0) {
			ta = val;
		} else if (strcmp(o, "--db") == 0) {
			conninfo = val;
		} else if (strcmp(o, "--ca") == 0) {
			ca = val;
		} else if (strcmp(o, "--timeout") == 0) {
			if (num_parse_u64_str(val, 0, 600, &v) < 0)
				usage();
			timeout = (unsigned)v;
		} else if (strcmp(o, "--now") == 0) {
			if (num_parse_u64_str(val, 0, INT64_MAX, &v) < 0)
				usage();
			now = (time_t)v;
		} else if (strcmp(o, "--match") == 0) {
			if (nmatch == MATCH_MAX)
				usage();
			match[nmatch++] = val;
		} else {
			usage();
		}
	}
	if (domain == NULL || (dns == NULL && !cache_only) ||
	    (conninfo == NULL && !fetch_only) || (fetch_only && cache_only))
		usage();

	memset(&dc, 0, sizeof(dc));
	fw[0] = dns;
	dc.forwarders = fw;
	dc.nforwarders = dns != NULL ? 1 : 0;
	dc.allow_zones = zones;
	dc.nallow_zones = 1;
	dc.trust_anchor_file = ta;
	dc.timeout_ms = 5000;
	dc.ipv6 = ipv6;
	r = dns_resolver_new(&dc, &err);
	if (r == NULL) {
		fprintf(stderr, "mtasts_get: resolver: %s\n", err);
		return 1;
	}
	if (!fetch_only) {
		db = db_open_app(conninfo, "mtasts_get", &err);
		if (db == NULL) {
			fprintf(stderr, "mtasts_get: database: %s\n", err);
			return 1;
		}
	}

	if (fetch_only) {
		rc = mta_sts_fetch(domain, r, ca, timeout, &p, &why) == 0;
	} else if (cache_only) {
		rc = mta_sts_cache_load(db, domain, &p, &why);
		from_cache = rc == 1;
	} else {
		rc = mta_sts_get(db, r, domain, ca, timeout, now, &p,
		    &from_cache, &why);
	}

	printf("rc=%d\n", rc);
	printf("result=%s\n", rc == 1 ? "policy" : rc == 0 ? "none" :
	    "error");
	printf("from_cache=%d\n", from_cache);
	print_kv("why", why);
	if (p != NULL) {
		print_kv("id", p->id);
		printf("mode=%s\n", mta_sts_mode_name(p->mode));
		printf("max_age=%u\n", p->max_age);
		printf("mx=");
		for (i = 0; i < p->nmx; i++)
			printf("%s%s", i ? " " : "", p->mx[i]);
		printf("\n");
		printf("fetched_at=%lld\n", (long long)p->fetched_at);
		printf("expires_at=%lld\n", (long long)p->expires_at);
	}
	for (i = 0; i < nmatch; i++)
		printf("match.%s=%d\n", match[i],
		    mta_sts_mx_match(p, match[i]));
	fflush(stdout);

	mta_sts_policy_free(&p);
	xfree(why);
	db_close(&db);
	dns_resolver_free(&r);
	return rc < 0;
}
