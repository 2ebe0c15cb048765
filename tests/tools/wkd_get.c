/*
 * wkd_get.c - drive the Web Key Directory lookup (wkd.c) from the
 * command line, for integration tests.
 *
 *   wkd_get --dns FORWARDER [--ta FILE] [--ca CAFILE] [--timeout SECS]
 *       [--out FILE] [--urls] ADDRESS
 *
 * FORWARDER is a dns_conf forwarder ("127.0.0.1@5353"); .test names are
 * allowed; --ta: its DNSSEC trust anchor file. wkd_fetch() with --ca and
 * --timeout, then one line:
 *
 *   found method=advanced bytes=N why=...
 *   none method=direct why=...
 *   tempfail method=advanced why=...
 *
 * --out FILE: the key bytes are written there (only when found).
 * --urls: print "advanced=URL" and "direct=URL" (wkd_urls()) and stop;
 * no --dns needed. Exit 0 found, 1 none, 2 tempfail, 3 bad usage or a
 * local error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "wkd.h"
#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

static void
usage(void)
{
	fprintf(stderr, "usage: wkd_get --dns FORWARDER [--ta FILE] "
	    "[--ca CAFILE] [--timeout SECS] [--out FILE] [--urls] "
	    "ADDRESS\n");
	exit(3);
}

/* write_file - the whole buffer to path; 0 ok, -1 failed */
static int
write_file(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = b->len == 0 || fwrite(b->data, 1, b->len, f) == b->len;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* print_why - the reason on one line: CR/LF shown as spaces */
static void
print_why(const char *s)
{
	printf("why=");
	for (; *s != '\0'; s++)
		putchar(*s == '\n' || *s == '\r' ? ' ' : *s);
}

int
main(int argc, char **argv)
{
	const char *dns = NULL, *ta = NULL, *ca = NULL, *out = NULL;
	const char *addr = NULL, *method = NULL;
	const char *zones[1] = { "test" }, *fw[1];
	char adv[WKD_URL_MAX], dir[WKD_URL_MAX], why[512];
	struct dns_resolver *r;
	struct dns_conf dc;
	struct buf key;
	unsigned timeout = 10;
	uint64_t v;
	int a, rc, urls = 0;
	char *err = NULL;

	for (a = 1; a < argc; a++) {
		const char *o = argv[a];
		const char *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (strcmp(o, "--urls") == 0) {
			urls = 1;
			continue;
		}
		if (o[0] != '-' || o[1] == '\0') {
			if (addr != NULL)
				usage();
			addr = o;
			continue;
		}
		if (val == NULL)
			usage();
		a++;
		if (strcmp(o, "--dns") == 0) {
			dns = val;
		} else if (strcmp(o, "--ta") == 0) {
			ta = val;
		} else if (strcmp(o, "--ca") == 0) {
			ca = val;
		} else if (strcmp(o, "--out") == 0) {
			out = val;
		} else if (strcmp(o, "--timeout") == 0) {
			if (num_parse_u64_str(val, 0, 600, &v) < 0)
				usage();
			timeout = (unsigned)v;
		} else {
			usage();
		}
	}
	if (addr == NULL || (dns == NULL && !urls))
		usage();

	if (urls) {
		if (wkd_urls(addr, adv, sizeof(adv), dir, sizeof(dir)) < 0) {
			printf("invalid\n");
			return 1;
		}
		printf("advanced=%s\ndirect=%s\n", adv, dir);
		return 0;
	}

	memset(&dc, 0, sizeof(dc));
	fw[0] = dns;
	dc.forwarders = fw;
	dc.nforwarders = 1;
	dc.allow_zones = zones;
	dc.nallow_zones = 1;
	dc.trust_anchor_file = ta;
	dc.timeout_ms = 5000;
	r = dns_resolver_new(&dc, &err);
	if (r == NULL) {
		fprintf(stderr, "wkd_get: resolver: %s\n", err);
		xfree(err);
		return 3;
	}

	buf_init(&key, WKD_MAX_KEY);
	rc = wkd_fetch(addr, r, ca, timeout, &key, &method, why, sizeof(why));
	if (rc == 1)
		printf("found method=%s bytes=%zu ", method, key.len);
	else if (rc == 0)
		printf("none method=%s ", method ? method : "-");
	else
		printf("tempfail method=%s ", method ? method : "-");
	print_why(why);
	putchar('\n');
	fflush(stdout);
	if (rc == 1 && out != NULL && write_file(out, &key) < 0) {
		fprintf(stderr, "wkd_get: cannot write %s\n", out);
		rc = -2;
	}

	buf_free(&key);
	dns_resolver_free(&r);
	return rc == 1 ? 0 : rc == 0 ? 1 : rc == -1 ? 2 : 3;
}
