"""Tests of menios.vfs: unit tests, and differential tests against the host.

A differential test is a short list of steps ``(user, op, *args)``.  It is
run twice: on the host kernel, in a fresh directory under /tmp, by one
forked child per user that drops to that user's ids (the host runs the
tests as root), and on a menios VFS holding a directory of the same path
and mode.  Each step yields ``("ok", value)`` or ``("err", "EACCES")`` and
the two lists must be equal.  ``{T}`` in a string argument stands for the
test directory's absolute path.
"""

import ctypes
import errno
import os
import pickle
import random
import select
import shutil
import signal
import socket
import stat
import struct
import tempfile
import time

import pytest

from menios.cred import Cred
from menios.vfs import VFS, MAY_READ, MAY_WRITE, MAY_EXEC

# -- users -------------------------------------------------------------------
# (uid, gid, groups) or ((ruid, euid, suid), (rgid, egid, sgid), groups)

ROOT = (0, 0, ())
ALICE = (1000, 1000, ())
BOB = (1001, 1001, ())
CAROL = (1002, 1002, (2000,))          # a member of group "app" (2000)
DAVE = (1003, 1003, (2001, 2000, 5))   # several supplementary groups
SUID_ROOT_ALICE = ((1000, 0, 0), (1000, 1000, 1000), ())   # setuid-root prog

APP = 2000
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
HOST_TIMEOUT = 10.0

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root to drop privileges on the host")


def _ids(user):
    if isinstance(user[0], tuple):
        return user
    uid, gid, groups = user
    return (uid, uid, uid), (gid, gid, gid), groups


def _host_sysctl():
    values = {}
    for name in ("protected_symlinks", "protected_hardlinks",
                 "protected_regular", "protected_fifos"):
        try:
            with open("/proc/sys/fs/" + name) as f:
                values["fs." + name] = int(f.read())
        except OSError:
            pass
    return values


def _stat_summary(st):
    kind = {stat.S_IFDIR: "dir", stat.S_IFREG: "reg", stat.S_IFLNK: "lnk",
            stat.S_IFSOCK: "sock", stat.S_IFIFO: "fifo"}.get(
                stat.S_IFMT(st.st_mode), "other")
    size = st.st_size if kind in ("reg", "lnk") else None
    return (kind, oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid,
            st.st_nlink, size)


def _subst(args, top):
    return tuple(a.replace("{T}", top) if isinstance(a, str) else a
                 for a in args)


# -- the host side -----------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def _host_access(path, mode):
    if _libc.access(os.fsencode(path), mode) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _host_step(state, op, args):
    """Run one step on the host; return its value (raise OSError)."""
    socks = state["socks"]
    if op == "bind":
        path, key = args[0], args[1] if len(args) > 1 else args[0]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.bind(path)
            s.listen(8)
        except OSError:
            s.close()
            raise
        socks[key] = s
        return None
    if op == "close":
        socks.pop(args[0]).close()
        return None
    if op == "connect":
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            c.connect(args[0])
        finally:
            c.close()
        return None
    if op == "mkdir":
        return os.mkdir(*args)
    if op == "open":
        path, flags = args[0], args[1]
        mode = args[2] if len(args) > 2 else 0o666
        os.close(os.open(path, flags, mode))
        return None
    if op == "write":
        path, data = args[0], args[1]
        flags = args[2] if len(args) > 2 else _WRITE_FLAGS
        fd = os.open(path, flags, 0o666)
        try:
            return os.write(fd, data)
        finally:
            os.close(fd)
    if op == "read":
        fd = os.open(args[0], os.O_RDONLY)
        try:
            return os.read(fd, 1 << 16)
        finally:
            os.close(fd)
    if op == "stat":
        return _stat_summary(os.stat(args[0]))
    if op == "same":
        a, b = os.stat(args[0]), os.stat(args[1])
        return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    if op == "lstat":
        return _stat_summary(os.lstat(args[0]))
    if op == "listdir":
        return sorted(os.listdir(*args))
    if op == "access":
        return _host_access(*args)
    if op == "chdir":
        return os.chdir(args[0])
    if op == "getcwd":
        return os.getcwd()
    if op == "chown":
        return os.chown(*args)
    if op == "lchown":
        return os.lchown(*args)
    if op in ("rmdir", "unlink", "rename", "link", "symlink", "readlink",
              "chmod"):
        return getattr(os, op)(*args)
    raise ValueError("unknown step %r" % (op,))


def _send(fd, obj):
    data = pickle.dumps(obj)
    data = struct.pack("!I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


def _recv(fd, timeout):
    """Read one message; None on EOF; TimeoutError after *timeout*."""
    deadline = time.monotonic() + timeout
    buf = b""
    need = 4
    length = None
    while True:
        while len(buf) < need:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("host child did not answer")
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            buf += chunk
        if length is None:
            length = struct.unpack("!I", buf[:4])[0]
            buf = buf[4:]
            need = length
            continue
        return pickle.loads(buf[:length])


def _host_actor(top, user, umask, rfd, wfd, chroot=False):
    """Body of a forked host child: drop to *user*, run steps from rfd.

    With *chroot* the child is jailed in *top*, so nothing it does, however
    random, can reach the rest of the host.
    """
    code = 0
    try:
        (r, e, s), (rg, eg, sg), groups = _ids(user)
        os.umask(umask)
        if chroot:
            os.chroot(top)
            top = "/"
        os.chdir(top)
        os.setgroups(list(groups))
        os.setresgid(rg, eg, sg)
        os.setresuid(r, e, s)
        state = {"socks": {}}
        while True:
            msg = _recv(rfd, 3600)
            if msg is None:
                break
            op, args = msg
            try:
                result = ("ok", _host_step(state, op, args))
            except OSError as exc:
                result = ("err", errno.errorcode.get(exc.errno, exc.errno))
            except Exception as exc:     # a bug in the step: report it
                result = ("exc", type(exc).__name__, str(exc))
            _send(wfd, result)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


class HostRun:
    """Run steps on the host, one child per user, each kept alive (with
    its listening sockets) until :meth:`close`."""

    def __init__(self, top_mode, umask, chroot=False):
        self.top = tempfile.mkdtemp(dir="/tmp", prefix="menios-vfs-")
        os.chmod(self.top, top_mode)
        self.umask = umask
        self.chroot = chroot
        self.actors = {}

    def actor(self, user):
        if user not in self.actors:
            r1, w1 = os.pipe()
            r2, w2 = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(w1)
                os.close(r2)
                _host_actor(self.top, user, self.umask, r1, w2, self.chroot)
            os.close(r1)
            os.close(w2)
            self.actors[user] = (pid, w1, r2)
        return self.actors[user]

    def step(self, user, op, args):
        pid, wfd, rfd = self.actor(user)
        _send(wfd, (op, _subst(args, "" if self.chroot else self.top)))
        result = _recv(rfd, HOST_TIMEOUT)
        if result is None:
            raise RuntimeError("host child for %r died" % (user,))
        return result

    def close(self):
        for pid, wfd, rfd in self.actors.values():
            os.close(wfd)
        deadline = time.monotonic() + HOST_TIMEOUT
        for pid, wfd, rfd in self.actors.values():
            os.close(rfd)
            while True:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.005)
        self.actors.clear()
        shutil.rmtree(self.top, ignore_errors=True)


def run_host(steps, top_mode=0o777, umask=0o022, chroot=False):
    run = HostRun(top_mode, umask, chroot)
    try:
        return [run.step(user, op, tuple(args))
                for user, op, *args in steps], run.top
    finally:
        run.close()


# -- the menios side ---------------------------------------------------------

class _Listener:
    """Stands for a bound, listening socket object in inode.sock."""


def _make_cred(user):
    (r, e, s), (rg, eg, sg), groups = _ids(user)
    cred = Cred(r, rg, groups)
    cred.uid, cred.euid, cred.suid, cred.fsuid = r, e, s, e
    cred.gid, cred.egid, cred.sgid, cred.fsgid = rg, eg, sg, eg
    return cred


def _menios_step(vfs, actor, op, args):
    cred, umask, socks = actor["cred"], actor["umask"], actor["socks"]
    cwd = actor["cwd"]
    if op == "bind":
        path, key = args[0], args[1] if len(args) > 1 else args[0]
        inode = vfs.mknod_socket(cred, cwd, path, 0o777 & ~umask)
        inode.sock = _Listener()
        socks[key] = inode
        return None
    if op == "close":
        socks.pop(args[0]).sock = None
        return None
    if op == "connect":
        inode = vfs.open_socket_inode(cred, cwd, args[0])
        if not stat.S_ISSOCK(inode.mode) or inode.sock is None:
            raise OSError(errno.ECONNREFUSED, os.strerror(errno.ECONNREFUSED))
        return None
    if op == "mkdir":
        path = args[0]
        mode = args[1] if len(args) > 1 else 0o777
        vfs.mkdir(cred, cwd, path, mode, umask)
        return None
    if op == "open":
        path, flags = args[0], args[1]
        mode = args[2] if len(args) > 2 else 0o666
        vfs.open(cred, cwd, path, flags, mode, umask).release()
        return None
    if op == "write":
        path, data = args[0], args[1]
        flags = args[2] if len(args) > 2 else _WRITE_FLAGS
        f = vfs.open(cred, cwd, path, flags, 0o666, umask)
        return f.write(data, cred)
    if op == "read":
        return vfs.open(cred, cwd, args[0], os.O_RDONLY).read(1 << 16)
    if op == "stat":
        return _stat_summary(vfs.stat(cred, cwd, args[0]))
    if op == "same":
        a, b = vfs.stat(cred, cwd, args[0]), vfs.stat(cred, cwd, args[1])
        return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    if op == "lstat":
        return _stat_summary(vfs.lstat(cred, cwd, args[0]))
    if op == "listdir":
        return sorted(vfs.listdir(cred, cwd, *args))
    if op == "access":
        return vfs.access(cred, cwd, *args)
    if op == "chdir":
        actor["cwd"] = vfs.lookup_dir(cred, cwd, args[0])
        return None
    if op == "getcwd":
        return vfs.path_of(cwd)
    if op == "lchown":
        return vfs.chown(cred, cwd, *args, follow=False)
    if op in ("rmdir", "unlink", "rename", "link", "symlink", "readlink",
              "chmod", "chown"):
        result = getattr(vfs, op)(cred, cwd, *args)
        return result if op == "readlink" else None
    raise ValueError("unknown step %r" % (op,))


def run_menios(steps, top, top_mode=0o777, umask=0o022, chroot=False):
    """Run *steps* on a fresh VFS in a directory *top* (or, with *chroot*,
    in the root directory, which then stands for the host's jail)."""
    vfs = VFS(sysctl=_host_sysctl())
    root = Cred()
    top_inode = vfs.root
    if chroot:
        top = ""
        for name in list(vfs.root.children):
            vfs.rmdir(root, None, name)
    else:
        path = ""
        for part in top.strip("/").split("/"):
            path += "/" + part
            try:
                top_inode = vfs.lookup(root, None, path)
            except FileNotFoundError:
                top_inode = vfs.mkdir(root, None, path, 0o755, 0)
    vfs.chmod(root, None, top or "/", top_mode)
    actors = {}
    results = []
    for user, op, *args in steps:
        if user not in actors:
            actors[user] = {"cred": _make_cred(user), "umask": umask,
                            "socks": {}, "cwd": top_inode}
        try:
            value = _menios_step(vfs, actors[user], op, _subst(args, top))
            results.append(("ok", value))
        except OSError as exc:
            results.append(("err", errno.errorcode.get(exc.errno, exc.errno)))
        except Exception as exc:
            results.append(("exc", type(exc).__name__, str(exc)))
    return results


class Expect:
    """A step's expected outcome on the host: ``OK`` or ``E("EACCES")``.

    Put last in a step, it documents the scenario and checks that the host
    really behaves so (else the scenario would not test what it says).
    """

    def __init__(self, what):
        self.what = what

    def matches(self, result):
        return result[0] == self.what or (
            result[0] == "err" and result[1] == self.what)

    def __repr__(self):
        return self.what


OK = Expect("ok")


def E(name):
    assert name in errno.errorcode.values(), name
    return Expect(name)


def check(steps, top_mode=0o777, umask=0o022, chroot=False):
    """Run *steps* on the host and on menios; assert the same results.

    The test directory is *top_mode* (world-writable by default) and every
    user runs with *umask*.
    """
    expects = {}
    plain = []
    for i, step in enumerate(steps):
        if isinstance(step[-1], Expect):
            expects[i] = step[-1]
            step = step[:-1]
        plain.append(step)
    steps = plain
    host, top = run_host(steps, top_mode, umask, chroot)
    mine = run_menios(steps, top, top_mode, umask, chroot)
    bad = ["step %d %r: expected %r on the host, got %r"
           % (i, steps[i], exp, host[i])
           for i, exp in expects.items() if not exp.matches(host[i])]
    assert not bad, "\n".join(bad)

    def label(i):
        user, op, *args = steps[i]
        return "%d %s %s%r" % (i, user[0] if not isinstance(user[0], tuple)
                               else user[0], op, tuple(args))
    diffs = ["step %s: host %r, menios %r" % (label(i), h, m)
             for i, (h, m) in enumerate(zip(host, mine)) if h != m]
    assert not diffs, "\n".join(diffs)
    assert len(host) == len(mine) == len(steps)
    return host


# ===========================================================================
# Differential tests
# ===========================================================================

@needs_root
def test_bind_needs_write_and_search_on_parent():
    check([
        (ROOT, "mkdir", "rootdir", 0o755),
        (ALICE, "bind", "rootdir/s", E("EACCES")),    # no write
        (ALICE, "mkdir", "ro", 0o555),
        (ALICE, "bind", "ro/s", E("EACCES")),         # own dir, no w bit
        (ROOT, "mkdir", "wonly"),
        (ROOT, "chmod", "wonly", 0o776),              # w but no x for others
        (ALICE, "bind", "wonly/s", E("EACCES")),
        (ROOT, "chmod", "wonly", 0o773),              # w+x, no r: enough
        (ALICE, "bind", "wonly/s", OK),
        (ALICE, "stat", "wonly/s", OK),
        (ALICE, "bind", "missing/s", E("ENOENT")),
        (ALICE, "write", "file", b"x"),
        (ALICE, "bind", "file/s", E("ENOTDIR")),
        (ROOT, "bind", "rootdir/s", OK),
        (ROOT, "stat", "rootdir/s"),
        (ALICE, "connect", "rootdir/s", E("EACCES")),  # 0755 socket
    ])


@needs_root
def test_bind_address_in_use():
    check([
        (ALICE, "write", "f", b"data"),
        (ALICE, "bind", "f", E("EADDRINUSE")),        # a regular file
        (ALICE, "bind", "s", OK),
        (ALICE, "bind", "s", "s2", E("EADDRINUSE")),  # a live socket
        (ALICE, "close", "s"),
        (ALICE, "bind", "s", "s3", E("EADDRINUSE")),  # a dead socket's file
        (ALICE, "symlink", "nowhere", "dangling"),
        (ALICE, "bind", "dangling", E("EADDRINUSE")),  # not followed
        (ALICE, "lstat", "dangling"),
        (ALICE, "stat", "nowhere", E("ENOENT")),
        (ALICE, "mkdir", "d"),
        (ALICE, "bind", "d", E("EADDRINUSE")),
        (ALICE, "bind", "d/", E("EADDRINUSE")),
        (ALICE, "bind", "new/", E("ENOENT")),
        (ALICE, "bind", ".", E("EADDRINUSE")),
        (ALICE, "bind", "d/..", E("EADDRINUSE")),
        (ROOT, "mkdir", "locked", 0o755),
        (ROOT, "bind", "locked/s"),
        (ALICE, "bind", "locked/s", E("EADDRINUSE")),  # before EACCES
        (ALICE, "bind", "locked/t", E("EACCES")),
    ])


@needs_root
def test_connect_permissions():
    check([
        (ALICE, "bind", "s"),                         # umask 022: 0755
        (ALICE, "stat", "s"),
        (BOB, "connect", "s", E("EACCES")),           # no write permission
        (ALICE, "connect", "s", OK),
        (ROOT, "connect", "s", OK),
        (ALICE, "chmod", "s", 0o757),
        (BOB, "connect", "s", OK),
        (ALICE, "chmod", "s", 0o200),
        (ALICE, "connect", "s", OK),                  # w for owner only
        (BOB, "connect", "s", E("EACCES")),
        (ALICE, "mkdir", "priv", 0o700),
        (ALICE, "bind", "priv/s"),
        (ALICE, "chmod", "priv/s", 0o777),
        (BOB, "connect", "priv/s", E("EACCES")),      # no search on priv
        (ALICE, "chmod", "priv", 0o711),
        (BOB, "connect", "priv/s", OK),               # search is enough
        (BOB, "connect", "priv/s/x", E("ENOTDIR")),
        (BOB, "connect", "priv/s/", E("ENOTDIR")),
        (BOB, "connect", "priv/nothing", E("ENOENT")),
        (ALICE, "chmod", "priv", 0o766),
        (BOB, "connect", "priv/s", E("EACCES")),
        (BOB, "connect", "priv/s/x", E("EACCES")),
        (BOB, "connect", "nothing", E("ENOENT")),
        (ALICE, "write", "file", b""),
        (ALICE, "chmod", "file", 0o666),
        (BOB, "connect", "file", E("ECONNREFUSED")),  # not a socket
        (ALICE, "chmod", "file", 0o644),
        (BOB, "connect", "file", E("EACCES")),        # permission comes first
        (ALICE, "close", "priv/s"),
        (ALICE, "connect", "priv/s", E("ECONNREFUSED")),   # nobody bound
        (ALICE, "mkdir", "d"),
        (ALICE, "connect", "d", E("ECONNREFUSED")),
        (BOB, "connect", "d", E("EACCES")),
        (ROOT, "connect", "d", E("ECONNREFUSED")),
    ])


@needs_root
def test_connect_through_symlinks():
    check([
        (ALICE, "bind", "s"),
        (ALICE, "chmod", "s", 0o777),
        (ALICE, "symlink", "s", "link"),
        (BOB, "connect", "link", OK),
        (ALICE, "symlink", "{T}/s", "abslink"),
        (BOB, "connect", "abslink", OK),
        (ALICE, "mkdir", "d"),
        (ALICE, "symlink", "../s", "d/up"),
        (BOB, "connect", "d/up", OK),
        (ALICE, "symlink", "d", "dlink"),
        (BOB, "connect", "dlink/up", OK),
        (ALICE, "symlink", "loop2", "loop1"),
        (ALICE, "symlink", "loop1", "loop2"),
        (BOB, "connect", "loop1", E("ELOOP")),
        (BOB, "connect", "loop1/x", E("ELOOP")),
        (ALICE, "symlink", "missing", "dangle"),
        (BOB, "connect", "dangle", E("ENOENT")),
        (ALICE, "chmod", "d", 0o700),
        (BOB, "connect", "d/up", E("EACCES")),
        (BOB, "connect", "dlink/up", E("EACCES")),
        (ALICE, "lstat", "link"),
        (ALICE, "readlink", "abslink", OK),
        (ALICE, "readlink", "s", E("EINVAL")),
        (ALICE, "readlink", "missing", E("ENOENT")),
    ])


@needs_root
def test_symlink_limit():
    steps = [(ALICE, "write", "f", b"x")]
    prev = "f"
    for i in range(41):
        steps.append((ALICE, "symlink", prev, "l%d" % i))
        prev = "l%d" % i
    steps += [(ALICE, "stat", "l39", OK),             # 40 links: fine
              (ALICE, "stat", "l40", E("ELOOP")),     # 41: too many
              (ALICE, "lstat", "l40", OK),
              (ALICE, "open", "l40", os.O_RDONLY, E("ELOOP")),
              (ALICE, "mkdir", "d"),
              (ALICE, "symlink", "d", "m0")]
    prev = "m0"
    for i in range(1, 41):
        steps.append((ALICE, "symlink", prev, "m%d" % i))
        prev = "m%d" % i
    steps += [(ALICE, "stat", "m39/.", OK),
              (ALICE, "stat", "m40/.", E("ELOOP")),
              (ALICE, "bind", "m39/s", OK),
              (ALICE, "bind", "m40/s", E("ELOOP"))]
    check(steps)


@needs_root
def test_name_too_long():
    long = "n" * 256
    ok = "n" * 255
    deep = "./" * 2046 + "f"                          # 4093 bytes
    check([
        (ALICE, "write", "f", b""),
        (ALICE, "stat", long, E("ENAMETOOLONG")),
        (ALICE, "mkdir", long, E("ENAMETOOLONG")),
        (ALICE, "mkdir", ok, OK),
        (ALICE, "stat", ok, OK),
        (ALICE, "open", long, os.O_CREAT | os.O_WRONLY, E("ENAMETOOLONG")),
        (ALICE, "symlink", "f", long, E("ENAMETOOLONG")),
        (ALICE, "unlink", long, E("ENAMETOOLONG")),
        (ALICE, "rename", "f", long, E("ENAMETOOLONG")),
        (ALICE, "stat", long + "/x", E("ENAMETOOLONG")),
        (ALICE, "stat", "missing/" + long, E("ENOENT")),
        (ALICE, "stat", deep, OK),
        (ALICE, "stat", "./" + deep, OK),             # 4095 bytes
        (ALICE, "stat", "././" + deep, E("ENAMETOOLONG")),   # 4097
        (ALICE, "stat", "", E("ENOENT")),
        (ALICE, "mkdir", "closed", 0o600),
        (ALICE, "stat", "closed/" + long, E("EACCES")),
    ])


@needs_root
def test_trailing_slashes():
    check([
        (ALICE, "write", "f", b""),
        (ALICE, "mkdir", "d"),
        (ALICE, "symlink", "nowhere", "dang"),
        (ALICE, "symlink", "d", "ld"),
        (ALICE, "symlink", "f/", "lf"),
        (ALICE, "symlink", "new/", "ln"),
        (ALICE, "stat", "f/", E("ENOTDIR")),
        (ALICE, "stat", "d/", OK),
        (ALICE, "stat", "d//", OK),
        (ALICE, "lstat", "ld/", OK),                  # followed
        (ALICE, "stat", "lf", E("ENOTDIR")),          # slash in the target
        (ALICE, "stat", "dang/", E("ENOENT")),
        (ALICE, "mkdir", "x/", OK),
        (ALICE, "mkdir", "f/", E("EEXIST")),
        (ALICE, "mkdir", "dang/", E("EEXIST")),
        (ALICE, "symlink", "f", "y/", E("ENOENT")),
        (ALICE, "symlink", "f", "f/", E("EEXIST")),
        (ALICE, "link", "f", "z/", E("ENOENT")),
        (ALICE, "link", "f/", "z", E("ENOTDIR")),
        (ALICE, "link", "f", "d/", E("EEXIST")),
        (ALICE, "unlink", "f/", E("ENOTDIR")),
        (ALICE, "unlink", "d/", E("EISDIR")),
        (ALICE, "unlink", "ld/", E("ENOTDIR")),       # the link, not followed
        (ALICE, "unlink", "dang/", E("ENOTDIR")),
        (ALICE, "unlink", "nothing/", E("ENOENT")),
        (ALICE, "rmdir", "f/", E("ENOTDIR")),
        (ALICE, "rmdir", "ld/", E("ENOTDIR")),
        (ALICE, "rename", "f", "g/", E("ENOTDIR")),
        (ALICE, "rename", "f/", "g", E("ENOTDIR")),
        (ALICE, "rename", "ld/", "x", E("ENOTDIR")),
        (ALICE, "readlink", "ld/", E("EINVAL")),
        (ALICE, "open", "x/", os.O_CREAT | os.O_WRONLY, E("EISDIR")),
        (ALICE, "open", "f/", os.O_RDONLY, E("ENOTDIR")),
        (ALICE, "open", "d/", os.O_CREAT | os.O_RDONLY, E("EISDIR")),
        (ALICE, "open", "ln", os.O_CREAT | os.O_WRONLY, E("EISDIR")),
        (ALICE, "open", "ld/", os.O_RDONLY | os.O_NOFOLLOW, OK),
        (ALICE, "rename", "d/", "e/", OK),
        (ALICE, "stat", "e", OK),
        (ALICE, "rmdir", "e/", OK),
    ])


@needs_root
def test_dot_dot_and_relative_paths():
    check([
        (ALICE, "mkdir", "a"),
        (ALICE, "mkdir", "a/b"),
        (ALICE, "chdir", "a/b", OK),
        (ALICE, "getcwd"),
        (ALICE, "bind", "../s", OK),
        (ALICE, "stat", "../s", OK),
        (ALICE, "stat", "{T}/a/s", OK),
        (ALICE, "stat", "../../a/./b/../s", OK),
        (ALICE, "stat", "..///..//a", OK),
        (ALICE, "same", "/..", "/", OK),
        (ALICE, "same", "/../../tmp/..", "/", OK),
        (ALICE, "same", "../..", "{T}", OK),
        (ALICE, "connect", "../s", OK),
        (ALICE, "chdir", "..", OK),
        (ALICE, "getcwd"),
        (ALICE, "listdir", ".", OK),
        (ALICE, "mkdir", ".", E("EEXIST")),
        (ALICE, "mkdir", "..", E("EEXIST")),
        (ALICE, "mkdir", "/", E("EEXIST")),
        (ALICE, "unlink", ".", E("EISDIR")),
        (ALICE, "unlink", "..", E("EISDIR")),
        (ALICE, "rmdir", ".", E("EINVAL")),
        (ALICE, "rmdir", "b/.", E("EINVAL")),
        (ALICE, "rmdir", "..", E("ENOTEMPTY")),
        (ALICE, "rmdir", "/", E("EBUSY")),
        (ALICE, "rename", ".", "x", E("EBUSY")),
        (ALICE, "rename", "b", "..", E("EBUSY")),
        (ALICE, "rename", "b", "/", E("EBUSY")),
        (ALICE, "chdir", "b"),
        (ALICE, "rmdir", "../b", OK),                 # its own cwd
        (ALICE, "getcwd", E("ENOENT")),
        (ALICE, "stat", ".", OK),                     # nlink 0
        (ALICE, "mkdir", "new", E("ENOENT")),         # in a dead directory
        (ALICE, "open", "new", os.O_CREAT | os.O_WRONLY, E("ENOENT")),
        (ALICE, "bind", "s", E("ENOENT")),
        (ALICE, "symlink", "x", "l", E("ENOENT")),
        (ALICE, "listdir", ".", OK),
        (ALICE, "stat", "..", OK),
        (ALICE, "chdir", "..", OK),
        (ALICE, "getcwd", OK),
        (BOB, "chdir", "a"),
        (ALICE, "chmod", "{T}/a", 0o700),
        (BOB, "stat", ".", E("EACCES")),              # cwd not searchable
        (BOB, "stat", "..", E("EACCES")),
        (BOB, "getcwd", OK),
        (BOB, "chdir", "{T}", OK),
        (BOB, "chdir", "a", E("EACCES")),
        (ALICE, "write", "{T}/f", b""),
        (BOB, "chdir", "f", E("ENOTDIR")),
        (BOB, "chdir", "nope", E("ENOENT")),
    ])


@needs_root
def test_sticky_directory():
    check([
        (ROOT, "mkdir", "t"),
        (ROOT, "chmod", "t", 0o1777),
        (ALICE, "write", "t/af", b"a"),
        (ALICE, "bind", "t/as"),
        (ALICE, "mkdir", "t/ad"),
        (BOB, "write", "t/bf", b"b"),
        (BOB, "unlink", "t/af", E("EPERM")),
        (BOB, "unlink", "t/as", E("EPERM")),
        (BOB, "rmdir", "t/ad", E("EPERM")),
        (BOB, "rename", "t/af", "t/mine", E("EPERM")),
        (BOB, "rename", "t/bf", "t/af", E("EPERM")),  # replacing is deleting
        (BOB, "rename", "t/bf", "t/new", OK),
        (BOB, "link", "t/af", "t/hard"),              # protected_hardlinks
        (ALICE, "rename", "t/as", "t/as2", OK),
        (ALICE, "connect", "t/as2", OK),
        (BOB, "open", "t/as2", os.O_CREAT | os.O_RDONLY, E("EACCES")),
        (BOB, "open", "t/as2", os.O_RDONLY, E("ENXIO")),
        (BOB, "open", "t/af", os.O_CREAT | os.O_RDONLY),   # protected_regular
        (ROOT, "unlink", "t/as2", OK),                # CAP_FOWNER
        (ALICE, "connect", "t/as2", E("ENOENT")),
        (ALICE, "symlink", "af", "t/alink"),
        (BOB, "stat", "t/alink"),                     # protected_symlinks
        (ROOT, "stat", "t/alink"),
        (ROOT, "chown", "t", 1002, 1002),
        (CAROL, "unlink", "t/af", OK),                # the directory's owner
        (CAROL, "rmdir", "t/ad", OK),
        (CAROL, "listdir", "t"),
    ])


@needs_root
def test_sticky_top_directory_like_tmp():
    check([
        (ALICE, "bind", "s"),
        (BOB, "unlink", "s", E("EPERM")),
        (BOB, "rename", "s", "t", E("EPERM")),
        (ALICE, "unlink", "s", OK),
        (BOB, "bind", "s", OK),
        (ALICE, "stat", "s"),
    ], top_mode=0o1777)


@needs_root
def test_chmod_rules():
    check([
        (ALICE, "write", "f", b""),
        (BOB, "chmod", "f", 0o777, E("EPERM")),
        (ALICE, "chmod", "f", 0o4777, OK),
        (ALICE, "stat", "f"),
        (ALICE, "chmod", "f", 0o2755),                # own group: kept
        (ALICE, "stat", "f"),
        (ROOT, "chown", "f", -1, APP),
        (ALICE, "chmod", "f", 0o2755, OK),            # not in 2000: cleared
        (ALICE, "stat", "f"),
        (ROOT, "chmod", "f", 0o2755),                 # root: kept
        (ALICE, "stat", "f"),
        (ALICE, "chmod", "f", 0o170644),              # type bits ignored
        (ALICE, "stat", "f"),
        (ALICE, "mkdir", "d"),
        (ROOT, "chown", "d", -1, APP),
        (ALICE, "chmod", "d", 0o3777),                # dir: g+s cleared too
        (ALICE, "stat", "d"),
        (ALICE, "symlink", "f", "l"),
        (ALICE, "chmod", "l", 0o600, OK),             # follows the link
        (ALICE, "stat", "f"),
        (ALICE, "lstat", "l"),
        (ALICE, "bind", "s"),
        (BOB, "chmod", "s", 0o777, E("EPERM")),
        (ALICE, "chmod", "s", 0o700, OK),
        (ALICE, "stat", "s"),
        (ROOT, "chmod", "s", 0o777, OK),
        (ALICE, "chmod", "missing", 0o777, E("ENOENT")),
    ])


@needs_root
def test_chown_rules():
    check([
        (CAROL, "write", "f", b""),
        (CAROL, "chown", "f", 1000, -1, E("EPERM")),  # only root gives away
        (CAROL, "chown", "f", 1002, -1, OK),          # to herself: fine
        (CAROL, "chown", "f", -1, APP, OK),           # a group she is in
        (CAROL, "stat", "f"),
        (CAROL, "chown", "f", -1, 1000, E("EPERM")),  # not her group
        (CAROL, "chown", "f", -1, -1, OK),
        (BOB, "chown", "f", -1, -1, OK),              # nothing to change
        (BOB, "chown", "f", -1, 1001, E("EPERM")),
        (CAROL, "chmod", "f", 0o6755),
        (CAROL, "stat", "f"),
        (CAROL, "chown", "f", -1, -1, OK),            # clears suid, sgid+x
        (CAROL, "stat", "f"),
        (CAROL, "chmod", "f", 0o6745),
        (BOB, "chown", "f", -1, -1, E("EPERM")),      # suid to clear
        (CAROL, "chown", "f", -1, 1002),              # sgid without g+x kept
        (CAROL, "stat", "f"),
        (ROOT, "chmod", "f", 0o6755),
        (ROOT, "chown", "f", 1000, 1000, OK),         # root clears them too
        (ROOT, "stat", "f"),
        (ROOT, "chmod", "f", 0o2745),
        (ROOT, "chown", "f", 1002, 1002),
        (ROOT, "stat", "f"),
        (CAROL, "chown", "f", -1, APP),
        (CAROL, "stat", "f"),
        (ROOT, "chown", "f", 1000, APP),
        (ALICE, "chown", "f", -1, -1, OK),            # non-member: sgid goes
        (ALICE, "stat", "f"),
        (CAROL, "mkdir", "d"),
        (CAROL, "chmod", "d", 0o6755),
        (CAROL, "chown", "d", -1, APP),               # dirs keep their bits
        (CAROL, "stat", "d"),
        (CAROL, "bind", "s"),
        (CAROL, "chown", "s", -1, APP, OK),
        (CAROL, "stat", "s"),
        (CAROL, "symlink", "s", "l"),
        (CAROL, "lchown", "l", -1, APP, OK),
        (CAROL, "lstat", "l"),
        (BOB, "chown", "l", -1, -1, OK),
        (ROOT, "chown", "l", 1001, 1001, OK),         # follows to s
        (ROOT, "stat", "s"),
        (ROOT, "lstat", "l"),
        (ROOT, "chown", "missing", 0, 0, E("ENOENT")),
    ])


@needs_root
def test_rename_and_unlink_socket_files():
    check([
        (ALICE, "bind", "s"),
        (ALICE, "rename", "s", "t", OK),
        (ALICE, "connect", "t", OK),
        (ALICE, "connect", "s", E("ENOENT")),
        (ALICE, "stat", "t"),
        (ALICE, "bind", "s", "second", OK),           # the old name is free
        (ALICE, "connect", "s", OK),
        (ALICE, "unlink", "t", OK),
        (ALICE, "connect", "t", E("ENOENT")),
        (ALICE, "stat", "t", E("ENOENT")),
        (ALICE, "listdir", "."),
        (ALICE, "bind", "t", "third", OK),
        (ALICE, "link", "t", "t2", OK),
        (ALICE, "stat", "t"),                         # nlink 2
        (ALICE, "connect", "t2", OK),
        (BOB, "link", "t", "t3", E("EPERM")),         # protected_hardlinks
        (ALICE, "rename", "t", "t2", OK),             # same inode: no-op
        (ALICE, "stat", "t", OK),
        (ALICE, "stat", "t2"),
        (ALICE, "mkdir", "d"),
        (ALICE, "rename", "t2", "d/moved", OK),
        (ALICE, "connect", "d/moved", OK),
        (ALICE, "rename", "d/moved", "d", E("ENOTEMPTY")),  # d holds it
        (ALICE, "rename", "t", "d", E("EISDIR")),
        (ALICE, "rename", "d", "t", E("ENOTDIR")),
        (ALICE, "rename", "t", "s", OK),              # replaces a socket
        (ALICE, "connect", "s", OK),
        (ALICE, "stat", "s"),
        (ALICE, "unlink", "s", OK),
        (ALICE, "unlink", "d/moved", OK),
        (ALICE, "listdir", ".", OK),
        (ALICE, "bind", "s", "fourth", OK),
    ])


@needs_root
def test_rename_directories():
    check([
        (ALICE, "mkdir", "a"),
        (ALICE, "mkdir", "a/b"),
        (ALICE, "mkdir", "a/b/c"),
        (ALICE, "mkdir", "e"),
        (ALICE, "write", "f", b"x"),
        (ALICE, "rename", "a", "a/b/c/d", E("EINVAL")),
        (ALICE, "rename", "a", "a/x", E("EINVAL")),
        (ALICE, "rename", "a/b/c", "a", E("ENOTEMPTY")),   # an ancestor
        (ALICE, "rename", "e", "a", E("ENOTEMPTY")),
        (ALICE, "rename", "a", "e", OK),              # replaces an empty dir
        (ALICE, "stat", "a", E("ENOENT")),
        (ALICE, "stat", "e"),
        (ALICE, "stat", "e/b"),
        (ALICE, "rename", "e/b/c", "c", OK),
        (ALICE, "stat", "e/b"),                       # nlink drops
        (ALICE, "stat", "."),
        (ALICE, "rename", "f", "c", E("EISDIR")),
        (ALICE, "rename", "c", "f", E("ENOTDIR")),
        (ALICE, "rename", "c", "c", OK),
        (ALICE, "rename", "missing", "x", E("ENOENT")),
        (ALICE, "rename", "f", "missing/x", E("ENOENT")),
        (ALICE, "rename", "missing", "f/x", E("ENOTDIR")),   # new parent first
        (ROOT, "mkdir", "e/rootsub", 0o755),
        (ALICE, "rename", "e/rootsub", "rs", E("EACCES")),   # its ".." changes
        (ALICE, "rename", "e/rootsub", "e/rs", OK),   # same parent: fine
        (ALICE, "stat", "e/rs"),
        (ALICE, "chmod", "e", 0o555),
        (ALICE, "rename", "c", "e/c", E("EACCES")),
        (ALICE, "rename", "e/b", "b", E("EACCES")),
        (ROOT, "rename", "e/b", "b", OK),
        (ALICE, "listdir", "."),
    ])


@needs_root
def test_supplementary_groups():
    check([
        (ROOT, "mkdir", "g"),
        (ROOT, "chmod", "g", 0o770),
        (ROOT, "chown", "g", 0, APP),
        (CAROL, "bind", "g/carol", OK),
        (DAVE, "bind", "g/dave", OK),                 # 2000 among several
        (ALICE, "bind", "g/alice", E("EACCES")),
        (CAROL, "stat", "g/dave", OK),
        (ALICE, "stat", "g/dave", E("EACCES")),
        (CAROL, "connect", "g/dave", E("EACCES")),    # 0755 socket
        (DAVE, "chmod", "g/dave", 0o775),
        (CAROL, "connect", "g/dave", E("EACCES")),    # group is dave's own
        (DAVE, "chown", "g/dave", -1, APP, OK),
        (CAROL, "connect", "g/dave", OK),
        (ALICE, "connect", "g/dave", E("EACCES")),
        (ROOT, "chmod", "g", 0o707),                  # group excluded
        (CAROL, "stat", "g/dave", E("EACCES")),       # group bits apply
        (ALICE, "stat", "g/dave", OK),                # other bits apply
        (ROOT, "chmod", "g", 0o2770),
        (CAROL, "mkdir", "g/sub", OK),                # gid, S_ISGID inherited
        (CAROL, "stat", "g/sub"),
        (CAROL, "open", "g/f", os.O_CREAT | os.O_WRONLY, 0o2777),
        (CAROL, "stat", "g/f"),
        (CAROL, "bind", "g/s2", OK),
        (CAROL, "stat", "g/s2"),
        (ROOT, "chmod", "g", 0o2777),
        (ALICE, "open", "g/af", os.O_CREAT | os.O_WRONLY, 0o2777),
        (ALICE, "stat", "g/af"),                      # not a member: no sgid
        (ALICE, "open", "g/af2", os.O_CREAT | os.O_WRONLY, 0o2747),
        (ALICE, "stat", "g/af2"),                     # no g+x: kept
        (ALICE, "bind", "g/as"),
        (ALICE, "stat", "g/as"),
        (ALICE, "symlink", "as", "g/al"),
        (ALICE, "lstat", "g/al"),
    ])


@needs_root
def test_root_daemon_in_app_group_directory():
    """The README scenario: root binds in a 0750 dir of group app (2000)."""
    check([
        (ROOT, "mkdir", "app", 0o750),
        (ROOT, "chown", "app", 0, APP),
        (ROOT, "bind", "app/daemon.sock", OK),
        (ROOT, "chmod", "app/daemon.sock", 0o770),
        (ROOT, "chown", "app/daemon.sock", 0, APP),
        (CAROL, "connect", "app/daemon.sock", OK),    # member of app
        (DAVE, "connect", "app/daemon.sock", OK),
        (ALICE, "connect", "app/daemon.sock", E("EACCES")),   # not a member
        (BOB, "stat", "app/daemon.sock", E("EACCES")),
        (CAROL, "stat", "app/daemon.sock", OK),
        (CAROL, "bind", "app/other", E("EACCES")),    # no write on app
        (CAROL, "unlink", "app/daemon.sock", E("EACCES")),
    ])


@needs_root
def test_open_flags():
    C, X, W, R = os.O_CREAT, os.O_EXCL, os.O_WRONLY, os.O_RDONLY
    check([
        (ALICE, "open", "f", C | W, 0o640, OK),
        (ALICE, "stat", "f"),
        (ALICE, "open", "f", C | X | W, E("EEXIST")),
        (ALICE, "symlink", "target", "dang"),
        (ALICE, "open", "dang", C | X | W, E("EEXIST")),   # not followed
        (ALICE, "open", "dang", C | W, 0o600, OK),    # creates the target
        (ALICE, "stat", "target", OK),
        (ALICE, "open", "dang", R | os.O_NOFOLLOW, E("ELOOP")),
        (ALICE, "open", "f", R | os.O_DIRECTORY, E("ENOTDIR")),
        (ALICE, "open", "missing", R | os.O_DIRECTORY, E("ENOENT")),
        (ALICE, "open", "new", C | os.O_DIRECTORY, E("EINVAL")),
        (ALICE, "mkdir", "d"),
        (ALICE, "open", "d", W, E("EISDIR")),
        (ALICE, "open", "d", os.O_RDWR, E("EISDIR")),
        (ALICE, "open", "d", R | os.O_TRUNC, E("EISDIR")),
        (ALICE, "open", "d", R, OK),
        (ALICE, "open", "d", C | R, E("EISDIR")),
        (ALICE, "open", ".", C | X | R, E("EEXIST")),
        (ALICE, "read", "d", E("EISDIR")),
        (ALICE, "bind", "s"),
        (ALICE, "open", "s", R, E("ENXIO")),
        (ALICE, "open", "s", C | R, E("ENXIO")),
        (BOB, "open", "s", W, E("EACCES")),           # before ENXIO
        (ALICE, "write", "f", b"hello", OK),
        (ALICE, "read", "f", OK),
        (BOB, "read", "f", E("EACCES")),              # 0640
        (ROOT, "read", "f", OK),
        (BOB, "open", "f", R | os.O_TRUNC, E("EACCES")),
        (ALICE, "open", "f", R | os.O_TRUNC, OK),     # truncates
        (ALICE, "stat", "f"),
        (ALICE, "write", "f", b"abc", W | os.O_APPEND),
        (ALICE, "write", "f", b"def", W | os.O_APPEND),
        (ALICE, "read", "f"),
        (ALICE, "write", "f", b"X", W),
        (ALICE, "read", "f"),
        (ALICE, "chmod", "f", 0o6755),
        (ALICE, "write", "f", b"Y", W),               # kills suid and sgid
        (ALICE, "stat", "f"),
        (ALICE, "chmod", "f", 0o200),
        (ALICE, "open", "f", os.O_RDWR, E("EACCES")),
        (ALICE, "open", "f", 3, E("EACCES")),         # O_ACCMODE 3
        (ALICE, "mkdir", "ro", 0o500),
        (ALICE, "open", "ro/x", C | W, E("EACCES")),
        (ROOT, "open", "ro/x", C | W, 0o4777, OK),
        (ROOT, "stat", "ro/x"),
        (ALICE, "open", "ro/x", C | R, OK),           # exists: no w needed
        (ALICE, "open", "", R, E("ENOENT")),
    ])


@needs_root
def test_access_uses_real_ids():
    check([
        (ROOT, "write", "secret", b"s"),
        (ROOT, "chmod", "secret", 0o600),
        (SUID_ROOT_ALICE, "read", "secret", OK),      # euid 0
        (SUID_ROOT_ALICE, "access", "secret", os.R_OK, E("EACCES")),  # ruid
        (SUID_ROOT_ALICE, "access", "secret", os.F_OK, OK),
        (ALICE, "access", "secret", os.R_OK, E("EACCES")),
        (ROOT, "access", "secret", os.R_OK | os.W_OK, OK),
        (ROOT, "access", "secret", os.X_OK, E("EACCES")),   # no x bit at all
        (ROOT, "chmod", "secret", 0o601),
        (ROOT, "access", "secret", os.X_OK, OK),
        (ALICE, "access", "secret", os.X_OK, OK),
        (ALICE, "access", "missing", os.F_OK, E("ENOENT")),
        (ALICE, "access", "secret", 8, E("EINVAL")),
        (ROOT, "mkdir", "d", 0o700),
        (ROOT, "access", "d", os.X_OK, OK),
        (SUID_ROOT_ALICE, "stat", "d/x", E("ENOENT")),
        (SUID_ROOT_ALICE, "access", "d/x", os.F_OK, E("EACCES")),  # walk too
    ])


@needs_root
def test_listdir_and_directory_permissions():
    check([
        (ALICE, "mkdir", "d", 0o755),
        (ALICE, "write", "d/f", b""),
        (ALICE, "bind", "d/s"),
        (ALICE, "symlink", "f", "d/l"),
        (BOB, "listdir", "d", OK),
        (ALICE, "chmod", "d", 0o711),
        (BOB, "listdir", "d", E("EACCES")),           # needs read
        (BOB, "stat", "d/s", OK),
        (ALICE, "chmod", "d", 0o744),
        (BOB, "listdir", "d", OK),                    # read without search
        (BOB, "stat", "d/s", E("EACCES")),
        (ALICE, "listdir", "d/f", E("ENOTDIR")),
        (ALICE, "rmdir", "d", E("ENOTEMPTY")),
        (BOB, "rmdir", "d", E("ENOTEMPTY")),
        (ALICE, "unlink", "d/l", OK),
        (ALICE, "unlink", "d/s", OK),
        (ALICE, "unlink", "d/f", OK),
        (ALICE, "rmdir", "d/f", E("ENOENT")),
        (ALICE, "rmdir", "d", OK),
        (ALICE, "rmdir", "d", E("ENOENT")),
        (ALICE, "mkdir", "d2"),
        (ALICE, "mkdir", "d2/d3"),
        (ALICE, "stat", "d2"),
        (ALICE, "chmod", "d2", 0o555),
        (ALICE, "rmdir", "d2/d3", E("EACCES")),
        (ALICE, "unlink", "d2", E("EISDIR")),
        (ROOT, "rmdir", "d2/d3", OK),
        (ALICE, "stat", "d2"),
    ])


@needs_root
def test_link_rules():
    check([
        (ALICE, "write", "f", b"x"),
        (ALICE, "link", "f", "g", OK),
        (ALICE, "stat", "f"),
        (ALICE, "link", "f", "g", E("EEXIST")),
        (ALICE, "link", "missing", "h", E("ENOENT")),
        (ALICE, "mkdir", "d"),
        (ALICE, "link", "d", "dd", E("EPERM")),
        (ALICE, "symlink", "f", "l"),
        (ALICE, "link", "l", "l2", OK),               # links the symlink
        (ALICE, "lstat", "l2"),
        (ALICE, "chmod", "f", 0o644),
        (BOB, "link", "f", "bobs"),                   # protected_hardlinks
        (ALICE, "chmod", "f", 0o666),
        (ALICE, "mkdir", "pub"),
        (ALICE, "chmod", "pub", 0o777),
        (BOB, "link", "f", "pub/bobs", OK),           # a safe source
        (ALICE, "chmod", "f", 0o4666),
        (BOB, "link", "f", "pub/bobs2"),              # setuid: unsafe
        (ROOT, "link", "f", "pub/rootlink", OK),
        (ALICE, "stat", "f"),
        (ALICE, "unlink", "g", OK),
        (ALICE, "stat", "f"),
        (ALICE, "chmod", "pub", 0o755),
        (BOB, "link", "pub/bobs", "pub/again", E("EPERM")),   # before EACCES
        (ALICE, "chmod", "f", 0o666),
        (BOB, "link", "pub/bobs", "pub/again", E("EACCES")),
    ])


@needs_root
def test_absolute_paths():
    check([
        (ALICE, "mkdir", "{T}/d", OK),
        (ALICE, "bind", "{T}/d/s", OK),
        (ALICE, "stat", "{T}/d/s"),
        (ALICE, "connect", "{T}//d///s", OK),
        (ALICE, "rename", "{T}/d/s", "{T}/s", OK),
        (ALICE, "listdir", "{T}"),
        (ALICE, "chdir", "{T}/d"),
        (ALICE, "getcwd"),
        (ALICE, "same", "/tmp/../tmp/./", "/tmp", OK),
        (ALICE, "mkdir", "/tmp/..", E("EEXIST")),
        (ALICE, "bind", "/tmp", E("EADDRINUSE")),
        (ALICE, "unlink", "{T}/s", OK),
    ])


@needs_root
def test_umask_applies_to_bind_mkdir_and_open():
    check([
        (ALICE, "bind", "s"),
        (ALICE, "stat", "s"),
        (ALICE, "mkdir", "d", 0o777),
        (ALICE, "stat", "d"),
        (ALICE, "open", "f", os.O_CREAT | os.O_WRONLY, 0o666),
        (ALICE, "stat", "f"),
        (BOB, "connect", "s", E("EACCES")),
        (BOB, "stat", "d/x", E("EACCES")),
    ], umask=0o077)


# ===========================================================================
# Unit tests
# ===========================================================================

ROOTC = Cred()


def user(uid=1000, gid=1000, groups=()):
    return Cred(uid, gid, groups)


@pytest.fixture
def vfs():
    return VFS()


def test_initial_layout(vfs):
    assert vfs.listdir(ROOTC, None, "/") == ["dev", "tmp"]
    st = vfs.stat(ROOTC, None, "/")
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o755
    assert (st.st_uid, st.st_gid, st.st_nlink) == (0, 0, 4)
    assert stat.S_IMODE(vfs.stat(ROOTC, None, "/tmp").st_mode) == 0o1777
    assert stat.S_IMODE(vfs.stat(ROOTC, None, "/dev").st_mode) == 0o755
    assert vfs.root.parent is vfs.root
    assert vfs.path_of(vfs.root) == "/"


def test_stat_result_fields(vfs):
    f = vfs.open(ROOTC, None, "/tmp/f", os.O_CREAT | os.O_WRONLY, 0o644, 0)
    f.write(b"x" * 5000)
    st = vfs.stat(ROOTC, None, "/tmp/f")
    assert isinstance(st, os.stat_result)
    assert st.st_size == 5000 and st.st_blksize == 4096 and st.st_blocks == 16
    assert st.st_dev == vfs.stat(ROOTC, None, "/").st_dev
    assert st.st_ino == f.inode.ino
    assert st.st_mtime == f.inode.mtime and st.st_rdev == 0
    assert f.fstat() == st


def test_inode_numbers_increase(vfs):
    a = vfs.mkdir(ROOTC, None, "/a")
    b = vfs.mknod_socket(ROOTC, None, "/b", 0o755)
    c = vfs.symlink(ROOTC, None, "a", "/c")
    assert a.ino < b.ino < c.ino
    assert len({vfs.root.ino, a.ino, b.ino, c.ino}) == 4


def test_errors_are_two_argument_oserrors(vfs):
    with pytest.raises(FileNotFoundError) as info:
        vfs.stat(ROOTC, None, "/nope")
    assert info.value.args == (errno.ENOENT, os.strerror(errno.ENOENT))
    assert info.value.filename is None
    vfs.open(ROOTC, None, "/f", os.O_CREAT | os.O_WRONLY).release()
    with pytest.raises(NotADirectoryError):
        vfs.stat(ROOTC, None, "/dev/../f/x")
    vfs.mknod_socket(ROOTC, None, "/s", 0o777)
    with pytest.raises(OSError) as info:
        vfs.mknod_socket(ROOTC, None, "/s", 0o777)
    assert info.value.errno == errno.EADDRINUSE


def test_path_types(vfs):
    vfs.mkdir(ROOTC, None, b"/bytes")
    vfs.mkdir(ROOTC, None, bytearray(b"/ba"))
    vfs.mkdir(ROOTC, None, memoryview(b"/mv"))
    import pathlib
    vfs.mkdir(ROOTC, None, pathlib.PurePosixPath("/pp"))
    assert vfs.listdir(ROOTC, None, "/")[-4:] == ["bytes", "ba", "mv", "pp"]
    assert vfs.listdir(ROOTC, None, b"/")[-1] == b"pp"
    with pytest.raises(ValueError):
        vfs.stat(ROOTC, None, "/a\0b")
    with pytest.raises(TypeError):
        vfs.stat(ROOTC, None, 42)


def test_permission_classes(vfs):
    inode = vfs.mknod_socket(ROOTC, None, "/s", 0o000)
    inode.uid, inode.gid = 1000, 2000
    alice, member, other = user(1000), user(1002, 1002, (2000,)), user(1001)
    inode.mode = stat.S_IFSOCK | 0o077          # owner class denies owner
    assert not vfs.may(alice, inode, MAY_WRITE)
    assert vfs.may(member, inode, MAY_WRITE)
    inode.mode = stat.S_IFSOCK | 0o707          # group class denies member
    assert not vfs.may(member, inode, MAY_READ)
    assert vfs.may(other, inode, MAY_READ)
    assert vfs.may(ROOTC, inode, MAY_READ | MAY_WRITE)
    inode.mode = stat.S_IFREG | 0o666
    assert not vfs.may(ROOTC, inode, MAY_EXEC)   # root needs an x bit
    inode.mode = stat.S_IFREG | 0o001
    assert vfs.may(ROOTC, inode, MAY_EXEC)
    d = vfs.mkdir(ROOTC, None, "/d", 0o000)
    assert vfs.may(ROOTC, d, MAY_EXEC | MAY_WRITE | MAY_READ)
    with pytest.raises(PermissionError):
        vfs.permission(other, d, MAY_EXEC)


def test_open_socket_inode_is_the_full_walk(vfs):
    """open_socket_inode answers the common path in one pass: for every
    path and caller it must give what the general walk (lookup, then
    write permission on the inode) gives, inode or errno."""
    alice, bob, carol = user(1000), user(1001), user(1002, 1002, (APP,))
    vfs.mkdir(ROOTC, None, "/a", 0o777, 0)
    vfs.mkdir(alice, None, "/a/priv", 0o700, 0)
    vfs.mknod_socket(alice, None, "/a/priv/s", 0o777)
    vfs.mknod_socket(alice, None, "/a/s", 0o755)
    vfs.mknod_socket(alice, None, "/a/w", 0o757)
    vfs.symlink(alice, None, "s", "/a/link")
    vfs.symlink(alice, None, "priv", "/a/dlink")
    vfs.open(alice, None, "/a/file", os.O_CREAT | os.O_WRONLY, 0o666, 0).release()
    vfs.mkdir(ROOTC, None, "/a/g", 0o770, 0)
    vfs.chown(ROOTC, None, "/a/g", 0, APP)
    vfs.mknod_socket(ROOTC, None, "/a/g/s", 0o777)
    vfs.mkdir(ROOTC, None, "/a/x", 0o766, 0)       # no search for others
    vfs.mknod_socket(ROOTC, None, "/a/x/s", 0o777)
    vfs.chmod(ROOTC, None, "/a", 0o755)
    a = vfs.lookup(ROOTC, None, "/a")
    paths = [b"/a/s", b"a/s", b"s", b"//a///s", b"/a/./s", b"/a/../a/s",
             b"/a/link", b"/a/dlink/s", b"/a/s/", b"/a/s/x", b"/a/priv/s",
             b"priv/s", b"/a/nothing", b"/a/file", b"/a/g/s", b"/a/x/s",
             b"/a/w", b"/a", b"/", b"", b"/a/" + b"n" * 300,
             b"/" * 5000 + b"a/w", "/a/w", b"/a/w\0"]

    def outcome(call):
        try:
            return "ok", call()
        except OSError as e:
            return "err", e.errno
        except ValueError:
            return "err", "ValueError"

    def full_walk(cred, cwd, path):
        inode = vfs.lookup(cred, cwd, path)
        vfs.permission(cred, inode, MAY_WRITE)
        return inode

    seen = set()
    for cred in (ROOTC, alice, bob, carol):
        for cwd in (None, a):
            for path in paths:
                got = outcome(lambda: vfs.open_socket_inode(cred, cwd, path))
                assert got == outcome(lambda: full_walk(cred, cwd, path)), (
                    cred.fsuid, cwd, path)
                seen.add(got[0] if got[0] == "ok" else got[1])
    assert seen == {"ok", errno.EACCES, errno.ENOENT, errno.ENOTDIR,
                    errno.ENAMETOOLONG, "ValueError"}
    assert vfs.open_socket_inode(carol, None, b"/a/w") is vfs.lookup(ROOTC, None, "/a/w")
    with pytest.raises(PermissionError):
        vfs.open_socket_inode(bob, None, b"/a/s")


def test_bind_mode_owner_and_setgid_parent(vfs):
    d = vfs.mkdir(ROOTC, None, "/tmp/g", 0o777, 0)
    vfs.chown(ROOTC, None, "/tmp/g", 0, 2000)
    vfs.chmod(ROOTC, None, "/tmp/g", 0o2777)
    s = vfs.mknod_socket(user(), d, "s", 0o777 & ~0o022)
    st = vfs.lstat(user(), d, "s")
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o755
    assert (st.st_uid, st.st_gid, st.st_nlink) == (1000, 2000, 1)
    assert s.sock is None


def test_unlink_and_rename_keep_socket_inode(vfs):
    alice = user()
    tmp = vfs.lookup(alice, None, "/tmp")
    s = vfs.mknod_socket(alice, tmp, "s", 0o755)
    s.sock = marker = object()
    vfs.rename(alice, tmp, "s", "t")
    assert vfs.open_socket_inode(alice, tmp, "t") is s
    assert vfs.lookup(alice, None, "/tmp/t").sock is marker
    with pytest.raises(FileNotFoundError):
        vfs.open_socket_inode(alice, tmp, "s")
    s2 = vfs.mknod_socket(alice, tmp, "s", 0o755)
    assert s2 is not s and s2.sock is None
    vfs.link(alice, tmp, "t", "t2")
    assert s.nlink == 2 and vfs.open_socket_inode(alice, tmp, "t2") is s
    assert vfs.unlink(alice, tmp, "t") is s
    assert vfs.unlink(alice, tmp, "t2") is s
    assert s.nlink == 0 and s.sock is marker
    assert vfs.listdir(alice, tmp, ".") == ["s"]


def test_times_follow_changes(vfs):
    tmp = vfs.lookup(ROOTC, None, "/tmp")
    tmp.mtime = tmp.ctime = 0.0
    s = vfs.mknod_socket(ROOTC, tmp, "s", 0o755)
    assert tmp.mtime == tmp.ctime >= s.ctime - 1 > 0
    s.ctime = tmp.mtime = 0.0
    vfs.chmod(ROOTC, tmp, "s", 0o700)
    assert s.ctime > 0 and tmp.mtime == 0.0
    s.ctime = 0.0
    vfs.rename(ROOTC, tmp, "s", "t")
    assert s.ctime > 0 and tmp.mtime > 0
    s.ctime = tmp.mtime = 0.0
    vfs.unlink(ROOTC, tmp, "t")
    assert s.ctime > 0 and tmp.mtime > 0
    f = vfs.open(ROOTC, tmp, "f", os.O_CREAT | os.O_RDWR)
    f.inode.mtime = 0.0
    f.write(b"x")
    assert f.inode.mtime > 0


def test_directory_link_counts(vfs):
    tmp = vfs.lookup(ROOTC, None, "/tmp")
    assert tmp.nlink == 2
    a = vfs.mkdir(ROOTC, tmp, "a")
    vfs.mkdir(ROOTC, tmp, "a/b")
    assert (tmp.nlink, a.nlink) == (3, 3)
    vfs.rename(ROOTC, tmp, "a/b", "b")
    assert (tmp.nlink, a.nlink) == (4, 2)
    vfs.rename(ROOTC, tmp, "b", "a")              # replaces empty a
    assert tmp.nlink == 3 and a.dead and a.nlink == 0
    assert vfs.path_of(vfs.lookup(ROOTC, tmp, "a")) == "/tmp/a"
    with pytest.raises(FileNotFoundError):
        vfs.path_of(a)


def test_openfile_read_write_seek(vfs):
    tmp = vfs.lookup(ROOTC, None, "/tmp")
    f = vfs.open(ROOTC, tmp, "f", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC)
    assert f.flags == os.O_RDWR
    assert f.write(b"hello world") == 11
    assert f.lseek(0, os.SEEK_CUR) == 11
    assert f.lseek(-5, os.SEEK_END) == 6
    assert f.read(100) == b"world" and f.read(10) == b""
    assert f.lseek(20) == 20
    f.write(b"!")
    assert f.inode.size == 21 and f.inode.data.read(11, 9) == bytes(9)
    with pytest.raises(OSError) as info:
        f.lseek(-1, os.SEEK_SET)
    assert info.value.errno == errno.EINVAL
    with pytest.raises(OSError) as info:
        f.lseek(0, 99)
    assert info.value.errno == errno.EINVAL
    r = vfs.open(ROOTC, tmp, "f", os.O_RDONLY | os.O_NONBLOCK)
    assert r.flags == os.O_RDONLY | os.O_NONBLOCK
    with pytest.raises(OSError) as info:
        r.write(b"x")
    assert info.value.errno == errno.EBADF
    w = vfs.open(ROOTC, tmp, "f", os.O_WRONLY | os.O_APPEND)
    with pytest.raises(OSError) as info:
        w.read(1)
    assert info.value.errno == errno.EBADF
    w.write(b"?")
    assert f.inode.data.read(f.inode.size - 2, 2) == b"!?"
    d = vfs.open(ROOTC, tmp, ".", os.O_RDONLY | os.O_DIRECTORY)
    with pytest.raises(IsADirectoryError):
        d.read(1)
    d.release()


def test_protected_sysctls():
    for value in (0, 1):
        vfs = VFS(sysctl={"fs.protected_symlinks": value,
                          "fs.protected_hardlinks": value,
                          "net.unix.max_dgram_qlen": 10})
        alice, bob = user(1000), user(1001)
        tmp = vfs.lookup(ROOTC, None, "/tmp")
        s = vfs.mknod_socket(alice, tmp, "s", 0o777)
        vfs.symlink(alice, tmp, "s", "link")
        if value:
            with pytest.raises(PermissionError):
                vfs.open_socket_inode(bob, tmp, "link")
            with pytest.raises(PermissionError):
                vfs.link(bob, tmp, "s", "hard")
        else:
            assert vfs.open_socket_inode(bob, tmp, "link") is s
            vfs.link(bob, tmp, "s", "hard")
        assert vfs.open_socket_inode(alice, tmp, "link") is s


def test_protected_regular_and_sticky_create():
    for value, expect in ((0, None), (1, errno.EACCES), (2, errno.EACCES)):
        vfs = VFS(sysctl={"fs.protected_regular": value})
        alice, bob = user(1000), user(1001)
        tmp = vfs.lookup(ROOTC, None, "/tmp")
        vfs.open(alice, tmp, "f", os.O_CREAT | os.O_WRONLY, 0o666, 0)
        try:
            vfs.open(bob, tmp, "f", os.O_CREAT | os.O_WRONLY)
            got = None
        except OSError as exc:
            got = exc.errno
        assert got == expect
        # root is not exempt; the file's owner and the dir's owner are
        assert vfs.open(alice, tmp, "f", os.O_CREAT | os.O_RDONLY)
        g = vfs.mkdir(ROOTC, None, "/g")
        vfs.chmod(ROOTC, None, "/g", 0o1770)       # group-writable only
        vfs.chown(ROOTC, None, "/g", 0, APP)
        alice = user(1000, 1000, (APP,))
        vfs.open(alice, g, "f", os.O_CREAT | os.O_WRONLY, 0o666, 0)
        try:
            vfs.open(ROOTC, g, "f", os.O_CREAT | os.O_WRONLY)
            got = None
        except OSError as exc:
            got = exc.errno
        assert got == (errno.EACCES if value == 2 else None)


def test_concurrent_binds_and_unlinks_stay_consistent(vfs):
    import threading
    tmp = vfs.lookup(ROOTC, None, "/tmp")

    def worker(n):
        for i in range(200):
            name = "s%d-%d" % (n, i % 5)
            try:
                vfs.mknod_socket(ROOTC, tmp, name, 0o777)
            except OSError as exc:
                assert exc.errno == errno.EADDRINUSE
            try:
                vfs.rename(ROOTC, tmp, name, "x%d" % (i % 3))
                vfs.unlink(ROOTC, tmp, "x%d" % (i % 3))
            except FileNotFoundError:
                pass
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for inode in tmp.children.values():
        assert inode.nlink == 1
    assert tmp.nlink == 2


# -- random sequences --------------------------------------------------------

_FUZZ_NAMES = ["a", "b", "d", "d/x", "d/y", "e", "e/z", "l", "d/..", ".",
               "a/", "d/", "l/", "t/s", "t", "t/u", "d/x/q", "l/x", "../a",
               "e//z/", "d/../b", "m", "m/s", "/a", "/d/x"]
_FUZZ_USERS = [ROOT, ALICE, BOB, CAROL, DAVE, SUID_ROOT_ALICE]
_FUZZ_MODES = [0o755, 0o700, 0o777, 0o1777, 0o2775, 0o644, 0o600, 0o000,
               0o311, 0o666, 0o4755, 0o2745]
_FUZZ_OPS = ["mkdir", "bind", "bind", "connect", "connect", "unlink", "rmdir",
             "rename", "link", "symlink", "chmod", "chmod", "chown", "lchown",
             "stat", "lstat", "open", "write", "read", "listdir", "access",
             "readlink", "chdir", "getcwd"]


def _random_steps(seed, count=80):
    r = random.Random(seed)

    def name():
        return r.choice(_FUZZ_NAMES)
    steps = []
    for _ in range(count):
        who, op = r.choice(_FUZZ_USERS), r.choice(_FUZZ_OPS)
        if op == "mkdir":
            args = (name(), r.choice(_FUZZ_MODES))
        elif op == "bind":
            args = (name(), "k%d" % len(steps))
        elif op in ("rename", "link"):
            args = (name(), name())
        elif op == "symlink":
            args = (r.choice(_FUZZ_NAMES + ["nowhere", "../x"]), name())
        elif op == "chmod":
            args = (name(), r.choice(_FUZZ_MODES))
        elif op in ("chown", "lchown"):
            args = (name(), r.choice([-1, -1, 0, 1000, 1001]),
                    r.choice([-1, -1, 0, 1000, 2000, 1002, 2001]))
        elif op == "open":
            args = (name(), r.choice([0, 1, 2, 0o101, 0o301, 0o1001,
                                      0o200000, 0o400101]),
                    r.choice(_FUZZ_MODES))
        elif op == "write":
            args = (name(), b"xy", r.choice([1, 0o2001, 0o1101]))
        elif op == "access":
            args = (name(), r.choice([0, 1, 2, 4, 6]))
        elif op == "chdir":
            args = (r.choice(["d", "e", "l", "t", "/", "..", "/d"]),)
        elif op == "getcwd":
            args = ()
        else:
            args = (name(),)
        steps.append((who, op) + args)
    return steps, r.choice([0o777, 0o1777, 0o755]), r.choice([0o022, 0, 0o077])


@needs_root
@pytest.mark.parametrize("seed", range(40))
def test_random_sequences_agree_with_host(seed):
    """Random steps by several users, on the host jailed by chroot(2) in
    a fresh directory and on a fresh VFS, give the same results."""
    steps, top_mode, umask = _random_steps(seed)
    check(steps, top_mode, umask, chroot=True)


def test_protected_symlinks_only_for_trailing_links():
    vfs = VFS(sysctl={"fs.protected_symlinks": 1})
    alice, bob = user(1000), user(1001)
    tmp = vfs.lookup(ROOTC, None, "/tmp")
    d = vfs.mkdir(alice, tmp, "d")
    s = vfs.mknod_socket(alice, d, "s", 0o777)
    vfs.symlink(alice, tmp, "d", "dlink")          # alice's, in sticky /tmp
    assert vfs.open_socket_inode(bob, tmp, "dlink/s") is s   # in the middle
    with pytest.raises(PermissionError):
        vfs.lookup(bob, tmp, "dlink")              # trailing: refused
    with pytest.raises(PermissionError):
        vfs.lookup(ROOTC, tmp, "dlink/")           # root is not exempt
    assert vfs.lookup(bob, tmp, "dlink", follow=False).target == b"d"
    vfs.chown(ROOTC, tmp, "dlink", 0, 0, follow=False)   # owned like /tmp
    assert vfs.lookup(bob, tmp, "dlink") is d
