"""getsockopt and setsockopt: the option values as the stdlib passes them
(an int, or a bytes-like buffer), the timeouts as ``struct timeval``
rounded to jiffies (Linux's sock_set_timeout / sock_get_timeout), and the
capability checks of sk_setsockopt.  The socket itself keeps the values.
"""
import errno
import struct

from . import _unix, pidfd
from .args import as_int, err
from .constants import (
    AF_UNIX, HZ, INT_MAX, INT_MIN, NSEC_PER_SEC, SIZEOF_INT, SO_BINDTODEVICE, SO_BINDTOIFINDEX,
    SO_BUSY_POLL_BUDGET, SO_COOKIE, SO_DEBUG, SO_INQ, SO_LINGER, SO_MARK, SO_MAX_PACING_RATE, SO_MEMINFO,
    SO_NETNS_COOKIE, SO_PEERCRED, SO_PEERGROUPS, SO_PEERNAME,
    SO_PEERPIDFD, SO_PREFER_BUSY_POLL, SO_PRIORITY, SO_RCVBUFFORCE, SO_RCVTIMEO,
    SO_SNDBUFFORCE, SO_SNDTIMEO, SO_TXTIME, SOCK_STREAM, SOL_SOCKET, USEC_PER_SEC)
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

#: The network devices of a menios kernel's network namespace: only the
#: loopback device, as in a namespace just made (name -> ifindex).
NET_DEVICES = {b"lo": 1}
_DEVICE_NAMES = {i: n for n, i in NET_DEVICES.items()}
IFNAMSIZ = 16
#: The options whose capability check compares with what the socket holds:
#: the core makes it, told the capability above the value's 32 bits.
_CAP_MARKS = {SO_BUSY_POLL_BUDGET: ("CAP_NET_ADMIN", _unix.SOCKOPT_NET_ADMIN),
              SO_BINDTOIFINDEX: ("CAP_NET_RAW", _unix.SOCKOPT_NET_RAW)}
#: SO_MEMINFO's u32 counters (SK_MEMINFO_VARS).
SK_MEMINFO_VARS = 9
#: struct linger {l_onoff, l_linger}; struct sock_txtime {clockid, flags}.
LINGER = struct.Struct("ii")
TXTIME = struct.Struct("iI")
_U32 = struct.Struct("I")
_U64 = struct.Struct("Q")
_I64 = struct.Struct("q")
_SA_FAMILY = struct.Struct("H")
U32_MAX = 0xffffffff
#: SO_TXTIME: SOF_TXTIME_DEADLINE_MODE | SOF_TXTIME_REPORT_ERRORS, and the
#: clocks sockopt_validate_clockid takes (CLOCK_REALTIME, CLOCK_MONOTONIC,
#: CLOCK_TAI); only CLOCK_MONOTONIC needs no CAP_NET_ADMIN.
SOF_TXTIME_FLAGS_MASK = 0x3
CLOCK_MONOTONIC = 1
TXTIME_CLOCKS = (0, CLOCK_MONOTONIC, 11)
#: SO_PRIORITY values anyone may set (TC_PRIO_INTERACTIVE at most).
PRIORITY_UNPRIVILEGED = range(0, 7)


def _two_halves(lo, hi):
    """Two 32-bit fields as the core's int64 for SO_LINGER and SO_TXTIME."""
    return _I64.unpack(_U64.pack(((hi & U32_MAX) << 32) | (lo & U32_MAX)))[0]


def _halves(v):
    """The core's int64 for SO_LINGER and SO_TXTIME as (low, high) u32s."""
    u = v & 0xffffffffffffffff
    return u & U32_MAX, u >> 32


def _s32(u):
    """A u32 as the C int with its bits."""
    return u - (1 << 32) if u & 0x80000000 else u


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
    timeval, SO_LINGER a linger, SO_TXTIME a sock_txtime, SO_PEERNAME the
    peer's sockaddr (EINVAL for a buffer longer than it), SO_PEERPIDFD a new
    pidfd for the peer (ENODATA without one), SO_PEERGROUPS the
    groups recorded with SO_PEERCRED (ENODATA with none, ERANGE for a
    buffer too short), SO_MEMINFO nine u32 counters, SO_MAX_PACING_RATE
    64 bits for a buffer of 8 bytes or more.  EBADF, ENOTSOCK, ENOPROTOOPT;
    OSError for a ``buflen`` outside what the stdlib accepts."""
    with proc._hold_sock(fd) as s:
        level, optname, buflen = as_int(level), as_int(optname), as_int(buflen)
        if buflen < 0 or buflen > GETSOCKOPT_BUFLEN_MAX:
            raise OSError("getsockopt buflen out of range")
        optlen = buflen or SIZEOF_INT      # what the kernel is given: an int's for buflen 0
        if level == SOL_SOCKET and optname == SO_PEERCRED:
            raw = UCRED.pack(*s.peercred())
        elif level == SOL_SOCKET and optname in (SO_RCVTIMEO, SO_SNDTIMEO):
            raw = ns_to_timeval(s.getsockopt(level, optname))
        elif level == SOL_SOCKET and optname == SO_PEERNAME:
            # the peer's address, as getpeername's; a buffer longer than it
            # is EINVAL, a shorter one gets its first bytes
            raw = _SA_FAMILY.pack(AF_UNIX) + s.getname(True)
            if len(raw) < optlen:
                raise err(errno.EINVAL)
        elif level == SOL_SOCKET and optname == SO_PEERPIDFD:
            # a new pidfd (close-on-exec) for the pid SO_PEERCRED names,
            # stale if that process is gone; ENODATA where it names none
            pid = s.peercred()[0]
            if not pid:
                raise err(errno.ENODATA)
            raw = _INT.pack(pidfd.install(proc, pid))
        elif level == SOL_SOCKET and optname == SO_BINDTODEVICE:
            # sock_getbindtodevice: nothing when unbound, else the name,
            # for a buffer of at least IFNAMSIZ
            index = s.getsockopt(level, SO_BINDTOIFINDEX)
            if not index:
                return 0 if buflen == 0 else b""
            if optlen < IFNAMSIZ:
                raise err(errno.EINVAL)
            if index not in _DEVICE_NAMES:
                raise err(errno.ENODEV)       # netdev_get_name: no such index
            raw = _DEVICE_NAMES[index] + b"\0"
        elif level == SOL_SOCKET and optname in (SO_COOKIE, SO_NETNS_COOKIE):
            # a u64: SO_COOKIE in a buffer that holds one, SO_NETNS_COOKIE
            # in one of exactly its size
            if optlen < _U64.size or (optname == SO_NETNS_COOKIE and optlen != _U64.size):
                raise err(errno.EINVAL)
            raw = _U64.pack(s.getsockopt(level, optname) & 0xffffffffffffffff)
        elif level == SOL_SOCKET and optname == SO_MEMINFO:
            raw = struct.pack("%dI" % SK_MEMINFO_VARS, *s.meminfo())
        elif level == SOL_SOCKET and optname == SO_PEERGROUPS:
            # the gid_t array; ERANGE when the buffer cannot hold it all
            gids = s.peergroups()
            if optlen < len(gids) * SIZEOF_INT:
                raise err(errno.ERANGE)
            raw = struct.pack("%dI" % len(gids), *gids)
            if buflen == 0 and not gids:
                return 0
        elif level == SOL_SOCKET and optname == SO_LINGER:
            onoff, linger = _halves(s.getsockopt(level, optname))
            raw = LINGER.pack(_s32(onoff), _s32(linger))
        elif level == SOL_SOCKET and optname == SO_TXTIME:
            clockid, flags = _halves(s.getsockopt(level, optname))
            raw = TXTIME.pack(_s32(clockid), flags)
        elif level == SOL_SOCKET and optname == SO_MAX_PACING_RATE:
            rate = s.getsockopt(level, optname) & 0xffffffffffffffff
            # the 64-bit rate for a buffer that holds it, else capped to 32 bits
            raw = _U64.pack(rate) if buflen >= _U64.size else _U32.pack(min(rate, U32_MAX))
        else:
            raw = _INT.pack(s.getsockopt(level, optname))
        if buflen == 0:
            return _INT.unpack(raw[:SIZEOF_INT])[0]
        return raw[:buflen]


def _marked(cred, optname, val):
    """``val``'s 32 bits, with the capability mark the core checks for
    ``optname`` above them."""
    cap, mark = _CAP_MARKS[optname]
    return (val & U32_MAX) | (mark if cred.capable(cap) else 0)


def setsockopt(proc, fd, level, optname, value):
    """setsockopt(2) with an int or a bytes-like value.  EBADF, ENOTSOCK,
    ENOPROTOOPT; EINVAL for a value too short; EDOM for a timeval out of
    range; EACCES (SO_DEBUG) and EPERM (SO_SNDBUFFORCE/SO_RCVBUFFORCE)
    without CAP_NET_ADMIN, EPERM for SO_PRIORITY above 6 and SO_MARK
    without CAP_NET_ADMIN or CAP_NET_RAW, and for SO_PREFER_BUSY_POLL on or
    SO_TXTIME's other clocks without CAP_NET_ADMIN; EINVAL for a SO_LINGER
    shorter than a linger and a SO_TXTIME not exactly a sock_txtime, an
    unknown flag or clock; OverflowError for an int beyond a C int.
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
        if level == SOL_SOCKET and optname == SO_BINDTODEVICE:
            # sock_setbindtodevice, before any length check: a name of up
            # to IFNAMSIZ - 1 bytes; none (or an empty one) unbinds
            name = raw[:IFNAMSIZ - 1].split(b"\0", 1)[0]
            if name and name not in NET_DEVICES:
                raise err(errno.ENODEV)
            s.setsockopt(level, SO_BINDTOIFINDEX,
                         _marked(proc.cred, SO_BINDTOIFINDEX, NET_DEVICES.get(name, 0)))
            return
        if level == SOL_SOCKET:
            if len(raw) < SIZEOF_INT or (optname == SO_INQ and s.type == SOCK_STREAM
                                         and len(raw) != SIZEOF_INT):
                raise err(errno.EINVAL)
            val = _INT.unpack(raw[:SIZEOF_INT])[0]
            cred = proc.cred
            # sk_setsockopt's sockopt_capable / sockopt_ns_capable checks
            if optname == SO_DEBUG and val and not cred.capable("CAP_NET_ADMIN"):
                raise err(errno.EACCES)
            if (optname in (SO_SNDBUFFORCE, SO_RCVBUFFORCE)
                    and not cred.capable("CAP_NET_ADMIN")):
                raise err(errno.EPERM)
            if optname == SO_PRIORITY and val not in PRIORITY_UNPRIVILEGED and not (
                    cred.capable("CAP_NET_RAW") or cred.capable("CAP_NET_ADMIN")):
                raise err(errno.EPERM)
            if optname == SO_MARK and not (cred.capable("CAP_NET_RAW")
                                           or cred.capable("CAP_NET_ADMIN")):
                raise err(errno.EPERM)
            if optname == SO_PREFER_BUSY_POLL and val and not cred.capable("CAP_NET_ADMIN"):
                raise err(errno.EPERM)
            if optname in _CAP_MARKS:
                val = _marked(cred, optname, val)
            if optname == SO_LINGER:
                if len(raw) < LINGER.size:
                    raise err(errno.EINVAL)
                val = _two_halves(*LINGER.unpack(raw[:LINGER.size]))
            elif optname == SO_TXTIME:
                if len(raw) != TXTIME.size:
                    raise err(errno.EINVAL)
                clockid, flags = TXTIME.unpack(raw)
                if flags & ~SOF_TXTIME_FLAGS_MASK:
                    raise err(errno.EINVAL)
                if clockid != CLOCK_MONOTONIC and not cred.capable("CAP_NET_ADMIN"):
                    raise err(errno.EPERM)
                if clockid not in TXTIME_CLOCKS:
                    raise err(errno.EINVAL)
                val = _two_halves(clockid, flags)
            elif optname == SO_MAX_PACING_RATE:
                # a 64-bit rate from a buffer that holds one; ~0U is "none"
                if len(raw) >= _U64.size:
                    rate = _U64.unpack(raw[:_U64.size])[0]
                else:
                    rate = val & U32_MAX
                    if rate == U32_MAX:
                        rate = 0xffffffffffffffff
                val = _I64.unpack(_U64.pack(rate))[0]
            s.setsockopt(level, optname, val)
            return
        s.setsockopt(level, optname, 0)
