/*
 * web_form.h - the fields of one submitted portal form, collected from
 * libmicrohttpd's post processor (urlencoded or multipart/form-data)
 * against a list of the fields the form has.
 *
 * Pure: chunks in, values out; no I/O, no logging. The post processor
 * does the wire parsing; this module enforces what may arrive: only
 * known names, each text field once and without NUL bytes, files only
 * where the form has a file input, every size capped, chunks in order.
 */
#ifndef SEALGATE_WEB_FORM_H
#define SEALGATE_WEB_FORM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

#include "lib/buf.h"

#define WEB_FORM_F_FILE		0x1	/* a file input; may repeat */

struct web_form_spec {
	const char *name;
	size_t max;		/* bytes of the value, of each file */
	unsigned flags;
};

enum web_form_err {
	WEB_FORM_E_NONE = 0,
	WEB_FORM_E_UNKNOWN,	/* a field the form does not have */
	WEB_FORM_E_DUP,		/* a text field sent twice */
	WEB_FORM_E_SHAPE,	/* a file for a text field, or the reverse */
	WEB_FORM_E_NUL,		/* NUL byte in a text field */
	WEB_FORM_E_FIELD_SIZE,	/* a value or file over its max */
	WEB_FORM_E_TOTAL_SIZE,	/* all values and files over total_max */
	WEB_FORM_E_FILES,	/* more files than files_max */
	WEB_FORM_E_ORDER,	/* a chunk at an unexpected offset */
	WEB_FORM_E_NOMEM,
};

struct web_form_file {
	char *field;		/* the input's name */
	char *filename;		/* as sent by the browser (untrusted) */
	char *content_type;	/* as sent, or "" */
	struct buf data;
};

struct web_form;

/* web_form_new - a collector for spec[0..nspec) (the array must outlive
 * it). total_max bounds all bytes together; files_max the number of
 * files. Free with web_form_free(). */
struct web_form *web_form_new(const struct web_form_spec *spec,
    size_t nspec, size_t total_max, size_t files_max);
void web_form_free(struct web_form **fp);

/*
 * web_form_feed - one chunk, as MHD_PostDataIterator gets it: data
 * [0..size) of field key at offset off; filename NULL for a plain
 * field. off == 0 starts a new value (a zero-length first chunk may be
 * followed by more at offset 0). 0 ok; -1 with web_form_error() set,
 * after which every later call fails the same way.
 */
int web_form_feed(struct web_form *f, const char *key, const char *filename,
    const char *content_type, const char *data, uint64_t off, size_t size);

/* web_form_finish - the body is complete: drop file inputs left empty
 * (no file chosen: empty name and no bytes). 0, or -1 if an error is
 * pending. */
int web_form_finish(struct web_form *f);

enum web_form_err web_form_error(const struct web_form *f);
/* web_form_error_text - a short English reason, static */
const char *web_form_error_text(enum web_form_err e);

/* web_form_value - a text field's value, NUL-terminated (no NUL
 * inside), or NULL if it was not sent. Valid until web_form_free(). */
const char *web_form_value(const struct web_form *f, const char *name);

/* the files in the order they came; valid until web_form_free() */
size_t web_form_nfiles(const struct web_form *f);
const struct web_form_file *web_form_file_at(const struct web_form *f,
    size_t i);

/*
 * web_form_iterator - an MHD_PostDataIterator over a struct web_form
 * (cls). MHD_NO on any error, which makes MHD_post_process() fail.
 */
enum MHD_Result web_form_iterator(void *cls, enum MHD_ValueKind kind,
    const char *key, const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off,
    size_t size);

#endif
