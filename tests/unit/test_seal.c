/*
 * test_seal.c - unit tests for crypto/seal.c: round trips, freshness,
 * tampering (every bit flip, every truncation), wrong aad and master,
 * output limits, and the master key file checks (type, mode, owner,
 * content) and generation.
 */
#define _GNU_SOURCE		/* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/rand.h>

#include "seal.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

/* key bytes 00 01 .. 1f; id = first 8 bytes of SHA-256 of them, from
 *   printf %s 0001..1f | xxd -r -p | sha256sum | cut -c1-16 */
#define KEY_HEX "000102030405060708090a0b0c0d0e0f" \
		"101112131415161718191a1b1c1d1e1f"
#define KEY_ID	"630dcd2966c43366"
#define AAD	"<20250101.abc@example.com>"

static char dir[64];
static struct seal_master *m1, *m2;

/* path_in - dir/name in one of 4 rotating static buffers */
static const char *
path_in(const char *name)
{
	static char p[4][256];
	static int which;

	which = (which + 1) % 4;
	snprintf(p[which], sizeof(p[which]), "%s/%s", dir, name);
	return p[which];
}

static void
write_file(const char *path, const char *content, mode_t mode)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static int
setup(void **state)
{
	char *err = NULL;

	snprintf(dir, sizeof(dir), "/tmp/test_seal.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	write_file(path_in("k1"), KEY_HEX "\n", 0600);
	m1 = seal_master_load(path_in("k1"), &err);
	if (m1 == NULL) {
		fprintf(stderr, "load: %s\n", err);
		return -1;
	}
	if (seal_master_generate(path_in("k2"), &err) < 0)
		return -1;
	m2 = seal_master_load(path_in("k2"), &err);
	return m2 != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	seal_master_free(&m1);
	seal_master_free(&m2);
	(void)nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* seal_ok - blob of pt[0..len) under m with aad, asserting success */
static void
seal_ok(const struct seal_master *m, const void *pt, size_t len,
    const char *aad, struct buf *blob)
{
	char *err = NULL;

	buf_init(blob, len + SEAL_OVERHEAD);
	if (seal(m, pt, len, aad, blob, &err) != 0)
		fail_msg("seal(%zu bytes): %s", len, err);
	assert_null(err);
	assert_int_equal(blob->len, len + SEAL_OVERHEAD);
}

/* unseal_refused - unseal must fail with a reason and leave out as is */
static void
unseal_refused(const struct seal_master *m, const void *blob, size_t len,
    const char *aad, const char *why)
{
	struct buf out;
	char *err = NULL;

	buf_init(&out, 2 * len + 64);
	assert_int_equal(buf_append_str(&out, "keep"), 0);
	if (unseal(m, blob, len, aad, &out, &err) != -1)
		fail_msg("%s: unseal accepted", why);
	if (err == NULL || err[0] == '\0')
		fail_msg("%s: no reason given", why);
	if (out.len != 4 || memcmp(out.data, "keep", 5) != 0)
		fail_msg("%s: output changed (len %zu, want 4)", why, out.len);
	xfree(err);
	buf_free(&out);
}

static void
test_known_id(void **state)
{
	assert_string_equal(seal_master_id(m1), KEY_ID);
	assert_int_equal(strlen(seal_master_id(m2)), SEAL_MASTER_ID_LEN);
	assert_string_not_equal(seal_master_id(m1), seal_master_id(m2));
}

static void
test_roundtrip(void **state)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 4096,
	    1024 * 1024 };
	struct buf blob, out;
	unsigned char *pt;
	char *err = NULL;

	pt = xmalloc(1024 * 1024);
	assert_int_equal(RAND_bytes(pt, 1024 * 1024), 1);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		seal_ok(m1, pt, sizes[i], AAD, &blob);
		assert_memory_equal(blob.data, "SGS1", 4);
		buf_init(&out, sizes[i]);	/* exactly enough */
		if (unseal(m1, (unsigned char *)blob.data, blob.len, AAD,
		    &out, &err) != 0)
			fail_msg("unseal(%zu bytes): %s", sizes[i], err);
		assert_int_equal(out.len, sizes[i]);
		if (sizes[i] > 0)
			assert_memory_equal(out.data, pt, sizes[i]);
		buf_free(&out);
		buf_free(&blob);
	}
	xfree(pt);

	/* NULL aad is the empty aad */
	seal_ok(m1, "x", 1, NULL, &blob);
	buf_init(&out, 16);
	assert_int_equal(unseal(m1, (unsigned char *)blob.data, blob.len, "",
	    &out, &err), 0);
	assert_int_equal(out.len, 1);
	buf_free(&out);
	buf_free(&blob);

	/* appends after what out held */
	seal_ok(m1, "world", 5, AAD, &blob);
	buf_init(&out, 64);
	assert_int_equal(buf_append_str(&out, "hello "), 0);
	assert_int_equal(unseal(m1, (unsigned char *)blob.data, blob.len, AAD,
	    &out, &err), 0);
	assert_string_equal(out.data, "hello world");
	buf_free(&out);
	buf_free(&blob);
}

static void
test_fresh(void **state)
{
	static const char pt[] = "the same message twice";
	struct buf a, b;

	seal_ok(m1, pt, sizeof(pt) - 1, AAD, &a);
	seal_ok(m1, pt, sizeof(pt) - 1, AAD, &b);
	/* same header start (magic, key id) ... */
	assert_memory_equal(a.data, b.data, 12);
	/* ... fresh wrap nonce, wrapped key, data nonce, ciphertext */
	assert_memory_not_equal(a.data + 12, b.data + 12, 12);
	assert_memory_not_equal(a.data + 24, b.data + 24, 32);
	assert_memory_not_equal(a.data + 72, b.data + 72, 12);
	assert_memory_not_equal(a.data + 84, b.data + 84, sizeof(pt) - 1);
	buf_free(&a);
	buf_free(&b);
}

static void
test_no_plaintext(void **state)
{
	char pt[512];
	struct buf blob;

	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = "ATTACK AT DAWN! "[i % 16];
	seal_ok(m1, pt, sizeof(pt), AAD, &blob);
	/* not even 6 bytes of it in a row */
	for (size_t i = 0; i + 6 <= 16; i++)
		assert_null(memmem(blob.data, blob.len, pt + i, 6));
	assert_null(memmem(blob.data, blob.len, AAD, strlen(AAD)));
	buf_free(&blob);
}

static void
test_bitflips(void **state)
{
	struct buf blob;
	unsigned char *copy;
	char why[64];

	seal_ok(m1, "hello", 5, AAD, &blob);
	copy = xmalloc(blob.len);
	for (size_t i = 0; i < blob.len; i++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, blob.data, blob.len);
			copy[i] ^= (unsigned char)(1u << bit);
			snprintf(why, sizeof(why), "byte %zu bit %d", i, bit);
			unseal_refused(m1, copy, blob.len, AAD, why);
		}
	xfree(copy);
	buf_free(&blob);
}

static void
test_truncated_and_extended(void **state)
{
	struct buf blob;
	unsigned char *longer;
	char why[64];

	seal_ok(m1, "a message of some length", 24, AAD, &blob);
	for (size_t n = 0; n < blob.len; n++) {
		snprintf(why, sizeof(why), "truncated to %zu", n);
		unseal_refused(m1, blob.data, n, AAD, why);
	}
	unseal_refused(m1, NULL, 0, AAD, "empty");
	longer = xmalloc(blob.len + 1);
	memcpy(longer, blob.data, blob.len);
	longer[blob.len] = 0;
	unseal_refused(m1, longer, blob.len + 1, AAD, "one byte more");
	xfree(longer);
	buf_free(&blob);
}

static void
test_wrong_aad(void **state)
{
	struct buf blob, e;

	seal_ok(m1, "secret", 6, AAD, &blob);
	unseal_refused(m1, blob.data, blob.len, "<other@example.com>",
	    "other aad");
	unseal_refused(m1, blob.data, blob.len, "<20250101.abc@example.com",
	    "aad prefix");
	unseal_refused(m1, blob.data, blob.len, AAD " ", "aad longer");
	unseal_refused(m1, blob.data, blob.len, "", "empty aad");
	unseal_refused(m1, blob.data, blob.len, NULL, "NULL aad");
	seal_ok(m1, "secret", 6, NULL, &e);
	unseal_refused(m1, e.data, e.len, AAD, "sealed without aad");
	buf_free(&e);
	buf_free(&blob);
}

static void
test_wrong_master(void **state)
{
	struct buf blob, out;
	char *err = NULL;

	seal_ok(m1, "secret", 6, AAD, &blob);
	buf_init(&out, 64);
	assert_int_equal(unseal(m2, (unsigned char *)blob.data, blob.len, AAD,
	    &out, &err), -1);
	/* the reason names both keys */
	assert_non_null(strstr(err, KEY_ID));
	assert_non_null(strstr(err, seal_master_id(m2)));
	assert_int_equal(out.len, 0);
	xfree(err);
	err = NULL;

	/* a blob claiming m2's id but wrapped under m1 is still refused */
	seal_ok(m2, "x", 1, AAD, &out);
	memcpy(blob.data + 4, out.data + 4, 8);
	unseal_refused(m2, blob.data, blob.len, AAD, "forged key id");
	buf_free(&out);
	buf_free(&blob);
}

static void
test_bad_magic(void **state)
{
	struct buf blob, out;
	char *err = NULL;

	seal_ok(m1, "secret", 6, AAD, &blob);
	blob.data[3] = '2';
	buf_init(&out, 64);
	assert_int_equal(unseal(m1, (unsigned char *)blob.data, blob.len, AAD,
	    &out, &err), -1);
	assert_non_null(strstr(err, "magic"));
	xfree(err);
	buf_free(&out);
	buf_free(&blob);
}

static void
test_output_limit(void **state)
{
	struct buf blob, out;
	char *err = NULL;

	/* seal: one byte short of the blob */
	buf_init(&out, 10 + SEAL_OVERHEAD - 1);
	assert_int_equal(seal(m1, (const unsigned char *)"0123456789", 10,
	    AAD, &out, &err), -1);
	assert_non_null(err);
	assert_int_equal(out.len, 0);
	xfree(err);
	err = NULL;
	buf_free(&out);

	/* unseal: one byte short of the plaintext */
	seal_ok(m1, "0123456789", 10, AAD, &blob);
	buf_init(&out, 9);
	assert_int_equal(unseal(m1, (unsigned char *)blob.data, blob.len, AAD,
	    &out, &err), -1);
	assert_non_null(err);
	assert_int_equal(out.len, 0);
	xfree(err);
	buf_free(&out);
	buf_free(&blob);
}

/* Master key files. Decisions (seal.h): owner euid or root; a symlink
 * is followed and the file it names must pass the checks. */
enum kind { K_FILE, K_DIR, K_LINK, K_FIFO, K_NONE, K_OTHER_OWNER };

struct mcase {
	const char *name;
	enum kind kind;
	const char *content;
	mode_t mode;
	int ok;
	const char *why;	/* substring of the error */
};

#define HEX64	KEY_HEX
static const struct mcase mcases[] = {
	{ "0600 with newline", K_FILE, HEX64 "\n", 0600, 1, NULL },
	{ "0600 no newline", K_FILE, HEX64, 0600, 1, NULL },
	{ "0400", K_FILE, HEX64 "\n", 0400, 1, NULL },
	{ "0700", K_FILE, HEX64 "\n", 0700, 1, NULL },
	{ "upper case", K_FILE, "000102030405060708090A0B0C0D0E0F"
	    "101112131415161718191A1B1C1D1E1F", 0600, 1, NULL },
	{ "0644", K_FILE, HEX64 "\n", 0644, 0, "mode 0644" },
	{ "0640", K_FILE, HEX64 "\n", 0640, 0, "mode" },
	{ "0604", K_FILE, HEX64 "\n", 0604, 0, "mode" },
	{ "0620", K_FILE, HEX64 "\n", 0620, 0, "mode" },
	{ "0602", K_FILE, HEX64 "\n", 0602, 0, "mode" },
	{ "0610", K_FILE, HEX64 "\n", 0610, 0, "mode" },
	{ "missing", K_NONE, NULL, 0, 0, "No such file" },
	{ "empty", K_FILE, "", 0600, 0, "64 hex" },
	{ "63 hex", K_FILE, "00010203040506070809"
	    "0a0b0c0d0e0f101112131415161718191a1b1c1d1e1", 0600, 0,
	    "64 hex" },
	{ "65 hex", K_FILE, HEX64 "0", 0600, 0, "64 hex" },
	{ "128 hex", K_FILE, HEX64 HEX64, 0600, 0, "64 hex" },
	{ "two newlines", K_FILE, HEX64 "\n\n", 0600, 0, "64 hex" },
	{ "CRLF", K_FILE, HEX64 "\r\n", 0600, 0, "64 hex" },
	{ "trailing space", K_FILE, HEX64 " ", 0600, 0, "64 hex" },
	{ "leading space", K_FILE, " " HEX64, 0600, 0, "64 hex" },
	{ "non-hex", K_FILE, "zz0102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f", 0600, 0, "64 hex" },
	{ "non-hex last", K_FILE, "000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1g\n", 0600, 0, "64 hex" },
	{ "directory", K_DIR, NULL, 0700, 0, "not a regular file" },
	{ "symlink to 0600", K_LINK, HEX64 "\n", 0600, 1, NULL },
	{ "symlink to 0644", K_LINK, HEX64 "\n", 0644, 0, "mode" },
	{ "fifo", K_FIFO, NULL, 0600, 0, "not a regular file" },
	{ "other owner", K_OTHER_OWNER, HEX64 "\n", 0600, 0, "owned by" },
};

static void
test_master_files(void **state)
{
	const struct mcase *c;
	struct seal_master *m;
	const char *path, *target;
	char *err;

	for (size_t i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		c = &mcases[i];
		path = path_in("case");
		(void)remove(path);
		switch (c->kind) {
		case K_FILE:
			write_file(path, c->content, c->mode);
			break;
		case K_DIR:
			assert_int_equal(mkdir(path, c->mode), 0);
			break;
		case K_LINK:
			target = path_in("target");
			write_file(target, c->content, c->mode);
			path = path_in("case");
			assert_int_equal(symlink(target, path), 0);
			break;
		case K_FIFO:
			assert_int_equal(mkfifo(path, c->mode), 0);
			break;
		case K_NONE:
			break;
		case K_OTHER_OWNER:
			/* only root can give a file away */
			if (geteuid() != 0) {
				print_message("skip %s: not root\n", c->name);
				continue;
			}
			write_file(path, c->content, c->mode);
			assert_int_equal(chown(path, 65534, 65534), 0);
			break;
		}
		err = NULL;
		m = seal_master_load(path, &err);
		if (c->ok) {
			if (m == NULL)
				fail_msg("%s: refused: %s", c->name, err);
			assert_string_equal(seal_master_id(m), KEY_ID);
			seal_master_free(&m);
			assert_null(m);
		} else {
			if (m != NULL)
				fail_msg("%s: accepted", c->name);
			assert_non_null(err);
			if (strstr(err, path) == NULL)
				fail_msg("%s: got \"%s\", want the path",
				    c->name, err);
			if (strstr(err, c->why) == NULL)
				fail_msg("%s: got \"%s\", want \"%s\"",
				    c->name, err, c->why);
			/* never the key material */
			if (strstr(err, "0102030405") != NULL)
				fail_msg("%s: error shows content: %s",
				    c->name, err);
			xfree(err);
		}
		(void)remove(path);
		(void)remove(path_in("target"));
	}
	seal_master_free(NULL);
}

static void
test_generate(void **state)
{
	const char *path = path_in("gen");
	struct seal_master *m;
	struct stat st;
	char text[80], *err = NULL;
	ssize_t n;
	int fd;

	assert_int_equal(seal_master_generate(path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 65);
	m = seal_master_load(path, &err);
	assert_non_null(m);
	assert_string_not_equal(seal_master_id(m), seal_master_id(m1));
	assert_string_not_equal(seal_master_id(m), seal_master_id(m2));

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text));
	close(fd);
	assert_int_equal(n, 65);

	/* never overwrites */
	assert_int_equal(seal_master_generate(path, &err), -1);
	assert_non_null(strstr(err, "already exists"));
	assert_non_null(strstr(err, path));
	xfree(err);
	err = NULL;
	seal_master_free(&m);
	m = seal_master_load(path, &err);
	assert_non_null(m);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	{
		char again[80];

		assert_int_equal(read(fd, again, sizeof(again)), 65);
		assert_memory_equal(again, text, 65);
	}
	close(fd);
	seal_master_free(&m);

	/* nor follows a symlink planted at the path */
	assert_int_equal(symlink(path_in("nowhere"), path_in("glink")), 0);
	assert_int_equal(seal_master_generate(path_in("glink"), &err), -1);
	assert_non_null(err);
	xfree(err);
	err = NULL;
	assert_int_equal(access(path_in("nowhere"), F_OK), -1);

	/* missing directory */
	assert_int_equal(seal_master_generate(path_in("no/such/key"), &err),
	    -1);
	assert_non_null(strstr(err, "No such file"));
	xfree(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_id),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_no_plaintext),
		cmocka_unit_test(test_bitflips),
		cmocka_unit_test(test_truncated_and_extended),
		cmocka_unit_test(test_wrong_aad),
		cmocka_unit_test(test_wrong_master),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_output_limit),
		cmocka_unit_test(test_master_files),
		cmocka_unit_test(test_generate),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
