/*
 * fuzz_portal_route.c - libFuzzer target for web_route_match() and the
 * method helpers (escrow-web/web_route.c).
 *
 * Input: the bytes up to the first NUL are the (percent-decoded) path,
 * as MHD hands it to the handler; the bytes after it are the method.
 *
 * Any bytes: no crash, leak or hang; the result is one of the known
 * routes; an unknown path gives an all-zero route; a known path is
 * exactly the canonical path of its route (rebuilt here from the
 * route: no trailing '/', no "//", a well-formed 43-character ID, an
 * attachment index in decimal without leading zeros, <= WEB_ATT_MAX);
 * a route rebuilt from the input bytes matches back to itself;
 * web_input_next() (the login "next" target) accepts exactly the
 * message paths; methods and the Allow text agree.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "token.h"
#include "web_input.h"
#include "web_route.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

#define PATH_MAX_FZ	4096

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
#define NFIXED	(sizeof(fixed) / sizeof(fixed[0]))

/* b64url_ok - independent token check: 43 chars of [A-Za-z0-9_-] */
static int
b64url_ok(const char *s)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(s);

	return n == TOKEN_TEXT_LEN && strspn(s, set) == n;
}

/* canonical - the one path of a route; 0 ok, -1 not a path route */
static int
canonical(const struct web_route *r, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; i < NFIXED; i++)
		if (fixed[i].id == r->id) {
			snprintf(out, outsz, "%s", fixed[i].path);
			return 0;
		}
	switch (r->id) {
	case WEB_R_MSG:
		snprintf(out, outsz, "/m/%s", r->escrow_id);
		return 0;
	case WEB_R_MSG_HTML:
		snprintf(out, outsz, "/m/%s/html", r->escrow_id);
		return 0;
	case WEB_R_MSG_REPLY:
		snprintf(out, outsz, "/m/%s/reply", r->escrow_id);
		return 0;
	case WEB_R_MSG_ATT:
		snprintf(out, outsz, "/m/%s/att/%u", r->escrow_id, r->att);
		return 0;
	default:
		return -1;
	}
}

static int
is_msg_route(enum web_route_id id)
{
	return id == WEB_R_MSG || id == WEB_R_MSG_HTML ||
	    id == WEB_R_MSG_REPLY || id == WEB_R_MSG_ATT;
}

/* check_route - everything a route from web_route_match() must be */
static void
check_route(const char *path, const struct web_route *r)
{
	static const struct web_route zero;
	char canon[256];
	unsigned m;
	const char *allow;

	CHECK((unsigned)r->id <= (unsigned)WEB_R_CSS);
	CHECK(memchr(r->escrow_id, '\0', sizeof(r->escrow_id)) != NULL);
	m = web_route_methods(r->id);
	allow = web_route_allow(r->id);
	CHECK(allow != NULL);
	CHECK((m & ~(unsigned)(WEB_M_GET | WEB_M_HEAD | WEB_M_POST)) == 0);
	/* HEAD only where GET is */
	CHECK(!(m & WEB_M_HEAD) || (m & WEB_M_GET));
	CHECK((strstr(allow, "GET") != NULL) == ((m & WEB_M_GET) != 0));
	CHECK((strstr(allow, "HEAD") != NULL) == ((m & WEB_M_HEAD) != 0));
	CHECK((strstr(allow, "POST") != NULL) == ((m & WEB_M_POST) != 0));
	if (r->id == WEB_R_NOT_FOUND) {
		CHECK(memcmp(r, &zero, sizeof(zero)) == 0);
		CHECK(m == 0);
		return;
	}
	CHECK(m != 0);
	if (is_msg_route(r->id)) {
		CHECK(b64url_ok(r->escrow_id));
		CHECK(token_valid_syntax(r->escrow_id));
	} else {
		CHECK(r->escrow_id[0] == '\0');
	}
	if (r->id == WEB_R_MSG_ATT)
		CHECK(r->att <= WEB_ATT_MAX);
	else
		CHECK(r->att == 0);
	/* audited reads are never HEAD or POST */
	if (r->id == WEB_R_MSG || r->id == WEB_R_MSG_HTML ||
	    r->id == WEB_R_MSG_ATT)
		CHECK(m == WEB_M_GET);
	CHECK(canonical(r, canon, sizeof(canon)) == 0);
	CHECK(path != NULL && strcmp(canon, path) == 0);
}

/* roundtrip - a route built from the input must come back from its path */
static void
roundtrip(const uint8_t *data, size_t size)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	struct web_route want, got;
	char path[256];
	size_t i;

	if (size < 3 + TOKEN_TEXT_LEN)
		return;
	memset(&want, 0, sizeof(want));
	want.id = (enum web_route_id)(data[0] % ((unsigned)WEB_R_CSS + 1));
	if (want.id == WEB_R_NOT_FOUND)
		return;
	if (is_msg_route(want.id)) {
		for (i = 0; i < TOKEN_TEXT_LEN; i++)
			want.escrow_id[i] = set[data[3 + i] & 63];
		want.escrow_id[TOKEN_TEXT_LEN] = '\0';
	}
	if (want.id == WEB_R_MSG_ATT)
		want.att = ((unsigned)data[1] << 8 | data[2]) %
		    (WEB_ATT_MAX + 1);
	CHECK(canonical(&want, path, sizeof(path)) == 0);
	web_route_match(path, &got);
	CHECK(memcmp(&want, &got, sizeof(want)) == 0);
	CHECK(web_input_next(path) == (want.id == WEB_R_MSG));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web_route r;
	const uint8_t *nul;
	char *path, *method;
	size_t plen, mlen;
	unsigned mb;

	if (size > PATH_MAX_FZ)
		return 0;
	nul = memchr(data, '\0', size);
	plen = nul != NULL ? (size_t)(nul - data) : size;
	mlen = nul != NULL ? size - plen - 1 : 0;
	/* exact-size heap copies: ASan sees any read past the NUL */
	path = xmalloc(plen + 1);
	memcpy(path, data, plen);
	path[plen] = '\0';
	method = xmalloc(mlen + 1);
	if (mlen > 0)
		memcpy(method, nul + 1, mlen);
	method[mlen] = '\0';

	memset(&r, 0xa5, sizeof(r));
	web_route_match(path, &r);
	check_route(path, &r);
	/* the login "next" target is exactly a message page */
	CHECK(web_input_next(path) == (r.id == WEB_R_MSG));
	/* deterministic */
	{
		struct web_route again;

		web_route_match(path, &again);
		CHECK(memcmp(&r, &again, sizeof(r)) == 0);
	}

	mb = web_route_method(method);
	CHECK(mb == (strcmp(method, "GET") == 0 ? WEB_M_GET :
	    strcmp(method, "HEAD") == 0 ? WEB_M_HEAD :
	    strcmp(method, "POST") == 0 ? WEB_M_POST : 0u));

	roundtrip(data, size);

	web_route_match(NULL, &r);
	CHECK(r.id == WEB_R_NOT_FOUND);
	xfree(path);
	xfree(method);
	return 0;
}
