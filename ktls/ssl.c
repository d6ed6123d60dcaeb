/* ssl.c - hand a finished OpenSSL handshake over to the kernel: capture the traffic secrets,
 * count the records each side protected with them, and refuse when the switch is not safe. */
#include "ktls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

enum { DIR_TX = KTLS_DIR_TX, DIR_RX = KTLS_DIR_RX }; /* index of secret[], counts */

/* Per SSL, in its ex_data; wiped and freed with the SSL. */
struct ssl_state {
	uint8_t secret[2][EVP_MAX_MD_SIZE]; /* TLS 1.3 application traffic secrets, TX and RX */
	size_t secret_len[2];
	/* Records seen per direction after the last ChangeCipherSpec (TLS 1.2: the record after it
	 * is the first under the new key) and after Finished (TLS 1.3: the key changes right after
	 * each side's Finished, which must end a record, RFC 8446 §5.1). */
	uint64_t after_ccs[2], after_fin[2];
	unsigned ccs[2], fin[2];
	bool key_update;
};

/* Per SSL_CTX: the keylog callback that was there before ours, still called. */
struct ctx_state {
	SSL_CTX_keylog_cb_func prev;
};

/* ex_data indexes are allocated once per process and never change afterwards: a constant written
 * once before any thread reads it, not mutable state; OpenSSL offers no other way to hang data on
 * an SSL. */
static CRYPTO_ONCE ex_once = CRYPTO_ONCE_STATIC_INIT;
static int ssl_index = -1, ctx_index = -1;

static void ssl_state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			   void *argp)
{
	OPENSSL_clear_free(ptr, sizeof(struct ssl_state));
}

static void ctx_state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			   void *argp)
{
	OPENSSL_free(ptr);
}

static void ex_init(void)
{
	ssl_index = SSL_get_ex_new_index(0, "ktls", NULL, NULL, ssl_state_free);
	ctx_index = SSL_CTX_get_ex_new_index(0, "ktls", NULL, NULL, ctx_state_free);
}

static int ex_ready(void)
{
	if (!CRYPTO_THREAD_run_once(&ex_once, ex_init) || ssl_index < 0 || ctx_index < 0)
		return -ENOMEM;
	return 0;
}

static int unhex(const char *s, size_t n, uint8_t *out, size_t max)
{
	size_t i;
	int hi, lo;

	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		hi = OPENSSL_hexchar2int((unsigned char)s[2 * i]);
		lo = OPENSSL_hexchar2int((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = hi << 4 | lo;
	}
	return (int)(n / 2);
}

/* NSS key log format: "LABEL <client_random hex> <secret hex>". */
static void on_keylog(const SSL *ssl, const char *line)
{
	struct ctx_state *cs = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
	struct ssl_state *st = SSL_get_ex_data(ssl, ssl_index);
	const char *sp;
	int dir = -1, n;

	if (cs && cs->prev)
		cs->prev(ssl, line);
	if (!st)
		return;
	if (!strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24))
		dir = SSL_is_server((SSL *)ssl) ? DIR_TX : DIR_RX;
	else if (!strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24))
		dir = SSL_is_server((SSL *)ssl) ? DIR_RX : DIR_TX;
	if (dir < 0)
		return;
	sp = strchr(line + 24, ' ');
	if (!sp)
		return;
	n = unhex(sp + 1, strlen(sp + 1), st->secret[dir], sizeof(st->secret[dir]));
	st->secret_len[dir] = n > 0 ? (size_t)n : 0;
}

/* Called for every record header (SSL3_RT_HEADER, read and written) and handshake message. */
static void on_msg(int write_p, int version, int content_type, const void *buf, size_t len,
		   SSL *ssl, void *arg)
{
	struct ssl_state *st = SSL_get_ex_data(ssl, ssl_index);
	const uint8_t *b = buf;
	int d = write_p ? DIR_TX : DIR_RX;

	if (!st || len < 1)
		return;
	if (content_type == SSL3_RT_HEADER) {
		st->after_ccs[d]++;
		st->after_fin[d]++;
		if (b[0] == SSL3_RT_CHANGE_CIPHER_SPEC) {
			st->ccs[d]++;
			st->after_ccs[d] = 0;
		}
	} else if (content_type == SSL3_RT_HANDSHAKE) {
		if (b[0] == SSL3_MT_FINISHED) {
			st->fin[d]++;
			st->after_fin[d] = 0;
		} else if (b[0] == SSL3_MT_KEY_UPDATE) {
			st->key_update = true;
		}
	}
}

int ktls_ssl_ctx_prepare(SSL_CTX *ctx, char *why, size_t whylen)
{
	struct ctx_state *cs;

	if (ex_ready() < 0) {
		snprintf(why, whylen, "cannot allocate OpenSSL ex_data indexes");
		return -ENOMEM;
	}
	if (SSL_CTX_get_keylog_callback(ctx) == on_keylog)
		return 0;
	cs = OPENSSL_zalloc(sizeof(*cs));
	if (!cs) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	cs->prev = SSL_CTX_get_keylog_callback(ctx);
	if (!SSL_CTX_set_ex_data(ctx, ctx_index, cs)) {
		OPENSSL_free(cs);
		snprintf(why, whylen, "cannot attach kTLS state to the SSL_CTX");
		return -ENOMEM;
	}
	SSL_CTX_set_keylog_callback(ctx, on_keylog);
	return 0;
}

int ktls_ssl_attach(SSL *ssl, char *why, size_t whylen)
{
	struct ssl_state *st;

	if (ex_ready() < 0 || SSL_CTX_get_keylog_callback(SSL_get_SSL_CTX(ssl)) != on_keylog) {
		snprintf(why, whylen, "ktls_ssl_ctx_prepare() was not called on this SSL_CTX");
		return -EINVAL;
	}
	if (SSL_get_ex_data(ssl, ssl_index))
		return 0;
	st = OPENSSL_zalloc(sizeof(*st));
	if (!st || !SSL_set_ex_data(ssl, ssl_index, st)) {
		OPENSSL_free(st);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	SSL_set_msg_callback(ssl, on_msg);
	return 0;
}

static void wipe_state(struct ssl_state *st)
{
	OPENSSL_cleanse(st->secret, sizeof(st->secret));
	memset(st->secret_len, 0, sizeof(st->secret_len));
}

/* Nothing OpenSSL has read may be lost at the switch: no decrypted bytes waiting for SSL_read,
 * no raw bytes read ahead, no record half read ("RB": header consumed, body not yet). */
static int check_idle(SSL *ssl, char *why, size_t whylen)
{
	int pending = SSL_pending(ssl);
	BIO *wbio = SSL_get_wbio(ssl);

	if (pending > 0) {
		snprintf(why, whylen, "OpenSSL has buffered %d bytes", pending);
		return -EAGAIN;
	}
	if (SSL_has_pending(ssl) || !strcmp(SSL_rstate_string(ssl), "RB")) {
		snprintf(why, whylen, "OpenSSL has read part of a record it has not processed");
		return -EAGAIN;
	}
	/* SSL_READING only says the last SSL_read found the socket empty: nothing is held. */
	if (SSL_want(ssl) == SSL_WRITING || (wbio && BIO_wpending(wbio) > 0)) {
		snprintf(why, whylen, "OpenSSL has bytes not yet written");
		return -EAGAIN;
	}
	if (SSL_want(ssl) != SSL_NOTHING && SSL_want(ssl) != SSL_READING) {
		snprintf(why, whylen, "OpenSSL is in the middle of an operation (SSL_want %d)",
			 SSL_want(ssl));
		return -EAGAIN;
	}
	return 0;
}

static int export13(SSL *ssl, struct ssl_state *st, const struct ktls_cipher *c,
		    struct ktls_crypto *kc[2], char *why, size_t whylen)
{
	uint8_t key[KTLS_KEY_MAX], iv[KTLS_IV_LEN];
	int d, ret = 0;

	for (d = DIR_TX; d <= DIR_RX; d++) {
		if (!st->secret_len[d] || st->fin[d] != 1) {
			snprintf(why, whylen, "%s traffic secret not captured",
				 d == DIR_TX ? "TX" : "RX");
			ret = -EPROTO;
			goto out;
		}
		ret = ktls_tls13_key_iv(c, st->secret[d], st->secret_len[d], key, iv);
		if (ret == 0)
			ret = ktls_crypto_build(kc[d], c, key, iv, st->after_fin[d]);
		if (ret < 0) {
			snprintf(why, whylen, "cannot derive TLS 1.3 keys for %s", c->iana);
			goto out;
		}
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(iv, sizeof(iv));
	return ret;
}

static int export12(SSL *ssl, struct ssl_state *st, const struct ktls_cipher *c,
		    struct ktls_crypto *kc[2], char *why, size_t whylen)
{
	uint8_t master[SSL_MAX_MASTER_KEY_LENGTH], crand[32], srand[32];
	uint8_t kb[2 * (KTLS_KEY_MAX + KTLS_IV_LEN)];
	size_t mlen, kblen = 2u * (c->key_len + c->fixed_iv_len);
	/* Key block order (RFC 5246 §6.3): client key, server key, client IV, server IV. */
	int me = SSL_is_server(ssl) ? 1 : 0, ret = -EPROTO, d, side;
	uint8_t nonce[KTLS_IV_LEN];

	mlen = SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof(master));
	if (!mlen || SSL_get_client_random(ssl, crand, 32) != 32 ||
	    SSL_get_server_random(ssl, srand, 32) != 32 || st->ccs[DIR_TX] != 1 ||
	    st->ccs[DIR_RX] != 1) {
		snprintf(why, whylen, "TLS 1.2 key material not available");
		goto out;
	}
	ret = ktls_tls12_key_block(c, master, mlen, crand, srand, kb, kblen);
	for (d = DIR_TX; d <= DIR_RX && ret == 0; d++) {
		side = d == DIR_TX ? me : !me;
		memset(nonce, 0, sizeof(nonce));
		memcpy(nonce, kb + 2 * c->key_len + side * c->fixed_iv_len, c->fixed_iv_len);
		ret = ktls_crypto_build(kc[d], c, kb + side * c->key_len, nonce, st->after_ccs[d]);
	}
	if (ret < 0)
		snprintf(why, whylen, "cannot derive TLS 1.2 keys for %s", c->iana);
out:
	OPENSSL_cleanse(master, sizeof(master));
	OPENSSL_cleanse(kb, sizeof(kb));
	OPENSSL_cleanse(nonce, sizeof(nonce));
	return ret;
}

/* The secrets a later KeyUpdate starts from, TX and RX in ktls_dir order (== DIR_TX, DIR_RX). */
static int keep_secrets(const struct ssl_state *st, const struct ktls_cipher *c,
			struct ktls_rekey_state *keep, char *why, size_t whylen)
{
	if (st->secret_len[DIR_TX] != st->secret_len[DIR_RX] ||
	    st->secret_len[DIR_TX] > sizeof(keep->secret[0])) {
		snprintf(why, whylen, "traffic secrets of unexpected length");
		return -EPROTO;
	}
	keep->cipher = c;
	keep->secret_len = st->secret_len[DIR_TX];
	memcpy(keep->secret[DIR_TX], st->secret[DIR_TX], keep->secret_len);
	memcpy(keep->secret[DIR_RX], st->secret[DIR_RX], keep->secret_len);
	return 0;
}

int ktls_ssl_export(SSL *ssl, struct ktls_crypto *tx, struct ktls_crypto *rx, char *why,
		    size_t whylen)
{
	return ktls_ssl_export_keep(ssl, tx, rx, NULL, why, whylen);
}

int ktls_ssl_export_keep(SSL *ssl, struct ktls_crypto *tx, struct ktls_crypto *rx,
			 struct ktls_rekey_state *keep, char *why, size_t whylen)
{
	struct ssl_state *st = ex_ready() == 0 ? SSL_get_ex_data(ssl, ssl_index) : NULL;
	const SSL_CIPHER *sc = SSL_get_current_cipher(ssl);
	struct ktls_crypto *kc[2] = {tx, rx};
	const struct ktls_cipher *c;
	int version = SSL_version(ssl), ret;
	uint16_t kversion;

	if (keep)
		memset(keep, 0, sizeof(*keep));
	if (!st) {
		snprintf(why, whylen, "ktls_ssl_attach() was not called before the handshake");
		return -EINVAL;
	}
	if (!SSL_is_init_finished(ssl) || !sc) {
		snprintf(why, whylen, "handshake not finished");
		ret = -EAGAIN;
		goto out;
	}
	kversion = version == TLS1_3_VERSION   ? TLS_1_3_VERSION
		   : version == TLS1_2_VERSION ? TLS_1_2_VERSION
					       : 0;
	c = ktls_cipher_by_suite(SSL_CIPHER_get_protocol_id(sc));
	if (!kversion) {
		snprintf(why, whylen, "%s not supported by the kernel", SSL_get_version(ssl));
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (!c || !c->offload || c->version != kversion) {
		snprintf(why, whylen, "cipher %s not supported by the kernel",
			 SSL_CIPHER_standard_name(sc));
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (st->key_update) {
		snprintf(why, whylen, "a KeyUpdate happened before the hand-over");
		ret = -EPROTO;
		goto out;
	}
	ret = check_idle(ssl, why, whylen);
	if (ret < 0)
		goto out;
	if (kversion == TLS_1_3_VERSION)
		ret = export13(ssl, st, c, kc, why, whylen);
	else
		ret = export12(ssl, st, c, kc, why, whylen);
	if (ret == 0 && keep && kversion == TLS_1_3_VERSION)
		ret = keep_secrets(st, c, keep, why, whylen);
out:
	/* The SSL's copy goes either way: from here on only keep holds a secret. */
	wipe_state(st);
	if (ret < 0) {
		ktls_crypto_wipe(tx);
		ktls_crypto_wipe(rx);
		if (keep)
			ktls_rekey_wipe(keep);
	}
	return ret;
}

int ktls_ssl_offload(SSL *ssl, int fd, unsigned flags, struct ktls_offload *result, char *why,
		     size_t whylen)
{
	return ktls_ssl_offload_keep(ssl, fd, flags, NULL, result, why, whylen);
}

int ktls_ssl_offload_keep(SSL *ssl, int fd, unsigned flags, struct ktls_rekey_state *keep,
			  struct ktls_offload *result, char *why, size_t whylen)
{
	struct ktls_crypto tx, rx;
	int ret;

	memset(result, 0, sizeof(*result));
	ret = ktls_ssl_export_keep(ssl, &tx, &rx, keep, why, whylen);
	if (ret < 0)
		goto out;
	ret = ktls_install(fd, &tx, &rx, flags, result, why, whylen);
out:
	ktls_crypto_wipe(&tx);
	ktls_crypto_wipe(&rx);
	if (ret < 0 && keep)
		ktls_rekey_wipe(keep);
	return ret;
}
