/* notify.c - the service manager's readiness protocol over a datagram socket (see notify.h). */
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int notify_open(int *fd, char *why, size_t whylen)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;
	socklen_t salen;
	int s, ret;

	*fd = -1;
	if (!name || !*name)
		return 0;
	len = strlen(name);
	/* A path must be absolute; '@' stands for the abstract namespace's leading NUL, and the
	 * address is then exactly as long as the name (no terminating NUL). */
	if ((name[0] != '/' && name[0] != '@') || len >= sizeof(sa.sun_path)) {
		snprintf(why, whylen, "NOTIFY_SOCKET=%s: not an absolute path or @name", name);
		return -EINVAL;
	}
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	salen = offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/');

	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		ret = -errno;
		snprintf(why, whylen, "NOTIFY_SOCKET: socket: %s", strerror(-ret));
		return ret;
	}
	if (connect(s, (struct sockaddr *)&sa, salen) < 0) {
		ret = -errno;
		snprintf(why, whylen, "NOTIFY_SOCKET=%s: connect: %s", name, strerror(-ret));
		close(s);
		return ret;
	}
	unsetenv("NOTIFY_SOCKET");
	*fd = s;
	return 0;
}

int notify_send(int fd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int len;

	if (fd < 0)
		return 0;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len < 0)
		return -EINVAL;
	if ((size_t)len >= sizeof(msg))
		len = sizeof(msg) - 1; /* a long STATUS= is cut, never the state before it */
	/* MSG_NOSIGNAL: a manager that went away must not kill the relay with SIGPIPE. */
	if (send(fd, msg, len, MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int notify_reloading(int fd)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return notify_send(fd, "RELOADING=1\nMONOTONIC_USEC=%llu",
			   (unsigned long long)ts.tv_sec * 1000000ULL +
			       (unsigned long long)ts.tv_nsec / 1000ULL);
}

void notify_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
