/*
 * tls_client.c - the delivery side's TLS context and per-connection setup.
 *
 * Implements: RFC 3207 (client side of STARTTLS), RFC 6066 3 (SNI, never
 * for an IP literal), RFC 6125 (host name check via SSL_set1_host, wildcard
 * only as the whole left-most label), RFC 8446 4.6.1 / RFC 5077 (session
 * resumption), RFC 7672 3 / RFC 6698 / RFC 7671 (DANE authentication via
 * OpenSSL's SSL_dane_* API; digest agility, RFC 7671 9, is OpenSSL's).
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
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
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
	enum tls_level level;
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
	/* peer verification is switched on per connection (verify, dane);
	 * the chain is still checked at the other levels, and the result
	 * kept for the certificate facts */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (SSL_CTX_dane_enable(ctx) <= 0) {
		*err_out = tls_fail("DANE support");
		goto fail;
	}
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

/* tlsa_digest - hex of SHA-256 over the records, for the session key */
static int
tlsa_digest(const struct tls_tlsa *recs, size_t n, char *hex, size_t hexsz)
{
	static const char xd[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE], hdr[7];
	unsigned int mdlen = 0;
	EVP_MD_CTX *m;
	size_t i;
	int ok;

	m = EVP_MD_CTX_new();
	if (m == NULL)
		return -1;
	ok = EVP_DigestInit_ex(m, EVP_sha256(), NULL);
	for (i = 0; ok && i < n; i++) {
		/* fixed-size header: no two record lists hash alike */
		hdr[0] = recs[i].usage;
		hdr[1] = recs[i].selector;
		hdr[2] = recs[i].mtype;
		hdr[3] = (unsigned char)(recs[i].len >> 24);
		hdr[4] = (unsigned char)(recs[i].len >> 16);
		hdr[5] = (unsigned char)(recs[i].len >> 8);
		hdr[6] = (unsigned char)recs[i].len;
		ok = EVP_DigestUpdate(m, hdr, sizeof(hdr)) &&
		    EVP_DigestUpdate(m, recs[i].data, recs[i].len);
	}
	if (ok)
		ok = EVP_DigestFinal_ex(m, md, &mdlen);
	EVP_MD_CTX_free(m);
	if (!ok)
		return -1;
	/* 16 bytes are plenty to tell RRsets apart */
	for (i = 0; i < 16 && i < mdlen && 2 * i + 2 < hexsz; i++) {
		hex[2 * i] = xd[md[i] >> 4];
		hex[2 * i + 1] = xd[md[i] & 0x0f];
	}
	hex[2 * i] = '\0';
	return 0;
}

/* dane_setup - OpenSSL's DANE on ssl for name with recs; 0 / -1 *err_out */
static int
dane_setup(SSL *ssl, const char *name, const struct tls_tlsa *recs,
    size_t n, char **err_out)
{
	size_t i, usable = 0;
	int r;

	if (is_ip_literal(name)) {
		*err_out = xstrdup("TLS client: DANE needs a host name");
		return -1;
	}
	/* the reference identifier for DANE-TA(2) name checks, RFC 7672
	 * 3.2.2; the MX host name (a CNAME's target is not looked at) */
	if (SSL_dane_enable(ssl, name) <= 0) {
		*err_out = tls_fail("SSL_dane_enable");
		return -1;
	}
	X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl),
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	/* RFC 7672 3.1.1: DANE-EE(3) binds the key to the service; the
	 * names in the certificate do not matter */
	(void)SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (i = 0; i < n; i++) {
		/* RFC 7672 3.1.3: PKIX-TA(0)/PKIX-EE(1) are not for SMTP,
		 * though OpenSSL would take them */
		if (recs[i].data == NULL || recs[i].len == 0 ||
		    (recs[i].usage != 2 && recs[i].usage != 3))
			continue;
		r = SSL_dane_tlsa_add(ssl, recs[i].usage, recs[i].selector,
		    recs[i].mtype, recs[i].data, recs[i].len);
		if (r < 0) {
			*err_out = tls_fail("SSL_dane_tlsa_add");
			return -1;
		}
		if (r > 0)
			usable++;
	}
	/* 0 returns are unusable records (RFC 7671 4.1); with none left
	 * OpenSSL would quietly fall back to PKIX: refuse instead */
	ERR_clear_error();
	if (usable == 0) {
		*err_out = xstrdup("TLS client: no usable TLSA record");
		return -1;
	}
	return 0;
}

/* ssl_setup - tls_client_ssl_new() and tls_client_ssl_new_dane() */
static SSL *
ssl_setup(SSL_CTX *ctx, const char *host, const char *dest,
    enum tls_level level, const struct tls_tlsa *recs, size_t nrecs,
    char **err_out)
{
	struct sess_cache *cache;
	struct conn_sess *cs;
	SSL_SESSION *sess;
	SSL *ssl;
	char name[256], hex[40];
	size_t n;

	*err_out = NULL;
	pthread_once(&idx_once, idx_init);
	cache = ctx_idx < 0 ? NULL : SSL_CTX_get_ex_data(ctx, ctx_idx);
	n = strlen(host);
	if (n == 0 || n >= sizeof(name)) {
		*err_out = xstrdup("TLS client: bad host name");
		return NULL;
	}
	if ((unsigned)level > TLS_LEVEL_DANE) {
		*err_out = xstrdup("TLS client: bad level");
		return NULL;
	}
	if (level == TLS_LEVEL_DANE && (recs == NULL || nrecs == 0)) {
		*err_out = xstrdup("TLS client: DANE without TLSA records");
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
	cs->level = level;
	if (level == TLS_LEVEL_DANE) {
		if (tlsa_digest(recs, nrecs, hex, sizeof(hex)) < 0) {
			xfree(cs);
			*err_out = tls_fail("TLSA digest");
			SSL_free(ssl);
			return NULL;
		}
		snprintf(cs->key, sizeof(cs->key), "%s/dane/%s", dest, hex);
	} else {
		snprintf(cs->key, sizeof(cs->key), "%s/%s", dest,
		    tls_level_name(level));
	}
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
	if (level == TLS_LEVEL_DANE) {
		if (dane_setup(ssl, name, recs, nrecs, err_out) < 0)
			goto fail;
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	} else if (level == TLS_LEVEL_VERIFY) {
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

SSL *
tls_client_ssl_new(SSL_CTX *ctx, const char *host, const char *dest,
    enum tls_level level, char **err_out)
{
	if (level == TLS_LEVEL_DANE) {
		*err_out = xstrdup("TLS client: DANE needs TLSA records "
		    "(tls_client_ssl_new_dane)");
		return NULL;
	}
	return ssl_setup(ctx, host, dest, level, NULL, 0, err_out);
}

SSL *
tls_client_ssl_new_dane(SSL_CTX *ctx, const char *host, const char *dest,
    const struct tls_tlsa *recs, size_t nrecs, char **err_out)
{
	return ssl_setup(ctx, host, dest, TLS_LEVEL_DANE, recs, nrecs,
	    err_out);
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

int
tls_client_dane_match(SSL *ssl, int *usage_out, int *depth_out)
{
	const unsigned char *data = NULL;
	uint8_t usage = 0, selector = 0, mtype = 0;
	size_t dlen = 0;
	int depth;

	*usage_out = -1;
	*depth_out = -1;
	depth = SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data,
	    &dlen);
	if (depth < 0)
		return 0;
	*usage_out = usage;
	*depth_out = depth;
	return 1;
}

/* --- certificate facts --------------------------------------------------- */

/* printable_copy - network text into dst: bytes outside printable ASCII
 * (and ',' when no_comma) as '?'; always terminated; returns the length */
static size_t
printable_copy(char *dst, size_t dstsz, const unsigned char *src, size_t n,
    int no_comma)
{
	size_t i, o = 0;

	if (dstsz == 0)
		return 0;
	for (i = 0; i < n && o + 1 < dstsz; i++) {
		unsigned char c = src[i];

		if (c < 0x20 || c > 0x7e || (no_comma && c == ','))
			c = '?';
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return o;
}

/* name_text - an X509_NAME in RFC 2253 form (non-ASCII escaped by
 * OpenSSL as \XX), printable, truncated to dstsz */
static void
name_text(const X509_NAME *nm, char *dst, size_t dstsz)
{
	BIO *b;
	char *p;
	long n;

	dst[0] = '\0';
	if (nm == NULL)
		return;
	b = BIO_new(BIO_s_mem());
	if (b != NULL && X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_get_mem_data(b, &p);
		if (n > 0)
			(void)printable_copy(dst, dstsz,
			    (const unsigned char *)p, (size_t)n, 0);
	}
	BIO_free(b);
}

/* asn1_unix - an ASN1_TIME as unix time, 0 when unreadable */
static int64_t
asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;

	/* ASN1_TIME_to_tm(NULL) would give the current time */
	if (t == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/* san_names - the dNSNames joined by ',', whole names only */
static void
san_names(X509 *leaf, struct tls_cert_facts *out)
{
	GENERAL_NAMES *gens;
	size_t off = 0, len;
	int i, full = 0;

	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		char tmp[TLS_CERT_NAMES_MAX];

		if (g->type != GEN_DNS || g->d.dNSName == NULL)
			continue;
		out->names_total++;
		if (full)
			continue;
		d = ASN1_STRING_get0_data(g->d.dNSName);
		len = (size_t)ASN1_STRING_length(g->d.dNSName);
		/* a name, its separator and the NUL must fit; once one does
		 * not, the list stops there (its order is kept) */
		if (len == 0 || off + (off > 0) + len + 1 > sizeof(out->names)) {
			full = len > 0;
			continue;
		}
		(void)printable_copy(tmp, sizeof(tmp), d, len, 1);
		if (off > 0)
			out->names[off++] = ',';
		memcpy(out->names + off, tmp, len + 1);
		off += len;
		out->names_listed++;
	}
	GENERAL_NAMES_free(gens);
}

/* pkix_check - leaf and the untrusted chain against store: 1 / 0 */
static int
pkix_check(X509 *leaf, STACK_OF(X509) *chain, X509_STORE *store,
    char *why, size_t whysz)
{
	X509_STORE_CTX *sc;
	int r = 0;

	why[0] = '\0';
	sc = X509_STORE_CTX_new();
	if (sc == NULL || X509_STORE_CTX_init(sc, store, leaf, chain) != 1) {
		snprintf(why, whysz, "cannot set up the check");
		X509_STORE_CTX_free(sc);
		ERR_clear_error();
		return 0;
	}
	/* what a TLS client checks, without a name: purpose and trust */
	(void)X509_STORE_CTX_set_default(sc, "ssl_server");
	if (X509_verify_cert(sc) == 1)
		r = 1;
	else
		snprintf(why, whysz, "%s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(sc)));
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	return r;
}

/* host_match - RFC 6125 as the verify level checks it */
static int
host_match(X509 *leaf, const char *host)
{
	char name[256];
	size_t n;

	if (host == NULL)
		return 0;
	n = strlen(host);
	if (n == 0 || n >= sizeof(name))
		return 0;
	memcpy(name, host, n + 1);
	if (name[n - 1] == '.')
		name[--n] = '\0';
	if (n == 0)
		return 0;
	if (is_ip_literal(name))
		return X509_check_ip_asc(leaf, name, 0) == 1;
	return X509_check_host(leaf, name, n,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}

void
tls_cert_facts_get(X509 *leaf, STACK_OF(X509) *chain, X509_STORE *store,
    const char *host, struct tls_cert_facts *out)
{
	EVP_PKEY *pk;
	const char *kt;

	memset(out, 0, sizeof(*out));
	out->pkix_valid = -1;
	if (leaf == NULL)
		return;
	out->have_cert = 1;
	name_text(X509_get_subject_name(leaf), out->subject,
	    sizeof(out->subject));
	name_text(X509_get_issuer_name(leaf), out->issuer,
	    sizeof(out->issuer));
	san_names(leaf, out);
	out->not_before = asn1_unix(X509_get0_notBefore(leaf));
	out->not_after = asn1_unix(X509_get0_notAfter(leaf));
	pk = X509_get0_pubkey(leaf);
	if (pk != NULL) {
		out->key_bits = EVP_PKEY_get_bits(pk);
		kt = EVP_PKEY_get0_type_name(pk);
		if (kt == NULL)
			kt = OBJ_nid2sn(EVP_PKEY_get_base_id(pk));
		if (kt != NULL)
			(void)printable_copy(out->key_type,
			    sizeof(out->key_type), (const unsigned char *)kt,
			    strlen(kt), 0);
	}
	if (store != NULL)
		out->pkix_valid = pkix_check(leaf, chain, store,
		    out->pkix_error, sizeof(out->pkix_error));
	out->name_match = host_match(leaf, host);
	ERR_clear_error();
}

void
tls_client_peer_facts(SSL *ssl, const char *host, struct tls_cert_facts *out)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	struct conn_sess *cs;
	long vr;

	pthread_once(&idx_once, idx_init);
	cs = ssl_idx < 0 ? NULL : SSL_get_ex_data(ssl, ssl_idx);
	/* a handshake that failed verification has the chain the peer sent
	 * (leaf first, on the client side) but no peer certificate */
	if (leaf == NULL && chain != NULL && sk_X509_num(chain) > 0)
		leaf = sk_X509_value(chain, 0);
	if (!SSL_session_reused(ssl) || (chain != NULL &&
	    sk_X509_num(chain) > 0)) {
		tls_cert_facts_get(leaf, chain,
		    SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl)), host, out);
		return;
	}
	/* resumed: the session kept the leaf but not the chain, and the
	 * result of the check made when it was new */
	tls_cert_facts_get(leaf, NULL, NULL, host, out);
	if (leaf == NULL || cs == NULL || cs->level == TLS_LEVEL_DANE)
		return;
	vr = SSL_get_verify_result(ssl);
	out->pkix_valid = vr == X509_V_OK;
	if (vr != X509_V_OK)
		snprintf(out->pkix_error, sizeof(out->pkix_error), "%s",
		    X509_verify_cert_error_string(vr));
}

static const char *const level_names[] = {
	[TLS_LEVEL_NONE] = "none",
	[TLS_LEVEL_MAY] = "may",
	[TLS_LEVEL_ENCRYPT] = "encrypt",
	[TLS_LEVEL_VERIFY] = "verify",
	[TLS_LEVEL_DANE] = "dane",
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
	case TLS_VERIFIED_DANE:
		return "dane";
	case TLS_VERIFIED_MTA_STS:
		return "mta-sts";
	}
	return "unknown";
}
