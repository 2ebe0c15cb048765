/*
 * web_recall.c - the sender's recall link: GET /recall?t=TOKEN shows
 * the message's state (sender, recipient, subject, expiry, never the
 * body) with a form, POST /recall withdraws it while it is unread.
 *
 * Implements: docs/portal.md ("Routes", "Recall, expiry, audit").
 * Trust: the token is client input: syntax checked, then only its hash
 * reaches the database (escrow_messages.recall_hash). Whoever holds the
 * link is the sender (it was mailed only to the envelope sender). The
 * form is bound to the sg_pre cookie like the other pre-login forms.
 * The withdrawal is one statement that loses against a read committed
 * first (portal_db_recall, portal_db_message). Tokens are never logged.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "seal.h"
#include "web_app.h"
#include "web_cache.h"
#include "web_mime.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define MSG_WITHDRAWN	"The message was withdrawn."
#define MSG_READ	"The message has already been read and can no " \
	"longer be withdrawn."
#define MSG_EXPIRED	"The message has expired and can no longer be " \
	"read; it is deleted soon."
#define MSG_BAD_LINK	"This link is not valid any more: the message it " \
	"was for has expired and been deleted."

static enum MHD_Result
bad_link(struct web_req *r)
{
	r->have_session = 0;
	return web_error(r, MHD_HTTP_BAD_REQUEST, "Link not valid",
	    MSG_BAD_LINK, NULL);
}

static const char *
state_text(enum portal_recall_state st)
{
	switch (st) {
	case PORTAL_RECALL_UNREAD:
		return "Not read yet";
	case PORTAL_RECALL_READ:
		return "Already read";
	case PORTAL_RECALL_WITHDRAWN:
		return "Already withdrawn";
	case PORTAL_RECALL_EXPIRED:
		return "Expired";
	}
	return "?";
}

/* subject_of - the message's Subject (header section only), unless
 * subjects are hidden or the content is gone. New string or NULL. */
static char *
subject_of(struct web_req *r, const char *id, const unsigned char *sealed,
    size_t len)
{
	char *from = NULL, *subject = NULL, *err = NULL;
	struct web_msg *msg;
	struct buf plain;

	if (r->app->cfg->escrow_hide_subject || len == 0)
		return NULL;
	if (web_cache_get(r->app->cache, id, &from, &subject)) {
		xfree(from);
		return subject;
	}
	buf_init(&plain, len + 1);
	if (unseal(r->app->master, sealed, len, id, &plain, &err) < 0) {
		log_err("req=%lu event=unseal_failed escrow_id=%s "
		    "error=\"%s\"", r->id, id, err != NULL ? err : "?");
		xfree(err);
		buf_free_secure(&plain);
		return NULL;
	}
	msg = web_msg_parse_headers(plain.data, plain.len, &err);
	buf_free_secure(&plain);
	if (msg == NULL) {
		xfree(err);
		return NULL;
	}
	if (web_msg_subject(msg) != NULL && web_msg_subject(msg)[0] != '\0')
		subject = xstrdup(web_msg_subject(msg));
	web_msg_free(&msg);
	return subject;
}

/*
 * page - the recall page for hash's message as it is now; status,
 * notice and error as given. A link that no longer exists: 400.
 */
static enum MHD_Result
page(struct web_req *r, struct db *db, const char *t, const char *hash,
    int status, const char *notice, const char *error)
{
	struct portal_recall rc;
	struct tmpl_vars *v;
	unsigned char *sealed = NULL;
	char csrf[WEB_CSRF_PRE_LEN + 1], *subject, *err = NULL;
	enum MHD_Result ret;
	size_t len = 0;
	int n;

	n = portal_db_recall_peek(db, hash, &rc, &sealed, &len, &err);
	if (n < 0) {
		log_err("req=%lu event=db_error what=recall_peek "
		    "error=\"%s\"", r->id, err != NULL ? err : "?");
		xfree(err);
		return web_unavailable(r);
	}
	if (n == 0)
		return bad_link(r);
	snprintf(r->log_extra, sizeof(r->log_extra), "escrow_id=%s", rc.id);
	subject = subject_of(r, rc.id, sealed, len);
	xfree(sealed);
	v = tmpl_vars_new();
	tmpl_set(v, "sender", rc.sender[0] != '\0' ? rc.sender : "<>");
	tmpl_set(v, "recipient", rc.recipient);
	if (subject != NULL)
		tmpl_set(v, "subject", subject);
	tmpl_set(v, "expires", rc.expires);
	tmpl_set(v, "state", state_text(rc.state));
	if (rc.state == PORTAL_RECALL_UNREAD && error == NULL) {
		web_pre_csrf(r, csrf);
		tmpl_set(v, "can_recall", "1");
		tmpl_set(v, "csrf", csrf);
		tmpl_set(v, "t", t);
	}
	if (notice != NULL)
		tmpl_set(v, "notice", notice);
	if (error != NULL)
		tmpl_set(v, "error", error);
	/* the sender's page: no account menu, whoever is logged in here */
	r->have_session = 0;
	ret = web_page(r, status, WEB_TPL_RECALL, "Withdraw a secure message",
	    v);
	tmpl_vars_free(&v);
	xfree(subject);
	portal_recall_release(&rc);
	return ret;
}

static enum MHD_Result
recall_post(struct web_req *r)
{
	const char *t = web_field(r, "t");
	char hash[TOKEN_HASH_LEN + 1], *id = NULL, *err = NULL;
	struct portal_recall rc;
	unsigned char *sealed = NULL;
	struct db *db;
	size_t len = 0;
	int n;

	if (!web_pre_check(r))
		return web_forbidden(r);
	if (t == NULL || !token_valid_syntax(t))
		return bad_link(r);
	token_hash(t, hash);
	if ((db = web_db(r)) == NULL)
		return web_unavailable(r);
	n = portal_db_recall(db, hash, r->client.addr, &id, &err);
	if (n < 0) {
		log_err("req=%lu event=db_error what=recall error=\"%s\"",
		    r->id, err != NULL ? err : "?");
		xfree(err);
		return web_unavailable(r);
	}
	if (n == 1) {
		log_info("req=%lu event=recall escrow_id=%s client=%s "
		    "by=sender", r->id, id, r->client.addr);
		xfree(id);
		return page(r, db, t, hash, MHD_HTTP_OK, MSG_WITHDRAWN, NULL);
	}
	/* not withdrawn now: say why */
	n = portal_db_recall_peek(db, hash, &rc, &sealed, &len, &err);
	xfree(sealed);
	if (n < 0) {
		log_err("req=%lu event=db_error what=recall_peek "
		    "error=\"%s\"", r->id, err != NULL ? err : "?");
		xfree(err);
		return web_unavailable(r);
	}
	if (n == 0)
		return bad_link(r);
	log_info("req=%lu event=recall_refused escrow_id=%s client=%s "
	    "state=%d", r->id, rc.id, r->client.addr, (int)rc.state);
	n = (int)rc.state;
	portal_recall_release(&rc);
	switch (n) {
	case PORTAL_RECALL_WITHDRAWN:
		/* a second click: it is withdrawn, as asked */
		return page(r, db, t, hash, MHD_HTTP_OK, MSG_WITHDRAWN, NULL);
	case PORTAL_RECALL_READ:
		return page(r, db, t, hash, MHD_HTTP_CONFLICT, NULL, MSG_READ);
	case PORTAL_RECALL_EXPIRED:
		return page(r, db, t, hash, MHD_HTTP_CONFLICT, NULL,
		    MSG_EXPIRED);
	default:
		/* unread, yet the withdrawal found nothing: a race with
		 * something we cannot name; let them try again */
		return web_unavailable(r);
	}
}

enum MHD_Result
web_h_recall(struct web_req *r)
{
	char hash[TOKEN_HASH_LEN + 1];
	const char *t;
	struct db *db;
	enum MHD_Result ret;

	if (r->method == WEB_M_POST)
		return recall_post(r);
	t = web_query(r, "t");
	if (t == NULL || !token_valid_syntax(t))
		return bad_link(r);
	token_hash(t, hash);
	if ((db = web_db(r)) == NULL)
		return web_unavailable(r);
	ret = page(r, db, t, hash, MHD_HTTP_OK, NULL, NULL);
	OPENSSL_cleanse(hash, sizeof(hash));
	return ret;
}
