/*
 * cli.h - the sealgate subcommands. gateway/main.c parses the global
 * options (-c FILE), loads the configuration and calls one of these with
 * argv[0] set to the subcommand word ("queue", "migrate", "admin").
 * Each returns the process exit status: 0 ok, 1 failure (message on
 * stderr), 2 usage error. Each prints its usage on --help (exit 0).
 */
#ifndef SEALGATE_CLI_H
#define SEALGATE_CLI_H

#include <stddef.h>

struct sg_config;
struct db;
struct buf;

#define CLI_OUT_MAX		(512u * 1024 * 1024)	/* one --json document */
#define CLI_ESC_MAX		(200 * 4 + 8)	/* cli_esc() output */
#define EXIT_USAGE		2

/* Shared by the subcommands (cli_db.c). */
/* cli_err - "sealgate CMD: message" on stderr */
void cli_err(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* cli_esc - printable, truncated form of untrusted text ("-" for NULL) */
const char *cli_esc(char *out, size_t outsz, const char *s);
/* cli_db_open - connect with the configured conninfo; NULL + message */
struct db *cli_db_open(const struct sg_config *cfg, const char *cmd);
/* cli_write_out - all of p to stdout; 0 / -1 */
int cli_write_out(const char *p, size_t n);
/* cli_emit_json - print the document b and a newline, free b; status */
int cli_emit_json(const char *cmd, struct buf *b, int ok);

/* migrate: apply the embedded schema migrations. */
int cli_migrate(const struct sg_config *cfg, int argc, char **argv);

/* queue list [--json] [--limit N] [--pending]
 * queue show ID [--json | --raw] */
int cli_queue(const struct sg_config *cfg, int argc, char **argv);

/* admin user add NAME [--password-file FILE]   (else one line on stdin)
 * admin user delete NAME
 * admin user list [--json] */
int cli_admin(const struct sg_config *cfg, int argc, char **argv);

/* log --message ID | --recipient ADDR [--json] [--limit N]:
 * the delivery attempts, how each hop was protected */
int cli_log(const struct sg_config *cfg, int argc, char **argv);

/* probe DOMAIN [--json] [--no-store] | probe DOMAIN --history [--json]:
 * the domain's TLS status, probed now (cli_probe.c) */
int cli_probe(const struct sg_config *cfg, int argc, char **argv);

/* rule list|add|delete|move: the ordered policy rules (cli_policy.c) */
int cli_rule(const struct sg_config *cfg, int argc, char **argv);

/* key import|list|approve|reject|delete: the recipient key store */
int cli_key(const struct sg_config *cfg, int argc, char **argv);

/* policy preview --from A --to B [--subject S]: the plan and why */
int cli_policy(const struct sg_config *cfg, int argc, char **argv);

/* escrow keygen | list [--json] | recall ID | purge | audit ID [--json]:
 * the escrow store (cli_escrow.c) */
int cli_escrow(const struct sg_config *cfg, int argc, char **argv);

#endif
