"""Worked example: a supervisor hands connections to workers with SCM_RIGHTS.

A supervisor process listens on a filesystem socket.  For each connection
it accepts, it picks a worker (round robin) and passes the accepted socket
to that worker over a socketpair with ``send_fds``, then closes its own
copy.  Each worker receives the socket with ``recv_fds``, asks the kernel
who is on the other end (``SO_PEERCRED``: pid, uid, gid as of the client's
``connect()``), and answers -- or refuses a uid it does not serve.

Everything runs in one simulated menios kernel; each simulated process is
driven by a Python thread, because its blocking calls block that thread
(with the GIL released).  Run it::

    python examples/supervisor.py
"""
import os
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import menios  # noqa: E402
from menios import AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_PEERCRED  # noqa: E402

PATH = "/tmp/supervisor.sock"
NWORKERS = 3
CLIENTS = [(1000, 1000), (1001, 1001), (1002, 1002), (1000, 1000), (1003, 100)]
DENIED_UIDS = {1002}
TIMEOUT = 10


def log(lock, *args):
    with lock:
        print(*args, flush=True)


def worker(proc, chan, n, lock):
    """Serve connections handed over on ``chan`` until the supervisor hangs up."""
    while True:
        msg, fds, flags, _ = proc.recv_fds(chan, 16, 1)
        if not msg:                         # EOF: the supervisor closed its end
            log(lock, f"worker {n} (pid {proc.pid}): supervisor gone, exiting")
            proc.exit()
            return
        conn = fds[0]
        pid, uid, gid = struct.unpack("3i", proc.getsockopt(conn, SOL_SOCKET, SO_PEERCRED, 12))
        request = proc.recv(conn, 100)
        if uid in DENIED_UIDS:
            reply = b"denied: uid %d is not served here" % uid
        else:
            reply = b"hello uid %d (gid %d, pid %d), worker %d got %r" % (uid, gid, pid, n, request)
        log(lock, f"worker {n} (pid {proc.pid}): fd {conn} from pid {pid} uid {uid}"
                  f" gid {gid}: {request!r} -> {'denied' if uid in DENIED_UIDS else 'served'}")
        proc.send(conn, reply)
        proc.close(conn)


def supervisor(proc, listener, chans, nclients, lock):
    """Accept ``nclients`` connections and hand each to a worker."""
    for i in range(nclients):
        conn, _ = proc.accept(listener)
        target = i % len(chans)
        proc.send_fds(chans[target], [b"conn"], [conn])
        log(lock, f"supervisor (pid {proc.pid}): connection {i} -> worker {target}")
        proc.close(conn)                    # the worker's copy keeps it open
    for chan in chans:
        proc.close(chan)                    # workers see EOF and exit


def client(kernel, uid, gid, i, results, lock):
    proc = kernel.spawn(uid=uid, gid=gid)
    fd = proc.socket(AF_UNIX, SOCK_STREAM)
    proc.connect(fd, PATH)
    proc.send(fd, b"request %d" % i)
    reply = b""
    while True:
        chunk = proc.recv(fd, 200)
        if not chunk:
            break
        reply += chunk
    results[i] = reply
    log(lock, f"client {i} (uid {uid}): {reply.decode()}")
    proc.exit()


def main():
    lock = threading.Lock()
    with menios.Kernel() as k:
        sup = k.spawn()                     # root supervisor
        listener = sup.socket(AF_UNIX, SOCK_STREAM)
        sup.bind(listener, PATH)
        sup.chmod(PATH, 0o777)              # any user may connect
        sup.listen(listener, 16)

        chans, threads = [], []
        for n in range(NWORKERS):
            mine, theirs = sup.socketpair(AF_UNIX, SOCK_STREAM)
            w = sup.fork()                  # the worker inherits the whole fd table...
            for fd in (mine, listener):
                w.close(fd)                 # ...and keeps only its end
            for fd in chans:
                w.close(fd)
            sup.close(theirs)
            chans.append(mine)
            threads.append(threading.Thread(target=worker, args=(w, theirs, n, lock)))

        results = {}
        threads.append(threading.Thread(target=supervisor,
                                        args=(sup, listener, chans, len(CLIENTS), lock)))
        threads += [threading.Thread(target=client, args=(k, uid, gid, i, results, lock))
                    for i, (uid, gid) in enumerate(CLIENTS)]
        for th in threads:
            th.daemon = True
            th.start()
        for th in threads:
            th.join(TIMEOUT)
        if any(th.is_alive() for th in threads):
            print("timed out", file=sys.stderr)
            return 1
        sup.exit()
        counters = k.counters()
        print(f"in flight: {counters['files_inflight']}, live sockets: {counters['sockets']}")
        ok = (len(results) == len(CLIENTS)
              and all(results[i].startswith(b"denied" if uid in DENIED_UIDS else b"hello")
                      for i, (uid, _) in enumerate(CLIENTS))
              and counters["files_inflight"] == 0 and counters["sockets"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
