/* bufpool.c - the per-worker buffer pool (bufpool.h). Single-threaded: one pool per worker. */
#include "bufpool.h"

#include <stdlib.h>

/* 4 MiB of idle buffers per worker at most: enough for a burst of busy connections to hand
 * buffers to each other without malloc, little enough to give memory back after it. */
#define MAX_FREE_BUFS 64

struct buf *bufpool_get(struct bufpool *pool)
{
	struct buf *b = pool->free;

	if (b) {
		pool->free = b->next;
		pool->n_free--;
	} else {
		b = malloc(sizeof(*b));
		if (!b)
			return NULL;
	}
	b->next = NULL;
	b->off = b->len = 0;
	return b;
}

void bufpool_put(struct bufpool *pool, struct buf *b)
{
	if (!b)
		return;
	if (pool->n_free >= MAX_FREE_BUFS) {
		free(b);
		return;
	}
	b->next = pool->free;
	pool->free = b;
	pool->n_free++;
}

void bufpool_drain(struct bufpool *pool)
{
	struct buf *b;

	while ((b = pool->free)) {
		pool->free = b->next;
		free(b);
	}
	pool->n_free = 0;
}
