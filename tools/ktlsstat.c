/* ktlsstat - lists the TCP sockets that carry the kernel's TLS ULP, as the kernel itself reports
 * them (sock_diag), with the owning process, TLS version, cipher, where each direction's crypto
 * runs, and the /proc/net/tls_stat counters. Exit: 0 listed (maybe none), 1 usage or error,
 * 2 this kernel has no TLS ULP or no inet_diag. */
#include "ktlsstat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/tls.h>

#include "ktls_compat.h"

#define EXIT_NO_KTLS 2
#define MAX_COUNTERS 64

struct opts {
	int port, pid;
	bool json;
};

/* Row order of the kernel's TCP states (include/net/tcp_states.h), as ss(8) names them. */
static const char *const tcp_states[] = {
    "UNKNOWN", "ESTAB",	     "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",   "TIME-WAIT",
    "UNCONN",  "CLOSE-WAIT", "LAST-ACK", "LISTEN",   "CLOSING",	   "NEW-SYN-RECV",
};

static const char *state_name(uint8_t st)
{
	return st < sizeof(tcp_states) / sizeof(tcp_states[0]) ? tcp_states[st] : "UNKNOWN";
}

/* TLS_CONF_* as the kernel's tls_user_config() reports them: BASE means no key in that
 * direction (OpenSSL may still run it in user space). */
static const char *conf_name(uint16_t conf)
{
	switch (conf) {
	case TLS_CONF_BASE:
		return "none";
	case TLS_CONF_SW:
		return "sw";
	case TLS_CONF_HW:
		return "hw";
	case TLS_CONF_HW_RECORD:
		return "hw-record";
	default:
		return "?";
	}
}

static const char *version_name(uint16_t v)
{
	return v == TLS_1_3_VERSION ? "TLSv1.3" : v == TLS_1_2_VERSION ? "TLSv1.2" : "-";
}

/* The suite's IANA name where the AEAD and version decide it (TLS 1.3), else the AEAD. */
static void cipher_name(const struct ktlsstat_sock *s, char *buf, size_t len)
{
	const char *kname = ktlsstat_cipher_kname(s->cipher_type);
	const char *tls13 = ktlsstat_cipher_tls13(s->cipher_type);

	if (!s->cipher_type)
		snprintf(buf, len, "-");
	else if (s->version == TLS_1_3_VERSION && tls13)
		snprintf(buf, len, "%s", tls13);
	else if (kname)
		snprintf(buf, len, "%s", kname);
	else
		snprintf(buf, len, "unknown(%u)", s->cipher_type);
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void addr_name(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, port_of(ss));
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host,
			  sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, port_of(ss));
	}
}

static void flags_name(const struct ktlsstat_sock *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", s->zc_ro_tx ? "zc_ro_tx" : "",
		 s->zc_ro_tx && s->rx_no_pad ? "," : "", s->rx_no_pad ? "rx_no_pad" : "");
	if (!buf[0])
		snprintf(buf, len, "-");
}

static bool wanted(const struct opts *o, const struct ktlsstat_sock *s)
{
	if (o->port && port_of(&s->local) != o->port && port_of(&s->peer) != o->port)
		return false;
	return !o->pid || s->pid == o->pid;
}

enum {
	COL_STATE,
	COL_LOCAL,
	COL_PEER,
	COL_PROC,
	COL_VER,
	COL_CIPHER,
	COL_TX,
	COL_RX,
	COL_FLAGS,
	NCOLS
};

struct row {
	char col[NCOLS][96];
};

static void make_row(const struct ktlsstat_sock *s, struct row *r)
{
	snprintf(r->col[COL_STATE], sizeof(r->col[0]), "%s", state_name(s->state));
	addr_name(&s->local, r->col[COL_LOCAL], sizeof(r->col[0]));
	addr_name(&s->peer, r->col[COL_PEER], sizeof(r->col[0]));
	if (s->pid)
		snprintf(r->col[COL_PROC], sizeof(r->col[0]), "%s(%d)", s->comm, s->pid);
	else
		snprintf(r->col[COL_PROC], sizeof(r->col[0]), "-");
	snprintf(r->col[COL_VER], sizeof(r->col[0]), "%s", version_name(s->version));
	cipher_name(s, r->col[COL_CIPHER], sizeof(r->col[0]));
	snprintf(r->col[COL_TX], sizeof(r->col[0]), "%s", conf_name(s->txconf));
	snprintf(r->col[COL_RX], sizeof(r->col[0]), "%s", conf_name(s->rxconf));
	flags_name(s, r->col[COL_FLAGS], sizeof(r->col[0]));
}

static void print_table(const struct opts *o, const struct ktlsstat_list *l)
{
	static const struct row head = {
	    {"State", "Local", "Peer", "Process", "Version", "Cipher", "TX", "RX", "Flags"}};
	size_t width[NCOLS], i;
	struct row r;
	int c;

	for (c = 0; c < NCOLS; c++)
		width[c] = strlen(head.col[c]);
	for (i = 0; i < l->n; i++) {
		if (!wanted(o, &l->v[i]))
			continue;
		make_row(&l->v[i], &r);
		for (c = 0; c < NCOLS; c++)
			if (strlen(r.col[c]) > width[c])
				width[c] = strlen(r.col[c]);
	}
	for (c = 0; c < NCOLS; c++)
		printf("%-*s%s", c == NCOLS - 1 ? 0 : (int)width[c], head.col[c],
		       c == NCOLS - 1 ? "\n" : "  ");
	for (i = 0; i < l->n; i++) {
		if (!wanted(o, &l->v[i]))
			continue;
		make_row(&l->v[i], &r);
		for (c = 0; c < NCOLS; c++)
			printf("%-*s%s", c == NCOLS - 1 ? 0 : (int)width[c], r.col[c],
			       c == NCOLS - 1 ? "\n" : "  ");
	}
}

static void print_counters(const struct ktlsstat_counter *k, int n)
{
	printf("\n/proc/net/tls_stat (this network namespace):\n");
	for (int i = 0; i < n; i++)
		printf("  %-28s %llu\n", k[i].name, k[i].value);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_json(const struct opts *o, const struct ktlsstat_list *l,
		       const struct ktlsstat_counter *k, int nk)
{
	const char *sep = "";
	struct row r;

	printf("{\"sockets\": [");
	for (size_t i = 0; i < l->n; i++) {
		const struct ktlsstat_sock *s = &l->v[i];
		const char *kname = ktlsstat_cipher_kname(s->cipher_type);

		if (!wanted(o, s))
			continue;
		make_row(s, &r);
		printf("%s\n  {\"state\": \"%s\", \"local\": \"%s\", \"peer\": \"%s\", ", sep,
		       r.col[COL_STATE], r.col[COL_LOCAL], r.col[COL_PEER]);
		printf("\"local_port\": %u, \"peer_port\": %u, ", port_of(&s->local),
		       port_of(&s->peer));
		if (s->pid) {
			printf("\"pid\": %d, \"process\": ", s->pid);
			json_string(s->comm);
		} else {
			printf("\"pid\": null, \"process\": null");
		}
		printf(", \"uid\": %u, \"inode\": %u, \"version\": \"%s\", \"cipher\": \"%s\", ",
		       s->uid, s->inode, r.col[COL_VER], r.col[COL_CIPHER]);
		printf("\"kernel_cipher\": \"%s\", \"cipher_type\": %u, ", kname ? kname : "-",
		       s->cipher_type);
		printf("\"tx\": \"%s\", \"rx\": \"%s\", \"zc_ro_tx\": %s, \"rx_no_pad\": %s}",
		       r.col[COL_TX], r.col[COL_RX], s->zc_ro_tx ? "true" : "false",
		       s->rx_no_pad ? "true" : "false");
		sep = ",";
	}
	printf("\n], \"tls_stat\": {");
	for (int i = 0; i < nk; i++)
		printf("%s\"%s\": %llu", i ? ", " : "", k[i].name, k[i].value);
	printf("}}\n");
}

/* TCP_ULP "tls" on a fresh, unconnected socket: the kernel looks the ULP up (loading tls.ko
 * if it can) before tls_init() refuses the unconnected socket with ENOTCONN; ENOENT means no
 * TLS ULP at all. No key is installed, so no tls_stat counter moves. */
static int kernel_has_tls(char *why, size_t whylen)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), ret = 0;

	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -errno;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", 3) < 0 && errno == ENOENT) {
		snprintf(why, whylen,
			 "this kernel has no TLS ULP (kTLS): TCP_ULP \"tls\" fails with ENOENT "
			 "(CONFIG_TLS off, or tls.ko not loadable)");
		ret = -ENOENT;
	}
	close(fd);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ktlsstat [--port PORT] [--pid PID] [--json]\n"
		   "Lists TCP sockets that carry the kernel TLS ULP (from sock_diag, as root),\n"
		   "then the /proc/net/tls_stat counters.\n"
		   "  --port PORT  only sockets with this local or peer port\n"
		   "  --pid PID    only sockets owned by this process\n"
		   "  --json       one JSON object: {\"sockets\": [...], \"tls_stat\": {...}}\n"
		   "Exit: 0 listed, 1 error, 2 the kernel has no TLS ULP or no inet_diag.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"port", 1, 0, 'p'}, {"pid", 1, 0, 'P'}, {"json", 0, 0, 'j'},
	    {"help", 0, 0, 'h'}, {0, 0, 0, 0},
	};
	struct ktlsstat_counter counters[MAX_COUNTERS];
	struct ktlsstat_list list = {0};
	struct opts o = {0};
	char why[256] = "";
	int ch, nk, ret;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'p':
			o.port = atoi(optarg);
			if (o.port <= 0 || o.port > 65535) {
				fprintf(stderr, "ktlsstat: bad port %s\n", optarg);
				return 1;
			}
			break;
		case 'P':
			o.pid = atoi(optarg);
			if (o.pid <= 0) {
				fprintf(stderr, "ktlsstat: bad pid %s\n", optarg);
				return 1;
			}
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 1;
	}
	if (kernel_has_tls(why, sizeof(why)) < 0) {
		fprintf(stderr, "ktlsstat: %s\n", why);
		return EXIT_NO_KTLS;
	}
	nk = ktlsstat_read_tls_stat(counters, MAX_COUNTERS);
	if (nk < 0) {
		fprintf(stderr,
			"ktlsstat: cannot read /proc/net/tls_stat: %s (tls.ko not loaded?)\n",
			strerror(-nk));
		return EXIT_NO_KTLS;
	}
	ret = ktlsstat_diag_dump(&list, why, sizeof(why));
	if (ret < 0) {
		fprintf(stderr, "ktlsstat: %s\n", why);
		return ret == -ENOENT ? EXIT_NO_KTLS : 1;
	}
	if (!list.ulp_info_seen && list.tcp_seen && geteuid() != 0)
		fprintf(stderr,
			"ktlsstat: note: the kernel reports ULP info only to CAP_NET_ADMIN: "
			"run as root to see kTLS sockets\n");
	ktlsstat_find_owners(&list);
	if (o.json) {
		print_json(&o, &list, counters, nk);
	} else {
		print_table(&o, &list);
		print_counters(counters, nk);
	}
	ktlsstat_list_free(&list);
	return 0;
}
