/*
 * decide.c - TLS level per recipient domain (the policy issue extends it).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decide.h"

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

void
decide(const struct decide_input *in, struct decide_plan *out)
{
	enum tls_level lvl = in->default_level;

	out->reason[0] = '\0';
	if (decide_domain_listed(in->domain, in->forced_tls, in->nforced) &&
	    lvl < TLS_LEVEL_ENCRYPT) {
		lvl = TLS_LEVEL_ENCRYPT;
		snprintf(out->reason, sizeof(out->reason),
		    "%s is on the forced-TLS list: TLS required", in->domain);
	}
	/* sticky TLS: a domain seen doing TLS never gets plaintext */
	if (in->tls_capable && lvl < TLS_LEVEL_ENCRYPT) {
		lvl = TLS_LEVEL_ENCRYPT;
		snprintf(out->reason, sizeof(out->reason),
		    "%s was probed TLS-capable: TLS required (sticky)",
		    in->domain);
	}
	/* RFC 8461 4.2: enforce means a PKIX-valid, name-matched MX */
	out->mta_sts = in->mta_sts_enforce;
	if (in->mta_sts_enforce && lvl < TLS_LEVEL_VERIFY) {
		lvl = TLS_LEVEL_VERIFY;
		snprintf(out->reason, sizeof(out->reason),
		    "%s has an MTA-STS enforce policy: verified TLS to a "
		    "policy MX", in->domain);
	}
	/* RFC 8689 4.2.1: REQUIRETLS needs an authenticated TLS hop */
	if (in->requiretls && lvl < TLS_LEVEL_VERIFY) {
		lvl = TLS_LEVEL_VERIFY;
		snprintf(out->reason, sizeof(out->reason),
		    "message carries REQUIRETLS: verified TLS required");
	}
	if (out->reason[0] == '\0')
		snprintf(out->reason, sizeof(out->reason),
		    "default policy: TLS level %s", tls_level_name(lvl));
	out->level = lvl;
	out->method = lvl >= TLS_LEVEL_ENCRYPT ? "tls" : "plain";
}
