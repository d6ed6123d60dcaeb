/* privileges.h - what a daemon does between loading its files and serving: detach from the
 * terminal (reporting start-up success to the parent), chroot, pid file, setgid/setuid. */
#ifndef RELAY_PRIVILEGES_H
#define RELAY_PRIVILEGES_H

#include "conf.h"

#include <stddef.h>

/* Forks. The parent waits for the child's start-up verdict and exits with it; the child returns
 * the descriptor to report it on (privileges_ready). Returns -errno on failure. */
int privileges_daemonize(char *err, size_t errlen);
/* Tells a waiting parent how start-up went (0 = serving) and detaches stdio from the terminal. */
void privileges_ready(int fd, int status);
/* chroot (then chdir "/"), the pid file (its path inside the chroot, written as root), setgid,
 * setuid, in that order, like stunnel. */
int privileges_drop(const struct conf *conf, char *err, size_t errlen);
void privileges_remove_pid(const struct conf *conf);

#endif
