/*
 * smtp_data.h - the DATA phase scanner: finds end of data, undoes dot
 * stuffing, enforces line and size limits, and detects bare LF / bare CR
 * (SMTP smuggling defence: ONLY <CRLF>.<CRLF> ends data).
 *
 * Pure and incremental: feed any split of the input; output is appended
 * to a caller-owned struct buf. A byte-level state machine: no input is
 * buffered inside, so memory does not depend on what the peer sends.
 *
 * The output is the message content: dot-unstuffed, every line ending in
 * CRLF, without the final ".\r\n". It is NOT dot-stuffed: whoever relays
 * it must stuff it again (a content line "." is possible, see below).
 * While no stopping flag is set (every flag but SMTP_DATA_E_8BIT_HDR),
 * the output is exactly the message so far; once one is set the output
 * is an unspecified prefix (possibly ending mid-line) that stops growing
 * and must be thrown away. It never exceeds size_max.
 *
 * Dot rules apply only at a line start that follows a real CRLF (or the
 * start of data): there a leading dot is removed and ".\r\n" ends the
 * data. After a bare LF or bare CR a leading dot is content. A lone "."
 * after a real CRLF but ended by a bare LF or bare CR is content too: in
 * normalize mode it becomes the output line ".\r\n" (so "a\r\n.\nMAIL"
 * gives the lines "a", ".", "MAIL..."), in reject mode it raises the bare
 * flag. So neither mode lets a bare LF/CR end, or hide, the end of data.
 *
 * Line length: content octets of the unstuffed line plus 2 (the CRLF,
 * or a bare LF/CR, which ends a line in both modes) must be <= line_max.
 * The header section is every line before the first empty line, again
 * with bare LF/CR counted as line ends.
 */
#ifndef SEALGATE_SMTP_DATA_H
#define SEALGATE_SMTP_DATA_H

#include <stddef.h>

#include "lib/buf.h"

enum smtp_data_mode {
	SMTP_DATA_BARE_REJECT = 0,	/* bare LF/CR flags an error (message refused) */
	SMTP_DATA_BARE_NORMALIZE,	/* bare LF/CR become CRLF in the output */
};

/* Sticky error flags, reported once end of data is reached: the session
 * always reads to the real end of data before replying, so a refused
 * message cannot turn its remaining lines into commands. */
#define SMTP_DATA_E_BARE_LF	0x01	/* 550 5.6.11 (bare LF) */
#define SMTP_DATA_E_BARE_CR	0x02	/* 550 5.6.11 (bare CR) */
#define SMTP_DATA_E_LINE_TOO_LONG 0x04	/* a line over line_max; session picks
					 * the reply (e.g. 500 5.5.2 or 552) */
#define SMTP_DATA_E_TOO_BIG	0x08	/* 552 5.3.4 message size exceeds limit */
#define SMTP_DATA_E_NUL		0x10	/* 554 5.6.0 NUL in message */
#define SMTP_DATA_E_8BIT_HDR	0x20	/* 8-bit octet in the header section;
					 * information only: output goes on */

struct smtp_data_limits {
	size_t line_max;	/* 1000 incl. CRLF (RFC 5321 4.5.3.1.6) */
	size_t size_max;	/* message_size_limit, in output bytes;
				 * exactly size_max passes. Give out a
				 * max >= size_max: a failed append is
				 * reported as SMTP_DATA_E_TOO_BIG */
	enum smtp_data_mode mode;
};

struct smtp_data;

/* New scanner, ready for a message; line_max must be >= 3 (ASSERT). */
struct smtp_data *smtp_data_new(const struct smtp_data_limits *lim);
void smtp_data_free(struct smtp_data **dp);
/* Start a new message (also resets the error flags). */
void smtp_data_reset(struct smtp_data *d);

/*
 * smtp_data_feed - scan in[0..len). Message bytes (dot-unstuffed, lines
 * ending in CRLF) are appended to out unless an error flag is set (then
 * output stops growing but scanning continues to the end marker).
 * *used_out: bytes consumed. Returns 1 when the end-of-data line was seen
 * (bytes after it are NOT consumed: they are the next commands), 0 when
 * more input is needed (then *used_out == len, always), -1 never (errors
 * are flags). On 1, *used_out counts up to and including the LF of the
 * final ".\r\n". Once 1 has been returned, further calls return 1 with
 * *used_out 0 until smtp_data_reset().
 */
int smtp_data_feed(struct smtp_data *d, const char *in, size_t len,
    size_t *used_out, struct buf *out);

/* SMTP_DATA_E_* flags seen so far for the current message. */
unsigned smtp_data_errors(const struct smtp_data *d);
/* Octets of message content seen (before truncation): what the output
 * would hold without size_max, final ".\r\n" excluded. */
size_t smtp_data_size(const struct smtp_data *d);
/* 1 if any byte >= 0x80 was seen in the header section */
int smtp_data_8bit_headers(const struct smtp_data *d);
/* SMTP_DATA_E_BARE_LF / _BARE_CR seen in either mode: in normalize mode
 * they are not errors, but the session may log that it normalized. */
unsigned smtp_data_bare_seen(const struct smtp_data *d);

#endif
