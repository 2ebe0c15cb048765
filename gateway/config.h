/*
 * config.h - the one sealgate configuration file.
 *
 * Format: one "key = value" per line; '#' starts a comment at line start,
 * and after white space following an unquoted value; blank lines ignored;
 * a value may be quoted with "..." (\" and \\ escapes). CRLF line ends
 * are tolerated; NUL and other control bytes (but tab) are refused.
 * List-valued keys take comma- and/or space-separated items. A key given
 * twice is an error. Unknown keys, bad values and unreadable cert/key files
 * are refused with "FILE:LINE: reason"; whole-file problems (unreadable,
 * over SG_CONFIG_FILE_MAX) and errors in a default with "FILE: reason".
 * Relative paths in the file are resolved against the directory holding
 * the file; the state_dir default "./var" against the working directory.
 * Every key, its default and meaning is documented in sealgate.conf.example.
 */
#ifndef SEALGATE_CONFIG_H
#define SEALGATE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "lib/log.h"

enum bare_lf_policy {
	BARE_LF_REJECT = 0,	/* 550 5.6.11 / reject message (default) */
	BARE_LF_NORMALIZE,	/* bare LF/CR turned into CRLF in the message */
};

enum eightbit_hdr_policy {
	EIGHTBIT_HDR_ACCEPT = 0,	/* stored as received (default) */
	EIGHTBIT_HDR_REJECT,		/* 554 5.6.7 without SMTPUTF8 */
};

struct sg_listen {
	char *host;		/* numeric address, "0.0.0.0", "::" */
	char *port;		/* numeric */
};

struct sg_config {
	char *path;			/* file it came from */

	/* general */
	char *hostname;			/* hostname: default gethostname() */
	char *state_dir;		/* state_dir: default "./var" (absolute) */
	char *run_user;			/* user: drop root to it; default "sealgate" */
	char *database;			/* database: libpq URL/conninfo or NULL */
	unsigned embedded_db_port;	/* embedded_db_port: 5439 */
	enum log_level log_level;	/* log_level: info */

	/* smtp ingress */
	struct sg_listen *listen;	/* smtp_listen: 127.0.0.1:2525 */
	size_t nlisten;
	char *tls_cert_file;		/* smtp_tls_cert_file: NULL = no STARTTLS */
	char *tls_key_file;		/* smtp_tls_key_file */
	int tls_min_version;		/* smtp_tls_min_version: TLS1_2_VERSION */
	char *tls_ciphers;		/* smtp_tls_ciphers: TLS<=1.2 list */
	char *tls_ciphersuites;		/* smtp_tls_ciphersuites: TLS 1.3 */
	uint64_t message_size_limit;	/* message_size_limit: 25M */
	unsigned recipient_limit;	/* smtp_recipient_limit: 100 */
	unsigned idle_timeout;		/* smtp_idle_timeout: 300 (s) */
	unsigned data_timeout;		/* smtp_data_timeout: 600 (s) */
	unsigned max_sessions;		/* smtp_max_sessions: 1000 */
	unsigned max_sessions_per_client; /* smtp_max_sessions_per_client: 50 */
	unsigned hard_error_limit;	/* smtp_hard_error_limit: 10 */
	struct cidr *relay_networks;	/* relay_networks: 127.0.0.0/8 ::1/128 */
	size_t nrelay_networks;
	int auth_enabled;		/* smtp_auth: yes (only offered under TLS) */
	int require_tls;		/* smtp_require_tls: no (STARTTLS before MAIL) */
	enum bare_lf_policy bare_lf;	/* smtp_bare_lf: reject|normalize */
	enum eightbit_hdr_policy eightbit_headers; /* smtp_8bit_headers: accept|reject */
	unsigned db_workers;		/* ingress_db_workers: 4 */

	/* roles this node runs */
	char **roles;			/* roles: ingress delivery prober */
	size_t nroles;

	/* delivery */
	unsigned delivery_workers;	/* delivery_workers: 10 */
	unsigned delivery_per_destination; /* delivery_per_destination: 4 */
	int delivery_tls_level;		/* delivery_tls_level: may (enum tls_level) */
	char **forced_tls_domains;	/* forced_tls_domains: none */
	size_t nforced_tls_domains;
	int delivery_tls_min_version;	/* delivery_tls_min_version: TLSv1.2 */
	char *delivery_ca_file;		/* delivery_ca_file: system store */
	unsigned delivery_port;		/* delivery_port: 25 */
	char **routes;			/* routes: "domain=host:port" items */
	size_t nroutes;
	char *smart_host;		/* smart_host: "host:port", unset */
	char **dns_forwarders;		/* dns_forwarders: resolv.conf */
	size_t ndns_forwarders;
	char *dns_trust_anchor_file;	/* dns_trust_anchor_file: unset */
	char **dns_allow_zones;		/* dns_allow_zones: none */
	size_t ndns_allow_zones;
	unsigned delivery_lease;	/* delivery_lease: 10m */
	unsigned retry_min;		/* delivery_retry_min: 5m */
	unsigned retry_max;		/* delivery_retry_max: 1h */
	unsigned max_queue_lifetime;	/* max_queue_lifetime: 5d */
	unsigned connect_timeout;	/* delivery_connect_timeout: 30s */
	unsigned helo_timeout;		/* delivery_helo_timeout: 300s */
	unsigned mail_timeout;		/* delivery_mail_timeout: 300s */
	unsigned data_init_timeout;	/* delivery_data_init_timeout: 120s */
	unsigned data_xfer_timeout;	/* delivery_data_xfer_timeout: 180s */
	unsigned data_done_timeout;	/* delivery_data_done_timeout: 600s */

	/* prober: domain TLS status (DESIGN.md "Domain TLS status") */
	unsigned probe_interval;	/* probe_interval: 1d */
	unsigned probe_retry;		/* probe_retry: 1h (inconclusive) */
	unsigned probe_seen_days;	/* probe_seen_days: 30 */
	unsigned probe_timeout;		/* probe_timeout: 30s per stage */
	unsigned probe_concurrency;	/* probe_concurrency: 4 */

	/* TLS-RPT (RFC 8460) */
	int tls_rpt_enabled;		/* tls_rpt: yes */
	char *tls_rpt_org_name;		/* tls_rpt_org_name: unset = hostname */
	char *tls_rpt_contact;		/* tls_rpt_contact: unset =
					 * postmaster@hostname */
	char *tls_rpt_from;		/* tls_rpt_from: unset =
					 * tlsrpt-noreply@hostname */
	unsigned tls_rpt_timeout;	/* tls_rpt_timeout: 60s (HTTPS POST) */

	/* policy engine (DESIGN.md "Rules") */
	char *policy_default;		/* policy_default: "plain" (a chain) */
	int policy_default_floor;	/* policy_default_floor: encrypt
					 * (enum pol_floor) */
	int policy_default_bounce;	/* policy_default_exhausted: defer */
	char *escalation_tags;		/* escalation_tags: TAG=CHAIN items */
	char *pgp_home;			/* pgp_home: STATE_DIR/gnupg */
	char *pgp_sign_key;		/* pgp_sign_key: fingerprint, unset */
	char *pgp_outer_subject;	/* pgp_outer_subject: "..." */
	int smime_cipher;		/* smime_cipher: gcm (enum smime_cipher) */
	char *smime_sign_cert;		/* smime_sign_cert: unset */
	char *smime_sign_key;		/* smime_sign_key: unset */
	int smime_harvest;		/* smime_harvest: no */
	char *smime_ca_file;		/* smime_ca_file: unset (harvest) */
	int wkd_enabled;		/* wkd: no */
	unsigned wkd_timeout;		/* wkd_timeout: 10s */
	unsigned wkd_cache;		/* wkd_cache: 1d (negative answers) */

	/* escrow portal (DESIGN.md "Escrow portal") */
	int escrow_enabled;		/* escrow: no */
	char *escrow_master_key_file;	/* escrow_master_key_file:
					 * STATE_DIR/escrow.key */
	unsigned escrow_retention;	/* escrow_retention: 30d */
	unsigned escrow_link_ttl;	/* escrow_link_ttl: 14d (enrollment) */
	char *escrow_from;		/* escrow_from: secure-mail@HOSTNAME */
	char *escrow_org_name;		/* escrow_org_name: HOSTNAME */
	char *escrow_logo_url;		/* escrow_logo_url: unset */
	char *escrow_color;		/* escrow_color: #1f4e79 */
	char *escrow_support;		/* escrow_support: unset */
	int escrow_hide_subject;	/* escrow_hide_subject: no */
	int escrow_read_notice;		/* escrow_read_notice: no */
	char *templates_dir;		/* templates_dir: ./templates */
	struct sg_listen *portal_listen; /* portal_listen: 127.0.0.1:8443 */
	size_t nportal_listen;
	char *portal_http_listen;	/* portal_http_listen: unset (loopback
					 * host:port behind a TLS proxy) */
	struct cidr *portal_trusted_proxies; /* portal_trusted_proxies: none */
	size_t nportal_trusted_proxies;
	char *portal_url;		/* portal_url: https://HOSTNAME:8443 */
	char *portal_tls_cert_file;	/* portal_tls_cert_file: smtp's */
	char *portal_tls_key_file;	/* portal_tls_key_file: smtp's */
	unsigned portal_threads;	/* portal_threads: 4 */
	unsigned portal_session_ttl;	/* portal_session_ttl: 30m idle */
	unsigned portal_reset_ttl;	/* portal_reset_ttl: 1h */
	unsigned portal_max_failures;	/* portal_max_failures: 5 */
	unsigned portal_lockout;	/* portal_lockout: 15m */
	uint64_t portal_reply_max;	/* portal_reply_max: 10M */

	/* supervisor */
	unsigned restart_backoff_max;	/* restart_backoff_max: 30 (s) */
};

/*
 * config_load - parse and validate FILE. Returns a new config (free with
 * config_free()) or NULL with *err_out set to a new string
 * "FILE:LINE: reason" (free with xfree()). Does not log.
 */
struct sg_config *config_load(const char *path, char **err_out);

/* config_load_string - same, from memory; name is used in messages. */
struct sg_config *config_load_string(const char *name, const char *text,
    size_t len, char **err_out);

/* Defaults only (used when no file is given to some CLI commands).
 * NULL only if the working directory cannot be determined. */
struct sg_config *config_defaults(void);

/* The libpq conninfo to use: database, or the embedded cluster under
 * state_dir ("host=STATE_DIR/pg/sock port=N dbname=sealgate"). New string. */
char *config_conninfo(const struct sg_config *cfg);

void config_free(struct sg_config **cfgp);

/* 1 if the configuration enables role name ("ingress", "delivery",
 * "prober"). */
int config_has_role(const struct sg_config *cfg, const char *name);

/*
 * config_key_info - the i-th key of the key table (0-based): its name, its
 * default in file syntax (NULL when unset or computed, as hostname) and a
 * one-line help. 0, or -1 past the last key. Out-parameters may be NULL.
 * For check-config and the test that sealgate.conf.example stays true.
 */
int config_key_info(size_t i, const char **name_out, const char **def_out,
    const char **help_out);

#endif
