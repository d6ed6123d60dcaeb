/* notify.h - the service manager's readiness protocol (systemd's sd_notify(3), spoken directly).
 *
 * NOTIFY_SOCKET names a datagram socket: a path, or "@name" in the abstract namespace. Each
 * message is one datagram of NEWLINE-separated VAR=VALUE lines (READY=1, RELOADING=1,
 * STOPPING=1, STATUS=..., MONOTONIC_USEC=...). The manager learns the sender's PID from the
 * kernel (SCM_CREDENTIALS), so only the main process may send (systemd's NotifyAccess=main).
 *
 * Why not libsystemd's sd_notify: it resolves the socket's path at every send, which fails once
 * the relay has chrooted. notify_open connects the socket before the chroot; a connected
 * datagram socket keeps its peer whatever the process's root or user becomes.
 *
 * Usage:
 *	int fd;
 *	if (notify_open(&fd, why, sizeof(why)) < 0) ... // fd = -1 when NOTIFY_SOCKET is unset
 *	notify_send(fd, "READY=1\nSTATUS=%s", "serving");
 * Returns 0 or -errno; notify_send on fd -1 does nothing and returns 0. */
#ifndef RELAY_NOTIFY_H
#define RELAY_NOTIFY_H

#include <stddef.h>

/* Connects to $NOTIFY_SOCKET and unsets it (nothing the relay starts should talk for it).
 * *fd = -1 and 0 when it is not set. */
int notify_open(int *fd, char *why, size_t whylen);
/* One datagram, formatted like printf. */
int notify_send(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "RELOADING=1" with MONOTONIC_USEC (CLOCK_MONOTONIC now, in microseconds), as systemd wants. */
int notify_reloading(int fd);
void notify_close(int fd);

#endif
