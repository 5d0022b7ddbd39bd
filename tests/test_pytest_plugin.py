"""The pytest plugin: ``menios_kernel`` gives each test a fresh kernel,
closes it, and fails a test that leaked."""
from importlib.metadata import entry_points

import menios
from menios import pytest_plugin

pytest_plugins = ("pytester",)


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    assert [e.value for e in entry_points(group="pytest11") if e.name == "menios"] == [
        "menios.pytest_plugin"]


def test_menios_kernel_is_a_fresh_kernel_closed_after_the_test(pytester):
    pytester.makepyfile("""
        import menios
        SEEN = []

        def test_first(menios_kernel):
            assert isinstance(menios_kernel, menios.Kernel)
            p = menios_kernel.spawn()
            assert p.pid == 1
            a, b = p.socketpair()
            p.send(a, b"left queued, fds left open: exit closes them")
            SEEN.append(menios_kernel)

        def test_second(menios_kernel):
            assert SEEN[0].closed and not menios_kernel.closed
            assert menios_kernel is not SEEN[0]
            assert menios_kernel.spawn().pid == 1
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_a_leaked_socket_fails_the_test(pytester):
    pytester.makepyfile("""
        HELD = []

        def test_holds_a_socket(menios_kernel):
            p = menios_kernel.spawn()
            a, b = p.socketpair()
            s = p._sock(a)
            s.fget()                    # a file reference taken, never put back,
            HELD.append(s)              # by an object that outlives the test

        def test_clean(menios_kernel):
            p = menios_kernel.spawn()
            a, b = p.socketpair()
            p.close(a)
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_holds_a_socket*",
                                 "*menios kernel leaked: sockets=1*"])


def test_leaked_pages_fail_the_test(pytester):
    pytester.makepyfile("""
        HELD = []

        def test_holds_pages(menios_kernel):
            HELD.append(menios_kernel.alloc_pages(2))
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*menios kernel leaked: pages=2*"])


def test_a_failing_test_is_not_reported_twice(pytester):
    pytester.makepyfile("""
        def test_fails(menios_kernel):
            pages = menios_kernel.alloc_pages(1)
            assert False, "the test's own failure"
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=1)
    assert "leaked" not in result.stdout.str()


def test_a_call_left_blocked_is_woken_not_reported(pytester):
    pytester.makepyfile("""
        import threading

        def test_server_thread(menios_kernel):
            p = menios_kernel.spawn()
            a, b = p.socketpair()
            errors = []
            def serve():
                try:
                    p.recv(a, 10)
                except OSError as e:
                    errors.append(e)
            t = threading.Thread(target=serve, daemon=True)
            t.start()
            assert menios_kernel.wait_blocked(1, timeout=30)
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_check_and_close_finds_nothing_after_ordinary_use():
    k = menios.Kernel()
    p = k.spawn()
    a, b = p.socketpair()
    p.send_fds(a, [b"x"], [a, b])               # a cycle in flight: the collector's
    assert pytest_plugin.check_and_close(k) == {}
    assert k.closed


def test_menios_patch_runs_the_body_inside_a_patch(pytester):
    pytester.makepyfile("""
        import socket
        import menios

        def test_patched(menios_patch):
            assert isinstance(menios_patch, menios.Kernel)
            a, b = socket.socketpair()
            assert isinstance(a, menios.socket.socket)
            with a, b:
                a.sendall(b"in the patch")
                assert b.recv(100) == b"in the patch"

        HELD = []

        def test_leak_fails(menios_patch):
            a, b = socket.socketpair()
            p = menios.current_process()
            s = p._sock(menios.readiness.lookup(a.fileno())[1])
            s.fget()                    # a file reference never put back
            HELD.append(s)
            a.close()
            b.close()

        def test_unpatched_after():
            with socket.socket(socket.AF_UNIX) as s:
                assert type(s).__module__ == "socket"
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=3, errors=1)   # the leak fails at teardown
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_leak_fails*",
                                 "*menios kernel leaked: sockets=1*"])
