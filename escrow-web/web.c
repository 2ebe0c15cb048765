/*
 * web.c - the web role: start-up, the HTTP daemons, the timer thread
 * (purge every WEB_PURGE_INTERVAL, reset mails) and shutdown.
 *
 * Start-up order: bind the sockets (maybe as root, for port 443), read
 * certificate, key, templates and the master key, drop root, check the
 * database, then start the daemons. libmicrohttpd runs
 * portal_threads worker threads per daemon, each with its own epoll
 * set (a thread pool, not a thread per connection), under connection,
 * per-address, memory and idle-time limits; TLS is GnuTLS with TLS 1.2
 * and 1.3 only and AEAD ciphers of at least 128 bits with forward
 * secrecy. The main thread does the periodic work and waits for a
 * signal; on SIGTERM it stops accepting, gives running requests
 * WEB_STOP_GRACE seconds, then stops.
 * Logging: key=value lines, role "web"; no secrets, no content.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "db.h"
#include "escrow.h"
#include "privdrop.h"
#include "seal.h"
#include "web.h"
#include "web_app.h"
#include "web_cache.h"
#include "web_dbpool.h"
#include "web_mime.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/sg_limits.h"
#include "lib/xalloc.h"

#define WEB_PEM_MAX		(1024 * 1024)
#define WEB_UPLOAD_BUDGET	(256u * 1024 * 1024)

/*
 * GnuTLS priorities: TLS 1.3 and 1.2 only; AES-GCM and ChaCha20-Poly1305
 * (>= 128-bit, AEAD); ECDHE key exchange (forward secrecy) for 1.2;
 * SECURE128 keeps groups and signatures at >= 128-bit security.
 */
#define WEB_TLS_PRIORITIES "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:" \
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA:%SERVER_PRECEDENCE"

static volatile sig_atomic_t web_stop;

static void
web_on_signal(int sig)
{
	(void)sig;
	web_stop = 1;
}

/* mhd_log - libmicrohttpd's messages as our log lines */
static void mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512], esc[SG_LOG_VALUE_MAX + 16];
	int n;

	(void)cls;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	n = (int)strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	log_escape(esc, sizeof(esc), msg, (size_t)n);
	log_warn("event=mhd message=\"%s\"", esc);
}

/* read_pem - a certificate or key file, NUL-terminated (xfree()) */
static char *
read_pem(const char *path, size_t *len_out, char **err_out)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err_out = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b, WEB_PEM_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_append(&b, chunk, (size_t)n) < 0) {
			*err_out = xasprintf("%s: %s", path, n < 0 ?
			    strerror(errno) : "too large");
			OPENSSL_cleanse(chunk, sizeof(chunk));
			buf_free_secure(&b);
			close(fd);
			return NULL;
		}
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	close(fd);
	if (b.len == 0) {
		*err_out = xasprintf("%s: empty", path);
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, len_out);
}

/* bind_listen - a non-blocking listening socket on host:port */
static int
bind_listen(const char *host, const char *port, char **err_out)
{
	struct addrinfo hints, *res = NULL;
	int fd = -1, on = 1, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		*err_out = xasprintf("%s:%s: %s", host, port, gai_strerror(r));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 1024) < 0)
		goto fail;
	freeaddrinfo(res);
	return fd;
fail:
	*err_out = xasprintf("%s:%s: %s", host, port, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

/* split_hostport - "127.0.0.1:8080" or "[::1]:8080" (checked by config) */
static int
split_hostport(const char *s, char *host, size_t hostsz, char *port,
    size_t portsz)
{
	const char *colon = strrchr(s, ':');
	size_t hl;

	if (colon == NULL)
		return -1;
	if (s[0] == '[') {
		if (colon == s || colon[-1] != ']')
			return -1;
		hl = (size_t)(colon - s) - 2;
		s++;
	} else {
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostsz || strlen(colon + 1) >= portsz)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

static struct MHD_Daemon *
start_daemon(struct web_listener *l, unsigned threads, const char *cert,
    const char *key)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[16];
	size_t n = 0;

	/* the logger first, so start-up messages go through it too */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)mhd_log, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET,
	    l->fd, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE,
	    threads, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    WEB_CONN_MAX, NULL };
	opts[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, WEB_CONN_MEMORY, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    WEB_CONN_TIMEOUT, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)web_http_completed, l };
	/* strict HTTP/1.1 parsing: no bare LF, no spaces in field names */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SIGPIPE_HANDLED_BY_APP,
	    1, NULL };
	if (l->tls) {
		flags |= MHD_USE_TLS;
		/* behind a proxy every peer is the proxy: no per-IP cap */
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, WEB_CONN_PER_IP_MAX,
		    NULL };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT,
		    0, (void *)cert };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY,
		    0, (void *)key };
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)WEB_TLS_PRIORITIES };
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return MHD_start_daemon(flags, 0, NULL, NULL, web_http_handler, l,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

/* purge - the expired messages (escrow store) and our own leftovers */
static void
purge(struct web_app *app)
{
	char *err = NULL;
	struct db *db;
	long n = 0, sessions = 0;

	if ((db = web_dbpool_get(app->pool, &err)) == NULL) {
		log_err("event=purge_failed error=\"%s\"", err != NULL ? err :
		    "?");
		xfree(err);
		return;
	}
	if (escrow_purge_expired(db, &n, &err) < 0) {
		log_err("event=purge_failed error=\"%s\"", err != NULL ? err :
		    "?");
		xfree(err);
	} else if (n > 0) {
		log_info("event=purge purged=%ld", n);
	}
	if (portal_db_cleanup(db, WEB_THROTTLE_WINDOW, &sessions, &err) < 0) {
		log_err("event=cleanup_failed error=\"%s\"", err != NULL ?
		    err : "?");
		xfree(err);
	} else if (sessions > 0) {
		log_info("event=sessions_expired count=%ld", sessions);
	}
	web_dbpool_put(app->pool, db);
}

/* timer_loop - purge on schedule, mail reset links, until a signal */
static void
timer_loop(struct web_app *app)
{
	time_t next_purge = time(NULL) + 10;

	while (!web_stop) {
		struct web_job *j = NULL;
		struct timespec until;

		pthread_mutex_lock(&app->mu);
		if (app->jobs == NULL) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&app->cv, &app->mu, &until);
		}
		if (app->jobs != NULL) {
			j = app->jobs;
			app->jobs = j->next;
			if (app->jobs == NULL)
				app->jobs_tail = NULL;
			app->njobs--;
		}
		pthread_mutex_unlock(&app->mu);
		if (j != NULL) {
			web_reset_job_run(app, j);
			OPENSSL_cleanse(j, sizeof(*j));
			xfree(j);
		}
		if (time(NULL) >= next_purge) {
			purge(app);
			next_purge = time(NULL) + WEB_PURGE_INTERVAL;
		}
	}
}

static void
app_init(struct web_app *app, const struct sg_config *cfg)
{
	memset(app, 0, sizeof(*app));
	app->cfg = cfg;
	pthread_mutex_init(&app->mu, NULL);
	pthread_cond_init(&app->cv, NULL);
	atomic_init(&app->upload_inflight, 0);
	atomic_init(&app->next_req, 0);
	app->limits.max_failures = cfg->portal_max_failures;
	app->limits.window = WEB_THROTTLE_WINDOW;
	app->limits.lockout = cfg->portal_lockout;
	app->reply_spec[0] = (struct web_form_spec){ "csrf", 128, 0 };
	app->reply_spec[1] = (struct web_form_spec){ "body",
	    WEB_REPLY_TEXT_MAX, 0 };
	app->reply_spec[2] = (struct web_form_spec){ "file",
	    (size_t)cfg->portal_reply_max, WEB_FORM_F_FILE };
	app->upload_budget = WEB_UPLOAD_BUDGET;
	if (app->upload_budget < 2 * (size_t)cfg->portal_reply_max)
		app->upload_budget = 2 * (size_t)cfg->portal_reply_max;
	app->cache = web_cache_new(WEB_SUMMARY_CACHE);
}

int
web_main(const struct sg_config *cfg, const int *fds, size_t nfds)
{
	struct web_app app;
	struct web_listener *ls;
	struct sigaction sa;
	sigset_t block, old;
	const char *cert_path, *key_path;
	char *cert = NULL, *key = NULL, *conninfo, *err = NULL;
	size_t nls = 0, i, cert_len = 0, key_len = 0;
	struct db *db;
	time_t deadline;

	signal(SIGPIPE, SIG_IGN);
	/* the SMTP listeners are ingress's business (the supervisor binds
	 * them only when ingress runs; otherwise the array is zeros) */
	for (i = 0; i < nfds && config_has_role(cfg, "ingress"); i++)
		if (fds[i] > 2)
			close(fds[i]);
	app_init(&app, cfg);

	/* keys, as root if need be, before dropping privileges */
	app.master = escrow_master_load(cfg, &err);
	if (app.master == NULL)
		fatal("event=master_key_failed error=\"%s\"", err);
	cert_path = cfg->portal_tls_cert_file != NULL ?
	    cfg->portal_tls_cert_file : cfg->tls_cert_file;
	key_path = cfg->portal_tls_key_file != NULL ?
	    cfg->portal_tls_key_file : cfg->tls_key_file;
	if (cfg->nportal_listen > 0) {
		if (cert_path == NULL || key_path == NULL)
			fatal("event=web_setup_failed error=\"no certificate: "
			    "set portal_tls_cert_file and portal_tls_key_file "
			    "(or smtp_tls_*)\"");
		if ((cert = read_pem(cert_path, &cert_len, &err)) == NULL ||
		    (key = read_pem(key_path, &key_len, &err)) == NULL)
			fatal("event=web_setup_failed error=\"%s\"", err);
	}
	ls = xcalloc(cfg->nportal_listen + 1, sizeof(*ls));
	for (i = 0; i < cfg->nportal_listen; i++, nls++) {
		ls[nls].app = &app;
		ls[nls].tls = 1;
		ls[nls].name = xasprintf("%s:%s", cfg->portal_listen[i].host,
		    cfg->portal_listen[i].port);
		ls[nls].fd = bind_listen(cfg->portal_listen[i].host,
		    cfg->portal_listen[i].port, &err);
		if (ls[nls].fd < 0)
			fatal("event=bind_failed error=\"%s\"", err);
	}
	if (cfg->portal_http_listen != NULL) {
		char host[INET6_ADDRSTRLEN + 2], port[16];

		if (split_hostport(cfg->portal_http_listen, host, sizeof(host),
		    port, sizeof(port)) < 0)
			fatal("event=bind_failed error=\"portal_http_listen: "
			    "want host:port\"");
		ls[nls].app = &app;
		ls[nls].tls = 0;
		ls[nls].name = xstrdup(cfg->portal_http_listen);
		ls[nls].fd = bind_listen(host, port, &err);
		if (ls[nls].fd < 0)
			fatal("event=bind_failed error=\"%s\"", err);
		nls++;
	}
	if (nls == 0)
		fatal("event=web_setup_failed error=\"no portal_listen\"");
	app.pages = web_pages_load(cfg, &err);
	if (app.pages == NULL)
		fatal("event=templates_failed error=\"%s\"", err);
	if (RAND_bytes(app.pre_secret, sizeof(app.pre_secret)) != 1)
		fatal("event=web_setup_failed error=\"no randomness\"");
	app.portal_url = escrow_portal_url(cfg);
	app.escrow_from = escrow_from_address(cfg);
	/* GMime's global tables, before any thread could race for them */
	web_mime_init();

	if (privdrop(cfg->run_user, &err) < 0)
		fatal("event=privdrop_failed error=\"%s\"", err);

	/* one connection per worker thread, and one for the timer */
	conninfo = config_conninfo(cfg);
	app.pool = web_dbpool_new(conninfo, (size_t)cfg->portal_threads *
	    nls + 1);
	xfree(conninfo);
	if ((db = web_dbpool_get(app.pool, &err)) == NULL)
		fatal("event=db_unavailable error=\"%s\"", err);
	web_dbpool_put(app.pool, db);

	/* worker threads inherit this mask: signals go to the main thread */
	sigfillset(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < nls; i++) {
		ls[i].daemon = start_daemon(&ls[i], cfg->portal_threads, cert,
		    key);
		if (ls[i].daemon == NULL)
			fatal("event=web_start_failed listener=%s",
			    ls[i].name);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = web_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (i = 0; i < nls; i++)
		log_info("event=web_listening listener=%s tls=%s threads=%u",
		    ls[i].name, ls[i].tls ? "yes" : "no", cfg->portal_threads);
	log_info("event=web_ready listeners=%zu portal_url=%s", nls,
	    app.portal_url);

	timer_loop(&app);

	/* stop: no new connections; running requests get a moment */
	log_info("event=web_stopping");
	for (i = 0; i < nls; i++)
		(void)MHD_quiesce_daemon(ls[i].daemon);
	deadline = time(NULL) + WEB_STOP_GRACE;
	for (;;) {
		unsigned busy = 0;

		for (i = 0; i < nls; i++) {
			const union MHD_DaemonInfo *di = MHD_get_daemon_info(
			    ls[i].daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
			if (di != NULL)
				busy += di->num_connections;
		}
		if (busy == 0 || time(NULL) >= deadline)
			break;
		usleep(100 * 1000);
	}
	for (i = 0; i < nls; i++) {
		MHD_stop_daemon(ls[i].daemon);
		close(ls[i].fd);
		xfree(ls[i].name);
	}
	xfree(ls);
	if (key != NULL)
		OPENSSL_cleanse(key, key_len);
	xfree(key);
	xfree(cert);
	web_pages_free(&app.pages);
	web_cache_free(&app.cache);
	web_dbpool_free(&app.pool);
	seal_master_free(&app.master);
	xfree(app.portal_url);
	xfree(app.escrow_from);
	log_info("event=web_stopped");
	return 0;
}
