"""Blocking calls: data integrity across threads, the GIL released while
blocked, Ctrl-C, Kernel.close() waking sleepers, timeouts."""
import contextlib
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
SLEEP_S = 0.5     # how long a test lets a call sleep before it wakes it


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
    p = kernel.spawn()
    a, b = p.socketpair()
    with _ctrl_c():
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            p.recv(b, 10)
        assert time.monotonic() - start < 5
    assert kernel.blocked() == 0            # the abandoned call gave up its count
    # The socket still works afterwards.
    p.send(a, b"ok")
    assert p.recv(b, 10) == b"ok"


def test_ctrl_c_interrupts_blocked_accept(kernel):
    p = kernel.spawn()
    l = p.socket()
    p.bind(l, "/tmp/acc")
    p.listen(l, 1)
    with _ctrl_c(), pytest.raises(KeyboardInterrupt):
        p.accept(l)


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


def test_main_thread_sleeps_in_one_piece_until_its_event(kernel):
    """A blocked call in the main thread is asleep all along -- no sample
    sees it uncounted -- and wakes for its event only: a periodic wake-up
    every few tens of milliseconds would have shown in the counters."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("checks the main thread's sleep")
    p = kernel.spawn()
    a, b = p.socketpair()
    samples = []
    before = kernel.counters()

    def sampler():
        if kernel.wait_blocked(1, JOIN):
            deadline = time.monotonic() + SLEEP_S
            while time.monotonic() < deadline:
                samples.append(kernel.blocked())
        p.send(a, b"late")
    t, box = _run(sampler)
    assert p.recv(b, 10) == b"late"
    t.join(JOIN)
    assert "error" not in box, box
    assert len(samples) > 100 and set(samples) == {1}, sorted(set(samples))
    after = kernel.counters()
    assert kernel.blocked() == 0
    assert after["wait_timeouts"] == before["wait_timeouts"]
    assert after["kicks"] == before["kicks"]


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


# ------------------------------------------------------- kicks and signals
# A blocked call is woken by its event, its timeout, Kernel.close() or a
# signal -- never by a timer.  The kernel's counters tell which: "kicks"
# (teardown or a signal), "wait_timeouts" (a deadline).

def _main_only():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("only the main thread runs signal handlers")


@contextlib.contextmanager
def _ctrl_c():
    """A SIGINT to this process 0.2 s into the block, as Ctrl-C sends it
    (the test is skipped off the main thread, the only one that runs
    signal handlers); the timer is joined when the block ends.  Python's
    own SIGINT handler is installed for the block: a process started with
    SIGINT ignored -- a background job of a non-interactive shell -- has
    none, and its Ctrl-C would be lost."""
    _main_only()
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        yield
    finally:
        timer.join(JOIN)
        signal.signal(signal.SIGINT, old)


class _Signaller:
    """Once ``kernel`` has ``n`` calls asleep and SLEEP_S more has passed,
    sends ``sig`` to thread ``ident`` every 20 ms until ``done()`` is true:
    a signal that lands before the sleeper is inside its futex sleep only
    runs the handler; the next one interrupts the sleep."""

    def __init__(self, kernel, sig, ident=None, n=1, done=None):
        self.kernel, self.sig, self.n = kernel, sig, n
        self.ident = threading.main_thread().ident if ident is None else ident
        self.done = done
        self.stop = threading.Event()
        self.sent = 0
        self.thread, self.box = _run(self._body)

    def _body(self):
        assert self.kernel.wait_blocked(self.n, JOIN), "nothing blocked"
        time.sleep(SLEEP_S)
        while not self.stop.is_set() and not (self.done and self.done()):
            signal.pthread_kill(self.ident, self.sig)
            self.sent += 1
            self.stop.wait(0.02)

    def join(self):
        self.stop.set()
        self.thread.join(JOIN)
        assert not self.thread.is_alive()
        assert "error" not in self.box, self.box


class _OnceInterrupt:
    """A SIGINT handler that raises KeyboardInterrupt the first time only
    (the signaller may send more than one)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, signum, frame):
        self.calls += 1
        if self.calls == 1:
            raise KeyboardInterrupt


_SAVED_HANDLERS = {}


def _with_handler(sig, handler, fn):
    """Run fn() with ``handler`` installed for ``sig``.  The old handler
    comes back only when the test ends (_restore_handlers), after every
    signaller has been joined: a signal sent late must find ``handler``,
    not the default action (SIGUSR1's kills the process)."""
    _SAVED_HANDLERS.setdefault(sig, signal.getsignal(sig))
    signal.signal(sig, handler)
    return fn()


@pytest.fixture(autouse=True)
def _restore_handlers():
    yield
    for sig, old in _SAVED_HANDLERS.items():
        signal.signal(sig, old)
    _SAVED_HANDLERS.clear()


def test_kernel_close_kicks_a_recv_blocked_in_a_thread():
    k = menios.Kernel()
    p = k.spawn()
    a, b = p.socketpair()
    t, box = _run(p.recv, b, 10)
    assert k.wait_blocked(1, JOIN)
    time.sleep(SLEEP_S)
    assert t.is_alive()
    before = k.counters()
    k.close()
    t.join(JOIN)
    assert not t.is_alive()
    err = box.get("error")
    assert isinstance(err, OSError) and err.errno == errno.ESHUTDOWN, box
    after = k.counters()
    assert after["kicks"] == before["kicks"] + 1       # the kick woke it
    assert after["wait_timeouts"] == 0                 # no timer ever did
    assert k.blocked() == 0


# recv and send have a timeout (a signal makes the core return EINTR), the
# others none (ERESTARTSYS): the bridge restarts or raises on either.
_TV_JOIN = struct.pack("qq", int(JOIN), 0)


def _block_recv(p):
    a, b = p.socketpair()
    p.setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, _TV_JOIN)
    return lambda: p.recv(b, 10)


def _block_accept(p):
    lst = p.socket()
    p.bind(lst, "/tmp/kick-acc")
    p.listen(lst, 1)
    return lambda: p.accept(lst)


def _block_poll(p):
    a, b = p.socketpair()
    return lambda: p.poll([(b, menios.POLLIN)], None)


def _block_send(p):
    a, b = p.socketpair()
    p.setsockopt(a, SOL_SOCKET, SO_SNDTIMEO, _TV_JOIN)
    return lambda: p.send(a, b"x" * (8 << 20))     # more than fits: partial or EINTR


def _block_connect(p):
    lst = p.socket()
    p.bind(lst, "/tmp/kick-conn")
    p.listen(lst, 0)
    p.connect(p.socket(), "/tmp/kick-conn")        # the backlog is full now
    c = p.socket()
    return lambda: p.connect(c, "/tmp/kick-conn")


def _block_recv_pages(p):
    a, b = p.socketpair()
    return lambda: p.recv_pages(b, 4096)


@pytest.mark.parametrize("make", [_block_recv, _block_accept, _block_poll, _block_send,
                                  _block_connect, _block_recv_pages],
                         ids=lambda f: f.__name__[7:])
def test_sigint_kicks_the_main_thread_out_of_a_blocked_call(kernel, make):
    _main_only()
    p = kernel.spawn()
    call = make(p)
    before = kernel.counters()
    handler = _OnceInterrupt()
    sender = _Signaller(kernel, signal.SIGINT, done=lambda: handler.calls > 0)
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            _with_handler(signal.SIGINT, handler, call)
    finally:
        sender.join()
    assert SLEEP_S <= time.monotonic() - start < JOIN
    after = kernel.counters()
    assert after["kicks"] == before["kicks"] + 1
    assert after["wait_timeouts"] == before["wait_timeouts"]
    assert kernel.blocked() == 0


def test_default_sigint_handler_raises_keyboardinterrupt_from_poll(kernel):
    p = kernel.spawn()
    a, b = p.socketpair()
    with _ctrl_c(), pytest.raises(KeyboardInterrupt):
        p.poll([(b, menios.POLLIN)], 20000)
    assert kernel.counters()["kicks"] == 1
    assert kernel.counters()["wait_timeouts"] == 0


def test_a_signal_landing_on_another_sleeper_reaches_the_main_thread(kernel):
    """Only the main thread runs Python's handlers: a thread asleep in the
    kernel that gets the signal passes it on and sleeps on."""
    _main_only()
    p = kernel.spawn()
    a, b = p.socketpair()
    c, d = p.socketpair()
    t, box = _run(p.recv, b, 10)
    assert kernel.wait_blocked(1, JOIN)
    handler = _OnceInterrupt()
    sender = _Signaller(kernel, signal.SIGINT, ident=t.ident, n=2,
                        done=lambda: handler.calls > 0)
    try:
        with pytest.raises(KeyboardInterrupt):
            _with_handler(signal.SIGINT, handler, lambda: p.recv(d, 10))
    finally:
        sender.join()
    assert t.is_alive() and kernel.blocked() == 1     # the other thread sleeps on
    p.send(a, b"still")
    t.join(JOIN)
    assert box.get("result") == b"still"
    assert kernel.counters()["kicks"] == 1            # the main thread's, relayed


def test_a_handler_that_returns_restarts_the_call(kernel):
    """PEP 475: the handler runs, the call starts again and completes."""
    _main_only()
    p = kernel.spawn()
    a, b = p.socketpair()
    calls = []
    sender = _Signaller(kernel, signal.SIGUSR1, done=lambda: calls)
    feeder, fbox = _run(lambda: (sender.thread.join(JOIN), kernel.wait_blocked(1, JOIN),
                                 p.send(a, b"after")))
    try:
        got = _with_handler(signal.SIGUSR1, lambda *args: calls.append(1),
                            lambda: p.recv(b, 10))
    finally:
        sender.join()
        feeder.join(JOIN)
    assert got == b"after"
    assert calls and "error" not in fbox, fbox
    assert kernel.counters()["kicks"] >= 1
    assert kernel.counters()["wait_timeouts"] == 0


def test_the_main_thread_spins_before_it_sleeps(kernel):
    """The main thread's sleeps are interruptible and spin all the same: a
    reply that comes during the spin costs no futex sleep (spin_wakes).
    The other thread never sleeps in the kernel: it polls without blocking.
    A busy machine holds spinning off for 100 ms at a time, so the round
    trips go on for up to 5 s until one is caught spinning."""
    _main_only()
    p = kernel.spawn()
    a, b = p.socketpair()
    p.setsockopt(a, SOL_SOCKET, menios.SO_BUSY_POLL, 1_000_000)     # 1 s
    stop = []

    def echo():
        while not stop:
            try:
                p.send(b, p.recv(b, 10, menios.MSG_DONTWAIT))
            except BlockingIOError:
                time.sleep(0)
    t, box = _run(echo)
    deadline = time.monotonic() + 5
    i = 0
    try:
        while kernel.counters()["spin_wakes"] == 0 and time.monotonic() < deadline:
            p.send(a, b"%d" % i)
            assert p.recv(a, 10) == b"%d" % i
            i += 1
    finally:
        stop.append(True)
        t.join(JOIN)
    assert "error" not in box, box
    assert i > 0
    assert kernel.counters()["spin_wakes"] > 0


class _SpinInterrupted(Exception):
    """Raised by a handler, so that a missed signal fails one test instead
    of interrupting the whole run as KeyboardInterrupt would."""


def test_a_signal_caught_while_the_main_thread_spins_ends_its_call(kernel):
    """One signal, while the main thread spins (SO_BUSY_POLL, 5 s): its
    handler runs and the call ends at once, not after the spin or at the
    receive timeout.  The futex sleep would not see a signal caught before
    it starts, so the spin watches Python's signal flags, and so does the
    sleeper just before the futex call (a spin cut short by a long yield)."""
    _main_only()
    p = kernel.spawn()
    a, b = p.socketpair()
    p.setsockopt(b, SOL_SOCKET, menios.SO_BUSY_POLL, 5_000_000)
    p.setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, struct.pack("qq", 10, 0))
    main = threading.main_thread().ident
    calls = []
    before = kernel.counters()

    def handler(signum, frame):
        calls.append(signum)
        if len(calls) == 1:
            raise _SpinInterrupted

    def one_signal():
        assert kernel.wait_blocked(1, JOIN)
        time.sleep(0.05)
        signal.pthread_kill(main, signal.SIGUSR1)
    t, box = _run(one_signal)
    start = time.monotonic()
    try:
        with pytest.raises(_SpinInterrupted):
            _with_handler(signal.SIGUSR1, handler, lambda: p.recv(b, 10))
        elapsed = time.monotonic() - start
    finally:
        t.join(JOIN)
    assert "error" not in box, box
    assert calls == [signal.SIGUSR1]
    assert elapsed < 3.0, "the signal was noticed only after the spin (%.1f s)" % elapsed
    after = kernel.counters()
    assert after["kicks"] == before["kicks"] + 1
    assert after["wait_timeouts"] == before["wait_timeouts"]
    assert kernel.blocked() == 0


def test_an_interrupted_stream_recv_returns_what_it_copied(kernel):
    _main_only()
    p = kernel.spawn()
    a, b = p.socketpair()
    calls = []
    senders = []

    def feed():
        assert kernel.wait_blocked(1, JOIN)
        p.send(a, b"abc")                # not enough for MSG_WAITALL: it sleeps on
        senders.append(_Signaller(kernel, signal.SIGUSR1, done=lambda: calls))
    feeder, fbox = _run(feed)
    try:
        got = _with_handler(signal.SIGUSR1, lambda *args: calls.append(1),
                            lambda: p.recv(b, 10, menios.MSG_WAITALL))
    finally:
        feeder.join(JOIN)
        for sender in senders:
            sender.join()
    assert "error" not in fbox, fbox
    assert got == b"abc"


def test_an_interrupted_stream_send_returns_what_it_queued(kernel):
    _main_only()
    p = kernel.spawn()
    a, b = p.socketpair()
    payload = os.urandom(8 << 20)
    calls = []
    sender = _Signaller(kernel, signal.SIGUSR1, done=lambda: calls)
    try:
        n = _with_handler(signal.SIGUSR1, lambda *args: calls.append(1),
                          lambda: p.send(a, payload))
    finally:
        sender.join()
    assert 0 < n < len(payload)
    got = bytearray()
    while len(got) < n:
        got += p.recv(b, 1 << 20)
    assert bytes(got) == payload[:n]
    with pytest.raises(BlockingIOError):
        p.recv(b, 1, menios.MSG_DONTWAIT)


def test_an_interrupted_send_to_a_name_drops_its_datagram(kernel):
    """A datagram to a full receiver, addressed by name: Ctrl-C drops it
    (nothing queued, nothing leaked); a handler that returns restarts the
    send, which completes once the receiver reads."""
    _main_only()
    p = kernel.spawn()
    r = p.socket(AF_UNIX, menios.SOCK_DGRAM)
    p.bind(r, "/tmp/dgr")
    s = p.socket(AF_UNIX, menios.SOCK_DGRAM)
    queued = 0
    while True:
        try:
            p.sendto(s, b"%d" % queued, "/tmp/dgr", menios.MSG_DONTWAIT)
        except BlockingIOError:
            break
        queued += 1
    skbs = kernel.counters()["skbs"]
    handler = _OnceInterrupt()
    sender = _Signaller(kernel, signal.SIGINT, done=lambda: handler.calls > 0)
    try:
        with pytest.raises(KeyboardInterrupt):
            _with_handler(signal.SIGINT, handler,
                          lambda: p.sendto(s, b"dropped", "/tmp/dgr"))
    finally:
        sender.join()
    assert kernel.counters()["skbs"] == skbs
    assert kernel.blocked() == 0

    calls = []
    sender = _Signaller(kernel, signal.SIGUSR1, done=lambda: calls)

    def drain_one():
        sender.thread.join(JOIN)
        assert kernel.wait_blocked(1, JOIN)
        return p.recv(r, 100)
    reader, rbox = _run(drain_one)
    try:
        sent = _with_handler(signal.SIGUSR1, lambda *args: calls.append(1),
                             lambda: p.sendto(s, b"restarted", "/tmp/dgr"))
    finally:
        sender.join()
        reader.join(JOIN)
    assert sent == len(b"restarted") and calls
    assert rbox.get("result") == b"0", rbox
    got = [p.recv(r, 100) for _ in range(queued)]
    assert got == [b"%d" % i for i in range(1, queued)] + [b"restarted"]


@pytest.mark.parametrize("opt", ["rcv", "snd"])
def test_socket_timeouts_end_by_their_deadline(kernel, opt):
    p = kernel.spawn()
    a, b = p.socketpair()
    tv = struct.pack("qq", 0, 150000)
    if opt == "rcv":
        p.setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, tv)
        call = lambda: p.recv(b, 10)                      # noqa: E731
    else:
        while True:                                       # fill a's buffer first
            try:
                p.send(a, b"x" * 65536, menios.MSG_DONTWAIT)
            except BlockingIOError:
                break
        p.setsockopt(a, SOL_SOCKET, SO_SNDTIMEO, tv)
        call = lambda: p.send(a, b"y")                    # noqa: E731
    start = time.monotonic()
    with pytest.raises(BlockingIOError):
        call()
    assert 0.15 <= time.monotonic() - start < JOIN
    assert kernel.counters()["wait_timeouts"] == 1
    assert kernel.counters()["kicks"] == 0


def test_an_interrupted_sendmsg_gives_its_files_back(kernel):
    """Ctrl-C while a datagram with SCM_RIGHTS waits for room: nothing is
    sent, the files are not in flight, and they close normally."""
    _main_only()
    p = kernel.spawn()
    a, b = p.socketpair(AF_UNIX, menios.SOCK_DGRAM)
    while True:
        try:
            p.send(a, b"fill", menios.MSG_DONTWAIT)
        except BlockingIOError:
            break
    x, y = p.socketpair()
    handler = _OnceInterrupt()
    sender = _Signaller(kernel, signal.SIGINT, done=lambda: handler.calls > 0)
    try:
        with pytest.raises(KeyboardInterrupt):
            _with_handler(signal.SIGINT, handler,
                          lambda: p.sendmsg(a, [b"fds"], [(SOL_SOCKET, menios.SCM_RIGHTS,
                                                            struct.pack("i", x))]))
    finally:
        sender.join()
    assert kernel.counters()["files_inflight"] == 0
    p.close(x)
    p.close(y)
    p.close(a)
    p.close(b)
    assert kernel.counters()["sockets"] == 0


def test_wait_spin_sysctl_bounds_and_disables_the_spin():
    with pytest.raises(ValueError):
        menios.Kernel(sysctl={"menios.wait_spin_us": -1})
    with pytest.raises(TypeError):
        menios.Kernel(sysctl={"menios.wait_spin_us": 1.5})
    k = menios.Kernel(sysctl={"menios.wait_spin_us": 0})
    try:
        assert k.sysctl["menios.wait_spin_us"] == 0
        p = k.spawn()
        a, b = p.socketpair()
        t, box = _run(lambda: [p.send(b, p.recv(b, 10)) for _ in range(200)])
        for _ in range(200):
            p.send(a, b"ping")
            assert p.recv(a, 10) == b"ping"
        t.join(JOIN)
        assert "error" not in box, box
        assert k.counters()["spin_wakes"] == 0          # it never spun
    finally:
        k.close()


@pytest.mark.parametrize("nogil_min", [0, 4096, 1 << 40])
def test_copies_without_the_gil_keep_the_stream_and_datagrams_whole(nogil_min):
    """menios.nogil_copy_min: sends and recvs at or above it make their
    first attempt with the GIL released; the bytes arrive whole and in
    order whichever way each call ran (chunks below, at and above it)."""
    with pytest.raises(ValueError):
        menios.Kernel(sysctl={"menios.nogil_copy_min": -1})
    k = menios.Kernel(sysctl={"menios.nogil_copy_min": nogil_min})
    try:
        assert k.net.nogil_copy_min == nogil_min
        p = k.spawn()
        a, b = p.socketpair()
        rng = random.Random(nogil_min)
        data = bytes(rng.getrandbits(8) for _ in range(1 << 16)) * 8
        sizes = [100, 4095, 4096, 70000, 1 << 17]

        def writer():
            off = 0
            try:
                while off < len(data):
                    off += p.send(a, data[off:off + sizes[off % len(sizes)]])
            finally:
                p.shutdown(a, menios.SHUT_WR)      # the reader never hangs

        t, box = _run(writer)
        got = bytearray()
        buf = bytearray(1 << 17)
        while True:
            n = p.recv_into(b, buf, sizes[len(got) % len(sizes)])
            if not n:
                break
            got += buf[:n]
        t.join(JOIN)
        assert "error" not in box, box
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        x, y = p.socketpair(AF_UNIX, menios.SOCK_DGRAM)
        for n in (10, 4096, 65536, 100000):
            p.send(x, data[:n])
            assert p.recv(y, 1 << 17) == data[:n]
    finally:
        k.close()
    assert k.counters()["sockets"] == 0
