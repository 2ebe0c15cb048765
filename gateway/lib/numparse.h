/*
 * numparse.h - the one checked number parser: whole string, range, no junk.
 */
#ifndef SEALGATE_NUMPARSE_H
#define SEALGATE_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Parse decimal s[0..len) into *out within [min,max]. 0 ok, -1 otherwise.
 * No sign, no whitespace, no leading '+'; empty is an error. */
int num_parse_u64(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out);
/* NUL-terminated convenience form */
int num_parse_u64_str(const char *s, uint64_t min, uint64_t max,
    uint64_t *out);
/* Durations: "30", "30s", "5m", "2h", "5d" into seconds */
int num_parse_duration(const char *s, uint64_t max, uint64_t *out);
/* Sizes: "1024", "10k", "25M", "1G" into bytes */
int num_parse_size(const char *s, uint64_t max, uint64_t *out);

#endif
