/*
 * smtp_cmd.c - incremental SMTP command-line parser and the command table
 *
 * Implements: RFC 5321 2.3.8 (lines), 4.1.1 (commands), 4.5.3.1.4 (512
 * octets per command line, CRLF included); RFC 2920 3.1 (commands that
 * must end a pipelined group).
 * Trust: bytes straight from the network; no I/O and no logging here.
 * Ownership: a returned line or command points into the parser's own
 * buffer, valid until the next call on the same parser. The parser never
 * points into the caller's input, so the caller may drop or move the
 * consumed bytes at once.
 *
 * A line is complete at its LF. While it is incomplete its bytes are
 * copied into the parser's buffer, which never holds more than the line
 * limit, so a peer cannot make us buffer more by withholding the LF. A
 * line that proves too long is reported once and the rest of it, up to
 * and including its LF, is dropped without another report.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "smtp_cmd.h"
#include "lib/log.h"
#include "lib/sg_limits.h"
#include "lib/xalloc.h"

struct smtp_cmd_parser {
	size_t line_max;	/* command line limit, terminator included */
	char *line;		/* partial (or just completed) line */
	size_t len;		/* bytes of a partial line held in line */
	size_t cap;		/* allocated size of line */
	int skipping;		/* dropping an overlong line up to its LF */
	unsigned last_flags;	/* SMTP_CMD_F_* of the last line returned */
};

/* The command table: the session reads flags instead of special-casing
 * commands (Postfix smtpd's idea). Indexed by enum smtp_verb. */
static const struct smtp_verb_info {
	const char *name;
	size_t len;
	unsigned flags;
} verb_table[SMTP_VERB__COUNT] = {
	[SMTP_VERB_UNKNOWN] = { "UNKNOWN", 7, SMTP_CMDF_JUNK },
	[SMTP_VERB_HELO] = { "HELO", 4, SMTP_CMDF_PRE_TLS | SMTP_CMDF_LAST },
	[SMTP_VERB_EHLO] = { "EHLO", 4, SMTP_CMDF_PRE_TLS | SMTP_CMDF_LAST },
	[SMTP_VERB_MAIL] = { "MAIL", 4, 0 },
	[SMTP_VERB_RCPT] = { "RCPT", 4, 0 },
	[SMTP_VERB_DATA] = { "DATA", 4, SMTP_CMDF_LAST },
	[SMTP_VERB_RSET] = { "RSET", 4, SMTP_CMDF_PRE_TLS },
	[SMTP_VERB_NOOP] = { "NOOP", 4, SMTP_CMDF_PRE_TLS | SMTP_CMDF_LAST },
	[SMTP_VERB_QUIT] = { "QUIT", 4, SMTP_CMDF_PRE_TLS | SMTP_CMDF_LAST },
	/* RFC 2920 3.1 lists VRFY and EXPN with EHLO, DATA, QUIT, NOOP */
	[SMTP_VERB_VRFY] = { "VRFY", 4, SMTP_CMDF_LAST },
	[SMTP_VERB_EXPN] = { "EXPN", 4, SMTP_CMDF_LAST },
	[SMTP_VERB_HELP] = { "HELP", 4, SMTP_CMDF_PRE_TLS },
	/* RFC 3207 4: nothing may follow STARTTLS in the same group */
	[SMTP_VERB_STARTTLS] = { "STARTTLS", 8,
	    SMTP_CMDF_PRE_TLS | SMTP_CMDF_LAST },
	/* RFC 4954 4: the client waits for 334 after AUTH */
	[SMTP_VERB_AUTH] = { "AUTH", 4, SMTP_CMDF_LAST },
	/* RFC 3030 2: BDAT may be pipelined */
	[SMTP_VERB_BDAT] = { "BDAT", 4, 0 },
};

/* smtp_cmd_parser_new - a parser with its line buffer allocated once */
struct smtp_cmd_parser *
smtp_cmd_parser_new(const struct smtp_cmd_limits *lim)
{
	struct smtp_cmd_parser *p;

	p = xcalloc(1, sizeof(*p));
	p->line_max = lim != NULL ? lim->line_max : SG_SMTP_CMD_LINE_MAX;
	ASSERT(p->line_max >= 3 && p->line_max < SIZE_MAX / 2);
	p->cap = p->line_max + 1;
	p->line = xmalloc(p->cap);
	p->line[0] = '\0';
	return p;
}

/* smtp_cmd_parser_free - free and clear; the buffer may hold AUTH data */
void
smtp_cmd_parser_free(struct smtp_cmd_parser **pp)
{
	struct smtp_cmd_parser *p;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	explicit_bzero(p->line, p->cap);
	xfree(p->line);
	xfree(p);
	*pp = NULL;
}

/* smtp_cmd_discard - forget a partial line and any skipping in progress */
void
smtp_cmd_discard(struct smtp_cmd_parser *p)
{
	explicit_bzero(p->line, p->cap);
	p->len = 0;
	p->skipping = 0;
	p->last_flags = 0;
}

unsigned
smtp_cmd_line_flags(const struct smtp_cmd_parser *p)
{
	return p->last_flags;
}

const char *
smtp_verb_name(enum smtp_verb v)
{
	if ((unsigned)v >= SMTP_VERB__COUNT)
		v = SMTP_VERB_UNKNOWN;
	return verb_table[v].name;
}

unsigned
smtp_verb_flags(enum smtp_verb v)
{
	if ((unsigned)v >= SMTP_VERB__COUNT)
		v = SMTP_VERB_UNKNOWN;
	return verb_table[v].flags;
}

/* line_reserve - room for need bytes plus a spare NUL; need < the max */
static void
line_reserve(struct smtp_cmd_parser *p, size_t need)
{
	size_t ncap;

	if (need + 1 <= p->cap)
		return;
	/* Only smtp_line_take() with a max above line_max gets here; grow
	 * geometrically so a trickled AUTH line is not realloc'd per byte. */
	ncap = p->cap;
	while (ncap < need + 1)
		ncap = ncap > SIZE_MAX / 2 ? need + 1 : ncap * 2;
	p->line = xrealloc(p->line, ncap);
	p->cap = ncap;
}

/*
 * line_next - split the next line off the input: 1 with *line_out (no
 * terminator, NUL-terminated in our buffer), 0 when all input was taken
 * into the partial line, -1 with *err_out. max counts the terminator.
 */
static int
line_next(struct smtp_cmd_parser *p, const char *in, size_t len, size_t max,
    size_t *used_out, struct slice *line_out, enum smtp_cmd_err *err_out)
{
	const char *lf;
	size_t off, n, total;
	unsigned flags;

	*used_out = 0;
	*err_out = SMTP_CMD_E_NONE;
	*line_out = slice_make(p->line, 0);
	off = 0;
	if (p->skipping) {
		lf = len > 0 ? memchr(in, '\n', len) : NULL;
		if (lf == NULL) {
			*used_out = len;
			return 0;
		}
		off = (size_t)(lf - in) + 1;
		p->skipping = 0;
	}
	if (off == len) {
		*used_out = len;
		return 0;
	}
	lf = memchr(in + off, '\n', len - off);
	n = lf != NULL ? (size_t)(lf - (in + off)) : len - off;

	/*
	 * Too long once the bytes before the LF leave no room for it: the
	 * line plus its LF would exceed max. Decided as soon as the bytes
	 * are here, so buffering stops at max whatever the peer withholds.
	 */
	if (p->len >= max || n >= max - p->len) {
		p->len = 0;
		p->last_flags = 0;
		if (lf != NULL) {
			*used_out = off + n + 1;
		} else {
			*used_out = len;
			p->skipping = 1;
		}
		*err_out = SMTP_CMD_E_TOO_LONG;
		return -1;
	}
	line_reserve(p, p->len + n);
	memcpy(p->line + p->len, in + off, n);
	if (lf == NULL) {
		p->len += n;
		*used_out = len;
		return 0;
	}
	total = p->len + n;
	p->len = 0;
	*used_out = off + n + 1;

	flags = 0;
	if (total > 0 && p->line[total - 1] == '\r')
		total--;
	else
		flags |= SMTP_CMD_F_BARE_LF;
	p->line[total] = '\0';
	p->last_flags = flags;
	if (memchr(p->line, '\0', total) != NULL) {
		*err_out = SMTP_CMD_E_NUL;
		return -1;
	}
	/* A CR inside a line is neither text nor a terminator. */
	if (memchr(p->line, '\r', total) != NULL) {
		*err_out = SMTP_CMD_E_SYNTAX;
		return -1;
	}
	*line_out = slice_make(p->line, total);
	return 1;
}

/* verb_lookup - table index of a verb, matched case-insensitively */
static enum smtp_verb
verb_lookup(const char *s, size_t len)
{
	unsigned v;

	for (v = SMTP_VERB_UNKNOWN + 1; v < SMTP_VERB__COUNT; v++) {
		if (verb_table[v].len == len &&
		    strncasecmp(verb_table[v].name, s, len) == 0)
			return (enum smtp_verb)v;
	}
	return SMTP_VERB_UNKNOWN;
}

/* smtp_cmd_next - return the next complete command, if any */
int
smtp_cmd_next(struct smtp_cmd_parser *p, const char *in, size_t len,
    size_t *used_out, struct smtp_cmd *cmd_out, enum smtp_cmd_err *err_out)
{
	struct slice line;
	const char *sp;
	size_t vlen, i;
	int r;

	memset(cmd_out, 0, sizeof(*cmd_out));
	cmd_out->verb_text = slice_make(p->line, 0);
	cmd_out->args = slice_make(p->line, 0);
	r = line_next(p, in, len, p->line_max, used_out, &line, err_out);
	if (r != 1)
		return r;
	cmd_out->flags = p->last_flags;

	/* The verb runs to the first SP; everything after that one SP is
	 * the argument text, as sent (the session trims). */
	sp = memchr(line.ptr, ' ', line.len);
	vlen = sp != NULL ? (size_t)(sp - line.ptr) : line.len;
	if (vlen == 0) {
		*err_out = SMTP_CMD_E_SYNTAX;
		return -1;
	}
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)line.ptr[i];

		if (c <= 0x20 || c >= 0x7f) {
			*err_out = SMTP_CMD_E_SYNTAX;
			return -1;
		}
	}
	cmd_out->verb = verb_lookup(line.ptr, vlen);
	cmd_out->verb_text = slice_make(line.ptr, vlen);
	if (sp != NULL)
		cmd_out->args = slice_make(sp + 1, line.len - vlen - 1);
	else
		cmd_out->args = slice_make(line.ptr + line.len, 0);
	return 1;
}

/* smtp_line_take - return the next raw line (AUTH continuation), if any */
int
smtp_line_take(struct smtp_cmd_parser *p, const char *in, size_t len,
    size_t max, size_t *used_out, struct slice *line_out,
    enum smtp_cmd_err *err_out)
{
	return line_next(p, in, len, max, used_out, line_out, err_out);
}
