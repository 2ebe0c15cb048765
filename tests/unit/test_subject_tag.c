/*
 * test_subject_tag.c - gateway/subject_tag.c: tags found in plain, folded
 * and RFC 2047 (Q, B, ISO-8859-1, split) Subjects and in X-Sealgate-
 * Escalate; stripped with the Subject re-encoded and folded, checked by
 * decoding the result with GMime and with Python's email.header; limits
 * at the edge; everything outside the Subject byte-identical.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gmime/gmime.h>

#include "subject_tag.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

static const char *const tags[] = { "[secure]", "[escrow]", "[encrypt]" };
#define NTAGS (sizeof(tags) / sizeof(tags[0]))

struct find_case {
	const char *name;
	const char *msg;
	int ret;		/* want */
	size_t which;		/* when ret == 1 */
	const char *decoded;	/* NULL: no Subject (or ret -1) */
};

static const struct find_case find_cases[] = {
	{ "plain front", "Subject: [secure] hi\r\n\r\nb", 1, 0, "[secure] hi" },
	{ "Re upper", "Subject: Re: [SECURE] hi\r\n\r\n", 1, 0,
	    "Re: [SECURE] hi" },
	{ "at end mixed case", "Subject: hi [Secure]\r\n\r\n", 1, 0,
	    "hi [Secure]" },
	{ "middle", "From: a@b\r\nSubject: a [escrow] b\r\nTo: c@d\r\n\r\n",
	    1, 1, "a [escrow] b" },
	{ "two tags: list order wins", "Subject: [encrypt] x [secure]\r\n\r\n",
	    1, 0, "[encrypt] x [secure]" },
	{ "no tag", "Subject: hello [sec ure]\r\n\r\n", 0, 0,
	    "hello [sec ure]" },
	{ "unclosed", "Subject: [secure hi\r\n\r\n", 0, 0, "[secure hi" },
	{ "folded, tag on continuation",
	    "Subject: hello world\r\n\t[encrypt] x\r\n\r\n", 1, 2,
	    "hello world\t[encrypt] x" },
	{ "Q encoded", "Subject: =?UTF-8?Q?=5Bsecure=5D_caf=C3=A9?=\r\n\r\n",
	    1, 0, "[secure] caf\xc3\xa9" },
	{ "B encoded", "Subject: =?utf-8?b?W3NlY3VyZV0gaGk=?=\r\n\r\n", 1, 0,
	    "[secure] hi" },
	{ "ISO-8859-1", "Subject: =?ISO-8859-1?Q?caf=E9_=5BESCROW=5D?=\r\n\r\n",
	    1, 1, "caf\xc3\xa9 [ESCROW]" },
	{ "split across encoded words",
	    "Subject: =?UTF-8?Q?=5Bsec?= =?UTF-8?Q?ure=5D_x?=\r\n\r\n", 1, 0,
	    "[secure] x" },
	{ "split across folded encoded words",
	    "Subject: =?UTF-8?Q?=5Bencr?=\r\n =?ISO-8859-1?Q?ypt=5D_=E9?=\r\n\r\n",
	    1, 2, "[encrypt] \xc3\xa9" },
	{ "CJK B with tag", "Subject: =?UTF-8?B?5pel5pysIFtlbmNyeXB0XSDoqp4=?="
	    "\r\n\r\n", 1, 2, "\xe6\x97\xa5\xe6\x9c\xac [encrypt] \xe8\xaa\x9e" },
	{ "escalate header", "X-Sealgate-Escalate: encrypt\r\nSubject: hi\r\n\r\n",
	    1, 2, "hi" },
	{ "escalate bracketed upper",
	    "x-sealgate-escalate:  [ESCROW] \r\nSubject: hi\r\n\r\n", 1, 1, "hi" },
	{ "escalate unknown", "X-Sealgate-Escalate: bogus\r\nSubject: hi\r\n\r\n",
	    0, 0, "hi" },
	{ "escalate and subject: list order",
	    "X-Sealgate-Escalate: escrow\r\nSubject: [encrypt]\r\n\r\n", 1, 1,
	    "[encrypt]" },
	{ "malformed encoded word left", "Subject: =?UTF-8?B?broken [secure]\r\n"
	    "\r\n", 1, 0, "=?UTF-8?B?broken [secure]" },
	{ "unknown charset", "Subject: =?x-bogus?Q?abc?= [secure]\r\n\r\n", 1, 0,
	    NULL },
	{ "no Subject", "From: a@b\r\n\r\nSubject: [secure]\r\n", 0, 0, NULL },
	{ "LF only", "From: a@b\nSubject: [escrow] x\n\nbody\n", 1, 1,
	    "[escrow] x" },
	{ "only first Subject", "Subject: hi\r\nSubject: [secure]\r\n\r\n", 0, 0,
	    "hi" },
	{ "tag in another field", "X-Subject: [secure]\r\nSubject: hi\r\n\r\n",
	    0, 0, "hi" },
	{ "lower-case field name", "subject: [secure]\r\n\r\n", 1, 0,
	    "[secure]" },
	{ "no body, no EOL", "Subject: [secure]", 1, 0, "[secure]" },
	{ "empty message", "", 0, 0, NULL },
	{ "NUL in Subject", "Subject: a\0b [secure]\r\n\r\n", -1, 0, NULL },
};

static void
test_find_table(void **state)
{
	size_t i, which, len;
	char *dec;
	int r;

	for (i = 0; i < sizeof(find_cases) / sizeof(find_cases[0]); i++) {
		const struct find_case *c = &find_cases[i];

		len = strlen(c->msg);
		if (strcmp(c->name, "NUL in Subject") == 0)
			len = sizeof("Subject: a\0b [secure]\r\n\r\n") - 1;
		which = 99;
		dec = (char *)"sentinel";
		r = subject_tag_find(c->msg, len, tags, NTAGS, &which, &dec);
		if (r != c->ret || (r == 1 && which != c->which)) {
			print_error("%s: got %d/%zu, want %d/%zu\n", c->name, r,
			    which, c->ret, c->which);
			fail();
		}
		if (r >= 0 && c->decoded != NULL) {
			if (dec == NULL || strcmp(dec, c->decoded) != 0) {
				print_error("%s: decoded got \"%s\", want \"%s\"\n",
				    c->name, dec ? dec : "(null)", c->decoded);
				fail();
			}
		} else if (r >= 0 && strcmp(c->name, "no Subject") == 0) {
			assert_null(dec);
		}
		if (r >= 0)
			xfree(dec);
		/* optional out-parameters */
		assert_int_equal(subject_tag_find(c->msg, len, tags, NTAGS, NULL,
		    NULL), c->ret);
	}
}

/* subject_value - the unfolded value of the first Subject in m, or NULL */
static char *
subject_value(const char *m)
{
	const char *p = m, *e;
	struct buf b;

	for (;;) {
		if (strncasecmp(p, "Subject:", 8) == 0)
			break;
		if (*p == '\r' || *p == '\n' || *p == '\0')
			return NULL;
		p = strchr(p, '\n');
		if (p == NULL)
			return NULL;
		p++;
	}
	p += 8;
	buf_init(&b, 1 << 20);
	for (e = p; *e != '\0'; e++) {
		if (*e == '\r' && e[1] == '\n')
			continue;
		if (*e == '\n') {
			if (e[1] != ' ' && e[1] != '\t')
				break;
			continue;
		}
		assert_int_equal(buf_append_char(&b, *e), 0);
	}
	return buf_steal(&b, NULL);
}

/* check_subject_shape - every line of the Subject field at most 78 columns,
 * every encoded word at most 75, nothing but printable ASCII */
static void
check_subject_shape(const char *name, const char *m)
{
	const char *p = strstr(m, "Subject:"), *q, *w;
	size_t col = 0;

	if (p == NULL)
		return;
	for (q = p; *q != '\0'; q++) {
		if (*q == '\n') {
			if (q[1] != ' ' && q[1] != '\t')
				break;
			col = 0;
			continue;
		}
		if (*q == '\r')
			continue;
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e) {
			print_error("%s: byte 0x%02x in Subject\n", name,
			    (unsigned char)*q);
			fail();
		}
		if (++col > 78) {
			print_error("%s: Subject line over 78\n", name);
			fail();
		}
		if (q[0] == '=' && q[1] == '?') {
			/* =?cs?X?text?= */
			w = strchr(q + 2, '?');
			w = w ? strchr(w + 1, '?') : NULL;
			w = w ? strstr(w + 1, "?=") : NULL;
			if (w != NULL && (size_t)(w + 2 - q) > 75) {
				print_error("%s: encoded word over 75\n", name);
				fail();
			}
		}
	}
}

/* python_decode - the value decoded by Python's email.header */
static char *
python_decode(const char *value)
{
	char in[] = "/tmp/sgtag-in-XXXXXX", outp[64], cmd[512];
	struct buf b;
	FILE *f;
	int fd, ch;

	fd = mkstemp(in);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, value, strlen(value)),
	    (ssize_t)strlen(value));
	close(fd);
	snprintf(outp, sizeof(outp), "%s.out", in);
	snprintf(cmd, sizeof(cmd), "python3 -c 'import sys\n"
	    "from email.header import decode_header, make_header\n"
	    "v = open(sys.argv[1], encoding=\"ascii\").read()\n"
	    "s = str(make_header(decode_header(v)))\n"
	    "open(sys.argv[2], \"w\", encoding=\"utf-8\").write(s)' %s %s",
	    in, outp);
	assert_int_equal(system(cmd), 0);
	f = fopen(outp, "r");
	assert_non_null(f);
	buf_init(&b, 1 << 20);
	while ((ch = fgetc(f)) != EOF)
		assert_int_equal(buf_append_char(&b, (char)ch), 0);
	fclose(f);
	unlink(in);
	unlink(outp);
	return buf_steal(&b, NULL);
}

struct strip_case {
	const char *name;
	const char *msg;
	const char *tag;
	const char *want;	/* exact output, or NULL */
	const char *subject;	/* decoded Subject of the output, or NULL */
};

#define LONG_ASCII "Quarterly report for the board meeting next week " \
	"with figures for all regions and the outlook for next year"
#define E2 "\xc3\xa9"
#define LONG_UTF8 "R" E2 "sum" E2 " des r" E2 "unions " E2 E2 E2 E2 E2 E2 \
	E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 E2 \
	E2 E2 " et encore du texte apr" E2 "s"

static const struct strip_case strip_cases[] = {
	{ "plain front", "Subject: [secure] hi\r\n\r\nbody\r\n", "[secure]",
	    "Subject: hi\r\n\r\nbody\r\n", "hi" },
	{ "Re upper", "Subject: Re: [SECURE] hi\r\n\r\n", "[secure]",
	    "Subject: Re: hi\r\n\r\n", "Re: hi" },
	{ "at end", "To: x@y\r\nSubject: hi [Secure]\r\nFrom: a@b\r\n\r\n",
	    "[secure]", "To: x@y\r\nSubject: hi\r\nFrom: a@b\r\n\r\n", "hi" },
	{ "middle", "Subject: a [escrow] b\r\n\r\n", "[escrow]",
	    "Subject: a b\r\n\r\n", "a b" },
	{ "all occurrences", "Subject: [secure] a [SeCuRe] b[secure]\r\n\r\n",
	    "[secure]", "Subject: a b\r\n\r\n", "a b" },
	{ "nested occurrence", "Subject: x [sec[secure]ure] y\r\n\r\n",
	    "[secure]", "Subject: x y\r\n\r\n", "x y" },
	{ "other tag stays", "Subject: [encrypt] [secure] z\r\n\r\n",
	    "[secure]", "Subject: [encrypt] z\r\n\r\n", "[encrypt] z" },
	{ "no tag: unchanged", "Subject:  odd   spacing\r\n\r\n", "[secure]",
	    "Subject:  odd   spacing\r\n\r\n", NULL },
	{ "folded, tag on continuation",
	    "Subject: hello world\r\n [secure] x\r\nTo: a@b\r\n\r\n", "[secure]",
	    "Subject: hello world x\r\nTo: a@b\r\n\r\n", "hello world x" },
	{ "Q encoded with non-ASCII",
	    "Subject: =?UTF-8?Q?=5Bsecure=5D_caf=C3=A9?=\r\n\r\n", "[secure]",
	    "Subject: =?UTF-8?Q?caf=C3=A9?=\r\n\r\n", "caf" E2 },
	{ "B encoded", "Subject: =?utf-8?b?W3NlY3VyZV0gaGk=?=\r\n\r\n",
	    "[secure]", "Subject: hi\r\n\r\n", "hi" },
	{ "ISO-8859-1 to UTF-8",
	    "Subject: Re: =?ISO-8859-1?Q?caf=E9_=5Bescrow=5D?= ok\r\n\r\n",
	    "[escrow]", "Subject: Re: =?UTF-8?Q?caf=C3=A9?= ok\r\n\r\n",
	    "Re: caf" E2 " ok" },
	{ "split across encoded words",
	    "Subject: =?UTF-8?Q?=5Bsec?= =?UTF-8?Q?ure=5D_x?=\r\n\r\n",
	    "[secure]", "Subject: x\r\n\r\n", "x" },
	{ "CJK goes to B", "Subject: =?UTF-8?B?5pel5pysIFtlbmNyeXB0XSDoqp4=?="
	    "\r\n\r\n", "[encrypt]", "Subject: =?UTF-8?B?5pel5pysIOiqng==?="
	    "\r\n\r\n", "\xe6\x97\xa5\xe6\x9c\xac \xe8\xaa\x9e" },
	{ "escalate header dropped",
	    "X-Sealgate-Escalate: secure\r\nSubject: hi\r\nX-SEALGATE-ESCALATE:"
	    " [escrow]\r\n\r\nX-Sealgate-Escalate: body\r\n", "[secure]",
	    "Subject: hi\r\n\r\nX-Sealgate-Escalate: body\r\n", "hi" },
	{ "no Subject", "From: a@b\r\n\r\nSubject: [secure]\r\n", "[secure]",
	    "From: a@b\r\n\r\nSubject: [secure]\r\n", NULL },
	{ "LF only", "From: a@b\nSubject: [secure] x\n\nbody [secure]\n",
	    "[secure]", "From: a@b\nSubject: x\n\nbody [secure]\n", "x" },
	{ "body untouched", "Subject: [secure] x\r\n\r\nSubject: [secure]\r\n"
	    "\r\n=?UTF-8?Q?x?=\r\n\xff\x00", "[secure]", NULL, "x" },
	{ "tag only", "Subject: [secure]\r\n\r\n", "[secure]",
	    "Subject:\r\n\r\n", "" },
	{ "no EOL at all", "Subject: [secure] x", "[secure]", "Subject: x",
	    "x" },
	{ "only first Subject", "Subject: [secure] a\r\nSubject: [secure] b\r\n"
	    "\r\n", "[secure]", "Subject: a\r\nSubject: [secure] b\r\n\r\n", "a" },
	{ "long ASCII folded at 78", "Subject: [secure] " LONG_ASCII "\r\n\r\n",
	    "[secure]", "Subject: Quarterly report for the board meeting next "
	    "week with figures for all\r\n regions and the outlook for next "
	    "year\r\n\r\n", LONG_ASCII },
	{ "long UTF-8 split into words", "Subject: =?UTF-8?Q?=5Bsecure=5D?= "
	    LONG_UTF8 "\r\n\r\n", "[secure]", NULL, LONG_UTF8 },
	{ "decoded CRLF cannot inject",
	    "Subject: =?UTF-8?Q?=5Bsecure=5D_a=0D=0AX-Evil:_1?=\r\n\r\n",
	    "[secure]", "Subject: a X-Evil: 1\r\n\r\n", "a X-Evil: 1" },
	{ "decoded text that looks encoded stays text",
	    "Subject: =?UTF-8?Q?=3D=3Futf-8=3Fq=3Fx=3F=3D_=5Bsecure=5D?=\r\n\r\n",
	    "[secure]", NULL, "=?utf-8?q?x?=" },
	{ "malformed encoded word kept as text",
	    "Subject: =?UTF-8?B?broken [secure]\r\n\r\n", "[secure]", NULL,
	    "=?UTF-8?B?broken" },
	{ "raw 8-bit Subject", "Subject: caf\xc3\xa9 [secure]\r\n\r\n",
	    "[secure]", "Subject: =?UTF-8?Q?caf=C3=A9?=\r\n\r\n", "caf" E2 },
	{ "bare tag name", "Subject: a secure b\r\n\r\n", "secure",
	    "Subject: a b\r\n\r\n", "a b" },
};

static void
test_strip_table(void **state)
{
	size_t i, len, which;
	struct buf out;
	char *err, *val, *dec, *py;
	const char *tag1[1];
	int r;

	for (i = 0; i < sizeof(strip_cases) / sizeof(strip_cases[0]); i++) {
		const struct strip_case *c = &strip_cases[i];

		len = strlen(c->msg);
		if (strcmp(c->name, "body untouched") == 0)
			len += 1;	/* the NUL after \xff */
		buf_init(&out, 1 << 20);
		err = NULL;
		r = subject_tag_strip(c->msg, len, c->tag, &out, &err);
		if (r != 0) {
			print_error("%s: strip failed: %s\n", c->name, err);
			fail();
		}
		assert_null(err);
		if (c->want != NULL && (out.len != strlen(c->want) ||
		    memcmp(out.data, c->want, out.len) != 0)) {
			print_error("%s:\n got \"%s\"\nwant \"%s\"\n", c->name,
			    buf_cstr(&out), c->want);
			fail();
		}
		if (strcmp(c->name, "body untouched") == 0) {
			const char *body = strstr(c->msg, "\r\n\r\n");

			assert_true(out.len >= len - (size_t)(body - c->msg));
			assert_memory_equal(out.data + out.len -
			    (len - (size_t)(body - c->msg)), body,
			    len - (size_t)(body - c->msg));
		}
		check_subject_shape(c->name, buf_cstr(&out));
		/* the tag is gone for the finder as well */
		tag1[0] = c->tag;
		assert_int_equal(subject_tag_find(out.data, out.len, tag1, 1,
		    &which, NULL), 0);
		if (c->subject != NULL) {
			val = subject_value(buf_cstr(&out));
			assert_non_null(val);
			dec = g_mime_utils_header_decode_text(NULL, val);
			if (strcmp(g_strstrip(dec), c->subject) != 0) {
				print_error("%s: GMime decodes \"%s\", want \"%s\"\n",
				    c->name, dec, c->subject);
				fail();
			}
			g_free(dec);
			py = python_decode(val);
			if (strcmp(g_strstrip(py), c->subject) != 0) {
				print_error("%s: Python decodes \"%s\", want \"%s\"\n",
				    c->name, py, c->subject);
				fail();
			}
			xfree(py);
			xfree(val);
		}
		buf_free(&out);
	}
}

/* test_strip_errors - bad arguments and limits leave out unchanged */
static void
test_strip_errors(void **state)
{
	struct buf out;
	char *err = NULL, *big;
	size_t n, i;

	buf_init(&out, 1 << 22);
	assert_int_equal(buf_append_str(&out, "keep"), 0);
	assert_int_equal(subject_tag_strip("Subject: x\r\n\r\n", 14, "", &out,
	    &err), -1);
	assert_string_equal(err, "empty tag");
	xfree(err);

	/* header section: exactly the cap is fine, one byte more is not */
	n = SUBJECT_TAG_HEADER_MAX;
	big = xmalloc(n + 2);
	memset(big, 'a', n + 2);
	memcpy(big, "X-Pad: ", 7);
	big[n - 1] = '\n';
	big[n] = '\n';
	big[n + 1] = 'b';
	assert_int_equal(subject_tag_find(big, n + 2, tags, NTAGS, NULL, NULL),
	    0);
	big[n - 1] = 'a';
	big[n] = '\n';
	big[n + 1] = '\n';
	assert_int_equal(subject_tag_find(big, n + 2, tags, NTAGS, NULL, NULL),
	    -1);
	assert_int_equal(subject_tag_strip(big, n + 2, "[secure]", &out, &err),
	    -1);
	assert_non_null(err);
	xfree(err);
	xfree(big);

	/* Subject: exactly 64 KiB decoded is fine, one more is not; the
	 * stripped one, re-encoded, still parses */
	n = SUBJECT_TAG_SUBJECT_MAX;
	big = xmalloc(9 + n + 1 + 4);
	memcpy(big, "Subject: ", 9);
	memset(big + 9, 'x', n);
	memcpy(big + 9 + n - 8, "[secure]", 8);
	memcpy(big + 9 + n, "\r\n\r\n", 4);
	assert_int_equal(subject_tag_find(big, 9 + n + 4, tags, NTAGS, NULL,
	    NULL), 1);
	buf_reset(&out);
	assert_int_equal(subject_tag_strip(big, 9 + n + 4, "[secure]", &out,
	    &err), 0);
	assert_null(err);
	assert_int_equal(subject_tag_find(out.data, out.len, tags, NTAGS, NULL,
	    NULL), 0);
	/* the same length of non-ASCII: Q/B encoded, over 64 KiB raw */
	for (i = 0; i + 2 <= n - 9; i += 2)
		memcpy(big + 9 + i, "\xc3\xa9", 2);
	buf_reset(&out);
	assert_int_equal(subject_tag_strip(big, 9 + n + 4, "[secure]", &out,
	    &err), 0);
	assert_true(out.len > 9 + n + 4);
	assert_int_equal(subject_tag_find(out.data, out.len, tags, NTAGS, NULL,
	    NULL), 0);
	xfree(big);
	big = xmalloc(9 + n + 1 + 4);
	memcpy(big, "Subject: ", 9);
	memset(big + 9, 'x', n + 1);
	memcpy(big + 9 + n + 1, "\r\n\r\n", 4);
	assert_int_equal(subject_tag_find(big, 9 + n + 5, tags, NTAGS, NULL,
	    NULL), -1);
	xfree(big);

	/* out's maximum: -1, out unchanged */
	buf_free(&out);
	buf_init(&out, 8);
	assert_int_equal(buf_append_str(&out, "keep"), 0);
	assert_int_equal(subject_tag_strip("Subject: [secure] hello\r\n\r\n", 27,
	    "[secure]", &out, &err), -1);
	assert_non_null(err);
	xfree(err);
	assert_int_equal(out.len, 4);
	assert_string_equal(buf_cstr(&out), "keep");
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_table),
		cmocka_unit_test(test_strip_table),
		cmocka_unit_test(test_strip_errors),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
