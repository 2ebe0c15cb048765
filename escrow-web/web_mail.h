/*
 * web_mail.h - the secure reply a recipient writes in the portal, as a
 * complete message (headers and MIME body, CRLF lines, 7-bit clean),
 * ready for escrow_queue_mail(). (The automatic notices, reset link
 * and read notice, are built with escrow_mail_build().)
 *
 * Pure: no I/O, no logging; the caller passes the time and the
 * Message-ID domain, the random part comes from token_new().
 */
#ifndef SEALGATE_WEB_MAIL_H
#define SEALGATE_WEB_MAIL_H

#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

#define WEB_MAIL_MAX	(128u * 1024 * 1024)	/* composed message */

struct web_mail_file {
	const char *name;	/* as uploaded; cleaned here */
	const char *type;	/* as uploaded ("type/subtype"), or NULL */
	const char *data;
	size_t len;
};

struct web_reply {
	const char *from;	/* the recipient replying (our user) */
	const char *to;		/* the original envelope sender */
	const char *subject;	/* original Subject, decoded; NULL: none */
	const char *in_reply_to; /* original Message-ID without <>; NULL */
	const char *const *refs; /* original References, oldest first */
	size_t nrefs;
	const char *text;	/* the reply text, UTF-8 (CRLF or LF) */
	const struct web_mail_file *files;
	size_t nfiles;
	const char *msgid_domain; /* right of '@' in our Message-ID */
	time_t date;
};

/*
 * web_mail_reply - append the reply to out: From, To, Subject
 * "Re: SUBJECT" (kept as is when it already starts with "Re:"),
 * Date, Message-ID, In-Reply-To and References (the original's
 * References plus its Message-ID) when the original had an id, and a
 * multipart/mixed body: the text as text/plain UTF-8 quoted-printable,
 * then each file base64 with "Content-Disposition: attachment" and its
 * cleaned name (RFC 2231 encoded when not ASCII) and its type when
 * that is a well-formed type/subtype (else application/octet-stream).
 * 0 ok; -1 with *err_out set (bad address, out full), out unchanged.
 */
int web_mail_reply(const struct web_reply *r, struct buf *out,
    char **err_out);

#endif
