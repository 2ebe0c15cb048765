/*
 * web_page.h - the portal's templates: read and checked once at start
 * (templates_dir/portal/NAME.html, static/portal.css and the reset and
 * read-notice mails), rendered per request from memory, pages wrapped
 * in the shared layout, every one carrying the configured branding.
 */
#ifndef SEALGATE_WEB_PAGE_H
#define SEALGATE_WEB_PAGE_H

#include <stddef.h>

#include "lib/buf.h"
#include "tmpl.h"

enum web_tpl {
	WEB_TPL_LAYOUT,		/* portal/layout.html: wraps every page */
	WEB_TPL_LOGIN,		/* portal/login.html */
	WEB_TPL_ENROLL,		/* portal/enroll.html */
	WEB_TPL_RESET,		/* portal/reset.html */
	WEB_TPL_RESET_CONFIRM,	/* portal/reset_confirm.html */
	WEB_TPL_INBOX,		/* portal/inbox.html */
	WEB_TPL_MESSAGE,	/* portal/message.html */
	WEB_TPL_ERROR,		/* portal/error.html */
	WEB_TPL_RECALL,		/* portal/recall.html */
	WEB_TPL_CSS,		/* static/portal.css (TEXT) */
	WEB_TPL_RESET_SUBJECT,	/* reset_subject.txt (HEADER) */
	WEB_TPL_RESET_TXT,	/* reset.txt (TEXT) */
	WEB_TPL_RESET_HTML,	/* reset.html (HTML) */
	WEB_TPL_READ_SUBJECT,	/* read_notice_subject.txt (HEADER) */
	WEB_TPL_READ_TXT,	/* read_notice.txt (TEXT) */
	WEB_TPL_N
};

struct sg_config;
struct web_pages;

/* web_pages_load - read every template under cfg->templates_dir, check
 * its syntax and render the stylesheet with the branding
 * (escrow_brand_vars()). cfg must outlive the pages. NULL with *err_out
 * (file and reason). */
struct web_pages *web_pages_load(const struct sg_config *cfg,
    char **err_out);
void web_pages_free(struct web_pages **pp);

/* web_pages_css - the rendered stylesheet (owned by pages) */
const char *web_pages_css(const struct web_pages *p, size_t *len_out);

/* web_pages_brand - set org_name, logo_url, support, color_accent and
 * color_accent_text in v (escrow_brand_vars()) */
void web_pages_brand(const struct web_pages *p, struct tmpl_vars *v);

/* web_pages_render - one template in ctx with v (branding added by the
 * caller or not); appends to out. 0 / -1 with *err_out. */
int web_pages_render(const struct web_pages *p, enum web_tpl t,
    enum tmpl_ctx ctx, const struct tmpl_vars *v, struct buf *out,
    char **err_out);

/* web_pages_page - a whole HTML page: template t rendered with v, then
 * the layout with content = that (raw: already escaped), the branding
 * and v's own values (title, logged_in, user, csrf). Appends to out.
 * 0 / -1 with *err_out. */
int web_pages_page(const struct web_pages *p, enum web_tpl t,
    struct tmpl_vars *v, struct buf *out, char **err_out);

#endif
