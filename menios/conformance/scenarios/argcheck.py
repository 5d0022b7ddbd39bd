"""Which failure wins when a call has more than one thing wrong: bad Python
arguments (the stdlib's TypeError/ValueError, raised before anything is
received).  Named ``args_*``.
"""
import socket

from ..harness import SOCK_TYPES, scenario

AF_UNIX = socket.AF_UNIX
DW = socket.MSG_DONTWAIT
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

