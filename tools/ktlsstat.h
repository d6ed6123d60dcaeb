/* ktlsstat.h - what ktlsstat gathers: the kernel's own view of TLS ULP sockets (sock_diag) and
 * of its counters (/proc/net/tls_stat), and which process owns each socket (/proc/PID/fd). */
#ifndef KTLSSTAT_H
#define KTLSSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ktlsstat_sock {
	int family; /* AF_INET or AF_INET6 */
	uint8_t state;
	struct sockaddr_storage local, peer;
	uint32_t inode;
	uint32_t uid;
	uint16_t version;	  /* TLS_1_2_VERSION, TLS_1_3_VERSION, 0 unknown */
	uint16_t cipher_type;	  /* TLS_CIPHER_..., 0 unknown */
	uint16_t txconf, rxconf;  /* TLS_CONF_BASE, _SW, _HW, _HW_RECORD; 0 not reported */
	bool zc_ro_tx, rx_no_pad; /* TLS_INFO_ZC_RO_TX, TLS_INFO_RX_NO_PAD */
	int pid;		  /* owning process, 0 when not found */
	char comm[32];
};

struct ktlsstat_list {
	struct ktlsstat_sock *v;
	size_t n, cap;
	/* TCP sockets the kernel reported, with or without a ULP: none of them with ULP info
	 * while TCP sockets exist and we lack CAP_NET_ADMIN means the answer was censored. */
	size_t tcp_seen;
	bool ulp_info_seen;
};

/* Dumps every TCP socket (IPv4 and IPv6) over NETLINK_SOCK_DIAG with INET_DIAG_INFO, which
 * brings INET_DIAG_ULP_INFO, and keeps those whose ULP is "tls". -ENOENT: the kernel has no
 * inet_diag/tcp_diag for TCP. */
int ktlsstat_diag_dump(struct ktlsstat_list *out, char *why, size_t whylen);
void ktlsstat_list_free(struct ktlsstat_list *l);

/* Fills pid and comm of each socket from /proc/PID/fd links "socket:[INODE]". */
void ktlsstat_find_owners(struct ktlsstat_list *l);

struct ktlsstat_counter {
	char name[48];
	unsigned long long value;
};

/* Reads /proc/net/tls_stat (name value lines). Returns the count, or -errno (-ENOENT: no TLS
 * module in this kernel, or not loaded). */
int ktlsstat_read_tls_stat(struct ktlsstat_counter *out, size_t max);

/* Kernel cipher type as a name: "aes-gcm-128", ... for every type of linux/tls.h; NULL unknown. */
const char *ktlsstat_cipher_kname(uint16_t cipher_type);
/* The TLS 1.3 suite for that AEAD ("TLS_AES_128_GCM_SHA256"), NULL when TLS 1.3 has none. */
const char *ktlsstat_cipher_tls13(uint16_t cipher_type);

#endif
