"""Behaviours common to every AF_UNIX socket type, in the manner of gVisor's
socket_unix_pair / socket_unix_non_stream / socket_generic suites: naming,
identity and buffer options, shutdown and close seen from both ends, zero
length and partial reads, peeking, scatter/gather, msg_flags, queue ioctls,
poll, O_NONBLOCK, dup/fork/execve, SO_ERROR, bad arguments and bad fds.

Every scenario runs over :data:`PAIR_GRID` (socket type x pair kind x
blocking mode) less the axes it cannot observe (``TYPE_KIND_GRID``,
``TYPE_MODE_GRID``, ``TYPE_GRID``: see the harness), and is named
``generic_<behaviour>``.  Nothing here may block:
in blocking mode every receive carries ``MSG_DONTWAIT`` and sends are small.
"""
import errno
import fcntl
import os
import select
import socket
import struct

from ..harness import (PAIR_GRID, SOCK_TYPES, TYPE_GRID, TYPE_KIND_GRID, TYPE_MODE_GRID,
                       make_pair, scenario)

AF_UNIX = socket.AF_UNIX
STREAM, DGRAM, SEQPACKET = socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET
SOL = socket.SOL_SOCKET
DW, PEEK, TRUNC = socket.MSG_DONTWAIT, socket.MSG_PEEK, socket.MSG_TRUNC
NOSIG, WAITALL = socket.MSG_NOSIGNAL, socket.MSG_WAITALL
POLLIN, POLLOUT, POLLPRI = select.POLLIN, select.POLLOUT, select.POLLPRI
POLLRDHUP = getattr(select, "POLLRDHUP", 0x2000)
ALL_EVENTS = POLLIN | POLLOUT | POLLPRI | POLLRDHUP
FIONREAD, SIOCOUTQ = 0x541B, 0x5411
TIMEVAL = struct.Struct("ll")
SO_PEEK_OFF = getattr(socket, "SO_PEEK_OFF", 42)


def _setup(k, sotype, kind, nonblock):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, kind, nonblock)
    return p, a, b


def _dw(nonblock):
    """The flag that keeps a receive from waiting in blocking mode."""
    return 0 if nonblock else DW


def _recv(t, p, fd, n, nonblock, flags=0):
    return t.call(p.recv, fd, n, flags | _dw(nonblock))


def _poll(t, p, *fds, events=ALL_EVENTS):
    return t.call(p.poll, [(fd, events) for fd in fds], 0)


def _pending(t, p):
    t.step("pending_signals", lambda: set(p.pending_signals))


def _fresh_name(kind, tag):
    return f"\0{tag}".encode() if kind == "abstract" else f"/tmp/{tag}"


def _fresh_target(t, p, sotype, kind, tag="fresh", listen=True):
    """A new socket of ``sotype`` bound to a fresh name (listening unless a
    datagram socket); returns (fd, name)."""
    fd = t.call(p.socket, AF_UNIX, sotype)
    name = _fresh_name(kind, tag)
    t.call(p.bind, fd, name)
    if listen and sotype != DGRAM:
        t.call(p.listen, fd, 1)
    return fd, name


# =============================================================== naming

@scenario("generic_getname_each_end", params=TYPE_KIND_GRID)
def generic_getname_each_end(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for fd in (a, b):
        t.call(p.getsockname, fd)
        t.call(p.getpeername, fd)


@scenario("generic_getname_after_peer_close", params=TYPE_KIND_GRID)
def generic_getname_after_peer_close(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.close, b)
    t.call(p.getsockname, a)
    t.call(p.getpeername, a)


@scenario("generic_getname_after_shutdown", params=TYPE_KIND_GRID)
def generic_getname_after_shutdown(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.shutdown, a, socket.SHUT_RDWR)
    for fd in (a, b):
        t.call(p.getsockname, fd)
        t.call(p.getpeername, fd)


@scenario("generic_recvfrom_address", params=TYPE_KIND_GRID)
def generic_recvfrom_address(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"ab")
    t.call(p.send, b, b"cd")
    t.call(p.recvfrom, b, 10, _dw(nonblock))
    t.call(p.recvmsg, a, 10, 0, _dw(nonblock))


# =============================================================== identity options

@scenario("generic_sockopt_identity", params=TYPE_KIND_GRID)
def generic_sockopt_identity(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for fd in (a, b):
        for opt in (socket.SO_TYPE, socket.SO_DOMAIN, socket.SO_PROTOCOL,
                    socket.SO_ACCEPTCONN, socket.SO_ERROR, socket.SO_PASSCRED):
            t.call(p.getsockopt, fd, SOL, opt)


@scenario("generic_sockopt_identity_readonly", params=TYPE_KIND_GRID)
def generic_sockopt_identity_readonly(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for opt in (socket.SO_TYPE, socket.SO_DOMAIN, socket.SO_PROTOCOL,
                socket.SO_ACCEPTCONN, socket.SO_ERROR, socket.SO_PEERCRED):
        t.call(p.setsockopt, a, SOL, opt, 0)
    t.call(p.getsockopt, a, SOL, socket.SO_TYPE)


@scenario("generic_getsockopt_buflen", params=TYPE_MODE_GRID)
def generic_getsockopt_buflen(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for n in (1, 2, 4, 8, 64):
        t.call(p.getsockopt, a, SOL, socket.SO_TYPE, n)
    t.call(p.getsockopt, b, SOL, socket.SO_SNDBUF, 4)
    t.call(p.getsockopt, b, SOL, socket.SO_RCVTIMEO, 16)


@scenario("generic_peercred_each_end", params=TYPE_KIND_GRID)
def generic_peercred_each_end(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.getsockopt, a, SOL, socket.SO_PEERCRED, 12)
    t.call(p.getsockopt, b, SOL, socket.SO_PEERCRED, 12)


# =============================================================== buffer / timeout options

@scenario("generic_sndbuf_roundtrip", params=TYPE_GRID)
def generic_sndbuf_roundtrip(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.getsockopt, a, SOL, socket.SO_SNDBUF)
    for v in (0, 1, 1000, 4096, 65536, 100000, 1 << 30, -1):
        t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, v)
        t.call(p.getsockopt, a, SOL, socket.SO_SNDBUF)
    t.call(p.getsockopt, b, SOL, socket.SO_SNDBUF)


@scenario("generic_rcvbuf_roundtrip", params=TYPE_GRID)
def generic_rcvbuf_roundtrip(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.getsockopt, b, SOL, socket.SO_RCVBUF)
    for v in (0, 1, 1000, 4096, 65536, 100000, 1 << 30, -1):
        t.call(p.setsockopt, b, SOL, socket.SO_RCVBUF, v)
        t.call(p.getsockopt, b, SOL, socket.SO_RCVBUF)
    t.call(p.getsockopt, a, SOL, socket.SO_RCVBUF)


@scenario("generic_buf_options_independent", params=TYPE_GRID)
def generic_buf_options_independent(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, 8192)
    t.call(p.setsockopt, a, SOL, socket.SO_RCVBUF, 16384)
    for fd in (a, b):
        t.call(p.getsockopt, fd, SOL, socket.SO_SNDBUF)
        t.call(p.getsockopt, fd, SOL, socket.SO_RCVBUF)
    t.call(p.send, a, b"still works")
    _recv(t, p, b, 100, nonblock)


@scenario("generic_timeo_roundtrip", params=TYPE_MODE_GRID)
def generic_timeo_roundtrip(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for opt in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        t.call(p.getsockopt, a, SOL, opt, TIMEVAL.size)
        for sec, usec in ((1, 0), (0, 500000), (3, 250), (0, 0), (0, 1)):
            t.call(p.setsockopt, a, SOL, opt, TIMEVAL.pack(sec, usec))
            t.call(p.getsockopt, a, SOL, opt, TIMEVAL.size)
        t.call(p.getsockopt, b, SOL, opt, TIMEVAL.size)


@scenario("generic_timeo_bad_values", params=TYPE_MODE_GRID)
def generic_timeo_bad_values(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for opt in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        t.call(p.setsockopt, a, SOL, opt, b"\0" * 4)
        t.call(p.setsockopt, a, SOL, opt, TIMEVAL.pack(0, 1000000))
        t.call(p.setsockopt, a, SOL, opt, TIMEVAL.pack(0, -1))
        t.call(p.setsockopt, a, SOL, opt, TIMEVAL.pack(-5, 0))
        t.call(p.getsockopt, a, SOL, opt, TIMEVAL.size)


@scenario("generic_rcvtimeo_recv_eagain", params=TYPE_MODE_GRID)
def generic_rcvtimeo_recv_eagain(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, b, SOL, socket.SO_RCVTIMEO, TIMEVAL.pack(0, 20000))
    t.call(p.recv, b, 10)          # times out (or is non-blocking): EAGAIN
    t.call(p.send, a, b"x")
    t.call(p.recv, b, 10)


@scenario("generic_lowat_options", params=TYPE_GRID)
def generic_lowat_options(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.getsockopt, a, SOL, socket.SO_RCVLOWAT)
    t.call(p.getsockopt, a, SOL, socket.SO_SNDLOWAT)
    for v in (5, 0, -3, 1 << 20):
        t.call(p.setsockopt, a, SOL, socket.SO_RCVLOWAT, v)
        t.call(p.getsockopt, a, SOL, socket.SO_RCVLOWAT)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDLOWAT, 5)
    t.call(p.getsockopt, a, SOL, socket.SO_SNDLOWAT)


@scenario("generic_peek_off_roundtrip", params=TYPE_GRID)
def generic_peek_off_roundtrip(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.getsockopt, b, SOL, SO_PEEK_OFF)
    for v in (0, 3, -1, 100):
        t.call(p.setsockopt, b, SOL, SO_PEEK_OFF, v)
        t.call(p.getsockopt, b, SOL, SO_PEEK_OFF)
    t.call(p.getsockopt, a, SOL, SO_PEEK_OFF)


@scenario("generic_passcred_roundtrip", params=TYPE_GRID)
def generic_passcred_roundtrip(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for v in (1, 0, 7, -1, 0):
        t.call(p.setsockopt, a, SOL, socket.SO_PASSCRED, v)
        t.call(p.getsockopt, a, SOL, socket.SO_PASSCRED)
    t.call(p.getsockopt, b, SOL, socket.SO_PASSCRED)


@scenario("generic_passcred_message", params=TYPE_KIND_GRID)
def generic_passcred_message(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 1)
    t.call(p.send, a, b"cred")
    t.call(p.recvmsg, b, 10, socket.CMSG_SPACE(12), _dw(nonblock))
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 0)
    t.call(p.send, a, b"none")
    t.call(p.recvmsg, b, 10, socket.CMSG_SPACE(12), _dw(nonblock))


# =============================================================== bad options

@scenario("generic_sockopt_bad_level", params=TYPE_GRID)
def generic_sockopt_bad_level(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for level in (socket.IPPROTO_TCP, socket.IPPROTO_IP, socket.IPPROTO_UDP, 0, 1000):
        t.call(p.setsockopt, a, level, 1, 1)
        t.call(p.getsockopt, a, level, 1)


@scenario("generic_sockopt_unknown_option", params=TYPE_GRID)
def generic_sockopt_unknown_option(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for opt in (0, 999, 12345):
        t.call(p.setsockopt, a, SOL, opt, 1)
        t.call(p.getsockopt, a, SOL, opt)


@scenario("generic_setsockopt_short_value", params=TYPE_GRID)
def generic_setsockopt_short_value(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF, socket.SO_PASSCRED, socket.SO_RCVLOWAT):
        t.call(p.setsockopt, a, SOL, opt, b"\1\0")
        t.call(p.setsockopt, a, SOL, opt, b"")
        t.call(p.getsockopt, a, SOL, opt)


@scenario("generic_setsockopt_long_value", params=TYPE_GRID)
def generic_setsockopt_long_value(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, a, SOL, socket.SO_PASSCRED, struct.pack("ii", 1, 0))
    t.call(p.getsockopt, a, SOL, socket.SO_PASSCRED)
    t.call(p.setsockopt, a, SOL, socket.SO_RCVLOWAT, struct.pack("q", 9))
    t.call(p.getsockopt, a, SOL, socket.SO_RCVLOWAT)


# =============================================================== shutdown

def _after_shutdown(t, p, a, b, nonblock):
    for x, y in ((a, b), (b, a)):
        t.call(p.send, x, b"post", NOSIG)
        _pending(t, p)
    _poll(t, p, a, b)
    for fd in (a, b):
        _recv(t, p, fd, 100, nonblock)
        _recv(t, p, fd, 100, nonblock)


@scenario("generic_shutdown_rd", params=PAIR_GRID)
def generic_shutdown_rd(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"pre")
    t.call(p.shutdown, b, socket.SHUT_RD)
    _after_shutdown(t, p, a, b, nonblock)


@scenario("generic_shutdown_wr", params=PAIR_GRID)
def generic_shutdown_wr(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"pre")
    t.call(p.shutdown, a, socket.SHUT_WR)
    _after_shutdown(t, p, a, b, nonblock)


@scenario("generic_shutdown_rdwr", params=PAIR_GRID)
def generic_shutdown_rdwr(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"pre")
    t.call(p.shutdown, a, socket.SHUT_RDWR)
    _after_shutdown(t, p, a, b, nonblock)


@scenario("generic_shutdown_both_ends", params=PAIR_GRID)
def generic_shutdown_both_ends(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.shutdown, b, socket.SHUT_WR)
    _after_shutdown(t, p, a, b, nonblock)


@scenario("generic_shutdown_sigpipe", params=TYPE_GRID)
def generic_shutdown_sigpipe(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.send, a, b"x")
    _pending(t, p)
    t.call(p.sendmsg, a, [b"y"], (), NOSIG)
    _pending(t, p)


@scenario("generic_sigpipe_each_write_call",
          params={"call": ("send", "sendmsg", "send_fds", "write"), "nosignal": (False, True)})
def generic_sigpipe_each_write_call(k, t, call, nosignal):
    """EPIPE on a stream socket shut for writing, from each call that
    writes: SIGPIPE pending unless MSG_NOSIGNAL (write(2) has no flags)."""
    p, a, b = _setup(k, socket.SOCK_STREAM, "socketpair", False)
    r, w = t.call(p.pipe)
    flags = NOSIG if nosignal else 0
    t.call(p.shutdown, a, socket.SHUT_WR)
    if call == "send":
        t.call(p.send, a, b"x", flags)
    elif call == "sendmsg":
        t.call(p.sendmsg, a, [b"x"], (), flags)
    elif call == "send_fds":
        t.call(p.send_fds, a, [b"x"], [r], flags)
    else:
        t.call(p.write, a, b"x")
    _pending(t, p)
    t.call(p.close, r)
    t.call(p.close, w)


@scenario("generic_shutdown_twice", params=TYPE_KIND_GRID)
def generic_shutdown_twice(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for how in (socket.SHUT_RD, socket.SHUT_RD, socket.SHUT_WR, socket.SHUT_RDWR, socket.SHUT_RDWR):
        t.call(p.shutdown, a, how)
    _poll(t, p, a, b)


@scenario("generic_shutdown_invalid_how", params=TYPE_KIND_GRID)
def generic_shutdown_invalid_how(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for how in (-1, 3, 4, 100):
        t.call(p.shutdown, a, how)
    _poll(t, p, a, b)
    t.call(p.send, a, b"ok")
    _recv(t, p, b, 10, nonblock)


@scenario("generic_shutdown_rd_queued_data", params=PAIR_GRID)
def generic_shutdown_rd_queued_data(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"one")
    t.call(p.send, a, b"two")
    t.call(p.shutdown, b, socket.SHUT_RD)
    t.call(p.ioctl, b, FIONREAD)
    _poll(t, p, b)
    _recv(t, p, b, 100, nonblock)
    _recv(t, p, b, 100, nonblock)
    _recv(t, p, b, 100, nonblock)


@scenario("generic_shutdown_wr_reader_drains", params=PAIR_GRID)
def generic_shutdown_wr_reader_drains(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"abc")
    t.call(p.send, a, b"de")
    t.call(p.shutdown, a, socket.SHUT_WR)
    _poll(t, p, b)
    _recv(t, p, b, 2, nonblock)
    _recv(t, p, b, 100, nonblock)
    _recv(t, p, b, 100, nonblock)
    _poll(t, p, b)


@scenario("generic_shutdown_then_close_peer", params=PAIR_GRID)
def generic_shutdown_then_close_peer(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.shutdown, a, socket.SHUT_RD)
    t.call(p.close, b)
    _poll(t, p, a)
    t.call(p.send, a, b"x", NOSIG)
    _recv(t, p, a, 10, nonblock)


# =============================================================== close of the peer

@scenario("generic_close_peer_send", params=TYPE_GRID)
def generic_close_peer_send(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.close, b)
    t.call(p.send, a, b"x", NOSIG)
    _pending(t, p)
    t.call(p.send, a, b"x")
    _pending(t, p)
    t.call(p.sendmsg, a, [b"x"], (), NOSIG)


@scenario("generic_close_peer_recv", params=TYPE_MODE_GRID)
def generic_close_peer_recv(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, b, b"last")
    t.call(p.close, b)
    _recv(t, p, a, 100, nonblock)
    _recv(t, p, a, 100, nonblock)
    _recv(t, p, a, 100, nonblock)


@scenario("generic_close_peer_poll", params=TYPE_KIND_GRID)
def generic_close_peer_poll(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    _poll(t, p, a)
    t.call(p.close, b)
    _poll(t, p, a)
    t.call(p.poll, [(a, 0)], 0)
    t.call(p.poll, [(a, POLLIN)], 0)
    t.call(p.poll, [(a, POLLOUT)], 0)


@scenario("generic_close_peer_unread_data", params=PAIR_GRID)
def generic_close_peer_unread_data(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"unread")
    t.call(p.close, b)
    _poll(t, p, a)
    t.call(p.getsockopt, a, SOL, socket.SO_ERROR)
    _recv(t, p, a, 100, nonblock)
    t.call(p.send, a, b"x", NOSIG)
    _recv(t, p, a, 100, nonblock)


@scenario("generic_close_peer_so_error", params=TYPE_MODE_GRID)
def generic_close_peer_so_error(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.getsockopt, a, SOL, socket.SO_ERROR)
    t.call(p.send, a, b"unread")
    t.call(p.close, b)
    t.call(p.getsockopt, a, SOL, socket.SO_ERROR)
    t.call(p.getsockopt, a, SOL, socket.SO_ERROR)
    _recv(t, p, a, 100, nonblock)


@scenario("generic_close_peer_ioctl", params=TYPE_GRID)
def generic_close_peer_ioctl(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, b, b"1234")
    t.call(p.send, a, b"56")
    t.call(p.close, b)
    t.call(p.ioctl, a, FIONREAD)
    t.call(p.ioctl, a, SIOCOUTQ)


@scenario("generic_close_peer_getsockopt", params=TYPE_KIND_GRID)
def generic_close_peer_getsockopt(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.close, b)
    for opt in (socket.SO_TYPE, socket.SO_ACCEPTCONN, socket.SO_PASSCRED):
        t.call(p.getsockopt, a, SOL, opt)
    t.call(p.getsockopt, a, SOL, socket.SO_PEERCRED, 12)


# =============================================================== data

@scenario("generic_send_zero_bytes", params=PAIR_GRID)
def generic_send_zero_bytes(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"")
    t.call(p.ioctl, b, FIONREAD)
    _poll(t, p, b)
    _recv(t, p, b, 10, nonblock)
    _recv(t, p, b, 10, nonblock)


@scenario("generic_sendmsg_no_buffers", params=PAIR_GRID)
def generic_sendmsg_no_buffers(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.sendmsg, a, [])
    t.call(p.sendmsg, a, [b"", b""])
    t.call(p.recvmsg, b, 10, 0, _dw(nonblock))
    t.call(p.recvmsg, b, 10, 0, _dw(nonblock))
    t.call(p.recvmsg, b, 10, 0, _dw(nonblock))


@scenario("generic_recv_zero_bytes", params=TYPE_GRID)
def generic_recv_zero_bytes(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    _recv(t, p, b, 0, nonblock)
    t.call(p.send, a, b"abc")
    _recv(t, p, b, 0, nonblock)
    t.call(p.ioctl, b, FIONREAD)
    _recv(t, p, b, 10, nonblock)


@scenario("generic_read_zero_bytes", params=TYPE_MODE_GRID)
def generic_read_zero_bytes(k, t, sotype, nonblock, kind="socketpair"):
    """read(2) of zero bytes returns b"" at once, from an empty socket or
    pipe as from one holding data (sock_read_iter, pipe_read), blocking or
    not; the data stays queued.  A negative length is EINVAL (os.read), bad
    fd or not."""
    p, a, b = _setup(k, sotype, kind, nonblock)
    r, w = t.call(p.pipe)
    if nonblock:
        t.call(p.fcntl, r, fcntl.F_SETFL, os.O_NONBLOCK)
    for fd in (b, r, 99):
        t.call(p.read, fd, -1)
    for fd in (b, r):
        t.call(p.read, fd, 0)
    t.call(p.send, a, b"abc")
    t.call(p.write, w, b"xyz")
    for fd in (b, r):
        t.call(p.read, fd, 0)
        t.call(p.ioctl, fd, FIONREAD)
        t.call(p.read, fd, 10)


@scenario("generic_write_zero_bytes", params=TYPE_GRID)
def generic_write_zero_bytes(k, t, sotype, kind="socketpair", nonblock=False):
    """write(2) of zero bytes to a socket or pipe, then with the reading end
    closed: a null write to a pipe returns 0 before anything is checked
    (pipe_write), a socket's goes through its send path."""
    p, a, b = _setup(k, sotype, kind, nonblock)
    r, w = t.call(p.pipe)
    for fd in (a, w):
        t.call(p.write, fd, b"")
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.recv, b, 10, DW)
    t.call(p.close, b)
    t.call(p.close, r)
    for fd in (a, w):
        t.call(p.write, fd, b"")
        _pending(t, p)


@scenario("generic_peek_then_recv", params=TYPE_MODE_GRID)
def generic_peek_then_recv(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"hello")
    _recv(t, p, b, 3, nonblock, PEEK)
    _recv(t, p, b, 10, nonblock, PEEK)
    _recv(t, p, b, 10, nonblock)
    _recv(t, p, b, 10, nonblock, PEEK)


@scenario("generic_peek_two_messages", params=PAIR_GRID)
def generic_peek_two_messages(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"first")
    t.call(p.send, a, b"second")
    _recv(t, p, b, 100, nonblock, PEEK)
    t.call(p.recvmsg, b, 100, 0, PEEK | _dw(nonblock))
    _recv(t, p, b, 100, nonblock)
    _recv(t, p, b, 100, nonblock, PEEK)
    _recv(t, p, b, 100, nonblock)


@scenario("generic_recv_into_short_nbytes", params=TYPE_MODE_GRID)
def generic_recv_into_short_nbytes(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"0123456789")
    buf = bytearray(16)
    t.call(p.recv_into, b, buf, 4, _dw(nonblock))
    t.note("buf", bytes(buf))
    buf = bytearray(16)
    t.call(p.recv_into, b, buf, 0, _dw(nonblock))
    t.note("buf", bytes(buf))


@scenario("generic_recv_into_small_buffer", params=TYPE_GRID)
def generic_recv_into_small_buffer(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"abcdefgh")
    t.call(p.send, a, b"ij")
    buf = bytearray(3)
    t.call(p.recv_into, b, buf, 0, _dw(nonblock))
    t.note("buf", bytes(buf))
    t.call(p.recv_into, b, buf, 0, _dw(nonblock))
    t.note("buf", bytes(buf))


@scenario("generic_recv_into_bad_nbytes", params=TYPE_GRID)
def generic_recv_into_bad_nbytes(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"abc")
    t.call(p.recv_into, b, bytearray(4), 8, _dw(nonblock))
    t.call(p.recv_into, b, bytearray(4), -1, _dw(nonblock))
    t.call(p.recv_into, b, bytes(4), 0, _dw(nonblock))
    buf = bytearray(4)
    t.call(p.recv_into, b, buf, 0, _dw(nonblock))
    t.note("buf", bytes(buf))


@scenario("generic_recv_bad_bufsize", params=TYPE_KIND_GRID)
def generic_recv_bad_bufsize(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"abc")
    t.call(p.recv, b, -1, _dw(nonblock))
    t.call(p.recvfrom, b, -5, _dw(nonblock))
    t.call(p.recvmsg, b, -1, 0, _dw(nonblock))
    t.call(p.recvmsg, b, 10, -1, _dw(nonblock))
    t.call(p.recv, b, "10", _dw(nonblock))
    _recv(t, p, b, 10, nonblock)


@scenario("generic_send_data_types", params=TYPE_MODE_GRID)
def generic_send_data_types(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, "text")
    t.call(p.send, a, None)
    t.call(p.send, a, bytearray(b"ba"))
    t.call(p.send, a, memoryview(b"mv"))
    t.call(p.sendmsg, a, [bytearray(b"x"), memoryview(b"y")])
    for _ in range(4):
        _recv(t, p, b, 10, nonblock)


@scenario("generic_sendmsg_iovecs_recvmsg_into", params=TYPE_KIND_GRID)
def generic_sendmsg_iovecs_recvmsg_into(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.sendmsg, a, [b"ab", b"", b"cdef", b"g"])
    bufs = [bytearray(3), bytearray(0), bytearray(2), bytearray(10)]
    t.call(p.recvmsg_into, b, bufs, 0, _dw(nonblock))
    t.note("bufs", [bytes(x) for x in bufs])


@scenario("generic_recvmsg_into_short_buffers", params=PAIR_GRID)
def generic_recvmsg_into_short_buffers(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.sendmsg, a, [b"0123", b"4567", b"89"])
    bufs = [bytearray(2), bytearray(3)]
    t.call(p.recvmsg_into, b, bufs, 0, _dw(nonblock))
    t.note("bufs", [bytes(x) for x in bufs])
    bufs = [bytearray(8)]
    t.call(p.recvmsg_into, b, bufs, 0, _dw(nonblock))
    t.note("bufs", [bytes(x) for x in bufs])


@scenario("generic_recvmsg_into_no_buffers", params=PAIR_GRID)
def generic_recvmsg_into_no_buffers(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"abc")
    t.call(p.recvmsg_into, b, [], 0, _dw(nonblock))
    t.call(p.ioctl, b, FIONREAD)
    _recv(t, p, b, 10, nonblock)


@scenario("generic_recvmsg_flags", params=PAIR_GRID)
def generic_recvmsg_flags(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"0123456789")
    t.call(p.send, a, b"xy")
    t.call(p.recvmsg, b, 4, 0, _dw(nonblock))
    t.call(p.recvmsg, b, 10, 0, _dw(nonblock))
    t.call(p.recvmsg, b, 10, 0, _dw(nonblock))


@scenario("generic_recv_msg_trunc", params=TYPE_GRID)
def generic_recv_msg_trunc(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"0123456789")
    t.call(p.send, a, b"abcdef")
    buf = bytearray(4)
    t.call(p.recv_into, b, buf, 0, TRUNC | PEEK | _dw(nonblock))
    t.note("buf", bytes(buf))
    t.call(p.recv_into, b, buf, 0, TRUNC | _dw(nonblock))
    t.note("buf", bytes(buf))
    _recv(t, p, b, 100, nonblock)


@scenario("generic_waitall_partial", params=TYPE_MODE_GRID)
def generic_waitall_partial(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"abc")
    t.call(p.send, a, b"de")
    t.call(p.recv, b, 10, WAITALL | DW)
    t.call(p.recv, b, 10, WAITALL | DW)


@scenario("generic_message_order", params=TYPE_MODE_GRID)
def generic_message_order(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for i in range(5):
        t.call(p.send, a, bytes([65 + i]) * (i + 1))
    for _ in range(6):
        _recv(t, p, b, 100, nonblock)


@scenario("generic_bidirectional", params=TYPE_MODE_GRID)
def generic_bidirectional(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"a->b")
    t.call(p.send, b, b"b->a")
    t.call(p.send, a, b"again")
    _recv(t, p, a, 100, nonblock)
    _recv(t, p, b, 100, nonblock)
    _recv(t, p, a, 100, nonblock)


@scenario("generic_send_flags", params=TYPE_MODE_GRID)
def generic_send_flags(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"dw", DW)
    t.call(p.send, a, b"ns", NOSIG)
    t.call(p.send, a, b"eor", socket.MSG_EOR)
    t.call(p.send, a, b"more", getattr(socket, "MSG_MORE", 0x8000))
    t.call(p.send, a, b"oob", socket.MSG_OOB)
    for _ in range(5):
        _recv(t, p, b, 100, nonblock)
    _recv(t, p, b, 100, nonblock, socket.MSG_OOB)


@scenario("generic_recv_oob_flag", params=TYPE_GRID)
def generic_recv_oob_flag(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    _recv(t, p, b, 10, nonblock, socket.MSG_OOB)
    t.call(p.send, a, b"data")
    _recv(t, p, b, 10, nonblock, socket.MSG_OOB)
    _recv(t, p, b, 10, nonblock)


@scenario("generic_sendto_connected", params=PAIR_GRID)
def generic_sendto_connected(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    other, name = _fresh_target(t, p, DGRAM, kind, "other", listen=False)
    t.call(p.sendto, a, b"elsewhere", name)
    t.call(p.sendto, a, b"nowhere", _fresh_name(kind, "missing"))
    _recv(t, p, b, 100, nonblock)
    t.call(p.recv, other, 100, DW)


# =============================================================== ioctl

@scenario("generic_ioctl_queues", params=TYPE_MODE_GRID)
def generic_ioctl_queues(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for fd in (a, b):
        t.call(p.ioctl, fd, FIONREAD)
        t.call(p.ioctl, fd, SIOCOUTQ)
    t.call(p.send, a, b"abc")
    t.call(p.send, a, b"defgh")
    t.call(p.ioctl, b, FIONREAD)
    _recv(t, p, b, 2, nonblock)
    t.call(p.ioctl, b, FIONREAD)
    _recv(t, p, b, 100, nonblock)
    t.call(p.ioctl, b, FIONREAD)
    _recv(t, p, b, 100, nonblock)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.ioctl, a, SIOCOUTQ)


@scenario("generic_ioctl_bad_request", params=TYPE_GRID)
def generic_ioctl_bad_request(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.ioctl, a, 0x5401)        # TCGETS: not a tty
    t.call(p.ioctl, a, 0x12345)


# =============================================================== poll

@scenario("generic_poll_send_recv", params=TYPE_KIND_GRID)
def generic_poll_send_recv(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    _poll(t, p, a, b)
    t.call(p.send, a, b"x")
    _poll(t, p, a, b)
    t.call(p.send, b, b"y")
    _poll(t, p, a, b)
    _recv(t, p, b, 10, nonblock)
    _recv(t, p, a, 10, nonblock)
    _poll(t, p, a, b)


@scenario("generic_poll_event_masks", params=TYPE_KIND_GRID)
def generic_poll_event_masks(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"x")
    for ev in (0, POLLIN, POLLOUT, POLLPRI, POLLRDHUP, 0xffff):
        t.call(p.poll, [(b, ev)], 0)
    t.call(p.poll, [(b, POLLIN), (a, POLLIN), (-1, POLLIN)], 0)


@scenario("generic_poll_shutdown_each", params=TYPE_KIND_GRID)
def generic_poll_shutdown_each(k, t, sotype, kind, nonblock=False):
    for how in (socket.SHUT_RD, socket.SHUT_WR, socket.SHUT_RDWR):
        p, a, b = _setup(k, sotype, kind, nonblock)
        t.call(p.shutdown, a, how)
        _poll(t, p, a, b)
        t.call(p.close, a)
        _poll(t, p, b)
        t.call(p.close, b)


@scenario("generic_poll_sndbuf_quarter", params=TYPE_GRID)
def generic_poll_sndbuf_quarter(k, t, sotype, kind="socketpair", nonblock=False):
    """A sender stays writable while four times its queued truesize, plus
    one, fits its send buffer: with a 6144-byte buffer two small messages
    (768 bytes of truesize each) already make it unwritable."""
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, 3072)
    for _ in range(3):
        t.call(p.send, a, b"x")
        t.call(p.ioctl, a, SIOCOUTQ)
        _poll(t, p, a)
    for _ in range(3):
        _recv(t, p, b, 10, nonblock)
        _poll(t, p, a)


@scenario("generic_poll_closed_fd", params=TYPE_KIND_GRID)
def generic_poll_closed_fd(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.close, a)
    _poll(t, p, a, b)
    t.call(p.poll, [(a, 0)], 0)


# =============================================================== fcntl / O_NONBLOCK

@scenario("generic_fcntl_nonblock_toggle", params=TYPE_MODE_GRID)
def generic_fcntl_nonblock_toggle(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    fl = t.call(p.fcntl, b, fcntl.F_GETFL)
    t.call(p.fcntl, b, fcntl.F_SETFL, (fl or 0) | os.O_NONBLOCK)
    t.call(p.fcntl, b, fcntl.F_GETFL)
    t.call(p.recv, b, 10)                      # EAGAIN: nothing queued
    t.call(p.fcntl, b, fcntl.F_SETFL, (fl or 0) & ~os.O_NONBLOCK)
    t.call(p.fcntl, b, fcntl.F_GETFL)
    t.call(p.send, a, b"now")
    t.call(p.recv, b, 10)                      # data is there: does not wait
    t.call(p.fcntl, a, fcntl.F_GETFL)


@scenario("generic_fcntl_fd_flags", params=PAIR_GRID)
def generic_fcntl_fd_flags(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.fcntl, a, fcntl.F_GETFD)
    t.call(p.fcntl, a, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
    t.call(p.fcntl, a, fcntl.F_GETFD)
    t.call(p.fcntl, b, fcntl.F_GETFD)
    d = t.call(p.fcntl, a, fcntl.F_DUPFD_CLOEXEC, 0)
    if d is not None:
        t.call(p.fcntl, d, fcntl.F_GETFD)
        t.call(p.fcntl, d, fcntl.F_GETFL)


@scenario("generic_fcntl_setfl_ignored_bits", params=TYPE_MODE_GRID)
def generic_fcntl_setfl_ignored_bits(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.fcntl, a, fcntl.F_SETFL, os.O_RDONLY)
    t.call(p.fcntl, a, fcntl.F_GETFL)
    t.call(p.fcntl, a, fcntl.F_SETFL, os.O_NONBLOCK | os.O_WRONLY)
    t.call(p.fcntl, a, fcntl.F_GETFL)


# =============================================================== dup / fork / execve

@scenario("generic_dup_close_original", params=PAIR_GRID)
def generic_dup_close_original(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    d = t.call(p.dup, a)
    t.call(p.close, a)
    _poll(t, p, b)
    t.call(p.getpeername, d)
    t.call(p.send, d, b"via dup")
    _recv(t, p, b, 100, nonblock)
    t.call(p.send, b, b"back")
    _recv(t, p, d, 100, nonblock)
    t.call(p.close, d)
    _poll(t, p, b)


@scenario("generic_dup_shares_file_status", params=PAIR_GRID)
def generic_dup_shares_file_status(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    d = t.call(p.dup, b)
    fl = t.call(p.fcntl, d, fcntl.F_GETFL) or 0
    t.call(p.fcntl, d, fcntl.F_SETFL, fl ^ os.O_NONBLOCK)
    t.call(p.fcntl, b, fcntl.F_GETFL)
    t.call(p.fcntl, d, fcntl.F_GETFD)
    t.call(p.recv, b, 10, DW)


@scenario("generic_dup2_over_peer", params=PAIR_GRID)
def generic_dup2_over_peer(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    r, w = t.call(p.pipe) or (None, None)
    t.call(p.dup2, r, b)            # b's socket is released
    _poll(t, p, a)
    t.call(p.send, a, b"x", NOSIG)
    t.call(p.getsockopt, b, SOL, socket.SO_TYPE)
    t.call(p.close, r)
    t.call(p.close, w)


@scenario("generic_fork_close_in_parent", params=PAIR_GRID)
def generic_fork_close_in_parent(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    c = t.call(p.fork)
    t.call(p.close, a)
    _poll(t, p, b)
    t.call(c.send, a, b"from child")
    _recv(t, p, b, 100, nonblock)
    t.call(c.close, b)
    t.call(p.send, b, b"to child")
    t.call(c.recv, a, 100, DW)
    t.call(c.exit)
    _poll(t, p, b)
    t.call(p.send, b, b"x", NOSIG)


@scenario("generic_fork_child_exit_keeps_pair", params=PAIR_GRID)
def generic_fork_child_exit_keeps_pair(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    c = t.call(p.fork)
    t.call(c.getsockopt, a, SOL, socket.SO_TYPE)
    t.call(c.exit)
    _poll(t, p, a, b)
    t.call(p.send, a, b"alive")
    _recv(t, p, b, 100, nonblock)
    t.call(p.getsockopt, a, SOL, socket.SO_PEERCRED, 12)


@scenario("generic_execve_cloexec_peer", params=PAIR_GRID)
def generic_execve_cloexec_peer(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    c = t.call(p.fork)
    t.call(p.close, b)
    t.call(c.close, a)
    t.call(c.fcntl, b, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
    _poll(t, p, a)
    t.call(c.execve)
    t.call(c.fcntl, b, fcntl.F_GETFD)
    _poll(t, p, a)
    t.call(p.send, a, b"x", NOSIG)
    t.call(c.exit)


# =============================================================== bad fds

@scenario("generic_closed_fd_ebadf", params=PAIR_GRID)
def generic_closed_fd_ebadf(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.close, a)
    t.call(p.send, a, b"x")
    t.call(p.recv, a, 10, DW)
    t.call(p.sendmsg, a, [b"x"])
    t.call(p.recvmsg, a, 10, 0, DW)
    t.call(p.shutdown, a, socket.SHUT_RDWR)
    t.call(p.getsockname, a)
    t.call(p.getpeername, a)
    t.call(p.getsockopt, a, SOL, socket.SO_TYPE)
    t.call(p.setsockopt, a, SOL, socket.SO_PASSCRED, 1)
    t.call(p.ioctl, a, FIONREAD)
    t.call(p.fcntl, a, fcntl.F_GETFL)
    t.call(p.listen, a, 1)
    t.call(p.bind, a, _fresh_name(kind, "ebadf"))
    t.call(p.connect, a, _fresh_name(kind, "ebadf"))
    t.call(p.close, a)
    t.call(p.dup, a)


@scenario("generic_pipe_enotsock", params=PAIR_GRID)
def generic_pipe_enotsock(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    r, w = t.call(p.pipe) or (None, None)
    if nonblock:
        t.call(p.fcntl, r, fcntl.F_SETFL, os.O_NONBLOCK)
    t.call(p.send, w, b"x")
    t.call(p.recv, r, 10, DW)
    t.call(p.sendmsg, w, [b"x"])
    t.call(p.shutdown, r, socket.SHUT_RD)
    t.call(p.getsockname, r)
    t.call(p.getpeername, w)
    t.call(p.getsockopt, r, SOL, socket.SO_TYPE)
    t.call(p.setsockopt, w, SOL, socket.SO_SNDBUF, 4096)
    t.call(p.listen, r, 1)
    t.call(p.accept, r)
    t.call(p.bind, w, _fresh_name(kind, "pipe"))
    t.call(p.connect, w, _fresh_name(kind, "pipe"))
    t.call(p.write, w, b"still a pipe")
    t.call(p.read, r, 100)


# =============================================================== state errors

@scenario("generic_bind_connected", params=TYPE_KIND_GRID)
def generic_bind_connected(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.bind, a, _fresh_name(kind, "bind_a"))
    t.call(p.bind, b, _fresh_name(kind, "bind_b"))
    t.call(p.getsockname, a)
    t.call(p.getsockname, b)
    t.call(p.getpeername, a)
    t.call(p.getpeername, b)
    t.call(p.send, a, b"ok")
    t.call(p.recvfrom, b, 10, _dw(nonblock))


@scenario("generic_autobind_connected", params=TYPE_KIND_GRID)
def generic_autobind_connected(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.bind, a, b"")
    t.call(p.getsockname, a)
    t.call(p.getpeername, b)
    t.call(p.send, a, b"ok")
    t.call(p.recvfrom, b, 10, _dw(nonblock))


@scenario("generic_listen_connected", params=TYPE_KIND_GRID)
def generic_listen_connected(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.listen, a, 1)
    t.call(p.listen, b, 5)
    t.call(p.getsockopt, a, SOL, socket.SO_ACCEPTCONN)
    t.call(p.send, a, b"still")
    _recv(t, p, b, 10, nonblock)


@scenario("generic_accept_on_connected", params=PAIR_GRID)
def generic_accept_on_connected(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.accept, a)
    t.call(p.accept, b, socket.SOCK_NONBLOCK)


@scenario("generic_connect_connected_to_listener", params=PAIR_GRID)
def generic_connect_connected_to_listener(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    l, name = _fresh_target(t, p, sotype, kind)
    t.call(p.connect, a, name)
    t.call(p.getpeername, a)
    if sotype != DGRAM:
        t.call(p.poll, [(l, ALL_EVENTS)], 0)
        t.call(p.getsockopt, l, SOL, socket.SO_ACCEPTCONN)
    t.call(p.send, a, b"where")
    _recv(t, p, b, 10, nonblock)
    t.call(p.recv, l, 10, DW)


@scenario("generic_connect_connected_missing", params=PAIR_GRID)
def generic_connect_connected_missing(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.connect, a, _fresh_name(kind, "missing"))
    t.call(p.connect, a, "")
    t.call(p.getpeername, a)
    t.call(p.send, a, b"still")
    _recv(t, p, b, 10, nonblock)


@scenario("generic_connect_unspec", params=PAIR_GRID)
def generic_connect_unspec(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.connect, a, None)
    t.call(p.getpeername, a)
    t.call(p.send, a, b"x", NOSIG)
    _poll(t, p, a, b)


@scenario("generic_socketpair_of_each_type", params=PAIR_GRID)
def generic_socketpair_of_each_type(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    flags = socket.SOCK_NONBLOCK if nonblock else socket.SOCK_CLOEXEC
    pr = t.call(p.socketpair, AF_UNIX, sotype | flags)
    if pr:
        for fd in pr:
            t.call(p.fcntl, fd, fcntl.F_GETFL)
            t.call(p.fcntl, fd, fcntl.F_GETFD)
        t.call(p.send, pr[0], b"q")
        t.call(p.recv, pr[1], 10, DW)
    t.call(p.socketpair, AF_UNIX, sotype, 1)
    t.call(p.socketpair, AF_UNIX, sotype, 2)


@scenario("generic_sendto_address_lengths", params={"sotype": SOCK_TYPES},
          needs={"ids"})   # "/" must belong to root, not the caller
def generic_sendto_address_lengths(k, t, sotype):
    """A sendto address is copied in as a sockaddr_storage first (EINVAL past
    126 path bytes, for every type); then stream refuses any name (EISCONN),
    seqpacket ignores it, datagram validates it as an AF_UNIX name (108)."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, AF_UNIX, sotype | socket.SOCK_NONBLOCK)
    for n in (1, 107, 108, 109, 125, 126, 127, 200):
        t.call(p.sendto, a, b"x", "/" + "a" * (n - 1))
        t.call(p.sendto, a, b"x", b"\0" + b"b" * (n - 1))
    t.call(p.sendto, a, b"x", "")
    t.call(p.sendto, a, b"x", b"\0")
    t.call(p.sendmsg, a, [b"x"], (), 0, "")
    for _ in range(20):
        t.call(p.recv, b, 10, DW)
