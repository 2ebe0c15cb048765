/*
 * decide.h - the policy engine's one decision function (DESIGN.md
 * "Rules", message path step 3). Pure: no I/O, no logging, no clock.
 * Inputs are the rules, the message facts (sender, recipient, escalation
 * tag, REQUIRETLS, already encrypted), what the domain TLS cache knows
 * and which recipient keys exist; the output is a plan: the ordered
 * methods to try, each with its TLS floor, what to do when they are all
 * used up, and a human-readable reason stored with every attempt.
 *
 * Methods (a rule's chain, e.g. "tls,pgp,smime,escrow"):
 *   tls     the original over required TLS at the rule's floor
 *           (encrypt | verify | mta-sts | dane);
 *   pgp     PGP/MIME to the recipient's key, then opportunistic TLS;
 *   smime   S/MIME to the recipient's certificate, then opportunistic TLS;
 *   escrow  stored in the portal, the recipient gets a notification;
 *   plain   opportunistic TLS (ordinary mail).
 * Whatever the method, every SMTP hop to a domain keeps its own floor:
 * forced-TLS domains and domains probed TLS-capable (sticky TLS) never
 * get plaintext, an MTA-STS enforce policy or REQUIRETLS needs verified
 * TLS. A method whose precondition is known false (no usable key, domain
 * probed without STARTTLS, no MTA-STS policy) is skipped with a note; a
 * domain probed without STARTTLS keeps its tls step when it publishes an
 * MTA-STS enforce policy or TLSA records (then the missing STARTTLS is a
 * possible downgrade: tls fails, nothing is sent, the chain moves on);
 * escrow stays in the plan when the portal is not available (delivery
 * defers there: never on to a weaker method); a
 * method that fails for TLS reasons at delivery time moves on to the next
 * step (the caller does that; decide() only orders them).
 */
#ifndef SEALGATE_DECIDE_H
#define SEALGATE_DECIDE_H

#include <stddef.h>

#include "tls_client.h"

enum pol_method {
	PM_TLS,
	PM_PGP,
	PM_SMIME,
	PM_ESCROW,
	PM_PLAIN,
	PM_ASIS		/* sender-encrypted: the original, never re-encrypted */
};

#define POLICY_CHAIN_MAX	5	/* tls,pgp,smime,escrow,plain */

/* the TLS floor of a chain's "tls" method */
enum pol_floor { PF_ENCRYPT, PF_VERIFY, PF_MTA_STS, PF_DANE };

struct policy_chain {
	enum pol_method m[POLICY_CHAIN_MAX];
	size_t n;
	enum pol_floor floor;
	int bounce;			/* exhausted: 1 bounce, 0 defer */
};

struct policy_rule {
	long long id;
	int position;
	const char *sender;		/* pattern, see policy_pattern_match */
	const char *rcpt;
	const char *tag;		/* NULL: any message */
	struct policy_chain chain;
};

struct policy_tag {
	const char *tag;		/* "[secure]" */
	struct policy_chain chain;
};

/* what is known about a recipient's key of one kind */
enum key_state {
	KEY_NONE,			/* none known */
	KEY_OK,				/* an active, usable key */
	KEY_EXPIRED,			/* only expired ones */
	KEY_REVOKED,			/* only revoked/unusable ones */
	KEY_PENDING			/* only ones awaiting admin review */
};

struct decide_input {
	const char *sender;		/* envelope sender ("" for <>) */
	const char *rcpt;		/* recipient address */
	const char *domain;		/* recipient domain, lower case */
	int tag;			/* index into tags, -1: none */
	const struct policy_tag *tags;
	size_t ntags;
	const struct policy_rule *rules;	/* ordered by position */
	size_t nrules;
	struct policy_chain dflt;	/* when no rule matches */
	int requiretls;			/* the message carries REQUIRETLS */
	int tls_required;		/* the gateway's own secure mail (portal
					 * replies): "tls" only, whatever the
					 * rules say; defers when impossible */
	int escrow_notice;		/* the escrow store's notification: plain,
					 * rules and tags do not apply */
	int already_encrypted;		/* PGP/MIME or S/MIME from the sender */
	enum tls_level default_level;	/* delivery_tls_level */
	const char *const *forced_tls;	/* forced_tls_domains */
	size_t nforced;
	/* the domain TLS cache (MX-routed mail only; else unknown) */
	int tls_capable;		/* -1 unknown, 0 probed without TLS,
					 * 1 probed TLS-capable (sticky) */
	int dane;			/* -1 unknown, 0 no TLSA, 1 TLSA */
	int mta_sts_enforce;		/* an MTA-STS enforce policy applies */
	enum key_state pgp;
	enum key_state smime;
	int escrow_available;		/* the escrow store is configured */
};

struct policy_step {
	enum pol_method method;
	enum tls_level level;		/* floor for every SMTP hop */
	int mta_sts;			/* hosts must match the STS policy */
	int dane_required;		/* only DANE-authenticated hosts */
};

struct decide_plan {
	struct policy_step steps[POLICY_CHAIN_MAX];
	size_t nsteps;			/* 0: nothing usable now */
	int bounce;			/* when exhausted: 1 bounce, 0 defer */
	long long rule_id;		/* 0: the default chain; -1: a tag's */
	int tag;			/* tag to remove before delivery, -1 */
	char reason[1000];
	/* the first step, for callers that need one level */
	enum tls_level level;
	int mta_sts;
	const char *method;
};

void decide(const struct decide_input *in, struct decide_plan *out);

/* 1 if domain equals an entry, or is a subdomain of a ".example.com"
 * entry (leading dot: subdomains only, as Postfix's parent matching). */
int decide_domain_listed(const char *domain, const char *const *list,
    size_t n);

const char *policy_method_name(enum pol_method m);
const char *policy_floor_name(enum pol_floor f);

/* "tls,pgp,smime,escrow" → chain (floor and bounce untouched). Methods
 * once each, 1..POLICY_CHAIN_MAX, escrow/plain may not be followed by
 * anything ("plain" always succeeds in its way; escrow is final).
 * 0, or -1 with why. */
int policy_chain_parse(const char *text, struct policy_chain *c, char *why,
    size_t whylen);
/* "encrypt" | "verify" | "mta-sts" | "dane". 0 / -1. */
int policy_floor_parse(const char *text, enum pol_floor *f);
/* "tls,pgp" (methods only) */
void policy_chain_format(const struct policy_chain *c, char *out, size_t n);

/*
 * Patterns: "*" any; "@example.com" any address at that domain;
 * "*.example.com" any address at a subdomain (not the domain itself);
 * "user@example.com" that address. Domains compare case-insensitively,
 * local parts exactly. The null sender "" matches only "*" and "<>".
 */
int policy_pattern_valid(const char *pat);
int policy_pattern_match(const char *pat, const char *addr);

/* "[secure]=escrow" items (escalation_tags) → tag; 0 / -1 with why. The
 * tag string points into item. */
int policy_tag_parse(char *item, struct policy_tag *t, char *why,
    size_t whylen);

#endif
