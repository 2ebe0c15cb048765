/*
 * test_smtp_addr.c - unit tests for smtp_addr.c (MAIL FROM: / RCPT TO:
 * arguments).
 *
 * smtp_addr_parse() is not incremental (it gets a whole command's args),
 * so instead of trickling, every case is parsed from an exactly sized
 * heap copy with no NUL after it (ASan catches a read past the end), and
 * every prefix of it is parsed too. A result is written as
 * "addr=[...] at=N params=[K=V|K]" or as the error name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_addr.h"
#include "lib/buf.h"
#include "lib/sg_limits.h"

#define M	SMTP_ADDR_MAIL
#define R	SMTP_ADDR_RCPT

struct addr_case {
	const char *name;
	enum smtp_addr_kind kind;
	const char *args;
	const char *want;
};

static const struct addr_case addr_cases[] = {
	/* FROM:/TO: and the brackets */
	{ "mail plain", M, "FROM:<a@b.example>",
	    "addr=[a@b.example] at=1 params=[]" },
	{ "mail lower case", M, "from:<a@b>", "addr=[a@b] at=1 params=[]" },
	{ "mail mixed case", M, "FrOm:<a@b>", "addr=[a@b] at=1 params=[]" },
	{ "one space after colon", M, "FROM: <a@b>",
	    "addr=[a@b] at=1 params=[]" },
	{ "two spaces after colon", M, "FROM:  <a@b>", "E_SYNTAX" },
	{ "space before colon", M, "FROM :<a@b>", "E_SYNTAX" },
	{ "leading space", M, " FROM:<a@b>", "E_SYNTAX" },
	{ "bare address", M, "FROM:a@b", "E_SYNTAX" },
	{ "bare address after space", M, "FROM: a@b", "E_SYNTAX" },
	{ "unclosed bracket", M, "FROM:<a@b", "E_SYNTAX" },
	{ "no colon", M, "FROM<a@b>", "E_SYNTAX" },
	{ "TO: for MAIL", M, "TO:<a@b>", "E_SYNTAX" },
	{ "FROM: for RCPT", R, "FROM:<a@b>", "E_SYNTAX" },
	{ "empty args", M, "", "E_SYNTAX" },
	{ "prefix only", M, "FROM:", "E_SYNTAX" },
	{ "prefix and space", M, "FROM: ", "E_SYNTAX" },
	{ "junk after path", M, "FROM:<a@b>x", "E_SYNTAX" },
	{ "double close", M, "FROM:<a@b>>", "E_SYNTAX" },
	{ "trailing spaces", M, "FROM:<a@b>   ", "addr=[a@b] at=1 params=[]" },

	/* Null path and postmaster */
	{ "null reverse path", M, "FROM:<>", "addr=[] at=0 params=[]" },
	{ "null path, space", M, "FROM: <>", "addr=[] at=0 params=[]" },
	{ "null path with params", M, "FROM:<> SIZE=100",
	    "addr=[] at=0 params=[SIZE=100]" },
	{ "null recipient", R, "TO:<>", "E_NULL_RCPT" },
	{ "rcpt postmaster", R, "TO:<postmaster>",
	    "addr=[postmaster] at=10 params=[]" },
	{ "rcpt Postmaster", R, "To:<PostMaster>",
	    "addr=[PostMaster] at=10 params=[]" },
	{ "rcpt postmaster at domain", R, "TO:<postmaster@example.com>",
	    "addr=[postmaster@example.com] at=10 params=[]" },
	{ "rcpt postmaste", R, "TO:<postmaste>", "E_ADDRESS" },
	{ "rcpt routed postmaster", R, "TO:<@a:postmaster>", "E_ADDRESS" },
	{ "rcpt quoted postmaster", R, "TO:<\"postmaster\">", "E_ADDRESS" },
	{ "mail postmaster", M, "FROM:<postmaster>", "E_ADDRESS" },
	{ "rcpt plain", R, "TO:<u@example.com>",
	    "addr=[u@example.com] at=1 params=[]" },
	{ "rcpt one space", R, "to: <u@example.com>",
	    "addr=[u@example.com] at=1 params=[]" },

	/* Local part */
	{ "dotted local", M, "FROM:<a.b.c@d>",
	    "addr=[a.b.c@d] at=5 params=[]" },
	{ "all atext", M, "FROM:<!#$%&'*+-/=?^_`{|}~@b>",
	    "addr=[!#$%&'*+-/=?^_`{|}~@b] at=19 params=[]" },
	{ "leading dot", M, "FROM:<.a@b>", "E_ADDRESS" },
	{ "trailing dot", M, "FROM:<a.@b>", "E_ADDRESS" },
	{ "double dot", M, "FROM:<a..b@c>", "E_ADDRESS" },
	{ "only a dot", M, "FROM:<.@c>", "E_ADDRESS" },
	{ "space in local", M, "FROM:<a b@c>", "E_ADDRESS" },
	{ "empty local", M, "FROM:<@c>", "E_ADDRESS" },
	{ "no at", M, "FROM:<abc>", "E_ADDRESS" },
	{ "two ats", M, "FROM:<a@@b>", "E_ADDRESS" },
	{ "at in domain", M, "FROM:<a@b@c>", "E_ADDRESS" },
	{ "comma in local", M, "FROM:<a,b@c>", "E_ADDRESS" },
	{ "control in local", M, "FROM:<a\x01@b>", "E_ADDRESS" },
	{ "DEL in local", M, "FROM:<a\x7f@b>", "E_ADDRESS" },
	{ "8-bit local", M, "FROM:<\xc3\xa9@b>", "E_ADDRESS" },
	{ "quoted with space", M, "FROM:<\"a b\"@c>",
	    "addr=[\"a b\"@c] at=5 params=[]" },
	{ "quoted with at", M, "FROM:<\"a@b\"@c>",
	    "addr=[\"a@b\"@c] at=5 params=[]" },
	{ "quoted with close bracket", R, "TO:<\"a>b\"@c>",
	    "addr=[\"a>b\"@c] at=5 params=[]" },
	{ "quoted pair", M, "FROM:<\"a\\\"b\"@c>",
	    "addr=[\"a\\\"b\"@c] at=6 params=[]" },
	{ "quoted pair backslash", M, "FROM:<\"a\\\\\"@c>",
	    "addr=[\"a\\\\\"@c] at=5 params=[]" },
	{ "quoted empty", M, "FROM:<\"\"@c>", "addr=[\"\"@c] at=2 params=[]" },
	{ "quoted control", M, "FROM:<\"a\x01\"@c>", "E_ADDRESS" },
	{ "quoted pair control", M, "FROM:<\"a\\\x01\"@c>", "E_ADDRESS" },
	{ "quoted 8-bit", M, "FROM:<\"\xc3\xa9\"@c>", "E_ADDRESS" },
	{ "quoted then junk", M, "FROM:<\"a\"b@c>", "E_ADDRESS" },
	{ "quote in dot-string", M, "FROM:<a\"b\"@c>", "E_ADDRESS" },
	{ "unclosed quote", M, "FROM:<\"abc@c>", "E_SYNTAX" },

	/* Domain */
	{ "hyphen inside label", M, "FROM:<a@x-y.example>",
	    "addr=[a@x-y.example] at=1 params=[]" },
	{ "single label", M, "FROM:<a@localhost>",
	    "addr=[a@localhost] at=1 params=[]" },
	{ "digits are LDH", M, "FROM:<a@1.2.3.4>",
	    "addr=[a@1.2.3.4] at=1 params=[]" },
	{ "leading hyphen", M, "FROM:<a@-b.com>", "E_ADDRESS" },
	{ "trailing hyphen", M, "FROM:<a@b-.com>", "E_ADDRESS" },
	{ "hyphen before dot", M, "FROM:<a@b.c-.com>", "E_ADDRESS" },
	{ "empty label", M, "FROM:<a@b..com>", "E_ADDRESS" },
	{ "leading dot domain", M, "FROM:<a@.b>", "E_ADDRESS" },
	{ "trailing dot domain", M, "FROM:<a@b.>", "E_ADDRESS" },
	{ "underscore", M, "FROM:<a@b_c.com>", "E_ADDRESS" },
	{ "empty domain", M, "FROM:<a@>", "E_ADDRESS" },
	{ "8-bit domain", R, "TO:<a@\xc3\xa9.com>", "E_ADDRESS" },
	{ "space in domain", R, "TO:<a@b c>", "E_ADDRESS" },
	{ "control in domain", R, "TO:<a@b\x7f>", "E_ADDRESS" },

	/* Address literals */
	{ "ipv4 literal", R, "TO:<a@[192.0.2.1]>",
	    "addr=[a@[192.0.2.1]] at=1 params=[]" },
	{ "ipv6 literal", R, "TO:<a@[IPv6:2001:db8::1]>",
	    "addr=[a@[IPv6:2001:db8::1]] at=1 params=[]" },
	{ "ipv6 tag lower case", R, "TO:<a@[ipv6:::1]>",
	    "addr=[a@[ipv6:::1]] at=1 params=[]" },
	{ "ipv6 with v4 tail", R, "TO:<a@[IPv6:::ffff:192.0.2.1]>",
	    "addr=[a@[IPv6:::ffff:192.0.2.1]] at=1 params=[]" },
	{ "ipv4 out of range", R, "TO:<a@[192.0.2.256]>", "E_ADDRESS" },
	{ "ipv4 short", R, "TO:<a@[192.0.2]>", "E_ADDRESS" },
	{ "ipv6 without tag", R, "TO:<a@[2001:db8::1]>", "E_ADDRESS" },
	{ "ipv4 with ipv6 tag", R, "TO:<a@[IPv6:192.0.2.1]>", "E_ADDRESS" },
	{ "ipv6 zone", R, "TO:<a@[IPv6:fe80::1%eth0]>", "E_ADDRESS" },
	{ "general literal", R, "TO:<a@[x-tag:foo]>", "E_ADDRESS" },
	{ "empty literal", R, "TO:<a@[]>", "E_ADDRESS" },
	{ "empty ipv6 literal", R, "TO:<a@[IPv6:]>", "E_ADDRESS" },
	{ "unclosed literal", R, "TO:<a@[192.0.2.1>", "E_ADDRESS" },
	{ "junk after literal", R, "TO:<a@[192.0.2.1]x>", "E_ADDRESS" },
	{ "space in literal", R, "TO:<a@[ 192.0.2.1]>", "E_ADDRESS" },
	{ "literal in a label", R, "TO:<a@b.[192.0.2.1]>", "E_ADDRESS" },

	/* Source routes: checked, then dropped */
	{ "two-hop route", R, "TO:<@a.example,@b.example:u@c.example>",
	    "addr=[u@c.example] at=1 params=[]" },
	{ "one-hop route", M, "FROM:<@a:u@c>", "addr=[u@c] at=1 params=[]" },
	{ "route without colon", R, "TO:<@a,u@c>", "E_ADDRESS" },
	{ "route with empty hop", R, "TO:<@:u@c>", "E_ADDRESS" },
	{ "route with empty second hop", R, "TO:<@a,@:u@c>", "E_ADDRESS" },
	{ "route without mailbox", R, "TO:<@a:>", "E_ADDRESS" },
	{ "route only", R, "TO:<@a>", "E_ADDRESS" },
	{ "route bad domain", R, "TO:<@-a:u@c>", "E_ADDRESS" },
	{ "route literal", R, "TO:<@[192.0.2.1]:u@c>", "E_ADDRESS" },

	/* Parameters */
	{ "params", M, "FROM:<a@b> SIZE=123 BODY=8BITMIME REQUIRETLS",
	    "addr=[a@b] at=1 params=[SIZE=123|BODY=8BITMIME|REQUIRETLS]" },
	{ "params runs of spaces", M, "FROM:<a@b>  SIZE=1   BODY=7BIT  ",
	    "addr=[a@b] at=1 params=[SIZE=1|BODY=7BIT]" },
	{ "rcpt dsn params", R,
	    "TO:<a@b> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40b",
	    "addr=[a@b] at=1 params=[NOTIFY=SUCCESS,FAILURE|"
	    "ORCPT=rfc822;a+40b]" },
	{ "unknown param is syntax only", M, "FROM:<a@b> XYZZY=1",
	    "addr=[a@b] at=1 params=[XYZZY=1]" },
	{ "keyword with hyphen", M, "FROM:<a@b> X-Y=1",
	    "addr=[a@b] at=1 params=[X-Y=1]" },
	{ "keyword digit first", M, "FROM:<a@b> 8X",
	    "addr=[a@b] at=1 params=[8X]" },
	{ "value punctuation", M, "FROM:<a@b> X=!~<>",
	    "addr=[a@b] at=1 params=[X=!~<>]" },
	{ "no space before param", M, "FROM:<a@b>SIZE=1", "E_SYNTAX" },
	{ "empty value", M, "FROM:<a@b> SIZE=", "E_PARAM" },
	{ "empty keyword", M, "FROM:<a@b> =1", "E_PARAM" },
	{ "keyword hyphen first", M, "FROM:<a@b> -X=1", "E_PARAM" },
	{ "keyword underscore", M, "FROM:<a@b> A_B=1", "E_PARAM" },
	{ "equals in value", M, "FROM:<a@b> A=b=c", "E_PARAM" },
	{ "control in value", M, "FROM:<a@b> A=\x01", "E_PARAM" },
	{ "DEL in value", M, "FROM:<a@b> A=\x7f", "E_PARAM" },
	{ "8-bit value", M, "FROM:<a@b> A=\xc3\xa9", "E_PARAM" },
	{ "tab separator", M, "FROM:<a@b> SIZE=1\tBODY=7BIT", "E_PARAM" },
	{ "duplicate param", M, "FROM:<a@b> SIZE=1 size=2", "E_PARAM" },
	{ "duplicate bare param", M, "FROM:<a@b> REQUIRETLS requiretls",
	    "E_PARAM" },
};

static const char *
err_name(enum smtp_addr_err e)
{
	switch (e) {
	case SMTP_ADDR_E_NONE:
		return "E_NONE";
	case SMTP_ADDR_E_SYNTAX:
		return "E_SYNTAX";
	case SMTP_ADDR_E_ADDRESS:
		return "E_ADDRESS";
	case SMTP_ADDR_E_TOO_LONG:
		return "E_TOO_LONG";
	case SMTP_ADDR_E_PARAM:
		return "E_PARAM";
	case SMTP_ADDR_E_UNKNOWN_PARAM:
		return "E_UNKNOWN_PARAM";
	case SMTP_ADDR_E_NULL_RCPT:
		return "E_NULL_RCPT";
	}
	return "E_?";
}

/* parse_result - parse args (from an exact-size copy) into a string */
static void
parse_result(enum smtp_addr_kind kind, const char *args, size_t len,
    struct buf *res)
{
	struct smtp_path path;
	enum smtp_addr_err err;
	char *copy;
	size_t i;
	int r;

	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, args, len);
	memset(&path, 0xa5, sizeof(path));
	r = smtp_addr_parse(kind, slice_make(copy, len), &path, &err);
	buf_reset(res);
	if (r < 0) {
		assert_int_equal(r, -1);
		assert_int_not_equal(err, SMTP_ADDR_E_NONE);
		/* the parser never knows which parameters are supported */
		assert_int_not_equal(err, SMTP_ADDR_E_UNKNOWN_PARAM);
		assert_int_equal(buf_append_str(res, err_name(err)), 0);
		free(copy);
		return;
	}
	assert_int_equal(r, 0);
	assert_int_equal(err, SMTP_ADDR_E_NONE);
	assert_true(path.addr_len <= SMTP_ADDR_MAX);
	assert_int_equal(path.addr[path.addr_len], '\0');
	assert_true(path.at <= path.addr_len);
	assert_true(path.at == path.addr_len || path.addr[path.at] == '@');
	assert_true(path.nparams <= SMTP_PARAMS_MAX);
	assert_int_equal(buf_printf(res, "addr=[%s] at=%zu params=[",
	    path.addr, path.at), 0);
	for (i = 0; i < path.nparams; i++) {
		const struct smtp_param *pp = &path.params[i];

		/* slices point into args */
		assert_true(pp->key.ptr >= copy &&
		    pp->key.ptr + pp->key.len <= copy + len);
		assert_true(pp->value.ptr >= copy &&
		    pp->value.ptr + pp->value.len <= copy + len);
		assert_int_equal(buf_printf(res, "%s%.*s", i ? "|" : "",
		    (int)pp->key.len, pp->key.ptr), 0);
		if (pp->has_value)
			assert_int_equal(buf_printf(res, "=%.*s",
			    (int)pp->value.len, pp->value.ptr), 0);
		else
			assert_int_equal(pp->value.len, 0);
	}
	assert_int_equal(buf_append_str(res, "]"), 0);
	free(copy);
}

static void
check_addr(const char *name, enum smtp_addr_kind kind, const char *args,
    size_t len, const char *want)
{
	struct buf res;
	size_t k;

	buf_init(&res, 1 << 16);
	parse_result(kind, args, len, &res);
	if (strcmp(buf_cstr(&res), want) != 0)
		fail_msg("%s: got %s, want %s", name, buf_cstr(&res), want);
	/* every prefix parses without reading past its end */
	for (k = 0; k < len; k++)
		parse_result(kind, args, k, &res);
	buf_free(&res);
}

static void
test_table_case(void **state)
{
	const struct addr_case *c = *state;

	check_addr(c->name, c->kind, c->args, strlen(c->args), c->want);
}

/* build - "TO:<" + route + local part of nlocal 'l' + "@" + domain of
 * ndomain octets (labels of 'd', at most 63 each) + ">" */
static void
build(struct buf *b, const char *route, size_t nlocal, size_t ndomain)
{
	size_t i, label = 0;

	buf_reset(b);
	assert_int_equal(buf_printf(b, "TO:<%s", route), 0);
	for (i = 0; i < nlocal; i++)
		assert_int_equal(buf_append_char(b, 'l'), 0);
	assert_int_equal(buf_append_char(b, '@'), 0);
	for (i = 0; i < ndomain; i++) {
		/* a dot after 63 octets, never first or last */
		if (label == 63 && i + 1 < ndomain) {
			assert_int_equal(buf_append_char(b, '.'), 0);
			label = 0;
			continue;
		}
		assert_int_equal(buf_append_char(b, 'd'), 0);
		label++;
	}
	assert_int_equal(buf_append_char(b, '>'), 0);
}

/* check_built - want_err NULL: the address must parse */
static void
check_built(const char *name, struct buf *b, const char *want_err)
{
	struct buf res;

	buf_init(&res, 1 << 16);
	parse_result(R, b->data, b->len, &res);
	if (want_err == NULL && strncmp(buf_cstr(&res), "addr=", 5) != 0)
		fail_msg("%s: got %s, want ok", name, buf_cstr(&res));
	if (want_err != NULL && strcmp(buf_cstr(&res), want_err) != 0)
		fail_msg("%s: got %s, want %s", name, buf_cstr(&res),
		    want_err);
	buf_free(&res);
}

static void
test_limit_local_64(void **state)
{
	struct buf b;

	buf_init(&b, 1024);
	build(&b, "", 64, 10);
	check_built("local 64", &b, NULL);
	build(&b, "", 65, 10);
	check_built("local 65", &b, "E_TOO_LONG");
	buf_free(&b);
}

static void
test_limit_label_63(void **state)
{
	struct buf b;

	int i;

	buf_init(&b, 1024);
	/* a label of 63 passes, alone or followed by another */
	build(&b, "", 1, 63);
	check_built("label 63", &b, NULL);
	build(&b, "", 1, 67);
	check_built("label 63 + label 3", &b, NULL);
	/* 64 fails */
	buf_reset(&b);
	assert_int_equal(buf_append_str(&b, "TO:<u@"), 0);
	for (i = 0; i < 64; i++)
		assert_int_equal(buf_append_char(&b, 'd'), 0);
	assert_int_equal(buf_append_str(&b, ".com>"), 0);
	check_built("label 64", &b, "E_ADDRESS");
	buf_free(&b);
}

/* RFC 5321 4.5.3.1.3: 256 octets, brackets and source route included */
static void
test_limit_path_256(void **state)
{
	struct buf b;

	buf_init(&b, 1024);
	/* "<" + 64 + "@" + 189 + ">" = 256 */
	build(&b, "", 64, 189);
	assert_int_equal(b.len - 3, 256);
	check_built("path 256", &b, NULL);
	build(&b, "", 64, 190);
	check_built("path 257", &b, "E_TOO_LONG");
	/* the route counts: "@r.example:" is 11 octets */
	build(&b, "@r.example:", 64, 178);
	assert_int_equal(b.len - 3, 256);
	check_built("routed path 256", &b, NULL);
	build(&b, "@r.example:", 64, 179);
	check_built("routed path 257", &b, "E_TOO_LONG");
	buf_free(&b);
}

static void
test_limit_params(void **state)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1024);
	assert_int_equal(buf_append_str(&b, "TO:<a@b>"), 0);
	for (i = 0; i < SMTP_PARAMS_MAX; i++)
		assert_int_equal(buf_printf(&b, " P%zu=%zu", i, i), 0);
	check_built("16 params", &b, NULL);
	assert_int_equal(buf_append_str(&b, " ONEMORE"), 0);
	check_built("17 params", &b, "E_PARAM");
	buf_free(&b);
}

/* NUL cannot come from smtp_cmd, but the parser must not trust that */
static void
test_nul_bytes(void **state)
{
	static const char lit[] = "TO:<a@[192.0.2.1\0junk]>";
	static const char local[] = "TO:<a\0b@c>";
	static const char quoted[] = "TO:<\"a\0b\"@c>";
	static const char domain[] = "TO:<a@b\0c>";
	static const char param[] = "TO:<a@b> X=1\0";

	check_addr("NUL in literal", R, lit, sizeof(lit) - 1, "E_ADDRESS");
	check_addr("NUL in local", R, local, sizeof(local) - 1, "E_ADDRESS");
	check_addr("NUL in quoted", R, quoted, sizeof(quoted) - 1,
	    "E_ADDRESS");
	check_addr("NUL in domain", R, domain, sizeof(domain) - 1,
	    "E_ADDRESS");
	check_addr("NUL in param", R, param, sizeof(param) - 1, "E_PARAM");
}

static void
test_param_lookup(void **state)
{
	static const char args[] = "FROM:<a@b> SIZE=123 body=8BITMIME "
	    "REQUIRETLS";
	struct smtp_path path;
	enum smtp_addr_err err;
	const struct smtp_param *pp;

	assert_int_equal(smtp_addr_parse(M, slice_make(args, sizeof(args) - 1),
	    &path, &err), 0);
	pp = smtp_path_param(&path, "size");
	assert_non_null(pp);
	assert_true(pp->has_value);
	assert_true(slice_eq_ci(pp->value, "123"));
	pp = smtp_path_param(&path, "BODY");
	assert_non_null(pp);
	assert_true(slice_eq_ci(pp->value, "8bitmime"));
	pp = smtp_path_param(&path, "RequireTLS");
	assert_non_null(pp);
	assert_false(pp->has_value);
	assert_int_equal(pp->value.len, 0);
	assert_null(smtp_path_param(&path, "SMTPUTF8"));
	assert_null(smtp_path_param(&path, "SIZ"));
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_limit_local_64),
		cmocka_unit_test(test_limit_label_63),
		cmocka_unit_test(test_limit_path_256),
		cmocka_unit_test(test_limit_params),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_param_lookup),
	};
	size_t ncase = sizeof(addr_cases) / sizeof(addr_cases[0]);
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *t;
	size_t i;
	int r;

	t = calloc(ncase + nfixed, sizeof(*t));
	if (t == NULL)
		return 1;
	for (i = 0; i < ncase; i++) {
		t[i].name = addr_cases[i].name;
		t[i].test_func = test_table_case;
		t[i].initial_state = (void *)&addr_cases[i];
	}
	memcpy(t + ncase, fixed, sizeof(fixed));
	r = _cmocka_run_group_tests("smtp_addr", t, ncase + nfixed, NULL,
	    NULL);
	free(t);
	return r;
}
