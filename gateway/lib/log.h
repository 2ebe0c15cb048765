/*
 * log.h - one logging idiom: key=value lines on stderr (or syslog-free
 * foreground), one event per line, role and ids prefixed.
 *
 * fatal(): the world is broken (bad config, no database at start): exit 1.
 * panic(): our code is broken: abort() with a core.
 */
#ifndef SEALGATE_LOG_H
#define SEALGATE_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERR };

void log_init(const char *role, enum log_level min);
void log_set_role(const char *role);
/* 0 ok, -1 unknown name */
int log_level_parse(const char *name, enum log_level *out);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#define ASSERT(x) do { if (!(x)) panic("assertion failed: %s at %s:%d", \
	#x, __FILE__, __LINE__); } while (0)

/*
 * log_escape - copy network-supplied text into out (size outsz) for a log
 * value: at most SG_LOG_VALUE_MAX bytes, non-printables as \xNN, quotes
 * and backslashes escaped, "..." appended when truncated. Returns out.
 */
char *log_escape(char *out, size_t outsz, const char *in, size_t inlen);

#endif
