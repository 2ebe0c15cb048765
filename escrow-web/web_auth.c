/*
 * web_auth.c - who the recipient is: login, logout, enrollment from the
 * notification link, and password reset by mailed single-use link.
 *
 * Implements: docs/portal.md ("Routes", "Security on every response").
 * Trust: every field is client input. Forms before login are bound to
 * the sg_pre cookie (web_csrf.h), logout to the session's csrf.
 * No enumeration: a wrong password, an unknown address and an account
 * without a password take the same path (throttle checks, one scrypt,
 * one failure transaction) and get the same page; a reset request
 * always gets the same answer at once, the lookup and the mail happen
 * later on the timer thread. Lockout per account and per client
 * address. Tokens and passwords are never logged and are wiped after
 * use; only hashes reach the database.
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "escrow.h"
#include "passwd.h"
#include "web_app.h"
#include "web_cookie.h"
#include "web_dbpool.h"
#include "web_input.h"
#include "lib/log.h"
#include "lib/queue_id.h"
#include "lib/xalloc.h"

#define MSG_WRONG	"Wrong address or password."
#define MSG_LOCKED	"Too many attempts. Try again later."
#define MSG_RESET_SENT	"If the address has messages here, a link is on its way."
#define MSG_BAD_LINK	"This link is not valid any more: it may have been " \
	"used already or have expired."

/* new_session - a fresh session token and csrf; 0, -1 no randomness */
static int
new_session(char tok[TOKEN_TEXT_LEN + 1], char hash[TOKEN_HASH_LEN + 1],
    char csrf[TOKEN_TEXT_LEN + 1])
{
	if (token_new(tok) < 0 || token_new(csrf) < 0)
		return -1;
	token_hash(tok, hash);
	return hash[0] != '\0' ? 0 : -1;
}

/* after_login - where a login goes: a valid local /m/ID, else /inbox */
static const char *
after_login(const char *next)
{
	return web_input_next(next) ? next : "/inbox";
}

enum MHD_Result
web_h_root(struct web_req *r)
{
	int s = web_session(r);

	if (s < 0)
		return web_unavailable(r);
	return web_redirect(r, s == 1 ? "/inbox" : "/login");
}

/* --- login ------------------------------------------------------------ */

static enum MHD_Result
login_page(struct web_req *r, int status, const char *error,
    const char *email, const char *next)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char csrf[WEB_CSRF_PRE_LEN + 1];
	enum MHD_Result ret;

	web_pre_csrf(r, csrf);
	tmpl_set(v, "csrf", csrf);
	if (error != NULL)
		tmpl_set(v, "error", error);
	if (email != NULL)
		tmpl_set(v, "email", email);
	if (web_input_next(next))
		tmpl_set(v, "next", next);
	/* the pre-login form needs no account menu, whoever is here */
	r->have_session = 0;
	ret = web_page(r, status, WEB_TPL_LOGIN, "Log in", v);
	tmpl_vars_free(&v);
	return ret;
}

static enum MHD_Result
login_post(struct web_req *r)
{
	const struct sg_config *cfg = r->app->cfg;
	const char *email = web_field(r, "email");
	const char *pw = web_field(r, "password");
	const char *next = web_field(r, "next");
	char addr[WEB_EMAIL_MAX + 1], key[TOKEN_HASH_LEN + 8];
	char tok[TOKEN_TEXT_LEN + 1], hash[TOKEN_HASH_LEN + 1];
	char csrf[TOKEN_TEXT_LEN + 1], *err = NULL;
	struct portal_user u;
	struct db *db;
	size_t pwlen;
	int found = 0, locked = 0, ok = 0, rc;

	if (!web_pre_check(r))
		return web_forbidden(r);
	if (pw == NULL)
		pw = "";
	pwlen = strlen(pw);
	if (web_session(r) < 0 || (db = web_db(r)) == NULL)
		return web_unavailable(r);
	memset(&u, 0, sizeof(u));
	if (web_input_email(email, addr, sizeof(addr)) < 0)
		addr[0] = '\0';
	else if ((found = portal_db_user_get(db, addr, &u, &err)) < 0)
		goto dberr;
	/* an address without an account has its own counter too, so
	 * the lock cannot tell whether an account exists */
	memcpy(key, "acct:", 6);
	token_hash(addr, key + 5);
	rc = portal_db_throttle_locked(db, r->client.addr, &err);
	if (rc < 0)
		goto dberr;
	locked = rc == 1 || (found == 1 && u.locked);
	if (!locked && found != 1) {
		if ((rc = portal_db_throttle_locked(db, key, &err)) < 0)
			goto dberr;
		locked = rc == 1;
	}
	if (locked) {
		passwd_burn(pw, pwlen);
		(void)portal_db_audit(db, NULL, found == 1 ? u.id : 0,
		    "login_failed", r->client.addr, "locked", &err);
		xfree(err);
		log_info("req=%lu event=login_locked client=%s user=%lld",
		    r->id, r->client.addr, found == 1 ? (long long)u.id : 0LL);
		portal_user_release(&u);
		return login_page(r, MHD_HTTP_TOO_MANY_REQUESTS, MSG_LOCKED,
		    email, next);
	}
	if (found == 1 && u.password_hash != NULL)
		ok = passwd_verify(pw, pwlen, u.password_hash) == 1;
	else
		passwd_burn(pw, pwlen);
	if (!ok) {
		rc = portal_db_login_failed(db, found == 1 ? u.id : 0,
		    r->client.addr, key, &r->app->limits, &err);
		if (rc < 0)
			goto dberr;
		log_info("req=%lu event=login_failed client=%s user=%lld",
		    r->id, r->client.addr, found == 1 ? (long long)u.id : 0LL);
		portal_user_release(&u);
		return login_page(r, MHD_HTTP_OK, MSG_WRONG, email, next);
	}
	/* a new session at every login; the one this browser had ends */
	if (new_session(tok, hash, csrf) < 0) {
		portal_user_release(&u);
		log_err("req=%lu event=no_randomness", r->id);
		return web_unavailable(r);
	}
	rc = portal_db_login(db, u.id, r->have_session ? r->sess_hash : NULL,
	    hash, csrf, cfg->portal_session_ttl, r->client.addr, &err);
	if (rc < 0) {
		OPENSSL_cleanse(tok, sizeof(tok));
		goto dberr;
	}
	web_set_cookie(r, WEB_COOKIE_SESSION, tok, -1);
	OPENSSL_cleanse(tok, sizeof(tok));
	OPENSSL_cleanse(csrf, sizeof(csrf));
	r->log_user = u.id;
	log_info("req=%lu event=login client=%s user=%lld", r->id,
	    r->client.addr, (long long)u.id);
	portal_user_release(&u);
	return web_redirect(r, after_login(next));
dberr:
	log_err("req=%lu event=db_error what=login error=\"%s\"", r->id,
	    err != NULL ? err : "?");
	xfree(err);
	portal_user_release(&u);
	return web_unavailable(r);
}

enum MHD_Result
web_h_login(struct web_req *r)
{
	if (r->method == WEB_M_POST)
		return login_post(r);
	/* the form even for a session: logging in again (as someone else,
	 * say) replaces it */
	return login_page(r, MHD_HTTP_OK, NULL, NULL, web_query(r, "next"));
}

enum MHD_Result
web_h_logout(struct web_req *r)
{
	char *err = NULL;
	int s = web_session(r);

	if (s < 0)
		return web_unavailable(r);
	if (s == 1) {
		if (!web_session_check(r))
			return web_forbidden(r);
		if (portal_db_logout(web_db(r), r->sess_hash, r->client.addr,
		    &err) < 0) {
			log_err("req=%lu event=db_error what=logout "
			    "error=\"%s\"", r->id, err != NULL ? err : "?");
			xfree(err);
			return web_unavailable(r);
		}
		log_info("req=%lu event=logout client=%s user=%lld", r->id,
		    r->client.addr, (long long)r->sess.user_id);
	}
	web_set_cookie(r, WEB_COOKIE_SESSION, "", 0);
	return web_redirect(r, "/login");
}

/* --- enrollment and reset: a link token, then a new password ---------- */

struct pw_flow {
	const char *kind;		/* escrow_tokens.kind */
	enum web_tpl tpl;
	const char *title;
};

static const struct pw_flow flow_enroll = { "enroll", WEB_TPL_ENROLL,
    "Choose a password" };
static const struct pw_flow flow_reset = { "reset", WEB_TPL_RESET_CONFIRM,
    "Choose a new password" };

/* bad_link - 400; an enrollment link already used points to the login
 * for the message it was for */
static enum MHD_Result
bad_link(struct web_req *r, const struct pw_flow *f, const char *hash)
{
	char *escrow_id = NULL, *err = NULL, *login = NULL;
	struct db *db;
	enum MHD_Result ret;

	if (hash != NULL && strcmp(f->kind, "enroll") == 0 &&
	    (db = web_db(r)) != NULL &&
	    portal_db_token_escrow(db, hash, f->kind, &escrow_id, &err) == 1 &&
	    token_valid_syntax(escrow_id))
		login = xasprintf("/login?next=/m/%s", escrow_id);
	xfree(err);
	xfree(escrow_id);
	r->have_session = 0;
	ret = web_error(r, MHD_HTTP_BAD_REQUEST, "Link not valid",
	    strcmp(f->kind, "reset") == 0 ? MSG_BAD_LINK " Ask for a new "
	    "one on the login page." : MSG_BAD_LINK " If you have chosen "
	    "a password already, log in.", login != NULL ? login : "/login");
	xfree(login);
	return ret;
}

static enum MHD_Result
pw_page(struct web_req *r, const struct pw_flow *f, int status,
    const char *t, const char *address, const char *error)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char csrf[WEB_CSRF_PRE_LEN + 1];
	enum MHD_Result ret;

	web_pre_csrf(r, csrf);
	tmpl_set(v, "csrf", csrf);
	tmpl_set(v, "t", t);
	tmpl_set(v, "address", address);
	if (error != NULL)
		tmpl_set(v, "error", error);
	r->have_session = 0;
	ret = web_page(r, status, f->tpl, f->title, v);
	tmpl_vars_free(&v);
	return ret;
}

static enum MHD_Result
pw_get(struct web_req *r, const struct pw_flow *f)
{
	const char *t = web_query(r, "t");
	char hash[TOKEN_HASH_LEN + 1], *err = NULL;
	struct portal_token tk;
	struct db *db;
	enum MHD_Result ret;
	int rc;

	if (t == NULL || !token_valid_syntax(t))
		return bad_link(r, f, NULL);
	token_hash(t, hash);
	if ((db = web_db(r)) == NULL)
		return web_unavailable(r);
	rc = portal_db_token_peek(db, hash, f->kind, &tk, &err);
	if (rc < 0) {
		log_err("req=%lu event=db_error what=token error=\"%s\"",
		    r->id, err != NULL ? err : "?");
		xfree(err);
		return web_unavailable(r);
	}
	if (rc == 0)
		return bad_link(r, f, hash);
	ret = pw_page(r, f, MHD_HTTP_OK, t, tk.address, NULL);
	portal_token_release(&tk);
	return ret;
}

static enum MHD_Result
pw_post(struct web_req *r, const struct pw_flow *f)
{
	const struct sg_config *cfg = r->app->cfg;
	const char *t = web_field(r, "t");
	const char *pw = web_field(r, "password");
	char hash[TOKEN_HASH_LEN + 1], shash[TOKEN_HASH_LEN + 1];
	char tok[TOKEN_TEXT_LEN + 1], csrf[TOKEN_TEXT_LEN + 1];
	char *pwhash, *err = NULL, *loc;
	enum web_pw_check pc;
	struct portal_token tk;
	struct db *db;
	enum MHD_Result ret;
	int rc;

	if (!web_pre_check(r))
		return web_forbidden(r);
	if (t == NULL || !token_valid_syntax(t))
		return bad_link(r, f, NULL);
	token_hash(t, hash);
	if (web_session(r) < 0 || (db = web_db(r)) == NULL)
		return web_unavailable(r);
	pc = web_input_password(pw, web_field(r, "password2"));
	if (pc != WEB_PW_OK) {
		/* the form again, the link still unused */
		rc = portal_db_token_peek(db, hash, f->kind, &tk, &err);
		if (rc < 0)
			goto dberr;
		if (rc == 0)
			return bad_link(r, f, hash);
		ret = pw_page(r, f, MHD_HTTP_OK, t, tk.address,
		    web_input_password_text(pc));
		portal_token_release(&tk);
		return ret;
	}
	pwhash = passwd_hash(pw, strlen(pw));
	if (pwhash == NULL) {
		log_err("req=%lu event=passwd_hash_failed", r->id);
		return web_unavailable(r);
	}
	if (new_session(tok, shash, csrf) < 0) {
		xfree(pwhash);
		log_err("req=%lu event=no_randomness", r->id);
		return web_unavailable(r);
	}
	/* the session this browser had (someone else's, perhaps) ends */
	if (r->have_session &&
	    portal_db_logout(db, r->sess_hash, r->client.addr, &err) < 0)
		goto dberr_free;
	rc = portal_db_token_redeem(db, hash, f->kind, pwhash, shash, csrf,
	    cfg->portal_session_ttl, r->client.addr, &tk, &err);
	if (rc < 0)
		goto dberr_free;
	xfree(pwhash);
	OPENSSL_cleanse(csrf, sizeof(csrf));
	if (rc == 0) {
		OPENSSL_cleanse(tok, sizeof(tok));
		return bad_link(r, f, hash);
	}
	web_set_cookie(r, WEB_COOKIE_SESSION, tok, -1);
	OPENSSL_cleanse(tok, sizeof(tok));
	r->log_user = tk.user_id;
	log_info("req=%lu event=%s client=%s user=%lld", r->id, f->kind,
	    r->client.addr, (long long)tk.user_id);
	loc = tk.escrow_id != NULL && token_valid_syntax(tk.escrow_id) ?
	    xasprintf("/m/%s", tk.escrow_id) : xstrdup("/inbox");
	portal_token_release(&tk);
	ret = web_redirect(r, loc);
	xfree(loc);
	return ret;
dberr_free:
	xfree(pwhash);
	OPENSSL_cleanse(tok, sizeof(tok));
	OPENSSL_cleanse(csrf, sizeof(csrf));
dberr:
	log_err("req=%lu event=db_error what=%s error=\"%s\"", r->id, f->kind,
	    err != NULL ? err : "?");
	xfree(err);
	return web_unavailable(r);
}

enum MHD_Result
web_h_enroll(struct web_req *r)
{
	return r->method == WEB_M_POST ? pw_post(r, &flow_enroll) :
	    pw_get(r, &flow_enroll);
}

enum MHD_Result
web_h_reset_confirm(struct web_req *r)
{
	return r->method == WEB_M_POST ? pw_post(r, &flow_reset) :
	    pw_get(r, &flow_reset);
}

/* --- reset request ------------------------------------------------------ */

static enum MHD_Result
reset_page(struct web_req *r, const char *notice)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char csrf[WEB_CSRF_PRE_LEN + 1];
	enum MHD_Result ret;

	web_pre_csrf(r, csrf);
	tmpl_set(v, "csrf", csrf);
	if (notice != NULL)
		tmpl_set(v, "notice", notice);
	ret = web_page(r, MHD_HTTP_OK, WEB_TPL_RESET, "Forgot your password",
	    v);
	tmpl_vars_free(&v);
	return ret;
}

/* job_push - hand a reset request to the timer thread */
static void
job_push(struct web_app *app, const char *addr, const char *client)
{
	struct web_job *j;

	pthread_mutex_lock(&app->mu);
	if (app->njobs >= WEB_JOBS_MAX) {
		pthread_mutex_unlock(&app->mu);
		log_warn("event=reset_dropped reason=\"queue full\" client=%s",
		    client);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	snprintf(j->address, sizeof(j->address), "%s", addr);
	snprintf(j->client, sizeof(j->client), "%s", client);
	if (app->jobs_tail != NULL)
		app->jobs_tail->next = j;
	else
		app->jobs = j;
	app->jobs_tail = j;
	app->njobs++;
	pthread_cond_signal(&app->cv);
	pthread_mutex_unlock(&app->mu);
}

enum MHD_Result
web_h_reset(struct web_req *r)
{
	char addr[WEB_EMAIL_MAX + 1];

	if (web_session(r) < 0)
		return web_unavailable(r);
	if (r->method != WEB_M_POST)
		return reset_page(r, NULL);
	if (!web_pre_check(r))
		return web_forbidden(r);
	if (web_input_email(web_field(r, "email"), addr, sizeof(addr)) == 0)
		job_push(r->app, addr, r->client.addr);
	/* the same answer, at once, whatever the address */
	return reset_page(r, MSG_RESET_SENT);
}

void
web_reset_job_run(struct web_app *app, const struct web_job *job)
{
	const struct sg_config *cfg = app->cfg;
	char tok[TOKEN_TEXT_LEN + 1], hash[TOKEN_HASH_LEN + 1];
	char qid[QUEUE_ID_SIZE], expires[ESCROW_TIME_TEXT_MAX];
	char *err = NULL, *link;
	struct portal_user u;
	struct tmpl_vars *v;
	struct db *db;
	int rc;

	if ((db = web_dbpool_get(app->pool, &err)) == NULL)
		goto fail;
	rc = portal_db_user_get(db, job->address, &u, &err);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		web_dbpool_put(app->pool, db);
		log_info("event=reset_request known=no client=%s",
		    job->client);
		return;
	}
	if (token_new(tok) < 0) {
		err = xstrdup("no randomness");
		goto fail_user;
	}
	token_hash(tok, hash);
	rc = portal_db_reset_token_new(db, u.id, hash, cfg->portal_reset_ttl,
	    WEB_RESET_PER_HOUR, job->client, &err);
	if (rc < 0)
		goto fail_user;
	if (rc == 0) {
		log_warn("event=reset_request known=yes user=%lld client=%s "
		    "mailed=no reason=\"%u per hour\"", (long long)u.id,
		    job->client, WEB_RESET_PER_HOUR);
		portal_user_release(&u);
		web_dbpool_put(app->pool, db);
		OPENSSL_cleanse(tok, sizeof(tok));
		return;
	}
	escrow_time_text((long long)time(NULL) + cfg->portal_reset_ttl,
	    expires);
	link = xasprintf("%s/reset/confirm?t=%s", app->portal_url, tok);
	OPENSSL_cleanse(tok, sizeof(tok));
	v = tmpl_vars_new();
	tmpl_set(v, "recipient", u.address);
	tmpl_set(v, "link", link);
	tmpl_set(v, "expires", expires);
	rc = web_notice_queue(app, db, u.address, WEB_TPL_RESET_SUBJECT,
	    WEB_TPL_RESET_TXT, WEB_TPL_RESET_HTML, v, qid, &err);
	tmpl_vars_free(&v);
	OPENSSL_cleanse(link, strlen(link));
	xfree(link);
	if (rc < 0)
		goto fail_user;
	log_info("event=reset_request known=yes user=%lld client=%s "
	    "mailed=yes queue_id=%s", (long long)u.id, job->client, qid);
	portal_user_release(&u);
	web_dbpool_put(app->pool, db);
	return;
fail_user:
	OPENSSL_cleanse(tok, sizeof(tok));
	portal_user_release(&u);
fail:
	if (db != NULL)
		web_dbpool_put(app->pool, db);
	log_err("event=reset_mail_failed client=%s error=\"%s\"", job->client,
	    err != NULL ? err : "?");
	xfree(err);
}
