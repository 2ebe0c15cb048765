/*
 * web_dbpool.h - a small pool of database connections shared by the web
 * role's threads (the MHD worker threads and the timer thread). A
 * thread takes a connection for the length of one request and gives it
 * back; connections are opened on first need and reconnect by
 * themselves (db.h).
 */
#ifndef SEALGATE_WEB_DBPOOL_H
#define SEALGATE_WEB_DBPOOL_H

#include <stddef.h>

#include "db.h"

struct web_dbpool;

/* web_dbpool_new - at most size connections to conninfo (copied).
 * Free with web_dbpool_free() once no thread uses it. */
struct web_dbpool *web_dbpool_new(const char *conninfo, size_t size);
void web_dbpool_free(struct web_dbpool **pp);

/* web_dbpool_get - a connection, waiting while all are taken. NULL with
 * *err_out (xfree()) if a new one cannot be opened. */
struct db *web_dbpool_get(struct web_dbpool *p, char **err_out);

/* web_dbpool_put - give it back (NULL is ignored); a connection left
 * inside a transaction is rolled back first */
void web_dbpool_put(struct web_dbpool *p, struct db *db);

#endif
