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
/* 1 match, 0 mismatch, -1 malformed hash */
int passwd_verify(const char *password, size_t len, const char *hash);

#endif
