"""Pipes and FIFOs as pipe(7), fifo(7) and Linux's fs/pipe.c define them:
poll bits in every state, EOF and EPIPE, O_NONBLOCK, the capacity a
non-blocking writer gets in (pages, not bytes: small writes share a page,
others do not), PIPE_BUF atomicity at the boundary, packet mode
(O_DIRECT), FIONREAD, F_GETPIPE_SZ / F_SETPIPE_SZ with their rounding and
errnos, pipe2's flags, a pipe end passed with SCM_RIGHTS then polled;
mkfifo/mknod and fifo_open's non-blocking rules; splice and tee between
pipes.

Named ``pipe_``, ``fifo_``, ``splice_`` and ``tee_<behaviour>``.  Nothing here blocks:
every pipe a scenario fills or drains is non-blocking, or the call returns
at once.
"""
import fcntl
import os
import select
import socket

from ..harness import scenario

POLLIN, POLLOUT, POLLERR, POLLHUP = select.POLLIN, select.POLLOUT, select.POLLERR, select.POLLHUP
POLLRDNORM, POLLWRNORM = select.POLLRDNORM, select.POLLWRNORM
ALL = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM | select.POLLPRI
FIONREAD = 0x541B
TIOCOUTQ = 0x5411
F_SETPIPE_SZ, F_GETPIPE_SZ = 1031, 1032
PAGE = 4096
SIGPIPE = 13


def _proc(k):
    return k.spawn(uid=1000, gid=1000)


def _pipe(t, p, flags=os.O_NONBLOCK):
    return t.call(p.pipe2, flags)


def _poll(t, p, *fds):
    return t.call(p.poll, [(fd, ALL) for fd in fds], 0)


def _pending(t, p):
    t.step("pending_signals", lambda: SIGPIPE in set(p.pending_signals))


def _fill(p, w, chunk):
    """Non-blocking writes of ``chunk`` bytes until EAGAIN: bytes written."""
    total = 0
    while True:
        try:
            total += p.write(w, b"f" * chunk)
        except BlockingIOError:
            return total


def _drain(p, r):
    """Non-blocking reads until EAGAIN or EOF: bytes read."""
    total = 0
    while True:
        try:
            got = p.read(r, 65536)
        except BlockingIOError:
            return total
        if not got:
            return total
        total += len(got)


# ------------------------------------------------------------------- poll
@scenario("pipe_poll_empty")
def pipe_poll_empty(k, t):
    """A new pipe: the read end reports nothing, the write end POLLOUT|POLLWRNORM."""
    p = _proc(k)
    r, w = _pipe(t, p)
    _poll(t, p, r, w)


@scenario("pipe_poll_data")
def pipe_poll_data(k, t):
    """Data makes the read end POLLIN|POLLRDNORM, until read."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.write, w, b"data")
    _poll(t, p, r, w)
    t.call(p.read, r, 10)
    _poll(t, p, r, w)


@scenario("pipe_poll_full")
def pipe_poll_full(k, t):
    """A full pipe: no POLLOUT; one page read brings it back."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.step("fill", _fill, p, w, PAGE)
    _poll(t, p, r, w)
    t.call(p.read, r, PAGE)
    _poll(t, p, r, w)


@scenario("pipe_poll_writer_gone", params={"data": (False, True)})
def pipe_poll_writer_gone(k, t, data):
    """No writer left: POLLHUP, with POLLIN while data remains, alone once drained."""
    p = _proc(k)
    r, w = _pipe(t, p)
    if data:
        t.call(p.write, w, b"tail")
    t.call(p.close, w)
    _poll(t, p, r)
    t.call(p.read, r, 10)
    _poll(t, p, r)
    t.call(p.read, r, 10)


@scenario("pipe_poll_reader_gone", params={"full": (False, True)})
def pipe_poll_reader_gone(k, t, full):
    """No reader left: the write end reports POLLERR (POLLOUT only while
    a page is free), never POLLHUP."""
    p = _proc(k)
    r, w = _pipe(t, p)
    if full:
        t.step("fill", _fill, p, w, PAGE)
    t.call(p.close, r)
    _poll(t, p, w)


@scenario("pipe_poll_events_masked")
def pipe_poll_events_masked(k, t):
    """Only the asked events come back, POLLHUP/POLLERR always."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.write, w, b"x")
    t.call(p.poll, [(r, POLLOUT), (w, POLLIN)], 0)
    t.call(p.close, w)
    t.call(p.poll, [(r, 0)], 0)
    r2, w2 = _pipe(t, p)
    t.call(p.close, r2)
    t.call(p.poll, [(w2, 0)], 0)


@scenario("pipe_poll_dup_writer")
def pipe_poll_dup_writer(k, t):
    """POLLHUP and EOF wait for the last writer, not the first close."""
    p = _proc(k)
    r, w = _pipe(t, p)
    w2 = t.call(p.dup, w)
    t.call(p.close, w)
    _poll(t, p, r)
    t.call(p.read, r, 10)
    t.call(p.close, w2)
    _poll(t, p, r)
    t.call(p.read, r, 10)


# ------------------------------------------------------- EOF, EPIPE, EAGAIN
@scenario("pipe_eof")
def pipe_eof(k, t):
    """Data first, then b'' for every read once the writer is gone."""
    p = _proc(k)
    r, w = _pipe(t, p, 0)
    t.call(p.write, w, b"last words")
    t.call(p.close, w)
    t.call(p.read, r, 4)
    t.call(p.read, r, 100)
    t.call(p.read, r, 100)


@scenario("pipe_epipe_sigpipe", params={"nonblock": (False, True)})
def pipe_epipe_sigpipe(k, t, nonblock):
    """A write with no reader: EPIPE and SIGPIPE; a null write is 0 first."""
    p = _proc(k)
    r, w = _pipe(t, p, os.O_NONBLOCK if nonblock else 0)
    t.call(p.close, r)
    t.call(p.write, w, b"")
    _pending(t, p)
    t.call(p.write, w, b"x")
    _pending(t, p)


@scenario("pipe_eagain", params={"how": ("pipe2", "setfl")})
def pipe_eagain(k, t, how):
    """O_NONBLOCK from pipe2 or F_SETFL: EAGAIN on an empty read and a full write."""
    p = _proc(k)
    if how == "pipe2":
        r, w = _pipe(t, p)
    else:
        r, w = _pipe(t, p, 0)
        for fd in (r, w):
            t.call(p.fcntl, fd, fcntl.F_SETFL, os.O_NONBLOCK)
    t.call(p.read, r, 1)
    t.step("fill", _fill, p, w, 65536)
    t.call(p.write, w, b"x")
    t.call(p.read, r, 0)


@scenario("pipe_wrong_end")
def pipe_wrong_end(k, t):
    """Reading the write end or writing the read end: EBADF."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.read, w, 1)
    t.call(p.write, r, b"x")


@scenario("pipe_lseek")
def pipe_lseek(k, t):
    """Pipes are not seekable: ESPIPE on either end."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.lseek, r, 0, os.SEEK_SET)
    t.call(p.lseek, w, 0, os.SEEK_CUR)


@scenario("pipe_partial_read")
def pipe_partial_read(k, t):
    """Reads take what they ask for, in order, across pages."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.write, w, bytes(range(256)) * 20)
    t.call(p.write, w, b"tail")
    for n in (1, 4095, 2000, 10000):
        got = t.call(p.read, r, n)
        t.note("length", len(got) if got is not None else None)


@scenario("pipe_nonblock_partial_write")
def pipe_nonblock_partial_write(k, t):
    """A non-blocking write larger than the room left returns what fitted."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.write, w, b"w" * 100000)
    t.call(p.write, w, b"x")
    t.call(p.read, r, 10)
    t.call(p.write, w, b"y" * 10)
    t.call(p.read, r, PAGE)
    t.call(p.write, w, b"z" * 10000)


@scenario("pipe_dup2_closes_writer")
def pipe_dup2_closes_writer(k, t):
    """dup2 over the only write end closes it: the reader sees EOF."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.write, w, b"bye")
    r2, w2 = _pipe(t, p)
    t.call(p.dup2, r2, w)
    _poll(t, p, r)
    t.call(p.read, r, 10)
    t.call(p.read, r, 10)


@scenario("pipe_one_page")
def pipe_one_page(k, t):
    """Shrunk to one page: a big write is split at it, a small one waits."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.fcntl, w, F_SETPIPE_SZ, 1)
    t.call(p.write, w, b"o" * 10000)
    t.call(p.write, w, b"o")
    _poll(t, p, r, w)
    t.call(p.read, r, 100)
    t.call(p.write, w, b"o" * 100)
    t.call(p.write, w, b"o")


# -------------------------------------------------------------- capacity
@scenario("pipe_capacity", params={"chunk": (100, 1000, 4000, 4095, 4096, 4097, 5000,
                                             16384, 65536, 100000)})
def pipe_capacity(k, t, chunk):
    """What a non-blocking writer gets in before EAGAIN: 16 pages, where a
    small write shares the last page only if it fits there whole."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.step("fill", _fill, p, w, chunk)
    t.call(p.ioctl, r, FIONREAD)
    t.step("drain", _drain, p, r)


@scenario("pipe_capacity_resized", params={"size": (4096, 8192, 12288, 100000, 1048576)})
def pipe_capacity_resized(k, t, size):
    """After F_SETPIPE_SZ the pipe holds the rounded size."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.fcntl, w, F_SETPIPE_SZ, size)
    t.call(p.fcntl, r, F_GETPIPE_SZ)
    t.step("fill", _fill, p, w, PAGE)
    t.call(p.ioctl, w, FIONREAD)


@scenario("pipe_atomic_boundary", params={"n": (3996, 3997, 4095, 4096, 4097, 8193)})
def pipe_atomic_boundary(k, t, n):
    """A full ring whose last page holds 100 bytes: a write that fits in
    that page whole goes in whole; up to PIPE_BUF bytes that do not fit is
    EAGAIN, nothing written; a larger write may put its odd bytes there."""
    p = _proc(k)
    r, w = _pipe(t, p)
    for _ in range(15):
        t.call(p.write, w, b"p" * PAGE)
    t.call(p.write, w, b"q" * 100)
    t.call(p.write, w, b"n" * n)
    t.call(p.ioctl, r, FIONREAD)


@scenario("pipe_small_writes_merge")
def pipe_small_writes_merge(k, t):
    """Four 1000-byte writes share a page, so 64 fill the pipe; 96 more
    bytes still fit in the last page's tail, a read notwithstanding."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.step("fill", _fill, p, w, 1000)
    t.call(p.ioctl, r, FIONREAD)
    t.call(p.read, r, 96)
    t.call(p.write, w, b"x" * 96)


# --------------------------------------------------------- F_SETPIPE_SZ
@scenario("pipe_getpipe_sz")
def pipe_getpipe_sz(k, t):
    """The default capacity, on either end."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.fcntl, r, F_GETPIPE_SZ)
    t.call(p.fcntl, w, F_GETPIPE_SZ)


@scenario("pipe_setpipe_sz_rounding", params={"size": (0, 1, 4095, 4096, 4097, 65535, 65536,
                                                       65537, 1048575, 1048576, 1048577)})
def pipe_setpipe_sz_rounding(k, t, size):
    """Sizes round up to a power-of-two number of pages, at least one;
    beyond fs.pipe-max-size an ordinary user gets EPERM."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.fcntl, w, F_SETPIPE_SZ, size)
    t.call(p.fcntl, r, F_GETPIPE_SZ)


@scenario("pipe_setpipe_sz_ebusy", params={"used": (1, 2, 3)})
def pipe_setpipe_sz_ebusy(k, t, used):
    """Shrinking below the pages in use is EBUSY; to exactly them works."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.write, w, b"b" * (PAGE * (used - 1) + 1))
    t.call(p.fcntl, w, F_SETPIPE_SZ, PAGE)
    t.call(p.fcntl, w, F_SETPIPE_SZ, PAGE * 2)
    t.call(p.fcntl, w, F_SETPIPE_SZ, PAGE * 4)
    t.call(p.fcntl, w, F_GETPIPE_SZ)
    t.call(p.read, r, PAGE * 4)


@scenario("pipe_setpipe_sz_einval")
def pipe_setpipe_sz_einval(k, t):
    """An argument above 2^31 (as an unsigned int) is EINVAL."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.fcntl, w, F_SETPIPE_SZ, -1)
    t.call(p.fcntl, w, F_SETPIPE_SZ, -(2**31))
    t.call(p.fcntl, w, F_GETPIPE_SZ)


@scenario("pipe_setpipe_sz_shrink_allowed")
def pipe_setpipe_sz_shrink_allowed(k, t):
    """Shrinking is always allowed (no EPERM), growing back within the limit too."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.fcntl, w, F_SETPIPE_SZ, 1048576)
    t.call(p.fcntl, w, F_SETPIPE_SZ, 8192)
    t.call(p.fcntl, w, F_SETPIPE_SZ, 65536)


@scenario("pipe_setpipe_sz_not_a_pipe", params={"cmd": (F_GETPIPE_SZ, F_SETPIPE_SZ)})
def pipe_setpipe_sz_not_a_pipe(k, t, cmd):
    """The pipe commands on a socket or a bad fd: EBADF."""
    p = _proc(k)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    t.call(p.fcntl, a, cmd, PAGE)
    t.call(p.fcntl, 99, cmd, PAGE)


@scenario("pipe_setpipe_sz_wakes_room")
def pipe_setpipe_sz_wakes_room(k, t):
    """Growing a full pipe makes it writable again (POLLOUT)."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.step("fill", _fill, p, w, PAGE)
    _poll(t, p, w)
    t.call(p.fcntl, w, F_SETPIPE_SZ, 131072)
    _poll(t, p, w)
    t.step("fill", _fill, p, w, PAGE)


# ---------------------------------------------------------------- FIONREAD
@scenario("pipe_fionread")
def pipe_fionread(k, t):
    """FIONREAD counts the bytes in the pipe, on either end."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.ioctl, r, FIONREAD)
    t.call(p.write, w, b"a" * 5000)
    t.call(p.write, w, b"b" * 10)
    t.call(p.ioctl, r, FIONREAD)
    t.call(p.ioctl, w, FIONREAD)
    t.call(p.read, r, 4097)
    t.call(p.ioctl, r, FIONREAD)


@scenario("pipe_ioctl_other")
def pipe_ioctl_other(k, t):
    """A socket ioctl on a pipe: ENOTTY."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.ioctl, w, TIOCOUTQ)


# ---------------------------------------------------------------- pipe2
@scenario("pipe2_flags", params={"flags": (0, os.O_NONBLOCK, os.O_CLOEXEC, os.O_DIRECT,
                                           os.O_NONBLOCK | os.O_CLOEXEC | os.O_DIRECT)})
def pipe2_flags(k, t, flags):
    """Each end's status flags and close-on-exec as pipe2 sets them."""
    p = _proc(k)
    r, w = _pipe(t, p, flags)
    for fd in (r, w):
        t.call(p.fcntl, fd, fcntl.F_GETFL)
        t.call(p.fcntl, fd, fcntl.F_GETFD)


@scenario("pipe2_bad_flags", params={"flags": (os.O_APPEND, os.O_RDWR, os.O_WRONLY,
                                               os.O_CREAT, os.O_TRUNC, os.O_SYNC)})
def pipe2_bad_flags(k, t, flags):
    """Any flag but O_NONBLOCK, O_CLOEXEC and O_DIRECT: EINVAL, no fds made."""
    p = _proc(k)
    t.call(p.pipe2, flags)
    t.call(p.pipe2, 0)


@scenario("pipe_execve_cloexec")
def pipe_execve_cloexec(k, t):
    """pipe2(O_CLOEXEC) ends go at execve; plain ones stay."""
    p = _proc(k)
    r, w = _pipe(t, p, os.O_CLOEXEC)
    r2, w2 = _pipe(t, p, 0)
    t.call(p.execve)
    t.call(p.fcntl, r, fcntl.F_GETFD)
    t.call(p.fcntl, r2, fcntl.F_GETFD)


# --------------------------------------------------------- packet mode
@scenario("pipe_packets")
def pipe_packets(k, t):
    """O_DIRECT: each write a packet; a short read discards the rest of one."""
    p = _proc(k)
    r, w = _pipe(t, p, os.O_NONBLOCK | os.O_DIRECT)
    t.call(p.write, w, b"abc")
    t.call(p.write, w, b"defg")
    t.call(p.ioctl, r, FIONREAD)
    t.call(p.read, r, 2)
    t.call(p.read, r, 100)
    t.call(p.read, r, 100)


@scenario("pipe_packets_split")
def pipe_packets_split(k, t):
    """A packet write larger than a page is split into page-sized packets."""
    p = _proc(k)
    r, w = _pipe(t, p, os.O_NONBLOCK | os.O_DIRECT)
    t.call(p.write, w, b"s" * 5000)
    got = t.call(p.read, r, 10000)
    t.note("first", len(got or b""))
    got = t.call(p.read, r, 10000)
    t.note("second", len(got or b""))


@scenario("pipe_packets_capacity")
def pipe_packets_capacity(k, t):
    """Packets never share a page: 16 one-byte packets fill a pipe."""
    p = _proc(k)
    r, w = _pipe(t, p, os.O_NONBLOCK | os.O_DIRECT)
    t.step("fill", _fill, p, w, 1)
    t.call(p.ioctl, r, FIONREAD)


@scenario("pipe_setfl_direct")
def pipe_setfl_direct(k, t):
    """F_SETFL turns packet mode on and off on the writing end."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.fcntl, w, fcntl.F_SETFL, os.O_DIRECT | os.O_NONBLOCK)
    t.call(p.fcntl, w, fcntl.F_GETFL)
    t.call(p.write, w, b"one")
    t.call(p.write, w, b"two")
    t.call(p.read, r, 100)
    t.call(p.fcntl, w, fcntl.F_SETFL, os.O_NONBLOCK)
    t.call(p.fcntl, w, fcntl.F_GETFL)
    t.call(p.write, w, b"three")
    t.call(p.write, w, b"four")
    t.call(p.read, r, 100)
    t.call(p.read, r, 100)


@scenario("pipe_packet_merge_into_stream_page")
def pipe_packet_merge_into_stream_page(k, t):
    """A packet writer's small write still joins a stream page before it."""
    p = _proc(k)
    r, w = _pipe(t, p)
    t.call(p.write, w, b"stream")
    t.call(p.fcntl, w, fcntl.F_SETFL, os.O_DIRECT | os.O_NONBLOCK)
    t.call(p.write, w, b"pkt")
    t.call(p.read, r, 3)
    t.call(p.read, r, 100)


# ------------------------------------------------------------ identity
@scenario("pipe_fstat")
def pipe_fstat(k, t):
    """fstat: S_IFIFO|0600, one link, owned by the creator, no size."""
    p = _proc(k)
    r, w = _pipe(t, p)
    for fd in (r, w):
        st = t.call(p.fstat, fd)
        if st is not None:
            t.note("mode nlink uid gid size",
                   (oct(st.st_mode), st.st_nlink, st.st_uid, st.st_gid, st.st_size))
    st_r, st_w = p.fstat(r), p.fstat(w)
    t.note("same inode", (st_r.st_ino, st_r.st_dev) == (st_w.st_ino, st_w.st_dev))
    r2, w2 = _pipe(t, p)
    t.note("another inode", p.fstat(r2).st_ino != st_r.st_ino)


@scenario("pipe_fd_numbers")
def pipe_fd_numbers(k, t):
    """The lowest free fds, read end first, a closed one reused."""
    p = _proc(k)
    _pipe(t, p)
    r, w = _pipe(t, p)
    t.call(p.close, 0)
    _pipe(t, p)


# ------------------------------------------------------------ SCM_RIGHTS
@scenario("pipe_passed_then_polled", params={"end": ("read", "write"),
                                              "other": ("open", "closed")})
def pipe_passed_then_polled(k, t, end, other):
    """A pipe end passed with SCM_RIGHTS and the originals closed: the
    receiver polls and uses it as a pipe (POLLHUP alone at EOF, POLLERR for
    a writer with no reader)."""
    p = _proc(k)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    r, w = _pipe(t, p)
    t.call(p.write, w, b"in pipe")
    mine, theirs = (w, r) if end == "read" else (r, w)
    t.call(p.send_fds, a, [b"fd"], [theirs])
    t.call(p.close, theirs)
    if other == "closed":
        t.call(p.close, mine)
    msg, fds, _, _ = p.recv_fds(b, 10, 1)
    t.note("received", (msg, len(fds)))
    got = fds[0]
    t.call(p.poll, [(got, ALL)], 0)
    if end == "read":
        t.call(p.read, got, 100)
        t.call(p.poll, [(got, ALL)], 0)
        t.call(p.fcntl, got, F_GETPIPE_SZ)
    else:
        t.call(p.write, got, b"more")
        t.call(p.ioctl, got, FIONREAD)


@scenario("pipe_passed_keeps_open")
def pipe_passed_keeps_open(k, t):
    """A write end in flight keeps the pipe open: no EOF until it is dropped."""
    p = _proc(k)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    r, w = _pipe(t, p)
    t.call(p.send_fds, a, [b"w"], [w])
    t.call(p.close, w)
    t.call(p.read, r, 10)
    _poll(t, p, r)
    t.call(p.close, b)              # the message and the write end in it go
    t.call(p.read, r, 10)
    _poll(t, p, r)


@scenario("pipe_errno_order")
def pipe_errno_order(k, t):
    """A bad fd beats everything: EBADF for read, write, fcntl, ioctl."""
    p = _proc(k)
    t.call(p.read, 42, 10)
    t.call(p.write, 42, b"x")
    t.call(p.fcntl, 42, F_GETPIPE_SZ)
    t.call(p.ioctl, 42, FIONREAD)


# ------------------------------------------------------------------ FIFOs
FIFO = "/tmp/fifo"


def _mode_of(p, path):
    return oct(p.stat(path).st_mode)


@scenario("fifo_mkfifo")
def fifo_mkfifo(k, t):
    """mkfifo makes an S_IFIFO inode, masked by the umask; EEXIST, ENOENT,
    ENOTDIR as for any name."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, 0o666)
    t.step("mode", _mode_of, p, FIFO)
    t.step("nlink size", lambda: (p.stat(FIFO).st_nlink, p.stat(FIFO).st_size))
    t.call(p.mkfifo, FIFO, 0o600)
    t.call(p.mkfifo, "/tmp/missing/fifo", 0o600)
    t.call(p.mkfifo, FIFO + "/x", 0o600)


@scenario("fifo_mknod_types", params={"mode": (0o010644, 0o000644, 0o100644, 0o140644,
                                               0o020644, 0o060644, 0o040755, 0o170644)})
def fifo_mknod_types(k, t, mode):
    """mknod: FIFOs, regular files (type 0 too) and sockets for anyone;
    device nodes EPERM without CAP_MKNOD, but for a 0:0 character device (a
    whiteout); a directory EPERM; a bad type EINVAL.  No device node opens."""
    p = _proc(k)
    t.call(p.mknod, "/tmp/node", mode, 0)
    t.step("mode", lambda: _mode_of(p, "/tmp/node"))
    t.call(p.mknod, "/tmp/node2", mode, 0x0103)
    t.step("mode", lambda: _mode_of(p, "/tmp/node2"))


@scenario("fifo_mknod_checks_order")
def fifo_mknod_checks_order(k, t):
    """The type is checked before the name: EINVAL/EPERM even where the
    name exists or its directory is missing."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, 0o600)
    t.call(p.mknod, FIFO, 0o170644, 0)
    t.call(p.mknod, "/tmp/missing/x", 0o040755, 0)
    t.call(p.mknod, "/tmp/missing/x", 0o020644, 0)
    t.call(p.mknod, FIFO, 0o020644, 0)


@scenario("fifo_nonblock_writer_needs_reader")
def fifo_nonblock_writer_needs_reader(k, t):
    """O_WRONLY|O_NONBLOCK without a reader: ENXIO; with one it opens."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, 0o600)
    t.call(p.open, FIFO, os.O_WRONLY | os.O_NONBLOCK)
    r = t.call(p.open, FIFO, os.O_RDONLY | os.O_NONBLOCK)
    w = t.call(p.open, FIFO, os.O_WRONLY | os.O_NONBLOCK)
    t.call(p.write, w, b"through")
    t.call(p.read, r, 100)


@scenario("fifo_nonblock_reader_alone")
def fifo_nonblock_reader_alone(k, t):
    """A non-blocking reader opens alone: reads are EOF, and poll shows no
    POLLHUP until a writer has come and gone."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, 0o600)
    r = t.call(p.open, FIFO, os.O_RDONLY | os.O_NONBLOCK)
    t.call(p.read, r, 10)
    _poll(t, p, r)
    w = t.call(p.open, FIFO, os.O_WRONLY | os.O_NONBLOCK)
    _poll(t, p, r)
    t.call(p.write, w, b"x")
    t.call(p.close, w)
    _poll(t, p, r)
    t.call(p.read, r, 10)
    _poll(t, p, r)


@scenario("fifo_rdwr")
def fifo_rdwr(k, t):
    """O_RDWR never waits: one fd is both ends."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, 0o600)
    fd = t.call(p.open, FIFO, os.O_RDWR)
    _poll(t, p, fd)
    t.call(p.write, fd, b"loop")
    _poll(t, p, fd)
    t.call(p.ioctl, fd, FIONREAD)
    t.call(p.read, fd, 10)
    t.call(p.fcntl, fd, F_GETPIPE_SZ)


@scenario("fifo_data_dropped_on_last_close")
def fifo_data_dropped_on_last_close(k, t):
    """Unread data goes with the last file on the FIFO."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, 0o600)
    fd = t.call(p.open, FIFO, os.O_RDWR | os.O_NONBLOCK)
    t.call(p.write, fd, b"lost")
    t.call(p.close, fd)
    fd = t.call(p.open, FIFO, os.O_RDWR | os.O_NONBLOCK)
    t.call(p.read, fd, 10)
    t.call(p.ioctl, fd, FIONREAD)


@scenario("fifo_data_kept_while_open")
def fifo_data_kept_while_open(k, t):
    """While one file stays open, data written through another stays."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, 0o600)
    keep = t.call(p.open, FIFO, os.O_RDWR | os.O_NONBLOCK)
    w = t.call(p.open, FIFO, os.O_WRONLY | os.O_NONBLOCK)
    t.call(p.write, w, b"kept")
    t.call(p.close, w)
    r = t.call(p.open, FIFO, os.O_RDONLY | os.O_NONBLOCK)
    t.call(p.read, r, 10)
    t.call(p.close, keep)


@scenario("fifo_permissions", params={"mode": (0o200, 0o400, 0o000)})
def fifo_permissions(k, t, mode):
    """Opening checks the FIFO's permission bits: EACCES for the missing one."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, mode)
    t.call(p.open, FIFO, os.O_RDONLY | os.O_NONBLOCK)
    t.call(p.open, FIFO, os.O_RDWR | os.O_NONBLOCK)


@scenario("fifo_accmode_invalid")
def fifo_accmode_invalid(k, t):
    """O_ACCMODE (3) as the access mode: EINVAL from fifo_open."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, 0o600)
    t.call(p.open, FIFO, os.O_ACCMODE | os.O_NONBLOCK)


@scenario("fifo_fstat_and_flags")
def fifo_fstat_and_flags(k, t):
    """An open FIFO's fstat is its inode's; its status flags as open set them."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, 0o640)
    fd = t.call(p.open, FIFO, os.O_RDWR | os.O_NONBLOCK | os.O_APPEND)
    st = p.fstat(fd)
    t.note("fstat", (oct(st.st_mode), st.st_nlink, st.st_uid, st.st_gid,
                     st.st_ino == p.stat(FIFO).st_ino))
    t.call(p.fcntl, fd, fcntl.F_GETFL)
    t.call(p.lseek, fd, 0, os.SEEK_SET)


@scenario("fifo_creat_existing")
def fifo_creat_existing(k, t):
    """O_CREAT (without O_EXCL) and O_TRUNC open an existing FIFO as a FIFO."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, 0o600)
    fd = t.call(p.open, FIFO, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK, 0o600)
    t.call(p.write, fd, b"x")
    t.call(p.read, fd, 10)
    t.call(p.open, FIFO, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)


@scenario("fifo_unlinked_while_open")
def fifo_unlinked_while_open(k, t):
    """Unlinking the name leaves the open pipe working."""
    p = _proc(k)
    t.call(p.mkfifo, FIFO, 0o600)
    fd = t.call(p.open, FIFO, os.O_RDWR | os.O_NONBLOCK)
    t.call(p.unlink, FIFO)
    t.call(p.write, fd, b"still")
    t.call(p.read, fd, 10)
    t.call(p.stat, FIFO)


# ------------------------------------------------------- splice and tee
SPLICE_F_NONBLOCK = 2


@scenario("splice_pipe_to_pipe", params={"count": (1, 100, 4096, 5000, 10000, 100000)})
def splice_pipe_to_pipe(k, t, count):
    """splice between pipes moves at most ``count`` bytes, whole pages and
    a part of one, in order; what is left stays in the input."""
    p = _proc(k)
    r1, w1 = _pipe(t, p)
    r2, w2 = _pipe(t, p)
    t.call(p.write, w1, b"a" * 4096)
    t.call(p.write, w1, b"b" * 3000)
    t.call(p.splice, r1, w2, count)
    t.call(p.ioctl, r1, FIONREAD)
    t.call(p.ioctl, r2, FIONREAD)
    t.call(p.read, r2, 100000)
    t.call(p.read, r1, 100000)


@scenario("splice_empty_and_eof")
def splice_empty_and_eof(k, t):
    """An empty input: EAGAIN when non-blocking, 0 once no writer is left."""
    p = _proc(k)
    r1, w1 = _pipe(t, p)
    r2, w2 = _pipe(t, p, 0)
    t.call(p.splice, r1, w2, 10)
    t.call(p.splice, r1, w2, 10, flags=SPLICE_F_NONBLOCK)
    t.call(p.close, w1)
    t.call(p.splice, r1, w2, 10)


@scenario("splice_output_full")
def splice_output_full(k, t):
    """A full output pipe: EAGAIN; the input keeps its data."""
    p = _proc(k)
    r1, w1 = _pipe(t, p)
    r2, w2 = _pipe(t, p)
    t.step("fill", _fill, p, w2, PAGE)
    t.call(p.write, w1, b"waiting")
    t.call(p.splice, r1, w2, 100)
    t.call(p.ioctl, r1, FIONREAD)


@scenario("splice_epipe")
def splice_epipe(k, t):
    """No reader on the output: EPIPE and SIGPIPE."""
    p = _proc(k)
    r1, w1 = _pipe(t, p)
    r2, w2 = _pipe(t, p)
    t.call(p.write, w1, b"x")
    t.call(p.close, r2)
    t.call(p.splice, r1, w2, 10)
    _pending(t, p)
    t.call(p.ioctl, r1, FIONREAD)


@scenario("splice_args")
def splice_args(k, t):
    """The checks in order: count 0, flags, fds, offsets on pipes (ESPIPE),
    the wrong ends (EBADF), the same pipe, no pipe at all (EINVAL)."""
    p = _proc(k)
    r, w = _pipe(t, p)
    r2, w2 = _pipe(t, p)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    t.call(p.write, w, b"data")
    t.call(p.splice, 99, 98, 0)
    t.call(p.splice, r, w2, 10, flags=0x10)
    t.call(p.splice, 99, w2, 10, flags=0x10)
    t.call(p.splice, 99, w2, 10)
    t.call(p.splice, r, 98, 10)
    t.call(p.splice, r, w2, 10, 0)
    t.call(p.splice, r, w2, 10, None, 0)
    t.call(p.splice, w, w2, 10, 0)
    t.call(p.splice, w, w2, 10)
    t.call(p.splice, r, r2, 10)
    t.call(p.splice, r, w, 10)
    t.call(p.splice, a, b, 10)
    t.call(p.ioctl, r, FIONREAD)


@scenario("splice_then_write_no_merge")
def splice_then_write_no_merge(k, t):
    """A part of a page spliced over is shared, so a later small write to
    the output takes a page of its own: a two-page pipe is then full."""
    p = _proc(k)
    r1, w1 = _pipe(t, p)
    r2, w2 = _pipe(t, p)
    t.call(p.write, w1, b"s" * 100)
    t.call(p.splice, r1, w2, 50)
    t.call(p.fcntl, w2, F_SETPIPE_SZ, 2 * PAGE)
    t.call(p.write, w2, b"m" * 10)
    t.call(p.write, w2, b"n" * 10)
    t.call(p.write, w2, b"o" * 10)
    t.call(p.write, w2, b"p" * PAGE)
    t.call(p.read, r2, 1000)


@scenario("tee_duplicates", params={"count": (1, 4096, 5000, 100000)})
def tee_duplicates(k, t, count):
    """tee copies up to ``count`` bytes into another pipe and leaves the
    input as it was."""
    p = _proc(k)
    r1, w1 = _pipe(t, p)
    r2, w2 = _pipe(t, p)
    t.call(p.write, w1, b"t" * 4096)
    t.call(p.write, w1, b"u" * 1000)
    t.call(p.tee, r1, w2, count)
    t.call(p.ioctl, r1, FIONREAD)
    t.call(p.ioctl, r2, FIONREAD)
    t.call(p.read, r2, 100000)
    t.call(p.read, r1, 100000)


@scenario("tee_args")
def tee_args(k, t):
    """tee's checks: flags before a count of 0, EBADF, EINVAL for the same
    pipe or a non-pipe, EAGAIN when empty, EPIPE without a reader."""
    p = _proc(k)
    r, w = _pipe(t, p)
    r2, w2 = _pipe(t, p)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    t.call(p.tee, 99, 98, 0, 0x10)
    t.call(p.tee, 99, 98, 0)
    t.call(p.tee, 99, w2, 10)
    t.call(p.tee, w, w2, 10)
    t.call(p.tee, r, r2, 10)
    t.call(p.tee, r, w, 10)
    t.call(p.tee, r, a, 10)
    t.call(p.tee, r, w2, 10)
    t.call(p.write, w, b"x")
    t.call(p.close, r2)
    t.call(p.tee, r, w2, 10)
    _pending(t, p)
