/*
 * supervisor.c - the master process of `sealgate serve`.
 *
 * It binds the listening sockets (possibly as root), applies migrations,
 * then forks one process per role. Roles drop root themselves after
 * reading their keys. A role that dies is restarted with exponential
 * back-off (1 s doubling up to restart_backoff_max, reset once a role ran
 * for a minute); one role's crash never touches another. SIGTERM/SIGINT
 * are passed to the roles, which finish what they are doing; after a
 * grace period stragglers get SIGKILL (an open transaction then rolls
 * back, it is never half-committed).
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "db.h"
#include "delivery.h"
#include "ingress.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "migrate.h"
#include "prober.h"
#include "supervisor.h"
#include "web.h"

#define ROLE_STABLE_SECS 60
#define STOP_GRACE_SECS 15

struct role {
	const char *name;
	int (*run)(const struct sg_config *, const int *, size_t);
	pid_t pid;
	time_t started;
	time_t restart_at;
	unsigned backoff;
	unsigned restarts;
	int disabled;		/* not in `roles` */
};

static int
bind_one(const struct sg_listen *l, char **err_out)
{
	struct addrinfo hints, *res = NULL;
	int fd = -1, on = 1, r;
	struct buf b;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(l->host, l->port, &hints, &res);
	buf_init(&b, 512);
	if (r != 0) {
		(void)buf_printf(&b, "%s:%s: %s", l->host, l->port,
		    gai_strerror(r));
		goto fail;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK,
	    res->ai_protocol);
	if (fd < 0)
		goto sysfail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 1024) < 0)
		goto sysfail;
	freeaddrinfo(res);
	buf_free(&b);
	return fd;
sysfail:
	(void)buf_printf(&b, "%s:%s: %s", l->host, l->port, strerror(errno));
fail:
	if (fd >= 0)
		close(fd);
	if (res != NULL)
		freeaddrinfo(res);
	*err_out = buf_steal(&b, NULL);
	return -1;
}

static pid_t
role_start(struct role *r, const struct sg_config *cfg, const int *fds,
    size_t nfds)
{
	pid_t pid = fork();
	sigset_t none;

	if (pid < 0) {
		log_err("event=fork_failed role=%s error=\"%s\"", r->name,
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGCHLD, SIG_DFL);
		log_set_role(r->name);
		_exit(r->run(cfg, fds, nfds));
	}
	r->pid = pid;
	r->started = time(NULL);
	log_info("event=role_started role=%s pid=%ld", r->name, (long)pid);
	return pid;
}

static void
supervisor_migrate(const struct sg_config *cfg)
{
	char *conninfo = config_conninfo(cfg), *err = NULL;
	struct db *db = db_open(conninfo, &err);
	int applied = 0;

	if (db == NULL)
		fatal("event=db_unavailable error=\"%s\"", err);
	if (migrate_run(db, sg_migrations, sg_nmigrations, &applied, NULL,
	    &err) < 0)
		fatal("event=migrate_failed error=\"%s\"", err);
	log_info("event=migrated applied=%d", applied);
	db_close(&db);
	xfree(conninfo);
}

int
supervisor_serve(const struct sg_config *cfg)
{
	struct role roles[] = {
		{ "ingress", ingress_main, 0, 0, 0, 1, 0, 0 },
		{ "delivery", delivery_main, 0, 0, 0, 1, 0, 0 },
		{ "prober", prober_main, 0, 0, 0, 1, 0, 0 },
		{ "web", web_main, 0, 0, 0, 1, 0, 0 },
	};
	size_t nroles = sizeof(roles) / sizeof(roles[0]), i;
	int *fds = xcalloc(cfg->nlisten, sizeof(int));
	sigset_t set;
	int stopping = 0;
	time_t stop_deadline = 0;
	char *err = NULL;

	log_init("master", cfg->log_level);
	/* a delivery-only node listens on nothing */
	for (i = 0; i < cfg->nlisten && config_has_role(cfg, "ingress"); i++) {
		fds[i] = bind_one(&cfg->listen[i], &err);
		if (fds[i] < 0)
			fatal("event=bind_failed error=\"%s\"", err);
	}
	supervisor_migrate(cfg);

	/* a shell may start us with SIGINT ignored (cmd &); we want it */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < nroles; i++) {
		if (!config_has_role(cfg, roles[i].name)) {
			roles[i].disabled = 1;
			continue;
		}
		role_start(&roles[i], cfg, fds, cfg->nlisten);
	}
	for (i = 0; i < cfg->nlisten && config_has_role(cfg, "ingress"); i++)
		log_info("event=ready smtp=%s:%s", cfg->listen[i].host,
		    cfg->listen[i].port);

	for (;;) {
		struct timespec ts = { 1, 0 };
		int sig = sigtimedwait(&set, NULL, &ts);
		time_t now = time(NULL);
		size_t alive = 0;
		pid_t pid;
		int status;

		if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
			stopping = 1;
			stop_deadline = now + STOP_GRACE_SECS;
			log_info("event=stopping signal=%d", sig);
			for (i = 0; i < nroles; i++)
				if (roles[i].pid > 0)
					kill(roles[i].pid, SIGTERM);
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < nroles; i++) {
				struct role *r = &roles[i];
				if (r->pid != pid)
					continue;
				r->pid = 0;
				if (stopping) {
					log_info("event=role_stopped role=%s",
					    r->name);
					break;
				}
				if (now - r->started >= ROLE_STABLE_SECS)
					r->backoff = 1;
				log_warn("event=role_died role=%s pid=%ld "
				    "%s=%d restart_in=%u", r->name, (long)pid,
				    WIFSIGNALED(status) ? "signal" : "status",
				    WIFSIGNALED(status) ? WTERMSIG(status) :
				    WEXITSTATUS(status), r->backoff);
				r->restart_at = now + r->backoff;
				r->backoff *= 2;
				if (r->backoff > cfg->restart_backoff_max)
					r->backoff = cfg->restart_backoff_max;
			}
		}
		for (i = 0; i < nroles; i++) {
			if (roles[i].disabled)
				continue;
			if (roles[i].pid > 0) {
				alive++;
				continue;
			}
			if (!stopping && now >= roles[i].restart_at) {
				roles[i].restarts++;
				if (role_start(&roles[i], cfg, fds,
				    cfg->nlisten) > 0)
					alive++;
			}
		}
		if (stopping && alive == 0)
			break;
		if (stopping && now >= stop_deadline) {
			for (i = 0; i < nroles; i++)
				if (roles[i].pid > 0) {
					log_warn("event=role_killed role=%s",
					    roles[i].name);
					kill(roles[i].pid, SIGKILL);
				}
			stop_deadline = now + 5;
		}
	}
	log_info("event=stopped");
	xfree(fds);
	return 0;
}
