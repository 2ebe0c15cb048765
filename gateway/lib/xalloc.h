/*
 * xalloc.h - the one allocation wrapper. Failure is fatal(); tests can
 * make the Nth allocation fail (xalloc_fail_after) to check error paths
 * of code that uses the try_ variants.
 */
#ifndef SEALGATE_XALLOC_H
#define SEALGATE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void xfree(void *p);
/* a new formatted string (never NULL: dies on out of memory) */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* try_ variants return NULL on failure (or injected failure) */
void *try_malloc(size_t n);
void *try_realloc(void *p, size_t n);

/* Test hook: the (n+1)th allocation from now fails; -1 disables. */
void xalloc_fail_after(long n);

#endif
