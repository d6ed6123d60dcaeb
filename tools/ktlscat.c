/* ktlscat - a bulk-transfer endpoint over kernel TLS.
 *
 *   ktlscat send FILE HOST:PORT [options]	TLS client: sendfile() FILE into the kTLS socket
 *   ktlscat recv [HOST:]PORT FILE [options]	TLS server: one transfer, splice() into FILE
 *
 * OpenSSL does the TLS 1.3 handshake, ktls/ hands the keys to the kernel, and the payload never
 * enters user space; where the kernel cannot take the keys the transfer runs through OpenSSL
 * and the summary says why. The SHA-256 in the summary is computed from the file after the
 * transfer, apart from the data path, so that hashing costs no copy during the transfer.
 * Exit: 0 the whole file went through and the sender's close_notify closed it; 1 otherwise. */
#include "ktlscat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ktlscat send FILE HOST:PORT [options]\n"
	    "       ktlscat recv [HOST:]PORT FILE [options]\n"
	    "options (the relay's certificate options, same meaning):\n"
	    "  --cert PEM          certificate chain and key (required to recv)\n"
	    "  --key PEM           private key, when not in --cert\n"
	    "  --CAfile FILE       trusted certificates for --verify\n"
	    "  --verify LEVEL      0 request a peer certificate, 1 verify it if present,\n"
	    "                      2 require and verify the chain, 3 chain and peer, 4 peer only\n"
	    "  --check-host HOST   accept only a peer certificate for HOST (needs --verify 2..4)\n"
	    "  --ciphersuites LIST TLS 1.3 suites, colon separated\n"
	    "  --ktls auto|on|off  auto: kernel TLS when the kernel can, else OpenSSL (default);\n"
	    "                      on: fail rather than fall back; off: always OpenSSL\n"
	    "  --timeout SECS      fail when nothing moves for SECS (default 60)\n"
	    "  --wait SECS         send: wait this long for the peer's close (default 30)\n"
	    "  --no-progress       no progress bar (there is none unless stderr is a terminal)\n"
	    "  --no-hash           no SHA-256 of the file in the summary\n");
}

/* "HOST:PORT", "[V6]:PORT", or (listen only) "PORT". */
static int split_addr(const char *arg, bool passive, char *host, size_t hlen, char *port,
		      size_t plen)
{
	const char *colon = strrchr(arg, ':');

	host[0] = '\0';
	if (!colon) {
		if (!passive)
			return -EINVAL;
		snprintf(port, plen, "%s", arg);
		return 0;
	}
	if (arg[0] == '[' && colon > arg && colon[-1] == ']')
		snprintf(host, hlen, "%.*s", (int)(colon - arg - 2), arg + 1);
	else
		snprintf(host, hlen, "%.*s", (int)(colon - arg), arg);
	snprintf(port, plen, "%s", colon + 1);
	return port[0] ? 0 : -EINVAL;
}

static int open_socket(const char *arg, bool passive, char *why, size_t whylen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
	char host[256], port[32];
	int fd = -1, one = 1, zero = 0, ret;

	if (split_addr(arg, passive, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(why, whylen, "bad address %s: %s", arg,
			 passive ? "[HOST:]PORT" : "HOST:PORT");
		return -EINVAL;
	}
	if (passive && !host[0]) {
		/* A bare port listens on every IPv6 and IPv4 address, as the relay's accept. */
		hints.ai_family = AF_INET6;
		hints.ai_flags = AI_PASSIVE;
	}
	ret = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (ret) {
		snprintf(why, whylen, "%s: %s", arg, gai_strerror(ret));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (passive) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0)
				break;
		} else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			break;
		}
		snprintf(why, whylen, "%s %s: %s", passive ? "listen on" : "connect to", arg,
			 strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd < 0 ? -ECONNREFUSED : fd;
}

static void peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
				  sizeof(host));
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
				  sizeof(host));
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
	}
	snprintf(buf, len, "%s:%d", host, port);
}

/* SHA-256 of the file as it now is (from the page cache): run after the transfer, not in its
 * data path. */
static int file_sha256(const char *path, char *hex, size_t hexlen)
{
	static unsigned char buf[1 << 20];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0 || !c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		ret = -EIO;
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(c, buf, n);
	if (n < 0 || EVP_DigestFinal_ex(c, md, &mdlen) != 1) {
		ret = -EIO;
		goto out;
	}
	for (unsigned i = 0; i < mdlen && 2 * i + 2 < hexlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(c);
	return ret;
}

static int parse_opts(int argc, char **argv, struct ktlscat_opts *o)
{
	static const struct option lo[] = {
	    {"cert", 1, 0, 'c'},
	    {"key", 1, 0, 'k'},
	    {"CAfile", 1, 0, 'A'},
	    {"verify", 1, 0, 'v'},
	    {"check-host", 1, 0, 'H'},
	    {"ciphersuites", 1, 0, 's'},
	    {"ktls", 1, 0, 'K'},
	    {"timeout", 1, 0, 't'},
	    {"wait", 1, 0, 'w'},
	    {"no-progress", 0, 0, 'P'},
	    {"no-hash", 0, 0, 'N'},
	    {"help", 0, 0, 'h'},
	    {0, 0, 0, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->cert = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'A':
			o->ca_file = optarg;
			break;
		case 'v':
			o->verify = atoi(optarg);
			if (o->verify < 0 || o->verify > 4 || !strchr("01234", optarg[0]) ||
			    optarg[1]) {
				fprintf(stderr, "ktlscat: --verify takes 0..4\n");
				return -EINVAL;
			}
			break;
		case 'H':
			o->check_host = optarg;
			break;
		case 's':
			o->ciphersuites = optarg;
			break;
		case 'K':
			if (!strcmp(optarg, "auto"))
				o->ktls = KTLSCAT_AUTO;
			else if (!strcmp(optarg, "on"))
				o->ktls = KTLSCAT_ON;
			else if (!strcmp(optarg, "off"))
				o->ktls = KTLSCAT_OFF;
			else {
				fprintf(stderr, "ktlscat: --ktls takes auto, on or off\n");
				return -EINVAL;
			}
			break;
		case 't':
			o->timeout_s = atoi(optarg);
			break;
		case 'w':
			o->wait_s = atoi(optarg);
			break;
		case 'P':
			o->progress = false;
			break;
		case 'N':
			o->hash = false;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (argc - optind != 3 || (strcmp(argv[optind], "send") && strcmp(argv[optind], "recv"))) {
		usage(stderr);
		return -EINVAL;
	}
	o->send = !strcmp(argv[optind], "send");
	o->file = argv[optind + (o->send ? 1 : 2)];
	o->addr = argv[optind + (o->send ? 2 : 1)];
	if (!o->send && !o->cert) {
		fprintf(stderr, "ktlscat: recv needs --cert (the server's certificate and key)\n");
		return -EINVAL;
	}
	if (o->timeout_s <= 0 || o->wait_s < 0) {
		fprintf(stderr, "ktlscat: --timeout must be positive, --wait not negative\n");
		return -EINVAL;
	}
	return 0;
}

/* The connected (send) or accepted (recv) TCP socket, with the stall timeout on both ways. */
static int connection(const struct ktlscat_opts *o, char *why, size_t whylen)
{
	struct timeval tv = {.tv_sec = o->timeout_s};
	char peer[80];
	int fd, lfd;

	fd = open_socket(o->addr, !o->send, why, whylen);
	if (fd < 0 || o->send)
		goto out;
	lfd = fd;
	fprintf(stderr, "ktlscat: listening on %s\n", o->addr);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "accept: %s", strerror(errno));
		fd = -errno;
	}
	close(lfd);
	if (fd < 0)
		return fd;
	peer_name(fd, peer, sizeof(peer));
	fprintf(stderr, "ktlscat: connection from %s\n", peer);
out:
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

/* The SNI to send: the host of HOST:PORT unless it is an address. */
static void sni_of(const char *addr, char *sni, size_t len)
{
	char port[32];
	struct in6_addr a6;
	struct in_addr a4;

	if (split_addr(addr, false, sni, len, port, sizeof(port)) < 0 ||
	    inet_pton(AF_INET, sni, &a4) == 1 || inet_pton(AF_INET6, sni, &a6) == 1)
		sni[0] = '\0';
}

int main(int argc, char **argv)
{
	struct ktlscat_opts o = {
	    .verify = -1, .timeout_s = 60, .wait_s = 30, .hash = true, .progress = true};
	struct ktlscat_progress progress;
	struct ktlscat_xfer x = {.fd = -1, .file = -1, .progress = &progress};
	struct ktls_offload off = {0};
	enum ktlscat_result res = KTLSCAT_ERROR;
	char why[256] = "", fallback[256] = "", sni[256], hex[65] = "", cipher[64] = "-";
	const char *mode = o.send ? "send" : "recv", *version = "-";
	SSL_CTX *ctx = NULL;
	struct stat st;
	double t0, secs;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	if (parse_opts(argc, argv, &o) < 0)
		return 1;
	mode = o.send ? "send" : "recv";
	x.file = o.send ? open(o.file, O_RDONLY | O_CLOEXEC)
			: open(o.file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (x.file < 0 || fstat(x.file, &st) < 0) {
		snprintf(why, sizeof(why), "%s: %s", o.file, strerror(errno));
		goto out;
	}
	if (o.send && !S_ISREG(st.st_mode)) {
		snprintf(why, sizeof(why), "%s: not a regular file (sendfile needs one)", o.file);
		goto out;
	}
	x.size = o.send ? (uint64_t)st.st_size : 0;
	ret = ktlscat_ctx_new(&o, &ctx, why, sizeof(why));
	if (ret < 0)
		goto out;
	x.fd = connection(&o, why, sizeof(why));
	if (x.fd < 0)
		goto out;
	sni_of(o.addr, sni, sizeof(sni));
	ret = ktlscat_handshake(ctx, x.fd, !o.send, o.send && sni[0] ? sni : NULL, &x.ssl, why,
				sizeof(why));
	if (ret < 0)
		goto out;
	version = SSL_get_version(x.ssl);
	snprintf(cipher, sizeof(cipher), "%s",
		 SSL_CIPHER_standard_name(SSL_get_current_cipher(x.ssl)));
	if (o.ktls == KTLSCAT_OFF) {
		snprintf(fallback, sizeof(fallback), "--ktls off");
	} else {
		ret = ktls_ssl_offload(x.ssl, x.fd, 0, &off, fallback, sizeof(fallback));
		if (ret < 0 && (off.tx != KTLS_USER || off.rx != KTLS_USER)) {
			snprintf(why, sizeof(why), "half offloaded, cannot go on: %s", fallback);
			goto out;
		}
		if (ret < 0 && o.ktls == KTLSCAT_ON) {
			snprintf(why, sizeof(why),
				 "--ktls on, but the kernel cannot take the keys: %s", fallback);
			goto out;
		}
		if (ret == 0) {
			/* OpenSSL must not touch the socket any more; its key copies go now. */
			SSL_free(x.ssl);
			x.ssl = NULL;
		}
	}
	t0 = ktlscat_now();
	ktlscat_progress_start(&progress, o.progress && isatty(STDERR_FILENO), x.size);
	if (o.send)
		res = x.ssl ? ktlscat_send_user(&x, o.wait_s) : ktlscat_send_kernel(&x, o.wait_s);
	else
		res = x.ssl ? ktlscat_recv_user(&x) : ktlscat_recv_kernel(&x);
	ktlscat_progress_end(&progress);
	secs = ktlscat_now() - t0;
	snprintf(why, sizeof(why), "%s", x.why);
	printf("ktlscat: %s result=%s bytes=%llu seconds=%.3f rate=%.2fMB/s version=%s cipher=%s "
	       "tx=%s rx=%s",
	       mode, ktlscat_result_name(res), (unsigned long long)x.bytes, secs,
	       secs > 0 ? x.bytes / secs / 1e6 : 0.0, version, cipher, x.ssl ? "user" : "kernel",
	       x.ssl ? "user" : "kernel");
	if (x.ssl)
		printf(" fallback=\"%s\"", fallback);
	if (res != KTLSCAT_OK)
		printf(" why=\"%s\"", why);
	printf("\n");
	if (x.note[0])
		printf("ktlscat: note: %s\n", x.note);
	if (res == KTLSCAT_OK && o.hash) {
		if (file_sha256(o.file, hex, sizeof(hex)) == 0)
			printf("ktlscat: sha256=%s file=%s (hashed from the file after the "
			       "transfer, outside the data path)\n",
			       hex, o.file);
		else
			printf("ktlscat: sha256 of %s could not be computed\n", o.file);
	}
	why[0] = '\0';
out:
	if (why[0])
		printf("ktlscat: %s result=error why=\"%s\"\n", mode, why);
	fflush(stdout);
	if (x.ssl)
		SSL_free(x.ssl);
	SSL_CTX_free(ctx);
	if (x.fd >= 0)
		close(x.fd);
	if (x.file >= 0)
		close(x.file);
	return res == KTLSCAT_OK && !why[0] ? 0 : 1;
}
