/*
 * web_limits.h - every ceiling of the web role (portal) in one place.
 * Runtime-configurable ones (portal_threads, portal_reply_max, ...) are
 * config keys; these are the fixed ones.
 */
#ifndef SEALGATE_WEB_LIMITS_H
#define SEALGATE_WEB_LIMITS_H

/* connections (libmicrohttpd daemon options) */
#define WEB_CONN_MAX		1024	/* per daemon */
#define WEB_CONN_PER_IP_MAX	64	/* per client address (HTTPS daemon;
					 * behind a proxy every peer is it) */
#define WEB_CONN_MEMORY		(64 * 1024)	/* request line + headers */
#define WEB_CONN_TIMEOUT	60	/* seconds without traffic */

/* request parts */
#define WEB_FORM_MAX		(16 * 1024)	/* urlencoded forms */
#define WEB_FORM_FIELDS_MAX	16	/* fields in any form */
#define WEB_REPLY_FILES_MAX	20	/* attachments in one reply */
#define WEB_REPLY_TEXT_MAX	(1024 * 1024)	/* reply body text */
#define WEB_COOKIE_HDR_MAX	8192	/* all Cookie headers together */
#define WEB_XFF_MAX		2048	/* X-Forwarded-For considered */
#define WEB_XFF_HOPS_MAX	16	/* addresses walked in it */

/* values */
#define WEB_EMAIL_MAX		254	/* RFC 5321 path less the brackets */
#define WEB_PASSWORD_MIN	10	/* characters (code points) */
#define WEB_PASSWORD_MAX	1024	/* bytes */
#define WEB_FILENAME_MAX	200	/* bytes of a served/sent file name */
#define WEB_PAGE_MAX		(8u * 1024 * 1024)	/* one rendered page */

/* message display */
#define WEB_MIME_PARTS_MAX	256	/* leaf parts walked */
#define WEB_MIME_DEPTH_MAX	16	/* multipart nesting */
#define WEB_SUMMARY_CACHE	4096	/* inbox header summaries kept */

/* timers */
#define WEB_PURGE_INTERVAL	600	/* escrow_purge_expired(), seconds */
#define WEB_PRE_TTL		3600	/* sg_pre cookie and its CSRF token */
#define WEB_THROTTLE_WINDOW	900	/* failures counted within 15 min */
#define WEB_RESET_PER_HOUR	3	/* reset mails per account per hour */
#define WEB_STOP_GRACE		10	/* seconds for requests at shutdown */

#endif
