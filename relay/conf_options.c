/* conf_options.c - the option table: one row per option (name, where it may appear, value
 * syntax, default, parser, help). Parsing, `--help` and the README table all derive from it.
 * The stunnel 5.68 options ktlsrelay does not implement are rows of conf_refused[], so that an
 * operator moving a stunnel file is told which option to remove instead of reading "unknown
 * option". */
#include "conf_parse.h"

#include <strings.h>

static const struct keyword foreground_words[] = {
    {"yes", CONF_FOREGROUND_YES},
    {"quiet", CONF_FOREGROUND_QUIET},
    {"no", CONF_FOREGROUND_NO},
    {NULL, 0},
};

static const struct keyword failover_words[] = {
    {"rr", CONF_FAILOVER_RR},
    {"prio", CONF_FAILOVER_PRIO},
    {NULL, 0},
};

static const struct keyword ktls_words[] = {
    {"auto", CONF_KTLS_AUTO},
    {"on", CONF_KTLS_ON},
    {"off", CONF_KTLS_OFF},
    {NULL, 0},
};

#define SVC(member)    offsetof(struct conf_service, member)
#define GLOBAL(member) offsetof(struct conf, member)

const struct conf_opt conf_options[] = {
    /* global */
    {"foreground", IN_GLOBAL, "yes | quiet | no", "no", conf_parse_keyword, GLOBAL(foreground),
     foreground_words, false,
     "stay in the foreground; yes also logs to stderr (the --foreground flag forces yes)"},
    {"pid", IN_GLOBAL, "FILE", "none", conf_parse_pid, 0, NULL, true,
     "pid file, inside the chroot when one is set; empty: none"},
    {"chroot", IN_GLOBAL, "DIRECTORY", "none", conf_parse_string, GLOBAL(chroot), NULL, false,
     "directory to chroot into; pid and CApath are then paths inside it"},
    {"setuid", IN_GLOBAL, "USER", "keep", conf_parse_setuid, 0, NULL, false,
     "user name or number to run as; resolved when the file is loaded"},
    {"setgid", IN_GLOBAL, "GROUP", "keep", conf_parse_setgid, 0, NULL, false,
     "group name or number to run as; a user name means that user's primary group "
     "(so `setgid = nobody` works where the group is called nogroup)"},
    {"output", IN_GLOBAL, "FILE", "none", conf_parse_string, GLOBAL(output), NULL, false,
     "append log messages to this file"},
    {"debug", IN_GLOBAL, "[FACILITY.]LEVEL", "daemon.notice", conf_parse_debug, 0, NULL, false,
     "log level 0..7 or emerg|alert|crit|err|warning|notice|info|debug, with an optional "
     "syslog facility"},
    {"syslog", IN_GLOBAL, "yes | no", "yes", conf_parse_bool, GLOBAL(syslog), NULL, false,
     "log to syslog"},
    {"workers", IN_GLOBAL, "0..256", "0", conf_parse_workers, 0, NULL, false,
     "ktlsrelay: worker threads, each with its own io_uring; 0 means one per CPU"},

    /* services */
    {"accept", IN_SERVICE, "[HOST:]PORT", "-", conf_parse_accept, 0, NULL, false,
     "listen here; a bare port listens on all IPv6 and IPv4 addresses; IPv6 as [::1]:443 or "
     "::1:443"},
    {"connect", IN_BOTH, "[HOST:]PORT", "-", conf_parse_connect, 0, NULL, false,
     "forward to this address (repeatable); a bare port means localhost; names are resolved "
     "at load unless delay = yes"},
    {"failover", IN_BOTH, "rr | prio", "rr", conf_parse_keyword, SVC(failover), failover_words,
     false, "with several connect addresses: round robin, or always in the order given"},
    {"delay", IN_BOTH, "yes | no", "no", conf_parse_bool, SVC(delay), NULL, false,
     "resolve connect names for every connection instead of at load"},
    {"client", IN_BOTH, "yes | no", "no", conf_parse_bool, SVC(client), NULL, false,
     "yes: plaintext in, TLS out; no: TLS in, plaintext out"},
    {"cert", IN_BOTH, "PEM_FILE", "none", conf_parse_string, SVC(cert), NULL, false,
     "certificate chain (and the key unless key is given); required in server mode"},
    {"key", IN_BOTH, "PEM_FILE", "cert", conf_parse_string, SVC(key), NULL, false, "private key"},
    {"CAfile", IN_BOTH, "FILE", "none", conf_parse_string, SVC(ca_file), NULL, false,
     "trusted CA certificates for verifyChain and verifyPeer"},
    {"CApath", IN_BOTH, "DIRECTORY", "none", conf_parse_string, SVC(ca_path), NULL, false,
     "directory of hashed trusted CA certificates"},
    {"verify", IN_BOTH, "0..4", "none", conf_parse_verify, 0, NULL, false,
     "legacy: 0 request a certificate, 1 verify it if present, 2 verify the chain, "
     "3 the chain and the peer, 4 only the peer"},
    {"verifyChain", IN_BOTH, "yes | no", "no", conf_parse_verify_flag, SVC(verify_chain), NULL,
     false, "require and verify the peer's certificate chain"},
    {"verifyPeer", IN_BOTH, "yes | no", "no", conf_parse_verify_flag, SVC(verify_peer), NULL, false,
     "require the peer's certificate to be in CAfile or CApath"},
    {"requireCert", IN_BOTH, "yes | no", "no", conf_parse_verify_flag, SVC(require_cert), NULL,
     false, "require a peer certificate"},
    {"checkHost", IN_BOTH, "HOST", "none", conf_parse_check_host, 0, NULL, false,
     "accept only a peer certificate for this host name (repeatable; needs verifyChain or "
     "verifyPeer)"},
    {"checkIP", IN_BOTH, "IP", "none", conf_parse_check_ip, 0, NULL, false,
     "accept only a peer certificate for this IP address (repeatable; needs verifyChain or "
     "verifyPeer)"},
    {"ciphers", IN_BOTH, "CIPHER_LIST", "OpenSSL's", conf_parse_string, SVC(ciphers), NULL, false,
     "TLS 1.2 and older cipher list"},
    {"ciphersuites", IN_BOTH, "SUITES", "OpenSSL's", conf_parse_string, SVC(ciphersuites), NULL,
     false, "TLS 1.3 cipher suites, colon separated"},
    {"curves", IN_BOTH, "LIST", "OpenSSL's", conf_parse_string, SVC(curves), NULL, false,
     "key exchange groups, colon separated"},
    {"sslVersion", IN_BOTH, "all | TLSv1 | TLSv1.1 | TLSv1.2 | TLSv1.3", "TLSv1.3",
     conf_parse_ssl_version, 0, NULL, false,
     "sets both sslVersionMin and sslVersionMax; all removes both bounds"},
    {"sslVersionMin", IN_BOTH, "all | TLSv1 | TLSv1.1 | TLSv1.2 | TLSv1.3", "TLSv1.3",
     conf_parse_version_bound, SVC(version_min), NULL, false,
     "lowest TLS version; ktlsrelay speaks only TLS 1.3 unless the file allows older ones "
     "(e.g. sslVersionMin = TLSv1.2 or sslVersion = all); SSLv2 and SSLv3 are refused"},
    {"sslVersionMax", IN_BOTH, "all | TLSv1 | TLSv1.1 | TLSv1.2 | TLSv1.3", "TLSv1.3",
     conf_parse_version_bound, SVC(version_max), NULL, false, "highest TLS version"},
    {"options", IN_BOTH, "[-]NAME", "none", conf_parse_ssl_options, 0, NULL, false,
     "OpenSSL option without SSL_OP_ (NO_TICKET, ENABLE_KTLS, ...); -NAME clears it; "
     "repeatable"},
    {"sni", IN_BOTH, "SERVER_NAME", "connect host", conf_parse_sni, 0, NULL, true,
     "client mode: the server name to send; empty sends none. Server-side virtual services "
     "(sni = service:pattern) are not supported"},
    {"socket", IN_BOTH, "a|l|r:OPTION=VALUE", "none", conf_parse_socket, 0, NULL, false,
     "socket option on the accept, local or remote socket (repeatable): TCP_NODELAY, "
     "SO_KEEPALIVE, SO_SNDBUF, SO_RCVBUF, SO_REUSEADDR, TCP_KEEPIDLE, TCP_KEEPINTVL, "
     "TCP_KEEPCNT, IP_TOS, ..."},
    {"TIMEOUTbusy", IN_BOTH, "SECONDS", "300", conf_parse_seconds, SVC(timeouts.busy), NULL, false,
     "time to wait for expected data"},
    {"TIMEOUTclose", IN_BOTH, "SECONDS", "60", conf_parse_seconds, SVC(timeouts.close), NULL, false,
     "time to wait for close_notify"},
    {"TIMEOUTconnect", IN_BOTH, "SECONDS", "10", conf_parse_seconds, SVC(timeouts.connect), NULL,
     false, "time to wait for the connect to the remote address"},
    {"TIMEOUTidle", IN_BOTH, "SECONDS", "43200", conf_parse_seconds, SVC(timeouts.idle), NULL,
     false, "time to keep an idle connection"},
    {"sessionCacheSize", IN_BOTH, "NUMBER", "1000", conf_parse_count, SVC(session_cache_size), NULL,
     false, "TLS session cache entries; 0 is unlimited"},
    {"sessionCacheTimeout", IN_BOTH, "SECONDS", "300", conf_parse_count, SVC(session_cache_timeout),
     NULL, false, "how long a cached TLS session stays valid"},
    {"sessionResume", IN_BOTH, "yes | no", "yes", conf_parse_bool, SVC(session_resume), NULL, false,
     "allow TLS session resumption"},
    {"ktls", IN_BOTH, "auto | on | off", "auto", conf_parse_keyword, SVC(ktls), ktls_words, false,
     "ktlsrelay: auto moves data with kernel TLS when the kernel can, else in user space; on "
     "refuses connections the kernel cannot offload; off always uses user space"},
    {"maxconn", IN_BOTH, "NUMBER", "0", conf_parse_count, SVC(maxconn), NULL, false,
     "ktlsrelay: most connections the service serves at once (as HAProxy's maxconn); one more "
     "is accepted and reset at once, with a log line; 0 is no limit"},
    {NULL, 0, NULL, NULL, NULL, 0, NULL, false, NULL},
};

/* stunnel 5.68's options that ktlsrelay does not implement. */
const char *const conf_refused[] = {
    "CAengine",
    "checkEmail",
    "compression",
    "config",
    "CRLfile",
    "CRLpath",
    "EGD",
    "engine",
    "engineCtrl",
    "engineDefault",
    "engineId",
    "engineNum",
    "exec",
    "execArgs",
    "fips",
    "iconActive",
    "iconError",
    "iconIdle",
    "ident",
    "include",
    "libwrap",
    "local",
    "log",
    "logId",
    "OCSP",
    "OCSPaia",
    "OCSPflag",
    "OCSPnonce",
    "OCSPrequire",
    "protocol",
    "protocolAuthentication",
    "protocolDomain",
    "protocolHeader",
    "protocolHost",
    "protocolPassword",
    "protocolUsername",
    "PSKidentity",
    "PSKsecrets",
    "pty",
    "redirect",
    "renegotiation",
    "reset",
    "retry",
    "RNDbytes",
    "RNDfile",
    "RNDoverwrite",
    "securityLevel",
    "service",
    "sessiond",
    "stack",
    "taskbar",
    "ticketKeySecret",
    "ticketMacSecret",
    "TIMEOUTocsp",
    "transparent",
    NULL,
};

const struct conf_opt *conf_option_find(const char *name)
{
	for (const struct conf_opt *o = conf_options; o->name; o++)
		if (!strcasecmp(o->name, name))
			return o;
	return NULL;
}
