/*
 * test_smtp_session.c - the SMTP session state machine driven by
 * transcripts, each run whole and one byte at a time ("trickle").
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "smtp_session.h"

#define USER "alice"
#define PASS "s3cret pass"

struct result {
	struct buf out;			/* all replies */
	int ncommit;
	char data[8][4096];		/* committed messages */
	char from[8][300];
	size_t nrcpt[8];
	int requiretls[8];
	int closed;
	int tls;
};

static struct smtp_session_conf base_conf = {
	.hostname = "mx.test",
	.msg_max = 2000,
	.rcpt_max = 3,
	.error_max = 10,
	.tls_available = 1,
	.auth_enabled = 1,
	.require_tls = 0,
	.bare_lf = SMTP_DATA_BARE_REJECT,
	.reject_8bit_headers = 0,
	.fixed_now = 1700000000,
};

/* mask_id - copy a message with its (random) queue id replaced by Q */
static void
mask_id(char *dst, size_t dstsz, const char *src, size_t len, const char *id)
{
	size_t o = 0, i = 0, idl = strlen(id);

	while (i < len && o + 1 < dstsz) {
		if (i + idl <= len && memcmp(src + i, id, idl) == 0) {
			dst[o++] = 'Q';
			i += idl;
		} else {
			dst[o++] = src[i++];
		}
	}
	dst[o] = '\0';
}

/* handle - carry out the session's action the way ingress would */
static void
handle(struct smtp_session *s, enum smtp_action a, struct result *r)
{
	while (a != SMTP_ACT_NONE && a != SMTP_ACT_CLOSE) {
		if (a == SMTP_ACT_STARTTLS) {
			r->tls = 1;
			smtp_session_tls_done(s, "TLSv1.3",
			    "TLS_AES_256_GCM_SHA384", 256);
		} else if (a == SMTP_ACT_AUTH) {
			const char *u, *p;
			size_t pl;
			smtp_session_auth_creds(s, &u, &p, &pl);
			smtp_session_auth_done(s, strcmp(u, USER) == 0 &&
			    pl == strlen(PASS) && memcmp(p, PASS, pl) == 0);
		} else if (a == SMTP_ACT_COMMIT) {
			const struct smtp_txn *t = smtp_session_txn(s);
			int k = r->ncommit++;
			assert_true(k < 8);
			mask_id(r->data[k], sizeof(r->data[k]), t->data,
			    t->len, t->queue_id);
			snprintf(r->from[k], sizeof(r->from[k]), "%s",
			    t->mail_from);
			r->nrcpt[k] = t->nrcpt;
			r->requiretls[k] = t->requiretls;
			smtp_session_commit_done(s, 0);
		}
		a = smtp_session_run(s);
	}
	if (a == SMTP_ACT_CLOSE)
		r->closed = 1;
}

static void
drain(struct smtp_session *s, struct result *r)
{
	struct buf *o = smtp_session_output(s);
	assert_int_equal(buf_append(&r->out, o->data ? o->data : "", o->len), 0);
	buf_consume(o, o->len);
}

/* feed - give the session input in chunks of at most step bytes */
static void
feed(struct smtp_session *s, const char *in, size_t len, size_t step,
    struct result *r)
{
	size_t off = 0;

	while (off < len && !r->closed) {
		size_t n = len - off < step ? len - off : step;
		size_t room = smtp_session_input_room(s);
		if (n > room)
			n = room;
		assert_true(n > 0);
		assert_int_equal(smtp_session_input(s, in + off, n), 0);
		off += n;
		handle(s, smtp_session_run(s), r);
		drain(s, r);
	}
}

/*
 * feed_segments - a real client waits for "220 Ready" before it starts
 * the handshake, so input after each STARTTLS line is given only after
 * the session has carried the STARTTLS out.
 */
static void
feed_segments(struct smtp_session *s, const char *in, size_t len,
    size_t step, struct result *r)
{
	static const char st[] = "STARTTLS\r\n";

	while (len > 0 && !r->closed) {
		const char *p = memmem(in, len, st, sizeof(st) - 1);
		size_t n = p ? (size_t)(p - in) + sizeof(st) - 1 : len;
		feed(s, in, n, step, r);
		in += n;
		len -= n;
	}
}

static void
run_transcript(const struct smtp_session_conf *conf, int relay,
    const char *in, size_t len, size_t step, struct result *r)
{
	struct smtp_client_facts f = { "192.0.2.7", relay };
	struct smtp_session *s = smtp_session_new(conf, &f);

	memset(r, 0, sizeof(*r));
	buf_init(&r->out, 1 << 20);
	drain(s, r);
	feed_segments(s, in, len, step, r);
	smtp_session_free(&s);
}

/*
 * expect - run the transcript whole and trickled; check that the reply
 * lines begin, in order, with the '\n'-separated prefixes in want.
 */
static void
expect(const struct smtp_session_conf *conf, int relay, const char *in,
    size_t len, const char *want, struct result *whole)
{
	size_t steps[] = { (size_t)-1, 1, 7 };
	struct result r;
	size_t k;

	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		const char *w = want, *o;
		struct result *rr = k == 0 ? whole : &r;

		run_transcript(conf, relay, in, len, steps[k], rr);
		o = buf_cstr(&rr->out);
		while (*w != '\0') {
			const char *wend = strchr(w, '\n');
			size_t wl = wend ? (size_t)(wend - w) : strlen(w);
			const char *oend = strstr(o, "\r\n");
			if (oend == NULL)
				fail_msg("step %zu: got no more replies, want "
				    "'%.*s'", steps[k], (int)wl, w);
			if ((size_t)(oend - o) < wl || memcmp(o, w, wl) != 0)
				fail_msg("step %zu: got '%.*s', want '%.*s'",
				    steps[k], (int)(oend - o), o, (int)wl, w);
			o = oend + 2;
			w = wend ? wend + 1 : w + wl;
		}
		if (*o != '\0')
			fail_msg("step %zu: got extra replies '%s'", steps[k],
			    o);
		if (k > 0) {
			assert_int_equal(r.ncommit, whole->ncommit);
			for (int i = 0; i < r.ncommit; i++)
				assert_string_equal(r.data[i], whole->data[i]);
			buf_free(&r.out);
		}
	}
}

#define S(x) x, sizeof(x) - 1
#define ENV "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\n"
#define EHLO_PLAIN "220 mx.test ESMTP\n250-mx.test\n250-PIPELINING\n" \
	"250-SIZE 2000\n250-STARTTLS\n250-ENHANCEDSTATUSCODES\n250 8BITMIME"
#define ENV_REPLIES EHLO_PLAIN "\n250 2.1.0\n250 2.1.5"

static void
test_basic_transaction(void **state)
{
	struct result r;

	expect(&base_conf, 1, S(ENV "DATA\r\nSubject: hi\r\n\r\nbody\r\n"
	    ".\r\nQUIT\r\n"), ENV_REPLIES "\n354 \n250 2.0.0 Ok: queued as "
	    "\n221 2.0.0", &r);
	assert_int_equal(r.ncommit, 1);
	assert_true(r.closed);
	assert_string_equal(r.from[0], "a@b.test");
	assert_non_null(strstr(r.data[0], "Received: from c.test "
	    "([192.0.2.7])\r\n\tby mx.test (sealgate) with ESMTP\r\n"));
	assert_non_null(strstr(r.data[0], "\r\nMessage-ID: <"));
	assert_non_null(strstr(r.data[0], "Subject: hi\r\n\r\nbody\r\n"));
	/* nothing after the body: the end marker is not part of it */
	assert_string_equal(r.data[0] + strlen(r.data[0]) - 6, "body\r\n");
	buf_free(&r.out);
}

static void
test_message_id_kept(void **state)
{
	struct result r;

	expect(&base_conf, 1, S(ENV "DATA\r\nMessage-Id: <m1@c.test>\r\n\r\n"
	    "x\r\n.\r\n"), ENV_REPLIES "\n354 \n250 2.0.0", &r);
	assert_null(strstr(r.data[0], "Message-ID: <"));
	assert_non_null(strstr(r.data[0], "Message-Id: <m1@c.test>"));
	buf_free(&r.out);
}

static void
test_dot_unstuffing(void **state)
{
	struct result r;

	expect(&base_conf, 1, S(ENV "DATA\r\nS: a\r\n\r\n..x\r\n..\r\n.\r\n"),
	    ENV_REPLIES "\n354 \n250 2.0.0", &r);
	assert_non_null(strstr(r.data[0], "\r\n\r\n.x\r\n.\r\n"));
	buf_free(&r.out);
}

static void
test_starttls_then_auth_caps(void **state)
{
	struct result r;

	expect(&base_conf, 1, S("EHLO c.test\r\nSTARTTLS\r\nEHLO c.test\r\n"),
	    EHLO_PLAIN "\n220 2.0.0 Ready to start TLS\n250-mx.test\n"
	    "250-PIPELINING\n250-SIZE 2000\n250-AUTH PLAIN LOGIN\n"
	    "250-REQUIRETLS\n250-ENHANCEDSTATUSCODES\n250 8BITMIME", &r);
	assert_true(r.tls);
	buf_free(&r.out);
}

/* CVE-2011-0411: commands pipelined after STARTTLS are thrown away */
static void
test_starttls_injection(void **state)
{
	struct result r;
	struct smtp_client_facts f = { "192.0.2.7", 1 };
	struct smtp_session *s = smtp_session_new(&base_conf, &f);
	const char *inj = "EHLO c.test\r\nSTARTTLS\r\nMAIL FROM:<evil@x>\r\n"
	    "RCPT TO:<v@y>\r\n";

	memset(&r, 0, sizeof(r));
	buf_init(&r.out, 65536);
	assert_int_equal(smtp_session_input(s, inj, strlen(inj)), 0);
	assert_int_equal(smtp_session_run(s), SMTP_ACT_STARTTLS);
	drain(s, &r);
	assert_non_null(strstr(buf_cstr(&r.out),
	    "220 2.0.0 Ready to start TLS\r\n"));
	assert_null(strstr(buf_cstr(&r.out), "250 2.1.0"));
	smtp_session_tls_done(s, "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256);
	assert_int_equal(smtp_session_run(s), SMTP_ACT_NONE);
	drain(s, &r);
	/* the injected MAIL did not run; the session wants EHLO again */
	assert_null(strstr(buf_cstr(&r.out), "250 2.1.0"));
	buf_reset(&r.out);
	feed(s, S("MAIL FROM:<a@b.test>\r\n"), 1000, &r);
	assert_string_equal(buf_cstr(&r.out),
	    "503 5.5.1 Error: send HELO/EHLO first\r\n");
	smtp_session_free(&s);
	buf_free(&r.out);
}

static void
test_relay_denied_then_auth(void **state)
{
	struct result r;
	/* base64("\0alice\0s3cret pass") */
	expect(&base_conf, 0, S("EHLO c\r\nMAIL FROM:<a@b.test>\r\n"
	    "RCPT TO:<x@y.test>\r\nAUTH PLAIN AGFsaWNlAHMzY3JldCBwYXNz\r\n"
	    "RSET\r\nSTARTTLS\r\nEHLO c\r\n"
	    "AUTH PLAIN AGFsaWNlAHdyb25n\r\n"
	    "AUTH PLAIN AGFsaWNlAHMzY3JldCBwYXNz\r\n"
	    "MAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\n"),
	    "220 \n250-mx.test\n250-PIPELINING\n250-SIZE\n250-STARTTLS\n"
	    "250-ENHANCED\n250 8BITMIME\n250 2.1.0\n"
	    "554 5.7.1 <x@y.test>: Relay access denied\n"
	    "530 5.7.0 Must issue a STARTTLS command first\n250 2.0.0\n"
	    "220 2.0.0\n250-mx.test\n250-PIPELINING\n250-SIZE\n250-AUTH\n"
	    "250-REQUIRETLS\n250-ENHANCED\n250 8BITMIME\n"
	    "535 5.7.8\n235 2.7.0\n250 2.1.0\n250 2.1.5", &r);
	buf_free(&r.out);
}

static void
test_auth_login(void **state)
{
	struct result r;

	expect(&base_conf, 0, S("EHLO c\r\nSTARTTLS\r\nEHLO c\r\nAUTH LOGIN\r\n"
	    "YWxpY2U=\r\nczNjcmV0IHBhc3M=\r\nAUTH LOGIN\r\n"),
	    "220 \n250-\n250-\n250-\n250-\n250-\n250 \n220 2.0.0\n250-\n250-\n"
	    "250-\n250-AUTH\n250-\n250-\n250 \n334 VXNlcm5hbWU6\n"
	    "334 UGFzc3dvcmQ6\n235 2.7.0\n503 5.5.1", &r);
	buf_free(&r.out);
}

static void
test_auth_abort_and_garbage(void **state)
{
	struct result r;

	expect(&base_conf, 1, S("EHLO c\r\nSTARTTLS\r\nEHLO c\r\nAUTH PLAIN\r\n"
	    "*\r\nAUTH PLAIN !!!!\r\nAUTH CRAM-MD5\r\n"),
	    "220 \n250-\n250-\n250-\n250-\n250-\n250 \n220 2.0.0\n250-\n250-\n"
	    "250-\n250-AUTH\n250-\n250-\n250 \n334 \n501 5.0.0\n501 5.5.2\n"
	    "504 5.5.4", &r);
	buf_free(&r.out);
}

static void
test_out_of_order(void **state)
{
	struct result r;

	expect(&base_conf, 1, S("MAIL FROM:<a@b>\r\nEHLO c\r\nRCPT TO:<x@y>\r\n"
	    "DATA\r\nMAIL FROM:<a@b>\r\nDATA\r\nMAIL FROM:<a@b>\r\n"),
	    "220 \n503 5.5.1\n250-\n250-\n250-\n250-\n250-\n250 \n503 5.5.1\n"
	    "503 5.5.1\n250 2.1.0\n554 5.5.1\n503 5.5.1", &r);
	buf_free(&r.out);
}

static void
test_too_many_recipients(void **state)
{
	struct result r;

	expect(&base_conf, 1, S("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<1@y>\r\n"
	    "RCPT TO:<2@y>\r\nRCPT TO:<3@y>\r\nRCPT TO:<4@y>\r\n"
	    "DATA\r\n\r\nx\r\n.\r\n"),
	    "220 \n250-\n250-\n250-\n250-\n250-\n250 \n250 2.1.0\n250 2.1.5\n"
	    "250 2.1.5\n250 2.1.5\n452 4.5.3\n354 \n250 2.0.0", &r);
	assert_int_equal(r.nrcpt[0], 3);
	buf_free(&r.out);
}

/* local parts are case-sensitive (RFC 5321 2.4), domains are not */
static void
test_rcpt_dedupe_case(void **state)
{
	struct result r;
	struct smtp_session_conf c = base_conf;

	c.rcpt_max = 10;
	expect(&c, 1, S("EHLO c\r\nMAIL FROM:<a@b>\r\n"
	    "RCPT TO:<Alice@example.com>\r\nRCPT TO:<alice@example.com>\r\n"
	    "RCPT TO:<alice@EXAMPLE.com>\r\nDATA\r\n\r\nx\r\n.\r\n"),
	    "220 \n250-\n250-\n250-\n250-\n250-\n250 \n250 2.1.0\n250 2.1.5\n"
	    "250 2.1.5\n250 2.1.5\n354 \n250 2.0.0", &r);
	assert_int_equal(r.nrcpt[0], 2);
	buf_free(&r.out);
}

static void
test_size_limits(void **state)
{
	struct result r;
	struct buf big;
	int i;

	expect(&base_conf, 1, S("EHLO c\r\nMAIL FROM:<a@b> SIZE=2001\r\n"
	    "MAIL FROM:<a@b> SIZE=2000\r\n"),
	    "220 \n250-\n250-\n250-\n250-\n250-\n250 \n552 5.3.4\n250 2.1.0",
	    &r);
	buf_free(&r.out);

	/* an actual message over the limit: 552 after DATA, nothing queued */
	buf_init(&big, 1 << 20);
	buf_append_str(&big, ENV "DATA\r\n");
	for (i = 0; i < 30; i++)
		buf_append_str(&big, "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789\r\n");
	buf_append_str(&big, ".\r\nNOOP\r\n");
	expect(&base_conf, 1, big.data, big.len, ENV_REPLIES "\n354 \n"
	    "552 5.3.4\n250 2.0.0 Ok", &r);
	assert_int_equal(r.ncommit, 0);
	buf_free(&r.out);
	buf_free(&big);
}

static void
test_line_limits(void **state)
{
	struct result r;
	struct buf b;

	/* a command line of exactly 512 octets incl. CRLF is fine */
	buf_init(&b, 8192);
	buf_append_str(&b, "NOOP ");
	while (b.len < 510)
		buf_append_char(&b, 'x');
	buf_append_str(&b, "\r\nNOOP ");
	while (b.len < 512 + 511)
		buf_append_char(&b, 'y');
	buf_append_str(&b, "\r\nNOOP\r\n");
	expect(&base_conf, 1, b.data, b.len, "220 \n250 2.0.0\n500 5.5.2\n"
	    "250 2.0.0", &r);
	buf_free(&r.out);

	/* a text line of 1001 octets: 500-class after DATA, nothing queued */
	buf_reset(&b);
	buf_append_str(&b, ENV "DATA\r\n");
	while (b.len < strlen(ENV "DATA\r\n") + 999)
		buf_append_char(&b, 'z');
	buf_append_str(&b, "\r\n.\r\n");
	expect(&base_conf, 1, b.data, b.len, ENV_REPLIES "\n354 \n500 5.5.2",
	    &r);
	assert_int_equal(r.ncommit, 0);
	buf_free(&r.out);
	buf_free(&b);
}

/* SMTP smuggling: only <CRLF>.<CRLF> ends data */
static void
test_smuggling(void **state)
{
	struct result r;
	struct smtp_session_conf c = base_conf;

	expect(&base_conf, 1, S(ENV "DATA\r\nSubject: a\r\n\r\nx\r\n.\n"
	    "MAIL FROM:<evil@z>\r\nRCPT TO:<v@y>\r\nDATA\r\nevil\r\n.\r\n"),
	    ENV_REPLIES "\n354 \n550 5.6.11", &r);
	assert_int_equal(r.ncommit, 0);
	buf_free(&r.out);

	/* normalized: one message, the would-be commands are its content */
	c.bare_lf = SMTP_DATA_BARE_NORMALIZE;
	expect(&c, 1, S(ENV "DATA\r\nSubject: a\r\n\r\nx\r\n.\n"
	    "MAIL FROM:<evil@z>\r\n.\r\n"), ENV_REPLIES "\n354 \n250 2.0.0",
	    &r);
	assert_int_equal(r.ncommit, 1);
	assert_non_null(strstr(r.data[0], "MAIL FROM:<evil@z>\r\n"));
	buf_free(&r.out);

	/* bare CR variants */
	expect(&base_conf, 1, S(ENV "DATA\r\nS: a\r\n\r\nx\r.\r\nQUIT\r\n"
	    ".\r\n"), ENV_REPLIES "\n354 \n550 5.6.11", &r);
	assert_int_equal(r.ncommit, 0);
	buf_free(&r.out);
}

static void
test_nul_bytes(void **state)
{
	struct result r;
	static const char cmd[] = "EHLO c\r\nNO\0OP\r\nNOOP\r\n";
	static const char data[] = ENV "DATA\r\nS: a\r\n\r\nx\0y\r\n.\r\n";

	expect(&base_conf, 1, cmd, sizeof(cmd) - 1, "220 \n250-\n250-\n250-\n"
	    "250-\n250-\n250 \n500 5.5.2\n250 2.0.0", &r);
	buf_free(&r.out);
	expect(&base_conf, 1, data, sizeof(data) - 1, ENV_REPLIES "\n354 \n"
	    "554 5.6.0", &r);
	assert_int_equal(r.ncommit, 0);
	buf_free(&r.out);
}

static void
test_misc_commands(void **state)
{
	struct result r;

	expect(&base_conf, 1, S("HELO c\r\nVRFY bob\r\nEXPN list\r\nHELP\r\n"
	    "NOOP\r\nRSET\r\nFOO\r\nBDAT 10\r\nMAIL FROM:<a@b> BODY=8BITMIME\r\n"
	    "MAIL FROM:<>\r\nRCPT TO:<>\r\nRCPT TO:<postmaster>\r\nQUIT\r\n"),
	    "220 \n250 mx.test\n252 2.5.2\n502 5.5.1\n214 2.0.0\n250 2.0.0\n"
	    "250 2.0.0\n500 5.5.2\n502 5.5.1\n555 5.5.4\n250 2.1.0\n501 5.1.3\n"
	    "250 2.1.5\n221 2.0.0", &r);
	assert_true(r.closed);
	buf_free(&r.out);
}

static void
test_bad_addresses(void **state)
{
	struct result r;

	expect(&base_conf, 1, S("EHLO c\r\nMAIL FROM:a@b\r\nMAIL FROM:<a@@b>\r\n"
	    "MAIL FROM:<a@b> FOO=1\r\nMAIL FROM:<a@b>\r\nRCPT TO:<x@-y>\r\n"),
	    "220 \n250-\n250-\n250-\n250-\n250-\n250 \n501 5.5.4\n501 5.1.7\n"
	    "555 5.5.4\n250 2.1.0\n501 5.1.3", &r);
	buf_free(&r.out);
}

static void
test_error_limit(void **state)
{
	struct result r;
	struct smtp_session_conf c = base_conf;

	c.error_max = 3;
	expect(&c, 1, S("X\r\nY\r\nZ\r\nNOOP\r\n"), "220 \n500 5.5.2\n"
	    "500 5.5.2\n500 5.5.2\n421 4.7.0", &r);
	assert_true(r.closed);
	buf_free(&r.out);
}

static void
test_requiretls(void **state)
{
	struct result r;

	expect(&base_conf, 1, S("EHLO c\r\nMAIL FROM:<a@b> REQUIRETLS\r\n"
	    "STARTTLS\r\n"), "220 \n250-\n250-\n250-\n250-\n250-\n250 \n"
	    "530 5.7.10\n220 2.0.0", &r);
	buf_free(&r.out);
	expect(&base_conf, 1, S("EHLO c\r\nSTARTTLS\r\nEHLO c\r\n"
	    "MAIL FROM:<a@b> REQUIRETLS\r\nRCPT TO:<x@y>\r\nDATA\r\n\r\nx\r\n"
	    ".\r\n"), "220 \n250-\n250-\n250-\n250-\n250-\n250 \n220 2.0.0\n"
	    "250-\n250-\n250-\n250-\n250-\n250-\n250 \n250 2.1.0\n250 2.1.5\n"
	    "354 \n250 2.0.0", &r);
	assert_int_equal(r.requiretls[0], 1);
	assert_non_null(strstr(r.data[0], "with ESMTPS\r\n\t(using TLSv1.3 "
	    "with cipher TLS_AES_256_GCM_SHA384 (256 bits))"));
	buf_free(&r.out);
}

static void
test_require_tls_policy(void **state)
{
	struct result r;
	struct smtp_session_conf c = base_conf;

	c.require_tls = 1;
	expect(&c, 1, S("EHLO c\r\nMAIL FROM:<a@b>\r\nNOOP\r\n"),
	    "220 \n250-\n250-\n250-\n250-\n250-\n250 \n530 5.7.0\n250 2.0.0",
	    &r);
	buf_free(&r.out);
}

static void
test_8bit_headers(void **state)
{
	struct result r;
	struct smtp_session_conf c = base_conf;

	expect(&base_conf, 1, S(ENV "DATA\r\nSubject: caf\xc3\xa9\r\n\r\nx\r\n"
	    ".\r\n"), ENV_REPLIES "\n354 \n250 2.0.0", &r);
	assert_non_null(strstr(r.data[0], "Subject: caf\xc3\xa9\r\n"));
	buf_free(&r.out);
	c.reject_8bit_headers = 1;
	expect(&c, 1, S(ENV "DATA\r\nSubject: caf\xc3\xa9\r\n\r\nx\r\n.\r\n"),
	    ENV_REPLIES "\n354 \n554 5.6.7", &r);
	assert_int_equal(r.ncommit, 0);
	buf_free(&r.out);
}

static void
test_timeout_and_shutdown(void **state)
{
	struct smtp_client_facts f = { "192.0.2.7", 1 };
	struct smtp_session *s = smtp_session_new(&base_conf, &f);
	struct buf *o;

	assert_int_equal(smtp_session_timeout(s), SMTP_ACT_CLOSE);
	o = smtp_session_output(s);
	assert_non_null(strstr(buf_cstr(o), "421 4.4.2 mx.test Error: "
	    "timeout exceeded\r\n"));
	assert_int_equal(smtp_session_input_room(s), 0);
	smtp_session_free(&s);
	s = smtp_session_new(&base_conf, &f);
	assert_int_equal(smtp_session_shutdown(s), SMTP_ACT_CLOSE);
	assert_non_null(strstr(buf_cstr(smtp_session_output(s)), "421 4.3.2"));
	smtp_session_free(&s);
}

static void
test_commit_tempfail(void **state)
{
	struct smtp_client_facts f = { "192.0.2.7", 1 };
	struct smtp_session *s = smtp_session_new(&base_conf, &f);
	const char *in = ENV "DATA\r\n\r\nx\r\n.\r\n";

	assert_int_equal(smtp_session_input(s, in, strlen(in)), 0);
	assert_int_equal(smtp_session_run(s), SMTP_ACT_COMMIT);
	/* waiting: no input taken, nothing else runs */
	assert_int_equal(smtp_session_input_room(s), 0);
	smtp_session_commit_done(s, -1);
	assert_non_null(strstr(buf_cstr(smtp_session_output(s)),
	    "451 4.3.0"));
	assert_int_equal(smtp_session_state(s), SMTP_STATE_HELO);
	smtp_session_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_transaction),
		cmocka_unit_test(test_message_id_kept),
		cmocka_unit_test(test_dot_unstuffing),
		cmocka_unit_test(test_starttls_then_auth_caps),
		cmocka_unit_test(test_starttls_injection),
		cmocka_unit_test(test_relay_denied_then_auth),
		cmocka_unit_test(test_auth_login),
		cmocka_unit_test(test_auth_abort_and_garbage),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_too_many_recipients),
		cmocka_unit_test(test_rcpt_dedupe_case),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_misc_commands),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_error_limit),
		cmocka_unit_test(test_requiretls),
		cmocka_unit_test(test_require_tls_policy),
		cmocka_unit_test(test_8bit_headers),
		cmocka_unit_test(test_timeout_and_shutdown),
		cmocka_unit_test(test_commit_tempfail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
