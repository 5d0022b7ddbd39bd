/*
 * scm_rights.c - pass a file descriptor over a Unix socket (SCM_RIGHTS).
 *
 * The sender passes one end of a socketpair and closes its own copy; the
 * receiver gets a new fd for the same open file and writes through it, and
 * the bytes come out of the pair's other end.
 */
#include <stdio.h>
#include <string.h>

#include "mk.h"

static int send_fd(int sock, int fd_to_send)
{
	/* Send file descriptor via Unix socket */
	struct msghdr msg;
	struct cmsghdr *cmsg;
	char cmsg_buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = "F", .iov_len = 1 };

	memset(&msg, 0, sizeof(msg));
	memset(cmsg_buf, 0, sizeof(cmsg_buf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsg_buf;
	msg.msg_controllen = sizeof(cmsg_buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	*(int *)CMSG_DATA(cmsg) = fd_to_send;
	return (int)mk_sendmsg(sock, &msg, 0);
}

/* The fd a message on @sock carried, or -1. */
static int recv_fd(int sock)
{
	struct msghdr msg;
	struct cmsghdr *cmsg;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	char data[1];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	int fd = -1;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	if (mk_recvmsg(sock, &msg, 0) < 0)
		return -1;
	if (msg.msg_flags & MSG_CTRUNC)
		printf("recvmsg: control data truncated\n");
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
		    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	}
	return fd;
}

int main(void)
{
	int chan[2], pair[2];
	char buf[64];
	ssize_t n;

	mk_init();
	mk_socketpair(AF_UNIX, SOCK_STREAM, 0, chan);	/* the Unix socket carrying the fd */
	mk_socketpair(AF_UNIX, SOCK_STREAM, 0, pair);	/* the open file passed */

	int fd_to_send = pair[1];
	printf("sendmsg: %d\n", send_fd(chan[0], fd_to_send));
	mk_close(fd_to_send);		/* the message holds the file now */

	/* the lowest free fd: the one just closed, a new reference to the
	 * same open file */
	int fd = recv_fd(chan[1]);
	printf("received fd %d\n", fd);

	n = mk_send(fd, "through the passed fd", 21, 0);
	printf("send on the received fd: %zd\n", n);
	n = mk_recv(pair[0], buf, sizeof(buf) - 1, 0);
	buf[n < 0 ? 0 : n] = '\0';
	printf("read at the other end: \"%s\"\n", buf);

	/* an fd that is not open: EBADF, and nothing sent */
	int r = send_fd(chan[0], 31);
	printf("sendmsg of fd 31: %d, errno %d (EBADF)\n", r, mk_errno);

	mk_close(fd);
	mk_close(pair[0]);
	mk_close(chan[0]);
	mk_close(chan[1]);
	printf("sockets left: %ld\n", mk_fini());
	return 0;
}
