"""Fault injection: ``k.faults.inject(call, ...)`` makes chosen syscalls of a
kernel fail, transfer less, wait, or lose a datagram, reproducibly.

A fault acts at the syscall's entry, after the fd has been looked up (a
bad fd or a file that is not a socket fails as it always does) and before
the call touches any socket, so what it leaves is what the real failure at
that point leaves:

* ``errno``: the call fails with it and changes nothing -- nothing queued
  or dequeued, no fd allocated, a connect leaves the socket unconnected, an
  accept leaves the connection queued (as accept4's EMFILE, ENFILE or
  ENOMEM do, which Linux checks before unix_accept dequeues it).  An
  ``EPIPE`` on a stream socket's send raises SIGPIPE unless MSG_NOSIGNAL,
  as unix_stream_sendmsg does.
* ``max_bytes`` (stream sockets' data calls): the call moves at most that
  many bytes, as one interrupted by a signal does: a send queues exactly
  that much and returns the count, a receive leaves the rest queued.
* ``delay_ms``: the call sleeps first, then runs (or fails) as chosen.
* ``drop`` (datagram sockets' sends): the datagram passes every check the
  sender makes (size, room in the send buffer, the files it carries, the
  destination's name) and is copied, then lost: the call returns its
  length, nothing is queued and its files were never in flight.

The hook costs nothing while no fault is armed: arming one switches the
kernel's processes to ``FaultProcess``, whose methods look the call up in
the armed table before running the ordinary ones; when the last fault
goes, they switch back.
"""
from __future__ import annotations

import errno as _errno
import operator
import os
import random
import threading
import time
from typing import TYPE_CHECKING

from . import socketcalls
from .constants import AF_UNIX, MSG_NOSIGNAL, SOCK_DGRAM, SOCK_STREAM, SOMAXCONN
from .process import Process

if TYPE_CHECKING:
    from .kernel import Kernel

#: The calls a fault may name, each with whether it takes an fd to narrow
#: by.  Any may fail or wait; the sends may be cut short or lose their
#: datagram, the receives cut short.
_SENDS = ("send", "sendto", "sendmsg")
_RECVS = ("recv", "recvfrom", "recvmsg")
CALLS = {
    "socket": False, "socketpair": False,
    "bind": True, "listen": True, "connect": True, "accept": True, "shutdown": True,
    "send": True, "sendto": True, "sendmsg": True,
    "recv": True, "recvfrom": True, "recvmsg": True,
}

_TYPE_NAMES = {SOCK_STREAM: "stream", SOCK_DGRAM: "datagram"}


def _count(name, value, low):
    """An optional int argument of ``inject``: None, or an int >= ``low``."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("%s must be an int, not %s" % (name, type(value).__name__))
    if value < low:
        raise ValueError("%s must be >= %d, not %d" % (name, low, value))
    return value


def _number(name, value, low, high=None):
    """An optional real argument of ``inject`` in [low, high]."""
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError("%s must be a number, not %s" % (name, type(value).__name__))
    if not low <= value <= (high if high is not None else float("inf")):
        raise ValueError("%s out of range: %r" % (name, value))
    return value


class Fault:
    """An armed fault; ``k.faults.inject`` returns it.

    ``hits`` counts the calls it acted on, ``calls`` the calls it matched
    (the ones ``nth``/``every``/``probability`` chose among); ``active`` is
    False once ``remove()`` was called or ``count`` hits were reached.
    """

    # the arguments it was armed with
    call: str
    errno: int | None
    nth: int | None
    every: int | None
    probability: float | None
    seed: int
    pid: int | None
    fd: int | None
    max_bytes: int | None
    delay_ms: float | None
    drop: bool
    count: int | None
    # what it did
    hits: int
    calls: int
    active: bool

    def __init__(self, faults, call, errno, nth, every, probability, seed, pid, fd,
                 max_bytes, delay_ms, drop, count):
        self._faults = faults
        self.call = call
        self.errno = errno
        self.nth = nth
        self.every = every
        self.probability = probability
        self.seed = seed
        self.pid = pid
        self.fd = fd
        self.max_bytes = max_bytes
        self.delay_ms = delay_ms
        self.drop = drop
        self.count = count
        self.hits = 0
        self.calls = 0
        self.active = True
        self._rng = random.Random(seed) if probability is not None else None
        # The socket type the effect needs: a short transfer exists only on
        # a byte stream, a lost message only on a datagram socket.
        self._needs = SOCK_STREAM if max_bytes is not None else SOCK_DGRAM if drop else None

    def remove(self) -> None:
        """Disarm this fault.  Idempotent."""
        self._faults._remove(self)

    def _matches(self, pid, fd, sock):
        return ((self.pid is None or self.pid == pid)
                and (self.fd is None or self.fd == fd)
                and (self._needs is None or sock.type == self._needs))

    def _chooses(self):
        """Count a matching call; True if this one is to be hit."""
        self.calls += 1
        if self.nth is not None:
            return self.calls == self.nth
        if self.every is not None:
            return self.calls % self.every == 0
        if self._rng is not None:
            return self._rng.random() < self.probability
        return True

    def __repr__(self):
        what = ", ".join("%s=%r" % (k, getattr(self, k)) for k in (
            "errno", "nth", "every", "probability", "pid", "fd", "max_bytes", "delay_ms",
            "count") if getattr(self, k) is not None)
        if self.drop:
            what += ", drop=True" if what else "drop=True"
        return "<Fault %s%s hits=%d%s>" % (self.call, ", " + what if what else "", self.hits,
                                           "" if self.active else " removed")


class Faults:
    """The faults armed on one kernel: ``k.faults``."""

    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel
        self._lock = threading.Lock()
        self._table: dict[str, list[Fault]] = {}    # call name -> [Fault], in order armed
        self.armed = False

    def inject(self, call: str, *, errno: int | None = None, nth: int | None = None,
               every: int | None = None, probability: float | None = None, seed: int = 0,
               pid: int | None = None, fd: int | None = None, max_bytes: int | None = None,
               delay_ms: float | None = None, drop: bool = False,
               count: int | None = None) -> Fault:
        """Arm a fault on the syscall ``call`` (one of ``CALLS``) and return
        it (a ``Fault``).  See the module's docstring and docs/API.md."""
        if not isinstance(call, str):
            raise TypeError("call must be a str, not %s" % type(call).__name__)
        if call not in CALLS:
            raise ValueError("no fault can be injected on %r; the calls are: %s"
                             % (call, ", ".join(CALLS)))
        errno = _count("errno", errno, 1)
        if errno is not None and errno not in _errno.errorcode:
            raise ValueError("unknown errno %d" % errno)
        nth = _count("nth", nth, 1)
        every = _count("every", every, 1)
        probability = _number("probability", probability, 0, 1)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError("seed must be an int, not %s" % type(seed).__name__)
        pid = _count("pid", pid, 1)
        fd = _count("fd", fd, 0)
        max_bytes = _count("max_bytes", max_bytes, 1)
        delay_ms = _number("delay_ms", delay_ms, 0)
        if not isinstance(drop, bool):
            raise TypeError("drop must be a bool, not %s" % type(drop).__name__)
        count = _count("count", count, 1)
        if sum(x is not None for x in (nth, every, probability)) > 1:
            raise ValueError("nth, every and probability choose calls in different ways: "
                             "give at most one")
        if errno is None and max_bytes is None and delay_ms is None and not drop:
            raise ValueError("a fault needs an effect: errno, max_bytes, delay_ms or drop")
        if sum((errno is not None, max_bytes is not None, drop)) > 1:
            raise ValueError("errno, max_bytes and drop exclude each other")
        if fd is not None and not CALLS[call]:
            raise ValueError("%s() takes no fd to narrow by" % call)
        if max_bytes is not None and call not in _SENDS + _RECVS:
            raise ValueError("max_bytes shortens a data transfer: %s() moves no data" % call)
        if drop and call not in _SENDS:
            raise ValueError("drop loses a datagram being sent: %s() sends none" % call)
        needs = SOCK_STREAM if max_bytes is not None else SOCK_DGRAM if drop else None
        if needs is not None and pid is not None and fd is not None:
            self._check_type(pid, fd, needs, "max_bytes" if max_bytes is not None else "drop")
        f = Fault(self, call, errno, nth, every, probability, seed, pid, fd, max_bytes,
                  delay_ms, drop, count)
        with self._lock:
            self._table.setdefault(call, []).append(f)
            if not self.armed:
                self.armed = True
                self._switch(Process, FaultProcess)
        return f

    def _check_type(self, pid, fd, needs, effect):
        """A fault narrowed to one socket: that socket must be of the type its
        effect needs (a short transfer on a stream, a drop on a datagram
        socket)."""
        proc = self._kernel.processes.get(pid)
        if proc is None:
            return
        try:
            sock = proc._sock(fd)
        except OSError:
            return
        if sock.type != needs:
            raise ValueError("%s needs a %s socket; fd %d of pid %d is not one"
                             % (effect, _TYPE_NAMES[needs], fd, pid))

    def faults(self) -> list[Fault]:
        """The armed faults, in the order they were armed."""
        with self._lock:
            return [f for fs in self._table.values() for f in fs]

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            for fs in self._table.values():
                for f in fs:
                    f.active = False
            self._table.clear()
            self._disarm()

    def _remove(self, f):
        with self._lock:
            f.active = False
            fs = self._table.get(f.call)
            if fs and f in fs:
                fs.remove(f)
                if not fs:
                    del self._table[f.call]
            self._disarm()

    def _disarm(self):
        """With the lock held: with no fault left, processes go back to the
        plain ``Process``."""
        if self.armed and not self._table:
            self.armed = False
            self._switch(FaultProcess, Process)

    def _switch(self, old, new):
        with self._kernel.lock:
            procs = list(self._kernel.processes.values())
        for p in procs:
            if type(p) is old:
                p.__class__ = new

    def adopt(self, proc):
        """A process created while faults are armed sees them too."""
        if self.armed and type(proc) is Process:
            proc.__class__ = FaultProcess

    def _select(self, call, proc, fd):
        """The fault that acts on this call, or None.  ``fd``: the call's fd
        (None for socket/socketpair); a call whose fd is not a socket is
        left alone, to fail as it does."""
        fs = self._table.get(call)
        if not fs:
            return None
        sock = None
        if fd is not None:
            try:
                sock = proc._sock(fd)
                fd = operator.index(fd)
            except (OSError, TypeError):
                return None
        chosen = None
        with self._lock:
            for f in list(fs):
                if not (f.active and f._matches(proc.pid, fd, sock)):
                    continue
                if f._chooses() and chosen is None:
                    chosen = f
                    f.hits += 1
                if ((f.nth is not None and f.calls >= f.nth)
                        or (f.count is not None and f.hits >= f.count)):
                    f.active = False         # spent
                    fs.remove(f)
            if not fs:
                self._table.pop(call, None)
                self._disarm()
        if chosen is not None and chosen.delay_ms:
            time.sleep(chosen.delay_ms / 1000)
        return chosen


# ------------------------------------------------------------------ the hook
def _fail(proc, f, sock=None, flags=0):
    """Raise the fault's errno (after the delay); a no-op for other faults.
    ``sock``/``flags``: a send's, for SIGPIPE."""
    e = f.errno
    if e is None:
        return
    if e == _errno.EPIPE and sock is not None and sock.type == SOCK_STREAM \
            and not flags & MSG_NOSIGNAL:
        proc._raise_sigpipe()
    raise OSError(e, os.strerror(e))


def _clip(data, n):
    """At most the first ``n`` bytes of a buffer."""
    mv = memoryview(data)
    if mv.nbytes <= n:
        return data
    return mv.cast("B")[:n]


def _clip_list(buffers, n):
    """At most ``n`` bytes of a list of buffers, in order."""
    out = []
    for b in buffers:
        if n <= 0:
            break
        mv = memoryview(b)
        if mv.nbytes > n:
            b = mv.cast("B")[:n]
        out.append(b)
        n -= mv.nbytes
    return out


def _clip_n(buffer, nbytes, n):
    """recv_into's ``nbytes`` cut to ``n`` (a size beyond the buffer is left
    for the call to refuse)."""
    nbytes = operator.index(nbytes)
    size = memoryview(buffer).nbytes
    if nbytes == 0:
        nbytes = size
    return min(nbytes, n) if 0 <= nbytes <= size else nbytes


def _total(buffers):
    return sum(memoryview(b).nbytes for b in buffers)


def _lost(send, *args):
    """Run a datagram send whose datagram a drop fault loses."""
    send(*args, _lost=True)


class FaultProcess(Process):
    """A ``Process`` of a kernel with faults armed: each call that a fault
    may name asks ``kernel.faults`` first.  Never created directly; a
    process is switched to it and back (see ``Faults``)."""

    def _fault(self, call, fd):
        return self.kernel.faults._select(call, self, fd)

    # ---------------------------------------------------- no data moved
    def socket(self, family=AF_UNIX, type=SOCK_STREAM, proto=0):
        f = self._fault("socket", None)
        if f is not None:
            self._check_alive()
            _fail(self, f)
        return Process.socket(self, family, type, proto)

    def socketpair(self, family=AF_UNIX, type=SOCK_STREAM, proto=0):
        f = self._fault("socketpair", None)
        if f is not None:
            self._check_alive()
            _fail(self, f)
        return Process.socketpair(self, family, type, proto)

    def bind(self, fd, addr):
        f = self._fault("bind", fd)
        if f is not None:
            _fail(self, f)
        return Process.bind(self, fd, addr)

    def listen(self, fd, backlog=SOMAXCONN):
        f = self._fault("listen", fd)
        if f is not None:
            _fail(self, f)
        return Process.listen(self, fd, backlog)

    def connect(self, fd, addr):
        f = self._fault("connect", fd)
        if f is not None:
            _fail(self, f)
        return Process.connect(self, fd, addr)

    def accept(self, fd, flags=0):
        f = self._fault("accept", fd)
        if f is not None:
            _fail(self, f)
        return Process.accept(self, fd, flags)

    def shutdown(self, fd, how):
        f = self._fault("shutdown", fd)
        if f is not None:
            _fail(self, f)
        return Process.shutdown(self, fd, how)

    # ------------------------------------------------------------- sends
    def send(self, fd, data, flags=0):
        f = self._fault("send", fd)
        if f is None:
            return Process.send(self, fd, data, flags)
        s = self._sock(fd)
        _fail(self, f, s, flags)
        if f.drop:
            n = memoryview(data).nbytes
            with self._hold_sock(fd) as s:
                s.send(data, flags, self, None, True)
            return n
        if f.max_bytes is not None:
            data = _clip(data, f.max_bytes)
        return Process.send(self, fd, data, flags)

    def sendto(self, fd, data, addr, flags=0):
        f = self._fault("sendto", fd)
        if f is None:
            return Process.sendto(self, fd, data, addr, flags)
        _fail(self, f, self._sock(fd), flags)
        if f.drop:
            n = memoryview(data).nbytes
            _lost(socketcalls.sendto, self, fd, data, addr, flags)
            return n
        if f.max_bytes is not None:
            data = _clip(data, f.max_bytes)
        return Process.sendto(self, fd, data, addr, flags)

    def sendmsg(self, fd, buffers, ancdata=(), flags=0, address=None):
        return self._sendmsg(Process.sendmsg, fd, buffers, ancdata, flags, address)

    def send_fds(self, fd, buffers, fds, flags=0, address=None):
        return self._sendmsg(Process.send_fds, fd, buffers, fds, flags, address)

    def _sendmsg(self, real, fd, buffers, extra, flags, address):
        f = self._fault("sendmsg", fd)
        if f is None:
            return real(self, fd, buffers, extra, flags, address)
        _fail(self, f, self._sock(fd), flags)
        buffers = list(buffers)
        if f.drop:
            n = _total(buffers)
            _lost(real, self, fd, buffers, extra, flags, address)
            return n
        if f.max_bytes is not None:
            buffers = _clip_list(buffers, f.max_bytes)
        return real(self, fd, buffers, extra, flags, address)

    # ---------------------------------------------------------- receives
    def recv(self, fd, bufsize, flags=0):
        f = self._fault("recv", fd)
        if f is not None:
            _fail(self, f)
            if f.max_bytes is not None:
                bufsize = min(operator.index(bufsize), f.max_bytes)
        return Process.recv(self, fd, bufsize, flags)

    def recv_into(self, fd, buffer, nbytes=0, flags=0):
        f = self._fault("recv", fd)
        if f is not None:
            _fail(self, f)
            if f.max_bytes is not None:
                nbytes = _clip_n(buffer, nbytes, f.max_bytes)
        return Process.recv_into(self, fd, buffer, nbytes, flags)

    def recvfrom(self, fd, bufsize, flags=0):
        f = self._fault("recvfrom", fd)
        if f is not None:
            _fail(self, f)
            if f.max_bytes is not None:
                bufsize = min(operator.index(bufsize), f.max_bytes)
        return Process.recvfrom(self, fd, bufsize, flags)

    def recvfrom_into(self, fd, buffer, nbytes=0, flags=0):
        f = self._fault("recvfrom", fd)
        if f is not None:
            _fail(self, f)
            if f.max_bytes is not None:
                nbytes = _clip_n(buffer, nbytes, f.max_bytes)
        return Process.recvfrom_into(self, fd, buffer, nbytes, flags)

    def recvmsg(self, fd, bufsize, ancbufsize=0, flags=0):
        f = self._fault("recvmsg", fd)
        if f is not None:
            _fail(self, f)
            if f.max_bytes is not None:
                bufsize = min(operator.index(bufsize), f.max_bytes)
        return Process.recvmsg(self, fd, bufsize, ancbufsize, flags)

    def recvmsg_into(self, fd, buffers, ancbufsize=0, flags=0):
        f = self._fault("recvmsg", fd)
        if f is not None:
            _fail(self, f)
            if f.max_bytes is not None:
                buffers = _clip_list(list(buffers), f.max_bytes)
        return Process.recvmsg_into(self, fd, buffers, ancbufsize, flags)

    def recv_fds(self, fd, bufsize, maxfds, flags=0):
        f = self._fault("recvmsg", fd)
        if f is not None:
            _fail(self, f)
            if f.max_bytes is not None:
                bufsize = min(operator.index(bufsize), f.max_bytes)
        return Process.recv_fds(self, fd, bufsize, maxfds, flags)
