/*
 * fuzz_smtp_reply.c - libFuzzer target for smtp_reply_next(),
 * smtp_reply_discard(), smtp_reply_has_ext() and smtp_reply_ext(): the
 * delivery client's view of a hostile MX.
 *
 * Input: byte 0 picks whether to discard the parser's partial line after
 * each "220" reply (as the client does after STARTTLS); bytes 1-2 pick a
 * split point; the rest is what the server sends. The stream is parsed
 * whole, split in two at that point, and (when short) one byte at a
 * time: all three must give the same replies and the same error, and
 * every reply must keep the contract (bounds, code range, enhanced code
 * of the reply's class, text a NUL-terminated prefix, extension
 * parameters inside the text with no line break).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp_reply.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static const char *const kws[] = {
	"STARTTLS", "SIZE", "PIPELINING", "8BITMIME", "REQUIRETLS", "AUTH",
};

static void
rec(struct buf *tr, const void *p, size_t n)
{
	CHECK(buf_append(tr, &n, sizeof(n)) == 0);
	CHECK(buf_append(tr, p, n) == 0);
}

static int
isdig(char c)
{
	return c >= '0' && c <= '9';
}

static void
check_reply(const struct smtp_reply *r, struct buf *tr)
{
	struct slice s;
	const char *param;
	size_t i, n;
	int has;

	CHECK(r->code >= 200 && r->code <= 599);
	CHECK(r->nlines >= 1 && r->nlines <= SMTP_REPLY_LINES_MAX);
	CHECK(r->text.len <= SMTP_REPLY_TEXT_MAX);
	CHECK(buf_cstr(&r->text)[r->text.len] == '\0');
	n = strnlen(r->enhanced, sizeof(r->enhanced));
	CHECK(n < sizeof(r->enhanced));
	if (n > 0) {
		CHECK(r->enhanced[0] - '0' == r->code / 100);
		CHECK(r->enhanced[1] == '.');
		CHECK(r->text.len >= n &&
		    memcmp(r->text.data, r->enhanced, n) == 0);
		for (i = 0; i < n; i++)
			CHECK(isdig(r->enhanced[i]) || r->enhanced[i] == '.');
	}
	rec(tr, &r->code, sizeof(r->code));
	rec(tr, &r->nlines, sizeof(r->nlines));
	rec(tr, r->enhanced, n);
	rec(tr, buf_cstr(&r->text), r->text.len);
	for (i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
		has = smtp_reply_ext(r, kws[i], &s);
		CHECK(has == smtp_reply_has_ext(r, kws[i], &param));
		if (!has)
			continue;
		CHECK(s.ptr == param);
		CHECK(s.len == 0 || (s.ptr >= r->text.data &&
		    s.ptr + s.len <= r->text.data + r->text.len));
		CHECK(memchr(s.ptr, '\n', s.len) == NULL);
		rec(tr, kws[i], strlen(kws[i]));
		rec(tr, s.ptr, s.len);
	}
}

/* feed - one chunk; -1 once the parser failed (never fed again) */
static int
feed(struct smtp_reply_parser *p, int discard, const char *in, size_t len,
    struct buf *tr)
{
	const struct smtp_reply *r;
	enum smtp_reply_err e;
	size_t off = 0, used;
	int rc;

	for (;;) {
		used = (size_t)-1;
		rc = smtp_reply_next(p, in + off, len - off, &used, &r, &e);
		CHECK(used <= len - off);
		off += used;
		if (rc == 0) {
			CHECK(off == len);
			CHECK(e == SMTP_REPLY_E_NONE);
			return 0;
		}
		if (rc < 0) {
			CHECK(e != SMTP_REPLY_E_NONE);
			rec(tr, "E", 1);
			rec(tr, &e, sizeof(e));
			return -1;
		}
		CHECK(rc == 1 && e == SMTP_REPLY_E_NONE);
		CHECK(used > 0);
		check_reply(r, tr);
		if (discard && r->code == 220) {
			/* after a complete reply nothing is held */
			CHECK(smtp_reply_discard(p) == 0);
		}
		if (off == len)
			return 0;
	}
}

static void
run(int discard, const char *in, size_t len, size_t split, size_t chunk,
    struct buf *tr)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	size_t off, n;

	if (chunk == 0) {
		if (feed(p, discard, in, split, tr) == 0)
			(void)feed(p, discard, in + split, len - split, tr);
	} else {
		for (off = 0; off < len; off += n) {
			n = len - off < chunk ? len - off : chunk;
			if (feed(p, discard, in + off, n, tr) < 0)
				break;
		}
	}
	smtp_reply_parser_free(&p);
	CHECK(p == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole, split, trickle;
	const char *in;
	size_t len, k;
	int discard;

	if (size < 3)
		return 0;
	discard = data[0] & 1;
	k = (size_t)data[1] << 8 | data[2];
	in = (const char *)data + 3;
	len = size - 3;
	if (k > len)
		k = len;

	buf_init(&whole, 1 << 26);
	buf_init(&split, 1 << 26);
	buf_init(&trickle, 1 << 26);
	run(discard, in, len, len, 0, &whole);
	run(discard, in, len, k, 0, &split);
	CHECK(whole.len == split.len &&
	    (whole.len == 0 || memcmp(whole.data, split.data, whole.len) == 0));
	if (len <= 4096) {
		run(discard, in, len, 0, 1, &trickle);
		CHECK(whole.len == trickle.len && (whole.len == 0 ||
		    memcmp(whole.data, trickle.data, whole.len) == 0));
	}
	buf_free(&whole);
	buf_free(&split);
	buf_free(&trickle);
	return 0;
}
