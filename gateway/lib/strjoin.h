/*
 * strjoin.h - notes appended to a fixed char array ("why" texts built up
 * step by step: plan reasons, skipped hosts, lookup notes). Never
 * overflows: what does not fit is cut; a full array is left alone.
 */
#ifndef SEALGATE_STRJOIN_H
#define SEALGATE_STRJOIN_H

#include <stddef.h>

/* str_appendf - append the formatted text to the NUL-terminated buf of
 * size bytes, preceded by sep (may be NULL) when buf is not empty */
void str_appendf(char *buf, size_t size, const char *sep, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

#endif
