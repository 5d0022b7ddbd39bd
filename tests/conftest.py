"""Shared fixtures: a fresh kernel per test whose debug counters must come
back to zero (no socket, skb, queued byte or file in flight left behind)."""
import os

import pytest

import menios


def needs_root():
    return pytest.mark.skipif(os.geteuid() != 0,
                              reason="needs root to drop privileges on the host")


@pytest.fixture
def kernel():
    k = menios.Kernel()
    yield k
    k.close()
    c = k.counters()
    leaks = {name: c[name] for name in ("sockets", "skbs", "bytes_queued", "files_inflight")
             if c[name]}
    assert not leaks, "kernel leaked after close: %r" % leaks


@pytest.fixture
def proc(kernel):
    return kernel.spawn()
