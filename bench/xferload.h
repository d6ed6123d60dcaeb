/* xferload - the load generator and echo backend of xferbench (plaintext TCP on loopback). */
#ifndef XFERLOAD_H
#define XFERLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one load run does: `total` connections to 127.0.0.1:`port`, at most `inflight` of them
 * open and unfinished at once, each sending `reqs` requests of `size` bytes and checking each
 * echo byte for byte. With `hold`, finished connections stay open until SIGTERM or SIGINT. */
struct xl_plan {
	uint16_t port;
	unsigned total;
	unsigned inflight;
	unsigned reqs;
	size_t size;
	bool hold;
	unsigned timeout_s; /* the whole run, hold time excluded */
};

struct xl_result {
	unsigned conns;	    /* connections that finished every request */
	uint64_t requests;  /* requests answered with the right bytes */
	double seconds;	    /* first connect to last answer */
	uint64_t *conn_ns;  /* per connection: connect to last answer (total entries) */
	uint64_t *req_ns;   /* per request: first byte sent to last byte back */
	uint64_t req_count; /* entries in req_ns */
};

/* Runs the plan; 0 or -errno with `err` filled. `ready` (may be NULL) is called once when a held
 * run has every connection open and answered. The result's arrays are the caller's to free. */
int xl_run_load(const struct xl_plan *plan, struct xl_result *res, void (*ready)(unsigned conns),
		char *err, size_t errlen);

/* What one "many" run found: every connection is checked once as it opens and once more when all
 * of them are open at the same time. */
struct xl_many_result {
	unsigned opened;      /* connections whose first request came back intact */
	unsigned ok;	      /* connections whose both requests came back intact */
	unsigned failed;      /* total - ok */
	double open_seconds;  /* first connect to the last first echo */
	double check_seconds; /* all second requests sent to the last second echo */
};

/* Opens plan->total connections (plan->inflight at most still opening at once) and keeps them all
 * open, then sends a second request on every one of them at once. A failing connection is
 * counted and reported on stderr (the first few), not fatal. With plan->hold, `ready` is called
 * once the second round is over and the connections stay open until SIGTERM or SIGINT. 0 once the
 * run is over (look at res->failed), or -errno with `err` filled when it could not run. */
int xl_run_many(const struct xl_plan *plan, struct xl_many_result *res,
		void (*ready)(const struct xl_many_result *res), char *err, size_t errlen);

/* LEN bytes of xorshift64 output from SEED: the payload of one request. */
void xl_fill(unsigned char *buf, size_t len, uint64_t seed);

/* Serves an echo on 127.0.0.1:port until SIGTERM or SIGINT; 0 or -errno with `err` filled. */
int xl_run_echo(uint16_t port, char *err, size_t errlen);

/* Monotonic clock in nanoseconds. */
uint64_t xl_now_ns(void);

#endif
