# cython: language_level=3
"""Declarations of the C core (csrc/), shared by the Cython bridge and by
anyone who wants to ``cimport menios._unix``."""

from cpython.pythread cimport PyThread_type_lock
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

cdef extern from "kernel/sched/wait.h":
    struct wait_ctl:
        int64_t deadline
        int intr
    int ERESTARTSYS
    int64_t WAIT_NONBLOCK
    void wait_ctl_begin(wait_ctl *ctl, int64_t timeo) nogil

cdef extern from "kernel/trace/trace.h":
    struct trace_rec:
        int64_t ts
        int64_t a, b, c
        int32_t tid
        int32_t pid
        unsigned short type
        unsigned int nr
    int TRACE_SYS_ENTER, TRACE_SYS_EXIT, TRACE_BLOCK, TRACE_UNBLOCK
    bint trace_on() nogil
    void __trace_record(unsigned int type, uint32_t nr, int64_t a, int64_t b, int64_t c) nogil
    int trace_start(trace_rec *ring, size_t cap) nogil
    trace_rec *trace_stop() nogil
    size_t trace_drain(trace_rec *out, size_t max) nogil
    size_t trace_pending() nogil
    int64_t trace_dropped() nogil
    int32_t trace_set_pid(int32_t pid) nogil
    void trace_set_thread(int32_t tid) nogil
    int32_t trace_thread() nogil

cdef extern from "kernel/mm/page.h":
    struct page_run:
        size_t npages
        unsigned char *mem
    struct page_pool:
        pass
    page_run *page_run_alloc(page_pool *pool, size_t npages, int zero) nogil
    long page_pool_live(page_pool *pool) nogil
    void page_run_get(page_run *run) nogil
    void page_run_put(page_run *run) nogil
    int page_run_wait(page_run *run, int refs, int64_t deadline_ns, int intr) nogil
    struct page_frag:
        page_run *page
    void page_frag_release(page_frag *frag) nogil

cdef extern from "kernel/net/unix/unix_host.h":
    struct unix_task_cred:
        int32_t pid
        int32_t uid, euid, suid
        int32_t gid, egid, sgid
        unsigned int caps
        int64_t rlimit_nofile
    unsigned int UNIX_CAP_SYS_ADMIN, UNIX_CAP_SETUID, UNIX_CAP_SETGID, UNIX_CAP_SYS_RESOURCE
    struct unix_sock
    struct unix_groups
    struct unix_host_ops:
        int (*find_bsd)(void *task, const char *path, uint32_t *dev, uint64_t *ino) noexcept
        int (*mknod_bsd)(void *task, const char *path, uint32_t *dev, uint64_t *ino) noexcept
        void (*unlink_bsd)(void *task, const char *path) noexcept
        int (*fget)(void *task, int fd, void **file, unix_sock **usk) noexcept
        void (*fput)(void *file) noexcept
        int (*cred)(void *task, unix_task_cred *out) noexcept nogil
        int (*receive_fd)(void *task, void *file, int cloexec, int dup) noexcept
        int (*pid_exists)(void *task, int32_t pid) noexcept
        unix_groups *(*groups)(void *task) noexcept
        int (*pidfd)(void *task, int32_t pid) noexcept

cdef extern from "kernel/net/unix/unix_socket.h":
    enum: UNIX_MEMINFO_VARS
    int64_t UNIX_SOCKOPT_NET_ADMIN, UNIX_SOCKOPT_NET_RAW
    struct unix_groups:
        int n
        int32_t gid[1]
    unix_groups *unix_groups_alloc(int n) nogil
    unix_groups *unix_groups_get(unix_groups *g) nogil
    void unix_groups_put(unix_groups *g) nogil
    struct unix_cred:
        int32_t pid
        int32_t uid
        int32_t gid

    struct unix_fown:
        int32_t pid
        int32_t uid, euid

    struct unix_sysctl:
        int max_dgram_qlen
        int somaxconn
        int wmem_default, rmem_default
        int wmem_max, rmem_max

    struct scm_file:
        void *file
        unix_sock *usk

    struct scm_fp_list:
        scm_fp_list *next
        int count
        int user
        scm_file files[1]

    struct unix_counters:
        int64_t socks, live, skbs, bytes_queued, inflight
        int64_t bytes_copied, bytes_zerocopy, pages, gc_runs, blocked
        int64_t kicks, wait_timeouts, spin_wakes

    struct unix_net:
        int64_t busy_poll_ns
        int64_t spin_max_ns

    struct unix_sock:
        int type
        uint64_t ino
        int64_t bytes_copied
        int64_t bytes_zerocopy

    struct unix_address:
        unsigned int len
        unsigned char path[109]

    struct unix_iov:
        void *base
        size_t len

    struct unix_msg:
        unix_iov *iov
        unsigned int iovlen
        unsigned int iov_idx
        size_t iov_off
        size_t done
        int flags
        int msg_flags
        int sigpipe
        unix_fown urg
        const void *control
        size_t controllen
        unix_cred cur
        int has_creds
        unix_cred creds
        scm_fp_list *fp
        page_run *pages
        int splice
        const unsigned char *name
        unsigned int namelen
        int drop
        int keep_grant
        unix_sock *granted
        unix_address *addr
        int want_creds
        int got_scm
        unix_cred cred
        scm_fp_list *rfp
        int rfp_peeked
        page_run *rpages
        size_t rpages_off
        unsigned char *rcontrol
        size_t rcontrollen
        int creds_put, fds_put
    enum: UNIX_SCM_RECV_MAX

    struct unix_pollfd:
        unix_sock *sk
        unsigned int events
        unsigned int revents
        pipe_inode_info *pipe
        int pipe_fmode
        unsigned int pipe_version

    struct unix_sock_info:
        uint64_t ino
        int type, state, flags, refcnt, listening
        unsigned int addr_len
        unsigned char path[109]
        unsigned int rqueue, wqueue
        uint64_t peer_ino
        int shutdown
        int32_t uid
        int has_vfs
        uint32_t vfs_dev
        uint64_t vfs_ino
        uint32_t mem[9]
        size_t icons_off, nicons
        uint64_t listener_ino
        int64_t inflight
        int64_t bytes_copied_in, bytes_copied_out
        int64_t bytes_zerocopy_in, bytes_zerocopy_out
        int64_t msgs_sent, msgs_received

    unix_net *unix_net_create(const unix_sysctl *sysctl) nogil
    void unix_net_shutdown(unix_net *net) nogil
    void unix_net_destroy(unix_net *net) nogil
    scm_fp_list *unix_net_take_released(unix_net *net) nogil
    void unix_net_counters(unix_net *net, unix_counters *out) nogil
    void unix_net_set_host(unix_net *net, const unix_host_ops *ops) nogil

    struct unix_ready:
        pass
    int unix_ready_arm(unix_sock *sk, unix_ready **out) nogil
    int unix_ready_fd(const unix_ready *r) nogil
    void unix_ready_disarm(unix_ready *r) nogil
    void unix_ready_refresh(unix_sock *sk) nogil

    int unix_create(unix_net *net, int type, int protocol, unix_sock **out) nogil
    void unix_sock_hold(unix_sock *sk) nogil
    void unix_sock_put(unix_sock *sk) nogil
    int unix_release(unix_sock *sk) nogil

    int unix_bind(void *task, unix_sock *sk, const void *path, unsigned int len) nogil
    int unix_socketpair(void *task, unix_sock *a, unix_sock *b) nogil
    int unix_listen(void *task, unix_sock *sk, int backlog) nogil
    int unix_connect(void *task, unix_sock *sk, const void *path, unsigned int len,
                     int flags, wait_ctl *ctl) nogil
    int unix_accept(unix_sock *sk, unix_sock **newsk, int flags, wait_ctl *ctl) nogil
    ssize_t unix_sendmsg(void *task, unix_sock *sk, unix_msg *msg, wait_ctl *ctl) nogil
    void unix_room_release(unix_msg *msg) nogil
    ssize_t unix_recvmsg(void *task, unix_sock *sk, unix_msg *msg, wait_ctl *ctl) nogil
    void unix_scm_recv_end(void *task, unix_sock *sk, unix_msg *msg)
    size_t unix_recv_hint(const unix_sock *sk) nogil
    int unix_shutdown(unix_sock *sk, int how) nogil
    int unix_getname(unix_sock *sk, int peer, unsigned char *path, unsigned int *len) nogil
    int unix_getsockopt(unix_sock *sk, int level, int optname, int64_t *val) nogil
    int unix_setsockopt(unix_sock *sk, int level, int optname, int64_t val) nogil
    int unix_get_peercred(unix_sock *sk, unix_cred *out) nogil
    int unix_get_peergroups(unix_sock *sk, unix_groups **out) nogil
    void unix_meminfo(unix_sock *sk, uint32_t *mem) nogil
    void unix_set_owner(unix_sock *sk, const unix_fown *owner) nogil
    void unix_get_owner(unix_sock *sk, unix_fown *out) nogil
    int unix_ioctl(unix_sock *sk, unsigned long cmd, int *out) nogil
    void unix_msg_release(unix_sock *sk, unix_msg *msg) nogil
    void unix_scm_destroy(unix_net *net, unix_msg *msg)
    int unix_users_inflight(unix_net *net, int32_t *uids, int64_t *counts, int max) nogil
    int unix_poll_many(unix_net *net, unix_pollfd *fds, unsigned int n, wait_ctl *ctl) nogil
    scm_fp_list *scm_fp_alloc(int count) nogil
    void scm_fp_free(scm_fp_list *fpl) nogil
    void unix_file_ref(unix_sock *sk, int delta) nogil
    int unix_gc(unix_net *net) nogil
    int unix_gc_scheduled(unix_net *net) nogil
    int unix_list(unix_net *net, unix_sock_info *out, int max,
                  uint64_t *icons, size_t max_icons, size_t *n_icons) nogil
    void unix_graft(unix_sock *sk) nogil
    void unix_set_uid(unix_sock *sk, int32_t uid) nogil
    ssize_t unix_recv_pages(unix_sock *sk, unix_msg *msg, wait_ctl *ctl) nogil
    page_run *unix_alloc_pages(unix_net *net, size_t npages, int zero) nogil


cdef extern from "kernel/fs/pipe.h":
    enum: PIPE_DEF_BUFFERS
    struct pipe_inode_info:
        pass
    struct pipe_iov:
        void *base
        size_t len
    struct pipe_buffer:
        page_run *page
        unsigned int offset, len, flags
    struct pipe_io:
        pipe_iov *iov
        unsigned int iovlen
        unsigned int iov_idx
        size_t iov_off
        size_t done
        int packet
        int splice
        int sigpipe
    int PIPE_FMODE_READ, PIPE_FMODE_WRITE, PIPE_BUF_SIZE
    pipe_inode_info *pipe_create(unix_net *net) nogil
    pipe_inode_info *pipe_alloc(unix_net *net) nogil
    void pipe_get(pipe_inode_info *pipe) nogil
    void pipe_put(pipe_inode_info *pipe) nogil
    int pipe_fifo_open(pipe_inode_info *pipe, int fmode, int nonblock, wait_ctl *ctl,
                       unsigned int *version) nogil
    void pipe_release(pipe_inode_info *pipe, int fmode) nogil
    ssize_t pipe_read(pipe_inode_info *pipe, pipe_io *io, wait_ctl *ctl) nogil
    ssize_t pipe_write(pipe_inode_info *pipe, pipe_io *io, wait_ctl *ctl) nogil
    long pipe_get_size(pipe_inode_info *pipe) nogil
    long pipe_set_size(pipe_inode_info *pipe, unsigned int size, unsigned int max_size,
                       int privileged) nogil
    int pipe_nread(pipe_inode_info *pipe) nogil
    ssize_t pipe_splice(pipe_inode_info *ipipe, pipe_inode_info *opipe, size_t len,
                        wait_ctl *ctl, int *sigpipe) nogil
    ssize_t pipe_tee(pipe_inode_info *ipipe, pipe_inode_info *opipe, size_t len,
                     wait_ctl *ctl, int *sigpipe) nogil
    ssize_t pipe_splice_to_socket(void *task, pipe_inode_info *pipe, unix_sock *sk, size_t len,
                                  size_t *done, int pipe_nonblock,
                                  int dontwait, int stream, wait_ctl *ctl, int *sigpipe,
                                  int *sock_full) nogil
    ssize_t pipe_bufs_to_socket(void *task, unix_sock *sk, const pipe_buffer *bufs,
                                unsigned int nbufs, unsigned int *used, size_t *done,
                                const wait_ctl *ctl, int *sigpipe, int *sock_full) nogil
    ssize_t pipe_splice_from_socket(unix_sock *sk, pipe_inode_info *pipe, size_t len,
                                    int pipe_nonblock, int dontwait, page_frag *frag,
                                    wait_ctl *ctl, int *sigpipe, scm_fp_list **rfp) nogil
    ssize_t pipe_add_bufs(pipe_inode_info *pipe, pipe_buffer *bufs, unsigned int n, int zerocopy,
                          wait_ctl *ctl, int *sigpipe, unsigned int *used) nogil

cdef class Net:
    cdef unix_net *net
    cdef object __weakref__
    cdef public object sigurg          # weakref.WeakMethod: sigurg(owner pid, uid, euid)
    cdef Py_ssize_t nogil_copy_min     # menios.nogil_copy_min: see Socket._send
    cdef void drain(self)


cdef class File:
    """An open file description: what an fd points at."""
    cdef public int f_flags
    cdef public Py_ssize_t f_count
    cdef tuple _owner                  # F_SETOWN: (pid or -pgid, uid, euid) of the setter
    cdef object __weakref__


cdef class Socket(File):
    cdef unix_sock *sk
    cdef readonly Net net
    cdef readonly int type
    cdef int busy
    cdef int deferred_puts
    cdef bint released
    cdef public object on_release
    cdef void _enter(self)
    cdef void _leave(self)
    cdef ssize_t _send(self, unix_msg *m, size_t total, object proc) except? -2
    cdef void _sigurg(self, unix_fown *o)
    cdef object _send_data(self, object data, int flags, object proc, bytes name, bint drop)
    cdef object _sendmsg_c(self, object buffers, int flags, object proc, bytes control,
                           bytes name, bint drop)
    cdef ssize_t _recv(self, unix_msg *m, object proc) except? -2
    cdef object _recv_data(self, Py_ssize_t bufsize, int flags, bint want_addr)
    cdef object _recv_into_data(self, object buffer, Py_ssize_t nbytes, int flags,
                                bint want_addr)
    cdef object _take_files(self, unix_msg *m)
    cdef object _recvmsg_c(self, object buffers, int flags, Py_ssize_t ancbufsize, object proc,
                           bint fds_only)
    cdef object _recvmsg_bytes(self, Py_ssize_t bufsize, int flags, Py_ssize_t ancbufsize,
                               object proc, bint fds_only)
    cdef object _finish_data(self, unix_msg *m, bint want_addr)


cdef class Pipe:
    """A FIFO's pipe, kept by its inode while files are open on it."""
    cdef pipe_inode_info *pipe
    cdef readonly Net net


cdef class PipeFile(File):
    """An open file on a pipe: one end of pipe(), or a FIFO opened."""
    cdef pipe_inode_info *pipe
    cdef readonly Net net             # the pipe's net outlives it
    cdef readonly int fmode           # PIPE_FMODE_READ / PIPE_FMODE_WRITE bits
    cdef readonly unsigned int version  # w_counter at open (pipe_poll's f_version)
    cdef bint released


cdef class Pages:
    """Page-backed memory for zero-copy sends (see Kernel.alloc_pages)."""
    cdef page_run *run
    cdef Net net                      # the page pool's owner outlives the pages
    cdef readonly Py_ssize_t nbytes
    cdef int exports
    cdef int writable_exports
    cdef object __weakref__
    cdef int _check(self) except -1


cdef class PageBuffer:
    """A received zero-copy message: read-only, over the sender's pages."""
    cdef page_run *run
    cdef Net net                      # the page pool's owner outlives the pages
    cdef size_t off
    cdef readonly Py_ssize_t nbytes
    cdef int exports
    cdef object __weakref__


cdef class FdTable:
    """A process's fd table (Linux's files_struct); locking in _unix.pyx."""
    cdef PyThread_type_lock lock
    cdef list files                   # fd -> File, None when free or reserved
    cdef unsigned char *fdflags       # fd -> FDT_OPEN | FDT_CLOEXEC bits
    cdef Py_ssize_t next_fd           # every fd below it is taken (files->next_fd)
    cdef bint dead                    # closed by exit: nothing is installed again
    cdef int _lock(self) except -1
    cdef void _unlock(self) noexcept
    cdef int _expand(self, Py_ssize_t fd) except -1
    cdef Py_ssize_t _alloc(self, Py_ssize_t start, Py_ssize_t end, bint cloexec) except -1
    cdef void _put_unused(self, Py_ssize_t fd) noexcept
    cdef File _get(self, Py_ssize_t fd)
    cpdef File fget(self, Py_ssize_t fd)


cdef class FileRef:
    """A file reference held for one call (``with``); see _unix.pyx."""
    cdef File f


cdef class ProcessBase:
    """The hot path of a Process: its fd table and send/recv dispatch."""
    cdef readonly FdTable fdtable
    # What the core's cred op reads (current_cred()): set by _set_task_cred
    # at each credential change, and rlimit_nofile
    cdef unix_task_cred task_cred
    # The supplementary groups the core's groups op hands out (a reference),
    # remade by _set_task_cred
    cdef unix_groups *groups
    cdef public object pending_signals
    cdef public bint alive
    # The task's page fragment (splice from a stream socket copies linear
    # bytes into it) and the net whose pool its page comes from
    cdef page_frag frag
    cdef object frag_net
    cdef object _fd_c(self, object fd)
    cdef object _file_c(self, object fd)
    cdef Socket _sock_c(self, object fd)
    cdef object _send_c(self, Socket s, object data, int flags)
    cdef object _traced(self, int nr, object fd, object a, object b, int flags)
    cdef FileRef _hold_c(self, object fd, bint sock)
