/*
 * passwd.h - password hashing with a memory-hard KDF (scrypt, via
 * OpenSSL's EVP_PKEY_SCRYPT), stored in a self-describing string:
 *   $scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>
 * Verification is constant-time. Never logs; wipes intermediates.
 */
#ifndef SEALGATE_PASSWD_H
#define SEALGATE_PASSWD_H

#include <stddef.h>

/* New hash string (xfree()) or NULL on failure. */
char *passwd_hash(const char *password, size_t len);
/* 1 match, 0 mismatch, -1 malformed hash (or cost parameters outside
 * the accepted bounds: ln 10..20, r 1..32, p 1..16, <= 256 MiB) */
int passwd_verify(const char *password, size_t len, const char *hash);

/* passwd_burn - the work of one verification against nothing: call it
 * for an unknown or disabled user so timing does not tell who exists. */
void passwd_burn(const char *password, size_t len);

#endif
