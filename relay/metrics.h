/* metrics.h - the Prometheus endpoint (`metrics = [HOST:]PORT`): a thread of its own, apart from
 * the workers, answers GET /metrics with the text exposition format (version 0.0.4) and
 * GET /health with 200 while the relay accepts connections, 503 once it stops (for IPVS,
 * keepalived and Kubernetes probes).
 *
 * What it reports is counted by the connections in their service's struct service_stats
 * (runtime.h) at connection events; a scrape only reads those counters, the current generation's
 * services and certificates, and the kernel's /proc/net/tls_stat of the relay's network
 * namespace. One table in metrics.c names every metric: the endpoint, `--metrics-list` and the
 * README's list come from it.
 *
 * Use, from main (each call accepts m == NULL: metrics off):
 *
 *	metrics_open(&conf->metrics, &m, err, len);	as root, before the chroot
 *	metrics_start(m, rt, n_workers, err, len);	after the privilege drop and any fork
 *	metrics_set_runtime(m, next); metrics_reloaded(m, ok);	on SIGHUP
 *	metrics_stopping(m); ... metrics_stop(m);	on SIGTERM
 */
#ifndef RELAY_METRICS_H
#define RELAY_METRICS_H

#include "runtime.h"
#include "tlspeer.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct metrics;

/* Opens the listening socket at addr and /proc/net/tls_stat (absent without kTLS: then the
 * kernel's counters are left out). Returns 0 or -errno with err filled. */
int metrics_open(const struct conf_addr *addr, struct metrics **out, char *err, size_t errlen);
/* Starts the thread serving rt's services (it holds its own reference). */
int metrics_start(struct metrics *m, struct runtime *rt, int n_workers, char *err, size_t errlen);
/* A reload swapped rt in. A metrics address changed in the file only takes effect at the next
 * start (the socket was opened as root): logged. */
void metrics_set_runtime(struct metrics *m, struct runtime *rt);
void metrics_reloaded(struct metrics *m, bool ok);
/* From now on /health answers 503. */
void metrics_stopping(struct metrics *m);
/* Stops the thread, closes everything, frees m. */
void metrics_stop(struct metrics *m);

/* The metric list (`--metrics-list`, the README's "Monitoring" table): markdown rows. */
void metrics_print_list(FILE *out);

/* For the connections: the label a failure or a path gets. first: ERR_peek_error() before the
 * failure was drained. */
enum stat_handshake metrics_handshake_reason(enum tlspeer_failure kind, unsigned long first);
enum stat_user_why metrics_user_path_why(const struct conf_service *svc,
					 const struct ktls_probe *probe, SSL *ssl);

#endif
