"""Zero-copy page handoff: nothing copied, the same memory on both sides,
and ownership misuse fails cleanly."""
import threading
import time

import pytest

import menios
from menios import (AF_UNIX, MSG_ZEROCOPY, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM,
                    SOL_SOCKET, SO_SNDBUF, SCM_RIGHTS, MSG_OOB, SIOCATMARK)
from test_blocking import _ctrl_c


@pytest.fixture
def pair(kernel):
    p = kernel.spawn()
    a, b = p.socketpair(AF_UNIX, SOCK_STREAM)
    return kernel, p, a, b


def _fill(pages, pattern):
    mv = memoryview(pages)
    for i in range(0, len(mv), len(pattern)):
        mv[i:i + len(pattern)] = pattern[:len(mv) - i]
    mv.release()


@pytest.mark.parametrize("sotype", [SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM])
def test_handoff_copies_nothing_and_shares_memory(kernel, sotype):
    p = kernel.spawn()
    a, b = p.socketpair(AF_UNIX, sotype)
    p.setsockopt(a, SOL_SOCKET, SO_SNDBUF, 2 << 20)     # room for a 1 MiB datagram
    pages = kernel.alloc_pages(256)
    _fill(pages, b"menios!")
    before = kernel.counters()
    assert p.sendmsg(a, [pages], (), MSG_ZEROCOPY) == 1 << 20
    buf = p.recv_pages(b)
    after = kernel.counters()
    assert after["bytes_copied"] == before["bytes_copied"]          # payload never copied
    assert after["bytes_zerocopy"] - before["bytes_zerocopy"] == 1 << 20
    assert buf.address == pages.address                            # the same memory
    assert len(buf) == 1 << 20
    assert bytes(memoryview(buf)[:14]) == b"menios!menios!"
    assert pages.inflight == 1
    buf.release()
    assert pages.wait(5) and pages.inflight == 0
    pages.free()
    assert kernel.counters()["pages"] == 0


def test_gifted_pages_are_read_only_until_reclaimed(pair):
    k, p, a, b = pair
    pages = k.alloc_pages(8)
    p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
    assert pages.gifted
    with pytest.raises(TypeError):       # a writable export is refused (stdlib's error)
        p.recv_into(a, pages)
    ro = memoryview(pages)
    assert ro.readonly
    with pytest.raises(TypeError):
        ro[0] = 1
    ro.release()
    with pytest.raises(BufferError):
        pages.reclaim()                  # still in flight
    buf = p.recv_pages(b)
    buf.release()
    assert pages.wait(5)
    pages.reclaim()
    rw = memoryview(pages)
    rw[0] = 7                            # writable again
    rw.release()
    pages.free()


def test_handoff_refused_while_writable_view_exported(pair):
    k, p, a, b = pair
    pages = k.alloc_pages(8)
    view = memoryview(pages)
    assert not view.readonly
    with pytest.raises(BufferError):
        p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
    assert not pages.gifted
    assert k.counters()["skbs"] == 0     # nothing was sent
    view.release()
    pages.free()


def test_double_free_and_use_after_free(pair):
    k, p, a, b = pair
    pages = k.alloc_pages(4)
    pages.free()
    with pytest.raises(ValueError):
        pages.free()
    with pytest.raises(ValueError):
        memoryview(pages)
    with pytest.raises(ValueError):
        p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
    assert k.counters()["pages"] == 0


def test_received_buffer_misuse(pair):
    k, p, a, b = pair
    pages = k.alloc_pages(8)
    p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
    buf = p.recv_pages(b)
    with pytest.raises(TypeError):       # read-only
        p.recv_into(a, buf)
    view = memoryview(buf)
    with pytest.raises(BufferError):
        buf.release()                    # a view is still exported
    view.release()
    buf.release()
    with pytest.raises(ValueError):
        buf.release()
    with pytest.raises(ValueError):
        memoryview(buf)
    pages.free()


def test_sender_may_free_before_receiver_releases(pair):
    k, p, a, b = pair
    pages = k.alloc_pages(16)
    _fill(pages, b"x")
    p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
    pages.free()                         # the message still holds the memory
    assert k.counters()["pages"] == 16
    buf = p.recv_pages(b)
    assert bytes(memoryview(buf)[:3]) == b"xxx"
    buf.release()
    assert k.counters()["pages"] == 0


def test_unread_pages_released_with_the_socket(pair):
    k, p, a, b = pair
    pages = k.alloc_pages(16)
    p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
    p.close(b)
    assert pages.wait(5)
    pages.free()


def test_small_or_plain_messages_are_copied(pair):
    k, p, a, b = pair
    small = k.alloc_pages(1)             # below the copy threshold
    p.sendmsg(a, [small], (), MSG_ZEROCOPY)
    assert not small.gifted
    got = p.recv_pages(b)
    assert got.address != small.address and len(got) == 4096
    got.release()
    p.send(a, b"plain data")
    got = p.recv_pages(b)
    assert got.tobytes() == b"plain data"
    got.release()
    small.free()
    assert k.counters()["pages"] == 0


def test_no_ancillary_data_with_pages(pair):
    k, p, a, b = pair
    pages = k.alloc_pages(8)
    r, w = p.pipe()
    import array
    with pytest.raises(OSError) as e:
        p.sendmsg(a, [pages], [(SOL_SOCKET, SCM_RIGHTS, array.array("i", [r]).tobytes())],
                  MSG_ZEROCOPY)
    assert e.value.errno == 22
    assert not pages.gifted
    pages.free()


def test_blocked_recv_pages_woken_by_handoff(pair):
    k, p, a, b = pair
    pages = k.alloc_pages(8)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("buf", p.recv_pages(b)), daemon=True)
    t.start()
    t.join(0.1)
    assert t.is_alive()
    p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
    t.join(10)
    assert not t.is_alive()
    assert box["buf"].address == pages.address
    box["buf"].release()
    pages.free()


def test_recv_pages_eof(pair):
    k, p, a, b = pair
    p.shutdown(a, menios.SHUT_WR)
    buf = p.recv_pages(b)
    assert len(buf) == 0
    buf.release()


def test_page_reference_dropped_without_the_gil(pair):
    """Receivers release pages from threads that hold no Python state: the
    release is an atomic reference drop (no GIL, no callback)."""
    k, p, a, b = pair
    pages = k.alloc_pages(8)
    bufs = []
    for _ in range(4):
        p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
        bufs.append(p.recv_pages(b))
    threads = [threading.Thread(target=buf.release) for buf in bufs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert pages.wait(5)
    pages.free()


def test_pages_outlive_their_kernel():
    """Pages and received buffers dropped after the kernel is gone touch no
    freed memory (the CI runs this under AddressSanitizer)."""
    import gc
    k = menios.Kernel()
    p = k.spawn()
    a, b = p.socketpair()
    pages = k.alloc_pages(8)
    p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
    buf = p.recv_pages(b)
    k.close()
    del k, p
    gc.collect()
    assert bytes(memoryview(buf)[:4]) == b"\0\0\0\0"
    buf.release()
    pages.free()
    gc.collect()


def test_zerocopy_with_msg_oob(kernel):
    """MSG_ZEROCOPY | MSG_OOB: all but the last byte go over as the pages,
    the last one (copied) becomes the mark; recv_pages stops in front of a
    mark and, like a read, skips one that is dropped."""
    p = kernel.spawn()
    a, b = p.socketpair()
    pages = kernel.alloc_pages(8)
    view = memoryview(pages)
    view[:] = bytes(i % 251 for i in range(8 * 4096))
    view.release()
    before = kernel.counters()
    assert p.sendmsg(a, [pages], (), MSG_ZEROCOPY | MSG_OOB) == 8 * 4096
    after = kernel.counters()
    assert after["bytes_zerocopy"] - before["bytes_zerocopy"] == 8 * 4096 - 1
    assert after["bytes_copied"] - before["bytes_copied"] == 1
    assert p.ioctl(b, SIOCATMARK) == 0
    buf = p.recv_pages(b)
    assert buf.address == pages.address and buf.nbytes == 8 * 4096 - 1
    assert p.ioctl(b, SIOCATMARK) == 1
    buf.release()
    assert p.recv(b, 1, MSG_OOB) == bytes([(8 * 4096 - 1) % 251])
    assert pages.wait(1.0)
    pages.reclaim()
    p.send(a, b"xy", MSG_OOB)
    p.send(a, b"z")
    r = p.recv_pages(b)
    assert bytes(memoryview(r)) == b"x"         # stops at the mark
    r.release()
    r = p.recv_pages(b)
    assert bytes(memoryview(r)) == b"z"         # the unread mark "y" is dropped
    r.release()
    pages.free()


def test_handoff_to_a_name_that_does_not_resolve_gives_the_pages_back(kernel):
    """The name of a zero-copy datagram is looked up after the pages are on
    an skb (Linux's order); when it fails, the skb goes and the pages are
    writable again at once: no reclaim needed, nothing queued."""
    p = kernel.spawn()
    s = p.socket(AF_UNIX, SOCK_DGRAM)
    r = p.socket(AF_UNIX, SOCK_DGRAM)
    p.bind(r, "/tmp/zc")
    pages = kernel.alloc_pages(8)
    with pytest.raises(FileNotFoundError):
        p.sendmsg(s, [pages], (), MSG_ZEROCOPY, "/tmp/nothing-here")
    assert pages.inflight == 0 and kernel.counters()["skbs"] == 0
    _fill(pages, b"back")
    assert p.sendmsg(s, [pages], (), MSG_ZEROCOPY, "/tmp/zc") == 8 * 4096
    buf = p.recv_pages(r)
    assert bytes(memoryview(buf)[:4]) == b"back"
    buf.release()


def test_wait_sleeps_until_the_release_wakes_it(pair):
    """Pages.wait: False at its timeout, and woken by the receiver's release
    while it sleeps in another thread."""
    k, p, a, b = pair
    pages = k.alloc_pages(8)
    p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
    buf = p.recv_pages(b)
    start = time.monotonic()
    assert pages.wait(0.1) is False
    assert time.monotonic() - start >= 0.1
    assert pages.wait(0) is False
    box = {}
    started = threading.Event()

    def waiter():
        started.set()
        box["result"] = pages.wait(30)
        box["at"] = time.monotonic()
    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    started.wait(30)
    time.sleep(0.2)                        # it is asleep by now
    assert t.is_alive()
    released = time.monotonic()
    buf.release()
    t.join(30)
    assert box.get("result") is True
    assert box["at"] - released < 5        # the release woke it, well before its timeout
    assert pages.inflight == 0
    pages.free()


def test_ctrl_c_interrupts_pages_wait(pair):
    k, p, a, b = pair
    pages = k.alloc_pages(8)
    p.sendmsg(a, [pages], (), MSG_ZEROCOPY)
    buf = p.recv_pages(b)
    with _ctrl_c(), pytest.raises(KeyboardInterrupt):
        pages.wait(30)
    buf.release()
    assert pages.wait(5)
    pages.free()
