"""The file syscalls of a process: open, read, write, lseek, fstat, pipe,
and the path calls forwarded to the VFS with the process's credentials,
working directory and umask (mkdir, unlink, rename, stat, chdir...).

read and write on a socket are recv and send, as Linux's sock_read_iter
and sock_write_iter; on a pipe end or a VFS file they are the file's own.
Each function takes the calling process first; failures raise
``OSError`` with Linux's errno (the VFS's are listed in menios/vfs.py).
"""
import errno
import os
from stat import S_IFIFO, S_IFSOCK, S_ISFIFO

from . import _unix
from .args import as_int, err
from .constants import O_CLOEXEC, S_IRWXUGO
from .fdcalls import install, install_two, reserve_two
from .files import VfsFile, fifo_open, make_pipe

_Socket = _unix.Socket

#: st_dev of a socket, as fstat shows it on the reference kernel (sockfs's
#: anonymous device).
SOCKFS_DEV = 0x8


# ----------------------------------------------------------------- fd calls
def open(proc, path, flags, mode):
    """open(2): a new fd for a VFS file.  The VFS's errnos (ENOENT,
    EACCES, EEXIST, EISDIR, ENXIO for a socket...); EMFILE.  A FIFO's
    open waits for the other side as fifo_open does (ENXIO for a
    non-blocking writer without a reader)."""
    proc._check_alive()
    flags = as_int(flags)
    fdt = proc.fdtable
    fd = fdt.reserve(proc.rlimit_nofile, 0, flags & O_CLOEXEC)
    try:
        of = proc.kernel.vfs.open(proc.cred, proc._cwd, path, flags, mode, proc.umask)
        f = fifo_open(proc.kernel, of.inode, flags) if S_ISFIFO(of.inode.mode) else VfsFile(of)
    except BaseException:
        fdt.unreserve(fd)
        raise
    install(proc, fd, f)
    return fd


def read(proc, fd, n):
    """read(2): at most ``n`` bytes.  EINVAL for a negative ``n`` (as
    os.read, before any syscall); EBADF; the file's own errnos."""
    fd, n = as_int(fd), as_int(n)
    proc._check_alive()
    if n < 0:
        raise err(errno.EINVAL)
    with proc._hold(fd) as f:
        if type(f) is _Socket:
            # sock_read_iter: a read of nothing returns at once, taking nothing
            return f.recv(n, 0) if n else b""
        return f.read(proc, n)


def write(proc, fd, data):
    """write(2): bytes written; on a socket, send(2)."""
    with proc._hold(fd) as f:
        if type(f) is not _Socket:
            return f.write(proc, data)
    return proc.send(fd, data)


def lseek(proc, fd, offset, whence):
    """lseek(2).  ESPIPE on a socket or pipe; EINVAL."""
    with proc._hold(fd) as f:
        if type(f) is _Socket:
            raise err(errno.ESPIPE)
        return f.lseek(offset, whence)


def fstat(proc, fd):
    """fstat(2).  A socket is an ``S_IFSOCK`` inode of sockfs (its inode
    number the one ``Kernel.diag`` and ``ss`` show) owned by the caller's
    effective ids."""
    with proc._hold(fd) as f:
        if type(f) is _Socket:
            return os.stat_result((S_IFSOCK | S_IRWXUGO, f.ino,
                                   SOCKFS_DEV, 1, proc.cred.euid, proc.cred.egid,
                                   0, 0, 0, 0))
        return f.fstat()


def pipe(proc, flags=0):
    """pipe2(2): (read end, write end); ``flags`` O_NONBLOCK, O_CLOEXEC,
    O_DIRECT (packet mode).  EINVAL for another flag, EMFILE."""
    proc._check_alive()
    flags = as_int(flags)
    r, w = make_pipe(proc.kernel, proc.cred, flags)
    try:
        rfd, wfd = reserve_two(proc, flags & O_CLOEXEC)
    except BaseException:
        r.fput()
        w.fput()
        raise
    install_two(proc, rfd, r, wfd, w)
    return rfd, wfd


def inode_of(proc, fd):
    """The VFS inode an fd's file is open on.  EINVAL for sockets and
    pipes, which have none in the VFS."""
    with proc._hold(fd) as f:
        of = getattr(f, "of", None)
        if of is None:
            raise err(errno.EINVAL)
        return of.inode


def fchmod(proc, fd, mode):
    """fchmod(2): chmod's rules (EPERM unless owner or CAP_FOWNER)."""
    proc.kernel.vfs.chmod_inode(proc.cred, inode_of(proc, fd), as_int(mode))


def fchown(proc, fd, uid, gid):
    """fchown(2): chown's rules."""
    proc.kernel.vfs.chown_inode(proc.cred, inode_of(proc, fd), as_int(uid), as_int(gid))


# --------------------------------------------------------------- path calls
def vfs(proc):
    """The VFS, for a call that walks a path from the process's working
    directory with its credentials.  ESRCH once the process exited."""
    proc._check_alive()
    return proc.kernel.vfs


def mkdir(proc, path, mode):
    vfs(proc).mkdir(proc.cred, proc._cwd, path, mode, proc.umask)


def mknod(proc, path, mode, device):
    """mknod(2): a FIFO, regular file, socket or (with CAP_MKNOD) device
    node; the VFS's errnos."""
    vfs(proc).mknod(proc.cred, proc._cwd, path, as_int(mode), as_int(device), proc.umask)


def mkfifo(proc, path, mode):
    """mkfifo(3): mknod(path, mode | S_IFIFO, 0), as glibc does."""
    mknod(proc, path, S_IFIFO | as_int(mode), 0)


def rmdir(proc, path):
    vfs(proc).rmdir(proc.cred, proc._cwd, path)


def unlink(proc, path):
    vfs(proc).unlink(proc.cred, proc._cwd, path)


def rename(proc, old, new):
    vfs(proc).rename(proc.cred, proc._cwd, old, new)


def link(proc, old, new):
    vfs(proc).link(proc.cred, proc._cwd, old, new)


def symlink(proc, target, path):
    vfs(proc).symlink(proc.cred, proc._cwd, target, path)


def readlink(proc, path):
    return vfs(proc).readlink(proc.cred, proc._cwd, path)


def chmod(proc, path, mode):
    vfs(proc).chmod(proc.cred, proc._cwd, path, mode)


def chown(proc, path, uid, gid):
    vfs(proc).chown(proc.cred, proc._cwd, path, uid, gid)


def stat(proc, path):
    return vfs(proc).stat(proc.cred, proc._cwd, path)


def lstat(proc, path):
    return vfs(proc).lstat(proc.cred, proc._cwd, path)


def listdir(proc, path):
    return vfs(proc).listdir(proc.cred, proc._cwd, path)


def access(proc, path, mode):
    """access(2) with the real ids: True, or the VFS's errno."""
    vfs(proc).access(proc.cred, proc._cwd, path, mode)
    return True


def chdir(proc, path):
    """chdir(2).  ENOENT, ENOTDIR, EACCES."""
    proc._cwd = vfs(proc).lookup_dir(proc.cred, proc._cwd, path)
