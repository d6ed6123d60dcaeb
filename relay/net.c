/* net.c - socket helpers, each a few lines. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void net_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], host, sizeof(host));
			snprintf(buf, len, "%s:%u", host, ntohs(sin6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
			snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
		}
	} else {
		snprintf(buf, len, "(family %d)", sa->sa_family);
	}
}

void net_peer_text(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		snprintf(buf, len, "?");
	else
		net_addr_text((struct sockaddr *)&ss, buf, len);
}

int net_apply_sockopts(int fd, enum conf_sock_role role, const struct conf_sockopt *opts,
		       size_t n_opts, char *err, size_t errlen)
{
	for (size_t i = 0; i < n_opts; i++) {
		if (opts[i].role != role)
			continue;
		if (setsockopt(fd, opts[i].level, opts[i].name, &opts[i].value,
			       sizeof(opts[i].value)) < 0) {
			int e = errno;
			snprintf(err, errlen, "socket option %c:%s: %s", role, opts[i].text,
				 strerror(e));
			return -e;
		}
	}
	return 0;
}

/* SO_REUSEPORT lets every worker have its own listening socket, but it would also let a second
 * process of the same user join the group and silently take half the connections. A plain bind
 * first (SO_REUSEADDR only, so TIME_WAIT does not count) fails with EADDRINUSE when anybody
 * listens there already. */
int net_check_free(const struct conf_addr *addr, char *err, size_t errlen)
{
	const struct sockaddr *sa = (const struct sockaddr *)&addr->ss;
	int fd, one = 1, zero = 0, ret = 0;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0; /* the real socket() will say what is wrong */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, sa, addr->len) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", addr->text, strerror(errno));
	}
	close(fd);
	return ret;
}

int net_listen(const struct conf_addr *addr, const struct conf_sockopt *opts, size_t n_opts,
	       char *err, size_t errlen)
{
	const struct sockaddr *sa = (const struct sockaddr *)&addr->ss;
	int fd, one = 1, zero = 0, ret;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket for %s: %s", addr->text, strerror(errno));
		return ret;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	/* A bare port listens on IPv6 any; take IPv4 on the same socket, as stunnel does. */
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	ret = net_apply_sockopts(fd, CONF_SOCK_ACCEPT, opts, n_opts, err, errlen);
	if (ret < 0)
		goto fail;
	if (bind(fd, sa, addr->len) < 0 || listen(fd, 1024) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", addr->text, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

void net_close_reset(int fd)
{
	struct linger lin = {.l_onoff = 1, .l_linger = 0};

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(fd);
}
