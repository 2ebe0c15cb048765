/*
 * config.c - load and check the sealgate configuration file.
 *
 * One key table drives parsing, defaults and the documentation check: each
 * key has a name, a type, the field it fills, its default in file syntax
 * (run through the same parser as a value from the file), a range or list
 * of names, an optional extra check and a help line.
 *
 * Paths: a relative path in the file is resolved against the directory
 * holding the file, so a config means the same whatever directory sealgate
 * is started from. The built-in state_dir default "./var" is resolved
 * against the working directory at load time.
 *
 * Trust: the file is the operator's, but it is parsed as hostile input (it
 * is fuzzed): every line, value and file read is bounded, values quoted in
 * messages are escaped and truncated. Cert and key files are read whole
 * (regular files only, at most SG_CONFIG_FILE_MAX bytes) and parsed from
 * memory, so a FIFO or /dev/zero cannot hang the check; key bytes are
 * wiped after parsing.
 * Errors: "FILE:LINE: reason" or "FILE: reason" in *err_out; never logged.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <libpq-fe.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "decide.h"
#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/sg_limits.h"
#include "lib/slice.h"
#include "lib/xalloc.h"

/* enum fields are written as int; make sure that is their size */
_Static_assert(sizeof(enum bare_lf_policy) == sizeof(int), "enum size");
_Static_assert(sizeof(enum eightbit_hdr_policy) == sizeof(int), "enum size");

#define CFG_WHY_MAX	1200	/* one reason, with a quoted value */
#define CFG_ESC_MAX	(SG_LOG_VALUE_MAX * 4 + 8) /* log_escape() out */
#define CFG_ITEM_MAX	128	/* one list item: address, network */

enum cfg_type {
	CFG_STRING,	/* char * */
	CFG_PATH,	/* char *, made absolute */
	CFG_BOOL,	/* int 0/1 */
	CFG_UINT,	/* unsigned in [min, max] */
	CFG_DURATION,	/* unsigned seconds in [min, max] */
	CFG_SIZE,	/* uint64_t bytes in [min, max] */
	CFG_ENUM,	/* int-sized enum; value = index in names[] */
	CFG_LOGLEVEL,	/* enum log_level */
	CFG_TLSVER,	/* int: TLS1_VERSION .. TLS1_3_VERSION */
	CFG_LISTEN,	/* struct sg_listen[], count at off_n */
	CFG_CIDRS,	/* struct cidr[], count at off_n */
	CFG_WORDS,	/* char *[], count at off_n; check() per item */
};

#define CFG_F_OPTIONAL	0x01	/* empty value: unset (NULL) */
#define CFG_F_EMPTY_OK	0x02	/* list may be empty */

struct cfg_loader;

struct cfg_key {
	const char *name;
	enum cfg_type type;
	unsigned flags;
	size_t off;			/* field in struct sg_config */
	size_t off_n;			/* element count of list types */
	const char *def;		/* default in file syntax, or NULL */
	int (*def_fn)(char *, size_t);	/* computed default */
	uint64_t min, max;		/* numeric types */
	const char *const *names;	/* CFG_ENUM, NULL-terminated */
	int (*check)(struct cfg_loader *, const char *);
	const char *help;
};

static int check_hostname(struct cfg_loader *, const char *);
static int check_user(struct cfg_loader *, const char *);
static int check_conninfo(struct cfg_loader *, const char *);
static int check_cert_file(struct cfg_loader *, const char *);
static int check_key_file(struct cfg_loader *, const char *);
static int check_tls_ciphers(struct cfg_loader *, const char *);
static int check_tls_ciphersuites(struct cfg_loader *, const char *);
static int default_hostname(char *, size_t);

static const char *const bare_lf_names[] = { "reject", "normalize", NULL };
static const char *const eightbit_names[] = { "accept", "reject", NULL };
/* the order of enum tls_level (crypto/tls_client.h) */
static const char *const tls_level_names[] = { "none", "may", "encrypt",
    "verify", NULL };

static int check_domain_item(struct cfg_loader *, const char *);
static int check_role_item(struct cfg_loader *, const char *);
static int check_route_item(struct cfg_loader *, const char *);
static int check_nexthop(struct cfg_loader *, const char *);
static int check_forwarder_item(struct cfg_loader *, const char *);
static int check_rpt_text(struct cfg_loader *, const char *);
static int check_rpt_address(struct cfg_loader *, const char *);
static int check_chain(struct cfg_loader *, const char *);
static int check_tags(struct cfg_loader *, const char *);
static int check_fingerprint(struct cfg_loader *, const char *);
static int check_readable(struct cfg_loader *, const char *);
static int check_color(struct cfg_loader *, const char *);
static int check_https_url(struct cfg_loader *, const char *);
static int check_loopback_hostport(struct cfg_loader *, const char *);

static const char *const floor_names[] = { "encrypt", "verify", "mta-sts",
    "dane", NULL };
static const char *const exhausted_names[] = { "defer", "bounce", NULL };
static const char *const smime_cipher_names[] = { "gcm", "cbc", NULL };

#define OFF(f)		offsetof(struct sg_config, f)

/* The key table. Order is the order of sealgate.conf.example. */
static const struct cfg_key cfg_keys[] = {
	/* general */
	{ .name = "hostname", .type = CFG_STRING, .off = OFF(hostname),
	  .def_fn = default_hostname, .check = check_hostname,
	  .help = "name in the greeting, EHLO and Received: headers" },
	{ .name = "state_dir", .type = CFG_PATH, .off = OFF(state_dir),
	  .def = "./var",
	  .help = "directory for the embedded database and runtime files" },
	{ .name = "user", .type = CFG_STRING, .off = OFF(run_user),
	  .def = "sealgate", .check = check_user,
	  .help = "unprivileged user roles switch to after binding sockets" },
	{ .name = "log_level", .type = CFG_LOGLEVEL, .off = OFF(log_level),
	  .def = "info", .help = "least severe level logged: debug, info, "
	  "warn, err" },

	/* database */
	{ .name = "database", .type = CFG_STRING, .flags = CFG_F_OPTIONAL,
	  .off = OFF(database), .check = check_conninfo,
	  .help = "libpq URL or conninfo; unset: embedded cluster" },
	{ .name = "embedded_db_port", .type = CFG_UINT,
	  .off = OFF(embedded_db_port), .def = "5439", .min = 1,
	  .max = 65535, .help = "port of the embedded PostgreSQL" },

	/* smtp ingress */
	{ .name = "smtp_listen", .type = CFG_LISTEN, .off = OFF(listen),
	  .off_n = OFF(nlisten), .def = "127.0.0.1:2525",
	  .help = "addresses the SMTP server listens on" },
	{ .name = "smtp_bare_lf", .type = CFG_ENUM, .off = OFF(bare_lf),
	  .def = "reject", .names = bare_lf_names,
	  .help = "message with bare LF or CR: reject or normalize" },
	{ .name = "smtp_8bit_headers", .type = CFG_ENUM,
	  .off = OFF(eightbit_headers), .def = "accept",
	  .names = eightbit_names,
	  .help = "8-bit header bytes without SMTPUTF8: accept or reject" },
	{ .name = "ingress_db_workers", .type = CFG_UINT,
	  .off = OFF(db_workers), .def = "4", .min = 1, .max = 256,
	  .help = "database connections that commit received mail" },

	/* tls */
	{ .name = "smtp_tls_cert_file", .type = CFG_PATH,
	  .flags = CFG_F_OPTIONAL, .off = OFF(tls_cert_file),
	  .check = check_cert_file,
	  .help = "PEM certificate (chain); unset: no STARTTLS" },
	{ .name = "smtp_tls_key_file", .type = CFG_PATH,
	  .flags = CFG_F_OPTIONAL, .off = OFF(tls_key_file),
	  .check = check_key_file,
	  .help = "PEM private key of smtp_tls_cert_file" },
	{ .name = "smtp_tls_min_version", .type = CFG_TLSVER,
	  .off = OFF(tls_min_version), .def = "TLSv1.2",
	  .help = "oldest TLS version accepted; never below TLSv1" },
	{ .name = "smtp_tls_ciphers", .type = CFG_STRING,
	  .off = OFF(tls_ciphers),
	  .def = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!CAMELLIA:!ARIA:!SEED:"
	  "!PSK:!SRP:!DSS", .check = check_tls_ciphers,
	  .help = "OpenSSL cipher list for TLS 1.2 and older" },
	{ .name = "smtp_tls_ciphersuites", .type = CFG_STRING,
	  .off = OFF(tls_ciphersuites),
	  .def = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
	  "TLS_AES_128_GCM_SHA256", .check = check_tls_ciphersuites,
	  .help = "OpenSSL ciphersuites for TLS 1.3" },
	{ .name = "smtp_require_tls", .type = CFG_BOOL,
	  .off = OFF(require_tls), .def = "no",
	  .help = "refuse MAIL until the client has done STARTTLS" },

	/* relay and auth */
	{ .name = "relay_networks", .type = CFG_CIDRS,
	  .flags = CFG_F_EMPTY_OK, .off = OFF(relay_networks),
	  .off_n = OFF(nrelay_networks), .def = "127.0.0.0/8 ::1/128",
	  .help = "clients that may relay without AUTH" },
	{ .name = "smtp_auth", .type = CFG_BOOL, .off = OFF(auth_enabled),
	  .def = "yes", .help = "offer AUTH (only ever under TLS)" },

	/* limits */
	{ .name = "message_size_limit", .type = CFG_SIZE,
	  .off = OFF(message_size_limit), .def = "25M", .min = 1024,
	  .max = 1024ULL * 1024 * 1024,
	  .help = "largest message accepted (SIZE), bytes" },
	{ .name = "smtp_recipient_limit", .type = CFG_UINT,
	  .off = OFF(recipient_limit), .def = "100", .min = 1, .max = 100000,
	  .help = "recipients per message" },
	{ .name = "smtp_idle_timeout", .type = CFG_DURATION,
	  .off = OFF(idle_timeout), .def = "300s", .min = 1, .max = 3600,
	  .help = "wait this long for a command" },
	{ .name = "smtp_data_timeout", .type = CFG_DURATION,
	  .off = OFF(data_timeout), .def = "600s", .min = 1, .max = 3600,
	  .help = "wait this long for more message data" },
	{ .name = "smtp_max_sessions", .type = CFG_UINT,
	  .off = OFF(max_sessions), .def = "1000", .min = 1, .max = 100000,
	  .help = "concurrent SMTP sessions" },
	{ .name = "smtp_max_sessions_per_client", .type = CFG_UINT,
	  .off = OFF(max_sessions_per_client), .def = "50", .min = 1,
	  .max = 100000, .help = "concurrent sessions from one address" },
	{ .name = "smtp_hard_error_limit", .type = CFG_UINT,
	  .off = OFF(hard_error_limit), .def = "10", .min = 1, .max = 1000,
	  .help = "bad commands before 421 and disconnect" },

	/* roles */
	{ .name = "roles", .type = CFG_WORDS, .off = OFF(roles),
	  .off_n = OFF(nroles), .def = "ingress delivery prober",
	  .check = check_role_item,
	  .help = "roles this node runs: ingress, delivery, prober" },

	/* delivery */
	{ .name = "delivery_workers", .type = CFG_UINT,
	  .off = OFF(delivery_workers), .def = "10", .min = 1, .max = 512,
	  .help = "concurrent outbound SMTP transactions" },
	{ .name = "delivery_per_destination", .type = CFG_UINT,
	  .off = OFF(delivery_per_destination), .def = "4", .min = 1,
	  .max = 512, .help = "concurrent transactions to one domain" },
	{ .name = "delivery_tls_level", .type = CFG_ENUM,
	  .off = OFF(delivery_tls_level), .def = "may",
	  .names = tls_level_names,
	  .help = "TLS level when nothing else applies" },
	{ .name = "forced_tls_domains", .type = CFG_WORDS,
	  .flags = CFG_F_EMPTY_OK, .off = OFF(forced_tls_domains),
	  .off_n = OFF(nforced_tls_domains), .def = "",
	  .check = check_domain_item,
	  .help = "domains that always get TLS (.example.com: subdomains)" },
	{ .name = "delivery_tls_min_version", .type = CFG_TLSVER,
	  .off = OFF(delivery_tls_min_version), .def = "TLSv1.2",
	  .help = "oldest TLS version used outbound; never below TLSv1" },
	{ .name = "delivery_ca_file", .type = CFG_PATH,
	  .flags = CFG_F_OPTIONAL, .off = OFF(delivery_ca_file),
	  .help = "CA bundle for the verify level; unset: system store" },
	{ .name = "delivery_port", .type = CFG_UINT,
	  .off = OFF(delivery_port), .def = "25", .min = 1, .max = 65535,
	  .help = "port of MX hosts" },
	{ .name = "routes", .type = CFG_WORDS, .flags = CFG_F_EMPTY_OK,
	  .off = OFF(routes), .off_n = OFF(nroutes), .def = "",
	  .check = check_route_item,
	  .help = "static routes domain=host:port, like transport maps" },
	{ .name = "smart_host", .type = CFG_STRING, .flags = CFG_F_OPTIONAL,
	  .off = OFF(smart_host), .check = check_nexthop,
	  .help = "send everything not routed to this host:port" },
	{ .name = "dns_forwarders", .type = CFG_WORDS, .flags = CFG_F_EMPTY_OK,
	  .off = OFF(dns_forwarders), .off_n = OFF(ndns_forwarders),
	  .def = "", .check = check_forwarder_item,
	  .help = "DNS servers (IP or IP@port); none: /etc/resolv.conf" },
	{ .name = "dns_trust_anchor_file", .type = CFG_PATH,
	  .flags = CFG_F_OPTIONAL, .off = OFF(dns_trust_anchor_file),
	  .help = "DNSSEC trust anchor file for validation" },
	{ .name = "dns_allow_zones", .type = CFG_WORDS, .flags = CFG_F_EMPTY_OK,
	  .off = OFF(dns_allow_zones), .off_n = OFF(ndns_allow_zones),
	  .def = "", .check = check_domain_item,
	  .help = "special-use zones to resolve anyway (RFC 6761), e.g. test" },
	{ .name = "delivery_lease", .type = CFG_DURATION,
	  .off = OFF(delivery_lease), .def = "600s", .min = 5, .max = 86400,
	  .help = "a claim on a recipient expires after this" },
	{ .name = "delivery_retry_min", .type = CFG_DURATION,
	  .off = OFF(retry_min), .def = "300s", .min = 1, .max = 86400,
	  .help = "first retry delay; doubles per attempt" },
	{ .name = "delivery_retry_max", .type = CFG_DURATION,
	  .off = OFF(retry_max), .def = "3600s", .min = 1, .max = 604800,
	  .help = "longest retry delay" },
	{ .name = "max_queue_lifetime", .type = CFG_DURATION,
	  .off = OFF(max_queue_lifetime), .def = "5d", .min = 1,
	  .max = 100 * 86400, .help = "undeliverable mail bounces after this" },
	{ .name = "delivery_connect_timeout", .type = CFG_DURATION,
	  .off = OFF(connect_timeout), .def = "30s", .min = 1, .max = 3600,
	  .help = "TCP connect" },
	{ .name = "delivery_helo_timeout", .type = CFG_DURATION,
	  .off = OFF(helo_timeout), .def = "300s", .min = 1, .max = 3600,
	  .help = "greeting, EHLO and STARTTLS replies" },
	{ .name = "delivery_mail_timeout", .type = CFG_DURATION,
	  .off = OFF(mail_timeout), .def = "300s", .min = 1, .max = 3600,
	  .help = "MAIL and RCPT replies" },
	{ .name = "delivery_data_init_timeout", .type = CFG_DURATION,
	  .off = OFF(data_init_timeout), .def = "120s", .min = 1, .max = 3600,
	  .help = "the 354 reply to DATA" },
	{ .name = "delivery_data_xfer_timeout", .type = CFG_DURATION,
	  .off = OFF(data_xfer_timeout), .def = "180s", .min = 1, .max = 3600,
	  .help = "each write of message data" },
	{ .name = "delivery_data_done_timeout", .type = CFG_DURATION,
	  .off = OFF(data_done_timeout), .def = "600s", .min = 1, .max = 3600,
	  .help = "the reply to the final dot" },

	/* prober */
	{ .name = "probe_interval", .type = CFG_DURATION,
	  .off = OFF(probe_interval), .def = "1d", .min = 10,
	  .max = 30 * 86400,
	  .help = "re-probe each domain seen recently this often" },
	{ .name = "probe_retry", .type = CFG_DURATION,
	  .off = OFF(probe_retry), .def = "1h", .min = 10, .max = 30 * 86400,
	  .help = "probe again this soon after an inconclusive probe" },
	{ .name = "probe_seen_days", .type = CFG_UINT,
	  .off = OFF(probe_seen_days), .def = "30", .min = 1, .max = 3650,
	  .help = "refresh domains mail went to in this many days" },
	{ .name = "probe_timeout", .type = CFG_DURATION,
	  .off = OFF(probe_timeout), .def = "30s", .min = 1, .max = 600,
	  .help = "each stage of a probe: connect, greeting, EHLO, STARTTLS" },
	{ .name = "probe_concurrency", .type = CFG_UINT,
	  .off = OFF(probe_concurrency), .def = "4", .min = 1, .max = 64,
	  .help = "domains probed at once by the prober role" },

	/* TLS-RPT */
	{ .name = "tls_rpt", .type = CFG_BOOL, .off = OFF(tls_rpt_enabled),
	  .def = "yes",
	  .help = "send daily TLS-RPT (RFC 8460) reports from the prober" },
	{ .name = "tls_rpt_org_name", .type = CFG_STRING,
	  .flags = CFG_F_OPTIONAL, .off = OFF(tls_rpt_org_name),
	  .check = check_rpt_text,
	  .help = "organization-name in reports; unset: hostname" },
	{ .name = "tls_rpt_contact", .type = CFG_STRING,
	  .flags = CFG_F_OPTIONAL, .off = OFF(tls_rpt_contact),
	  .check = check_rpt_text,
	  .help = "contact-info in reports; unset: postmaster@hostname" },
	{ .name = "tls_rpt_from", .type = CFG_STRING,
	  .flags = CFG_F_OPTIONAL, .off = OFF(tls_rpt_from),
	  .check = check_rpt_address,
	  .help = "From: of mailed reports; unset: tlsrpt-noreply@hostname" },
	{ .name = "tls_rpt_timeout", .type = CFG_DURATION,
	  .off = OFF(tls_rpt_timeout), .def = "60s", .min = 1, .max = 600,
	  .help = "one HTTPS report upload" },

	/* policy engine */
	{ .name = "policy_default", .type = CFG_STRING,
	  .off = OFF(policy_default), .def = "plain", .check = check_chain,
	  .help = "methods for mail no rule matches (tls,pgp,smime,escrow,"
	  "plain)" },
	{ .name = "policy_default_floor", .type = CFG_ENUM,
	  .off = OFF(policy_default_floor), .def = "encrypt",
	  .names = floor_names,
	  .help = "TLS floor of tls in policy_default" },
	{ .name = "policy_default_exhausted", .type = CFG_ENUM,
	  .off = OFF(policy_default_bounce), .def = "defer",
	  .names = exhausted_names,
	  .help = "policy_default used up: defer or bounce" },
	{ .name = "escalation_tags", .type = CFG_STRING,
	  .off = OFF(escalation_tags),
	  .def = "[secure]=escrow [escrow]=escrow [encrypt]=pgp,smime,escrow",
	  .check = check_tags,
	  .help = "Subject tags and the methods they escalate to" },
	{ .name = "pgp_home", .type = CFG_PATH, .flags = CFG_F_OPTIONAL,
	  .off = OFF(pgp_home),
	  .help = "GnuPG home of the gateway; unset: STATE_DIR/gnupg" },
	{ .name = "pgp_sign_key", .type = CFG_STRING, .flags = CFG_F_OPTIONAL,
	  .off = OFF(pgp_sign_key), .check = check_fingerprint,
	  .help = "fingerprint of the organization key that signs PGP mail" },
	{ .name = "pgp_outer_subject", .type = CFG_STRING,
	  .off = OFF(pgp_outer_subject), .def = "...", .check = check_rpt_text,
	  .help = "visible Subject of PGP/MIME mail (the real one is inside)" },
	{ .name = "smime_cipher", .type = CFG_ENUM, .off = OFF(smime_cipher),
	  .def = "gcm", .names = smime_cipher_names,
	  .help = "S/MIME content cipher unless the recipient's key says" },
	{ .name = "smime_sign_cert", .type = CFG_PATH, .flags = CFG_F_OPTIONAL,
	  .off = OFF(smime_sign_cert), .check = check_readable,
	  .help = "organization certificate (PEM, chain after it) to sign" },
	{ .name = "smime_sign_key", .type = CFG_PATH, .flags = CFG_F_OPTIONAL,
	  .off = OFF(smime_sign_key), .check = check_readable,
	  .help = "private key of smime_sign_cert" },
	{ .name = "smime_harvest", .type = CFG_BOOL, .off = OFF(smime_harvest),
	  .def = "no",
	  .help = "collect certificates from S/MIME-signed mail" },
	{ .name = "smime_ca_file", .type = CFG_PATH, .flags = CFG_F_OPTIONAL,
	  .off = OFF(smime_ca_file),
	  .help = "CAs a harvested certificate must chain to; unset: any" },
	{ .name = "wkd", .type = CFG_BOOL, .off = OFF(wkd_enabled),
	  .def = "no",
	  .help = "look up recipient PGP keys by Web Key Directory" },
	{ .name = "wkd_timeout", .type = CFG_DURATION, .off = OFF(wkd_timeout),
	  .def = "10s", .min = 1, .max = 120,
	  .help = "one WKD lookup" },
	{ .name = "wkd_cache", .type = CFG_DURATION, .off = OFF(wkd_cache),
	  .def = "1d", .min = 60, .max = 30 * 86400,
	  .help = "how long a WKD answer (found or not) is reused" },

	/* escrow portal */
	{ .name = "escrow", .type = CFG_BOOL, .off = OFF(escrow_enabled),
	  .def = "no",
	  .help = "escrow store and portal in use (plans may escrow)" },
	{ .name = "escrow_master_key_file", .type = CFG_PATH,
	  .flags = CFG_F_OPTIONAL, .off = OFF(escrow_master_key_file),
	  .help = "master key sealing escrowed mail; unset: STATE_DIR/escrow.key" },
	{ .name = "escrow_retention", .type = CFG_DURATION,
	  .off = OFF(escrow_retention), .def = "30d", .min = 3600,
	  .max = 3650u * 86400, .help = "escrowed mail is purged after this" },
	{ .name = "escrow_link_ttl", .type = CFG_DURATION,
	  .off = OFF(escrow_link_ttl), .def = "14d", .min = 600,
	  .max = 365u * 86400, .help = "how long an enrollment link works" },
	{ .name = "escrow_from", .type = CFG_STRING, .flags = CFG_F_OPTIONAL,
	  .off = OFF(escrow_from), .check = check_rpt_address,
	  .help = "sender of notifications; unset: secure-mail@HOSTNAME" },
	{ .name = "escrow_org_name", .type = CFG_STRING,
	  .flags = CFG_F_OPTIONAL, .off = OFF(escrow_org_name),
	  .check = check_rpt_text,
	  .help = "organization name on portal pages and mail; unset: HOSTNAME" },
	{ .name = "escrow_logo_url", .type = CFG_STRING,
	  .flags = CFG_F_OPTIONAL, .off = OFF(escrow_logo_url),
	  .check = check_https_url, .help = "https URL of a logo; unset: none" },
	{ .name = "escrow_color", .type = CFG_STRING, .off = OFF(escrow_color),
	  .def = "#1f4e79", .check = check_color,
	  .help = "accent colour of portal pages and mail (#rrggbb)" },
	{ .name = "escrow_support", .type = CFG_STRING,
	  .flags = CFG_F_OPTIONAL, .off = OFF(escrow_support),
	  .check = check_rpt_text,
	  .help = "support contact shown to recipients; unset: none" },
	{ .name = "escrow_hide_subject", .type = CFG_BOOL,
	  .off = OFF(escrow_hide_subject), .def = "no",
	  .help = "keep the Subject out of notification mail" },
	{ .name = "escrow_read_notice", .type = CFG_BOOL,
	  .off = OFF(escrow_read_notice), .def = "no",
	  .help = "tell the sender when the recipient first reads" },
	{ .name = "templates_dir", .type = CFG_PATH, .off = OFF(templates_dir),
	  .def = "templates",
	  .help = "notification and portal templates" },
	{ .name = "portal_listen", .type = CFG_LISTEN, .off = OFF(portal_listen),
	  .off_n = OFF(nportal_listen), .def = "127.0.0.1:8443",
	  .help = "HTTPS addresses of the portal (web role)" },
	{ .name = "portal_http_listen", .type = CFG_STRING,
	  .flags = CFG_F_OPTIONAL, .off = OFF(portal_http_listen),
	  .check = check_loopback_hostport,
	  .help = "plain HTTP on loopback behind a TLS proxy; unset: none" },
	{ .name = "portal_trusted_proxies", .type = CFG_CIDRS,
	  .flags = CFG_F_EMPTY_OK, .off = OFF(portal_trusted_proxies),
	  .off_n = OFF(nportal_trusted_proxies), .def = "",
	  .help = "X-Forwarded-For/-Proto honoured only from these" },
	{ .name = "portal_url", .type = CFG_STRING, .flags = CFG_F_OPTIONAL,
	  .off = OFF(portal_url), .check = check_https_url,
	  .help = "public https URL of the portal, for links; unset: "
	  "https://HOSTNAME:PORT" },
	{ .name = "portal_tls_cert_file", .type = CFG_PATH,
	  .flags = CFG_F_OPTIONAL, .off = OFF(portal_tls_cert_file),
	  .check = check_readable,
	  .help = "portal certificate (PEM); unset: smtp_tls_cert_file" },
	{ .name = "portal_tls_key_file", .type = CFG_PATH,
	  .flags = CFG_F_OPTIONAL, .off = OFF(portal_tls_key_file),
	  .check = check_readable,
	  .help = "portal key (PEM); unset: smtp_tls_key_file" },
	{ .name = "portal_threads", .type = CFG_UINT,
	  .off = OFF(portal_threads), .def = "4", .min = 1, .max = 256,
	  .help = "portal worker threads (a pool, not one per connection)" },
	{ .name = "portal_session_ttl", .type = CFG_DURATION,
	  .off = OFF(portal_session_ttl), .def = "30m", .min = 60,
	  .max = 86400, .help = "a portal session ends after this idle" },
	{ .name = "portal_reset_ttl", .type = CFG_DURATION,
	  .off = OFF(portal_reset_ttl), .def = "1h", .min = 300,
	  .max = 7 * 86400, .help = "how long a password reset link works" },
	{ .name = "portal_max_failures", .type = CFG_UINT,
	  .off = OFF(portal_max_failures), .def = "5", .min = 1, .max = 1000,
	  .help = "bad passwords before an account or address is locked" },
	{ .name = "portal_lockout", .type = CFG_DURATION,
	  .off = OFF(portal_lockout), .def = "15m", .min = 10,
	  .max = 86400, .help = "how long a lockout lasts" },
	{ .name = "portal_reply_max", .type = CFG_SIZE,
	  .off = OFF(portal_reply_max), .def = "10M", .min = 1024,
	  .max = 100u * 1024 * 1024, .help = "largest secure reply (with "
	  "attachments)" },

	/* supervisor */
	{ .name = "restart_backoff_max", .type = CFG_DURATION,
	  .off = OFF(restart_backoff_max), .def = "30s", .min = 1,
	  .max = 3600, .help = "longest wait before restarting a role" },
};

#define NKEYS	(sizeof(cfg_keys) / sizeof(cfg_keys[0]))

struct cfg_loader {
	struct sg_config *cfg;
	const char *name;		/* messages, relative paths */
	unsigned lineno;		/* line being parsed; 0: defaults */
	unsigned line[NKEYS];		/* line each key is set on, or 0 */
	char *filedir;			/* absolute; made when needed */
	SSL_CTX *scratch;		/* cipher list checks */
	X509 *cert;			/* smtp_tls_cert_file, parsed */
	EVP_PKEY *key;			/* smtp_tls_key_file, parsed */
	char why[CFG_WHY_MAX];		/* reason of the failed value */
	char *err;			/* the first error */
};

static int cfg_why(struct cfg_loader *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void cfg_error(struct cfg_loader *, unsigned, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* cfg_why - set the reason a value is refused; returns -1 */
static int
cfg_why(struct cfg_loader *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->why, sizeof(ld->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* cfg_message - new string "NAME:LINE: reason" (LINE 0: "NAME: reason") */
static char *
cfg_message(const char *name, unsigned lineno, const char *reason)
{
	struct buf b;
	char *s;

	buf_init(&b, SIZE_MAX / 2);
	if (lineno > 0)
		(void)buf_printf(&b, "%s:%u: %s", name, lineno, reason);
	else
		(void)buf_printf(&b, "%s: %s", name, reason);
	s = buf_steal(&b, NULL);
	if (s == NULL)
		s = xstrdup("configuration error (out of memory)");
	return s;
}

/* cfg_error - record the first error of this load */
static void
cfg_error(struct cfg_loader *ld, unsigned lineno, const char *fmt, ...)
{
	char reason[CFG_WHY_MAX + 128];
	va_list ap;

	if (ld->err != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	ld->err = cfg_message(ld->name, lineno, reason);
}

/* cfg_esc - s made fit to quote in a message: escaped, truncated */
static const char *
cfg_esc(char *out, size_t outsz, const char *s)
{
	return log_escape(out, outsz, s, strlen(s));
}

/* cfg_key_find - the table index of key[0..len), or -1 */
static int
cfg_key_find(const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strlen(cfg_keys[i].name) == len &&
		    memcmp(cfg_keys[i].name, key, len) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * Paths
 */

/* cfg_cwd - the working directory as a new string, or NULL */
static char *
cfg_cwd(void)
{
	char *p, *s;

	p = getcwd(NULL, 0);
	if (p == NULL)
		return NULL;
	s = xstrdup(p);
	free(p);
	return s;
}

/* cfg_join - new string "a/b" with the first alen bytes of a */
static char *
cfg_join(const char *a, size_t alen, const char *b)
{
	size_t n = alen + 1 + strlen(b) + 1;
	char *s = xmalloc(n);

	snprintf(s, n, "%.*s/%s", (int)alen, a, b);
	return s;
}

/* cfg_path_clean - "/a//b/./c/" as "/a/b/c"; ".." is kept (symlinks) */
static char *
cfg_path_clean(const char *path)
{
	const char *p = path, *seg;
	char *out = xmalloc(strlen(path) + 2);
	size_t n, o = 0;

	while (*p != '\0') {
		while (*p == '/')
			p++;
		seg = p;
		while (*p != '\0' && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		out[o++] = '/';
		memcpy(out + o, seg, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

/* cfg_filedir - absolute directory of the file being loaded, or NULL */
static const char *
cfg_filedir(struct cfg_loader *ld)
{
	const char *slash;
	char *cwd;

	if (ld->filedir != NULL)
		return ld->filedir;
	slash = strrchr(ld->name, '/');
	if (slash == ld->name) {
		ld->filedir = xstrdup("/");
	} else if (slash != NULL && ld->name[0] == '/') {
		ld->filedir = xstrndup(ld->name, (size_t)(slash - ld->name));
	} else {
		cwd = cfg_cwd();
		if (cwd == NULL)
			return NULL;
		if (slash == NULL) {
			ld->filedir = cwd;
		} else {
			/* CWD/NAME cut at NAME's last slash */
			ld->filedir = cfg_join(cwd, strlen(cwd), ld->name);
			ld->filedir[strlen(cwd) + 1 +
			    (size_t)(slash - ld->name)] = '\0';
			xfree(cwd);
		}
	}
	return ld->filedir;
}

/* cfg_resolve - v as an absolute path (see the file header for the base) */
static char *
cfg_resolve(struct cfg_loader *ld, const char *v)
{
	char *base = NULL, *joined, *clean;
	const char *dir;

	if (v[0] == '/')
		return cfg_path_clean(v);
	if (ld->lineno == 0) {
		base = cfg_cwd();
		dir = base;
	} else {
		dir = cfg_filedir(ld);
	}
	if (dir == NULL) {
		cfg_why(ld, "cannot determine the directory to resolve "
		    "relative path against: %s", strerror(errno));
		return NULL;
	}
	joined = cfg_join(dir, strlen(dir), v);
	clean = cfg_path_clean(joined);
	xfree(joined);
	xfree(base);
	return clean;
}

/* cfg_slurp - read fd to its end into b, at most SG_CONFIG_FILE_MAX
 * bytes. 0, or -1 with errno set (EFBIG: past the maximum). The bytes may
 * be a private key: the stack copy and a failed b are wiped. */
static int
cfg_slurp(int fd, struct buf *b)
{
	char chunk[4096];
	ssize_t n;
	int r = 0, e;

	buf_init(b, SG_CONFIG_FILE_MAX);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = (int)n;
			break;
		}
		if (buf_append(b, chunk, (size_t)n) < 0) {
			errno = b->len + (size_t)n > b->max ? EFBIG : ENOMEM;
			r = -1;
			break;
		}
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (r < 0) {
		e = errno;
		buf_free_secure(b);
		errno = e;
	}
	return r;
}

/* cfg_read_small - a whole regular file into b; see cfg_slurp() */
static int
cfg_read_small(struct cfg_loader *ld, const char *path, struct buf *b)
{
	char e[CFG_ESC_MAX];
	struct stat st;
	int fd, r, saved;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return cfg_why(ld, "cannot open '%s': %s",
		    cfg_esc(e, sizeof(e), path), strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cfg_why(ld, "'%s' is not a regular file",
		    cfg_esc(e, sizeof(e), path));
	}
	r = cfg_slurp(fd, b);
	saved = errno;
	close(fd);
	if (r == 0)
		return 0;
	if (saved == EFBIG)
		return cfg_why(ld, "'%s' is larger than %d bytes",
		    cfg_esc(e, sizeof(e), path), SG_CONFIG_FILE_MAX);
	return cfg_why(ld, "cannot read '%s': %s", cfg_esc(e, sizeof(e), path),
	    strerror(saved));
}

/*
 * Checks beyond the type: called with the parsed string value.
 */

/* check_hostname - a DNS name: LDH labels of 1..63, 255 in all */
static int
check_hostname(struct cfg_loader *ld, const char *v)
{
	char e[CFG_ESC_MAX];
	size_t i, label = 0, len = strlen(v);

	if (len > SG_SMTP_DOMAIN_MAX)
		goto bad;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '.') {
			if (label == 0 || v[i - 1] == '-')
				goto bad;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			goto bad;
		if (c == '-' && label == 0)
			goto bad;
		if (++label > 63)
			goto bad;
	}
	if (label == 0 || v[len - 1] == '-')
		goto bad;
	return 0;
bad:
	return cfg_why(ld, "'%s' is not a valid host name",
	    cfg_esc(e, sizeof(e), v));
}

/* check_user - a portable user name, and not root */
static int
check_user(struct cfg_loader *ld, const char *v)
{
	char e[CFG_ESC_MAX];
	size_t i, len = strlen(v);

	if (len > 32 || v[0] == '-')
		goto bad;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    c == '.'))
			goto bad;
	}
	/* the privilege drop is the point of this key */
	if (strcmp(v, "root") == 0)
		return cfg_why(ld, "'root' would leave every role privileged");
	return 0;
bad:
	return cfg_why(ld, "'%s' is not a valid user name",
	    cfg_esc(e, sizeof(e), v));
}

/* check_conninfo - libpq must be able to parse it */
static int
check_conninfo(struct cfg_loader *ld, const char *v)
{
	PQconninfoOption *opts;
	char *msg = NULL;
	size_t n;

	opts = PQconninfoParse(v, &msg);
	if (opts != NULL) {
		PQconninfoFree(opts);
		return 0;
	}
	if (msg == NULL)
		return cfg_why(ld, "cannot parse (out of memory)");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	cfg_why(ld, "not a valid libpq connection string: %.*s", (int)n, msg);
	PQfreemem(msg);
	return -1;
}

/* no_passphrase - PEM callback: never prompt on a terminal */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* check_cert_file - readable, and its first PEM block a certificate */
static int
check_cert_file(struct cfg_loader *ld, const char *path)
{
	char e[CFG_ESC_MAX];
	struct buf b;
	BIO *bio;
	X509 *x;

	if (cfg_read_small(ld, path, &b) < 0)
		return -1;
	bio = BIO_new_mem_buf(buf_cstr(&b), (int)b.len);
	x = bio != NULL ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) :
	    NULL;
	BIO_free(bio);
	buf_free(&b);
	ERR_clear_error();
	if (x == NULL)
		return cfg_why(ld, "'%s' holds no PEM certificate",
		    cfg_esc(e, sizeof(e), path));
	X509_free(ld->cert);
	ld->cert = x;
	return 0;
}

/* check_color - "#rrggbb" (it lands in style attributes) */
static int
check_color(struct cfg_loader *ld, const char *v)
{
	size_t i;

	if (v[0] != '#' || strlen(v) != 7)
		return cfg_why(ld, "want a colour as #rrggbb");
	for (i = 1; i < 7; i++)
		if (!isxdigit((unsigned char)v[i]))
			return cfg_why(ld, "want a colour as #rrggbb");
	return 0;
}

/* check_https_url - https://host[:port][/path], printable, no quotes */
static int
check_https_url(struct cfg_loader *ld, const char *v)
{
	const char *p;

	if (strncmp(v, "https://", 8) != 0 || v[8] == '\0' || v[8] == '/' ||
	    strlen(v) > 500)
		return cfg_why(ld, "want an https:// URL");
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("\"'<>\\`", *p) != NULL)
			return cfg_why(ld, "want an https:// URL (no spaces, "
			    "quotes or angle brackets)");
	return 0;
}

/* check_loopback_hostport - 127.x.x.x:port or [::1]:port */
static int
check_loopback_hostport(struct cfg_loader *ld, const char *v)
{
	const char *colon = strrchr(v, ':');
	uint64_t port;

	if (colon == NULL || num_parse_u64_str(colon + 1, 1, 65535, &port) < 0)
		return cfg_why(ld, "want host:port");
	if (!(strncmp(v, "127.", 4) == 0 || strncmp(v, "[::1]:", 6) == 0))
		return cfg_why(ld, "plain HTTP only on loopback (127.0.0.0/8 "
		    "or [::1]), behind a TLS-terminating proxy");
	return 0;
}

/* check_readable - a small file we can read (loaded by its user) */
static int
check_readable(struct cfg_loader *ld, const char *path)
{
	struct buf b;

	if (cfg_read_small(ld, path, &b) < 0)
		return -1;
	buf_free_secure(&b);
	return 0;
}

/* check_key_file - readable, an unencrypted PEM private key */
static int
check_key_file(struct cfg_loader *ld, const char *path)
{
	char e[CFG_ESC_MAX];
	struct buf b;
	EVP_PKEY *k;
	BIO *bio;

	if (cfg_read_small(ld, path, &b) < 0)
		return -1;
	bio = BIO_new_mem_buf(buf_cstr(&b), (int)b.len);
	k = bio != NULL ?
	    PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	buf_free_secure(&b);
	ERR_clear_error();
	if (k == NULL)
		return cfg_why(ld, "'%s' holds no unencrypted PEM private key",
		    cfg_esc(e, sizeof(e), path));
	EVP_PKEY_free(ld->key);
	ld->key = k;
	return 0;
}

/* cfg_scratch - a throwaway server context to try cipher lists on */
static SSL_CTX *
cfg_scratch(struct cfg_loader *ld)
{
	if (ld->scratch == NULL) {
		ld->scratch = SSL_CTX_new(TLS_server_method());
		if (ld->scratch == NULL) {
			ERR_clear_error();
			return NULL;
		}
		/* see every cipher the list names, whatever the level */
		SSL_CTX_set_security_level(ld->scratch, 0);
	}
	return ld->scratch;
}

/*
 * check_cipher_strength - refuse a list that lets a weak cipher through:
 * under 128 bits, no encryption (eNULL), no authentication (aNULL), RC4
 * (RFC 7465). EXPORT ciphers are all under 128 bits. tls13 picks which
 * half of the context's list is being checked.
 */
static int
check_cipher_strength(struct cfg_loader *ld, SSL_CTX *ctx, int tls13)
{
	STACK_OF(SSL_CIPHER) *sk;
	const SSL_CIPHER *c;
	const char *name;
	int i, bits;

	sk = SSL_CTX_get_ciphers(ctx);
	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		c = sk_SSL_CIPHER_value(sk, i);
		if ((SSL_CIPHER_get_kx_nid(c) == NID_kx_any) != tls13)
			continue;
		name = SSL_CIPHER_get_name(c);
		bits = SSL_CIPHER_get_bits(c, NULL);
		if (SSL_CIPHER_get_cipher_nid(c) == NID_undef)
			return cfg_why(ld, "enables %s without encryption "
			    "(eNULL)", name);
		if (SSL_CIPHER_get_auth_nid(c) == NID_auth_null)
			return cfg_why(ld, "enables %s without authentication "
			    "(aNULL)", name);
		if (SSL_CIPHER_get_cipher_nid(c) == NID_rc4)
			return cfg_why(ld, "enables %s (RC4 is forbidden by "
			    "RFC 7465)", name);
		if (bits < 128)
			return cfg_why(ld, "enables %s with %d-bit keys (at "
			    "least 128 required)", name, bits);
	}
	return 0;
}

/* check_tls_ciphers - a cipher list OpenSSL takes, with no weak cipher */
static int
check_tls_ciphers(struct cfg_loader *ld, const char *v)
{
	char e[CFG_ESC_MAX];
	SSL_CTX *ctx;

	ctx = cfg_scratch(ld);
	if (ctx == NULL)
		return cfg_why(ld, "cannot create an OpenSSL context to "
		    "check it");
	if (SSL_CTX_set_cipher_list(ctx, v) != 1) {
		ERR_clear_error();
		return cfg_why(ld, "'%s' selects no TLS 1.2 cipher",
		    cfg_esc(e, sizeof(e), v));
	}
	return check_cipher_strength(ld, ctx, 0);
}

/* check_tls_ciphersuites - known TLS 1.3 suite names, no weak one */
static int
check_tls_ciphersuites(struct cfg_loader *ld, const char *v)
{
	char e[CFG_ESC_MAX], one[CFG_ITEM_MAX];
	const char *p = v, *end;
	SSL_CTX *ctx;
	size_t n;

	ctx = cfg_scratch(ld);
	if (ctx == NULL)
		return cfg_why(ld, "cannot create an OpenSSL context to "
		    "check it");
	/* OpenSSL skips unknown names; a typo must not go unnoticed */
	for (;;) {
		end = strchr(p, ':');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n == 0 || n >= sizeof(one))
			goto bad;
		memcpy(one, p, n);
		one[n] = '\0';
		if (SSL_CTX_set_ciphersuites(ctx, one) != 1) {
			ERR_clear_error();
			return cfg_why(ld, "'%s' is not a TLS 1.3 ciphersuite",
			    cfg_esc(e, sizeof(e), one));
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (SSL_CTX_set_ciphersuites(ctx, v) != 1) {
		ERR_clear_error();
		goto bad;
	}
	return check_cipher_strength(ld, ctx, 1);
bad:
	return cfg_why(ld, "'%s' is not a list of TLS 1.3 ciphersuites "
	    "separated by ':'", cfg_esc(e, sizeof(e), v));
}

/* default_hostname - this machine's name */
static int
default_hostname(char *out, size_t outsz)
{
	if (gethostname(out, outsz) != 0)
		return -1;
	out[outsz - 1] = '\0';
	return 0;
}

/*
 * Value parsers by type
 */

/* cfg_next_item - next item of a comma and/or space separated list */
static int
cfg_next_item(const char **sp, struct slice *out)
{
	const char *p = *sp, *start;

	while (*p == ',' || *p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*sp = p;
		return 0;
	}
	start = p;
	while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
		p++;
	*out = slice_make(start, (size_t)(p - start));
	*sp = p;
	return 1;
}

/* parse_listen_one - "a.b.c.d:port", "[v6]:port" or "*:port" */
static int
parse_listen_one(struct cfg_loader *ld, const char *item,
    struct sg_listen *out)
{
	char e[CFG_ESC_MAX], host[CFG_ITEM_MAX], canon[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	const char *colon, *hend;
	uint64_t port;
	size_t hlen;
	int af;

	if (item[0] == '[') {
		hend = strchr(item, ']');
		if (hend == NULL)
			goto bad;
		af = AF_INET6;
		hlen = (size_t)(hend - item - 1);
		memcpy(host, item + 1, hlen);
		colon = hend + 1;
		if (*colon != ':')
			goto noport;
	} else {
		colon = strrchr(item, ':');
		if (colon == NULL)
			goto noport;
		hlen = (size_t)(colon - item);
		if (memchr(item, ':', hlen) != NULL)
			return cfg_why(ld, "'%s': write IPv6 addresses in "
			    "brackets, as in [::1]:25",
			    cfg_esc(e, sizeof(e), item));
		af = AF_INET;
		memcpy(host, item, hlen);
	}
	host[hlen] = '\0';
	if (af == AF_INET && strcmp(host, "*") == 0)
		memcpy(host, "0.0.0.0", sizeof("0.0.0.0"));
	if (inet_pton(af, host, addr) != 1 ||
	    inet_ntop(af, addr, canon, sizeof(canon)) == NULL)
		goto bad;
	if (num_parse_u64_str(colon + 1, 1, 65535, &port) < 0)
		return cfg_why(ld, "'%s': port must be a number in 1..65535",
		    cfg_esc(e, sizeof(e), item));
	out->host = xstrdup(canon);
	out->port = xmalloc(6);
	snprintf(out->port, 6, "%u", (unsigned)port);
	return 0;
noport:
	return cfg_why(ld, "'%s': port required, as in 127.0.0.1:25",
	    cfg_esc(e, sizeof(e), item));
bad:
	return cfg_why(ld, "'%s': host must be a numeric IPv4 address, "
	    "[IPv6 address] or *", cfg_esc(e, sizeof(e), item));
}

static void
listen_free(struct sg_listen *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		xfree(l[i].host);
		xfree(l[i].port);
	}
	xfree(l);
}

/* parse_listen - list of listen addresses, none twice */
static int
parse_listen(struct cfg_loader *ld, const char *v, struct sg_listen **lp,
    size_t *np)
{
	char e[CFG_ESC_MAX], item[CFG_ITEM_MAX];
	struct sg_listen *l = NULL;
	struct slice s;
	size_t n = 0, i;

	while (cfg_next_item(&v, &s)) {
		if (s.len >= sizeof(item)) {
			memcpy(item, s.ptr, sizeof(item) - 1);
			item[sizeof(item) - 1] = '\0';
			cfg_why(ld, "'%s...' is too long",
			    cfg_esc(e, sizeof(e), item));
			goto fail;
		}
		memcpy(item, s.ptr, s.len);
		item[s.len] = '\0';
		l = xrealloc(l, (n + 1) * sizeof(*l));
		if (parse_listen_one(ld, item, &l[n]) < 0)
			goto fail;
		n++;
		for (i = 0; i + 1 < n; i++) {
			if (strcmp(l[i].host, l[n - 1].host) == 0 &&
			    strcmp(l[i].port, l[n - 1].port) == 0) {
				cfg_why(ld, "'%s' is listed twice",
				    cfg_esc(e, sizeof(e), item));
				goto fail;
			}
		}
	}
	if (n == 0) {
		cfg_why(ld, "no address given");
		goto fail;
	}
	listen_free(*lp, *np);
	*lp = l;
	*np = n;
	return 0;
fail:
	listen_free(l, n);
	return -1;
}

/* parse_cidrs - list of networks; may be empty */
static int
parse_cidrs(struct cfg_loader *ld, const char *v, struct cidr **lp,
    size_t *np)
{
	char e[CFG_ESC_MAX], item[CFG_ITEM_MAX];
	struct cidr *l = NULL;
	struct slice s;
	size_t n = 0;

	while (cfg_next_item(&v, &s)) {
		if (s.len >= sizeof(item)) {
			memcpy(item, s.ptr, sizeof(item) - 1);
			item[sizeof(item) - 1] = '\0';
			cfg_why(ld, "'%s...' is too long",
			    cfg_esc(e, sizeof(e), item));
			goto fail;
		}
		memcpy(item, s.ptr, s.len);
		item[s.len] = '\0';
		l = xrealloc(l, (n + 1) * sizeof(*l));
		if (cidr_parse(item, &l[n]) < 0) {
			cfg_why(ld, "'%s' is not an IPv4 or IPv6 network, as "
			    "in 192.0.2.0/24 or 2001:db8::/32",
			    cfg_esc(e, sizeof(e), item));
			goto fail;
		}
		n++;
	}
	xfree(*lp);
	*lp = l;
	*np = n;
	return 0;
fail:
	xfree(l);
	return -1;
}

static void
words_free(char **w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		xfree(w[i]);
	xfree(w);
}

/* parse_words - list of items, each checked by k->check */
static int
parse_words(struct cfg_loader *ld, const struct cfg_key *k, const char *v,
    char ***wp, size_t *np)
{
	char **w = NULL;
	struct slice s;
	size_t n = 0;

	while (cfg_next_item(&v, &s)) {
		char *item = xstrndup(s.ptr, s.len);
		if (s.len >= CFG_ITEM_MAX ||
		    (k->check != NULL && k->check(ld, item) < 0)) {
			if (s.len >= CFG_ITEM_MAX)
				cfg_why(ld, "an item is too long");
			xfree(item);
			words_free(w, n);
			return -1;
		}
		w = xrealloc(w, (n + 1) * sizeof(*w));
		w[n++] = item;
	}
	words_free(*wp, *np);
	*wp = w;
	*np = n;
	return 0;
}

/* dns_name_ok - LDH labels of 1..63, total <= 253 */
static int
dns_name_ok(const char *s, size_t len)
{
	size_t i, lab = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (lab == 0 && c == '-')
			return 0;
		if (++lab > 63)
			return 0;
	}
	return s[len - 1] != '.' && s[len - 1] != '-';
}

static int
check_domain_item(struct cfg_loader *ld, const char *v)
{
	char e[CFG_ESC_MAX];
	const char *d = v[0] == '.' ? v + 1 : v;

	if (!dns_name_ok(d, strlen(d)))
		return cfg_why(ld, "'%s' is not a domain (or .domain)",
		    cfg_esc(e, sizeof(e), v));
	return 0;
}

static const char *const role_names[] = { "ingress", "delivery", "prober",
    "web", NULL };

static int
check_role_item(struct cfg_loader *ld, const char *v)
{
	char e[CFG_ESC_MAX];
	size_t i;

	for (i = 0; role_names[i] != NULL; i++)
		if (strcmp(v, role_names[i]) == 0)
			return 0;
	return cfg_why(ld, "'%s' is not a role (ingress, delivery, prober, web)",
	    cfg_esc(e, sizeof(e), v));
}

/* check_rpt_text - a TLS-RPT header/JSON value: printable ASCII, bounded
 * (it goes into a mail header line) */
static int
check_rpt_text(struct cfg_loader *ld, const char *v)
{
	const char *p;

	if (strlen(v) > 200)
		return cfg_why(ld, "longer than 200 characters");
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return cfg_why(ld, "only printable ASCII is allowed");
	return 0;
}

/* check_chain - a policy chain "tls,pgp,smime,escrow" */
static int
check_chain(struct cfg_loader *ld, const char *v)
{
	struct policy_chain c;
	char why[120];

	if (policy_chain_parse(v, &c, why, sizeof(why)) < 0)
		return cfg_why(ld, "%s", why);
	return 0;
}

/* check_tags - space-separated TAG=CHAIN items */
static int
check_tags(struct cfg_loader *ld, const char *v)
{
	char *copy = xstrdup(v), *save = NULL, *item;
	struct policy_tag t;
	char why[160];
	int r = 0;

	for (item = strtok_r(copy, " \t", &save); item != NULL && r == 0;
	    item = strtok_r(NULL, " \t", &save))
		if (policy_tag_parse(item, &t, why, sizeof(why)) < 0)
			r = cfg_why(ld, "%s", why);
	xfree(copy);
	return r;
}

/* check_fingerprint - 40 hex digits (an OpenPGP v4 fingerprint) */
static int
check_fingerprint(struct cfg_loader *ld, const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (!isxdigit((unsigned char)v[i]))
			break;
	if (i != 40 || v[i] != '\0')
		return cfg_why(ld, "want a 40-hex-digit key fingerprint");
	return 0;
}

/* check_rpt_address - local@domain, no space, quote or angle bracket */
static int
check_rpt_address(struct cfg_loader *ld, const char *v)
{
	char e[CFG_ESC_MAX];
	const char *at = strrchr(v, '@'), *p;

	if (check_rpt_text(ld, v) < 0 || at == NULL || at == v ||
	    !dns_name_ok(at + 1, strlen(at + 1)))
		return cfg_why(ld, "'%s' is not an address (local@domain)",
		    cfg_esc(e, sizeof(e), v));
	for (p = v; p < at; p++)
		if (strchr(" \"<>()[],;:\\", *p) != NULL)
			return cfg_why(ld, "'%s' is not an address "
			    "(local@domain)", cfg_esc(e, sizeof(e), v));
	return 0;
}

int
config_has_role(const struct sg_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nroles; i++)
		if (strcmp(cfg->roles[i], name) == 0)
			return 1;
	return 0;
}

/* check_nexthop - "host:port" or "[address]:port" */
static int
check_nexthop(struct cfg_loader *ld, const char *v)
{
	char e[CFG_ESC_MAX];
	const char *colon = strrchr(v, ':');
	uint64_t port;

	if (colon == NULL || num_parse_u64_str(colon + 1, 1, 65535, &port) < 0)
		goto bad;
	if (v[0] == '[') {
		char a[64];
		unsigned char buf[16];
		size_t n = (size_t)(colon - v);
		if (n < 3 || v[n - 1] != ']' || n - 2 >= sizeof(a))
			goto bad;
		memcpy(a, v + 1, n - 2);
		a[n - 2] = '\0';
		if (inet_pton(AF_INET, a, buf) != 1 &&
		    inet_pton(AF_INET6, a, buf) != 1)
			goto bad;
		return 0;
	}
	if (!dns_name_ok(v, (size_t)(colon - v)))
		goto bad;
	return 0;
bad:
	return cfg_why(ld, "'%s' is not host:port or [address]:port",
	    cfg_esc(e, sizeof(e), v));
}

/* check_route_item - "domain=host:port" */
static int
check_route_item(struct cfg_loader *ld, const char *v)
{
	char e[CFG_ESC_MAX];
	const char *eq = strchr(v, '=');

	if (eq == NULL || !dns_name_ok(v[0] == '.' ? v + 1 : v,
	    (size_t)(eq - v) - (v[0] == '.')))
		return cfg_why(ld, "'%s' is not domain=host:port",
		    cfg_esc(e, sizeof(e), v));
	return check_nexthop(ld, eq + 1);
}

/* check_forwarder_item - "IP" or "IP@port" */
static int
check_forwarder_item(struct cfg_loader *ld, const char *v)
{
	char e[CFG_ESC_MAX], a[64];
	unsigned char buf[16];
	const char *at = strchr(v, '@');
	size_t n = at ? (size_t)(at - v) : strlen(v);
	uint64_t port;

	if (n == 0 || n >= sizeof(a))
		goto bad;
	memcpy(a, v, n);
	a[n] = '\0';
	if (inet_pton(AF_INET, a, buf) != 1 && inet_pton(AF_INET6, a, buf) != 1)
		goto bad;
	if (at != NULL && num_parse_u64_str(at + 1, 1, 65535, &port) < 0)
		goto bad;
	return 0;
bad:
	return cfg_why(ld, "'%s' is not a DNS server address (IP or IP@port)",
	    cfg_esc(e, sizeof(e), v));
}

/* parse_bool - yes/no, true/false, on/off, 1/0 */
static int
parse_bool(struct cfg_loader *ld, const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	char e[CFG_ESC_MAX];
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return cfg_why(ld, "'%s' is not yes or no", cfg_esc(e, sizeof(e), v));
}

/* parse_tlsver - TLSv1 .. TLSv1.3; nothing older, ever */
static int
parse_tlsver(struct cfg_loader *ld, const char *v, int *out)
{
	static const struct { const char *name; int version; } t[] = {
		{ "TLSv1", TLS1_VERSION }, { "TLSv1.0", TLS1_VERSION },
		{ "TLSv1.1", TLS1_1_VERSION }, { "TLSv1.2", TLS1_2_VERSION },
		{ "TLSv1.3", TLS1_3_VERSION },
	};
	char e[CFG_ESC_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcasecmp(v, t[i].name) == 0) {
			*out = t[i].version;
			return 0;
		}
	}
	if (strncasecmp(v, "SSL", 3) == 0)
		return cfg_why(ld, "'%s' is below TLSv1; sealgate never goes "
		    "below TLS 1.0", cfg_esc(e, sizeof(e), v));
	return cfg_why(ld, "'%s' is not one of TLSv1, TLSv1.1, TLSv1.2, "
	    "TLSv1.3", cfg_esc(e, sizeof(e), v));
}

/* parse_enum - one of k->names; the index is the value */
static int
parse_enum(struct cfg_loader *ld, const struct cfg_key *k, const char *v,
    int *out)
{
	char e[CFG_ESC_MAX];
	struct buf b;
	int i;

	for (i = 0; k->names[i] != NULL; i++) {
		if (strcasecmp(v, k->names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	buf_init(&b, 512);
	for (i = 0; k->names[i] != NULL; i++)
		(void)buf_printf(&b, "%s%s", i > 0 ? ", " : "", k->names[i]);
	cfg_why(ld, "'%s' is not one of %s", cfg_esc(e, sizeof(e), v),
	    buf_cstr(&b));
	buf_free(&b);
	return -1;
}

/* parse_number - CFG_UINT, CFG_DURATION or CFG_SIZE within k's range */
static int
parse_number(struct cfg_loader *ld, const struct cfg_key *k, const char *v,
    uint64_t *out)
{
	char e[CFG_ESC_MAX];
	int r;

	switch (k->type) {
	case CFG_DURATION:
		r = num_parse_duration(v, k->max, out);
		if (r == 0 && *out < k->min)
			r = -1;
		if (r < 0)
			return cfg_why(ld, "'%s' is not a duration in "
			    "%llus..%llus (suffix s, m, h, d or w)",
			    cfg_esc(e, sizeof(e), v),
			    (unsigned long long)k->min,
			    (unsigned long long)k->max);
		return 0;
	case CFG_SIZE:
		r = num_parse_size(v, k->max, out);
		if (r == 0 && *out < k->min)
			r = -1;
		if (r < 0)
			return cfg_why(ld, "'%s' is not a size in %llu..%llu "
			    "bytes (suffix k, M or G)",
			    cfg_esc(e, sizeof(e), v),
			    (unsigned long long)k->min,
			    (unsigned long long)k->max);
		return 0;
	default:
		if (num_parse_u64_str(v, k->min, k->max, out) < 0)
			return cfg_why(ld, "'%s' is not a number in "
			    "%llu..%llu", cfg_esc(e, sizeof(e), v),
			    (unsigned long long)k->min,
			    (unsigned long long)k->max);
		return 0;
	}
}

/* cfg_set - parse v as the value of key k and store it */
static int
cfg_set(struct cfg_loader *ld, const struct cfg_key *k, const char *v)
{
	void *field = (char *)ld->cfg + k->off;
	void *nfield = (char *)ld->cfg + k->off_n;
	char **sp = field;
	char *s;
	uint64_t u;
	int i;

	if (v[0] == '\0' && !(k->flags & (CFG_F_OPTIONAL | CFG_F_EMPTY_OK)))
		return cfg_why(ld, "empty value");

	switch (k->type) {
	case CFG_STRING:
	case CFG_PATH:
		if (v[0] == '\0') {
			xfree(*sp);
			*sp = NULL;
			return 0;
		}
		if (k->type == CFG_PATH) {
			s = cfg_resolve(ld, v);
			if (s == NULL)
				return -1;
		} else {
			s = xstrdup(v);
		}
		if (k->check != NULL && k->check(ld, s) < 0) {
			xfree(s);
			return -1;
		}
		xfree(*sp);
		*sp = s;
		return 0;
	case CFG_BOOL:
		return parse_bool(ld, v, field);
	case CFG_UINT:
	case CFG_DURATION:
		if (parse_number(ld, k, v, &u) < 0)
			return -1;
		*(unsigned *)field = (unsigned)u;
		return 0;
	case CFG_SIZE:
		return parse_number(ld, k, v, field);
	case CFG_ENUM:
		if (parse_enum(ld, k, v, &i) < 0)
			return -1;
		memcpy(field, &i, sizeof(i));
		return 0;
	case CFG_LOGLEVEL:
		if (log_level_parse(v, field) < 0) {
			char e[CFG_ESC_MAX];

			return cfg_why(ld, "'%s' is not one of debug, info, "
			    "warn, err", cfg_esc(e, sizeof(e), v));
		}
		return 0;
	case CFG_TLSVER:
		return parse_tlsver(ld, v, field);
	case CFG_LISTEN:
		return parse_listen(ld, v, field, nfield);
	case CFG_CIDRS:
		return parse_cidrs(ld, v, field, nfield);
	case CFG_WORDS:
		return parse_words(ld, k, v, field, nfield);
	}
	return cfg_why(ld, "internal error: key type %d", (int)k->type);
}

/*
 * Lines
 */

/* cfg_unquote - "..." at line[*ip]; \" and \\ are the only escapes */
static int
cfg_unquote(struct cfg_loader *ld, const char *line, size_t len, size_t *ip,
    struct buf *val)
{
	size_t i = *ip + 1;

	for (; i < len; i++) {
		if (line[i] == '"') {
			*ip = i + 1;
			return 0;
		}
		if (line[i] == '\\') {
			if (i + 1 >= len ||
			    (line[i + 1] != '"' && line[i + 1] != '\\'))
				return cfg_why(ld, "bad escape in quoted value "
				    "(only \\\" and \\\\ are allowed)");
			i++;
		}
		if (buf_append_char(val, line[i]) < 0)
			return cfg_why(ld, "out of memory");
	}
	return cfg_why(ld, "unterminated quoted value");
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* cfg_line - one line without its line ending */
static int
cfg_line(struct cfg_loader *ld, const char *line, size_t len)
{
	size_t i, kstart, klen, vstart, vend;
	const struct cfg_key *k;
	struct buf val;
	int ki, r;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\0')
			return cfg_why(ld, "NUL byte in line");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return cfg_why(ld, "control character 0x%02x in line",
			    c);
	}
	i = 0;
	while (i < len && is_space(line[i]))
		i++;
	if (i == len || line[i] == '#')
		return 0;

	kstart = i;
	while (i < len && is_key_char(line[i]))
		i++;
	klen = i - kstart;
	while (i < len && is_space(line[i]))
		i++;
	if (klen == 0 && i < len && line[i] == '=')
		return cfg_why(ld, "syntax error: no key before '='");
	if (klen == 0 || i == len || line[i] != '=')
		return cfg_why(ld, "syntax error: expected 'key = value'");
	i++;
	while (i < len && is_space(line[i]))
		i++;

	ki = cfg_key_find(line + kstart, klen);
	if (ki < 0)
		return cfg_why(ld, "unknown key '%.*s'", (int)klen,
		    line + kstart);
	k = &cfg_keys[ki];
	if (ld->line[ki] != 0)
		return cfg_why(ld, "duplicate key '%s' (first set on line %u)",
		    k->name, ld->line[ki]);

	buf_init(&val, SG_CONFIG_LINE_MAX);
	if (i < len && line[i] == '"') {
		if (cfg_unquote(ld, line, len, &i, &val) < 0)
			goto fail;
		while (i < len && is_space(line[i]))
			i++;
		if (i < len && line[i] != '#') {
			cfg_why(ld, "text after the closing quote");
			goto fail;
		}
	} else {
		/* a '#' after white space starts a comment */
		vstart = i;
		vend = i;
		for (; i < len; i++) {
			if (line[i] == '#' && i > 0 && is_space(line[i - 1]))
				break;
			if (line[i] == '"') {
				cfg_why(ld, "quote inside an unquoted value; "
				    "quote the whole value");
				goto fail;
			}
			if (!is_space(line[i]))
				vend = i + 1;
		}
		if (buf_append(&val, line + vstart, vend - vstart) < 0) {
			cfg_why(ld, "out of memory");
			goto fail;
		}
	}
	ld->line[ki] = ld->lineno;
	r = cfg_set(ld, k, buf_cstr(&val));
	if (r < 0)
		goto fail;
	buf_free(&val);
	return 0;
fail:
	buf_free(&val);
	{
		char why[CFG_WHY_MAX];

		memcpy(why, ld->why, sizeof(why));
		return cfg_why(ld, "%s: %s", k->name, why);
	}
}

/* cfg_parse - every line of text */
static int
cfg_parse(struct cfg_loader *ld, const char *text, size_t len)
{
	const char *line, *nl;
	size_t pos = 0, llen;

	/* a UTF-8 byte order mark some editors write */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		line = text + pos;
		nl = memchr(line, '\n', len - pos);
		llen = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += llen + (nl != NULL);
		ld->lineno++;
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (llen > SG_CONFIG_LINE_MAX) {
			cfg_error(ld, ld->lineno, "line longer than %d bytes",
			    SG_CONFIG_LINE_MAX);
			return -1;
		}
		if (cfg_line(ld, line, llen) < 0) {
			cfg_error(ld, ld->lineno, "%s", ld->why);
			return -1;
		}
	}
	return 0;
}

/* cfg_defaults - fill every key the file did not set */
static int
cfg_defaults(struct cfg_loader *ld)
{
	char buf[256];
	const struct cfg_key *k;
	size_t i;

	ld->lineno = 0;
	for (i = 0; i < NKEYS; i++) {
		k = &cfg_keys[i];
		if (ld->line[i] != 0)
			continue;
		if (k->def_fn != NULL) {
			/* fall back when the system's answer will not do */
			if (k->def_fn(buf, sizeof(buf)) < 0 ||
			    cfg_set(ld, k, buf) < 0) {
				if (cfg_set(ld, k, "localhost") < 0)
					goto fail;
			}
			continue;
		}
		if (k->def != NULL && cfg_set(ld, k, k->def) < 0)
			goto fail;
	}
	return 0;
fail:
	cfg_error(ld, 0, "built-in default of %s refused: %s", k->name,
	    ld->why);
	return -1;
}

/* cfg_key_line - the line key NAME was set on (0: default) */
static unsigned
cfg_key_line(const struct cfg_loader *ld, const char *name)
{
	int i = cfg_key_find(name, strlen(name));

	return i < 0 ? 0 : ld->line[i];
}

/* cfg_finish - checks that involve more than one key */
static int
cfg_finish(struct cfg_loader *ld)
{
	struct sg_config *cfg = ld->cfg;
	struct sockaddr_un sun;
	char e[CFG_ESC_MAX], sock[64];
	size_t need;
	int tail;

	if (cfg->tls_cert_file != NULL && cfg->tls_key_file == NULL) {
		cfg_error(ld, cfg_key_line(ld, "smtp_tls_cert_file"),
		    "smtp_tls_cert_file: smtp_tls_key_file must be set too");
		return -1;
	}
	if (cfg->tls_key_file != NULL && cfg->tls_cert_file == NULL) {
		cfg_error(ld, cfg_key_line(ld, "smtp_tls_key_file"),
		    "smtp_tls_key_file: smtp_tls_cert_file must be set too");
		return -1;
	}
	if (ld->cert != NULL && ld->key != NULL &&
	    X509_check_private_key(ld->cert, ld->key) != 1) {
		ERR_clear_error();
		cfg_error(ld, cfg_key_line(ld, "smtp_tls_key_file"),
		    "smtp_tls_key_file: does not match certificate");
		return -1;
	}
	if (cfg->require_tls && cfg->tls_cert_file == NULL) {
		cfg_error(ld, cfg_key_line(ld, "smtp_require_tls"),
		    "smtp_require_tls: needs smtp_tls_cert_file, or no client "
		    "could ever send mail");
		return -1;
	}
	/* PostgreSQL puts its socket at STATE_DIR/pg/sock/.s.PGSQL.PORT,
	 * which must fit sun_path with its NUL */
	tail = snprintf(sock, sizeof(sock), "/pg/sock/.s.PGSQL.%u",
	    cfg->embedded_db_port);
	need = strlen(cfg->state_dir) + (size_t)tail + 1;
	if (cfg->database == NULL && need > sizeof(sun.sun_path)) {
		cfg_error(ld, cfg_key_line(ld, "state_dir"),
		    "state_dir: '%s' is too long for the embedded database's "
		    "socket path (at most %zu bytes); shorten it or set "
		    "database", cfg_esc(e, sizeof(e), cfg->state_dir),
		    sizeof(sun.sun_path) - (size_t)tail - 1);
		return -1;
	}
	return 0;
}

static void
cfg_loader_release(struct cfg_loader *ld)
{
	xfree(ld->filedir);
	SSL_CTX_free(ld->scratch);
	X509_free(ld->cert);
	EVP_PKEY_free(ld->key);
	ld->filedir = NULL;
	ld->scratch = NULL;
	ld->cert = NULL;
	ld->key = NULL;
}

/* config_load_string - parse and check text; see config.h */
struct sg_config *
config_load_string(const char *name, const char *text, size_t len,
    char **err_out)
{
	struct cfg_loader ld;
	struct sg_config *cfg;

	*err_out = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	if (len > SG_CONFIG_FILE_MAX) {
		cfg_error(&ld, 0, "larger than %d bytes", SG_CONFIG_FILE_MAX);
		*err_out = ld.err;
		return NULL;
	}
	cfg = xcalloc(1, sizeof(*cfg));
	ld.cfg = cfg;
	cfg->path = xstrdup(name);
	if (cfg_parse(&ld, text, len) < 0 || cfg_defaults(&ld) < 0 ||
	    cfg_finish(&ld) < 0) {
		cfg_loader_release(&ld);
		config_free(&cfg);
		*err_out = ld.err;
		return NULL;
	}
	cfg_loader_release(&ld);
	return cfg;
}

/* config_load - read FILE (bounded) and parse it */
struct sg_config *
config_load(const char *path, char **err_out)
{
	struct sg_config *cfg;
	struct buf b;
	char reason[256];
	int fd, r, saved;

	*err_out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		saved = errno;
		r = -1;
	} else {
		r = cfg_slurp(fd, &b);
		saved = errno;
		close(fd);
	}
	if (r < 0) {
		if (saved == EFBIG)
			snprintf(reason, sizeof(reason), "larger than %d bytes",
			    SG_CONFIG_FILE_MAX);
		else
			snprintf(reason, sizeof(reason), "cannot read: %s",
			    strerror(saved));
		*err_out = cfg_message(path, 0, reason);
		return NULL;
	}
	cfg = config_load_string(path, buf_cstr(&b), b.len, err_out);
	buf_free(&b);
	return cfg;
}

/* config_defaults - every key at its default */
struct sg_config *
config_defaults(void)
{
	struct sg_config *cfg;
	char *err = NULL;

	cfg = config_load_string("(defaults)", "", 0, &err);
	xfree(err);
	if (cfg != NULL) {
		xfree(cfg->path);
		cfg->path = NULL;
	}
	return cfg;
}

/* conninfo_quote - v as a libpq conninfo value, quoted when needed;
 * new string */
static char *
conninfo_quote(const char *v)
{
	size_t n = strlen(v), o = 0;
	const char *p;
	char *out;

	if (n > 0 && strpbrk(v, " \t\r\n'\\") == NULL)
		return xstrdup(v);
	out = xmalloc(2 * n + 3);
	out[o++] = '\'';
	for (p = v; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

/* config_conninfo - database, or the embedded cluster's socket */
char *
config_conninfo(const struct sg_config *cfg)
{
	char *dir, *host, *s;
	size_t n;

	if (cfg->database != NULL)
		return xstrdup(cfg->database);
	dir = cfg_join(cfg->state_dir, strlen(cfg->state_dir), "pg/sock");
	host = conninfo_quote(dir);
	n = strlen(host) + sizeof("host= port=65535 dbname=sealgate "
	    "user=sealgate");
	s = xmalloc(n);
	/* the embedded cluster's role, whoever runs the CLI (trust on a
	 * 0700 socket directory) */
	snprintf(s, n, "host=%s port=%u dbname=sealgate user=sealgate", host,
	    cfg->embedded_db_port);
	xfree(host);
	xfree(dir);
	return s;
}

/* config_free - release everything and clear *cfgp */
void
config_free(struct sg_config **cfgp)
{
	struct sg_config *cfg;

	if (cfgp == NULL || *cfgp == NULL)
		return;
	cfg = *cfgp;
	xfree(cfg->path);
	xfree(cfg->hostname);
	xfree(cfg->state_dir);
	xfree(cfg->run_user);
	xfree(cfg->database);
	listen_free(cfg->listen, cfg->nlisten);
	xfree(cfg->tls_cert_file);
	xfree(cfg->tls_key_file);
	xfree(cfg->tls_ciphers);
	xfree(cfg->tls_ciphersuites);
	xfree(cfg->relay_networks);
	words_free(cfg->roles, cfg->nroles);
	words_free(cfg->forced_tls_domains, cfg->nforced_tls_domains);
	xfree(cfg->delivery_ca_file);
	words_free(cfg->routes, cfg->nroutes);
	xfree(cfg->smart_host);
	words_free(cfg->dns_forwarders, cfg->ndns_forwarders);
	xfree(cfg->dns_trust_anchor_file);
	xfree(cfg->policy_default);
	xfree(cfg->escalation_tags);
	xfree(cfg->pgp_home);
	xfree(cfg->pgp_sign_key);
	xfree(cfg->pgp_outer_subject);
	xfree(cfg->smime_sign_cert);
	xfree(cfg->smime_sign_key);
	xfree(cfg->smime_ca_file);
	xfree(cfg->escrow_master_key_file);
	xfree(cfg->escrow_from);
	xfree(cfg->escrow_org_name);
	xfree(cfg->escrow_logo_url);
	xfree(cfg->escrow_color);
	xfree(cfg->escrow_support);
	xfree(cfg->templates_dir);
	listen_free(cfg->portal_listen, cfg->nportal_listen);
	xfree(cfg->portal_http_listen);
	xfree(cfg->portal_trusted_proxies);
	xfree(cfg->portal_url);
	xfree(cfg->portal_tls_cert_file);
	xfree(cfg->portal_tls_key_file);
	words_free(cfg->dns_allow_zones, cfg->ndns_allow_zones);
	xfree(cfg->tls_rpt_org_name);
	xfree(cfg->tls_rpt_contact);
	xfree(cfg->tls_rpt_from);
	xfree(cfg);
	*cfgp = NULL;
}

/* config_key_info - describe key i of the table; see config.h */
int
config_key_info(size_t i, const char **name_out, const char **def_out,
    const char **help_out)
{
	if (i >= NKEYS)
		return -1;
	if (name_out != NULL)
		*name_out = cfg_keys[i].name;
	if (def_out != NULL)
		*def_out = cfg_keys[i].def;
	if (help_out != NULL)
		*help_out = cfg_keys[i].help;
	return 0;
}
