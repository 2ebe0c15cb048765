/*
 * crypto_bench.c - messages per second of the gateway's PGP/MIME and
 * S/MIME encryption in one process, and of a command line tool run once
 * per message, for scripts/bench/crypto.sh.
 *
 *   crypto_bench --pgp GNUPGHOME --fpr FPR --msg FILE --seconds N
 *       [--out FILE]
 *   crypto_bench --smime CERT.pem [--cipher gcm|cbc] --msg FILE
 *       --seconds N [--out FILE]
 *   crypto_bench --msg FILE --seconds N [--expect PREFIX] [--out FILE]
 *       -- COMMAND [ARG ...]
 *
 * FILE is a whole RFC 5322 message (CRLF lines). --pgp: one pgp_ctx on
 * GNUPGHOME, reused, and pgp_encrypt_mime() to FPR; --smime: the
 * certificate is loaded once and smime_encrypt() runs with AES-256-GCM
 * (default) or AES-256-CBC. With a COMMAND instead, each message is one
 * run of COMMAND (posix_spawnp, no shell) with FILE as its standard input
 * and its standard output read through a pipe; it must exit 0 and write
 * something (starting with PREFIX when given).
 *
 * Encrypts the message again and again until N seconds have passed (at
 * least once), then prints one line:
 *
 *   msgs=M secs=S rate=R cpu_ms=C
 *
 * R = M / S messages per second (1 decimal); C is the CPU time (user +
 * system) per message of this process and of every process it started
 * that has exited (GPGME's gpg runs, the COMMAND runs), in ms: a figure
 * that other jobs on the machine disturb less than R. GPGME double-forks
 * (its gpg processes are grandchildren), so this process makes itself a
 * child subreaper and reaps what gets reparented to it; daemons that
 * stay up (gpg-agent) are not counted, for either side.
 * The first output is checked once: non-empty, starting with a header
 * field (in-process) or PREFIX (command); --out FILE keeps it there.
 * Exit 0, or 1 on any error (message on stderr), 2 on bad usage.
 */
#define _GNU_SOURCE		/* memmem, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "pgp.h"
#include "smime.h"
#include "lib/buf.h"
#include "lib/numparse.h"
#include "lib/xalloc.h"

extern char **environ;

#define MSG_MAX		(64u * 1024 * 1024)	/* input message */
#define OUT_MAX		(256u * 1024 * 1024)	/* one encrypted message */

static void
usage(void)
{
	fprintf(stderr, "usage: crypto_bench (--pgp GNUPGHOME --fpr FPR | "
	    "--smime CERT.pem [--cipher gcm|cbc]) --msg FILE --seconds N "
	    "[--out FILE]\n"
	    "       crypto_bench --msg FILE --seconds N [--expect PREFIX] "
	    "[--out FILE] -- COMMAND [ARG ...]\n");
	exit(2);
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "crypto_bench: %s%s%s\n", what,
	    why != NULL ? ": " : "", why != NULL ? why : "");
	exit(1);
}

/* read_file - the whole of path into b; 0 ok, -1 failed */
static int
read_file(const char *path, struct buf *b)
{
	char chunk[65536];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = 0;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) != 0) {
			rc = -1;
			break;
		}
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

static int
write_file(const char *path, const char *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = n == 0 || fwrite(p, 1, n, f) == n;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* cpu_s - user + system seconds of this process and its reaped children */
static double
cpu_s(void)
{
	struct rusage s, c;

	getrusage(RUSAGE_SELF, &s);
	getrusage(RUSAGE_CHILDREN, &c);
	return (double)(s.ru_utime.tv_sec + s.ru_stime.tv_sec +
	    c.ru_utime.tv_sec + c.ru_stime.tv_sec) +
	    (double)(s.ru_utime.tv_usec + s.ru_stime.tv_usec +
	    c.ru_utime.tv_usec + c.ru_stime.tv_usec) / 1e6;
}

/* reap - collect exited (reparented) descendants, so that their CPU time
 * counts in RUSAGE_CHILDREN; wait_ms > 0: keep at it that long */
static void
reap(int wait_ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int st, i;

	for (i = 0;; i += 10) {
		while (waitpid(-1, &st, WNOHANG) > 0)
			;
		if (i >= wait_ms)
			break;
		nanosleep(&ts, NULL);
	}
}

/* starts_with_field - out begins with a header field ("Name: ...") and
 * has the empty line that ends the header */
static int
starts_with_field(const struct buf *o)
{
	size_t i;

	for (i = 0; i < o->len; i++) {
		unsigned char c = (unsigned char)o->data[i];

		if (c == ':')
			break;
		if (c <= ' ' || c >= 127)
			return 0;
	}
	if (i == 0 || i == o->len)
		return 0;
	return memmem(o->data, o->len, "\r\n\r\n", 4) != NULL;
}

/* run_cmd - one run of argv with msg_path as stdin; its stdout into out.
 * 0 ok, -1 with why */
static int
run_cmd(char **argv, const char *msg_path, struct buf *out, char *why,
    size_t whylen)
{
	posix_spawn_file_actions_t fa;
	char chunk[65536];
	int p[2], st, rc = 0, e;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, msg_path, O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (e != 0) {
		close(p[0]);
		snprintf(why, whylen, "%s: %s", argv[0], strerror(e));
		return -1;
	}
	for (;;) {
		n = read(p[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (rc == 0 && buf_append(out, chunk, (size_t)n) != 0) {
			snprintf(why, whylen, "%s: output too large", argv[0]);
			rc = -1;	/* keep reading: let it finish */
		}
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (rc != 0)
		return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(why, whylen, "%s: %s %d", argv[0],
		    WIFEXITED(st) ? "exit status" : "killed by signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return -1;
	}
	if (out->len == 0) {
		snprintf(why, whylen, "%s: no output", argv[0]);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *home = NULL, *fpr = NULL, *certf = NULL, *msgf = NULL;
	const char *outf = NULL, *expect = NULL;
	char **cmd = NULL;
	enum smime_cipher cipher = SMIME_AES256_GCM;
	struct pgp_ctx *pc = NULL;
	X509 *cert = NULL;
	struct buf msg, out;
	unsigned long long msgs = 0;
	double secs = 0, t0, el, c0, c1;
	uint64_t v;
	char *err = NULL, why[512];
	int a, modes;

	for (a = 1; a < argc; a++) {
		const char *o = argv[a];
		const char *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (strcmp(o, "--") == 0) {
			if (a + 1 >= argc)
				usage();
			cmd = argv + a + 1;
			break;
		}
		if (val == NULL)
			usage();
		a++;
		if (strcmp(o, "--pgp") == 0)
			home = val;
		else if (strcmp(o, "--fpr") == 0)
			fpr = val;
		else if (strcmp(o, "--smime") == 0)
			certf = val;
		else if (strcmp(o, "--cipher") == 0) {
			if (strcmp(val, "gcm") == 0)
				cipher = SMIME_AES256_GCM;
			else if (strcmp(val, "cbc") == 0)
				cipher = SMIME_AES256_CBC;
			else
				usage();
		} else if (strcmp(o, "--msg") == 0)
			msgf = val;
		else if (strcmp(o, "--out") == 0)
			outf = val;
		else if (strcmp(o, "--expect") == 0)
			expect = val;
		else if (strcmp(o, "--seconds") == 0) {
			if (num_parse_u64_str(val, 1, 86400, &v) < 0)
				usage();
			secs = (double)v;
		} else
			usage();
	}
	modes = (home != NULL) + (certf != NULL) + (cmd != NULL);
	if (modes != 1 || msgf == NULL || secs <= 0 ||
	    (home != NULL) != (fpr != NULL) ||
	    (expect != NULL && cmd == NULL))
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		die("prctl(PR_SET_CHILD_SUBREAPER)", strerror(errno));

	buf_init(&msg, MSG_MAX);
	if (read_file(msgf, &msg) != 0 || msg.len == 0)
		die(msgf, "cannot read (or empty, or too large)");
	buf_init(&out, OUT_MAX);

	if (home != NULL) {
		if ((pc = pgp_ctx_new(home, &err)) == NULL)
			die("pgp_ctx_new", err);
	} else if (certf != NULL) {
		if ((cert = smime_load_cert_pem(certf, &err)) == NULL)
			die(certf, err);
	}

	reap(0);	/* GPGME's start-up runs (engine versions) */
	c0 = cpu_s();
	t0 = now_s();
	do {
		buf_reset(&out);
		if (pc != NULL) {
			const char *fprs[1] = { fpr };

			if (pgp_encrypt_mime(pc, msg.data, msg.len, fprs, 1,
			    NULL, &out, &err) != 0)
				die("pgp_encrypt_mime", err);
		} else if (cert != NULL) {
			if (smime_encrypt(msg.data, msg.len, &cert, 1, cipher,
			    &out, &err) != 0)
				die("smime_encrypt", err);
		} else if (run_cmd(cmd, msgf, &out, why, sizeof(why)) != 0) {
			die("command", why);
		}
		if (msgs == 0) {
			if (out.len == 0)
				die("first output", "empty");
			if (expect != NULL ? out.len < strlen(expect) ||
			    memcmp(out.data, expect, strlen(expect)) != 0 :
			    cmd == NULL && !starts_with_field(&out))
				die("first output", expect != NULL ?
				    "does not start with the expected prefix" :
				    "does not start with a header");
			if (outf != NULL &&
			    write_file(outf, out.data, out.len) != 0)
				die(outf, "cannot write");
		}
		msgs++;
		reap(0);
		el = now_s() - t0;
	} while (el < secs);
	reap(200);	/* the last run's gpg may still be exiting */
	c1 = cpu_s();

	printf("msgs=%llu secs=%.2f rate=%.1f cpu_ms=%.2f\n", msgs, el,
	    (double)msgs / el, (c1 - c0) * 1000.0 / (double)msgs);
	if (fflush(stdout) != 0)
		die("stdout", "write failed");

	pgp_ctx_free(&pc);
	X509_free(cert);
	buf_free(&out);
	buf_free(&msg);
	return 0;
}
