/*
 * buf.c - growable, capped, binary-safe byte buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "xalloc.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
buf_free(struct buf *b)
{
	xfree(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
buf_free_secure(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	buf_free(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* buf_reserve - make room for n more bytes plus the spare NUL */
static int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return -1;
	/* len + n <= max; the spare NUL must not wrap when max is SIZE_MAX */
	if (b->len + n == SIZE_MAX)
		return -1;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	p = try_realloc(b->data, ncap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_append_char(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -1;
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

const char *
buf_cstr(const struct buf *b)
{
	return b->data ? b->data : "";
}

struct slice
buf_slice(const struct buf *b)
{
	return slice_make(buf_cstr(b), b->len);
}

char *
buf_steal(struct buf *b, size_t *len_out)
{
	char *p;

	if (b->data == NULL) {
		if (buf_reserve(b, 0) < 0)
			return NULL;
		/* fresh storage: the promised NUL is not there yet */
		b->data[0] = '\0';
	}
	p = b->data;
	if (len_out != NULL)
		*len_out = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
