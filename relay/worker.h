/* worker.h - a worker thread: its own io_uring event loop, its share of the listeners (one
 * SO_REUSEPORT socket per address), a one-second tick, and the pools its connections draw from.
 *
 * The loop knows operations and handlers, not connections: whoever submits an operation passes a
 * struct op holding the handler its completion goes to. Connections live on the worker as tick
 * subscribers; the worker calls them through the function they registered. */
#ifndef RELAY_WORKER_H
#define RELAY_WORKER_H

#include "bufpool.h"
#include "pipe_pool.h"
#include "runtime.h"

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

struct op;
/* A completion: res is the operation's result (>= 0, or -errno), flags io_uring's CQE flags. */
typedef void (*op_handler)(struct op *op, int res, unsigned flags);

/* One operation in flight; it must live until its completion has come. */
struct op {
	op_handler handler;
	void *owner;
	unsigned index; /* the owner's: which of its operations, which service */
};

/* Something that lives on a worker and is checked once a second (a connection). The worker does
 * not end while one is attached. */
struct worker_tick {
	struct worker_tick *prev, *next;
	void (*fn)(struct worker_tick *t);
};

/* The accepts a worker has armed on one generation's listeners. A reload cancels them and arms
 * a new set; the old one lives until its last accept has completed, so a connection accepted
 * just before the switch is still served (by the generation it arrived on). */
struct accept_set {
	struct accept_set *next;
	struct worker *w;
	struct runtime *rt;
	size_t n;
	size_t armed;   /* accepts in flight */
	bool retired;   /* cancelled: do not re-arm */
	bool *deferred; /* re-arm on the next tick (EMFILE and friends) */
	struct op ops[];
};

struct worker;
/* What the worker does with an accepted socket of service svc, generation rt (a new
 * connection): it owns fd from then on. */
typedef void (*worker_accept_fn)(struct worker *w, struct runtime *rt, struct service_rt *svc,
				 int fd);

struct worker {
	int id;
	pthread_t thread;
	struct io_uring ring;
	bool lost_completions; /* the kernel said it dropped completions (logged once) */
	int wake_fd;
	uint64_t wake_value;
	struct op wake_op, tick_op;
	struct __kernel_timespec tick;
	worker_accept_fn accepted;

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
	struct worker_tick *ticks; /* doubly linked */
	size_t n_ticks;
	double now; /* monotonic seconds, refreshed once per batch of completions */

	struct bufpool bufs;   /* the user path's data buffers */
	struct pipe_pool pipes; /* the kernel path's pipes */
};

int worker_start(struct worker *w, int id, struct runtime *rt, atomic_uint_fast64_t *next_id,
		 atomic_int *switched, worker_accept_fn accepted);
void worker_wake(struct worker *w);
void worker_join(struct worker *w);
double worker_clock(void);

/* For what lives on the worker. Each submits one operation; its completion goes to
 * op->handler. */
/* Readiness of fd (POLLIN, POLLOUT), one-shot. */
void worker_poll(struct worker *w, int fd, unsigned events, struct op *op);
/* A non-blocking connect of fd to addr (which must stay valid until the completion). */
void worker_connect(struct worker *w, int fd, const struct sockaddr *addr, socklen_t len,
		    struct op *op);
/* Asks for op to end early; its completion still comes (-ECANCELED, or its result). */
void worker_cancel(struct worker *w, struct op *op);
/* t->fn is called once a second until t is removed. */
void worker_tick_add(struct worker *w, struct worker_tick *t);
void worker_tick_remove(struct worker *w, struct worker_tick *t);

#endif
