/*
 * test_decide.c - the delivery decision: TLS level per domain (table).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decide.h"

static const char *const forced[] = { "bank.example", ".partner.example" };

static const struct {
	const char *name;
	const char *domain;
	int requiretls;
	int sticky;
	int sts;
	enum tls_level dflt;
	enum tls_level want;
	const char *want_method;
	const char *reason_has;
} cases[] = {
	{ "default may", "example.com", 0, 0, 0, TLS_LEVEL_MAY, TLS_LEVEL_MAY,
	  "plain", "default policy" },
	{ "default none", "example.com", 0, 0, 0, TLS_LEVEL_NONE, TLS_LEVEL_NONE,
	  "plain", "default policy" },
	{ "default encrypt", "example.com", 0, 0, 0, TLS_LEVEL_ENCRYPT,
	  TLS_LEVEL_ENCRYPT, "tls", "default policy" },
	{ "forced exact", "bank.example", 0, 0, 0, TLS_LEVEL_MAY, TLS_LEVEL_ENCRYPT,
	  "tls", "forced-TLS" },
	{ "forced case-insensitive", "BANK.Example", 0, 0, 0, TLS_LEVEL_MAY,
	  TLS_LEVEL_ENCRYPT, "tls", "forced-TLS" },
	{ "forced overrides none", "bank.example", 0, 0, 0, TLS_LEVEL_NONE,
	  TLS_LEVEL_ENCRYPT, "tls", "forced-TLS" },
	{ "forced keeps verify", "bank.example", 0, 0, 0, TLS_LEVEL_VERIFY,
	  TLS_LEVEL_VERIFY, "tls", "default policy" },
	{ "exact entry not subdomain", "www.bank.example", 0, 0, 0, TLS_LEVEL_MAY,
	  TLS_LEVEL_MAY, "plain", "default" },
	{ "dot entry subdomain", "mx.partner.example", 0, 0, 0, TLS_LEVEL_MAY,
	  TLS_LEVEL_ENCRYPT, "tls", "forced-TLS" },
	{ "dot entry not parent", "partner.example", 0, 0, 0, TLS_LEVEL_MAY,
	  TLS_LEVEL_MAY, "plain", "default" },
	{ "suffix is not subdomain", "xpartner.example", 0, 0, 0, TLS_LEVEL_MAY,
	  TLS_LEVEL_MAY, "plain", "default" },
	{ "requiretls raises to verify", "example.com", 1, 0, 0, TLS_LEVEL_MAY,
	  TLS_LEVEL_VERIFY, "tls", "REQUIRETLS" },
	{ "requiretls on forced", "bank.example", 1, 0, 0, TLS_LEVEL_MAY,
	  TLS_LEVEL_VERIFY, "tls", "REQUIRETLS" },
	{ "requiretls never lowers", "example.com", 1, 0, 0, TLS_LEVEL_VERIFY,
	  TLS_LEVEL_VERIFY, "tls", "default" },
	{ "sticky raises may", "example.com", 0, 1, 0, TLS_LEVEL_MAY,
	  TLS_LEVEL_ENCRYPT, "tls", "sticky" },
	{ "sticky raises none", "example.com", 0, 1, 0, TLS_LEVEL_NONE,
	  TLS_LEVEL_ENCRYPT, "tls", "sticky" },
	{ "sticky keeps verify", "example.com", 0, 1, 0, TLS_LEVEL_VERIFY,
	  TLS_LEVEL_VERIFY, "tls", "default" },
	{ "mta-sts enforce", "example.com", 0, 0, 1, TLS_LEVEL_MAY,
	  TLS_LEVEL_VERIFY, "tls", "MTA-STS" },
	{ "mta-sts and sticky", "example.com", 0, 1, 1, TLS_LEVEL_NONE,
	  TLS_LEVEL_VERIFY, "tls", "MTA-STS" },
	{ "mta-sts and requiretls", "example.com", 1, 0, 1, TLS_LEVEL_MAY,
	  TLS_LEVEL_VERIFY, "tls", "MTA-STS" },
	{ "forced and sticky", "bank.example", 0, 1, 0, TLS_LEVEL_MAY,
	  TLS_LEVEL_ENCRYPT, "tls", "forced-TLS" },
};

static void
test_table(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct decide_input in = { cases[i].domain, cases[i].requiretls,
		    cases[i].dflt, forced, 2, cases[i].sticky, cases[i].sts };
		struct decide_plan p;

		decide(&in, &p);
		if (p.level != cases[i].want ||
		    strcmp(p.method, cases[i].want_method) != 0 ||
		    strstr(p.reason, cases[i].reason_has) == NULL ||
		    p.mta_sts != cases[i].sts)
			fail_msg("%s: got level %s method %s reason '%s', want "
			    "%s %s '%s'", cases[i].name, tls_level_name(p.level),
			    p.method, p.reason, tls_level_name(cases[i].want),
			    cases[i].want_method, cases[i].reason_has);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
