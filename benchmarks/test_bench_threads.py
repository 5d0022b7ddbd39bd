"""Two-thread workloads: bulk stream, 64 B ping-pong, datagram senders."""
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
    try:
        benchmark(rt)
    finally:
        echo.stop()


@pytest.mark.parametrize("nsenders", [1, 8])
@pytest.mark.parametrize("impl", ["menios", "host"])
def test_dgram_senders(benchmark, impl, nsenders):
    benchmark.group = "dgram_%d_senders (0.1 s of sending per round)" % nsenders
    benchmark.extra_info = {}

    def run():
        r = bench._dgram_senders(impl, 0.1, nsenders)
        benchmark.extra_info["msgs_per_s"] = r["ops_s"]
    benchmark.pedantic(run, rounds=3, iterations=1)


@pytest.mark.parametrize("impl", ["menios", "host"])
def test_zerocopy_1m(benchmark, impl):
    benchmark.group = "zerocopy_1m (0.2 s per round)"
    if impl == "menios" and not hasattr(bench.Kernel, "alloc_pages"):
        pytest.skip("n/a (no zero-copy API)")

    def run():
        r = bench._w_zc(impl, 0.2)
        benchmark.extra_info["mb_s"] = r["mb_s"]
    benchmark.pedantic(run, rounds=3, iterations=1)


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
