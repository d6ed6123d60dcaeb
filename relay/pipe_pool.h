/* pipe_pool.h - a per-worker pool of empty pipes for the kernel path. A direction takes a pipe
 * when it has bytes to move and gives it back once the pipe is empty again, so an idle
 * kernel-path connection holds its two sockets and no pipe, and a busy worker reuses pipes
 * instead of creating them (HAProxy's get_pipe/put_pipe). */
#ifndef RELAY_PIPE_POOL_H
#define RELAY_PIPE_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* The capacity asked for: 16 records; the default 64 KiB holds only 4. */
#define PIPE_BYTES (256 * 1024)

struct pipe {
	struct pipe *next;
	int rd, wr;  /* non-blocking, close-on-exec */
	size_t size; /* the capacity the kernel gave: PIPE_BYTES, or less (pipe_pool.c) */
};

struct pipe_pool {
	struct pipe *free;
	size_t n_free;
	bool warned_small; /* the "smaller pipes" warning is logged once per pool */
};

/* An empty pipe, from the pool or new. 0, or -errno with why filled (out of descriptors). */
int pipe_pool_get(struct pipe_pool *pool, struct pipe **out, char *why, size_t whylen);
/* Gives back an empty pipe (NULL is allowed). A pipe still holding bytes must not come back:
 * the caller closes it with pipe_pool_discard. */
void pipe_pool_put(struct pipe_pool *pool, struct pipe *p);
/* Closes a pipe that may hold bytes (a connection that ends mid-transfer). */
void pipe_pool_discard(struct pipe *p);
/* Closes every pooled pipe (the worker's end). */
void pipe_pool_drain(struct pipe_pool *pool);

#endif
