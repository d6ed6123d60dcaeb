/* The echo backend: one thread, one epoll, every byte read is written back on the same
 * connection. socat's fork per connection costs more than the relays under test when the
 * benchmark opens thousands of connections, which would measure socat instead. */
#include "xferload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* Enough for a 1 KiB request and then some; a peer that sends more simply waits for the write
 * side to drain before more is read. */
#define ECHO_BUF 16384

struct echo_conn {
	int fd;
	size_t len; /* bytes in buf not yet written back */
	size_t off;
	bool waiting_out; /* registered for EPOLLOUT instead of EPOLLIN */
	char buf[ECHO_BUF];
};

static int listen_on(uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1;
	int fd, ret;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
		ret = -errno;
		snprintf(err, errlen, "listen on 127.0.0.1:%u: %s", port, strerror(errno));
		close(fd);
		goto out;
	}
	ret = fd;
out:
	return ret;
}

static void drop(int ep, struct echo_conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Reads what is there and writes it back; waits for EPOLLOUT only when the peer is slow. */
static void serve(int ep, struct echo_conn *c)
{
	struct epoll_event ev = {.data.ptr = c};
	ssize_t n;

	for (;;) {
		if (c->len == 0) {
			n = read(c->fd, c->buf, sizeof(c->buf));
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				drop(ep, c);
				return;
			}
			if (n < 0)
				return;
			c->len = (size_t)n;
			c->off = 0;
		}
		n = write(c->fd, c->buf + c->off, c->len);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			drop(ep, c);
			return;
		}
		if (n < 0) {
			if (!c->waiting_out) {
				ev.events = EPOLLOUT;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				c->waiting_out = true;
			}
			return;
		}
		c->off += (size_t)n;
		c->len -= (size_t)n;
		if (c->len > 0 || !c->waiting_out)
			continue;
		ev.events = EPOLLIN;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		c->waiting_out = false;
	}
}

static void accept_all(int ep, int lfd)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct echo_conn *c;
	int one = 1;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		c->off = 0;
		c->waiting_out = false;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
		}
	}
}

int xl_run_echo(uint16_t port, char *err, size_t errlen)
{
	struct epoll_event ev, evs[256];
	int lfd = -1, sfd = -1, ep = -1;
	/* The listening socket and the signalfd are told apart from connections by address. */
	static char lmark, smark;
	sigset_t mask;
	int ret, n, i;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	ret = listen_on(port, err, errlen);
	if (ret < 0)
		goto out;
	lfd = ret;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0) {
		ret = -errno;
		snprintf(err, errlen, "signalfd/epoll: %s", strerror(errno));
		goto out;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &lmark;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &smark;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);

	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &smark) {
				ret = 0;
				goto out;
			}
			if (evs[i].data.ptr == &lmark)
				accept_all(ep, lfd);
			else
				serve(ep, evs[i].data.ptr);
		}
	}
out:
	/* Connections still open are left to exit(): the process ends right after. */
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	if (lfd >= 0)
		close(lfd);
	return ret;
}
