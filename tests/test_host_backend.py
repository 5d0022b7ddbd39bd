"""The host backend is faithful, and the harness normalises and diffs traces.

Every blocking step runs in a thread joined with a timeout, and an alarm
bounds each test, so a bug is a failure, never a hang.  Every test using a
HostKernel checks afterwards that no process and no temporary tree is left.
"""

import array
import errno
import fcntl
import os
import select
import signal
import socket
import struct
import threading
import time
import unittest

import pytest

from menios.conformance import harness
from menios.conformance.host import unmet
from menios.conformance.harness import (PAIR_GRID, assert_same, diff_traces,
                                        host_backend, make_pair, run_scenario)

several_ids = pytest.mark.skipif(bool(unmet({"ids"})), reason=str(unmet({"ids"})))
AF_UNIX, STREAM, DGRAM = socket.AF_UNIX, socket.SOCK_STREAM, socket.SOCK_DGRAM
SOL, PEERCRED = socket.SOL_SOCKET, socket.SO_PEERCRED


@pytest.fixture(autouse=True)
def alarm():
    def expired(signum, frame):
        raise TimeoutError("test took longer than 60 s")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def assert_gone(k):
    """Nothing of kernel ``k`` survives: processes, zygote, temporary tree.

    A killed process may still be being released (the zygote's wait() sees
    ECHILD once its last child is EXIT_DEAD, before /proc forgets it): give
    each a moment to vanish."""
    deadline = time.monotonic() + 5
    for pid in [k._zpid] + [p.pid for p in k._procs]:
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not os.path.exists(f"/proc/{pid}"), f"process {pid} left behind"
    assert not os.path.exists(k.root)


@pytest.fixture
def hk():
    from menios.conformance.host import HostKernel
    k = HostKernel()
    try:
        yield k
    finally:
        k.close()
        assert_gone(k)


def in_thread(fn, *args):
    """Start ``fn(*args)`` in a thread; return a function that joins it
    (with a timeout) and returns its result or raises its exception."""
    box = []

    def run():
        try:
            box.append(("ok", fn(*args)))
        except BaseException as e:
            box.append(("exc", e))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join(timeout=5):
        thread.join(timeout)
        assert not thread.is_alive(), f"{fn.__name__} still blocked after {timeout} s"
        kind, value = box[0]
        if kind == "exc":
            raise value
        return value
    join.thread = thread
    return join


def ucred(p, fd):
    return struct.unpack("3i", p.getsockopt(fd, SOL, PEERCRED, 12))


# ------------------------------------------------------------ fd numbering

def test_fd_numbers_start_at_zero_and_reuse_lowest(hk):
    p = hk.spawn(uid=1000, gid=1000)
    assert p.socket(AF_UNIX, STREAM) == 0
    assert p.socketpair() == (1, 2)
    assert p.pipe() == (3, 4)
    p.close(1)
    assert p.socket(AF_UNIX, DGRAM) == 1
    assert p.dup(0) == 5
    assert p.dup2(0, 10) == 10
    assert p.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 7) == 7
    assert p.fcntl(7, fcntl.F_GETFD) == fcntl.FD_CLOEXEC
    assert p.fcntl(0, fcntl.F_GETFD) == 0                  # not the stdlib's O_CLOEXEC
    assert p.socket(AF_UNIX, STREAM | socket.SOCK_CLOEXEC) == 6
    assert p.fcntl(6, fcntl.F_GETFD) == fcntl.FD_CLOEXEC
    with pytest.raises(OSError) as e:
        p.close(20)
    assert e.value.errno == errno.EBADF
    with pytest.raises(OSError) as e:                      # a channel's number: still EBADF
        p.close(1024)
    assert e.value.errno == errno.EBADF
    with pytest.raises(OSError) as e:
        p.close(-1)
    assert e.value.errno == errno.EBADF
    assert p.poll([(0, select_in()), (30, select_in()), (1500, select_in())], 0) == \
        [(0, 0x10), (30, 0x20), (1500, 0x20)]              # unconnected: POLLHUP; POLLNVAL
    p.execve()                                             # closes the FD_CLOEXEC fds
    assert p.socket(AF_UNIX, STREAM) == 6


def select_in():
    import select
    return select.POLLIN


def test_emfile_at_rlimit(hk):
    p = hk.spawn(rlimit_nofile=4)
    assert p.socketpair() == (0, 1)
    assert p.pipe() == (2, 3)
    for call in (lambda: p.socket(AF_UNIX, STREAM), lambda: p.dup(0), p.pipe, p.socketpair):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno == errno.EMFILE
    with pytest.raises(OSError) as e:
        p.dup2(0, 4)                                       # past the limit: EBADF
    assert e.value.errno == errno.EBADF
    with pytest.raises(OSError) as e:
        p.fcntl(0, fcntl.F_DUPFD, 4)
    assert e.value.errno == errno.EINVAL
    p.close(2)
    assert p.dup(0) == 2
    c = p.fork()                                           # fork works even with a full table
    assert c.fcntl(3, fcntl.F_GETFD) == 0
    assert [c.send(0, b"x"), p.recv(1, 5)] == [1, b"x"]


# ------------------------------------------------------------ fd passing

def test_scm_rights_round_trip(hk):
    srv, cli = hk.spawn(uid=1000, gid=1000), hk.spawn(uid=1000, gid=1000)
    lst = srv.socket(AF_UNIX, STREAM)
    srv.bind(lst, "/tmp/srv")
    srv.listen(lst)
    c = cli.socket(AF_UNIX, STREAM)
    cli.connect(c, "/tmp/srv")
    a, addr = srv.accept(lst)
    assert (lst, c, a, addr) == (0, 0, 1, "")
    r, w = cli.pipe()
    assert (r, w) == (1, 2)
    # send_fds/recv_fds: the write end arrives as srv's lowest free fd
    assert cli.send_fds(c, [b"x"], [w]) == 1
    msg, fds, flags, _ = srv.recv_fds(a, 10, 4)
    assert (msg, fds, flags) == (b"x", [2], 0)
    srv.write(2, b"hello")
    assert cli.read(r, 10) == b"hello"
    # sendmsg/recvmsg with raw SCM_RIGHTS data
    rights = [(SOL, socket.SCM_RIGHTS, array.array("i", [r]).tobytes())]
    assert cli.sendmsg(c, [b"y"], rights) == 1
    data, anc, flags, _ = srv.recvmsg(a, 10, socket.CMSG_SPACE(4))
    assert (data, anc) == (b"y", [(SOL, socket.SCM_RIGHTS, array.array("i", [3]).tobytes())])
    srv.write(2, b"again")
    assert srv.read(3, 10) == b"again"
    # an fd the sender cannot own is EBADF, as the kernel says
    for bad in (50, 1025):
        with pytest.raises(OSError) as e:
            cli.send_fds(c, [b"z"], [bad])
        assert e.value.errno == errno.EBADF


def test_fork_shares_files_and_exit_closes_them(hk):
    p = hk.spawn(uid=1000, gid=1000)
    a, b = p.socketpair()
    c = p.fork()
    assert c.pid != p.pid and c.uid == 1000
    assert c.send(a, b"from child") == 10
    assert p.recv(b, 20) == b"from child"
    assert c.socket(AF_UNIX, STREAM) == 2 and p.socket(AF_UNIX, STREAM) == 2
    assert ucred(c, b) == (p.pid, 1000, 1000)               # the socketpair's creator
    p.close(a)
    c.exit()                                               # last ref to a: b sees EOF
    assert p.recv(b, 20) == b""
    with pytest.raises(ProcessLookupError):
        c.getcwd()
    with pytest.raises(ProcessLookupError):
        c.exit()


# ------------------------------------------------------------ credentials

@several_ids
def test_credentials_are_dropped(hk):
    root = hk.spawn()
    u = hk.spawn(uid=1000, gid=1000, groups=(2000,), umask=0o077)
    assert (u.uid, u.euid, u.suid, u.gid, u.egid, u.sgid) == (1000,) * 6
    assert (u.groups, u.umask, u.cwd) == ((2000,), 0o077, "/")
    root.mkdir("/tmp/priv", 0o700)
    lp = root.socket(AF_UNIX, STREAM)
    root.bind(lp, "/tmp/priv/s")
    root.listen(lp)
    s = u.socket(AF_UNIX, STREAM)
    with pytest.raises(PermissionError):
        u.connect(s, "/tmp/priv/s")
    pub = root.socket(AF_UNIX, STREAM)
    root.bind(pub, "/tmp/pub")
    root.listen(pub)
    st = u.stat("/tmp/pub")
    assert (st.st_uid, st.st_mode & 0o777) == (0, 0o755)   # root's umask 022
    with pytest.raises(PermissionError):                    # connect needs write permission
        u.connect(s, "/tmp/pub")
    root.chmod("/tmp/pub", 0o777)
    u.connect(s, "/tmp/pub")
    acc, _ = root.accept(pub)
    assert ucred(root, acc) == (u.pid, 1000, 1000)
    assert ucred(u, s) == (root.pid, 0, 0)
    u.bind(u.socket(AF_UNIX, STREAM), "/tmp/mine")
    st = root.stat("/tmp/mine")
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (1000, 1000, 0o700)
    with pytest.raises(PermissionError):
        u.setresuid(0, 0, 0)
    root.setresuid(-1, 1000, -1)
    assert (root.uid, root.euid) == (0, 1000)


def test_private_tree(hk):
    p = hk.spawn(cwd="/tmp")
    assert sorted(p.listdir("/")) == ["dev", "tmp"]
    assert p.stat("/tmp").st_mode & 0o7777 == 0o1777
    assert p.stat("/dev").st_mode & 0o7777 == 0o755
    assert p.getcwd() == "/tmp"
    s = p.socket(AF_UNIX, STREAM)
    p.bind(s, "rel")                                        # relative to the cwd
    assert p.getsockname(s) == "rel"
    assert os.path.exists(os.path.join(hk.root, "tmp", "rel"))
    assert p.bind(p.socket(AF_UNIX, STREAM), "/tmp/" + "x" * 103) is None   # 108 bytes
    with pytest.raises(OSError) as e:
        p.bind(p.socket(AF_UNIX, STREAM), "/tmp/" + "x" * 104)
    assert e.value.errno == errno.EINVAL
    with pytest.raises(FileNotFoundError):
        hk.spawn(cwd="/nonexistent")


# ------------------------------------------------------------ one identity

@pytest.fixture
def one_identity():
    """A host kernel as an ordinary user gets it (as root too: a user
    namespace mapping root's uid, which is allowed)."""
    from menios.conformance.host import ONE, HostKernel
    k = HostKernel(mode=ONE)
    try:
        yield k
    finally:
        k.close()
        assert_gone(k)


def test_one_identity_is_the_first_spawns(one_identity):
    k = one_identity
    p = k.spawn(uid=1000, gid=1000, umask=0o077)
    assert (p.uid, p.euid, p.gid, p.egid, p.groups) == (1000, 1000, 1000, 1000, ())
    assert k.identity == (1000, 1000)
    assert p.umask == 0o077                                # as /proc/self/status says
    st = p.stat("/tmp")                                    # the tree is the identity's
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1000, 1000, 0o1777)
    q = k.spawn(uid=1000, gid=1000)
    srv = q.socket(AF_UNIX, STREAM)
    q.bind(srv, "/tmp/s")
    q.listen(srv)
    c = p.socket(AF_UNIX, STREAM)
    p.connect(c, "/tmp/s")
    conn, _ = q.accept(srv)
    pid, uid, gid = struct.unpack("3i", q.getsockopt(conn, SOL, PEERCRED, 12))
    assert (pid, uid, gid) == (p.pid, 1000, 1000)
    with pytest.raises(unittest.SkipTest, match="spawn needs ids \\[1001\\]"):
        k.spawn(uid=1001, gid=1001)
    with pytest.raises(unittest.SkipTest, match="spawn needs ids \\[2000\\]"):
        k.spawn(uid=1000, gid=1000, groups=(2000,))
    with pytest.raises(unittest.SkipTest, match="ids \\[0\\]"):
        p.setresuid(0, -1, -1)
    with pytest.raises(unittest.SkipTest, match="ids \\[7\\]"):
        p.chown("/tmp/s", -1, 7)
    p.chown("/tmp/s", 1000, -1)                           # its own ids are fine
    p.setresuid(-1, 1000, -1)


def test_one_identity_has_no_capabilities_unless_uid_0(one_identity):
    p = one_identity.spawn(uid=1000, gid=1000)
    s = p.socket(AF_UNIX, STREAM)
    p.bind(s, "/tmp/locked")
    p.listen(s)
    p.chmod("/tmp/locked", 0)
    with pytest.raises(PermissionError):                   # no CAP_DAC_OVERRIDE
        p.connect(p.socket(AF_UNIX, STREAM), "/tmp/locked")


def test_one_identity_as_uid_0_keeps_the_namespaces_capabilities(one_identity):
    p = one_identity.spawn()
    assert one_identity.identity == (0, 0)
    s = p.socket(AF_UNIX, STREAM)
    p.bind(s, "/tmp/locked")
    p.listen(s)
    p.chmod("/tmp/locked", 0)
    p.connect(p.socket(AF_UNIX, STREAM), "/tmp/locked")   # CAP_DAC_OVERRIDE in the namespace


def test_subordinate_ids_give_real_permissions_without_root():
    from menios.conformance.host import SUBIDS, HostKernel
    with HostKernel(mode=SUBIDS) as k:                     # skips where none are set up
        srv, other = k.spawn(uid=1000, gid=1000), k.spawn(uid=1001, gid=1001, groups=(7,))
        assert (other.uid, other.gid, other.groups) == (1001, 1001, (7,))
        assert k.identity is None
        assert srv.stat("/tmp").st_uid == 0                # the tree is root's
        s = srv.socket(AF_UNIX, STREAM)
        srv.bind(s, "/tmp/private")
        srv.listen(s)
        srv.chmod("/tmp/private", 0o700)
        with pytest.raises(PermissionError):               # another uid really is another
            other.connect(other.socket(AF_UNIX, STREAM), "/tmp/private")
        srv.chmod("/tmp/private", 0o777)
        c = other.socket(AF_UNIX, STREAM)
        other.connect(c, "/tmp/private")
        conn, _ = srv.accept(s)
        assert struct.unpack("3i", srv.getsockopt(conn, SOL, PEERCRED, 12))[1:] == (1001, 1001)
    assert_gone(k)


def test_unmet_needs_say_why():
    from menios.conformance.host import ONE, ROOT, best_mode
    assert unmet(frozenset()) is None
    mode = best_mode()
    if mode == ROOT:
        assert unmet({"root", "ids"}) is None
    else:
        assert "root" in unmet({"root"})
        assert (unmet({"ids"}) is None) == (mode != ONE)


# ------------------------------------------------------------ raw syscalls

def test_accept_is_accept4_with_the_kernels_order(hk):
    p = hk.spawn(uid=1000, gid=1000)
    with pytest.raises(OSError) as e:
        p.accept(50, 0x7fff0000)                           # bad fd before bad flags
    assert e.value.errno == errno.EBADF
    a, _ = p.socketpair()
    with pytest.raises(OSError) as e:
        p.accept(a, 0x7fff0000)                            # bad flags before "not listening"
    assert e.value.errno == errno.EINVAL
    srv = p.socket(AF_UNIX, STREAM)
    p.bind(srv, "/tmp/acc")
    p.listen(srv)
    c = p.socket(AF_UNIX, STREAM)
    p.connect(c, "/tmp/acc")
    conn, addr = p.accept(srv, socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
    assert addr == ""
    assert p.fcntl(conn, fcntl.F_GETFD) == fcntl.FD_CLOEXEC
    assert p.fcntl(conn, fcntl.F_GETFL) & os.O_NONBLOCK
    p.bind(c2 := p.socket(AF_UNIX, STREAM), b"\0named")
    p.connect(c2, "/tmp/acc")
    assert p.accept(srv) [1] == b"\0named"


def test_ioctl_reports_the_kernels_answer(hk):
    p = hk.spawn(uid=1000, gid=1000)
    a, b = p.socketpair()
    p.send(a, b"abc")
    assert p.ioctl(b, 0x541B) == 3                         # FIONREAD: the int it wrote
    assert p.ioctl(b, 0x8901, p.pid) == 0                  # FIOSETOWN: the syscall's return
    assert p.ioctl(b, 0x8903) == p.pid                     # FIOGETOWN
    with pytest.raises(OSError) as e:
        p.ioctl(b, 0x1234)
    assert e.value.errno == errno.ENOTTY


def test_send_fds_and_recv_fds_pass_their_flags(hk):
    p = hk.spawn(uid=1000, gid=1000)
    a, b = p.socketpair()
    join = in_thread(p.recv_fds, b, 10, 1, socket.MSG_DONTWAIT)
    with pytest.raises(BlockingIOError):                    # the stdlib's would block
        join()
    p.setsockopt(a, SOL, socket.SO_SNDBUF, 1)
    while True:
        try:
            p.send(a, b"x" * 4096, socket.MSG_DONTWAIT)
        except BlockingIOError:
            break
    with pytest.raises(BlockingIOError):
        p.send_fds(a, [b"x"], [a], socket.MSG_DONTWAIT)


# ------------------------------------------------------------ namespaces

def test_abstract_names_do_not_leak_between_kernels():
    from menios.conformance.host import HostKernel
    with HostKernel() as k1, HostKernel() as k2:
        assert k1.netns and k2.netns
        p1, p2 = k1.spawn(), k2.spawn()
        for p in (p1, p2):
            p.bind(p.socket(AF_UNIX, STREAM), b"\0menios-test")   # no EADDRINUSE
        p1.bind(p1.socket(AF_UNIX, DGRAM), b"\0only-in-k1")
        d = p2.socket(AF_UNIX, DGRAM)
        with pytest.raises(ConnectionRefusedError):
            p2.connect(d, b"\0only-in-k1")
        with pytest.raises(FileNotFoundError):
            p2.stat(os.path.join(k1.root, "tmp"))           # no way out of the chroot
    assert_gone(k1)
    assert_gone(k2)


# ------------------------------------------------------------ blocking and signals

def test_blocked_recv_is_woken_by_send_from_another_thread(hk):
    p, q = hk.spawn(uid=1000, gid=1000), hk.spawn(uid=1000, gid=1000)
    a, b = p.socketpair()
    assert hk.blocked() == 0                                # idle serving threads do not count
    join = in_thread(p.recv, a, 100)
    assert hk.wait_blocked(1, 10)                           # really asleep in recvfrom
    assert join.thread.is_alive()
    assert p.getsockname(a) == ""                           # other calls still served
    assert hk.blocked() == 1
    assert p.send(b, b"wake up") == 7
    assert hk.blocked() == 0                                # runnable once send returns
    assert join() == b"wake up"
    # across processes: an accept blocked in p is woken by q's connect
    lst = p.socket(AF_UNIX, STREAM)
    p.bind(lst, "/tmp/l")
    p.listen(lst)
    join = in_thread(p.accept, lst)
    polled = in_thread(q.poll, [(q.socketpair()[0], select.POLLIN)], 10000)
    assert hk.wait_blocked(2, 10), hk.blocked()             # accept4, and poll in q
    q.connect(q.socket(AF_UNIX, STREAM), "/tmp/l")
    assert hk.blocked() == 1
    assert join() == (3, "")
    assert hk.wait_blocked(2, 0.05) is False
    assert polled.thread.is_alive()


def test_close_and_exit_fail_blocked_calls():
    from menios.conformance.host import HostKernel
    k = HostKernel()
    p = k.spawn()
    a, b = p.socketpair()
    join = in_thread(p.recv, a, 10)
    assert k.wait_blocked(1, 10)
    k.close()
    with pytest.raises(ProcessLookupError):
        join()
    with pytest.raises(ProcessLookupError):
        p.socket(AF_UNIX, STREAM)
    assert_gone(k)


def test_more_concurrent_calls_than_channels(hk):
    from menios.conformance.host import NCHAN
    p, q = hk.spawn(), hk.spawn()
    r = p.socket(AF_UNIX, DGRAM)
    p.bind(r, "/tmp/r")
    joins = [in_thread(p.recv, r, 10) for _ in range(NCHAN + 3)]
    assert hk.wait_blocked(NCHAN, 10), hk.blocked()     # the rest wait for a channel
    time.sleep(0.05)
    assert hk.blocked() == NCHAN
    s = q.socket(AF_UNIX, DGRAM)
    for i in range(NCHAN + 3):
        q.sendto(s, b"%d" % i, "/tmp/r")
    assert sorted(int(join()) for join in joins) == list(range(NCHAN + 3))


def test_sysctl_in_the_private_netns():
    from menios.conformance.host import HostKernel
    with HostKernel(sysctl={"net.unix.max_dgram_qlen": 3}) as k:
        p = k.spawn()
        p.bind(p.socket(AF_UNIX, DGRAM), "/tmp/r")
        s = p.socket(AF_UNIX, DGRAM | socket.SOCK_NONBLOCK)
        sent = [p.sendto(s, b"x", "/tmp/r") for _ in range(4)]   # qlen + 1 fit, as Linux
        with pytest.raises(BlockingIOError):
            p.sendto(s, b"x", "/tmp/r")
    assert sent == [1] * 4
    with open("/proc/sys/net/unix/max_dgram_qlen") as f:
        assert f.read().strip() == "10"                          # the host's is untouched
    with pytest.raises(ValueError):
        HostKernel(sysctl={"net.unix.no_such_thing": 1})
    with pytest.raises(unittest.SkipTest) as e:
        HostKernel(sysctl={"net.core.wmem_default": 12345})
    assert "global" in str(e.value)


def test_a_dying_harness_leaves_nothing_behind(tmp_path):
    import subprocess
    import sys
    script = (
        "import os\n"
        "from menios.conformance.host import HostKernel\n"
        "k = HostKernel()\n"
        "p = k.spawn(uid=1000, gid=1000)\n"
        "c = p.fork()\n"
        "c.socketpair()\n"
        "print(k.root, p.pid, c.pid, flush=True)\n"
        "os._exit(1)\n")
    import menios          # the subprocess imports the same menios this run tests
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(menios.__file__)))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=30, cwd=tmp_path).stdout.split()
    root, pids = out[0], out[1:]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (os.path.exists(root) or
                                           any(os.path.exists(f"/proc/{pid}") for pid in pids)):
        time.sleep(0.05)
    assert not os.path.exists(root)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)


def test_sigpipe_is_recorded(hk):
    p = hk.spawn(uid=1000, gid=1000)
    a, b = p.socketpair()
    p.shutdown(a, socket.SHUT_WR)
    with pytest.raises(BrokenPipeError):
        p.send(a, b"x", socket.MSG_NOSIGNAL)
    assert p.pending_signals == set()
    with pytest.raises(BrokenPipeError):
        p.send(a, b"x")
    assert p.pending_signals == {signal.SIGPIPE}
    c = p.fork()                                            # fork clears pending signals
    assert c.pending_signals == set()


def test_recv_into_and_recvmsg_into_fill_the_callers_buffers(hk):
    p = hk.spawn()
    a, b = p.socketpair(AF_UNIX, DGRAM)
    p.send(a, b"0123456789")
    buf = bytearray(4)
    assert p.recv_into(b, buf, 0, socket.MSG_TRUNC) == 10   # real length, as the kernel says
    assert buf == b"0123"
    p.send(a, b"abcdef")
    b1, b2 = bytearray(2), bytearray(10)
    nbytes, anc, flags, addr = p.recvmsg_into(b, [b1, b2])
    assert (nbytes, anc, flags, addr, b1, b2[:4]) == (6, [], 0, None, b"ab", b"cdef")
    with pytest.raises(TypeError):
        p.recv_into(b, b"readonly")
    p.connect(a, None)                                      # AF_UNSPEC: dissolves
    with pytest.raises(OSError) as e:
        p.send(a, b"x")
    assert e.value.errno == errno.ENOTCONN


# ------------------------------------------------------------ harness

@several_ids
def test_harness_normalises_pids_autobind_and_credentials():
    def scen(k, t):
        p1 = k.spawn(uid=1000, gid=1000)
        p2 = k.spawn(uid=1001, gid=1001)
        lst = t.call(p1.socket, AF_UNIX, STREAM)
        t.call(p1.bind, lst, "")
        name = t.call(p1.getsockname, lst)
        t.call(p1.listen, lst)
        c = t.call(p2.socket, AF_UNIX, STREAM)
        t.call(p2.setsockopt, c, SOL, socket.SO_PASSCRED, 1)
        t.call(p2.connect, c, name)
        acc, _ = t.call(p1.accept, lst)
        t.call(p1.getsockopt, acc, SOL, PEERCRED, 12)
        t.call(p2.getsockopt, c, SOL, PEERCRED, 12)
        t.call(p1.send, acc, b"hi")
        t.call(p2.recvmsg, c, 10, socket.CMSG_SPACE(12))
        t.call(p2.getsockname, c)                       # autobound by SO_PASSCRED
        t.call(p1.stat, "/tmp")
        t.call(p1.listdir, "/")
        c3 = t.call(p2.fork)
        t.note("pid", t._pids[c3.pid])

    (trace,) = run_scenario(scen, backends=(host_backend,))
    outcomes = [o for _, o in trace.steps]
    assert outcomes[2] == ("ok", "@auto1")
    assert ("ok", ("ucred", "p2", 1001, 1001)) in outcomes
    assert ("ok", ("ucred", "p1", 1000, 1000)) in outcomes
    assert outcomes[11] == ("ok", (b"hi", [("SCM_CREDENTIALS", ("ucred", "p1", 1000, 1000))],
                                   0, "@auto1"))
    assert outcomes[12] == ("ok", "@auto2")
    assert outcomes[13] == ("ok", ("stat", 0o040000, 0o1777, 0, 0, 2, None))
    assert outcomes[14] == ("ok", ["dev", "tmp"])
    assert outcomes[15:] == [("ok", "p3"), ("ok", "p3")]
    assert trace.steps[0][0] == "p1.socket(AF_UNIX, SOCK_STREAM)"


class FakeKernel:
    """A backend that answers recv from a script: to test the diff."""

    def __init__(self, answers):
        self.answers = answers

    def spawn(self, **kwargs):
        return FakeProcess(self.answers)

    def close(self):
        pass


class FakeProcess:
    pid = 42

    def __init__(self, answers):
        self.answers = list(answers)

    def recv(self, fd, n):
        answer = self.answers.pop(0)
        if isinstance(answer, int):
            raise OSError(answer, os.strerror(answer))
        return answer


def test_assert_same_reports_a_readable_diff():
    def scen(k, t):
        p = k.spawn()
        for _ in range(4):
            t.call(p.recv, 3, 10)

    def good():
        return FakeKernel([b"abc", b"def", errno.EAGAIN, b""])

    def bad():
        return FakeKernel([b"abc", b"xyz", b"", errno.EAGAIN])
    assert_same(scen, backends=(good, good))
    with pytest.raises(AssertionError) as e:
        assert_same(scen, backends=(good, bad))
    report = str(e.value)
    assert "traces differ at 3 of 4 steps" in report
    assert "step 2: p1.recv(3, 10)" in report
    assert "good -> ok b'def'" in report and "bad  -> ok b'xyz'" in report
    assert "good -> err EAGAIN" in report
    assert "step 1" not in report

    def crashing():
        return FakeKernel([b"abc"])                         # IndexError at step 2
    a, b = run_scenario(scen, backends=(good, crashing))
    assert b.steps[1][1] == ("exc", "IndexError")
    assert "step 4" in diff_traces(a, b)


def test_scenario_timeout_is_reported():
    def scen(k, t):
        t.call(time.sleep, 3)

    (trace,) = run_scenario(scen, backends=(lambda: FakeKernel([]),), timeout=0.2)
    assert trace.steps[-1][1] == ("timeout",)


def test_identical_crash_or_timeout_is_not_agreement():
    """Both backends crashing (or hanging) alike is a broken scenario, not a pass."""
    def crashes(k, t):
        t.call(lambda: 1)
        raise RuntimeError("scenario bug")

    def hangs(k, t):
        t.call(time.sleep, 3)

    def fake():
        return FakeKernel([])
    with pytest.raises(AssertionError, match="did not run to its end"):
        assert_same(crashes, backends=(fake, fake))
    with pytest.raises(AssertionError, match="did not run to its end"):
        assert_same(hangs, backends=(fake, fake), timeout=0.2)


def test_registry_expands_the_grid(monkeypatch):
    monkeypatch.setattr(harness, "SCENARIOS", {})

    @harness.scenario("demo", params=PAIR_GRID)
    def demo(k, t, sotype, kind, nonblock):
        pass
    got = harness.instances()
    assert len(got) == 18
    assert got[0].id == "demo[sotype=stream,kind=socketpair,nonblock=False]"
    assert len(harness.instances("dgram,kind=abstract")) == 2


# ------------------------------------------------------------ host vs host

def exchange(k, t, sotype, kind, nonblock):
    """A pair of each kind: data, peek, shutdown, poll, names, credentials."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, kind, nonblock)
    t.note("pair", (a, b))
    t.call(p.send, a, b"hello")
    t.call(p.send, a, b"world")
    t.call(p.recv, b, 3, socket.MSG_PEEK)
    t.call(p.recv, b, 3)
    t.call(p.ioctl, b, 0x541B)                              # FIONREAD
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100, socket.MSG_DONTWAIT)
    t.call(p.poll, [(a, 0x2005), (b, 0x2005)], 0)
    t.call(p.getsockname, a)
    t.call(p.getpeername, b)
    t.call(p.getsockopt, a, SOL, PEERCRED, 12)
    t.call(p.getsockopt, a, SOL, socket.SO_TYPE)
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.poll, [(b, 0x2005)], 0)
    t.call(p.send, a, b"late", socket.MSG_NOSIGNAL)
    t.step("pending", lambda: p.pending_signals)
    t.call(p.close, a)
    t.call(p.send, b, b"x", socket.MSG_NOSIGNAL)
    t.call(p.stat, "/tmp/pair0a" if sotype == DGRAM else "/tmp/pair0")
    t.call(p.listdir, "/tmp")


@pytest.mark.parametrize("inst", [harness.Instance("exchange", exchange, dict(zip(PAIR_GRID, c)))
                                  for c in __import__("itertools").product(*PAIR_GRID.values())],
                         ids=lambda i: i.id)
def test_host_against_host_is_deterministic(inst):
    a, b = assert_same(inst.fn, params=inst.params, backends=(host_backend, host_backend))
    assert len(a.steps) == 21 and all(o[0] != "crash" for _, o in a.steps)
