"""SOCK_SEQPACKET: connection-oriented like stream, record boundaries like
dgram, each compared step by step with the host kernel."""
import socket

from ..harness import Background, scenario, make_pair
from .dgram import _bound, _name, _payload, _nonblock, _poll, FIONREAD, ALL_EVENTS

AF_UNIX, SOCK_DGRAM, SOCK_STREAM, SOCK_SEQPACKET = (
    socket.AF_UNIX, socket.SOCK_DGRAM, socket.SOCK_STREAM, socket.SOCK_SEQPACKET)
SOL_SOCKET = socket.SOL_SOCKET
MSG_TRUNC, MSG_PEEK, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_EOR, MSG_WAITALL = (
    socket.MSG_TRUNC, socket.MSG_PEEK, socket.MSG_DONTWAIT, socket.MSG_NOSIGNAL,
    socket.MSG_EOR, socket.MSG_WAITALL)
SIGPIPE = 13
KINDS = ("socketpair", "filesystem", "abstract")
NAMED = ("filesystem", "abstract")
NONBLOCK = (False, True)


@scenario("seqpacket_connect_accept", params={"kind": NAMED})
def seqpacket_connect_accept(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    srv = _bound(t, p, kind, "srv", SOCK_SEQPACKET)
    t.call(p.listen, srv, 4)
    t.call(p.getsockopt, srv, SOL_SOCKET, socket.SO_ACCEPTCONN)
    c = t.call(p.socket, AF_UNIX, SOCK_SEQPACKET)
    t.call(p.connect, c, _name(kind, "srv"))
    t.call(p.connect, c, _name(kind, "srv"))          # EISCONN
    a, addr = t.call(p.accept, srv) or (None, None)
    t.call(p.getpeername, c)
    t.call(p.getsockname, a)
    t.call(p.getpeername, a)
    t.call(p.getsockopt, a, SOL_SOCKET, socket.SO_TYPE)
    t.call(p.send, c, b"hi")
    t.call(p.recv, a, 10)
    t.call(p.send, srv, b"x")
    t.call(p.recv, srv, 10, MSG_DONTWAIT)
    _nonblock(p, srv)
    t.call(p.accept, srv)                             # nothing pending: EAGAIN


@scenario("seqpacket_boundaries", params={"nonblock": NONBLOCK})
def seqpacket_boundaries(k, t, nonblock, kind="socketpair"):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind, nonblock)
    for msg in (b"a", b"bb", b"ccc", b"d" * 5000):
        t.call(p.send, a, msg)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.recvmsg, b, 100)
    t.call(p.recv, b, 10000)
    t.call(p.recv, b, 100, MSG_DONTWAIT)
    t.call(p.sendmsg, b, [b"x", b"yz"])
    t.call(p.recv, a, 100, MSG_WAITALL)


@scenario("seqpacket_truncation", params={"kind": KINDS})
def seqpacket_truncation(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind)
    t.call(p.send, a, b"0123456789")
    t.call(p.send, a, b"next")
    t.call(p.recv, b, 4)                   # the rest of the record is dropped
    t.call(p.recv, b, 100)
    t.call(p.send, a, b"0123456789")
    t.call(p.recvmsg, b, 3)
    t.call(p.send, a, b"0123456789")
    _payload(t, "recv(b, 4, MSG_TRUNC)", p.recv, b, 4, MSG_TRUNC, defined=4)
    t.call(p.send, a, b"0123456789")
    buf = bytearray(4)
    t.call(p.recv_into, b, buf, 4, MSG_TRUNC)
    t.call(p.send, a, b"0123456789")
    t.call(p.recvmsg, b, 2, 0, MSG_TRUNC)
    t.call(p.send, a, b"0123456789")
    t.call(p.recv, b, 5, MSG_PEEK)
    t.call(p.recvfrom, b, 5)
    t.call(p.recv, b, 100, MSG_DONTWAIT)


@scenario("seqpacket_eor", params={"kind": KINDS})
def seqpacket_eor(k, t, kind):
    """MSG_EOR is accepted on send; records stay records."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind)
    t.call(p.send, a, b"one", MSG_EOR)
    t.call(p.sendmsg, a, [b"tw", b"o"], [], MSG_EOR)
    t.call(p.send, a, b"three")
    t.call(p.recvmsg, b, 100)
    t.call(p.recvmsg, b, 100)
    t.call(p.recvmsg, b, 100, 0, MSG_EOR)


@scenario("seqpacket_zero_length", params={"kind": KINDS, "nonblock": NONBLOCK})
def seqpacket_zero_length(k, t, kind, nonblock):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind, nonblock)
    t.call(p.send, a, b"")
    t.call(p.send, a, b"after empty")
    t.call(p.sendmsg, a, [])
    t.call(p.poll, [(b, ALL_EVENTS)], 0)
    t.call(p.recvmsg, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.recvfrom, b, 100)
    t.call(p.poll, [(b, ALL_EVENTS)], 0)
    t.call(p.recv, b, 100, MSG_DONTWAIT)


@scenario("seqpacket_sendto_connected", params={"kind": KINDS})
def seqpacket_sendto_connected(k, t, kind):
    """An address on a connected seqpacket socket is ignored."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind)
    other = _bound(t, p, "filesystem", "other", SOCK_SEQPACKET)
    t.call(p.sendto, a, b"ignored addr", "/tmp/nonexistent")
    t.call(p.sendto, a, b"ignored addr 2", "/tmp/other")
    t.call(p.sendto, a, b"ignored addr 3", b"\0nobody")
    t.call(p.sendmsg, a, [b"ignored addr 4"], [], 0, "/tmp/other")
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.recvfrom, b, 100)
    t.call(p.recv, other, 100, MSG_DONTWAIT)


@scenario("seqpacket_send_unconnected", params={"state": ("fresh", "bound", "listening")})
def seqpacket_send_unconnected(k, t, state):
    p = k.spawn(uid=1000, gid=1000)
    srv = _bound(t, p, "filesystem", "srv", SOCK_SEQPACKET)
    t.call(p.listen, srv, 4)
    a = t.call(p.socket, AF_UNIX, SOCK_SEQPACKET)
    if state != "fresh":
        t.call(p.bind, a, "/tmp/a")
    if state == "listening":
        t.call(p.listen, a, 1)
    t.call(p.send, a, b"x")
    t.call(p.sendto, a, b"x", "/tmp/srv")
    t.call(p.sendmsg, a, [b"x"], [], 0, "/tmp/srv")
    t.call(p.write, a, b"x")
    t.call(p.recv, a, 10)
    t.call(p.recv, a, 10, MSG_DONTWAIT)
    t.call(p.getpeername, a)
    t.call(p.shutdown, a, socket.SHUT_RDWR)
    _poll(t, p, a)


@scenario("seqpacket_eof", params={"kind": KINDS})
def seqpacket_eof(k, t, kind, nonblock=False):
    """Records queued before the close are read, then EOF (b"")."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind, nonblock)
    t.call(p.send, a, b"last words")
    t.call(p.send, a, b"")
    t.call(p.close, a)
    _poll(t, p, b)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.recvmsg, b, 100)
    t.call(p.recv, b, 100, MSG_DONTWAIT)
    t.call(p.getpeername, b)
    _poll(t, p, b)


@scenario("seqpacket_eof_wakes_reader", params={"kind": KINDS})
def seqpacket_eof_wakes_reader(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind)
    bg = Background(k, p.recv, b, 100)
    bg.blocked(t, "reader blocked", 0.2)
    t.call(p.close, a)
    bg.result(t, "blocked recv")


@scenario("seqpacket_recv_woken", params={"kind": KINDS})
def seqpacket_recv_woken(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind)
    bg = Background(k, p.recvmsg, b, 100)
    bg.blocked(t, "reader blocked", 0.2)
    t.call(p.send, a, b"wake")
    bg.result(t, "blocked recvmsg")


@scenario("seqpacket_unread_reset", params={"kind": KINDS})
def seqpacket_unread_reset(k, t, kind):
    """Closing with unread records resets the peer."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind)
    t.call(p.send, b, b"never read by a")
    t.call(p.send, a, b"for b")
    t.call(p.close, a)
    _poll(t, p, b)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100)
    t.call(p.send, b, b"x", MSG_NOSIGNAL)


@scenario("seqpacket_epipe", params={"nosignal": (False, True)})
def seqpacket_epipe(k, t, nosignal, kind="socketpair"):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind)
    t.call(p.close, b)
    t.call(p.send, a, b"x", MSG_NOSIGNAL if nosignal else 0)
    t.note("SIGPIPE pending", SIGPIPE in p.pending_signals)
    t.call(p.sendmsg, a, [b"x"], [], MSG_NOSIGNAL)
    t.call(p.send, a, b"", MSG_NOSIGNAL)


@scenario("seqpacket_shutdown", params={"kind": KINDS, "how": (0, 1, 2)})
def seqpacket_shutdown(k, t, kind, how):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind)
    t.call(p.send, a, b"before")
    t.call(p.send, b, b"before too")
    t.call(p.shutdown, a, how)
    _poll(t, p, a)
    _poll(t, p, b)
    t.call(p.send, a, b"x")
    t.call(p.send, b, b"y")
    t.note("SIGPIPE pending", SIGPIPE in p.pending_signals)
    t.call(p.recv, b, 100, MSG_DONTWAIT)
    t.call(p.recv, b, 100, MSG_DONTWAIT)
    t.call(p.recv, a, 100, MSG_DONTWAIT)
    t.call(p.recv, a, 100, MSG_DONTWAIT)


@scenario("seqpacket_type_mismatch", params={"kind": NAMED, "target": (SOCK_STREAM, SOCK_DGRAM)})
def seqpacket_type_mismatch(k, t, kind, target):
    """A target of another type: EPROTOTYPE by path, ECONNREFUSED by abstract
    name (the abstract namespace is per type)."""
    p = k.spawn(uid=1000, gid=1000)
    srv = _bound(t, p, kind, "srv", target)
    if target == SOCK_STREAM:
        t.call(p.listen, srv, 4)
    a = t.call(p.socket, AF_UNIX, SOCK_SEQPACKET)
    t.call(p.connect, a, _name(kind, "srv"))
    t.call(p.getpeername, a)
    sq = _bound(t, p, kind, "sq", SOCK_SEQPACKET)
    t.call(p.listen, sq, 4)
    s = t.call(p.socket, AF_UNIX, target)
    t.call(p.connect, s, _name(kind, "sq"))
    t.call(p.sendto, s, b"x", _name(kind, "sq"))


@scenario("seqpacket_connect_refused", params={"kind": NAMED})
def seqpacket_connect_refused(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    a = t.call(p.socket, AF_UNIX, SOCK_SEQPACKET)
    t.call(p.connect, a, _name(kind, "nobody"))
    b = _bound(t, p, kind, "notlistening", SOCK_SEQPACKET)
    t.call(p.connect, a, _name(kind, "notlistening"))
    gone = _bound(t, p, kind, "gone", SOCK_SEQPACKET)
    t.call(p.listen, gone, 1)
    t.call(p.close, gone)
    t.call(p.connect, a, _name(kind, "gone"))
    t.call(p.connect, a, None)
    t.call(p.getsockname, b)


@scenario("seqpacket_backlog", params={"kind": NAMED})
def seqpacket_backlog(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    srv = _bound(t, p, kind, "srv", SOCK_SEQPACKET)
    t.call(p.listen, srv, 0)
    outs = []
    for i in range(3):
        c = t.call(p.socket, AF_UNIX, SOCK_SEQPACKET | socket.SOCK_NONBLOCK)
        t.call(p.connect, c, _name(kind, "srv"))
        outs.append(c)
    n, _ = t.call(p.accept, srv) or (None, None)
    t.call(p.send, outs[0], b"first")
    t.call(p.recv, n, 100)


@scenario("seqpacket_poll", params={"kind": KINDS})
def seqpacket_poll(k, t, kind):
    p = k.spawn(uid=1000, gid=1000)
    u = t.call(p.socket, AF_UNIX, SOCK_SEQPACKET)
    _poll(t, p, u)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind)
    _poll(t, p, a)
    t.call(p.send, a, b"x")
    _poll(t, p, b)
    t.call(p.recv, b, 10)
    _poll(t, p, b)
    t.call(p.shutdown, a, socket.SHUT_WR)
    _poll(t, p, a)
    _poll(t, p, b)
    t.call(p.close, a)
    _poll(t, p, b)


@scenario("seqpacket_peek")
def seqpacket_peek(k, t, kind="socketpair"):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind)
    t.call(p.send, a, b"0123456789")
    t.call(p.send, a, b"second")
    t.call(p.recv, b, 4, MSG_PEEK)
    t.call(p.recvmsg, b, 100, 0, MSG_PEEK)
    t.call(p.recv, b, 100)
    t.call(p.recv, b, 100, MSG_PEEK)
    t.call(p.recv, b, 100)


@scenario("seqpacket_large")
def seqpacket_large(k, t, kind="socketpair"):
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, SOCK_SEQPACKET, kind)
    big = bytes(range(256)) * 400
    t.call(p.send, a, big)
    size = t.call(p.getsockopt, a, SOL_SOCKET, socket.SO_SNDBUF)
    t.call(p.send, a, bytes(size - 31))          # EMSGSIZE like dgram
    t.step("recv == big", lambda: p.recv(b, 200000) == big)
    t.call(p.recv, b, 10, MSG_DONTWAIT)


@scenario("seqpacket_socketpair")
def seqpacket_socketpair(k, t):
    p = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, AF_UNIX, SOCK_SEQPACKET)
    t.call(p.getsockopt, a, SOL_SOCKET, socket.SO_TYPE)
    t.call(p.getsockopt, b, SOL_SOCKET, socket.SO_PEERCRED, 12)
    t.call(p.getpeername, a)
    t.call(p.send, a, b"ab")
    t.call(p.send, b, b"ba")
    t.call(p.recvfrom, b, 10)
    t.call(p.recvmsg, a, 10)
    t.call(p.connect, a, "/tmp/x")
    t.call(p.listen, a, 1)
    t.call(p.connect, a, None)


@scenario("seqpacket_sndbuf_full", params={"sotype": (SOCK_SEQPACKET, SOCK_DGRAM),
                                           "size": (1, 1000, 60000)})
def seqpacket_sndbuf_full(k, t, sotype, size):
    """Connected both ways, only the sender's send buffer bounds what is in
    flight: records fill it up to EAGAIN, and reading frees room again."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair", True)
    t.call(p.setsockopt, a, SOL_SOCKET, socket.SO_SNDBUF, 32768)
    sent, err = 0, None
    while sent < 10000:
        try:
            p.send(a, bytes([sent % 256]) * size)
        except OSError as e:
            err = e.errno
            break
        sent += 1
    t.note("sent before EAGAIN", (sent, err))
    t.call(p.poll, [(a, ALL_EVENTS)], 0)
    t.call(p.ioctl, b, FIONREAD)
    for _ in range(min(sent, 3)):
        _payload(t, "recv", p.recv, b, 100000)
    t.call(p.poll, [(a, ALL_EVENTS)], 0)
    t.call(p.send, a, bytes(size))


@scenario("seqpacket_blocked_sender_woken", params={"sotype": (SOCK_SEQPACKET, SOCK_DGRAM)})
def seqpacket_blocked_sender_woken(k, t, sotype):
    """A sender whose send buffer is full sleeps until the reader frees it."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    t.call(p.setsockopt, a, SOL_SOCKET, socket.SO_SNDBUF, 32768)
    sent = 0
    while sent < 1000:
        try:
            p.send(a, bytes([sent % 256]) * 1000, MSG_DONTWAIT)
        except OSError:
            break
        sent += 1
    t.note("sent", sent)
    bg = Background(k, p.send, a, b"late")
    bg.blocked(t, "sender blocked", 0.3)
    for _ in range(4):
        _payload(t, "recv", p.recv, b, 2000)
    # woken only once the buffer is down to a quarter (unix_write_space)
    bg.blocked(t, "still blocked after 4 reads", 0.3)
    for _ in range(sent - 4):
        p.recv(b, 2000)
    bg.result(t, "blocked send")
    t.call(p.recv, b, 2000)


@scenario("seqpacket_sendmsg_state_before_control_data")
def seqpacket_sendmsg_state_before_control_data(k, t):
    """unix_seqpacket_sendmsg checks the connection before scm_send parses
    SCM_RIGHTS: an unconnected socket gets ENOTCONN even naming a closed fd.
    (Found by the hypothesis differential test.)"""
    import array
    p = k.spawn(uid=1000, gid=1000)
    s = t.call(p.socket, socket.AF_UNIX, socket.SOCK_SEQPACKET)
    bad = array.array("i", [77]).tobytes()
    t.call(p.sendmsg, s, [b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bad)])
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_SEQPACKET)
    t.call(p.sendmsg, a, [b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bad)])


@scenario("seqpacket_close_with_zero_length_records", params={"records": (1, 2)})
def seqpacket_close_with_zero_length_records(k, t, records):
    """Closing with unread records resets the peer (ECONNRESET), but one
    zero-length record at the head does not count as unread data (Linux
    6.18's unix_release_sock skips an empty head skb).  (Found by the
    hypothesis differential test.)"""
    p = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_SEQPACKET)
    for _ in range(records):
        t.call(p.send, a, b"")
    t.call(p.close, b)
    t.call(p.getsockopt, a, socket.SOL_SOCKET, socket.SO_ERROR)
    t.call(p.recv, a, 10, socket.MSG_DONTWAIT)
    t.call(p.recv, a, 10, socket.MSG_DONTWAIT)
