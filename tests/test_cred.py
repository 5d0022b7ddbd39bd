"""Tests of menios.cred: unit tests, and set*id sequences compared with the
host kernel (run in a forked child that starts as root, takes the starting
ids and makes the same calls; the host runs the tests as root)."""

import ctypes
import errno
import os
import pickle
import select
import signal
import time

import pytest

from menios.cred import Cred, NGROUPS_MAX

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root to drop privileges on the host")

HOST_TIMEOUT = 10.0
_libc = ctypes.CDLL(None, use_errno=True)


def _host_snapshot():
    # setfsuid(-1) changes nothing and returns the current fsuid.
    fsuid = _libc.setfsuid(ctypes.c_uint(0xFFFFFFFF).value)
    fsgid = _libc.setfsgid(ctypes.c_uint(0xFFFFFFFF).value)
    return (os.getresuid(), os.getresgid(), fsuid, fsgid,
            tuple(os.getgroups()))


def _menios_snapshot(cred):
    return (cred.getresuid(), cred.getresgid(), cred.fsuid, cred.fsgid,
            cred.groups)


def _outcome(call, snapshot):
    try:
        call()
    except OSError as exc:
        return ("err", errno.errorcode[exc.errno])
    return ("ok", snapshot())


def run_host(start, calls):
    """Run *calls* ``(name, *args)`` of the os module in a child that starts
    with ids *start* = ((ruid, euid, suid), (rgid, egid, sgid), groups)."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            uids, gids, groups = start
            os.setgroups(list(groups))
            os.setresgid(*gids)
            os.setresuid(*uids)
            results = [("start", _host_snapshot())]
            for name, *args in calls:
                results.append(_outcome(
                    lambda: getattr(os, name)(*args), _host_snapshot))
            data = pickle.dumps(results)
            while data:
                data = data[os.write(wfd, data):]
        finally:
            os._exit(0)
    os.close(wfd)
    chunks = []
    deadline = time.monotonic() + HOST_TIMEOUT
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([rfd], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                pytest.fail("host child did not answer in time")
            chunk = os.read(rfd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(rfd)
        os.waitpid(pid, 0)
    assert chunks, "host child failed to report"
    return pickle.loads(b"".join(chunks))


def run_menios(start, calls):
    uids, gids, groups = start
    cred = Cred()
    cred.setgroups(groups)
    cred.setresgid(*gids)
    cred.setresuid(*uids)
    results = [("start", _menios_snapshot(cred))]
    for name, *args in calls:
        results.append(_outcome(lambda: getattr(cred, name)(*args),
                                lambda: _menios_snapshot(cred)))
    return results


def check(start, calls):
    host = run_host(start, calls)
    mine = run_menios(start, calls)
    assert mine == host
    return host


ROOT = ((0, 0, 0), (0, 0, 0), ())
ALICE = ((1000, 1000, 1000), (1000, 1000, 1000), ())
MIXED = ((1000, 1001, 1002), (2000, 2001, 2002), (5, 6))
SETUID_ROOT = ((1000, 0, 0), (1000, 1000, 1000), ())   # a setuid-root program
SAVED_ROOT = ((1000, 1000, 0), (1000, 1000, 1000), ())  # dropped, can regain


@needs_root
def test_root_drops_for_good():
    result = check(ROOT, [
        ("setresgid", 1000, 1000, 1000),
        ("setresuid", 1000, 1000, 1000),
        ("setresuid", 0, 0, 0),
        ("setuid", 0),
        ("setgroups", [1, 2]),
        ("setresgid", 0, -1, -1),
    ])
    assert result[3] == ("err", "EPERM")


@needs_root
def test_temporary_drop_and_regain():
    check(ROOT, [
        ("setresuid", -1, 1000, -1),      # euid 1000, real/saved 0
        ("setgroups", [3]),               # no CAP_SETGID now: EPERM
        ("setresgid", 5, 5, 5),
        ("setresuid", -1, 0, -1),         # back to root through ruid/suid
        ("setgroups", [3, 1, 2, 2]),      # sorted, duplicates kept
        ("setresgid", 5, 5, 5),
    ])


@needs_root
def test_setresuid_unprivileged_permutations():
    check(MIXED, [
        ("setresuid", 1002, 1000, 1001),
        ("setresuid", -1, -1, -1),
        ("setresuid", 1001, 1001, 1001),
        ("setresuid", 1000, -1, -1),      # 1000 is gone now: EPERM
        ("setresgid", 2002, 2000, 2001),
        ("setresgid", 2001, 2001, 2001),
        ("setresgid", 2000, -1, -1),
        ("setresgid", 6, 6, 6),           # a supplementary group: EPERM
        ("setgroups", []),
    ])


@needs_root
def test_setuid_and_setgid():
    check(SETUID_ROOT, [
        ("setuid", 1000),                 # privileged: all three become 1000
        ("setuid", 0),
    ])
    check(SAVED_ROOT, [
        ("setuid", 0),                    # unprivileged, saved uid: euid only
        ("setuid", 1000),                 # now privileged: all three
        ("setuid", 0),
    ])
    check(ALICE, [
        ("setuid", 1001),
        ("setgid", 1001),
        ("setgid", 1000),
        ("setuid", 1000),
    ])
    check(MIXED, [
        ("setgid", 2002),                 # saved gid: egid only
        ("setgid", 2001),                 # old egid is not enough: EPERM
        ("setgid", 2000),
        ("setuid", 1002),
        ("setuid", 1001),
    ])
    check(ROOT, [
        ("setgid", 7),
        ("setuid", -1),                   # EINVAL
        ("setgid", -1),
        ("setuid", 7),
    ])


@needs_root
def test_setreuid_and_setregid():
    check(ROOT, [
        ("setreuid", -1, 1000),           # euid != old ruid: suid follows
        ("setreuid", -1, 0),
        ("setreuid", 1000, 1001),         # ruid set: suid = new euid
        ("setreuid", 1001, 1000),         # swap
        ("setreuid", -1, 1001),
        ("setreuid", 1000, -1),
        ("setreuid", 0, -1),              # EPERM
    ])
    check(MIXED, [
        ("setregid", 2001, -1),           # rgid to the egid
        ("setregid", 2002, -1),           # rgid to saved: EPERM
        ("setregid", -1, 2002),           # egid to saved: fine
        ("setreuid", -1, 1002),
        ("setreuid", 1002, 1000),
        ("setreuid", -1, -1),
    ])


@needs_root
def test_fsuid_follows_euid():
    check(ROOT, [
        ("setresuid", 1000, 1001, 0),
        ("setresgid", 10, 11, 12),        # no CAP_SETGID with euid 1001
        ("setresuid", -1, 0, -1),
        ("setresgid", 10, 11, 12),
        ("seteuid", 1002),
        ("setegid", 12),
        ("seteuid", 1000),
        ("seteuid", 0),
    ])


# -- unit tests -------------------------------------------------------------

def test_constructor_sets_every_id():
    c = Cred(1000, 100, (5, 3))
    assert c.getresuid() == (1000, 1000, 1000) and c.fsuid == 1000
    assert c.getresgid() == (100, 100, 100) and c.fsgid == 100
    assert c.groups == (3, 5) and c.getgroups() == [3, 5]
    assert Cred().getresuid() == (0, 0, 0)


def test_capable_means_euid_zero():
    root = Cred()
    assert root.capable() and root.capable("CAP_DAC_OVERRIDE")
    for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_FOWNER", "CAP_CHOWN",
                "CAP_SYS_ADMIN", "CAP_DAC_READ_SEARCH"):
        assert root.capable(cap)
        assert not Cred(1000).capable(cap)
    with pytest.raises(ValueError):
        root.capable("CAP_NOT_A_THING")
    root.setresuid(-1, 1000, -1)
    assert not root.capable()
    root.setresuid(-1, 0, -1)
    assert root.capable()


def test_in_group_p_uses_fsgid_and_groups():
    c = Cred(1000, 1000, (2000,))
    assert c.in_group_p(1000) and c.in_group_p(2000)
    assert not c.in_group_p(3000)
    c.fsgid = 3000
    assert c.in_group_p(3000) and not c.in_group_p(1000)


def test_copy_is_independent():
    c = Cred(1000, 1000, (1,))
    d = c.copy()
    assert d == c and d is not c
    d.euid = 5
    assert c.euid == 1000 and d != c


def test_access_cred_uses_real_ids():
    c = Cred()
    c.setresgid(10, 20, 30)
    c.setresuid(1000, 0, 0)
    a = c.access_cred()
    assert (a.fsuid, a.fsgid, a.capable()) == (1000, 10, False)
    assert c.fsuid == 0 and c.fsgid == 20


def test_bad_values():
    c = Cred()
    with pytest.raises(TypeError):
        c.setuid("0")
    with pytest.raises(OverflowError):
        c.setresuid(-2, -1, -1)
    with pytest.raises(OverflowError):
        c.setresuid(2 ** 32, -1, -1)
    c.setresuid(-1, -1, 4294967295)     # (uid_t)-1 means unchanged
    assert c.suid == 0
    with pytest.raises(OSError) as info:
        c.setgroups([0] * (NGROUPS_MAX + 1))
    assert info.value.errno == errno.EINVAL
    with pytest.raises(PermissionError):
        Cred(1000).setgroups([])
    assert info.value.args == (errno.EINVAL, os.strerror(errno.EINVAL))
