"""A simulated process: credentials, cwd, umask, an fd table, and every
syscall as a method.  Failures raise ``OSError(errno, strerror)``."""
import array
import contextlib
import errno
import operator
import os
import stat
import struct

from . import _unix
from .constants import (
    AF_UNIX, AF_UNSPEC, SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_NONBLOCK, SOCK_CLOEXEC,
    SOL_SOCKET, SCM_RIGHTS, SCM_CREDENTIALS, SCM_MAX_FD, SO_PASSCRED, SO_PEERCRED,
    SO_RCVTIMEO, SO_SNDTIMEO, SO_TYPE, SO_DEBUG, SO_SNDBUFFORCE, SO_RCVBUFFORCE,
    MSG_NOSIGNAL, MSG_CTRUNC, MSG_OOB,
    MSG_CMSG_CLOEXEC, MSG_TRUNC, O_NONBLOCK, O_CLOEXEC, O_ACCMODE, O_APPEND, F_DUPFD,
    F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_SETOWN, F_GETOWN, FD_CLOEXEC,
    FIOSETOWN, SIOCSPGRP, FIOGETOWN, SIOCGPGRP, POLLNVAL, SIGPIPE, SOMAXCONN, UNIX_PATH_MAX)
from .cred import Cred
from .files import PipeEnd, VfsFile, make_pipe

_Socket = _unix.Socket
_SigPipe = _unix.SigPipe
_UCRED = struct.Struct("3i")
_TIMEVAL = struct.Struct("qq")
_HZ = 250                       # Linux's jiffies on the reference kernel
_JIFFY_NS = 1000000000 // _HZ
_CMSG_HDR = 16                  # sizeof(struct cmsghdr) on 64-bit Linux
_OVERFLOW_ID = 65534            # what an absent uid/gid reads as
_FIONREAD = 0x541B
_INT_MIN, _INT_MAX = -2**31, 2**31 - 1


def _cint(value):
    """An int argument that must fit a C int, as the stdlib converts it."""
    value = _fd(value)
    if not _INT_MIN <= value <= _INT_MAX:
        raise OverflowError("signed integer is %s than %s" % (
            ("greater", "maximum") if value > 0 else ("less", "minimum")))
    return value


def _err(code):
    return OSError(code, os.strerror(code))


def _fd(fd):
    """An fd argument, as the stdlib converts it."""
    if type(fd) is int:
        return fd
    try:
        return operator.index(fd)
    except TypeError:
        raise TypeError("an integer is required (got type %s)" % type(fd).__name__) from None


#: The most sun_path bytes a sendto/sendmsg address can carry: the syscall
#: layer copies at most a sockaddr_storage (128 bytes) in, sun_family included.
_DEST_PATH_MAX = 128 - 2


def _dest(addr):
    """A sendto/sendmsg destination as move_addr_to_kernel copies it in:
    None, or the sun_path bytes; EINVAL beyond a sockaddr_storage.  The
    AF_UNIX checks come later, where each socket type makes them."""
    if addr is None:
        return None
    raw = _addr_bytes(addr)
    if len(raw) > _DEST_PATH_MAX:
        raise _err(errno.EINVAL)
    return raw


def _addr_bytes(addr):
    """The sun_path bytes of an AF_UNIX address (str or bytes-like)."""
    if isinstance(addr, str):
        raw = os.fsencode(addr)
    elif isinstance(addr, (bytes, bytearray, memoryview)):
        raw = bytes(addr)
    else:
        raise TypeError("a bytes-like object or str is required for an AF_UNIX address, "
                        "not '%s'" % type(addr).__name__)
    return raw


def _sockaddr(addr):
    """The sun_path bytes of a bind/connect address: EINVAL past sun_path."""
    raw = _addr_bytes(addr)
    if len(raw) > UNIX_PATH_MAX:
        raise _err(errno.EINVAL)
    return raw


def _decode_name(raw):
    """A stored name as the stdlib returns it."""
    if raw is None:
        return None
    if raw[:1] == b"\0":
        return raw
    return os.fsdecode(raw.split(b"\0", 1)[0])


class Process(_unix.ProcessBase):
    """A simulated process.  Create with ``Kernel.spawn`` or ``fork``."""

    def __init__(self, kernel, uid=0, gid=0, groups=(), umask=0o022, cwd="/",
                 rlimit_nofile=1024, _parent=None):
        self.kernel = kernel
        self.pending_signals = set()
        self.alive = True
        if _parent is None:
            self.cred = Cred(uid, gid, groups)
            self.umask = umask & 0o777
            self._cwd = kernel.vfs.root
            self.rlimit_nofile = rlimit_nofile
        else:
            self.cred = _parent.cred.copy()
            self.umask = _parent.umask
            self._cwd = _parent._cwd
            self.rlimit_nofile = _parent.rlimit_nofile
            self.fdtable.fork_from(_parent.fdtable)
        self.pid = kernel._alloc_pid(self)
        # Each spawned process leads its own process group; a child stays in
        # its parent's (only F_SETOWN's negative owners look at groups).
        self.pgid = self.pid if _parent is None else _parent.pgid
        self._update_creds()
        if _parent is None and cwd not in ("/", b"/"):
            self.chdir(cwd)

    # -------------------------------------------------------------- ids
    def _update_creds(self):
        c = self.cred
        self._scm = (self.pid, c.uid, c.gid)          # SCM_CREDENTIALS default
        self._peer = (self.pid, c.euid, c.egid)       # SO_PEERCRED

    uid = property(lambda self: self.cred.uid)
    gid = property(lambda self: self.cred.gid)
    euid = property(lambda self: self.cred.euid)
    egid = property(lambda self: self.cred.egid)
    suid = property(lambda self: self.cred.suid)
    sgid = property(lambda self: self.cred.sgid)
    groups = property(lambda self: tuple(self.cred.groups))

    @property
    def cwd(self):
        return self.kernel.vfs.path_of(self._cwd)

    def _check_alive(self):
        if not self.alive:
            raise _err(errno.ESRCH)

    def setresuid(self, ruid, euid, suid):
        self._check_alive()
        self.cred.setresuid(ruid, euid, suid)
        self._update_creds()

    def setresgid(self, rgid, egid, sgid):
        self._check_alive()
        self.cred.setresgid(rgid, egid, sgid)
        self._update_creds()

    def setgroups(self, groups):
        self._check_alive()
        self.cred.setgroups(groups)

    # ---------------------------------------------------------- lifetime
    def fork(self):
        """A child with a new pid, the same credentials and a copy of the fd
        table sharing the open file descriptions."""
        self._check_alive()
        return Process(self.kernel, _parent=self)

    def exit(self):
        """Close every fd, as a dying process does.  Idempotent."""
        if not self.alive:
            return
        self.alive = False
        self.fdtable.close_all()
        with self.kernel.lock:
            self.kernel.processes.pop(self.pid, None)

    def execve(self):
        """Close the fds marked close-on-exec."""
        self._check_alive()
        self.fdtable.close_on_exec()

    def _raise_sigpipe(self):
        self.pending_signals.add(SIGPIPE)

    # ----------------------------------------------------------- fd table
    def _install(self, fd, f):
        """fd_install ``f`` in the reserved ``fd``; if the process exited
        meanwhile, drop ``f`` and fail ESRCH."""
        try:
            self.fdtable.install(fd, f)
        except OSError:
            f.fput()
            raise

    def _reserve_two(self, cloexec=False):
        """Two fds for socketpair or pipe (both or EMFILE), as Linux takes
        them before installing either end."""
        fdt = self.fdtable
        fd1 = fdt.reserve(self.rlimit_nofile, 0, cloexec)
        try:
            fd2 = fdt.reserve(self.rlimit_nofile, 0, cloexec)
        except BaseException:
            fdt.unreserve(fd1)
            raise
        return fd1, fd2

    def _install_two(self, fd1, f1, fd2, f2):
        """Install both ends that ``_reserve_two`` made room for; if the
        process exited meanwhile, drop what is not installed and fail ESRCH."""
        try:
            self._install(fd1, f1)
        except OSError:
            f2.fput()
            raise
        self._install(fd2, f2)

    def close(self, fd):
        """Close an fd; the open file goes when its last reference does."""
        self._file(fd)
        self.fdtable.close(_fd(fd))

    def dup(self, fd):
        self._file(fd)
        return self.fdtable.dup(_fd(fd), self.rlimit_nofile)

    def dup2(self, fd, fd2):
        self._file(fd)
        fd, fd2 = _fd(fd), _fd(fd2)
        if fd2 < 0 or fd2 >= self.rlimit_nofile:
            raise _err(errno.EBADF)
        return self.fdtable.dup2(fd, fd2, self.rlimit_nofile)

    def fcntl(self, fd, cmd, arg=0):
        with self._hold(fd) as f:
            fd = _fd(fd)
            if cmd == F_GETFD:
                return FD_CLOEXEC if self.fdtable.get_cloexec(fd) else 0
            if cmd == F_SETFD:
                self.fdtable.set_cloexec(fd, arg & FD_CLOEXEC)
                return 0
            if cmd == F_GETFL:
                return f.f_flags
            if cmd == F_SETFL:
                f.f_flags = (f.f_flags & ~(O_NONBLOCK | O_APPEND)) | (arg & (O_NONBLOCK | O_APPEND))
                return 0
            if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
                if arg < 0 or arg >= self.rlimit_nofile:
                    raise _err(errno.EINVAL)
                return self.fdtable.dup(fd, self.rlimit_nofile, arg, cmd == F_DUPFD_CLOEXEC)
            if cmd == F_SETOWN:
                self._setown(f, _cint(arg))
                return 0
            if cmd == F_GETOWN:
                return f.getown()
            raise _err(errno.EINVAL)

    def _setown(self, f, who):
        """Linux's f_setown: ``who`` > 0 a process, < 0 a process group, 0
        nobody; ESRCH when no process or group has that id.  The caller's
        uid/euid are kept for the permission check when a signal is sent."""
        if who == _INT_MIN:
            raise _err(errno.EINVAL)
        if who and not self.kernel._pid_in_use(abs(who)):
            raise _err(errno.ESRCH)
        f.setown(who, self.cred.uid, self.cred.euid)

    # ------------------------------------------------------------ sockets
    def socket(self, family=AF_UNIX, type=SOCK_STREAM, proto=0):
        """A new socket fd.  EAFNOSUPPORT for a family other than AF_UNIX.
        As __sys_socket checks: the flags, then sock_create's checks and
        the socket's own, then a free fd (EMFILE)."""
        self._check_alive()
        family, type, proto = _fd(family), _fd(type), _fd(proto)
        _check_sock_flags(type)
        _check_sock_create(family, type)
        s = _Socket(self.kernel.net, type, proto)
        self._setup_socket(s, type)
        try:
            return self.fdtable.alloc(s, self.rlimit_nofile, 0, type & SOCK_CLOEXEC)
        except OSError:
            s.fput()
            raise

    def _setup_socket(self, s, flags):
        if flags & SOCK_NONBLOCK:
            s.f_flags = O_NONBLOCK | 2
        else:
            s.f_flags = 2                                # O_RDWR
        s.on_release = self.kernel._on_socket_release

    def socketpair(self, family=AF_UNIX, type=SOCK_STREAM, proto=0):
        """Two connected sockets.  As __sys_socketpair checks: the flags,
        then two free fds (EMFILE), then sock_create's checks and the
        socket's own."""
        self._check_alive()
        family, type, proto = _fd(family), _fd(type), _fd(proto)
        _check_sock_flags(type)
        fd1, fd2 = self._reserve_two(type & SOCK_CLOEXEC)
        a = b = None
        try:
            _check_sock_create(family, type)
            a = _Socket(self.kernel.net, type, proto)
            b = _Socket(self.kernel.net, type, proto)
            self._setup_socket(a, type)
            self._setup_socket(b, type)
            a.socketpair_with(b, self._peer)
        except BaseException:
            for s in (a, b):
                if s is not None:
                    s.fput()
            self.fdtable.unreserve(fd1)
            self.fdtable.unreserve(fd2)
            raise
        self._install_two(fd1, a, fd2, b)
        return fd1, fd2

    def _autobind(self, s):
        name = self.kernel._autobind_name(s.type)
        s.bind(name)
        s.name_key = (name, s.type)
        self.kernel.abstract[s.name_key] = s

    def _maybe_autobind(self, s):
        """SO_PASSCRED on an unbound socket autobinds it on connect/send."""
        if s.getsockopt(SOL_SOCKET, SO_PASSCRED) and not s.getname(False):
            with self.kernel.lock:
                if not s.getname(False):
                    self._autobind(s)

    def bind(self, fd, addr):
        """Bind to a path (creates an S_IFSOCK inode), an abstract name (leading
        NUL) or, with an empty address, an autobound abstract name."""
        with self._hold_sock(fd) as s:
            raw = _sockaddr(addr)
            k = self.kernel
            if not raw:
                with k.lock:
                    if s.getname(False):
                        return None                           # already bound: nothing to do
                    self._autobind(s)
                return None
            if raw[0] == 0:
                with k.lock:
                    if s.getname(False):
                        raise _err(errno.EINVAL)
                    key = (raw, s.type)
                    if key in k.abstract:
                        raise _err(errno.EADDRINUSE)
                    s.bind(raw)
                    s.name_key = key
                    k.abstract[key] = s
                return None
            path = raw.split(b"\0", 1)[0]
            inode = k.vfs.mknod_socket(self.cred, self._cwd, path, 0o777 & ~self.umask)
            with k.lock:
                if s.getname(False):
                    # Linux creates the node first, then finds the socket bound.
                    try:
                        k.vfs.unlink(self.cred, self._cwd, path)
                    except OSError:
                        pass
                    raise _err(errno.EINVAL)
                s.bind(path + b"\0")
                s.inode = inode
                inode.sock = s
            return None

    def _find_other(self, raw, type_):
        """The socket a name reaches (unix_find_other)."""
        k = self.kernel
        if raw[0] == 0:
            other = k.abstract.get((raw, type_))
            if other is None:
                raise _err(errno.ECONNREFUSED)
            return other
        path = raw.split(b"\0", 1)[0]
        inode = k.vfs.open_socket_inode(self.cred, self._cwd, path)
        other = inode.sock if stat.S_ISSOCK(inode.mode) else None
        if other is None:
            raise _err(errno.ECONNREFUSED)
        if other.type != type_:
            raise _err(errno.EPROTOTYPE)
        return other

    def listen(self, fd, backlog=SOMAXCONN):
        with self._hold_sock(fd) as s:
            backlog = _fd(backlog)
            if backlog > 0x7fffffff or backlog < -0x80000000:
                raise OverflowError("backlog out of range")
            s.listen(backlog, self._peer)

    def connect(self, fd, addr):
        """Connect; ``addr=None`` is AF_UNSPEC (dissolves a datagram association)."""
        with self._hold_sock(fd) as s:
            if addr is None:
                if s.type != SOCK_DGRAM:
                    raise _err(errno.EINVAL)
                s.connect(None, self._peer)
                return None
            raw = _sockaddr(addr)
            if not raw:
                raise _err(errno.EINVAL)
            self._maybe_autobind(s)
            other = self._find_other(raw, s.type)
            s.connect(other, self._peer)
            return None

    def accept(self, fd, flags=0):
        """accept4: (newfd, peer address).  Checked in __sys_accept4's
        order: the fd (EBADF), the flags (EINVAL), a free fd (EMFILE, the
        slot is held while waiting), that it is a socket (ENOTSOCK), then
        the socket's own checks."""
        flags = _fd(flags)
        with self._hold(fd) as f:
            if flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC):
                raise _err(errno.EINVAL)
            nfd = self.fdtable.reserve(self.rlimit_nofile, 0, flags & SOCK_CLOEXEC)
            try:
                if type(f) is not _Socket:
                    raise _err(errno.ENOTSOCK)
                n = f.accept()
            except BaseException:
                self.fdtable.unreserve(nfd)
                raise
        self._setup_socket(n, flags)
        name = _decode_name(n.getname(True))
        self._install(nfd, n)
        return nfd, name

    def shutdown(self, fd, how):
        with self._hold_sock(fd) as s:
            s.shutdown(_fd(how))

    def getsockname(self, fd):
        return _decode_name(self._sock(fd).getname(False))

    def getpeername(self, fd):
        return _decode_name(self._sock(fd).getname(True))

    # -- data
    def _passcred_autobind(self, s, flags=0):
        """unix_dgram_sendmsg (datagram and seqpacket) autobinds a connected
        sender that has SO_PASSCRED and no name (after the ENOTCONN check and
        after MSG_OOB's EOPNOTSUPP, which leaves the socket unnamed)."""
        if (s.type == SOCK_STREAM or flags & MSG_OOB
                or not s.getsockopt(SOL_SOCKET, SO_PASSCRED)):
            return
        try:
            s.getname(True)
        except OSError:
            return                          # not connected: the send fails first
        self._maybe_autobind(s)

    def _destination(self, s, raw, flags=0):
        """A send's destination copied in by _dest (raw None: no address),
        as ``(target, resolve)`` for Socket.send/sendmsg.  A stream socket
        takes any name to the core, which says EISCONN/EOPNOTSUPP.  A
        datagram send checks MSG_OOB and the name (unix_validate_addr) and
        autobinds here; the core then does the rest in unix_dgram_sendmsg's
        order and calls ``resolve`` (unix_find_other) after the copy."""
        if raw is None:
            return None, None
        if s.type == SOCK_STREAM:
            return s, None
        if flags & MSG_OOB:
            raise _err(errno.EOPNOTSUPP)
        if not raw or len(raw) > UNIX_PATH_MAX:
            raise _err(errno.EINVAL)
        self._maybe_autobind(s)
        return None, lambda: self._find_other(raw, s.type)

    def sendto(self, fd, data, addr, flags=0):
        with self._hold_sock(fd) as s:
            memoryview(data).release()          # TypeError before any other check
            raw = _dest(addr)
            try:
                if s.type == SOCK_SEQPACKET:
                    self._passcred_autobind(s, flags)
                    return s.send(data, flags, self._scm, None)     # the address is ignored
                return s.send(data, flags, self._scm, *self._destination(s, raw, flags))
            except _SigPipe:
                self._raise_sigpipe()
                raise _err(errno.EPIPE) from None

    def sendmsg(self, fd, buffers, ancdata=(), flags=0, address=None):
        """sendmsg.  With ``MSG_ZEROCOPY`` and a single ``Pages`` buffer (see
        ``Kernel.alloc_pages``) of at least 16 KiB, the pages themselves are
        handed to the receiver; smaller or ordinary buffers are copied."""
        with self._hold_sock(fd) as s:
            bufs = list(buffers)
            for b in bufs:                      # TypeError before any other check
                if type(b) is not _unix.Pages:
                    memoryview(b).release()
            raw = _dest(address)
            if s.type == SOCK_SEQPACKET:
                s.seqpacket_precheck()          # sk_err and ENOTCONN before scm_send
            files = []
            try:
                creds = self._scm_send(ancdata, files)
                refused = bool(files) and self._too_many_fds()
                target = resolve = None
                if raw is not None and s.type != SOCK_SEQPACKET:
                    target, resolve = self._destination(s, raw, flags)
                else:
                    self._passcred_autobind(s, flags)
                return s.sendmsg(bufs, flags, self._scm, creds, files, target, refused, resolve)
            except _SigPipe:
                self._raise_sigpipe()
                raise _err(errno.EPIPE) from None
            finally:
                # scm_destroy: the message took references of its own.
                for f in files:
                    f.fput()

    def _scm_send(self, ancdata, files):
        """Parse control messages as Linux's __scm_send: creds or None.  Each
        SCM_RIGHTS file is appended to ``files`` with a reference taken under
        the fd table's lock (scm_fp_copy's fget_raw), so a close racing the
        send cannot release it; the caller drops them, also on error."""
        creds = None
        for item in ancdata:
            level, type_, data = item
            level, type_ = _fd(level), _fd(type_)
            data = bytes(memoryview(data))
            if level != SOL_SOCKET:
                continue
            if type_ == SCM_RIGHTS:
                n = len(data) // 4
                if n <= 0:
                    continue
                if n > SCM_MAX_FD or len(files) + n > SCM_MAX_FD:
                    raise _err(errno.EINVAL)
                for fd in array.array("i", data[:n * 4]):
                    if fd < 0:
                        raise _err(errno.EBADF)
                    files.append(self.fdtable.fget(fd))
            elif type_ == SCM_CREDENTIALS:
                if len(data) != 12:
                    raise _err(errno.EINVAL)
                pid, uid, gid = _UCRED.unpack(data)
                c = self.cred
                # scm_check_creds: invalid ids first, then the permission
                # check; then __scm_send looks the pid up (ESRCH).
                if uid == -1 or gid == -1:
                    raise _err(errno.EINVAL)
                admin = c.capable("CAP_SYS_ADMIN")
                if not ((pid == self.pid or admin)
                        and (uid in (c.uid, c.euid, c.suid) or c.capable("CAP_SETUID"))
                        and (gid in (c.gid, c.egid, c.sgid) or c.capable("CAP_SETGID"))):
                    raise _err(errno.EPERM)
                if pid != self.pid and pid not in self.kernel.processes:
                    raise _err(errno.ESRCH)
                creds = (pid, uid, gid)
            else:
                raise _err(errno.EINVAL)
        return creds

    def _too_many_fds(self):
        """Linux's too_many_unix_fds: the files this user (its real uid)
        already has in flight exceed the sender's RLIMIT_NOFILE and it has
        neither CAP_SYS_RESOURCE nor CAP_SYS_ADMIN.  The message's own files
        are not counted yet.  The send fails ETOOMANYREFS where Linux
        attaches the files (unix_attach_fds), not while parsing them."""
        inflight = self.kernel.net.user_inflight.get(self.cred.uid, 0)
        return inflight > self.rlimit_nofile and not (
            self.cred.capable("CAP_SYS_RESOURCE") or self.cred.capable("CAP_SYS_ADMIN"))

    def send_fds(self, fd, buffers, fds, flags=0, address=None):
        return self.sendmsg(fd, buffers, [(SOL_SOCKET, SCM_RIGHTS, array.array("i", fds))],
                            flags, address)

    def recvfrom(self, fd, bufsize, flags=0):
        with self._hold_sock(fd) as s:
            data, raw = s.recv(_fd(bufsize), flags, True)
        return data, _decode_name(raw)

    def recvfrom_into(self, fd, buffer, nbytes=0, flags=0):
        with self._hold_sock(fd) as s:
            n, raw = s.recv_into(buffer, _fd(nbytes), flags, True)
        return n, _decode_name(raw)

    def recvmsg(self, fd, bufsize, ancbufsize=0, flags=0):
        with self._hold_sock(fd) as s:
            data, mflags, raw, cred, files = s.recvmsg(_fd(bufsize), flags, ancbufsize)
            anc, mflags = self._scm_recv(s, ancbufsize, flags, mflags, cred, files)
            return data, anc, mflags, _decode_name(raw)

    def recvmsg_into(self, fd, buffers, ancbufsize=0, flags=0):
        with self._hold_sock(fd) as s:
            n, mflags, raw, cred, files = s.recvmsg_into(buffers, flags, ancbufsize)
            anc, mflags = self._scm_recv(s, ancbufsize, flags, mflags, cred, files)
            return n, anc, mflags, _decode_name(raw)

    def recv_pages(self, fd, bufsize=1 << 20, flags=0):
        """The next message as a read-only page buffer (``PageBuffer``): the
        sender's own pages, uncopied, when it was sent with MSG_ZEROCOPY,
        else a copy of up to ``bufsize`` bytes into fresh pages.  Call its
        ``release()`` (or drop it) to complete the sender's handoff."""
        with self._hold_sock(fd) as s:
            return s.recv_pages(_fd(bufsize), flags)

    def recv_fds(self, fd, bufsize, maxfds, flags=0):
        msg, anc, mflags, addr = self.recvmsg(fd, bufsize, _CMSG_HDR + maxfds * 4, flags)
        fds = array.array("i")
        for level, type_, data in anc:
            if level == SOL_SOCKET and type_ == SCM_RIGHTS:
                fds.frombytes(data[:len(data) - (len(data) % fds.itemsize)])
        return msg, list(fds), mflags, addr

    def _scm_recv(self, s, ancbufsize, flags, mflags, cred, files):
        """Build the ancillary data as Linux's scm_recv puts it in a control
        buffer of ancbufsize bytes, installing received files."""
        mflags |= flags & MSG_CMSG_CLOEXEC
        anc = []
        room = ancbufsize
        if room <= 0:
            if cred is not None or files:
                mflags |= MSG_CTRUNC
            for f in files:
                f.fput()
            return anc, mflags
        if cred is not None:
            pid, uid, gid = cred
            if uid == -1:
                uid = _OVERFLOW_ID
            if gid == -1:
                gid = _OVERFLOW_ID
            payload = _UCRED.pack(pid, uid, gid)
            if room < _CMSG_HDR:
                mflags |= MSG_CTRUNC
            else:
                cmlen = _CMSG_HDR + len(payload)
                if room < cmlen:
                    mflags |= MSG_CTRUNC
                    cmlen = room
                anc.append((SOL_SOCKET, SCM_CREDENTIALS, payload[:cmlen - _CMSG_HDR]))
                room -= min(_unix_cmsg_space(len(payload)), room)
        if files:
            fdmax = (room - _CMSG_HDR) // 4 if room > _CMSG_HDR else 0
            fdmax = min(fdmax, len(files))
            got = []
            for f in files[:fdmax]:
                try:
                    got.append(self.fdtable.alloc(f, self.rlimit_nofile, 0,
                                                  flags & MSG_CMSG_CLOEXEC))
                except OSError:
                    break
            for f in files[len(got):]:
                f.fput()
            if got:
                anc.append((SOL_SOCKET, SCM_RIGHTS, array.array("i", got).tobytes()))
            if len(got) < len(files):
                mflags |= MSG_CTRUNC
        return anc, mflags

    # -- options
    def getsockopt(self, fd, level, optname, buflen=0):
        with self._hold_sock(fd) as s:
            level, optname, buflen = _fd(level), _fd(optname), _fd(buflen)
            if buflen < 0 or buflen > 1024:
                raise OSError("getsockopt buflen out of range")
            if level == SOL_SOCKET and optname == SO_PEERCRED:
                raw = _UCRED.pack(*s.peercred())
            elif level == SOL_SOCKET and optname in (SO_RCVTIMEO, SO_SNDTIMEO):
                ns = s.getsockopt(level, optname)
                if ns < 0:
                    raw = _TIMEVAL.pack(0, 0)
                else:
                    j = ns // _JIFFY_NS
                    raw = _TIMEVAL.pack(j // _HZ, (j % _HZ) * (1000000 // _HZ))
            else:
                raw = struct.pack("i", s.getsockopt(level, optname))
            if buflen == 0:
                return struct.unpack("i", raw[:4])[0]
            return raw[:buflen]

    def setsockopt(self, fd, level, optname, value):
        with self._hold_sock(fd) as s:
            level, optname = _fd(level), _fd(optname)
            if isinstance(value, int):
                raw = struct.pack("i", value) if -2**31 <= value < 2**31 else None
                if raw is None:
                    raise OverflowError("Python int too large to convert to C int")
            else:
                raw = bytes(memoryview(value))
            if level == SOL_SOCKET and optname in (SO_RCVTIMEO, SO_SNDTIMEO):
                if len(raw) < 16:
                    raise _err(errno.EINVAL)
                sec, usec = _TIMEVAL.unpack(raw[:16])
                if usec < 0 or usec >= 1000000:
                    raise _err(errno.EDOM)
                if sec < 0:
                    ns = 0
                elif sec == 0 and usec == 0:
                    ns = -1
                else:
                    j = sec * _HZ + -(-usec // (1000000 // _HZ))
                    ns = j * _JIFFY_NS
                s.setsockopt(level, optname, ns)
                return None
            if level == SOL_SOCKET:
                if len(raw) < 4:
                    raise _err(errno.EINVAL)
                val = struct.unpack("i", raw[:4])[0]
                # sk_setsockopt's sockopt_capable(CAP_NET_ADMIN) checks
                if optname == SO_DEBUG and val and not self.cred.capable("CAP_NET_ADMIN"):
                    raise _err(errno.EACCES)
                if (optname in (SO_SNDBUFFORCE, SO_RCVBUFFORCE)
                        and not self.cred.capable("CAP_NET_ADMIN")):
                    raise _err(errno.EPERM)
                s.setsockopt(level, optname, val)
                return None
            s.setsockopt(level, optname, 0)
            return None

    def ioctl(self, fd, request, arg=0):
        """ioctl(2) with an int argument; returns the int the request
        yields (0 for FIOSETOWN/SIOCSPGRP, which set the owner to ``arg``)."""
        with self._hold(fd) as f:
            request, arg = _fd(request), _cint(arg)
            if type(f) is _Socket and request in (FIOSETOWN, SIOCSPGRP):
                self._setown(f, arg)            # sock_ioctl: f_setown(file, pid, 1)
                return 0
            if type(f) is _Socket and request in (FIOGETOWN, SIOCGPGRP):
                return f.getown()
            if type(f) is not _Socket:
                if isinstance(f, PipeEnd):
                    return f.pipe_ioctl(request)
                if request == _FIONREAD and isinstance(f, VfsFile):
                    st = f.fstat()
                    if stat.S_ISREG(st.st_mode):            # do_vfs_ioctl: i_size - f_pos
                        return st.st_size - f.of.pos
                raise _err(errno.ENOTTY)
            return f.ioctl(request)

    def poll(self, fds, timeout_ms=None):
        """[(fd, events)] -> [(fd, revents)] for revents != 0, as poll(2):
        POLLNVAL for a bad fd, negative fds ignored, POLLERR/POLLHUP always."""
        entries = []
        pipes = []
        # Each file is held until the poll ends, as Linux's __pollwait holds
        # the files it waits on, so a close by another thread cannot
        # release a socket being polled.
        with contextlib.ExitStack() as held:
            for item in fds:
                fd, events = item
                fd, events = _fd(fd), _fd(events) & 0xffff
                if fd < 0:
                    entries.append((None, events, 0))
                    pipes.append(None)
                    continue
                try:
                    f = held.enter_context(self._hold(fd))
                except OSError as e:
                    if e.errno == errno.ESRCH:
                        raise
                    entries.append((None, events, POLLNVAL))
                    pipes.append(None)
                    continue
                if type(f) is _Socket:
                    entries.append((f, events, 0))
                    pipes.append(None)
                elif isinstance(f, PipeEnd):
                    entries.append((f.sock, f.socket_events(events), 0))
                    pipes.append((f, events))
                else:
                    entries.append((None, events, f.poll_mask() & (events | 0x18)))
                    pipes.append(None)
            if timeout_ms is not None:
                timeout_ms = _fd(timeout_ms)
            revents = _unix.poll(self.kernel.net, entries, timeout_ms)
        out = []
        for item, pipe, rev in zip(fds, pipes, revents):
            if pipe is not None:
                rev = pipe[0].translate_poll(rev) & (pipe[1] | 0x18)
            if rev:
                out.append((_fd(item[0]), rev))
        return out

    # --------------------------------------------------------------- files
    def open(self, path, flags, mode=0o666):
        self._check_alive()
        flags = _fd(flags)
        fdt = self.fdtable
        fd = fdt.reserve(self.rlimit_nofile, 0, flags & O_CLOEXEC)
        try:
            of = self.kernel.vfs.open(self.cred, self._cwd, path, flags, mode, self.umask)
        except BaseException:
            fdt.unreserve(fd)
            raise
        self._install(fd, VfsFile(of))
        return fd

    def read(self, fd, n):
        fd, n = _fd(fd), _fd(n)
        self._check_alive()
        if n < 0:
            raise _err(errno.EINVAL)    # os.read refuses it before any syscall
        with self._hold(fd) as f:
            if type(f) is _Socket:
                # sock_read_iter: a read of nothing returns at once, taking nothing
                return f.recv(n, 0) if n else b""
            return f.read(self, n)

    def write(self, fd, data):
        with self._hold(fd) as f:
            if type(f) is not _Socket:
                return f.write(self, data)
        return self.send(fd, data)

    def lseek(self, fd, offset, whence):
        with self._hold(fd) as f:
            if type(f) is _Socket:
                raise _err(errno.ESPIPE)
            return f.lseek(offset, whence)

    def fstat(self, fd):
        with self._hold(fd) as f:
            if type(f) is _Socket:
                return os.stat_result((stat.S_IFSOCK | 0o777, f.inflight_sock & 0xffffffff,
                                       0x8, 1, self.cred.euid, self.cred.egid, 0, 0, 0, 0))
            return f.fstat()

    def pipe(self):
        self._check_alive()
        r, w = make_pipe(self.kernel, self._peer)
        try:
            rfd, wfd = self._reserve_two()
        except BaseException:
            r.fput()
            w.fput()
            raise
        self._install_two(rfd, r, wfd, w)
        return rfd, wfd

    def _vfs(self, name, *args, **kwargs):
        self._check_alive()
        return getattr(self.kernel.vfs, name)(self.cred, self._cwd, *args, **kwargs)

    def mkdir(self, path, mode=0o777):
        self._vfs("mkdir", path, mode, self.umask)

    def rmdir(self, path):
        self._vfs("rmdir", path)

    def unlink(self, path):
        self._vfs("unlink", path)

    def rename(self, old, new):
        self._vfs("rename", old, new)

    def link(self, old, new):
        self._vfs("link", old, new)

    def symlink(self, target, path):
        self._vfs("symlink", target, path)

    def readlink(self, path):
        return self._vfs("readlink", path)

    def chmod(self, path, mode):
        self._vfs("chmod", path, mode)

    def chown(self, path, uid, gid):
        self._vfs("chown", path, uid, gid)

    def stat(self, path):
        return self._vfs("stat", path)

    def lstat(self, path):
        return self._vfs("lstat", path)

    def listdir(self, path="."):
        return self._vfs("listdir", path)

    def access(self, path, mode):
        self._vfs("access", path, mode)
        return True

    def chdir(self, path):
        self._cwd = self._vfs("lookup_dir", path)

    def getcwd(self):
        self._check_alive()
        return self.cwd

    def set_umask(self, mask):
        """umask(2): set the file mode creation mask; return the previous one.
        (``umask`` itself is the attribute that holds the mask.)"""
        self._check_alive()
        old, self.umask = self.umask, _fd(mask) & 0o777
        return old

    def _inode_of(self, fd):
        with self._hold(fd) as f:
            of = getattr(f, "of", None)
            if of is None:
                raise _err(errno.EINVAL)        # sockets and pipes: not modelled
            return of.inode

    def fchmod(self, fd, mode):
        """chmod through an fd (EPERM unless owner or CAP_FOWNER)."""
        self.kernel.vfs.chmod_inode(self.cred, self._inode_of(fd), _fd(mode))

    def fchown(self, fd, uid, gid):
        """chown through an fd, with chown's rules."""
        self.kernel.vfs.chown_inode(self.cred, self._inode_of(fd), _fd(uid), _fd(gid))

    def __repr__(self):
        return "<Process pid=%d uid=%d gid=%d%s>" % (
            self.pid, self.cred.uid, self.cred.gid, "" if self.alive else " exited")


def _check_sock_flags(type_):
    """socket/socketpair's first check: EINVAL for flag bits in ``type_``
    other than SOCK_NONBLOCK and SOCK_CLOEXEC."""
    if type_ & ~0xf & ~(SOCK_NONBLOCK | SOCK_CLOEXEC):
        raise _err(errno.EINVAL)


def _check_sock_create(family, type_):
    """sock_create's checks before the family makes the socket: a family
    out of range (EAFNOSUPPORT), then a type out of range (EINVAL), then a
    family other than AF_UNIX, the only one modelled (EAFNOSUPPORT)."""
    if family < 0 or family >= 46:                 # NPROTO
        raise _err(errno.EAFNOSUPPORT)
    if (type_ & 0xf) >= 11:                        # SOCK_MAX
        raise _err(errno.EINVAL)
    if family != AF_UNIX:
        raise _err(errno.EAFNOSUPPORT)


def _unix_cmsg_space(n):
    return _CMSG_HDR + ((n + 7) & ~7)


