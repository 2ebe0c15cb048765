/*
 * web_form.c - collect a form's fields from the post processor.
 *
 * Implements: the field rules in web_form.h; RFC 7578 (multipart/
 * form-data: several files under one name, filename as a parameter).
 * Trust: everything here is client input. Sizes are checked before
 * anything is stored, nothing is sized from a declared length, and
 * after the first error the form refuses every further chunk.
 * No I/O, no logging.
 */
#include <string.h>

#include "web_form.h"
#include "lib/xalloc.h"

struct web_form_value {
	const struct web_form_spec *spec;
	struct buf data;
	int seen;
};

struct web_form {
	const struct web_form_spec *spec;
	size_t nspec;
	size_t total_max, files_max, total;
	struct web_form_value *values;	/* one per spec entry */
	struct web_form_file *files;
	size_t nfiles;
	/* the value chunks go to now */
	struct buf *cur;
	const struct web_form_spec *cur_spec;
	char *cur_key;
	int cur_is_file;
	enum web_form_err err;
};

struct web_form *
web_form_new(const struct web_form_spec *spec, size_t nspec,
    size_t total_max, size_t files_max)
{
	struct web_form *f = xcalloc(1, sizeof(*f));
	size_t i;

	f->spec = spec;
	f->nspec = nspec;
	f->total_max = total_max;
	f->files_max = files_max;
	f->values = xcalloc(nspec > 0 ? nspec : 1, sizeof(*f->values));
	for (i = 0; i < nspec; i++) {
		f->values[i].spec = &spec[i];
		buf_init(&f->values[i].data, spec[i].max);
	}
	f->files = xcalloc(files_max > 0 ? files_max : 1, sizeof(*f->files));
	return f;
}

static void
file_release(struct web_form_file *ff)
{
	xfree(ff->field);
	xfree(ff->filename);
	xfree(ff->content_type);
	/* replies are confidential: wipe what we held */
	buf_free_secure(&ff->data);
	memset(ff, 0, sizeof(*ff));
}

void
web_form_free(struct web_form **fp)
{
	struct web_form *f = *fp;
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nspec; i++)
		buf_free_secure(&f->values[i].data);
	for (i = 0; i < f->nfiles; i++)
		file_release(&f->files[i]);
	xfree(f->values);
	xfree(f->files);
	xfree(f->cur_key);
	xfree(f);
	*fp = NULL;
}

static int
fail(struct web_form *f, enum web_form_err e)
{
	if (f->err == WEB_FORM_E_NONE)
		f->err = e;
	return -1;
}

static const struct web_form_spec *
spec_find(const struct web_form *f, const char *key, size_t *idx_out)
{
	size_t i;

	for (i = 0; i < f->nspec; i++)
		if (strcmp(f->spec[i].name, key) == 0) {
			*idx_out = i;
			return &f->spec[i];
		}
	return NULL;
}

/* start_value - a new value of key begins */
static int
start_value(struct web_form *f, const char *key, const char *filename,
    const char *content_type)
{
	const struct web_form_spec *sp;
	size_t idx;

	sp = spec_find(f, key, &idx);
	if (sp == NULL)
		return fail(f, WEB_FORM_E_UNKNOWN);
	if ((sp->flags & WEB_FORM_F_FILE) != (filename != NULL ?
	    WEB_FORM_F_FILE : 0))
		return fail(f, WEB_FORM_E_SHAPE);
	xfree(f->cur_key);
	f->cur_key = xstrdup(key);
	f->cur_spec = sp;
	if (filename != NULL) {
		struct web_form_file *ff;

		if (f->nfiles >= f->files_max)
			return fail(f, WEB_FORM_E_FILES);
		ff = &f->files[f->nfiles++];
		ff->field = xstrdup(key);
		ff->filename = xstrdup(filename);
		ff->content_type = xstrdup(content_type != NULL ?
		    content_type : "");
		buf_init(&ff->data, sp->max);
		f->cur = &ff->data;
		f->cur_is_file = 1;
		return 0;
	}
	if (f->values[idx].seen)
		return fail(f, WEB_FORM_E_DUP);
	f->values[idx].seen = 1;
	f->cur = &f->values[idx].data;
	f->cur_is_file = 0;
	return 0;
}

/* web_form_feed - take one chunk of one field */
int
web_form_feed(struct web_form *f, const char *key, const char *filename,
    const char *content_type, const char *data, uint64_t off, size_t size)
{
	int cont;

	if (f->err != WEB_FORM_E_NONE)
		return -1;
	if (key == NULL)
		return fail(f, WEB_FORM_E_UNKNOWN);
	/*
	 * A chunk continues the current value when it is the same field
	 * (and file) at the offset reached so far. So offset 0 after an
	 * empty start is the same value: MHD may announce a value with a
	 * zero-length call first.
	 */
	cont = f->cur != NULL && f->cur_key != NULL &&
	    strcmp(f->cur_key, key) == 0 &&
	    (filename != NULL) == f->cur_is_file && off == f->cur->len &&
	    (filename == NULL ||
	    strcmp(f->files[f->nfiles - 1].filename, filename) == 0);
	if (!cont) {
		if (off != 0)
			return fail(f, WEB_FORM_E_ORDER);
		if (start_value(f, key, filename, content_type) < 0)
			return -1;
	}
	if (size == 0)
		return 0;
	if (!f->cur_is_file && memchr(data, '\0', size) != NULL)
		return fail(f, WEB_FORM_E_NUL);
	if (size > f->total_max - f->total)
		return fail(f, WEB_FORM_E_TOTAL_SIZE);
	if (buf_append(f->cur, data, size) < 0)
		return fail(f, f->cur->len + size > f->cur->max ?
		    WEB_FORM_E_FIELD_SIZE : WEB_FORM_E_NOMEM);
	f->total += size;
	return 0;
}

int
web_form_finish(struct web_form *f)
{
	size_t i, o = 0;

	if (f->err != WEB_FORM_E_NONE)
		return -1;
	for (i = 0; i < f->nfiles; i++) {
		if (f->files[i].filename[0] == '\0' &&
		    f->files[i].data.len == 0) {
			file_release(&f->files[i]);
			continue;
		}
		if (o != i) {
			f->files[o] = f->files[i];
			memset(&f->files[i], 0, sizeof(f->files[i]));
		}
		o++;
	}
	f->nfiles = o;
	f->cur = NULL;
	return 0;
}

enum web_form_err
web_form_error(const struct web_form *f)
{
	return f->err;
}

const char *
web_form_error_text(enum web_form_err e)
{
	switch (e) {
	case WEB_FORM_E_NONE:
		return "no error";
	case WEB_FORM_E_UNKNOWN:
		return "unknown field";
	case WEB_FORM_E_DUP:
		return "field sent twice";
	case WEB_FORM_E_SHAPE:
		return "file where text was expected, or the reverse";
	case WEB_FORM_E_NUL:
		return "NUL byte in a field";
	case WEB_FORM_E_FIELD_SIZE:
		return "field too large";
	case WEB_FORM_E_TOTAL_SIZE:
		return "form too large";
	case WEB_FORM_E_FILES:
		return "too many files";
	case WEB_FORM_E_ORDER:
		return "chunk out of order";
	case WEB_FORM_E_NOMEM:
		return "out of memory";
	}
	return "error";
}

const char *
web_form_value(const struct web_form *f, const char *name)
{
	size_t idx;
	const struct web_form_spec *sp = spec_find(f, name, &idx);

	if (sp == NULL || (sp->flags & WEB_FORM_F_FILE) ||
	    !f->values[idx].seen)
		return NULL;
	return buf_cstr(&f->values[idx].data);
}

size_t
web_form_nfiles(const struct web_form *f)
{
	return f->nfiles;
}

const struct web_form_file *
web_form_file_at(const struct web_form *f, size_t i)
{
	return i < f->nfiles ? &f->files[i] : NULL;
}

/* web_form_iterator - the MHD_PostDataIterator glue */
enum MHD_Result
web_form_iterator(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off,
    size_t size)
{
	(void)kind;
	(void)transfer_encoding;
	return web_form_feed(cls, key, filename, content_type, data, off,
	    size) == 0 ? MHD_YES : MHD_NO;
}
