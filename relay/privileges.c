/* privileges.c - daemonizing and dropping privileges. */
#include "privileges.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int privileges_daemonize(char *err, size_t errlen)
{
	int fds[2];
	pid_t pid;
	unsigned char status = 1;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid > 0) {
		close(fds[1]);
		/* EOF without a verdict: the child died during start-up. */
		if (read(fds[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(fds[0]);
	setsid();
	return fds[1];
}

void privileges_ready(int fd, int status)
{
	unsigned char s = status;
	int null;

	if (fd < 0)
		return;
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(fd, &s, 1) < 0) {
		/* the parent is gone; nothing to tell */
	}
	close(fd);
}

static int write_pid(const struct conf *conf, char *err, size_t errlen)
{
	char text[32];
	int fd, len;

	if (!conf->pid || !*conf->pid)
		return 0;
	fd = open(conf->pid, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write pid file %s%s: %s", conf->pid,
			 conf->chroot ? " (inside the chroot)" : "", strerror(errno));
		return -errno;
	}
	len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (write(fd, text, len) != len) {
		snprintf(err, errlen, "cannot write pid file %s: %s", conf->pid, strerror(errno));
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

int privileges_drop(const struct conf *conf, char *err, size_t errlen)
{
	/* conf_load resolved the names, before a chroot hides /etc/passwd. */
	uid_t uid = conf->uid;
	gid_t gid = conf->gid;
	int ret;

	if (conf->chroot && (chroot(conf->chroot) < 0 || chdir("/") < 0)) {
		snprintf(err, errlen, "chroot %s: %s", conf->chroot, strerror(errno));
		return -errno;
	}
	ret = write_pid(conf, err, errlen);
	if (ret < 0)
		return ret;
	if (gid != (gid_t)-1 && (setgroups(1, &gid) < 0 || setgid(gid) < 0)) {
		snprintf(err, errlen, "setgid %s: %s", conf->setgid ? conf->setgid : "", strerror(errno));
		return -errno;
	}
	if (uid != (uid_t)-1 && setuid(uid) < 0) {
		snprintf(err, errlen, "setuid %s: %s", conf->setuid, strerror(errno));
		return -errno;
	}
	return 0;
}

void privileges_remove_pid(const struct conf *conf)
{
	if (conf->pid && *conf->pid)
		unlink(conf->pid); /* may fail once privileges are dropped; stunnel's behaviour too */
}
