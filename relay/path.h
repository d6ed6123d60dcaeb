/* path.h - the data-path seam: once a connection is established, one of two interchangeable
 * paths moves its bytes. `user`: OpenSSL encrypts and decrypts in user space. `kernel`: the
 * session keys are in the kernel (kTLS) and bytes move by splice, never through user space. */
#ifndef RELAY_PATH_H
#define RELAY_PATH_H

#include <stddef.h>

struct conn;

struct data_path {
	const char *name; /* "user", "kernel": the log's tx= and rx= */
	/* Takes over an established connection. Returns 0, or -errno with why filled when it
	 * cannot (the caller may fall back to another path). */
	int (*start)(struct conn *c, char *why, size_t whylen);
	/* Moves what can be moved now, asks for readiness for the rest, or finishes the
	 * connection. Called after start and on every readiness event. */
	void (*pump)(struct conn *c);
	/* Bytes are waiting for a peer to take them (TIMEOUTbusy applies, not TIMEOUTidle). */
	bool (*stalled)(const struct conn *c);
	/* Frees what the path holds (buffers, pipes) when the connection ends. */
	void (*release)(struct conn *c);
};

/* What one direction's step did; both paths drive their two directions with path_pump. */
enum path_step { STEP_IDLE, STEP_PROGRESS, STEP_FINISHED };
typedef enum path_step (*path_step_fn)(struct conn *c, unsigned *want);

/* Runs both directions' steps until neither makes progress, then finishes a connection whose
 * directions are both done, or asks for readiness for what each step is waiting on. */
void path_pump(struct conn *c, path_step_fn up, path_step_fn down);

extern const struct data_path path_user;
extern const struct data_path path_kernel;

#endif
