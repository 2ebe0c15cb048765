/*
 * main.c - the sealgate command line: global options, then a command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "supervisor.h"

#ifndef SEALGATE_VERSION
#define SEALGATE_VERSION "0.1.0"
#endif

#define DEFAULT_CONFIG "/etc/sealgate/sealgate.conf"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sealgate [-c CONFIG] COMMAND [ARGS]\n"
	    "\n"
	    "Secure outbound mail gateway.\n"
	    "\n"
	    "Global options:\n"
	    "  -c, --config FILE   configuration file (default: $SEALGATE_CONFIG\n"
	    "                      or " DEFAULT_CONFIG ")\n"
	    "  -h, --help          this help\n"
	    "\n"
	    "Commands:\n"
	    "  serve               run the gateway (supervisor and roles)\n"
	    "  migrate             apply database migrations\n"
	    "  check-config        validate the configuration file\n"
	    "  queue               list and show queued messages\n"
	    "  admin               manage SMTP AUTH users\n"
	    "  log                 delivery attempts: how each hop was "
	    "protected\n"
	    "  probe DOMAIN        probe a domain's MX hosts for TLS now and "
	    "store it\n"
	    "  rule                list and change the policy rules\n"
	    "  key                 recipient PGP keys and S/MIME "
	    "certificates\n"
	    "  policy preview      what would happen to mail from A to B, "
	    "and why\n"
	    "  escrow              the escrow store: keygen, list, recall, "
	    "purge, audit\n"
	    "  version             print the version\n"
	    "\n"
	    "Run `sealgate COMMAND --help` for a command's options.\n");
}

static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static struct sg_config *
load_or_die(const char *path)
{
	char *err = NULL;
	struct sg_config *cfg = config_load(path, &err);

	if (cfg == NULL) {
		/* "FILE:LINE: reason", nothing before it: editors and
		 * scripts jump to the line */
		fprintf(stderr, "%s\n", err);
		xfree(err);
		exit(1);
	}
	return cfg;
}

int
main(int argc, char **argv)
{
	const char *path = getenv("SEALGATE_CONFIG");
	struct sg_config *cfg;
	const char *cmd;
	int i = 1, rc;

	if (path == NULL || *path == '\0')
		path = DEFAULT_CONFIG;
	while (i < argc && argv[i][0] == '-') {
		if ((strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
			path = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("sealgate %s\n", SEALGATE_VERSION);
			return 0;
		} else {
			fprintf(stderr, "sealgate: unknown option %s\n",
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i];
	argc -= i;
	argv += i;

	if (strcmp(cmd, "version") == 0) {
		printf("sealgate %s\n", SEALGATE_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "check-config") == 0) {
		if (wants_help(argc, argv)) {
			printf("usage: sealgate [-c CONFIG] check-config\n\n"
			    "Parse and validate the configuration file; print "
			    "FILE:LINE: reason\nfor the first problem and exit "
			    "1, or print \"FILE: ok\" and exit 0.\n");
			return 0;
		}
		cfg = load_or_die(path);
		printf("%s: ok\n", cfg->path);
		config_free(&cfg);
		return 0;
	}
	if (strcmp(cmd, "serve") == 0) {
		if (wants_help(argc, argv)) {
			printf("usage: sealgate [-c CONFIG] serve\n\n"
			    "Run the gateway in the foreground: bind the "
			    "listeners, apply migrations,\nstart the roles "
			    "and restart any that crash. SIGTERM or SIGINT "
			    "stops it.\n");
			return 0;
		}
		cfg = load_or_die(path);
		rc = supervisor_serve(cfg);
		config_free(&cfg);
		return rc;
	}
	{
		static const struct {
			const char *name;
			int (*fn)(const struct sg_config *, int, char **);
		} cmds[] = {
			{ "migrate", cli_migrate },
			{ "queue", cli_queue },
			{ "admin", cli_admin },
			{ "log", cli_log },
			{ "probe", cli_probe },
			{ "rule", cli_rule },
			{ "key", cli_key },
			{ "policy", cli_policy },
			{ "escrow", cli_escrow },
		};
		size_t k;

		for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
			if (strcmp(cmd, cmds[k].name) != 0)
				continue;
			/* --help must work without a config file */
			if (wants_help(argc, argv))
				return cmds[k].fn(NULL, argc, argv);
			cfg = load_or_die(path);
			log_init("cli", cfg->log_level);
			rc = cmds[k].fn(cfg, argc, argv);
			config_free(&cfg);
			return rc;
		}
	}
	fprintf(stderr, "sealgate: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
