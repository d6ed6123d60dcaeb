/* conf.c - stunnel's configuration file format, parsed into one immutable struct conf: reading
 * the file line by line, [sections], inheritance of the global defaults, and the checks that need
 * the whole file. Each option is a row of the table in conf_options.c; conf_parse.h lists the
 * files behind conf.h.
 *
 * As in stunnel, the global section doubles as the default service: at each `[name]` the service
 * starts as a deep copy of those defaults, and its own lines override them. Repeatable lists
 * (socket, checkHost, checkIP) keep the global entries first and add the service's; `connect`
 * lines in a service replace the global ones.
 *
 * Loading is reentrant (a reload runs while workers serve): all state lives in struct parse on
 * the caller's stack, and look-ups use getaddrinfo, getservbyname_r, getpwnam_r and getgrnam_r.
 */
#include "conf_parse.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/ssl.h>

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

/* ---- services -------------------------------------------------------------------------- */

static void service_free(struct conf_service *s)
{
	free(s->name);
	for (size_t i = 0; i < s->n_connect; i++)
		conf_connect_free(&s->connect[i]);
	free(s->connect);
	free(s->cert);
	free(s->key);
	free(s->ca_file);
	free(s->ca_path);
	free(s->crl_file);
	free(s->crl_path);
	conf_list_free(s->check_host);
	conf_list_free(s->check_ip);
	free(s->ciphers);
	free(s->ciphersuites);
	free(s->curves);
	free(s->sni);
	for (size_t i = 0; i < s->n_sockopts; i++)
		free((char *)s->sockopts[i].text);
	free(s->sockopts);
	explicit_bzero(&s->ticket_key, sizeof(s->ticket_key));
	explicit_bzero(&s->ticket_mac, sizeof(s->ticket_mac));
}

static void service_defaults(struct conf_service *s)
{
	memset(s, 0, sizeof(*s));
	s->security_level = 2;
	s->failover = CONF_FAILOVER_RR;
	/* stunnel's defaults (sslVersionMin = TLSv1, sslVersionMax = all), so that a stunnel.conf
	 * without sslVersion talks to the same peers. OpenSSL 3.0 allows TLS 1.0 and 1.1 only at
	 * security level 0, so at its default level this means TLS 1.2 and 1.3. */
	s->version_min = TLS1_VERSION;
	s->version_max = 0;
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
		return conf_fail_nomem(p);
	return 0;
}

static int copy_list(struct parse *p, char ***dst, char **src)
{
	int ret = 0;

	for (size_t i = 0; src && src[i] && !ret; i++)
		ret = conf_list_add(p, dst, src[i]);
	return ret;
}

/* A new service starts as a copy of the global defaults (stunnel's CMD_SET_COPY): the whole
 * struct, so that a field added later is inherited without a line here; then each pointer field,
 * which the defaults own, is cleared and copied deep. (A pointer field missing below would be
 * freed twice, by the service and by the defaults: the unit test that sets every option globally
 * finds it under ASan.) s is already counted in conf, so conf_free frees whatever was copied
 * before a failure. */
static int service_start(struct parse *p, struct conf_service *s, struct meta *m, const char *name)
{
	const struct conf_service *d = &p->defaults;
	int ret;

	*s = *d;
	s->name = NULL;
	s->connect = NULL;
	s->n_connect = 0;
	s->cert = s->key = s->ca_file = s->ca_path = NULL;
	s->crl_file = s->crl_path = NULL;
	s->check_host = s->check_ip = NULL;
	s->ciphers = s->ciphersuites = s->curves = s->sni = NULL;
	s->sockopts = NULL;
	s->n_sockopts = 0;

	s->file = p->file;
	s->line = p->line;
	m->line = p->line;
	m->sni_line = p->defaults_meta.sni_line;
	m->check_line = p->defaults_meta.check_line;
	ret = copy_string(p, &s->name, name) ?: copy_string(p, &s->cert, d->cert) ?:
	      copy_string(p, &s->key, d->key) ?: copy_string(p, &s->ca_file, d->ca_file) ?:
	      copy_string(p, &s->ca_path, d->ca_path) ?: copy_string(p, &s->crl_file, d->crl_file) ?:
	      copy_string(p, &s->crl_path, d->crl_path) ?: copy_string(p, &s->ciphers, d->ciphers) ?:
	      copy_string(p, &s->ciphersuites, d->ciphersuites) ?:
	      copy_string(p, &s->curves, d->curves) ?: copy_string(p, &s->sni, d->sni) ?:
	      copy_list(p, &s->check_host, d->check_host) ?:
	      copy_list(p, &s->check_ip, d->check_ip);
	for (size_t i = 0; !ret && i < d->n_connect; i++)
		ret = conf_connect_add(p, s, m, d->connect[i].host, d->connect[i].port,
				       p->defaults_meta.connect_lines[i]);
	for (size_t i = 0; !ret && i < d->n_sockopts; i++)
		ret = conf_sockopt_add(p, s, &d->sockopts[i]);
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
		return conf_fail(p, "section header '%s' is not closed", line);
	line[len - 1] = '\0';
	name = trim(line + 1);
	if (!*name)
		return conf_fail(p, "empty service name '[]'");
	for (size_t i = 0; i < p->conf->n_services; i++) {
		const struct conf_service *first = &p->conf->services[i];

		if (strcmp(first->name, name))
			continue;
		if (first->file == p->file)
			return conf_fail(p, "duplicate service name '[%s]' (first on line %d)",
					 name, first->line);
		return conf_fail(p, "duplicate service name '[%s]' (first at %s:%d)", name,
				 first->file, first->line);
	}
	grown = reallocarray(p->conf->services, p->conf->n_services + 1, sizeof(*grown));
	if (!grown)
		return conf_fail_nomem(p);
	p->conf->services = grown;
	metas = reallocarray(p->metas, p->conf->n_services + 1, sizeof(*metas));
	if (!metas)
		return conf_fail_nomem(p);
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

static int option_line(struct parse *p, char *line)
{
	char *eq = strchr(line, '=');
	const struct conf_opt *opt;
	char *name, *value;

	if (!eq)
		return conf_fail(p, "expected 'option = value', got '%s'", line);
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (!*name)
		return conf_fail(p, "expected 'option = value', got '= %s'", value);
	opt = conf_option_find(name);
	if (!opt) {
		for (const char *const *r = conf_refused; *r; r++)
			if (!strcasecmp(*r, name))
				return conf_fail(p,
						 "'%s' is a stunnel option that ktlsrelay does not "
						 "support",
						 *r);
		return conf_fail(p, "unknown option '%s'", name);
	}
	if (opt->where == IN_SERVICE && p->svc == &p->defaults)
		return conf_fail(p, "'%s' must be inside a [service] section", opt->name);
	if (opt->where == IN_GLOBAL && p->svc != &p->defaults)
		return conf_fail(p, "'%s' is a global option; it cannot be set in [%s]", opt->name,
				 p->svc->name);
	if (!*value && !opt->empty_ok)
		return conf_fail(p, "'%s' needs a value", opt->name);
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
			ret = conf_fail(p, "line longer than %d bytes", CONF_MAX_LINE);
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
		snprintf(p->err, p->errlen, "cannot read %s: %s", p->file, strerror(-ret));
	}
	free(buf);
	return ret;
}

/* ---- include --------------------------------------------------------------------------- */

/* Deeper than this is surely a directory that includes itself. */
#define CONF_MAX_INCLUDE_DEPTH 8

static int conf_file_filter(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 && !strcmp(d->d_name + len - 5, ".conf");
}

/* include = DIRECTORY: every *.conf in it, in ascending (strcmp) order of names, read as if its
 * lines stood here; errors name the included file and its line. The names are kept in
 * conf->included: services point to the file they start in. */
int conf_parse_include(struct parse *p, const struct conf_opt *opt, const char *value)
{
	const char *saved_file = p->file;
	int saved_line = p->line, n, ret = 0;
	struct dirent **names = NULL;
	size_t count = 0;

	if (p->depth >= CONF_MAX_INCLUDE_DEPTH)
		return conf_fail(p, "'include': nested more than %d deep (does %s include itself?)",
				 CONF_MAX_INCLUDE_DEPTH, value);
	n = scandir(value, &names, conf_file_filter, alphasort);
	if (n < 0)
		return conf_fail(p, "'include': cannot read directory %s: %s", value,
				 strerror(errno));
	for (char **f = p->conf->included; f && *f; f++)
		count++;
	for (int i = 0; i < n; i++) {
		char **grown, *name = NULL, why[600];
		FILE *f = NULL;

		if (!ret && asprintf(&name, "%s/%s", value, names[i]->d_name) < 0) {
			name = NULL;
			ret = conf_fail_nomem(p);
		}
		if (!ret && !(grown = reallocarray(p->conf->included, count + 2, sizeof(*grown)))) {
			ret = conf_fail_nomem(p);
		} else if (!ret) {
			p->conf->included = grown;
			grown[count++] = name;
			grown[count] = NULL;
			name = NULL;
			ret = open_conf_file(grown[count - 1], &f, why, sizeof(why));
			if (ret)
				conf_fail(p, "'include': %s", why);
		}
		if (!ret) {
			p->file = p->conf->included[count - 1];
			p->line = 0;
			p->depth++;
			ret = read_file(p, f);
			p->depth--;
			if (!ret) {
				p->file = saved_file;
				p->line = saved_line;
			}
		}
		if (f)
			fclose(f);
		free(name);
		free(names[i]);
	}
	free(names);
	return ret;
}

/* ---- checks after the whole file ------------------------------------------------------- */

static int service_check(struct parse *p, struct conf_service *s, struct meta *m)
{
	const char *check;
	int ret = 0;

	if (!m->accept_line)
		return conf_fail_at(p, m->line, "[%s] needs 'accept'", s->name);
	if (!s->n_connect)
		return conf_fail_at(p, m->line, "[%s] needs 'connect'", s->name);
	if (!s->client && !s->cert)
		return conf_fail_at(p, m->line, "[%s] in server mode needs 'cert'", s->name);
	if (!s->client && s->sni)
		return conf_fail_at(
		    p, m->sni_line,
		    "'sni': in server mode (client = no) sni means a virtual service "
		    "(sni = service:pattern), which ktlsrelay does not support");
	check = s->check_host ? "checkHost" : s->check_ip ? "checkIP" : NULL;
	if (check && !s->verify_chain && !s->verify_peer)
		return conf_fail_at(p, m->check_line, "[%s] %s requires verifyChain or verifyPeer",
				    s->name, check);
	if ((s->verify_chain || s->verify_peer) && !s->ca_file && !s->ca_path)
		return conf_fail_at(p, m->line, "[%s] %s needs 'CAfile' or 'CApath'", s->name,
				    s->verify_chain ? "verifyChain" : "verifyPeer");
	if (s->version_min && s->version_max && s->version_min > s->version_max)
		return conf_fail_at(p, m->line, "[%s] sslVersionMax %s is below sslVersionMin %s",
				    s->name, conf_tls_version_name(s->version_max),
				    conf_tls_version_name(s->version_min));
	if (!s->ticket_key.len != !s->ticket_mac.len)
		return conf_fail_at(
		    p, m->line, "[%s] 'ticketKeySecret' and 'ticketMacSecret' must be set together",
		    s->name);
	if (!s->key && s->cert && !(s->key = strdup(s->cert)))
		return conf_fail_nomem(p);
	for (size_t i = 0; !ret && !s->delay && i < s->n_connect; i++)
		ret = conf_resolve_connect(p, &s->connect[i], m->connect_lines[i]);
	return ret;
}

static int conf_check(struct parse *p)
{
	struct conf *c = p->conf;
	int ret = 0;

	if (!c->n_services)
		return conf_fail_at(p, 0, "no service defined");
	/* a service's lines are in the file its section starts in (a section that goes on into
	 * the next included file is named by its first) */
	for (size_t i = 0; !ret && i < c->n_services; i++) {
		p->file = c->services[i].file;
		ret = service_check(p, &c->services[i], &p->metas[i]);
	}
	for (size_t i = 0; !ret && i < c->n_services; i++)
		for (size_t j = 0; !ret && j < i; j++) {
			const struct conf_service *a = &c->services[i], *b = &c->services[j];

			if (!conf_accepts_clash(&a->accept, &b->accept))
				continue;
			p->file = a->file;
			if (a->file == b->file)
				ret = conf_fail_at(p, p->metas[i].accept_line,
						   "[%s] accept %s clashes with [%s] accept %s (line %d)",
						   a->name, a->accept.text, b->name, b->accept.text,
						   p->metas[j].accept_line);
			else
				ret = conf_fail_at(p, p->metas[i].accept_line,
						   "[%s] accept %s clashes with [%s] accept %s (%s:%d)",
						   a->name, a->accept.text, b->name, b->accept.text,
						   b->file, p->metas[j].accept_line);
		}
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
	conf_list_free(conf->included);
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
	p.file = c->path;
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
