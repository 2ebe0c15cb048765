/*
 * tls_rpt_db.c - TLS-RPT session counts and sent reports (see
 * tls_rpt_db.h). Parameterized SQL only.
 */
#include <stdio.h>
#include <string.h>

#include "lib/numparse.h"
#include "lib/xalloc.h"
#include "tls_rpt_db.h"

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

static int
run(struct db *db, const char *sql, int n, const char *const *p,
    PGresult **res_out, char **err_out)
{
	int transient = 0;
	PGresult *res = db_exec(db, sql, n, p, &transient, err_out);

	if (res == NULL)
		return transient ? -2 : -1;
	if (res_out != NULL)
		*res_out = res;
	else
		PQclear(res);
	return 0;
}

int
tls_rpt_record(struct db *db, const struct tls_rpt_event *ev,
    char **err_out)
{
	char when[24];
	const char *p[10];

	snprintf(when, sizeof(when), "%lld", ev->when);
	p[0] = ev->when > 0 ? when : NULL;
	p[1] = ev->policy_domain;
	p[2] = tls_rpt_policy_name(ev->policy_type);
	p[3] = nz(ev->policy_string);
	p[4] = nz(ev->mx_patterns);
	p[5] = tls_rpt_result_name(ev->result);
	p[6] = nz(ev->mx_host);
	p[7] = nz(ev->receiving_ip);
	p[8] = nz(ev->sending_ip);
	p[9] = nz(ev->failure_code);
	return run(db, "INSERT INTO tls_rpt_counts (day, policy_domain,"
	    " policy_type, policy_string, mx_patterns, result_type,"
	    " receiving_mx, receiving_ip, sending_ip, failure_code, sessions)"
	    " VALUES ((coalesce(to_timestamp($1::bigint), now())"
	    " AT TIME ZONE 'UTC')::date, lower($2), $3, $4, $5, $6,"
	    " lower($7), $8, $9, $10, 1)"
	    " ON CONFLICT (day, policy_domain, policy_type, md5(policy_string),"
	    " md5(mx_patterns), result_type, receiving_mx, receiving_ip,"
	    " sending_ip, failure_code)"
	    " DO UPDATE SET sessions = tls_rpt_counts.sessions + 1", 10, p,
	    NULL, err_out);
}

int
tls_rpt_db_pending(struct db *db, unsigned max_days, struct tls_rpt_day **out,
    size_t *n_out, char **err_out)
{
	char days[16];
	const char *p[1] = { days };
	PGresult *res;
	int r, i, n;

	*out = NULL;
	*n_out = 0;
	snprintf(days, sizeof(days), "%u", max_days);
	r = run(db, "SELECT DISTINCT c.policy_domain, c.day::text"
	    " FROM tls_rpt_counts c"
	    " WHERE c.day < (now() AT TIME ZONE 'UTC')::date"
	    "   AND c.day >= (now() AT TIME ZONE 'UTC')::date - $1::int"
	    "   AND NOT EXISTS (SELECT 1 FROM tls_rpt_reports t"
	    "     WHERE t.policy_domain = c.policy_domain AND t.day = c.day)"
	    " ORDER BY 2, 1", 1, p, &res, err_out);
	if (r < 0)
		return r;
	n = PQntuples(res);
	if (n > 0)
		*out = xcalloc((size_t)n, sizeof(**out));
	for (i = 0; i < n; i++) {
		(*out)[i].domain = xstrdup(PQgetvalue(res, i, 0));
		snprintf((*out)[i].day, sizeof((*out)[i].day), "%s",
		    PQgetvalue(res, i, 1));
	}
	*n_out = (size_t)n;
	PQclear(res);
	return 0;
}

void
tls_rpt_days_free(struct tls_rpt_day **dp, size_t n)
{
	size_t i;

	if (*dp == NULL)
		return;
	for (i = 0; i < n; i++)
		xfree((*dp)[i].domain);
	xfree(*dp);
	*dp = NULL;
}

int
tls_rpt_db_claim(struct db *db, const char *domain, const char *day,
    const char *report_id, char **err_out)
{
	const char *p[3] = { domain, day, report_id };
	PGresult *res;
	int r, n;

	r = run(db, "INSERT INTO tls_rpt_reports (policy_domain, day,"
	    " report_id) VALUES ($1, $2::date, $3)"
	    " ON CONFLICT (policy_domain, day) DO UPDATE"
	    " SET report_id = EXCLUDED.report_id, claimed_at = now()"
	    " WHERE tls_rpt_reports.status = 'sending'"
	    "   AND tls_rpt_reports.claimed_at < now() - interval '1 hour'"
	    " RETURNING report_id", 3, p, &res, err_out);
	if (r < 0)
		return r;
	n = PQntuples(res);
	PQclear(res);
	return n > 0;
}

int
tls_rpt_db_release(struct db *db, const char *domain, const char *day,
    char **err_out)
{
	const char *p[2] = { domain, day };

	return run(db, "DELETE FROM tls_rpt_reports WHERE policy_domain = $1"
	    " AND day = $2::date AND status = 'sending'", 2, p, NULL,
	    err_out);
}

int
tls_rpt_db_finish(struct db *db, const char *domain, const char *day,
    const char *status, const char *rua, const char *detail,
    char **err_out)
{
	const char *p[5] = { domain, day, status, rua, detail };

	return run(db, "UPDATE tls_rpt_reports SET status = $3, rua = $4,"
	    " detail = $5, finished_at = now() WHERE policy_domain = $1"
	    " AND day = $2::date", 5, p, NULL, err_out);
}

int
tls_rpt_db_load(struct db *db, const char *domain, const char *day,
    struct tls_rpt_loaded *out, char **err_out)
{
	const char *p[2] = { domain, day };
	PGresult *res;
	int r, i, n;
	struct tls_rpt_policy_report *cur = NULL;

	memset(out, 0, sizeof(*out));
	r = run(db, "SELECT policy_type, policy_string, mx_patterns,"
	    " result_type, receiving_mx, receiving_ip, sending_ip,"
	    " failure_code, sessions FROM tls_rpt_counts"
	    " WHERE policy_domain = $1 AND day = $2::date"
	    " ORDER BY policy_type, policy_string, mx_patterns, result_type,"
	    " receiving_mx, receiving_ip, sending_ip, failure_code", 2, p,
	    &res, err_out);
	if (r < 0)
		return r;
	n = PQntuples(res);
	out->res = res;
	if (n == 0)
		return 0;
	out->pol = xcalloc((size_t)n, sizeof(*out->pol));
	out->fail = xcalloc((size_t)n, sizeof(*out->fail));
	for (i = 0; i < n; i++) {
		const char *type = PQgetvalue(res, i, 0);
		const char *ps = PQgetvalue(res, i, 1);
		const char *mxp = PQgetvalue(res, i, 2);
		const char *rt = PQgetvalue(res, i, 3);
		enum tls_rpt_policy pt;
		uint64_t cnt = 0;

		if (tls_rpt_policy_parse(type, &pt) < 0)
			pt = TLS_RPT_POLICY_NONE;
		(void)num_parse_u64_str(PQgetvalue(res, i, 8), 0, INT64_MAX,
		    &cnt);
		if (cur == NULL || cur->type != pt ||
		    strcmp(cur->policy_string, ps) != 0 ||
		    strcmp(cur->mx_patterns, mxp) != 0) {
			cur = &out->pol[out->npol++];
			cur->type = pt;
			cur->policy_domain = domain;
			cur->policy_string = ps;
			cur->mx_patterns = mxp;
			/* this policy's details start here (rows are sorted) */
			cur->fail = &out->fail[out->nfail];
		}
		if (rt[0] == '\0') {
			cur->success += (long long)cnt;
			out->success += (long long)cnt;
			continue;
		}
		cur->failure += (long long)cnt;
		out->failure += (long long)cnt;
		out->fail[out->nfail].result_type = rt;
		out->fail[out->nfail].receiving_mx = PQgetvalue(res, i, 4);
		out->fail[out->nfail].receiving_ip = PQgetvalue(res, i, 5);
		out->fail[out->nfail].sending_ip = PQgetvalue(res, i, 6);
		out->fail[out->nfail].failure_code = PQgetvalue(res, i, 7);
		out->fail[out->nfail].count = (long long)cnt;
		out->nfail++;
		cur->nfail++;
	}
	return 0;
}

void
tls_rpt_loaded_free(struct tls_rpt_loaded *l)
{
	if (l->res != NULL)
		PQclear(l->res);
	xfree(l->pol);
	xfree(l->fail);
	memset(l, 0, sizeof(*l));
}
