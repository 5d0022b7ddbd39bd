"""Connected pairs seen from both ends, in the manner of gVisor's
socket_unix_pair / socket_unix_seqpacket / socket_unix_non_stream /
socket_unix_stream suites: message boundaries under varied receive sizes,
interleaved traffic, peeking, scatter/gather, queue ioctls and poll masks
step by step, shutdown and close seen from the other end, buffer fill
counts, low-water marks, dup'd descriptors, file status flags, credentials
and descriptor passing.

Every scenario runs over :data:`PAIR_GRID` (socket type x pair kind x
blocking mode) less the axes it cannot observe (``TYPE_KIND_GRID``,
``TYPE_MODE_GRID``, ``TYPE_GRID``: see the harness), and is named
``pairs_<behaviour>``.  Nothing here may block:
in blocking mode every receive carries ``MSG_DONTWAIT``, sends are small and
buffer fills use ``MSG_DONTWAIT``; there are no accepts and no threads.
"""
import errno
import fcntl
import os
import select
import socket

from ..harness import (PAIR_GRID, TYPE_GRID, TYPE_KIND_GRID, TYPE_MODE_GRID, make_pair,
                       scenario)

STREAM, DGRAM, SEQPACKET = socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET
SOL = socket.SOL_SOCKET
DW, PEEK, TRUNC = socket.MSG_DONTWAIT, socket.MSG_PEEK, socket.MSG_TRUNC
NOSIG, WAITALL = socket.MSG_NOSIGNAL, socket.MSG_WAITALL
POLLIN, POLLOUT, POLLPRI = select.POLLIN, select.POLLOUT, select.POLLPRI
POLLRDHUP = getattr(select, "POLLRDHUP", 0x2000)
ALL_EVENTS = POLLIN | POLLOUT | POLLPRI | POLLRDHUP
FIONREAD, SIOCOUTQ = 0x541B, 0x5411


# The pair helpers are generic.py's (same grid, same conventions).
from .generic import _dw, _poll, _recv, _setup  # noqa: E402


def _queues(t, p, *fds):
    for fd in fds:
        t.call(p.ioctl, fd, FIONREAD)
        t.call(p.ioctl, fd, SIOCOUTQ)


def _into(t, p, fd, sizes, flags):
    """recvmsg_into fresh buffers of ``sizes``; records the call and the buffers."""
    bufs = [bytearray(n) for n in sizes]
    t.call(p.recvmsg_into, fd, bufs, 0, flags)
    t.note("bufs", [bytes(x) for x in bufs])


def _recv_into(t, p, fd, size, nbytes, flags):
    buf = bytearray(size)
    t.call(p.recv_into, fd, buf, nbytes, flags)
    t.note("buf", bytes(buf))


def _fill(p, fd, size=1000, limit=2000):
    """Non-blocking sends of ``size`` bytes until EAGAIN; the count."""
    data = b"f" * size
    for n in range(limit):
        try:
            p.send(fd, data, DW | NOSIG)
        except OSError as e:
            if e.errno == errno.EAGAIN:
                return n
            raise
    return limit


def _drain(p, fd, limit=4000):
    """Non-blocking reads until EAGAIN (or EOF); total bytes read."""
    total = 0
    for _ in range(limit):
        try:
            data = p.recv(fd, 65536, DW)
        except OSError as e:
            if e.errno == errno.EAGAIN:
                return total
            raise
        if not data:
            return total
        total += len(data)
    return total


# =============================================================== data and boundaries

@scenario("pairs_sizes_varied_reads", params=TYPE_MODE_GRID)
def pairs_sizes_varied_reads(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for n in (1, 7, 64, 300, 2):
        t.call(p.send, a, bytes([97 + n % 26]) * n)
    for n in (3, 3, 100, 5, 500, 1, 10):
        _recv(t, p, b, n, nonblock)


@scenario("pairs_sizes_exact_reads", params=TYPE_MODE_GRID)
def pairs_sizes_exact_reads(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    sizes = (5, 1, 17, 4)
    for i, n in enumerate(sizes):
        t.call(p.send, b, bytes([65 + i]) * n)
    for n in sizes:
        _recv(t, p, a, n, nonblock)
    _recv(t, p, a, 10, nonblock)


@scenario("pairs_sizes_large_read", params=TYPE_MODE_GRID)
def pairs_sizes_large_read(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for chunk in (b"one", b"two2", b"three"):
        t.call(p.send, a, chunk)
    _recv(t, p, b, 4096, nonblock)
    _recv(t, p, b, 4096, nonblock)
    _recv(t, p, b, 4096, nonblock)
    _recv(t, p, b, 4096, nonblock)


@scenario("pairs_interleaved_both_ends", params=TYPE_MODE_GRID)
def pairs_interleaved_both_ends(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"a1")
    t.call(p.send, b, b"b1")
    t.call(p.send, a, b"a22")
    _recv(t, p, b, 1, nonblock)
    t.call(p.send, b, b"b22")
    _recv(t, p, a, 10, nonblock)
    _recv(t, p, b, 10, nonblock)
    _recv(t, p, a, 10, nonblock)
    _recv(t, p, a, 10, nonblock)
    _recv(t, p, b, 10, nonblock)


@scenario("pairs_echo_rounds", params=TYPE_GRID)
def pairs_echo_rounds(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for i in range(4):
        t.call(p.send, a, b"ping%d" % i)
        got = _recv(t, p, b, 16, nonblock)
        t.call(p.send, b, (got or b"").upper())
        _recv(t, p, a, 16, nonblock)
    _queues(t, p, a, b)


@scenario("pairs_recv_into_partial", params=TYPE_MODE_GRID)
def pairs_recv_into_partial(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"abcdefgh")
    t.call(p.send, a, b"ij")
    _recv_into(t, p, b, 16, 3, _dw(nonblock))
    _recv_into(t, p, b, 4, 0, _dw(nonblock))
    _recv_into(t, p, b, 16, 0, _dw(nonblock))


# =============================================================== peek

@scenario("pairs_peek_sizes_then_read", params=TYPE_MODE_GRID)
def pairs_peek_sizes_then_read(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"0123456789")
    t.call(p.send, a, b"XYZ")
    for n in (1, 5, 10, 11, 100):
        _recv(t, p, b, n, nonblock, PEEK)
    _recv(t, p, b, 4, nonblock)
    _recv(t, p, b, 100, nonblock, PEEK)
    _recv(t, p, b, 100, nonblock)
    _recv(t, p, b, 100, nonblock)


@scenario("pairs_peek_both_ends", params=TYPE_MODE_GRID)
def pairs_peek_both_ends(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"to-b")
    t.call(p.send, b, b"to-a!")
    _recv(t, p, a, 2, nonblock, PEEK)
    _recv(t, p, b, 2, nonblock, PEEK)
    _queues(t, p, a, b)
    _recv(t, p, a, 10, nonblock)
    _recv(t, p, b, 10, nonblock)
    _recv(t, p, a, 10, nonblock, PEEK)


@scenario("pairs_peek_trunc", params=TYPE_KIND_GRID)
def pairs_peek_trunc(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"abcdefghij")
    _recv(t, p, b, 3, nonblock, PEEK | TRUNC)
    t.call(p.recvmsg, b, 3, 0, PEEK | _dw(nonblock))
    t.call(p.recvmsg, b, 3, 0, _dw(nonblock))
    t.call(p.ioctl, b, FIONREAD)


@scenario("pairs_peek_empty", params=TYPE_MODE_GRID)
def pairs_peek_empty(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    _recv(t, p, b, 10, nonblock, PEEK)
    t.call(p.shutdown, a, socket.SHUT_WR)
    _recv(t, p, b, 10, nonblock, PEEK)
    _recv(t, p, b, 10, nonblock)


# =============================================================== addresses

@scenario("pairs_recvfrom_each_end", params=PAIR_GRID)
def pairs_recvfrom_each_end(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"from-a")
    t.call(p.send, b, b"from-b")
    t.call(p.recvfrom, b, 3, _dw(nonblock))
    t.call(p.recvfrom, a, 100, _dw(nonblock))
    t.call(p.recvfrom, b, 100, _dw(nonblock))
    t.call(p.recvfrom, a, 100, _dw(nonblock))


@scenario("pairs_recvmsg_address_each_end", params=TYPE_KIND_GRID)
def pairs_recvmsg_address_each_end(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.sendmsg, a, [b"x", b"y"])
    t.call(p.sendmsg, b, [b"zz"])
    t.call(p.recvmsg, a, 10, 0, _dw(nonblock))
    t.call(p.recvmsg, b, 10, 0, _dw(nonblock))
    t.call(p.getsockname, a)
    t.call(p.getpeername, b)


# =============================================================== scatter / gather

@scenario("pairs_recvmsg_into_one_two_three", params=PAIR_GRID)
def pairs_recvmsg_into_one_two_three(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    for msg in (b"abcdefg", b"hijklmnopq", b"rstuvwxyz0123"):
        t.call(p.send, a, msg)
    _into(t, p, b, [5], _dw(nonblock))
    _into(t, p, b, [3, 5], _dw(nonblock))
    _into(t, p, b, [1, 3, 7], _dw(nonblock))
    _into(t, p, b, [2, 2, 2], _dw(nonblock))


@scenario("pairs_recvmsg_into_zero_len_iovs", params=TYPE_KIND_GRID)
def pairs_recvmsg_into_zero_len_iovs(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"abcdef")
    t.call(p.send, a, b"gh")
    _into(t, p, b, [0, 3, 0, 1], _dw(nonblock))
    _into(t, p, b, [0, 0, 9], _dw(nonblock))
    t.call(p.ioctl, b, FIONREAD)


@scenario("pairs_sendmsg_many_small", params=TYPE_MODE_GRID)
def pairs_sendmsg_many_small(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.sendmsg, a, [bytes([48 + i % 10]) for i in range(40)])
    t.call(p.sendmsg, a, [b"ab"] * 16)
    t.call(p.ioctl, b, FIONREAD)
    _recv(t, p, b, 100, nonblock)
    _recv(t, p, b, 100, nonblock)
    _recv(t, p, b, 100, nonblock)


@scenario("pairs_sendmsg_iovs_recvmsg_into_odd", params=PAIR_GRID)
def pairs_sendmsg_iovs_recvmsg_into_odd(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.sendmsg, b, [b"123", b"45", b"6789", b"0"])
    t.call(p.sendmsg, b, [b"", b"tail"])
    _into(t, p, a, [3, 1, 5], _dw(nonblock))
    _into(t, p, a, [1, 1, 1], _dw(nonblock))
    _into(t, p, a, [7], _dw(nonblock))


# =============================================================== queue ioctls

@scenario("pairs_fionread_after_partial_reads", params=TYPE_MODE_GRID)
def pairs_fionread_after_partial_reads(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"0123456789")
    t.call(p.send, a, b"abcde")
    t.call(p.ioctl, b, FIONREAD)
    for n in (2, 5, 3, 4, 10):
        _recv(t, p, b, n, nonblock)
        t.call(p.ioctl, b, FIONREAD)


@scenario("pairs_siocoutq_after_sends_and_reads", params=TYPE_GRID)
def pairs_siocoutq_after_sends_and_reads(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    _queues(t, p, a, b)
    t.call(p.send, a, b"x" * 100)
    t.call(p.send, a, b"y" * 50)
    _queues(t, p, a, b)
    _recv(t, p, b, 60, nonblock)
    _queues(t, p, a, b)
    _recv(t, p, b, 200, nonblock)
    _queues(t, p, a, b)


@scenario("pairs_ioctls_both_directions", params=TYPE_GRID)
def pairs_ioctls_both_directions(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"abc")
    t.call(p.send, b, b"defgh")
    _queues(t, p, a, b)
    _recv(t, p, a, 2, nonblock)
    _queues(t, p, a, b)


# =============================================================== poll

@scenario("pairs_poll_each_step", params=PAIR_GRID)
def pairs_poll_each_step(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    _poll(t, p, a, b)
    t.call(p.send, a, b"abcd")
    _poll(t, p, a, b)
    _recv(t, p, b, 2, nonblock)
    _poll(t, p, a, b)
    _recv(t, p, b, 10, nonblock)
    _poll(t, p, a, b)


@scenario("pairs_poll_masks_subsets", params=TYPE_KIND_GRID)
def pairs_poll_masks_subsets(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"q")
    for ev in (POLLIN, POLLOUT, POLLPRI, POLLRDHUP, 0, POLLIN | POLLRDHUP):
        _poll(t, p, a, b, events=ev)


@scenario("pairs_poll_shut_wr_both_ends", params=TYPE_KIND_GRID)
def pairs_poll_shut_wr_both_ends(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.shutdown, a, socket.SHUT_WR)
    _poll(t, p, a, b)
    t.call(p.shutdown, b, socket.SHUT_WR)
    _poll(t, p, a, b)


@scenario("pairs_poll_shut_rd_both_ends", params=TYPE_KIND_GRID)
def pairs_poll_shut_rd_both_ends(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, b, b"queued")
    t.call(p.shutdown, a, socket.SHUT_RD)
    _poll(t, p, a, b)
    _recv(t, p, a, 10, nonblock)
    _poll(t, p, a, b)


@scenario("pairs_poll_full_then_drained", params=PAIR_GRID)
def pairs_poll_full_then_drained(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, 4096)
    t.step("fill(a)", _fill, p, a, 1000)
    _poll(t, p, a, b)
    t.step("drain(b)", _drain, p, b)
    _poll(t, p, a, b)


# =============================================================== shutdown

@scenario("pairs_shut_rd_then_peer_sends", params=TYPE_MODE_GRID)
def pairs_shut_rd_then_peer_sends(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.shutdown, b, socket.SHUT_RD)
    t.call(p.send, a, b"after", NOSIG)
    t.call(p.ioctl, b, FIONREAD)
    _recv(t, p, b, 10, nonblock)
    t.call(p.send, b, b"back", NOSIG)
    _recv(t, p, a, 10, nonblock)
    t.step("pending_signals", lambda: set(p.pending_signals))


@scenario("pairs_shut_wr_then_sends", params=TYPE_MODE_GRID)
def pairs_shut_wr_then_sends(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"before")
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.send, a, b"after", NOSIG)
    t.call(p.sendmsg, a, [b"x"], (), NOSIG)
    _recv(t, p, b, 100, nonblock)
    _recv(t, p, b, 100, nonblock)
    t.call(p.send, b, b"reply")
    _recv(t, p, a, 100, nonblock)
    t.call(p.getsockopt, a, SOL, socket.SO_ERROR)


@scenario("pairs_shut_rd_send_epipe", params=TYPE_GRID)
def pairs_shut_rd_send_epipe(k, t, sotype, kind="socketpair", nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.shutdown, a, socket.SHUT_RD)
    t.call(p.send, b, b"1", NOSIG)
    t.call(p.sendmsg, b, [b"2"], (), NOSIG)
    t.call(p.send, a, b"3", NOSIG)
    _recv(t, p, b, 10, nonblock)
    t.call(p.getsockopt, b, SOL, socket.SO_ERROR)
    t.step("pending_signals", lambda: set(p.pending_signals))


@scenario("pairs_shut_rdwr_each_end_data", params=PAIR_GRID)
def pairs_shut_rdwr_each_end_data(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"to-b")
    t.call(p.send, b, b"to-a")
    t.call(p.shutdown, a, socket.SHUT_RDWR)
    _queues(t, p, a, b)
    _recv(t, p, a, 10, nonblock)
    _recv(t, p, b, 10, nonblock)
    _recv(t, p, b, 10, nonblock)
    t.call(p.send, b, b"more", NOSIG)
    _poll(t, p, a, b)


@scenario("pairs_shutdown_via_dup", params=PAIR_GRID)
def pairs_shutdown_via_dup(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    d = t.call(p.dup, a)
    t.call(p.shutdown, d, socket.SHUT_WR)
    t.call(p.send, a, b"via-orig", NOSIG)
    _recv(t, p, b, 10, nonblock)
    t.call(p.close, d)
    t.call(p.send, b, b"still", NOSIG)
    _recv(t, p, a, 10, nonblock)
    _poll(t, p, a, b)


@scenario("pairs_dup_close_original_peer_sees", params=PAIR_GRID)
def pairs_dup_close_original_peer_sees(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    d = t.call(p.dup, b)
    t.call(p.close, b)
    t.call(p.send, a, b"hello", NOSIG)
    _recv(t, p, d, 10, nonblock)
    _poll(t, p, a, d)
    t.call(p.close, d)
    _poll(t, p, a)
    t.call(p.send, a, b"gone", NOSIG)


# =============================================================== close with data queued

@scenario("pairs_close_reader_with_data", params=PAIR_GRID)
def pairs_close_reader_with_data(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"unread")
    t.call(p.close, b)
    _poll(t, p, a)
    t.call(p.getsockopt, a, SOL, socket.SO_ERROR)
    t.call(p.send, a, b"x", NOSIG)
    _recv(t, p, a, 10, nonblock)
    t.call(p.getsockopt, a, SOL, socket.SO_ERROR)
    _recv(t, p, a, 10, nonblock)


@scenario("pairs_close_writer_with_data", params=PAIR_GRID)
def pairs_close_writer_with_data(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"left1")
    t.call(p.send, a, b"left2")
    t.call(p.close, a)
    _poll(t, p, b)
    t.call(p.ioctl, b, FIONREAD)
    _recv(t, p, b, 3, nonblock)
    _recv(t, p, b, 10, nonblock)
    _recv(t, p, b, 10, nonblock)
    t.call(p.getsockopt, b, SOL, socket.SO_ERROR)


@scenario("pairs_close_both_directions_queued", params=PAIR_GRID)
def pairs_close_both_directions_queued(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"a->b")
    t.call(p.send, b, b"b->a")
    t.call(p.close, a)
    t.call(p.getsockopt, b, SOL, socket.SO_ERROR)
    _poll(t, p, b)
    _recv(t, p, b, 10, nonblock)
    t.call(p.getsockopt, b, SOL, socket.SO_ERROR)
    _recv(t, p, b, 10, nonblock)


# =============================================================== buffer sizes and fill counts

@scenario("pairs_sndbuf_values_fill", params=TYPE_MODE_GRID)
def pairs_sndbuf_values_fill(k, t, sotype, nonblock, kind="socketpair"):
    for v in (2048, 8192, 32768):
        p, a, b = _setup(k, sotype, kind, nonblock)
        t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, v)
        t.call(p.getsockopt, a, SOL, socket.SO_SNDBUF)
        t.step(f"fill(sndbuf={v})", _fill, p, a, 1000)
        t.call(p.send, a, b"z", DW | NOSIG)


@scenario("pairs_fill_drain_refill", params=TYPE_MODE_GRID)
def pairs_fill_drain_refill(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, 8192)
    t.step("fill(a)", _fill, p, a, 1000)
    t.call(p.ioctl, b, FIONREAD)
    t.step("drain(b)", _drain, p, b)
    t.step("refill(a)", _fill, p, a, 1000)
    t.call(p.ioctl, b, FIONREAD)


@scenario("pairs_fill_small_messages", params=TYPE_MODE_GRID)
def pairs_fill_small_messages(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, 4096)
    t.step("fill(a, 10)", _fill, p, a, 10, 5000)
    t.call(p.send, b, b"other-way", DW)
    _recv(t, p, a, 20, nonblock)


@scenario("pairs_rcvbuf_no_effect_on_fill", params=TYPE_MODE_GRID)
def pairs_rcvbuf_no_effect_on_fill(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, 8192)
    t.call(p.setsockopt, b, SOL, socket.SO_RCVBUF, 2048)
    t.call(p.getsockopt, b, SOL, socket.SO_RCVBUF)
    t.step("fill(a)", _fill, p, a, 1000)


# =============================================================== low-water mark, waitall

@scenario("pairs_rcvlowat_nonblocking_reads", params=PAIR_GRID)
def pairs_rcvlowat_nonblocking_reads(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, b, SOL, socket.SO_RCVLOWAT, 5)
    t.call(p.getsockopt, b, SOL, socket.SO_RCVLOWAT)
    t.call(p.send, a, b"ab")
    _poll(t, p, b)
    _recv(t, p, b, 10, nonblock)
    t.call(p.send, a, b"cdefgh")
    _poll(t, p, b)
    _recv(t, p, b, 3, nonblock)
    _recv(t, p, b, 10, nonblock)


@scenario("pairs_waitall_dontwait_partial", params=TYPE_MODE_GRID)
def pairs_waitall_dontwait_partial(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"abc")
    t.call(p.send, a, b"defg")
    t.call(p.recv, b, 20, WAITALL | DW)
    t.call(p.recv, b, 20, WAITALL | DW)
    t.call(p.recv, b, 20, WAITALL | DW)
    t.call(p.send, a, b"hij")
    t.call(p.recv, b, 2, WAITALL | DW)
    t.call(p.recv, b, 2, WAITALL | DW)


@scenario("pairs_waitall_after_shut_wr", params=TYPE_MODE_GRID)
def pairs_waitall_after_shut_wr(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send, a, b"12")
    t.call(p.send, a, b"345")
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.recv, b, 100, WAITALL | DW)
    t.call(p.recv, b, 100, WAITALL | DW)
    t.call(p.recv, b, 100, WAITALL | DW)


# =============================================================== fcntl

@scenario("pairs_fcntl_getfl_setfl_roundtrip", params=TYPE_MODE_GRID)
def pairs_fcntl_getfl_setfl_roundtrip(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    fl = t.call(p.fcntl, a, fcntl.F_GETFL) or 0
    t.call(p.fcntl, a, fcntl.F_SETFL, fl ^ os.O_NONBLOCK)
    t.call(p.fcntl, a, fcntl.F_GETFL)
    t.call(p.fcntl, b, fcntl.F_GETFL)
    t.call(p.recv, a, 10, DW)
    t.call(p.fcntl, a, fcntl.F_SETFL, fl | os.O_NONBLOCK)
    t.call(p.recv, a, 10)       # non-blocking now: EAGAIN
    t.call(p.fcntl, a, fcntl.F_SETFL, fl)
    t.call(p.fcntl, a, fcntl.F_GETFL)


@scenario("pairs_fcntl_nonblock_via_dup", params=PAIR_GRID)
def pairs_fcntl_nonblock_via_dup(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    d = t.call(p.dup, b)
    fl = t.call(p.fcntl, d, fcntl.F_GETFL) or 0
    t.call(p.fcntl, d, fcntl.F_SETFL, fl | os.O_NONBLOCK)
    t.call(p.fcntl, b, fcntl.F_GETFL)
    t.call(p.recv, b, 10)
    t.call(p.fcntl, d, fcntl.F_GETFD)
    t.call(p.fcntl, d, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
    t.call(p.fcntl, d, fcntl.F_GETFD)
    t.call(p.fcntl, b, fcntl.F_GETFD)


# =============================================================== credentials

@scenario("pairs_passcred_each_end", params=TYPE_KIND_GRID)
def pairs_passcred_each_end(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, a, SOL, socket.SO_PASSCRED, 1)
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 1)
    t.call(p.send, a, b"from-a")
    t.call(p.send, b, b"from-b")
    t.call(p.recvmsg, b, 20, 256, _dw(nonblock))
    t.call(p.recvmsg, a, 20, 256, _dw(nonblock))


@scenario("pairs_passcred_receiver_only", params=TYPE_KIND_GRID)
def pairs_passcred_receiver_only(k, t, sotype, kind, nonblock=False):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 1)
    t.call(p.send, a, b"one")
    t.call(p.send, b, b"two")
    t.call(p.recvmsg, b, 20, 256, _dw(nonblock))
    t.call(p.recvmsg, a, 20, 256, _dw(nonblock))
    t.call(p.getsockopt, a, SOL, socket.SO_PASSCRED)


@scenario("pairs_passcred_forked_sender", params=PAIR_GRID)
def pairs_passcred_forked_sender(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 1)
    c = t.call(p.fork)
    t.call(c.send, a, b"child")
    t.call(p.send, a, b"parent")
    t.call(p.recvmsg, b, 20, 256, _dw(nonblock))
    t.call(p.recvmsg, b, 20, 256, _dw(nonblock))


# =============================================================== descriptor passing

@scenario("pairs_scm_rights_peer_fd", params=PAIR_GRID)
def pairs_scm_rights_peer_fd(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send_fds, a, [b"fd"], [b])
    got = t.call(p.recv_fds, b, 10, 4, _dw(nonblock))
    fds = got[1] if got else []
    for fd in fds:
        t.call(p.send, a, b"via-new")
        _recv(t, p, fd, 20, nonblock)
        t.call(p.fcntl, fd, fcntl.F_GETFD)
        t.call(p.close, fd)
    t.call(p.send, a, b"still")
    _recv(t, p, b, 20, nonblock)


@scenario("pairs_scm_rights_own_fd_back", params=PAIR_GRID)
def pairs_scm_rights_own_fd_back(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send_fds, b, [b"me"], [a])
    t.call(p.ioctl, a, FIONREAD)
    got = t.call(p.recv_fds, a, 10, 4, _dw(nonblock))
    for fd in (got[1] if got else []):
        t.call(p.getsockname, fd)
        t.call(p.send, b, b"loop")
        _recv(t, p, fd, 10, nonblock)
        t.call(p.close, fd)


@scenario("pairs_scm_rights_both_fds", params=PAIR_GRID)
def pairs_scm_rights_both_fds(k, t, sotype, kind, nonblock):
    p, a, b = _setup(k, sotype, kind, nonblock)
    t.call(p.send_fds, a, [b"two"], [a, b])
    t.call(p.close, a)
    got = t.call(p.recv_fds, b, 10, 4, _dw(nonblock))
    fds = got[1] if got else []
    if len(fds) == 2:
        t.call(p.send, fds[0], b"x")
        _recv(t, p, fds[1], 10, nonblock)
        t.call(p.send, fds[1], b"y")
        _recv(t, p, b, 10, nonblock)
    for fd in fds:
        t.call(p.close, fd)
    _poll(t, p, b)


@scenario("pairs_scm_rights_unread_then_close", params=TYPE_MODE_GRID)
def pairs_scm_rights_unread_then_close(k, t, sotype, nonblock, kind="socketpair"):
    p, a, b = _setup(k, sotype, kind, nonblock)
    r, w = p.pipe()
    t.call(p.send_fds, a, [b"p"], [r])
    t.call(p.close, r)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.close, b)
    t.call(p.write, w, b"x")
    t.call(p.send, a, b"q", NOSIG)
    t.call(p.close, w)
