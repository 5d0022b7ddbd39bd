"""Datagram flow control and concurrency on menios (issue 5).

* A blocking sender facing a full receiver queue (``net.unix.max_dgram_qlen``)
  sleeps until the receiver reads -- Linux's peer-wake relay -- whether it is
  connected to the receiver or sends by name, and SO_SNDTIMEO bounds the wait.
* Many sender threads to one receiver: every datagram arrives whole, exactly
  once, in per-sender order, and the kernel's counters return to zero.
"""
import errno
import os
import random
import socket
import struct
import threading
import time
import zlib

import pytest

import menios
from menios import AF_UNIX, SOCK_DGRAM
from menios.conformance import harness

SOL_SOCKET = socket.SOL_SOCKET
MSG_DONTWAIT = socket.MSG_DONTWAIT
MSG_TRUNC = socket.MSG_TRUNC
POLLOUT = 0x4


def _timeval(seconds):
    sec = int(seconds)
    return struct.pack("qq", sec, int(round((seconds - sec) * 1e6)))


def _assert_no_leaks(k):
    leaks = harness.leaks(k)
    assert not leaks, "kernel leaked after close: %r" % leaks


@pytest.fixture
def qlen2():
    """A kernel whose datagram queues hold max_dgram_qlen + 1 = 3 datagrams."""
    k = menios.Kernel(sysctl={"net.unix.max_dgram_qlen": 2})
    yield k
    k.close()
    _assert_no_leaks(k)


class _Call(threading.Thread):
    """Run one call in a daemon thread; ``result`` is ("ok", v) or ("err", e)."""

    def __init__(self, fn, *args):
        super().__init__(daemon=True)
        self.fn, self.args, self.result = fn, args, None

    def run(self):
        try:
            self.result = ("ok", self.fn(*self.args))
        except BaseException as e:          # noqa: BLE001 (inspected by the test)
            self.result = ("err", e)


def _fill(p, s, r_name, connected):
    """Fill the receiver's queue (qlen + 1 datagrams), then check it is full."""
    for i in range(3):
        if connected:
            p.send(s, b"m%d" % i, MSG_DONTWAIT)
        else:
            p.sendto(s, b"m%d" % i, r_name, MSG_DONTWAIT)
    with pytest.raises(BlockingIOError):
        if connected:
            p.send(s, b"full", MSG_DONTWAIT)
        else:
            p.sendto(s, b"full", r_name, MSG_DONTWAIT)


def _drain(p, r):
    out = []
    while True:
        try:
            out.append(p.recv(r, 100, MSG_DONTWAIT))
        except BlockingIOError:
            return out


@pytest.mark.parametrize("connected", [True, False], ids=["connected", "by-name"])
@pytest.mark.parametrize("name", ["/tmp/rcv", b"\0rcv"], ids=["filesystem", "abstract"])
def test_blocked_sender_woken_by_reader(qlen2, connected, name):
    p = qlen2.spawn()
    r = p.socket(AF_UNIX, SOCK_DGRAM)
    p.bind(r, name)
    s = p.socket(AF_UNIX, SOCK_DGRAM)
    if connected:
        p.connect(s, name)             # the receiver is not connected back
    _fill(p, s, name, connected)

    call = _Call(p.send, s, b"late") if connected else _Call(p.sendto, s, b"late", name)
    call.start()
    assert qlen2.wait_blocked(1, 5), "the sender should block while the queue is full"
    assert p.recv(r, 100) == b"m0"
    call.join(5)
    assert not call.is_alive(), "reading did not wake the blocked sender"
    assert call.result == ("ok", 4)
    assert _drain(p, r) == [b"m1", b"m2", b"late"]


@pytest.mark.parametrize("connected", [True, False], ids=["connected", "by-name"])
def test_room_made_while_a_woken_sender_is_on_its_way_reaches_the_next(qlen2, connected):
    """Three senders asleep on a full queue; the receiver reads twice, then
    waits for them without reading again.  The first read wakes one sender;
    the second wakes nobody while that one is on its way back to its
    caller, which then passes the room on: two sends complete, the third
    sleeps on until the next read."""
    p = qlen2.spawn()
    r = p.socket(AF_UNIX, SOCK_DGRAM)
    p.bind(r, "/tmp/rcv")
    socks = [p.socket(AF_UNIX, SOCK_DGRAM) for _ in range(3)]
    if connected:
        for s in socks:
            p.connect(s, "/tmp/rcv")
    _fill(p, socks[0], "/tmp/rcv", connected)
    calls = []
    for i, s in enumerate(socks):
        msg = b"late%d" % i
        calls.append(_Call(p.send, s, msg) if connected else _Call(p.sendto, s, msg, "/tmp/rcv"))
        calls[-1].start()
        assert qlen2.wait_blocked(i + 1, 5), "sender %d should block on the full queue" % i
    assert p.recv(r, 100) == b"m0"
    assert p.recv(r, 100) == b"m1"
    deadline = time.monotonic() + 10
    while sum(not c.is_alive() for c in calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    done = [c for c in calls if not c.is_alive()]
    assert len(done) == 2, "the room of the second read did not reach a sender"
    assert all(c.result == ("ok", 5) for c in done)
    assert qlen2.wait_blocked(1, 5)
    [last] = [c for c in calls if c.is_alive()]
    assert p.recv(r, 100) == b"m2"
    last.join(5)
    assert not last.is_alive(), "reading did not wake the last sender"
    assert last.result == ("ok", 5)
    assert sorted(_drain(p, r)) == [b"late0", b"late1", b"late2"]


def test_poll_pollout_woken_by_reader(qlen2):
    p = qlen2.spawn()
    r = p.socket(AF_UNIX, SOCK_DGRAM)
    p.bind(r, "/tmp/rcv")
    s = p.socket(AF_UNIX, SOCK_DGRAM)
    p.connect(s, "/tmp/rcv")
    _fill(p, s, "/tmp/rcv", True)
    assert p.poll([(s, POLLOUT)], 0) == []
    call = _Call(p.poll, [(s, POLLOUT)], 5000)
    call.start()
    assert qlen2.wait_blocked(1, 5)
    p.recv(r, 100)
    call.join(5)
    assert not call.is_alive()
    assert call.result == ("ok", [(s, POLLOUT)])


@pytest.mark.parametrize("connected", [True, False], ids=["connected", "by-name"])
def test_sndtimeo_expires_with_eagain(qlen2, connected):
    p = qlen2.spawn()
    r = p.socket(AF_UNIX, SOCK_DGRAM)
    p.bind(r, "/tmp/rcv")
    s = p.socket(AF_UNIX, SOCK_DGRAM)
    if connected:
        p.connect(s, "/tmp/rcv")
    _fill(p, s, "/tmp/rcv", connected)
    p.setsockopt(s, SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(0.1))
    start = time.monotonic()
    with pytest.raises(BlockingIOError) as info:
        if connected:
            p.send(s, b"late")
        else:
            p.sendto(s, b"late", "/tmp/rcv")
    waited = time.monotonic() - start
    assert info.value.errno == errno.EAGAIN
    assert 0.07 <= waited < 2.0
    assert _drain(p, r) == [b"m0", b"m1", b"m2"]


def test_kernel_close_wakes_blocked_sender():
    k = menios.Kernel(sysctl={"net.unix.max_dgram_qlen": 2})
    p = k.spawn()
    r = p.socket(AF_UNIX, SOCK_DGRAM)
    p.bind(r, "/tmp/rcv")
    s = p.socket(AF_UNIX, SOCK_DGRAM)
    _fill(p, s, "/tmp/rcv", False)
    call = _Call(p.sendto, s, b"late", "/tmp/rcv")
    call.start()
    assert k.wait_blocked(1, 5)
    k.close()
    call.join(5)
    assert not call.is_alive()
    assert call.result[0] == "err" and isinstance(call.result[1], OSError)
    _assert_no_leaks(k)


# ------------------------------------------------------------------ stress

SENDERS = 8
PER_SENDER = 10_000
_HDR = struct.Struct("<IIII")           # sender, seq, payload length, crc32


def test_many_senders_one_receiver():
    k = menios.Kernel()
    try:
        _many_senders(k)
    finally:
        k.close()
    _assert_no_leaks(k)


def _many_senders(k):
    p = k.spawn()
    r = p.socket(AF_UNIX, SOCK_DGRAM)
    p.bind(r, "/tmp/sink")
    pool = os.urandom(1 << 16)
    errors = []

    def sender(idx):
        try:
            rnd = random.Random(idx)
            s = p.socket(AF_UNIX, SOCK_DGRAM)
            if idx % 2:
                p.connect(s, "/tmp/sink")          # half connected, half by name
            else:
                p.bind(s, b"\0sender%d" % idx)
            for seq in range(PER_SENDER):
                size = rnd.randint(1, 2000)
                off = rnd.randrange(0, len(pool) - size)
                body = pool[off:off + size]
                dgram = _HDR.pack(idx, seq, size, zlib.crc32(body)) + body
                if idx % 2:
                    n = p.send(s, dgram)
                else:
                    n = p.sendto(s, dgram, "/tmp/sink")
                assert n == len(dgram)
            p.close(s)
        except BaseException as e:          # noqa: BLE001 (reported below)
            errors.append((idx, e))

    expected = [0] * SENDERS
    received = [0]

    def receiver():
        try:
            total = SENDERS * PER_SENDER
            while received[0] < total:
                data, _, flags, _addr = p.recvmsg(r, 4096)
                assert not flags & MSG_TRUNC
                assert len(data) >= _HDR.size, "short datagram"
                idx, seq, size, crc = _HDR.unpack_from(data)
                body = data[_HDR.size:]
                assert len(body) == size, "datagram not whole"
                assert zlib.crc32(body) == crc, "corrupted datagram"
                assert 0 <= idx < SENDERS
                assert seq == expected[idx], (
                    "sender %d: got seq %d, expected %d" % (idx, seq, expected[idx]))
                expected[idx] += 1
                received[0] += 1
        except BaseException as e:          # noqa: BLE001 (reported below)
            errors.append(("receiver", e))

    rt = threading.Thread(target=receiver, daemon=True)
    senders = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(SENDERS)]
    rt.start()
    for t in senders:
        t.start()
    deadline = time.monotonic() + 45
    for t in senders:
        t.join(max(0.1, deadline - time.monotonic()))
    rt.join(max(0.1, deadline - time.monotonic()))
    alive = [t.name for t in senders + [rt] if t.is_alive()]
    assert not errors, errors[:3]
    assert not alive, "threads still running after 45 s: %s (received %d)" % (alive, received[0])
    assert expected == [PER_SENDER] * SENDERS
    # nothing more: no duplicate was left behind
    with pytest.raises(BlockingIOError):
        p.recv(r, 4096, MSG_DONTWAIT)
    c = k.counters()
    assert c["skbs"] == 0 and c["bytes_queued"] == 0
