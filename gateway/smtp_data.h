/*
 * smtp_data.h - the DATA phase scanner: finds end of data, undoes dot
 * stuffing, enforces line and size limits, and detects bare LF / bare CR
 * (SMTP smuggling defence: ONLY <CRLF>.<CRLF> ends data).
 *
 * Pure and incremental: feed any split of the input; output is appended
 * to a caller-owned struct buf. Lines are processed as whole lines
 * internally (bounded by the text line limit plus slack).
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
#define SMTP_DATA_E_LINE_TOO_LONG 0x04	/* 500 5.5.2? no: 552 5.3.4? see session */
#define SMTP_DATA_E_TOO_BIG	0x08	/* 552 5.3.4 message size exceeds limit */
#define SMTP_DATA_E_NUL		0x10	/* 554 5.6.0 NUL in message */
#define SMTP_DATA_E_8BIT_HDR	0x20	/* 8-bit octet in the header section */

struct smtp_data_limits {
	size_t line_max;	/* 1000 incl. CRLF (RFC 5321 4.5.3.1.6) */
	size_t size_max;	/* message_size_limit, in output bytes */
	enum smtp_data_mode mode;
};

struct smtp_data;

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
 * more input is needed, -1 never (errors are flags). 
 */
int smtp_data_feed(struct smtp_data *d, const char *in, size_t len,
    size_t *used_out, struct buf *out);

/* SMTP_DATA_E_* flags seen so far for the current message. */
unsigned smtp_data_errors(const struct smtp_data *d);
/* Octets of message content seen (before truncation). */
size_t smtp_data_size(const struct smtp_data *d);
/* 1 if any byte >= 0x80 was seen in the header section */
int smtp_data_8bit_headers(const struct smtp_data *d);

#endif
