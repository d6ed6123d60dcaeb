/* log.c - one log sink for the whole process.
 *
 * This is the one piece of process-wide mutable state outside main.c: every thread logs, and the
 * sink changes only at start, on reload and on SIGUSR1, under the mutex. A line is formatted on the
 * caller's stack and written with one write() so lines from several workers never interleave. */
#include "log.h"
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"emerg",  "alert", "crit", "err",
					  "warning", "notice", "info", "debug"};

static struct {
	pthread_mutex_t lock;
	int level; /* messages above this are dropped */
	bool to_stderr;
	bool to_syslog;
	int file_fd;
	char file_path[4096];
} sink = {.lock = PTHREAD_MUTEX_INITIALIZER, .level = LOG_NOTICE, .to_stderr = true, .file_fd = -1};

int log_configure(const struct conf *conf, bool to_stderr, char *err, size_t errlen)
{
	int fd = -1;

	if (conf->output) {
		fd = open(conf->output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open log file %s: %s", conf->output,
				 strerror(errno));
			return -errno;
		}
	}
	pthread_mutex_lock(&sink.lock);
	if (sink.file_fd >= 0)
		close(sink.file_fd);
	sink.file_fd = fd;
	snprintf(sink.file_path, sizeof(sink.file_path), "%s", conf->output ? conf->output : "");
	sink.level = conf->debug_level;
	sink.to_stderr = to_stderr;
	sink.to_syslog = conf->syslog && !conf->output;
	if (sink.to_syslog)
		/* LOG_NDELAY: connect to /dev/log now, before a chroot hides it. */
		openlog("ktlsrelay", LOG_PID | LOG_NDELAY, conf->syslog_facility);
	pthread_mutex_unlock(&sink.lock);
	return 0;
}

int log_reopen(char *err, size_t errlen)
{
	int fd, ret = 0;

	pthread_mutex_lock(&sink.lock);
	if (sink.file_fd >= 0 && sink.file_path[0]) {
		fd = open(sink.file_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd >= 0) {
			close(sink.file_fd);
			sink.file_fd = fd;
		} else {
			ret = -errno;
			snprintf(err, errlen, "cannot reopen the log file %s: %s; still writing to the old one",
				 sink.file_path, strerror(errno));
		}
	}
	pthread_mutex_unlock(&sink.lock);
	return ret;
}

void log_close(void)
{
	pthread_mutex_lock(&sink.lock);
	if (sink.file_fd >= 0)
		close(sink.file_fd);
	sink.file_fd = -1;
	if (sink.to_syslog)
		closelog();
	sink.to_syslog = false;
	pthread_mutex_unlock(&sink.lock);
}

bool log_enabled(int level)
{
	return level <= __atomic_load_n(&sink.level, __ATOMIC_RELAXED);
}

void relay_vlog(int level, const char *prefix, const char *fmt, va_list ap)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	int head, len;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	head = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			tm.tm_sec, ts.tv_nsec / 1000000, level_names[level & 7]);
	len = head + snprintf(line + head, sizeof(line) - head, "%s", prefix ? prefix : "");
	if (len < (int)sizeof(line))
		len += vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (len > (int)sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';

	pthread_mutex_lock(&sink.lock);
	if (sink.to_stderr && write(STDERR_FILENO, line, len) < 0) {
		/* nowhere left to report it */
	}
	if (sink.file_fd >= 0 && write(sink.file_fd, line, len) < 0) {
	}
	if (sink.to_syslog)
		syslog(level, "%.*s", len - head - 1, line + head);
	pthread_mutex_unlock(&sink.lock);
}

void relay_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	relay_vlog(level, NULL, fmt, ap);
	va_end(ap);
}
