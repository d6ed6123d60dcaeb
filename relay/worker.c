/* worker.c - the per-thread io_uring event loop. */
#include "worker.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* Enough for a burst of readiness changes on many connections; a full queue is submitted and
 * refilled (worker_sqe), never dropped. */
#define RING_ENTRIES 1024
/* Completions: a connection has up to five operations in flight, and a mass close (thousands of
 * peers leaving at once) completes most of them together. What the ring cannot hold the kernel
 * keeps in an overflow list it allocates with GFP_ATOMIC; when that allocation fails too, the
 * completion is lost and its connection would wait for it forever. 16384 entries (256 KiB, mapped
 * but touched only as used) keep thousands of connections per worker out of the overflow list. */
#define RING_CQ_ENTRIES 16384

double worker_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A full submission queue is submitted and refilled, never dropped. */
static struct io_uring_sqe *worker_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	while (!sqe) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

void worker_poll(struct worker *w, int fd, unsigned events, struct op *op)
{
	struct io_uring_sqe *sqe = worker_sqe(w);

	io_uring_prep_poll_add(sqe, fd, events);
	io_uring_sqe_set_data(sqe, op);
}

void worker_connect(struct worker *w, int fd, const struct sockaddr *addr, socklen_t len,
		    struct op *op)
{
	struct io_uring_sqe *sqe = worker_sqe(w);

	io_uring_prep_connect(sqe, fd, addr, len);
	io_uring_sqe_set_data(sqe, op);
}

void worker_cancel(struct worker *w, struct op *op)
{
	struct io_uring_sqe *sqe = worker_sqe(w);

	io_uring_prep_cancel(sqe, op, 0);
	io_uring_sqe_set_data(sqe, NULL); /* the cancel's own completion goes nowhere */
}

void worker_tick_add(struct worker *w, struct worker_tick *t)
{
	t->prev = NULL;
	t->next = w->ticks;
	if (w->ticks)
		w->ticks->prev = t;
	w->ticks = t;
	w->n_ticks++;
}

void worker_tick_remove(struct worker *w, struct worker_tick *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		w->ticks = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
	w->n_ticks--;
}

static void accept_done(struct op *op, int res, unsigned flags);

static void arm_accept(struct worker *w, struct accept_set *set, size_t i)
{
	struct listener *l = set->rt->services[i].listener;
	struct io_uring_sqe *sqe = worker_sqe(w);

	io_uring_prep_multishot_accept(sqe, l->fds[w->id], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	io_uring_sqe_set_data(sqe, &set->ops[i]);
	set->armed++;
	set->deferred[i] = false;
}

static int accept_set_new(struct worker *w, struct runtime *rt)
{
	size_t n = rt->n_services;
	struct accept_set *set = calloc(1, sizeof(*set) + n * sizeof(struct op));

	if (!set)
		return -ENOMEM;
	set->deferred = calloc(n ? n : 1, sizeof(bool));
	if (!set->deferred) {
		free(set);
		return -ENOMEM;
	}
	runtime_get(rt);
	set->w = w;
	set->rt = rt;
	set->n = n;
	for (size_t i = 0; i < n; i++) {
		set->ops[i] = (struct op){.handler = accept_done, .owner = set, .index = i};
		arm_accept(w, set, i);
	}
	set->next = w->accepts;
	w->accepts = set;
	return 0;
}

/* Cancels a set's accepts; it is freed when the last one has completed (accept_done). */
static void accept_set_retire(struct worker *w, struct accept_set *set)
{
	set->retired = true;
	for (size_t i = 0; i < set->n; i++)
		worker_cancel(w, &set->ops[i]);
}

static void accept_set_free_if_done(struct worker *w, struct accept_set *set)
{
	if (!set->retired || set->armed > 0)
		return;
	for (struct accept_set **p = &w->accepts; *p; p = &(*p)->next) {
		if (*p == set) {
			*p = set->next;
			break;
		}
	}
	runtime_put(set->rt);
	free(set->deferred);
	free(set);
	if (w->stopping && !w->accepts)
		atomic_store(&w->accepts_gone, true);
	/* Main closes listeners only once every worker has let go of the old ones. */
	if (w->switched)
		atomic_fetch_add(w->switched, 1);
}

static void accept_done(struct op *op, int res, unsigned flags)
{
	struct accept_set *set = op->owner;
	struct worker *w = set->w;

	if (res >= 0)
		w->accepted(w, set->rt, &set->rt->services[op->index], res);
	if (flags & IORING_CQE_F_MORE)
		return;
	set->armed--;
	if (set->retired) {
		accept_set_free_if_done(w, set);
		return;
	}
	/* Out of descriptors or memory: back off until the next tick instead of spinning. */
	if (res == -EMFILE || res == -ENFILE || res == -ENOMEM || res == -ENOBUFS) {
		if (!set->deferred[op->index])
			relay_log(LOG_ERR, "[%s] accept: %s; retrying in a second",
				  set->rt->services[op->index].conf->name, strerror(-res));
		set->deferred[op->index] = true;
		return;
	}
	arm_accept(w, set, op->index);
}

static void arm_wake(struct worker *w)
{
	struct io_uring_sqe *sqe = worker_sqe(w);

	io_uring_prep_read(sqe, w->wake_fd, &w->wake_value, sizeof(w->wake_value), 0);
	io_uring_sqe_set_data(sqe, &w->wake_op);
}

static void arm_tick(struct worker *w)
{
	struct io_uring_sqe *sqe = worker_sqe(w);

	w->tick = (struct __kernel_timespec){.tv_sec = 1};
	io_uring_prep_timeout(sqe, &w->tick, 0, 0);
	io_uring_sqe_set_data(sqe, &w->tick_op);
}

static void wake_done(struct op *op, int res, unsigned flags)
{
	struct worker *w = op->owner;
	struct runtime *next = atomic_exchange(&w->next_rt, NULL);

	if (next) {
		struct accept_set *old = w->accepts;
		/* The reference main took for us becomes ours. */
		runtime_put(w->rt);
		w->rt = next;
		if (!w->stopping && accept_set_new(w, next) < 0)
			relay_log(LOG_ERR, "worker %d: out of memory arming accepts", w->id);
		if (old && !old->retired) {
			accept_set_retire(w, old);
		} else if (w->switched) {
			atomic_fetch_add(w->switched, 1);
		}
	}
	if (atomic_load(&w->stop) && !w->stopping) {
		w->stopping = true;
		w->stop_started = w->now;
		for (struct accept_set *set = w->accepts; set; set = set->next)
			if (!set->retired)
				accept_set_retire(w, set);
		if (!w->accepts)
			atomic_store(&w->accepts_gone, true);
	}
	arm_wake(w);
}

static void tick_done(struct op *op, int res, unsigned flags)
{
	struct worker *w = op->owner;
	struct worker_tick *t, *next;

	/* A subscriber may remove itself (a connection that ends); none removes another. */
	for (t = w->ticks; t; t = next) {
		next = t->next;
		t->fn(t);
	}
	for (struct accept_set *set = w->accepts; set; set = set->next)
		for (size_t i = 0; !set->retired && i < set->n; i++)
			if (set->deferred[i])
				arm_accept(w, set, i);
	arm_tick(w);
}

static bool worker_done(const struct worker *w)
{
	return w->stopping && w->n_ticks == 0 && w->accepts == NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct io_uring_cqe *cqe;
	unsigned head, seen;

	w->now = worker_clock();
	arm_wake(w);
	arm_tick(w);
	if (accept_set_new(w, w->rt) < 0)
		relay_log(LOG_ERR, "worker %d: out of memory arming accepts", w->id);

	while (!worker_done(w)) {
		int ret = io_uring_submit_and_wait(&w->ring, 1);
		if (ret == -EBADR && !w->lost_completions) {
			/* The kernel could not queue some completions (see RING_CQ_ENTRIES).
			 * Which ones is unknown: their connections end at their timeouts. The
			 * worker goes on serving the others. */
			w->lost_completions = true;
			relay_log(LOG_CRIT,
				  "worker %d: the kernel dropped io_uring completions (ring full, no "
				  "memory for its overflow list): some connections will only end at "
				  "their timeouts",
				  w->id);
		}
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY && ret != -EBADR) {
			relay_log(LOG_CRIT, "worker %d: io_uring_submit_and_wait: %s", w->id,
				  strerror(-ret));
			break;
		}
		w->now = worker_clock();
		seen = 0;
		io_uring_for_each_cqe(&w->ring, head, cqe)
		{
			struct op *op = io_uring_cqe_get_data(cqe);
			seen++;
			if (op) /* NULL: a cancel's own completion */
				op->handler(op, cqe->res, cqe->flags);
		}
		io_uring_cq_advance(&w->ring, seen);
	}
	return NULL;
}

int worker_start(struct worker *w, int id, struct runtime *rt, atomic_uint_fast64_t *next_id,
		 atomic_int *switched, worker_accept_fn accepted)
{
	struct io_uring_params params = {.flags = IORING_SETUP_CQSIZE,
					 .cq_entries = RING_CQ_ENTRIES};
	int ret;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->next_conn_id = next_id;
	w->switched = switched;
	w->accepted = accepted;
	w->wake_op = (struct op){.handler = wake_done, .owner = w};
	w->tick_op = (struct op){.handler = tick_done, .owner = w};
	atomic_init(&w->next_rt, NULL);
	atomic_init(&w->stop, false);
	atomic_init(&w->accepts_gone, false);
	w->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (w->wake_fd < 0)
		return -errno;
	ret = io_uring_queue_init_params(RING_ENTRIES, &w->ring, &params);
	if (ret == -EINVAL)
		ret = io_uring_queue_init(RING_ENTRIES, &w->ring, 0);
	if (ret < 0) {
		close(w->wake_fd);
		return ret;
	}
	runtime_get(rt);
	w->rt = rt;
	ret = -pthread_create(&w->thread, NULL, worker_main, w);
	if (ret < 0) {
		runtime_put(rt);
		io_uring_queue_exit(&w->ring);
		close(w->wake_fd);
	}
	return ret;
}

void worker_wake(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the worker has a wake-up pending anyway */
	}
}

void worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
	io_uring_queue_exit(&w->ring);
	close(w->wake_fd);
	runtime_put(w->rt);
	bufpool_drain(&w->bufs);
	pipe_pool_drain(&w->pipes);
}
