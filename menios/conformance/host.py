"""The host backend: the SPEC's ``Kernel``/``Process`` API run on the real kernel.

``HostKernel()`` mirrors ``menios.Kernel()``: ``spawn()`` gives a process whose
methods are syscalls, except that every call runs in a real forked child on
the real Linux kernel of this machine.  A scenario written against the SPEC
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
  ``fork``) creates its own channels while still single-threaded and sends
  the parent ends back as ``SCM_RIGHTS`` on the channel the request arrived
  on, so no process ever allocates an fd below its limit behind the
  scenario's back.
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
  kernel's), and a negative fd is ``EBADF``.

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
wait for a free channel.  Needs root (chroot, netns, credential changes):
otherwise ``HostKernel()`` raises ``unittest.SkipTest``.
"""

import array
import builtins
import ctypes
import errno
import faulthandler
import fcntl
import gc
import operator
import os
import pickle
import resource
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import unittest
import warnings

from ..kernel import wait_blocked

__all__ = ["HostKernel", "HostProcess", "NCHAN"]

#: Channels (and serving threads) per process: concurrent calls it can serve.
NCHAN = 8
_BADFD = 2**31 - 1               # an fd number that is never open
_MAXRECV = 1 << 24               # recv sizes are clamped to this
_RESERVE = 16 + 2 * NCHAN        # room above the limit for channels
_CLONE_NEWNET = 0x40000000
_PR_SET_CHILD_SUBREAPER = 36
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
        ("prctl", _int, [_int, _ulong, _ulong, _ulong, _ulong])):
    getattr(_libc, _name).restype = _restype
    getattr(_libc, _name).argtypes = _argtypes


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

    def __init__(self, limit, umask):
        self.limit = limit
        self.umask = umask
        self.pending = set()

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
        if _cint(flags) & ~(socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC):
            raise _oserror(errno.EINVAL)
        newfd, addr = self._on_sock(fd, "_accept")   # accept4(SOCK_CLOEXEC)
        os.set_inheritable(newfd, not flags & socket.SOCK_CLOEXEC)
        if flags & socket.SOCK_NONBLOCK:
            os.set_blocking(newfd, False)
        return newfd, addr

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
        return socket.send_fds(self._sock(fd), buffers, [self._fd(f) for f in fds],
                               flags, address)

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
        msg, fds, mflags, addr = socket.recv_fds(
            self._sock(fd), min(operator.index(bufsize), _MAXRECV), maxfds, flags)
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
        out = struct.unpack("i", fcntl.ioctl(self._fd(fd), request, struct.pack("i", arg)))[0]
        return 0 if request in _IOCTL_SETTERS else out

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

    # -- credentials and attributes
    def setresuid(self, ruid, euid, suid):
        os.setresuid(ruid, euid, suid)

    def setresgid(self, rgid, egid, sgid):
        os.setresgid(rgid, egid, sgid)

    def attr(self, name):
        uids, gids = os.getresuid(), os.getresgid()
        return {"uid": uids[0], "euid": uids[1], "suid": uids[2],
                "gid": gids[0], "egid": gids[1], "sgid": gids[2],
                "groups": tuple(os.getgroups()), "umask": self.umask,
                "cwd": os.getcwd(), "pending_signals": set(self.pending)}[name]

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
                        _become(chan.fileno(), self.limit, self.umask)
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
#: ioctls that only read their argument: they answer 0, as menios's do.
_IOCTL_SETTERS = frozenset({0x8901, 0x8902})    # FIOSETOWN, SIOCSPGRP


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


def _become(reply_fd, limit, umask, creds=None):
    """Turn a freshly forked, single-threaded process into a served one.

    Called in the child of the zygote (``creds`` = spawn arguments) or of a
    served process (``fork``).  Never returns.
    """
    try:
        # Sockets the parent process's other threads held die now, not later
        # when their numbers may have been reused.
        gc.collect()
        gc.disable()
        try:
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            if creds is not None:                 # root: make room above the limit
                os.setpgid(0, 0)
                hard = max(hard, limit + _RESERVE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            err_fd = os.dup(2 if creds is not None else sys.stderr.fileno())
            reply_fd, err_fd = _above(reply_fd, limit), _above(err_fd, limit)
            _close_fds_except({reply_fd, err_fd}, 0 if creds is not None else limit)
            sys.stdin = None
            sys.stdout = sys.stderr = open(err_fd, "w", encoding="utf-8", closefd=False)
            mine, theirs = [], []
            for _ in range(NCHAN):
                a, b = socket.socketpair()
                mine.append(socket.socket(fileno=_above(a.detach(), limit)))
                theirs.append(_above(b.detach(), limit))
            if creds is not None:
                os.chdir(creds["cwd"])
                os.setgroups(list(creds["groups"]))
                os.setresgid(creds["gid"], creds["gid"], creds["gid"])
                os.setresuid(creds["uid"], creds["uid"], creds["uid"])
                umask = creds["umask"]
                os.umask(umask)
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
        ops = _Ops(limit, umask)
        for c in mine[1:]:
            threading.Thread(target=ops.serve, args=(c,), daemon=True).start()
        ops.serve(mine[0])
    finally:
        os._exit(0)


def _zygote(chan_fd, root, sysctl):
    """Body of the per-kernel zygote (see the module docstring).  Never returns."""
    try:
        faulthandler.disable()
        warnings.simplefilter("ignore")
        chan = socket.socket(fileno=chan_fd)
        try:
            netns = _libc.unshare(_CLONE_NEWNET) == 0
            if netns:
                for key, value in sysctl.items():
                    with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                        f.write(str(value))
            _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
            outside = os.open(os.path.dirname(root), os.O_RDONLY | os.O_DIRECTORY)
            os.chroot(root)
            os.chdir("/")
        except OSError as e:
            _send(chan, ("err", e.errno))
            return
        _close_fds_except({chan_fd, 2, outside})
        _send(chan, ("ok", netns))
        groups = []
        while True:
            try:
                (_, _, creds), _ = _recv(chan)
            except (EOFError, OSError):
                break
            try:
                pid = os.fork()
            except OSError as e:
                _send(chan, ("err", e.errno))
                continue
            if pid == 0:
                _become(chan_fd, creds["rlimit_nofile"], 0, creds)
            groups.append(pid)
        for pgid in groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
        while True:                       # SIGCHLD ignored: returns when all are gone
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        os.fchdir(outside)                # even if the harness died: remove the tree
        shutil.rmtree(os.path.basename(root), ignore_errors=True)
    finally:
        os._exit(0)


# ----------------------------------------------------------- parent side

def _wire(obj):
    """Arguments made picklable (memoryviews become bytes)."""
    if isinstance(obj, memoryview):
        return obj.tobytes()
    if isinstance(obj, (list, tuple)):
        return type(obj)(_wire(x) for x in obj)
    return obj


class HostKernel:
    """A run on the host kernel: a private netns, root directory and processes.

    ``HostKernel(sysctl=None)``; use as a context manager or call ``close()``.
    ``netns`` tells whether the private network namespace could be made;
    ``root`` is the host path of the private tree.
    """

    def __init__(self, sysctl=None):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the host backend needs root (chroot, netns, "
                                    "setresuid to arbitrary ids)")
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
            _zygote(theirs.fileno(), self.root, netns_sysctl)
        theirs.close()
        self._zchan = ours
        try:
            self.netns = _unwrap(_recv(ours)[0])
            if netns_sysctl and not self.netns:
                raise unittest.SkipTest("sysctls need a private network namespace")
        except BaseException:
            self.close()
            raise
        if not self.netns:
            warnings.warn("host backend: no private network namespace "
                          "(unshare failed); abstract names are shared")

    def spawn(self, uid=0, gid=0, groups=(), umask=0o022, cwd="/", rlimit_nofile=1024):
        """A new process with these credentials, umask, cwd and fd limit."""
        creds = dict(uid=uid, gid=gid, groups=tuple(groups), umask=umask, cwd=cwd,
                     rlimit_nofile=rlimit_nofile)
        with self._lock:
            if self._closed:
                raise _oserror(errno.ESRCH)
            _send(self._zchan, ("spawn", (), _wire(creds)))
            reply, fds = _recv(self._zchan)
        return self._adopt(reply, fds, rlimit_nofile)

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
        known here, -1."""
        if _SLEEP_CALLS is None:
            return -1
        fd_calls, poll_calls = _SLEEP_CALLS
        with self._lock:
            procs = [p for p in self._procs if not p._dead]
        n = 0
        for proc in procs:
            base = f"/proc/{proc.pid}/task"
            try:
                tids = os.listdir(base)
            except OSError:
                continue            # exited
            for tid in tids:
                try:
                    with open(f"{base}/{tid}/stat") as f:
                        state = f.read().rpartition(")")[2].split()[0]
                    if state not in ("S", "D"):
                        continue
                    with open(f"{base}/{tid}/syscall") as f:
                        words = f.read().split()
                except OSError:
                    continue
                if len(words) < 2 or not words[0].isdigit():
                    continue        # "running", or not in a syscall
                nr, arg0 = int(words[0]), int(words[1], 16)
                if nr in poll_calls or (nr in fd_calls and arg0 < proc.limit):
                    n += 1
        return n

    def wait_blocked(self, n=1, timeout=5.0):
        """As ``menios.Kernel.wait_blocked``; ``True`` at once where
        ``blocked()`` cannot tell (-1)."""
        if self.blocked() < 0:
            return True
        return wait_blocked(self, n, timeout)

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
    """A served process.  Each SPEC syscall is a method (generated below)."""

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
              "getsockopt setsockopt poll ioctl open read write lseek pipe dup dup2 fcntl "
              "execve mkdir rmdir unlink rename link symlink readlink chmod chown stat lstat "
              "listdir chdir getcwd setresuid setresgid").split():
    setattr(HostProcess, _name, _make_syscall(_name))
for _name in "uid gid euid egid suid sgid groups umask cwd pending_signals".split():
    setattr(HostProcess, _name, _make_attr(_name))
del _name
