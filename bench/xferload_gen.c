/* The load generator: connections to a plaintext port (the client relay of a chain, or the echo
 * backend itself for the direct baseline), each sending requests and checking every echoed byte.
 * One thread and one epoll drive a few connections in flight, so the generator itself stays far
 * cheaper than the TLS relays it loads. */
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum slot_state { SLOT_FREE, SLOT_CONNECTING, SLOT_SENDING, SLOT_RECEIVING };

struct slot {
	enum slot_state state;
	int fd;
	unsigned conn; /* connection number, 0-based */
	unsigned req;  /* requests answered on this connection */
	size_t sent, got;
	uint64_t t_conn, t_req;
	unsigned char *sbuf, *rbuf;
};

struct gen {
	const struct xl_plan *plan;
	struct xl_result *res;
	int ep;
	struct slot *slots;
	int *held;	   /* fds of finished connections kept open (hold) */
	unsigned started;  /* connections opened so far */
	unsigned finished; /* connections done with every request */
	char *err;
	size_t errlen;
};

uint64_t xl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A different payload for every request, so an echo of the wrong request or a stale buffer
 * cannot pass the byte-for-byte check. xorshift64: cheap, and 1 KiB needs 128 draws. */
void xl_fill(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull | 1;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((i & 7) == 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		buf[i] = (unsigned char)(x >> ((i & 7) * 8));
	}
}

static int watch(struct gen *g, struct slot *s, uint32_t events, int op)
{
	struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)(s - g->slots)};

	if (epoll_ctl(g->ep, op, s->fd, &ev) < 0) {
		snprintf(g->err, g->errlen, "epoll_ctl: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int open_conn(struct gen *g, struct slot *s)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(g->plan->port)};
	int one = 1;
	int ret;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ret = -errno;
		snprintf(g->err, g->errlen, "socket (connection %u): %s%s", g->started,
			 strerror(errno), errno == EMFILE ? " (raise ulimit -n)" : "");
		goto out;
	}
	/* Requests are small and answered one at a time: Nagle would only add delay. */
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->conn = g->started++;
	s->req = 0;
	s->t_conn = xl_now_ns();
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		ret = -errno;
		snprintf(g->err, g->errlen, "connect to 127.0.0.1:%u (connection %u): %s",
			 g->plan->port, s->conn, strerror(errno));
		goto out;
	}
	s->state = SLOT_CONNECTING;
	ret = watch(g, s, EPOLLOUT, EPOLL_CTL_ADD);
out:
	return ret;
}

static void start_request(struct gen *g, struct slot *s)
{
	xl_fill(s->sbuf, g->plan->size, (uint64_t)s->conn << 32 | s->req);
	s->sent = 0;
	s->got = 0;
	s->t_req = xl_now_ns();
	s->state = SLOT_SENDING;
}

/* A connection answered its last request: closed (or held), and the slot takes the next one. */
static int finish_conn(struct gen *g, struct slot *s, uint64_t now)
{
	g->res->conn_ns[g->finished] = now - s->t_conn;
	g->finished++;
	g->res->conns++;
	epoll_ctl(g->ep, EPOLL_CTL_DEL, s->fd, NULL);
	if (g->plan->hold)
		g->held[s->conn] = s->fd;
	else
		close(s->fd);
	s->fd = -1;
	s->state = SLOT_FREE;
	if (g->started < g->plan->total)
		return open_conn(g, s);
	return 0;
}

/* Moves one connection as far as it goes without blocking. */
static int step(struct gen *g, struct slot *s, uint32_t events)
{
	size_t size = g->plan->size;
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	uint64_t now;
	ssize_t n;
	int ret = 0;

	if (s->state == SLOT_CONNECTING) {
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		if (soerr) {
			ret = -soerr;
			snprintf(g->err, g->errlen, "connect to 127.0.0.1:%u (connection %u): %s",
				 g->plan->port, s->conn, strerror(soerr));
			goto out;
		}
		start_request(g, s);
	}
	while (s->state == SLOT_SENDING) {
		n = send(s->fd, s->sbuf + s->sent, size - s->sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			ret = watch(g, s, EPOLLOUT, EPOLL_CTL_MOD);
			goto out;
		}
		if (n < 0) {
			ret = -errno;
			snprintf(g->err, g->errlen, "send (connection %u, request %u): %s", s->conn,
				 s->req, strerror(errno));
			goto out;
		}
		s->sent += (size_t)n;
		if (s->sent == size) {
			s->state = SLOT_RECEIVING;
			ret = watch(g, s, EPOLLIN, EPOLL_CTL_MOD);
			if (ret < 0)
				goto out;
		}
	}
	if (s->state != SLOT_RECEIVING || !(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		goto out;
	for (;;) {
		n = recv(s->fd, s->rbuf + s->got, size - s->got, 0);
		if (n < 0 && errno == EAGAIN)
			goto out;
		if (n <= 0) {
			ret = n < 0 ? -errno : -ECONNRESET;
			snprintf(g->err, g->errlen,
				 "recv (connection %u, request %u, %zu of %zu bytes): %s", s->conn,
				 s->req, s->got, size,
				 n < 0 ? strerror(errno) : "closed by the peer");
			goto out;
		}
		s->got += (size_t)n;
		if (s->got < size)
			continue;
		if (memcmp(s->sbuf, s->rbuf, size) != 0) {
			ret = -EBADMSG;
			snprintf(g->err, g->errlen,
				 "connection %u, request %u: the echo differs from what was sent",
				 s->conn, s->req);
			goto out;
		}
		now = xl_now_ns();
		g->res->req_ns[g->res->req_count++] = now - s->t_req;
		g->res->requests++;
		s->req++;
		if (s->req == g->plan->reqs) {
			ret = finish_conn(g, s, now);
			goto out;
		}
		start_request(g, s);
		/* Sending the next request may block; step() goes on from SENDING. */
		ret = step(g, s, 0);
		goto out;
	}
out:
	return ret;
}

static int alloc_all(struct gen *g)
{
	const struct xl_plan *p = g->plan;
	unsigned i;

	g->res->conn_ns = calloc(p->total, sizeof(uint64_t));
	g->res->req_ns = calloc((size_t)p->total * p->reqs, sizeof(uint64_t));
	g->slots = calloc(p->inflight, sizeof(*g->slots));
	g->held = p->hold ? malloc(p->total * sizeof(int)) : NULL;
	if (!g->res->conn_ns || !g->res->req_ns || !g->slots || (p->hold && !g->held))
		goto nomem;
	for (i = 0; i < p->inflight; i++) {
		g->slots[i].fd = -1;
		g->slots[i].sbuf = malloc(p->size);
		g->slots[i].rbuf = malloc(p->size);
		if (!g->slots[i].sbuf || !g->slots[i].rbuf)
			goto nomem;
	}
	for (i = 0; p->hold && i < p->total; i++)
		g->held[i] = -1;
	return 0;
nomem:
	snprintf(g->err, g->errlen, "out of memory");
	return -ENOMEM;
}

static void term_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
}

static void block_signals(void)
{
	sigset_t mask;

	term_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

/* In hold mode: every connection is open and answered; wait for the word to close them. */
static void hold_until_signal(void)
{
	sigset_t mask;
	int sig;

	term_signals(&mask);
	sigwait(&mask, &sig);
}

int xl_run_load(const struct xl_plan *plan, struct xl_result *res, void (*ready)(unsigned conns),
		char *err, size_t errlen)
{
	struct gen g = {.plan = plan, .res = res, .ep = -1, .err = err, .errlen = errlen};
	struct epoll_event evs[64];
	uint64_t t0, deadline, now;
	unsigned i;
	int ret, n;

	memset(res, 0, sizeof(*res));
	if (plan->inflight == 0 || plan->inflight > plan->total || plan->reqs == 0 ||
	    plan->size == 0) {
		snprintf(err, errlen,
			 "a plan needs 0 < in-flight <= connections, requests and size");
		return -EINVAL;
	}
	ret = alloc_all(&g);
	if (ret < 0)
		goto out;
	g.ep = epoll_create1(EPOLL_CLOEXEC);
	if (g.ep < 0) {
		ret = -errno;
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		goto out;
	}
	t0 = xl_now_ns();
	deadline = t0 + (uint64_t)plan->timeout_s * 1000000000u;
	for (i = 0; i < plan->inflight; i++) {
		ret = open_conn(&g, &g.slots[i]);
		if (ret < 0)
			goto out;
	}
	while (g.finished < plan->total) {
		now = xl_now_ns();
		if (now >= deadline) {
			ret = -ETIMEDOUT;
			snprintf(err, errlen, "timeout after %u s: %u of %u connections done",
				 plan->timeout_s, g.finished, plan->total);
			goto out;
		}
		n = epoll_wait(g.ep, evs, 64, (int)((deadline - now) / 1000000u) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (i = 0; i < (unsigned)n; i++) {
			ret = step(&g, &g.slots[evs[i].data.u32], evs[i].events);
			if (ret < 0)
				goto out;
		}
	}
	res->seconds = (double)(xl_now_ns() - t0) / 1e9;
	if (plan->hold) {
		/* Blocked only now: a SIGTERM while connecting still ends the process at once, and
		 * one that comes after "ready" waits for sigwait(). */
		block_signals();
		if (ready)
			ready(g.finished);
		hold_until_signal();
	}
	ret = 0;
out:
	for (i = 0; g.slots && i < plan->inflight; i++) {
		if (g.slots[i].fd >= 0)
			close(g.slots[i].fd);
		free(g.slots[i].sbuf);
		free(g.slots[i].rbuf);
	}
	for (i = 0; g.held && i < plan->total; i++) {
		if (g.held[i] >= 0)
			close(g.held[i]);
	}
	free(g.slots);
	free(g.held);
	if (g.ep >= 0)
		close(g.ep);
	return ret;
}
