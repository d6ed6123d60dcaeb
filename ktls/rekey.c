/* rekey.c - TLS 1.3 KeyUpdate on a kTLS socket (Linux >= 6.14): the KeyUpdate message, the next
 * traffic secret, and installing its key with TLS_TX or TLS_RX a second time. */
#include "ktls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

int ktls_key_update_parse(const uint8_t *msg, size_t len, bool *update_requested, uint8_t *alert)
{
	/* RFC 8446 §4.6.3: struct { KeyUpdateRequest request_update; } is one byte, and its
	 * enum has only update_not_requested(0) and update_requested(1). A body of another length
	 * cannot be decoded (decode_error); a value outside the enum is a well-formed message with
	 * an illegal value (illegal_parameter, §6.2). */
	if (len < 4 || msg[0] != KTLS_HS_KEY_UPDATE || msg[1] || msg[2] || msg[3] != 1 || len < 5) {
		*alert = KTLS_ALERT_DECODE_ERROR;
		return -EBADMSG;
	}
	if (msg[4] > 1) {
		*alert = KTLS_ALERT_ILLEGAL_PARAMETER;
		return -EBADMSG;
	}
	*update_requested = msg[4] == 1;
	return 0;
}

void ktls_key_update_build(uint8_t out[KTLS_KEY_UPDATE_LEN], bool update_requested)
{
	out[0] = KTLS_HS_KEY_UPDATE;
	out[1] = 0;
	out[2] = 0;
	out[3] = 1;
	out[4] = update_requested ? 1 : 0;
}

int ktls_send_key_update(int fd, bool update_requested)
{
	uint8_t msg[KTLS_KEY_UPDATE_LEN];

	ktls_key_update_build(msg, update_requested);
	return ktls_send_record(fd, KTLS_RT_HANDSHAKE, msg, sizeof(msg));
}

int ktls_rekey_next(struct ktls_rekey_state *rk, enum ktls_dir dir, struct ktls_crypto *kc)
{
	uint8_t next[KTLS_SECRET_MAX], key[KTLS_KEY_MAX], iv[KTLS_IV_LEN];
	int ret;

	if (!rk->cipher || rk->secret_len == 0 || rk->secret_len > sizeof(next))
		return -ENOKEY;
	ret = ktls_tls13_next_secret(rk->cipher, rk->secret[dir], rk->secret_len, next);
	if (ret == 0)
		ret = ktls_tls13_key_iv(rk->cipher, next, rk->secret_len, key, iv);
	/* RFC 8446 §5.3: each key starts its own sequence at 0. */
	if (ret == 0)
		ret = ktls_crypto_build(kc, rk->cipher, key, iv, 0);
	if (ret == 0) {
		memcpy(rk->secret[dir], next, rk->secret_len);
		rk->updates[dir]++;
	}
	OPENSSL_cleanse(next, sizeof(next));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(iv, sizeof(iv));
	return ret;
}

int ktls_rekey(int fd, struct ktls_rekey_state *rk, enum ktls_dir dir, char *why, size_t whylen)
{
	const char *name = dir == KTLS_DIR_TX ? "TLS_TX" : "TLS_RX";
	struct ktls_crypto kc;
	int ret;

	ret = ktls_rekey_next(rk, dir, &kc);
	if (ret < 0) {
		snprintf(why, whylen, "cannot derive the next %s key: %s", name,
			 ret == -ENOKEY ? "no traffic secret kept" : strerror(-ret));
		goto out;
	}
	/* Linux >= 6.14 takes the same version and cipher again; before, EBUSY. */
	ret = ktls_install_key(fd, dir == KTLS_DIR_TX ? TLS_TX : TLS_RX, &kc, why, whylen);
	if (ret == -EBUSY) {
		size_t n = strlen(why);

		snprintf(why + n, whylen > n ? whylen - n : 0, " (kTLS rekey needs Linux 6.14)");
	}
out:
	ktls_crypto_wipe(&kc);
	return ret;
}

int ktls_follow_key_update(int fd, struct ktls_rekey_state *rk, bool update_requested,
			   bool can_write, char *why, size_t whylen)
{
	int ret;

	ret = ktls_rekey(fd, rk, KTLS_DIR_RX, why, whylen);
	if (ret < 0 || !update_requested || !can_write)
		return ret;
	/* Our KeyUpdate is the last record under the old TX key, and the next record the kernel
	 * protects must be under the new one: nothing may be sent between the two calls. */
	ret = ktls_send_key_update(fd, false);
	if (ret < 0) {
		snprintf(why, whylen, "cannot send our KeyUpdate: %s", strerror(-ret));
		return ret;
	}
	return ktls_rekey(fd, rk, KTLS_DIR_TX, why, whylen);
}

void ktls_rekey_wipe(struct ktls_rekey_state *rk)
{
	OPENSSL_cleanse(rk, sizeof(*rk));
}
