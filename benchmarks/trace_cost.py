"""What disabled tracing costs the hot path, in instructions (callgrind).

Wall-clock time on a shared 2-core VM varies by more than the few
instructions a disabled tracepoint costs, so this counts instructions
instead: valgrind's callgrind runs ``send_recv_64_stream``'s loop (one
thread: send 64 B on a socketpair, recv it) under two builds of menios -- the
normal one, whose tracepoints are compiled in and off, and one built with
``MENIOS_NO_TRACE=1`` (setup.py), which removes them -- each for two loop
lengths.  The difference of the two totals divided by the difference of the
lengths is the instructions per send+recv, with interpreter start-up and
import cancelled out.

    python benchmarks/trace_cost.py measure --baseline /tmp/menios-notrace
    python benchmarks/trace_cost.py loop 1000     # what callgrind runs

``--baseline`` is a copy of the source tree built in place with
``MENIOS_NO_TRACE=1 python setup.py build_ext --inplace``; the tree this
script lives in is the traced build.  Figures: benchmarks/README.md.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def loop(n, traced=False):
    import menios
    from menios import Kernel, SOCK_STREAM
    tree = os.environ.get("TRACE_COST_TREE")
    if tree and not menios.__file__.startswith(os.path.join(tree, "")):
        raise SystemExit("menios imported from %s, not %s" % (menios.__file__, tree))
    with Kernel() as k:
        p = k.spawn()
        a, b = p.socketpair(1, SOCK_STREAM)
        send, recv = p.send, p.recv
        data = b"x" * 64
        for _ in range(200):        # warm up: caches, allocator
            send(a, data)
            recv(b, 64)
        if traced:
            t = k.tracing(max_events=1 << 30)
            t.start()
        for _ in range(n):
            send(a, data)
            recv(b, 64)
        if traced:
            t.stop()


def callgrind_ir(tree, n, traced=False):
    """Total instructions (Ir) of ``loop(n)`` run from ``tree``."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        env = dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED="0", TRACE_COST_TREE=tree)
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
               sys.executable, os.path.abspath(__file__), "loop", str(n)]
        if traced:
            cmd.append("--traced")
        r = subprocess.run(cmd, env=env, cwd=d, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("callgrind failed:\n" + r.stderr[-2000:])
        m = re.search(r"Collected : (\d+)", r.stderr)
        if m is None:
            raise RuntimeError("no total in callgrind's output:\n" + r.stderr[-2000:])
        return int(m.group(1))


def per_call(tree, n1, n2, traced=False):
    return (callgrind_ir(tree, n2, traced) - callgrind_ir(tree, n1, traced)) / (n2 - n1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("loop")
    lp.add_argument("n", type=int)
    lp.add_argument("--traced", action="store_true")
    mp = sub.add_parser("measure")
    mp.add_argument("--baseline", required=True, help="tree built with MENIOS_NO_TRACE=1")
    mp.add_argument("--n1", type=int, default=2000)
    mp.add_argument("--n2", type=int, default=12000)
    args = ap.parse_args(argv)
    if args.cmd == "loop":
        loop(args.n, args.traced)
        return 0
    base = per_call(args.baseline, args.n1, args.n2)
    off = per_call(HERE, args.n1, args.n2)
    on = per_call(HERE, args.n1, args.n2, traced=True)
    print("send+recv of 64 B, instructions per call pair (callgrind Ir, loops of %d and %d):"
          % (args.n1, args.n2))
    print("  built without tracepoints : %10.0f" % base)
    print("  tracepoints off           : %10.0f  (%+.2f%%)" % (off, 100 * (off / base - 1)))
    print("  tracing on                : %10.0f  (%+.2f%%)" % (on, 100 * (on / base - 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
