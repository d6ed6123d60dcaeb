/* conn.c - the connection state machine.
 *
 * Server mode (TLS in, plaintext out): handshake on the accepted socket first, then connect the
 * backend, as stunnel does, so a peer that fails the handshake never reaches the backend.
 * Client mode (plaintext in, TLS out): connect first, then the handshake on the new socket.
 * Once both sockets are up the connection is established and a data path takes over. */
#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "path.h"

#include "ktls.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const result_names[] = {
	[RESULT_OK] = "ok",           [RESULT_RESET] = "reset",     [RESULT_TIMEOUT] = "timeout",
	[RESULT_ERROR] = "error",     [RESULT_REFUSED] = "refused",
};

void conn_log(const struct conn *c, int level, const char *fmt, ...)
{
	char prefix[160];
	va_list ap;

	if (!log_enabled(level))
		return;
	snprintf(prefix, sizeof(prefix), "[%s] #%llu ", c->svc->conf->name,
		 (unsigned long long)c->id);
	va_start(ap, fmt);
	relay_vlog(level, prefix, fmt, ap);
	va_end(ap);
}

static void set_state(struct conn *c, enum conn_state state)
{
	c->state = state;
	c->state_since = c->w->now;
}

void conn_arm(struct conn *c, unsigned want)
{
	for (int slot = SLOT_TLS_IN; slot <= SLOT_PLAIN_OUT; slot++) {
		bool tls = slot == SLOT_TLS_IN || slot == SLOT_TLS_OUT;
		bool in = slot == SLOT_TLS_IN || slot == SLOT_PLAIN_IN;

		if (!(want & WANT(slot)) || (c->pending & WANT(slot)))
			continue;
		worker_poll(c->w, tls ? c->tls_fd : c->plain_fd, in ? POLLIN : POLLOUT,
			    &c->ops[slot]);
		c->pending |= WANT(slot);
	}
}

/* --- metrics (runtime.h's service_stats) ---------------------------------------------------- */

static struct service_stats *stats(const struct conn *c)
{
	return &c->svc->load->stats;
}

/* The bytes moved since the last call go into the service's counters: once a second and at the
 * close, so a long transfer shows in a rate without a cost per record. */
static void stats_flush_bytes(struct conn *c)
{
	if (c->to_tls != c->counted_tls)
		stat_add(&stats(c)->bytes[STAT_TO_TLS], c->to_tls - c->counted_tls);
	if (c->to_plain != c->counted_plain)
		stat_add(&stats(c)->bytes[STAT_TO_PLAIN], c->to_plain - c->counted_plain);
	c->counted_tls = c->to_tls;
	c->counted_plain = c->to_plain;
}

/* Why a connection ended with a reset, from how it ended and when. */
static enum stat_reset reset_cause(const struct conn *c, enum conn_result result)
{
	if (result == RESULT_REFUSED)
		return STAT_RESET_REFUSED;
	if (result == RESULT_TIMEOUT)
		return c->w->stopping ? STAT_RESET_STOPPING : STAT_RESET_TIMEOUT;
	if (c->state == CONN_HANDSHAKE)
		return STAT_RESET_HANDSHAKE;
	if (c->state == CONN_CONNECTING)
		return STAT_RESET_BACKEND;
	return result == RESULT_RESET ? STAT_RESET_PEER : STAT_RESET_ERROR;
}

static void conn_free_if_idle(struct conn *c)
{
	struct worker *w = c->w;

	if (c->state != CONN_CLOSED || c->pending)
		return;
	worker_tick_remove(w, &c->tick);
	service_leave(c->svc);
	runtime_put(c->rt);
	free(c->delayed);
	free(c);
}

void conn_finish(struct conn *c, enum conn_result result, const char *fmt, ...)
{
	double seconds = c->w->now - c->started;
	char why[512] = "";
	va_list ap;

	if (c->state == CONN_CLOSED)
		return;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	conn_log(c, result == RESULT_OK ? LOG_NOTICE : LOG_WARNING,
		 "closed to_tls=%llu to_plain=%llu seconds=%.3f rate=%.2fMB/s result=%s%s%s%s",
		 c->to_tls, c->to_plain, seconds,
		 seconds > 0 ? (c->to_tls + c->to_plain) / seconds / 1e6 : 0.0,
		 result_names[result], why[0] ? " why=\"" : "", why, why[0] ? "\"" : "");
	stats_flush_bytes(c);
	if (result != RESULT_OK && !c->close_cleanly)
		stat_add(&stats(c)->resets[reset_cause(c, result)], 1);
	if (c->path)
		c->path->release(c);
	c->path_state = NULL;
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
	/* Anything but a clean end resets both sides: a truncated transfer must never look
	 * like a complete one to either peer. */
	if (result == RESULT_OK || c->close_cleanly) {
		if (c->tls_fd >= 0)
			close(c->tls_fd);
		if (c->plain_fd >= 0)
			close(c->plain_fd);
	} else {
		net_close_reset(c->tls_fd);
		net_close_reset(c->plain_fd);
	}
	c->tls_fd = c->plain_fd = -1;
	for (int slot = 0; slot < N_SLOTS; slot++)
		if (c->pending & WANT(slot))
			worker_cancel(c->w, &c->ops[slot]);
	set_state(c, CONN_CLOSED);
	conn_free_if_idle(c);
}

/* --- established ------------------------------------------------------------------------ */

/* Tried in order: the first that claims the connection moves its bytes. */
static const struct data_path *const paths[] = {&path_kernel, &path_user};

/* Picks the data path: the kernel when ktls allows it and the keys can be handed over, user space
 * otherwise (ktls = auto, with the reason kept for the log), or no connection (ktls = on). */
static const struct data_path *choose_path(struct conn *c)
{
	char why[sizeof(c->path_why)];
	int ret;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ret = paths[i]->claim(c, why, sizeof(why));
		if (ret == 0)
			return paths[i];
		if (ret != -ENOTSUP) {
			if (ret == -EPERM)
				stat_add(&stats(c)->refused[STAT_REFUSED_KTLS_ON], 1);
			conn_finish(c, ret == -EPERM ? RESULT_REFUSED : RESULT_ERROR, "%s", why);
			return NULL;
		}
		/* Why the preferred path was not taken: the established line says it. */
		if (!c->path_why[0])
			snprintf(c->path_why, sizeof(c->path_why), "%s", why);
	}
	conn_finish(c, RESULT_ERROR, "no data path: %s", c->path_why);
	return NULL;
}

static void establish(struct conn *c)
{
	struct ktls_state st = {0};
	char buf[256];

	set_state(c, CONN_ESTABLISHED);
	c->last_progress = c->w->now;
	c->plain_readable = c->tls_readable = true;
	if (c->path->start(c, buf, sizeof(buf)) < 0) {
		conn_finish(c, RESULT_ERROR, "%s", buf);
		return;
	}
	/* tx= and rx= come from the kernel's own answer, not from what we meant to do. */
	ktls_socket_state(c->tls_fd, &st);
	conn_log(c, LOG_NOTICE,
		 "established from=%s to=%s resumed=%s version=%s cipher=%s tx=%s rx=%s%s%s%s", c->from,
		 c->to, SSL_session_reused(c->ssl) ? "yes" : "no", SSL_get_version(c->ssl),
		 SSL_CIPHER_standard_name(SSL_get_current_cipher(c->ssl)),
		 st.tx == KTLS_KERNEL ? "kernel" : "user", st.rx == KTLS_KERNEL ? "kernel" : "user",
		 c->path_why[0] ? " why=\"" : "", c->path_why, c->path_why[0] ? "\"" : "");
	if (st.tx == KTLS_KERNEL && st.rx == KTLS_KERNEL) {
		stat_add(&stats(c)->established[STAT_PATH_KERNEL], 1);
	} else {
		stat_add(&stats(c)->established[STAT_PATH_USER], 1);
		enum stat_user_why why = metrics_user_path_why(c->svc->conf, &c->rt->probe, c->ssl);

		stat_add(&stats(c)->user_why[why], 1);
	}
	if (!c->path->keeps_ssl) {
		/* OpenSSL keeps its own copy of the keys until the SSL is freed. */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	c->path->pump(c);
}

/* --- backend connect -------------------------------------------------------------------- */

static void connected(struct conn *c);
static void connect_next(struct conn *c);

static int resolve_delayed(struct conn *c)
{
	const struct conf_service *svc = c->svc->conf;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	size_t n = 0;

	for (size_t i = 0; i < svc->n_connect; i++) {
		int ret = getaddrinfo(svc->connect[i].host, svc->connect[i].port, &hints, &res);
		if (ret) {
			conn_log(c, LOG_WARNING, "cannot resolve %s: %s", svc->connect[i].host,
				 gai_strerror(ret));
			continue;
		}
		for (ai = res; ai; ai = ai->ai_next) {
			struct conf_addr *more = realloc(c->delayed, (n + 1) * sizeof(*more));
			if (!more)
				break;
			c->delayed = more;
			memset(&more[n], 0, sizeof(more[n]));
			memcpy(&more[n].ss, ai->ai_addr, ai->ai_addrlen);
			more[n].len = ai->ai_addrlen;
			snprintf(more[n].text, sizeof(more[n].text), "%s:%s", svc->connect[i].host,
				 svc->connect[i].port);
			n++;
		}
		freeaddrinfo(res);
	}
	c->n_delayed = n;
	return n ? 0 : -EHOSTUNREACH;
}

/* The k-th address over all connect lines, in the order written; its line's host too. */
static const struct conf_addr *connect_addr(const struct conn *c, size_t k, const char **host)
{
	const struct conf_service *svc = c->svc->conf;

	if (svc->delay) {
		*host = svc->connect[0].host;
		return &c->delayed[k];
	}
	for (size_t i = 0; i < svc->n_connect; i++) {
		if (k < svc->connect[i].n_addrs) {
			*host = svc->connect[i].host;
			return &svc->connect[i].addrs[k];
		}
		k -= svc->connect[i].n_addrs;
	}
	return NULL;
}

static size_t connect_count(const struct conn *c)
{
	const struct conf_service *svc = c->svc->conf;
	size_t n = 0;

	if (svc->delay)
		return c->n_delayed;
	for (size_t i = 0; i < svc->n_connect; i++)
		n += svc->connect[i].n_addrs;
	return n;
}

static void connect_failed_all(struct conn *c)
{
	size_t total = connect_count(c), len = 0;
	const char *host, *last = NULL;
	char tried[512] = "no address resolved";

	/* One line naming every address tried, in the order tried (each failure has its own
	 * warning line above it). */
	for (size_t k = 0; k < total && len < sizeof(tried); k++) {
		const struct conf_addr *a = connect_addr(c, (c->connect_start + k) % total, &host);
		if (last && !strcmp(last, a->text))
			continue; /* a name's several addresses: named once */
		len += snprintf(tried + len, sizeof(tried) - len, "%s%s", len ? ", " : "", a->text);
		last = a->text;
	}
	if (!c->svc->conf->client) {
		/* The TLS peer gets a clean close_notify: it was told nothing false. */
		c->path->close_notify(c);
		c->close_cleanly = true;
	}
	conn_finish(c, RESULT_ERROR, "no backend could be reached (tried %s)", tried);
}

static void connect_start(struct conn *c)
{
	const struct conf_service *svc = c->svc->conf;

	set_state(c, CONN_CONNECTING);
	if (svc->delay && resolve_delayed(c) < 0) {
		connect_failed_all(c);
		return;
	}
	c->connect_start = svc->failover == CONF_FAILOVER_RR
				   ? atomic_fetch_add(&c->svc->rr_next, 1) % connect_count(c)
				   : 0;
	c->connect_tries = 0;
	connect_next(c);
}

static void connect_next(struct conn *c)
{
	const struct conf_service *svc = c->svc->conf;
	size_t total = connect_count(c);
	char err[256];
	int fd;

	while (c->connect_tries < total) {
		const struct conf_addr *addr =
			connect_addr(c, (c->connect_start + c->connect_tries) % total,
				     &c->connect_host);

		c->connect_tries++;
		c->connect_to = *addr;
		fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			conn_log(c, LOG_WARNING, "connect to %s failed: %s", addr->text,
				 strerror(errno));
			continue;
		}
		if (net_apply_sockopts(fd, CONF_SOCK_REMOTE, svc->sockopts, svc->n_sockopts, err,
				       sizeof(err)) < 0)
			conn_log(c, LOG_WARNING, "%s", err);
		if (svc->client)
			c->tls_fd = fd;
		else
			c->plain_fd = fd;
		c->state_since = c->w->now;
		c->connect_timed_out = false;
		worker_connect(c->w, fd, (const struct sockaddr *)&c->connect_to.ss,
			       c->connect_to.len, &c->ops[SLOT_CONNECT]);
		c->pending |= WANT(SLOT_CONNECT);
		return;
	}
	connect_failed_all(c);
}

static void connect_done(struct conn *c, int res)
{
	int *fd = c->svc->conf->client ? &c->tls_fd : &c->plain_fd;

	if (res == 0) {
		connected(c);
		return;
	}
	if (c->connect_timed_out)
		conn_log(c, LOG_WARNING, "connect to %s failed: timeout (TIMEOUTconnect=%ds)",
			 c->connect_to.text, c->svc->conf->timeouts.connect);
	else
		conn_log(c, LOG_WARNING, "connect to %s failed: %s", c->connect_to.text,
			 strerror(-res));
	close(*fd);
	*fd = -1;
	connect_next(c);
}

/* --- handshake ------------------------------------------------------------------------- */

static void handshake_step(struct conn *c)
{
	enum tlspeer_failure kind;
	unsigned long first;
	char why[512];
	int ret, saved;

	/* OpenSSL's error queue is per thread, and this thread serves many connections:
	 * SSL_get_error looks at the queue before anything else, so an entry left by any earlier
	 * call (another connection's, or one whose result was ignored) would turn this
	 * handshake's WANT_READ into a failure. Cleared before every SSL call, as nginx does. */
	ERR_clear_error();
	ret = SSL_do_handshake(c->ssl);

	if (ret == 1) {
		/* The path is chosen (and the keys handed to the kernel) right after the handshake,
		 * before OpenSSL can read anything more, and before a server-mode relay connects
		 * its backend: a connection ktls = on refuses never reaches it. */
		c->path = choose_path(c);
		if (!c->path)
			return;
		if (c->svc->conf->client)
			establish(c);
		else
			connect_start(c);
		return;
	}
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		conn_arm(c, WANT(SLOT_TLS_IN));
		return;
	case SSL_ERROR_WANT_WRITE:
		conn_arm(c, WANT(SLOT_TLS_OUT));
		return;
	default:
		/* The first queued error names the reason for the metrics; errno is kept for the
		 * text, which reads it. */
		saved = errno;
		first = ERR_peek_error();
		errno = saved;
		kind = tlspeer_ssl_failure(c->ssl, ret, NULL, why, sizeof(why));
		stat_add(&stats(c)->handshake_failed[metrics_handshake_reason(kind, first)], 1);
		conn_finish(c, RESULT_ERROR, "handshake failed: %s", why);
	}
}

static void handshake_start(struct conn *c)
{
	char why[256];

	c->ssl = tls_service_new_ssl(&c->svc->tls, c->tls_fd, c->connect_host, why, sizeof(why));
	if (!c->ssl) {
		stat_add(&stats(c)->handshake_failed[STAT_HS_OTHER], 1);
		conn_finish(c, RESULT_ERROR, "cannot start TLS: %s", why);
		return;
	}
	set_state(c, CONN_HANDSHAKE);
	handshake_step(c);
}

static void connected(struct conn *c)
{
	net_peer_text(c->svc->conf->client ? c->tls_fd : c->plain_fd, c->to, sizeof(c->to));
	if (c->svc->conf->client)
		handshake_start(c);
	else
		establish(c);
}

/* --- entry points ---------------------------------------------------------------------- */

static void conn_op_done(struct op *op, int res, unsigned flags);
static void conn_tick(struct worker_tick *t);

/* Over maxconn: the connection is reset at once, so the peer knows it was not served. One line
 * a second at most, counting the others, so a flood cannot flood the log too. */
static void refuse_over_limit(struct worker *w, struct service_rt *svc, int fd)
{
	struct service_load *load = svc->load;
	long long second = (long long)w->now, last = atomic_load(&load->refused_log);
	char from[NET_ADDR_TEXT];

	atomic_fetch_add(&load->refused, 1);
	stat_add(&load->stats.refused[STAT_REFUSED_MAXCONN], 1);
	if (second > last && atomic_compare_exchange_strong(&load->refused_log, &last, second)) {
		net_peer_text(fd, from, sizeof(from));
		relay_log(LOG_WARNING,
			  "[%s] refused from=%s why=\"maxconn %ld reached\" refused_since_last=%ld",
			  svc->conf->name, from, svc->conf->maxconn,
			  atomic_exchange(&load->refused, 0));
	}
	net_close_reset(fd);
}

void conn_accepted(struct worker *w, struct runtime *rt, struct service_rt *svc, int fd)
{
	struct conn *c;
	char err[256];

	if (!service_enter(svc)) {
		refuse_over_limit(w, svc, fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		service_leave(svc);
		relay_log(LOG_ERR, "[%s] out of memory for a new connection", svc->conf->name);
		net_close_reset(fd);
		return;
	}
	stat_add(&svc->load->stats.accepted, 1);
	c->w = w;
	c->rt = rt;
	runtime_get(rt);
	c->svc = svc;
	c->id = atomic_fetch_add(w->next_conn_id, 1);
	c->tls_fd = c->plain_fd = -1;
	c->started = c->last_progress = w->now;
	for (int slot = 0; slot < N_SLOTS; slot++)
		c->ops[slot] = (struct op){.handler = conn_op_done, .owner = c, .index = slot};
	c->tick.fn = conn_tick;
	worker_tick_add(w, &c->tick);

	net_peer_text(fd, c->from, sizeof(c->from));
	snprintf(c->to, sizeof(c->to), "-");
	conn_log(c, LOG_INFO, "accepted from=%s", c->from);
	if (net_apply_sockopts(fd, CONF_SOCK_LOCAL, svc->conf->sockopts, svc->conf->n_sockopts, err,
			       sizeof(err)) < 0)
		conn_log(c, LOG_WARNING, "%s", err);
	if (svc->conf->client) {
		c->plain_fd = fd;
		connect_start(c);
	} else {
		c->tls_fd = fd;
		handshake_start(c);
	}
}

/* A completion of one of the connection's operations. */
static void conn_op_done(struct op *op, int res, unsigned flags)
{
	struct conn *c = op->owner;
	enum conn_slot slot = op->index;

	c->pending &= ~WANT(slot);
	if (slot == SLOT_PLAIN_IN)
		c->plain_readable = true;
	else if (slot == SLOT_TLS_IN)
		c->tls_readable = true;
	switch (c->state) {
	case CONN_CLOSED:
		conn_free_if_idle(c);
		break;
	case CONN_HANDSHAKE:
		handshake_step(c);
		break;
	case CONN_CONNECTING:
		if (slot == SLOT_CONNECT)
			connect_done(c, res);
		break;
	case CONN_ESTABLISHED:
		c->path->pump(c);
		break;
	}
}

/* The tick: enforce TIMEOUTbusy, TIMEOUTconnect, TIMEOUTidle, TIMEOUTclose, and the stop. */
static void conn_tick(struct worker_tick *tick)
{
	struct conn *c = (struct conn *)((char *)tick - offsetof(struct conn, tick));
	const struct conf_timeouts *t = &c->svc->conf->timeouts;
	double now = c->w->now;
	const char *name;
	int limit;

	if (c->state == CONN_CLOSED)
		return;
	if (c->w->stopping && now - c->w->stop_started > t->close) {
		conn_finish(c, RESULT_TIMEOUT, "relay stopping: TIMEOUTclose=%ds passed", t->close);
		return;
	}
	switch (c->state) {
	case CONN_HANDSHAKE:
		if (now - c->state_since > t->busy) {
			stat_add(&stats(c)->handshake_failed[STAT_HS_TIMEOUT], 1);
			conn_finish(c, RESULT_TIMEOUT, "timeout: handshake not done in TIMEOUTbusy=%ds",
				    t->busy);
		}
		return;
	case CONN_CONNECTING:
		if (now - c->state_since > t->connect && (c->pending & WANT(SLOT_CONNECT)) &&
		    !c->connect_timed_out) {
			c->connect_timed_out = true;
			worker_cancel(c->w, &c->ops[SLOT_CONNECT]);
		}
		return;
	case CONN_ESTABLISHED:
		stats_flush_bytes(c);
		if (c->path->stalled(c)) {
			limit = t->busy;
			name = "TIMEOUTbusy";
		} else if (c->up_done || c->down_done) {
			limit = t->close;
			name = "TIMEOUTclose";
		} else {
			limit = t->idle;
			name = "TIMEOUTidle";
		}
		if (now - c->last_progress > limit)
			conn_finish(c, RESULT_TIMEOUT, "timeout: no progress in %s=%ds", name, limit);
		return;
	case CONN_CLOSED:
		return;
	}
}
