/* test_ktls_keys.c - TLS 1.3 key/iv derivation against RFC 8448, HKDF-Expand-Label against
 * OpenSSL's own TLS13-KDF, and the layout of the kernel crypto_info we build. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include "ktls.h"

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi, lo;

	while (*s && n < max) {
		if (*s == ' ') {
			s++;
			continue;
		}
		hi = OPENSSL_hexchar2int((unsigned char)s[0]);
		lo = OPENSSL_hexchar2int((unsigned char)s[1]);
		assert_true(hi >= 0 && lo >= 0);
		out[n++] = hi << 4 | lo;
		s += 2;
	}
	return n;
}

struct vector {
	const char *where, *secret, *key, *iv;
};

/* RFC 8448 §3 "Simple 1-RTT Handshake", TLS_AES_128_GCM_SHA256. */
static const struct vector rfc8448[] = {
    {"§3 {server} derive write traffic keys for application data",
     "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 "
     "16 43",
     "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56", "cf 78 2b 88 dd 83 54 9a ad f1 e9 84"},
    {"§3 {client} derive write traffic keys for application data",
     "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 "
     "04 a5",
     "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51", "5b 78 92 3d ee 08 57 90 33 e5 23 d9"},
};

static void tls13_key_iv_matches_rfc8448(void **state)
{
	const struct ktls_cipher *c = ktls_cipher_by_suite(0x1301);
	uint8_t secret[32], key[16], iv[12], want_key[16], want_iv[12];
	size_t i;

	assert_non_null(c);
	for (i = 0; i < sizeof(rfc8448) / sizeof(rfc8448[0]); i++) {
		assert_int_equal(unhex(rfc8448[i].secret, secret, sizeof(secret)), 32);
		unhex(rfc8448[i].key, want_key, sizeof(want_key));
		unhex(rfc8448[i].iv, want_iv, sizeof(want_iv));
		assert_int_equal(ktls_tls13_key_iv(c, secret, 32, key, iv), 0);
		assert_memory_equal(key, want_key, 16);
		assert_memory_equal(iv, want_iv, 12);
	}
}

/* RFC 8448 §3 also prints the HkdfLabel info: "00 10 09 74 6c 73 31 33 20 6b 65 79 00" for
 * "key"; a wrong label encoding cannot pass the vectors above, and a wrong length must fail. */
static void tls13_key_iv_differs_for_another_label(void **state)
{
	uint8_t secret[32], out[16], want[16];

	unhex(rfc8448[0].secret, secret, sizeof(secret));
	unhex(rfc8448[0].key, want, sizeof(want));
	assert_int_equal(ktls_hkdf_expand_label("SHA256", secret, 32, "iv", NULL, 0, out, 16), 0);
	assert_memory_not_equal(out, want, 16);
	assert_int_equal(ktls_hkdf_expand_label("SHA256", secret, 32, "key", NULL, 0, out, 16), 0);
	assert_memory_equal(out, want, 16);
}

/* No RFC trace covers SHA-384 or a 32-byte ChaCha20 key: compare with OpenSSL's independent
 * implementation of the same function (EVP_KDF "TLS13-KDF", expand-only mode). */
static void openssl_tls13_kdf(const char *digest, const uint8_t *secret, size_t slen,
			      const char *label, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
	EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM p[6];

	p[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, "tls13 ", 6);
	p[4] =
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label));
	p[5] = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_KDF_derive(kctx, out, out_len, p), 1);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
}

static void tls13_key_iv_matches_openssl_for_every_suite(void **state)
{
	uint8_t secret[48], key[32], iv[12], want_key[32], want_iv[12];
	const struct ktls_cipher *t;
	size_t i, n, slen;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 7 + 3);
	t = ktls_cipher_table(&n);
	for (i = 0; i < n; i++) {
		if (t[i].version != TLS_1_3_VERSION)
			continue;
		slen = strcmp(t[i].digest, "SHA384") ? 32 : 48;
		assert_int_equal(ktls_tls13_key_iv(&t[i], secret, slen, key, iv), 0);
		openssl_tls13_kdf(t[i].digest, secret, slen, "key", want_key, t[i].key_len);
		openssl_tls13_kdf(t[i].digest, secret, slen, "iv", want_iv, 12);
		assert_memory_equal(key, want_key, t[i].key_len);
		assert_memory_equal(iv, want_iv, 12);
	}
}

/* RFC 8446 §7.2: the next traffic secret is HKDF-Expand-Label(secret, "traffic upd", "",
 * Hash.length); OpenSSL's TLS13-KDF computes the same independently, for every TLS 1.3 row.
 * (test_ktls_handover.c checks the result against the records OpenSSL writes after a real
 * KeyUpdate.) */
static void tls13_next_secret_matches_openssl_for_every_suite(void **state)
{
	uint8_t secret[48], next[48], want[48];
	const struct ktls_cipher *t;
	size_t i, n, slen;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 13 + 1);
	t = ktls_cipher_table(&n);
	for (i = 0; i < n; i++) {
		if (t[i].version != TLS_1_3_VERSION)
			continue;
		slen = strcmp(t[i].digest, "SHA384") ? 32 : 48;
		assert_int_equal(ktls_tls13_next_secret(&t[i], secret, slen, next), 0);
		openssl_tls13_kdf(t[i].digest, secret, slen, "traffic upd", want, slen);
		assert_memory_equal(next, want, slen);
		assert_memory_not_equal(next, secret, slen);
	}
}

/* Where each field of the kernel's struct for this cipher type is (linux/tls.h). */
struct layout {
	size_t iv, key, salt, rec_seq, size;
};

#define LAYOUT(s)                                                                                  \
	(struct layout)                                                                            \
	{                                                                                          \
		offsetof(struct s, iv), offsetof(struct s, key), offsetof(struct s, salt),         \
		    offsetof(struct s, rec_seq), sizeof(struct s)                                  \
	}

static struct layout kernel_layout(uint16_t kernel_type)
{
	switch (kernel_type) {
	case TLS_CIPHER_AES_GCM_128:
		return LAYOUT(tls12_crypto_info_aes_gcm_128);
	case TLS_CIPHER_AES_GCM_256:
		return LAYOUT(tls12_crypto_info_aes_gcm_256);
	case TLS_CIPHER_CHACHA20_POLY1305:
		return LAYOUT(tls12_crypto_info_chacha20_poly1305);
	case TLS_CIPHER_AES_CCM_128:
		return LAYOUT(tls12_crypto_info_aes_ccm_128);
	}
	fail_msg("cipher type %u has no layout here", kernel_type);
	return (struct layout){0};
}

/* For every row of the cipher table, the struct we build is the kernel's: its size, header, and
 * fields at the kernel's offsets. TLS 1.3 and ChaCha20: salt || iv is the 12-byte nonce
 * material (AES-GCM: salt = nonce[0..4], iv = nonce[4..12]; ChaCha20: iv = all 12). TLS 1.2
 * GCM: the explicit nonce we send starts at the record number. rec_seq is big-endian. */
static void crypto_info_layout_matches_kernel_structs(void **state)
{
	const uint8_t seq[8] = {0, 0, 0, 0, 0, 0, 1, 2};
	const struct ktls_cipher *t;
	uint8_t key[KTLS_KEY_MAX], nonce[KTLS_IV_LEN], *b;
	struct ktls_crypto kc;
	struct layout l;
	size_t i, n;

	for (i = 0; i < sizeof(key); i++)
		key[i] = 0x40 + i;
	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = 0x10 + i;
	t = ktls_cipher_table(&n);
	for (i = 0; i < n; i++) {
		print_message("%s\n", t[i].iana);
		l = kernel_layout(t[i].kernel_type);
		assert_int_equal(ktls_crypto_build(&kc, &t[i], key, nonce, 0x102), 0);
		b = kc.u.bytes;
		assert_int_equal(kc.len, l.size);
		assert_int_equal(t[i].info_len, l.size);
		assert_int_equal(kc.u.info.version, t[i].version);
		assert_int_equal(kc.u.info.cipher_type, t[i].kernel_type);
		assert_int_equal(l.key - l.iv, t[i].iv_len);
		assert_int_equal(l.rec_seq - l.salt, t[i].salt_len);
		assert_memory_equal(b + l.key, key, t[i].key_len);
		assert_memory_equal(b + l.salt, nonce, t[i].salt_len);
		assert_memory_equal(b + l.rec_seq, seq, 8);
		if (t[i].version == TLS_1_2_VERSION && t[i].salt_len)
			assert_memory_equal(b + l.iv, seq, 8);
		else
			assert_memory_equal(b + l.iv, nonce + t[i].salt_len, t[i].iv_len);
		assert_int_equal(t[i].salt_len + t[i].iv_len,
				 t[i].version == TLS_1_2_VERSION && t[i].salt_len ? 4 + 8 : 12);

		/* Changing the record number rewrites what the kernel reads, not just the
		 * field; the salt stays. */
		ktls_crypto_set_seq(&kc, 0x0a0b);
		assert_int_equal(b[l.rec_seq + 6], 0x0a);
		assert_int_equal(b[l.rec_seq + 7], 0x0b);
		if (t[i].version == TLS_1_2_VERSION && t[i].salt_len)
			assert_int_equal(b[l.iv + 7], 0x0b);
		assert_memory_equal(b + l.salt, nonce, t[i].salt_len);

		ktls_crypto_wipe(&kc);
		for (size_t j = 0; j < sizeof(kc); j++)
			assert_int_equal(((uint8_t *)&kc)[j], 0);
	}
}

/* RFC 5246 §6.3 with RFC 5288 / RFC 7905: 2 * (key + fixed IV) for every TLS 1.2 row, and a
 * length that does not match the suite is refused rather than silently truncated. */
static void tls12_key_block_has_suite_length(void **state)
{
	uint8_t master[48] = {1}, cr[32] = {2}, sr[32] = {3};
	uint8_t kb[2 * (KTLS_KEY_MAX + KTLS_IV_LEN)], kb2[sizeof(kb)];
	const struct ktls_cipher *t;
	size_t i, n, len;

	t = ktls_cipher_table(&n);
	for (i = 0; i < n; i++) {
		if (t[i].version != TLS_1_2_VERSION)
			continue;
		len = 2u * (t[i].key_len + t[i].fixed_iv_len);
		assert_true(len <= sizeof(kb));
		assert_int_equal(ktls_tls12_key_block(&t[i], master, 48, cr, sr, kb, len), 0);
		assert_int_equal(ktls_tls12_key_block(&t[i], master, 48, cr, sr, kb, len - 1),
				 -EINVAL);
		/* server_random comes first in the seed: swapping the randoms changes all. */
		assert_int_equal(ktls_tls12_key_block(&t[i], master, 48, sr, cr, kb2, len), 0);
		assert_memory_not_equal(kb, kb2, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tls13_key_iv_matches_rfc8448),
	    cmocka_unit_test(tls13_key_iv_differs_for_another_label),
	    cmocka_unit_test(tls13_key_iv_matches_openssl_for_every_suite),
	    cmocka_unit_test(tls13_next_secret_matches_openssl_for_every_suite),
	    cmocka_unit_test(crypto_info_layout_matches_kernel_structs),
	    cmocka_unit_test(tls12_key_block_has_suite_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
