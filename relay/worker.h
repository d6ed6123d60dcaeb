/* worker.h - a worker thread: its own io_uring, its share of the listeners (one SO_REUSEPORT
 * socket per address), its connections, a one-second tick for timeouts, and a buffer pool. */
#ifndef RELAY_WORKER_H
#define RELAY_WORKER_H

#include "runtime.h"

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct conn;

/* What a submission is for; its user_data points at one of these. */
enum op_kind { OP_ACCEPT = 1, OP_WAKE, OP_TICK, OP_CONN };

struct op {
	uint8_t kind;
	uint8_t slot;   /* OP_CONN: which of the connection's operations */
	uint16_t index; /* OP_ACCEPT: the service */
	void *owner;    /* OP_CONN: struct conn; OP_ACCEPT: struct accept_set */
};

/* The accepts a worker has armed on one generation's listeners. A reload cancels them and arms
 * a new set; the old one lives until its last accept has completed, so a connection accepted
 * just before the switch is still served (by the generation it arrived on). */
struct accept_set {
	struct accept_set *next;
	struct runtime *rt;
	size_t n;
	size_t armed;   /* accepts in flight */
	bool retired;   /* cancelled: do not re-arm */
	bool *deferred; /* re-arm on the next tick (EMFILE and friends) */
	struct op ops[];
};

/* A data buffer, taken from the worker's pool only while bytes are in flight, so an idle
 * connection holds none. */
#define BUF_SIZE (64 * 1024)
struct buf {
	struct buf *next;
	size_t off, len;
	char data[BUF_SIZE];
};

struct worker {
	int id;
	pthread_t thread;
	struct io_uring ring;
	bool lost_completions; /* the kernel said it dropped completions (logged once) */
	int wake_fd;
	uint64_t wake_value;
	struct op wake_op, tick_op;
	struct __kernel_timespec tick;

	struct runtime *rt;                  /* the generation new connections use */
	_Atomic(struct runtime *) next_rt;   /* set by main on reload */
	atomic_int *switched;                /* main counts workers that took next_rt */
	atomic_bool stop;                    /* set by main on SIGTERM */
	atomic_bool accepts_gone;            /* stopping and no accept in flight: main may close
						the listening sockets */
	bool stopping;
	double stop_started;
	struct accept_set *accepts; /* the current set first, then retired ones */

	atomic_uint_fast64_t *next_conn_id;
	struct conn *conns; /* doubly linked, for the tick */
	size_t n_conns;
	double now; /* monotonic seconds, refreshed once per batch of completions */

	struct buf *free_bufs;
	size_t n_free_bufs;
};

int worker_start(struct worker *w, int id, struct runtime *rt, atomic_uint_fast64_t *next_id,
		 atomic_int *switched);
void worker_wake(struct worker *w);
void worker_join(struct worker *w);

/* For connections and data paths. */
struct io_uring_sqe *worker_sqe(struct worker *w);
struct buf *worker_buf_get(struct worker *w);
void worker_buf_put(struct worker *w, struct buf *b);
double worker_clock(void);

#endif
