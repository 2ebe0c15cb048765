/*
 * fuzz_smtp_cmd.c - libFuzzer target for smtp_cmd_next() and
 * smtp_line_take().
 *
 * Input: byte 0 picks the line limit and whether lines after an AUTH
 * command are taken raw (as the session does); bytes 1-2 pick a split
 * point; the rest is the byte stream. The stream is parsed whole, split
 * in two at that point, and (when short) one byte at a time: all three
 * must give the same events, and every event must keep the contract
 * (progress, bounds, no CR/LF/NUL in a returned line).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp_cmd.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static const size_t line_maxes[] = { 512, 3, 8, 64 };

struct fz_conf {
	size_t line_max;
	size_t take_max;
	int take_after_auth;
};

struct fz_state {
	int take_next;		/* the next line is an AUTH continuation */
};

static void
rec(struct buf *tr, const void *p, size_t n)
{
	/* length-prefixed so records cannot run together */
	CHECK(buf_append(tr, &n, sizeof(n)) == 0);
	CHECK(buf_append(tr, p, n) == 0);
}

/* check_text - a returned slice: under the limit with at least its LF,
 * no CR, LF or NUL inside; nul_after: it ends the line */
static void
check_text(struct slice s, size_t max, int nul_after)
{
	CHECK(s.ptr != NULL);
	CHECK(s.len < max);
	CHECK(memchr(s.ptr, '\r', s.len) == NULL);
	CHECK(memchr(s.ptr, '\n', s.len) == NULL);
	CHECK(memchr(s.ptr, '\0', s.len) == NULL);
	if (nul_after)
		CHECK(s.ptr[s.len] == '\0');
}

/* feed - one chunk, until the parser asks for more */
static void
feed(struct smtp_cmd_parser *p, const struct fz_conf *c, struct fz_state *st,
    const char *in, size_t len, struct buf *tr)
{
	struct smtp_cmd cmd;
	struct slice line;
	enum smtp_cmd_err err;
	size_t off = 0, used, i;
	int r, take;

	for (;;) {
		take = c->take_after_auth && st->take_next;
		used = (size_t)-1;
		if (take)
			r = smtp_line_take(p, in + off, len - off, c->take_max,
			    &used, &line, &err);
		else
			r = smtp_cmd_next(p, in + off, len - off, &used, &cmd,
			    &err);
		CHECK(used <= len - off);
		off += used;
		if (r == 0) {
			CHECK(off == len);
			return;
		}
		CHECK(used > 0);
		CHECK(r == 1 || r == -1);
		if (r < 0) {
			CHECK(err != SMTP_CMD_E_NONE);
			rec(tr, "E", 1);
			rec(tr, &err, sizeof(err));
			st->take_next = 0;
			continue;
		}
		CHECK(err == SMTP_CMD_E_NONE);
		if (take) {
			check_text(line, c->take_max, 1);
			rec(tr, "L", 1);
			rec(tr, line.ptr, line.len);
			st->take_next = 0;
		} else {
			check_text(cmd.verb_text, c->line_max, 0);
			CHECK(cmd.verb_text.len > 0);
			for (i = 0; i < cmd.verb_text.len; i++) {
				unsigned char ch = (unsigned char)
				    cmd.verb_text.ptr[i];
				CHECK(ch > 0x20 && ch < 0x7f);
			}
			CHECK(cmd.args.ptr >= cmd.verb_text.ptr +
			    cmd.verb_text.len);
			check_text(cmd.args, c->line_max, 1);
			CHECK(cmd.verb == SMTP_VERB_UNKNOWN ||
			    slice_eq_ci(cmd.verb_text,
			    smtp_verb_name(cmd.verb)));
			CHECK(cmd.flags == smtp_cmd_line_flags(p));
			(void)smtp_verb_flags(cmd.verb);
			rec(tr, "C", 1);
			rec(tr, &cmd.verb, sizeof(cmd.verb));
			rec(tr, &cmd.flags, sizeof(cmd.flags));
			rec(tr, cmd.verb_text.ptr, cmd.verb_text.len);
			rec(tr, cmd.args.ptr, cmd.args.len);
			st->take_next = cmd.verb == SMTP_VERB_AUTH;
		}
	}
}

static void
run(const struct fz_conf *c, const char *in, size_t len, size_t split,
    size_t chunk, struct buf *tr)
{
	struct smtp_cmd_limits lim = { c->line_max };
	struct smtp_cmd_parser *p = smtp_cmd_parser_new(&lim);
	struct fz_state st = { 0 };
	size_t off, n;

	if (chunk == 0) {
		feed(p, c, &st, in, split, tr);
		feed(p, c, &st, in + split, len - split, tr);
	} else {
		for (off = 0; off < len; off += n) {
			n = len - off < chunk ? len - off : chunk;
			feed(p, c, &st, in + off, n, tr);
		}
	}
	smtp_cmd_parser_free(&p);
	CHECK(p == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_conf c;
	struct buf whole, split, trickle;
	const char *in;
	size_t len, k;

	if (size < 3)
		return 0;
	c.line_max = line_maxes[data[0] & 3];
	c.take_after_auth = (data[0] & 4) != 0;
	c.take_max = (data[0] & 8) ? 12288 : 16;
	k = (size_t)data[1] << 8 | data[2];
	in = (const char *)data + 3;
	len = size - 3;
	if (k > len)
		k = len;

	buf_init(&whole, 1 << 26);
	buf_init(&split, 1 << 26);
	buf_init(&trickle, 1 << 26);
	run(&c, in, len, len, 0, &whole);
	run(&c, in, len, k, 0, &split);
	CHECK(whole.len == split.len &&
	    (whole.len == 0 || memcmp(whole.data, split.data, whole.len) == 0));
	if (len <= 2048) {
		run(&c, in, len, 0, 1, &trickle);
		CHECK(whole.len == trickle.len && (whole.len == 0 ||
		    memcmp(whole.data, trickle.data, whole.len) == 0));
	}
	buf_free(&whole);
	buf_free(&split);
	buf_free(&trickle);
	return 0;
}
