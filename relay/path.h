/* path.h - the data-path seam: once a connection is established, one of two interchangeable
 * paths moves its bytes. `user`: OpenSSL encrypts and decrypts in user space. `kernel`: the
 * session keys are in the kernel (kTLS) and bytes move by splice, never through user space.
 *
 * A path keeps its own state (buffers, pipes) behind c->path_state: it allocates it in start and
 * frees it in release; the connection knows only the ops below. */
#ifndef RELAY_PATH_H
#define RELAY_PATH_H

#include <stdbool.h>
#include <stddef.h>

struct conn;

struct data_path {
	/* Right after the handshake, before OpenSSL reads anything more: can this path take the
	 * connection? 0: yes (the kernel path has handed the keys over). -ENOTSUP: no, try the
	 * next path (why says why, for the established line). Another -errno: the connection
	 * cannot go on (why says why; -EPERM: refused by configuration). */
	int (*claim)(struct conn *c, char *why, size_t whylen);
	/* Takes over the established connection (both sockets up). Returns 0, or -errno with why
	 * filled. */
	int (*start)(struct conn *c, char *why, size_t whylen);
	/* Moves what can be moved now, asks for readiness for the rest, or finishes the
	 * connection. Called after start and on every readiness event. */
	void (*pump)(struct conn *c);
	/* Bytes are waiting for a peer to take them (TIMEOUTbusy applies, not TIMEOUTidle). */
	bool (*stalled)(const struct conn *c);
	/* Tells the TLS peer, with a close_notify, that the connection ends on purpose (every
	 * backend down): claimed, maybe not started. Best effort. */
	void (*close_notify)(struct conn *c);
	/* Frees what the path holds when the connection ends; claimed, maybe not started. */
	void (*release)(struct conn *c);
	/* OpenSSL is needed after start (the user path); false: the SSL is freed once the
	 * connection is established (OpenSSL keeps a copy of the keys until then). */
	bool keeps_ssl;
};

/* What one direction's step did; both paths drive their two directions with path_pump. */
enum path_step { STEP_IDLE, STEP_PROGRESS, STEP_FINISHED };
typedef enum path_step (*path_step_fn)(struct conn *c, unsigned *want);

/* Runs both directions' steps until neither makes progress, then finishes a connection whose
 * directions are both done, or asks for readiness for what each step is waiting on (pump.c). */
void path_pump(struct conn *c, path_step_fn up, path_step_fn down);

/* In the order they are tried. */
extern const struct data_path path_kernel;
extern const struct data_path path_user;

#endif
