/* record_batch.c - the user path's write BIO: TLS records gathered, then sent in one call. */
#include "record_batch.h"
#include "bufpool.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

struct record_batch {
	int fd;
	struct bufpool *pool;
	struct buf *buf; /* records waiting; NULL when none */
};

/* Sends what waits. 1: all sent (the buffer went back to the pool); 0: the socket is full
 * (retry flag set); -1: the socket failed (errno set, as a socket BIO leaves it). */
static int batch_send(BIO *b, struct record_batch *rb)
{
	struct buf *buf = rb->buf;

	while (buf && buf->off < buf->len) {
		ssize_t n = send(rb->fd, buf->data + buf->off, buf->len - buf->off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			BIO_set_retry_write(b);
			return 0;
		}
		if (n < 0)
			return -1;
		buf->off += n;
	}
	bufpool_put(rb->pool, buf);
	rb->buf = NULL;
	return 1;
}

static int batch_write(BIO *b, const char *data, int len)
{
	struct record_batch *rb = BIO_get_data(b);
	size_t room;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (rb->buf && rb->buf->len == BUF_SIZE) {
		int sent = batch_send(b, rb);
		if (sent <= 0)
			return -1;
	}
	if (!rb->buf) {
		rb->buf = bufpool_get(rb->pool);
		if (!rb->buf) {
			errno = ENOMEM;
			return -1;
		}
	}
	room = BUF_SIZE - rb->buf->len;
	if ((size_t)len > room)
		len = (int)room;
	memcpy(rb->buf->data + rb->buf->len, data, len);
	rb->buf->len += len;
	return len;
}

static long batch_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct record_batch *rb = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		BIO_clear_retry_flags(b);
		return batch_send(b, rb) > 0;
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_PENDING:
		return (long)record_batch_pending(b);
	default:
		return 0;
	}
}

static int batch_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int batch_destroy(BIO *b)
{
	struct record_batch *rb = BIO_get_data(b);

	if (rb) {
		bufpool_put(rb->pool, rb->buf);
		OPENSSL_free(rb);
		BIO_set_data(b, NULL);
	}
	return 1;
}

static BIO_METHOD *batch_method;

static void batch_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "record batch");

	if (m && BIO_meth_set_write(m, batch_write) && BIO_meth_set_ctrl(m, batch_ctrl) &&
	    BIO_meth_set_create(m, batch_create) && BIO_meth_set_destroy(m, batch_destroy))
		batch_method = m;
	else
		BIO_meth_free(m);
}

BIO *record_batch_new(int fd, struct bufpool *pool)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct record_batch *rb;
	BIO *b;

	pthread_once(&once, batch_method_init);
	if (!batch_method || !(b = BIO_new(batch_method)))
		return NULL;
	rb = OPENSSL_zalloc(sizeof(*rb));
	if (!rb) {
		BIO_free(b);
		return NULL;
	}
	rb->fd = fd;
	rb->pool = pool;
	BIO_set_data(b, rb);
	return b;
}

size_t record_batch_pending(BIO *b)
{
	struct record_batch *rb = BIO_get_data(b);

	return rb && rb->buf ? rb->buf->len - rb->buf->off : 0;
}
