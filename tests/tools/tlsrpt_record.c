/*
 * tlsrpt_record.c - record TLS-RPT sessions with tls_rpt_record(), as
 * delivery does, for the integration tests.
 *
 *   tlsrpt_record CONNINFO DOMAIN POLICY RESULT MX WHEN COUNT
 *       [POLICY_STRING [MX_PATTERNS]]
 *
 * POLICY: sts, tlsa, no-policy-found; RESULT: an RFC 8460 result type,
 * or "success"; WHEN: unix time (0: now); COUNT sessions are recorded.
 * POLICY_STRING and MX_PATTERNS use "|" for line breaks.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"
#include "tls_rpt_db.h"

static char *
lines(const char *s)
{
	char *c = xstrdup(s), *p;

	for (p = c; *p != '\0'; p++)
		if (*p == '|')
			*p = '\n';
	return c;
}

int
main(int argc, char **argv)
{
	struct tls_rpt_event ev;
	struct db *db;
	uint64_t when, count, i;
	char *err = NULL, *ps = NULL, *mxp = NULL;

	if (argc < 8) {
		fprintf(stderr, "usage: tlsrpt_record CONNINFO DOMAIN POLICY "
		    "RESULT MX WHEN COUNT [POLICY_STRING [MX_PATTERNS]]\n");
		return 2;
	}
	memset(&ev, 0, sizeof(ev));
	ev.policy_domain = argv[2];
	if (tls_rpt_policy_parse(argv[3], &ev.policy_type) < 0 ||
	    (strcmp(argv[4], "success") != 0 &&
	    tls_rpt_result_parse(argv[4], &ev.result) < 0) ||
	    num_parse_u64_str(argv[6], 0, INT64_MAX, &when) < 0 ||
	    num_parse_u64_str(argv[7], 1, 1000000, &count) < 0) {
		fprintf(stderr, "tlsrpt_record: bad argument\n");
		return 2;
	}
	ev.mx_host = argv[5];
	ev.receiving_ip = "127.0.0.1";
	ev.sending_ip = "127.0.0.2";
	ev.when = (long long)when;
	if (argc > 8)
		ev.policy_string = ps = lines(argv[8]);
	if (argc > 9)
		ev.mx_patterns = mxp = lines(argv[9]);
	db = db_open(argv[1], &err);
	if (db == NULL) {
		fprintf(stderr, "tlsrpt_record: %s\n", err);
		return 1;
	}
	for (i = 0; i < count; i++)
		if (tls_rpt_record(db, &ev, &err) < 0) {
			fprintf(stderr, "tlsrpt_record: %s\n", err);
			return 1;
		}
	db_close(&db);
	xfree(ps);
	xfree(mxp);
	return 0;
}
