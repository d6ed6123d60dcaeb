/* conf_help.c - `--help` and `--options-markdown` (the README's table), printed from the option
 * table. */
#include "conf_parse.h"

#include <stdio.h>

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
