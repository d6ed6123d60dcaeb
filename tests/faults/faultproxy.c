/* faultproxy - a TCP forwarder that breaks a TLS stream on purpose, for the relay's fault tests.
 *
 * It accepts one connection on 127.0.0.1:LISTEN, connects to 127.0.0.1:CONNECT, and copies bytes
 * both ways (one blocking thread per direction). In the chosen direction it reads whole TLS
 * records (5-byte header, then the length it names) so that a fault lands on a record of its
 * own: the first record that starts at or after byte AFTER of that direction is
 *
 *   flip      forwarded with one ciphertext byte inverted (the AEAD tag must then fail:
 *             "bad record mac", RFC 8446 5.2)
 *   truncate  cut in the middle, then the stream ends (FIN) in that direction
 *   oversize  preceded by an invented application-data record whose header says 2^14 + 2048
 *             bytes, more than TLS 1.3 allows (2^14 + 256, RFC 8446 5.2: "record_overflow"),
 *             and that many random bytes
 *   dup       forwarded twice (the copy is decrypted with the next sequence number: bad MAC)
 *   drop      not forwarded (the next record then has the wrong sequence number: bad MAC)
 *   close     replaced by a forged close_notify alert in plaintext, then the stream ends (FIN):
 *             a truncation attack dressed as a clean end. After the handshake every TLS 1.3
 *             record is encrypted (RFC 8446 5: outer type application_data), so a plaintext
 *             alert must be refused, never taken for the peer's close_notify.
 *   none      forwarded unchanged (the control: the forwarder itself corrupts nothing)
 *
 * With --trickle MS the chosen direction instead forwards one byte every MS milliseconds from
 * byte AFTER on: a slowloris peer.
 *
 * A reset (or a failed write) on either side resets both: the process exits with SO_LINGER 0 on
 * both sockets, so the kernel answers with RST, as a real middlebox failure would look. An end of
 * stream is passed on as a half-close. The process exits when both directions have ended.
 *
 * Usage: faultproxy LISTEN_PORT CONNECT_PORT [--dir up|down] [--after BYTES]
 *                   [--fault none|flip|truncate|oversize|dup|drop|close] [--trickle MS]
 *   up: from the accepted connection to the connected one; down: the other way.
 * Each event goes to stderr as one line ("faultproxy: up: flip at byte 65613 ..."), so a test
 * can prove that the fault it names really happened.
 * Exit: 0 when the requested fault was injected (or none was asked for), 2 when the stream ended
 * before it could be, 1 on a usage or socket error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A TLS record is at most 2^16 - 1 bytes of body by its length field. */
#define RECORD_MAX (5 + 65535)
/* RFC 8446 5.2: TLSCiphertext.length must not exceed 2^14 + 256; this is TLS 1.2's limit. */
#define OVERSIZE_LEN (16384 + 2048)

enum fault {
	FAULT_NONE,
	FAULT_FLIP,
	FAULT_TRUNCATE,
	FAULT_OVERSIZE,
	FAULT_DUP,
	FAULT_DROP,
	FAULT_CLOSE,
};

static const char *const fault_names[] = {
    [FAULT_NONE] = "none",	   [FAULT_FLIP] = "flip", [FAULT_TRUNCATE] = "truncate",
    [FAULT_OVERSIZE] = "oversize", [FAULT_DUP] = "dup",	  [FAULT_DROP] = "drop",
    [FAULT_CLOSE] = "close",
};

struct direction {
	const char *name;
	int src, dst;
	bool faulty;
};

static int client_fd = -1, server_fd = -1;
static enum fault fault = FAULT_NONE;
static unsigned long long fault_after;
static long trickle_ms = -1;
static atomic_bool injected;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static int directions_done;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("faultproxy: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int exit_code(void)
{
	return (fault == FAULT_NONE && trickle_ms < 0) || injected ? 0 : 2;
}

/* Ends everything with a reset on both sides: closing a socket with SO_LINGER 0 sends RST. */
static void reset_both_and_exit(const struct direction *d, const char *why)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	say("%s: %s; resetting both sides", d->name, why);
	setsockopt(client_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(server_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(client_fd);
	close(server_fd);
	exit(exit_code());
}

static void write_all(const struct direction *d, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(d->dst, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			reset_both_and_exit(d, n < 0 ? strerror(errno) : "write returned 0");
		buf += n;
		len -= n;
	}
}

/* Reads up to len bytes, fewer only at the end of the stream; a read error resets both. */
static size_t read_full(const struct direction *d, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(d->src, buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			reset_both_and_exit(d, strerror(errno));
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

static void direction_end(const struct direction *d, unsigned long long bytes)
{
	say("%s: end of stream after %llu bytes; half-closing", d->name, bytes);
	shutdown(d->dst, SHUT_WR);
	pthread_mutex_lock(&done_lock);
	if (++directions_done == 2)
		exit(exit_code());
	pthread_mutex_unlock(&done_lock);
}

static void copy_plain(const struct direction *d)
{
	static __thread uint8_t buf[65536];
	unsigned long long total = 0;

	for (;;) {
		size_t n = 0;
		ssize_t r = recv(d->src, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			reset_both_and_exit(d, strerror(errno));
		if (r == 0)
			break;
		n = r;
		write_all(d, buf, n);
		total += n;
	}
	direction_end(d, total);
}

static void copy_trickle(const struct direction *d)
{
	struct timespec pause = {.tv_sec = trickle_ms / 1000,
				 .tv_nsec = (trickle_ms % 1000) * 1000000L};
	unsigned long long total = 0;
	uint8_t byte;

	for (;;) {
		if (read_full(d, &byte, 1) == 0)
			break;
		if (total >= fault_after) {
			if (!injected)
				say("%s: trickling one byte every %ld ms from byte %llu on",
				    d->name, trickle_ms, total);
			injected = true;
			nanosleep(&pause, NULL);
		}
		write_all(d, &byte, 1);
		total++;
	}
	direction_end(d, total);
}

static void copy_records(const struct direction *d)
{
	static uint8_t rec[RECORD_MAX], fake[5 + OVERSIZE_LEN];
	unsigned long long total = 0;
	size_t len, got;

	for (;;) {
		got = read_full(d, rec, 5);
		if (got < 5) {
			write_all(d, rec, got);
			total += got;
			break;
		}
		len = (size_t)rec[3] << 8 | rec[4];
		got = read_full(d, rec + 5, len);
		if (got < len) {
			say("%s: stream ended inside a record (%zu of %zu bytes)", d->name, got,
			    len);
			write_all(d, rec, 5 + got);
			total += 5 + got;
			break;
		}
		if (injected || total < fault_after) {
			write_all(d, rec, 5 + len);
			total += 5 + len;
			continue;
		}
		injected = true;
		say("%s: %s at byte %llu (record type %u, length %zu)", d->name, fault_names[fault],
		    total, rec[0], len);
		switch (fault) {
		case FAULT_NONE:
			write_all(d, rec, 5 + len);
			break;
		case FAULT_FLIP:
			/* A ciphertext byte, never the header: the AEAD must catch it. */
			rec[5 + len / 2] ^= 0xff;
			write_all(d, rec, 5 + len);
			break;
		case FAULT_TRUNCATE:
			write_all(d, rec, 5 + len / 2);
			total += 5 + len / 2;
			direction_end(d, total);
			return;
		case FAULT_OVERSIZE:
			fake[0] = 23; /* application_data, as every TLS 1.3 record looks */
			fake[1] = 3;
			fake[2] = 3;
			fake[3] = OVERSIZE_LEN >> 8;
			fake[4] = OVERSIZE_LEN & 0xff;
			for (size_t i = 5; i < sizeof(fake); i++)
				fake[i] = (uint8_t)random();
			write_all(d, fake, sizeof(fake));
			write_all(d, rec, 5 + len);
			break;
		case FAULT_DUP:
			write_all(d, rec, 5 + len);
			write_all(d, rec, 5 + len);
			break;
		case FAULT_DROP:
			break;
		case FAULT_CLOSE: {
			/* alert(21), TLS 1.2 legacy version, length 2: warning(1), close_notify(0)
			 */
			static const uint8_t close_notify[] = {21, 3, 3, 0, 2, 1, 0};
			write_all(d, close_notify, sizeof(close_notify));
			direction_end(d, total + sizeof(close_notify));
			return;
		}
		}
		total += 5 + len;
	}
	direction_end(d, total);
}

static void *run_direction(void *arg)
{
	const struct direction *d = arg;

	if (!d->faulty)
		copy_plain(d);
	else if (trickle_ms >= 0)
		copy_trickle(d);
	else
		copy_records(d);
	return NULL;
}

static int tcp_listen(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		say("listen on 127.0.0.1:%d: %s", port, strerror(errno));
		exit(1);
	}
	return fd;
}

static int tcp_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		say("connect to 127.0.0.1:%d: %s", port, strerror(errno));
		return -1;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: faultproxy LISTEN_PORT CONNECT_PORT [--dir up|down] [--after BYTES]\n"
		"                  [--fault none|flip|truncate|oversize|dup|drop|close] "
		"[--trickle MS]\n");
	exit(1);
}

static enum fault parse_fault(const char *s)
{
	for (size_t i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]); i++)
		if (!strcmp(s, fault_names[i]))
			return i;
	usage();
	return FAULT_NONE;
}

int main(int argc, char **argv)
{
	struct direction up = {.name = "up"}, down = {.name = "down"};
	bool faulty_up = true;
	pthread_t thread;
	int lfd, lport, cport;

	if (argc < 3)
		usage();
	lport = atoi(argv[1]);
	cport = atoi(argv[2]);
	for (int i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--dir"))
			faulty_up = !strcmp(argv[++i], "up");
		else if (!strcmp(argv[i], "--after"))
			fault_after = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--fault"))
			fault = parse_fault(argv[++i]);
		else if (!strcmp(argv[i], "--trickle"))
			trickle_ms = atol(argv[++i]);
		else
			usage();
	}
	srandom(time(NULL) ^ getpid());
	lfd = tcp_listen(lport);
	say("listening on 127.0.0.1:%d, forwarding to 127.0.0.1:%d; %s %s after %llu bytes", lport,
	    cport, faulty_up ? "up" : "down", trickle_ms >= 0 ? "trickle" : fault_names[fault],
	    fault_after);
	do
		client_fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (client_fd < 0 && errno == EINTR);
	if (client_fd < 0) {
		say("accept: %s", strerror(errno));
		return 1;
	}
	close(lfd);
	server_fd = tcp_connect(cport);
	if (server_fd < 0) {
		close(client_fd);
		return 1;
	}
	up = (struct direction){
	    .name = "up", .src = client_fd, .dst = server_fd, .faulty = faulty_up};
	down = (struct direction){
	    .name = "down", .src = server_fd, .dst = client_fd, .faulty = !faulty_up};
	if (pthread_create(&thread, NULL, run_direction, &down) != 0) {
		say("pthread_create failed");
		return 1;
	}
	run_direction(&up);
	pthread_join(thread, NULL);
	return exit_code();
}
