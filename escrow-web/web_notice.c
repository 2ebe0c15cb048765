/*
 * web_notice.c - the portal's automatic mail (password reset link, read
 * notice): templates rendered with the branding, the message built by
 * escrow_mail_build() (the notification's builder, so all escrow mail
 * looks and encodes alike) and queued with escrow_queue_mail().
 *
 * Trust: the values are ours (links, dates) or already checked
 * (addresses from escrow_users, subjects decoded and cleaned); the
 * templates are the operator's. Never logs: the caller does.
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "escrow.h"
#include "lib/buf.h"
#include "lib/queue_id.h"
#include "lib/xalloc.h"
#include "web_app.h"

#define NOTICE_PART_MAX	(256 * 1024)

int
web_notice_queue(struct web_app *app, struct db *db, const char *to,
    enum web_tpl subject, enum web_tpl text, enum web_tpl html,
    struct tmpl_vars *v, char *queue_id_out, char **err_out)
{
	struct buf sb, tb, hb, mail;
	struct escrow_mail m;
	char tok[TOKEN_TEXT_LEN + 1], seed[TOKEN_TEXT_LEN + 1], *msgid = NULL;
	int r = -1;

	web_pages_brand(app->pages, v);
	buf_init(&sb, 4096);
	buf_init(&tb, NOTICE_PART_MAX);
	buf_init(&hb, NOTICE_PART_MAX);
	buf_init(&mail, ESCROW_MAIL_MAX);
	if (web_pages_render(app->pages, subject, TMPL_HEADER, v, &sb,
	    err_out) < 0 ||
	    web_pages_render(app->pages, text, TMPL_TEXT, v, &tb,
	    err_out) < 0 ||
	    (html != WEB_TPL_N && web_pages_render(app->pages, html,
	    TMPL_HTML, v, &hb, err_out) < 0))
		goto out;
	if (token_new(tok) < 0 || token_new(seed) < 0) {
		*err_out = xstrdup("no randomness for a Message-ID");
		r = -2;
		goto out;
	}
	msgid = xasprintf("%s@%s", tok, app->cfg->hostname);
	memset(&m, 0, sizeof(m));
	m.from_addr = app->escrow_from;
	m.from_name = escrow_org_name(app->cfg);
	m.to_addr = to;
	m.subject = buf_cstr(&sb);
	m.text = buf_cstr(&tb);
	m.text_len = tb.len;
	if (html != WEB_TPL_N) {
		m.html = buf_cstr(&hb);
		m.html_len = hb.len;
	}
	m.message_id = msgid;
	m.boundary_seed = seed;
	m.date = (long long)time(NULL);
	m.auto_generated = 1;
	m.mark = 1;
	if (escrow_mail_build(&m, &mail, err_out) < 0)
		goto out;
	r = escrow_queue_mail(db, "", to, mail.data, mail.len, 0,
	    queue_id_out, err_out);
out:
	xfree(msgid);
	buf_free(&sb);
	/* a reset mail holds a live link */
	buf_free_secure(&tb);
	buf_free_secure(&hb);
	buf_free_secure(&mail);
	return r;
}
