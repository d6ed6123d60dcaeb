/* conf.h - the relay's configuration: stunnel's file format, parsed into one immutable object.
 *
 * A configuration is loaded whole (conf_load) and never modified afterwards; a reload (SIGHUP)
 * loads a new one and swaps it in. Service-level options given in the global section are
 * defaults for every service, as in stunnel.
 */
#ifndef KTLSRELAY_CONF_H
#define KTLSRELAY_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

enum conf_ktls {
	CONF_KTLS_AUTO, /* kernel path when the kernel can, user space otherwise (default) */
	CONF_KTLS_ON,   /* kernel path or refuse the connection */
	CONF_KTLS_OFF,  /* always user space */
};

enum conf_foreground {
	CONF_FOREGROUND_NO,    /* daemonize (default) */
	CONF_FOREGROUND_YES,   /* stay in the foreground, log to stderr too */
	CONF_FOREGROUND_QUIET, /* stay in the foreground, do not log to stderr */
};

enum conf_failover {
	CONF_FAILOVER_PRIO, /* try connect addresses in the order given */
	CONF_FAILOVER_RR,   /* start at the next address for every connection (default) */
};

/* Which socket a `socket = X:OPTION=VALUE` line applies to (stunnel's letters). */
enum conf_sock_role {
	CONF_SOCK_ACCEPT = 'a', /* the listening socket */
	CONF_SOCK_LOCAL = 'l',  /* the accepted socket */
	CONF_SOCK_REMOTE = 'r', /* the socket we connect */
};

struct conf_sockopt {
	enum conf_sock_role role;
	int level; /* SOL_SOCKET, IPPROTO_TCP, ... */
	int name;  /* SO_KEEPALIVE, TCP_NODELAY, ... */
	int value;
	const char *text; /* "TCP_NODELAY=1", for logs */
};

/* One resolved socket address with the text it came from. */
struct conf_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[128]; /* as written in the file, e.g. "127.0.0.1:12347" or "12346" */
};

/* One `connect` line: the host and port as written, and (unless `delay = yes`) its addresses,
 * resolved at load time. A host name may resolve to several addresses; they are tried in order. */
struct conf_connect {
	char *host; /* "myzosip", "::1", "127.0.0.1"; "localhost" when only a port was given */
	char *port; /* "12346" or a service name */
	struct conf_addr *addrs;
	size_t n_addrs; /* 0 when delay = yes */
};

/* A secret given in hexadecimal (ticketKeySecret, ticketMacSecret): 16 or 32 bytes; len 0: not
 * set. Wiped when the configuration is freed. */
struct conf_secret {
	unsigned char bytes[32];
	size_t len;
};

/* Timeouts in seconds (stunnel's defaults in comments). */
struct conf_timeouts {
	int busy;    /* TIMEOUTbusy, 300: a handshake or a stalled transfer */
	int close;   /* TIMEOUTclose, 60: waiting for the peer's close_notify */
	int connect; /* TIMEOUTconnect, 10: the backend connect */
	int idle;    /* TIMEOUTidle, 43200: an idle connection */
};

struct conf_service {
	char *name; /* the [section] name */
	const char *file; /* where the section starts (points into struct conf: path or included) */
	int line;

	bool client; /* client = yes: plaintext in, TLS out */
	struct conf_addr accept; /* accept = [host:]port; a bare port listens on all addresses
				    (IPv6 any with IPv4 mapped, like stunnel's "::") */
	struct conf_connect *connect; /* repeatable */
	size_t n_connect;
	enum conf_failover failover;
	bool delay; /* delay = yes: resolve connect names per connection */

	char *cert; /* PEM: certificate chain; also the key unless `key` is given */
	char *key;  /* defaults to cert */
	char *ca_file;
	char *ca_path;
	char *crl_file; /* CRLfile: PEM CRLs; with crl_path, revocation is checked (stunnel) */
	char *crl_path; /* CRLpath: a directory of hashed CRLs (NAME.r0) */
	/* verification, as stunnel: verify = 0..4 sets these; verifyChain/verifyPeer set them one
	 * by one. request_cert: ask the peer for a certificate even if nothing is verified. */
	bool request_cert;
	bool require_cert;
	bool verify_chain;
	bool verify_peer;
	char **check_host; /* repeatable; NULL-terminated */
	char **check_ip;   /* repeatable; NULL-terminated */

	char *ciphers;      /* TLS <= 1.2 cipher list; NULL: OpenSSL's default */
	char *ciphersuites; /* TLS 1.3 suites; NULL: OpenSSL's default */
	char *curves;       /* groups list; NULL: OpenSSL's default */
	int version_min;    /* TLS1_2_VERSION, TLS1_3_VERSION, ... 0 = no bound */
	int version_max;    /* defaults: min TLS1_VERSION, max 0 (stunnel's) */
	int security_level; /* securityLevel 0..5, default 2 (stunnel sets it, whatever OpenSSL's) */
	unsigned long long options_set;   /* SSL_OP_* to set */
	unsigned long long options_clear; /* SSL_OP_* to clear ("options = -NAME") */
	char *sni; /* client: server name to send; NULL: the first connect host if it is a name;
		     "": send none (stunnel) */

	struct conf_sockopt *sockopts; /* global ones first, then the service's own */
	size_t n_sockopts;
	struct conf_timeouts timeouts;
	long session_cache_size;    /* sessionCacheSize, 0 = unlimited; default 1000 (stunnel) */
	long session_cache_timeout; /* sessionCacheTimeout seconds, default 300 */
	bool session_resume;        /* sessionResume, default yes */
	/* server mode: session tickets sealed with these, so that every relay given the same two
	 * secrets resumes the others' sessions (stunnel's ticketKeySecret, ticketMacSecret) */
	struct conf_secret ticket_key;
	struct conf_secret ticket_mac;
	enum conf_ktls ktls;
	long maxconn; /* live connections this service takes at once; 0 = no limit */
};

struct conf {
	char *path; /* the file loaded */
	char **included; /* the files `include` read, in order; NULL-terminated */

	enum conf_foreground foreground;
	char *pid;    /* path inside the chroot; NULL: no pid file */
	char *chroot; /* NULL: none */
	char *setuid; /* user name or number; NULL: keep */
	char *setgid; /* group name or number; NULL: keep */
	/* setuid/setgid resolved when the file is loaded: after chroot, /etc/passwd is usually
	 * gone. (uid_t)-1 / (gid_t)-1: keep. A setgid that names no group but a user (Debian has
	 * no group "nobody") is that user's primary group. */
	uid_t uid;
	gid_t gid;
	char *output; /* log file; NULL: none */
	int debug_level; /* syslog level 0..7, default 5 (notice) */
	int syslog_facility; /* LOG_DAEMON unless `debug = facility.level` */
	bool syslog; /* syslog = yes|no, default yes */
	int workers; /* worker threads; 0 = one per CPU (ktlsrelay's own option) */
	struct conf_addr metrics; /* metrics = [HOST:]PORT, the Prometheus endpoint; len 0: off */

	struct conf_service *services;
	size_t n_services;
};

/* Loads and validates the file at path. On success returns 0 and sets *out. On failure returns
 * -1 and writes one line to err: "FILE:LINE: what is wrong" (or "FILE: ..." when the problem is
 * not on one line, e.g. a file that cannot be read, or no service defined). `foreground` forces
 * foreground = yes (the --foreground flag). */
int conf_load(const char *path, bool foreground, struct conf **out, char *err, size_t errlen);
/* The same, on SIGHUP: `running` is the configuration in force. setuid/setgid names it already
 * resolved keep their ids without a look-up (inside a chroot /etc/passwd is usually absent). */
int conf_reload(const char *path, bool foreground, const struct conf *running, struct conf **out,
		char *err, size_t errlen);
void conf_free(struct conf *conf);

/* Whether a service's sslVersionMin and sslVersionMax let it speak `version` (TLS1_2_VERSION,
 * ...); OpenSSL's security level may still refuse it. */
bool conf_service_allows_version(const struct conf_service *svc, int version);

/* The option table, for --help and the README. Prints one row per option. */
enum conf_help_format { CONF_HELP_TEXT, CONF_HELP_MARKDOWN };
void conf_print_options(enum conf_help_format format, void *file /* FILE * */);

#endif
