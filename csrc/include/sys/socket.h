/*
 * sys/socket.h - the user-visible socket constants and types menios
 * implements, with Linux's values and 64-bit Linux's layouts.
 *
 * It sits beside a C library's headers without clashing, in either order:
 *   - hosted (a user-space program, the Python extension): it includes the
 *     C library's <sys/socket.h> and takes its types and constants, which
 *     are Linux's; it then defines only what that header lacks (kernel
 *     names such as SOCK_MAX and SCM_MAX_FD, options newer than the C
 *     library, the POLL* bits of <poll.h>), each under #ifndef and spelt
 *     as the C library spells it, so a later <sys/socket.h> or <poll.h> is
 *     a no-op or an identical redefinition;
 *   - freestanding (-ffreestanding, or no C library header to be found:
 *     a kernel): it defines everything itself.
 * struct ucred is the C library's only with _GNU_SOURCE, as there.
 */
#ifndef MENIOS_SYS_SOCKET_H
#define MENIOS_SYS_SOCKET_H

#if __STDC_HOSTED__ && defined(__has_include)
#if __has_include(<sys/socket.h>)
#include <sys/socket.h>
#ifdef SOL_SOCKET
#define MENIOS_LIBC_SOCKET_TYPES 1
#endif
#endif
#endif

#ifndef AF_UNSPEC
#define AF_UNSPEC	0
#endif
#ifndef AF_UNIX
#define AF_UNIX	1
#endif
#ifndef AF_LOCAL
#define AF_LOCAL	AF_UNIX
#endif
#ifndef PF_UNIX
#define PF_UNIX	AF_UNIX
#endif

#ifndef SOCK_STREAM
#define SOCK_STREAM	1
#endif
#ifndef SOCK_DGRAM
#define SOCK_DGRAM	2
#endif
#ifndef SOCK_RAW
#define SOCK_RAW	3	/* AF_UNIX treats it as SOCK_DGRAM */
#endif
#ifndef SOCK_SEQPACKET
#define SOCK_SEQPACKET	5
#endif
#ifndef SOCK_MAX
#define SOCK_MAX	11
#endif
#ifndef SOCK_TYPE_MASK
#define SOCK_TYPE_MASK	0xf
#endif
#ifndef SOCK_CLOEXEC
#define SOCK_CLOEXEC	02000000
#endif
#ifndef SOCK_NONBLOCK
#define SOCK_NONBLOCK	04000
#endif

#ifndef SOL_SOCKET
#define SOL_SOCKET	1
#endif
#ifndef SO_DEBUG
#define SO_DEBUG	1
#endif
#ifndef SO_REUSEADDR
#define SO_REUSEADDR	2
#endif
#ifndef SO_TYPE
#define SO_TYPE	3
#endif
#ifndef SO_ERROR
#define SO_ERROR	4
#endif
#ifndef SO_DONTROUTE
#define SO_DONTROUTE	5
#endif
#ifndef SO_BROADCAST
#define SO_BROADCAST	6
#endif
#ifndef SO_SNDBUF
#define SO_SNDBUF	7
#endif
#ifndef SO_RCVBUF
#define SO_RCVBUF	8
#endif
#ifndef SO_KEEPALIVE
#define SO_KEEPALIVE	9
#endif
#ifndef SO_OOBINLINE
#define SO_OOBINLINE	10
#endif
#ifndef SO_NO_CHECK
#define SO_NO_CHECK	11
#endif
#ifndef SO_PASSCRED
#define SO_PASSCRED	16
#endif
#ifndef SO_PEERCRED
#define SO_PEERCRED	17
#endif
#ifndef SO_RCVLOWAT
#define SO_RCVLOWAT	18
#endif
#ifndef SO_SNDLOWAT
#define SO_SNDLOWAT	19
#endif
#ifndef SO_RCVTIMEO
#define SO_RCVTIMEO	20
#endif
#ifndef SO_SNDTIMEO
#define SO_SNDTIMEO	21
#endif
#ifndef SO_ACCEPTCONN
#define SO_ACCEPTCONN	30
#endif
#ifndef SO_SNDBUFFORCE
#define SO_SNDBUFFORCE	32
#endif
#ifndef SO_RCVBUFFORCE
#define SO_RCVBUFFORCE	33
#endif
#ifndef SO_PASSSEC
#define SO_PASSSEC	34
#endif
#ifndef SO_PROTOCOL
#define SO_PROTOCOL	38
#endif
#ifndef SO_DOMAIN
#define SO_DOMAIN	39
#endif
#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL	40
#endif
#ifndef SO_WIFI_STATUS
#define SO_WIFI_STATUS	41
#endif
#ifndef SO_PEEK_OFF
#define SO_PEEK_OFF	42
#endif
#ifndef SO_NOFCS
#define SO_NOFCS	43
#endif
#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER	44
#endif
#ifndef SO_SELECT_ERR_QUEUE
#define SO_SELECT_ERR_QUEUE	45
#endif
#ifndef SO_BUSY_POLL
#define SO_BUSY_POLL	46
#endif
#ifndef SO_RCVMARK
#define SO_RCVMARK	75
#endif
#ifndef SO_RCVPRIORITY
#define SO_RCVPRIORITY	82
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS	83
#endif
#ifndef SO_INQ
#define SO_INQ		84
#endif
/* Options Linux keeps on every socket (sk_setsockopt) */
#ifndef SO_PRIORITY
#define SO_PRIORITY	12
#endif
#ifndef SO_LINGER
#define SO_LINGER	13
#endif
#ifndef SO_REUSEPORT
#define SO_REUSEPORT	15
#endif
#ifndef SO_MARK
#define SO_MARK		36
#endif
#ifndef SO_MAX_PACING_RATE
#define SO_MAX_PACING_RATE	47
#endif
#ifndef SO_BPF_EXTENSIONS
#define SO_BPF_EXTENSIONS	48
#endif
#ifndef SO_INCOMING_CPU
#define SO_INCOMING_CPU	49
#endif
#ifndef SO_CNX_ADVICE
#define SO_CNX_ADVICE	53
#endif
#ifndef SO_INCOMING_NAPI_ID
#define SO_INCOMING_NAPI_ID	56
#endif
#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY	60
#endif
#ifndef SO_TXTIME
#define SO_TXTIME	61
#endif
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL	69
#endif
#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK	72
#endif
#ifndef SO_RESERVE_MEM
#define SO_RESERVE_MEM	73
#endif
#ifndef SO_TXREHASH
#define SO_TXREHASH	74
#endif
#ifndef SO_DEVMEM_DONTNEED
#define SO_DEVMEM_DONTNEED	80
#endif
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD	76
#endif
#ifndef SO_COOKIE
#define SO_COOKIE	57
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET	70
#endif
#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX	62
#endif
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE	71
#endif
/* The receive timestamps: each option names the control message it asks
 * for (SCM_TIMESTAMP = SO_TIMESTAMP, ...); _OLD and _NEW have one layout
 * on 64-bit */
#ifndef SO_TIMESTAMP_OLD
#define SO_TIMESTAMP_OLD	29
#endif
#ifndef SO_TIMESTAMPNS_OLD
#define SO_TIMESTAMPNS_OLD	35
#endif
#ifndef SO_TIMESTAMP_NEW
#define SO_TIMESTAMP_NEW	63
#endif
#ifndef SO_TIMESTAMPNS_NEW
#define SO_TIMESTAMPNS_NEW	64
#endif

#ifndef SCM_RIGHTS
#define SCM_RIGHTS	1
#endif
#ifndef SCM_CREDENTIALS
#define SCM_CREDENTIALS	2
#endif
#ifndef SCM_INQ
#define SCM_INQ		SO_INQ
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD	4
#endif
#ifndef SCM_MAX_FD
#define SCM_MAX_FD	253
#endif

#ifndef MSG_OOB
#define MSG_OOB	0x1
#endif
#ifndef MSG_PEEK
#define MSG_PEEK	0x2
#endif
#ifndef MSG_DONTROUTE
#define MSG_DONTROUTE	0x4
#endif
#ifndef MSG_CTRUNC
#define MSG_CTRUNC	0x8
#endif
#ifndef MSG_TRUNC
#define MSG_TRUNC	0x20
#endif
#ifndef MSG_DONTWAIT
#define MSG_DONTWAIT	0x40
#endif
#ifndef MSG_EOR
#define MSG_EOR	0x80
#endif
#ifndef MSG_WAITALL
#define MSG_WAITALL	0x100
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL	0x4000
#endif
#ifndef MSG_MORE
#define MSG_MORE	0x8000
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY	0x4000000
#endif
#ifndef MSG_CMSG_CLOEXEC
#define MSG_CMSG_CLOEXEC	0x40000000
#endif

#ifndef SHUT_RD
#define SHUT_RD	0
#endif
#ifndef SHUT_WR
#define SHUT_WR	1
#endif
#ifndef SHUT_RDWR
#define SHUT_RDWR	2
#endif

#ifndef POLLIN
#define POLLIN	0x001
#endif
#ifndef POLLPRI
#define POLLPRI	0x002
#endif
#ifndef POLLOUT
#define POLLOUT	0x004
#endif
#ifndef POLLERR
#define POLLERR	0x008
#endif
#ifndef POLLHUP
#define POLLHUP	0x010
#endif
#ifndef POLLNVAL
#define POLLNVAL	0x020
#endif
#ifndef POLLRDNORM
#define POLLRDNORM	0x040
#endif
#ifndef POLLRDBAND
#define POLLRDBAND	0x080
#endif
#ifndef POLLWRNORM
#define POLLWRNORM	0x100
#endif
#ifndef POLLWRBAND
#define POLLWRBAND	0x200
#endif
#ifndef POLLRDHUP
#define POLLRDHUP	0x2000
#endif


/*
 * Addresses and messages, laid out as 64-bit Linux's: the C library's when
 * hosted (SOL_SOCKET came from its <sys/socket.h>), else these.
 */
#ifndef MENIOS_LIBC_SOCKET_TYPES
typedef unsigned int socklen_t;
typedef unsigned short sa_family_t;

struct sockaddr {
	sa_family_t sa_family;
	char sa_data[14];
};

struct iovec {
	void *iov_base;
	__SIZE_TYPE__ iov_len;
};

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

#endif /* MENIOS_LIBC_SOCKET_TYPES */

#endif
