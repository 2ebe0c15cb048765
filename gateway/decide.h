/*
 * decide.h - the one decision function of the delivery path. Pure (no
 * I/O): given the configuration's TLS policy and the message facts it
 * returns the plan for one recipient domain: the TLS level, and a
 * human-readable reason stored with every attempt. The policy issue
 * replaces its inside (rules, fallback chains) without changing callers.
 */
#ifndef SEALGATE_DECIDE_H
#define SEALGATE_DECIDE_H

#include <stddef.h>

#include "tls_client.h"

struct decide_input {
	const char *domain;		/* recipient domain, lower case */
	int requiretls;			/* the message carries REQUIRETLS */
	enum tls_level default_level;	/* delivery_tls_level */
	const char *const *forced_tls;	/* forced_tls_domains */
	size_t nforced;
	/* what the domain TLS cache knows (MX-routed mail only) */
	int tls_capable;		/* 1: sticky TLS, never plaintext */
	int mta_sts_enforce;		/* an MTA-STS enforce policy applies */
};

struct decide_plan {
	enum tls_level level;		/* floor for every MX host; DANE
					 * (per host, RFC 7672) may raise it */
	int mta_sts;			/* hosts must match the policy, PKIX */
	const char *method;		/* "tls" (required) or "plain" */
	char reason[160];
};

void decide(const struct decide_input *in, struct decide_plan *out);

/* 1 if domain equals an entry, or is a subdomain of a ".example.com"
 * entry (leading dot: subdomains only, as Postfix's parent matching). */
int decide_domain_listed(const char *domain, const char *const *list,
    size_t n);

#endif
