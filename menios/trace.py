"""Tracing a kernel: ``with k.tracing() as t:`` records what happens inside.

Events come from two places.  The C core's tracepoints
(csrc/kernel/trace/trace.h) record sk_buffs (allocated, queued, dequeued,
freed), payload copies, zero-copy handoffs (pages queued as they are, and
taken by a receiver), sleeps and the wake-ups that end them, page runs
(allocated, a reference taken or dropped: the handoff's completion) and
garbage-collection passes, into a ring of fixed-size records, with no Python
code per event.  Each system call of a traced process adds an enter and an
exit event (the call, its fd and socket inode; its result or -errno, and the
bytes its socket copied and handed off as pages during the call): in C for
the send/recv/recv_into fast path, through ``_unix.trace_call`` bound over
the process's other methods while the trace runs.  Every event carries the
monotonic time in ns, the host thread id (``threading.get_native_id()``;
0 for a thread that has made no traced system call) and the simulated pid
(0 for what happens outside any system call: a page freed when its last
buffer is dropped, a collection run from ``Kernel.gc``).

Disabled, a tracepoint costs a load and a predicted branch (measured in
benchmarks/README.md).  One trace runs at a time in a host process; the
core's events of every kernel in the process are recorded while it runs,
the system calls of the traced kernel's processes (every kernel's, for
``Trace(None)``, which ``menios trace`` uses).

``t.events`` lists :class:`TraceEvent` tuples; ``t.export_chrome(path)``
writes the Chrome trace-event JSON that Perfetto (ui.perfetto.dev) and
chrome://tracing load, one track per simulated process; ``t.handoffs()``
and ``t.copies()`` summarise the zero-copy handoffs and what each socket
copied; ``t.plot_copies(path)`` draws the latter and ``t.plot_timeline(path)``
the system calls of each process over time (matplotlib).
"""
from __future__ import annotations

import json
import os
import struct
import threading
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

from . import _unix

__all__ = ["Trace", "TraceEvent", "active"]


class TraceEvent(NamedTuple):
    """One event: ``ts`` (monotonic ns), ``pid`` (simulated; 0 outside
    system calls), ``tid`` (host thread), ``name`` (see EVENT_NAMES) and
    ``args`` (a dict whose keys depend on the name)."""
    ts: int
    pid: int
    tid: int
    name: str
    args: dict[str, Any]


# struct trace_rec: ts, a, b, c, tid, pid, type, pad, nr.
_REC = struct.Struct("=qqqqiiHHI")
assert _REC.size == _unix.TRACE_REC_SIZE

#: enum trace_type -> event name (csrc/kernel/trace/trace.h).
EVENT_NAMES = (None, "sys_enter", "sys_exit", "skb_alloc", "skb_queue", "skb_dequeue",
               "skb_free", "sleep", "sleep_end", "wakeup", "page_alloc", "page_get",
               "page_put", "gc_begin", "gc_end", "block", "unblock", "copy", "handoff")
_WAKE = {1: "event", 2: "kick", 3: "signal"}

#: The default ring (records between two drains) and the most records a
#: trace keeps (48 bytes each): later ones are counted in ``dropped``.
RING_EVENTS = 1 << 16
MAX_EVENTS = 2_000_000

_lock = threading.Lock()
_active: Trace | None = None


def active() -> Trace | None:
    """The running trace, or None."""
    return _active


def _args(name: str, nr: int, a: int, b: int, c: int) -> dict[str, Any]:
    if name == "sys_enter":
        return {"call": _unix.TRACE_SYSCALLS[nr], "fd": a, "ino": b}
    if name == "sys_exit":
        d = {"call": _unix.TRACE_SYSCALLS[nr], "bytes_copied": b, "bytes_zerocopy": c}
        if a == _unix.TRACE_RET_EXCEPTION:
            d["exception"] = True
        elif a < 0:
            d["errno"] = -a
        else:
            d["ret"] = a
        return d
    if name == "skb_alloc":
        return {"skb": a, "len": b, "truesize": c}
    if name in ("skb_queue", "skb_dequeue"):
        return {"skb": a, "queue": b, "len": c, "qlen": nr}
    if name == "skb_free":
        return {"skb": a, "len": b}
    if name == "sleep":
        return {"waiter": a, "spin_ns": b}
    if name == "sleep_end":
        return {"waiter": a, "reason": _WAKE.get(b, b) if b > 0 else b}
    if name == "wakeup":
        return {"waiter": a, "reason": _WAKE.get(nr, nr)}
    if name == "page_alloc":
        return {"run": a, "pages": b}
    if name in ("page_get", "page_put"):
        return {"run": a, "refs": b}
    if name == "gc_begin":
        return {"inflight": a}
    if name == "gc_end":
        return {"collected": a}
    if name == "block":
        return {"call": _unix.TRACE_CALLS[nr]}
    if name == "unblock":
        return {"call": _unix.TRACE_CALLS[nr], "ret": a}
    if name == "copy":
        return {"dir": "recv" if nr else "send", "ino": a, "bytes": b}
    if name == "handoff":
        return {"dir": "recv" if nr else "send", "ino": a, "bytes": b, "run": c}
    return {}


class Trace:
    """A recording of a kernel's activity (see the module docstring).
    ``Kernel.tracing()`` makes one; ``Trace(None)`` traces every kernel of
    the host process.  A context manager: recording runs inside the
    ``with``; ``events`` and the exports are for after it."""

    def __init__(self, kernel: Any = None, ring_events: int = RING_EVENTS,
                 max_events: int = MAX_EVENTS) -> None:
        self.kernel = kernel
        self.ring_events = int(ring_events)
        self.max_events = int(max_events)
        self.dropped = 0
        self.comms: dict[int, str] = {}     # pid -> command name of each traced process
        self._raw = b""
        self._events: list[TraceEvent] | None = None
        self._running = False
        self._adopted: list[Any] = []

    # ------------------------------------------------------------ running
    def __enter__(self) -> Trace:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start recording; RuntimeError if a trace already runs."""
        global _active
        with _lock:
            if _active is not None:
                raise RuntimeError("a trace is already running in this process")
            _unix.trace_begin(self.ring_events, self.max_events)
            _active = self
            self._running = True
        for k in self._kernels():
            with k.lock:
                procs = list(k.processes.values())
            for p in procs:
                self._adopt(p)

    def stop(self) -> None:
        """End the recording (idempotent)."""
        global _active
        with _lock:
            if not self._running:
                return
            self._running = False
            _active = None
            raw, self.dropped = _unix.trace_end()
        self._raw += raw
        self._events = None
        for p in self._adopted:
            for name in _unix.TRACE_SYSCALLS[3:]:
                p.__dict__.pop(name, None)
        self._adopted = []

    def _kernels(self) -> list[Any]:
        if self.kernel is not None:
            return [self.kernel]
        from .kernel import live_kernels
        return live_kernels()

    def _adopt(self, proc: Any) -> None:
        """Trace the system calls of ``proc``: bind ``trace_call`` over each
        of its syscall methods (send/recv/recv_into trace themselves)."""
        if not self._running or (self.kernel is not None and proc.kernel is not self.kernel):
            return
        if "sendmsg" in proc.__dict__:
            return
        self.comms[proc.pid] = getattr(proc, "comm", "")
        call = _unix.trace_call
        for nr, name in enumerate(_unix.TRACE_SYSCALLS):
            if nr < 3 or not hasattr(type(proc), name):
                continue
            proc.__dict__[name] = _bind(call, proc, nr, name)
        self._adopted.append(proc)

    # ------------------------------------------------------------ reading
    @property
    def events(self) -> list[TraceEvent]:
        """Every recorded event, in the order recorded (TraceEvent tuples)."""
        if self._events is None:
            out = []
            for ts, a, b, c, tid, pid, typ, _pad, nr in _REC.iter_unpack(self._raw):
                name = EVENT_NAMES[typ] if 0 < typ < len(EVENT_NAMES) else "unknown"
                out.append(TraceEvent(ts, pid, tid, name or "unknown",
                                      _args(name or "", nr, a, b, c)))
            self._events = out
        return self._events

    def counts(self) -> dict[str, int]:
        """``{event name: how many}``."""
        out: dict[str, int] = {}
        for e in self.events:
            out[e.name] = out.get(e.name, 0) + 1
        return out

    def syscalls(self) -> list[dict[str, Any]]:
        """One dict per traced system call that returned: ``call``, ``pid``,
        ``tid``, ``fd``, ``ino``, ``start``/``end`` (ns), ``ret`` or
        ``errno``, ``bytes_copied``, ``bytes_zerocopy``."""
        out = []
        stacks: dict[int, list[TraceEvent]] = {}
        for e in self.events:
            if e.name == "sys_enter":
                stacks.setdefault(e.tid, []).append(e)
            elif e.name == "sys_exit":
                st = stacks.get(e.tid)
                if not st:
                    continue                    # entered before the trace began
                enter = st.pop()
                d = dict(e.args, pid=enter.pid, tid=e.tid, fd=enter.args["fd"],
                         ino=enter.args["ino"], start=enter.ts, end=e.ts)
                out.append(d)
        return out

    def handoffs(self) -> list[dict[str, Any]]:
        """One dict per zero-copy handoff: pages a send queued on a socket
        as they are (the core's handoff tracepoint).  ``run`` (the page
        run), ``ino`` (the sending socket), ``bytes``, ``pid``, ``start``
        (ns); the system call it was part of -- ``call``, ``fd``,
        ``bytes_copied``: the payload bytes that call copied, by the core's
        copy tracepoints (0 for a handoff that really copied nothing) --
        when traced; ``received`` (ns: when a receiver took the pages, None
        if not in the trace) and ``done`` (ns: when the receivers let go,
        the run back to its sender's one reference or freed; None if not
        within the trace)."""
        calls: dict[int, list[tuple[TraceEvent, list[dict[str, Any]], list[int]]]] = {}
        open_runs: dict[int, dict[str, Any]] = {}  # run -> handoff awaiting completion
        out: list[dict[str, Any]] = []
        for e in self.events:
            if e.name == "sys_enter":
                calls.setdefault(e.tid, []).append((e, [], [0]))
            elif e.name == "sys_exit":
                st = calls.get(e.tid)
                if not st:
                    continue
                enter, runs, copied = st.pop()
                for h in runs:
                    h.update(call=e.args["call"], fd=enter.args["fd"], bytes_copied=copied[0])
            elif e.name == "copy":
                st = calls.get(e.tid)
                if st:
                    st[-1][2][0] += e.args["bytes"]
            elif e.name == "handoff" and e.args["dir"] == "send":
                h = dict(run=e.args["run"], ino=e.args["ino"], bytes=e.args["bytes"],
                         pid=e.pid, start=e.ts, received=None, done=None)
                st = calls.get(e.tid)
                if st:
                    st[-1][1].append(h)
                open_runs[e.args["run"]] = h
                out.append(h)
            elif e.name == "handoff":
                h2 = open_runs.get(e.args["run"])
                if h2 is not None and h2["received"] is None:
                    h2["received"] = e.ts
            elif e.name == "page_put" and e.args["refs"] <= 1:
                done = open_runs.pop(e.args["run"], None)
                if done is not None:
                    done["done"] = e.ts
        return out

    def copies(self) -> dict[int, dict[str, Any]]:
        """Per socket inode: ``{ino: {"copied_in", "copied_out",
        "zerocopy_in", "zerocopy_out", "calls", "pids"}}`` summed over the
        traced system calls on it (in: sent, out: received)."""
        out: dict[int, dict[str, Any]] = {}
        for s in self.syscalls():
            if not s["ino"]:
                continue
            d = out.setdefault(s["ino"], dict(copied_in=0, copied_out=0, zerocopy_in=0,
                                              zerocopy_out=0, calls=0, pids=set()))
            way = "out" if s["call"].startswith("recv") else "in"
            d["copied_" + way] += s["bytes_copied"]
            d["zerocopy_" + way] += s["bytes_zerocopy"]
            d["calls"] += 1
            d["pids"].add(s["pid"])
        return out

    # ------------------------------------------------------------ exports
    def chrome_events(self) -> list[dict[str, Any]]:
        """The trace as a list of Chrome trace-event dicts (see export_chrome)."""
        evs = self.events
        t0 = evs[0].ts if evs else 0

        def us(ns: int) -> float:
            return (ns - t0) / 1000.0
        out: list[dict[str, Any]] = []
        pids: set[int] = set()
        tids: set[tuple[int, int]] = set()
        for s in self.syscalls():
            pids.add(s["pid"])
            tids.add((s["pid"], s["tid"]))
            args = {k: s[k] for k in ("fd", "ino", "bytes_copied", "bytes_zerocopy")}
            for k in ("ret", "errno", "exception"):
                if k in s:
                    args[k] = s[k]
            out.append(dict(name=s["call"], cat="syscall", ph="X", ts=us(s["start"]),
                            dur=us(s["end"]) - us(s["start"]), pid=s["pid"], tid=s["tid"],
                            args=args))
        sleeps: dict[tuple[int, str], list[TraceEvent]] = {}
        asleep: set[int] = set()                    # waiters asleep now
        woken: dict[int, TraceEvent] = {}           # waiter -> the wakeup that posted it
        for e in evs:
            if e.name in ("sys_enter", "sys_exit"):
                continue
            pids.add(e.pid)
            tids.add((e.pid, e.tid))
            if e.name == "wakeup" and e.args["waiter"] in asleep:
                woken.setdefault(e.args["waiter"], e)
            if e.name in ("sleep", "block"):
                sleeps.setdefault((e.tid, e.name), []).append(e)
                if e.name == "sleep":
                    asleep.add(e.args["waiter"])
                    woken.pop(e.args["waiter"], None)
                continue
            if e.name in ("sleep_end", "unblock"):
                if e.name == "sleep_end":
                    asleep.discard(e.args["waiter"])
                    w = woken.pop(e.args["waiter"], None)
                    if w is not None and e.ts > w.ts:
                        # an arrow from the waker's call to the end of the sleep
                        fid = len(out)
                        out.append(dict(name="wakeup", cat="sched", ph="s", id=fid,
                                        ts=us(w.ts), pid=w.pid, tid=w.tid))
                        out.append(dict(name="wakeup", cat="sched", ph="f", bp="e", id=fid,
                                        ts=us(e.ts - 1), pid=e.pid, tid=e.tid))
                st = sleeps.get((e.tid, "sleep" if e.name == "sleep_end" else "block"))
                if st:
                    b = st.pop()
                    name = "sleep" if e.name == "sleep_end" else "blocked in " + b.args["call"]
                    out.append(dict(name=name, cat="sched", ph="X", ts=us(b.ts),
                                    dur=us(e.ts) - us(b.ts), pid=b.pid, tid=e.tid,
                                    args=dict(b.args, **{"end_" + k: v
                                                         for k, v in e.args.items()})))
                continue
            cat = e.name.split("_")[0]
            cat = {"wakeup": "sched", "gc": "gc"}.get(cat, cat)
            out.append(dict(name=e.name, cat=cat, ph="i", s="t", ts=us(e.ts), pid=e.pid,
                            tid=e.tid, args=e.args))
        for i, h in enumerate(self.handoffs()):
            if h["done"] is None:
                continue
            args = {k: h[k] for k in ("run", "call", "fd", "ino", "bytes", "bytes_copied")
                    if k in h}
            if h["received"] is not None:
                args["received_after_us"] = (h["received"] - h["start"]) / 1000.0
            ident = "0x%x.%d" % (h["run"] & 0xffffffffffffffff, i)
            out.append(dict(name="handoff", cat="zerocopy", ph="b", id=ident, ts=us(h["start"]),
                            pid=h["pid"], tid=0, args=args))
            out.append(dict(name="handoff", cat="zerocopy", ph="e", id=ident, ts=us(h["done"]),
                            pid=h["pid"], tid=0))
        out.sort(key=lambda d: d["ts"])
        meta = []
        for pid in sorted(pids):
            label = ("kernel (outside system calls)" if pid == 0
                     else "pid %d (%s)" % (pid, self.comms.get(pid) or "?"))
            meta.append(dict(name="process_name", ph="M", pid=pid, tid=0, args={"name": label}))
            meta.append(dict(name="process_sort_index", ph="M", pid=pid, tid=0,
                             args={"sort_index": pid}))
        for pid, tid in sorted(tids):
            meta.append(dict(name="thread_name", ph="M", pid=pid, tid=tid,
                             args={"name": "thread %d" % tid}))
        return meta + out

    def export_chrome(self, path: str | os.PathLike[str] | IO[str]) -> None:
        """Write the Chrome trace-event JSON (``{"traceEvents": [...]}``):
        one track (process) per simulated process, its host threads as
        threads; system calls and sleeps are slices, sk_buff, copy, page,
        wake-up and GC events instants (a wake-up that ends a sleep also a
        flow arrow from the waker to the sleeper), each zero-copy handoff an
        async slice from the send to the receivers' release with
        ``bytes_copied`` in its args.  ``path``: a file name or a writable text file."""
        doc = {"traceEvents": self.chrome_events(), "displayTimeUnit": "ns",
               "otherData": {"producer": "menios", "dropped_events": self.dropped}}
        if not isinstance(path, (str, os.PathLike)):
            json.dump(doc, path)
            return
        with open(os.fspath(path), "w") as f:
            json.dump(doc, f)

    def plot_timeline(self, path: str | os.PathLike[str], title: str | None = None) -> None:
        """A PNG of the trace's timeline, one lane per thread of each
        simulated process: system calls (red: copied payload, green: handed
        pages over, grey: moved none), the sleeps inside them (light blue) and
        zero-copy handoffs (a green line from the send to the receivers'
        release, in the sender's lane); needs matplotlib."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
        calls = self.syscalls()
        if not calls:
            raise ValueError("no system call in the trace")
        t0 = min(s["start"] for s in calls)
        lanes = sorted({(s["pid"], s["tid"]) for s in calls})
        row = {lane: i for i, lane in enumerate(lanes)}
        ms = 1e6
        fig, ax = plt.subplots(figsize=(10, 0.55 * len(lanes) + 1.6))
        for s in calls:
            ax.broken_barh([((s["start"] - t0) / ms, max((s["end"] - s["start"]) / ms, 1e-4))],
                           (row[(s["pid"], s["tid"])] - 0.35, 0.7), color=_call_color(s),
                           edgecolor="white", linewidth=0.3)
        for e0, e1 in self._sleeps():
            if (e0.pid, e1.tid) in row:
                ax.broken_barh([((e0.ts - t0) / ms, (e1.ts - e0.ts) / ms)],
                               (row[(e0.pid, e1.tid)] - 0.15, 0.3), color="lightblue")
        for h in self.handoffs():
            if h["done"] is None:
                continue
            lane = next((i for (pid, _), i in row.items() if pid == h["pid"]), None)
            if lane is not None:
                ax.plot([(h["start"] - t0) / ms, (h["done"] - t0) / ms], [lane + 0.42] * 2,
                        color="tab:green", lw=1, alpha=0.6)
        ax.set_yticks(range(len(lanes)))
        ax.set_yticklabels(["pid %d %s, thread %d" % (pid, self.comms.get(pid, ""), tid)
                            for pid, tid in lanes])
        ax.invert_yaxis()
        ax.set_xlabel("ms since the first traced system call")
        ax.set_title(title or "system calls per simulated process and thread")
        ax.legend(handles=[Patch(color="tab:red", label="call copied payload"),
                           Patch(color="tab:green", label="call handed pages over"),
                           Patch(color="0.6", label="call moved no payload"),
                           Patch(color="lightblue", label="asleep in the call")],
                  loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, fontsize="small",
                  frameon=False)
        fig.savefig(os.fspath(path), dpi=90, bbox_inches="tight")
        plt.close(fig)

    def _sleeps(self) -> Iterator[tuple[TraceEvent, TraceEvent]]:
        """(sleep, sleep_end) event pairs."""
        open_: dict[tuple[int, int], TraceEvent] = {}
        for e in self.events:
            if e.name == "sleep":
                open_[(e.tid, e.args["waiter"])] = e
            elif e.name == "sleep_end":
                b = open_.pop((e.tid, e.args["waiter"]), None)
                if b is not None:
                    yield b, e

    def plot_copies(self, path: str | os.PathLike[str], title: str | None = None) -> None:
        """A PNG of what each socket moved, copied vs handed off as pages
        (``copies()``); needs matplotlib."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        data = [(ino, d) for ino, d in sorted(self.copies().items())
                if d["copied_in"] + d["copied_out"] + d["zerocopy_in"] + d["zerocopy_out"]]
        labels = ["ino %d: %s" % (ino, ", ".join(
            "%s (pid %d)" % (self.comms.get(p) or "?", p) for p in sorted(d["pids"])))
            for ino, d in data]
        parts = (("copied_in", "copied in (send)", "tab:red"),
                 ("copied_out", "copied out (recv)", "tab:orange"),
                 ("zerocopy_in", "pages handed off (send)", "tab:green"),
                 ("zerocopy_out", "pages received (recv)", "tab:olive"))
        fig, ax = plt.subplots(figsize=(9, 0.5 * len(data) + 1.2))
        left = [0.0] * len(data)
        for key, label, color in parts:
            vals = [d[key] / 1e6 for _, d in data]
            ax.barh(range(len(data)), vals, left=left, color=color, label=label)
            left = [a + b for a, b in zip(left, vals)]
        for i, (_, d) in enumerate(data):
            copied = d["copied_in"] + d["copied_out"]
            zc = d["zerocopy_in"] + d["zerocopy_out"]
            ax.text(left[i], i, "  copied %s, zero-copy %s" % (_si(copied), _si(zc)),
                    va="center", fontsize="small")
        ax.set_xlim(0, max(left + [1e-6]) * 1.6)
        ax.set_yticks(range(len(data)))
        ax.set_yticklabels(labels)
        ax.invert_yaxis()
        ax.set_xlabel("MB moved through the socket during the trace")
        ax.set_title(title or "bytes per socket: copied vs handed off as pages (zero copy)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small",
                  frameon=False)
        fig.savefig(os.fspath(path), dpi=90, bbox_inches="tight")
        plt.close(fig)


def _call_color(s: dict[str, Any]) -> str:
    """A system call's colour in the timeline: what it did with payload."""
    if s["bytes_zerocopy"]:
        return "tab:green"
    if s["bytes_copied"]:
        return "tab:red"
    return "0.6"


def _si(n: float) -> str:
    """Bytes as a short decimal figure: 4.1 kB, 1.0 GB."""
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return "%.1f %s" % (n / div, unit)
    return "%d B" % n


def _bind(call: Any, proc: Any, nr: int, name: str) -> Any:
    def traced(*args: Any, **kwargs: Any) -> Any:
        return call(proc, nr, name, *args, **kwargs)
    traced.__name__ = name
    return traced
