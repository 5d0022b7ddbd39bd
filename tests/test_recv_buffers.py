"""Receive calls given a buffer they cannot write fail as the stdlib's socket
methods do -- same exception type and message -- and receive nothing.  Each
case runs on a real socketpair and on menios (the conformance host backend
has no recvfrom_into and checks buffers in the parent)."""
import socket

import pytest

import menios

ST, DG, SP = socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET


def _readonly():
    return memoryview(bytearray(4)).toreadonly()


CASES = [
    ("recv_into", lambda: (b"xxxx",)),
    ("recv_into", lambda: (_readonly(),)),
    ("recv_into", lambda: ("str",)),
    ("recvfrom_into", lambda: (b"xxxx",)),
    ("recvfrom_into", lambda: (_readonly(),)),
    ("recvmsg_into", lambda: ([b"xxxx"],)),
    ("recvmsg_into", lambda: ([bytearray(2), _readonly()],)),
    ("recvmsg_into", lambda: ([bytearray(2), 5],)),
    ("recvmsg_into", lambda: (5,)),
    ("recvmsg_into", lambda: ([b"xxxx"], -1)),
    ("recvmsg_into", lambda: ([bytearray(4)], -1)),
    ("recvmsg_into", lambda: ([b"x"] * 1025,)),
    ("recvmsg_into", lambda: ([bytearray(1)] * 1025,)),
    ("recvmsg", lambda: (10, -1)),
]


def _outcome(fn, *args):
    try:
        fn(*args)
    except OSError as e:
        return ("err", e.errno)
    except Exception as e:
        return ("exc", type(e).__name__, str(e))
    return ("ok",)


@pytest.mark.parametrize("sotype", [ST, DG, SP], ids=["stream", "dgram", "seqpacket"])
@pytest.mark.parametrize("name,args", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_unwritable_buffer_like_stdlib(sotype, name, args):
    a, b = socket.socketpair(socket.AF_UNIX, sotype)
    with a, b, menios.Kernel() as k:
        a.send(b"abc")
        expected = _outcome(getattr(b, name), *args())
        b.setblocking(False)
        assert b.recv(10) == b"abc"

        p = k.spawn()
        ma, mb = p.socketpair(menios.AF_UNIX, sotype)
        p.send(ma, b"abc")
        got = _outcome(lambda *x: getattr(p, name)(mb, *x), *args())
        assert got == expected
        assert p.recv(mb, 10, menios.MSG_DONTWAIT) == b"abc"
