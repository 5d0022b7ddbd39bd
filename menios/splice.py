"""splice(2), tee(2), vmsplice(2) and sendfile(2), as Linux's fs/splice.c
and fs/read_write.c: the argument checks in do_splice/do_tee/do_sendfile's
order, then the C core moves page references.

* pipe -> pipe: whole buffers move, a part of one shares its page; tee
  shares without consuming.
* regular file -> pipe (splice, sendfile): references to the file's own
  pages go in the pipe (filemap_splice_read): nothing is copied, and a
  later write to the file shows through the pipe, as on Linux.
* pipe -> regular file: the pipe's bytes are copied into the file's pages
  (iter_file_splice_write).
* regular file -> socket (sendfile): on a stream socket the pages go as page
  skbs sharing them (consecutive pages of one large page run in one skb),
  charged to the send buffer; a datagram or seqpacket socket gets a copy,
  one message per batch of up to 16 pages (do_splice_direct's internal
  pipe).
* pipe -> AF_UNIX socket (splice_to_socket): on a stream socket the pipe's
  buffers go as page skbs sharing their pages (buffers that follow each
  other in one page run in one skb), charged to the send buffer; a datagram
  or seqpacket socket gets each batch copied as one message.
* AF_UNIX socket -> pipe (splice, sendfile): a stream socket's paged data
  goes in by reference, the rest is copied (unix_stream_splice_read); a
  datagram or seqpacket socket gives one message, cut to the count.
* vmsplice: ``Pages`` are shared page by page (``SPLICE_F_GIFT`` hands them
  over), other buffers copied into fresh pages; from a pipe's read end it
  copies out, as read.

Each function takes the calling process first; failures raise ``OSError``
with Linux's errno.
"""
import errno

import stat

from . import _unix
from .args import as_int, err
from .constants import (O_APPEND, O_NONBLOCK, SPLICE_F_GIFT, SPLICE_F_MORE, SPLICE_F_MOVE,
                        SPLICE_F_NONBLOCK, SOCK_STREAM)
from .files import VfsFile, signalling_pipe_call

#: The flags splice and tee accept (SPLICE_F_ALL).
SPLICE_F_ALL = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT

_PipeFile = _unix.PipeFile
_Socket = _unix.Socket
#: Most bytes one read or write moves (MAX_RW_COUNT).
MAX_RW_COUNT = 0x7ffff000
#: UIO_MAXIOV.
IOV_MAX = 1024
PAGE_SIZE = 4096
#: Page references sendfile takes at once for a stream socket (1 MiB): one
#: call then sends them, as page skbs of up to 16 pages each.
SENDFILE_STREAM_BATCH = 256


def _readable(f):
    if isinstance(f, _PipeFile):
        return bool(f.fmode & _unix.FMODE_READ)
    of = getattr(f, "of", None)
    return of.readable() if of is not None else True


def _writable(f):
    if isinstance(f, _PipeFile):
        return bool(f.fmode & _unix.FMODE_WRITE)
    of = getattr(f, "of", None)
    return of.writable() if of is not None else True


def _move(proc, fin, fout, count, flags, tee):
    nonblock = bool(flags & SPLICE_F_NONBLOCK or (fin.f_flags | fout.f_flags) & O_NONBLOCK)
    return signalling_pipe_call(proc, fin.splice_to, fout, count, nonblock, tee)


def _regular(f):
    return isinstance(f, VfsFile) and stat.S_ISREG(f.of.inode.mode)


def _seekable(f):
    """FMODE_PREAD/FMODE_PWRITE: a VFS file takes an offset."""
    return isinstance(f, VfsFile)


def _start(f, offset):
    """The position a call starts at: ``offset``, else the file's;
    EINVAL for a negative one (rw_verify_area)."""
    if offset is None:
        return f.of.pos
    offset = as_int(offset)
    if offset < 0:
        raise err(errno.EINVAL)
    return offset


def _to_pipe(proc, fin, fout, count, offset, nonblock):
    """splice_file_to_pipe: wait for room in the pipe ``fout`` (EPIPE +
    SIGPIPE without a reader, EAGAIN when full and ``nonblock``), then 0 for
    a ``count`` of 0, then ``fin``'s splice_read: a socket's data
    (unix_stream_splice_read, or one message of another type, whose own
    O_NONBLOCK alone says whether it waits), a regular file's pages from
    its position (``offset`` or the file's, then advanced), else EINVAL."""
    if isinstance(fin, _Socket):
        sock_nb = bool(fin.f_flags & O_NONBLOCK)
        if fin.type == SOCK_STREAM:
            sock_nb = sock_nb or nonblock
        return signalling_pipe_call(proc, _unix.splice_socket_to_pipe, fin, fout, count,
                                    nonblock, sock_nb, proc)
    if not count or not _regular(fin):
        signalling_pipe_call(proc, _unix.pipe_add_refs, fout, _unix.PageRefs(0), nonblock, False)
        if count:
            raise err(errno.EINVAL)         # no splice_read (a directory, a pipe)
        return 0
    of = fin.of
    with of._lock:
        pos = _start(fin, offset)
        refs = of.inode.data.refs(pos, min(count, MAX_RW_COUNT),
                                  max(1, fout.get_size() // PAGE_SIZE))
    n = signalling_pipe_call(proc, _unix.pipe_add_refs, fout, refs, nonblock, True)
    if offset is None and n:
        with of._lock:
            of.pos = pos + n
    return n


def _pipe_to_file(proc, fin, fout, count, offset, nonblock):
    """iter_file_splice_write: what the pipe holds, up to ``count`` bytes,
    copied into the file's pages at its position (``offset`` or the
    file's, then advanced).  EINVAL for O_APPEND or a file that is not
    regular."""
    of = fout.of
    if of.flags & O_APPEND or not _regular(fout):
        raise err(errno.EINVAL)
    size = fin.get_size()
    with of._lock:
        pos = _start(fout, offset)
        refs = of.inode.data.refs_for_write(pos, min(count, size, MAX_RW_COUNT),
                                            size // PAGE_SIZE + 1)
    n = _unix.pipe_read_refs(fin, refs, nonblock)
    if n:
        with of._lock:
            of.inode.data.extend(pos + n)
            if offset is None:
                of.pos = pos + n
            of._written(proc.cred)
    return n


def splice(proc, src, dst, count, offset_src=None, offset_dst=None, flags=0):
    """splice(2) in os.splice's shape: bytes moved from ``src`` to ``dst``.
    0 for a ``count`` of 0 (ValueError when negative, as os.splice); EINVAL
    for an unknown flag; EBADF for a bad fd or one not open for reading
    (``src``) / writing (``dst``); ESPIPE for an offset on a pipe; EINVAL
    for the same pipe on both sides or no pipe at all; EAGAIN with
    SPLICE_F_NONBLOCK or O_NONBLOCK on the pipe(s); EPIPE plus SIGPIPE
    with no reader on ``dst``.  Between a pipe and a regular file: the
    offset given (EINVAL when negative) or the file position (advanced);
    0 at or past the end of the file; EINVAL for an O_APPEND output or a
    file that is not regular."""
    proc._check_alive()
    count, flags = as_int(count), as_int(flags)
    if count < 0:
        raise ValueError("negative value for 'count' not allowed")
    if count == 0:
        return 0
    if flags & ~SPLICE_F_ALL:
        raise err(errno.EINVAL)
    with proc._hold(src) as fin, proc._hold(dst) as fout:
        ipipe, opipe = isinstance(fin, _PipeFile), isinstance(fout, _PipeFile)
        if (ipipe and offset_src is not None) or (opipe and offset_dst is not None):
            raise err(errno.ESPIPE)
        if not _readable(fin) or not _writable(fout):
            raise err(errno.EBADF)
        if ipipe and opipe:
            return _move(proc, fin, fout, count, flags, False)
        nonblock = bool(flags & SPLICE_F_NONBLOCK)
        if ipipe and _seekable(fout):
            return _pipe_to_file(proc, fin, fout, count, offset_dst,
                                 nonblock or bool(fin.f_flags & O_NONBLOCK))
        if ipipe and isinstance(fout, _Socket):
            if offset_dst is not None:
                raise err(errno.EINVAL)         # no FMODE_PWRITE
            return signalling_pipe_call(proc, _unix.splice_pipe_to_socket, fin, fout, count,
                                        nonblock or bool(fin.f_flags & O_NONBLOCK), proc)
        if opipe:
            if offset_src is not None and not _seekable(fin):
                raise err(errno.EINVAL)         # no FMODE_PREAD
            return _to_pipe(proc, fin, fout, count, offset_src,
                            nonblock or bool(fout.f_flags & O_NONBLOCK))
        raise err(errno.EINVAL)


def tee(proc, src, dst, count, flags=0):
    """tee(2): bytes of pipe ``src`` duplicated into pipe ``dst`` without
    consuming them.  EINVAL for an unknown flag, then 0 for a ``count`` of
    0; EBADF; EINVAL unless both are pipes, different ones; EAGAIN, EPIPE
    as splice."""
    proc._check_alive()
    count, flags = as_int(count), as_int(flags)
    if flags & ~SPLICE_F_ALL:
        raise err(errno.EINVAL)
    if count < 0:
        raise ValueError("negative value for 'count' not allowed")
    if count == 0:
        return 0
    with proc._hold(src) as fin, proc._hold(dst) as fout:
        if not _readable(fin) or not _writable(fout):
            raise err(errno.EBADF)
        if not (isinstance(fin, _PipeFile) and isinstance(fout, _PipeFile)):
            raise err(errno.EINVAL)
        return _move(proc, fin, fout, count, flags, True)


def _to_socket(proc, fin, sock, pos, count):
    """do_splice_direct into a socket: batches of the file's pages, each
    sent as splice_to_socket sends (page skbs on a stream socket, one
    copied message otherwise), until ``count`` bytes, the end of the file,
    or a short send.  An error before any byte went is raised (EPIPE with
    SIGPIPE pending)."""
    of = fin.of
    stream = sock.type == SOCK_STREAM
    batch = SENDFILE_STREAM_BATCH if stream else _unix.SPLICE_BATCH
    total = 0
    while total < count:
        with of._lock:
            refs = of.inode.data.refs(pos + total, count - total, batch)
        want = refs.nbytes
        if not want:
            break
        try:
            n = _unix.socket_send_refs(sock, refs, proc, stream)
        except _unix.SigPipe:
            if total:
                break
            raise proc._epipe() from None
        except OSError:
            if total:
                break
            raise
        total += n
        if n < want:
            break
    return total


def sendfile(proc, out_fd, in_fd, offset, count):
    """sendfile(2) in os.sendfile's shape: bytes sent from the regular file
    ``in_fd`` to ``out_fd`` (a pipe, a socket or a regular file), from
    ``offset`` (the file position untouched) or, for None, from the file
    position (advanced); or from the AF_UNIX socket ``in_fd`` into the pipe
    ``out_fd``, as splice reads it.  In do_sendfile's order: EBADF
    (``in_fd`` bad or not readable), ESPIPE (an offset on a file without
    one), EINVAL (a negative offset), EBADF (``out_fd``).  To a pipe,
    splice_file_to_pipe's order: room first (EAGAIN when full and
    O_NONBLOCK, EPIPE + SIGPIPE without a reader), then 0 for a ``count``
    of 0, then EINVAL for an input that cannot be spliced from (a pipe, a
    directory); one pipe-full at most.  Elsewhere: EINVAL for an input
    that is not a regular file or an O_APPEND output; 0 at or past the end
    of the file; to a socket, everything unless a send stops short (EAGAIN,
    EPIPE + SIGPIPE, ENOTCONN when nothing went)."""
    proc._check_alive()
    count = as_int(count)
    if count < 0:
        raise err(errno.EINVAL)
    with proc._hold(in_fd) as fin:
        if not _readable(fin):
            raise err(errno.EBADF)
        if offset is not None and not _seekable(fin):
            raise err(errno.ESPIPE)
        pos = _start(fin, offset) if _seekable(fin) else 0
        with proc._hold(out_fd) as fout:
            if not _writable(fout):
                raise err(errno.EBADF)
            count = min(count, MAX_RW_COUNT)
            if isinstance(fout, _PipeFile):
                return _to_pipe(proc, fin, fout, count, offset,
                                bool(fout.f_flags & O_NONBLOCK))
            if getattr(fout, "of", None) is not None and fout.of.flags & O_APPEND:
                raise err(errno.EINVAL)
            if not _regular(fin):
                raise err(errno.EINVAL)
            if not count:
                return 0
            if isinstance(fout, _Socket):
                n = _to_socket(proc, fin, fout, pos, count)
            elif _regular(fout):
                with fin.of._lock:
                    data = fin.of.inode.data.read(pos, count)
                n = fout.write(proc, data) if data else 0
            else:
                raise err(errno.EINVAL)
            if offset is None and n:
                with fin.of._lock:
                    fin.of.pos = pos + n
            return n


def vmsplice(proc, fd, buffers, flags=0):
    """vmsplice(2): into a pipe's write end, ``buffers``' bytes as page
    buffers (``Pages`` shared, ``SPLICE_F_GIFT`` handing them over; other
    buffers copied), as many as fit once there is room; from a read end,
    a read into the writable ``buffers``.  In Linux's order: EINVAL for an
    unknown flag, EBADF for a bad fd, EINVAL for more than IOV_MAX
    buffers, 0 when the buffers hold no byte (whatever the file), then
    EBADF for a file that is not a pipe; EAGAIN with SPLICE_F_NONBLOCK
    (the pipe's O_NONBLOCK does not count: without the flag vmsplice
    waits); EPIPE + SIGPIPE without a reader."""
    proc._check_alive()
    flags = as_int(flags)
    bufs = list(buffers)
    if flags & ~SPLICE_F_ALL:
        raise err(errno.EINVAL)
    with proc._hold(fd) as f:
        # vmsplice_type(): the file's mode picks the direction
        if _writable(f):
            to_pipe = True
        elif _readable(f):
            to_pipe = False
        else:
            raise err(errno.EBADF)
        if len(bufs) > IOV_MAX:
            raise err(errno.EINVAL)
        if not isinstance(f, _PipeFile):
            # an empty iovec returns before the file is looked at
            if any(_iov_len(b) for b in bufs):
                raise err(errno.EBADF)
            return 0
        nonblock = bool(flags & SPLICE_F_NONBLOCK)     # the file's O_NONBLOCK is not looked at
        if to_pipe:
            refs = _unix.user_refs(bufs, bool(flags & SPLICE_F_GIFT))
            if not len(refs):
                return 0
            share = any(isinstance(b, (_unix.Pages, _unix.PageBuffer)) for b in bufs)
            return signalling_pipe_call(proc, _unix.pipe_add_refs, f, refs, nonblock, share)
        return _unix.pipe_read_into(f, bufs, nonblock)


def _iov_len(b):
    """How many bytes one vmsplice buffer spans."""
    if isinstance(b, (_unix.Pages, _unix.PageBuffer)):
        return b.nbytes
    return memoryview(b).nbytes
