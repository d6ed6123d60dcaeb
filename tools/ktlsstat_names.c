/* ktlsstat_names.c - names for every kernel TLS cipher type. ktls/'s table holds the ciphers
 * ktlsrelay can install; the kernel also knows SM4 and ARIA (linux/tls.h), which a socket set up
 * by another program may carry, so those get their names here. */
#include "ktlsstat.h"

#include "ktls.h"

struct extra_cipher {
	uint16_t type;
	const char *kname;
	const char *tls13; /* RFC 8998 for SM4; ARIA has no TLS 1.3 suite */
};

static const struct extra_cipher extra[] = {
    {55 /* TLS_CIPHER_SM4_GCM */, "sm4-gcm", "TLS_SM4_GCM_SM3"},
    {56 /* TLS_CIPHER_SM4_CCM */, "sm4-ccm", "TLS_SM4_CCM_SM3"},
    {57 /* TLS_CIPHER_ARIA_GCM_128 */, "aria-gcm-128", NULL},
    {58 /* TLS_CIPHER_ARIA_GCM_256 */, "aria-gcm-256", NULL},
};

static const struct extra_cipher *extra_by_type(uint16_t type)
{
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (extra[i].type == type)
			return &extra[i];
	return NULL;
}

const char *ktlsstat_cipher_kname(uint16_t cipher_type)
{
	const struct ktls_cipher *c = ktls_cipher_by_kernel_type(cipher_type);
	const struct extra_cipher *e = extra_by_type(cipher_type);

	return c ? c->kname : e ? e->kname : NULL;
}

const char *ktlsstat_cipher_tls13(uint16_t cipher_type)
{
	const struct ktls_cipher *c = ktls_cipher_by_kernel_type(cipher_type);
	const struct extra_cipher *e = extra_by_type(cipher_type);

	if (c)
		return c->version == TLS_1_3_VERSION ? c->iana : NULL;
	return e ? e->tls13 : NULL;
}
