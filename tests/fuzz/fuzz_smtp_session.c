/*
 * fuzz_smtp_session.c - libFuzzer target for the whole SMTP session state
 * machine: random client bytes in random chunk sizes, random outcomes of
 * the actions (TLS, AUTH, commit). Invariants: no crash or leak; every
 * reply line is CRLF-terminated and starts with a 3-digit code; a commit
 * is only requested with at least one recipient and within the size cap;
 * after CLOSE the session takes no more input.
 *
 * Input: byte 0 = configuration bits, byte 1 = action-outcome seed, then
 * records of [chunk length byte][chunk bytes].
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "smtp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static void
check_output(struct buf *o)
{
	size_t i = 0;

	while (i < o->len) {
		const char *eol = memchr(o->data + i, '\n', o->len - i);
		size_t ll;
		CHECK(eol != NULL);
		ll = (size_t)(eol - (o->data + i));
		CHECK(ll >= 4 && o->data[i + ll - 1] == '\r');
		CHECK(o->data[i] >= '2' && o->data[i] <= '5');
		CHECK(o->data[i + 3] == ' ' || o->data[i + 3] == '-');
		i += ll + 1;
	}
	buf_consume(o, o->len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_session_conf conf = {
		.hostname = "mx.fuzz", .msg_max = 4096, .rcpt_max = 4,
		.error_max = 20, .fixed_now = 1700000000,
	};
	struct smtp_client_facts facts = { "192.0.2.1", 0 };
	struct smtp_session *s;
	unsigned seed;
	size_t off = 2;
	int closed = 0;

	if (size < 2)
		return 0;
	conf.tls_available = data[0] & 1;
	conf.auth_enabled = (data[0] >> 1) & 1;
	conf.require_tls = (data[0] >> 2) & 1;
	conf.bare_lf = (data[0] >> 3) & 1 ? SMTP_DATA_BARE_NORMALIZE :
	    SMTP_DATA_BARE_REJECT;
	conf.reject_8bit_headers = (data[0] >> 4) & 1;
	facts.relay_allowed = (data[0] >> 5) & 1;
	seed = data[1];

	s = smtp_session_new(&conf, &facts);
	check_output(smtp_session_output(s));
	while (off < size && !closed) {
		size_t n = data[off++], room;
		enum smtp_action a;

		if (n > size - off)
			n = size - off;
		room = smtp_session_input_room(s);
		if (n > room)
			n = room;
		if (n == 0 && room == 0)
			break;
		CHECK(smtp_session_input(s, (const char *)data + off, n) == 0);
		off += n;
		a = smtp_session_run(s);
		while (a != SMTP_ACT_NONE && a != SMTP_ACT_CLOSE) {
			seed = seed * 1103515245u + 12345u;
			if (a == SMTP_ACT_STARTTLS) {
				smtp_session_tls_done(s, "TLSv1.3",
				    "TLS_AES_256_GCM_SHA384", 256);
			} else if (a == SMTP_ACT_AUTH) {
				smtp_session_auth_done(s,
				    (int)((seed >> 16) % 3) - 1);
			} else {
				const struct smtp_txn *t = smtp_session_txn(s);
				CHECK(t->nrcpt >= 1 && t->nrcpt <= 4);
				CHECK(t->len <= conf.msg_max + 8192);
				smtp_session_commit_done(s,
				    -(int)((seed >> 16) % 3));
			}
			a = smtp_session_run(s);
		}
		check_output(smtp_session_output(s));
		if (a == SMTP_ACT_CLOSE) {
			closed = 1;
			CHECK(smtp_session_input_room(s) == 0);
		}
	}
	if (!closed) {
		(void)smtp_session_timeout(s);
		check_output(smtp_session_output(s));
	}
	smtp_session_free(&s);
	return 0;
}
