/*
 * tls_rpt.h - SMTP TLS Reporting (RFC 8460), the pure parts: the
 * _smtp._tls TXT record, the JSON aggregate report, the report mail and
 * gzip. No I/O, no logging (parsers are fuzzed: tests/fuzz/
 * fuzz_tls_rpt_txt.c). Counting sessions is db/tls_rpt_db.h; looking up
 * and sending reports is gateway/tls_rpt_send.h.
 */
#ifndef SEALGATE_TLS_RPT_H
#define SEALGATE_TLS_RPT_H

#include <stddef.h>

#include "lib/buf.h"

struct dns_rrset;

/* policy-type (RFC 8460 4.3) */
enum tls_rpt_policy {
	TLS_RPT_POLICY_STS = 0,		/* "sts": an MTA-STS policy applied */
	TLS_RPT_POLICY_TLSA,		/* "tlsa": DANE TLSA records applied */
	TLS_RPT_POLICY_NONE,		/* "no-policy-found" */
};

/* result-type (RFC 8460 4.3), TLS_RPT_SUCCESS for a good session */
enum tls_rpt_result {
	TLS_RPT_SUCCESS = 0,
	TLS_RPT_STARTTLS_NOT_SUPPORTED,	/* "starttls-not-supported" */
	TLS_RPT_CERT_HOST_MISMATCH,	/* "certificate-host-mismatch" */
	TLS_RPT_CERT_EXPIRED,		/* "certificate-expired" */
	TLS_RPT_CERT_NOT_TRUSTED,	/* "certificate-not-trusted" */
	TLS_RPT_VALIDATION_FAILURE,	/* "validation-failure" */
	TLS_RPT_TLSA_INVALID,		/* "tlsa-invalid" */
	TLS_RPT_DNSSEC_INVALID,		/* "dnssec-invalid" */
	TLS_RPT_DANE_REQUIRED,		/* "dane-required" */
	TLS_RPT_STS_POLICY_FETCH_ERROR,	/* "sts-policy-fetch-error" */
	TLS_RPT_STS_POLICY_INVALID,	/* "sts-policy-invalid" */
	TLS_RPT_STS_WEBPKI_INVALID,	/* "sts-webpki-invalid" */
	TLS_RPT_NRESULTS
};

/* "sts", "tlsa", "no-policy-found"; parse: 0 / -1 */
const char *tls_rpt_policy_name(enum tls_rpt_policy p);
int tls_rpt_policy_parse(const char *s, enum tls_rpt_policy *out);
/* the RFC names above ("" for success); parse: 0 / -1 ("" is success) */
const char *tls_rpt_result_name(enum tls_rpt_result r);
int tls_rpt_result_parse(const char *s, enum tls_rpt_result *out);

struct smtpc_result;

/*
 * tls_rpt_classify - the result type of one delivery session for the
 * report (pure), from smtp_conn_open()'s result: TLS completed (and, at
 * verify/dane, verified) is success; STARTTLS not offered or refused:
 * starttls-not-supported; a certificate that failed verification:
 * certificate-expired, certificate-host-mismatch or
 * certificate-not-trusted (validation-failure for a DANE mismatch or
 * anything else); any other TLS failure: validation-failure. A session
 * that never got to STARTTLS (no connection, 4xx greeting) is not a TLS
 * session: -1, record nothing.
 */
int tls_rpt_classify(const struct smtpc_result *res,
    enum tls_rpt_result *out);

/* --- the _smtp._tls TXT record (RFC 8460 3) --- */

#define TLS_RPT_RUA_MAX		8	/* more URIs are ignored */
#define TLS_RPT_URI_MAX		512	/* a longer URI is ignored */
#define TLS_RPT_TXT_MAX		4096	/* a longer record is invalid */

enum tls_rpt_uri_kind {
	TLS_RPT_URI_MAILTO = 0,
	TLS_RPT_URI_HTTPS,
};

struct tls_rpt_rua {
	enum tls_rpt_uri_kind kind;
	char uri[TLS_RPT_URI_MAX + 1];	/* as in the record */
	char addr[TLS_RPT_URI_MAX + 1];	/* mailto: the address, decoded */
};

struct tls_rpt_txt {
	struct tls_rpt_rua rua[TLS_RPT_RUA_MAX];
	size_t nrua;			/* usable URIs */
	size_t nignored;		/* other schemes, bad or too many */
};

/*
 * tls_rpt_txt_record_parse - one record's text (the character-strings of
 * one TXT RR joined), len bytes. Strict RFC 8460 3 ABNF: "v=TLSRPTv1"
 * first (case-sensitive), fields separated by ';' with optional SP/HTAB
 * around it, an optional ';' at the end, exactly one "rua=" with one or
 * more URIs separated by ',' (optional SP/HTAB around it), extensions
 * name=value. URIs of schemes other than mailto: and https:, malformed
 * mailto: addresses and https: URIs without a host are ignored (counted
 * in nignored). 0 with *out (at least one usable URI), -1 with why.
 */
int tls_rpt_txt_record_parse(const char *txt, size_t len,
    struct tls_rpt_txt *out, char *why, size_t whysz);

/*
 * tls_rpt_txt_select - the TLS-RPT policy from the _smtp._tls TXT RRset:
 * records not starting with "v=TLSRPTv1" are discarded; exactly one must
 * remain (RFC 8460 3). 1 with *out, 0 no TLS-RPT record, -1 unusable
 * (several records, malformed, bad character-strings) with why.
 */
int tls_rpt_txt_select(const struct dns_rrset *rr, struct tls_rpt_txt *out,
    char *why, size_t whysz);

/* tls_rpt_txt_join - the character-strings of one TXT RDATA joined into
 * out (NUL-terminated, at most outsz - 1 bytes); *len_out its length.
 * 0, -1 malformed or longer than outsz - 1. */
int tls_rpt_txt_join(const unsigned char *rd, size_t rdlen, char *out,
    size_t outsz, size_t *len_out);

/* --- the aggregate report (RFC 8460 4.3) --- */

struct tls_rpt_failure {
	const char *result_type;	/* an RFC name, not "" */
	const char *sending_ip;		/* "" / NULL: omitted */
	const char *receiving_mx;
	const char *receiving_ip;
	const char *failure_code;	/* failure-reason-code */
	long long count;
};

struct tls_rpt_policy_report {
	enum tls_rpt_policy type;
	const char *policy_domain;
	const char *policy_string;	/* lines, LF-separated; NULL none */
	const char *mx_patterns;	/* LF-separated; NULL none */
	long long success;
	long long failure;
	const struct tls_rpt_failure *fail;
	size_t nfail;
};

struct tls_rpt_report {
	const char *org_name;
	const char *contact;
	const char *report_id;
	long long start;		/* unix time: the day's 00:00:00Z */
	long long end;			/* start + 86400 */
	const struct tls_rpt_policy_report *pol;
	size_t npol;
};

/* tls_rpt_report_json - the report as RFC 8460 4.3 JSON (end-datetime
 * is end - 1 s, 23:59:59Z as in the RFC's example). 0 / -1 (b full). */
int tls_rpt_report_json(const struct tls_rpt_report *r, struct buf *b);

/* tls_rpt_gzip - in[0..len) gzip-compressed (RFC 1952) into out
 * (appended). 0 / -1. */
int tls_rpt_gzip(const void *in, size_t len, struct buf *out);

/* The report mail (RFC 8460 5.3). */
struct tls_rpt_mail {
	const char *from;		/* address */
	const char *to;			/* address (from a mailto: rua) */
	const char *submitter;		/* our host name */
	const char *policy_domain;
	const char *report_id;
	long long start, end;		/* the report's range, unix time */
	long long now;			/* Date: */
	const char *message_id;		/* unique local part for Message-ID */
	const void *gz;			/* the gzipped JSON */
	size_t gzlen;
};

/*
 * tls_rpt_mail_build - the whole message (CRLF lines): From, To, Date,
 * Subject "Report Domain: D Submitter: S Report-ID: <ID>",
 * TLS-Report-Domain, TLS-Report-Submitter, MIME-Version,
 * Content-Type: multipart/report; report-type="tlsrpt", a text/plain
 * part and the application/tlsrpt+gzip part (base64, 76-column lines)
 * named "S!D!start!end!id.json.gz". Header values are checked: -1 when
 * one holds a control character or is not a host name/address as
 * expected, or out is full.
 */
int tls_rpt_mail_build(const struct tls_rpt_mail *m, struct buf *out);

/* tls_rpt_filename - "submitter!domain!start!end!uniq.json.gz" into out */
int tls_rpt_filename(const struct tls_rpt_mail *m, char *out, size_t outsz);

#endif
