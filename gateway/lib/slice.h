/*
 * slice.h - a non-owning view into bytes: pointer plus length.
 * Parsers hand these out into their own buffers instead of copying.
 */
#ifndef SEALGATE_SLICE_H
#define SEALGATE_SLICE_H

#include <stddef.h>
#include <string.h>

struct slice {
	const char *ptr;
	size_t len;
};

#define SLICE_EMPTY ((struct slice){ "", 0 })

static inline struct slice
slice_make(const char *p, size_t len)
{
	struct slice s = { p, len };
	return s;
}

/* slice_eq_ci - ASCII case-insensitive compare with a C string */
static inline int
slice_eq_ci(struct slice s, const char *lit)
{
	size_t n = strlen(lit);
	if (n != s.len)
		return 0;
	return strncasecmp(s.ptr, lit, n) == 0;
}

#endif
