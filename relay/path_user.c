/* path_user.c - the user-space data path: OpenSSL encrypts and decrypts, both directions at once.
 *
 * Up (plaintext -> TLS): recv up to a buffer, SSL_write it (whole records, 16 KiB each while the
 * stream is busy) into a record batch (record_batch.h), and send the batch in one call. Down (TLS -> plaintext): SSL_read records until the buffer is full or the
 * socket is drained, then send. Half-close is carried through: plaintext EOF -> close_notify and
 * shutdown of the TLS socket's write half; the peer's close_notify -> shutdown(SHUT_WR) of the
 * plaintext socket. Any error, or a TLS stream that ends without close_notify, resets both sides.
 * Buffers come from the worker's pool only while bytes are in flight. */
#include "conn.h"
#include "path.h"
#include "record_batch.h"
#include "tlspeer.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define USER_READ_AHEAD (64 * 1024 + 512)

/* The path's state (c->path_state): a buffer per direction, held only while bytes are in it. */
struct user_state {
	struct buf *up;   /* plaintext -> TLS */
	struct buf *down; /* TLS -> plaintext */
};

static void ssl_error_text(struct conn *c, int ret, const char *what, char *buf, size_t len)
{
	char reason[300];

	tlspeer_ssl_failure(c->ssl, ret, NULL, reason, sizeof(reason));
	snprintf(buf, len, "%s: %s", what, reason);
}

/* An SSL call that did not complete: what it waits for, or false when it failed. */
static bool ssl_wants(struct conn *c, int ret, unsigned *want)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_WRITE:
		*want |= WANT(SLOT_TLS_OUT);
		return true;
	case SSL_ERROR_WANT_READ:
		*want |= WANT(SLOT_TLS_IN);
		return true;
	default:
		return false;
	}
}

/* Sends the records waiting in the batch. False when the connection ended; otherwise *want says
 * whether the socket must drain first. */
static bool flush_records(struct conn *c, unsigned *want)
{
	BIO *wbio = SSL_get_wbio(c->ssl);

	if (record_batch_pending(wbio) == 0 || BIO_flush(wbio) > 0)
		return true;
	if (BIO_should_retry(wbio)) {
		*want |= WANT(SLOT_TLS_OUT);
		return true;
	}
	conn_finish(c, RESULT_RESET, "TLS side: %s", strerror(errno));
	return false;
}

/* Plaintext in, TLS out. */
static enum path_step up_step(struct conn *c, unsigned *want)
{
	struct user_state *u = c->path_state;
	char why[400];
	ssize_t n;
	int ret;

	/* Between chunks, records left by an earlier step (or written by OpenSSL on its own, e.g.
	 * an alert) go first: no more plaintext is taken while the TLS socket is full. Within a
	 * chunk they wait, so that its records leave together. */
	if (!(u->up && u->up->len > u->up->off)) {
		if (!flush_records(c, want))
			return STEP_FINISHED;
		if (*want & WANT(SLOT_TLS_OUT))
			return STEP_IDLE;
	}
	if (c->up_done)
		return STEP_IDLE;
	if (!u->up && !c->up_eof) {
		u->up = bufpool_get(&c->w->bufs);
		if (!u->up) {
			conn_finish(c, RESULT_ERROR, "out of memory for a buffer");
			return STEP_FINISHED;
		}
	}
	if (u->up && u->up->len == 0 && !c->up_eof) {
		if (!c->plain_readable) {
			bufpool_put(&c->w->bufs, u->up);
			u->up = NULL;
			*want |= WANT(SLOT_PLAIN_IN);
			return STEP_IDLE;
		}
		n = recv(c->plain_fd, u->up->data, BUF_SIZE - RECORD_BATCH_OVERHEAD, 0);
		if (n > 0) {
			u->up->len = n;
		} else if (n == 0) {
			c->up_eof = true;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->plain_readable = false;
			bufpool_put(&c->w->bufs, u->up);
			u->up = NULL;
			*want |= WANT(SLOT_PLAIN_IN);
			return STEP_IDLE;
		} else {
			conn_finish(c, RESULT_RESET, "plaintext side: %s", strerror(errno));
			return STEP_FINISHED;
		}
		return STEP_PROGRESS;
	}
	if (u->up && u->up->len > u->up->off) {
		ERR_clear_error();
		errno = 0;
		ret = SSL_write(c->ssl, u->up->data + u->up->off, u->up->len - u->up->off);
		if (ret > 0) {
			u->up->off += ret;
			c->to_tls += ret;
			if (u->up->off < u->up->len)
				return STEP_PROGRESS;
			/* The chunk's records are all in the batch: one send for all of them. */
			u->up->off = u->up->len = 0;
			if (!flush_records(c, want))
				return STEP_FINISHED;
			if (!(*want & WANT(SLOT_TLS_OUT)))
				return STEP_PROGRESS;
			c->last_progress = c->w->now;
			return STEP_IDLE;
		}
		if (ssl_wants(c, ret, want))
			return STEP_IDLE;
		ssl_error_text(c, ret, "TLS write", why, sizeof(why));
		conn_finish(c, RESULT_RESET, "%s", why);
		return STEP_FINISHED;
	}
	if (c->up_eof) {
		bufpool_put(&c->w->bufs, u->up);
		u->up = NULL;
		ERR_clear_error();
		errno = 0;
		ret = SSL_shutdown(c->ssl);
		if (ret < 0) {
			if (ssl_wants(c, ret, want))
				return STEP_IDLE;
			ssl_error_text(c, ret, "sending close_notify", why, sizeof(why));
			conn_finish(c, RESULT_RESET, "%s", why);
			return STEP_FINISHED;
		}
		/* The close_notify must leave before the FIN; if the socket is full, this branch
		 * runs again once it drains (SSL_shutdown then sends nothing new). */
		if (!flush_records(c, want))
			return STEP_FINISHED;
		if (*want & WANT(SLOT_TLS_OUT))
			return STEP_IDLE;
		shutdown(c->tls_fd, SHUT_WR);
		c->up_done = true;
		return STEP_PROGRESS;
	}
	return STEP_IDLE;
}

/* TLS in, plaintext out. */
static enum path_step down_step(struct conn *c, unsigned *want)
{
	struct user_state *u = c->path_state;
	enum path_step step = STEP_IDLE;
	char why[400];
	ssize_t n;
	int ret;

	if (c->down_done)
		return STEP_IDLE;
	if (!u->down && !c->down_eof) {
		u->down = bufpool_get(&c->w->bufs);
		if (!u->down) {
			conn_finish(c, RESULT_ERROR, "out of memory for a buffer");
			return STEP_FINISHED;
		}
	}
	if (!c->down_eof && !c->tls_readable && !SSL_has_pending(c->ssl))
		*want |= WANT(SLOT_TLS_IN);
	while (!c->down_eof && u->down->off == 0 && u->down->len < BUF_SIZE &&
	       (c->tls_readable || SSL_has_pending(c->ssl))) {
		ERR_clear_error();
		errno = 0;
		ret = SSL_read(c->ssl, u->down->data + u->down->len, BUF_SIZE - u->down->len);
		if (ret > 0) {
			u->down->len += ret;
			step = STEP_PROGRESS;
			continue;
		}
		if (SSL_get_error(c->ssl, ret) == SSL_ERROR_ZERO_RETURN) {
			c->down_eof = true; /* the peer's close_notify */
			step = STEP_PROGRESS;
		} else if (ssl_wants(c, ret, want)) {
			if (*want & WANT(SLOT_TLS_IN))
				c->tls_readable = false;
		} else {
			ssl_error_text(c, ret, "TLS read", why, sizeof(why));
			conn_finish(c, RESULT_RESET, "%s", why);
			return STEP_FINISHED;
		}
		break;
	}
	if (u->down && u->down->len > u->down->off) {
		n = send(c->plain_fd, u->down->data + u->down->off, u->down->len - u->down->off,
			 MSG_NOSIGNAL);
		if (n > 0) {
			u->down->off += n;
			c->to_plain += n;
			if (u->down->off == u->down->len)
				u->down->off = u->down->len = 0;
			step = STEP_PROGRESS;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			*want |= WANT(SLOT_PLAIN_OUT);
		} else {
			conn_finish(c, RESULT_RESET, "plaintext side: %s", strerror(errno));
			return STEP_FINISHED;
		}
	}
	if (u->down && u->down->len == 0 && (c->down_eof || (*want & WANT(SLOT_TLS_IN)))) {
		bufpool_put(&c->w->bufs, u->down);
		u->down = NULL;
		/* Nothing left to read: OpenSSL's own buffers go too. SSL_MODE_RELEASE_BUFFERS
		 * frees them after app data, but a post-handshake message (the server's session
		 * tickets) leaves a 16 KiB write buffer on every idle client connection: half the
		 * heap of an idle connection pair (heaptrack, 500 held connections). It frees
		 * nothing that still holds bytes. */
		SSL_free_buffers(c->ssl);
	}
	if (c->down_eof && !u->down) {
		shutdown(c->plain_fd, SHUT_WR);
		c->down_done = true;
		step = STEP_PROGRESS;
	}
	return step;
}

static void user_pump(struct conn *c)
{
	path_pump(c, up_step, down_step);
}

/* Any connection (unless its configuration asks for the kernel): OpenSSL can always carry it. */
static int user_claim(struct conn *c, char *why, size_t whylen)
{
	if (c->svc->conf->ktls == CONF_KTLS_ON) {
		snprintf(why, whylen, "ktls = on, but %s", c->path_why);
		return -EPERM;
	}
	return 0;
}

static int user_start(struct conn *c, char *why, size_t whylen)
{
	struct user_state *u = calloc(1, sizeof(*u));
	BIO *batch = u ? record_batch_new(c->tls_fd, &c->w->bufs) : NULL;

	if (!batch) {
		free(u);
		snprintf(why, whylen, "out of memory for the record batch");
		return -ENOMEM;
	}
	c->path_state = u;
	SSL_set0_wbio(c->ssl, batch);
	/* Read-ahead lets OpenSSL take several records per read(); it is off during the handshake
	 * so that a kernel hand-over never finds bytes buffered in OpenSSL. */
	SSL_set_read_ahead(c->ssl, 1);
	/* With read-ahead, one read() takes as many records as this buffer holds (profile: ~1.7
	 * reads per record with the default 16 KiB). Allocated per read burst, released when idle
	 * (SSL_MODE_RELEASE_BUFFERS). */
	SSL_set_default_read_buffer_len(c->ssl, USER_READ_AHEAD);
	return 0;
}

static bool user_stalled(const struct conn *c)
{
	const struct user_state *u = c->path_state;

	return (u->up && u->up->len > u->up->off) || (u->down && u->down->len > u->down->off) ||
	       (c->ssl && record_batch_pending(SSL_get_wbio(c->ssl)) > 0);
}

/* Every backend down: OpenSSL still holds the session (the path may not have started), and the
 * socket is writable or not; the result does not matter, the connection closes next. */
static void user_close_notify(struct conn *c)
{
	ERR_clear_error();
	SSL_shutdown(c->ssl);
	ERR_clear_error();
}

static void user_release(struct conn *c)
{
	struct user_state *u = c->path_state;

	if (!u)
		return;
	bufpool_put(&c->w->bufs, u->up);
	bufpool_put(&c->w->bufs, u->down);
	free(u);
	c->path_state = NULL;
}

const struct data_path path_user = {
	.claim = user_claim,
	.start = user_start,
	.pump = user_pump,
	.stalled = user_stalled,
	.close_notify = user_close_notify,
	.release = user_release,
	.keeps_ssl = true,
};
