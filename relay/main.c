/* main.c - ktlsrelay: the command line, start-up order, signals, reload and stop.
 *
 * Start-up follows stunnel: configuration, certificates and listening sockets first (as root),
 * then daemonize, chroot, pid file, setgid/setuid, then the workers. The main thread only waits
 * for signals; the workers do all the I/O. */
#include "conf.h"
#include "conn.h"
#include "ktls.h"
#include "log.h"
#include "notify.h"
#include "metrics.h"
#include "privileges.h"
#include "runtime.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONFIG "/etc/stunnel/stunnel.conf"
#define SWITCH_WAIT_SECONDS 10

/* The process's mutable state lives here and nowhere else, so that no other file can change what
 * the workers see behind their back. */
static struct {
	const char *config_path;
	bool foreground_flag;
	struct runtime *rt;
	struct worker *workers;
	int n_workers;
	atomic_uint_fast64_t next_conn_id;
	atomic_int switched;
	int keylog_fd; /* SSLKEYLOGFILE, opened before the chroot; -1: not set */
	int notify_fd; /* NOTIFY_SOCKET (systemd), connected before the chroot; -1: not set */
	struct metrics *metrics; /* metrics = ...; NULL: off */
} relay = {.keylog_fd = -1, .notify_fd = -1};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ktlsrelay [--foreground] [--check] [CONFIG]\n"
		"       ktlsrelay --version | --help\n"
		"\n"
		"A TLS 1.3 port forwarder that reads stunnel's configuration files and moves the\n"
		"data through the kernel's TLS (kTLS) when it can, through OpenSSL otherwise.\n"
		"CONFIG defaults to " DEFAULT_CONFIG ".\n"
		"\n"
		"  --foreground  stay in the foreground and log to stderr (foreground = yes)\n"
		"  --check       validate CONFIG (options, certificates, addresses) and exit 0 or 1\n"
		"  --version     print the version, OpenSSL's, and what the kernel's TLS supports\n"
		"  --help        this text and the configuration options\n"
		"  --metrics-list  the metrics served at metrics = [HOST:]PORT, as a markdown table\n"
		"\n"
		"Signals: SIGHUP reloads CONFIG, SIGUSR1 reopens the log file, SIGTERM and SIGINT\n"
		"stop accepting and let live transfers finish (up to TIMEOUTclose).\n"
		"\n"
		"Configuration options:\n");
	conf_print_options(CONF_HELP_TEXT, out);
}

static void print_version(void)
{
	struct ktls_probe probe;
	char line[512];

	ktls_probe(&probe);
	ktls_probe_format(&probe, line, sizeof(line));
	printf("ktlsrelay %s\n%s\n%s\n", KTLSRELAY_VERSION, OpenSSL_version(OPENSSL_VERSION),
	       line);
}

/* ktls = on can never be met on a kernel without the TLS ULP: refuse to start rather than refuse
 * every connection. (Per connection, ktls = on refuses what cannot be handed over.) */
static int check_ktls_on(const struct conf *conf, const struct ktls_probe *probe, char *err,
			 size_t errlen)
{
	for (size_t i = 0; i < conf->n_services && !probe->ulp; i++) {
		const struct conf_service *svc = &conf->services[i];
		if (svc->ktls == CONF_KTLS_ON) {
			snprintf(err, errlen, "%s:%d: [%s] ktls = on, but %s (use ktls = auto or off)",
				 svc->file, svc->line, svc->name, probe->why);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int load(struct runtime *prev, int n_workers, struct runtime **out, char *err,
		size_t errlen)
{
	struct ktls_probe probe;
	struct conf *conf;
	int ret;

	if (conf_reload(relay.config_path, relay.foreground_flag, prev ? prev->conf : NULL, &conf,
			err, errlen) < 0)
		return -EINVAL;
	/* The kernel is probed once per process: a reload keeps what start-up found (and the
	 * probe's test sockets do not add to /proc/net/tls_stat again). */
	if (prev)
		probe = prev->probe;
	else
		ktls_probe(&probe);
	ret = check_ktls_on(conf, &probe, err, errlen);
	if (ret < 0) {
		conf_free(conf);
		return ret;
	}
	ret = runtime_create(conf, prev, n_workers, relay.keylog_fd, out, err, errlen);
	if (ret == 0)
		(*out)->probe = probe;
	return ret;
}

static void log_services(const struct runtime *rt)
{
	for (size_t i = 0; i < rt->n_services; i++) {
		const struct conf_service *svc = rt->services[i].conf;
		relay_log(LOG_NOTICE, "[%s] listening on %s (%s mode, connect %s:%s%s)", svc->name,
			  svc->accept.text, svc->client ? "client" : "server",
			  svc->connect[0].host, svc->connect[0].port,
			  svc->n_connect > 1 ? " and more" : "");
		/* stunnel's default allows TLS 1.2 too: say so once, for whoever expects 1.3 only */
		if (conf_service_allows_version(svc, TLS1_2_VERSION))
			relay_log(LOG_NOTICE, "[%s] allows TLS 1.2 (sslVersion = TLSv1.3 refuses it)",
				  svc->name);
	}
}

/* The main thread waits for the workers by polling a flag they set: it has nothing else to do,
 * and a reload or stop happens seldom. Bounded, so a stuck worker cannot hang it. */
static bool workers_switched(void)
{
	return atomic_load(&relay.switched) >= relay.n_workers;
}

static bool workers_stopped_accepting(void)
{
	for (int i = 0; i < relay.n_workers; i++)
		if (!atomic_load(&relay.workers[i].accepts_gone))
			return false;
	return true;
}

static void wait_for_workers(bool (*done)(void))
{
	double deadline = worker_clock() + SWITCH_WAIT_SECONDS;

	while (!done() && worker_clock() < deadline) {
		struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static void reload(void)
{
	struct runtime *next, *old = relay.rt;
	char err[1024];

	notify_reloading(relay.notify_fd);
	if (load(old, relay.n_workers, &next, err, sizeof(err)) < 0) {
		relay_log(LOG_ERR, "reload refused, keeping the running configuration: %s", err);
		notify_send(relay.notify_fd, "READY=1\nSTATUS=reload refused: %s", err);
		metrics_reloaded(relay.metrics, false);
		return;
	}
	if (log_configure(next->conf, next->conf->foreground == CONF_FOREGROUND_YES, err,
			  sizeof(err)) < 0)
		relay_log(LOG_ERR, "reload: %s", err);
	atomic_store(&relay.switched, 0);
	for (int i = 0; i < relay.n_workers; i++) {
		runtime_get(next);
		atomic_store(&relay.workers[i].next_rt, next);
		worker_wake(&relay.workers[i]);
	}
	/* Old listening sockets close only once no worker accepts on them. */
	wait_for_workers(workers_switched);
	runtime_release_listeners(old);
	runtime_put(old);
	relay.rt = next;
	metrics_set_runtime(relay.metrics, next);
	metrics_reloaded(relay.metrics, true);
	relay_log(LOG_NOTICE, "configuration reloaded from %s", relay.config_path);
	log_services(next);
	notify_send(relay.notify_fd, "READY=1\nSTATUS=serving %zu service%s (reloaded)",
		    next->n_services, next->n_services == 1 ? "" : "s");
}

static void stop(void)
{
	relay_log(LOG_NOTICE, "stopping: no new connections; live ones may finish");
	notify_send(relay.notify_fd, "STOPPING=1");
	metrics_stopping(relay.metrics);
	for (int i = 0; i < relay.n_workers; i++) {
		atomic_store(&relay.workers[i].stop, true);
		worker_wake(&relay.workers[i]);
	}
	/* Close the listening sockets as soon as no worker accepts on them, so new clients are
	 * refused at once instead of waiting in the backlog while live transfers drain. */
	wait_for_workers(workers_stopped_accepting);
	runtime_release_listeners(relay.rt);
	for (int i = 0; i < relay.n_workers; i++)
		worker_join(&relay.workers[i]);
}

static int serve(void)
{
	char err[1200];
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (;;) {
		sig = sigwaitinfo(&set, NULL);
		if (sig == SIGHUP)
			reload();
		else if (sig == SIGUSR1 && log_reopen(err, sizeof(err)) < 0)
			relay_log(LOG_ERR, "%s", err);
		else if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	stop();
	return 0;
}

static int start_workers(void)
{
	sigset_t all;
	int ret;

	relay.workers = calloc(relay.n_workers, sizeof(*relay.workers));
	if (!relay.workers)
		return -ENOMEM;
	/* Workers never take signals: the main thread waits for them with sigwaitinfo. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (int i = 0; i < relay.n_workers; i++) {
		ret = worker_start(&relay.workers[i], i, relay.rt, &relay.next_conn_id,
				   &relay.switched, conn_accepted);
		if (ret < 0) {
			relay.n_workers = i;
			return ret;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"foreground", no_argument, NULL, 'f'}, {"check", no_argument, NULL, 'c'},
		{"version", no_argument, NULL, 'V'},    {"help", no_argument, NULL, 'h'},
		/* The README's option table is this output (a test keeps them equal). */
		{"options-markdown", no_argument, NULL, 'M'},
		/* The README's metric list is this output (a test keeps them equal). */
		{"metrics-list", no_argument, NULL, 'L'}, {NULL, 0, NULL, 0},
	};
	bool check = false;
	char err[1024];
	int opt, ready_fd = -1, ret;
	long cpus;

	while ((opt = getopt_long(argc, argv, "fcVh", options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			relay.foreground_flag = true;
			break;
		case 'c':
			check = true;
			break;
		case 'V':
			print_version();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'M':
			conf_print_options(CONF_HELP_MARKDOWN, stdout);
			return 0;
		case 'L':
			metrics_print_list(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "ktlsrelay: one configuration file at most\n");
		return 2;
	}
	relay.config_path = optind < argc ? argv[optind] : DEFAULT_CONFIG;
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
	atomic_init(&relay.next_conn_id, 1);
	signal(SIGPIPE, SIG_IGN);

	if (check) {
		if (load(NULL, 0, &relay.rt, err, sizeof(err)) < 0) {
			fprintf(stderr, "ktlsrelay: %s\n", err);
			return 1;
		}
		printf("%s: configuration OK (%zu service%s)\n", relay.config_path,
		       relay.rt->n_services, relay.rt->n_services == 1 ? "" : "s");
		runtime_put(relay.rt);
		return 0;
	}

	/* The convention of browsers and curl: honoured only when set, opened before the chroot. */
	if (getenv("SSLKEYLOGFILE") && *getenv("SSLKEYLOGFILE")) {
		relay.keylog_fd = open(getenv("SSLKEYLOGFILE"),
				       O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (relay.keylog_fd < 0) {
			fprintf(stderr, "ktlsrelay: SSLKEYLOGFILE=%s: %s\n", getenv("SSLKEYLOGFILE"),
				strerror(errno));
			return 1;
		}
	}
	/* Connected now: after the chroot its path could not be reached. */
	if (notify_open(&relay.notify_fd, err, sizeof(err)) < 0) {
		fprintf(stderr, "ktlsrelay: %s\n", err);
		return 1;
	}
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	/* The number of workers is fixed at start: each listener has one socket per worker. */
	{
		struct conf *peek;
		if (conf_load(relay.config_path, relay.foreground_flag, &peek, err, sizeof(err)) <
		    0) {
			fprintf(stderr, "ktlsrelay: %s\n", err);
			return 1;
		}
		relay.n_workers = peek->workers > 0 ? peek->workers : (cpus > 0 ? cpus : 1);
		conf_free(peek);
	}
	if (load(NULL, relay.n_workers, &relay.rt, err, sizeof(err)) < 0) {
		fprintf(stderr, "ktlsrelay: %s\n", err);
		return 1;
	}
	if (log_configure(relay.rt->conf, relay.rt->conf->foreground == CONF_FOREGROUND_YES, err,
			  sizeof(err)) < 0) {
		fprintf(stderr, "ktlsrelay: %s\n", err);
		return 1;
	}
	/* The metrics socket and /proc/net/tls_stat: as root, before the chroot. */
	if (metrics_open(&relay.rt->conf->metrics, &relay.metrics, err, sizeof(err)) < 0) {
		relay_log(LOG_ERR, "start-up failed: %s", err);
		fprintf(stderr, "ktlsrelay: %s\n", err);
		return 1;
	}
	if (relay.keylog_fd >= 0)
		relay_log(LOG_WARNING,
			  "SSLKEYLOGFILE=%s: the TLS secrets of every connection are written there; "
			  "anyone who can read it can decrypt the traffic (for debugging only)",
			  getenv("SSLKEYLOGFILE"));
	if (relay.rt->conf->foreground == CONF_FOREGROUND_NO) {
		ready_fd = privileges_daemonize(err, sizeof(err));
		if (ready_fd < 0) {
			fprintf(stderr, "ktlsrelay: %s\n", err);
			return 1;
		}
	}
	/* start_workers() says nothing in err: a failure there must not print an earlier
	 * message (or an uninitialised buffer). */
	err[0] = '\0';
	ret = privileges_drop(relay.rt->conf, err, sizeof(err));
	if (ret == 0)
		ret = start_workers();
	/* After any fork (daemonize): a thread does not survive one. */
	if (ret == 0)
		ret = metrics_start(relay.metrics, relay.rt, relay.n_workers, err, sizeof(err));
	if (ret < 0) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-ret));
		relay_log(LOG_ERR, "start-up failed: %s", err);
		fprintf(stderr, "ktlsrelay: %s\n", err);
		privileges_ready(ready_fd, 1);
		return 1;
	}
	ktls_probe_format(&relay.rt->probe, err, sizeof(err));
	relay_log(LOG_NOTICE, "ktlsrelay %s started: %d worker%s; %s", KTLSRELAY_VERSION,
		  relay.n_workers, relay.n_workers == 1 ? "" : "s", err);
	log_services(relay.rt);
	privileges_ready(ready_fd, 0);
	/* Every listener is open (runtime_create), privileges are dropped, workers accept. */
	notify_send(relay.notify_fd, "READY=1\nSTATUS=serving %zu service%s", relay.rt->n_services,
		    relay.rt->n_services == 1 ? "" : "s");

	ret = serve();
	metrics_stop(relay.metrics);
	runtime_release_listeners(relay.rt);
	privileges_remove_pid(relay.rt->conf);
	runtime_put(relay.rt);
	free(relay.workers);
	if (relay.keylog_fd >= 0)
		close(relay.keylog_fd);
	notify_close(relay.notify_fd);
	relay_log(LOG_NOTICE, "stopped");
	log_close();
	return ret;
}
