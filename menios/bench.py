"""``menios bench``: menios against the host kernel's AF_UNIX and pipes.

Every workload runs, in this process and in one run, on up to three
backends of:

* ``menios`` -- a fresh :class:`menios.Kernel` and one simulated process;
* ``host``   -- the host kernel's AF_UNIX through the stdlib ``socket`` module;
* ``pipe``   -- ``os.pipe`` (only where a one-way byte stream makes sense);
* ``host_splice`` -- zerocopy_1m only: the host's vmsplice + splice path.

Each result carries throughput (MB/s, 10**6 bytes), ops/s, and for the
latency workloads the median and p99 of per-operation times taken with
``time.perf_counter_ns``.  The ratio column is menios (or pipe) divided by
host on the workload's *primary* metric: for throughput/ops workloads a
ratio > 1 means menios is faster; for latency and memory workloads a ratio
< 1 means menios is better.  Targets are reported, never asserted.  A
workload whose data arrives wrong fails its row (and ``main`` returns 1).

Public entry points: :func:`run`, :func:`format_table`, :func:`main`.
"""
import array
import functools
import gc
import json
import os
import platform
import resource
import socket
import sys
import tempfile
import threading
import time

import menios
from menios import Kernel
from menios.constants import AF_UNIX, SOCK_DGRAM, SOCK_STREAM, SHUT_RD, SHUT_WR

_PAGE = os.sysconf("SC_PAGE_SIZE")
_ns = time.perf_counter_ns

# primary metric of each workload: "ops" (higher is better), "lat" (median,
# lower is better), "mem" (bytes per socket, lower is better).
WORKLOADS = {}


def _workload(name, primary, backends, desc):
    def deco(fn):
        WORKLOADS[name] = dict(fn=fn, primary=primary, backends=backends, desc=desc)
        return fn
    return deco


# name -> (kind, threshold, text).  kind "ratio_ge"/"ratio_le" compare the
# menios/host ratio; "abs_le" compares the menios value.  zerocopy_1m's ratio
# is menios's handoffs/s over the host's copying stream's.
TARGETS = {
    "send_recv_64_stream": ("ratio_ge", 5.0, ">=5x"),
    "send_recv_64_dgram": ("ratio_ge", 5.0, ">=5x"),
    "socket_objects_64": ("ratio_ge", 3.0, ">=3x"),
    "stream_4k": ("ratio_ge", 2.0, ">=2x"),
    "stream_64k": ("ratio_ge", 2.0, ">=2x"),
    "stream_1m": ("ratio_ge", 1.5, ">=1.5x"),
    "dgram_8_senders": ("ratio_ge", 2.0, ">=2x"),
    "zerocopy_1m": ("ratio_ge", 5.0, ">=5x"),
    "pingpong_64": ("ratio_le", 0.5, "<=0.5x"),
    "connect_accept_fs": ("ratio_ge", 2.0, ">=2x"),
    "connect_accept_abstract": ("ratio_ge", 2.0, ">=2x"),
    "scm_rights": ("ratio_ge", 2.0, ">=2x"),
    "idle_pair_memory": ("abs_le", 2048, "<=2KiB"),
    "splice_relay": ("ratio_ge", 2.0, ">=2x"),
    "sendfile_1m": ("ratio_ge", 2.0, ">=2x"),
    "pipe_64k": ("ratio_ge", 2.0, ">=2x"),
}


class NotApplicable(Exception):
    """A backend cannot run a workload here (the message says why)."""


# ------------------------------------------------------------------ helpers
def _pct(sorted_vals, q):
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, int(round(q * (len(sorted_vals) - 1))))
    return sorted_vals[i]


def _lat_stats(samples_ns):
    s = sorted(samples_ns)
    return _pct(s, 0.5) / 1000.0, _pct(s, 0.99) / 1000.0


#: Quantiles of the latency distribution a row keeps (for --plot-latency):
#: every percent, and the tail at 99.5 and 99.9.
LAT_QUANTILES = tuple(i / 100 for i in range(101)) + (0.995, 0.999)


def _lat_quantiles(samples_ns):
    """``[[q, us], ...]`` for each q of LAT_QUANTILES, in order of q."""
    s = sorted(samples_ns)
    return sorted([q, _pct(s, q) / 1000.0] for q in LAT_QUANTILES)


def _result(ops, elapsed, nbytes=None, samples=None, **extra):
    r = dict(ops=ops, elapsed_s=elapsed,
             ops_s=ops / elapsed if elapsed > 0 else None,
             mb_s=(nbytes / elapsed / 1e6) if (nbytes is not None and elapsed > 0) else None,
             median_us=None, p99_us=None)
    if samples:
        r["median_us"], r["p99_us"] = _lat_stats(samples)
        r["lat_quantiles_us"] = _lat_quantiles(samples)
    r.update(extra)
    return r


def _timed_loop(body, budget, chunk):
    """Run body(chunk) until budget seconds have passed; (iterations, elapsed)."""
    n = 0
    t0 = time.perf_counter()
    end = t0 + budget
    while True:
        body(chunk)
        n += chunk
        t = time.perf_counter()
        if t >= end:
            return n, t - t0


def _sampled_loop(op, budget, max_samples=200000):
    """Time each op() with perf_counter_ns until budget or max_samples."""
    samples = []
    app = samples.append
    end = time.perf_counter() + budget
    while len(samples) < max_samples:
        for _ in range(100):
            t = _ns()
            op()
            app(_ns() - t)
        if time.perf_counter() >= end:
            break
    return samples


def _timed_ops(op, budget, cleanup):
    """50 warm-up op()s, then each op() timed for ``budget`` seconds;
    ``cleanup()`` runs whatever happens.  The result counts ops per second
    and keeps the per-op latencies."""
    try:
        for _ in range(50):
            op()
        samples = _sampled_loop(op, budget)
    finally:
        cleanup()
    return _result(len(samples), sum(samples) / 1e9, None, samples)


def _threads(targets, timeout):
    """Run the callables in threads; re-raise the first error."""
    errors = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as e:      # noqa: BLE001 - reported to the caller
                errors.append(e)
        return run
    ts = [threading.Thread(target=wrap(f), daemon=True) for f in targets]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
    if any(t.is_alive() for t in ts):
        raise RuntimeError("benchmark threads did not finish within %.0f s" % timeout)
    if errors:
        # a wrong page fails the row, whatever broke in the other threads after it
        raise next((e for e in errors if isinstance(e, VerificationError)), errors[0])


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _slab():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("Slab:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# ----------------------------------------------------------------- backends
#: ``menios bench --monitor``: every kernel the benchmark makes is published
#: (Kernel(monitor=True)), so ``menios ss`` in another shell shows it.
_MONITOR = False


def _kernel():
    return Kernel(monitor=_MONITOR)


class _MeniosBackend:
    name = "menios"

    def __init__(self, nofile=4096):
        self.k = _kernel()
        self.p = self.k.spawn(uid=0, gid=0, rlimit_nofile=nofile)

    def pair(self, type_):
        a, b = self.p.socketpair(AF_UNIX, type_)
        p = self.p
        return dict(a=a, b=b,
                    a_send=functools.partial(p.send, a), b_send=functools.partial(p.send, b),
                    a_recv=functools.partial(p.recv, a), b_recv=functools.partial(p.recv, b),
                    b_recv_into=functools.partial(p.recv_into, b),
                    a_shut=functools.partial(p.shutdown, a, SHUT_WR),
                    b_shut_rd=functools.partial(p.shutdown, b, SHUT_RD))

    def close(self):
        self.k.close()


class _MeniosTracedBackend(_MeniosBackend):
    """menios with ``Kernel.tracing()`` on for the whole run: every event
    recorded and drained (the first TRACED_KEEP kept, the rest counted and
    dropped after draining, so memory stays bounded)."""
    name = "menios_traced"

    def __init__(self, nofile=4096):
        super().__init__(nofile)
        self.trace = self.k.tracing(max_events=TRACED_KEEP)
        self.trace.start()

    def close(self):
        self.trace.stop()
        super().close()


#: Events a menios_traced run keeps (48 bytes each).
TRACED_KEEP = 1 << 20


class _HostBackend:
    name = "host"

    def __init__(self):
        self.socks = []

    def pair(self, type_):
        a, b = socket.socketpair(socket.AF_UNIX, type_)
        self.socks += [a, b]
        return dict(a=a, b=b, a_send=a.send, b_send=b.send, a_recv=a.recv, b_recv=b.recv,
                    b_recv_into=b.recv_into,
                    a_shut=functools.partial(a.shutdown, socket.SHUT_WR),
                    b_shut_rd=functools.partial(b.shutdown, socket.SHUT_RD))

    def close(self):
        for s in self.socks:
            s.close()


class _PipeBackend:
    """Two pipes make a duplex pair: a -> b on one, b -> a on the other."""
    name = "pipe"

    def __init__(self):
        self.fds = []

    def pair(self, type_):
        r1, w1 = os.pipe()      # a -> b
        r2, w2 = os.pipe()      # b -> a
        self.fds += [r1, w1, r2, w2]

        def recv_into(buf, n=0):
            return os.readv(r1, [buf])
        return dict(a=w1, b=r1,
                    a_send=functools.partial(os.write, w1), b_send=functools.partial(os.write, w2),
                    a_recv=functools.partial(os.read, r2), b_recv=functools.partial(os.read, r1),
                    b_recv_into=recv_into, a_shut=functools.partial(self._close_one, w1),
                    b_shut_rd=functools.partial(self._close_one, r1))

    def _close_one(self, fd):
        os.close(fd)
        self.fds.remove(fd)

    def close(self):
        for fd in self.fds:
            os.close(fd)


_BACKENDS = {"menios": _MeniosBackend, "menios_traced": _MeniosTracedBackend,
             "host": _HostBackend, "pipe": _PipeBackend}


def _with_backend(name, fn, *args):
    be = _BACKENDS[name]()
    try:
        return fn(be, *args)
    finally:
        be.close()


# ---------------------------------------------------------------- workloads
def _send_recv_64(be, budget, type_):
    pr = be.pair(type_)
    send, recv = pr["a_send"], pr["b_recv"]
    data = b"x" * 64

    def body(n):
        for _ in range(n):
            send(data)
            recv(64)
    body(200)                                   # warm up
    ops, elapsed = _timed_loop(body, budget * 0.7, 1000)

    def one():
        send(data)
        recv(64)
    samples = _sampled_loop(one, budget * 0.3)
    return _result(ops, elapsed, ops * 64, samples)


@_workload("send_recv_64_stream", "ops", ("menios", "host", "pipe", "menios_traced"),
           "single thread: send 64 B then recv it (SOCK_STREAM); menios_traced: the same "
           "with Kernel.tracing() on")
def _w_send_recv_64_stream(name, budget):
    return _with_backend(name, _send_recv_64, budget, SOCK_STREAM)


@_workload("send_recv_64_dgram", "ops", ("menios", "host"),
           "single thread: send 64 B then recv it (SOCK_DGRAM)")
def _w_send_recv_64_dgram(name, budget):
    return _with_backend(name, _send_recv_64, budget, SOCK_DGRAM)


def _socket_objects_64(name, budget):
    """send 64 B then recv it on socket objects: menios.socket's (with or
    without a selector registered on both ends, which arms their readiness
    fds) or the stdlib's."""
    import selectors
    import menios.socket as msocket
    k = sel = None
    if name == "host":
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        k = _kernel()
        a, b = msocket.socketpair(process=k.spawn())
        if name == "menios_armed":
            sel = selectors.DefaultSelector()
            sel.register(a, selectors.EVENT_READ | selectors.EVENT_WRITE)
            sel.register(b, selectors.EVENT_READ | selectors.EVENT_WRITE)
    try:
        send, recv = a.send, b.recv
        data = b"x" * 64

        def body(n):
            for _ in range(n):
                send(data)
                if len(recv(64)) != 64:
                    raise VerificationError("short read")
        body(200)
        ops, elapsed = _timed_loop(body, budget * 0.7, 1000)

        def one():
            send(data)
            recv(64)
        samples = _sampled_loop(one, budget * 0.3)
        if sel is not None:
            ready = dict((key.fileobj, ev) for key, ev in sel.select(0))
            if ready.get(b) != selectors.EVENT_WRITE:      # nothing left to read
                raise VerificationError("readiness fd out of step: %r" % ready)
        return _result(ops, elapsed, ops * 64, samples)
    finally:
        if sel is not None:
            sel.close()
        a.close()
        b.close()
        if k is not None:
            k.close()


# Floors of the armed row: the host calls that keep a readiness fd in step
# per message (the receiver's fd turns readable, then unreadable), timed in a
# C loop with the fd registered with an epoll instance (menios._floor).
_READY_FLOORS = {
    "c_readyfd": ("socketpair", "send 1 B + recv on the readiness fd's socketpair, "
                  "as plat_readyfd_set"),
    "c_eventfd": ("eventfd", "write + read of an eventfd, which cannot show "
                  "'neither readable nor writable'"),
    "c_syscalls": ("syscalls", "two getppid() calls, the least two host calls cost"),
}


def _ready_floor(name, budget):
    from menios._floor import ready_floor
    kind, what = _READY_FLOORS[name]
    pairs, elapsed, bad = ready_floor(kind, budget)
    if bad:
        raise VerificationError("%d of %d transition pairs went wrong" % (bad, pairs))
    return _result(pairs, elapsed, None,
                   note="floor: per op, one thread in C: %s (%.0f ns); ops/s here over "
                   "host's is the most the armed row could reach if menios itself cost "
                   "nothing" % (what, elapsed / pairs * 1e9))


@_workload("socket_objects_64", "ops", ("menios", "menios_armed", "host") + tuple(_READY_FLOORS),
           "single thread: send 64 B then recv it on socket objects "
           "(menios.socket vs the stdlib's; menios_armed: a selector registered on both)")
def _w_socket_objects_64(name, budget):
    if name in _READY_FLOORS:
        return _ready_floor(name, budget)
    return _socket_objects_64(name, budget)


# A stream's bytes follow a pattern of this period (a prime, so no power-of-2
# chunk lines up with it): the writer sends slices of it at its stream
# position and the reader compares what arrived with the pattern at its own.
_STREAM_PERIOD = 251


def _stream(be, budget, size):
    pr = be.pair(SOCK_STREAM)
    send, recv_into, shut = pr["a_send"], pr["b_recv_into"], pr["a_shut"]
    pattern = memoryview(bytes(i % _STREAM_PERIOD for i in range(size + _STREAM_PERIOD)))
    chunks = [pattern[off:off + size] for off in range(_STREAM_PERIOD)]
    buf = bytearray(size)
    state = dict(writes=0, bytes=0, end=None, bad=None)
    start = threading.Barrier(2)

    def writer():
        start.wait()
        end = time.perf_counter() + budget
        writes = 0
        off = 0
        try:
            while True:
                for _ in range(16):
                    payload = chunks[off]
                    sent = send(payload)
                    while sent < size:
                        sent += send(payload[sent:])
                    off = (off + size) % _STREAM_PERIOD
                writes += 16
                if time.perf_counter() >= end:
                    break
        except BrokenPipeError:
            if state["bad"] is None:
                raise
            return                      # the reader found bad data and hung up
        state["writes"] = writes
        shut()

    def reader():
        start.wait()
        t0 = time.perf_counter()
        total = 0
        while True:
            n = recv_into(buf, size)
            if not n:
                break
            off = total % _STREAM_PERIOD
            if not buf.startswith(pattern[off:off + n]):
                state["bad"] = "stream bytes %d..%d arrived wrong" % (total, total + n)
                pr["b_shut_rd"]()       # the writer's next send fails: it stops
                return
            total += n
        state["end"] = time.perf_counter() - t0
        state["bytes"] = total

    _threads([writer, reader], budget + 60)
    if state["bad"]:
        raise VerificationError(state["bad"])
    if state["bytes"] != state["writes"] * size:
        raise VerificationError("stream lost data: %d != %d"
                                % (state["bytes"], state["writes"] * size))
    return _result(state["writes"], state["end"], state["bytes"])


# Floors: the same stream between two C threads with no kernel and no Python
# (menios._floor), with two memcpys per chunk through a ring (what a socket's
# send and recv copy) or one straight into the reader's waiting buffer.
_COPY_FLOORS = {"c_ring": 2, "c_handoff": 1}


def _copy_floor(name, budget, size):
    from menios._floor import copy_floor
    chunks, elapsed, bad = copy_floor(size, _COPY_FLOORS[name], budget)
    if bad:
        raise VerificationError("%d of %d chunks arrived with a wrong stamp" % (bad, chunks))
    return _result(chunks, elapsed, chunks * size,
                   note="floor: two C threads, %d memcpy per %d B chunk, stamps checked"
                   % (_COPY_FLOORS[name], size))


for _size, _nm in ((64, "stream_64"), (4096, "stream_4k"), (65536, "stream_64k"),
                   (1 << 20, "stream_1m")):
    def _mk(size):
        def fn(name, budget):
            if name in _COPY_FLOORS:
                return _copy_floor(name, budget, size)
            return _with_backend(name, _stream, budget, size)
        return fn
    _floors = tuple(_COPY_FLOORS) if _size >= 4096 else ()
    _workload(_nm, "ops", ("menios", "host", "pipe") + _floors,
              "two threads: writer sends %d B chunks, reader recv_into %d B" % (_size, _size)
              )(_mk(_size))


def _sample_rounds(round_trip, budget, samples):
    """Time ``round_trip()`` calls, 50 at a time, into ``samples`` (ns)
    until ``budget`` seconds have passed."""
    app = samples.append
    end = time.perf_counter() + budget
    while True:
        for _ in range(50):
            t = _ns()
            round_trip()
            app(_ns() - t)
        if time.perf_counter() >= end:
            return


def _pingpong(be, budget):
    pr = be.pair(SOCK_STREAM)
    a_send, a_recv, b_send, b_recv = pr["a_send"], pr["a_recv"], pr["b_send"], pr["b_recv"]
    data = b"p" * 64
    stop = b"s" * 64
    samples = []

    def server():
        while True:
            m = b_recv(64)
            while len(m) < 64:
                m += b_recv(64 - len(m))
            b_send(m)
            if m == stop:
                return

    def round_trip():
        a_send(data)
        m = a_recv(64)
        while len(m) < 64:
            m += a_recv(64 - len(m))

    def client():
        _sample_rounds(round_trip, budget, samples)
        a_send(stop)
        a_recv(64)

    _threads([server, client], budget + 60)
    elapsed = sum(samples) / 1e9
    return _result(len(samples), elapsed, len(samples) * 128, samples)


def _gil_pingpong(budget):
    """The floor of any round trip between two Python threads: each hands
    the other a lock and waits on its own, so the GIL changes hands twice
    per round trip with no I/O at all."""
    to_server, to_client = threading.Lock(), threading.Lock()
    to_server.acquire()
    to_client.acquire()
    samples = []
    stop = []

    def server():
        while True:
            to_server.acquire()
            to_client.release()
            if stop:
                return

    def round_trip():
        to_server.release()
        to_client.acquire()

    def client():
        _sample_rounds(round_trip, budget, samples)
        stop.append(True)
        to_server.release()
        to_client.acquire()

    _threads([server, client], budget + 60)
    elapsed = sum(samples) / 1e9
    return _result(len(samples), elapsed, samples=samples,
                   note="floor: two Python threads handing each other a lock, no I/O")


def _spin_pingpong(budget, sleep=False):
    """The floor of a round trip between two Python threads that never
    sleep: each hands the other the turn and spins with the GIL released
    until it comes back (menios._floor.Baton), so the GIL changes hands
    twice per round trip with no I/O and no futex.  ``sleep``: the floor
    of one between two threads that sleep -- each hands the turn over,
    wakes the other and sleeps on a futex, all with the GIL released: two
    GIL hand-offs and two futex sleeps and wake-ups per round trip, what
    a blocking exchange costs at least when spinning does not pay."""
    from menios._floor import Baton
    baton = Baton(sleep=sleep)
    samples = []
    stop = []
    ready = threading.Barrier(2)

    def server():
        ready.wait()
        baton.wait(1)                   # the client's first hop
        while True:
            if stop:
                baton.give(0)
                return
            baton.pass_wait(1)          # the echo: back to the client, wait for its next hop

    def client():
        ready.wait()
        _sample_rounds(functools.partial(baton.pass_wait, 0), budget, samples)
        stop.append(True)
        baton.pass_wait(0)

    _threads([server, client], budget + 60)
    elapsed = sum(samples) / 1e9
    return _result(len(samples), elapsed, samples=samples,
                   note="floor: two Python threads taking turns with the GIL released, "
                   "%s, no I/O" % ("asleep on a futex" if sleep else "spinning, no sleep"))


_PINGPONG_FLOORS = {"gil_handoff": _gil_pingpong, "gil_spin": _spin_pingpong,
                    "gil_sleep": functools.partial(_spin_pingpong, sleep=True)}


@_workload("pingpong_64", "lat", ("menios", "host", "pipe") + tuple(_PINGPONG_FLOORS),
           "two threads: 64 B round trip (send, peer echoes); latency per round trip")
def _w_pingpong(name, budget):
    if name in _PINGPONG_FLOORS:
        return _PINGPONG_FLOORS[name](budget)
    return _with_backend(name, _pingpong, budget)


_WAKE_PAUSE = 0.001     # the sleeper is long asleep (its spin given up) when woken


def _wake_latency(be, budget):
    pr = be.pair(SOCK_STREAM)
    a_send, a_recv, b_send, b_recv = pr["a_send"], pr["a_recv"], pr["b_send"], pr["b_recv"]
    woke = []
    sent = []

    def sleeper():
        while True:
            m = b_recv(1)
            woke.append(_ns())
            if m != b"w":
                return
            b_send(b"k")                # ack: it goes straight back to sleep

    def waker():
        end = time.perf_counter() + budget
        while time.perf_counter() < end:
            time.sleep(_WAKE_PAUSE)
            sent.append(_ns())
            a_send(b"w")
            a_recv(1)
        a_send(b"q")

    _threads([sleeper, waker], budget + 60)
    samples = [w - s for s, w in zip(sent, woke)]
    return _result(len(samples), sum(samples) / 1e9, None, samples)


@_workload("wake_latency", "lat", ("menios", "host", "pipe"),
           "a thread asleep in recv for 1 ms, woken by a 1 B send; time from the "
           "send's start to the sleeper's return")
def _w_wake_latency(name, budget):
    return _with_backend(name, _wake_latency, budget)


class DgramBurst:
    """``nsenders`` connected SOCK_DGRAM sender threads and one receiver on
    backend ``name`` ("menios" or "host").  ``burst()`` lets every sender
    send its ``per_sender`` 64 B datagrams (each names its sender and its
    number) and receives and checks all of them in the calling thread: one
    unit of work, the same on both backends.  ``close()`` ends the threads."""
    MSG = 64

    def __init__(self, name, nsenders, per_sender=None):
        self.nsenders = nsenders
        self.per_sender = per_sender or max(1, 512 // nsenders)
        # message i of sender s: s, i (4 bytes each, little-endian), padding
        self.msgs = [[s.to_bytes(4, "little") + i.to_bytes(4, "little")
                      + b"d" * (self.MSG - 8) for i in range(self.per_sender)]
                     for s in range(nsenders)]
        self.errors = []
        if name == "menios":
            k = _kernel()
            p = k.spawn(uid=0, gid=0)
            addr = b"\0menios-bench-dgram"
            rfd = p.socket(AF_UNIX, SOCK_DGRAM)
            p.bind(rfd, addr)
            self.recv = functools.partial(p.recv, rfd)
            self._close_receiver = functools.partial(p.close, rfd)
            sends = []
            for _ in range(nsenders):
                s = p.socket(AF_UNIX, SOCK_DGRAM)
                p.connect(s, addr)
                sends.append(functools.partial(p.send, s))
            self._cleanup = k.close
        else:
            addr = "\0menios-bench-dgram-%d-%d-%d" % (os.getpid(), nsenders, id(self))
            r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            r.bind(addr)
            self.recv = r.recv
            self._close_receiver = r.close
            socks = [r]
            sends = []
            for _ in range(nsenders):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                s.connect(addr)
                socks.append(s)
                sends.append(s.send)

            def cleanup():
                for s in socks:
                    s.close()
            self._cleanup = cleanup
        self.go = threading.Barrier(nsenders + 1)
        self.threads = [threading.Thread(target=self._sender, args=(send, self.msgs[i]),
                                         daemon=True) for i, send in enumerate(sends)]
        for t in self.threads:
            t.start()

    def _sender(self, send, msgs):
        try:
            while True:
                self.go.wait()
                for m in msgs:
                    send(m)
        except threading.BrokenBarrierError:
            pass                        # close()
        except BaseException as e:      # noqa: BLE001 - raised by burst()
            self.errors.append(e)
            self.go.abort()

    def burst(self):
        """One burst: release the senders, receive and check every datagram."""
        self.go.wait(30)
        recv, msgs, size = self.recv, self.msgs, self.MSG
        nxt = [0] * self.nsenders
        for i in range(self.nsenders * self.per_sender):
            m = recv(size + 1)
            s = int.from_bytes(m[:4], "little")
            if s >= self.nsenders or nxt[s] >= self.per_sender or m != msgs[s][nxt[s]]:
                raise VerificationError("datagram %d of the burst (%d B, %r...) is not the next "
                                        "one of a sender; received per sender: %s"
                                        % (i, len(m), m[:8], nxt))
            nxt[s] += 1
        if self.errors:
            raise self.errors[0]
        return self.nsenders * self.per_sender

    def close(self):
        self.go.abort()                 # senders waiting for a burst return
        deadline = time.monotonic() + 0.2
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self.threads):
            # A failed burst left senders blocked on a full receive queue:
            # closing the receiver fails their sends.
            try:
                self._close_receiver()
            except OSError:
                pass
            for t in self.threads:
                t.join(5)
        self._cleanup()


def _dgram_senders(name, budget, nsenders):
    db = DgramBurst(name, nsenders)
    try:
        db.burst()                               # warm up
        count, t0 = 0, time.perf_counter()
        end = t0 + budget
        while True:
            count += db.burst()
            t = time.perf_counter()
            if t >= end:
                break
    finally:
        db.close()
    return _result(count, t - t0, count * DgramBurst.MSG,
                   note="bursts of %d datagrams (%d per sender), each checked on arrival"
                        % (db.nsenders * db.per_sender, db.per_sender))


@_workload("dgram_1_sender", "ops", ("menios", "host"),
           "1 sender thread, 64 B datagrams to one receiver: messages/s")
def _w_dgram1(name, budget):
    return _dgram_senders(name, budget, 1)


@_workload("dgram_8_senders", "ops", ("menios", "host"),
           "8 sender threads, 64 B datagrams to one receiver: messages/s")
def _w_dgram8(name, budget):
    return _dgram_senders(name, budget, 8)


def _connect_accept(name, budget, abstract):
    tag = "%d-%d" % (os.getpid(), threading.get_ident() % 100000)
    if name == "menios":
        k = _kernel()
        p = k.spawn(uid=0, gid=0)
        addr = (b"\0menios-bench-ca-" + tag.encode()) if abstract else "/tmp/bench.sock"
        lfd = p.socket(AF_UNIX, SOCK_STREAM)
        p.bind(lfd, addr)
        p.listen(lfd, 128)
        sock, connect, accept, close = p.socket, p.connect, p.accept, p.close

        def op():
            c = sock(AF_UNIX, SOCK_STREAM)
            connect(c, addr)
            a, _ = accept(lfd)
            close(a)
            close(c)
        cleanup = k.close
    else:
        tmp = None
        if abstract:
            addr = "\0menios-bench-ca-" + tag
        else:
            tmp = tempfile.mkdtemp(prefix="menios-bench-")
            addr = os.path.join(tmp, "bench.sock")
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(addr)
        ls.listen(128)
        Sock = socket.socket

        def op():
            c = Sock(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(addr)
            a, _ = ls.accept()
            a.close()
            c.close()

        def cleanup():
            ls.close()
            if tmp:
                try:
                    os.unlink(addr)
                finally:
                    os.rmdir(tmp)
    return _timed_ops(op, budget, cleanup)


@_workload("connect_accept_fs", "ops", ("menios", "host"),
           "connect + accept + close both ends, filesystem name: per second")
def _w_ca_fs(name, budget):
    return _connect_accept(name, budget, False)


@_workload("connect_accept_abstract", "ops", ("menios", "host"),
           "connect + accept + close both ends, abstract name: per second")
def _w_ca_abs(name, budget):
    return _connect_accept(name, budget, True)


@_workload("scm_rights", "ops", ("menios", "host"),
           "send_fds of one fd + recv_fds + close the received fd: fds/s")
def _w_scm(name, budget):
    if name == "menios":
        k = _kernel()
        p = k.spawn(uid=0, gid=0)
        a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
        r, w = p.pipe()
        send_fds, recv_fds, close = p.send_fds, p.recv_fds, p.close
        a_, b_ = a, b
        cleanup = k.close
    else:
        sa, sb = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        r, w = os.pipe()
        a_, b_ = sa, sb
        send_fds, recv_fds = socket.send_fds, socket.recv_fds
        close = os.close

        def cleanup():
            sa.close()
            sb.close()
            os.close(r)
            os.close(w)
    bufs = [b"x"]
    fds = [r]

    def op():
        send_fds(a_, bufs, fds)
        _, got, _, _ = recv_fds(b_, 1, 1)
        close(got[0])
    return _timed_ops(op, budget, cleanup)


def _idle_pairs_menios(npairs):
    """RSS growth per socket with npairs idle socketpairs open.

    The pairs are spread over processes of 128 pairs and Kernels of at most
    10,000 pairs, so the figure includes the overheads of a Process and a
    Kernel amortised over the sockets, and compares with the figures in
    benchmarks/README.md, measured that way.
    """
    per_proc, per_kernel = 128, 10000
    gc.collect()
    rss0 = _rss()
    kernels = []
    t0 = time.perf_counter()
    left = npairs
    while left > 0:
        k = _kernel()
        kernels.append(k)
        kl = min(per_kernel, left)
        left -= kl
        while kl > 0:
            p = k.spawn(uid=0, gid=0, rlimit_nofile=2 * per_proc + 8)
            sp = p.socketpair
            for _ in range(min(per_proc, kl)):
                sp(AF_UNIX, SOCK_STREAM)
            kl -= per_proc
    elapsed = time.perf_counter() - t0
    gc.collect()
    rss1 = _rss()
    t1 = time.perf_counter()
    for k in kernels:
        k.close()
    teardown = time.perf_counter() - t1
    per_sock = (rss1 - rss0) / (2 * npairs)
    return dict(ops=npairs, elapsed_s=elapsed, ops_s=npairs / elapsed, mb_s=None,
                median_us=None, p99_us=None, bytes_per_socket=per_sock, teardown_s=teardown,
                note="RSS delta / 2N (%d pairs, %d kernels, %d processes); teardown %.1f s"
                     % (npairs, len(kernels), -(-npairs // per_proc), teardown))


def _idle_pairs_host(npairs):
    need = 2 * npairs + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    old = (soft, hard)
    if soft < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))
        except (ValueError, OSError) as e:
            raise NotApplicable("RLIMIT_NOFILE %d < %d and cannot raise it (%s)" % (soft, need, e))
    fds = array.array("i")
    try:
        gc.collect()
        rss0, slab0 = _rss(), _slab()
        t0 = time.perf_counter()
        sp = socket.socketpair
        for _ in range(npairs):
            a, b = sp(socket.AF_UNIX, socket.SOCK_STREAM)
            fds.append(a.detach())
            fds.append(b.detach())
        elapsed = time.perf_counter() - t0
        gc.collect()
        rss1, slab1 = _rss(), _slab()
    finally:
        for fd in fds:
            os.close(fd)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, old)
        except (ValueError, OSError):
            pass
    user = (rss1 - rss0) / (2 * npairs)
    kern = (slab1 - slab0) / (2 * npairs) if slab0 is not None and slab1 is not None else 0
    return dict(ops=npairs, elapsed_s=elapsed, ops_s=npairs / elapsed, mb_s=None,
                median_us=None, p99_us=None, bytes_per_socket=user + kern,
                note="(RSS + kernel Slab delta) / 2N: %.0f B user + %.0f B slab "
                     "(Slab is system-wide: noisy)" % (user, kern))


@_workload("idle_pair_memory", "mem", ("menios", "host"),
           "memory per socket with N idle connected socketpairs open")
def _w_mem(name, budget, npairs=None):
    npairs = npairs or 10000
    if name == "menios":
        return _idle_pairs_menios(npairs)
    return _idle_pairs_host(npairs)


# ---------------------------------------------------------------- zero copy
# zerocopy_1m moves 1 MiB messages of ZC_PAGES pages.  The writer stamps every
# page of a message with its sequence number before handing it off and the
# reader checks every stamp on arrival, on every backend, so each side does
# the same work on the data and a corrupted, stale or lost page fails the run.
ZC_PAGE = 4096
ZC_PAGES = 256
ZC_SIZE = ZC_PAGE * ZC_PAGES
ZC_RING = 4                       # 1 MiB buffers a zero-copy writer rotates through
ZC_TOUCHED = 2 * 8 * ZC_PAGES     # bytes stamped + bytes verified per handoff
_STAMP_STRIDE = ZC_PAGE // 8      # 8-byte words per page
_WAIT_SLICE = 0.05                # writer waits in slices so a failed reader stops it


class VerificationError(RuntimeError):
    """A zero-copy message arrived with a wrong page stamp, short, or not at all."""


class _Aborted(Exception):
    """The other side of a zero-copy run failed; this side stops."""


# page_stamps computes a run of page stamps in one big-integer multiply-add:
# word i of _stamp_consts(n)'s first is 1 and of its second i + 1.
_STAMP_CONSTS = {}


def _stamp_consts(npages):
    c = _STAMP_CONSTS.get(npages)
    if c is None:
        c = _STAMP_CONSTS[npages] = (sum(1 << (64 * i) for i in range(npages)),
                                     sum((i + 1) << (64 * i) for i in range(npages)))
    return c


def page_stamps(first, npages):
    """The stamps of ``npages`` pages numbered on from ``first``, as 8-byte
    little-endian words: page ``first + i`` carries ``first + i + 1`` (never
    0, so a zero-filled page never passes)."""
    ones, idx = _stamp_consts(npages)
    return (first * ones + idx).to_bytes(8 * npages, "little")


def page_words(buf):
    """A view of the first 8-byte word of every 4 KiB page of ``buf`` (a
    whole number of pages): the stamps' places, written or read in one
    strided slice.  Release it (``with``) before resizing ``buf``."""
    with memoryview(buf) as m, m.cast("B") as b, b.cast("Q") as q:
        return q[::_STAMP_STRIDE]


def zc_stamps(handoff):
    """The stamps of message number ``handoff`` as ZC_PAGES 8-byte
    little-endian words: page i carries ``handoff * ZC_PAGES + i + 1``."""
    return page_stamps(handoff * ZC_PAGES, ZC_PAGES)


def stamp_pages(buf, handoff):
    """Write the stamps of message ``handoff`` at the start of each page of
    the 1 MiB buffer ``buf``."""
    with memoryview(zc_stamps(handoff)) as src, src.cast("Q") as words_in, \
            page_words(buf) as words:
        words[:] = words_in


def verify_pages(buf, handoff):
    """Check every page stamp of message ``handoff`` in ``buf``; raise
    VerificationError naming the first wrong page."""
    exp = zc_stamps(handoff)
    with memoryview(buf) as m:
        if m.nbytes != ZC_SIZE:
            raise VerificationError("handoff %d: %d bytes, expected %d"
                                    % (handoff, m.nbytes, ZC_SIZE))
        with m.cast("Q") as q, q[::_STAMP_STRIDE] as words:
            got = words.tobytes()
    if got == exp:
        return
    for i in range(ZC_PAGES):
        g, w = got[8 * i:8 * i + 8], exp[8 * i:8 * i + 8]
        if g != w:
            raise VerificationError("handoff %d page %d: stamp %#x, expected %#x" % (
                handoff, i, int.from_bytes(g, "little"), int.from_bytes(w, "little")))


class _ZcMenios:
    """MSG_ZEROCOPY sendmsg of a ring of ``Kernel.alloc_pages`` buffers;
    the reader takes each with ``recv_pages`` and releases it after checking
    it; the writer ``wait``s and ``reclaim``s a buffer before restamping it."""
    name = "menios"

    def __init__(self, ring=ZC_RING):
        if not hasattr(Kernel, "alloc_pages"):
            raise NotApplicable("n/a (no zero-copy API)")
        self.zc = getattr(menios, "MSG_ZEROCOPY", 0x4000000)
        self.k = _kernel()
        self.p = self.k.spawn(uid=0, gid=0)
        self.a, self.b = self.p.socketpair(AF_UNIX, SOCK_STREAM)
        self.pool = [self.k.alloc_pages(ZC_PAGES) for _ in range(ring)]
        self.pending = [False] * ring
        self.aborted = False
        self.c0 = self.k.counters()

    def send(self, h):
        j = h % len(self.pool)
        pg = self.pool[j]
        if self.pending[j]:
            deadline = time.monotonic() + 30
            while not pg.wait(_WAIT_SLICE):
                if self.aborted:
                    raise _Aborted()
                if time.monotonic() > deadline:
                    raise RuntimeError("handoff %d: pages not released within 30 s" % h)
            pg.reclaim()
        stamp_pages(pg, h)
        self.p.sendmsg(self.a, [pg], (), self.zc)
        self.pending[j] = True

    def recv(self, h):
        """Receive and check message ``h``; False at end of stream."""
        buf = self.p.recv_pages(self.b, ZC_SIZE)
        try:
            if len(buf) == 0:
                return False
            verify_pages(buf, h)
        finally:
            buf.release()
        return True

    def finish(self):
        self.p.shutdown(self.a, SHUT_WR)

    def abort(self):
        self.aborted = True
        self.p.shutdown(self.b, socket.SHUT_RDWR)

    def copied(self, handoffs):
        c = self.k.counters()
        zc = c["bytes_zerocopy"] - self.c0["bytes_zerocopy"]
        if zc != handoffs * ZC_SIZE:
            raise VerificationError("%d bytes handed off zero-copy for %d handoffs"
                                    % (zc, handoffs))
        return c["bytes_copied"] - self.c0["bytes_copied"]

    def close(self):
        self.k.close()


class _ZcHostCopy:
    """The host kernel's AF_UNIX stream: the writer stamps one 1 MiB buffer
    and ``sendall``s it (a copy into the kernel), the reader ``recv_into``s
    1 MiB (a copy out) and checks it."""
    name = "host"

    def __init__(self, ring=ZC_RING):
        self.a, self.b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.wbuf = bytearray(ZC_SIZE) if type(self) is _ZcHostCopy else None
        self.rbuf = bytearray(ZC_SIZE)
        self.rview = memoryview(self.rbuf)

    def send(self, h):
        stamp_pages(self.wbuf, h)
        self.a.sendall(self.wbuf)

    def _recv_all(self):
        got = 0
        view, recv_into = self.rview, self.b.recv_into
        while got < ZC_SIZE:
            n = recv_into(view[got:], ZC_SIZE - got, socket.MSG_WAITALL)
            if n == 0:
                break
            got += n
        return got

    def recv(self, h):
        got = self._recv_all()
        if got == 0:
            return False
        if got != ZC_SIZE:
            raise VerificationError("handoff %d: stream ended after %d of %d bytes"
                                    % (h, got, ZC_SIZE))
        verify_pages(self.rbuf, h)
        return True

    def finish(self):
        self.a.shutdown(socket.SHUT_WR)

    def abort(self):
        self.b.shutdown(socket.SHUT_RDWR)

    def copied(self, handoffs):
        return 2 * handoffs * ZC_SIZE

    def close(self):
        self.rview.release()
        self.a.close()
        self.b.close()


def _libc_vmsplice():
    """vmsplice(2) of one (address, length) range into a pipe, through libc
    and ctypes (the os module has splice but not vmsplice); None where libc
    lacks it."""
    try:
        import ctypes
        fn = ctypes.CDLL(None, use_errno=True).vmsplice
    except (OSError, AttributeError, ImportError):
        return None

    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    fn.argtypes = [ctypes.c_int, ctypes.POINTER(iovec), ctypes.c_size_t, ctypes.c_uint]
    fn.restype = ctypes.c_ssize_t

    def vmsplice(fd, addr, n):
        r = fn(fd, ctypes.byref(iovec(addr, n)), 1, 0)
        if r < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        return r
    return vmsplice


class _ZcHostSplice(_ZcHostCopy):
    """The host kernel's nearest zero-copy path: ``vmsplice`` a stamped,
    page-aligned (mmap) 1 MiB buffer into a pipe, then ``os.splice`` the pipe
    into an AF_UNIX stream socket.  Both calls pass page references, so the
    sender copies nothing and must not restamp a buffer before the reader has
    taken it: the writer holds one of ZC_RING slots per message in flight and
    the reader frees a slot after checking a message.  The reader
    ``recv_into``s 1 MiB (a copy out) and checks it, as in ``_ZcHostCopy``."""
    name = "host_splice"

    def __init__(self, ring=ZC_RING):
        import ctypes
        import fcntl
        import mmap
        self._vmsplice = _libc_vmsplice()
        if self._vmsplice is None or not hasattr(os, "splice"):
            raise NotApplicable("n/a (needs os.splice and libc vmsplice: Linux, Python >= 3.10)")
        super().__init__(ring)
        self.pr, self.pw = os.pipe()
        try:
            fcntl.fcntl(self.pw, getattr(fcntl, "F_SETPIPE_SZ", 1031), ZC_SIZE)
        except OSError:
            pass                            # a smaller pipe works, in more calls
        self.pool = [mmap.mmap(-1, ZC_SIZE) for _ in range(ring)]
        self.addrs = [ctypes.addressof(ctypes.c_char.from_buffer(m)) for m in self.pool]
        self.slots = threading.Semaphore(ring)
        self.aborted = False
        try:                                # one page through the path, or n/a
            n = self._vmsplice(self.pw, self.addrs[0], ZC_PAGE)
            while n:
                n -= os.splice(self.pr, self.a.fileno(), n)
            self.b.recv_into(self.rview, ZC_PAGE, socket.MSG_WAITALL)
        except OSError as e:
            self.close()
            raise NotApplicable("n/a (vmsplice + splice into an AF_UNIX socket: %s)" % e)

    def send(self, h):
        deadline = time.monotonic() + 30
        while not self.slots.acquire(timeout=_WAIT_SLICE):
            if self.aborted:
                raise _Aborted()
            if time.monotonic() > deadline:
                raise RuntimeError("handoff %d: no buffer back from the reader in 30 s" % h)
        j = h % len(self.pool)
        stamp_pages(self.pool[j], h)
        addr, off, sock = self.addrs[j], 0, self.a.fileno()
        vmsplice, splice, pr, pw = self._vmsplice, os.splice, self.pr, self.pw
        while off < ZC_SIZE:
            n = vmsplice(pw, addr + off, ZC_SIZE - off)
            left = n
            while left:
                left -= splice(pr, sock, left)
            off += n

    def recv(self, h):
        if not super().recv(h):
            return False
        self.slots.release()
        return True

    def abort(self):
        self.aborted = True
        super().abort()

    def copied(self, handoffs):
        return handoffs * ZC_SIZE

    def close(self):
        super().close()
        os.close(self.pr)
        os.close(self.pw)
        for m in self.pool:
            m.close()


ZC_CHANNELS = {"menios": _ZcMenios, "host": _ZcHostCopy, "host_splice": _ZcHostSplice}

_ZC_WHAT = {
    "menios": "MSG_ZEROCOPY sendmsg + recv_pages + release, {ring} rotating buffers",
    "host": "sendall + recv_into (MSG_WAITALL) of 1 MiB",
    "host_splice": "vmsplice into a pipe + splice into the socket, {ring} rotating mmap buffers, "
                   "recv_into",
}


def zc_channel(name, ring=ZC_RING):
    """A zero-copy benchmark channel for backend ``name`` with ``ring``
    rotating buffers: ``send(h)`` stamps and hands off message h, ``recv(h)``
    receives and checks it (False at end of stream), ``finish()`` ends the
    stream, ``abort()`` stops a writer after a failed ``recv``, ``close()``."""
    return ZC_CHANNELS[name](ring)


def _zerocopy(name, budget, ring=ZC_RING):
    """Writer and reader threads move stamped 1 MiB messages for ``budget``
    seconds (and at least twice round the ring); every page is checked."""
    ch = zc_channel(name, ring)
    min_handoffs = 2 * ring + 2
    state = dict(writes=None, reads=None, end=None)
    failures = []
    start = threading.Barrier(2)

    def writer():
        h = 0
        try:
            start.wait()
            end = time.perf_counter() + budget
            send = ch.send
            while True:
                send(h)
                h += 1
                if h >= min_handoffs and time.perf_counter() >= end:
                    break
            state["writes"] = h
            ch.finish()
        except BaseException as e:      # noqa: BLE001 - reported by _zerocopy
            failures.append(e)
            try:
                ch.finish()             # the reader sees the end of the stream
            except OSError:
                pass

    def reader():
        h = 0
        try:
            start.wait()
            t0 = time.perf_counter()
            recv = ch.recv
            while recv(h):
                h += 1
            state["end"] = time.perf_counter() - t0
            state["reads"] = h
        except BaseException as e:      # noqa: BLE001 - reported by _zerocopy
            failures.append(e)
            try:
                ch.abort()              # the writer stops instead of waiting for buffers
            except OSError:
                pass

    try:
        ts = [threading.Thread(target=f, daemon=True) for f in (writer, reader)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(budget + 60)
        if any(t.is_alive() for t in ts):
            raise RuntimeError("zero-copy threads did not finish within %.0f s" % (budget + 60))
        if failures:
            raise failures[0]
        if state["reads"] != state["writes"]:
            raise VerificationError("%s handoffs sent, %s received and checked"
                                    % (state["writes"], state["reads"]))
        n = state["reads"]
        copied = ch.copied(n)
    finally:
        ch.close()
    el = state["end"]
    return _result(n, el, None, bytes_touched=n * ZC_TOUCHED,
                   touched_mb_s=n * ZC_TOUCHED / el / 1e6, bytes_copied_per_op=copied / n,
                   ring=ring,
                   note="%s: every page stamped and checked (%.1f MB/s of 8-byte stamps "
                        "written + read); copies %s per handoff"
                        % (_ZC_WHAT[name].format(ring=ring),
                           n * ZC_TOUCHED / el / 1e6, _fmt_bytes(copied / n)))


def _fmt_bytes(n):
    if n >= 1 << 20:
        return "%.0f MiB" % (n / (1 << 20))
    if n >= 1 << 10:
        return "%.0f KiB" % (n / (1 << 10))
    return "%.0f B" % n


@_workload("zerocopy_1m", "ops", ("menios", "host", "host_splice"),
           "1 MiB messages of 256 stamped pages, every stamp checked on arrival: handoffs/s "
           "(menios zero copy vs the host's copying stream and its vmsplice+splice path)")
def _w_zc(name, budget, ring=ZC_RING):
    return _zerocopy(name, budget, ring)


# ------------------------------------------------------ splice / sendfile
_PAGE = 4096
_CHUNK = 65536


class _SpliceOps:
    """The calls the splice workloads make, on menios or on the host."""

    def __init__(self, name):
        self.name = name
        self.k = None
        self.fds = []
        if name == "menios":
            self.k = _kernel()
            p = self.k.spawn(uid=0, gid=0)
            self.socketpair = lambda: p.socketpair(AF_UNIX, SOCK_STREAM)
            self.pipe = p.pipe
            self.send = p.send
            self.recv_into = p.recv_into
            self.read = p.read
            self.write = p.write
            self.splice = p.splice
            self.sendfile = p.sendfile
            self.shut_wr = lambda fd: p.shutdown(fd, SHUT_WR)
            self.close = p.close
            self.tmpfile = lambda: p.open("/bench", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        else:
            def socketpair():
                a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                self.fds += [a.detach(), b.detach()]
                return self.fds[-2], self.fds[-1]

            def pipe():
                r, w = os.pipe()
                self.fds += [r, w]
                return r, w

            def tmpfile():
                f = tempfile.TemporaryFile()
                fd = os.dup(f.fileno())
                f.close()
                self.fds.append(fd)
                return fd

            def recv_into(fd, buf, n):
                return os.readv(fd, [memoryview(buf)[:n]])
            self.socketpair, self.pipe, self.tmpfile = socketpair, pipe, tmpfile
            self.send = os.write
            self.recv_into = recv_into
            self.read = os.read
            self.write = os.write
            self.splice = os.splice
            self.sendfile = os.sendfile
            self.shut_wr = lambda fd: socket.socket(fileno=os.dup(fd)).shutdown(SHUT_WR)
            self.close = os.close

    def hanging_up(self, fn, *fds):
        """``fn`` made to close ``fds`` when it fails, so the threads
        blocked on their other ends stop (EOF, EPIPE) instead of waiting for
        data that will never come or room that will never be made."""
        def run():
            try:
                fn()
            except BaseException:
                for fd in fds:
                    try:
                        self.close(fd)
                    except OSError:
                        pass
                    if fd in self.fds:
                        self.fds.remove(fd)
                raise
        return run

    def done(self):
        if self.k is not None:
            self.k.close()
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass


def _stamped_chunk(template, first):
    """Stamp every 4 KiB page of ``template`` with its number, pages numbered
    on from ``first`` (page_stamps: the word ``first + i + 1`` at the start
    of page i), in one strided store; returns ``template``."""
    with memoryview(page_stamps(first, len(template) // _PAGE)) as src, \
            src.cast("Q") as words_in, page_words(template) as words:
        words[:] = words_in
    return template


class _StampReader:
    """Reads a stream in whole chunks and checks every page's stamp (pages
    numbered on from 0 over the stream, as ``_stamped_chunk`` stamps them):
    a wrong, stale, zero-filled or missing page raises VerificationError.
    ``recv_into(fd, view, n) -> count`` fills a buffer; or, with ``read(fd,
    n) -> bytes``, a whole chunk read at once is checked where it arrived
    and a short one is gathered in the buffer first."""

    def __init__(self, recv_into, fd, size, read=None):
        self.recv_into, self.read, self.fd = recv_into, read, fd
        self.buf = bytearray(size)
        self.view = memoryview(self.buf)
        self.words = page_words(self.buf)
        self.npages = size // _PAGE
        self.page = 0
        self.bytes = 0

    def check(self, data):
        """Check the stamps of one chunk's pages, ``data`` or the buffer."""
        if data is None:
            got = self.words.tobytes()
        else:
            with page_words(data) as words:
                got = words.tobytes()
        exp = page_stamps(self.page, self.npages)
        if got != exp:
            for i in range(self.npages):
                if got[8 * i:8 * i + 8] != exp[8 * i:8 * i + 8]:
                    raise VerificationError("page %d arrived with a wrong stamp %#x" % (
                        self.page + i, int.from_bytes(got[8 * i:8 * i + 8], "little")))
        self.page += self.npages
        self.bytes += len(self.buf)

    def chunk(self):
        """One chunk read and checked: False at EOF."""
        got, size = 0, len(self.buf)
        if self.read is not None:
            data = self.read(self.fd, size)
            if len(data) == size:
                self.check(data)
                return True
            while True:
                if not data:
                    if got:
                        raise VerificationError("stream ended inside a chunk")
                    return False
                self.view[got:got + len(data)] = data
                got += len(data)
                if got == size:
                    break
                data = self.read(self.fd, size - got)
        else:
            while got < size:
                n = self.recv_into(self.fd, self.view[got:], size - got)
                if not n:
                    if got:
                        raise VerificationError("stream ended inside a chunk")
                    return False
                got += n
        self.check(None)
        return True

    def read_all(self):
        """Read and check chunks to the end of the stream: the seconds it took."""
        t0 = time.perf_counter()
        while self.chunk():
            pass
        return time.perf_counter() - t0


def _stamped_writes(write, fd, budget):
    """Write 64 KiB stamped chunks (pages numbered on from 0) through
    ``write(fd, view) -> count`` until ``budget`` seconds have passed."""
    template = bytearray(_CHUNK)
    end = time.perf_counter() + budget
    seq = 0
    while time.perf_counter() < end:
        for _ in range(8):
            data = _stamped_chunk(template, seq)
            sent = write(fd, data)
            while sent < _CHUNK:
                sent += write(fd, memoryview(data)[sent:])
            seq += _CHUNK // _PAGE

@_workload("splice_relay", "ops", ("menios", "host"),
           "three threads: 64 KiB stamped chunks into socket A, a relay splices A -> pipe -> "
           "socket B, the receiver checks every page's stamp")
def _splice_relay(name, budget):
    ops = _SpliceOps(name)
    try:
        a1, a2 = ops.socketpair()
        b1, b2 = ops.socketpair()
        r, w = ops.pipe()
        state = dict(end=None)
        reader = _StampReader(ops.recv_into, b2, _CHUNK)
        start = threading.Barrier(3)

        def sender():
            start.wait()
            _stamped_writes(ops.send, a1, budget)
            ops.shut_wr(a1)

        def relay():
            start.wait()
            while True:
                n = ops.splice(a2, w, _CHUNK)
                if not n:
                    break
                while n:
                    n -= ops.splice(r, b1, n)
            ops.shut_wr(b1)

        def receiver():
            start.wait()
            state["end"] = reader.read_all()
        _threads([ops.hanging_up(sender, a1), ops.hanging_up(relay, a2, r, w, b1),
                  ops.hanging_up(receiver, b2)], budget + 60)
        return _result(reader.bytes // _CHUNK, state["end"], reader.bytes,
                       note="sender -> A -> splice -> pipe -> splice -> B -> receiver, "
                            "64 KiB chunks, every page's stamp checked")
    finally:
        ops.done()


@_workload("sendfile_1m", "ops", ("menios", "host"),
           "two threads: sendfile of a 1 MiB stamped file to a stream socket; the receiver "
           "checks every page's stamp")
def _sendfile_1m(name, budget):
    ops = _SpliceOps(name)
    size = 1 << 20
    try:
        fd = ops.tmpfile()
        template = bytearray(size)
        ops.write(fd, _stamped_chunk(template, 0))
        a, b = ops.socketpair()
        state = dict(files=0, end=None)
        reader = _StampReader(ops.recv_into, b, _CHUNK)
        start = threading.Barrier(2)

        def sender():
            start.wait()
            end = time.perf_counter() + budget
            files = 0
            while time.perf_counter() < end:
                off = 0
                while off < size:
                    off += ops.sendfile(a, fd, off, size - off)
                files += 1
            state["files"] = files
            ops.shut_wr(a)

        def receiver():
            start.wait()
            t0 = time.perf_counter()
            while reader.chunk():
                if reader.page % (size // _PAGE) == 0:
                    reader.page = 0         # the next copy of the file starts again
            state["end"] = time.perf_counter() - t0
        _threads([ops.hanging_up(sender, a), ops.hanging_up(receiver, b)], budget + 60)
        if reader.bytes != state["files"] * size:
            raise VerificationError("%d bytes arrived of %d" % (reader.bytes, state["files"] * size))
        return _result(state["files"], state["end"], reader.bytes,
                       note="sendfile of a 1 MiB page-cache file to a stream socket, "
                            "every page's stamp checked")
    finally:
        ops.done()


@_workload("pipe_64k", "ops", ("menios", "host"),
           "two threads: 64 KiB stamped writes into a pipe; the reader checks every page's stamp")
def _pipe_64k(name, budget):
    ops = _SpliceOps(name)
    try:
        r, w = ops.pipe()
        state = dict(end=None)

        reader = _StampReader(None, r, _CHUNK, read=ops.read)
        start = threading.Barrier(2)

        def writer():
            start.wait()
            _stamped_writes(ops.write, w, budget)
            ops.close(w)
            if w in ops.fds:
                ops.fds.remove(w)

        def rd():
            start.wait()
            state["end"] = reader.read_all()
        _threads([ops.hanging_up(writer, w), ops.hanging_up(rd, r)], budget + 60)
        return _result(reader.bytes // _CHUNK, state["end"], reader.bytes,
                       note="64 KiB stamped writes into a pipe, every page's stamp checked")
    finally:
        ops.done()



# ------------------------------------------------------------------- runner
def _ratio(primary, res, host):
    if host is None or res is None:
        return None
    if primary == "mem":
        a, b = res.get("bytes_per_socket"), host.get("bytes_per_socket")
    elif primary == "lat":
        a, b = res.get("median_us"), host.get("median_us")
    elif res.get("mb_s") is not None and host.get("mb_s") is not None:
        a, b = res["mb_s"], host["mb_s"]
    else:
        a, b = res.get("ops_s"), host.get("ops_s")
    if a is None or not b:
        return None
    return a / b


def _target(name, menios_row):
    t = TARGETS.get(name)
    if t is None or menios_row is None:
        return None
    kind, thr, text = t
    if kind == "abs_le":
        v = menios_row.get("bytes_per_socket")
        met = None if v is None else v <= thr
    else:
        v = menios_row.get("ratio")
        met = None if v is None else (v >= thr if kind == "ratio_ge" else v <= thr)
    return dict(goal=text, met=met)


def run(workloads=None, quick=False, budget=None, mem_pairs=None, out=None, zc_ring=ZC_RING):
    """Run the workloads; return a list of result rows (dicts).

    budget: seconds per (workload, backend) run; default 0.4 quick, 2.5 full.
    mem_pairs: pairs for idle_pair_memory; default 10,000 quick, 100,000 full.
    out: optional callable(str) for progress lines.
    zc_ring: rotating 1 MiB buffers of the zero-copy writers (zerocopy_1m).

    A backend that cannot run a workload gets an ``error`` row; one that
    raised (data lost, a stamp wrong) gets ``error`` and ``failed: True``.
    """
    names = list(workloads) if workloads else list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise ValueError("unknown workload(s): %s" % ", ".join(unknown))
    if budget is None:
        budget = 0.4 if quick else 2.5
    if mem_pairs is None:
        mem_pairs = 10000 if quick else 100000
    rows = []
    for name in names:
        w = WORKLOADS[name]
        by_backend = {}
        for be in w["backends"]:
            if out:
                out("running %s on %s ..." % (name, be))
            row = dict(workload=name, backend=be, primary=w["primary"])
            try:
                if name == "idle_pair_memory":
                    res = w["fn"](be, budget, npairs=mem_pairs)
                elif name == "zerocopy_1m":
                    res = w["fn"](be, budget, ring=zc_ring)
                else:
                    res = w["fn"](be, budget)
                row.update(res)
            except NotApplicable as e:
                row["error"] = str(e)
            except Exception as e:      # noqa: BLE001 - a failing workload is reported, not fatal
                row["error"] = "FAILED: %s: %s" % (type(e).__name__, e)
                row["failed"] = True
            by_backend[be] = row
            rows.append(row)
        host = by_backend.get("host")
        host_ok = host if host is not None and "error" not in host else None
        for be, row in by_backend.items():
            if be != "host" and "error" not in row:
                row["ratio"] = _ratio(w["primary"], row, host_ok)
            elif be == "host" and "error" not in row:
                row["ratio"] = 1.0
        # menios against every other host-side backend too (zerocopy_1m:
        # host_splice), except the readiness floors, which bound menios_armed
        m = by_backend.get("menios")
        if m is not None and "error" not in m:
            for be, row in by_backend.items():
                if (be not in ("menios", "host", "pipe") and be not in _READY_FLOORS
                        and "error" not in row):
                    m.setdefault("ratio_vs", {})[be] = _ratio(w["primary"], m, row)
        m = by_backend.get("menios_armed")
        f = by_backend.get("c_readyfd")
        if m is not None and f is not None and "error" not in m and "error" not in f:
            m["ratio_vs"] = {"c_readyfd": _ratio(w["primary"], m, f)}
        if "menios" in by_backend:
            m = by_backend["menios"]
            tgt = _target(name, m if "error" not in m else None)
            if tgt is None and name in TARGETS:
                tgt = dict(goal=TARGETS[name][2], met=None)
            if tgt is not None:
                m["target"] = tgt
    return rows


def _median(vals):
    vals = sorted(vals)
    n = len(vals)
    return vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2


def summarize(runs):
    """Fold several full runs (each a list of rows from :func:`run`) into one
    row per (workload, backend) that has a ratio in at least one run: the
    ratio of every run, their median, min and max, and the target judged on
    the median.  Runs where a backend failed or could not run are left out
    of its figures (``runs_ok`` says how many counted)."""
    order, ratios, errors, sizes = [], {}, {}, {}
    for rows in runs:
        for r in rows:
            key = (r["workload"], r["backend"])
            if key not in ratios:
                order.append(key)
                ratios[key], errors[key], sizes[key] = [], [], []
            if "error" in r:
                errors[key].append(r["error"])
            elif r.get("ratio") is not None:
                ratios[key].append(r["ratio"])
            elif r.get("bytes_per_socket") is not None:
                sizes[key].append(r["bytes_per_socket"])
    out = []
    for w, be in order:
        rs, bs = ratios[(w, be)], sizes[(w, be)]
        if be == "host":
            continue
        row = dict(workload=w, backend=be, primary=WORKLOADS[w]["primary"],
                   ratios=rs, runs=len(runs), runs_ok=len(rs) or len(bs))
        if rs:
            row.update(median=_median(rs), min=min(rs), max=max(rs))
        elif bs:
            # Memory per socket is judged on the largest run: a later run
            # in the same process reuses memory an earlier one freed, so
            # its RSS grows less than a fresh process's would.
            row.update(bytes_per_socket=bs, max_bytes=max(bs))
        elif errors[(w, be)]:
            row["error"] = errors[(w, be)][-1]
        else:
            continue
        if be == "menios" and w in TARGETS:
            kind, thr, text = TARGETS[w]
            met = None
            if kind == "abs_le":
                if bs:
                    met = max(bs) <= thr
            elif rs:
                met = row["median"] >= thr if kind == "ratio_ge" else row["median"] <= thr
            row["target"] = dict(goal=text, met=met)
        out.append(row)
    return out


def format_summary(summary):
    """The table of :func:`summarize`: per-run ratios against the host,
    their median and range, and the target judged on the median."""
    nruns = max((s["runs"] for s in summary), default=0)
    head = ("workload", "backend") + tuple("run %d" % (i + 1) for i in range(nruns)) + (
        "median", "range", "target")
    lines = []
    for s in summary:
        if "error" in s:
            lines.append((s["workload"], s["backend"]) + ("",) * nruns + ("-", s["error"], ""))
            continue
        tgt = s.get("target")
        ttxt = "" if not tgt else "%s %s" % (
            tgt["goal"], {True: "met", False: "NOT met", None: "n/a"}[tgt["met"]])
        if "bytes_per_socket" in s:
            vals = s["bytes_per_socket"]
            per = ["%.0f B" % v for v in vals] + ["-"] * (nruns - len(vals))
            lines.append((s["workload"], s["backend"]) + tuple(per) + (
                "max %.0f B" % s["max_bytes"], "%.0f-%.0f B" % (min(vals), max(vals)), ttxt))
            continue
        per = ["%.2fx" % v for v in s["ratios"]] + ["-"] * (nruns - len(s["ratios"]))
        lines.append((s["workload"], s["backend"]) + tuple(per) + (
            "%.2fx" % s["median"], "%.2f-%.2fx" % (s["min"], s["max"]), ttxt))
    widths = [max(len(h), *(len(ln[i]) for ln in lines)) if lines else len(h)
              for i, h in enumerate(head)]
    res = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(head)).rstrip(),
           "  ".join("-" * w for w in widths)]
    prev = None
    for ln in lines:
        if prev is not None and ln[0] != prev:
            res.append("")
        prev = ln[0]
        res.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(ln)).rstrip())
    res.append("")
    res.append("Each run is a full `menios bench` pass; a ratio is this backend / host on the "
               "workload's primary metric in that run.")
    res.append("Targets are judged on the median of the runs (memory per socket on the "
               "largest run), never asserted.")
    return "\n".join(res)


def _fmt(v, spec, none="-"):
    return none if v is None else format(v, spec)


def _fmt_lat(us):
    if us is None:
        return "-"
    if us >= 1000:
        return "%.2f ms" % (us / 1000)
    return "%.2f us" % us


def _fmt_ops(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e3:
        return "%.1fk" % (v / 1e3)
    return "%.0f" % v


def format_table(rows):
    """The plain-text, aligned table."""
    head = ("workload", "backend", "MB/s", "ops/s", "median", "p99", "B/socket",
            "vs host", "target")
    lines = []
    for r in rows:
        if "error" in r:
            lines.append((r["workload"], r["backend"], r["error"], "", "", "", "", "", ""))
            continue
        ratio = r.get("ratio")
        kind = {"ops": "thr", "lat": "lat", "mem": "mem"}[r["primary"]]
        rtxt = "-" if ratio is None else "%.2fx %s" % (ratio, kind)
        for be, v in sorted((r.get("ratio_vs") or {}).items()):
            if v is not None:
                rtxt += ", %.2fx vs %s" % (v, be)
        tgt = r.get("target")
        ttxt = ""
        if tgt:
            ttxt = "%s %s" % (tgt["goal"], {True: "met", False: "NOT met", None: "n/a"}[tgt["met"]])
        lines.append((r["workload"], r["backend"], _fmt(r.get("mb_s"), ".1f"),
                      _fmt_ops(r.get("ops_s")), _fmt_lat(r.get("median_us")),
                      _fmt_lat(r.get("p99_us")), _fmt(r.get("bytes_per_socket"), ".0f"),
                      rtxt, ttxt))
    # error rows: let the message span the numeric columns
    widths = [len(h) for h in head]
    for ln in lines:
        if len(ln) == 9 and ln[3] == "" and ln[2] and not ln[4]:
            for i in (0, 1):
                widths[i] = max(widths[i], len(ln[i]))
            continue
        for i, c in enumerate(ln):
            widths[i] = max(widths[i], len(c))
    right = {2, 3, 4, 5, 6, 7}

    def fmt_line(cells):
        out = []
        for i, c in enumerate(cells):
            out.append(c.rjust(widths[i]) if i in right else c.ljust(widths[i]))
        return "  ".join(out).rstrip()
    res = [fmt_line(head), "  ".join("-" * w for w in widths)]
    prev = None
    for ln in lines:
        if prev is not None and ln[0] != prev:
            res.append("")
        prev = ln[0]
        if ln[3] == "" and ln[2] and not ln[4]:
            res.append("  ".join([ln[0].ljust(widths[0]), ln[1].ljust(widths[1]), ln[2]]))
        else:
            res.append(fmt_line(ln))
    notes = [(r["workload"], r["backend"], r["note"]) for r in rows
             if r.get("note") and "error" not in r]
    if notes:
        res.append("")
        for w, b, n in notes:
            res.append("note: %s/%s: %s" % (w, b, n))
    res.append("")
    res.append("vs host = this backend / host on the workload's primary metric, in the same run:")
    res.append("  'thr' rows compare MB/s or ops/s: >1 means faster than the host kernel;")
    res.append("  'lat' rows compare median latency and 'mem' rows bytes per socket: <1 means "
               "better (menios faster / smaller).")
    if any(r["workload"] == "zerocopy_1m" for r in rows):
        res.append("  zerocopy_1m compares handoffs/s of 1 MiB messages whose every 4 KiB page is "
                   "stamped by the writer")
        res.append("  and checked by the reader: menios's zero-copy handoff against the host's "
                   "copying stream (host)")
        res.append("  and its vmsplice+splice path (host_splice); MB/s is left out because "
                   "zero copy moves no bytes.")
    res.append("  Targets are goals, reported here, never asserted.  FAILED rows: data arrived "
               "wrong or not at all.")
    return "\n".join(res)


def machine_info():
    return dict(platform=platform.platform(), python=sys.version.split()[0],
                cpus=os.cpu_count(), processor=platform.processor() or platform.machine(),
                menios=menios.__version__)


def write_json(rows, path, quick, budget, runs=None):
    """Write the results as JSON: ``results`` is the last run's rows; with
    several runs, ``runs`` holds every run's rows and ``summary`` the
    medians (:func:`summarize`)."""
    doc = dict(machine=machine_info(), quick=quick, budget_s=budget,
               time=time.strftime("%Y-%m-%dT%H:%M:%S%z"), results=rows,
               targets={k: dict(kind=v[0], threshold=v[1], goal=v[2])
                        for k, v in TARGETS.items()})
    if runs is not None and len(runs) > 1:
        doc["runs"] = runs
        doc["summary"] = summarize(runs)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    pts = [(r["workload"] + ("" if r["backend"] == "menios" else " (" + r["backend"] + ")"),
            r["ratio"], r["primary"]) for r in rows
           if r["backend"] != "host" and r.get("ratio") is not None]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(pts) + 1.5))
    labels = [p[0] for p in pts]
    vals = [p[1] for p in pts]
    colors = ["tab:blue" if p[2] == "ops" else "tab:orange" for p in pts]
    ax.barh(range(len(pts)), vals, color=colors)
    ax.set_yticks(range(len(pts)))
    ax.set_yticklabels(labels)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("ratio vs host kernel (blue: throughput, >1 faster; "
                  "orange: latency/memory, <1 better)")
    ax.set_title("menios bench (%d cpus)" % (os.cpu_count() or 0))
    fig.tight_layout()
    fig.savefig(path, dpi=100)


#: Line styles of the latency plot: menios and the host stand out, the
#: rest (pipes, floors) are context.
_LAT_STYLE = {"menios": dict(color="tab:blue", lw=2.2), "host": dict(color="tab:orange", lw=2.2),
              "pipe": dict(color="tab:green", lw=1.2, ls="--")}


def plot_latency(rows, path):
    """The latency distribution of each latency workload (primary metric
    "lat"), one panel each: the CDF of per-operation times of every backend,
    menios against the host, on a log time axis; median and p99 marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    by_w = {}
    for r in rows:
        if r["primary"] == "lat" and r.get("lat_quantiles_us") and "error" not in r:
            by_w.setdefault(r["workload"], []).append(r)
    if not by_w:
        raise ValueError("no latency workload with samples among the results")
    fig, axes = plt.subplots(len(by_w), 1, figsize=(8, 3.2 * len(by_w) + 0.6), squeeze=False)
    for ax, (w, rs) in zip(axes[:, 0], by_w.items()):
        for r in rs:
            qs = r["lat_quantiles_us"]
            style = _LAT_STYLE.get(r["backend"], dict(color="0.55", lw=1, ls=":"))
            ax.plot([us for _, us in qs], [100 * q for q, _ in qs],
                    label="%s (median %s, p99 %s)" % (r["backend"], _fmt_lat(r["median_us"]),
                                                     _fmt_lat(r["p99_us"])), **style)
            ax.plot([r["median_us"], r["p99_us"]], [50, 99], "o", color=style["color"], ms=4)
        ax.set_xscale("log")
        ax.set_ylim(0, 100.5)
        ax.set_ylabel("% of operations")
        ax.set_xlabel("latency per operation (us, log scale)")
        ax.set_title("%s: %s" % (w, WORKLOADS[w]["desc"].split(";")[0]), fontsize="medium")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def add_arguments(p):
    p.add_argument("--quick", action="store_true",
                   help="short runs (~0.4 s per workload and backend; 10,000 idle pairs)")
    p.add_argument("--json", metavar="FILE", help="write every number to FILE as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="bar chart of the ratios (needs matplotlib: "
                                                      "pip install 'menios[plot]')")
    p.add_argument("--plot-latency", metavar="FILE.png",
                   help="latency distributions (CDF per backend) of the latency workloads "
                        "(needs matplotlib)")
    p.add_argument("--workload", metavar="NAME", nargs="+", action="extend",
                   choices=list(WORKLOADS), help="only these workloads (default: all)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds per workload and backend (overrides --quick's default)")
    p.add_argument("--monitor", action="store_true",
                   help="publish each menios kernel while it runs, for `menios ss` in "
                        "another shell")
    p.add_argument("--runs", type=int, default=1, metavar="N",
                   help="repeat the whole set N times and report each run's ratio, the "
                        "median and the range; targets are judged on the median (default 1)")
    p.add_argument("--zc-ring", type=int, default=ZC_RING, metavar="N",
                   help="rotating 1 MiB buffers of the zero-copy writers in zerocopy_1m "
                        "(default %d)" % ZC_RING)


def main(args):
    if args.plot or getattr(args, "plot_latency", None):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("menios bench: --plot needs matplotlib, which is not installed; "
                  "install the optional extra: pip install 'menios[plot]'", file=sys.stderr)
            return 2
    if args.zc_ring < 1:
        print("menios bench: --zc-ring must be at least 1", file=sys.stderr)
        return 2
    nruns = getattr(args, "runs", 1)
    if nruns < 1:
        print("menios bench: --runs must be at least 1", file=sys.stderr)
        return 2
    global _MONITOR
    _MONITOR = bool(getattr(args, "monitor", False))
    budget = args.budget if args.budget is not None else (0.4 if args.quick else 2.5)
    t0 = time.perf_counter()

    def progress(s):
        print(s, file=sys.stderr, flush=True)
    runs = []
    for i in range(nruns):
        if nruns > 1:
            progress("run %d of %d" % (i + 1, nruns))
        runs.append(run(args.workload, quick=args.quick, budget=budget, out=progress,
                        zc_ring=args.zc_ring))
    rows = runs[-1]
    print("menios bench%s: %s, python %s, %d cpus, %.1f s" % (
        " --quick" if args.quick else "", platform.machine(), sys.version.split()[0],
        os.cpu_count() or 0, time.perf_counter() - t0))
    print(format_table(rows))
    if nruns > 1:
        print("")
        print("median of %d runs:" % nruns)
        print(format_summary(summarize(runs)))
    if args.json:
        write_json(rows, args.json, args.quick, budget, runs=runs)
    if args.plot:
        plot(rows, args.plot)
    if getattr(args, "plot_latency", None):
        try:
            plot_latency(rows, args.plot_latency)
        except ValueError as e:
            print("menios bench: --plot-latency: %s" % e, file=sys.stderr)
    failed = [r for rows in runs for r in rows if r.get("failed")]
    if failed:
        print("menios bench: %d run(s) FAILED: %s" % (
            len(failed), ", ".join("%s/%s" % (r["workload"], r["backend"]) for r in failed)),
            file=sys.stderr)
        return 1
    return 0
