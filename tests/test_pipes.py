"""Pipes on the C core's pipe object: blocking reads and writes across
threads (nothing lost, PIPE_BUF writes never interleaved), the GIL
released while blocked, Ctrl-C and Kernel.close() waking sleepers, the
copy counters.  Everything that the host kernel can answer too is a
conformance scenario (menios/conformance/scenarios/pipes.py)."""
import errno
import hashlib
import os
import random
import time

import pytest

import menios
from menios import F_GETPIPE_SZ, F_SETPIPE_SZ, PIPE_BUF
from test_blocking import JOIN, _ctrl_c, _run


def test_blocking_stream_random_sizes(kernel):
    """8 MiB through a pipe in random sizes: a digest of what was written
    equals a digest of what was read; every blocking write writes it all."""
    p = kernel.spawn()
    r, w = p.pipe()
    total = 8 << 20
    block = random.Random(5).randbytes(1 << 18)

    def writer():
        h, sent, rng = hashlib.sha256(), 0, random.Random(1)
        while sent < total:
            n = min(rng.randint(1, 150000), total - sent, len(block))
            chunk = block[:n]
            assert p.write(w, chunk) == n
            h.update(chunk)
            sent += n
        p.close(w)
        return h.hexdigest()

    t, box = _run(writer)
    h, got, rng = hashlib.sha256(), 0, random.Random(2)
    while True:
        data = p.read(r, rng.randint(1, 100000))
        if not data:
            break
        h.update(data)
        got += len(data)
    t.join(JOIN)
    assert "error" not in box, box
    assert got == total
    assert box["result"] == h.hexdigest()


def test_pipe_buf_writes_never_interleave(kernel):
    """Four writers of PIPE_BUF-byte records into one pipe: every record
    the reader sees is one writer's, whole."""
    p = kernel.spawn()
    r, w = p.pipe()
    per_writer = 300

    def writer(tag):
        rec = bytes([tag]) * PIPE_BUF
        for _ in range(per_writer):
            assert p.write(w, rec) == PIPE_BUF

    threads = [_run(writer, tag) for tag in range(1, 5)]
    buf = bytearray()
    records = 0
    while records < 4 * per_writer:
        buf += p.read(r, 65536)
        while len(buf) >= PIPE_BUF:
            rec, buf = bytes(buf[:PIPE_BUF]), buf[PIPE_BUF:]
            assert rec == bytes([rec[0]]) * PIPE_BUF
            records += 1
    for t, box in threads:
        t.join(JOIN)
        assert "error" not in box, box


def test_blocked_read_releases_the_gil_and_wakes(kernel):
    p = kernel.spawn()
    r, w = p.pipe()
    t, box = _run(p.read, r, 10)
    assert kernel.wait_blocked(1, JOIN)
    spins = 0
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:
        spins += 1                      # this thread runs while the other sleeps
    p.write(w, b"wake")
    t.join(JOIN)
    assert box.get("result") == b"wake"
    assert spins > 1000


def _copied(kernel):
    return kernel.counters()["bytes_copied"]


def _write_to_sleeping_reader(kernel, p, r, w, data):
    """Write ``data`` once a reader of 10 bytes sleeps on ``r``: what the
    reader got, and the copy counter just before the write."""
    t, box = _run(p.read, r, 10)
    assert kernel.wait_blocked(1, JOIN)
    before = _copied(kernel)
    assert p.write(w, data) == len(data)
    t.join(JOIN)
    assert not t.is_alive()
    return box.get("result"), before


def test_writer_hands_bytes_straight_to_a_sleeping_reader(kernel):
    """A reader asleep on an empty pipe gets a write copied straight into
    its buffer (one copy); what its buffer cannot take goes into the pipe,
    in order, for the next read."""
    p = kernel.spawn()
    r, w = p.pipe()
    got, before = _write_to_sleeping_reader(kernel, p, r, w, b"0123456789abcdef")
    assert got == b"0123456789"
    assert p.ioctl(r, menios.FIONREAD) == 6
    assert _copied(kernel) - before == 16       # 10 handed over + 6 into the pipe
    assert p.read(r, 100) == b"abcdef"
    assert _copied(kernel) - before == 22


def test_packets_are_not_handed_over(kernel):
    """An O_DIRECT write stays a packet in the pipe: copied in, then out."""
    p = kernel.spawn()
    r, w = p.pipe2(os.O_DIRECT)
    got, before = _write_to_sleeping_reader(kernel, p, r, w, b"packet")
    assert got == b"packet"
    assert _copied(kernel) - before == 12


def test_blocked_write_wakes_when_read(kernel):
    """A blocking write bigger than the pipe returns once all of it is in."""
    p = kernel.spawn()
    r, w = p.pipe()
    p.fcntl(w, F_SETPIPE_SZ, 4096)
    t, box = _run(p.write, w, b"x" * 20000)
    assert kernel.wait_blocked(1, JOIN)
    got = b""
    while len(got) < 20000:
        got += p.read(r, 3000)
    t.join(JOIN)
    assert box.get("result") == 20000
    assert got == b"x" * 20000


def test_writer_blocked_then_reader_gone_gets_progress_and_sigpipe(kernel):
    """A blocked write whose reader goes returns what it wrote, SIGPIPE due."""
    p = kernel.spawn()
    r, w = p.pipe()
    t, box = _run(p.write, w, b"y" * 100000)
    assert kernel.wait_blocked(1, JOIN)
    p.close(r)
    t.join(JOIN)
    assert box.get("result") == 65536
    assert menios.SIGPIPE in p.pending_signals


def test_ctrl_c_interrupts_blocked_pipe_read(kernel):
    p = kernel.spawn()
    r, w = p.pipe()
    with _ctrl_c(), pytest.raises(KeyboardInterrupt):
        p.read(r, 10)
    assert kernel.blocked() == 0
    p.write(w, b"ok")
    assert p.read(r, 10) == b"ok"


def test_kernel_close_wakes_pipe_sleepers():
    k = menios.Kernel()
    p = k.spawn()
    r, w = p.pipe()
    r2, w2 = p.pipe()
    calls = [_run(p.read, r, 10), _run(p.write, w2, b"z" * 100000),
             _run(p.poll, [(r, menios.POLLIN)], None)]
    assert k.wait_blocked(3, JOIN)
    k.close()
    for t, box in calls:
        t.join(JOIN)
        assert not t.is_alive()
    assert isinstance(calls[0][1].get("error"), OSError)
    assert calls[1][1].get("result") == 65536      # what it wrote before


def test_pipe_ends_free_their_pages(kernel):
    """Pages in a pipe are the net's: counted while data sits there, gone
    with the pipe; bytes in and out are counted as copied."""
    p = kernel.spawn()
    r, w = p.pipe()
    before = kernel.counters()["bytes_copied"]
    p.write(w, b"a" * 10000)
    assert kernel.counters()["pages"] >= 3
    assert p.read(r, 10000) == b"a" * 10000
    assert kernel.counters()["bytes_copied"] - before == 20000
    p.close(r)
    p.close(w)
    assert kernel.counters()["pages"] == 0


def test_pipe_max_size_sysctl_and_capability():
    with menios.Kernel(sysctl={"fs.pipe-max-size": 65536}) as k:
        user, root = k.spawn(uid=1000, gid=1000), k.spawn()
        r, w = user.pipe()
        with pytest.raises(PermissionError):
            user.fcntl(w, F_SETPIPE_SZ, 131072)
        r2, w2 = root.pipe()
        assert root.fcntl(w2, F_SETPIPE_SZ, 131072) == 131072
        assert root.fcntl(r2, F_GETPIPE_SZ) == 131072
        for fd in (r, w):
            user.close(fd)
        for fd in (r2, w2):
            root.close(fd)


# ------------------------------------------------------------------ FIFOs
@pytest.mark.parametrize("first", [os.O_RDONLY, os.O_WRONLY])
def test_fifo_open_waits_for_the_other_side(kernel, first):
    p = kernel.spawn()
    p.mkfifo("/tmp/f")
    t, box = _run(p.open, "/tmp/f", first)
    assert kernel.wait_blocked(1, JOIN)
    assert "result" not in box
    other = p.open("/tmp/f", os.O_WRONLY if first == os.O_RDONLY else os.O_RDONLY)
    t.join(JOIN)
    assert "error" not in box, box
    r, w = (box["result"], other) if first == os.O_RDONLY else (other, box["result"])
    p.write(w, b"fifo")
    assert p.read(r, 10) == b"fifo"
    p.close(w)
    assert p.read(r, 10) == b""


def test_ctrl_c_interrupts_blocked_fifo_open(kernel):
    p = kernel.spawn()
    p.mkfifo("/tmp/f")
    with _ctrl_c(), pytest.raises(KeyboardInterrupt):
        p.open("/tmp/f", os.O_WRONLY)
    assert kernel.blocked() == 0
    # The abandoned open left no writer behind: a reader sees EOF.
    r = p.open("/tmp/f", os.O_RDONLY | os.O_NONBLOCK)
    assert p.read(r, 10) == b""
    p.close(r)
    with pytest.raises(OSError) as e:  # and no reader was left either
        p.open("/tmp/f", os.O_WRONLY | os.O_NONBLOCK)
    assert e.value.errno == errno.ENXIO


def test_kernel_close_wakes_fifo_open():
    k = menios.Kernel()
    p = k.spawn()
    p.mkfifo("/tmp/f")
    t, box = _run(p.open, "/tmp/f", os.O_RDONLY)
    assert k.wait_blocked(1, JOIN)
    k.close()
    t.join(JOIN)
    assert isinstance(box.get("error"), OSError)


# ---------------------------------------------------------- splice and tee
def test_splice_and_tee_move_pages_not_bytes(kernel):
    """Pipe to pipe, splice and tee copy nothing: the copy counter stays,
    the zero-copy counter grows by what moved."""
    p = kernel.spawn()
    r1, w1 = p.pipe()
    r2, w2 = p.pipe()
    r3, w3 = p.pipe()
    data = bytes(range(256)) * 40
    p.write(w1, data)
    copied, moved = kernel.counters()["bytes_copied"], kernel.counters()["bytes_zerocopy"]
    assert p.tee(r1, w3, len(data)) == len(data)
    assert p.splice(r1, w2, len(data)) == len(data)
    c = kernel.counters()
    assert c["bytes_copied"] == copied
    assert c["bytes_zerocopy"] - moved == 2 * len(data)
    assert p.read(r2, 100000) == data
    assert p.read(r3, 100000) == data


def test_blocked_splice_waits_for_input_and_room(kernel):
    p = kernel.spawn()
    r1, w1 = p.pipe()
    r2, w2 = p.pipe()
    t, box = _run(p.splice, r1, w2, 100)
    assert kernel.wait_blocked(1, JOIN)
    p.write(w1, b"late")
    t.join(JOIN)
    assert box.get("result") == 4
    p.fcntl(w2, F_SETPIPE_SZ, 4096)             # one page, and it is used
    p.write(w1, b"more")
    t, box = _run(p.splice, r1, w2, 100)
    assert kernel.wait_blocked(1, JOIN)
    assert p.read(r2, 10) == b"late"
    t.join(JOIN)
    assert box.get("result") == 4
    assert p.read(r2, 10) == b"more"
