/*
 * dsn.h - delivery status notifications (RFC 3464 multipart/report with
 * RFC 3462/6522 report type delivery-status) for bounced recipients.
 * Pure: builds the message bytes; the caller queues them with a null
 * envelope sender to the original sender (a bounce is never bounced:
 * the caller must not call this for a message whose sender is <>).
 */
#ifndef SEALGATE_DSN_H
#define SEALGATE_DSN_H

#include <stddef.h>

#include "lib/buf.h"

struct dsn_rcpt {
	const char *rcpt;		/* final recipient */
	const char *status;		/* "5.1.1" (enhanced code) */
	const char *diagnostic;		/* remote reply, "smtp; 550 ..." form
					 * is built here; NULL if local */
	const char *remote_mta;		/* MX host name or NULL */
	const char *reason;		/* human text for the first part */
};

struct dsn_info {
	const char *reporting_mta;	/* our host name */
	const char *queue_id;		/* original queue id */
	const char *sender;		/* the original envelope sender */
	long long arrival;		/* original arrival, unix time */
	long long now;			/* time of the report */
	const char *original;		/* the original message */
	size_t original_len;
	const char *boundary_seed;	/* unique text for the MIME boundary */
};

/* Append the DSN to out. 0 ok, -1 out full. Only the original's header
 * section is returned (text/rfc822-headers), never its body. */
int dsn_build(const struct dsn_info *info, const struct dsn_rcpt *r,
    size_t nr, struct buf *out);

#endif
