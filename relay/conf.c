/* conf.c - stunnel's configuration file format, parsed into one immutable struct conf.
 *
 * Every option is one row of conf_options[] (name, where it may appear, value syntax, default,
 * parser, help): parsing, `--help` and the README table all derive from that table. The stunnel
 * 5.68 options ktlsrelay does not implement are rows of conf_refused[], so that an operator moving
 * a stunnel file is told which option to remove instead of reading "unknown option".
 *
 * As in stunnel, the global section doubles as the default service: at each `[name]` the service
 * starts as a deep copy of those defaults, and its own lines override them. Repeatable lists
 * (socket, checkHost, checkIP) keep the global entries first and add the service's; `connect`
 * lines in a service replace the global ones.
 *
 * Loading is reentrant (a reload runs while workers serve): all state lives in struct parse on
 * the caller's stack, and look-ups use getaddrinfo, getservbyname_r, getpwnam_r and getgrnam_r.
 */
#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/ssl.h>

enum where {
	IN_GLOBAL = 1,	/* only before the first [service] */
	IN_SERVICE = 2, /* only inside a [service] */
	IN_BOTH = 3,	/* a service option; in the global section a default for every service */
};

/* Where each service's options came from, for errors found after the whole file is read. */
struct meta {
	int line;	 /* the [name] line */
	int accept_line; /* 0: no accept yet */
	int sni_line;
	int check_line; /* the first checkHost or checkIP */
	/* this section has its own connect lines, which replace the global ones */
	bool own_connect;
	int *connect_lines; /* parallel to conf_service.connect */
};

struct parse {
	struct conf *conf;
	int line;
	struct conf_service *svc; /* the section being read: &defaults or the last service */
	struct meta *meta;
	struct conf_service defaults;
	struct meta defaults_meta;
	struct meta *metas; /* parallel to conf->services */
	const struct conf *running; /* on reload: the configuration in force, or NULL */
	char *err;
	size_t errlen;
};

struct keyword {
	const char *name;
	int value;
};

struct conf_opt;
typedef int (*parse_fn)(struct parse *p, const struct conf_opt *opt, const char *value);

struct conf_opt {
	const char *name;
	enum where where;
	const char *syntax;
	const char *deflt;
	parse_fn parse;
	size_t off; /* the field the generic parsers fill, in struct conf or struct conf_service */
	const struct keyword *words; /* parse_keyword's accepted values */
	bool empty_ok;
	const char *help;
};

/* ---- errors ---------------------------------------------------------------------------- */

static int vfail_at(struct parse *p, int line, const char *fmt, va_list ap)
{
	int n = 0;

	if (line > 0)
		n = snprintf(p->err, p->errlen, "%s:%d: ", p->conf->path, line);
	else
		n = snprintf(p->err, p->errlen, "%s: ", p->conf->path);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

__attribute__((format(printf, 3, 4))) static int fail_at(struct parse *p, int line, const char *fmt,
							 ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail_at(p, line, fmt, ap);
	va_end(ap);
	return ret;
}

/* An error on the line being read. */
__attribute__((format(printf, 2, 3))) static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail_at(p, p->line, fmt, ap);
	va_end(ap);
	return ret;
}

static int fail_nomem(struct parse *p)
{
	fail(p, "out of memory");
	return -ENOMEM;
}

/* ---- small helpers --------------------------------------------------------------------- */

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Accepts a whole decimal number in [min, max]. */
static bool parse_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s) && !(*s == '-' && isdigit((unsigned char)s[1])))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static void *field(struct parse *p, const struct conf_opt *opt)
{
	char *base = opt->where == IN_GLOBAL ? (char *)p->conf : (char *)p->svc;

	return base + opt->off;
}

static int set_string(struct parse *p, char **dst, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return fail_nomem(p);
	free(*dst);
	*dst = copy;
	return 0;
}

/* Appends to a NULL-terminated string list. */
static int list_add(struct parse *p, char ***list, const char *value)
{
	size_t n = 0;
	char **grown;
	char *copy;

	while (*list && (*list)[n])
		n++;
	copy = strdup(value);
	grown = copy ? reallocarray(*list, n + 2, sizeof(*grown)) : NULL;
	if (!grown) {
		free(copy);
		return fail_nomem(p);
	}
	grown[n] = copy;
	grown[n + 1] = NULL;
	*list = grown;
	return 0;
}

static void list_free(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

static const struct keyword *keyword_find(const struct keyword *words, const char *name)
{
	for (; words->name; words++)
		if (!strcasecmp(words->name, name))
			return words;
	return NULL;
}

/* "yes, quiet or no" */
static void keyword_list(const struct keyword *words, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct keyword *w = words; w->name && used < len; w++) {
		const char *sep = w == words ? "" : w[1].name ? ", " : " or ";
		int n = snprintf(buf + used, len - used, "%s%s", sep, w->name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* ---- generic parsers ------------------------------------------------------------------- */

static const struct keyword yes_no[] = {
    {"yes", 1},
    {"no", 0},
    {NULL, 0},
};

static int parse_string(struct parse *p, const struct conf_opt *opt, const char *value)
{
	return set_string(p, field(p, opt), value);
}

/* Only stunnel's yes and no: anything else is more likely a typo than an intent. */
static int parse_bool(struct parse *p, const struct conf_opt *opt, const char *value)
{
	const struct keyword *w = keyword_find(yes_no, value);

	if (!w)
		return fail(p, "'%s': expected yes or no, got '%s'", opt->name, value);
	*(bool *)field(p, opt) = w->value;
	return 0;
}

static int parse_keyword(struct parse *p, const struct conf_opt *opt, const char *value)
{
	const struct keyword *w = keyword_find(opt->words, value);
	char names[128];

	if (!w) {
		keyword_list(opt->words, names, sizeof(names));
		return fail(p, "'%s': expected %s, got '%s'", opt->name, names, value);
	}
	*(int *)field(p, opt) = w->value;
	return 0;
}

static int parse_seconds(struct parse *p, const struct conf_opt *opt, const char *value)
{
	long v;

	if (!parse_number(value, 0, INT_MAX, &v))
		return fail(p, "'%s': expected a number of seconds (0 or more), got '%s'",
			    opt->name, value);
	*(int *)field(p, opt) = (int)v;
	return 0;
}

static int parse_count(struct parse *p, const struct conf_opt *opt, const char *value)
{
	long v;

	if (!parse_number(value, 0, LONG_MAX, &v))
		return fail(p, "'%s': expected a number (0 or more), got '%s'", opt->name, value);
	*(long *)field(p, opt) = v;
	return 0;
}

/* ---- global options -------------------------------------------------------------------- */

static const struct keyword foreground_words[] = {
    {"yes", CONF_FOREGROUND_YES},
    {"quiet", CONF_FOREGROUND_QUIET},
    {"no", CONF_FOREGROUND_NO},
    {NULL, 0},
};

/* stunnel's own list (its options.c), which is syslog's. */
static const struct keyword facilities[] = {
    {"auth", LOG_AUTH},	    {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
    {"daemon", LOG_DAEMON}, {"ftp", LOG_FTP},		{"kern", LOG_KERN},
    {"lpr", LOG_LPR},	    {"mail", LOG_MAIL},		{"news", LOG_NEWS},
    {"syslog", LOG_SYSLOG}, {"user", LOG_USER},		{"uucp", LOG_UUCP},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},	{"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},	{"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},	{NULL, 0},
};

static const struct keyword levels[] = {
    {"emerg", LOG_EMERG}, {"alert", LOG_ALERT},	    {"crit", LOG_CRIT},
    {"err", LOG_ERR},	  {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
    {"info", LOG_INFO},	  {"debug", LOG_DEBUG},	    {NULL, 0},
};

static int parse_debug(struct parse *p, const struct conf_opt *opt, const char *value)
{
	const char *dot = strchr(value, '.');
	const char *level = dot ? dot + 1 : value;
	const struct keyword *w;
	int facility = p->conf->syslog_facility;
	long n;

	if (dot) {
		char name[32];

		snprintf(name, sizeof(name), "%.*s", (int)(dot - value), value);
		w = keyword_find(facilities, name);
		if (!w)
			return fail(p, "'debug': unknown syslog facility '%s'", name);
		facility = w->value;
	}
	w = keyword_find(levels, level);
	if (w) {
		n = w->value;
	} else if (!parse_number(level, 0, 7, &n)) {
		return fail(p,
			    "'debug': expected a level 0..7 or emerg, alert, crit, err, warning, "
			    "notice, info or debug, got '%s'",
			    level);
	}
	p->conf->syslog_facility = facility;
	p->conf->debug_level = (int)n;
	return 0;
}

/* A user's ids (uid set) or a group's id (uid NULL) by name. The pwd/grp look-ups want a
 * caller buffer, and a large group can need more than any fixed size: grown until it fits. */
static int lookup_ids(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *pw_found = NULL;
	struct group gr, *gr_found = NULL;
	size_t len = 4096;
	char *buf = NULL;
	int ret;

	for (;;) {
		char *grown = realloc(buf, len);

		if (!grown) {
			ret = -ENOMEM;
			goto out;
		}
		buf = grown;
		ret = uid ? -getpwnam_r(name, &pw, buf, len, &pw_found)
			  : -getgrnam_r(name, &gr, buf, len, &gr_found);
		if (ret != -ERANGE)
			break;
		len *= 2;
	}
	if (!ret && !pw_found && !gr_found)
		ret = -ENOENT;
	if (!ret && uid) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	} else if (!ret) {
		*gid = gr.gr_gid;
	}
out:
	free(buf);
	return ret;
}

static int lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	return lookup_ids(name, uid, gid);
}

static int lookup_group(const char *name, gid_t *gid)
{
	return lookup_ids(name, NULL, gid);
}

/* Names are resolved now, not after chroot, where /etc/passwd is usually absent. */
static int parse_setuid(struct parse *p, const struct conf_opt *opt, const char *value)
{
	uid_t uid = 0;
	gid_t gid;
	long n;

	if (parse_number(value, 0, INT_MAX, &n)) {
		uid = (uid_t)n;
	} else if (p->running && p->running->setuid && !strcmp(p->running->setuid, value)) {
		/* A reload runs inside the chroot, usually without /etc/passwd: the same name
		 * means the uid already in force. */
		uid = p->running->uid;
	} else if (lookup_user(value, &uid, &gid)) {
		return fail(p, "'setuid': no user '%s'", value);
	}
	p->conf->uid = uid;
	return set_string(p, &p->conf->setuid, value);
}

static int parse_setgid(struct parse *p, const struct conf_opt *opt, const char *value)
{
	gid_t gid = 0;
	uid_t uid;
	long n;

	/* Debian has no group "nobody" (it is "nogroup"), yet the seed's files, written on RHEL,
	 * say `setgid = nobody`; they must run unchanged. So a name that is not a group but is a
	 * user means that user's primary group. */
	if (parse_number(value, 0, INT_MAX, &n))
		gid = (gid_t)n;
	else if (p->running && p->running->setgid && !strcmp(p->running->setgid, value))
		gid = p->running->gid; /* reload inside the chroot: see parse_setuid */
	else if (lookup_group(value, &gid) && lookup_user(value, &uid, &gid))
		return fail(p, "'setgid': no group '%s'", value);
	p->conf->gid = gid;
	return set_string(p, &p->conf->setgid, value);
}

/* stunnel: "If the argument is empty, then no pid file will be created." */
static int parse_pid(struct parse *p, const struct conf_opt *opt, const char *value)
{
	if (!*value) {
		free(p->conf->pid);
		p->conf->pid = NULL;
		return 0;
	}
	return set_string(p, &p->conf->pid, value);
}

static int parse_workers(struct parse *p, const struct conf_opt *opt, const char *value)
{
	long n;

	if (!parse_number(value, 0, 256, &n))
		return fail(p, "'workers': expected 0 (one per CPU) or 1 to 256, got '%s'", value);
	p->conf->workers = (int)n;
	return 0;
}

/* ---- addresses ------------------------------------------------------------------------- */

/* "host:port" (the last colon splits, so "::1:443" is host ::1), "[::1]:443", or "port" (host
 * NULL). Writes into buf. */
static void split_host_port(char *buf, char **host, char **port)
{
	char *colon = strrchr(buf, ':');

	*host = NULL;
	*port = buf;
	if (!colon)
		return;
	*colon = '\0';
	*port = colon + 1;
	*host = buf;
	if (buf[0] == '[' && colon > buf + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		*host = buf + 1;
	}
	if (!**host)
		*host = NULL; /* ":443" */
}

static int check_port(struct parse *p, const char *opt, const char *port, int *num)
{
	struct servent se, *res = NULL;
	char buf[1024];
	long n;

	if (all_digits(port)) {
		if (!parse_number(port, 1, 65535, &n))
			return fail(p, "'%s': port '%s' is out of range 1..65535", opt, port);
		*num = (int)n;
		return 0;
	}
	if (!*port || getservbyname_r(port, "tcp", &se, buf, sizeof(buf), &res) || !res)
		return fail(p, "'%s': port '%s' is not a number or a known service name", opt,
			    port);
	*num = ntohs((uint16_t)res->s_port);
	return 0;
}

static void addr_set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static int parse_accept(struct parse *p, const struct conf_opt *opt, const char *value)
{
	struct conf_addr *a = &p->svc->accept;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	char buf[sizeof(a->text)];
	char *host, *port;
	int num, ret, gai;

	if (p->meta->accept_line)
		return fail(p, "'accept' given twice in [%s] (first on line %d)", p->svc->name,
			    p->meta->accept_line);
	if (strlen(value) >= sizeof(buf))
		return fail(p, "'accept': address '%s' is too long", value);
	strcpy(buf, value);
	split_host_port(buf, &host, &port);
	ret = check_port(p, "accept", port, &num);
	if (ret)
		goto out;
	memset(a, 0, sizeof(*a));
	if (!host) {
		/* stunnel listens on "::" for a bare port when IPv6 is there: one socket, IPv4
		 * clients arrive as mapped addresses (the listener clears IPV6_V6ONLY). */
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		a->len = sizeof(*sin6);
	} else {
		gai = getaddrinfo(host, NULL, &hints, &res);
		if (gai) {
			ret = fail(p, "'accept': cannot resolve '%s': %s", host, gai_strerror(gai));
			goto out;
		}
		memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
		a->len = res->ai_addrlen;
	}
	addr_set_port(&a->ss, num);
	strcpy(a->text, value);
	p->meta->accept_line = p->line;
out:
	if (res)
		freeaddrinfo(res);
	return ret;
}

static void connect_free(struct conf_connect *c)
{
	free(c->host);
	free(c->port);
	free(c->addrs);
}

static void connects_free(struct conf_service *svc, struct meta *m)
{
	for (size_t i = 0; i < svc->n_connect; i++)
		connect_free(&svc->connect[i]);
	free(svc->connect);
	free(m->connect_lines);
	svc->connect = NULL;
	svc->n_connect = 0;
	m->connect_lines = NULL;
}

static int connect_add(struct parse *p, struct conf_service *svc, struct meta *m, const char *host,
		       const char *port, int line)
{
	struct conf_connect *grown = reallocarray(svc->connect, svc->n_connect + 1, sizeof(*grown));
	int *lines;

	if (!grown)
		return fail_nomem(p);
	svc->connect = grown;
	lines = reallocarray(m->connect_lines, svc->n_connect + 1, sizeof(*lines));
	if (!lines)
		return fail_nomem(p);
	m->connect_lines = lines;
	memset(&grown[svc->n_connect], 0, sizeof(*grown));
	grown[svc->n_connect].host = strdup(host);
	grown[svc->n_connect].port = strdup(port);
	lines[svc->n_connect] = line;
	svc->n_connect++;
	if (!grown[svc->n_connect - 1].host || !grown[svc->n_connect - 1].port)
		return fail_nomem(p);
	return 0;
}

/* Only checked here; resolved after the whole file is read, since `delay` may come later. */
static int parse_connect(struct parse *p, const struct conf_opt *opt, const char *value)
{
	char *buf = strdup(value);
	char *host, *port;
	int num, ret;

	if (!buf)
		return fail_nomem(p);
	split_host_port(buf, &host, &port);
	ret = check_port(p, "connect", port, &num);
	if (ret)
		goto out;
	if (p->svc != &p->defaults && !p->meta->own_connect) {
		connects_free(p->svc, p->meta);
		p->meta->own_connect = true;
	}
	/* stunnel: "If no host is specified, the host defaults to localhost." */
	ret = connect_add(p, p->svc, p->meta, host ? host : "localhost", port, p->line);
out:
	free(buf);
	return ret;
}

static int resolve_connect(struct parse *p, struct conf_connect *c, int line)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL, *ai;
	size_t n = 0;
	int gai, ret = 0;

	gai = getaddrinfo(c->host, c->port, &hints, &res);
	if (gai) {
		ret = fail_at(p, line, "'connect': cannot resolve '%s': %s", c->host,
			      gai_strerror(gai));
		goto out;
	}
	for (ai = res; ai; ai = ai->ai_next)
		n++;
	c->addrs = calloc(n, sizeof(*c->addrs));
	if (!c->addrs) {
		ret = fail_nomem(p);
		goto out;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct conf_addr *a = &c->addrs[c->n_addrs++];
		char h[INET6_ADDRSTRLEN], s[16];

		memcpy(&a->ss, ai->ai_addr, ai->ai_addrlen);
		a->len = ai->ai_addrlen;
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, h, sizeof(h), s, sizeof(s),
				NI_NUMERICHOST | NI_NUMERICSERV))
			snprintf(a->text, sizeof(a->text), "%s:%s", c->host, c->port);
		else if (ai->ai_family == AF_INET6)
			snprintf(a->text, sizeof(a->text), "[%s]:%s", h, s);
		else
			snprintf(a->text, sizeof(a->text), "%s:%s", h, s);
	}
out:
	if (res)
		freeaddrinfo(res);
	return ret;
}

/* ---- certificate checks ---------------------------------------------------------------- */

/* stunnel's legacy levels (its options.c): 0 request and ignore, 1 verify if present, 2 verify
 * the chain, 3 the chain and the locally installed peer, 4 only the peer. */
static int parse_verify(struct parse *p, const struct conf_opt *opt, const char *value)
{
	struct conf_service *s = p->svc;
	long n;

	if (!parse_number(value, 0, 4, &n))
		return fail(p, "'verify': expected a level 0 to 4, got '%s'", value);
	s->request_cert = true;
	s->require_cert = n >= 2;
	s->verify_chain = n >= 1 && n <= 3;
	s->verify_peer = n >= 3;
	return 0;
}

/* verifyChain/verifyPeer/requireCert = yes also ask for and require a certificate (stunnel). */
static int parse_verify_flag(struct parse *p, const struct conf_opt *opt, const char *value)
{
	int ret = parse_bool(p, opt, value);

	if (!ret && *(bool *)field(p, opt)) {
		p->svc->request_cert = true;
		p->svc->require_cert = true;
	}
	return ret;
}

static int parse_check_host(struct parse *p, const struct conf_opt *opt, const char *value)
{
	if (!p->meta->check_line)
		p->meta->check_line = p->line;
	return list_add(p, &p->svc->check_host, value);
}

static int parse_check_ip(struct parse *p, const struct conf_opt *opt, const char *value)
{
	unsigned char bin[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, value, bin) != 1 && inet_pton(AF_INET6, value, bin) != 1)
		return fail(p, "'checkIP': '%s' is not an IP address", value);
	if (!p->meta->check_line)
		p->meta->check_line = p->line;
	return list_add(p, &p->svc->check_ip, value);
}

/* ---- TLS parameters -------------------------------------------------------------------- */

static const struct keyword tls_versions[] = {
    {"all", 0},
    {"TLSv1", TLS1_VERSION},
    {"TLSv1.1", TLS1_1_VERSION},
    {"TLSv1.2", TLS1_2_VERSION},
    {"TLSv1.3", TLS1_3_VERSION},
    {NULL, 0},
};

static int tls_version(struct parse *p, const char *opt, const char *value, int *out)
{
	const struct keyword *w;
	char names[128];

	if (!strcasecmp(value, "SSLv2") || !strcasecmp(value, "SSLv3"))
		return fail(p, "'%s': %s is insecure and not supported", opt, value);
	w = keyword_find(tls_versions, value);
	if (!w) {
		keyword_list(tls_versions, names, sizeof(names));
		return fail(p, "'%s': expected %s, got '%s'", opt, names, value);
	}
	*out = w->value;
	return 0;
}

static const char *tls_version_name(int v)
{
	for (const struct keyword *w = tls_versions; w->name; w++)
		if (w->value == v)
			return w->name;
	return "?";
}

static int parse_ssl_version(struct parse *p, const struct conf_opt *opt, const char *value)
{
	int v, ret = tls_version(p, opt->name, value, &v);

	if (!ret) {
		p->svc->version_min = v;
		p->svc->version_max = v;
	}
	return ret;
}

static int parse_version_bound(struct parse *p, const struct conf_opt *opt, const char *value)
{
	int v, ret = tls_version(p, opt->name, value, &v);

	if (!ret)
		*(int *)field(p, opt) = v;
	return ret;
}

struct ssl_op {
	const char *name;
	uint64_t value;
};

/* OpenSSL 3.0's SSL_OP_ names, spelt as stunnel does (without the prefix). The obsolete ones
 * are 0 in OpenSSL 3.0; they stay accepted so that old stunnel files still load. */
static const struct ssl_op ssl_ops[] = {
    {"ALL", SSL_OP_ALL},
    {"ALLOW_CLIENT_RENEGOTIATION", SSL_OP_ALLOW_CLIENT_RENEGOTIATION},
    {"ALLOW_NO_DHE_KEX", SSL_OP_ALLOW_NO_DHE_KEX},
    {"ALLOW_UNSAFE_LEGACY_RENEGOTIATION", SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION},
    {"CIPHER_SERVER_PREFERENCE", SSL_OP_CIPHER_SERVER_PREFERENCE},
    {"CISCO_ANYCONNECT", SSL_OP_CISCO_ANYCONNECT},
    {"CLEANSE_PLAINTEXT", SSL_OP_CLEANSE_PLAINTEXT},
    {"COOKIE_EXCHANGE", SSL_OP_COOKIE_EXCHANGE},
    {"CRYPTOPRO_TLSEXT_BUG", SSL_OP_CRYPTOPRO_TLSEXT_BUG},
    {"DISABLE_TLSEXT_CA_NAMES", SSL_OP_DISABLE_TLSEXT_CA_NAMES},
    {"DONT_INSERT_EMPTY_FRAGMENTS", SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS},
    {"ENABLE_KTLS", SSL_OP_ENABLE_KTLS},
    {"ENABLE_MIDDLEBOX_COMPAT", SSL_OP_ENABLE_MIDDLEBOX_COMPAT},
    {"IGNORE_UNEXPECTED_EOF", SSL_OP_IGNORE_UNEXPECTED_EOF},
    {"LEGACY_SERVER_CONNECT", SSL_OP_LEGACY_SERVER_CONNECT},
    {"NO_ANTI_REPLAY", SSL_OP_NO_ANTI_REPLAY},
    {"NO_COMPRESSION", SSL_OP_NO_COMPRESSION},
    {"NO_DTLSv1", SSL_OP_NO_DTLSv1},
    {"NO_DTLSv1_2", SSL_OP_NO_DTLSv1_2},
    {"NO_ENCRYPT_THEN_MAC", SSL_OP_NO_ENCRYPT_THEN_MAC},
    {"NO_EXTENDED_MASTER_SECRET", SSL_OP_NO_EXTENDED_MASTER_SECRET},
    {"NO_QUERY_MTU", SSL_OP_NO_QUERY_MTU},
    {"NO_RENEGOTIATION", SSL_OP_NO_RENEGOTIATION},
    {"NO_SESSION_RESUMPTION_ON_RENEGOTIATION", SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION},
    {"NO_SSLv2", SSL_OP_NO_SSLv2},
    {"NO_SSLv3", SSL_OP_NO_SSLv3},
    {"NO_TICKET", SSL_OP_NO_TICKET},
    {"NO_TLSv1", SSL_OP_NO_TLSv1},
    {"NO_TLSv1_1", SSL_OP_NO_TLSv1_1},
    {"NO_TLSv1_2", SSL_OP_NO_TLSv1_2},
    {"NO_TLSv1_3", SSL_OP_NO_TLSv1_3},
    {"PRIORITIZE_CHACHA", SSL_OP_PRIORITIZE_CHACHA},
    {"SAFARI_ECDHE_ECDSA_BUG", SSL_OP_SAFARI_ECDHE_ECDSA_BUG},
    {"TLSEXT_PADDING", SSL_OP_TLSEXT_PADDING},
    {"TLS_ROLLBACK_BUG", SSL_OP_TLS_ROLLBACK_BUG},
    /* obsolete, 0 in OpenSSL 3.0 */
    {"EPHEMERAL_RSA", SSL_OP_EPHEMERAL_RSA},
    {"MICROSOFT_BIG_SSLV3_BUFFER", SSL_OP_MICROSOFT_BIG_SSLV3_BUFFER},
    {"MICROSOFT_SESS_ID_BUG", SSL_OP_MICROSOFT_SESS_ID_BUG},
    {"MSIE_SSLV2_RSA_PADDING", SSL_OP_MSIE_SSLV2_RSA_PADDING},
    {"NETSCAPE_CA_DN_BUG", SSL_OP_NETSCAPE_CA_DN_BUG},
    {"NETSCAPE_CHALLENGE_BUG", SSL_OP_NETSCAPE_CHALLENGE_BUG},
    {"NETSCAPE_DEMO_CIPHER_CHANGE_BUG", SSL_OP_NETSCAPE_DEMO_CIPHER_CHANGE_BUG},
    {"NETSCAPE_REUSE_CIPHER_CHANGE_BUG", SSL_OP_NETSCAPE_REUSE_CIPHER_CHANGE_BUG},
    {"PKCS1_CHECK_1", SSL_OP_PKCS1_CHECK_1},
    {"PKCS1_CHECK_2", SSL_OP_PKCS1_CHECK_2},
    {"SINGLE_DH_USE", SSL_OP_SINGLE_DH_USE},
    {"SINGLE_ECDH_USE", SSL_OP_SINGLE_ECDH_USE},
    {"SSLEAY_080_CLIENT_DH_BUG", SSL_OP_SSLEAY_080_CLIENT_DH_BUG},
    {"SSLREF2_REUSE_CERT_TYPE_BUG", SSL_OP_SSLREF2_REUSE_CERT_TYPE_BUG},
    {"TLS_BLOCK_PADDING_BUG", SSL_OP_TLS_BLOCK_PADDING_BUG},
    {"TLS_D5_BUG", SSL_OP_TLS_D5_BUG},
    {NULL, 0},
};

static int parse_ssl_options(struct parse *p, const struct conf_opt *opt, const char *value)
{
	bool clear = value[0] == '-';
	const char *name = clear ? value + 1 : value;
	const struct ssl_op *op;

	for (op = ssl_ops; op->name; op++)
		if (!strcasecmp(op->name, name))
			break;
	if (!op->name)
		return fail(p, "'options': unknown OpenSSL option '%s'", name);
	if (clear) {
		p->svc->options_clear |= op->value;
		p->svc->options_set &= ~(unsigned long long)op->value;
	} else {
		p->svc->options_set |= op->value;
		p->svc->options_clear &= ~(unsigned long long)op->value;
	}
	return 0;
}

/* Client mode only; server mode's `sni = service:pattern` is checked once `client` is known. */
static int parse_sni(struct parse *p, const struct conf_opt *opt, const char *value)
{
	p->meta->sni_line = p->line;
	return set_string(p, &p->svc->sni, value);
}

/* ---- socket options -------------------------------------------------------------------- */

enum sockopt_type { SOCKOPT_FLAG, SOCKOPT_INT, SOCKOPT_UNSUPPORTED };

struct sockopt_def {
	const char *name;
	int level;
	int optname;
	enum sockopt_type type;
};

/* The integer options of stunnel's table; those taking a struct or a string are refused by name
 * (struct conf_sockopt carries one int). */
static const struct sockopt_def sockopt_defs[] = {
    {"SO_DEBUG", SOL_SOCKET, SO_DEBUG, SOCKOPT_FLAG},
    {"SO_DONTROUTE", SOL_SOCKET, SO_DONTROUTE, SOCKOPT_FLAG},
    {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, SOCKOPT_FLAG},
    {"SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE, SOCKOPT_FLAG},
    {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, SOCKOPT_INT},
    {"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, SOCKOPT_INT},
    {"SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, SOCKOPT_INT},
    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, SOCKOPT_FLAG},
    {"SO_MARK", SOL_SOCKET, SO_MARK, SOCKOPT_INT},
    {"TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, SOCKOPT_INT},
    {"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, SOCKOPT_INT},
    {"TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, SOCKOPT_INT},
    {"TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG, SOCKOPT_INT},
    {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, SOCKOPT_FLAG},
    {"IP_TOS", IPPROTO_IP, IP_TOS, SOCKOPT_INT},
    {"IP_TTL", IPPROTO_IP, IP_TTL, SOCKOPT_INT},
    {"IP_FREEBIND", IPPROTO_IP, IP_FREEBIND, SOCKOPT_FLAG},
    {"IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY, SOCKOPT_FLAG},
    {"SO_LINGER", 0, 0, SOCKOPT_UNSUPPORTED},
    {"SO_RCVTIMEO", 0, 0, SOCKOPT_UNSUPPORTED},
    {"SO_SNDTIMEO", 0, 0, SOCKOPT_UNSUPPORTED},
    {"SO_SNDLOWAT", 0, 0, SOCKOPT_UNSUPPORTED},
    {"SO_BINDTODEVICE", 0, 0, SOCKOPT_UNSUPPORTED},
    {"IP_BINDANY", 0, 0, SOCKOPT_UNSUPPORTED},
    {"IPV6_BINDANY", 0, 0, SOCKOPT_UNSUPPORTED},
    {NULL, 0, 0, 0},
};

static int sockopt_add(struct parse *p, struct conf_service *svc, const struct conf_sockopt *o)
{
	struct conf_sockopt *grown =
	    reallocarray(svc->sockopts, svc->n_sockopts + 1, sizeof(*grown));

	if (!grown)
		return fail_nomem(p);
	svc->sockopts = grown;
	grown[svc->n_sockopts] = *o;
	grown[svc->n_sockopts].text = strdup(o->text);
	if (!grown[svc->n_sockopts].text)
		return fail_nomem(p);
	svc->n_sockopts++;
	return 0;
}

static int parse_socket(struct parse *p, const struct conf_opt *opt, const char *value)
{
	const struct sockopt_def *d;
	struct conf_sockopt o = {0};
	char name[64];
	const char *eq, *val;
	long n;

	if (!strchr("alr", value[0]) || value[1] != ':')
		return fail(p, "'socket': expected a:, l: or r: before the option, got '%s'",
			    value);
	o.role = (enum conf_sock_role)value[0];
	o.text = value + 2;
	eq = strchr(o.text, '=');
	if (!eq || eq == o.text)
		return fail(p, "'socket': expected %c:OPTION=VALUE, got '%s'", value[0], value);
	snprintf(name, sizeof(name), "%.*s", (int)(eq - o.text), o.text);
	val = eq + 1;
	for (d = sockopt_defs; d->name; d++)
		if (!strcasecmp(d->name, name))
			break;
	if (!d->name)
		return fail(p, "'socket': unknown socket option '%s'", name);
	if (d->type == SOCKOPT_UNSUPPORTED)
		return fail(p,
			    "'socket': %s is a stunnel socket option that ktlsrelay does not "
			    "support",
			    d->name);
	o.level = d->level;
	o.name = d->optname;
	/* stunnel's flags take yes/no or 1/0 */
	if (d->type == SOCKOPT_FLAG && keyword_find(yes_no, val))
		n = keyword_find(yes_no, val)->value;
	else if (!parse_number(val, d->type == SOCKOPT_FLAG ? 0 : INT_MIN,
			       d->type == SOCKOPT_FLAG ? 1 : INT_MAX, &n))
		return fail(p, "'socket': %s expects %s, got '%s'", d->name,
			    d->type == SOCKOPT_FLAG ? "yes, no, 1 or 0" : "a number", val);
	o.value = (int)n;
	return sockopt_add(p, p->svc, &o);
}

/* ---- the option table ------------------------------------------------------------------ */

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

static const struct conf_opt conf_options[] = {
    /* global */
    {"foreground", IN_GLOBAL, "yes | quiet | no", "no", parse_keyword, GLOBAL(foreground),
     foreground_words, false,
     "stay in the foreground; yes also logs to stderr (the --foreground flag forces yes)"},
    {"pid", IN_GLOBAL, "FILE", "none", parse_pid, 0, NULL, true,
     "pid file, inside the chroot when one is set; empty: none"},
    {"chroot", IN_GLOBAL, "DIRECTORY", "none", parse_string, GLOBAL(chroot), NULL, false,
     "directory to chroot into; pid and CApath are then paths inside it"},
    {"setuid", IN_GLOBAL, "USER", "keep", parse_setuid, 0, NULL, false,
     "user name or number to run as; resolved when the file is loaded"},
    {"setgid", IN_GLOBAL, "GROUP", "keep", parse_setgid, 0, NULL, false,
     "group name or number to run as; a user name means that user's primary group "
     "(so `setgid = nobody` works where the group is called nogroup)"},
    {"output", IN_GLOBAL, "FILE", "none", parse_string, GLOBAL(output), NULL, false,
     "append log messages to this file"},
    {"debug", IN_GLOBAL, "[FACILITY.]LEVEL", "daemon.notice", parse_debug, 0, NULL, false,
     "log level 0..7 or emerg|alert|crit|err|warning|notice|info|debug, with an optional "
     "syslog facility"},
    {"syslog", IN_GLOBAL, "yes | no", "yes", parse_bool, GLOBAL(syslog), NULL, false,
     "log to syslog"},
    {"workers", IN_GLOBAL, "0..256", "0", parse_workers, 0, NULL, false,
     "ktlsrelay: worker threads, each with its own io_uring; 0 means one per CPU"},

    /* services */
    {"accept", IN_SERVICE, "[HOST:]PORT", "-", parse_accept, 0, NULL, false,
     "listen here; a bare port listens on all IPv6 and IPv4 addresses; IPv6 as [::1]:443 or "
     "::1:443"},
    {"connect", IN_BOTH, "[HOST:]PORT", "-", parse_connect, 0, NULL, false,
     "forward to this address (repeatable); a bare port means localhost; names are resolved "
     "at load unless delay = yes"},
    {"failover", IN_BOTH, "rr | prio", "rr", parse_keyword, SVC(failover), failover_words, false,
     "with several connect addresses: round robin, or always in the order given"},
    {"delay", IN_BOTH, "yes | no", "no", parse_bool, SVC(delay), NULL, false,
     "resolve connect names for every connection instead of at load"},
    {"client", IN_BOTH, "yes | no", "no", parse_bool, SVC(client), NULL, false,
     "yes: plaintext in, TLS out; no: TLS in, plaintext out"},
    {"cert", IN_BOTH, "PEM_FILE", "none", parse_string, SVC(cert), NULL, false,
     "certificate chain (and the key unless key is given); required in server mode"},
    {"key", IN_BOTH, "PEM_FILE", "cert", parse_string, SVC(key), NULL, false, "private key"},
    {"CAfile", IN_BOTH, "FILE", "none", parse_string, SVC(ca_file), NULL, false,
     "trusted CA certificates for verifyChain and verifyPeer"},
    {"CApath", IN_BOTH, "DIRECTORY", "none", parse_string, SVC(ca_path), NULL, false,
     "directory of hashed trusted CA certificates"},
    {"verify", IN_BOTH, "0..4", "none", parse_verify, 0, NULL, false,
     "legacy: 0 request a certificate, 1 verify it if present, 2 verify the chain, "
     "3 the chain and the peer, 4 only the peer"},
    {"verifyChain", IN_BOTH, "yes | no", "no", parse_verify_flag, SVC(verify_chain), NULL, false,
     "require and verify the peer's certificate chain"},
    {"verifyPeer", IN_BOTH, "yes | no", "no", parse_verify_flag, SVC(verify_peer), NULL, false,
     "require the peer's certificate to be in CAfile or CApath"},
    {"requireCert", IN_BOTH, "yes | no", "no", parse_verify_flag, SVC(require_cert), NULL, false,
     "require a peer certificate"},
    {"checkHost", IN_BOTH, "HOST", "none", parse_check_host, 0, NULL, false,
     "accept only a peer certificate for this host name (repeatable; needs verifyChain or "
     "verifyPeer)"},
    {"checkIP", IN_BOTH, "IP", "none", parse_check_ip, 0, NULL, false,
     "accept only a peer certificate for this IP address (repeatable; needs verifyChain or "
     "verifyPeer)"},
    {"ciphers", IN_BOTH, "CIPHER_LIST", "OpenSSL's", parse_string, SVC(ciphers), NULL, false,
     "TLS 1.2 and older cipher list"},
    {"ciphersuites", IN_BOTH, "SUITES", "OpenSSL's", parse_string, SVC(ciphersuites), NULL, false,
     "TLS 1.3 cipher suites, colon separated"},
    {"curves", IN_BOTH, "LIST", "OpenSSL's", parse_string, SVC(curves), NULL, false,
     "key exchange groups, colon separated"},
    {"sslVersion", IN_BOTH, "all | TLSv1 | TLSv1.1 | TLSv1.2 | TLSv1.3", "TLSv1.3",
     parse_ssl_version, 0, NULL, false,
     "sets both sslVersionMin and sslVersionMax; all removes both bounds"},
    {"sslVersionMin", IN_BOTH, "all | TLSv1 | TLSv1.1 | TLSv1.2 | TLSv1.3", "TLSv1.3",
     parse_version_bound, SVC(version_min), NULL, false,
     "lowest TLS version; ktlsrelay speaks only TLS 1.3 unless the file allows older ones "
     "(e.g. sslVersionMin = TLSv1.2 or sslVersion = all); SSLv2 and SSLv3 are refused"},
    {"sslVersionMax", IN_BOTH, "all | TLSv1 | TLSv1.1 | TLSv1.2 | TLSv1.3", "TLSv1.3",
     parse_version_bound, SVC(version_max), NULL, false, "highest TLS version"},
    {"options", IN_BOTH, "[-]NAME", "none", parse_ssl_options, 0, NULL, false,
     "OpenSSL option without SSL_OP_ (NO_TICKET, ENABLE_KTLS, ...); -NAME clears it; "
     "repeatable"},
    {"sni", IN_BOTH, "SERVER_NAME", "connect host", parse_sni, 0, NULL, true,
     "client mode: the server name to send; empty sends none. Server-side virtual services "
     "(sni = service:pattern) are not supported"},
    {"socket", IN_BOTH, "a|l|r:OPTION=VALUE", "none", parse_socket, 0, NULL, false,
     "socket option on the accept, local or remote socket (repeatable): TCP_NODELAY, "
     "SO_KEEPALIVE, SO_SNDBUF, SO_RCVBUF, SO_REUSEADDR, TCP_KEEPIDLE, TCP_KEEPINTVL, "
     "TCP_KEEPCNT, IP_TOS, ..."},
    {"TIMEOUTbusy", IN_BOTH, "SECONDS", "300", parse_seconds, SVC(timeouts.busy), NULL, false,
     "time to wait for expected data"},
    {"TIMEOUTclose", IN_BOTH, "SECONDS", "60", parse_seconds, SVC(timeouts.close), NULL, false,
     "time to wait for close_notify"},
    {"TIMEOUTconnect", IN_BOTH, "SECONDS", "10", parse_seconds, SVC(timeouts.connect), NULL, false,
     "time to wait for the connect to the remote address"},
    {"TIMEOUTidle", IN_BOTH, "SECONDS", "43200", parse_seconds, SVC(timeouts.idle), NULL, false,
     "time to keep an idle connection"},
    {"sessionCacheSize", IN_BOTH, "NUMBER", "1000", parse_count, SVC(session_cache_size), NULL,
     false, "TLS session cache entries; 0 is unlimited"},
    {"sessionCacheTimeout", IN_BOTH, "SECONDS", "300", parse_count, SVC(session_cache_timeout),
     NULL, false, "how long a cached TLS session stays valid"},
    {"sessionResume", IN_BOTH, "yes | no", "yes", parse_bool, SVC(session_resume), NULL, false,
     "allow TLS session resumption"},
    {"ktls", IN_BOTH, "auto | on | off", "auto", parse_keyword, SVC(ktls), ktls_words, false,
     "ktlsrelay: auto moves data with kernel TLS when the kernel can, else in user space; on "
     "refuses connections the kernel cannot offload; off always uses user space"},
    {"maxconn", IN_BOTH, "NUMBER", "0", parse_count, SVC(maxconn), NULL, false,
     "ktlsrelay: most connections the service serves at once (as HAProxy's maxconn); one more "
     "is accepted and reset at once, with a log line; 0 is no limit"},
    {NULL, 0, NULL, NULL, NULL, 0, NULL, false, NULL},
};

/* stunnel 5.68's options that ktlsrelay does not implement. */
static const char *const conf_refused[] = {
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

/* ---- services -------------------------------------------------------------------------- */

static void service_free(struct conf_service *s)
{
	free(s->name);
	for (size_t i = 0; i < s->n_connect; i++)
		connect_free(&s->connect[i]);
	free(s->connect);
	free(s->cert);
	free(s->key);
	free(s->ca_file);
	free(s->ca_path);
	list_free(s->check_host);
	list_free(s->check_ip);
	free(s->ciphers);
	free(s->ciphersuites);
	free(s->curves);
	free(s->sni);
	for (size_t i = 0; i < s->n_sockopts; i++)
		free((char *)s->sockopts[i].text);
	free(s->sockopts);
}

static void service_defaults(struct conf_service *s)
{
	memset(s, 0, sizeof(*s));
	s->failover = CONF_FAILOVER_RR;
	/* TLS 1.3 only unless the file says otherwise: the product exists to prove TLS 1.3. */
	s->version_min = TLS1_3_VERSION;
	s->version_max = TLS1_3_VERSION;
	s->timeouts =
	    (struct conf_timeouts){.busy = 300, .close = 60, .connect = 10, .idle = 43200};
	s->session_cache_size = 1000;
	s->session_cache_timeout = 300;
	s->session_resume = true;
	s->ktls = CONF_KTLS_AUTO;
}

static int copy_string(struct parse *p, char **dst, const char *src)
{
	if (src && !(*dst = strdup(src)))
		return fail_nomem(p);
	return 0;
}

static int copy_list(struct parse *p, char ***dst, char **src)
{
	int ret = 0;

	for (size_t i = 0; src && src[i] && !ret; i++)
		ret = list_add(p, dst, src[i]);
	return ret;
}

/* A new service starts as a deep copy of the global defaults (stunnel's CMD_SET_COPY). s is
 * zeroed and already counted in conf, so conf_free frees whatever was copied before a failure. */
static int service_start(struct parse *p, struct conf_service *s, struct meta *m, const char *name)
{
	const struct conf_service *d = &p->defaults;
	int ret;

	s->client = d->client;
	s->failover = d->failover;
	s->delay = d->delay;
	s->request_cert = d->request_cert;
	s->require_cert = d->require_cert;
	s->verify_chain = d->verify_chain;
	s->verify_peer = d->verify_peer;
	s->version_min = d->version_min;
	s->version_max = d->version_max;
	s->options_set = d->options_set;
	s->options_clear = d->options_clear;
	s->timeouts = d->timeouts;
	s->session_cache_size = d->session_cache_size;
	s->session_cache_timeout = d->session_cache_timeout;
	s->session_resume = d->session_resume;
	s->maxconn = d->maxconn;
	s->ktls = d->ktls;
	s->file = p->conf->path;
	s->line = p->line;
	m->line = p->line;
	m->sni_line = p->defaults_meta.sni_line;
	m->check_line = p->defaults_meta.check_line;
	ret = copy_string(p, &s->name, name) ?: copy_string(p, &s->cert, d->cert) ?:
	      copy_string(p, &s->key, d->key) ?: copy_string(p, &s->ca_file, d->ca_file) ?:
	      copy_string(p, &s->ca_path, d->ca_path) ?: copy_string(p, &s->ciphers, d->ciphers) ?:
	      copy_string(p, &s->ciphersuites, d->ciphersuites) ?:
	      copy_string(p, &s->curves, d->curves) ?: copy_string(p, &s->sni, d->sni) ?:
	      copy_list(p, &s->check_host, d->check_host) ?:
	      copy_list(p, &s->check_ip, d->check_ip);
	for (size_t i = 0; !ret && i < d->n_connect; i++)
		ret = connect_add(p, s, m, d->connect[i].host, d->connect[i].port,
				  p->defaults_meta.connect_lines[i]);
	for (size_t i = 0; !ret && i < d->n_sockopts; i++)
		ret = sockopt_add(p, s, &d->sockopts[i]);
	return ret;
}

static int section_header(struct parse *p, char *line)
{
	size_t len = strlen(line);
	struct conf_service *grown;
	struct meta *metas;
	char *name;
	int ret;

	if (line[len - 1] != ']')
		return fail(p, "section header '%s' is not closed", line);
	line[len - 1] = '\0';
	name = trim(line + 1);
	if (!*name)
		return fail(p, "empty service name '[]'");
	for (size_t i = 0; i < p->conf->n_services; i++)
		if (!strcmp(p->conf->services[i].name, name))
			return fail(p, "duplicate service name '[%s]' (first on line %d)", name,
				    p->conf->services[i].line);
	grown = reallocarray(p->conf->services, p->conf->n_services + 1, sizeof(*grown));
	if (!grown)
		return fail_nomem(p);
	p->conf->services = grown;
	metas = reallocarray(p->metas, p->conf->n_services + 1, sizeof(*metas));
	if (!metas)
		return fail_nomem(p);
	p->metas = metas;
	p->svc = &grown[p->conf->n_services];
	p->meta = &metas[p->conf->n_services];
	/* counted before it is complete so that conf_free frees what was copied */
	memset(p->svc, 0, sizeof(*p->svc));
	memset(p->meta, 0, sizeof(*p->meta));
	p->conf->n_services++;
	ret = service_start(p, p->svc, p->meta, name);
	return ret;
}

/* ---- lines ----------------------------------------------------------------------------- */

static const struct conf_opt *option_find(const char *name)
{
	for (const struct conf_opt *o = conf_options; o->name; o++)
		if (!strcasecmp(o->name, name))
			return o;
	return NULL;
}

static int option_line(struct parse *p, char *line)
{
	char *eq = strchr(line, '=');
	const struct conf_opt *opt;
	char *name, *value;

	if (!eq)
		return fail(p, "expected 'option = value', got '%s'", line);
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (!*name)
		return fail(p, "expected 'option = value', got '= %s'", value);
	opt = option_find(name);
	if (!opt) {
		for (const char *const *r = conf_refused; *r; r++)
			if (!strcasecmp(*r, name))
				return fail(p,
					    "'%s' is a stunnel option that ktlsrelay does not "
					    "support",
					    *r);
		return fail(p, "unknown option '%s'", name);
	}
	if (opt->where == IN_SERVICE && p->svc == &p->defaults)
		return fail(p, "'%s' must be inside a [service] section", opt->name);
	if (opt->where == IN_GLOBAL && p->svc != &p->defaults)
		return fail(p, "'%s' is a global option; it cannot be set in [%s]", opt->name,
			    p->svc->name);
	if (!*value && !opt->empty_ok)
		return fail(p, "'%s' needs a value", opt->name);
	return opt->parse(p, opt, value);
}

/* A configuration file is a few kilobytes; stunnel's line limit is 16 KiB too. */
#define CONF_MAX_LINE 16384
#define CONF_MAX_FILE (1024 * 1024)

/* Opens the file only if it is a regular one of a sane size: a FIFO would block start-up or
 * a reload forever, and /dev/zero would be read until memory runs out. */
static int open_conf_file(const char *path, FILE **out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	int ret = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
	} else if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "cannot read %s: not a regular file", path);
	} else if (st.st_size > CONF_MAX_FILE) {
		ret = -EFBIG;
		snprintf(err, errlen, "cannot read %s: larger than %d bytes", path, CONF_MAX_FILE);
	} else if (!(*out = fdopen(fd, "r"))) {
		ret = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
	}
	if (ret && fd >= 0)
		close(fd);
	return ret;
}

static int read_file(struct parse *p, FILE *f)
{
	char *buf = NULL, *line;
	size_t cap = 0;
	int ret = 0;

	ssize_t len;

	while (!ret && (len = getline(&buf, &cap, f)) >= 0) {
		p->line++;
		if (len > CONF_MAX_LINE) {
			ret = fail(p, "line longer than %d bytes", CONF_MAX_LINE);
			break;
		}
		line = buf;
		/* a UTF-8 byte order mark, as Windows editors write (stunnel skips it too) */
		if (p->line == 1 && !strncmp(line, "\xef\xbb\xbf", 3))
			line += 3;
		line = trim(line);
		if (!*line || *line == ';' || *line == '#')
			continue;
		if (*line == '[')
			ret = section_header(p, line);
		else
			ret = option_line(p, line);
	}
	if (!ret && (ferror(f) || !feof(f))) {
		ret = errno ? -errno : -EIO;
		snprintf(p->err, p->errlen, "cannot read %s: %s", p->conf->path, strerror(-ret));
	}
	free(buf);
	return ret;
}

/* ---- checks after the whole file ------------------------------------------------------- */

static bool is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
}

static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* Whether two listeners would fight for a port: the same address, or a wildcard covering the
 * other (IPv6 "::" takes IPv4 too, as the listener clears IPV6_V6ONLY). */
static bool accepts_clash(const struct conf_addr *a, const struct conf_addr *b)
{
	if (port_of(&a->ss) != port_of(&b->ss))
		return false;
	if (a->ss.ss_family == AF_INET6 && is_any(&a->ss))
		return true;
	if (b->ss.ss_family == AF_INET6 && is_any(&b->ss))
		return true;
	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (is_any(&a->ss) || is_any(&b->ss))
		return true;
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)&b->ss)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
		       &((const struct sockaddr_in6 *)&b->ss)->sin6_addr, sizeof(struct in6_addr));
}

static int service_check(struct parse *p, struct conf_service *s, struct meta *m)
{
	const char *check;
	int ret = 0;

	if (!m->accept_line)
		return fail_at(p, m->line, "[%s] needs 'accept'", s->name);
	if (!s->n_connect)
		return fail_at(p, m->line, "[%s] needs 'connect'", s->name);
	if (!s->client && !s->cert)
		return fail_at(p, m->line, "[%s] in server mode needs 'cert'", s->name);
	if (!s->client && s->sni)
		return fail_at(p, m->sni_line,
			       "'sni': in server mode (client = no) sni means a virtual service "
			       "(sni = service:pattern), which ktlsrelay does not support");
	check = s->check_host ? "checkHost" : s->check_ip ? "checkIP" : NULL;
	if (check && !s->verify_chain && !s->verify_peer)
		return fail_at(p, m->check_line, "[%s] %s requires verifyChain or verifyPeer",
			       s->name, check);
	if ((s->verify_chain || s->verify_peer) && !s->ca_file && !s->ca_path)
		return fail_at(p, m->line, "[%s] %s needs 'CAfile' or 'CApath'", s->name,
			       s->verify_chain ? "verifyChain" : "verifyPeer");
	if (s->version_min && s->version_max && s->version_min > s->version_max)
		return fail_at(p, m->line,
			       "[%s] sslVersionMax %s is below sslVersionMin %s (the default "
			       "minimum is TLSv1.3: set sslVersionMin too)",
			       s->name, tls_version_name(s->version_max),
			       tls_version_name(s->version_min));
	if (!s->key && s->cert && !(s->key = strdup(s->cert)))
		return fail_nomem(p);
	for (size_t i = 0; !ret && !s->delay && i < s->n_connect; i++)
		ret = resolve_connect(p, &s->connect[i], m->connect_lines[i]);
	return ret;
}

static int conf_check(struct parse *p)
{
	struct conf *c = p->conf;
	int ret = 0;

	if (!c->n_services)
		return fail_at(p, 0, "no service defined");
	for (size_t i = 0; !ret && i < c->n_services; i++)
		ret = service_check(p, &c->services[i], &p->metas[i]);
	for (size_t i = 0; !ret && i < c->n_services; i++)
		for (size_t j = 0; !ret && j < i; j++)
			if (accepts_clash(&c->services[i].accept, &c->services[j].accept))
				ret =
				    fail_at(p, p->metas[i].accept_line,
					    "[%s] accept %s clashes with [%s] accept %s (line %d)",
					    c->services[i].name, c->services[i].accept.text,
					    c->services[j].name, c->services[j].accept.text,
					    p->metas[j].accept_line);
	return ret;
}

/* ---- public ---------------------------------------------------------------------------- */

void conf_free(struct conf *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; i < conf->n_services; i++)
		service_free(&conf->services[i]);
	free(conf->services);
	free(conf->path);
	free(conf->pid);
	free(conf->chroot);
	free(conf->setuid);
	free(conf->setgid);
	free(conf->output);
	free(conf);
}

int conf_load(const char *path, bool foreground, struct conf **out, char *err, size_t errlen)
{
	return conf_reload(path, foreground, NULL, out, err, errlen);
}

int conf_reload(const char *path, bool foreground, const struct conf *running, struct conf **out,
		char *err, size_t errlen)
{
	struct parse p = {.err = err, .errlen = errlen, .running = running};
	struct conf *c = calloc(1, sizeof(*c));
	FILE *f = NULL;
	int ret;

	*out = NULL;
	if (!c || !(c->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		ret = -ENOMEM;
		goto out;
	}
	c->foreground = CONF_FOREGROUND_NO;
	c->debug_level = LOG_NOTICE;
	c->syslog_facility = LOG_DAEMON;
	c->syslog = true;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	p.conf = c;
	service_defaults(&p.defaults);
	p.svc = &p.defaults;
	p.meta = &p.defaults_meta;

	ret = open_conf_file(path, &f, err, errlen);
	if (ret)
		goto out;
	ret = read_file(&p, f);
	if (!ret)
		ret = conf_check(&p);
	if (!ret && foreground)
		c->foreground = CONF_FOREGROUND_YES;
out:
	if (f)
		fclose(f);
	service_free(&p.defaults);
	free(p.defaults_meta.connect_lines);
	for (size_t i = 0; c && i < c->n_services; i++)
		free(p.metas[i].connect_lines);
	free(p.metas);
	if (ret) {
		conf_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

/* ---- help ------------------------------------------------------------------------------ */

static const char *where_text(enum where w)
{
	return w == IN_GLOBAL ? "global" : w == IN_SERVICE ? "service" : "global, service";
}

/* Markdown cells: "yes | no" would split the row. */
static void md_cell(FILE *f, const char *s)
{
	fputs("| ", f);
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc(' ', f);
}

void conf_print_options(enum conf_help_format format, void *file)
{
	FILE *f = file;

	if (format == CONF_HELP_MARKDOWN) {
		fputs("| Option | Section | Value | Default | Meaning |\n", f);
		fputs("| --- | --- | --- | --- | --- |\n", f);
		for (const struct conf_opt *o = conf_options; o->name; o++) {
			md_cell(f, o->name);
			md_cell(f, where_text(o->where));
			md_cell(f, o->syntax);
			md_cell(f, o->deflt);
			md_cell(f, o->help);
			fputs("|\n", f);
		}
		fputs("\nstunnel options that ktlsrelay refuses by name:", f);
		for (const char *const *r = conf_refused; *r; r++)
			fprintf(f, "%s `%s`", r == conf_refused ? "" : ",", *r);
		fputs(".\n", f);
		return;
	}
	fputs("Options (stunnel's format; service options in the global section are defaults\n"
	      "for every service):\n",
	      f);
	for (const struct conf_opt *o = conf_options; o->name; o++) {
		fprintf(f, "  %s = %s\n", o->name, o->syntax);
		fprintf(f, "      %s [%s; default: %s]\n", o->help, where_text(o->where), o->deflt);
	}
	fputs("Refused stunnel options:", f);
	for (const char *const *r = conf_refused; *r; r++)
		fprintf(f, " %s", *r);
	fputs("\n", f);
}
