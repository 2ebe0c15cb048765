/*
 * privdrop.h - drop root to the configured user (after binding sockets and
 * reading keys). A no-op when not running as root.
 */
#ifndef SEALGATE_PRIVDROP_H
#define SEALGATE_PRIVDROP_H

/* 0 ok (or not root), -1 with *err_out (new string). */
int privdrop(const char *user, char **err_out);

#endif
