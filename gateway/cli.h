/*
 * cli.h - the sealgate subcommands. gateway/main.c parses the global
 * options (-c FILE), loads the configuration and calls one of these with
 * argv[0] set to the subcommand word ("queue", "migrate", "admin").
 * Each returns the process exit status: 0 ok, 1 failure (message on
 * stderr), 2 usage error. Each prints its usage on --help (exit 0).
 */
#ifndef SEALGATE_CLI_H
#define SEALGATE_CLI_H

struct sg_config;

/* migrate: apply the embedded schema migrations. */
int cli_migrate(const struct sg_config *cfg, int argc, char **argv);

/* queue list [--json] [--limit N] [--pending]
 * queue show ID [--json | --raw] */
int cli_queue(const struct sg_config *cfg, int argc, char **argv);

/* admin user add NAME [--password-file FILE]   (else one line on stdin)
 * admin user delete NAME
 * admin user list [--json] */
int cli_admin(const struct sg_config *cfg, int argc, char **argv);

#endif
