/*
 * fuzz_smtp_addr.c - libFuzzer target for smtp_addr_parse().
 *
 * Input: byte 0 picks MAIL or RCPT; the rest is the argument text, in an
 * exactly sized heap copy (ASan sees any read past it). An accepted path
 * must keep the contract (bounds, NUL, '@' index, parameter slices in the
 * input, nothing 8-bit or control in the address) and must parse again,
 * to the same address, when written back out in canonical form.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp_addr.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static void
check_path(const struct smtp_path *p, const char *args, size_t len)
{
	size_t i, j;

	CHECK(p->addr_len <= SMTP_ADDR_MAX - 2);
	CHECK(p->addr[p->addr_len] == '\0');
	CHECK(p->at <= p->addr_len);
	CHECK(p->at == p->addr_len || p->addr[p->at] == '@');
	for (i = 0; i < p->addr_len; i++) {
		unsigned char c = (unsigned char)p->addr[i];
		CHECK(c >= 0x20 && c < 0x7f);
	}
	CHECK(p->nparams <= SMTP_PARAMS_MAX);
	for (i = 0; i < p->nparams; i++) {
		const struct smtp_param *pp = &p->params[i];

		CHECK(pp->key.len > 0);
		CHECK(pp->key.ptr >= args &&
		    pp->key.ptr + pp->key.len <= args + len);
		CHECK(pp->value.ptr >= args &&
		    pp->value.ptr + pp->value.len <= args + len);
		CHECK(pp->has_value ? pp->value.len > 0 : pp->value.len == 0);
		CHECK(smtp_path_param(p, "") == NULL);
		for (j = 0; j < i; j++)
			CHECK(!(p->params[j].key.len == pp->key.len &&
			    strncasecmp(p->params[j].key.ptr, pp->key.ptr,
			    pp->key.len) == 0));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum smtp_addr_kind kind;
	struct smtp_path path, again;
	enum smtp_addr_err err;
	struct buf canon;
	char *args;
	size_t len, i;
	int r;

	if (size < 1 || size > 4096)
		return 0;
	kind = (data[0] & 1) ? SMTP_ADDR_RCPT : SMTP_ADDR_MAIL;
	len = size - 1;
	args = malloc(len ? len : 1);
	CHECK(args != NULL);
	memcpy(args, data + 1, len);

	r = smtp_addr_parse(kind, slice_make(args, len), &path, &err);
	if (r < 0) {
		CHECK(r == -1);
		CHECK(err != SMTP_ADDR_E_NONE &&
		    err != SMTP_ADDR_E_UNKNOWN_PARAM);
		free(args);
		return 0;
	}
	CHECK(r == 0 && err == SMTP_ADDR_E_NONE);
	check_path(&path, args, len);
	CHECK(kind == SMTP_ADDR_MAIL || path.addr_len > 0);

	/* canonical form: "FROM:<addr> K=V K" parses to the same thing */
	buf_init(&canon, 8192);
	CHECK(buf_append_str(&canon, kind == SMTP_ADDR_MAIL ? "FROM:<" :
	    "TO:<") == 0);
	CHECK(buf_append(&canon, path.addr, path.addr_len) == 0);
	CHECK(buf_append_char(&canon, '>') == 0);
	for (i = 0; i < path.nparams; i++) {
		CHECK(buf_append_char(&canon, ' ') == 0);
		CHECK(buf_append(&canon, path.params[i].key.ptr,
		    path.params[i].key.len) == 0);
		if (path.params[i].has_value) {
			CHECK(buf_append_char(&canon, '=') == 0);
			CHECK(buf_append(&canon, path.params[i].value.ptr,
			    path.params[i].value.len) == 0);
		}
	}
	r = smtp_addr_parse(kind, buf_slice(&canon), &again, &err);
	CHECK(r == 0);
	CHECK(again.addr_len == path.addr_len &&
	    memcmp(again.addr, path.addr, path.addr_len) == 0);
	CHECK(again.at == path.at);
	CHECK(again.nparams == path.nparams);
	buf_free(&canon);
	free(args);
	return 0;
}
