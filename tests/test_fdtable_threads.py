"""Eight threads share one Process and race on its fd table: socket,
socketpair, pipe, close, dup, dup2, F_DUPFD, accept, connect, send_fds,
recv_fds and fork, in seeded random order, every call non-blocking.

Each thread owns the fds it got from a call; an fd number handed out while
another thread still owns it is a double allocation.  Sixteen fds at the top
of the table (CONTESTED_BASE and up) are never handed out by the lowest-free
rule: all threads dup2 onto them, F_DUPFD into them and close them at
random, so those calls race on the same slots and may fail EBADF (a racing
close) or EMFILE (all of them taken).  At the end the table must hold
exactly the fds the threads still own, and once they are closed the kernel
must have nothing left.

``MENIOS_FDTABLE_STRESS_OPS`` sets the calls per thread (default: a CI-sized
run); ``MENIOS_FDTABLE_STRESS_SEED`` the seed.
"""
import errno
import os
import random
import sys
import threading
import time
import traceback

import pytest

import menios
from menios import (F_DUPFD, F_GETFD, F_SETFL, MSG_DONTWAIT, O_NONBLOCK, SOCK_DGRAM,
                    SOCK_NONBLOCK, SOCK_STREAM)

THREADS = 8
OPS = int(os.environ.get("MENIOS_FDTABLE_STRESS_OPS", "2000"))
SEED = int(os.environ.get("MENIOS_FDTABLE_STRESS_SEED", "20261205"))
OWNED_MAX = 24                   # fds one thread holds at most
CONTESTED_BASE = 240             # the contested slots: lowest-free never gets here, as
                                 # THREADS * (OWNED_MAX + 1 reserved by accept) + 3 shared
                                 # fds are fewer
CONTESTED = 16
NOFILE = CONTESTED_BASE + CONTESTED
JOIN_TIMEOUT = 240               # seconds, for the full run on a loaded machine
SWITCH_INTERVAL = 1e-6           # seconds: switch threads as often as the OS allows
YIELD_CHANCE = 0.05              # of giving the other threads the GIL at a line of menios
MENIOS_DIR = os.path.dirname(menios.__file__)
SOCK_PATH = "/stress.sock"
#: What each kind of call may fail with.  A thread's own fds are its own:
#: EBADF on one of them means another thread closed or replaced it.
MAY_FAIL = {
    "create": {errno.EMFILE},
    "connect": {errno.EAGAIN},
    "accept": {errno.EAGAIN, errno.EMFILE},
    "send_fds": {errno.EAGAIN},
    "recv_fds": {errno.EAGAIN},
    "contested": {errno.EBADF, errno.EMFILE},
}


class Owners:
    """Who owns which fd number, checked as numbers are handed out."""

    def __init__(self):
        self.lock = threading.Lock()
        self.owner = {}
        self.violations = []

    def take(self, me, fd, how):
        with self.lock:
            if not 0 <= fd < CONTESTED_BASE:
                self.violations.append("%s gave thread %d fd %d, in the contested range"
                                       % (how, me, fd))
            elif fd in self.owner:
                self.violations.append("%s gave thread %d fd %d, still owned by thread %d"
                                       % (how, me, fd, self.owner[fd]))
            self.owner[fd] = me

    def give_up(self, me, fd):
        """Before close: once closed, the number is anyone's."""
        with self.lock:
            if self.owner.get(fd) == me:
                del self.owner[fd]


def _yielding_tracer(rng):
    """A trace function that, at a random few of the Python lines run in
    menios, lets another thread take the GIL: the interpreter may switch
    threads between any two lines anyway, this makes it happen often enough
    for a short run to find the switches that break a sequence of lines."""
    def line(frame, event, arg):
        if event == "line" and rng.random() < YIELD_CHANCE:
            time.sleep(0)
        return line

    def call(frame, event, arg):
        return line if frame.f_code.co_filename.startswith(MENIOS_DIR) else None
    return call


def _worker(me, p, shared, owners, errors, start):
    rng = random.Random(SEED * THREADS + me)
    mine = []                       # fds this thread owns, in the order it got them

    def take(fd, how):
        owners.take(me, fd, how)
        mine.append(fd)

    def drop(fd):
        mine.remove(fd)
        owners.give_up(me, fd)
        p.close(fd)

    def call(kind, fn, *args):
        try:
            return fn(*args)
        except OSError as e:
            if e.errno not in MAY_FAIL[kind]:
                raise
            return None

    start.wait(JOIN_TIMEOUT)
    op = None
    sys.settrace(_yielding_tracer(random.Random(rng.random())))
    try:
        for _ in range(OPS):
            op = rng.choice(("socket", "socketpair", "pipe", "close", "close", "dup", "dup2",
                             "connect", "accept", "send_fds", "recv_fds", "contested_dup2",
                             "contested_dupfd", "contested_close", "fork"))
            if len(mine) + 4 > OWNED_MAX:
                op = "close"
            if op in ("close", "dup", "dup2", "send_fds", "contested_dup2",
                      "contested_dupfd") and not mine:
                op = "socket"
            if op == "socket":
                fd = call("create", p.socket, menios.AF_UNIX,
                          rng.choice((SOCK_STREAM, SOCK_DGRAM)) | SOCK_NONBLOCK)
                if fd is not None:
                    take(fd, op)
            elif op in ("socketpair", "pipe"):
                pair = call("create", getattr(p, op))
                for fd in pair or ():
                    take(fd, op)
            elif op == "close":
                drop(rng.choice(mine))
            elif op == "dup":
                fd = call("create", p.dup, rng.choice(mine))
                if fd is not None:
                    take(fd, op)
            elif op == "dup2":
                src, dst = rng.choice(mine), rng.choice(mine)
                assert p.dup2(src, dst) == dst
            elif op == "connect":
                fd = call("create", p.socket, menios.AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK)
                if fd is not None:
                    take(fd, op)
                    call("connect", p.connect, fd, SOCK_PATH)
            elif op == "accept":
                got = call("accept", p.accept, shared["listener"], SOCK_NONBLOCK)
                if got is not None:
                    take(got[0], op)
            elif op == "send_fds":
                passed = rng.sample(mine, min(len(mine), rng.randint(1, 3)))
                call("send_fds", p.send_fds, shared["chan"][0], [b"f"], passed, MSG_DONTWAIT)
            elif op == "recv_fds":
                got = call("recv_fds", p.recv_fds, shared["chan"][1], 16, 4, MSG_DONTWAIT)
                for fd in got[1] if got is not None else ():
                    take(fd, op)
            elif op == "contested_dup2":
                call("contested", p.dup2, rng.choice(mine),
                     CONTESTED_BASE + rng.randrange(CONTESTED))
            elif op == "contested_dupfd":
                fd = call("contested", p.fcntl, rng.choice(mine), F_DUPFD, CONTESTED_BASE)
                assert fd is None or fd >= CONTESTED_BASE, fd
            elif op == "contested_close":
                call("contested", p.close, CONTESTED_BASE + rng.randrange(CONTESTED))
            elif op == "fork":
                child = p.fork()
                for fd in mine:          # the child has a copy of every fd we own
                    assert child.fcntl(fd, F_GETFD) == 0
                child.exit()
    except BaseException as e:      # noqa: B902 - reported by the main thread
        where = traceback.extract_tb(e.__traceback__)[-1]
        errors.append("thread %d, %s: %r at %s:%d" % (
            me, op, e, os.path.basename(where.filename), where.lineno))
    finally:
        sys.settrace(None)
    return mine


def _open_fds(p):
    out = set()
    for fd in range(NOFILE):
        try:
            p.fcntl(fd, F_GETFD)
        except OSError as e:
            assert e.errno == errno.EBADF, e
        else:
            out.add(fd)
    return out


@pytest.mark.timeout(JOIN_TIMEOUT + 60)
def test_threads_sharing_one_fd_table(kernel):
    p = kernel.spawn(rlimit_nofile=NOFILE)
    lst = p.socket()
    p.bind(lst, SOCK_PATH)
    p.listen(lst, 16)
    p.fcntl(lst, F_SETFL, O_NONBLOCK)
    chan = p.socketpair(menios.AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK)
    shared = {"listener": lst, "chan": chan}
    owners = Owners()
    for fd in (lst,) + chan:
        owners.take(-1, fd, "setup")
    errors = []
    start = threading.Event()
    results = [None] * THREADS

    def run(i):
        results[i] = _worker(i, p, shared, owners, errors, start)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(THREADS)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        for t in threads:
            t.start()
        start.set()
        for t in threads:
            t.join(JOIN_TIMEOUT)
    finally:
        sys.setswitchinterval(interval)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    assert not errors and not owners.violations, (
        "unexpected exceptions: %r; fds handed out twice: %r"
        % (errors[:5], owners.violations[:5]))

    # The table holds exactly what the threads own, plus the contested slots.
    owned = set(owners.owner)
    assert owned == {fd for r in results for fd in r} | {lst, *chan}
    assert _open_fds(p) - set(range(CONTESTED_BASE, NOFILE)) == owned
    for fd in owned:
        p.close(fd)
    for fd in range(CONTESTED_BASE, NOFILE):
        try:
            p.close(fd)
        except OSError as e:
            assert e.errno == errno.EBADF
    assert _open_fds(p) == set()
    kernel.close()
    c = kernel.counters()
    assert {name: c[name] for name in ("sockets", "skbs", "bytes_queued", "files_inflight")} \
        == {"sockets": 0, "skbs": 0, "bytes_queued": 0, "files_inflight": 0}
