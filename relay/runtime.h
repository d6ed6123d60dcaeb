/* runtime.h - one generation of the running configuration: the immutable conf, each service's
 * TLS context and listening sockets. Workers and connections hold references; a reload builds a
 * new generation (carrying over the listening sockets of unchanged addresses) and swaps it in,
 * while live connections finish on the one they started with. */
#ifndef RELAY_RUNTIME_H
#define RELAY_RUNTIME_H

#include "conf.h"
#include "ktls.h"
#include "tls.h"

#include <stdatomic.h>
#include <stdbool.h>

/* One accept address, listened on by every worker through its own SO_REUSEPORT socket, so the
 * kernel spreads new connections over the workers. Owned by the main thread. */
struct listener {
	int refs; /* generations holding it */
	struct conf_addr addr;
	int n_fds;
	int fds[];
};

/* A service's live connections, counted for maxconn. Shared by the generations that have a
 * service of the same name, so a reload neither forgets the connections still running on the
 * old generation nor lets a service take twice its limit. */
struct service_load {
	atomic_int refs;
	atomic_long live;
	atomic_long refused;      /* since the last refusal line */
	atomic_llong refused_log; /* the second of the last refusal line */
	char name[];
};

struct service_rt {
	const struct conf_service *conf;
	struct service_load *load;
	struct tls_service tls;
	struct listener *listener;
	atomic_uint rr_next; /* failover = rr: where the next connection starts */
};

struct runtime {
	atomic_int refs;
	struct conf *conf;
	struct service_rt *services;
	size_t n_services;
	bool listeners_released;
	struct ktls_probe probe; /* what the kernel's TLS can do, found once at start */
};

/* Builds a generation from conf (taking ownership of it). With n_workers > 0 it opens listening
 * sockets, reusing those of prev with the same address; with 0 (--check) it opens none.
 * keylog_fd: the SSLKEYLOGFILE every service writes its secrets to, or -1. */
int runtime_create(struct conf *conf, const struct runtime *prev, int n_workers, int keylog_fd,
		   struct runtime **out, char *err, size_t errlen);
void runtime_get(struct runtime *rt);
/* A new connection for svc: false when the service already serves maxconn connections. Each
 * true is paired with one service_leave. */
bool service_enter(struct service_rt *svc);
void service_leave(struct service_rt *svc);
void runtime_put(struct runtime *rt);
/* Main thread, once no worker accepts on rt any more: closes the listening sockets no newer
 * generation shares. */
void runtime_release_listeners(struct runtime *rt);

#endif
