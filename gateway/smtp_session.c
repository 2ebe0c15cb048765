/*
 * smtp_session.c - SMTP server protocol state machine (RFC 5321, 3207,
 * 4954, 2920, 1870, 6152, 2034, 3463, 8689).
 *
 * One function changes the state (session_set_state). The command table
 * says which commands are legal where; handlers build replies. Every reply
 * carries an enhanced status code except the greeting and EHLO lines.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "lib/b64.h"
#include "lib/log.h"
#include "lib/numparse.h"
#include "lib/sg_limits.h"
#include "lib/xalloc.h"
#include "smtp_addr.h"
#include "smtp_cmd.h"
#include "smtp_session.h"

enum auth_step { AUTH_NONE, AUTH_PLAIN_RESP, AUTH_LOGIN_USER, AUTH_LOGIN_PASS };

struct smtp_session {
	const struct smtp_session_conf *conf;
	const struct smtp_client_facts *client;
	enum smtp_state state;
	enum smtp_state resume;		/* state after WAIT */
	enum smtp_action pending;	/* action in progress during WAIT */

	struct smtp_cmd_parser *cmd;
	struct smtp_data *data;
	struct buf in;
	struct buf out;
	unsigned errors;

	int esmtp;			/* EHLO (not HELO) */
	char helo[SG_SMTP_EHLO_MAX + 1];
	int tls;
	char tls_protocol[16];
	char tls_cipher[64];
	int tls_bits;

	/* AUTH */
	enum auth_step auth_step;
	char auth_user[SG_SMTP_PATH_MAX + 1];
	struct buf auth_pass;		/* wiped after use */
	int authenticated;
	char authed_as[SG_SMTP_PATH_MAX + 1];

	/* transaction */
	char mail_from[SMTP_ADDR_MAX + 1];
	char mail_params[SG_SMTP_CMD_LINE_MAX];
	int body_8bit;
	int requiretls;
	char **rcpts;
	size_t nrcpt;
	struct buf msg;			/* Received: + content */
	size_t hdr_prefix;		/* bytes of our own headers in msg */
	char queue_id[QUEUE_ID_SIZE];
	struct smtp_txn txn;

	char last_reply[160];
};

/* --- helpers ---------------------------------------------------------- */

/* reply - queue one reply line; also remembered for logging */
static void reply(struct smtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;
	size_t start = s->out.len;

	va_start(ap, fmt);
	if (buf_vprintf(&s->out, fmt, ap) < 0 ||
	    buf_append(&s->out, "\r\n", 2) < 0) {
		/* output cap: the client is not reading; give up on it */
		s->out.len = start;
		s->state = SMTP_STATE_CLOSED;
	}
	va_end(ap);
	snprintf(s->last_reply, sizeof(s->last_reply), "%.*s",
	    (int)(s->out.len - start > 2 ? s->out.len - start - 2 : 0),
	    s->out.data ? s->out.data + start : "");
}

static void
session_set_state(struct smtp_session *s, enum smtp_state st)
{
	s->state = st;
}

static void
txn_reset(struct smtp_session *s)
{
	size_t i;

	for (i = 0; i < s->nrcpt; i++)
		xfree(s->rcpts[i]);
	xfree(s->rcpts);
	s->rcpts = NULL;
	s->nrcpt = 0;
	s->mail_from[0] = '\0';
	s->mail_params[0] = '\0';
	s->body_8bit = 0;
	s->requiretls = 0;
	s->queue_id[0] = '\0';
	s->hdr_prefix = 0;
	buf_free(&s->msg);
	buf_init(&s->msg, s->conf->msg_max + 8192);
	memset(&s->txn, 0, sizeof(s->txn));
}

static void
auth_reset(struct smtp_session *s)
{
	s->auth_step = AUTH_NONE;
	OPENSSL_cleanse(s->auth_user, sizeof(s->auth_user));
	buf_free_secure(&s->auth_pass);
	buf_init(&s->auth_pass, SG_SMTP_AUTH_LINE_MAX);
}

/* count_error - a protocol error; too many of them end the session */
static int
count_error(struct smtp_session *s)
{
	if (++s->errors >= s->conf->error_max) {
		reply(s, "421 4.7.0 %s Error: too many errors",
		    s->conf->hostname);
		session_set_state(s, SMTP_STATE_CLOSED);
		return -1;
	}
	return 0;
}

static long long
session_now(const struct smtp_session *s)
{
	return s->conf->fixed_now ? s->conf->fixed_now : (long long)time(NULL);
}

/* trim - strip leading and trailing spaces of a slice */
static struct slice
trim(struct slice a)
{
	while (a.len > 0 && (a.ptr[0] == ' ' || a.ptr[0] == '\t')) {
		a.ptr++;
		a.len--;
	}
	while (a.len > 0 && (a.ptr[a.len - 1] == ' ' ||
	    a.ptr[a.len - 1] == '\t'))
		a.len--;
	return a;
}

/* --- lifecycle -------------------------------------------------------- */

struct smtp_session *
smtp_session_new(const struct smtp_session_conf *conf,
    const struct smtp_client_facts *client)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	struct smtp_cmd_limits cl = { SG_SMTP_CMD_LINE_MAX };
	struct smtp_data_limits dl;

	s->conf = conf;
	s->client = client;
	s->cmd = smtp_cmd_parser_new(&cl);
	dl.line_max = SG_SMTP_TEXT_LINE_MAX;
	dl.size_max = conf->msg_max;
	dl.mode = conf->bare_lf;
	s->data = smtp_data_new(&dl);
	/* Before EHLO allow little buffered input (Redis's pre-auth idea). */
	buf_init(&s->in, SG_SMTP_PRE_AUTH_BUF);
	buf_init(&s->out, SG_SMTP_OUTPUT_MAX);
	buf_init(&s->msg, conf->msg_max + 8192);
	buf_init(&s->auth_pass, SG_SMTP_AUTH_LINE_MAX);
	reply(s, "220 %s ESMTP sealgate", conf->hostname);
	return s;
}

void
smtp_session_free(struct smtp_session **sp)
{
	struct smtp_session *s = *sp;

	if (s == NULL)
		return;
	txn_reset(s);
	auth_reset(s);
	buf_free(&s->msg);
	buf_free_secure(&s->auth_pass);
	buf_free(&s->in);
	buf_free(&s->out);
	smtp_cmd_parser_free(&s->cmd);
	smtp_data_free(&s->data);
	xfree(s);
	*sp = NULL;
}

size_t
smtp_session_input_room(const struct smtp_session *s)
{
	if (s->state == SMTP_STATE_WAIT || s->state == SMTP_STATE_CLOSED)
		return 0;
	return s->in.max - s->in.len;
}

int
smtp_session_input(struct smtp_session *s, const char *p, size_t n)
{
	return buf_append(&s->in, p, n);
}

struct buf *
smtp_session_output(struct smtp_session *s)
{
	return &s->out;
}

enum smtp_state
smtp_session_state(const struct smtp_session *s)
{
	return s->state;
}

int
smtp_session_tls_active(const struct smtp_session *s)
{
	return s->tls;
}

const char *
smtp_session_helo(const struct smtp_session *s)
{
	return s->helo;
}

const char *
smtp_session_last_reply(const struct smtp_session *s)
{
	return s->last_reply;
}

/* --- command handlers -------------------------------------------------- */

static int
helo_name_ok(struct slice a)
{
	size_t i;

	if (a.len == 0 || a.len > SG_SMTP_EHLO_MAX)
		return 0;
	for (i = 0; i < a.len; i++) {
		unsigned char c = (unsigned char)a.ptr[i];
		if (c <= ' ' || c >= 0x7f)
			return 0;
	}
	return 1;
}

static void
cmd_helo(struct smtp_session *s, const struct smtp_cmd *c, int esmtp)
{
	struct slice a = trim(c->args);

	if (!helo_name_ok(a)) {
		reply(s, "501 5.5.4 Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		count_error(s);
		return;
	}
	txn_reset(s);
	memcpy(s->helo, a.ptr, a.len);
	s->helo[a.len] = '\0';
	s->esmtp = esmtp;
	/* Once the client has introduced itself it may pipeline freely. */
	s->in.max = SG_SMTP_INPUT_BUF;
	session_set_state(s, SMTP_STATE_HELO);
	if (!esmtp) {
		reply(s, "250 %s", s->conf->hostname);
		return;
	}
	reply(s, "250-%s", s->conf->hostname);
	reply(s, "250-PIPELINING");
	reply(s, "250-SIZE %llu", (unsigned long long)s->conf->msg_max);
	if (s->conf->tls_available && !s->tls)
		reply(s, "250-STARTTLS");
	if (s->tls && s->conf->auth_enabled && !s->authenticated)
		reply(s, "250-AUTH PLAIN LOGIN");
	if (s->tls)
		reply(s, "250-REQUIRETLS");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250 8BITMIME");
}

static enum smtp_action
cmd_starttls(struct smtp_session *s, const struct smtp_cmd *c)
{
	if (trim(c->args).len != 0) {
		reply(s, "501 5.5.4 Syntax: STARTTLS");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	if (s->tls) {
		reply(s, "554 5.5.1 Error: TLS already active");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	if (!s->conf->tls_available) {
		reply(s, "502 5.5.1 Error: command not implemented");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	if (s->state == SMTP_STATE_INIT) {
		reply(s, "503 5.5.1 Error: send EHLO first");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	if (s->state != SMTP_STATE_HELO) {
		reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	reply(s, "220 2.0.0 Ready to start TLS");
	/*
	 * RFC 3207 4.2 / CVE-2011-0411: whatever the client sent after
	 * STARTTLS in plaintext must not be executed inside TLS. Throw away
	 * every buffered byte and all session knowledge; EHLO again.
	 */
	buf_reset(&s->in);
	smtp_cmd_discard(s->cmd);
	txn_reset(s);
	s->helo[0] = '\0';
	s->esmtp = 0;
	s->in.max = SG_SMTP_PRE_AUTH_BUF;
	s->resume = SMTP_STATE_INIT;
	s->pending = SMTP_ACT_STARTTLS;
	session_set_state(s, SMTP_STATE_WAIT);
	return SMTP_ACT_STARTTLS;
}

void
smtp_session_tls_done(struct smtp_session *s, const char *protocol,
    const char *cipher, int bits)
{
	ASSERT(s->state == SMTP_STATE_WAIT && s->pending == SMTP_ACT_STARTTLS);
	s->tls = 1;
	snprintf(s->tls_protocol, sizeof(s->tls_protocol), "%s", protocol);
	snprintf(s->tls_cipher, sizeof(s->tls_cipher), "%s", cipher);
	s->tls_bits = bits;
	s->pending = SMTP_ACT_NONE;
	session_set_state(s, SMTP_STATE_INIT);
}

/* --- AUTH (RFC 4954), only under TLS --- */

static enum smtp_action auth_plain_response(struct smtp_session *s,
    struct slice resp);

static enum smtp_action
auth_start_check(struct smtp_session *s)
{
	s->resume = s->state == SMTP_STATE_AUTH ? SMTP_STATE_HELO : s->state;
	s->pending = SMTP_ACT_AUTH;
	session_set_state(s, SMTP_STATE_WAIT);
	return SMTP_ACT_AUTH;
}

static enum smtp_action
cmd_auth(struct smtp_session *s, const struct smtp_cmd *c)
{
	struct slice a = trim(c->args), mech, init = SLICE_EMPTY;
	const char *sp;

	if (!s->tls || !s->conf->auth_enabled) {
		if (s->conf->tls_available && s->conf->auth_enabled)
			reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		else
			reply(s, "503 5.5.1 Error: authentication not enabled");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	if (s->authenticated) {
		reply(s, "503 5.5.1 Error: already authenticated");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	if (s->state != SMTP_STATE_HELO) {
		reply(s, "503 5.5.1 Error: %s",
		    s->state == SMTP_STATE_INIT ? "send EHLO first" :
		    "MAIL transaction in progress");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	sp = memchr(a.ptr, ' ', a.len);
	mech = slice_make(a.ptr, sp ? (size_t)(sp - a.ptr) : a.len);
	if (sp != NULL)
		init = trim(slice_make(sp + 1, a.len - (size_t)(sp - a.ptr) - 1));
	if (slice_eq_ci(mech, "PLAIN")) {
		if (init.len == 0) {
			s->auth_step = AUTH_PLAIN_RESP;
			session_set_state(s, SMTP_STATE_AUTH);
			reply(s, "334 ");
			return SMTP_ACT_NONE;
		}
		return auth_plain_response(s, init);
	}
	if (slice_eq_ci(mech, "LOGIN")) {
		if (init.len == 0) {
			s->auth_step = AUTH_LOGIN_USER;
			session_set_state(s, SMTP_STATE_AUTH);
			reply(s, "334 VXNlcm5hbWU6");
			return SMTP_ACT_NONE;
		}
		s->auth_step = AUTH_LOGIN_USER;
		session_set_state(s, SMTP_STATE_AUTH);
		/* the initial response is the user name */
		{
			struct buf u;
			buf_init(&u, SG_SMTP_PATH_MAX);
			if (b64_decode(init.ptr, init.len, &u) < 0 ||
			    memchr(buf_cstr(&u), '\0', u.len) != NULL) {
				buf_free(&u);
				auth_reset(s);
				session_set_state(s, SMTP_STATE_HELO);
				reply(s, "501 5.5.2 Error: invalid base64 data");
				count_error(s);
				return SMTP_ACT_NONE;
			}
			snprintf(s->auth_user, sizeof(s->auth_user), "%s",
			    buf_cstr(&u));
			buf_free(&u);
		}
		s->auth_step = AUTH_LOGIN_PASS;
		reply(s, "334 UGFzc3dvcmQ6");
		return SMTP_ACT_NONE;
	}
	reply(s, "504 5.5.4 Error: unsupported authentication mechanism");
	count_error(s);
	return SMTP_ACT_NONE;
}

/* auth_plain_response - [authzid] NUL authcid NUL passwd (RFC 4616) */
static enum smtp_action
auth_plain_response(struct smtp_session *s, struct slice resp)
{
	struct buf d;
	const char *p, *n1, *n2, *end;

	buf_init(&d, SG_SMTP_AUTH_LINE_MAX);
	if (b64_decode(resp.ptr, resp.len, &d) < 0)
		goto bad;
	p = buf_cstr(&d);
	end = p + d.len;
	n1 = memchr(p, '\0', d.len);
	if (n1 == NULL)
		goto bad;
	n2 = memchr(n1 + 1, '\0', (size_t)(end - n1 - 1));
	if (n2 == NULL || memchr(n2 + 1, '\0', (size_t)(end - n2 - 1)))
		goto bad;
	if (n1 - p > 0 && ((size_t)(n1 - p) != (size_t)(n2 - n1 - 1) ||
	    memcmp(p, n1 + 1, (size_t)(n1 - p)) != 0)) {
		/* authorization identity must be the authentication one */
		buf_free_secure(&d);
		auth_reset(s);
		session_set_state(s, SMTP_STATE_HELO);
		reply(s, "535 5.7.8 Error: authentication failed");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	if ((size_t)(n2 - n1 - 1) > SG_SMTP_PATH_MAX || n2 - n1 - 1 == 0)
		goto bad;
	memcpy(s->auth_user, n1 + 1, (size_t)(n2 - n1 - 1));
	s->auth_user[n2 - n1 - 1] = '\0';
	buf_reset(&s->auth_pass);
	if (buf_append(&s->auth_pass, n2 + 1, (size_t)(end - n2 - 1)) < 0)
		goto bad;
	buf_free_secure(&d);
	return auth_start_check(s);
bad:
	buf_free_secure(&d);
	auth_reset(s);
	session_set_state(s, SMTP_STATE_HELO);
	reply(s, "501 5.5.2 Error: invalid base64 data");
	count_error(s);
	return SMTP_ACT_NONE;
}

static enum smtp_action
auth_line(struct smtp_session *s, struct slice line)
{
	struct buf d;

	line = trim(line);
	if (line.len == 1 && line.ptr[0] == '*') {
		auth_reset(s);
		session_set_state(s, SMTP_STATE_HELO);
		reply(s, "501 5.0.0 Authentication aborted");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	if (s->auth_step == AUTH_PLAIN_RESP)
		return auth_plain_response(s, line);
	buf_init(&d, SG_SMTP_AUTH_LINE_MAX);
	if (b64_decode(line.ptr, line.len, &d) < 0 ||
	    memchr(buf_cstr(&d), '\0', d.len) != NULL ||
	    (s->auth_step == AUTH_LOGIN_USER &&
	    (d.len == 0 || d.len > SG_SMTP_PATH_MAX))) {
		buf_free_secure(&d);
		auth_reset(s);
		session_set_state(s, SMTP_STATE_HELO);
		reply(s, "501 5.5.2 Error: invalid base64 data");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	if (s->auth_step == AUTH_LOGIN_USER) {
		memcpy(s->auth_user, d.data, d.len);
		s->auth_user[d.len] = '\0';
		buf_free(&d);
		s->auth_step = AUTH_LOGIN_PASS;
		reply(s, "334 UGFzc3dvcmQ6");
		return SMTP_ACT_NONE;
	}
	buf_reset(&s->auth_pass);
	(void)buf_append(&s->auth_pass, buf_cstr(&d), d.len);
	buf_free_secure(&d);
	return auth_start_check(s);
}

void
smtp_session_auth_creds(const struct smtp_session *s, const char **user_out,
    const char **pass_out, size_t *pass_len_out)
{
	*user_out = s->auth_user;
	*pass_out = buf_cstr(&s->auth_pass);
	*pass_len_out = s->auth_pass.len;
}

void
smtp_session_auth_done(struct smtp_session *s, int ok)
{
	ASSERT(s->state == SMTP_STATE_WAIT && s->pending == SMTP_ACT_AUTH);
	s->pending = SMTP_ACT_NONE;
	if (ok == 1) {
		s->authenticated = 1;
		snprintf(s->authed_as, sizeof(s->authed_as), "%s",
		    s->auth_user);
		reply(s, "235 2.7.0 Authentication successful");
	} else if (ok == 0) {
		reply(s, "535 5.7.8 Error: authentication failed");
	} else {
		reply(s, "454 4.7.0 Temporary authentication failure");
	}
	auth_reset(s);
	session_set_state(s, SMTP_STATE_HELO);
	if (ok == 0)
		count_error(s);
}

/* --- mail transaction ---------------------------------------------------- */

static const char *
addr_err_reply(enum smtp_addr_err e, enum smtp_addr_kind kind)
{
	switch (e) {
	case SMTP_ADDR_E_ADDRESS:
	case SMTP_ADDR_E_TOO_LONG:
		return kind == SMTP_ADDR_MAIL ?
		    "501 5.1.7 Bad sender address syntax" :
		    "501 5.1.3 Bad recipient address syntax";
	case SMTP_ADDR_E_NULL_RCPT:
		return "501 5.1.3 Bad recipient address syntax";
	case SMTP_ADDR_E_UNKNOWN_PARAM:
		return "555 5.5.4 Unsupported option";
	case SMTP_ADDR_E_PARAM:
		return "501 5.5.4 Bad parameter syntax";
	default:
		return kind == SMTP_ADDR_MAIL ?
		    "501 5.5.4 Syntax: MAIL FROM:<address>" :
		    "501 5.5.4 Syntax: RCPT TO:<address>";
	}
}

static void
cmd_mail(struct smtp_session *s, const struct smtp_cmd *c)
{
	struct smtp_path path;
	enum smtp_addr_err err;
	size_t i;
	int body8 = 0, reqtls = 0;

	if (s->state == SMTP_STATE_INIT) {
		reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		count_error(s);
		return;
	}
	if (s->state != SMTP_STATE_HELO) {
		reply(s, "503 5.5.1 Error: nested MAIL command");
		count_error(s);
		return;
	}
	if (s->conf->require_tls && !s->tls) {
		reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		count_error(s);
		return;
	}
	if (smtp_addr_parse(SMTP_ADDR_MAIL, c->args, &path, &err) < 0) {
		reply(s, "%s", addr_err_reply(err, SMTP_ADDR_MAIL));
		count_error(s);
		return;
	}
	if (path.nparams > 0 && !s->esmtp) {
		reply(s, "555 5.5.4 Error: parameters need EHLO");
		count_error(s);
		return;
	}
	for (i = 0; i < path.nparams; i++) {
		const struct smtp_param *p = &path.params[i];
		if (slice_eq_ci(p->key, "SIZE")) {
			uint64_t sz;
			if (!p->has_value || num_parse_u64(p->value.ptr,
			    p->value.len, 0, UINT64_MAX, &sz) < 0) {
				reply(s, "501 5.5.4 Bad SIZE parameter");
				count_error(s);
				return;
			}
			if (sz > s->conf->msg_max) {
				reply(s, "552 5.3.4 Message size exceeds fixed "
				    "limit");
				return;
			}
		} else if (slice_eq_ci(p->key, "BODY")) {
			if (p->has_value && slice_eq_ci(p->value, "8BITMIME"))
				body8 = 1;
			else if (!p->has_value || !slice_eq_ci(p->value,
			    "7BIT")) {
				reply(s, "501 5.5.4 Bad BODY parameter");
				count_error(s);
				return;
			}
		} else if (slice_eq_ci(p->key, "REQUIRETLS")) {
			/* RFC 8689 4.1: only offered, and valid, under TLS */
			if (p->has_value || !s->tls) {
				reply(s, "%s", !s->tls ?
				    "530 5.7.10 REQUIRETLS needs a TLS session" :
				    "501 5.5.4 Bad REQUIRETLS parameter");
				count_error(s);
				return;
			}
			reqtls = 1;
		} else if (slice_eq_ci(p->key, "AUTH")) {
			/* RFC 4954 5: accepted, not trusted */
		} else {
			reply(s, "555 5.5.4 Unsupported option: %.*s",
			    (int)(p->key.len > 32 ? 32 : p->key.len),
			    p->key.ptr);
			count_error(s);
			return;
		}
	}
	txn_reset(s);
	memcpy(s->mail_from, path.addr, path.addr_len + 1);
	{
		struct slice pa = trim(c->args);
		const char *gt = memchr(pa.ptr, '>', pa.len);
		size_t off = gt ? (size_t)(gt - pa.ptr) + 1 : pa.len;
		struct slice rest = trim(slice_make(pa.ptr + off,
		    pa.len - off));
		snprintf(s->mail_params, sizeof(s->mail_params), "%.*s",
		    (int)rest.len, rest.ptr);
	}
	s->body_8bit = body8;
	s->requiretls = reqtls;
	session_set_state(s, SMTP_STATE_MAIL);
	reply(s, "250 2.1.0 Ok");
}

/*
 * rcpt_same - the same mailbox twice? The local part is case-sensitive
 * (RFC 5321 2.4), the domain is not. at: index of the domain's '@' in b.
 */
static int
rcpt_same(const char *a, const char *b, size_t at)
{
	size_t bl = strlen(b);

	if (strlen(a) != bl || memcmp(a, b, at) != 0)
		return 0;
	return strcasecmp(a + at, b + at) == 0;
}

static void
cmd_rcpt(struct smtp_session *s, const struct smtp_cmd *c)
{
	struct smtp_path path;
	enum smtp_addr_err err;
	size_t i;

	if (s->state != SMTP_STATE_MAIL && s->state != SMTP_STATE_RCPT) {
		reply(s, "503 5.5.1 Error: need MAIL command");
		count_error(s);
		return;
	}
	if (smtp_addr_parse(SMTP_ADDR_RCPT, c->args, &path, &err) < 0) {
		reply(s, "%s", addr_err_reply(err, SMTP_ADDR_RCPT));
		count_error(s);
		return;
	}
	if (path.nparams > 0) {
		reply(s, "555 5.5.4 Unsupported option: %.*s",
		    (int)(path.params[0].key.len > 32 ? 32 :
		    path.params[0].key.len), path.params[0].key.ptr);
		count_error(s);
		return;
	}
	/* No open relay: only trusted networks or authenticated users. */
	if (!s->client->relay_allowed && !s->authenticated) {
		reply(s, "554 5.7.1 <%s>: Relay access denied", path.addr);
		count_error(s);
		return;
	}
	if (s->nrcpt >= s->conf->rcpt_max) {
		reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	for (i = 0; i < s->nrcpt; i++) {
		if (rcpt_same(s->rcpts[i], path.addr, path.at)) {
			reply(s, "250 2.1.5 Ok");
			return;		/* duplicate: deliver once */
		}
	}
	s->rcpts = xrealloc(s->rcpts, (s->nrcpt + 1) * sizeof(*s->rcpts));
	s->rcpts[s->nrcpt++] = xstrndup(path.addr, path.addr_len);
	session_set_state(s, SMTP_STATE_RCPT);
	reply(s, "250 2.1.5 Ok");
}

int
smtp_received_header(struct buf *out, const char *helo,
    const char *client_addr, const char *hostname, const char *proto,
    const char *tls_protocol, const char *tls_cipher, int bits,
    const char *queue_id, const char *rcpt_if_single, long long now)
{
	char date[64];
	time_t t = (time_t)now;
	struct tm tm;
	int r = 0;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	r |= buf_printf(out, "Received: from %s ([%s])\r\n\tby %s (sealgate) "
	    "with %s", helo, client_addr, hostname, proto);
	if (tls_protocol != NULL)
		r |= buf_printf(out, "\r\n\t(using %s with cipher %s "
		    "(%d bits))", tls_protocol, tls_cipher, bits);
	r |= buf_printf(out, "\r\n\tid %s", queue_id);
	if (rcpt_if_single != NULL)
		r |= buf_printf(out, "\r\n\tfor <%s>", rcpt_if_single);
	r |= buf_printf(out, "; %s\r\n", date);
	return r ? -1 : 0;
}

static void
cmd_data(struct smtp_session *s, const struct smtp_cmd *c)
{
	const char *proto;

	if (s->state != SMTP_STATE_RCPT) {
		if (s->state == SMTP_STATE_MAIL)
			reply(s, "554 5.5.1 Error: no valid recipients");
		else
			reply(s, "503 5.5.1 Error: need RCPT command");
		count_error(s);
		return;
	}
	if (trim(c->args).len != 0) {
		reply(s, "501 5.5.4 Syntax: DATA");
		count_error(s);
		return;
	}
	if (queue_id_new(s->queue_id) < 0) {
		reply(s, "451 4.3.0 Error: no queue id, try again");
		return;
	}
	proto = s->esmtp ? (s->tls ? (s->authenticated ? "ESMTPSA" : "ESMTPS")
	    : (s->authenticated ? "ESMTPA" : "ESMTP")) : "SMTP";
	buf_reset(&s->msg);
	if (smtp_received_header(&s->msg, s->helo, s->client->addr,
	    s->conf->hostname, proto, s->tls ? s->tls_protocol : NULL,
	    s->tls_cipher, s->tls_bits, s->queue_id,
	    s->nrcpt == 1 ? s->rcpts[0] : NULL, session_now(s)) < 0) {
		reply(s, "451 4.3.0 Error: internal error");
		return;
	}
	s->hdr_prefix = s->msg.len;
	smtp_data_reset(s->data);
	session_set_state(s, SMTP_STATE_DATA);
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* has_message_id - is there a Message-ID: field in the header section? */
static int
has_message_id(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *eol = memchr(p + i, '\n', len - i);
		size_t ll = eol ? (size_t)(eol - (p + i)) : len - i;
		if (ll == 0 || (ll == 1 && p[i] == '\r'))
			return 0;	/* end of header section */
		if (ll >= 11 && strncasecmp(p + i, "Message-ID:", 11) == 0)
			return 1;
		if (eol == NULL)
			break;
		i += ll + 1;
	}
	return 0;
}

/* data_finish - the end-of-data line was seen: check, then commit */
static enum smtp_action
data_finish(struct smtp_session *s)
{
	unsigned e = smtp_data_errors(s->data);

	if (s->conf->reject_8bit_headers)
		e |= smtp_data_8bit_headers(s->data) ? SMTP_DATA_E_8BIT_HDR : 0;
	else
		e &= ~(unsigned)SMTP_DATA_E_8BIT_HDR;
	if (e != 0) {
		if (e & SMTP_DATA_E_TOO_BIG)
			reply(s, "552 5.3.4 Error: message file too big");
		else if (e & (SMTP_DATA_E_BARE_LF | SMTP_DATA_E_BARE_CR))
			reply(s, "550 5.6.11 Error: bare <%s> received in "
			    "message; lines must end with <CR><LF>",
			    e & SMTP_DATA_E_BARE_LF ? "LF" : "CR");
		else if (e & SMTP_DATA_E_LINE_TOO_LONG)
			reply(s, "500 5.5.2 Error: message text line longer "
			    "than %d octets", SG_SMTP_TEXT_LINE_MAX);
		else if (e & SMTP_DATA_E_NUL)
			reply(s, "554 5.6.0 Error: NUL character in message");
		else
			reply(s, "554 5.6.7 Error: 8-bit header without "
			    "SMTPUTF8");
		txn_reset(s);
		session_set_state(s, SMTP_STATE_HELO);
		return SMTP_ACT_NONE;
	}
	if (!has_message_id(s->msg.data + s->hdr_prefix,
	    s->msg.len - s->hdr_prefix)) {
		struct buf mid;
		buf_init(&mid, 512);
		(void)buf_printf(&mid, "Message-ID: <%s@%s>\r\n", s->queue_id,
		    s->conf->hostname);
		/* insert right after our Received: header */
		if (buf_append(&s->msg, mid.data, mid.len) == 0) {
			memmove(s->msg.data + s->hdr_prefix + mid.len,
			    s->msg.data + s->hdr_prefix,
			    s->msg.len - mid.len - s->hdr_prefix);
			memcpy(s->msg.data + s->hdr_prefix, mid.data, mid.len);
		}
		buf_free(&mid);
	}
	s->txn.queue_id = s->queue_id;
	s->txn.mail_from = s->mail_from;
	s->txn.mail_params = s->mail_params;
	s->txn.body_type = s->body_8bit ? "8BITMIME" : "7BIT";
	s->txn.requiretls = s->requiretls;
	s->txn.rcpts = (const char *const *)s->rcpts;
	s->txn.nrcpt = s->nrcpt;
	s->txn.data = buf_cstr(&s->msg);
	s->txn.len = s->msg.len;
	s->txn.helo = s->helo;
	s->txn.auth_user = s->authenticated ? s->authed_as : NULL;
	s->txn.tls_protocol = s->tls ? s->tls_protocol : NULL;
	s->txn.tls_cipher = s->tls ? s->tls_cipher : NULL;
	s->txn.tls_bits = s->tls_bits;
	s->resume = SMTP_STATE_HELO;
	s->pending = SMTP_ACT_COMMIT;
	session_set_state(s, SMTP_STATE_WAIT);
	return SMTP_ACT_COMMIT;
}

const struct smtp_txn *
smtp_session_txn(const struct smtp_session *s)
{
	return &s->txn;
}

void
smtp_session_commit_done(struct smtp_session *s, int result)
{
	ASSERT(s->state == SMTP_STATE_WAIT && s->pending == SMTP_ACT_COMMIT);
	s->pending = SMTP_ACT_NONE;
	if (result == 0)
		reply(s, "250 2.0.0 Ok: queued as %s", s->queue_id);
	else if (result == -1)
		reply(s, "451 4.3.0 Error: queue write failed, try again "
		    "later");
	else
		reply(s, "554 5.3.0 Error: message not accepted");
	txn_reset(s);
	session_set_state(s, SMTP_STATE_HELO);
}

/* --- dispatch ------------------------------------------------------------ */

static enum smtp_action
dispatch(struct smtp_session *s, const struct smtp_cmd *c)
{
	if (s->conf->require_tls && !s->tls &&
	    !(smtp_verb_flags(c->verb) & SMTP_CMDF_PRE_TLS) &&
	    c->verb != SMTP_VERB_UNKNOWN) {
		reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		count_error(s);
		return SMTP_ACT_NONE;
	}
	switch (c->verb) {
	case SMTP_VERB_EHLO:
		cmd_helo(s, c, 1);
		break;
	case SMTP_VERB_HELO:
		cmd_helo(s, c, 0);
		break;
	case SMTP_VERB_STARTTLS:
		return cmd_starttls(s, c);
	case SMTP_VERB_AUTH:
		return cmd_auth(s, c);
	case SMTP_VERB_MAIL:
		cmd_mail(s, c);
		break;
	case SMTP_VERB_RCPT:
		cmd_rcpt(s, c);
		break;
	case SMTP_VERB_DATA:
		cmd_data(s, c);
		break;
	case SMTP_VERB_RSET:
		if (trim(c->args).len != 0) {
			reply(s, "501 5.5.4 Syntax: RSET");
			count_error(s);
			break;
		}
		txn_reset(s);
		if (s->state != SMTP_STATE_INIT)
			session_set_state(s, SMTP_STATE_HELO);
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_VERB_NOOP:
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_VERB_QUIT:
		reply(s, "221 2.0.0 Bye");
		session_set_state(s, SMTP_STATE_CLOSED);
		return SMTP_ACT_CLOSE;
	case SMTP_VERB_VRFY:
		if (trim(c->args).len == 0) {
			reply(s, "501 5.5.4 Syntax: VRFY address");
			count_error(s);
			break;
		}
		reply(s, "252 2.5.2 Cannot VRFY user, but will accept "
		    "message and attempt delivery");
		break;
	case SMTP_VERB_EXPN:
		reply(s, "502 5.5.1 Error: EXPN not available");
		break;
	case SMTP_VERB_HELP:
		reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET "
		    "NOOP QUIT VRFY HELP STARTTLS AUTH");
		break;
	case SMTP_VERB_BDAT:
		reply(s, "502 5.5.1 Error: command not implemented");
		count_error(s);
		break;
	default:
		reply(s, "500 5.5.2 Error: command not recognized");
		count_error(s);
		break;
	}
	return s->state == SMTP_STATE_CLOSED ? SMTP_ACT_CLOSE : SMTP_ACT_NONE;
}

static void
cmd_error(struct smtp_session *s, enum smtp_cmd_err e)
{
	switch (e) {
	case SMTP_CMD_E_TOO_LONG:
		reply(s, "500 5.5.2 Error: line too long");
		break;
	case SMTP_CMD_E_NUL:
		reply(s, "500 5.5.2 Error: NUL character in command");
		break;
	default:
		reply(s, "500 5.5.2 Error: bad syntax");
		break;
	}
	count_error(s);
}

enum smtp_action
smtp_session_run(struct smtp_session *s)
{
	size_t used;
	int r;

	for (;;) {
		if (s->state == SMTP_STATE_CLOSED)
			return SMTP_ACT_CLOSE;
		if (s->state == SMTP_STATE_WAIT)
			return SMTP_ACT_NONE;
		/* back-pressure: a client that does not read its replies */
		if (s->out.len > s->out.max / 2)
			return SMTP_ACT_NONE;
		if (s->in.len == 0)
			return SMTP_ACT_NONE;

		if (s->state == SMTP_STATE_DATA) {
			r = smtp_data_feed(s->data, s->in.data, s->in.len,
			    &used, &s->msg);
			buf_consume(&s->in, used);
			if (r == 1) {
				enum smtp_action a = data_finish(s);
				if (a != SMTP_ACT_NONE)
					return a;
			}
			continue;
		}
		if (s->state == SMTP_STATE_AUTH) {
			struct slice line;
			enum smtp_cmd_err e;
			r = smtp_line_take(s->cmd, s->in.data, s->in.len,
			    SG_SMTP_AUTH_LINE_MAX, &used, &line, &e);
			if (r == 1) {
				enum smtp_action a;
				buf_consume(&s->in, used);
				if ((smtp_cmd_line_flags(s->cmd) &
				    SMTP_CMD_F_BARE_LF) &&
				    s->conf->bare_lf == SMTP_DATA_BARE_REJECT) {
					auth_reset(s);
					session_set_state(s, SMTP_STATE_HELO);
					reply(s, "500 5.5.2 Error: bare <LF> "
					    "received");
					count_error(s);
					continue;
				}
				a = auth_line(s, line);
				if (a != SMTP_ACT_NONE)
					return a;
				continue;
			}
			buf_consume(&s->in, used);
			if (r < 0) {
				auth_reset(s);
				session_set_state(s, SMTP_STATE_HELO);
				cmd_error(s, e);
			}
			continue;
		}

		{
			struct smtp_cmd c;
			enum smtp_cmd_err e;
			enum smtp_action a;

			r = smtp_cmd_next(s->cmd, s->in.data, s->in.len, &used,
			    &c, &e);
			if (r == 0) {
				buf_consume(&s->in, used);
				continue;
			}
			if (r < 0) {
				buf_consume(&s->in, used);
				cmd_error(s, e);
				continue;
			}
			if ((c.flags & SMTP_CMD_F_BARE_LF) &&
			    s->conf->bare_lf == SMTP_DATA_BARE_REJECT) {
				buf_consume(&s->in, used);
				reply(s, "500 5.5.2 Error: bare <LF> received");
				count_error(s);
				continue;
			}
			/* the command's slices live in the parser, not s->in;
			 * STARTTLS empties s->in, so consume first */
			buf_consume(&s->in, used);
			a = dispatch(s, &c);
			if (a != SMTP_ACT_NONE)
				return a;
		}
	}
}

enum smtp_action
smtp_session_timeout(struct smtp_session *s)
{
	reply(s, "421 4.4.2 %s Error: timeout exceeded", s->conf->hostname);
	session_set_state(s, SMTP_STATE_CLOSED);
	return SMTP_ACT_CLOSE;
}

enum smtp_action
smtp_session_shutdown(struct smtp_session *s)
{
	reply(s, "421 4.3.2 %s Service shutting down", s->conf->hostname);
	session_set_state(s, SMTP_STATE_CLOSED);
	return SMTP_ACT_CLOSE;
}
