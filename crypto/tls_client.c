/*
 * tls_client.c - the delivery side's TLS context and per-connection setup.
 *
 * Implements: RFC 3207 (client side of STARTTLS), RFC 6066 3 (SNI, never
 * for an IP literal), RFC 6125 (host name check via SSL_set1_host, wildcard
 * only as the whole left-most label), RFC 8446 4.6.1 / RFC 5077 (session
 * resumption).
 * Trust: the peer is an arbitrary MX; nothing here reads the network.
 * Ownership: the session cache hangs off the SSL_CTX (ex_data) and is
 * freed with it; per-connection state hangs off the SSL and is freed with
 * it. Sessions are kept serialized (DER), so no SSL_SESSION object is
 * shared between worker threads.
 * Library module: never logs.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "tls_client.h"
#include "tls_ctx.h"

#define DEFAULT_CIPHERS	"DEFAULT:!aNULL:!eNULL:!3DES:!RC4:!MD5:!DES"
#define SESS_KEY_MAX	320

struct sess_entry {
	char key[SESS_KEY_MAX];		/* "host:port/level"; "" = free slot */
	unsigned char *der;
	size_t len;
	time_t expires;
	unsigned long stamp;		/* last store or use: LRU */
};

struct sess_cache {
	pthread_mutex_t lock;
	struct sess_entry e[TLS_CLIENT_SESS_MAX];
	unsigned long clock;
};

/* per connection: which destination, and a session held back until the
 * connection has passed every check */
struct conn_sess {
	char key[SESS_KEY_MAX];
	int committed;
	SSL_SESSION *pending;
};

static pthread_once_t idx_once = PTHREAD_ONCE_INIT;
static int ctx_idx = -1;
static int ssl_idx = -1;

static void
sess_entry_clear(struct sess_entry *e)
{
	if (e->der != NULL) {
		OPENSSL_cleanse(e->der, e->len);
		xfree(e->der);
	}
	memset(e, 0, sizeof(*e));
}

/* cache_free_cb - ex_data destructor: runs inside SSL_CTX_free() */
static void
cache_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct sess_cache *c = ptr;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < TLS_CLIENT_SESS_MAX; i++)
		sess_entry_clear(&c->e[i]);
	pthread_mutex_destroy(&c->lock);
	xfree(c);
}

/* conn_free_cb - ex_data destructor: runs inside SSL_free() */
static void
conn_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct conn_sess *cs = ptr;

	if (cs == NULL)
		return;
	SSL_SESSION_free(cs->pending);
	xfree(cs);
}

static void
idx_init(void)
{
	ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    cache_free_cb);
	ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free_cb);
}

/* cache_put - store sess for key, replacing the old one or the least
 * recently used entry (the cache never grows past TLS_CLIENT_SESS_MAX) */
static void
cache_put(struct sess_cache *c, const char *key, SSL_SESSION *sess)
{
	struct sess_entry *slot = NULL;
	unsigned char *der, *p;
	int n;
	size_t i;
	time_t now = time(NULL);

	if (!SSL_SESSION_is_resumable(sess))
		return;
	n = i2d_SSL_SESSION(sess, NULL);
	if (n <= 0 || (size_t)n > TLS_CLIENT_SESS_DER_MAX)
		return;
	der = try_malloc((size_t)n);
	if (der == NULL)
		return;
	p = der;
	if (i2d_SSL_SESSION(sess, &p) != n) {
		xfree(der);
		return;
	}
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < TLS_CLIENT_SESS_MAX && slot == NULL; i++)
		if (strcmp(c->e[i].key, key) == 0)
			slot = &c->e[i];
	for (i = 0; i < TLS_CLIENT_SESS_MAX && slot == NULL; i++)
		if (c->e[i].key[0] == '\0' || c->e[i].expires <= now)
			slot = &c->e[i];
	if (slot == NULL) {
		slot = &c->e[0];
		for (i = 1; i < TLS_CLIENT_SESS_MAX; i++)
			if (c->e[i].stamp < slot->stamp)
				slot = &c->e[i];
	}
	sess_entry_clear(slot);
	snprintf(slot->key, sizeof(slot->key), "%s", key);
	slot->der = der;
	slot->len = (size_t)n;
	slot->expires = (time_t)SSL_SESSION_get_time(sess) +
	    (time_t)SSL_SESSION_get_timeout(sess);
	slot->stamp = ++c->clock;
	pthread_mutex_unlock(&c->lock);
}

/* cache_get - a fresh copy of the session stored for key, or NULL */
static SSL_SESSION *
cache_get(struct sess_cache *c, const char *key)
{
	SSL_SESSION *s = NULL;
	const unsigned char *p;
	time_t now = time(NULL);
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < TLS_CLIENT_SESS_MAX; i++) {
		struct sess_entry *e = &c->e[i];

		if (e->key[0] == '\0' || strcmp(e->key, key) != 0)
			continue;
		if (e->expires <= now) {
			sess_entry_clear(e);
			break;
		}
		p = e->der;
		s = d2i_SSL_SESSION(NULL, &p, (long)e->len);
		e->stamp = ++c->clock;
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return s;
}

static void
cache_forget(struct sess_cache *c, const char *key)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < TLS_CLIENT_SESS_MAX; i++)
		if (c->e[i].key[0] != '\0' && strcmp(c->e[i].key, key) == 0)
			sess_entry_clear(&c->e[i]);
	pthread_mutex_unlock(&c->lock);
}

/* new_session_cb - OpenSSL hands us each new session (TLS 1.2: during the
 * handshake; TLS 1.3: each ticket, after it). Before the connection has
 * passed our checks the session is only held, so a connection we refuse
 * (floor, bits, name) never seeds a resumption. Returns 1: we own sess. */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct conn_sess *cs = SSL_get_ex_data(ssl, ssl_idx);
	struct sess_cache *c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
	    ctx_idx);

	if (cs == NULL || c == NULL)
		return 0;
	if (cs->committed) {
		cache_put(c, cs->key, sess);
		SSL_SESSION_free(sess);
		return 1;
	}
	SSL_SESSION_free(cs->pending);
	cs->pending = sess;
	return 1;
}

/* has_weak_cipher - an enabled cipher with fewer than 128 secret bits */
static int
has_weak_cipher(SSL_CTX *ctx)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
	int i;

	for (i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *ci = sk_SSL_CIPHER_value(sk, i);

		if (SSL_CIPHER_get_bits(ci, NULL) < 128)
			return 1;
	}
	return 0;
}

static char *
tls_fail(const char *what)
{
	char *detail = tls_errors();
	struct buf b;

	buf_init(&b, 4096);
	(void)buf_printf(&b, "%s: %s", what, detail);
	xfree(detail);
	return buf_steal(&b, NULL);
}

SSL_CTX *
tls_client_ctx_new(const struct tls_client_conf *c, char **err_out)
{
	SSL_CTX *ctx;
	struct sess_cache *cache;
	int minv = c->min_version == 0 ? TLS1_2_VERSION : c->min_version;

	*err_out = NULL;
	pthread_once(&idx_once, idx_init);
	if (ctx_idx < 0 || ssl_idx < 0) {
		*err_out = xstrdup("TLS client: no ex_data index");
		return NULL;
	}
	if (minv < TLS1_VERSION)
		minv = TLS1_VERSION;
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		*err_out = tls_fail("SSL_CTX_new");
		return NULL;
	}
	cache = xcalloc(1, sizeof(*cache));
	pthread_mutex_init(&cache->lock, NULL);
	if (SSL_CTX_set_ex_data(ctx, ctx_idx, cache) != 1) {
		cache_free_cb(NULL, cache, NULL, 0, 0, NULL);
		*err_out = tls_fail("SSL_CTX_set_ex_data");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (minv < TLS1_2_VERSION)
		/* OpenSSL 3 refuses TLS < 1.2 at security level 1+ (SHA-1). */
		SSL_CTX_set_security_level(ctx, 0);
	if (SSL_CTX_set_min_proto_version(ctx, minv) != 1) {
		*err_out = tls_fail("TLS minimum version");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_SSLv3);
	if (SSL_CTX_set_cipher_list(ctx,
	    c->ciphers != NULL ? c->ciphers : DEFAULT_CIPHERS) != 1) {
		*err_out = tls_fail("cipher list");
		goto fail;
	}
	if (c->ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, c->ciphersuites) != 1) {
		*err_out = tls_fail("TLS 1.3 cipher suites");
		goto fail;
	}
	if (has_weak_cipher(ctx)) {
		*err_out = xstrdup("cipher list enables a cipher under 128 bits");
		goto fail;
	}
	if (c->ca_file != NULL || c->ca_path != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, c->ca_file,
		    c->ca_path) != 1) {
			*err_out = tls_fail(c->ca_file != NULL ? c->ca_file :
			    c->ca_path);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		*err_out = tls_fail("system CA store");
		goto fail;
	}
	/* peer verification is switched on per connection (verify level) */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* is_ip_literal - SNI must not carry an address (RFC 6066 3) */
static int
is_ip_literal(const char *h)
{
	unsigned char a[16];

	return inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1;
}

SSL *
tls_client_ssl_new(SSL_CTX *ctx, const char *host, const char *dest,
    enum tls_level level, char **err_out)
{
	struct sess_cache *cache;
	struct conn_sess *cs;
	SSL_SESSION *sess;
	SSL *ssl;
	char name[256];
	size_t n;

	*err_out = NULL;
	pthread_once(&idx_once, idx_init);
	cache = ctx_idx < 0 ? NULL : SSL_CTX_get_ex_data(ctx, ctx_idx);
	n = strlen(host);
	if (n == 0 || n >= sizeof(name)) {
		*err_out = xstrdup("TLS client: bad host name");
		return NULL;
	}
	memcpy(name, host, n + 1);
	if (name[n - 1] == '.')
		name[n - 1] = '\0';
	ERR_clear_error();
	ssl = SSL_new(ctx);
	if (ssl == NULL) {
		*err_out = tls_fail("SSL_new");
		return NULL;
	}
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	cs = xcalloc(1, sizeof(*cs));
	snprintf(cs->key, sizeof(cs->key), "%s/%s", dest,
	    tls_level_name(level));
	if (SSL_set_ex_data(ssl, ssl_idx, cs) != 1) {
		xfree(cs);
		*err_out = tls_fail("SSL_set_ex_data");
		SSL_free(ssl);
		return NULL;
	}
	if (!is_ip_literal(name) &&
	    SSL_set_tlsext_host_name(ssl, name) != 1) {
		*err_out = tls_fail("SNI");
		goto fail;
	}
	if (level >= TLS_LEVEL_VERIFY) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		int ok;

		X509_VERIFY_PARAM_set_hostflags(vp,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (is_ip_literal(name))
			ok = X509_VERIFY_PARAM_set1_ip_asc(vp, name);
		else
			ok = SSL_set1_host(ssl, name);
		if (ok != 1) {
			*err_out = tls_fail("peer name");
			goto fail;
		}
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	}
	if (cache != NULL) {
		sess = cache_get(cache, cs->key);
		if (sess != NULL) {
			/* a stale or unusable session just means a full
			 * handshake */
			(void)SSL_set_session(ssl, sess);
			SSL_SESSION_free(sess);
			ERR_clear_error();
		}
	}
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

void
tls_client_session_commit(SSL *ssl)
{
	struct conn_sess *cs = SSL_get_ex_data(ssl, ssl_idx);
	struct sess_cache *c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
	    ctx_idx);

	if (cs == NULL || c == NULL)
		return;
	cs->committed = 1;
	if (cs->pending != NULL) {
		cache_put(c, cs->key, cs->pending);
		SSL_SESSION_free(cs->pending);
		cs->pending = NULL;
	}
}

void
tls_client_session_forget(SSL *ssl)
{
	struct conn_sess *cs = SSL_get_ex_data(ssl, ssl_idx);
	struct sess_cache *c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
	    ctx_idx);

	if (cs == NULL || c == NULL)
		return;
	cs->committed = 0;
	SSL_SESSION_free(cs->pending);
	cs->pending = NULL;
	cache_forget(c, cs->key);
}

size_t
tls_client_session_count(SSL_CTX *ctx)
{
	struct sess_cache *c;
	size_t i, n = 0;

	pthread_once(&idx_once, idx_init);
	c = SSL_CTX_get_ex_data(ctx, ctx_idx);
	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < TLS_CLIENT_SESS_MAX; i++)
		if (c->e[i].key[0] != '\0')
			n++;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static const char *const level_names[] = {
	[TLS_LEVEL_NONE] = "none",
	[TLS_LEVEL_MAY] = "may",
	[TLS_LEVEL_ENCRYPT] = "encrypt",
	[TLS_LEVEL_VERIFY] = "verify",
};

const char *
tls_level_name(enum tls_level l)
{
	if ((unsigned)l >= sizeof(level_names) / sizeof(level_names[0]))
		return "unknown";
	return level_names[l];
}

int
tls_level_parse(const char *s, enum tls_level *out)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum tls_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
tls_verified_name(enum tls_verified v)
{
	switch (v) {
	case TLS_VERIFIED_NONE:
		return "none";
	case TLS_VERIFIED_CA:
		return "ca";
	case TLS_VERIFIED_FAILED:
		return "failed";
	}
	return "unknown";
}
