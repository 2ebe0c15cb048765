/*
 * fuzz_subject_tag.c - libFuzzer target for subject_tag_find() and
 * subject_tag_strip().
 *
 * Any bytes: no crash, leak or hang; find and strip agree on what is
 * malformed; the stripped message parses again, no longer carries the
 * tag (Subject or X-Sealgate-Escalate), and grows by a bounded amount.
 * The first input byte picks the tag.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "subject_tag.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tags[] = { "[secure]", "[escrow]", "[encrypt]",
    "re:" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg, *tag;
	const char *one[1];
	struct buf out;
	size_t which = 0, len;
	char *dec = NULL, *err = NULL;
	int r, s;

	if (size < 1)
		return 0;
	tag = tags[data[0] % 4];
	msg = (const char *)data + 1;
	len = size - 1;
	r = subject_tag_find(msg, len, tags, 4, &which, &dec);
	if (r == 1 && which >= 4)
		__builtin_trap();
	if (r < 0 && dec != NULL)
		__builtin_trap();
	xfree(dec);

	/* Q encoding of a decoded byte: at most ~4 output bytes per input
	 * byte (raw 8-bit Latin-1 decodes to 2 UTF-8 bytes, each =XX) */
	buf_init(&out, 16 * len + 4096);
	s = subject_tag_strip(msg, len, tag, &out, &err);
	if ((s < 0) != (err != NULL) || (s < 0) != (r < 0))
		__builtin_trap();
	if (s == 0) {
		if (out.len > 16 * len + 256)
			__builtin_trap();
		one[0] = tag;
		if (subject_tag_find(out.data, out.len, one, 1, &which,
		    NULL) != 0)
			__builtin_trap();
	}
	xfree(err);
	buf_free(&out);
	return 0;
}
