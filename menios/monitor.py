"""Publishing a live kernel so ``menios ss`` in another shell can read it.

``Kernel(monitor=True)`` starts a :class:`Monitor`: a thread serving a real
AF_UNIX stream socket of the host in the user's menios runtime directory
(:func:`runtime_dir`).  The directory is the user's own, mode 0700, the
socket file 0600, and the server answers only peers of its own uid
(``SO_PEERCRED``): another user sees nothing.  :func:`discover` lists the
live kernels of the calling user and :func:`query` asks one of them; the
``menios ss`` command uses both.

The protocol: the client sends one JSON object and a newline
(``{"op": "ss", "args": [...]}`` or ``{"op": "info"}``); the server answers
one JSON object and a newline (``{"ok": ...}`` or ``{"err": message}``) and
closes the connection.
"""
from __future__ import annotations

import itertools
import json
import os
import select
import socket
import stat
import struct
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .kernel import Kernel

__all__ = ["Monitor", "runtime_dir", "discover", "query"]

_REQUEST_MAX = 1 << 16
_counter = itertools.count(1)


def runtime_dir(create: bool = False) -> str:
    """The calling user's menios runtime directory: ``$MENIOS_RUNTIME_DIR``,
    else ``$XDG_RUNTIME_DIR/menios``, else ``/tmp/menios-UID``.  With
    ``create`` it is made (mode 0700).  PermissionError if it exists but is
    not a directory of the caller's alone (another user could read or plant
    sockets there)."""
    path = os.environ.get("MENIOS_RUNTIME_DIR")
    if not path:
        xdg = os.environ.get("XDG_RUNTIME_DIR")
        path = os.path.join(xdg, "menios") if xdg else "/tmp/menios-%d" % os.geteuid()
    if create:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise PermissionError("%s is not a directory of uid %d alone (mode 0700)"
                              % (path, os.geteuid()))
    return path


class Monitor:
    """Serves one kernel's ``ss`` on a host socket (see the module doc)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        directory = runtime_dir(create=True)
        self.path = os.path.join(directory, "%d-%d.sock" % (os.getpid(), next(_counter)))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        old = os.umask(0o177)
        try:
            self.sock.bind(self.path)
        finally:
            os.umask(old)
        self.sock.listen(16)
        self.started = time.time()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="menios-monitor", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and remove the socket file.  Idempotent."""
        if self._wake_w < 0:
            return
        os.write(self._wake_w, b"x")
        self._thread.join(10)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self._wake_r = self._wake_w = -1
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def _serve(self):
        while True:
            ready, _, _ = select.select([self.sock, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                try:
                    self._answer(conn)
                except OSError:
                    pass

    def _answer(self, conn):
        conn.settimeout(5)
        pid, uid, gid = struct.unpack("3i", conn.getsockopt(
            socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        if uid != os.geteuid():
            return                       # not the owner: nothing to say
        data = b""
        while not data.endswith(b"\n") and len(data) < _REQUEST_MAX:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        if not data.strip():
            return                       # a probe (discover): nothing asked
        try:
            reply = {"ok": self._handle(json.loads(data.decode()))}
        except Exception as e:          # a bad request or option: said to the client
            reply = {"err": str(e)}
        conn.sendall(json.dumps(reply).encode() + b"\n", socket.MSG_NOSIGNAL)

    def _handle(self, request):
        op = request.get("op")
        if op == "ss":
            args = request.get("args", [])
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise TypeError("args must be a list of str")
            return self.kernel.ss(args)
        if op == "info":
            return {"pid": os.getpid(), "argv": sys.argv, "started": self.started,
                    "processes": len(self.kernel.processes)}
        raise ValueError("unknown op %r" % (op,))


def discover() -> list[str]:
    """The socket paths of the calling user's live kernels, oldest first;
    files whose server is gone are removed."""
    try:
        directory = runtime_dir()
        names = os.listdir(directory)
    except (FileNotFoundError, PermissionError, NotADirectoryError):
        return []
    found = []
    for name in names:
        if not name.endswith(".sock"):
            continue
        path = os.path.join(directory, name)
        try:
            if not stat.S_ISSOCK(os.lstat(path).st_mode):
                continue
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(path)
            finally:
                probe.close()
        except ConnectionRefusedError:
            try:
                os.unlink(path)          # its kernel died without closing
            except OSError:
                pass
            continue
        except OSError:
            continue
        found.append((os.lstat(path).st_mtime, path))
    return [path for _, path in sorted(found)]


def query(path: str, request: dict[str, Any], timeout: float = 10.0) -> Any:
    """Send ``request`` to the kernel serving ``path``; its answer, or
    RuntimeError with the server's message."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data:
        raise RuntimeError("%s answered nothing" % path)
    reply = json.loads(data.decode())
    if "err" in reply:
        raise RuntimeError(reply["err"])
    return reply["ok"]
