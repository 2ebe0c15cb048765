/*
 * fuzz_smtp_data.c - libFuzzer target for smtp_data_feed().
 *
 * Input: byte 0 picks the mode and the line and size limits; bytes 1-2
 * pick a split point; the rest is the DATA stream. The stream is fed
 * whole, split in two, in chunks of a fuzzer-chosen size and (when
 * short) a byte at a time; all runs must agree. Invariants checked:
 *   - the output never exceeds size_max;
 *   - 1 is returned exactly when "\r\n" + input holds "\r\n.\r\n", and
 *     the input consumed ends at its first occurrence (so it ends in
 *     "\r\n.\r\n" or is exactly ".\r\n");
 *   - at the end of data, flags, size and (for an accepted message) the
 *     output equal those of a slow line-by-line reference below, and the
 *     output is CRLF-terminated lines with no bare CR/LF and no NUL.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp_data.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)
#define STOPS		(~(unsigned)SMTP_DATA_E_8BIT_HDR)

static const size_t line_maxes[] = { 1000, 3, 5, 80 };
static const size_t size_maxes[] = { 1 << 20, 0, 10, 200 };

struct result {
	int ret;
	size_t used;
	unsigned errors;
	unsigned bare;
	size_t size;
	struct buf out;
};

/* feed in chunks (chunk 0: two pieces split at split) */
static void
run(const struct smtp_data_limits *lim, const char *in, size_t len,
    size_t chunk, size_t split, struct result *res)
{
	struct smtp_data *d = smtp_data_new(lim);
	size_t off = 0, n, used;
	int r = 0;

	buf_init(&res->out, lim->size_max);
	while (off < len) {
		if (chunk == 0)
			n = off < split ? split - off : len - off;
		else
			n = len - off < chunk ? len - off : chunk;
		r = smtp_data_feed(d, in + off, n, &used, &res->out);
		CHECK(used <= n);
		off += used;
		CHECK(res->out.len <= lim->size_max);
		if (r == 1)
			break;
		CHECK(r == 0 && used == n);
	}
	res->ret = r;
	res->used = off;
	res->errors = smtp_data_errors(d);
	res->bare = smtp_data_bare_seen(d);
	res->size = smtp_data_size(d);
	CHECK(smtp_data_8bit_headers(d) ==
	    ((res->errors & SMTP_DATA_E_8BIT_HDR) != 0));
	if (lim->mode == SMTP_DATA_BARE_NORMALIZE)
		CHECK((res->errors & (SMTP_DATA_E_BARE_LF |
		    SMTP_DATA_E_BARE_CR)) == 0);
	else
		CHECK((res->errors & (SMTP_DATA_E_BARE_LF |
		    SMTP_DATA_E_BARE_CR)) == res->bare);
	smtp_data_free(&d);
}

static void
same(const struct result *a, const struct result *b)
{
	CHECK(a->ret == b->ret);
	CHECK(a->used == b->used);
	CHECK(a->errors == b->errors);
	CHECK(a->bare == b->bare);
	CHECK(a->size == b->size);
	if ((a->errors & STOPS) == 0) {
		CHECK(a->out.len == b->out.len);
		CHECK(a->out.len == 0 ||
		    memcmp(a->out.data, b->out.data, a->out.len) == 0);
	}
}

/* end_of_data - offset just past the first "\r\n.\r\n" in "\r\n" + in,
 * or 0 when there is none */
static size_t
end_of_data(const char *in, size_t len)
{
	size_t i;

	if (len >= 3 && memcmp(in, ".\r\n", 3) == 0)
		return 3;
	for (i = 0; i + 5 <= len; i++) {
		if (memcmp(in + i, "\r\n.\r\n", 5) == 0)
			return i + 5;
	}
	return 0;
}

/*
 * reference - the documented rules, one line at a time over the body
 * (everything before the final ".\r\n"): a line ends at CRLF, else at a
 * bare CR or bare LF; after a real CRLF (or at the start) a leading dot
 * is dropped, unless the line is just "." ended by a bare CR/LF.
 */
static void
reference(const struct smtp_data_limits *lim, const char *body, size_t n,
    struct result *ref)
{
	size_t i = 0, j, k, clen, tlen;
	int real_bol = 1, in_header = 1, crlf;
	const char *c;
	unsigned bare;

	ref->errors = 0;
	ref->bare = 0;
	ref->size = 0;
	buf_init(&ref->out, (size_t)-1 / 2);
	while (i < n) {
		for (j = i; j < n && body[j] != '\r' && body[j] != '\n'; j++)
			;
		CHECK(j < n);	/* the body always ends in CRLF */
		crlf = body[j] == '\r' && j + 1 < n && body[j + 1] == '\n';
		tlen = crlf ? 2 : 1;
		bare = crlf ? 0 : body[j] == '\n' ? SMTP_DATA_E_BARE_LF :
		    SMTP_DATA_E_BARE_CR;
		c = body + i;
		clen = j - i;
		if (real_bol && clen > 0 && c[0] == '.' &&
		    !(clen == 1 && !crlf)) {
			c++;
			clen--;
		}
		ref->bare |= bare;
		if (lim->mode == SMTP_DATA_BARE_REJECT)
			ref->errors |= bare;
		if (memchr(c, '\0', clen) != NULL)
			ref->errors |= SMTP_DATA_E_NUL;
		if (in_header) {
			for (k = 0; k < clen; k++)
				if ((unsigned char)c[k] >= 0x80)
					ref->errors |= SMTP_DATA_E_8BIT_HDR;
		}
		if (clen > lim->line_max - 2)
			ref->errors |= SMTP_DATA_E_LINE_TOO_LONG;
		if (clen == 0)
			in_header = 0;
		CHECK(buf_append(&ref->out, c, clen) == 0);
		CHECK(buf_append(&ref->out, "\r\n", 2) == 0);
		ref->size += clen + 2;
		real_bol = crlf;
		i = j + tlen;
	}
	if (ref->size > lim->size_max)
		ref->errors |= SMTP_DATA_E_TOO_BIG;
}

/* crlf_lines - the output is lines ending in CRLF, no bare CR/LF/NUL */
static void
crlf_lines(const struct buf *out, size_t line_max)
{
	size_t i, line = 0;

	if (out->len == 0)
		return;
	CHECK(out->len >= 2 && out->data[out->len - 2] == '\r' &&
	    out->data[out->len - 1] == '\n');
	for (i = 0; i < out->len; i++) {
		char ch = out->data[i];

		CHECK(ch != '\0');
		if (ch == '\r') {
			CHECK(i + 1 < out->len && out->data[i + 1] == '\n');
			CHECK(line + 2 <= line_max);
			line = 0;
			i++;
		} else {
			CHECK(ch != '\n');
			line++;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_data_limits lim;
	struct result whole, two, chunked, trickle, ref;
	const char *in;
	size_t len, k, chunk, end;

	if (size < 3)
		return 0;
	lim.mode = (data[0] & 1) ? SMTP_DATA_BARE_NORMALIZE :
	    SMTP_DATA_BARE_REJECT;
	lim.line_max = line_maxes[(data[0] >> 1) & 3];
	lim.size_max = size_maxes[(data[0] >> 3) & 3];
	chunk = (size_t)(data[0] >> 5) * 3 + 2;
	k = (size_t)data[1] << 8 | data[2];
	in = (const char *)data + 3;
	len = size - 3;
	if (k > len)
		k = len;

	run(&lim, in, len, 0, len, &whole);
	run(&lim, in, len, 0, k, &two);
	run(&lim, in, len, chunk, 0, &chunked);
	same(&whole, &two);
	same(&whole, &chunked);
	if (len <= 1024) {
		run(&lim, in, len, 1, 0, &trickle);
		same(&whole, &trickle);
		buf_free(&trickle.out);
	}

	end = end_of_data(in, len);
	if (end == 0) {
		CHECK(whole.ret == 0 && whole.used == len);
	} else {
		CHECK(whole.ret == 1 && whole.used == end);
		CHECK(end == 3 ||
		    memcmp(in + end - 5, "\r\n.\r\n", 5) == 0);
		reference(&lim, in, end - 3, &ref);
		CHECK(whole.errors == ref.errors);
		CHECK(whole.bare == ref.bare);
		CHECK(whole.size == ref.size);
		if ((whole.errors & STOPS) == 0) {
			CHECK(whole.out.len == ref.out.len);
			CHECK(ref.out.len == 0 || memcmp(whole.out.data,
			    ref.out.data, ref.out.len) == 0);
			crlf_lines(&whole.out, lim.line_max);
		}
		buf_free(&ref.out);
	}
	buf_free(&whole.out);
	buf_free(&two.out);
	buf_free(&chunked.out);
	return 0;
}
