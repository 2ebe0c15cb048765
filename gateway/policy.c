/*
 * policy.c - gather what decide() needs: rules (cached briefly), the
 * configuration's default chain and tags, the key store (with the
 * keyring check and WKD discovery), the domain TLS cache.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "domain_db.h"
#include "key_db.h"
#include "lib/buf.h"
#include "lib/strjoin.h"
#include "lib/xalloc.h"
#include "mta_sts.h"
#include "pgp.h"
#include "policy.h"
#include "subject_tag.h"
#include "wkd.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
policy_conf_init(const struct sg_config *cfg, struct policy_conf *pc,
    char **err_out)
{
	char why[200], *save = NULL, *item;
	size_t cap = 8;

	memset(pc, 0, sizeof(*pc));
	if (policy_chain_parse(cfg->policy_default, &pc->dflt, why,
	    sizeof(why)) < 0) {
		*err_out = xasprintf("policy_default: %s", why);
		return -1;
	}
	pc->dflt.floor = (enum pol_floor)cfg->policy_default_floor;
	pc->dflt.bounce = cfg->policy_default_bounce;
	pc->tags_text = xstrdup(cfg->escalation_tags);
	pc->tags = xcalloc(cap, sizeof(*pc->tags));
	pc->tag_names = xcalloc(cap, sizeof(*pc->tag_names));
	for (item = strtok_r(pc->tags_text, " \t", &save); item != NULL;
	    item = strtok_r(NULL, " \t", &save)) {
		if (pc->ntags == cap) {
			cap *= 2;
			pc->tags = xrealloc(pc->tags, cap * sizeof(*pc->tags));
			pc->tag_names = xrealloc(pc->tag_names,
			    cap * sizeof(*pc->tag_names));
		}
		if (policy_tag_parse(item, &pc->tags[pc->ntags], why,
		    sizeof(why)) < 0) {
			*err_out = xasprintf("escalation_tags: %s", why);
			policy_conf_free(pc);
			return -1;
		}
		pc->tag_names[pc->ntags] = pc->tags[pc->ntags].tag;
		pc->ntags++;
	}
	return 0;
}

void
policy_conf_free(struct policy_conf *pc)
{
	xfree(pc->tags);
	xfree(pc->tag_names);
	xfree(pc->tags_text);
	memset(pc, 0, sizeof(*pc));
}

void
policy_env_init(struct policy_env *env, const struct sg_config *cfg,
    const struct policy_conf *pc, struct db *db)
{
	memset(env, 0, sizeof(*env));
	env->cfg = cfg;
	env->pc = pc;
	env->db = db;
}

void
policy_env_free(struct policy_env *env)
{
	if (env->have_rules)
		rule_set_free(&env->rules);
	pgp_ctx_free(&env->pgp);
	env->have_rules = 0;
}

char *
policy_pgp_home(const struct sg_config *cfg)
{
	return cfg->pgp_home != NULL ? xstrdup(cfg->pgp_home) :
	    xasprintf("%s/gnupg", cfg->state_dir);
}

int
policy_pgp_home_prepare(const struct sg_config *cfg, char **err_out)
{
	char *home = policy_pgp_home(cfg);
	struct passwd *pw;
	struct stat st;

	if (mkdir(home, 0700) < 0 && errno != EEXIST) {
		*err_out = xasprintf("%s: %s", home, strerror(errno));
		xfree(home);
		return -1;
	}
	if (stat(home, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*err_out = xasprintf("%s: not a directory", home);
		xfree(home);
		return -1;
	}
	if (geteuid() == 0 && (pw = getpwnam(cfg->run_user)) != NULL &&
	    st.st_uid != pw->pw_uid &&
	    chown(home, pw->pw_uid, pw->pw_gid) < 0) {
		*err_out = xasprintf("%s: chown: %s", home, strerror(errno));
		xfree(home);
		return -1;
	}
	(void)chmod(home, 0700);
	xfree(home);
	return 0;
}

struct pgp_ctx *
policy_env_pgp(struct policy_env *env, char **err_out)
{
	char *home;

	if (env->pgp != NULL)
		return env->pgp;
	home = policy_pgp_home(env->cfg);
	env->pgp = pgp_ctx_new(home, err_out);
	xfree(home);
	if (env->pgp != NULL && env->cfg->pgp_sign_key != NULL &&
	    pgp_set_signer(env->pgp, env->cfg->pgp_sign_key, err_out) < 0)
		pgp_ctx_free(&env->pgp);
	return env->pgp;
}

void
policy_message_facts(const struct policy_conf *pc, const char *msg,
    size_t len, int *tag_out, int *already_encrypted_out)
{
	size_t which = 0;

	*tag_out = -1;
	if (pc->ntags > 0 && subject_tag_find(msg, len, pc->tag_names,
	    pc->ntags, &which, NULL) == 1)
		*tag_out = (int)which;
	*already_encrypted_out = smime_already_encrypted(msg, len);
}

void
policy_keys_release(struct policy_keys *k)
{
	if (k->smime_cert != NULL)
		X509_free(k->smime_cert);
	memset(k, 0, sizeof(*k));
}



/* local part as is, domain lower case (how the key store keeps them) */
static char *
addr_norm(const char *addr)
{
	char *a = xstrdup(addr), *at = strrchr(a, '@'), *p;

	if (at != NULL)
		for (p = at + 1; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	return a;
}

static int
addr_eq(const char *a, const char *b)
{
	const char *aa = strrchr(a, '@'), *ba = strrchr(b, '@');

	return aa != NULL && ba != NULL && aa - a == ba - b &&
	    memcmp(a, b, (size_t)(aa - a)) == 0 && strcasecmp(aa, ba) == 0;
}

/*
 * wkd_discover - fetch addr's key by WKD once per wkd_cache, store the
 * keys naming addr in the key store (source "wkd": a key that differs
 * from an active one waits for review). 0, or -1/-2 database error.
 */
static int
wkd_discover(struct policy_env *env, const char *addr, struct policy_keys *k,
    char **err_out)
{
	const struct sg_config *cfg = env->cfg;
	struct pgp_key_info *info = NULL;
	struct pgp_ctx *pc;
	const char *method = NULL;
	struct buf key;
	char why[300];
	size_t n = 0, i, j;
	int found = 0, r;

	r = key_lookup_fresh(env->db, addr, "wkd", cfg->wkd_cache, &found,
	    err_out);
	if (r != 0)
		return r < 0 ? r : 0;
	if ((pc = policy_env_pgp(env, err_out)) == NULL)
		return -1;
	buf_init(&key, WKD_MAX_KEY + 1);
	r = wkd_fetch(addr, env->dns, cfg->delivery_ca_file, cfg->wkd_timeout,
	    &key, &method, why, sizeof(why));
	if (r < 0) {
		/* temporary: not cached, tried again with the next message */
		str_appendf(k->note, sizeof(k->note), "; ",
		    "WKD lookup failed: %s", why);
		buf_free(&key);
		return 0;
	}
	if (r == 0) {
		str_appendf(k->note, sizeof(k->note), "; ",
		    "WKD: no key (%s)", why);
		buf_free(&key);
		return key_lookup_note(env->db, addr, "wkd", 0, why, err_out);
	}
	if (pgp_key_inspect(pc, buf_cstr(&key), key.len, &info, &n,
	    err_out) < 0) {
		str_appendf(k->note, sizeof(k->note), "; ",
		    "WKD key unusable: %s", *err_out);
		xfree(*err_out);
		*err_out = NULL;
		buf_free(&key);
		return key_lookup_note(env->db, addr, "wkd", 0,
		    "key data refused", err_out);
	}
	found = 0;
	for (i = 0; i < n && r >= 0; i++)
		for (j = 0; j < info[i].nemails; j++) {
			struct key_new kn;
			long long id;
			char status[16], fpr[PGP_FPR_SIZE], *p;

			if (!addr_eq(info[i].emails[j], addr))
				continue;
			snprintf(fpr, sizeof(fpr), "%s", info[i].fpr);
			for (p = fpr; *p != '\0'; p++)
				if (*p >= 'A' && *p <= 'F')
					*p = (char)(*p - 'A' + 'a');
			memset(&kn, 0, sizeof(kn));
			kn.kind = "pgp";
			kn.address = addr;
			kn.fingerprint = fpr;
			kn.source = "wkd";
			kn.not_before = info[i].created;
			kn.not_after = info[i].expires;
			kn.material = (const unsigned char *)buf_cstr(&key);
			kn.material_len = key.len;
			kn.note = method;
			r = key_db_add(env->db, &kn, &id, status, err_out);
			if (r == 0) {
				found = 1;
				str_appendf(k->note, sizeof(k->note), "; ",
				    "WKD (%s) found key %s: %s", method, fpr,
				    status);
			}
			break;
		}
	pgp_key_info_free(info, n);
	buf_free(&key);
	if (r < 0)
		return r;
	if (!found)
		str_appendf(k->note, sizeof(k->note), "; ",
		    "WKD key names no user ID <%s>", addr);
	return key_lookup_note(env->db, addr, "wkd", found, method, err_out);
}

/* pgp_lookup - the recipient's usable PGP key; *state for decide() */
static int
pgp_lookup(struct policy_env *env, const char *addr, struct policy_keys *k,
    enum key_state *state, char **err_out)
{
	struct key_row *rows = NULL;
	size_t n = 0, i;
	int r, tried_wkd = 0;

again:
	r = key_db_find(env->db, "pgp", addr, (long long)time(NULL), &rows,
	    &n, state, err_out);
	if (r < 0)
		return r;
	if (*state == KEY_NONE && !tried_wkd && env->cfg->wkd_enabled &&
	    env->dns != NULL && !env->offline) {
		tried_wkd = 1;
		key_rows_free(rows, n);
		if ((r = wkd_discover(env, addr, k, err_out)) < 0)
			return r;
		goto again;
	}
	if (*state != KEY_OK || env->offline) {
		if (*state == KEY_OK) {
			snprintf(k->pgp_fpr, sizeof(k->pgp_fpr), "%s",
			    rows[0].fingerprint);
			k->pgp_id = rows[0].id;
			str_appendf(k->note, sizeof(k->note), "; ",
			    "pgp key %s (%s)", rows[0].fingerprint,
			    rows[0].source);
		}
		key_rows_free(rows, n);
		return 0;
	}
	/* the key store says active; the keyring has the last word
	 * (revocation, expiry of the encryption subkey) */
	*state = KEY_NONE;
	for (i = 0; i < n; i++) {
		struct pgp_ctx *pc = policy_env_pgp(env, err_out);
		char why[120];
		int c;

		if (pc == NULL) {
			key_rows_free(rows, n);
			return -1;
		}
		c = pgp_key_check(pc, rows[i].fingerprint, addr, why,
		    sizeof(why));
		if (c == 0 && strcmp(why, "not in keyring") == 0) {
			char *fprs = NULL, *e = NULL;
			if (pgp_key_import(pc, (const char *)rows[i].material,
			    rows[i].material_len, &fprs, &e) > 0)
				c = pgp_key_check(pc, rows[i].fingerprint, addr,
				    why, sizeof(why));
			xfree(fprs);
			xfree(e);
		}
		if (c == 1) {
			snprintf(k->pgp_fpr, sizeof(k->pgp_fpr), "%s",
			    rows[i].fingerprint);
			k->pgp_id = rows[i].id;
			*state = KEY_OK;
			str_appendf(k->note, sizeof(k->note), "; ",
			    "pgp key %s (%s)", rows[i].fingerprint,
			    rows[i].source);
			break;
		}
		str_appendf(k->note, sizeof(k->note), "; ",
		    "pgp key %s: %s", rows[i].fingerprint, why);
		if (*state == KEY_NONE)
			*state = strstr(why, "expired") != NULL ? KEY_EXPIRED :
			    KEY_REVOKED;
	}
	key_rows_free(rows, n);
	return 0;
}

/* smime_lookup - the recipient's usable certificate */
static int
smime_lookup(struct policy_env *env, const char *addr, struct policy_keys *k,
    enum key_state *state, char **err_out)
{
	struct key_row *rows = NULL;
	size_t n = 0, i;
	int r;

	r = key_db_find(env->db, "smime", addr, (long long)time(NULL), &rows,
	    &n, state, err_out);
	if (r < 0 || *state != KEY_OK) {
		key_rows_free(rows, n);
		return r;
	}
	*state = KEY_NONE;
	for (i = 0; i < n; i++) {
		char why[120], *e = NULL;
		X509 *c = smime_cert_from_mem((const char *)rows[i].material,
		    rows[i].material_len, &e);

		if (c == NULL) {
			str_appendf(k->note, sizeof(k->note), "; ",
			    "certificate %.16s: %s", rows[i].fingerprint,
			    e);
			xfree(e);
			*state = KEY_REVOKED;
			continue;
		}
		if (smime_cert_usable(c, addr, time(NULL), why,
		    sizeof(why)) == 1) {
			k->smime_cert = c;
			k->smime_id = rows[i].id;
			k->smime_cipher = (enum smime_cipher)
			    env->cfg->smime_cipher;
			if (rows[i].smime_cipher != NULL)
				k->smime_cipher = strcmp(rows[i].smime_cipher,
				    "cbc") == 0 ? SMIME_AES256_CBC :
				    SMIME_AES256_GCM;
			*state = KEY_OK;
			str_appendf(k->note, sizeof(k->note), "; ",
			    "S/MIME certificate %.16s (%s, %s)",
			    rows[i].fingerprint, rows[i].source,
			    k->smime_cipher == SMIME_AES256_CBC ?
			    "AES-256-CBC" : "AES-256-GCM");
			break;
		}
		X509_free(c);
		str_appendf(k->note, sizeof(k->note), "; ",
		    "certificate %.16s: %s", rows[i].fingerprint, why);
		*state = strstr(why, "expired") != NULL ||
		    strstr(why, "not yet valid") != NULL ? KEY_EXPIRED :
		    KEY_REVOKED;
	}
	key_rows_free(rows, n);
	return 0;
}

static int
plan_uses(const struct decide_plan *p, enum pol_method m)
{
	size_t i;

	for (i = 0; i < p->nsteps; i++)
		if (p->steps[i].method == m)
			return 1;
	return 0;
}

int
policy_recipient(struct policy_env *env, struct decide_input *in,
    struct decide_plan *plan, struct policy_keys *keys, char **err_out)
{
	char *addr;
	int r = 0;

	memset(keys, 0, sizeof(*keys));
	if (!env->have_rules || now_ms() - env->rules_at >=
	    POLICY_RULES_TTL_MS) {
		struct rule_set fresh;
		r = rule_db_load(env->db, &fresh, err_out);
		if (r < 0)
			return r;
		if (env->have_rules)
			rule_set_free(&env->rules);
		env->rules = fresh;
		env->have_rules = 1;
		env->rules_at = now_ms();
	}
	in->rules = env->rules.rules;
	in->nrules = env->rules.n;
	in->dflt = env->pc->dflt;
	in->tags = env->pc->tags;
	in->ntags = env->pc->ntags;

	/* keys matter only when the plan could use them */
	in->pgp = in->smime = KEY_OK;
	decide(in, plan);
	if (!plan_uses(plan, PM_PGP) && !plan_uses(plan, PM_SMIME))
		return 0;
	addr = addr_norm(in->rcpt);
	in->pgp = in->smime = KEY_NONE;
	if (plan_uses(plan, PM_PGP))
		r = pgp_lookup(env, addr, keys, &in->pgp, err_out);
	if (r == 0 && plan_uses(plan, PM_SMIME))
		r = smime_lookup(env, addr, keys, &in->smime, err_out);
	xfree(addr);
	if (r < 0)
		return r;
	decide(in, plan);
	if (keys->note[0] != '\0') {
		size_t l = strlen(plan->reason);
		snprintf(plan->reason + l, sizeof(plan->reason) - l, " [%s]",
		    keys->note);
	}
	return 0;
}

int
policy_domain_cached(struct db *db, const char *domain,
    struct decide_input *in, char **err_out)
{
	struct domain_status st;
	struct mta_sts_policy *sts = NULL;
	int r;

	in->tls_capable = -1;
	in->dane = -1;
	in->mta_sts_enforce = 0;
	memset(&st, 0, sizeof(st));
	r = domain_db_get(db, domain, &st, err_out);
	if (r < 0)
		return r;
	if (r == 1) {
		if (st.probed_at != 0)
			in->tls_capable = st.tls_capable;
		in->dane = st.dane;
		domain_status_release(&st);
	}
	r = mta_sts_cache_load(db, domain, &sts, err_out);
	if (r < 0)
		return r;
	in->mta_sts_enforce = r == 1 && sts != NULL &&
	    sts->mode == MTA_STS_MODE_ENFORCE &&
	    (long long)sts->expires_at > (long long)time(NULL);
	mta_sts_policy_free(&sts);
	return 0;
}
