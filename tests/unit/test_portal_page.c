/*
 * test_portal_page.c - unit tests for escrow-web/web_page.c with the
 * shipped templates (templates/portal, templates/static): every page
 * renders, carries the ids docs/portal.md promises, escapes hostile
 * values, and breaks none of its own CSP rules (no inline style or
 * script, nothing remote but the logo); the stylesheet carries the
 * brand colour. Also escrow-web/web_cache.c (inbox summaries).
 * Run from the repository root (make runs tests there).
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

#include "config.h"
#include "web_cache.h"
#include "web_page.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define EVIL "<script>alert(1)</script>\"'&"

static struct sg_config *
load_cfg(const char *extra)
{
	char cwd[4096], *text, *err = NULL;
	struct sg_config *cfg;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	text = xasprintf("hostname = mx.test\ntemplates_dir = %s/templates\n"
	    "escrow_color = \"#f0e442\"\n%s", cwd, extra);
	cfg = config_load_string("test.conf", text, strlen(text), &err);
	if (cfg == NULL)
		fail_msg("config: %s", err);
	xfree(text);
	return cfg;
}

/* check_page - the CSP promises of docs/portal.md hold for this page */
static void
check_page(const char *name, const char *html)
{
	const char *bad[] = { "<script", " style=", "<style", "javascript:",
	    "http://", " on", NULL };

	for (size_t i = 0; bad[i] != NULL; i++) {
		const char *p = strstr(html, bad[i]);
		/* " on" only as an attribute start: " onload=" etc. */
		if (p != NULL && strcmp(bad[i], " on") == 0) {
			const char *q = p + 3;
			while (*q >= 'a' && *q <= 'z')
				q++;
			if (*q != '=')
				p = NULL;
		}
		if (p != NULL)
			fail_msg("%s: \"%s\" at: %.60s", name, bad[i], p);
	}
	assert_non_null(strstr(html, "<html lang=\"en\">"));
	assert_non_null(strstr(html, "name=\"viewport\""));
	assert_non_null(strstr(html, "href=\"/static/portal.css\""));
	assert_non_null(strstr(html, "<h1"));
}

static void
want_ids(const char *name, const char *html, const char *const *ids)
{
	for (size_t i = 0; ids[i] != NULL; i++) {
		char *id = xasprintf("id=\"%s\"", ids[i]);
		if (strstr(html, id) == NULL)
			fail_msg("%s lacks #%s", name, ids[i]);
		xfree(id);
	}
}

static char *
page(struct web_pages *p, enum web_tpl t, struct tmpl_vars *v)
{
	struct buf out;
	char *err = NULL;

	buf_init(&out, 1 << 20);
	if (web_pages_page(p, t, v, &out, &err) < 0)
		fail_msg("render %d: %s", t, err);
	return buf_steal(&out, NULL);
}

static void
test_pages(void **state)
{
	struct sg_config *cfg;
	struct web_pages *p;
	struct tmpl_vars *v, *it;
	char *err = NULL, *h;
	const char *css;
	size_t len;

	if (access("templates/portal/layout.html", R_OK) != 0) {
		print_message("skip: run from the repository root\n");
		return;
	}
	cfg = load_cfg("escrow_support = " "help desk\n");
	p = web_pages_load(cfg, &err);
	if (p == NULL)
		fail_msg("load: %s", err);
	css = web_pages_css(p, &len);
	assert_true(len > 100);
	assert_non_null(strstr(css, "#f0e442"));
	assert_null(strstr(css, "{{"));
	assert_null(strstr(css, "url("));

	/* login, with an error and a hostile typed address */
	v = tmpl_vars_new();
	tmpl_set(v, "title", "Log in");
	tmpl_set(v, "csrf", "c0ffee");
	tmpl_set(v, "error", "Wrong address or password.");
	tmpl_set(v, "email", EVIL);
	tmpl_set(v, "next", "/m/x");
	h = page(p, WEB_TPL_LOGIN, v);
	check_page("login", h);
	want_ids("login", h, (const char *const[]){ "login-form", "email",
	    "password", "login-submit", "error", NULL });
	assert_non_null(strstr(h, "Wrong address or password."));
	assert_non_null(strstr(h, "&lt;script&gt;"));
	assert_non_null(strstr(h, "name=\"csrf\" value=\"c0ffee\""));
	assert_non_null(strstr(h, "help desk"));
	assert_null(strstr(h, "id=\"logout\""));
	xfree(h);
	tmpl_vars_free(&v);

	/* enrollment and reset confirmation */
	v = tmpl_vars_new();
	tmpl_set(v, "title", "Choose a password");
	tmpl_set(v, "csrf", "c");
	tmpl_set(v, "t", "tok");
	tmpl_set(v, "address", EVIL);
	h = page(p, WEB_TPL_ENROLL, v);
	check_page("enroll", h);
	want_ids("enroll", h, (const char *const[]){ "enroll-form",
	    "password", "password2", "enroll-submit", NULL });
	assert_non_null(strstr(h, "name=\"t\" value=\"tok\""));
	xfree(h);
	h = page(p, WEB_TPL_RESET_CONFIRM, v);
	check_page("reset_confirm", h);
	want_ids("reset_confirm", h, (const char *const[]){
	    "reset-confirm-form", "password", "password2", NULL });
	xfree(h);
	tmpl_vars_free(&v);

	/* reset request with its notice */
	v = tmpl_vars_new();
	tmpl_set(v, "title", "Forgot");
	tmpl_set(v, "csrf", "c");
	tmpl_set(v, "notice",
	    "If the address has messages here, a link is on its way.");
	h = page(p, WEB_TPL_RESET, v);
	check_page("reset", h);
	want_ids("reset", h, (const char *const[]){ "reset-form", "email",
	    "notice", NULL });
	xfree(h);
	tmpl_vars_free(&v);

	/* inbox, logged in */
	v = tmpl_vars_new();
	tmpl_set(v, "title", "Your messages");
	tmpl_set(v, "logged_in", "1");
	tmpl_set(v, "user", "bob@rcpt.test");
	tmpl_set(v, "session_csrf", "sess");
	it = tmpl_list_add(v, "msgs");
	tmpl_set(it, "id", "ID1");
	tmpl_set(it, "from", EVIL);
	tmpl_set(it, "subject", EVIL);
	tmpl_set(it, "received", "2025-01-01 00:00 UTC");
	tmpl_set(it, "expires", "2025-02-01 00:00 UTC");
	tmpl_set(it, "unread", "1");
	it = tmpl_list_add(v, "msgs");
	tmpl_set(it, "id", "ID2");
	tmpl_set(it, "subject", "read one");
	h = page(p, WEB_TPL_INBOX, v);
	check_page("inbox", h);
	want_ids("inbox", h, (const char *const[]){ "inbox", "logout", NULL });
	assert_non_null(strstr(h, "class=\"msg\""));
	assert_non_null(strstr(h, "class=\"expires\""));
	assert_non_null(strstr(h, "class=\"open\" href=\"/m/ID1\""));
	assert_non_null(strstr(h, "class=\"open\" href=\"/m/ID2\""));
	/* one unread marker, for the unread row only */
	assert_non_null(strstr(h, "class=\"unread\""));
	assert_null(strstr(strstr(h, "class=\"unread\"") + 1,
	    "class=\"unread\""));
	assert_non_null(strstr(h, "action=\"/logout\""));
	assert_null(strstr(h, "id=\"empty\""));
	xfree(h);
	tmpl_vars_free(&v);

	/* the message page: text, frame, attachments, reply form */
	v = tmpl_vars_new();
	tmpl_set(v, "title", EVIL);
	tmpl_set(v, "logged_in", "1");
	tmpl_set(v, "user", "bob@rcpt.test");
	tmpl_set(v, "session_csrf", "sess");
	tmpl_set(v, "id", "ID1");
	tmpl_set(v, "subject", EVIL);
	tmpl_set(v, "from", EVIL);
	tmpl_set(v, "date", "d");
	tmpl_set(v, "expires", "e");
	tmpl_set(v, "has_text", "1");
	tmpl_set(v, "text", "<b>not bold</b>\n" EVIL);
	tmpl_set(v, "has_html", "1");
	tmpl_set(v, "remote_images", "1");
	tmpl_set(v, "has_atts", "1");
	it = tmpl_list_add(v, "atts");
	tmpl_set(it, "n", "0");
	tmpl_set(it, "name", EVIL);
	tmpl_set(it, "size", "1 KB");
	tmpl_set(v, "can_reply", "1");
	tmpl_set(v, "sender", "sam@sender.test");
	tmpl_set(v, "reply_max", "10 MB");
	tmpl_set(v, "sent", "1");
	h = page(p, WEB_TPL_MESSAGE, v);
	check_page("message", h);
	want_ids("message", h, (const char *const[]){ "msg-from",
	    "msg-subject", "msg-date", "msg-expires", "msg-text", "msg-html",
	    "attachments", "show-images", "reply-form", "reply-body",
	    "reply-file", "reply-submit", "notice", NULL });
	assert_non_null(strstr(h, "<pre id=\"msg-text\">&lt;b&gt;not bold"));
	assert_non_null(strstr(h, "<iframe id=\"msg-html\" sandbox "
	    "src=\"/m/ID1/html\""));
	assert_non_null(strstr(h, "href=\"/m/ID1?images=1\""));
	assert_non_null(strstr(h, "class=\"att\" href=\"/m/ID1/att/0\""));
	assert_non_null(strstr(h, "enctype=\"multipart/form-data\""));
	assert_non_null(strstr(h, "action=\"/m/ID1/reply\""));
	assert_non_null(strstr(h, "name=\"csrf\" value=\"sess\""));
	assert_non_null(strstr(h, "Reply sent."));
	assert_null(strstr(h, "allow-"));
	assert_null(strstr(h, "orward"));	/* no forwarding */
	xfree(h);
	/* after "Show images": the frame asks for them, no link again */
	tmpl_set(v, "remote_images", "");
	tmpl_set(v, "images", "1");
	h = page(p, WEB_TPL_MESSAGE, v);
	assert_non_null(strstr(h, "src=\"/m/ID1/html?images=1\""));
	assert_null(strstr(h, "id=\"show-images\""));
	xfree(h);
	tmpl_vars_free(&v);

	/* the error page */
	v = tmpl_vars_new();
	tmpl_set(v, "title", "Not found");
	tmpl_set(v, "heading", "Not found");
	tmpl_set(v, "message", EVIL);
	h = page(p, WEB_TPL_ERROR, v);
	check_page("error", h);
	want_ids("error", h, (const char *const[]){ "error", NULL });
	xfree(h);
	tmpl_vars_free(&v);

	web_pages_free(&p);
	assert_null(p);
	config_free(&cfg);
}

/* a template with a syntax error stops the load, naming the file */
static void
test_bad_template(void **state)
{
	char dir[] = "/tmp/sg-portal-tpl-XXXXXX", *cmd, *err = NULL, *extra;
	struct sg_config *cfg;
	struct web_pages *p;
	FILE *f;
	char *path;

	if (access("templates/portal/layout.html", R_OK) != 0)
		return;
	assert_non_null(mkdtemp(dir));
	cmd = xasprintf("cp -r templates/. %s/", dir);
	assert_int_equal(system(cmd), 0);
	xfree(cmd);
	path = xasprintf("%s/portal/inbox.html", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{{#msgs}} unclosed\n", f);
	fclose(f);
	extra = xasprintf("templates_dir = %s\n", dir);
	{
		/* load_cfg sets templates_dir already: build by hand */
		char *text = xasprintf("hostname = mx.test\n%s", extra);
		cfg = config_load_string("t.conf", text, strlen(text), &err);
		xfree(text);
	}
	assert_non_null(cfg);
	p = web_pages_load(cfg, &err);
	assert_null(p);
	assert_non_null(strstr(err, "portal/inbox.html"));
	xfree(err);
	config_free(&cfg);
	cmd = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	xfree(cmd);
	xfree(path);
	xfree(extra);
}

static void
test_cache(void **state)
{
	struct web_cache *c = web_cache_new(4);
	char *from, *subject;

	assert_int_equal(web_cache_get(c, "id1", &from, &subject), 0);
	assert_null(from);
	web_cache_put(c, "id1", "Sam <s@x>", NULL);
	assert_int_equal(web_cache_get(c, "id1", &from, &subject), 1);
	assert_string_equal(from, "Sam <s@x>");
	assert_null(subject);
	xfree(from);
	/* many more ids than slots: whatever is found is the right one */
	for (int i = 0; i < 100; i++) {
		char id[16], s[16];
		snprintf(id, sizeof(id), "k%d", i);
		snprintf(s, sizeof(s), "s%d", i);
		web_cache_put(c, id, NULL, s);
	}
	for (int i = 0; i < 100; i++) {
		char id[16], s[16];
		snprintf(id, sizeof(id), "k%d", i);
		snprintf(s, sizeof(s), "s%d", i);
		if (web_cache_get(c, id, &from, &subject)) {
			assert_string_equal(subject, s);
			xfree(subject);
		}
	}
	/* the newest is always there */
	assert_int_equal(web_cache_get(c, "k99", &from, &subject), 1);
	xfree(subject);
	web_cache_free(&c);
	assert_null(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_bad_template),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
