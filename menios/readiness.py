"""Readiness fds: host fds that stand for simulated socket fds.

``menios.socket`` objects hand out, as ``fileno()``, a host fd that host
``select``/``poll``/``epoll``/``selectors``/asyncio see readable and
writable exactly when the menios socket polls so (the C side,
csrc/kernel/net/unix/ready.c, keeps it in step from the core's wake-ups).
Each one stands for one fd of one simulated process: this module keeps the
map both ways, so that a readiness fd given back -- ``socket(fileno=...)``,
``fromfd``, ``SCM_RIGHTS`` data, ``os.read`` inside ``menios.patch`` --
reaches the same simulated fd.

A record lives until the simulated fd is closed through the socket layer
(``close``, ``os.close`` of the readiness fd inside a patch) or the socket
itself is released (its last fd closed, the process exited, the kernel
closed): then the host fd is closed too.  Arming costs a host socketpair;
sockets whose ``fileno()`` nobody asks for never get one.
"""
import threading

from . import _unix

_lock = threading.Lock()
_by_host = {}          # host fd -> _Record
_by_fd = {}            # (process, simulated fd) -> _Record
_by_file = {}          # Socket -> [_Record]


class _Record:
    __slots__ = ("proc", "fd", "file", "ready", "host")

    def __init__(self, proc, fd, file, ready):
        self.proc, self.fd, self.file, self.ready = proc, fd, file, ready
        self.host = ready.fd


def host_fd(proc, fd):
    """The readiness fd standing for ``fd`` of ``proc``, armed on first use.
    ``OSError(EBADF)`` for a closed fd, ``ENOTSOCK`` for a file that is not a
    socket."""
    key = (proc, fd)
    rec = _by_fd.get(key)
    if rec is not None:
        return rec.host
    f = proc.fdtable.fget(fd)
    try:
        if not isinstance(f, _unix.Socket):
            import errno
            import os
            raise OSError(errno.ENOTSOCK, os.strerror(errno.ENOTSOCK))
        with _lock:
            rec = _by_fd.get(key)
            if rec is None:
                rec = _Record(proc, fd, f, _unix.ReadyFd(f))
                _by_fd[key] = rec
                _by_host[rec.host] = rec
                _by_file.setdefault(f, []).append(rec)
    finally:
        f.fput()
    return rec.host


def lookup(host):
    """``(process, simulated fd)`` that readiness fd ``host`` stands for, or
    ``None`` when ``host`` is not one.  A record whose simulated fd was
    closed or reused behind the socket layer's back (``dup2`` over it,
    ``execve``) is dropped here."""
    rec = _by_host.get(host)
    if rec is None:
        return None
    try:
        f = rec.proc.fdtable.fget(rec.fd)
    except (OSError, ValueError):
        f = None
    if f is not None:
        f.fput()
    if f is not rec.file:
        with _lock:
            if _by_host.get(host) is rec:
                _drop(rec)
            else:
                rec = None
        if rec is not None:
            rec.ready.close()
        return None
    return rec.proc, rec.fd


def is_armed(proc, fd):
    return (proc, fd) in _by_fd


def _drop(rec):
    """Unmap ``rec`` (under _lock); the caller closes it."""
    _by_host.pop(rec.host, None)
    _by_fd.pop((rec.proc, rec.fd), None)
    recs = _by_file.get(rec.file)
    if recs is not None:
        recs.remove(rec)
        if not recs:
            del _by_file[rec.file]


def forget_fd(proc, fd):
    """``fd`` of ``proc`` is being closed: disarm its readiness fd, if any."""
    with _lock:
        rec = _by_fd.get((proc, fd))
        if rec is None:
            return
        _drop(rec)
    rec.ready.close()


def forget_file(file):
    """``file`` was released: disarm every readiness fd on it."""
    if file not in _by_file:
        return
    with _lock:
        recs = list(_by_file.get(file, ()))
        for rec in recs:
            _drop(rec)
    for rec in recs:
        rec.ready.close()


def forget_process(proc):
    """``proc`` exited: its fds are gone, and with them their readiness fds."""
    with _lock:
        recs = [rec for rec in _by_fd.values() if rec.proc is proc]
        for rec in recs:
            _drop(rec)
    for rec in recs:
        rec.ready.close()
