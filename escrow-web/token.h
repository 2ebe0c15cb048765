/*
 * token.h - link and session tokens for the escrow portal.
 *
 * A token is 256 random bits (RAND_bytes) written as unpadded base64url
 * (RFC 4648 section 5): 43 characters of [A-Za-z0-9_-]. Only its hash
 * (token_hash) is stored, so a database dump yields no usable links or
 * sessions; lookups hash the presented token and compare hashes.
 *
 * Pure functions: no I/O, no logging.
 */
#ifndef SEALGATE_TOKEN_H
#define SEALGATE_TOKEN_H

#define TOKEN_BYTES		32	/* 256 bits */
#define TOKEN_TEXT_LEN		43	/* ceil(32 * 8 / 6), no padding */
#define TOKEN_HASH_LEN		64	/* SHA-256 in lower-case hex */

/* token_new - a fresh token, NUL-terminated, into out.
 * 0 ok; -1 the random generator failed (out is then ""). */
int token_new(char out[TOKEN_TEXT_LEN + 1]);

/* token_hash - SHA-256 of the token's text (strlen(token) bytes) as 64
 * lower-case hex chars plus NUL. Should the digest fail (allocation
 * inside OpenSSL), out is "", which equals no stored hash. */
void token_hash(const char *token, char out[TOKEN_HASH_LEN + 1]);

/* token_equal - 1 if a and b are the same string, else 0. Constant time
 * in the content for equal lengths (CRYPTO_memcmp); strings of
 * different lengths, or a NULL, are unequal at once (the length of a
 * token or hash is no secret). */
int token_equal(const char *a, const char *b);

/* token_valid_syntax - 1 if s is exactly TOKEN_TEXT_LEN base64url
 * characters, else 0. Checks the form only (cheap refusal of junk
 * before any lookup); the last character is not checked for unused
 * bits, as tokens are compared by hash, never decoded. */
int token_valid_syntax(const char *s);

#endif
