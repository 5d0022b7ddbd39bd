"""k.faults: each kind of fault gives the injected result and leaves the
kernel's counters and queues exactly as the real failure does, produced on
menios side by side where menios can produce it."""
import errno
import threading
import time

import pytest

import menios
import menios.socket as msocket
from menios import (AF_UNIX, MSG_NOSIGNAL, SCM_RIGHTS, SO_SNDBUF, SOCK_DGRAM, SOCK_NONBLOCK,
                    SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET)
from menios.faults import FaultProcess
from menios.process import Process

SIGPIPE = 13
STATE = ("sockets", "skbs", "bytes_queued", "files_inflight",
         "bytes_copied", "pages")


def state(k):
    """What a call may change: the counters and every socket's queues."""
    c = k.counters()
    return {name: c[name] for name in STATE}, [
        (s["inode"], s["state"], s["recv_q"], s["send_q"]) for s in k.unix_sockets()]


def delta(before, after):
    return {name: after[0][name] - before[0][name] for name in STATE}


def pair(p, type_=SOCK_STREAM):
    return p.socketpair(AF_UNIX, type_)


# ------------------------------------------------------------------ errno
def test_injected_eagain_on_send_leaves_what_a_full_buffer_leaves(kernel, proc):
    # The real EAGAIN: a non-blocking stream sender whose buffer is full.
    a, b = proc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK)
    while True:
        try:
            proc.send(a, b"x" * 4096)
        except BlockingIOError:
            break
    before = state(kernel)
    with pytest.raises(BlockingIOError):
        proc.send(a, b"y" * 64)
    real = delta(before, state(kernel))
    assert state(kernel) == before

    # The injected one, on another pair with room to spare.
    c, d = proc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK)
    f = kernel.faults.inject("send", errno=errno.EAGAIN, fd=c)
    before = state(kernel)
    with pytest.raises(BlockingIOError):
        proc.send(c, b"y" * 64)
    assert delta(before, state(kernel)) == real
    assert state(kernel) == before
    assert f.hits == 1
    f.remove()
    assert proc.send(c, b"after") == 5           # the socket is unharmed
    assert proc.recv(d, 100) == b"after"


def test_injected_econnrefused_leaves_the_socket_unconnected_and_reusable(kernel, proc):
    srv = proc.socket()
    proc.bind(srv, "/tmp/srv")
    # The real ECONNREFUSED: a bound stream socket that is not listening.
    c1 = proc.socket()
    before = state(kernel)
    with pytest.raises(ConnectionRefusedError):
        proc.connect(c1, "/tmp/srv")
    real = delta(before, state(kernel))
    proc.listen(srv)
    c2 = proc.socket()
    f = kernel.faults.inject("connect", errno=errno.ECONNREFUSED, count=1)
    before = state(kernel)
    with pytest.raises(ConnectionRefusedError):
        proc.connect(c2, "/tmp/srv")
    assert delta(before, state(kernel)) == real
    assert state(kernel) == before               # nothing queued on the listener
    for c in (c1, c2):
        with pytest.raises(OSError) as e:
            proc.getpeername(c)
        assert e.value.errno == errno.ENOTCONN
    assert f.hits == 1 and not f.active          # count=1: spent
    proc.connect(c2, "/tmp/srv")                 # reusable
    n, _ = proc.accept(srv)
    proc.send(c2, b"hi")
    assert proc.recv(n, 10) == b"hi"


def test_injected_accept_failure_leaves_the_connection_queued_as_emfile_does(kernel):
    # The real EMFILE: no fd free for the new socket; accept4 fails before
    # unix_accept dequeues the connection.
    p = kernel.spawn(rlimit_nofile=3)
    srv = p.socket()
    p.bind(srv, "/tmp/srv")
    p.listen(srv)
    c = p.socket()
    p.connect(c, "/tmp/srv")
    p.socket()                                   # fds 0, 1, 2: the table is full
    before = state(kernel)
    with pytest.raises(OSError) as e:
        p.accept(srv)
    assert e.value.errno == errno.EMFILE
    real = delta(before, state(kernel))
    assert state(kernel) == before

    q = kernel.spawn()
    srv2 = q.socket()
    q.bind(srv2, "/tmp/srv2")
    q.listen(srv2)
    c2 = q.socket()
    q.connect(c2, "/tmp/srv2")
    f = kernel.faults.inject("accept", errno=errno.EMFILE, pid=q.pid)
    before = state(kernel)
    with pytest.raises(OSError) as e:
        q.accept(srv2)
    assert e.value.errno == errno.EMFILE
    assert delta(before, state(kernel)) == real
    assert state(kernel) == before
    f.remove()
    n, _ = q.accept(srv2)                        # the connection was still queued
    q.send(c2, b"ok")
    assert q.recv(n, 10) == b"ok"


def test_injected_emfile_on_socket_allocates_nothing(kernel):
    p = kernel.spawn(rlimit_nofile=1)
    p.socket()
    before = state(kernel)
    with pytest.raises(OSError) as e:
        p.socket()                               # the real EMFILE
    assert e.value.errno == errno.EMFILE
    real = delta(before, state(kernel))
    q = kernel.spawn()
    f = kernel.faults.inject("socket", errno=errno.EMFILE, pid=q.pid, count=1)
    before = state(kernel)
    with pytest.raises(OSError) as e:
        q.socket()
    assert e.value.errno == errno.EMFILE
    assert delta(before, state(kernel)) == real
    assert f.hits == 1
    assert q.socket() == 0                       # no fd was taken


def test_injected_recv_error_dequeues_nothing(kernel, proc):
    a, b = pair(proc, SOCK_SEQPACKET)
    proc.send(a, b"one")
    kernel.faults.inject("recv", errno=errno.EINTR, count=1)
    before = state(kernel)
    with pytest.raises(InterruptedError):
        proc.recv(b, 10)
    assert state(kernel) == before
    assert proc.recv(b, 10) == b"one"


def test_injected_epipe_raises_sigpipe_on_a_stream_as_linux_does(kernel, proc):
    a, b = pair(proc)
    kernel.faults.inject("send", errno=errno.EPIPE, count=2)
    with pytest.raises(BrokenPipeError):
        proc.send(a, b"x", MSG_NOSIGNAL)
    assert SIGPIPE not in proc.pending_signals
    with pytest.raises(BrokenPipeError):
        proc.send(a, b"x")
    assert SIGPIPE in proc.pending_signals
    # A datagram socket's EPIPE raises no signal (unix_dgram_sendmsg).
    proc.pending_signals.clear()
    c, d = pair(proc, SOCK_DGRAM)
    kernel.faults.inject("send", errno=errno.EPIPE, count=1)
    with pytest.raises(BrokenPipeError):
        proc.send(c, b"x")
    assert not proc.pending_signals


def test_a_bad_fd_fails_as_it_does_and_is_not_counted(kernel, proc):
    f = kernel.faults.inject("send", errno=errno.EAGAIN)
    with pytest.raises(OSError) as e:
        proc.send(42, b"x")
    assert e.value.errno == errno.EBADF
    fd = proc.open("/tmp/file", menios.O_CREAT | menios.O_RDWR)
    with pytest.raises(OSError) as e:
        proc.send(fd, b"x")
    assert e.value.errno == errno.ENOTSOCK
    assert f.hits == 0 and f.calls == 0


# ------------------------------------------------------------- short writes
def test_short_write_queues_what_a_real_short_write_does(kernel, proc):
    data = bytes(range(256)) * 400
    # The real short write: a non-blocking sender with a small SO_SNDBUF.
    a, b = proc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK)
    proc.setsockopt(a, SOL_SOCKET, SO_SNDBUF, 4096)
    before = state(kernel)
    n = proc.send(a, data)
    assert 0 < n < len(data)
    real = delta(before, state(kernel))
    # The injected one: a blocking sender, same buffer size, cut to n bytes.
    c, d = pair(proc)
    proc.setsockopt(c, SOL_SOCKET, SO_SNDBUF, 4096)
    f = kernel.faults.inject("send", max_bytes=n, pid=proc.pid, fd=c)
    before = state(kernel)
    assert proc.send(c, data) == n
    assert delta(before, state(kernel)) == real
    queues = [row[1:] for row in state(kernel)[1]]      # (state, recv_q, send_q)
    assert queues[0:2] == queues[2:4]                   # a, b as c, d
    assert f.hits == 1
    assert proc.recv(d, len(data)) == data[:n]
    assert proc.recv(b, len(data)) == data[:n]


def test_short_write_on_sendmsg_keeps_the_files_with_the_bytes_sent(kernel, proc):
    a, b = pair(proc)
    x, y = pair(proc)
    kernel.faults.inject("sendmsg", max_bytes=3, count=1)
    assert proc.send_fds(a, [b"ab", b"cdef"], [x]) == 3
    assert kernel.counters()["files_inflight"] == 1
    msg, fds, _, _ = proc.recv_fds(b, 100, 4)
    assert msg == b"abc" and len(fds) == 1
    with pytest.raises(BlockingIOError):                # nothing more was queued
        proc.recv(b, 10, menios.MSG_DONTWAIT)
    proc.send(y, b"through the passed fd")
    assert proc.recv(fds[0], 100) == b"through the passed fd"


def test_short_read_leaves_the_rest_queued_as_a_smaller_read_does(kernel, proc):
    a, b = pair(proc)
    c, d = pair(proc)
    for s in (a, c):
        proc.send(s, b"0123456789")
    before = state(kernel)
    assert proc.recv(b, 3) == b"012"             # the real smaller read
    real = delta(before, state(kernel))
    kernel.faults.inject("recv", max_bytes=3, fd=d, count=1)
    before = state(kernel)
    assert proc.recv(d, 100) == b"012"
    assert delta(before, state(kernel)) == real
    assert proc.recv(d, 100) == b"3456789"


@pytest.mark.parametrize("call", ["recv_into", "recvfrom_into", "recvmsg_into", "recvmsg",
                                  "recvfrom"])
def test_short_reads_through_every_receive_call(kernel, proc, call):
    a, b = pair(proc)
    proc.send(a, b"0123456789")
    name = {"recv_into": "recv", "recvfrom_into": "recvfrom",
            "recvmsg_into": "recvmsg"}.get(call, call)
    f = kernel.faults.inject(name, max_bytes=4, count=1)
    if call.endswith("_into"):
        buf = bytearray(16)
        arg = [buf] if call == "recvmsg_into" else buf
        r = getattr(proc, call)(b, arg)
        n = r if isinstance(r, int) else r[0]
        got = bytes(buf[:n])
    else:
        got = getattr(proc, call)(b, 100)[0]
    assert got == b"0123" and f.hits == 1
    assert proc.recv(b, 100) == b"456789"


def test_short_transfer_faults_pass_message_sockets_by(kernel, proc):
    f = kernel.faults.inject("send", max_bytes=2)
    a, b = pair(proc, SOCK_DGRAM)
    assert proc.send(a, b"whole") == 5           # a datagram is never cut short
    assert proc.recv(b, 10) == b"whole"
    assert f.calls == 0 and f.hits == 0
    c, d = pair(proc)
    assert proc.send(c, b"whole") == 2
    assert f.hits == 1


# --------------------------------------------------------------------- drop
def test_dropped_datagram_is_counted_as_sent_and_never_queued(kernel, proc):
    a, b = pair(proc, SOCK_DGRAM)
    c, d = pair(proc, SOCK_DGRAM)
    before = state(kernel)
    proc.send(a, b"hello")                      # a datagram sent: copied in, queued
    sent = delta(before, state(kernel))
    assert sent["skbs"] == 1 and sent["bytes_queued"] == 5
    f = kernel.faults.inject("send", drop=True, nth=1)
    before = state(kernel)
    assert proc.send(c, b"hello") == 5
    # Copied in as that one was, never queued.
    assert delta(before, state(kernel)) == dict(sent, skbs=0, bytes_queued=0)
    assert state(kernel)[1] == before[1]
    with pytest.raises(BlockingIOError):
        proc.recv(d, 10, menios.MSG_DONTWAIT)
    assert f.hits == 1 and not f.active
    assert proc.send(c, b"next") == 4
    assert proc.recv(d, 10) == b"next"


def test_dropped_datagram_with_fds_puts_nothing_in_flight(kernel, proc):
    a, b = pair(proc, SOCK_DGRAM)
    x, y = pair(proc)
    kernel.faults.inject("sendmsg", drop=True, count=1)
    assert proc.send_fds(a, [b"fd"], [x, y]) == 2
    assert kernel.counters()["files_inflight"] == 0
    assert kernel.counters()["skbs"] == 0
    proc.close(x)                                # the last reference: x goes
    with pytest.raises(BrokenPipeError):
        proc.send(y, b"x", MSG_NOSIGNAL)


def test_dropped_zerocopy_datagram_gives_its_pages_back(kernel, proc):
    c, d = pair(proc, SOCK_DGRAM)
    pages = kernel.alloc_pages(8)
    f = kernel.faults.inject("sendmsg", drop=True, count=1)
    assert proc.sendmsg(c, [pages], (), menios.MSG_ZEROCOPY) == len(pages)
    assert f.hits == 1
    assert pages.wait(timeout=30)                # the handoff is over: nobody has them
    assert kernel.counters()["skbs"] == 0
    pages.free()
    assert kernel.counters()["pages"] == 0


def test_dropped_sendto_still_looks_the_name_up(kernel, proc):
    s = proc.socket(AF_UNIX, SOCK_DGRAM)
    r = proc.socket(AF_UNIX, SOCK_DGRAM)
    proc.bind(r, "/tmp/r")
    f = kernel.faults.inject("sendto", drop=True)
    with pytest.raises(FileNotFoundError):
        proc.sendto(s, b"x", "/tmp/nobody")
    assert proc.sendto(s, b"lost", "/tmp/r") == 4
    assert f.hits == 2
    f.remove()
    assert proc.sendto(s, b"found", "/tmp/r") == 5
    assert proc.recv(r, 10) == b"found"
    assert kernel.counters()["skbs"] == 0


def test_dropped_send_on_an_unconnected_socket_is_enotconn(kernel, proc):
    s = proc.socket(AF_UNIX, SOCK_DGRAM)
    kernel.faults.inject("send", drop=True)
    with pytest.raises(OSError) as e:
        proc.send(s, b"x")
    assert e.value.errno == errno.ENOTCONN
    assert kernel.counters()["skbs"] == 0


# -------------------------------------------------------------------- delay
def test_delay_sleeps_before_the_call(kernel, proc):
    a, b = pair(proc)
    f = kernel.faults.inject("send", delay_ms=50, count=1)
    t = time.monotonic()
    assert proc.send(a, b"late") == 4
    assert time.monotonic() - t >= 0.05
    assert proc.recv(b, 10) == b"late"
    assert f.hits == 1


def test_delay_then_errno(kernel, proc):
    a, b = pair(proc)
    kernel.faults.inject("recv", delay_ms=20, errno=errno.EAGAIN, count=1)
    t = time.monotonic()
    with pytest.raises(BlockingIOError):
        proc.recv(b, 10)
    assert time.monotonic() - t >= 0.02


# ---------------------------------------------------------- choosing calls
def sends(kernel, proc, n=40):
    """Which of ``n`` sends failed, as a list of booleans."""
    a, b = pair(proc)
    out = []
    for _ in range(n):
        try:
            proc.send(a, b"x")
            out.append(False)
        except BlockingIOError:
            out.append(True)
    return out


def test_nth_every_count(kernel, proc):
    f = kernel.faults.inject("send", errno=errno.EAGAIN, nth=3)
    assert sends(kernel, proc, 6) == [False, False, True, False, False, False]
    assert f.hits == 1 and f.calls == 3 and not f.active
    f = kernel.faults.inject("send", errno=errno.EAGAIN, every=2, count=2)
    assert sends(kernel, proc, 7) == [False, True, False, True, False, False, False]
    assert f.hits == 2
    f = kernel.faults.inject("send", errno=errno.EAGAIN, count=3)
    assert sends(kernel, proc, 5) == [True, True, True, False, False]
    assert f.hits == 3


def test_seeded_probability_is_reproducible():
    patterns = []
    for seed in (7, 7, 8):
        with menios.Kernel() as k:
            p = k.spawn()
            f = k.faults.inject("send", errno=errno.EAGAIN, probability=0.5, seed=seed)
            patterns.append(sends(k, p, 64))
            assert f.hits == sum(patterns[-1])
    assert patterns[0] == patterns[1]
    assert patterns[0] != patterns[2]
    assert 0 < sum(patterns[0]) < 64
    with menios.Kernel() as k:
        p = k.spawn()
        k.faults.inject("send", errno=errno.EAGAIN, probability=0.0)
        assert not any(sends(k, p, 20))


def test_narrowed_by_pid_and_fd(kernel, proc):
    other = kernel.spawn()
    a, b = pair(proc)
    c, d = pair(other)
    assert (a, b) == (c, d)                      # same fd numbers, other process
    f = kernel.faults.inject("send", errno=errno.EAGAIN, pid=proc.pid, fd=a)
    assert other.send(c, b"x") == 1
    assert proc.send(b, b"x") == 1
    with pytest.raises(BlockingIOError):
        proc.send(a, b"x")
    assert f.hits == 1 and f.calls == 1
    g = kernel.faults.inject("recv", errno=errno.EINTR, fd=d)
    with pytest.raises(InterruptedError):
        other.recv(d, 10)
    assert proc.recv(a, 10) == b"x"              # another fd of the same numbering
    assert g.hits == 1


def test_processes_made_while_armed_are_hit(kernel, proc):
    f = kernel.faults.inject("socket", errno=errno.ENFILE)
    child = proc.fork()
    late = kernel.spawn()
    for p in (proc, child, late):
        assert type(p) is FaultProcess
        with pytest.raises(OSError) as e:
            p.socket()
        assert e.value.errno == errno.ENFILE
    assert f.hits == 3


def test_remove_and_clear_disarm_and_restore_plain_processes(kernel, proc):
    a, b = pair(proc)
    f = kernel.faults.inject("send", errno=errno.EAGAIN)
    g = kernel.faults.inject("recv", errno=errno.EAGAIN)
    assert kernel.faults.faults() == [f, g]
    assert type(proc) is FaultProcess
    f.remove()
    f.remove()                                   # idempotent
    assert proc.send(a, b"x") == 1
    assert type(proc) is FaultProcess            # g is still armed
    kernel.faults.clear()
    assert not g.active and kernel.faults.faults() == []
    assert type(proc) is Process
    assert proc.recv(b, 10) == b"x"
    assert "removed" in repr(g) and "recv" in repr(g)


def test_first_armed_fault_wins(kernel, proc):
    a, b = pair(proc)
    f = kernel.faults.inject("send", errno=errno.EAGAIN, count=1)
    g = kernel.faults.inject("send", errno=errno.EINTR, count=1)
    h = kernel.faults.inject("send", errno=errno.ENOBUFS, nth=1)
    with pytest.raises(BlockingIOError):
        proc.send(a, b"x")                       # f acts; g and h count the call
    assert not h.active                          # its one call went by: spent
    with pytest.raises(InterruptedError):
        proc.send(a, b"x")
    assert proc.send(a, b"x") == 1
    assert (f.hits, g.hits, h.hits) == (1, 1, 0)
    assert (f.calls, g.calls, h.calls) == (1, 2, 1)
    assert type(proc) is Process                 # all spent: disarmed


def test_faults_hit_menios_socket_objects(kernel):
    p = kernel.spawn()
    a, b = msocket.socketpair(process=p)
    f = kernel.faults.inject("send", max_bytes=5, pid=p.pid)
    data = b"abcdefghijklmnopqrstuvwxyz"
    a.sendall(data)                              # loops over the short writes
    assert f.hits == 6
    assert b.recv(100) == data
    f.remove()
    kernel.faults.inject("recv", errno=errno.EAGAIN, count=1)
    b.setblocking(False)
    with pytest.raises(BlockingIOError):
        b.recv(10)
    a.close()
    b.close()


def test_a_send_through_a_fault_still_blocks_and_wakes(kernel, proc):
    a, b = proc.socketpair(AF_UNIX, SOCK_STREAM)
    proc.setsockopt(a, SOL_SOCKET, SO_SNDBUF, 4096)
    kernel.faults.inject("send", delay_ms=1, max_bytes=100000)
    sent = []
    t = threading.Thread(target=lambda: sent.append(proc.send(a, b"x" * 100000)))
    t.start()
    assert kernel.wait_blocked(1, timeout=30)
    got = 0
    while got < 100000:
        got += len(proc.recv(b, 65536))
    t.join(30)
    assert sent == [100000]


# -------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, exc", [
    (dict(call="frobnicate", errno=1), ValueError),
    (dict(call=3, errno=1), TypeError),
    (dict(call="send"), ValueError),                                  # no effect
    (dict(call="connect", max_bytes=10), ValueError),
    (dict(call="recv", drop=True), ValueError),
    (dict(call="send", errno=errno.EAGAIN, drop=True), ValueError),
    (dict(call="send", max_bytes=3, drop=True), ValueError),
    (dict(call="send", errno=errno.EAGAIN, nth=1, every=2), ValueError),
    (dict(call="send", errno=errno.EAGAIN, probability=1.5), ValueError),
    (dict(call="send", errno=errno.EAGAIN, probability="x"), TypeError),
    (dict(call="send", errno=0), ValueError),
    (dict(call="send", errno=99999), ValueError),
    (dict(call="send", errno="EAGAIN"), TypeError),
    (dict(call="send", errno=errno.EAGAIN, nth=0), ValueError),
    (dict(call="send", errno=errno.EAGAIN, count=True), TypeError),
    (dict(call="send", max_bytes=0), ValueError),
    (dict(call="send", delay_ms=-1), ValueError),
    (dict(call="send", drop=1), TypeError),
    (dict(call="socket", errno=errno.EMFILE, fd=3), ValueError),
    (dict(call="send", errno=errno.EAGAIN, seed=1.5), TypeError),
])
def test_invalid_faults_are_refused_at_inject_time(kernel, kwargs, exc):
    call = kwargs.pop("call")
    with pytest.raises(exc):
        kernel.faults.inject(call, **kwargs)
    assert kernel.faults.faults() == [] and not kernel.faults.armed


def test_effects_checked_against_the_socket_they_are_narrowed_to(kernel, proc):
    a, b = pair(proc)
    c, d = pair(proc, SOCK_DGRAM)
    with pytest.raises(ValueError, match="datagram"):
        kernel.faults.inject("send", drop=True, pid=proc.pid, fd=a)
    with pytest.raises(ValueError, match="stream"):
        kernel.faults.inject("send", max_bytes=3, pid=proc.pid, fd=c)
    assert not kernel.faults.armed
    kernel.faults.inject("send", drop=True, pid=proc.pid, fd=c)
    kernel.faults.inject("recv", max_bytes=3, pid=proc.pid, fd=b)


# --------------------------------------------------------------- in bulk
def test_random_faults_never_corrupt_a_stream_or_lose_a_counted_datagram(kernel, proc):
    """Seeded faults of every kind on a stream and a datagram pair: the
    stream delivers exactly the bytes the sends said they sent, in order;
    the datagrams arrive except those dropped, in order; nothing is left."""
    faults = kernel.faults
    others = [faults.inject("send", errno=errno.EAGAIN, probability=0.2, seed=1),
              faults.inject("send", max_bytes=7, probability=0.3, seed=2)]
    drops = [faults.inject("send", drop=True, probability=0.3, seed=3),
             faults.inject("sendmsg", drop=True, probability=0.3, seed=4)]
    others += [faults.inject("recv", errno=errno.EINTR, probability=0.2, seed=5),
               faults.inject("recv", max_bytes=5, probability=0.3, seed=6)]
    a, b = proc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK)
    c, d = proc.socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK)
    x, y = pair(proc)
    sent, got = bytearray(), bytearray()
    datagrams, arrived, sends = [], [], 0
    for i in range(300):
        chunk = bytes([i % 251]) * (1 + i % 40)
        try:
            sent += chunk[:proc.send(a, chunk)]
        except BlockingIOError:
            pass
        try:
            got += proc.recv(b, 64)
        except (BlockingIOError, InterruptedError):
            pass
        msg = b"d%d" % i
        try:
            if i % 3:
                proc.send(c, msg)
            else:
                proc.send_fds(c, [msg], [x])
            datagrams.append(msg)
            sends += 1
        except BlockingIOError:
            pass                                 # the receiver's queue is full
        while True:
            try:
                m, fds, _, _ = proc.recv_fds(d, 64, 1)
            except BlockingIOError:
                break
            arrived.append(m)
            for fd in fds:
                proc.close(fd)
    faults.clear()
    while True:
        try:
            got += proc.recv(b, 4096)
        except BlockingIOError:
            break
    assert all(f.hits for f in others)           # every kind struck
    assert len(sent) > 1000 and bytes(got) == bytes(sent)
    lost = sum(f.hits for f in drops)
    assert lost > 0
    assert len(arrived) == sends - lost          # every other datagram arrived...
    order = [datagrams.index(m) for m in arrived]
    assert order == sorted(order)                # ...in order
    c0 = kernel.counters()
    assert (c0["skbs"], c0["bytes_queued"], c0["files_inflight"]) == (0, 0, 0)
