/*
 * smtp_addr.h - parse the arguments of MAIL FROM: and RCPT TO:
 * (RFC 5321 4.1.2 Reverse-path / Forward-path, with ESMTP parameters).
 *
 * Pure, bounded. Accepts "FROM:<addr> PARAM=VAL ..." (the caller passes
 * the args after the verb). Tolerates one space after the colon (as
 * Postfix does), rejects source routes' contents (they are stripped per
 * RFC 5321 C), quoted local parts are kept as sent. Address length limits:
 * local part 64, domain 255, path 256. Domain: dot-atom LDH labels or an
 * address literal [IPv4] / [IPv6:...]. 8-bit characters in the address
 * are refused unless smtputf8 is set (we do not offer SMTPUTF8 yet).
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
	char addr[SMTP_ADDR_MAX + 1];	/* "local@domain", "" for <> */
	size_t addr_len;
	size_t at;			/* index of '@' (addr_len if none) */
	struct smtp_param params[SMTP_PARAMS_MAX];
	size_t nparams;
};

/*
 * smtp_addr_parse - parse args into *out. For RCPT, "<postmaster>"
 * without a domain is accepted (RFC 5321 4.1.1.3). Parameter slices point
 * into args. Returns 0, or -1 with *err_out set.
 */
int smtp_addr_parse(enum smtp_addr_kind kind, struct slice args,
    struct smtp_path *out, enum smtp_addr_err *err_out);

/* Find a parameter by name (case-insensitive); NULL if absent. */
const struct smtp_param *smtp_path_param(const struct smtp_path *p,
    const char *name);

#endif
