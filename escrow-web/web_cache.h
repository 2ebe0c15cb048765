/*
 * web_cache.h - the inbox's header summaries (From, Subject) of escrowed
 * messages, kept in memory so listing an inbox does not unseal every
 * message each time. Direct-mapped and bounded (WEB_SUMMARY_CACHE
 * slots: a newer entry simply replaces an older one in its slot);
 * thread-safe. It holds decrypted header text, in the process that
 * holds the master key anyway, never on disk.
 */
#ifndef SEALGATE_WEB_CACHE_H
#define SEALGATE_WEB_CACHE_H

#include <stddef.h>

struct web_cache;

struct web_cache *web_cache_new(size_t slots);
void web_cache_free(struct web_cache **cp);

/* web_cache_get - copies of id's from and subject (xfree(); NULL when
 * the message has none). 1 found, 0 not cached. */
int web_cache_get(struct web_cache *c, const char *id, char **from_out,
    char **subject_out);

/* web_cache_put - remember id's from and subject (either may be NULL) */
void web_cache_put(struct web_cache *c, const char *id, const char *from,
    const char *subject);

#endif
