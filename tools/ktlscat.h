/* ktlscat.h - the parts of ktlscat: TLS set-up with the relay's certificate options
 * (ktlscat_tls.c), the data paths (ktlscat_xfer.c) and the terminal progress bar
 * (ktlscat_progress.c). Functions return 0 or -errno and put a reason in (why, whylen). */
#ifndef KTLSCAT_H
#define KTLSCAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "ktls.h"

enum ktlscat_ktls { KTLSCAT_AUTO, KTLSCAT_ON, KTLSCAT_OFF };

struct ktlscat_opts {
	bool send; /* send FILE HOST:PORT, else recv [HOST:]PORT FILE */
	const char *file;
	const char *addr;	/* HOST:PORT or [HOST:]PORT as given */
	const char *cert, *key; /* PEM; key defaults to cert (one file holding both, as stunnel) */
	const char *ca_file;
	char *check_host; /* optarg */
	const char *ciphersuites;
	int verify; /* stunnel's level 0..4, -1 none */
	enum ktlscat_ktls ktls;
	int timeout_s; /* a stalled transfer (no byte moves) fails after this */
	int wait_s;    /* the sender waits this long for the peer's close */
	bool progress; /* the bar on stderr: only on a terminal */
	bool hash;
};

/* ---- TLS (ktlscat_tls.c) ---- */

/* A TLS 1.3 context for the client (send) or server (recv) side, prepared for ktls/. */
int ktlscat_ctx_new(const struct ktlscat_opts *o, SSL_CTX **out, char *why, size_t whylen);
/* Handshake on the connected socket fd; sni: server name for the client (NULL: none). */
int ktlscat_handshake(SSL_CTX *ctx, int fd, bool server, const char *sni, SSL **out, char *why,
		      size_t whylen);

/* ---- progress (ktlscat_progress.c) ---- */

struct ktlscat_progress {
	bool on;
	uint64_t total; /* 0: unknown (receiving) */
	double start, last;
};

double ktlscat_now(void);
void ktlscat_progress_start(struct ktlscat_progress *p, bool on, uint64_t total);
/* Redraws at most five times a second: cheap to call per record. */
void ktlscat_progress_update(struct ktlscat_progress *p, uint64_t done);
void ktlscat_progress_end(struct ktlscat_progress *p);

/* ---- data paths (ktlscat_xfer.c) ---- */

/* How a transfer ended, for the summary and the exit code. */
enum ktlscat_result {
	KTLSCAT_OK,
	KTLSCAT_TRUNCATED, /* the TLS stream ended without close_notify */
	KTLSCAT_RESET,	   /* the peer reset the connection */
	KTLSCAT_TIMEOUT,   /* nothing moved for timeout_s */
	KTLSCAT_ERROR,
};

struct ktlscat_xfer {
	int fd, file;
	SSL *ssl;      /* NULL when both directions are in the kernel */
	uint64_t size; /* sending: the file's size */
	uint64_t bytes;
	struct ktlscat_progress *progress;
	char why[256];
	char note[256]; /* not an error, but worth saying (the peer never closed, ...) */
};

enum ktlscat_result ktlscat_send_kernel(struct ktlscat_xfer *x, int wait_s);
enum ktlscat_result ktlscat_send_user(struct ktlscat_xfer *x, int wait_s);
enum ktlscat_result ktlscat_recv_kernel(struct ktlscat_xfer *x);
enum ktlscat_result ktlscat_recv_user(struct ktlscat_xfer *x);
const char *ktlscat_result_name(enum ktlscat_result r);

#endif
