"""menios.socket against the stdlib's socket module.

Most tests take the ``env`` fixture and run twice: once on the stdlib's
``socket`` module and the host kernel, once on ``menios.socket`` and a
simulated process (made current with ``menios.as_process``, paths created
in the simulated VFS under the same names).  They assert only what holds on
both.  The ``same_outcome`` tests run one function on both sides and compare
what each call returned or raised (type, message, errno).  Tests of what is
menios's alone (which process a socket belongs to, the simulated fd) say so.
Every blocking call runs with a timeout or in a thread joined with one.
"""
import contextlib
import contextvars
import gc
import io
import os
import pickle
import socket as stdsocket
import stat
import struct
import threading
import time
import warnings

import pytest

import menios
import menios.socket as msocket
from menios import readiness
from menios.conformance import harness
from menios.conformance import host as hostbackend

JOIN = 20.0                     # seconds a helper thread may take before the test fails


# --------------------------------------------------------------- environments
class Env:
    """What a test needs beyond the module: paths, raw fds, blocked-thread
    detection, a thread runner that keeps the current process."""

    def __init__(self, name, mod, root):
        self.name, self.mod, self.root = name, mod, root
        self.modname = mod.__name__
        self._n = 0

    def path(self, name=None):
        if name is None:
            self._n += 1
            name = "s%d" % self._n
        return os.path.join(self.root, name)

    def thread(self, fn, *args):
        return Runner(self, fn, *args)


class HostEnv(Env):
    def __init__(self, tmp_path):
        super().__init__("host", stdsocket, str(tmp_path))
        self.pid = os.getpid()
        self.uid, self.gid = os.geteuid(), os.getegid()

    pipe = staticmethod(os.pipe)
    read = staticmethod(os.read)
    write = staticmethod(os.write)
    close_fd = staticmethod(os.close)

    def touch(self, path):
        open(path, "wb").close()

    def is_open(self, fd):
        try:
            os.fstat(fd)
        except OSError:
            return False
        return True

    def nonblocking(self, fd):
        return not os.get_blocking(fd)

    def fds(self):
        return set(int(n) for n in os.listdir("/proc/self/fd"))

    def wait_blocked(self, n=1, timeout=JOIN):
        """Threads of this process asleep in a socket call or poll, read
        from /proc (the conformance host backend's counter)."""
        if hostbackend._SLEEP_CALLS is None:
            return True
        deadline = time.monotonic() + timeout
        proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
        try:
            while hostbackend._count_blocked(proc, [(os.getpid(), 2**30)]) < n:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.001)
        finally:
            os.close(proc)
        return True


class MeniosEnv(Env):
    def __init__(self, tmp_path, kernel):
        super().__init__("menios", msocket, str(tmp_path))
        self.kernel = kernel
        self.uid, self.gid = os.geteuid(), os.getegid()
        self.p = kernel.spawn(uid=self.uid, gid=self.gid)
        self.pid = self.p.pid
        self._mkdirs(self.root)

    def _mkdirs(self, path):
        root = self.kernel.spawn()
        try:
            parts = path.strip("/").split("/")
            for i in range(len(parts)):
                d = "/" + "/".join(parts[:i + 1])
                try:
                    root.mkdir(d, 0o777)
                except FileExistsError:
                    pass
                root.chmod(d, 0o777)
        finally:
            root.exit()

    def sim(self, fd):
        """The simulated fd that ``fd`` names: a socket object's fileno()
        is a readiness fd standing for one."""
        found = readiness.lookup(fd)
        return found[1] if found is not None else fd

    def pipe(self):
        return self.p.pipe()

    def read(self, fd, n):
        return self.p.read(self.sim(fd), n)

    def write(self, fd, data):
        return self.p.write(self.sim(fd), data)

    def close_fd(self, fd):
        self.p.close(self.sim(fd))

    def touch(self, path):
        self.p.close(self.p.open(path, os.O_CREAT | os.O_WRONLY, 0o644))

    def is_open(self, fd):
        try:
            self.p.fstat(self.sim(fd))
        except OSError:
            return False
        return True

    def nonblocking(self, fd):
        return bool(self.p.fcntl(self.sim(fd), menios.F_GETFL) & os.O_NONBLOCK)

    def fds(self):
        """The simulated process's open fds."""
        def is_open(fd):
            try:
                self.p.fstat(fd)
            except OSError:
                return False
            return True
        return set(fd for fd in range(256) if is_open(fd))

    def wait_blocked(self, n=1, timeout=JOIN):
        return self.kernel.wait_blocked(n, timeout)


class Runner:
    """A call in another thread, run in a copy of the caller's context (so
    on menios it runs as the same process)."""

    def __init__(self, env, fn, *args):
        self.result = self.error = None
        ctx = contextvars.copy_context()
        self.t = threading.Thread(target=ctx.run, args=(self._run, fn) + args, daemon=True)
        self.t.start()

    def _run(self, fn, *args):
        try:
            self.result = fn(*args)
        except BaseException as e:          # reported by join()
            self.error = e

    def join(self):
        self.t.join(JOIN)
        assert not self.t.is_alive(), "thread still blocked after %ss" % JOIN
        if self.error is not None:
            raise self.error
        return self.result


@contextlib.contextmanager
def make_env(kind, tmp_path):
    tmp_path.mkdir(exist_ok=True)
    if kind == "host":
        env = HostEnv(tmp_path)
        before = env.fds()
        yield env
        gc.collect()
        assert env.fds() <= before, "fds left open: %s" % (env.fds() - before)
        return
    k = menios.Kernel()
    try:
        env = MeniosEnv(tmp_path, k)
        with menios.as_process(env.p):
            yield env
        gc.collect()
        assert not env.fds(), "fds left open: %s" % env.fds()
    finally:
        k.close()
    assert not harness.leaks(k), harness.leaks(k)


@pytest.fixture(params=["host", "menios"])
def env(request, tmp_path):
    with make_env(request.param, tmp_path / "d") as e:
        yield e


@pytest.fixture
def envs(tmp_path):
    """Both environments, for tests that compare outcomes call by call."""
    with make_env("host", tmp_path / "d") as h, make_env("menios", tmp_path / "d") as m:
        yield h, m


@pytest.fixture(autouse=True)
def _default_timeout_restored():
    old = stdsocket.getdefaulttimeout()
    yield
    stdsocket.setdefaulttimeout(old)


def outcome(fn, *args):
    try:
        value = fn(*args)
    except Exception as e:
        return ("exc", type(e).__name__, str(e), getattr(e, "errno", None))
    return ("ok", value)


def same_outcome(envs, scenario, normalise=None):
    """Run ``scenario(env, rec)`` on both sides; ``rec(label, fn, *args)``
    records an outcome; the two lists must be equal."""
    results = []
    for env in envs:
        steps = []
        ctx = contextvars.copy_context()
        if env.name == "menios":
            ctx.run(lambda: menios.as_process(env.p).__enter__())

        def rec(label, fn, *args):
            out = outcome(fn, *args)
            if normalise is not None:
                out = normalise(env, out)
            steps.append((label, out))
            return out
        ctx.run(scenario, env, rec)
        results.append(steps)
    host, men = results
    diffs = [(h, m) for h, m in zip(host, men) if h != m]
    assert not diffs and len(host) == len(men), "\n".join(
        "%s: host %r, menios %r" % (h[0], h[1], m[1]) for h, m in diffs)
    return host


# ------------------------------------------------------------------ identity
def test_repr_family_type_proto(env):
    s = env.mod.socket(stdsocket.AF_UNIX, stdsocket.SOCK_STREAM)
    fd = s.fileno()
    assert repr(s) == "<%s.socket fd=%d, family=1, type=1, proto=0>" % (env.modname, fd)
    assert s.family is stdsocket.AF_UNIX and s.type is stdsocket.SOCK_STREAM
    assert s.proto == 0
    path = env.path()
    s.bind(path)
    assert repr(s) == "<%s.socket fd=%d, family=1, type=1, proto=0, laddr=%s>" % (
        env.modname, fd, path)
    s.close()
    assert repr(s) == "<%s.socket [closed] fd=-1, family=1, type=1, proto=0>" % env.modname


def test_repr_shows_peer(env):
    path = env.path()
    with env.mod.socket(stdsocket.AF_UNIX) as srv, env.mod.socket(stdsocket.AF_UNIX) as c:
        srv.bind(path)
        srv.listen()
        c.connect(path)
        conn, addr = srv.accept()
        with conn:
            assert repr(c).endswith("raddr=%s>" % path)
            assert repr(conn).endswith("laddr=%s>" % path)


def test_type_masks_flags_and_nonblock_gives_zero_timeout(env):
    kind = stdsocket.SOCK_DGRAM | stdsocket.SOCK_NONBLOCK | stdsocket.SOCK_CLOEXEC
    with env.mod.socket(stdsocket.AF_UNIX, kind) as s:
        assert s.type is stdsocket.SOCK_DGRAM
        assert s.gettimeout() == 0.0 and s.timeout == 0.0 and not s.getblocking()
        assert env.nonblocking(s.fileno())
        s.settimeout(2)
        assert s.type is stdsocket.SOCK_DGRAM and s.getblocking()
        assert env.nonblocking(s.fileno())          # a timeout runs on a non-blocking fd
        s.settimeout(None)
        assert not env.nonblocking(s.fileno())
        assert not s.get_inheritable()
        s.set_inheritable(True)
        assert s.get_inheritable()


def test_default_timeout_applies_to_new_and_accepted_sockets(env):
    path = env.path()
    env.mod.setdefaulttimeout(2.5)
    assert stdsocket.getdefaulttimeout() == msocket.getdefaulttimeout() == 2.5
    with env.mod.socket(stdsocket.AF_UNIX) as srv:
        assert srv.gettimeout() == 2.5 and env.nonblocking(srv.fileno())
        srv.bind(path)
        srv.listen()
        with env.mod.socket(stdsocket.AF_UNIX) as c:
            c.connect(path)
            conn, _ = srv.accept()
            with conn:
                assert conn.gettimeout() == 2.5
    env.mod.setdefaulttimeout(None)
    with env.mod.socket(stdsocket.AF_UNIX) as srv:
        srv.settimeout(5)
        srv.bind(env.path())
        srv.listen()
        with env.mod.socket(stdsocket.AF_UNIX) as c:
            c.connect(srv.getsockname())
            conn, _ = srv.accept()
            with conn:
                assert conn.gettimeout() is None and not env.nonblocking(conn.fileno())


def test_context_manager_close_and_detach(env):
    with env.mod.socket(stdsocket.AF_UNIX) as s:
        fd = s.fileno()
        assert env.is_open(fd)
    assert not env.is_open(fd) and s.fileno() == -1
    s.close()                                       # idempotent
    s.__exit__(None, None, None)
    s = env.mod.socket(stdsocket.AF_UNIX, stdsocket.SOCK_SEQPACKET)
    fd = s.detach()
    assert s.fileno() == -1 and env.is_open(fd) and "[closed]" in repr(s)
    with env.mod.socket(fileno=fd) as again:        # family, type, proto read from the fd
        assert (again.family, again.type, again.proto) == (
            stdsocket.AF_UNIX, stdsocket.SOCK_SEQPACKET, 0)
    assert not env.is_open(fd)


def test_pickle_refused(env):
    with env.mod.socket(stdsocket.AF_UNIX) as s:
        with pytest.raises(TypeError, match="cannot pickle 'socket' object"):
            pickle.dumps(s)


def test_unclosed_socket_warns_and_closes(env):
    s = env.mod.socket(stdsocket.AF_UNIX)
    fd = s.fileno()
    text = repr(s)
    with pytest.warns(ResourceWarning) as w:
        del s
        gc.collect()
    assert str(w[0].message) == "unclosed " + text
    assert not env.is_open(fd)


# ------------------------------------------------------------ stream traffic
def _server(env, kind=stdsocket.SOCK_STREAM):
    path = env.path()
    srv = env.mod.socket(stdsocket.AF_UNIX, kind)
    srv.bind(path)
    srv.listen()
    return srv, path


def test_accept_returns_socket_objects(env):
    srv, path = _server(env)
    with srv, env.mod.socket(stdsocket.AF_UNIX) as c:
        assert c.connect_ex(path) == 0
        conn, addr = srv.accept()
        with conn:
            assert type(conn) is env.mod.socket and addr == ""
            assert (conn.family, conn.type, conn.proto) == (stdsocket.AF_UNIX,
                                                           stdsocket.SOCK_STREAM, 0)
            assert conn.getsockname() == path and c.getpeername() == path
            assert c.getsockname() == "" and conn.getpeername() == ""
            assert not conn.get_inheritable()
            c.sendall(b"ping")
            assert conn.recv(10) == b"ping"
            assert conn.send(b"pong") == 4
            buf = bytearray(10)
            assert c.recv_into(buf, 3) == 3 and buf[:3] == b"pon"
            assert c.recvfrom(10) == (b"g", path)
            conn.sendall(memoryview(b"xyz"))
            buf = bytearray(5)
            assert c.recvfrom_into(buf) == (3, path) and buf[:3] == b"xyz"
            assert conn.sendmsg([b"m"]) == 1 and c.recvmsg(5) == (b"m", [], 0, path)
            conn.sendall(b"n")
            assert c.recvfrom(5) == (b"n", path)
            assert srv.getsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_ACCEPTCONN) == 1
            c.shutdown(stdsocket.SHUT_WR)
            assert conn.recv(10) == b""


def test_recvmsg_sendmsg_and_peek(env):
    a, b = env.mod.socketpair(stdsocket.AF_UNIX, stdsocket.SOCK_SEQPACKET)
    with a, b:
        assert a.sendmsg([b"ab", memoryview(b"cd")]) == 4
        assert b.recv(2, stdsocket.MSG_PEEK) == b"ab"
        data, anc, flags, addr = b.recvmsg(3)
        assert (data, anc, addr) == (b"abc", [], None)
        assert flags & stdsocket.MSG_TRUNC
        a.sendmsg([b"hello"])
        bufs = [bytearray(2), bytearray(5)]
        n, anc, flags, addr = b.recvmsg_into(bufs)
        assert (n, anc, flags, addr) == (5, [], 0, None)
        assert bytes(bufs[0] + bufs[1][:3]) == b"hello"


def test_peercred(env):
    a, b = env.mod.socketpair()
    with a, b:
        cred = a.getsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_PEERCRED, 12)
        assert struct.unpack("3i", cred) == (env.pid, env.uid, env.gid)
        a.setsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_RCVBUF, 8192)
        assert a.getsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_RCVBUF) == 16384
        assert a.getsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_TYPE) == stdsocket.SOCK_STREAM


def test_datagrams_with_addresses(env):
    pa, pb = env.path(), env.path()
    with env.mod.socket(stdsocket.AF_UNIX, stdsocket.SOCK_DGRAM) as a, \
            env.mod.socket(stdsocket.AF_UNIX, stdsocket.SOCK_DGRAM) as b:
        a.bind(pa)
        b.bind(pb)
        assert a.sendto(b"one", pb) == 3
        assert a.sendto(b"two", 0, pb) == 3
        assert b.recvfrom(10) == (b"one", pa)
        assert b.recvmsg(10) == (b"two", [], 0, pa)
        assert a.sendmsg([b"x"], [], 0, pb) == 1
        assert b.recvfrom(10, stdsocket.MSG_DONTWAIT) == (b"x", pa)
        abstract = b"\0menios-test-%d" % os.getpid()
        with env.mod.socket(stdsocket.AF_UNIX, stdsocket.SOCK_DGRAM) as c:
            c.bind(abstract)
            assert c.getsockname() == abstract
            a.sendto(b"abs", abstract)
            assert c.recvfrom(10) == (b"abs", pa)


def test_send_fds_recv_fds(env):
    r, w = env.pipe()
    a, b = env.mod.socketpair()
    with a, b:
        assert env.mod.send_fds(a, [b"fd"], [r, w]) == 2
        data, fds, flags, addr = env.mod.recv_fds(b, 10, 4)
        assert (data, len(fds), flags, addr) == (b"fd", 2, 0, None)
        assert env.write(fds[1], b"through") == 7
        assert env.read(r, 10) == b"through"
    for fd in (r, w) + tuple(fds):
        env.close_fd(fd)


def test_dup_fromfd_and_fileno(env):
    a, b = env.mod.socketpair()
    a.settimeout(3)
    d = a.dup()
    f = env.mod.fromfd(b.fileno(), stdsocket.AF_UNIX, stdsocket.SOCK_STREAM)
    assert len({a.fileno(), b.fileno(), d.fileno(), f.fileno()}) == 4
    assert d.gettimeout() == 3 and not d.get_inheritable() and not f.get_inheritable()
    a.close()
    b.close()
    with d, f:
        d.sendall(b"dup")
        assert f.recv(10) == b"dup"
        g = env.mod.socket(fileno=f.dup().detach())
        with g:
            assert (g.family, g.type) == (stdsocket.AF_UNIX, stdsocket.SOCK_STREAM)


def test_fileno_with_explicit_family_is_trusted(env):
    a, b = env.mod.socketpair()
    with a, b:
        fd = a.dup().detach()
        with env.mod.socket(stdsocket.AF_INET, stdsocket.SOCK_STREAM, 0, fd) as s:
            assert s.family is stdsocket.AF_INET         # the stdlib does not check
        r, w = env.pipe()
        env.close_fd(w)
        with pytest.raises(OSError) as e:
            env.mod.socket(fileno=r)
        assert e.value.errno == 88                      # ENOTSOCK
        env.close_fd(r)


def test_makefile_roundtrip_and_deferred_close(env):
    a, b = env.mod.socketpair()
    wf = a.makefile("wb")
    rf = b.makefile("r", encoding="utf-8", newline="")
    wf.write(b"first line\nsecond")
    wf.flush()
    assert rf.readline() == "first line\n"
    fd = a.fileno()
    a.close()                                       # the file keeps the fd open
    assert env.is_open(fd) and a.fileno() == fd
    wf.close()                                      # last reference: now it closes
    assert not env.is_open(fd)
    assert rf.read() == "second"                    # then end of stream
    rf.close()
    b.close()
    with pytest.raises(ValueError):
        a.makefile("rx")


def test_makefile_rw_binary_and_timeout(env):
    a, b = env.mod.socketpair()
    with a, b:
        f = b.makefile("rwb", buffering=0)
        b.settimeout(0.05)
        with pytest.raises(TimeoutError):
            f.read(1)
        with pytest.raises(OSError, match="cannot read from timed out object"):
            f.read(1)
        f.write(b"raw")
        assert a.recv(10) == b"raw"
        f.close()


def test_sendfile(env, tmp_path):
    src = tmp_path / ("data-%s" % env.name)
    src.write_bytes(bytes(range(256)) * 40)
    a, b = env.mod.socketpair()
    with a, b, open(src, "rb") as f:
        assert a.sendfile(f, 2, 5) == 5
        assert f.tell() == 7
        assert b.recv(100) == bytes(range(2, 7))
        got = bytearray()
        t = env.thread(lambda: a.sendfile(f, 0))       # a regular file: from offset 0
        while len(got) < 10240:
            got += b.recv(65536)
        assert t.join() == 10240 and bytes(got) == bytes(range(256)) * 40
        assert f.tell() == 10240
        buf = io.BytesIO(b"bytesio")
        buf.seek(1)
        assert a.sendfile(buf) == 6                      # not regular: from its position
        assert a.sendfile(io.BytesIO(b"bytesio"), 3) == 4
        assert b.recv(20) == b"ytesioesio"
        with open(src, "r") as text, pytest.raises(ValueError, match="binary mode"):
            a.sendfile(text)
        a.setblocking(False)
        with pytest.raises(ValueError, match="non-blocking"):
            a.sendfile(io.BytesIO(b"x"))
    with env.mod.socket(stdsocket.AF_UNIX, stdsocket.SOCK_DGRAM) as d, open(src, "rb") as f:
        with pytest.raises(ValueError, match="SOCK_STREAM"):
            d.sendfile(f)


# ------------------------------------------------------------------- errors
def test_refused_missing_and_broken_pipe(env):
    path = env.path()
    with env.mod.socket(stdsocket.AF_UNIX) as s, env.mod.socket(stdsocket.AF_UNIX) as c:
        s.bind(path)
        with pytest.raises(ConnectionRefusedError):
            c.connect(path)
        assert c.connect_ex(path) == 111
        with pytest.raises(FileNotFoundError):
            c.connect(env.path())
        assert c.connect_ex(env.path()) == 2
    plain = env.path()
    env.touch(plain)
    with env.mod.socket(stdsocket.AF_UNIX) as c:
        with pytest.raises(ConnectionRefusedError):
            c.connect(plain)
    a, b = env.mod.socketpair()
    b.close()
    with a:
        with pytest.raises(BrokenPipeError):
            a.send(b"x")
        with pytest.raises(BrokenPipeError):
            a.sendall(b"x" * 100000)
    pa, pb = env.path(), env.path()
    with env.mod.socket(stdsocket.AF_UNIX, stdsocket.SOCK_DGRAM) as a:
        b = env.mod.socket(stdsocket.AF_UNIX, stdsocket.SOCK_DGRAM)
        b.bind(pb)
        a.bind(pa)
        a.connect(pb)
        b.close()
        with pytest.raises(ConnectionRefusedError):
            a.send(b"x")


def _fill(sock):
    sock.setsockopt(stdsocket.SOL_SOCKET, stdsocket.SO_SNDBUF, 4096)
    sock.setblocking(False)
    sent = 0
    with pytest.raises(BlockingIOError):
        while True:
            sent += sock.send(b"z" * 4096)
    return sent


def test_nonblocking_eagain(env):
    srv, path = _server(env)
    with srv:
        srv.setblocking(False)
        with pytest.raises(BlockingIOError):
            srv.accept()
        a, b = env.mod.socketpair()
        with a, b:
            b.setblocking(False)
            with pytest.raises(BlockingIOError):
                b.recv(1)
            with pytest.raises(BlockingIOError):
                b.recvmsg(1)
            assert _fill(a) > 0
            with pytest.raises(BlockingIOError):
                a.sendall(b"more")


def test_connect_to_full_backlog(env):
    """AF_UNIX connect never says EINPROGRESS: with a full backlog a
    non-blocking connect fails EAGAIN, and so does one with a timeout."""
    path = env.path()
    with env.mod.socket(stdsocket.AF_UNIX) as srv:
        srv.bind(path)
        srv.listen(0)
        clients = []
        try:
            for _ in range(5):
                c = env.mod.socket(stdsocket.AF_UNIX)
                clients.append(c)
                c.setblocking(False)
                err = c.connect_ex(path)
                if err:
                    break
            assert err == 11
            with pytest.raises(BlockingIOError):
                c.connect(path)
            c.settimeout(0.2)
            with pytest.raises(BlockingIOError):
                c.connect(path)
        finally:
            for c in clients:
                c.close()


def test_timeouts_expire(env):
    srv, path = _server(env)
    a, b = env.mod.socketpair()
    with srv, a, b:
        for sock, call in ((srv, lambda: srv.accept()), (b, lambda: b.recv(1)),
                           (b, lambda: b.recv_into(bytearray(1))),
                           (b, lambda: b.recvfrom(1)), (b, lambda: b.recvmsg(1))):
            sock.settimeout(0.05)
            start = time.monotonic()
            with pytest.raises(TimeoutError, match="^timed out$") as e:
                call()
            assert time.monotonic() - start >= 0.04     # waited, never early
            assert isinstance(e.value, env.mod.timeout)
        _fill(a)
        a.settimeout(0.05)
        with pytest.raises(TimeoutError):
            a.send(b"x" * 4096)
        with pytest.raises(TimeoutError):
            a.sendall(b"x" * 100000)


def test_closed_socket_raises_ebadf(env):
    s = env.mod.socket(stdsocket.AF_UNIX)
    s.settimeout(5)
    s.close()
    for call in (lambda: s.recv(1), lambda: s.send(b"x"), lambda: s.sendall(b"x"),
                 lambda: s.accept(), lambda: s.getsockname(), lambda: s.dup(),
                 lambda: s.listen(), lambda: s.shutdown(0), lambda: s.bind(env.path()),
                 lambda: s.connect(env.path()), lambda: s.getsockopt(1, 3),
                 lambda: s.get_inheritable()):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno == 9, call
    assert s.connect_ex(env.path()) == 9


# ------------------------------------------------------------ blocking, threads
def test_blocking_recv_and_accept_in_threads(env):
    srv, path = _server(env)
    with srv:
        t = env.thread(srv.accept)
        assert env.wait_blocked(1)
        with env.mod.socket(stdsocket.AF_UNIX) as c:
            c.connect(path)
            conn, addr = t.join()
            with conn:
                t = env.thread(conn.recv, 100)
                assert env.wait_blocked(1)
                c.sendall(b"wake")
                assert t.join() == b"wake"
                conn.settimeout(JOIN)                   # waits in poll, woken by data
                t = env.thread(conn.recv, 100)
                assert env.wait_blocked(1)
                c.send(b"poll")
                assert t.join() == b"poll"


def test_blocking_connect_waits_for_backlog_room(env):
    path = env.path()
    with env.mod.socket(stdsocket.AF_UNIX) as srv, env.mod.socket(stdsocket.AF_UNIX) as c1, \
            env.mod.socket(stdsocket.AF_UNIX) as c2:
        srv.bind(path)
        srv.listen(0)
        c1.connect(path)                                # fills a backlog of 0
        t = env.thread(c2.connect, path)
        assert env.wait_blocked(1)
        conn, _ = srv.accept()                          # makes room: c2 gets in
        with conn:
            assert t.join() is None
            conn2, _ = srv.accept()
            with conn2:
                c2.sendall(b"second")
                assert conn2.recv(10) == b"second"


def test_blocking_sendall_and_makefile_readline(env):
    a, b = env.mod.socketpair()
    with a, b:
        data = bytes(range(256)) * 4096               # 1 MiB, far above the buffer
        a.settimeout(JOIN)
        t = env.thread(a.sendall, data)
        got = bytearray()
        while len(got) < len(data):
            got += b.recv(65536)
        assert t.join() is None and got == data
        f = b.makefile("rb")
        t = env.thread(f.readline)
        assert env.wait_blocked(1)
        a.sendall(b"a line\n")
        assert t.join() == b"a line\n"
        f.close()


# --------------------------------------------------- outcomes, call by call
def test_same_outcome_constructor(envs):
    r, w = os.pipe()
    mr, mw = envs[1].p.pipe()

    def scenario(env, rec):
        mod = env.mod
        rec("str family", mod.socket, "a")
        rec("str type", mod.socket, stdsocket.AF_UNIX, "b")
        rec("float type", mod.socket, stdsocket.AF_UNIX, 1.5)
        rec("huge type", mod.socket, stdsocket.AF_UNIX, 2**40)
        rec("family 999", mod.socket, 999)
        rec("type 999", mod.socket, stdsocket.AF_UNIX, 999)
        rec("proto 7", mod.socket, stdsocket.AF_UNIX, stdsocket.SOCK_STREAM, 7)
        rec("negative fileno", mod.socket, stdsocket.AF_UNIX, stdsocket.SOCK_STREAM, 0, -5)
        rec("str fileno", mod.socket, -1, -1, -1, "x")
        rec("pipe fileno", mod.socket, -1, -1, -1, r if env.name == "host" else mr)
        rec("socketpair dgram", lambda: [(s.family, s.type, s.close()) for s in
                                         mod.socketpair(stdsocket.AF_UNIX, stdsocket.SOCK_DGRAM)])
        rec("socketpair None", lambda: [(s.family, s.type, s.close()) for s in
                                        mod.socketpair(None)])
        rec("socketpair bad", mod.socketpair, stdsocket.AF_UNIX, 999)
    try:
        same_outcome(envs, scenario)
    finally:
        for fd in (r, w):
            os.close(fd)
        envs[1].p.close(mr)
        envs[1].p.close(mw)


def test_same_outcome_addresses(envs):
    def scenario(env, rec):
        s = env.mod.socket(stdsocket.AF_UNIX)
        d = env.mod.socket(stdsocket.AF_UNIX, stdsocket.SOCK_DGRAM)
        long_root = env.path("r" * (107 - len(env.root) - 1))
        for label, addr in (("int", 123), ("None", None), ("float", 1.5), ("list", ["x"]),
                            ("108-byte path", "a" * 108), ("108-byte bytes path", b"a" * 108),
                            ("107-byte path", long_root),
                            ("109-byte abstract", "\0" + "a" * 108),
                            ("108-byte abstract", b"\0" + b"q" * 107)):
            rec("bind " + label, s.bind, addr)
            rec("connect_ex " + label, s.connect_ex, addr)
            rec("sendto " + label, d.sendto, b"x", addr)
        rec("getsockname", s.getsockname)
        rec("connect_ex missing", s.connect_ex, env.path("missing"))
        rec("bind again", s.bind, env.path())
        rec("listen negative", s.listen, -5)
        rec("accept nothing", lambda: (s.setblocking(False), s.accept()))
        rec("sendto str", d.sendto, "text", env.path())
        rec("sendto flags str", d.sendto, b"x", "f", env.path())
        rec("sendto one arg", lambda: d.sendto(b"x"))
        rec("sendto 4 args", lambda: d.sendto(b"x", 0, "a", 1))
        s.close()
        d.close()
    same_outcome(envs, scenario)


def test_same_outcome_timeouts(envs):
    def scenario(env, rec):
        s = env.mod.socket(stdsocket.AF_UNIX)
        for value in (-1, -0.5, "a", float("nan"), 1e300, 1e10, 10**10, 2**62, 10**20,
                      None, 0, 0.0, -0.0, 0.1, 1e-10, 3, True, 2.5e-3, 1234567.891):
            rec("settimeout %r" % (value,), s.settimeout, value)
            rec("gettimeout after %r" % (value,), s.gettimeout)
            rec("getblocking after %r" % (value,), s.getblocking)
        for flag in ("a", None, 1.5, 0, 1, 2**70, -1, False):
            rec("setblocking %r" % (flag,), s.setblocking, flag)
            rec("timeout after %r" % (flag,), lambda: s.timeout)
        s.close()
        rec("settimeout closed", s.settimeout, 1)
        rec("gettimeout closed", s.gettimeout)
        rec("setblocking closed", s.setblocking, 0)
        rec("getblocking closed", s.getblocking)
    same_outcome(envs, scenario)


def test_same_outcome_data_arguments(envs):
    def scenario(env, rec):
        a, b = env.mod.socketpair()
        a.send(b"0123456789")
        for label, fn, args in (
                ("recv -1", b.recv, (-1,)), ("recv str", b.recv, ("x",)),
                ("recv 0", b.recv, (0,)),
                ("recv_into small", b.recv_into, (bytearray(2), 5)),
                ("recv_into negative", b.recv_into, (bytearray(2), -1)),
                ("recv_into bytes", b.recv_into, (b"xx",)),
                ("recvfrom_into small", b.recvfrom_into, (bytearray(1), 5)),
                ("recvfrom_into negative", b.recvfrom_into, (bytearray(1), -5)),
                ("recvfrom_into bytes", b.recvfrom_into, (b"x", 5)),
                ("recvmsg_into not iterable", b.recvmsg_into, (5,)),
                ("recv flags huge", b.recv, (1, 2**40)),
                ("timeout on", b.settimeout, (5,)),
                ("recv -1 with timeout", b.recv, (-1,)),
                ("recv_into bytes with timeout", b.recv_into, (b"xx",)),
                ("recvmsg -1 with timeout", b.recvmsg, (-1,)),
                ("timeout off", b.settimeout, (None,)),
                ("recvmsg -1", b.recvmsg, (-1,)), ("recvmsg anc -1", b.recvmsg, (1, -1)),
                ("recvmsg_into bytes", b.recvmsg_into, ([b"x"],)),
                ("send str", a.send, ("str",)), ("send int", a.send, (5,)),
                ("send flags str", a.send, (b"x", "f")),
                ("sendall str", a.sendall, ("x",)),
                ("sendmsg int", a.sendmsg, (5,)), ("sendmsg bytes", a.sendmsg, (b"x",)),
                ("sendmsg anc int", a.sendmsg, ([b"x"], 5)),
                ("sendmsg anc item int", a.sendmsg, ([b"x"], [5])),
                ("sendmsg anc short", a.sendmsg, ([b"x"], [(1,)])),
                ("sendmsg anc str data", a.sendmsg, ([b"x"], [(1, 1, "s")])),
                ("sendmsg flags str", a.sendmsg, ([b"x"], [], "x")),
                ("sendmsg addr int", a.sendmsg, ([b"x"], [], 0, 5)),
                ("sendmsg list item", a.sendmsg, ([b"y"], [[1, 99, b""]])),
                ("getsockopt buflen -1", a.getsockopt, (1, 3, -1)),
                ("getsockopt buflen 0", a.getsockopt, (1, 3, 0)),
                ("getsockopt buflen 4", a.getsockopt, (1, 3, 4)),
                ("getsockopt level 5", a.getsockopt, (5, 3)),
                ("setsockopt None", a.setsockopt, (1, 2, None)),
                ("setsockopt None 4", a.setsockopt, (1, 2, None, 4)),
                ("setsockopt None 2", a.setsockopt, (1, 2, None, 2)),
                ("setsockopt None 2**33", a.setsockopt, (1, 2, None, 2**33)),
                ("setsockopt None level 5", a.setsockopt, (5, 2, None, 4)),
                ("setsockopt int 4 args", a.setsockopt, (1, 2, 1, 4)),
                ("setsockopt 2**40", a.setsockopt, (1, 2, 2**40)),
                ("setsockopt bool", a.setsockopt, (1, 2, True)),
                ("setsockopt bytes", a.setsockopt, (1, 2, struct.pack("i", 1))),
                ("getsockopt back", a.getsockopt, (1, 2)),
                ("shutdown 7", a.shutdown, (7,)), ("listen str", a.listen, ("x",)),
                ("recv rest", b.recv, (100,))):
            rec(label, fn, *args)
        a.close()
        b.close()
        rec("setsockopt None closed", a.setsockopt, 1, 2, None, 4)
    same_outcome(envs, scenario)


def test_same_outcome_kernel_errors(envs):
    """What the kernel refuses arrives as the same exception, errno and
    message through both modules."""
    def scenario(env, rec):
        path = env.path()
        s = env.mod.socket(stdsocket.AF_UNIX)
        d = env.mod.socket(stdsocket.AF_UNIX, stdsocket.SOCK_DGRAM)
        rec("getpeername unconnected", s.getpeername)
        rec("accept unlistening", s.accept)
        rec("recv unconnected stream", s.recv, 1)
        rec("send unconnected stream", s.send, b"x")
        rec("sendto on stream", s.sendto, b"x", path)
        rec("bind", s.bind, path)
        rec("bind again", s.bind, env.path())
        rec("bind taken", d.bind, path)
        rec("listen dgram", d.listen)
        rec("accept dgram", d.accept)
        rec("listen", s.listen, 1)
        c = env.mod.socket(stdsocket.AF_UNIX)
        rec("connect", c.connect, path)
        rec("connect again", c.connect, path)
        rec("connect_ex again", c.connect_ex, path)
        rec("connect dgram to stream", d.connect, path)
        rec("shutdown -1", c.shutdown, -1)
        rec("shutdown rdwr", c.shutdown, stdsocket.SHUT_RDWR)
        rec("send after shutdown", c.send, b"x")
        rec("recv after shutdown", c.recv, 5)
        rec("MSG_OOB dgram", d.sendto, b"x", stdsocket.MSG_OOB, path)
        rec("unknown option", c.getsockopt, stdsocket.SOL_SOCKET, 9999)
        rec("other level", c.getsockopt, 6, 1)
        rec("SO_TYPE", d.getsockopt, stdsocket.SOL_SOCKET, stdsocket.SO_TYPE)
        rec("SO_ERROR", d.getsockopt, stdsocket.SOL_SOCKET, stdsocket.SO_ERROR)
        rec("SO_PASSCRED on", d.setsockopt, stdsocket.SOL_SOCKET, stdsocket.SO_PASSCRED, 1)
        rec("SO_PASSCRED", d.getsockopt, stdsocket.SOL_SOCKET, stdsocket.SO_PASSCRED)
        rec("SO_RCVTIMEO bad", d.setsockopt, stdsocket.SOL_SOCKET, stdsocket.SO_RCVTIMEO,
            struct.pack("qq", 0, 10**6))
        rec("sendmsg bad fd", env.mod.send_fds, c, [b"x"], [9999])
        rec("sendmsg bad cmsg type", c.sendmsg, [b"x"], [(stdsocket.SOL_SOCKET, 99, b"")])
        for sock in (s, d, c):
            sock.close()
        a, b = env.mod.socketpair(stdsocket.AF_UNIX, stdsocket.SOCK_DGRAM)
        rec("sendmsg rights", a.sendmsg, [b"m"], [(stdsocket.SOL_SOCKET, stdsocket.SCM_RIGHTS,
                                                  struct.pack("2i", a.fileno(), a.fileno()))])

        def truncated_rights():
            data, anc, flags, addr = b.recvmsg(10, stdsocket.CMSG_LEN(4))
            fds = [fd for _, _, raw in anc for fd in struct.unpack("%di" % (len(raw) // 4), raw)]
            for fd in fds:
                env.close_fd(fd)
            return data, [(lvl, typ, len(raw)) for lvl, typ, raw in anc], flags, addr
        rec("recvmsg truncated rights", truncated_rights)
        rec("peek", lambda: (a.send(b"peeked"), b.recv(3, stdsocket.MSG_PEEK), b.recv(10)))
        rec("trunc", lambda: (a.send(b"longer"), b.recvmsg(2)[::2]))
        a.close()
        b.close()
    same_outcome(envs, scenario)


def test_same_outcome_closed_socket(envs):
    def scenario(env, rec):
        s = env.mod.socket(stdsocket.AF_UNIX)
        rec("close", s.close)
        rec("close again", s.close)
        for name, args in (("recv", (1,)), ("recv_into", (bytearray(1),)), ("send", (b"x",)),
                           ("sendall", (b"x",)), ("sendto", (b"x", "/x")),
                           ("sendmsg", ([b"x"],)), ("recvmsg", (1,)), ("recvfrom", (1,)),
                           ("accept", ()), ("bind", ("/x",)), ("connect", ("/x",)),
                           ("connect_ex", ("/x",)), ("listen", ()), ("shutdown", (0,)),
                           ("getsockname", ()), ("getpeername", ()), ("dup", ()),
                           ("fileno", ()), ("detach", ()), ("gettimeout", ()),
                           ("getblocking", ()), ("get_inheritable", ()),
                           ("set_inheritable", (True,)), ("getsockopt", (1, 3)),
                           ("setsockopt", (1, 2, 1)), ("makefile", ())):
            rec(name, lambda: str(getattr(s, name)(*args)).replace(env.modname + ".socket", "MOD"))
        rec("repr", lambda: repr(s).replace(env.modname + ".socket", "MOD"))
        rec("send_fds", env.mod.send_fds, s, [b"x"], [0])
        rec("recv_fds", env.mod.recv_fds, s, 1, 1)
    same_outcome(envs, scenario)


# ------------------------------------------------------ menios only (the point)
def test_process_selection(kernel):
    """menios only: ``process=`` wins, else the current process of
    ``as_process``; without either, RuntimeError."""
    p, q = kernel.spawn(uid=1000, gid=1000), kernel.spawn(uid=1001, gid=1001)
    assert menios.current_process() is None
    with pytest.raises(RuntimeError, match="no current menios process"):
        msocket.socket()
    with pytest.raises(TypeError):
        msocket.socket(process="not a process")
    with pytest.raises(TypeError):
        with menios.as_process(object()):
            pass
    with menios.as_process(p):
        s = msocket.socket()
        with menios.as_process(q):
            t = msocket.socket()
            u = msocket.socket(process=p)
        assert menios.current_process() is p
        seen = []
        th = threading.Thread(target=lambda: seen.append(menios.current_process()))
        th.start()
        th.join(JOIN)
        assert seen == [None]                   # a new thread starts with no process
    assert (s.process, t.process, u.process) == (p, q, p)
    sim = [readiness.lookup(x.fileno()) for x in (s, t, u)]
    assert sim == [(p, 0), (q, 0), (p, 1)]            # readiness fds stand for these
    assert stat.S_ISSOCK(p.fstat(0).st_mode) and stat.S_ISSOCK(q.fstat(0).st_mode)
    a, b = msocket.socketpair(process=q)
    assert a.getsockopt(menios.SOL_SOCKET, menios.SO_PEERCRED, 12) == struct.pack(
        "3i", q.pid, 1001, 1001)
    for sock in (s, t, u, a, b):
        sock.close()

    @menios.as_process(q)
    def made_in_q():
        return msocket.socket()
    with made_in_q() as v:
        assert v.process is q


def test_other_families_refused(kernel):
    """menios only: the simulated kernel has only AF_UNIX, so another family
    fails as a kernel without it does."""
    p = kernel.spawn()
    for family in (stdsocket.AF_INET, stdsocket.AF_INET6):
        with pytest.raises(OSError) as e:
            msocket.socket(family, process=p)
        assert e.value.errno == 97                      # EAFNOSUPPORT
    with pytest.raises(OSError) as e:
        p.fstat(0)                                      # nothing was left open
    assert e.value.errno == 9


def test_exited_process_and_closed_kernel(kernel):
    """menios only: closing a socket of an exited process is quiet; a call
    blocked when the kernel closes fails ESHUTDOWN."""
    p = kernel.spawn()
    a, b = msocket.socketpair(process=p)
    t = Runner(None, b.recv, 10)
    assert kernel.wait_blocked(1, JOIN)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kernel.close()
        with pytest.raises(BrokenPipeError) as e:
            t.join()
        assert e.value.errno == 108
        a.close()
        b.close()
    assert a.fileno() == b.fileno() == -1
