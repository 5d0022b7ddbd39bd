"""The pytest plugin (entry point ``pytest11``): the ``menios_kernel``
fixture, a fresh ``Kernel`` per test, closed after it; the test fails if
the kernel leaked anything (see ``check_and_close``).  ``menios_patch``
runs the test inside ``menios.patch()`` on that kernel."""
from __future__ import annotations

import gc

import pytest

from .conformance import harness
from .kernel import Kernel

#: The counters that must be zero once every process has exited and the
#: in-flight collector has run, and again once the kernel is closed: a
#: socket, a queued message or byte, a file inside an SCM_RIGHTS message or
#: a page then left is held from outside the kernel's processes, a leak.
LEAK_COUNTERS = harness.LEAK_COUNTERS + ("pages",)


def _settled_leaks(kernel):
    """``harness.leaks`` of ``LEAK_COUNTERS``, once Python's own collector
    had its chance (a cycle of Python objects may hold a socket or a page)."""
    left = harness.leaks(kernel, LEAK_COUNTERS)
    if left:
        gc.collect()
        kernel.gc()
        left = harness.leaks(kernel, LEAK_COUNTERS)
    return left


def check_and_close(kernel: Kernel) -> dict[str, int]:
    """Close ``kernel`` as the fixture does and return what it leaked.

    With no call blocked, every process exits first (closing its fds, as
    dying processes do) and the in-flight collector runs: whatever is then
    left is held from outside the processes.  A call still blocked is not a
    leak -- ``close`` wakes it, and a test may count on that -- but what it
    holds cannot be told apart, so that check is skipped.  After ``close``,
    which frees every socket, pages may still be left."""
    left: dict[str, int] = {}
    if not kernel.closed and kernel.blocked() == 0:
        for p in list(kernel.processes.values()):
            p.exit()
        left = _settled_leaks(kernel)
    kernel.close()
    for name, n in _settled_leaks(kernel).items():
        left.setdefault(name, n)
    return left


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember whether the test itself failed: its traceback then holds
    its frames, and with them whatever they referenced, so a leak check
    would only repeat the failure."""
    outcome = yield
    if call.when == "call":
        item.stash[_FAILED] = outcome.get_result().failed


@pytest.fixture
def menios_kernel(request):
    """A fresh ``menios.Kernel``, closed after the test; the test fails if
    it leaked anything (``check_and_close``)."""
    k = Kernel()
    yield k
    left = check_and_close(k)
    if left and not request.node.stash.get(_FAILED, False):
        pytest.fail("menios kernel leaked: %s" % ", ".join(
            "%s=%d" % kv for kv in sorted(left.items())), pytrace=False)


@pytest.fixture
def menios_patch(menios_kernel):
    """The test body runs inside ``menios.patch(menios_kernel)``: the
    stdlib's AF_UNIX sockets are menios's; yields the kernel, which is
    checked for leaks as ``menios_kernel`` is once the patch is undone."""
    from .patching import patch
    with patch(menios_kernel):
        yield menios_kernel
