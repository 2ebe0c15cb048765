/*
 * smtp_client.h - the delivery SMTP client (RFC 5321, 3207, 2920, 1870,
 * 6152, 8689) over one TCP connection to one MX address.
 *
 * Blocking I/O with poll() deadlines per stage (RFC 5321 4.5.3.2), run
 * from a delivery worker thread. A connection is opened once and may
 * carry several messages (RSET between them). Replies are parsed by
 * smtp_reply (bounded); the STARTTLS purge rule applies to the server:
 * bytes after "220 Ready to start TLS" and before the handshake are an
 * attack and end the connection.
 *
 * THE RULE: at TLS_LEVEL_ENCRYPT and above, if STARTTLS is not offered,
 * is refused, fails, negotiates below the floor or (verify, dane) the
 * certificate does not verify, the connection is closed without sending
 * MAIL FROM or any message data: result SMTPC_TLS_FAIL.
 *
 * DANE (RFC 7672): smtp_conn_open_opts() at TLS_LEVEL_DANE with the
 * usable TLSA records from dane_lookup() (gateway/dane.h says which
 * lookup result gives which level). No TLSA record matching the peer is
 * TLS_FAIL with verified=failed, exactly like a failed verify.
 *
 * Library module: never logs; everything is in the result.
 */
#ifndef SEALGATE_SMTP_CLIENT_H
#define SEALGATE_SMTP_CLIENT_H

#include <stddef.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "lib/buf.h"
#include "tls_client.h"

struct smtp_client_timeouts {		/* seconds; 0 = the default shown */
	unsigned connect;		/* 30 */
	unsigned greeting;		/* 300: 220 banner */
	unsigned ehlo;			/* 300 */
	unsigned starttls;		/* 300: reply + handshake */
	unsigned mail;			/* 300 */
	unsigned rcpt;			/* 300 */
	unsigned data_init;		/* 120: 354 */
	unsigned data_block;		/* 180: each write */
	unsigned data_done;		/* 600: reply to the final dot */
	unsigned quit;			/* 30 */
};

struct smtp_client_conf {
	const char *helo_name;		/* our EHLO name */
	SSL_CTX *tls_ctx;		/* from tls_client_ctx_new() */
	int tls_min_version;		/* floor checked after the handshake */
	struct smtp_client_timeouts t;
};

/* Per-connection TLS inputs beyond the level (smtp_conn_open_opts()). */
struct smtp_conn_opts {
	enum tls_level level;
	const struct tls_tlsa *tlsa;	/* TLS_LEVEL_DANE: the usable TLSA
					 * records of this MX host (from
					 * dane_lookup()); read during the
					 * call only */
	size_t ntlsa;
	int mta_sts;			/* TLS_LEVEL_VERIFY for a host that an
					 * MTA-STS policy names: success is
					 * recorded as TLS_VERIFIED_MTA_STS */
};

struct smtp_client_msg {
	const char *mail_from;		/* "" for the null sender */
	const char *const *rcpts;
	size_t nrcpt;
	const char *data;		/* message, CRLF lines, not dot-stuffed */
	size_t len;
	int body_8bit;			/* BODY=8BITMIME */
	int requiretls;			/* RFC 8689: the peer must offer it,
					 * and only over TLS */
};

enum smtpc_status {
	SMTPC_OK = 0,		/* transaction ran; see per-recipient codes */
	SMTPC_TEMPFAIL,		/* network, timeout, protocol error, 4xx to
				 * greeting/EHLO/MAIL/DATA: try later */
	SMTPC_PERMFAIL,		/* 5xx to MAIL or DATA (or all RCPTs 5xx) */
	SMTPC_TLS_FAIL,		/* required TLS impossible: nothing sent */
	SMTPC_REQUIRETLS_FAIL,	/* message needs REQUIRETLS, peer lacks it */
};

/*
 * Per recipient, after smtp_conn_send(), whatever the status:
 *   2xx   the message was accepted for this recipient (final reply)
 *   4xx   this recipient's own temporary answer (RCPT, or DATA/final
 *         reply when it had been accepted): defer it
 *   5xx   this recipient's own permanent answer: bounce it
 *   0     no answer of its own (not tried, MAIL refused, connection lost
 *         or timed out mid-transaction): res->status/res->code decide.
 * Status OK with some 4xx/5xx recipients is a partial delivery.
 */
struct smtpc_rcpt_result {
	int code;			/* see above */
	char reply[256];		/* "550 5.1.1 text" (truncated) */
};

struct smtpc_result {
	enum smtpc_status status;
	int code;			/* the reply that decided the status */
	char reply[512];		/* that reply, or a local reason */
	struct smtpc_rcpt_result *rcpt;	/* nrcpt entries, caller-allocated */
	int data_sent;			/* message data went out */
	/* the connection's facts, for the audit row */
	char mx_host[256];
	char mx_addr[46];
	int tls;			/* STARTTLS completed */
	char tls_protocol[16];
	char tls_cipher[64];
	int tls_bits;
	enum tls_verified verified;
	char peer_cert_subject[256];	/* = cert.subject (older callers) */
	int session_reused;
	/* the peer certificate after a handshake, also one that failed
	 * verification (cert.have_cert 0 without one) */
	struct tls_cert_facts cert;
	int dane_usage;			/* verified=dane: usage of the TLSA
					 * record that matched (2, 3); -1 */
	int dane_depth;			/* its chain depth (0: the leaf);
					 * -1 (also on a resumed session) */
};

struct smtp_conn;

/*
 * smtp_conn_open - connect to sa (port set), read the greeting, EHLO
 * (falling back to HELO only at TLS_LEVEL_NONE/MAY), STARTTLS according
 * to level (SNI = mx_host), EHLO again. NULL on failure with res filled
 * (status TEMPFAIL, PERMFAIL for a 5xx greeting or HELO, TLS_FAIL).
 * At TLS_LEVEL_MAY a failed handshake (or injection, or a session below
 * the floor or under 128 bits) is reported as TLS_FAIL too: the caller
 * reconnects at TLS_LEVEL_NONE. At MAY a STARTTLS answered with 4xx/5xx
 * (not 421) goes on in plaintext on the same connection, as Postfix does.
 * At ENCRYPT and above an EHLO answered with 5xx is TLS_FAIL (no STARTTLS
 * without EHLO). On success res holds the connection's facts (tls,
 * protocol, cipher, bits, verified, subject, cert, session_reused) and
 * status OK; smtp_conn_send() copies them into every result.
 * res->reply of a local failure starts with "local: ", and res->code is
 * 0 then (except the SIZE refusal: 552).
 * TLS_LEVEL_DANE needs smtp_conn_open_opts(); here it is TLS_FAIL.
 */
struct smtp_conn *smtp_conn_open(const struct smtp_client_conf *c,
    const char *mx_host, const struct sockaddr *sa, socklen_t salen,
    enum tls_level level, struct smtpc_result *res);
/*
 * smtp_conn_open_opts - the same with per-connection TLS inputs. At
 * TLS_LEVEL_DANE: SNI and the DANE reference identifier are mx_host;
 * without a DANE-TA(2)/DANE-EE(3) record, TLS_FAIL before connecting
 * (one OpenSSL cannot use either: TLS_FAIL after STARTTLS); success
 * is verified=dane (dane_usage, dane_depth set), a peer no record
 * matches is TLS_FAIL with verified=failed and nothing sent.
 */
struct smtp_conn *smtp_conn_open_opts(const struct smtp_client_conf *c,
    const char *mx_host, const struct sockaddr *sa, socklen_t salen,
    const struct smtp_conn_opts *o, struct smtpc_result *res);

/* smtp_conn_send - one transaction (RSET first when the connection
 * carried one before; MAIL, RCPTs pipelined with DATA when offered, else
 * lock-step; DATA with dot-stuffing). res->rcpt must have msg->nrcpt
 * entries. Returns res->status. Before MAIL, without sending anything:
 * REQUIRETLS_FAIL (msg->requiretls and not TLS, not verified (RFC 8689
 * 4.2.1: ca, mta-sts or dane) or not offered), PERMFAIL 552 (over the peer's SIZE), PERMFAIL
 * (no recipients, an address with a control character). After TEMPFAIL
 * from a network or protocol error, or any 421, the connection is dead
 * (smtp_conn_usable() == 0); after other 4xx/5xx it may carry the next
 * message. */
enum smtpc_status smtp_conn_send(struct smtp_conn *conn,
    const struct smtp_client_msg *msg, struct smtpc_result *res);
int smtp_conn_usable(const struct smtp_conn *conn);
/* QUIT (best effort) and free. */
void smtp_conn_close(struct smtp_conn **connp);

/* Pure: append in[0..len) to out with RFC 5321 4.5.2 dot-stuffing and the
 * final ".\r\n"; a missing final CRLF is added. 0 / -1 (out full). */
int smtp_dot_stuff(const char *in, size_t len, struct buf *out);

/*
 * The same, streaming: init, update with the message in pieces of any
 * size (split anywhere, even between CR and LF), final. Line ends: CRLF
 * and a bare LF both end a line and go out as CRLF (so no LF-only line
 * can pose as the end of data at a lax receiver: SMTP smuggling); a bare
 * CR is passed on unchanged, except at the very end where it is taken as
 * a cut CRLF. A line starting with "." gets another ".". On -1 (out
 * would pass its max) neither out nor the state has changed: flush out
 * and call again with the same input.
 */
struct smtp_dot_stuffer {
	int bol;			/* at the start of a line */
	int cr;				/* a CR is held back */
};
void smtp_dot_stuff_init(struct smtp_dot_stuffer *st);
int smtp_dot_stuff_update(struct smtp_dot_stuffer *st, const char *in,
    size_t len, struct buf *out);
int smtp_dot_stuff_final(struct smtp_dot_stuffer *st, struct buf *out);

/* The defaults above (RFC 5321 4.5.3.2). */
void smtp_client_timeouts_default(struct smtp_client_timeouts *t);
/* "OK", "TEMPFAIL", "PERMFAIL", "TLS_FAIL", "REQUIRETLS_FAIL" */
const char *smtpc_status_name(enum smtpc_status s);

#endif
