/* log.h - the relay's log: stderr (foreground), a file (`output`), syslog.
 * One sink per process, configured at start and on reload; safe from every thread. */
#ifndef RELAY_LOG_H
#define RELAY_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

struct conf;

/* Points the log at what conf asks for. Opens `output` (before chroot, like stunnel).
 * Returns 0 or -errno with err filled. */
int log_configure(const struct conf *conf, bool to_stderr, char *err, size_t errlen);
/* SIGUSR1: reopens the log file at its path (after a rotation). On failure the old file is
 * kept and err says why; the caller logs it (into the old file). */
int log_reopen(char *err, size_t errlen);
void log_close(void);
bool log_enabled(int level);

void relay_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void relay_vlog(int level, const char *prefix, const char *fmt, va_list ap);

#endif
