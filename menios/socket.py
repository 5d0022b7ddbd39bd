"""Socket objects shaped like the standard library's, for AF_UNIX on menios.

``menios.socket.socket`` has the methods, properties, exceptions, timeout
rules and context-manager behaviour of ``socket.socket``; each call is a
syscall of a simulated ``Process`` (``process=``, or the current process of
``menios.as_process``).  What the stdlib checks in its own C code before
the system call -- argument types, the ``AF_UNIX path too long`` length
check, a negative ``listen`` backlog -- is checked here the same way; what
the kernel checks, the process's syscall answers.

``fileno()`` is a host fd (a readiness fd, see :mod:`menios.readiness`)
that host ``select``/``poll``/``epoll``/``selectors`` and asyncio report
readable and writable exactly when the menios socket is; it stands for the
simulated fd, so ``socket(fileno=...)``, ``fromfd`` and ``SCM_RIGHTS`` data
given it reach the same socket.  It is made on the first ``fileno()``: a
socket nobody asks for one pays nothing.
"""
import array as _array
import errno as _errno
import io as _io
import math as _math
import operator as _operator
import os as _os
import socket as _std
import stat as _stat
import time as _time
import warnings as _warnings

from .constants import *  # noqa: F401,F403
from .constants import __all__ as _const_all
from .constants import (
    AF_UNIX, SOCK_STREAM, SOCK_NONBLOCK, SOCK_CLOEXEC, SOL_SOCKET, SO_TYPE,
    SO_DOMAIN, SO_PROTOCOL, O_NONBLOCK, F_GETFL, F_SETFL, F_GETFD, F_SETFD,
    FD_CLOEXEC, F_DUPFD_CLOEXEC, POLLIN, POLLOUT, SCM_RIGHTS, UNIX_PATH_MAX)
from .current import current_process, as_process  # noqa: F401 (re-exported)
from .process import Process
from . import _unix
from . import readiness as _readiness

# The stdlib's own exception aliases, timeout default and enums: one
# default timeout serves both modules, and an exception caught as
# ``socket.timeout`` is caught as ``menios.socket.timeout``.
error = _std.error
timeout = _std.timeout
herror = _std.herror
gaierror = _std.gaierror
AddressFamily = _std.AddressFamily
SocketKind = _std.SocketKind
getdefaulttimeout = _std.getdefaulttimeout
setdefaulttimeout = _std.setdefaulttimeout
SocketIO = _std.SocketIO

__all__ = ["socket", "SocketType", "socketpair", "fromfd", "send_fds", "recv_fds",
           "error", "timeout", "herror", "gaierror", "AddressFamily", "SocketKind",
           "getdefaulttimeout", "setdefaulttimeout", "SocketIO",
           "as_process", "current_process"] + list(_const_all)

_INT_MIN, _INT_MAX = -2**31, 2**31 - 1
_TYPE_FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC
_LISTEN_DEFAULT = min(_std.SOMAXCONN, 128)     # the stdlib's listen() default
_MISSING = object()


# ------------------------------------------------------------ argument parsing
def _c_int(value):
    """An argument the stdlib converts as a C ``int`` ("i")."""
    if value.__class__ is not int:
        value = _operator.index(value)
    if value > _INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if value < _INT_MIN:
        raise OverflowError("signed integer is less than minimum")
    return value


def _clinic_int(value):
    """A C ``int`` argument of a call the stdlib parses with Argument Clinic."""
    value = _operator.index(value)
    if not _INT_MIN <= value <= _INT_MAX:
        raise OverflowError("Python int too large to convert to C int")
    return value


def _c_long(value):
    """An argument the stdlib converts with ``PyLong_AsLong``."""
    value = _operator.index(value)
    if not -2**63 <= value < 2**63:
        raise OverflowError("Python int too large to convert to C long")
    return value


def _buffer(obj):
    """A bytes-like argument ("y*"): its bytes as a flat memoryview."""
    try:
        view = memoryview(obj)
    except TypeError:
        raise TypeError("a bytes-like object is required, not '%s'"
                        % type(obj).__name__) from None
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def _writable_size(buffer, name):
    """The size of a writable buffer argument ("w*")."""
    try:
        with memoryview(buffer) as view:
            if not view.readonly:
                return view.nbytes
    except TypeError:
        pass
    raise TypeError("%s() argument 1 must be read-write bytes-like object, not %s"
                    % (name, type(buffer).__name__))


def _address(addr):
    """An AF_UNIX address as the stdlib's getsockaddrarg parses it: a ``str``
    (encoded as os.fsencode does) or bytes-like path; ``OSError('AF_UNIX
    path too long')`` when it cannot fit ``sun_path`` (a path needs room for
    its NUL, an abstract name does not)."""
    if isinstance(addr, str):
        raw = _os.fsencode(addr)
    else:
        raw = _buffer(addr).tobytes()
    if len(raw) > UNIX_PATH_MAX or (len(raw) == UNIX_PATH_MAX and raw[:1] != b"\0"):
        raise OSError("AF_UNIX path too long")
    return raw


def _timeout_ns(value):
    """A timeout as ``settimeout`` reads it: ``None``, or nanoseconds
    (rounded up, as the stdlib's _PyTime_ROUND_TIMEOUT)."""
    if value is None:
        return None
    if isinstance(value, float):
        if _math.isnan(value):
            raise ValueError("Invalid value NaN (not a number)")
        ns = value * 1e9
        if not -2.0**63 <= ns < 2.0**63:
            raise OverflowError("timestamp out of range for platform time_t")
        ns = _math.ceil(ns)
    else:
        seconds = _operator.index(value)
        if not -2**63 <= seconds < 2**63 or not -2**63 <= seconds * 10**9 < 2**63:
            raise OverflowError("timestamp too large to convert to C _PyTime_t")
        ns = seconds * 10**9
    if ns < 0:
        raise ValueError("Timeout value out of range")
    return ns


def _ns_to_seconds(ns):
    """Nanoseconds back to the float ``gettimeout`` returns."""
    if ns % 10**9 == 0:
        return float(ns // 10**9)
    return ns / 1e9


def _ancillary_item(item):
    """One ``(level, type, data)`` item of ``sendmsg``'s ancdata, parsed as
    the stdlib parses it (any 3-item sequence)."""
    if not (hasattr(type(item), "__len__") and hasattr(type(item), "__getitem__")):
        raise TypeError("[sendmsg() ancillary data items]() argument must be "
                        "3-item sequence, not %s" % type(item).__name__)
    if len(item) != 3:
        raise TypeError("[sendmsg() ancillary data items]() argument must be "
                        "sequence of length 3, not %d" % len(item))
    return _c_int(item[0]), _c_int(item[1]), _buffer(item[2])


def _regular_fileno(file):
    """The host fd of a file object open on a regular file, else ``None``."""
    try:
        fileno = file.fileno()
        return fileno if _stat.S_ISREG(_os.fstat(fileno).st_mode) else None
    except (AttributeError, _io.UnsupportedOperation, OSError):
        return None


def _intenum(value, enum):
    try:
        return enum(value)
    except ValueError:
        return value


def _process(process):
    if process is None:
        process = current_process()
        if process is None:
            raise RuntimeError("no current menios process: pass process=p "
                               "or run inside menios.as_process(p)")
    elif not isinstance(process, Process):
        raise TypeError("process must be a menios.Process, not %r"
                        % type(process).__name__)
    return process


def _rights_out(proc, data, temps):
    """SCM_RIGHTS data as given to ``sendmsg``: readiness fds become the
    simulated fds they stand for, other numbers are the process's own fds
    (or, inside ``menios.patch``, host fds, installed for the call as
    temporary fds listed in ``temps``; see menios.patch)."""
    fds = _array.array("i")
    fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    changed = False
    for i, fd in enumerate(fds):
        found = _readiness.lookup(fd)
        if found is not None and found[0] is proc:
            fds[i] = found[1]
            changed = True
        elif _host_rights_out is not None:
            fds[i] = _host_rights_out(proc, fd)
            temps.append(fds[i])
            changed = True
    if not changed:
        return data
    return memoryview(fds.tobytes() + bytes(data[len(fds) * fds.itemsize:]))


def _rights_in(proc, ancdata):
    """``recvmsg``'s ancillary data with each received socket fd shown as
    its readiness fd (inside ``menios.patch`` a passed host file arrives as
    a new host fd)."""
    out = []
    for level, kind, data in ancdata:
        if level == SOL_SOCKET and kind == SCM_RIGHTS:
            fds = _array.array("i")
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
            for i, fd in enumerate(fds):
                fds[i] = _fd_in(proc, fd)
            data = fds.tobytes() + data[len(fds) * fds.itemsize:]
        out.append((level, kind, data))
    return out


def _fd_in(proc, fd):
    """The number user code gets for ``fd``, just installed in ``proc``."""
    f = proc.fdtable.fget(fd)
    try:
        is_sock = isinstance(f, _unix.Socket)
    finally:
        f.fput()
    if is_sock:
        return _readiness.host_fd(proc, fd)
    if _host_rights_in is not None:
        new = _host_rights_in(proc, fd)
        if new is not None:
            return new
    return fd


class _SimFd(int):
    """An fd the socket layer itself got from the process (accept, dup,
    socketpair): never a readiness fd, whatever its number."""
    __slots__ = ()


# Set by menios.patch while a patch is active: host fds in SCM_RIGHTS, and
# the directories a bind needs.
_host_rights_out = None
_host_rights_in = None
_bind_hook = None


# ------------------------------------------------------------------ the class
class socket:
    """A menios AF_UNIX socket with the interface of ``socket.socket``.

    ``socket(family=-1, type=-1, proto=-1, fileno=None, *, process=None)``:
    without ``fileno`` a new socket of ``process`` (``-1`` means ``AF_UNIX``,
    ``SOCK_STREAM`` and 0); with it, the socket open at that fd of
    ``process``, whose family, type and protocol are read from the socket
    (``SO_DOMAIN``, ``SO_TYPE``, ``SO_PROTOCOL``) where given as ``-1``.
    ``process=None`` is the current process (``menios.as_process``); without
    one, ``RuntimeError``.  A family other than ``AF_UNIX`` fails as the
    process's ``socket`` call does: ``OSError(EAFNOSUPPORT)``.
    """

    __slots__ = ("_proc", "_fd", "_host", "_family", "_type", "_proto", "_timeout",
                 "_closed", "_io_refs", "__weakref__")

    def __init__(self, family=-1, type=-1, proto=-1, fileno=None, *, process=None):
        self._fd = -1
        self._host = -1
        self._closed = False
        self._io_refs = 0
        self._timeout = None
        family, type, proto = _clinic_int(family), _clinic_int(type), _clinic_int(proto)
        if fileno.__class__ is _SimFd:
            fileno = int(fileno)
        elif fileno is not None:
            fileno = _clinic_int(fileno)
            found = _readiness.lookup(fileno)
            if found is not None and (process is None or process is found[0]):
                process = found[0]
                self._host, fileno = fileno, found[1]
        p = self._proc = _process(process)
        if fileno is None:
            if family == -1:
                family = AF_UNIX
            if type == -1:
                type = SOCK_STREAM
            if proto == -1:
                proto = 0
            fd = p.socket(family, type | SOCK_CLOEXEC, proto)
        else:
            fd = fileno
            if fd < 0:
                raise ValueError("negative file descriptor")
            if family == -1:
                family = p.getsockopt(fd, SOL_SOCKET, SO_DOMAIN)
            if type == -1:
                type = p.getsockopt(fd, SOL_SOCKET, SO_TYPE)
            if proto == -1:
                proto = p.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL)
        self._fd = fd
        self._family = family
        self._type = type & ~_TYPE_FLAGS
        self._proto = proto
        if type & SOCK_NONBLOCK:
            self._timeout = 0
        else:
            self._timeout = _timeout_ns(getdefaulttimeout())
            if self._timeout is not None:
                self._set_nonblock(True)

    # ------------------------------------------------------------ identity
    @property
    def family(self):
        """The address family, as ``socket.AddressFamily`` where it is one."""
        return _intenum(self._family, AddressFamily)

    @property
    def type(self):
        """The socket type without ``SOCK_NONBLOCK``/``SOCK_CLOEXEC``."""
        return _intenum(self._type, SocketKind)

    @property
    def proto(self):
        return self._proto

    @property
    def process(self):
        """The ``menios.Process`` whose fd this socket is."""
        return self._proc

    def fileno(self):
        """A host fd that event loops can wait on (see the module's
        docstring), standing for the socket's fd in its process; -1 once
        closed or detached."""
        if self._host < 0:
            if self._fd < 0:
                return -1
            self._host = _readiness.host_fd(self._proc, self._fd)
        return self._host

    def __repr__(self):
        text = "<%s.%s%s fd=%i, family=%s, type=%s, proto=%i" % (
            type(self).__module__, type(self).__qualname__,
            " [closed]" if self._closed else "", self.fileno(),
            self.family, self.type, self._proto)
        if not self._closed:
            for label, get in (("laddr", self.getsockname), ("raddr", self.getpeername)):
                try:
                    addr = get()
                except OSError:
                    continue
                if addr:
                    text += ", %s=%s" % (label, addr)
        return text + ">"

    def __getstate__(self):
        raise TypeError("cannot pickle %r object" % type(self).__name__)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        if not self._closed:
            self.close()

    def __del__(self):
        if getattr(self, "_fd", -1) == -1:
            return
        _warnings.warn("unclosed %r" % (self,), ResourceWarning, source=self)
        fd, self._fd = self._fd, -1
        try:
            self._proc.close(fd)
        except OSError:
            pass

    # ------------------------------------------------------ closing, fds
    def close(self):
        """Close the fd (once every ``makefile`` file is closed too).
        Idempotent; afterwards calls fail ``EBADF`` as the stdlib's do.  A
        process that has exited has closed its fds already: no error."""
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self):
        fd = self._fd
        if fd == -1:
            return
        self._fd = self._host = -1
        try:
            self._proc.close(fd)
        except ProcessLookupError:
            pass

    def detach(self):
        """Mark the object closed and return its fd (``fileno()``'s), which
        stays open."""
        fd = self.fileno()
        self._closed = True
        self._fd = self._host = -1
        return fd

    def dup(self):
        """A new socket object on a duplicate (close-on-exec) fd, with the
        same timeout."""
        fd = self._proc.fcntl(self._fd, F_DUPFD_CLOEXEC, 0)
        sock = type(self)(self._family, self._type, self._proto, fileno=_SimFd(fd),
                          process=self._proc)
        sock.settimeout(self.gettimeout())
        return sock

    def get_inheritable(self):
        return not self._proc.fcntl(self._fd, F_GETFD) & FD_CLOEXEC

    def set_inheritable(self, inheritable):
        flags = self._proc.fcntl(self._fd, F_GETFD)
        flags = flags & ~FD_CLOEXEC if inheritable else flags | FD_CLOEXEC
        self._proc.fcntl(self._fd, F_SETFD, flags)

    # ---------------------------------------------------------- timeouts
    def _set_nonblock(self, on):
        """O_NONBLOCK on the open file, as the stdlib's internal_setblocking."""
        flags = self._proc.fcntl(self._fd, F_GETFL)
        new = flags | O_NONBLOCK if on else flags & ~O_NONBLOCK
        if new != flags:
            self._proc.fcntl(self._fd, F_SETFL, new)

    def settimeout(self, value):
        """``None``: blocking; ``0``: non-blocking; a positive number of
        seconds: the fd is made non-blocking and each call waits for
        readiness with ``poll`` at most that long, then raises
        ``TimeoutError('timed out')``."""
        self._timeout = _timeout_ns(value)
        self._set_nonblock(self._timeout is not None)

    def gettimeout(self):
        if self._timeout is None:
            return None
        return _ns_to_seconds(self._timeout)

    timeout = property(gettimeout)

    def setblocking(self, flag):
        self._timeout = None if _c_long(flag) else 0
        self._set_nonblock(self._timeout is not None)

    def getblocking(self):
        return self._timeout != 0

    def _wait(self, events, call, *args, budget=None):
        """``call(fd, *args)`` under a timeout: try at once (the fd is
        non-blocking), and while it fails ``EAGAIN`` wait for ``events``
        with ``poll`` until ``budget`` nanoseconds (default: the timeout)
        have passed."""
        try:
            return call(self._fd, *args)
        except BlockingIOError as e:
            if e.errno != _errno.EAGAIN:
                raise
        deadline = _time.monotonic_ns() + (self._timeout if budget is None else budget)
        while True:
            fd = self._fd
            if fd >= 0:
                left = deadline - _time.monotonic_ns()
                if left < 0 or not self._proc.poll([(fd, events)], -(-left // 1000000)):
                    raise TimeoutError("timed out")
            try:
                return call(fd, *args)
            except BlockingIOError as e:
                if e.errno != _errno.EAGAIN:
                    raise

    # --------------------------------------------------------- addresses
    def bind(self, address):
        raw = _address(address)
        if _bind_hook is not None:
            _bind_hook(self._proc, raw)
        self._proc.bind(self._fd, raw)

    def listen(self, backlog=_LISTEN_DEFAULT):
        self._proc.listen(self._fd, max(_c_int(backlog), 0))

    def connect(self, address):
        """connect(2).  As on Linux, an AF_UNIX connect never returns
        ``EINPROGRESS``: a full backlog is ``EAGAIN`` (``BlockingIOError``)
        on a socket with a timeout too, as with the stdlib."""
        self._proc.connect(self._fd, _address(address))

    def connect_ex(self, address):
        """``connect``, returning 0 or the errno instead of raising it."""
        raw = _address(address)
        try:
            self._proc.connect(self._fd, raw)
        except OSError as e:
            if e.errno is None:
                raise
            return e.errno
        return 0

    def accept(self):
        """``(socket, address)`` for the next connection.  The new socket
        is blocking unless a default timeout is set (``setdefaulttimeout``)."""
        fd, addr = self._accept()
        sock = type(self)(self._family, self._type, self._proto, fileno=_SimFd(fd),
                          process=self._proc)
        if getdefaulttimeout() is None and self._timeout:
            sock.setblocking(True)
        return sock, addr

    def _accept(self):
        """``(fd, address)``: accept4 with ``SOCK_CLOEXEC``, as the stdlib's
        ``_accept``, under the socket's timeout."""
        if self._timeout:
            return self._wait(POLLIN, self._proc.accept, SOCK_CLOEXEC)
        return self._proc.accept(self._fd, SOCK_CLOEXEC)

    def getsockname(self):
        return self._proc.getsockname(self._fd)

    def getpeername(self):
        return self._proc.getpeername(self._fd)

    def shutdown(self, how):
        self._proc.shutdown(self._fd, _c_int(how))

    # ----------------------------------------------------------- options
    def getsockopt(self, level, optname, buflen=_MISSING, /):
        level, optname = _c_int(level), _c_int(optname)
        if buflen is _MISSING:
            return self._proc.getsockopt(self._fd, level, optname)
        return self._proc.getsockopt(self._fd, level, optname, _c_int(buflen))

    def setsockopt(self, level, optname, value, optlen=_MISSING, /):
        """``setsockopt(level, optname, value)`` with an int or bytes-like
        value; ``setsockopt(level, optname, None, optlen)`` passes a NULL
        value of ``optlen`` bytes, which a socket option cannot read:
        ``EINVAL`` when shorter than an int, else ``EFAULT``."""
        level, optname = _c_int(level), _c_int(optname)
        if optlen is not _MISSING:
            if value is not None:
                raise TypeError("setsockopt() takes exactly 3 arguments (4 given)")
            optlen = _operator.index(optlen) & 0xFFFFFFFF     # "I": wraps, as there
            # sock_setsockopt reads an int first; other levels refuse.
            self._proc.getsockopt(self._fd, SOL_SOCKET, SO_TYPE)     # EBADF, ENOTSOCK
            if level != SOL_SOCKET:
                raise OSError(_errno.EOPNOTSUPP, _os.strerror(_errno.EOPNOTSUPP))
            code = _errno.EINVAL if optlen < 4 else _errno.EFAULT
            raise OSError(code, _os.strerror(code))
        if isinstance(value, int) and _INT_MIN <= value <= _INT_MAX:
            value = int(value)
        else:
            value = _buffer(value).tobytes()
        self._proc.setsockopt(self._fd, level, optname, value)

    # ------------------------------------------------------------- sends
    def send(self, data, flags=0, /):
        flags = _c_int(flags)
        if self._timeout:
            return self._wait(POLLOUT, self._proc.send, data, flags)
        return self._proc.send(self._fd, data, flags)

    def sendall(self, data, flags=0, /):
        """Send all of ``data``; with a timeout, the whole call gets it."""
        view = _buffer(data)
        flags = _c_int(flags)
        total = len(view)
        sent = 0
        if not self._timeout:
            while True:
                sent += self._proc.send(self._fd, view[sent:], flags)
                if sent >= total:
                    return None
        deadline = _time.monotonic_ns() + self._timeout
        while True:
            left = deadline - _time.monotonic_ns()
            if left <= 0:
                raise TimeoutError("timed out")
            sent += self._wait(POLLOUT, self._proc.send, view[sent:], flags, budget=left)
            if sent >= total:
                return None

    def sendto(self, *args):
        """``sendto(data, address)`` or ``sendto(data, flags, address)``."""
        if len(args) == 2:
            data, address = args
            flags = 0
        elif len(args) == 3:
            data, flags, address = args
            flags = _c_int(flags)
        else:
            raise TypeError("sendto() takes 2 or 3 arguments (%d given)" % len(args))
        _buffer(data)
        raw = _address(address)
        if self._timeout:
            return self._wait(POLLOUT, self._proc.sendto, data, raw, flags)
        return self._proc.sendto(self._fd, data, raw, flags)

    def sendmsg(self, buffers, ancdata=(), flags=0, address=None, /):
        """sendmsg(2): ``ancdata`` is ``(level, type, data)`` items."""
        try:
            buffers = [_buffer(b) for b in buffers]
        except TypeError as e:
            if not hasattr(buffers, "__iter__"):
                raise TypeError("sendmsg() argument 1 must be an iterable") from None
            raise e from None
        try:
            items = list(ancdata)
        except TypeError:
            raise TypeError("sendmsg() argument 2 must be an iterable") from None
        anc = []
        temps = []
        try:
            for item in items:
                level, kind, data = _ancillary_item(item)
                if level == SOL_SOCKET and kind == SCM_RIGHTS:
                    data = _rights_out(self._proc, data, temps)
                anc.append((level, kind, data))
            flags = _c_int(flags)
            raw = None if address is None else _address(address)
            if self._timeout:
                return self._wait(POLLOUT, self._proc.sendmsg, buffers, anc, flags, raw)
            return self._proc.sendmsg(self._fd, buffers, anc, flags, raw)
        finally:
            for fd in temps:
                self._proc.close(fd)

    def sendfile(self, file, offset=0, count=None):
        """Send a binary file object's data from ``offset`` (``count`` bytes,
        or to its end) and leave the file's position after what was sent.
        A host file cannot be spliced into a simulated socket, so this is
        the stdlib's fallback path for files without a kernel sendfile: it
        reads the file and sends each block; non-blocking sockets are
        refused (``ValueError``), as there."""
        fileno = _regular_fileno(file)
        if fileno is not None:
            # os.sendfile reads a regular file at ``offset`` wherever its
            # position is, and sends nothing for an empty one.
            self._check_sendfile_params(file, offset, count)
            if not _os.fstat(fileno).st_size:
                return 0
            if self.gettimeout() == 0:
                raise ValueError("non-blocking sockets are not supported")
            file.seek(offset)
        return _std.socket._sendfile_use_send(self, file, offset, count)

    _check_sendfile_params = _std.socket._check_sendfile_params

    # ---------------------------------------------------------- receives
    def recv(self, bufsize, flags=0, /):
        flags = _c_int(flags)
        if self._timeout:
            return self._wait(POLLIN, self._proc.recv, bufsize, flags)
        return self._proc.recv(self._fd, bufsize, flags)

    def recv_into(self, buffer, nbytes=0, flags=0, /):
        flags = _c_int(flags)
        if self._timeout:
            return self._wait(POLLIN, self._proc.recv_into, buffer, nbytes, flags)
        return self._proc.recv_into(self._fd, buffer, nbytes, flags)

    def recvfrom(self, bufsize, flags=0, /):
        flags = _c_int(flags)
        if self._timeout:
            return self._wait(POLLIN, self._proc.recvfrom, bufsize, flags)
        return self._proc.recvfrom(self._fd, bufsize, flags)

    def recvfrom_into(self, buffer, nbytes=0, flags=0, /):
        size = _writable_size(buffer, "recvfrom_into")
        nbytes = _operator.index(nbytes)
        flags = _c_int(flags)
        if nbytes < 0:
            raise ValueError("negative buffersize in recvfrom_into")
        if nbytes > size:
            raise ValueError("nbytes is greater than the length of the buffer")
        if self._timeout:
            return self._wait(POLLIN, self._proc.recvfrom_into, buffer, nbytes, flags)
        return self._proc.recvfrom_into(self._fd, buffer, nbytes, flags)

    def recvmsg(self, bufsize, ancbufsize=0, flags=0, /):
        return self._recvmsg(self._proc.recvmsg, bufsize, ancbufsize, _c_int(flags))

    def recvmsg_into(self, buffers, ancbufsize=0, flags=0, /):
        return self._recvmsg(self._proc.recvmsg_into, buffers, ancbufsize, _c_int(flags))

    def _recvmsg(self, call, *args):
        """``call(fd, *args)`` (recvmsg or recvmsg_into) under the timeout,
        with the fds received shown as user code sees them (_rights_in)."""
        if self._timeout:
            r = self._wait(POLLIN, call, *args)
        else:
            r = call(self._fd, *args)
        if r[1]:
            r = (r[0], _rights_in(self._proc, r[1])) + r[2:]
        return r

    # ------------------------------------------------------------- files
    # The stdlib's makefile builds a SocketIO over this object; SocketIO
    # needs recv_into, send, fileno, gettimeout, _checkClosed-style state
    # (_closed, _io_refs) and _decref_socketios, all of which are here.
    makefile = _std.socket.makefile
    _decref_socketios = _std.socket._decref_socketios


SocketType = socket


def socketpair(family=None, type=SOCK_STREAM, proto=0, *, process=None):
    """Two connected socket objects of ``process`` (``family=None`` is
    ``AF_UNIX``)."""
    if family is None:
        family = AF_UNIX
    family, type, proto = _c_int(family), _c_int(type), _c_int(proto)
    p = _process(process)
    a, b = p.socketpair(family, type | SOCK_CLOEXEC, proto)
    try:
        return (socket(family, type, proto, _SimFd(a), process=p),
                socket(family, type, proto, _SimFd(b), process=p))
    except BaseException:
        p.close(a)
        p.close(b)
        raise


def fromfd(fd, family, type, proto=0, *, process=None):
    """A socket object on a duplicate (close-on-exec) of ``fd`` (a readiness
    fd, or an fd of the process)."""
    fd = _c_int(fd)
    found = _readiness.lookup(fd)
    if found is not None and (process is None or process is found[0]):
        process, fd = found
    p = _process(process)
    nfd = p.fcntl(fd, F_DUPFD_CLOEXEC, 0)
    try:
        return socket(family, type, proto, _SimFd(nfd), process=p)
    except BaseException:
        p.close(nfd)
        raise


def send_fds(sock, buffers, fds, flags=0, address=None):
    """The stdlib's ``send_fds`` over ``sock.sendmsg``: ``fds`` are fds of
    the socket's process, sent as one ``SCM_RIGHTS`` message."""
    return _std.send_fds(sock, buffers, fds, flags, address)


def recv_fds(sock, bufsize, maxfds, flags=0):
    """The stdlib's ``recv_fds`` over ``sock.recvmsg``: ``(data, fds,
    msg_flags, address)`` with the fds installed in the socket's process."""
    return _std.recv_fds(sock, bufsize, maxfds, flags)

