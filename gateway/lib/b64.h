/*
 * b64.h - strict base64 (RFC 4648) for SASL exchanges.
 */
#ifndef SEALGATE_B64_H
#define SEALGATE_B64_H

#include <stddef.h>

#include "buf.h"

/* Decode in[0..len) into out (appended). Whitespace is not allowed;
 * padding must be correct. 0 ok, -1 malformed or out full. */
int b64_decode(const char *in, size_t len, struct buf *out);
/* Encode into out (appended), no line breaks. 0 ok, -1 out full. */
int b64_encode(const unsigned char *in, size_t len, struct buf *out);

#endif
