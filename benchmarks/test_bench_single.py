"""Single-thread workloads: 64 B send+recv, connect+accept+close, SCM_RIGHTS."""
import os
import socket
import tempfile

import pytest

import menios
from menios.constants import AF_UNIX, SOCK_DGRAM, SOCK_STREAM
from conftest import backends

N = 1000        # operations per benchmark round


def _send_recv(pr):
    send, recv = pr["a_send"], pr["b_recv"]
    data = b"x" * 64

    def run():
        for _ in range(N):
            send(data)
            if recv(64) != data:
                raise AssertionError("64 B message did not arrive intact")
    return run


@backends("menios", "host", "pipe")
def test_send_recv_64_stream(benchmark, backend):
    benchmark.group = "send_recv_64_stream (x%d)" % N
    benchmark(_send_recv(backend.pair(SOCK_STREAM)))


@backends("menios", "host")
def test_send_recv_64_dgram(benchmark, backend):
    benchmark.group = "send_recv_64_dgram (x%d)" % N
    benchmark(_send_recv(backend.pair(SOCK_DGRAM)))


def _menios_connect_accept(addr):
    k = menios.Kernel()
    p = k.spawn()
    lfd = p.socket(AF_UNIX, SOCK_STREAM)
    p.bind(lfd, addr)
    p.listen(lfd, 128)

    def op():
        c = p.socket(AF_UNIX, SOCK_STREAM)
        p.connect(c, addr)
        a, _ = p.accept(lfd)
        p.close(a)
        p.close(c)
    return op, k.close


def _host_connect_accept(addr):
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(addr)
    ls.listen(128)

    def op():
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(addr)
        a, _ = ls.accept()
        a.close()
        c.close()
    return op, ls.close


@pytest.mark.parametrize("name", ["fs", "abstract"])
@pytest.mark.parametrize("impl", ["menios", "host"])
def test_connect_accept(benchmark, impl, name, tmp_path):
    benchmark.group = "connect_accept_%s" % name
    if impl == "menios":
        addr = b"\0menios-pytest-bench" if name == "abstract" else "/tmp/bench.sock"
        op, done = _menios_connect_accept(addr)
    else:
        addr = ("\0menios-pytest-bench-%d" % os.getpid() if name == "abstract"
                else str(tmp_path / "bench.sock"))
        op, done = _host_connect_accept(addr)
    try:
        benchmark(op)
    finally:
        done()


@pytest.mark.parametrize("impl", ["menios", "host"])
def test_scm_rights(benchmark, impl):
    benchmark.group = "scm_rights"
    if impl == "menios":
        k = menios.Kernel()
        p = k.spawn()
        a, b = p.socketpair()
        r, w = p.pipe()

        def op():
            p.send_fds(a, [b"x"], [r])
            msg, fds, _, _ = p.recv_fds(b, 1, 1)
            if msg != b"x" or len(fds) != 1:
                raise AssertionError((msg, fds))
            p.close(fds[0])
        try:
            benchmark(op)
        finally:
            k.close()
    else:
        a, b = socket.socketpair()
        r, w = os.pipe()

        def op():
            socket.send_fds(a, [b"x"], [r])
            msg, fds, _, _ = socket.recv_fds(b, 1, 1)
            if msg != b"x" or len(fds) != 1:
                raise AssertionError((msg, fds))
            os.close(fds[0])
        try:
            benchmark(op)
        finally:
            a.close()
            b.close()
            os.close(r)
            os.close(w)
