/*
 * test_mta_sts.c - unit tests for the pure parts of mta_sts.c: the
 * _mta-sts TXT record (one record and whole RRsets), the policy parser,
 * MX pattern matching and the Content-Type check.
 *
 * The parsers are not incremental (a policy is at most 64 KiB and fully
 * buffered), so every input is handed over in an exactly sized heap copy
 * without a NUL after it: ASan sees any read past the end. Each policy
 * case with LF line ends runs again with CRLF and must give the same
 * result. Results are compared as one line: "mode=M max_age=N mx=a,b"
 * or "ERR:text" where text must occur in the error message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dns.h"
#include "mta_sts.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define IN(s)	s, sizeof(s) - 1

/* ---- helpers ---- */

/* heap_copy - exactly n bytes on the heap (no NUL after them) */
static char *
heap_copy(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}

/* want_match - got is "ERR:<message>" or a result line; want is a result
 * line or "ERR:<substring of the message>" */
static void
want_match(const char *name, const char *got, const char *want)
{
	if (strncmp(want, "ERR:", 4) == 0 && strncmp(got, "ERR:", 4) == 0) {
		if (strstr(got + 4, want + 4) == NULL)
			fail_msg("%s: got \"%s\", want an error with \"%s\"",
			    name, got, want + 4);
		return;
	}
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", name, got, want);
}

/* ---- one TXT record ---- */

struct txt_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;	/* "id=X" or "ERR:..." */
};

static const struct txt_case txt_cases[] = {
	{ "txt minimal", IN("v=STSv1; id=20160831085700Z;"),
	    "id=20160831085700Z" },
	{ "txt no trailing semicolon", IN("v=STSv1; id=abc"), "id=abc" },
	{ "txt no spaces", IN("v=STSv1;id=abc;"), "id=abc" },
	{ "txt tabs and spaces around ;", IN("v=STSv1 \t; \tid=abc \t;\t "),
	    "id=abc" },
	{ "txt space before ;", IN("v=STSv1 ;id=abc"), "id=abc" },
	{ "txt extension before id", IN("v=STSv1; ext_1.a-b=x!y; id=1"),
	    "id=1" },
	{ "txt extension after id", IN("v=STSv1; id=1; foo=bar"), "id=1" },
	{ "txt extension value punctuation",
	    IN("v=STSv1; id=1; x=!\"#$%&'()*+,-./0123456789:<>?@[\\]^_`{|}~"),
	    "id=1" },
	{ "txt id 32 characters",
	    IN("v=STSv1; id=abcdefghijklmnopqrstuvwxyz012345"),
	    "id=abcdefghijklmnopqrstuvwxyz012345" },
	{ "txt id 1 character", IN("v=STSv1; id=Z"), "id=Z" },
	{ "txt extension name 32 characters",
	    IN("v=STSv1; id=1; abcdefghijklmnopqrstuvwxyz012345=v"), "id=1" },

	{ "txt id 33 characters",
	    IN("v=STSv1; id=abcdefghijklmnopqrstuvwxyz0123456"),
	    "ERR:not 1-32 letters or digits" },
	{ "txt id with hyphen", IN("v=STSv1; id=abc-def"),
	    "ERR:not 1-32 letters or digits" },
	{ "txt id with underscore", IN("v=STSv1; id=abc_def"),
	    "ERR:not 1-32 letters or digits" },
	{ "txt id empty", IN("v=STSv1; id=;"), "ERR:bad value" },
	{ "txt id missing", IN("v=STSv1; foo=bar"), "ERR:no id" },
	{ "txt version only", IN("v=STSv1"), "ERR:no id" },
	{ "txt version and semicolon only", IN("v=STSv1;"), "ERR:no id" },
	{ "txt two ids", IN("v=STSv1; id=a; id=b"), "ERR:more than one id" },
	{ "txt ID upper case key", IN("v=STSv1; ID=abc"), "ERR:no id" },
	{ "txt lower case version", IN("v=stsv1; id=abc"),
	    "ERR:does not start with v=STSv1" },
	{ "txt leading space", IN(" v=STSv1; id=abc"),
	    "ERR:does not start with v=STSv1" },
	{ "txt empty", IN(""), "ERR:does not start with v=STSv1" },
	{ "txt version glued", IN("v=STSv1x; id=abc"), "ERR:expected ';'" },
	{ "txt empty field", IN("v=STSv1;; id=abc"),
	    "ERR:expected name=value" },
	{ "txt double trailing semicolon", IN("v=STSv1; id=abc;;"),
	    "ERR:expected name=value" },
	{ "txt trailing space without ;", IN("v=STSv1; id=abc "),
	    "ERR:expected ';'" },
	{ "txt space inside value", IN("v=STSv1; id=abc def"),
	    "ERR:expected ';'" },
	{ "txt = in value", IN("v=STSv1; id=1; a=b=c"), "ERR:bad value" },
	{ "txt name without value", IN("v=STSv1; id=1; foo"),
	    "ERR:expected name=value" },
	{ "txt name 33 characters",
	    IN("v=STSv1; id=1; abcdefghijklmnopqrstuvwxyz0123456=v"),
	    "ERR:expected name=value" },
	{ "txt name starts with _", IN("v=STSv1; id=1; _x=v"),
	    "ERR:expected name=value" },
	{ "txt NUL byte", IN("v=STSv1; id=abc\0"), "ERR:bad value" },
	{ "txt 8-bit in value", IN("v=STSv1; id=1; x=caf\xc3\xa9"),
	    "ERR:bad value" },
	{ "txt CR LF at end", IN("v=STSv1; id=1\r\n"), "ERR:bad value" },
};

static void
test_txt_case(void **state)
{
	const struct txt_case *c = *state;
	char id[MTA_STS_ID_MAX + 1], got[256], *err = NULL;
	char *in = heap_copy(c->in, c->len);

	memset(id, 'x', sizeof(id));
	if (mta_sts_txt_record_parse(in, c->len, id, &err) == 0) {
		assert_null(err);
		snprintf(got, sizeof(got), "id=%s", id);
	} else {
		assert_non_null(err);
		assert_string_equal(id, "");
		snprintf(got, sizeof(got), "ERR:%s", err);
	}
	want_match(c->name, got, c->want);
	xfree(err);
	free(in);
}

/* ---- TXT RRsets ---- */

/*
 * Records in a readable form: '|' separates the <character-string>s of
 * one record ("v=STSv1; |id=1" is two strings). A record starting with
 * '!' is raw RDATA after the '!' (for malformed lengths), with "\xNN".
 */
struct rrset_case {
	const char *name;
	const char *rec[5];	/* NULL-terminated */
	const char *want;	/* "id=X", "none" or "ERR:..." */
};

static const struct rrset_case rrset_cases[] = {
	{ "rrset one record", { "v=STSv1; id=abc;", NULL }, "id=abc" },
	{ "rrset no records", { NULL }, "none" },
	{ "rrset only other records",
	    { "google-site-verification=xyz", "v=spf1 -all", NULL }, "none" },
	{ "rrset STS among others",
	    { "v=spf1 -all", "v=STSv1; id=abc;", "hello", NULL }, "id=abc" },
	{ "rrset split character-strings",
	    { "v=STS|v1; i|d=ab|c;", NULL }, "id=abc" },
	{ "rrset split at every byte",
	    { "v|=|S|T|S|v|1|;| |i|d|=|a|;", NULL }, "id=a" },
	{ "rrset empty character-strings kept",
	    { "|v=STSv1; id=abc|", NULL }, "id=abc" },
	{ "rrset two STS records",
	    { "v=STSv1; id=abc;", "v=STSv1; id=def;", NULL },
	    "ERR:2 v=STSv1 TXT records" },
	{ "rrset two identical STS records",
	    { "v=STSv1; id=abc;", "v=STSv1; id=abc;", NULL },
	    "ERR:2 v=STSv1 TXT records" },
	{ "rrset one valid one invalid STS record",
	    { "v=STSv1; id=abc;", "v=STSv1 garbage", NULL },
	    "ERR:2 v=STSv1 TXT records" },
	{ "rrset invalid STS record", { "v=STSv1; id=a-b;", NULL },
	    "ERR:not 1-32 letters or digits" },
	{ "rrset bare v=STSv1 counts", { "v=STSv1", "v=STSv1; id=1", NULL },
	    "ERR:2 v=STSv1 TXT records" },
	{ "rrset v=STSv10 is another record",
	    { "v=STSv10; id=x", "v=STSv1; id=1", NULL }, "id=1" },
	{ "rrset lower case version is another record",
	    { "v=stsv1; id=x", NULL }, "none" },
	{ "rrset length past the end", { "!\x05v=ST", NULL },
	    "ERR:malformed RDATA" },
	{ "rrset empty RDATA", { "!", NULL }, "ERR:malformed RDATA" },
	{ "rrset malformed other record",
	    { "v=STSv1; id=1", "!\x09short", NULL }, "ERR:malformed RDATA" },
};

/* rdata_make - the wire form of one readable record (see above) */
static unsigned char *
rdata_make(const char *rec, size_t *len_out)
{
	size_t n = strlen(rec), o = 0, i, start;
	unsigned char *rd = malloc(2 * n + 2);

	assert_non_null(rd);
	if (rec[0] == '!') {
		memcpy(rd, rec + 1, n - 1);
		*len_out = n - 1;
		return rd;
	}
	for (start = 0; ; start = i + 1) {
		for (i = start; i < n && rec[i] != '|'; i++)
			;
		rd[o++] = (unsigned char)(i - start);
		memcpy(rd + o, rec + start, i - start);
		o += i - start;
		if (i == n)
			break;
	}
	*len_out = o;
	return rd;
}

static void
test_rrset_case(void **state)
{
	const struct rrset_case *c = *state;
	struct dns_rrset rr;
	char id[MTA_STS_ID_MAX + 1], got[256], *err = NULL;
	size_t i, n;
	int rc;

	memset(&rr, 0, sizeof(rr));
	for (n = 0; c->rec[n] != NULL; n++)
		;
	rr.n = n;
	rr.rdata = calloc(n + 1, sizeof(*rr.rdata));
	rr.rdlen = calloc(n + 1, sizeof(*rr.rdlen));
	assert_non_null(rr.rdata);
	assert_non_null(rr.rdlen);
	for (i = 0; i < n; i++)
		rr.rdata[i] = rdata_make(c->rec[i], &rr.rdlen[i]);
	rc = mta_sts_txt_parse(&rr, id, &err);
	if (rc == 1) {
		assert_null(err);
		snprintf(got, sizeof(got), "id=%s", id);
	} else if (rc == 0) {
		assert_null(err);
		assert_string_equal(id, "");
		snprintf(got, sizeof(got), "none");
	} else {
		assert_int_equal(rc, -1);
		assert_non_null(err);
		snprintf(got, sizeof(got), "ERR:%s", err);
	}
	want_match(c->name, got, c->want);
	xfree(err);
	for (i = 0; i < n; i++)
		free(rr.rdata[i]);
	free(rr.rdata);
	free(rr.rdlen);
}

static void
test_rrset_null(void **state)
{
	char id[MTA_STS_ID_MAX + 1];

	(void)state;
	assert_int_equal(mta_sts_txt_parse(NULL, id, NULL), 0);
	assert_string_equal(id, "");
}

/* ---- policies ---- */

struct policy_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
};

#define HEAD	"version: STSv1\nmode: enforce\n"

static const struct policy_case policy_cases[] = {
	/* valid */
	{ "policy RFC example",
	    IN("version: STSv1\nmode: enforce\nmx: mail.example.com\n"
	    "mx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n"),
	    "mode=enforce max_age=604800 "
	    "mx=mail.example.com,*.example.net,backupmx.example.com" },
	{ "policy no final newline",
	    IN(HEAD "mx: mx.example.com\nmax_age: 86400"),
	    "mode=enforce max_age=86400 mx=mx.example.com" },
	{ "policy fields in any order",
	    IN("max_age: 1\nmx: a.example\nmode: testing\nversion: STSv1\n"),
	    "mode=testing max_age=1 mx=a.example" },
	{ "policy mode none without mx",
	    IN("version: STSv1\nmode: none\nmax_age: 86400\n"),
	    "mode=none max_age=86400 mx=" },
	{ "policy mode none with mx",
	    IN("version: STSv1\nmode: none\nmx: a.example\nmax_age: 0\n"),
	    "mode=none max_age=0 mx=a.example" },
	{ "policy no space after colon",
	    IN("version:STSv1\nmode:enforce\nmx:a.example\nmax_age:5\n"),
	    "mode=enforce max_age=5 mx=a.example" },
	{ "policy tabs and trailing white space",
	    IN("version:\tSTSv1 \t\nmode:  enforce\t\nmx: a.example  \n"
	    "max_age: 5 \n"),
	    "mode=enforce max_age=5 mx=a.example" },
	{ "policy mx lower-cased",
	    IN(HEAD "mx: MX.Example.COM\nmx: *.EXAMPLE.net\nmax_age: 5\n"),
	    "mode=enforce max_age=5 mx=mx.example.com,*.example.net" },
	{ "policy duplicate mx kept",
	    IN(HEAD "mx: a.example\nmx: a.example\nmax_age: 5\n"),
	    "mode=enforce max_age=5 mx=a.example,a.example" },
	{ "policy unknown fields ignored",
	    IN(HEAD "mx: a.example\nmax_age: 5\nfoo: bar baz\n"
	    "x_y.z-1: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 =;:\n"
	    "Version: STSv2\n"),
	    "mode=enforce max_age=5 mx=a.example" },
	{ "policy unknown field repeated",
	    IN(HEAD "mx: a.example\nmax_age: 5\nfoo: 1\nfoo: 2\n"),
	    "mode=enforce max_age=5 mx=a.example" },
	{ "policy max_age 0", IN(HEAD "mx: a.example\nmax_age: 0\n"),
	    "mode=enforce max_age=0 mx=a.example" },
	{ "policy max_age maximum",
	    IN(HEAD "mx: a.example\nmax_age: 31557600\n"),
	    "mode=enforce max_age=31557600 mx=a.example" },
	{ "policy max_age 10 digits with leading zeros",
	    IN(HEAD "mx: a.example\nmax_age: 0000086400\n"),
	    "mode=enforce max_age=86400 mx=a.example" },
	{ "policy single-label mx", IN(HEAD "mx: localhost\nmax_age: 5\n"),
	    "mode=enforce max_age=5 mx=localhost" },
	{ "policy mx digits and hyphens",
	    IN(HEAD "mx: 1-a.2b.example\nmax_age: 5\n"),
	    "mode=enforce max_age=5 mx=1-a.2b.example" },
	{ "policy wildcard of a single label",
	    IN(HEAD "mx: *.com\nmax_age: 5\n"),
	    "mode=enforce max_age=5 mx=*.com" },
	{ "policy mx label 63",
	    IN(HEAD "mx: abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
	    "01234567890.example\nmax_age: 5\n"),
	    "mode=enforce max_age=5 mx=abcdefghijklmnopqrstuvwxyzabcdefghijklmn"
	    "opqrstuvwxyz01234567890.example" },
	{ "policy key 32 characters",
	    IN(HEAD "mx: a.example\nmax_age: 5\n"
	    "abcdefghijklmnopqrstuvwxyz012345: v\n"),
	    "mode=enforce max_age=5 mx=a.example" },

	/* missing and duplicate fields */
	{ "policy empty", IN(""), "ERR:empty policy" },
	{ "policy no version", IN("mode: enforce\nmx: a.example\nmax_age: 5\n"),
	    "ERR:no version" },
	{ "policy no mode", IN("version: STSv1\nmx: a.example\nmax_age: 5\n"),
	    "ERR:no mode" },
	{ "policy no max_age", IN(HEAD "mx: a.example\n"), "ERR:no max_age" },
	{ "policy enforce without mx", IN(HEAD "max_age: 5\n"),
	    "ERR:no mx (required in mode enforce)" },
	{ "policy testing without mx",
	    IN("version: STSv1\nmode: testing\nmax_age: 5\n"),
	    "ERR:no mx (required in mode testing)" },
	{ "policy duplicate version",
	    IN(HEAD "version: STSv1\nmx: a.example\nmax_age: 5\n"),
	    "ERR:line 3: second version" },
	{ "policy duplicate mode",
	    IN(HEAD "mode: enforce\nmx: a.example\nmax_age: 5\n"),
	    "ERR:line 3: second mode" },
	{ "policy conflicting modes",
	    IN(HEAD "mode: none\nmax_age: 5\n"), "ERR:line 3: second mode" },
	{ "policy duplicate max_age",
	    IN(HEAD "mx: a.example\nmax_age: 5\nmax_age: 5\n"),
	    "ERR:line 5: second max_age" },

	/* bad values */
	{ "policy version STSv2",
	    IN("version: STSv2\nmode: none\nmax_age: 5\n"),
	    "ERR:line 1: version \"STSv2\" is not STSv1" },
	{ "policy version lower case",
	    IN("version: stsv1\nmode: none\nmax_age: 5\n"),
	    "ERR:is not STSv1" },
	{ "policy mode upper case",
	    IN("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 5\n"),
	    "ERR:line 2: mode \"Enforce\" is not enforce" },
	{ "policy mode unknown",
	    IN("version: STSv1\nmode: enforcing\nmx: a.example\nmax_age: 5\n"),
	    "ERR:mode \"enforcing\"" },
	{ "policy mode with trailing junk",
	    IN("version: STSv1\nmode: enforce now\nmx: a.example\n"
	    "max_age: 5\n"),
	    "ERR:mode \"enforce now\"" },
	{ "policy max_age too big",
	    IN(HEAD "mx: a.example\nmax_age: 31557601\n"),
	    "ERR:max_age \"31557601\" is not 0..31557600" },
	{ "policy max_age 11 digits",
	    IN(HEAD "mx: a.example\nmax_age: 00000086400\n"),
	    "ERR:max_age \"00000086400\"" },
	{ "policy max_age negative", IN(HEAD "mx: a.example\nmax_age: -1\n"),
	    "ERR:max_age \"-1\"" },
	{ "policy max_age plus sign", IN(HEAD "mx: a.example\nmax_age: +5\n"),
	    "ERR:max_age \"+5\"" },
	{ "policy max_age with unit", IN(HEAD "mx: a.example\nmax_age: 5s\n"),
	    "ERR:max_age \"5s\"" },
	{ "policy max_age huge",
	    IN(HEAD "mx: a.example\nmax_age: 99999999999999999999999\n"),
	    "ERR:max_age" },
	{ "policy max_age empty", IN(HEAD "mx: a.example\nmax_age:\n"),
	    "ERR:line 4: max_age has no value" },
	{ "policy max_age only blanks",
	    IN(HEAD "mx: a.example\nmax_age:  \t\n"),
	    "ERR:max_age has no value" },

	/* mx patterns */
	{ "policy mx trailing dot",
	    IN(HEAD "mx: mx.example.com.\nmax_age: 5\n"),
	    "ERR:line 3: mx \"mx.example.com.\" is not a host name" },
	{ "policy mx wildcard in the middle",
	    IN(HEAD "mx: mx.*.example.com\nmax_age: 5\n"), "ERR:mx \"mx.*." },
	{ "policy mx partial wildcard",
	    IN(HEAD "mx: mx*.example.com\nmax_age: 5\n"), "ERR:mx \"mx*." },
	{ "policy mx double wildcard",
	    IN(HEAD "mx: *.*.example.com\nmax_age: 5\n"), "ERR:mx \"*.*." },
	{ "policy mx bare star", IN(HEAD "mx: *\nmax_age: 5\n"),
	    "ERR:mx \"*\"" },
	{ "policy mx star dot", IN(HEAD "mx: *.\nmax_age: 5\n"),
	    "ERR:mx \"*.\"" },
	{ "policy mx underscore", IN(HEAD "mx: mx_1.example\nmax_age: 5\n"),
	    "ERR:mx \"mx_1.example\"" },
	{ "policy mx empty label", IN(HEAD "mx: mx..example\nmax_age: 5\n"),
	    "ERR:mx \"mx..example\"" },
	{ "policy mx leading dot", IN(HEAD "mx: .example\nmax_age: 5\n"),
	    "ERR:mx \".example\"" },
	{ "policy mx leading hyphen", IN(HEAD "mx: -mx.example\nmax_age: 5\n"),
	    "ERR:mx \"-mx.example\"" },
	{ "policy mx trailing hyphen", IN(HEAD "mx: mx-.example\nmax_age: 5\n"),
	    "ERR:mx \"mx-.example\"" },
	{ "policy mx label 64",
	    IN(HEAD "mx: abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
	    "012345678901.example\nmax_age: 5\n"), "ERR:mx \"" },
	{ "policy mx with space",
	    IN(HEAD "mx: a.example b.example\nmax_age: 5\n"),
	    "ERR:mx \"a.example b.example\"" },
	{ "policy mx with port", IN(HEAD "mx: a.example:25\nmax_age: 5\n"),
	    "ERR:mx \"a.example:25\"" },
	{ "policy mx IDN U-label",
	    IN(HEAD "mx: m\xc3\xbcller.example\nmax_age: 5\n"), "ERR:mx \"m" },
	{ "policy mx empty", IN(HEAD "mx:\nmax_age: 5\n"),
	    "ERR:line 3: mx has no value" },

	/* line syntax */
	{ "policy blank line in the middle",
	    IN(HEAD "\nmx: a.example\nmax_age: 5\n"),
	    "ERR:line 3: empty line" },
	{ "policy two final newlines",
	    IN(HEAD "mx: a.example\nmax_age: 5\n\n"),
	    "ERR:line 5: empty line" },
	{ "policy CRLF then blank CRLF",
	    IN("version: STSv1\r\nmode: none\r\nmax_age: 5\r\n\r\n"),
	    "ERR:line 4: empty line" },
	{ "policy leading newline", IN("\n" HEAD "mx: a.example\nmax_age: 5\n"),
	    "ERR:line 1: empty line" },
	{ "policy leading space",
	    IN(" version: STSv1\nmode: none\nmax_age: 5\n"),
	    "ERR:line 1: not \"key: value\"" },
	{ "policy space before colon",
	    IN("version : STSv1\nmode: none\nmax_age: 5\n"),
	    "ERR:line 1: not \"key: value\"" },
	{ "policy key without colon", IN(HEAD "mx a.example\nmax_age: 5\n"),
	    "ERR:line 3: not \"key: value\"" },
	{ "policy key upper case is unknown",
	    IN("version: STSv1\nMode: enforce\nmx: a.example\nmax_age: 5\n"),
	    "ERR:no mode" },
	{ "policy key 33 characters",
	    IN(HEAD "mx: a.example\nmax_age: 5\n"
	    "abcdefghijklmnopqrstuvwxyz0123456: v\n"),
	    "ERR:line 5: not \"key: value\"" },
	{ "policy key with space",
	    IN(HEAD "mx: a.example\nmax_age: 5\nfoo bar: x\n"),
	    "ERR:line 5: not \"key: value\"" },
	{ "policy unknown key without value",
	    IN(HEAD "mx: a.example\nmax_age: 5\nfoo:\n"),
	    "ERR:line 5: foo has no value" },
	{ "policy bare CR line end",
	    IN("version: STSv1\rmode: none\rmax_age: 5\r"),
	    "ERR:line 1: control character 0x0d" },
	{ "policy CR at the very end",
	    IN("version: STSv1\nmode: none\nmax_age: 5\r"),
	    "ERR:line 3: control character 0x0d" },
	{ "policy CR CR LF", IN("version: STSv1\r\r\nmode: none\nmax_age: 5\n"),
	    "ERR:line 1: control character 0x0d" },
	{ "policy NUL in value",
	    IN(HEAD "mx: a.example\nmax_age: 5\nx: a\0b\n"),
	    "ERR:line 5: control character 0x00" },
	{ "policy NUL byte line", IN(HEAD "mx: a.example\nmax_age: 5\n\0"),
	    "ERR:line 5: not \"key: value\"" },
	{ "policy tab inside value",
	    IN(HEAD "mx: a.example\nmax_age: 5\nx: a\tb\n"),
	    "ERR:line 5: control character 0x09" },
	{ "policy DEL in value",
	    IN(HEAD "mx: a.example\nmax_age: 5\nx: a\x7f\n"),
	    "ERR:control character 0x7f" },
	{ "policy invalid UTF-8",
	    IN(HEAD "mx: a.example\nmax_age: 5\nx: \xc3\x28\n"),
	    "ERR:line 5: invalid UTF-8" },
	{ "policy overlong UTF-8",
	    IN(HEAD "mx: a.example\nmax_age: 5\nx: \xc0\xaf\n"),
	    "ERR:invalid UTF-8" },
	{ "policy UTF-8 surrogate",
	    IN(HEAD "mx: a.example\nmax_age: 5\nx: \xed\xa0\x80\n"),
	    "ERR:invalid UTF-8" },
	{ "policy UTF-8 above U+10FFFF",
	    IN(HEAD "mx: a.example\nmax_age: 5\nx: \xf4\x90\x80\x80\n"),
	    "ERR:invalid UTF-8" },
	{ "policy truncated UTF-8",
	    IN(HEAD "mx: a.example\nmax_age: 5\nx: \xe2\x82"),
	    "ERR:invalid UTF-8" },
	{ "policy UTF-8 BOM",
	    IN("\xef\xbb\xbfversion: STSv1\nmode: none\nmax_age: 5\n"),
	    "ERR:line 1: not \"key: value\"" },
	{ "policy JSON", IN("{\"version\": \"STSv1\"}"),
	    "ERR:line 1: not \"key: value\"" },
	{ "policy HTML", IN("<html><body>not found</body></html>\n"),
	    "ERR:line 1: not \"key: value\"" },
};

/* policy_result - the one-line form of a parse result */
static void
policy_result(const char *in, size_t len, struct buf *out)
{
	struct mta_sts_policy *p = NULL;
	char *err = NULL, *copy = heap_copy(in, len);
	size_t i;

	buf_reset(out);
	if (mta_sts_policy_parse(copy, len, &p, &err) < 0) {
		assert_null(p);
		assert_non_null(err);
		(void)buf_printf(out, "ERR:%s", err);
		xfree(err);
		free(copy);
		return;
	}
	assert_null(err);
	assert_non_null(p);
	/* the body is kept verbatim, NUL-terminated */
	assert_int_equal(p->text_len, len);
	assert_memory_equal(p->text, in, len);
	assert_int_equal(p->text[len], '\0');
	assert_string_equal(p->id, "");
	(void)buf_printf(out, "mode=%s max_age=%u mx=",
	    mta_sts_mode_name(p->mode), p->max_age);
	for (i = 0; i < p->nmx; i++)
		(void)buf_printf(out, "%s%s", i ? "," : "", p->mx[i]);
	mta_sts_policy_free(&p);
	assert_null(p);
	free(copy);
}

static void
test_policy_case(void **state)
{
	const struct policy_case *c = *state;
	struct buf got, crlf;
	size_t i;
	int has_cr = memchr(c->in, '\r', c->len) != NULL;

	buf_init(&got, 1 << 20);
	buf_init(&crlf, 1 << 20);
	policy_result(c->in, c->len, &got);
	want_match(c->name, buf_cstr(&got), c->want);

	/* the same with CRLF line ends: same result (line numbers too) */
	if (!has_cr && memchr(c->in, '\n', c->len) != NULL) {
		char name[256];

		for (i = 0; i < c->len; i++) {
			if (c->in[i] == '\n')
				(void)buf_append_char(&crlf, '\r');
			(void)buf_append_char(&crlf, c->in[i]);
		}
		policy_result(crlf.data, crlf.len, &got);
		snprintf(name, sizeof(name), "%s (CRLF)", c->name);
		want_match(name, buf_cstr(&got), c->want);
	}
	buf_free(&got);
	buf_free(&crlf);
}

/* A policy of exactly MTA_STS_POLICY_MAX bytes parses, one more byte
 * does not; the filler is an unknown field. */
static void
test_policy_size_limit(void **state)
{
	static const char head[] = HEAD "mx: a.example\nmax_age: 86400\nx: ";
	struct mta_sts_policy *p = NULL;
	char *big, *err = NULL;
	size_t n = MTA_STS_POLICY_MAX;

	(void)state;
	big = malloc(n + 1);
	assert_non_null(big);
	memcpy(big, head, sizeof(head) - 1);
	memset(big + sizeof(head) - 1, 'a', n + 1 - (sizeof(head) - 1));
	big[n - 1] = '\n';
	assert_int_equal(mta_sts_policy_parse(big, n, &p, &err), 0);
	assert_null(err);
	assert_int_equal(p->text_len, n);
	mta_sts_policy_free(&p);

	big[n - 1] = 'a';
	big[n] = '\n';
	assert_int_equal(mta_sts_policy_parse(big, n + 1, &p, &err), -1);
	assert_null(p);
	assert_non_null(strstr(err, "larger than 65536"));
	xfree(err);
	free(big);
}

/* MTA_STS_MX_MAX mx lines parse; one more fails */
static void
test_policy_mx_limit(void **state)
{
	struct mta_sts_policy *p = NULL;
	struct buf b;
	char *err = NULL, *copy;
	int i;

	(void)state;
	buf_init(&b, MTA_STS_POLICY_MAX);
	(void)buf_append_str(&b, HEAD "max_age: 5\n");
	for (i = 0; i < MTA_STS_MX_MAX; i++)
		(void)buf_printf(&b, "mx: mx%d.example\n", i);
	copy = heap_copy(b.data, b.len);
	assert_int_equal(mta_sts_policy_parse(copy, b.len, &p, &err), 0);
	assert_int_equal(p->nmx, MTA_STS_MX_MAX);
	assert_string_equal(p->mx[MTA_STS_MX_MAX - 1], "mx255.example");
	assert_true(mta_sts_mx_match(p, "mx200.example"));
	mta_sts_policy_free(&p);
	free(copy);

	(void)buf_append_str(&b, "mx: one-more.example\n");
	copy = heap_copy(b.data, b.len);
	assert_int_equal(mta_sts_policy_parse(copy, b.len, &p, &err), -1);
	assert_null(p);
	assert_non_null(strstr(err, "more than 256 mx"));
	xfree(err);
	free(copy);
	buf_free(&b);
}

/* the longest valid mx (253 characters) parses, 254 does not */
static void
test_policy_mx_length(void **state)
{
	struct mta_sts_policy *p = NULL;
	struct buf b, name;
	char *err = NULL;

	(void)state;
	buf_init(&name, 1024);
	/* 3 labels of 63 + 1 of 61 + 3 dots = 253 */
	(void)buf_printf(&name, "%.63s.%.63s.%.63s.%.61s",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
	    "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
	assert_int_equal(name.len, 253);
	buf_init(&b, 4096);
	(void)buf_printf(&b, HEAD "max_age: 5\nmx: %s\n", buf_cstr(&name));
	assert_int_equal(mta_sts_policy_parse(b.data, b.len, &p, &err), 0);
	assert_true(mta_sts_mx_match(p, buf_cstr(&name)));
	mta_sts_policy_free(&p);

	buf_reset(&b);
	(void)buf_printf(&b, HEAD "max_age: 5\nmx: e%s\n", buf_cstr(&name));
	assert_int_equal(mta_sts_policy_parse(b.data, b.len, &p, &err), -1);
	xfree(err);
	buf_free(&b);
	buf_free(&name);
}

/* ---- MX matching (RFC 8461 4.1) ---- */

struct mx_case {
	const char *pattern;
	const char *host;
	int want;
};

static const struct mx_case mx_cases[] = {
	{ "mx.example.com", "mx.example.com", 1 },
	{ "mx.example.com", "MX.Example.COM", 1 },
	{ "MX.EXAMPLE.COM", "mx.example.com", 1 },
	{ "mx.example.com", "mx.example.com.", 1 },
	{ "mx.example.com.", "mx.example.com", 1 },
	{ "mx.example.com", "mx.example.com..", 0 },
	{ "mx.example.com", "mx2.example.com", 0 },
	{ "mx.example.com", "a.mx.example.com", 0 },
	{ "mx.example.com", "example.com", 0 },
	{ "mx.example.com", "mx.example.co", 0 },
	{ "mx.example.com", "mx.example.com.evil", 0 },
	{ "mx.example.com", "", 0 },
	{ "mx.example.com", ".", 0 },
	{ "*.example.com", "mx.example.com", 1 },
	{ "*.example.com", "MX.EXAMPLE.COM", 1 },
	{ "*.Example.Com", "mx.example.com.", 1 },
	{ "*.example.com", "a.example.com", 1 },
	{ "*.example.com", "a.b.example.com", 0 },
	{ "*.example.com", "example.com", 0 },
	{ "*.example.com", ".example.com", 0 },
	{ "*.example.com", "mxexample.com", 0 },
	{ "*.example.com", "mx.example.org", 0 },
	{ "*.example.com", "mx.notexample.com", 0 },
	{ "*.example.com", "*.example.com", 0 },
	{ "*.example.com", "mx.example.com.evil.test", 0 },
	{ "*.com", "example.com", 1 },
	{ "*.com", "a.example.com", 0 },
	{ "*.", "a", 0 },
	{ "*", "a", 0 },
	{ "", "a", 0 },
	{ ".", ".", 0 },
	{ "mx.*.example.com", "mx.a.example.com", 0 },
};

static void
test_mx_match(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(mx_cases) / sizeof(mx_cases[0]); i++) {
		const struct mx_case *c = &mx_cases[i];
		int got = mta_sts_mx_pattern_match(c->pattern, c->host);

		if (got != c->want)
			fail_msg("pattern \"%s\" host \"%s\": got %d, want %d",
			    c->pattern, c->host, got, c->want);
	}
	assert_int_equal(mta_sts_mx_pattern_match(NULL, "a"), 0);
	assert_int_equal(mta_sts_mx_pattern_match("a", NULL), 0);
}

/* a parsed policy's mx list, any pattern matching */
static void
test_mx_match_policy(void **state)
{
	static const char text[] = HEAD "mx: mail.example.com\n"
	    "mx: *.mx.example.net\nmax_age: 86400\n";
	struct mta_sts_policy *p = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(mta_sts_policy_parse(IN(text), &p, &err), 0);
	assert_true(mta_sts_mx_match(p, "mail.example.com"));
	assert_true(mta_sts_mx_match(p, "Mail.Example.Com."));
	assert_true(mta_sts_mx_match(p, "a.mx.example.net"));
	assert_false(mta_sts_mx_match(p, "mx.example.net"));
	assert_false(mta_sts_mx_match(p, "a.b.mx.example.net"));
	assert_false(mta_sts_mx_match(p, "mail.example.net"));
	assert_false(mta_sts_mx_match(NULL, "mail.example.com"));
	mta_sts_policy_free(&p);
	mta_sts_policy_free(&p);	/* already NULL: harmless */
	mta_sts_policy_free(NULL);
}

/* ---- Content-Type ---- */

static void
test_content_type(void **state)
{
	static const struct {
		const char *ct;
		int want;
	} cases[] = {
		{ "text/plain", 1 },
		{ "TEXT/Plain", 1 },
		{ "text/plain; charset=utf-8", 1 },
		{ "text/plain;charset=UTF-8", 1 },
		{ "text/plain ; charset=us-ascii", 1 },
		{ " text/plain", 1 },
		{ "text/plainx", 0 },
		{ "text/plain-x", 0 },
		{ "text/html", 0 },
		{ "text/html; x=text/plain", 0 },
		{ "application/octet-stream", 0 },
		{ "text", 0 },
		{ "", 0 },
		{ NULL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (mta_sts_content_type_ok(cases[i].ct) != cases[i].want)
			fail_msg("Content-Type \"%s\": got %d, want %d",
			    cases[i].ct ? cases[i].ct : "(null)",
			    !cases[i].want, cases[i].want);
}

static void
test_mode_name(void **state)
{
	(void)state;
	assert_string_equal(mta_sts_mode_name(MTA_STS_MODE_NONE), "none");
	assert_string_equal(mta_sts_mode_name(MTA_STS_MODE_TESTING),
	    "testing");
	assert_string_equal(mta_sts_mode_name(MTA_STS_MODE_ENFORCE),
	    "enforce");
}

/* a domain that is not a host name fails before any I/O */
static void
test_fetch_bad_domain(void **state)
{
	struct mta_sts_policy *p = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(mta_sts_fetch("bad_domain.example", NULL, NULL, 1,
	    &p, &err), -1);
	assert_null(p);
	assert_non_null(strstr(err, "not a valid domain"));
	xfree(err);
	err = NULL;
	assert_int_equal(mta_sts_fetch("", NULL, NULL, 1, &p, &err), -1);
	xfree(err);
	err = NULL;
	assert_int_equal(mta_sts_fetch("192.0.2.1", NULL, NULL, 1, &p, &err),
	    -1);
	xfree(err);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_rrset_null),
		cmocka_unit_test(test_policy_size_limit),
		cmocka_unit_test(test_policy_mx_limit),
		cmocka_unit_test(test_policy_mx_length),
		cmocka_unit_test(test_mx_match),
		cmocka_unit_test(test_mx_match_policy),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_mode_name),
		cmocka_unit_test(test_fetch_bad_domain),
	};
	size_t ntxt = sizeof(txt_cases) / sizeof(txt_cases[0]);
	size_t nrr = sizeof(rrset_cases) / sizeof(rrset_cases[0]);
	size_t npol = sizeof(policy_cases) / sizeof(policy_cases[0]);
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	size_t i, n = 0;
	struct CMUnitTest *t;
	int r;

	t = calloc(ntxt + nrr + npol + nfixed, sizeof(*t));
	if (t == NULL)
		return 1;
	for (i = 0; i < ntxt; i++, n++) {
		t[n].name = txt_cases[i].name;
		t[n].test_func = test_txt_case;
		t[n].initial_state = (void *)&txt_cases[i];
	}
	for (i = 0; i < nrr; i++, n++) {
		t[n].name = rrset_cases[i].name;
		t[n].test_func = test_rrset_case;
		t[n].initial_state = (void *)&rrset_cases[i];
	}
	for (i = 0; i < npol; i++, n++) {
		t[n].name = policy_cases[i].name;
		t[n].test_func = test_policy_case;
		t[n].initial_state = (void *)&policy_cases[i];
	}
	memcpy(t + n, fixed, sizeof(fixed));
	r = _cmocka_run_group_tests("mta_sts", t, n + nfixed, NULL, NULL);
	free(t);
	return r;
}
