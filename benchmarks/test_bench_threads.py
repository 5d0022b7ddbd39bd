"""Two-thread workloads: bulk stream, 64 B ping-pong, datagram senders, zero-copy
handoffs; and idle-pair memory."""
import threading

import pytest

from menios import bench
from conftest import backends

TOTAL = 16 << 20    # bytes per stream round


def _transfer(pr, size, total):
    send, recv_into = pr["a_send"], pr["b_recv_into"]
    payload = memoryview(b"x" * size)
    buf = bytearray(size)
    got = [0]

    def reader():
        n = 0
        while n < total:
            n += recv_into(buf, size)
        got[0] = n
    t = threading.Thread(target=reader)
    t.start()
    for _ in range(total // size):
        sent = send(payload)
        while sent < size:
            sent += send(payload[sent:])
    t.join()
    assert got[0] == total


@pytest.mark.parametrize("size", [64, 4096, 65536, 1 << 20],
                         ids=["64", "4k", "64k", "1m"])
@backends("menios", "host", "pipe")
def test_stream(benchmark, backend, size):
    total = TOTAL if size >= 4096 else 64 * 20000
    benchmark.group = "stream_%s (%d bytes per round)" % (
        {64: "64", 4096: "4k", 65536: "64k", 1 << 20: "1m"}[size], total)
    pr = backend.pair(bench.SOCK_STREAM)
    benchmark.pedantic(_transfer, args=(pr, size, total), rounds=5, iterations=1,
                       warmup_rounds=1)


class _Echo:
    def __init__(self, pr):
        self.pr = pr
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        recv, send = self.pr["b_recv"], self.pr["b_send"]
        while True:
            m = recv(64)
            if not m or m == b"q":
                return
            send(m)

    def stop(self):
        self.pr["a_send"](b"q")
        self.t.join(10)


@backends("menios", "host", "pipe")
def test_pingpong_64(benchmark, backend):
    benchmark.group = "pingpong_64 (one round trip)"
    pr = backend.pair(bench.SOCK_STREAM)
    echo = _Echo(pr)
    send, recv = pr["a_send"], pr["a_recv"]
    data = b"p" * 64

    def rt():
        send(data)
        m = recv(64)
        while len(m) < 64:
            m += recv(64 - len(m))
        if m != data:
            raise AssertionError("echo returned %r" % m[:16])
    try:
        benchmark(rt)
    finally:
        echo.stop()


@pytest.mark.parametrize("nsenders", [1, 8])
@pytest.mark.parametrize("impl", ["menios", "host"])
def test_dgram_senders(benchmark, impl, nsenders):
    db = bench.DgramBurst(impl, nsenders)
    benchmark.group = "dgram_%d_senders (one burst: %d x 64 B sent, received, checked)" % (
        nsenders, db.nsenders * db.per_sender)
    try:
        benchmark(db.burst)
    finally:
        db.close()


class _Handoffs:
    """A zero-copy channel (bench.zc_channel) with a reader thread that
    receives and checks each message and then acknowledges it, so
    ``handoff()`` is one message stamped, handed off, received, checked."""

    def __init__(self, impl):
        self.ch = bench.zc_channel(impl)
        self.acked = threading.Semaphore(0)
        self.errors = []
        self.h = 0
        self.received = 0
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        h = 0
        try:
            while self.ch.recv(h):
                h += 1
                self.received = h
                self.acked.release()
        except BaseException as e:      # noqa: BLE001 - raised by handoff()
            self.errors.append(e)
            self.acked.release()

    def handoff(self):
        self.ch.send(self.h)
        self.h += 1
        if not self.acked.acquire(timeout=30):
            raise RuntimeError("handoff %d not acknowledged in 30 s" % (self.h - 1))
        if self.errors:
            raise self.errors[0]

    def close(self):
        try:
            self.ch.finish()
            self.t.join(10)
            assert not self.errors and self.received == self.h, (self.errors, self.received)
        finally:
            self.ch.close()


@pytest.mark.parametrize("impl", ["menios", "host", "host_splice"])
def test_zerocopy_1m(benchmark, impl):
    benchmark.group = ("zerocopy_1m (one handoff: 1 MiB of 256 pages stamped, sent, "
                       "received, every stamp checked)")
    try:
        ho = _Handoffs(impl)
    except bench.NotApplicable as e:
        pytest.skip(str(e))
    try:
        benchmark(ho.handoff)
    finally:
        ho.close()


@pytest.mark.parametrize("impl", ["menios", "host"])
def test_idle_pair_memory(benchmark, impl):
    benchmark.group = "idle_pair_memory (2,000 pairs)"
    try:
        r = bench._w_mem(impl, 0, npairs=2000)
    except bench.NotApplicable as e:
        pytest.skip(str(e))
    benchmark.extra_info["bytes_per_socket"] = r["bytes_per_socket"]
    benchmark.pedantic(bench._w_mem, args=(impl, 0), kwargs=dict(npairs=2000),
                       rounds=1, iterations=1)
