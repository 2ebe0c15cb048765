/*
 * queue_id.c - time-ordered random queue ids.
 */
#include <stdint.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/rand.h>

#include "queue_id.h"

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int
queue_id_new(char out[QUEUE_ID_SIZE])
{
	struct timeval tv;
	uint64_t t;
	unsigned char r[4];
	uint32_t rv;
	int i;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	gettimeofday(&tv, NULL);
	t = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	for (i = 10; i >= 0; i--) {
		out[i] = b32[t & 31];
		t >>= 5;
	}
	rv = (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 |
	    (uint32_t)r[2] << 8 | r[3];
	for (i = 15; i >= 11; i--) {
		out[i] = b32[rv & 31];
		rv >>= 5;
	}
	out[16] = '\0';
	return 0;
}

int
queue_id_valid(const char *s)
{
	size_t i;

	if (strlen(s) != QUEUE_ID_SIZE - 1)
		return 0;
	for (i = 0; i < QUEUE_ID_SIZE - 1; i++)
		if (strchr(b32, s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}
