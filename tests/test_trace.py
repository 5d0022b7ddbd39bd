"""Tracing: ``with k.tracing() as t`` records system calls, sk_buffs,
sleeps and wake-ups, page handoffs and collector passes; the Chrome export
loads as a valid trace; the byte counts of the events add up to the kernel's
copy counters."""
import errno
import json
import os
import subprocess
import sys
import threading

import pytest

import menios
from menios import (AF_UNIX, MSG_ZEROCOPY, SCM_RIGHTS, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET,
                    bench)
from menios import trace as trace_mod

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 30

# Chrome trace-event phases this exporter writes.
PHASES = {"X", "i", "b", "e", "s", "f", "M"}


def check_chrome(doc):
    """Check ``doc`` has the structure of Chrome's trace-event format (the
    JSON object form) as Perfetto and chrome://tracing read it; return its
    events."""
    assert isinstance(doc, dict) and isinstance(doc["traceEvents"], list)
    evs = doc["traceEvents"]
    named = set()
    open_async = {}
    flows = {}
    for e in evs:
        assert e["ph"] in PHASES, e
        assert isinstance(e["name"], str) and e["name"], e
        assert type(e["pid"]) is int and type(e["tid"]) is int, e
        if e["ph"] == "M":
            assert e["name"] in ("process_name", "process_sort_index", "thread_name"), e
            if e["name"] == "process_name":
                named.add(e["pid"])
            continue
        assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
        assert isinstance(e.get("cat", ""), str)
        if e["ph"] == "X":
            assert isinstance(e["dur"], (int, float)) and e["dur"] >= 0, e
        elif e["ph"] == "i":
            assert e["s"] in ("t", "p", "g"), e
        elif e["ph"] == "b":
            key = (e["cat"], e["id"])
            assert key not in open_async, e
            open_async[key] = e
        elif e["ph"] == "e":
            b = open_async.pop((e["cat"], e["id"]))
            assert e["ts"] >= b["ts"] and e["pid"] == b["pid"], (b, e)
        elif e["ph"] == "s":
            assert e["id"] not in flows, e
            flows[e["id"]] = e
        elif e["ph"] == "f":
            s = flows.pop(e["id"])
            assert e["bp"] == "e" and e["ts"] >= s["ts"] and e["name"] == s["name"], (s, e)
        if "args" in e:
            assert isinstance(e["args"], dict), e
    assert not open_async, open_async
    assert not flows, flows
    # every track has a name
    assert {e["pid"] for e in evs if e["ph"] != "M"} <= named
    return evs


def by_name(t, name):
    return [e for e in t.events if e.name == name]


def test_send_recv_events_in_order_with_pid_and_thread(kernel):
    p = kernel.spawn()
    a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
    with kernel.tracing() as t:
        assert p.send(a, b"x" * 100) == 100
        assert p.recv(b, 100) == b"x" * 100
    names = [e.name for e in t.events]
    assert names == ["sys_enter", "skb_alloc", "copy", "skb_queue", "sys_exit",
                     "sys_enter", "copy", "skb_dequeue", "skb_free", "sys_exit"]
    tid = threading.get_native_id()
    assert {e.pid for e in t.events} == {p.pid}
    assert {e.tid for e in t.events} == {tid}
    ts = [e.ts for e in t.events]
    assert ts == sorted(ts) and ts[0] > 0
    enter, alloc, copy, queue, exit_ = t.events[:5]
    ino_a, ino_b = p.fstat(a).st_ino, p.fstat(b).st_ino
    assert enter.args == {"call": "send", "fd": a, "ino": ino_a}
    assert alloc.args["len"] == 100 and queue.args["skb"] == alloc.args["skb"]
    assert copy.args == {"dir": "send", "ino": ino_a, "bytes": 100}
    assert queue.args["qlen"] == 1
    assert exit_.args == {"call": "send", "ret": 100, "bytes_copied": 100, "bytes_zerocopy": 0}
    assert t.events[6].args == {"dir": "recv", "ino": ino_b, "bytes": 100}
    assert t.events[7].args["skb"] == alloc.args["skb"] and t.events[7].args["qlen"] == 0
    assert t.events[9].args["ret"] == 100 and t.events[9].args["bytes_copied"] == 100
    assert t.dropped == 0


def test_nothing_is_recorded_outside_the_trace(kernel):
    p = kernel.spawn()
    a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
    p.send(a, b"before")
    with kernel.tracing() as t:
        p.recv(b, 100)
    p.send(a, b"after")
    p.recv(b, 100)
    assert [e.name for e in t.events] == ["sys_enter", "copy", "skb_dequeue", "skb_free",
                                          "sys_exit"]
    assert trace_mod.active() is None
    assert "sendmsg" not in p.__dict__          # the traced methods are unbound again


def test_errno_and_every_call_kind(kernel):
    p = kernel.spawn(comm="tracee")
    with kernel.tracing() as t:
        with pytest.raises(OSError):
            p.recv(99, 10)
        with pytest.raises(OSError):
            p.connect(p.socket(), "/nowhere")
        s = p.socket(AF_UNIX, SOCK_DGRAM)
        p.bind(s, b"\0traced")
        c = p.socket(AF_UNIX, SOCK_DGRAM)
        p.sendto(c, b"hi", b"\0traced")
        assert p.recvfrom(s, 10)[0] == b"hi"
        q = p.fork()
        q.exit()
        p.close(c)
    calls = [(s_["call"], s_.get("errno"), s_.get("ret")) for s_ in t.syscalls()]
    assert calls[0] == ("recv", errno.EBADF, None)
    assert ("connect", errno.ENOENT, None) in calls
    assert ("sendto", None, 2) in calls and ("recvfrom", None, 2) in calls
    assert [c_[0] for c_ in calls].count("socket") == 3
    assert ("fork", None, 0) in calls and ("close", None, 0) in calls
    # the child's exit is traced as the child's
    assert [s_["pid"] for s_ in t.syscalls() if s_["call"] == "exit"] == [p.pid + 1]
    assert t.comms[p.pid] == "tracee" and t.comms[p.pid + 1] == "tracee"


def test_one_trace_at_a_time(kernel):
    with kernel.tracing():
        with pytest.raises(RuntimeError):
            kernel.tracing().start()
        with menios.Kernel() as k2:
            with pytest.raises(RuntimeError):
                k2.tracing().start()
    with kernel.tracing() as t:
        pass
    assert t.events == []


def test_faults_still_act_on_a_traced_process(kernel):
    p = kernel.spawn()
    a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
    with kernel.tracing() as t:
        f = kernel.faults.inject("sendmsg", errno=errno.EAGAIN, count=1)
        with pytest.raises(BlockingIOError):
            p.sendmsg(a, [b"x"])
        assert p.sendmsg(a, [b"y"]) == 1
        f.remove()
    assert p.recv(b, 10) == b"y"
    res = [(s["call"], s.get("errno"), s.get("ret")) for s in t.syscalls()]
    assert res == [("sendmsg", errno.EAGAIN, None), ("sendmsg", None, 1)]


def test_sleep_wakeup_and_block_events(kernel):
    p = kernel.spawn()
    a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
    kernel.net.wait_spin_us = 0          # sleep at once: no spin to catch the wake-up
    got = []
    with kernel.tracing() as t:
        th = threading.Thread(target=lambda: got.append(p.recv(b, 10)))
        th.start()
        assert kernel.wait_blocked(1, TIMEOUT)
        p.send(a, b"wake")
        th.join(TIMEOUT)
        assert not th.is_alive()
    assert got == [b"wake"]
    sleeps, ends, wakes = by_name(t, "sleep"), by_name(t, "sleep_end"), by_name(t, "wakeup")
    assert len(sleeps) >= 1 and len(ends) == len(sleeps)
    w = sleeps[-1].args["waiter"]
    assert any(e.args["waiter"] == w and e.args["reason"] == "event" for e in wakes)
    assert ends[-1].args == {"waiter": w, "reason": "event"}
    assert sleeps[-1].tid == th.native_id and sleeps[-1].pid == p.pid
    waker = [e for e in wakes if e.args["waiter"] == w][0]
    assert waker.tid == threading.get_native_id()
    blocks = by_name(t, "block")
    assert [e.args["call"] for e in blocks] == ["recv"] and blocks[0].tid == th.native_id
    assert by_name(t, "unblock")[0].args == {"call": "recv", "ret": 4}
    # in the Chrome trace: an arrow from the waker's send to the sleeper
    evs = check_chrome({"traceEvents": t.chrome_events()})
    starts = [e for e in evs if e["ph"] == "s"]
    assert [(e["tid"], e["name"]) for e in starts] == [(waker.tid, "wakeup")]
    (end,) = [e for e in evs if e["ph"] == "f"]
    sleep = [e for e in evs if e["ph"] == "X" and e["name"] == "sleep"][-1]
    assert end["tid"] == th.native_id and sleep["ts"] <= end["ts"] <= sleep["ts"] + sleep["dur"]


def test_gc_pass_events(kernel):
    p = kernel.spawn()
    a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
    p.send_fds(a, [b"x"], [a, b])          # each end in flight on b's queue
    with kernel.tracing() as t:
        p.close(a)
        p.close(b)
        kernel.gc()
    begins, ends = by_name(t, "gc_begin"), by_name(t, "gc_end")
    assert len(begins) == len(ends) >= 1
    assert sum(e.args["collected"] for e in ends) == 2
    frees = by_name(t, "skb_free")
    assert frees and frees[-1].ts > begins[0].ts


def _mixed_workload(k, p):
    """Stream copies, datagrams, fds in flight and zero-copy handoffs."""
    a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
    c, d = p.socketpair(AF_UNIX, SOCK_DGRAM)
    for n in (1, 100, 5000, 70000):
        p.sendmsg(a, [b"s" * n])
        got = 0
        while got < n:
            got += len(p.recv(b, 1 << 20))
        p.send(c, b"d" * n if n < 60000 else b"d")
        p.recv(d, 1 << 17)
    buf = bytearray(64)
    p.send(a, b"r" * 64)
    assert p.recv_into(b, buf) == 64
    p.send_fds(c, [b"f"], [a])
    _, fds, _, _ = p.recv_fds(d, 10, 1)
    p.close(fds[0])
    pages = k.alloc_pages(8)
    for _ in range(3):
        p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
        pb = p.recv_pages(b)
        pb.release()
        assert pages.wait(TIMEOUT)
        pages.reclaim()
    for fd in (a, b, c, d):
        p.close(fd)


def test_event_bytes_add_up_to_the_copy_counters(kernel):
    p = kernel.spawn()
    c0 = kernel.counters()
    with kernel.tracing() as t:
        _mixed_workload(kernel, p)
    c1 = kernel.counters()
    calls = t.syscalls()
    copied = c1["bytes_copied"] - c0["bytes_copied"]
    # the core's copy events, one per copy, against the counter they also bump
    copies = by_name(t, "copy")
    assert sum(e.args["bytes"] for e in copies) == copied
    assert sum(e.args["bytes"] for e in copies if e.args["dir"] == "send") == \
        sum(e.args["bytes"] for e in copies if e.args["dir"] == "recv")
    # and what each system call's socket counted
    assert sum(s["bytes_copied"] for s in calls) == copied
    # the kernel counts a handoff once, when the pages are sent
    sends = [s for s in calls if not s["call"].startswith("recv")]
    assert sum(s["bytes_zerocopy"] for s in sends) == \
        c1["bytes_zerocopy"] - c0["bytes_zerocopy"] == 3 * 8 * 4096
    # every sk_buff allocated was freed, each queued once and dequeued at most once
    counts = t.counts()
    assert counts["skb_alloc"] == counts["skb_free"] == counts["skb_queue"]
    assert counts["skb_dequeue"] <= counts["skb_queue"]
    assert counts["sys_enter"] == counts["sys_exit"] == len(calls)
    hand = by_name(t, "handoff")
    assert [e.args["dir"] for e in hand] == ["send", "recv"] * 3
    assert sum(e.args["bytes"] for e in hand if e.args["dir"] == "send") == \
        c1["bytes_zerocopy"] - c0["bytes_zerocopy"]
    assert len(t.handoffs()) == 3
    assert all(h["bytes_copied"] == 0 and h["received"] <= h["done"] for h in t.handoffs())


def test_per_socket_copies_match_diag(kernel):
    p = kernel.spawn()
    a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
    pages = kernel.alloc_pages(4)
    with kernel.tracing() as t:
        p.send(a, b"x" * 3000)
        p.recv(b, 1000)
        p.recv(b, 5000)
        p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
        p.recv_pages(b).release()
        p.send(b, b"back")
    diag = {d["inode"]: d for d in kernel.diag()}
    copies = t.copies()
    assert set(copies) == {p.fstat(a).st_ino, p.fstat(b).st_ino}
    for ino, c in copies.items():
        d = diag[ino]
        assert c["copied_in"] == d["bytes_copied_in"]
        assert c["copied_out"] == d["bytes_copied_out"]
        assert c["zerocopy_in"] == d["bytes_zerocopy_in"]
        assert c["zerocopy_out"] == d["bytes_zerocopy_out"]
    assert copies[p.fstat(b).st_ino]["calls"] == 4


def test_zerocopy_benchmark_trace_shows_no_copy_per_handoff(tmp_path):
    """menios bench's zerocopy_1m, writer and reader threads, traced whole."""
    with trace_mod.Trace(None) as t:
        res = bench._zerocopy("menios", 0.2, ring=4)
    n = res["ops"]
    assert n >= 10 and t.dropped == 0
    hs = t.handoffs()
    assert len(hs) == n
    for h in hs:
        assert h["call"] == "sendmsg" and h["bytes"] == bench.ZC_SIZE
        assert h["bytes_copied"] == 0           # no copy event inside the handing call
        assert h["start"] <= h["received"] <= h["done"]
    # no payload copy anywhere in the run: the events agree with the counters
    assert t.counts().get("copy", 0) == 0
    calls = t.syscalls()
    sends = [s for s in calls if s["call"] == "sendmsg"]
    recvs = [s for s in calls if s["call"] == "recv_pages" and s.get("ret")]
    assert len(sends) == len(recvs) == n
    # the kernel's copy counters (checked by the benchmark itself) against the events
    assert sum(s["bytes_copied"] for s in calls) == res["bytes_copied_per_op"] * n == 0
    assert sum(s["bytes_zerocopy"] for s in sends) == n * bench.ZC_SIZE
    assert sum(s["bytes_zerocopy"] for s in recvs) == n * bench.ZC_SIZE
    # writer and reader threads of one simulated process
    (writer,), (reader,) = {s["tid"] for s in sends}, {s["tid"] for s in recvs}
    assert writer != reader and len({s["pid"] for s in calls}) == 1
    out = tmp_path / "zc.json"
    t.export_chrome(out)
    with open(out) as f:
        evs = check_chrome(json.load(f))
    handoffs = [e for e in evs if e.get("cat") == "zerocopy" and e["ph"] == "b"]
    assert len(handoffs) == n
    assert all(e["args"]["bytes_copied"] == 0 and e["args"]["bytes"] == bench.ZC_SIZE
               for e in handoffs)
    slices = [e for e in evs if e["ph"] == "X" and e.get("cat") == "syscall"]
    assert sum(e["args"]["bytes_copied"] for e in slices) == 0
    assert len([e for e in slices if e["name"] == "sendmsg"]) == n


def test_chrome_export_one_track_per_process(kernel, tmp_path):
    p = kernel.spawn(comm="server")
    q = kernel.spawn(comm="client")
    lfd = p.socket()
    p.bind(lfd, "/tmp/srv")
    p.listen(lfd)
    with kernel.tracing() as t:
        c = q.socket()
        th = threading.Thread(target=lambda: q.connect(c, "/tmp/srv"))
        th.start()
        s, _ = p.accept(lfd)
        th.join(TIMEOUT)
        q.send(c, b"ping")
        p.recv(s, 10)
        p.close(s)
        q.close(c)
    out = tmp_path / "t.json"
    t.export_chrome(str(out))
    with open(out) as f:
        doc = json.load(f)
    evs = check_chrome(doc)
    names = {e["pid"]: e["args"]["name"] for e in evs if e["name"] == "process_name"}
    assert names[p.pid] == "pid %d (server)" % p.pid
    assert names[q.pid] == "pid %d (client)" % q.pid
    by_pid = {}
    for e in evs:
        if e["ph"] == "X" and e.get("cat") == "syscall":
            by_pid.setdefault(e["pid"], []).append(e["name"])
    assert by_pid[p.pid] == ["accept", "recv", "close"]
    assert by_pid[q.pid] == ["socket", "connect", "send", "close"]


def test_plot_copies_writes_a_png(kernel, tmp_path):
    pytest.importorskip("matplotlib")
    p = kernel.spawn()
    a, b = p.socketpair()
    with kernel.tracing() as t:
        p.send(a, b"x" * 10)
        p.recv(b, 10)
    out = tmp_path / "c.png"
    t.plot_copies(out)
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


SCRIPT = """
import sys
from menios import Kernel, MSG_ZEROCOPY
with Kernel() as k:
    p = k.spawn(comm="scripted")
    a, b = p.socketpair()
    p.send(a, b"x" * 1000)
    p.recv(b, 1000)
    pg = k.alloc_pages(16)
    p.sendmsg(a, [pg], (), MSG_ZEROCOPY)
    p.recv_pages(b).release()
print("args", sys.argv[1:])
sys.exit(3)
"""


def test_cli_traces_a_whole_script(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out.json"
    r = subprocess.run([sys.executable, "-m", "menios.cli", "trace", "-o", str(out), "--",
                        "python", str(script), "one"], capture_output=True, text=True,
                       timeout=120, cwd=str(tmp_path))
    assert r.returncode == 3, r.stderr
    assert "args ['one']" in r.stdout
    assert "menios trace:" in r.stderr and "0 dropped" in r.stderr
    with open(out) as f:
        evs = check_chrome(json.load(f))
    assert any(e["name"] == "process_name" and e["args"]["name"] == "pid 1 (scripted)"
               for e in evs)
    calls = [e["name"] for e in evs if e["ph"] == "X" and e.get("cat") == "syscall"]
    assert calls[:4] == ["socketpair", "send", "recv", "sendmsg"]
    hand = [e for e in evs if e.get("cat") == "zerocopy" and e["ph"] == "b"]
    assert len(hand) == 1 and hand[0]["args"]["bytes_copied"] == 0


def test_cli_trace_usage_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "menios.cli", "trace", "-o",
                        str(tmp_path / "x.json")], capture_output=True, text=True,
                       timeout=60, cwd=str(tmp_path))
    assert r.returncode == 2 and "usage" in r.stderr


def test_cli_traces_the_example_server_with_pictures(tmp_path):
    """examples/traced_server.py, the README's picture: one copying and one
    zero-copy client; the plots are written."""
    pytest.importorskip("matplotlib")
    out, copies, timeline = (tmp_path / n for n in ("s.json", "c.png", "t.png"))
    r = subprocess.run([sys.executable, "-m", "menios.cli", "trace", "-o", str(out),
                        "--plot", str(copies), "--timeline", str(timeline), "--",
                        "python", os.path.join(ROOT, "examples", "traced_server.py")],
                       capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "copier got 5242880" in r.stdout and "zerocopy got 5242880" in r.stdout
    with open(out) as f:
        evs = check_chrome(json.load(f))
    hand = [e for e in evs if e.get("cat") == "zerocopy" and e["ph"] == "b"]
    assert len(hand) == 20 and all(e["args"]["bytes_copied"] == 0 for e in hand)
    sends = [e for e in evs if e.get("cat") == "syscall" and e["name"] == "sendmsg"]
    by_pid = {}
    for e in sends:
        d = by_pid.setdefault(e["pid"], [0, 0])
        d[0] += e["args"]["bytes_copied"]
        d[1] += e["args"]["bytes_zerocopy"]
    assert sorted(by_pid.values()) == [[0, 20 * 256 * 1024], [20 * 256 * 1024, 0]]
    for png in (copies, timeline):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
