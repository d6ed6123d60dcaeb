/* "many": thousands of connections open at once through the relays, each one checked twice.
 *
 * Round 0 runs as the connections open (a bounded number still opening at a time, so the load
 * is the number held, not a SYN flood the backlog drops). Round 1 starts only when every
 * connection is open and sends one request on all of them at once: a relay that confuses two
 * connections, drops old ones as new ones arrive, or stalls when it holds many, fails here even
 * if each connection worked on its own. Every payload differs (connection, round, and a salt per
 * run), so an echo of another connection's bytes or of a stale buffer cannot pass.
 *
 * A failure is counted and the run goes on: "37 of 1500 connections were reset" says more about
 * a relay under load than the first error alone. */
#include "xferload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

/* Failures printed one by one; the rest are only counted. */
#define REPORT_MAX 10

enum mc_state { MC_NEW, MC_CONNECTING, MC_SENDING, MC_RECEIVING, MC_HELD, MC_DONE, MC_FAILED };

struct mconn {
	int fd;
	enum mc_state state;
	unsigned round;
	size_t sent, got;
};

struct many {
	const struct xl_plan *plan;
	struct xl_many_result *res;
	int ep;
	struct mconn *conns;
	unsigned char *rbufs;	/* plan->size bytes per connection: echoes arrive in pieces */
	unsigned char *scratch; /* the expected payload, made again where needed */
	uint64_t salt;
	unsigned busy; /* connections with a request not yet answered */
};

static void payload(struct many *m, unsigned i, unsigned round)
{
	xl_fill(m->scratch, m->plan->size, ((uint64_t)i << 32 | round) ^ m->salt);
}

__attribute__((format(printf, 3, 4))) static void mc_fail(struct many *m, unsigned i,
							  const char *fmt, ...)
{
	struct mconn *c = &m->conns[i];
	va_list ap;

	if (c->state == MC_SENDING || c->state == MC_RECEIVING || c->state == MC_CONNECTING)
		m->busy--;
	if (c->state == MC_DONE)
		m->res->ok--;
	if (m->res->failed < REPORT_MAX) {
		fprintf(stderr, "xferload many: connection %u, round %u: ", i, c->round);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	} else if (m->res->failed == REPORT_MAX) {
		fprintf(stderr, "xferload many: more failures are only counted\n");
	}
	m->res->failed++;
	if (c->fd >= 0) {
		epoll_ctl(m->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = MC_FAILED;
}

static void mc_watch(struct many *m, unsigned i, uint32_t events, int op)
{
	struct epoll_event ev = {.events = events, .data.u32 = i};

	if (epoll_ctl(m->ep, op, m->conns[i].fd, &ev) < 0)
		mc_fail(m, i, "epoll_ctl: %s", strerror(errno));
}

static void mc_open(struct many *m, unsigned i)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(m->plan->port)};
	struct mconn *c = &m->conns[i];
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->state = MC_CONNECTING;
	c->round = 0;
	m->busy++;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		mc_fail(m, i, "socket: %s (raise ulimit -n?)", strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		mc_fail(m, i, "connect: %s", strerror(errno));
		return;
	}
	mc_watch(m, i, EPOLLOUT, EPOLL_CTL_ADD);
}

static void mc_send(struct many *m, unsigned i)
{
	struct mconn *c = &m->conns[i];
	size_t size = m->plan->size;
	ssize_t n;

	payload(m, i, c->round);
	while (c->sent < size) {
		n = send(c->fd, m->scratch + c->sent, size - c->sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			mc_watch(m, i, EPOLLOUT, EPOLL_CTL_MOD);
			return;
		}
		if (n < 0) {
			mc_fail(m, i, "send: %s", strerror(errno));
			return;
		}
		c->sent += (size_t)n;
	}
	c->state = MC_RECEIVING;
	c->got = 0;
	mc_watch(m, i, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
}

/* A request sent from the start: round 0 right after connect, round 1 on a held connection. */
static void mc_request(struct many *m, unsigned i, unsigned round)
{
	struct mconn *c = &m->conns[i];

	if (c->state == MC_HELD)
		m->busy++;
	c->state = MC_SENDING;
	c->round = round;
	c->sent = 0;
	mc_send(m, i);
}

static void mc_receive(struct many *m, unsigned i)
{
	struct mconn *c = &m->conns[i];
	size_t size = m->plan->size;
	unsigned char *buf = m->rbufs + (size_t)i * size;
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf + c->got, size - c->got, 0);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			mc_fail(m, i, "recv: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			mc_fail(m, i, "closed by the peer after %zu of %zu bytes of the echo",
				c->got, size);
			return;
		}
		c->got += (size_t)n;
		if (c->got == size)
			break;
	}
	payload(m, i, c->round);
	if (memcmp(buf, m->scratch, size) != 0) {
		mc_fail(m, i, "the echo differs from what was sent");
		return;
	}
	m->busy--;
	if (c->round == 0) {
		m->res->opened++;
		c->state = MC_HELD;
	} else {
		m->res->ok++;
		c->state = MC_DONE;
	}
	/* Held: nothing may arrive; RDHUP tells us if the relay closes it behind our back. */
	mc_watch(m, i, EPOLLRDHUP, EPOLL_CTL_MOD);
}

static void mc_step(struct many *m, unsigned i, uint32_t events)
{
	struct mconn *c = &m->conns[i];
	socklen_t len = sizeof(int);
	int soerr = 0;

	switch (c->state) {
	case MC_CONNECTING:
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		if (soerr) {
			mc_fail(m, i, "connect: %s", strerror(soerr));
			return;
		}
		mc_request(m, i, 0);
		return;
	case MC_SENDING:
		mc_send(m, i);
		return;
	case MC_RECEIVING:
		mc_receive(m, i);
		return;
	case MC_HELD:
	case MC_DONE:
		mc_fail(m, i, "%s while held open",
			(events & EPOLLERR) ? "reset by the peer" : "closed by the peer");
		return;
	default:
		return;
	}
}

/* Runs the event loop until no request is outstanding (and, in round 0, every connection was
 * opened); at the deadline every outstanding one fails. */
static int mc_loop(struct many *m, unsigned *next, uint64_t deadline, char *err, size_t errlen)
{
	const struct xl_plan *p = m->plan;
	struct epoll_event evs[256];
	uint64_t now;
	unsigned i;
	int n;

	for (;;) {
		while (*next < p->total && m->busy < p->inflight)
			mc_open(m, (*next)++);
		if (m->busy == 0 && *next == p->total)
			return 0;
		now = xl_now_ns();
		if (now >= deadline)
			break;
		n = epoll_wait(m->ep, evs, 256, (int)((deadline - now) / 1000000u) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (i = 0; i < (unsigned)n; i++)
			mc_step(m, evs[i].data.u32, evs[i].events);
	}
	for (i = 0; i < p->total; i++) {
		struct mconn *c = &m->conns[i];

		if (c->state == MC_NEW)
			mc_fail(m, i, "never opened within the run's %u s", p->timeout_s);
		else if (c->state == MC_CONNECTING)
			mc_fail(m, i, "not connected within the run's %u s", p->timeout_s);
		else if (c->state == MC_SENDING || c->state == MC_RECEIVING)
			mc_fail(m, i,
				"no whole echo within the run's %u s (sent %zu, got %zu of %zu)",
				p->timeout_s, c->sent, c->got, p->size);
	}
	*next = p->total;
	return 0;
}

static void block_term(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigprocmask(SIG_BLOCK, mask, NULL);
}

int xl_run_many(const struct xl_plan *plan, struct xl_many_result *res,
		void (*ready)(const struct xl_many_result *res), char *err, size_t errlen)
{
	struct many m = {.plan = plan, .res = res, .ep = -1};
	uint64_t t0, t1, deadline;
	unsigned i, next = 0;
	sigset_t mask;
	int ret, sig;

	memset(res, 0, sizeof(*res));
	if (plan->total == 0 || plan->inflight == 0 || plan->size == 0) {
		snprintf(err, errlen, "a plan needs connections, in-flight and size above 0");
		return -EINVAL;
	}
	m.conns = calloc(plan->total, sizeof(*m.conns));
	m.rbufs = malloc((size_t)plan->total * plan->size);
	m.scratch = malloc(plan->size);
	if (!m.conns || !m.rbufs || !m.scratch) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < plan->total; i++)
		m.conns[i].fd = -1;
	if (getrandom(&m.salt, sizeof(m.salt), 0) != sizeof(m.salt))
		m.salt = xl_now_ns();
	m.ep = epoll_create1(EPOLL_CLOEXEC);
	if (m.ep < 0) {
		ret = -errno;
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		goto out;
	}
	t0 = xl_now_ns();
	deadline = t0 + (uint64_t)plan->timeout_s * 1000000000u;
	ret = mc_loop(&m, &next, deadline, err, errlen);
	if (ret < 0)
		goto out;
	t1 = xl_now_ns();
	res->open_seconds = (double)(t1 - t0) / 1e9;
	/* Round 1: every connection that is still fine gets its request at the same time. */
	for (i = 0; i < plan->total; i++)
		if (m.conns[i].state == MC_HELD)
			mc_request(&m, i, 1);
	ret = mc_loop(&m, &next, deadline, err, errlen);
	if (ret < 0)
		goto out;
	res->check_seconds = (double)(xl_now_ns() - t1) / 1e9;
	if (plan->hold) {
		block_term(&mask);
		if (ready)
			ready(res);
		sigwait(&mask, &sig);
	}
	ret = 0;
out:
	for (i = 0; m.conns && i < plan->total; i++)
		if (m.conns[i].fd >= 0)
			close(m.conns[i].fd);
	if (m.ep >= 0)
		close(m.ep);
	free(m.conns);
	free(m.rbufs);
	free(m.scratch);
	return ret;
}
