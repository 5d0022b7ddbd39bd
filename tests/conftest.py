"""Shared fixtures: a fresh kernel per test whose debug counters must come
back to zero (no socket, skb, queued byte or file in flight left behind)."""
import os

import pytest

import menios
from menios.conformance import harness


def needs_root():
    return pytest.mark.skipif(os.geteuid() != 0,
                              reason="needs root to drop privileges on the host")


@pytest.fixture
def kernel():
    k = menios.Kernel()
    yield k
    k.close()
    leaks = harness.leaks(k)
    assert not leaks, "kernel leaked after close: %r" % leaks


@pytest.fixture
def proc(kernel):
    return kernel.spawn()
