/*
 * smtp_client.c - the delivery SMTP client: one TCP connection to one MX
 * address, STARTTLS by level, one or more transactions.
 *
 * Implements: RFC 5321 (3.3 transactions, 4.1.1 commands, 4.5.2
 * transparency, 4.5.3.2 timeouts), RFC 3207 (STARTTLS; 4.2: EHLO again
 * and forget what was learned before), RFC 2920 (PIPELINING: MAIL, every
 * RCPT and DATA in one write), RFC 1870 (SIZE), RFC 6152 (8BITMIME),
 * RFC 8689 (REQUIRETLS), RFC 7672 (DANE: TLSA records in, OpenSSL's DANE
 * verification through tls_client).
 * Trust: every byte from the server is hostile: replies go through the
 * bounded smtp_reply parser; any byte after "220 Ready to start TLS" and
 * before our ClientHello is an injection attack (the STARTTLS purge rule,
 * CVE-2011-0411 turned round) and ends the connection.
 * I/O: the socket is non-blocking; every wait is a poll() against the
 * deadline of its stage, so a stalled or trickling server is dropped on
 * time however it trickles.
 * 8-bit: BODY=8BITMIME is sent when the message is 8-bit and the peer
 * offers 8BITMIME. When it does not, the message still goes out unchanged
 * (Postfix does the same whenever it does not convert to
 * quoted-printable); we never rewrite a message, as that would break
 * DKIM, PGP/MIME and S/MIME signatures.
 * REQUIRETLS (RFC 8689 4.2.1): sent only over TLS whose certificate was
 * verified (a CA chain, also under MTA-STS, or DANE), to a peer that
 * offers it; otherwise SMTPC_REQUIRETLS_FAIL before MAIL.
 * The process must ignore SIGPIPE (OpenSSL writes to the socket with
 * write()); the roles do.
 * Library module: never logs; everything is in the result.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/sg_limits.h"
#include "lib/xalloc.h"
#include "smtp_client.h"
#include "smtp_reply.h"
#include "tls_client.h"
#include "tls_ctx.h"

#define EXT_PIPELINING	0x01
#define EXT_SIZE	0x02
#define EXT_8BITMIME	0x04
#define EXT_STARTTLS	0x08
#define EXT_REQUIRETLS	0x10

#define IN_BUF		4096
#define DATA_CHUNK	(32 * 1024)	/* message bytes stuffed per write */
#define CMD_BUF_MAX	(1024 * 1024)	/* one pipelined MAIL..DATA group */

struct smtp_conn {
	int fd;
	SSL *ssl;			/* after STARTTLS */
	char *helo_name;
	int tls_min_version;
	struct smtp_client_timeouts t;
	enum tls_level level;
	const struct tls_tlsa *tlsa;	/* DANE: the caller's, during open */
	size_t ntlsa;
	int mta_sts;
	char host[256];
	char dest[320];			/* "host:port": the session cache key */
	struct smtp_reply_parser *rp;
	char in[IN_BUF];		/* read, not yet given to the parser */
	size_t in_off, in_len;
	unsigned ext;
	uint64_t size_max;		/* 0: no limit announced */
	int usable;
	int need_rset;			/* a MAIL was sent on this connection */
	char err[256];			/* why the last I/O failed */
	struct smtpc_result facts;	/* connection facts for every result */
};

/* --- results ------------------------------------------------------------ */

const char *
smtpc_status_name(enum smtpc_status s)
{
	switch (s) {
	case SMTPC_OK:
		return "OK";
	case SMTPC_TEMPFAIL:
		return "TEMPFAIL";
	case SMTPC_PERMFAIL:
		return "PERMFAIL";
	case SMTPC_TLS_FAIL:
		return "TLS_FAIL";
	case SMTPC_REQUIRETLS_FAIL:
		return "REQUIRETLS_FAIL";
	}
	return "UNKNOWN";
}

void
smtp_client_timeouts_default(struct smtp_client_timeouts *t)
{
	t->connect = 30;
	t->greeting = 300;
	t->ehlo = 300;
	t->starttls = 300;
	t->mail = 300;
	t->rcpt = 300;
	t->data_init = 120;
	t->data_block = 180;
	t->data_done = 600;
	t->quit = 30;
}

/* printable - copy network text, anything outside printable ASCII as '?',
 * line breaks of a multi-line reply as one space; always terminated */
static void
printable(char *dst, size_t dstsz, const char *src, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\n')
			c = ' ';
		else if (c < 0x20 || c > 0x7e)
			c = '?';
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
}

/* reply_str - "550 5.1.1 text" from a parsed reply */
static void
reply_str(const struct smtp_reply *r, char *dst, size_t dstsz)
{
	int n;

	n = snprintf(dst, dstsz, "%03d%s", r->code, r->text.len ? " " : "");
	if (n < 0 || (size_t)n >= dstsz)
		return;
	printable(dst + n, dstsz - (size_t)n, buf_cstr(&r->text), r->text.len);
}

static void
res_set(struct smtpc_result *res, enum smtpc_status st, int code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* res_set - the status and what decided it */
static void
res_set(struct smtpc_result *res, enum smtpc_status st, int code,
    const char *fmt, ...)
{
	va_list ap;

	res->status = st;
	res->code = code;
	va_start(ap, fmt);
	vsnprintf(res->reply, sizeof(res->reply), fmt, ap);
	va_end(ap);
}

/* res_reply - the status, decided by the server's reply r */
static void
res_reply(struct smtpc_result *res, enum smtpc_status st,
    const struct smtp_reply *r)
{
	res->status = st;
	res->code = r->code;
	reply_str(r, res->reply, sizeof(res->reply));
}

static enum smtpc_status
class_status(int code)
{
	return code >= 500 ? SMTPC_PERMFAIL : SMTPC_TEMPFAIL;
}

/* --- time and raw I/O ---------------------------------------------------- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
deadline_in(unsigned secs)
{
	return now_ms() + (int64_t)secs * 1000;
}

static void
conn_err(struct smtp_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
conn_err(struct smtp_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* wait_fd - 1 when fd is ready for ev, 0 at the deadline, -1 on error */
static int
wait_fd(struct smtp_conn *c, short ev, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			conn_err(c, "timeout");
			return 0;
		}
		pfd.fd = c->fd;
		pfd.events = ev;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r > 0)
			return 1;	/* POLLERR/POLLHUP: the I/O call says */
		if (r == 0)
			continue;	/* re-check the clock */
		if (errno != EINTR) {
			conn_err(c, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

/* ssl_wait - after a non-blocking SSL call returned r: 1 retry, -1 fail */
static int
ssl_wait(struct smtp_conn *c, int r, int64_t deadline, const char *what)
{
	int e = SSL_get_error(c->ssl, r);
	char *detail;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(c, POLLIN, deadline) == 1 ? 1 : -1;
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(c, POLLOUT, deadline) == 1 ? 1 : -1;
	case SSL_ERROR_ZERO_RETURN:
		conn_err(c, "connection closed by server (TLS close_notify)");
		return -1;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			if (r == 0 || errno == 0)
				conn_err(c, "connection closed by server");
			else
				conn_err(c, "%s: %s", what, strerror(errno));
			return -1;
		}
		/* FALLTHROUGH */
	default:
		detail = tls_errors();
		conn_err(c, "%s: %s", what, detail);
		xfree(detail);
		return -1;
	}
}

/* conn_fill - read what the server sent into c->in (which is empty);
 * 0 ok, -1 with c->err (EOF, timeout, error) */
static int
conn_fill(struct smtp_conn *c, int64_t deadline)
{
	ssize_t n;
	int r;

	c->in_off = c->in_len = 0;
	for (;;) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			r = SSL_read(c->ssl, c->in, sizeof(c->in));
			if (r > 0) {
				c->in_len = (size_t)r;
				return 0;
			}
			if (ssl_wait(c, r, deadline, "TLS read") < 0)
				return -1;
			continue;
		}
		n = recv(c->fd, c->in, sizeof(c->in), 0);
		if (n > 0) {
			c->in_len = (size_t)n;
			return 0;
		}
		if (n == 0) {
			conn_err(c, "connection closed by server");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_err(c, "read: %s", strerror(errno));
			return -1;
		}
		if (wait_fd(c, POLLIN, deadline) != 1)
			return -1;
	}
}

/* conn_write - all of p[0..n) before the deadline; 0 / -1 with c->err */
static int
conn_write(struct smtp_conn *c, const char *p, size_t n, int64_t deadline)
{
	ssize_t w;
	int r;

	while (n > 0) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			r = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX :
			    (int)n);
			if (r > 0) {
				p += r;
				n -= (size_t)r;
				continue;
			}
			if (ssl_wait(c, r, deadline, "TLS write") < 0)
				return -1;
			continue;
		}
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_err(c, "write: %s", strerror(errno));
			return -1;
		}
		if (wait_fd(c, POLLOUT, deadline) != 1)
			return -1;
	}
	return 0;
}

/* --- SMTP-level I/O ------------------------------------------------------ */

static const char *
reply_err_name(enum smtp_reply_err e)
{
	switch (e) {
	case SMTP_REPLY_E_NONE:
		return "none";
	case SMTP_REPLY_E_SYNTAX:
		return "malformed reply line";
	case SMTP_REPLY_E_TOO_LONG:
		return "reply line too long";
	case SMTP_REPLY_E_TOO_MANY:
		return "too many reply lines";
	case SMTP_REPLY_E_CODE_CHANGED:
		return "reply code changed inside a multi-line reply";
	}
	return "reply error";
}

/*
 * read_reply - the next whole reply within secs (one deadline for the
 * whole reply, however it trickles in). 0 with *r; -1: c->err set and the
 * connection is dead (EOF, timeout, I/O or protocol error).
 */
static int
read_reply(struct smtp_conn *c, unsigned secs, const struct smtp_reply **r)
{
	int64_t deadline = deadline_in(secs);
	enum smtp_reply_err e;
	size_t used;
	int rc;

	for (;;) {
		if (c->in_off < c->in_len) {
			rc = smtp_reply_next(c->rp, c->in + c->in_off,
			    c->in_len - c->in_off, &used, r, &e);
			c->in_off += used;
			if (rc == 1)
				return 0;
			if (rc < 0) {
				conn_err(c, "protocol error: %s",
				    reply_err_name(e));
				c->usable = 0;
				return -1;
			}
		}
		if (conn_fill(c, deadline) < 0) {
			c->usable = 0;
			return -1;
		}
	}
}

/* send_cmd - one command line (or a pipelined group) within secs */
static int
send_cmd(struct smtp_conn *c, const char *p, size_t n, unsigned secs)
{
	if (conn_write(c, p, n, deadline_in(secs)) < 0) {
		c->usable = 0;
		return -1;
	}
	return 0;
}

/* fail_io - TEMPFAIL after an I/O or protocol failure in stage what */
static void
fail_io(struct smtp_conn *c, struct smtpc_result *res, const char *what)
{
	c->usable = 0;
	res_set(res, SMTPC_TEMPFAIL, 0, "local: %s %s", c->err, what);
}

/* cmd_reply - send one command line, read its reply; -1 as read_reply */
static int
cmd_reply(struct smtp_conn *c, const char *line, unsigned secs,
    const struct smtp_reply **r)
{
	char cmd[SG_SMTP_CMD_LINE_MAX + 1];
	int n;

	n = snprintf(cmd, sizeof(cmd), "%s\r\n", line);
	if (n < 0 || (size_t)n >= sizeof(cmd)) {
		conn_err(c, "command too long");
		return -1;
	}
	if (send_cmd(c, cmd, (size_t)n, secs) < 0)
		return -1;
	return read_reply(c, secs, r);
}

/* --- session setup ------------------------------------------------------- */

static unsigned
tmo(unsigned v, unsigned def)
{
	return v != 0 ? v : def;
}

/* parse_ehlo - the extensions we use, from a 250 EHLO reply */
static void
parse_ehlo(struct smtp_conn *c, const struct smtp_reply *r)
{
	struct slice s;
	uint64_t v;

	c->ext = 0;
	c->size_max = 0;
	if (smtp_reply_ext(r, "PIPELINING", NULL))
		c->ext |= EXT_PIPELINING;
	if (smtp_reply_ext(r, "8BITMIME", NULL))
		c->ext |= EXT_8BITMIME;
	if (smtp_reply_ext(r, "STARTTLS", NULL))
		c->ext |= EXT_STARTTLS;
	if (smtp_reply_ext(r, "REQUIRETLS", NULL))
		c->ext |= EXT_REQUIRETLS;
	if (smtp_reply_ext(r, "SIZE", &s)) {
		c->ext |= EXT_SIZE;
		/* "SIZE" alone or "SIZE 0": no fixed limit (RFC 1870 4);
		 * a value we cannot read is taken as no limit too */
		while (s.len > 0 && s.ptr[s.len - 1] == ' ')
			s.len--;
		if (s.len > 0 && num_parse_u64(s.ptr, s.len, 0, UINT64_MAX,
		    &v) == 0)
			c->size_max = v;
	}
}

/*
 * do_ehlo - EHLO (HELO fallback only below encrypt). 0 ok; -1 with res
 * set (the connection is to be dropped).
 */
static int
do_ehlo(struct smtp_conn *c, struct smtpc_result *res, int allow_helo)
{
	const struct smtp_reply *r;
	char line[SG_SMTP_CMD_LINE_MAX];
	unsigned secs = tmo(c->t.ehlo, 300);

	snprintf(line, sizeof(line), "EHLO %s", c->helo_name);
	if (cmd_reply(c, line, secs, &r) < 0) {
		fail_io(c, res, "after EHLO");
		return -1;
	}
	if (r->code == 250) {
		parse_ehlo(c, r);
		return 0;
	}
	if (r->code < 500 || !allow_helo) {
		if (r->code >= 500 && c->level >= TLS_LEVEL_ENCRYPT) {
			/* no EHLO, no STARTTLS */
			res_reply(res, SMTPC_TLS_FAIL, r);
			return -1;
		}
		res_reply(res, r->code >= 500 ? SMTPC_PERMFAIL :
		    SMTPC_TEMPFAIL, r);
		return -1;
	}
	c->ext = 0;
	c->size_max = 0;
	snprintf(line, sizeof(line), "HELO %s", c->helo_name);
	if (cmd_reply(c, line, secs, &r) < 0) {
		fail_io(c, res, "after HELO");
		return -1;
	}
	if (r->code != 250) {
		res_reply(res, class_status(r->code), r);
		return -1;
	}
	return 0;
}

/* peer_facts - the peer certificate's facts into res (subject twice:
 * peer_cert_subject is what older callers read) */
static void
peer_facts(struct smtp_conn *c, struct smtpc_result *res)
{
	tls_client_peer_facts(c->ssl, c->host, &res->cert);
	snprintf(res->peer_cert_subject, sizeof(res->peer_cert_subject), "%s",
	    res->cert.subject);
}

/* handshake - TLS client handshake before the deadline; 0 / -1 c->err */
static int
handshake(struct smtp_conn *c, int64_t deadline)
{
	int r;

	for (;;) {
		ERR_clear_error();
		r = SSL_connect(c->ssl);
		if (r == 1)
			return 0;
		if (ssl_wait(c, r, deadline, "TLS handshake") < 0)
			return -1;
	}
}

/* tls_fail - TLS_FAIL: the connection ends here, nothing sent */
static int
tls_fail(struct smtp_conn *c, struct smtpc_result *res, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
tls_fail(struct smtp_conn *c, struct smtpc_result *res, const char *fmt, ...)
{
	va_list ap;

	c->usable = 0;
	res->status = SMTPC_TLS_FAIL;
	res->code = 0;
	va_start(ap, fmt);
	vsnprintf(res->reply, sizeof(res->reply), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * do_starttls - STARTTLS according to the level, then EHLO again.
 * 0: go on (TLS or, below encrypt, plaintext); -1 with res set.
 */
static int
do_starttls(struct smtp_conn *c, const struct smtp_client_conf *conf,
    struct smtpc_result *res)
{
	const struct smtp_reply *r;
	struct tls_info ti;
	int64_t deadline;
	size_t extra;
	long vr;
	char peek, *err = NULL;
	int minv;

	if (c->level == TLS_LEVEL_NONE)
		return 0;
	if (!(c->ext & EXT_STARTTLS)) {
		if (c->level == TLS_LEVEL_MAY)
			return 0;
		/* a downgrade, or a server without TLS: THE RULE. The
		 * stream is sane: QUIT politely on the way out */
		tls_fail(c, res, "local: STARTTLS not offered by %s",
		    c->host);
		c->usable = 1;
		return -1;
	}
	deadline = deadline_in(tmo(c->t.starttls, 300));
	if (send_cmd(c, "STARTTLS\r\n", 10, tmo(c->t.starttls, 300)) < 0 ||
	    read_reply(c, tmo(c->t.starttls, 300), &r) < 0) {
		if (c->level >= TLS_LEVEL_ENCRYPT)
			return tls_fail(c, res, "local: %s after STARTTLS",
			    c->err);
		fail_io(c, res, "after STARTTLS");
		return -1;
	}
	if (r->code != 220) {
		if (c->level >= TLS_LEVEL_ENCRYPT) {
			res_reply(res, SMTPC_TLS_FAIL, r);
			c->usable = r->code != 421;
			return -1;
		}
		if (r->code == 421) {
			res_reply(res, SMTPC_TEMPFAIL, r);
			c->usable = 0;
			return -1;
		}
		/* may: refused, the session state is unchanged: plaintext */
		return 0;
	}
	/*
	 * The purge rule: nothing may follow "220" before our ClientHello.
	 * Bytes we already read, a partial line in the parser, or bytes
	 * waiting in the socket were sent by the server (or injected on the
	 * way) to be read as if they came through TLS.
	 */
	extra = (c->in_len - c->in_off) + smtp_reply_discard(c->rp);
	if (extra == 0 && recv(c->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
		extra = 1;
	c->in_off = c->in_len = 0;
	if (extra > 0)
		return tls_fail(c, res, "local: STARTTLS injection: %zu%s byte%s"
		    " after \"220\" from %s before the TLS handshake", extra,
		    extra == 1 ? " or more" : "", extra == 1 ? "" : "s",
		    c->host);
	if (c->level == TLS_LEVEL_DANE)
		c->ssl = tls_client_ssl_new_dane(conf->tls_ctx, c->host,
		    c->dest, c->tlsa, c->ntlsa, &err);
	else
		c->ssl = tls_client_ssl_new(conf->tls_ctx, c->host, c->dest,
		    c->level, &err);
	if (c->ssl == NULL) {
		tls_fail(c, res, "local: %s", err);
		xfree(err);
		return -1;
	}
	if (SSL_set_fd(c->ssl, c->fd) != 1)
		return tls_fail(c, res, "local: SSL_set_fd failed");
	if (handshake(c, deadline) < 0) {
		tls_client_session_forget(c->ssl);
		/* what the peer showed, for the record of the refusal */
		peer_facts(c, res);
		if ((c->level == TLS_LEVEL_VERIFY ||
		    c->level == TLS_LEVEL_DANE) &&
		    (vr = SSL_get_verify_result(c->ssl)) != X509_V_OK) {
			res->verified = TLS_VERIFIED_FAILED;
			return tls_fail(c, res, "local: certificate of %s "
			    "not verified: %s%s", c->host,
			    c->level == TLS_LEVEL_DANE ? "DANE: " : "",
			    X509_verify_cert_error_string(vr));
		}
		return tls_fail(c, res, "local: %s with %s", c->err, c->host);
	}
	tls_info_get(c->ssl, &ti);
	snprintf(res->tls_protocol, sizeof(res->tls_protocol), "%s",
	    ti.protocol);
	snprintf(res->tls_cipher, sizeof(res->tls_cipher), "%s", ti.cipher);
	res->tls_bits = ti.bits;
	res->session_reused = SSL_session_reused(c->ssl);
	peer_facts(c, res);
	minv = conf->tls_min_version != 0 ? conf->tls_min_version :
	    TLS1_2_VERSION;
	if (SSL_version(c->ssl) < minv) {
		tls_client_session_forget(c->ssl);
		return tls_fail(c, res, "local: %s negotiated with %s is below"
		    " the floor", ti.protocol, c->host);
	}
	if (ti.bits < 128) {
		tls_client_session_forget(c->ssl);
		return tls_fail(c, res, "local: cipher %s (%d bits) from %s is"
		    " under 128 bits", ti.cipher, ti.bits, c->host);
	}
	if (c->level == TLS_LEVEL_VERIFY || c->level == TLS_LEVEL_DANE) {
		/* belt and braces: SSL_VERIFY_PEER already stopped the
		 * handshake; a resumed session carries its old result (at
		 * dane, a session is only resumed under the TLSA records
		 * that authenticated it: tls_client keys it by them) */
		X509 *cert = SSL_get0_peer_certificate(c->ssl);
		int dane_ok = 1;

		vr = SSL_get_verify_result(c->ssl);
		if (c->level == TLS_LEVEL_DANE &&
		    !tls_client_dane_match(c->ssl, &res->dane_usage,
		    &res->dane_depth) && !res->session_reused)
			dane_ok = 0;
		if (cert == NULL || vr != X509_V_OK || !dane_ok) {
			tls_client_session_forget(c->ssl);
			res->verified = TLS_VERIFIED_FAILED;
			return tls_fail(c, res, "local: certificate of %s not "
			    "verified: %s", c->host, cert == NULL ?
			    "no certificate" : vr != X509_V_OK ?
			    X509_verify_cert_error_string(vr) :
			    "no TLSA record matched");
		}
		if (c->level == TLS_LEVEL_DANE)
			res->verified = TLS_VERIFIED_DANE;
		else if (c->mta_sts)
			res->verified = TLS_VERIFIED_MTA_STS;
		else
			res->verified = TLS_VERIFIED_CA;
	}
	res->tls = 1;
	tls_client_session_commit(c->ssl);
	/* RFC 3207 4.2: forget everything learned before TLS */
	c->ext = 0;
	c->size_max = 0;
	if (do_ehlo(c, res, 0) < 0) {
		if (res->status == SMTPC_TLS_FAIL)
			res->status = SMTPC_TEMPFAIL;
		return -1;
	}
	return 0;
}

/* sockaddr_text - numeric address and port */
static void
sockaddr_text(const struct sockaddr *sa, socklen_t salen, char *addr,
    size_t addrsz, unsigned *port)
{
	char serv[16];
	uint64_t v;

	*port = 0;
	if (getnameinfo(sa, salen, addr, addrsz, serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(addr, addrsz, "?");
		return;
	}
	if (num_parse_u64_str(serv, 0, 65535, &v) == 0)
		*port = (unsigned)v;
}

/* do_connect - non-blocking connect within the connect timeout */
static int
do_connect(struct smtp_conn *c, const struct sockaddr *sa, socklen_t salen)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_err(c, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(c->fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR) {
		conn_err(c, "connect: %s", strerror(errno));
		return -1;
	}
	if (wait_fd(c, POLLOUT, deadline_in(tmo(c->t.connect, 30))) != 1) {
		if (strcmp(c->err, "timeout") == 0)
			conn_err(c, "connect: timeout");
		return -1;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr != 0) {
		conn_err(c, "connect: %s", strerror(soerr));
		return -1;
	}
	return 0;
}

static void
conn_free(struct smtp_conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	smtp_reply_parser_free(&c->rp);
	xfree(c->helo_name);
	xfree(c);
}

/* conn_quit - QUIT (best effort, only on a sane stream) and close_notify */
static void
conn_quit(struct smtp_conn *c)
{
	const struct smtp_reply *r;

	if (c->usable)
		(void)cmd_reply(c, "QUIT", tmo(c->t.quit, 30), &r);
	if (c->ssl != NULL && c->usable) {
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);	/* send ours, do not wait */
	}
	ERR_clear_error();
}

/* res_clear - a fresh result; the caller's rcpt array is kept */
static void
res_clear(struct smtpc_result *res)
{
	struct smtpc_rcpt_result *rcpt = res->rcpt;

	memset(res, 0, sizeof(*res));
	res->rcpt = rcpt;
	res->verified = TLS_VERIFIED_NONE;
	res->cert.pkix_valid = -1;
	res->dane_usage = -1;
	res->dane_depth = -1;
}

struct smtp_conn *
smtp_conn_open(const struct smtp_client_conf *conf, const char *mx_host,
    const struct sockaddr *sa, socklen_t salen, enum tls_level level,
    struct smtpc_result *res)
{
	struct smtp_conn_opts o;

	memset(&o, 0, sizeof(o));
	o.level = level;
	return smtp_conn_open_opts(conf, mx_host, sa, salen, &o, res);
}

/* dane_records_ok - some record of a usage SMTP may use (RFC 7672
 * 3.1.3): checked before connecting; tls_client checks the rest */
static int
dane_records_ok(const struct smtp_conn_opts *o)
{
	size_t i;

	for (i = 0; o->tlsa != NULL && i < o->ntlsa; i++)
		if ((o->tlsa[i].usage == 2 || o->tlsa[i].usage == 3) &&
		    o->tlsa[i].data != NULL && o->tlsa[i].len > 0)
			return 1;
	return 0;
}

struct smtp_conn *
smtp_conn_open_opts(const struct smtp_client_conf *conf, const char *mx_host,
    const struct sockaddr *sa, socklen_t salen, const struct smtp_conn_opts *o,
    struct smtpc_result *res)
{
	struct smtp_conn *c;
	const struct smtp_reply *r;
	enum tls_level level = o->level;
	unsigned port;

	res_clear(res);
	snprintf(res->mx_host, sizeof(res->mx_host), "%s", mx_host);
	sockaddr_text(sa, salen, res->mx_addr, sizeof(res->mx_addr), &port);
	if ((unsigned)level > TLS_LEVEL_DANE) {
		res_set(res, SMTPC_TLS_FAIL, 0, "local: bad TLS level %d",
		    (int)level);
		return NULL;
	}
	if (level > TLS_LEVEL_NONE && conf->tls_ctx == NULL) {
		res_set(res, SMTPC_TLS_FAIL, 0, "local: no TLS context");
		return NULL;
	}
	if (level == TLS_LEVEL_DANE && !dane_records_ok(o)) {
		/* RFC 7672 2.2: DANE without usable records is not DANE;
		 * the caller picks encrypt for that (gateway/dane.h) */
		res_set(res, SMTPC_TLS_FAIL, 0, "local: DANE without usable "
		    "TLSA records for %s", mx_host);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = -1;
	c->helo_name = xstrdup(conf->helo_name != NULL ? conf->helo_name :
	    "localhost");
	c->tls_min_version = conf->tls_min_version;
	c->t = conf->t;
	c->level = level;
	c->tlsa = o->tlsa;
	c->ntlsa = o->ntlsa;
	c->mta_sts = o->mta_sts != 0;
	snprintf(c->host, sizeof(c->host), "%s", mx_host);
	snprintf(c->dest, sizeof(c->dest), "%s:%u", mx_host, port);
	c->rp = smtp_reply_parser_new();
	c->usable = 1;

	if (strlen(c->helo_name) > SG_SMTP_EHLO_MAX ||
	    strpbrk(c->helo_name, "\r\n ") != NULL) {
		res_set(res, SMTPC_TEMPFAIL, 0, "local: bad EHLO name");
		c->usable = 0;
		goto fail;
	}
	if (do_connect(c, sa, salen) < 0) {
		c->usable = 0;
		res_set(res, SMTPC_TEMPFAIL, 0, "local: %s", c->err);
		goto fail;
	}
	if (read_reply(c, tmo(c->t.greeting, 300), &r) < 0) {
		fail_io(c, res, "waiting for the greeting");
		goto fail;
	}
	if (r->code != 220) {
		res_reply(res, r->code >= 500 && r->code < 600 ?
		    SMTPC_PERMFAIL : SMTPC_TEMPFAIL, r);
		goto fail;
	}
	if (do_ehlo(c, res, level <= TLS_LEVEL_MAY) < 0)
		goto fail;
	if (do_starttls(c, conf, res) < 0)
		goto fail;
	/* the records are the caller's: not kept past this call */
	c->tlsa = NULL;
	c->ntlsa = 0;
	c->facts = *res;
	c->facts.rcpt = NULL;
	res->status = SMTPC_OK;
	res->code = 0;
	res->reply[0] = '\0';
	return c;
fail:
	conn_quit(c);
	conn_free(c);
	return NULL;
}

int
smtp_conn_usable(const struct smtp_conn *conn)
{
	return conn != NULL && conn->usable;
}

void
smtp_conn_close(struct smtp_conn **connp)
{
	if (*connp == NULL)
		return;
	conn_quit(*connp);
	conn_free(*connp);
	*connp = NULL;
}

/* --- transactions -------------------------------------------------------- */

/* addr_ok - an envelope address we can put on a command line: no control
 * characters (CR/LF would be command injection), no NUL, bounded */
static int
addr_ok(const char *a)
{
	size_t i, n = strlen(a);

	if (n > SG_SMTP_PATH_MAX - 2)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)a[i];

		if (ch < 0x20 || ch == 0x7f)
			return 0;
	}
	return 1;
}

/* rcpt_set - record a recipient's reply */
static void
rcpt_set(struct smtpc_rcpt_result *rr, const struct smtp_reply *r)
{
	rr->code = r->code;
	reply_str(r, rr->reply, sizeof(rr->reply));
}

/* rcpts_outcome - nobody accepted: the status from the worst reply (any
 * 4xx: try again later; all 5xx: bounce) */
static void
rcpts_outcome(const struct smtp_client_msg *msg, struct smtpc_result *res)
{
	size_t i;
	const struct smtpc_rcpt_result *t = NULL, *p = NULL;

	for (i = 0; i < msg->nrcpt; i++) {
		const struct smtpc_rcpt_result *rr = &res->rcpt[i];

		if (rr->code >= 500 && p == NULL)
			p = rr;
		else if (rr->code > 0 && rr->code < 500 && t == NULL)
			t = rr;
	}
	if (t != NULL)
		res_set(res, SMTPC_TEMPFAIL, t->code, "%s", t->reply);
	else if (p != NULL)
		res_set(res, SMTPC_PERMFAIL, p->code, "%s", p->reply);
	else
		res_set(res, SMTPC_TEMPFAIL, 0, "local: no recipient accepted");
}

/* do_rset - RSET in lock-step; -1 with res set when it fails */
static int
do_rset(struct smtp_conn *c, struct smtpc_result *res, int set_res)
{
	const struct smtp_reply *r;

	if (cmd_reply(c, "RSET", tmo(c->t.mail, 300), &r) < 0) {
		if (set_res)
			fail_io(c, res, "after RSET");
		c->usable = 0;
		return -1;
	}
	if (r->code != 250) {
		if (set_res)
			res_reply(res, SMTPC_TEMPFAIL, r);
		c->usable = 0;
		return -1;
	}
	c->need_rset = 0;
	return 0;
}

/* send_body - 354 came: the message, dot-stuffed, in chunks; each write
 * under the data_block deadline */
static int
send_body(struct smtp_conn *c, const struct smtp_client_msg *msg,
    struct smtpc_result *res)
{
	struct smtp_dot_stuffer st;
	struct buf out;
	size_t off = 0, n;
	unsigned secs = tmo(c->t.data_block, 180);
	int rc = 0;

	/* worst case 2x (every byte a bare LF) plus the terminator */
	buf_init(&out, 2 * DATA_CHUNK + 16);
	smtp_dot_stuff_init(&st);
	while (rc == 0 && off < msg->len) {
		n = msg->len - off < DATA_CHUNK ? msg->len - off : DATA_CHUNK;
		if (smtp_dot_stuff_update(&st, msg->data + off, n, &out) < 0) {
			rc = -1;	/* cannot happen: out is empty here */
			conn_err(c, "dot-stuffing buffer full");
			break;
		}
		off += n;
		if (off == msg->len && smtp_dot_stuff_final(&st, &out) < 0) {
			rc = -1;
			conn_err(c, "dot-stuffing buffer full");
			break;
		}
		res->data_sent = 1;
		rc = conn_write(c, out.data, out.len, deadline_in(secs));
		buf_reset(&out);
	}
	if (rc == 0 && msg->len == 0) {
		(void)smtp_dot_stuff_final(&st, &out);
		res->data_sent = 1;
		rc = conn_write(c, out.data, out.len, deadline_in(secs));
	}
	buf_free(&out);
	if (rc < 0) {
		fail_io(c, res, "while sending message data");
		return -1;
	}
	return 0;
}

/* finish_data - after 354: the body (or, with nobody accepted, an empty
 * one to end DATA cleanly) and the final reply */
static enum smtpc_status
finish_data(struct smtp_conn *c, const struct smtp_client_msg *msg,
    struct smtpc_result *res, size_t naccepted)
{
	const struct smtp_reply *r;
	size_t i;

	if (naccepted == 0) {
		/* a server that said 354 with no valid recipient (RFC 2920
		 * 3.1 says it must not): end DATA without the message */
		if (send_cmd(c, ".\r\n", 3, tmo(c->t.data_block, 180)) < 0 ||
		    read_reply(c, tmo(c->t.data_done, 600), &r) < 0) {
			fail_io(c, res, "after an empty DATA");
			return res->status;
		}
		rcpts_outcome(msg, res);
		if (r->code == 421)
			c->usable = 0;
		return res->status;
	}
	if (send_body(c, msg, res) < 0)
		return res->status;
	if (read_reply(c, tmo(c->t.data_done, 600), &r) < 0) {
		fail_io(c, res, "waiting for the reply to the end of data");
		return res->status;
	}
	for (i = 0; i < msg->nrcpt; i++)
		if (res->rcpt[i].code >= 200 && res->rcpt[i].code < 300)
			rcpt_set(&res->rcpt[i], r);
	if (r->code >= 200 && r->code < 300)
		res_reply(res, SMTPC_OK, r);
	else
		res_reply(res, class_status(r->code), r);
	if (r->code == 421)
		c->usable = 0;
	return res->status;
}

/* verified_ok - RFC 8689 4.2.1: a trust chain to a CA we trust, or DANE */
static int
verified_ok(enum tls_verified v)
{
	return v == TLS_VERIFIED_CA || v == TLS_VERIFIED_MTA_STS ||
	    v == TLS_VERIFIED_DANE;
}

/* mail_line - "MAIL FROM:<a> SIZE=n BODY=8BITMIME REQUIRETLS" */
static int
mail_line(const struct smtp_conn *c, const struct smtp_client_msg *msg,
    struct buf *b)
{
	int r = buf_printf(b, "MAIL FROM:<%s>", msg->mail_from);

	if (r == 0 && (c->ext & EXT_SIZE))
		r = buf_printf(b, " SIZE=%zu", msg->len);
	if (r == 0 && msg->body_8bit && (c->ext & EXT_8BITMIME))
		r = buf_append_str(b, " BODY=8BITMIME");
	if (r == 0 && msg->requiretls)
		r = buf_append_str(b, " REQUIRETLS");
	if (r == 0)
		r = buf_append_str(b, "\r\n");
	return r;
}

/* send_txn - the transaction behind smtp_conn_send() */
static enum smtpc_status
send_txn(struct smtp_conn *c, const struct smtp_client_msg *msg,
    struct smtpc_result *res)
{
	const struct smtp_reply *r;
	struct buf cmds;
	size_t i, naccepted = 0;
	int pipelined, mail_ok, quit_now = 0;

	{
		struct smtpc_rcpt_result *rcpt = res->rcpt;

		*res = c->facts;
		res->rcpt = rcpt;
		res->status = SMTPC_OK;
		res->code = 0;
		res->reply[0] = '\0';
		res->data_sent = 0;
	}
	for (i = 0; i < msg->nrcpt; i++) {
		res->rcpt[i].code = 0;
		res->rcpt[i].reply[0] = '\0';
	}
	if (!c->usable) {
		res_set(res, SMTPC_TEMPFAIL, 0, "local: connection not usable");
		return res->status;
	}
	if (msg->nrcpt == 0) {
		res_set(res, SMTPC_PERMFAIL, 0, "local: no recipients");
		return res->status;
	}
	if (msg->mail_from == NULL || !addr_ok(msg->mail_from)) {
		res_set(res, SMTPC_PERMFAIL, 0, "local: invalid sender address");
		return res->status;
	}
	for (i = 0; i < msg->nrcpt; i++) {
		if (msg->rcpts[i] == NULL || !addr_ok(msg->rcpts[i])) {
			res_set(res, SMTPC_PERMFAIL, 0,
			    "local: invalid recipient address #%zu", i + 1);
			return res->status;
		}
	}
	if (msg->requiretls) {
		/* RFC 8689 4.2.1: only over TLS, certificate verified, to a
		 * server that offers REQUIRETLS; else not a byte of it */
		if (!c->facts.tls || !(c->ext & EXT_REQUIRETLS) ||
		    !verified_ok(c->facts.verified)) {
			res_set(res, SMTPC_REQUIRETLS_FAIL, 0,
			    "local: REQUIRETLS: %s", !c->facts.tls ?
			    "the session is not TLS" :
			    !verified_ok(c->facts.verified) ?
			    "the certificate was not verified" :
			    "the server does not offer REQUIRETLS");
			return res->status;
		}
	}
	if ((c->ext & EXT_SIZE) && c->size_max > 0 && msg->len > c->size_max) {
		res_set(res, SMTPC_PERMFAIL, 552, "552 5.3.4 local: message "
		    "size %zu exceeds the server's SIZE limit %llu", msg->len,
		    (unsigned long long)c->size_max);
		return res->status;
	}
	if (c->need_rset && do_rset(c, res, 1) < 0)
		return res->status;

	pipelined = (c->ext & EXT_PIPELINING) != 0;
	buf_init(&cmds, CMD_BUF_MAX);
	if (mail_line(c, msg, &cmds) < 0) {
		buf_free(&cmds);
		res_set(res, SMTPC_PERMFAIL, 0, "local: command too long");
		return res->status;
	}
	if (pipelined) {
		for (i = 0; i < msg->nrcpt; i++)
			if (buf_printf(&cmds, "RCPT TO:<%s>\r\n",
			    msg->rcpts[i]) < 0)
				break;
		if (i < msg->nrcpt || buf_append_str(&cmds, "DATA\r\n") < 0) {
			buf_free(&cmds);
			res_set(res, SMTPC_PERMFAIL, 0,
			    "local: too many recipients for one write");
			return res->status;
		}
	}
	c->need_rset = 1;
	if (send_cmd(c, cmds.data, cmds.len, tmo(c->t.mail, 300)) < 0) {
		buf_free(&cmds);
		fail_io(c, res, "sending MAIL FROM");
		return res->status;
	}
	buf_free(&cmds);

	/* MAIL */
	if (read_reply(c, tmo(c->t.mail, 300), &r) < 0) {
		fail_io(c, res, "waiting for the reply to MAIL FROM");
		return res->status;
	}
	mail_ok = r->code >= 200 && r->code < 300;
	if (!mail_ok) {
		res_reply(res, class_status(r->code), r);
		if (r->code == 421) {
			c->usable = 0;
			return res->status;
		}
		if (!pipelined)
			return res->status;
	}

	/* RCPT: lock-step, or the replies to the pipelined group */
	for (i = 0; i < msg->nrcpt; i++) {
		if (!pipelined) {
			char line[SG_SMTP_CMD_LINE_MAX];

			snprintf(line, sizeof(line), "RCPT TO:<%s>",
			    msg->rcpts[i]);
			if (cmd_reply(c, line, tmo(c->t.rcpt, 300), &r) < 0) {
				fail_io(c, res, "after RCPT TO");
				return res->status;
			}
		} else if (read_reply(c, tmo(c->t.rcpt, 300), &r) < 0) {
			if (mail_ok)
				fail_io(c, res, "waiting for the reply to "
				    "RCPT TO");
			c->usable = 0;
			return res->status;
		}
		if (!mail_ok)
			continue;	/* 503s after a refused MAIL */
		rcpt_set(&res->rcpt[i], r);
		if (r->code >= 200 && r->code < 300)
			naccepted++;
		if (r->code == 421) {
			/* the server is closing: no more replies come */
			res_reply(res, SMTPC_TEMPFAIL, r);
			c->usable = 0;
			return res->status;
		}
	}

	/* DATA */
	if (!pipelined) {
		if (naccepted == 0) {
			rcpts_outcome(msg, res);
			(void)do_rset(c, res, 0);
			return res->status;
		}
		if (cmd_reply(c, "DATA", tmo(c->t.data_init, 120), &r) < 0) {
			fail_io(c, res, "after DATA");
			return res->status;
		}
	} else if (read_reply(c, tmo(c->t.data_init, 120), &r) < 0) {
		if (mail_ok)
			fail_io(c, res, "waiting for the reply to DATA");
		c->usable = 0;
		return res->status;
	}
	if (r->code == 354) {
		if (!mail_ok) {
			/* 354 after a refused MAIL: end it, keep MAIL's
			 * verdict */
			if (send_cmd(c, ".\r\n", 3,
			    tmo(c->t.data_block, 180)) < 0 ||
			    read_reply(c, tmo(c->t.data_done, 600), &r) < 0)
				c->usable = 0;
			return res->status;
		}
		return finish_data(c, msg, res, naccepted);
	}
	if (!mail_ok) {
		if (r->code == 421)
			c->usable = 0;
		return res->status;
	}
	if (naccepted == 0) {
		rcpts_outcome(msg, res);
		quit_now = r->code == 421;
	} else {
		/* DATA refused: the accepted recipients share its fate */
		for (i = 0; i < msg->nrcpt; i++)
			if (res->rcpt[i].code >= 200 && res->rcpt[i].code < 300)
				rcpt_set(&res->rcpt[i], r);
		res_reply(res, class_status(r->code), r);
		quit_now = r->code == 421;
	}
	if (quit_now)
		c->usable = 0;
	else
		(void)do_rset(c, res, 0);
	return res->status;
}

enum smtpc_status
smtp_conn_send(struct smtp_conn *c, const struct smtp_client_msg *msg,
    struct smtpc_result *res)
{
	size_t i;

	(void)send_txn(c, msg, res);
	/*
	 * A 2xx per recipient means the message was accepted for it. When
	 * the transaction failed after RCPT (lost connection, timeout, 421)
	 * a recipient's "250" to RCPT is no final word: 0, so the caller
	 * goes by res->status for it.
	 */
	if (res->status != SMTPC_OK) {
		for (i = 0; i < msg->nrcpt; i++) {
			if (res->rcpt[i].code >= 200 &&
			    res->rcpt[i].code < 300) {
				res->rcpt[i].code = 0;
				res->rcpt[i].reply[0] = '\0';
			}
		}
	}
	return res->status;
}

/* --- dot-stuffing -------------------------------------------------------- */

void
smtp_dot_stuff_init(struct smtp_dot_stuffer *st)
{
	st->bol = 1;
	st->cr = 0;
}

/* buf_cut - undo appends: back to length n */
static void
buf_cut(struct buf *b, size_t n)
{
	if (b->data == NULL)
		return;
	b->len = n;
	b->data[n] = '\0';
}

int
smtp_dot_stuff_update(struct smtp_dot_stuffer *stp, const char *in,
    size_t len, struct buf *out)
{
	struct smtp_dot_stuffer st = *stp;
	size_t mark = out->len, i = 0, run;

	while (i < len) {
		char ch = in[i];

		if (st.cr) {
			st.cr = 0;
			if (ch == '\n') {
				if (buf_append(out, "\r\n", 2) < 0)
					goto full;
				st.bol = 1;
				i++;
				continue;
			}
			/* a bare CR: passed on as it is */
			if (buf_append_char(out, '\r') < 0)
				goto full;
			st.bol = 0;
		}
		if (ch == '\r') {
			st.cr = 1;
			i++;
			continue;
		}
		if (ch == '\n') {
			/* a bare LF ends the line as CRLF */
			if (buf_append(out, "\r\n", 2) < 0)
				goto full;
			st.bol = 1;
			i++;
			continue;
		}
		if (st.bol && ch == '.' && buf_append_char(out, '.') < 0)
			goto full;
		/* the rest of the line up to the next CR or LF in one go */
		for (run = i; run < len && in[run] != '\r' && in[run] != '\n';)
			run++;
		if (buf_append(out, in + i, run - i) < 0)
			goto full;
		st.bol = 0;
		i = run;
	}
	*stp = st;
	return 0;
full:
	buf_cut(out, mark);
	return -1;
}

int
smtp_dot_stuff_final(struct smtp_dot_stuffer *stp, struct buf *out)
{
	struct smtp_dot_stuffer st = *stp;
	size_t mark = out->len;

	if (st.cr) {
		/* a message cut right after a CR: take it as CRLF */
		if (buf_append(out, "\r\n", 2) < 0)
			goto full;
		st.cr = 0;
		st.bol = 1;
	}
	if (!st.bol && buf_append(out, "\r\n", 2) < 0)
		goto full;
	if (buf_append(out, ".\r\n", 3) < 0)
		goto full;
	st.bol = 1;
	*stp = st;
	return 0;
full:
	buf_cut(out, mark);
	return -1;
}

int
smtp_dot_stuff(const char *in, size_t len, struct buf *out)
{
	struct smtp_dot_stuffer st;
	size_t mark = out->len;

	smtp_dot_stuff_init(&st);
	if (smtp_dot_stuff_update(&st, in, len, out) < 0)
		return -1;
	if (smtp_dot_stuff_final(&st, out) < 0) {
		buf_cut(out, mark);
		return -1;
	}
	return 0;
}
