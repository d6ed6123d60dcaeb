/* ktls_smoke - proves the VM harness: kernel TLS on a loopback TCP pair, no relay code.
 *
 * Two connected sockets A and B each get the "tls" ULP, TLS_TX and TLS_RX, with one key per
 * direction as TLS 1.3 has. Two threads push a deterministic byte stream each way; the readers
 * regenerate the stream and compare every byte. With --wrong-key, B's receive key differs from
 * A's send key by one bit: the kernel must then refuse the first record (recv fails with
 * EBADMSG, the record's tag does not verify) and this program fails; the VM suite runs it so to
 * prove that a broken key install is caught.
 *
 * Usage: ktls_smoke [--cipher aes128|aes256|chacha20] [--mb N] [--wrong-key]
 * Exit: 0 when every byte arrived intact both ways, 1 otherwise (also when the kernel has no
 * TLS ULP: in the VM that is a failure, not a reason to skip).
 */
#include <errno.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../ktls/ktls_compat.h"

/* The three TLS 1.3 suites the kernel offloads; sizes and offsets from <linux/tls.h>. */
struct suite {
	const char *name;
	unsigned short cipher_type;
	size_t info_size;
	size_t key_off, key_len;
	size_t iv_off, iv_len;
	size_t salt_off, salt_len;
};

#define FIELD_SIZE(st, f) sizeof(((struct st *)0)->f)
#define SUITE(n, type, st)                                                                         \
	{                                                                                          \
		.name = n, .cipher_type = type, .info_size = sizeof(struct st),                    \
		.key_off = offsetof(struct st, key), .key_len = FIELD_SIZE(st, key),               \
		.iv_off = offsetof(struct st, iv), .iv_len = FIELD_SIZE(st, iv),                   \
		.salt_off = offsetof(struct st, salt), .salt_len = FIELD_SIZE(st, salt),           \
	}

static const struct suite suites[] = {
    SUITE("aes128", TLS_CIPHER_AES_GCM_128, tls12_crypto_info_aes_gcm_128),
    SUITE("aes256", TLS_CIPHER_AES_GCM_256, tls12_crypto_info_aes_gcm_256),
    SUITE("chacha20", TLS_CIPHER_CHACHA20_POLY1305, tls12_crypto_info_chacha20_poly1305),
};

/* Large enough for any of the structs above (chacha20: 2 + 2 + 12 + 32 + 0 + 8). */
union crypto_info {
	struct tls_crypto_info base;
	unsigned char bytes[64];
};

struct stream {
	int fd;
	int other_fd;  /* the pair's other socket, shut down with this one on a failure */
	uint64_t seed; /* the byte stream's generator seed, one per direction */
	size_t total;
	int err;       /* 0 or -errno of the failing call */
	char what[64]; /* which call failed, or which byte differed */
};

/* The key material: deterministic, different per direction, so that a mix-up of the two
 * directions' keys is caught like a wrong key. */
static void fill_info(union crypto_info *ci, const struct suite *s, unsigned char dir)
{
	memset(ci, 0, sizeof(*ci));
	ci->base.version = TLS_1_3_VERSION;
	ci->base.cipher_type = s->cipher_type;
	for (size_t i = 0; i < s->key_len; i++)
		ci->bytes[s->key_off + i] = (unsigned char)(0x10 * dir + i);
	for (size_t i = 0; i < s->iv_len; i++)
		ci->bytes[s->iv_off + i] = (unsigned char)(0xa0 + dir + i);
	for (size_t i = 0; i < s->salt_len; i++)
		ci->bytes[s->salt_off + i] = (unsigned char)(0x50 + dir + i);
	/* rec_seq stays 0: no record was sent under these keys before. */
}

static uint64_t next_word(uint64_t *x)
{
	/* xorshift64: cheap enough that the kernel's crypto dominates the run time */
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void gen(uint64_t *state, unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = next_word(state);
		memcpy(buf + i, &w, len - i < 8 ? len - i : 8);
	}
}

enum { CHUNK = 64 * 1024 }; /* a multiple of 8: gen() keeps its phase across calls */

/* Which stream failed first: that one is the cause, the others' errors follow from it. */
static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stream *first_failure;

/* After a decrypt error the kernel fails the socket's sends too, and a reader may be waiting
 * for bytes that will never come: shut the pair down so every thread returns. */
static void failed(struct stream *st, int err, const char *fmt, size_t at)
{
	st->err = err;
	snprintf(st->what, sizeof(st->what), fmt, at);
	pthread_mutex_lock(&first_lock);
	if (!first_failure)
		first_failure = st;
	pthread_mutex_unlock(&first_lock);
	shutdown(st->fd, SHUT_RDWR);
	shutdown(st->other_fd, SHUT_RDWR);
}

static void *sender(void *arg)
{
	struct stream *st = arg;
	static __thread unsigned char buf[CHUNK];
	uint64_t state = st->seed;

	for (size_t sent = 0; sent < st->total;) {
		size_t n = st->total - sent < CHUNK ? st->total - sent : CHUNK;
		gen(&state, buf, n);
		for (size_t off = 0; off < n;) {
			ssize_t r = send(st->fd, buf + off, n - off, 0);
			if (r < 0) {
				failed(st, -errno, "send at byte %zu", sent + off);
				return NULL;
			}
			off += (size_t)r;
		}
		sent += n;
	}
	return NULL;
}

static void *receiver(void *arg)
{
	struct stream *st = arg;
	static __thread unsigned char want[CHUNK], got[CHUNK];
	uint64_t state = st->seed;

	for (size_t seen = 0; seen < st->total;) {
		size_t n = st->total - seen < CHUNK ? st->total - seen : CHUNK;
		gen(&state, want, n);
		for (size_t off = 0; off < n;) {
			ssize_t r = recv(st->fd, got + off, n - off, 0);
			if (r <= 0) {
				failed(st, r < 0 ? -errno : -ECONNRESET, "recv at byte %zu",
				       seen + off);
				return NULL;
			}
			off += (size_t)r;
		}
		if (memcmp(got, want, n) != 0) {
			size_t i = 0;
			while (got[i] == want[i])
				i++;
			failed(st, -EILSEQ, "byte %zu differs", seen + i);
			return NULL;
		}
		seen += n;
	}
	return NULL;
}

static int tcp_pair(int fds[2], char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int lfd, ret = 0;

	fds[0] = fds[1] = -1;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) < 0) {
		ret = -errno;
		snprintf(err, errlen, "listen on loopback: %s", strerror(errno));
		goto out;
	}
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "connect: %s", strerror(errno));
		goto out;
	}
	fds[1] = accept(lfd, NULL, NULL);
	if (fds[1] < 0) {
		ret = -errno;
		snprintf(err, errlen, "accept: %s", strerror(errno));
	}
out:
	if (lfd >= 0)
		close(lfd);
	return ret;
}

/* The ULP, then TLS_TX with key `tx_dir` and TLS_RX with key `rx_dir`. */
static int install(int fd, const struct suite *s, unsigned char tx_dir, unsigned char rx_dir,
		   int flip_rx_bit, char *err, size_t errlen)
{
	union crypto_info tx, rx;
	int ret = 0;

	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")) < 0) {
		ret = -errno;
		snprintf(err, errlen, "TCP_ULP tls: %s%s", strerror(errno),
			 errno == ENOENT ? " (this kernel has no kTLS: run in tests/vm/run)" : "");
		goto out;
	}
	fill_info(&tx, s, tx_dir);
	fill_info(&rx, s, rx_dir);
	if (flip_rx_bit)
		rx.bytes[s->key_off] ^= 0x01;
	if (setsockopt(fd, SOL_TLS, TLS_TX, &tx, (socklen_t)s->info_size) < 0) {
		ret = -errno;
		snprintf(err, errlen, "TLS_TX %s: %s", s->name, strerror(errno));
		goto out;
	}
	if (setsockopt(fd, SOL_TLS, TLS_RX, &rx, (socklen_t)s->info_size) < 0) {
		ret = -errno;
		snprintf(err, errlen, "TLS_RX %s: %s", s->name, strerror(errno));
	}
out:
	return ret;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ktls_smoke [--cipher aes128|aes256|chacha20] [--mb N] [--wrong-key]\n");
}

int main(int argc, char **argv)
{
	const struct suite *s = &suites[0];
	size_t mb = 8;
	int wrong_key = 0, fds[2] = {-1, -1}, ret = 1;
	char err[160] = "";
	struct stream ab, ba, ab_rx, ba_rx;
	pthread_t t[4];
	struct timespec t0, t1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--wrong-key")) {
			wrong_key = 1;
		} else if (!strcmp(argv[i], "--mb") && i + 1 < argc) {
			mb = strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--cipher") && i + 1 < argc) {
			const char *name = argv[++i];
			s = NULL;
			for (size_t j = 0; j < sizeof(suites) / sizeof(suites[0]); j++)
				if (!strcmp(suites[j].name, name))
					s = &suites[j];
			if (!s) {
				usage();
				return 2;
			}
		} else {
			usage();
			return 2;
		}
	}
	/* After a failed receive we close B while A's sender may still be writing. */
	signal(SIGPIPE, SIG_IGN);

	if (tcp_pair(fds, err, sizeof(err)) < 0)
		goto out;
	/* Direction 1 is A to B, direction 2 is B to A. */
	if (install(fds[0], s, 1, 2, 0, err, sizeof(err)) < 0 ||
	    install(fds[1], s, 2, 1, wrong_key, err, sizeof(err)) < 0)
		goto out;

	ab = (struct stream){
	    .fd = fds[0], .other_fd = fds[1], .seed = 0x9e3779b97f4a7c15ull, .total = mb << 20};
	ba = (struct stream){
	    .fd = fds[1], .other_fd = fds[0], .seed = 0xd1b54a32d192ed03ull, .total = mb << 20};
	ab_rx = ab;
	ab_rx.fd = fds[1];
	ab_rx.other_fd = fds[0];
	ba_rx = ba;
	ba_rx.fd = fds[0];
	ba_rx.other_fd = fds[1];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&t[0], NULL, sender, &ab);
	pthread_create(&t[1], NULL, sender, &ba);
	pthread_create(&t[2], NULL, receiver, &ab_rx);
	pthread_create(&t[3], NULL, receiver, &ba_rx);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	if (first_failure) {
		struct stream *f = first_failure;
		snprintf(err, sizeof(err), "%s %s: %s%s", f->seed == ab.seed ? "A->B" : "B->A",
			 f->what, strerror(-f->err),
			 f->err == -EBADMSG ? " (EBADMSG: a record did not authenticate)" : "");
		goto out;
	}
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("ktls_smoke: %s: %zu MiB each way intact in %.2f s (%.1f MiB/s per direction)\n",
	       s->name, mb, secs, secs > 0 ? (double)mb / secs : 0.0);
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "ktls_smoke: %s%s: %s\n", s->name, wrong_key ? " --wrong-key" : "",
			err);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ret;
}
