/*
 * smtp_reply.h - incremental parser for SMTP server replies (RFC 5321
 * 4.2), used by the delivery client. Pure: bytes in, replies out.
 *
 * A reply is one or more lines "NNN-text" ... "NNN text" with the same
 * code. Bounds: each line at most SG_SMTP_REPLY_LINE_MAX octets including
 * CRLF, at most SMTP_REPLY_LINES_MAX lines, at most SMTP_REPLY_TEXT_MAX
 * bytes of text kept (the rest dropped, still parsed). A line that is not
 * "3 digits, then SP/'-' or end of line", a code that changes inside a
 * multi-line reply, an over-long line, a NUL, or too many lines is a
 * protocol error: the client gives up on that server (4xx-class failure).
 */
#ifndef SEALGATE_SMTP_REPLY_H
#define SEALGATE_SMTP_REPLY_H

#include <stddef.h>

#include "lib/buf.h"

#define SMTP_REPLY_LINES_MAX	100
#define SMTP_REPLY_TEXT_MAX	4096	/* past it whole lines are dropped:
					 * the text is a prefix of the reply */

enum smtp_reply_err {
	SMTP_REPLY_E_NONE = 0,
	SMTP_REPLY_E_SYNTAX,		/* not a reply line */
	SMTP_REPLY_E_TOO_LONG,		/* line over the limit */
	SMTP_REPLY_E_TOO_MANY,		/* too many continuation lines */
	SMTP_REPLY_E_CODE_CHANGED,	/* continuation with another code */
};

struct smtp_reply {
	int code;			/* 200..599 */
	char enhanced[16];		/* "2.1.5" when present, else "" */
	struct buf text;		/* lines joined with "\n", capped */
	size_t nlines;
};

struct smtp_reply_parser;

struct smtp_reply_parser *smtp_reply_parser_new(void);
void smtp_reply_parser_free(struct smtp_reply_parser **pp);

/*
 * smtp_reply_next - parse in[0..len); *used_out bytes consumed. 1: a
 * whole reply is in *out (valid until the next call); 0: need more
 * input (all consumed); -1: *err_out set, the connection is unusable.
 */
int smtp_reply_next(struct smtp_reply_parser *p, const char *in, size_t len,
    size_t *used_out, const struct smtp_reply **out,
    enum smtp_reply_err *err_out);

/* Forget buffered bytes (after STARTTLS: the server must not have sent
 * anything past "220 Ready"; a non-empty buffer there is an attack).
 * Returns how many bytes of an unfinished line were dropped. Note: the
 * parser only holds a partial line; input after a complete reply is
 * never consumed (see *used_out), so the caller must also treat its own
 * unconsumed bytes as the attack. */
size_t smtp_reply_discard(struct smtp_reply_parser *p);

/* 1 if the reply's text lists EHLO keyword kw (case-insensitive), and
 * *param_out (may be NULL) points to its parameters ("" if none). The
 * parameters end at the next '\n' or NUL (the text holds the following
 * lines too): prefer smtp_reply_ext(), which gives the length. */
int smtp_reply_has_ext(const struct smtp_reply *r, const char *kw,
    const char **param_out);
/* Same, with the parameters as a slice (no '\n' inside), valid while r
 * is. The first line (the server's name) never matches. */
int smtp_reply_ext(const struct smtp_reply *r, const char *kw,
    struct slice *param_out);

#endif
