#define _GNU_SOURCE /* splice, pipe2, F_SETPIPE_SZ */
/* path_kernel.c - the kernel data path: both directions' keys are in the kernel (kTLS) and bytes
 * move socket -> pipe -> socket by splice(), never through user space.
 *
 * Up (plaintext -> TLS): splice from the plaintext socket into a pipe, then from the pipe into
 * the kTLS socket, which cuts it into records (16 KiB each while the stream is busy).
 * Down (TLS -> plaintext): splice from the kTLS socket moves at most one record per call and fails
 * with EINVAL when the next record is not application data (a control record); that record is
 * then read with recvmsg and its TLS_GET_RECORD_TYPE cmsg (ktls_recv_record) and handled:
 * NewSessionTicket skipped (counted), close_notify half-closes the plaintext side, KeyUpdate ends
 * the connection after delivering every byte before it (kernels before 6.14 cannot re-key RX),
 * anything else ends it at once.
 * Splice is readiness-driven here (one-shot io_uring polls, then non-blocking splice calls), like
 * the user path. */
#include "conn.h"
#include "path.h"

#include "ktls.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Pipe capacity: 16 records; the default 64 KiB holds only 4. */
#define PIPE_BYTES (256 * 1024)

static ssize_t splice_move(int from, int to, size_t len)
{
	ssize_t n = splice(from, NULL, to, NULL, len, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);

	return n < 0 ? -errno : n;
}

/* Plaintext in, TLS out. */
static enum path_step up_step(struct conn *c, unsigned *want)
{
	ssize_t n;
	int ret;

	if (c->up_done)
		return STEP_IDLE;
	if (c->up_piped == 0 && !c->up_eof) {
		if (!c->plain_readable) {
			*want |= WANT(SLOT_PLAIN_IN);
			return STEP_IDLE;
		}
		n = splice_move(c->plain_fd, c->up_pipe[1], PIPE_BYTES);
		if (n > 0) {
			c->up_piped = n;
		} else if (n == 0) {
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
	if (c->up_piped > 0) {
		n = splice_move(c->up_pipe[0], c->tls_fd, c->up_piped);
		if (n > 0) {
			c->up_piped -= n;
			c->to_tls += n;
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
	uint8_t buf[KTLS_RECORD_MAX + 256], type, alert;
	struct ktls_record_info ri;
	char why[sizeof(c->down_fatal)];
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
	switch (ktls_record_action(&ri, can, &alert, why, sizeof(why))) {
	case KTLS_ACT_DATA:
		/* Application data read by recvmsg: it goes on through the pipe like the rest. */
		if (write(c->down_pipe[1], buf, n) != n) {
			conn_finish(c, RESULT_ERROR, "cannot queue %zd bytes of data", n);
			return STEP_FINISHED;
		}
		c->down_piped += n;
		return STEP_PROGRESS;
	case KTLS_ACT_SKIP:
		c->tickets_skipped++;
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
		snprintf(c->down_fatal, sizeof(c->down_fatal), "%s", why);
		return STEP_PROGRESS;
	case KTLS_ACT_END:
		break;
	}
	conn_finish(c, RESULT_RESET, "%s", why);
	return STEP_FINISHED;
}

/* TLS in, plaintext out. */
static enum path_step down_step(struct conn *c, unsigned *want)
{
	enum path_step step = STEP_IDLE;
	ssize_t n;

	if (c->down_done)
		return STEP_IDLE;
	/* Fill the pipe with whole records while it has room for another. */
	if (!c->down_eof && !c->down_fatal[0] && !c->tls_readable)
		*want |= WANT(SLOT_TLS_IN);
	while (!c->down_eof && !c->down_fatal[0] && c->tls_readable &&
	       c->down_piped + KTLS_RECORD_MAX <= PIPE_BYTES) {
		n = splice_move(c->tls_fd, c->down_pipe[1], PIPE_BYTES - c->down_piped);
		if (n > 0) {
			c->down_piped += n;
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
	if (c->down_piped > 0) {
		n = splice_move(c->down_pipe[0], c->plain_fd, c->down_piped);
		if (n > 0) {
			c->down_piped -= n;
			c->to_plain += n;
			step = STEP_PROGRESS;
		} else if (n == -EAGAIN) {
			*want |= WANT(SLOT_PLAIN_OUT);
		} else {
			conn_finish(c, RESULT_RESET, "plaintext side: %s", strerror(n ? -n : EPIPE));
			return STEP_FINISHED;
		}
	}
	if (c->down_piped == 0 && c->down_fatal[0]) {
		conn_finish(c, RESULT_RESET, "%s", c->down_fatal);
		return STEP_FINISHED;
	}
	if (c->down_piped == 0 && c->down_eof) {
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

static int kernel_start(struct conn *c, char *why, size_t whylen)
{
	if (pipe2(c->up_pipe, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    pipe2(c->down_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -errno;
	}
	/* Best effort: an unprivileged relay may be held to the default size by pipe-max-size. */
	fcntl(c->up_pipe[1], F_SETPIPE_SZ, PIPE_BYTES);
	fcntl(c->down_pipe[1], F_SETPIPE_SZ, PIPE_BYTES);
	return 0;
}

static bool kernel_stalled(const struct conn *c)
{
	return c->up_piped > 0 || c->down_piped > 0;
}

static void kernel_release(struct conn *c)
{
	for (int i = 0; i < 2; i++) {
		if (c->up_pipe[i] >= 0)
			close(c->up_pipe[i]);
		if (c->down_pipe[i] >= 0)
			close(c->down_pipe[i]);
		c->up_pipe[i] = c->down_pipe[i] = -1;
	}
}

const struct data_path path_kernel = {
	.name = "kernel",
	.start = kernel_start,
	.pump = kernel_pump,
	.stalled = kernel_stalled,
	.release = kernel_release,
};
