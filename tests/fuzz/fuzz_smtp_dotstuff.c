/*
 * fuzz_smtp_dotstuff.c - libFuzzer target for smtp_dot_stuff() and its
 * streaming form: what goes out after DATA.
 *
 * Input: bytes 0-1 pick a split point, byte 2 a chunk size for the
 * streamed run; the rest is the message. Properties: whole, split and
 * chunked runs give the same bytes; the output ends with ".\r\n" after a
 * line end; before that end no line is "." alone (no early end of data)
 * and no LF is bare (no LF-only line end for a lax receiver to take as
 * the end: SMTP smuggling); taking the dots back off gives the message
 * with every line end as CRLF (bare LF made CRLF, a final CR or missing
 * line end completed).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp_client.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

/* normalized - the message as the receiver must get it back */
static void
normalized(const char *in, size_t len, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (in[i] == '\n') {
			if (i > 0 && in[i - 1] == '\r')
				CHECK(buf_append_char(out, '\n') == 0);
			else
				CHECK(buf_append(out, "\r\n", 2) == 0);
		} else {
			CHECK(buf_append_char(out, in[i]) == 0);
		}
	}
	if (len > 0 && in[len - 1] == '\r')
		CHECK(buf_append_char(out, '\n') == 0);
	else if (len > 0 && in[len - 1] != '\n')
		CHECK(buf_append(out, "\r\n", 2) == 0);
}

static void
streamed(const char *in, size_t len, size_t split, size_t chunk,
    struct buf *out)
{
	struct smtp_dot_stuffer st;
	size_t off, n;

	smtp_dot_stuff_init(&st);
	if (chunk == 0) {
		CHECK(smtp_dot_stuff_update(&st, in, split, out) == 0);
		CHECK(smtp_dot_stuff_update(&st, in + split, len - split,
		    out) == 0);
	} else {
		for (off = 0; off < len; off += n) {
			n = len - off < chunk ? len - off : chunk;
			CHECK(smtp_dot_stuff_update(&st, in + off, n, out) == 0);
		}
	}
	CHECK(smtp_dot_stuff_final(&st, out) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole, other, norm, back;
	const char *in, *o, *end;
	size_t len, k, chunk, i;

	if (size < 3)
		return 0;
	k = (size_t)data[0] << 8 | data[1];
	chunk = (size_t)data[2] + 1;
	in = (const char *)data + 3;
	len = size - 3;
	if (k > len)
		k = len;

	buf_init(&whole, 1 << 26);
	buf_init(&other, 1 << 26);
	buf_init(&norm, 1 << 26);
	buf_init(&back, 1 << 26);
	CHECK(smtp_dot_stuff(in, len, &whole) == 0);
	streamed(in, len, k, 0, &other);
	CHECK(other.len == whole.len &&
	    memcmp(other.data, whole.data, whole.len) == 0);
	buf_reset(&other);
	streamed(in, len, 0, chunk, &other);
	CHECK(other.len == whole.len &&
	    memcmp(other.data, whole.data, whole.len) == 0);

	/* the shape on the wire */
	o = whole.data;
	end = o + whole.len;
	CHECK(whole.len >= 3 && memcmp(end - 3, ".\r\n", 3) == 0);
	CHECK(whole.len == 3 || (whole.len >= 5 && end[-5] == '\r' &&
	    end[-4] == '\n'));
	for (i = 0; i < whole.len; i++)
		if (o[i] == '\n')
			CHECK(i > 0 && o[i - 1] == '\r');
	/* undo the stuffing line by line; "." alone only at the very end */
	{
		const char *line = o;

		while (line < end) {
			const char *lf = memchr(line, '\n', (size_t)(end - line));
			size_t ll;

			CHECK(lf != NULL);
			ll = (size_t)(lf - line) + 1;
			if (ll == 3 && line[0] == '.') {
				CHECK(lf + 1 == end);
				break;
			}
			if (line[0] == '.') {
				CHECK(ll > 3 && line[1] == '.');
				CHECK(buf_append(&back, line + 1, ll - 1) == 0);
			} else {
				CHECK(buf_append(&back, line, ll) == 0);
			}
			line = lf + 1;
		}
	}
	normalized(in, len, &norm);
	CHECK(back.len == norm.len &&
	    (norm.len == 0 || memcmp(back.data, norm.data, norm.len) == 0));
	buf_free(&whole);
	buf_free(&other);
	buf_free(&norm);
	buf_free(&back);
	return 0;
}
