/*
 * json.h - JSON output helpers (RFC 8259) for every --json and API reply.
 *
 * Strings are escaped so the output is always valid JSON and valid UTF-8,
 * whatever bytes went in: '"' and '\' escaped, control characters (and
 * DEL, U+2028, U+2029) as \u00XX / \uXXXX, and each byte of ill-formed
 * UTF-8 replaced with \ufffd.
 */
#ifndef SEALGATE_JSON_H
#define SEALGATE_JSON_H

#include <stddef.h>

#include "buf.h"

/* Append s[0..len) as a quoted JSON string. 0 ok, -1 buffer full (the
 * buffer is then left as it was). */
int json_append_string(struct buf *b, const char *s, size_t len);

/* Same for a C string; NULL is written as null. */
int json_append_cstr(struct buf *b, const char *s);

/*
 * utf8_seq_len - length (1..4) of the well-formed UTF-8 sequence at
 * s[0..len), 0 if ill-formed there (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF, no truncated sequence).
 */
size_t utf8_seq_len(const unsigned char *s, size_t len);

/* utf8_valid - 1 when s[0..len) is well-formed UTF-8 throughout (what
 * PostgreSQL accepts in a UTF8 database), else 0 */
int utf8_valid(const char *s, size_t len);

#endif
