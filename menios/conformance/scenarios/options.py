"""SOL_SOCKET options as an AF_UNIX socket keeps them: the boolean options
sk_setsockopt stores as sock flags (values other than 0 and 1, short and
long option buffers, the CAP_NET_ADMIN checks, what an accepted socket
starts with) and SO_PEEK_OFF's negative values.  Named ``options_*``.
"""
import socket
import struct

from ..harness import SOCK_TYPES, scenario

AF_UNIX = socket.AF_UNIX
STREAM, DGRAM, SEQPACKET = socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET
SOL = socket.SOL_SOCKET
NB, DW, PEEK = socket.SOCK_NONBLOCK, socket.MSG_DONTWAIT, socket.MSG_PEEK
SO_PEEK_OFF = 42
INT_MIN, INT_MAX = -2**31, 2**31 - 1

#: The options Linux keeps as a flag on an AF_UNIX socket and reads back as
#: 0 or 1 (SO_DEBUG needs CAP_NET_ADMIN to turn on; SO_LOCK_FILTER cannot be
#: turned off once on).  The stdlib names only some of them.
BOOL_OPTS = {
    "SO_DEBUG": 1, "SO_REUSEADDR": 2, "SO_DONTROUTE": 5, "SO_BROADCAST": 6,
    "SO_KEEPALIVE": 9, "SO_OOBINLINE": 10, "SO_NO_CHECK": 11, "SO_PASSCRED": 16,
    "SO_PASSSEC": 34, "SO_RXQ_OVFL": 40, "SO_WIFI_STATUS": 41, "SO_NOFCS": 43,
    "SO_LOCK_FILTER": 44, "SO_SELECT_ERR_QUEUE": 45, "SO_RCVMARK": 75,
    "SO_RCVPRIORITY": 82,
}
SO_DEBUG, SO_LOCK_FILTER = BOOL_OPTS["SO_DEBUG"], BOOL_OPTS["SO_LOCK_FILTER"]
SO_SNDBUFFORCE, SO_RCVBUFFORCE = 32, 33


def _proc(k, uid=1000):
    return k.spawn(uid=uid, gid=uid)


@scenario("options_bool_values", params={"sotype": SOCK_TYPES})
def options_bool_values(k, t, sotype):
    """Any non-zero int turns a boolean option on and it reads back 1 (an
    int); the value is the first four bytes of the buffer, fewer is EINVAL;
    a short getsockopt buffer gets the first bytes of the int."""
    p = _proc(k)
    for name, opt in BOOL_OPTS.items():
        s = t.call(p.socket, AF_UNIX, sotype)
        t.call(p.getsockopt, s, SOL, opt)
        for val in (1, 0, 2, -1, INT_MIN, struct.pack("i", 1 << 24),
                    struct.pack("ii", 0, 1), struct.pack("ii", 7, 0), b"\1\0\0", b"", 0):
            t.call(p.setsockopt, s, SOL, opt, val)
            t.call(p.getsockopt, s, SOL, opt)
        for buflen in (1, 2, 4, 8):
            t.call(p.getsockopt, s, SOL, opt, buflen)
        t.call(p.close, s)


@scenario("options_need_net_admin", params={"uid": (0, 1000)},
          needs={"root"})     # capable(CAP_NET_ADMIN) for uid 0
def options_need_net_admin(k, t, uid):
    """Turning SO_DEBUG on needs CAP_NET_ADMIN (EACCES), off does not;
    SO_SNDBUFFORCE/SO_RCVBUFFORCE need it at all (EPERM).  A short buffer
    is EINVAL before either check."""
    p = _proc(k, uid)
    s = t.call(p.socket, AF_UNIX, STREAM)
    for val in (1, b"\1\0\0", 0, 5):
        t.call(p.setsockopt, s, SOL, SO_DEBUG, val)
        t.call(p.getsockopt, s, SOL, SO_DEBUG)
    for opt, plain in ((SO_SNDBUFFORCE, socket.SO_SNDBUF), (SO_RCVBUFFORCE, socket.SO_RCVBUF)):
        t.call(p.setsockopt, s, SOL, opt, b"\0\x40\0")
        t.call(p.setsockopt, s, SOL, opt, 0x4000)
        t.call(p.getsockopt, s, SOL, plain)


@scenario("options_bool_after_accept", params={"sotype": (STREAM, SEQPACKET)},
          needs={"root"})     # SO_DEBUG on: capable(CAP_NET_ADMIN)
def options_bool_after_accept(k, t, sotype):
    """An accepted socket starts with every boolean option off but the ones
    it takes from the listener at connect(): SO_PASSCRED and SO_PASSSEC."""
    p = _proc(k, 0)
    lis = t.call(p.socket, AF_UNIX, sotype | NB)
    t.call(p.bind, lis, "/tmp/srv")
    t.call(p.listen, lis, 4)
    for opt in BOOL_OPTS.values():
        t.call(p.setsockopt, lis, SOL, opt, 1)
    c = t.call(p.socket, AF_UNIX, sotype)
    t.call(p.connect, c, "/tmp/srv")
    n = (t.call(p.accept, lis) or (None,))[0]
    for opt in BOOL_OPTS.values():
        t.call(p.getsockopt, lis, SOL, opt)
        t.call(p.getsockopt, c, SOL, opt)
        t.call(p.getsockopt, n, SOL, opt)


@scenario("options_lock_filter_sticks", needs={"ids"})
def options_lock_filter_sticks(k, t):
    """SO_LOCK_FILTER, once on, cannot be turned off (EPERM) -- not even by
    root -- and setting it on again succeeds."""
    for uid in (1000, 0):
        p = _proc(k, uid)
        s = t.call(p.socket, AF_UNIX, DGRAM)
        t.call(p.setsockopt, s, SOL, SO_LOCK_FILTER, 0)
        t.call(p.setsockopt, s, SOL, SO_LOCK_FILTER, 3)
        t.call(p.setsockopt, s, SOL, SO_LOCK_FILTER, 0)
        t.call(p.getsockopt, s, SOL, SO_LOCK_FILTER)
        t.call(p.setsockopt, s, SOL, SO_LOCK_FILTER, 1)
        t.call(p.getsockopt, s, SOL, SO_LOCK_FILTER)


@scenario("options_peek_off_negative", params={"sotype": SOCK_TYPES})
def options_peek_off_negative(k, t, sotype):
    """SO_PEEK_OFF keeps any negative value as given, and every negative
    value means off: MSG_PEEK reads from the front and neither peeks nor
    reads move it.  A non-negative offset moves with both."""
    p = _proc(k)
    for val in (-2, -1, -100, INT_MIN, 3, INT_MAX):
        a, b = t.call(p.socketpair, AF_UNIX, sotype) or (None, None)
        t.call(p.getsockopt, b, SOL, SO_PEEK_OFF)
        t.call(p.send, a, b"abcdef")
        t.call(p.send, a, b"ghij")
        t.call(p.setsockopt, b, SOL, SO_PEEK_OFF, val)
        t.call(p.getsockopt, b, SOL, SO_PEEK_OFF)
        for flags, n in ((PEEK, 3), (PEEK, 3), (0, 2), (PEEK, 10), (0, 10), (0, 10)):
            t.call(p.recv, b, n, flags | DW)
            t.call(p.getsockopt, b, SOL, SO_PEEK_OFF)
        t.call(p.getsockopt, b, SOL, SO_PEEK_OFF, 2)
        t.call(p.close, a)
        t.call(p.close, b)
    s = t.call(p.socket, AF_UNIX, sotype)
    t.call(p.setsockopt, s, SOL, SO_PEEK_OFF, struct.pack("h", -2))
    t.call(p.setsockopt, s, SOL, SO_PEEK_OFF, struct.pack("ii", -2, 5))
    t.call(p.getsockopt, s, SOL, SO_PEEK_OFF)
    if sotype != DGRAM:
        t.call(p.bind, s, "/tmp/lis")
        t.call(p.listen, s, 1)
        t.call(p.setsockopt, s, SOL, SO_PEEK_OFF, -7)
        t.call(p.getsockopt, s, SOL, SO_PEEK_OFF)


SO_INQ = 84
OOB, WAITALL = socket.MSG_OOB, socket.MSG_WAITALL


@scenario("options_inq_set", params={"sotype": SOCK_TYPES})
def options_inq_set(k, t, sotype):
    """SO_INQ is a stream socket's own option (unix_setsockopt): 0 or 1, in
    a buffer of exactly an int, else EINVAL; on a listener and an
    unconnected socket too.  The other types do not know it (ENOPROTOOPT,
    after sk_setsockopt's EINVAL for a buffer shorter than an int), and no
    type reads it back (getsockopt is ENOPROTOOPT)."""
    p = _proc(k)
    s = t.call(p.socket, AF_UNIX, sotype)
    for val in (1, 0, 2, -1, INT_MIN, INT_MAX, struct.pack("i", 1), struct.pack("ii", 1, 0),
                struct.pack("ii", 0, 0), b"\1\0\0", b"", struct.pack("q", 1)):
        t.call(p.setsockopt, s, SOL, SO_INQ, val)
        t.call(p.getsockopt, s, SOL, SO_INQ)
    t.call(p.setsockopt, s, socket.SOL_TCP, SO_INQ, 1)
    if sotype != DGRAM:
        t.call(p.bind, s, "/tmp/lis")
        t.call(p.listen, s, 1)
        t.call(p.setsockopt, s, SOL, SO_INQ, 1)
        t.call(p.recvmsg, s, 10, 64, DW)


@scenario("options_inq_messages", params={"passcred": (False, True)})
def options_inq_messages(k, t, passcred):
    """With SO_INQ on, a stream recvmsg ends with SCM_INQ, the bytes left
    to read: after the other control messages, after a peek all of them, 0
    at EOF; none for an error or a read of the OOB byte; cut to the control
    buffer's room (MSG_CTRUNC).  recv_fds and recvmsg_into report it as
    recvmsg does.  Turned off, it stops; an accepted socket does not take
    it from its listener; the other type's recvmsg never reports it."""
    p = _proc(k)
    a, b = t.call(p.socketpair, AF_UNIX, STREAM) or (None, None)
    t.call(p.setsockopt, b, SOL, SO_INQ, 1)
    t.call(p.recvmsg, b, 10, 64, DW)
    t.call(p.send, a, b"abcdef")
    t.call(p.send, a, b"ghij")
    t.call(p.recvmsg, b, 3, 64, PEEK)
    for anc in (0, 4, 15, 16, 19, 20, 24):
        t.call(p.recvmsg, b, 1, anc)
    if passcred:        # credentials come first (a cut ucred's pid would not compare)
        t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 1)
    t.call(p.recvmsg_into, b, [2, 3], 64)
    t.call(p.recv, b, 1)
    t.call(p.recvmsg, b, 100, 64)
    # files, then the count
    r, w = t.call(p.pipe) or (None, None)
    t.call(p.send_fds, a, [b"xy"], [r])
    t.call(p.send, a, b"zzz")
    t.call(p.recvmsg, b, 1, 64)
    t.call(p.recv_fds, b, 10, 1)
    t.call(p.send_fds, a, [b"12"], [w])
    t.call(p.recv_fds, b, 10, 1)
    # a blocking read that waits for its target
    t.call(p.send, a, b"abc")
    t.call(p.send, a, b"defg")
    t.call(p.recvmsg, b, 5, 64, WAITALL)
    t.call(p.recvmsg, b, 5, 64)
    # the OOB byte
    t.call(p.send, a, b"12345")
    t.call(p.send, a, b"!", OOB)
    t.call(p.send, a, b"67")
    t.call(p.recvmsg, b, 2, 64)
    t.call(p.recvmsg, b, 1, 64, OOB)
    t.call(p.recvmsg, b, 10, 64)
    t.call(p.recvmsg, b, 10, 64)
    t.call(p.send, a, b"8")
    t.call(p.setsockopt, b, SOL, SO_INQ, 0)
    t.call(p.recvmsg, b, 10, 64)
    t.call(p.setsockopt, b, SOL, SO_INQ, 1)
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.recvmsg, b, 10, 64)
    t.call(p.recvmsg, b, 10, 64)
    # a connection: the connecting socket keeps it, the accepted one does not take it
    lis = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, lis, "/tmp/srv")
    t.call(p.listen, lis, 2)
    t.call(p.setsockopt, lis, SOL, SO_INQ, 1)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.setsockopt, c, SOL, SO_INQ, 1)
    t.call(p.connect, c, "/tmp/srv")
    n = (t.call(p.accept, lis) or (None,))[0]
    t.call(p.send, n, b"hi")
    t.call(p.send, c, b"yo")
    t.call(p.recvmsg, c, 10, 64)
    t.call(p.recvmsg, n, 10, 64)
    d1, d2 = t.call(p.socketpair, AF_UNIX, SEQPACKET) or (None, None)
    t.call(p.setsockopt, d2, SOL, SO_INQ, 1)
    t.call(p.send, d1, b"msg")
    t.call(p.recvmsg, d2, 10, 64)
