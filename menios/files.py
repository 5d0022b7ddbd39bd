"""Open file descriptions that are not sockets: VFS files and pipes."""
import errno
import os
import stat

from . import _unix
from .args import err
from .constants import (O_ACCMODE, O_APPEND, O_CLOEXEC, O_DIRECT, O_EXCL, O_LARGEFILE,
                        O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, POLLIN, POLLOUT, POLLRDNORM,
                        POLLWRNORM, FIONREAD)

#: What poll reports for a file that is always ready (Linux's DEFAULT_POLLMASK).
DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM

#: Pipe inode numbers count up from here, apart from the VFS's.
PIPE_INO_BASE = 1 << 20

#: st_mode and st_dev of a pipe, as fstat shows them on the reference kernel
#: (pipefs's anonymous device).
PIPE_MODE = stat.S_IFIFO | stat.S_IRUSR | stat.S_IWUSR
PIPEFS_DEV = 0xc


class VfsFile(_unix.File):
    """A regular file or directory opened through the VFS."""

    def __init__(self, openfile):
        self.of = openfile
        # 64-bit Linux opens every file O_LARGEFILE (force_o_largefile).
        self.f_flags = openfile.flags | O_LARGEFILE

    def read(self, proc, n):
        return self.of.read(n)

    def write(self, proc, data):
        return self.of.write(data, proc.cred)

    def lseek(self, offset, whence):
        return self.of.lseek(offset, whence)

    def fstat(self):
        return self.of.fstat()

    def poll_mask(self):
        return DEFAULT_POLLMASK

    def release(self):
        self.of.release()


def signalling_pipe_call(proc, call, *args):
    """Run a pipe call that returns (count, SIGPIPE due): the count; SIGPIPE
    marked pending on ``proc`` when due, with EPIPE when nothing moved."""
    try:
        n, sigpipe = call(*args)
    except _unix.SigPipe:
        raise proc._epipe() from None
    if sigpipe:
        proc._raise_sigpipe()
    return n


class PipeEnd(_unix.PipeFile):
    """An open file on a pipe (fs/pipe.h in the C core): an end of
    ``pipe()``.  Reads, writes, FIONREAD, F_GETPIPE_SZ/F_SETPIPE_SZ and
    poll are the pipe's own (pipe_read, pipe_write, pipe_ioctl,
    pipe_fcntl, pipe_poll)."""

    def __init__(self, net, fmode, _new=False):
        self.ino = 0
        self.uid = self.gid = 0
        self.fifo = None        # a FIFO's inode, whose pipe this file is on
        self.fifo_lock = None   # the lock of its pipe and count (Kernel.lock)

    def read(self, proc, n):
        return _unix.PipeFile.read(self, n)

    def write(self, proc, data):
        """pipe_write: bytes written.  EPIPE with SIGPIPE pending when no
        reader is left (SIGPIPE too when a partial write ends that way)."""
        return signalling_pipe_call(proc, _unix.PipeFile.write, self, data)

    def lseek(self, offset, whence):
        raise err(errno.ESPIPE)

    def pipe_ioctl(self, request):
        """FIONREAD: bytes in the pipe (either end), as pipe_ioctl."""
        if request == FIONREAD:
            return self.nread()
        raise err(errno.ENOTTY)

    def fstat(self):
        """A pipefs inode owned by the creator's fsuid/fsgid; a FIFO's
        own inode."""
        if self.fifo is not None:
            return self.fifo.stat_result()
        return os.stat_result((PIPE_MODE, self.ino, PIPEFS_DEV, 1, self.uid, self.gid,
                               0, 0, 0, 0))

    def release(self):
        """pipe_release; the last file on a FIFO drops its pipe."""
        _unix.PipeFile.release(self)
        inode = self.fifo
        if inode is not None:
            with self.fifo_lock:
                inode.fifo_files -= 1
                if not inode.fifo_files:
                    inode.fifo = None           # put_pipe_info: unread data goes


#: open(2)'s access mode -> the pipe file's mode (O_ACCMODE itself: none).
_FIFO_FMODE = {O_RDONLY: _unix.FMODE_READ, O_WRONLY: _unix.FMODE_WRITE,
               O_RDWR: _unix.FMODE_READ | _unix.FMODE_WRITE, O_ACCMODE: 0}


def fifo_open(kernel, inode, flags):
    """fifo_open: a PipeEnd on the FIFO ``inode``'s pipe, made at its first
    open.  Blocks for the other side (see ``_unix.Pipe.open``); ENXIO for a
    non-blocking writer without a reader."""
    lock = kernel.lock
    with lock:
        if inode.fifo is None:
            inode.fifo = _unix.Pipe(kernel.net)
        pipe = inode.fifo
        inode.fifo_files += 1               # pipe->files: kept while we wait
    try:
        f = pipe.open(_FIFO_FMODE[flags & O_ACCMODE], bool(flags & O_NONBLOCK), PipeEnd)
    except BaseException:
        with lock:
            inode.fifo_files -= 1
            if not inode.fifo_files and inode.fifo is pipe:
                inode.fifo = None
        raise
    f.f_flags = flags & (O_ACCMODE | O_NONBLOCK | O_DIRECT | O_APPEND) | O_LARGEFILE
    f.fifo, f.fifo_lock = inode, lock
    return f


#: pipe2's accepted flags (O_NOTIFICATION_PIPE is O_EXCL: no watch queues).
PIPE2_FLAGS = O_CLOEXEC | O_NONBLOCK | O_DIRECT


def make_pipe(kernel, cred, flags=0):
    """(read end, write end) of a new pipe, as create_pipe_files: both
    ends carry ``flags``' O_NONBLOCK, the write end its O_DIRECT; the inode
    is the caller's fsuid/fsgid's.  EINVAL for other flags; ENOPKG for O_NOTIFICATION_PIPE,
    as a kernel without watch queues."""
    if flags & ~PIPE2_FLAGS:
        raise err(errno.ENOPKG if flags & ~PIPE2_FLAGS == O_EXCL else errno.EINVAL)
    r, w = _unix.PipeFile.pair(kernel.net, PipeEnd)
    with kernel.lock:
        kernel._next_pipe += 1
        ino = kernel._next_pipe
    r.f_flags = O_RDONLY | (flags & O_NONBLOCK)          # O_DIRECT is the writer's
    w.f_flags = O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT))
    for end in (r, w):
        end.ino = ino
        end.uid, end.gid = cred.fsuid, cred.fsgid
    return r, w
