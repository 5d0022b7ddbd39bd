"""Fd passing internals on menios alone: the in-flight collector, the
per-user in-flight limit and the counters (the ``kernel`` fixture checks
they are all back to zero after each test)."""
import array
import errno
import fcntl
import importlib.util
import os
import pathlib
import socket

import pytest

import menios
from menios import SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOL_SOCKET, SCM_RIGHTS

TYPES = [SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM]
TYPE_IDS = ["stream", "seqpacket", "dgram"]


def rights(*fds):
    return [(SOL_SOCKET, SCM_RIGHTS, array.array("i", fds).tobytes())]


def live(k):
    c = k.counters()
    return c["files_inflight"], c["sockets"]


def collect(k, force, p=None):
    """Force a pass, or let one run as Linux does: on the release of any
    AF_UNIX socket while sockets are in flight (closing the last user fd of
    a socket that is itself in flight releases nothing)."""
    if force:
        k.gc()
    elif p is not None:
        p.close(p.socket(socket.AF_UNIX, SOCK_STREAM))


def nonblock(p, fd):
    p.fcntl(fd, fcntl.F_SETFL, p.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def listener(p, sotype, path):
    fd = p.socket(socket.AF_UNIX, sotype)
    p.bind(fd, path)
    p.listen(fd, 8)
    return fd


# ------------------------------------------------------------ collector

@pytest.mark.parametrize("force", [True, False], ids=["gc", "auto"])
@pytest.mark.parametrize("sotype", TYPES, ids=TYPE_IDS)
def test_socket_sent_over_itself(kernel, sotype, force):
    p = kernel.spawn(uid=1000, gid=1000)
    a, b = p.socketpair(socket.AF_UNIX, sotype)
    p.sendmsg(a, [b"me"], rights(b))
    p.close(b)
    assert live(kernel) == (1, 2)          # b lives on in its own queue
    p.close(a)
    collect(kernel, force)
    assert live(kernel) == (0, 0)


@pytest.mark.parametrize("force", [True, False], ids=["gc", "auto"])
@pytest.mark.parametrize("sotype", TYPES, ids=TYPE_IDS)
def test_two_sockets_sent_to_each_other(kernel, sotype, force):
    p = kernel.spawn(uid=1000, gid=1000)
    a, b = p.socketpair(socket.AF_UNIX, sotype)
    c, d = p.socketpair(socket.AF_UNIX, sotype)
    r, w = p.pipe()
    nonblock(p, r)
    p.sendmsg(a, [b"1"], rights(d, w))      # d (and w) queued on b
    p.sendmsg(c, [b"2"], rights(b))         # b queued on d
    for fd in (a, b, c, d, w):
        p.close(fd)
    assert live(kernel)[0] == 3             # d and b are in flight, held by each other
    collect(kernel, force, p)
    assert p.read(r, 10) == b""             # the pipe writer went with the cycle
    p.close(r)
    assert live(kernel) == (0, 0)


@pytest.mark.parametrize("force", [True, False], ids=["gc", "auto"])
@pytest.mark.parametrize("sotype", TYPES, ids=TYPE_IDS)
def test_three_cycle(kernel, sotype, force):
    p = kernel.spawn(uid=1000, gid=1000)
    pairs = [p.socketpair(socket.AF_UNIX, sotype) for _ in range(3)]
    for i, (a, b) in enumerate(pairs):
        nxt = pairs[(i + 1) % 3][1]
        p.sendmsg(a, [b"x"], rights(nxt))   # pair i's receiver holds pair i+1's receiver
    for a, b in pairs:
        p.close(a)
    assert live(kernel)[0] == 3
    for a, b in pairs:
        p.close(b)
    assert live(kernel) == (3, 3)
    collect(kernel, force, p)
    assert live(kernel) == (0, 0)


@pytest.mark.parametrize("force", [True, False], ids=["gc", "auto"])
@pytest.mark.parametrize("sotype", [SOCK_STREAM, SOCK_SEQPACKET], ids=TYPE_IDS[:2])
def test_listener_embryo_holds_fds(kernel, sotype, force):
    p = kernel.spawn(uid=1000, gid=1000)
    lst = listener(p, sotype, "/tmp/l")
    c = p.socket(socket.AF_UNIX, sotype)
    p.connect(c, "/tmp/l")
    r, w = p.pipe()
    nonblock(p, r)
    p.sendmsg(c, [b"L"], rights(lst, w))    # the listener rides in its own embryo
    p.close(w)
    p.close(lst)
    assert live(kernel)[0] == 2
    p.close(c)
    collect(kernel, force)
    assert p.read(r, 10) == b""
    p.close(r)
    assert live(kernel) == (0, 0)


@pytest.mark.parametrize("sotype", TYPES, ids=TYPE_IDS)
def test_reachable_socket_is_not_collected(kernel, sotype):
    """A socket in flight whose receiver is still held by the user survives gc."""
    p = kernel.spawn(uid=1000, gid=1000)
    a, b = p.socketpair(socket.AF_UNIX, sotype)
    c, d = p.socketpair(socket.AF_UNIX, sotype)
    p.sendmsg(a, [b"x"], rights(d))
    p.close(d)
    kernel.gc()
    assert live(kernel) == (1, 4)
    msg, fds, flags, _ = p.recv_fds(b, 10, 1)
    assert msg == b"x" and len(fds) == 1
    p.send(c, b"still there")
    assert p.recv(fds[0], 20) == b"still there"
    assert live(kernel)[0] == 0


def test_cycle_with_outside_reference_survives(kernel):
    """Two sockets in each other's queues, one still open: nothing collected."""
    p = kernel.spawn(uid=1000, gid=1000)
    a, b = p.socketpair(socket.AF_UNIX, SOCK_DGRAM)
    c, d = p.socketpair(socket.AF_UNIX, SOCK_DGRAM)
    p.sendmsg(a, [b"1"], rights(d))
    p.sendmsg(c, [b"2"], rights(b))
    for fd in (a, c, d):
        p.close(fd)
    kernel.gc()
    assert live(kernel)[0] == 2
    msg, fds, _, _ = p.recv_fds(b, 10, 1)   # b is still ours: reach d through it
    assert msg == b"1"
    msg, fds2, _, _ = p.recv_fds(fds[0], 10, 1)
    assert msg == b"2"
    assert live(kernel)[0] == 0


def test_unreceived_pipe_writer_gives_eof_after_receiver_closes(kernel):
    p = kernel.spawn(uid=1000, gid=1000)
    a, b = p.socketpair(socket.AF_UNIX, SOCK_STREAM)
    r, w = p.pipe()
    nonblock(p, r)
    p.sendmsg(a, [b"w"], rights(w))
    p.close(w)
    with pytest.raises(BlockingIOError):
        p.read(r, 10)                       # the writer is in flight
    p.close(b)
    assert p.read(r, 10) == b""
    p.close(r)
    p.close(a)
    assert live(kernel) == (0, 0)


def test_exit_releases_in_flight(kernel):
    p = kernel.spawn(uid=1000, gid=1000)
    q = kernel.spawn(uid=1001, gid=1001)
    r, w = p.pipe()
    nonblock(p, r)
    lst = listener(q, SOCK_STREAM, "/tmp/q")
    q.chmod("/tmp/q", 0o777)
    c = p.socket(socket.AF_UNIX, SOCK_STREAM)
    p.connect(c, "/tmp/q")
    p.sendmsg(c, [b"w"], rights(w, c))
    p.close(w)
    p.close(c)
    q.exit()                                # the embryo goes with the listener
    kernel.gc()
    assert p.read(r, 10) == b""
    p.close(r)
    assert live(kernel) == (0, 0)


def test_peek_then_close_leaves_nothing(kernel):
    p = kernel.spawn(uid=1000, gid=1000)
    a, b = p.socketpair(socket.AF_UNIX, SOCK_SEQPACKET)
    r, w = p.pipe()
    p.sendmsg(a, [b"w"], rights(w, a, b))
    _, fds, _, _ = p.recv_fds(b, 10, 3, socket.MSG_PEEK)
    assert len(fds) == 3
    for fd in fds + [a, b, r, w]:
        p.close(fd)
    kernel.gc()
    assert live(kernel) == (0, 0)


def test_kernel_close_with_cycles(kernel):
    p = kernel.spawn(uid=1000, gid=1000)
    for sotype in TYPES:
        a, b = p.socketpair(socket.AF_UNIX, sotype)
        p.sendmsg(a, [b"x"], rights(a, b))
    # no close, no gc: the fixture's kernel.close() must free everything


def test_gc_counts_runs(kernel):
    before = kernel.counters()["gc_runs"]
    kernel.gc()
    assert kernel.counters()["gc_runs"] == before + 1


# ------------------------------------------------------ when a pass runs
# Linux runs the collector on the release of an AF_UNIX socket, only while
# sockets are in flight and only when they may form a cycle; closing a file
# that is not a socket never runs it.

def runs(k):
    return k.counters()["gc_runs"]


def test_no_pass_while_only_other_files_in_flight(kernel):
    p = kernel.spawn(uid=1000, gid=1000)
    a, b = p.socketpair(socket.AF_UNIX, SOCK_STREAM)
    r, w = p.pipe()
    p.sendmsg(a, [b"p"], rights(r, w))
    p.close(r)
    p.close(w)                              # not sockets: never a pass
    c, d = p.socketpair(socket.AF_UNIX, SOCK_DGRAM)
    p.close(c)
    p.close(d)                              # sockets released, none in flight
    assert live(kernel) == (2, 2)           # a and b (a pipe is no socket)
    assert runs(kernel) == 0
    p.close(b)                              # the pipe goes with b's queue
    p.close(a)
    assert live(kernel) == (0, 0)
    assert runs(kernel) == 0


def test_no_pass_when_no_cycle_is_possible(kernel):
    """A socket in flight to a receiver that is not itself in flight."""
    p = kernel.spawn(uid=1000, gid=1000)
    a, b = p.socketpair(socket.AF_UNIX, SOCK_STREAM)
    c, d = p.socketpair(socket.AF_UNIX, SOCK_STREAM)
    p.sendmsg(a, [b"d"], rights(d))
    p.close(d)
    p.close(c)                              # a socket released while d is in flight
    p.close(p.socket(socket.AF_UNIX, SOCK_DGRAM))
    assert live(kernel) == (1, 3)
    assert runs(kernel) == 0
    _, fds, _, _ = p.recv_fds(b, 10, 1)
    for fd in fds + [a, b]:
        p.close(fd)
    assert live(kernel) == (0, 0)
    assert runs(kernel) == 0


def test_cycle_freed_by_next_socket_release(kernel):
    """Each end of a pair in flight in the other's queue: closing both fds
    releases nothing (the messages hold the files), and nor does closing a
    pipe; the next release of any socket runs one pass that frees it all."""
    p = kernel.spawn(uid=1000, gid=1000)
    a, b = p.socketpair(socket.AF_UNIX, SOCK_STREAM)
    p.sendmsg(a, [b"a"], rights(a))         # a on b
    p.sendmsg(b, [b"b"], rights(b))         # b on a
    p.close(a)
    p.close(b)
    r, w = p.pipe()
    p.close(r)
    p.close(w)
    assert live(kernel) == (2, 2)
    assert runs(kernel) == 0
    p.close(p.socket(socket.AF_UNIX, SOCK_STREAM))
    assert runs(kernel) == 1
    assert live(kernel) == (0, 0)
    c = kernel.counters()
    assert c["skbs"] == c["bytes_queued"] == c["socket_structs"] == 0


def test_release_of_last_reference_runs_one_pass(kernel):
    """b rides in its own queue; closing a, the last fd, releases a and
    collects b in one pass."""
    p = kernel.spawn(uid=1000, gid=1000)
    a, b = p.socketpair(socket.AF_UNIX, SOCK_SEQPACKET)
    p.sendmsg(a, [b"b"], rights(b))
    p.close(b)
    assert runs(kernel) == 0
    p.close(a)
    assert runs(kernel) == 1
    assert live(kernel) == (0, 0)


def test_pass_sees_references_the_release_dropped(kernel):
    """x's queue holds d, and d and y hold each other: the cycle is garbage
    only once x's reference to d is gone, so the pass x's release runs must
    come after the files of x's queue are put."""
    p = kernel.spawn(uid=1000, gid=1000)
    x, c = p.socketpair(socket.AF_UNIX, SOCK_STREAM)
    y, d = p.socketpair(socket.AF_UNIX, SOCK_STREAM)
    p.sendmsg(c, [b"d"], rights(d))         # d on x
    p.sendmsg(d, [b"d"], rights(d))         # d on y
    p.sendmsg(y, [b"y"], rights(y))         # y on d
    p.close(d)
    p.close(y)
    assert runs(kernel) == 0
    p.close(x)
    assert runs(kernel) == 1
    p.close(c)
    assert live(kernel) == (0, 0)


# ---------------------------------------------------- too_many_unix_fds

def test_etoomanyrefs_per_user(kernel):
    """Linux's rule: a send with fds fails ETOOMANYREFS when the sending user
    (real uid) already has more files in flight than the sender's
    RLIMIT_NOFILE; this message's own files are not counted yet."""
    p = kernel.spawn(uid=1000, gid=1000, rlimit_nofile=16)
    q = kernel.spawn(uid=1000, gid=1000, rlimit_nofile=8)
    other = kernel.spawn(uid=1001, gid=1001, rlimit_nofile=8)
    a, b = p.socketpair(socket.AF_UNIX, SOCK_DGRAM)
    r, w = p.pipe()
    p.sendmsg(a, [b"x"], rights(*[w] * 16))     # 0 in flight before
    p.sendmsg(a, [b"x"], rights(w))             # 16 <= 16
    with pytest.raises(OSError) as e:
        p.sendmsg(a, [b"x"], rights(w))         # 17 > 16
    assert e.value.errno == errno.ETOOMANYREFS
    p.send(a, b"no fds is fine")
    qa, qb = q.socketpair(socket.AF_UNIX, SOCK_DGRAM)
    with pytest.raises(OSError) as e:
        q.sendmsg(qa, [b"x"], rights(qa))       # same user, smaller limit
    assert e.value.errno == errno.ETOOMANYREFS
    oa, ob = other.socketpair(socket.AF_UNIX, SOCK_DGRAM)
    other.sendmsg(oa, [b"x"], rights(oa))       # another user
    assert kernel.net.user_inflight == {1000: 17, 1001: 1}
    msg, fds, flags, _ = p.recv_fds(b, 10, 16)  # 12 fit, 4 dropped: 1 left
    assert len(fds) == 12 and flags & socket.MSG_CTRUNC
    p.sendmsg(a, [b"x"], rights(w))
    for fd in fds:
        p.close(fd)
    p.recv(b, 10)
    p.recv(b, 10)
    p.recv(b, 10)
    assert kernel.net.user_inflight == {1001: 1}


def test_etoomanyrefs_root_exempt(kernel):
    root = kernel.spawn(rlimit_nofile=8)
    a, b = root.socketpair(socket.AF_UNIX, SOCK_DGRAM)
    for _ in range(5):
        root.sendmsg(a, [b"x"], rights(a, b))
    assert kernel.net.user_inflight == {0: 10}
    root.close(a)
    root.close(b)
    kernel.gc()
    assert kernel.net.user_inflight == {}


def test_etoomanyrefs_counts_real_uid(kernel):
    """current_user() is the real uid: a setuid-style euid does not help."""
    p = kernel.spawn()
    p.setresuid(1000, 0, 0)                     # euid 0: still capable
    a, b = p.socketpair(socket.AF_UNIX, SOCK_DGRAM)
    p.sendmsg(a, [b"x"], rights(a))
    assert kernel.net.user_inflight == {1000: 1}
    p.recv(b, 10)
    assert kernel.net.user_inflight == {}


def test_failed_send_uncharges(kernel):
    p = kernel.spawn(uid=1000, gid=1000)
    a, b = p.socketpair(socket.AF_UNIX, SOCK_STREAM)
    p.close(b)
    with pytest.raises(BrokenPipeError):
        p.sendmsg(a, [b"x"], rights(a), socket.MSG_NOSIGNAL)
    assert kernel.net.user_inflight == {}
    assert live(kernel) == (0, 1)


# -------------------------------------------------------------- example

def test_supervisor_example():
    path = pathlib.Path(__file__).resolve().parent.parent / "examples" / "supervisor.py"
    spec = importlib.util.spec_from_file_location("supervisor_example", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main() == 0


# ------------------------------------------- send_fds / recv_fds fast path
def _outcome(call):
    """What a call did: ("ok", result) or ("raised", type, errno, message)."""
    try:
        return ("ok", call())
    except Exception as e:      # noqa: BLE001 - every outcome is compared
        return ("raised", type(e), getattr(e, "errno", None), str(e))


class _Iter:
    """An argument given as a fresh iterator over ``items`` in each run."""
    def __init__(self, items):
        self.items = items

    def __repr__(self):
        return "iter(%r)" % (self.items,)


def _fds_scenario(send_fds, recv_fds, send_args, recv_args, passcred=False, rlimit=None):
    """One send_fds then one recv_fds on a fresh kernel, through the given
    functions (``(proc, fd, ...)``); fd arguments given as names resolve to
    the scenario's fds.  Returns every outcome and the state after."""
    k = menios.Kernel()
    try:
        p = k.spawn(uid=0, gid=0)
        a, b = p.socketpair(socket.AF_UNIX, SOCK_STREAM)
        r, w = p.pipe()
        spare = p.pipe()[0]
        names = dict(a=a, b=b, r=r, w=w, spare=spare)
        if passcred:
            p.setsockopt(b, SOL_SOCKET, socket.SO_PASSCRED, 1)

        def res(v):
            if isinstance(v, _Iter):
                return iter(res(v.items))
            if isinstance(v, str) and v in names:
                return names[v]
            if isinstance(v, list):
                return [res(x) for x in v]
            if isinstance(v, tuple):
                return tuple(res(x) for x in v)
            return v
        p.close(spare)                      # a closed fd to pass
        if rlimit is not None:
            p.rlimit_nofile = rlimit
        sent = _outcome(lambda: send_fds(p, *res(send_args)))
        got = _outcome(lambda: recv_fds(p, *res(recv_args)))
        cloexec = None
        if got[0] == "ok":
            cloexec = [p.fdtable.get_cloexec(fd) for fd in got[1][1]]
        return sent, got, cloexec, k.counters()["files_inflight"]
    finally:
        k.close()


_SEND_CASES = [
    ("a", [b"x"], ["r"]),
    ("a", (b"x",), ("r", "w")),
    ("a", [b"x"], []),
    ("a", [bytearray(b"x"), memoryview(b"yz")], ["r"]),
    ("a", [b"x"], ["r"], socket.MSG_DONTWAIT),
    ("a", [b"x"], [True]),                  # bool: the general path
    ("a", [b"x"], [2 ** 31]),               # OverflowError from the array module
    ("a", [b"x"], [-2 ** 31 - 1]),
    ("a", [b"x"], ["x"]),                   # TypeError from the array module
    ("a", [b"x"], 5),
    ("a", [b"x"], _Iter(["r"])),            # an iterator: the general path
    ("a", _Iter([b"x"]), ["r"]),
    ("a", [b"x"], ["spare"]),               # EBADF from scm_send
    ("a", [b"x"], [-1]),
    ("a", 5, ["r"]),                        # TypeError: the buffers come first
    ("a", [1], ["r"]),
    ("r", [b"x"], ["r"]),                   # ENOTSOCK
    ("spare", [b"x"], ["r"]),               # EBADF
    ("spare", 5, "x"),                      # EBADF before any argument check
    ("a", [b"x"], ["r"], "0"),              # flags not an int
    ("a", [b"x"], ["r"], 0, "/nowhere"),    # a destination: the general path
]

_RECV_CASES = [
    ("b", 10, 1),
    ("b", 10, 0),                           # no room: MSG_CTRUNC, the fd closed
    ("b", 10, 4),
    ("b", 10, 1, socket.MSG_CMSG_CLOEXEC),
    ("b", 10, 1, socket.MSG_PEEK),
    ("b", 0, 1),
    ("b", 10, -1),
    ("b", 10, -5),
    ("b", 10, 2 ** 40),
    ("b", "10", 1),
    ("b", 10, "1"),
    ("b", 10, 1.0),
    ("a", 10, 1, socket.MSG_DONTWAIT),      # nothing there: EAGAIN
    ("r", 10, 1),
]


@pytest.mark.parametrize("send_args", _SEND_CASES, ids=lambda c: repr(c)[:60])
def test_send_fds_fast_path_agrees_with_general_path(send_args):
    from menios import socketcalls
    recv = ("b", 10, 4, socket.MSG_DONTWAIT)
    fast = _fds_scenario(menios.Process.send_fds, socketcalls.recv_fds, send_args, recv)
    slow = _fds_scenario(socketcalls.send_fds, socketcalls.recv_fds, send_args, recv)
    assert fast == slow


@pytest.mark.parametrize("passcred", [False, True], ids=["plain", "passcred"])
@pytest.mark.parametrize("recv_args", _RECV_CASES, ids=lambda c: repr(c)[:60])
def test_recv_fds_fast_path_agrees_with_general_path(recv_args, passcred):
    from menios import socketcalls
    send = ("a", [b"xy"], ["r", "w"])
    fast = _fds_scenario(socketcalls.send_fds, menios.Process.recv_fds, send, recv_args, passcred)
    slow = _fds_scenario(socketcalls.send_fds, socketcalls.recv_fds, send, recv_args, passcred)
    assert fast == slow


def test_recv_fds_fast_path_agrees_when_the_fd_table_is_full():
    from menios import socketcalls
    send = ("a", [b"xy"], ["r", "w"])
    # room for one of the two received fds: the other is dropped, MSG_CTRUNC
    fast = _fds_scenario(socketcalls.send_fds, menios.Process.recv_fds, send, ("b", 10, 2),
                         rlimit=6)
    slow = _fds_scenario(socketcalls.send_fds, socketcalls.recv_fds, send, ("b", 10, 2),
                         rlimit=6)
    assert fast == slow
    assert fast[1][0] == "ok" and len(fast[1][1][1]) == 1
    assert fast[1][1][2] & socket.MSG_CTRUNC


def test_fds_fast_paths_are_the_process_methods():
    from menios import _unix
    assert menios.Process.send_fds is _unix.ProcessBase.send_fds
    assert menios.Process.recv_fds is _unix.ProcessBase.recv_fds
