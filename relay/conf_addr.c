/* conf_addr.c - `accept` and `connect` addresses: "[host:]port", IPv6 as "[::1]:443" or
 * "::1:443", port numbers or service names; resolved with getaddrinfo and getservbyname_r, which
 * are reentrant (a reload runs while workers serve). */
#include "conf_parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

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
		if (!conf_parse_number(port, 1, 65535, &n))
			return conf_fail(p, "'%s': port '%s' is out of range 1..65535", opt, port);
		*num = (int)n;
		return 0;
	}
	if (!*port || getservbyname_r(port, "tcp", &se, buf, sizeof(buf), &res) || !res)
		return conf_fail(p, "'%s': port '%s' is not a number or a known service name", opt,
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

int conf_parse_accept(struct parse *p, const struct conf_opt *opt, const char *value)
{
	struct conf_addr *a = &p->svc->accept;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	char buf[sizeof(a->text)];
	char *host, *port;
	int num, ret, gai;

	if (p->meta->accept_line)
		return conf_fail(p, "'accept' given twice in [%s] (first on line %d)", p->svc->name,
				 p->meta->accept_line);
	if (strlen(value) >= sizeof(buf))
		return conf_fail(p, "'accept': address '%s' is too long", value);
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
			ret = conf_fail(p, "'accept': cannot resolve '%s': %s", host,
					gai_strerror(gai));
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

void conf_connect_free(struct conf_connect *c)
{
	free(c->host);
	free(c->port);
	free(c->addrs);
}

static void connects_free(struct conf_service *svc, struct meta *m)
{
	for (size_t i = 0; i < svc->n_connect; i++)
		conf_connect_free(&svc->connect[i]);
	free(svc->connect);
	free(m->connect_lines);
	svc->connect = NULL;
	svc->n_connect = 0;
	m->connect_lines = NULL;
}

int conf_connect_add(struct parse *p, struct conf_service *svc, struct meta *m, const char *host,
		     const char *port, int line)
{
	struct conf_connect *grown = reallocarray(svc->connect, svc->n_connect + 1, sizeof(*grown));
	int *lines;

	if (!grown)
		return conf_fail_nomem(p);
	svc->connect = grown;
	lines = reallocarray(m->connect_lines, svc->n_connect + 1, sizeof(*lines));
	if (!lines)
		return conf_fail_nomem(p);
	m->connect_lines = lines;
	memset(&grown[svc->n_connect], 0, sizeof(*grown));
	grown[svc->n_connect].host = strdup(host);
	grown[svc->n_connect].port = strdup(port);
	lines[svc->n_connect] = line;
	svc->n_connect++;
	if (!grown[svc->n_connect - 1].host || !grown[svc->n_connect - 1].port)
		return conf_fail_nomem(p);
	return 0;
}

/* Only checked here; resolved after the whole file is read, since `delay` may come later. */
int conf_parse_connect(struct parse *p, const struct conf_opt *opt, const char *value)
{
	char *buf = strdup(value);
	char *host, *port;
	int num, ret;

	if (!buf)
		return conf_fail_nomem(p);
	split_host_port(buf, &host, &port);
	ret = check_port(p, "connect", port, &num);
	if (ret)
		goto out;
	if (p->svc != &p->defaults && !p->meta->own_connect) {
		connects_free(p->svc, p->meta);
		p->meta->own_connect = true;
	}
	/* stunnel: "If no host is specified, the host defaults to localhost." */
	ret = conf_connect_add(p, p->svc, p->meta, host ? host : "localhost", port, p->line);
out:
	free(buf);
	return ret;
}

int conf_resolve_connect(struct parse *p, struct conf_connect *c, int line)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL, *ai;
	size_t n = 0;
	int gai, ret = 0;

	gai = getaddrinfo(c->host, c->port, &hints, &res);
	if (gai) {
		ret = conf_fail_at(p, line, "'connect': cannot resolve '%s': %s", c->host,
				   gai_strerror(gai));
		goto out;
	}
	for (ai = res; ai; ai = ai->ai_next)
		n++;
	c->addrs = calloc(n, sizeof(*c->addrs));
	if (!c->addrs) {
		ret = conf_fail_nomem(p);
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

/* ---- clashes between listeners --------------------------------------------------------- */

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
bool conf_accepts_clash(const struct conf_addr *a, const struct conf_addr *b)
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
