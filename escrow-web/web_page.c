/*
 * web_page.c - load, check and render the portal templates.
 *
 * Templates are the operator's files (templates_dir): read once at
 * start, before privileges are dropped, so a broken template stops the
 * role at once with file, line and column rather than at the first
 * visitor. Values are escaped by tmpl; the only raw value is the
 * page body inserted into the layout, which tmpl rendered (escaped)
 * itself. Branding comes from escrow_brand_vars(), shared with the
 * notification mail (colour checked as #rrggbb, logo as https://).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "config.h"
#include "escrow.h"
#include "web_limits.h"
#include "web_page.h"
#include "lib/xalloc.h"

static const struct {
	const char *file;
	enum tmpl_ctx ctx;
} tpl_files[WEB_TPL_N] = {
	[WEB_TPL_LAYOUT] = { "portal/layout.html", TMPL_HTML },
	[WEB_TPL_LOGIN] = { "portal/login.html", TMPL_HTML },
	[WEB_TPL_ENROLL] = { "portal/enroll.html", TMPL_HTML },
	[WEB_TPL_RESET] = { "portal/reset.html", TMPL_HTML },
	[WEB_TPL_RESET_CONFIRM] = { "portal/reset_confirm.html", TMPL_HTML },
	[WEB_TPL_INBOX] = { "portal/inbox.html", TMPL_HTML },
	[WEB_TPL_MESSAGE] = { "portal/message.html", TMPL_HTML },
	[WEB_TPL_ERROR] = { "portal/error.html", TMPL_HTML },
	[WEB_TPL_RECALL] = { "portal/recall.html", TMPL_HTML },
	[WEB_TPL_CSS] = { "static/portal.css", TMPL_TEXT },
	[WEB_TPL_RESET_SUBJECT] = { "reset_subject.txt", TMPL_HEADER },
	[WEB_TPL_RESET_TXT] = { "reset.txt", TMPL_TEXT },
	[WEB_TPL_RESET_HTML] = { "reset.html", TMPL_HTML },
	[WEB_TPL_READ_SUBJECT] = { "read_notice_subject.txt", TMPL_HEADER },
	[WEB_TPL_READ_TXT] = { "read_notice.txt", TMPL_TEXT },
};

struct web_pages {
	const struct sg_config *cfg;
	char *text[WEB_TPL_N];
	size_t len[WEB_TPL_N];
	char *css;
	size_t css_len;
};

/* read_tpl - the template file's bytes (xalloc'd), syntax checked */
static char *
read_tpl(const char *dir, const char *file, enum tmpl_ctx ctx,
    size_t *len_out, char **err_out)
{
	char *path = xasprintf("%s/%s", dir, file), *err = NULL, chunk[8192];
	struct buf out, scratch;
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > TMPL_SIZE_MAX) {
		*err_out = xasprintf("%s: %s", path, fd < 0 ? strerror(errno) :
		    "not a regular file of at most 256 KiB");
		if (fd >= 0)
			close(fd);
		xfree(path);
		return NULL;
	}
	buf_init(&out, TMPL_SIZE_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_append(&out, chunk, (size_t)n) < 0) {
			r = -1;
			break;
		}
	}
	close(fd);
	if (r < 0) {
		*err_out = xasprintf("%s: read error or too large", path);
		buf_free(&out);
		xfree(path);
		return NULL;
	}
	/* rendering without values checks the whole syntax */
	buf_init(&scratch, TMPL_SIZE_MAX * 4);
	if (tmpl_render(buf_cstr(&out), out.len, ctx, NULL, &scratch,
	    &err) < 0) {
		*err_out = xasprintf("%s: %s", path, err);
		xfree(err);
		buf_free(&scratch);
		buf_free(&out);
		xfree(path);
		return NULL;
	}
	buf_free(&scratch);
	xfree(path);
	return buf_steal(&out, len_out);
}

struct web_pages *
web_pages_load(const struct sg_config *cfg, char **err_out)
{
	const char *dir = cfg->templates_dir != NULL ? cfg->templates_dir :
	    "templates";
	struct web_pages *p = xcalloc(1, sizeof(*p));
	struct tmpl_vars *v;
	struct buf css;
	size_t i;

	p->cfg = cfg;
	for (i = 0; i < WEB_TPL_N; i++) {
		p->text[i] = read_tpl(dir, tpl_files[i].file,
		    tpl_files[i].ctx, &p->len[i], err_out);
		if (p->text[i] == NULL) {
			web_pages_free(&p);
			return NULL;
		}
	}
	v = tmpl_vars_new();
	web_pages_brand(p, v);
	buf_init(&css, TMPL_SIZE_MAX * 2);
	if (tmpl_render(p->text[WEB_TPL_CSS], p->len[WEB_TPL_CSS], TMPL_TEXT,
	    v, &css, err_out) < 0) {
		tmpl_vars_free(&v);
		buf_free(&css);
		web_pages_free(&p);
		return NULL;
	}
	tmpl_vars_free(&v);
	p->css = buf_steal(&css, &p->css_len);
	return p;
}

void
web_pages_free(struct web_pages **pp)
{
	struct web_pages *p = *pp;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < WEB_TPL_N; i++)
		xfree(p->text[i]);
	xfree(p->css);
	xfree(p);
	*pp = NULL;
}

const char *
web_pages_css(const struct web_pages *p, size_t *len_out)
{
	*len_out = p->css_len;
	return p->css;
}

void
web_pages_brand(const struct web_pages *p, struct tmpl_vars *v)
{
	/* the values are the config's, checked when it was loaded */
	(void)escrow_brand_vars(p->cfg, v);
}

int
web_pages_render(const struct web_pages *p, enum web_tpl t,
    enum tmpl_ctx ctx, const struct tmpl_vars *v, struct buf *out,
    char **err_out)
{
	return tmpl_render(p->text[t], p->len[t], ctx, v, out, err_out);
}

int
web_pages_page(const struct web_pages *p, enum web_tpl t,
    struct tmpl_vars *v, struct buf *out, char **err_out)
{
	struct buf body;
	int r;

	web_pages_brand(p, v);
	buf_init(&body, WEB_PAGE_MAX);
	r = tmpl_render(p->text[t], p->len[t], TMPL_HTML, v, &body, err_out);
	if (r == 0) {
		tmpl_set(v, "content", buf_cstr(&body));
		r = tmpl_render(p->text[WEB_TPL_LAYOUT],
		    p->len[WEB_TPL_LAYOUT], TMPL_HTML, v, out, err_out);
		/* the page may hold message text: do not leave it around */
		tmpl_set(v, "content", "");
	}
	buf_free_secure(&body);
	return r;
}
