/* holdserver - a TCP backend that takes connections and never reads: a stuck application.
 *
 * Two faults a relay's backend can have, which socat cannot play:
 *   --accept     accept every connection and keep it open without ever reading or writing: the
 *                relay's writes fill the socket buffers, then it can move nothing more (a hung
 *                consumer). --rcvbuf BYTES keeps the receive buffer small, so that happens soon.
 *   --blackhole  listen with a backlog of 0, never accept, and fill the queue with one connection
 *                of its own: Linux then drops every further SYN (tcp_conn_request: the accept
 *                queue is full), so a connect to this port neither succeeds nor fails; only the
 *                connector's own timeout (TIMEOUTconnect) ends it. A dead host, on loopback.
 *
 * Usage: holdserver PORT --accept [--rcvbuf BYTES] | holdserver PORT --blackhole
 * Runs until killed; "holdserver: ready" on stderr once it listens; one line per accepted
 * connection.
 */
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "holdserver: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1, rcvbuf = 0, lfd, fd, accepted = 0;
	bool blackhole;

	if (argc < 3 || (strcmp(argv[2], "--accept") && strcmp(argv[2], "--blackhole"))) {
		fprintf(stderr, "usage: holdserver PORT --accept [--rcvbuf BYTES] | "
				"holdserver PORT --blackhole\n");
		return 1;
	}
	sa.sin_port = htons(atoi(argv[1]));
	blackhole = !strcmp(argv[2], "--blackhole");
	if (argc == 5 && !strcmp(argv[3], "--rcvbuf"))
		rcvbuf = atoi(argv[4]);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		die("socket");
	/* Set on the listener, inherited by accepted sockets: it must be set before the
	 * handshake, when the window is agreed. */
	if (rcvbuf > 0 && setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		die("SO_RCVBUF");
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (listen(lfd, blackhole ? 0 : 64) < 0)
		die("listen");
	if (blackhole) {
		/* With a backlog of 0 the queue is full once it holds one connection. */
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("filling the accept queue");
		fprintf(stderr, "holdserver: ready (blackhole: the accept queue is full)\n");
		for (;;)
			pause();
	}
	fprintf(stderr, "holdserver: ready (accepting, never reading)\n");
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		fprintf(stderr, "holdserver: accepted connection %d, holding it\n", ++accepted);
	}
}
