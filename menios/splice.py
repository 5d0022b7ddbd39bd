"""splice(2) and tee(2) between pipes, as Linux's fs/splice.c: the
argument checks in do_splice/do_tee's order, then the C core moves (or,
for tee, shares) page references from one pipe to the other; no byte is
copied.  Each function takes the calling process first; failures raise
``OSError`` with Linux's errno.

Only pipe-to-pipe transfers are implemented: a splice between a pipe and a
socket or file fails EINVAL (Linux moves the data; to fix), as one
between two files that are not pipes does on Linux.
"""
import errno

from . import _unix
from .args import as_int, err
from .constants import O_NONBLOCK, SPLICE_F_GIFT, SPLICE_F_MORE, SPLICE_F_MOVE, SPLICE_F_NONBLOCK
from .files import signalling_pipe_call

#: The flags splice and tee accept (SPLICE_F_ALL).
SPLICE_F_ALL = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT

_PipeFile = _unix.PipeFile


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


def splice(proc, src, dst, count, offset_src=None, offset_dst=None, flags=0):
    """splice(2) in os.splice's shape: bytes moved from ``src`` to ``dst``.
    0 for a ``count`` of 0 (ValueError when negative, as os.splice); EINVAL
    for an unknown flag; EBADF for a bad fd or one not open for reading
    (``src``) / writing (``dst``); ESPIPE for an offset on a pipe; EINVAL
    for the same pipe on both sides or no pipe at all; EAGAIN with
    SPLICE_F_NONBLOCK or O_NONBLOCK on either; EPIPE plus SIGPIPE with no
    reader on ``dst``."""
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
        if not (ipipe and opipe):
            raise err(errno.EINVAL)
        return _move(proc, fin, fout, count, flags, False)


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
