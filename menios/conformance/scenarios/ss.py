"""iproute2's ``ss`` on both kernels: the same sockets set up on menios and
on the host, then ``k.ss(args)`` -- menios's rendering of its sock_diag view
against the real ``/usr/bin/ss`` in the host scenario's network namespace
-- compared after the normalisation of :mod:`..sstext` (holders' names for
inode numbers, process names for pids, rows sorted).  Every state, type and
kind of name, pending connections, queued bytes, holders (``-p``), memory
(``-m``), details (``-e``), state and address filters.  Named ``ss_*``;
each needs ``ss`` on the host.
"""
import socket
import struct

from ..harness import SOCK_TYPES, scenario
from ..sstext import ss_step

AF_UNIX = socket.AF_UNIX
STREAM, DGRAM, SEQPACKET = socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET
SOL = socket.SOL_SOCKET
CONNECTED = (STREAM, SEQPACKET)
NEEDS = {"ss"}


def _proc(k, comm=None):
    return k.spawn(uid=1000, gid=1000, comm=comm)


def _listener(p, sotype, name, backlog=5):
    fd = p.socket(AF_UNIX, sotype)
    p.bind(fd, name)
    p.listen(fd, backlog)
    return fd


def _client(p, sotype, name):
    fd = p.socket(AF_UNIX, sotype)
    p.connect(fd, name)
    return fd


def _bound(p, sotype, name):
    fd = p.socket(AF_UNIX, sotype)
    p.bind(fd, name)
    return fd


@scenario("ss_socketpair", params={"sotype": SOCK_TYPES}, needs=NEEDS)
def ss_socketpair(k, t, sotype):
    """A socketpair: two ESTAB sockets, each the other's peer, unnamed."""
    p = _proc(k)
    p.socketpair(AF_UNIX, sotype)
    ss_step(k, t, "-xa")
    ss_step(k, t, "-x")


@scenario("ss_empty", needs=NEEDS)
def ss_empty(k, t):
    """No socket: the header alone, its widths those of the titles."""
    _proc(k)
    ss_step(k, t, "-xa")
    ss_step(k, t, "-xl")
    ss_step(k, t, "-xaH")


@scenario("ss_unbound", params={"sotype": SOCK_TYPES}, needs=NEEDS)
def ss_unbound(k, t, sotype):
    """A fresh socket is UNCONN, shown only with -a or -l."""
    p = _proc(k)
    p.socket(AF_UNIX, sotype)
    ss_step(k, t, "-x")
    ss_step(k, t, "-xa")
    ss_step(k, t, "-xl")


@scenario("ss_listener_pending", params={"sotype": CONNECTED}, needs=NEEDS)
def ss_listener_pending(k, t, sotype):
    """A listener with three connections pending: Recv-Q 3, Send-Q the
    backlog, -e lists the connectors; the embryos are not listed and the
    connectors' peer is 0 until accepted."""
    p = _proc(k)
    _listener(p, sotype, "/tmp/srv", 5)
    for _ in range(3):
        _client(p, sotype, "/tmp/srv")
    ss_step(k, t, "-xa")
    ss_step(k, t, "-xae")
    ss_step(k, t, "-xl")


@scenario("ss_listener_accepted", params={"sotype": CONNECTED}, needs=NEEDS)
def ss_listener_accepted(k, t, sotype):
    """After accepting one of three: the accepted socket has the listener's
    name and bound file, and its connector's peer is it."""
    p = _proc(k)
    lfd = _listener(p, sotype, "/tmp/srv", 5)
    for _ in range(3):
        _client(p, sotype, "/tmp/srv")
    p.accept(lfd)
    ss_step(k, t, "-xae")


@scenario("ss_listener_backlog", params={"backlog": (0, 1, 7, 4096, 100000, -1)},
          needs=NEEDS)
def ss_listener_backlog(k, t, backlog):
    """Send-Q of a listener is its backlog as listen() clamped it."""
    p = _proc(k)
    _listener(p, STREAM, "/tmp/srv", backlog)
    ss_step(k, t, "-xl")


@scenario("ss_listener_abstract", needs=NEEDS)
def ss_listener_abstract(k, t):
    """An abstract listener and its pending connections: no bound file."""
    p = _proc(k)
    _listener(p, STREAM, b"\0srv", 2)
    _client(p, STREAM, b"\0srv")
    ss_step(k, t, "-xae")


@scenario("ss_listener_closed_pending", needs=NEEDS)
def ss_listener_closed_pending(k, t):
    """Closing a listener with pending connections: the connectors lose
    their embryo peer and are shut down."""
    p = _proc(k)
    lfd = _listener(p, STREAM, "/tmp/srv", 5)
    _client(p, STREAM, "/tmp/srv")
    p.close(lfd)
    ss_step(k, t, "-xae")


@scenario("ss_stream_queued", needs=NEEDS)
def ss_stream_queued(k, t):
    """Bytes queued on a stream: Recv-Q counts them, the sender's Send-Q
    and skmem t the truesize of its skbs."""
    p = _proc(k)
    a, b = p.socketpair(AF_UNIX, STREAM)
    p.send(a, b"x" * 100)
    p.send(a, b"y" * 50)
    p.send(b, b"z" * 4000)
    ss_step(k, t, "-xam")


@scenario("ss_stream_partly_read", needs=NEEDS)
def ss_stream_partly_read(k, t):
    """A partly read skb: Recv-Q counts what is left, Send-Q stays until
    the skb is consumed."""
    p = _proc(k)
    a, b = p.socketpair(AF_UNIX, STREAM)
    p.send(a, b"x" * 100)
    p.send(a, b"y" * 100)
    p.recv(b, 150)
    ss_step(k, t, "-xam")
    p.recv(b, 10, socket.MSG_PEEK)
    ss_step(k, t, "-xam")


@scenario("ss_dgram_queued", needs=NEEDS)
def ss_dgram_queued(k, t):
    """Datagrams queued on a bound socket: Recv-Q is the first one's size,
    the unbound sender's Send-Q all of them."""
    p = _proc(k)
    d = _bound(p, DGRAM, "/tmp/d1")
    e = p.socket(AF_UNIX, DGRAM)
    p.sendto(e, b"m" * 33, "/tmp/d1")
    p.sendto(e, b"n" * 3, "/tmp/d1")
    ss_step(k, t, "-xam")
    p.recv(d, 100)
    ss_step(k, t, "-xam")


@scenario("ss_dgram_full", needs=NEEDS)
def ss_dgram_full(k, t):
    """A datagram queue filled to max_dgram_qlen and one more refused."""
    p = _proc(k)
    _bound(p, DGRAM, "/tmp/d1")
    e = p.socket(AF_UNIX, DGRAM | socket.SOCK_NONBLOCK)
    p.connect(e, "/tmp/d1")
    for _ in range(11):
        t.call(p.send, e, b"q" * 10)
    ss_step(k, t, "-xam")


@scenario("ss_seqpacket_queued", needs=NEEDS)
def ss_seqpacket_queued(k, t):
    """Records queued on a seqpacket socket: Recv-Q counts them all."""
    p = _proc(k)
    a, b = p.socketpair(AF_UNIX, SEQPACKET)
    p.send(a, b"r" * 70)
    p.send(a, b"s" * 30)
    p.send(a, b"")
    ss_step(k, t, "-xam")


@scenario("ss_dgram_connected", needs=NEEDS)
def ss_dgram_connected(k, t):
    """Two datagram sockets connected to each other are ESTAB peers; one
    connected to a bound socket that is not connected back: ESTAB both."""
    p = _proc(k)
    a = _bound(p, DGRAM, "/tmp/a")
    b = _bound(p, DGRAM, "/tmp/b")
    p.connect(a, "/tmp/b")
    p.connect(b, "/tmp/a")
    c = p.socket(AF_UNIX, DGRAM)
    _bound(p, DGRAM, "/tmp/c")
    p.connect(c, "/tmp/c")
    ss_step(k, t, "-xa")
    ss_step(k, t, "-x")
    p.connect(a, None)
    ss_step(k, t, "-xa")


@scenario("ss_dgram_peer_closed", needs=NEEDS)
def ss_dgram_peer_closed(k, t):
    """A connected datagram socket whose peer closed keeps its state; the
    peer has no inode left."""
    p = _proc(k)
    a = _bound(p, DGRAM, "/tmp/a")
    b = p.socket(AF_UNIX, DGRAM)
    p.connect(b, "/tmp/a")
    p.close(a)
    ss_step(k, t, "-xae")


@scenario("ss_stream_peer_closed", params={"sotype": CONNECTED}, needs=NEEDS)
def ss_stream_peer_closed(k, t, sotype):
    """A stream or seqpacket socket whose peer closed: shut down both ways
    (---), its peer 0; with unread data it keeps it."""
    p = _proc(k)
    a, b = p.socketpair(AF_UNIX, sotype)
    p.send(b, b"left")
    p.close(b)
    ss_step(k, t, "-xaem")


@scenario("ss_shutdown", params={"how": (socket.SHUT_RD, socket.SHUT_WR, socket.SHUT_RDWR)},
          needs=NEEDS)
def ss_shutdown(k, t, how):
    """-e shows the shutdown bits of both ends: <-> less what was shut."""
    p = _proc(k)
    a, b = p.socketpair(AF_UNIX, STREAM)
    p.shutdown(a, how)
    ss_step(k, t, "-xae")


@scenario("ss_names", needs=NEEDS)
def ss_names(k, t):
    """Paths (absolute, relative as given), abstract names (with NULs shown
    as @), unnamed sockets: every type."""
    p = _proc(k)
    p.mkdir("/tmp/d", 0o777)
    p.chdir("/tmp/d")
    _bound(p, STREAM, "/tmp/abs")
    _bound(p, DGRAM, "rel")
    _bound(p, SEQPACKET, b"\0ab\0c")
    _bound(p, DGRAM, b"\0" + b"n" * 40)
    p.socket(AF_UNIX, SEQPACKET)
    ss_step(k, t, "-xa")
    ss_step(k, t, "-xae")


@scenario("ss_long_path", needs=NEEDS)
def ss_long_path(k, t):
    """A 108-byte path (no NUL in sun_path) and a long abstract name."""
    p = _proc(k)
    path = "/tmp/" + "p" * 103
    _bound(p, STREAM, path)
    _bound(p, STREAM, b"\0" + b"L" * 107)
    ss_step(k, t, "-xa")


@scenario("ss_autobind", needs=NEEDS)
def ss_autobind(k, t):
    """Autobound names (bind to "", SO_PASSCRED before connect) print as
    @ and five hex digits; `autobound` selects them and unbound sockets."""
    p = _proc(k)
    a = p.socket(AF_UNIX, DGRAM)
    p.bind(a, "")
    t.call(p.getsockname, a)
    _bound(p, DGRAM, "/tmp/srv")
    b = p.socket(AF_UNIX, DGRAM)
    p.setsockopt(b, SOL, socket.SO_PASSCRED, 1)
    p.connect(b, "/tmp/srv")
    p.socket(AF_UNIX, STREAM)
    ss_step(k, t, "-xa")
    ss_step(k, t, "-xa", "autobound")
    ss_step(k, t, "-xa", "not", "autobound")


@scenario("ss_processes_fds", needs=NEEDS)
def ss_processes_fds(k, t):
    """-p: a socket open as several fds of one process (dup, dup2)."""
    p = _proc(k, comm="server")
    a, b = p.socketpair(AF_UNIX, STREAM)
    p.dup(a)
    p.dup2(a, 9)
    ss_step(k, t, "-xp")
    ss_step(k, t, "-xap")


@scenario("ss_processes_fork", needs=NEEDS)
def ss_processes_fork(k, t):
    """-p: the holders of a socket shared by fork, newest process and
    highest fd first; the child keeps its parent's comm."""
    p = _proc(k, comm="parent")
    a, b = p.socketpair(AF_UNIX, STREAM)
    c = p.fork()
    c.dup2(a, 12)
    c.close(b)
    ss_step(k, t, "-xp")


@scenario("ss_processes_several", needs=NEEDS)
def ss_processes_several(k, t):
    """-p: three processes with their own command names (one cut to 15
    bytes), a server and two clients."""
    srv = _proc(k, comm="srv")
    lfd = _listener(srv, STREAM, "/tmp/srv")
    c1 = _proc(k, comm="client-one")
    c2 = _proc(k, comm="a-very-long-command-name")
    _client(c1, STREAM, "/tmp/srv")
    _client(c2, STREAM, "/tmp/srv")
    srv.accept(lfd)
    ss_step(k, t, "-xap")
    ss_step(k, t, "-xp")


@scenario("ss_processes_passed", needs=NEEDS)
def ss_processes_passed(k, t):
    """A socket passed with SCM_RIGHTS to another process is held by both;
    one in flight (sender closed, not yet received) by nobody."""
    p = _proc(k, comm="sender")
    q = _proc(k, comm="receiver")
    _bound(q, DGRAM, "/tmp/inbox")
    s = p.socket(AF_UNIX, DGRAM)
    a, b = p.socketpair(AF_UNIX, STREAM)
    p.send_fds(s, [b"fd"], [a], 0, "/tmp/inbox")
    ss_step(k, t, "-xap")
    p.close(a)
    ss_step(k, t, "-xap")
    t.call(q.recv_fds, 0, 10, 1)
    ss_step(k, t, "-xap")


@scenario("ss_exit", needs=NEEDS)
def ss_exit(k, t):
    """A process that exits takes its sockets with it; the peer of one it
    held is shut down."""
    p = _proc(k, comm="stays")
    q = p.fork()
    a, b = p.socketpair(AF_UNIX, STREAM)
    c, d = q.socketpair(AF_UNIX, STREAM)
    p.close(b)
    ss_step(k, t, "-xaep")
    q.exit()
    ss_step(k, t, "-xaep")


@scenario("ss_states", params={"state": ("connected", "listening", "unconnected",
                                         "established", "all", "closed", "synchronized",
                                         "big", "bucket")}, needs=NEEDS)
def ss_states(k, t, state):
    """`state NAME` selects by Linux's state bits; one state hides the
    State column."""
    p = _proc(k)
    _listener(p, STREAM, "/tmp/srv")
    _client(p, STREAM, "/tmp/srv")
    _bound(p, DGRAM, "/tmp/d")
    p.socketpair(AF_UNIX, SEQPACKET)
    ss_step(k, t, "-x", "state", state)


@scenario("ss_exclude", needs=NEEDS)
def ss_exclude(k, t):
    """`exclude NAME` and several `state` words."""
    p = _proc(k)
    _listener(p, SEQPACKET, "/tmp/srv")
    p.socketpair(AF_UNIX, STREAM)
    p.socket(AF_UNIX, DGRAM)
    ss_step(k, t, "-x", "exclude", "established")
    ss_step(k, t, "-x", "state", "listening", "state", "established")
    ss_step(k, t, "-x", "exclude", "listening", "exclude", "unconnected")


@scenario("ss_listening", needs=NEEDS)
def ss_listening(k, t):
    """-l: listeners and unconnected sockets only."""
    p = _proc(k)
    _listener(p, STREAM, "/tmp/srv")
    _client(p, STREAM, "/tmp/srv")
    p.socket(AF_UNIX, DGRAM)
    ss_step(k, t, "-xl")
    ss_step(k, t, "-xlp")


@scenario("ss_query", params={"query": ("unix", "unix_stream", "u_dgr", "unix_seqpacket",
                                        "u_str,u_seq", "unix,!u_dgr")}, needs=NEEDS)
def ss_query(k, t, query):
    """-A picks socket tables; one table hides the Netid column."""
    p = _proc(k)
    for sotype in SOCK_TYPES:
        p.socketpair(AF_UNIX, sotype)
        p.socket(AF_UNIX, sotype)
    ss_step(k, t, "-A", query)
    ss_step(k, t, "-a", "-A", query)


@scenario("ss_family", needs=NEEDS)
def ss_family(k, t):
    """-f unix and --unix/--all/--listening/--no-header long options."""
    p = _proc(k)
    p.socketpair(AF_UNIX, STREAM)
    _listener(p, STREAM, "/tmp/srv")
    ss_step(k, t, "-f", "unix", "-a")
    ss_step(k, t, "--unix", "--all")
    ss_step(k, t, "--unix", "--listening", "--no-header")
    ss_step(k, t, "-xan")


@scenario("ss_src_filter", params={"expr": ("src /tmp/s*", "src = /tmp/srv", "src unix:@ab*",
                                            "src *", "not src /tmp/*",
                                            "( src /tmp/a or src /tmp/b )",
                                            "src /tmp/? and not src /tmp/b",
                                            "src /TMP/SRV", "dst *", "dst /tmp/srv")},
          needs=NEEDS)
def ss_src_filter(k, t, expr):
    """Address filters: shell patterns on the name (case folded), dst
    matches only the empty name (sock_diag gives no peer name), not,
    and, or, parentheses."""
    p = _proc(k)
    _listener(p, STREAM, "/tmp/srv")
    _bound(p, DGRAM, "/tmp/a")
    _bound(p, DGRAM, "/tmp/b")
    _bound(p, DGRAM, b"\0abc")
    p.socketpair(AF_UNIX, STREAM)
    ss_step(k, t, "-xa", *expr.split())


@scenario("ss_memory_buffers", needs=NEEDS)
def ss_memory_buffers(k, t):
    """-m: SO_SNDBUF/SO_RCVBUF as the kernel doubled and clamped them."""
    p = _proc(k)
    a, b = p.socketpair(AF_UNIX, STREAM)
    p.setsockopt(a, SOL, socket.SO_SNDBUF, 10000)
    p.setsockopt(b, SOL, socket.SO_RCVBUF, 1)
    c = p.socket(AF_UNIX, DGRAM)
    p.setsockopt(c, SOL, socket.SO_SNDBUF, 1 << 30)
    ss_step(k, t, "-xam")


@scenario("ss_memory_rights", needs=NEEDS)
def ss_memory_rights(k, t):
    """-m: a message carrying fds and one carrying credentials."""
    p = _proc(k)
    a, b = p.socketpair(AF_UNIX, STREAM)
    c, d = p.socketpair(AF_UNIX, DGRAM)
    p.send_fds(a, [b"x"], [c, d])
    p.setsockopt(d, SOL, socket.SO_PASSCRED, 1)
    p.sendmsg(c, [b"cred"], [(SOL, socket.SCM_CREDENTIALS,
                              struct.pack("3i", p.pid, 1000, 1000))])
    ss_step(k, t, "-xam")


@scenario("ss_oob", needs=NEEDS)
def ss_oob(k, t):
    """MSG_OOB on a stream: the byte counts in Recv-Q until read."""
    p = _proc(k)
    a, b = p.socketpair(AF_UNIX, STREAM)
    p.send(a, b"abc")
    p.send(a, b"!", socket.MSG_OOB)
    ss_step(k, t, "-xam")
    p.recv(b, 1, socket.MSG_OOB)
    ss_step(k, t, "-xam")
    p.recv(b, 10)
    ss_step(k, t, "-xam")


@scenario("ss_vfs", needs=NEEDS)
def ss_vfs(k, t):
    """-e: the bound file's inode, kept after unlink and rename, shared by
    accepted sockets; an abstract listener has none."""
    p = _proc(k)
    lfd = _listener(p, STREAM, "/tmp/srv")
    _client(p, STREAM, "/tmp/srv")
    p.accept(lfd)
    _bound(p, DGRAM, "/tmp/gone")
    p.unlink("/tmp/gone")
    _bound(p, DGRAM, "/tmp/old")
    p.rename("/tmp/old", "/tmp/new")
    ss_step(k, t, "-xae")


@scenario("ss_everything", needs=NEEDS)
def ss_everything(k, t):
    """-xaepm over a small server: every field at once, and -x -p -e -m
    given separately."""
    srv = _proc(k, comm="server")
    lfd = _listener(srv, SEQPACKET, "/tmp/srv", 3)
    cli = _proc(k, comm="client")
    c1 = _client(cli, SEQPACKET, "/tmp/srv")
    _client(cli, SEQPACKET, "/tmp/srv")
    s1, _ = srv.accept(lfd)
    cli.send(c1, b"hello")
    srv.send(s1, b"welcome" * 10)
    log = _bound(srv, DGRAM, b"\0log")
    cli.sendto(cli.socket(AF_UNIX, DGRAM), b"line", b"\0log")
    srv.shutdown(log, socket.SHUT_RD)
    ss_step(k, t, "-xaepm")
    ss_step(k, t, "-x", "-a", "-e", "-p", "-m")


@scenario("ss_connect_to_embryo_data", needs=NEEDS)
def ss_connect_to_embryo_data(k, t):
    """Data sent before accept waits on the embryo: the connector's Send-Q
    holds it; after accept the new socket's Recv-Q does."""
    p = _proc(k)
    lfd = _listener(p, STREAM, "/tmp/srv")
    c = _client(p, STREAM, "/tmp/srv")
    p.send(c, b"early" * 20)
    ss_step(k, t, "-xam")
    p.accept(lfd)
    ss_step(k, t, "-xam")


@scenario("ss_many", needs=NEEDS)
def ss_many(k, t):
    """Forty sockets: wide columns (two-digit fds, long queues)."""
    p = _proc(k)
    fds = []
    for i in range(10):
        a, b = p.socketpair(AF_UNIX, STREAM)
        p.send(a, b"d" * (1000 * i))
        fds.append(a)
    for i in range(10):
        _bound(p, DGRAM, "/tmp/sock%02d" % i)
    for i in range(10):
        p.socket(AF_UNIX, SEQPACKET)
    ss_step(k, t, "-xap")
    ss_step(k, t, "-xm")
