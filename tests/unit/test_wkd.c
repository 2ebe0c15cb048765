/*
 * test_wkd.c - unit tests for the pure parts of wkd.c: the z-base-32
 * local-part hash and the advanced/direct URLs, plus wkd_fetch()'s
 * refusal of a bad address before any network I/O. The fetch itself is
 * tested against real DNS and HTTPS servers in t_wkd.sh.
 *
 * Hash vectors: "joe.doe" is the draft's and GnuPG's published example;
 * the others were computed with GnuPG 2.2's
 *   gpg-wks-client --print-wkd-hash LOCAL@x.org
 * and agree with this independent Python implementation:
 *
 *   import hashlib
 *   A = "ybndrfg8ejkmcpqxot1uwisza345h769"
 *   def wkd_hash(local: bytes) -> str:
 *       low = bytes(c + 32 if 65 <= c <= 90 else c for c in local)
 *       d = int.from_bytes(hashlib.sha1(low).digest(), "big")
 *       return "".join(A[(d >> (155 - 5 * i)) & 31] for i in range(32))
 *
 * When gpg-wks-client is installed (Debian: gnupg-utils, in gpgconf's
 * libexecdir) test_hash_gnupg also asks it at test time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "wkd.h"
#include "lib/buf.h"

/* ---- wkd_hash ---- */

struct hash_case {
	const char *local;
	const char *want;
};

static const struct hash_case hash_cases[] = {
	{ "joe.doe", "iy9q119eutrkn8s1mk4r39qejnbu3n5q" },
	/* the hash is of the lower-cased local part */
	{ "Joe.Doe", "iy9q119eutrkn8s1mk4r39qejnbu3n5q" },
	{ "JOE.DOE", "iy9q119eutrkn8s1mk4r39qejnbu3n5q" },
	{ "a", "o556ep94wsu93ak7dzqmu4zk7e5zc37a" },
	{ "alice", "kei1q4tipxxu1yj79k9kfukdhfy631xe" },
	{ "bob+tag", "3f4m1zubdt93wwrp3xagb1xknzu9a91x" },
	{ "o'neil", "68h1irewb79k7gcuqz986k6igujwx7bw" },
	{ "x_y-z~1", "udc99f966m4grdfi16qbpbammy1n3w7h" },
	{ "MiXeD.Case", "tdn1p78xefbk11sq9fsc8k6rfqia58ab" },
	/* UTF-8 is hashed as it is: only ASCII A-Z are lower-cased */
	{ "\xc3\x84\xc3\x96", "xmg135rmr4a5ofoqzps56dbppakymhqo" },
	{ "\xc3\x84", "s9fme9jo7eezrmouord47paj9xhd37rm" },
	{ "\xc3\xa4", "1ax4rm5bwizbuh9i9nd81ypctu46pwe9" },
	/* SHA-1 of nothing */
	{ "", "5eh48516ppfo4c1iz9z3kaya1nz7obaj" },
};

static void
test_hash_vectors(void **state)
{
	char out[WKD_HASH_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hash_cases) / sizeof(hash_cases[0]); i++) {
		const struct hash_case *c = &hash_cases[i];

		memset(out, 'X', sizeof(out));
		wkd_hash(c->local, strlen(c->local), out);
		if (strcmp(out, c->want) != 0)
			fail_msg("wkd_hash(\"%s\"): got \"%s\", want \"%s\"",
			    c->local, out, c->want);
		assert_int_equal(strlen(out), WKD_HASH_LEN);
	}
}

/* only local_len bytes count: no NUL needed, bytes after it ignored */
static void
test_hash_length(void **state)
{
	char out[WKD_HASH_LEN + 1], *p;

	(void)state;
	p = malloc(7);
	assert_non_null(p);
	memcpy(p, "joe.doe", 7);	/* no NUL: ASan sees overreads */
	wkd_hash(p, 7, out);
	assert_string_equal(out, "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
	free(p);
	wkd_hash("joe.doe@example.org", 7, out);
	assert_string_equal(out, "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
}

/* longer than the lower-casing chunk: 1000 'A' hash like 1000 'a' */
static void
test_hash_long(void **state)
{
	char in[1000], out[WKD_HASH_LEN + 1];

	(void)state;
	memset(in, 'A', sizeof(in));
	wkd_hash(in, sizeof(in), out);
	assert_string_equal(out, "frxjw5dgufrwupm5wzufypo6ud6dpcp4");
	memset(in, 'a', sizeof(in));
	wkd_hash(in, sizeof(in), out);
	assert_string_equal(out, "frxjw5dgufrwupm5wzufypo6ud6dpcp4");
}

/* gnupg_tool - the path of gpg-wks-client, or "" */
static void
gnupg_tool(char *path, size_t len)
{
	char dir[512];
	FILE *p;

	path[0] = '\0';
	p = popen("gpgconf --list-dirs libexecdir 2>/dev/null", "r");
	if (p == NULL)
		return;
	if (fgets(dir, sizeof(dir), p) != NULL) {
		dir[strcspn(dir, "\n")] = '\0';
		snprintf(path, len, "%s/gpg-wks-client", dir);
		if (access(path, X_OK) != 0)
			path[0] = '\0';
	}
	(void)pclose(p);
}

/* the same answers as GnuPG itself, asked now */
static void
test_hash_gnupg(void **state)
{
	static const char *const locals[] = {
		"joe.doe", "Joe.Doe", "alice", "bob+tag", "o'neil",
		"x_y-z~1", "MiXeD.Case", "a", "z", "0123456789",
		"first.last+folder", "\xc3\x84\xc3\x96", "UPPER",
		"with=equals", "dash-under_score", "x.y.z.w",
	};
	char tool[600], tmp[] = "/tmp/test_wkd.XXXXXX", cmd[1400];
	char line[512], mine[WKD_HASH_LEN + 1];
	size_t i, n = sizeof(locals) / sizeof(locals[0]);
	FILE *f, *p;
	int fd;

	(void)state;
	gnupg_tool(tool, sizeof(tool));
	if (tool[0] == '\0') {
		print_message("gpg-wks-client not installed: skipped\n");
		skip();
	}
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s@x.org\n", locals[i]);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "'%s' --print-wkd-hash <'%s'", tool, tmp);
	p = popen(cmd, "r");
	assert_non_null(p);
	for (i = 0; i < n; i++) {
		if (fgets(line, sizeof(line), p) == NULL)
			fail_msg("gpg-wks-client: no answer for \"%s\"",
			    locals[i]);
		wkd_hash(locals[i], strlen(locals[i]), mine);
		/* "HASH local@x.org" */
		if (strlen(line) < WKD_HASH_LEN + 1 ||
		    line[WKD_HASH_LEN] != ' ' ||
		    strncmp(line, mine, WKD_HASH_LEN) != 0)
			fail_msg("\"%s\": got \"%s\", gpg-wks-client says "
			    "\"%.*s\"", locals[i], mine,
			    (int)strcspn(line, "\n"), line);
	}
	(void)pclose(p);
	unlink(tmp);
}

/* ---- wkd_urls ---- */

#define ADV(dom, h, l) "https://openpgpkey." dom \
	"/.well-known/openpgpkey/" dom "/hu/" h "?l=" l
#define DIR(dom, h, l) "https://" dom "/.well-known/openpgpkey/hu/" h \
	"?l=" l

struct url_case {
	const char *name;
	const char *addr;
	const char *adv;		/* NULL: wkd_urls must fail */
	const char *dir;
};

static const struct url_case url_cases[] = {
	{ "draft example, domain lower-cased, l= as given",
	    "Joe.Doe@Example.ORG",
	    ADV("example.org", "iy9q119eutrkn8s1mk4r39qejnbu3n5q", "Joe.Doe"),
	    DIR("example.org", "iy9q119eutrkn8s1mk4r39qejnbu3n5q",
	    "Joe.Doe") },
	{ "plus sign encoded", "bob+tag@x.org",
	    ADV("x.org", "3f4m1zubdt93wwrp3xagb1xknzu9a91x", "bob%2Btag"),
	    DIR("x.org", "3f4m1zubdt93wwrp3xagb1xknzu9a91x", "bob%2Btag") },
	{ "unreserved kept", "x_y-z~1@Sub.X.Org",
	    ADV("sub.x.org", "udc99f966m4grdfi16qbpbammy1n3w7h", "x_y-z~1"),
	    DIR("sub.x.org", "udc99f966m4grdfi16qbpbammy1n3w7h", "x_y-z~1") },
	{ "apostrophe", "o'neil@x.org",
	    ADV("x.org", "68h1irewb79k7gcuqz986k6igujwx7bw", "o%27neil"),
	    DIR("x.org", "68h1irewb79k7gcuqz986k6igujwx7bw", "o%27neil") },
	{ "UTF-8 bytes, upper-case hex", "\xc3\x84\xc3\x96@x.org",
	    ADV("x.org", "xmg135rmr4a5ofoqzps56dbppakymhqo",
	    "%C3%84%C3%96"),
	    DIR("x.org", "xmg135rmr4a5ofoqzps56dbppakymhqo",
	    "%C3%84%C3%96") },
	{ "space", "a b@x.org",
	    ADV("x.org", "xs661pernei8y9hruhsbfxq353a5egjj", "a%20b"),
	    DIR("x.org", "xs661pernei8y9hruhsbfxq353a5egjj", "a%20b") },
	{ "quoted local part with '@': split at the last", "\"a@b\"@x.org",
	    ADV("x.org", "bfbf6rwo7enfs313ijkf1h99ku1ahws3",
	    "%22a%40b%22"),
	    DIR("x.org", "bfbf6rwo7enfs313ijkf1h99ku1ahws3",
	    "%22a%40b%22") },
	{ "no '@'", "joe.doe", NULL, NULL },
	{ "empty", "", NULL, NULL },
	{ "empty local part", "@x.org", NULL, NULL },
	{ "empty domain", "a@", NULL, NULL },
	{ "empty label", "a@x..org", NULL, NULL },
	{ "leading dot", "a@.x.org", NULL, NULL },
	{ "trailing dot", "a@x.org.", NULL, NULL },
	{ "leading hyphen", "a@-x.org", NULL, NULL },
	{ "trailing hyphen", "a@x-.org", NULL, NULL },
	{ "underscore in domain", "a@x_y.org", NULL, NULL },
	{ "space in domain", "a@ex ample.org", NULL, NULL },
	{ "IPv4 address", "a@192.0.2.1", NULL, NULL },
	{ "address literal", "a@[192.0.2.1]", NULL, NULL },
	{ "LF", "a\n@x.org", NULL, NULL },
	{ "CR in domain", "a@x.org\r", NULL, NULL },
	{ "TAB", "a\tb@x.org", NULL, NULL },
	{ "DEL", "a\x7f@x.org", NULL, NULL },
	{ "ESC", "\x1b[0m@x.org", NULL, NULL },
};

static void
test_urls(void **state)
{
	char adv[WKD_URL_MAX], dir[WKD_URL_MAX];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case *c = &url_cases[i];

		memset(adv, 'X', sizeof(adv));
		memset(dir, 'X', sizeof(dir));
		rc = wkd_urls(c->addr, adv, sizeof(adv), dir, sizeof(dir));
		if (c->adv == NULL) {
			if (rc != -1)
				fail_msg("%s: got %d (%s), want -1", c->name,
				    rc, adv);
			if (adv[0] != '\0' || dir[0] != '\0')
				fail_msg("%s: URLs not cleared", c->name);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: got %d, want 0", c->name, rc);
		if (strcmp(adv, c->adv) != 0)
			fail_msg("%s: advanced: got \"%s\", want \"%s\"",
			    c->name, adv, c->adv);
		if (strcmp(dir, c->dir) != 0)
			fail_msg("%s: direct: got \"%s\", want \"%s\"",
			    c->name, dir, c->dir);
	}
}

/* every byte outside RFC 3986 unreserved becomes %XX */
static void
test_urls_encoding(void **state)
{
	char adv[WKD_URL_MAX], dir[WKD_URL_MAX], hash[WKD_HASH_LEN + 1];
	char want[WKD_URL_MAX];
	const char *local = "a/b?c#d&e=f%!$()*,;:[]";

	(void)state;
	assert_int_equal(wkd_urls("a/b?c#d&e=f%!$()*,;:[]@x.org", adv,
	    sizeof(adv), dir, sizeof(dir)), 0);
	wkd_hash(local, strlen(local), hash);
	snprintf(want, sizeof(want), "https://x.org/.well-known/openpgpkey/"
	    "hu/%s?l=a%%2Fb%%3Fc%%23d%%26e%%3Df%%25%%21%%24%%28%%29%%2A%%2C"
	    "%%3B%%3A%%5B%%5D", hash);
	assert_string_equal(dir, want);
	assert_non_null(strstr(adv, "?l=a%2Fb%3Fc%23d%26e%3Df%25"));
	/* nothing after the hash but the one query parameter */
	assert_null(strchr(strchr(dir, '?') + 1, '?'));
	assert_null(strchr(dir, '#'));
}

/* NULL arguments */
static void
test_urls_null(void **state)
{
	char adv[WKD_URL_MAX], dir[WKD_URL_MAX];

	(void)state;
	assert_int_equal(wkd_urls(NULL, adv, sizeof(adv), dir, sizeof(dir)),
	    -1);
	assert_int_equal(wkd_urls("a@x.org", NULL, 0, dir, sizeof(dir)), -1);
	assert_int_equal(wkd_urls("a@x.org", adv, sizeof(adv), NULL, 0), -1);
}

/* 254 characters pass, 255 do not */
static void
test_urls_addr_length(void **state)
{
	char addr[WKD_ADDR_MAX + 2], adv[WKD_URL_MAX], dir[WKD_URL_MAX];

	(void)state;
	memset(addr, 'a', WKD_ADDR_MAX - 6);
	memcpy(addr + WKD_ADDR_MAX - 6, "@x.org", 7);
	assert_int_equal(strlen(addr), WKD_ADDR_MAX);
	assert_int_equal(wkd_urls(addr, adv, sizeof(adv), dir, sizeof(dir)),
	    0);
	memset(addr, 'a', WKD_ADDR_MAX - 5);
	memcpy(addr + WKD_ADDR_MAX - 5, "@x.org", 7);
	assert_int_equal(strlen(addr), WKD_ADDR_MAX + 1);
	assert_int_equal(wkd_urls(addr, adv, sizeof(adv), dir, sizeof(dir)),
	    -1);
}

/* long_domain - n characters: 63-character labels joined by dots */
static void
long_domain(char *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = i % 64 == 63 ? '.' : 'd';
	out[n] = '\0';
	if (out[n - 1] == '.')
		out[n - 1] = 'd';
}

/* openpgpkey.DOMAIN must be a host name too: at most 253 characters */
static void
test_urls_domain_length(void **state)
{
	char addr[300], adv[WKD_URL_MAX], dir[WKD_URL_MAX];

	(void)state;
	memcpy(addr, "a@", 2);
	long_domain(addr + 2, 253 - 11);
	assert_int_equal(wkd_urls(addr, adv, sizeof(adv), dir, sizeof(dir)),
	    0);
	assert_int_equal(strcspn(adv + 8, "/"), 253);
	long_domain(addr + 2, 253 - 10);
	assert_int_equal(wkd_urls(addr, adv, sizeof(adv), dir, sizeof(dir)),
	    -1);
}

/* WKD_URL_MAX holds the longest URLs any valid address gives */
static void
test_urls_max(void **state)
{
	char addr[WKD_ADDR_MAX + 1], adv[WKD_URL_MAX], dir[WKD_URL_MAX];
	size_t ll;

	(void)state;
	/* every local-part byte encoded: 3 URL bytes each */
	ll = WKD_ADDR_MAX - 5;
	memset(addr, '+', ll);
	memcpy(addr + ll, "@x.yz", 6);
	assert_int_equal(wkd_urls(addr, adv, sizeof(adv), dir, sizeof(dir)),
	    0);
	assert_true(strlen(adv) > 3 * ll);
	/* the domain twice in the advanced URL */
	memcpy(addr, "%@", 2);
	long_domain(addr + 2, 253 - 11);
	assert_int_equal(wkd_urls(addr, adv, sizeof(adv), dir, sizeof(dir)),
	    0);
}

/* a URL that does not fit its buffer: -1, both cleared */
static void
test_urls_buffer(void **state)
{
	const char *a = "Joe.Doe@Example.ORG";
	const char *wa = ADV("example.org", "iy9q119eutrkn8s1mk4r39qejnbu3n5q",
	    "Joe.Doe");
	const char *wd = DIR("example.org", "iy9q119eutrkn8s1mk4r39qejnbu3n5q",
	    "Joe.Doe");
	char adv[WKD_URL_MAX], dir[WKD_URL_MAX];
	size_t la = strlen(wa), ld = strlen(wd);

	(void)state;
	assert_int_equal(wkd_urls(a, adv, la + 1, dir, ld + 1), 0);
	assert_string_equal(adv, wa);
	assert_string_equal(dir, wd);
	assert_int_equal(wkd_urls(a, adv, la, dir, ld + 1), -1);
	assert_string_equal(adv, "");
	assert_string_equal(dir, "");
	assert_int_equal(wkd_urls(a, adv, la + 1, dir, ld), -1);
	assert_string_equal(adv, "");
	assert_string_equal(dir, "");
}

/* ---- wkd_fetch without the network ---- */

/* a bad address fails before any lookup (no resolver needed) */
static void
test_fetch_bad_address(void **state)
{
	static const char *const bad[] = { "noat", "a@x..org", "a@",
	    "a\r\n@x.org", "a@192.0.2.1" };
	const char *method = "unset";
	char why[256];
	struct buf key;
	size_t i;

	(void)state;
	buf_init(&key, WKD_MAX_KEY);
	(void)buf_append_str(&key, "keep");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(wkd_fetch(bad[i], NULL, NULL, 5, &key,
		    &method, why, sizeof(why)), -1);
		assert_null(method);
		assert_non_null(strstr(why, "is not an address"));
		/* network text escaped: no CR/LF in the reason */
		assert_null(strpbrk(why, "\r\n"));
		assert_int_equal(key.len, 4);
	}
	assert_int_equal(wkd_fetch(NULL, NULL, NULL, 5, &key, NULL, NULL, 0),
	    -1);
	buf_free(&key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_hash_length),
		cmocka_unit_test(test_hash_long),
		cmocka_unit_test(test_hash_gnupg),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_urls_encoding),
		cmocka_unit_test(test_urls_null),
		cmocka_unit_test(test_urls_addr_length),
		cmocka_unit_test(test_urls_domain_length),
		cmocka_unit_test(test_urls_max),
		cmocka_unit_test(test_urls_buffer),
		cmocka_unit_test(test_fetch_bad_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
