/*
 * web_msg.c - the recipient's messages: the inbox, one message, its HTML
 * part in the sandboxed frame, its attachments, and the secure reply.
 *
 * Implements: docs/portal.md (/inbox, /m/ID, /m/ID/html, /m/ID/att/N,
 * /m/ID/reply), RFC 6266 (downloads), DESIGN.md "Escrow portal".
 * Trust: a message is shown only to its own recipient while it is
 * readable; every other case is the same 404. Message text reaches the
 * page only escaped (tmpl), HTML only in /m/ID/html under its own CSP,
 * attachments only as downloads of allowlisted types. Every read,
 * download and reply is audited. Plaintext is unsealed per request
 * (aad = escrow id), never written anywhere, and wiped after use; the
 * log gets ids and sizes, never content.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "escrow.h"
#include "seal.h"
#include "web_app.h"
#include "web_cache.h"
#include "web_disp.h"
#include "web_mail.h"
#include "web_mime.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/queue_id.h"
#include "lib/xalloc.h"

#define INBOX_MAX	500	/* rows listed */
#define NO_SUBJECT	"(no subject)"

/* need_session - logged in? 1 yes; else *ret holds the answer: the
 * login page (coming back here) for a GET, 403 for a POST */
static int
need_session(struct web_req *r, enum MHD_Result *ret)
{
	char *loc;
	int s = web_session(r);

	if (s == 1)
		return 1;
	if (s < 0)
		*ret = web_unavailable(r);
	else if (r->method == WEB_M_POST)
		*ret = web_forbidden(r);
	else if (r->route.escrow_id[0] != '\0') {
		loc = xasprintf("/login?next=/m/%s", r->route.escrow_id);
		*ret = web_redirect(r, loc);
		xfree(loc);
	} else
		*ret = web_redirect(r, "/login");
	return 0;
}

/* human_size - "512 bytes", "12 KB", "3.4 MB" */
static void
human_size(uint64_t n, char *out, size_t outsz)
{
	if (n < 1024)
		snprintf(out, outsz, "%u bytes", (unsigned)n);
	else if (n < 1024 * 1024)
		snprintf(out, outsz, "%u KB", (unsigned)((n + 1023) / 1024));
	else
		snprintf(out, outsz, "%u.%u MB", (unsigned)(n >> 20),
		    (unsigned)((n & 0xfffff) * 10 >> 20));
}

/*
 * load - the readable message route.escrow_id of the session's user,
 * unsealed into *plain (buf_free_secure()), and marked read in the same
 * statement that hands out its content (*first: this was the first
 * read), so a sender's recall cannot succeed after the content went
 * out. 1 ok; 0 answered already (404, 503, 500) with *ret set.
 */
static int
load(struct web_req *r, struct portal_msg *m, struct buf *plain, int *first,
    enum MHD_Result *ret)
{
	const char *id = r->route.escrow_id;
	unsigned char *sealed = NULL;
	char *err = NULL;
	size_t len = 0;
	struct db *db;
	int rc;

	if ((db = web_db(r)) == NULL) {
		*ret = web_unavailable(r);
		return 0;
	}
	rc = portal_db_message(db, id, r->sess.user_id, m, &sealed, &len,
	    first, &err);
	if (rc < 0) {
		log_err("req=%lu event=db_error what=message error=\"%s\"",
		    r->id, err != NULL ? err : "?");
		xfree(err);
		*ret = web_unavailable(r);
		return 0;
	}
	if (rc == 0) {
		*ret = web_not_found(r);
		return 0;
	}
	buf_init(plain, len + 1);
	rc = unseal(r->app->master, sealed, len, id, plain, &err);
	xfree(sealed);
	if (rc < 0) {
		/* another master key, or a damaged row: ours to fix */
		log_err("req=%lu event=unseal_failed escrow_id=%s error=\"%s\"",
		    r->id, id, err != NULL ? err : "?");
		xfree(err);
		portal_msg_release(m);
		*ret = web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "Cannot show this message", "This message cannot be "
		    "shown at the moment. Please contact the sender.", NULL);
		return 0;
	}
	snprintf(r->log_extra, sizeof(r->log_extra), "escrow_id=%s", id);
	return 1;
}

/* parse - the unsealed message as MIME; NULL with the answer in *ret */
static struct web_msg *
parse(struct web_req *r, const struct buf *plain, enum MHD_Result *ret)
{
	struct web_msg *msg;
	char *err = NULL;

	msg = web_msg_parse(plain->data, plain->len, &err);
	if (msg == NULL) {
		log_err("req=%lu event=mime_failed escrow_id=%s error=\"%s\"",
		    r->id, r->route.escrow_id, err != NULL ? err : "?");
		xfree(err);
		*ret = web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "Cannot show this message", "This message cannot be "
		    "shown. Please contact the sender.", NULL);
	}
	return msg;
}

static void
audit(struct web_req *r, const char *action, const char *detail)
{
	char *err = NULL;

	if (portal_db_audit(web_db(r), r->route.escrow_id, r->sess.user_id,
	    action, r->client.addr, detail, &err) < 0) {
		log_err("req=%lu event=audit_failed action=%s escrow_id=%s "
		    "error=\"%s\"", r->id, action, r->route.escrow_id,
		    err != NULL ? err : "?");
		xfree(err);
	}
}

/* --- inbox ---------------------------------------------------------- */

/* summary - From and Subject of a message, from the cache or unsealed */
static void
summary(struct web_req *r, const struct portal_msg *m, char **from,
    char **subject)
{
	unsigned char *sealed = NULL;
	struct web_msg *msg;
	struct buf plain;
	char *err = NULL;
	size_t len = 0;

	if (web_cache_get(r->app->cache, m->id, from, subject))
		return;
	if (portal_db_sealed(web_db(r), m->id, r->sess.user_id, &sealed,
	    &len, &err) != 1) {
		xfree(err);
		return;
	}
	buf_init(&plain, len + 1);
	if (unseal(r->app->master, sealed, len, m->id, &plain, &err) < 0) {
		log_err("req=%lu event=unseal_failed escrow_id=%s "
		    "error=\"%s\"", r->id, m->id, err != NULL ? err : "?");
		xfree(err);
		xfree(sealed);
		return;
	}
	xfree(sealed);
	msg = web_msg_parse_headers(plain.data, plain.len, &err);
	buf_free_secure(&plain);
	if (msg == NULL) {
		xfree(err);
		return;
	}
	*from = web_msg_from(msg) != NULL ? xstrdup(web_msg_from(msg)) : NULL;
	*subject = web_msg_subject(msg) != NULL ?
	    xstrdup(web_msg_subject(msg)) : NULL;
	web_cache_put(r->app->cache, m->id, *from, *subject);
	web_msg_free(&msg);
}

enum MHD_Result
web_h_inbox(struct web_req *r)
{
	struct portal_msg *msgs = NULL;
	struct tmpl_vars *v, *it;
	enum MHD_Result ret;
	char *err = NULL;
	size_t n = 0, i;

	if (!need_session(r, &ret))
		return ret;
	if (portal_db_inbox(web_db(r), r->sess.user_id, INBOX_MAX, &msgs, &n,
	    &err) < 0) {
		log_err("req=%lu event=db_error what=inbox error=\"%s\"",
		    r->id, err != NULL ? err : "?");
		xfree(err);
		return web_unavailable(r);
	}
	v = tmpl_vars_new();
	for (i = 0; i < n; i++) {
		char *from = NULL, *subject = NULL;

		summary(r, &msgs[i], &from, &subject);
		it = tmpl_list_add(v, "msgs");
		tmpl_set(it, "id", msgs[i].id);
		tmpl_set(it, "from", from != NULL && from[0] != '\0' ? from :
		    msgs[i].sender);
		tmpl_set(it, "subject", subject != NULL && subject[0] != '\0' ?
		    subject : NO_SUBJECT);
		tmpl_set(it, "received", msgs[i].received);
		tmpl_set(it, "expires", msgs[i].expires);
		if (msgs[i].unread)
			tmpl_set(it, "unread", "1");
		xfree(from);
		xfree(subject);
	}
	portal_msgs_free(&msgs, n);
	ret = web_page(r, MHD_HTTP_OK, WEB_TPL_INBOX, "Your messages", v);
	tmpl_vars_free(&v);
	return ret;
}

/* --- one message -------------------------------------------------------- */

/* read_notice - tell the sender their message was read (first read) */
static void
read_notice(struct web_req *r, const struct portal_msg *m,
    const struct web_msg *msg)
{
	const struct sg_config *cfg = r->app->cfg;
	char qid[QUEUE_ID_SIZE], now[ESCROW_TIME_TEXT_MAX], *err = NULL;
	struct tmpl_vars *v;
	int rc;

	if (m->sender[0] == '\0')
		return;		/* <>: nobody to tell */
	escrow_time_text((long long)time(NULL), now);
	v = tmpl_vars_new();
	tmpl_set(v, "reader", r->sess.address);
	tmpl_set(v, "read_at", now);
	tmpl_set(v, "sent_at", m->received);
	if (!cfg->escrow_hide_subject && web_msg_subject(msg) != NULL &&
	    web_msg_subject(msg)[0] != '\0')
		tmpl_set(v, "subject", web_msg_subject(msg));
	rc = web_notice_queue(r->app, web_db(r), m->sender,
	    WEB_TPL_READ_SUBJECT, WEB_TPL_READ_TXT, WEB_TPL_N, v, qid, &err);
	tmpl_vars_free(&v);
	if (rc < 0) {
		log_err("req=%lu event=read_notice_failed escrow_id=%s "
		    "error=\"%s\"", r->id, m->id, err != NULL ? err : "?");
		xfree(err);
		return;
	}
	if (portal_db_read_notice_sent(web_db(r), m->id, &err) < 0) {
		log_warn("req=%lu event=db_error what=read_notice "
		    "error=\"%s\"", r->id, err != NULL ? err : "?");
		xfree(err);
	}
	log_info("req=%lu event=read_notice escrow_id=%s queue_id=%s",
	    r->id, m->id, qid);
}

/* on_read - audit the read; on the first one, the read notice when
 * configured or asked for */
static void
on_read(struct web_req *r, const struct portal_msg *m,
    const struct web_msg *msg, int first)
{
	audit(r, "read", first ? "first" : "");
	if (first && (r->app->cfg->escrow_read_notice || m->read_notice))
		read_notice(r, m, msg);
}

/* message_page - the message page, with an error sentence when a
 * reply was refused */
static enum MHD_Result
message_page(struct web_req *r, int status, const struct portal_msg *m,
    const struct web_msg *msg, const char *error)
{
	const char *images = web_query(r, "images");
	const char *sent = web_query(r, "sent");
	const char *subject = web_msg_subject(msg);
	struct tmpl_vars *v = tmpl_vars_new(), *it;
	char size[32], n[24];
	enum MHD_Result ret;
	int show_images = images != NULL && strcmp(images, "1") == 0;
	size_t i;

	tmpl_set(v, "id", m->id);
	if (subject == NULL || subject[0] == '\0')
		subject = NO_SUBJECT;
	tmpl_set(v, "subject", subject);
	tmpl_set(v, "from", web_msg_from(msg) != NULL ? web_msg_from(msg) :
	    m->sender);
	tmpl_set(v, "date", web_msg_date(msg) != NULL ? web_msg_date(msg) :
	    m->received);
	tmpl_set(v, "expires", m->expires);
	if (web_msg_text(msg) != NULL) {
		tmpl_set(v, "has_text", "1");
		tmpl_set(v, "text", web_msg_text(msg));
	}
	if (web_msg_html(msg) != NULL) {
		tmpl_set(v, "has_html", "1");
		if (show_images)
			tmpl_set(v, "images", "1");
		else if (web_html_remote_images(web_msg_html(msg)))
			tmpl_set(v, "remote_images", "1");
	}
	if (web_msg_natt(msg) > 0)
		tmpl_set(v, "has_atts", "1");
	for (i = 0; i < web_msg_natt(msg); i++) {
		const struct web_att *a = web_msg_att(msg, i);

		it = tmpl_list_add(v, "atts");
		snprintf(n, sizeof(n), "%zu", i);
		human_size(a->size, size, sizeof(size));
		tmpl_set(it, "n", n);
		tmpl_set(it, "name", a->filename);
		tmpl_set(it, "size", size);
	}
	if (m->sender[0] != '\0') {
		tmpl_set(v, "can_reply", "1");
		tmpl_set(v, "sender", m->sender);
		human_size(r->app->cfg->portal_reply_max, size, sizeof(size));
		tmpl_set(v, "reply_max", size);
	}
	if (sent != NULL && strcmp(sent, "1") == 0 && error == NULL)
		tmpl_set(v, "sent", "1");
	if (error != NULL)
		tmpl_set(v, "error", error);
	ret = web_page(r, status, WEB_TPL_MESSAGE, subject, v);
	/* the vars hold the message text */
	tmpl_set(v, "text", "");
	tmpl_vars_free(&v);
	return ret;
}

enum MHD_Result
web_h_msg(struct web_req *r)
{
	struct portal_msg m;
	struct web_msg *msg;
	struct buf plain;
	enum MHD_Result ret;
	int first = 0;

	if (!need_session(r, &ret) || !load(r, &m, &plain, &first, &ret))
		return ret;
	msg = parse(r, &plain, &ret);
	buf_free_secure(&plain);
	if (msg == NULL) {
		portal_msg_release(&m);
		return ret;
	}
	on_read(r, &m, msg, first);
	ret = message_page(r, MHD_HTTP_OK, &m, msg, NULL);
	web_msg_free(&msg);
	portal_msg_release(&m);
	return ret;
}

enum MHD_Result
web_h_msg_html(struct web_req *r)
{
	const char *images = web_query(r, "images");
	struct portal_msg m;
	struct web_msg *msg;
	struct buf plain;
	enum MHD_Result ret;
	const char *html;
	int first = 0;

	if (!need_session(r, &ret) || !load(r, &m, &plain, &first, &ret))
		return ret;
	msg = parse(r, &plain, &ret);
	buf_free_secure(&plain);
	/* content served before the page was ever opened: a read too */
	if (msg != NULL && first)
		on_read(r, &m, msg, 1);
	portal_msg_release(&m);
	if (msg == NULL)
		return ret;
	html = web_msg_html(msg);
	if (html == NULL)
		ret = web_not_found(r);
	else
		/* the message's HTML as the sender wrote it: inert under
		 * its CSP (no script, form, frame or remote load) and the
		 * iframe's sandbox */
		ret = web_send(r, MHD_HTTP_OK, images != NULL &&
		    strcmp(images, "1") == 0 ? WEB_SEC_FRAME_IMAGES :
		    WEB_SEC_FRAME, "text/html; charset=utf-8", xstrdup(html),
		    strlen(html), 1, NULL);
	web_msg_free(&msg);
	return ret;
}

enum MHD_Result
web_h_msg_att(struct web_req *r)
{
	const struct web_att *a;
	struct portal_msg m;
	struct web_msg *msg;
	struct buf plain, data, ctype, disp;
	enum MHD_Result ret;
	char detail[64];
	size_t len;
	char *body;
	int first = 0;

	if (!need_session(r, &ret) || !load(r, &m, &plain, &first, &ret))
		return ret;
	msg = parse(r, &plain, &ret);
	buf_free_secure(&plain);
	/* content served before the page was ever opened: a read too */
	if (msg != NULL && first)
		on_read(r, &m, msg, 1);
	portal_msg_release(&m);
	if (msg == NULL)
		return ret;
	a = web_msg_att(msg, r->route.att);
	if (a == NULL) {
		web_msg_free(&msg);
		return web_not_found(r);
	}
	buf_init(&data, a->size + 1);
	buf_init(&ctype, 256);
	buf_init(&disp, 4 * WEB_FILENAME_MAX + 128);
	if (web_msg_att_data(msg, r->route.att, &data) < 0 ||
	    web_disp_content_type(a->type, a->charset, &ctype) < 0 ||
	    web_disp_attachment(a->filename, &disp) < 0) {
		log_err("req=%lu event=attachment_failed escrow_id=%s att=%u",
		    r->id, r->route.escrow_id, r->route.att);
		buf_free_secure(&data);
		buf_free(&ctype);
		buf_free(&disp);
		web_msg_free(&msg);
		return web_unavailable(r);
	}
	snprintf(detail, sizeof(detail), "att=%u size=%zu", r->route.att,
	    data.len);
	audit(r, "download", detail);
	snprintf(r->log_extra, sizeof(r->log_extra), "escrow_id=%s att=%u",
	    r->route.escrow_id, r->route.att);
	body = buf_steal(&data, &len);
	ret = web_send(r, MHD_HTTP_OK, WEB_SEC_PAGE, buf_cstr(&ctype), body,
	    len, 1, buf_cstr(&disp));
	buf_free(&ctype);
	buf_free(&disp);
	web_msg_free(&msg);
	return ret;
}

/* blank - nothing but white space? */
static int
blank(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

enum MHD_Result
web_h_msg_reply(struct web_req *r)
{
	struct web_mail_file files[WEB_REPLY_FILES_MAX];
	const char *text = web_field(r, "body");
	char qid[QUEUE_ID_SIZE], detail[64], *err = NULL, *loc;
	const char *refs[64];
	struct web_reply rp;
	struct portal_msg m;
	struct web_msg *msg;
	struct buf plain, out;
	enum MHD_Result ret;
	size_t i, nfiles, nrefs;
	int rc, first = 0;

	if (!need_session(r, &ret))
		return ret;
	if (!web_session_check(r))
		return web_forbidden(r);
	if (!load(r, &m, &plain, &first, &ret))
		return ret;
	msg = parse(r, &plain, &ret);
	buf_free_secure(&plain);
	if (msg == NULL) {
		portal_msg_release(&m);
		return ret;
	}
	if (first)
		on_read(r, &m, msg, 1);
	nfiles = web_form_nfiles(r->form);
	if (m.sender[0] == '\0' || (blank(text) && nfiles == 0)) {
		ret = message_page(r, MHD_HTTP_BAD_REQUEST, &m, msg,
		    m.sender[0] == '\0' ? "This message cannot be answered." :
		    "Write a reply or attach a file.");
		goto done;
	}
	for (i = 0; i < nfiles; i++) {
		const struct web_form_file *ff = web_form_file_at(r->form, i);

		files[i].name = ff->filename;
		files[i].type = ff->content_type;
		files[i].data = ff->data.data != NULL ? ff->data.data : "";
		files[i].len = ff->data.len;
	}
	nrefs = web_msg_nrefs(msg);
	if (nrefs > sizeof(refs) / sizeof(refs[0]))
		nrefs = sizeof(refs) / sizeof(refs[0]);
	for (i = 0; i < nrefs; i++)
		refs[i] = web_msg_ref(msg, i);
	memset(&rp, 0, sizeof(rp));
	rp.from = r->sess.address;
	rp.to = m.sender;
	rp.subject = web_msg_subject(msg);
	rp.in_reply_to = web_msg_message_id(msg);
	rp.refs = refs;
	rp.nrefs = nrefs;
	rp.text = text != NULL ? text : "";
	rp.files = files;
	rp.nfiles = nfiles;
	rp.msgid_domain = r->app->cfg->hostname;
	rp.date = time(NULL);
	buf_init(&out, WEB_MAIL_MAX);
	rc = web_mail_reply(&rp, &out, &err);
	if (rc == 0)
		rc = escrow_queue_mail(web_db(r), r->sess.address, m.sender,
		    out.data, out.len, 1, qid, &err);
	buf_free_secure(&out);
	if (rc < 0) {
		log_err("req=%lu event=reply_failed escrow_id=%s error=\"%s\"",
		    r->id, m.id, err != NULL ? err : "?");
		xfree(err);
		ret = web_unavailable(r);
		goto done;
	}
	snprintf(detail, sizeof(detail), "queue_id=%s files=%zu", qid, nfiles);
	audit(r, "reply", detail);
	snprintf(r->log_extra, sizeof(r->log_extra),
	    "escrow_id=%s queue_id=%s", m.id, qid);
	log_info("req=%lu event=reply escrow_id=%s queue_id=%s files=%zu "
	    "user=%lld", r->id, m.id, qid, nfiles,
	    (long long)r->sess.user_id);
	loc = xasprintf("/m/%s?sent=1", m.id);
	ret = web_redirect(r, loc);
	xfree(loc);
done:
	web_msg_free(&msg);
	portal_msg_release(&m);
	return ret;
}
