/* probe.c - find out once what the kernel's TLS ULP supports. */
#include "ktls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

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

int ktls_probe(struct ktls_probe *out)
{
	int a, b, ret;

	memset(out, 0, sizeof(*out));
	ret = connected_pair(&a, &b);
	if (ret < 0) {
		snprintf(out->why, sizeof(out->why), "cannot probe the TLS ULP: %s", strerror(-ret));
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
	return 0;
}
