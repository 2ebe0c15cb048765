/*
 * fuzz_config.c - libFuzzer target for config_load_string().
 *
 * Any bytes must give a config or a "NAME:LINE: reason" error, never a
 * crash, leak or hang. Values naming files (cert, key) open real paths;
 * that is fine: only regular files of bounded size are read.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_config *cfg;
	char *err = NULL, *ci;

	cfg = config_load_string("fuzz.conf", (const char *)data, size, &err);
	if (cfg != NULL) {
		if (err != NULL)
			__builtin_trap();
		ci = config_conninfo(cfg);
		xfree(ci);
		config_free(&cfg);
		if (cfg != NULL)
			__builtin_trap();
	} else {
		/* every error names the file */
		if (err == NULL || strncmp(err, "fuzz.conf:", 10) != 0)
			__builtin_trap();
		xfree(err);
	}
	return 0;
}
