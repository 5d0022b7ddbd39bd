/*
 * sys/socket.h - the user-visible socket constants menios implements.
 * Values are Linux's, so they can be mixed with the host's.
 */
#ifndef MENIOS_SYS_SOCKET_H
#define MENIOS_SYS_SOCKET_H

#define AF_UNSPEC	0
#define AF_UNIX		1
#define AF_LOCAL	AF_UNIX
#define PF_UNIX		AF_UNIX

#define SOCK_STREAM	1
#define SOCK_DGRAM	2
#define SOCK_RAW	3	/* AF_UNIX treats it as SOCK_DGRAM */
#define SOCK_SEQPACKET	5
#define SOCK_MAX	11
#define SOCK_TYPE_MASK	0xf
#define SOCK_CLOEXEC	02000000
#define SOCK_NONBLOCK	04000

#define SOL_SOCKET	1
#define SO_DEBUG	1
#define SO_REUSEADDR	2
#define SO_TYPE		3
#define SO_ERROR	4
#define SO_DONTROUTE	5
#define SO_BROADCAST	6
#define SO_SNDBUF	7
#define SO_RCVBUF	8
#define SO_KEEPALIVE	9
#define SO_OOBINLINE	10
#define SO_NO_CHECK	11
#define SO_PASSCRED	16
#define SO_PEERCRED	17
#define SO_RCVLOWAT	18
#define SO_SNDLOWAT	19
#define SO_RCVTIMEO	20
#define SO_SNDTIMEO	21
#define SO_ACCEPTCONN	30
#define SO_SNDBUFFORCE	32
#define SO_RCVBUFFORCE	33
#define SO_PASSSEC	34
#define SO_PROTOCOL	38
#define SO_DOMAIN	39
#define SO_RXQ_OVFL	40
#define SO_WIFI_STATUS	41
#define SO_PEEK_OFF	42
#define SO_NOFCS	43
#define SO_LOCK_FILTER	44
#define SO_SELECT_ERR_QUEUE	45
#define SO_BUSY_POLL	46
#define SO_RCVMARK	75
#define SO_RCVPRIORITY	82
#define SO_PASSRIGHTS	83

#define SCM_RIGHTS	1
#define SCM_CREDENTIALS	2
#define SCM_MAX_FD	253

#define MSG_OOB		0x1
#define MSG_PEEK	0x2
#define MSG_DONTROUTE	0x4
#define MSG_CTRUNC	0x8
#define MSG_TRUNC	0x20
#define MSG_DONTWAIT	0x40
#define MSG_EOR		0x80
#define MSG_WAITALL	0x100
#define MSG_NOSIGNAL	0x4000
#define MSG_MORE	0x8000
#define MSG_ZEROCOPY	0x4000000
#define MSG_CMSG_CLOEXEC 0x40000000

#define SHUT_RD		0
#define SHUT_WR		1
#define SHUT_RDWR	2

#define POLLIN		0x001
#define POLLPRI		0x002
#define POLLOUT		0x004
#define POLLERR		0x008
#define POLLHUP		0x010
#define POLLNVAL	0x020
#define POLLRDNORM	0x040
#define POLLRDBAND	0x080
#define POLLWRNORM	0x100
#define POLLWRBAND	0x200
#define POLLRDHUP	0x2000

/*
 * Addresses and messages, laid out as 64-bit Linux's.  These names are the
 * ones a C library's <sys/socket.h> and <sys/uio.h> also declare: include
 * this header instead of those, not beside them.  <stdio.h>, <string.h>,
 * <stdlib.h>, <pthread.h> and <unistd.h> declare none of them, except
 * socklen_t (<unistd.h>), which is typedef'd to the same type here (a C11
 * redefinition), and struct iovec, which some C library headers reach
 * (glibc's <fcntl.h>) and which is declared only when glibc's own
 * declaration (__iovec_defined) is not in scope.
 */
typedef unsigned int socklen_t;
typedef unsigned short sa_family_t;

struct sockaddr {
	sa_family_t sa_family;
	char sa_data[14];
};

#ifndef __iovec_defined
#define __iovec_defined 1
struct iovec {
	void *iov_base;
	__SIZE_TYPE__ iov_len;
};
#endif

struct msghdr {
	void *msg_name;			/* sendto/recvfrom address, or NULL */
	socklen_t msg_namelen;
	struct iovec *msg_iov;
	__SIZE_TYPE__ msg_iovlen;
	void *msg_control;		/* ancillary data: struct cmsghdr, each aligned */
	__SIZE_TYPE__ msg_controllen;
	int msg_flags;			/* recvmsg: MSG_TRUNC, MSG_CTRUNC, ... */
};

struct cmsghdr {
	__SIZE_TYPE__ cmsg_len;		/* header and data, unaligned */
	int cmsg_level;			/* SOL_SOCKET */
	int cmsg_type;			/* SCM_RIGHTS, SCM_CREDENTIALS */
};

/* Control message walking, as Linux's include/linux/socket.h defines it:
 * every header starts at a sizeof(long) boundary. */
#define CMSG_ALIGN(len) \
	(((len) + sizeof(long) - 1) & ~(__SIZE_TYPE__)(sizeof(long) - 1))
#define CMSG_DATA(cmsg) \
	((unsigned char *)(cmsg) + CMSG_ALIGN(sizeof(struct cmsghdr)))
#define CMSG_SPACE(len)	(CMSG_ALIGN(sizeof(struct cmsghdr)) + CMSG_ALIGN(len))
#define CMSG_LEN(len)	(CMSG_ALIGN(sizeof(struct cmsghdr)) + (len))
#define CMSG_FIRSTHDR(msg) \
	((msg)->msg_controllen >= sizeof(struct cmsghdr) ? \
	 (struct cmsghdr *)(msg)->msg_control : (struct cmsghdr *)0)
#define CMSG_NXTHDR(msg, cmsg)	__menios_cmsg_nxthdr((msg), (cmsg))

static inline struct cmsghdr *__menios_cmsg_nxthdr(const struct msghdr *msg,
						     const struct cmsghdr *cmsg)
{
	unsigned char *end = (unsigned char *)msg->msg_control + msg->msg_controllen;
	unsigned char *next;

	if (cmsg->cmsg_len < sizeof(struct cmsghdr))
		return (struct cmsghdr *)0;
	next = (unsigned char *)cmsg + CMSG_ALIGN(cmsg->cmsg_len);
	if ((__SIZE_TYPE__)(end - next) < sizeof(struct cmsghdr) || next > end)
		return (struct cmsghdr *)0;
	if (CMSG_ALIGN(((struct cmsghdr *)next)->cmsg_len) > (__SIZE_TYPE__)(end - next))
		return (struct cmsghdr *)0;
	return (struct cmsghdr *)next;
}

/* SCM_CREDENTIALS' payload */
struct ucred {
	int pid;
	unsigned int uid;
	unsigned int gid;
};

#endif
