"""The host backend: menios's ``Kernel``/``Process`` API run on the real kernel.

``HostKernel()`` mirrors ``menios.Kernel()``: ``spawn()`` gives a process whose
methods are syscalls, except that every call runs in a real forked child on
the real Linux kernel of this machine.  A scenario written against that API
runs unchanged on both, which is what the differential harness
(:mod:`menios.conformance.harness`) needs.

Design
------
* **One zygote per kernel.**  ``HostKernel()`` forks a *zygote* that
  unshares a private network namespace (so abstract names cannot collide
  between runs), becomes a child subreaper with ``SIGCHLD`` ignored (so every
  process it ever parents is reaped), and ``chroot``\\ s into a private
  temporary tree holding ``/dev`` (0755) and ``/tmp`` (1777) -- so
  ``"/tmp/srv"`` means the same in both backends.  ``spawn()`` asks the
  zygote to fork; the new process puts itself in its own process group,
  drops to the requested credentials and serves requests.  ``close()`` closes
  the zygote's channel: it SIGKILLs every process group, reaps everything,
  removes the tree and exits.  If the harness dies, the same happens.
* **Root, subordinate ids, or one identity** (``mode``).  Run by root
  (``ROOT``), processes get whatever credentials ``spawn`` asks for.  Run by
  a user with subordinate ids (``/etc/subuid``, ``/etc/subgid`` and the
  setuid ``newuidmap``/``newgidmap``: ``SUBIDS``), the zygote makes a user
  namespace in which the caller is root and its subordinate ranges are the
  ids 1 and up: any id works, and the tree belongs to root.  Any other user
  gets ``ONE`` identity: the zygote waits for the first spawn and makes a
  user namespace in which the caller's own uid and gid -- the only ids an
  unprivileged user may map -- are that spawn's ``uid`` and ``gid``; every
  process of the kernel runs as that identity (capabilities cleared unless
  it is uid 0), and every file of the tree belongs to it.  A spawn,
  ``setresuid``/``setresgid`` or ``chown`` that needs other ids (or
  supplementary groups) raises ``NeedsIds`` (a ``unittest.SkipTest``)
  saying so; a scenario that does so must say ``needs={"ids"}``.  In a user
  namespace the network namespace and the chroot are made inside it, and
  the kernel's ``capable()`` checks against the initial namespace fail:
  scenarios whose outcome depends on those, or on files owned by other ids,
  say so with ``needs=`` (see ``unmet``).
* **Real fd numbers are the scenario's fd numbers.**  A served process
  keeps nothing below its ``RLIMIT_NOFILE``: stdin/out/err are closed and its
  own channels live at fds >= the limit (placed there before the limit is
  lowered; the kernel keeps them usable).  So the kernel itself allocates the
  lowest free fd from 0, gives ``EMFILE`` at the limit, ``EBADF`` for
  ``dup2`` past it, installs ``SCM_RIGHTS`` fds exactly as it would -- no
  translation table, nothing emulated.  An fd argument >= the limit (which
  the scenario can never own) is replaced by ``INT_MAX``, a number that is
  never open, so it fails ``EBADF`` (``POLLNVAL`` in ``poll``) and cannot
  touch a channel.
* **Channels.**  Each process has ``NCHAN`` private stream channels, each
  served by its own thread, so a call blocked in one thread never blocks
  another thread's call.  Request ``(name, args, kwargs)`` and reply
  ``("ok", value)`` / ``("err", errno)`` / ``("exc", type name, message)``
  are length-prefixed pickles.  A newly forked process (``spawn`` or
  ``fork``) gets its channels while still single-threaded -- socketpairs
  made by the *channel factory*, a process the zygote leaves in the network
  namespace it came from, so the scenario's namespace holds the scenario's
  sockets alone and ``ss`` run there lists nothing else -- moves them above
  its limit and sends the parent ends back as ``SCM_RIGHTS`` on the channel
  the request arrived on, so no process ever holds an fd below its limit
  behind the scenario's back.
* **ss.**  ``HostKernel.ss(args)`` runs iproute2's ``ss`` in the scenario's
  network namespace: the zygote forks a child that leaves the chroot for the
  host's root (a directory fd kept from before the chroot), so that ``-p``
  reads the host's ``/proc``, and executes ``ss``.
* **Signals.**  ``SIGPIPE`` and ``SIGURG`` are blocked in served processes;
  before and after each call the serving thread consumes them if pending
  and records them (``SIGURG`` is raised by *another* process's
  ``MSG_OOB`` send, so it may arrive between calls), so
  ``p.pending_signals`` shows them as menios does.
* Where the stdlib adds behaviour of its own, the kernel's is exposed:
  created fds are not close-on-exec unless asked (the stdlib always sets
  ``O_CLOEXEC``), ``bind``/``connect``/``sendto``/``listen`` go straight to
  libc (a 108-byte path binds; 109 bytes is the kernel's ``EINVAL``;
  ``connect(fd, None)`` is ``AF_UNSPEC``; a negative backlog is the
  kernel's), ``accept`` is ``accept4`` with the caller's flags, ``ioctl``
  reports what the kernel answered, ``send_fds``/``recv_fds`` pass their
  flags (the stdlib's drop them), ``umask`` is read from
  ``/proc/self/status``, and a negative fd is ``EBADF``.

Limitations: ``recv_into``/``recvmsg_into`` copy the data back into the
caller's buffers (the buffer cannot cross processes; results are the same);
``recv``/``recvfrom``/``recvmsg``/``read`` sizes above 16 MiB are clamped
(no MemoryError for a huge ``bufsize``; only a ``MSG_WAITALL`` read of more
than 16 MiB differs); ``sendmsg``/``send_fds`` with an address still use the stdlib's
length check (a 108-byte path raises ``OSError`` without errno); ``execve()``
only closes ``FD_CLOEXEC`` fds; ``Kernel.gc()`` waits briefly (Linux collects
in-flight cycles asynchronously); global sysctls (``net.core.[rw]mem_default``)
cannot be changed per run: asking for a value other than the host's skips;
with more than ``NCHAN`` concurrent calls on one process, the extra callers
wait for a free channel.  Without root it needs unprivileged user namespaces
(``HostKernel.spawn`` raises ``unittest.SkipTest`` where the kernel refuses
them).
"""

import array
import builtins
import ctypes
import errno
import faulthandler
import fcntl
import gc
import mmap
import operator
import os
import pickle
import pwd
import resource
import select
import shlex
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings

from ..kernel import wait_blocked
from ..process import DEFAULT_COMM

__all__ = ["HostKernel", "HostProcess", "NeedsIds", "NCHAN", "ROOT", "SUBIDS", "ONE",
           "best_mode", "unmet"]

#: Channels (and serving threads) per process: concurrent calls it can serve.
NCHAN = 8
_BADFD = 2**31 - 1               # an fd number that is never open
#: ioctl(PIDFD_GET_INFO) = _IOWR(PIDFS_IOCTL_MAGIC 0xFF, 11, struct pidfd_info),
#: with the structure's first version (64 bytes): mask, cgroupid, then pid.
_PIDFD_INFO_SIZE_VER0 = 64
_PIDFD_GET_INFO = (3 << 30) | (_PIDFD_INFO_SIZE_VER0 << 16) | (0xFF << 8) | 11
_PIDFD_INFO_PID = 1
_PIDFD_INFO_PID_OFFSET = 16
_MAXRECV = 1 << 24               # recv sizes are clamped to this
_RESERVE = 16 + 2 * NCHAN        # room above the limit for channels
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_DUMPABLE = 4
_PR_SET_NAME = 15
_AF_UNIX, _SOCK_STREAM, _SOMAXCONN = socket.AF_UNIX, socket.SOCK_STREAM, socket.SOMAXCONN
_NETNS_SYSCTLS = {"net.unix.max_dgram_qlen", "net.core.somaxconn"}
#: What ``HostKernel.blocked`` counts, by machine: syscalls a scenario call
#: can sleep in -- those whose first argument is an fd (a channel's is at or
#: above the process's limit, a scenario's below it), and the poll family.
_SLEEP_CALLS = {
    "x86_64": ({0, 1, 42, 43, 44, 45, 46, 47, 288}, {7, 23, 270, 271}),
    "aarch64": ({63, 64, 202, 203, 206, 207, 211, 212, 242}, {72, 73}),
}.get(os.uname().machine)

_libc = ctypes.CDLL(None, use_errno=True)
_int, _ptr, _uint, _ulong = ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_ulong
for _name, _restype, _argtypes in (
        ("socket", _int, [_int, _int, _int]),
        ("socketpair", _int, [_int, _int, _int, _ptr]),
        ("bind", _int, [_int, _ptr, _uint]),
        ("connect", _int, [_int, _ptr, _uint]),
        ("listen", _int, [_int, _int]),
        ("sendto", ctypes.c_ssize_t, [_int, ctypes.c_char_p, ctypes.c_size_t, _int, _ptr, _uint]),
        ("poll", _int, [_ptr, _ulong, _int]),
        ("unshare", _int, [_int]),
        ("accept4", _int, [_int, _ptr, _ptr, _int]),
        ("ioctl", _int, [_int, _ulong, _ptr]),
        ("capset", _int, [_ptr, _ptr]),
        ("prctl", _int, [_int, _ulong, _ulong, _ulong, _ulong]),
        ("tee", ctypes.c_ssize_t, [_int, _int, ctypes.c_size_t, _uint]),
        ("vmsplice", ctypes.c_ssize_t, [_int, _ptr, ctypes.c_size_t, _uint])):
    getattr(_libc, _name).restype = _restype
    getattr(_libc, _name).argtypes = _argtypes


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _PollFd(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_short),
                ("revents", ctypes.c_short)]


def _read_int(path):
    with open(path) as f:
        return int(f.read())


def _oserror(err):
    return OSError(err, os.strerror(err))


def _unwrap(reply):
    """The value of a reply, or its failure raised as the child saw it."""
    if reply[0] == "ok":
        return reply[1]
    if reply[0] == "err":
        raise _oserror(reply[1])
    raise getattr(builtins, reply[1])(reply[2])


def _check(ret):
    if ret < 0:
        raise _oserror(ctypes.get_errno())
    return ret


def _cint(value):
    """An int argument as the stdlib checks it (TypeError / OverflowError)."""
    value = operator.index(value)
    if not -2**31 <= value < 2**31:
        raise OverflowError("signed integer is greater than maximum")
    return value


def _sockaddr(addr):
    """(buffer, length) of a sockaddr for ``addr``, converted like the stdlib.

    ``None`` is ``AF_UNSPEC``.  The length is the kernel's to judge (a
    108-byte path is valid, 109 bytes ``EINVAL``).
    """
    if addr is None:
        raw = struct.pack("H", socket.AF_UNSPEC)
    else:
        path = os.fsencode(addr) if isinstance(addr, str) else bytes(memoryview(addr))
        raw = struct.pack("H", socket.AF_UNIX) + path
    return ctypes.create_string_buffer(raw, max(len(raw), 128)), len(raw)


#: Room for any sockaddr the kernel returns (struct sockaddr_storage).
_SOCKADDR_MAX = 128
_INT = array.array("i")


def _sockaddr_value(raw, length):
    """An AF_UNIX address the kernel returned, as the stdlib's makesockaddr
    turns it into Python: ``None`` when empty, the abstract name's bytes when
    ``sun_path`` starts with NUL, else the path up to its NUL as ``str``."""
    if length == 0:
        return None
    path = raw[2:min(length, _SOCKADDR_MAX)]
    if path[:1] == b"\0":
        return path
    return os.fsdecode(raw[2:_SOCKADDR_MAX].split(b"\0", 1)[0])


#: How a HostKernel gives its processes their credentials: as root, in a user
#: namespace mapping the caller's subordinate ids, or as one identity.
ROOT, SUBIDS, ONE = "root", "subids", "one"
#: Subordinate ranges are used when they cover 1..65535, every id a scenario
#: may ask for.
_SUBIDS_MIN = 65535


def _subordinate_range(path, uid):
    """The caller's first range of at least ``_SUBIDS_MIN`` ids in
    ``/etc/subuid`` or ``/etc/subgid``, as ``(start, count)``, or ``None``."""
    try:
        names = {pwd.getpwuid(uid).pw_name, str(uid)}
    except KeyError:
        names = {str(uid)}
    try:
        with open(path) as f:
            for line in f:
                fields = line.strip().split(":")
                if len(fields) == 3 and fields[0] in names and int(fields[2]) >= _SUBIDS_MIN:
                    return int(fields[1]), int(fields[2])
    except (OSError, ValueError):
        pass
    return None


def _subordinate_ids():
    """``(uid range, gid range)`` that ``newuidmap``/``newgidmap`` can map for
    the caller, or ``None``."""
    if not (shutil.which("newuidmap") and shutil.which("newgidmap")):
        return None
    uids = _subordinate_range("/etc/subuid", os.geteuid())
    gids = _subordinate_range("/etc/subgid", os.geteuid())
    return (uids, gids) if uids and gids else None


def best_mode():
    """The most this machine gives the caller: ``ROOT``, ``SUBIDS`` or ``ONE``."""
    if os.geteuid() == 0:
        return ROOT
    return SUBIDS if _subordinate_ids() else ONE


def unmet(needs):
    """Why this machine cannot run a scenario that ``needs`` these (keys of
    ``harness.NEEDS``) on the host backend, or ``None`` if it can."""
    if "ss" in needs and shutil.which("ss") is None:
        return "needs iproute2's ss, which is not installed (apt-get install iproute2)"
    mode = best_mode() if set(needs) - {"ss"} else ROOT
    if mode == ROOT:
        return None
    if "root" in needs:
        return "needs the initial user namespace's root (capable() checks); run as root"
    if "ids" in needs and mode == ONE:
        return ("needs several uids or gids: an unprivileged user namespace maps only the "
                "caller's own; run as root, or give the user subordinate ids "
                "(/etc/subuid, /etc/subgid, newuidmap)")
    return None


# --------------------------------------------------------------- wire format

def _pickle(obj):
    return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)


def _send(sock, obj, fds=(), pickled=None):
    """Send ``obj`` (or its ``pickled`` form) as one message with ``fds`` attached."""
    data = _pickle(obj) if pickled is None else pickled
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([struct.pack("Q", len(data))], anc)
    sock.sendall(data)


def _recvall(sock, n):
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = sock.recv_into(view[got:])
        if not k:
            raise EOFError
        got += k
    return buf


def _recv(sock):
    """One message: (object, list of fds received with it)."""
    hdr, anc, _, _ = sock.recvmsg(8, socket.CMSG_SPACE(4 * NCHAN),
                                  socket.MSG_CMSG_CLOEXEC)
    if not hdr:
        raise EOFError
    fds = []
    for level, kind, data in anc:
        if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS):
            fds += array.array("i", data[:len(data) - len(data) % 4])
    hdr += _recvall(sock, 8 - len(hdr))
    return pickle.loads(_recvall(sock, struct.unpack("Q", hdr)[0])), fds


# ----------------------------------------------------- child side (served)

class _Borrowed(socket.socket):
    """A socket object on a scenario's fd, which it never closes: dropping it
    (even when a fork discards another thread's frames) only detaches."""

    __slots__ = ()

    def __del__(self):
        self.detach()


class _Ops:
    """The syscalls as they run inside a served process.

    Every method here is callable from the parent; it runs the real call
    and lets its exception say how it failed.
    """

    def __init__(self, limit, proc, mode, factory):
        self.limit = limit
        self.proc = proc              # the host's /proc, opened before chroot
        self.mode = mode
        self.factory = factory        # the channel factory (_factory)
        self.pending = set()
        self._vmspliced = []          # user memory vmsplice put in pipes

    def _fd(self, fd):
        """The fd to hand the kernel: one the scenario cannot own becomes a
        never-open number (so the kernel says EBADF as it would)."""
        if isinstance(fd, int) and not 0 <= fd < self.limit:
            return _BADFD
        return fd

    def _sock(self, fd):
        return _Borrowed(fileno=self._fd(fd))

    def _on_sock(self, fd, method, *args):
        return getattr(self._sock(fd), method)(*args)

    def _rights(self, ancdata):
        """ancdata with SCM_RIGHTS fds the scenario cannot own replaced."""
        out = []
        for item in ancdata:
            level, kind, data = item
            if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS):
                raw = bytes(memoryview(data))
                if len(raw) % 4 == 0:
                    data = array.array("i", [self._fd(fd) for fd in array.array("i", raw)])
            out.append((level, kind, data))
        return out

    # -- sockets
    def socket(self, family, type, proto=0):
        return _check(_libc.socket(_cint(family), _cint(type), _cint(proto)))

    def socketpair(self, family=_AF_UNIX, type=_SOCK_STREAM, proto=0):
        sv = (ctypes.c_int * 2)()
        _check(_libc.socketpair(_cint(family), _cint(type), _cint(proto), sv))
        return sv[0], sv[1]

    def bind(self, fd, addr):
        if addr is None:
            raise TypeError("a bytes-like object is required, not 'NoneType'")
        buf, n = _sockaddr(addr)
        _check(_libc.bind(_cint(self._fd(fd)), buf, n))

    def connect(self, fd, addr):
        buf, n = _sockaddr(addr)
        _check(_libc.connect(_cint(self._fd(fd)), buf, n))

    def listen(self, fd, backlog=_SOMAXCONN):
        _check(_libc.listen(_cint(self._fd(fd)), _cint(backlog)))

    def accept(self, fd, flags=0):
        buf = ctypes.create_string_buffer(_SOCKADDR_MAX)
        n = ctypes.c_uint(_SOCKADDR_MAX)
        newfd = _check(_libc.accept4(_cint(self._fd(fd)), buf, ctypes.byref(n), _cint(flags)))
        return newfd, _sockaddr_value(buf.raw, n.value)

    def send(self, fd, data, flags=0):
        return self._on_sock(fd, "send", data, flags)

    def sendto(self, fd, data, addr, flags=0):
        data = bytes(memoryview(data))
        if addr is None:
            raise TypeError("a bytes-like object is required, not 'NoneType'")
        buf, n = _sockaddr(addr)
        return _check(_libc.sendto(_cint(self._fd(fd)), data, len(data), _cint(flags), buf, n))

    def sendmsg(self, fd, buffers, ancdata=(), flags=0, address=None):
        return self._on_sock(fd, "sendmsg", buffers, self._rights(ancdata), flags, address)

    def send_fds(self, fd, buffers, fds, flags=0, address=None):
        # socket.send_fds() drops flags and address: pass them to the kernel.
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
        return self.sendmsg(fd, buffers, rights, flags, address)

    def recv(self, fd, bufsize, flags=0):
        return self._on_sock(fd, "recv", min(operator.index(bufsize), _MAXRECV), flags)

    def recv_into(self, fd, buflen, nbytes=0, flags=0):
        buf = bytearray(buflen)
        n = self._on_sock(fd, "recv_into", buf, nbytes, flags)
        return n, bytes(buf[:n])

    def recvfrom(self, fd, bufsize, flags=0):
        return self._on_sock(fd, "recvfrom", min(operator.index(bufsize), _MAXRECV), flags)

    def recvmsg(self, fd, bufsize, ancbufsize=0, flags=0):
        return self._on_sock(fd, "recvmsg", min(operator.index(bufsize), _MAXRECV),
                             ancbufsize, flags)

    def recvmsg_into(self, fd, buflens, ancbufsize=0, flags=0):
        bufs = [bytearray(n) for n in buflens]
        res = self._on_sock(fd, "recvmsg_into", bufs, ancbufsize, flags)
        return res, [bytes(b) for b in bufs]

    def recv_fds(self, fd, bufsize, maxfds, flags=0):
        # socket.recv_fds() drops flags: pass them to the kernel, then take
        # the fds out of the reply as it does.
        msg, ancdata, mflags, addr = self.recvmsg(
            fd, bufsize, socket.CMSG_LEN(operator.index(maxfds) * _INT.itemsize), flags)
        fds = array.array("i")
        for level, kind, data in ancdata:
            if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS):
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        return msg, list(fds), mflags, addr

    def shutdown(self, fd, how):
        self._on_sock(fd, "shutdown", how)

    def getsockname(self, fd):
        return self._on_sock(fd, "getsockname")

    def getpeername(self, fd):
        return self._on_sock(fd, "getpeername")

    def getsockopt(self, fd, level, opt, buflen=0):
        return self._on_sock(fd, "getsockopt", level, opt, buflen)

    def setsockopt(self, fd, level, opt, value):
        self._on_sock(fd, "setsockopt", level, opt, value)

    def ioctl(self, fd, request, arg=0):
        value = ctypes.c_int(_cint(arg))
        ret = _check(_libc.ioctl(_cint(self._fd(fd)), operator.index(request) & 0xFFFFFFFF,
                                 ctypes.byref(value)))
        return value.value if request in _IOCTL_GETTERS else ret

    def poll(self, fds, timeout_ms=None):
        fds = [(operator.index(fd), operator.index(ev)) for fd, ev in fds]
        arr = (_PollFd * len(fds))(*[(self._fd(fd) if fd >= 0 else fd, ev)
                                     for fd, ev in fds])
        timeout = -1 if timeout_ms is None or timeout_ms < 0 else _cint(timeout_ms)
        deadline = time.monotonic() + timeout / 1000
        while _libc.poll(arr, len(fds), timeout) < 0:
            if ctypes.get_errno() != errno.EINTR:
                raise _oserror(ctypes.get_errno())
            if timeout > 0:
                timeout = max(0, int((deadline - time.monotonic()) * 1000))
        return [(fd, arr[i].revents & 0xFFFF) for i, (fd, _) in enumerate(fds) if arr[i].revents]

    # -- files
    def open(self, path, flags, mode=0o666):
        fd = os.open(path, flags, mode)
        os.set_inheritable(fd, not flags & os.O_CLOEXEC)
        return fd

    def read(self, fd, n):
        return os.read(self._fd(fd), min(operator.index(n), _MAXRECV))

    def write(self, fd, data):
        return os.write(self._fd(fd), data)

    def lseek(self, fd, pos, how):
        return os.lseek(self._fd(fd), pos, how)

    def close(self, fd):
        os.close(self._fd(fd))

    def pipe(self):
        return os.pipe2(0)

    def pipe2(self, flags):
        return os.pipe2(flags)

    def fstat(self, fd):
        return os.fstat(self._fd(fd))

    def pidfd_open(self, pid, flags=0):
        return os.pidfd_open(pid, flags)

    def pidfd_getpid(self, fd):
        """ioctl(PIDFD_GET_INFO) asking for the pid (PIDFD_INFO_PID), with
        the 64 bytes of struct pidfd_info's first version."""
        info = bytearray(_PIDFD_INFO_SIZE_VER0)
        struct.pack_into("Q", info, 0, _PIDFD_INFO_PID)
        fcntl.ioctl(self._fd(fd), _PIDFD_GET_INFO, info, True)
        return struct.unpack_from("I", info, _PIDFD_INFO_PID_OFFSET)[0]

    def splice(self, src, dst, count, offset_src=None, offset_dst=None, flags=0):
        return os.splice(self._fd(src), self._fd(dst), count, offset_src, offset_dst, flags)

    def tee(self, src, dst, count, flags=0):
        count = operator.index(count)
        if count < 0:
            raise ValueError("negative value for 'count' not allowed")
        return _check(_libc.tee(_cint(self._fd(src)), _cint(self._fd(dst)), count,
                                operator.index(flags) & 0xFFFFFFFF))

    def sendfile(self, out_fd, in_fd, offset, count):
        return os.sendfile(self._fd(out_fd), self._fd(in_fd), offset, count)

    def vmsplice(self, fd, datas, flags=0):
        """vmsplice(2) over buffers holding ``datas``: (count, their
        contents after the call: what a read end wrote into them)."""
        # page-aligned memory: which user pages a buffer spans decides how
        # many pipe slots it takes, so both backends see the same layout
        maps = [mmap.mmap(-1, max(1, len(d))) for d in datas]
        for m, d in zip(maps, datas):
            m[:len(d)] = bytes(d)
        self._vmspliced.extend(maps)    # a pipe holds their pages: keep them
        iov = (_Iovec * max(1, len(maps)))(
            *[(ctypes.addressof(ctypes.c_char.from_buffer(m)), len(d)) for m, d in zip(maps, datas)])
        n = _check(_libc.vmsplice(_cint(self._fd(fd)), iov, len(maps),
                                  operator.index(flags) & 0xFFFFFFFF))
        return n, [m[:len(d)] for m, d in zip(maps, datas)]

    def mkfifo(self, path, mode=0o666):
        os.mkfifo(path, mode)

    def mknod(self, path, mode=0o600, device=0):
        os.mknod(path, mode, device)

    def dup(self, fd):
        return fcntl.fcntl(self._fd(fd), fcntl.F_DUPFD, 0)

    def dup2(self, fd, fd2):
        return os.dup2(self._fd(fd), fd2)

    def fcntl(self, fd, cmd, arg=0):
        return fcntl.fcntl(self._fd(fd), cmd, arg)

    def execve(self):
        for fd in range(self.limit):
            try:
                if fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC:
                    os.close(fd)
            except OSError:
                pass

    def mkdir(self, path, mode=0o777):
        os.mkdir(path, mode)

    def rmdir(self, path):
        os.rmdir(path)

    def unlink(self, path):
        os.unlink(path)

    def rename(self, src, dst):
        os.rename(src, dst)

    def link(self, src, dst):
        os.link(src, dst)

    def symlink(self, target, path):
        os.symlink(target, path)

    def readlink(self, path):
        return os.readlink(path)

    def chmod(self, path, mode):
        os.chmod(self._fd(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._fd(path), uid, gid)

    def stat(self, path):
        return os.stat(self._fd(path))

    def lstat(self, path):
        return os.lstat(path)

    def listdir(self, path="."):
        return os.listdir(self._fd(path))

    def chdir(self, path):
        os.chdir(self._fd(path))

    def getcwd(self):
        return os.getcwd()

    def socket_inodes(self):
        """``{fd: inode}`` of the scenario's fds that are sockets."""
        out = {}
        for fd in range(self.limit):
            try:
                st = os.fstat(fd)
            except OSError:
                continue
            if stat.S_ISSOCK(st.st_mode):
                out[fd] = st.st_ino
        return out

    # -- credentials and attributes
    def setresuid(self, ruid, euid, suid):
        os.setresuid(ruid, euid, suid)

    def setresgid(self, rgid, egid, sgid):
        os.setresgid(rgid, egid, sgid)

    def setgroups(self, groups):
        os.setgroups(list(groups))

    def attr(self, name):
        uids, gids = os.getresuid(), os.getresgid()
        return {"uid": uids[0], "euid": uids[1], "suid": uids[2],
                "gid": gids[0], "egid": gids[1], "sgid": gids[2],
                "groups": tuple(os.getgroups()), "umask": self._umask(),
                "cwd": os.getcwd(), "pending_signals": set(self.pending)}[name]

    def _umask(self):
        """The process's umask, as the kernel reports it."""
        fd = os.open("self/status", os.O_RDONLY, dir_fd=self.proc)
        with open(fd) as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
        raise RuntimeError("no Umask line in /proc/self/status")

    # -- serving
    def _collect_signals(self):
        """Move the blocked SIGPIPE/SIGURG pending on this process into
        ``pending`` (what ``pending_signals`` shows)."""
        for sig in _RECORDED & signal.sigpending():
            signal.sigtimedwait([sig], 0)
            self.pending.add(sig)

    def serve(self, chan):
        """Answer requests on ``chan`` until the parent closes it."""
        while True:
            try:
                (name, args, kwargs), _ = _recv(chan)
            except (EOFError, OSError):
                return
            if name == "exit":
                os._exit(0)
            self._collect_signals()      # raised by another process since the last call
            try:
                if name.startswith("_") or name == "serve":
                    raise AttributeError(name)
                if name == "fork":
                    if os.fork() == 0:
                        _become(chan.fileno(), self.limit, self.proc, self.factory,
                                mode=self.mode)
                    continue        # the new process replies on this channel
                reply = ("ok", getattr(self, name)(*args, **kwargs))
            except OSError as e:
                reply = ("err", e.errno) if e.errno else ("exc", "OSError", str(e))
            except (TypeError, ValueError, OverflowError) as e:
                reply = ("exc", type(e).__name__, str(e))
            except Exception as e:   # a bug in the backend: surface it
                reply = ("exc", "RuntimeError", f"{type(e).__name__}: {e}")
            self._collect_signals()
            try:
                _send(chan, reply)
            except OSError:
                return


#: Signals a served process blocks and records in ``pending_signals``.
_RECORDED = frozenset({signal.SIGPIPE, signal.SIGURG})
#: ioctls that answer in the int their argument points to (the rest answer
#: with the syscall's return value): FIONREAD/SIOCINQ, SIOCOUTQ, SIOCATMARK,
#: FIOGETOWN, SIOCGPGRP.
_IOCTL_GETTERS = frozenset({0x541B, 0x5411, 0x8905, 0x8903, 0x8904})


def _close_fds_except(keep, low=0):
    prev = low
    for fd in sorted(fd for fd in keep if fd >= low) + [_BADFD]:
        os.closerange(prev, fd)
        prev = fd + 1


def _above(fd, limit):
    """Move ``fd`` to the lowest free number >= ``limit``."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD, limit)
    os.close(fd)
    return new


def _become(reply_fd, limit, proc, factory, creds=None, mode=ROOT):
    """Turn a freshly forked, single-threaded process into a served one.

    Called in the child of the zygote (``creds`` = spawn arguments) or of a
    served process (``fork``); ``proc`` is a directory fd on the host's
    ``/proc``, ``factory`` the channel factory's socket.  Never returns.
    """
    try:
        # Sockets the parent process's other threads held die now, not later
        # when their numbers may have been reused.
        gc.collect()
        gc.disable()
        try:
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            if creds is not None:
                os.setpgid(0, 0)
                if mode == ROOT:                  # make room above the limit
                    hard = max(hard, limit + _RESERVE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            err_fd = os.dup(2 if creds is not None else sys.stderr.fileno())
            reply_fd, err_fd, proc, factory = (_above(fd, limit)
                                                for fd in (reply_fd, err_fd, proc, factory))
            _close_fds_except({reply_fd, err_fd, proc, factory},
                              0 if creds is not None else limit)
            sys.stdin = None
            sys.stdout = sys.stderr = open(err_fd, "w", encoding="utf-8", closefd=False)
            mine, theirs = [], []
            pairs = _channels(factory)
            for a, b in zip(pairs[0::2], pairs[1::2]):
                mine.append(socket.socket(fileno=_above(a, limit)))
                theirs.append(_above(b, limit))
            if creds is not None:
                os.chdir(creds["cwd"])
                if mode != ONE:
                    os.setgroups(list(creds["groups"]))
                os.setresgid(creds["gid"], creds["gid"], creds["gid"])
                os.setresuid(creds["uid"], creds["uid"], creds["uid"])
                if creds["uid"] != 0:
                    _drop_capabilities()
                # Changing ids made the process non-dumpable: HostKernel.blocked
                # reads its /proc/PID/task/TID/syscall from outside.
                _libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
                os.umask(creds["umask"])
                _set_comm(creds["comm"])
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
            signal.pthread_sigmask(signal.SIG_BLOCK, _RECORDED)
            reply = ("ok", os.getpid())
        except OSError as e:
            theirs, reply = [], ("err", e.errno)
        except (TypeError, ValueError, OverflowError) as e:
            theirs, reply = [], ("exc", type(e).__name__, str(e))
        chan = socket.socket(fileno=reply_fd)
        _send(chan, reply, theirs)
        chan.close()
        for fd in theirs:
            os.close(fd)
        if reply[0] != "ok":
            return
        ops = _Ops(limit, proc, mode, factory)
        for c in mine[1:]:
            threading.Thread(target=ops.serve, args=(c,), daemon=True).start()
        ops.serve(mine[0])
    finally:
        os._exit(0)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _drop_capabilities():
    """Clear every capability, as a setresuid from 0 to non-zero ids does.

    A non-root identity in a user namespace would otherwise keep the full set
    the namespace's creator got, and bypass permission checks."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    _check(_libc.capset(ctypes.byref(header), (_CapData * 2)()))


def _enter_user_namespace(uid, gid):
    """Make a user namespace in which this process's own uid and gid (the
    only ids an unprivileged user may map) are ``uid`` and ``gid``.

    The process keeps every capability *within* the new namespace, which is
    what lets it make a network namespace and chroot; the kernel's checks
    against the initial namespace (``capable()``) still fail."""
    outer_uid, outer_gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(_CLONE_NEWUSER))
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {outer_uid} 1"),
                       ("gid_map", f"{gid} {outer_gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def _set_comm(name):
    """prctl(PR_SET_NAME): the process's command name (what ``ss -p`` shows)."""
    buf = ctypes.create_string_buffer(name.encode("utf-8", "surrogateescape")[:15])
    _libc.prctl(_PR_SET_NAME, ctypes.addressof(buf), 0, 0, 0)


def _factory():
    """Start the channel factory, in the network namespace this process is
    in (the caller's, before it makes its own): a process that answers each
    one-byte request on its SOCK_SEQPACKET socket with ``NCHAN`` fresh
    socketpairs (``2 * NCHAN`` fds).  A served process makes its channels
    there, so the scenario's network namespace holds the scenario's sockets
    and nothing else (``ss`` run in it shows exactly those).  Every served
    process shares the other end: any reply suits any requester.  Returns
    ``(pid, fd of the other end)``."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        try:
            ours.close()
            _close_fds_except({theirs.fileno(), 2})
            while True:
                try:
                    if not theirs.recv(1):
                        break
                except OSError:
                    break
                made = [socket.socketpair() for _ in range(NCHAN)]
                fds = [s.fileno() for pair in made for s in pair]
                theirs.sendmsg([b"c"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                         array.array("i", fds))])
                for pair in made:
                    for sock in pair:
                        sock.close()
        finally:
            os._exit(0)
    theirs.close()
    return pid, ours.detach()


def _channels(factory):
    """``2 * NCHAN`` fds, ``NCHAN`` socketpairs made by the channel factory."""
    sock = socket.socket(fileno=os.dup(factory))
    try:
        sock.send(b"c")
        _, anc, _, _ = sock.recvmsg(1, socket.CMSG_SPACE(8 * NCHAN))
    finally:
        sock.close()
    fds = array.array("i")
    for level, kind, data in anc:
        if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS):
            fds.frombytes(data[:len(data) - len(data) % 4])
    if len(fds) != 2 * NCHAN:
        raise OSError(errno.EIO, "the channel factory answered %d fds" % len(fds))
    return list(fds)


def _run_ss(hostroot, path, args):
    """``ss args`` run in this network namespace from the host's root (the
    chroot left: ss reads the host's /proc for ``-p``); (stdout, stderr)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.set_inheritable(1, True)      # a no-op dup2 (out_w was 1) kept O_CLOEXEC
            os.set_inheritable(2, True)
            os.fchdir(hostroot)
            os.chroot(".")
            os.chdir("/")
            os.closerange(3, _BADFD)
            os.execve(path, ["ss", *args], {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        except BaseException as e:
            os.write(2, ("cannot run %s: %s" % (path, e)).encode())
        finally:
            os._exit(127)
    os.close(out_w)
    os.close(err_w)
    chunks = []
    for fd in (out_r, err_r):
        data = []
        while True:
            block = os.read(fd, 65536)
            if not block:
                break
            data.append(block)
        os.close(fd)
        chunks.append(b"".join(data))
    return tuple(chunks)


def _enter_tree(root, sysctl):
    """The zygote's world: the channel factory (:func:`_factory`) left in the
    network namespace it came from, a private network namespace (with
    ``sysctl`` applied), a child subreaper ignoring SIGCHLD, chrooted into
    ``root``.  Returns ``(netns, outside, proc, hostroot, factory)``: whether
    the network namespace could be made, directory fds on ``root``'s parent,
    on ``/proc`` and on the host's ``/``, and ``(pid, socket fd)`` of the
    factory."""
    factory = _factory()
    netns = _libc.unshare(_CLONE_NEWNET) == 0
    if netns:
        for key, value in sysctl.items():
            with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                f.write(str(value))
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    outside = os.open(os.path.dirname(root), os.O_RDONLY | os.O_DIRECTORY)
    proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
    hostroot = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    os.chroot(root)
    os.chdir("/")
    return netns, outside, proc, hostroot, factory


def _zygote(chan_fd, root, sysctl, mode):
    """Body of the per-kernel zygote (see the module docstring).  Never returns.

    As root, or in a user namespace whose maps the parent writes
    (``SUBIDS``), it makes its world at once.  With ``ONE`` identity it waits
    for the first spawn: that process's uid and gid become the one identity
    of a user namespace (the parent asks for no other ids afterwards)."""
    try:
        faulthandler.disable()
        warnings.simplefilter("ignore")
        chan = socket.socket(fileno=chan_fd)
        outside = proc = hostroot = factory = None
        if mode != ONE:
            try:
                if mode == SUBIDS:
                    _check(_libc.unshare(_CLONE_NEWUSER))
                    _send(chan, ("map", None))
                    _recv(chan)                   # the parent wrote the maps
                netns, outside, proc, hostroot, factory = _enter_tree(root, sysctl)
            except (OSError, EOFError) as e:
                _send(chan, ("err", getattr(e, "errno", None) or errno.EIO))
                return
            _close_fds_except({chan_fd, 2, outside, proc, hostroot, factory[1]})
            _send(chan, ("ok", netns))
        else:
            _send(chan, ("ok", None))
        groups = []
        while True:
            try:
                (kind, procs, creds), _ = _recv(chan)
            except (EOFError, OSError):
                break
            if kind == "blocked":
                _send(chan, ("ok", _count_blocked(proc, procs)))
                continue
            if kind == "ss":
                if hostroot is None:
                    _send(chan, ("skip", "no process spawned yet: no network namespace"))
                else:
                    _send(chan, ("ok", _run_ss(hostroot, *procs)))
                continue
            if mode == ONE and proc is None:     # the first spawn: its ids are the identity
                try:
                    _enter_user_namespace(creds["uid"], creds["gid"])
                    netns, outside, proc, hostroot, factory = _enter_tree(root, sysctl)
                except OSError as e:
                    _send(chan, ("skip", "no unprivileged user namespace here "
                                         f"({os.strerror(e.errno)})"))
                    break
                _close_fds_except({chan_fd, 2, outside, proc, hostroot, factory[1]})
            try:
                pid = os.fork()
            except OSError as e:
                _send(chan, ("err", e.errno))
                continue
            if pid == 0:
                _become(chan_fd, creds["rlimit_nofile"], proc, factory[1], creds, mode)
            groups.append(pid)
        for pgid in groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
        if factory is not None:
            os.kill(factory[0], signal.SIGKILL)
        while True:                       # SIGCHLD ignored: returns when all are gone
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        if outside is not None:           # even if the harness died: remove the tree
            os.fchdir(outside)
            shutil.rmtree(os.path.basename(root), ignore_errors=True)
    finally:
        os._exit(0)


def _count_blocked(proc, procs):
    """How many threads of ``procs`` (``(pid, fd limit)`` pairs) sleep in a
    syscall on a scenario's fd or in poll, read from ``proc``, a directory fd
    on the host's ``/proc``."""
    fd_calls, poll_calls = _SLEEP_CALLS

    def read(path):
        with open(os.open(path, os.O_RDONLY, dir_fd=proc)) as f:
            return f.read()
    n = 0
    for pid, limit in procs:
        try:
            task = os.open(f"{pid}/task", os.O_RDONLY | os.O_DIRECTORY, dir_fd=proc)
        except OSError:
            continue            # exited
        try:
            tids = os.listdir(task)
        finally:
            os.close(task)
        for tid in tids:
            try:
                state = read(f"{pid}/task/{tid}/stat").rpartition(")")[2].split()[0]
                if state not in ("S", "D"):
                    continue
                words = read(f"{pid}/task/{tid}/syscall").split()
            except OSError:
                continue
            if len(words) < 2 or not words[0].isdigit():
                continue        # "running", or not in a syscall
            nr, arg0 = int(words[0]), int(words[1], 16)
            if nr in poll_calls or (nr in fd_calls and arg0 < limit):
                n += 1
    return n


# ----------------------------------------------------------- parent side

def _wire(obj):
    """Arguments made picklable: memoryviews become bytes, int enums and
    flags (``MSG_PEEK | MSG_DONTWAIT``) plain ints."""
    if isinstance(obj, memoryview):
        return obj.tobytes()
    if isinstance(obj, int) and type(obj) not in (int, bool):
        return int(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_wire(x) for x in obj)
    return obj


class NeedsIds(unittest.SkipTest):
    """A ``ONE``-identity kernel was asked for ids it does not have: the
    scenario should say ``needs={"ids"}``."""


def _write_maps(pid, uids, gids):
    """Map the caller's own ids to 0 and its subordinate ranges to 1.. in the
    user namespace of process ``pid`` (setuid ``newuidmap``/``newgidmap``)."""
    for tool, own, (start, count) in (("newuidmap", os.geteuid(), uids),
                                      ("newgidmap", os.getegid(), gids)):
        subprocess.run([tool, str(pid), "0", str(own), "1", "1", str(start), str(count)],
                       check=True, capture_output=True, timeout=30)


class HostKernel:
    """A run on the host kernel: a private netns, root directory and processes.

    ``HostKernel(sysctl=None, mode=None)``; use as a context manager or call
    ``close()``.  ``mode`` (default: ``best_mode()``) is how processes get
    their credentials (see the module docstring): ``ROOT``, any ids;
    ``SUBIDS``, any id in a user namespace mapping the caller's subordinate
    ids; ``ONE``, one identity in a user namespace, the (uid, gid) of the
    first spawn (``identity``), a call needing other ids raising
    ``unittest.SkipTest`` saying so.  ``netns`` tells
    whether the private network namespace could be made; ``root`` is the host
    path of the private tree.
    """

    def __init__(self, sysctl=None, mode=None):
        self.mode = best_mode() if mode is None else mode
        if self.mode not in (ROOT, SUBIDS, ONE):
            raise ValueError(f"unknown mode {mode!r}")
        if self.mode == ROOT and os.geteuid() != 0:
            raise unittest.SkipTest("the host backend's root mode needs root")
        subids = _subordinate_ids() if self.mode == SUBIDS else None
        if self.mode == SUBIDS and not subids:
            raise unittest.SkipTest("no subordinate ids for this user (/etc/subuid, "
                                    "/etc/subgid, newuidmap)")
        self.identity = None          # ONE: (uid, gid) of the first spawn
        netns_sysctl = {}
        for key, value in (sysctl or {}).items():
            path = "/proc/sys/" + key.replace(".", "/")
            if not os.path.exists(path):
                raise ValueError(f"unknown sysctl {key!r}")
            if key in _NETNS_SYSCTLS:
                netns_sysctl[key] = int(value)
            elif _read_int(path) != int(value):
                raise unittest.SkipTest(f"sysctl {key} is global on the host "
                                        f"and is not {value} here")
        self.root = tempfile.mkdtemp(prefix="menios-host-")
        os.chmod(self.root, 0o755)
        for name, mode in (("dev", 0o755), ("tmp", 0o1777)):
            os.mkdir(os.path.join(self.root, name))
            os.chmod(os.path.join(self.root, name), mode)
        self._lock = threading.Lock()
        self._procs = []
        self._closed = False
        ours, theirs = socket.socketpair()
        with warnings.catch_warnings():          # 3.12+: "multi-threaded fork"
            warnings.simplefilter("ignore", DeprecationWarning)
            self._zpid = os.fork()
        if self._zpid == 0:
            _zygote(theirs.fileno(), self.root, netns_sysctl, self.mode)
        theirs.close()
        self._zchan = ours
        try:
            ready = _recv(ours)[0]
            if ready[0] == "map":
                _write_maps(self._zpid, *subids)
                _send(ours, ("mapped", None))
                ready = _recv(ours)[0]
            # With ONE identity the namespaces are made with the first spawn,
            # and the network namespace comes with the user namespace or not at all.
            self.netns = _unwrap(ready) if self.mode != ONE else True
            if netns_sysctl and not self.netns:
                raise unittest.SkipTest("sysctls need a private network namespace")
        except BaseException:
            self.close()
            raise
        if not self.netns:
            warnings.warn("host backend: no private network namespace "
                          "(unshare failed); abstract names are shared")

    def spawn(self, uid=0, gid=0, groups=(), umask=0o022, cwd="/", rlimit_nofile=1024,
              comm=None):
        """A new process with these credentials, umask, cwd, fd limit and
        command name (``comm``, as menios's default when None)."""
        if comm is None:
            comm = DEFAULT_COMM
        elif not isinstance(comm, str):
            raise TypeError("comm must be a str, not %s" % type(comm).__name__)
        creds = dict(uid=uid, gid=gid, groups=tuple(groups), umask=umask, cwd=cwd,
                     rlimit_nofile=rlimit_nofile, comm=comm)
        with self._lock:
            if self._closed:
                raise _oserror(errno.ESRCH)
            self._ids("spawn", (uid,), (gid,), groups)
            _send(self._zchan, ("spawn", (), _wire(creds)))
            reply, fds = _recv(self._zchan)
            if reply[0] == "skip":
                raise unittest.SkipTest(reply[1])
            if self.mode == ONE and self.identity is None and reply[0] == "ok":
                self.identity = (uid, gid)
        return self._adopt(reply, fds, rlimit_nofile)

    def _ids(self, call, uids=(), gids=(), groups=()):
        """SkipTest where a ``ONE``-identity kernel cannot give these ids (-1
        leaves an id unchanged) or supplementary ``groups`` (setgroups is
        denied there): the call would fail where root's succeeds.  Before the
        first spawn any uid and gid will do: they become the identity."""
        if self.mode != ONE:
            return
        uid, gid = self.identity or (None, None)
        other = set(groups)
        if self.identity is not None:
            other |= ({u for u in uids if u not in (-1, uid)}
                      | {g for g in gids if g not in (-1, gid)})
        if other:
            have = "" if self.identity is None else f" besides uid {uid} gid {gid}"
            raise NeedsIds(
                f"{call} needs ids {sorted(other)}{have}: an unprivileged user "
                "namespace maps only the caller's own; run as root")

    def _adopt(self, reply, fds, limit):
        proc = HostProcess(self, _unwrap(reply), [socket.socket(fileno=fd) for fd in fds], limit)
        with self._lock:
            self._procs.append(proc)
        return proc

    def blocked(self):
        """As ``menios.Kernel.blocked``: threads of the served processes asleep
        in a scenario's syscall, read from ``/proc/PID/task/TID/{stat,syscall}``
        (a woken thread is runnable at once, so the count is exact the moment
        the waking call returns).  On a machine whose syscall numbers are not
        known here, -1.  With ``SUBIDS`` only the zygote, root of the user
        namespace, may read those files of processes of other ids: it counts."""
        if _SLEEP_CALLS is None:
            return -1
        with self._lock:
            procs = [(p.pid, p.limit) for p in self._procs if not p._dead]
            if self.mode != SUBIDS:
                proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
                try:
                    return _count_blocked(proc, procs)
                finally:
                    os.close(proc)
            if self._closed:
                return 0
            _send(self._zchan, ("blocked", procs, None))
            return _unwrap(_recv(self._zchan)[0])

    def wait_blocked(self, n=1, timeout=5.0):
        """As ``menios.Kernel.wait_blocked``; ``True`` at once where
        ``blocked()`` cannot tell (-1)."""
        if self.blocked() < 0:
            return True
        return wait_blocked(self, n, timeout)

    def ss(self, args=("-xa",)):
        """The output of iproute2's ``ss`` with ``args`` (a list of strings, or
        one string split as a shell does) run in this kernel's network
        namespace, from the host's root directory so that ``-p`` reads the
        host's /proc.  The served processes' channels live in another
        namespace (see ``_factory``): ss lists the scenario's sockets alone.
        ``unittest.SkipTest`` where ss is missing or there is no private
        network namespace."""
        if isinstance(args, str):
            args = shlex.split(args)
        path = shutil.which("ss")
        if path is None:
            raise unittest.SkipTest("iproute2's ss is not installed")
        if not self.netns:
            raise unittest.SkipTest("no private network namespace: ss would show the host's")
        with self._lock:
            if self._closed:
                raise _oserror(errno.ESRCH)
            _send(self._zchan, ("ss", (os.path.realpath(path), [str(a) for a in args]), None))
            reply = _recv(self._zchan)[0]
        if reply[0] == "skip":
            raise unittest.SkipTest(reply[1])
        out, err = _unwrap(reply)
        if err:
            raise RuntimeError("ss %s: %s" % (" ".join(args), err.decode(errors="replace")))
        return out.decode("utf-8", "surrogateescape")

    def gc(self):
        """Linux collects in-flight fd cycles asynchronously (a work item the
        last close queued): wait until it has freed what it will -- the
        sockets of this network namespace (``/proc/ZYGOTE/net/unix``) stay
        the same for 50 ms -- at most 2 s."""
        path = f"/proc/{self._zpid}/net/unix"

        def count():
            try:
                with open(path) as f:
                    return sum(1 for _ in f)
            except OSError:
                return -1
        deadline = time.monotonic() + 2
        last, stable = count(), 0
        while stable < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
            now = count()
            stable = stable + 1 if now == last else 0
            last = now

    def close(self):
        """Kill and reap every process, then remove the private tree."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for proc in self._procs:
            proc._shutdown()
        self._zchan.close()              # the zygote kills and reaps everything
        zfd = os.pidfd_open(self._zpid)
        if not select.select([zfd], [], [], 10)[0]:
            os.kill(self._zpid, signal.SIGKILL)
        os.close(zfd)
        os.waitpid(self._zpid, 0)
        for proc in self._procs:
            proc._release()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class HostProcess:
    """A served process.  Each ``Process`` syscall is a method (generated below)."""

    def __init__(self, kernel, pid, channels, limit):
        self.kernel = kernel
        self.pid = pid
        self.limit = limit              # RLIMIT_NOFILE: channels live at or above it
        self._pidfd = os.pidfd_open(pid)
        self._channels = channels
        self._free = list(channels)
        self._cond = threading.Condition()
        self._dead = False

    def __repr__(self):
        return f"<HostProcess pid={self.pid}{' exited' if self._dead else ''}>"

    def _request(self, name, args=(), kwargs=None):
        """Send one request; return (reply, fds).  ESRCH once the process is gone."""
        try:
            data = _pickle((name, _wire(args), _wire(kwargs or {})))
        except Exception as e:
            raise TypeError(f"{name}(): cannot pass {e}") from None
        with self._cond:
            while not self._free and not self._dead:
                self._cond.wait()
            if self._dead:
                raise _oserror(errno.ESRCH)
            chan = self._free.pop()
        try:
            _send(chan, None, pickled=data)
            return _recv(chan)
        except (EOFError, OSError):
            self._dead = True
            raise _oserror(errno.ESRCH) from None
        finally:
            with self._cond:
                self._free.append(chan)
                self._cond.notify()

    def _call(self, name, *args, **kwargs):
        return _unwrap(self._request(name, args, kwargs)[0])

    def recv_into(self, fd, buffer, nbytes=0, flags=0):
        """As socket.recv_into; the data is copied into ``buffer`` here."""
        view = memoryview(buffer).cast("B")
        if view.readonly:
            raise TypeError("recv_into() argument 'buffer' must be read-write bytes-like object")
        n, data = self._call("recv_into", fd, len(view), nbytes, flags)
        view[:len(data)] = data
        return n

    def recvmsg_into(self, fd, buffers, ancbufsize=0, flags=0):
        """As socket.recvmsg_into; the data is copied into ``buffers`` here."""
        views = [memoryview(b).cast("B") for b in buffers]
        if any(v.readonly for v in views):
            raise TypeError("recvmsg_into() argument 1 must be an iterable of "
                            "single-segment read-write buffers")
        res, datas = self._call("recvmsg_into", fd, [len(v) for v in views], ancbufsize, flags)
        for view, data in zip(views, datas):
            view[:] = data
        return res

    def vmsplice(self, fd, buffers, flags=0):
        """As menios's vmsplice; what a read end wrote into the writable
        ``buffers`` is copied into them here."""
        views = [memoryview(b).cast("B") for b in buffers]
        n, datas = self._call("vmsplice", fd, [bytes(v) for v in views], flags)
        for view, data in zip(views, datas):
            if not view.readonly:
                view[:] = data
        return n

    def setresuid(self, ruid, euid, suid):
        """setresuid(2) in the process."""
        self.kernel._ids("setresuid", uids=(ruid, euid, suid))
        return self._call("setresuid", ruid, euid, suid)

    def setresgid(self, rgid, egid, sgid):
        """setresgid(2) in the process."""
        self.kernel._ids("setresgid", gids=(rgid, egid, sgid))
        return self._call("setresgid", rgid, egid, sgid)

    def setgroups(self, groups):
        """setgroups(2) in the process."""
        groups = tuple(groups)
        self.kernel._ids("setgroups", groups=groups)
        return self._call("setgroups", groups)

    def chown(self, path, uid, gid):
        """chown(2) in the process."""
        self.kernel._ids("chown", uids=(uid,), gids=(gid,))
        return self._call("chown", path, uid, gid)

    def fork(self):
        """A new served process: same credentials, a copy of the fd table."""
        reply, fds = self._request("fork")
        return self.kernel._adopt(reply, fds, self.limit)

    def exit(self):
        """Exit (closing every fd); returns once the process is gone."""
        if self._dead:
            raise _oserror(errno.ESRCH)
        try:
            self._request("exit")
        except ProcessLookupError:
            pass
        select.select([self._pidfd], [], [], 10)
        self._dead = True

    def _shutdown(self):
        self._dead = True
        for chan in self._channels:
            try:
                chan.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _release(self):
        for chan in self._channels:
            chan.close()
        os.close(self._pidfd)


def _make_syscall(name):
    def syscall(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)
    syscall.__name__ = syscall.__qualname__ = name
    syscall.__doc__ = f"``{name}`` run in the process on the host kernel."
    return syscall


def _make_attr(name):
    return property(lambda self: self._call("attr", name), doc=f"The process's {name}.")


for _name in ("socket socketpair bind listen accept connect send sendto sendmsg send_fds "
              "recv recvfrom recvmsg recv_fds shutdown close getsockname getpeername "
              "getsockopt setsockopt poll ioctl open read write lseek pipe pipe2 fstat dup dup2 fcntl "
              "execve splice tee sendfile pidfd_open pidfd_getpid "
              "mkdir mkfifo mknod rmdir unlink rename link symlink readlink chmod stat lstat "
              "listdir chdir getcwd socket_inodes").split():
    setattr(HostProcess, _name, _make_syscall(_name))
for _name in "uid gid euid egid suid sgid groups umask cwd pending_signals".split():
    setattr(HostProcess, _name, _make_attr(_name))
del _name
