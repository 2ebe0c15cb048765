/*
 * smtp_data.c - the DATA phase scanner
 *
 * Implements: RFC 5321 4.1.1.4 (end of data is <CRLF>.<CRLF>), 4.5.2
 * (transparency: dot-unstuffing), 4.5.3.1.6 (1000 octets per text line,
 * CRLF included, the stuffing dot not counted), 2.3.8 (lines end in CRLF
 * only); the SMTP smuggling defence (only <CRLF>.<CRLF> ends data, never
 * <LF>.<LF>, <CR>.<CR>, <LF>.<CRLF> or <CRLF>.<LF>).
 * Trust: bytes straight from the network; no I/O and no logging here.
 * Ownership: output is appended to the caller's struct buf.
 *
 * A byte-level state machine in the nginx manner: the state between
 * feeds is one enum and a few counters, never buffered input, so a CR at
 * the end of one feed and its LF at the start of the next need nothing
 * special. Ordinary bytes are found with a table scan and appended in
 * runs, one buf_append() per run, not per byte.
 *
 * Line starts come in two kinds. After a real CRLF (and at the start of
 * the data, right after the 354 reply) a leading dot is the stuffing dot
 * of RFC 5321 4.5.2, and ".\r\n" ends the data. After a bare LF or bare
 * CR it is neither: a dot there is content, kept as sent. One more rule
 * keeps the two consistent: a lone "." that follows a real CRLF but is
 * itself ended by a bare LF or bare CR is content too (the line "."). So
 * no bare LF/CR, whatever the mode, can produce or hide an end of data,
 * and the normalized output holds exactly the lines the peer's bytes
 * show, which our delivery client dot-stuffs again when relaying.
 */
#include <stdint.h>
#include <string.h>

#include "smtp_data.h"
#include "lib/log.h"
#include "lib/sg_limits.h"
#include "lib/xalloc.h"

enum data_state {
	DS_BOL,		/* after a real CRLF, or at the start of data */
	DS_DOT,		/* "." at DS_BOL; the dot is not yet emitted */
	DS_DOT_CR,	/* ".\r" at DS_BOL; neither is emitted yet */
	DS_TEXT,	/* in a line, or at a line start after a bare LF/CR */
	DS_CR,		/* a CR in a line (already in the output run) */
	DS_DONE,	/* end of data seen; smtp_data_reset() to go again */
};

struct smtp_data {
	struct smtp_data_limits lim;
	size_t text_max;	/* content octets per line: line_max - CRLF */
	enum data_state state;
	int in_header;		/* no empty line seen yet */
	size_t line_len;	/* content octets of the current line */
	size_t size;		/* output octets, emitted or not */
	unsigned errors;	/* SMTP_DATA_E_* */
	unsigned bare;		/* SMTP_DATA_E_BARE_* seen, either mode */
};

/* Every flag but 8BIT_HDR refuses the message: stop growing the output. */
#define DATA_STOP	(~(unsigned)SMTP_DATA_E_8BIT_HDR)

/* Bytes that end a run of ordinary text; in the header section 8-bit
 * octets too, to raise SMTP_DATA_E_8BIT_HDR. */
static const unsigned char special_body[256] = {
	['\0'] = 1, ['\n'] = 1, ['\r'] = 1,
};
static const unsigned char special_head[256] = {
	['\0'] = 1, ['\n'] = 1, ['\r'] = 1, [0x80 ... 0xff] = 1,
};

/* smtp_data_new - a scanner for one message at a time */
struct smtp_data *
smtp_data_new(const struct smtp_data_limits *lim)
{
	struct smtp_data *d;

	ASSERT(lim != NULL && lim->line_max >= 3);
	d = xcalloc(1, sizeof(*d));
	d->lim = *lim;
	d->text_max = lim->line_max - 2;
	smtp_data_reset(d);
	return d;
}

void
smtp_data_free(struct smtp_data **dp)
{
	if (dp == NULL || *dp == NULL)
		return;
	xfree(*dp);
	*dp = NULL;
}

/* smtp_data_reset - start a message: the data begins at a line start */
void
smtp_data_reset(struct smtp_data *d)
{
	d->state = DS_BOL;
	d->in_header = 1;
	d->line_len = 0;
	d->size = 0;
	d->errors = 0;
	d->bare = 0;
}

unsigned
smtp_data_errors(const struct smtp_data *d)
{
	return d->errors;
}

size_t
smtp_data_size(const struct smtp_data *d)
{
	return d->size;
}

int
smtp_data_8bit_headers(const struct smtp_data *d)
{
	return (d->errors & SMTP_DATA_E_8BIT_HDR) != 0;
}

unsigned
smtp_data_bare_seen(const struct smtp_data *d)
{
	return d->bare;
}

/* data_emit - count n output octets and append them unless refused */
static void
data_emit(struct smtp_data *d, struct buf *out, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (d->size > d->lim.size_max || n > d->lim.size_max - d->size)
		d->errors |= SMTP_DATA_E_TOO_BIG;
	d->size = n > SIZE_MAX - d->size ? SIZE_MAX : d->size + n;
	if (d->errors & DATA_STOP)
		return;
	/* out->max below size_max, or no memory: the message cannot be
	 * kept whole either way. */
	if (buf_append(out, p, n) < 0)
		d->errors |= SMTP_DATA_E_TOO_BIG;
}

/* data_bare - a bare LF or CR: refused, or normalized by the caller */
static void
data_bare(struct smtp_data *d, unsigned flag)
{
	d->bare |= flag;
	if (d->lim.mode == SMTP_DATA_BARE_REJECT)
		d->errors |= flag;
}

/* line_add - n more content octets in this line; flag it once too long */
static void
line_add(struct smtp_data *d, size_t n)
{
	if (n > d->text_max - d->line_len) {
		d->errors |= SMTP_DATA_E_LINE_TOO_LONG;
		d->line_len = d->text_max + 1;	/* stays too long, no wrap */
		return;
	}
	d->line_len += n;
}

/* line_end - RFC 5322 2.1: the first empty line ends the header section */
static void
line_end(struct smtp_data *d)
{
	if (d->line_len == 0)
		d->in_header = 0;
	d->line_len = 0;
}

/* smtp_data_feed - scan message bytes up to and including end of data */
int
smtp_data_feed(struct smtp_data *d, const char *in, size_t len,
    size_t *used_out, struct buf *out)
{
	const unsigned char *p, *end, *run, *q, *special;

	*used_out = 0;
	if (d->state == DS_DONE)
		return 1;
	if (len == 0)
		return 0;
	p = (const unsigned char *)in;
	end = p + len;
	run = p;		/* start of bytes to copy to the output as is */
	while (p < end) {
		switch (d->state) {
		case DS_BOL:
			if (*p == '.') {
				data_emit(d, out, run, (size_t)(p - run));
				run = ++p;
				d->state = DS_DOT;
			} else {
				d->state = DS_TEXT;
			}
			break;
		case DS_DOT:
			if (*p == '\r') {
				run = ++p;
				d->state = DS_DOT_CR;
			} else if (*p == '\n') {
				/* "\r\n.\n": a smuggled end of data. The dot
				 * stays, as the content line ".". */
				data_bare(d, SMTP_DATA_E_BARE_LF);
				data_emit(d, out, ".\r\n", 3);
				d->line_len = 1;
				line_end(d);
				run = ++p;
				d->state = DS_TEXT;
			} else {
				/* The dot was stuffing: dropped, not counted. */
				d->state = DS_TEXT;
			}
			break;
		case DS_DOT_CR:
			if (*p == '\n') {
				d->state = DS_DONE;
				*used_out = (size_t)(p + 1 - (const unsigned char *)in);
				return 1;
			}
			/* "\r\n.\r" and no LF: smuggling again, same answer. */
			data_bare(d, SMTP_DATA_E_BARE_CR);
			data_emit(d, out, ".\r\n", 3);
			d->line_len = 1;
			line_end(d);
			run = p;
			d->state = DS_TEXT;
			break;
		case DS_TEXT:
			special = d->in_header ? special_head : special_body;
			q = p;
			while (q < end && !special[*q])
				q++;
			if (q > p)
				line_add(d, (size_t)(q - p));
			p = q;
			if (p == end)
				break;
			if (*p == '\r') {
				p++;
				d->state = DS_CR;
			} else if (*p == '\n') {
				data_emit(d, out, run, (size_t)(p - run));
				data_bare(d, SMTP_DATA_E_BARE_LF);
				data_emit(d, out, "\r\n", 2);
				line_end(d);
				run = ++p;
				/* Not DS_BOL: no dot rules after a bare LF. */
			} else {
				if (*p == '\0')
					d->errors |= SMTP_DATA_E_NUL;
				else
					d->errors |= SMTP_DATA_E_8BIT_HDR;
				line_add(d, 1);
				p++;
			}
			break;
		case DS_CR:
			if (*p == '\n') {
				p++;
				line_end(d);
				d->state = DS_BOL;
				break;
			}
			/* Bare CR: the run holds the CR (or it went out with
			 * the previous feed); complete it to CRLF. */
			data_emit(d, out, run, (size_t)(p - run));
			data_bare(d, SMTP_DATA_E_BARE_CR);
			data_emit(d, out, "\n", 1);
			line_end(d);
			run = p;
			d->state = DS_TEXT;
			break;
		case DS_DONE:
			ASSERT(0);
		}
	}
	data_emit(d, out, run, (size_t)(p - run));
	*used_out = len;
	return 0;
}
