"""The calls on a process's file descriptors: close, dup, dup2, fcntl and
ioctl, and the steps every call that makes files takes to give them fds.

The table itself is ``_unix.FdTable`` (locked, as Linux's files_struct);
a call that makes a file reserves its fd first and installs the file last,
as Linux's get_unused_fd_flags / fd_install, so a failure in between
leaves no fd behind.  Each function takes the calling process first, as
Linux's take ``current``; failures raise ``OSError`` with Linux's errno.
"""
import errno
import stat

from . import _unix, readiness
from .args import as_cint, as_int, err
from .constants import (
    F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETOWN, F_GETPIPE_SZ, F_SETFD, F_SETFL,
    F_SETOWN, F_SETPIPE_SZ, FD_CLOEXEC, FIOGETOWN, FIONREAD, FIOSETOWN, INT_MIN, O_APPEND,
    O_DIRECT, O_NONBLOCK, SIOCGPGRP, SIOCSPGRP, U32_MAX)
from .files import PipeEnd, VfsFile

_Socket = _unix.Socket

#: The file status flags F_SETFL may change (Linux's SETFL_MASK, as modelled).
SETFL_MASK = O_NONBLOCK | O_APPEND
#: ... and on a pipe, which also takes O_DIRECT (packet mode).
PIPE_SETFL_MASK = SETFL_MASK | O_DIRECT


# ------------------------------------------------------------ reserve / install
def install(proc, fd, f):
    """fd_install ``f`` in the reserved ``fd``.  ESRCH if the process
    exited meanwhile; then ``f`` is dropped."""
    try:
        proc.fdtable.install(fd, f)
    except OSError:
        f.fput()
        raise


def reserve_two(proc, cloexec=False):
    """Two fds for socketpair or pipe, both or EMFILE: Linux takes both
    before it installs either end."""
    fdt = proc.fdtable
    fd1 = fdt.reserve(proc.rlimit_nofile, 0, cloexec)
    try:
        fd2 = fdt.reserve(proc.rlimit_nofile, 0, cloexec)
    except BaseException:
        fdt.unreserve(fd1)
        raise
    return fd1, fd2


def install_two(proc, fd1, f1, fd2, f2):
    """Install both ends that ``reserve_two`` made room for.  ESRCH if the
    process exited meanwhile; then what is not installed is dropped."""
    try:
        install(proc, fd1, f1)
    except OSError:
        f2.fput()
        raise
    install(proc, fd2, f2)


# ----------------------------------------------------------------- the calls
def close(proc, fd):
    """close(2).  The open file goes when its last reference does.  EBADF."""
    proc._file(fd)
    fd = as_int(fd)
    if readiness._by_fd:
        readiness.forget_fd(proc, fd)
    proc.fdtable.close(fd)


def dup(proc, fd):
    """dup(2): the lowest free fd.  EBADF, EMFILE."""
    proc._file(fd)
    return proc.fdtable.dup(as_int(fd), proc.rlimit_nofile)


def dup2(proc, fd, fd2):
    """dup2(2): ``fd2`` closed first if open.  EBADF (also for ``fd2``
    outside RLIMIT_NOFILE)."""
    proc._file(fd)
    fd, fd2 = as_int(fd), as_int(fd2)
    if fd2 < 0 or fd2 >= proc.rlimit_nofile:
        raise err(errno.EBADF)
    return proc.fdtable.dup2(fd, fd2, proc.rlimit_nofile)


def fcntl(proc, fd, cmd, arg=0):
    """fcntl(2) with an int argument: F_GETFD/F_SETFD, F_GETFL/F_SETFL
    (O_NONBLOCK and O_APPEND; on a pipe O_DIRECT too), F_DUPFD(_CLOEXEC),
    F_SETOWN/F_GETOWN, F_GETPIPE_SZ/F_SETPIPE_SZ.  EBADF (also a pipe
    command on a file that is not a pipe); EINVAL for another command or a
    dup base out of range; ESRCH for an owner that does not exist; the
    pipe's EINVAL, EPERM and EBUSY for F_SETPIPE_SZ."""
    with proc._hold(fd) as f:
        fd = as_int(fd)
        if cmd == F_GETFD:
            return FD_CLOEXEC if proc.fdtable.get_cloexec(fd) else 0
        if cmd == F_SETFD:
            proc.fdtable.set_cloexec(fd, arg & FD_CLOEXEC)
            return 0
        if cmd == F_GETFL:
            return f.f_flags
        if cmd == F_SETFL:
            mask = PIPE_SETFL_MASK if isinstance(f, PipeEnd) else SETFL_MASK
            f.f_flags = (f.f_flags & ~mask) | (arg & mask)
            return 0
        if cmd in (F_GETPIPE_SZ, F_SETPIPE_SZ):
            return pipe_fcntl(proc, f, cmd, arg)
        if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
            if arg < 0 or arg >= proc.rlimit_nofile:
                raise err(errno.EINVAL)
            return proc.fdtable.dup(fd, proc.rlimit_nofile, arg, cmd == F_DUPFD_CLOEXEC)
        if cmd == F_SETOWN:
            setown(proc, f, as_cint(arg))
            return 0
        if cmd == F_GETOWN:
            return f.getown()
        raise err(errno.EINVAL)


def pipe_fcntl(proc, f, cmd, arg):
    """pipe_fcntl: EBADF unless ``f`` is a pipe.  F_SETPIPE_SZ takes the
    argument as an unsigned int and grows past fs.pipe-max-size only with
    CAP_SYS_RESOURCE."""
    if not isinstance(f, PipeEnd):
        raise err(errno.EBADF)
    if cmd == F_GETPIPE_SZ:
        return f.get_size()
    return f.set_size(as_int(arg) & U32_MAX, proc.kernel.sysctl["fs.pipe-max-size"],
                      proc.cred.capable("CAP_SYS_RESOURCE"))


def setown(proc, f, who):
    """Linux's f_setown: ``who`` > 0 a process, < 0 a process group, 0
    nobody.  EINVAL for INT_MIN; ESRCH when no process or group has that
    id.  The caller's uid/euid are kept for the permission check when a
    signal is sent."""
    if who == INT_MIN:
        raise err(errno.EINVAL)
    if who and not proc.kernel._pid_in_use(abs(who)):
        raise err(errno.ESRCH)
    f.setown(who, proc.cred.uid, proc.cred.euid)


def ioctl(proc, fd, request, arg=0):
    """ioctl(2) with an int argument; returns the int the request yields
    (0 for FIOSETOWN/SIOCSPGRP, which set the owner to ``arg``).  A socket
    answers its own requests; a pipe FIONREAD; a regular file FIONREAD
    (do_vfs_ioctl: size minus offset).  ENOTTY for anything else."""
    with proc._hold(fd) as f:
        request, arg = as_int(request), as_cint(arg)
        if type(f) is _Socket:
            if request in (FIOSETOWN, SIOCSPGRP):
                setown(proc, f, arg)            # sock_ioctl: f_setown(file, pid, 1)
                return 0
            if request in (FIOGETOWN, SIOCGPGRP):
                return f.getown()
            return f.ioctl(request)
        if isinstance(f, PipeEnd):
            return f.pipe_ioctl(request)
        if request == FIONREAD and isinstance(f, VfsFile):
            st = f.fstat()
            if stat.S_ISREG(st.st_mode):
                return st.st_size - f.of.pos
        raise err(errno.ENOTTY)
