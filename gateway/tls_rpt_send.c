/*
 * tls_rpt_send.c - deliver one day's TLS-RPT report (see tls_rpt_send.h).
 *
 * Implements: RFC 8460 3 (the _smtp._tls record, looked up at send time),
 * 5.2 (HTTPS: POST, application/tlsrpt+gzip, any 2xx is success; no
 * redirects followed), 5.3 (mail: multipart/report through our queue).
 * HTTPS: the URI's host is resolved with OUR resolver (the same DNS as
 * every other lookup) and pinned with CURLOPT_RESOLVE; https only, TLS
 * >= 1.2, certificate checked against delivery_ca_file or the system
 * store, no proxy, tls_rpt_timeout for the whole upload.
 * Library module: never logs.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <curl/curl.h>

#include "config.h"
#include "dns.h"
#include "https_get.h"
#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/queue_id.h"
#include "lib/xalloc.h"
#include "queue_db.h"
#include "tls_rpt.h"
#include "tls_rpt_db.h"
#include "tls_rpt_send.h"

#define RPT_JSON_MAX	(16u * 1024 * 1024)
#define RPT_MAIL_MAX	(32u * 1024 * 1024)
#define RPT_REPLY_MAX	4096		/* response body kept (ignored) */

long long
tls_rpt_day_start(const char *day)
{
	uint64_t y, m, d;
	struct tm tm;

	if (strlen(day) != 10 || day[4] != '-' || day[7] != '-' ||
	    num_parse_u64(day, 4, 1970, 9999, &y) < 0 ||
	    num_parse_u64(day + 5, 2, 1, 12, &m) < 0 ||
	    num_parse_u64(day + 8, 2, 1, 31, &d) < 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = (int)d;
	return (long long)timegm(&tm);
}

static void
detail_add(struct tls_rpt_outcome *o, const char *uri, const char *what)
{
	size_t l = strlen(o->detail);

	snprintf(o->detail + l, sizeof(o->detail) - l, "%s%.200s: %.200s",
	    l ? "; " : "", uri, what);
}

/* --- mailto: ------------------------------------------------------------ */

static int
send_mail(const struct tls_rpt_sender *s, const struct tls_rpt_rua *rua,
    const struct tls_rpt_mail *tmpl, char *why, size_t whysz)
{
	const struct sg_config *cfg = s->cfg;
	struct tls_rpt_mail m = *tmpl;
	struct queue_msg qm;
	struct buf mail;
	char id[QUEUE_ID_SIZE], *err = NULL;
	const char *rcpt[1];
	int r;

	if (queue_id_new(id) < 0) {
		snprintf(why, whysz, "no randomness for a queue id");
		return -1;
	}
	m.to = rua->addr;
	m.message_id = id;
	buf_init(&mail, RPT_MAIL_MAX);
	if (tls_rpt_mail_build(&m, &mail) < 0) {
		buf_free(&mail);
		snprintf(why, whysz, "cannot build the report mail");
		return -1;
	}
	memset(&qm, 0, sizeof(qm));
	rcpt[0] = rua->addr;
	qm.id = id;
	qm.mail_from = m.from;
	qm.rcpts = rcpt;
	qm.nrcpt = 1;
	qm.data = buf_cstr(&mail);
	qm.len = mail.len;
	qm.mail_params = "";
	qm.body_type = "7BIT";
	qm.client_addr = "127.0.0.1";
	qm.client_helo = cfg->hostname;
	r = queue_db_insert(s->db, &qm, &err);
	buf_free(&mail);
	if (r < 0) {
		snprintf(why, whysz, "queue: %s", err != NULL ? err : "?");
		xfree(err);
		return -1;
	}
	snprintf(why, whysz, "queued %s", id);
	return 0;
}

/* --- https: ------------------------------------------------------------- */

static size_t
discard_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	size_t *seen = arg, n = size * nmemb;

	(void)ptr;
	if (n > RPT_REPLY_MAX - *seen)
		return 0;		/* a reply we do not need: stop */
	*seen += n;
	return n;
}

/* pin - CURLOPT_RESOLVE entry "host:port:addr,..." via our resolver;
 * NULL for an IP literal (nothing to resolve) or on failure (*why) */
static struct curl_slist *
pin(const struct tls_rpt_sender *s, const char *uri, int *literal,
    char *why, size_t whysz)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	struct dns_mx_result res;
	struct curl_slist *sl = NULL;
	struct in_addr a4;
	uint64_t pv = 0;
	int looked = 0;

	*literal = 0;
	memset(&res, 0, sizeof(res));
	if (u == NULL || curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK || num_parse_u64_str(port, 0, 65535, &pv) < 0) {
		snprintf(why, whysz, "not a URL");
		goto out;
	}
	if (host[0] == '[' || inet_pton(AF_INET, host, &a4) == 1) {
		*literal = 1;		/* an address: curl needs no DNS */
		goto out;
	}
	if (!dns_hostname_valid(host)) {
		snprintf(why, whysz, "not a host name");
		goto out;
	}
	looked = 1;
	if (dns_lookup_host(s->dns, host, &res) != DNS_OK ||
	    res.nhosts == 0 || res.hosts[0].naddrs == 0) {
		snprintf(why, whysz, "%s: no address (%s)", host, res.why);
		goto out;
	}
	sl = https_resolve_entry(host, (long)pv, &res.hosts[0]);
	if (sl == NULL)
		snprintf(why, whysz, "out of memory");
out:
	if (looked)
		dns_mx_result_free(&res);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return sl;
}

static int
send_https(const struct tls_rpt_sender *s, const char *uri, const void *gz,
    size_t gzlen, char *why, size_t whysz)
{
	const struct sg_config *cfg = s->cfg;
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *resolve = NULL, *hdr = NULL;
	struct https_opts o;
	size_t seen = 0;
	long code = 0;
	CURLcode rc;
	CURL *c = NULL;
	int literal, ret = -1, st;

	resolve = pin(s, uri, &literal, why, whysz);
	if (resolve == NULL && !literal)
		return -1;
	hdr = curl_slist_append(NULL, "Content-Type: application/tlsrpt+gzip");
	if (hdr == NULL || (c = https_curl_new()) == NULL) {
		snprintf(why, whysz, "cannot initialise libcurl");
		goto out;
	}
	/* RFC 8460 5.2: no redirects followed (https_curl_setup()) */
	memset(&o, 0, sizeof(o));
	o.url = uri;
	o.resolve = resolve;		/* NULL for an IP literal */
	o.ca_file = cfg->delivery_ca_file;
	o.timeout_ms = (long)cfg->tls_rpt_timeout * 1000L;
	o.errbuf = errbuf;
	o.user_agent = "sealgate-tlsrpt";
	st = https_curl_setup(c, &o);
	if (st < 0) {
		snprintf(why, whysz, "libcurl refused %s",
		    st == HTTPS_SETUP_CA_FILE ? "the CA file" : "an option");
		goto out;
	}
	if (curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, gz) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)gzlen) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen) != CURLE_OK) {
		snprintf(why, whysz, "libcurl refused an option");
		goto out;
	}
	rc = curl_easy_perform(c);
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && code >= 200)) {
		snprintf(why, whysz, "%s: %s", curl_easy_strerror(rc),
		    errbuf[0] != '\0' ? errbuf : "-");
		goto out;
	}
	if (code < 200 || code >= 300) {
		snprintf(why, whysz, "HTTP %ld", code);
		goto out;
	}
	snprintf(why, whysz, "HTTP %ld", code);
	ret = 0;
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	curl_slist_free_all(resolve);
	return ret;
}

/* --- one report ------------------------------------------------------- */

static int
db_fail(int r, const char *what, char **err_out)
{
	if (err_out != NULL && *err_out == NULL)
		*err_out = xstrdup(what);
	return r;
}

int
tls_rpt_send_day(const struct tls_rpt_sender *s, const char *domain,
    const char *day, struct tls_rpt_outcome *out, char **err_out)
{
	const struct sg_config *cfg = s->cfg;
	char name[DNS_NAME_MAX + 16], why[512], qid[QUEUE_ID_SIZE];
	char contact[300], from[300], ruas[TLS_RPT_RUA_MAX * 520];
	struct tls_rpt_loaded ld;
	struct tls_rpt_report rep;
	struct tls_rpt_mail mail;
	struct tls_rpt_txt txt;
	struct dns_rrset rr;
	struct buf json, gz;
	long long start = tls_rpt_day_start(day);
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	ruas[0] = '\0';
	out->status = "failed";
	if (start < 0 || queue_id_new(qid) < 0)
		return db_fail(-1, "bad day or no randomness", err_out);
	/* report-id: unique, and says what it is */
	snprintf(out->report_id, sizeof(out->report_id), "%.4s%.2s%.2s.%s@%s",
	    day, day + 5, day + 8, qid, cfg->hostname);
	r = tls_rpt_db_claim(s->db, domain, day, out->report_id, err_out);
	if (r < 0)
		return r;
	if (r == 0) {
		out->status = "taken";
		return 0;
	}

	snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	(void)dns_lookup_rr(s->dns, name, 16, &rr);
	if (rr.status == DNS_TEMPFAIL) {
		snprintf(out->detail, sizeof(out->detail), "%s: %s", name,
		    rr.why);
		dns_rrset_free(&rr);
		out->status = "retry";
		return tls_rpt_db_release(s->db, domain, day, err_out);
	}
	if (rr.status == DNS_OK) {
		r = tls_rpt_txt_select(&rr, &txt, why, sizeof(why));
		if (r == 0)
			snprintf(why, sizeof(why), "no TLS-RPT record");
	} else {
		r = 0;
		snprintf(why, sizeof(why), "%s", rr.why[0] != '\0' ?
		    rr.why : "no TLS-RPT record");
	}
	dns_rrset_free(&rr);
	if (r <= 0) {
		snprintf(out->detail, sizeof(out->detail), "%s: %s", name,
		    why);
		out->status = "no-rua";
		return tls_rpt_db_finish(s->db, domain, day, out->status, NULL,
		    out->detail, err_out);
	}

	r = tls_rpt_db_load(s->db, domain, day, &ld, err_out);
	if (r < 0)
		return r;
	out->success = ld.success;
	out->failure = ld.failure;
	snprintf(contact, sizeof(contact), "postmaster@%s", cfg->hostname);
	snprintf(from, sizeof(from), "tlsrpt-noreply@%s", cfg->hostname);
	memset(&rep, 0, sizeof(rep));
	rep.org_name = cfg->tls_rpt_org_name != NULL ? cfg->tls_rpt_org_name :
	    cfg->hostname;
	rep.contact = cfg->tls_rpt_contact != NULL ? cfg->tls_rpt_contact :
	    contact;
	rep.report_id = out->report_id;
	rep.start = start;
	rep.end = start + 86400;
	rep.pol = ld.pol;
	rep.npol = ld.npol;
	buf_init(&json, RPT_JSON_MAX);
	buf_init(&gz, RPT_JSON_MAX);
	if (tls_rpt_report_json(&rep, &json) < 0 ||
	    tls_rpt_gzip(json.data, json.len, &gz) < 0) {
		snprintf(out->detail, sizeof(out->detail), "report too large");
		goto finish;
	}
	memset(&mail, 0, sizeof(mail));
	mail.from = cfg->tls_rpt_from != NULL ? cfg->tls_rpt_from : from;
	mail.submitter = cfg->hostname;
	mail.policy_domain = domain;
	mail.report_id = out->report_id;
	mail.start = rep.start;
	mail.end = rep.end;
	mail.now = (long long)time(NULL);
	mail.gz = gz.data;
	mail.gzlen = gz.len;
	for (i = 0; i < txt.nrua; i++) {
		const struct tls_rpt_rua *u = &txt.rua[i];
		size_t l = strlen(ruas);

		snprintf(ruas + l, sizeof(ruas) - l, "%s%s", l ? "\n" : "",
		    u->uri);
		out->nrua++;
		if (u->kind == TLS_RPT_URI_MAILTO)
			r = send_mail(s, u, &mail, why, sizeof(why));
		else
			r = send_https(s, u->uri, gz.data, gz.len, why,
			    sizeof(why));
		if (r == 0)
			out->nok++;
		detail_add(out, u->uri, why);
	}
	out->status = out->nok == out->nrua ? "sent" : out->nok > 0 ?
	    "partial" : "failed";
finish:
	buf_free(&json);
	buf_free(&gz);
	tls_rpt_loaded_free(&ld);
	return tls_rpt_db_finish(s->db, domain, day, out->status, ruas,
	    out->detail, err_out);
}
