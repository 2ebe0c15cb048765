/*
 * queue_id.h - queue ids: 16 characters of Crockford base32, the first 11
 * the microsecond clock (so ids sort by arrival), the last 5 random.
 */
#ifndef SEALGATE_QUEUE_ID_H
#define SEALGATE_QUEUE_ID_H

#define QUEUE_ID_SIZE 17	/* 16 characters + NUL */

/* Fill out (QUEUE_ID_SIZE bytes). 0 ok, -1 when no randomness. */
int queue_id_new(char out[QUEUE_ID_SIZE]);
/* 1 if s looks like a queue id, else 0 */
int queue_id_valid(const char *s);

#endif
