"""A simulated process: credentials, cwd, umask, an fd table, and every
syscall as a method.  Failures raise ``OSError(errno, strerror)``.

``Process`` is the syscall surface; the calls themselves live in modules
named for what they hold: ``fdcalls`` (close, dup, fcntl, ioctl),
``socketcalls`` (the socket syscalls), ``sockopt``, ``namespace``
(addresses as the syscalls copy them in), ``poll``, ``filecalls`` (files,
pipes and the VFS path calls) and ``pidfd``.  send, recv and recv_into are the Cython
fast path of ``_unix.ProcessBase``.
"""
import errno

from . import _unix, fdcalls, filecalls, pidfd, readiness, socketcalls, sockopt, trace
from . import splice as splicecalls
from .args import as_int, err
from .constants import AF_UNIX, SOCK_STREAM, SOMAXCONN, S_IRWXUGO
from .cred import Cred
from .poll import poll as _poll


#: The command name of a spawned process unless ``spawn(comm=...)`` says
#: otherwise: what Linux shows for a process running a Python program.
DEFAULT_COMM = "python3"


def _comm(name):
    """A command name as PR_SET_NAME stores it: at most 15 bytes."""
    if not isinstance(name, str):
        raise TypeError("comm must be a str, not %s" % type(name).__name__)
    raw = name.encode("utf-8", "surrogateescape")[:15]
    return raw.decode("utf-8", "ignore")


class Process(_unix.ProcessBase):
    """A simulated process.  Create with ``Kernel.spawn`` or ``fork``."""

    def __init__(self, kernel, uid=0, gid=0, groups=(), umask=0o022, cwd="/",
                 rlimit_nofile=1024, comm=DEFAULT_COMM, _parent=None):
        self.kernel = kernel
        #: The command name (Linux's task comm, at most 15 bytes): what
        #: ``ss -p`` shows.  Inherited by fork.
        self.comm = _comm(comm) if _parent is None else _parent.comm
        self.pending_signals = set()
        self.alive = True
        if _parent is None:
            self.cred = Cred(uid, gid, groups)
            self.umask = umask & S_IRWXUGO
            self._cwd = kernel.vfs.root
            self.rlimit_nofile = rlimit_nofile
        else:
            self.cred = _parent.cred.copy()
            self.umask = _parent.umask
            self._cwd = _parent._cwd
            self.rlimit_nofile = _parent.rlimit_nofile
            self.fdtable.fork_from(_parent.fdtable)
        # the pipe a pidfd's poll watches: its writer goes at exit (pidfd.py)
        self._exit_r = self._exit_w = None
        self.pid = kernel._alloc_pid(self)
        # Each spawned process leads its own process group; a child stays in
        # its parent's (only F_SETOWN's negative owners look at groups).
        self.pgid = self.pid if _parent is None else _parent.pgid
        self._update_creds()
        if _parent is None and cwd not in ("/", b"/"):
            self.chdir(cwd)
        kernel.faults.adopt(self)
        if trace._active is not None:
            trace._active._adopt(self)

    # -------------------------------------------------------------- ids
    def _update_creds(self):
        self._set_task_cred(self.pid, self.cred)     # what the C core reads

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
        """ESRCH once the process exited."""
        if not self.alive:
            raise err(errno.ESRCH)

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
        self._update_creds()

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
        readiness.forget_process(self)
        self.fdtable.close_all()
        self._release_frag()
        with self.kernel.lock:
            self.kernel.processes.pop(self.pid, None)
            r, w = self._exit_r, self._exit_w
            self._exit_r = self._exit_w = None
        if w is not None:
            w.fput()            # pidfd pollers see the hang-up
            r.fput()

    def _exit_watch(self):
        """A new reference to the read end of the pipe whose writer goes
        when this process exits (made on first use), or None once it has."""
        with self.kernel.lock:
            if not self.alive:
                return None
            if self._exit_r is None:
                self._exit_r, self._exit_w = _unix.PipeFile.pair(self.kernel.net, _unix.PipeFile)
            self._exit_r.fget()
            return self._exit_r

    def execve(self):
        """Close the fds marked close-on-exec."""
        self._check_alive()
        self.fdtable.close_on_exec()

    # ----------------------------------------------------------- fd table
    # close, like the data calls below, is the module function itself bound
    # as a method: it is on every fd-passing round trip.
    close = fdcalls.close

    def dup(self, fd):
        return fdcalls.dup(self, fd)

    def dup2(self, fd, fd2):
        return fdcalls.dup2(self, fd, fd2)

    def fcntl(self, fd, cmd, arg=0):
        return fdcalls.fcntl(self, fd, cmd, arg)

    def ioctl(self, fd, request, arg=0):
        """ioctl(2) with an int argument; returns the int the request
        yields (0 for FIOSETOWN/SIOCSPGRP, which set the owner to ``arg``)."""
        return fdcalls.ioctl(self, fd, request, arg)

    # --------------------------------------------------------------- poll
    def poll(self, fds, timeout_ms=None):
        """[(fd, events)] -> [(fd, revents)] for revents != 0, as poll(2):
        POLLNVAL for a bad fd, negative fds ignored, POLLERR/POLLHUP always."""
        return _poll(self, fds, timeout_ms)

    # ------------------------------------------------------------ sockets
    # socket, connect and accept, like close and the data calls below, are
    # the module functions themselves bound as methods: each is on every
    # connection's way.
    socket = socketcalls.socket

    def socketpair(self, family=AF_UNIX, type=SOCK_STREAM, proto=0):
        """Two connected sockets."""
        return socketcalls.socketpair(self, family, type, proto)

    def bind(self, fd, addr):
        """Bind to a path (creates an S_IFSOCK inode), an abstract name (leading
        NUL) or, with an empty address, an autobound abstract name."""
        socketcalls.bind(self, fd, addr)

    def listen(self, fd, backlog=SOMAXCONN):
        socketcalls.listen(self, fd, backlog)

    connect = socketcalls.connect
    accept = socketcalls.accept

    def shutdown(self, fd, how):
        socketcalls.shutdown(self, fd, how)

    def getsockname(self, fd):
        return socketcalls.getsockname(self, fd)

    def getpeername(self, fd):
        return socketcalls.getpeername(self, fd)

    # The data calls with addresses or control messages are the socketcalls
    # functions themselves, bound as methods (the process is their first
    # argument): a wrapper here would add a Python call to every message.
    # send_fds and recv_fds are ProcessBase's, which make the common call in
    # C and hand the rest to socketcalls.send_fds / recv_fds.
    sendto = socketcalls.sendto
    sendmsg = socketcalls.sendmsg
    recvfrom = socketcalls.recvfrom
    recvfrom_into = socketcalls.recvfrom_into
    recvmsg = socketcalls.recvmsg
    recvmsg_into = socketcalls.recvmsg_into

    def recv_pages(self, fd, bufsize=1 << 20, flags=0):
        """The next message as a read-only page buffer (``PageBuffer``): the
        sender's own pages, uncopied, when it was sent with MSG_ZEROCOPY,
        else a copy of up to ``bufsize`` bytes into fresh pages.  Call its
        ``release()`` (or drop it) to complete the sender's handoff."""
        return socketcalls.recv_pages(self, fd, bufsize, flags)

    def getsockopt(self, fd, level, optname, buflen=0):
        return sockopt.getsockopt(self, fd, level, optname, buflen)

    def setsockopt(self, fd, level, optname, value):
        sockopt.setsockopt(self, fd, level, optname, value)

    # --------------------------------------------------------------- files
    def open(self, path, flags, mode=0o666):
        return filecalls.open(self, path, flags, mode)

    # read and write: ProcessBase's (a pipe's in C, the rest filecalls')

    def lseek(self, fd, offset, whence):
        return filecalls.lseek(self, fd, offset, whence)

    def fstat(self, fd):
        return filecalls.fstat(self, fd)

    def pipe(self):
        return filecalls.pipe(self)

    def pipe2(self, flags):
        return filecalls.pipe(self, flags)

    def pidfd_open(self, pid, flags=0):
        return pidfd.pidfd_open(self, pid, flags)

    def pidfd_getpid(self, fd):
        return pidfd.pidfd_getpid(self, fd)

    # splice: ProcessBase's (pipe <-> stream socket and pipe -> pipe in C,
    # the rest splicecalls')

    def tee(self, src, dst, count, flags=0):
        return splicecalls.tee(self, src, dst, count, flags)

    def vmsplice(self, fd, buffers, flags=0):
        return splicecalls.vmsplice(self, fd, buffers, flags)

    def sendfile(self, out_fd, in_fd, offset, count):
        return splicecalls.sendfile(self, out_fd, in_fd, offset, count)

    def mkdir(self, path, mode=0o777):
        filecalls.mkdir(self, path, mode)

    def mknod(self, path, mode=0o600, device=0):
        filecalls.mknod(self, path, mode, device)

    def mkfifo(self, path, mode=0o666):
        filecalls.mkfifo(self, path, mode)

    def rmdir(self, path):
        filecalls.rmdir(self, path)

    def unlink(self, path):
        filecalls.unlink(self, path)

    def rename(self, old, new):
        filecalls.rename(self, old, new)

    def link(self, old, new):
        filecalls.link(self, old, new)

    def symlink(self, target, path):
        filecalls.symlink(self, target, path)

    def readlink(self, path):
        return filecalls.readlink(self, path)

    def chmod(self, path, mode):
        filecalls.chmod(self, path, mode)

    def chown(self, path, uid, gid):
        filecalls.chown(self, path, uid, gid)

    def stat(self, path):
        return filecalls.stat(self, path)

    def lstat(self, path):
        return filecalls.lstat(self, path)

    def listdir(self, path="."):
        return filecalls.listdir(self, path)

    def access(self, path, mode):
        return filecalls.access(self, path, mode)

    def chdir(self, path):
        filecalls.chdir(self, path)

    def getcwd(self):
        self._check_alive()
        return self.cwd

    def set_umask(self, mask):
        """umask(2): set the file mode creation mask; return the previous one.
        (``umask`` itself is the attribute that holds the mask.)"""
        self._check_alive()
        old, self.umask = self.umask, as_int(mask) & S_IRWXUGO
        return old

    def fchmod(self, fd, mode):
        """chmod through an fd (EPERM unless owner or CAP_FOWNER)."""
        filecalls.fchmod(self, fd, mode)

    def fchown(self, fd, uid, gid):
        """chown through an fd, with chown's rules."""
        filecalls.fchown(self, fd, uid, gid)

    def __repr__(self):
        return "<Process pid=%d uid=%d gid=%d%s>" % (
            self.pid, self.cred.uid, self.cred.gid, "" if self.alive else " exited")
