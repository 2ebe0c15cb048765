/*
 * seal.h - sealed storage for escrowed messages.
 *
 * Each message gets a fresh 256-bit data key; the message is encrypted
 * with AES-256-GCM under that key and the caller's aad (the message id)
 * bound as additional data. The data key is wrapped with AES-256-GCM
 * under the master key, which lives in a file, never in the database.
 *
 * Blob ("SGS1"), all fields fixed size except the ciphertext, whose
 * length is the blob length minus SEAL_OVERHEAD:
 *
 *   off  len  field
 *     0    4  magic "SGS1" (format version 1)
 *     4    8  master key id: SHA-256(master key)[0..8)
 *    12   12  wrap nonce (random)
 *    24   32  wrapped data key: AES-256-GCM(master, wrap nonce,
 *             aad = bytes 0..12) of the data key
 *    56   16  wrap tag
 *    72   12  data nonce (random)
 *    84    n  ciphertext: AES-256-GCM(data key, data nonce,
 *             aad = bytes 0..84 || caller aad) of the plaintext
 *  84+n   16  data tag
 *
 * The data encryption authenticates the whole header as well, so any
 * changed byte anywhere is refused.
 *
 * Master key file: exactly 64 hex digits (32 bytes; either case), with
 * at most one trailing "\n". It must be a regular file (a symlink is
 * followed and the file it names is checked: checks are made with
 * fstat() on the descriptor actually read), with no group or other
 * permission bits (mode & 077 == 0), owned by the process's effective
 * uid or by root. Root ownership is allowed because only root could
 * have written it anyway; a file owned by any other user is refused,
 * also when running as root (that user could swap the key). Errors
 * name the path and never the content.
 *
 * Library code: never logs; errors come back in *err_out (xfree()).
 */
#ifndef SEALGATE_SEAL_H
#define SEALGATE_SEAL_H

#include <stddef.h>

struct buf;

#define SEAL_MASTER_KEY_LEN	32
#define SEAL_MASTER_ID_LEN	16	/* hex chars, without the NUL */
#define SEAL_OVERHEAD		100	/* blob length minus plaintext */

struct seal_master;	/* opaque; the key sits in its own locked page */

/* seal_master_load - read and check a master key file. Returns a new
 * object (seal_master_free()) or NULL with *err_out set. */
struct seal_master *seal_master_load(const char *path, char **err_out);

/* seal_master_free - wipe, unlock and release; *m becomes NULL */
void seal_master_free(struct seal_master **m);

/* seal_master_id - 16 lower-case hex chars naming the key (not secret);
 * points into *m, valid until seal_master_free() */
const char *seal_master_id(const struct seal_master *m);

/* seal_master_generate - write a new random key to path with mode 0600;
 * refuses to overwrite anything, symlinks included (O_EXCL).
 * 0 ok, -1 with *err_out set. */
int seal_master_generate(const char *path, char **err_out);

/* seal - append the blob for pt[0..len) to out (len + SEAL_OVERHEAD
 * bytes). aad may be NULL (same as ""). 0 ok; -1 with *err_out set and
 * out unchanged. */
int seal(const struct seal_master *m, const unsigned char *pt, size_t len,
    const char *aad, struct buf *out, char **err_out);

/* unseal - check and decrypt a blob, appending the plaintext to out.
 * Refuses another master (by id), another aad, any modified, truncated
 * or extended blob. 0 ok; -1 with *err_out set and out unchanged: no
 * plaintext is ever released before the tag has been checked. */
int unseal(const struct seal_master *m, const unsigned char *blob,
    size_t len, const char *aad, struct buf *out, char **err_out);

#endif
