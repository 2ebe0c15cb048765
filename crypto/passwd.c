/*
 * passwd.c - scrypt password hashes (RFC 7914) via OpenSSL.
 *
 * Format: $scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64> (standard base64
 * with padding, no line breaks; N = 2^ln).
 * Trust: the hash string comes from the database, which an attacker may
 * have written to: its cost parameters are bounded before any work, so a
 * planted hash cannot make verification eat gigabytes or minutes.
 * Never logs; derived keys are wiped.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "passwd.h"
#include "lib/b64.h"
#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

#define PASSWD_PREFIX		"$scrypt$"
#define PASSWD_LN		15	/* N = 32768 */
#define PASSWD_R		8	/* 128 * r * N = 32 MiB */
#define PASSWD_P		1
#define PASSWD_SALT_LEN		16
#define PASSWD_HASH_LEN		32

/* What verification accepts (stored hashes may be older or stronger). */
#define PASSWD_LN_MIN		10
#define PASSWD_LN_MAX		20
#define PASSWD_R_MAX		32
#define PASSWD_P_MAX		16
#define PASSWD_MEM_MAX		(256ull * 1024 * 1024)	/* 128 * r * N */
#define PASSWD_WORK_MAX		(1ull << 22)	/* p * r * N: 16x ours */
#define PASSWD_SALT_MIN		8
#define PASSWD_KEY_MIN		16
#define PASSWD_B64_MAX		64	/* decoded salt and hash */

struct passwd_params {
	unsigned ln, r, p;
};

/* params_ok - cost inside the bounds, so deriving cannot be abused */
static int
params_ok(const struct passwd_params *pp)
{
	uint64_t n;

	if (pp->ln < PASSWD_LN_MIN || pp->ln > PASSWD_LN_MAX)
		return 0;
	if (pp->r < 1 || pp->r > PASSWD_R_MAX || pp->p < 1 ||
	    pp->p > PASSWD_P_MAX)
		return 0;
	n = (uint64_t)1 << pp->ln;
	if (128ull * pp->r * n > PASSWD_MEM_MAX)
		return 0;
	if ((uint64_t)pp->p * pp->r * n > PASSWD_WORK_MAX)
		return 0;
	return 1;
}

/* derive - scrypt into key[0..keylen); 0 ok, -1 failure */
static int
derive(const char *password, size_t len, const unsigned char *salt,
    size_t saltlen, const struct passwd_params *pp, unsigned char *key,
    size_t keylen)
{
	uint64_t n = (uint64_t)1 << pp->ln;
	/* OpenSSL needs p*128*r + 128*r*(N+2) bytes; its default cap
	 * (32 MiB) is just below our own N=2^15, r=8. */
	uint64_t maxmem = 128ull * pp->r * pp->p + 128ull * pp->r * (n + 2) +
	    1024 * 1024;

	if (EVP_PBE_scrypt(len > 0 ? password : "", len, salt, saltlen, n,
	    pp->r, pp->p, maxmem, key, keylen) != 1)
		return -1;
	return 0;
}

char *
passwd_hash(const char *password, size_t len)
{
	struct passwd_params pp = { PASSWD_LN, PASSWD_R, PASSWD_P };
	unsigned char salt[PASSWD_SALT_LEN], key[PASSWD_HASH_LEN];
	struct buf b;
	char *s = NULL;

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return NULL;
	if (derive(password, len, salt, sizeof(salt), &pp, key,
	    sizeof(key)) < 0)
		goto out;
	buf_init(&b, 256);
	if (buf_printf(&b, PASSWD_PREFIX "ln=%u,r=%u,p=%u$", pp.ln, pp.r,
	    pp.p) < 0 ||
	    b64_encode(salt, sizeof(salt), &b) < 0 ||
	    buf_append_char(&b, '$') < 0 ||
	    b64_encode(key, sizeof(key), &b) < 0) {
		buf_free(&b);
		goto out;
	}
	s = buf_steal(&b, NULL);
out:
	OPENSSL_cleanse(key, sizeof(key));
	return s;
}

/* parse_num - "name=digits" at *pp up to the delimiter; advances */
static int
parse_num(const char **sp, const char *name, char delim, unsigned max,
    unsigned *out)
{
	const char *s = *sp, *e;
	size_t nl = strlen(name);
	uint64_t v;

	if (strncmp(s, name, nl) != 0 || s[nl] != '=')
		return -1;
	s += nl + 1;
	e = strchr(s, delim);
	if (e == NULL)
		return -1;
	/* no leading zeros: one spelling per value */
	if (e - s > 1 && s[0] == '0')
		return -1;
	if (num_parse_u64(s, (size_t)(e - s), 0, max, &v) < 0)
		return -1;
	*out = (unsigned)v;
	*sp = e + 1;
	return 0;
}

/* decode_field - strict, canonical base64 of min..PASSWD_B64_MAX bytes */
static int
decode_field(const char *s, size_t len, size_t min, struct buf *out)
{
	struct buf re;
	int ok;

	if (b64_decode(s, len, out) < 0 || out->len < min)
		return -1;
	/* refuse other spellings of the same bytes (non-zero pad bits) */
	buf_init(&re, PASSWD_B64_MAX * 2);
	ok = b64_encode((const unsigned char *)out->data, out->len, &re) == 0 &&
	    re.len == len && memcmp(re.data, s, len) == 0;
	buf_free(&re);
	return ok ? 0 : -1;
}

int
passwd_verify(const char *password, size_t len, const char *hash)
{
	struct passwd_params pp;
	unsigned char key[PASSWD_B64_MAX];
	struct buf salt, want;
	const char *s, *d;
	int r = -1;

	if (hash == NULL || strncmp(hash, PASSWD_PREFIX,
	    strlen(PASSWD_PREFIX)) != 0)
		return -1;
	s = hash + strlen(PASSWD_PREFIX);
	if (parse_num(&s, "ln", ',', 63, &pp.ln) < 0 ||
	    parse_num(&s, "r", ',', 1u << 20, &pp.r) < 0 ||
	    parse_num(&s, "p", '$', 1u << 20, &pp.p) < 0)
		return -1;
	if (!params_ok(&pp))
		return -1;
	d = strchr(s, '$');
	if (d == NULL)
		return -1;

	buf_init(&salt, PASSWD_B64_MAX);
	buf_init(&want, PASSWD_B64_MAX);
	if (decode_field(s, (size_t)(d - s), PASSWD_SALT_MIN, &salt) < 0 ||
	    decode_field(d + 1, strlen(d + 1), PASSWD_KEY_MIN, &want) < 0)
		goto out;
	if (derive(password, len, (const unsigned char *)salt.data, salt.len,
	    &pp, key, want.len) < 0)
		goto out;
	r = CRYPTO_memcmp(key, want.data, want.len) == 0 ? 1 : 0;
	OPENSSL_cleanse(key, want.len);
out:
	buf_free(&salt);
	buf_free_secure(&want);
	return r;
}

void
passwd_burn(const char *password, size_t len)
{
	/* a well-formed hash of our current parameters; never matches */
	static const char dummy[] = PASSWD_PREFIX "ln=15,r=8,p=1$"
	    "c2VhbGdhdGUtZHVtbXlzYQ==$"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

	(void)passwd_verify(password, len, dummy);
}
