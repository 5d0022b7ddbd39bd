"""``menios.patch()``: run ordinary code's AF_UNIX sockets on menios.

Inside ``with menios.patch() as k:`` (or under ``@menios.patch()``):

* ``socket.socket(AF_UNIX, ...)``, ``socket.socketpair()`` (except an
  asyncio loop's self-pipe, which ``signal.set_wakeup_fd`` writes into) and
  ``socket.fromfd``/``socket.socket(fileno=...)`` of a menios socket's
  ``fileno()`` make ``menios.socket`` objects of the patch's process;
  ``socket.send_fds``/``recv_fds`` (which call ``sendmsg``/``recvmsg``)
  work on them unchanged.  Every other family, and any fd that is not a
  menios readiness fd, is the host's, untouched.  ``isinstance(s,
  socket.socket)`` holds for both kinds.
* ``os.unlink``, ``os.remove``, ``os.stat``, ``os.lstat``, ``os.chmod``,
  ``os.chown``, ``os.rename`` (and what is built on them, such as
  ``os.path.exists``) act on menios's VFS when the path names a socket file
  there, and on the host's otherwise.  ``os.read``, ``os.write`` and
  ``os.close`` of a menios socket's ``fileno()`` are menios's ``read``,
  ``write`` and ``close`` (``multiprocessing.connection`` works on fds that
  way; the default arguments its ``Connection`` bound to them at import are
  rebound for the patch, as pyfakefs's ``patch_default_args`` does).
* A ``bind`` to a path under a host directory that menios's VFS lacks
  first makes that directory chain in menios, each directory with the
  host's mode and owner, so programs that bind under ``mkdtemp()`` work.
  The process starts in the host's current directory (made the same way),
  so relative names resolve as on the host.
* Host fds passed with ``SCM_RIGHTS`` (a pipe, a file) travel as open
  files (:class:`HostFile`: a menios file over a duplicate of the host fd)
  and arrive as new host fds.
* Threads started inside run as the patch's process unless
  ``menios.as_process(p)`` says otherwise.

It yields the ``Kernel`` (a new one, closed on exit, unless ``kernel`` is
given) and runs as a process of it with ``uid``/``gid`` (default: the
host's effective ids) and the host's umask.  Patches do not nest.
"""
import errno
import functools
import os
import select
import socket as _std
import stat
import sys
import threading

from . import _unix, current, fdcalls, readiness
from . import socket as msocket

_std_socket = _std.socket
_lock = threading.Lock()
_active = None          # the active patch

# The host's functions, as they are outside a patch.
_os_orig = {name: getattr(os, name) for name in (
    "unlink", "remove", "stat", "lstat", "chmod", "chown", "rename", "read", "write", "close")}


class HostFile(_unix.File):
    """A host fd as a menios open file, for ``SCM_RIGHTS``: it owns a
    duplicate of the host fd (closed when the file is released) and reads,
    writes and polls it."""

    def __init__(self, fd):
        self.hostfd = os.dup(fd)

    def read(self, proc, n):
        return _os_orig["read"](self.hostfd, n)

    def write(self, proc, data):
        return _os_orig["write"](self.hostfd, data)

    def fstat(self):
        return os.fstat(self.hostfd)

    def poll_mask(self):
        p = select.poll()
        p.register(self.hostfd, select.POLLIN | select.POLLOUT | select.POLLPRI)
        got = p.poll(0)
        return got[0][1] if got else 0

    def release(self):
        fd, self.hostfd = self.hostfd, -1
        if fd >= 0:
            _os_orig["close"](fd)


# ------------------------------------------------------------- socket module
class _SocketMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, (_std_socket, msocket.socket))

    def __subclasscheck__(cls, sub):
        return issubclass(sub, (_std_socket, msocket.socket))


class _PatchedSocket(_std_socket, metaclass=_SocketMeta):
    """``socket.socket`` inside a patch: AF_UNIX (and a menios socket's
    fileno) make menios sockets, everything else the host's."""

    __slots__ = ()

    def __new__(cls, family=-1, type=-1, proto=-1, fileno=None):
        if fileno is not None:
            if isinstance(fileno, int) and readiness.lookup(fileno) is not None:
                return msocket.socket(family, type, proto, fileno)
        elif family == _std.AF_UNIX:
            return msocket.socket(family, type, proto)
        return _std_socket(family, type, proto, fileno)


def _socketpair(family=None, type=_std.SOCK_STREAM, proto=0):
    if (family is None or family == _std.AF_UNIX) and not _is_loop_self_pipe():
        return msocket.socketpair(family, type, proto)
    return _orig_socketpair(family, type, proto)


def _is_loop_self_pipe():
    """Called from an asyncio loop making its self-pipe?  That stays the
    host's: signal.set_wakeup_fd writes into it from C, below any socket
    object, and it is the loop's own plumbing, not the code under test."""
    mod = sys.modules.get("asyncio.selector_events")
    if mod is None:
        return False
    code = mod.BaseSelectorEventLoop._make_self_pipe.__code__
    return sys._getframe(2).f_code is code


def _fromfd(fd, family, type, proto=0):
    if isinstance(fd, int) and readiness.lookup(fd) is not None:
        return msocket.fromfd(fd, family, type, proto)
    return _orig_fromfd(fd, family, type, proto)


_orig_socketpair = _std.socketpair
_orig_fromfd = _std.fromfd


# -------------------------------------------------------------------- paths
def _abs(path):
    path = os.fspath(path)
    if isinstance(path, bytes):
        return path if path.startswith(b"/") else os.path.join(os.getcwd().encode(), path)
    return path if path.startswith("/") else os.path.join(os.getcwd(), path)


def _menios_socket_path(path):
    """The absolute path if ``path`` names a socket file in the patch's VFS."""
    pt = _active
    if pt is None or isinstance(path, int):
        return None
    try:
        full = _abs(path)
        st = pt.proc.lstat(full)
    except (OSError, TypeError, ValueError):
        return None
    return full if stat.S_ISSOCK(st.st_mode) else None


def _path_call(name, menios_call):
    orig = _os_orig[name]

    @functools.wraps(orig)
    def call(path, *args, **kwargs):
        full = _menios_socket_path(path)
        if full is None or kwargs.get("dir_fd") is not None:
            return orig(path, *args, **kwargs)
        return menios_call(_active.proc, full, *args,
                           follow_symlinks=kwargs.get("follow_symlinks", True))
    return call


def _m_stat(proc, path, follow_symlinks=True):
    return proc.stat(path) if follow_symlinks else proc.lstat(path)


def _m_chmod(proc, path, mode, follow_symlinks=True):
    proc.chmod(path, mode)


def _m_chown(proc, path, uid, gid, follow_symlinks=True):
    proc.chown(path, uid, gid)


def _m_rename(proc, src, dst, follow_symlinks=True):
    proc.rename(src, _abs(dst))


def _m_unlink(proc, path, follow_symlinks=True):
    proc.unlink(path)


def _m_lstat(proc, path, follow_symlinks=True):
    return proc.lstat(path)


def _fd_call(name, menios_call):
    orig = _os_orig[name]

    @functools.wraps(orig)
    def call(fd, *args):
        if readiness._by_host:
            found = readiness.lookup(fd)
            if found is not None:
                return menios_call(found[0], found[1], *args)
        return orig(fd, *args)
    return call


def _m_close(proc, fd):
    proc.close(fd)


_PATCHED_OS = {
    "unlink": _path_call("unlink", _m_unlink),
    "remove": _path_call("remove", _m_unlink),
    "stat": _path_call("stat", _m_stat),
    "lstat": _path_call("lstat", _m_lstat),
    "chmod": _path_call("chmod", _m_chmod),
    "chown": _path_call("chown", _m_chown),
    "rename": _path_call("rename", _m_rename),
    "read": _fd_call("read", lambda p, fd, n: p.read(fd, n)),
    "write": _fd_call("write", lambda p, fd, data: p.write(fd, data)),
    "close": _fd_call("close", _m_close),
}


def _make_dirs(pt, directory):
    """Make ``directory``'s chain in menios where it is missing, each with
    the host directory's mode and owner (made by the patch's root)."""
    parts = [x for x in directory.split(b"/") if x]
    path = b""
    for part in parts:
        path += b"/" + part
        try:
            pt.root.lstat(path)
            continue
        except FileNotFoundError:
            pass
        try:
            st = _os_orig["stat"](path)     # the host's directory
        except OSError:
            return                      # no host directory either: bind fails as it would
        if not stat.S_ISDIR(st.st_mode):
            return
        pt.root.mkdir(path, 0o700)
        pt.root.chown(path, st.st_uid, st.st_gid)
        pt.root.chmod(path, stat.S_IMODE(st.st_mode))


def _bind_hook(proc, raw):
    pt = _active
    if pt is None or not raw or raw[:1] == b"\0":
        return
    full = raw if raw.startswith(b"/") else os.path.join(os.getcwd().encode(), raw)
    _make_dirs(pt, os.path.dirname(full))


def _host_rights_out(proc, fd):
    """A host fd given in SCM_RIGHTS: install a HostFile for it in ``proc``
    (a temporary fd the caller closes once the message holds the file)."""
    try:
        os.fstat(fd)
    except OSError:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF)) from None
    f = HostFile(fd)
    new = proc.fdtable.reserve(proc.rlimit_nofile, 0, True)
    fdcalls.install(proc, new, f)
    return new


def _host_rights_in(proc, fd):
    """A received HostFile arrives as a new host fd (its simulated fd closes)."""
    f = proc.fdtable.fget(fd)
    try:
        if not isinstance(f, HostFile):
            return None
        new = os.dup(f.hostfd)
    finally:
        f.fput()
    proc.close(fd)
    return new


def _rebind_defaults(saved):
    """Default arguments bound at import to the host's os.read/write/close
    (multiprocessing.connection.Connection's) point at the patched ones."""
    mod = sys.modules.get("multiprocessing.connection")
    if mod is None or not hasattr(mod, "Connection"):
        return
    originals = {id(v): k for k, v in _os_orig.items()}
    for attr in ("_send", "_recv", "_close"):
        fn = getattr(mod.Connection, attr, None)
        defaults = getattr(fn, "__defaults__", None)
        if not defaults:
            continue
        new = tuple(_PATCHED_OS[originals[id(d)]] if id(d) in originals else d
                    for d in defaults)
        if new != defaults:
            saved.append((fn, defaults))
            fn.__defaults__ = new


# -------------------------------------------------------------------- patch
class patch:
    """``menios.patch(kernel=None, *, uid=None, gid=None)``: a context
    manager (yielding the Kernel) and a decorator; see the module's
    docstring."""

    def __init__(self, kernel=None, *, uid=None, gid=None):
        self.kernel = kernel
        self.uid, self.gid = uid, gid
        self._own = False
        self.proc = self.root = None

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with patch(self.kernel, uid=self.uid, gid=self.gid):
                return fn(*args, **kwargs)
        return wrapper

    def __enter__(self):
        global _active
        from .kernel import Kernel
        with _lock:
            if _active is not None:
                raise RuntimeError("menios.patch does not nest")
            _active = self
        try:
            if self.kernel is None:
                self.kernel = Kernel()
                self._own = True
            k = self.kernel
            uid = os.geteuid() if self.uid is None else self.uid
            gid = os.getegid() if self.gid is None else self.gid
            self.root = k.spawn(comm="menios-patch")
            mask = os.umask(0o022)
            os.umask(mask)
            self.proc = k.spawn(uid=uid, gid=gid, umask=mask)
            cwd = os.getcwd().encode()
            _make_dirs(self, cwd)
            try:
                self.proc.chdir(cwd)
            except OSError:
                pass
            self._install()
        except BaseException:
            self._uninstall()
            self._finish()
            raise
        return self.kernel

    def __exit__(self, *exc):
        self._uninstall()
        self._finish()

    def _install(self):
        self._saved_defaults = []
        self._prev_current = current.set_fallback(self.proc)
        _std.socket = _PatchedSocket
        _std.socketpair = _socketpair
        _std.fromfd = _fromfd
        for name, fn in _PATCHED_OS.items():
            setattr(os, name, fn)
        msocket._host_rights_out = _host_rights_out
        msocket._host_rights_in = _host_rights_in
        msocket._bind_hook = _bind_hook
        _rebind_defaults(self._saved_defaults)
        self._installed = True

    def _uninstall(self):
        if not getattr(self, "_installed", False):
            return
        self._installed = False
        for fn, defaults in self._saved_defaults:
            fn.__defaults__ = defaults
        msocket._host_rights_out = msocket._host_rights_in = msocket._bind_hook = None
        for name, fn in _os_orig.items():
            setattr(os, name, fn)
        _std.socket = _std_socket
        _std.socketpair = _orig_socketpair
        _std.fromfd = _orig_fromfd
        current.set_fallback(self._prev_current)

    def _finish(self):
        global _active
        try:
            for p in (self.proc, self.root):
                if p is not None:
                    p.exit()
            if self._own and self.kernel is not None:
                self.kernel.close()
                self.kernel = None
        finally:
            with _lock:
                _active = None
