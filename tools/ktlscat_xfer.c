/* ktlscat_xfer.c - the data paths. Kernel: sendfile() from the page cache into the kTLS socket,
 * splice() from the kTLS socket through a pipe into the file; no payload byte enters user space.
 * User space (the fallback): read()+SSL_write(), SSL_read()+write(). Either way a transfer is
 * complete only when the sender's close_notify arrived (RFC 8446 §6.1): an EOF before it is a
 * truncation, never a success. Sockets carry SO_RCVTIMEO/SO_SNDTIMEO, so a stall ends as EAGAIN. */
#include "ktlscat.h"
#include "tlspeer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

/* sendfile() per call: large, so the one short record a call may end with (no MSG_MORE through
 * sendfile) is one in 256; small enough for the progress bar to move. */
#define SEND_CHUNK (4u << 20)
#define USER_BUF   (64u << 10)
#define PIPE_SIZE  (1u << 20)

const char *ktlscat_result_name(enum ktlscat_result r)
{
	static const char *const names[] = {"ok", "truncated", "reset", "timeout", "error"};

	return names[r];
}

static enum ktlscat_result sys_failure(struct ktlscat_xfer *x, const char *what, int err)
{
	snprintf(x->why, sizeof(x->why), "%s: %s", what,
		 err == EAGAIN ? "nothing moved within the timeout" : strerror(err));
	if (err == EAGAIN)
		return KTLSCAT_TIMEOUT;
	if (err == ECONNRESET || err == EPIPE)
		return KTLSCAT_RESET;
	return KTLSCAT_ERROR;
}

/* One non-data record from a kTLS socket, read when splice() refused it (EINVAL) or while
 * waiting for the close. Data is written to out (or dropped when out < 0). Returns 1 at the
 * peer's close_notify, 0 to go on, or a failure. */
static int control_record(struct ktlscat_xfer *x, int out, enum ktlscat_result *res)
{
	static uint8_t buf[KTLS_RECORD_MAX];
	struct ktls_record_info ri;
	char what[128];
	uint8_t type;
	ssize_t n;

	n = ktls_recv_record(x->fd, &type, buf, sizeof(buf), 0);
	if (n < 0) {
		*res = sys_failure(x, "recvmsg", (int)-n);
		if (n == -EBADMSG)
			snprintf(x->why, sizeof(x->why),
				 "a record failed authentication (EBADMSG)");
		return -1;
	}
	if (n == 0) {
		*res = KTLSCAT_TRUNCATED;
		snprintf(x->why, sizeof(x->why), "the connection ended without close_notify");
		return -1;
	}
	ktls_record_classify(type, buf, n, &ri);
	switch (ri.kind) {
	case KTLS_REC_DATA:
		if (out >= 0 && write(out, buf, n) != n) {
			*res = sys_failure(x, "write", errno);
			return -1;
		}
		if (out >= 0)
			x->bytes += n;
		return 0;
	case KTLS_REC_NEW_SESSION_TICKET:
		return 0;
	case KTLS_REC_CLOSE_NOTIFY:
		return 1;
	case KTLS_REC_KEY_UPDATE:
		snprintf(
		    x->why, sizeof(x->why),
		    "the peer sent a KeyUpdate, which this kernel cannot follow (before 6.14)");
		break;
	default:
		ktls_record_format(&ri, what, sizeof(what));
		snprintf(x->why, sizeof(x->why), "the peer sent %s", what);
		break;
	}
	*res = KTLSCAT_ERROR;
	return -1;
}

/* After our close_notify, only the peer's close_notify confirms the end. A bare EOF or a reset
 * does not: a peer killed mid-transfer can leave kTLS's sendfile() with no error to report (seen
 * on 6.1: the file "went out" whole after the receiver was killed), and then the close is all
 * that tells. A peer that stays connected but silent for wait_s is only noted. */
#define PEER_NO_CLOSE_NOTIFY "the peer closed without close_notify: delivery not confirmed"

static enum ktlscat_result wait_close_kernel(struct ktlscat_xfer *x, int wait_s)
{
	struct pollfd pfd = {.fd = x->fd, .events = POLLIN};
	enum ktlscat_result res = KTLSCAT_OK;
	double end = ktlscat_now() + wait_s;
	int r, ms;

	shutdown(x->fd, SHUT_WR);
	for (;;) {
		ms = (int)((end - ktlscat_now()) * 1000);
		r = ms > 0 ? poll(&pfd, 1, ms) : 0;
		if (r <= 0) {
			snprintf(x->note, sizeof(x->note),
				 "the peer did not close within %d s after our close_notify",
				 wait_s);
			return KTLSCAT_OK;
		}
		r = control_record(x, -1, &res);
		if (r == 1)
			return KTLSCAT_OK;
		if (r < 0 && res == KTLSCAT_TRUNCATED)
			snprintf(x->why, sizeof(x->why), "%s", PEER_NO_CLOSE_NOTIFY);
		if (r < 0)
			return res;
	}
}

enum ktlscat_result ktlscat_send_kernel(struct ktlscat_xfer *x, int wait_s)
{
	off_t off = 0;
	ssize_t n;
	int ret;

	while ((uint64_t)off < x->size) {
		size_t len = x->size - off < SEND_CHUNK ? x->size - off : SEND_CHUNK;

		n = sendfile(x->fd, x->file, &off, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sys_failure(x, "sendfile", errno);
		if (n == 0) {
			snprintf(x->why, sizeof(x->why), "the file shrank during the transfer");
			return KTLSCAT_ERROR;
		}
		x->bytes = off;
		ktlscat_progress_update(x->progress, x->bytes);
	}
	/* An error the kernel recorded but sendfile() did not return. */
	if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &ret, &(socklen_t){sizeof(ret)}) == 0 && ret)
		return sys_failure(x, "sendfile", ret);
	ret = ktls_send_close_notify(x->fd);
	if (ret < 0)
		return sys_failure(x, "close_notify", -ret);
	return wait_close_kernel(x, wait_s);
}

static enum ktlscat_result splice_to_file(struct ktlscat_xfer *x, int pipe_r, size_t n)
{
	ssize_t m;

	while (n > 0) {
		m = splice(pipe_r, NULL, x->file, NULL, n, SPLICE_F_MOVE);
		if (m < 0 && errno == EINTR)
			continue;
		if (m <= 0)
			return sys_failure(x, "splice to the file", m < 0 ? errno : EIO);
		n -= m;
		x->bytes += m;
	}
	return KTLSCAT_OK;
}

enum ktlscat_result ktlscat_recv_kernel(struct ktlscat_xfer *x)
{
	enum ktlscat_result res = KTLSCAT_OK;
	int p[2], r;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		return sys_failure(x, "pipe", errno);
	/* A larger pipe lets one splice out of it carry many 16 KiB records to the file. */
	fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE);
	for (;;) {
		n = splice(x->fd, NULL, p[1], NULL, PIPE_SIZE, SPLICE_F_MOVE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL) {
			/* The next record is not application data (tls_sw_splice_read). */
			r = control_record(x, x->file, &res);
			if (r == 1)
				break;
			if (r < 0)
				goto out;
			continue;
		}
		if (n < 0) {
			res = sys_failure(x, "splice from the socket", errno);
			if (errno == EBADMSG)
				snprintf(x->why, sizeof(x->why),
					 "a record failed authentication (EBADMSG)");
			goto out;
		}
		if (n == 0) {
			res = KTLSCAT_TRUNCATED;
			snprintf(x->why, sizeof(x->why),
				 "the connection ended without close_notify");
			goto out;
		}
		res = splice_to_file(x, p[0], n);
		if (res != KTLSCAT_OK)
			goto out;
		ktlscat_progress_update(x->progress, x->bytes);
	}
	/* RFC 8446 §6.1: answer the peer's close_notify with ours. */
	r = ktls_send_close_notify(x->fd);
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		res = sys_failure(x, "close_notify", -r);
out:
	close(p[0]);
	close(p[1]);
	return res;
}

/* An SSL I/O failure as a result: the peer's missing close_notify is a truncation. Called right
 * after the SSL call (tlspeer_ssl_failure reads errno). */
static enum ktlscat_result ssl_failure(struct ktlscat_xfer *x, const char *what, int ret)
{
	char reason[200];
	int sys;

	switch (tlspeer_ssl_failure(x->ssl, ret, &sys, reason, sizeof(reason))) {
	case TLSPEER_TRUNCATED:
		snprintf(x->why, sizeof(x->why), "%s", reason);
		return KTLSCAT_TRUNCATED;
	case TLSPEER_SYSCALL:
		return sys_failure(x, what, sys);
	case TLSPEER_WANT: /* SO_RCVTIMEO/SO_SNDTIMEO ran out */
		return sys_failure(x, what, EAGAIN);
	default:
		snprintf(x->why, sizeof(x->why), "%s: %s", what, reason);
		return KTLSCAT_ERROR;
	}
}

static enum ktlscat_result wait_close_user(struct ktlscat_xfer *x, int wait_s)
{
	struct timeval tv = {.tv_sec = wait_s};
	enum ktlscat_result res;
	char buf[4096];
	int n;

	setsockopt(x->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ERR_clear_error();
		errno = 0;
		n = SSL_read(x->ssl, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (SSL_get_error(x->ssl, n) == SSL_ERROR_ZERO_RETURN)
			return KTLSCAT_OK;
		res = ssl_failure(x, "waiting for the peer's close", n);
		if (res == KTLSCAT_TRUNCATED)
			snprintf(x->why, sizeof(x->why), "%s", PEER_NO_CLOSE_NOTIFY);
		if (res == KTLSCAT_TIMEOUT) {
			snprintf(x->note, sizeof(x->note),
				 "the peer did not close within %d s after our close_notify",
				 wait_s);
			x->why[0] = '\0';
			return KTLSCAT_OK;
		}
		return res;
	}
}

enum ktlscat_result ktlscat_send_user(struct ktlscat_xfer *x, int wait_s)
{
	static char buf[USER_BUF];
	ssize_t n;
	int w;

	while (x->bytes < x->size) {
		n = read(x->file, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sys_failure(x, "read", errno);
		if (n == 0) {
			snprintf(x->why, sizeof(x->why), "the file shrank during the transfer");
			return KTLSCAT_ERROR;
		}
		for (ssize_t off = 0; off < n; off += w) {
			ERR_clear_error();
			errno = 0;
			w = SSL_write(x->ssl, buf + off, n - off);
			if (w <= 0)
				return ssl_failure(x, "send", w);
		}
		x->bytes += n;
		ktlscat_progress_update(x->progress, x->bytes);
	}
	/* 0: our close_notify is out, theirs not yet read. */
	ERR_clear_error();
	errno = 0;
	w = SSL_shutdown(x->ssl);
	if (w < 0)
		return ssl_failure(x, "close_notify", w);
	return wait_close_user(x, wait_s);
}

enum ktlscat_result ktlscat_recv_user(struct ktlscat_xfer *x)
{
	static char buf[USER_BUF];
	ssize_t w;
	int n;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		n = SSL_read(x->ssl, buf, sizeof(buf));
		if (n <= 0 && SSL_get_error(x->ssl, n) == SSL_ERROR_ZERO_RETURN)
			break;
		if (n <= 0)
			return ssl_failure(x, "recv", n);
		for (int off = 0; off < n; off += w) {
			w = write(x->file, buf + off, n - off);
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w < 0)
				return sys_failure(x, "write", errno);
		}
		x->bytes += n;
		ktlscat_progress_update(x->progress, x->bytes);
	}
	/* The peer's close_notify arrived: answer it; a peer already gone changes nothing. */
	ERR_clear_error();
	SSL_shutdown(x->ssl);
	ERR_clear_error();
	return KTLSCAT_OK;
}
