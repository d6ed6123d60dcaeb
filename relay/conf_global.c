/* conf_global.c - the options of the global section itself: log, privileges, pid, workers.
 *
 * setuid and setgid names are resolved when the file is loaded, with the reentrant look-ups
 * (getpwnam_r, getgrnam_r): a reload runs while workers serve, and inside a chroot. */
#include "conf_parse.h"

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

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

int conf_parse_debug(struct parse *p, const struct conf_opt *opt, const char *value)
{
	const char *dot = strchr(value, '.');
	const char *level = dot ? dot + 1 : value;
	const struct keyword *w;
	int facility = p->conf->syslog_facility;
	long n;

	if (dot) {
		char name[32];

		snprintf(name, sizeof(name), "%.*s", (int)(dot - value), value);
		w = conf_keyword_find(facilities, name);
		if (!w)
			return conf_fail(p, "'debug': unknown syslog facility '%s'", name);
		facility = w->value;
	}
	w = conf_keyword_find(levels, level);
	if (w) {
		n = w->value;
	} else if (!conf_parse_number(level, 0, 7, &n)) {
		return conf_fail(
		    p,
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
int conf_parse_setuid(struct parse *p, const struct conf_opt *opt, const char *value)
{
	uid_t uid = 0;
	gid_t gid;
	long n;

	if (conf_parse_number(value, 0, INT_MAX, &n)) {
		uid = (uid_t)n;
	} else if (p->running && p->running->setuid && !strcmp(p->running->setuid, value)) {
		/* A reload runs inside the chroot, usually without /etc/passwd: the same name
		 * means the uid already in force. */
		uid = p->running->uid;
	} else if (lookup_user(value, &uid, &gid)) {
		return conf_fail(p, "'setuid': no user '%s'", value);
	}
	p->conf->uid = uid;
	return conf_set_string(p, &p->conf->setuid, value);
}

int conf_parse_setgid(struct parse *p, const struct conf_opt *opt, const char *value)
{
	gid_t gid = 0;
	uid_t uid;
	long n;

	/* Debian has no group "nobody" (it is "nogroup"), yet the seed's files, written on RHEL,
	 * say `setgid = nobody`; they must run unchanged. So a name that is not a group but is a
	 * user means that user's primary group. */
	if (conf_parse_number(value, 0, INT_MAX, &n))
		gid = (gid_t)n;
	else if (p->running && p->running->setgid && !strcmp(p->running->setgid, value))
		gid = p->running->gid; /* reload inside the chroot: see conf_parse_setuid */
	else if (lookup_group(value, &gid) && lookup_user(value, &uid, &gid))
		return conf_fail(p, "'setgid': no group '%s'", value);
	p->conf->gid = gid;
	return conf_set_string(p, &p->conf->setgid, value);
}

/* stunnel: "If the argument is empty, then no pid file will be created." */
int conf_parse_pid(struct parse *p, const struct conf_opt *opt, const char *value)
{
	if (!*value) {
		free(p->conf->pid);
		p->conf->pid = NULL;
		return 0;
	}
	return conf_set_string(p, &p->conf->pid, value);
}

int conf_parse_workers(struct parse *p, const struct conf_opt *opt, const char *value)
{
	long n;

	if (!conf_parse_number(value, 0, 256, &n))
		return conf_fail(p, "'workers': expected 0 (one per CPU) or 1 to 256, got '%s'",
				 value);
	p->conf->workers = (int)n;
	return 0;
}

/* metrics = [HOST:]PORT: "9100" is 127.0.0.1:9100 (an endpoint that says this much about the
 * traffic is not for every network unless the file says so); "[::1]:9100" and "::1:9100" are
 * IPv6, the last colon splitting as in accept. */
int conf_parse_metrics(struct parse *p, const struct conf_opt *opt, const char *value)
{
	struct conf_addr *a = &p->conf->metrics;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	char buf[sizeof(a->text)], *host = "127.0.0.1", *port = buf, *colon;
	long n;
	int gai;

	if (strlen(value) >= sizeof(buf))
		return conf_fail(p, "'metrics': address '%s' is too long", value);
	strcpy(buf, value);
	colon = strrchr(buf, ':');
	if (colon) {
		*colon = '\0';
		port = colon + 1;
		host = buf;
		if (buf[0] == '[' && colon > buf + 1 && colon[-1] == ']') {
			colon[-1] = '\0';
			host = buf + 1;
		}
	}
	if (!*host || !conf_parse_number(port, 1, 65535, &n))
		return conf_fail(
		    p, "'metrics': expected [HOST:]PORT with a port 1..65535, got '%s'", value);
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai)
		return conf_fail(p, "'metrics': cannot resolve '%s': %s", host, gai_strerror(gai));
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	snprintf(a->text, sizeof(a->text), "%s", value);
	freeaddrinfo(res);
	return 0;
}
