/* conn.h - one relayed connection: its state machine (handshake, backend connect, established,
 * closed) and the state both data paths share. */
#ifndef RELAY_CONN_H
#define RELAY_CONN_H

#include "net.h"
#include "worker.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

enum conn_state { CONN_HANDSHAKE, CONN_CONNECTING, CONN_ESTABLISHED, CONN_CLOSED };

/* The connection's operations on the worker; at most one of each is in flight. */
enum conn_slot { SLOT_TLS_IN, SLOT_TLS_OUT, SLOT_PLAIN_IN, SLOT_PLAIN_OUT, SLOT_CONNECT, N_SLOTS };
#define WANT(slot) (1u << (slot))

enum conn_result { RESULT_OK, RESULT_RESET, RESULT_TIMEOUT, RESULT_ERROR, RESULT_REFUSED };

struct data_path;

struct conn {
	struct worker_tick tick; /* on the worker's tick list while the connection lives */
	struct worker *w;
	struct runtime *rt;
	struct service_rt *svc;
	uint64_t id;
	enum conn_state state;

	int tls_fd;   /* the socket TLS runs on */
	int plain_fd; /* the plaintext socket */
	SSL *ssl;
	char from[NET_ADDR_TEXT]; /* who connected to us */
	char to[NET_ADDR_TEXT];   /* where we connected */

	struct op ops[N_SLOTS];
	unsigned pending; /* WANT(slot) bits in flight */

	/* backend connect */
	size_t connect_line, connect_addr; /* position in svc->conf->connect[].addrs[] */
	size_t connect_start, connect_tries;
	bool connect_timed_out;
	struct conf_addr connect_to; /* the address being tried */
	const char *connect_host;    /* its connect line's host, for SNI */
	struct conf_addr *delayed; /* delay = yes: addresses resolved for this connection */
	size_t n_delayed;

	/* timing, for timeouts and the close line */
	double started, state_since, last_progress;

	/* data paths: what both share; each path's own state is behind path_state */
	const struct data_path *path;
	void *path_state;
	char path_why[192]; /* why not the kernel path, for the established line */
	bool up_eof, up_done, down_eof, down_done;
	/* Readiness as last seen: a read is tried only after a poll said so (or before the first
	 * EAGAIN), so a busy direction does not cost the other one a failed syscall per pump. */
	bool plain_readable, tls_readable;
	unsigned long long to_tls, to_plain;
	unsigned long long counted_tls, counted_plain; /* of those, already in the service's stats */
	bool close_cleanly; /* ends in error, but the peers were told so (close_notify): close,
			       do not reset */
};

/* A new connection from an accepted socket, served by generation rt (a worker_accept_fn). */
void conn_accepted(struct worker *w, struct runtime *rt, struct service_rt *svc, int fd);

/* For data paths: ask for readiness of the slots in `want` (polls not yet in flight). */
void conn_arm(struct conn *c, unsigned want);
/* Ends the connection: logs the close line, closes (reset unless ok), frees when idle. */
void conn_finish(struct conn *c, enum conn_result result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void conn_log(const struct conn *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
