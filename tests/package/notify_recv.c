/* notify_recv - stands in for systemd's notify socket in the tests: binds a datagram socket at
 * PATH (or @NAME, abstract), and prints each datagram it receives as one line,
 * "pid=SENDER MESSAGE" with the message's newlines as spaces, flushed at once. The sender's PID
 * comes from the kernel (SO_PASSCRED), as systemd learns it. Runs until killed.
 *
 *   notify_recv PATH|@NAME */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t salen;
	size_t len;
	int s, on = 1;

	if (argc != 2 || (len = strlen(argv[1])) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify_recv PATH|@NAME\n");
		return 2;
	}
	memcpy(sa.sun_path, argv[1], len);
	if (argv[1][0] == '@')
		sa.sun_path[0] = '\0';
	salen = offsetof(struct sockaddr_un, sun_path) + len + (argv[1][0] != '@');
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0 ||
	    bind(s, (struct sockaddr *)&sa, salen) < 0) {
		perror("notify_recv");
		return 1;
	}
	for (;;) {
		char buf[4096], cbuf[CMSG_SPACE(sizeof(struct ucred))];
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf)};
		struct cmsghdr *c;
		long pid = -1;
		ssize_t n = recvmsg(s, &mh, 0);

		if (n < 0) {
			perror("notify_recv: recvmsg");
			return 1;
		}
		buf[n] = '\0';
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
				struct ucred cred;
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
				pid = cred.pid;
			}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = ' ';
		printf("pid=%ld %s\n", pid, buf);
		fflush(stdout);
	}
}
