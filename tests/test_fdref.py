"""A call holds the file it looked up (Linux's fdget/fget on a shared fd
table): another thread's close() of the fd during the call frees the
number, but the call finishes on the file, which is released when the
call's reference drops.  For SCM_RIGHTS the attach holds its own reference
(scm_fp_copy's fget_raw), so a close racing sendmsg gives EBADF (the close
came first) or a live file at the receiver, never a released one: the host
kernel gives exactly these two outcomes.

The deterministic tests close the fd from another thread at a point
between the lookup and the socket call, through a hook on a method the call
makes there."""
import array
import errno
import struct
import threading

import pytest

import menios
from menios import socketcalls
from menios import (AF_UNIX, MSG_DONTWAIT, SCM_CREDENTIALS, SCM_RIGHTS, SO_PASSCRED,
                    SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET)

JOIN_TIMEOUT = 10                # seconds


def _close_in_thread(p, fd):
    """close(fd) from another thread, as a racing close would come."""
    errs = []

    def run():
        try:
            p.close(fd)
        except OSError as e:
            errs.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(JOIN_TIMEOUT)
    assert not t.is_alive(), "close did not return"
    assert not errs, errs


def _assert_live_pair(p, fd, peer):
    """fd's socket is alive and connected to peer: data goes both ways."""
    assert p.send(fd, b"ping") == 4
    assert p.recv(peer, 10, MSG_DONTWAIT) == b"ping"
    assert p.send(peer, b"pong") == 4
    assert p.recv(fd, 10, MSG_DONTWAIT) == b"pong"


class _ClosingProcesses(dict):
    """A process table whose pid lookup first closes an fd from another
    thread: the core looks a pid up (SCM_CREDENTIALS' ESRCH check) after
    it took its references to the SCM_RIGHTS files before it."""

    def __init__(self, table, proc, fd):
        super().__init__(table)
        self.proc, self.fd = proc, fd

    def __contains__(self, pid):
        if self.fd is not None:
            fd, self.fd = self.fd, None
            _close_in_thread(self.proc, fd)
        return super().__contains__(pid)


def test_fd_closed_while_attached_arrives_alive(monkeypatch):
    """The close comes after scm_send took x's reference and before the
    message is queued: the receiver gets x's socket, alive."""
    with menios.Kernel() as k:
        p = k.spawn()
        other = k.spawn()
        s, r = p.socketpair(AF_UNIX, SOCK_DGRAM)
        x, y = p.socketpair(AF_UNIX, SOCK_STREAM)
        monkeypatch.setattr(k, "processes", _ClosingProcesses(k.processes, p, x))
        creds = struct.pack("3i", other.pid, 0, 0)     # root may claim another pid
        anc = [(SOL_SOCKET, SCM_RIGHTS, array.array("i", [x])),
               (SOL_SOCKET, SCM_CREDENTIALS, creds)]
        assert p.sendmsg(s, [b"m"], anc) == 1
        monkeypatch.undo()
        with pytest.raises(OSError) as e:
            p.fcntl(x, menios.F_GETFD)
        assert e.value.errno == errno.EBADF
        msg, fds, _, _ = p.recv_fds(r, 10, 1, MSG_DONTWAIT)
        assert msg == b"m" and len(fds) == 1
        _assert_live_pair(p, fds[0], y)
        p.close(fds[0])                 # the last reference: released now
        assert p.recv(y, 10, MSG_DONTWAIT) == b""


def test_send_fds_refs_dropped_on_success_and_error():
    """The attach's own references are dropped after the send, whether it
    succeeded (the message keeps one) or failed."""
    with menios.Kernel() as k:
        p = k.spawn()
        s, r = p.socketpair(AF_UNIX, SOCK_DGRAM)
        x, _ = p.socketpair(AF_UNIX, SOCK_STREAM)
        sock = p._sock(x)
        with pytest.raises(OSError) as e:
            p.send_fds(s, [b"m"], [x, 999])
        assert e.value.errno == errno.EBADF
        assert sock.f_count == 1
        p.close(r)
        with pytest.raises(OSError) as e:
            p.send_fds(s, [b"m"], [x])
        assert e.value.errno == errno.ECONNREFUSED
        assert sock.f_count == 1
        s2, r2 = p.socketpair(AF_UNIX, SOCK_DGRAM)
        p.send_fds(s2, [b"m"], [x, x])
        assert sock.f_count == 3        # the fd and the message's two


def test_sender_closed_during_sendmsg_still_sends(monkeypatch):
    """The sending socket's fd is closed after sendmsg looked it up: the
    data is sent, then the socket is released (the peer sees EOF)."""
    with menios.Kernel() as k:
        p = k.spawn()
        a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
        dest = socketcalls.dest

        def hook(address):
            _close_in_thread(p, a)
            return dest(address)

        monkeypatch.setattr(socketcalls, "dest", hook)
        assert p.sendmsg(a, [b"data"]) == 4
        monkeypatch.undo()
        assert p.recv(b, 10, MSG_DONTWAIT) == b"data"
        assert p.recv(b, 10, MSG_DONTWAIT) == b""


def test_sender_closed_during_path_lookup_still_sends(monkeypatch):
    """sendto() a path: the core asks the VFS for the name (Python code,
    run with no socket lock held) after the copy; a close of the sender's
    fd meanwhile does not stop the send."""
    with menios.Kernel() as k:
        p = k.spawn()
        a = p.socket(AF_UNIX, SOCK_DGRAM)
        b = p.socket(AF_UNIX, SOCK_DGRAM)
        p.bind(b, "/tmp/rcv")
        p.setsockopt(a, SOL_SOCKET, SO_PASSCRED, 1)
        lookup = k.vfs.open_socket_inode

        def hook(*args):
            _close_in_thread(p, a)
            return lookup(*args)

        monkeypatch.setattr(k.vfs, "open_socket_inode", hook)
        assert p.sendto(a, b"dgram", "/tmp/rcv") == 5
        monkeypatch.undo()
        data, addr = p.recvfrom(b, 10, MSG_DONTWAIT)
        assert data == b"dgram" and addr.startswith(b"\0")   # autobound


class _VfsBug(Exception):
    pass


def test_vfs_exception_propagates_and_sends_nothing(monkeypatch):
    """An exception other than OSError raised by the VFS during the core's
    lookup is not swallowed: the call raises it, nothing is sent, and the
    files the message carried go back (no reference leaks)."""
    with menios.Kernel() as k:
        p = k.spawn()
        a = p.socket(AF_UNIX, SOCK_DGRAM)
        b = p.socket(AF_UNIX, SOCK_DGRAM)
        p.bind(b, "/tmp/rcv")
        x, _ = p.socketpair(AF_UNIX, SOCK_STREAM)
        sock = p._sock(x)

        def boom(*args):
            raise _VfsBug("lookup")

        monkeypatch.setattr(k.vfs, "open_socket_inode", boom)
        with pytest.raises(_VfsBug):
            p.sendto(a, b"dgram", "/tmp/rcv")
        with pytest.raises(_VfsBug):
            p.send_fds(a, [b"m"], [x], 0, "/tmp/rcv")
        with pytest.raises(_VfsBug):
            p.connect(a, "/tmp/rcv")
        monkeypatch.setattr(k.vfs, "mknod_socket", boom)
        with pytest.raises(_VfsBug):
            p.bind(a, "/tmp/other")
        monkeypatch.undo()
        assert sock.f_count == 1
        assert p.getsockname(a) == ""          # still unnamed
        with pytest.raises(BlockingIOError):
            p.recv(b, 10, MSG_DONTWAIT)
        assert p.sendto(a, b"ok", "/tmp/rcv") == 2
        assert p.recv(b, 10, MSG_DONTWAIT) == b"ok"
        assert k.counters()["files_inflight"] == 0


def test_close_racing_send_fds_threads():
    """A thread closes x while another sends it: as on the host kernel,
    each send fails EBADF or delivers a live socket."""
    with menios.Kernel() as k:
        p = k.spawn()
        s, r = p.socketpair(AF_UNIX, SOCK_DGRAM)
        outcomes = set()
        for _ in range(500):
            x, y = p.socketpair(AF_UNIX, SOCK_STREAM)
            go = threading.Event()
            t = threading.Thread(target=lambda: (go.wait(JOIN_TIMEOUT), p.close(x)), daemon=True)
            t.start()
            go.set()
            try:
                p.send_fds(s, [b"m"], [x])
            except OSError as e:
                assert e.errno == errno.EBADF
                outcomes.add("EBADF")
            else:
                _, fds, _, _ = p.recv_fds(r, 10, 1, MSG_DONTWAIT)
                _assert_live_pair(p, fds[0], y)
                p.close(fds[0])
                outcomes.add("live")
            t.join(JOIN_TIMEOUT)
            assert not t.is_alive()
            p.close(y)
        assert outcomes <= {"EBADF", "live"}


def test_blocked_recvmsg_survives_close():
    """A recvmsg asleep on b when another thread closes b keeps waiting and
    gets what is sent next; b is released when it returns (the peer sees
    EOF), as on the host kernel."""
    with menios.Kernel() as k:
        p = k.spawn()
        a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
        got = []
        t = threading.Thread(target=lambda: got.append(p.recvmsg(b, 10)[0]), daemon=True)
        t.start()
        assert k.wait_blocked(1, timeout=JOIN_TIMEOUT)
        p.close(b)
        assert t.is_alive()
        p.send(a, b"late")
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive()
        assert got == [b"late"]
        assert p.recv(a, 10, MSG_DONTWAIT) == b""
