/*
 * examples/c/mk.c - the examples' kernel: the AF_UNIX core behind an fd
 * table and a flat name table (see mk.h).
 *
 * LOCKING CONTRACT
 *
 *   mk_lock protects the fd table (mk_fds), every file's f_count and the
 *   name table (mk_names).  It is a leaf: it is never held across a call
 *   into the core, so the core's host ops (which take it) may be called from
 *   any core call, and a file's last reference is dropped -- unix_release(),
 *   the release list drained, the collector run -- with no lock held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/net/unix/unix_socket.h"
#include "mk.h"

#define MK_NFDS		32		/* open files per "process" (one table) */
#define MK_NNAMES	32		/* socket inodes in the filesystem */
#define MK_DEV		((8u << 20) | 1u)	/* the one filesystem's dev_t */

_Thread_local int mk_errno;

/* Everyone is pid 1, uid and gid 1000. */
static const struct unix_cred mk_cred = { 1, 1000, 1000 };

struct mk_file {
	struct unix_sock *sk;
	int f_count;			/* fd table slots and messages holding it */
};

static pthread_mutex_t mk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mk_file *mk_fds[MK_NFDS];
static struct {
	char path[UNIX_PATH_MAX + 1];
	uint64_t ino;			/* 0: free */
} mk_names[MK_NNAMES];
static uint64_t mk_next_ino = 1;
static struct unix_net *mk_net;

static long fail(long err)
{
	mk_errno = (int)-err;
	return -1;
}

/* ---------------------------------------------------------- files --- */

static struct mk_file *file_new(struct unix_sock *sk)
{
	struct mk_file *f = malloc(sizeof(*f));

	if (!f)
		return NULL;
	f->sk = sk;
	f->f_count = 1;
	unix_file_ref(sk, 1);
	return f;
}

static void file_get(struct mk_file *f)
{
	pthread_mutex_lock(&mk_lock);
	f->f_count++;
	pthread_mutex_unlock(&mk_lock);
	unix_file_ref(f->sk, 1);
}

static void drain_released(void);

/* fput: the last reference releases the socket (__sock_release). */
static void file_put(struct mk_file *f)
{
	int last, gc_due;

	unix_file_ref(f->sk, -1);
	pthread_mutex_lock(&mk_lock);
	last = --f->f_count == 0;
	pthread_mutex_unlock(&mk_lock);
	if (!last)
		return;
	gc_due = unix_release(f->sk);
	free(f);
	drain_released();
	if (gc_due)
		unix_gc_scheduled(mk_net);
}

/* Files the core dropped under its lock (messages purged or collected). */
static void drain_released(void)
{
	struct scm_fp_list *l, *next;
	int i;

	while ((l = unix_net_take_released(mk_net)) != NULL) {
		for (; l; l = next) {
			next = l->next;
			for (i = 0; i < l->count; i++)
				file_put(l->files[i].file);
			scm_fp_free(l);
		}
	}
}

/* fd_install: the lowest free fd gets @f's reference. */
static int fd_install(struct mk_file *f)
{
	int fd;

	pthread_mutex_lock(&mk_lock);
	for (fd = 0; fd < MK_NFDS; fd++) {
		if (!mk_fds[fd]) {
			mk_fds[fd] = f;
			break;
		}
	}
	pthread_mutex_unlock(&mk_lock);
	return fd < MK_NFDS ? fd : -EMFILE;
}

/* fdget: a reference to the file at @fd, or NULL (EBADF). */
static struct mk_file *fd_get(int fd)
{
	struct mk_file *f = NULL;

	pthread_mutex_lock(&mk_lock);
	if (fd >= 0 && fd < MK_NFDS && mk_fds[fd]) {
		f = mk_fds[fd];
		f->f_count++;
	}
	pthread_mutex_unlock(&mk_lock);
	if (f)
		unix_file_ref(f->sk, 1);
	return f;
}

/* A new socket's file at a new fd. */
static int sock_install(struct unix_sock *sk)
{
	struct mk_file *f = file_new(sk);
	int fd;

	if (!f) {
		unix_release(sk);
		return -ENOMEM;
	}
	fd = fd_install(f);
	if (fd < 0)
		file_put(f);
	return fd;
}

/* ----------------------------------------------------- the host ops --- */

static int name_slot(const char *path)
{
	int i;

	for (i = 0; i < MK_NNAMES; i++)
		if (mk_names[i].ino && !strcmp(mk_names[i].path, path))
			return i;
	return -1;
}

static int host_find_bsd(void *task, const char *path, uint32_t *dev, uint64_t *ino)
{
	int i, err = -ENOENT;

	(void)task;
	pthread_mutex_lock(&mk_lock);
	i = name_slot(path);
	if (i >= 0) {
		*dev = MK_DEV;
		*ino = mk_names[i].ino;
		err = 0;
	}
	pthread_mutex_unlock(&mk_lock);
	return err;
}

static int host_mknod_bsd(void *task, const char *path, uint32_t *dev, uint64_t *ino)
{
	int i, err = -ENOSPC;

	(void)task;
	pthread_mutex_lock(&mk_lock);
	if (name_slot(path) >= 0) {
		err = -EADDRINUSE;
	} else {
		for (i = 0; i < MK_NNAMES; i++) {
			if (mk_names[i].ino)
				continue;
			snprintf(mk_names[i].path, sizeof(mk_names[i].path), "%s", path);
			mk_names[i].ino = mk_next_ino++;
			*dev = MK_DEV;
			*ino = mk_names[i].ino;
			err = 0;
			break;
		}
	}
	pthread_mutex_unlock(&mk_lock);
	return err;
}

static int unlink_name(const char *path)
{
	int i;

	pthread_mutex_lock(&mk_lock);
	i = name_slot(path);
	if (i >= 0)
		mk_names[i].ino = 0;
	pthread_mutex_unlock(&mk_lock);
	return i >= 0 ? 0 : -ENOENT;
}

static void host_unlink_bsd(void *task, const char *path)
{
	(void)task;
	unlink_name(path);
}

static int host_fget(void *task, int fd, void **file, struct unix_sock **usk)
{
	struct mk_file *f = fd_get(fd);

	(void)task;
	if (!f)
		return -EBADF;
	*file = f;
	*usk = f->sk;
	return 0;
}

static void host_fput(void *file)
{
	file_put(file);
}

static int host_cred(void *task, struct unix_task_cred *out)
{
	(void)task;
	memset(out, 0, sizeof(*out));
	out->pid = mk_cred.pid;
	out->uid = out->euid = out->suid = mk_cred.uid;
	out->gid = out->egid = out->sgid = mk_cred.gid;
	out->rlimit_nofile = MK_NFDS;
	return 0;
}

static int host_receive_fd(void *task, void *file, int cloexec, int dup)
{
	int fd;

	(void)task;
	(void)cloexec;		/* no exec here */
	if (dup)
		file_get(file);	/* a peek installs duplicates */
	fd = fd_install(file);
	if (fd < 0 && dup)
		file_put(file);
	return fd;
}

static int host_pid_exists(void *task, int32_t pid)
{
	(void)task;
	return pid == mk_cred.pid;
}

static const struct unix_host_ops mk_host_ops = {
	.find_bsd = host_find_bsd,
	.mknod_bsd = host_mknod_bsd,
	.unlink_bsd = host_unlink_bsd,
	.fget = host_fget,
	.fput = host_fput,
	.cred = host_cred,
	.receive_fd = host_receive_fd,
	.pid_exists = host_pid_exists,
};

/* ----------------------------------------------------------- boot --- */

void mk_init(void)
{
	static const struct unix_sysctl sysctl = {
		.max_dgram_qlen = 10, .somaxconn = 4096,
		.wmem_default = 212992, .rmem_default = 212992,
		.wmem_max = 212992, .rmem_max = 212992,
	};

	mk_net = unix_net_create(&sysctl);
	if (!mk_net) {
		fprintf(stderr, "mk_init: out of memory\n");
		exit(1);
	}
	unix_net_set_host(mk_net, &mk_host_ops);
}

long mk_fini(void)
{
	struct unix_counters c;
	int fd;

	for (fd = 0; fd < MK_NFDS; fd++)
		mk_close(fd);
	unix_gc(mk_net);
	drain_released();
	unix_net_counters(mk_net, &c);
	unix_net_shutdown(mk_net);
	unix_net_destroy(mk_net);
	mk_net = NULL;
	return (long)c.socks;
}

/* -------------------------------------------------------- syscalls --- */

/* The sun_path bytes of @addr: checks Linux's unix_validate_addr makes. */
static int sun_bytes(const struct sockaddr *addr, socklen_t len,
		     const void **path, unsigned int *plen)
{
	if (!addr || len < sizeof(sa_family_t) || len > sizeof(struct sockaddr_un))
		return -EINVAL;
	if (addr->sa_family != AF_UNIX)
		return -EINVAL;
	*path = ((const struct sockaddr_un *)addr)->sun_path;
	*plen = len - sizeof(sa_family_t);
	return 0;
}

static void ctl_blocking(struct wait_ctl *ctl, int flags)
{
	memset(ctl, 0, sizeof(*ctl));
	ctl->deadline = (flags & MSG_DONTWAIT) ? WAIT_NONBLOCK : 0;
}

int mk_socket(int domain, int type, int protocol)
{
	struct unix_sock *sk;
	int err;

	if (domain != AF_UNIX)
		return fail(-EAFNOSUPPORT);
	err = unix_create(mk_net, type, protocol, &sk);
	if (err)
		return fail(err);
	err = sock_install(sk);
	return err < 0 ? fail(err) : err;
}

int mk_socketpair(int domain, int type, int protocol, int sv[2])
{
	struct unix_sock *a, *b;
	int err;

	if (domain != AF_UNIX)
		return fail(-EAFNOSUPPORT);
	err = unix_create(mk_net, type, protocol, &a);
	if (err)
		return fail(err);
	err = unix_create(mk_net, type, protocol, &b);
	if (err) {
		unix_release(a);
		return fail(err);
	}
	err = unix_socketpair(NULL, a, b);
	if (err) {
		unix_release(a);
		unix_release(b);
		return fail(err);
	}
	sv[0] = sock_install(a);
	if (sv[0] < 0) {
		unix_release(b);
		return fail(sv[0]);
	}
	sv[1] = sock_install(b);
	if (sv[1] < 0) {
		err = sv[1];
		mk_close(sv[0]);
		return fail(err);
	}
	return 0;
}

/* Each call on an fd holds a reference to its file for the call's length. */
#define WITH_FILE(fd, f)						\
	struct mk_file *f = fd_get(fd);					\
	if (!f)								\
		return fail(-EBADF)

int mk_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	const void *path;
	unsigned int plen;
	int err;
	WITH_FILE(fd, f);

	err = sun_bytes(addr, len, &path, &plen);
	if (!err)
		err = unix_bind(NULL, f->sk, path, plen);
	file_put(f);
	return err ? fail(err) : 0;
}

int mk_listen(int fd, int backlog)
{
	int err;
	WITH_FILE(fd, f);

	err = unix_listen(NULL, f->sk, backlog);
	file_put(f);
	return err ? fail(err) : 0;
}

/* The address of @ua (or an unnamed socket's) into a user sockaddr. */
static void put_addr(const unsigned char *path, unsigned int plen,
		     struct sockaddr *addr, socklen_t *alen)
{
	struct sockaddr_un sun;
	socklen_t full = (socklen_t)(sizeof(sa_family_t) + plen);

	if (!addr || !alen)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	memcpy(addr, &sun, *alen < full ? *alen : full);
	*alen = full;
}

int mk_accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
	struct unix_sock *nsk = NULL;
	struct wait_ctl ctl;
	unsigned char path[UNIX_PATH_MAX + 1];
	unsigned int plen = 0;
	int err;
	WITH_FILE(fd, f);

	ctl_blocking(&ctl, 0);
	err = unix_accept(f->sk, &nsk, 0, &ctl);
	file_put(f);
	if (err)
		return fail(err);
	unix_graft(nsk);
	if (addr && alen && unix_getname(nsk, 1, path, &plen) == 0)
		put_addr(path, plen, addr, alen);
	err = sock_install(nsk);
	return err < 0 ? fail(err) : err;
}

int mk_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	const void *path;
	unsigned int plen;
	struct wait_ctl ctl;
	int err;
	WITH_FILE(fd, f);

	err = sun_bytes(addr, len, &path, &plen);
	if (!err) {
		ctl_blocking(&ctl, 0);
		err = unix_connect(NULL, f->sk, path, plen, 0, &ctl);
	}
	file_put(f);
	return err ? fail(err) : 0;
}

/* The iovecs of a user msghdr, as the core's. */
#define MK_IOV_MAX	16

/* The core's message for a user msghdr's iovecs; -EMSGSIZE for too many. */
static int msg_init(struct unix_msg *m, struct unix_iov *iov, const struct msghdr *msg,
		    int flags)
{
	size_t i;

	if (msg->msg_iovlen > MK_IOV_MAX)
		return -EMSGSIZE;
	memset(m, 0, sizeof(*m));
	for (i = 0; i < msg->msg_iovlen; i++) {
		iov[i].base = msg->msg_iov[i].iov_base;
		iov[i].len = msg->msg_iov[i].iov_len;
	}
	m->iov = iov;
	m->iovlen = (unsigned int)msg->msg_iovlen;
	m->flags = flags;
	return 0;
}

ssize_t mk_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct unix_iov iov[MK_IOV_MAX];
	struct unix_msg m;
	struct wait_ctl ctl;
	ssize_t r;
	WITH_FILE(fd, f);

	if (msg_init(&m, iov, msg, flags)) {
		file_put(f);
		return fail(-EMSGSIZE);
	}
	m.control = msg->msg_controllen ? msg->msg_control : NULL;
	m.controllen = msg->msg_controllen;
	r = 0;
	if (msg->msg_name) {
		const void *path;
		unsigned int plen;

		r = sun_bytes(msg->msg_name, msg->msg_namelen, &path, &plen);
		m.name = path;
		m.namelen = plen;
	}
	if (r == 0) {
		ctl_blocking(&ctl, flags);
		r = unix_sendmsg(NULL, f->sk, &m, &ctl);
	}
	if (m.fp)
		unix_scm_destroy(mk_net, &m);	/* not sent: never in flight */
	file_put(f);
	drain_released();
	return r < 0 ? fail(r) : r;
}

ssize_t mk_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct unix_iov iov[MK_IOV_MAX];
	struct unix_msg m;
	struct wait_ctl ctl;
	ssize_t r;
	unsigned char none;
	WITH_FILE(fd, f);

	if (msg_init(&m, iov, msg, flags)) {
		file_put(f);
		return fail(-EMSGSIZE);
	}
	ctl_blocking(&ctl, flags);
	/* the core's scm_recv writes the control messages (a buffer of 0
	 * bytes stands for none: the same truncation) */
	m.rcontrol = msg->msg_control ? msg->msg_control : &none;
	m.rcontrollen = msg->msg_control ? msg->msg_controllen : 0;
	r = unix_recvmsg(NULL, f->sk, &m, &ctl);
	msg->msg_flags = 0;
	if (r >= 0) {
		msg->msg_flags = m.msg_flags;
		if (msg->msg_name) {
			socklen_t alen = msg->msg_namelen;

			if (m.addr)
				put_addr(m.addr->path, m.addr->len, msg->msg_name, &alen);
			else
				alen = 0;
			msg->msg_namelen = alen;
		}
		msg->msg_controllen = msg->msg_control ?
			(size_t)(m.rcontrol - (unsigned char *)msg->msg_control) : 0;
	}
	unix_msg_release(f->sk, &m);
	file_put(f);
	drain_released();
	return r < 0 ? fail(r) : r;
}

ssize_t mk_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *addr, socklen_t alen)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = { (void *)addr, alen, &iov, 1, NULL, 0, 0 };

	return mk_sendmsg(fd, &msg, flags);
}

ssize_t mk_send(int fd, const void *buf, size_t len, int flags)
{
	return mk_sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t mk_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *addr, socklen_t *alen)
{
	struct iovec iov = { buf, len };
	struct msghdr msg = { addr, alen ? *alen : 0, &iov, 1, NULL, 0, 0 };
	ssize_t r = mk_recvmsg(fd, &msg, flags);

	if (r >= 0 && addr && alen)
		*alen = msg.msg_namelen;
	return r;
}

ssize_t mk_recv(int fd, void *buf, size_t len, int flags)
{
	return mk_recvfrom(fd, buf, len, flags, NULL, NULL);
}

int mk_shutdown(int fd, int how)
{
	int err;
	WITH_FILE(fd, f);

	err = unix_shutdown(f->sk, how);
	file_put(f);
	return err ? fail(err) : 0;
}

int mk_close(int fd)
{
	struct mk_file *f = NULL;

	pthread_mutex_lock(&mk_lock);
	if (fd >= 0 && fd < MK_NFDS) {
		f = mk_fds[fd];
		mk_fds[fd] = NULL;
	}
	pthread_mutex_unlock(&mk_lock);
	if (!f)
		return fail(-EBADF);
	file_put(f);
	return 0;
}

int mk_unlink(const char *path)
{
	int err = unlink_name(path);

	return err ? fail(err) : 0;
}
