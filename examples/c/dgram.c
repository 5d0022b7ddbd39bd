/*
 * dgram.c - SOCK_DGRAM: sendto a named socket, recvfrom it, with message
 * boundaries kept.
 */
#include <stdio.h>
#include <string.h>

#include "mk.h"

int main(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = "/tmp/dgram" };
	struct sockaddr_un me = { .sun_family = AF_UNIX, .sun_path = "/tmp/dgram-client" };
	struct sockaddr_un from;
	socklen_t fromlen;
	char buf[64];
	ssize_t n;

	mk_init();

	int server_fd = mk_socket(AF_UNIX, SOCK_DGRAM, 0);
	mk_bind(server_fd, (struct sockaddr *)&addr, sizeof(addr));

	/* Datagram socket */
	int dgram_fd = mk_socket(AF_UNIX, SOCK_DGRAM, 0);
	mk_bind(dgram_fd, (struct sockaddr *)&me, sizeof(me));
	n = mk_sendto(dgram_fd, "Message", 7, 0, (struct sockaddr *)&addr, sizeof(addr));
	printf("sendto: %zd\n", n);
	n = mk_sendto(dgram_fd, "Two", 3, 0, (struct sockaddr *)&addr, sizeof(addr));
	printf("sendto: %zd\n", n);

	/* one datagram per recvfrom, whatever the buffer's size */
	fromlen = sizeof(from);
	n = mk_recvfrom(server_fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fromlen);
	buf[n < 0 ? 0 : n] = '\0';
	printf("recvfrom: \"%s\" (%zd bytes) from %s\n", buf, n, from.sun_path);
	fromlen = sizeof(from);
	n = mk_recvfrom(server_fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fromlen);
	buf[n < 0 ? 0 : n] = '\0';
	printf("recvfrom: \"%s\" (%zd bytes) from %s\n", buf, n, from.sun_path);

	/* nothing more queued */
	n = mk_recv(server_fd, buf, sizeof(buf), MSG_DONTWAIT);
	printf("recv: %zd, errno %d (EAGAIN)\n", n, mk_errno);

	/* a path nobody is bound to */
	struct sockaddr_un nobody = { .sun_family = AF_UNIX, .sun_path = "/tmp/nobody" };
	n = mk_sendto(dgram_fd, "x", 1, 0, (struct sockaddr *)&nobody, sizeof(nobody));
	printf("sendto /tmp/nobody: %zd, errno %d (ENOENT)\n", n, mk_errno);

	mk_close(dgram_fd);
	mk_close(server_fd);
	mk_unlink(addr.sun_path);
	mk_unlink(me.sun_path);
	printf("sockets left: %ld\n", mk_fini());
	return 0;
}
