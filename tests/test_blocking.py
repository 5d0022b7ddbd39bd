"""Blocking calls: data integrity across threads, the GIL released while
blocked, Ctrl-C, Kernel.close() waking sleepers, timeouts."""
import errno
import hashlib
import os
import random
import signal
import struct
import threading
import time

import pytest

import menios
from menios import AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_RCVTIMEO, SO_SNDTIMEO

JOIN = 30.0


def _run(target, *args):
    box = {}

    def body():
        try:
            box["result"] = target(*args)
        except BaseException as e:       # reported to the test thread
            box["error"] = e
    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, box


def test_64_mib_two_threads_random_sizes(kernel):
    """Nothing lost, reordered or duplicated: a digest of what was sent
    equals a digest of what was received."""
    p = kernel.spawn()
    a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
    total = 64 * 1024 * 1024
    rng = random.Random(1234)
    block = rng.randbytes(1 << 20)

    def writer():
        h = hashlib.sha256()
        sent = 0
        r = random.Random(99)
        while sent < total:
            n = min(r.randint(1, 200000), total - sent)
            off = r.randrange(0, len(block) - n + 1) if n < len(block) else 0
            chunk = block[off:off + n]
            done = p.send(a, chunk)
            assert done == n            # blocking send sends everything
            h.update(chunk)
            sent += n
        p.shutdown(a, menios.SHUT_WR)
        return h.hexdigest()

    def reader():
        h = hashlib.sha256()
        r = random.Random(7)
        got = 0
        while True:
            data = p.recv(b, r.randint(1, 300000))
            if not data:
                return h.hexdigest(), got
            h.update(data)
            got += len(data)

    tw, bw = _run(writer)
    tr, br = _run(reader)
    tw.join(JOIN)
    tr.join(JOIN)
    assert not tw.is_alive() and not tr.is_alive(), "transfer hung"
    assert "error" not in bw and "error" not in br, (bw.get("error"), br.get("error"))
    digest, got = br["result"]
    assert got == total
    assert digest == bw["result"]


def test_gil_released_while_blocked(kernel):
    p = kernel.spawn()
    a, b = p.socketpair()
    t, box = _run(p.recv, b, 10)
    spins = 0
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        spins += 1
    assert t.is_alive()                 # still blocked in recv
    p.send(a, b"wake")
    t.join(JOIN)
    assert box.get("result") == b"wake"
    assert spins > 10000                # this thread ran while the other slept


def test_ctrl_c_interrupts_blocked_recv(kernel):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread")
    p = kernel.spawn()
    a, b = p.socketpair()
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        p.recv(b, 10)
    assert time.monotonic() - start < 5
    timer.join(JOIN)
    assert kernel.blocked() == 0            # the abandoned call gave up its count
    # The socket still works afterwards.
    p.send(a, b"ok")
    assert p.recv(b, 10) == b"ok"


def test_ctrl_c_interrupts_blocked_accept(kernel):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread")
    p = kernel.spawn()
    l = p.socket()
    p.bind(l, "/tmp/acc")
    p.listen(l, 1)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        p.accept(l)
    timer.join(JOIN)


def test_kernel_close_fails_every_blocked_call():
    k = menios.Kernel()
    p = k.spawn()
    a, b = p.socketpair()
    l = p.socket()
    p.bind(l, b"\0closing")
    p.listen(l, 1)
    threads = [_run(p.recv, b, 10), _run(p.accept, l),
               _run(p.poll, [(a, menios.POLLIN)], None)]
    assert k.wait_blocked(3, JOIN), k.blocked()
    assert all(t.is_alive() for t, _ in threads)
    k.close()
    assert k.blocked() == 0                 # close() returns once all are woken
    for t, box in threads:
        t.join(JOIN)
        assert not t.is_alive()
        assert isinstance(box.get("error"), OSError), box
    assert k.counters()["sockets"] == 0


def test_rcvtimeo_gives_eagain(kernel):
    p = kernel.spawn()
    a, b = p.socketpair()
    p.setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, struct.pack("qq", 0, 100000))
    start = time.monotonic()
    with pytest.raises(BlockingIOError):
        p.recv(b, 10)
    assert 0.09 <= time.monotonic() - start < 5


def test_sndtimeo_on_full_buffer_returns_partial_or_eagain(kernel):
    p = kernel.spawn()
    a, b = p.socketpair()
    p.setsockopt(a, SOL_SOCKET, SO_SNDTIMEO, struct.pack("qq", 0, 100000))
    n = p.send(a, b"x" * (4 << 20))     # far more than fits
    assert 0 < n < (4 << 20)
    with pytest.raises(BlockingIOError):
        p.send(a, b"y")


def test_blocking_send_completes_when_reader_drains(kernel):
    p = kernel.spawn()
    a, b = p.socketpair()
    payload = os.urandom(3 << 20)
    t, box = _run(p.send, a, payload)
    got = bytearray()
    deadline = time.monotonic() + JOIN
    while len(got) < len(payload) and time.monotonic() < deadline:
        got += p.recv(b, 1 << 20)
    t.join(JOIN)
    assert box.get("result") == len(payload)
    assert bytes(got) == payload


def test_poll_wakes_on_send_from_other_thread(kernel):
    p = kernel.spawn()
    a, b = p.socketpair()
    t, box = _run(p.poll, [(b, menios.POLLIN)], 10000)
    assert kernel.wait_blocked(1, JOIN)
    assert t.is_alive()
    p.send(a, b"x")
    t.join(JOIN)
    assert box.get("result") == [(b, menios.POLLIN)]   # masked by the events asked


@pytest.mark.parametrize("where", ["sysctl", "sockopt"])
def test_busy_poll_wakeups_and_deadlines(where):
    """With busy polling on, a blocked reader is still woken by a send (during
    or after the spin) and a receive timeout shorter than the spin is kept."""
    k = menios.Kernel(sysctl={"net.core.busy_poll": 2000} if where == "sysctl" else None)
    p = k.spawn()
    a, b = p.socketpair()
    if where == "sockopt":
        p.setsockopt(b, SOL_SOCKET, menios.SO_BUSY_POLL, 2000)
        assert p.getsockopt(b, SOL_SOCKET, menios.SO_BUSY_POLL) == 2000
    for delay in (0.0005, 0.05):                 # within the 2 ms spin, and after it
        t, box = _run(p.recv, b, 10)
        time.sleep(delay)
        p.send(a, b"ping")
        t.join(JOIN)
        assert box.get("result") == b"ping"
    p.setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, struct.pack("qq", 0, 1000))   # 1 ms < spin
    start = time.monotonic()
    with pytest.raises(BlockingIOError):
        p.recv(b, 10)
    assert time.monotonic() - start < 1.0
    k.close()


def test_poll_sleeps_through_wakeups_for_events_it_did_not_ask(kernel):
    """Write space on a socket wakes its writers and POLLOUT pollers, not a
    poller waiting for POLLPRI (Linux keys the wake-up with the events)."""
    p = kernel.spawn()
    a, b = p.socketpair()
    p.send(a, b"queued")
    t, box = _run(p.poll, [(a, menios.POLLPRI)], 10000)
    assert kernel.wait_blocked(1, JOIN)
    assert p.recv(b, 10) == b"queued"          # frees a's skb: write space on a
    assert kernel.blocked() == 1               # the poller was not woken
    t2, box2 = _run(p.poll, [(a, menios.POLLOUT)], 10000)
    t2.join(JOIN)
    assert box2.get("result") == [(a, menios.POLLOUT)]
    p.send(b, b"!", menios.MSG_OOB)
    t.join(JOIN)
    assert box.get("result") == [(a, menios.POLLPRI)]


def test_blocked_counts_each_kind_of_sleep_until_woken(kernel):
    """Kernel.blocked(): threads asleep and not yet woken, whatever they sleep
    in; the waking call itself drops the count, so it is exact when it returns."""
    p = kernel.spawn()
    a, b = p.socketpair()
    l = p.socket()
    p.bind(l, "/tmp/blk")
    p.listen(l, 1)
    r, w = p.pipe()
    assert kernel.blocked() == 0
    calls = [_run(p.recv, b, 10), _run(p.accept, l),
             _run(p.poll, [(a, menios.POLLPRI)], None), _run(p.read, r, 5)]
    assert kernel.wait_blocked(4, JOIN), kernel.blocked()
    assert kernel.blocked() == 4
    p.send(a, b"wake")
    assert kernel.blocked() == 3
    calls[0][0].join(JOIN)
    assert calls[0][1].get("result") == b"wake"
    c = p.socket()
    p.connect(c, "/tmp/blk")
    assert kernel.blocked() == 2
    p.write(w, b"pipe!")
    assert kernel.blocked() == 1
    p.send(b, b"!", menios.MSG_OOB)
    assert kernel.blocked() == 0
    for t, box in calls:
        t.join(JOIN)
        assert "error" not in box, box
    assert calls[3][1]["result"] == b"pipe!"
    assert calls[2][1]["result"] == [(a, menios.POLLPRI)]


def test_blocked_is_zero_after_timeouts_and_nonblocking_calls(kernel):
    p = kernel.spawn()
    a, b = p.socketpair()
    with pytest.raises(BlockingIOError):
        p.recv(b, 10, menios.MSG_DONTWAIT)
    p.setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, struct.pack("qq", 0, 20000))
    t, box = _run(p.recv, b, 10)
    assert kernel.wait_blocked(1, JOIN)
    t.join(JOIN)
    assert isinstance(box.get("error"), BlockingIOError)
    assert kernel.blocked() == 0
    assert p.poll([(b, menios.POLLIN)], 30) == []
    assert kernel.blocked() == 0


def test_wait_blocked_times_out_and_checks_its_argument(kernel):
    start = time.monotonic()
    assert kernel.wait_blocked(1, 0.05) is False
    assert time.monotonic() - start >= 0.05
    assert kernel.wait_blocked(0, 0) is True
    with pytest.raises(TypeError):
        kernel.wait_blocked("1")
    with pytest.raises(TypeError):
        kernel.wait_blocked(True)


def test_blocked_count_holds_across_slices(kernel):
    """The main thread sleeps in 50 ms slices (between them it runs signal
    handlers): it is blocked all along, and no sample may see it uncounted."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("only the main thread sleeps in slices")
    p = kernel.spawn()
    a, b = p.socketpair()
    samples = []

    def sampler():
        if kernel.wait_blocked(1, JOIN):
            deadline = time.monotonic() + 0.4
            while time.monotonic() < deadline:     # holding the GIL: a slice's
                samples.append(kernel.blocked())   # end waits for it, in the gap
        p.send(a, b"late")
    t, box = _run(sampler)
    assert p.recv(b, 10) == b"late"
    t.join(JOIN)
    assert "error" not in box, box
    assert len(samples) > 100 and set(samples) == {1}, sorted(set(samples))
    assert kernel.blocked() == 0


def _errno_of(fn, *args):
    """The errno ``fn(*args)`` fails with (its result if it does not)."""
    try:
        return fn(*args)
    except OSError as e:
        return e.errno


def test_blocked_accept_holds_its_fd_reserved(kernel):
    """accept takes its fd before it sleeps: the number is EBADF to close
    and F_GETFD, EBUSY to dup2, skipped by new fds, left free in a fork
    child, and the accepted socket's once a client connects."""
    p = kernel.spawn()
    lst = p.socket()
    p.bind(lst, "/srv")
    p.listen(lst)
    t, box = _run(p.accept, lst)
    assert kernel.wait_blocked(1, JOIN)
    reserved = lst + 1
    assert _errno_of(p.fcntl, reserved, menios.F_GETFD) == errno.EBADF
    assert _errno_of(p.close, reserved) == errno.EBADF
    assert _errno_of(p.dup2, lst, reserved) == errno.EBUSY
    c = p.socket()
    assert c == reserved + 1
    child = p.fork()
    assert child.dup(lst) == reserved
    child.exit()
    p.connect(c, "/srv")
    t.join(JOIN)
    assert box["result"][0] == reserved
    p.send(c, b"hi")
    assert p.recv(reserved, 10) == b"hi"


def test_exit_while_accept_sleeps(kernel):
    """A process that exits while one of its threads sleeps in accept: the
    connection that wakes it finds no fd table (ESRCH) and is dropped."""
    p = kernel.spawn()
    q = kernel.spawn()
    lst = p.socket()
    p.bind(lst, "/srv")
    p.listen(lst)
    t, box = _run(p.accept, lst)
    assert kernel.wait_blocked(1, JOIN)
    p.exit()
    c = q.socket()
    q.connect(c, "/srv")
    t.join(JOIN)
    assert isinstance(box.get("error"), ProcessLookupError)
    q.close(c)
