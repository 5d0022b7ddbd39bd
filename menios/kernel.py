"""The simulated kernel: one AF_UNIX family, one VFS, the process table."""
from __future__ import annotations

import errno
import os
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _unix, namespace, readiness, trace
from .args import err
from .constants import (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SIGURG, TCP_ESTABLISHED,
                        TCP_CLOSE, TCP_LISTEN)
from .faults import Faults
from .files import PIPE_INO_BASE
from .vfs import VFS

if TYPE_CHECKING:
    from .monitor import Monitor
    from .process import Process

#: Linux's defaults (net.core.*mem_max as Linux 6.18 ships them).
DEFAULT_SYSCTL = {
    "net.unix.max_dgram_qlen": 10,
    "net.core.somaxconn": 4096,
    "net.core.wmem_default": 212992,
    "net.core.rmem_default": 212992,
    "net.core.wmem_max": 4194304,
    "net.core.rmem_max": 4194304,
    "net.core.busy_poll": 0,
    # not Linux's: how long a blocking call may spin for its wake-up before
    # it sleeps (an adaptive bound, see docs/API.md); 0 never spins
    "menios.wait_spin_us": 50,
    # /proc/sys/fs/pipe-max-size: the most F_SETPIPE_SZ grants without
    # CAP_SYS_RESOURCE
    "fs.pipe-max-size": 1048576,
    # not Linux's: a send or recv copying at least this many bytes releases
    # the GIL for the copy even when it does not block
    "menios.nogil_copy_min": _unix.NOGIL_COPY_MIN,
}

_TYPE_NAMES = {SOCK_STREAM: "STREAM", SOCK_DGRAM: "DGRAM", SOCK_SEQPACKET: "SEQPACKET"}
_STATE_NAMES = {TCP_ESTABLISHED: "ESTABLISHED", TCP_CLOSE: "UNCONNECTED",
                TCP_LISTEN: "LISTEN"}


class Kernel:
    """A fresh simulated kernel with its own AF_UNIX family (names included),
    VFS and pids.

    ``Kernel(sysctl={...})`` overrides Linux's defaults (see DEFAULT_SYSCTL).
    Use as a context manager, or call ``close()``: it fails every blocked call,
    waits for them to leave, and frees every socket and message.
    ``monitor=True`` publishes the kernel on a host socket of the user's
    (see :mod:`menios.monitor`) so that ``menios ss`` in another shell shows
    its sockets, until ``close()``.
    """

    def __init__(self, sysctl: Mapping[str, int] | None = None, monitor: bool = False) -> None:
        conf = dict(DEFAULT_SYSCTL)
        if sysctl:
            unknown = set(sysctl) - set(DEFAULT_SYSCTL) - {
                k for k in sysctl if k.startswith("fs.")}
            if unknown:
                raise ValueError("unknown sysctl: %s" % ", ".join(sorted(unknown)))
            conf.update(sysctl)
        for key, value in conf.items():
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError("sysctl %s must be an int" % key)
        self.sysctl: dict[str, int] = conf
        self.net = _unix.Net(conf["net.unix.max_dgram_qlen"], conf["net.core.somaxconn"],
                             conf["net.core.wmem_default"], conf["net.core.rmem_default"],
                             conf["net.core.wmem_max"], conf["net.core.rmem_max"])
        self.net.busy_poll_us = conf["net.core.busy_poll"]
        self.net.wait_spin_us = conf["menios.wait_spin_us"]
        self.net.nogil_copy_min = conf["menios.nogil_copy_min"]
        self.net.sigurg = weakref.WeakMethod(self._send_sigurg)
        self.vfs = VFS(sysctl=conf)
        self.lock = threading.RLock()        # process table
        self.processes: dict[int, Process] = {}                     # pid -> Process
        self._next_pid = 1
        self._next_pipe = PIPE_INO_BASE      # the last pipe inode number handed out
        self.closed = False
        self.monitor: Monitor | None = None
        if monitor:
            from .monitor import Monitor
            self.monitor = Monitor(self)
        self.faults = Faults(self)           # armed faults (menios.faults)
        _LIVE.add(self)

    # ---------------------------------------------------------------- api
    def spawn(self, uid: int = 0, gid: int = 0, groups: Iterable[int] = (), umask: int = 0o022,
              cwd: str | bytes = "/", rlimit_nofile: int = 1024,
              comm: str | None = None) -> Process:
        """A new process with no fds open.  ``comm`` is its command name (at
        most 15 bytes kept, as Linux's PR_SET_NAME; default ``"python3"``),
        what ``ss -p`` shows; ``fork`` passes it on."""
        from .process import Process, DEFAULT_COMM
        if self.closed:
            raise err(errno.ESHUTDOWN)
        return Process(self, uid=uid, gid=gid, groups=groups, umask=umask, cwd=cwd,
                       rlimit_nofile=rlimit_nofile,
                       comm=DEFAULT_COMM if comm is None else comm)

    def tracing(self, ring_events: int = trace.RING_EVENTS,
                max_events: int = trace.MAX_EVENTS) -> trace.Trace:
        """``with k.tracing() as t:`` records this kernel's activity: system
        calls, sk_buffs, sleeps and wake-ups, page handoffs, collector passes
        (see :mod:`menios.trace`).  ``ring_events``: records the core buffers
        between two drains; ``max_events``: the most the trace keeps (later
        ones are counted in ``t.dropped``).  One trace at a time per host
        process (RuntimeError otherwise)."""
        return trace.Trace(self, ring_events, max_events)

    def alloc_pages(self, n: int) -> _unix.Pages:
        """``n`` zero-filled, page-aligned pages (a ``Pages`` buffer) for
        zero-copy sends: ``p.sendmsg(fd, [pages], (), MSG_ZEROCOPY)`` hands
        the memory itself to the receiver (``p.recv_pages``).  See
        ``menios._unix.Pages`` for the ownership rules."""
        return _unix.Pages(self.net, n)

    def gc(self) -> int:
        """Force a pass of the in-flight fd collector; returns sockets collected."""
        return self.net.gc()

    def counters(self) -> dict[str, int]:
        """Debug counters: live sockets, skbs, bytes queued, files in flight,
        bytes copied and handed off, live pages, collector runs, and how
        sleeps ended (``kicks``, ``wait_timeouts``, ``spin_wakes``)."""
        return self.net.counters()

    def blocked(self) -> int:
        """How many threads are asleep in a blocking call of this kernel
        (accept, connect, send, recv, poll, a pipe read...) that nothing has
        woken yet.  The count drops inside the call that wakes them, so it is
        exact the moment that call returns."""
        return self.net.counters()["blocked"]

    def wait_blocked(self, n: int = 1, timeout: float | None = 5.0) -> bool:
        """Wait until at least ``n`` threads are blocked (see ``blocked``):
        the deterministic way for a test to know that a call it started in
        another thread is really asleep, not merely slow to start.  Returns
        ``True``, or ``False`` after ``timeout`` seconds (``None``: forever)."""
        return wait_blocked(self, n, timeout)

    def unix_sockets(self) -> list[dict[str, Any]]:
        """The live AF_UNIX sockets, one dict per socket, like /proc/net/unix
        (an embryo -- a connection not yet accepted -- has inode 0 there)."""
        out: list[dict[str, Any]] = []
        for d in self.net.list():
            out.append({
                "inode": d["ino"], "type": _TYPE_NAMES.get(d["type"], d["type"]),
                "state": _STATE_NAMES.get(d["state"], d["state"]),
                "flags": "ACC" if d["listening"] else "", "refcount": d["refcnt"],
                "path": _format_name(d["name"]), "recv_q": d["rqueue"],
                "send_q": d["wqueue"],
            })
        return out

    def diag(self) -> list[dict[str, Any]]:
        """One dict per socket with what Linux's sock_diag reports for it
        (net/unix/diag.c), plus who holds it and menios's counters.

        ``inode`` (as ``fstat``'s ``st_ino`` and ``unix_sockets()``; 0 for an
        embryo, a connection not yet accepted, which sock_diag skips),
        ``type`` and ``state`` (Linux's numbers: 1 ESTABLISHED, 7 CLOSE, 10
        LISTEN), ``name`` (as ``getsockname`` returns it; None unbound) and
        ``raw_name`` (the sun_path bytes), ``vfs`` (``(st_dev, st_ino)`` of
        the file a path bind made, shared by the connections accepted on it;
        UNIX_DIAG_VFS), ``peer`` (the peer's inode, 0 for none or one not
        accepted yet; UNIX_DIAG_PEER), ``pending`` (a listener's pending
        connections, as their connectors' inodes; UNIX_DIAG_ICONS),
        ``recv_q``/``send_q`` (UNIX_DIAG_RQLEN: for a listener the pending
        connections and the backlog, else bytes a read would see -- a
        datagram socket's first message -- and the send-buffer memory its
        messages still hold, as SIOCINQ/SIOCOUTQ), ``meminfo`` (the nine
        SK_MEMINFO_* by name), ``shutdown`` (its bits: 1 no more receives, 2
        no more sends), ``uid`` (the socket inode's owner; UNIX_DIAG_UID),
        ``holders`` (sorted ``(pid, fd)`` pairs of the fds open on it),
        ``listener`` (an embryo's listener's inode), ``inflight`` (times its
        file is in flight in SCM_RIGHTS messages), ``bytes_copied_in`` /
        ``bytes_copied_out`` (payload bytes its sends copied in and its
        receives copied out), ``bytes_zerocopy_in`` / ``bytes_zerocopy_out``
        (bytes handed over as pages by its sends / taken by ``recv_pages``),
        ``msgs_sent`` / ``msgs_received`` (sk_buffs its sends queued on a
        receiver / queued on its own receive queue)."""
        holders: dict[int, list[tuple[int, int]]] = {}
        with self.lock:
            procs = list(self.processes.values())
        for p in procs:
            for fd, f in p.fdtable.open_files():
                if type(f) is _unix.Socket:
                    holders.setdefault(f.ino, []).append((p.pid, fd))
        out: list[dict[str, Any]] = []
        for d in self.net.list():
            mem = dict(zip(_MEMINFO, d["meminfo"]))
            vfs = d["vfs"]
            if vfs is not None:
                vfs = (os.makedev(vfs[0] >> 20, vfs[0] & 0xfffff), vfs[1])
            out.append({
                "inode": d["ino"], "type": d["type"], "state": d["state"],
                "name": namespace.decode_name(d["name"] or None), "raw_name": d["name"], "vfs": vfs,
                "peer": d["peer_ino"], "pending": d["icons"],
                "recv_q": d["rqueue"], "send_q": d["wqueue"], "meminfo": mem,
                "shutdown": d["shutdown"], "uid": d["uid"],
                "holders": sorted(holders.get(d["ino"], ())) if d["ino"] else [],
                "listener": d["listener_ino"], "inflight": d["inflight"],
                "bytes_copied_in": d["bytes_copied_in"],
                "bytes_copied_out": d["bytes_copied_out"],
                "bytes_zerocopy_in": d["bytes_zerocopy_in"],
                "bytes_zerocopy_out": d["bytes_zerocopy_out"],
                "msgs_sent": d["msgs_sent"], "msgs_received": d["msgs_received"],
            })
        return out

    def ss(self, args: str | Iterable[str] = ("-xa",)) -> str:
        """The text iproute2's ``ss`` prints for this kernel's sockets under
        the command line ``args`` (a list of strings, or one string split as
        a shell does): ``-x -a -l -p -e -m -n``, ``state``/``exclude`` and
        address filters, with ss's columns and widths as ss prints them to a
        pipe.  Bad options raise ``menios.ss.SsError`` (a ValueError) with
        ss's message.  See :mod:`menios.ss`."""
        from .ss import ss
        return ss(self, args)

    def format_unix_sockets(self) -> str:
        """The socket table as text, like ``ss -x``/``/proc/net/unix``."""
        rows = ["%-8s %-10s %-12s %-4s %6s %6s  %s" % (
            "Inode", "Type", "State", "Flag", "Recv-Q", "Send-Q", "Path")]
        for s in self.unix_sockets():
            rows.append("%-8d %-10s %-12s %-4s %6d %6d  %s" % (
                s["inode"], s["type"], s["state"], s["flags"], s["recv_q"],
                s["send_q"], s["path"]))
        return "\n".join(rows)

    def close(self) -> None:
        """Tear down: wake (and fail) every blocked call, then free everything."""
        if self.closed:
            return
        self.closed = True
        if self.monitor is not None:
            self.monitor.close()
        self.net.shutdown()
        with self.lock:
            procs = list(self.processes.values())
        for p in procs:
            p.exit()
        self.net.shutdown()

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------ helpers
    def _alloc_pid(self, proc):
        with self.lock:
            pid = self._next_pid
            self._next_pid += 1
            self.processes[pid] = proc
            return pid

    def _pid_in_use(self, n):
        """A live process or process group has id ``n`` (find_vpid)."""
        with self.lock:
            return n in self.processes or any(p.pgid == n for p in self.processes.values())

    def _send_sigurg(self, owner, uid, euid):
        """send_sigurg: SIGURG to a file's owner (a pid, or -pgid), to each
        process the setter may signal (Linux's sigio_perm: the setter's euid
        is root, or its uid or euid is the target's uid or saved uid)."""
        with self.lock:
            if owner > 0:
                targets = [p for p in (self.processes.get(owner),) if p is not None]
            else:
                targets = [p for p in self.processes.values() if p.pgid == -owner]
        for p in targets:
            ids = (p.cred.uid, p.cred.suid)
            if p.alive and (euid == 0 or euid in ids or uid in ids):
                p.pending_signals.add(SIGURG)

    def _on_socket_release(self, sock):
        """A socket is gone: its readiness fds close."""
        readiness.forget_file(sock)


#: Every Kernel not yet garbage: what an all-kernels trace adopts at its start.
_LIVE: weakref.WeakSet[Kernel] = weakref.WeakSet()


def live_kernels() -> list[Kernel]:
    """The kernels of this host process that are not closed."""
    return [k for k in list(_LIVE) if not k.closed]


#: wait_blocked looks at the count this often: first after 0.2 ms, backing
#: off to every 5 ms, so a quick sleeper is seen at once and a slow one
#: costs little.
_WAIT_BLOCKED_FIRST = 0.0002
_WAIT_BLOCKED_MAX = 0.005


def wait_blocked(kernel: Any, n: int, timeout: float | None) -> bool:
    """``kernel.wait_blocked(n, timeout)`` for any kernel with ``blocked()``
    (the conformance harness's host kernel too)."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError("n must be an int")
    deadline = None if timeout is None else time.monotonic() + timeout
    pause = _WAIT_BLOCKED_FIRST
    while kernel.blocked() < n:
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, _WAIT_BLOCKED_MAX)
    return True


#: SK_MEMINFO_* in order (linux/sock_diag.h).
_MEMINFO = ("rmem_alloc", "rcvbuf", "wmem_alloc", "sndbuf", "fwd_alloc", "wmem_queued",
            "optmem", "backlog", "drops")


def _format_name(raw: bytes | None) -> str:
    if not raw:
        return ""
    if raw[:1] == b"\0":
        return "@" + raw[1:].decode("latin-1").replace("\0", "@")
    return raw.rstrip(b"\0").decode("utf-8", "surrogateescape")
