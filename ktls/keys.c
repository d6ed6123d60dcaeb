/* keys.c - key material for the kernel: TLS 1.3 key schedule leaves and the TLS 1.2 key block. */
#include "ktls.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

/* The two KDF implementations, fetched once per process (a fetch walks the provider store
 * under a lock: four of them per handshake otherwise) and never changed afterwards; an
 * EVP_KDF is safe to share between threads, each derivation gets its own EVP_KDF_CTX. */
static pthread_once_t kdf_once = PTHREAD_ONCE_INIT;
static EVP_KDF *kdf_hkdf, *kdf_tls1_prf;

static void kdf_fetch(void)
{
	kdf_hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	kdf_tls1_prf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
}

/* Runs one EVP_KDF (*which, once fetched) with the given parameters into out. */
static int kdf_derive(EVP_KDF *const *which, OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
	EVP_KDF_CTX *kctx = NULL;
	int ret = -EINVAL;

	if (pthread_once(&kdf_once, kdf_fetch) != 0 || !*which)
		return -ENOSYS;
	kctx = EVP_KDF_CTX_new(*which);
	if (!kctx)
		return -ENOMEM;
	if (EVP_KDF_derive(kctx, out, out_len, params) == 1)
		ret = 0;
	EVP_KDF_CTX_free(kctx);
	return ret;
}

int ktls_hkdf_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
			   const char *label, const uint8_t *context, size_t context_len,
			   uint8_t *out, size_t out_len)
{
	/* RFC 8446 §7.1: struct HkdfLabel { uint16 length; opaque label<7..255> = "tls13 " + Label;
	 * opaque context<0..255>; } is the info of HKDF-Expand (RFC 5869 §2.3). */
	uint8_t info[2 + 1 + 255 + 1 + 255];
	size_t label_len = strlen(label), n = 0;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[5];

	if (6 + label_len > 255 || context_len > 255 || out_len > 0xffff)
		return -EINVAL;
	info[n++] = out_len >> 8;
	info[n++] = out_len & 0xff;
	info[n++] = 6 + label_len;
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = context_len;
	if (context_len)
		memcpy(info + n, context, context_len);
	n += context_len;

	params[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
	params[2] =
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	params[4] = OSSL_PARAM_construct_end();
	return kdf_derive(&kdf_hkdf, params, out, out_len);
}

int ktls_tls13_key_iv(const struct ktls_cipher *c, const uint8_t *secret, size_t secret_len,
		      uint8_t *key, uint8_t *iv)
{
	int ret;

	/* RFC 8446 §7.3: write_key = HKDF-Expand-Label(Secret, "key", "", key_length),
	 * write_iv = HKDF-Expand-Label(Secret, "iv", "", iv_length), iv_length 12 (§5.3). */
	ret =
	    ktls_hkdf_expand_label(c->digest, secret, secret_len, "key", NULL, 0, key, c->key_len);
	if (ret < 0)
		return ret;
	return ktls_hkdf_expand_label(c->digest, secret, secret_len, "iv", NULL, 0, iv, 12);
}

int ktls_tls13_next_secret(const struct ktls_cipher *c, const uint8_t *secret, size_t secret_len,
			   uint8_t *next)
{
	/* RFC 8446 §7.2: application_traffic_secret_N+1 =
	 * HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length); the
	 * secret is Hash.length long itself. */
	return ktls_hkdf_expand_label(c->digest, secret, secret_len, "traffic upd", NULL, 0, next,
				      secret_len);
}

int ktls_tls12_key_block(const struct ktls_cipher *c, const uint8_t *master, size_t master_len,
			 const uint8_t client_random[32], const uint8_t server_random[32],
			 uint8_t *out, size_t out_len)
{
	/* RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion",
	 * server_random + client_random); AEAD suites have no MAC keys (RFC 5288 §3). */
	uint8_t seed[13 + 64];
	OSSL_PARAM params[4];
	int ret;

	if (out_len != 2u * (c->key_len + c->fixed_iv_len))
		return -EINVAL;
	memcpy(seed, "key expansion", 13);
	memcpy(seed + 13, server_random, 32);
	memcpy(seed + 45, client_random, 32);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)c->digest, 0);
	params[1] =
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)master, master_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof(seed));
	params[3] = OSSL_PARAM_construct_end();
	ret = kdf_derive(&kdf_tls1_prf, params, out, out_len);
	OPENSSL_cleanse(seed, sizeof(seed));
	return ret;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

/* Every tls12_crypto_info_* is laid out iv, key, salt, rec_seq after the header. */
static uint8_t *field_iv(struct ktls_crypto *kc)
{
	return kc->u.bytes + sizeof(struct tls_crypto_info);
}

static uint8_t *field_key(struct ktls_crypto *kc)
{
	return field_iv(kc) + kc->cipher->iv_len;
}

static uint8_t *field_salt(struct ktls_crypto *kc)
{
	return field_key(kc) + kc->cipher->key_len;
}

static uint8_t *field_rec_seq(struct ktls_crypto *kc)
{
	return field_salt(kc) + kc->cipher->salt_len;
}

/* RFC 5288 §3: a TLS 1.2 GCM nonce is salt (key block) || an explicit part that we choose; the
 * sequence number is unique per record, and RX reads it off the wire anyway. */
static bool explicit_nonce(const struct ktls_cipher *c)
{
	return c->version == TLS_1_2_VERSION && c->salt_len;
}

void ktls_crypto_set_seq(struct ktls_crypto *kc, uint64_t seq)
{
	kc->seq = seq;
	put_be64(field_rec_seq(kc), seq);
	if (explicit_nonce(kc->cipher))
		put_be64(field_iv(kc), seq);
}

int ktls_crypto_build(struct ktls_crypto *kc, const struct ktls_cipher *c, const uint8_t *key,
		      const uint8_t *nonce, uint64_t seq)
{
	if (c->info_len != sizeof(struct tls_crypto_info) + c->iv_len + c->key_len + c->salt_len +
			       c->rec_seq_len ||
	    c->info_len > sizeof(kc->u.bytes) || c->rec_seq_len != 8)
		return -EINVAL;
	memset(kc, 0, sizeof(*kc));
	kc->cipher = c;
	kc->len = c->info_len;
	kc->u.info.version = c->version;
	kc->u.info.cipher_type = c->kernel_type;
	/* TLS 1.3 and ChaCha20: the kernel xors rec_seq into salt || iv (RFC 8446 §5.3). */
	if (!explicit_nonce(c))
		memcpy(field_iv(kc), nonce + c->salt_len, c->iv_len);
	memcpy(field_key(kc), key, c->key_len);
	memcpy(field_salt(kc), nonce, c->salt_len);
	ktls_crypto_set_seq(kc, seq);
	return 0;
}

void ktls_crypto_wipe(struct ktls_crypto *kc)
{
	OPENSSL_cleanse(kc, sizeof(*kc));
}
