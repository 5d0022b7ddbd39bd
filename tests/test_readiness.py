"""Readiness fds: a menios socket's fileno() is a host fd that host event
loops see readable / writable exactly when the menios socket polls so.

The rule (select(2)'s): readable when the socket polls POLLIN, POLLHUP or
POLLERR; writable when it polls POLLOUT or POLLERR.
"""
import asyncio
import errno
import random
import select
import selectors
import threading

import pytest

import menios
import menios.socket as msocket
from menios import POLLERR, POLLHUP, POLLIN, POLLOUT, readiness
from menios.conformance import harness

JOIN = 20.0


def expected(revents):
    events = 0
    if revents & (POLLIN | POLLHUP | POLLERR):
        events |= selectors.EVENT_READ
    if revents & (POLLOUT | POLLERR):
        events |= selectors.EVENT_WRITE
    return events


@pytest.fixture
def kernel():
    k = menios.Kernel()
    yield k
    k.close()
    assert not harness.leaks(k), harness.leaks(k)


def _sim(sock):
    return readiness.lookup(sock.fileno())[1]


class World:
    """About 100 non-blocking menios sockets of one process, a selector with
    read and write interest on each, and the check that the selector and
    Process.poll agree."""

    def __init__(self, p, sel):
        self.p, self.sel = p, sel
        self.socks = []

    def add(self, *socks):
        for s in socks:
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
            self.socks.append(s)

    def close(self, s):
        self.sel.unregister(s)
        self.socks.remove(s)
        s.close()

    def check(self, step):
        got = {key.fileobj: ev for key, ev in self.sel.select(0)}
        polled = dict(self.p.poll([(_sim(s), POLLIN | POLLOUT) for s in self.socks], 0))
        for s in self.socks:
            want = expected(polled.get(_sim(s), 0))
            assert got.get(s, 0) == want, (step, s, polled.get(_sim(s), 0), got.get(s, 0))


def _try(call, *args):
    try:
        return call(*args)
    except (BlockingIOError, BrokenPipeError, ConnectionError, OSError) as e:
        return e.errno


def test_selector_agrees_with_poll_over_100_sockets(kernel, tmp_path):
    p = kernel.spawn()
    rng = random.Random(14)
    with selectors.DefaultSelector() as sel, menios.as_process(p):
        w = World(p, sel)
        pairs = []
        for kind, n in ((menios.SOCK_STREAM, 21), (menios.SOCK_DGRAM, 12),
                        (menios.SOCK_SEQPACKET, 10)):
            for _ in range(n):
                a, b = msocket.socketpair(menios.AF_UNIX, kind)
                w.add(a, b)
                pairs.append((a, b))
        # A listener with pending and accepted connections.
        lst = msocket.socket()
        lst.bind("/tmp/l")
        lst.listen(4)
        w.add(lst)
        w.check("listener")
        for _ in range(6):
            c = msocket.socket()
            w.add(c)
            _try(c.connect, "/tmp/l")
            w.check("connect")
        for _ in range(3):
            conn, _ = lst.accept()
            w.add(conn)
            w.check("accept")
        # A datagram server with clients connected to it (not back): their
        # writability follows the server's queue (the peer-wake relay).
        srv = msocket.socket(menios.AF_UNIX, menios.SOCK_DGRAM)
        srv.bind("/tmp/d")
        w.add(srv)
        clients = []
        for _ in range(4):
            c = msocket.socket(menios.AF_UNIX, menios.SOCK_DGRAM)
            c.connect("/tmp/d")
            w.add(c)
            clients.append(c)
        w.check("dgram clients")
        assert len(w.socks) >= 100
        for c in clients:                       # fill the server's queue
            while _try(c.send, b"q") == 1:
                pass
            w.check("dgram fill")
        while not isinstance(_try(srv.recv, 10), int):
            w.check("dgram drain")
        w.check("dgram drained")

        def op_send(s):
            _try(s.send, b"x" * rng.choice((1, 100, 5000)))

        def op_fill(s):
            for _ in range(2000):
                if isinstance(_try(s.send, b"y" * 4096), int):
                    break

        def op_recv(s):
            _try(s.recv, rng.choice((1, 50, 70000)))

        def op_shutdown(s):
            _try(s.shutdown, rng.choice((0, 1, 2)))

        def op_close(s):
            w.close(s)

        ops = [op_send] * 6 + [op_fill] * 2 + [op_recv] * 6 + [op_shutdown, op_close]
        for step in range(400):
            s = rng.choice(w.socks)
            op = rng.choice(ops)
            op(s)
            w.check((step, op.__name__))
        for s in list(w.socks):
            w.close(s)
    assert not readiness._by_host


def test_hostfd_follows_transitions_and_closes(kernel):
    p = kernel.spawn()
    a, b = msocket.socketpair(process=p)
    fd = b.fileno()
    assert fd == b.fileno() and readiness.lookup(fd) == (p, _sim(b))

    def state():
        r, w, _ = select.select([fd], [fd], [], 0)
        return bool(r), bool(w)
    assert state() == (False, True)
    a.send(b"1")
    assert state() == (True, True)
    b.recv(1)
    assert state() == (False, True)
    b.setblocking(False)
    while True:                              # fill b's buffer: b unwritable
        try:
            b.send(b"z" * 65536)
        except BlockingIOError:
            break
    assert state() == (False, False)
    a.recv(1 << 22)
    assert state() == (False, True)
    a.close()                                # the peer's close: EOF and HUP
    assert state() == (True, True)
    b.close()
    assert readiness.lookup(fd) is None
    with pytest.raises(OSError) as e:
        select.select([fd], [], [], 0)       # the host fd went with it
    assert e.value.errno == errno.EBADF


def test_fileno_gives_the_same_socket_back(kernel):
    p = kernel.spawn()
    a, b = msocket.socketpair(process=p)
    fd = a.fileno()
    again = msocket.socket(fileno=fd)        # no current process needed
    assert again.fileno() == fd and again.process is p
    dup = msocket.fromfd(fd, menios.AF_UNIX, menios.SOCK_STREAM)
    assert dup.fileno() != fd
    again.send(b"via fileno")
    dup.send(b"+dup")
    assert b.recv(100) == b"via fileno+dup"
    detached = b.detach()                    # the readiness fd, still standing for b's fd
    assert readiness.lookup(detached) is not None
    with msocket.socket(fileno=detached) as c:
        a.send(b"after detach")
        assert c.recv(100) == b"after detach"
    assert readiness.lookup(detached) is None
    for s in (a, dup):
        s.close()
    again.detach()
    assert not readiness._by_host


def test_blocking_select_wakes_on_send_from_another_thread(kernel):
    p = kernel.spawn()
    a, b = msocket.socketpair(process=p)
    fd = b.fileno()
    t = threading.Thread(target=lambda: (kernel.wait_blocked(0, 0), a.send(b"wake")))
    t.start()
    r, _, _ = select.select([fd], [], [], JOIN)
    t.join(JOIN)
    assert r == [fd] and b.recv(10) == b"wake"
    a.close()
    b.close()


def test_asyncio_sock_calls_on_menios(kernel):
    """An unmodified asyncio loop (sock_recv/sock_sendall, add_reader)."""
    p = kernel.spawn()

    async def main():
        loop = asyncio.get_running_loop()
        a, b = msocket.socketpair(process=p)
        a.setblocking(False)
        b.setblocking(False)
        payload = bytes(range(256)) * 2000              # more than fits: waits to write
        sender = asyncio.ensure_future(loop.sock_sendall(a, payload))
        got = bytearray()
        while len(got) < len(payload):
            got += await asyncio.wait_for(loop.sock_recv(b, 65536), JOIN)
        await asyncio.wait_for(sender, JOIN)
        a.close()
        b.close()
        return bytes(got)
    assert asyncio.run(main()) == bytes(range(256)) * 2000
