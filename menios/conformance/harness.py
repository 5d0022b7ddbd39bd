"""The differential runner: one scenario, two backends, step-by-step comparison.

A scenario is a function ``scenario(k, t, **params)``: ``k`` is a kernel
(``menios.Kernel()`` or :class:`~menios.conformance.host.HostKernel`, seen
through a thin proxy that names processes), ``t`` a :class:`Trace`.  Every
call whose outcome matters goes through ``t.call(p.recv, fd, 10)`` (or
``t.step("label", fn, *args)``), which records the outcome instead of
raising, so the scenario runs to its end on both backends and the traces can
be compared step by step::

    @scenario("peek", params={"sotype": SOCK_TYPES, "kind": PAIR_KINDS})
    def peek(k, t, sotype, kind):
        p = k.spawn(uid=1000, gid=1000)
        a, b = make_pair(k, p, sotype, kind)
        t.call(p.send, a, b"abc")
        t.call(p.recv, b, 10, MSG_PEEK)

    assert_same(peek, params={"sotype": SOCK_STREAM, "kind": "socketpair"})

Outcomes are ``("ok", value)``, ``("err", "EAGAIN")`` or ``("exc",
"TypeError")``, with values normalised so that what legitimately differs
between runs does not: pids become ``p1, p2, ...`` in spawn/fork order
(in ``SO_PEERCRED`` and ``SCM_CREDENTIALS`` data, decoded as ``("ucred",
pid, uid, gid)``), autobind names (``b"\\0"`` + five hex digits -- so avoid
such names for explicit abstract addresses) become ``@auto1, @auto2, ...`` in
order of first appearance, ``SCM_RIGHTS`` data (in an ancillary item that
is a tuple, as the stdlib's are) becomes ``("SCM_RIGHTS", (fd, ...))``, stat
results become ``("stat", S_IFMT, permission bits, uid, gid, nlink, size)``
(size only for non-directories), processes become their names, ``listdir``
results are sorted (a list stays a list), sets become ``("set", *sorted
items)`` (``"frozenset"`` for a frozenset), named tuples ``(type name,
*items)``, dicts keep their keys with normalised values, and ``IntEnum``
values (``AF_UNIX``, ``Signals``) become plain ints.  Nothing else is converted:
outcomes are compared by :func:`same`, which also compares types, so
``True`` differs from ``1``, a list from a tuple and ``bytearray`` from
``bytes`` -- a call must return what the stdlib ``socket`` module returns on
Linux, not merely an equal value.

:func:`compare` is the verdict on two traces: it reports the steps where
they differ (:func:`diff_traces`), a scenario that crashed or timed out on
either side, and a menios kernel whose debug counters (:func:`leaks`) are not
back to zero after it closed.  :func:`assert_same` (pytest) and ``menios
conform`` both judge by it.
"""

import enum
import errno
import fcntl
import itertools
import os
import socket
import stat
import struct
import threading
import time
import unittest

__all__ = ["Trace", "run_scenario", "diff_traces", "compare", "same", "leaks", "assert_same",
           "scenario",
           "SCENARIOS", "Instance", "instances", "make_pair", "menios_backend",
           "host_backend", "SOCK_TYPES", "PAIR_KINDS", "PAIR_GRID", "TYPE_KIND_GRID",
           "TYPE_MODE_GRID", "TYPE_GRID", "Background",
           "LEAK_COUNTERS", "describe_grid", "instances_of"]

SOCK_TYPES = (socket.SOCK_STREAM, socket.SOCK_SEQPACKET, socket.SOCK_DGRAM)
PAIR_KINDS = ("socketpair", "filesystem", "abstract")
#: The usual grid: every socket type x pair kind x blocking mode.
PAIR_GRID = {"sotype": SOCK_TYPES, "kind": PAIR_KINDS, "nonblock": (False, True)}
#: The grid less the axes a scenario cannot observe.  A scenario leaves out
#: ``nonblock`` when no call of it could block (so ``O_NONBLOCK`` and
#: ``MSG_DONTWAIT`` cannot differ) and it neither reads the file flags nor
#: hands the socket on; it leaves out ``kind`` when it observes no name,
#: peer credential or other trace of how the pair was made.  The parameter
#: left out keeps its default (a blocking socketpair).
TYPE_KIND_GRID = {"sotype": SOCK_TYPES, "kind": PAIR_KINDS}
TYPE_MODE_GRID = {"sotype": SOCK_TYPES, "nonblock": (False, True)}
TYPE_GRID = {"sotype": SOCK_TYPES}
_TYPE_NAMES = {socket.SOCK_STREAM: "stream", socket.SOCK_SEQPACKET: "seqpacket",
               socket.SOCK_DGRAM: "dgram"}


def menios_backend():
    """A fresh ``menios.Kernel()`` (menios is imported only now)."""
    import menios
    return menios.Kernel()


def host_backend():
    """A fresh :class:`~menios.conformance.host.HostKernel`."""
    from .host import HostKernel
    return HostKernel()


# ------------------------------------------------------------------ traces

class _Proxy:
    """Forwards everything to the wrapped kernel or process."""

    def __init__(self, obj, trace):
        self._obj = obj
        self._trace = trace

    def __getattr__(self, name):
        return getattr(self._obj, name)

    def __repr__(self):
        return repr(self._obj)


class _KernelProxy(_Proxy):
    def spawn(self, *args, **kwargs):
        return self._trace._register(self._obj.spawn(*args, **kwargs))


class _ProcessProxy(_Proxy):
    def fork(self):
        return self._trace._register(self._obj.fork())


def _is_autobind(value):
    return (isinstance(value, bytes) and len(value) == 6 and value[0] == 0
            and all(c in b"0123456789abcdef" for c in value[1:]))


class Trace:
    """The recorded outcomes of one scenario run on one backend.

    ``steps`` is a list of ``(label, outcome)``.
    """

    def __init__(self, name=""):
        self.name = name
        self.steps = []
        self.frozen = False   # set when the run timed out: later steps are dropped
        self.leaks = {}       # menios debug counters not back to zero after the run
        self._names = {}      # id(process object) -> "p1"
        self._pids = {}       # pid -> "p1"
        self._auto = {}       # autobind name -> "@auto1"
        self.procs = []       # [("p1", process)] in spawn/fork order

    def kernel(self, k):
        """``k`` seen through a proxy that registers spawned/forked processes."""
        return _KernelProxy(k, self)

    def _register(self, proc):
        name = f"p{len(self._pids) + 1}"
        proxy = _ProcessProxy(proc, self)
        self._names[id(proc)] = self._names[id(proxy)] = name
        self._pids[proc.pid] = name
        self.procs.append((name, proc))
        return proxy

    def call(self, fn, *args, **kwargs):
        """Run ``fn(*args, **kwargs)``, record its outcome, return its value
        (``None`` when it failed)."""
        owner = self._names.get(id(getattr(fn, "__self__", None)))
        label = getattr(fn, "__name__", repr(fn))
        shown = ", ".join([_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()])
        return self.step(f"{owner + '.' if owner else ''}{label}({shown})", fn, *args, **kwargs)

    def step(self, label, fn, *args, **kwargs):
        """Like :meth:`call`, with an explicit label."""
        value = None
        try:
            value = fn(*args, **kwargs)
        except unittest.SkipTest:
            raise                    # the backend cannot run this scenario
        except OSError as e:
            outcome = ("err", errno.errorcode.get(e.errno, e.errno)) if e.errno else ("exc", "OSError")
        except Exception as e:
            outcome = ("exc", type(e).__name__)
        else:
            outcome = ("ok", self.normalise(value, getattr(fn, "__name__", ""), args))
        if not self.frozen:
            self.steps.append((label, outcome))
        return value

    def note(self, label, value):
        """Record a plain value computed by the scenario."""
        self.step(label, lambda: value)

    def normalise(self, value, fname="", args=()):
        """``value`` with run-specific details replaced (see the module doc)."""
        if fname == "listdir" and isinstance(value, list):
            return sorted(value)
        if fname == "pidfd_getpid" and isinstance(value, int) and value > 0:
            return self._pids.get(value, "pid?")
        if (fname == "getsockopt" and isinstance(value, bytes) and len(value) == 12
                and tuple(args[1:3]) == (socket.SOL_SOCKET, socket.SO_PEERCRED)):
            return self._ucred(value)
        return self._norm(value)

    def _ucred(self, data):
        pid, uid, gid = struct.unpack("3i", data)
        return ("ucred", self._pids.get(pid, "pid?") if pid else 0, uid, gid)

    def _norm(self, v):
        if id(v) in self._names:                 # a process (from fork/spawn)
            return self._names[id(v)]
        if isinstance(v, os.stat_result):
            fmt = stat.S_IFMT(v.st_mode)
            return ("stat", fmt, stat.S_IMODE(v.st_mode), v.st_uid, v.st_gid, v.st_nlink,
                    None if fmt == stat.S_IFDIR else v.st_size)
        if _is_autobind(v):
            return self._auto.setdefault(v, f"@auto{len(self._auto) + 1}")
        if (type(v) is tuple and len(v) == 3 and v[0] == socket.SOL_SOCKET
                and isinstance(v[2], bytes) and v[1] in _SCM_TIMESTAMPS and len(v[2]) == 16):
            return ("SCM_TIMESTAMP", v[1], _timestamp(v[1], v[2]))
        if (type(v) is tuple and len(v) == 3 and v[0] == socket.SOL_SOCKET
                and isinstance(v[2], bytes)
                and v[1] in (socket.SCM_RIGHTS, socket.SCM_CREDENTIALS)):
            if v[1] == socket.SCM_CREDENTIALS and len(v[2]) == 12:
                return ("SCM_CREDENTIALS", self._ucred(v[2]))
            if v[1] == socket.SCM_RIGHTS:
                n = len(v[2]) // 4
                return ("SCM_RIGHTS", struct.unpack(f"{n}i", v[2][:4 * n]))
        if type(v) in (list, tuple):
            return type(v)(self._norm(x) for x in v)
        if isinstance(v, tuple):                 # a named tuple: its type's name and items
            return (type(v).__name__,) + tuple(self._norm(x) for x in v)
        if isinstance(v, (set, frozenset)):
            return (type(v).__name__,) + tuple(sorted(self._norm(x) for x in v))
        if isinstance(v, dict):
            return {k: self._norm(x) for k, x in v.items()}
        if isinstance(v, int) and not isinstance(v, bool):
            return int(v)                    # IntEnum / Signals -> int
        return v


#: SCM_TIMESTAMP, SCM_TIMESTAMPNS and their _NEW twins: a timeval (the
#: first and third) or a timespec; the number is the option's.
_SCM_TIMESTAMPS = {29: 10**6, 35: 10**9, 63: 10**6, 64: 10**9}


def _timestamp(kind, data):
    """A receive timestamp as a trace shows it: "now" when it is a wall-clock
    time within an hour of now with its fraction in range (the backends
    stamp at different moments), else the raw (seconds, fraction)."""
    sec, frac = struct.unpack("qq", data)
    if abs(sec - time.time()) < 3600 and 0 <= frac < _SCM_TIMESTAMPS[kind]:
        return "now"
    return (sec, frac)


def same(x, y):
    """``x == y`` with types compared too, at every level: ``True`` is not
    ``1``, ``[1]`` is not ``(1,)``, ``bytearray(b"a")`` is not ``b"a"``."""
    if type(x) is not type(y):
        return False
    if isinstance(x, (list, tuple)):
        return len(x) == len(y) and all(map(same, x, y))
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(same(x[key], y[key]) for key in x)
    return x == y


def _short(value, width=40):
    text = value.name if isinstance(value, enum.Enum) else repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


class Background:
    """``fn(*args)`` run in a thread, for scenarios about blocking calls.

    ``blocked(t, label, pause)`` records whether the call is blocked: after
    ``pause`` seconds (a call that does not block returns within them) it
    waits until the call has either returned or is asleep in ``k``
    (``k.wait_blocked``).  So a call that is merely slow to start -- a loaded
    machine, a sanitizer build -- is not taken for a blocked one, and the
    scenario's next step cannot overtake a call still on its way to sleep.
    ``result(t, label)`` joins the thread (at most ``JOIN`` seconds) and
    records the call's outcome as one step, so traces stay ordered.
    """

    JOIN = 10.0

    def __init__(self, k, fn, *args):
        self.k = k
        self.asleep_before = k.blocked()    # calls of other threads already asleep
        self.out = None
        self.th = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self.th.start()

    def _run(self, fn, args):
        try:
            self.out = ("ok", fn(*args))
        except BaseException as e:      # noqa: BLE001 (replayed by result)
            self.out = ("exc", e)

    def blocked(self, t, label="blocked", pause=0.25):
        self.th.join(pause)
        deadline = time.monotonic() + self.JOIN
        while self.th.is_alive() and time.monotonic() < deadline:
            if self.k.wait_blocked(self.asleep_before + 1, 0.02):
                break
        t.note(label, self.th.is_alive())

    def result(self, t, label="background call"):
        self.th.join(self.JOIN)

        def outcome():
            if self.th.is_alive() or self.out is None:
                raise RuntimeError("background call still blocked")
            if self.out[0] == "exc":
                raise self.out[1]
            return self.out[1]
        return t.step(label, outcome)


# ------------------------------------------------------------------ running

def _run_one(fn, factory, params, timeout):
    trace = Trace(getattr(factory, "__name__", "backend").replace("_backend", ""))
    skipped = []
    kernel = factory()

    def body():
        try:
            fn(trace.kernel(kernel), trace, **params)
        except unittest.SkipTest as e:
            skipped.append(e)
        except BaseException as e:
            trace.steps.append((f"<scenario raised {type(e).__name__}: {e}>",
                                ("crash", type(e).__name__)))

    runner = threading.Thread(target=body, daemon=True)
    try:
        runner.start()
        runner.join(timeout)
        if runner.is_alive():
            trace.frozen = True
            trace.steps.append((f"<scenario still running after {timeout}s>", ("timeout",)))
    finally:
        kernel.close()           # wakes whatever is still blocked
    runner.join(5)
    if skipped:
        raise skipped[0]
    trace.leaks = leaks(kernel)
    return trace


#: The debug counters of a menios kernel that must be back to zero once it
#: has closed: a socket, skb, queued byte or file in flight left is a leak.
LEAK_COUNTERS = ("sockets", "skbs", "bytes_queued", "files_inflight")


def leaks(kernel, names=LEAK_COUNTERS):
    """``{counter: value}`` for each of ``names`` (default
    :data:`LEAK_COUNTERS`) that is not zero in ``kernel.counters()``; ``{}``
    for a kernel without counters (the host)."""
    counters = getattr(kernel, "counters", None)
    if counters is None:
        return {}
    c = counters()
    return {name: c[name] for name in names if c[name]}


def run_scenario(fn, backends=None, params=None, timeout=30.0):
    """Run ``fn`` once per backend (factories; default menios then host).

    Returns one :class:`Trace` per backend.  A scenario still running after
    ``timeout`` seconds is cut short (its kernel is closed) and the trace
    ends with a ``("timeout",)`` step.
    """
    return tuple(_run_one(fn, factory, dict(params or {}), timeout)
                 for factory in backends or (menios_backend, host_backend))


def diff_traces(a, b, limit=5):
    """A readable report of where traces ``a`` and ``b`` differ ('' if they agree)."""
    width = max(len(a.name), len(b.name))
    lines, shown = [], 0
    differing = [i for i in range(max(len(a.steps), len(b.steps)))
                 if i >= len(a.steps) or i >= len(b.steps) or not same(a.steps[i][1], b.steps[i][1])]
    for i in differing[:limit]:
        sa = a.steps[i] if i < len(a.steps) else ("<no such step>", ("missing",))
        sb = b.steps[i] if i < len(b.steps) else ("<no such step>", ("missing",))
        lines.append(f"  step {i + 1}: {sa[0]}" + (f"   [{b.name}: {sb[0]}]" if sb[0] != sa[0] else ""))
        lines.append(f"      {a.name:<{width}} -> {_outcome(sa[1])}")
        lines.append(f"      {b.name:<{width}} -> {_outcome(sb[1])}")
        if _outcome(sa[1]) == _outcome(sb[1]):       # the difference is out of sight
            lines.append(f"      first difference: {_first_difference(sa[1], sb[1])}")
        shown += 1
    if not differing:
        return ""
    head = (f"traces differ at {len(differing)} of {max(len(a.steps), len(b.steps))} steps "
            f"({a.name}: {len(a.steps)} steps, {b.name}: {len(b.steps)} steps)")
    more = [f"  ... and {len(differing) - shown} more"] if len(differing) > shown else []
    return "\n".join([head] + lines + more)


def _first_difference(x, y, path="outcome"):
    """Where ``same(x, y)`` first fails, as ``path: repr vs repr``."""
    if type(x) is type(y) and isinstance(x, (list, tuple)) and len(x) == len(y):
        for i, (xi, yi) in enumerate(zip(x, y)):
            if not same(xi, yi):
                return _first_difference(xi, yi, f"{path}[{i}]")
    if type(x) is type(y) and isinstance(x, dict) and x.keys() == y.keys():
        for key in x:
            if not same(x[key], y[key]):
                return _first_difference(x[key], y[key], f"{path}[{key!r}]")
    return (f"{path}: {type(x).__name__} {_short(x, 60)} vs "
            f"{type(y).__name__} {_short(y, 60)}")


def _outcome(outcome):
    if outcome[0] == "ok":
        return "ok " + _short(outcome[1], 200)
    return " ".join(map(str, outcome))


def compare(a, b):
    """The verdict on traces ``a`` and ``b``: '' when they agree step by step,
    both ran to their end (no crash, no timeout, on either side) and neither
    kernel leaked (:func:`leaks`); otherwise a readable report of each fault.

    Agreeing is not enough: a scenario that crashed or hung the same way on
    both backends tested nothing past that point.
    """
    if a.name == b.name:
        a.name, b.name = a.name + "#1", b.name + "#2"
    faults = []
    report = diff_traces(a, b)
    if report:
        faults.append(report)
    for trace in (a, b):
        broken = [label for label, outcome in trace.steps
                  if outcome and outcome[0] in ("crash", "timeout")]
        if broken:
            faults.append(f"did not run to its end on {trace.name}: {broken[0]}")
        if trace.leaks:
            faults.append(f"{trace.name} leaked after the scenario: {trace.leaks!r}")
    return "\n".join(faults)


def assert_same(fn, params=None, backends=None, timeout=30.0):
    """Run ``fn`` on two backends; AssertionError with the :func:`compare`
    report unless they agree."""
    a, b = run_scenario(fn, backends, params, timeout)
    report = compare(a, b)
    if report:
        raise AssertionError(f"{getattr(fn, '__name__', fn)}({params or {}}): {report}")
    return a, b


# ------------------------------------------------------------------ registry

#: name -> (function, parameter grid {param: values}).
SCENARIOS = {}


#: What a scenario may need of the machine beyond an ordinary user: the
#: host backend runs it only where it is provided (host.unmet tells why not).
NEEDS = {
    "root": "the initial user namespace's root: capable() checks",
    "ids": "several uids or gids, or files owned by other ids than the caller's",
    "ss": "iproute2's ss, run by the host backend in the scenario's network namespace",
}


def scenario(name=None, params=None, needs=()):
    """Register a scenario with its parameter grid ``{param: [values]}`` and
    what it ``needs`` of the machine (keys of :data:`NEEDS`).

    A grid lists each value once, so every instance is distinct."""
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise ValueError(f"unknown needs {sorted(unknown)}")

    def register(fn):
        key = name or fn.__name__
        if key in SCENARIOS:
            raise ValueError(f"scenario {key!r} registered twice")
        grid = dict(params or {})
        for param, values in grid.items():
            shown = [_shown(param, v) for v in values]
            if not shown or len(set(shown)) != len(shown):
                raise ValueError(f"scenario {key!r}: {param} must list distinct values, "
                                 f"not {tuple(values)!r}")
        SCENARIOS[key] = (fn, grid)
        fn.needs = frozenset(needs)
        return fn
    return register


def _shown(param, value):
    return str(_TYPE_NAMES.get(value, value) if param == "sotype" else value)


def describe_grid(grid):
    """``grid`` in one line: ``sotype=stream|dgram kind=socketpair|abstract``
    (``-`` for a scenario without parameters)."""
    return " ".join(f"{param}=" + "|".join(_shown(param, v) for v in values)
                    for param, values in grid.items()) or "-"


class Instance:
    """One scenario with one point of its grid; ``id`` names it."""

    def __init__(self, name, fn, params):
        self.name, self.fn, self.params = name, fn, params
        self.needs = getattr(fn, "needs", frozenset())
        shown = ",".join(f"{k}={_shown(k, v)}" for k, v in params.items())
        self.id = f"{name}[{shown}]" if params else name

    def __repr__(self):
        return f"<Instance {self.id}>"


def instances_of(name):
    """Every instance of the scenario registered as ``name``."""
    fn, grid = SCENARIOS[name]
    return [Instance(name, fn, dict(zip(grid, combo)))
            for combo in itertools.product(*grid.values())]


def instances(select=None):
    """Every registered scenario instance whose id contains ``select``."""
    return [inst for name in SCENARIOS for inst in instances_of(name)
            if not select or select in inst.id]


# ------------------------------------------------------------------ helpers

def _bind_fresh(p, fd, kind, suffix):
    """Bind ``fd`` to the first free name of the kind; return the name."""
    for i in itertools.count():
        name = f"/tmp/pair{i}{suffix}" if kind == "filesystem" else f"\0pair{i}{suffix}".encode()
        try:
            p.bind(fd, name)
            return name
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise


def make_pair(k, p, sotype, kind, nonblock=False):
    """A connected pair ``(fd_a, fd_b)`` of ``sotype`` sockets in process ``p``.

    ``kind`` is ``"socketpair"``, ``"filesystem"`` or ``"abstract"``: for the
    bound kinds, stream and seqpacket pairs are listen+connect+accept (the
    listener is closed; ``fd_a`` is the connecting end), datagram pairs are
    two bound sockets connected to each other.  ``nonblock`` sets
    ``O_NONBLOCK`` on both.  Names are the first free ``/tmp/pairN{a,b}`` or
    abstract ``\\0pairN{a,b}``, so fd numbers and names are the same on every
    backend.  ``k`` is unused (kept so every helper takes the kernel).
    """
    if kind == "socketpair":
        a, b = p.socketpair(socket.AF_UNIX, sotype)
    elif kind not in PAIR_KINDS:
        raise ValueError(f"unknown pair kind {kind!r}")
    elif sotype == socket.SOCK_DGRAM:
        a = p.socket(socket.AF_UNIX, sotype)
        name_a = _bind_fresh(p, a, kind, "a")
        b = p.socket(socket.AF_UNIX, sotype)
        name_b = _bind_fresh(p, b, kind, "b")
        p.connect(a, name_b)
        p.connect(b, name_a)
    else:
        listener = p.socket(socket.AF_UNIX, sotype)
        name = _bind_fresh(p, listener, kind, "")
        p.listen(listener, 1)
        a = p.socket(socket.AF_UNIX, sotype)
        p.connect(a, name)
        b, _ = p.accept(listener)
        p.close(listener)
    if nonblock:
        for fd in (a, b):
            p.fcntl(fd, fcntl.F_SETFL, p.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    return a, b
