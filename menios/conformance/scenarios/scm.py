"""Ancillary data: SCM_RIGHTS, SCM_CREDENTIALS, SO_PASSCRED, SO_PEERCRED.

Every step goes through ``t.call``; nothing here blocks (data is always
queued before it is read, connections before they are accepted), so no
threads are needed.  Pipe ends are the witnesses of what happened to passed
files: a reader whose only writer was passed and dropped reads EOF
(``b""``) from a non-blocking read, one whose writer is still alive somewhere
gets ``EAGAIN``.
"""
import array
import fcntl
import os
import socket
import struct

from ..harness import scenario, make_pair, SOCK_TYPES

SOL = socket.SOL_SOCKET
RIGHTS = socket.SCM_RIGHTS
CREDS = socket.SCM_CREDENTIALS
STREAM, DGRAM, SEQPACKET = socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET
CONN_TYPES = (STREAM, SEQPACKET)
BOUND_KINDS = ("filesystem", "abstract")
DONTWAIT = socket.MSG_DONTWAIT
SCM_MAX_FD = 253
BIG = socket.CMSG_SPACE(4 * 16) + socket.CMSG_SPACE(12)


def _rights(*fds):
    return (SOL, RIGHTS, array.array("i", fds).tobytes())


def _ucred(pid, uid, gid):
    return (SOL, CREDS, struct.pack("3i", pid, uid, gid))


def _nonblock(p, fd):
    p.fcntl(fd, fcntl.F_SETFL, p.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def _pipe_nb(t, p):
    """A pipe whose read end is non-blocking: (r, w)."""
    r, w = t.call(p.pipe)
    t.call(_nonblock, p, r)
    return r, w


def _eof(t, p, r):
    """Record whether the pipe read end ``r`` sees EOF (b'') or EAGAIN."""
    t.call(p.read, r, 10)


def _passcred(t, p, fd, on=1):
    t.call(p.setsockopt, fd, SOL, socket.SO_PASSCRED, on)


def _peercred(t, p, fd):
    t.call(p.getsockopt, fd, SOL, socket.SO_PEERCRED, 12)


def _listener(t, p, sotype, kind, name="srv"):
    path = "/tmp/" + name if kind == "filesystem" else b"\0" + name.encode()
    fd = t.call(p.socket, socket.AF_UNIX, sotype)
    t.call(p.bind, fd, path)
    if kind == "filesystem":
        t.call(p.chmod, path, 0o777)
    if sotype != DGRAM:
        t.call(p.listen, fd, 8)
    t.call(_nonblock, p, fd)        # a failed connect must not leave accept blocked
    return fd, path


# ------------------------------------------------------------ SCM_RIGHTS

def _recv_cut_ucred(p, b, ancbufsize):
    """recvmsg(b, 10, ancbufsize) with a truncated ucred shown as what can
    be compared across kernels: its length, whether it starts with the
    caller's pid, and the rest of its bytes."""
    data, anc, flags, addr = p.recvmsg(b, 10, ancbufsize)
    pid = struct.pack("i", p.pid)
    anc = [(lvl, typ, d if len(d) == 12 or typ != CREDS
            else ("partial ucred", len(d), d[:4] == pid[:len(d)], d[4:]))
           for lvl, typ, d in anc]
    return data, anc, flags, addr


@scenario(params={"sotype": SOCK_TYPES, "passed": SOCK_TYPES})
def scm_pass_socket(k, t, sotype, passed):
    """Pass one end of a socketpair of each type; the receiver uses it."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    x, y = t.call(p.socketpair, socket.AF_UNIX, passed)
    t.call(p.sendmsg, a, [b"fd"], [_rights(y)])
    t.call(p.close, y)
    data, anc, flags, _ = t.call(p.recvmsg, b, 10, BIG) or (None, [], 0, None)
    got = [struct.unpack("i", d[:4])[0] for lvl, typ, d in anc if typ == RIGHTS]
    if got:
        g = got[0]
        t.call(p.getsockopt, g, SOL, socket.SO_TYPE)
        t.call(p.send, x, b"hello")
        t.call(p.recv, g, 10, DONTWAIT)
        t.call(p.send, g, b"back")
        t.call(p.recv, x, 10, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES, "ltype": CONN_TYPES, "kind": BOUND_KINDS}, needs={"ids"})
def scm_pass_listener(k, t, sotype, ltype, kind):
    """A listening socket passed to another process accepts there."""
    p = k.spawn(uid=1000, gid=1000)
    lst, path = _listener(t, p, ltype, kind)
    a, b = make_pair(k, p, sotype, "socketpair")
    q = p.fork()
    t.call(p.close, b)
    t.call(q.close, a)
    t.call(q.close, lst)
    t.call(p.send_fds, a, [b"L"], [lst])
    t.call(p.close, lst)
    msg, fds, flags, _ = t.call(q.recv_fds, b, 10, 4) or (None, [], 0, None)
    c = k.spawn(uid=2000, gid=2000)
    cfd = t.call(c.socket, socket.AF_UNIX, ltype)
    t.call(c.connect, cfd, path)
    if fds:
        t.call(q.getsockopt, fds[0], SOL, socket.SO_ACCEPTCONN)
        n = t.call(q.accept, fds[0])
        if n:
            t.call(c.send, cfd, b"hi")
            t.call(q.recv, n[0], 10, DONTWAIT)
            _peercred(t, q, n[0])
            _peercred(t, c, cfd)


@scenario(params={"sotype": SOCK_TYPES, "end": ("read", "write")})
def scm_pass_pipe(k, t, sotype, end):
    """Either end of a pipe passed; it works and is the same pipe."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    passed = r if end == "read" else w
    t.call(p.send_fds, a, [b"p"], [passed])
    t.call(p.close, passed)
    msg, fds, flags, _ = t.call(p.recv_fds, b, 10, 2) or (None, [], 0, None)
    if fds:
        g = fds[0]
        if end == "read":
            t.call(p.write, w, b"through")
            t.call(p.read, g, 20)
            t.call(p.fcntl, g, fcntl.F_GETFL)     # O_NONBLOCK shared
        else:
            t.call(p.write, g, b"through")
            t.call(p.read, r, 20)
            t.call(p.close, g)
            _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES})
def scm_pass_file_shared_offset(k, t, sotype):
    """A regular file passed shares its offset and status flags."""
    p = k.spawn(uid=1000, gid=1000)
    q = k.spawn(uid=1000, gid=1000)
    f = t.call(p.open, "/tmp/data", os.O_RDWR | os.O_CREAT, 0o600)
    t.call(p.write, f, b"0123456789")
    t.call(p.lseek, f, 2, os.SEEK_SET)
    lst, path = _listener(t, q, sotype, "filesystem")
    a = t.call(p.socket, socket.AF_UNIX, sotype)
    if sotype == DGRAM:
        t.call(p.connect, a, path)
        b = lst
    else:
        t.call(p.connect, a, path)
        b = (t.call(q.accept, lst) or (None,))[0]
    t.call(p.send_fds, a, [b"f"], [f])
    msg, fds, flags, _ = t.call(q.recv_fds, b, 10, 2) or (None, [], 0, None)
    if fds:
        g = fds[0]
        t.call(q.read, g, 3)
        t.call(p.read, f, 3)
        t.call(q.lseek, g, 0, os.SEEK_CUR)
        t.call(p.fcntl, f, fcntl.F_SETFL, os.O_APPEND)
        t.step("F_GETFL & (O_APPEND|O_ACCMODE)",
               lambda: q.fcntl(g, fcntl.F_GETFL) & (os.O_APPEND | os.O_ACCMODE))
        t.call(q.lseek, g, 0, os.SEEK_END)
        t.call(q.close, g)
        t.call(p.lseek, f, 0, os.SEEK_CUR)


@scenario(params={"sotype": SOCK_TYPES})
def scm_install_lowest_free(k, t, sotype):
    """Received fds fill the lowest free numbers, in order."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    fds = [t.call(p.pipe) for _ in range(3)]
    flat = [fd for pr in fds for fd in pr]
    t.call(p.sendmsg, a, [b"x"], [_rights(*flat)])
    for fd in (flat[0], flat[3], flat[5], 0):
        t.call(p.close, fd)
    t.call(p.recvmsg, b, 10, BIG)
    t.call(p.fcntl, 0, fcntl.F_GETFD)


@scenario(params={"sotype": SOCK_TYPES, "cloexec": (False, True)})
def scm_cmsg_cloexec(k, t, sotype, cloexec):
    """MSG_CMSG_CLOEXEC sets FD_CLOEXEC on installed fds (only then)."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = t.call(p.pipe)
    t.call(p.sendmsg, a, [b"x"], [_rights(r, w)])
    flags = socket.MSG_CMSG_CLOEXEC if cloexec else 0
    res = t.call(p.recvmsg, b, 10, BIG, flags)
    for fd in (4, 5):
        t.call(p.fcntl, fd, fcntl.F_GETFD)
    t.call(p.fcntl, r, fcntl.F_GETFD)
    if res:
        t.call(p.execve)
        t.call(p.fcntl, 4, fcntl.F_GETFD)


@scenario(params={"sotype": SOCK_TYPES,
                  "ancbufsize": (1, 8, 15, 16, 17, 20, 24, 28, 32, 36)})
def scm_ctrunc(k, t, sotype, ancbufsize):
    """Too small a control buffer installs what fits and drops the rest
    (each dropped pipe write end gives its reader EOF)."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    pipes = [_pipe_nb(t, p) for _ in range(3)]
    ws = [w for _, w in pipes]
    t.call(p.sendmsg, a, [b"data"], [_rights(*ws)])
    for w in ws:
        t.call(p.close, w)
    t.call(p.recvmsg, b, 10, ancbufsize)
    for r, _ in pipes:
        _eof(t, p, r)
    t.call(p.send, a, b"more")
    t.call(p.recvmsg, b, 10, ancbufsize)


@scenario(params={"sotype": SOCK_TYPES, "n": (SCM_MAX_FD, SCM_MAX_FD + 1, "split")})
def scm_max_fd(k, t, sotype, n):
    """More than SCM_MAX_FD fds in one message is EINVAL (also across cmsgs)."""
    p = k.spawn(uid=1000, gid=1000, rlimit_nofile=1024)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    dups = [p.dup(w) for _ in range(SCM_MAX_FD + 1)]
    if n == "split":
        anc = [_rights(*dups[:200]), _rights(*dups[200:254])]
    else:
        anc = [_rights(*dups[:n])]
    t.call(p.sendmsg, a, [b"many"], anc)
    for d in dups:
        p.close(d)
    t.call(p.close, w)
    res = t.call(p.recvmsg, b, 10, socket.CMSG_SPACE(4 * SCM_MAX_FD), DONTWAIT)
    if res:
        t.note("received fds", len(res[1][0][2]) // 4 if res[1] else 0)
        _eof(t, p, r)
        for fd in array.array("i", res[1][0][2]) if res[1] else ():
            p.close(fd)
    _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES, "bad": (-1, 77, "closed")})
def scm_bad_fd(k, t, sotype, bad):
    """A bad fd in SCM_RIGHTS is EBADF and nothing is sent."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    if bad == "closed":
        bad = t.call(p.dup, w)
        t.call(p.close, bad)
    t.call(p.sendmsg, a, [b"x"], [_rights(w, bad)])
    t.call(p.close, w)
    _eof(t, p, r)
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES, "room": (0, 1, 2)})
def scm_receiver_at_rlimit(k, t, sotype, room):
    """A receiver at RLIMIT_NOFILE gets what fits and MSG_CTRUNC."""
    q = k.spawn(uid=1000, gid=1000, rlimit_nofile=8)
    p = k.spawn(uid=1000, gid=1000)
    lst, path = _listener(t, q, sotype, "filesystem")
    a = t.call(p.socket, socket.AF_UNIX, sotype)
    t.call(p.connect, a, path)
    b = lst if sotype == DGRAM else (t.call(q.accept, lst) or (None,))[0]
    pipes = [_pipe_nb(t, p) for _ in range(3)]
    ws = [w for _, w in pipes]
    t.call(p.sendmsg, a, [b"x"], [_rights(*ws)])
    for w in ws:
        t.call(p.close, w)
    while True:
        try:
            fd = q.dup(b)
        except OSError:
            break
        if fd >= 8 - room - 1:
            break
    t.call(q.recvmsg, b, 10, BIG)
    for r, _ in pipes:
        _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES})
def scm_peek_duplicates(k, t, sotype):
    """MSG_PEEK installs the fds; the real read installs them again."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    t.call(p.sendmsg, a, [b"peek"], [_rights(w)])
    t.call(p.close, w)
    t.call(p.recvmsg, b, 10, BIG, socket.MSG_PEEK)
    t.call(p.recvmsg, b, 10, BIG, socket.MSG_PEEK)
    t.call(p.recvmsg, b, 10, BIG)
    for fd in (3, 4):
        t.call(p.write, fd, b"w")
    t.call(p.read, r, 10)
    for fd in (3, 4, 5):
        t.call(p.close, fd)
    _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES, "how": ("recv", "read", "recvmsg0", "recv_into",
                                                 "recvfrom")})
def scm_recv_drops_fds(k, t, sotype, how):
    """A read without control space drops the passed files at once."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    t.call(p.sendmsg, a, [b"drop"], [_rights(w)])
    t.call(p.close, w)
    _eof(t, p, r)
    if how == "recv":
        t.call(p.recv, b, 10)
    elif how == "read":
        t.call(p.read, b, 10)
    elif how == "recvmsg0":
        t.call(p.recvmsg, b, 10)
    elif how == "recvfrom":
        t.call(p.recvfrom, b, 10)
    else:
        buf = bytearray(10)
        t.call(p.recv_into, b, buf)
        t.note("buffer", bytes(buf))
    _eof(t, p, r)
    t.call(p.fcntl, 3, fcntl.F_GETFD)


@scenario(params={"sotype": SOCK_TYPES})
def scm_zero_length_with_fds(k, t, sotype):
    """A zero-length message with fds: datagram kinds carry it, stream sends nothing."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    t.call(p.sendmsg, a, [], [_rights(w)])
    t.call(p.close, w)
    _eof(t, p, r)
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)
    _eof(t, p, r)


@scenario(params={"peek": (False, True)})
def scm_stream_coalescing(k, t, peek):
    """A stream read joins plain data with the next message carrying fds,
    stops after it, and never joins two messages with fds."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, STREAM, "socketpair")
    r, w = t.call(p.pipe)
    t.call(p.send, a, b"ab")
    t.call(p.sendmsg, a, [b"cd"], [_rights(r)])
    t.call(p.sendmsg, a, [b"ef"], [_rights(w)])
    t.call(p.send, a, b"gh")
    t.call(p.send, a, b"ij")
    flags = socket.MSG_PEEK if peek else 0
    for _ in range(5):
        t.call(p.recvmsg, b, 100, BIG, flags | DONTWAIT)
    t.call(p.recvmsg, b, 100, BIG, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES})
def scm_partial_read(k, t, sotype):
    """A message with fds read in pieces: the fds come with the first piece only."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = t.call(p.pipe)
    t.call(p.sendmsg, a, [b"abcdef"], [_rights(w)])
    t.call(p.send, a, b"gh")
    t.call(p.recvmsg, b, 2, BIG, DONTWAIT)
    t.call(p.recvmsg, b, 2, BIG, DONTWAIT)
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES, "how": ("close", "exit", "shutdown")})
def scm_unread_released_on_close(k, t, sotype, how):
    """Unread messages release their files when the receiver closes."""
    p = k.spawn(uid=1000, gid=1000)
    q = p.fork()
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    t.call(p.sendmsg, a, [b"one"], [_rights(w)])
    t.call(p.sendmsg, a, [b"two"], [_rights(w, w)])
    t.call(p.close, w)
    _eof(t, p, r)
    if how == "close":
        t.call(p.close, b)
    elif how == "shutdown":
        t.call(p.shutdown, b, socket.SHUT_RDWR)
    else:
        c = p.fork()
        t.call(p.close, b)
        _eof(t, p, r)
        t.call(c.exit)
    _eof(t, p, r)
    t.call(p.send, a, b"x")


@scenario(params={"sotype": SOCK_TYPES})
def scm_pass_self(k, t, sotype):
    """A socket sent over itself and then closed: its queue goes too."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    t.call(p.sendmsg, a, [b"me"], [_rights(b, w)])
    t.call(p.close, w)
    t.call(p.close, b)
    _eof(t, p, r)
    t.call(p.close, a)
    k.gc()
    _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES})
def scm_malformed_nothing_sent(k, t, sotype):
    """Malformed control data fails with Linux's errno and sends nothing."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    cases = [
        [(SOL, 99, b"1234")],                        # unknown type at SOL_SOCKET
        [_rights(w), (SOL, 99, b"")],                # fds then a bad cmsg
        [(SOL, CREDS, b"12345678")],                  # short ucred
        [(SOL, CREDS, b"x" * 16)],                    # long ucred
        [(SOL, socket.SO_PEERCRED, b"x" * 12)],
    ]
    for anc in cases:
        t.call(p.sendmsg, a, [b"bad"], anc)
    t.call(p.close, w)
    _eof(t, p, r)
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES})
def scm_odd_control_ignored(k, t, sotype):
    """Other levels are skipped; empty or ragged SCM_RIGHTS is what Linux makes of it."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = t.call(p.pipe)
    t.call(p.sendmsg, a, [b"lvl"], [(0, RIGHTS, b"xxxx"), (255, 1, b"")])
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)
    t.call(p.sendmsg, a, [b"empty"], [(SOL, RIGHTS, b"")])
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)
    t.call(p.sendmsg, a, [b"ragged"], [(SOL, RIGHTS, struct.pack("i", w) + b"\0\0")])
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)
    t.call(p.sendmsg, a, [b"two"], [_rights(r), _rights(w)])
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES})
def scm_send_fds_recv_fds(k, t, sotype):
    """The conveniences, with maxfds smaller than what was sent."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    t.call(p.send_fds, a, [b"a", b"b"], [w, r, w])
    t.call(p.close, w)
    t.call(p.recv_fds, b, 10, 1)
    t.call(p.close, 3)
    _eof(t, p, r)
    t.call(p.send_fds, a, [b"c"], [])
    t.call(p.recv_fds, b, 10, 4, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES})
def scm_recvmsg_into(k, t, sotype):
    """recvmsg_into with scatter buffers and fds."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = t.call(p.pipe)
    t.call(p.sendmsg, a, [b"abc", b"defg"], [_rights(r)])
    bufs = [bytearray(2), bytearray(3), bytearray(4)]
    t.call(p.recvmsg_into, b, bufs, BIG)
    t.note("buffers", [bytes(x) for x in bufs])


@scenario(params={"sotype": SOCK_TYPES, "kind": BOUND_KINDS}, needs={"ids"})
def scm_dgram_sendto_fds(k, t, sotype, kind):
    """Fds passed to a named socket (sendmsg with address / connected)."""
    p = k.spawn(uid=1000, gid=1000)
    q = k.spawn(uid=1001, gid=1001)
    lst, path = _listener(t, q, sotype, kind)
    a = t.call(p.socket, socket.AF_UNIX, sotype)
    r, w = _pipe_nb(t, p)
    if sotype == DGRAM:
        t.call(p.sendmsg, a, [b"to"], [_rights(w)], 0, path)
        b = lst
    else:
        t.call(p.connect, a, path)
        t.call(p.sendmsg, a, [b"to"], [_rights(w)])
        b = (t.call(q.accept, lst) or (None,))[0]
    t.call(p.close, w)
    res = t.call(q.recvmsg, b, 10, BIG)
    if res and res[1]:
        t.call(q.write, struct.unpack("i", res[1][0][2][:4])[0], b"from q")
        t.call(p.read, r, 10)


@scenario(params={"sotype": CONN_TYPES})
def scm_embryo_holds_fds(k, t, sotype):
    """Fds sent to a not-yet-accepted connection: accept then read them;
    closing the listener instead releases them."""
    p = k.spawn(uid=1000, gid=1000)
    lst, path = _listener(t, p, sotype, "filesystem")
    r, w = _pipe_nb(t, p)
    c1 = t.call(p.socket, socket.AF_UNIX, sotype)
    t.call(p.connect, c1, path)
    t.call(p.sendmsg, c1, [b"e1"], [_rights(w)])
    c2 = t.call(p.socket, socket.AF_UNIX, sotype)
    t.call(p.connect, c2, path)
    t.call(p.sendmsg, c2, [b"e2"], [_rights(w)])
    t.call(p.close, w)
    n = t.call(p.accept, lst)
    if n:
        t.call(p.recvmsg, n[0], 10, BIG)
    _eof(t, p, r)
    t.call(p.close, lst)
    _eof(t, p, r)
    t.call(p.send, c2, b"x")


@scenario(params={"sotype": CONN_TYPES})
def scm_listener_in_own_embryo(k, t, sotype):
    """A listener sent to its own embryo, then closed: collected."""
    p = k.spawn(uid=1000, gid=1000)
    lst, path = _listener(t, p, sotype, "abstract")
    r, w = _pipe_nb(t, p)
    c = t.call(p.socket, socket.AF_UNIX, sotype)
    t.call(p.connect, c, path)
    t.call(p.sendmsg, c, [b"L"], [_rights(lst, w)])
    t.call(p.close, w)
    t.call(p.close, lst)
    _eof(t, p, r)
    t.call(p.close, c)
    k.gc()
    _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES, "length": (2, 3)})
def scm_cycle(k, t, sotype, length):
    """Sockets sent to each other in a cycle, user fds closed: the collector
    frees their queues when it next runs -- on the release of any socket
    while sockets are in flight (a pipe writer caught in the cycle gives
    its reader EOF)."""
    p = k.spawn(uid=1000, gid=1000)
    pairs = [make_pair(k, p, sotype, "socketpair") for _ in range(length)]
    r, w = _pipe_nb(t, p)
    for i, (a, b) in enumerate(pairs):
        extra = (w,) if i == 0 else ()
        t.call(p.sendmsg, a, [b"%d" % i], [_rights(pairs[(i + 1) % length][1], *extra)])
    t.call(p.close, w)
    for a, b in pairs:
        t.call(p.close, a)
    for a, b in pairs:
        t.call(p.close, b)
    s = t.call(p.socket, socket.AF_UNIX, STREAM)
    t.call(p.close, s)
    k.gc()
    _eof(t, p, r)


# ----------------------------------------------------------- credentials

@scenario(params={"sotype": CONN_TYPES, "kind": BOUND_KINDS}, needs={"ids"})
def peercred_connect_accept(k, t, sotype, kind):
    """Client sees the listener's creds from listen(); the accepted socket
    the client's from connect(), even when another process accepts and
    the ids change later."""
    srv = k.spawn()
    t.call(srv.setresgid, 50, 50, 0)
    t.call(srv.setresuid, 40, 40, 0)
    lst, path = _listener(t, srv, sotype, kind)
    _peercred(t, srv, lst)
    t.call(srv.setresuid, 0, 0, 0)
    t.call(srv.setresuid, 41, 41, 0)
    acc = srv.fork()
    cli = k.spawn(uid=1000, gid=1001)
    c = t.call(cli.socket, socket.AF_UNIX, sotype)
    _peercred(t, cli, c)
    t.call(cli.connect, c, path)
    _peercred(t, cli, c)
    n = t.call(acc.accept, lst)
    if n:
        _peercred(t, acc, n[0])
        t.call(cli.exit)
        _peercred(t, acc, n[0])
    t.call(srv.exit)
    t.call(acc.close, lst)
    _peercred(t, acc, n[0] if n else 99)


@scenario(params={"sotype": SOCK_TYPES})
def peercred_socketpair(k, t, sotype):
    """A socketpair carries its creator's credentials, also after fork/exit."""
    p = k.spawn(uid=1000, gid=1002)
    a, b = t.call(p.socketpair, socket.AF_UNIX, sotype)
    c = p.fork()
    _peercred(t, c, a)
    _peercred(t, p, b)
    t.call(p.exit)
    _peercred(t, c, b)
    pid = p.pid
    t.step("SO_PEERCRED as int is the pid",
           lambda: c.getsockopt(a, SOL, socket.SO_PEERCRED) == pid)
    t.step("SO_PEERCRED 8 bytes: pid, uid",
           lambda: (lambda v: (v[:4] == struct.pack("i", pid), v[4:]))(
               c.getsockopt(a, SOL, socket.SO_PEERCRED, 8)))
    t.call(c.getsockopt, a, SOL, socket.SO_PEERCRED, 20)


@scenario(params={"sotype": SOCK_TYPES, "kind": BOUND_KINDS})
def peercred_unconnected(k, t, sotype, kind):
    """socket()-made sockets: (0, -1, -1), also a connected datagram socket
    and a listener (its own creds)."""
    p = k.spawn(uid=1000, gid=1000)
    fd = t.call(p.socket, socket.AF_UNIX, sotype)
    _peercred(t, p, fd)
    lst, path = _listener(t, p, sotype, kind)
    _peercred(t, p, lst)
    if sotype == DGRAM:
        t.call(p.connect, fd, path)
        _peercred(t, p, fd)
        t.call(p.connect, fd, None)
        _peercred(t, p, fd)


@scenario(params={"sotype": CONN_TYPES})
def passcred_inherited_by_accept(k, t, sotype):
    """The accepted socket inherits SO_PASSCRED from the listener."""
    p = k.spawn(uid=1000, gid=1000)
    for on in (0, 1):
        lst, path = _listener(t, p, sotype, "filesystem", "srv%d" % on)
        _passcred(t, p, lst, on)
        t.call(p.setsockopt, lst, SOL, socket.SO_RCVBUF, 5000)
        c = t.call(p.socket, socket.AF_UNIX, sotype)
        t.call(p.connect, c, path)
        n = t.call(p.accept, lst)
        if n:
            t.call(p.getsockopt, n[0], SOL, socket.SO_PASSCRED)
            t.call(p.getsockopt, c, SOL, socket.SO_PASSCRED)
            t.call(p.send, c, b"x")
            t.call(p.recvmsg, n[0], 10, BIG)


@scenario(params={"sotype": SOCK_TYPES})
def passcred_own_creds(k, t, sotype):
    """SO_PASSCRED on the receiver: each message carries its sender's creds."""
    p = k.spawn(uid=1000, gid=1001)
    a, b = make_pair(k, p, sotype, "socketpair")
    c = p.fork()
    _passcred(t, p, b)
    t.call(p.getsockopt, b, SOL, socket.SO_PASSCRED)
    t.call(p.send, a, b"p")
    t.call(c.send, a, b"c")
    t.call(p.recvmsg, b, 10, BIG)
    t.call(p.recvmsg, b, 10, BIG)
    t.call(p.send, a, b"ctrunc")
    t.call(p.recvmsg, b, 10)


@scenario(params={"sotype": SOCK_TYPES})
def passcred_with_rights_order(k, t, sotype):
    """SCM_CREDENTIALS comes before SCM_RIGHTS."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = t.call(p.pipe)
    _passcred(t, p, b)
    t.call(p.sendmsg, a, [b"both"], [_rights(r, w)])
    t.call(p.recvmsg, b, 10, BIG)


@scenario(params={"sotype": SOCK_TYPES,
                  "ancbufsize": (0, 16, 20, 24, 28, 32, 40, 44, 48, 52)})
def passcred_ctrunc(k, t, sotype, ancbufsize):
    """Credentials (and fds after them) truncated by a small control buffer."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    _passcred(t, p, b)
    t.call(p.sendmsg, a, [b"c"], [_rights(w)])
    t.call(p.close, w)
    t.step("recvmsg(b, 10, %d)" % ancbufsize, lambda: _recv_cut_ucred(p, b, ancbufsize))
    _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES, "passcred": (False, True),
                  "ancbufsize": (17, 23, 29, 31, 33, 49, 55)})
def scm_ctrunc_unaligned(k, t, sotype, passcred, ancbufsize):
    """Control buffers between the aligned sizes (put_cmsg,
    scm_detach_fds): a ucred cut mid-field, a message whose padding the
    buffer cuts short, an fd array cut mid-fd."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    pipes = [_pipe_nb(t, p) for _ in range(2)]
    if passcred:
        _passcred(t, p, b)
    t.call(p.sendmsg, a, [b"data"], [_rights(*[w for _, w in pipes])])
    for _, w in pipes:
        t.call(p.close, w)
    t.step("recvmsg(b, 10, %d)" % ancbufsize, lambda: _recv_cut_ucred(p, b, ancbufsize))
    for r, _ in pipes:
        _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES, "ancbufsize": (0, 16, 20, 24)})
def scm_peek_ctrunc(k, t, sotype, ancbufsize):
    """A peek with too small a control buffer installs what fits and puts
    nothing back: every file stays queued for the read that follows."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    pipes = [_pipe_nb(t, p) for _ in range(2)]
    t.call(p.sendmsg, a, [b"data"], [_rights(*[w for _, w in pipes])])
    for _, w in pipes:
        t.call(p.close, w)
    t.call(p.recvmsg, b, 10, ancbufsize, socket.MSG_PEEK)
    t.call(p.recvmsg, b, 10, BIG)


@scenario(params={"sotype": SOCK_TYPES})
def passsec_no_control(k, t, sotype):
    """SO_PASSSEC: a recvmsg with no control buffer reports MSG_CTRUNC
    (scm_has_secdata), one with a buffer gets no message and no flag (no
    LSM gives a security context)."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    t.call(p.setsockopt, b, SOL, socket.SO_PASSSEC, 1)
    for room in (0, 1, BIG):
        t.call(p.send, a, b"x")
        t.call(p.recvmsg, b, 10, room)
    t.call(p.setsockopt, b, SOL, socket.SO_PASSSEC, 0)
    t.call(p.send, a, b"x")
    t.call(p.recvmsg, b, 10)


@scenario(params={"sotype": SOCK_TYPES, "who": ("root", "user")}, needs={"ids"})
def passcred_explicit(k, t, sotype, who):
    """Explicit SCM_CREDENTIALS: validated (EPERM, ESRCH, EINVAL) as Linux."""
    p = k.spawn() if who == "root" else k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    other = k.spawn(uid=2000, gid=2000)
    _passcred(t, p, b)
    cases = [
        (p.pid, 1000 if who == "user" else 0, 1000 if who == "user" else 0),
        (p.pid, 0, 0),
        (p.pid, 1000, 2000),
        (p.pid, 2000, 1000),
        (other.pid, 1000, 1000),
        (other.pid, 7, 8),
        (0x3ffffff0, 1000, 1000),
        (0, 1000, 1000),
        (-5, 1000, 1000),
        (p.pid, -1, 1000),
        (p.pid, 1000, -1),
        (other.pid, -1, -1),
    ]
    for i, cred in enumerate(cases):
        t.call(p.sendmsg, a, [b"m%d" % i], [_ucred(*cred)])
        t.call(p.recvmsg, b, 10, BIG, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES}, needs={"ids"})
def passcred_explicit_setresuid(k, t, sotype):
    """Explicit uid/gid may be any of the real/effective/saved ids."""
    p = k.spawn()
    a, b = make_pair(k, p, sotype, "socketpair")
    _passcred(t, p, b)
    t.call(p.setresgid, 10, 11, 12)
    t.call(p.setresuid, 20, 21, 22)
    for uid, gid in ((20, 10), (21, 11), (22, 12), (23, 10), (20, 13), (0, 0)):
        t.call(p.sendmsg, a, [b"x"], [_ucred(p.pid, uid, gid)])
        t.call(p.recvmsg, b, 10, BIG, DONTWAIT)
    t.call(p.send, a, b"plain")
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES}, needs={"ids"})   # forges uid 5 gid 6
def passcred_explicit_no_passcred(k, t, sotype):
    """Explicit creds to a receiver without SO_PASSCRED: nothing shown;
    setting SO_PASSCRED later shows them."""
    p = k.spawn()
    a, b = make_pair(k, p, sotype, "socketpair")
    t.call(p.sendmsg, a, [b"one"], [_ucred(p.pid, 5, 6)])
    t.call(p.recvmsg, b, 10, BIG)
    t.call(p.sendmsg, a, [b"two"], [_ucred(p.pid, 5, 6)])
    _passcred(t, p, b)
    t.call(p.recvmsg, b, 10, BIG)


@scenario(params={"sotype": SOCK_TYPES})
def passcred_before_set(k, t, sotype):
    """Messages queued before SO_PASSCRED carry no creds: (0, 65534, 65534)."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = t.call(p.pipe)
    t.call(p.send, a, b"before")
    t.call(p.sendmsg, a, [b"fds"], [_rights(r)])
    _passcred(t, p, b)
    t.call(p.send, a, b"after")
    for _ in range(3):
        t.call(p.recvmsg, b, 100, BIG, DONTWAIT)
    _passcred(t, p, b, 0)
    t.call(p.send, a, b"off")
    t.call(p.recvmsg, b, 100, BIG, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES, "how": ("send", "sendmsg", "sendto")})
def passcred_sender_autobind(k, t, sotype, how):
    """SO_PASSCRED on the sender alone: no creds delivered, but an unbound
    sender is autobound by the send (datagram kinds)."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, socket.AF_UNIX, sotype)
    _passcred(t, p, a)
    t.call(p.getsockname, a)
    if how == "send":
        t.call(p.send, a, b"x")
    elif how == "sendto":
        t.call(p.sendto, a, b"x", "/tmp/none")
        t.call(p.send, a, b"x")
    else:
        t.call(p.sendmsg, a, [b"x"])
    t.call(p.getsockname, a)
    t.call(p.getsockname, b)
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)
    t.call(p.getpeername, b)


@scenario(params={"sotype": SOCK_TYPES, "kind": BOUND_KINDS})
def passcred_sender_autobind_connect(k, t, sotype, kind):
    """SO_PASSCRED on an unbound socket: connect autobinds it; the peer sees
    the name."""
    p = k.spawn(uid=1000, gid=1000)
    lst, path = _listener(t, p, sotype, kind)
    c = t.call(p.socket, socket.AF_UNIX, sotype)
    _passcred(t, p, c)
    t.call(p.connect, c, path)
    t.call(p.getsockname, c)
    if sotype == DGRAM:
        t.call(p.send, c, b"x")
        t.call(p.recvfrom, lst, 10, DONTWAIT)
    else:
        n = t.call(p.accept, lst)
        if n:
            t.call(p.getpeername, n[0])
            t.call(p.send, c, b"x")
            t.call(p.recvmsg, n[0], 10, BIG)


@scenario(params={"sotype": SOCK_TYPES, "passcred": (0, 1)})
def passcred_stream_no_coalesce(k, t, sotype, passcred):
    """With SO_PASSCRED a stream read never joins different writers' data."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    c = p.fork()
    if passcred:
        _passcred(t, p, b)
    t.call(p.send, a, b"p1")
    t.call(p.send, a, b"p2")
    t.call(c.send, a, b"c1")
    t.call(p.send, a, b"p3")
    for _ in range(5):
        t.call(p.recvmsg, b, 100, BIG, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES}, needs={"ids"})   # forges other ids
def passcred_nonroot_forge(k, t, sotype):
    """An unprivileged sender may not claim another user or process."""
    p = k.spawn(uid=1000, gid=1000)
    q = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    _passcred(t, p, b)
    for cred in ((q.pid, 1000, 1000), (p.pid, 0, 1000), (p.pid, 1000, 0),
                 (p.pid, 1000, 1000), (0x3ffffff0, 1000, 1000), (p.pid, -1, 1000)):
        t.call(p.sendmsg, a, [b"f"], [_ucred(*cred)])
        t.call(p.recvmsg, b, 10, BIG, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES}, needs={"ids"})   # forges uid 3 gid 4
def passcred_two_cmsgs(k, t, sotype):
    """Two SCM_CREDENTIALS: the last wins; creds plus rights in one sendmsg."""
    p = k.spawn()
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = t.call(p.pipe)
    _passcred(t, p, b)
    t.call(p.sendmsg, a, [b"x"], [_ucred(p.pid, 1, 2), _rights(r), _ucred(p.pid, 3, 4)])
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)


@scenario(params={"sotype": SOCK_TYPES}, needs={"ids"})
def passcred_after_setresuid(k, t, sotype):
    """SCM_CREDENTIALS report the real uid/gid at send time, SO_PEERCRED the
    effective ids at creation."""
    p = k.spawn()
    t.call(p.setresgid, 7, 8, 0)
    t.call(p.setresuid, 5, 6, 0)
    a, b = make_pair(k, p, sotype, "socketpair")
    _passcred(t, p, b)
    _peercred(t, p, a)
    t.call(p.send, a, b"x")
    t.call(p.recvmsg, b, 10, BIG, DONTWAIT)


# ------------------------------------------------------------- more fd passing

@scenario(params={"sotype": SOCK_TYPES})
def scm_nested_pass(k, t, sotype):
    """A received socket is used to pass fds in turn."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    c, d = t.call(p.socketpair, socket.AF_UNIX, sotype)
    r, w = _pipe_nb(t, p)
    t.call(p.send_fds, a, [b"c"], [c])
    t.call(p.close, c)
    msg, fds, _, _ = t.call(p.recv_fds, b, 10, 2) or (None, [], 0, None)
    if fds:
        t.call(p.send_fds, fds[0], [b"w"], [w])
        t.call(p.close, w)
        t.call(p.close, fds[0])
        t.call(p.recv_fds, d, 10, 2)
        _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES})
def scm_shared_nonblock(k, t, sotype):
    """O_NONBLOCK set on a received socket is seen through the sender's fd."""
    p = k.spawn(uid=1000, gid=1000)
    q = k.spawn(uid=1000, gid=1000)
    lst, path = _listener(t, q, STREAM, "filesystem")
    a = t.call(p.socket, socket.AF_UNIX, STREAM)
    t.call(p.connect, a, path)
    b = (t.call(q.accept, lst) or (None,))[0]
    x, y = t.call(p.socketpair, socket.AF_UNIX, sotype)
    t.call(p.send_fds, a, [b"y"], [y])
    msg, fds, _, _ = t.call(q.recv_fds, b, 10, 2) or (None, [], 0, None)
    if fds:
        t.call(q.fcntl, fds[0], fcntl.F_SETFL, os.O_NONBLOCK)
        t.call(p.fcntl, y, fcntl.F_GETFL)
        t.call(p.recv, y, 10)
        t.call(q.close, fds[0])
        t.call(p.send, x, b"still")
        t.call(p.recv, y, 10)


@scenario(params={"sotype": SOCK_TYPES})
def scm_send_fails_keeps_nothing(k, t, sotype):
    """A send with fds that fails (peer gone / not connected) holds no file."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    t.call(p.close, b)
    t.call(p.sendmsg, a, [b"x"], [_rights(w)], socket.MSG_NOSIGNAL)
    u = t.call(p.socket, socket.AF_UNIX, sotype)
    t.call(p.sendmsg, u, [b"x"], [_rights(w)], socket.MSG_NOSIGNAL)
    t.call(p.close, w)
    _eof(t, p, r)


@scenario(params={"sotype": (DGRAM, SEQPACKET)})
def scm_full_queue_keeps_nothing(k, t, sotype):
    """EAGAIN on a full queue: the fds of the unsent message are not held."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair", nonblock=True)
    r, w = _pipe_nb(t, p)
    t.call(p.setsockopt, a, SOL, socket.SO_SNDBUF, 1)
    t.call(p.setsockopt, b, SOL, socket.SO_RCVBUF, 1)
    errs = []
    for i in range(600):
        try:
            p.sendmsg(a, [b"y" * 1000], [_rights(w)])
        except OSError as e:
            errs.append(e.errno)
            break
    t.note("a send failed", [os.strerror(e) for e in errs])
    t.call(p.close, w)
    t.call(p.close, b)
    _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES})
def scm_pass_own_receiver(k, t, sotype):
    """The receiving socket itself is passed to itself and received."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    t.call(p.send_fds, a, [b"me"], [b])
    msg, fds, _, _ = t.call(p.recv_fds, b, 10, 2) or (None, [], 0, None)
    if fds:
        t.call(p.close, b)
        t.call(p.send, a, b"via dup")
        t.call(p.recv, fds[0], 10, DONTWAIT)


@scenario(params={"waitall": (False, True)})
def scm_stream_waitall_stops_at_fds(k, t, waitall):
    """MSG_WAITALL stops after a message carrying fds."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, STREAM, "socketpair")
    r, w = t.call(p.pipe)
    t.call(p.send, a, b"ab")
    t.call(p.sendmsg, a, [b"cd"], [_rights(r)])
    t.call(p.send, a, b"efgh")
    flags = socket.MSG_WAITALL if waitall else 0
    t.call(p.recvmsg, b, 6, BIG, flags)
    t.call(p.recvmsg, b, 4, BIG, flags)


@scenario(params={"sotype": SOCK_TYPES})
def scm_fork_receiver(k, t, sotype):
    """A child receives fds into its own table; the parent's stays as it was."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    c = p.fork()
    r, w = _pipe_nb(t, p)
    t.call(p.send_fds, a, [b"x"], [w])
    t.call(p.close, w)
    msg, fds, _, _ = t.call(c.recv_fds, b, 10, 1) or (None, [2], 0, None)
    t.call(p.fcntl, fds[0], fcntl.F_GETFD)
    t.call(c.write, fds[0], b"child")
    t.call(p.read, r, 10)
    t.call(c.exit)
    _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES})
def passcred_both_ends(k, t, sotype):
    """SO_PASSCRED on both ends; any non-zero value reads back as 1."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    _passcred(t, p, a, 7)
    _passcred(t, p, b, -1)
    t.call(p.getsockopt, a, SOL, socket.SO_PASSCRED)
    t.call(p.getsockopt, b, SOL, socket.SO_PASSCRED)
    t.call(p.send, a, b"ab")
    t.call(p.send, b, b"ba")
    t.call(p.recvmsg, b, 10, BIG)
    t.call(p.recvmsg, a, 10, BIG)


@scenario(params={"sotype": SOCK_TYPES})
def passcred_peek(k, t, sotype):
    """MSG_PEEK shows the creds too, every time."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = make_pair(k, p, sotype, "socketpair")
    _passcred(t, p, b)
    t.call(p.send, a, b"pk")
    t.call(p.recvmsg, b, 10, BIG, socket.MSG_PEEK)
    t.call(p.recvmsg, b, 1, BIG, socket.MSG_PEEK)
    t.call(p.recvmsg, b, 10, BIG)


@scenario(params={"kind": BOUND_KINDS}, needs={"ids"})
def passcred_dgram_unconnected_senders(k, t, kind):
    """A bound datagram receiver with SO_PASSCRED sees each sender's creds
    and address (an unbound sender with SO_PASSCRED is autobound)."""
    p = k.spawn(uid=1000, gid=1000)
    q = k.spawn(uid=1001, gid=1002)
    srv, path = _listener(t, p, DGRAM, kind)
    _passcred(t, p, srv)
    s1 = t.call(q.socket, socket.AF_UNIX, DGRAM)
    s2 = t.call(q.socket, socket.AF_UNIX, DGRAM)
    _passcred(t, q, s2)
    t.call(q.sendto, s1, b"1", path)
    t.call(q.sendto, s2, b"2", path)
    t.call(q.sendmsg, s2, [b"3"], [], 0, path)
    for _ in range(3):
        t.call(p.recvmsg, srv, 10, BIG, DONTWAIT)
    t.call(q.getsockname, s1)
    t.call(q.getsockname, s2)


@scenario(params={"sotype": CONN_TYPES}, needs={"ids"})
def peercred_listener_relisten(k, t, sotype):
    """listen() again after a credential change refreshes the listener's creds."""
    p = k.spawn()
    lst, path = _listener(t, p, sotype, "abstract")
    t.call(p.setresuid, 0, 33, 0)
    c1 = t.call(p.socket, socket.AF_UNIX, sotype)
    t.call(p.connect, c1, path)
    _peercred(t, p, c1)
    t.call(p.listen, lst, 8)
    _peercred(t, p, lst)
    c2 = t.call(p.socket, socket.AF_UNIX, sotype)
    t.call(p.connect, c2, path)
    _peercred(t, p, c2)
    n = t.call(p.accept, lst)
    if n:
        _peercred(t, p, n[0])


@scenario(params={"sotype": SOCK_TYPES}, needs={"ids"})
def scm_etoomanyrefs(k, t, sotype):
    """too_many_unix_fds: a user whose files in flight already exceed the
    sender's RLIMIT_NOFILE sends no more fds (counted per user, all senders);
    receiving brings the count down; root is exempt.  The uid is unique to
    the instance: the host counts per user across the whole machine."""
    uid = 4200 + sotype
    p = k.spawn(uid=uid, gid=uid, rlimit_nofile=16)
    # Spawned up front: the host backend hands a new process its channels
    # with SCM_RIGHTS, as the new user, which ETOOMANYREFS would refuse.
    q = k.spawn(uid=uid, gid=uid, rlimit_nofile=32)
    q8 = k.spawn(uid=uid, gid=uid + 1, rlimit_nofile=8)
    other = k.spawn(uid=uid + 100, gid=uid, rlimit_nofile=16)
    root = k.spawn(rlimit_nofile=4)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    t.call(p.sendmsg, a, [b"10"], [_rights(*[w] * 10)])
    t.call(p.sendmsg, a, [b"6"], [_rights(*[w] * 6)])      # 10 <= 16: allowed
    t.call(p.sendmsg, a, [b"1"], [_rights(w)])             # 16 <= 16: allowed
    t.call(p.sendmsg, a, [b"1"], [_rights(w)])             # 17 > 16
    t.call(p.sendmsg, a, [b"creds"], [_ucred(p.pid, uid, uid)])
    qa, qb = t.call(q.socketpair, socket.AF_UNIX, sotype)
    t.call(q.send_fds, qa, [b"q"], [qa])                   # 17 <= 32
    t.call(q.recv_fds, qb, 10, 1)
    xa, xb = t.call(q8.socketpair, socket.AF_UNIX, sotype)
    t.call(q8.send_fds, xa, [b"q8"], [xa])                 # 17 > 8: same user
    t.call(q8.send, xa, b"plain")
    oa, ob = t.call(other.socketpair, socket.AF_UNIX, sotype)
    t.call(other.send_fds, oa, [b"o"], [oa])               # another user: 0
    t.call(other.recv_fds, ob, 10, 1)
    t.call(p.recvmsg, b, 10, socket.CMSG_SPACE(40))        # 17 - 10 = 7
    for fd in range(4, 14):
        p.close(fd)
    t.call(p.sendmsg, a, [b"1"], [_rights(w)])
    ra, rb = t.call(root.socketpair, socket.AF_UNIX, sotype)
    for _ in range(3):
        t.call(root.send_fds, ra, [b"r"], [ra, rb])
    for _ in range(4):
        t.call(p.recvmsg, b, 10, 0, DONTWAIT)
    t.call(p.close, w)
    _eof(t, p, r)


@scenario(params={"sotype": SOCK_TYPES})
def scm_etoomanyrefs_order(k, t, sotype):
    """ETOOMANYREFS comes where Linux attaches the files to the first skb
    (unix_attach_fds): after ENOTCONN, EPIPE and EMSGSIZE, before a
    datagram's name lookup, and never for a stream send with no data (no
    skb, so nothing to attach)."""
    uid = 4300 + sotype
    p = k.spawn(uid=uid, gid=uid, rlimit_nofile=5)
    a, b = make_pair(k, p, sotype, "socketpair")
    r, w = _pipe_nb(t, p)
    t.call(p.sendmsg, a, [b"6"], [_rights(*[w] * 6)])      # 0 <= 5: allowed, now 6 > 5
    u = t.call(p.socket, socket.AF_UNIX, sotype | socket.SOCK_NONBLOCK)
    t.call(p.sendmsg, u, [b"x"], [_rights(w)])             # not connected
    t.call(p.sendmsg, u, [b"x"], [_rights(w)], 0, "/tmp/nothere")
    t.call(p.sendmsg, u, [b"x" * 300000], [_rights(w)], 0, "/tmp/nothere")
    t.call(p.sendmsg, a, [b""], [_rights(w)])
    t.call(p.sendmsg, a, [b"x" * 300000], [_rights(w)], DONTWAIT)
    t.call(p.sendmsg, a, [b"x"], [_rights(w)])
    t.call(p.sendmsg, a, [b"x"], [_rights(w), (socket.SOL_SOCKET, 99, b"")])
    t.call(p.sendmsg, a, [b"x"], [_rights(99)])
    t.call(p.sendmsg, a, [b"o"], [_rights(w)], socket.MSG_OOB)    # the OOB byte carries them
    t.call(p.sendmsg, a, [b"oo"], [_rights(w)], socket.MSG_OOB)   # the data skb does
    t.call(p.shutdown, a, socket.SHUT_WR)
    t.call(p.sendmsg, a, [b"x"], [_rights(w)], socket.MSG_NOSIGNAL)
    t.call(p.recvmsg, b, 10, socket.CMSG_SPACE(40))
    t.call(p.recvmsg, b, 10, socket.CMSG_SPACE(40), DONTWAIT)
    t.call(p.close, w)
    _eof(t, p, r)
