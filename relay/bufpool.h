/* bufpool.h - a per-worker pool of data buffers for the user path. A connection takes a buffer
 * only while bytes are in flight and gives it back when it is empty, so an idle connection holds
 * none; the pool keeps a bounded number of empty ones so a busy worker allocates nothing. */
#ifndef RELAY_BUFPOOL_H
#define RELAY_BUFPOOL_H

#include <stddef.h>

#define BUF_SIZE (64 * 1024)

struct buf {
	struct buf *next;
	size_t off, len;
	char data[BUF_SIZE];
};

struct bufpool {
	struct buf *free;
	size_t n_free;
};

/* An empty buffer (off = len = 0), from the pool or new; NULL when out of memory. */
struct buf *bufpool_get(struct bufpool *pool);
/* Gives b back (NULL is allowed); freed when the pool already holds enough. */
void bufpool_put(struct bufpool *pool, struct buf *b);
/* Frees every pooled buffer (the worker's end). */
void bufpool_drain(struct bufpool *pool);

#endif
