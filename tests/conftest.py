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


def pytest_addoption(parser):
    parser.addoption(
        "--one-instance-per-scenario", action="store_true",
        help="run, of each conformance scenario, only its first instance that "
             "this machine can run on the host kernel (a quick sample)")


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--one-instance-per-scenario"):
        return
    from menios.conformance.host import unmet
    seen, keep, drop = set(), [], []
    for item in items:
        inst = getattr(getattr(item, "callspec", None), "params", {}).get("inst")
        if inst is None or not hasattr(inst, "needs"):
            keep.append(item)
        elif inst.name in seen or unmet(inst.needs):
            drop.append(item)
        else:
            seen.add(inst.name)
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
