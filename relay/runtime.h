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

/* What the metrics endpoint (metrics.c) reports of a service. Counted at connection events
 * (accepted, handshake failed, established, closed; the bytes also once a second while a
 * connection lives, and the kernel path's rare control records), never per data record, with
 * relaxed atomics: each count stands alone, a scrape promises no order between them. Every
 * label has a fixed set of values, named in metrics.c in the order of these enums. */
enum stat_refused { STAT_REFUSED_MAXCONN, STAT_REFUSED_KTLS_ON, N_STAT_REFUSED };
enum stat_handshake {
	STAT_HS_TIMEOUT,     /* TIMEOUTbusy passed */
	STAT_HS_CLOSED,      /* the peer closed or reset the TCP connection */
	STAT_HS_CERTIFICATE, /* a certificate refused, by us or by the peer */
	STAT_HS_VERSION,     /* no TLS version both sides allow */
	STAT_HS_CIPHER,      /* no cipher suite or group both sides allow */
	STAT_HS_PROTOCOL,    /* any other TLS error: an alert, a malformed message, not TLS */
	STAT_HS_OTHER,       /* the relay's own failure (memory) */
	N_STAT_HS,
};
enum stat_path { STAT_PATH_USER, STAT_PATH_KERNEL, N_STAT_PATH };
enum stat_direction { STAT_TO_TLS, STAT_TO_PLAIN, N_STAT_DIRECTION };
enum stat_user_why {
	STAT_WHY_KTLS_OFF, /* ktls = off */
	STAT_WHY_NO_ULP,   /* the kernel has no TLS ULP */
	STAT_WHY_VERSION,  /* a TLS version the kernel path does not take */
	STAT_WHY_CIPHER,   /* a cipher the kernel cannot offload */
	STAT_WHY_OTHER,    /* anything else the hand-over refused (OpenSSL held bytes, ...) */
	N_STAT_WHY,
};
enum stat_reset {
	STAT_RESET_HANDSHAKE, /* during the handshake */
	STAT_RESET_BACKEND,   /* no backend or TLS server could be reached */
	STAT_RESET_PEER,      /* a peer reset, truncated the stream or sent what ends it */
	STAT_RESET_TIMEOUT,   /* a TIMEOUT* passed */
	STAT_RESET_STOPPING,  /* the relay stopped before the transfer ended (TIMEOUTclose) */
	STAT_RESET_REFUSED,   /* refused by configuration (ktls = on) */
	STAT_RESET_ERROR,     /* the relay's own failure */
	N_STAT_RESET,
};
#define N_STAT_RECORD (KTLS_REC_MALFORMED + 1) /* enum ktls_record_kind */

struct service_stats {
	atomic_ullong accepted; /* served (not refused over maxconn) */
	atomic_ullong refused[N_STAT_REFUSED];
	atomic_ullong handshake_failed[N_STAT_HS];
	atomic_ullong established[N_STAT_PATH];
	atomic_ullong user_why[N_STAT_WHY];
	atomic_ullong bytes[N_STAT_DIRECTION]; /* plaintext bytes relayed each way */
	atomic_ullong control_records[N_STAT_RECORD]; /* kernel path, read with recvmsg */
	atomic_ullong resets[N_STAT_RESET];
};

static inline void stat_add(atomic_ullong *counter, unsigned long long n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

/* A service's live connections, counted for maxconn. Shared by the generations that have a
 * service of the same name, so a reload neither forgets the connections still running on the
 * old generation nor lets a service take twice its limit. */
struct service_load {
	atomic_int refs;
	atomic_long live;
	atomic_long refused;      /* since the last refusal line */
	atomic_llong refused_log; /* the second of the last refusal line */
	struct service_stats stats; /* kept across reloads, like the count */
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
/* The kernel path read a control record of this kind (enum ktls_record_kind). */
static inline void service_stat_record(struct service_rt *svc, unsigned kind)
{
	if (kind < N_STAT_RECORD)
		stat_add(&svc->load->stats.control_records[kind], 1);
}
void runtime_put(struct runtime *rt);
/* Main thread, once no worker accepts on rt any more: closes the listening sockets no newer
 * generation shares. */
void runtime_release_listeners(struct runtime *rt);

#endif
