/* probe.c - find out once what the kernel's TLS ULP supports. */
#include "ktls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ktls_compat.h"

/* TCP_ULP needs an ESTABLISHED socket (ENOTCONN otherwise), so the probe makes a loopback pair. */
static int connected_pair(int *a, int *b)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int ret = 0, lfd = -1;

	*a = *b = -1;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) < 0)
		goto fail;
	*a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*a < 0 || connect(*a, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto fail;
	*b = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*b < 0)
		goto fail;
	goto out;
fail:
	ret = -errno;
	if (*a >= 0)
		close(*a);
	*a = -1;
out:
	if (lfd >= 0)
		close(lfd);
	return ret;
}

/* A fresh connected pair with the ULP on a; each key can be set once per socket, so every
 * question below gets its own pair. */
static int ulp_pair(int *a, int *b)
{
	int ret = connected_pair(a, b);

	if (ret < 0)
		return ret;
	if (setsockopt(*a, IPPROTO_TCP, TCP_ULP, "tls", 3) == 0)
		return 0;
	ret = -errno;
	close(*a);
	close(*b);
	return ret;
}

/* A dummy all-zero key of this cipher; it never protects a byte, the peer is closed unused. */
static int try_key(int fd, int dir, const struct ktls_cipher *c)
{
	static const uint8_t zero[32];
	struct ktls_crypto kc;
	int ret;

	ret = ktls_crypto_build(&kc, c, zero, zero, 0);
	if (ret == 0 && setsockopt(fd, SOL_TLS, dir, &kc.u, kc.len) < 0)
		ret = -errno;
	return ret;
}

static void probe_features(struct ktls_probe *out, const struct ktls_cipher *gcm)
{
	int a, b, one = 1;

	if (ulp_pair(&a, &b) == 0) {
		out->rx = try_key(a, TLS_RX, gcm) == 0;
		/* Accepted only once TLS 1.3 RX keys are set (tls_main.c). */
		out->rx_no_pad =
		    out->rx && setsockopt(a, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &one, sizeof(one)) == 0;
		close(a);
		close(b);
	}
	if (ulp_pair(&a, &b) == 0) {
		if (try_key(a, TLS_TX, gcm) == 0) {
			out->tx_zerocopy_ro =
			    setsockopt(a, SOL_TLS, TLS_TX_ZEROCOPY_RO, &one, sizeof(one)) == 0;
			/* Before 6.14 a second key on one socket is EBUSY: no KeyUpdate. */
			out->rekey = try_key(a, TLS_TX, gcm) == 0;
		}
		close(a);
		close(b);
	}
}

int ktls_probe(struct ktls_probe *out)
{
	const struct ktls_cipher *table, *gcm;
	struct utsname u;
	size_t i, n;
	int a, b, ret;

	memset(out, 0, sizeof(*out));
	if (uname(&u) == 0)
		snprintf(out->kernel, sizeof(out->kernel), "%.63s", u.release);
	ret = connected_pair(&a, &b);
	if (ret < 0) {
		snprintf(out->why, sizeof(out->why), "cannot probe the TLS ULP: %s",
			 strerror(-ret));
		return ret;
	}
	if (setsockopt(a, IPPROTO_TCP, TCP_ULP, "tls", 3) == 0) {
		out->ulp = true;
	} else if (errno == ENOENT) {
		snprintf(out->why, sizeof(out->why), "kernel has no TLS ULP");
	} else {
		snprintf(out->why, sizeof(out->why), "kernel refused the TLS ULP: %s",
			 strerror(errno));
	}
	close(a);
	close(b);
	if (!out->ulp)
		return 0;
	table = ktls_cipher_table(&n);
	for (i = 0; i < n; i++) {
		if (table[i].version != TLS_1_3_VERSION || ulp_pair(&a, &b) < 0)
			continue;
		if (try_key(a, TLS_TX, &table[i]) == 0)
			out->ciphers |= 1u << (table[i].kernel_type - TLS_CIPHER_AES_GCM_128);
		close(a);
		close(b);
	}
	gcm = ktls_cipher_by_kernel_type(TLS_CIPHER_AES_GCM_128);
	if (gcm)
		probe_features(out, gcm);
	return 0;
}

bool ktls_probe_has_cipher(const struct ktls_probe *p, const struct ktls_cipher *c)
{
	return p->ulp && p->rx && (p->ciphers >> (c->kernel_type - TLS_CIPHER_AES_GCM_128) & 1);
}

int ktls_probe_format(const struct ktls_probe *p, char *buf, size_t len)
{
	const struct ktls_cipher *table;
	char names[128] = "";
	size_t i, n, used = 0;

	if (!p->ulp)
		return snprintf(buf, len, "kTLS: no (kernel %s): %s", p->kernel, p->why);
	table = ktls_cipher_table(&n);
	for (i = 0; i < n; i++) {
		if (table[i].version != TLS_1_3_VERSION || !ktls_probe_has_cipher(p, &table[i]))
			continue;
		used += snprintf(names + used, sizeof(names) - used, "%s%s", used ? "," : "",
				 table[i].kname);
		if (used >= sizeof(names))
			break;
	}
	return snprintf(buf, len,
			"kTLS: yes (kernel %s) ciphers=%s rx=%s rx_no_pad=%s tx_zerocopy_ro=%s "
			"rekey=%s",
			p->kernel, used ? names : "none", p->rx ? "yes" : "no",
			p->rx_no_pad ? "yes" : "no", p->tx_zerocopy_ro ? "yes" : "no",
			p->rekey ? "yes" : "no");
}
