/*
 * outbound.c - the outbound resolver, TLS and SMTP client settings from
 * the configuration, in one place (see outbound.h).
 */
#include <string.h>

#include "outbound.h"
#include "tls_client.h"

void
outbound_dns_conf(const struct sg_config *cfg, struct dns_conf *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->forwarders = (const char *const *)cfg->dns_forwarders;
	dc->nforwarders = cfg->ndns_forwarders;
	dc->trust_anchor_file = cfg->dns_trust_anchor_file;
	dc->allow_zones = (const char *const *)cfg->dns_allow_zones;
	dc->nallow_zones = cfg->ndns_allow_zones;
	dc->ipv6 = 1;
}

SSL_CTX *
outbound_tls_ctx(const struct sg_config *cfg, char **err_out)
{
	struct tls_client_conf tc;

	memset(&tc, 0, sizeof(tc));
	tc.min_version = cfg->delivery_tls_min_version;
	tc.ciphers = cfg->tls_ciphers;
	tc.ciphersuites = cfg->tls_ciphersuites;
	tc.ca_file = cfg->delivery_ca_file;
	return tls_client_ctx_new(&tc, err_out);
}

void
outbound_client_conf(const struct sg_config *cfg, SSL_CTX *ctx,
    struct smtp_client_conf *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->helo_name = cfg->hostname;
	cc->tls_ctx = ctx;
	cc->tls_min_version = cfg->delivery_tls_min_version;
	cc->t.connect = cfg->connect_timeout;
	cc->t.greeting = cfg->helo_timeout;
	cc->t.ehlo = cfg->helo_timeout;
	cc->t.starttls = cfg->helo_timeout;
	cc->t.mail = cfg->mail_timeout;
	cc->t.rcpt = cfg->mail_timeout;
	cc->t.data_init = cfg->data_init_timeout;
	cc->t.data_block = cfg->data_xfer_timeout;
	cc->t.data_done = cfg->data_done_timeout;
	cc->t.quit = 30;
}

void
outbound_probe_conf(const struct sg_config *cfg, SSL_CTX *ctx,
    struct smtp_client_conf *cc)
{
	outbound_client_conf(cfg, ctx, cc);
	cc->t.connect = cfg->probe_timeout;
	cc->t.greeting = cfg->probe_timeout;
	cc->t.ehlo = cfg->probe_timeout;
	cc->t.starttls = cfg->probe_timeout;
	cc->t.quit = cfg->probe_timeout;
}
