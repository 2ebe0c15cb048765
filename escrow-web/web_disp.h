/*
 * web_disp.h - file names and content types of attachments: the names
 * we serve (Content-Disposition, RFC 6266) and the names we send in a
 * reply, and the only content types we let a browser see.
 *
 * Pure: no I/O, no logging.
 */
#ifndef SEALGATE_WEB_DISP_H
#define SEALGATE_WEB_DISP_H

#include "lib/buf.h"

#define WEB_DISP_OCTET	"application/octet-stream"

/*
 * web_disp_clean_name - a safe file name from an untrusted one (mail
 * header, browser upload), appended to out as UTF-8: invalid UTF-8
 * becomes U+FFFD, control characters (C0, DEL, C1) and the characters
 * Windows forbids (<>:"/\|?*) are dropped or replaced, only the part
 * after the last '/' or '\' is kept, leading dots and blanks and
 * trailing dots and blanks go, and the result is cut to
 * WEB_FILENAME_MAX bytes on a character boundary, keeping a short
 * extension. An empty result becomes fallback.
 * 0 ok; -1 out full (out unchanged).
 */
int web_disp_clean_name(const char *name, const char *fallback,
    struct buf *out);

/*
 * web_disp_attachment - append a Content-Disposition value for a
 * download of name (already cleaned, UTF-8):
 *   attachment; filename="ASCII"; filename*=UTF-8''PCT
 * ASCII: every non-ASCII character and '"', '\', '%', ';' become '_';
 * PCT: the UTF-8 bytes percent-encoded outside RFC 8187 attr-char.
 * 0 ok; -1 out full (out unchanged).
 */
int web_disp_attachment(const char *name, struct buf *out);

/*
 * web_disp_content_type - append the Content-Type to serve a part of
 * type type/subtype (any case; NULL or junk allowed) with charset
 * (NULL if none): the type lower-cased when it is on the safe list
 * (documents, images and media browsers do not run as active content),
 * with "; charset=X" for text types when charset is a plain token;
 * else application/octet-stream. 0 ok; -1 out full.
 */
int web_disp_content_type(const char *type, const char *charset,
    struct buf *out);

/* web_disp_type_safe - 1 if type (lower case "type/subtype") is on
 * the safe list, else 0 */
int web_disp_type_safe(const char *type);

#endif
