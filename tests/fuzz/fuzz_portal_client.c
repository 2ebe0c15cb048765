/*
 * fuzz_portal_client.c - libFuzzer target for web_client_resolve()
 * (escrow-web/web_client.c): X-Forwarded-For / X-Forwarded-Proto
 * behind trusted proxies.
 *
 * Input: byte 0 flags (TLS, peer family, peer forced inside or outside
 * the trusted networks, no peer, no XFF, no XFP, XFF repeated past
 * WEB_XFF_MAX), bytes 1-16 the peer address, then the X-Forwarded-For
 * value, a NUL, and the X-Forwarded-Proto value. Trusted networks are
 * fixed: 127.0.0.0/8, 10.0.0.0/8, ::1/128, fd00::/8.
 *
 * Any bytes: no crash, leak or hang; addr is "unknown" only without a
 * peer, else a canonical numeric address (inet_pton/inet_ntop round
 * trip; never an IPv4-mapped IPv6 text); flags are 0/1. An untrusted
 * peer's headers change nothing. From a trusted peer: the scheme is
 * the last XFP item when it is http/https (any case), else the peer's;
 * forwarded implies an XFF; an untrusted address appended to XFF is
 * the client; trusted hops appended after an untrusted client leave it
 * the client; a prefix added in front of a walk that stopped at an
 * untrusted address changes nothing (the left part is client-made).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "cidr.h"
#include "web_client.h"
#include "web_limits.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

#define F_TLS		0x01
#define F_V6		0x02
#define F_TRUST		0x04	/* force the peer into a trusted network */
#define F_UNTRUST	0x08	/* force it out (wins over F_TRUST: none) */
#define F_NOPEER	0x10
#define F_NOXFF		0x20
#define F_NOXFP		0x40
#define F_REPEAT	0x80	/* XFF repeated to beyond WEB_XFF_MAX */

static struct cidr trusted[4];
static int trusted_ok;

static void
init_trusted(void)
{
	static const char *const nets[] = { "127.0.0.0/8", "10.0.0.0/8",
	    "::1/128", "fd00::/8" };
	size_t i;

	if (trusted_ok)
		return;
	for (i = 0; i < 4; i++)
		CHECK(cidr_parse(nets[i], &trusted[i]) == 0);
	trusted_ok = 1;
}

/* addr_trusted - is the text address inside the trusted networks? */
static int
addr_trusted(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	else
		CHECK(0);
	return cidr_match(trusted, 4, (struct sockaddr *)&ss);
}

/* check_addr - a canonical numeric address, or "unknown" */
static void
check_addr(const struct web_client *c, int have_peer)
{
	unsigned char bin[16];
	char back[INET6_ADDRSTRLEN];
	size_t n = strnlen(c->addr, sizeof(c->addr));

	CHECK(n < sizeof(c->addr) && n > 0);
	CHECK(c->https == 0 || c->https == 1);
	CHECK(c->forwarded == 0 || c->forwarded == 1);
	if (strcmp(c->addr, "unknown") == 0) {
		CHECK(!have_peer && !c->forwarded);
		return;
	}
	if (inet_pton(AF_INET, c->addr, bin) == 1) {
		CHECK(inet_ntop(AF_INET, bin, back, sizeof(back)) != NULL);
	} else {
		CHECK(inet_pton(AF_INET6, c->addr, bin) == 1);
		/* mapped addresses are shown as IPv4 */
		CHECK(!IN6_IS_ADDR_V4MAPPED((struct in6_addr *)bin));
		CHECK(inet_ntop(AF_INET6, bin, back, sizeof(back)) != NULL);
	}
	CHECK(strcmp(back, c->addr) == 0);
}

/* xfp_expect - the scheme a trusted peer's XFP gives */
static int
xfp_expect(const char *xfp, int tls)
{
	const char *b, *e = xfp + strlen(xfp);

	while (e > xfp && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	b = e;
	while (b > xfp && b[-1] != ',')
		b--;
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	if (e - b == 5 && strncasecmp(b, "https", 5) == 0)
		return 1;
	if (e - b == 4 && strncasecmp(b, "http", 4) == 0)
		return 0;
	return tls;
}

static char *
concat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *r = xmalloc(la + lb + lc + 1);

	memcpy(r, a, la);
	memcpy(r + la, b, lb);
	memcpy(r + la + lb, c, lc + 1);
	return r;
}

static void
resolve(const struct sockaddr *peer, const char *xff, const char *xfp,
    int tls, struct web_client *c)
{
	memset(c, 0x5a, sizeof(*c));
	web_client_resolve(peer, trusted, 4, xff, xfp, tls, c);
	check_addr(c, peer != NULL);
}

/* hops_of - items in s (commas + 1), 0 for an empty string */
static size_t
hops_of(const char *s)
{
	size_t n = 1;

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		n += *s == ',';
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	const struct sockaddr *peer;
	struct web_client c, c2;
	char peer_text[INET6_ADDRSTRLEN];
	const uint8_t *rest, *nul;
	char *xff = NULL, *xfp = NULL, *t;
	size_t rlen, xlen, i;
	int flags, tls, peer_trusted;

	if (size < 17 || size > 4 * WEB_XFF_MAX)
		return 0;
	init_trusted();
	flags = data[0];
	tls = flags & F_TLS;
	memset(&ss, 0, sizeof(ss));
	if (flags & F_V6) {
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, data + 1, 16);
		if ((flags & (F_TRUST | F_UNTRUST)) == F_TRUST)
			s6->sin6_addr.s6_addr[0] = 0xfd;
		else if (flags & F_UNTRUST)
			s6->sin6_addr.s6_addr[0] = 0x20;
	} else {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, data + 1, 4);
		if ((flags & (F_TRUST | F_UNTRUST)) == F_TRUST)
			((unsigned char *)&s4->sin_addr)[0] = 10;
		else if (flags & F_UNTRUST)
			((unsigned char *)&s4->sin_addr)[0] = 192;
	}
	peer = (flags & F_NOPEER) ? NULL : (struct sockaddr *)&ss;
	peer_trusted = peer != NULL && cidr_match(trusted, 4, peer);

	rest = data + 17;
	rlen = size - 17;
	nul = memchr(rest, '\0', rlen);
	xlen = nul != NULL ? (size_t)(nul - rest) : rlen;
	if (!(flags & F_NOXFF)) {
		size_t reps = (flags & F_REPEAT) && xlen > 0 ?
		    (WEB_XFF_MAX + 64) / xlen + 1 : 1;
		xff = xmalloc(xlen * reps + 1);
		for (i = 0; i < reps; i++)
			memcpy(xff + i * xlen, rest, xlen);
		xff[xlen * reps] = '\0';
	}
	if (!(flags & F_NOXFP) && nul != NULL) {
		xfp = xmalloc(rlen - xlen);
		memcpy(xfp, nul + 1, rlen - xlen - 1);
		xfp[rlen - xlen - 1] = '\0';
		/* a header value has no NUL: up to the first one */
	}

	resolve(peer, xff, xfp, tls, &c);

	/* no peer: nothing else counts */
	if (peer == NULL) {
		CHECK(strcmp(c.addr, "unknown") == 0 && c.https == tls &&
		    !c.forwarded);
		goto out;
	}
	resolve(peer, NULL, NULL, tls, &c2);
	CHECK(strcmp(c2.addr, "unknown") != 0 && !c2.forwarded &&
	    c2.https == tls);
	memcpy(peer_text, c2.addr, sizeof(peer_text));
	if (!peer_trusted) {
		/* an untrusted peer's headers are ignored */
		CHECK(strcmp(c.addr, peer_text) == 0 && c.https == tls &&
		    !c.forwarded);
		goto out;
	}
	CHECK(c.https == (xfp != NULL ? xfp_expect(xfp, tls) : tls));
	if (xff == NULL) {
		CHECK(!c.forwarded && strcmp(c.addr, peer_text) == 0);
		goto out;
	}
	if (!c.forwarded)
		CHECK(strcmp(c.addr, peer_text) == 0);

	/* an untrusted address appended is the client */
	if (strlen(xff) + 32 <= WEB_XFF_MAX) {
		t = concat3(xff, ", ", "[2001:db8::7]:8443");
		resolve(peer, t, xfp, tls, &c2);
		CHECK(c2.forwarded && strcmp(c2.addr, "2001:db8::7") == 0);
		xfree(t);
		t = concat3(xff, ",", "198.51.100.23");
		resolve(peer, t, xfp, tls, &c2);
		CHECK(c2.forwarded && strcmp(c2.addr, "198.51.100.23") == 0);
		xfree(t);
	}
	/* a walk that ended at an untrusted client address */
	if (c.forwarded && !addr_trusted(c.addr)) {
		/* a trusted hop after it: same client */
		if (strlen(xff) + 16 <= WEB_XFF_MAX &&
		    hops_of(xff) + 1 <= WEB_XFF_HOPS_MAX) {
			t = concat3(xff, ", ", "10.3.2.1");
			resolve(peer, t, xfp, tls, &c2);
			CHECK(c2.forwarded && strcmp(c2.addr, c.addr) == 0);
			xfree(t);
		}
		/* anything in front: same client */
		if (strlen(xff) + 64 <= WEB_XFF_MAX) {
			t = concat3("[::1, 10.0.0.1, junk, ::ffff:1.2.3.4", ", ",
			    xff);
			resolve(peer, t, xfp, tls, &c2);
			CHECK(c2.forwarded && strcmp(c2.addr, c.addr) == 0);
			xfree(t);
		}
	}
out:
	xfree(xff);
	xfree(xfp);
	return 0;
}
