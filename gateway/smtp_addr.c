/*
 * smtp_addr.c - parse the arguments of MAIL FROM: and RCPT TO:
 *
 * Implements: RFC 5321 4.1.2 (Path, Mailbox, Local-part, Domain,
 * address-literal, Mail-parameters / Rcpt-parameters), 4.1.3 (address
 * literals), 4.5.3.1.1-3 (local part 64, domain 255, path 256 octets),
 * Appendix C (source routes are accepted and ignored), 4.1.1.3
 * (<Postmaster> without a domain as a recipient).
 * Trust: bytes straight from the network; no I/O and no logging here.
 * Ownership: the address is copied into the caller's struct smtp_path;
 * parameter slices point into the caller's args.
 *
 * Stricter than RFC 5321 in one place, like most hardened servers: the
 * angle brackets are required. Laxer in two: one SP after the colon
 * (Postfix and most servers allow it), and runs of SP between and after
 * the parameters.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "smtp_addr.h"
#include "lib/sg_limits.h"

/* atext - RFC 5322 3.2.3: the characters of a dot-atom */
static int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_alnum - ASCII only, whatever the locale */
static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* path_close - the '>' that closes the path, skipping quoted strings;
 * NULL when there is none */
static const char *
path_close(const char *s, const char *end)
{
	int quoted = 0;

	for (; s < end; s++) {
		if (quoted && *s == '\\') {
			if (s + 1 == end)
				return NULL;
			s++;
		} else if (*s == '"') {
			quoted = !quoted;
		} else if (!quoted && *s == '>') {
			return s;
		}
	}
	return NULL;
}

/* domain_valid - LDH labels of 1..63, no hyphen at either end of a label */
static int
domain_valid(const char *s, const char *end)
{
	const char *label = s;

	if (s == end || (size_t)(end - s) > SG_SMTP_DOMAIN_MAX)
		return 0;
	for (; s <= end; s++) {
		if (s == end || *s == '.') {
			if (s == label || s - label > 63)
				return 0;
			if (label[0] == '-' || s[-1] == '-')
				return 0;
			label = s + 1;
		} else if (!is_alnum((unsigned char)*s) && *s != '-') {
			return 0;
		}
	}
	return 1;
}

/* literal_valid - "[a.b.c.d]" or "[IPv6:...]", checked with inet_pton;
 * general address literals (other tags) are refused */
static int
literal_valid(const char *s, const char *end)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	unsigned char bin[16];
	size_t n;
	int af;

	if (end - s < 3 || s[0] != '[' || end[-1] != ']')
		return 0;
	s++;
	end--;
	af = AF_INET;
	if (end - s >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		af = AF_INET6;
		s += 5;
	}
	n = (size_t)(end - s);
	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* inet_pton stops at NUL: make sure there was none inside. */
	if (strlen(tmp) != n)
		return 0;
	return inet_pton(af, tmp, bin) == 1;
}

/* route_skip - skip a source route "@a,@b:"; returns the byte after the
 * colon, or NULL when the route is malformed */
static const char *
route_skip(const char *s, const char *end)
{
	const char *d;

	for (;;) {
		if (s == end || *s != '@')
			return NULL;
		d = ++s;
		while (s < end && *s != ',' && *s != ':')
			s++;
		if (s == end || !domain_valid(d, s))
			return NULL;
		if (*s++ == ':')
			return s;
	}
}

/* local_end - end of a dot-string or quoted-string local part starting at
 * s; NULL when it is malformed */
static const char *
local_end(const char *s, const char *end)
{
	const char *q;
	unsigned char c;

	if (s == end)
		return NULL;
	if (*s == '"') {
		/* RFC 5321 qtextSMTP / quoted-pairSMTP: printable ASCII only */
		for (q = s + 1; q < end; q++) {
			c = (unsigned char)*q;
			if (c == '"')
				return q + 1;
			if (c == '\\') {
				if (++q == end)
					return NULL;
				c = (unsigned char)*q;
			}
			if (c < 0x20 || c > 0x7e)
				return NULL;
		}
		return NULL;
	}
	/* Dot-string: atoms separated by single dots. */
	for (q = s; q < end; q++) {
		if (*q == '.') {
			if (q == s || q[-1] == '.')
				return NULL;
		} else if (!is_atext((unsigned char)*q)) {
			break;
		}
	}
	if (q == s || q[-1] == '.')
		return NULL;
	return q;
}

/*
 * mailbox_parse - the inside of <...> into out->addr: null path, optional
 * source route (dropped), local part, '@', domain or address literal
 */
static int
mailbox_parse(enum smtp_addr_kind kind, const char *s, const char *end,
    struct smtp_path *out, enum smtp_addr_err *err_out)
{
	const char *lend, *box;
	int routed = 0;

	if (s == end) {
		if (kind == SMTP_ADDR_RCPT) {
			*err_out = SMTP_ADDR_E_NULL_RCPT;
			return -1;
		}
		return 0;
	}
	if (*s == '@') {
		s = route_skip(s, end);
		if (s == NULL)
			goto bad;
		routed = 1;
	}
	box = s;
	lend = local_end(s, end);
	if (lend == NULL)
		goto bad;
	if (lend - s > SG_SMTP_LOCAL_MAX) {
		*err_out = SMTP_ADDR_E_TOO_LONG;
		return -1;
	}
	if (lend == end) {
		/* RFC 5321 4.1.1.3: "<Postmaster>" needs no domain. */
		if (kind == SMTP_ADDR_RCPT && !routed &&
		    slice_eq_ci(slice_make(s, (size_t)(lend - s)),
		    "postmaster")) {
			out->at = (size_t)(end - box);
			goto copy;
		}
		goto bad;
	}
	if (*lend != '@')
		goto bad;
	out->at = (size_t)(lend - box);
	s = lend + 1;
	if (end - s > SG_SMTP_DOMAIN_MAX) {
		*err_out = SMTP_ADDR_E_TOO_LONG;
		return -1;
	}
	if (s < end && *s == '[') {
		if (!literal_valid(s, end))
			goto bad;
	} else if (!domain_valid(s, end)) {
		goto bad;
	}
copy:
	/* Bounded by the path check in the caller. */
	out->addr_len = (size_t)(end - box);
	memcpy(out->addr, box, out->addr_len);
	out->addr[out->addr_len] = '\0';
	return 0;
bad:
	*err_out = SMTP_ADDR_E_ADDRESS;
	return -1;
}

/* param_add - one esmtp-param "keyword[=value]" (RFC 5321 4.1.2) */
static int
param_add(struct smtp_path *out, const char *s, const char *end)
{
	struct smtp_param *pp;
	const char *k = s;
	size_t i;

	if (s == end || !is_alnum((unsigned char)*s))
		return -1;
	while (s < end && (is_alnum((unsigned char)*s) || *s == '-'))
		s++;
	if (s < end && *s != '=')
		return -1;
	if (out->nparams == SMTP_PARAMS_MAX)
		return -1;
	pp = &out->params[out->nparams];
	pp->key = slice_make(k, (size_t)(s - k));
	pp->value = slice_make(end, 0);
	pp->has_value = 0;
	if (s < end) {
		/* esmtp-value = 1*(%d33-60 / %d62-126) */
		if (++s == end)
			return -1;
		pp->value = slice_make(s, (size_t)(end - s));
		pp->has_value = 1;
		for (; s < end; s++) {
			unsigned char c = (unsigned char)*s;

			if (c < 33 || c > 126 || c == '=')
				return -1;
		}
	}
	for (i = 0; i < out->nparams; i++) {
		if (out->params[i].key.len == pp->key.len &&
		    strncasecmp(out->params[i].key.ptr, pp->key.ptr,
		    pp->key.len) == 0)
			return -1;
	}
	out->nparams++;
	return 0;
}

/* smtp_addr_parse - "FROM:<path> params" or "TO:<path> params" */
int
smtp_addr_parse(enum smtp_addr_kind kind, struct slice args,
    struct smtp_path *out, enum smtp_addr_err *err_out)
{
	const char *prefix = kind == SMTP_ADDR_MAIL ? "FROM:" : "TO:";
	size_t plen = strlen(prefix);
	const char *s, *end, *close, *tok;

	out->addr[0] = '\0';
	out->addr_len = 0;
	out->at = 0;
	out->nparams = 0;
	*err_out = SMTP_ADDR_E_NONE;

	if (args.len < plen || strncasecmp(args.ptr, prefix, plen) != 0)
		goto syntax;
	s = args.ptr + plen;
	end = args.ptr + args.len;
	if (s < end && *s == ' ')
		s++;
	/* Bare addresses without <> are refused, as strict servers do. */
	if (s == end || *s != '<')
		goto syntax;
	close = path_close(s + 1, end);
	if (close == NULL)
		goto syntax;
	/* RFC 5321 4.5.3.1.3: 256 octets including the brackets */
	if ((size_t)(close - s) + 1 > SMTP_ADDR_MAX) {
		*err_out = SMTP_ADDR_E_TOO_LONG;
		return -1;
	}
	if (mailbox_parse(kind, s + 1, close, out, err_out) < 0)
		return -1;

	s = close + 1;
	if (s < end && *s != ' ')
		goto syntax;
	while (s < end) {
		while (s < end && *s == ' ')
			s++;
		if (s == end)
			break;
		tok = s;
		while (s < end && *s != ' ')
			s++;
		if (param_add(out, tok, s) < 0) {
			*err_out = SMTP_ADDR_E_PARAM;
			return -1;
		}
	}
	return 0;
syntax:
	*err_out = SMTP_ADDR_E_SYNTAX;
	return -1;
}

/* smtp_path_param - a parameter by name, case-insensitively */
const struct smtp_param *
smtp_path_param(const struct smtp_path *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nparams; i++) {
		if (slice_eq_ci(p->params[i].key, name))
			return &p->params[i];
	}
	return NULL;
}
