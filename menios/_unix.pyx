# cython: language_level=3, embedsignature=True, boundscheck=False, wraparound=False, cdivision=True
"""The Cython bridge to the AF_UNIX C core.

Exactly one place turns the core's ``-errno`` into ``OSError``: ``_raise``.
Exactly one place runs a call that may block: ``_syscall``.  It runs the
call once with a deadline in the past -- with the GIL held, so the common,
non-blocking case costs no GIL round trip, unless the call copies at least
``NOGIL_COPY_MIN`` bytes, when two threads copying at once pay for the
round trip; only if that would block does it run the call again with the
GIL released, continuing from what the first attempt did, until the call
completes, times out, the kernel is closed, or a signal interrupts it.
Nothing wakes a sleeper periodically.

Signals follow Linux and PEP 475.  In the main thread -- the only one that
runs Python's signal handlers -- the core's sleep is interruptible: a signal
makes the call return what it has done so far, if anything (a stream recv
the bytes it copied, a stream send the bytes it queued), else
-ERESTARTSYS/-EINTR.  Then the pending handlers run: if one raises (Ctrl-C:
``KeyboardInterrupt``) the exception propagates; otherwise the call starts
again from scratch, keeping its deadline.  Other threads sleep through
signals, passing on to the main thread one that landed on them (see
csrc/kernel/sched/wait.h).

The core asks the rest of the kernel -- the VFS, the fd table, the
caller's credentials -- through its host ops
(csrc/kernel/net/unix/unix_host.h), which this module fills with trampolines
into the calling process.  A call that may reach them passes a
``_task``: the process, its credentials as ``ProcessBase.task_cred`` keeps
them (read by every send without the GIL), and a slot for an exception.  A trampoline turns an
``OSError`` into ``-errno`` for the core; any other exception (a bug, a
``KeyboardInterrupt`` raised by a signal handler inside the VFS) is stashed
in the ``_task``, the core is told ``-EINTR`` so that it unwinds with
nothing done, and the bridge raises the stashed exception once the core has
returned (``_syscall``, ``_task_done``).
"""

from cpython.buffer cimport (PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE,
    PyBUF_WRITABLE, PyBUF_FORMAT, PyBUF_ND)
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.ref cimport PyObject, Py_INCREF, Py_DECREF
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_AsLongLong
from libc.stdint cimport int64_t, int32_t, uint64_t
from cpython.pythread cimport (PyThread_allocate_lock, PyThread_free_lock,
    PyThread_acquire_lock, PyThread_release_lock, WAIT_LOCK, NOWAIT_LOCK)
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memset, memcpy

import array as _array
import os
import struct as _struct

from .args import as_int as _as_int
from .namespace import decode_name as _decode_name


cdef object _socketcalls_mod = None
# recv_fds's fast path takes up to this many fds (far more than SCM_MAX_FD,
# so that no control buffer size overflows).
cdef Py_ssize_t SCM_FAST_MAXFDS = 1 << 20

cdef object _socketcalls():
    """menios.socketcalls, the general path of the calls with fast paths
    here (imported on first use: it imports this module)."""
    global _socketcalls_mod
    if _socketcalls_mod is None:
        from . import socketcalls
        _socketcalls_mod = socketcalls
    return _socketcalls_mod


cdef object _filecalls_mod = None
cdef object _splicecalls_mod = None
cdef object _pidfdcalls_mod = None
cdef object _PipeEnd = None


cdef object _filecalls():
    """menios.filecalls, the general path of read and write; also loads
    files.PipeEnd, the pipe file whose reads and writes are PipeFile's own
    (both import this module)."""
    global _filecalls_mod, _PipeEnd
    if _filecalls_mod is None:
        from . import filecalls, files
        _PipeEnd = files.PipeEnd
        _filecalls_mod = filecalls
    return _filecalls_mod


cdef object _splicecalls():
    """menios.splice, the general path of splice."""
    global _splicecalls_mod
    if _splicecalls_mod is None:
        _filecalls()
        from . import splice
        _splicecalls_mod = splice
    return _splicecalls_mod


cdef object _pidfdcalls():
    """menios.pidfd, which makes the pidfds SCM_PIDFD hands out."""
    global _pidfdcalls_mod
    if _pidfdcalls_mod is None:
        from . import pidfd
        _pidfdcalls_mod = pidfd
    return _pidfdcalls_mod


cdef enum:
    # splice's flags (SPLICE_F_ALL) and the one that matters here
    SPLICE_F_NONBLOCK_ = 2
    SPLICE_F_ALL_ = 0xf

cdef extern from "Python.h":
    int _PyBytes_Resize(PyObject **, Py_ssize_t) except -1
    PyObject *_bytes_new "PyBytes_FromStringAndSize"(const char *, Py_ssize_t)
    char *_bytes_data "PyBytes_AS_STRING"(PyObject *)
    void Py_XDECREF(PyObject *)

cdef extern from "errno.h":
    int EAGAIN, EINVAL, EBADF, ENOMEM, EMSGSIZE, ENOBUFS, EMFILE, EBUSY, ESRCH, EINTR
    int ENOTSOCK, EPIPE, ECONNREFUSED, EFAULT

cdef extern from *:
    """
    #include <stdatomic.h>
    static inline int menios_page_refs(struct page_run *r) { return atomic_load(&r->refcnt); }
    static inline int menios_page_gifted(struct page_run *r) { return atomic_load(&r->gifted); }
    static inline void menios_page_set_gifted(struct page_run *r, int v) { atomic_store(&r->gifted, v); }
    static inline long menios_pool_live(struct unix_net *n) { return atomic_load(&n->pool.live_pages); }
    """
    int menios_page_refs(page_run *r) nogil
    int menios_page_gifted(page_run *r) nogil
    void menios_page_set_gifted(page_run *r, int v) nogil
    long menios_pool_live(unix_net *n) nogil

# The GIL around a call made without it (see _syscall): a thread coming
# back waits, with the GIL released, for the thread that holds it to let go
# (gil_settle), and a thread that works in requests and replies lets go of
# the GIL before the wake-ups of its call (gil_wake_observe); the whole
# argument is in csrc/bridge/gil.h.
cdef extern from "bridge/gil.h":
    void gil_enter() nogil
    void gil_leave() nogil
    int gil_settle(int64_t bound_ns) nogil
    int gil_wake_observe(int op, const void *sk) nogil

cdef extern from "platform/platform.h":
    unsigned int plat_wake_hold(int hold) nogil
    void plat_wake_flush() nogil

# How long a woken thread waits for the GIL to be let go before it asks for
# it anyway (gil_settle, bridge/gil.h).
cdef int64_t GIL_SETTLE_NS = 20000

cdef enum:
    SIGPIPE = 13
    SOL_SOCKET = 1
    SCM_RIGHTS = 1
    SO_RCVLOWAT = 18
    S_IFMT = 0o170000
    S_IFSOCK = 0o140000
    S_IRWXUGO = 0o777
    SOCK_STREAM = 1
    SOCK_DGRAM = 2
    SOCK_RAW = 3
    SOCK_TYPE_MASK = 0xf
    MSG_ZEROCOPY = 0x4000000
    MSG_CMSG_CLOEXEC = 0x40000000
    PAGE_SIZE = 4096
    MSG_OOB = 0x1
    MSG_PEEK = 0x2
    MSG_TRUNC = 0x20
    MSG_DONTWAIT = 0x40
    MSG_WAITALL = 0x100
    MSG_CTRUNC = 0x8
    O_NONBLOCK = 0o4000

cdef extern from "pythread.h":
    unsigned long PyThread_get_thread_ident() nogil
    unsigned long PyThread_get_thread_native_id() nogil

cdef extern from "Python.h":
    int _check_signals "PyErr_CheckSignals"()
    int _run_signal_handlers "PyErr_CheckSignals"() except -1

# Only the main thread runs Python's signal handlers: only its sleeps are
# interruptible (see _syscall).
import threading as _threading
cdef unsigned long _MAIN_THREAD = _threading.main_thread().ident
del _threading

# Whether Python's handler has caught a signal not yet handled, read without
# the GIL: lets the main thread spin before it sleeps (_pysignal.c).
cdef extern from "_pysignal.h":
    void menios_signal_call_begin(int restart) nogil
    int menios_signal_pending() nogil

cdef extern from "kernel/sched/wait.h":
    int (*wait_signal_pending)() noexcept nogil

wait_signal_pending = menios_signal_pending
# Most a single recv allocates: no queue can hold more than a sender's
# sndbuf, which is at most 2 * wmem_max (8 MiB by default).
cdef Py_ssize_t RECV_CAP = 16 * 1024 * 1024
# A send or recv that copies at least this many bytes makes even its first,
# non-blocking attempt with the GIL released, so that a sender and a
# receiver in two threads copy at the same time; a smaller one keeps the GIL
# (releasing and taking it back costs more than a small copy, and lets the
# other thread take the GIL first).  Measured in benchmarks/README.md
# ("Copying without the GIL").  Tunable per Net (menios.nogil_copy_min).
NOGIL_COPY_MIN = 65536
# setsockopt's marks of a caller's CAP_NET_ADMIN / CAP_NET_RAW, for sockopt.py
SOCKOPT_NET_ADMIN = UNIX_SOCKOPT_NET_ADMIN
SOCKOPT_NET_RAW = UNIX_SOCKOPT_NET_RAW
# Below this size a MSG_ZEROCOPY send copies: handing pages over costs more
# than copying a few KiB (pyzmq's COPY_THRESHOLD idea).  Tunable per Net.
cdef Py_ssize_t ZEROCOPY_THRESHOLD = 16384
# struct cmsghdr on 64-bit Linux: cmsg_len (size_t), cmsg_level, cmsg_type.
_CMSGHDR = _struct.Struct("=Qii")
cdef Py_ssize_t CMSG_HDR_LEN = 16
INT_MAX = 0x7fffffff
INT_MIN = -0x80000000
cdef int64_t NSEC_PER_MSEC = 1000000
cdef int64_t NSEC_PER_USEC = 1000
# A cap on iovecs, as Linux's UIO_MAXIOV.
cdef Py_ssize_t IOV_MAX = 1024


cdef int _raise(ssize_t err) except -1:
    """The one errno checker: ``-errno`` from the core becomes OSError."""
    raise OSError(<int>-err, os.strerror(<int>-err))


cdef inline int _check(ssize_t r) except -1:
    if r < 0:
        _raise(r)
    return 0


# ---------------------------------------------------------- host ops ---
# The calling process, for the core's host ops (see the module docstring).
cdef struct _task:
    PyObject *proc          # borrowed: the caller holds the process
    PyObject *exc           # owned: an exception an op raised, not an errno
    const unix_task_cred *cred  # the process's credentials (ProcessBase.task_cred)


cdef inline int _task_init(_task *t, object proc) except -1:
    t.cred = &(<ProcessBase?>proc).task_cred
    t.proc = <PyObject *>proc
    t.exc = NULL
    return 0


cdef int _task_done(_task *t) except -1:
    """Raise the exception an op stashed during the call, if any."""
    cdef object exc
    if t.exc != NULL:
        exc = <object>t.exc
        Py_DECREF(exc)          # `exc` holds it now
        t.exc = NULL
        raise exc
    return 0


cdef int _host_error(_task *t, object e) noexcept:
    """An op's exception as the core sees it: an OSError's -errno; anything
    else is stashed for _task_done and the core unwinds on -EINTR."""
    if isinstance(e, OSError):
        code = (<object>e).errno
        if type(code) is int and 0 < code < 4096:
            return -<int>code
    if t.exc == NULL:
        Py_INCREF(e)
        t.exc = <PyObject *>e
    return -EINTR


cdef inline void _inode_id(object inode, uint32_t *dev, uint64_t *ino):
    """An inode's identity as the core keys it: the kernel's dev_t, ino."""
    cdef uint64_t d = inode.dev     # glibc's dev_t: gnu_dev_major/minor
    dev[0] = <uint32_t>((((d >> 8) & 0xfff) << 20) | (d & 0xff) | ((d >> 12) & 0xfff00))
    ino[0] = inode.ino


cdef int _host_find_bsd(void *task, const char *path, uint32_t *dev,
                        uint64_t *ino) noexcept with gil:
    """unix_find_bsd's walk: the socket inode at @path, writable by the caller."""
    cdef _task *t = <_task *>task
    try:
        proc = <object>t.proc
        inode = proc.kernel.vfs.open_socket_inode(proc.cred, proc._cwd, <bytes>path)
        if (<unsigned int>inode.mode & S_IFMT) != S_IFSOCK:
            return -ECONNREFUSED
        _inode_id(inode, dev, ino)
        return 0
    except BaseException as e:
        return _host_error(t, e)


cdef int _host_mknod_bsd(void *task, const char *path, uint32_t *dev,
                         uint64_t *ino) noexcept with gil:
    """unix_bind_bsd's mknod: a socket inode with the caller's umask."""
    cdef _task *t = <_task *>task
    try:
        proc = <object>t.proc
        inode = proc.kernel.vfs.mknod_socket(proc.cred, proc._cwd, <bytes>path,
                                             S_IRWXUGO & ~proc.umask)
        _inode_id(inode, dev, ino)
        return 0
    except BaseException as e:
        return _host_error(t, e)


cdef void _host_unlink_bsd(void *task, const char *path) noexcept with gil:
    """unix_bind_bsd's undo: the node made for a socket found bound goes."""
    cdef _task *t = <_task *>task
    try:
        proc = <object>t.proc
        proc.kernel.vfs.unlink(proc.cred, proc._cwd, <bytes>path)
    except OSError:
        pass
    except BaseException as e:
        _host_error(t, e)


cdef int _host_fget(void *task, int fd, void **file, unix_sock **usk) noexcept with gil:
    """scm_fp_copy's fget_raw: the message's own reference to the file at @fd."""
    cdef _task *t = <_task *>task
    try:
        f = (<object>t.proc).fdtable.fget(fd)
        Py_INCREF(f)            # the reference is the message's, until _host_fput or drain
        file[0] = <void *>f
        usk[0] = (<Socket>f).sk if isinstance(f, Socket) else NULL
        return 0
    except BaseException as e:
        return _host_error(t, e)


cdef void _host_fput(void *file) noexcept with gil:
    """Drop a reference _host_fget took: the file of a message not sent."""
    _put_file(<object>file)


cdef inline void _put_file(object f) noexcept:
    """Drop a message's reference to the file @f (fput, then the Python
    reference the core held).  A release never fails the syscall that
    caused it."""
    try:
        f.fput()
    except Exception:
        pass
    Py_DECREF(f)                # last: it may be the last reference to @f


cdef int _host_cred(void *task, unix_task_cred *out) noexcept nogil:
    """current_cred(): the caller's pid, ids, capabilities and RLIMIT_NOFILE,
    as ProcessBase.task_cred keeps them (set at each credential change), so
    that every send may ask without the GIL."""
    out[0] = (<_task *>task).cred[0]
    return 0


cdef int _host_receive_fd(void *task, void *file, int cloexec, int dup) noexcept with gil:
    """receive_fd: the caller's lowest free fd gets the file -- the
    message's reference to it, or for a peek (@dup) a new one."""
    cdef _task *t = <_task *>task
    cdef ProcessBase proc = <ProcessBase>t.proc
    cdef object f = <object>file
    cdef Py_ssize_t fd
    try:
        if dup:
            f.fget()
        try:
            fd = proc.fdtable.alloc(f, proc.task_cred.rlimit_nofile, 0, cloexec)
        except BaseException:
            if dup:
                f.fput()
            raise
        if not dup:
            Py_DECREF(f)        # the message's Python reference: the table holds its own
        return <int>fd
    except BaseException as e:
        return _host_error(t, e)


cdef int _host_pid_exists(void *task, int32_t pid) noexcept with gil:
    """find_get_pid: a live process has this pid."""
    cdef _task *t = <_task *>task
    try:
        return pid in (<object>t.proc).kernel.processes
    except BaseException as e:
        _host_error(t, e)
        return 1                # the stashed exception ends the call


cdef int _host_pidfd(void *task, int32_t pid) noexcept with gil:
    """scm_pidfd_recv's pidfd_prepare + fd_install: a new pidfd for ``pid``
    at the caller's lowest free fd (menios/pidfd.py), or -errno."""
    cdef _task *t = <_task *>task
    try:
        return _pidfdcalls().install(<object>t.proc, pid)
    except OSError as e:
        if e.errno:
            return -e.errno
        return _host_error(t, e)
    except BaseException as e:
        return _host_error(t, e)


cdef unix_groups *_host_groups(void *task) noexcept with gil:
    """current_cred()->group_info: a reference to the caller's groups as
    ProcessBase keeps them (remade at each credential change)."""
    return unix_groups_get((<ProcessBase>(<_task *>task).proc).groups)


cdef unix_host_ops _HOST_OPS
_HOST_OPS.find_bsd = _host_find_bsd
_HOST_OPS.mknod_bsd = _host_mknod_bsd
_HOST_OPS.unlink_bsd = _host_unlink_bsd
_HOST_OPS.fget = _host_fget
_HOST_OPS.fput = _host_fput
_HOST_OPS.cred = _host_cred
_HOST_OPS.receive_fd = _host_receive_fd
_HOST_OPS.pid_exists = _host_pid_exists
_HOST_OPS.groups = _host_groups
_HOST_OPS.pidfd = _host_pidfd


cdef inline Py_ssize_t _cmsg_next(const unsigned char *buf, Py_ssize_t used, Py_ssize_t off,
                                  uint64_t *clen, int32_t *level, int32_t *type_) noexcept:
    """The header of the control message at ``off`` of the ``used`` bytes at
    ``buf`` into clen/level/type_, and where the next one starts; -1 when no
    whole message starts there."""
    if used - off < CMSG_HDR_LEN:
        return -1
    memcpy(clen, buf + off, 8)
    memcpy(level, buf + off + 8, 4)
    memcpy(type_, buf + off + 12, 4)
    if clen[0] < <uint64_t>CMSG_HDR_LEN or clen[0] > <uint64_t>(used - off):
        return -1
    return off + <Py_ssize_t>((clen[0] + 7) & ~(<uint64_t>7))


cdef list _ancdata(const unsigned char *buf, Py_ssize_t used):
    """The control messages scm_recv wrote in ``used`` bytes at ``buf``, as
    the stdlib's recvmsg lists them: ``[(level, type, data)]``."""
    cdef Py_ssize_t off = 0, nxt
    cdef uint64_t clen
    cdef int32_t level, type_
    out = []
    nxt = _cmsg_next(buf, used, off, &clen, &level, &type_)
    while nxt >= 0:
        out.append((level, type_, (<const char *>buf)[off + CMSG_HDR_LEN:off + <Py_ssize_t>clen]))
        off = nxt
        nxt = _cmsg_next(buf, used, off, &clen, &level, &type_)
    return out


cdef list _cmsg_fds(const unsigned char *buf, Py_ssize_t used):
    """The fds of the SCM_RIGHTS messages among those at ``buf`` (what the
    stdlib's recv_fds takes out of the ancdata)."""
    cdef Py_ssize_t off = 0, nxt, i
    cdef uint64_t clen
    cdef int32_t level, type_, fd
    out = []
    nxt = _cmsg_next(buf, used, off, &clen, &level, &type_)
    while nxt >= 0:
        if level == SOL_SOCKET and type_ == SCM_RIGHTS:
            for i in range((<Py_ssize_t>clen - CMSG_HDR_LEN) // 4):
                memcpy(&fd, buf + off + CMSG_HDR_LEN + 4 * i, 4)
                out.append(fd)
        off = nxt
        nxt = _cmsg_next(buf, used, off, &clen, &level, &type_)
    return out


def cmsg_buffer(object ancdata):
    """sendmsg's control messages, ``[(level, type, data)]``, as a 64-bit
    Linux msg_control buffer for the core's scm_send (each cmsghdr and its
    data, 8-byte aligned).  Converted as the syscall layer converts them:
    TypeError for a non-integer level or type or non-buffer data.  A level
    beyond a C int cannot be SOL_SOCKET and is left out; a type beyond one
    is sent as -1, a type no level knows."""
    out = bytearray()
    for item in ancdata:
        level, type_, data = item
        level, type_ = _as_int(level), _as_int(type_)
        data = bytes(memoryview(data))
        if not INT_MIN <= level <= INT_MAX:
            continue
        if not INT_MIN <= type_ <= INT_MAX:
            type_ = -1
        cmsg_len = CMSG_HDR_LEN + len(data)
        out += _CMSGHDR.pack(cmsg_len, level, type_)
        out += data
        out += bytes(-cmsg_len & 7)
    return bytes(out)


cdef bytes _rights_cmsg_ints(object fds):
    """``rights_cmsg`` of a list or tuple of ints that fit a C int, built in
    place; None for anything else (which the array module converts, with
    its own errors)."""
    cdef Py_ssize_t n, i, clen, space
    cdef int overflow
    cdef long long v
    cdef int32_t hdr[2]
    cdef int32_t x
    cdef uint64_t len64
    cdef char *p
    if type(fds) is not list and type(fds) is not tuple:
        return None
    n = len(fds)
    for i in range(n):
        o = fds[i]
        if type(o) is not int:
            return None
        v = PyLong_AsLongLongAndOverflow(o, &overflow)
        if overflow or v < -0x80000000 or v > 0x7fffffff:
            return None
    clen = CMSG_HDR_LEN + n * 4
    space = (clen + 7) & ~7
    out = PyBytes_FromStringAndSize(NULL, space)
    p = PyBytes_AS_STRING(out)
    memset(p, 0, <size_t>space)
    len64 = <uint64_t>clen
    hdr[0] = SOL_SOCKET
    hdr[1] = SCM_RIGHTS
    memcpy(p, &len64, 8)
    memcpy(p + 8, hdr, 8)
    for i in range(n):
        x = <int32_t>PyLong_AsLongLong(fds[i])
        memcpy(p + CMSG_HDR_LEN + i * 4, &x, 4)
    return out


def rights_cmsg(fds):
    """``cmsg_buffer([(SOL_SOCKET, SCM_RIGHTS, array("i", fds))])``, made
    directly: send_fds's control message."""
    fast = _rights_cmsg_ints(fds)
    if fast is not None:
        return fast
    data = _array.array("i", fds).tobytes()
    cmsg_len = CMSG_HDR_LEN + len(data)
    return _CMSGHDR.pack(cmsg_len, SOL_SOCKET, SCM_RIGHTS) + data + bytes(-cmsg_len & 7)


# ------------------------------------------------------ blocking calls ---
# Every call that may sleep is described by a _call and run by _syscall.
cdef enum:
    CALL_CONNECT
    CALL_ACCEPT
    CALL_SEND
    CALL_RECV
    CALL_RECV_PAGES
    CALL_POLL
    CALL_PIPE_READ
    CALL_PIPE_WRITE
    CALL_FIFO_OPEN
    CALL_SPLICE
    CALL_TEE
    CALL_PIPE_ADD
    CALL_PIPE_TO_SOCK
    CALL_SOCK_TO_PIPE
    CALL_SEND_BUFS

cdef struct _call:
    int op
    _task *task             # connect, send: the caller, for the host ops (or NULL)
    unix_sock *sk
    const unsigned char *name   # connect: sun_path bytes, NULL for AF_UNSPEC
    unsigned int namelen
    unix_sock *newsk        # accept: the new socket
    unix_msg *msg           # send, recv, recv_pages
    unix_net *net           # poll
    unix_pollfd *fds        # poll
    unsigned int nfds       # poll
    int64_t timeo           # poll: ns, -1 none
    size_t want             # send, pipe write: all of it; stream recv: its target (else 0)
    pipe_inode_info *pipe   # pipe read, write
    pipe_io *pio            # pipe read, write
    int fmode               # fifo open: PIPE_FMODE_*
    unsigned int version    # fifo open: out, the file's w_counter
    pipe_inode_info *opipe  # splice, tee: the output pipe
    int sigpipe             # splice, tee, pipe add: out, no reader on the output
    pipe_buffer *bufs       # pipe add, send bufs: page buffers to put in the pipe / send
    unsigned int nbufs      # pipe add, send bufs
    unsigned int used       # pipe add, send bufs: out, how many went
    int zerocopy            # pipe add: the pages are shared, not copies
    size_t done             # pipe to socket, send bufs: bytes moved by earlier attempts
    int pipe_nonblock       # pipe to socket: no waiting for data
    int sock_full           # pipe to socket, send bufs: out, the socket took less than given
    scm_fp_list *rfp        # socket to pipe: out, files a message carried
    page_frag *frag         # socket to pipe: a stream's, the task's page fragment (else NULL)
    bint nogil              # the first attempt too runs with the GIL released
    wait_ctl ctl


cdef ssize_t _call_once(_call *c) noexcept nogil:
    cdef ssize_t r
    if c.op == CALL_POLL:
        wait_ctl_begin(&c.ctl, c.timeo)     # poll has no socket timeout to start from
        return unix_poll_many(c.net, c.fds, c.nfds, &c.ctl)
    if c.op == CALL_SEND:
        r = unix_sendmsg(c.task, c.sk, c.msg, &c.ctl)
    elif c.op == CALL_RECV:
        r = unix_recvmsg(c.task, c.sk, c.msg, &c.ctl)
    elif c.op == CALL_ACCEPT:
        r = unix_accept(c.sk, &c.newsk, 0, &c.ctl)
    elif c.op == CALL_CONNECT:
        r = unix_connect(c.task, c.sk, c.name, c.namelen, 0, &c.ctl)
    elif c.op == CALL_RECV_PAGES:
        r = unix_recv_pages(c.sk, c.msg, &c.ctl)
    elif c.op == CALL_PIPE_READ:
        return pipe_read(c.pipe, c.pio, &c.ctl)
    elif c.op == CALL_PIPE_WRITE:
        return pipe_write(c.pipe, c.pio, &c.ctl)
    elif c.op == CALL_SPLICE:
        return pipe_splice(c.pipe, c.opipe, c.want, &c.ctl, &c.sigpipe)
    elif c.op == CALL_TEE:
        return pipe_tee(c.pipe, c.opipe, c.want, &c.ctl, &c.sigpipe)
    elif c.op == CALL_PIPE_ADD:
        return pipe_add_bufs(c.pipe, c.bufs, c.nbufs, c.zerocopy, &c.ctl, &c.sigpipe, &c.used)
    elif c.op == CALL_PIPE_TO_SOCK:
        r = pipe_splice_to_socket(c.task, c.pipe, c.sk, c.want, &c.done, c.pipe_nonblock,
                                  c.fmode, c.zerocopy, &c.ctl, &c.sigpipe, &c.sock_full)
    elif c.op == CALL_SEND_BUFS:
        r = pipe_bufs_to_socket(c.task, c.sk, c.bufs, c.nbufs, &c.used, &c.done, &c.ctl,
                                &c.sigpipe, &c.sock_full)
    elif c.op == CALL_SOCK_TO_PIPE:
        r = pipe_splice_from_socket(c.sk, c.pipe, c.want, c.pipe_nonblock, c.fmode, c.frag,
                                    &c.ctl, &c.sigpipe, &c.rfp)
    else:
        return pipe_fifo_open(c.pipe, c.fmode, c.want != 0, &c.ctl, &c.version)
    unix_ready_refresh(c.sk)    # what the call took away (ready.c)
    return r


cdef inline bint _would_block(_call *c, ssize_t r) noexcept:
    """The non-blocking attempt did not finish what a blocking call must."""
    if c.op == CALL_POLL:
        return r == 0
    if r == -EAGAIN:
        return True
    if c.op == CALL_SEND:       # a stream send queues everything
        return r >= 0 and <size_t>r < c.want and c.msg.sigpipe == 0
    if c.op == CALL_PIPE_WRITE:  # a blocking pipe write writes everything
        return r >= 0 and <size_t>r < c.want and c.pio.sigpipe == 0
    if c.op == CALL_PIPE_TO_SOCK or c.op == CALL_SEND_BUFS:  # a blocking socket takes everything
        return r >= 0 and c.sock_full != 0 and c.fmode == 0 and c.sigpipe == 0
    if c.op == CALL_RECV:       # a stream recv waits for its target; files end it
        return (r > 0 and c.msg.done < c.want and c.msg.rfp == NULL
                and c.msg.fds_put == 0)
    return False


cdef ssize_t _syscall(_call *c, bint nonblock) except? -2:
    """Run the call @c: once never sleeping, with the GIL held unless
    @c.nogil; then, unless @nonblock or it is done, with the GIL released
    until it returns for good.
    An exception a host op stashed ends the call with that exception.
    A signal (only the main thread's sleep is interruptible) ends the sleep
    with -ERESTARTSYS/-EINTR when nothing was done: the handlers run; one
    that raises ends the call with its exception, else the call restarts
    from scratch -- with the same deadline, a destination name looked up
    again."""
    cdef ssize_t r
    c.ctl.deadline = WAIT_NONBLOCK
    c.ctl.intr = 0
    if c.nogil:
        with nogil:
            gil_leave()
            r = _call_once(c)
            gil_settle(GIL_SETTLE_NS)
        gil_enter()
    else:
        gil_enter()
        if gil_wake_observe(c.op, <const void *>c.sk):
            plat_wake_hold(1)
            r = _call_once(c)
            if plat_wake_hold(0):
                with nogil:     # the woken peer runs with the GIL free
                    gil_leave()
                    plat_wake_flush()
        else:
            r = _call_once(c)
    if c.task != NULL and c.task.exc != NULL:     # checked here: a call costs every send
        _task_done(c.task)
    if nonblock or not _would_block(c, r):
        return r
    c.ctl.deadline = 0          # from the socket's timeout, on entry
    c.ctl.intr = PyThread_get_thread_ident() == _MAIN_THREAD
    if c.op == CALL_SEND:
        # A datagram send woken with a grant of room keeps it until this
        # thread holds the GIL again (unix_room_release, below): the reader
        # it would pass to has the GIL while it drains, and the next sender
        # woken meanwhile would come back for one message (dgram.c).
        c.msg.keep_grant = 1
    if trace_on():
        __trace_record(TRACE_BLOCK, c.op, 0, 0, 0)
    cdef int restart = 0
    while True:
        with nogil:
            gil_leave()
            if c.ctl.intr:
                menios_signal_call_begin(restart)
            r = _call_once(c)
            if r != -ERESTARTSYS and r != -EINTR:
                gil_settle(GIL_SETTLE_NS)
        gil_enter()
        if c.op == CALL_SEND and c.msg.granted != NULL:
            unix_room_release(c.msg)
        if c.task != NULL and c.task.exc != NULL:
            _task_done(c.task)
        if r != -ERESTARTSYS and r != -EINTR:
            break
        if _check_signals() < 0:
            r = -2              # a handler raised: its exception ends the call
            break
        restart = 1
    if trace_on():
        __trace_record(TRACE_UNBLOCK, c.op, r, 0, 0)
    return r


cdef inline void _msg_init(unix_msg *m, unix_iov *iov, unsigned int n, int flags) noexcept nogil:
    memset(m, 0, sizeof(unix_msg))
    m.iov = iov
    m.iovlen = n
    m.flags = flags


cdef inline void _msg_name(unix_msg *m, bytes name) noexcept:
    """A send's destination: sun_path bytes, or None for none."""
    if name is not None:
        m.name = <const unsigned char *>PyBytes_AS_STRING(name)
        m.namelen = <unsigned int>PyBytes_GET_SIZE(name)


cdef inline void _msg_control(unix_msg *m, bytes control) noexcept:
    """A send's control messages: a msg_control buffer, or None for none."""
    if control is not None:
        m.control = PyBytes_AS_STRING(control)
        m.controllen = <size_t>PyBytes_GET_SIZE(control)


cdef int64_t _ns_from_us(str what, int us) except? -1:
    """A microsecond setting of the Net as the core keeps it: ns; ValueError
    when negative."""
    if us < 0:
        raise ValueError("%s must be >= 0" % what)
    return <int64_t>us * NSEC_PER_USEC


cdef class Net:
    """One simulated kernel's AF_UNIX family (``struct unix_net``)."""

    def __cinit__(self, int max_dgram_qlen, int somaxconn, int wmem_default,
                  int rmem_default, int wmem_max, int rmem_max):
        cdef unix_sysctl s
        s.max_dgram_qlen = max_dgram_qlen
        s.somaxconn = somaxconn
        s.wmem_default = wmem_default
        s.rmem_default = rmem_default
        s.wmem_max = wmem_max
        s.rmem_max = rmem_max
        self.net = unix_net_create(&s)
        if self.net == NULL:
            raise MemoryError()
        unix_net_set_host(self.net, &_HOST_OPS)
        self.nogil_copy_min = NOGIL_COPY_MIN

    def __dealloc__(self):
        if self.net != NULL:
            unix_net_destroy(self.net)
            self.net = NULL

    cdef void drain(self):
        """Drop the files the core let go of while it held its lock."""
        cdef scm_fp_list *l
        cdef scm_fp_list *nxt
        cdef int i
        cdef object f
        while True:
            l = unix_net_take_released(self.net)
            if l == NULL:
                return
            while l != NULL:
                nxt = l.next
                for i in range(l.count):
                    _put_file(<object>l.files[i].file)
                scm_fp_free(l)
                l = nxt

    def shutdown(self):
        """Fail every blocked call, wait until they have all left, and drop
        every queued message (files in flight go back to their owners)."""
        with nogil:
            unix_net_shutdown(self.net)
        self.drain()

    def gc(self):
        """Run the in-flight garbage collector; returns sockets collected."""
        cdef int n
        with nogil:
            n = unix_gc(self.net)
        self.drain()
        return n

    property user_inflight:
        """``{uid: files}`` for each user with files in flight, as
        too_many_unix_fds counts them (Linux's user_struct.unix_inflight)."""
        def __get__(self):
            cdef int32_t uids[64]
            cdef int64_t counts[64]
            cdef int n = unix_users_inflight(self.net, uids, counts, 64), i
            if n > 64:
                raise RuntimeError("more than 64 users with files in flight")
            return {uids[i]: counts[i] for i in range(n)}

    def counters(self):
        cdef unix_counters c
        unix_net_counters(self.net, &c)
        return {"sockets": c.live, "socket_structs": c.socks, "skbs": c.skbs, "bytes_queued": c.bytes_queued,
                "files_inflight": c.inflight, "bytes_copied": c.bytes_copied,
                "bytes_zerocopy": c.bytes_zerocopy, "pages": menios_pool_live(self.net),
                "gc_runs": c.gc_runs, "blocked": c.blocked, "kicks": c.kicks,
                "wait_timeouts": c.wait_timeouts, "spin_wakes": c.spin_wakes}

    def list(self):
        """One dict per socket, as sock_diag sees it (see ``unix_list`` in
        af_unix.c): ``ino`` (0 for an embryo), ``type``, ``state``,
        ``flags``, ``refcnt``, ``listening``, ``name`` (raw sun_path bytes),
        ``rqueue``/``wqueue`` (UNIX_DIAG_RQLEN), ``peer_ino``, ``shutdown``,
        ``uid``, ``vfs`` (``(dev, ino)`` or None), ``meminfo`` (the nine
        SK_MEMINFO_* values), ``icons`` (pending connections' peer inodes),
        ``listener_ino``, ``inflight`` and the copy counters."""
        cdef int n = 0, got
        cdef size_t ni = 0, nicons = 0
        cdef unix_sock_info *buf = NULL
        cdef uint64_t *icons = NULL
        cdef unix_sock_info *i
        while True:
            got = unix_list(self.net, buf, n, icons, nicons, &ni)
            if got <= n and ni <= nicons:
                break
            n, nicons = got + 16, ni + 64
            free(buf)
            free(icons)
            buf = <unix_sock_info *>malloc(sizeof(unix_sock_info) * n)
            icons = <uint64_t *>malloc(sizeof(uint64_t) * nicons)
            if buf == NULL or icons == NULL:
                free(buf)
                free(icons)
                raise MemoryError()
        try:
            out = []
            for k in range(got):
                i = &buf[k]
                out.append({
                    "ino": i.ino, "type": i.type, "state": i.state, "flags": i.flags,
                    "refcnt": i.refcnt, "listening": bool(i.listening),
                    "name": (<char *>i.path)[:i.addr_len],
                    "rqueue": i.rqueue, "wqueue": i.wqueue, "peer_ino": i.peer_ino,
                    "shutdown": i.shutdown, "uid": i.uid,
                    "vfs": (i.vfs_dev, i.vfs_ino) if i.has_vfs else None,
                    "meminfo": tuple([i.mem[j] for j in range(9)]),
                    "icons": [icons[i.icons_off + j] for j in range(i.nicons)],
                    "listener_ino": i.listener_ino, "inflight": i.inflight,
                    "bytes_copied_in": i.bytes_copied_in,
                    "bytes_copied_out": i.bytes_copied_out,
                    "bytes_zerocopy_in": i.bytes_zerocopy_in,
                    "bytes_zerocopy_out": i.bytes_zerocopy_out,
                    "msgs_sent": i.msgs_sent, "msgs_received": i.msgs_received})
            return out
        finally:
            free(buf)
            free(icons)

    property busy_poll_us:
        def __get__(self):
            return self.net.busy_poll_ns // NSEC_PER_USEC
        def __set__(self, int us):
            self.net.busy_poll_ns = _ns_from_us("busy_poll", us)

    property nogil_copy_min:
        """Bytes from which a send or recv copies with the GIL released
        even when it does not block (see NOGIL_COPY_MIN)."""
        def __get__(self):
            return self.nogil_copy_min
        def __set__(self, Py_ssize_t n):
            if n < 0:
                raise ValueError("nogil_copy_min must be >= 0")
            self.nogil_copy_min = n

    property wait_spin_us:
        """Bound of the adaptive spin before a sleep (0: never spin)."""
        def __get__(self):
            return self.net.spin_max_ns // NSEC_PER_USEC
        def __set__(self, int us):
            self.net.spin_max_ns = _ns_from_us("wait_spin_us", us)


cdef class File:
    """An open file description.  ``f_count`` counts the references to it:
    fd table entries and messages in flight; the last ``fput`` releases it."""

    def __cinit__(self, *args, **kwargs):
        self.f_count = 1
        self.f_flags = 0

    def fget(self):
        self.f_count += 1

    def fput(self):
        self.f_count -= 1
        if self.f_count == 0:
            self.release()

    def release(self):
        pass

    def setown(self, int pid, int uid, int euid):
        """F_SETOWN: who would get this file's signals (the setter's ids
        are kept for the permission check at delivery)."""
        self._owner = (pid, uid, euid)

    def getown(self):
        """F_GETOWN: the owner's pid, -pgid for a group, or 0."""
        return self._owner[0] if self._owner is not None else 0

    # Socket calls on a file that is not a socket.
    def _notsock(self, *args, **kwargs):
        raise OSError(ENOTSOCK, os.strerror(ENOTSOCK))

    send = sendmsg = recv = recv_into = recvmsg = bind = listen = connect = _notsock
    accept = shutdown = getname = getsockopt = setsockopt = peercred = _notsock


cdef class Socket(File):
    """An AF_UNIX socket: the open file description of a socket fd."""

    def __cinit__(self, Net net, int type, int protocol=0, bint _wrap=False):
        cdef int r
        self.net = net
        if _wrap:
            return
        r = unix_create(net.net, type, protocol, &self.sk)
        _check(r)
        unix_sock_hold(self.sk)          # this object's own reference
        unix_file_ref(self.sk, 1)
        self.type = type & SOCK_TYPE_MASK
        if self.type == SOCK_RAW:
            self.type = SOCK_DGRAM       # SOCK_RAW is SOCK_DGRAM

    def __dealloc__(self):
        if self.sk != NULL:
            if not self.released:
                unix_release(self.sk)
            unix_sock_put(self.sk)
            self.sk = NULL

    cdef void _enter(self):
        self.busy += 1

    cdef void _leave(self):
        self.busy -= 1
        if self.busy == 0:
            if self.deferred_puts:
                # References dropped while a call was in progress: the
                # collector may see them only now (Linux's fget/fput).
                unix_file_ref(self.sk, -self.deferred_puts)
                self.deferred_puts = 0
            if self.f_count == 0 and not self.released:
                self._do_release()

    def fget(self):
        self.f_count += 1
        unix_file_ref(self.sk, 1)

    def fput(self):
        self.f_count -= 1
        if self.busy:
            self.deferred_puts += 1      # a call in progress still holds the file
            return
        unix_file_ref(self.sk, -1)
        if self.f_count == 0:
            self._do_release()

    def release(self):
        if self.busy == 0 and not self.released:
            self._do_release()

    def _do_release(self):
        cdef int gc
        if self.released:
            return
        self.released = True
        with nogil:
            gc = unix_release(self.sk)
        self.net.drain()
        if gc:
            # The core asks for the pass Linux runs here; it runs after the
            # drain so that it sees the references the release let go of.
            with nogil:
                unix_gc_scheduled(self.net.net)
            self.net.drain()
        hook = self.on_release
        if hook is not None:
            hook(self)

    def setown(self, int pid, int uid, int euid):
        """F_SETOWN on a socket: the core reports this owner for SIGURG."""
        cdef unix_fown o
        o.pid = pid
        o.uid = uid
        o.euid = euid
        unix_set_owner(self.sk, &o)

    def getown(self):
        cdef unix_fown o
        unix_get_owner(self.sk, &o)
        return o.pid

    property inflight_sock:
        def __get__(self):
            return <size_t>self.sk

    property ino:
        """The socket's inode number (sockfs): what fstat, /proc/net/unix
        and sock_diag report."""
        def __get__(self):
            return self.sk.ino

    property sock_uid:
        """The owner of the socket's inode (sock_i_uid)."""
        def __set__(self, int uid):
            unix_set_uid(self.sk, uid)

    # --------------------------------------------------------- names ---
    def bind(self, proc, bytes path):
        """bind(2) for the process ``proc`` to the sun_path bytes ``path``
        (see unix_bind in af_unix.c): b'' autobinds, a leading NUL is an
        abstract name, anything else a path made in proc's VFS."""
        cdef _task t
        cdef int r
        _task_init(&t, proc)
        r = unix_bind(&t, self.sk, <char *>path, <unsigned int>len(path))
        _task_done(&t)
        _check(r)

    def getname(self, bint peer):
        """Raw stored name: b'' when unnamed."""
        cdef unsigned char buf[112]
        cdef unsigned int n = 0
        _check(unix_getname(self.sk, peer, buf, &n))
        return (<char *>buf)[:n]

    # ---------------------------------------------------- connections ---
    def listen(self, proc, int backlog):
        """listen(2) for the process ``proc``, whose credentials become the
        listener's SO_PEERCRED."""
        cdef _task t
        cdef int r
        _task_init(&t, proc)
        r = unix_listen(&t, self.sk, backlog)
        _task_done(&t)
        _check(r)
        unix_ready_refresh(self.sk)     # a listener is never writable

    def connect(self, proc, bytes path):
        """connect(2) for the process ``proc`` to the sun_path bytes
        ``path`` (None: AF_UNSPEC)."""
        cdef _call c
        cdef _task t
        cdef ssize_t r
        _task_init(&t, proc)
        c.op = CALL_CONNECT
        c.task = &t
        c.nogil = False
        c.sk = self.sk
        c.name = <const unsigned char *><char *>path if path is not None else NULL
        c.namelen = <unsigned int>len(path) if path is not None else 0
        self._enter()
        try:
            r = _syscall(&c, (self.f_flags & O_NONBLOCK) != 0)
            self.net.drain()
            _check(r)
        finally:
            self._leave()

    def socketpair_with(self, Socket other, proc):
        """socketpair(2) for the process ``proc``: its credentials are each
        end's SO_PEERCRED."""
        cdef _task t
        cdef int r
        _task_init(&t, proc)
        r = unix_socketpair(&t, self.sk, other.sk)
        _task_done(&t)
        _check(r)

    def accept(self, int flags=0):
        """Wait for a connection; returns the new Socket."""
        cdef _call c
        cdef unix_sock *nsk
        cdef Socket s
        c.op = CALL_ACCEPT
        c.task = NULL
        c.nogil = False
        c.sk = self.sk
        c.newsk = NULL
        self._enter()
        try:
            _check(_syscall(&c, (self.f_flags & O_NONBLOCK) != 0))
        finally:
            self._leave()
        nsk = c.newsk
        s = Socket.__new__(Socket, self.net, self.type, 0, True)
        s.sk = nsk                       # the reference accept took is the file's
        unix_sock_hold(nsk)              # and this object's own
        unix_file_ref(nsk, 1)
        unix_graft(nsk)                  # its file's inode number
        s.type = self.type
        return s

    # ----------------------------------------------------------- data ---
    cdef ssize_t _send(self, unix_msg *m, size_t total, object proc) except? -2:
        """The send: ``proc`` is the caller, for its credentials, files and
        a destination path's lookup."""
        cdef _call c
        cdef _task t
        cdef ssize_t r
        c.op = CALL_SEND
        _task_init(&t, proc)
        c.task = &t
        c.sk = self.sk
        c.msg = m
        c.want = total
        c.nogil = m.pages == NULL and <Py_ssize_t>total >= self.net.nogil_copy_min
        self._enter()
        try:
            try:
                r = _syscall(&c, (m.flags & MSG_DONTWAIT) != 0 or (self.f_flags & O_NONBLOCK) != 0)
            finally:
                if m.fp != NULL:
                    unix_scm_destroy(self.net.net, m)   # not sent: never in flight
            if m.urg.pid != 0:
                self._sigurg(&m.urg)
            if r < 0:
                if m.sigpipe:
                    raise SigPipe(-r, os.strerror(<int>-r))
                _raise(r)
            return r
        finally:
            self._leave()

    cdef void _sigurg(self, unix_fown *o):
        """sk_send_sigurg: an out-of-band byte reached a socket whose file
        has an owner; the kernel delivers SIGURG."""
        ref = self.net.sigurg
        deliver = ref() if ref is not None else None
        if deliver is not None:
            deliver(o.pid, o.uid, o.euid)

    def send(self, data, int flags, proc, bytes name=None, bint drop=False):
        """send/sendto by the process ``proc``: returns bytes sent.
        ``name``: the destination's sun_path bytes (None: none).  ``drop``
        (a datagram, fault injection): the datagram is lost after every
        check, the copy and the lookup (``unix_msg.drop``)."""
        return self._send_data(data, flags, proc, name, drop)

    cdef object _send_data(self, object data, int flags, object proc, bytes name,
                           bint drop):
        cdef unix_iov iov
        cdef unix_msg m
        cdef Py_buffer view
        cdef ssize_t r
        if type(data) is bytes:
            iov.base = PyBytes_AS_STRING(data)
            iov.len = <size_t>PyBytes_GET_SIZE(data)
            _msg_init(&m, &iov, 1, flags)
            _msg_name(&m, name)
            m.drop = drop
            return self._send(&m, iov.len, proc)
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            iov.base = view.buf
            iov.len = <size_t>view.len
            _msg_init(&m, &iov, 1, flags)
            _msg_name(&m, name)
            m.drop = drop
            return self._send(&m, iov.len, proc)
        finally:
            PyBuffer_Release(&view)

    def sendmsg(self, buffers, int flags, proc, bytes control=None, bytes name=None,
                bint drop=False):
        """sendmsg: ``control`` the control messages as a msg_control buffer
        (``cmsg_buffer``), which the core parses (scm_send) for the process
        ``proc``: its fds, its credentials.  ``name``/``drop``: as for
        ``send``."""
        return self._sendmsg_c(buffers, flags, proc, control, name, drop)

    cdef object _sendmsg_c(self, object buffers, int flags, object proc, bytes control,
                           bytes name, bint drop):
        cdef Py_ssize_t n, i
        cdef unix_iov *iov = NULL
        cdef Py_buffer *views = NULL
        cdef Py_ssize_t got = 0
        cdef unix_msg m
        cdef size_t total = 0
        bufs = list(buffers)
        n = len(bufs)
        if flags & MSG_ZEROCOPY:
            flags &= ~MSG_ZEROCOPY
            if n == 1 and type(bufs[0]) is Pages and (<Pages>bufs[0]).nbytes >= ZEROCOPY_THRESHOLD:
                return self._send_pages(<Pages>bufs[0], flags, proc, name, control, drop)
        if n > IOV_MAX:
            raise OSError(EMSGSIZE, os.strerror(EMSGSIZE))
        iov = <unix_iov *>malloc(sizeof(unix_iov) * (n + 1))
        views = <Py_buffer *>malloc(sizeof(Py_buffer) * (n + 1))
        if iov == NULL or views == NULL:
            free(iov); free(views)
            raise MemoryError()
        try:
            for i in range(n):
                PyObject_GetBuffer(bufs[i], &views[i], PyBUF_SIMPLE)
                got += 1
                iov[i].base = views[i].buf
                iov[i].len = <size_t>views[i].len
                total += iov[i].len
            _msg_init(&m, iov, <unsigned int>n, flags)
            _msg_name(&m, name)
            _msg_control(&m, control)
            m.drop = drop
            return self._send(&m, total, proc)
        finally:
            for i in range(got):
                PyBuffer_Release(&views[i])
            free(iov)
            free(views)

    def _send_pages(self, Pages pages, int flags, proc, bytes name, bytes control,
                    bint drop=False):
        """Hand the pages themselves to the receiver: no copy."""
        cdef unix_iov iov
        cdef unix_msg m
        pages._check()
        if pages.writable_exports:
            raise BufferError("release writable views of the pages before handing them off")
        iov.base = pages.run.mem
        iov.len = <size_t>pages.nbytes
        _msg_init(&m, &iov, 1, flags)
        _msg_name(&m, name)
        _msg_control(&m, control)
        m.drop = drop
        m.pages = pages.run
        menios_page_set_gifted(pages.run, 1)
        try:
            return self._send(&m, iov.len, proc)
        except BaseException:
            if menios_page_refs(pages.run) == 1:
                menios_page_set_gifted(pages.run, 0)     # nothing was handed over
            raise

    def recv_pages(self, Py_ssize_t bufsize, int flags):
        """The next message as a read-only PageBuffer: the sender's own pages
        when it was sent zero-copy, else a copy into fresh pages."""
        cdef unix_msg m
        cdef _call c
        cdef ssize_t r
        cdef PageBuffer pb
        if bufsize < 0:
            raise ValueError("negative buffersize in recv_pages")
        _msg_init(&m, NULL, 0, flags)
        c.op = CALL_RECV_PAGES
        c.task = NULL
        c.nogil = False
        c.sk = self.sk
        c.msg = &m
        self._enter()
        try:
            r = _syscall(&c, (flags & MSG_DONTWAIT) != 0 or (self.f_flags & O_NONBLOCK) != 0)
        finally:
            self._leave()
        if r == -ENOBUFS:
            # Ordinary data: copy it into fresh pages (counted as copied).
            pages = Pages(self.net, max(1, (bufsize + PAGE_SIZE - 1) // PAGE_SIZE), False)
            n = self.recv_into(pages, bufsize, flags)
            return (<Pages>pages)._freeze(n)
        _check(r)
        pb = PageBuffer.__new__(PageBuffer)
        pb.net = self.net
        pb.run = m.rpages            # the reference unix_recv_pages took
        pb.off = m.rpages_off if m.rpages != NULL else 0
        pb.nbytes = r
        if pb.run == NULL:           # EOF
            pb.run = unix_alloc_pages(self.net.net, 1, 1)
            if pb.run == NULL:
                raise MemoryError()
        return pb

    cdef ssize_t _recv(self, unix_msg *m, object proc) except? -2:
        """The receive; ``proc`` is the caller, for the files a control
        buffer (m.rcontrol) gets installed as fds, or None without one."""
        cdef _call c
        cdef _task t
        cdef int flags = m.flags
        cdef bint nonblock = (flags & MSG_DONTWAIT) != 0 or (self.f_flags & O_NONBLOCK) != 0
        cdef size_t total = 0
        cdef int64_t lowat = 1
        cdef unsigned int i
        c.op = CALL_RECV
        c.task = NULL
        if proc is not None or m.rcontrol != NULL:
            _task_init(&t, proc)        # TypeError for a control buffer without a process
            c.task = &t
        c.sk = self.sk
        c.msg = m
        c.want = 0
        for i in range(m.iovlen):
            total += m.iov[i].len
        # What the queue holds decides, not the buffer: a recv into a large
        # buffer of what turns out to be a few bytes keeps the GIL.
        c.nogil = (<Py_ssize_t>total >= self.net.nogil_copy_min
                   and <Py_ssize_t>unix_recv_hint(self.sk) >= self.net.nogil_copy_min)
        if not nonblock and self.type == SOCK_STREAM and not flags & MSG_OOB:
            # A stream read waits for its target: everything with
            # MSG_WAITALL, else SO_RCVLOWAT bytes (sock_rcvlowat).
            if flags & MSG_WAITALL:
                c.want = total
            else:
                unix_getsockopt(self.sk, SOL_SOCKET, SO_RCVLOWAT, &lowat)
                c.want = <size_t>lowat if <size_t>lowat < total else total
                if c.want == 0 and total:
                    c.want = 1
        cdef ssize_t r
        self._enter()
        try:
            r = _syscall(&c, nonblock)
            if r >= 0 and m.rcontrol != NULL:
                unix_scm_recv_end(c.task, self.sk, m)     # once the call is done
                if t.exc != NULL:
                    _task_done(&t)
            return r
        finally:
            self._leave()

    cdef object _take_files(self, unix_msg *m):
        """The received files as a list of new references (installed by the caller)."""
        cdef int i
        cdef object f
        cdef scm_fp_list *fpl = m.rfp
        out = []
        if fpl == NULL:
            return out
        m.rfp = NULL
        for i in range(fpl.count):
            f = <object>fpl.files[i].file
            if m.rfp_peeked:
                f.fget()                 # a peek installs duplicates
            else:
                Py_DECREF(f)             # the message's Python reference moves to `out`
            out.append(f)
        scm_fp_free(fpl)
        return out

    cdef object _finish_data(self, unix_msg *m, bint want_addr):
        """Finish a recv that takes no control data: the sender's address
        if @want_addr (else None); the files a message carried are closed,
        as read()/recv() without control space closes them.  Builds nothing
        for the common message that carries neither."""
        cdef object addr = None
        if want_addr and m.addr != NULL:
            addr = (<char *>m.addr.path)[:m.addr.len]
        if m.rfp != NULL:
            for f in self._take_files(m):
                f.fput()
        unix_msg_release(self.sk, m)
        return addr

    def recv(self, Py_ssize_t bufsize, int flags, bint want_addr=False):
        """recv/recvfrom: returns data, or (data, raw addr) with want_addr."""
        return self._recv_data(bufsize, flags, want_addr)

    cdef object _recv_data(self, Py_ssize_t bufsize, int flags, bint want_addr):
        cdef unix_iov iov
        cdef unix_msg m
        cdef ssize_t r
        cdef Py_ssize_t cap
        cdef PyObject *p
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        cap = bufsize if bufsize < RECV_CAP else RECV_CAP
        p = _bytes_new(NULL, cap)         # owned here until returned
        if p == NULL:
            raise MemoryError()
        try:
            iov.base = _bytes_data(p)
            iov.len = <size_t>cap
            _msg_init(&m, &iov, 1, flags)
            r = self._recv(&m, None)
            addr = self._finish_data(&m, want_addr)
            _check(r)
        except BaseException:
            Py_XDECREF(p)
            raise
        if r != cap:
            # Resizing a bytes object we own alone is allowed; on failure p is freed.
            _PyBytes_Resize(&p, r)
            if r > cap:   # MSG_TRUNC on a datagram: the full length, zero-filled
                memset(_bytes_data(p) + cap, 0, r - cap)
        buf = <object>p
        Py_XDECREF(p)
        if want_addr:
            return buf, addr
        return buf

    def recv_into(self, buffer, Py_ssize_t nbytes, int flags, bint want_addr=False):
        return self._recv_into_data(buffer, nbytes, flags, want_addr)

    cdef object _recv_into_data(self, object buffer, Py_ssize_t nbytes, int flags,
                                bint want_addr):
        cdef Py_buffer view
        cdef unix_iov iov
        cdef unix_msg m
        cdef ssize_t r
        try:
            PyObject_GetBuffer(buffer, &view, PyBUF_WRITABLE)
        except (BufferError, TypeError):
            raise TypeError("%s() argument 1 must be read-write bytes-like object, not %s"
                            % ("recvfrom_into" if want_addr else "recv_into",
                               type(buffer).__name__)) from None
        try:
            if nbytes < 0:
                raise ValueError("negative buffersize in recv_into")
            if nbytes == 0 or nbytes > view.len:
                if nbytes > view.len:
                    raise ValueError("buffer too small for requested bytes")
                nbytes = view.len
            if nbytes == 0 and not want_addr:
                return 0        # the stdlib's recv_into of 0 bytes makes no syscall
            iov.base = view.buf
            iov.len = <size_t>nbytes
            _msg_init(&m, &iov, 1, flags)
            r = self._recv(&m, None)
            addr = self._finish_data(&m, want_addr)
            _check(r)
            if want_addr:
                return r, addr
            return r
        finally:
            PyBuffer_Release(&view)

    def recvmsg_into(self, buffers, int flags, Py_ssize_t ancbufsize, proc):
        """recvmsg(2) for the process ``proc`` with a control buffer of
        ``ancbufsize`` bytes: (nbytes, msg_flags, raw addr, ancdata).  The
        core writes the control messages (scm_recv, files installed as
        ``proc``'s fds); ancdata lists them as the stdlib's recvmsg does.
        The buffers are checked before ``ancbufsize``, as the stdlib does."""
        return self._recvmsg_c(buffers, flags, ancbufsize, proc, False)

    cdef object _recvmsg_c(self, object buffers, int flags, Py_ssize_t ancbufsize, object proc,
                           bint fds_only):
        """recvmsg_into; with ``fds_only`` the fds its SCM_RIGHTS messages
        carry stand in for the ancdata (recv_fds)."""
        cdef Py_ssize_t n, i, got = 0
        cdef unix_iov *iov = NULL
        cdef Py_buffer *views = NULL
        cdef unix_msg m
        cdef ssize_t r
        cdef unsigned char control[UNIX_SCM_RECV_MAX]
        try:
            bufs = list(buffers)
        except TypeError:
            raise TypeError("recvmsg_into() argument 1 must be an iterable") from None
        n = len(bufs)
        iov = <unix_iov *>malloc(sizeof(unix_iov) * (n + 1))
        views = <Py_buffer *>malloc(sizeof(Py_buffer) * (n + 1))
        if iov == NULL or views == NULL:
            free(iov); free(views)
            raise MemoryError()
        try:
            for i in range(n):
                try:
                    PyObject_GetBuffer(bufs[i], &views[i], PyBUF_WRITABLE)
                except (BufferError, TypeError):
                    raise TypeError("recvmsg_into() argument 1 must be an iterable of "
                                    "single-segment read-write buffers") from None
                got += 1
                iov[i].base = views[i].buf
                iov[i].len = <size_t>views[i].len
            if ancbufsize < 0:
                raise ValueError("invalid ancillary data buffer length")
            if n > IOV_MAX:     # the kernel's check, after the stdlib's
                raise OSError(EMSGSIZE, os.strerror(EMSGSIZE))
            _msg_init(&m, iov, <unsigned int>n, flags)
            m.rcontrol = control
            m.rcontrollen = (<size_t>ancbufsize if ancbufsize < <Py_ssize_t>UNIX_SCM_RECV_MAX
                             else UNIX_SCM_RECV_MAX)
            r = self._recv(&m, proc)
            addr = self._finish_data(&m, True)
            _check(r)
            if fds_only:
                anc = _cmsg_fds(control, m.rcontrol - control)
            else:
                anc = _ancdata(control, m.rcontrol - control)
            return r, m.msg_flags, addr, anc
        finally:
            for i in range(got):
                PyBuffer_Release(&views[i])
            free(iov)
            free(views)

    def recvmsg(self, Py_ssize_t bufsize, int flags, Py_ssize_t ancbufsize, proc):
        """recvmsg(2) into a new buffer: (data, msg_flags, raw addr, ancdata)."""
        return self._recvmsg_bytes(bufsize, flags, ancbufsize, proc, False)

    cdef object _recvmsg_bytes(self, Py_ssize_t bufsize, int flags, Py_ssize_t ancbufsize,
                               object proc, bint fds_only):
        cdef Py_ssize_t cap
        if bufsize < 0:
            raise ValueError("negative buffer size in recvmsg()")
        cap = bufsize if bufsize < RECV_CAP else RECV_CAP
        buf = bytearray(cap)
        r, mflags, addr, anc = self._recvmsg_c((buf,), flags, ancbufsize, proc, fds_only)
        return bytes(buf[:min(r, cap)]), mflags, addr, anc

    # -------------------------------------------------------- control ---
    def shutdown(self, int how):
        _check(unix_shutdown(self.sk, how))

    def getsockopt(self, int level, int opt):
        cdef int64_t v = 0
        _check(unix_getsockopt(self.sk, level, opt, &v))
        return v

    def setsockopt(self, int level, int opt, int64_t value):
        _check(unix_setsockopt(self.sk, level, opt, value))
        unix_ready_refresh(self.sk)

    def peercred(self):
        cdef unix_cred c
        unix_get_peercred(self.sk, &c)
        return (c.pid, c.uid, c.gid)

    def meminfo(self):
        """SO_MEMINFO: sk_get_meminfo's nine counters, a tuple."""
        cdef uint32_t mem[UNIX_MEMINFO_VARS]
        unix_meminfo(self.sk, mem)
        return tuple([mem[i] for i in range(UNIX_MEMINFO_VARS)])

    def peergroups(self):
        """SO_PEERGROUPS: the groups recorded with SO_PEERCRED, a tuple;
        ENODATA when none were."""
        cdef unix_groups *g = NULL
        cdef int i
        _check(unix_get_peergroups(self.sk, &g))
        try:
            return tuple([g.gid[i] for i in range(g.n)]) if g != NULL else ()
        finally:
            unix_groups_put(g)

    def ioctl(self, unsigned long request):
        cdef int v = 0
        _check(unix_ioctl(self.sk, request, &v))
        return v

    property copy_stats:
        def __get__(self):
            return self.sk.bytes_copied, self.sk.bytes_zerocopy


class SigPipe(BrokenPipeError):
    """EPIPE from a write that also raises SIGPIPE in the caller: the
    caller turns it into ``ProcessBase._epipe()``'s error."""


def poll(Net net, list entries, timeout_ms):
    """entries: [(Socket, PipeFile or None, events, revents preset for
    None)] -> list of revents.  The caller holds the files until the call
    returns."""
    cdef Py_ssize_t n = len(entries), i
    cdef unix_pollfd *fds = <unix_pollfd *>malloc(sizeof(unix_pollfd) * (n + 1))
    cdef _call c
    cdef ssize_t r
    cdef Socket s
    if fds == NULL:
        raise MemoryError()
    keep = []
    try:
        for i in range(n):
            sock, events, pre = entries[i]
            fds[i].pipe = NULL
            if sock is None:
                fds[i].sk = NULL
                fds[i].revents = pre
            elif isinstance(sock, PipeFile):
                fds[i].sk = NULL
                fds[i].revents = 0
                fds[i].pipe = (<PipeFile>sock).pipe
                fds[i].pipe_fmode = (<PipeFile>sock).fmode
                fds[i].pipe_version = (<PipeFile>sock).version
            else:
                s = <Socket>sock
                s._enter()
                keep.append(s)
                fds[i].sk = s.sk
                fds[i].revents = 0
            fds[i].events = events
        c.op = CALL_POLL
        c.task = NULL
        c.nogil = False
        c.net = net.net
        c.fds = fds
        c.nfds = <unsigned int>n
        if timeout_ms is None or timeout_ms < 0:
            c.timeo = -1
        else:
            c.timeo = <int64_t>timeout_ms * NSEC_PER_MSEC
        r = _syscall(&c, c.timeo == 0)
        _check(r)
        return [fds[i].revents for i in range(n)]
    finally:
        for s in keep:
            s._leave()
        free(fds)


# ---------------------------------------------------------------- pipes ---
cdef enum:
    O_DIRECT = 0o40000

# A pipe file's modes (FMODE_READ / FMODE_WRITE), for the Python layer.
FMODE_READ = PIPE_FMODE_READ
FMODE_WRITE = PIPE_FMODE_WRITE


cdef class PipeFile(File):
    """An open file on a pipe (fs/pipe.h): one end of ``pipe()``, or a FIFO
    opened for reading, writing or both (``fmode``).  ``f_flags`` carries
    O_NONBLOCK (EAGAIN instead of sleeping) and O_DIRECT (packet writes).
    Reads and writes block through ``_syscall``: with the GIL released, woken
    by the other side, interrupted by signals in the main thread (PEP 475)."""

    def __cinit__(self, Net net not None, int fmode, bint _new=False):
        self.net = net
        self.fmode = fmode
        if _new:
            return
        self.pipe = pipe_create(net.net)
        if self.pipe == NULL:
            raise MemoryError()

    @staticmethod
    def pair(Net net not None, cls=None):
        """(read end, write end) of a new pipe (create_pipe_files), as
        instances of ``cls`` (a subclass; default PipeFile)."""
        cdef PipeFile r, w
        if cls is None:
            cls = PipeFile
        r = cls(net, PIPE_FMODE_READ)
        w = cls(net, PIPE_FMODE_WRITE, True)
        pipe_get(r.pipe)
        w.pipe = r.pipe
        return r, w

    def __dealloc__(self):
        if self.pipe != NULL:
            if not self.released:
                pipe_release(self.pipe, self.fmode)
            pipe_put(self.pipe)
            self.pipe = NULL

    def release(self):
        """The last reference to the open file went (pipe_release)."""
        if not self.released:
            self.released = True
            pipe_release(self.pipe, self.fmode)

    def read(self, Py_ssize_t n):
        """Up to ``n`` bytes; b'' at EOF.  EAGAIN (O_NONBLOCK), EBADF on
        the write end."""
        cdef pipe_iov iov
        cdef pipe_io io
        cdef _call c
        cdef ssize_t r
        cdef Py_ssize_t cap
        cdef PyObject *p
        if not self.fmode & PIPE_FMODE_READ:
            raise OSError(EBADF, os.strerror(EBADF))
        if n < 0:
            raise ValueError("negative read length")
        cap = n if n < RECV_CAP else RECV_CAP
        p = _bytes_new(NULL, cap)
        if p == NULL:
            raise MemoryError()
        try:
            iov.base = _bytes_data(p)
            iov.len = <size_t>cap
            memset(&io, 0, sizeof(pipe_io))
            io.iov = &iov
            io.iovlen = 1
            c.op = CALL_PIPE_READ
            c.task = NULL
            c.nogil = False
            c.pipe = self.pipe
            c.pio = &io
            c.want = 0
            r = _syscall(&c, (self.f_flags & O_NONBLOCK) != 0)
            _check(r)
        except BaseException:
            Py_XDECREF(p)
            raise
        if r != cap:
            _PyBytes_Resize(&p, r)
        buf = <object>p
        Py_XDECREF(p)
        return buf

    def write(self, data):
        """Write ``data``: (bytes written, SIGPIPE due).  Up to PIPE_BUF
        bytes go in whole; a blocking write returns once all is in, a
        non-blocking one with what fitted (EAGAIN if nothing did).  EPIPE
        (SIGPIPE due) with no reader left; EBADF on the read end."""
        cdef Py_buffer view
        cdef pipe_iov iov
        cdef pipe_io io
        cdef _call c
        cdef ssize_t r
        if not self.fmode & PIPE_FMODE_WRITE:
            raise OSError(EBADF, os.strerror(EBADF))
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            iov.base = view.buf
            iov.len = <size_t>view.len
            memset(&io, 0, sizeof(pipe_io))
            io.iov = &iov
            io.iovlen = 1
            io.packet = (self.f_flags & O_DIRECT) != 0
            c.op = CALL_PIPE_WRITE
            c.task = NULL
            c.nogil = False
            c.pipe = self.pipe
            c.pio = &io
            c.want = iov.len
            r = _syscall(&c, (self.f_flags & O_NONBLOCK) != 0)
        finally:
            PyBuffer_Release(&view)
        if r < 0:
            if io.sigpipe:
                raise SigPipe(-r, os.strerror(<int>-r))
            _raise(r)
        return r, io.sigpipe != 0

    def splice_to(self, PipeFile out not None, size_t count, bint nonblock, bint tee=False):
        """splice (or, with ``tee``, tee) up to ``count`` bytes from this
        pipe into ``out``'s, moving page references: (bytes moved, SIGPIPE
        due).  EAGAIN when ``nonblock``, EPIPE (SIGPIPE due) with no
        reader on ``out``, EINVAL for the same pipe."""
        cdef _call c
        cdef ssize_t r
        c.op = CALL_TEE if tee else CALL_SPLICE
        c.task = NULL
        c.nogil = False
        c.pipe = self.pipe
        c.opipe = out.pipe
        c.want = count
        c.sigpipe = 0
        r = _syscall(&c, nonblock)
        if r < 0:
            if c.sigpipe:
                raise SigPipe(-r, os.strerror(<int>-r))
            _raise(r)
        return r, c.sigpipe != 0

    def get_size(self):
        """F_GETPIPE_SZ: the capacity in bytes."""
        return pipe_get_size(self.pipe)

    def set_size(self, unsigned int size, unsigned int max_size, bint privileged):
        """F_SETPIPE_SZ: the new capacity.  EINVAL, EPERM, EBUSY (see
        pipe_set_size in fs/pipe.h)."""
        cdef long r = pipe_set_size(self.pipe, size, max_size, privileged)
        _check(r)
        return r

    def nread(self):
        """FIONREAD: bytes in the pipe."""
        return pipe_nread(self.pipe)


cdef class Pipe:
    """A FIFO's pipe (fifo_open's inode->i_pipe): made at the first open,
    dropped by its inode when the last file on it is released."""

    def __cinit__(self, Net net not None):
        self.net = net
        self.pipe = pipe_alloc(net.net)
        if self.pipe == NULL:
            raise MemoryError()

    def __dealloc__(self):
        if self.pipe != NULL:
            pipe_put(self.pipe)
            self.pipe = NULL

    def open(self, int fmode, bint nonblock, cls=None):
        """fifo_open: a new file (an instance of ``cls``, a PipeFile
        subclass) on this pipe with ``fmode``.  Blocks for the other side
        unless ``nonblock``; ENXIO for a non-blocking writer without a
        reader; EINVAL for no access mode."""
        cdef _call c
        cdef PipeFile f
        c.op = CALL_FIFO_OPEN
        c.task = NULL
        c.nogil = False
        c.pipe = self.pipe
        c.fmode = fmode
        c.want = nonblock
        c.version = 0
        _check(_syscall(&c, False))
        f = (PipeFile if cls is None else cls)(self.net, fmode, True)
        pipe_get(self.pipe)
        f.pipe = self.pipe
        f.version = c.version
        return f


cdef char *_FMT_B = "B"


cdef class ReadyFd:
    """A readiness fd armed on a socket (csrc/kernel/net/unix/ready.c): a
    host fd that select/poll/epoll report readable and writable exactly when
    the socket polls so.  ``close()`` (or dropping the object) disarms it and
    closes the host fd."""
    cdef unix_ready *r
    cdef Net net
    cdef readonly int fd

    def __cinit__(self, Socket sock):
        cdef int err
        with nogil:
            err = unix_ready_arm(sock.sk, &self.r)
        _check(err)
        self.net = sock.net
        self.fd = unix_ready_fd(self.r)

    def close(self):
        if self.r != NULL:
            with nogil:
                unix_ready_disarm(self.r)
            self.r = NULL
            self.fd = -1

    def __dealloc__(self):
        if self.r != NULL:
            unix_ready_disarm(self.r)
            self.r = NULL


cdef class Pages:
    """Page-aligned, page-backed memory from a Net's page allocator.

    Supports the buffer protocol.  Ownership: once handed off with
    ``sendmsg(..., MSG_ZEROCOPY)`` the pages are read-only to their owner
    (a writable export raises BufferError) until every receiver has released
    them; ``wait()`` blocks until then and ``reclaim()`` makes them writable
    again.  ``free()`` drops the owner's reference; using the object after
    that raises ValueError.  Freeing never needs the GIL: receivers' releases
    are atomic reference drops.
    """

    def __cinit__(self, Net net, Py_ssize_t npages, bint zero=True):
        if npages <= 0:
            raise ValueError("npages must be positive")
        if npages > (1 << 30) // PAGE_SIZE:
            raise OverflowError("too many pages")
        self.net = net
        self.run = unix_alloc_pages(net.net, <size_t>npages, 1 if zero else 0)
        if self.run == NULL:
            raise MemoryError()
        self.nbytes = npages * PAGE_SIZE

    def __dealloc__(self):
        if self.run != NULL:
            page_run_put(self.run)
            self.run = NULL

    cdef int _check(self) except -1:
        if self.run == NULL:
            raise ValueError("pages already freed")
        return 0

    def __getbuffer__(self, Py_buffer *view, int flags):
        self._check()
        if (flags & PyBUF_WRITABLE) and menios_page_gifted(self.run):
            raise BufferError("pages were handed off; wait() and reclaim() before writing")
        view.buf = self.run.mem
        view.obj = self
        view.len = self.nbytes
        view.readonly = 1 if menios_page_gifted(self.run) else 0
        view.itemsize = 1
        view.format = _FMT_B if (flags & PyBUF_FORMAT) else NULL
        view.ndim = 1
        view.shape = &self.nbytes if (flags & PyBUF_ND) else NULL
        view.strides = NULL
        view.suboffsets = NULL
        view.internal = <void *>(1 if not view.readonly else 0)
        self.exports += 1
        if not view.readonly:
            self.writable_exports += 1

    def __releasebuffer__(self, Py_buffer *view):
        self.exports -= 1
        if view.internal != NULL:
            self.writable_exports -= 1

    def __len__(self):
        return self.nbytes

    property address:
        """Address of the first byte (to prove a handoff copied nothing)."""
        def __get__(self):
            self._check()
            return <size_t>self.run.mem

    property inflight:
        """References held by messages and receivers (0: all released)."""
        def __get__(self):
            self._check()
            return menios_page_refs(self.run) - 1

    property gifted:
        def __get__(self):
            self._check()
            return bool(menios_page_gifted(self.run))

    def wait(self, timeout=None):
        """Block until every receiver has released the pages; True if so,
        False once ``timeout`` seconds have passed.  Woken by the release
        itself; a signal in the main thread runs the handlers (PEP 475)."""
        cdef wait_ctl ctl
        cdef page_run *run
        cdef int r
        cdef bint intr = PyThread_get_thread_ident() == _MAIN_THREAD
        self._check()
        run = self.run
        ctl.deadline = 0
        wait_ctl_begin(&ctl, -1 if timeout is None else
                       max(0, <int64_t>(timeout * 1e9)))
        page_run_get(run)       # this call's own: a free() meanwhile cannot free the run
        try:
            while True:
                with nogil:
                    r = page_run_wait(run, 2, ctl.deadline, intr)
                if r != -EINTR:
                    return r == 0
                _run_signal_handlers()      # one that raises ends the wait
        finally:
            page_run_put(run)

    def reclaim(self):
        """Make handed-off pages writable again; BufferError while in flight."""
        self._check()
        if menios_page_refs(self.run) > 1:
            raise BufferError("pages are still referenced by %d message(s) or receiver(s)"
                              % (menios_page_refs(self.run) - 1))
        menios_page_set_gifted(self.run, 0)

    def free(self):
        """Drop the owner's reference.  ValueError if already freed;
        BufferError while views are exported."""
        self._check()
        if self.exports:
            raise BufferError("memoryviews of the pages are still exported")
        page_run_put(self.run)
        self.run = NULL

    def _freeze(self, Py_ssize_t n):
        """A read-only PageBuffer over the first n bytes (the copy path)."""
        cdef PageBuffer pb = PageBuffer.__new__(PageBuffer)
        self._check()
        page_run_get(self.run)
        pb.net = self.net
        pb.run = self.run
        pb.off = 0
        pb.nbytes = n
        return pb


cdef class PageBuffer:
    """A received message in pages: read-only; ``release()`` (or garbage
    collection) drops the reference, completing the sender's handoff."""

    def __dealloc__(self):
        if self.run != NULL:
            page_run_put(self.run)
            self.run = NULL

    def __getbuffer__(self, Py_buffer *view, int flags):
        if self.run == NULL:
            raise ValueError("page buffer already released")
        if flags & PyBUF_WRITABLE:
            raise BufferError("received pages are read-only")
        view.buf = self.run.mem + self.off
        view.obj = self
        view.len = self.nbytes
        view.readonly = 1
        view.itemsize = 1
        view.format = _FMT_B if (flags & PyBUF_FORMAT) else NULL
        view.ndim = 1
        view.shape = &self.nbytes if (flags & PyBUF_ND) else NULL
        view.strides = NULL
        view.suboffsets = NULL
        view.internal = NULL
        self.exports += 1

    def __releasebuffer__(self, Py_buffer *view):
        self.exports -= 1

    def __len__(self):
        return self.nbytes

    def tobytes(self):
        return bytes(memoryview(self))

    property address:
        def __get__(self):
            if self.run == NULL:
                raise ValueError("page buffer already released")
            return <size_t>(self.run.mem + self.off)

    def release(self):
        """Give the pages back (ValueError if already released, BufferError
        while memoryviews of it are exported)."""
        if self.run == NULL:
            raise ValueError("page buffer already released")
        if self.exports:
            raise BufferError("memoryviews of the page buffer are still exported")
        page_run_put(self.run)
        self.run = NULL


import operator as _operator


cdef enum:
    FDT_OPEN = 1          # the number is taken, by a file or a reservation (open_fds)
    FDT_CLOEXEC = 2       # close on exec (close_on_exec)
    FDT_MIN_SLOTS = 64    # a new table's first size, as Linux's NR_OPEN_DEFAULT


cdef class FdTable:
    """A process's fd table, with Linux's operations: ``reserve``
    (get_unused_fd_flags), ``install`` (fd_install), ``unreserve``
    (put_unused_fd), ``close`` (close_fd), ``dup``/F_DUPFD,
    ``dup2``, the close-on-exec flags, ``fork_from`` (dup_fd),
    ``close_on_exec`` (do_close_on_exec), ``close_all`` (exit_files) and
    ``fget`` (a lookup that takes a reference); the lookup without one is
    ``_fdt_lookup``, which ProcessBase._file makes.
    A number is free, reserved (taken, no file yet: EBADF to everyone but
    the reserver, EBUSY to dup2) or open.  Each slot holds one reference to
    its file (``f_count``).  ``nofile`` arguments are the caller's
    RLIMIT_NOFILE: no fd at or above it is handed out.

    LOCKING

      lock     One per table.  Protects files[], fdflags[], next_fd and
               dead.  Taken with the GIL held; a thread waiting for it lets
               the GIL go.  Held for one table operation, during which no
               Python code runs and nothing sleeps: no socket method is
               called with it held, and a file leaving the table is dropped
               (``fput``: the socket's release, the collector, the kernel's
               on_release hook) only after it is released, as Linux's
               filp_close runs after pick_file.

      order    fd table lock -> the net's gc_lock.  The one call into the
               core made with the lock held is ``fget``'s reference count
               (Socket.fget takes gc_lock for a moment), as Linux's get_file
               is made under files->file_lock.  The core never calls back
               into Python with a lock held, so nothing waits for the table
               lock holding a core lock.  Kernel.lock and the table lock are
               never held together.

      lookup   Takes no lock, as Linux's fdget reads a slot under RCU: a
               slot is written with the lock and the GIL held and read with
               the GIL held, so a lookup sees the file before or after a
               change, never a reserved or half-made slot.  It takes no
               reference either, so it serves only a caller that checks the
               fd, or runs no Python code before its socket call (which then
               holds the socket busy) or before taking a reference itself:
               no other thread can close the fd in between.  A caller that
               runs Python code first uses ``fget`` (Linux's fdget on a
               shared table), so a close by another thread meanwhile leaves
               the file alive until the caller's ``fput``.
    """

    def __cinit__(self):
        self.lock = PyThread_allocate_lock()
        if self.lock == NULL:
            raise MemoryError()
        self.files = []
        self.fdflags = NULL
        self.next_fd = 0
        self.dead = False

    def __dealloc__(self):
        free(self.fdflags)
        if self.lock != NULL:
            PyThread_free_lock(self.lock)

    cdef int _lock(self) except -1:
        if not PyThread_acquire_lock(self.lock, NOWAIT_LOCK):
            with nogil:
                PyThread_acquire_lock(self.lock, WAIT_LOCK)
        return 0

    cdef void _unlock(self) noexcept:
        PyThread_release_lock(self.lock)

    cdef int _expand(self, Py_ssize_t fd) except -1:
        """Room for ``fd`` (expand_files): the table doubles.  Lock held."""
        cdef Py_ssize_t n = len(self.files), size = FDT_MIN_SLOTS
        cdef unsigned char *flags
        if fd < n:
            return 0
        while size <= fd:
            size *= 2
        flags = <unsigned char *>realloc(self.fdflags, size)
        if flags == NULL:
            raise MemoryError()
        memset(flags + n, 0, size - n)
        self.fdflags = flags
        self.files.extend([None] * (size - n))
        return 0

    cdef Py_ssize_t _alloc(self, Py_ssize_t start, Py_ssize_t end, bint cloexec) except -1:
        """Linux's alloc_fd: take the lowest free fd >= start, EMFILE at
        ``end``.  Lock held."""
        cdef Py_ssize_t fd = start, n = len(self.files)
        if self.dead:
            _raise(-ESRCH)
        if fd < self.next_fd:
            fd = self.next_fd
        while fd < n and self.fdflags[fd] & FDT_OPEN:
            fd += 1
        if fd >= end:
            _raise(-EMFILE)
        self._expand(fd)
        if start <= self.next_fd:
            self.next_fd = fd + 1
        self.fdflags[fd] = FDT_OPEN | (FDT_CLOEXEC if cloexec else 0)
        return fd

    cdef void _put_unused(self, Py_ssize_t fd) noexcept:
        """Linux's __put_unused_fd: the number is free again.  Lock held."""
        self.fdflags[fd] = 0
        if fd < self.next_fd:
            self.next_fd = fd

    cdef File _get(self, Py_ssize_t fd):
        """The open file at ``fd``, EBADF if free or reserved.  Lock held."""
        if fd < 0 or fd >= len(self.files) or self.files[fd] is None:
            _raise(-EBADF)
        return <File>self.files[fd]

    def reserve(self, Py_ssize_t nofile, Py_ssize_t minfd=0, bint cloexec=False):
        """Take the lowest free fd >= ``minfd`` for a file to come: EMFILE."""
        self._lock()
        try:
            return self._alloc(minfd, nofile, cloexec)
        finally:
            self._unlock()

    def install(self, Py_ssize_t fd, File f not None):
        """Put ``f`` in the slot ``reserve`` gave, with the caller's
        reference; ESRCH (the reference stays the caller's) if the table was
        closed by exit meanwhile."""
        self._lock()
        try:
            if self.dead:
                _raise(-ESRCH)
            self.files[fd] = f
        finally:
            self._unlock()

    def unreserve(self, Py_ssize_t fd):
        """Give back a reserved fd that got no file."""
        self._lock()
        if not self.dead:
            self._put_unused(fd)
        self._unlock()

    def alloc(self, File f not None, Py_ssize_t nofile, Py_ssize_t minfd=0,
              bint cloexec=False):
        """reserve + install in one step: the fd now holding ``f`` (and the
        caller's reference), or EMFILE (the reference stays the caller's)."""
        cdef Py_ssize_t fd
        self._lock()
        try:
            fd = self._alloc(minfd, nofile, cloexec)
            self.files[fd] = f
        finally:
            self._unlock()
        return fd

    def dup(self, Py_ssize_t oldfd, Py_ssize_t nofile, Py_ssize_t minfd=0,
            bint cloexec=False):
        """dup/F_DUPFD/F_DUPFD_CLOEXEC: the lowest free fd >= ``minfd`` now
        refers to what ``oldfd`` does.  EBADF, then EMFILE."""
        cdef Py_ssize_t fd
        cdef File f
        self._lock()
        try:
            f = self._get(oldfd)
            fd = self._alloc(minfd, nofile, cloexec)
            f.fget()
            self.files[fd] = f
        finally:
            self._unlock()
        return fd

    def dup2(self, Py_ssize_t oldfd, Py_ssize_t newfd, Py_ssize_t nofile):
        """dup2 as one step: ``newfd`` refers to what ``oldfd`` does, without
        the close-on-exec flag; a file it held is closed.  ``dup2(fd, fd)``
        only checks fd.  EBADF for a bad ``oldfd`` or ``newfd`` outside
        [0, nofile), EBUSY for a reserved ``newfd``."""
        cdef File f
        tofree = None
        self._lock()
        try:
            if oldfd == newfd:
                self._get(oldfd)
                return newfd
            if newfd < 0 or newfd >= nofile:
                _raise(-EBADF)
            f = self._get(oldfd)
            self._expand(newfd)
            tofree = self.files[newfd]
            if tofree is None and self.fdflags[newfd] & FDT_OPEN:
                _raise(-EBUSY)
            f.fget()
            self.files[newfd] = f
            self.fdflags[newfd] = FDT_OPEN
        finally:
            self._unlock()
        if tofree is not None:
            tofree.fput()
        return newfd

    def close(self, Py_ssize_t fd):
        """close_fd: free the number, then drop the file.  EBADF."""
        cdef File f
        self._lock()
        try:
            f = self._get(fd)
            self.files[fd] = None
            self._put_unused(fd)
        finally:
            self._unlock()
        f.fput()

    cpdef File fget(self, Py_ssize_t fd):
        """Linux's fget: the open file at ``fd`` with a reference of the
        caller's own, taken under the lock so that a racing close cannot
        drop the file first.  The caller ``fput``s it when done; a close
        meanwhile frees the number, and the file is released by whichever
        reference drops last.  EBADF."""
        cdef File f
        self._lock()
        try:
            f = self._get(fd)
            f.fget()
        finally:
            self._unlock()
        return f

    def get_cloexec(self, Py_ssize_t fd):
        """F_GETFD: whether ``fd`` closes on exec.  EBADF."""
        self._lock()
        try:
            self._get(fd)
            return (self.fdflags[fd] & FDT_CLOEXEC) != 0
        finally:
            self._unlock()

    def set_cloexec(self, Py_ssize_t fd, bint cloexec):
        """F_SETFD: set or clear ``fd``'s close-on-exec flag.  EBADF."""
        self._lock()
        try:
            self._get(fd)
            if cloexec:
                self.fdflags[fd] |= FDT_CLOEXEC
            else:
                self.fdflags[fd] &= ~FDT_CLOEXEC
        finally:
            self._unlock()

    def fork_from(self, FdTable parent not None):
        """Fill this new, empty table with a copy of ``parent``'s (Linux's
        dup_fd): the same files, one more reference each, and their
        close-on-exec flags; reserved numbers stay free here.  ESRCH if the
        parent's table was closed by exit."""
        cdef Py_ssize_t fd, n
        parent._lock()
        try:
            if parent.dead:
                _raise(-ESRCH)
            n = len(parent.files)
            while n and parent.files[n - 1] is None:
                n -= 1
            if n:
                self._expand(n - 1)
            for fd in range(n):
                f = parent.files[fd]
                if f is not None:
                    (<File>f).fget()
                    self.files[fd] = f
                    self.fdflags[fd] = parent.fdflags[fd]
        finally:
            parent._unlock()

    def close_on_exec(self):
        """execve: close each fd marked close-on-exec, one at a time, each
        file dropped with the lock released (do_close_on_exec)."""
        cdef Py_ssize_t fd = 0
        cdef File f
        while True:
            f = None
            self._lock()
            try:
                while fd < len(self.files):
                    if self.fdflags[fd] & FDT_CLOEXEC and self.files[fd] is not None:
                        f = <File>self.files[fd]
                        self.files[fd] = None
                        self._put_unused(fd)
                        break
                    fd += 1
            finally:
                self._unlock()
            if f is None:
                return
            f.fput()

    def open_files(self):
        """``[(fd, file), ...]`` of the open fds, in fd order: a snapshot
        (what /proc/PID/fd lists)."""
        cdef Py_ssize_t fd
        cdef list out = []
        self._lock()
        try:
            for fd in range(len(self.files)):
                f = self.files[fd]
                if f is not None:
                    out.append((fd, f))
        finally:
            self._unlock()
        return out

    def close_all(self):
        """exit: empty the table for good (nothing is installed in it
        again), then drop every file it held.  Idempotent."""
        self._lock()
        files, self.files = self.files, []
        self.dead = True
        self.next_fd = 0
        free(self.fdflags)
        self.fdflags = NULL
        self._unlock()
        for f in files:
            if f is not None:
                (<File>f).fput()


cdef inline object _fdt_lookup(FdTable t, object fd):
    """The open file at ``fd`` (an int), without the lock: EBADF."""
    cdef list files = t.files
    cdef Py_ssize_t i
    if fd < 0 or fd >= len(files):
        raise OSError(EBADF, os.strerror(EBADF))
    i = fd
    f = files[i]
    if f is None:
        raise OSError(EBADF, os.strerror(EBADF))
    return f


cdef class FileRef:
    """``with`` gives the file a reference was taken on (``FdTable.fget``)
    and drops the reference when the block ends (Linux's fdput)."""

    def __enter__(self):
        return self.f

    def __exit__(self, *exc):
        self.f.fput()
        return False


# ------------------------------------------------------------- tracing ---
# The core's tracepoints (csrc/kernel/trace/trace.h) write into a ring this
# module allocates; system calls add their own enter and exit events: the
# send/recv/recv_into fast paths below in C, every other call through
# ``trace_call`` (menios/trace.py binds it over a traced process's methods).
# Records are drained into ``_trace_chunks`` when a call leaves with the
# ring half full and when the trace ends; menios/trace.py decodes them.

#: Names of the traced system calls, by the number their events carry.
TRACE_SYSCALLS = (
    "send", "recv", "recv_into", "sendto", "sendmsg", "send_fds", "recvfrom",
    "recvfrom_into", "recvmsg", "recvmsg_into", "recv_fds", "recv_pages",
    "socket", "socketpair", "bind", "listen", "connect", "accept", "shutdown",
    "getsockname", "getpeername", "getsockopt", "setsockopt", "close", "dup",
    "dup2", "fcntl", "ioctl", "poll", "open", "read", "write", "lseek", "fstat",
    "pipe", "pipe2", "splice", "tee", "vmsplice", "sendfile", "mkdir", "mknod",
    "mkfifo", "rmdir", "unlink", "rename", "link", "symlink", "readlink",
    "chmod", "chown", "stat", "lstat", "listdir", "access", "chdir", "fchmod",
    "fchown", "fork", "exit", "execve")
#: Names of the blocking calls (``_call.op``) in block/unblock events.
TRACE_CALLS = ("connect", "accept", "send", "recv", "recv_pages", "poll",
               "pipe_read", "pipe_write", "fifo_open", "splice", "tee")
#: The result recorded for a call that raised something other than OSError.
TRACE_RET_EXCEPTION = -(1 << 32)
#: Bytes of one record (struct trace_rec).
TRACE_REC_SIZE = sizeof(trace_rec)

cdef enum:
    NR_SEND = 0
    NR_RECV = 1
    NR_RECV_INTO = 2

cdef trace_rec *_trace_ring = NULL
cdef size_t _trace_cap = 0
cdef list _trace_chunks = []
cdef Py_ssize_t _trace_kept = 0        # records in _trace_chunks
cdef Py_ssize_t _trace_keep_max = 0    # records kept at most; the rest are discarded
cdef Py_ssize_t _trace_discarded = 0


cdef void _trace_flush():
    """Move every recorded event from the ring to ``_trace_chunks`` (or,
    past the trace's limit, count them as discarded)."""
    global _trace_kept, _trace_discarded
    cdef size_t n = trace_pending()
    if n == 0:
        return
    buf = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>(n * sizeof(trace_rec)))
    n = trace_drain(<trace_rec *>PyBytes_AS_STRING(buf), n)
    if _trace_kept + <Py_ssize_t>n > _trace_keep_max:
        _trace_discarded += n
        return
    _trace_kept += n
    _trace_chunks.append(buf[:n * sizeof(trace_rec)])


def trace_begin(Py_ssize_t capacity, Py_ssize_t keep_max):
    """Start the core's tracepoints, with a ring of ``capacity`` records
    drained into at most ``keep_max`` kept records; RuntimeError if a trace
    is already running in this host process."""
    global _trace_ring, _trace_cap, _trace_kept, _trace_keep_max, _trace_discarded
    cdef trace_rec *ring
    if capacity < 16:
        raise ValueError("a trace ring holds at least 16 events")
    if keep_max < 0:
        raise ValueError("keep_max must be >= 0")
    ring = <trace_rec *>malloc(sizeof(trace_rec) * <size_t>capacity)
    if ring == NULL:
        raise MemoryError()
    if trace_start(ring, <size_t>capacity) != 0:
        free(ring)
        raise RuntimeError("a trace is already running in this process")
    _trace_ring = ring
    _trace_cap = <size_t>capacity
    if trace_thread() == 0:
        trace_set_thread(<int32_t>PyThread_get_thread_native_id())
    _trace_kept = _trace_discarded = 0
    _trace_keep_max = keep_max
    del _trace_chunks[:]


def trace_end():
    """Stop tracing; returns ``(records, dropped)``: the raw records of the
    whole trace (``TRACE_REC_SIZE`` bytes each) and how many events were
    lost, to a full ring or past the limit."""
    global _trace_ring, _trace_cap
    cdef trace_rec *ring
    _trace_flush()
    dropped = trace_dropped()
    ring = trace_stop()
    _trace_flush()              # what was recorded between the two
    free(ring)
    _trace_ring = NULL
    _trace_cap = 0
    out = b"".join(_trace_chunks)
    del _trace_chunks[:]
    return out, dropped + _trace_discarded


cdef struct _tctx:
    int nr
    int32_t prev_pid
    PyObject *sock          # the call's socket (a reference), or NULL
    int64_t copied, zerocopy


cdef void _tr_enter(object p, int nr, object fd, _tctx *t):
    """A traced call starts: its process, its fd, and the socket's copy
    counters, whose growth over the call the exit event reports."""
    cdef Socket s
    cdef int64_t ino = 0
    t.nr = nr
    t.sock = NULL
    t.copied = t.zerocopy = 0
    if trace_thread() == 0:     # the thread's first traced call: its host thread id
        trace_set_thread(<int32_t>PyThread_get_thread_native_id())
    pid = getattr(p, "pid", 0)
    t.prev_pid = trace_set_pid(<int32_t>pid if type(pid) is int else 0)
    if type(fd) is not int:
        fd = -1
    elif isinstance(p, ProcessBase):
        try:
            f = _fdt_lookup((<ProcessBase>p).fdtable, fd)
        except OSError:
            f = None
        if type(f) is Socket and (<Socket>f).sk != NULL:
            s = <Socket>f
            Py_INCREF(s)
            t.sock = <PyObject *>s
            t.copied = s.sk.bytes_copied
            t.zerocopy = s.sk.bytes_zerocopy
            ino = <int64_t>s.sk.ino
    __trace_record(TRACE_SYS_ENTER, nr, <int64_t>fd if -(1 << 62) < fd < (1 << 62) else -1, ino, 0)


cdef void _tr_exit(_tctx *t, int64_t ret):
    cdef int64_t copied = 0, zerocopy = 0
    cdef Socket s
    if t.sock != NULL:
        s = <Socket>t.sock
        Py_DECREF(s)            # the reference _tr_enter took; s holds its own
        t.sock = NULL
        copied = s.sk.bytes_copied - t.copied
        zerocopy = s.sk.bytes_zerocopy - t.zerocopy
    __trace_record(TRACE_SYS_EXIT, t.nr, ret, copied, zerocopy)
    trace_set_pid(t.prev_pid)
    if _trace_cap and trace_pending() * 2 > _trace_cap:
        _trace_flush()


cdef int64_t _ret_of(object r):
    """What a call's exit event records as its result: an int itself, the
    length of the data a call returned, else 0."""
    if type(r) is int:
        return r if -(1 << 62) < r < (1 << 62) else 0
    if isinstance(r, (bytes, bytearray)):
        return len(r)
    if type(r) is tuple and r:
        return _ret_of(r[0])
    if type(r) is PageBuffer:
        return (<PageBuffer>r).nbytes
    return 0


cdef int64_t _exc_ret(BaseException e):
    """The result a call that raised @e records: -errno, or
    TRACE_RET_EXCEPTION for anything but an OSError."""
    if isinstance(e, OSError) and type((<object>e).errno) is int:
        return -(<object>e).errno
    return TRACE_RET_EXCEPTION


def trace_call(p, int nr, str name, *args, **kwargs):
    """Run the system call ``name`` of process ``p`` (its class's method:
    faults armed on the class still act) between an enter and an exit
    event numbered ``nr`` (an index of TRACE_SYSCALLS)."""
    cdef _tctx t
    _tr_enter(p, nr, args[0] if args else None, &t)
    try:
        r = getattr(type(p), name)(p, *args, **kwargs)
    except BaseException as e:
        _tr_exit(&t, _exc_ret(e))
        raise
    _tr_exit(&t, _ret_of(r))
    return r


cdef class ProcessBase:
    """The part of a simulated process every send/recv goes through, in C:
    the fd table lookup and the dispatch to the socket.  ``Process``
    (menios/process.py) builds everything else on it."""

    def __cinit__(self, *args, **kwargs):
        self.fdtable = FdTable()
        # no ids until _set_task_cred gives them
        self.task_cred.uid = self.task_cred.euid = self.task_cred.suid = -1
        self.task_cred.gid = self.task_cred.egid = self.task_cred.sgid = -1

    def _set_task_cred(self, int pid, cred):
        """Keep what the core's cred op reads (current_cred()): ``pid`` and
        the ids of ``cred``, and the capabilities the checks ask about
        (UNIX_CAP_*).  Called at each credential change, so that no send
        computes them."""
        cdef unix_task_cred *c = &self.task_cred
        c.pid = pid
        c.uid, c.euid, c.suid = cred.uid, cred.euid, cred.suid
        c.gid, c.egid, c.sgid = cred.gid, cred.egid, cred.sgid
        c.caps = ((UNIX_CAP_SYS_ADMIN if cred.capable("CAP_SYS_ADMIN") else 0)
                  | (UNIX_CAP_SETUID if cred.capable("CAP_SETUID") else 0)
                  | (UNIX_CAP_SETGID if cred.capable("CAP_SETGID") else 0)
                  | (UNIX_CAP_SYS_RESOURCE if cred.capable("CAP_SYS_RESOURCE") else 0))
        gids = list(cred.groups)
        cdef unix_groups *g = unix_groups_alloc(len(gids))
        cdef Py_ssize_t i
        if g == NULL:
            raise MemoryError()
        for i in range(len(gids)):
            g.gid[i] = gids[i]
        unix_groups_put(self.groups)
        self.groups = g

    def __dealloc__(self):
        unix_groups_put(self.groups)
        self.groups = NULL
        page_frag_release(&self.frag)

    def _release_frag(self):
        """Drop the page fragment (the process exits): its page goes once
        no pipe holds the bytes copied into it."""
        page_frag_release(&self.frag)

    property rlimit_nofile:
        """RLIMIT_NOFILE: fds stay below it, and a user's files in flight
        may exceed it only with CAP_SYS_RESOURCE (too_many_unix_fds)."""
        def __get__(self):
            return self.task_cred.rlimit_nofile
        def __set__(self, int64_t n):
            self.task_cred.rlimit_nofile = n

    cdef object _fd_c(self, object fd):
        """``fd`` as an int: ESRCH once exited, TypeError for a non-integer."""
        if not self.alive:
            raise OSError(ESRCH, os.strerror(ESRCH))
        if type(fd) is not int:
            try:
                fd = _operator.index(fd)
            except TypeError:
                raise TypeError("an integer is required (got type %s)"
                                % type(fd).__name__) from None
        return fd

    cdef object _file_c(self, object fd):
        return _fdt_lookup(self.fdtable, self._fd_c(fd))

    cdef Socket _sock_c(self, object fd):
        f = self._file_c(fd)
        if type(f) is not Socket:
            raise OSError(ENOTSOCK, os.strerror(ENOTSOCK))
        return <Socket>f

    def _file(self, fd):
        """The open file an fd refers to: ESRCH once exited, EBADF."""
        return self._file_c(fd)

    def _sock(self, fd):
        """The socket an fd refers to: ENOTSOCK for other files."""
        return self._sock_c(fd)

    cdef FileRef _hold_c(self, object fd, bint sock):
        cdef FileRef r = FileRef.__new__(FileRef)
        fd = self._fd_c(fd)
        if fd < 0 or fd >= len(self.fdtable.files):    # also what overflows Py_ssize_t
            raise OSError(EBADF, os.strerror(EBADF))
        r.f = self.fdtable.fget(fd)
        if sock and type(r.f) is not Socket:
            r.f.fput()
            raise OSError(ENOTSOCK, os.strerror(ENOTSOCK))
        return r

    def _hold(self, fd):
        """``with p._hold(fd) as f``: the open file an fd refers to, with a
        reference held until the block ends, for a call that runs Python
        code between the lookup and its use of the file (see FdTable's
        LOCKING).  ESRCH once exited, EBADF."""
        return self._hold_c(fd, False)

    def _hold_sock(self, fd):
        """``_hold`` for a socket: ENOTSOCK (holding nothing) for other files."""
        return self._hold_c(fd, True)

    def _raise_sigpipe(self):
        """Make SIGPIPE pending on this process (Linux's send_sig(SIGPIPE,
        current, 0) in pipe_write and unix_stream_sendmsg): every write
        that raises it, on a socket, a pipe or through a fault, marks it
        here."""
        self.pending_signals.add(SIGPIPE)

    def _epipe(self):
        """What a write that met ``SigPipe`` raises: SIGPIPE is made pending
        and the plain ``OSError(EPIPE)`` is returned, for
        ``raise proc._epipe() from None``."""
        self._raise_sigpipe()
        return OSError(EPIPE, os.strerror(EPIPE))

    def send(self, fd, data, int flags=0):
        """send(2): bytes sent.  EPIPE (and SIGPIPE pending unless
        MSG_NOSIGNAL) when the peer is gone or shut down."""
        if trace_on():
            return self._traced(NR_SEND, fd, data, None, flags)
        return self._send_c(self._sock_c(fd), data, flags)

    cdef object _traced(self, int nr, object fd, object a, object b, int flags):
        """send, recv or recv_into between its trace events (tracing on)."""
        cdef _tctx t
        cdef Socket s
        _tr_enter(self, nr, fd, &t)
        try:
            s = self._sock_c(fd)
            if nr == NR_SEND:
                r = self._send_c(s, a, flags)
            elif nr == NR_RECV:
                if type(a) is not int:
                    a = _operator.index(a)
                r = b"" if a == 0 else s._recv_data(a, flags, False)
            else:
                if type(b) is not int:
                    b = _operator.index(b)
                r = s._recv_into_data(a, b, flags, False)
        except BaseException as e:
            _tr_exit(&t, _exc_ret(e))
            raise
        _tr_exit(&t, _ret_of(r))
        return r

    cdef object _send_c(self, Socket s, object data, int flags):
        try:
            return s._send_data(data, flags, self, None, False)
        except SigPipe:
            raise self._epipe() from None

    def recv(self, fd, bufsize, int flags=0):
        """recv(2): the data (b'' at end of stream)."""
        if trace_on():
            return self._traced(NR_RECV, fd, bufsize, None, flags)
        cdef Socket s = self._sock_c(fd)
        if type(bufsize) is not int:
            bufsize = _operator.index(bufsize)
        if bufsize == 0:
            return b""            # the stdlib's recv(0) returns at once
        return s._recv_data(bufsize, flags, False)

    def send_fds(self, fd, buffers, fds, flags=0, address=None, *, _lost=False):
        """sendmsg with one SCM_RIGHTS message passing ``fds``
        (socketcalls.send_fds; ``_lost``: fault injection's dropped
        datagram).  Without a destination, with int flags and a list or
        tuple of C-int fds, the call is made here, with the same checks in
        the same order; anything else goes the general way."""
        cdef FileRef h
        cdef Socket s
        control = None
        if address is None and type(flags) is int and not _lost:
            control = _rights_cmsg_ints(fds)
        if control is None:
            return _socketcalls().send_fds(self, fd, buffers, fds, flags, address,
                                           _lost=_lost)
        h = self._hold_c(fd, True)
        try:
            s = <Socket>h.f
            bufs = list(buffers)
            for b in bufs:                  # TypeError before any other check
                if type(b) is not bytes and type(b) is not Pages:
                    memoryview(b).release()
            try:
                return s._sendmsg_c(bufs, flags, self, control, None, False)
            except SigPipe:
                raise self._epipe() from None
        finally:
            h.f.fput()

    def read(self, fd, n):
        """read(2) (filecalls.read): at most ``n`` bytes.  On a pipe, with
        int arguments and ``n >= 0``, the call is made here (pipe_read),
        with the checks filecalls.read makes in its order; anything else
        goes the general way."""
        cdef FileRef h
        if type(fd) is int and type(n) is int and n >= 0:
            if _filecalls_mod is None:
                _filecalls()
            h = self._hold_c(fd, False)
            try:
                if type(h.f) is _PipeEnd:
                    return PipeFile.read(<PipeFile>h.f, n)
            finally:
                h.f.fput()
        return _filecalls().read(self, fd, n)

    def write(self, fd, data):
        """write(2) (filecalls.write): bytes written.  On a pipe the call is
        made here (pipe_write): EPIPE with SIGPIPE pending when no reader
        is left, SIGPIPE too when a partial write ends that way; anything
        else goes the general way."""
        cdef FileRef h
        if _filecalls_mod is None:
            _filecalls()
        h = self._hold_c(fd, False)
        try:
            if type(h.f) is _PipeEnd:
                try:
                    n, sigpipe = PipeFile.write(<PipeFile>h.f, data)
                except SigPipe:
                    raise self._epipe() from None
                if sigpipe:
                    self._raise_sigpipe()
                return n
        finally:
            h.f.fput()
        return _filecalls().write(self, fd, data)

    def splice(self, src, dst, count, offset_src=None, offset_dst=None, flags=0):
        """splice(2) (splice.splice): bytes moved.  Between a pipe and a
        stream socket or between two pipes, with int arguments, no offsets
        and a positive count, the call is made here with the checks
        splice.splice makes, in its order; anything else goes the general
        way."""
        cdef FileRef hi, ho
        cdef int fl
        cdef bint nonblock, pipe_nb, sock_nb
        if (offset_src is not None or offset_dst is not None or type(src) is not int
                or type(dst) is not int or type(count) is not int or type(flags) is not int
                or count <= 0 or flags & ~SPLICE_F_ALL_):
            return _splicecalls().splice(self, src, dst, count, offset_src, offset_dst, flags)
        if _splicecalls_mod is None:
            _splicecalls()
        fl = flags
        nonblock = (fl & SPLICE_F_NONBLOCK_) != 0
        hi = self._hold_c(src, False)
        try:
            ho = self._hold_c(dst, False)
            try:
                fin, fout = hi.f, ho.f
                if type(fin) is _PipeEnd and (<PipeFile>fin).fmode & PIPE_FMODE_READ:
                    if type(fout) is _PipeEnd:
                        if not (<PipeFile>fout).fmode & PIPE_FMODE_WRITE:
                            raise OSError(EBADF, os.strerror(EBADF))
                        return self._pipe_call(PipeFile.splice_to, fin, fout, count,
                                               nonblock or ((<PipeFile>fin).f_flags
                                                            | (<PipeFile>fout).f_flags)
                                               & O_NONBLOCK, False)
                    if type(fout) is Socket:
                        return self._pipe_call(splice_pipe_to_socket, fin, fout, count,
                                               nonblock
                                               or (<PipeFile>fin).f_flags & O_NONBLOCK, self)
                elif (type(fin) is Socket and (<Socket>fin).type == SOCK_STREAM
                      and type(fout) is _PipeEnd):
                    if not (<PipeFile>fout).fmode & PIPE_FMODE_WRITE:
                        raise OSError(EBADF, os.strerror(EBADF))
                    pipe_nb = nonblock or ((<PipeFile>fout).f_flags & O_NONBLOCK) != 0
                    sock_nb = pipe_nb or ((<Socket>fin).f_flags & O_NONBLOCK) != 0
                    return self._pipe_call(splice_socket_to_pipe, fin, fout, count,
                                           pipe_nb, sock_nb, self)
            finally:
                ho.f.fput()
        finally:
            hi.f.fput()
        return _splicecalls().splice(self, src, dst, count, offset_src, offset_dst, flags)

    def _pipe_call(self, call, *args):
        """files.signalling_pipe_call: run a pipe call that returns (count,
        SIGPIPE due); SIGPIPE made pending when due, EPIPE when nothing
        moved."""
        try:
            n, sigpipe = call(*args)
        except SigPipe:
            raise self._epipe() from None
        if sigpipe:
            self._raise_sigpipe()
        return n

    def recv_fds(self, fd, bufsize, maxfds, flags=0):
        """recvmsg with room for one SCM_RIGHTS message of ``maxfds`` fds
        (socketcalls.recv_fds): (data, [fd], msg_flags, sender's name).
        With int arguments and a non-negative ``maxfds`` the call is made
        here, the fds read straight out of the control buffer; anything
        else goes the general way."""
        cdef FileRef h
        cdef Socket s
        cdef Py_ssize_t ancbufsize
        if (type(bufsize) is not int or type(maxfds) is not int or type(flags) is not int
                or not 0 <= maxfds <= SCM_FAST_MAXFDS):
            return _socketcalls().recv_fds(self, fd, bufsize, maxfds, flags)
        ancbufsize = CMSG_HDR_LEN + <Py_ssize_t>maxfds * 4
        h = self._hold_c(fd, True)
        try:
            s = <Socket>h.f
            data, mflags, raw, got = s._recvmsg_bytes(bufsize, flags, ancbufsize, self, True)
            return data, got, mflags, None if raw is None else _decode_name(raw)
        finally:
            h.f.fput()

    def recv_into(self, fd, buffer, nbytes=0, int flags=0):
        """recv(2) into a writable buffer: the count received."""
        if trace_on():
            return self._traced(NR_RECV_INTO, fd, buffer, nbytes, flags)
        cdef Socket s = self._sock_c(fd)
        if type(nbytes) is not int:
            nbytes = _operator.index(nbytes)
        return s._recv_into_data(buffer, nbytes, flags, False)


include "pagecache.pxi"
