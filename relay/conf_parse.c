/* conf_parse.c - what every option parser uses: errors that name FILE:LINE, numbers, strings,
 * lists and keywords, and the generic parsers that fill one field of a row. */
#include "conf_parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- errors ---------------------------------------------------------------------------- */

static int vfail_at(struct parse *p, int line, const char *fmt, va_list ap)
{
	int n = 0;

	const char *file = p->file ? p->file : p->conf->path;

	if (line > 0)
		n = snprintf(p->err, p->errlen, "%s:%d: ", file, line);
	else
		n = snprintf(p->err, p->errlen, "%s: ", file);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

int conf_fail_at(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail_at(p, line, fmt, ap);
	va_end(ap);
	return ret;
}

/* An error on the line being read. */
int conf_fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail_at(p, p->line, fmt, ap);
	va_end(ap);
	return ret;
}

int conf_fail_nomem(struct parse *p)
{
	conf_fail(p, "out of memory");
	return -ENOMEM;
}

/* ---- small helpers --------------------------------------------------------------------- */

bool conf_parse_number(const char *s, long min, long max, long *out)
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

void *conf_field(struct parse *p, const struct conf_opt *opt, size_t size)
{
	bool global = opt->where == IN_GLOBAL;
	char *base = global ? (char *)p->conf : (char *)p->svc;

	if (opt->in != (global ? FIELD_CONF : FIELD_SERVICE) || opt->size != size) {
		conf_fail(p,
			  "'%s': the option table gives its parser a %zu-byte field of struct %s, "
			  "not the %zu bytes it writes",
			  opt->name, opt->size,
			  opt->in == FIELD_CONF	     ? "conf"
			  : opt->in == FIELD_SERVICE ? "conf_service"
						     : "(none)",
			  size);
		return NULL;
	}
	return base + opt->off;
}

int conf_set_string(struct parse *p, char **dst, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return conf_fail_nomem(p);
	free(*dst);
	*dst = copy;
	return 0;
}

/* Appends to a NULL-terminated string list. */
int conf_list_add(struct parse *p, char ***list, const char *value)
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
		return conf_fail_nomem(p);
	}
	grown[n] = copy;
	grown[n + 1] = NULL;
	*list = grown;
	return 0;
}

void conf_list_free(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

const struct keyword *conf_keyword_find(const struct keyword *words, const char *name)
{
	for (; words->name; words++)
		if (!strcasecmp(words->name, name))
			return words;
	return NULL;
}

/* "yes, quiet or no" */
void conf_keyword_list(const struct keyword *words, char *buf, size_t len)
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

const struct keyword conf_yes_no[] = {
    {"yes", 1},
    {"no", 0},
    {NULL, 0},
};

int conf_parse_string(struct parse *p, const struct conf_opt *opt, const char *value)
{
	char **dst = conf_field(p, opt, sizeof(*dst));

	return dst ? conf_set_string(p, dst, value) : -EINVAL;
}

/* Only stunnel's yes and no: anything else is more likely a typo than an intent. */
int conf_parse_bool(struct parse *p, const struct conf_opt *opt, const char *value)
{
	const struct keyword *w = conf_keyword_find(conf_yes_no, value);
	bool *dst = conf_field(p, opt, sizeof(*dst));

	if (!dst)
		return -EINVAL;
	if (!w)
		return conf_fail(p, "'%s': expected yes or no, got '%s'", opt->name, value);
	*dst = w->value;
	return 0;
}

/* Writes an int into the row's field, an enum: conf_field checks that the enum is int-wide. */
int conf_parse_keyword(struct parse *p, const struct conf_opt *opt, const char *value)
{
	const struct keyword *w = conf_keyword_find(opt->words, value);
	int *dst = conf_field(p, opt, sizeof(*dst));
	char names[128];

	if (!dst)
		return -EINVAL;
	if (!w) {
		conf_keyword_list(opt->words, names, sizeof(names));
		return conf_fail(p, "'%s': expected %s, got '%s'", opt->name, names, value);
	}
	*dst = w->value;
	return 0;
}

int conf_parse_seconds(struct parse *p, const struct conf_opt *opt, const char *value)
{
	int *dst = conf_field(p, opt, sizeof(*dst));
	long v;

	if (!dst)
		return -EINVAL;
	if (!conf_parse_number(value, 0, INT_MAX, &v))
		return conf_fail(p, "'%s': expected a number of seconds (0 or more), got '%s'",
				 opt->name, value);
	*dst = (int)v;
	return 0;
}

int conf_parse_count(struct parse *p, const struct conf_opt *opt, const char *value)
{
	long *dst = conf_field(p, opt, sizeof(*dst));
	long v;

	if (!dst)
		return -EINVAL;
	if (!conf_parse_number(value, 0, LONG_MAX, &v))
		return conf_fail(p, "'%s': expected a number (0 or more), got '%s'", opt->name,
				 value);
	*dst = v;
	return 0;
}
