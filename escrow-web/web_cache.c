/*
 * web_cache.c - a small direct-mapped cache of header summaries.
 *
 * The key is the escrow id (random, so its first bytes hash well); a
 * lookup compares the whole id. One mutex: entries are tiny and
 * lookups rare (one per inbox row).
 */
#include <pthread.h>
#include <string.h>

#include "web_cache.h"
#include "lib/xalloc.h"

struct slot {
	char *id;
	char *from;
	char *subject;
};

struct web_cache {
	pthread_mutex_t mu;
	struct slot *slots;
	size_t n;
};

struct web_cache *
web_cache_new(size_t slots)
{
	struct web_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	c->n = slots > 0 ? slots : 1;
	c->slots = xcalloc(c->n, sizeof(*c->slots));
	return c;
}

static void
slot_clear(struct slot *s)
{
	xfree(s->id);
	xfree(s->from);
	xfree(s->subject);
	memset(s, 0, sizeof(*s));
}

void
web_cache_free(struct web_cache **cp)
{
	struct web_cache *c = *cp;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		slot_clear(&c->slots[i]);
	xfree(c->slots);
	pthread_mutex_destroy(&c->mu);
	xfree(c);
	*cp = NULL;
}

/* slot_of - FNV-1a of the id */
static size_t
slot_of(const struct web_cache *c, const char *id)
{
	unsigned long h = 2166136261u;

	for (; *id != '\0'; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return (size_t)(h % c->n);
}

int
web_cache_get(struct web_cache *c, const char *id, char **from_out,
    char **subject_out)
{
	struct slot *s;
	int found = 0;

	*from_out = NULL;
	*subject_out = NULL;
	pthread_mutex_lock(&c->mu);
	s = &c->slots[slot_of(c, id)];
	if (s->id != NULL && strcmp(s->id, id) == 0) {
		*from_out = s->from != NULL ? xstrdup(s->from) : NULL;
		*subject_out = s->subject != NULL ? xstrdup(s->subject) : NULL;
		found = 1;
	}
	pthread_mutex_unlock(&c->mu);
	return found;
}

void
web_cache_put(struct web_cache *c, const char *id, const char *from,
    const char *subject)
{
	struct slot *s;

	pthread_mutex_lock(&c->mu);
	s = &c->slots[slot_of(c, id)];
	slot_clear(s);
	s->id = xstrdup(id);
	s->from = from != NULL ? xstrdup(from) : NULL;
	s->subject = subject != NULL ? xstrdup(subject) : NULL;
	pthread_mutex_unlock(&c->mu);
}
