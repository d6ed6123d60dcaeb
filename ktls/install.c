/* install.c - put keys into the kernel: TCP_ULP "tls", then TLS_TX and TLS_RX. */
#include "ktls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ktls_compat.h"

/* The ULP alone changes nothing on the wire: a socket with TCP_ULP "tls" and no keys still
 * passes bytes through, so failing here leaves the connection usable in user space. */
static int set_ulp(int fd, char *why, size_t whylen)
{
	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", 3) == 0 || errno == EEXIST)
		return 0;
	if (errno == ENOENT)
		snprintf(why, whylen, "kernel has no TLS ULP");
	else if (errno == ENOTCONN)
		snprintf(why, whylen, "TLS ULP needs an established socket");
	else
		snprintf(why, whylen, "kernel refused the TLS ULP: %s", strerror(errno));
	return -errno;
}

static int set_key(int fd, int dir, const struct ktls_crypto *kc, char *why, size_t whylen)
{
	/* optlen must be the exact struct size, or the kernel says EINVAL. */
	if (setsockopt(fd, SOL_TLS, dir, &kc->u, kc->len) == 0)
		return 0;
	snprintf(why, whylen, "kernel refused %s for %s (%s): %s",
		 dir == TLS_TX ? "TLS_TX" : "TLS_RX", kc->cipher->iana, kc->cipher->kname,
		 strerror(errno));
	return -errno;
}

int ktls_install(int fd, const struct ktls_crypto *tx, const struct ktls_crypto *rx, unsigned flags,
		 struct ktls_offload *result, char *why, size_t whylen)
{
	const struct ktls_crypto *any = tx ? tx : rx;
	int ret, one = 1;

	memset(result, 0, sizeof(*result));
	if (!any)
		return 0;
	result->cipher = any->cipher;
	ret = set_ulp(fd, why, whylen);
	if (ret < 0)
		goto out;
	if (tx) {
		ret = set_key(fd, TLS_TX, tx, why, whylen);
		if (ret < 0)
			goto out;
		result->tx = KTLS_KERNEL;
		result->tx_seq = tx->seq;
	}
	if (rx) {
		ret = set_key(fd, TLS_RX, rx, why, whylen);
		if (ret < 0)
			goto out;
		result->rx = KTLS_KERNEL;
		result->rx_seq = rx->seq;
		/* An optimisation only (the kernel retries a padded record), so its failure on
		 * an older kernel is not an error. */
		if ((flags & KTLS_OFFLOAD_RX_NO_PAD) && rx->cipher->version == TLS_1_3_VERSION)
			(void)setsockopt(fd, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &one, sizeof(one));
	}
out:
	return ret;
}
