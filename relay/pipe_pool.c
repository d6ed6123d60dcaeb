/* pipe_pool.c - the per-worker pool of empty pipes (pipe_pool.h). Single-threaded. */
#include "pipe_pool.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Empty pipes kept per worker. Each still counts against the user's pipe pages
 * (fs.pipe-user-pages-soft, 16384 pages: 256 pipes of 256 KiB) whether it holds bytes or not,
 * so the pool stays small: it saves the pipe2 and fcntl calls of the connections that take
 * turns, not the peak. */
#define MAX_FREE_PIPES 8

static int pipe_new(struct pipe_pool *pool, struct pipe **out, char *why, size_t whylen)
{
	struct pipe *p = malloc(sizeof(*p));
	int fds[2], size, err;

	if (!p) {
		snprintf(why, whylen, "out of memory for a pipe");
		return -ENOMEM;
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		err = errno;
		free(p);
		snprintf(why, whylen, "pipe: %s", strerror(err));
		return -err;
	}
	p->rd = fds[0];
	p->wr = fds[1];
	p->next = NULL;
	/* Past fs.pipe-user-pages-soft an unprivileged user gets EPERM here (and new pipes of
	 * only two pages); past pipe-max-size, EPERM too. The pipe still works at the size the
	 * kernel gave: the path sizes its splices from that. */
	size = fcntl(p->wr, F_SETPIPE_SZ, PIPE_BYTES);
	if (size < 0) {
		err = errno;
		size = fcntl(p->wr, F_GETPIPE_SZ);
		if (!pool->warned_small) {
			pool->warned_small = true;
			relay_log(LOG_WARNING,
				  "kernel path: a %d-byte pipe refused (%s); using %d-byte pipes "
				  "(fs.pipe-user-pages-soft or fs.pipe-max-size; README: Limits)",
				  PIPE_BYTES, strerror(err), size);
		}
	}
	if (size <= 0) {
		err = size < 0 ? errno : EINVAL;
		pipe_pool_discard(p);
		snprintf(why, whylen, "pipe size: %s", strerror(err));
		return -err;
	}
	p->size = (size_t)size;
	*out = p;
	return 0;
}

int pipe_pool_get(struct pipe_pool *pool, struct pipe **out, char *why, size_t whylen)
{
	struct pipe *p = pool->free;

	if (!p)
		return pipe_new(pool, out, why, whylen);
	pool->free = p->next;
	pool->n_free--;
	p->next = NULL;
	*out = p;
	return 0;
}

void pipe_pool_put(struct pipe_pool *pool, struct pipe *p)
{
	if (!p)
		return;
	/* A smaller pipe is not kept: the next connection may get a full one. */
	if (pool->n_free >= MAX_FREE_PIPES || p->size < PIPE_BYTES) {
		pipe_pool_discard(p);
		return;
	}
	p->next = pool->free;
	pool->free = p;
	pool->n_free++;
}

void pipe_pool_discard(struct pipe *p)
{
	if (!p)
		return;
	close(p->rd);
	close(p->wr);
	free(p);
}

void pipe_pool_drain(struct pipe_pool *pool)
{
	struct pipe *p;

	while ((p = pool->free)) {
		pool->free = p->next;
		pipe_pool_discard(p);
	}
	pool->n_free = 0;
}
