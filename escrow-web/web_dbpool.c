/*
 * web_dbpool.c - mutex-protected pool of libpq connections.
 *
 * A connection is used by one thread at a time (libpq connections are
 * not thread-safe); waiting threads sleep on a condition variable.
 * Opening happens outside the lock, so one slow connect does not stall
 * threads that could use an idle connection.
 */
#include <pthread.h>

#include "web_dbpool.h"
#include "lib/xalloc.h"

struct web_dbpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *conninfo;
	struct db **idle;
	size_t nidle;
	size_t size;		/* connections allowed */
	size_t out;		/* taken or being opened */
};

struct web_dbpool *
web_dbpool_new(const char *conninfo, size_t size)
{
	struct web_dbpool *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->conninfo = xstrdup(conninfo);
	p->size = size > 0 ? size : 1;
	p->idle = xcalloc(p->size, sizeof(*p->idle));
	return p;
}

void
web_dbpool_free(struct web_dbpool **pp)
{
	struct web_dbpool *p = *pp;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nidle; i++)
		db_close(&p->idle[i]);
	xfree(p->idle);
	xfree(p->conninfo);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	xfree(p);
	*pp = NULL;
}

struct db *
web_dbpool_get(struct web_dbpool *p, char **err_out)
{
	struct db *db = NULL;

	pthread_mutex_lock(&p->mu);
	while (p->nidle == 0 && p->out >= p->size)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->nidle > 0)
		db = p->idle[--p->nidle];
	p->out++;
	pthread_mutex_unlock(&p->mu);
	if (db != NULL)
		return db;
	db = db_open_app(p->conninfo, "sealgate-web", err_out);
	if (db == NULL) {
		pthread_mutex_lock(&p->mu);
		p->out--;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return db;
}

void
web_dbpool_put(struct web_dbpool *p, struct db *db)
{
	if (db == NULL)
		return;
	/* a handler that bailed out mid-transaction must not hand the
	 * open transaction to the next request */
	db_rollback(db);
	pthread_mutex_lock(&p->mu);
	p->out--;
	p->idle[p->nidle++] = db;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}
