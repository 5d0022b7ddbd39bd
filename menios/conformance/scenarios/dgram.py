"""SOCK_DGRAM: addressing, boundaries, truncation, association, flow control,
shutdown and poll, each compared step by step with the host kernel.

The host's ``max_dgram_qlen`` is that of a fresh network namespace (10), the
same as menios's default, so the queue-limit scenarios need no sysctl.
"""
import errno
import hashlib
import socket
import time

from ..harness import Background, scenario, make_pair

AF_UNIX, SOCK_DGRAM, SOCK_STREAM, SOCK_SEQPACKET = (
    socket.AF_UNIX, socket.SOCK_DGRAM, socket.SOCK_STREAM, socket.SOCK_SEQPACKET)
SOL_SOCKET = socket.SOL_SOCKET
MSG_TRUNC, MSG_PEEK, MSG_DONTWAIT, MSG_NOSIGNAL = (
    socket.MSG_TRUNC, socket.MSG_PEEK, socket.MSG_DONTWAIT, socket.MSG_NOSIGNAL)
POLLIN, POLLOUT, POLLPRI = 0x1, 0x4, 0x2
POLLRDHUP = 0x2000
ALL_EVENTS = POLLIN | POLLOUT | POLLPRI | POLLRDHUP
QLEN = 10                       # net.unix.max_dgram_qlen in a fresh netns
NAMED = ("filesystem", "abstract")
FIONREAD = 0x541B


def _name(kind, tag):
    return f"/tmp/{tag}" if kind == "filesystem" else f"\0{tag}".encode()


def _bound(t, p, kind, tag, sotype=SOCK_DGRAM):
    fd = t.call(p.socket, AF_UNIX, sotype)
    t.call(p.bind, fd, _name(kind, tag))
    return fd


def _payload(t, label, fn, *args, defined=None):
    """Record what ``fn`` returns with its data (the value, or the first item
    of a tuple) shown as ``(type, length, bytes)``: every byte is compared,
    the first ``defined`` only when given.  The stdlib's recv with MSG_TRUNC
    returns a truncated datagram's full length, but the bytes past the
    buffer size are uninitialised.  Defined bytes beyond 64 are shown as
    their SHA-256 digest."""
    def shown(data):
        part = bytes(data[:defined])
        return (type(data).__name__, len(data),
                part if len(part) <= 64 else "sha256:" + hashlib.sha256(part).hexdigest())

    def run():
        out = fn(*args)
        if isinstance(out, tuple):
            return (shown(out[0]),) + out[1:]
        return shown(out)
    return t.step(label, run)


def _nonblock(p, fd):
    import fcntl
    import os
    p.fcntl(fd, fcntl.F_SETFL, p.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def _poll(t, p, fd, events=ALL_EVENTS):
    return t.call(p.poll, [(fd, events)], 0)


# ------------------------------------------------------------- addressing

@scenario("dgram_sendto_names", params={"kind": NAMED, "sender": ("unbound", "bound", "autobound")})
def dgram_sendto_names(k, t, kind, sender):
    p = k.spawn(uid=1000, gid=1000)
    r = _bound(t, p, kind, "rcv")
    s = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    if sender == "bound":
        t.call(p.bind, s, _name(kind, "snd"))
    elif sender == "autobound":
        t.call(p.bind, s, "")
    t.call(p.sendto, s, b"hello", _name(kind, "rcv"))
    t.call(p.sendto, s, b"world!", _name(kind, "rcv"))
    t.call(p.recvfrom, r, 100)
    t.call(p.recvmsg, r, 100)
    t.call(p.getsockname, s)
    t.call(p.getpeername, s)


@scenario("dgram_sendmsg_address", params={"kind": NAMED, "sender": ("unbound", "bound")})
def dgram_sendmsg_address(k, t, kind, sender):
    p = k.spawn(uid=1000, gid=1000)
    r = _bound(t, p, kind, "rcv")
    s = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    if sender == "bound":
        t.call(p.bind, s, _name(kind, "snd"))
    t.call(p.sendmsg, s, [b"ab", b"cd", b"", b"e"], [], 0, _name(kind, "rcv"))
    t.call(p.sendmsg, s, [b"xyz"], [], 0, _name(kind, "rcv"))
    t.call(p.recvmsg, r, 100)
    t.call(p.recvfrom, r, 100)
    t.call(p.recvmsg, r, 100, 0, MSG_DONTWAIT)


@scenario("dgram_recv_unbound_sender", params={"kind": ("socketpair",) + NAMED})
def dgram_recv_unbound_sender(k, t, kind):
    """A socketpair's ends are unnamed: their datagrams carry no address."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind)
    t.call(p.send, a, b"one")
    t.call(p.send, b, b"two")
    t.call(p.recvfrom, b, 10)
    t.call(p.recvmsg, a, 10)
    t.call(p.getsockname, a)
    t.call(p.getpeername, a)
    t.call(p.getpeername, b)


@scenario("dgram_sendto_when_connected", params={"kind": NAMED})
def dgram_sendto_when_connected(k, t, kind):
    """An explicit destination overrides the default peer."""
    p = k.spawn(uid=1000, gid=1000)
    b = _bound(t, p, kind, "b")
    c = _bound(t, p, kind, "c")
    a = _bound(t, p, kind, "a")
    t.call(p.connect, a, _name(kind, "b"))
    t.call(p.sendto, a, b"to-c", _name(kind, "c"))
    t.call(p.send, a, b"to-b")
    t.call(p.recvfrom, c, 10)
    t.call(p.recvfrom, b, 10)
    t.call(p.recvfrom, c, 10, MSG_DONTWAIT)


@scenario("dgram_sendto_self", params={"kind": NAMED})
def dgram_sendto_self(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a = _bound(t, p, kind, "self")
    t.call(p.sendto, a, b"me", _name(kind, "self"))
    t.call(p.recvfrom, a, 10)


# ------------------------------------------------------ boundaries, truncation

@scenario("dgram_boundaries", params={"nonblock": (False, True)})
def dgram_boundaries(k, t, nonblock, kind="socketpair"):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind, nonblock)
    for msg in (b"a", b"bb", b"ccc", b"d" * 1000):
        t.call(p.send, a, msg)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 2000)
    t.call(p.recv, b, 2000)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.recv, b, 100, MSG_DONTWAIT)


@scenario("dgram_truncation", params={"kind": ("socketpair",) + NAMED})
def dgram_truncation(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind)
    t.call(p.send, a, b"0123456789")
    t.call(p.send, a, b"abcdef")
    t.call(p.recv, b, 4)                       # the rest of the datagram is gone
    t.call(p.recv, b, 100)
    t.call(p.send, a, b"0123456789")
    t.call(p.recvmsg, b, 3)                    # msg_flags carries MSG_TRUNC
    t.call(p.send, a, b"0123456789")
    t.call(p.recvfrom, b, 5)


@scenario("dgram_msg_trunc_flag", params={"kind": ("socketpair",) + NAMED})
def dgram_msg_trunc_flag(k, t, kind):
    """MSG_TRUNC as a recv flag returns the datagram's full length."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind)
    t.call(p.send, a, b"0123456789")
    _payload(t, "recv(b, 4, MSG_TRUNC)", p.recv, b, 4, MSG_TRUNC, defined=4)
    t.call(p.send, a, b"0123456789")
    buf = bytearray(4)
    t.call(p.recv_into, b, buf, 4, MSG_TRUNC)
    t.note("buffer", bytes(buf))
    t.call(p.send, a, b"0123456789")
    t.call(p.recvmsg, b, 4, 0, MSG_TRUNC)
    t.call(p.send, a, b"short")
    t.call(p.recv, b, 100, MSG_TRUNC)          # not truncated: the data as usual
    t.call(p.send, a, b"0123456789")
    t.call(p.recv, b, 0, MSG_TRUNC)
    t.call(p.recv, b, 100, MSG_DONTWAIT)


@scenario("dgram_peek", params={"kind": ("socketpair",) + NAMED})
def dgram_peek(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind)
    t.call(p.send, a, b"0123456789")
    t.call(p.send, a, b"second")
    t.call(p.recv, b, 4, MSG_PEEK)
    t.call(p.recvmsg, b, 4, 0, MSG_PEEK)
    _payload(t, "recv(b, 4, PEEK|TRUNC)", p.recv, b, 4, MSG_PEEK | MSG_TRUNC, defined=4)
    t.call(p.recvfrom, b, 100, MSG_PEEK)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)


@scenario("dgram_zero_length", params={"kind": ("socketpair",) + NAMED, "nonblock": (False, True)})
def dgram_zero_length(k, t, kind, nonblock):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind, nonblock)
    t.call(p.send, a, b"")
    t.call(p.send, a, b"x")
    t.call(p.sendmsg, a, [])
    t.call(p.poll, [(b, POLLIN)], 0)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.recvfrom, b, 10)
    t.call(p.recv, b, 10)
    t.call(p.recvmsg, b, 10)
    t.call(p.poll, [(b, POLLIN)], 0)
    t.call(p.recv, b, 10, MSG_DONTWAIT)


@scenario("dgram_zero_length_recv", params={"kind": ("socketpair",) + NAMED})
def dgram_zero_length_recv(k, t, kind):
    """A zero-length recv consumes (and truncates) a whole datagram."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind)
    t.call(p.recv, b, 0, MSG_DONTWAIT)
    t.call(p.send, a, b"abc")
    t.call(p.send, a, b"def")
    t.call(p.recv, b, 0)
    t.call(p.recvmsg, b, 0)
    t.call(p.recv, b, 0, MSG_DONTWAIT)


@scenario("dgram_iovecs")
def dgram_iovecs(k, t):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, "socketpair")
    t.call(p.sendmsg, a, [b"ab", b"", b"cdef", bytearray(b"gh")])
    t.call(p.sendmsg, a, [b"0123", b"4567"])

    def into(sizes, flags=0):
        bufs = [bytearray(n) for n in sizes]
        out = p.recvmsg_into(b, bufs, 0, flags)
        return out, [bytes(x) for x in bufs]
    t.step("recvmsg_into([3, 3, 10])", into, (3, 3, 10))
    t.step("recvmsg_into([3, 2])", into, (3, 2))


@scenario("dgram_large")
def dgram_large(k, t, kind="socketpair"):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind)
    big = bytes(range(256)) * 400           # 102400 bytes
    t.call(p.send, a, big)
    t.call(p.send, a, b"after")
    t.step("recv(b, 200000) == big", lambda: p.recv(b, 200000) == big)
    t.call(p.recv, b, 100)


# ----------------------------------------------------------- association

@scenario("dgram_connect_default_peer", params={"kind": NAMED})
def dgram_connect_default_peer(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    b = _bound(t, p, kind, "b")
    a = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    t.call(p.connect, a, _name(kind, "b"))
    t.call(p.getpeername, a)
    t.call(p.getsockname, a)
    t.call(p.send, a, b"via-peer")
    t.call(p.write, a, b"via-write")
    t.call(p.sendmsg, a, [b"via-sendmsg"])
    t.call(p.recvfrom, b, 100)
    t.call(p.read, b, 100)
    t.call(p.recvmsg, b, 100)
    t.call(p.getpeername, b)                # b is not connected back


@scenario("dgram_connected_eperm", params={"kind": NAMED})
def dgram_connected_eperm(k, t, kind):
    """A socket connected to A accepts datagrams only from A."""
    p = k.spawn(uid=1000, gid=1000)
    a = _bound(t, p, kind, "a")
    b = _bound(t, p, kind, "b")
    c = _bound(t, p, kind, "c")
    t.call(p.connect, b, _name(kind, "a"))
    t.call(p.sendto, c, b"intruder", _name(kind, "b"))
    t.call(p.connect, c, _name(kind, "b"))
    u = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    t.call(p.sendto, u, b"unbound intruder", _name(kind, "b"))
    t.call(p.sendto, a, b"from a", _name(kind, "b"))
    t.call(p.recvfrom, b, 100)
    t.call(p.recv, b, 100, MSG_DONTWAIT)


@scenario("dgram_connect_none_dissolves", params={"kind": NAMED})
def dgram_connect_none_dissolves(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a = _bound(t, p, kind, "a")
    b = _bound(t, p, kind, "b")
    c = _bound(t, p, kind, "c")
    t.call(p.connect, a, _name(kind, "b"))
    t.call(p.sendto, c, b"refused", _name(kind, "a"))
    t.call(p.connect, a, None)
    t.call(p.getpeername, a)
    t.call(p.send, a, b"nowhere")
    t.call(p.sendto, c, b"welcome", _name(kind, "a"))
    t.call(p.recvfrom, a, 100)
    t.call(p.connect, a, None)              # dissolving twice is fine
    t.call(p.getsockname, a)
    t.call(p.recv, b, 100, MSG_DONTWAIT)


@scenario("dgram_connect_self", params={"kind": NAMED})
def dgram_connect_self(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a = _bound(t, p, kind, "self")
    t.call(p.connect, a, _name(kind, "self"))
    t.call(p.getpeername, a)
    t.call(p.send, a, b"loop")
    t.call(p.recvfrom, a, 10)
    _poll(t, p, a)
    o = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    t.call(p.sendto, o, b"other", _name(kind, "self"))


@scenario("dgram_reconnect", params={"kind": NAMED})
def dgram_reconnect(k, t, kind):
    """Connecting elsewhere drops what the old peer had queued and resets it."""
    p = k.spawn(uid=1000, gid=1000)
    a = _bound(t, p, kind, "a")
    b = _bound(t, p, kind, "b")
    c = _bound(t, p, kind, "c")
    t.call(p.connect, a, _name(kind, "b"))
    t.call(p.connect, b, _name(kind, "a"))
    t.call(p.send, b, b"queued at a")
    t.call(p.connect, a, _name(kind, "c"))
    t.call(p.recv, a, 100, MSG_DONTWAIT)
    _poll(t, p, b)
    t.call(p.getsockopt, b, SOL_SOCKET, socket.SO_ERROR)
    t.call(p.send, b, b"again")
    t.call(p.send, a, b"to c")
    t.call(p.recvfrom, c, 100)


@scenario("dgram_reconnect_err_on_send", params={"kind": NAMED})
def dgram_reconnect_err_on_send(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a = _bound(t, p, kind, "a")
    b = _bound(t, p, kind, "b")
    c = _bound(t, p, kind, "c")
    t.call(p.connect, a, _name(kind, "b"))
    t.call(p.connect, b, _name(kind, "a"))
    t.call(p.send, b, b"queued at a")
    t.call(p.connect, a, _name(kind, "c"))
    t.call(p.send, b, b"again")             # the pending error first
    t.call(p.send, b, b"again")
    t.call(p.recv, b, 10, MSG_DONTWAIT)


@scenario("dgram_send_without_peer", params={"nonblock": (False, True)})
def dgram_send_without_peer(k, t, nonblock):
    p = k.spawn(uid=1000, gid=1000)
    a = t.call(p.socket, AF_UNIX, SOCK_DGRAM | (socket.SOCK_NONBLOCK if nonblock else 0))
    t.call(p.send, a, b"x")
    t.call(p.write, a, b"x")
    t.call(p.sendmsg, a, [b"x"])
    t.call(p.send, a, b"")
    t.call(p.getpeername, a)
    t.call(p.bind, a, "/tmp/lonely")
    t.call(p.send, a, b"x")
    t.call(p.recv, a, 10, MSG_DONTWAIT)


@scenario("dgram_missing_target", params={"kind": NAMED})
def dgram_missing_target(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    t.call(p.sendto, a, b"x", _name(kind, "nobody"))
    t.call(p.connect, a, _name(kind, "nobody"))
    t.call(p.sendmsg, a, [b"x"], [], 0, _name(kind, "nobody"))
    t.call(p.sendto, a, b"x", "/nonexistent-dir/sock")
    t.call(p.connect, a, "/nonexistent-dir/sock")
    t.call(p.getpeername, a)


@scenario("dgram_dead_target", params={"kind": NAMED})
def dgram_dead_target(k, t, kind):
    """A name whose socket closed: the path remains (ECONNREFUSED), the
    abstract name is gone (ECONNREFUSED too)."""
    p = k.spawn(uid=1000, gid=1000)
    b = _bound(t, p, kind, "gone")
    t.call(p.close, b)
    a = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    t.call(p.sendto, a, b"x", _name(kind, "gone"))
    t.call(p.connect, a, _name(kind, "gone"))
    if kind == "filesystem":
        t.call(p.stat, "/tmp/gone")
        t.call(p.unlink, "/tmp/gone")
        t.call(p.sendto, a, b"x", "/tmp/gone")


@scenario("dgram_unlinked_name")
def dgram_unlinked_name(k, t):
    """Unlinking the path hides the socket from new senders, not from a
    sender already connected."""
    p = k.spawn(uid=1000, gid=1000)
    b = _bound(t, p, "filesystem", "b")
    a = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    t.call(p.connect, a, "/tmp/b")
    t.call(p.unlink, "/tmp/b")
    c = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    t.call(p.sendto, c, b"x", "/tmp/b")
    t.call(p.send, a, b"still connected")
    t.call(p.recv, b, 100)
    t.call(p.getsockname, b)


@scenario("dgram_peer_closed", params={"kind": ("socketpair",) + NAMED, "nonblock": (False, True)})
def dgram_peer_closed(k, t, kind, nonblock):
    """ECONNREFUSED once, then ENOTCONN: the association is dissolved."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind, nonblock)
    t.call(p.send, b, b"unread by a")
    t.call(p.send, a, b"unread by b")
    t.call(p.close, b)
    _poll(t, p, a)
    t.call(p.recv, a, 100, MSG_DONTWAIT)
    t.call(p.send, a, b"x")
    t.call(p.send, a, b"x")
    t.call(p.getpeername, a)
    _poll(t, p, a)
    t.call(p.recv, a, 100, MSG_DONTWAIT)


@scenario("dgram_peer_closed_sendto", params={"kind": NAMED})
def dgram_peer_closed_sendto(k, t, kind):
    """A connected socket whose peer died can still sendto someone else."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind)
    c = _bound(t, p, kind, "c")
    t.call(p.close, b)
    t.call(p.sendto, a, b"elsewhere", _name(kind, "c"))
    t.call(p.recvfrom, c, 100)
    t.call(p.send, a, b"x")
    t.call(p.send, a, b"x")


@scenario("dgram_type_mismatch", params={"kind": NAMED, "target": (SOCK_STREAM, SOCK_SEQPACKET)})
def dgram_type_mismatch(k, t, kind, target):
    """A stream/seqpacket target: EPROTOTYPE by path; an abstract name is per
    type, so it is simply not found (ECONNREFUSED)."""
    p = k.spawn(uid=1000, gid=1000)
    srv = _bound(t, p, kind, "srv", target)
    t.call(p.listen, srv, 5)
    a = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    t.call(p.sendto, a, b"x", _name(kind, "srv"))
    t.call(p.connect, a, _name(kind, "srv"))
    t.call(p.sendmsg, a, [b"x"], [], 0, _name(kind, "srv"))
    s = t.call(p.socket, AF_UNIX, target)
    d = _bound(t, p, kind, "dg")
    t.call(p.connect, s, _name(kind, "dg"))
    t.call(p.getsockname, d)


# ----------------------------------------------------------- flow control

@scenario("dgram_qlen_limit", params={"kind": NAMED, "mode": ("nonblock", "dontwait", "sndtimeo")})
def dgram_qlen_limit(k, t, kind, mode):
    """An unconnected sender to a receiver not connected back: the receiver's
    queue holds max_dgram_qlen + 1 datagrams, then EAGAIN."""
    p = k.spawn(uid=1000, gid=1000)
    r = _bound(t, p, kind, "rcv")
    s = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    flags = 0
    if mode == "nonblock":
        _nonblock(p, s)
    elif mode == "dontwait":
        flags = MSG_DONTWAIT
    else:
        t.call(p.setsockopt, s, SOL_SOCKET, socket.SO_SNDTIMEO,
               (0).to_bytes(8, "little") + (50000).to_bytes(8, "little"))
    results = []
    for i in range(QLEN + 3):
        try:
            p.sendto(s, b"m%d" % i, _name(kind, "rcv"), flags)
            results.append("ok")
        except OSError as e:
            results.append(errno.errorcode.get(e.errno, e.errno))
    t.note("sends", results)
    t.call(p.ioctl, r, FIONREAD)
    t.call(p.recv, r, 10)
    t.call(p.sendto, s, b"fits again", _name(kind, "rcv"), flags)
    t.call(p.sendto, s, b"full again", _name(kind, "rcv"), flags)
    got = []
    while True:
        try:
            got.append(p.recv(r, 100, MSG_DONTWAIT))
        except OSError as e:
            got.append(errno.errorcode.get(e.errno, e.errno))
            break
    t.note("drained", got)


@scenario("dgram_qlen_connected", params={"both_ways": (False, True)})
def dgram_qlen_connected(k, t, both_ways):
    """A connected sender: the limit applies unless the receiver is connected
    back to it (then only the send buffer bounds the queue)."""
    p = k.spawn(uid=1000, gid=1000)
    r = _bound(t, p, "filesystem", "rcv")
    s = _bound(t, p, "filesystem", "snd")
    t.call(p.connect, s, "/tmp/rcv")
    if both_ways:
        t.call(p.connect, r, "/tmp/snd")
    results = []
    for i in range(QLEN + 5):
        try:
            p.send(s, b"m%d" % i, MSG_DONTWAIT)
            results.append("ok")
        except OSError as e:
            results.append(errno.errorcode.get(e.errno, e.errno))
    t.note("sends", results)
    t.call(p.poll, [(s, POLLOUT)], 0)
    t.call(p.recv, r, 10)
    t.call(p.poll, [(s, POLLOUT)], 0)


@scenario("dgram_pollout_tracks_peer", params={"kind": NAMED})
def dgram_pollout_tracks_peer(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    r = _bound(t, p, kind, "rcv")
    s = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    t.call(p.connect, s, _name(kind, "rcv"))
    _poll(t, p, s)
    for i in range(QLEN + 1):
        p.send(s, b"x", MSG_DONTWAIT)
    _poll(t, p, s)
    t.call(p.poll, [(s, POLLIN)], 0)
    t.call(p.send, s, b"x", MSG_DONTWAIT)
    _poll(t, p, r)
    t.call(p.recv, r, 10)
    _poll(t, p, s)
    t.call(p.send, s, b"x", MSG_DONTWAIT)
    _poll(t, p, s)
    t.call(p.connect, s, None)               # dissolved: writable again
    _poll(t, p, s)


@scenario("dgram_blocked_sender_woken", params={"kind": NAMED, "connected": (False, True)})
def dgram_blocked_sender_woken(k, t, kind, connected):
    """A blocking sender facing a full queue sleeps until the receiver reads."""
    p = k.spawn(uid=1000, gid=1000)
    r = _bound(t, p, kind, "rcv")
    s = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    if connected:
        t.call(p.connect, s, _name(kind, "rcv"))
    for i in range(QLEN + 1):
        p.sendto(s, b"m%d" % i, _name(kind, "rcv"))
    t.call(p.sendto, s, b"full", _name(kind, "rcv"), MSG_DONTWAIT)
    bg = Background(k, p.sendto, s, b"late", _name(kind, "rcv"))
    bg.blocked(t, "sender blocked", 0.3)
    t.call(p.recv, r, 10)
    bg.result(t, "blocked sendto")
    got = []
    while True:
        try:
            got.append(p.recv(r, 100, MSG_DONTWAIT))
        except OSError:
            break
    t.note("queue", got)


def _fill_wmem(p, s, dest):
    """Big datagrams (each of its own byte) until the sender's buffer (not
    the queue) is full."""
    n = 0
    while n < QLEN:
        try:
            p.sendto(s, bytes([n % 256]) * 65000, dest, MSG_DONTWAIT)
        except BlockingIOError:
            return n
        n += 1
    return n


@scenario("dgram_send_waits_for_room_before_the_lookup", params={
    "kind": NAMED, "dest": ("missing", "stream", "self", "dead")})
def dgram_send_waits_for_room_before_the_lookup(k, t, kind, dest):
    """unix_dgram_sendmsg looks the name up only after sock_alloc_send_pskb
    found room (or waited for it) and the data was copied: with a full send
    buffer, a blocking send to a name that does not work waits (EAGAIN at
    SO_SNDTIMEO) and fails on the name only once room is made; files it
    carried are not kept in flight."""
    import array
    import struct
    p = k.spawn(uid=1000, gid=1000)
    r = _bound(t, p, kind, "rcv")
    s = _bound(t, p, kind, "snd")
    if dest == "stream":
        _bound(t, p, kind, "to", SOCK_STREAM)
    elif dest == "dead":
        t.call(p.close, _bound(t, p, kind, "to"))
    to = _name(kind, "snd" if dest == "self" else "to")
    t.step("fill", _fill_wmem, p, s, _name(kind, "rcv"))
    t.call(p.sendto, s, b"x", to, MSG_DONTWAIT)
    t.call(p.setsockopt, s, SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("qq", 0, 60000))
    t.call(p.sendto, s, b"x", to)
    t.call(p.setsockopt, s, SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("qq", 0, 0))
    rd, wr = t.call(p.pipe)
    rights = [(SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [wr]).tobytes())]
    bg = Background(k, p.sendmsg, s, [b"late"], rights, 0, to)
    bg.blocked(t, "sender blocked", 0.2)
    _payload(t, "a read that leaves 3/4 of the buffer used", p.recv, r, 65536)
    bg.blocked(t, "still blocked (unix_write_space wakes at 1/4)", 0.1)
    for i in range(3):
        _payload(t, "make room", p.recv, r, 65536)
    bg.result(t, "blocked sendmsg")
    t.call(p.close, wr)
    _nonblock(p, rd)
    t.call(p.read, rd, 10)                  # EOF unless the file is in flight
    if dest == "self":
        t.call(p.recv, s, 10, MSG_DONTWAIT)     # the datagram (and file) sent to itself
        t.call(p.read, rd, 10)


@scenario("dgram_blocked_recv_woken", params={"kind": ("socketpair",) + NAMED})
def dgram_blocked_recv_woken(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind)
    bg = Background(k, p.recvfrom, b, 100)
    bg.blocked(t, "receiver blocked", 0.2)
    t.call(p.send, a, b"wake up")
    bg.result(t, "blocked recvfrom")


@scenario("dgram_rcvtimeo")
def dgram_rcvtimeo(k, t):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, "socketpair")
    t.call(p.setsockopt, b, SOL_SOCKET, socket.SO_RCVTIMEO,
           (0).to_bytes(8, "little") + (50000).to_bytes(8, "little"))
    start = time.monotonic()
    t.call(p.recv, b, 10)
    t.note("waited", time.monotonic() - start >= 0.03)


@scenario("dgram_emsgsize", params={"kind": ("socketpair", "filesystem"), "sndbuf": (0, 4096)})
def dgram_emsgsize(k, t, kind, sndbuf):
    """A datagram may be at most sndbuf - 32 bytes."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind)
    if sndbuf:
        t.call(p.setsockopt, a, SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    size = t.call(p.getsockopt, a, SOL_SOCKET, socket.SO_SNDBUF)
    t.call(p.send, a, bytes(size - 31))
    t.call(p.sendmsg, a, [bytes(size - 40), bytes(9)])
    t.call(p.send, a, bytes(size))
    t.call(p.send, a, b"e" * (size - 32))
    _payload(t, "recv", p.recv, b, size)
    t.call(p.recv, b, 10, MSG_DONTWAIT)
    if kind == "filesystem":
        t.call(p.sendto, a, bytes(size - 31), "/tmp/pair0b")
        t.call(p.sendto, a, bytes(size - 31), "/tmp/nonexistent")


# --------------------------------------------------- unsupported, shutdown

@scenario("dgram_listen_accept", params={"bound": (False, True)})
def dgram_listen_accept(k, t, bound):
    p = k.spawn(uid=1000, gid=1000)
    a = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    if bound:
        t.call(p.bind, a, "/tmp/d")
    t.call(p.listen, a, 5)
    t.call(p.accept, a)
    t.call(p.getsockopt, a, SOL_SOCKET, socket.SO_ACCEPTCONN)
    t.call(p.getsockopt, a, SOL_SOCKET, socket.SO_TYPE)
    t.call(p.send, a, b"x", socket.MSG_OOB)


@scenario("dgram_shut_wr")
def dgram_shut_wr(k, t, kind="socketpair"):
    """SHUT_WR stops only our own sends; the peer is not told."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, kind)
    t.call(p.send, b, b"before")
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.send, a, b"x")
    t.note("sigpipe", socket.SIGPIPE in p.pending_signals if hasattr(socket, "SIGPIPE") else
           13 in p.pending_signals)
    t.call(p.send, a, b"x", MSG_NOSIGNAL)
    t.call(p.send, b, b"after")
    t.call(p.recv, a, 100)
    t.call(p.recv, a, 100)
    _poll(t, p, a)
    _poll(t, p, b)
    t.call(p.recv, b, 10, MSG_DONTWAIT)


@scenario("dgram_shut_rd", params={"nonblock": (False, True)})
def dgram_shut_rd(k, t, nonblock):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, "socketpair", nonblock)
    t.call(p.send, a, b"queued")
    t.call(p.shutdown, b, socket.SHUT_RD)
    _poll(t, p, b)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.send, a, b"after")
    t.call(p.recv, b, 100)
    t.call(p.shutdown, b, socket.SHUT_WR)
    _poll(t, p, b)
    _poll(t, p, a)


@scenario("dgram_shutdown_unconnected")
def dgram_shutdown_unconnected(k, t):
    p = k.spawn(uid=1000, gid=1000)
    a = _bound(t, p, "filesystem", "a")
    t.call(p.shutdown, a, socket.SHUT_RDWR)
    _poll(t, p, a)
    t.call(p.sendto, a, b"x", "/tmp/a")
    t.call(p.recv, a, 10)
    t.call(p.shutdown, a, 7)


# ------------------------------------------------------------------ poll

@scenario("dgram_poll_bits")
def dgram_poll_bits(k, t, kind="socketpair"):
    p = k.spawn(uid=1000, gid=1000)
    u = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    _poll(t, p, u)
    a, b = make_pair(k, p, SOCK_DGRAM, kind)
    _poll(t, p, a)
    t.call(p.send, a, b"x")
    _poll(t, p, b)
    t.call(p.poll, [(b, POLLOUT)], 0)
    t.call(p.poll, [(b, 0)], 0)
    t.call(p.recv, b, 10)
    _poll(t, p, b)


# ---------------------------------------------------------- socketpair

@scenario("dgram_socketpair")
def dgram_socketpair(k, t):
    p = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, AF_UNIX, SOCK_DGRAM)
    t.call(p.getsockopt, a, SOL_SOCKET, socket.SO_TYPE)
    t.call(p.getsockopt, a, SOL_SOCKET, socket.SO_PEERCRED, 12)
    t.call(p.send, a, b"ab")
    t.call(p.send, b, b"ba")
    t.call(p.recvfrom, b, 10)
    t.call(p.recvfrom, a, 10)
    t.call(p.getsockname, a)
    t.call(p.getpeername, a)
    c = _bound(t, p, "filesystem", "c")
    t.call(p.sendto, a, b"out", "/tmp/c")
    t.call(p.recvfrom, c, 10)
    t.call(p.connect, a, "/tmp/c")
    t.call(p.send, b, b"rejected")
    t.call(p.send, a, b"to c")
    t.call(p.recvfrom, c, 10)


@scenario("dgram_unconnected_peercred")
def dgram_unconnected_peercred(k, t):
    p = k.spawn(uid=1000, gid=1000)
    b = _bound(t, p, "filesystem", "b")
    a = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    t.call(p.connect, a, "/tmp/b")
    t.call(p.getsockopt, a, SOL_SOCKET, socket.SO_PEERCRED, 12)
    t.call(p.getsockopt, b, SOL_SOCKET, socket.SO_PEERCRED, 12)


@scenario("dgram_passcred_autobind", params={"kind": NAMED, "how": ("sendto", "connect", "sendmsg")})
def dgram_passcred_autobind(k, t, kind, how):
    """SO_PASSCRED on an unbound sender autobinds it: the receiver sees the
    autobound abstract name."""
    p = k.spawn(uid=1000, gid=1000)
    r = _bound(t, p, kind, "rcv")
    s = t.call(p.socket, AF_UNIX, SOCK_DGRAM)
    t.call(p.setsockopt, s, SOL_SOCKET, socket.SO_PASSCRED, 1)
    t.call(p.getsockname, s)
    if how == "sendto":
        t.call(p.sendto, s, b"x", _name(kind, "rcv"))
    elif how == "sendmsg":
        t.call(p.sendmsg, s, [b"x"], [], 0, _name(kind, "rcv"))
    else:
        t.call(p.connect, s, _name(kind, "rcv"))
        t.call(p.send, s, b"x")
    t.call(p.getsockname, s)
    t.call(p.recvfrom, r, 10)


@scenario("dgram_zero_size_recvfrom", params={"call": ("recvfrom", "recvmsg", "recv_into")})
def dgram_zero_size_recvfrom(k, t, call):
    """A zero-size buffer still takes (and truncates) a whole datagram."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_DGRAM, "socketpair")
    t.call(p.send, a, b"abc")
    t.call(p.send, a, b"def")
    if call == "recv_into":
        t.call(p.recv_into, b, bytearray(0), 0)
    else:
        t.call(getattr(p, call), b, 0)
    t.call(p.recv, b, 10)
    t.call(p.recv, b, 10, MSG_DONTWAIT)


@scenario("dgram_send_checks_before_name_lookup", params={"kind": NAMED})
def dgram_send_checks_before_name_lookup(k, t, kind):
    """sock_alloc_send_pskb runs before the destination is looked up: a
    sender shut down for writing gets EPIPE even for a name that does not
    exist, and a pending error is reported (once) before ENOENT.  (Found by
    the hypothesis differential test.)"""
    p = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, AF_UNIX, SOCK_DGRAM)
    t.call(p.shutdown, b, socket.SHUT_WR)
    t.call(p.sendto, b, b"", _name(kind, "missing"), socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
    t.call(p.sendto, b, b"x", _name(kind, "missing"))
    # A pending ECONNRESET (the peer connected back dropped our queue) comes first.
    c = _bound(t, p, kind, "c")
    d = _bound(t, p, kind, "d")
    e = _bound(t, p, kind, "e")
    t.call(p.connect, c, _name(kind, "d"))
    t.call(p.connect, d, _name(kind, "c"))
    t.call(p.send, d, b"queued at c")
    t.call(p.connect, c, _name(kind, "e"))
    t.call(p.sendto, d, b"y", _name(kind, "missing"))
    t.call(p.sendto, d, b"y", _name(kind, "missing"))


@scenario("dgram_shut_wr_before_enotconn", params={"sotype": (SOCK_DGRAM, socket.SOCK_SEQPACKET)})
def dgram_shut_wr_before_enotconn(k, t, sotype):
    """An unconnected datagram socket shut down for writing: send() is EPIPE
    (SEND_SHUTDOWN is checked before the peer); a seqpacket one stays
    ENOTCONN (its state is checked first).  (Found by the hypothesis test.)"""
    p = k.spawn(uid=1000, gid=1000)
    s = t.call(p.socket, AF_UNIX, sotype)
    t.call(p.send, s, b"", socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
    t.call(p.shutdown, s, socket.SHUT_WR)
    t.call(p.send, s, b"", socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
    t.call(p.send, s, b"x", socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)


@scenario("dgram_full_sndbuf_eagain_before_name_lookup")
def dgram_full_sndbuf_eagain_before_name_lookup(k, t):
    """A non-blocking sendto with the send buffer full is EAGAIN even to a
    name that does not exist (sock_alloc_send_pskb runs before the lookup).
    (Found by the hypothesis differential test.)"""
    p = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, AF_UNIX, SOCK_DGRAM)
    t.call(p.send, b, b"x" * 4096)
    t.call(p.setsockopt, b, socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    t.call(p.sendto, b, b"", "/tmp/missing", socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
    t.call(p.recv, a, 10000, socket.MSG_DONTWAIT)
    t.call(p.sendto, b, b"", "/tmp/missing", socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)


@scenario("dgram_send_error_order", params={"sotype": (socket.SOCK_DGRAM, socket.SOCK_SEQPACKET),
                                            "state": ("unconnected", "shut_wr", "peer_closed",
                                                      "pending_error")})
def dgram_send_error_order(k, t, sotype, state):
    """unix_dgram_sendmsg's order: EMSGSIZE first, then the pending error and
    SEND_SHUTDOWN (sock_alloc_send_pskb), then the peer (ENOTCONN) -- a
    too-big message is EMSGSIZE whatever else is wrong."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, socket.AF_UNIX, sotype | socket.SOCK_NONBLOCK)
    t.call(p.setsockopt, a, SOL_SOCKET, socket.SO_SNDBUF, 4096)
    if state == "unconnected":
        a = t.call(p.socket, socket.AF_UNIX, sotype | socket.SOCK_NONBLOCK)
    elif state == "shut_wr":
        t.call(p.shutdown, a, socket.SHUT_WR)
    elif state == "peer_closed":
        t.call(p.close, b)
    elif sotype == socket.SOCK_DGRAM:
        t.call(p.send, a, b"queued")       # b dissolving its association with a
        t.call(p.connect, b, None)          # drops it and sets ECONNRESET on a
    else:
        t.call(p.send, a, b"queued")
        t.call(p.close, b)                  # unread data: ECONNRESET on a
    for size in (65536, 8160, 8161, 1, 0):
        t.call(p.send, a, b"x" * size)
        t.call(p.sendmsg, a, [b"x" * size])
    t.call(p.getsockopt, a, SOL_SOCKET, socket.SO_ERROR)
