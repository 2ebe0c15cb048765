/*
 * prober.c - the prober role (see prober.h).
 *
 * Threads: the main thread LISTENs on sealgate_probe, syncs the domains
 * mail went to into domain_tls_status, leases due domains and hands them
 * to probe_concurrency workers through a small bounded queue; a reporter
 * thread sends the TLS-RPT reports. Each worker and the reporter has its
 * own database connection and resolver; the TLS client context is
 * shared (it is thread-safe). A lease that a dead prober leaves expires
 * (domain_tls_status.probe_lease_until) and another node takes over.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "dns.h"
#include "domain_db.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/sg_limits.h"
#include "lib/xalloc.h"
#include "outbound.h"
#include "privdrop.h"
#include "probe.h"
#include "prober.h"
#include "smtp_client.h"
#include "tls_rpt_db.h"
#include "tls_rpt_send.h"

#define PROBER_SCAN_SECS	60	/* look for due domains this often */
#define PROBER_SYNC_SECS	3600	/* later syncs: mail of the last hour */
#define PROBER_RPT_SECS		600	/* look for unsent TLS-RPT reports */
#define PROBER_QUEUE_MAX	128
#define PROBER_FACTS_MAX	(4u * 1024 * 1024)

struct pr {
	const struct sg_config *cfg;
	char *conninfo;
	SSL_CTX *tls;
	struct smtp_client_conf cc;
	unsigned lease;

	pthread_mutex_t mu;
	pthread_cond_t cv;		/* workers: the queue */
	pthread_cond_t rcv;		/* the reporter: stop */
	char *q[PROBER_QUEUE_MAX];	/* leased domains waiting for a worker */
	size_t nq;
	size_t busy;			/* being probed */
	int stop;
};

struct pr_thread {
	struct pr *p;
	struct db *db;
	struct dns_resolver *dns;
};

static volatile sig_atomic_t pr_stop;

static void
pr_on_signal(int sig)
{
	(void)sig;
	pr_stop = 1;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
tri_word(int v)
{
	return v < 0 ? "unknown" : v ? "yes" : "no";
}

/* --- the queue ------------------------------------------------------- */

/* free_slots - domains the main thread may lease now */
static size_t
free_slots(struct pr *p)
{
	size_t want = (size_t)p->cfg->probe_concurrency * 2, have;

	pthread_mutex_lock(&p->mu);
	have = p->nq + p->busy;
	pthread_mutex_unlock(&p->mu);
	return have >= want ? 0 : want - have;
}

static void
enqueue(struct pr *p, const char *domain)
{
	size_t i;

	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->nq; i++)
		if (strcmp(p->q[i], domain) == 0)
			break;
	/* full: the lease lapses and a later scan takes it again */
	if (i == p->nq && p->nq < PROBER_QUEUE_MAX) {
		p->q[p->nq++] = xstrdup(domain);
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

/* --- per-thread setup ------------------------------------------------ */

static int
thread_setup(struct pr_thread *t, const char *app)
{
	struct dns_conf dc;
	char *err = NULL;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	outbound_dns_conf(t->p->cfg, &dc);
	t->dns = dns_resolver_new(&dc, &err);
	if (t->dns == NULL)
		fatal("event=dns_setup_failed error=\"%s\"", err);
	t->db = db_open_app(t->p->conninfo, app, &err);
	if (t->db == NULL) {
		/* db.c reconnects on every call; retry at first use */
		log_err("event=db_error error=\"%s\"", err);
		xfree(err);
		return -1;
	}
	return 0;
}

static int
thread_db(struct pr_thread *t, const char *app)
{
	char *err = NULL;

	if (t->db != NULL)
		return 0;
	t->db = db_open_app(t->p->conninfo, app, &err);
	if (t->db == NULL) {
		log_err("event=db_error error=\"%s\"", err);
		xfree(err);
		return -1;
	}
	return 0;
}

/* --- one probe --------------------------------------------------------- */

/* lost_reason - what the probe says about the first MX that is not
 * TLS-capable */
static const char *
lost_reason(const struct probe_result *r, int floor, char *out,
    size_t outsz)
{
	size_t i;

	for (i = 0; i < r->nmx; i++) {
		const struct probe_mx *m = &r->mx[i];

		if (!m->reached || (m->tls && m->bits >= 128 &&
		    probe_protocol_version(m->protocol) >= floor))
			continue;
		if (m->starttls == 0)
			snprintf(out, outsz, "%s: STARTTLS not offered",
			    m->name);
		else if (m->error[0] != '\0')
			snprintf(out, outsz, "%s: %s", m->name, m->error);
		else
			snprintf(out, outsz, "%s: %s %s (%d bits)", m->name,
			    m->protocol, m->cipher, m->bits);
		return out;
	}
	snprintf(out, outsz, "below the floor");
	return out;
}

static void
probe_one(struct pr_thread *t, const char *domain)
{
	struct pr *p = t->p;
	const struct sg_config *cfg = p->cfg;
	struct probe_result *res = xcalloc(1, sizeof(*res));
	struct domain_db_change chg;
	struct domain_db_update u;
	struct probe_ctx pc;
	struct buf facts;
	char name[256], e1[SG_LOG_VALUE_MAX * 4 + 8], why[700];
	char *err = NULL;
	int64_t t0 = mono_ms();
	int stored = 0;

	memset(&pc, 0, sizeof(pc));
	pc.cc = &p->cc;
	pc.dns = t->dns;
	pc.db = t->db;
	pc.port = cfg->delivery_port;
	pc.floor = cfg->delivery_tls_min_version;
	pc.ca_file = cfg->delivery_ca_file;
	pc.sts_timeout = cfg->probe_timeout;
	if (probe_domain_name(domain, name) < 0) {
		snprintf(res->domain, sizeof(res->domain), "%s", domain);
		res->probed_at = (long long)time(NULL);
		res->tls_capable = -1;
		snprintf(res->error, sizeof(res->error), "not a host name");
	} else {
		(void)probe_domain(&pc, name, res);
	}
	memset(&chg, 0, sizeof(chg));
	chg.old_tls_capable = -1;
	buf_init(&facts, PROBER_FACTS_MAX);
	if (probe_db_update(res, res->conclusive ? cfg->probe_interval :
	    cfg->probe_retry, &facts, &u) == 0) {
		u.domain = domain;	/* the row's own key */
		if (domain_db_store(t->db, &u, &chg, &err) == 0)
			stored = 1;
	} else {
		err = xstrdup("facts too large");
	}
	buf_free(&facts);
	log_info("event=probe domain=%s conclusive=%s tls_capable=%s "
	    "verify_mode=%s mx=%zu reached=%zu min_protocol=%s min_bits=%d "
	    "mta_sts=%s dane=%s changed=%s stored=%s duration_ms=%lld "
	    "error=\"%s\"%s%s", res->domain, tri_word(res->conclusive),
	    tri_word(res->tls_capable), res->conclusive ?
	    probe_verify_name(res->verify) : "-", res->nmx, res->nreached,
	    res->min_protocol[0] ? res->min_protocol : "-", res->min_bits,
	    res->sts_mode[0] ? res->sts_mode : "none",
	    res->dane_checked ? tri_word(res->dane) : "unchecked",
	    tri_word(chg.changed), tri_word(stored), (long long)(mono_ms() - t0),
	    log_escape(e1, sizeof(e1), res->error, strlen(res->error)),
	    stored ? "" : " store_error=", stored ? "" : err ? err : "?");
	if (stored && res->conclusive && chg.old_tls_capable == 1 &&
	    res->tls_capable == 0) {
		lost_reason(res, cfg->delivery_tls_min_version, why,
		    sizeof(why));
		log_warn("event=tls_lost domain=%s was_verify_mode=%s "
		    "reason=\"%s\" note=\"mail to it is no longer sent with "
		    "sticky TLS\"", res->domain, chg.old_verify_mode[0] ?
		    chg.old_verify_mode : "-", log_escape(e1, sizeof(e1), why,
		    strlen(why)));
	}
	else if (stored && res->conclusive && chg.old_tls_capable == 0 &&
	    res->tls_capable == 1)
		log_info("event=tls_gained domain=%s verify_mode=%s",
		    res->domain, probe_verify_name(res->verify));
	xfree(err);
	xfree(res);
}

static void *
worker_main(void *arg)
{
	struct pr_thread *t = arg;
	struct pr *p = t->p;
	char *domain;

	(void)thread_setup(t, "sealgate-prober");
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->stop && p->nq == 0)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		domain = p->q[0];
		memmove(&p->q[0], &p->q[1], (p->nq - 1) * sizeof(p->q[0]));
		p->nq--;
		p->busy++;
		pthread_mutex_unlock(&p->mu);
		if (thread_db(t, "sealgate-prober") == 0)
			probe_one(t, domain);
		xfree(domain);
		pthread_mutex_lock(&p->mu);
		p->busy--;
		pthread_mutex_unlock(&p->mu);
	}
	db_close(&t->db);
	dns_resolver_free(&t->dns);
	return NULL;
}

/* --- TLS-RPT ------------------------------------------------------------ */

static void
reporter_run(struct pr_thread *t)
{
	struct tls_rpt_sender s;
	struct tls_rpt_outcome o;
	struct tls_rpt_day *days = NULL;
	char e1[SG_LOG_VALUE_MAX * 4 + 8], *err = NULL;
	size_t n = 0, i;

	if (tls_rpt_db_pending(t->db, TLS_RPT_MAX_DAYS, &days, &n, &err) < 0) {
		log_err("event=tls_rpt_error error=\"%s\"", err ? err : "?");
		xfree(err);
		return;
	}
	s.cfg = t->p->cfg;
	s.db = t->db;
	s.dns = t->dns;
	for (i = 0; i < n && !pr_stop; i++) {
		if (tls_rpt_send_day(&s, days[i].domain, days[i].day, &o,
		    &err) < 0) {
			log_err("event=tls_rpt_error domain=%s day=%s "
			    "error=\"%s\"", days[i].domain, days[i].day,
			    err ? err : "?");
			xfree(err);
			err = NULL;
			continue;
		}
		if (strcmp(o.status, "taken") == 0)
			continue;
		log_info("event=tls_rpt domain=%s day=%s status=%s "
		    "report_id=%s rua=%zu delivered=%zu success=%lld "
		    "failure=%lld detail=\"%s\"", days[i].domain, days[i].day,
		    o.status, o.report_id, o.nrua, o.nok, o.success,
		    o.failure, log_escape(e1, sizeof(e1), o.detail,
		    strlen(o.detail)));
	}
	tls_rpt_days_free(&days, n);
}

static void *
reporter_main(void *arg)
{
	struct pr_thread *t = arg;
	struct pr *p = t->p;
	time_t next = 0, now;
	long day, last_day = -1;

	(void)thread_setup(t, "sealgate-tlsrpt");
	for (;;) {
		struct timespec ts;

		pthread_mutex_lock(&p->mu);
		if (!p->stop) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&p->rcv, &p->mu, &ts);
		}
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pthread_mutex_unlock(&p->mu);
		now = time(NULL);
		day = (long)(now / 86400);
		/* at start, every PROBER_RPT_SECS, and as a UTC day ends */
		if (now < next && day == last_day)
			continue;
		next = now + PROBER_RPT_SECS;
		last_day = day;
		if (thread_db(t, "sealgate-tlsrpt") == 0)
			reporter_run(t);
	}
	db_close(&t->db);
	dns_resolver_free(&t->dns);
	return NULL;
}

/* --- the main thread ---------------------------------------------------- */

static void
notified(struct pr *p, struct db *db, const char *payload)
{
	char name[256], *err = NULL;
	int r;

	if (probe_domain_name(payload, name) < 0)
		return;
	/* a NOTIFY from anywhere: make sure the row exists (seen now) */
	r = domain_db_mark_seen(db, name, &err);
	if (r == 0 && free_slots(p) == 0)
		return;		/* due now: a scan picks it up */
	if (r == 0)
		r = domain_db_claim(db, name, p->lease, &err);
	if (r < 0) {
		log_err("event=db_error error=\"%s\"", err ? err : "?");
		xfree(err);
		return;
	}
	if (r == 1)
		enqueue(p, name);
}

/* scan - sync recently seen domains, then lease due ones; 1 when it
 * filled every free slot (more may be due) */
static int
scan(struct pr *p, struct db *db, int first)
{
	const struct sg_config *cfg = p->cfg;
	char **list = NULL, *err = NULL;
	size_t n = 0, i, slots;
	long seen = 0;

	if (domain_db_sync_seen(db, first ? cfg->probe_seen_days * 86400u :
	    PROBER_SYNC_SECS, &seen, &err) < 0) {
		log_err("event=db_error error=\"%s\"", err ? err : "?");
		xfree(err);
		return 0;
	}
	slots = free_slots(p);
	if (slots == 0)
		return 0;
	if (domain_db_claim_due(db, cfg->probe_seen_days, p->lease, slots,
	    &list, &n, &err) < 0) {
		log_err("event=db_error error=\"%s\"", err ? err : "?");
		xfree(err);
		return 0;
	}
	for (i = 0; i < n; i++)
		enqueue(p, list[i]);
	if (n > 0)
		log_debug("event=probe_scan seen=%ld due=%zu", seen, n);
	domain_db_list_free(&list, n);
	return n == slots;
}

int
prober_main(const struct sg_config *cfg, const int *fds, size_t nfds)
{
	struct pr p;
	struct pr_thread *ws, rep;
	pthread_t *th, rth;
	struct sigaction sa;
	struct db *listen_db = NULL;
	char *err = NULL;
	unsigned i;
	int first = 1;

	(void)fds;
	(void)nfds;
	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.conninfo = config_conninfo(cfg);
	/* long enough for every stage of every MX host, then it lapses */
	p.lease = cfg->probe_timeout * 6 * PROBE_MX_MAX + 60;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pr_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	p.tls = outbound_tls_ctx(cfg, &err);
	if (p.tls == NULL)
		fatal("event=tls_setup_failed error=\"%s\"", err);
	outbound_probe_conf(cfg, p.tls, &p.cc);
	if (privdrop(cfg->run_user, &err) < 0)
		fatal("event=privdrop_failed error=\"%s\"", err);
	listen_db = db_open_app(p.conninfo, "sealgate-prober", &err);
	if (listen_db == NULL)
		fatal("event=db_unavailable error=\"%s\"", err);

	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	pthread_cond_init(&p.rcv, NULL);
	ws = xcalloc(cfg->probe_concurrency, sizeof(*ws));
	th = xcalloc(cfg->probe_concurrency, sizeof(*th));
	for (i = 0; i < cfg->probe_concurrency; i++) {
		ws[i].p = &p;
		if (pthread_create(&th[i], NULL, worker_main, &ws[i]) != 0)
			fatal("event=thread_failed");
	}
	memset(&rep, 0, sizeof(rep));
	rep.p = &p;
	if (cfg->tls_rpt_enabled &&
	    pthread_create(&rth, NULL, reporter_main, &rep) != 0)
		fatal("event=thread_failed");
	log_info("event=prober_ready workers=%u interval=%u seen_days=%u "
	    "tls_rpt=%s", cfg->probe_concurrency, cfg->probe_interval,
	    cfg->probe_seen_days, cfg->tls_rpt_enabled ? "yes" : "no");

	while (!pr_stop) {
		PGresult *res;
		PGnotify *n;
		struct pollfd pfd;
		int64_t next_scan = 0;

		/* (re)subscribe; a reconnect loses LISTEN */
		res = db_exec(listen_db, "LISTEN " DOMAIN_DB_NOTIFY_CHANNEL, 0,
		    NULL, NULL, &err);
		if (res == NULL) {
			log_err("event=listen_failed error=\"%s\"", err);
			xfree(err);
			err = NULL;
			sleep(1);
			continue;
		}
		PQclear(res);
		while (!pr_stop) {
			if (mono_ms() >= next_scan) {
				int more = scan(&p, listen_db, first);
				first = 0;
				/* a backlog: look again as soon as a slot
				 * frees, not a minute later */
				next_scan = mono_ms() + (more ? 1000 :
				    PROBER_SCAN_SECS * 1000);
			}
			pfd.fd = PQsocket(db_conn(listen_db));
			pfd.events = POLLIN;
			if (pfd.fd < 0)
				break;
			if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
				break;
			if ((pfd.revents & POLLIN) &&
			    PQconsumeInput(db_conn(listen_db)) != 1)
				break;	/* connection lost: re-LISTEN */
			/* also those libpq queued while our own statements
			 * ran on this connection (scan, claims) */
			while ((n = PQnotifies(db_conn(listen_db))) != NULL) {
				notified(&p, listen_db, n->extra);
				PQfreemem(n);
			}
		}
		/* db_exec() reconnects on the next call */
	}
	log_info("event=prober_stopping");
	pthread_mutex_lock(&p.mu);
	p.stop = 1;
	pthread_cond_broadcast(&p.cv);
	pthread_cond_broadcast(&p.rcv);
	pthread_mutex_unlock(&p.mu);
	for (i = 0; i < cfg->probe_concurrency; i++)
		pthread_join(th[i], NULL);
	if (cfg->tls_rpt_enabled)
		pthread_join(rth, NULL);
	for (i = 0; i < p.nq; i++)
		xfree(p.q[i]);
	db_close(&listen_db);
	SSL_CTX_free(p.tls);
	xfree(ws);
	xfree(th);
	xfree(p.conninfo);
	log_info("event=prober_stopped");
	return 0;
}
