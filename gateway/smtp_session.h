/*
 * smtp_session.h - the SMTP server session as a pure state machine.
 *
 * No sockets, no database, no clock: the ingress event loop feeds bytes
 * in, writes the output buffer out, and carries out the actions the
 * session asks for (TLS handshake, AUTH check, queue commit), reporting
 * the result back. That makes every protocol rule unit-testable.
 *
 * Ownership: the session owns its buffers; smtp_session_txn() points into
 * them and is valid until the next call that changes the session.
 */
#ifndef SEALGATE_SMTP_SESSION_H
#define SEALGATE_SMTP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/queue_id.h"
#include "smtp_data.h"

enum smtp_state {
	SMTP_STATE_INIT = 0,	/* greeting sent, EHLO/HELO needed */
	SMTP_STATE_HELO,	/* EHLO/HELO seen, no transaction */
	SMTP_STATE_MAIL,	/* MAIL accepted */
	SMTP_STATE_RCPT,	/* at least one RCPT accepted */
	SMTP_STATE_DATA,	/* reading message content */
	SMTP_STATE_AUTH,	/* reading an AUTH continuation line */
	SMTP_STATE_WAIT,	/* an action is in progress */
	SMTP_STATE_CLOSED,	/* QUIT or fatal: flush output, close */
};

enum smtp_action {
	SMTP_ACT_NONE = 0,	/* need more input (flush output first) */
	SMTP_ACT_STARTTLS,	/* flush output, handshake, smtp_session_tls_done() */
	SMTP_ACT_AUTH,		/* check smtp_session_auth_creds(), auth_done() */
	SMTP_ACT_COMMIT,	/* queue smtp_session_txn(), commit_done() */
	SMTP_ACT_CLOSE,		/* flush output, close the connection */
};

struct smtp_session_conf {
	const char *hostname;
	uint64_t msg_max;		/* message_size_limit */
	unsigned rcpt_max;
	unsigned error_max;		/* hard error limit, then 421 */
	int tls_available;		/* a certificate is configured */
	int auth_enabled;		/* AUTH offered (only under TLS) */
	int require_tls;		/* STARTTLS before MAIL */
	enum smtp_data_mode bare_lf;
	int reject_8bit_headers;
	long long fixed_now;		/* tests: clock for Received:, 0 = real */
};

struct smtp_client_facts {
	const char *addr;		/* numeric IP of the client */
	int relay_allowed;		/* inside relay_networks */
};

/* The transaction handed to the queue on SMTP_ACT_COMMIT. */
struct smtp_txn {
	const char *queue_id;
	const char *mail_from;
	const char *mail_params;
	const char *body_type;		/* "7BIT" or "8BITMIME" */
	int requiretls;
	const char *const *rcpts;
	size_t nrcpt;
	const char *data;		/* Received: + message, CRLF lines */
	size_t len;
	const char *helo;
	const char *auth_user;		/* NULL when not authenticated */
	const char *tls_protocol;	/* NULL when plaintext */
	const char *tls_cipher;
	int tls_bits;
};

struct smtp_session;

/* New session; the 220 greeting is already in the output. Free with
 * smtp_session_free(). conf and client must outlive the session. */
struct smtp_session *smtp_session_new(const struct smtp_session_conf *conf,
    const struct smtp_client_facts *client);
void smtp_session_free(struct smtp_session **sp);

/* Room left in the input buffer: read at most this much. */
size_t smtp_session_input_room(const struct smtp_session *s);
/* Append bytes read from the network. -1 if over the room. */
int smtp_session_input(struct smtp_session *s, const char *p, size_t n);

/* Process buffered input until input runs out or an action is needed. */
enum smtp_action smtp_session_run(struct smtp_session *s);

/* Pending replies: write them out, then buf_consume() what was sent. */
struct buf *smtp_session_output(struct smtp_session *s);

/* Action results. */
void smtp_session_tls_done(struct smtp_session *s, const char *protocol,
    const char *cipher, int bits);
void smtp_session_auth_creds(const struct smtp_session *s,
    const char **user_out, const char **pass_out, size_t *pass_len_out);
/* ok: 1 valid, 0 invalid, -1 temporary failure */
void smtp_session_auth_done(struct smtp_session *s, int ok);
const struct smtp_txn *smtp_session_txn(const struct smtp_session *s);
/* result: 0 committed, -1 temporary failure (451), -2 permanent (554) */
void smtp_session_commit_done(struct smtp_session *s, int result);

/* The client idled too long: 421 and close. */
enum smtp_action smtp_session_timeout(struct smtp_session *s);
/* The server is stopping: 421 and close. */
enum smtp_action smtp_session_shutdown(struct smtp_session *s);

enum smtp_state smtp_session_state(const struct smtp_session *s);
int smtp_session_tls_active(const struct smtp_session *s);
/* the client's EHLO/HELO name, "" before one was given */
const char *smtp_session_helo(const struct smtp_session *s);
/* One-line reason for the last rejected command or message (for logs). */
const char *smtp_session_last_reply(const struct smtp_session *s);

/* Build the Received: header for a message (exposed for tests). */
int smtp_received_header(struct buf *out, const char *helo,
    const char *client_addr, const char *hostname, const char *proto,
    const char *tls_protocol, const char *tls_cipher, int bits,
    const char *queue_id, const char *rcpt_if_single, long long now);

#endif
