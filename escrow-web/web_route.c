/*
 * web_route.c - path to route.
 *
 * Implements: the route table of docs/portal.md; RFC 7231 4.3.2 (HEAD
 * where GET has no side effect), 6.5.5 (Allow on 405).
 * Trust: the path is client input (already percent-decoded by MHD):
 * matched exactly, never used to build a file name. No I/O, no logging.
 */
#include <string.h>

#include "web_route.h"

static const struct {
	const char *path;
	enum web_route_id id;
} fixed[] = {
	{ "/", WEB_R_ROOT },
	{ "/login", WEB_R_LOGIN },
	{ "/logout", WEB_R_LOGOUT },
	{ "/enroll", WEB_R_ENROLL },
	{ "/reset", WEB_R_RESET },
	{ "/reset/confirm", WEB_R_RESET_CONFIRM },
	{ "/recall", WEB_R_RECALL },
	{ "/inbox", WEB_R_INBOX },
	{ "/static/portal.css", WEB_R_CSS },
};

/* parse_index - N of /att/N: digits, no leading zero, <= WEB_ATT_MAX */
static int
parse_index(const char *s, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 4)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > WEB_ATT_MAX)
		return -1;
	*out = v;
	return 0;
}

void
web_route_match(const char *path, struct web_route *out)
{
	const char *rest;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->id = WEB_R_NOT_FOUND;
	if (path == NULL)
		return;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(path, fixed[i].path) == 0) {
			out->id = fixed[i].id;
			return;
		}
	if (strncmp(path, "/m/", 3) != 0)
		return;
	path += 3;
	rest = strchr(path, '/');
	if ((rest == NULL ? strlen(path) : (size_t)(rest - path)) !=
	    TOKEN_TEXT_LEN)
		return;
	memcpy(out->escrow_id, path, TOKEN_TEXT_LEN);
	out->escrow_id[TOKEN_TEXT_LEN] = '\0';
	if (!token_valid_syntax(out->escrow_id)) {
		memset(out, 0, sizeof(*out));
		return;
	}
	if (rest == NULL)
		out->id = WEB_R_MSG;
	else if (strcmp(rest, "/html") == 0)
		out->id = WEB_R_MSG_HTML;
	else if (strcmp(rest, "/reply") == 0)
		out->id = WEB_R_MSG_REPLY;
	else if (strncmp(rest, "/att/", 5) == 0 &&
	    parse_index(rest + 5, &out->att) == 0)
		out->id = WEB_R_MSG_ATT;
	if (out->id == WEB_R_NOT_FOUND)
		memset(out, 0, sizeof(*out));
}

unsigned
web_route_methods(enum web_route_id id)
{
	switch (id) {
	case WEB_R_NOT_FOUND:
		return 0;
	case WEB_R_LOGIN:
	case WEB_R_ENROLL:
	case WEB_R_RESET:
	case WEB_R_RESET_CONFIRM:
	case WEB_R_RECALL:
		return WEB_M_GET | WEB_M_HEAD | WEB_M_POST;
	case WEB_R_LOGOUT:
	case WEB_R_MSG_REPLY:
		return WEB_M_POST;
	case WEB_R_ROOT:
	case WEB_R_INBOX:
	case WEB_R_CSS:
		return WEB_M_GET | WEB_M_HEAD;
	case WEB_R_MSG:
	case WEB_R_MSG_HTML:
	case WEB_R_MSG_ATT:
		/* reads are audited: no HEAD */
		return WEB_M_GET;
	}
	return 0;
}

unsigned
web_route_method(const char *method)
{
	if (strcmp(method, "GET") == 0)
		return WEB_M_GET;
	if (strcmp(method, "HEAD") == 0)
		return WEB_M_HEAD;
	if (strcmp(method, "POST") == 0)
		return WEB_M_POST;
	return 0;
}

const char *
web_route_allow(enum web_route_id id)
{
	switch (web_route_methods(id)) {
	case WEB_M_GET | WEB_M_HEAD | WEB_M_POST:
		return "GET, HEAD, POST";
	case WEB_M_POST:
		return "POST";
	case WEB_M_GET | WEB_M_HEAD:
		return "GET, HEAD";
	case WEB_M_GET:
		return "GET";
	}
	return "";
}
