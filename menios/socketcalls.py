"""The socket syscalls of a process (Linux's net/socket.c): socket,
socketpair, bind, listen, connect, accept, shutdown, the names, and the
send and receive calls that take addresses or control messages.

Each function takes the calling process first, converts its arguments as
the stdlib does (addresses: ``namespace``), holds the socket for the call
(``proc._hold_sock``) and leaves the AF_UNIX semantics -- names, autobind,
lookups, control messages sent and received, in Linux's order -- to the C
core (``_unix.Socket``).  Plain send, recv and recv_into are the Cython
fast path (``_unix.ProcessBase``).
Failures raise ``OSError`` with Linux's errno.
"""
import array
import errno

from . import _unix
from .args import as_int, err
from .constants import (
    AF_UNIX, INT_MAX, INT_MIN, NPROTO, O_NONBLOCK, O_RDWR, SCM_RIGHTS, SIZEOF_CMSGHDR,
    SIZEOF_INT, SOCK_CLOEXEC, SOCK_MAX, SOCK_NONBLOCK, SOCK_STREAM, SOCK_TYPE_MASK, SOL_SOCKET)
from .fdcalls import install, install_two, reserve_two
from .namespace import decode_name, dest, sockaddr

_Socket = _unix.Socket
_cmsg_buffer = _unix.cmsg_buffer
_rights_cmsg = _unix.rights_cmsg
_SigPipe = _unix.SigPipe
_Pages = _unix.Pages


# ----------------------------------------------------------------- creation
def check_sock_flags(type_):
    """socket/socketpair's first check: EINVAL for flag bits in ``type_``
    other than SOCK_NONBLOCK and SOCK_CLOEXEC."""
    if type_ & ~SOCK_TYPE_MASK & ~(SOCK_NONBLOCK | SOCK_CLOEXEC):
        raise err(errno.EINVAL)


def check_sock_create(family, type_):
    """sock_create's checks before the family makes the socket: a family
    out of range (EAFNOSUPPORT), then a type out of range (EINVAL), then a
    family other than AF_UNIX, the only one modelled (EAFNOSUPPORT)."""
    if family < 0 or family >= NPROTO:
        raise err(errno.EAFNOSUPPORT)
    if (type_ & SOCK_TYPE_MASK) >= SOCK_MAX:
        raise err(errno.EINVAL)
    if family != AF_UNIX:
        raise err(errno.EAFNOSUPPORT)


def setup_socket(proc, s, flags):
    """A new socket's file: read-write, non-blocking with SOCK_NONBLOCK,
    its readiness fds closed with it, its inode owned by the caller's
    fsuid."""
    s.f_flags = O_RDWR | (O_NONBLOCK if flags & SOCK_NONBLOCK else 0)
    s.on_release = proc.kernel._on_socket_release
    s.sock_uid = proc.cred.fsuid


def socket(proc, family=AF_UNIX, type=SOCK_STREAM, proto=0):
    """socket(2): a new socket's fd.  Checked as __sys_socket checks: the
    flags (EINVAL), then sock_create's checks and the socket's own
    (EAFNOSUPPORT, EINVAL, EPROTONOSUPPORT...), then a free fd (EMFILE)."""
    proc._check_alive()
    family, type, proto = as_int(family), as_int(type), as_int(proto)
    check_sock_flags(type)
    check_sock_create(family, type)
    s = _Socket(proc.kernel.net, type, proto)
    setup_socket(proc, s, type)
    try:
        return proc.fdtable.alloc(s, proc.rlimit_nofile, 0, type & SOCK_CLOEXEC)
    except OSError:
        s.fput()
        raise


def socketpair(proc, family=AF_UNIX, type=SOCK_STREAM, proto=0):
    """socketpair(2): two connected sockets' fds.  Checked as
    __sys_socketpair checks: the flags, then two free fds (EMFILE), then
    sock_create's checks and the socket's own."""
    proc._check_alive()
    family, type, proto = as_int(family), as_int(type), as_int(proto)
    check_sock_flags(type)
    fd1, fd2 = reserve_two(proc, type & SOCK_CLOEXEC)
    a = b = None
    try:
        check_sock_create(family, type)
        a = _Socket(proc.kernel.net, type, proto)
        b = _Socket(proc.kernel.net, type, proto)
        setup_socket(proc, a, type)
        setup_socket(proc, b, type)
        a.socketpair_with(b, proc)
    except BaseException:
        for s in (a, b):
            if s is not None:
                s.fput()
        proc.fdtable.unreserve(fd1)
        proc.fdtable.unreserve(fd2)
        raise
    install_two(proc, fd1, a, fd2, b)
    return fd1, fd2


# ---------------------------------------------------------- names, connection
def bind(proc, fd, addr):
    """bind(2) to a path (an ``S_IFSOCK`` inode made with the process's
    umask: the VFS's errnos, EADDRINUSE if the path exists), an abstract
    name (a leading NUL: EADDRINUSE if taken) or, with an empty address,
    an autobound abstract name.  EINVAL for an address longer than
    sun_path or a socket already bound."""
    with proc._hold_sock(fd) as s:
        s.bind(proc, sockaddr(addr))


def listen(proc, fd, backlog):
    """listen(2).  OverflowError for a backlog beyond a C int; EINVAL
    (not a stream or seqpacket socket, or connected)."""
    with proc._hold_sock(fd) as s:
        backlog = as_int(backlog)
        if backlog > INT_MAX or backlog < INT_MIN:
            raise OverflowError("backlog out of range")
        s.listen(proc, backlog)


def connect(proc, fd, addr):
    """connect(2); ``addr=None`` is AF_UNSPEC, which dissolves a datagram
    association (EINVAL on other types).  EINVAL for an empty address;
    the lookup's errnos (a path: the VFS's, ECONNREFUSED when nothing is
    bound there, EPROTOTYPE for another type; an abstract name:
    ECONNREFUSED); then the socket's."""
    with proc._hold_sock(fd) as s:
        s.connect(proc, None if addr is None else sockaddr(addr))


def accept(proc, fd, flags=0):
    """accept4(2): (newfd, peer address).  Checked in __sys_accept4's
    order: the fd (EBADF), the flags (EINVAL), a free fd (EMFILE, the
    slot is held while waiting), that it is a socket (ENOTSOCK), then
    the socket's own checks."""
    flags = as_int(flags)
    with proc._hold(fd) as f:
        if flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC):
            raise err(errno.EINVAL)
        nfd = proc.fdtable.reserve(proc.rlimit_nofile, 0, flags & SOCK_CLOEXEC)
        try:
            if type(f) is not _Socket:
                raise err(errno.ENOTSOCK)
            n = f.accept()
        except BaseException:
            proc.fdtable.unreserve(nfd)
            raise
    setup_socket(proc, n, flags)
    name = decode_name(n.getname(True))
    install(proc, nfd, n)
    return nfd, name


def shutdown(proc, fd, how):
    """shutdown(2).  EINVAL for a bad ``how``, ENOTCONN."""
    with proc._hold_sock(fd) as s:
        s.shutdown(as_int(how))


def getsockname(proc, fd):
    """getsockname(2): the socket's name (None when unnamed)."""
    return decode_name(proc._sock(fd).getname(False))


def getpeername(proc, fd):
    """getpeername(2): the peer's name.  ENOTCONN."""
    return decode_name(proc._sock(fd).getname(True))


# ----------------------------------------------------------------------- send
def sendto(proc, fd, data, addr, flags=0, *, _lost=False):
    """sendto(2): bytes sent.  A seqpacket socket ignores the address; a
    stream socket refuses one (EISCONN/EOPNOTSUPP); a datagram socket
    sends to the socket it names.  EPIPE (and SIGPIPE pending unless
    MSG_NOSIGNAL) when the peer is gone or shut down.  ``_lost`` (a drop
    fault, datagram sockets only): the datagram is lost on its way, after
    every check, the copy and the lookup (the core's ``unix_msg.drop``)."""
    with proc._hold_sock(fd) as s:
        memoryview(data).release()          # TypeError before any other check
        raw = dest(addr)
        try:
            return s.send(data, flags, proc, raw, _lost)
        except _SigPipe:
            raise proc._epipe() from None


def sendmsg(proc, fd, buffers, ancdata=(), flags=0, address=None, *, _lost=False):
    """sendmsg(2): bytes sent.  With MSG_ZEROCOPY and a single ``Pages``
    buffer of at least 16 KiB, the pages themselves are handed to the
    receiver; smaller or ordinary buffers are copied.  The control
    messages are parsed by the core as Linux's __scm_send: EINVAL for more
    than SCM_MAX_FD fds, a malformed ucred, an unknown SOL_SOCKET type or
    an id of -1; EBADF for a bad fd; EPERM for credentials the sender may
    not claim, ESRCH for a pid naming no process; ETOOMANYREFS, where the
    files are attached, when the sender's user has more files in flight
    than its RLIMIT_NOFILE (too_many_unix_fds).  ``_lost``: as for
    ``sendto``."""
    return _sendmsg(proc, fd, buffers, ancdata, None, flags, address, _lost)


def send_fds(proc, fd, buffers, fds, flags=0, address=None, *, _lost=False):
    """sendmsg with one SCM_RIGHTS message passing ``fds``."""
    return _sendmsg(proc, fd, buffers, (), fds, flags, address, _lost)


def _sendmsg(proc, fd, buffers, ancdata, fds, flags, address, lost=False):
    """sendmsg, its control messages given as ``ancdata`` or, for
    send_fds, as the list ``fds``; converted after the buffers and the
    address, as the stdlib converts them, into a msg_control buffer."""
    with proc._hold_sock(fd) as s:
        bufs = list(buffers)
        for b in bufs:                      # TypeError before any other check
            if type(b) is not _Pages:
                memoryview(b).release()
        raw = dest(address)
        if fds is not None:
            control = _rights_cmsg(fds)
        else:
            control = _cmsg_buffer(ancdata) if ancdata else None
        try:
            return s.sendmsg(bufs, flags, proc, control, raw, lost)
        except _SigPipe:
            raise proc._epipe() from None


# -------------------------------------------------------------------- receive
def recvfrom(proc, fd, bufsize, flags=0):
    """recvfrom(2): (data, sender's name)."""
    with proc._hold_sock(fd) as s:
        data, raw = s.recv(as_int(bufsize), flags, True)
    return data, decode_name(raw)


def recvfrom_into(proc, fd, buffer, nbytes=0, flags=0):
    """recvfrom(2) into a writable buffer: (count, sender's name)."""
    with proc._hold_sock(fd) as s:
        n, raw = s.recv_into(buffer, as_int(nbytes), flags, True)
    return n, decode_name(raw)


def recvmsg(proc, fd, bufsize, ancbufsize=0, flags=0):
    """recvmsg(2): (data, ancdata, msg_flags, sender's name); the control
    messages as the core's scm_recv writes them in a buffer of
    ``ancbufsize`` bytes, received fds installed."""
    with proc._hold_sock(fd) as s:
        data, mflags, raw, anc = s.recvmsg(as_int(bufsize), flags, ancbufsize, proc)
        return data, anc, mflags, decode_name(raw)


def recvmsg_into(proc, fd, buffers, ancbufsize=0, flags=0):
    """recvmsg(2) into writable buffers: (count, ancdata, msg_flags,
    sender's name)."""
    with proc._hold_sock(fd) as s:
        n, mflags, raw, anc = s.recvmsg_into(buffers, flags, ancbufsize, proc)
        return n, anc, mflags, decode_name(raw)


def recv_fds(proc, fd, bufsize, maxfds, flags=0):
    """recvmsg with room for one SCM_RIGHTS message of ``maxfds`` fds
    (CMSG_LEN, without the stdlib's range checks): (data, [fd],
    msg_flags, sender's name).  The fds are those of the SCM_RIGHTS
    messages the core wrote, as the stdlib's recv_fds takes them."""
    ancbufsize = SIZEOF_CMSGHDR + maxfds * SIZEOF_INT
    with proc._hold_sock(fd) as s:
        data, mflags, raw, anc = s.recvmsg(as_int(bufsize), flags, ancbufsize, proc)
        fds = array.array("i")
        for level, type_, payload in anc:
            if level == SOL_SOCKET and type_ == SCM_RIGHTS:
                fds.frombytes(payload[:len(payload) - len(payload) % SIZEOF_INT])
        return data, list(fds), mflags, decode_name(raw)


def recv_pages(proc, fd, bufsize, flags=0):
    """The next message as a read-only ``PageBuffer``: the sender's own
    pages, uncopied, when it was sent with MSG_ZEROCOPY, else a copy of up
    to ``bufsize`` bytes into fresh pages."""
    with proc._hold_sock(fd) as s:
        return s.recv_pages(as_int(bufsize), flags)
