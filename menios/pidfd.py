"""pidfds: files that stand for a process, as Linux's pidfs makes them --
``pidfd_open(2)``, ``SO_PEERPIDFD`` and ``SCM_PIDFD``.

A pidfd names one process for good: it goes on standing for it after the
process is gone (a stale pidfd, as ``PIDFD_STALE`` gives).  ``poll`` reports
``POLLIN | POLLRDNORM | POLLHUP`` once the process has exited (a simulated
process is reaped as it exits: there are no zombies), nothing before; a
poll that waits is woken by the exit.  For that a live process keeps a pipe
of its own whose only writer it is: its pidfds poll the read end, and the
exit, closing the writer, hangs it up.  ``read``, ``write`` are ``EINVAL``,
``lseek`` ``ESPIPE``; ``fstat`` shows pidfs's anonymous inode (mode 0700).
"""
import errno
import os

from . import _unix
from .args import as_int, err
from .constants import O_EXCL, O_NONBLOCK, O_RDWR, POLLHUP, POLLIN, POLLRDNORM

#: pidfd_open's flags: PIDFD_NONBLOCK (O_NONBLOCK), PIDFD_THREAD (O_EXCL).
PIDFD_NONBLOCK = O_NONBLOCK
PIDFD_THREAD = O_EXCL
PIDFD_OPEN_FLAGS = PIDFD_NONBLOCK | PIDFD_THREAD

#: What poll reports for a process that has exited (pidfd_poll, reaped).
EXITED = POLLIN | POLLRDNORM | POLLHUP

#: st_mode of a pidfs inode (S_IRWXU, no file type), and pidfs's device.
PIDFS_MODE = 0o700
PIDFS_DEV = 0x5


class PidFile(_unix.File):
    """The open file of a pidfd: the process ``pid`` (``target``, the
    Process while it lives)."""

    def __init__(self, pid, target, flags=0):
        self.pid = pid
        self.f_flags = O_RDWR | (flags & PIDFD_OPEN_FLAGS)
        self._target = target
        # the read end of the target's exit pipe, while there is one to watch
        self.exit_watch = target._exit_watch() if target is not None else None

    def exited(self):
        return self._target is None or not self._target.alive

    def read(self, proc, n):
        raise err(errno.EINVAL)

    def write(self, proc, data):
        raise err(errno.EINVAL)

    def lseek(self, offset, whence):
        raise err(errno.ESPIPE)

    def fstat(self):
        """pidfs's inode: one per process (st_ino the pid), mode 0700."""
        return os.stat_result((PIDFS_MODE, self.pid, PIDFS_DEV, 1, 0, 0, 0, 0, 0, 0))

    def poll_mask(self):
        return EXITED if self.exited() else 0

    def release(self):
        if self.exit_watch is not None:
            self.exit_watch.fput()
            self.exit_watch = None


def install(proc, pid, flags=0):
    """pidfd_prepare + fd_install: a new pidfd for ``pid`` -- the process,
    or a stale one when it is gone -- at ``proc``'s lowest free fd,
    close-on-exec.  EMFILE when none is free."""
    target = proc.kernel.processes.get(pid)
    f = PidFile(pid, target, flags)
    try:
        return proc.fdtable.alloc(f, proc.rlimit_nofile, 0, True)
    except BaseException:
        f.fput()
        raise


def pidfd_open(proc, pid, flags=0):
    """pidfd_open(2): a pidfd for the live process ``pid``.  EINVAL for a
    flag other than PIDFD_NONBLOCK/PIDFD_THREAD or a pid below 1, ESRCH
    for no such process, EMFILE."""
    proc._check_alive()
    pid, flags = as_int(pid), as_int(flags)
    if flags & ~PIDFD_OPEN_FLAGS or pid <= 0:
        raise err(errno.EINVAL)
    target = proc.kernel.processes.get(pid)
    if target is None or not target.alive:
        raise err(errno.ESRCH)
    return install(proc, pid, flags)


def pidfd_getpid(proc, fd):
    """The pid a pidfd stands for, as the PIDFD_GET_INFO ioctl reports it
    (PIDFD_INFO_PID): ESRCH once the process is gone, EBADF, ENOTTY for a
    file that is not a pidfd."""
    with proc._hold(fd) as f:
        if not isinstance(f, PidFile):
            raise err(errno.ENOTTY)
        if f.exited():
            raise err(errno.ESRCH)
        return f.pid
