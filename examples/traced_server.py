"""A server and two clients, one copying, one handing over pages: run it
under ``menios trace`` to see where the bytes went.

    menios trace -o /tmp/server.json --plot /tmp/copies.png -- python examples/traced_server.py

Open /tmp/server.json in ui.perfetto.dev: one track per simulated process,
each system call a slice; the zero-copy handoffs are async slices from the
send to the server's release of the pages, with ``bytes_copied`` 0.
"""
import threading

import menios
from menios import MSG_ZEROCOPY

ROUNDS = 20
SIZE = 256 * 1024


def main():
    with menios.Kernel() as k:
        srv = k.spawn(comm="server")
        lfd = srv.socket()
        srv.bind(lfd, "/tmp/ingest.sock")
        srv.listen(lfd, 8)

        def serve():
            for _ in range(2):
                conn, _ = srv.accept(lfd)
                threading.Thread(target=handle, args=(conn,)).start()

        def handle(conn):
            total = 0
            while True:
                buf = srv.recv_pages(conn, SIZE)
                n = len(buf)
                buf.release()               # completes a sender's handoff
                if n == 0:
                    break
                total += n
            srv.send(conn, b"got %d" % total)
            srv.close(conn)

        t = threading.Thread(target=serve)
        t.start()
        copier = k.spawn(comm="copier")
        zc = k.spawn(comm="zerocopy")
        fds = {}
        for p in (copier, zc):
            fds[p] = p.socket()
            p.connect(fds[p], "/tmp/ingest.sock")
        data = bytes(SIZE)
        pages = k.alloc_pages(SIZE // 4096)
        for _ in range(ROUNDS):
            copier.sendmsg(fds[copier], [data])
            zc.sendmsg(fds[zc], [pages], (), MSG_ZEROCOPY)
            pages.wait(10)                  # the server let go of them
            pages.reclaim()
        for p in (copier, zc):
            p.shutdown(fds[p], menios.SHUT_WR)
            print(p.comm, p.recv(fds[p], 100).decode())
        t.join(10)
        print("bytes copied %(bytes_copied)d, handed off %(bytes_zerocopy)d" % k.counters())


if __name__ == "__main__":
    main()
