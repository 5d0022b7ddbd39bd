"""Open file descriptions that are not sockets: VFS files and pipes."""
import errno
import os
import stat

from . import _unix
from .args import err
from .constants import (O_LARGEFILE, O_NONBLOCK, O_RDONLY, O_WRONLY, MSG_NOSIGNAL,
                        SHUT_RD, SHUT_WR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, POLLHUP,
                        POLLERR, POLLRDHUP, FIONREAD, SOCK_STREAM)

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


class PipeEnd(_unix.File):
    """One end of a pipe.  The pipe is a one-way stream pair in the C core,
    so reads and writes block, wake and poll with the same machinery."""

    def __init__(self, sock, readable, pipe_id):
        self.sock = sock
        self.readable = readable
        self.f_flags = O_RDONLY if readable else O_WRONLY
        self.ino = pipe_id

    def _sync_flags(self):
        self.sock.f_flags = self.f_flags & O_NONBLOCK

    def read(self, proc, n):
        if not self.readable:
            raise err(errno.EBADF)
        if n == 0:
            return b""                  # pipe_read: a null read succeeds at once
        self._sync_flags()
        return self.sock.recv(n, 0)

    def write(self, proc, data):
        if self.readable:
            raise err(errno.EBADF)
        if not memoryview(data).nbytes:
            return 0                    # pipe_write: a null write succeeds at once
        self._sync_flags()
        try:
            return self.sock.send(data, MSG_NOSIGNAL, proc._scm)
        except BrokenPipeError:
            proc._raise_sigpipe()
            raise err(errno.EPIPE) from None

    def lseek(self, offset, whence):
        raise err(errno.ESPIPE)

    def pipe_ioctl(self, request):
        """FIONREAD: bytes in the pipe (either end), as pipe_ioctl."""
        if request == FIONREAD:
            return self.reader.ioctl(request)
        raise err(errno.ENOTTY)

    def fstat(self):
        return os.stat_result((PIPE_MODE, self.ino, PIPEFS_DEV, 1, 0, 0, 0, 0, 0, 0))

    def poll_mask(self):
        return None     # polled through the socket underneath, see menios.poll

    def socket_events(self, events):
        """What to ask of the socket underneath for these pipe events."""
        return (POLLIN | POLLRDNORM | POLLRDHUP) if self.readable else (POLLOUT | POLLWRNORM)

    def translate_poll(self, mask):
        if self.readable:
            out = mask & (POLLIN | POLLRDNORM)
            if mask & (POLLHUP | POLLRDHUP):              # writer gone
                out |= POLLHUP
            return out
        out = mask & (POLLOUT | POLLWRNORM)
        if mask & POLLHUP:
            out |= POLLERR                               # reader gone
        return out

    def release(self):
        self.sock.fput()


def make_pipe(kernel, cred_tuple):
    """(read end, write end): a stream socketpair used one way."""
    r = _unix.Socket(kernel.net, SOCK_STREAM)
    w = _unix.Socket(kernel.net, SOCK_STREAM)
    r.socketpair_with(w, cred_tuple)
    r.set_pipe()
    w.set_pipe()
    r.shutdown(SHUT_WR)
    w.shutdown(SHUT_RD)
    with kernel.lock:
        kernel._next_pipe += 1
        ino = kernel._next_pipe
    rend, wend = PipeEnd(r, True, ino), PipeEnd(w, False, ino)
    rend.reader = wend.reader = r      # FIONREAD on either end counts the pipe's bytes
    return rend, wend
