"""getsockopt and setsockopt: the option values as the stdlib passes them
(an int, or a bytes-like buffer), the timeouts as ``struct timeval``
rounded to jiffies (Linux's sock_set_timeout / sock_get_timeout), and the
capability checks of sk_setsockopt.  The socket itself keeps the values.
"""
import errno
import struct

from .args import as_int, err
from .constants import (
    HZ, INT_MAX, INT_MIN, NSEC_PER_SEC, SIZEOF_INT, SO_DEBUG, SO_INQ, SO_PEERCRED,
    SO_RCVBUFFORCE, SO_RCVTIMEO, SO_SNDBUFFORCE, SO_SNDTIMEO, SOCK_STREAM, SOL_SOCKET,
    USEC_PER_SEC)
from .scm import UCRED

#: struct timeval on 64-bit Linux: seconds, microseconds.
TIMEVAL = struct.Struct("qq")
_INT = struct.Struct("i")
JIFFY_NS = NSEC_PER_SEC // HZ
USEC_PER_JIFFY = USEC_PER_SEC // HZ
#: The largest buffer the stdlib's getsockopt accepts.
GETSOCKOPT_BUFLEN_MAX = 1024

#: The socket keeps a timeout in nanoseconds; this one means "never".
NO_TIMEOUT = -1


def timeval_to_ns(raw):
    """sock_set_timeout: a timeval (EINVAL if shorter, EDOM for usec out
    of range) as the socket's timeout, rounded up to whole jiffies.  A
    negative time is 0 (return at once), zero is no timeout."""
    if len(raw) < TIMEVAL.size:
        raise err(errno.EINVAL)
    sec, usec = TIMEVAL.unpack(raw[:TIMEVAL.size])
    if usec < 0 or usec >= USEC_PER_SEC:
        raise err(errno.EDOM)
    if sec < 0:
        return 0
    if sec == 0 and usec == 0:
        return NO_TIMEOUT
    return (sec * HZ + -(-usec // USEC_PER_JIFFY)) * JIFFY_NS


def ns_to_timeval(ns):
    """sock_get_timeout: the socket's timeout as a packed timeval (zero
    for no timeout)."""
    if ns < 0:
        return TIMEVAL.pack(0, 0)
    j = ns // JIFFY_NS
    return TIMEVAL.pack(j // HZ, (j % HZ) * USEC_PER_JIFFY)


def getsockopt(proc, fd, level, optname, buflen=0):
    """getsockopt(2): an int with ``buflen`` 0, else at most ``buflen``
    bytes of the value.  SO_PEERCRED is a ucred, SO_RCVTIMEO/SO_SNDTIMEO a
    timeval.  EBADF, ENOTSOCK, ENOPROTOOPT; OSError for a ``buflen``
    outside what the stdlib accepts."""
    with proc._hold_sock(fd) as s:
        level, optname, buflen = as_int(level), as_int(optname), as_int(buflen)
        if buflen < 0 or buflen > GETSOCKOPT_BUFLEN_MAX:
            raise OSError("getsockopt buflen out of range")
        if level == SOL_SOCKET and optname == SO_PEERCRED:
            raw = UCRED.pack(*s.peercred())
        elif level == SOL_SOCKET and optname in (SO_RCVTIMEO, SO_SNDTIMEO):
            raw = ns_to_timeval(s.getsockopt(level, optname))
        else:
            raw = _INT.pack(s.getsockopt(level, optname))
        if buflen == 0:
            return _INT.unpack(raw[:SIZEOF_INT])[0]
        return raw[:buflen]


def setsockopt(proc, fd, level, optname, value):
    """setsockopt(2) with an int or a bytes-like value.  EBADF, ENOTSOCK,
    ENOPROTOOPT; EINVAL for a value too short; EDOM for a timeval out of
    range; EACCES (SO_DEBUG) and EPERM (SO_SNDBUFFORCE/SO_RCVBUFFORCE)
    without CAP_NET_ADMIN; OverflowError for an int beyond a C int.
    SO_INQ is a stream socket's own option (unix_setsockopt): its value
    must be exactly an int, 0 or 1 (EINVAL); the other types do not know
    it (ENOPROTOOPT)."""
    with proc._hold_sock(fd) as s:
        level, optname = as_int(level), as_int(optname)
        if isinstance(value, int):
            if not INT_MIN <= value <= INT_MAX:
                raise OverflowError("Python int too large to convert to C int")
            raw = _INT.pack(value)
        else:
            raw = bytes(memoryview(value))
        if level == SOL_SOCKET and optname in (SO_RCVTIMEO, SO_SNDTIMEO):
            s.setsockopt(level, optname, timeval_to_ns(raw))
            return
        if level == SOL_SOCKET:
            if len(raw) < SIZEOF_INT or (optname == SO_INQ and s.type == SOCK_STREAM
                                         and len(raw) != SIZEOF_INT):
                raise err(errno.EINVAL)
            val = _INT.unpack(raw[:SIZEOF_INT])[0]
            # sk_setsockopt's sockopt_capable(CAP_NET_ADMIN) checks
            if optname == SO_DEBUG and val and not proc.cred.capable("CAP_NET_ADMIN"):
                raise err(errno.EACCES)
            if (optname in (SO_SNDBUFFORCE, SO_RCVBUFFORCE)
                    and not proc.cred.capable("CAP_NET_ADMIN")):
                raise err(errno.EPERM)
            s.setsockopt(level, optname, val)
            return
        s.setsockopt(level, optname, 0)
