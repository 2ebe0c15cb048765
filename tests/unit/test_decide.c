/*
 * test_decide.c - gateway/decide.c, the policy engine's pure decision
 * function (decide.h; DESIGN.md "The message path" steps 3-4, "Rules").
 *
 * The main test is one table: every row gives all of decide()'s inputs
 * (message, rules, default chain, escalation tag, domain TLS cache, key
 * states) and the whole plan it must produce: the exact steps written
 * "method@level" with "+sts" (hosts must match the MTA-STS policy) and
 * "+dane" (DANE-authenticated hosts only), space separated ("" for no
 * step), the bounce flag, rule_id, the tag to remove, and 1-3 substrings
 * the reason must contain (and optionally one it must not).
 *
 * Rules and chains are written as the admin writes them ("tls,pgp",
 * "verify") and turned into structs with policy_chain_parse() and
 * policy_floor_parse(); escalation tags are built with policy_tag_parse()
 * from writable arrays, as config.c does. Those parsers have their own
 * small tests below.
 *
 * Rows marked CONTRACT are written to decide.h where decide.c differs;
 * they run in their own test (test_decide_contract) so the rest of the
 * table stays green while the discrepancy is open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decide.h"

/* ---- the escalation tags every row sees (index = decide_input.tag) ---- */

enum { NOTAG = -1, T_SECURE, T_ESCROW, T_ENCRYPT, T_PLAIN, T_TLS, NTAGS };

/* ---- the forced-TLS list ---- */

static const char *const forced_list[] = {
	"bank.example", ".partner.example",
};

/* ---- a row ---- */

#define MAXRULES 4

struct rule_spec {
	long long id;			/* 0: end of the list */
	const char *sender, *rcpt;
	const char *tag;		/* NULL: any message */
	const char *chain, *floor;
	int bounce;
};

struct row {
	const char *name;
	struct {
		const char *sender, *rcpt, *domain;
		int tag;		/* T_* or NOTAG */
		int requiretls, encrypted;
	} msg;
	struct rule_spec rules[MAXRULES];	/* in position order */
	struct {
		const char *chain, *floor;
		int bounce;
	} dflt;
	struct {
		enum tls_level level;	/* delivery_tls_level */
		int forced;		/* 1: forced_list, 0: none */
		int tls_capable;	/* -1 / 0 / 1 */
		int dane;		/* -1 / 0 / 1 */
		int sts;		/* MTA-STS enforce */
	} net;
	struct {
		enum key_state pgp, smime;
		int escrow;		/* escrow_available */
	} keys;
	struct {
		const char *plan;
		int bounce;
		long long rule_id;
		int tag;
	} want;
	const char *why[3];		/* the reason contains each */
	const char *not_why;		/* ... and not this (NULL: skip) */
	int contract;			/* 1: see the file comment */
};

/* shorthand for the common values */
#define A	"alice@corp.example"
#define B	"bob@example.com"
#define D	"example.com"
#define MAY	TLS_LEVEL_MAY
#define NONE	TLS_LEVEL_NONE
#define ENC	TLS_LEVEL_ENCRYPT
#define VER	TLS_LEVEL_VERIFY
/* default level may, forced list on, nothing known about the domain */
#define NET	{ MAY, 1, -1, -1, 0 }
#define NOKEYS	{ KEY_NONE, KEY_NONE, 0 }
#define ALLKEYS	{ KEY_OK, KEY_OK, 1 }
#define DPLAIN	{ "plain", "encrypt", 0 }
/* a rule for every sender and recipient */
#define ANY(id, chain, floor, bounce) \
	{ id, "*", "*", NULL, chain, floor, bounce }

static const struct row rows[] = {
	/* ============ every method alone ============ */
	{ .name = "tls alone, floor encrypt",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = NOKEYS,
	  .want = { "tls@encrypt", 0, 1, -1 },
	  .why = { "rule 1 (* -> *): tls", "(tls floor encrypt)",
	      "plan: tls@encrypt" } },
	{ .name = "tls alone, floor verify",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls", "verify", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = NOKEYS,
	  .want = { "tls@verify", 0, 1, -1 },
	  .why = { "(tls floor verify)", "plan: tls@verify" } },
	{ .name = "tls alone, floor mta-sts with an enforce policy",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls", "mta-sts", 0) }, .dflt = DPLAIN,
	  .net = { MAY, 1, -1, -1, 1 }, .keys = NOKEYS,
	  .want = { "tls@verify+sts", 0, 1, -1 },
	  .why = { "(tls floor mta-sts)", "plan: tls@verify",
	      "example.com has an MTA-STS enforce policy" } },
	{ .name = "tls alone, floor dane with TLSA records",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls", "dane", 0) }, .dflt = DPLAIN,
	  .net = { MAY, 1, 1, 1, 0 }, .keys = NOKEYS,
	  .want = { "tls@dane+dane", 0, 1, -1 },
	  .why = { "(tls floor dane)", "plan: tls@dane" } },
	{ .name = "tls alone, floor dane, TLSA not known yet",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls", "dane", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = NOKEYS,
	  .want = { "tls@dane+dane", 0, 1, -1 },
	  .why = { "plan: tls@dane" }, .not_why = "skipped" },
	{ .name = "pgp alone, usable key",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "pgp", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_OK, KEY_NONE, 0 },
	  .want = { "pgp@may", 0, 1, -1 },
	  .why = { "rule 1 (* -> *): pgp", "plan: pgp@may" },
	  .not_why = "tls floor" },
	{ .name = "smime alone, usable certificate",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "smime", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_NONE, KEY_OK, 0 },
	  .want = { "smime@may", 0, 1, -1 },
	  .why = { "rule 1 (* -> *): smime", "plan: smime@may" } },
	{ .name = "escrow alone, portal available",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "escrow", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_NONE, KEY_NONE, 1 },
	  .want = { "escrow@may", 0, 1, -1 },
	  .why = { "rule 1 (* -> *): escrow", "plan: escrow@may" },
	  .not_why = "not available" },
	/* decide.h does not list escrow_available among the preconditions
	 * that skip a method: the step stays and defers (delivery.c 451) */
	{ .name = "escrow alone, portal not available: kept, defers",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "escrow", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = NOKEYS,
	  .want = { "escrow@may", 0, 1, -1 },
	  .why = { "escrow portal not available: defers",
	      "plan: escrow@may" } },
	{ .name = "escrow without portal in a bounce chain",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "pgp,escrow", "encrypt", 1) }, .dflt = DPLAIN,
	  .net = NET, .keys = NOKEYS,
	  .want = { "escrow@may", 1, 1, -1 },
	  .why = { "pgp skipped: no key", "escrow portal not available",
	      "then bounce" } },
	{ .name = "plain alone at may",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = NOKEYS,
	  .want = { "plain@may", 0, 1, -1 },
	  .why = { "rule 1 (* -> *): plain", "plan: plain@may" },
	  .not_why = "TLS required" },
	{ .name = "plain at delivery_tls_level none",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = { NONE, 1, -1, -1, 0 }, .keys = NOKEYS,
	  .want = { "plain@none", 0, 1, -1 },
	  .why = { "plan: plain@none" } },
	{ .name = "whole chain usable, in order",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls,pgp,smime,escrow", "encrypt", 0) },
	  .dflt = DPLAIN, .net = NET, .keys = ALLKEYS,
	  .want = { "tls@encrypt pgp@may smime@may escrow@may", 0, 1, -1 },
	  .why = { "rule 1 (* -> *): tls,pgp,smime,escrow",
	      "plan: tls@encrypt,pgp@may,smime@may,escrow@may" } },

	/* ============ fallback: a step whose precondition is false ====== */
	{ .name = "tls skipped: domain probed without STARTTLS",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls,plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = { MAY, 1, 0, -1, 0 }, .keys = NOKEYS,
	  .want = { "plain@may", 0, 1, -1 },
	  .why = { "tls skipped: example.com was probed without STARTTLS",
	      "plan: plain@may" } },
	{ .name = "tls skipped: floor mta-sts, no enforce policy",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls,pgp,escrow", "mta-sts", 0) },
	  .dflt = DPLAIN, .net = NET, .keys = { KEY_OK, KEY_NONE, 1 },
	  .want = { "pgp@may escrow@may", 0, 1, -1 },
	  .why = { "tls skipped: example.com has no MTA-STS enforce "
	      "policy", "plan: pgp@may,escrow@may" } },
	{ .name = "tls skipped: floor dane, no TLSA records",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls,smime", "dane", 0) }, .dflt = DPLAIN,
	  .net = { MAY, 1, 1, 0, 0 }, .keys = { KEY_NONE, KEY_OK, 0 },
	  .want = { "smime@encrypt", 0, 1, -1 },
	  .why = { "tls skipped: example.com has no DANE TLSA records",
	      "plan: smime@encrypt", "(sticky)" } },
	{ .name = "pgp skipped: no key",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "pgp,escrow", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_NONE, KEY_OK, 1 },
	  .want = { "escrow@may", 0, 1, -1 },
	  .why = { "pgp skipped: no key", "plan: escrow@may" } },
	{ .name = "pgp skipped: key expired",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "pgp,escrow", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_EXPIRED, KEY_OK, 1 },
	  .want = { "escrow@may", 0, 1, -1 },
	  .why = { "pgp skipped: key expired" } },
	{ .name = "pgp skipped: key revoked",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "pgp,escrow", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_REVOKED, KEY_OK, 1 },
	  .want = { "escrow@may", 0, 1, -1 },
	  .why = { "pgp skipped: key revoked or unusable" } },
	{ .name = "pgp skipped: key pending review",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "pgp,escrow", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_PENDING, KEY_OK, 1 },
	  .want = { "escrow@may", 0, 1, -1 },
	  .why = { "pgp skipped: key awaits admin review" } },
	{ .name = "smime skipped: no certificate",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "smime,plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_OK, KEY_NONE, 1 },
	  .want = { "plain@may", 0, 1, -1 },
	  .why = { "smime skipped: no key", "plan: plain@may" } },
	{ .name = "smime skipped: certificate expired",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "smime,plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_OK, KEY_EXPIRED, 1 },
	  .want = { "plain@may", 0, 1, -1 },
	  .why = { "smime skipped: key expired" } },
	{ .name = "smime skipped: certificate revoked",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "smime,plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_OK, KEY_REVOKED, 1 },
	  .want = { "plain@may", 0, 1, -1 },
	  .why = { "smime skipped: key revoked or unusable" } },
	{ .name = "smime skipped: certificate pending review",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "smime,plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_OK, KEY_PENDING, 1 },
	  .want = { "plain@may", 0, 1, -1 },
	  .why = { "smime skipped: key awaits admin review" } },
	{ .name = "chain exhausted: bounce",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls,pgp,smime", "encrypt", 1) }, .dflt = DPLAIN,
	  .net = { MAY, 1, 0, -1, 0 }, .keys = { KEY_NONE, KEY_EXPIRED, 1 },
	  .want = { "", 1, 1, -1 },
	  .why = { "tls skipped", "smime skipped: key expired",
	      "no method usable: bounce" } },
	{ .name = "chain exhausted: defer",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "pgp,smime", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_REVOKED, KEY_PENDING, 1 },
	  .want = { "", 0, 1, -1 },
	  .why = { "pgp skipped: key revoked", "smime skipped: key awaits",
	      "no method usable: defer" } },
	{ .name = "bounce flag kept when a step is left",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "pgp,smime", "encrypt", 1) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_OK, KEY_NONE, 0 },
	  .want = { "pgp@may", 1, 1, -1 },
	  .why = { "smime skipped: no key", "plan: pgp@may, then bounce" } },

	/* ============ sticky TLS ============ */
	{ .name = "sticky TLS raises plain to encrypt",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN,
	  .net = { MAY, 1, 1, -1, 0 }, .keys = NOKEYS,
	  .want = { "plain@encrypt", 0, 0, -1 },
	  .why = { "example.com was probed TLS-capable: TLS required "
	      "(sticky)", "plan: plain@encrypt" } },
	{ .name = "sticky TLS raises pgp, smime and plain hops",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "pgp,smime,plain", "encrypt", 0) },
	  .dflt = DPLAIN, .net = { MAY, 1, 1, -1, 0 }, .keys = ALLKEYS,
	  .want = { "pgp@encrypt smime@encrypt plain@encrypt", 0, 1, -1 },
	  .why = { "(sticky)" } },
	{ .name = "sticky TLS raises delivery_tls_level none",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN,
	  .net = { NONE, 1, 1, -1, 0 }, .keys = NOKEYS,
	  .want = { "plain@encrypt", 0, 0, -1 },
	  .why = { "(sticky)" } },
	{ .name = "sticky TLS never lowers verify",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN,
	  .net = { VER, 1, 1, -1, 0 }, .keys = NOKEYS,
	  .want = { "plain@verify", 0, 0, -1 },
	  .why = { "plan: plain@verify" }, .not_why = "sticky" },
	{ .name = "sticky TLS on every step of a full chain",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls,pgp,smime,escrow", "encrypt", 0) },
	  .dflt = DPLAIN, .net = { MAY, 1, 1, 1, 0 }, .keys = ALLKEYS,
	  .want = { "tls@encrypt pgp@encrypt smime@encrypt escrow@encrypt",
	      0, 1, -1 },
	  .why = { "(sticky)" } },

	/* ============ forced-TLS domains ============ */
	{ .name = "forced TLS: exact entry",
	  .msg = { A, "bob@bank.example", "bank.example", NOTAG, 0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@encrypt", 0, 0, -1 },
	  .why = { "bank.example is on the forced-TLS list: TLS required",
	      "plan: plain@encrypt" } },
	{ .name = "forced TLS: subdomain of a .partner.example entry",
	  .msg = { A, "bob@mx.partner.example", "mx.partner.example", NOTAG,
	      0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@encrypt", 0, 0, -1 },
	  .why = { "mx.partner.example is on the forced-TLS list" } },
	{ .name = "forced TLS: deep subdomain of a dot entry",
	  .msg = { A, "bob@a.b.partner.example", "a.b.partner.example",
	      NOTAG, 0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@encrypt", 0, 0, -1 },
	  .why = { "forced-TLS" } },
	{ .name = "forced TLS: dot entry does not cover the parent",
	  .msg = { A, "bob@partner.example", "partner.example", NOTAG, 0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@may", 0, 0, -1 },
	  .why = { "plan: plain@may" }, .not_why = "forced-TLS" },
	{ .name = "forced TLS: exact entry does not cover subdomains",
	  .msg = { A, "bob@www.bank.example", "www.bank.example", NOTAG,
	      0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@may", 0, 0, -1 },
	  .why = { "plan: plain@may" }, .not_why = "forced-TLS" },
	{ .name = "forced TLS: non-listed sibling",
	  .msg = { A, "bob@xpartner.example", "xpartner.example", NOTAG,
	      0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@may", 0, 0, -1 },
	  .why = { "plan: plain@may" }, .not_why = "forced-TLS" },
	{ .name = "forced TLS: empty list",
	  .msg = { A, "bob@bank.example", "bank.example", NOTAG, 0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN,
	  .net = { MAY, 0, -1, -1, 0 }, .keys = NOKEYS,
	  .want = { "plain@may", 0, 0, -1 },
	  .why = { "plan: plain@may" }, .not_why = "forced-TLS" },
	{ .name = "forced TLS, probed without STARTTLS: tls skipped, "
	      "plain still encrypt",
	  .msg = { A, "bob@bank.example", "bank.example", NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls,plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = { MAY, 1, 0, -1, 0 }, .keys = NOKEYS,
	  .want = { "plain@encrypt", 0, 1, -1 },
	  .why = { "tls skipped: bank.example was probed without STARTTLS",
	      "forced-TLS" } },
	{ .name = "forced TLS raises the pgp hop",
	  .msg = { A, "bob@bank.example", "bank.example", NOTAG, 0, 0 },
	  .rules = { ANY(1, "pgp", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_OK, KEY_NONE, 0 },
	  .want = { "pgp@encrypt", 0, 1, -1 },
	  .why = { "plan: pgp@encrypt", "forced-TLS" } },

	/* ============ REQUIRETLS ============ */
	{ .name = "REQUIRETLS raises plain to verify",
	  .msg = { A, B, D, NOTAG, 1, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@verify", 0, 0, -1 },
	  .why = { "message carries REQUIRETLS: verified TLS required",
	      "plan: plain@verify" } },
	{ .name = "REQUIRETLS raises a tls encrypt floor and the pgp hop",
	  .msg = { A, B, D, NOTAG, 1, 0 },
	  .rules = { ANY(1, "tls,pgp", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_OK, KEY_NONE, 0 },
	  .want = { "tls@verify pgp@verify", 0, 1, -1 },
	  .why = { "(tls floor encrypt)", "REQUIRETLS" } },
	{ .name = "REQUIRETLS above forced and sticky",
	  .msg = { A, "bob@bank.example", "bank.example", NOTAG, 1, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN,
	  .net = { MAY, 1, 1, -1, 0 }, .keys = NOKEYS,
	  .want = { "plain@verify", 0, 0, -1 },
	  .why = { "forced-TLS", "REQUIRETLS" } },
	{ .name = "REQUIRETLS keeps a dane floor",
	  .msg = { A, B, D, NOTAG, 1, 0 },
	  .rules = { ANY(1, "tls", "dane", 0) }, .dflt = DPLAIN,
	  .net = { MAY, 1, 1, 1, 0 }, .keys = NOKEYS,
	  .want = { "tls@dane+dane", 0, 1, -1 },
	  .why = { "plan: tls@dane" } },

	/* ============ MTA-STS enforce ============ */
	{ .name = "MTA-STS enforce: verify and sts on every step",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls,pgp,smime,escrow", "encrypt", 0) },
	  .dflt = DPLAIN, .net = { MAY, 1, 1, -1, 1 }, .keys = ALLKEYS,
	  .want = { "tls@verify+sts pgp@verify+sts smime@verify+sts "
	      "escrow@verify+sts", 0, 1, -1 },
	  .why = { "example.com has an MTA-STS enforce policy: verified "
	      "TLS to a policy MX" } },
	{ .name = "MTA-STS enforce: plain",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN,
	  .net = { NONE, 1, -1, -1, 1 }, .keys = NOKEYS,
	  .want = { "plain@verify+sts", 0, 0, -1 },
	  .why = { "MTA-STS enforce policy", "plan: plain@verify" } },
	/* not skipped although probed without STARTTLS: an enforce policy
	 * makes a missing STARTTLS a delivery failure (RFC 8461 5), not a
	 * reason to plan around it; the later steps are verify+sts anyway.
	 * decide.h does not say so (see the report) */
	{ .name = "MTA-STS enforce, probed without STARTTLS: tls kept",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls,plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = { MAY, 1, 0, -1, 1 }, .keys = NOKEYS,
	  .want = { "tls@verify+sts plain@verify+sts", 0, 1, -1 },
	  .why = { "plan: tls@verify,plain@verify" },
	  .not_why = "tls skipped" },
	{ .name = "MTA-STS enforce with a dane floor",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls,escrow", "dane", 0) }, .dflt = DPLAIN,
	  .net = { MAY, 1, 1, 1, 1 }, .keys = { KEY_NONE, KEY_NONE, 1 },
	  .want = { "tls@dane+sts+dane escrow@verify+sts", 0, 1, -1 },
	  .why = { "plan: tls@dane,escrow@verify" } },
	{ .name = "MTA-STS enforce and REQUIRETLS: one raise",
	  .msg = { A, B, D, NOTAG, 1, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN,
	  .net = { MAY, 1, -1, -1, 1 }, .keys = NOKEYS,
	  .want = { "plain@verify+sts", 0, 0, -1 },
	  .why = { "MTA-STS enforce policy" }, .not_why = "REQUIRETLS" },

	/* ============ already encrypted by the sender ============ */
	{ .name = "already encrypted: pgp becomes as-is",
	  .msg = { A, B, D, NOTAG, 0, 1 },
	  .rules = { ANY(1, "pgp,smime,escrow", "encrypt", 0) },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "as-is@may", 0, 1, -1 },
	  .why = { "already encrypted by the sender: pgp not applied, "
	      "sent as is", "plan: as-is@may" },
	  .not_why = "skipped" },
	{ .name = "already encrypted: tls step kept before as-is",
	  .msg = { A, B, D, NOTAG, 0, 1 },
	  .rules = { ANY(1, "tls,pgp,escrow", "encrypt", 0) },
	  .dflt = DPLAIN, .net = { MAY, 1, 1, -1, 0 }, .keys = ALLKEYS,
	  .want = { "tls@encrypt as-is@encrypt", 0, 1, -1 },
	  .why = { "pgp not applied", "plan: tls@encrypt,as-is@encrypt" } },
	{ .name = "already encrypted: escrow becomes as-is",
	  .msg = { A, B, D, NOTAG, 0, 1 },
	  .rules = { ANY(1, "escrow", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_NONE, KEY_NONE, 1 },
	  .want = { "as-is@may", 0, 1, -1 },
	  .why = { "escrow not applied, sent as is" } },
	{ .name = "already encrypted: smime becomes as-is, key irrelevant",
	  .msg = { A, B, D, NOTAG, 0, 1 },
	  .rules = { ANY(1, "smime,plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_NONE, KEY_REVOKED, 0 },
	  .want = { "as-is@may", 0, 1, -1 },
	  .why = { "smime not applied" }, .not_why = "skipped" },
	{ .name = "already encrypted: tls skipped, then as-is",
	  .msg = { A, B, D, NOTAG, 0, 1 },
	  .rules = { ANY(1, "tls,smime,plain", "encrypt", 0) },
	  .dflt = DPLAIN, .net = { MAY, 1, 0, -1, 0 }, .keys = ALLKEYS,
	  .want = { "as-is@may", 0, 1, -1 },
	  .why = { "tls skipped", "smime not applied" } },
	{ .name = "already encrypted: a plain chain is unchanged",
	  .msg = { A, B, D, NOTAG, 0, 1 },
	  .rules = { { 0 } }, .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@may", 0, 0, -1 },
	  .why = { "plan: plain@may" }, .not_why = "as is" },
	{ .name = "already encrypted with REQUIRETLS: as-is at verify",
	  .msg = { A, B, D, NOTAG, 1, 1 },
	  .rules = { ANY(1, "pgp", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_OK, KEY_NONE, 0 },
	  .want = { "as-is@verify", 0, 1, -1 },
	  .why = { "pgp not applied", "REQUIRETLS" } },

	/* ============ escalation tags ============ */
	{ .name = "tag [secure] escalates a plain rule to escrow",
	  .msg = { A, B, D, T_SECURE, 0, 0 },
	  .rules = { ANY(1, "plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_NONE, KEY_NONE, 1 },
	  .want = { "escrow@may", 0, -1, T_SECURE },
	  .why = { "rule 1 (* -> *): plain", "tag [secure] escalates to "
	      "escrow", "plan: escrow@may" } },
	{ .name = "tag [escrow] escalates a plain rule to escrow",
	  .msg = { A, B, D, T_ESCROW, 0, 0 },
	  .rules = { ANY(1, "plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_NONE, KEY_NONE, 1 },
	  .want = { "escrow@may", 0, -1, T_ESCROW },
	  .why = { "tag [escrow] escalates to escrow" } },
	{ .name = "tag [encrypt] escalates a plain rule to pgp,smime,escrow",
	  .msg = { A, B, D, T_ENCRYPT, 0, 0 },
	  .rules = { ANY(1, "plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_OK, KEY_NONE, 1 },
	  .want = { "pgp@may escrow@may", 0, -1, T_ENCRYPT },
	  .why = { "tag [encrypt] escalates to pgp,smime,escrow",
	      "smime skipped: no key" } },
	{ .name = "tag [encrypt] escalates the default chain",
	  .msg = { A, B, D, T_ENCRYPT, 0, 0 },
	  .rules = { { 0 } }, .dflt = DPLAIN, .net = NET, .keys = ALLKEYS,
	  .want = { "pgp@may smime@may escrow@may", 0, -1, T_ENCRYPT },
	  .why = { "no rule matches: default plain",
	      "tag [encrypt] escalates" } },
	{ .name = "tag [secure] escalates a tls,plain rule",
	  .msg = { A, B, D, T_SECURE, 0, 0 },
	  .rules = { ANY(1, "tls,plain", "verify", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_NONE, KEY_NONE, 1 },
	  .want = { "escrow@may", 0, -1, T_SECURE },
	  .why = { "tag [secure] escalates to escrow" } },
	{ .name = "tag that would lower protection is ignored",
	  .msg = { A, B, D, T_PLAIN, 0, 0 },
	  .rules = { ANY(1, "tls", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = NOKEYS,
	  .want = { "tls@encrypt", 0, 1, T_PLAIN },
	  .why = { "tag [plain] (plain) would lower protection: ignored",
	      "plan: tls@encrypt" } },
	{ .name = "tag tls@encrypt below a rule's tls@verify is ignored",
	  .msg = { A, B, D, T_TLS, 0, 0 },
	  .rules = { ANY(1, "tls", "verify", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = NOKEYS,
	  .want = { "tls@verify", 0, 1, T_TLS },
	  .why = { "tag [tls] (tls) would lower" } },
	{ .name = "tag as strong as the rule is taken",
	  .msg = { A, B, D, T_TLS, 0, 0 },
	  .rules = { ANY(1, "tls", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = NOKEYS,
	  .want = { "tls@encrypt", 0, -1, T_TLS },
	  .why = { "tag [tls] escalates to tls" }, .not_why = "lower" },
	{ .name = "tag index out of range: no tag",
	  .msg = { A, B, D, NTAGS + 3, 0, 0 },
	  .rules = { ANY(1, "plain", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = { KEY_NONE, KEY_NONE, 1 },
	  .want = { "plain@may", 0, 1, -1 },
	  .why = { "rule 1" }, .not_why = "tag" },
	{ .name = "rule bound to a tag: used for that tag",
	  .msg = { A, B, D, T_SECURE, 0, 0 },
	  .rules = { { 1, "*", "*", "[secure]", "pgp,escrow", "encrypt", 0 },
	      ANY(2, "plain", "encrypt", 0) },
	  .dflt = DPLAIN, .net = NET, .keys = { KEY_OK, KEY_NONE, 1 },
	  .want = { "pgp@may escrow@may", 0, 1, T_SECURE },
	  .why = { "rule 2 (* -> *): plain", "tag [secure]: rule 1: "
	      "pgp,escrow" } },
	{ .name = "rule bound to a tag: not for untagged mail",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 1, "*", "*", "[secure]", "pgp,escrow", "encrypt", 0 },
	      ANY(2, "plain", "encrypt", 0) },
	  .dflt = DPLAIN, .net = NET, .keys = { KEY_OK, KEY_NONE, 1 },
	  .want = { "plain@may", 0, 2, -1 },
	  .why = { "rule 2 (* -> *): plain" }, .not_why = "rule 1" },
	{ .name = "rule bound to another tag: tag's own chain",
	  .msg = { A, B, D, T_SECURE, 0, 0 },
	  .rules = { { 1, "*", "*", "[encrypt]", "smime", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = { KEY_OK, KEY_OK, 1 },
	  .want = { "escrow@may", 0, -1, T_SECURE },
	  .why = { "no rule matches", "tag [secure] escalates to escrow" } },
	{ .name = "rule bound to a tag: tag compared case-insensitively",
	  .msg = { A, B, D, T_SECURE, 0, 0 },
	  .rules = { { 7, "*", "*", "[SECURE]", "smime", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = { KEY_OK, KEY_OK, 1 },
	  .want = { "smime@may", 0, 7, T_SECURE },
	  .why = { "tag [secure]: rule 7: smime" } },
	{ .name = "rule bound to a tag: its patterns still apply",
	  .msg = { A, B, D, T_SECURE, 0, 0 },
	  .rules = { { 1, "*", "@other.example", "[secure]", "smime",
	      "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = { KEY_OK, KEY_OK, 1 },
	  .want = { "escrow@may", 0, -1, T_SECURE },
	  .why = { "tag [secure] escalates to escrow" } },
	{ .name = "rule bound to a tag weaker than the rule: ignored",
	  .msg = { A, B, D, T_SECURE, 0, 0 },
	  .rules = { { 1, "*", "*", "[secure]", "plain", "encrypt", 0 },
	      ANY(2, "tls", "verify", 0) },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "tls@verify", 0, 2, T_SECURE },
	  .why = { "tag [secure] (plain) would lower protection" } },
	{ .name = "tag on sender-encrypted mail: as-is",
	  .msg = { A, B, D, T_ENCRYPT, 0, 1 },
	  .rules = { { 0 } }, .dflt = DPLAIN, .net = NET, .keys = ALLKEYS,
	  .want = { "as-is@may", 0, -1, T_ENCRYPT },
	  .why = { "tag [encrypt] escalates", "pgp not applied" } },

	/* ============ conflicting rules: first by position wins ======== */
	{ .name = "two rules match: the first wins",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "plain", "encrypt", 0),
	      { 2, "*", B, NULL, "pgp", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = { KEY_OK, KEY_NONE, 0 },
	  .want = { "plain@may", 0, 1, -1 },
	  .why = { "rule 1 (* -> *): plain" }, .not_why = "rule 2" },
	{ .name = "a more specific later rule loses",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 1, "*", "@example.com", NULL, "tls", "encrypt", 0 },
	      { 2, A, B, NULL, "escrow", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = { KEY_NONE, KEY_NONE, 1 },
	  .want = { "tls@encrypt", 0, 1, -1 },
	  .why = { "rule 1 (* -> @example.com): tls" } },
	{ .name = "the first rule that matches, not the first rule",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 1, "*", "@other.example", NULL, "escrow", "encrypt",
	      0 }, ANY(2, "pgp", "encrypt", 0) },
	  .dflt = DPLAIN, .net = NET, .keys = { KEY_OK, KEY_NONE, 1 },
	  .want = { "pgp@may", 0, 2, -1 },
	  .why = { "rule 2 (* -> *): pgp" } },

	/* ============ patterns ============ */
	{ .name = "pattern *: matches the null sender",
	  .msg = { "", B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls", "encrypt", 0) }, .dflt = DPLAIN,
	  .net = NET, .keys = NOKEYS,
	  .want = { "tls@encrypt", 0, 1, -1 },
	  .why = { "rule 1 (* -> *): tls", "plan: tls@encrypt" } },
	{ .name = "pattern <>: matches the null sender",
	  .msg = { "", B, D, NOTAG, 0, 0 },
	  .rules = { { 1, "<>", "*", NULL, "tls", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "tls@encrypt", 0, 1, -1 },
	  .why = { "rule 1 (<> -> *): tls" } },
	{ .name = "pattern <>: not an ordinary sender",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 1, "<>", "*", NULL, "tls", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@may", 0, 0, -1 },
	  .why = { "no rule matches: default plain" } },
	{ .name = "pattern @domain: not the null sender",
	  .msg = { "", B, D, NOTAG, 0, 0 },
	  .rules = { { 1, "@corp.example", "*", NULL, "tls", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@may", 0, 0, -1 },
	  .why = { "no rule matches" } },
	{ .name = "pattern @domain: sender at that domain",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 1, "@corp.example", "*", NULL, "tls", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "tls@encrypt", 0, 1, -1 },
	  .why = { "rule 1 (@corp.example -> *)" } },
	{ .name = "pattern @domain: domain case-insensitive",
	  .msg = { A, "bob@Example.COM", D, NOTAG, 0, 0 },
	  .rules = { { 1, "*", "@EXAMPLE.com", NULL, "tls", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "tls@encrypt", 0, 1, -1 },
	  .why = { "rule 1" } },
	{ .name = "pattern @domain: not a subdomain",
	  .msg = { A, "bob@mail.example.com", "mail.example.com", NOTAG,
	      0, 0 },
	  .rules = { { 1, "*", "@example.com", NULL, "tls", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@may", 0, 0, -1 },
	  .why = { "no rule matches" } },
	{ .name = "pattern *.domain: a subdomain matches",
	  .msg = { A, "bob@mail.example.com", "mail.example.com", NOTAG,
	      0, 0 },
	  .rules = { { 1, "*", "*.example.com", NULL, "tls", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "tls@encrypt", 0, 1, -1 },
	  .why = { "rule 1 (* -> *.example.com)" } },
	{ .name = "pattern *.domain: not the domain itself",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 1, "*", "*.example.com", NULL, "tls", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@may", 0, 0, -1 },
	  .why = { "no rule matches" } },
	{ .name = "pattern *.domain: not a look-alike suffix",
	  .msg = { A, "bob@badexample.com", "badexample.com", NOTAG, 0, 0 },
	  .rules = { { 1, "*", "*.example.com", NULL, "tls", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@may", 0, 0, -1 },
	  .why = { "no rule matches" } },
	{ .name = "pattern address: domain case-insensitive",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 1, "*", "bob@EXAMPLE.Com", NULL, "tls", "encrypt",
	      0 } },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "tls@encrypt", 0, 1, -1 },
	  .why = { "rule 1" } },
	{ .name = "pattern address: local part case-sensitive",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 1, "*", "Bob@example.com", NULL, "tls", "encrypt",
	      0 } },
	  .dflt = DPLAIN, .net = NET, .keys = NOKEYS,
	  .want = { "plain@may", 0, 0, -1 },
	  .why = { "no rule matches" } },
	{ .name = "pattern address: sender and recipient both exact",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 4, "carol@corp.example", B, NULL, "escrow", "encrypt",
	      0 }, { 5, A, B, NULL, "smime", "encrypt", 0 } },
	  .dflt = DPLAIN, .net = NET, .keys = { KEY_NONE, KEY_OK, 0 },
	  .want = { "smime@may", 0, 5, -1 },
	  .why = { "rule 5 (alice@corp.example -> bob@example.com): "
	      "smime" } },

	/* ============ the default chain ============ */
	{ .name = "no rule matches: default chain with floor and bounce",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { { 1, "*", "@other.example", NULL, "escrow", "encrypt",
	      0 } },
	  .dflt = { "tls,pgp", "verify", 1 }, .net = NET,
	  .keys = { KEY_OK, KEY_NONE, 0 },
	  .want = { "tls@verify pgp@may", 1, 0, -1 },
	  .why = { "no rule matches: default tls,pgp", "(tls floor verify)",
	      "plan: tls@verify,pgp@may, then bounce" } },

	/* ============ CONTRACT (decide.h), decide.c differs ============ */
	/* decide.h: "A method whose precondition is known false (...,
	 * domain probed without STARTTLS, ...) is skipped with a note".
	 * decide.c exempts a dane floor whenever the TLSA state is not 0,
	 * even unknown: here nothing (no TLSA known, no MTA-STS) says the
	 * domain must have TLS, and the probe says it has none. */
	{ .name = "CONTRACT: dane floor, TLSA unknown, probed without "
	      "STARTTLS: tls skipped",
	  .msg = { A, B, D, NOTAG, 0, 0 },
	  .rules = { ANY(1, "tls,plain", "dane", 0) }, .dflt = DPLAIN,
	  .net = { MAY, 1, 0, -1, 0 }, .keys = NOKEYS,
	  .want = { "plain@may", 0, 1, -1 },
	  .why = { "tls skipped: example.com was probed without STARTTLS",
	      "plan: plain@may" },
	  .contract = 1 },
};

#define NROWS	(sizeof(rows) / sizeof(rows[0]))

/* ---- running a row ---- */

static void
plan_text(const struct decide_plan *p, char *out, size_t n)
{
	size_t i, l = 0;

	out[0] = '\0';
	for (i = 0; i < p->nsteps && l < n; i++) {
		const struct policy_step *s = &p->steps[i];
		int k = snprintf(out + l, n - l, "%s%s@%s%s%s", i ? " " : "",
		    policy_method_name(s->method), tls_level_name(s->level),
		    s->mta_sts ? "+sts" : "", s->dane_required ? "+dane" : "");
		if (k < 0)
			break;
		l += (size_t)k;
	}
}

static void
build_chain(const char *name, const char *chain, const char *floor,
    int bounce, struct policy_chain *c)
{
	char why[200] = "";

	memset(c, 0, sizeof(*c));
	if (policy_chain_parse(chain, c, why, sizeof(why)) != 0)
		fail_msg("%s: bad chain \"%s\" in the table: %s", name, chain,
		    why);
	if (policy_floor_parse(floor, &c->floor) != 0)
		fail_msg("%s: bad floor \"%s\" in the table", name, floor);
	c->bounce = bounce;
}

/* 0 if the row holds, else 1 (with the difference printed) */
static int
run_row(const struct row *r, const struct policy_tag *tags)
{
	struct policy_rule rules[MAXRULES];
	struct decide_input in;
	struct decide_plan p;
	char got[400];
	const char *first;
	size_t nrules = 0, i;
	int bad = 0;

	memset(rules, 0, sizeof(rules));
	for (i = 0; i < MAXRULES && r->rules[i].id != 0; i++) {
		const struct rule_spec *s = &r->rules[i];
		rules[i].id = s->id;
		rules[i].position = (int)(i + 1) * 10;
		rules[i].sender = s->sender;
		rules[i].rcpt = s->rcpt;
		rules[i].tag = s->tag;
		build_chain(r->name, s->chain, s->floor, s->bounce,
		    &rules[i].chain);
		nrules++;
	}

	memset(&in, 0, sizeof(in));
	in.sender = r->msg.sender;
	in.rcpt = r->msg.rcpt;
	in.domain = r->msg.domain;
	in.tag = r->msg.tag;
	in.tags = tags;
	in.ntags = NTAGS;
	in.rules = nrules ? rules : NULL;
	in.nrules = nrules;
	build_chain(r->name, r->dflt.chain, r->dflt.floor, r->dflt.bounce,
	    &in.dflt);
	in.requiretls = r->msg.requiretls;
	in.already_encrypted = r->msg.encrypted;
	in.default_level = r->net.level;
	in.forced_tls = r->net.forced ? forced_list : NULL;
	in.nforced = r->net.forced ?
	    sizeof(forced_list) / sizeof(forced_list[0]) : 0;
	in.tls_capable = r->net.tls_capable;
	in.dane = r->net.dane;
	in.mta_sts_enforce = r->net.sts;
	in.pgp = r->keys.pgp;
	in.smime = r->keys.smime;
	in.escrow_available = r->keys.escrow;

	memset(&p, 0x5a, sizeof(p));	/* decide() must set everything */
	decide(&in, &p);
	plan_text(&p, got, sizeof(got));

	if (p.nsteps > POLICY_CHAIN_MAX) {
		print_error("%s: nsteps %zu\n", r->name, p.nsteps);
		return 1;
	}
	if (strcmp(got, r->want.plan) != 0) {
		print_error("%s: plan \"%s\", want \"%s\"\n", r->name, got,
		    r->want.plan);
		bad = 1;
	}
	if (p.bounce != r->want.bounce) {
		print_error("%s: bounce %d, want %d\n", r->name, p.bounce,
		    r->want.bounce);
		bad = 1;
	}
	if (p.rule_id != r->want.rule_id) {
		print_error("%s: rule_id %lld, want %lld\n", r->name,
		    p.rule_id, r->want.rule_id);
		bad = 1;
	}
	if (p.tag != r->want.tag) {
		print_error("%s: tag %d, want %d\n", r->name, p.tag,
		    r->want.tag);
		bad = 1;
	}
	/* the one-step summary agrees with the first step */
	first = p.nsteps ? policy_method_name(p.steps[0].method) : "none";
	if (p.method == NULL || strcmp(p.method, first) != 0 ||
	    (p.nsteps && (p.level != p.steps[0].level ||
	    p.mta_sts != p.steps[0].mta_sts))) {
		print_error("%s: summary method %s level %s sts %d does not "
		    "match the first step\n", r->name,
		    p.method ? p.method : "(null)", tls_level_name(p.level),
		    p.mta_sts);
		bad = 1;
	}
	if (memchr(p.reason, '\0', sizeof(p.reason)) == NULL) {
		print_error("%s: reason not terminated\n", r->name);
		return 1;
	}
	for (i = 0; i < 3; i++)
		if (r->why[i] != NULL && strstr(p.reason, r->why[i]) == NULL) {
			print_error("%s: reason lacks \"%s\"\n", r->name,
			    r->why[i]);
			bad = 1;
		}
	if (r->not_why != NULL && strstr(p.reason, r->not_why) != NULL) {
		print_error("%s: reason has \"%s\"\n", r->name, r->not_why);
		bad = 1;
	}
	if (bad)
		print_error("%s: reason was: %s\n", r->name, p.reason);
	return bad;
}

/* the escalation tags, built as config.c builds them */
static char tag_secure[] = "[secure]=escrow";
static char tag_escrow[] = "[escrow]=escrow";
static char tag_encrypt[] = "[encrypt]=pgp,smime,escrow";
static char tag_plain[] = "[plain]=plain";
static char tag_tls[] = "[tls]=tls";
static struct policy_tag tags[NTAGS];

static int
setup_tags(void **state)
{
	char *items[NTAGS] = {
		[T_SECURE] = tag_secure, [T_ESCROW] = tag_escrow,
		[T_ENCRYPT] = tag_encrypt, [T_PLAIN] = tag_plain,
		[T_TLS] = tag_tls,
	};
	char why[200];
	size_t i;

	for (i = 0; i < NTAGS; i++)
		if (policy_tag_parse(items[i], &tags[i], why, sizeof(why)) != 0) {
			print_error("tag %zu: %s\n", i, why);
			return -1;
		}
	return 0;
}

static void
run_rows(int contract)
{
	size_t i, n = 0, failed = 0;

	for (i = 0; i < NROWS; i++) {
		if (rows[i].contract != contract)
			continue;
		n++;
		failed += (size_t)run_row(&rows[i], tags);
	}
	if (failed)
		fail_msg("%zu of %zu rows failed%s", failed, n, contract ?
		    " (decide.c contradicts decide.h: see the row comments)" :
		    "");
}

static void
test_decide_table(void **state)
{
	size_t i, n = 0;

	for (i = 0; i < NROWS; i++)
		n += rows[i].contract == 0;
	assert_true(n >= 45);
	run_rows(0);
}

static void
test_decide_contract(void **state)
{
	run_rows(1);
}

/* tags hold what policy_tag_parse made of them */
static void
test_decide_tags_built(void **state)
{
	assert_string_equal(tags[T_SECURE].tag, "[secure]");
	assert_int_equal(tags[T_SECURE].chain.n, 1);
	assert_int_equal(tags[T_SECURE].chain.m[0], PM_ESCROW);
	assert_string_equal(tags[T_ESCROW].tag, "[escrow]");
	assert_int_equal(tags[T_ESCROW].chain.m[0], PM_ESCROW);
	assert_string_equal(tags[T_ENCRYPT].tag, "[encrypt]");
	assert_int_equal(tags[T_ENCRYPT].chain.n, 3);
	assert_int_equal(tags[T_ENCRYPT].chain.m[0], PM_PGP);
	assert_int_equal(tags[T_ENCRYPT].chain.m[1], PM_SMIME);
	assert_int_equal(tags[T_ENCRYPT].chain.m[2], PM_ESCROW);
	assert_int_equal(tags[T_TLS].chain.floor, PF_ENCRYPT);
	assert_int_equal(tags[T_TLS].chain.bounce, 0);
}

/* ---- policy_chain_parse ---- */

static void
test_chain_parse_valid(void **state)
{
	static const struct {
		const char *text;
		size_t n;
		enum pol_method m[POLICY_CHAIN_MAX];
	} ok[] = {
		{ "tls", 1, { PM_TLS } },
		{ "plain", 1, { PM_PLAIN } },
		{ "escrow", 1, { PM_ESCROW } },
		{ "tls,pgp,smime,escrow", 4,
		    { PM_TLS, PM_PGP, PM_SMIME, PM_ESCROW } },
		{ "smime,pgp,tls,plain", 4,
		    { PM_SMIME, PM_PGP, PM_TLS, PM_PLAIN } },
		{ "pgp,escrow", 2, { PM_PGP, PM_ESCROW } },
	};
	size_t i, j;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct policy_chain c;
		char why[200] = "";

		memset(&c, 0, sizeof(c));
		c.floor = PF_DANE;
		c.bounce = 1;
		if (policy_chain_parse(ok[i].text, &c, why, sizeof(why)) != 0)
			fail_msg("\"%s\": rejected: %s", ok[i].text, why);
		assert_int_equal(c.n, ok[i].n);
		for (j = 0; j < ok[i].n; j++)
			assert_int_equal(c.m[j], ok[i].m[j]);
		/* floor and bounce untouched */
		assert_int_equal(c.floor, PF_DANE);
		assert_int_equal(c.bounce, 1);
	}
}

static void
test_chain_parse_invalid(void **state)
{
	static const struct {
		const char *text;
		const char *why;	/* NULL: any message */
	} bad[] = {
		{ "tls,bogus", "unknown method \"bogus\"" },
		{ "rot13", "unknown method" },
		{ "as-is", "unknown method" },
		{ "tls,tls", "method tls given twice" },
		{ "pgp,smime,pgp", "method pgp given twice" },
		{ "escrow,tls", "nothing may follow escrow" },
		{ "plain,pgp", "nothing may follow plain" },
		{ "tls,escrow,plain", "nothing may follow escrow" },
		{ "", "empty chain" },
		{ "tls,", "empty method after ','" },
		{ ",tls", NULL },
		{ "tls,,pgp", NULL },
		{ "tls, pgp", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct policy_chain c;
		char why[200] = "";

		memset(&c, 0, sizeof(c));
		if (policy_chain_parse(bad[i].text, &c, why, sizeof(why)) != -1)
			fail_msg("\"%s\": accepted", bad[i].text);
		if (why[0] == '\0')
			fail_msg("\"%s\": no reason given", bad[i].text);
		if (bad[i].why != NULL && strstr(why, bad[i].why) == NULL)
			fail_msg("\"%s\": reason \"%s\", want \"%s\"",
			    bad[i].text, why, bad[i].why);
	}
}

/* ---- policy_floor_parse ---- */

static void
test_floor_parse(void **state)
{
	static const struct {
		const char *text;
		enum pol_floor f;
	} ok[] = {
		{ "encrypt", PF_ENCRYPT }, { "verify", PF_VERIFY },
		{ "mta-sts", PF_MTA_STS }, { "dane", PF_DANE },
	};
	static const char *const bad[] = {
		"", "none", "may", "tls", "mtasts", "dane ", "encrypted",
	};
	enum pol_floor f;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		f = (enum pol_floor)-1;
		assert_int_equal(policy_floor_parse(ok[i].text, &f), 0);
		assert_int_equal(f, ok[i].f);
		assert_string_equal(policy_floor_name(f), ok[i].text);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (policy_floor_parse(bad[i], &f) != -1)
			fail_msg("floor \"%s\" accepted", bad[i]);
}

/* ---- policy_pattern_valid / policy_pattern_match ---- */

static void
test_pattern_valid(void **state)
{
	static const char *const good[] = {
		"*", "<>", "@example.com", "*.example.com", "user@example.com",
		"first.last+tag@mail.example.com", "@EXAMPLE.COM",
		"x@xn--bcher-kva.example",
	};
	static const char *const bad[] = {
		"", "example.com", "@", "@.example.com", "@example.com.",
		"@example..com", "*.", "*.example..com", "*example.com",
		"user@", "@exa mple.com", "us er@example.com", "user@exa_mple.com",
		"**", "<",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!policy_pattern_valid(good[i]))
			fail_msg("pattern \"%s\" rejected", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (policy_pattern_valid(bad[i]))
			fail_msg("pattern \"%s\" accepted", bad[i]);
}

static void
test_pattern_match(void **state)
{
	static const struct {
		const char *pat, *addr;
		int want;
	} cases[] = {
		{ "*", "a@b.example", 1 }, { "*", "", 1 },
		{ "<>", "", 1 }, { "<>", "a@b.example", 0 },
		{ "@example.com", "", 0 }, { "*.example.com", "", 0 },
		{ "a@example.com", "", 0 },
		{ "@example.com", "a@EXAMPLE.com", 1 },
		{ "@example.com", "a@x.example.com", 0 },
		{ "*.example.com", "a@x.example.com", 1 },
		{ "*.example.com", "a@x.y.EXAMPLE.com", 1 },
		{ "*.example.com", "a@example.com", 0 },
		{ "*.example.com", "a@badexample.com", 0 },
		{ "a@example.com", "a@Example.Com", 1 },
		{ "a@example.com", "A@example.com", 0 },
		{ "a@example.com", "ab@example.com", 0 },
		{ "a@example.com", "a@example.org", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (policy_pattern_match(cases[i].pat, cases[i].addr) !=
		    cases[i].want)
			fail_msg("\"%s\" vs \"%s\": want %d", cases[i].pat,
			    cases[i].addr, cases[i].want);
}

/* ---- policy_tag_parse ---- */

static void
test_tag_parse(void **state)
{
	char good[] = "[secure]=escrow";
	char multi[] = "[Encrypt]=pgp,smime,escrow";
	char noeq[] = "[secure]escrow";
	char notag[] = "=escrow";
	char space[] = "[se cure]=escrow";
	char tab[] = "[secure]\t=escrow";
	char badchain[] = "[secure]=bogus";
	char nochain[] = "[secure]=";
	struct policy_tag t;
	char why[200];

	assert_int_equal(policy_tag_parse(good, &t, why, sizeof(why)), 0);
	assert_string_equal(t.tag, "[secure]");
	assert_ptr_equal(t.tag, good);	/* points into the item */
	assert_int_equal(t.chain.n, 1);
	assert_int_equal(t.chain.m[0], PM_ESCROW);

	assert_int_equal(policy_tag_parse(multi, &t, why, sizeof(why)), 0);
	assert_string_equal(t.tag, "[Encrypt]");
	assert_int_equal(t.chain.n, 3);
	assert_int_equal(t.chain.m[2], PM_ESCROW);

	why[0] = '\0';
	assert_int_equal(policy_tag_parse(noeq, &t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "TAG=METHOD"));
	why[0] = '\0';
	assert_int_equal(policy_tag_parse(notag, &t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "TAG=METHOD"));
	why[0] = '\0';
	assert_int_equal(policy_tag_parse(space, &t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no spaces"));
	why[0] = '\0';
	assert_int_equal(policy_tag_parse(tab, &t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no spaces"));
	why[0] = '\0';
	assert_int_equal(policy_tag_parse(badchain, &t, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "unknown method"));
	why[0] = '\0';
	assert_int_equal(policy_tag_parse(nochain, &t, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "empty chain"));
}

/* ---- policy_chain_format ---- */

static void
test_chain_format(void **state)
{
	static const char *const texts[] = {
		"tls", "plain", "escrow", "tls,pgp", "pgp,smime,escrow",
		"tls,pgp,smime,escrow", "smime,tls,plain",
	};
	struct policy_chain c;
	char why[200], out[64];
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		memset(&c, 0, sizeof(c));
		assert_int_equal(policy_chain_parse(texts[i], &c, why,
		    sizeof(why)), 0);
		policy_chain_format(&c, out, sizeof(out));
		assert_string_equal(out, texts[i]);
	}
	/* method names come out lower case whatever was written */
	memset(&c, 0, sizeof(c));
	assert_int_equal(policy_chain_parse("TLS,Pgp", &c, why, sizeof(why)),
	    0);
	policy_chain_format(&c, out, sizeof(out));
	assert_string_equal(out, "tls,pgp");

	/* as-is formats by name; an empty chain is "" */
	c.n = 1;
	c.m[0] = PM_ASIS;
	policy_chain_format(&c, out, sizeof(out));
	assert_string_equal(out, "as-is");
	c.n = 0;
	memset(out, 'x', sizeof(out));
	policy_chain_format(&c, out, sizeof(out));
	assert_string_equal(out, "");

	/* a short buffer truncates, terminated; 0 writes nothing */
	memset(&c, 0, sizeof(c));
	assert_int_equal(policy_chain_parse("tls,pgp,smime,escrow", &c, why,
	    sizeof(why)), 0);
	memset(out, 'x', sizeof(out));
	policy_chain_format(&c, out, 8);
	assert_string_equal(out, "tls,pgp");
	memset(out, 'x', sizeof(out));
	policy_chain_format(&c, out, 10);
	assert_int_equal(strlen(out), 9);
	assert_int_equal(out[10], 'x');
	out[0] = 'x';
	policy_chain_format(&c, out, 0);
	assert_int_equal(out[0], 'x');
}

/* ---- decide_domain_listed ---- */

static void
test_domain_listed(void **state)
{
	static const char *const list[] = {
		"bank.example", ".partner.example", "Mixed.Example",
	};
	static const struct {
		const char *domain;
		int want;
	} cases[] = {
		{ "bank.example", 1 },
		{ "BANK.example", 1 },
		{ "www.bank.example", 0 },	/* exact: no subdomains */
		{ "otherbank.example", 0 },
		{ "bank.example.org", 0 },
		{ "mx.partner.example", 1 },
		{ "a.b.partner.example", 1 },
		{ "MX.Partner.Example", 1 },
		{ "partner.example", 0 },	/* dot: subdomains only */
		{ "xpartner.example", 0 },
		{ "partner.example.net", 0 },
		{ "mixed.example", 1 },
		{ "example", 0 },
		{ "", 0 },
	};
	size_t i, n = sizeof(list) / sizeof(list[0]);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (decide_domain_listed(cases[i].domain, list, n) !=
		    cases[i].want)
			fail_msg("\"%s\": want %d", cases[i].domain,
			    cases[i].want);
	assert_int_equal(decide_domain_listed("bank.example", list, 0), 0);
	assert_int_equal(decide_domain_listed("bank.example", NULL, 0), 0);
}

/* ---- names ---- */

static void
test_names(void **state)
{
	assert_string_equal(policy_method_name(PM_TLS), "tls");
	assert_string_equal(policy_method_name(PM_PGP), "pgp");
	assert_string_equal(policy_method_name(PM_SMIME), "smime");
	assert_string_equal(policy_method_name(PM_ESCROW), "escrow");
	assert_string_equal(policy_method_name(PM_PLAIN), "plain");
	assert_string_equal(policy_method_name(PM_ASIS), "as-is");
	assert_string_equal(policy_floor_name(PF_MTA_STS), "mta-sts");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_tags_built),
		cmocka_unit_test(test_decide_table),
		cmocka_unit_test(test_decide_contract),
		cmocka_unit_test(test_chain_parse_valid),
		cmocka_unit_test(test_chain_parse_invalid),
		cmocka_unit_test(test_floor_parse),
		cmocka_unit_test(test_pattern_valid),
		cmocka_unit_test(test_pattern_match),
		cmocka_unit_test(test_tag_parse),
		cmocka_unit_test(test_chain_format),
		cmocka_unit_test(test_domain_listed),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, setup_tags, NULL);
}
