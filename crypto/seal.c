/*
 * seal.c - sealed storage for escrowed messages (AES-256-GCM, a data key
 * per message wrapped under a file-based master key).
 *
 * Implements: NIST SP 800-38D (GCM, 96-bit random nonces). The blob
 * layout is in seal.h.
 * Trust: blobs come from the database, which an attacker may have
 * written to: nothing in a blob is used before its tags check out, and
 * plaintext is released only after the data tag has been verified.
 * The master key file is checked (type, owner, mode) on the descriptor
 * actually read, so a file swapped after the check is never used.
 * Ownership: the master key sits in its own mmap()ed page, locked in
 * memory (best effort) and excluded from core dumps where the system
 * allows it; it is wiped before the page is released. The page bypasses
 * xalloc on purpose: a key must not share a page with anything that
 * munlock() would then unlock, nor end up in a heap dump.
 * Never logs; every key, data key and plaintext copy is wiped after use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "seal.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#define SEAL_MAGIC		"SGS1"
#define SEAL_MAGIC_LEN		4
#define SEAL_ID_RAW_LEN		8	/* SHA-256(master)[0..8) */
#define SEAL_NONCE_LEN		12	/* 96 bits: GCM's native IV size */
#define SEAL_TAG_LEN		16
#define SEAL_DK_LEN		32	/* AES-256 data key */

/* Blob offsets (see seal.h) */
#define OFF_ID			4
#define OFF_WNONCE		12
#define OFF_WKEY		24
#define OFF_WTAG		56
#define OFF_DNONCE		72
#define OFF_CT			84
#define SEAL_HDR_LEN		OFF_CT	/* authenticated with the data */
#define SEAL_WRAP_AAD_LEN	OFF_WNONCE	/* magic + key id */

#define SEAL_KEYFILE_HEX	(2 * SEAL_MASTER_KEY_LEN)
/* read one byte more than the longest valid file to notice junk */
#define SEAL_KEYFILE_READ	(SEAL_KEYFILE_HEX + 2)
/* EVP_CipherUpdate takes an int length */
#define SEAL_CHUNK		((size_t)1 << 30)
#define SEAL_ERR_MAX		1024

struct seal_master {
	unsigned char key[SEAL_MASTER_KEY_LEN];
	unsigned char id_raw[SEAL_ID_RAW_LEN];
	char id[SEAL_MASTER_ID_LEN + 1];
	size_t maplen;
};

static void
set_err(char **err_out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* set_err - *err_out = new formatted string, if the caller wants one */
static void
set_err(char **err_out, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	if (err_out == NULL)
		return;
	buf_init(&b, SEAL_ERR_MAX);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) < 0)
		(void)buf_append_str(&b, "seal: error (reason too long)");
	va_end(ap);
	*err_out = buf_steal(&b, NULL);
	if (*err_out == NULL)
		*err_out = xstrdup("seal: error");
}

static void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* hex_decode - exactly 2*len hex digits into out; 0 ok, -1 not hex */
static int
hex_decode(const char *in, size_t len, unsigned char *out)
{
	int hi, lo;

	for (size_t i = 0; i < len; i++) {
		hi = hex_digit(in[2 * i]);
		lo = hex_digit(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* master_new - a zeroed seal_master in a page of its own, locked */
static struct seal_master *
master_new(void)
{
	struct seal_master *m;
	long pg = sysconf(_SC_PAGESIZE);
	size_t len = pg > 0 && (size_t)pg >= sizeof(*m) ? (size_t)pg :
	    sizeof(*m);
	void *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* best effort: without CAP_IPC_LOCK the limit may be tiny */
	(void)mlock(p, len);
#ifdef MADV_DONTDUMP
	(void)madvise(p, len, MADV_DONTDUMP);
#endif
	m = p;
	memset(m, 0, sizeof(*m));
	m->maplen = len;
	return m;
}

void
seal_master_free(struct seal_master **mp)
{
	struct seal_master *m;
	size_t len;

	if (mp == NULL || *mp == NULL)
		return;
	m = *mp;
	*mp = NULL;
	len = m->maplen;
	OPENSSL_cleanse(m, sizeof(*m));
	(void)munlock(m, len);
	(void)munmap(m, len);
}

const char *
seal_master_id(const struct seal_master *m)
{
	return m->id;
}

/* master_set_id - key id = first 8 bytes of SHA-256(key) */
static int
master_set_id(struct seal_master *m)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(m->key, sizeof(m->key), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen < SEAL_ID_RAW_LEN)
		return -1;
	memcpy(m->id_raw, md, SEAL_ID_RAW_LEN);
	hex_encode(m->id_raw, SEAL_ID_RAW_LEN, m->id);
	m->id[SEAL_MASTER_ID_LEN] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

/* read_all - up to cap bytes until EOF; the count, or -1 (errno) */
static ssize_t
read_all(int fd, char *p, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap) {
		n = read(fd, p + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

struct seal_master *
seal_master_load(const char *path, char **err_out)
{
	struct seal_master *m = NULL;
	char text[SEAL_KEYFILE_READ];
	struct stat st;
	ssize_t n;
	uid_t euid = geteuid();
	int fd;

	/* O_NONBLOCK: a FIFO planted at the path must not hang us; it is
	 * refused as "not a regular file" right after. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		set_err(err_out, "master key %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		set_err(err_out, "master key %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err_out, "master key %s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != euid && st.st_uid != 0) {
		set_err(err_out, "master key %s: owned by uid %lu; must be "
		    "owned by uid %lu or root", path, (unsigned long)st.st_uid,
		    (unsigned long)euid);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		set_err(err_out, "master key %s: mode %04o gives group or "
		    "others access; must be 0600 or stricter", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	n = read_all(fd, text, sizeof(text));
	if (n < 0) {
		set_err(err_out, "master key %s: %s", path, strerror(errno));
		goto out;
	}
	if (!(n == SEAL_KEYFILE_HEX ||
	    (n == SEAL_KEYFILE_HEX + 1 && text[SEAL_KEYFILE_HEX] == '\n'))) {
		set_err(err_out, "master key %s: must hold exactly %d hex "
		    "digits (%d bytes) and at most a final newline", path,
		    SEAL_KEYFILE_HEX, SEAL_MASTER_KEY_LEN);
		goto out;
	}
	m = master_new();
	if (m == NULL) {
		set_err(err_out, "master key %s: cannot allocate key memory: "
		    "%s", path, strerror(errno));
		goto out;
	}
	if (hex_decode(text, SEAL_MASTER_KEY_LEN, m->key) < 0) {
		set_err(err_out, "master key %s: must hold exactly %d hex "
		    "digits (%d bytes) and at most a final newline", path,
		    SEAL_KEYFILE_HEX, SEAL_MASTER_KEY_LEN);
		seal_master_free(&m);
		goto out;
	}
	if (master_set_id(m) < 0) {
		set_err(err_out, "master key %s: SHA-256 failed", path);
		seal_master_free(&m);
		goto out;
	}
out:
	OPENSSL_cleanse(text, sizeof(text));
	(void)close(fd);
	return m;
}

/* write_all - the whole of p[0..len); 0 ok, -1 (errno) */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
seal_master_generate(const char *path, char **err_out)
{
	unsigned char key[SEAL_MASTER_KEY_LEN];
	char text[SEAL_KEYFILE_HEX + 1];
	int fd, r = -1, e;

	if (RAND_bytes(key, sizeof(key)) != 1) {
		set_err(err_out, "master key %s: random generator failed",
		    path);
		return -1;
	}
	hex_encode(key, sizeof(key), text);
	text[SEAL_KEYFILE_HEX] = '\n';
	OPENSSL_cleanse(key, sizeof(key));

	/* O_EXCL: never overwrite a key (the blobs it sealed would be
	 * lost) and never follow a symlink planted at the path */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			set_err(err_out, "master key %s: already exists; "
			    "refusing to overwrite it", path);
		else
			set_err(err_out, "master key %s: %s", path,
			    strerror(errno));
		goto wipe;
	}
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, sizeof(text)) < 0 ||
	    fsync(fd) < 0) {
		e = errno;
		(void)close(fd);
		(void)unlink(path);
		set_err(err_out, "master key %s: %s", path, strerror(e));
		goto wipe;
	}
	if (close(fd) < 0) {
		e = errno;
		(void)unlink(path);
		set_err(err_out, "master key %s: %s", path, strerror(e));
		goto wipe;
	}
	r = 0;
wipe:
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

/* gcm_update - feed len bytes in int-sized pieces; out NULL for aad */
static int
gcm_update(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in,
    size_t len)
{
	size_t chunk;
	int n;

	while (len > 0) {
		chunk = len < SEAL_CHUNK ? len : SEAL_CHUNK;
		if (EVP_CipherUpdate(ctx, out, &n, in, (int)chunk) != 1)
			return -1;
		/* GCM is a stream mode: all of it comes out at once */
		if (out != NULL && (size_t)n != chunk)
			return -1;
		in += chunk;
		if (out != NULL)
			out += chunk;
		len -= chunk;
	}
	return 0;
}

/*
 * gcm - one AES-256-GCM pass over in[0..len) into out (may be in), with
 * aad1 || aad2 as additional data. Encrypting writes tag; decrypting
 * checks it. 0 ok, -1 failure (decrypting: does not authenticate).
 */
static int
gcm(int enc, const unsigned char *key, const unsigned char *nonce,
    const unsigned char *aad1, size_t aad1len, const unsigned char *aad2,
    size_t aad2len, const unsigned char *in, size_t len, unsigned char *out,
    unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx;
	unsigned char fin[SEAL_TAG_LEN];
	int n, r = -1;

	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return -1;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN,
	    NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		goto out;
	if (gcm_update(ctx, NULL, aad1, aad1len) < 0 ||
	    gcm_update(ctx, NULL, aad2, aad2len) < 0 ||
	    gcm_update(ctx, out, in, len) < 0)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
	    SEAL_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, fin, &n) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
	    SEAL_TAG_LEN, tag) != 1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int
seal(const struct seal_master *m, const unsigned char *pt, size_t len,
    const char *aad, struct buf *out, char **err_out)
{
	unsigned char dk[SEAL_DK_LEN];
	unsigned char *blob;
	size_t total;
	int r = -1;

	if (aad == NULL)
		aad = "";
	if (len > SIZE_MAX - SEAL_OVERHEAD) {
		set_err(err_out, "seal: message too large");
		return -1;
	}
	total = len + SEAL_OVERHEAD;
	blob = try_malloc(total);
	if (blob == NULL) {
		set_err(err_out, "seal: out of memory (%zu bytes)", total);
		return -1;
	}
	memcpy(blob, SEAL_MAGIC, SEAL_MAGIC_LEN);
	memcpy(blob + OFF_ID, m->id_raw, SEAL_ID_RAW_LEN);
	if (RAND_bytes(dk, sizeof(dk)) != 1 ||
	    RAND_bytes(blob + OFF_WNONCE, SEAL_NONCE_LEN) != 1 ||
	    RAND_bytes(blob + OFF_DNONCE, SEAL_NONCE_LEN) != 1) {
		set_err(err_out, "seal: random generator failed");
		goto out;
	}
	if (gcm(1, m->key, blob + OFF_WNONCE, blob, SEAL_WRAP_AAD_LEN,
	    NULL, 0, dk, sizeof(dk), blob + OFF_WKEY, blob + OFF_WTAG) < 0 ||
	    gcm(1, dk, blob + OFF_DNONCE, blob, SEAL_HDR_LEN,
	    (const unsigned char *)aad, strlen(aad), pt, len, blob + OFF_CT,
	    blob + OFF_CT + len) < 0) {
		set_err(err_out, "seal: AES-256-GCM encryption failed");
		goto out;
	}
	if (buf_append(out, blob, total) < 0) {
		set_err(err_out, "seal: output buffer full (%zu bytes)", total);
		goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	/* on failure the blob may hold a partial encryption */
	OPENSSL_cleanse(blob, total);
	xfree(blob);
	return r;
}

int
unseal(const struct seal_master *m, const unsigned char *blob, size_t len,
    const char *aad, struct buf *out, char **err_out)
{
	unsigned char dk[SEAL_DK_LEN], wtag[SEAL_TAG_LEN], dtag[SEAL_TAG_LEN];
	char id[SEAL_MASTER_ID_LEN + 1];
	unsigned char *pt = NULL;
	size_t n;
	int r = -1;

	if (aad == NULL)
		aad = "";
	if (len < SEAL_OVERHEAD) {
		set_err(err_out, "unseal: blob truncated (%zu bytes, a sealed "
		    "blob has at least %d)", len, SEAL_OVERHEAD);
		return -1;
	}
	if (memcmp(blob, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0) {
		set_err(err_out, "unseal: not a sealed blob (no \"%s\" magic)",
		    SEAL_MAGIC);
		return -1;
	}
	if (memcmp(blob + OFF_ID, m->id_raw, SEAL_ID_RAW_LEN) != 0) {
		hex_encode(blob + OFF_ID, SEAL_ID_RAW_LEN, id);
		id[SEAL_MASTER_ID_LEN] = '\0';
		set_err(err_out, "unseal: blob was sealed under master key %s, "
		    "the loaded master key is %s", id, m->id);
		return -1;
	}
	n = len - SEAL_OVERHEAD;
	memcpy(wtag, blob + OFF_WTAG, SEAL_TAG_LEN);
	memcpy(dtag, blob + OFF_CT + n, SEAL_TAG_LEN);
	if (gcm(0, m->key, blob + OFF_WNONCE, blob, SEAL_WRAP_AAD_LEN, NULL, 0,
	    blob + OFF_WKEY, SEAL_DK_LEN, dk, wtag) < 0) {
		set_err(err_out, "unseal: wrapped data key does not "
		    "authenticate (blob damaged or forged)");
		goto out;
	}
	pt = try_malloc(n);
	if (pt == NULL) {
		set_err(err_out, "unseal: out of memory (%zu bytes)", n);
		goto out;
	}
	/* decrypt into scratch memory: out sees nothing before the tag */
	if (gcm(0, dk, blob + OFF_DNONCE, blob, SEAL_HDR_LEN,
	    (const unsigned char *)aad, strlen(aad), blob + OFF_CT, n, pt,
	    dtag) < 0) {
		set_err(err_out, "unseal: blob does not authenticate (damaged, "
		    "forged, or sealed for another message id)");
		goto out;
	}
	if (buf_append(out, pt, n) < 0) {
		set_err(err_out, "unseal: output buffer full (%zu bytes)", n);
		goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	if (pt != NULL) {
		OPENSSL_cleanse(pt, n);
		xfree(pt);
	}
	return r;
}
