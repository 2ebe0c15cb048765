/*
 * web_client.c - client address and scheme behind trusted proxies.
 *
 * Implements: the de-facto X-Forwarded-For / X-Forwarded-Proto
 * convention (rightmost-untrusted rule, as nginx's real_ip_recursive).
 * Trust: the headers are client input unless the peer is a configured
 * proxy; even then only the part the proxies appended is believed.
 * No I/O, no logging.
 */
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#include "web_client.h"
#include "web_limits.h"

union any_sa {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* sa_format - numeric text of sa, IPv4-mapped IPv6 as IPv4; -1 if none */
static int
sa_format(const struct sockaddr *sa, char *out, size_t outsz)
{
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		return inet_ntop(AF_INET, &s4->sin_addr, out, outsz) ? 0 : -1;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			return inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12],
			    out, outsz) ? 0 : -1;
		return inet_ntop(AF_INET6, &s6->sin6_addr, out, outsz) ?
		    0 : -1;
	}
	return -1;
}

/* parse_item - one X-Forwarded-For item into *sa; 0 ok, -1 malformed */
static int
parse_item(const char *p, size_t len, union any_sa *sa)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	const char *colon;
	size_t i;

	memset(sa, 0, sizeof(*sa));
	if (len == 0 || len >= sizeof(tmp))
		return -1;
	if (p[0] == '[') {
		const char *rb = memchr(p, ']', len);
		if (rb == NULL)
			return -1;
		/* "[v6]" or "[v6]:port" */
		if ((size_t)(rb - p) + 1 != len) {
			if (rb[1] != ':' || (size_t)(rb - p) + 2 >= len)
				return -1;
			for (i = (size_t)(rb - p) + 2; i < len; i++)
				if (p[i] < '0' || p[i] > '9')
					return -1;
		}
		memcpy(tmp, p + 1, (size_t)(rb - p) - 1);
		tmp[rb - p - 1] = '\0';
		sa->in6.sin6_family = AF_INET6;
		return inet_pton(AF_INET6, tmp, &sa->in6.sin6_addr) == 1 ?
		    0 : -1;
	}
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	colon = strchr(tmp, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		sa->in6.sin6_family = AF_INET6;
		return inet_pton(AF_INET6, tmp, &sa->in6.sin6_addr) == 1 ?
		    0 : -1;
	}
	if (colon != NULL) {	/* a.b.c.d:port */
		if (colon[1] == '\0')
			return -1;
		for (i = 1; colon[i] != '\0'; i++)
			if (colon[i] < '0' || colon[i] > '9')
				return -1;
		tmp[colon - tmp] = '\0';
	}
	sa->in4.sin_family = AF_INET;
	return inet_pton(AF_INET, tmp, &sa->in4.sin_addr) == 1 ? 0 : -1;
}

/* last_item - the last comma-separated item of s, trimmed */
static void
last_item(const char *s, const char **p_out, size_t *len_out)
{
	size_t len = strlen(s), e = len, b;

	while (e > 0 && is_blank(s[e - 1]))
		e--;
	b = e;
	while (b > 0 && s[b - 1] != ',')
		b--;
	while (b < e && is_blank(s[b]))
		b++;
	*p_out = s + b;
	*len_out = e - b;
}

/* web_client_resolve - the client address and scheme of a request */
void
web_client_resolve(const struct sockaddr *peer,
    const struct cidr *trusted, size_t ntrusted, const char *xff,
    const char *xfp, int tls, struct web_client *out)
{
	size_t len, end, hops = 0;
	const char *p;

	memset(out, 0, sizeof(*out));
	out->https = tls ? 1 : 0;
	if (sa_format(peer, out->addr, sizeof(out->addr)) < 0) {
		memcpy(out->addr, "unknown", sizeof("unknown"));
		return;
	}
	if (ntrusted == 0 || !cidr_match(trusted, ntrusted, peer))
		return;

	if (xfp != NULL) {
		last_item(xfp, &p, &len);
		if (len == 5 && strncasecmp(p, "https", 5) == 0)
			out->https = 1;
		else if (len == 4 && strncasecmp(p, "http", 4) == 0)
			out->https = 0;
	}
	if (xff == NULL)
		return;
	len = strlen(xff);
	p = xff;
	if (len > WEB_XFF_MAX) {
		/* only the tail, where our proxies wrote; its first item
		 * may be cut and is dropped */
		p = xff + len - WEB_XFF_MAX;
		len = WEB_XFF_MAX;
		while (len > 0 && *p != ',') {
			p++;
			len--;
		}
	}
	end = len;
	while (end > 0 && hops < WEB_XFF_HOPS_MAX) {
		size_t b = end, s, e;
		union any_sa sa;
		char text[INET6_ADDRSTRLEN];

		while (b > 0 && p[b - 1] != ',')
			b--;
		s = b;
		e = end;
		while (s < e && is_blank(p[s]))
			s++;
		while (e > s && is_blank(p[e - 1]))
			e--;
		hops++;
		if (parse_item(p + s, e - s, &sa) < 0 ||
		    sa_format(&sa.sa, text, sizeof(text)) < 0)
			break;
		memcpy(out->addr, text, sizeof(text));
		out->forwarded = 1;
		if (!cidr_match(trusted, ntrusted, &sa.sa))
			break;
		if (b == 0)
			break;
		end = b - 1;	/* before the ',' */
	}
}
