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
