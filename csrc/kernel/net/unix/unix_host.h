/*
 * net/unix/unix_host.h - what the AF_UNIX core asks of the rest of the
 * kernel: the host ops table.
 *
 * The core owns each AF_UNIX syscall; what only the embedding kernel knows
 * -- its VFS, its fd table, the caller's credentials -- it asks for through
 * this table, at the points where Linux's net/unix/af_unix.c and
 * net/core/scm.c call out:
 *
 *   find_bsd    unix_find_bsd's path walk (kern_path, inode_permission
 *               MAY_WRITE, S_ISSOCK): the identity of the socket inode at
 *               @path.  The core then finds the socket bound to that inode
 *               (unix_find_socket_byinode) and checks its type.
 *   mknod_bsd   unix_bind_bsd's vfs_mknod of an S_IFSOCK inode at @path,
 *               with the caller's umask: the new inode's identity.
 *   unlink_bsd  unix_bind_bsd's undo (vfs_unlink) when the socket turns out
 *               to be bound already.
 *   fget        scm_fp_copy's fget_raw: a reference to the open file at @fd
 *               (-EBADF), and the AF_UNIX socket behind it (NULL for any
 *               other file), which the in-flight collector follows.
 *   fput        drop a reference fget took, for a message that was not sent
 *               (scm_destroy).  Files a message carried that leave flight
 *               under the core's lock go on the net's release list instead.
 *   cred        current_cred() and what the checks read of the task: its
 *               pid, ids, capabilities, RLIMIT_NOFILE (too_many_unix_fds,
 *               scm_check_creds).  Read where Linux reads them: SO_PEERCRED
 *               (init_peercred) in listen, connect and socketpair, and a
 *               message's default credentials (scm_send) in every send --
 *               so an embedder keeps them at hand rather than computing
 *               them per call.  A splice into a socket sends with the
 *               pipe's mutex held, as Linux's scm_send runs under
 *               pipe_lock: the op must not call back into the core.
 *   receive_fd  scm_detach_fds' receive_fd: install @file at the caller's
 *               lowest free fd (close-on-exec if @cloexec) and return the
 *               fd, or -EMFILE.  The message's reference to @file becomes
 *               the fd's; with @dup (a peek, whose files stay in flight)
 *               the fd takes a reference of its own (get_file).
 *   pid_exists  __scm_send's find_get_pid: ESRCH for SCM_CREDENTIALS naming
 *               no process.
 *   pidfd       scm_pidfd_recv's pidfd_prepare(PIDFD_STALE) and fd_install:
 *               a new pidfd (O_CLOEXEC) for process @pid at the caller's
 *               lowest free fd -- for a process already gone too -- or
 *               -EMFILE.
 *   groups      the caller's supplementary groups (current_cred()'s
 *               group_info), a reference the core puts: read with
 *               SO_PEERCRED in listen, connect and socketpair, for
 *               SO_PEERGROUPS.  NULL for none.
 *
 * @task is the embedder's handle on the calling task (Linux's `current`):
 * the syscall entries take it and pass it through untouched.  A path is
 * NUL-terminated.  An inode's identity is (dev, ino), @dev the kernel's
 * dev_t (major << 20 | minor): the core keys its table of path-bound
 * sockets by it and reports it to sock_diag (UNIX_DIAG_VFS).
 *
 * Every op returns 0 or -errno.  The core calls them with no lock of its
 * own held (see unix_socket.h), so an op may sleep, take the embedder's
 * locks, or call back into the core.
 */
#ifndef MENIOS_UNIX_HOST_H
#define MENIOS_UNIX_HOST_H

#include <stdint.h>

struct unix_sock;
struct unix_groups;

/* Capabilities the checks ask about (unix_task_cred.caps) */
#define UNIX_CAP_SYS_ADMIN	0x1
#define UNIX_CAP_SETUID		0x2
#define UNIX_CAP_SETGID		0x4
#define UNIX_CAP_SYS_RESOURCE	0x8

struct unix_task_cred {
	int32_t pid;			/* the caller's tgid */
	int32_t uid, euid, suid;
	int32_t gid, egid, sgid;
	unsigned int caps;		/* UNIX_CAP_* the caller has */
	int64_t rlimit_nofile;		/* RLIMIT_NOFILE */
};

struct unix_host_ops {
	/* -ENOENT, -EACCES, -ENOTDIR, -ELOOP, ...; -ECONNREFUSED when the
	 * inode is not a socket */
	int (*find_bsd)(void *task, const char *path, uint32_t *dev, uint64_t *ino);
	/* -EADDRINUSE when anything exists at @path; -ENOENT, -EACCES, ... */
	int (*mknod_bsd)(void *task, const char *path, uint32_t *dev, uint64_t *ino);
	void (*unlink_bsd)(void *task, const char *path);
	int (*fget)(void *task, int fd, void **file, struct unix_sock **usk);
	void (*fput)(void *file);
	int (*cred)(void *task, struct unix_task_cred *out);
	int (*receive_fd)(void *task, void *file, int cloexec, int dup);
	/* 1 if a process @pid exists, 0 if not */
	int (*pid_exists)(void *task, int32_t pid);
	struct unix_groups *(*groups)(void *task);
	int (*pidfd)(void *task, int32_t pid);
};

#endif
