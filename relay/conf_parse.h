/* conf_parse.h - what the relay/conf*.c files share, and no one else includes: the parse state,
 * the option row, the helpers every option parser uses and the parsers the option table names.
 *
 * conf.h is the public interface (struct conf, conf_load). The files behind it, one concept each:
 *   conf.c          loading a file: lines, [sections], inheritance of the global defaults, checks
 *   conf_parse.c    errors with FILE:LINE, and the value parsers many options share
 *   conf_options.c  the option table and stunnel's options refused by name
 *   conf_global.c   the global section's own options (log, privileges, pid, workers)
 *   conf_addr.c     accept and connect addresses
 *   conf_tls.c      TLS parameters: certificates and their checks, versions, OpenSSL options
 *   conf_sockopt.c  socket = a|l|r:OPTION=VALUE
 *   conf_help.c     --help and the README table, from the option table
 *
 * Every parser returns 0 or -errno; on failure it has written one line to p->err ("FILE:LINE:
 * what is wrong").
 */
#ifndef KTLSRELAY_CONF_PARSE_H
#define KTLSRELAY_CONF_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

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
	const char *file; /* the file being read (an included one, or conf->path), for errors */
	int line;
	int depth; /* include nesting */
	struct conf_service *svc; /* the section being read: &defaults or the last service */
	struct meta *meta;
	struct conf_service defaults;
	struct meta defaults_meta;
	struct meta *metas;	    /* parallel to conf->services */
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

/* Which struct a row's field lies in. */
enum field_in {
	FIELD_NONE,    /* the row's parser writes what it writes itself */
	FIELD_CONF,    /* struct conf: a global option */
	FIELD_SERVICE, /* struct conf_service: the section being read */
};

/* One option. Rows are written with designated initializers; a generic parser's field is given
 * with SVC(member) or GLOBAL(member) (conf_options.c), which record its offset and width, and the
 * parser reaches it only through conf_field(), which refuses a width other than the one it
 * writes: a row cannot point a bool parser at a long. */
struct conf_opt {
	const char *name;
	enum where where;
	const char *syntax;
	const char *deflt;
	parse_fn parse;
	enum field_in in;
	size_t off;		     /* the field the generic parsers fill */
	size_t size;		     /* its width */
	const struct keyword *words; /* conf_parse_keyword's accepted values */
	bool empty_ok;
	const char *help;
};

/* The option table (conf_options.c): one row per option, ended by a row with name NULL. */
extern const struct conf_opt conf_options[];
/* stunnel 5.68's options that ktlsrelay refuses by name; NULL-terminated. */
extern const char *const conf_refused[];
const struct conf_opt *conf_option_find(const char *name);

/* ---- errors and helpers (conf_parse.c) ------------------------------------------------- */

/* An error on a given line (0: the file as a whole); returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int conf_fail_at(struct parse *p, int line, const char *fmt,
						       ...);
/* An error on the line being read; returns -EINVAL. */
__attribute__((format(printf, 2, 3))) int conf_fail(struct parse *p, const char *fmt, ...);
int conf_fail_nomem(struct parse *p);

/* Accepts a whole decimal number in [min, max]. */
bool conf_parse_number(const char *s, long min, long max, long *out);
/* The field a row names, in struct conf (global rows) or the section being read; NULL, with the
 * error written, when the row's field is not `size` bytes wide in the struct its section means. */
void *conf_field(struct parse *p, const struct conf_opt *opt, size_t size);
int conf_set_string(struct parse *p, char **dst, const char *value);
/* Appends to a NULL-terminated string list. */
int conf_list_add(struct parse *p, char ***list, const char *value);
void conf_list_free(char **list);
const struct keyword *conf_keyword_find(const struct keyword *words, const char *name);
/* "yes, quiet or no" */
void conf_keyword_list(const struct keyword *words, char *buf, size_t len);
extern const struct keyword conf_yes_no[];

/* ---- the parsers the option table names ------------------------------------------------ */

/* generic: they fill the row's field (conf_parse.c) */
int conf_parse_string(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_bool(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_keyword(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_seconds(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_count(struct parse *p, const struct conf_opt *opt, const char *value);

/* the global section (conf_global.c) */
int conf_parse_debug(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_setuid(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_setgid(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_pid(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_workers(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_metrics(struct parse *p, const struct conf_opt *opt, const char *value);

/* include = DIRECTORY (conf.c, which reads files) */
int conf_parse_include(struct parse *p, const struct conf_opt *opt, const char *value);

/* addresses (conf_addr.c) */
int conf_parse_accept(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_connect(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_connect_add(struct parse *p, struct conf_service *svc, struct meta *m, const char *host,
		     const char *port, int line);
void conf_connect_free(struct conf_connect *c);
/* Resolves one connect line's host and port (done once the whole file is read: `delay` may
 * come after `connect`). */
int conf_resolve_connect(struct parse *p, struct conf_connect *c, int line);
/* Whether two listeners would fight for a port. */
bool conf_accepts_clash(const struct conf_addr *a, const struct conf_addr *b);

/* TLS parameters (conf_tls.c) */
int conf_parse_verify(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_verify_flag(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_check_host(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_check_ip(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_ssl_version(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_version_bound(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_ssl_options(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_sni(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_secret(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_security_level(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_parse_reset(struct parse *p, const struct conf_opt *opt, const char *value);
/* "TLSv1.2" for TLS1_2_VERSION, "all" for 0 */
const char *conf_tls_version_name(int v);

/* socket options (conf_sockopt.c) */
int conf_parse_socket(struct parse *p, const struct conf_opt *opt, const char *value);
int conf_sockopt_add(struct parse *p, struct conf_service *svc, const struct conf_sockopt *o);

#endif
