/*
 * ingress.c - the SMTP ingress role.
 *
 * One epoll loop serves every connection; a session is a small state
 * struct (smtp_session) plus its socket and TLS object, so an idle client
 * costs memory, not a thread. Work that may block — the queue commit and
 * the memory-hard password check — goes to a bounded pool of threads,
 * each with its own database connection; results come back through an
 * eventfd. 250 is sent only after the commit returned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config.h"
#include "ingress.h"
#include "lib/log.h"
#include "lib/sg_limits.h"
#include "lib/xalloc.h"
#include "passwd.h"
#include "privdrop.h"
#include "queue_db.h"
#include "smtp_session.h"
#include "tls_ctx.h"
#include "user_db.h"
#include "db.h"

enum conn_io { CONN_PLAIN, CONN_TLS_FLUSH, CONN_HANDSHAKE, CONN_TLS };

struct conn {
	int fd;
	unsigned long id;
	enum conn_io io;
	SSL *ssl;
	struct smtp_session *s;
	struct smtp_client_facts facts;
	char addr[INET6_ADDRSTRLEN];
	int64_t deadline;		/* monotonic ms */
	uint32_t events;		/* current epoll interest */
	int busy;			/* a job is out for this connection */
	int dead;			/* peer gone; free when job returns */
	int closing;			/* flush output, then close */
	int ssl_want_write;		/* TLS read/handshake needs POLLOUT */
	unsigned nqueued;
	struct conn *prev, *next;
};

enum job_type { JOB_COMMIT, JOB_AUTH };

struct job {
	enum job_type type;
	struct conn *c;
	int result;
	struct job *next;
};

struct ingress {
	const struct sg_config *cfg;
	struct smtp_session_conf sconf;
	SSL_CTX *tls;
	int epfd;
	int evfd;
	const int *lfds;
	size_t nlfds;
	struct conn *conns;
	unsigned nconns;
	unsigned long next_id;
	char *conninfo;
	int stopping;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *todo, *todo_tail;
	struct job *done;
	int stop_workers;
	pthread_t *workers;
	unsigned nworkers;
};

static volatile sig_atomic_t ingress_stop;

/* now_ms - monotonic clock in milliseconds (deadlines never jump) */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
ingress_on_signal(int sig)
{
	(void)sig;
	ingress_stop = 1;
}

/* --- worker threads ---------------------------------------------------- */

/* Hash of a random password: AUTH for an unknown user costs the same. */
static char *dummy_hash;

static int
job_auth(struct db **dbp, struct ingress *g, struct conn *c)
{
	const char *user, *pass;
	size_t plen;
	char *hash = NULL, *err = NULL;
	int r, v;

	smtp_session_auth_creds(c->s, &user, &pass, &plen);
	if (*dbp == NULL && (*dbp = db_open(g->conninfo, &err)) == NULL) {
		log_err("event=db_error error=\"%s\"", err);
		xfree(err);
		return -1;
	}
	r = user_db_get_hash(*dbp, user, &hash, &err);
	if (r < 0) {
		log_err("event=db_error error=\"%s\"", err ? err : "?");
		xfree(err);
		return -1;
	}
	v = passwd_verify(pass, plen, r == 1 ? hash : dummy_hash);
	xfree(hash);
	return r == 1 && v == 1 ? 1 : 0;
}

static int
job_commit(struct db **dbp, struct ingress *g, struct conn *c)
{
	const struct smtp_txn *t = smtp_session_txn(c->s);
	struct queue_msg m;
	char *err = NULL;
	int r;

	memset(&m, 0, sizeof(m));
	m.id = t->queue_id;
	m.mail_from = t->mail_from;
	m.rcpts = t->rcpts;
	m.nrcpt = t->nrcpt;
	m.data = t->data;
	m.len = t->len;
	m.mail_params = t->mail_params;
	m.body_type = t->body_type;
	m.requiretls = t->requiretls;
	m.client_addr = c->addr;
	m.client_helo = t->helo;
	m.auth_user = t->auth_user;
	m.tls_protocol = t->tls_protocol;
	m.tls_cipher = t->tls_cipher;
	m.tls_bits = t->tls_bits;
	if (*dbp == NULL && (*dbp = db_open(g->conninfo, &err)) == NULL) {
		log_err("session=%lu queue_id=%s event=db_error error=\"%s\"",
		    c->id, t->queue_id, err);
		xfree(err);
		return -1;
	}
	r = queue_db_insert(*dbp, &m, &err);
	if (r < 0) {
		log_err("session=%lu queue_id=%s event=queue_error "
		    "transient=%d error=\"%s\"", c->id, t->queue_id, r == -2,
		    err ? err : "?");
		xfree(err);
		/* Never 5xx for our own trouble: the client keeps it. */
		return -1;
	}
	return 0;
}

static void *
worker_main(void *arg)
{
	struct ingress *g = arg;
	struct db *db = NULL;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		struct job *j;
		uint64_t one = 1;

		pthread_mutex_lock(&g->mu);
		while (g->todo == NULL && !g->stop_workers)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->todo == NULL) {
			pthread_mutex_unlock(&g->mu);
			break;
		}
		j = g->todo;
		g->todo = j->next;
		if (g->todo == NULL)
			g->todo_tail = NULL;
		pthread_mutex_unlock(&g->mu);

		j->result = j->type == JOB_COMMIT ? job_commit(&db, g, j->c) :
		    job_auth(&db, g, j->c);

		pthread_mutex_lock(&g->mu);
		j->next = g->done;
		g->done = j;
		pthread_mutex_unlock(&g->mu);
		(void)!write(g->evfd, &one, sizeof(one));
	}
	db_close(&db);
	return NULL;
}

static void
job_submit(struct ingress *g, struct conn *c, enum job_type type)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->type = type;
	j->c = c;
	c->busy = 1;
	pthread_mutex_lock(&g->mu);
	if (g->todo_tail != NULL)
		g->todo_tail->next = j;
	else
		g->todo = j;
	g->todo_tail = j;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* --- connections -------------------------------------------------------- */

static void
conn_set_deadline(struct ingress *g, struct conn *c)
{
	unsigned t = smtp_session_state(c->s) == SMTP_STATE_DATA ?
	    g->cfg->data_timeout : g->cfg->idle_timeout;
	c->deadline = now_ms() + (int64_t)t * 1000;
}

static void
conn_free(struct ingress *g, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	g->nconns--;
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	smtp_session_free(&c->s);
	xfree(c);
}

static void
conn_close(struct ingress *g, struct conn *c, const char *why)
{
	log_info("session=%lu event=disconnect client=%s reason=%s queued=%u",
	    c->id, c->addr, why, c->nqueued);
	if (c->fd >= 0) {
		/* say close_notify (RFC 8446 6.1); best effort, no waiting */
		if (c->ssl != NULL && c->io == CONN_TLS) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
		}
		epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (c->busy) {
		c->dead = 1;	/* the worker still uses the session */
		return;
	}
	conn_free(g, c);
}

/* conn_flush - write pending replies. 0 all sent/would block, -1 error */
static int
conn_flush(struct conn *c)
{
	struct buf *out = smtp_session_output(c->s);

	while (out->len > 0) {
		ssize_t n;
		if (c->io == CONN_TLS) {
			int r;
			ERR_clear_error();
			r = SSL_write(c->ssl, out->data, (int)out->len);
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ)
					return 0;
				return -1;
			}
			n = r;
		} else {
			n = send(c->fd, out->data, out->len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return 0;
				return -1;
			}
		}
		buf_consume(out, (size_t)n);
	}
	return 0;
}

static void
conn_update_events(struct ingress *g, struct conn *c)
{
	uint32_t ev = 0;
	struct epoll_event e;

	if (c->fd < 0)
		return;
	if (smtp_session_output(c->s)->len > 0 || c->ssl_want_write)
		ev |= EPOLLOUT;
	if (!c->busy && !c->closing &&
	    (c->io == CONN_HANDSHAKE || smtp_session_input_room(c->s) > 0))
		ev |= EPOLLIN;
	if (ev == c->events)
		return;
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(g->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
		c->events = ev;
}

/* conn_act - carry out what the session asked for */
static void
conn_act(struct ingress *g, struct conn *c, enum smtp_action a)
{
	switch (a) {
	case SMTP_ACT_STARTTLS:
		c->io = CONN_TLS_FLUSH;
		break;
	case SMTP_ACT_AUTH:
		job_submit(g, c, JOB_AUTH);
		break;
	case SMTP_ACT_COMMIT:
		job_submit(g, c, JOB_COMMIT);
		break;
	case SMTP_ACT_CLOSE:
		c->closing = 1;
		break;
	case SMTP_ACT_NONE:
		break;
	}
}

static void
conn_start_tls(struct ingress *g, struct conn *c)
{
	c->ssl = SSL_new(g->tls);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		c->closing = 1;
		return;
	}
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	c->io = CONN_HANDSHAKE;
}

/* conn_handshake - 1 done, 0 in progress, -1 failed */
static int
conn_handshake(struct conn *c)
{
	int r, e;
	struct tls_info ti;

	ERR_clear_error();
	r = SSL_accept(c->ssl);
	if (r == 1) {
		c->ssl_want_write = 0;
		c->io = CONN_TLS;
		tls_info_get(c->ssl, &ti);
		smtp_session_tls_done(c->s, ti.protocol, ti.cipher, ti.bits);
		log_info("session=%lu event=starttls client=%s protocol=%s "
		    "cipher=%s bits=%d", c->id, c->addr, ti.protocol,
		    ti.cipher, ti.bits);
		return 1;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		c->ssl_want_write = 0;
		return 0;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		c->ssl_want_write = 1;
		return 0;
	}
	{
		char *why = tls_errors();
		log_info("session=%lu event=tls_failed client=%s error=\"%s\"",
		    c->id, c->addr, why);
		xfree(why);
	}
	return -1;
}

/* conn_read - read what the session has room for. 1 data, 0 none, -1 EOF/err */
static int
conn_read(struct conn *c)
{
	char tmp[16384];
	int got = 0;

	for (;;) {
		size_t room = smtp_session_input_room(c->s);
		ssize_t n;

		if (room == 0)
			break;
		if (room > sizeof(tmp))
			room = sizeof(tmp);
		if (c->io == CONN_TLS) {
			int r, e;
			ERR_clear_error();
			r = SSL_read(c->ssl, tmp, (int)room);
			if (r <= 0) {
				e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_READ)
					break;
				if (e == SSL_ERROR_WANT_WRITE) {
					c->ssl_want_write = 1;
					break;
				}
				return got ? 1 : -1;
			}
			c->ssl_want_write = 0;
			n = r;
		} else {
			n = recv(c->fd, tmp, room, 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return got ? 1 : -1;
			}
			if (n == 0)
				return got ? 1 : -1;
		}
		if (smtp_session_input(c->s, tmp, (size_t)n) < 0)
			return -1;
		got = 1;
		if (c->io != CONN_TLS && (size_t)n < room)
			break;
	}
	return got;
}

/* conn_progress - run the session and I/O as far as possible */
static void
conn_progress(struct ingress *g, struct conn *c, uint32_t events)
{
	int r;

	if (c->io == CONN_HANDSHAKE) {
		r = conn_handshake(c);
		if (r < 0) {
			conn_close(g, c, "tls_failed");
			return;
		}
		if (r == 0) {
			conn_update_events(g, c);
			return;
		}
		conn_set_deadline(g, c);
	}
	if (!c->busy && !c->closing && c->io != CONN_TLS_FLUSH &&
	    (events & (EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLERR))) {
		r = conn_read(c);
		if (r < 0) {
			conn_close(g, c, "peer_closed");
			return;
		}
		if (r > 0)
			conn_set_deadline(g, c);
	}
	if (!c->busy && !c->closing && c->io != CONN_TLS_FLUSH)
		conn_act(g, c, smtp_session_run(c->s));
	if (conn_flush(c) < 0) {
		conn_close(g, c, "write_error");
		return;
	}
	if (smtp_session_output(c->s)->len == 0) {
		if (c->closing) {
			conn_close(g, c, "quit");
			return;
		}
		if (c->io == CONN_TLS_FLUSH) {
			conn_start_tls(g, c);
			if (c->closing) {
				conn_close(g, c, "tls_setup");
				return;
			}
			r = conn_handshake(c);
			if (r < 0) {
				conn_close(g, c, "tls_failed");
				return;
			}
		}
	}
	conn_update_events(g, c);
}

static unsigned
conns_from(struct ingress *g, const char *addr)
{
	unsigned n = 0;
	struct conn *c;

	for (c = g->conns; c != NULL; c = c->next)
		if (c->fd >= 0 && strcmp(c->addr, addr) == 0)
			n++;
	return n;
}

static void
reject_connection(int fd, const char *text)
{
	(void)!send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void
ingress_accept(struct ingress *g, int lfd)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct conn *c;
		struct epoll_event e;
		int fd;

		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("event=accept_error error=\"%s\"",
				    strerror(errno));
			return;
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->id = ++g->next_id;
		if (getnameinfo((struct sockaddr *)&ss, sl, c->addr,
		    sizeof(c->addr), NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(c->addr, sizeof(c->addr), "unknown");
		if (g->nconns >= g->cfg->max_sessions) {
			log_warn("event=reject_connection client=%s "
			    "reason=max_sessions", c->addr);
			reject_connection(fd, "421 4.7.0 Server busy, try "
			    "again later\r\n");
			xfree(c);
			continue;
		}
		if (conns_from(g, c->addr) >= g->cfg->max_sessions_per_client) {
			log_warn("event=reject_connection client=%s "
			    "reason=per_client_limit", c->addr);
			reject_connection(fd, "421 4.7.0 Too many connections "
			    "from your address\r\n");
			xfree(c);
			continue;
		}
		c->facts.addr = c->addr;
		c->facts.relay_allowed = cidr_match(g->cfg->relay_networks,
		    g->cfg->nrelay_networks, (struct sockaddr *)&ss);
		c->s = smtp_session_new(&g->sconf, &c->facts);
		c->next = g->conns;
		if (g->conns != NULL)
			g->conns->prev = c;
		g->conns = c;
		g->nconns++;
		e.events = 0;
		e.data.ptr = c;
		epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &e);
		conn_set_deadline(g, c);
		log_info("session=%lu event=connect client=%s relay=%s",
		    c->id, c->addr, c->facts.relay_allowed ? "yes" : "no");
		conn_progress(g, c, 0);
	}
}

/* ingress_jobs_done - hand finished jobs back to their sessions */
static void
ingress_jobs_done(struct ingress *g)
{
	struct job *list, *j;
	uint64_t v;

	(void)!read(g->evfd, &v, sizeof(v));
	pthread_mutex_lock(&g->mu);
	list = g->done;
	g->done = NULL;
	pthread_mutex_unlock(&g->mu);
	while ((j = list) != NULL) {
		struct conn *c = j->c;

		list = j->next;
		c->busy = 0;
		if (j->type == JOB_COMMIT) {
			const struct smtp_txn *t = smtp_session_txn(c->s);
			if (j->result == 0) {
				c->nqueued++;
				log_info("session=%lu queue_id=%s event=queued "
				    "from=<%s> nrcpt=%zu size=%zu tls=%s "
				    "requiretls=%d", c->id, t->queue_id,
				    t->mail_from, t->nrcpt, t->len,
				    t->tls_protocol ? t->tls_protocol : "none",
				    t->requiretls);
			}
			smtp_session_commit_done(c->s, j->result);
		} else {
			const char *u, *p;
			size_t pl;
			char esc[256];
			smtp_session_auth_creds(c->s, &u, &p, &pl);
			log_info("session=%lu event=auth user=\"%s\" result=%s",
			    c->id, log_escape(esc, sizeof(esc), u, strlen(u)),
			    j->result == 1 ? "ok" : j->result == 0 ? "fail" :
			    "tempfail");
			smtp_session_auth_done(c->s, j->result);
		}
		xfree(j);
		if (c->dead) {
			conn_free(g, c);
			continue;
		}
		conn_set_deadline(g, c);
		if (g->stopping && c->io != CONN_HANDSHAKE) {
			/* reply already queued; then say goodbye */
			conn_act(g, c, smtp_session_shutdown(c->s));
			conn_progress(g, c, 0);
			continue;
		}
		conn_progress(g, c, EPOLLIN);
	}
}

/* ingress_timeouts - expire idle sessions; returns ms to the next deadline */
static int
ingress_timeouts(struct ingress *g)
{
	int64_t now = now_ms(), next_in = 1000;
	struct conn *c, *next;

	for (c = g->conns; c != NULL; c = next) {
		next = c->next;
		if (c->fd < 0 || c->busy)
			continue;
		if (now < c->deadline) {
			if (c->deadline - now < next_in)
				next_in = c->deadline - now;
			continue;
		}
		if (c->closing || c->io == CONN_HANDSHAKE ||
		    c->io == CONN_TLS_FLUSH) {
			conn_close(g, c, "timeout");
			continue;
		}
		log_info("session=%lu event=timeout client=%s state=%d",
		    c->id, c->addr, (int)smtp_session_state(c->s));
		conn_act(g, c, smtp_session_timeout(c->s));
		/* give the 421 a short while to go out */
		c->deadline = now + 5000;
		conn_progress(g, c, 0);
	}
	return (int)next_in;
}

static int
ingress_setup(struct ingress *g)
{
	struct epoll_event e;
	char *err = NULL;
	size_t i;

	g->sconf.hostname = g->cfg->hostname;
	g->sconf.msg_max = g->cfg->message_size_limit;
	g->sconf.rcpt_max = g->cfg->recipient_limit;
	g->sconf.error_max = g->cfg->hard_error_limit;
	g->sconf.auth_enabled = g->cfg->auth_enabled;
	g->sconf.require_tls = g->cfg->require_tls;
	g->sconf.bare_lf = g->cfg->bare_lf == BARE_LF_NORMALIZE ?
	    SMTP_DATA_BARE_NORMALIZE : SMTP_DATA_BARE_REJECT;
	g->sconf.reject_8bit_headers =
	    g->cfg->eightbit_headers == EIGHTBIT_HDR_REJECT;
	if (g->cfg->tls_cert_file != NULL) {
		struct tls_ctx_conf tc = {
			g->cfg->tls_cert_file, g->cfg->tls_key_file,
			g->cfg->tls_min_version, g->cfg->tls_ciphers,
			g->cfg->tls_ciphersuites,
		};
		g->tls = tls_ctx_server_new(&tc, &err);
		if (g->tls == NULL) {
			log_err("event=tls_setup_failed error=\"%s\"", err);
			xfree(err);
			return -1;
		}
		g->sconf.tls_available = 1;
	}
	g->conninfo = config_conninfo(g->cfg);
	dummy_hash = passwd_hash("sealgate-dummy-password", 23);
	if (dummy_hash == NULL)
		return -1;

	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	g->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (g->epfd < 0 || g->evfd < 0)
		return -1;
	e.events = EPOLLIN;
	e.data.ptr = NULL;
	epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->evfd, &e);
	for (i = 0; i < g->nlfds; i++) {
		e.events = EPOLLIN;
		e.data.ptr = (void *)&g->lfds[i];
		epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->lfds[i], &e);
	}
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->nworkers = g->cfg->db_workers;
	g->workers = xcalloc(g->nworkers, sizeof(*g->workers));
	for (i = 0; i < g->nworkers; i++)
		if (pthread_create(&g->workers[i], NULL, worker_main, g) != 0)
			return -1;
	return 0;
}

static int
is_listener(const struct ingress *g, void *p)
{
	return p >= (const void *)g->lfds && p < (const void *)(g->lfds +
	    g->nlfds);
}

int
ingress_main(const struct sg_config *cfg, const int *fds, size_t nfds)
{
	struct ingress g;
	struct sigaction sa;
	char *err = NULL;
	time_t stop_at = 0;
	int wait_ms = 1000;
	size_t i;

	memset(&g, 0, sizeof(g));
	g.cfg = cfg;
	g.lfds = fds;
	g.nlfds = nfds;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ingress_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* keys are read (as root if need be) before dropping privileges */
	if (ingress_setup(&g) < 0)
		fatal("event=ingress_setup_failed");
	if (privdrop(cfg->run_user, &err) < 0)
		fatal("event=privdrop_failed error=\"%s\"", err);
	log_info("event=ingress_ready listeners=%zu tls=%s db_workers=%u",
	    nfds, g.tls ? "yes" : "no", g.nworkers);

	for (;;) {
		struct epoll_event ev[64];
		int n, k;

		if (ingress_stop && stop_at == 0) {
			struct conn *c, *next;
			/* stop accepting, say goodbye to idle sessions;
			 * sessions waiting on a commit get their reply */
			stop_at = time(NULL) + 10;
			g.stopping = 1;
			for (i = 0; i < nfds; i++) {
				epoll_ctl(g.epfd, EPOLL_CTL_DEL, fds[i], NULL);
				close(fds[i]);
			}
			g.nlfds = 0;
			for (c = g.conns; c != NULL; c = next) {
				next = c->next;
				if (c->busy || c->fd < 0)
					continue;
				conn_act(&g, c, smtp_session_shutdown(c->s));
				conn_progress(&g, c, 0);
			}
			log_info("event=ingress_stopping sessions=%u",
			    g.nconns);
		}
		if (stop_at != 0 && (g.nconns == 0 || time(NULL) >= stop_at))
			break;
		n = epoll_wait(g.epfd, ev, 64, wait_ms);
		if (n < 0 && errno != EINTR)
			fatal("event=epoll_failed error=\"%s\"",
			    strerror(errno));
		for (k = 0; k < n; k++) {
			void *p = ev[k].data.ptr;
			if (p == NULL)
				ingress_jobs_done(&g);
			else if (is_listener(&g, p))
				ingress_accept(&g, *(const int *)p);
			else
				conn_progress(&g, p, ev[k].events);
		}
		wait_ms = ingress_timeouts(&g);
	}
	/*
	 * Leaving with a commit still in flight is safe: the process exit
	 * closes its database connection and PostgreSQL rolls the open
	 * transaction back; the client saw no 250 and will retry.
	 */
	log_info("event=ingress_stopped sessions=%u", g.nconns);
	return 0;
}
