/*
 * dsn.c - RFC 3464 delivery status notifications.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dsn.h"

static void
rfc5322_date(long long t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, outsz, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* header_section_len - bytes up to and including the empty line */
static size_t
header_section_len(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t ll;
		if (nl == NULL)
			return len;
		ll = (size_t)(nl - (p + i));
		if (ll == 0 || (ll == 1 && p[i] == '\r'))
			return i;	/* stop before the empty line */
		i += ll + 1;
	}
	return len;
}

/* safe_text - append s with CR/LF and non-ASCII turned into spaces/'?' so
 * a remote reply cannot inject header lines into the report */
static int
safe_text(struct buf *out, const char *s)
{
	int r = 0;

	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\r' || c == '\n' || c == '\t')
			c = ' ';
		else if (c < 0x20 || c >= 0x7f)
			c = '?';
		r |= buf_append_char(out, (char)c);
	}
	return r;
}

int
dsn_build(const struct dsn_info *info, const struct dsn_rcpt *rc, size_t nr,
    struct buf *out)
{
	char date[64], arrival[64], boundary[128];
	size_t i, hl;
	int r = 0;

	rfc5322_date(info->now, date, sizeof(date));
	rfc5322_date(info->arrival, arrival, sizeof(arrival));
	snprintf(boundary, sizeof(boundary), "%s/%s", info->boundary_seed,
	    info->reporting_mta);

	r |= buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>"
	    "\r\n", info->reporting_mta);
	r |= buf_append_str(out, "To: <");
	r |= safe_text(out, info->sender);
	r |= buf_append_str(out, ">\r\n");
	r |= buf_printf(out, "Subject: Undelivered Mail Returned to Sender\r\n"
	    "Date: %s\r\nMessage-ID: <%s.dsn@%s>\r\nAuto-Submitted: "
	    "auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: "
	    "multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\""
	    "\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n", date,
	    info->queue_id, info->reporting_mta, boundary);

	/* 1: human-readable */
	r |= buf_printf(out, "--%s\r\nContent-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\nThis is the "
	    "mail system at host %s.\r\n\r\nYour message could not be "
	    "delivered to one or more recipients.\r\n\r\n", boundary,
	    info->reporting_mta);
	for (i = 0; i < nr; i++) {
		r |= buf_append_str(out, "<");
		r |= safe_text(out, rc[i].rcpt);
		r |= buf_append_str(out, ">: ");
		r |= safe_text(out, rc[i].reason != NULL ? rc[i].reason :
		    rc[i].diagnostic);
		r |= buf_append_str(out, "\r\n");
	}

	/* 2: machine-readable (RFC 3464 2.2, 2.3) */
	r |= buf_printf(out, "\r\n--%s\r\nContent-Description: Delivery "
	    "report\r\nContent-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; %s\r\nX-Sealgate-Queue-ID: %s\r\n"
	    "Arrival-Date: %s\r\n", boundary, info->reporting_mta,
	    info->queue_id, arrival);
	for (i = 0; i < nr; i++) {
		r |= buf_append_str(out, "\r\nFinal-Recipient: rfc822; ");
		r |= safe_text(out, rc[i].rcpt);
		r |= buf_printf(out, "\r\nAction: failed\r\nStatus: %s\r\n",
		    rc[i].status);
		if (rc[i].remote_mta != NULL) {
			r |= buf_append_str(out, "Remote-MTA: dns; ");
			r |= safe_text(out, rc[i].remote_mta);
			r |= buf_append_str(out, "\r\n");
		}
		if (rc[i].diagnostic != NULL) {
			r |= buf_append_str(out, "Diagnostic-Code: smtp; ");
			r |= safe_text(out, rc[i].diagnostic);
			r |= buf_append_str(out, "\r\n");
		}
		r |= buf_printf(out, "Last-Attempt-Date: %s\r\n", date);
	}

	/* 3: the original's headers only */
	r |= buf_printf(out, "\r\n--%s\r\nContent-Description: Undelivered "
	    "Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n",
	    boundary);
	hl = header_section_len(info->original, info->original_len);
	r |= buf_append(out, info->original, hl);
	if (hl > 0 && info->original[hl - 1] != '\n')
		r |= buf_append_str(out, "\r\n");
	r |= buf_printf(out, "\r\n--%s--\r\n", boundary);
	return r ? -1 : 0;
}
