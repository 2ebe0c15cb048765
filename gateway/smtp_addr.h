/*
 * smtp_addr.h - parse the arguments of MAIL FROM: and RCPT TO:
 * (RFC 5321 4.1.2 Reverse-path / Forward-path, with ESMTP parameters).
 *
 * Pure, bounded. Accepts "FROM:<addr> PARAM=VAL ..." (the caller passes
 * the args after the verb, with no leading space). Tolerates one space
 * after the colon (as Postfix does) and runs of spaces between and after
 * the parameters. Angle brackets are required. Source routes
 * ("<@a,@b:user@c>") are checked for syntax, then dropped (RFC 5321 C);
 * quoted local parts are kept as sent. Address length limits: local part
 * 64, domain 255, path 256 including the brackets and any source route.
 * Local part: dot-string (no leading, trailing or double dot) or quoted
 * string. Domain: LDH labels of 1..63 (no hyphen at either end) or an
 * address literal [IPv4] / [IPv6:...] checked with inet_pton; other
 * literal tags are refused. 8-bit and control characters are refused
 * anywhere (we do not offer SMTPUTF8).
 *
 * Parameters are checked for syntax only (esmtp-keyword and esmtp-value,
 * no duplicates, at most SMTP_PARAMS_MAX): this parser does not know
 * which ones the session supports, so it never returns
 * SMTP_ADDR_E_UNKNOWN_PARAM; that value is for the session to use.
 */
#ifndef SEALGATE_SMTP_ADDR_H
#define SEALGATE_SMTP_ADDR_H

#include <stddef.h>
#include <stdint.h>

#include "lib/slice.h"

#define SMTP_ADDR_MAX 256
#define SMTP_PARAMS_MAX 16

enum smtp_addr_kind { SMTP_ADDR_MAIL, SMTP_ADDR_RCPT };

enum smtp_addr_err {
	SMTP_ADDR_E_NONE = 0,
	SMTP_ADDR_E_SYNTAX,	/* 501 5.5.4 bad FROM:/TO: syntax */
	SMTP_ADDR_E_ADDRESS,	/* 501 5.1.7 (MAIL) / 501 5.1.3 (RCPT) bad address */
	SMTP_ADDR_E_TOO_LONG,	/* 501 5.1.7/5.1.3 path too long */
	SMTP_ADDR_E_PARAM,	/* 501 5.5.4 malformed or duplicate parameter */
	SMTP_ADDR_E_UNKNOWN_PARAM, /* 555 5.5.4 unsupported parameter */
	SMTP_ADDR_E_NULL_RCPT,	/* 501 5.1.3 <> is not a valid recipient */
};

struct smtp_param {
	struct slice key;	/* as sent; compare case-insensitively */
	struct slice value;	/* empty when no '=' */
	int has_value;
};

struct smtp_path {
	char addr[SMTP_ADDR_MAX + 1];	/* "local@domain", "" for <>,
					 * NUL-terminated, route dropped */
	size_t addr_len;
	size_t at;			/* index of the '@' before the domain
					 * (a quoted local part may hold
					 * others); addr_len if none */
	struct smtp_param params[SMTP_PARAMS_MAX];
	size_t nparams;
};

/*
 * smtp_addr_parse - parse args into *out. For RCPT, "<postmaster>"
 * (any case) without a domain is accepted (RFC 5321 4.1.1.3). Parameter
 * slices point into args. Returns 0, or -1 with *err_out set (*out then
 * holds nothing useful). <> for RCPT is SMTP_ADDR_E_NULL_RCPT.
 */
int smtp_addr_parse(enum smtp_addr_kind kind, struct slice args,
    struct smtp_path *out, enum smtp_addr_err *err_out);

/* Find a parameter by name (case-insensitive); NULL if absent. */
const struct smtp_param *smtp_path_param(const struct smtp_path *p,
    const char *name);

#endif
