/*
 * examples/c/mk.h - a tiny kernel around the AF_UNIX core, for the examples.
 *
 * mk.c embeds the core (csrc/kernel/net/unix) the way a kernel would: it
 * implements the host ops table (unix_host.h) with a flat table of path
 * names and a fixed-size fd table, and wraps each core call as the
 * syscall a program makes.  The wrappers are named mk_* so they never
 * clash with the C library's; their arguments are the syscalls'.
 *
 * Errors: a wrapper returns -1 and sets mk_errno (per thread) to Linux's
 * errno value, as the C library's wrappers do with errno.
 *
 * "Processes" are threads of one program sharing the fd table, with one
 * set of credentials (pid 1, uid/gid 1000).
 */
#ifndef MK_H
#define MK_H

#include <stddef.h>
#include <sys/types.h>

#include "include/sys/socket.h"
#include "include/sys/un.h"

extern _Thread_local int mk_errno;

/* Boot and tear down the simulated kernel (one per program). mk_fini
 * returns the number of sockets still alive (0 when every fd was closed). */
void mk_init(void);
long mk_fini(void);

int mk_socket(int domain, int type, int protocol);
int mk_socketpair(int domain, int type, int protocol, int sv[2]);
int mk_bind(int fd, const struct sockaddr *addr, socklen_t len);
int mk_listen(int fd, int backlog);
int mk_accept(int fd, struct sockaddr *addr, socklen_t *len);
int mk_connect(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t mk_send(int fd, const void *buf, size_t len, int flags);
ssize_t mk_recv(int fd, void *buf, size_t len, int flags);
ssize_t mk_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *addr, socklen_t alen);
ssize_t mk_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *addr, socklen_t *alen);
ssize_t mk_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t mk_recvmsg(int fd, struct msghdr *msg, int flags);
int mk_shutdown(int fd, int how);
int mk_close(int fd);
/* unlink(2) of a socket's path name */
int mk_unlink(const char *path);

#endif
