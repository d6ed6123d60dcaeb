/* cipher.c - the one table of TLS cipher suites the kernel's TLS ULP knows. */
#include "ktls.h"

#define ROW_GCM128(id, ver, name, hash, ok)                                                        \
	{                                                                                          \
		id, ver, name, "aes-gcm-128", TLS_CIPHER_AES_GCM_128,                              \
		    TLS_CIPHER_AES_GCM_128_KEY_SIZE, TLS_CIPHER_AES_GCM_128_IV_SIZE,               \
		    TLS_CIPHER_AES_GCM_128_SALT_SIZE, TLS_CIPHER_AES_GCM_128_REC_SEQ_SIZE,         \
		    TLS_CIPHER_AES_GCM_128_TAG_SIZE, 4,                                            \
		    sizeof(struct tls12_crypto_info_aes_gcm_128), hash, ok                         \
	}
#define ROW_GCM256(id, ver, name, hash, ok)                                                        \
	{                                                                                          \
		id, ver, name, "aes-gcm-256", TLS_CIPHER_AES_GCM_256,                              \
		    TLS_CIPHER_AES_GCM_256_KEY_SIZE, TLS_CIPHER_AES_GCM_256_IV_SIZE,               \
		    TLS_CIPHER_AES_GCM_256_SALT_SIZE, TLS_CIPHER_AES_GCM_256_REC_SEQ_SIZE,         \
		    TLS_CIPHER_AES_GCM_256_TAG_SIZE, 4,                                            \
		    sizeof(struct tls12_crypto_info_aes_gcm_256), hash, ok                         \
	}
#define ROW_CHACHA(id, ver, name, ok)                                                              \
	{                                                                                          \
		id, ver, name, "chacha20-poly1305", TLS_CIPHER_CHACHA20_POLY1305,                  \
		    TLS_CIPHER_CHACHA20_POLY1305_KEY_SIZE, TLS_CIPHER_CHACHA20_POLY1305_IV_SIZE,   \
		    TLS_CIPHER_CHACHA20_POLY1305_SALT_SIZE,                                        \
		    TLS_CIPHER_CHACHA20_POLY1305_REC_SEQ_SIZE,                                     \
		    TLS_CIPHER_CHACHA20_POLY1305_TAG_SIZE, 12,                                     \
		    sizeof(struct tls12_crypto_info_chacha20_poly1305), "SHA256", ok               \
	}
#define ROW_CCM128(id, ver, name, ok)                                                              \
	{                                                                                          \
		id, ver, name, "aes-ccm-128", TLS_CIPHER_AES_CCM_128,                              \
		    TLS_CIPHER_AES_CCM_128_KEY_SIZE, TLS_CIPHER_AES_CCM_128_IV_SIZE,               \
		    TLS_CIPHER_AES_CCM_128_SALT_SIZE, TLS_CIPHER_AES_CCM_128_REC_SEQ_SIZE,         \
		    TLS_CIPHER_AES_CCM_128_TAG_SIZE, 4,                                            \
		    sizeof(struct tls12_crypto_info_aes_ccm_128), "SHA256", ok                     \
	}

/* The fixed buffers that hold key material (ktls.h) fit every cipher of the table: a kernel
 * header with a larger key or struct fails the build here, not a memcpy at run time. */
#define FITS(KIND, info)                                                                           \
	_Static_assert(TLS_CIPHER_##KIND##_KEY_SIZE <= KTLS_KEY_MAX, #KIND " key fits");           \
	_Static_assert(TLS_CIPHER_##KIND##_SALT_SIZE + TLS_CIPHER_##KIND##_IV_SIZE ==              \
			   KTLS_IV_LEN,                                                            \
		       #KIND " nonce is 12 bytes");                                                \
	_Static_assert(sizeof(struct info) <= KTLS_INFO_MAX, #KIND " crypto_info fits");          \
	_Static_assert(TLS_CIPHER_##KIND##_REC_SEQ_SIZE == 8, #KIND " rec_seq is 64 bits")
FITS(AES_GCM_128, tls12_crypto_info_aes_gcm_128);
FITS(AES_GCM_256, tls12_crypto_info_aes_gcm_256);
FITS(CHACHA20_POLY1305, tls12_crypto_info_chacha20_poly1305);
FITS(AES_CCM_128, tls12_crypto_info_aes_ccm_128);

/* TLS 1.3 rows first: ktls_cipher_by_kernel_type() takes the first row of a kernel type.
 * AES-CCM is listed so that it is named and probed, but not installed: no test of ours covers
 * it, and a wrong install would corrupt a connection instead of falling back to user space.
 * TLS 1.2 ChaCha20 (RFC 7905) nonces are iv ^ seq as in 1.3, which the kernel does likewise. */
static const struct ktls_cipher ciphers[] = {
    ROW_GCM128(0x1301, TLS_1_3_VERSION, "TLS_AES_128_GCM_SHA256", "SHA256", true),
    ROW_GCM256(0x1302, TLS_1_3_VERSION, "TLS_AES_256_GCM_SHA384", "SHA384", true),
    ROW_CHACHA(0x1303, TLS_1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256", true),
    ROW_CCM128(0x1304, TLS_1_3_VERSION, "TLS_AES_128_CCM_SHA256", false),
    ROW_GCM128(0xc02b, TLS_1_2_VERSION, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "SHA256", true),
    ROW_GCM256(0xc02c, TLS_1_2_VERSION, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "SHA384", true),
    ROW_GCM128(0xc02f, TLS_1_2_VERSION, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "SHA256", true),
    ROW_GCM256(0xc030, TLS_1_2_VERSION, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "SHA384", true),
    ROW_GCM128(0x009e, TLS_1_2_VERSION, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "SHA256", true),
    ROW_GCM256(0x009f, TLS_1_2_VERSION, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "SHA384", true),
    ROW_GCM128(0x009c, TLS_1_2_VERSION, "TLS_RSA_WITH_AES_128_GCM_SHA256", "SHA256", true),
    ROW_GCM256(0x009d, TLS_1_2_VERSION, "TLS_RSA_WITH_AES_256_GCM_SHA384", "SHA384", true),
    ROW_CHACHA(0xcca8, TLS_1_2_VERSION, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", true),
    ROW_CHACHA(0xcca9, TLS_1_2_VERSION, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", true),
    ROW_CHACHA(0xccaa, TLS_1_2_VERSION, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", true),
    ROW_CCM128(0xc0ac, TLS_1_2_VERSION, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", false),
};

const struct ktls_cipher *ktls_cipher_table(size_t *n)
{
	*n = sizeof(ciphers) / sizeof(ciphers[0]);
	return ciphers;
}

const struct ktls_cipher *ktls_cipher_by_suite(uint16_t suite)
{
	size_t i;

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (ciphers[i].suite == suite)
			return &ciphers[i];
	return NULL;
}

const struct ktls_cipher *ktls_cipher_by_kernel_type(uint16_t kernel_type)
{
	size_t i;

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (ciphers[i].kernel_type == kernel_type)
			return &ciphers[i];
	return NULL;
}
