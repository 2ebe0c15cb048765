/*
 * numparse.c - checked decimal, duration and size parsing.
 */
#include <string.h>

#include "numparse.h"

int
num_parse_u64(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
num_parse_u64_str(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return num_parse_u64(s, strlen(s), min, max, out);
}

static int
num_parse_suffixed(const char *s, uint64_t max, uint64_t *out,
    const char *suffixes, const uint64_t *mult)
{
	size_t len = strlen(s);
	uint64_t v, m = 1;
	const char *p;

	if (len == 0)
		return -1;
	p = strchr(suffixes, s[len - 1]);
	if (s[len - 1] != '\0' && p != NULL) {
		m = mult[p - suffixes];
		len--;
	}
	if (num_parse_u64(s, len, 0, UINT64_MAX, &v) < 0)
		return -1;
	if (m != 0 && v > UINT64_MAX / m)
		return -1;
	v *= m;
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int
num_parse_duration(const char *s, uint64_t max, uint64_t *out)
{
	static const uint64_t mult[] = { 1, 60, 3600, 86400, 604800 };
	return num_parse_suffixed(s, max, out, "smhdw", mult);
}

int
num_parse_size(const char *s, uint64_t max, uint64_t *out)
{
	static const uint64_t mult[] = { 1024, 1024, 1048576, 1048576,
	    1073741824ULL, 1073741824ULL };
	return num_parse_suffixed(s, max, out, "kKmMgG", mult);
}
