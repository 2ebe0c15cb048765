/*
 * buf.h - the one growable byte buffer (after Postfix VSTRING, curl dynbuf).
 *
 * Binary-safe: len is authoritative, yet data[len] is always NUL so a stray
 * C-string call cannot run off the end. Every buffer has a maximum fixed at
 * init; an append past it returns -1 and leaves the buffer unchanged.
 */
#ifndef SEALGATE_BUF_H
#define SEALGATE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "slice.h"

struct buf {
	char *data;		/* NUL-terminated; NULL until first append */
	size_t len;
	size_t cap;
	size_t max;		/* appends beyond this fail */
};

void buf_init(struct buf *b, size_t max);
/* Release storage; the buffer may be reused after buf_init(). */
void buf_free(struct buf *b);
/* Like buf_free but wipes contents first (secrets). */
void buf_free_secure(struct buf *b);
void buf_reset(struct buf *b);

/* 0 on success, -1 when the result would exceed max or allocation fails */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_char(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Remove the first n bytes (consumed input). */
void buf_consume(struct buf *b, size_t n);

/* Always a valid C string, "" when empty. */
const char *buf_cstr(const struct buf *b);
struct slice buf_slice(const struct buf *b);

/* Hand the storage to the caller (NUL-terminated); buffer becomes empty.
 * Free the result with xfree(). */
char *buf_steal(struct buf *b, size_t *len_out);

#endif
