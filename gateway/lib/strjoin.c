/*
 * strjoin.c - see strjoin.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "strjoin.h"

void
str_appendf(char *buf, size_t size, const char *sep, const char *fmt, ...)
{
	size_t l, sl = 0;
	va_list ap;

	if (size == 0)
		return;
	l = strnlen(buf, size);
	if (l > 0 && sep != NULL)
		sl = strlen(sep);
	if (l + sl + 1 >= size)
		return;
	if (sl > 0) {
		memcpy(buf + l, sep, sl);
		l += sl;
	}
	buf[l] = '\0';
	va_start(ap, fmt);
	vsnprintf(buf + l, size - l, fmt, ap);
	va_end(ap);
}
