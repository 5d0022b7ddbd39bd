"""A divergence planted in menios is reported by both ways of running the
conformance scenarios: ``harness.assert_same`` (pytest) and ``menios
conform``.  Each test registers its own scenario (removed again afterwards)
and patches ``menios.Process`` to misbehave: a wrong return type, a call
that hangs, a leak."""
import os
import socket

import pytest

import menios
from menios import cli
from menios.conformance import harness

AF_UNIX, STREAM = socket.AF_UNIX, socket.SOCK_STREAM
SOL = socket.SOL_SOCKET

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="the host backend needs root (chroot, netns, setuid)"),
    pytest.mark.timeout(60),
]

RUN_TIMEOUT = 2.0      # seconds a planted scenario may run on one backend


@pytest.fixture
def register():
    """``register(name, fn, params=None)``: a scenario known to the registry
    for this test only."""
    added = []

    def add(name, fn, params=None):
        harness.scenario(name, params)(fn)
        added.append(name)
        return fn
    yield add
    for name in added:
        del harness.SCENARIOS[name]


def conform(capsys, *argv):
    """``menios conform ARGV`` in-process: (exit status, output)."""
    status = cli.main(["conform", "--timeout", str(RUN_TIMEOUT), *argv])
    return status, capsys.readouterr().out


def socketpair_type(k, t):
    p = k.spawn(uid=1000, gid=1000)
    t.call(p.socketpair, AF_UNIX, STREAM)


def passcred_type(k, t):
    p = k.spawn(uid=1000, gid=1000)
    a, _ = p.socketpair(AF_UNIX, STREAM)
    p.setsockopt(a, SOL, socket.SO_PASSCRED, 1)
    t.call(p.getsockopt, a, SOL, socket.SO_PASSCRED)


def dontwait_recv(k, t):
    p = k.spawn(uid=1000, gid=1000)
    _, b = p.socketpair(AF_UNIX, STREAM)
    t.call(p.recv, b, 10, socket.MSG_DONTWAIT)
    t.call(p.close, b)


def as_list(method):
    def patched(self, *args, **kwargs):
        return list(method(self, *args, **kwargs))
    return patched


def as_bool(method):
    def patched(self, *args, **kwargs):
        return bool(method(self, *args, **kwargs))
    return patched


def ignoring_dontwait(method):
    def patched(self, fd, bufsize, flags=0):
        return method(self, fd, bufsize, flags & ~socket.MSG_DONTWAIT)
    return patched


WRONG_TYPES = {
    # scenario, the Process method patched, the patch, what the report shows
    "list": (socketpair_type, "socketpair", as_list, ("[", "(")),
    "bool": (passcred_type, "getsockopt", as_bool, ("True", "1")),
}


def test_the_scenarios_agree_unpatched(register):
    """The planted scenarios are sound: without a patch they agree."""
    for name, fn in (("planted_ok_socketpair", socketpair_type),
                     ("planted_ok_passcred", passcred_type),
                     ("planted_ok_dontwait", dontwait_recv)):
        register(name, fn)
        harness.assert_same(fn, timeout=RUN_TIMEOUT)
    assert cli.main(["conform", "-k", "planted_ok_"]) == 0


@pytest.mark.parametrize("kind", sorted(WRONG_TYPES))
def test_wrong_return_type_is_a_disagreement(kind, register, monkeypatch, capsys):
    fn, method, patch, shown = WRONG_TYPES[kind]
    name = f"planted_wrong_type_{kind}"
    register(name, fn)
    monkeypatch.setattr(menios.Process, method, patch(getattr(menios.Process, method)))

    with pytest.raises(AssertionError) as e:
        harness.assert_same(fn, timeout=RUN_TIMEOUT)
    report = str(e.value)
    assert "traces differ at 1 of 1 steps" in report
    assert f"menios -> ok {shown[0]}" in report and f"host   -> ok {shown[1]}" in report

    status, out = conform(capsys, "-k", name)
    assert status == 1
    assert f"DIFFER {name}" in out and "traces differ at 1 of 1 steps" in out
    assert out.rstrip().endswith("1 scenarios / 1 instances\nagreement: 0/1")


def test_hang_on_menios_is_a_disagreement(register, monkeypatch, capsys):
    """recv ignoring MSG_DONTWAIT blocks on menios (until the run's timeout
    closes the kernel); the host answers EAGAIN."""
    register("planted_hang", dontwait_recv)
    monkeypatch.setattr(menios.Process, "recv", ignoring_dontwait(menios.Process.recv))

    with pytest.raises(AssertionError) as e:
        harness.assert_same(dontwait_recv, timeout=RUN_TIMEOUT)
    report = str(e.value)
    assert f"<scenario still running after {RUN_TIMEOUT}s>" in report
    assert "host   -> err EAGAIN" in report
    assert "did not run to its end on menios" in report

    status, out = conform(capsys, "-k", "planted_hang")
    assert status == 1
    assert "DIFFER planted_hang" in out and "did not run to its end on menios" in out
    assert out.rstrip().endswith("agreement: 0/1")


def test_the_same_hang_on_both_sides_is_no_agreement(register, monkeypatch, capsys):
    """Two identical traces that both time out are not an agreement."""
    register("planted_hang_both", dontwait_recv)
    monkeypatch.setattr(menios.Process, "recv", ignoring_dontwait(menios.Process.recv))

    status, out = conform(capsys, "--backend", "menios", "-k", "planted_hang_both")
    assert status == 1
    assert "traces differ" not in out                # step by step they agree...
    assert "did not run to its end on menios#1" in out   # ...but neither ran to its end
    assert out.rstrip().endswith("agreement: 0/1")


def test_a_leak_is_a_disagreement(register, monkeypatch, capsys):
    """A socket menios never frees (a reference taken and never dropped,
    the object kept) shows in the kernel's counters after the run."""
    register("planted_leak", socketpair_type)
    kept = []

    def leaking_socketpair(self, *args, **kwargs):
        fds = original(self, *args, **kwargs)
        kept.append(self._file(fds[0]))
        kept[-1].fget()
        return fds
    original = menios.Process.socketpair
    monkeypatch.setattr(menios.Process, "socketpair", leaking_socketpair)

    with pytest.raises(AssertionError, match=r"menios leaked after the scenario: \{'sockets': 1"):
        harness.assert_same(socketpair_type, timeout=RUN_TIMEOUT)
    status, out = conform(capsys, "-k", "planted_leak")
    assert status == 1 and "menios leaked after the scenario" in out
