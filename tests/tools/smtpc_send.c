/*
 * smtpc_send.c - drive the delivery client (smtp_client.c) from the
 * command line, for integration tests.
 *
 *   smtpc_send --host NAME --addr IP --port N --level none|may|encrypt|verify
 *       [--ca FILE] [--requiretls] [--8bit] --from A --to B [--to C ...]
 *       --data FILE [--count N] [--connections N] [--timeout SECS]
 *       [--tls-min 1|1.1|1.2|1.3] [--ctx-min 1|1.1|1.2|1.3] [--helo NAME]
 *       [--ciphers LIST]
 *
 * Opens --connections (default 1) connections one after the other on one
 * TLS context (so the second may resume the first one's session), and
 * sends --count (default 1) messages on each. After every result it
 * prints "# conn=C msg=M" and the smtpc_result fields as key=value lines
 * (a failed open prints "# conn=C open"). Exit 0 when every result was
 * OK, 1 otherwise, 2 on bad usage.
 * --tls-min is the floor checked after the handshake; --ctx-min the
 * context's own floor (default: --tls-min), lower to see the check work.
 */
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"
#include "smtp_client.h"
#include "tls_client.h"

#define MAX_RCPT	1000

static void
usage(void)
{
	fprintf(stderr, "usage: smtpc_send --host NAME --addr IP --port N "
	    "--level none|may|encrypt|verify [--ca FILE] [--requiretls] "
	    "[--8bit] --from A --to B [--to C] --data FILE [--count N] "
	    "[--connections N] [--timeout SECS] [--tls-min V] [--ctx-min V] "
	    "[--helo NAME] [--ciphers LIST]\n");
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
		else
			usage();
	}
	if (host == NULL || addr == NULL || port == NULL || from == NULL ||
	    nrcpt == 0 || data == NULL)
		usage();

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	ai_err = getaddrinfo(addr, port, &hints, &ai);
	if (ai_err != 0) {
		fprintf(stderr, "smtpc_send: %s port %s: %s\n", addr, port,
		    gai_strerror(ai_err));
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
		struct smtp_conn *conn = smtp_conn_open(&cc, host, ai->ai_addr,
		    ai->ai_addrlen, level, &res);

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
	buf_free(&body);
	freeaddrinfo(ai);
	SSL_CTX_free(ctx);
	return all_ok ? 0 : 1;
}
