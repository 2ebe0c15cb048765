/*
 * decide.c - rules, escalation tags and fallback chains into a plan.
 * Pure: see decide.h. Everything a plan depends on is in decide_input,
 * so `sealgate policy preview` and delivery agree by construction.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "lib/strjoin.h"

static const char *const method_names[] = {
	[PM_TLS] = "tls", [PM_PGP] = "pgp", [PM_SMIME] = "smime",
	[PM_ESCROW] = "escrow", [PM_PLAIN] = "plain", [PM_ASIS] = "as-is",
};
static const char *const floor_names[] = {
	[PF_ENCRYPT] = "encrypt", [PF_VERIFY] = "verify",
	[PF_MTA_STS] = "mta-sts", [PF_DANE] = "dane",
};

const char *
policy_method_name(enum pol_method m)
{
	return (unsigned)m < sizeof(method_names) / sizeof(method_names[0]) ?
	    method_names[m] : "?";
}

const char *
policy_floor_name(enum pol_floor f)
{
	return (unsigned)f < sizeof(floor_names) / sizeof(floor_names[0]) ?
	    floor_names[f] : "?";
}

int
decide_domain_listed(const char *domain, const char *const *list, size_t n)
{
	size_t dl = strlen(domain), i;

	for (i = 0; i < n; i++) {
		const char *e = list[i];
		size_t el = strlen(e);
		if (e[0] == '.') {
			if (dl > el && strcasecmp(domain + dl - el, e) == 0)
				return 1;
		} else if (strcasecmp(domain, e) == 0) {
			return 1;
		}
	}
	return 0;
}

int
policy_floor_parse(const char *text, enum pol_floor *f)
{
	size_t i;

	for (i = 0; i < sizeof(floor_names) / sizeof(floor_names[0]); i++)
		if (strcasecmp(text, floor_names[i]) == 0) {
			*f = (enum pol_floor)i;
			return 0;
		}
	return -1;
}

int
policy_chain_parse(const char *text, struct policy_chain *c, char *why,
    size_t whylen)
{
	const char *p = text;
	unsigned seen = 0;

	c->n = 0;
	while (*p != '\0') {
		const char *e = p;
		size_t len, i;
		int found = -1;

		while (*e != '\0' && *e != ',')
			e++;
		len = (size_t)(e - p);
		for (i = 0; i <= PM_PLAIN; i++)
			if (strlen(method_names[i]) == len &&
			    strncasecmp(p, method_names[i], len) == 0)
				found = (int)i;
		if (found < 0) {
			snprintf(why, whylen, "unknown method \"%.*s\" (tls, "
			    "pgp, smime, escrow, plain)", (int)(len > 20 ? 20 :
			    len), p);
			return -1;
		}
		if (seen & (1u << found)) {
			snprintf(why, whylen, "method %s given twice",
			    method_names[found]);
			return -1;
		}
		if (c->n > 0 && (c->m[c->n - 1] == PM_ESCROW ||
		    c->m[c->n - 1] == PM_PLAIN)) {
			snprintf(why, whylen, "nothing may follow %s in a "
			    "chain", method_names[c->m[c->n - 1]]);
			return -1;
		}
		seen |= 1u << found;
		c->m[c->n++] = (enum pol_method)found;
		p = *e == ',' ? e + 1 : e;
		if (*e == ',' && *p == '\0') {
			snprintf(why, whylen, "empty method after ','");
			return -1;
		}
	}
	if (c->n == 0) {
		snprintf(why, whylen, "empty chain");
		return -1;
	}
	return 0;
}

void
policy_chain_format(const struct policy_chain *c, char *out, size_t n)
{
	size_t i, l = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < c->n && l < n; i++) {
		int k = snprintf(out + l, n - l, "%s%s", i ? "," : "",
		    policy_method_name(c->m[i]));
		if (k < 0)
			break;
		l += (size_t)k;
	}
}

static int
domain_ok(const char *d)
{
	size_t i, n = strlen(d);

	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)d[i];
		if (!(ch == '.' || ch == '-' || (ch >= '0' && ch <= '9') ||
		    (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    ch >= 0x80))
			return 0;
		if (ch == '.' && d[i + 1] == '.')
			return 0;
	}
	return 1;
}

int
policy_pattern_valid(const char *pat)
{
	const char *at;

	if (strcmp(pat, "*") == 0 || strcmp(pat, "<>") == 0)
		return 1;
	if (pat[0] == '@')
		return domain_ok(pat + 1);
	if (pat[0] == '*' && pat[1] == '.')
		return domain_ok(pat + 2);
	at = strrchr(pat, '@');
	if (at == NULL || at == pat || strlen(pat) > 254)
		return 0;
	for (const char *p = pat; p < at; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	return domain_ok(at + 1);
}

int
policy_pattern_match(const char *pat, const char *addr)
{
	const char *at = strrchr(addr, '@');
	const char *dom = at != NULL ? at + 1 : "";

	if (strcmp(pat, "*") == 0)
		return 1;
	if (strcmp(pat, "<>") == 0)
		return addr[0] == '\0';
	if (addr[0] == '\0' || at == NULL)
		return 0;
	if (pat[0] == '@')
		return strcasecmp(pat + 1, dom) == 0;
	if (pat[0] == '*' && pat[1] == '.') {
		size_t dl = strlen(dom), pl = strlen(pat + 1);	/* ".x.y" */
		return dl > pl && strcasecmp(dom + dl - pl, pat + 1) == 0;
	}
	{
		const char *pat_at = strrchr(pat, '@');
		if (pat_at == NULL || (size_t)(pat_at - pat) !=
		    (size_t)(at - addr))
			return 0;
		return memcmp(pat, addr, (size_t)(at - addr)) == 0 &&
		    strcasecmp(pat_at + 1, dom) == 0;
	}
}

int
policy_tag_parse(char *item, struct policy_tag *t, char *why, size_t whylen)
{
	char *eq = strchr(item, '=');
	char *p;

	if (eq == NULL || eq == item) {
		snprintf(why, whylen, "escalation tag \"%.40s\": want "
		    "TAG=METHOD[,METHOD...]", item);
		return -1;
	}
	*eq = '\0';
	for (p = item; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f) {
			snprintf(why, whylen, "escalation tag \"%.40s\": no "
			    "spaces or control characters", item);
			return -1;
		}
	memset(t, 0, sizeof(*t));
	t->tag = item;
	t->chain.floor = PF_ENCRYPT;
	t->chain.bounce = 0;
	if (policy_chain_parse(eq + 1, &t->chain, why, whylen) < 0)
		return -1;
	return 0;
}

/*
 * How much a chain protects, at its weakest: any of its methods may end
 * up carrying the message. plain < tls (by floor) < end-to-end/escrow.
 */
static int
chain_strength(const struct policy_chain *c)
{
	int s = 100;
	size_t i;

	for (i = 0; i < c->n; i++) {
		int m;
		switch (c->m[i]) {
		case PM_PLAIN:
			m = 0;
			break;
		case PM_TLS:
			m = 10 + (int)c->floor;
			break;
		default:
			m = 20;
			break;
		}
		if (m < s)
			s = m;
	}
	return s;
}



static const struct policy_rule *
first_rule(const struct decide_input *in, const char *tag)
{
	size_t i;

	for (i = 0; i < in->nrules; i++) {
		const struct policy_rule *r = &in->rules[i];
		if ((tag == NULL) != (r->tag == NULL))
			continue;
		if (tag != NULL && strcasecmp(tag, r->tag) != 0)
			continue;
		if (policy_pattern_match(r->sender, in->sender) &&
		    policy_pattern_match(r->rcpt, in->rcpt))
			return r;
	}
	return NULL;
}

static const char *
key_state_why(enum key_state k)
{
	switch (k) {
	case KEY_NONE:
		return "no key";
	case KEY_EXPIRED:
		return "key expired";
	case KEY_REVOKED:
		return "key revoked or unusable";
	case KEY_PENDING:
		return "key awaits admin review";
	default:
		return "usable key";
	}
}

/* the floor every SMTP hop to the domain keeps, whatever the method */
static void
hop_floor(const struct decide_input *in, struct policy_step *s, char *why,
    size_t n)
{
	s->level = in->default_level;
	s->mta_sts = 0;
	if (decide_domain_listed(in->domain, in->forced_tls, in->nforced) &&
	    s->level < TLS_LEVEL_ENCRYPT) {
		s->level = TLS_LEVEL_ENCRYPT;
		str_appendf(why, n, NULL,
		    "; %s is on the forced-TLS list: TLS required",
		    in->domain);
	}
	if (in->tls_capable == 1 && s->level < TLS_LEVEL_ENCRYPT) {
		s->level = TLS_LEVEL_ENCRYPT;
		str_appendf(why, n, NULL,
		    "; %s was probed TLS-capable: TLS required "
		    "(sticky)", in->domain);
	}
	/* RFC 8461 4.2: enforce means a PKIX-valid, name-matched MX */
	if (in->mta_sts_enforce) {
		s->mta_sts = 1;
		if (s->level < TLS_LEVEL_VERIFY) {
			s->level = TLS_LEVEL_VERIFY;
			str_appendf(why, n, NULL,
			    "; %s has an MTA-STS enforce policy: "
			    "verified TLS to a policy MX", in->domain);
		}
	}
	/* RFC 8689 4.2.1: REQUIRETLS needs an authenticated TLS hop */
	if (in->requiretls && s->level < TLS_LEVEL_VERIFY) {
		s->level = TLS_LEVEL_VERIFY;
		str_appendf(why, n, NULL,
		    "; message carries REQUIRETLS: verified TLS "
		    "required");
	}
}

/* the chain's "tls" step, or 0 when it cannot work (why says so) */
static int
tls_step(const struct decide_input *in, const struct policy_chain *c,
    const struct policy_step *hop, struct policy_step *s, char *why,
    size_t n)
{
	*s = *hop;
	s->method = PM_TLS;
	switch (c->floor) {
	case PF_MTA_STS:
		if (!in->mta_sts_enforce) {
			str_appendf(why, n, NULL,
			    "; tls skipped: %s has no MTA-STS "
			    "enforce policy", in->domain);
			return 0;
		}
		break;
	case PF_DANE:
		if (in->dane == 0) {
			str_appendf(why, n, NULL,
			    "; tls skipped: %s has no DANE TLSA "
			    "records", in->domain);
			return 0;
		}
		s->level = TLS_LEVEL_DANE;
		s->dane_required = 1;
		break;
	case PF_VERIFY:
		if (s->level < TLS_LEVEL_VERIFY)
			s->level = TLS_LEVEL_VERIFY;
		break;
	default:
		if (s->level < TLS_LEVEL_ENCRYPT)
			s->level = TLS_LEVEL_ENCRYPT;
		break;
	}
	/* probed without STARTTLS: skip, unless a policy the domain
	 * published (MTA-STS enforce, TLSA records) says it does TLS, when
	 * the missing STARTTLS is a downgrade to be resisted, not obeyed */
	if (in->tls_capable == 0 && !in->mta_sts_enforce &&
	    !(s->dane_required && in->dane == 1)) {
		str_appendf(why, n, NULL,
		    "; tls skipped: %s was probed without STARTTLS",
		    in->domain);
		return 0;
	}
	return 1;
}

void
decide(const struct decide_input *in, struct decide_plan *out)
{
	const struct policy_rule *r0, *rt = NULL;
	const struct policy_chain *chain;
	struct policy_step hop;
	char chs[64], hopwhy[300];
	size_t i, n = sizeof(out->reason);
	int asis = 0;

	memset(out, 0, sizeof(*out));
	out->tag = -1;

	/* the rule for the message as it is, without tags */
	r0 = first_rule(in, NULL);
	chain = r0 != NULL ? &r0->chain : &in->dflt;
	out->rule_id = r0 != NULL ? r0->id : 0;
	policy_chain_format(chain, chs, sizeof(chs));
	if (r0 != NULL)
		str_appendf(out->reason, n, NULL,
		    "rule %lld (%.80s -> %.80s): %s", r0->id,
		    r0->sender, r0->rcpt, chs);
	else
		str_appendf(out->reason, n, NULL,
		    "no rule matches: default %s", chs);

	/* an escalation tag: its own rule or its default chain, but only
	 * when that protects at least as much (a tag never lowers) */
	if (in->tag >= 0 && (size_t)in->tag < in->ntags) {
		const struct policy_tag *t = &in->tags[in->tag];
		const struct policy_chain *tc;

		out->tag = in->tag;
		rt = first_rule(in, t->tag);
		tc = rt != NULL ? &rt->chain : &t->chain;
		policy_chain_format(tc, chs, sizeof(chs));
		if (chain_strength(tc) >= chain_strength(chain)) {
			chain = tc;
			out->rule_id = rt != NULL ? rt->id : -1;
			if (rt != NULL)
				str_appendf(out->reason, n, NULL,
				    "; tag %s: rule %lld: %s",
				    t->tag, rt->id, chs);
			else
				str_appendf(out->reason, n, NULL,
				    "; tag %s escalates to %s",
				    t->tag, chs);
		} else {
			str_appendf(out->reason, n, NULL,
			    "; tag %s (%s) would lower "
			    "protection: ignored", t->tag, chs);
		}
	}
	if (in->escrow_notice) {
		static const struct policy_chain plain_only = {
			.m = { PM_PLAIN }, .n = 1, .floor = PF_ENCRYPT,
			.bounce = 0,
		};
		chain = &plain_only;
		out->rule_id = 0;
		out->tag = -1;
		str_appendf(out->reason, n, NULL,
		    "; escrow notification: ordinary mail, "
		    "never escrowed itself");
	}
	if (in->tls_required) {
		static const struct policy_chain tls_only = {
			.m = { PM_TLS }, .n = 1, .floor = PF_ENCRYPT,
			.bounce = 0,
		};
		chain = &tls_only;
		out->rule_id = 0;
		str_appendf(out->reason, n, NULL,
		    "; the message requires TLS (secure "
		    "reply): tls only");
	}
	if (chain->n > 0 && chain->m[0] == PM_TLS)
		str_appendf(out->reason, n, NULL, " (tls floor %s)",
		    policy_floor_name(chain->floor));
	out->bounce = chain->bounce;

	hopwhy[0] = '\0';
	memset(&hop, 0, sizeof(hop));
	hop_floor(in, &hop, hopwhy, sizeof(hopwhy));

	for (i = 0; i < chain->n && !asis; i++) {
		struct policy_step s;
		enum key_state k;

		memset(&s, 0, sizeof(s));
		switch (chain->m[i]) {
		case PM_TLS:
			if (!tls_step(in, chain, &hop, &s, out->reason, n))
				continue;
			break;
		case PM_PGP:
		case PM_SMIME:
		case PM_ESCROW:
			s = hop;
			if (in->already_encrypted) {
				s.method = PM_ASIS;
				asis = 1;
				str_appendf(out->reason, n, NULL,
				    "; already encrypted by "
				    "the sender: %s not applied, sent as is",
				    policy_method_name(chain->m[i]));
				break;
			}
			s.method = chain->m[i];
			if (s.method == PM_ESCROW) {
				if (!in->escrow_available)
					str_appendf(out->reason, n, NULL,
					    "; escrow portal "
					    "not available: defers");
				break;
			}
			k = s.method == PM_PGP ? in->pgp : in->smime;
			if (k != KEY_OK) {
				str_appendf(out->reason, n, NULL,
				    "; %s skipped: %s",
				    policy_method_name(s.method),
				    key_state_why(k));
				continue;
			}
			break;
		default:
			s = hop;
			s.method = PM_PLAIN;
			break;
		}
		out->steps[out->nsteps++] = s;
	}
	if (out->nsteps == 0) {
		str_appendf(out->reason, n, NULL, "; no method usable: %s",
		    out->bounce ? "bounce" : "defer");
		out->level = hop.level;
		out->mta_sts = hop.mta_sts;
		out->method = "none";
	} else {
		const struct policy_step *s = &out->steps[0];

		str_appendf(out->reason, n, NULL, "; plan:");
		for (i = 0; i < out->nsteps; i++)
			str_appendf(out->reason, n, NULL,
			    "%s%s@%s", i ? "," : " ",
			    policy_method_name(out->steps[i].method),
			    tls_level_name(out->steps[i].level));
		if (out->bounce)
			str_appendf(out->reason, n, NULL, ", then bounce");
		out->level = s->level;
		out->mta_sts = s->mta_sts;
		out->method = policy_method_name(s->method);
	}
	if (hopwhy[0] != '\0')
		str_appendf(out->reason, n, NULL, "%s", hopwhy);
}
