/* state.c - what the kernel says about one socket's TLS offload, for the relay's log. */
#include "ktls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ktls_compat.h"

/* getsockopt(TLS_TX/TLS_RX) with exactly sizeof(struct tls_crypto_info) returns only version
 * and cipher, never the key (tls_main.c do_tls_getsockopt_conf); EBUSY when not configured. */
static enum ktls_mode get_conf(int fd, int dir, struct tls_crypto_info *ci)
{
	socklen_t len = sizeof(*ci);

	memset(ci, 0, sizeof(*ci));
	if (getsockopt(fd, SOL_TLS, dir, ci, &len) < 0 || !ci->version)
		return KTLS_USER;
	return KTLS_KERNEL;
}

int ktls_socket_state(int fd, struct ktls_state *st)
{
	struct tls_crypto_info tx, rx, *ci;
	char ulp[16] = {0};
	socklen_t len = sizeof(ulp) - 1;
	int val = 0;

	memset(st, 0, sizeof(*st));
	if (getsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, &len) < 0)
		return errno == ENOPROTOOPT ? 0 : -errno;
	st->ulp = !strcmp(ulp, "tls");
	if (!st->ulp)
		return 0;
	st->tx = get_conf(fd, TLS_TX, &tx);
	st->rx = get_conf(fd, TLS_RX, &rx);
	ci = st->tx == KTLS_KERNEL ? &tx : st->rx == KTLS_KERNEL ? &rx : NULL;
	if (ci) {
		st->version = ci->version;
		st->cipher = ktls_cipher_by_kernel_type(ci->cipher_type);
	}
	len = sizeof(val);
	if (st->rx == KTLS_KERNEL && getsockopt(fd, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &val, &len) == 0)
		st->rx_no_pad = val != 0;
	return 0;
}

int ktls_state_format(const struct ktls_state *st, char *buf, size_t len)
{
	const char *version = st->version == TLS_1_3_VERSION   ? "TLSv1.3"
			      : st->version == TLS_1_2_VERSION ? "TLSv1.2"
							       : "-";

	if (!st->cipher)
		return snprintf(buf, len, "tx=%s rx=%s", st->tx ? "kernel" : "user",
				st->rx ? "kernel" : "user");
	/* The kernel knows the AEAD, not the suite: its IANA name is exact only for TLS 1.3. */
	return snprintf(buf, len, "tx=%s rx=%s version=%s cipher=%s%s%s%s%s",
			st->tx ? "kernel" : "user", st->rx ? "kernel" : "user", version,
			st->version == TLS_1_3_VERSION ? st->cipher->iana : st->cipher->kname,
			st->version == TLS_1_3_VERSION ? " (" : "",
			st->version == TLS_1_3_VERSION ? st->cipher->kname : "",
			st->version == TLS_1_3_VERSION ? ")" : "",
			st->rx_no_pad ? " rx_no_pad" : "");
}
