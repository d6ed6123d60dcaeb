/* path_kernel.c - the kernel data path: both directions' keys are in the kernel (kTLS) and bytes
 * move socket -> pipe -> socket by splice(), never through user space.
 *
 * Up (plaintext -> TLS): splice from the plaintext socket into a pipe, then from the pipe into
 * the kTLS socket, which cuts it into records (16 KiB each while the stream is busy).
 * Down (TLS -> plaintext): splice from the kTLS socket moves at most one record per call and fails
 * with EINVAL when the next record is not application data (a control record); that record is
 * then read with recvmsg and its TLS_GET_RECORD_TYPE cmsg (ktls_recv_record) and handled:
 * NewSessionTicket skipped, close_notify half-closes the plaintext side, KeyUpdate ends
 * the connection after delivering every byte before it (kernels before 6.14 cannot re-key RX),
 * anything else ends it at once.
 * Splice is readiness-driven here (one-shot polls, then non-blocking splice calls), like the user
 * path. Each direction takes a pipe from the worker's pool when it has bytes to move and gives it
 * back once the pipe is empty (pipe_pool.h): an idle connection holds its two sockets only. */
#include "conn.h"
#include "path.h"
#include "pipe_pool.h"

#include "ktls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The path's state (c->path_state). A direction's pipe is NULL while it has nothing piped. */
struct kernel_state {
	struct pipe *up, *down;
	size_t up_piped, down_piped; /* bytes in each pipe */
	char down_fatal[320];        /* deliver what is piped, then reset with this reason */
};

static ssize_t splice_move(int from, int to, size_t len)
{
	ssize_t n = splice(from, NULL, to, NULL, len, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);

	return n < 0 ? -errno : n;
}

/* A pipe for a direction that has bytes to move. False: the connection ended (no descriptor). */
static bool take_pipe(struct conn *c, struct pipe **p)
{
	char why[160];

	if (*p)
		return true;
	if (pipe_pool_get(&c->w->pipes, p, why, sizeof(why)) == 0)
		return true;
	conn_finish(c, RESULT_ERROR, "%s", why);
	return false;
}

/* An empty direction gives its pipe back to the pool. */
static void give_back_if_empty(struct conn *c, struct pipe **p, size_t piped)
{
	if (*p && piped == 0) {
		pipe_pool_put(&c->w->pipes, *p);
		*p = NULL;
	}
}

/* Plaintext in, TLS out. */
static enum path_step up_step(struct conn *c, unsigned *want)
{
	struct kernel_state *k = c->path_state;
	ssize_t n;
	int ret;

	if (c->up_done)
		return STEP_IDLE;
	if (k->up_piped == 0 && !c->up_eof) {
		if (!c->plain_readable) {
			*want |= WANT(SLOT_PLAIN_IN);
			return STEP_IDLE;
		}
		if (!take_pipe(c, &k->up))
			return STEP_FINISHED;
		n = splice_move(c->plain_fd, k->up->wr, k->up->size);
		if (n > 0) {
			k->up_piped = n;
			return STEP_PROGRESS;
		}
		give_back_if_empty(c, &k->up, k->up_piped);
		if (n == 0) {
			c->up_eof = true;
		} else if (n == -EAGAIN) {
			c->plain_readable = false;
			*want |= WANT(SLOT_PLAIN_IN);
			return STEP_IDLE;
		} else {
			conn_finish(c, RESULT_RESET, "plaintext side: %s", strerror(-n));
			return STEP_FINISHED;
		}
		return STEP_PROGRESS;
	}
	if (k->up_piped > 0) {
		n = splice_move(k->up->rd, c->tls_fd, k->up_piped);
		if (n > 0) {
			k->up_piped -= n;
			c->to_tls += n;
			give_back_if_empty(c, &k->up, k->up_piped);
			return STEP_PROGRESS;
		}
		if (n == -EAGAIN) {
			*want |= WANT(SLOT_TLS_OUT);
			return STEP_IDLE;
		}
		conn_finish(c, RESULT_RESET, "TLS write: %s", strerror(n ? -n : EPIPE));
		return STEP_FINISHED;
	}
	/* Plaintext EOF and everything sent: close_notify, then half-close the TCP stream. */
	ret = ktls_send_close_notify(c->tls_fd);
	if (ret == -EAGAIN) {
		*want |= WANT(SLOT_TLS_OUT);
		return STEP_IDLE;
	}
	if (ret < 0) {
		conn_finish(c, RESULT_RESET, "sending close_notify: %s", strerror(-ret));
		return STEP_FINISHED;
	}
	shutdown(c->tls_fd, SHUT_WR);
	c->up_done = true;
	return STEP_PROGRESS;
}

/* The next record is not application data: read it whole and act on it. */
static enum path_step control_record(struct conn *c, unsigned *want)
{
	struct kernel_state *k = c->path_state;
	uint8_t buf[KTLS_RECORD_MAX + 256], type, alert;
	struct ktls_record_info ri;
	char why[sizeof(k->down_fatal)];
	/* The kernel may take new keys, but this connection keeps no traffic secrets yet: a
	 * KeyUpdate ends it, saying so (ktls_record_action). */
	unsigned can = c->rt->probe.rekey_tx && c->rt->probe.rekey_rx ? KTLS_CAN_REKEY_KERNEL : 0;
	ssize_t n;

	n = ktls_recv_record(c->tls_fd, &type, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == -EAGAIN) {
		c->tls_readable = false;
		*want |= WANT(SLOT_TLS_IN);
		return STEP_IDLE;
	}
	if (n <= 0) {
		conn_finish(c, RESULT_RESET, "TLS read: %s",
			    n == 0 ? "TLS peer closed without close_notify (truncated)"
				   : strerror(-n));
		return STEP_FINISHED;
	}
	ktls_record_classify(type, buf, n, &ri);
	service_stat_record(c->svc, ri.kind);
	switch (ktls_record_action(&ri, can, &alert, why, sizeof(why))) {
	case KTLS_ACT_DATA:
		/* Application data read by recvmsg: it goes on through the pipe like the rest. */
		if (write(k->down->wr, buf, n) != n) {
			conn_finish(c, RESULT_ERROR, "cannot queue %zd bytes of data", n);
			return STEP_FINISHED;
		}
		k->down_piped += n;
		return STEP_PROGRESS;
	case KTLS_ACT_SKIP:
		return STEP_PROGRESS;
	case KTLS_ACT_EOF:
		c->down_eof = true;
		return STEP_PROGRESS;
	case KTLS_ACT_ALERT:
		/* Best effort: the peer broke the protocol and may already be gone. Every byte
		 * before the bad record is still delivered, then the reset. */
		(void)ktls_send_alert(c->tls_fd, 2, alert);
		/* fall through */
	case KTLS_ACT_REKEY: /* not offered above: no secrets kept */
	case KTLS_ACT_END_AFTER:
		snprintf(k->down_fatal, sizeof(k->down_fatal), "%s", why);
		return STEP_PROGRESS;
	case KTLS_ACT_END:
		break;
	}
	conn_finish(c, RESULT_RESET, "%s", why);
	return STEP_FINISHED;
}

/* Room in the down pipe for another whole record (a direction without a pipe has a whole one). */
static bool down_room(const struct kernel_state *k)
{
	return !k->down || k->down_piped + KTLS_RECORD_MAX <= k->down->size;
}

/* TLS in, plaintext out. */
static enum path_step down_step(struct conn *c, unsigned *want)
{
	struct kernel_state *k = c->path_state;
	enum path_step step = STEP_IDLE;
	ssize_t n;

	if (c->down_done)
		return STEP_IDLE;
	/* Fill the pipe with whole records while it has room for another. */
	if (!c->down_eof && !k->down_fatal[0] && !c->tls_readable)
		*want |= WANT(SLOT_TLS_IN);
	while (!c->down_eof && !k->down_fatal[0] && c->tls_readable && down_room(k)) {
		if (!take_pipe(c, &k->down))
			return STEP_FINISHED;
		if (k->down->size < KTLS_RECORD_MAX) {
			/* Splice from kTLS moves a record whole: a pipe smaller than a record (two
			 * pages, what a user past fs.pipe-user-pages-soft gets) cannot take one. */
			conn_finish(c, RESULT_ERROR,
				    "a %zu-byte pipe cannot hold a TLS record (fs.pipe-user-pages-soft "
				    "reached?)",
				    k->down->size);
			return STEP_FINISHED;
		}
		n = splice_move(c->tls_fd, k->down->wr, k->down->size - k->down_piped);
		if (n > 0) {
			k->down_piped += n;
			step = STEP_PROGRESS;
			continue;
		}
		if (n == 0) {
			conn_finish(c, RESULT_RESET,
				    "TLS read: TLS peer closed without close_notify (truncated)");
			return STEP_FINISHED;
		}
		if (n == -EAGAIN) {
			c->tls_readable = false;
			*want |= WANT(SLOT_TLS_IN);
			break;
		}
		if (n != -EINVAL) {
			conn_finish(c, RESULT_RESET, "TLS read: %s", strerror(-n));
			return STEP_FINISHED;
		}
		switch (control_record(c, want)) {
		case STEP_FINISHED:
			return STEP_FINISHED;
		case STEP_PROGRESS:
			step = STEP_PROGRESS;
			continue;
		case STEP_IDLE:
			break;
		}
		break;
	}
	if (k->down_piped > 0) {
		n = splice_move(k->down->rd, c->plain_fd, k->down_piped);
		if (n > 0) {
			k->down_piped -= n;
			c->to_plain += n;
			step = STEP_PROGRESS;
		} else if (n == -EAGAIN) {
			*want |= WANT(SLOT_PLAIN_OUT);
		} else {
			conn_finish(c, RESULT_RESET, "plaintext side: %s", strerror(n ? -n : EPIPE));
			return STEP_FINISHED;
		}
	}
	give_back_if_empty(c, &k->down, k->down_piped);
	if (k->down_piped == 0 && k->down_fatal[0]) {
		conn_finish(c, RESULT_RESET, "%s", k->down_fatal);
		return STEP_FINISHED;
	}
	if (k->down_piped == 0 && c->down_eof) {
		shutdown(c->plain_fd, SHUT_WR);
		c->down_done = true;
		step = STEP_PROGRESS;
	}
	return step;
}

static void kernel_pump(struct conn *c)
{
	path_pump(c, up_step, down_step);
}

/* Both directions' keys into the kernel, unless the configuration or the kernel says no. */
static int kernel_claim(struct conn *c, char *why, size_t whylen)
{
	struct ktls_offload off;
	char reason[160];

	if (c->svc->conf->ktls == CONF_KTLS_OFF) {
		snprintf(why, whylen, "ktls = off");
		return -ENOTSUP;
	}
	if (!c->rt->probe.ulp) {
		snprintf(why, whylen, "%s", c->rt->probe.why);
		return -ENOTSUP;
	}
	ERR_clear_error(); /* the offload reads OpenSSL's state through SSL calls */
	if (ktls_ssl_offload(c->ssl, c->tls_fd, 0, &off, reason, sizeof(reason)) == 0)
		return 0;
	if (off.tx != KTLS_USER || off.rx != KTLS_USER) {
		snprintf(why, whylen, "kernel TLS half installed: %s", reason);
		return -EPROTO;
	}
	snprintf(why, whylen, "%s", reason);
	return -ENOTSUP;
}

/* No pipe yet: a direction takes one when it has bytes to move. */
static int kernel_start(struct conn *c, char *why, size_t whylen)
{
	c->path_state = calloc(1, sizeof(struct kernel_state));
	if (!c->path_state) {
		snprintf(why, whylen, "out of memory for the kernel path");
		return -ENOMEM;
	}
	return 0;
}

static bool kernel_stalled(const struct conn *c)
{
	const struct kernel_state *k = c->path_state;

	return k->up_piped > 0 || k->down_piped > 0;
}

/* After a kernel hand-over OpenSSL must not write any more: the kernel sends it. */
static void kernel_close_notify(struct conn *c)
{
	ktls_send_close_notify(c->tls_fd);
}

static void kernel_release(struct conn *c)
{
	struct kernel_state *k = c->path_state;

	if (!k)
		return;
	/* Pipes still holding bytes are closed; empty ones go back to the pool. */
	if (k->up_piped)
		pipe_pool_discard(k->up);
	else
		pipe_pool_put(&c->w->pipes, k->up);
	if (k->down_piped)
		pipe_pool_discard(k->down);
	else
		pipe_pool_put(&c->w->pipes, k->down);
	free(k);
	c->path_state = NULL;
}

const struct data_path path_kernel = {
	.claim = kernel_claim,
	.start = kernel_start,
	.pump = kernel_pump,
	.stalled = kernel_stalled,
	.close_notify = kernel_close_notify,
	.release = kernel_release,
	.keeps_ssl = false,
};
