/*
 * tmpl.c - logic-less templates (a Mustache subset), escaping by default.
 *
 * Implements: the tag set, contexts and limits described in tmpl.h;
 * UTF-8 validity per RFC 3629 section 4 (no overlongs, surrogates or
 * code points above U+10FFFF).
 * Trust: templates come from the operator's template directory; values
 * come from mail headers and users (sender names, subjects), so every
 * value is escaped unless the template marks it raw, and nothing in a
 * value is ever parsed as a tag. The template is parsed whole into a
 * flat node array first (so errors come out before any output), then
 * rendered; recursion is bounded by TMPL_DEPTH_MAX.
 * Ownership: nodes point into the caller's template text; vars own
 * copies of their names and values. Never logs.
 */
#define _GNU_SOURCE		/* memmem */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpl.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define TMPL_ERR_MAX		1024

struct tmpl_var {
	char *name;
	char *value;			/* NULL for a list */
	struct tmpl_vars **items;	/* a list's items, owned */
	size_t nitems, capitems;
};

struct tmpl_vars {
	struct tmpl_var *v;
	size_t n, cap;
};

enum node_kind {
	N_TEXT,		/* template text */
	N_VAR,		/* {{name}} */
	N_RAW,		/* {{{name}}}, {{raw name}} */
	N_SECTION,	/* {{#name}} */
	N_INVERTED,	/* {{^name}} */
};

struct node {
	enum node_kind kind;
	const char *p;		/* text, or the name; into the template */
	size_t len;
	size_t end;		/* sections: first node after the body */
};

struct parse {
	const char *t;
	size_t len;
	struct node *nodes;
	size_t n, cap;
	size_t open[TMPL_DEPTH_MAX];	/* node index of open sections */
	size_t open_at[TMPL_DEPTH_MAX];	/* their offsets in the text */
	int depth;
};

struct render {
	enum tmpl_ctx ctx;
	struct buf *out;
	const struct node *nodes;
	/* scope[0] is the top level; one more per list being iterated */
	const struct tmpl_vars *scope[TMPL_DEPTH_MAX + 1];
	int nscope;
};

static void
set_err(char **err_out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* set_err - *err_out = new formatted string, if the caller wants one */
static void
set_err(char **err_out, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	if (err_out == NULL)
		return;
	buf_init(&b, TMPL_ERR_MAX);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) < 0)
		(void)buf_append_str(&b, "template error (reason too long)");
	va_end(ap);
	*err_out = buf_steal(&b, NULL);
	if (*err_out == NULL)
		*err_out = xstrdup("template error");
}

/* --- variables --------------------------------------------------- */

static int
name_ok(const char *s, size_t len)
{
	if (len == 0 || len > TMPL_NAME_MAX)
		return 0;
	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	    s[0] == '_'))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

struct tmpl_vars *
tmpl_vars_new(void)
{
	return xcalloc(1, sizeof(struct tmpl_vars));
}

static void
var_clear(struct tmpl_var *var)
{
	xfree(var->value);
	var->value = NULL;
	for (size_t i = 0; i < var->nitems; i++)
		tmpl_vars_free(&var->items[i]);
	xfree(var->items);
	var->items = NULL;
	var->nitems = var->capitems = 0;
}

void
tmpl_vars_free(struct tmpl_vars **vp)
{
	struct tmpl_vars *v;

	if (vp == NULL || *vp == NULL)
		return;
	v = *vp;
	*vp = NULL;
	for (size_t i = 0; i < v->n; i++) {
		var_clear(&v->v[i]);
		xfree(v->v[i].name);
	}
	xfree(v->v);
	xfree(v);
}

static struct tmpl_var *
vars_find(const struct tmpl_vars *v, const char *name, size_t len)
{
	for (size_t i = 0; i < v->n; i++)
		if (strlen(v->v[i].name) == len &&
		    memcmp(v->v[i].name, name, len) == 0)
			return &v->v[i];
	return NULL;
}

/* vars_get - the variable called name, created empty if new */
static struct tmpl_var *
vars_get(struct tmpl_vars *v, const char *name)
{
	struct tmpl_var *var = vars_find(v, name, strlen(name));

	if (var != NULL)
		return var;
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 8;
		v->v = xrealloc(v->v, v->cap * sizeof(*v->v));
	}
	var = &v->v[v->n++];
	memset(var, 0, sizeof(*var));
	var->name = xstrdup(name);
	return var;
}

int
tmpl_set(struct tmpl_vars *v, const char *name, const char *value)
{
	struct tmpl_var *var;

	if (v == NULL || name == NULL || value == NULL ||
	    !name_ok(name, strlen(name)))
		return -1;
	var = vars_get(v, name);
	var_clear(var);
	var->value = xstrdup(value);
	return 0;
}

struct tmpl_vars *
tmpl_list_add(struct tmpl_vars *v, const char *list_name)
{
	struct tmpl_var *var;
	struct tmpl_vars *item;

	if (v == NULL || list_name == NULL ||
	    !name_ok(list_name, strlen(list_name)))
		return NULL;
	var = vars_get(v, list_name);
	if (var->value != NULL)
		return NULL;
	if (var->nitems == var->capitems) {
		var->capitems = var->capitems ? 2 * var->capitems : 4;
		var->items = xrealloc(var->items,
		    var->capitems * sizeof(*var->items));
	}
	item = tmpl_vars_new();
	var->items[var->nitems++] = item;
	return item;
}

/* --- parsing ----------------------------------------------------- */

static void
pos_err(char **err_out, const char *label, const char *t, size_t off,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* line_col - 1-based line and column (bytes) of offset off */
static void
line_col(const char *t, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (t[i] == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
	}
}

/* pos_err - an error at byte offset off: "label: line L, column C: ..." */
static void
pos_err(char **err_out, const char *label, const char *t, size_t off,
    const char *fmt, ...)
{
	char msg[256];
	size_t line, col;
	va_list ap;

	line_col(t, off, &line, &col);
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_err(err_out, "%s: line %zu, column %zu: %s", label, line, col,
	    msg);
}

static int
add_node(struct parse *ps, enum node_kind kind, const char *p, size_t len)
{
	struct node *nn;
	size_t ncap;

	if (ps->n == ps->cap) {
		ncap = ps->cap ? 2 * ps->cap : 32;
		nn = try_realloc(ps->nodes, ncap * sizeof(*nn));
		if (nn == NULL)
			return -1;
		ps->nodes = nn;
		ps->cap = ncap;
	}
	ps->nodes[ps->n].kind = kind;
	ps->nodes[ps->n].p = p;
	ps->nodes[ps->n].len = len;
	ps->nodes[ps->n].end = ps->n + 1;
	ps->n++;
	return 0;
}

static int
add_text(struct parse *ps, size_t from, size_t to)
{
	if (to <= from)
		return 0;
	return add_node(ps, N_TEXT, ps->t + from, to - from);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * standalone - if the tag at [tag, after) is alone on its line (only
 * blanks around it), set *line_start and *next (just past the line's
 * newline, or the end) and return 1. Mustache drops such lines whole.
 */
static int
standalone(const struct parse *ps, size_t text_start, size_t tag,
    size_t after, size_t *line_start, size_t *next)
{
	const char *t = ps->t;
	size_t ls = tag, e = after;

	while (ls > text_start && t[ls - 1] != '\n') {
		if (!is_blank(t[ls - 1]))
			return 0;
		ls--;
	}
	/* reached text_start without a newline: the line began earlier,
	 * with a tag on it, unless text_start is itself a line start */
	if (ls > 0 && t[ls - 1] != '\n')
		return 0;
	while (e < ps->len && is_blank(t[e]))
		e++;
	if (e == ps->len)
		*next = e;
	else if (t[e] == '\n')
		*next = e + 1;
	else if (t[e] == '\r' && e + 1 < ps->len && t[e + 1] == '\n')
		*next = e + 2;
	else
		return 0;
	*line_start = ls;
	return 1;
}

/*
 * parse - the whole template into ps->nodes. 0 ok, -1 with *err_out set.
 */
static int
parse(struct parse *ps, const char *label, char **err_out)
{
	const char *t = ps->t, *o, *c, *name;
	size_t len = ps->len, pos = 0, text_start = 0;
	size_t tag, a, b, after, ls, next, namelen, line, col;
	enum node_kind kind;
	char sigil;
	int triple;

	for (;;) {
		o = memmem(t + pos, len - pos, "{{", 2);
		if (o == NULL)
			break;
		tag = (size_t)(o - t);
		triple = tag + 2 < len && t[tag + 2] == '{';
		a = tag + (triple ? 3 : 2);
		c = memmem(t + a, len - a, triple ? "}}}" : "}}",
		    triple ? 3 : 2);
		if (c == NULL) {
			pos_err(err_out, label, t, tag, "unterminated tag "
			    "(no \"%s\")", triple ? "}}}" : "}}");
			return -1;
		}
		b = (size_t)(c - t);
		after = b + (triple ? 3 : 2);
		while (a < b && is_blank(t[a]))
			a++;
		while (b > a && is_blank(t[b - 1]))
			b--;
		sigil = a < b ? t[a] : '\0';
		if (triple) {
			kind = N_RAW;
			sigil = '\0';
		} else if (sigil == '!') {
			kind = N_TEXT;	/* comment: nothing is added */
		} else if (sigil == '#' || sigil == '^' || sigil == '/') {
			kind = sigil == '#' ? N_SECTION : N_INVERTED;
			a++;
			while (a < b && is_blank(t[a]))
				a++;
		} else if (b - a > 3 && memcmp(t + a, "raw", 3) == 0 &&
		    is_blank(t[a + 3])) {
			kind = N_RAW;
			a += 3;
			while (a < b && is_blank(t[a]))
				a++;
		} else
			kind = N_VAR;
		name = t + a;
		namelen = b - a;
		if (sigil != '!' && !name_ok(name, namelen)) {
			if (namelen == 0)
				pos_err(err_out, label, t, tag, "empty tag");
			else
				pos_err(err_out, label, t, tag, "bad name in "
				    "tag (want letters, digits and _, at most "
				    "%d)", TMPL_NAME_MAX);
			return -1;
		}

		if (sigil == '!' || sigil == '#' || sigil == '^' ||
		    sigil == '/') {
			if (standalone(ps, text_start, tag, after, &ls,
			    &next)) {
				if (add_text(ps, text_start, ls) < 0)
					goto oom;
				after = next;
			} else if (add_text(ps, text_start, tag) < 0)
				goto oom;
		} else if (add_text(ps, text_start, tag) < 0)
			goto oom;
		pos = text_start = after;

		if (sigil == '!')
			continue;
		if (sigil == '/') {
			const struct node *open;

			if (ps->depth == 0) {
				pos_err(err_out, label, t, tag, "{{/%.*s}} "
				    "closes no open section", (int)namelen,
				    name);
				return -1;
			}
			open = &ps->nodes[ps->open[ps->depth - 1]];
			if (open->len != namelen ||
			    memcmp(open->p, name, namelen) != 0) {
				line_col(t, ps->open_at[ps->depth - 1], &line,
				    &col);
				pos_err(err_out, label, t, tag, "{{/%.*s}} "
				    "does not close {{%c%.*s}} (line %zu, "
				    "column %zu)", (int)namelen, name,
				    open->kind == N_SECTION ? '#' : '^',
				    (int)open->len, open->p, line, col);
				return -1;
			}
			ps->depth--;
			ps->nodes[ps->open[ps->depth]].end = ps->n;
			continue;
		}
		if (kind == N_SECTION || kind == N_INVERTED) {
			if (ps->depth == TMPL_DEPTH_MAX) {
				pos_err(err_out, label, t, tag, "sections "
				    "nested deeper than %d", TMPL_DEPTH_MAX);
				return -1;
			}
			ps->open[ps->depth] = ps->n;
			ps->open_at[ps->depth] = tag;
			ps->depth++;
		}
		if (add_node(ps, kind, name, namelen) < 0)
			goto oom;
	}
	if (add_text(ps, text_start, len) < 0)
		goto oom;
	if (ps->depth > 0) {
		const struct node *open = &ps->nodes[ps->open[ps->depth - 1]];

		pos_err(err_out, label, t, ps->open_at[ps->depth - 1],
		    "{{%c%.*s}} is never closed",
		    open->kind == N_SECTION ? '#' : '^', (int)open->len,
		    open->p);
		return -1;
	}
	return 0;
oom:
	set_err(err_out, "%s: out of memory", label);
	return -1;
}

/* --- rendering --------------------------------------------------- */

/*
 * utf8_len - length of the valid UTF-8 sequence at s[0..len) (1..4),
 * its code point in *cp; 0 if s[0] does not start one
 */
static size_t
utf8_len(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	if (len < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	v = v << 6 | (s[1] & 0x3f);
	for (size_t i = 2; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	*cp = v;
	return n;
}

static int
emit(struct render *r, const void *p, size_t n)
{
	return n == 0 ? 0 : buf_append(r->out, p, n);
}

/* emit_escaped - a value in the render context (see tmpl.h) */
static int
emit_escaped(struct render *r, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t len = strlen(value), i = 0, run = 0, n;
	const char *rep;
	uint32_t cp;

	while (i < len) {
		n = utf8_len(s + i, len - i, &cp);
		rep = NULL;
		if (n == 0) {
			rep = "\xef\xbf\xbd";	/* U+FFFD */
			n = 1;
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			if (cp == '\t' && r->ctx == TMPL_HEADER)
				rep = " ";
			else if (cp == '\t' || (cp == '\n' &&
			    r->ctx != TMPL_HEADER) || (cp == '\r' &&
			    r->ctx == TMPL_HTML))
				rep = NULL;
			else
				rep = "";
		} else if (r->ctx == TMPL_HTML) {
			switch (cp) {
			case '&':
				rep = "&amp;";
				break;
			case '<':
				rep = "&lt;";
				break;
			case '>':
				rep = "&gt;";
				break;
			case '"':
				rep = "&quot;";
				break;
			case '\'':
				rep = "&#39;";
				break;
			}
		}
		if (rep == NULL) {
			run += n;
			i += n;
			continue;
		}
		if (emit(r, s + i - run, run) < 0 ||
		    emit(r, rep, strlen(rep)) < 0)
			return -1;
		run = 0;
		i += n;
	}
	return emit(r, s + i - run, run);
}

/* emit_verbatim - template text or a raw value; one line in HEADER */
static int
emit_verbatim(struct render *r, const char *p, size_t len)
{
	size_t i, start = 0;

	if (r->ctx != TMPL_HEADER)
		return emit(r, p, len);
	for (i = 0; i < len; i++)
		if (p[i] == '\r' || p[i] == '\n') {
			if (emit(r, p + start, i - start) < 0)
				return -1;
			start = i + 1;
		}
	return emit(r, p + start, len - start);
}

/* lookup - innermost scope first */
static const struct tmpl_var *
lookup(const struct render *r, const char *name, size_t len)
{
	const struct tmpl_var *var;

	for (int i = r->nscope - 1; i >= 0; i--) {
		if (r->scope[i] == NULL)
			continue;
		var = vars_find(r->scope[i], name, len);
		if (var != NULL)
			return var;
	}
	return NULL;
}

/* render_range - nodes [from, to); depth bounded by the parser */
static int
render_range(struct render *r, size_t from, size_t to)
{
	const struct node *nd;
	const struct tmpl_var *var;
	size_t i = from;
	int shown;

	while (i < to) {
		nd = &r->nodes[i];
		var = nd->kind == N_TEXT ? NULL : lookup(r, nd->p, nd->len);
		switch (nd->kind) {
		case N_TEXT:
			if (emit_verbatim(r, nd->p, nd->len) < 0)
				return -1;
			break;
		case N_VAR:
			if (var != NULL && var->value != NULL &&
			    emit_escaped(r, var->value) < 0)
				return -1;
			break;
		case N_RAW:
			if (var != NULL && var->value != NULL &&
			    emit_verbatim(r, var->value,
			    strlen(var->value)) < 0)
				return -1;
			break;
		case N_SECTION:
			if (var != NULL && var->value == NULL) {
				for (size_t k = 0; k < var->nitems; k++) {
					r->scope[r->nscope++] = var->items[k];
					shown = render_range(r, i + 1,
					    nd->end);
					r->nscope--;
					if (shown < 0)
						return -1;
				}
			} else if (var != NULL && var->value[0] != '\0' &&
			    render_range(r, i + 1, nd->end) < 0)
				return -1;
			i = nd->end;
			continue;
		case N_INVERTED:
			shown = var == NULL || (var->value != NULL ?
			    var->value[0] == '\0' : var->nitems == 0);
			if (shown && render_range(r, i + 1, nd->end) < 0)
				return -1;
			i = nd->end;
			continue;
		}
		i++;
	}
	return 0;
}

static int
render(const char *label, const char *tmpl, size_t len, enum tmpl_ctx ctx,
    const struct tmpl_vars *v, struct buf *out, char **err_out)
{
	struct parse ps;
	struct render r;
	size_t start = out->len;
	int rc = -1;

	if (len > TMPL_SIZE_MAX) {
		set_err(err_out, "%s: template of %zu bytes is over the limit "
		    "of %d", label, len, TMPL_SIZE_MAX);
		return -1;
	}
	if (ctx != TMPL_HTML && ctx != TMPL_TEXT && ctx != TMPL_HEADER) {
		set_err(err_out, "%s: unknown context %d", label, (int)ctx);
		return -1;
	}
	memset(&ps, 0, sizeof(ps));
	ps.t = tmpl != NULL ? tmpl : "";
	ps.len = tmpl != NULL ? len : 0;
	if (parse(&ps, label, err_out) < 0)
		goto out;
	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.out = out;
	r.nodes = ps.nodes;
	r.scope[0] = v;
	r.nscope = 1;
	if (render_range(&r, 0, ps.n) < 0) {
		/* restore: the caller never sees half a page */
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		set_err(err_out, "%s: output over the limit of %zu bytes "
		    "(or out of memory)", label, out->max);
		goto out;
	}
	rc = 0;
out:
	xfree(ps.nodes);
	return rc;
}

int
tmpl_render(const char *tmpl, size_t len, enum tmpl_ctx ctx,
    const struct tmpl_vars *v, struct buf *out, char **err_out)
{
	return render("template", tmpl, len, ctx, v, out, err_out);
}

int
tmpl_render_file(const char *path, enum tmpl_ctx ctx,
    const struct tmpl_vars *v, struct buf *out, char **err_out)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		set_err(err_out, "template %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		set_err(err_out, "template %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err_out, "template %s: not a regular file", path);
		goto out;
	}
	if (st.st_size > TMPL_SIZE_MAX) {
		set_err(err_out, "template %s: %lld bytes is over the limit "
		    "of %d", path, (long long)st.st_size, TMPL_SIZE_MAX);
		goto out;
	}
	/* one byte more than allowed: notices a file that grew */
	text = try_malloc(TMPL_SIZE_MAX + 1);
	if (text == NULL) {
		set_err(err_out, "template %s: out of memory", path);
		goto out;
	}
	while (got < TMPL_SIZE_MAX + 1) {
		n = read(fd, text + got, TMPL_SIZE_MAX + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_err(err_out, "template %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	rc = render(path, text, got, ctx, v, out, err_out);
out:
	xfree(text);
	(void)close(fd);
	return rc;
}
