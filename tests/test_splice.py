"""splice, sendfile and vmsplice between pipes, regular files and AF_UNIX
sockets: the copy counters prove which moves copied nothing, a receiver's
memory is the sender's page, blocked calls wake for data, room, Ctrl-C and
Kernel.close().  What the host kernel can answer too is a conformance
scenario (menios/conformance/scenarios/splicefile.py)."""
import errno
import gc
import os
import socket

import pytest

import menios
from menios import SPLICE_F_GIFT, SPLICE_F_NONBLOCK
from menios import _unix
from menios.constants import F_SETPIPE_SZ, FIONREAD
from test_blocking import JOIN, _ctrl_c, _run


def _payload(n):
    return bytes(i * 31 % 251 for i in range(n))


def _copies(kernel):
    c = kernel.counters()
    return c["bytes_copied"], c["bytes_zerocopy"]


def _relay(p, src, r, w, dst, total):
    """splice src -> pipe -> dst until ``total`` bytes went through."""
    moved = 0
    while moved < total:
        n = p.splice(src, w, 65536)
        assert n > 0
        while n:
            m = p.splice(r, dst, n)
            n -= m
            moved += m
    return moved


def test_splice_relay_copies_only_linear_bytes(kernel):
    """socket A -> pipe -> socket B: besides the sender's write into A and
    the final read, the relay copies only what Linux's does -- each skb's
    linear bytes, into its page fragment (3776 of the first, 36544-byte
    skb of 64 KiB and 320 of the second, 28992-byte one); the rest it moves
    as pages, into the pipe and out of it."""
    p = kernel.spawn()
    a1, a2 = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    b1, b2 = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    r, w = p.pipe()
    data = _payload(4 * 65536)
    received = bytearray()
    for off in range(0, len(data), 65536):
        chunk = data[off:off + 65536]
        p.send(a1, chunk)
        copied, moved = _copies(kernel)
        assert _relay(p, a2, r, w, b1, len(chunk)) == len(chunk)
        after = _copies(kernel)
        linear = 3776 + 320
        assert after[0] - copied == linear
        assert after[1] - moved == 2 * len(chunk) - linear
        while len(received) < off + len(chunk):
            received += p.recv(b2, 1 << 20)
    assert bytes(received) == data


def test_splice_takes_the_part_of_a_stream_message_that_fits(kernel):
    """A stream socket's skbs larger than the pipe's free room go in, in
    the part that fits, as Linux's: linear bytes copied, page fragments by
    reference; the rest stays queued and a later recv (peek first) or
    splice carries on exactly where it stopped.  80 KiB go in skbs of
    36544 (3776 linear), 36544 and 8832 bytes (640 linear)."""
    p = kernel.spawn()
    a, b = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    p.setsockopt(a, socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    r, w = p.pipe()
    data = _payload(80 * 1024)
    assert p.send(a, data) == len(data)
    copied, moved = _copies(kernel)
    n = p.splice(b, w, 1 << 20, flags=SPLICE_F_NONBLOCK)
    # the pipe's 16 pages: the first skb and most of the second
    assert n == 65536
    assert _copies(kernel) == (copied + 2 * 3776, moved + n - 2 * 3776)
    assert p.ioctl(b, FIONREAD) == len(data) - n
    assert p.recv(b, 100, socket.MSG_PEEK) == data[n:n + 100]
    assert p.read(r, 1 << 20) == data[:n]
    copied, moved = _copies(kernel)
    m = p.splice(b, w, 1 << 20, flags=SPLICE_F_NONBLOCK)
    assert n + m == len(data)
    assert _copies(kernel) == (copied + 640, moved + m - 640)
    assert p.read(r, 1 << 20) == data[n:]
    # and a recv after a partial splice reads the rest of the skb in order
    assert p.send(a, data) == len(data)
    r2, w2 = p.pipe()
    p.fcntl(w2, F_SETPIPE_SZ, 4096)
    k = p.splice(b, w2, 1 << 20, flags=SPLICE_F_NONBLOCK)
    assert 0 < k <= 4096
    rest = bytearray()
    while len(rest) < len(data) - k:
        rest += p.recv(b, 1 << 20, socket.MSG_DONTWAIT)
    assert p.read(r2, 8192) + bytes(rest) == data


def test_sendfile_of_page_cache_copies_nothing(kernel):
    """sendfile of a 1 MiB file to a stream socket queues the file's pages:
    no payload byte is copied until the receiver reads."""
    p = kernel.spawn()
    data = _payload(1 << 20)
    fd = p.open("/big", os.O_RDWR | os.O_CREAT, 0o600)
    assert p.write(fd, data) == len(data)
    a, b = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    p.setsockopt(a, socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    copied, moved = _copies(kernel)
    assert p.sendfile(a, fd, 0, len(data)) == len(data)
    after = _copies(kernel)
    assert after[0] == copied
    assert after[1] - moved == len(data)
    got = bytearray()
    while len(got) < len(data):
        got += p.recv(b, 1 << 20)
    assert bytes(got) == data
    assert p.lseek(fd, 0, os.SEEK_CUR) == len(data)     # an offset was given


def test_large_file_pages_go_as_one_skb_each(kernel):
    """A write that covers aligned 64 KiB of holes puts them in one large
    page run: sendfile queues each such 64 KiB as one page skb, other pages
    as a skb each; nothing is copied, a later write to the file shows
    through, and the file reads back whole."""
    p = kernel.spawn()
    data = _payload(40 * 4096 + 123)
    fd = p.open("/big", os.O_RDWR | os.O_CREAT, 0o600)
    assert p.write(fd, data) == len(data)
    a, b = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    copied, moved = _copies(kernel)
    skbs = kernel.counters()["skbs"]
    assert p.sendfile(a, fd, 0, 65536) == 65536
    assert kernel.counters()["skbs"] == skbs + 1
    assert p.sendfile(a, fd, 65536, 2 * 65536) == 65536 + 8 * 4096 + 123
    assert kernel.counters()["skbs"] == skbs + 1 + 1 + 9
    assert _copies(kernel) == (copied, moved + len(data))
    p.lseek(fd, 70000, os.SEEK_SET)
    p.write(fd, b"ZZ")                      # in place: the queued page shows it
    got = bytearray()
    while len(got) < len(data):
        got += p.recv(b, 1 << 20)
    want = bytearray(data)
    want[70000:70002] = b"ZZ"
    assert bytes(got) == bytes(want)
    # a write not aligned to 64 KiB: the groups it covers whole, single pages around
    fd2 = p.open("/odd", os.O_RDWR | os.O_CREAT, 0o600)
    p.lseek(fd2, 1000, os.SEEK_SET)
    odd = _payload(200000)
    assert p.write(fd2, odd) == len(odd)
    p.lseek(fd2, 0, os.SEEK_SET)
    assert p.read(fd2, 300000) == bytes(1000) + odd
    p.close(p.open("/odd", os.O_WRONLY | os.O_TRUNC))
    p.lseek(fd2, 70000, os.SEEK_SET)
    assert p.write(fd2, b"e") == 1          # over a hole: zeros before it
    p.lseek(fd2, 0, os.SEEK_SET)
    assert p.read(fd2, 300000) == bytes(70000) + b"e"


def test_sendfile_and_splice_to_pipe_share_the_file_pages(kernel):
    """A file's page in a pipe is the file's: written after the splice, the
    pipe shows the new bytes; the page outlives the file's truncation."""
    p = kernel.spawn()
    fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o600)
    p.write(fd, b"a" * 8192)
    r, w = p.pipe()
    copied, moved = _copies(kernel)
    assert p.sendfile(w, fd, 0, 8192) == 8192
    assert _copies(kernel) == (copied, moved + 8192)
    p.lseek(fd, 4096, os.SEEK_SET)
    p.write(fd, b"B" * 4)
    p.open("/f", os.O_WRONLY | os.O_TRUNC)
    assert p.read(r, 8192) == b"a" * 4096 + b"BBBB" + b"a" * 4092


def test_vmsplice_gift_hands_the_pages_to_the_receiver(kernel):
    """Pages vmspliced with SPLICE_F_GIFT into a pipe, spliced into a stream
    socket and received as a page buffer: the receiver's memory is the
    sender's page, and the owner may write again only once it is back."""
    p = kernel.spawn()
    pages = kernel.alloc_pages(1)
    memoryview(pages)[:5] = b"gift!"
    r, w = p.pipe()
    a, b = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    copied, moved = _copies(kernel)
    assert p.vmsplice(w, [pages], SPLICE_F_GIFT) == 4096
    assert pages.gifted
    assert memoryview(pages).readonly
    assert p.splice(r, a, 4096) == 4096
    pb = p.recv_pages(b, 4096)
    assert pb.address == pages.address
    assert bytes(memoryview(pb)[:5]) == b"gift!"
    assert _copies(kernel)[0] == copied
    pb.release()
    assert pages.wait(JOIN)
    pages.reclaim()
    memoryview(pages)[0] = 0x47


def test_vmsplice_of_ordinary_memory_copies(kernel):
    p = kernel.spawn()
    r, w = p.pipe()
    src = bytearray(b"plain")
    assert p.vmsplice(w, [src, b"!"]) == 6
    src[:] = b"XXXXX"
    assert p.read(r, 10) == b"plain!"


def test_splice_file_to_pipe_blocks_for_room(kernel):
    p = kernel.spawn()
    fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o600)
    p.write(fd, b"q" * 100)
    r, w = p.pipe()
    p.fcntl(w, menios.F_SETPIPE_SZ, 4096)
    p.write(w, b"full" * 1024)
    t, box = _run(p.splice, fd, w, 10, 0)
    assert kernel.wait_blocked(1, JOIN)
    assert p.read(r, 4096) == b"full" * 1024
    t.join(JOIN)
    assert box.get("result") == 10
    assert p.read(r, 100) == b"q" * 10


def test_splice_pipe_to_socket_blocks_for_data_then_room(kernel):
    p = kernel.spawn()
    r, w = p.pipe()
    a, b = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    t, box = _run(p.splice, r, a, 100)
    assert kernel.wait_blocked(1, JOIN)
    p.write(w, b"late")
    t.join(JOIN)
    assert box.get("result") == 4
    assert p.recv(b, 10) == b"late"


def test_splice_socket_to_pipe_blocks_for_data(kernel):
    p = kernel.spawn()
    r, w = p.pipe()
    a, b = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    t, box = _run(p.splice, b, w, 100)
    assert kernel.wait_blocked(1, JOIN)
    p.send(a, b"news")
    t.join(JOIN)
    assert box.get("result") == 4
    assert p.read(r, 10) == b"news"


def test_ctrl_c_interrupts_blocked_splices(kernel):
    p = kernel.spawn()
    r, w = p.pipe()
    a, b = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with _ctrl_c(), pytest.raises(KeyboardInterrupt):
        p.splice(b, w, 10)
    with _ctrl_c(), pytest.raises(KeyboardInterrupt):
        p.splice(r, a, 10)
    assert kernel.blocked() == 0
    p.send(a, b"still")
    assert p.splice(b, w, 10) == 5
    assert p.read(r, 10) == b"still"


def test_kernel_close_wakes_blocked_splices():
    k = menios.Kernel()
    p = k.spawn()
    r, w = p.pipe()
    r2, w2 = p.pipe()
    r3, w3 = p.pipe()
    a, b = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o600)
    p.write(fd, b"x")
    p.fcntl(w2, F_SETPIPE_SZ, 4096)
    p.write(w2, b"y" * 4096)
    # three pipes: a splice from a socket sleeps holding its pipe's mutex,
    # as Linux's holds pipe_lock, so another splice on that pipe would wait
    # for the mutex, not sleep
    calls = [_run(p.splice, b, w, 10), _run(p.splice, r3, a, 10),
             _run(p.splice, fd, w2, 1, 0)]
    assert k.wait_blocked(3, JOIN)
    k.close()
    for t, box in calls:
        t.join(JOIN)
        assert not t.is_alive()
        assert isinstance(box.get("error"), OSError)


def test_splice_nonblock_flag_and_partial_transfers(kernel):
    """SPLICE_F_NONBLOCK on an empty pipe: EAGAIN; a splice into a pipe
    with less room than asked moves what fits."""
    p = kernel.spawn()
    fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o600)
    p.write(fd, _payload(20000))
    r, w = p.pipe()
    a, b = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with pytest.raises(BlockingIOError):
        p.splice(r, a, 10, flags=SPLICE_F_NONBLOCK)
    p.fcntl(w, menios.F_SETPIPE_SZ, 8192)
    assert p.splice(fd, w, 20000, 0) == 8192
    assert p.read(r, 100000) == _payload(8192)


def test_page_cache_frees_its_pages():
    gc.collect()                # other tests' files go now, not during this one
    gc.disable()
    try:
        _page_cache_frees_its_pages()
    finally:
        gc.enable()


def _page_cache_frees_its_pages():
    k = menios.Kernel()
    p = k.spawn()
    before = _unix.pagecache_pages()
    fd = p.open("/f", os.O_RDWR | os.O_CREAT, 0o600)
    p.write(fd, b"z" * 3 * 4096)
    r, w = p.pipe()
    p.splice(fd, w, 4096, 0)
    assert _unix.pagecache_pages() - before == 3
    p.open("/f", os.O_WRONLY | os.O_TRUNC)
    assert _unix.pagecache_pages() - before == 1       # the pipe keeps one
    assert p.read(r, 10000) == b"z" * 4096
    assert _unix.pagecache_pages() - before in (0, 1)   # the pipe may keep it as its spare
    p.close(r)
    p.close(w)
    assert _unix.pagecache_pages() == before
    with pytest.raises(OSError) as e:
        p.splice(fd, 99, 1)
    assert e.value.errno == errno.EBADF
    # a large run (64 KiB written at once) stays whole while a pipe holds a page of it
    p.lseek(fd, 0, os.SEEK_SET)
    p.write(fd, b"y" * 65536)
    assert _unix.pagecache_pages() - before == 16
    r, w = p.pipe()
    assert p.splice(fd, w, 4096, 8192) == 4096
    p.open("/f", os.O_WRONLY | os.O_TRUNC)
    assert _unix.pagecache_pages() - before == 16
    assert p.read(r, 10000) == b"y" * 4096
    p.close(r)
    p.close(w)
    assert _unix.pagecache_pages() == before


# ------------------------------------------------------------------
# Process.read, write and splice make the common pipe and socket calls in
# C (ProcessBase); filecalls and splice.splice are the general path.  Both
# must answer every call alike: result, errno, SIGPIPE, what moved.

def _outcome(call):
    try:
        return ("ok", call())
    except OSError as e:
        return ("OSError", e.errno)
    except (TypeError, ValueError) as e:
        return (type(e).__name__,)


def _world():
    k = menios.Kernel()
    p = k.spawn()
    fds = {}
    fds["r"], fds["w"] = p.pipe()
    fds["r2"], fds["w2"] = p.pipe()
    fds["s1"], fds["s2"] = p.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fds["d1"], fds["d2"] = p.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    fds["nr"], fds["nw"] = p.pipe2(os.O_NONBLOCK)
    fds["bad"] = 999
    p.send(fds["s2"], b"stream")
    p.send(fds["d2"], b"dgram")
    p.write(fds["w"], b"piped")
    p.write(fds["w2"], b"more")
    fds["closed_r"], fds["closed_w"] = p.pipe()
    p.close(fds["closed_r"])
    return k, p, fds


def _state(k, p, fds):
    """What a call left behind: SIGPIPE pending, bytes where they went."""
    out = [sorted(p.pending_signals)]
    for fd in ("r", "r2", "nr"):
        out.append(p._file(fds[fd]).nread())
    for fd in ("s1", "d1"):
        try:
            out.append(p.recv(fds[fd], 100, socket.MSG_DONTWAIT))
        except OSError as e:
            out.append(e.errno)
    return out


SPLICE_ENDS = ["r", "w", "r2", "w2", "s1", "d1", "nr", "nw", "closed_w", "bad"]


@pytest.mark.parametrize("src", SPLICE_ENDS)
@pytest.mark.parametrize("dst", SPLICE_ENDS)
def test_splice_fast_path_answers_as_the_general_path(src, dst):
    from menios import splice as splicecalls
    seen = []
    for how in ("fast", "general"):
        for count, flags in ((100, SPLICE_F_NONBLOCK), (3, SPLICE_F_NONBLOCK), (0, 0),
                             (-1, 0), (10, 0x100)):
            k, p, fds = _world()
            try:
                a, b = fds[src], fds[dst]
                if how == "fast":
                    r = _outcome(lambda: p.splice(a, b, count, flags=flags))
                else:
                    r = _outcome(lambda: splicecalls.splice(p, a, b, count, None, None, flags))
                seen.append((how, count, flags, r, _state(k, p, fds)))
            finally:
                k.close()
    half = len(seen) // 2
    assert [s[1:] for s in seen[:half]] == [s[1:] for s in seen[half:]]


@pytest.mark.parametrize("fd", SPLICE_ENDS)
def test_read_write_fast_paths_answer_as_the_general_path(fd):
    # (every fd that is read has bytes or is non-blocking: no call sleeps)
    from menios import filecalls
    seen = []
    for how in ("fast", "general"):
        for call, arg in (("read", 3), ("read", 100), ("read", 0), ("read", -1),
                          ("read", "x"), ("write", b"abc"), ("write", b""),
                          ("write", "not bytes")):
            k, p, fds = _world()
            try:
                f = fds[fd]
                if how == "fast":
                    r = _outcome(lambda: getattr(p, call)(f, arg))
                else:
                    r = _outcome(lambda: getattr(filecalls, call)(p, f, arg))
                seen.append((how, call, arg, r, _state(k, p, fds)))
            finally:
                k.close()
    half = len(seen) // 2
    assert [s[1:] for s in seen[:half]] == [s[1:] for s in seen[half:]]
