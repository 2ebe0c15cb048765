/*
 * web_app.h - what the web role's modules share (not a public API):
 * the role's state (struct web_app), one HTTP request (struct web_req),
 * the response helpers of web_http.c and the route handlers of
 * web_auth.c, web_recall.c and web_msg.c.
 *
 * Ownership: a web_req is made on the request's first handler call and
 * freed only in MHD's request-completed callback, however the request
 * ends; the database connection it borrows goes back to the pool when
 * the handler has answered.
 */
#ifndef SEALGATE_WEB_APP_H
#define SEALGATE_WEB_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

#include "config.h"
#include "portal_db.h"
#include "token.h"
#include "web_client.h"
#include "web_csrf.h"
#include "web_form.h"
#include "web_limits.h"
#include "web_page.h"
#include "web_route.h"
#include "web_secure.h"

struct seal_master;
struct web_cache;
struct web_dbpool;

/* a password reset request, mailed by the timer thread so the answer
 * takes the same time whether the address is known or not */
struct web_job {
	struct web_job *next;
	char address[WEB_EMAIL_MAX + 1];
	char client[INET6_ADDRSTRLEN];
};

#define WEB_JOBS_MAX	1000	/* queued reset requests; more are dropped */

struct web_app {
	const struct sg_config *cfg;
	struct seal_master *master;
	struct web_dbpool *pool;
	struct web_pages *pages;
	struct web_cache *cache;
	unsigned char pre_secret[WEB_CSRF_SECRET_LEN];
	char *portal_url;		/* no trailing '/' */
	char *escrow_from;
	struct portal_limits limits;
	struct web_form_spec reply_spec[3];	/* sized from the config */
	size_t upload_budget;		/* request bodies held at once */
	atomic_size_t upload_inflight;
	atomic_ulong next_req;

	pthread_mutex_t mu;		/* guards the job queue */
	pthread_cond_t cv;
	struct web_job *jobs, *jobs_tail;
	size_t njobs;
};

/* one listening daemon: the TLS one(s) and the plain loopback one */
struct web_listener {
	struct web_app *app;
	int tls;
	int fd;
	char *name;			/* "127.0.0.1:8443" for logs */
	struct MHD_Daemon *daemon;
};

#define WEB_COOKIES_MAX	3

struct web_req {
	struct web_app *app;
	struct web_listener *listener;
	struct MHD_Connection *conn;
	unsigned long id;
	struct timespec started;
	struct web_route route;
	unsigned method;		/* WEB_M_* */
	char path[256];			/* for the log, escaped later */
	struct web_client client;

	/* the body */
	struct MHD_PostProcessor *pp;
	struct web_form *form;
	size_t body_len, body_max;
	size_t inflight;		/* counted in app->upload_inflight */
	int body_status;		/* an HTTP error found in the body */

	/* who */
	int session_loaded;
	int have_session;
	struct portal_session sess;
	char sess_hash[TOKEN_HASH_LEN + 1];
	char pre[TOKEN_TEXT_LEN + 1];	/* sg_pre, "" if none */
	int pre_from_cookie;

	/* the answer */
	struct db *db;
	char *cookies[WEB_COOKIES_MAX];	/* Set-Cookie values */
	size_t ncookies;
	int status;			/* queued status, for the log */
	int answered;
	int64_t log_user;
	char log_extra[160];		/* "escrow_id=... queue_id=..." */
};

/* --- web_http.c: request plumbing and answers ------------------------ */

/* MHD callbacks (web.c starts the daemons with them) */
enum MHD_Result web_http_handler(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **req_cls);
void web_http_completed(void *cls, struct MHD_Connection *conn,
    void **req_cls, enum MHD_RequestTerminationCode toe);

/* web_db - the request's database connection (from the pool on first
 * use); NULL when none can be had (the caller answers 503) */
struct db *web_db(struct web_req *r);

/* web_session - load the session named by the sg_session cookie.
 * 1 logged in (r->sess filled), 0 not, -1 database trouble. */
int web_session(struct web_req *r);

/* web_field - a form field (NULL if not sent); web_query - a query
 * argument (NULL if absent) */
const char *web_field(struct web_req *r, const char *name);
const char *web_query(struct web_req *r, const char *name);

/* web_pre_csrf - the pre-session CSRF token for this request's sg_pre
 * cookie, making the cookie (Set-Cookie added) when there is none;
 * out gets WEB_CSRF_PRE_LEN + 1 bytes */
void web_pre_csrf(struct web_req *r, char out[WEB_CSRF_PRE_LEN + 1]);
/* web_pre_check - 1 if the form's csrf matches the sg_pre cookie */
int web_pre_check(struct web_req *r);
/* web_session_check - 1 if the form's csrf is the session's */
int web_session_check(struct web_req *r);

/* web_set_cookie - add a Set-Cookie to the answer (web_cookie_build) */
void web_set_cookie(struct web_req *r, const char *name, const char *value,
    long max_age);

/* Answers: each queues the response and returns MHD's result. */
enum MHD_Result web_send(struct web_req *r, int status,
    enum web_sec_kind sec, const char *ctype, char *body, size_t len,
    int wipe, const char *disposition);
/* web_page - template t in the layout with v (title, and whatever the
 * page needs; logged_in, user and session_csrf are added for a
 * session; "csrf" is left to the page: a pre-login form's own) */
enum MHD_Result web_page(struct web_req *r, int status, enum web_tpl t,
    const char *title, struct tmpl_vars *v);
enum MHD_Result web_redirect(struct web_req *r, const char *location);
/* web_error - the error page: heading, sentence in #error, and a "Log
 * in" link to login_link (a local path) when not NULL */
enum MHD_Result web_error(struct web_req *r, int status,
    const char *heading, const char *message, const char *login_link);
enum MHD_Result web_not_found(struct web_req *r);
enum MHD_Result web_forbidden(struct web_req *r);
enum MHD_Result web_unavailable(struct web_req *r);

/* --- web_notice.c ------------------------------------------------------- */

/*
 * web_notice_queue - build an automatic mail from templates (subject:
 * HEADER, text: TEXT, html: HTML or WEB_TPL_N for none) with v (the
 * branding is added) and queue it from escrow_from to `to` with the
 * null reverse-path (RFC 3834 3.3: no bounces of automatic mail),
 * marked so it is never escrowed itself. queue_id_out gets the queue
 * id (QUEUE_ID_SIZE bytes). 0 / -1 / -2 with *err_out (xfree()).
 */
int web_notice_queue(struct web_app *app, struct db *db, const char *to,
    enum web_tpl subject, enum web_tpl text, enum web_tpl html,
    struct tmpl_vars *v, char *queue_id_out, char **err_out);

/* --- web_auth.c --------------------------------------------------------- */

enum MHD_Result web_h_root(struct web_req *r);
enum MHD_Result web_h_login(struct web_req *r);
enum MHD_Result web_h_logout(struct web_req *r);
enum MHD_Result web_h_enroll(struct web_req *r);
enum MHD_Result web_h_reset(struct web_req *r);
enum MHD_Result web_h_reset_confirm(struct web_req *r);

/* web_reset_job_run - mail a reset link for job->address if it has an
 * account (timer thread; logs) */
void web_reset_job_run(struct web_app *app, const struct web_job *job);

/* --- web_recall.c ------------------------------------------------------ */

/* GET/POST /recall?t=TOKEN: the sender's recall link (receipt mail) */
enum MHD_Result web_h_recall(struct web_req *r);

/* --- web_msg.c ---------------------------------------------------------- */

enum MHD_Result web_h_inbox(struct web_req *r);
enum MHD_Result web_h_msg(struct web_req *r);
enum MHD_Result web_h_msg_html(struct web_req *r);
enum MHD_Result web_h_msg_att(struct web_req *r);
enum MHD_Result web_h_msg_reply(struct web_req *r);

#endif
