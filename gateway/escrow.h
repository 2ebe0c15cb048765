/*
 * escrow.h - the escrow store (docs/portal.md): a message for a
 * recipient no confidential method reaches is stored sealed in
 * PostgreSQL, and the recipient gets a notification mail with a portal
 * link (an enrollment link until they have set a password).
 *
 * Layers:
 *  - pure builders (escrow_mail_build, escrow_notify_build,
 *    escrow_header_append, escrow_time_text): bytes in, bytes out, no
 *    I/O, unit-tested;
 *  - the store (escrow_deposit, escrow_queue_mail, escrow_purge_expired):
 *    database work through db/escrow_db.h;
 *  - configuration helpers (escrow_master_load, escrow_portal_url, ...)
 *    shared with the web role.
 * Nothing here logs: errors come back as a reason for the caller to log.
 */
#ifndef SEALGATE_ESCROW_H
#define SEALGATE_ESCROW_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct db;
struct seal_master;
struct sg_config;
struct tmpl_vars;

#define ESCROW_SUBJECT_MAX	200	/* bytes of the original Subject shown */
#define ESCROW_NAME_MAX		100	/* bytes of the sender's display name */
#define ESCROW_MAIL_MAX		(1024 * 1024)	/* a built notification */
#define ESCROW_TIME_TEXT_MAX	32	/* "2025-12-31 17:00 UTC" + NUL */
#define ESCROW_BOUNDARY_MAX	80	/* boundary_seed, bytes */

/*
 * Our notifications carry this header. escrow_deposit() refuses (-1) a
 * message that has it, so a rule that escrows the recipient's domain
 * cannot make a notification escrow itself forever.
 */
#define ESCROW_MARK_HEADER	"X-Sealgate-Escrow"
#define ESCROW_MARK_VALUE	"notification"

/* ------------------------------------------------------------- deposit */

struct escrow_item {
	const char *queue_id;		/* messages.id of the original */
	int64_t recipient_id;		/* recipients.id (> 0) */
	const char *sender;		/* envelope sender, "" for <> */
	const char *rcpt;		/* the recipient's address */
	const char *msg;		/* the message as it would have been
					 * delivered (tag removed) */
	size_t len;
};

/*
 * escrow_deposit - store it->msg sealed for it->rcpt and queue the
 * notification, all in ONE transaction: the escrow_users row (created if
 * missing), the escrow_messages row (id = token_new(), sealed =
 * seal(m, msg, aad = id), expires now + escrow_retention, recall_hash),
 * an "enroll" token (hash only; expires now + escrow_link_ttl) when the
 * user has no password yet, the notification (messages + recipients +
 * NOTIFY sealgate_queue; envelope sender = the original's envelope
 * sender, so a bounce of the notification tells the sender), the
 * sender's receipt (templates receipt*.txt/html: "delivered to the
 * portal, withdraw it until read: PORTAL_URL/recall?t=TOKEN"; only the
 * token's hash is stored, in escrow_messages.recall_hash; envelope
 * sender <>; none for the null sender or a sender that is no usable
 * address), audit row "deposit".
 *
 * Idempotent on (queue_id, recipient_id): when the copy exists already
 * (a retry after a crash or a lost COMMIT), returns 0 and changes
 * nothing, no second notification.
 *
 * Returns 0 stored (notification queued), -2 transient (database,
 * templates, randomness: retry later, nothing half-written), -1
 * permanent (the item cannot be escrowed: bad address, too large, an
 * escrow notification itself). why (whylen bytes) gets a short reason,
 * never message content or a token.
 */
int escrow_deposit(struct db *db, const struct sg_config *cfg,
    const struct seal_master *m, const struct escrow_item *it, char *why,
    size_t whylen);

/*
 * escrow_queue_mail - queue a mail the escrow side built (portal replies,
 * reset links, read notices): messages row (with tls_required) + one
 * recipient + NOTIFY, in one transaction; the new queue id is written to
 * queue_id_out (QUEUE_ID_SIZE bytes). data: the whole message, CRLF
 * lines. 0 / -1 (bad input, hard error) / -2 transient, *err_out set
 * (xfree()).
 */
int escrow_queue_mail(struct db *db, const char *mail_from, const char *rcpt,
    const char *data, size_t len, int tls_required, char *queue_id_out,
    char **err_out);

/*
 * escrow_purge_expired - wipe the content of every expired message (sealed
 * emptied, purged_at set, audit "purge"); *n how many. 0 / -1 / -2 with
 * *err set (xfree()). The web role runs it on a timer, the CLI on demand.
 */
int escrow_purge_expired(struct db *db, long *n, char **err);

/* ------------------------------------------------------ configuration */

/* escrow_master_path - escrow_master_key_file, else STATE_DIR/escrow.key.
 * New string (xfree()). */
char *escrow_master_path(const struct sg_config *cfg);

/* escrow_master_load - seal_master_load() of escrow_master_path(): NULL
 * with *err_out (names the path, never the content) when the file is
 * missing, unreadable, badly formed, or open to group or others. */
struct seal_master *escrow_master_load(const struct sg_config *cfg,
    char **err_out);

/* escrow_portal_url - portal_url without a trailing '/', else
 * https://HOSTNAME[:PORT] of the first portal_listen (no :443).
 * New string (xfree()). */
char *escrow_portal_url(const struct sg_config *cfg);

/* escrow_from_address - escrow_from, else secure-mail@HOSTNAME.
 * New string (xfree()). */
char *escrow_from_address(const struct sg_config *cfg);

/* escrow_org_name - escrow_org_name, else HOSTNAME. Points into cfg. */
const char *escrow_org_name(const struct sg_config *cfg);

/*
 * escrow_brand_vars - set org_name, support (when configured), logo_url
 * (when configured and https://), color_accent (escrow_color) and
 * color_accent_text (black or white, whichever reads better on it):
 * the variables every mail template and portal page shares.
 * 0 / -1 (a value refused by tmpl_set()).
 */
int escrow_brand_vars(const struct sg_config *cfg, struct tmpl_vars *v);

/* -------------------------------------------------------------- pure */

/* escrow_time_text - t as "2025-12-31 17:00 UTC" into out */
void escrow_time_text(long long t, char out[ESCROW_TIME_TEXT_MAX]);

/*
 * escrow_header_append - append "Name: value\r\n" for an unstructured
 * header (Subject): printable ASCII folded at spaces near 78 columns;
 * anything else (non-ASCII, control characters, a "=?" that a reader
 * would decode) as RFC 2047 UTF-8 "B" encoded words of at most 75
 * characters, never splitting a character, one per folded line.
 * Invalid UTF-8 becomes U+FFFD, CR and LF become spaces: the result is
 * always one header field. 0 / -1 out full.
 */
int escrow_header_append(struct buf *out, const char *name,
    const char *utf8);

struct escrow_mail {
	const char *from_addr;		/* addr-spec */
	const char *from_name;		/* display name (UTF-8) or NULL */
	const char *to_addr;		/* addr-spec */
	const char *to_name;		/* display name (UTF-8) or NULL */
	const char *subject;		/* UTF-8, one line */
	const char *text;		/* text/plain body, UTF-8, '\n' or
					 * CRLF lines */
	size_t text_len;
	const char *html;		/* text/html alternative, or NULL */
	size_t html_len;
	const char *message_id;		/* "left@right", without <> */
	const char *in_reply_to;	/* "<...>" as found, or NULL */
	const char *boundary_seed;	/* [A-Za-z0-9._-], unique */
	long long date;			/* unix time */
	int auto_generated;		/* Auto-Submitted: auto-generated */
	int mark;			/* ESCROW_MARK_HEADER: notification */
};

/*
 * escrow_mail_build - append a complete message: From, To, Subject (RFC
 * 2047 when needed), Date, Message-ID, MIME-Version, then text/plain
 * alone or multipart/alternative (text, html), each part UTF-8 and
 * quoted-printable (7-bit, short lines; the boundary holds "=_", which
 * quoted-printable never produces). 0, or -1 with *err_out: an address
 * or id with control characters, angle brackets or no '@', a bad
 * boundary seed, out's maximum.
 */
int escrow_mail_build(const struct escrow_mail *m, struct buf *out,
    char **err_out);

struct escrow_notify {
	/* templates (NUL-terminated; see templates/README.md) */
	const char *tmpl_subject;	/* notification_subject.txt: HEADER */
	const char *tmpl_text;		/* notification.txt: TEXT */
	const char *tmpl_html;		/* notification.html: HTML */
	/* template variables */
	const char *sender_address;	/* required */
	const char *sender_name;	/* optional */
	const char *subject;		/* optional; NULL when hidden */
	const char *expires;		/* required, escrow_time_text() */
	const char *link;		/* required, https:// */
	int enroll;			/* the link is an enrollment link */
	const char *recipient;		/* optional: the escrowed message's
					 * recipient (the sender's receipt) */
	const char *org_name;		/* required */
	const char *support;		/* optional */
	const char *logo_url;		/* optional, must be https:// */
	const char *color_accent;	/* required, #rrggbb */
	const char *color_accent_text;	/* required, #rrggbb */
	/* the mail */
	const char *from_addr;		/* escrow_from */
	const char *to_addr;		/* the recipient */
	const char *message_id;
	const char *boundary_seed;
	long long date;
};

/*
 * escrow_notify_build - render the three templates with n's values and
 * append the notification (escrow_mail_build(), auto-generated, marked
 * with ESCROW_MARK_HEADER, From "ORG_NAME <from_addr>"). Values are
 * checked first: a link that is not https://, a logo_url that is not
 * https://, a colour that is not #rrggbb, or a missing required value is
 * refused. sender_name and subject are cut to ESCROW_NAME_MAX and
 * ESCROW_SUBJECT_MAX bytes (at a character boundary, "..." added).
 * 0, or -1 with *err_out (template syntax errors with line and column).
 */
int escrow_notify_build(const struct escrow_notify *n, struct buf *out,
    char **err_out);

#endif
