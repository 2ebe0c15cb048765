/*
 * dns.c - mail routing lookups with libunbound.
 *
 * Implements: RFC 5321 5.1 (MX, preference order, implicit MX), RFC 7505
 * (null MX), RFC 1035 3.3.9 (MX RDATA), RFC 4035 (DNSSEC status as
 * libunbound's validator reports it), RFC 6761 6.2 (test. is blocked
 * unless allowed).
 * Trust: every answer comes from the network. MX RDATA is parsed here,
 * bounded, and target names are checked before they are queried.
 * Threads: one ub_ctx per resolver in libunbound's thread mode; queries
 * are asynchronous so each call has one deadline (ub_resolve() has no
 * timeout): poll() on ub_fd() until it passes, then ub_cancel().
 * Library module: never logs; reasons go to the result's why.
 */
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>

#include <unbound.h>

#include "dns.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define DNS_TYPE_A	1
#define DNS_TYPE_MX	15
#define DNS_TYPE_AAAA	28
#define DNS_CLASS_IN	1

#define DNS_RCODE_NOERROR	0
#define DNS_RCODE_NXDOMAIN	3

#define DNS_ERR_MAX	512		/* dns_resolver_new() reasons */

struct dns_resolver {
	struct ub_ctx *ctx;
	unsigned timeout_ms;
	int ipv6;
};

/* one asynchronous query and, once done, its answer */
struct dns_query {
	int id;				/* libunbound's async_id */
	int pending;			/* sent, no callback yet */
	int timed_out;			/* cancelled at the deadline */
	int err;			/* ub_ctx_err; 0: res is set */
	struct ub_result *res;
};

/* what one answer says, before it is applied */
enum dns_answer {
	DNS_ANS_DATA,			/* records of the type asked for */
	DNS_ANS_NODATA,			/* the name exists, no such records */
	DNS_ANS_NXDOMAIN,
	DNS_ANS_TEMPFAIL,		/* timeout, SERVFAIL, REFUSED, local */
	DNS_ANS_BOGUS,
};

/* dns_err - set *err_out to a new formatted string */
static void
dns_err(char **err_out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
dns_err(char **err_out, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	if (err_out == NULL)
		return;
	buf_init(&b, DNS_ERR_MAX);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) < 0)
		buf_append_str(&b, "DNS resolver setup failed");
	va_end(ap);
	*err_out = buf_steal(&b, NULL);
}

/* dns_why - printf into a result's reason (truncated, never fails) */
static void
dns_why(struct dns_mx_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
dns_why(struct dns_mx_result *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

/* dns_text_safe - copy network text for a reason: printable ASCII only */
static void
dns_text_safe(char *dst, size_t dstlen, const char *src)
{
	size_t i = 0;

	if (dstlen == 0)
		return;
	for (; src != NULL && *src != '\0' && i + 1 < dstlen; src++) {
		unsigned char c = (unsigned char)*src;

		dst[i++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
	}
	dst[i] = '\0';
}

/* dns_zone_valid - a zone name for allow_zones: host name syntax, one
 * trailing dot allowed (it goes into a libunbound option string) */
static int
dns_zone_valid(const char *z, char *canon, size_t canonlen)
{
	size_t n = strlen(z);
	char tmp[DNS_NAME_MAX + 1];

	if (n > 0 && z[n - 1] == '.')
		n--;
	if (n == 0 || n > DNS_NAME_MAX - 2)
		return 0;
	memcpy(tmp, z, n);
	tmp[n] = '\0';
	if (!dns_hostname_valid(tmp))
		return 0;
	return snprintf(canon, canonlen, "%s. transparent", tmp) <
	    (int)canonlen;
}

/* dns_resolver_new - a libunbound context set up from the configuration */
struct dns_resolver *
dns_resolver_new(const struct dns_conf *c, char **err_out)
{
	struct dns_resolver *r;
	static const struct dns_conf defaults;
	char zone[DNS_NAME_MAX + 32];
	size_t i;
	int e;

	if (err_out != NULL)
		*err_out = NULL;
	if (c == NULL)
		c = &defaults;
	r = xcalloc(1, sizeof(*r));
	r->timeout_ms = c->timeout_ms == 0 ? DNS_TIMEOUT_DEFAULT_MS :
	    c->timeout_ms;
	if (r->timeout_ms > DNS_TIMEOUT_MAX_MS)
		r->timeout_ms = DNS_TIMEOUT_MAX_MS;
	r->ipv6 = c->ipv6 != 0;
	r->ctx = ub_ctx_create();
	if (r->ctx == NULL) {
		dns_err(err_out, "ub_ctx_create failed");
		goto fail;
	}
	/*
	 * A thread, not libunbound's default forked process: the fork would
	 * copy the whole address space of the caller, secrets included.
	 * Must come before the context is finalized.
	 */
	e = ub_ctx_async(r->ctx, 1);
	if (e != 0) {
		dns_err(err_out, "ub_ctx_async: %s", ub_strerror(e));
		goto fail;
	}
	/*
	 * Library module: libunbound's own messages (its log is one per
	 * process) go nowhere; the reasons come back as error codes.
	 */
	ub_ctx_debugout(r->ctx, NULL);
	/* RFC 8085-sized EDNS buffer (DNS flag day 2020): no fragments */
	e = ub_ctx_set_option(r->ctx, "edns-buffer-size:", "1232");
	if (e != 0) {
		dns_err(err_out, "edns-buffer-size: %s", ub_strerror(e));
		goto fail;
	}
	for (i = 0; i < c->nallow_zones; i++) {
		if (c->allow_zones[i] == NULL ||
		    !dns_zone_valid(c->allow_zones[i], zone, sizeof(zone))) {
			dns_err(err_out, "bad zone name in allow_zones: "
			    "\"%.100s\"", c->allow_zones[i] ?
			    c->allow_zones[i] : "(null)");
			goto fail;
		}
		e = ub_ctx_set_option(r->ctx, "local-zone:", zone);
		if (e != 0) {
			dns_err(err_out, "local-zone %s: %s", zone,
			    ub_strerror(e));
			goto fail;
		}
	}
	if (c->nforwarders > 0) {
		for (i = 0; i < c->nforwarders; i++) {
			const char *f = c->forwarders[i];

			e = f == NULL ? UB_SYNTAX : ub_ctx_set_fwd(r->ctx, f);
			if (e != 0) {
				dns_err(err_out, "forwarder \"%.100s\": %s",
				    f ? f : "(null)", ub_strerror(e));
				goto fail;
			}
		}
	} else {
		e = ub_ctx_resolvconf(r->ctx, NULL);
		if (e != 0) {
			dns_err(err_out, "/etc/resolv.conf: %s%s%s",
			    ub_strerror(e), e == UB_READFILE ? ": " : "",
			    e == UB_READFILE ? strerror(errno) : "");
			goto fail;
		}
	}
	if (c->trust_anchor_file != NULL) {
		/* libunbound only notes the name; a missing file would
		 * surface as UB_INITFAIL at the first query */
		if (access(c->trust_anchor_file, R_OK) != 0) {
			dns_err(err_out, "trust anchor file %.200s: %s",
			    c->trust_anchor_file, strerror(errno));
			goto fail;
		}
		e = ub_ctx_add_ta_file(r->ctx, c->trust_anchor_file);
		if (e != 0) {
			dns_err(err_out, "trust anchor file %.200s: %s",
			    c->trust_anchor_file, ub_strerror(e));
			goto fail;
		}
	}
	/*
	 * Finalize now (read the anchors, build the local zones) so that a
	 * bad trust anchor file fails here: libunbound finalizes before a
	 * local zone change, and removing a zone that is not there changes
	 * nothing else.
	 */
	e = ub_ctx_zone_remove(r->ctx, "sealgate-finalize.invalid.");
	if (e != 0) {
		if (c->trust_anchor_file != NULL)
			dns_err(err_out, "resolver setup (trust anchor file "
			    "%.200s): %s", c->trust_anchor_file,
			    ub_strerror(e));
		else
			dns_err(err_out, "resolver setup: %s",
			    ub_strerror(e));
		goto fail;
	}
	return r;
fail:
	dns_resolver_free(&r);
	return NULL;
}

/* dns_resolver_free - stop libunbound's thread, free everything */
void
dns_resolver_free(struct dns_resolver **rp)
{
	struct dns_resolver *r;

	if (rp == NULL || *rp == NULL)
		return;
	r = *rp;
	if (r->ctx != NULL)
		ub_ctx_delete(r->ctx);
	xfree(r);
	*rp = NULL;
}

/* dns_query_done - libunbound's callback, run from ub_process() */
static void
dns_query_done(void *arg, int err, struct ub_result *res)
{
	struct dns_query *q = arg;

	q->pending = 0;
	q->err = err;
	q->res = res;
	if (err == 0 && res == NULL)
		q->err = UB_NOMEM;
}

/* dns_query_start - send one query; a local failure completes it */
static void
dns_query_start(struct dns_resolver *r, struct dns_query *q,
    const char *name, int type)
{
	int e;

	memset(q, 0, sizeof(*q));
	q->pending = 1;
	e = ub_resolve_async(r->ctx, name, type, DNS_CLASS_IN, q,
	    dns_query_done, &q->id);
	if (e != 0) {
		q->pending = 0;
		q->err = e;
	}
}

/* dns_query_release - free an answer; the query must not be pending */
static void
dns_query_release(struct dns_query *q)
{
	if (q->res != NULL)
		ub_resolve_free(q->res);
	q->res = NULL;
}

/* dns_ms_left - milliseconds from now until deadline, at least 0 */
static int
dns_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > DNS_TIMEOUT_MAX_MS ? DNS_TIMEOUT_MAX_MS : (int)ms;
}

/* dns_deadline - now plus the resolver's timeout */
static void
dns_deadline(const struct dns_resolver *r, struct timespec *deadline)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += r->timeout_ms / 1000;
	deadline->tv_nsec += (long)(r->timeout_ms % 1000) * 1000000;
	if (deadline->tv_nsec >= 1000000000) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000;
	}
}

/* dns_cancel_pending - give up on every query still out: timeout or a
 * broken pipe to libunbound's thread */
static void
dns_cancel_pending(struct dns_resolver *r, struct dns_query *qs, size_t n,
    int err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!qs[i].pending)
			continue;
		/* after ub_cancel() the callback is never called */
		ub_cancel(r->ctx, qs[i].id);
		qs[i].pending = 0;
		qs[i].err = err;
		qs[i].timed_out = err == 0;
	}
}

/* dns_wait - run libunbound's callbacks until every query is done or the
 * deadline passes; what is still out then is cancelled as timed out */
static void
dns_wait(struct dns_resolver *r, struct dns_query *qs, size_t n,
    const struct timespec *deadline)
{
	struct pollfd pfd;
	size_t i, pending;
	int ms, rc;

	for (;;) {
		pending = 0;
		for (i = 0; i < n; i++)
			pending += qs[i].pending != 0;
		if (pending == 0)
			return;
		ms = dns_ms_left(deadline);
		if (ms == 0) {
			dns_cancel_pending(r, qs, n, 0);
			return;
		}
		pfd.fd = ub_fd(r->ctx);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0) {
			dns_cancel_pending(r, qs, n, UB_PIPE);
			return;
		}
		rc = poll(&pfd, 1, ms);
		if (rc < 0 && errno != EINTR) {
			dns_cancel_pending(r, qs, n, UB_SOCKET);
			return;
		}
		if (rc <= 0)
			continue;
		if (ub_process(r->ctx) != 0) {
			dns_cancel_pending(r, qs, n, UB_PIPE);
			return;
		}
	}
}

/* dns_rcode_name - text for an rcode in a reason */
static const char *
dns_rcode_name(int rcode)
{
	switch (rcode) {
	case 1:
		return "FORMERR";
	case 2:
		return "SERVFAIL";
	case 4:
		return "NOTIMP";
	case 5:
		return "REFUSED";
	default:
		return "error";
	}
}

/*
 * dns_answer_of - classify a finished query; a reason for anything but
 * data/nodata goes to why (may be NULL). Bogus is checked first: a bogus
 * answer still carries its (unusable) records.
 */
static enum dns_answer
dns_answer_of(const struct dns_resolver *r, const struct dns_query *q,
    const char *name, const char *type, char *why, size_t whylen)
{
	char safe[200];
	const struct ub_result *res = q->res;

	if (q->timed_out) {
		if (why != NULL)
			snprintf(why, whylen, "%s %s: no answer within %u ms",
			    name, type, r->timeout_ms);
		return DNS_ANS_TEMPFAIL;
	}
	if (q->err != 0 || res == NULL) {
		if (why != NULL)
			snprintf(why, whylen, "%s %s: resolver error: %s",
			    name, type, ub_strerror(q->err));
		return DNS_ANS_TEMPFAIL;
	}
	if (res->bogus) {
		if (why != NULL) {
			dns_text_safe(safe, sizeof(safe), res->why_bogus ?
			    res->why_bogus : "validation failed");
			snprintf(why, whylen, "%s %s: DNSSEC bogus: %s", name,
			    type, safe);
		}
		return DNS_ANS_BOGUS;
	}
	if (res->rcode == DNS_RCODE_NXDOMAIN)
		return DNS_ANS_NXDOMAIN;
	if (res->rcode != DNS_RCODE_NOERROR) {
		if (why != NULL)
			snprintf(why, whylen, "%s %s: %s (rcode %d)", name,
			    type, dns_rcode_name(res->rcode), res->rcode);
		return DNS_ANS_TEMPFAIL;
	}
	return res->havedata && res->data != NULL && res->data[0] != NULL ?
	    DNS_ANS_DATA : DNS_ANS_NODATA;
}

/* dns_rnd_system - the default shuffle randomness */
static unsigned
dns_rnd_system(void *arg)
{
	unsigned v = 0;

	(void)arg;
	/* a short getrandom() cannot be partial; on failure no shuffle */
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

/* dns_mx_order - stable sort by preference, then shuffle equal runs */
void
dns_mx_order(struct dns_mx_host *h, size_t n, unsigned (*rnd)(void *),
    void *arg)
{
	struct dns_mx_host tmp;
	size_t i, j, start;

	if (h == NULL || n < 2)
		return;
	if (rnd == NULL)
		rnd = dns_rnd_system;
	/* insertion sort: n is at most DNS_MX_HOSTS_MAX from our callers */
	for (i = 1; i < n; i++) {
		if (h[i - 1].pref <= h[i].pref)
			continue;
		tmp = h[i];
		j = i;
		while (j > 0 && h[j - 1].pref > tmp.pref) {
			h[j] = h[j - 1];
			j--;
		}
		h[j] = tmp;
	}
	/* RFC 5321 5.1: equal preferences in random order (Fisher-Yates) */
	for (start = 0; start < n; start = i) {
		for (i = start + 1; i < n && h[i].pref == h[start].pref; i++)
			;
		for (j = i - start; j > 1; j--) {
			size_t k = (size_t)rnd(arg) % j;

			if (k != j - 1) {
				tmp = h[start + k];
				h[start + k] = h[start + j - 1];
				h[start + j - 1] = tmp;
			}
		}
	}
}

/* dns_mx_rdata_parse - MX RDATA to preference and name; see dns.h */
int
dns_mx_rdata_parse(const unsigned char *rd, size_t len, unsigned *pref_out,
    char name_out[DNS_NAME_MAX + 1])
{
	char name[DNS_NAME_MAX + 1];
	size_t pos, out = 0, wire = 0, i;
	unsigned lab;

	name_out[0] = '\0';
	/* 16-bit preference and at least the root label */
	if (rd == NULL || len < 3)
		return -1;
	pos = 2;
	for (;;) {
		if (pos >= len)
			return -1;		/* truncated before the root */
		lab = rd[pos++];
		wire++;
		if (lab == 0)
			break;
		/* 0xC0: compression pointer (never in libunbound's rdata);
		 * 0x40/0x80: extended label types (RFC 6891 6.1.1) */
		if (lab & 0xc0)
			return -1;
		if (len - pos < lab)
			return -1;
		wire += lab;
		/* RFC 1035 2.3.4: 255 octets, the final root byte included */
		if (wire + 1 > DNS_NAME_MAX)
			return -1;
		if (out > 0)
			name[out++] = '.';
		for (i = 0; i < lab; i++) {
			unsigned char c = rd[pos + i];

			/* nothing the dotted text form cannot carry as is */
			if (c <= 0x20 || c >= 0x7f || c == '.' || c == '\\')
				return -1;
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			name[out++] = (char)c;
		}
		pos += lab;
	}
	if (pos != len)
		return -1;			/* trailing bytes */
	name[out] = '\0';
	memcpy(name_out, name, out + 1);
	*pref_out = ((unsigned)rd[0] << 8) | rd[1];
	return 0;
}

/* dns_hostname_valid - RFC 5321 Domain syntax, not an address */
int
dns_hostname_valid(const char *name)
{
	size_t len = 0, lab = 0, i;
	int digits_only = 1;
	char prev = '.';

	if (name == NULL)
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (++len > DNS_NAME_MAX - 2)
			return 0;
		if (c == '.') {
			/* empty label, or one ending in a hyphen */
			if (lab == 0 || prev == '-')
				return 0;
			lab = 0;
			digits_only = 1;
			prev = c;
			continue;
		}
		if (c == '-') {
			if (lab == 0)
				return 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			digits_only = 0;
		} else if (c < '0' || c > '9') {
			return 0;
		}
		if (c == '-')
			digits_only = 0;
		if (++lab > 63)
			return 0;
		prev = c;
	}
	if (lab == 0 || prev == '-')
		return 0;
	/* RFC 3696 2: no all-numeric TLD; "192.0.2.1" is an address */
	return !digits_only;
}

/* dns_name_copy - NAME without one trailing dot, lower case, into dst;
 * 0 ok, -1 too long or empty */
static int
dns_name_copy(const char *name, char dst[DNS_NAME_MAX + 1])
{
	size_t n = strlen(name), i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > DNS_NAME_MAX - 2)
		return -1;
	for (i = 0; i < n; i++) {
		char c = name[i];

		dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	dst[n] = '\0';
	return 0;
}

/* dns_addr_add - one A or AAAA rdata into host's list, unless it is
 * malformed, a duplicate, or the list is full */
static void
dns_addr_add(struct dns_mx_host *h, int family, const char *data, int len)
{
	struct dns_addr a;
	size_t i;

	if (h->naddrs >= DNS_ADDRS_MAX)
		return;
	memset(&a, 0, sizeof(a));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a.ss;

		if (len != 4)
			return;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, data, 4);
		a.len = sizeof(*s4);
		inet_ntop(AF_INET, &s4->sin_addr, a.text, sizeof(a.text));
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.ss;

		if (len != 16)
			return;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, data, 16);
		a.len = sizeof(*s6);
		inet_ntop(AF_INET6, &s6->sin6_addr, a.text, sizeof(a.text));
	}
	for (i = 0; i < h->naddrs; i++)
		if (strcmp(h->addrs[i].text, a.text) == 0)
			return;
	if (h->addrs == NULL)
		h->addrs = xcalloc(DNS_ADDRS_MAX, sizeof(*h->addrs));
	h->addrs[h->naddrs++] = a;
}

/* dns_host_apply - fill host h from its A (and AAAA) answers; *why gets
 * the first reason a lookup failed, if it is still empty */
static void
dns_host_apply(const struct dns_resolver *r, struct dns_mx_host *h,
    const struct dns_query *q4, const struct dns_query *q6, char *why,
    size_t whylen)
{
	const struct dns_query *qs[2] = { q4, q6 };
	static const char *const types[2] = { "A", "AAAA" };
	char reason[256];
	enum dns_answer a;
	int tempfail = 0, bogus = 0, nx = 0, secure = 1;
	size_t i, k;

	reason[0] = '\0';
	for (k = 0; k < 2; k++) {
		if (qs[k] == NULL)
			continue;
		a = dns_answer_of(r, qs[k], h->name, types[k], reason,
		    sizeof(reason));
		switch (a) {
		case DNS_ANS_DATA:
			for (i = 0; qs[k]->res->data[i] != NULL; i++)
				dns_addr_add(h, k == 0 ? AF_INET : AF_INET6,
				    qs[k]->res->data[i], qs[k]->res->len[i]);
			break;
		case DNS_ANS_NODATA:
			break;
		case DNS_ANS_NXDOMAIN:
			nx = 1;
			break;
		case DNS_ANS_TEMPFAIL:
			tempfail = 1;
			break;
		case DNS_ANS_BOGUS:
			bogus = 1;
			break;
		}
		/* DANE wants every address answer validated, none missing */
		if ((a != DNS_ANS_DATA && a != DNS_ANS_NODATA &&
		    a != DNS_ANS_NXDOMAIN) || !qs[k]->res->secure)
			secure = 0;
		if (reason[0] != '\0' && why != NULL && why[0] == '\0')
			snprintf(why, whylen, "%s", reason);
	}
	h->secure = secure;
	if (h->naddrs > 0)
		h->status = DNS_OK;
	else if (tempfail)
		h->status = DNS_TEMPFAIL;
	else if (bogus)
		h->status = DNS_BOGUS;
	else if (nx)
		h->status = DNS_NXDOMAIN;
	else
		h->status = DNS_NO_ADDRESS;
}

/*
 * dns_resolve_hosts - A (and AAAA) of every host in out, all at once
 * under the one deadline; sets each host's status and out's status:
 * DNS_OK when some host has an address, else the most hopeful failure
 * (tempfail before bogus before "no address").
 */
static void
dns_resolve_hosts(struct dns_resolver *r, struct dns_mx_result *out,
    const struct timespec *deadline)
{
	struct dns_query *qs;
	char why[sizeof(out->why)];
	size_t i, per = r->ipv6 ? 2 : 1, nok = 0;
	int tempfail = 0, bogus = 0;

	why[0] = '\0';
	qs = xcalloc(out->nhosts * per, sizeof(*qs));
	for (i = 0; i < out->nhosts; i++) {
		dns_query_start(r, &qs[i * per], out->hosts[i].name,
		    DNS_TYPE_A);
		if (r->ipv6)
			dns_query_start(r, &qs[i * per + 1],
			    out->hosts[i].name, DNS_TYPE_AAAA);
	}
	dns_wait(r, qs, out->nhosts * per, deadline);
	for (i = 0; i < out->nhosts; i++) {
		struct dns_mx_host *h = &out->hosts[i];

		dns_host_apply(r, h, &qs[i * per],
		    r->ipv6 ? &qs[i * per + 1] : NULL, why, sizeof(why));
		nok += h->status == DNS_OK;
		tempfail |= h->status == DNS_TEMPFAIL;
		bogus |= h->status == DNS_BOGUS;
	}
	for (i = 0; i < out->nhosts * per; i++)
		dns_query_release(&qs[i]);
	xfree(qs);

	if (nok > 0) {
		out->status = DNS_OK;
		out->why[0] = '\0';
		return;
	}
	if (tempfail)
		out->status = DNS_TEMPFAIL;
	else if (bogus)
		out->status = DNS_BOGUS;
	else
		out->status = DNS_NO_ADDRESS;
	if (why[0] != '\0')
		dns_why(out, "%s", why);
	else if (out->implicit)
		dns_why(out, "%s: no MX and no address record",
		    out->hosts[0].name);
	else
		dns_why(out, "no MX host has an address (%zu host%s)",
		    out->nhosts, out->nhosts == 1 ? "" : "s");
}

/* dns_host_keep - add name/pref to the best DNS_MX_HOSTS_MAX distinct
 * hosts in hosts[0..*n): a duplicate keeps its lower preference, and
 * when full a better preference evicts the worst one */
static void
dns_host_keep(struct dns_mx_host *hosts, size_t *n, const char *name,
    unsigned pref)
{
	size_t i, worst = 0;

	for (i = 0; i < *n; i++) {
		if (strcmp(hosts[i].name, name) == 0) {
			if (pref < hosts[i].pref)
				hosts[i].pref = pref;
			return;
		}
	}
	if (*n < DNS_MX_HOSTS_MAX) {
		i = (*n)++;
	} else {
		for (i = 1; i < *n; i++)
			if (hosts[i].pref > hosts[worst].pref)
				worst = i;
		if (pref >= hosts[worst].pref)
			return;
		i = worst;
	}
	memset(&hosts[i], 0, sizeof(hosts[i]));
	memcpy(hosts[i].name, name, strlen(name) + 1);
	hosts[i].pref = pref;
}

/* dns_mx_hosts - the MX answer into out->hosts; returns -1 for a null
 * MX, else the number of records refused (malformed, bad names) */
static int
dns_mx_hosts(const struct ub_result *res, struct dns_mx_result *out,
    char *first_bad, size_t badlen)
{
	char name[DNS_NAME_MAX + 1];
	unsigned pref;
	int refused = 0, null_mx = 0;
	size_t i;

	out->hosts = xcalloc(DNS_MX_HOSTS_MAX, sizeof(*out->hosts));
	for (i = 0; res->data[i] != NULL; i++) {
		if (res->len[i] < 0 || dns_mx_rdata_parse(
		    (const unsigned char *)res->data[i], (size_t)res->len[i],
		    &pref, name) < 0) {
			refused++;
			if (first_bad[0] == '\0')
				snprintf(first_bad, badlen, "malformed MX "
				    "record");
			continue;
		}
		if (name[0] == '\0') {
			/* RFC 7505 3: "MX 0 ." - and with other MX records
			 * beside it (which 7505 forbids) it still says the
			 * domain wants no mail */
			null_mx = 1;
			continue;
		}
		if (!dns_hostname_valid(name)) {
			refused++;
			if (first_bad[0] == '\0')
				snprintf(first_bad, badlen, "MX target "
				    "\"%.100s\" is not a host name", name);
			continue;
		}
		dns_host_keep(out->hosts, &out->nhosts, name, pref);
	}
	return null_mx ? -1 : refused;
}

/* dns_lookup_mx - MX, null MX or implicit MX, then the hosts' addresses */
enum dns_status
dns_lookup_mx(struct dns_resolver *r, const char *domain,
    struct dns_mx_result *out)
{
	char name[DNS_NAME_MAX + 1], bad[160], safe[120];
	struct timespec deadline;
	struct dns_query q;
	int refused;

	memset(out, 0, sizeof(*out));
	dns_text_safe(safe, sizeof(safe), domain ? domain : "");
	if (domain == NULL || dns_name_copy(domain, name) < 0 ||
	    !dns_hostname_valid(name)) {
		out->status = DNS_NXDOMAIN;
		dns_why(out, "\"%s\" is not a valid domain name", safe);
		return out->status;
	}
	dns_deadline(r, &deadline);
	dns_query_start(r, &q, name, DNS_TYPE_MX);
	dns_wait(r, &q, 1, &deadline);

	switch (dns_answer_of(r, &q, name, "MX", out->why, sizeof(out->why))) {
	case DNS_ANS_TEMPFAIL:
		out->status = DNS_TEMPFAIL;
		break;
	case DNS_ANS_BOGUS:
		out->status = DNS_BOGUS;
		break;
	case DNS_ANS_NXDOMAIN:
		out->status = DNS_NXDOMAIN;
		out->secure = q.res->secure != 0;
		dns_why(out, "%s: no such domain (NXDOMAIN)", name);
		break;
	case DNS_ANS_NODATA:
		/* RFC 5321 5.1: no MX, the domain itself is the host */
		out->secure = q.res->secure != 0;
		out->implicit = 1;
		out->hosts = xcalloc(1, sizeof(*out->hosts));
		out->nhosts = 1;
		memcpy(out->hosts[0].name, name, strlen(name) + 1);
		out->hosts[0].pref = 0;
		dns_resolve_hosts(r, out, &deadline);
		break;
	case DNS_ANS_DATA:
		out->secure = q.res->secure != 0;
		bad[0] = '\0';
		refused = dns_mx_hosts(q.res, out, bad, sizeof(bad));
		if (refused < 0) {
			xfree(out->hosts);
			out->hosts = NULL;
			out->nhosts = 0;
			out->status = DNS_NULL_MX;
			dns_why(out, "%s accepts no mail (null MX, RFC 7505)",
			    name);
			break;
		}
		if (out->nhosts == 0) {
			out->status = DNS_NO_ADDRESS;
			dns_why(out, "%s: no usable MX host (%s)", name, bad);
			break;
		}
		dns_mx_order(out->hosts, out->nhosts, NULL, NULL);
		dns_resolve_hosts(r, out, &deadline);
		break;
	}
	dns_query_release(&q);
	return out->status;
}

/* dns_literal - an IP literal host, bare or in brackets: 1 and out set,
 * or 0 when HOST is not a literal */
static int
dns_literal(const char *host, struct dns_mx_result *out)
{
	char text[64];
	const char *p = host;
	size_t n = strlen(host);
	struct dns_mx_host *h;
	unsigned char addr[16];
	int family, v6tag = 0;

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		p = host + 1;
		n -= 2;
		/* RFC 5321 4.1.3: "[IPv6:" holds an IPv6 address only */
		if (n >= 5 && strncasecmp(p, "IPv6:", 5) == 0) {
			p += 5;
			n -= 5;
			v6tag = 1;
		}
	}
	if (n == 0 || n >= sizeof(text))
		return 0;
	memcpy(text, p, n);
	text[n] = '\0';
	if (!v6tag && inet_pton(AF_INET, text, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		family = AF_INET6;
	else
		return 0;
	h = xcalloc(1, sizeof(*h));
	dns_addr_add(h, family, (const char *)addr, family == AF_INET ? 4 :
	    16);
	snprintf(h->name, sizeof(h->name), "%s", h->addrs[0].text);
	h->status = DNS_OK;
	out->hosts = h;
	out->nhosts = 1;
	out->status = DNS_OK;
	return 1;
}

/* dns_lookup_host - one host for a static route: literal or A/AAAA */
enum dns_status
dns_lookup_host(struct dns_resolver *r, const char *host,
    struct dns_mx_result *out)
{
	char name[DNS_NAME_MAX + 1], safe[120];
	struct timespec deadline;

	memset(out, 0, sizeof(*out));
	if (host != NULL && dns_literal(host, out))
		return out->status;
	dns_text_safe(safe, sizeof(safe), host ? host : "");
	if (host == NULL || dns_name_copy(host, name) < 0 ||
	    !dns_hostname_valid(name)) {
		out->status = DNS_NXDOMAIN;
		dns_why(out, "\"%s\" is not a valid host name", safe);
		return out->status;
	}
	dns_deadline(r, &deadline);
	out->hosts = xcalloc(1, sizeof(*out->hosts));
	out->nhosts = 1;
	memcpy(out->hosts[0].name, name, strlen(name) + 1);
	dns_resolve_hosts(r, out, &deadline);
	if (out->status == DNS_NO_ADDRESS &&
	    out->hosts[0].status == DNS_NXDOMAIN) {
		out->status = DNS_NXDOMAIN;
		dns_why(out, "%s: no such host (NXDOMAIN)", name);
	}
	out->secure = out->hosts[0].secure;
	return out->status;
}

/* dns_mx_result_free - free the hosts and their addresses; idempotent */
void
dns_mx_result_free(struct dns_mx_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->nhosts; i++)
		xfree(res->hosts[i].addrs);
	xfree(res->hosts);
	res->hosts = NULL;
	res->nhosts = 0;
}

enum dns_status
dns_lookup_rr(struct dns_resolver *r, const char *name, int rrtype,
    struct dns_rrset *out)
{
	struct dns_query q;
	struct timespec deadline;
	char tname[16];
	size_t i, n;

	memset(out, 0, sizeof(*out));
	if (!dns_hostname_valid(name) && strncmp(name, "_", 1) != 0) {
		/* names like _25._tcp.mx or _mta-sts.example are not host
		 * names; dns_hostname_valid refuses only those with '_' */
		snprintf(out->why, sizeof(out->why), "invalid name");
		out->status = DNS_NXDOMAIN;
		return out->status;
	}
	snprintf(tname, sizeof(tname), "TYPE%d", rrtype);
	dns_deadline(r, &deadline);
	dns_query_start(r, &q, name, rrtype);
	dns_wait(r, &q, 1, &deadline);
	switch (dns_answer_of(r, &q, name, tname, out->why,
	    sizeof(out->why))) {
	case DNS_ANS_DATA:
		out->status = DNS_OK;
		break;
	case DNS_ANS_NODATA:
		out->status = DNS_OK;
		out->nodata = 1;
		break;
	case DNS_ANS_NXDOMAIN:
		out->status = DNS_NXDOMAIN;
		break;
	case DNS_ANS_BOGUS:
		out->status = DNS_BOGUS;
		break;
	default:
		out->status = DNS_TEMPFAIL;
		break;
	}
	if (q.res != NULL)
		out->secure = q.res->secure;
	if (out->status == DNS_OK && !out->nodata) {
		for (n = 0; q.res->data[n] != NULL && n < DNS_RR_MAX; n++)
			;
		out->rdata = xcalloc(n, sizeof(*out->rdata));
		out->rdlen = xcalloc(n, sizeof(*out->rdlen));
		for (i = 0; i < n; i++) {
			size_t l = (size_t)q.res->len[i];
			out->rdata[i] = xmalloc(l ? l : 1);
			memcpy(out->rdata[i], q.res->data[i], l);
			out->rdlen[i] = l;
		}
		out->n = n;
	}
	dns_query_release(&q);
	return out->status;
}

void
dns_rrset_free(struct dns_rrset *rr)
{
	size_t i;

	for (i = 0; i < rr->n; i++)
		xfree(rr->rdata[i]);
	xfree(rr->rdata);
	xfree(rr->rdlen);
	memset(rr, 0, sizeof(*rr));
}
