/*
 * test_https_get.c - https_get.c: the CURLOPT_RESOLVE entry built from
 * our resolver's addresses, the reasons of failed transfers, and a
 * handle that refuses anything but https before any network I/O. The
 * transfers themselves are tested against real servers in t_mta_sts.sh,
 * t_wkd.sh and t_tls_rpt.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "dns.h"
#include "https_get.h"
#include "lib/buf.h"

/* entry - the one CURLOPT_RESOLVE string for these addresses */
static char *
entry(const char *host, long port, const char *const *addrs, size_t n)
{
	struct dns_addr a[128];
	struct dns_mx_host h;
	struct curl_slist *sl;
	char *s;
	size_t i;

	assert_true(n <= 128);
	memset(&h, 0, sizeof(h));
	memset(a, 0, sizeof(a));
	for (i = 0; i < n; i++)
		snprintf(a[i].text, sizeof(a[i].text), "%s", addrs[i]);
	h.addrs = a;
	h.naddrs = n;
	sl = https_resolve_entry(host, port, &h);
	assert_non_null(sl);
	assert_null(sl->next);
	s = strdup(sl->data);
	assert_non_null(s);
	curl_slist_free_all(sl);
	return s;
}

struct entry_case {
	const char *host;
	long port;
	const char *addrs[3];
	size_t n;
	const char *want;
};

static const struct entry_case entry_cases[] = {
	{ "mta-sts.example.com", 443, { "192.0.2.1" }, 1,
	  "mta-sts.example.com:443:192.0.2.1" },
	{ "a.example", 443, { "192.0.2.1", "192.0.2.2" }, 2,
	  "a.example:443:192.0.2.1,192.0.2.2" },
	{ "openpgpkey.example.org", 8443,
	  { "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.3" }, 3,
	  "openpgpkey.example.org:8443:192.0.2.1,[2001:db8::1],"
	  "[::ffff:192.0.2.3]" },
	/* an IPv6 address first: no leading comma */
	{ "b.example", 1, { "2001:db8::53" }, 1, "b.example:1:[2001:db8::53]" },
	/* no address at all: the bare prefix */
	{ "c.example", 443, { NULL }, 0, "c.example:443:" },
};

static void
test_resolve_entry(void **state)
{
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < sizeof(entry_cases) / sizeof(entry_cases[0]); i++) {
		const struct entry_case *c = &entry_cases[i];

		s = entry(c->host, c->port, c->addrs, c->n);
		if (strcmp(s, c->want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, s,
			    c->want);
		free(s);
	}
}

/* past 4096 bytes the entry stops at a whole address */
static void
test_resolve_entry_long(void **state)
{
	char text[128][46];
	const char *addrs[128];
	char *s;
	size_t i, n;

	(void)state;
	for (i = 0; i < 128; i++) {
		snprintf(text[i], sizeof(text[i]),
		    "2001:0db8:0000:0000:0000:0000:0000:%04zx", i);
		addrs[i] = text[i];
	}
	s = entry("d.example", 443, addrs, 128);
	n = strlen(s);
	assert_true(n <= 4096);
	assert_true(n > 4000);
	assert_int_equal(s[n - 1], ']');
	assert_int_equal(strncmp(s, "d.example:443:[2001:0db8:", 25), 0);
	free(s);
}

static void
test_curl_why(void **state)
{
	(void)state;
	assert_string_equal(https_curl_why(CURLE_PEER_FAILED_VERIFICATION),
	    "TLS certificate verification failed");
	assert_string_equal(https_curl_why(CURLE_SSL_CONNECT_ERROR),
	    "TLS handshake failed");
	assert_string_equal(https_curl_why(CURLE_SSL_CACERT_BADFILE),
	    "cannot use the CA file");
	assert_string_equal(https_curl_why(CURLE_COULDNT_CONNECT),
	    "cannot connect");
	assert_string_equal(https_curl_why(CURLE_OPERATION_TIMEDOUT),
	    curl_easy_strerror(CURLE_OPERATION_TIMEDOUT));
	assert_string_equal(https_curl_why(CURLE_RECV_ERROR),
	    curl_easy_strerror(CURLE_RECV_ERROR));
}

/* perform - set c up for url and run it; the CURLcode */
static CURLcode
perform(const char *url, struct https_body *body)
{
	char errbuf[CURL_ERROR_SIZE];
	struct https_opts o;
	CURL *c;
	CURLcode rc;

	c = https_curl_new();
	assert_non_null(c);
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.timeout_ms = o.connect_timeout_ms = 2000;
	o.body = body;
	o.errbuf = errbuf;
	o.user_agent = "sealgate-test";
	assert_int_equal(https_curl_setup(c, &o), 0);
	rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	return rc;
}

/* https only: other schemes fail before any connection */
static void
test_https_only(void **state)
{
	struct https_body body;

	(void)state;
	buf_init(&body.b, 16);
	body.too_big = 0;
	assert_int_equal(perform("http://127.0.0.1:9/", &body),
	    CURLE_UNSUPPORTED_PROTOCOL);
	assert_int_equal(perform("file:///etc/hostname", &body),
	    CURLE_UNSUPPORTED_PROTOCOL);
	assert_int_equal(perform("ftp://127.0.0.1:9/x", NULL),
	    CURLE_UNSUPPORTED_PROTOCOL);
	assert_int_equal(body.b.len, 0);
	assert_int_equal(body.too_big, 0);
	buf_free(&body.b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_entry),
		cmocka_unit_test(test_resolve_entry_long),
		cmocka_unit_test(test_curl_why),
		cmocka_unit_test(test_https_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
