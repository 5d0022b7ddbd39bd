"""The ``menios`` command: demo, conform, bench, ss, trace."""
import argparse
import os
import sys
import threading
import unittest

from . import Kernel, __version__
from .constants import AF_UNIX, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_PEERCRED


def _demo(args):
    """A server and two clients in separate simulated processes."""
    import struct
    out = print
    with Kernel() as k:
        server = k.spawn(uid=0, gid=0)
        server.mkdir("/run", 0o755)
        lfd = server.socket(AF_UNIX, SOCK_STREAM)
        server.bind(lfd, "/run/echo.sock")
        server.chmod("/run/echo.sock", 0o666)
        server.listen(lfd, 8)
        out("server pid %d listening on /run/echo.sock (%s)"
            % (server.pid, oct(server.stat("/run/echo.sock").st_mode)))

        def serve(n):
            for _ in range(n):
                cfd, _ = server.accept(lfd)
                pid, uid, gid = struct.unpack(
                    "3i", server.getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, 12))
                data = server.recv(cfd, 1024)
                server.send(cfd, b"hello uid %d: %s" % (uid, data.upper()))
                out("server: client pid %d uid %d sent %r" % (pid, uid, data))
                server.close(cfd)

        t = threading.Thread(target=serve, args=(2,))
        t.start()
        for uid, msg in ((1000, b"ping"), (1001, b"pong")):
            c = k.spawn(uid=uid, gid=uid)
            fd = c.socket(AF_UNIX, SOCK_STREAM)
            c.connect(fd, "/run/echo.sock")
            c.send(fd, msg)
            out("client pid %d got %r" % (c.pid, c.recv(fd, 1024)))
            c.exit()
        t.join(10)

        a = k.spawn(uid=1000, gid=1000)
        d1 = a.socket(AF_UNIX, SOCK_DGRAM)
        a.bind(d1, b"\0demo-log")
        d2 = a.socket(AF_UNIX, SOCK_DGRAM)
        a.sendto(d2, b"log line", b"\0demo-log")
        out("datagram received: %r" % (a.recvfrom(d1, 100),))
        out("")
        out(k.format_unix_sockets())
        a.exit()
        server.exit()
    c = k.counters()
    out("\nafter close: sockets=%d skbs=%d bytes queued=%d" % (
        c["sockets"], c["skbs"], c["bytes_queued"]))
    return 0


def _conform(args):
    """Run the conformance scenarios on menios and the host kernel."""
    from .conformance import harness
    from .conformance.host import NeedsIds, unmet
    import menios.conformance.scenarios  # noqa: F401
    insts = harness.instances(args.k)
    names = {i.name for i in insts}
    counts = "%d scenarios / %d instances" % (len(names), len({i.id for i in insts}))
    if args.list:
        for name, (_fn, grid) in harness.SCENARIOS.items():
            if name in names:
                ids = [i.id for i in insts if i.name == name]
                shown = harness.describe_grid(grid) if len(ids) == len(
                    harness.instances_of(name)) else " ".join(ids)
                needs = " needs=%s" % ",".join(sorted(_fn.needs)) if _fn.needs else ""
                print("%s %d %s%s" % (name, len(ids), shown, needs))
        print(counts)
        return 0
    if args.backend == "host":
        backends = (harness.host_backend, harness.host_backend)
    elif args.backend == "menios":
        backends = (harness.menios_backend, harness.menios_backend)
    else:
        backends = (harness.menios_backend, harness.host_backend)
    agree = 0
    failed = []
    skipped = {}                   # reason -> instances
    for inst in insts:
        reason = unmet(inst.needs) if args.backend != "menios" else None
        if reason is None:
            try:
                a, b = harness.run_scenario(inst.fn, backends=backends, params=inst.params,
                                            timeout=args.timeout)
            except NeedsIds as e:
                if "ids" in inst.needs:
                    reason = str(e)
                else:
                    failed.append((inst.id, "not tagged needs={'ids'}: %s" % e))
                    continue
            except unittest.SkipTest as e:
                reason = str(e)
        if reason is not None:
            skipped.setdefault(reason, []).append(inst.id)
            if args.verbose:
                print("skip   %s: %s" % (inst.id, reason))
            continue
        report = harness.compare(a, b)
        if report:
            failed.append((inst.id, report))
            if args.verbose:
                print("DIFFER %s\n%s" % (inst.id, report))
        else:
            agree += 1
            if args.verbose:
                print("agree  %s" % inst.id)
    for name, report in failed:
        print("DIFFER %s\n%s" % (name, report))
    for reason, ids in skipped.items():
        print("skipped %d: %s" % (len(ids), reason))
    print(counts)
    ran = len(insts) - sum(map(len, skipped.values()))
    print("agreement: %d/%d" % (agree, ran) + (" (%d skipped)" % (len(insts) - ran)
                                                if ran < len(insts) else ""))
    return 0 if agree == ran else 1


def _ss(argv):
    """``menios ss [--watch[=SECONDS]] [SS OPTIONS]``: iproute2's ss for every
    live menios kernel of the user (``Kernel(monitor=True)``)."""
    import time
    from . import monitor
    from .ss import SsError, parse
    watch = None
    args = []
    for a in argv:
        if a == "--watch" or a.startswith("--watch="):
            try:
                watch = float(a.partition("=")[2] or 2)
            except ValueError:
                print("menios ss: --watch takes seconds, not %r" % a, file=sys.stderr)
                return 2
        else:
            args.append(a)
    if args and args[0] in ("-h", "--help"):
        print("usage: menios ss [--watch[=SECONDS]] [iproute2 ss options and filters]\n"
              "Shows the sockets of every live menios kernel of this user\n"
              "(menios.Kernel(monitor=True)) as iproute2's ss prints them.")
        return 0
    try:
        parse(args)
    except SsError as e:
        print(e, file=sys.stderr)
        return 1
    while True:
        paths = monitor.discover()
        frames = []
        for path in paths:
            try:
                info = monitor.query(path, {"op": "info"})
                text = monitor.query(path, {"op": "ss", "args": args})
            except (OSError, RuntimeError, ValueError):
                continue                 # it closed meanwhile
            frames.append((info, text))
        if watch is not None:
            sys.stdout.write("\x1b[H\x1b[2J")
        if not frames:
            print("menios ss: no live menios kernel of uid %d (menios.Kernel(monitor=True) "
                  "publishes one)" % os.geteuid(), file=sys.stderr)
        for info, text in frames:
            if len(frames) > 1:
                print("# menios kernel of pid %d: %s" % (info["pid"], " ".join(info["argv"])))
            sys.stdout.write(text)
        sys.stdout.flush()
        if watch is None:
            return 0 if frames else 1
        time.sleep(watch)


def _trace(args):
    """``menios trace -o FILE [--plot PNG] -- [python] script.py ARGS`` (or
    ``-m module ARGS``): run a Python program in this process with every
    menios kernel it makes traced; write the Chrome trace JSON."""
    import runpy
    from .trace import Trace
    cmd = list(args.command)
    if cmd[:1] == ["--"]:
        cmd = cmd[1:]
    if cmd and (os.path.basename(cmd[0]).startswith("python") or cmd[0] == sys.executable):
        cmd = cmd[1:]
    if not cmd or (cmd[0] == "-m" and len(cmd) < 2):
        print("usage: menios trace -o FILE [--plot FILE.png] -- [python] SCRIPT [ARGS] "
              "| -m MODULE [ARGS]", file=sys.stderr)
        return 2
    if args.plot or args.timeline:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("menios trace: --plot and --timeline need matplotlib, which is not installed; "
                  "install the optional extra: pip install 'menios[plot]'", file=sys.stderr)
            return 2
    t = Trace(None, ring_events=args.ring_events, max_events=args.max_events)
    saved = sys.argv[:], sys.path[:]
    status = 0
    t.start()
    try:
        if cmd[0] == "-m":
            sys.argv = cmd[1:]
            runpy.run_module(cmd[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = cmd
            sys.path.insert(0, os.path.dirname(os.path.abspath(cmd[0])))
            runpy.run_path(cmd[0], run_name="__main__")
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        t.stop()
        sys.argv, sys.path[:] = saved[0], saved[1]
        t.export_chrome(args.output)
        calls = t.syscalls()
        print("menios trace: %d events (%d dropped), %d system calls of %d processes -> %s"
              % (len(t.events), t.dropped, len(calls), len({c["pid"] for c in calls}),
                 args.output), file=sys.stderr)
        if args.plot:
            t.plot_copies(args.plot)
            print("menios trace: copy / zero-copy breakdown per socket -> %s" % args.plot,
                  file=sys.stderr)
        if args.timeline and calls:
            t.plot_timeline(args.timeline)
            print("menios trace: timeline -> %s" % args.timeline, file=sys.stderr)
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="menios",
        description="The Linux AF_UNIX socket subsystem in user space.")
    parser.add_argument("--version", action="version", version="menios " + __version__)
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND")
    p = sub.add_parser("demo", help="a scripted server and clients, then the socket table")
    p.set_defaults(func=_demo)
    p = sub.add_parser("conform", help="run the conformance scenarios against menios and the "
                                       "host kernel and print the agreement")
    p.add_argument("--backend", choices=("both", "host", "menios"), default="both",
                   help="'host' alone is a determinism self-check of the scenarios")
    p.add_argument("-k", metavar="SUBSTRING", default=None,
                   help="only scenario instances whose id contains SUBSTRING")
    p.add_argument("--list", action="store_true",
                   help="list each scenario with its instance count and grid (or, with -k, "
                        "the instance ids kept), then 'N scenarios / M instances'; run nothing")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="cut a scenario still running after SECONDS short (a disagreement)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=_conform)
    sub.add_parser("ss", add_help=False,
                   help="the sockets of every live menios kernel of this user "
                        "(Kernel(monitor=True)) as iproute2's ss prints them; "
                        "--watch[=SECONDS] refreshes")
    p = sub.add_parser("trace", help="run a Python script with every menios kernel it makes "
                                     "traced; write a Chrome / Perfetto trace",
                       usage="menios trace -o FILE [--plot FILE.png] [--timeline FILE.png] -- "
                             "[python] SCRIPT [ARGS]")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="the Chrome trace-event JSON to write (open it in ui.perfetto.dev)")
    p.add_argument("--plot", metavar="FILE.png",
                   help="also draw bytes copied vs handed off per socket (needs matplotlib)")
    p.add_argument("--timeline", metavar="FILE.png",
                   help="also draw the system calls of each process and thread over time "
                        "(needs matplotlib)")
    p.add_argument("--ring-events", type=int, default=1 << 16, metavar="N",
                   help="events the core buffers between two drains (default 65536)")
    p.add_argument("--max-events", type=int, default=2_000_000, metavar="N",
                   help="events kept at most; later ones are counted as dropped")
    p.add_argument("command", nargs=argparse.REMAINDER,
                   help="-- then the program: [python] SCRIPT [ARGS] or -m MODULE [ARGS]")
    p.set_defaults(func=_trace)
    p = sub.add_parser("bench", help="benchmark menios against the host kernel's AF_UNIX and "
                                     "pipes and print a table of throughput, latency and ratios")
    from . import bench as _bench_mod
    _bench_mod.add_arguments(p)
    p.set_defaults(func=_bench_mod.main)
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["ss"]:
        try:
            return _ss(argv[1:])
        except KeyboardInterrupt:        # --watch ends with Ctrl-C
            return 0
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except BrokenPipeError:            # `menios conform --list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
