/*
 * web_mime.h - an escrowed message as the portal shows it: header
 * summary, the text body, the HTML body, and the attachments.
 *
 * Part selection (the message's MIME tree walked in order, at most
 * WEB_MIME_DEPTH_MAX deep and WEB_MIME_PARTS_MAX leaves):
 *   - the first text/plain leaf not marked "Content-Disposition:
 *     attachment" is the text body, the first such text/html leaf the
 *     HTML body;
 *   - every other leaf is an attachment: marked as one, any non-text
 *     part (images, PDFs, signatures, encrypted blobs), a second text
 *     body, and message/rfc822 parts (not opened: served whole);
 *   - multiparts of any subtype (mixed, alternative, related, signed,
 *     encrypted) are walked into.
 * Text is converted to UTF-8 from its declared charset by GMime; what
 * remains invalid becomes U+FFFD.
 *
 * Pure: bytes in, strings out; no I/O, no logging. Thread-safe (GMime
 * is initialised once).
 */
#ifndef SEALGATE_WEB_MIME_H
#define SEALGATE_WEB_MIME_H

#include <stddef.h>

#include "lib/buf.h"

struct web_att {
	char *filename;		/* cleaned (web_disp_clean_name), UTF-8 */
	char *type;		/* "type/subtype" lower case, as declared */
	char *charset;		/* declared charset parameter, or NULL */
	size_t size;		/* decoded bytes */
};

struct web_msg;

/* web_mime_init - initialise GMime once per process (thread-safe; every
 * function here and in web_mail.c calls it; the web role calls it
 * before its threads start) */
void web_mime_init(void);

/* web_msg_parse - parse a whole message. Returns a new object
 * (web_msg_free()) or NULL with *err_out set (xfree()). */
struct web_msg *web_msg_parse(const char *data, size_t len, char **err_out);

/* web_msg_parse_headers - only the header section (the inbox): bodies
 * and attachments are then empty. */
struct web_msg *web_msg_parse_headers(const char *data, size_t len,
    char **err_out);

void web_msg_free(struct web_msg **mp);

/* Header summary; strings owned by the message, NULL when absent.
 * Decoded (RFC 2047) UTF-8 with control characters turned into
 * spaces, so they are safe to put into a new header. */
const char *web_msg_from(const struct web_msg *m);	/* "Name <a@b>" */
const char *web_msg_subject(const struct web_msg *m);
const char *web_msg_date(const struct web_msg *m);	/* "Y-m-d H:M UTC" */
const char *web_msg_message_id(const struct web_msg *m); /* no <> */
/* References of the message (ids without <>), oldest first */
size_t web_msg_nrefs(const struct web_msg *m);
const char *web_msg_ref(const struct web_msg *m, size_t i);

/* the bodies, UTF-8, NULL if the message has none */
const char *web_msg_text(const struct web_msg *m);
const char *web_msg_html(const struct web_msg *m);

size_t web_msg_natt(const struct web_msg *m);
const struct web_att *web_msg_att(const struct web_msg *m, size_t i);
/* web_msg_att_data - append attachment i's decoded bytes to out.
 * 0 ok; -1 no such attachment or out full. */
int web_msg_att_data(const struct web_msg *m, size_t i, struct buf *out);

/* web_html_remote_images - 1 if html (NUL-terminated) would load
 * something from the network when allowed: an http(s) or
 * protocol-relative URL in a src, srcset, background or poster
 * attribute or in a CSS url(); else 0. A hint for the "Show images"
 * link only: the frame's CSP blocks such loads either way. */
int web_html_remote_images(const char *html);

#endif
