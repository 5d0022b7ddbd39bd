"""Open file descriptions that are not sockets: VFS files and pipes."""
import errno
import os
import stat

from . import _unix
O_LARGEFILE = 0o100000

from .constants import (O_ACCMODE, O_APPEND, O_NONBLOCK, O_RDONLY, O_WRONLY,
                        MSG_NOSIGNAL, SHUT_RD, SHUT_WR, POLLIN, POLLOUT, POLLRDNORM,
                        POLLWRNORM, POLLHUP, POLLERR, SOCK_STREAM)

#: What poll reports for a file that is always ready (Linux's DEFAULT_POLLMASK).
DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM


def _err(code):
    return OSError(code, os.strerror(code))


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
            raise _err(errno.EBADF)
        if n == 0:
            return b""                  # pipe_read: a null read succeeds at once
        self._sync_flags()
        return self.sock.recv(n, 0)

    def write(self, proc, data):
        if self.readable:
            raise _err(errno.EBADF)
        if not memoryview(data).nbytes:
            return 0                    # pipe_write: a null write succeeds at once
        self._sync_flags()
        try:
            return self.sock.send(data, MSG_NOSIGNAL, proc._scm)
        except BrokenPipeError:
            proc._raise_sigpipe()
            raise _err(errno.EPIPE) from None

    def lseek(self, offset, whence):
        raise _err(errno.ESPIPE)

    def pipe_ioctl(self, request):
        """FIONREAD: bytes in the pipe (either end), as pipe_ioctl."""
        if request == 0x541B:
            return self.reader.ioctl(request)
        raise _err(errno.ENOTTY)

    def fstat(self):
        return os.stat_result((stat.S_IFIFO | 0o600, self.ino, 0xc, 1, 0, 0, 0, 0, 0, 0))

    def poll_mask(self):
        return None     # polled through the socket, see Process.poll

    def socket_events(self, events):
        """What to ask of the socket underneath for these pipe events."""
        return (POLLIN | POLLRDNORM | 0x2000) if self.readable else (POLLOUT | POLLWRNORM)

    def translate_poll(self, mask):
        if self.readable:
            out = mask & (POLLIN | POLLRDNORM)
            if mask & POLLHUP or (mask & 0x2000):       # writer gone
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
        kernel._next_pipe = getattr(kernel, "_next_pipe", 1 << 20) + 1
        pid = kernel._next_pipe
    rend, wend = PipeEnd(r, True, pid), PipeEnd(w, False, pid)
    rend.reader = wend.reader = r      # FIONREAD on either end counts the pipe's bytes
    return rend, wend
