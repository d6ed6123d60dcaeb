/* conf_sockopt.c - `socket = a|l|r:OPTION=VALUE`: stunnel's integer socket options, checked
 * by name and value when the file is loaded and applied by the listener and the connections. */
#include "conf_parse.h"

#include <limits.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

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

int conf_sockopt_add(struct parse *p, struct conf_service *svc, const struct conf_sockopt *o)
{
	struct conf_sockopt *grown =
	    reallocarray(svc->sockopts, svc->n_sockopts + 1, sizeof(*grown));

	if (!grown)
		return conf_fail_nomem(p);
	svc->sockopts = grown;
	grown[svc->n_sockopts] = *o;
	grown[svc->n_sockopts].text = strdup(o->text);
	if (!grown[svc->n_sockopts].text)
		return conf_fail_nomem(p);
	svc->n_sockopts++;
	return 0;
}

int conf_parse_socket(struct parse *p, const struct conf_opt *opt, const char *value)
{
	const struct sockopt_def *d;
	struct conf_sockopt o = {0};
	char name[64];
	const char *eq, *val;
	long n;

	if (!strchr("alr", value[0]) || value[1] != ':')
		return conf_fail(p, "'socket': expected a:, l: or r: before the option, got '%s'",
				 value);
	o.role = (enum conf_sock_role)value[0];
	o.text = value + 2;
	eq = strchr(o.text, '=');
	if (!eq || eq == o.text)
		return conf_fail(p, "'socket': expected %c:OPTION=VALUE, got '%s'", value[0],
				 value);
	snprintf(name, sizeof(name), "%.*s", (int)(eq - o.text), o.text);
	val = eq + 1;
	for (d = sockopt_defs; d->name; d++)
		if (!strcasecmp(d->name, name))
			break;
	if (!d->name)
		return conf_fail(p, "'socket': unknown socket option '%s'", name);
	if (d->type == SOCKOPT_UNSUPPORTED)
		return conf_fail(p,
				 "'socket': %s is a stunnel socket option that ktlsrelay does not "
				 "support",
				 d->name);
	o.level = d->level;
	o.name = d->optname;
	/* stunnel's flags take yes/no or 1/0 */
	if (d->type == SOCKOPT_FLAG && conf_keyword_find(conf_yes_no, val))
		n = conf_keyword_find(conf_yes_no, val)->value;
	else if (!conf_parse_number(val, d->type == SOCKOPT_FLAG ? 0 : INT_MIN,
				    d->type == SOCKOPT_FLAG ? 1 : INT_MAX, &n))
		return conf_fail(p, "'socket': %s expects %s, got '%s'", d->name,
				 d->type == SOCKOPT_FLAG ? "yes, no, 1 or 0" : "a number", val);
	o.value = (int)n;
	return conf_sockopt_add(p, p->svc, &o);
}
