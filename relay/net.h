/* net.h - small socket helpers: listen, socket options, addresses as text, reset. */
#ifndef RELAY_NET_H
#define RELAY_NET_H

#include "conf.h"

#include <stddef.h>
#include <sys/socket.h>

#define NET_ADDR_TEXT 64

/* "1.2.3.4:5", "[::1]:5"; IPv4-mapped IPv6 addresses are shown as IPv4. */
void net_addr_text(const struct sockaddr *sa, char *buf, size_t len);
void net_peer_text(int fd, char *buf, size_t len);

/* Fails (EADDRINUSE, with err) when another socket already listens on addr. */
int net_check_free(const struct conf_addr *addr, char *err, size_t errlen);
/* A listening socket for addr, non-blocking, SO_REUSEADDR and SO_REUSEPORT (each worker listens
 * on its own socket of the group), `a:` socket options applied. Returns fd or -errno. */
int net_listen(const struct conf_addr *addr, const struct conf_sockopt *opts, size_t n_opts,
	       char *err, size_t errlen);
/* Applies the options of one role (`a:`, `l:`, `r:`). Returns 0 or -errno with err filled. */
int net_apply_sockopts(int fd, enum conf_sock_role role, const struct conf_sockopt *opts,
		       size_t n_opts, char *err, size_t errlen);
/* Closes with an RST (SO_LINGER 0): the peer sees a reset, never a clean end of stream. */
void net_close_reset(int fd);

#endif
