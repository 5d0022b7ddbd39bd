"""SOCK_STREAM, Linux-exact: creation, naming, connection set-up,
data transfer and its flags, shutdown and resets, options, poll, ioctl and
send-buffer back-pressure.  Every scenario is named ``stream_<behaviour>``."""
import errno
import fcntl
import hashlib
import os
import select
import signal
import socket
import struct
import time

from ..harness import PAIR_KINDS, Background, make_pair, scenario

AF_UNIX, STREAM = socket.AF_UNIX, socket.SOCK_STREAM
DGRAM, SEQPACKET = socket.SOCK_DGRAM, socket.SOCK_SEQPACKET
SOL, NB, CE = socket.SOL_SOCKET, socket.SOCK_NONBLOCK, socket.SOCK_CLOEXEC
POLLIN, POLLOUT, POLLPRI = select.POLLIN, select.POLLOUT, select.POLLPRI
POLLERR, POLLHUP, POLLNVAL = select.POLLERR, select.POLLHUP, select.POLLNVAL
POLLRDHUP = getattr(select, "POLLRDHUP", 0x2000)
ALL_EVENTS = POLLIN | POLLOUT | POLLPRI | POLLRDHUP
EVERY_EVENT = 0xffff
FIONREAD, SIOCOUTQ, SIOCATMARK = 0x541B, 0x5411, 0x8905
NAMED = ("filesystem", "abstract")
BLOCKING = {"kind": PAIR_KINDS, "nonblock": (False, True)}
TIMEVAL = struct.Struct("qq")
SO_PEEK_OFF = getattr(socket, "SO_PEEK_OFF", 42)


def _proc(k):
    return k.spawn(uid=1000, gid=1000)


def _pair(k, p, kind="socketpair", nonblock=False):
    return make_pair(k, p, STREAM, kind, nonblock)


def _name(kind, tag="srv"):
    return f"/tmp/{tag}" if kind == "filesystem" else f"\0{tag}".encode()


def _listener(t, p, kind="filesystem", backlog=5, tag="srv", flags=0):
    fd = t.call(p.socket, AF_UNIX, STREAM | flags)
    t.call(p.bind, fd, _name(kind, tag))
    t.call(p.listen, fd, backlog)
    return fd


def _nonblock(p, fd):
    p.fcntl(fd, fcntl.F_SETFL, p.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def _pending(t, p, label="pending_signals"):
    t.step(label, lambda: set(p.pending_signals))


def _cut(t, p, a, b, how):
    """End a's path to its peer b: "close" b, "shut_rd" b, or (any other
    ``how``) shut a's own writing side."""
    if how == "close":
        t.call(p.close, b)
    elif how == "shut_rd":
        t.call(p.shutdown, b, socket.SHUT_RD)
    else:
        t.call(p.shutdown, a, socket.SHUT_WR)


def _fill(p, fd, size=65536):
    """Non-blocking sends of ``size`` bytes until EAGAIN: (sends, bytes)."""
    n = total = 0
    while n < 100000:
        try:
            total += p.send(fd, b"x" * size, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return n, total
        n += 1
    return n, total


def _drain(p, fd, total, chunk=65536):
    """Blocking reads until ``total`` bytes came: (count, sha1)."""
    h, got = hashlib.sha1(), 0
    while got < total:
        data = p.recv(fd, min(chunk, total - got))
        if not data:
            break
        h.update(data)
        got += len(data)
    return got, h.hexdigest()


# ================================================================ creation

@scenario("stream_socket_bad_family_type_proto")
def stream_socket_bad_family_type_proto(k, t):
    p = _proc(k)
    for family in (-1, 0, 9999, 46, 255):
        t.call(p.socket, family, STREAM)
    for type_ in (-1, 0, 4, 6, 7, 10, 11, 15, STREAM | 0x10, STREAM | 0x100000):
        t.call(p.socket, AF_UNIX, type_)
    for proto in (-1, 1, 2, 17):
        fd = t.call(p.socket, AF_UNIX, STREAM, proto)
        if fd is not None:
            t.call(p.getsockopt, fd, SOL, socket.SO_PROTOCOL)
            t.call(p.close, fd)
    t.call(p.socket, AF_UNIX, STREAM)


@scenario("stream_socket_raw_is_dgram")
def stream_socket_raw_is_dgram(k, t):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, socket.SOCK_RAW)
    t.call(p.getsockopt, fd, SOL, socket.SO_TYPE)


@scenario("stream_socket_flags", params={"flags": (0, NB, CE, NB | CE)})
def stream_socket_flags(k, t, flags):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM | flags)
    t.call(p.fcntl, fd, fcntl.F_GETFL)
    t.call(p.fcntl, fd, fcntl.F_GETFD)
    t.call(p.getsockopt, fd, SOL, socket.SO_TYPE)
    a, b = t.call(p.socketpair, AF_UNIX, STREAM | flags)
    for x in (a, b):
        t.call(p.fcntl, x, fcntl.F_GETFL)
        t.call(p.fcntl, x, fcntl.F_GETFD)
    if flags & NB:
        t.call(p.recv, a, 10)


@scenario("stream_socketpair_basic", params={"proto": (0, 1)})
def stream_socketpair_basic(k, t, proto):
    p = _proc(k)
    a, b = t.call(p.socketpair, AF_UNIX, STREAM, proto)
    t.call(p.send, a, b"ping")
    t.call(p.recv, b, 100)
    t.call(p.send, b, b"pong")
    t.call(p.recvfrom, a, 100)
    for x in (a, b):
        t.call(p.getsockname, x)
        t.call(p.getpeername, x)
        t.call(p.getsockopt, x, SOL, socket.SO_PEERCRED, 12)
        t.call(p.getsockopt, x, SOL, socket.SO_ACCEPTCONN)


@scenario("stream_socketpair_errors")
def stream_socketpair_errors(k, t):
    p = _proc(k)
    t.call(p.socketpair, 9999, STREAM)
    t.call(p.socketpair, AF_UNIX, STREAM, 2)
    t.call(p.socketpair, AF_UNIX, 42)
    t.call(p.socketpair, AF_UNIX, STREAM | 0x10)
    t.call(p.socketpair, AF_UNIX, STREAM)


# ================================================================== bind

@scenario("stream_bind_filesystem", params={"umask": (0o022, 0o077, 0)})
def stream_bind_filesystem(k, t, umask):
    p = k.spawn(uid=1000, gid=1000, umask=umask)
    fd = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.getsockname, fd)
    t.call(p.bind, fd, "/tmp/s")
    t.call(p.getsockname, fd)
    t.call(p.stat, "/tmp/s")
    t.call(p.getpeername, fd)


@scenario("stream_bind_relative_path")
def stream_bind_relative_path(k, t):
    p = k.spawn(uid=1000, gid=1000, cwd="/tmp")
    fd = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, fd, "rel")
    t.call(p.getsockname, fd)
    t.call(p.stat, "/tmp/rel")
    fd2 = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, fd2, b"/tmp/emb\0edded")
    t.call(p.getsockname, fd2)
    t.call(p.stat, "/tmp/emb")


@scenario("stream_bind_abstract")
def stream_bind_abstract(k, t):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, fd, b"\0abstract-name")
    t.call(p.getsockname, fd)
    fd2 = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, fd2, b"\0abstract\0with-nul")
    t.call(p.getsockname, fd2)
    t.call(p.listdir, "/tmp")


@scenario("stream_autobind", params={"addr": ("", b"")})
def stream_autobind(k, t, addr):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, fd, addr)
    t.call(p.getsockname, fd)
    t.call(p.bind, fd, addr)
    t.call(p.bind, fd, "/tmp/after")
    t.call(p.stat, "/tmp/after")
    t.call(p.getsockname, fd)
    t.call(p.listen, fd, 1)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, p.getsockname(fd))
    t.call(p.getpeername, c)


@scenario("stream_bind_rebind_einval", params={"kind": NAMED})
def stream_bind_rebind_einval(k, t, kind):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, fd, _name(kind, "one"))
    t.call(p.bind, fd, _name(kind, "one"))
    t.call(p.bind, fd, "/tmp/two")
    t.call(p.bind, fd, b"\0two")
    t.call(p.stat, "/tmp/two")
    t.call(p.getsockname, fd)


@scenario("stream_bind_addrinuse", params={"kind": NAMED})
def stream_bind_addrinuse(k, t, kind):
    p = _proc(k)
    a = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, a, _name(kind))
    b = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, b, _name(kind))
    d = t.call(p.socket, AF_UNIX, DGRAM)
    t.call(p.bind, d, _name(kind))          # abstract names are per type? (Linux: no)
    t.call(p.getsockname, b)
    t.call(p.bind, b, _name(kind, "other"))
    t.call(p.getsockname, b)


@scenario("stream_bind_existing_file_or_dir", needs={"ids"})   # a root-owned /dev
def stream_bind_existing_file_or_dir(k, t):
    p = _proc(k)
    t.call(p.close, t.call(p.open, "/tmp/file", os.O_CREAT | os.O_WRONLY, 0o644))
    t.call(p.mkdir, "/tmp/dir")
    fd = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, fd, "/tmp/file")
    t.call(p.bind, fd, "/tmp/dir")
    t.call(p.bind, fd, "/tmp/nodir/s")
    t.call(p.bind, fd, "/tmp/file/s")
    t.call(p.bind, fd, "/dev/s")                 # 0755 root: EACCES for uid 1000
    t.call(p.stat, "/dev/s")
    t.call(p.getsockname, fd)
    t.call(p.bind, fd, "/tmp/ok")
    t.call(p.getsockname, fd)


@scenario("stream_bind_failure_leaves_no_file")
def stream_bind_failure_leaves_no_file(k, t):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, fd, "/tmp/first")
    t.call(p.bind, fd, "/tmp/second")
    t.call(p.stat, "/tmp/second")
    ab = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, ab, b"\0abs")
    t.call(p.bind, ab, "/tmp/third")
    t.call(p.stat, "/tmp/third")
    t.call(p.listdir, "/tmp")


@scenario("stream_close_keeps_file_frees_abstract", params={"listening": (False, True)})
def stream_close_keeps_file_frees_abstract(k, t, listening):
    p = _proc(k)
    fs = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, fs, "/tmp/kept")
    ab = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, ab, b"\0freed")
    if listening:
        t.call(p.listen, fs, 1)
        t.call(p.listen, ab, 1)
    t.call(p.close, fs)
    t.call(p.close, ab)
    t.call(p.stat, "/tmp/kept")
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, "/tmp/kept")
    t.call(p.connect, c, b"\0freed")
    n = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, n, "/tmp/kept")
    t.call(p.bind, n, b"\0freed")
    t.call(p.getsockname, n)
    t.call(p.unlink, "/tmp/kept")
    m = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, m, "/tmp/kept")


@scenario("stream_bind_path_length", params={"kind": NAMED})
def stream_bind_path_length(k, t, kind):
    p = _proc(k)
    if kind == "filesystem":
        names = ["/tmp/" + "a" * n for n in (102, 103, 104)]
    else:
        names = [b"\0" + b"b" * n for n in (106, 107, 108)]
    for name in names:
        fd = t.call(p.socket, AF_UNIX, STREAM)
        t.call(p.bind, fd, name)
        t.call(p.getsockname, fd)
        t.call(p.listen, fd, 1)
        c = t.call(p.socket, AF_UNIX, STREAM)
        t.call(p.connect, c, name)
        t.call(p.getpeername, c)


# ================================================================ listen

@scenario("stream_listen_unbound_and_connected")
def stream_listen_unbound_and_connected(k, t):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.listen, fd, 5)
    t.call(p.getsockopt, fd, SOL, socket.SO_ACCEPTCONN)
    a, b = _pair(k, p)
    t.call(p.listen, a, 5)
    l = _listener(t, p)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, "/tmp/srv")
    t.call(p.listen, c, 5)
    d = t.call(p.socket, AF_UNIX, DGRAM)
    t.call(p.bind, d, "/tmp/d")
    t.call(p.listen, d, 5)
    t.call(p.getsockopt, l, SOL, socket.SO_ACCEPTCONN)


@scenario("stream_listen_backlog_count", params={"backlog": (0, 1, 3), "kind": NAMED})
def stream_listen_backlog_count(k, t, backlog, kind):
    p = _proc(k)
    l = _listener(t, p, kind, backlog, flags=NB)
    for _ in range(backlog + 3):
        c = t.call(p.socket, AF_UNIX, STREAM | NB)
        t.call(p.connect, c, _name(kind))
    t.call(p.poll, [(l, ALL_EVENTS)], 0)
    for _ in range(backlog + 3):
        t.call(p.accept, l, NB)


@scenario("stream_relisten_changes_backlog")
def stream_relisten_changes_backlog(k, t):
    p = _proc(k)
    l = _listener(t, p, "filesystem", 1)
    for _ in range(3):
        t.call(p.connect, t.call(p.socket, AF_UNIX, STREAM | NB), "/tmp/srv")
    t.call(p.listen, l, 3)
    for _ in range(3):
        t.call(p.connect, t.call(p.socket, AF_UNIX, STREAM | NB), "/tmp/srv")
    t.call(p.listen, l, 0)
    t.call(p.connect, t.call(p.socket, AF_UNIX, STREAM | NB), "/tmp/srv")
    t.call(p.getsockopt, l, SOL, socket.SO_ACCEPTCONN)


# ================================================================ accept

@scenario("stream_accept_not_listening")
def stream_accept_not_listening(k, t):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM | NB)
    t.call(p.accept, fd)
    t.call(p.bind, fd, "/tmp/x")
    t.call(p.accept, fd)
    a, b = _pair(k, p, "socketpair", True)
    t.call(p.accept, a)
    t.call(p.accept, fd, 0x4000)
    d = t.call(p.socket, AF_UNIX, DGRAM | NB)
    t.call(p.accept, d)


@scenario("stream_accept_nonblocking_empty")
def stream_accept_nonblocking_empty(k, t):
    p = _proc(k)
    l = _listener(t, p, flags=NB)
    t.call(p.accept, l)
    t.call(p.accept, l, NB)
    t.call(p.accept, l, 0x12345)


@scenario("stream_accept4_flags", params={"flags": (0, NB, CE, NB | CE)})
def stream_accept4_flags(k, t, flags):
    p = _proc(k)
    l = _listener(t, p)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, "/tmp/srv")
    n = t.call(p.accept, l, flags)
    n = n and n[0]
    t.call(p.fcntl, n, fcntl.F_GETFL)
    t.call(p.fcntl, n, fcntl.F_GETFD)
    t.call(p.recv, n, 10, socket.MSG_DONTWAIT)
    t.call(p.fcntl, l, fcntl.F_GETFL)


@scenario("stream_accept_addresses", params={"kind": NAMED, "client_bound": (False, True)})
def stream_accept_addresses(k, t, kind, client_bound):
    p = _proc(k)
    l = _listener(t, p, kind)
    c = t.call(p.socket, AF_UNIX, STREAM)
    if client_bound:
        t.call(p.bind, c, _name(kind, "cli"))
    t.call(p.connect, c, _name(kind))
    n = t.call(p.accept, l)
    n = n and n[0]
    for fd in (c, n, l):
        t.call(p.getsockname, fd)
        t.call(p.getpeername, fd)
    t.call(p.send, n, b"hi")
    t.call(p.recvfrom, c, 10)
    t.call(p.send, c, b"yo")
    t.call(p.recvfrom, n, 10)


@scenario("stream_accept_order_fifo")
def stream_accept_order_fifo(k, t):
    p = _proc(k)
    l = _listener(t, p)
    for i in range(3):
        c = t.call(p.socket, AF_UNIX, STREAM)
        t.call(p.bind, c, f"/tmp/c{i}")
        t.call(p.connect, c, "/tmp/srv")
    for _ in range(3):
        t.call(p.accept, l)


# =============================================================== connect

@scenario("stream_connect_enoent_and_refused")
def stream_connect_enoent_and_refused(k, t):
    p = _proc(k)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, "/tmp/nope")
    t.call(p.connect, c, "/nodir/nope")
    t.call(p.connect, c, b"\0nope")
    t.call(p.connect, c, "")
    t.call(p.connect, c, "/tmp/" + "x" * 104)
    t.call(p.getpeername, c)


@scenario("stream_connect_not_listening", params={"kind": NAMED})
def stream_connect_not_listening(k, t, kind):
    p = _proc(k)
    s = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, s, _name(kind))
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, _name(kind))
    t.call(p.listen, s, 1)
    t.call(p.connect, c, _name(kind))
    t.call(p.getpeername, c)


@scenario("stream_connect_non_socket_path", needs={"ids"})   # a root-owned /dev
def stream_connect_non_socket_path(k, t):
    p = _proc(k)
    t.call(p.close, t.call(p.open, "/tmp/plain", os.O_CREAT | os.O_WRONLY, 0o666))
    t.call(p.mkdir, "/tmp/dir")
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, "/tmp/plain")
    t.call(p.connect, c, "/tmp/dir")
    t.call(p.connect, c, "/tmp/plain/sub")
    t.call(p.connect, c, "/dev")


@scenario("stream_connect_type_mismatch", params={"kind": NAMED, "other": (DGRAM, SEQPACKET)})
def stream_connect_type_mismatch(k, t, kind, other):
    p = _proc(k)
    s = t.call(p.socket, AF_UNIX, other)
    t.call(p.bind, s, _name(kind))
    if other == SEQPACKET:
        t.call(p.listen, s, 1)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, _name(kind))
    l = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, l, _name(kind, "st"))
    t.call(p.listen, l, 1)
    o = t.call(p.socket, AF_UNIX, other)
    t.call(p.connect, o, _name(kind, "st"))


@scenario("stream_connect_eisconn_and_listener", params={"kind": NAMED})
def stream_connect_eisconn_and_listener(k, t, kind):
    p = _proc(k)
    l = _listener(t, p, kind)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, _name(kind))
    t.call(p.connect, c, _name(kind))
    t.call(p.connect, c, _name(kind, "missing"))
    a, b = _pair(k, p)
    t.call(p.connect, a, _name(kind))
    t.call(p.connect, l, _name(kind))
    l2 = _listener(t, p, kind, tag="two")
    t.call(p.connect, l2, _name(kind))
    t.call(p.connect, c, None)


@scenario("stream_connect_nonblocking_backlog_full", params={"kind": NAMED})
def stream_connect_nonblocking_backlog_full(k, t, kind):
    p = _proc(k)
    l = _listener(t, p, kind, 1)
    cs = [t.call(p.socket, AF_UNIX, STREAM | NB) for _ in range(4)]
    for c in cs:
        t.call(p.connect, c, _name(kind))
    t.call(p.poll, [(c, ALL_EVENTS) for c in cs], 0)
    t.call(p.accept, l)
    t.call(p.connect, cs[3], _name(kind))
    t.call(p.connect, cs[3], _name(kind))
    t.call(p.getpeername, cs[2])
    t.call(p.getpeername, cs[3])


@scenario("stream_connect_blocks_until_accept", params={"kind": NAMED})
def stream_connect_blocks_until_accept(k, t, kind):
    p = _proc(k)
    l = _listener(t, p, kind, 0)
    c1 = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c1, _name(kind))
    c2 = t.call(p.socket, AF_UNIX, STREAM)
    bg = Background(k, p.connect, c2, _name(kind))
    bg.blocked(t, "second connect blocked")
    t.call(p.accept, l)
    bg.result(t, "second connect")
    t.call(p.getpeername, c2)
    t.call(p.accept, l)


@scenario("stream_connect_sndtimeo_backlog_full")
def stream_connect_sndtimeo_backlog_full(k, t):
    p = _proc(k)
    _listener(t, p, "filesystem", 0)
    t.call(p.connect, t.call(p.socket, AF_UNIX, STREAM), "/tmp/srv")
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.setsockopt, c, SOL, socket.SO_SNDTIMEO, TIMEVAL.pack(0, 50000))
    t.call(p.connect, c, "/tmp/srv")
    t.call(p.getpeername, c)


@scenario("stream_connect_completes_before_accept", params={"kind": NAMED}, needs={"ids"})
def stream_connect_completes_before_accept(k, t, kind):
    p = _proc(k)
    srv = k.spawn(uid=2000, gid=2000, umask=0)
    l = t.call(srv.socket, AF_UNIX, STREAM | NB)
    t.call(srv.bind, l, _name(kind))
    t.call(srv.listen, l, 4)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, _name(kind))
    t.call(p.getpeername, c)
    t.call(p.getsockopt, c, SOL, socket.SO_PEERCRED, 12)
    t.call(p.send, c, b"early data")
    t.call(p.ioctl, c, SIOCOUTQ)
    t.call(p.poll, [(c, ALL_EVENTS)], 0)
    t.call(p.shutdown, c, socket.SHUT_WR)
    n = t.call(srv.accept, l)
    n = n and n[0]
    t.call(srv.getsockopt, n, SOL, socket.SO_PEERCRED, 12)
    t.call(srv.ioctl, n, FIONREAD)
    t.call(srv.recv, n, 100)
    t.call(srv.recv, n, 100)


@scenario("stream_connect_passcred_autobinds")
def stream_connect_passcred_autobinds(k, t):
    p = _proc(k)
    l = _listener(t, p, "abstract")
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.setsockopt, c, SOL, socket.SO_PASSCRED, 1)
    t.call(p.connect, c, b"\0srv")
    t.call(p.getsockname, c)
    n = t.call(p.accept, l)
    t.call(p.getpeername, n and n[0])
    c2 = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c2, b"\0srv")
    t.call(p.getsockname, c2)


# ================================================================== data

@scenario("stream_send_recv_basic", params=BLOCKING)
def stream_send_recv_basic(k, t, kind, nonblock):
    p = _proc(k)
    a, b = _pair(k, p, kind, nonblock)
    t.call(p.send, a, b"hello ")
    t.call(p.send, a, b"world")
    t.call(p.recv, b, 3)
    t.call(p.recv, b, 100)
    t.call(p.send, b, bytearray(b"back"))
    t.call(p.send, b, memoryview(b"-and-forth"))
    t.call(p.recvfrom, a, 6)
    t.call(p.recvfrom, a, 100)
    t.call(p.recv, a, 10, socket.MSG_DONTWAIT)


@scenario("stream_recv_into_variants")
def stream_recv_into_variants(k, t, kind="socketpair"):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    t.call(p.send, a, b"0123456789abcdef")
    buf = bytearray(8)
    t.call(p.recv_into, b, buf)
    t.note("buf", bytes(buf))
    buf = bytearray(8)
    t.call(p.recv_into, b, buf, 3)
    t.note("buf", bytes(buf))
    t.call(p.recv_into, b, bytearray(4), 10)
    t.call(p.recv_into, b, bytearray(4), -1)
    t.call(p.recv_into, b, b"readonly")
    buf = bytearray(20)
    t.call(p.recv_into, b, buf, 0, socket.MSG_PEEK)
    t.note("buf", bytes(buf))
    t.call(p.recv_into, b, buf)
    t.note("buf", bytes(buf))


@scenario("stream_recv_sizes")
def stream_recv_sizes(k, t, nonblock=False):
    p = _proc(k)
    a, b = _pair(k, p, "socketpair", nonblock)
    t.call(p.recv, b, -1)
    t.call(p.recv, b, 0, socket.MSG_DONTWAIT)
    t.call(p.send, a, b"abc")
    t.call(p.recv, b, 0)
    t.call(p.recv, b, 1 << 30)


@scenario("stream_recv_empty_would_block", params={"kind": PAIR_KINDS, "how": ("nonblock", "dontwait")})
def stream_recv_empty_would_block(k, t, kind, how):
    p = _proc(k)
    a, b = _pair(k, p, kind, how == "nonblock")
    flags = socket.MSG_DONTWAIT if how == "dontwait" else 0
    t.call(p.recv, b, 10, flags)
    t.call(p.recvfrom, b, 10, flags)
    t.call(p.recv_into, b, bytearray(4), 0, flags)
    t.call(p.recvmsg, b, 10, 0, flags)


@scenario("stream_msg_peek", params={"kind": PAIR_KINDS})
def stream_msg_peek(k, t, kind):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    t.call(p.send, a, b"abc")
    t.call(p.send, a, b"defg")
    t.call(p.recv, b, 2, socket.MSG_PEEK)
    t.call(p.recv, b, 100, socket.MSG_PEEK)
    t.call(p.recvfrom, b, 100, socket.MSG_PEEK)
    t.call(p.recv, b, 1)
    t.call(p.recv, b, 100, socket.MSG_PEEK)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100, socket.MSG_PEEK | socket.MSG_DONTWAIT)


@scenario("stream_msg_waitall", params={"kind": PAIR_KINDS})
def stream_msg_waitall(k, t, kind):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    t.call(p.send, a, b"12345")
    bg = Background(k, p.recv, b, 12, socket.MSG_WAITALL)
    bg.blocked(t, "waitall recv blocked")
    t.call(p.send, a, b"6789")
    bg.blocked(t, "still blocked after 9 bytes", 0.1)
    t.call(p.send, a, b"abcdef")
    bg.result(t, "waitall recv")
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 10, socket.MSG_WAITALL | socket.MSG_DONTWAIT)
    t.call(p.send, a, b"xy")
    t.call(p.recv, b, 10, socket.MSG_WAITALL | socket.MSG_DONTWAIT)
    t.call(p.send, a, b"tail")
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.recv, b, 10, socket.MSG_WAITALL)


@scenario("stream_msg_waitall_peer_closes")
def stream_msg_waitall_peer_closes(k, t):
    p = _proc(k)
    a, b = _pair(k, p)
    t.call(p.send, a, b"part")
    bg = Background(k, p.recv, b, 100, socket.MSG_WAITALL)
    bg.blocked(t)
    t.call(p.close, a)
    bg.result(t, "waitall recv")
    t.call(p.recv, b, 100)


@scenario("stream_msg_trunc_ignored")
def stream_msg_trunc_ignored(k, t, kind="socketpair"):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    t.call(p.send, a, b"0123456789")
    t.call(p.recv, b, 4, socket.MSG_TRUNC)
    t.call(p.recvmsg, b, 3, 0, socket.MSG_TRUNC)
    t.call(p.recvmsg, b, 100, 0, socket.MSG_TRUNC | socket.MSG_PEEK)
    t.call(p.recv, b, 100)


@scenario("stream_send_empty", params={"kind": PAIR_KINDS})
def stream_send_empty(k, t, kind):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    t.call(p.send, a, b"")
    t.call(p.poll, [(b, ALL_EVENTS)], 0)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.recv, b, 10, socket.MSG_DONTWAIT)
    t.call(p.sendmsg, a, [])
    t.call(p.sendmsg, a, [b"", b"x", b""])
    t.call(p.recv, b, 10)
    t.call(p.close, b)
    t.call(p.send, a, b"")
    _pending(t, p)
    t.call(p.send, a, b"z")
    _pending(t, p)


@scenario("stream_unconnected_data_calls")
def stream_unconnected_data_calls(k, t):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM | NB)
    t.call(p.send, fd, b"x")
    t.call(p.recv, fd, 10)
    t.call(p.recvfrom, fd, 10)
    t.call(p.sendmsg, fd, [b"x"])
    _pending(t, p)
    l = _listener(t, p, flags=NB)
    t.call(p.send, l, b"x")
    t.call(p.recv, l, 10)
    t.call(p.send, l, b"")


@scenario("stream_sendto_errors", params={"kind": PAIR_KINDS})
def stream_sendto_errors(k, t, kind):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    _listener(t, p, "filesystem", tag="other")
    t.call(p.sendto, a, b"x", "/tmp/other")
    t.call(p.sendto, a, b"x", "/tmp/missing")
    t.call(p.sendto, a, b"x", b"\0missing")
    t.call(p.sendmsg, a, [b"x"], (), 0, "/tmp/other")
    u = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.sendto, u, b"x", "/tmp/other")
    t.call(p.sendto, u, b"x", "/tmp/missing")
    t.call(p.sendmsg, u, [b"x"], (), 0, "/tmp/other")
    t.call(p.recv, b, 10, socket.MSG_DONTWAIT)
    _pending(t, p)


@scenario("stream_data_order_many_sends")
def stream_data_order_many_sends(k, t, kind="socketpair"):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    blob = bytes(range(256)) * 40
    for i in range(0, len(blob), 997):
        t.call(p.send, a, blob[i:i + 997])
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.recv, b, 5000)
    t.call(p.recv, b, 3000)
    t.call(p.recv, b, 100000)


# ============================================================== shutdown

@scenario("stream_shutdown_wr", params={"kind": PAIR_KINDS})
def stream_shutdown_wr(k, t, kind, nonblock=False):
    p = _proc(k)
    a, b = _pair(k, p, kind, nonblock)
    t.call(p.send, a, b"last words")
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.send, a, b"more")
    _pending(t, p)
    t.call(p.send, a, b"more", socket.MSG_NOSIGNAL)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.send, b, b"reply")
    t.call(p.recv, a, 100)
    t.call(p.poll, [(a, ALL_EVENTS), (b, ALL_EVENTS)], 0)


@scenario("stream_shutdown_rd", params={"kind": PAIR_KINDS})
def stream_shutdown_rd(k, t, kind, nonblock=False):
    p = _proc(k)
    a, b = _pair(k, p, kind, nonblock)
    t.call(p.send, a, b"queued")
    t.call(p.shutdown, b, socket.SHUT_RD)
    t.call(p.recv, b, 3)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.send, a, b"after")
    _pending(t, p)
    t.call(p.send, b, b"still can write")
    t.call(p.recv, a, 100)
    t.call(p.poll, [(a, ALL_EVENTS), (b, ALL_EVENTS)], 0)


@scenario("stream_shutdown_rdwr", params={"kind": PAIR_KINDS})
def stream_shutdown_rdwr(k, t, kind, nonblock=False):
    p = _proc(k)
    a, b = _pair(k, p, kind, nonblock)
    t.call(p.send, b, b"pending")
    t.call(p.shutdown, a, socket.SHUT_RDWR)
    t.call(p.poll, [(a, ALL_EVENTS), (b, ALL_EVENTS)], 0)
    t.call(p.recv, a, 100)
    t.call(p.recv, a, 100)
    t.call(p.send, a, b"x", socket.MSG_NOSIGNAL)
    _pending(t, p)
    t.call(p.send, b, b"x")
    _pending(t, p)
    t.call(p.recv, b, 100)
    t.call(p.getpeername, a)
    t.call(p.getpeername, b)
    t.call(p.shutdown, a, socket.SHUT_RDWR)


@scenario("stream_shutdown_args_and_states")
def stream_shutdown_args_and_states(k, t):
    p = _proc(k)
    a, b = _pair(k, p)
    for how in (-1, 3, 100):
        t.call(p.shutdown, a, how)
    u = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.shutdown, u, socket.SHUT_RDWR)
    t.call(p.poll, [(u, ALL_EVENTS)], 0)
    t.call(p.send, u, b"x", socket.MSG_NOSIGNAL)
    l = _listener(t, p)
    t.call(p.shutdown, l, socket.SHUT_RD)
    t.call(p.poll, [(l, ALL_EVENTS)], 0)
    c = t.call(p.socket, AF_UNIX, STREAM | NB)
    t.call(p.connect, c, "/tmp/srv")
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.shutdown, a, socket.SHUT_RD)
    t.call(p.poll, [(a, ALL_EVENTS), (b, ALL_EVENTS)], 0)


@scenario("stream_blocked_recv_woken", params={"by": ("send", "shutdown_wr", "shutdown_rd", "close")})
def stream_blocked_recv_woken(k, t, by):
    p = _proc(k)
    a, b = _pair(k, p)
    bg = Background(k, p.recv, b, 100)
    bg.blocked(t)
    if by == "send":
        t.call(p.send, a, b"wake")
    elif by == "shutdown_wr":
        t.call(p.shutdown, a, socket.SHUT_WR)
    elif by == "shutdown_rd":
        t.call(p.shutdown, b, socket.SHUT_RD)
    else:
        t.call(p.close, a)
    bg.result(t, "recv")


@scenario("stream_epipe_and_sigpipe", params={"how": ("close", "shut_rd", "shut_wr")})
def stream_epipe_and_sigpipe(k, t, how, kind="socketpair"):
    p = _proc(k)
    q = p.fork()
    a, b = _pair(k, p, kind)
    _cut(t, p, a, b, how)
    t.call(p.send, a, b"x", socket.MSG_NOSIGNAL)
    _pending(t, p)
    t.call(p.sendmsg, a, [b"x"], (), socket.MSG_NOSIGNAL)
    _pending(t, p)
    t.call(p.send, a, b"x")
    _pending(t, p)
    _pending(t, q, "other process pending_signals")
    t.call(p.send, a, b"y")
    _pending(t, p)


# ================================================================ resets

@scenario("stream_econnreset_unread_data", params={"kind": PAIR_KINDS, "first": ("recv", "send", "so_error", "poll")})
def stream_econnreset_unread_data(k, t, kind, first):
    p = _proc(k)
    a, b = _pair(k, p, kind, True)
    t.call(p.send, a, b"never read")
    t.call(p.close, b)
    if first == "recv":
        t.call(p.recv, a, 100)
    elif first == "send":
        t.call(p.send, a, b"x", socket.MSG_NOSIGNAL)
    elif first == "so_error":
        t.call(p.getsockopt, a, SOL, socket.SO_ERROR)
    else:
        t.call(p.poll, [(a, ALL_EVENTS)], 0)
    t.call(p.recv, a, 100)
    t.call(p.poll, [(a, ALL_EVENTS)], 0)
    t.call(p.getsockopt, a, SOL, socket.SO_ERROR)
    t.call(p.send, a, b"x", socket.MSG_NOSIGNAL)
    t.call(p.getpeername, a)


@scenario("stream_econnreset_survivor_has_data")
def stream_econnreset_survivor_has_data(k, t):
    p = _proc(k)
    a, b = _pair(k, p, "socketpair", True)
    t.call(p.send, b, b"to a")
    t.call(p.send, a, b"to b")
    t.call(p.close, b)
    t.call(p.ioctl, a, FIONREAD)
    t.call(p.recv, a, 100)
    t.call(p.recv, a, 100)
    t.call(p.recv, a, 100)


@scenario("stream_close_without_unread_is_eof", params={"kind": PAIR_KINDS})
def stream_close_without_unread_is_eof(k, t, kind):
    p = _proc(k)
    a, b = _pair(k, p, kind, True)
    t.call(p.send, b, b"bye")
    t.call(p.close, b)
    t.call(p.poll, [(a, ALL_EVENTS)], 0)
    t.call(p.getsockopt, a, SOL, socket.SO_ERROR)
    t.call(p.recv, a, 100)
    t.call(p.recv, a, 100)
    t.call(p.getpeername, a)
    t.call(p.getsockname, a)


@scenario("stream_econnreset_listener_closed", params={"kind": NAMED, "client_sent": (False, True)})
def stream_econnreset_listener_closed(k, t, kind, client_sent):
    p = _proc(k)
    l = _listener(t, p, kind)
    c = t.call(p.socket, AF_UNIX, STREAM | NB)
    t.call(p.connect, c, _name(kind))
    if client_sent:
        t.call(p.send, c, b"lost")
    t.call(p.close, l)
    t.call(p.poll, [(c, ALL_EVENTS)], 0)
    t.call(p.recv, c, 100)
    t.call(p.recv, c, 100)
    t.call(p.send, c, b"x", socket.MSG_NOSIGNAL)
    t.call(p.getsockopt, c, SOL, socket.SO_ERROR)
    t.call(p.getpeername, c)


@scenario("stream_dup_and_fork_keep_socket_open")
def stream_dup_and_fork_keep_socket_open(k, t):
    p = _proc(k)
    a, b = _pair(k, p)
    d = t.call(p.dup, b)
    t.call(p.close, b)
    t.call(p.send, a, b"via dup")
    t.call(p.recv, d, 100)
    q = p.fork()
    t.call(p.close, d)
    t.call(p.send, a, b"via fork")
    t.call(q.recv, d, 100)
    t.call(q.exit)
    t.call(p.poll, [(a, ALL_EVENTS)], 0)
    t.call(p.recv, a, 10)


# ================================================================= names

@scenario("stream_getname_states")
def stream_getname_states(k, t):
    p = _proc(k)
    u = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.getsockname, u)
    t.call(p.getpeername, u)
    l = _listener(t, p, "filesystem")
    t.call(p.getpeername, l)
    t.call(p.getsockname, l)
    t.call(p.getsockname, 99)
    fd = t.call(p.open, "/tmp/f", os.O_CREAT | os.O_RDWR)
    t.call(p.getsockname, fd)
    t.call(p.getpeername, fd)
    t.call(p.send, fd, b"x")
    t.call(p.getsockopt, fd, SOL, socket.SO_TYPE)
    t.call(p.ioctl, fd, FIONREAD)


# =============================================================== options

@scenario("stream_sockopt_identity", params={"state": ("fresh", "listening", "connected", "accepted")})
def stream_sockopt_identity(k, t, state):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM)
    if state == "listening":
        t.call(p.bind, fd, "/tmp/s")
        t.call(p.listen, fd, 1)
    elif state in ("connected", "accepted"):
        l = _listener(t, p)
        t.call(p.connect, fd, "/tmp/srv")
        if state == "accepted":
            fd = (t.call(p.accept, l) or (None,))[0]
    for opt in (socket.SO_TYPE, socket.SO_DOMAIN, socket.SO_PROTOCOL, socket.SO_ACCEPTCONN,
                socket.SO_ERROR, socket.SO_PASSCRED, socket.SO_RCVLOWAT, socket.SO_SNDLOWAT):
        t.call(p.getsockopt, fd, SOL, opt)
    t.call(p.getsockopt, fd, SOL, socket.SO_TYPE, 8)
    t.call(p.getsockopt, fd, SOL, socket.SO_PEERCRED, 12)
    for opt in (socket.SO_TYPE, socket.SO_DOMAIN, socket.SO_PROTOCOL,
                socket.SO_ACCEPTCONN, socket.SO_ERROR, socket.SO_PEERCRED):
        t.call(p.setsockopt, fd, SOL, opt, 1)


@scenario("stream_sockopt_unknown_and_levels")
def stream_sockopt_unknown_and_levels(k, t):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.getsockopt, fd, SOL, 9999)
    t.call(p.setsockopt, fd, SOL, 9999, 1)
    t.call(p.getsockopt, fd, 0, 1)
    t.call(p.setsockopt, fd, 0, 1, 1)
    t.call(p.getsockopt, fd, 1234, 1)
    t.call(p.setsockopt, fd, 1234, 1, 1)
    t.call(p.setsockopt, fd, SOL, socket.SO_SNDBUF, b"\1\0")
    t.call(p.setsockopt, fd, SOL, socket.SO_SNDBUF, b"\0\0\1\0\0\0\0\0")
    t.call(p.getsockopt, fd, SOL, socket.SO_SNDBUF)
    t.call(p.setsockopt, fd, SOL, socket.SO_SNDLOWAT, 100)


@scenario("stream_sockopt_bufsize", params={
    "opt": (socket.SO_SNDBUF, socket.SO_RCVBUF),
    "value": (-1, 0, 1, 1000, 2304, 2305, 4608, 100000, 212992, 2097152, 2097153, 5000000, 2**31 - 1)})
def stream_sockopt_bufsize(k, t, opt, value):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.getsockopt, fd, SOL, opt)
    t.call(p.setsockopt, fd, SOL, opt, value)
    t.call(p.getsockopt, fd, SOL, opt)
    t.call(p.getsockopt, fd, SOL, opt, 4)


@scenario("stream_sockopt_bufsize_inherited_on_accept")
def stream_sockopt_bufsize_inherited_on_accept(k, t):
    p = _proc(k)
    l = _listener(t, p)
    t.call(p.setsockopt, l, SOL, socket.SO_SNDBUF, 50000)
    t.call(p.setsockopt, l, SOL, socket.SO_RCVBUF, 60000)
    t.call(p.setsockopt, l, SOL, socket.SO_PASSCRED, 1)
    t.call(p.setsockopt, l, SOL, socket.SO_RCVTIMEO, TIMEVAL.pack(1, 0))
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, "/tmp/srv")
    n = (t.call(p.accept, l) or (None,))[0]
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF, socket.SO_PASSCRED):
        t.call(p.getsockopt, n, SOL, opt)
    t.call(p.getsockopt, n, SOL, socket.SO_RCVTIMEO, 16)


@scenario("stream_sockopt_timeo", params={"opt": (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO)})
def stream_sockopt_timeo(k, t, opt):
    p = _proc(k)
    fd = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.getsockopt, fd, SOL, opt, 16)
    for sec, usec in ((1, 0), (0, 1), (0, 3999), (0, 4000), (0, 4001), (2, 500000),
                      (0, 999999), (12345, 678901), (0, 0), (-1, 0), (-5, 10),
                      (0, 1000000), (0, -1), (1, 2000000)):
        t.call(p.setsockopt, fd, SOL, opt, TIMEVAL.pack(sec, usec))
        t.call(p.getsockopt, fd, SOL, opt, 16)
    t.call(p.setsockopt, fd, SOL, opt, TIMEVAL.pack(3, 0))
    t.call(p.getsockopt, fd, SOL, opt)
    t.call(p.getsockopt, fd, SOL, opt, 8)
    t.call(p.getsockopt, fd, SOL, opt, 32)
    t.call(p.setsockopt, fd, SOL, opt, 5)
    t.call(p.setsockopt, fd, SOL, opt, b"\0" * 8)
    t.call(p.setsockopt, fd, SOL, opt, TIMEVAL.pack(7, 0) + b"junk")
    t.call(p.getsockopt, fd, SOL, opt, 16)


@scenario("stream_rcvtimeo_eagain", params={"kind": PAIR_KINDS})
def stream_rcvtimeo_eagain(k, t, kind):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    t.call(p.setsockopt, b, SOL, socket.SO_RCVTIMEO, TIMEVAL.pack(0, 60000))
    start = time.monotonic()
    t.call(p.recv, b, 10)
    t.note("waited at least 40ms", time.monotonic() - start >= 0.04)
    t.call(p.recv, b, 10, socket.MSG_WAITALL)
    t.call(p.send, a, b"abc")
    t.call(p.recv, b, 10, socket.MSG_WAITALL)
    t.call(p.recvfrom, b, 10)


@scenario("stream_accept_rcvtimeo_eagain")
def stream_accept_rcvtimeo_eagain(k, t):
    p = _proc(k)
    l = _listener(t, p)
    t.call(p.setsockopt, l, SOL, socket.SO_RCVTIMEO, TIMEVAL.pack(0, 50000))
    t.call(p.accept, l)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, "/tmp/srv")
    n = t.call(p.accept, l)
    t.note("accepted", n is not None)


@scenario("stream_blocked_accept_woken_by_connect")
def stream_blocked_accept_woken_by_connect(k, t):
    p = _proc(k)
    l = _listener(t, p)
    bg = Background(k, p.accept, l)
    bg.blocked(t)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, "/tmp/srv")
    bg.result(t, "accept")


@scenario("stream_sockopt_rcvlowat")
def stream_sockopt_rcvlowat(k, t):
    p = _proc(k)
    a, b = _pair(k, p)
    for v in (0, 1, 5, -1, 2**31 - 1):
        t.call(p.setsockopt, b, SOL, socket.SO_RCVLOWAT, v)
        t.call(p.getsockopt, b, SOL, socket.SO_RCVLOWAT)
    t.call(p.setsockopt, b, SOL, socket.SO_RCVLOWAT, 5)
    t.call(p.send, a, b"abc")
    t.call(p.poll, [(b, ALL_EVENTS)], 0)
    t.call(p.recv, b, 10, socket.MSG_DONTWAIT)
    t.call(p.send, a, b"abc")
    bg = Background(k, p.recv, b, 10)
    bg.blocked(t, "recv with 3 of 5 bytes blocked", 0.2)
    t.call(p.send, a, b"de")
    bg.result(t, "recv")


@scenario("stream_sockopt_passcred")
def stream_sockopt_passcred(k, t):
    p = _proc(k)
    a, b = _pair(k, p)
    for v in (1, 0, 5, -1):
        t.call(p.setsockopt, a, SOL, socket.SO_PASSCRED, v)
        t.call(p.getsockopt, a, SOL, socket.SO_PASSCRED)
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 1)
    t.call(p.send, a, b"data")
    t.call(p.recvmsg, b, 100, 256)
    t.call(p.getsockname, a)


@scenario("stream_sockopt_peercred", params={"kind": PAIR_KINDS}, needs={"ids"})
def stream_sockopt_peercred(k, t, kind):
    srv = k.spawn(uid=1000, gid=1001, umask=0)
    cli = k.spawn(uid=2000, gid=2001)
    u = t.call(cli.socket, AF_UNIX, STREAM)
    t.call(cli.getsockopt, u, SOL, socket.SO_PEERCRED, 12)
    t.call(cli.getsockopt, u, SOL, socket.SO_PEERCRED)
    if kind == "socketpair":
        a, b = t.call(srv.socketpair, AF_UNIX, STREAM)
        t.call(srv.getsockopt, a, SOL, socket.SO_PEERCRED, 12)
        t.call(srv.getsockopt, b, SOL, socket.SO_PEERCRED, 12)
        return
    l = t.call(srv.socket, AF_UNIX, STREAM | NB)
    t.call(srv.bind, l, _name(kind))
    t.call(srv.getsockopt, l, SOL, socket.SO_PEERCRED, 12)
    t.call(srv.listen, l, 2)
    t.call(srv.getsockopt, l, SOL, socket.SO_PEERCRED, 12)
    t.call(cli.connect, u, _name(kind))
    t.call(cli.getsockopt, u, SOL, socket.SO_PEERCRED, 12)
    n = (t.call(srv.accept, l) or (None,))[0]
    t.call(srv.getsockopt, n, SOL, socket.SO_PEERCRED, 12)
    t.call(srv.getsockopt, n, SOL, socket.SO_PEERCRED, 64)
    t.call(cli.close, u)
    t.call(srv.getsockopt, n, SOL, socket.SO_PEERCRED, 12)


# ================================================================== poll

_POLL_STATES = ("fresh", "bound", "listening", "listening_pending", "connected_idle",
                "readable", "peer_shut_wr", "self_shut_wr", "self_shut_rd", "peer_shut_rd",
                "both_shut", "peer_closed", "peer_closed_unread", "sndbuf_full",
                "closed_fd", "negative_fd", "never_accepted_listener_closed")


@scenario("stream_poll_revents", params={"state": _POLL_STATES, "events": (ALL_EVENTS, EVERY_EVENT, 0)})
def stream_poll_revents(k, t, state, events):
    p = _proc(k)
    if state in ("fresh", "bound", "listening", "listening_pending",
                 "never_accepted_listener_closed", "closed_fd", "negative_fd"):
        fd = t.call(p.socket, AF_UNIX, STREAM | NB)
        if state != "fresh":
            t.call(p.bind, fd, "/tmp/s")
        if state in ("listening", "listening_pending", "never_accepted_listener_closed"):
            t.call(p.listen, fd, 5)
        if state in ("listening_pending", "never_accepted_listener_closed"):
            c = t.call(p.socket, AF_UNIX, STREAM | NB)
            t.call(p.connect, c, "/tmp/s")
            t.call(p.poll, [(c, events)], 0)
            if state == "never_accepted_listener_closed":
                t.call(p.close, fd)
                fd = c
        if state == "closed_fd":
            t.call(p.close, fd)
        if state == "negative_fd":
            fd = -1
        t.call(p.poll, [(fd, events)], 0)
        return
    a, b = _pair(k, p, "filesystem", True)
    if state == "readable":
        t.call(p.send, b, b"data")
    elif state == "peer_shut_wr":
        t.call(p.shutdown, b, socket.SHUT_WR)
    elif state == "self_shut_wr":
        t.call(p.shutdown, a, socket.SHUT_WR)
    elif state == "self_shut_rd":
        t.call(p.shutdown, a, socket.SHUT_RD)
    elif state == "peer_shut_rd":
        t.call(p.shutdown, b, socket.SHUT_RD)
    elif state == "both_shut":
        t.call(p.shutdown, a, socket.SHUT_WR)
        t.call(p.shutdown, b, socket.SHUT_WR)
    elif state == "peer_closed":
        t.call(p.close, b)
    elif state == "peer_closed_unread":
        t.call(p.send, a, b"unread")
        t.call(p.close, b)
    elif state == "sndbuf_full":
        t.step("fill", _fill, p, a)
    t.call(p.poll, [(a, events)], 0)
    if state not in ("peer_closed", "peer_closed_unread"):
        t.call(p.poll, [(b, events)], 0)


@scenario("stream_poll_many_and_timeout")
def stream_poll_many_and_timeout(k, t):
    p = _proc(k)
    a, b = _pair(k, p)
    c, d = _pair(k, p)
    t.call(p.poll, [(a, POLLIN), (b, POLLIN), (c, POLLIN), (d, POLLIN)], 0)
    t.call(p.poll, [(a, POLLIN)], 50)
    t.call(p.poll, [], 0)
    t.call(p.send, c, b"x")
    t.call(p.poll, [(a, POLLIN), (b, POLLIN), (c, POLLIN), (d, POLLIN), (a, POLLOUT), (77, POLLIN)], None)
    t.call(p.poll, [(d, POLLIN), (d, POLLOUT | POLLIN)], -1)


@scenario("stream_poll_wakeup", params={"by": ("send", "shutdown", "close", "connect", "drain")})
def stream_poll_wakeup(k, t, by):
    p = _proc(k)
    if by == "connect":
        l = _listener(t, p)
        bg = Background(k, p.poll, [(l, POLLIN)], 5000)
        bg.blocked(t)
        t.call(p.connect, t.call(p.socket, AF_UNIX, STREAM), "/tmp/srv")
        bg.result(t, "poll")
        return
    a, b = _pair(k, p, "socketpair", True)
    if by == "drain":
        t.step("fill", _fill, p, a)
        bg = Background(k, p.poll, [(a, POLLOUT)], 5000)
        bg.blocked(t)
        t.step("drain", _drain, p, b, 8192)
        bg.blocked(t, "still blocked after a small read", 0.1)
        t.step("drain", _drain, p, b, 200000)
    else:
        bg = Background(k, p.poll, [(b, POLLIN | POLLRDHUP)], 5000)
        bg.blocked(t)
        if by == "send":
            t.call(p.send, a, b"wake")
        elif by == "shutdown":
            t.call(p.shutdown, a, socket.SHUT_WR)
        else:
            t.call(p.close, a)
    bg.result(t, "poll")


# ================================================================= ioctl

@scenario("stream_ioctl_queues")
def stream_ioctl_queues(k, t, kind="socketpair"):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    t.call(p.ioctl, a, FIONREAD)
    t.call(p.ioctl, a, SIOCOUTQ)
    for n in (1, 100, 5000, 70000):
        t.call(p.send, a, b"z" * n)
        t.call(p.ioctl, b, FIONREAD)
        t.call(p.ioctl, a, SIOCOUTQ)
    t.call(p.recv, b, 50)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.ioctl, a, SIOCOUTQ)
    t.call(p.recv, b, 1000000)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.ioctl, a, SIOCOUTQ)
    t.call(p.ioctl, a, SIOCATMARK)


@scenario("stream_ioctl_other_states")
def stream_ioctl_other_states(k, t):
    p = _proc(k)
    u = t.call(p.socket, AF_UNIX, STREAM)
    for req in (FIONREAD, SIOCOUTQ, SIOCATMARK, 0x5401, 0x541C):
        t.call(p.ioctl, u, req)
    l = _listener(t, p)
    t.call(p.connect, t.call(p.socket, AF_UNIX, STREAM), "/tmp/srv")
    t.call(p.ioctl, l, FIONREAD)
    t.call(p.ioctl, l, SIOCOUTQ)
    t.call(p.ioctl, 99, FIONREAD)


# ========================================================= back-pressure

@scenario("stream_sndbuf_fill_count", params={
    "size": (1, 100, 1000, 4096, 16384, 65536, 300000), "sndbuf": (0, 4608, 50000)})
def stream_sndbuf_fill_count(k, t, size, sndbuf):
    p = _proc(k)
    a, b = _pair(k, p, "socketpair", True)
    if sndbuf:
        t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, sndbuf)
    t.step("fill", _fill, p, a, size)
    t.call(p.ioctl, a, SIOCOUTQ)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.send, a, b"x")
    t.call(p.poll, [(a, POLLOUT)], 0)
    t.step("drain", _drain, p, b, p.ioctl(b, FIONREAD))
    t.call(p.ioctl, a, SIOCOUTQ)
    t.call(p.poll, [(a, POLLOUT)], 0)


@scenario("stream_sndbuf_partial_write", params={"rcvbuf": (0, 10000)})
def stream_sndbuf_partial_write(k, t, rcvbuf, kind="socketpair"):
    p = _proc(k)
    a, b = _pair(k, p, kind, True)
    if rcvbuf:
        t.call(p.setsockopt, b, SOL, socket.SO_RCVBUF, rcvbuf)
    t.call(p.send, a, b"p" * 1000000)
    t.call(p.send, a, b"q" * 1000000)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.recv, b, 100000)
    t.call(p.send, a, b"r" * 1000000)
    t.call(p.send, a, b"s" * 10)


@scenario("stream_blocking_send_waits_for_reader", params={"kind": PAIR_KINDS})
def stream_blocking_send_waits_for_reader(k, t, kind):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    total = 1 << 20
    blob = bytes(range(256)) * (total // 256)
    bg = Background(k, p.send, a, blob)
    bg.blocked(t, "send of 1 MiB blocked")
    t.step("drain", _drain, p, b, total)
    bg.result(t, "send")
    t.note("sha1", hashlib.sha1(blob).hexdigest())


@scenario("stream_sndtimeo_send")
def stream_sndtimeo_send(k, t, kind="socketpair"):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDTIMEO, TIMEVAL.pack(0, 50000))
    _nonblock(p, a)
    t.step("fill", _fill, p, a)
    p.fcntl(a, fcntl.F_SETFL, p.fcntl(a, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    t.call(p.send, a, b"x" * 1000)
    t.call(p.recv, b, 100000)
    t.call(p.send, a, b"y" * 1000000)


@scenario("stream_blocked_send_woken_by_peer_close")
def stream_blocked_send_woken_by_peer_close(k, t):
    p = _proc(k)
    a, b = _pair(k, p)
    _nonblock(p, a)
    t.step("fill", _fill, p, a)
    p.fcntl(a, fcntl.F_SETFL, p.fcntl(a, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    bg = Background(k, p.send, a, b"x" * 1000, socket.MSG_NOSIGNAL)
    bg.blocked(t)
    t.call(p.close, b)
    bg.result(t, "send")
    _pending(t, p)


@scenario("kernel_blocked_count", params={"call": (
    "recv", "accept", "connect", "send", "poll", "pipe_read", "dgram_sendto")})
def kernel_blocked_count(k, t, call):
    """``k.blocked()``: a call counts while asleep, stops counting the moment
    it is woken, and a second process's sleep counts too (on the host: threads
    of the served processes asleep in the scenario's syscalls)."""
    p = _proc(k)
    a, b = _pair(k, p)
    c2, d2 = _pair(k, p)
    q = p.fork()
    t.note("idle", k.blocked())
    if call == "recv":
        bg, wake = Background(k, p.recv, b, 10), lambda: p.send(a, b"x")
    elif call == "accept":
        l = _listener(t, p)
        c = p.socket(AF_UNIX, STREAM)
        bg, wake = Background(k, p.accept, l), lambda: p.connect(c, "/tmp/srv")
    elif call == "connect":
        l = _listener(t, p, backlog=0)
        p.connect(p.socket(AF_UNIX, STREAM), "/tmp/srv")
        c = p.socket(AF_UNIX, STREAM)
        bg, wake = Background(k, p.connect, c, "/tmp/srv"), lambda: p.accept(l)
    elif call == "send":
        _nonblock(p, a)
        t.step("fill", _fill, p, a)
        bg, wake = Background(k, p.send, a, b"y"), lambda: _drain(p, b, 233152)
    elif call == "poll":
        bg, wake = Background(k, p.poll, [(b, POLLIN)], 10000), lambda: p.shutdown(a, 1)
    elif call == "pipe_read":
        r, w = p.pipe()
        bg, wake = Background(k, p.read, r, 10), lambda: p.write(w, b"pipe")
    else:
        r = t.call(p.socket, AF_UNIX, DGRAM)
        t.call(p.bind, r, "/tmp/dg")
        s = t.call(p.socket, AF_UNIX, DGRAM)
        for _ in range(11):
            p.sendto(s, b"d", "/tmp/dg")
        bg, wake = Background(k, p.sendto, s, b"late", "/tmp/dg"), lambda: p.recv(r, 10)
    bg.blocked(t)
    t.note("one asleep", k.blocked())
    other = Background(k, q.recv, d2, 10)
    other.blocked(t, "the other process blocked")
    t.note("two asleep", k.blocked())
    t.step("wake", wake)
    t.note("after the wake", k.blocked())
    bg.result(t, call)
    t.call(p.send, c2, b"z")
    t.note("after the second wake", k.blocked())
    other.result(t, "other recv")
    t.note("at the end", k.blocked())


# ================================================================ extras

@scenario("stream_peek_off")
def stream_peek_off(k, t):
    p = _proc(k)
    a, b = _pair(k, p)
    t.call(p.getsockopt, b, SOL, SO_PEEK_OFF)
    t.call(p.send, a, b"0123456789")
    t.call(p.setsockopt, b, SOL, SO_PEEK_OFF, 0)
    t.call(p.recv, b, 3, socket.MSG_PEEK)
    t.call(p.recv, b, 3, socket.MSG_PEEK)
    t.call(p.getsockopt, b, SOL, SO_PEEK_OFF)
    t.call(p.recv, b, 2)
    t.call(p.getsockopt, b, SOL, SO_PEEK_OFF)
    t.call(p.recv, b, 100, socket.MSG_PEEK)
    t.call(p.recv, b, 100, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    t.call(p.setsockopt, b, SOL, SO_PEEK_OFF, -1)
    t.call(p.recv, b, 100, socket.MSG_PEEK)
    t.call(p.recv, b, 100)


@scenario("stream_send_flags")
def stream_send_flags(k, t):
    p = _proc(k)
    a, b = _pair(k, p)
    for flag in (socket.MSG_EOR, socket.MSG_MORE, 0x800, socket.MSG_DONTROUTE, 0x10000000):
        t.call(p.send, a, b"f", flag)
    t.call(p.recv, b, 100)
    t.call(p.recvmsg, b, 10, 0, socket.MSG_DONTWAIT | socket.MSG_CMSG_CLOEXEC)
    t.call(p.send, a, b"ab")
    t.call(p.recvmsg, b, 10, 0, socket.MSG_PEEK)
    t.call(p.recvmsg, b, 1, 0, socket.MSG_WAITALL)
    t.call(p.recvmsg, b, 10, 64)


@scenario("stream_sendmsg_iovecs")
def stream_sendmsg_iovecs(k, t, kind="socketpair"):
    p = _proc(k)
    a, b = _pair(k, p, kind)
    t.call(p.sendmsg, a, [b"a", bytearray(b"bc"), memoryview(b"def"), b"", b"g" * 5000])
    t.call(p.sendmsg, a, [b"x"] * 1024)
    t.call(p.sendmsg, a, [b"x"] * 1025)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.recvmsg_into, b, [bytearray(2), bytearray(3)])
    t.call(p.recv, b, 10000)


@scenario("stream_accept_emfile")
def stream_accept_emfile(k, t):
    p = k.spawn(uid=1000, gid=1000, rlimit_nofile=3)
    l = _listener(t, p, flags=NB)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, "/tmp/srv")
    x = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.accept, l)
    t.call(p.socketpair, AF_UNIX, STREAM)
    t.call(p.close, x)
    t.call(p.socketpair, AF_UNIX, STREAM)
    t.call(p.accept, l)
    t.call(p.accept, l)


@scenario("stream_accept_after_client_closed", params={"kind": NAMED, "client_sent": (False, True)})
def stream_accept_after_client_closed(k, t, kind, client_sent):
    p = _proc(k)
    l = _listener(t, p, kind, flags=NB)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, c, _name(kind, "cli"))
    t.call(p.connect, c, _name(kind))
    if client_sent:
        t.call(p.send, c, b"from a ghost")
    t.call(p.close, c)
    n = (t.call(p.accept, l) or (None,))[0]
    t.call(p.getpeername, n)
    t.call(p.poll, [(n, ALL_EVENTS)], 0)
    t.call(p.recv, n, 100)
    t.call(p.recv, n, 100)
    t.call(p.send, n, b"x", socket.MSG_NOSIGNAL)
    t.call(p.accept, l)


@scenario("stream_socket_emfile")
def stream_socket_emfile(k, t):
    p = k.spawn(uid=1000, gid=1000, rlimit_nofile=3)
    t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.socketpair, AF_UNIX, STREAM)
    t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.socketpair, AF_UNIX, STREAM)
    t.call(p.close, 0)
    t.call(p.socketpair, AF_UNIX, STREAM)
    t.call(p.poll, [(0, POLLIN), (1, POLLIN), (2, POLLIN)], 0)


@scenario("stream_socket_emfile_bad_protocol", params={"sotype": (STREAM, DGRAM)})
def stream_socket_emfile_bad_protocol(k, t, sotype):
    """With no fd free and a protocol AF_UNIX does not have, socket(2) fails
    EPROTONOSUPPORT (the socket is made before its fd) and socketpair(2)
    EMFILE (both fds are taken before the sockets are made)."""
    p = k.spawn(uid=1000, gid=1000, rlimit_nofile=3)
    for _ in range(3):
        t.call(p.socket, AF_UNIX, sotype)
    t.call(p.socket, AF_UNIX, sotype, 2)
    t.call(p.socketpair, AF_UNIX, sotype, 2)
    t.call(p.close, 0)
    t.call(p.socket, AF_UNIX, sotype, 2)
    t.call(p.socketpair, AF_UNIX, sotype, 2)
    t.call(p.close, 1)
    t.call(p.socketpair, AF_UNIX, sotype, 2)


@scenario("stream_sndbuf_shrink_after_fill")
def stream_sndbuf_shrink_after_fill(k, t):
    p = _proc(k)
    a, b = _pair(k, p, "socketpair", True)
    t.call(p.send, a, b"x" * 30000)
    t.call(p.poll, [(a, POLLOUT)], 0)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, 10000)
    t.call(p.poll, [(a, POLLOUT)], 0)
    t.call(p.send, a, b"y")
    t.call(p.recv, b, 100000)
    t.call(p.poll, [(a, POLLOUT)], 0)
    t.call(p.send, a, b"z" * 30000)


@scenario("stream_passcred_eof_credentials",
          params={"sotype": (STREAM, SEQPACKET), "how": ("shut_rd", "peer_close", "peer_shut_wr")},
          needs={"root"})    # the kernel's uid 0 shows as 65534 in a user namespace
def stream_passcred_eof_credentials(k, t, sotype, how):
    """At end of stream a SO_PASSCRED reader still gets SCM_CREDENTIALS --
    Linux's zeroed cookie, {0, 0, 0} -- truncated (MSG_CTRUNC) into a short
    control buffer; seqpacket's EOF carries none."""
    p = _proc(k)
    a, b = t.call(p.socketpair, AF_UNIX, sotype | NB)
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 1)
    t.call(p.send, a, b"last")
    if how == "shut_rd":
        t.call(p.shutdown, b, socket.SHUT_RD)
    elif how == "peer_close":
        t.call(p.close, a)
    else:
        t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.recvmsg, b, 10, 64)
    for bufsize, anc in ((10, 64), (0, 64), (10, 16), (10, 0), (0, 16)):
        t.call(p.recvmsg, b, bufsize, anc)
    t.call(p.recv_fds, b, 10, 0)
    t.call(p.recv_fds, b, 10, 2)
