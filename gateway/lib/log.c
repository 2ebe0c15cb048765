/*
 * log.c - key=value event logging to stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

#include "log.h"
#include "sg_limits.h"

static char log_role[32] = "sealgate";
static enum log_level log_min = LOG_LVL_INFO;

void
log_set_role(const char *role)
{
	snprintf(log_role, sizeof(log_role), "%s", role);
}

void
log_init(const char *role, enum log_level min)
{
	log_set_role(role);
	log_min = min;
}

int
log_level_parse(const char *name, enum log_level *out)
{
	static const struct { const char *n; enum log_level l; } t[] = {
		{ "debug", LOG_LVL_DEBUG }, { "info", LOG_LVL_INFO },
		{ "warn", LOG_LVL_WARN }, { "err", LOG_LVL_ERR },
		{ "error", LOG_LVL_ERR },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcasecmp(name, t[i].n) == 0) {
			*out = t[i].l;
			return 0;
		}
	}
	return -1;
}

static void log_emit(const char *lvl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_emit(const char *lvl, const char *fmt, va_list ap)
{
	char line[2048];
	char ts[32];
	struct timeval tv;
	struct tm tm;
	int n, m;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s[%ld] level=%s ", ts,
	    (long)(tv.tv_usec / 1000), log_role, (long)getpid(), lvl);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* one write(2) per line so role processes do not interleave */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

#define LOG_FN(name, lvl, str)						\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
	if (lvl < log_min)						\
		return;							\
	va_start(ap, fmt);						\
	log_emit(str, fmt, ap);						\
	va_end(ap);							\
}

LOG_FN(log_debug, LOG_LVL_DEBUG, "debug")
LOG_FN(log_info, LOG_LVL_INFO, "info")
LOG_FN(log_warn, LOG_LVL_WARN, "warn")
LOG_FN(log_err, LOG_LVL_ERR, "err")

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("fatal", fmt, ap);
	va_end(ap);
	exit(1);
}

void
panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("panic", fmt, ap);
	va_end(ap);
	abort();
}

char *
log_escape(char *out, size_t outsz, const char *in, size_t inlen)
{
	size_t o = 0, i;
	int trunc = 0;

	if (outsz == 0)
		return out;
	if (inlen > SG_LOG_VALUE_MAX) {
		inlen = SG_LOG_VALUE_MAX;
		trunc = 1;
	}
	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		if (o + 5 >= outsz) {
			trunc = 1;
			break;
		}
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(out + o, outsz - o, "\\x%02x", c);
			o += 4;
		} else {
			out[o++] = (char)c;
		}
	}
	if (trunc && o + 4 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}
