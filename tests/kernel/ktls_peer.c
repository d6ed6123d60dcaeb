/* ktls_peer - one end of a kTLS test connection: TLS handshake with OpenSSL, hand-over to the
 * kernel with ktls/, then a file sent and one received through the kernel's TLS, the peer being
 * a real program (openssl s_server / s_client). Runs in the VM (tests/kernel/k_*.sh).
 *
 *   ktls_peer (--connect PORT | --listen PORT [--ready FILE] --cert PEM --key PEM)
 *             [--tls12] [--suite NAME] [--send FILE] [--recv FILE] [--expect BYTES]
 *             [--break-seq tx|rx] [--no-pad] [--handshake HEX]
 *
 * --suite is a TLS 1.3 ciphersuite, or with --tls12 an OpenSSL cipher list. --expect: bytes to
 * receive before sending close_notify (otherwise: until the peer's close_notify, then ours).
 * --break-seq installs that direction's key with a record number off by one: the transfer must then
 * fail. --handshake: once everything is sent, one handshake record with this body (hex) through
 * the kernel, e.g. a malformed KeyUpdate "1800000102"; then it reads on. Exit: 0 done, 1 error, 2
 * the kernel reported EBADMSG (a record failed authentication), 3 the peer sent a KeyUpdate, 4
 * offload refused, 5 the peer sent an alert (other than close_notify). Prints "offload: ...",
 * "state: ...", "records: ..." and "done: ..." lines on stdout. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ktls.h"

struct opts {
	int connect_port, listen_port;
	const char *ready, *cert, *key, *suite, *send, *recv, *break_seq, *handshake;
	long long expect;
	bool tls12, no_pad;
};

static int die(const char *what)
{
	fprintf(stderr, "ktls_peer: %s: %s\n", what, strerror(errno));
	ERR_print_errors_fp(stderr);
	exit(1);
}

static int tcp_connect(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd, i;

	/* The peer may still be starting: retry for ten seconds. */
	for (i = 0; i < 100; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return fd;
		close(fd);
		usleep(100000);
	}
	return die("connect");
}

static int tcp_accept(int port, const char *ready)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int lfd, fd, one = 1;
	FILE *f;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 1) < 0)
		die("listen");
	if (ready) {
		f = fopen(ready, "w");
		if (!f)
			die(ready);
		fclose(f);
	}
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	close(lfd);
	return fd;
}

static SSL *tls_handshake(const struct opts *o, int fd)
{
	SSL_CTX *ctx = SSL_CTX_new(o->listen_port ? TLS_server_method() : TLS_client_method());
	int version = o->tls12 ? TLS1_2_VERSION : TLS1_3_VERSION;
	char why[256];
	SSL *ssl;

	if (!ctx)
		die("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, version);
	SSL_CTX_set_max_proto_version(ctx, version);
	if (o->suite && ((o->tls12 && !SSL_CTX_set_cipher_list(ctx, o->suite)) ||
			 (!o->tls12 && !SSL_CTX_set_ciphersuites(ctx, o->suite))))
		die("cipher suite");
	if (o->listen_port && (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
			       SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1))
		die("certificate");
	if (ktls_ssl_ctx_prepare(ctx, why, sizeof(why)) < 0) {
		fprintf(stderr, "ktls_peer: %s\n", why);
		exit(1);
	}
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd))
		die("SSL_new");
	if (ktls_ssl_attach(ssl, why, sizeof(why)) < 0) {
		fprintf(stderr, "ktls_peer: %s\n", why);
		exit(1);
	}
	if (o->listen_port)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	if (SSL_do_handshake(ssl) != 1)
		die("handshake");
	return ssl;
}

static void offload(const struct opts *o, SSL *ssl, int fd)
{
	unsigned flags = o->no_pad ? KTLS_OFFLOAD_RX_NO_PAD : 0;
	struct ktls_crypto tx, rx;
	struct ktls_offload off;
	struct ktls_state st;
	char why[256] = "", line[256];
	int ret;

	if (!o->break_seq) {
		ret = ktls_ssl_offload(ssl, fd, flags, &off, why, sizeof(why));
	} else {
		/* The deliberately broken install: same keys, one direction one record off. */
		ret = ktls_ssl_export(ssl, &tx, &rx, why, sizeof(why));
		if (ret == 0) {
			if (!strcmp(o->break_seq, "rx"))
				ktls_crypto_set_seq(&rx, rx.seq + 1);
			else
				ktls_crypto_set_seq(&tx, tx.seq + 1);
			ret = ktls_install(fd, &tx, &rx, flags, &off, why, sizeof(why));
		}
		ktls_crypto_wipe(&tx);
		ktls_crypto_wipe(&rx);
	}
	if (ret < 0) {
		printf("offload: refused: %s\n", why);
		exit(4);
	}
	printf("offload: %s %s tx_seq=%llu rx_seq=%llu\n", SSL_get_version(ssl), off.cipher->iana,
	       (unsigned long long)off.tx_seq, (unsigned long long)off.rx_seq);
	if (ktls_socket_state(fd, &st) < 0)
		die("ktls_socket_state");
	ktls_state_format(&st, line, sizeof(line));
	printf("state: %s\n", line);
	fflush(stdout);
}

struct counts {
	long long sent, received;
	unsigned tickets, records;
	bool peer_closed;
};

/* One record from the kernel: data goes to out, control records are classified. */
static int read_one(int fd, int out, struct counts *c)
{
	static uint8_t buf[KTLS_RECORD_MAX];
	struct ktls_record_info ri;
	char what[128];
	uint8_t type;
	ssize_t n;

	n = ktls_recv_record(fd, &type, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == -EAGAIN)
		return 0;
	if (n == -EBADMSG) {
		printf("records: recv failed: EBADMSG (record authentication failed)\n");
		exit(2);
	}
	if (n < 0) {
		errno = -n;
		die("recv");
	}
	if (n == 0) {
		c->peer_closed = true;
		return 0;
	}
	ktls_record_classify(type, buf, n, &ri);
	if (ri.kind == KTLS_REC_DATA) {
		if (out >= 0 && write(out, buf, n) != n)
			die("write");
		c->received += n;
		c->records++;
		return 0;
	}
	ktls_record_format(&ri, what, sizeof(what));
	printf("records: control record: %s\n", what);
	if (ri.kind == KTLS_REC_NEW_SESSION_TICKET) {
		c->tickets += ri.hs_count;
		return 0;
	}
	if (ri.kind == KTLS_REC_CLOSE_NOTIFY) {
		c->peer_closed = true;
		return 0;
	}
	exit(ri.kind == KTLS_REC_KEY_UPDATE ? 3 : ri.kind == KTLS_REC_ALERT ? 5 : 1);
}

/* --handshake HEX: one handshake record of these bytes, sent through the kernel. */
static void send_handshake(const char *hex, int fd)
{
	uint8_t body[256];
	size_t n = 0;
	int ret;

	for (; hex[0] && hex[1] && n < sizeof(body); hex += 2) {
		if (sscanf(hex, "%2hhx", &body[n]) != 1)
			break;
		n++;
	}
	ret = ktls_send_record(fd, KTLS_RT_HANDSHAKE, body, n);
	if (ret < 0) {
		errno = -ret;
		die("sending the handshake record");
	}
	printf("records: sent a handshake record of %zu bytes\n", n);
	fflush(stdout);
}

static void transfer(const struct opts *o, int fd)
{
	int in = o->send ? open(o->send, O_RDONLY) : -1;
	int out = o->recv ? open(o->recv, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
	static char chunk[65536];
	size_t have = 0, off = 0;
	bool eof = in < 0, closed = false, handshake_sent = !o->handshake;
	struct counts c = {0};
	struct pollfd pfd = {.fd = fd};
	ssize_t n;

	if ((o->send && in < 0) || (o->recv && out < 0))
		die("open");
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (!c.peer_closed && !(closed && o->expect >= 0 && c.received >= o->expect)) {
		if (!eof && off == have) {
			n = read(in, chunk, sizeof(chunk));
			if (n < 0)
				die("read");
			eof = n == 0;
			have = n;
			off = 0;
		}
		if (eof && off == have && !handshake_sent) {
			/* A relay resets its plaintext side at a bad record, and a reset drops
			 * what its reader has not read yet: let the bytes before it get there. */
			sleep(1);
			send_handshake(o->handshake, fd);
			handshake_sent = true;
		}
		if (eof && !closed && o->expect >= 0 && c.received >= o->expect) {
			/* All sent and all expected received: say goodbye through the kernel. */
			if (ktls_send_close_notify(fd) < 0)
				die("close_notify");
			closed = true;
			continue;
		}
		pfd.events = POLLIN | (off < have ? POLLOUT : 0);
		if (poll(&pfd, 1, 10000) <= 0)
			die("poll (stalled 10 s)");
		if (pfd.revents & POLLOUT) {
			n = send(fd, chunk + off, have - off, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN)
				die("send");
			if (n > 0) {
				off += n;
				c.sent += n;
			}
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			read_one(fd, out, &c);
	}
	/* Without --expect the peer ends the connection; answer its close_notify (RFC 8446 §6.1).
	 */
	n = closed ? 0 : ktls_send_close_notify(fd);
	if (n < 0 && n != -EPIPE && n != -ECONNRESET) {
		errno = -n;
		die("close_notify");
	}
	printf("done: sent=%lld received=%lld data_records=%u tickets=%u peer_close=%s\n", c.sent,
	       c.received, c.records, c.tickets, c.peer_closed ? "yes" : "no");
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"connect", 1, 0, 'c'}, {"listen", 1, 0, 'l'},    {"ready", 1, 0, 'r'},
	    {"cert", 1, 0, 'C'},    {"key", 1, 0, 'K'},	      {"suite", 1, 0, 's'},
	    {"send", 1, 0, 'S'},    {"recv", 1, 0, 'R'},      {"expect", 1, 0, 'e'},
	    {"tls12", 0, 0, '2'},   {"break-seq", 1, 0, 'b'}, {"no-pad", 0, 0, 'n'},
	    {"handshake", 1, 0, 'H'}, {0, 0, 0, 0},
	};
	struct opts o = {.expect = -1};
	int ch, fd;
	SSL *ssl;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.connect_port = atoi(optarg);
			break;
		case 'l':
			o.listen_port = atoi(optarg);
			break;
		case 'r':
			o.ready = optarg;
			break;
		case 'C':
			o.cert = optarg;
			break;
		case 'K':
			o.key = optarg;
			break;
		case 's':
			o.suite = optarg;
			break;
		case 'S':
			o.send = optarg;
			break;
		case 'R':
			o.recv = optarg;
			break;
		case 'e':
			o.expect = atoll(optarg);
			break;
		case '2':
			o.tls12 = true;
			break;
		case 'b':
			o.break_seq = optarg;
			break;
		case 'n':
			o.no_pad = true;
			break;
		case 'H':
			o.handshake = optarg;
			break;
		default:
			fprintf(stderr, "ktls_peer: bad arguments\n");
			return 1;
		}
	}
	if (!o.connect_port == !o.listen_port) {
		fprintf(stderr, "ktls_peer: one of --connect or --listen\n");
		return 1;
	}
	fd = o.connect_port ? tcp_connect(o.connect_port) : tcp_accept(o.listen_port, o.ready);
	ssl = tls_handshake(&o, fd);
	offload(&o, ssl, fd);
	/* OpenSSL keeps its own copy of the keys until SSL_free: not needed any more. */
	SSL_free(ssl);
	transfer(&o, fd);
	close(fd);
	return 0;
}
