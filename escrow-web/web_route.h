/*
 * web_route.h - the portal's routes (docs/portal.md "Routes"): a path
 * to a route id with its parameters, and the methods each allows.
 *
 * Pure: no I/O, no logging.
 */
#ifndef SEALGATE_WEB_ROUTE_H
#define SEALGATE_WEB_ROUTE_H

#include "token.h"

enum web_route_id {
	WEB_R_NOT_FOUND = 0,
	WEB_R_ROOT,		/* /                  GET */
	WEB_R_LOGIN,		/* /login             GET POST */
	WEB_R_LOGOUT,		/* /logout            POST */
	WEB_R_ENROLL,		/* /enroll            GET POST */
	WEB_R_RESET,		/* /reset             GET POST */
	WEB_R_RESET_CONFIRM,	/* /reset/confirm     GET POST */
	WEB_R_RECALL,		/* /recall            GET POST */
	WEB_R_INBOX,		/* /inbox             GET */
	WEB_R_MSG,		/* /m/ID              GET */
	WEB_R_MSG_HTML,		/* /m/ID/html         GET */
	WEB_R_MSG_ATT,		/* /m/ID/att/N        GET */
	WEB_R_MSG_REPLY,	/* /m/ID/reply        POST */
	WEB_R_CSS,		/* /static/portal.css GET */
};

#define WEB_M_GET	0x1
#define WEB_M_HEAD	0x2
#define WEB_M_POST	0x4

#define WEB_ATT_MAX	9999	/* highest attachment index in a URL */

struct web_route {
	enum web_route_id id;
	char escrow_id[TOKEN_TEXT_LEN + 1];	/* /m/ routes */
	unsigned att;				/* WEB_R_MSG_ATT: N */
};

/* web_route_match - the route for a (percent-decoded) path, without its
 * query string. Exact matches only: no trailing '/', no "//", an ID
 * must be a well-formed token, N decimal without leading zeros (0 is
 * the first attachment) and at most WEB_ATT_MAX. Unknown: id
 * WEB_R_NOT_FOUND. */
void web_route_match(const char *path, struct web_route *out);

/* web_route_methods - WEB_M_* bits a route allows (0 for not found) */
unsigned web_route_methods(enum web_route_id id);

/* web_route_method - WEB_M_* bit of a method name, 0 if none of ours */
unsigned web_route_method(const char *method);

/* web_route_allow - the Allow header value for a route ("GET, HEAD") */
const char *web_route_allow(enum web_route_id id);

#endif
