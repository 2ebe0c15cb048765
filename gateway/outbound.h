/*
 * outbound.h - the outbound side's setup from the configuration, shared
 * by the roles and commands that talk to recipients' mail servers
 * (delivery, prober, `sealgate probe`): the DNS resolver settings, the
 * TLS client context and the SMTP client settings.
 * Library module: never logs.
 */
#ifndef SEALGATE_OUTBOUND_H
#define SEALGATE_OUTBOUND_H

#include "config.h"
#include "dns.h"
#include "smtp_client.h"

/* outbound_dns_conf - *dc from dns_forwarders, dns_trust_anchor_file and
 * dns_allow_zones (IPv6 on). dc points into cfg: keep cfg alive. */
void outbound_dns_conf(const struct sg_config *cfg, struct dns_conf *dc);

/*
 * outbound_tls_ctx - the delivery TLS client context (floor
 * delivery_tls_min_version, the smtp_tls_ciphers lists, CA
 * delivery_ca_file). NULL with *err_out (xfree()). SSL_CTX_free() it.
 */
SSL_CTX *outbound_tls_ctx(const struct sg_config *cfg, char **err_out);

/*
 * outbound_client_conf - *cc as delivery uses it: our EHLO name, ctx, the
 * floor and the delivery_*_timeout keys. Points into cfg and ctx.
 */
void outbound_client_conf(const struct sg_config *cfg, SSL_CTX *ctx,
    struct smtp_client_conf *cc);

/* outbound_probe_conf - the same with every stage of a probe session
 * (connect, greeting, EHLO, STARTTLS, QUIT) bounded by probe_timeout */
void outbound_probe_conf(const struct sg_config *cfg, SSL_CTX *ctx,
    struct smtp_client_conf *cc);

#endif
