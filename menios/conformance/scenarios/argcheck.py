"""Which failure wins when a call has more than one thing wrong: bad Python
arguments (the stdlib's TypeError/ValueError, raised before anything is
received), accept4's errno order -- the fd (EBADF), the flags (EINVAL),
a free fd (EMFILE), a socket (ENOTSOCK), then the socket's own checks, as
__sys_accept4 makes them -- and socket's and socketpair's: the flags
(EINVAL) first, then socket creates the socket before taking an fd, where
socketpair takes both fds (EMFILE) before creating anything.  Named
``args_*``.
"""
import socket

from ..harness import SOCK_TYPES, scenario

AF_UNIX = socket.AF_UNIX
STREAM, DGRAM = socket.SOCK_STREAM, socket.SOCK_DGRAM
NB, DW = socket.SOCK_NONBLOCK, socket.MSG_DONTWAIT
FIONREAD = 0x541B


@scenario("args_recv_into_readonly", params={"sotype": SOCK_TYPES})
def args_recv_into_readonly(k, t, sotype):
    """A read-only or non-buffer target is the stdlib's TypeError, checked
    before the ancillary buffer size (ValueError); nothing is received, so
    the message is still there for a writable buffer."""
    p = k.spawn(uid=1000, gid=1000)
    a, b = t.call(p.socketpair, AF_UNIX, sotype) or (None, None)
    t.call(p.send, a, b"abc")
    rw = bytearray(4)
    for bufs in ([b"xxxx"], [memoryview(b"xxxx")], [rw, b"xxxx"],
                 [memoryview(bytearray(4)).toreadonly()], [rw, 5], 5):
        t.call(p.recvmsg_into, b, bufs)
        t.call(p.recvmsg_into, b, bufs, -1)
    t.call(p.recv_into, b, b"xxxx")
    t.call(p.recv_into, b, memoryview(bytearray(4)).toreadonly())
    t.call(p.recvmsg_into, b, [rw], -1)
    t.call(p.ioctl, b, FIONREAD)
    t.call(p.recvmsg_into, b, [rw], 0, DW)
    t.note("received", bytes(rw))


LIMIT = 8
ACCEPT_TARGETS = ("badfd", "pipe", "dgram", "unlistened", "listen_empty", "listen_pending")


@scenario("args_accept_errno_order",
          params={"target": ACCEPT_TARGETS, "badflags": (False, True), "full": (False, True)})
def args_accept_errno_order(k, t, target, badflags, full):
    """accept4 on each kind of fd, with and without invalid flags, with and
    without a free fd: EBADF, then EINVAL for the flags, then EMFILE, then
    ENOTSOCK, then the socket's EOPNOTSUPP / EINVAL / EAGAIN.  A pending
    connection survives a failed accept and is taken once an fd is free."""
    p = k.spawn(uid=1000, gid=1000, rlimit_nofile=LIMIT)
    if target == "pipe":
        fd = (t.call(p.pipe) or (None, None))[0]
    elif target == "dgram":
        fd = t.call(p.socket, AF_UNIX, DGRAM | NB)
    elif target == "unlistened":
        fd = t.call(p.socket, AF_UNIX, STREAM | NB)
    elif target.startswith("listen"):
        fd = t.call(p.socket, AF_UNIX, STREAM | NB)
        t.call(p.bind, fd, "/tmp/srv")
        t.call(p.listen, fd, 4)
        if target == "listen_pending":
            c = t.call(p.socket, AF_UNIX, STREAM)
            t.call(p.connect, c, "/tmp/srv")
            t.call(p.send, c, b"queued")
    else:
        fd = t.call(p.socket, AF_UNIX, DGRAM)
        t.call(p.close, fd)              # a closed fd below the limit
    fillers = []
    if full:
        for _ in range(LIMIT):
            fillers.append(t.call(p.socket, AF_UNIX, DGRAM))
        if target == "badfd":
            fd = LIMIT + 1               # every fd below the limit is open
    flags = NB | (0x1 if badflags else 0)
    t.call(p.accept, fd, flags)
    if full:
        t.call(p.close, [f for f in fillers if f is not None][-1])
    n = (t.call(p.accept, fd, NB) or (None,))[0]
    if n is not None:
        t.call(p.recv, n, 100, DW)


#: (family, type, protocol) with one thing or two wrong.
SOCKET_ARGS = {
    "none": (AF_UNIX, STREAM, 0),
    "flags": (AF_UNIX, STREAM | 0x1000, 0),
    "family": (9999, STREAM, 0),
    "flags_family": (9999, STREAM | 0x1000, 0),
    "type": (AF_UNIX, 12, 0),
    "type_inet": (socket.AF_INET, 12, 0),
    "sotype": (AF_UNIX, 4, 0),
    "proto": (AF_UNIX, STREAM, 5),
}


@scenario("args_socket_errno_order",
          params={"bad": tuple(SOCKET_ARGS), "free": (0, 1, 2)})
def args_socket_errno_order(k, t, bad, free):
    """socketpair then socket with each kind of bad argument and 0, 1 or 2
    free fds: socketpair fails EINVAL for the flags, then EMFILE unless two
    fds are free, then with the family's or type's errno; socket fails with
    the argument's errno before EMFILE."""
    p = k.spawn(uid=1000, gid=1000, rlimit_nofile=LIMIT)
    fillers = []
    for _ in range(LIMIT):
        fillers.append(t.call(p.socket, AF_UNIX, DGRAM))
    opened = [f for f in fillers if f is not None]
    for fd in opened[len(opened) - free:]:
        t.call(p.close, fd)
    args = SOCKET_ARGS[bad]
    for fd in t.call(p.socketpair, *args) or ():
        t.call(p.close, fd)
    fd = t.call(p.socket, *args)
    if fd is not None:
        t.call(p.close, fd)
