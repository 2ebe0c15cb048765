/*
 * smtpc_send.c - drive the delivery client (smtp_client.c) from the
 * command line, for integration tests.
 *
 *   smtpc_send --host NAME --addr IP --port N
 *       --level none|may|encrypt|verify|dane [--mta-sts]
 *       [--ca FILE] [--requiretls] [--8bit] --from A --to B [--to C ...]
 *       --data FILE [--count N] [--connections N] [--timeout SECS]
 *       [--tls-min 1|1.1|1.2|1.3] [--ctx-min 1|1.1|1.2|1.3] [--helo NAME]
 *       [--ciphers LIST]
 *       [--tlsa "USAGE SELECTOR MTYPE HEX" ...]
 *       [--dane DOMAIN --dns IP@PORT --ta FILE]
 *
 * Opens --connections (default 1) connections one after the other on one
 * TLS context (so the second may resume the first one's session), and
 * sends --count (default 1) messages on each. After every result it
 * prints "# conn=C msg=M" and the smtpc_result fields as key=value lines
 * (a failed open prints "# conn=C open"). Exit 0 when every result was
 * OK, 1 otherwise, 2 on bad usage.
 * --tls-min is the floor checked after the handshake; --ctx-min the
 * context's own floor (default: --tls-min), lower to see the check work.
 *
 * DANE: --tlsa gives records for --level dane directly. --dane runs the
 * whole path a delivery worker runs (gateway/dane.h): dns_lookup_mx()
 * of DOMAIN through the resolver at --dns with the trust anchors --ta
 * (zone "test" allowed), the MX host named --host in it, dane_applies()
 * with the MX and address DNSSEC states, dane_lookup(), and the level
 * that follows from its status: usable records: dane with them;
 * unusable: at least encrypt; none: --level. It prints the lookup as
 * dane_* lines; on bogus or tempfail it connects nowhere and exits 1
 * (that host must not be used). Without --addr the host's first address
 * from DNS is used.
 */
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "dane.h"
#include "dns.h"
#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"
#include "smtp_client.h"
#include "tls_client.h"

#define MAX_RCPT	1000
#define MAX_TLSA	16

static void
usage(void)
{
	fprintf(stderr, "usage: smtpc_send --host NAME --addr IP --port N "
	    "--level none|may|encrypt|verify|dane [--mta-sts] [--ca FILE] "
	    "[--requiretls] [--8bit] --from A --to B [--to C] --data FILE "
	    "[--count N] [--connections N] [--timeout SECS] [--tls-min V] "
	    "[--ctx-min V] [--helo NAME] [--ciphers LIST] "
	    "[--tlsa \"U S M HEX\"] [--dane DOMAIN --dns IP@PORT --ta FILE]"
	    "\n");
	exit(2);
}

static int
version_parse(const char *s)
{
	if (strcmp(s, "1") == 0 || strcmp(s, "1.0") == 0)
		return TLS1_VERSION;
	if (strcmp(s, "1.1") == 0)
		return TLS1_1_VERSION;
	if (strcmp(s, "1.2") == 0)
		return TLS1_2_VERSION;
	if (strcmp(s, "1.3") == 0)
		return TLS1_3_VERSION;
	fprintf(stderr, "smtpc_send: bad TLS version %s\n", s);
	exit(2);
}

static unsigned
num_arg(const char *s, uint64_t max)
{
	uint64_t v;

	if (num_parse_u64_str(s, 0, max, &v) < 0) {
		fprintf(stderr, "smtpc_send: bad number %s\n", s);
		exit(2);
	}
	return (unsigned)v;
}

static void
read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(b, chunk, n) < 0) {
			fprintf(stderr, "smtpc_send: %s too big\n", path);
			exit(2);
		}
	}
	fclose(f);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* dane_path - the delivery worker's DANE steps for host in domain (see
 * the top); *level and *o updated; 0 go on, -1 do not connect. The
 * address found for host goes to addr_out (when it is not set yet). */
static int
dane_path(const char *domain, const char *dns, const char *ta,
    const char *host, enum tls_level *level, struct smtp_conn_opts *o,
    struct dane_result *dr, char *addr_out, size_t addr_sz)
{
	static const char *const zones[] = { "test" };
	struct dns_conf dc;
	struct dns_resolver *r;
	struct dns_mx_result mx;
	const struct dns_mx_host *h = NULL;
	const char *fw[1];
	char *err = NULL;
	size_t i;
	int rc = 0;

	memset(&dc, 0, sizeof(dc));
	fw[0] = dns;
	dc.forwarders = fw;
	dc.nforwarders = 1;
	dc.trust_anchor_file = ta;
	dc.allow_zones = zones;
	dc.nallow_zones = 1;
	dc.timeout_ms = 5000;
	r = dns_resolver_new(&dc, &err);
	if (r == NULL) {
		fprintf(stderr, "smtpc_send: resolver: %s\n", err);
		exit(2);
	}
	(void)dns_lookup_mx(r, domain, &mx);
	printf("dane_mx_status=%d\n", (int)mx.status);
	printf("dane_mx_secure=%d\n", mx.secure);
	for (i = 0; i < mx.nhosts; i++)
		if (strcasecmp(mx.hosts[i].name, host) == 0)
			h = &mx.hosts[i];
	if (h == NULL) {
		printf("dane_why=%s is not an MX host of %s (%s)\n", host,
		    domain, mx.why);
		fflush(stdout);
		dns_mx_result_free(&mx);
		dns_resolver_free(&r);
		exit(1);
	}
	printf("dane_addr_secure=%d\n", h->secure);
	if (addr_out[0] == '\0' && h->naddrs > 0)
		snprintf(addr_out, addr_sz, "%s", h->addrs[0].text);
	printf("dane_applies=%d\n", dane_applies(mx.secure, h->secure));
	if (!dane_applies(mx.secure, h->secure)) {
		memset(dr, 0, sizeof(*dr));
		dr->status = DANE_NONE;
		snprintf(dr->why, sizeof(dr->why), "MX or address records "
		    "not secure: no TLSA lookup");
	} else {
		(void)dane_lookup(r, host, 25, dr);
	}
	printf("dane_status=%s\n", dane_status_name(dr->status));
	printf("dane_qname=%s\n", dr->qname);
	printf("dane_records=%zu\n", dr->nanswer);
	printf("dane_usable=%zu\n", dr->nrecs);
	printf("dane_why=%s\n", dr->why);
	switch (dr->status) {
	case DANE_USABLE:
		*level = TLS_LEVEL_DANE;
		o->tlsa = dr->recs;
		o->ntlsa = dr->nrecs;
		break;
	case DANE_UNUSABLE:
		if (*level < TLS_LEVEL_ENCRYPT)
			*level = TLS_LEVEL_ENCRYPT;
		break;
	case DANE_NONE:
		break;
	case DANE_BOGUS:
	case DANE_TEMPFAIL:
		/* RFC 7672 2.1.1: not this host */
		rc = -1;
		break;
	}
	printf("dane_level=%s\n", rc < 0 ? "-" : tls_level_name(*level));
	fflush(stdout);
	dns_mx_result_free(&mx);
	dns_resolver_free(&r);
	return rc;
}

/* tlsa_arg - "3 1 1 HEX" into rec; the data is allocated (tlsa_free()) */
static void
tlsa_arg(const char *s, struct tls_tlsa *rec)
{
	uint64_t v[3];
	unsigned char *d;
	const char *p = s, *sp;
	size_t i, n;
	int k;

	for (k = 0; k < 3; k++) {
		sp = strchr(p, ' ');
		if (sp == NULL || num_parse_u64(p, (size_t)(sp - p), 0, 255,
		    &v[k]) < 0)
			goto bad;
		p = sp + 1;
	}
	n = strlen(p);
	if (n == 0 || n % 2 != 0 || n / 2 > DANE_TLSA_FULL_MAX)
		goto bad;
	d = xmalloc(n / 2);
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			xfree(d);
			goto bad;
		}
		d[i] = (unsigned char)(hi << 4 | lo);
	}
	rec->usage = (uint8_t)v[0];
	rec->selector = (uint8_t)v[1];
	rec->mtype = (uint8_t)v[2];
	rec->data = d;
	rec->len = n / 2;
	return;
bad:
	fprintf(stderr, "smtpc_send: bad --tlsa \"%s\"\n", s);
	exit(2);
}

static void
tlsa_free(struct tls_tlsa *recs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		xfree((void *)recs[i].data);
}

static void
print_cert(const struct tls_cert_facts *f)
{
	printf("cert=%d\n", f->have_cert);
	printf("cert_subject=%s\n", f->subject);
	printf("cert_issuer=%s\n", f->issuer);
	printf("cert_names=%s\n", f->names);
	printf("cert_names_total=%u\n", f->names_total);
	printf("cert_names_listed=%u\n", f->names_listed);
	printf("cert_not_before=%lld\n", (long long)f->not_before);
	printf("cert_not_after=%lld\n", (long long)f->not_after);
	printf("cert_key_type=%s\n", f->key_type);
	printf("cert_key_bits=%d\n", f->key_bits);
	printf("cert_pkix_valid=%d\n", f->pkix_valid);
	printf("cert_pkix_error=%s\n", f->pkix_error);
	printf("cert_name_match=%d\n", f->name_match);
}

static void
print_result(const struct smtpc_result *r, size_t nrcpt, int with_rcpts)
{
	size_t i;

	printf("status=%s\n", smtpc_status_name(r->status));
	printf("code=%d\n", r->code);
	printf("reply=%s\n", r->reply);
	printf("data_sent=%d\n", r->data_sent);
	printf("mx_host=%s\n", r->mx_host);
	printf("mx_addr=%s\n", r->mx_addr);
	printf("tls=%d\n", r->tls);
	printf("tls_protocol=%s\n", r->tls_protocol);
	printf("tls_cipher=%s\n", r->tls_cipher);
	printf("tls_bits=%d\n", r->tls_bits);
	printf("verified=%s\n", tls_verified_name(r->verified));
	printf("peer_cert_subject=%s\n", r->peer_cert_subject);
	printf("session_reused=%d\n", r->session_reused);
	printf("dane_usage=%d\n", r->dane_usage);
	printf("dane_depth=%d\n", r->dane_depth);
	print_cert(&r->cert);
	for (i = 0; with_rcpts && i < nrcpt; i++) {
		printf("rcpt.%zu.code=%d\n", i, r->rcpt[i].code);
		printf("rcpt.%zu.reply=%s\n", i, r->rcpt[i].reply);
	}
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	const char *host = NULL, *addr = NULL, *port = NULL, *ca = NULL;
	const char *from = NULL, *data = NULL, *helo = "client.test";
	const char *ciphers = NULL, *rcpts[MAX_RCPT];
	const char *dane_domain = NULL, *dns = NULL, *ta = NULL;
	struct tls_tlsa tlsa[MAX_TLSA];
	struct smtp_conn_opts copts;
	struct dane_result dr;
	char addr_buf[64] = "";
	size_t ntlsa = 0;
	int mta_sts = 0;
	struct tls_client_conf tc = { 0 };
	struct smtp_client_conf cc = { 0 };
	struct smtp_client_msg msg = { 0 };
	struct smtpc_result res;
	struct addrinfo hints, *ai;
	enum tls_level level = TLS_LEVEL_MAY;
	unsigned count = 1, conns = 1, timeout = 0, ci, mi, i;
	int floor_v = TLS1_2_VERSION, ctx_v = 0, requiretls = 0, eightbit = 0;
	int all_ok = 1, ai_err, a;
	size_t nrcpt = 0;
	char *err = NULL;
	struct buf body;
	SSL_CTX *ctx;

	signal(SIGPIPE, SIG_IGN);
	for (a = 1; a < argc; a++) {
		const char *o = argv[a];
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (strcmp(o, "--requiretls") == 0) {
			requiretls = 1;
			continue;
		}
		if (strcmp(o, "--8bit") == 0) {
			eightbit = 1;
			continue;
		}
		if (strcmp(o, "--mta-sts") == 0) {
			mta_sts = 1;
			continue;
		}
		if (v == NULL)
			usage();
		a++;
		if (strcmp(o, "--host") == 0)
			host = v;
		else if (strcmp(o, "--addr") == 0)
			addr = v;
		else if (strcmp(o, "--port") == 0)
			port = v;
		else if (strcmp(o, "--level") == 0) {
			if (tls_level_parse(v, &level) < 0)
				usage();
		} else if (strcmp(o, "--ca") == 0)
			ca = v;
		else if (strcmp(o, "--from") == 0)
			from = v;
		else if (strcmp(o, "--to") == 0) {
			if (nrcpt == MAX_RCPT)
				usage();
			rcpts[nrcpt++] = v;
		} else if (strcmp(o, "--data") == 0)
			data = v;
		else if (strcmp(o, "--count") == 0)
			count = num_arg(v, 100000);
		else if (strcmp(o, "--connections") == 0)
			conns = num_arg(v, 1000);
		else if (strcmp(o, "--timeout") == 0)
			timeout = num_arg(v, 3600);
		else if (strcmp(o, "--tls-min") == 0)
			floor_v = version_parse(v);
		else if (strcmp(o, "--ctx-min") == 0)
			ctx_v = version_parse(v);
		else if (strcmp(o, "--helo") == 0)
			helo = v;
		else if (strcmp(o, "--ciphers") == 0)
			ciphers = v;
		else if (strcmp(o, "--tlsa") == 0) {
			if (ntlsa == MAX_TLSA)
				usage();
			tlsa_arg(v, &tlsa[ntlsa++]);
		} else if (strcmp(o, "--dane") == 0)
			dane_domain = v;
		else if (strcmp(o, "--dns") == 0)
			dns = v;
		else if (strcmp(o, "--ta") == 0)
			ta = v;
		else
			usage();
	}
	if (host == NULL || (addr == NULL && dane_domain == NULL) ||
	    port == NULL || from == NULL || nrcpt == 0 || data == NULL)
		usage();
	if (dane_domain != NULL && (dns == NULL || ta == NULL))
		usage();

	memset(&copts, 0, sizeof(copts));
	memset(&dr, 0, sizeof(dr));
	copts.tlsa = ntlsa > 0 ? tlsa : NULL;
	copts.ntlsa = ntlsa;
	if (addr != NULL)
		snprintf(addr_buf, sizeof(addr_buf), "%s", addr);
	if (dane_domain != NULL && dane_path(dane_domain, dns, ta, host,
	    &level, &copts, &dr, addr_buf, sizeof(addr_buf)) < 0) {
		printf("# dane: %s not used\n", host);
		dane_result_free(&dr);
		tlsa_free(tlsa, ntlsa);
		return 1;
	}
	if (addr_buf[0] == '\0') {
		fprintf(stderr, "smtpc_send: no address for %s\n", host);
		dane_result_free(&dr);
		tlsa_free(tlsa, ntlsa);
		return 2;
	}
	addr = addr_buf;
	copts.level = level;
	copts.mta_sts = mta_sts;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	ai_err = getaddrinfo(addr, port, &hints, &ai);
	if (ai_err != 0) {
		fprintf(stderr, "smtpc_send: %s port %s: %s\n", addr, port,
		    gai_strerror(ai_err));
		dane_result_free(&dr);
		tlsa_free(tlsa, ntlsa);
		return 2;
	}
	buf_init(&body, 64u * 1024 * 1024);
	read_file(data, &body);

	tc.min_version = ctx_v != 0 ? ctx_v : floor_v;
	tc.ca_file = ca;
	tc.ciphers = ciphers;
	ctx = tls_client_ctx_new(&tc, &err);
	if (ctx == NULL) {
		fprintf(stderr, "smtpc_send: TLS context: %s\n", err);
		xfree(err);
		buf_free(&body);
		freeaddrinfo(ai);
		dane_result_free(&dr);
		tlsa_free(tlsa, ntlsa);
		return 2;
	}
	cc.helo_name = helo;
	cc.tls_ctx = ctx;
	cc.tls_min_version = floor_v;
	smtp_client_timeouts_default(&cc.t);
	if (timeout != 0) {
		cc.t.connect = cc.t.greeting = cc.t.ehlo = timeout;
		cc.t.starttls = cc.t.mail = cc.t.rcpt = timeout;
		cc.t.data_init = cc.t.data_block = cc.t.data_done = timeout;
		cc.t.quit = timeout;
	}
	msg.mail_from = from;
	msg.rcpts = rcpts;
	msg.nrcpt = nrcpt;
	msg.data = body.data != NULL ? body.data : "";
	msg.len = body.len;
	msg.body_8bit = eightbit;
	msg.requiretls = requiretls;
	memset(&res, 0, sizeof(res));
	res.rcpt = xcalloc(nrcpt, sizeof(*res.rcpt));

	for (ci = 1; ci <= conns; ci++) {
		struct smtp_conn *conn = smtp_conn_open_opts(&cc, host,
		    ai->ai_addr, ai->ai_addrlen, &copts, &res);

		if (conn == NULL) {
			printf("# conn=%u open\n", ci);
			print_result(&res, nrcpt, 0);
			all_ok = 0;
			continue;
		}
		for (mi = 1; mi <= count; mi++) {
			for (i = 0; i < nrcpt; i++)
				res.rcpt[i].code = 0;
			(void)smtp_conn_send(conn, &msg, &res);
			printf("# conn=%u msg=%u\n", ci, mi);
			print_result(&res, nrcpt, 1);
			if (res.status != SMTPC_OK)
				all_ok = 0;
			if (!smtp_conn_usable(conn))
				break;
		}
		if (mi <= count)
			all_ok = 0;
		smtp_conn_close(&conn);
	}
	xfree(res.rcpt);
	dane_result_free(&dr);
	tlsa_free(tlsa, ntlsa);
	buf_free(&body);
	freeaddrinfo(ai);
	SSL_CTX_free(ctx);
	return all_ok ? 0 : 1;
}
