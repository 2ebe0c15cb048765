/*
 * delivery.c - the delivery role.
 *
 * Threads: the main thread LISTENs on sealgate_queue and sleeps until a
 * notification or the next due time, then bumps a generation counter;
 * workers claim batches until none is due, then wait for the next
 * generation. Each worker has its own database connection and resolver;
 * the TLS client context is shared. At-least-once: a worker killed after
 * the remote 250 but before its commit leaves the recipient to be sent
 * again when the lease is freed (documented in the README).
 */
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/rand.h>

#include "decide.h"
#include "escrow.h"
#include "key_db.h"
#include "seal.h"
#include "pgp.h"
#include "policy.h"
#include "smime.h"
#include "smime_harvest.h"
#include "subject_tag.h"
#include "delivery.h"
#include "delivery_db.h"
#include "dane.h"
#include "dns.h"
#include "domain_db.h"
#include "mta_sts.h"
#include "outbound.h"
#include "tls_rpt.h"
#include "tls_rpt_db.h"
#include "dsn.h"
#include "lib/buf.h"
#include "lib/strjoin.h"
#include "lib/log.h"
#include "lib/numparse.h"
#include "lib/queue_id.h"
#include "lib/xalloc.h"
#include "privdrop.h"
#include "queue_db.h"
#include "smtp_client.h"
#include "tls_client.h"

#define DELIVERY_MAX_BUSY 512
#define DELIVERY_CONN_IDLE 2		/* seconds an idle connection is kept */

struct dv {
	const struct sg_config *cfg;
	char *conninfo;
	char owner_prefix[300];
	SSL_CTX *tls;
	struct smtp_client_conf cc;
	struct policy_conf pc;
	struct seal_master *master;	/* escrow = yes */
	/* the organization's S/MIME signer (smime_sign_cert), read as root
	 * before the role drops privileges; shared read-only */
	X509 *sign_cert;
	EVP_PKEY *sign_key;
	STACK_OF(X509) *sign_chain;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned long generation;
	int stop;
	/* per-destination accounting: domains being delivered right now */
	char *active[DELIVERY_MAX_BUSY];
	unsigned active_n[DELIVERY_MAX_BUSY];
	size_t nactive;
};

static volatile sig_atomic_t dv_stop;

static void
dv_on_signal(int sig)
{
	(void)sig;
	dv_stop = 1;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned
delivery_retry_delay(unsigned min, unsigned max, int attempt)
{
	unsigned long long d = min;
	int i;

	for (i = 1; i < attempt && d < max; i++)
		d *= 2;
	return d > max ? max : (unsigned)d;
}

const char *
delivery_route_lookup(const char *const *routes, size_t n, const char *domain)
{
	size_t dl = strlen(domain), i;

	for (i = 0; i < n; i++) {
		const char *eq = strchr(routes[i], '=');
		size_t kl;
		if (eq == NULL)
			continue;
		kl = (size_t)(eq - routes[i]);
		if (routes[i][0] == '.') {
			if (dl > kl && strncasecmp(domain + dl - kl, routes[i],
			    kl) == 0)
				return eq + 1;
		} else if (kl == dl && strncasecmp(domain, routes[i], kl) == 0) {
			return eq + 1;
		}
	}
	return NULL;
}

/* --- per-destination limit --- */

static void
busy_list(struct dv *d, const char **out, size_t *n)
{
	size_t i;

	*n = 0;
	for (i = 0; i < d->nactive; i++)
		if (d->active_n[i] >= d->cfg->delivery_per_destination)
			out[(*n)++] = d->active[i];
}

/* dest_enter - count a transaction to domain; 0 ok, -1 over the limit
 * (another worker got there first: give the claim back) */
static int
dest_enter(struct dv *d, const char *domain)
{
	size_t i;
	int r = 0;

	pthread_mutex_lock(&d->mu);
	for (i = 0; i < d->nactive; i++)
		if (strcmp(d->active[i], domain) == 0)
			break;
	if (i == d->nactive) {
		if (d->nactive == DELIVERY_MAX_BUSY) {
			r = -1;
			goto out;
		}
		d->active[i] = xstrdup(domain);
		d->active_n[i] = 0;
		d->nactive++;
	}
	if (d->active_n[i] >= d->cfg->delivery_per_destination)
		r = -1;
	else
		d->active_n[i]++;
out:
	pthread_mutex_unlock(&d->mu);
	return r;
}

static void
dest_leave(struct dv *d, const char *domain)
{
	size_t i;

	pthread_mutex_lock(&d->mu);
	for (i = 0; i < d->nactive; i++) {
		if (strcmp(d->active[i], domain) != 0)
			continue;
		if (--d->active_n[i] == 0) {
			xfree(d->active[i]);
			d->nactive--;
			d->active[i] = d->active[d->nactive];
			d->active_n[i] = d->active_n[d->nactive];
		}
		break;
	}
	pthread_mutex_unlock(&d->mu);
}

/* --- one batch --- */

struct worker {
	struct dv *d;
	int idx;
	char owner[340];
	struct db *db;
	struct dns_resolver *dns;
	/* connection kept for the next batch to the same domain */
	struct smtp_conn *conn;
	char conn_domain[256];
	enum tls_level conn_level;
	struct smtpc_result conn_facts;
	/* the policy engine and the crypto it may need */
	struct policy_env pe;
};

/* parse_nexthop - "host:port" / "[addr]:port" → host (no brackets), port,
 * and whether MX lookup is suppressed (brackets) */
static int
parse_nexthop(const char *nh, char *host, size_t hostsz, unsigned *port,
    int *literal)
{
	const char *colon = strrchr(nh, ':');
	uint64_t p;
	size_t hl;

	if (colon == NULL || num_parse_u64_str(colon + 1, 1, 65535, &p) < 0)
		return -1;
	*port = (unsigned)p;
	*literal = nh[0] == '[';
	hl = (size_t)(colon - nh);
	if (*literal) {
		if (hl < 3)
			return -1;
		nh++;
		hl -= 2;
	}
	if (hl >= hostsz)
		return -1;
	memcpy(host, nh, hl);
	host[hl] = '\0';
	return 0;
}

static void
set_port(struct dns_addr *a, unsigned port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&a->ss)->sin6_port =
		    htons((uint16_t)port);
}

/* literal_result - one "MX" made of a numeric address (no DNS) */
static int
literal_result(const char *host, struct dns_mx_result *res)
{
	struct dns_mx_host *h;
	struct dns_addr *a;
	struct sockaddr_in *s4;
	struct sockaddr_in6 *s6;

	memset(res, 0, sizeof(*res));
	h = xcalloc(1, sizeof(*h));
	a = xcalloc(1, sizeof(*a));
	s4 = (struct sockaddr_in *)&a->ss;
	s6 = (struct sockaddr_in6 *)&a->ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		a->len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		a->len = sizeof(*s6);
	} else {
		xfree(h);
		xfree(a);
		return -1;
	}
	snprintf(a->text, sizeof(a->text), "%.45s", host);
	snprintf(h->name, sizeof(h->name), "%s", host);
	h->addrs = a;
	h->naddrs = 1;
	res->hosts = h;
	res->nhosts = 1;
	res->status = DNS_OK;
	return 0;
}

/* route - the hosts to try for domain, with their port */
static enum dns_status
route(struct worker *w, const char *domain, struct dns_mx_result *res,
    unsigned *port, char *why, size_t whysz)
{
	const struct sg_config *cfg = w->d->cfg;
	const char *nh = delivery_route_lookup(
	    (const char *const *)cfg->routes, cfg->nroutes, domain);
	char host[256];
	int literal;

	*port = cfg->delivery_port;
	if (nh == NULL)
		nh = cfg->smart_host;
	if (nh == NULL) {
		snprintf(why, whysz, "MX of %s", domain);
		return dns_lookup_mx(w->dns, domain, res);
	}
	if (parse_nexthop(nh, host, sizeof(host), port, &literal) < 0) {
		memset(res, 0, sizeof(*res));
		res->status = DNS_TEMPFAIL;
		snprintf(res->why, sizeof(res->why), "bad route %s", nh);
		return DNS_TEMPFAIL;
	}
	snprintf(why, whysz, "route %s", nh);
	if (literal_result(host, res) == 0)
		return DNS_OK;
	if (literal)
		return dns_lookup_host(w->dns, host, res);
	return dns_lookup_mx(w->dns, host, res);
}

struct rcpt_outcome {
	enum delivery_outcome outcome;
	char reply[512];
	char status[16];		/* enhanced code for a DSN */
};

/* classify - a reply code and text into an outcome */
static void
classify(struct rcpt_outcome *o, int code, const char *reply,
    const char *dflt_status)
{
	snprintf(o->reply, sizeof(o->reply), "%s", reply);
	if (code >= 200 && code < 300)
		o->outcome = DELIVERY_DELIVERED;
	else if (code >= 500)
		o->outcome = DELIVERY_BOUNCED;
	else
		o->outcome = DELIVERY_DEFERRED;
	/* "550 5.1.1 ..." → "5.1.1" */
	if (reply[0] != '\0' && strlen(reply) > 4 && reply[4] >= '2' &&
	    reply[4] <= '5' && reply[5] == '.') {
		size_t k = 4;
		while (reply[k] != '\0' && reply[k] != ' ' && k - 4 < 15)
			k++;
		snprintf(o->status, sizeof(o->status), "%.*s", (int)(k - 4),
		    reply + 4);
	} else {
		snprintf(o->status, sizeof(o->status), "%s", dflt_status);
	}
}

static void
conn_drop(struct worker *w)
{
	if (w->conn != NULL)
		smtp_conn_close(&w->conn);
	w->conn_domain[0] = '\0';
}

/* what the host choice needs beyond the plan's floor */
struct host_policy {
	const struct mta_sts_policy *sts;	/* enforce policy, or NULL */
	int mx_secure;				/* the MX answer validated */
	int sticky;				/* domain probed TLS-capable */
	char skipped[300];			/* why hosts were passed over */
};



/*
 * try_hosts - open a connection for the plan: every MX in order, every
 * address; at "may" a failed TLS handshake is retried in plaintext on the
 * same address; at "encrypt" and above a TLS failure moves on to the next
 * host and, if none does TLS, the batch is deferred: never plaintext.
 * Per host (RFC 7672, RFC 8461 2): when DANE applies (DNSSEC-secure MX
 * and address answers), usable TLSA records make it a DANE host, a bogus
 * or failed TLSA lookup rules the host out, and an MTA-STS policy never
 * overrides DANE; otherwise an MTA-STS enforce policy admits only the
 * hosts it names, at verify.
 */
static struct smtp_conn *
try_hosts(struct worker *w, const struct dns_mx_result *mx, unsigned port,
    enum tls_level level, int dane_required, struct host_policy *hp,
    struct smtpc_result *res, int *tls_failed)
{
	size_t h, a;

	*tls_failed = 0;
	for (h = 0; h < mx->nhosts; h++) {
		const struct dns_mx_host *host = &mx->hosts[h];
		struct smtp_conn_opts opts;
		struct smtp_client_conf cc;
		struct dane_result dr;
		int have_dr = 0;

		memset(&opts, 0, sizeof(opts));
		opts.level = level;
		if (dane_applies(hp->mx_secure, host->secure)) {
			have_dr = 1;
			switch (dane_lookup(w->dns, host->name, port, &dr)) {
			case DANE_USABLE:
				opts.level = TLS_LEVEL_DANE;
				opts.tlsa = dr.recs;
				opts.ntlsa = dr.nrecs;
				break;
			case DANE_UNUSABLE:
				/* RFC 7672 2.2: TLS without authentication */
				if (opts.level < TLS_LEVEL_ENCRYPT)
					opts.level = TLS_LEVEL_ENCRYPT;
				break;
			case DANE_BOGUS:
			case DANE_TEMPFAIL:
				str_appendf(hp->skipped, sizeof(hp->skipped),
				    "; ", "%s: TLSA %s", host->name, dr.why);
				*tls_failed = 1;
				dane_result_free(&dr);
				continue;
			default:
				break;
			}
		}
		if (dane_required && opts.tlsa == NULL) {
			/* the rule wants DANE: a host without usable,
			 * DNSSEC-validated TLSA records is no option */
			str_appendf(hp->skipped, sizeof(hp->skipped), "; ",
			    "%s: no usable DANE TLSA records",
			    host->name);
			*tls_failed = 1;
			if (have_dr)
				dane_result_free(&dr);
			continue;
		}
		if (opts.level != TLS_LEVEL_DANE && hp->sts != NULL) {
			if (!mta_sts_mx_match(hp->sts, host->name)) {
				str_appendf(hp->skipped, sizeof(hp->skipped),
				    "; ", "%s: not in the MTA-STS policy",
				    host->name);
				if (have_dr)
					dane_result_free(&dr);
				continue;
			}
			opts.level = TLS_LEVEL_VERIFY;
			opts.mta_sts = 1;
		}
		/* RFC 8461 4.2: TLS 1.2 at least to an MTA-STS host, even
		 * where delivery_tls_min_version allows older */
		cc = w->d->cc;
		if (opts.mta_sts && cc.tls_min_version < TLS1_2_VERSION)
			cc.tls_min_version = TLS1_2_VERSION;
		for (a = 0; a < host->naddrs; a++) {
			struct dns_addr addr = host->addrs[a];
			struct smtp_conn *c;

			set_port(&addr, port);
			memset(res, 0, sizeof(*res));
			c = smtp_conn_open_opts(&cc, host->name,
			    (struct sockaddr *)&addr.ss, addr.len, &opts, res);
			if (c != NULL) {
				if (have_dr)
					dane_result_free(&dr);
				return c;
			}
			if (res->status != SMTPC_TLS_FAIL)
				continue;
			if (opts.level == TLS_LEVEL_MAY && !hp->sticky) {
				memset(res, 0, sizeof(*res));
				c = smtp_conn_open(&w->d->cc, host->name,
				    (struct sockaddr *)&addr.ss, addr.len,
				    TLS_LEVEL_NONE, res);
				if (c != NULL) {
					if (have_dr)
						dane_result_free(&dr);
					return c;
				}
				continue;
			}
			*tls_failed = 1;
			log_warn("event=tls_failed mx=%s addr=%s level=%s "
			    "reason=\"%s\" note=possible downgrade, nothing "
			    "sent", host->name, addr.text,
			    tls_level_name(opts.level), res->reply);
		}
		if (have_dr)
			dane_result_free(&dr);
	}
	return NULL;
}

/* bounce - queue one DSN for the bounced recipients (never for <>) */
static void
bounce(struct worker *w, const struct delivery_batch *b,
    const struct rcpt_outcome *o, const char *mx_host)
{
	const struct sg_config *cfg = w->d->cfg;
	struct dsn_rcpt *dr = xcalloc(b->nrcpt, sizeof(*dr));
	struct dsn_info info;
	struct queue_msg m;
	struct buf out;
	char id[QUEUE_ID_SIZE], *err = NULL;
	const char *rcpt[1];
	size_t i, n = 0;

	if (b->mail_from[0] == '\0') {
		log_info("queue_id=%s event=bounce_dropped reason=\"null "
		    "sender: a bounce is never bounced\"", b->message_id);
		xfree(dr);
		return;
	}
	for (i = 0; i < b->nrcpt; i++) {
		if (o[i].outcome != DELIVERY_BOUNCED)
			continue;
		dr[n].rcpt = b->rcpts[i].rcpt;
		dr[n].status = o[i].status;
		dr[n].diagnostic = o[i].reply;
		dr[n].remote_mta = mx_host[0] ? mx_host : NULL;
		n++;
	}
	if (n == 0 || queue_id_new(id) < 0) {
		xfree(dr);
		return;
	}
	memset(&info, 0, sizeof(info));
	info.reporting_mta = cfg->hostname;
	info.queue_id = b->message_id;
	info.sender = b->mail_from;
	info.arrival = b->received_at;
	info.now = (long long)time(NULL);
	info.original = b->data;
	info.original_len = b->len;
	info.boundary_seed = id;
	buf_init(&out, 1 << 20);
	if (dsn_build(&info, dr, n, &out) == 0) {
		memset(&m, 0, sizeof(m));
		rcpt[0] = b->mail_from;
		m.id = id;
		m.mail_from = "";
		m.rcpts = rcpt;
		m.nrcpt = 1;
		m.data = buf_cstr(&out);
		m.len = out.len;
		m.mail_params = "";
		m.body_type = "7BIT";
		m.client_addr = "127.0.0.1";
		m.client_helo = cfg->hostname;
		if (queue_db_insert(w->db, &m, &err) < 0) {
			log_err("queue_id=%s event=dsn_failed error=\"%s\"",
			    b->message_id, err ? err : "?");
			xfree(err);
		} else {
			log_info("queue_id=%s event=dsn_queued dsn_id=%s "
			    "to=<%s> nrcpt=%zu", b->message_id, id,
			    b->mail_from, n);
		}
	}
	buf_free(&out);
	xfree(dr);
}

#define DELIVERY_PROBE_WAIT_MS 10000	/* first contact: wait for a probe */

/* tls_rpt_note - count the session for the domain's TLS report (RFC 8460):
 * under its MTA-STS policy, its TLSA records, or no policy */
static void
tls_rpt_note(struct worker *w, const char *domain,
    const struct host_policy *hp, const struct smtpc_result *res)
{
	struct tls_rpt_event ev;
	enum tls_rpt_result rt;

	if (tls_rpt_classify(res, &rt) < 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.policy_domain = domain;
	ev.policy_type = res->verified == TLS_VERIFIED_DANE ||
	    res->dane_usage != 0 ? TLS_RPT_POLICY_TLSA : hp->sts != NULL ?
	    TLS_RPT_POLICY_STS : TLS_RPT_POLICY_NONE;
	ev.policy_string = ev.policy_type == TLS_RPT_POLICY_STS ?
	    hp->sts->text : NULL;
	ev.result = rt;
	ev.mx_host = res->mx_host[0] ? res->mx_host : NULL;
	ev.receiving_ip = res->mx_addr[0] ? res->mx_addr : NULL;
	(void)tls_rpt_record(w->db, &ev, NULL);
}

/*
 * domain_knowledge - fill din with the domain TLS cache (sticky TLS) and
 * the MTA-STS policy. A domain never probed is probed first when this
 * node runs the prober: delivery waits a bounded time for the verdict,
 * then defers. Returns NULL, or a 4xx reason to defer with.
 */
static const char *
domain_knowledge(struct worker *w, const char *domain,
    struct decide_input *din, struct mta_sts_policy **sts)
{
	const struct sg_config *cfg = w->d->cfg;
	struct domain_status st;
	int64_t until = mono_ms() + DELIVERY_PROBE_WAIT_MS;
	char *why = NULL;
	int r, from_cache = 0;

	for (;;) {
		memset(&st, 0, sizeof(st));
		if (domain_db_get(w->db, domain, &st, NULL) < 0)
			return "451 4.3.0 domain TLS status unavailable";
		if (st.probed_at != 0 || !config_has_role(cfg, "prober"))
			break;
		domain_status_release(&st);
		(void)domain_db_request_probe(w->db, domain, 0, NULL);
		if (mono_ms() >= until)
			return "451 4.4.3 first TLS probe of the domain still "
			    "pending";
		usleep(250 * 1000);
	}
	din->tls_capable = st.probed_at != 0 ? st.tls_capable : -1;
	din->dane = st.dane;
	domain_status_release(&st);
	(void)domain_db_mark_seen(w->db, domain, NULL);

	/* always re-checks the TXT id: no permanent failure on a stale id */
	r = mta_sts_get(w->db, w->dns, domain, cfg->delivery_ca_file, 30,
	    time(NULL), sts, &from_cache, &why);
	if (r < 0) {
		xfree(why);
		return "451 4.4.3 MTA-STS policy cache unavailable";
	}
	xfree(why);
	din->mta_sts_enforce = r == 1 && *sts != NULL &&
	    (*sts)->mode == MTA_STS_MODE_ENFORCE;
	return NULL;
}

/* what one recipient went through in this attempt */
struct rcpt_state {
	struct decide_plan plan;
	struct policy_keys keys;
	size_t step;			/* the step being tried */
	int done;
	struct rcpt_outcome o;
	struct smtpc_result facts;	/* its last connection's facts */
	enum pol_method method;		/* the method of its outcome */
	enum tls_level level;
	char notes[400];		/* steps given up at delivery time */
};

/* the message as sent for one step: tag removed, maybe encrypted */
struct msg_view {
	const char *data;
	size_t len;
	struct buf own;			/* when it differs from the original */
};



/*
 * send_group - one SMTP transaction at step s for the recipients idx[]
 * (same domain, same hop floor), over the cached connection or a new
 * one. Fills rs[idx[k]].o and .facts; *tls_failed when no host could be
 * reached with TLS at the floor (the chain may move on).
 */
static void
send_group(struct worker *w, struct delivery_batch *b, struct rcpt_state *rs,
    const size_t *idx, size_t n, const struct policy_step *s,
    const struct host_policy *base_hp, int mx_routed, const char *data,
    size_t len, int *tls_failed)
{
	const struct sg_config *cfg = w->d->cfg;
	struct smtpc_rcpt_result *rr = xcalloc(n, sizeof(*rr));
	struct smtpc_result res;
	struct host_policy hp = *base_hp;
	size_t i;

	*tls_failed = 0;
	hp.skipped[0] = '\0';
	memset(&res, 0, sizeof(res));
	res.rcpt = rr;
	if (w->conn != NULL && (strcmp(w->conn_domain, b->domain) != 0 ||
	    w->conn_level != s->level || !smtp_conn_usable(w->conn)))
		conn_drop(w);
	if (w->conn == NULL) {
		struct dns_mx_result mx;
		char routewhy[300], r[600];
		unsigned port = 0;
		enum dns_status ds = route(w, b->domain, &mx, &port, routewhy,
		    sizeof(routewhy));

		if (ds == DNS_NXDOMAIN || ds == DNS_NULL_MX ||
		    ds == DNS_NO_ADDRESS) {
			snprintf(r, sizeof(r), "%s %s (%s)", ds == DNS_NULL_MX ?
			    "556 5.1.10" : "550 5.1.2", ds == DNS_NULL_MX ?
			    "recipient domain accepts no mail (null MX)" :
			    "recipient domain not found", mx.why);
			for (i = 0; i < n; i++)
				classify(&rs[idx[i]].o, 550, r,
				    ds == DNS_NULL_MX ? "5.1.10" : "5.1.2");
			goto out_mx;
		}
		if (ds != DNS_OK) {
			snprintf(r, sizeof(r), "451 4.4.3 DNS lookup failed "
			    "(%s)", mx.why);
			for (i = 0; i < n; i++)
				classify(&rs[idx[i]].o, 451, r, "4.4.3");
			goto out_mx;
		}
		hp.mx_secure = mx.secure;
		w->conn = try_hosts(w, &mx, port, s->level, s->dane_required,
		    &hp, &res, tls_failed);
		if (mx_routed && cfg->tls_rpt_enabled)
			tls_rpt_note(w, b->domain, &hp, &res);
		if (w->conn == NULL && *tls_failed && hp.sticky) {
			/* a TLS-capable domain lost TLS: downgrade attack or
			 * a real change; nothing was sent, ask the prober */
			log_warn("queue_id=%s event=possible_downgrade "
			    "domain=%s note=\"sticky TLS domain failed TLS; "
			    "nothing sent, re-probing\"", b->message_id,
			    b->domain);
			(void)domain_db_request_probe(w->db, b->domain, 1,
			    NULL);
		}
		if (w->conn == NULL && hp.skipped[0] != '\0' &&
		    res.reply[0] == '\0')
			snprintf(res.reply, sizeof(res.reply), "451 4.7.5 no "
			    "usable MX (%s)", hp.skipped);
		if (w->conn == NULL) {
			int code = res.status == SMTPC_PERMFAIL ? 550 : 451;
			snprintf(r, sizeof(r), "%s", *tls_failed ?
			    "451 4.7.5 TLS required but not available" :
			    res.reply[0] ? res.reply : "451 4.4.1 no answer");
			if (*tls_failed) {
				size_t l = strlen(r);
				snprintf(r + l, sizeof(r) - l, " (%s)",
				    res.reply);
				code = 451;
			}
			for (i = 0; i < n; i++)
				classify(&rs[idx[i]].o, code, r, "4.4.1");
			goto out_mx;
		}
		snprintf(w->conn_domain, sizeof(w->conn_domain), "%s",
		    b->domain);
		w->conn_level = s->level;
		w->conn_facts = res;
out_mx:
		dns_mx_result_free(&mx);
		if (w->conn == NULL)
			goto out;
	}
	{
		struct smtp_client_msg msg;
		const char **rc = xcalloc(n, sizeof(*rc));
		enum smtpc_status st;

		for (i = 0; i < n; i++)
			rc[i] = b->rcpts[idx[i]].rcpt;
		memset(&msg, 0, sizeof(msg));
		msg.mail_from = b->mail_from;
		msg.rcpts = rc;
		msg.nrcpt = n;
		msg.data = data;
		msg.len = len;
		msg.body_8bit = b->body_8bit;
		msg.requiretls = b->requiretls;
		/* the connection facts stay those of the open connection */
		res = w->conn_facts;
		res.rcpt = rr;
		st = smtp_conn_send(w->conn, &msg, &res);
		xfree(rc);
		for (i = 0; i < n; i++) {
			struct rcpt_outcome *o = &rs[idx[i]].o;
			/* a recipient's own answer decides for it */
			if (rr[i].code != 0)
				classify(o, rr[i].code, rr[i].reply, "5.0.0");
			else if (st == SMTPC_REQUIRETLS_FAIL)
				classify(o, 550, "550 5.7.30 REQUIRETLS "
				    "not supported by the next hop", "5.7.30");
			else if (st == SMTPC_PERMFAIL)
				classify(o, res.code ? res.code : 550,
				    res.reply, "5.0.0");
			else
				classify(o, 451, res.reply[0] ? res.reply :
				    "451 4.4.2 connection lost", "4.4.2");
		}
		if (!smtp_conn_usable(w->conn))
			conn_drop(w);
	}
out:
	for (i = 0; i < n; i++) {
		rs[idx[i]].facts = res;
		rs[idx[i]].facts.rcpt = NULL;
	}
	xfree(rr);
}

/*
 * step_view - the bytes step s sends to recipient r: the original with
 * the escalation tag removed, encrypted for pgp/smime. 0, or -1 with
 * *err_out (the step cannot be carried out).
 */
static int
step_view(struct worker *w, const struct delivery_batch *b,
    const struct msg_view *base, const struct rcpt_state *r,
    const struct policy_step *s, struct msg_view *v, char **err_out)
{
	const struct sg_config *cfg = w->d->cfg;

	memset(v, 0, sizeof(*v));
	v->data = base->data;
	v->len = base->len;
	if (s->method == PM_PGP) {
		struct pgp_ctx *pc = policy_env_pgp(&w->pe, err_out);
		const char *fpr[1] = { r->keys.pgp_fpr };

		if (pc == NULL)
			return -1;
		buf_init(&v->own, (size_t)cfg->message_size_limit * 2 + 65536);
		if (pgp_encrypt_mime(pc, base->data, base->len, fpr, 1,
		    cfg->pgp_outer_subject, &v->own, err_out) < 0)
			return -1;
	} else if (s->method == PM_SMIME) {
		X509 *certs[1] = { r->keys.smime_cert };
		const struct dv *d = w->d;

		buf_init(&v->own, (size_t)cfg->message_size_limit * 2 + 65536);
		if (smime_sign_encrypt(base->data, base->len, certs, 1,
		    r->keys.smime_cipher, d->sign_cert, d->sign_key,
		    d->sign_chain, &v->own, err_out) < 0)
			return -1;
	} else {
		return 0;
	}
	v->data = buf_cstr(&v->own);
	v->len = v->own.len;
	(void)b;
	return 0;
}

static int
same_hop(const struct policy_step *a, const struct policy_step *b)
{
	return a->level == b->level && a->mta_sts == b->mta_sts &&
	    a->dane_required == b->dane_required;
}

static int
shares_transaction(enum pol_method m)
{
	return m == PM_TLS || m == PM_PLAIN || m == PM_ASIS;
}

/*
 * harvest - collect the signer certificate of S/MIME-signed mail into
 * the key store (smime_harvest = yes). Quietly nothing for other mail.
 */
static void
harvest(struct worker *w, const struct delivery_batch *b)
{
	const struct sg_config *cfg = w->d->cfg;
	struct smime_harvest h;
	char why[200];
	size_t i;

	if (!cfg->smime_harvest || b->mail_from[0] == '\0')
		return;
	memset(&h, 0, sizeof(h));
	if (smime_harvest(b->data, b->len, b->mail_from, time(NULL),
	    cfg->smime_ca_file, &h, why, sizeof(why)) != 1)
		return;
	for (i = 0; i < h.nemails; i++) {
		struct smime_cert_info ci;
		struct key_new kn;
		X509 *c;
		char status[16], *err = NULL;
		long long id;

		if (strcasecmp(h.emails[i], b->mail_from) != 0)
			continue;
		c = smime_cert_from_mem((const char *)h.der, h.der_len, &err);
		if (c == NULL || smime_cert_inspect(c, &ci, &err) < 0) {
			xfree(err);
			if (c != NULL)
				X509_free(c);
			break;
		}
		memset(&kn, 0, sizeof(kn));
		kn.kind = "smime";
		kn.address = h.emails[i];
		kn.fingerprint = ci.sha256;
		kn.source = "harvest";
		kn.not_before = ci.not_before;
		kn.not_after = ci.not_after;
		kn.smime_cipher = h.prefers_gcm ? "gcm" : "cbc";
		kn.material = h.der;
		kn.material_len = h.der_len;
		kn.note = "from signed mail";
		if (key_db_add(w->db, &kn, &id, status, &err) == 0)
			log_info("queue_id=%s event=cert_harvested address=<%s> "
			    "sha256=%s status=%s", b->message_id, kn.address,
			    ci.sha256, status);
		xfree(err);
		smime_cert_info_release(&ci);
		X509_free(c);
		break;
	}
	smime_harvest_release(&h);
}

/*
 * escrow_one - hand recipient i to the escrow store (sealed copy, the
 * notification queued): DESIGN.md step 4 "escrow". Without the store
 * (escrow = no) the recipient waits: never a weaker method.
 */
static void
escrow_one(struct worker *w, const struct delivery_batch *b,
    const struct msg_view *base, size_t i, struct rcpt_state *r)
{
	struct escrow_item it;
	char why[300], m[400];
	int er;

	r->done = 1;
	if (w->d->master == NULL) {
		classify(&r->o, 451, "451 4.3.2 escrow is not enabled on this "
		    "gateway (escrow = no): held in the queue", "4.3.2");
		return;
	}
	memset(&it, 0, sizeof(it));
	it.queue_id = b->message_id;
	it.recipient_id = b->rcpts[i].id;
	it.sender = b->mail_from;
	it.rcpt = b->rcpts[i].rcpt;
	it.msg = base->data;
	it.len = base->len;
	why[0] = '\0';
	er = escrow_deposit(w->db, w->d->cfg, w->d->master, &it, why,
	    sizeof(why));
	if (er == 0) {
		snprintf(r->o.reply, sizeof(r->o.reply), "250 2.0.0 escrowed "
		    "for the portal, notification queued");
		r->o.outcome = DELIVERY_ESCROWED;
		return;
	}
	snprintf(m, sizeof(m), "%s escrow store failed (%s)", er == -1 ?
	    "554 5.3.0" : "451 4.3.0", why);
	classify(&r->o, er == -1 ? 554 : 451, m, er == -1 ? "5.3.0" : "4.3.0");
}

static void
deliver_batch(struct worker *w, struct delivery_batch *b)
{
	const struct sg_config *cfg = w->d->cfg;
	struct decide_input din;
	struct rcpt_state *rs = xcalloc(b->nrcpt, sizeof(*rs));
	size_t *idx = xcalloc(b->nrcpt, sizeof(*idx));
	struct msg_view base;
	int64_t t0 = mono_ms();
	size_t i, j;
	int expired, nbounced = 0, mx_routed, tag = -1, enc = 0;
	struct host_policy hp;
	struct mta_sts_policy *sts = NULL;
	const char *bounce_mx = "";

	memset(&din, 0, sizeof(din));
	memset(&hp, 0, sizeof(hp));
	memset(&base, 0, sizeof(base));
	w->pe.db = w->db;
	base.data = b->data;
	base.len = b->len;
	din.domain = b->domain;
	din.sender = b->mail_from;
	din.requiretls = b->requiretls;
	din.tls_required = b->tls_required;
	din.escrow_notice = b->escrow_notice;
	din.default_level = (enum tls_level)cfg->delivery_tls_level;
	din.forced_tls = (const char *const *)cfg->forced_tls_domains;
	din.nforced = cfg->nforced_tls_domains;
	din.tls_capable = -1;
	din.dane = -1;
	din.escrow_available = w->d->master != NULL;
	expired = (long long)time(NULL) - b->received_at >=
	    (long long)cfg->max_queue_lifetime;
	harvest(w, b);
	policy_message_facts(&w->d->pc, b->data, b->len, &tag, &enc);
	din.tag = tag;
	din.already_encrypted = enc;
	/*
	 * Mail routed by MX is governed by what we know of the domain: the
	 * TLS cache (sticky TLS) and its MTA-STS policy. A static route or
	 * smart host is a hop of the admin's choosing instead.
	 */
	mx_routed = delivery_route_lookup((const char *const *)cfg->routes,
	    cfg->nroutes, b->domain) == NULL && cfg->smart_host == NULL;
	if (mx_routed) {
		const char *why = domain_knowledge(w, b->domain, &din, &sts);
		if (why != NULL) {
			for (i = 0; i < b->nrcpt; i++) {
				classify(&rs[i].o, 451, why, "4.4.3");
				rs[i].done = 1;
				rs[i].method = PM_PLAIN;
				rs[i].level = din.default_level;
				snprintf(rs[i].plan.reason,
				    sizeof(rs[i].plan.reason), "%s", why);
			}
			goto record;
		}
		hp.sts = din.mta_sts_enforce ? sts : NULL;
		hp.sticky = din.tls_capable == 1;
	}
	/* one plan per recipient (rules may name single addresses) */
	for (i = 0; i < b->nrcpt; i++) {
		char *err = NULL;
		int r;

		din.rcpt = b->rcpts[i].rcpt;
		r = policy_recipient(&w->pe, &din, &rs[i].plan, &rs[i].keys,
		    &err);
		if (r < 0) {
			char m[300];
			snprintf(m, sizeof(m), "451 4.3.0 policy unavailable "
			    "(%s)", err ? err : "?");
			classify(&rs[i].o, 451, m, "4.3.0");
			rs[i].done = 1;
			rs[i].method = PM_PLAIN;
			snprintf(rs[i].plan.reason, sizeof(rs[i].plan.reason),
			    "policy unavailable");
			xfree(err);
		}
	}
	/* the tag never leaves the gateway, whatever the method */
	if (tag >= 0) {
		char *err = NULL;
		buf_init(&base.own, (size_t)cfg->message_size_limit + 65536);
		if (subject_tag_strip(b->data, b->len,
		    w->d->pc.tags[tag].tag, &base.own, &err) == 0) {
			base.data = buf_cstr(&base.own);
			base.len = base.own.len;
		} else {
			log_warn("queue_id=%s event=tag_strip_failed "
			    "error=\"%s\"", b->message_id, err ? err : "?");
		}
		xfree(err);
	}

	/* run the plans: groups sharing a hop share a transaction */
	for (;;) {
		struct policy_step s;
		struct msg_view v;
		struct rcpt_state *r = NULL;
		size_t n = 0, k;
		int tls_failed = 0;
		char *err = NULL;

		for (i = 0; i < b->nrcpt && r == NULL; i++)
			if (!rs[i].done)
				r = &rs[i];
		if (r == NULL)
			break;
		i--;
		if (r->step >= r->plan.nsteps) {
			char m[1200];
			snprintf(m, sizeof(m), "%s no delivery method of the "
			    "policy is usable now (%s)", r->plan.bounce ?
			    "550 5.7.1" : "451 4.7.5", r->notes[0] ? r->notes :
			    r->plan.reason);
			classify(&r->o, r->plan.bounce ? 550 : 451, m,
			    r->plan.bounce ? "5.7.1" : "4.7.5");
			r->done = 1;
			r->method = r->plan.nsteps > 0 ?
			    r->plan.steps[r->plan.nsteps - 1].method : PM_PLAIN;
			r->level = r->plan.level;
			continue;
		}
		s = r->plan.steps[r->step];
		r->method = s.method;
		r->level = s.level;
		if (s.method == PM_ESCROW) {
			escrow_one(w, b, &base, i, r);
			continue;
		}
		idx[n++] = i;
		if (shares_transaction(s.method))
			for (j = i + 1; j < b->nrcpt; j++) {
				const struct rcpt_state *q = &rs[j];
				if (!q->done && q->step < q->plan.nsteps &&
				    shares_transaction(
				    q->plan.steps[q->step].method) &&
				    same_hop(&q->plan.steps[q->step], &s))
					idx[n++] = j;
			}
		if (step_view(w, b, &base, r, &s, &v, &err) < 0) {
			str_appendf(r->notes, sizeof(r->notes), "; ",
			    "%s failed: %s", policy_method_name(
			    s.method), err ? err : "?");
			log_err("queue_id=%s event=encrypt_failed rcpt=<%s> "
			    "method=%s error=\"%s\"", b->message_id,
			    b->rcpts[i].rcpt, policy_method_name(s.method),
			    err ? err : "?");
			xfree(err);
			buf_free(&v.own);
			r->step++;
			continue;
		}
		send_group(w, b, rs, idx, n, &s, &hp, mx_routed, v.data,
		    v.len, &tls_failed);
		buf_free(&v.own);
		for (k = 0; k < n; k++) {
			struct rcpt_state *q = &rs[idx[k]];
			q->method = q->plan.steps[q->step].method;
			q->level = q->plan.steps[q->step].level;
			if (tls_failed && q->step + 1 < q->plan.nsteps) {
				/* DESIGN.md step 4: on to the next method */
				str_appendf(q->notes, sizeof(q->notes), "; ",
				    "%s: %s", policy_method_name(
				    q->method), q->o.reply);
				q->step++;
				continue;
			}
			q->done = 1;
			if (q->o.outcome == DELIVERY_DELIVERED) {
				if (q->method == PM_PGP)
					(void)key_db_used(w->db, q->keys.pgp_id,
					    NULL);
				else if (q->method == PM_SMIME)
					(void)key_db_used(w->db,
					    q->keys.smime_id, NULL);
			}
			if (q->facts.mx_host[0] != '\0')
				bounce_mx = q->facts.mx_host;
		}
	}
record:
	for (i = 0; i < b->nrcpt; i++) {
		struct rcpt_outcome *o = &rs[i].o;
		/* the queue lifetime turns a deferral into a bounce */
		if (o->outcome == DELIVERY_DEFERRED && expired) {
			size_t l = strlen(o->reply);
			o->outcome = DELIVERY_BOUNCED;
			snprintf(o->reply + l, sizeof(o->reply) - l,
			    " (gave up: message older than max_queue_lifetime)");
			if (o->status[0] == '4')
				o->status[0] = '5';
		}
		if (o->outcome == DELIVERY_BOUNCED)
			nbounced++;
	}
	if (nbounced > 0) {
		struct rcpt_outcome *os = xcalloc(b->nrcpt, sizeof(*os));
		for (i = 0; i < b->nrcpt; i++)
			os[i] = rs[i].o;
		bounce(w, b, os, bounce_mx);
		xfree(os);
	}
	for (i = 0; i < b->nrcpt; i++) {
		const struct smtpc_result *res = &rs[i].facts;
		struct delivery_attempt a;
		char *err = NULL, reason[1500];
		unsigned retry = delivery_retry_delay(cfg->retry_min,
		    cfg->retry_max, b->rcpts[i].attempts);
		int r;

		snprintf(reason, sizeof(reason), "%s%s%s", rs[i].plan.reason,
		    rs[i].notes[0] ? "; at delivery: " : "", rs[i].notes);
		memset(&a, 0, sizeof(a));
		a.message_id = b->message_id;
		a.recipient_id = b->rcpts[i].id;
		a.rcpt = b->rcpts[i].rcpt;
		a.method = policy_method_name(rs[i].method);
		a.tls_level = tls_level_name(rs[i].level);
		a.reason = reason;
		a.rule_id = rs[i].plan.rule_id;
		a.mx_host = res->mx_host[0] ? res->mx_host : NULL;
		a.mx_addr = res->mx_addr[0] ? res->mx_addr : NULL;
		a.tls_protocol = res->tls ? res->tls_protocol : NULL;
		a.tls_cipher = res->tls ? res->tls_cipher : NULL;
		a.tls_bits = res->tls_bits;
		a.tls_verified = tls_verified_name(res->verified);
		a.outcome = rs[i].o.outcome;
		a.reply = rs[i].o.reply;
		a.duration_ms = (unsigned)(mono_ms() - t0);
		r = delivery_db_finish(w->db, w->owner, &a, retry, &err);
		log_info("queue_id=%s event=attempt rcpt=<%s> outcome=%s "
		    "method=%s tls_level=%s mx=%s addr=%s tls=%s cipher=%s "
		    "bits=%d verified=%s duration_ms=%u reply=\"%s\"%s%s",
		    b->message_id, a.rcpt, delivery_outcome_name(a.outcome),
		    a.method, a.tls_level, a.mx_host ? a.mx_host : "-",
		    a.mx_addr ? a.mx_addr : "-", a.tls_protocol ?
		    a.tls_protocol : "none", a.tls_cipher ? a.tls_cipher : "-",
		    a.tls_bits, a.tls_verified, a.duration_ms, a.reply,
		    r < 0 ? " record_error=" : "", r < 0 && err ? err : "");
		xfree(err);
		policy_keys_release(&rs[i].keys);
	}
	buf_free(&base.own);
	mta_sts_policy_free(&sts);
	xfree(idx);
	xfree(rs);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct dv *d = w->d;
	struct dns_conf dc;
	unsigned long seen = 0;
	char *err = NULL;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	outbound_dns_conf(d->cfg, &dc);
	w->dns = dns_resolver_new(&dc, &err);
	if (w->dns == NULL)
		fatal("event=dns_setup_failed error=\"%s\"", err);
	policy_env_init(&w->pe, d->cfg, &d->pc, NULL);
	w->pe.dns = d->cfg->wkd_enabled ? w->dns : NULL;

	for (;;) {
		struct delivery_batch b;
		const char *busy[DELIVERY_MAX_BUSY];
		size_t nbusy;
		int r;

		pthread_mutex_lock(&d->mu);
		while (!d->stop && d->generation == seen) {
			/*
			 * An open connection is kept for a short while, like
			 * Postfix's connection cache: mail to the same domain
			 * arriving now needs no new TCP and TLS handshake.
			 */
			if (w->conn != NULL) {
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += DELIVERY_CONN_IDLE;
				if (pthread_cond_timedwait(&d->cv, &d->mu, &ts) ==
				    ETIMEDOUT && d->generation == seen) {
					pthread_mutex_unlock(&d->mu);
					conn_drop(w);
					pthread_mutex_lock(&d->mu);
				}
			} else {
				pthread_cond_wait(&d->cv, &d->mu);
			}
		}
		if (d->stop) {
			pthread_mutex_unlock(&d->mu);
			break;
		}
		seen = d->generation;
		pthread_mutex_unlock(&d->mu);

		for (;;) {
			if (w->db == NULL) {
				w->db = db_open(d->conninfo, &err);
				if (w->db == NULL) {
					log_err("event=db_error error=\"%s\"",
					    err);
					xfree(err);
					err = NULL;
					break;
				}
				db_set_sync_commit(w->db, 0);
			}
			pthread_mutex_lock(&d->mu);
			busy_list(d, busy, &nbusy);
			r = d->stop;
			pthread_mutex_unlock(&d->mu);
			if (r)
				break;
			r = delivery_db_claim(w->db, w->owner,
			    d->cfg->delivery_lease, busy, nbusy,
			    w->conn_domain[0] ? w->conn_domain : NULL, &b,
			    &err);
			if (r < 0) {
				log_err("event=claim_error error=\"%s\"",
				    err ? err : "?");
				xfree(err);
				err = NULL;
				break;
			}
			if (r == 0)
				break;
			if (dest_enter(d, b.domain) < 0) {
				/* over the per-destination limit: let the
				 * lease lapse quickly by finishing nothing;
				 * another worker takes it when free */
				long freed;
				(void)delivery_db_release_node(w->db, w->owner,
				    &freed, NULL);
				delivery_batch_free(&b);
				continue;
			}
			deliver_batch(w, &b);
			dest_leave(d, b.domain);
			delivery_batch_free(&b);
		}
	}
	conn_drop(w);
	policy_env_free(&w->pe);
	db_close(&w->db);
	dns_resolver_free(&w->dns);
	return NULL;
}

/* wake_workers - new work: one worker per notification (it claims until
 * nothing is due, and the next notification wakes another), all of them
 * when retries fall due */
static void
wake_workers(struct dv *d, int all)
{
	pthread_mutex_lock(&d->mu);
	d->generation++;
	if (all)
		pthread_cond_broadcast(&d->cv);
	else
		pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

int
delivery_main(const struct sg_config *cfg, const int *fds, size_t nfds)
{
	struct dv d;
	struct worker *ws;
	pthread_t *th;
	struct sigaction sa;
	struct db *listen_db = NULL;
	char *err = NULL;
	long freed = 0;
	unsigned i;

	(void)fds;
	(void)nfds;
	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.conninfo = config_conninfo(cfg);
	/* this node's claims: restarting frees them at once */
	snprintf(d.owner_prefix, sizeof(d.owner_prefix), "%s/%s:%s/",
	    cfg->hostname, cfg->nlisten ? cfg->listen[0].host : "-",
	    cfg->nlisten ? cfg->listen[0].port : "-");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = dv_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	d.tls = outbound_tls_ctx(cfg, &err);
	if (d.tls == NULL)
		fatal("event=tls_setup_failed error=\"%s\"", err);
	outbound_client_conf(cfg, d.tls, &d.cc);
	if (policy_conf_init(cfg, &d.pc, &err) < 0)
		fatal("event=policy_config error=\"%s\"", err);
	if (policy_pgp_home_prepare(cfg, &err) < 0)
		fatal("event=pgp_home_failed error=\"%s\"", err);
	if (cfg->smime_sign_cert != NULL && cfg->smime_sign_key != NULL &&
	    smime_load_signer(cfg->smime_sign_cert, cfg->smime_sign_key,
	    &d.sign_cert, &d.sign_key, &d.sign_chain, &err) < 0)
		fatal("event=smime_signer_failed error=\"%s\"", err);
	/* the escrow master key is read before dropping root */
	if (cfg->escrow_enabled &&
	    (d.master = escrow_master_load(cfg, &err)) == NULL)
		fatal("event=escrow_master_key error=\"%s\"", err);
	if (privdrop(cfg->run_user, &err) < 0)
		fatal("event=privdrop_failed error=\"%s\"", err);

	listen_db = db_open(d.conninfo, &err);
	if (listen_db == NULL)
		fatal("event=db_unavailable error=\"%s\"", err);
	if (delivery_db_release_node(listen_db, d.owner_prefix, &freed,
	    &err) < 0)
		fatal("event=release_failed error=\"%s\"", err);
	pthread_mutex_init(&d.mu, NULL);
	pthread_cond_init(&d.cv, NULL);
	ws = xcalloc(cfg->delivery_workers, sizeof(*ws));
	th = xcalloc(cfg->delivery_workers, sizeof(*th));
	for (i = 0; i < cfg->delivery_workers; i++) {
		ws[i].d = &d;
		ws[i].idx = (int)i;
		snprintf(ws[i].owner, sizeof(ws[i].owner), "%s%ld.%u",
		    d.owner_prefix, (long)getpid(), i);
		if (pthread_create(&th[i], NULL, worker_main, &ws[i]) != 0)
			fatal("event=thread_failed");
	}
	log_info("event=delivery_ready workers=%u freed_leases=%ld node=%s",
	    cfg->delivery_workers, freed, d.owner_prefix);

	while (!dv_stop) {
		PGresult *res;
		PGnotify *n;
		struct pollfd pfd;
		double due = -1;
		int timeout_ms, got = 0;
		int64_t next_check = 0;

		/* (re)subscribe; a reconnect loses LISTEN */
		res = db_exec(listen_db, "LISTEN sealgate_queue", 0, NULL,
		    NULL, &err);
		if (res == NULL) {
			log_err("event=listen_failed error=\"%s\"", err);
			xfree(err);
			err = NULL;
			sleep(1);
			continue;
		}
		PQclear(res);
		wake_workers(&d, 1);
		next_check = 0;
		for (;;) {
			int64_t now = mono_ms();
			int woke = 0;

			if (dv_stop)
				break;
			/*
			 * Retries: ask when the next one is due only on a
			 * timer, never per notification, and wake everyone
			 * when it is time.
			 */
			if (now >= next_check) {
				if (delivery_db_next_due(listen_db, &due,
				    &err) < 0) {
					log_err("event=db_error error=\"%s\"",
					    err);
					xfree(err);
					err = NULL;
					break;
				}
				if (due >= 0 && due < 0.001) {
					wake_workers(&d, 1);
					woke = 1;
					/* if all are busy it stays due: look
					 * again in a second, not sooner */
					due = 1;
				}
				/* a worker's deferral makes a row due later
				 * without a notification: look at least once
				 * a second (one indexed query) */
				if (due < 0 || due > 1)
					due = 1;
				next_check = now + (int64_t)(due * 1000) + 5;
			}
			/*
			 * A notification that arrived while a query ran is
			 * already buffered inside libpq: poll() would not
			 * see it. Drain before sleeping.
			 */
			while ((n = PQnotifies(db_conn(listen_db))) != NULL) {
				got = 1;
				PQfreemem(n);
			}
			if (got) {
				if (!woke)
					wake_workers(&d, 0);
				got = 0;
				continue;
			}
			pfd.fd = PQsocket(db_conn(listen_db));
			pfd.events = POLLIN;
			if (pfd.fd < 0)
				break;
			timeout_ms = (int)(next_check - mono_ms());
			if (timeout_ms < 0)
				timeout_ms = 0;
			/* wake at least once a second to notice SIGTERM */
			if (timeout_ms > 1000)
				timeout_ms = 1000;
			if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
				break;
			if ((pfd.revents & POLLIN) &&
			    PQconsumeInput(db_conn(listen_db)) != 1)
				break;	/* connection lost: re-LISTEN */
		}
	}
	log_info("event=delivery_stopping");
	pthread_mutex_lock(&d.mu);
	d.stop = 1;
	pthread_cond_broadcast(&d.cv);
	pthread_mutex_unlock(&d.mu);
	for (i = 0; i < cfg->delivery_workers; i++)
		pthread_join(th[i], NULL);
	db_close(&listen_db);
	SSL_CTX_free(d.tls);
	xfree(ws);
	xfree(th);
	xfree(d.conninfo);
	log_info("event=delivery_stopped");
	return 0;
}
