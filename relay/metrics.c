/* metrics.c - the Prometheus endpoint: the metric table, the scrape, and a small HTTP/1.x server
 * on a thread of its own.
 *
 * The thread never touches a worker: a scrape reads relaxed atomic counters, the generation it
 * holds a reference to, and /proc/net/tls_stat through a descriptor opened before the chroot
 * (re-read with pread from offset 0, which restarts the kernel's seq_file). The server is a
 * poll loop over a handful of clients, each with a bounded request buffer and a deadline: a
 * client that sends nothing, or never reads its answer, loses its slot when the deadline passes,
 * and while every slot is taken new clients wait in the listen backlog.
 *
 * The kernel's counters: two metrics with the kernel's own counter name as a label,
 * ktlsrelay_kernel_tls_stat_current{counter="TlsCurrTxSw"} (gauges: sockets now) and
 * ktlsrelay_kernel_tls_stat_total{counter="TlsTxSw"} (counters), rather than one metric name
 * per counter: the names stay fixed (the README lists them all) while each kernel adds counters
 * (6.14 added the rekey ones), the label value matches the kernel's documentation word for word,
 * and gauges and counters keep their own types, which rate() and promtool care about. */
#include "metrics.h"
#include "log.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLIENTS	       8    /* served at once; more wait in the backlog */
#define REQUEST_MAX    2048 /* request line and headers; a longer request gets 400 */
#define CLIENT_SECONDS 5    /* to send the request, and to read the answer */
#define TLS_STAT_PATH  "/proc/net/tls_stat"

/* ---- the fixed label values, in the order of runtime.h's enums ------------------------------ */

static const char *const refused_names[N_STAT_REFUSED] = {
    [STAT_REFUSED_MAXCONN] = "maxconn",
    [STAT_REFUSED_KTLS_ON] = "ktls_on",
};
static const char *const handshake_names[N_STAT_HS] = {
    [STAT_HS_TIMEOUT] = "timeout",
    [STAT_HS_CLOSED] = "closed",
    [STAT_HS_CERTIFICATE] = "certificate",
    [STAT_HS_VERSION] = "version",
    [STAT_HS_CIPHER] = "cipher",
    [STAT_HS_PROTOCOL] = "protocol",
    [STAT_HS_OTHER] = "other",
};
static const char *const path_names[N_STAT_PATH] = {
    [STAT_PATH_USER] = "user",
    [STAT_PATH_KERNEL] = "kernel",
};
static const char *const why_names[N_STAT_WHY] = {
    [STAT_WHY_KTLS_OFF] = "ktls_off", [STAT_WHY_NO_ULP] = "no_tls_ulp",
    [STAT_WHY_VERSION] = "version",   [STAT_WHY_CIPHER] = "cipher",
    [STAT_WHY_OTHER] = "other",
};
static const char *const direction_names[N_STAT_DIRECTION] = {
    [STAT_TO_TLS] = "to_tls",
    [STAT_TO_PLAIN] = "to_plaintext",
};
static const char *const record_names[N_STAT_RECORD] = {
    [KTLS_REC_DATA] = "application_data",
    [KTLS_REC_NEW_SESSION_TICKET] = "new_session_ticket",
    [KTLS_REC_KEY_UPDATE] = "key_update",
    [KTLS_REC_HANDSHAKE] = "handshake",
    [KTLS_REC_CLOSE_NOTIFY] = "close_notify",
    [KTLS_REC_ALERT] = "alert",
    [KTLS_REC_OTHER] = "other",
    [KTLS_REC_MALFORMED] = "malformed",
};
static const char *const reset_names[N_STAT_RESET] = {
    [STAT_RESET_HANDSHAKE] = "handshake", [STAT_RESET_BACKEND] = "backend",
    [STAT_RESET_PEER] = "peer",		  [STAT_RESET_TIMEOUT] = "timeout",
    [STAT_RESET_STOPPING] = "stopping",	  [STAT_RESET_REFUSED] = "refused",
    [STAT_RESET_ERROR] = "error",
};
static const char *const reload_names[] = {"ok", "failed"};

/* ---- labels for the connections ---------------------------------------------------------- */

/* OpenSSL's reasons that name what the two sides could not agree on, or a certificate either
 * side refused (the first entry of the queue decides). */
static const struct {
	int reason;
	enum stat_handshake why;
} handshake_reasons[] = {
    {SSL_R_UNSUPPORTED_PROTOCOL, STAT_HS_VERSION},
    {SSL_R_WRONG_VERSION_NUMBER, STAT_HS_VERSION},
    {SSL_R_TLSV1_ALERT_PROTOCOL_VERSION, STAT_HS_VERSION},
    {SSL_R_NO_PROTOCOLS_AVAILABLE, STAT_HS_VERSION},
    {SSL_R_VERSION_TOO_LOW, STAT_HS_VERSION},
    {SSL_R_VERSION_TOO_HIGH, STAT_HS_VERSION},
    {SSL_R_NO_SHARED_CIPHER, STAT_HS_CIPHER},
    {SSL_R_NO_CIPHERS_AVAILABLE, STAT_HS_CIPHER},
    {SSL_R_NO_SHARED_GROUPS, STAT_HS_CIPHER},
    {SSL_R_NO_SUITABLE_KEY_SHARE, STAT_HS_CIPHER},
    {SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, STAT_HS_CERTIFICATE},
    {SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE, STAT_HS_CERTIFICATE},
    {SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED, STAT_HS_CERTIFICATE},
    {SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED, STAT_HS_CERTIFICATE},
    {SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN, STAT_HS_CERTIFICATE},
    {SSL_R_TLSV1_ALERT_UNKNOWN_CA, STAT_HS_CERTIFICATE},
    {SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED, STAT_HS_CERTIFICATE},
    {SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE, STAT_HS_CERTIFICATE},
    {SSL_R_CERTIFICATE_VERIFY_FAILED, STAT_HS_CERTIFICATE},
};

enum stat_handshake metrics_handshake_reason(enum tlspeer_failure kind, unsigned long first)
{
	switch (kind) {
	case TLSPEER_VERIFY:
		return STAT_HS_CERTIFICATE;
	case TLSPEER_CLOSE_NOTIFY:
	case TLSPEER_TRUNCATED:
	case TLSPEER_SYSCALL:
		return STAT_HS_CLOSED;
	case TLSPEER_TLS:
		for (size_t i = 0; i < sizeof(handshake_reasons) / sizeof(handshake_reasons[0]);
		     i++)
			if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
			    ERR_GET_REASON(first) == handshake_reasons[i].reason)
				return handshake_reasons[i].why;
		return STAT_HS_PROTOCOL;
	default:
		return STAT_HS_OTHER;
	}
}

/* In the order the kernel path's claim refuses (path_kernel.c): configuration, kernel, then
 * what the hand-over (ktls_ssl_export) checks of the session. */
enum stat_user_why metrics_user_path_why(const struct conf_service *svc,
					 const struct ktls_probe *probe, SSL *ssl)
{
	const SSL_CIPHER *cipher = ssl ? SSL_get_current_cipher(ssl) : NULL;
	const struct ktls_cipher *kc;
	int version = ssl ? SSL_version(ssl) : 0;

	if (svc->ktls == CONF_KTLS_OFF)
		return STAT_WHY_KTLS_OFF;
	if (!probe->ulp)
		return STAT_WHY_NO_ULP;
	if (version != TLS1_2_VERSION && version != TLS1_3_VERSION)
		return STAT_WHY_VERSION;
	kc = cipher ? ktls_cipher_by_suite(SSL_CIPHER_get_protocol_id(cipher)) : NULL;
	if (!kc || !kc->offload || !ktls_probe_has_cipher(probe, kc))
		return STAT_WHY_CIPHER;
	return STAT_WHY_OTHER;
}

/* ---- the scrape -------------------------------------------------------------------------- */

/* A growing text buffer; a failed allocation is remembered and the answer becomes a 500. */
struct out {
	char *buf;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = o->cap - o->len;

		if (o->failed)
			return;
		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if ((size_t)n < room) {
			o->len += n;
			return;
		}
		char *grown = realloc(o->buf, o->cap * 2 + n + 1024);
		if (!grown) {
			o->failed = true;
			return;
		}
		o->buf = grown;
		o->cap = o->cap * 2 + n + 1024;
	}
}

static void out_free(struct out *o)
{
	free(o->buf);
	*o = (struct out){0};
}

/* A label value in the text format: backslash, double quote and newline escaped. Service names
 * come from the configuration file. */
static void out_label_value(struct out *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			out_printf(o, "\\%c", *v);
		else if (*v == '\n')
			out_printf(o, "\\n");
		else
			out_printf(o, "%c", *v);
	}
}

struct metrics {
	int listen_fd, tls_stat_fd, wake_fd;
	struct conf_addr addr;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* guards rt */
	struct runtime *rt;
	int n_workers;
	double start_time; /* Unix seconds */
	atomic_ullong reloads[2];
	atomic_bool stopping, quit;
};

struct scrape {
	const struct metrics *m;
	const struct runtime *rt;
	const char *tls_stat; /* the file's text; NULL when the kernel has none */
	time_t now;
};

struct metric {
	const char *name;
	const char *type; /* "counter" or "gauge" */
	const char *help;
	/* Per-service counters of struct service_stats: the first at `off`, one per value of
	 * `label` (a single one when label is NULL). */
	const char *label;
	const char *const *values;
	size_t n_values;
	size_t off;
	/* Other metrics render themselves; labels says what they carry, for the list. */
	void (*render)(struct out *o, const struct metric *mt, const struct scrape *s);
	const char *labels;
};

static void sample_start(struct out *o, const struct metric *mt, const struct service_rt *svc)
{
	out_printf(o, "%s{service=\"", mt->name);
	out_label_value(o, svc->conf->name);
	out_printf(o, "\"");
}

static void render_service_counters(struct out *o, const struct metric *mt, const struct scrape *s)
{
	for (size_t i = 0; i < s->rt->n_services; i++) {
		const struct service_rt *svc = &s->rt->services[i];
		const atomic_ullong *c =
		    (const atomic_ullong *)((const char *)&svc->load->stats + mt->off);

		for (size_t v = 0; v < (mt->label ? mt->n_values : 1); v++) {
			sample_start(o, mt, svc);
			if (mt->label)
				out_printf(o, ",%s=\"%s\"", mt->label, mt->values[v]);
			out_printf(o, "} %llu\n",
				   atomic_load_explicit(&c[v], memory_order_relaxed));
		}
	}
}

static void render_open(struct out *o, const struct metric *mt, const struct scrape *s)
{
	for (size_t i = 0; i < s->rt->n_services; i++) {
		sample_start(o, mt, &s->rt->services[i]);
		out_printf(o, "} %ld\n", atomic_load(&s->rt->services[i].load->live));
	}
}

/* notAfter of the certificate a service serves (server mode) or presents (client mode). */
static bool cert_not_after(const struct service_rt *svc, time_t *out)
{
	X509 *x = svc->tls.ctx ? SSL_CTX_get0_certificate(svc->tls.ctx) : NULL;
	struct tm tm;

	if (!x || !ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
		return false;
	*out = timegm(&tm);
	return true;
}

static void render_cert(struct out *o, const struct metric *mt, const struct scrape *s)
{
	bool left = !strcmp(mt->name, "ktlsrelay_certificate_expiry_seconds");
	time_t t;

	for (size_t i = 0; i < s->rt->n_services; i++) {
		if (!cert_not_after(&s->rt->services[i], &t))
			continue;
		sample_start(o, mt, &s->rt->services[i]);
		if (left)
			out_printf(o, "} %.0f\n", difftime(t, s->now));
		else
			out_printf(o, "} %lld\n", (long long)t);
	}
}

static void render_build(struct out *o, const struct metric *mt, const struct scrape *s)
{
	out_printf(o, "%s{version=\"%s\",openssl=\"", mt->name, KTLSRELAY_VERSION);
	out_label_value(o, OpenSSL_version(OPENSSL_VERSION));
	out_printf(o, "\"} 1\n");
}

static void render_start(struct out *o, const struct metric *mt, const struct scrape *s)
{
	out_printf(o, "%s %.3f\n", mt->name, s->m->start_time);
}

static void render_reloads(struct out *o, const struct metric *mt, const struct scrape *s)
{
	for (size_t i = 0; i < 2; i++)
		out_printf(o, "%s{result=\"%s\"} %llu\n", mt->name, reload_names[i],
			   atomic_load_explicit(&s->m->reloads[i], memory_order_relaxed));
}

static void render_workers(struct out *o, const struct metric *mt, const struct scrape *s)
{
	out_printf(o, "%s %d\n", mt->name, s->m->n_workers);
}

static void render_accepting(struct out *o, const struct metric *mt, const struct scrape *s)
{
	out_printf(o, "%s %d\n", mt->name, !atomic_load(&s->m->stopping));
}

static void render_ulp(struct out *o, const struct metric *mt, const struct scrape *s)
{
	out_printf(o, "%s %d\n", mt->name, s->rt->probe.ulp);
}

/* /proc/net/tls_stat: "TlsCurrTxSw<spaces>0" per line. TlsCurr* are gauges (sockets now), the
 * rest counters. A name that is not letters and digits is skipped (never expected). */
static void render_tls_stat(struct out *o, const struct metric *mt, const struct scrape *s)
{
	bool current = !strcmp(mt->type, "gauge");
	const char *line = s->tls_stat;
	char name[64];
	unsigned long long v;

	while (line && *line) {
		const char *next = strchr(line, '\n');
		bool ok = sscanf(line, "%63s %llu", name, &v) == 2;

		for (const char *p = name; ok && *p; p++)
			ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9');
		if (ok && !strncmp(name, "TlsCurr", 7) == current)
			out_printf(o, "%s{counter=\"%s\"} %llu\n", mt->name, name, v);
		line = next ? next + 1 : NULL;
	}
}

#define COUNTERS(member, label_, names)                                                            \
	.label = label_, .values = names, .n_values = sizeof(names) / sizeof(names[0]),            \
	.off = offsetof(struct service_stats, member), .render = render_service_counters

/* The metrics, in the order a scrape prints them. */
static const struct metric metrics_table[] = {
    {.name = "ktlsrelay_build_info",
     .type = "gauge",
     .help = "Always 1; the version of ktlsrelay and of the OpenSSL it runs with.",
     .render = render_build,
     .labels = "version, openssl"},
    {.name = "ktlsrelay_start_time_seconds",
     .type = "gauge",
     .help = "When the relay started, in seconds since the Unix epoch.",
     .render = render_start},
    {.name = "ktlsrelay_reloads_total",
     .type = "counter",
     .help = "Configuration reloads (SIGHUP) that took effect, or were refused.",
     .render = render_reloads,
     .labels = "result: ok, failed"},
    {.name = "ktlsrelay_workers",
     .type = "gauge",
     .help = "Worker threads.",
     .render = render_workers},
    {.name = "ktlsrelay_accepting",
     .type = "gauge",
     .help = "1 while the relay accepts connections, 0 once it is stopping (as /health).",
     .render = render_accepting},
    {.name = "ktlsrelay_connections_open",
     .type = "gauge",
     .help = "Connections the service holds now (the count maxconn limits).",
     .render = render_open,
     .labels = "service"},
    {.name = "ktlsrelay_connections_total",
     .type = "counter",
     .help = "Connections accepted and served (not refused over maxconn).",
     .off = offsetof(struct service_stats, accepted),
     .render = render_service_counters},
    {.name = "ktlsrelay_connections_refused_total",
     .type = "counter",
     .help = "Connections reset at once: over maxconn, or not offloadable under ktls = on.",
     COUNTERS(refused, "reason", refused_names)},
    {.name = "ktlsrelay_handshakes_failed_total",
     .type = "counter",
     .help = "TLS handshakes that failed, by reason.",
     COUNTERS(handshake_failed, "reason", handshake_names)},
    {.name = "ktlsrelay_connections_established_total",
     .type = "counter",
     .help = "Connections established, by data path: kernel (kTLS both ways) or user (OpenSSL).",
     COUNTERS(established, "path", path_names)},
    {.name = "ktlsrelay_user_path_connections_total",
     .type = "counter",
     .help = "Connections established on the user path, by why the kernel did not take them.",
     COUNTERS(user_why, "why", why_names)},
    {.name = "ktlsrelay_relayed_bytes_total",
     .type = "counter",
     .help = "Plaintext bytes relayed, to the TLS peer and to the plaintext peer (counted once "
	     "a second while a connection lives, and when it ends).",
     COUNTERS(bytes, "direction", direction_names)},
    {.name = "ktlsrelay_kernel_control_records_total",
     .type = "counter",
     .help = "Records the kernel path read that splice cannot move, by type "
	     "(new_session_ticket: skipped; key_update: ends the connection before Linux 6.14).",
     COUNTERS(control_records, "type", record_names)},
    {.name = "ktlsrelay_resets_total",
     .type = "counter",
     .help = "Connections ended with a TCP reset on both sides, by cause.",
     COUNTERS(resets, "cause", reset_names)},
    {.name = "ktlsrelay_certificate_expiry_seconds",
     .type = "gauge",
     .help = "Time left until the service's certificate (cert) expires (86400 a day); "
	     "negative once expired.",
     .render = render_cert,
     .labels = "service"},
    {.name = "ktlsrelay_certificate_expiry_timestamp_seconds",
     .type = "gauge",
     .help = "The service's certificate's notAfter, in seconds since the Unix epoch.",
     .render = render_cert,
     .labels = "service"},
    {.name = "ktlsrelay_kernel_tls_ulp",
     .type = "gauge",
     .help = "1 when the kernel has the TLS ULP (kTLS), found at start.",
     .render = render_ulp},
    {.name = "ktlsrelay_kernel_tls_stat_current",
     .type = "gauge",
     .help = "The kernel's /proc/net/tls_stat TlsCurr* values for the relay's network "
	     "namespace: kTLS sockets now.",
     .render = render_tls_stat,
     .labels = "counter: TlsCurrTxSw, TlsCurrRxSw, TlsCurrTxDevice, TlsCurrRxDevice"},
    {.name = "ktlsrelay_kernel_tls_stat_total",
     .type = "counter",
     .help = "The kernel's other /proc/net/tls_stat counters for the relay's network namespace.",
     .render = render_tls_stat,
     .labels = "counter: TlsTxSw, TlsRxSw, TlsDecryptError, TlsRxRekeyOk, ... (the kernel's "
	       "names)"},
};

#define N_METRICS (sizeof(metrics_table) / sizeof(metrics_table[0]))

static void scrape(struct metrics *m, struct out *o)
{
	struct scrape s = {.m = m, .now = time(NULL)};
	char stat[4096];
	struct runtime *rt;
	ssize_t n = -1;

	pthread_mutex_lock(&m->lock);
	rt = m->rt;
	runtime_get(rt);
	pthread_mutex_unlock(&m->lock);
	s.rt = rt;
	if (m->tls_stat_fd >= 0)
		n = pread(m->tls_stat_fd, stat, sizeof(stat) - 1, 0);
	if (n >= 0) {
		stat[n] = '\0';
		s.tls_stat = stat;
	}
	for (size_t i = 0; i < N_METRICS; i++) {
		const struct metric *mt = &metrics_table[i];

		out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", mt->name, mt->help, mt->name,
			   mt->type);
		mt->render(o, mt, &s);
	}
	runtime_put(rt);
}

void metrics_print_list(FILE *out)
{
	fprintf(out, "| Metric | Type | Labels | Meaning |\n| --- | --- | --- | --- |\n");
	for (size_t i = 0; i < N_METRICS; i++) {
		const struct metric *mt = &metrics_table[i];

		fprintf(out, "| `%s` | %s | ", mt->name, mt->type);
		if (mt->render == render_service_counters) {
			/* "service; reason: maxconn, ktls_on" */
			fprintf(out, "service");
			for (size_t v = 0; mt->label && v < mt->n_values; v++) {
				if (v == 0)
					fprintf(out, "; %s: ", mt->label);
				fprintf(out, "%s%s", v ? ", " : "", mt->values[v]);
			}
		} else {
			fprintf(out, "%s", mt->labels ? mt->labels : "");
		}
		fprintf(out, " | %s |\n", mt->help);
	}
}

/* ---- the HTTP server --------------------------------------------------------------------- */

struct client {
	int fd; /* -1: free slot */
	size_t len;
	char req[REQUEST_MAX];
	struct out resp;
	size_t sent;
	double deadline;
};

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void respond(struct client *cl, int status, const char *reason, const char *type,
		    const struct out *body, bool head, const char *extra)
{
	out_printf(&cl->resp,
		   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: "
		   "close\r\n\r\n",
		   status, reason, type, body->len, extra ? extra : "");
	if (!head && body->len)
		out_printf(&cl->resp, "%.*s", (int)body->len, body->buf);
}

static void respond_text(struct client *cl, int status, const char *reason, const char *text,
			 bool head, const char *extra)
{
	struct out body = {0};

	out_printf(&body, "%s\n", text);
	respond(cl, status, reason, "text/plain; charset=utf-8", &body, head, extra);
	out_free(&body);
}

/* A whole request head is in cl->req: answer it. */
static void handle(struct metrics *m, struct client *cl)
{
	char *method = cl->req, *target, *version, *end, *query;
	bool head;

	target = strchr(method, ' ');
	version = target ? strchr(target + 1, ' ') : NULL;
	end = version ? strpbrk(version + 1, "\r\n") : NULL;
	if (!end || target == method || version == target + 1) {
		respond_text(cl, 400, "Bad Request", "bad request", false, NULL);
		return;
	}
	*target++ = '\0';
	*version++ = '\0';
	*end = '\0';
	if (strncmp(version, "HTTP/1.", 7) || target[0] != '/') {
		respond_text(cl, 400, "Bad Request", "bad request", false, NULL);
		return;
	}
	head = !strcmp(method, "HEAD");
	if (!head && strcmp(method, "GET")) {
		respond_text(cl, 405, "Method Not Allowed", "only GET and HEAD", false,
			     "Allow: GET, HEAD\r\n");
		return;
	}
	query = strchr(target, '?');
	if (query)
		*query = '\0';
	if (!strcmp(target, "/metrics")) {
		struct out body = {0};

		scrape(m, &body);
		if (body.failed)
			respond_text(cl, 500, "Internal Server Error", "out of memory", head, NULL);
		else
			respond(cl, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", &body,
				head, NULL);
		out_free(&body);
	} else if (!strcmp(target, "/health")) {
		if (atomic_load(&m->stopping))
			respond_text(cl, 503, "Service Unavailable", "stopping", head, NULL);
		else
			respond_text(cl, 200, "OK", "ok", head, NULL);
	} else {
		respond_text(cl, 404, "Not Found", "not found: /metrics or /health", head, NULL);
	}
}

static void client_close(struct client *cl)
{
	close(cl->fd);
	cl->fd = -1;
	out_free(&cl->resp);
}

/* Sends what is left of the answer; closes once it is all sent or the client is gone. */
static void client_write(struct client *cl)
{
	while (cl->sent < cl->resp.len) {
		ssize_t n = send(cl->fd, cl->resp.buf + cl->sent, cl->resp.len - cl->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			break;
		cl->sent += n;
	}
	client_close(cl);
}

static void client_read(struct metrics *m, struct client *cl)
{
	ssize_t n = recv(cl->fd, cl->req + cl->len, sizeof(cl->req) - 1 - cl->len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(cl);
		return;
	}
	cl->len += n;
	cl->req[cl->len] = '\0';
	if (strstr(cl->req, "\r\n\r\n") || strstr(cl->req, "\n\n"))
		handle(m, cl);
	else if (cl->len == sizeof(cl->req) - 1)
		respond_text(cl, 400, "Bad Request", "request too long", false, NULL);
	else
		return;
	cl->deadline = monotonic() + CLIENT_SECONDS;
	if (cl->resp.failed)
		client_close(cl);
	else
		client_write(cl);
}

static void *metrics_thread(void *arg)
{
	struct metrics *m = arg;
	struct client clients[CLIENTS];
	struct pollfd pfd[CLIENTS + 2];
	int who[CLIENTS + 2];

	for (int i = 0; i < CLIENTS; i++)
		clients[i] = (struct client){.fd = -1};
	while (!atomic_load(&m->quit)) {
		double now = monotonic(), next = now + 60;
		int n = 0, free_slot = -1, timeout;

		pfd[n] = (struct pollfd){.fd = m->wake_fd, .events = POLLIN};
		who[n++] = -1;
		for (int i = 0; i < CLIENTS; i++) {
			struct client *cl = &clients[i];

			if (cl->fd < 0) {
				free_slot = free_slot < 0 ? i : free_slot;
				continue;
			}
			if (now >= cl->deadline) {
				/* Never sent a whole request, or never read the answer. */
				if (!cl->resp.len) {
					respond_text(cl, 408, "Request Timeout", "request timeout",
						     false, NULL);
					send(cl->fd, cl->resp.buf, cl->resp.len,
					     MSG_NOSIGNAL | MSG_DONTWAIT);
				}
				client_close(cl);
				free_slot = free_slot < 0 ? i : free_slot;
				continue;
			}
			next = cl->deadline < next ? cl->deadline : next;
			pfd[n] = (struct pollfd){.fd = cl->fd,
						 .events = cl->resp.len ? POLLOUT : POLLIN};
			who[n++] = i;
		}
		if (free_slot >= 0) {
			pfd[n] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
			who[n++] = -2;
		}
		timeout = (int)((next - now) * 1000) + 1;
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			relay_log(LOG_ERR, "metrics: poll: %s", strerror(errno));
			break;
		}
		for (int k = 0; k < n; k++) {
			struct client *cl;

			if (!pfd[k].revents)
				continue;
			if (who[k] == -1) {
				uint64_t v;

				if (read(m->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					relay_log(LOG_ERR, "metrics: wake: %s", strerror(errno));
				continue;
			}
			if (who[k] == -2) {
				int fd =
				    accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (fd < 0)
					continue;
				clients[free_slot] = (struct client){
				    .fd = fd, .deadline = monotonic() + CLIENT_SECONDS};
				continue;
			}
			cl = &clients[who[k]];
			if (cl->resp.len)
				client_write(cl);
			else
				client_read(m, cl);
		}
	}
	for (int i = 0; i < CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_close(&clients[i]);
	return NULL;
}

/* ---- life cycle -------------------------------------------------------------------------- */

int metrics_open(const struct conf_addr *addr, struct metrics **out, char *err, size_t errlen)
{
	struct metrics *m;
	struct timespec ts;
	int one = 1, ret;

	*out = NULL;
	if (!addr->len)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->addr = *addr;
	m->tls_stat_fd = m->wake_fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	m->start_time = ts.tv_sec + ts.tv_nsec / 1e9;
	m->listen_fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->listen_fd < 0 ||
	    setsockopt(m->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(m->listen_fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 ||
	    listen(m->listen_fd, 64) < 0) {
		ret = -errno;
		snprintf(err, errlen, "metrics = %s: %s", addr->text, strerror(-ret));
		goto fail;
	}
	m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->wake_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "metrics: eventfd: %s", strerror(-ret));
		goto fail;
	}
	/* Before the chroot, which hides /proc; kernels without kTLS have no such file. */
	m->tls_stat_fd = open(TLS_STAT_PATH, O_RDONLY | O_CLOEXEC);
	*out = m;
	return 0;
fail:
	metrics_stop(m);
	return ret;
}

int metrics_start(struct metrics *m, struct runtime *rt, int n_workers, char *err, size_t errlen)
{
	char where[NET_ADDR_TEXT];
	int ret;

	if (!m)
		return 0;
	runtime_get(rt);
	m->rt = rt;
	m->n_workers = n_workers;
	ret = -pthread_create(&m->thread, NULL, metrics_thread, m);
	if (ret < 0) {
		snprintf(err, errlen, "metrics: cannot start its thread: %s", strerror(-ret));
		return ret;
	}
	m->started = true;
	net_addr_text((const struct sockaddr *)&m->addr.ss, where, sizeof(where));
	relay_log(LOG_NOTICE, "metrics on http://%s/metrics and /health", where);
	return 0;
}

void metrics_set_runtime(struct metrics *m, struct runtime *rt)
{
	struct runtime *old;

	if (!m)
		return;
	if (rt->conf->metrics.len != m->addr.len ||
	    memcmp(&rt->conf->metrics.ss, &m->addr.ss, m->addr.len))
		relay_log(LOG_WARNING,
			  "metrics: the address in the file changed; it stays %s until a restart",
			  m->addr.text);
	runtime_get(rt);
	pthread_mutex_lock(&m->lock);
	old = m->rt;
	m->rt = rt;
	pthread_mutex_unlock(&m->lock);
	if (old)
		runtime_put(old);
}

void metrics_reloaded(struct metrics *m, bool ok)
{
	if (m)
		atomic_fetch_add_explicit(&m->reloads[ok ? 0 : 1], 1, memory_order_relaxed);
}

void metrics_stopping(struct metrics *m)
{
	if (m)
		atomic_store(&m->stopping, true);
}

void metrics_stop(struct metrics *m)
{
	uint64_t one = 1;

	if (!m)
		return;
	if (m->started) {
		atomic_store(&m->quit, true);
		if (write(m->wake_fd, &one, sizeof(one)) < 0)
			relay_log(LOG_ERR, "metrics: wake: %s", strerror(errno));
		pthread_join(m->thread, NULL);
	}
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	if (m->tls_stat_fd >= 0)
		close(m->tls_stat_fd);
	if (m->rt)
		runtime_put(m->rt);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
