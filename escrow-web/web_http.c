/*
 * web_http.c - the web role's request plumbing on libmicrohttpd: one
 * struct web_req per request, the body through MHD's post processor
 * into a web_form, dispatch by route, and every answer through one
 * function that adds the security headers.
 *
 * Implements: RFC 7230 3.3 (bodies: Content-Length checked before a
 * byte is read), RFC 7231 6.4.4 (303 after POST), 6.5.5 (405 + Allow),
 * 6.5.11 (413), 6.5.13 (415); docs/portal.md (routes, cookies, CSRF).
 * Trust: everything in a request is client input. Bodies are capped
 * (portal_reply_max for replies, WEB_FORM_MAX for other forms) and the
 * bytes held for all requests together too; paths are matched
 * exactly; cookies and forwarding headers go through pure parsers.
 * Logging: one line per request (method, path, status, client, user,
 * time), never a query string, cookie, form field or body.
 * Ownership: a web_req lives from the first handler call to
 * web_http_completed(), which MHD calls however the request ends.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "db.h"
#include "token.h"
#include "web_app.h"
#include "web_cookie.h"
#include "web_dbpool.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/numparse.h"
#include "lib/sg_limits.h"
#include "lib/xalloc.h"

#define WEB_REPLY_SLACK		(64 * 1024)	/* multipart framing */
#define WEB_PP_BUF_FORM		1024
#define WEB_PP_BUF_REPLY	(64 * 1024)

static const struct web_form_spec spec_login[] = {
	{ "csrf", 128, 0 },
	{ "email", 1024, 0 },
	{ "password", WEB_PASSWORD_MAX * 4, 0 },
	{ "next", 256, 0 },
};
static const struct web_form_spec spec_logout[] = {
	{ "csrf", 128, 0 },
};
static const struct web_form_spec spec_password[] = {
	{ "csrf", 128, 0 },
	{ "t", 128, 0 },
	{ "password", WEB_PASSWORD_MAX * 4, 0 },
	{ "password2", WEB_PASSWORD_MAX * 4, 0 },
};
static const struct web_form_spec spec_recall[] = {
	{ "csrf", 128, 0 },
	{ "t", 128, 0 },
};
static const struct web_form_spec spec_reset[] = {
	{ "csrf", 128, 0 },
	{ "email", 1024, 0 },
};

#define NSPEC(a) (sizeof(a) / sizeof((a)[0]))

static void
now_mono(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

/* --- header collection -------------------------------------------------- */

struct hdr_join {
	const char *name;
	const char *sep;
	struct buf b;
	int over;
};

static enum MHD_Result
hdr_join_it(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct hdr_join *j = cls;

	(void)kind;
	if (key == NULL || value == NULL || strcasecmp(key, j->name) != 0)
		return MHD_YES;
	if ((j->b.len > 0 && buf_append_str(&j->b, j->sep) < 0) ||
	    buf_append_str(&j->b, value) < 0)
		j->over = 1;
	return MHD_YES;
}

/* joined_header - every field called name, joined with sep; NULL when
 * there is none or together they pass max (xfree()) */
static char *
joined_header(struct MHD_Connection *conn, const char *name, const char *sep,
    size_t max)
{
	struct hdr_join j;

	j.name = name;
	j.sep = sep;
	j.over = 0;
	buf_init(&j.b, max);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, hdr_join_it, &j);
	if (j.over || j.b.len == 0) {
		buf_free(&j.b);
		return NULL;
	}
	return buf_steal(&j.b, NULL);
}

/* cookie_token - a cookie's value when it is a well-formed token */
static int
cookie_token(struct web_req *r, const char *name, char out[TOKEN_TEXT_LEN + 1])
{
	char *hdr = joined_header(r->conn, "Cookie", "; ",
	    WEB_COOKIE_HDR_MAX);
	struct slice v;
	int ok = 0;

	out[0] = '\0';
	if (hdr == NULL)
		return 0;
	if (web_cookie_find(hdr, strlen(hdr), name, &v) == 1 &&
	    v.len == TOKEN_TEXT_LEN) {
		memcpy(out, v.ptr, v.len);
		out[v.len] = '\0';
		ok = token_valid_syntax(out);
		if (!ok)
			out[0] = '\0';
	}
	OPENSSL_cleanse(hdr, strlen(hdr));
	xfree(hdr);
	return ok;
}

/* --- request state -------------------------------------------------------- */

static struct web_req *
req_new(struct web_listener *l, struct MHD_Connection *conn, const char *url,
    const char *method)
{
	struct web_req *r = xcalloc(1, sizeof(*r));
	const union MHD_ConnectionInfo *ci;
	char *xff;
	const char *xfp;

	r->app = l->app;
	r->listener = l;
	r->conn = conn;
	r->id = atomic_fetch_add(&l->app->next_req, 1) + 1;
	now_mono(&r->started);
	snprintf(r->path, sizeof(r->path), "%s", url != NULL ? url : "");
	r->method = web_route_method(method != NULL ? method : "");
	web_route_match(url, &r->route);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	xff = joined_header(conn, "X-Forwarded-For", ", ", WEB_XFF_MAX * 4);
	xfp = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "X-Forwarded-Proto");
	web_client_resolve(ci != NULL ? ci->client_addr : NULL,
	    l->app->cfg->portal_trusted_proxies,
	    l->app->cfg->nportal_trusted_proxies, xff, xfp, l->tls,
	    &r->client);
	xfree(xff);
	r->pre_from_cookie = cookie_token(r, WEB_COOKIE_PRE, r->pre);
	return r;
}

static void
req_free(struct web_req *r)
{
	size_t i;

	if (r->pp != NULL)
		MHD_destroy_post_processor(r->pp);
	web_form_free(&r->form);
	for (i = 0; i < r->ncookies; i++)
		xfree(r->cookies[i]);
	portal_session_release(&r->sess);
	if (r->db != NULL)
		web_dbpool_put(r->app->pool, r->db);
	if (r->inflight > 0)
		atomic_fetch_sub(&r->app->upload_inflight, r->inflight);
	OPENSSL_cleanse(r->sess_hash, sizeof(r->sess_hash));
	OPENSSL_cleanse(r->pre, sizeof(r->pre));
	xfree(r);
}

struct db *
web_db(struct web_req *r)
{
	char *err = NULL;

	if (r->db != NULL)
		return r->db;
	r->db = web_dbpool_get(r->app->pool, &err);
	if (r->db == NULL) {
		log_err("req=%lu event=db_unavailable error=\"%s\"", r->id,
		    err != NULL ? err : "?");
		xfree(err);
	}
	return r->db;
}

int
web_session(struct web_req *r)
{
	char tok[TOKEN_TEXT_LEN + 1], *err = NULL;
	struct db *db;
	int rc;

	if (r->session_loaded)
		return r->have_session;
	if (!cookie_token(r, WEB_COOKIE_SESSION, tok)) {
		r->session_loaded = 1;
		return 0;
	}
	token_hash(tok, r->sess_hash);
	OPENSSL_cleanse(tok, sizeof(tok));
	if ((db = web_db(r)) == NULL)
		return -1;
	rc = portal_db_session_get(db, r->sess_hash,
	    r->app->cfg->portal_session_ttl, &r->sess, &err);
	if (rc < 0) {
		log_err("req=%lu event=db_error what=session error=\"%s\"",
		    r->id, err != NULL ? err : "?");
		xfree(err);
		return -1;
	}
	r->session_loaded = 1;
	r->have_session = rc == 1;
	if (r->have_session)
		r->log_user = r->sess.user_id;
	else
		r->sess_hash[0] = '\0';
	return r->have_session;
}

const char *
web_field(struct web_req *r, const char *name)
{
	return r->form != NULL ? web_form_value(r->form, name) : NULL;
}

const char *
web_query(struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

void
web_set_cookie(struct web_req *r, const char *name, const char *value,
    long max_age)
{
	struct buf b;

	if (r->ncookies >= WEB_COOKIES_MAX)
		panic("too many cookies for one response");
	buf_init(&b, 512);
	if (web_cookie_build(&b, name, value, max_age) < 0)
		panic("bad cookie %s", name);
	r->cookies[r->ncookies++] = buf_steal(&b, NULL);
}

void
web_pre_csrf(struct web_req *r, char out[WEB_CSRF_PRE_LEN + 1])
{
	if (r->pre[0] == '\0') {
		if (token_new(r->pre) < 0) {
			out[0] = '\0';
			return;
		}
		/* lives as long as its csrf tokens can (two periods) */
		web_set_cookie(r, WEB_COOKIE_PRE, r->pre, 2L * WEB_PRE_TTL);
	}
	web_csrf_pre(r->app->pre_secret, r->pre, time(NULL), out);
}

int
web_pre_check(struct web_req *r)
{
	return r->pre_from_cookie && web_csrf_pre_check(r->app->pre_secret,
	    r->pre, web_field(r, "csrf"), time(NULL));
}

int
web_session_check(struct web_req *r)
{
	const char *c = web_field(r, "csrf");

	return r->have_session && c != NULL && r->sess.csrf != NULL &&
	    token_equal(c, r->sess.csrf);
}

/* --- answers ---------------------------------------------------------------- */

struct body {
	char *p;
	size_t len;
	int wipe;
};

static void
body_free(void *cls)
{
	struct body *b = cls;

	if (b->wipe)
		OPENSSL_cleanse(b->p, b->len);
	xfree(b->p);
	xfree(b);
}

enum MHD_Result
web_send(struct web_req *r, int status, enum web_sec_kind sec,
    const char *ctype, char *body, size_t len, int wipe,
    const char *disposition)
{
	struct web_header h[WEB_SEC_HEADERS_MAX];
	struct MHD_Response *resp;
	struct body *b = xcalloc(1, sizeof(*b));
	enum MHD_Result ret;
	size_t i, n;

	if (body == NULL) {
		body = xstrdup("");
		len = 0;
	}
	b->p = body;
	b->len = len;
	b->wipe = wipe;
	resp = MHD_create_response_from_buffer_with_free_callback_cls(len,
	    body, body_free, b);
	if (resp == NULL) {
		body_free(b);
		return MHD_NO;
	}
	n = web_secure_headers(sec, r->client.https, h);
	for (i = 0; i < n; i++)
		MHD_add_response_header(resp, h[i].name, h[i].value);
	if (ctype != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    ctype);
	if (disposition != NULL)
		MHD_add_response_header(resp, "Content-Disposition",
		    disposition);
	for (i = 0; i < r->ncookies; i++)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE,
		    r->cookies[i]);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    web_route_allow(r->route.id));
	ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	r->answered = 1;
	return ret;
}

enum MHD_Result
web_redirect(struct web_req *r, const char *location)
{
	struct web_header h[WEB_SEC_HEADERS_MAX];
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t i, n;

	resp = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	n = web_secure_headers(WEB_SEC_PAGE, r->client.https, h);
	for (i = 0; i < n; i++)
		MHD_add_response_header(resp, h[i].name, h[i].value);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/html; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	for (i = 0; i < r->ncookies; i++)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE,
		    r->cookies[i]);
	ret = MHD_queue_response(r->conn, MHD_HTTP_SEE_OTHER, resp);
	MHD_destroy_response(resp);
	r->status = MHD_HTTP_SEE_OTHER;
	r->answered = 1;
	return ret;
}

/* plain_error - when even the error page cannot be made */
static enum MHD_Result
plain_error(struct web_req *r, int status)
{
	static const char msg[] = "Something went wrong. Please try again "
	    "later.\n";

	return web_send(r, status, WEB_SEC_PAGE, "text/plain; charset=utf-8",
	    xstrdup(msg), sizeof(msg) - 1, 0, NULL);
}

enum MHD_Result
web_page(struct web_req *r, int status, enum web_tpl t, const char *title,
    struct tmpl_vars *v)
{
	struct tmpl_vars *own = NULL;
	struct buf out;
	char *err = NULL;
	size_t len;
	char *body;

	if (v == NULL)
		v = own = tmpl_vars_new();
	tmpl_set(v, "title", title);
	if (r->have_session) {
		tmpl_set(v, "logged_in", "1");
		tmpl_set(v, "user", r->sess.address);
		tmpl_set(v, "session_csrf", r->sess.csrf);
	}
	buf_init(&out, WEB_PAGE_MAX);
	if (web_pages_page(r->app->pages, t, v, &out, &err) < 0) {
		log_err("req=%lu event=render_failed error=\"%s\"", r->id,
		    err != NULL ? err : "?");
		xfree(err);
		buf_free_secure(&out);
		tmpl_vars_free(&own);
		return plain_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR);
	}
	tmpl_vars_free(&own);
	body = buf_steal(&out, &len);
	/* pages can hold message text: wiped when sent */
	return web_send(r, status, WEB_SEC_PAGE, "text/html; charset=utf-8",
	    body, len, 1, NULL);
}

enum MHD_Result
web_error(struct web_req *r, int status, const char *heading,
    const char *message, const char *login_link)
{
	struct tmpl_vars *v = tmpl_vars_new();
	enum MHD_Result ret;

	tmpl_set(v, "heading", heading);
	tmpl_set(v, "message", message);
	if (login_link != NULL)
		tmpl_set(v, "login_link", login_link);
	ret = web_page(r, status, WEB_TPL_ERROR, heading, v);
	tmpl_vars_free(&v);
	return ret;
}

enum MHD_Result
web_not_found(struct web_req *r)
{
	/* one page for "no such message", "not yours", "recalled",
	 * "expired": nothing tells them apart */
	return web_error(r, MHD_HTTP_NOT_FOUND, "Not found",
	    "This message does not exist or is no longer available.", NULL);
}

enum MHD_Result
web_forbidden(struct web_req *r)
{
	return web_error(r, MHD_HTTP_FORBIDDEN, "Please try again",
	    "This form has expired. Go back, reload the page and try "
	    "again.", NULL);
}

enum MHD_Result
web_unavailable(struct web_req *r)
{
	return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
	    "Temporarily unavailable", "Something went wrong on our side. "
	    "Please try again in a few minutes.", NULL);
}

/* --- the body -------------------------------------------------------------- */

/* body_setup - POST: the form, its post processor and the size cap.
 * 0 go on; an HTTP status to answer at once. */
static int
body_setup(struct web_req *r)
{
	const struct web_form_spec *spec;
	size_t nspec, total, files = 0, ppbuf = WEB_PP_BUF_FORM;
	const char *cl, *ct;
	uint64_t declared;

	switch (r->route.id) {
	case WEB_R_LOGIN:
		spec = spec_login;
		nspec = NSPEC(spec_login);
		break;
	case WEB_R_LOGOUT:
		spec = spec_logout;
		nspec = NSPEC(spec_logout);
		break;
	case WEB_R_ENROLL:
	case WEB_R_RESET_CONFIRM:
		spec = spec_password;
		nspec = NSPEC(spec_password);
		break;
	case WEB_R_RESET:
		spec = spec_reset;
		nspec = NSPEC(spec_reset);
		break;
	case WEB_R_RECALL:
		spec = spec_recall;
		nspec = NSPEC(spec_recall);
		break;
	case WEB_R_MSG_REPLY:
		spec = r->app->reply_spec;
		nspec = NSPEC(r->app->reply_spec);
		files = WEB_REPLY_FILES_MAX;
		ppbuf = WEB_PP_BUF_REPLY;
		break;
	default:
		return MHD_HTTP_METHOD_NOT_ALLOWED;
	}
	if (r->route.id == WEB_R_MSG_REPLY) {
		total = (size_t)r->app->cfg->portal_reply_max;
		r->body_max = total + WEB_REPLY_SLACK;
	} else {
		total = WEB_FORM_MAX;
		r->body_max = WEB_FORM_MAX;
	}
	/* refuse a declared length over the cap before reading a byte */
	cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && (num_parse_u64_str(cl, 0, UINT64_MAX, &declared) < 0
	    || declared > r->body_max))
		return MHD_HTTP_CONTENT_TOO_LARGE;
	r->form = web_form_new(spec, nspec, total, files);
	ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct == NULL)
		return 0;	/* an empty form, or 415 once bytes come */
	r->pp = MHD_create_post_processor(r->conn, ppbuf, web_form_iterator,
	    r->form);
	if (r->pp == NULL)
		return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
	return 0;
}

/* body_chunk - feed upload bytes. MHD_NO drops the connection (a body
 * over the cap that did not declare its length, or no room left) */
static enum MHD_Result
body_chunk(struct web_req *r, const char *data, size_t size)
{
	size_t now;

	/* counted even when ignored: an endless chunked body after an
	 * error would otherwise hold the connection forever */
	if (size > r->body_max - r->body_len) {
		log_warn("req=%lu event=body_too_large client=%s", r->id,
		    r->client.addr);
		return MHD_NO;
	}
	r->body_len += size;
	if (r->body_status != 0)
		return MHD_YES;		/* the rest is ignored */
	now = atomic_fetch_add(&r->app->upload_inflight, size) + size;
	r->inflight += size;
	if (now > r->app->upload_budget) {
		log_warn("req=%lu event=upload_budget_exhausted client=%s",
		    r->id, r->client.addr);
		return MHD_NO;
	}
	if (r->pp == NULL) {
		r->body_status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
		return MHD_YES;
	}
	if (MHD_post_process(r->pp, data, size) != MHD_YES) {
		enum web_form_err e = web_form_error(r->form);

		r->body_status = e == WEB_FORM_E_FIELD_SIZE ||
		    e == WEB_FORM_E_TOTAL_SIZE || e == WEB_FORM_E_FILES ?
		    MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST;
		log_info("req=%lu event=bad_form client=%s reason=\"%s\"",
		    r->id, r->client.addr, e == WEB_FORM_E_NONE ?
		    "malformed body" : web_form_error_text(e));
	}
	return MHD_YES;
}

static enum MHD_Result
status_answer(struct web_req *r, int status)
{
	switch (status) {
	case MHD_HTTP_NOT_FOUND:
		return web_not_found(r);
	case MHD_HTTP_METHOD_NOT_ALLOWED:
		return web_error(r, status, "Not allowed",
		    "This address does not take that kind of request.", NULL);
	case MHD_HTTP_CONTENT_TOO_LARGE:
		return web_error(r, status, "Too large",
		    r->route.id == WEB_R_MSG_REPLY ?
		    "The reply and its files are too large." :
		    "The form is too large.", NULL);
	case MHD_HTTP_UNSUPPORTED_MEDIA_TYPE:
		return web_error(r, status, "Not understood",
		    "The form arrived in a format we do not take.", NULL);
	case MHD_HTTP_SERVICE_UNAVAILABLE:
		return web_unavailable(r);
	default:
		return web_error(r, MHD_HTTP_BAD_REQUEST, "Not understood",
		    "The form could not be read. Go back and try again.",
		    NULL);
	}
}

/* --- dispatch ---------------------------------------------------------------- */

static enum MHD_Result
css(struct web_req *r)
{
	size_t len;
	const char *p = web_pages_css(r->app->pages, &len);
	char *copy = xmalloc(len + 1);

	memcpy(copy, p, len);
	copy[len] = '\0';
	return web_send(r, MHD_HTTP_OK, WEB_SEC_STATIC,
	    "text/css; charset=utf-8", copy, len, 0, NULL);
}

static enum MHD_Result
dispatch(struct web_req *r)
{
	switch (r->route.id) {
	case WEB_R_ROOT:
		return web_h_root(r);
	case WEB_R_LOGIN:
		return web_h_login(r);
	case WEB_R_LOGOUT:
		return web_h_logout(r);
	case WEB_R_ENROLL:
		return web_h_enroll(r);
	case WEB_R_RESET:
		return web_h_reset(r);
	case WEB_R_RESET_CONFIRM:
		return web_h_reset_confirm(r);
	case WEB_R_RECALL:
		return web_h_recall(r);
	case WEB_R_INBOX:
		return web_h_inbox(r);
	case WEB_R_MSG:
		return web_h_msg(r);
	case WEB_R_MSG_HTML:
		return web_h_msg_html(r);
	case WEB_R_MSG_ATT:
		return web_h_msg_att(r);
	case WEB_R_MSG_REPLY:
		return web_h_msg_reply(r);
	case WEB_R_CSS:
		return css(r);
	case WEB_R_NOT_FOUND:
		break;
	}
	return web_not_found(r);
}

/* finish - the whole request is here: answer it */
static enum MHD_Result
finish(struct web_req *r)
{
	enum MHD_Result ret;

	/* destroying the post processor hands over a last urlencoded
	 * value that had no '&' after it; it says MHD_NO for a body cut
	 * short (a multipart without its closing boundary) */
	if (r->pp != NULL) {
		int pp_ok = MHD_destroy_post_processor(r->pp) == MHD_YES;

		r->pp = NULL;
		if (!pp_ok && r->body_status == 0)
			r->body_status = MHD_HTTP_BAD_REQUEST;
	}
	if (r->body_status == 0 && r->form != NULL &&
	    web_form_finish(r->form) < 0)
		r->body_status = MHD_HTTP_BAD_REQUEST;
	if (r->body_status != 0)
		ret = status_answer(r, r->body_status);
	else
		ret = dispatch(r);
	/* the connection serves others while this answer is sent */
	if (r->db != NULL) {
		web_dbpool_put(r->app->pool, r->db);
		r->db = NULL;
	}
	return ret;
}

enum MHD_Result
web_http_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct web_listener *l = cls;
	struct web_req *r = *req_cls;
	unsigned allowed;
	int st;

	(void)version;
	if (r == NULL) {
		r = req_new(l, conn, url, method);
		*req_cls = r;
		allowed = web_route_methods(r->route.id);
		if (r->route.id == WEB_R_NOT_FOUND)
			return status_answer(r, MHD_HTTP_NOT_FOUND);
		if ((r->method & allowed) == 0)
			return status_answer(r, MHD_HTTP_METHOD_NOT_ALLOWED);
		if (r->method == WEB_M_POST &&
		    (st = body_setup(r)) != 0) {
			/* answered before the body: MHD then closes the
			 * connection instead of reading it */
			return status_answer(r, st);
		}
		return MHD_YES;
	}
	if (r->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (r->method != WEB_M_POST)
			return MHD_NO;
		return body_chunk(r, upload_data, n);
	}
	return finish(r);
}

void
web_http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct web_req *r = *req_cls;
	struct timespec now;
	char path[SG_LOG_VALUE_MAX + 16];
	long ms;

	(void)cls;
	(void)conn;
	if (r == NULL)
		return;
	now_mono(&now);
	ms = (long)(now.tv_sec - r->started.tv_sec) * 1000 +
	    (now.tv_nsec - r->started.tv_nsec) / 1000000;
	log_escape(path, sizeof(path), r->path, strlen(r->path));
	log_info("req=%lu event=http listener=%s method=%s path=\"%s\" "
	    "status=%d client=%s%s user=%lld ms=%ld%s%s%s", r->id,
	    r->listener->name, r->method == WEB_M_GET ? "GET" :
	    r->method == WEB_M_POST ? "POST" : r->method == WEB_M_HEAD ?
	    "HEAD" : "other", path, r->status, r->client.addr,
	    r->client.forwarded ? " forwarded=yes" : "",
	    (long long)r->log_user, ms,
	    toe != MHD_REQUEST_TERMINATED_COMPLETED_OK ? " aborted=yes" : "",
	    r->log_extra[0] != '\0' ? " " : "", r->log_extra);
	req_free(r);
	*req_cls = NULL;
}
