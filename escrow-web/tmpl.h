/*
 * tmpl.h - a small logic-less template renderer (a Mustache subset) for
 * the portal pages and notification mail, escaping by default.
 *
 * Tags (whitespace around the name is allowed: {{ name }}):
 *   {{name}}          the value, escaped for the render context
 *   {{{name}}}        the value raw, as is (explicitly marked raw)
 *   {{raw name}}      the same, spelled out
 *   {{#name}}..{{/name}}  shown if name is a non-empty value, once; if
 *                     name is a list, shown once per item, with the
 *                     item's variables in scope
 *   {{^name}}..{{/name}}  shown if name is unset, empty or an empty list
 *   {{! comment }}    nothing
 * Names: [A-Za-z_][A-Za-z0-9_]*, at most TMPL_NAME_MAX characters.
 * Lookup goes from the innermost list item out to the top-level vars,
 * so a list item can use top-level names. An unknown name renders
 * empty (no strict mode: optional values such as a hidden subject are
 * simply left unset); a list in a {{name}} tag renders empty too.
 * A line holding only a section, inverted, closing or comment tag (and
 * blanks) disappears entirely, newline included, as in Mustache, so
 * plain-text templates can put sections on lines of their own.
 * Values are never expanded again: "{{x}}" in a value is text.
 *
 * Contexts, for escaped values ({{name}}):
 *   TMPL_HTML    & < > " ' become &amp; &lt; &gt; &quot; &#39;
 *   TMPL_TEXT    as is
 *   TMPL_HEADER  for one header value: tab becomes a space
 * and in every context: invalid UTF-8 becomes U+FFFD (one per bad
 * byte), control characters (C0, DEL, C1) are removed except tab and
 * newline (HTML: tab, LF and CR; HEADER: none). In TMPL_HEADER, CR and
 * LF are also dropped from raw values and from the template's own text
 * (a final newline in a subject template is harmless): the output is
 * always one line, whatever the values hold.
 *
 * HTML escaping makes a value safe as element text and inside quoted
 * attribute values; it does not make a URL safe in href/src (a
 * "javascript:" URL stays one) nor text safe inside <style>, <script>
 * or an unquoted attribute. Callers validate such values (templates/
 * README.md says which).
 *
 * Limits: template at most TMPL_SIZE_MAX bytes, sections nested at most
 * TMPL_DEPTH_MAX deep; the output limit is out->max. The whole template
 * is checked before anything is rendered, so rendering with no
 * variables (v == NULL) checks a template's syntax.
 *
 * Library code: never logs; errors come back in *err_out (xfree()),
 * with line and column (1-based, bytes) for template syntax errors.
 */
#ifndef SEALGATE_TMPL_H
#define SEALGATE_TMPL_H

#include <stddef.h>

struct buf;

#define TMPL_SIZE_MAX		(256 * 1024)
#define TMPL_DEPTH_MAX		8	/* nested sections */
#define TMPL_NAME_MAX		64

enum tmpl_ctx {
	TMPL_HTML,
	TMPL_TEXT,
	TMPL_HEADER,
};

struct tmpl_vars;	/* a set of named values and lists */

/* tmpl_vars_new - an empty set; free with tmpl_vars_free() */
struct tmpl_vars *tmpl_vars_new(void);
/* tmpl_vars_free - free the set with all its lists and items; *v = NULL */
void tmpl_vars_free(struct tmpl_vars **v);

/* tmpl_set - set name to a copy of value (UTF-8, NUL-terminated),
 * replacing any earlier value or list of that name. 0 ok; -1 invalid
 * name or NULL value. */
int tmpl_set(struct tmpl_vars *v, const char *name, const char *value);

/* tmpl_list_add - append an item to the list list_name (created if
 * unset) and return the item's own variables, owned by v: fill them
 * with tmpl_set(), never free them. NULL if the name is invalid or
 * already holds a value. */
struct tmpl_vars *tmpl_list_add(struct tmpl_vars *v, const char *list_name);

/* tmpl_render - render tmpl[0..len) with v (may be NULL) and append
 * the result to out. 0 ok; -1 with *err_out set (syntax error, template
 * too large, output over out->max) and out unchanged. */
int tmpl_render(const char *tmpl, size_t len, enum tmpl_ctx ctx,
    const struct tmpl_vars *v, struct buf *out, char **err_out);

/* tmpl_render_file - the same with the template read from a regular
 * file; errors name the path. */
int tmpl_render_file(const char *path, enum tmpl_ctx ctx,
    const struct tmpl_vars *v, struct buf *out, char **err_out);

#endif
