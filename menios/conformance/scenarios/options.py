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
    # (no SO_PASSCRED at EOF: the kernel's uid 0 reads 65534 in a user namespace)
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 0)
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



#: Options Linux keeps on every socket, which change nothing for AF_UNIX:
#: what each stores, reads back, refuses, and asks a capability for.
STORED_OPTS = {
    "SO_PRIORITY": 12, "SO_LINGER": 13, "SO_REUSEPORT": 15, "SO_MARK": 36,
    "SO_MAX_PACING_RATE": 47, "SO_BPF_EXTENSIONS": 48, "SO_INCOMING_CPU": 49,
    "SO_CNX_ADVICE": 53, "SO_INCOMING_NAPI_ID": 56, "SO_ZEROCOPY": 60, "SO_TXTIME": 61,
    "SO_BUF_LOCK": 72, "SO_RESERVE_MEM": 73, "SO_TXREHASH": 74, "SO_DEVMEM_DONTNEED": 80,
}
SO_LINGER, SO_TXTIME, SO_MAX_PACING_RATE, SO_BUF_LOCK = 13, 61, 47, 72
SO_PEERNAME, SO_PREFER_BUSY_POLL = 28, 69


@scenario("options_stored", params={"sotype": SOCK_TYPES, "uid": (0, 1000)})
def options_stored(k, t, sotype, uid):
    """Each option read before and after ints of every sign and buffers
    of one, four and eight bytes: the values kept (SO_LINGER's and
    SO_TXTIME's structs, SO_MAX_PACING_RATE's 64 bits), the EINVAL,
    EOPNOTSUPP and EBADF answers, and the EPERM of SO_PRIORITY above 6 and
    SO_MARK without CAP_NET_ADMIN or CAP_NET_RAW in the socket's network
    namespace (which a user namespace's root has)."""
    p = _proc(k, uid)
    for opt in STORED_OPTS.values():
        s = t.call(p.socket, AF_UNIX, sotype)
        t.call(p.getsockopt, s, SOL, opt)
        t.call(p.getsockopt, s, SOL, opt, 16)
        for val in (1, 0, 6, 7, -1, INT_MAX, struct.pack("ii", 1, 5), struct.pack("ii", 0, 9),
                    struct.pack("q", 1 << 40), b"\1", b"\2\0\0\0\0\0"):
            t.call(p.setsockopt, s, SOL, opt, val)
            t.call(p.getsockopt, s, SOL, opt)
            t.call(p.getsockopt, s, SOL, opt, 16)
        for buflen in (1, 4, 6, 8):
            t.call(p.getsockopt, s, SOL, opt, buflen)
        t.call(p.close, s)


@scenario("options_stored_structs", params={"uid": (0, 1000)})
def options_stored_structs(k, t, uid):
    """SO_LINGER turned off keeps its time; SO_TXTIME takes CLOCK_MONOTONIC
    from anyone, CLOCK_REALTIME and CLOCK_TAI with CAP_NET_ADMIN, no other
    clock and no unknown flag; SO_MAX_PACING_RATE's 32-bit reading caps the
    rate.  SO_BUF_LOCK reads the locks SO_SNDBUF and SO_RCVBUF set; an
    accepted socket starts with every option at its default."""
    p = _proc(k, uid)
    s = t.call(p.socket, AF_UNIX, STREAM)
    for lin in ((1, 5), (0, 9), (3, -1), (0, 0), (1, 0)):
        t.call(p.setsockopt, s, SOL, SO_LINGER, struct.pack("ii", *lin))
        t.call(p.getsockopt, s, SOL, SO_LINGER, 8)
    for clock, flags in ((1, 0), (1, 3), (1, 4), (0, 1), (11, 2), (2, 0), (-1, 0), (7, 8)):
        t.call(p.setsockopt, s, SOL, SO_TXTIME, struct.pack("iI", clock, flags))
        t.call(p.getsockopt, s, SOL, SO_TXTIME, 8)
    t.call(p.setsockopt, s, SOL, SO_TXTIME, struct.pack("iIi", 1, 0, 0))
    for rate in (struct.pack("Q", (1 << 33) + 5), struct.pack("Q", 7), 0x7fffffff):
        t.call(p.setsockopt, s, SOL, SO_MAX_PACING_RATE, rate)
        t.call(p.getsockopt, s, SOL, SO_MAX_PACING_RATE)
        t.call(p.getsockopt, s, SOL, SO_MAX_PACING_RATE, 4)
        t.call(p.getsockopt, s, SOL, SO_MAX_PACING_RATE, 8)
    t.call(p.setsockopt, s, SOL, SO_BUF_LOCK, 0)
    t.call(p.setsockopt, s, SOL, socket.SO_SNDBUF, 4096)
    t.call(p.getsockopt, s, SOL, SO_BUF_LOCK)
    t.call(p.setsockopt, s, SOL, socket.SO_RCVBUF, 4096)
    t.call(p.getsockopt, s, SOL, SO_BUF_LOCK)
    t.call(p.setsockopt, s, SOL, SO_BUF_LOCK, 2)
    t.call(p.getsockopt, s, SOL, SO_BUF_LOCK)
    lis = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.bind, lis, "/tmp/srv")
    t.call(p.listen, lis, 2)
    t.call(p.setsockopt, lis, SOL, socket.SO_SNDBUF, 4096)
    for opt, val in ((12, 3), (49, 1), (SO_LINGER, struct.pack("ii", 1, 4)),
                     (SO_MAX_PACING_RATE, 9), (SO_TXTIME, struct.pack("iI", 1, 1))):
        t.call(p.setsockopt, lis, SOL, opt, val)
    c = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.connect, c, "/tmp/srv")
    n = (t.call(p.accept, lis) or (None,))[0]
    for opt in (12, 49, SO_BUF_LOCK, SO_LINGER, SO_MAX_PACING_RATE, SO_TXTIME):
        t.call(p.getsockopt, n, SOL, opt, 8)
        t.call(p.getsockopt, lis, SOL, opt, 8)


@scenario("options_prefer_busy_poll", params={"uid": (0, 1000)},
          needs={"root"})     # capable(CAP_NET_ADMIN), not ns_capable, for uid 0
def options_prefer_busy_poll(k, t, uid):
    """SO_PREFER_BUSY_POLL: on needs CAP_NET_ADMIN (EPERM), off does not; any
    non-zero int is on and reads back 1."""
    p = _proc(k, uid)
    s = t.call(p.socket, AF_UNIX, DGRAM)
    for val in (1, 0, 7, -1, struct.pack("ii", 0, 1), b"\1", 0):
        t.call(p.setsockopt, s, SOL, SO_PREFER_BUSY_POLL, val)
        t.call(p.getsockopt, s, SOL, SO_PREFER_BUSY_POLL)


SO_BUSY_POLL_BUDGET = 70


@scenario("options_busy_poll_budget", params={"uid": (0, 1000)},
          needs={"root"})     # capable(CAP_NET_ADMIN), not ns_capable, for uid 0
def options_busy_poll_budget(k, t, uid):
    """SO_BUSY_POLL_BUDGET: 0 to 65535 (EINVAL), raised above what it is only
    with CAP_NET_ADMIN (EPERM, checked first), lowered by anyone; it cannot
    be read back."""
    p = _proc(k, uid)
    s = t.call(p.socket, AF_UNIX, DGRAM)
    t.call(p.getsockopt, s, SOL, SO_BUSY_POLL_BUDGET)
    for val in (8, 0, 65535, 65536, -1, 100, 7, b"\1\0", struct.pack("ii", 3, 9)):
        t.call(p.setsockopt, s, SOL, SO_BUSY_POLL_BUDGET, val)


@scenario("options_peername", params={"sotype": SOCK_TYPES})
def options_peername(k, t, sotype):
    """SO_PEERNAME is the peer's address as getpeername gives it (family
    first): ENOTCONN without a peer, EINVAL for a buffer longer than the
    address, the first bytes for a shorter one; it cannot be set."""
    p = _proc(k)
    s = t.call(p.socket, AF_UNIX, sotype)
    t.call(p.getsockopt, s, SOL, SO_PEERNAME)
    t.call(p.getsockopt, s, SOL, SO_PEERNAME, 16)
    t.call(p.setsockopt, s, SOL, SO_PEERNAME, 1)
    a, b = t.call(p.socketpair, AF_UNIX, sotype) or (None, None)
    for buflen in (0, 1, 2, 3):
        t.call(p.getsockopt, a, SOL, SO_PEERNAME, buflen)
    for name in ("/tmp/peer", "\0abstract"):
        srv = t.call(p.socket, AF_UNIX, sotype)
        t.call(p.bind, srv, name)
        if sotype != DGRAM:
            t.call(p.listen, srv, 1)
        c = t.call(p.socket, AF_UNIX, sotype)
        t.call(p.connect, c, name)
        for buflen in (0, 2, 4, 11, 12, 13, 110):
            t.call(p.getsockopt, c, SOL, SO_PEERNAME, buflen)


SO_PEERGROUPS = 59


@scenario("options_peergroups", params={"sotype": (STREAM, SEQPACKET)}, needs={"ids"})
def options_peergroups(k, t, sotype):
    """SO_PEERGROUPS: the supplementary groups SO_PEERCRED was taken with --
    the other end's at socketpair, the listener's at listen for the
    connecting socket, the connecting process's for the accepted one --
    as gid_t values; ERANGE for a buffer that cannot hold them all;
    ENODATA with no peer credentials; later changes do not show."""
    p = k.spawn(uid=0, gid=0, groups=(30, 5, 7))
    q = k.spawn(uid=0, gid=0, groups=(1000,))
    r = k.spawn(uid=0, gid=0)
    s = t.call(p.socket, AF_UNIX, sotype)
    t.call(p.getsockopt, s, SOL, SO_PEERGROUPS)
    t.call(p.getsockopt, s, SOL, SO_PEERGROUPS, 64)
    t.call(p.setsockopt, s, SOL, SO_PEERGROUPS, 1)
    a, b = t.call(p.socketpair, AF_UNIX, sotype) or (None, None)
    for buflen in (0, 4, 8, 11, 12, 13, 64):
        t.call(p.getsockopt, a, SOL, SO_PEERGROUPS, buflen)
    t.call(p.bind, s, "/tmp/srv")
    t.call(p.listen, s, 2)
    t.call(p.getsockopt, s, SOL, SO_PEERGROUPS, 64)
    for proc in (q, r):
        c = t.call(proc.socket, AF_UNIX, sotype)
        t.call(proc.connect, c, "/tmp/srv")
        t.call(proc.getsockopt, c, SOL, SO_PEERGROUPS, 64)
        n = (t.call(p.accept, s) or (None,))[0]
        t.call(p.getsockopt, n, SOL, SO_PEERGROUPS)
        t.call(p.getsockopt, n, SOL, SO_PEERGROUPS, 64)
    t.call(q.setgroups, (1, 2))
    t.call(p.getsockopt, n, SOL, SO_PEERGROUPS, 64)
    d = t.call(p.socket, AF_UNIX, DGRAM)
    t.call(p.getsockopt, d, SOL, SO_PEERGROUPS, 64)
    e, f = t.call(q.socketpair, AF_UNIX, DGRAM) or (None, None)
    t.call(q.getsockopt, e, SOL, SO_PEERGROUPS, 64)


SO_PASSPIDFD, SO_PEERPIDFD, SCM_PIDFD = 76, 77, 4
POLLIN, POLLHUP = 0x1, 0x10


@scenario("options_pidfd_open")
def options_pidfd_open(k, t):
    """pidfd_open: a close-on-exec pidfd (flags O_RDWR, with
    PIDFD_NONBLOCK's O_NONBLOCK and PIDFD_THREAD's O_EXCL) for a live
    process; EINVAL for another flag or a pid below 1, ESRCH for none.  It
    polls as nothing while the process runs and POLLIN|POLLHUP once it has
    exited, when /proc's Pid: reads -1; read and write are EINVAL, lseek
    ESPIPE, fstat pidfs's mode 0700 inode."""
    p = _proc(k, 0)
    q = _proc(k, 0)
    fds = [t.call(p.pidfd_open, q.pid, flags) for flags in (0, NB, 0o200, NB | 0o200)]
    t.call(p.pidfd_open, q.pid, 1)
    t.call(p.pidfd_open, 0)
    t.call(p.pidfd_open, -1)
    for fd in fds:
        t.call(p.fcntl, fd, 1)                 # F_GETFD
        t.call(p.fcntl, fd, 3)                 # F_GETFL
    fd = fds[0]
    t.call(p.pidfd_getpid, fd)
    t.step("fstat mode", lambda: p.fstat(fd).st_mode)
    t.call(p.read, fd, 10)
    t.call(p.write, fd, b"x")
    t.call(p.lseek, fd, 0, 0)
    t.call(p.poll, [(fd, POLLIN | POLLHUP | 0x4)], 0)
    t.call(q.exit)
    t.call(p.poll, [(fd, POLLIN | POLLHUP | 0x4)], 0)
    t.call(p.poll, [(fd, 0x4)], 0)
    t.call(p.poll, [(fds[1], 0xffff)], 0)
    t.call(p.pidfd_getpid, fd)
    t.call(p.pidfd_open, q.pid)
    s = t.call(p.socket, AF_UNIX, STREAM)
    t.call(p.pidfd_getpid, s)
    t.call(p.pidfd_getpid, 99)


@scenario("options_peerpidfd", params={"sotype": SOCK_TYPES})
def options_peerpidfd(k, t, sotype):
    """SO_PEERPIDFD: a new close-on-exec pidfd for the process SO_PEERCRED
    names -- ENODATA where it names none -- even once that process is gone
    (a stale pidfd); it cannot be set.  SO_PASSPIDFD is a flag read back as
    0 or 1."""
    p = _proc(k, 0)
    q = _proc(k, 0)
    s = t.call(p.socket, AF_UNIX, sotype)
    t.call(p.getsockopt, s, SOL, SO_PEERPIDFD)
    t.call(p.setsockopt, s, SOL, SO_PEERPIDFD, 1)
    for val in (0, 1, 5, -1, b"\1"):
        t.call(p.setsockopt, s, SOL, SO_PASSPIDFD, val)
        t.call(p.getsockopt, s, SOL, SO_PASSPIDFD)
    a, b = t.call(p.socketpair, AF_UNIX, sotype) or (None, None)
    fd = t.call(p.getsockopt, a, SOL, SO_PEERPIDFD)
    t.call(p.fcntl, fd, 1)
    t.call(p.pidfd_getpid, fd)
    t.call(p.getsockopt, a, SOL, SO_PEERPIDFD, 4)
    t.call(p.getsockopt, a, SOL, SO_PEERPIDFD, 8)
    if sotype != DGRAM:
        t.call(p.bind, s, "/tmp/srv")
        t.call(p.listen, s, 1)
        fd = t.call(p.getsockopt, s, SOL, SO_PEERPIDFD)
        t.call(p.pidfd_getpid, fd)
        c = t.call(q.socket, AF_UNIX, sotype)
        t.call(q.connect, c, "/tmp/srv")
        n = (t.call(p.accept, s) or (None,))[0]
        fd = t.call(q.getsockopt, c, SOL, SO_PEERPIDFD)
        t.call(q.pidfd_getpid, fd)
        fd = t.call(p.getsockopt, n, SOL, SO_PEERPIDFD)
        t.call(p.pidfd_getpid, fd)
        t.call(q.exit)
        fd = t.call(p.getsockopt, n, SOL, SO_PEERPIDFD)
        t.call(p.pidfd_getpid, fd)
        t.call(p.poll, [(fd, POLLIN)], 0)


@scenario("options_passpidfd", params={"sotype": SOCK_TYPES})
def options_passpidfd(k, t, sotype):
    """SO_PASSPIDFD: each message comes with SCM_PIDFD, a new pidfd for its
    sender -- after SCM_CREDENTIALS and SCM_RIGHTS, on a peek too, for a
    sender gone by then too; none (and MSG_CTRUNC) in a control buffer
    too short for it; none at EOF.  Like SO_PASSCRED it autobinds the
    socket and keeps a stream read from joining two senders' bytes; an
    accepted socket takes it from its listener."""
    p = _proc(k, 0)
    q = _proc(k, 0)
    a, b = t.call(p.socketpair, AF_UNIX, sotype) or (None, None)
    t.call(p.setsockopt, b, SOL, SO_PASSPIDFD, 1)
    t.call(p.send, a, b"one")
    m = t.call(p.recvmsg, b, 10, 64, PEEK)
    m = t.call(p.recvmsg, b, 10, 64)
    if m and m[1]:
        t.call(p.pidfd_getpid, m[1][-1][2][0])
    r, w = t.call(p.pipe) or (None, None)
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 1)
    t.call(p.send_fds, a, [b"two"], [r])
    t.call(p.recvmsg, b, 10, 64)
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 0)
    for anc in (0, 16, 19, 20, 24):
        t.call(p.send, a, b"x")
        t.call(p.recvmsg, b, 10, anc)
    t.call(p.send, a, b"y")
    t.call(p.recv_fds, b, 10, 1)
    # autobind
    u = t.call(p.socket, AF_UNIX, sotype)
    t.call(p.setsockopt, u, SOL, SO_PASSPIDFD, 1)
    if sotype == DGRAM:
        g = t.call(p.socket, AF_UNIX, DGRAM)
        t.call(p.bind, g, "/tmp/g")
        t.call(p.setsockopt, g, SOL, SO_PASSPIDFD, 1)
        t.call(p.sendto, u, b"z", "/tmp/g")
    else:
        lis = t.call(p.socket, AF_UNIX, sotype)
        t.call(p.bind, lis, "/tmp/lis")
        t.call(p.listen, lis, 2)
        t.call(p.setsockopt, lis, SOL, SO_PASSPIDFD, 1)
        t.call(p.connect, u, "/tmp/lis")
        n = (t.call(p.accept, lis) or (None,))[0]
        t.call(p.getsockopt, n, SOL, SO_PASSPIDFD)
    t.call(p.getsockname, u)
    # a sender gone by the time its message is read: a stale pidfd
    e = t.call(q.socket, AF_UNIX, sotype)
    if sotype == DGRAM:
        t.call(p.recvmsg, g, 10, 64)           # u's
        t.call(q.sendto, e, b"gone", "/tmp/g")
        r = g
    else:
        t.call(q.connect, e, "/tmp/lis")
        r = (t.call(p.accept, lis) or (None,))[0]
        t.call(q.send, e, b"gone")
    t.call(q.exit)
    m = t.call(p.recvmsg, r, 10, 64)
    if m and m[1]:
        fd = m[1][-1][2][0]
        t.call(p.pidfd_getpid, fd)
        t.call(p.poll, [(fd, POLLIN)], 0)
    # the sender changes: a stream read stops there; EOF has no sender
    c, d = t.call(p.socketpair, AF_UNIX, sotype) or (None, None)
    t.call(p.setsockopt, d, SOL, SO_PASSPIDFD, 1)
    t.call(p.send, c, b"from p")
    t.call(p.send, c, b" again")
    child = t.call(p.fork)
    t.call(child.send, c, b" from the child")
    for _ in range(2):
        m = t.call(p.recvmsg, d, 100, 64)
        if m and m[1]:
            t.call(p.pidfd_getpid, m[1][-1][2][0])
    if sotype != DGRAM:
        t.call(p.recvmsg, d, 100, 64, DW)
        t.call(p.shutdown, c, socket.SHUT_WR)
        t.call(p.recvmsg, d, 100, 64)
        t.call(p.recvmsg, d, 100, 16)


SO_TIMESTAMP, SO_TIMESTAMPNS, SO_TIMESTAMP_NEW, SO_TIMESTAMPNS_NEW = 29, 35, 63, 64
TSTAMP_OPTS = (SO_TIMESTAMP, SO_TIMESTAMPNS, SO_TIMESTAMP_NEW, SO_TIMESTAMPNS_NEW)


def _stamp(m):
    """The raw data of a recvmsg result's first control message, or None."""
    return m[1][0][2] if m and m[1] else None


@scenario("options_timestamp", params={"sotype": SOCK_TYPES})
def options_timestamp(k, t, sotype):
    """SO_TIMESTAMP and its kin: each turns receive timestamps on in its
    own form (read back: only the option last set with the form it left
    reads 1), off turns them all off.  A datagram or seqpacket message then
    carries SCM_TIMESTAMP (a timeval), SCM_TIMESTAMPNS (a timespec) or the
    _NEW twins, before SCM_CREDENTIALS -- stamped when sent, or when first
    read if it was queued with the option off, so a peek and the read
    after it agree; cut to the buffer's room (MSG_CTRUNC).  A stream gets
    none."""
    p = _proc(k, 0)
    a, b = t.call(p.socketpair, AF_UNIX, sotype) or (None, None)
    for opt in TSTAMP_OPTS:
        t.call(p.getsockopt, b, SOL, opt)
    for opt, val in ((SO_TIMESTAMPNS, 1), (SO_TIMESTAMP_NEW, 1), (SO_TIMESTAMPNS_NEW, 7),
                     (SO_TIMESTAMP, 1), (SO_TIMESTAMPNS, 0), (SO_TIMESTAMP_NEW, 1),
                     (SO_TIMESTAMP, 0), (SO_TIMESTAMP, b"\1")):
        t.call(p.setsockopt, b, SOL, opt, val)
        for o in TSTAMP_OPTS:
            t.call(p.getsockopt, b, SOL, o)
    t.call(p.send, a, b"queued while off")
    t.call(p.setsockopt, b, SOL, SO_TIMESTAMP, 1)
    t.call(p.send, a, b"stamped when sent")
    for _ in range(2):
        peeked = t.call(p.recvmsg, b, 100, 64, PEEK | DW)
        read = t.call(p.recvmsg, b, 100, 64, DW)
        t.note("the peek's stamp is the read's", _stamp(peeked) == _stamp(read))
    for opt in TSTAMP_OPTS:
        t.call(p.setsockopt, b, SOL, opt, 1)
        t.call(p.send, a, b"x")
        t.call(p.recvmsg, b, 10, 64)
    t.call(p.setsockopt, b, SOL, socket.SO_PASSCRED, 1)
    for anc in (64, 40, 32, 16, 0):     # (no cut inside a time or a pid)
        t.call(p.send, a, b"y")
        t.call(p.recvmsg, b, 10, anc)
    t.call(p.send, a, b"z")
    t.call(p.recv, b, 10)
    t.call(p.setsockopt, b, SOL, SO_TIMESTAMP, 0)
    t.call(p.send, a, b"off")
    t.call(p.recvmsg, b, 10, 64)


SO_MEMINFO = 55


@scenario("options_meminfo", params={"sotype": SOCK_TYPES})
def options_meminfo(k, t, sotype):
    """SO_MEMINFO: sk_get_meminfo's nine u32 counters -- the receive buffer,
    the sender's charged bytes (what its queued skbs cost), the send buffer,
    the rest 0 for AF_UNIX -- as many bytes of them as the buffer holds;
    it cannot be set."""
    p = _proc(k)
    a, b = t.call(p.socketpair, AF_UNIX, sotype) or (None, None)
    t.call(p.setsockopt, a, SOL, SO_MEMINFO, 1)
    for buflen in (0, 4, 6, 36, 40):
        t.call(p.getsockopt, a, SOL, SO_MEMINFO, buflen)
    for data in (b"x" * 1000, b"y" * 5000, b"z"):
        t.call(p.send, a, data)
        t.call(p.getsockopt, a, SOL, SO_MEMINFO, 36)
        t.call(p.getsockopt, b, SOL, SO_MEMINFO, 36)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, 10000)
    t.call(p.getsockopt, a, SOL, SO_MEMINFO, 36)
    t.call(p.recv, b, 100000)
    t.call(p.getsockopt, a, SOL, SO_MEMINFO, 36)


SO_BINDTODEVICE, SO_BINDTOIFINDEX, SO_COOKIE, SO_NETNS_COOKIE = 25, 62, 57, 71


@scenario("options_bindtodevice", params={"sotype": SOCK_TYPES, "uid": (0, 1000)})
def options_bindtodevice(k, t, sotype, uid):
    """SO_BINDTODEVICE binds to a device of the socket's network namespace
    by name -- a new one has only "lo" (ENODEV for another, the name cut
    at 15 bytes or its NUL; none unbinds) -- and reads the name back into
    a buffer of at least IFNAMSIZ (EINVAL for less, nothing when unbound).
    SO_BINDTOIFINDEX does it by index, unchecked but for a negative one.
    Changing a socket's device needs CAP_NET_RAW."""
    p = _proc(k, uid)
    s = t.call(p.socket, AF_UNIX, sotype)
    t.call(p.getsockopt, s, SOL, SO_BINDTODEVICE)
    t.call(p.getsockopt, s, SOL, SO_BINDTODEVICE, 16)
    t.call(p.getsockopt, s, SOL, SO_BINDTOIFINDEX)
    for val in (b"eth9", b"lo" + b"x" * 30, 1, b"lo"):
        t.call(p.setsockopt, s, SOL, SO_BINDTODEVICE, val)
    for buflen in (0, 4, 15, 16, 64):
        t.call(p.getsockopt, s, SOL, SO_BINDTODEVICE, buflen)
    t.call(p.getsockopt, s, SOL, SO_BINDTOIFINDEX)
    for val in (b"lo\0junk", b"", 0, -1, 1, 99):
        opt = SO_BINDTODEVICE if isinstance(val, bytes) else SO_BINDTOIFINDEX
        t.call(p.setsockopt, s, SOL, opt, val)
        t.call(p.getsockopt, s, SOL, SO_BINDTOIFINDEX)
    t.call(p.getsockopt, s, SOL, SO_BINDTODEVICE, 16)
    t.call(p.setsockopt, s, SOL, SO_BINDTOIFINDEX, b"\1\0")


@scenario("options_cookies", params={"sotype": SOCK_TYPES})
def options_cookies(k, t, sotype):
    """SO_COOKIE: a u64 that names the socket, the same at every reading and
    no other socket's, for a buffer that holds it (EINVAL for less);
    SO_NETNS_COOKIE the network namespace's, in a buffer of exactly 8
    bytes.  Neither can be set.  (Their values are the kernel's own: what
    is compared is how they relate.)"""
    p = _proc(k)
    a, b = t.call(p.socketpair, AF_UNIX, sotype) or (None, None)
    for opt in (SO_COOKIE, SO_NETNS_COOKIE):
        t.call(p.getsockopt, a, SOL, opt)
        t.call(p.getsockopt, a, SOL, opt, 4)
        t.call(p.setsockopt, a, SOL, opt, 1)
    t.call(p.getsockopt, a, SOL, SO_NETNS_COOKIE, 16)

    def relations():
        ca, ca2 = p.getsockopt(a, SOL, SO_COOKIE, 8), p.getsockopt(a, SOL, SO_COOKIE, 16)
        cb = p.getsockopt(b, SOL, SO_COOKIE, 8)
        na, nb = p.getsockopt(a, SOL, SO_NETNS_COOKIE, 8), p.getsockopt(b, SOL, SO_NETNS_COOKIE, 8)
        return (len(ca), len(ca2), ca == ca2, ca != cb, na == nb, ca != bytes(8), na != bytes(8))
    t.step("cookies", relations)
