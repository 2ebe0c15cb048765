/*
 * test_tmpl.c - unit tests for escrow-web/tmpl.c: escaping in each
 * context, raw only where marked, sections, inverted sections, lists,
 * standalone lines, syntax errors with their positions, the nesting,
 * template size and output limits, invalid UTF-8, and the shipped
 * templates in templates/ (run from the repository root).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tmpl.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define OUT_MAX	(1024 * 1024)

static struct tmpl_vars *vars;

static int
setup(void **state)
{
	struct tmpl_vars *it, *g;

	vars = tmpl_vars_new();
	if (tmpl_set(vars, "name", "Alice") < 0 ||
	    tmpl_set(vars, "html", "<script>alert(\"x\")</script>") < 0 ||
	    tmpl_set(vars, "special", "& < > \" '") < 0 ||
	    tmpl_set(vars, "empty", "") < 0 ||
	    tmpl_set(vars, "subject", "Quarterly report") < 0 ||
	    tmpl_set(vars, "inject", "x\r\nBcc: evil@example.com") < 0 ||
	    tmpl_set(vars, "ctl", "a\x01" "b\x7f" "c\td\ne\rf\x1bg\xc2\x85h")
	    < 0 ||
	    tmpl_set(vars, "bad", "ok\xff|\xc3(|\xc0\xaf|\xed\xa0\x80|"
	    "\xf4\x90\x80\x80|\xe2\x82") < 0 ||
	    tmpl_set(vars, "utf", "caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x98\x80")
	    < 0 ||
	    tmpl_set(vars, "tags", "{{name}} {{#x}}") < 0)
		return -1;

	it = tmpl_list_add(vars, "msgs");
	tmpl_set(it, "subject", "one");
	tmpl_set(it, "from", "a@x");
	it = tmpl_list_add(vars, "msgs");
	tmpl_set(it, "subject", "two <b>");
	tmpl_set(it, "from", "b@x");
	tmpl_set(it, "name", "Bob");	/* shadows the top-level name */

	g = tmpl_list_add(vars, "groups");
	tmpl_set(g, "title", "g1");
	tmpl_set(tmpl_list_add(g, "members"), "who", "m1");
	tmpl_set(tmpl_list_add(g, "members"), "who", "m2");
	g = tmpl_list_add(vars, "groups");
	tmpl_set(g, "title", "g2");
	return 0;
}

static int
teardown(void **state)
{
	tmpl_vars_free(&vars);
	return 0;
}

struct tcase {
	const char *name;
	enum tmpl_ctx ctx;
	const char *tmpl;
	const char *want;	/* NULL: an error */
	const char *err;	/* substring of the error */
};

#define H TMPL_HTML
#define T TMPL_TEXT
#define HD TMPL_HEADER

static const struct tcase cases[] = {
	/* values and escaping */
	{ "plain", H, "no tags <b>here</b>", "no tags <b>here</b>", NULL },
	{ "empty template", H, "", "", NULL },
	{ "var", H, "Hi {{name}}!", "Hi Alice!", NULL },
	{ "blanks in tag", H, "{{ name }}{{\tname\t}}", "AliceAlice", NULL },
	{ "html specials", H, "{{special}}",
	    "&amp; &lt; &gt; &quot; &#39;", NULL },
	{ "script", H, "<p>{{html}}</p>",
	    "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>", NULL },
	{ "in attribute", H, "<a title=\"{{html}}\">",
	    "<a title=\"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\">",
	    NULL },
	{ "triple raw", H, "{{{html}}}", "<script>alert(\"x\")</script>",
	    NULL },
	{ "raw keyword", H, "{{raw html}}", "<script>alert(\"x\")</script>",
	    NULL },
	{ "raw keyword blanks", H, "{{  raw \t html }}",
	    "<script>alert(\"x\")</script>", NULL },
	{ "triple blanks", H, "{{{ html }}}", "<script>alert(\"x\")</script>",
	    NULL },
	{ "raw is a name alone", H, "[{{raw}}][{{ raw }}]", "[][]", NULL },
	{ "raw prefix is a name", H, "[{{rawhtml}}]", "[]", NULL },
	{ "text not escaped", T, "{{html}} {{special}}",
	    "<script>alert(\"x\")</script> & < > \" '", NULL },
	{ "header not escaped", HD, "{{special}}", "& < > \" '", NULL },
	{ "unknown empty", H, "[{{nosuch}}][{{{nosuch}}}]", "[][]", NULL },
	{ "list as value", H, "[{{msgs}}]", "[]", NULL },
	{ "value not expanded", H, "{{tags}}", "{{name}} {{#x}}", NULL },
	{ "braces alone", H, "a } b }} c {", "a } b }} c {", NULL },
	{ "utf8 kept", H, "{{utf}}",
	    "caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x98\x80", NULL },

	/* control characters */
	{ "ctl html", H, "{{ctl}}", "abc\td\ne\rfgh", NULL },
	{ "ctl text", T, "{{ctl}}", "abc\td\nefgh", NULL },
	{ "ctl header", HD, "{{ctl}}", "abc defgh", NULL },
	{ "header injection", HD, "Subject: {{inject}}",
	    "Subject: xBcc: evil@example.com", NULL },
	{ "header raw one line", HD, "{{{inject}}}",
	    "xBcc: evil@example.com", NULL },
	{ "header template newline", HD, "Secure: {{subject}}\r\n",
	    "Secure: Quarterly report", NULL },
	{ "text raw kept", T, "{{{inject}}}", "x\r\nBcc: evil@example.com",
	    NULL },

	/* invalid UTF-8: one U+FFFD per bad byte */
	{ "bad utf8 html", H, "{{bad}}",
	    "ok\xef\xbf\xbd|\xef\xbf\xbd(|\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd", NULL },
	{ "bad utf8 text", T, "{{bad}}",
	    "ok\xef\xbf\xbd|\xef\xbf\xbd(|\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd", NULL },
	{ "bad utf8 raw untouched", H, "{{{bad}}}",
	    "ok\xff|\xc3(|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82",
	    NULL },

	/* sections */
	{ "section set", H, "{{#subject}}S: {{subject}}{{/subject}}",
	    "S: Quarterly report", NULL },
	{ "section empty", H, "[{{#empty}}x{{/empty}}]", "[]", NULL },
	{ "section unset", H, "[{{#nosuch}}x{{/nosuch}}]", "[]", NULL },
	{ "inverted empty", H, "[{{^empty}}x{{/empty}}]", "[x]", NULL },
	{ "inverted unset", H, "[{{^nosuch}}x{{/nosuch}}]", "[x]", NULL },
	{ "inverted set", H, "[{{^subject}}x{{/subject}}]", "[]", NULL },
	{ "inverted list", H, "[{{^msgs}}none{{/msgs}}]", "[]", NULL },
	{ "section blanks", H, "{{# subject }}y{{/ subject }}", "y", NULL },
	{ "section both", T,
	    "{{#subject}}A{{/subject}}{{^subject}}B{{/subject}}", "A", NULL },
	{ "list", H, "{{#msgs}}[{{subject}} from {{from}} to {{name}}]"
	    "{{/msgs}}", "[one from a@x to Alice][two &lt;b&gt; from b@x to "
	    "Bob]", NULL },
	{ "list outer name", H, "{{#msgs}}{{subject}}{{/msgs}}{{name}}",
	    "onetwo &lt;b&gt;Alice", NULL },
	{ "nested lists", T, "{{#groups}}{{title}}:{{#members}} {{who}}"
	    "{{/members}}{{^members}} -{{/members}};{{/groups}}",
	    "g1: m1 m2;g2: -;", NULL },
	{ "comment", H, "a{{! note }}b{{!}}c", "abc", NULL },
	{ "comment with braces", H, "a{{! {x} }}b", "ab", NULL },

	/* standalone lines vanish */
	{ "standalone", T, "Hi\n{{#subject}}\nSubject: {{subject}}\n"
	    "{{/subject}}\nBye\n", "Hi\nSubject: Quarterly report\nBye\n",
	    NULL },
	{ "standalone hidden", T, "Hi\n{{#nosuch}}\nSubject: x\n"
	    "{{/nosuch}}\nBye\n", "Hi\nBye\n", NULL },
	{ "standalone indented", T, "Hi\n  {{#subject}}  \nS\n\t{{/subject}}"
	    "\nBye", "Hi\nS\nBye", NULL },
	{ "standalone crlf", T, "Hi\r\n{{^nosuch}}\r\nS\r\n{{/nosuch}}\r\n"
	    "Bye\r\n", "Hi\r\nS\r\nBye\r\n", NULL },
	{ "standalone at end", T, "S\n{{! end }}", "S\n", NULL },
	{ "standalone first", T, "{{! top }}\nS\n", "S\n", NULL },
	{ "standalone comment", T, "a\n{{! x }}\nb\n", "a\nb\n", NULL },
	{ "not standalone text", T, "a {{#subject}}b{{/subject}}\nc",
	    "a b\nc", NULL },
	{ "not standalone var", T, "{{name}}\n", "Alice\n", NULL },
	{ "two tags a line", T, "{{#subject}}{{#name}}\nx\n{{/name}}"
	    "{{/subject}}\n", "\nx\n\n", NULL },
	{ "standalone list", T, "{{#msgs}}\n- {{subject}}\n{{/msgs}}\n",
	    "- one\n- two <b>\n", NULL },

	/* syntax errors, with positions */
	{ "unterminated", H, "abc {{name", NULL,
	    "line 1, column 5: unterminated tag (no \"}}\")" },
	{ "unterminated single", H, "{{name}", NULL,
	    "line 1, column 1: unterminated tag" },
	{ "unterminated triple", H, "x\n  {{{name}}", NULL,
	    "line 2, column 3: unterminated tag (no \"}}}\")" },
	{ "unterminated late", H, "one\ntwo\nthree {{x}} {{", NULL,
	    "line 3, column 13: unterminated tag" },
	{ "empty tag", H, "{{}}", NULL, "line 1, column 1: empty tag" },
	{ "blank tag", H, "a{{ }}", NULL, "line 1, column 2: empty tag" },
	{ "empty triple", H, "{{{}}}", NULL, "empty tag" },
	{ "empty section", H, "{{#}}{{/}}", NULL, "empty tag" },
	{ "space in name", H, "{{na me}}", NULL, "bad name" },
	{ "digit first", H, "{{1abc}}", NULL, "bad name" },
	{ "dot", H, "{{a.b}}", NULL, "bad name" },
	{ "ampersand", H, "{{&name}}", NULL, "bad name" },
	{ "raw two names", H, "{{raw a b}}", NULL, "bad name" },
	{ "quad brace", H, "{{{{name}}}}", NULL, "bad name" },
	{ "never closed", H, "x\n{{#a}}y", NULL,
	    "line 2, column 1: {{#a}} is never closed" },
	{ "inverted never closed", H, "{{#a}}{{/a}}{{^b}}", NULL,
	    "line 1, column 13: {{^b}} is never closed" },
	{ "stray close", H, "ab{{/a}}", NULL,
	    "line 1, column 3: {{/a}} closes no open section" },
	{ "crossed", H, "{{#a}}\n{{^b}}{{/a}}{{/b}}", NULL,
	    "line 2, column 7: {{/a}} does not close {{^b}} (line 2, "
	    "column 1)" },
	{ "wrong close", H, "{{#a}}{{/b}}", NULL,
	    "{{/b}} does not close {{#a}} (line 1, column 1)" },
	{ "error inside hidden section", H, "{{#nosuch}}{{bad name}}"
	    "{{/nosuch}}", NULL, "column 12: bad name" },
};

static void
test_cases(void **state)
{
	const struct tcase *c;
	struct buf out;
	char *err;
	int r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		buf_init(&out, OUT_MAX);
		err = NULL;
		r = tmpl_render(c->tmpl, strlen(c->tmpl), c->ctx, vars, &out,
		    &err);
		if (c->want != NULL) {
			if (r != 0)
				fail_msg("%s: error \"%s\"", c->name, err);
			if (strcmp(buf_cstr(&out), c->want) != 0 ||
			    out.len != strlen(c->want))
				fail_msg("%s: got \"%s\", want \"%s\"",
				    c->name, buf_cstr(&out), c->want);
			assert_null(err);
		} else {
			if (r != -1)
				fail_msg("%s: got \"%s\", want an error",
				    c->name, buf_cstr(&out));
			if (err == NULL || strstr(err, c->err) == NULL)
				fail_msg("%s: got error \"%s\", want \"%s\"",
				    c->name, err ? err : "(none)", c->err);
			if (strncmp(err, "template: ", 10) != 0)
				fail_msg("%s: \"%s\" lacks the label",
				    c->name, err);
			assert_int_equal(out.len, 0);
		}
		xfree(err);
		buf_free(&out);
	}
}

/* Every HTML special character, one at a time, with neighbours */
static void
test_html_each_special(void **state)
{
	static const struct {
		const char *in, *want;
	} v[] = {
		{ "&", "&amp;" }, { "<", "&lt;" }, { ">", "&gt;" },
		{ "\"", "&quot;" }, { "'", "&#39;" },
		{ "a&b", "a&amp;b" }, { "&amp;", "&amp;amp;" },
		{ "<<>>", "&lt;&lt;&gt;&gt;" },
		{ "x\"'y", "x&quot;&#39;y" }, { "", "" }, { "plain", "plain" },
		{ "javascript:alert(1)", "javascript:alert(1)" },
	};
	struct tmpl_vars *tv;
	struct buf out;
	char *err = NULL;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tv = tmpl_vars_new();
		assert_int_equal(tmpl_set(tv, "v", v[i].in), 0);
		buf_init(&out, 256);
		assert_int_equal(tmpl_render("{{v}}", 5, TMPL_HTML, tv, &out,
		    &err), 0);
		if (strcmp(buf_cstr(&out), v[i].want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", v[i].in,
			    buf_cstr(&out), v[i].want);
		buf_free(&out);
		tmpl_vars_free(&tv);
		assert_null(tv);
	}
	/* every byte 0x20..0x7e: only the five specials change */
	tv = tmpl_vars_new();
	{
		char all[96], *p = all;

		for (int ch = 0x20; ch < 0x7f; ch++)
			*p++ = (char)ch;
		*p = '\0';
		assert_int_equal(tmpl_set(tv, "v", all), 0);
	}
	buf_init(&out, 1024);
	assert_int_equal(tmpl_render("{{v}}", 5, TMPL_HTML, tv, &out, &err),
	    0);
	assert_string_equal(buf_cstr(&out), " !&quot;#$%&amp;&#39;()*+,-./"
	    "0123456789:;&lt;=&gt;?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
	    "abcdefghijklmnopqrstuvwxyz{|}~");
	buf_free(&out);
	tmpl_vars_free(&tv);
}

/* nesting: exactly the limit renders, one more is refused */
static void
test_nesting_limit(void **state)
{
	struct buf t, out;
	char *err = NULL;
	int depth;

	for (depth = TMPL_DEPTH_MAX; depth <= TMPL_DEPTH_MAX + 1; depth++) {
		buf_init(&t, 4096);
		for (int i = 0; i < depth; i++)
			assert_int_equal(buf_printf(&t, "{{#subject}}"), 0);
		assert_int_equal(buf_append_str(&t, "deep"), 0);
		for (int i = 0; i < depth; i++)
			assert_int_equal(buf_printf(&t, "{{/subject}}"), 0);
		buf_init(&out, 256);
		if (depth <= TMPL_DEPTH_MAX) {
			assert_int_equal(tmpl_render(t.data, t.len, TMPL_HTML,
			    vars, &out, &err), 0);
			assert_string_equal(out.data, "deep");
		} else {
			assert_int_equal(tmpl_render(t.data, t.len, TMPL_HTML,
			    vars, &out, &err), -1);
			/* the ninth opening tag, at column 8 * 12 + 1 */
			assert_non_null(strstr(err, "line 1, column 97: "
			    "sections nested deeper than 8"));
			xfree(err);
			err = NULL;
		}
		buf_free(&out);
		buf_free(&t);
	}

	/* lists nested to the limit, each level its own scope */
	{
		struct tmpl_vars *tv = tmpl_vars_new(), *cur = tv;

		buf_init(&t, 4096);
		for (int i = 0; i < TMPL_DEPTH_MAX; i++) {
			cur = tmpl_list_add(cur, "l");
			assert_non_null(cur);
			assert_int_equal(buf_printf(&t, "{{#l}}%d", i), 0);
		}
		assert_int_equal(tmpl_set(cur, "leaf", "!"), 0);
		assert_int_equal(buf_append_str(&t, "{{leaf}}"), 0);
		for (int i = 0; i < TMPL_DEPTH_MAX; i++)
			assert_int_equal(buf_append_str(&t, "{{/l}}"), 0);
		buf_init(&out, 256);
		assert_int_equal(tmpl_render(t.data, t.len, TMPL_TEXT, tv,
		    &out, &err), 0);
		assert_string_equal(out.data, "01234567!");
		buf_free(&out);
		buf_free(&t);
		tmpl_vars_free(&tv);
	}
}

static void
test_template_size(void **state)
{
	char *t = xmalloc(TMPL_SIZE_MAX + 1);
	struct buf out;
	char *err = NULL;

	memset(t, 'x', TMPL_SIZE_MAX + 1);
	buf_init(&out, TMPL_SIZE_MAX + 1);
	assert_int_equal(tmpl_render(t, TMPL_SIZE_MAX, TMPL_TEXT, vars, &out,
	    &err), 0);
	assert_int_equal(out.len, TMPL_SIZE_MAX);
	buf_reset(&out);
	assert_int_equal(tmpl_render(t, TMPL_SIZE_MAX + 1, TMPL_TEXT, vars,
	    &out, &err), -1);
	assert_non_null(strstr(err, "over the limit"));
	assert_int_equal(out.len, 0);
	xfree(err);
	buf_free(&out);
	xfree(t);
}

static void
test_output_limit(void **state)
{
	struct buf out;
	char *err = NULL;

	/* exactly the limit */
	buf_init(&out, 10);
	assert_int_equal(tmpl_render("0123456789", 10, TMPL_TEXT, vars, &out,
	    &err), 0);
	assert_int_equal(out.len, 10);
	buf_free(&out);

	/* one more, from text */
	buf_init(&out, 10);
	assert_int_equal(buf_append_str(&out, "pre"), 0);
	assert_int_equal(tmpl_render("01234567", 8, TMPL_TEXT, vars, &out,
	    &err), -1);
	assert_non_null(strstr(err, "output over the limit of 10 bytes"));
	/* what was there before stays, nothing half-rendered follows */
	assert_string_equal(buf_cstr(&out), "pre");
	assert_int_equal(out.len, 3);
	xfree(err);
	err = NULL;
	buf_free(&out);

	/* escaping grows past the limit: "& < > \" '" becomes 28 bytes */
	buf_init(&out, 27);
	assert_int_equal(tmpl_render("{{special}}", 11, TMPL_HTML, vars, &out,
	    &err), -1);
	assert_int_equal(out.len, 0);
	xfree(err);
	err = NULL;
	buf_free(&out);
	buf_init(&out, 28);
	assert_int_equal(tmpl_render("{{special}}", 11, TMPL_HTML, vars, &out,
	    &err), 0);
	buf_free(&out);

	/* in a list, second item */
	buf_init(&out, 5);
	assert_int_equal(tmpl_render("{{#msgs}}{{subject}}{{/msgs}}", 29,
	    TMPL_TEXT, vars, &out, &err), -1);
	assert_int_equal(out.len, 0);
	xfree(err);
	buf_free(&out);
}

static void
test_vars_api(void **state)
{
	struct tmpl_vars *tv = tmpl_vars_new();
	struct buf out;
	char *err = NULL;

	/* names */
	assert_int_equal(tmpl_set(tv, "a", "1"), 0);
	assert_int_equal(tmpl_set(tv, "_x9", "1"), 0);
	assert_int_equal(tmpl_set(tv, "", "1"), -1);
	assert_int_equal(tmpl_set(tv, "9a", "1"), -1);
	assert_int_equal(tmpl_set(tv, "a-b", "1"), -1);
	assert_int_equal(tmpl_set(tv, "a b", "1"), -1);
	assert_int_equal(tmpl_set(tv, "a", NULL), -1);
	assert_int_equal(tmpl_set(tv, NULL, "1"), -1);
	assert_int_equal(tmpl_set(NULL, "a", "1"), -1);
	assert_null(tmpl_list_add(tv, "bad name"));
	assert_null(tmpl_list_add(NULL, "l"));
	{
		char n[TMPL_NAME_MAX + 2];

		memset(n, 'n', sizeof(n));
		n[TMPL_NAME_MAX] = '\0';
		assert_int_equal(tmpl_set(tv, n, "ok"), 0);
		n[TMPL_NAME_MAX] = 'n';
		n[TMPL_NAME_MAX + 1] = '\0';
		assert_int_equal(tmpl_set(tv, n, "long"), -1);
	}

	/* a value is not a list; set replaces, also a list */
	assert_null(tmpl_list_add(tv, "a"));
	assert_non_null(tmpl_list_add(tv, "l"));
	assert_int_equal(tmpl_set(tv, "l", "now a value"), 0);
	assert_int_equal(tmpl_set(tv, "a", "2"), 0);
	buf_init(&out, 256);
	assert_int_equal(tmpl_render("{{a}} {{l}}", 11, TMPL_TEXT, tv, &out,
	    &err), 0);
	assert_string_equal(out.data, "2 now a value");
	buf_free(&out);
	tmpl_vars_free(&tv);
	tmpl_vars_free(&tv);	/* NULL: no-op */
	tmpl_vars_free(NULL);

	/* no vars at all: renders, checks syntax */
	buf_init(&out, 256);
	{
		static const char t[] = "[{{a}}{{#b}}x{{/b}}{{^c}}y{{/c}}]";

		assert_int_equal(tmpl_render(t, strlen(t), TMPL_HTML, NULL,
		    &out, &err), 0);
	}
	assert_string_equal(out.data, "[y]");
	assert_int_equal(tmpl_render("{{#b}}", 6, TMPL_HTML, NULL, &out,
	    &err), -1);
	xfree(err);
	buf_free(&out);
}

/* every prefix of a valid template renders or fails cleanly */
static void
test_prefixes(void **state)
{
	static const char t[] = "A {{name}} {{#msgs}}<{{{subject}}}>{{raw "
	    "from}}{{/msgs}}{{^x}}{{! c }}y{{/x}}\n";
	struct buf out;
	char *err;
	int r;

	for (size_t n = 0; n < sizeof(t); n++) {
		buf_init(&out, 1024);
		err = NULL;
		r = tmpl_render(t, n, TMPL_HTML, vars, &out, &err);
		assert_true((r == 0) == (err == NULL));
		if (r < 0)
			assert_int_equal(out.len, 0);
		xfree(err);
		buf_free(&out);
	}
}

static void
test_render_file(void **state)
{
	char dir[] = "/tmp/test_tmpl.XXXXXX", path[64];
	struct buf out;
	char *err = NULL, *big;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.html", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "<b>{{name}}</b>\n", 16), 16);
	close(fd);
	buf_init(&out, 256);
	assert_int_equal(tmpl_render_file(path, TMPL_HTML, vars, &out, &err),
	    0);
	assert_string_equal(out.data, "<b>Alice</b>\n");
	buf_reset(&out);

	/* errors name the file */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "\n{{#a}}", 7), 7);
	close(fd);
	assert_int_equal(tmpl_render_file(path, TMPL_HTML, vars, &out, &err),
	    -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "line 2, column 1"));
	xfree(err);

	/* too large */
	big = xmalloc(TMPL_SIZE_MAX + 1);
	memset(big, 'x', TMPL_SIZE_MAX + 1);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, big, TMPL_SIZE_MAX + 1),
	    TMPL_SIZE_MAX + 1);
	close(fd);
	xfree(big);
	assert_int_equal(tmpl_render_file(path, TMPL_HTML, vars, &out, &err),
	    -1);
	assert_non_null(strstr(err, "over the limit"));
	xfree(err);

	/* missing, directory */
	unlink(path);
	assert_int_equal(tmpl_render_file(path, TMPL_HTML, vars, &out, &err),
	    -1);
	assert_non_null(strstr(err, "No such file"));
	xfree(err);
	assert_int_equal(tmpl_render_file(dir, TMPL_HTML, vars, &out, &err),
	    -1);
	assert_non_null(strstr(err, "not a regular file"));
	xfree(err);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	rmdir(dir);
}

/* The shipped templates: all parse, and the values land escaped. */
static struct tmpl_vars *
notification_vars(int with_subject)
{
	struct tmpl_vars *tv = tmpl_vars_new();

	tmpl_set(tv, "org_name", "Example <Corp>");
	tmpl_set(tv, "sender_name", "Mallory \"<script>\"");
	tmpl_set(tv, "sender_address", "mallory@example.org");
	tmpl_set(tv, "recipient", "bob@example.net");
	if (with_subject)
		tmpl_set(tv, "subject", "Payroll <b>2025</b>\r\nBcc: x@y");
	tmpl_set(tv, "expires", "2025-12-31 17:00 UTC");
	tmpl_set(tv, "link", "https://escrow.example.com/m/abc?x=1&y=2");
	tmpl_set(tv, "logo_url", "https://escrow.example.com/logo.png");
	tmpl_set(tv, "color_accent", "#0b5394");
	tmpl_set(tv, "color_accent_text", "#ffffff");
	tmpl_set(tv, "support", "helpdesk@example.com");
	tmpl_set(tv, "reader", "bob@example.net");
	tmpl_set(tv, "read_at", "2025-12-01 09:30 UTC");
	tmpl_set(tv, "sent_at", "2025-11-30 16:00 UTC");
	return tv;
}

static void
render_shipped(const char *file, enum tmpl_ctx ctx,
    const struct tmpl_vars *tv, struct buf *out)
{
	char path[128], *err = NULL;

	snprintf(path, sizeof(path), "templates/%s", file);
	buf_init(out, 64 * 1024);
	if (tmpl_render_file(path, ctx, tv, out, &err) != 0)
		fail_msg("%s: %s", path, err);
}

static void
test_shipped_templates(void **state)
{
	static const struct {
		const char *file;
		enum tmpl_ctx ctx;
	} t[] = {
		{ "notification.txt", TMPL_TEXT },
		{ "notification.html", TMPL_HTML },
		{ "notification_subject.txt", TMPL_HEADER },
		{ "reset.txt", TMPL_TEXT },
		{ "reset.html", TMPL_HTML },
		{ "reset_subject.txt", TMPL_HEADER },
		{ "read_notice.txt", TMPL_TEXT },
		{ "read_notice_subject.txt", TMPL_HEADER },
	};
	struct tmpl_vars *with = notification_vars(1);
	struct tmpl_vars *without = notification_vars(0);
	struct buf out;

	if (access("templates/notification.html", R_OK) != 0) {
		print_message("skip: run from the repository root\n");
		goto out;
	}
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		render_shipped(t[i].file, t[i].ctx, with, &out);
		assert_true(out.len > 0);
		if (t[i].ctx == TMPL_HEADER)
			assert_null(memchr(out.data, '\n', out.len));
		if (t[i].ctx == TMPL_HTML) {
			/* no raw markup from values, no remote content
			 * other than the logo */
			assert_null(strstr(out.data, "<script"));
			assert_null(strstr(out.data, "<b>2025"));
			assert_null(strstr(out.data, "<Corp>"));
			assert_null(strstr(out.data, "http://"));
		}
		buf_free(&out);
	}

	render_shipped("notification.html", TMPL_HTML, with, &out);
	assert_non_null(strstr(out.data, "Payroll &lt;b&gt;2025&lt;/b&gt;"));
	assert_non_null(strstr(out.data,
	    "href=\"https://escrow.example.com/m/abc?x=1&amp;y=2\""));
	assert_non_null(strstr(out.data, "Mallory &quot;&lt;script&gt;"));
	assert_non_null(strstr(out.data, "2025-12-31 17:00 UTC"));
	buf_free(&out);

	/* subject hidden: no trace of it, in either body */
	render_shipped("notification.html", TMPL_HTML, without, &out);
	assert_null(strstr(out.data, "Payroll"));
	assert_null(strstr(out.data, "Subject"));
	buf_free(&out);
	render_shipped("notification.txt", TMPL_TEXT, without, &out);
	assert_null(strstr(out.data, "Subject"));
	buf_free(&out);
	render_shipped("notification.txt", TMPL_TEXT, with, &out);
	assert_non_null(strstr(out.data, "https://escrow.example.com/m/abc"
	    "?x=1&y=2"));
	buf_free(&out);

	/* the header stays one line even with CRLF in the subject */
	render_shipped("notification_subject.txt", TMPL_HEADER, with, &out);
	assert_null(memchr(out.data, '\r', out.len));
	buf_free(&out);
out:
	tmpl_vars_free(&with);
	tmpl_vars_free(&without);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_html_each_special),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_template_size),
		cmocka_unit_test(test_output_limit),
		cmocka_unit_test(test_vars_api),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_render_file),
		cmocka_unit_test(test_shipped_templates),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
