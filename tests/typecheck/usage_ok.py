"""The public API used as README.md and docs/API.md use it.

tests/test_typing.py checks this file with ``mypy --strict`` (it must pass)
and also runs it, so that every line here is a real use, not only a
well-typed one.
"""
from __future__ import annotations

import array
import errno
import io
import struct
import threading

import menios
import menios.socket as msocket
from menios import (AF_UNIX, MSG_ZEROCOPY, POLLIN, POLLOUT, SCM_RIGHTS, SOCK_DGRAM,
                    SOCK_STREAM, SOL_SOCKET, SO_PEERCRED, Kernel, Process)
from menios.cred import Cred
from menios.faults import Fault
from menios.pytest_plugin import check_and_close
from menios.ss import SsError


def syscalls(k: Kernel) -> None:
    server: Process = k.spawn(umask=0)
    client = k.spawn(uid=1000, gid=1000, groups=(2000,), comm="client")
    lfd: int = server.socket(AF_UNIX, SOCK_STREAM)
    server.bind(lfd, "/tmp/server")
    server.listen(lfd, 5)
    cfd = client.socket(AF_UNIX, SOCK_STREAM)
    client.connect(cfd, "/tmp/server")
    sent: int = client.send(cfd, b"Hello")
    conn, addr = server.accept(lfd)
    data: bytes = server.recv(conn, 100)
    assert data == b"Hello" and sent == 5 and addr == ""
    cred = server.getsockopt(conn, SOL_SOCKET, SO_PEERCRED, 12)
    assert isinstance(cred, bytes)
    pid, uid, gid = struct.unpack("3i", cred)
    assert (uid, gid) == (1000, 1000) and pid == client.pid
    ready: list[tuple[int, int]] = server.poll([(conn, POLLIN | POLLOUT)], 0)
    assert ready == [(conn, POLLOUT)]
    buf = bytearray(8)
    client.send(cfd, b"abc")
    n: int = server.recv_into(conn, buf)
    assert bytes(buf[:n]) == b"abc"
    print(k.format_unix_sockets())

    # fd passing: the README's supervisor
    mine, theirs = server.socketpair()
    worker = server.fork()
    worker.close(mine)
    server.send_fds(mine, [b"conn"], [conn])
    msg, fds, flags, _ = worker.recv_fds(theirs, 16, 1)
    assert msg == b"conn" and len(fds) == 1 and flags == 0
    fds_bytes = array.array("i", [fds[0]]).tobytes()
    worker.sendmsg(theirs, [b"x"], [(SOL_SOCKET, SCM_RIGHTS, fds_bytes)])
    got, anc, mflags, _ = server.recvmsg(mine, 10, 64)
    assert got == b"x" and anc[0][0] == SOL_SOCKET and mflags == 0
    d1, d2 = server.socket(AF_UNIX, SOCK_DGRAM), server.socket(AF_UNIX, SOCK_DGRAM)
    server.bind(d1, b"\0typed")
    server.sendto(d2, b"dgram", b"\0typed")
    assert server.recvfrom(d1, 10) == (b"dgram", None)
    assert isinstance(server.pending_signals, set) and server.alive
    worker.exit()


def zero_copy(k: Kernel) -> None:
    p = k.spawn()
    a, b = p.socketpair()
    pages = k.alloc_pages(4)
    view = memoryview(pages)
    view[:5] = b"hello"
    view.release()
    p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
    buf = p.recv_pages(b)
    same: bool = buf.address == pages.address
    head: bytes = bytes(memoryview(buf)[:5])
    assert same and head == b"hello" and len(buf) == len(pages) == 4 * 4096
    assert buf.tobytes()[:5] == b"hello"
    buf.release()
    done: bool = pages.wait(1.0)
    assert done and pages.inflight == 0 and pages.gifted
    pages.reclaim()
    pages.free()


def socket_objects(k: Kernel) -> None:
    p = k.spawn(uid=1000, gid=1000)
    with menios.as_process(p):
        assert menios.current_process() is p
        server = msocket.socket(msocket.AF_UNIX, msocket.SOCK_STREAM)
        server.bind("/tmp/echo")
        server.listen()

        def serve() -> None:
            conn, _ = server.accept()
            with conn, conn.makefile("rwb") as f:
                for line in f:
                    f.write(line.upper())
                    f.flush()

        worker = threading.Thread(target=serve)
        worker.start()
        with msocket.socket(msocket.AF_UNIX) as c:
            c.settimeout(5.0)
            c.connect("/tmp/echo")
            c.sendall(b"hello\n")
            with c.makefile("rb") as r:
                line: bytes = r.readline()
                assert line == b"HELLO\n"
            timeout: float | None = c.gettimeout()
            assert timeout == 5.0
            c.settimeout(0.05)
            try:
                c.recv(10)
            except TimeoutError:
                pass
        worker.join(10)
        server.close()

    a, b = msocket.socketpair(process=p)
    assert a.sendfile(io.BytesIO(b"file data")) == 9 and b.recv(100) == b"file data"
    r_fd, w_fd = p.pipe()
    msocket.send_fds(a, [b"fd"], [r_fd])
    data, fds, _, _ = msocket.recv_fds(b, 10, 1)
    assert data == b"fd" and len(fds) == 1
    assert a.process is p and b.fileno() >= 0 and a.family == AF_UNIX
    c2 = msocket.fromfd(a.fileno(), AF_UNIX, SOCK_STREAM, process=p)
    c2.setblocking(False)
    try:
        c2.recv(1)
    except BlockingIOError:
        pass
    for s in (a, b, c2):
        s.close()
    for fd in (r_fd, w_fd, *fds):
        p.close(fd)


def send_message(sock: msocket.socket, data: bytes) -> int:
    view, calls = memoryview(data), 0
    while view:
        calls += 1
        try:
            view = view[sock.send(view):]
        except BlockingIOError:
            pass
    return calls


def faults(k: Kernel) -> None:
    p = k.spawn()
    client, server = msocket.socketpair(process=p)
    client.setblocking(False)
    eagain: Fault = k.faults.inject("send", errno=errno.EAGAIN, nth=1)
    short = k.faults.inject("send", max_bytes=4, count=2, pid=p.pid)
    assert send_message(client, b"hello, world") == 4
    hits: int = eagain.hits + short.hits
    assert hits == 3 and not eagain.active
    assert server.recv(100) == b"hello, world"
    assert k.counters()["bytes_queued"] == 0
    armed: list[Fault] = k.faults.faults()
    assert armed == []
    k.faults.inject("recv", delay_ms=1, probability=0.5, seed=7).remove()
    k.faults.clear()
    client.close()
    server.close()


def watching(k: Kernel) -> None:
    p = k.spawn(comm="watched")
    a, _ = p.socketpair()
    rows = k.diag()
    assert any(a_fd == a for row in rows for _, a_fd in row["holders"])
    table = k.unix_sockets()
    assert table[0]["type"] == "STREAM"
    text: str = k.ss(["-xap"])
    assert "watched" in text
    try:
        k.ss("--no-such-option")
    except SsError as e:
        assert isinstance(e, ValueError)
    assert k.gc() == 0 and k.blocked() == 0 and k.wait_blocked(0, timeout=1.0)


def files_and_creds(k: Kernel) -> None:
    p = k.spawn()
    p.mkdir("/run", 0o755)
    fd = p.open("/run/state", menios.O_CREAT | menios.O_RDWR, 0o600)
    assert p.write(fd, b"ok") == 2 and p.lseek(fd, 0, menios.SEEK_SET) == 0
    assert p.read(fd, 10) == b"ok" and p.fstat(fd).st_size == 2
    p.symlink("state", "/run/link")
    target: str = p.readlink("/run/link")
    names: list[bytes] = p.listdir(b"/run")
    assert target == "state" and sorted(names) == [b"link", b"state"]
    assert p.fcntl(fd, menios.F_GETFD) == 0 and p.stat("/run").st_mode & 0o777 == 0o755
    r, w = p.pipe()
    p.write(w, b"|")
    assert p.ioctl(r, menios.FIONREAD) == 1
    cred: Cred = p.cred
    assert cred.capable("CAP_CHOWN") and p.euid == 0 and p.groups == ()
    p.setresuid(1000, 1000, 1000)
    assert not p.cred.capable() and p.cred.getresuid() == (1000, 1000, 1000)
    old: int = p.set_umask(0o077)
    assert old == 0o022 and p.getcwd() == "/"


def main() -> None:
    with menios.Kernel(sysctl={"net.unix.max_dgram_qlen": 10}) as k:
        syscalls(k)
        zero_copy(k)
        socket_objects(k)
        faults(k)
        watching(k)
        files_and_creds(k)
    assert k.closed
    with menios.Kernel() as k2:
        k2.spawn().socketpair()
        left: dict[str, int] = check_and_close(k2)
        assert left == {}
    print(menios.__version__)


if __name__ == "__main__":
    main()
