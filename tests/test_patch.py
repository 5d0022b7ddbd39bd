"""The standard library's own Unix-socket servers and clients, unmodified,
run twice: on the host's sockets and inside ``menios.patch()``.

Every test takes the ``world`` fixture and runs the same code both ways; the
glue the stdlib itself needs for a Unix socket (an HTTPConnection that
connects to a path, a handler's ``address_string``) is part of that code.
Every blocking step has a timeout, or runs in a thread joined with one.
"""
import asyncio
import contextlib
import gc
import http.client
import http.server
import os
import shutil
import socket
import socketserver
import stat
import tempfile
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener

import pytest

import menios
from menios import readiness
from menios.conformance import harness

JOIN = 20.0


@pytest.fixture(params=["host", "menios"])
def world(request):
    """A short temporary directory to bind in, on the host's sockets or
    inside a patch (whose kernel must end with nothing leaked)."""
    d = tempfile.mkdtemp(prefix="mp")
    try:
        if request.param == "host":
            yield d
        else:
            k = menios.Kernel()
            try:
                with menios.patch(k):
                    yield d
                assert k.counters()["bytes_copied"] > 0     # the data went through menios
                assert not harness.leaks(k), harness.leaks(k)
                assert not readiness._by_host
            finally:
                k.close()
        if request.param == "menios":
            assert not os.listdir(d)        # the sockets were never the host's
    finally:
        shutil.rmtree(d)


def _thread(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


def _join(t):
    t.join(JOIN)
    assert not t.is_alive(), "thread still running after %ss" % JOIN


@contextlib.contextmanager
def serving(server):
    t = _thread(server.serve_forever, 0.05)
    try:
        yield server
    finally:
        server.shutdown()
        _join(t)
        server.server_close()


# ------------------------------------------------------------- socketserver
class Upper(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line.upper())


def test_threading_unix_stream_server(world):
    path = os.path.join(world, "stream.sock")
    with serving(socketserver.ThreadingUnixStreamServer(path, Upper)):
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        clients = []
        for i in range(5):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(JOIN)
            c.connect(path)
            clients.append(c)
        for i, c in enumerate(clients):
            c.sendall(b"hello %d\n" % i)
        for i, c in enumerate(clients):
            f = c.makefile("rb")
            assert f.readline() == b"HELLO %d\n" % i
            f.close()
            c.close()
    os.unlink(path)
    assert not os.path.exists(path)


class DgramUpper(socketserver.DatagramRequestHandler):
    def handle(self):
        self.wfile.write(self.rfile.read().upper())


def test_unix_datagram_server(world):
    path = os.path.join(world, "dgram.sock")
    me = os.path.join(world, "client.sock")
    with serving(socketserver.UnixDatagramServer(path, DgramUpper)):
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as c:
            c.settimeout(JOIN)
            c.bind(me)
            for i in range(10):
                c.sendto(b"datagram %d" % i, path)
                data, addr = c.recvfrom(100)
                assert (data, addr) == (b"DATAGRAM %d" % i, path)
    for p in (path, me):
        os.remove(p)


# ------------------------------------------------------------------ asyncio
def test_asyncio_unix_server_20_clients(world):
    path = os.path.join(world, "aio.sock")

    async def handle(reader, writer):
        while line := await reader.readline():
            writer.write(line.upper())
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def client(i):
        reader, writer = await asyncio.open_unix_connection(path)
        got = []
        for j in range(20):
            writer.write(b"client %d line %d\n" % (i, j))
            await writer.drain()
            got.append(await reader.readline())
        writer.write_eof()
        assert await reader.read() == b""
        writer.close()
        await writer.wait_closed()
        return got

    async def main():
        server = await asyncio.start_unix_server(handle, path)
        async with server:
            results = await asyncio.wait_for(
                asyncio.gather(*(client(i) for i in range(20))), JOIN)
        return results

    results = asyncio.run(main())
    assert results == [[b"CLIENT %d LINE %d\n" % (i, j) for j in range(20)] for i in range(20)]
    os.unlink(path)


# ---------------------------------------------------- multiprocessing.connection
def test_multiprocessing_connection_authkey(world):
    path = os.path.join(world, "mp.sock")
    key = b"secret key"
    seen = []
    with Listener(path, "AF_UNIX", authkey=key) as listener:

        def serve():
            with listener.accept() as conn:
                while True:
                    if not conn.poll(JOIN):
                        return
                    msg = conn.recv()
                    if msg is None:
                        return
                    seen.append(msg)
                    conn.send({"echo": msg, "n": len(seen)})
        t = _thread(serve)
        with Client(path, "AF_UNIX", authkey=key) as c:
            for msg in ("one", [2, 2], {"three": 3}, b"x" * 100000):
                c.send(msg)
                assert c.poll(JOIN)
                assert c.recv()["echo"] == msg
            c.send(None)
        _join(t)
        # a wrong key is refused, on both sides
        refused = []

        def refuse():
            try:
                listener.accept().close()
            except AuthenticationError as e:
                refused.append(str(e))      # not e: its traceback holds the Connection
        t = _thread(refuse)
        with pytest.raises(AuthenticationError) as e:
            Client(path, "AF_UNIX", authkey=b"wrong key")
        del e                               # its traceback holds the refused Connection:
        gc.collect()                        # closed now, while its fd is still valid
        _join(t)
        assert len(refused) == 1
    assert len(seen) == 4
    assert not os.path.exists(path)         # the listener unlinked it


# -------------------------------------------------------------------- http
class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket: the stdlib needs a connect()."""

    def __init__(self, path, timeout=JOIN):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Hello(http.server.BaseHTTPRequestHandler):
    def address_string(self):
        return "unix"           # a Unix peer's address is '', not (host, port)

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = ("you asked for %s" % self.path).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[::-1])


def test_http_over_unix_socket(world):
    path = os.path.join(world, "http.sock")
    with serving(socketserver.ThreadingUnixStreamServer(path, Hello)):
        for i in range(3):
            conn = UnixHTTPConnection(path)
            conn.request("GET", "/thing/%d" % i)
            r = conn.getresponse()
            assert (r.status, r.read()) == (200, b"you asked for /thing/%d" % i)
            conn.close()
        conn = UnixHTTPConnection(path)
        conn.request("POST", "/", body=b"abc" * 1000)
        r = conn.getresponse()
        assert (r.status, r.read()) == (201, b"cba" * 1000)
        conn.close()
    os.unlink(path)


# ---------------------------------------------------------- fd passing
def test_send_fds_of_a_host_pipe(world):
    r, w = os.pipe()
    a, b = socket.socketpair()
    try:
        a.settimeout(JOIN)
        b.settimeout(JOIN)
        assert socket.send_fds(a, [b"take this"], [r]) == 9
        os.close(r)                         # the message holds its own reference
        data, fds, flags, addr = socket.recv_fds(b, 100, 4)
        assert (data, len(fds), flags) == (b"take this", 1, 0)
        assert fds[0] != w and os.fstat(fds[0]).st_ino == os.fstat(w).st_ino
        os.write(w, b"through the pipe")
        assert os.read(fds[0], 100) == b"through the pipe"
        os.close(w)
        assert os.read(fds[0], 100) == b""  # every writer is gone: EOF
        os.close(fds[0])
    finally:
        a.close()
        b.close()


def test_send_fds_of_a_socket_gives_the_socket_back(world):
    a, b = socket.socketpair()
    x, y = socket.socketpair()
    with a, b, x, y:
        b.settimeout(JOIN)
        socket.send_fds(a, [b"s"], [x.fileno()])
        _, fds, _, _ = socket.recv_fds(b, 10, 1)
        with socket.socket(fileno=fds[0]) as x2:
            x2.sendall(b"via the passed socket")
            y.settimeout(JOIN)
            assert y.recv(100) == b"via the passed socket"


# --------------------------------------------------- what the patch itself does
def test_patch_routes_paths_families_and_threads(tmp_path):
    d = tempfile.mkdtemp(prefix="mq")
    try:
        os.chmod(d, 0o750)
        host_file = os.path.join(d, "plain.txt")
        with open(host_file, "w") as f:
            f.write("host")
        path = os.path.join(d, "s.sock")
        with menios.patch() as k:
            p = menios.current_process()
            assert p is not None and p.kernel is k and (p.uid, p.gid) == (os.geteuid(), os.getegid())
            s = socket.socket(socket.AF_UNIX)
            assert isinstance(s, menios.socket.socket) and isinstance(s, socket.socket)
            s.bind(path)
            # the directory chain came from the host, mode and owner
            st_host, st_m = os.lstat(d), p.lstat(d)
            assert (stat.S_IMODE(st_m.st_mode), st_m.st_uid, st_m.st_gid) == (
                0o750, st_host.st_uid, st_host.st_gid)
            assert not os.path.exists(os.path.join(d, "nothing"))
            assert stat.S_ISSOCK(os.stat(path).st_mode) and not stat.S_ISSOCK(os.stat(d).st_mode)
            assert os.stat(host_file).st_size == 4          # the host's file
            os.chmod(path, 0o600)
            assert stat.S_IMODE(p.stat(path).st_mode) == 0o600
            os.chown(path, os.geteuid(), os.getegid())
            os.rename(path, path + ".2")
            assert not os.path.exists(path) and os.path.exists(path + ".2")
            assert sorted(os.listdir(d)) == ["plain.txt"]     # nothing on the host
            os.remove(path + ".2")
            with pytest.raises(FileNotFoundError):
                os.unlink(path)                             # neither menios's nor the host's
            # other families are the host's
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                assert type(t).__module__ == "socket"
            # threads run as the patch's process unless as_process says otherwise
            q = k.spawn(uid=1234, gid=1234)
            seen = []

            def who():
                seen.append(menios.current_process())
                with menios.as_process(q):
                    seen.append(menios.current_process())
            t = threading.Thread(target=who)
            t.start()
            _join(t)
            assert seen == [p, q]
            q.exit()
            with pytest.raises(RuntimeError, match="nest"):
                with menios.patch():
                    pass
            s.close()
        assert socket.socket is menios.socket._std.socket and menios.current_process() is None
        with socket.socket(socket.AF_UNIX) as h:
            assert type(h).__module__ == "socket"           # the host's again
    finally:
        shutil.rmtree(d)


def test_patch_as_decorator_gives_a_fresh_kernel_each_call():
    kernels = []

    @menios.patch(uid=4321, gid=4321)
    def body():
        p = menios.current_process()
        kernels.append(p.kernel)
        a, b = socket.socketpair()
        with a, b:
            a.sendall(b"decorated")
            b.settimeout(JOIN)
            assert b.recv(100) == b"decorated"
            assert b.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)[4:] == (
                (4321).to_bytes(4, "little") * 2)
    body()
    body()
    assert len(kernels) == 2 and kernels[0] is not kernels[1]
    assert all(k.closed for k in kernels)


def test_asyncio_signal_handlers_inside_a_patch():
    """The loop's self-pipe stays the host's: signal.set_wakeup_fd writes
    into it from C."""
    import signal

    async def main():
        loop = asyncio.get_running_loop()
        got = loop.create_future()
        loop.add_signal_handler(signal.SIGUSR1, got.set_result, "signalled")
        try:
            os.kill(os.getpid(), signal.SIGUSR1)
            return await asyncio.wait_for(got, JOIN)
        finally:
            loop.remove_signal_handler(signal.SIGUSR1)
    with menios.patch():
        assert asyncio.run(main()) == "signalled"
