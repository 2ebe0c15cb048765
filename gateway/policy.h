/*
 * policy.h - the policy engine's runtime: everything decide() needs,
 * gathered with I/O, for delivery and for `sealgate policy preview` alike
 * (so both say the same thing).
 *
 *   policy_conf   the configuration's part (default chain, tags),
 *                 parsed once;
 *   policy_env    per thread: the rules (reloaded every
 *                 POLICY_RULES_TTL_MS), the key store, the gateway's
 *                 GnuPG home, WKD;
 *   policy_message_facts   escalation tag and "already encrypted" of a
 *                 message;
 *   policy_recipient       one recipient's plan and keys.
 * Logs nothing; errors in *err_out.
 */
#ifndef SEALGATE_POLICY_H
#define SEALGATE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "config.h"
#include "db.h"
#include "decide.h"
#include "rule_db.h"
#include "smime.h"

#define POLICY_RULES_TTL_MS	2000	/* rule changes apply within this */

struct pgp_ctx;
struct dns_resolver;

struct policy_conf {
	struct policy_chain dflt;
	struct policy_tag *tags;
	const char **tag_names;		/* for subject_tag_find() */
	size_t ntags;
	char *tags_text;		/* the tags point into it */
};

int policy_conf_init(const struct sg_config *cfg, struct policy_conf *pc,
    char **err_out);
void policy_conf_free(struct policy_conf *pc);

struct policy_env {
	const struct sg_config *cfg;
	const struct policy_conf *pc;
	struct db *db;
	struct pgp_ctx *pgp;		/* NULL: opened on first need */
	struct dns_resolver *dns;	/* WKD; NULL: no WKD lookups */
	int offline;			/* preview: no WKD, no keyring import */
	struct rule_set rules;
	int64_t rules_at;		/* monotonic ms of the last load */
	int have_rules;
};

/* a recipient's keys, as found for its plan */
struct policy_keys {
	char pgp_fpr[41];
	long long pgp_id;		/* key store row, 0: none */
	X509 *smime_cert;		/* NULL: none */
	long long smime_id;
	enum smime_cipher smime_cipher;
	char note[200];			/* what the lookups found */
};

void policy_env_init(struct policy_env *env, const struct sg_config *cfg,
    const struct policy_conf *pc, struct db *db);
void policy_env_free(struct policy_env *env);
/* The gateway's GnuPG home (pgp_home, or STATE_DIR/gnupg): created
 * 0700 if missing, owned by the run user when we are root. 0 / -1. */
int policy_pgp_home_prepare(const struct sg_config *cfg, char **err_out);
/* its path (new string) */
char *policy_pgp_home(const struct sg_config *cfg);

/* the GnuPG context (opened on first use); NULL with *err_out */
struct pgp_ctx *policy_env_pgp(struct policy_env *env, char **err_out);

/*
 * policy_message_facts - the escalation tag (index into pc->tags, -1)
 * and whether the sender encrypted the message already. A message whose
 * Subject cannot be decoded is treated as untagged (tag_why says so).
 */
void policy_message_facts(const struct policy_conf *pc, const char *msg,
    size_t len, int *tag_out, int *already_encrypted_out);

/*
 * policy_recipient - fill in->rules/dflt/tags and the key states for
 * in->rcpt, run decide(). in holds the message and domain facts already
 * (sender, rcpt, domain, tag, requiretls, already_encrypted, TLS cache).
 * Keys are looked up only when the plan could use them. 0, or -1/-2
 * (database) with *err_out. keys is filled either way (release with
 * policy_keys_release()).
 */
int policy_recipient(struct policy_env *env, struct decide_input *in,
    struct decide_plan *plan, struct policy_keys *keys, char **err_out);
void policy_keys_release(struct policy_keys *k);

/* The domain's TLS cache facts into in (tls_capable, dane,
 * mta_sts_enforce from the stored status only; no probing). 0 / -1 / -2 */
int policy_domain_cached(struct db *db, const char *domain,
    struct decide_input *in, char **err_out);

#endif
