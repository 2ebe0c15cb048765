/*
 * subject_tag.h - escalation tags in the Subject ("[secure] ...") and the
 * X-Sealgate-Escalate header: find them, and strip them before delivery.
 *
 * Pure: bytes in, a verdict or a rewritten message out; no I/O, no logging.
 * The tag list (tag -> action) belongs to the policy engine; this module
 * only matches and removes tags.
 */
#ifndef SEALGATE_SUBJECT_TAG_H
#define SEALGATE_SUBJECT_TAG_H

#include <stddef.h>

#include "lib/buf.h"

#define SUBJECT_TAG_HEADER_MAX	(1024 * 1024)	/* header section */
#define SUBJECT_TAG_SUBJECT_MAX	(64 * 1024)	/* Subject, decoded */
/* raw (encoded) Subject: room for our own Q encoding of the decoded cap */
#define SUBJECT_TAG_RAW_MAX	(4 * SUBJECT_TAG_SUBJECT_MAX)
#define SUBJECT_TAG_FOLD	78		/* RFC 5322 2.1.1 */
#define SUBJECT_TAG_ESCALATE	"X-Sealgate-Escalate"

/*
 * subject_tag_find - which escalation tag, if any, does the message carry?
 *
 * Looks at the first Subject field of the header section (unfolded,
 * RFC 2047 decoded to UTF-8 by GMime; adjacent encoded words join, so a
 * tag split across two of them is found) and at every X-Sealgate-Escalate
 * field (value "secure" or "[secure]", any case). Tags match as ASCII
 * case-insensitive substrings. When several match, the FIRST IN THE tags
 * LIST wins, not the first in the Subject: the caller orders its list by
 * precedence.
 *
 * Returns 1 (*which_out = index into tags), 0 (no tag), -1 (malformed:
 * header section over SUBJECT_TAG_HEADER_MAX without its end, Subject over
 * SUBJECT_TAG_RAW_MAX unfolded or SUBJECT_TAG_SUBJECT_MAX decoded, NUL in
 * the Subject, not decodable to valid UTF-8).
 * which_out and decoded_subject_out may be NULL. *decoded_subject_out is
 * set on 0 and 1: a new UTF-8 string, free with xfree(); NULL when there
 * is no Subject.
 */
int subject_tag_find(const char *msg, size_t len, const char *const *tags,
    size_t ntags, size_t *which_out, char **decoded_subject_out);

/*
 * subject_tag_strip - append the message to out with every occurrence of
 * tag removed from the first Subject, and every X-Sealgate-Escalate field
 * dropped (a control header never leaves the gateway).
 *
 * The new Subject has control characters turned into spaces, runs of
 * spaces collapsed, and is trimmed; it is written as folded plain ASCII
 * (78 columns) when that decodes back to the same text, else with UTF-8
 * RFC 2047 encoded words (at most 75 characters each, never splitting a
 * character) for the words that need them. A Subject without the tag is
 * copied unchanged. All other bytes are copied unchanged.
 *
 * Returns 0, or -1 with *err_out set (free with xfree()) and out left as
 * it was: malformed input (as subject_tag_find), empty tag, out's maximum.
 */
int subject_tag_strip(const char *msg, size_t len, const char *tag,
    struct buf *out, char **err_out);

#endif
