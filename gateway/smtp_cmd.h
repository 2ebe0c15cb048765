/*
 * smtp_cmd.h - incremental SMTP command-line parser (RFC 5321 2.3.8, 4.1).
 *
 * Pure: bytes straight from the network in, commands out; no I/O, no
 * logging. Input may arrive a byte at a time. A line ends at CRLF; a bare
 * LF ending a command line is accepted as the end of the line but flagged
 * (SMTP_CMD_F_BARE_LF) so the session can decide. NUL bytes are an error.
 * Ownership: a returned command's args point into the parser's buffer and
 * are valid until the next call of smtp_cmd_next()/smtp_line_take()/
 * discard() on the same parser; they never point into the caller's input.
 *
 * Line limits count the terminator: with line_max 512 a command of 510
 * bytes plus CRLF passes, 511 plus CRLF is SMTP_CMD_E_TOO_LONG (so is 512
 * plus a bare LF; 511 plus a bare LF passes, flagged). The error is
 * returned as soon as the limit is crossed, even before the LF arrives;
 * the rest of that line up to its LF is then dropped silently, across
 * calls. A CR anywhere but right before the LF is SMTP_CMD_E_SYNTAX, as
 * is an empty line or a verb with bytes outside 0x21..0x7e. 8-bit bytes
 * in the arguments are passed on (the argument parsers refuse them).
 */
#ifndef SEALGATE_SMTP_CMD_H
#define SEALGATE_SMTP_CMD_H

#include <stddef.h>

#include "lib/slice.h"

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO, SMTP_VERB_EHLO, SMTP_VERB_MAIL, SMTP_VERB_RCPT,
	SMTP_VERB_DATA, SMTP_VERB_RSET, SMTP_VERB_NOOP, SMTP_VERB_QUIT,
	SMTP_VERB_VRFY, SMTP_VERB_EXPN, SMTP_VERB_HELP, SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH, SMTP_VERB_BDAT,
	SMTP_VERB__COUNT
};

/* Flags of the command table (Postfix smtpd's idea). */
#define SMTP_CMDF_PRE_TLS	0x01	/* allowed before STARTTLS when TLS is required */
#define SMTP_CMDF_LAST		0x02	/* must end a pipelined group (RFC 2920 3.1) */
#define SMTP_CMDF_JUNK		0x04	/* counts toward the junk/error limit
					 * (only SMTP_VERB_UNKNOWN has it) */

struct smtp_cmd_limits {
	size_t line_max;	/* 512 incl. CRLF (RFC 5321 4.5.3.1.4) */
};

enum smtp_cmd_err {
	SMTP_CMD_E_NONE = 0,
	SMTP_CMD_E_TOO_LONG,	/* 500 5.5.2; the rest of the line is skipped */
	SMTP_CMD_E_NUL,		/* 500 5.5.2; line contained NUL */
	SMTP_CMD_E_SYNTAX,	/* 500 5.5.2; e.g. empty line, bad verb chars */
};

#define SMTP_CMD_F_BARE_LF	0x01	/* line ended in LF without CR */

struct smtp_cmd {
	enum smtp_verb verb;	/* SMTP_VERB_UNKNOWN if unrecognised */
	struct slice verb_text;	/* the verb as sent */
	struct slice args;	/* after the verb and one SP, no CRLF;
				 * trailing spaces kept */
	unsigned flags;		/* SMTP_CMD_F_* */
};

struct smtp_cmd_parser;

/* New parser; free with smtp_cmd_parser_free(). */
struct smtp_cmd_parser *smtp_cmd_parser_new(const struct smtp_cmd_limits *);
void smtp_cmd_parser_free(struct smtp_cmd_parser **pp);

/*
 * smtp_cmd_next - take the next command from in[0..len). *used_out is the
 * number of input bytes consumed (the caller drops them). Returns 1 with
 * *cmd_out filled; 0 when all input was consumed without a complete line
 * (partial line kept inside the parser, bounded by line_max); -1 with
 * *err_out set (the offending line consumed, or being skipped until its
 * LF when too long).
 */
int smtp_cmd_next(struct smtp_cmd_parser *p, const char *in, size_t len,
    size_t *used_out, struct smtp_cmd *cmd_out, enum smtp_cmd_err *err_out);

/* Forget any partial line (and a too-long line being skipped), wiping
 * the buffer: STARTTLS, or after a fatal error. */
void smtp_cmd_discard(struct smtp_cmd_parser *p);

/* SMTP_CMD_F_* of the last line returned by smtp_cmd_next() or
 * smtp_line_take() (e.g. to refuse a bare-LF AUTH continuation). */
unsigned smtp_cmd_line_flags(const struct smtp_cmd_parser *p);

/* Table lookup helpers: the canonical upper-case name ("UNKNOWN" for
 * SMTP_VERB_UNKNOWN or out of range) and the SMTP_CMDF_* flags. */
const char *smtp_verb_name(enum smtp_verb v);
unsigned smtp_verb_flags(enum smtp_verb v);

/*
 * smtp_line_take - the raw-line variant used for AUTH continuation lines:
 * same contract as smtp_cmd_next, but returns the whole line (without
 * CRLF) in *line_out, with limit max (may exceed the command limit;
 * terminator included, as for line_max). An empty line is returned, not
 * an error. Shares the partial-line state with smtp_cmd_next(), so the
 * session may switch between the two at any line boundary.
 */
int smtp_line_take(struct smtp_cmd_parser *p, const char *in, size_t len,
    size_t max, size_t *used_out, struct slice *line_out,
    enum smtp_cmd_err *err_out);

#endif
