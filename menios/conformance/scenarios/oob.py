"""Stream MSG_OOB (Linux's CONFIG_AF_UNIX_OOB), file owners and SIGURG,
SO_PASSRIGHTS, and what a new connection inherits from its listener.

The ``oob_selftest_*`` scenarios replay the cases of Linux's
``tools/testing/selftests/net/af_unix/msg_oob.c`` -- the out-of-band mark,
"ex-OOB" bytes, reads that stop at the mark, SO_OOBINLINE, SIOCATMARK,
POLLPRI and resets -- each over every pair kind, with and without a
``MSG_PEEK`` before every read, and with ``O_NONBLOCK`` or ``MSG_DONTWAIT``
(``O_NONBLOCK`` only where no read meets an empty queue).
The host kernel, not the selftest's expectations, decides what is right.
The other scenarios cover what the selftest does not: the order of errors,
zero-length and peeked reads, files and credentials riding on an OOB byte,
SIOCINQ, MSG_WAITALL and blocking reads at the mark, a full send buffer,
and who gets SIGURG.
"""
import array
import errno
import fcntl
import os
import select
import socket
import struct

from ..harness import PAIR_KINDS, make_pair, scenario
from .stream import _cut, _pending

AF_UNIX, STREAM = socket.AF_UNIX, socket.SOCK_STREAM
DGRAM, SEQPACKET = socket.SOCK_DGRAM, socket.SOCK_SEQPACKET
SOL, NB = socket.SOL_SOCKET, socket.SOCK_NONBLOCK
OOB, PEEK, DW = socket.MSG_OOB, socket.MSG_PEEK, socket.MSG_DONTWAIT
NOSIG, WAITALL = socket.MSG_NOSIGNAL, socket.MSG_WAITALL
POLLIN, POLLPRI = select.POLLIN, select.POLLPRI
SIOCINQ, SIOCATMARK = 0x541B, 0x8905
FIOSETOWN, SIOCSPGRP, FIOGETOWN, SIOCGPGRP = 0x8901, 0x8902, 0x8903, 0x8904
SO_PASSRIGHTS = getattr(socket, "SO_PASSRIGHTS", 83)
SO_PEEK_OFF = getattr(socket, "SO_PEEK_OFF", 42)
TIMEVAL = struct.Struct("qq")
BLOCKING = {"kind": PAIR_KINDS, "nonblock": (False, True)}


def _setup(k, kind="socketpair", nonblock=True, uid=1000):
    """A process and a connected stream pair (a sends, b receives) whose
    reads never block: O_NONBLOCK, or MSG_DONTWAIT on every read (``dw``)."""
    p = k.spawn(uid=uid, gid=uid)
    a, b = make_pair(k, p, STREAM, kind, nonblock)
    return p, a, b, 0 if nonblock else DW


def _rights(*fds):
    return [(SOL, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]


def _timeout(t, p, fd, seconds=0.3):
    """SO_RCVTIMEO, so that a read which should not block fails instead of hanging."""
    t.call(p.setsockopt, fd, SOL, socket.SO_RCVTIMEO, TIMEVAL.pack(0, int(seconds * 1e6)))


# ======================================================= selftest replay

# The cases of msg_oob.c as steps: ("send", data, oob), ("recv", buflen,
# oob), ("epoll",) -- poll(POLLPRI) now --, ("mark",) -- SIOCATMARK --,
# ("inline",) -- SO_OOBINLINE on the receiver --, ("reset",) -- close the
# receiver, then read on the sender.
_S = lambda data, oob=False: ("send", data, oob)      # noqa: E731
_R = lambda n, oob=False: ("recv", n, oob)            # noqa: E731
_E, _M, _I, _X = ("epoll",), ("mark",), ("inline",), ("reset",)

SELFTEST = {
    "non_oob": [_S(b"x"), _E, _M, _R(1, True), _E, _M, _X],
    "non_oob_no_reset": [_S(b"x"), _E, _M, _R(1), _E, _M, _X],
    "oob": [_S(b"x", True), _E, _M, _R(1, True), _E, _M, _X],
    "oob_reset": [_S(b"x", True), _E, _M, _X],
    "oob_drop": [_S(b"x", True), _E, _M, _R(1), _E, _M, _R(1, True), _E, _M, _X],
    "oob_ahead": [_S(b"hello", True), _E, _M, _R(1, True), _E, _M, _R(4), _E, _M, _X],
    "oob_break": [_S(b"hello", True), _E, _M, _R(5), _E, _M, _R(1, True), _E, _M,
                  _R(1), _M, _X],
    "oob_ahead_break": [_S(b"hello", True), _E, _M, _S(b"world"), _E, _M, _R(1, True),
                        _E, _M, _R(9), _E, _M, _R(5), _E, _M, _X],
    "oob_break_drop": [_S(b"hello", True), _E, _M, _S(b"world"), _E, _M, _R(10), _E, _M,
                       _R(10), _E, _M, _R(1, True), _E, _M, _X],
    "ex_oob_break": [_S(b"hello", True), _E, _M, _S(b"wor", True), _E, _M, _S(b"ld"),
                     _E, _M, _R(10), _E, _M, _R(1, True), _E, _M, _R(2), _E, _M, _X],
    "ex_oob_drop": [_S(b"x", True), _E, _M, _S(b"y", True), _E, _M, _R(1), _E, _M,
                    _R(1, True), _E, _M, _X],
    "ex_oob_drop_2": [_S(b"x", True), _E, _M, _S(b"y", True), _E, _M, _R(1, True), _E,
                      _M, _R(1), _E, _M, _X],
    "ex_oob_oob": [_S(b"x", True), _E, _M, _R(1, True), _E, _M, _S(b"y", True), _E, _M,
                   _R(1), _E, _M, _R(1, True), _E, _M, _X],
    "ex_oob_ex_oob": [_S(b"x", True), _E, _M, _R(1, True), _E, _M, _S(b"y", True), _E,
                      _M, _R(1, True), _E, _M, _X],
    "ex_oob_ex_oob_oob": [_S(b"x", True), _E, _M, _R(1, True), _E, _M, _S(b"y", True),
                          _E, _M, _R(1, True), _E, _M, _S(b"z", True), _E, _M],
    "ex_oob_ahead_break": [_S(b"hello", True), _E, _M, _S(b"wor", True), _E, _M,
                           _R(1, True), _E, _M, _S(b"ld", True), _E, _M, _R(10), _E, _M,
                           _R(1, True), _E, _M, _X],
    "ex_oob_siocatmark": [_S(b"hello", True), _E, _M, _R(1, True), _E, _M,
                          _S(b"world", True), _E, _M, _R(4), _E, _M, _X],
    "inline_oob": [_I, _S(b"x", True), _E, _M, _R(1, True), _E, _M, _R(1), _E, _M, _X],
    "inline_oob_break": [_I, _S(b"hello", True), _E, _M, _R(1, True), _E, _M, _R(5), _E,
                         _M, _R(1), _E, _M, _X],
    "inline_oob_ahead_break": [_S(b"hello", True), _E, _M, _S(b"world"), _E, _M,
                               _R(1, True), _E, _M, _I, _R(9), _E, _M, _R(6), _E, _M, _X],
    "inline_ex_oob_break": [_S(b"hello", True), _E, _M, _S(b"wor", True), _E, _M,
                            _S(b"ld"), _E, _M, _I, _R(10), _E, _M, _R(3), _E, _M, _X],
    "inline_ex_oob_no_drop": [_S(b"x", True), _E, _M, _I, _S(b"y", True), _E, _M, _R(1),
                              _E, _M, _R(1), _E, _M, _X],
    "inline_ex_oob_drop": [_S(b"x", True), _E, _M, _S(b"y", True), _E, _I, _M, _R(1), _E,
                           _M, _R(1), _E, _M, _X],
    "inline_ex_oob_siocatmark": [_S(b"hello", True), _E, _M, _R(1, True), _E, _M, _I,
                                 _S(b"world", True), _E, _M, _R(4), _E, _M, _X],
}


def _replay(t, p, a, b, dw, peek, steps):
    for step in steps:
        op = step[0]
        if op == "send":
            t.call(p.send, a, step[1], OOB if step[2] else 0)
        elif op == "recv":
            flags = (OOB if step[2] else 0) | dw
            if peek:
                t.call(p.recv, b, step[1], flags | PEEK)
            t.call(p.recv, b, step[1], flags)
        elif op == "epoll":
            t.call(p.poll, [(b, POLLPRI)], 0)
        elif op == "mark":
            t.call(p.ioctl, b, SIOCATMARK)
        elif op == "inline":
            t.call(p.setsockopt, b, SOL, socket.SO_OOBINLINE, 1)
        elif op == "reset":
            t.call(p.close, b)
            t.call(p.recv, a, 1, (PEEK if peek else 0) | dw)
            return
        if op in ("send", "recv"):
            t.call(p.ioctl, b, SIOCINQ)


# The cases in which no read meets an empty queue (Linux answers no read
# EAGAIN, with or without a peek): O_NONBLOCK and MSG_DONTWAIT cannot differ
# there, so they run with O_NONBLOCK only.
_NEVER_EMPTY = {
    "non_oob", "non_oob_no_reset", "oob", "oob_reset", "oob_ahead", "oob_ahead_break",
    "oob_break_drop", "ex_oob_break", "ex_oob_drop", "ex_oob_drop_2", "ex_oob_ex_oob",
    "ex_oob_ex_oob_oob", "ex_oob_ahead_break", "ex_oob_siocatmark", "inline_oob",
    "inline_oob_break", "inline_oob_ahead_break", "inline_ex_oob_break",
    "inline_ex_oob_no_drop", "inline_ex_oob_drop", "inline_ex_oob_siocatmark"
}


def _register_selftest(case, steps):
    grid = {"peek": (False, True), "kind": PAIR_KINDS}
    if case not in _NEVER_EMPTY:
        grid["nonblock"] = (True, False)

    @scenario(f"oob_selftest_{case}", params=grid)
    def run(k, t, peek, kind, nonblock=True):
        p, a, b, dw = _setup(k, kind, nonblock)
        _replay(t, p, a, b, dw, peek, steps)
    run.__name__ = f"oob_selftest_{case}"
    return run


for _case, _steps in SELFTEST.items():
    _register_selftest(_case, _steps)
del _case, _steps


# ============================================================== errors

@scenario("oob_send_errors_order")
def oob_send_errors_order(k, t):
    """A zero-length MSG_OOB send is EOPNOTSUPP before ENOTCONN, EISCONN and
    EPIPE; a non-empty one reaches them."""
    p = k.spawn(uid=1000, gid=1000)
    s = t.call(p.socket, AF_UNIX, STREAM | NB)
    for data in (b"", b"a", b"abc"):
        t.call(p.send, s, data, OOB)
        t.call(p.sendto, s, data, OOB, "/tmp/nothere")
        t.call(p.sendmsg, s, [data], (), OOB)
    a, b = t.call(p.socketpair, AF_UNIX, STREAM | NB)
    for data in (b"", b"a"):
        t.call(p.sendto, a, data, OOB, "/tmp/nothere")
        t.call(p.sendmsg, a, [data], (), OOB, "\0nothere")
    t.call(p.send, a, b"", OOB)
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.send, a, b"", OOB | NOSIG)
    t.call(p.send, a, b"x", OOB | NOSIG)
    t.call(p.sendmsg, a, [b"x"], [(SOL, 99, b"")], OOB | NOSIG)
    t.call(p.sendmsg, a, [b""], [(SOL, 99, b"")], OOB | NOSIG)
    _pending(t, p)


@scenario("oob_recv_errors")
def oob_recv_errors(k, t):
    """recv(MSG_OOB): EINVAL when not connected, listening or with no mark;
    EOPNOTSUPP / ENOTCONN on the message types; never EAGAIN."""
    p = k.spawn(uid=1000, gid=1000)
    s = t.call(p.socket, AF_UNIX, STREAM | NB)
    t.call(p.recv, s, 1, OOB)
    t.call(p.ioctl, s, SIOCATMARK)
    t.call(p.bind, s, "/tmp/lst")
    t.call(p.listen, s, 1)
    t.call(p.recv, s, 1, OOB)
    t.call(p.ioctl, s, SIOCATMARK)
    a, b = t.call(p.socketpair, AF_UNIX, STREAM)
    t.call(p.recv, b, 1, OOB)                # blocking socket, no mark: EINVAL at once
    t.call(p.recv, b, 1, OOB | PEEK)
    for sotype in (DGRAM, SEQPACKET):
        x, y = t.call(p.socketpair, AF_UNIX, sotype | NB)
        t.call(p.send, x, b"d", OOB)
        t.call(p.send, x, b"", OOB)
        t.call(p.recv, y, 1, OOB)
        t.call(p.send, x, b"")
        t.call(p.ioctl, y, SIOCATMARK)
        u = t.call(p.socket, AF_UNIX, sotype | NB)
        t.call(p.recv, u, 1, OOB)
        t.call(p.ioctl, u, SIOCATMARK)


@scenario("oob_to_gone_peer", params={"how": ("close", "shut_rd", "shut_wr_self")})
def oob_to_gone_peer(k, t, how):
    """An OOB send to a closed or read-shut peer is EPIPE with SIGPIPE (unless
    MSG_NOSIGNAL), checked before anything is queued."""
    p, a, b, _ = _setup(k)
    t.call(p.send, a, b"early", OOB)
    _cut(t, p, a, b, how)
    t.call(p.send, a, b"x", OOB | NOSIG)
    _pending(t, p, "no signal yet")
    t.call(p.send, a, b"xyz", OOB)
    _pending(t, p)
    if how != "close":
        t.call(p.recv, b, 10, OOB)
        t.call(p.recv, b, 10)
        t.call(p.ioctl, b, SIOCINQ)


# ========================================================== the byte

@scenario("oob_zero_length_reads", params={"peek": (False, True)})
def oob_zero_length_reads(k, t, peek):
    """recv(MSG_OOB) into no room still counts the byte (the stdlib's
    recv(0)/recv_into(0) make no syscall; recvmsg(0) does)."""
    p, a, b, _ = _setup(k)
    flags = OOB | (PEEK if peek else 0)
    t.call(p.send, a, b"ab", OOB)
    t.call(p.recv, b, 0, flags)
    t.call(p.recv_into, b, bytearray(0), 0, flags)
    t.call(p.recvmsg, b, 0, 0, flags)
    t.call(p.ioctl, b, SIOCINQ)
    t.call(p.recvmsg_into, b, [bytearray(0)], 0, flags)
    t.call(p.recvmsg_into, b, [bytearray(0), bytearray(2)], 0, flags)
    t.call(p.recv, b, 1, flags)
    t.call(p.recv, b, 10)
    t.call(p.recv, b, 10)


@scenario("oob_peek_repeats_and_flags")
def oob_peek_repeats_and_flags(k, t):
    """Peeking the byte leaves it; msg_flags say MSG_OOB; an OOB read carries
    no address and no credentials, even with SO_PASSCRED on named sockets."""
    p, a, b, _ = _setup(k, "abstract")
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 1)
    t.call(p.send, a, b"ab", OOB)
    for _ in range(2):
        t.call(p.recvmsg, b, 10, 64, OOB | PEEK)
    t.call(p.recvfrom, b, 10, OOB | PEEK)
    t.call(p.recvmsg, b, 10, 64, OOB)
    t.call(p.recvmsg, b, 10, 64, OOB)
    t.call(p.recvmsg, b, 10, 64)
    t.call(p.recvmsg, b, 10, 64)
    t.call(p.send, a, b"cd", OOB)
    t.call(p.recvfrom, b, 10, OOB)
    t.call(p.recvfrom, b, 10)


@scenario("oob_inline_toggle", params={"peek": (False, True)})
def oob_inline_toggle(k, t, peek):
    """SO_OOBINLINE: any value turns it on, on every type; with it on the
    byte is ordinary data but still a mark; turning it off mid-stream."""
    p, a, b, _ = _setup(k)
    for value in (7, 0, -1, 1):
        t.call(p.setsockopt, b, SOL, socket.SO_OOBINLINE, value)
        t.call(p.getsockopt, b, SOL, socket.SO_OOBINLINE)
    for sotype in (DGRAM, SEQPACKET):
        x, _ = t.call(p.socketpair, AF_UNIX, sotype)
        t.call(p.setsockopt, x, SOL, socket.SO_OOBINLINE, 1)
        t.call(p.getsockopt, x, SOL, socket.SO_OOBINLINE)
    extra = PEEK if peek else 0
    t.call(p.send, a, b"abc", OOB)
    t.call(p.send, a, b"def", OOB)
    t.call(p.recv, b, 10, extra)
    t.call(p.recv, b, 10, OOB)
    t.call(p.setsockopt, b, SOL, socket.SO_OOBINLINE, 0)
    t.call(p.recv, b, 10, OOB | extra)
    t.call(p.recv, b, 10)
    t.call(p.ioctl, b, SIOCATMARK)
    t.call(p.recv, b, 10)
    t.call(p.recv, b, 10, OOB)


@scenario("oob_with_rights", params={"size": (1, 3), "inline": (False, True),
                                      "read": ("oob_first", "data_first")})
def oob_with_rights(k, t, size, inline, read):
    """Files ride on the first skb: the data one, or the OOB byte itself when
    it is alone.  An OOB read never delivers them; skipping or consuming the
    byte out of band drops them (the pipe sees EOF)."""
    p, a, b, _ = _setup(k)
    r, w = t.call(p.pipe)
    if inline:
        t.call(p.setsockopt, b, SOL, socket.SO_OOBINLINE, 1)
    t.call(p.sendmsg, a, [b"xyz"[:size]], _rights(w), OOB)
    t.call(p.close, w)
    if read == "oob_first":
        t.call(p.recvmsg, b, 10, 64, OOB)
    t.call(p.recvmsg, b, 10, 64)
    t.call(p.recvmsg, b, 10, 64)
    t.call(p.recvmsg, b, 10, 64, OOB)
    k.gc()
    p.fcntl(r, fcntl.F_SETFL, os.O_NONBLOCK)
    t.call(p.read, r, 10)            # EOF once every copy of w is closed


@scenario("oob_credentials", params={"peek": (False, True)})
def oob_credentials(k, t, peek):
    """With SO_PASSCRED the byte carries the sender's credentials, so a read
    does not glue it to data from another writer -- and an OOB read of it
    reports none."""
    p, a, b, _ = _setup(k)
    c = p.fork()
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 1)
    t.call(p.send, a, b"one")
    t.call(c.send, a, b"two", OOB)
    t.call(p.send, a, b"three")
    extra = PEEK if peek else 0
    for flags in (extra, extra, OOB | extra, extra, extra):
        t.call(p.recvmsg, b, 20, 64, flags)


@scenario("oob_siocinq", params={"inline": (False, True)})
def oob_siocinq(k, t, inline):
    """SIOCINQ counts the byte; reading it out of band uncounts it; a normal
    read that drops an unread byte leaves it counted, as Linux 6.18 does."""
    p, a, b, _ = _setup(k)
    if inline:
        t.call(p.setsockopt, b, SOL, socket.SO_OOBINLINE, 1)
    t.call(p.send, a, b"0123456789")
    t.call(p.recv, b, 3)
    t.call(p.ioctl, b, SIOCINQ)
    t.call(p.send, a, b"ab", OOB)
    t.call(p.ioctl, b, SIOCINQ)
    t.call(p.recv, b, 100)
    t.call(p.ioctl, b, SIOCINQ)
    t.call(p.recv, b, 100)
    t.call(p.ioctl, b, SIOCINQ)
    t.call(p.send, a, b"cd", OOB)
    t.call(p.recv, b, 1, OOB)
    t.call(p.ioctl, b, SIOCINQ)
    t.call(p.recv, b, 100)
    t.call(p.ioctl, b, SIOCINQ)
    t.call(p.ioctl, a, 0x5411)                 # SIOCOUTQ


@scenario("oob_peek_off")
def oob_peek_off(k, t):
    """SO_PEEK_OFF peeks stop at the mark like reads, and an OOB read does not
    move the peek offset."""
    p, a, b, _ = _setup(k)
    t.call(p.setsockopt, b, SOL, SO_PEEK_OFF, 0)
    t.call(p.send, a, b"abcd", OOB)
    t.call(p.send, a, b"efgh")
    for _ in range(3):
        t.call(p.recv, b, 2, PEEK)
        t.call(p.getsockopt, b, SOL, SO_PEEK_OFF)
    t.call(p.recv, b, 1, OOB)
    t.call(p.getsockopt, b, SOL, SO_PEEK_OFF)
    t.call(p.recv, b, 10, PEEK)
    t.call(p.recv, b, 10)
    t.call(p.getsockopt, b, SOL, SO_PEEK_OFF)
    t.call(p.recv, b, 10, PEEK)


# ======================================================= blocking reads

@scenario("oob_blocking_read_stops_at_mark", params={"waitall": (False, True)})
def oob_blocking_read_stops_at_mark(k, t, waitall, kind="socketpair"):
    """A blocking read returns what it has at the mark, MSG_WAITALL or not
    (SO_RCVTIMEO turns a wrong wait into EAGAIN instead of a hang)."""
    p, a, b, _ = _setup(k, kind, nonblock=False)
    _timeout(t, p, b)
    t.call(p.send, a, b"hel", OOB)
    t.call(p.send, a, b"lo")
    flags = WAITALL if waitall else 0
    t.call(p.recv, b, 10, flags)
    t.call(p.recv, b, 10, flags)
    t.call(p.recv, b, 10, flags)
    t.call(p.setsockopt, b, SOL, socket.SO_RCVLOWAT, 4)
    t.call(p.send, a, b"xy", OOB)
    t.call(p.send, a, b"zzzz")
    t.call(p.recv, b, 10)
    t.call(p.recv, b, 10, OOB)
    t.call(p.recv, b, 10)


@scenario("oob_blocking_read_drops_lone_byte")
def oob_blocking_read_drops_lone_byte(k, t, kind="socketpair"):
    """A blocking read facing only an unread OOB byte drops it and waits."""
    p, a, b, _ = _setup(k, kind, nonblock=False)
    _timeout(t, p, b)
    t.call(p.send, a, b"x", OOB)
    t.call(p.recv, b, 10)
    t.call(p.recv, b, 10, OOB)
    t.call(p.ioctl, b, SIOCINQ)
    t.call(p.send, a, b"y")
    t.call(p.recv, b, 10)


@scenario("oob_full_send_buffer")
def oob_full_send_buffer(k, t):
    """The OOB byte needs send-buffer room like any skb: a non-blocking send
    into a full buffer is EAGAIN, or a short count when the data before the
    byte fit."""
    p, a, b, _ = _setup(k)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, 2048)
    sent = 0
    while sent < 1000:
        try:
            p.send(a, b"f" * 100, DW)
        except BlockingIOError:
            break
        sent += 1
    t.note("sends until full", sent)
    t.call(p.send, a, b"x", OOB | DW)
    t.call(p.send, a, b"abcdef", OOB | DW)
    t.call(p.recv, b, 1, OOB)
    t.call(p.recv, b, 100000)
    t.call(p.send, a, b"ok", OOB | DW)
    t.call(p.recv, b, 100000)
    t.call(p.recv, b, 1, OOB)


@scenario("oob_poll_bits", params={"inline": (False, True)})
def oob_poll_bits(k, t, inline):
    """Every revents bit around a pending and a consumed mark."""
    p, a, b, _ = _setup(k)
    if inline:
        t.call(p.setsockopt, b, SOL, socket.SO_OOBINLINE, 1)
    every = 0xffff
    t.call(p.send, a, b"hello", OOB)
    t.call(p.poll, [(b, every), (a, every)], 0)
    t.call(p.recv, b, 10)
    t.call(p.poll, [(b, every)], 0)
    t.call(p.recv, b, 10, OOB)
    t.call(p.poll, [(b, every)], 0)
    t.call(p.recv, b, 10)
    t.call(p.poll, [(b, every)], 0)
    t.call(p.send, a, b"z", OOB)
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.poll, [(b, every)], 0)
    t.call(p.close, a)
    t.call(p.poll, [(b, every)], 0)
    t.call(p.recv, b, 10, OOB)
    t.call(p.recv, b, 10)


@scenario("oob_reset_after_consumed", params={"how": ("oob", "inline", "dropped")})
def oob_reset_after_consumed(k, t, how):
    """Closing a receiver whose only skb is a consumed OOB byte resets
    nobody; an unread one does."""
    p, a, b, _ = _setup(k)
    c, d = t.call(p.socketpair, AF_UNIX, STREAM | NB)
    if how == "inline":
        t.call(p.setsockopt, b, SOL, socket.SO_OOBINLINE, 1)
    t.call(p.send, a, b"x", OOB)
    t.call(p.send, c, b"x", OOB)              # never read: d's close resets c
    t.call(p.recv, b, 1, OOB if how == "oob" else 0)
    t.call(p.close, b)
    t.call(p.close, d)
    t.call(p.recv, a, 1)
    t.call(p.recv, c, 1)
    t.call(p.getsockopt, a, SOL, socket.SO_ERROR)


# ======================================================== owners, SIGURG

@scenario("oob_sigurg_owner", params={"how": ("F_SETOWN", "FIOSETOWN", "SIOCSPGRP")})
def oob_sigurg_owner(k, t, how):
    """SIGURG goes to the receiving file's owner, once an OOB byte is queued,
    not to the sender; no owner, no signal; a failed send signals nobody."""
    p = k.spawn(uid=1000, gid=1000)
    w = k.spawn(uid=1000, gid=1000)
    other = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, AF_UNIX, STREAM | NB)
    t.call(p.send, a, b"x", OOB)
    t.step("no owner: nobody", lambda: (set(p.pending_signals), set(w.pending_signals)))
    if how == "F_SETOWN":
        t.call(p.fcntl, b, fcntl.F_SETOWN, w.pid)
        t.step("F_GETOWN is w", lambda: p.fcntl(b, fcntl.F_GETOWN) == w.pid)
    else:
        t.call(p.ioctl, b, FIOSETOWN if how == "FIOSETOWN" else SIOCSPGRP, w.pid)
    t.step("FIOGETOWN is w", lambda: p.ioctl(b, FIOGETOWN) == w.pid)
    t.step("SIOCGPGRP is w", lambda: p.ioctl(b, SIOCGPGRP) == w.pid)
    t.call(p.send, a, b"plain")
    t.step("plain data: nobody", lambda: set(w.pending_signals))
    t.call(p.send, a, b"", OOB)
    t.step("failed send: nobody", lambda: set(w.pending_signals))
    t.call(p.send, a, b"yz", OOB)
    t.step("owner w signalled", lambda: (set(p.pending_signals), set(w.pending_signals),
                                        set(other.pending_signals)))
    t.call(p.fcntl, a, fcntl.F_SETOWN, other.pid)  # the sender's own file: irrelevant
    t.call(p.send, b, b"back")
    t.step("other not signalled", lambda: set(other.pending_signals))
    t.call(p.send, b, b"!", OOB)
    t.step("now it is", lambda: set(other.pending_signals))
    t.call(p.fcntl, b, fcntl.F_SETOWN, 0)
    t.step("cleared", lambda: p.fcntl(b, fcntl.F_GETOWN))


@scenario("oob_sigurg_permission", needs={"ids"})
def oob_sigurg_permission(k, t):
    """sigio_perm: the owner's setter must be root or share a uid with the
    target; fd passing moves the file, and its owner with it."""
    root = k.spawn()
    u1 = k.spawn(uid=1000, gid=1000)
    u2 = k.spawn(uid=1001, gid=1001)
    for setter, target in ((u1, root), (u1, u2), (root, u2), (u2, u2)):
        a, b = t.call(setter.socketpair, AF_UNIX, STREAM | NB)
        t.call(setter.fcntl, b, fcntl.F_SETOWN, target.pid)
        t.call(setter.send, a, b"x", OOB)
        t.step("signals", lambda: (set(root.pending_signals), set(u1.pending_signals),
                                   set(u2.pending_signals)))
    a, b = t.call(root.socketpair, AF_UNIX, STREAM | NB)
    t.call(root.fcntl, b, fcntl.F_SETOWN, u1.pid)
    x, y = t.call(root.socketpair)
    t.call(root.send_fds, x, [b"f"], [b])
    _, fds, _, _ = root.recv_fds(y, 1, 1)
    t.step("owner travels with the file", lambda: root.fcntl(fds[0], fcntl.F_GETOWN) == u1.pid)


@scenario("oob_sigurg_process_group")
def oob_sigurg_process_group(k, t):
    """A negative owner is a process group: every member gets SIGURG (a
    fork stays in its parent's group, a spawned process leads its own)."""
    p = k.spawn(uid=1000, gid=1000)
    child = p.fork()
    stranger = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, AF_UNIX, STREAM | NB)
    t.call(p.ioctl, b, FIOSETOWN, -p.pid)
    t.step("SIOCGPGRP is -pgid", lambda: p.ioctl(b, SIOCGPGRP) == -p.pid)
    t.call(p.send, a, b"x", OOB)
    t.step("group signalled", lambda: (set(p.pending_signals), set(child.pending_signals),
                                       set(stranger.pending_signals)))


@scenario("fown_fcntl_errors")
def fown_fcntl_errors(k, t):
    """F_SETOWN/F_GETOWN on sockets, pipes and files; ESRCH for nobody;
    INT_MIN is EINVAL; the owner ioctls are socket-only (ENOTTY)."""
    p = k.spawn(uid=1000, gid=1000)
    s = t.call(p.socket, AF_UNIX, STREAM)
    r, w = t.call(p.pipe)
    f = t.call(p.open, "/tmp/file", os.O_CREAT | os.O_RDWR, 0o600)
    for fd in (s, r, f):
        t.call(p.fcntl, fd, fcntl.F_GETOWN)
        t.call(p.fcntl, fd, fcntl.F_SETOWN, 999999)
        t.call(p.fcntl, fd, fcntl.F_SETOWN, -999999)
        t.call(p.fcntl, fd, fcntl.F_SETOWN, -2**31)
        t.call(p.fcntl, fd, fcntl.F_SETOWN, p.pid)
        t.step("F_GETOWN", lambda: p.fcntl(fd, fcntl.F_GETOWN) == p.pid)
        t.call(p.fcntl, fd, fcntl.F_SETOWN, 0)
        t.call(p.fcntl, fd, fcntl.F_GETOWN)
    for fd in (r, f):
        for req in (FIOGETOWN, SIOCGPGRP, FIOSETOWN):
            t.call(p.ioctl, fd, req)
    t.call(p.ioctl, s, FIOSETOWN, 999999)
    t.call(p.ioctl, s, FIOGETOWN)
    d = t.call(p.dup, s)
    t.call(p.fcntl, d, fcntl.F_SETOWN, p.pid)
    t.step("shared by dup", lambda: p.fcntl(s, fcntl.F_GETOWN) == p.pid)


# ======================================================= SO_PASSRIGHTS

@scenario("passrights", params={"sotype": (STREAM, SEQPACKET, DGRAM), "kind": PAIR_KINDS})
def passrights(k, t, sotype, kind):
    """SO_PASSRIGHTS (on by default): a receiver that turns it off refuses
    SCM_RIGHTS with EPERM -- after the peer checks, before queueing -- while
    plain data and the other direction still flow."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, kind, True)
    r, w = t.call(p.pipe)
    t.call(p.getsockopt, b, SOL, SO_PASSRIGHTS)
    for value in (0, 5, -1, 0):
        t.call(p.setsockopt, b, SOL, SO_PASSRIGHTS, value)
        t.call(p.getsockopt, b, SOL, SO_PASSRIGHTS)
    t.call(p.sendmsg, a, [b"x"], _rights(w))
    t.call(p.sendmsg, a, [b""], _rights(w))
    t.call(p.sendmsg, a, [b"y"])
    t.call(p.sendmsg, b, [b"back"], _rights(r))
    t.call(p.recvmsg, b, 10, 64)
    t.call(p.recv_fds, a, 10, 2)
    t.call(p.ioctl, b, SIOCINQ)
    t.call(p.shutdown, b, socket.SHUT_RD)
    t.call(p.sendmsg, a, [b"z"], _rights(w), NOSIG)
    t.call(p.close, b)
    t.call(p.sendmsg, a, [b"z"], _rights(w), NOSIG)
    _pending(t, p)


@scenario("passrights_dgram_named")
def passrights_dgram_named(k, t):
    """Datagrams by name: EPERM comes after the RCV_SHUTDOWN check."""
    p = k.spawn(uid=1000, gid=1000)
    r, w = t.call(p.pipe)
    x = t.call(p.socket, AF_UNIX, DGRAM | NB)
    t.call(p.bind, x, b"\0prx")
    t.call(p.setsockopt, x, SOL, SO_PASSRIGHTS, 0)
    y = t.call(p.socket, AF_UNIX, DGRAM | NB)
    t.call(p.sendmsg, y, [b"m"], _rights(w), 0, b"\0prx")
    t.call(p.sendmsg, y, [b"m"], (), 0, b"\0prx")
    t.call(p.shutdown, x, socket.SHUT_RD)
    t.call(p.sendmsg, y, [b"m"], _rights(w), 0, b"\0prx")
    t.call(p.recvmsg, x, 10, 64)


@scenario("listener_inheritance", params={"when": ("before_connect", "after_connect"),
                                          "sotype": (STREAM, SEQPACKET)})
def listener_inheritance(k, t, when, sotype):
    """An accepted socket takes SO_PASSCRED and SO_PASSRIGHTS from its
    listener as they were at connect() -- and nothing else."""
    p = k.spawn(uid=1000, gid=1000)
    lst = t.call(p.socket, AF_UNIX, sotype)
    t.call(p.bind, lst, "/tmp/inherit")
    t.call(p.listen, lst, 4)
    opts = [(socket.SO_PASSCRED, 1), (SO_PASSRIGHTS, 0), (socket.SO_OOBINLINE, 1),
            (socket.SO_RCVLOWAT, 7), (SO_PEEK_OFF, 3), (socket.SO_KEEPALIVE, 1)]

    def set_all():
        for opt, value in opts:
            t.call(p.setsockopt, lst, SOL, opt, value)
    if when == "before_connect":
        set_all()
    c = t.call(p.socket, AF_UNIX, sotype)
    t.call(p.connect, c, "/tmp/inherit")
    if when == "after_connect":
        set_all()
    s, _ = t.call(p.accept, lst) or (None, None)
    for opt, _ in opts:
        t.call(p.getsockopt, s, SOL, opt)
        t.call(p.getsockopt, c, SOL, opt)
    r, w = t.call(p.pipe)
    t.call(p.sendmsg, c, [b"f"], _rights(w))
    t.call(p.send, c, b"data")
    t.call(p.recvmsg, s, 10, 64)


@scenario("oob_message_types_order", params={"sotype": (DGRAM, SEQPACKET)})
def oob_message_types_order(k, t, sotype):
    """On the message types MSG_OOB is EOPNOTSUPP right after the control
    data is parsed: before the destination is validated or looked up, and
    before SO_PASSCRED autobinds the sender."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, AF_UNIX, sotype | NB)
    t.call(p.setsockopt, a, SOL, socket.SO_PASSCRED, 1)
    t.call(p.send, a, b"x", OOB)
    t.call(p.sendmsg, a, [b"x"], (), OOB)
    t.call(p.sendto, a, b"x", "/tmp/nothere", OOB)
    t.call(p.getsockname, a)
    t.call(p.sendmsg, a, [b"x"], [(SOL, 99, b"")], OOB)
    u = t.call(p.socket, AF_UNIX, sotype | NB)
    t.call(p.setsockopt, u, SOL, socket.SO_PASSCRED, 1)
    for name in ("/tmp/nothere", "", "/" + "a" * 120, "/" + "a" * 130):
        t.call(p.sendto, u, b"x", name, OOB)
    t.call(p.sendto, u, b"x" * 300000, "/tmp/nothere", OOB)
    t.call(p.getsockname, u)
    t.call(p.send, a, b"x")
    t.call(p.getsockname, a)
