"""splice between pipes and regular files, sendfile, vmsplice, as Linux's
fs/splice.c and fs/read_write.c: offsets against the file position, the end
of the file, the errno of every argument boundary, and the page cache
shared with a pipe (a write to the file after its page was spliced shows
through the pipe) or with a stream socket (sendfile).

Named ``splice_file_``, ``sendfile_`` and ``vmsplice_<behaviour>``.
Nothing here blocks: pipes that are filled are non-blocking, sockets are
read with MSG_DONTWAIT or hold what was sent.
"""
import os
import socket

from ..harness import scenario

PAGE = 4096
FILE = "/tmp/data"
SPLICE_F_NONBLOCK, SPLICE_F_GIFT = 2, 8
FIONREAD = 0x541B
SIGPIPE = 13


def _proc(k):
    return k.spawn(uid=1000, gid=1000)


def _file(t, p, content, flags=os.O_RDWR):
    """A fresh file holding ``content``, opened with ``flags`` at offset 0."""
    fd = t.call(p.open, FILE, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    t.call(p.write, fd, content)
    if flags != os.O_RDWR:
        t.call(p.close, fd)
        fd = t.call(p.open, FILE, flags)
    else:
        t.call(p.lseek, fd, 0, os.SEEK_SET)
    return fd


def _fill(p, w):
    total = 0
    while True:
        try:
            total += p.write(w, b"f" * PAGE)
        except BlockingIOError:
            return total


def _pending(t, p):
    t.step("pending_signals", lambda: SIGPIPE in set(p.pending_signals))


def _pattern(n):
    return bytes(i * 7 % 251 for i in range(n))


@scenario("splice_file_to_pipe", params={"count": (1, 100, 4096, 5000, 20000, 100000)})
def splice_file_to_pipe(k, t, count):
    """From the file position: at most ``count`` bytes, the end of the file
    ending it; the position advances by what moved."""
    p = _proc(k)
    fd = _file(t, p, _pattern(3 * PAGE + 123))
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    t.call(p.lseek, fd, 10, os.SEEK_SET)
    t.call(p.splice, fd, w, count)
    t.call(p.lseek, fd, 0, os.SEEK_CUR)
    t.call(p.ioctl, r, FIONREAD)
    t.call(p.read, r, 200000)


@scenario("splice_file_offset", params={"offset": (0, 5, PAGE, 3 * PAGE + 122, 3 * PAGE + 123, 10 ** 6)})
def splice_file_offset(k, t, offset):
    """An explicit offset reads there and leaves the file position alone;
    at or past the end nothing moves (0)."""
    p = _proc(k)
    fd = _file(t, p, _pattern(3 * PAGE + 123))
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    t.call(p.lseek, fd, 7, os.SEEK_SET)
    t.call(p.splice, fd, w, 300, offset)
    t.call(p.lseek, fd, 0, os.SEEK_CUR)
    t.call(p.read, r, 1000)


@scenario("splice_file_page_shared")
def splice_file_page_shared(k, t):
    """The pipe holds the file's page, not a copy: a write to the file
    after the splice is what the reader of the pipe sees; truncating the
    file leaves the pipe's page as it was."""
    p = _proc(k)
    fd = _file(t, p, b"A" * 2 * PAGE)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    t.call(p.splice, fd, w, PAGE + 100, 0)
    t.call(p.lseek, fd, 10, os.SEEK_SET)
    t.call(p.write, fd, b"B" * 10)
    t.call(p.lseek, fd, PAGE + 50, os.SEEK_SET)
    t.call(p.write, fd, b"C" * 10)
    t.call(p.read, r, 40)
    t.call(p.read, r, PAGE - 40 + 100)
    t.call(p.splice, fd, w, 30, 0)
    f2 = t.call(p.open, FILE, os.O_RDWR | os.O_TRUNC)
    t.call(p.write, f2, b"D" * 5)
    t.call(p.read, r, 100)


@scenario("splice_file_nonblock")
def splice_file_nonblock(k, t):
    """A full output pipe: EAGAIN with O_NONBLOCK on it or with
    SPLICE_F_NONBLOCK; no reader: EPIPE and SIGPIPE.  The file position
    does not move."""
    p = _proc(k)
    fd = _file(t, p, b"z" * 100)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    t.step("fill", _fill, p, w)
    t.call(p.splice, fd, w, 10)
    r2, w2 = t.call(p.pipe)
    t.step("fill", _fill_blocking, p, r2, w2)
    t.call(p.splice, fd, w2, 10, None, None, SPLICE_F_NONBLOCK)
    t.call(p.close, r)
    t.call(p.splice, fd, w, 10)
    _pending(t, p)
    t.call(p.lseek, fd, 0, os.SEEK_CUR)


def _fill_blocking(p, r, w):
    """Fill a blocking pipe: 16 page writes (its default capacity)."""
    for _ in range(16):
        p.write(w, b"g" * PAGE)
    return p.ioctl(r, FIONREAD)


@scenario("splice_file_args")
def splice_file_args(k, t):
    """A file end's checks: an offset on the pipe (ESPIPE), a file not
    open for reading / writing (EBADF), a negative offset (EINVAL), a
    directory (EINVAL), an O_APPEND output (EINVAL), file to file
    (EINVAL)."""
    p = _proc(k)
    fd = _file(t, p, b"data")
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    wo = t.call(p.open, FILE, os.O_WRONLY)
    ro = t.call(p.open, FILE, os.O_RDONLY)
    ap = t.call(p.open, FILE, os.O_WRONLY | os.O_APPEND)
    d = t.call(p.open, "/tmp", os.O_RDONLY | os.O_DIRECTORY)
    t.call(p.splice, fd, w, 10, None, 0)
    t.call(p.splice, wo, w, 10)
    t.call(p.splice, fd, w, 10, -1)
    t.call(p.splice, d, w, 10)
    t.call(p.splice, fd, ro, 10)
    t.call(p.write, w, b"x")
    t.call(p.splice, r, fd, 10, 0)
    t.call(p.splice, r, ro, 10)
    t.call(p.splice, r, ap, 10)
    t.call(p.splice, r, fd, 10, None, -1)
    t.call(p.splice, r, d, 10)
    t.call(p.ioctl, r, FIONREAD)


@scenario("splice_pipe_to_file", params={"offset": (None, 0, 3, PAGE + 1, 3 * PAGE)})
def splice_pipe_to_file(k, t, offset):
    """Into a file at ``offset`` (None: the file position, advanced): what
    the pipe holds, up to the count; the file grows, a gap reading as
    zeros."""
    p = _proc(k)
    fd = _file(t, p, b"o" * 10)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    t.call(p.write, w, _pattern(PAGE + 500))
    t.call(p.write, w, b"tail")
    t.call(p.lseek, fd, 2, os.SEEK_SET)
    t.call(p.splice, r, fd, PAGE + 400, None, offset)
    t.call(p.lseek, fd, 0, os.SEEK_CUR)
    t.call(p.fstat, fd)
    t.call(p.splice, r, fd, 100000, None, offset)
    t.call(p.lseek, fd, 0, os.SEEK_SET)
    t.call(p.read, fd, 100000)


@scenario("splice_pipe_to_file_empty")
def splice_pipe_to_file_empty(k, t):
    """An empty pipe: EAGAIN (O_NONBLOCK on the pipe or SPLICE_F_NONBLOCK),
    0 once no writer is left; the file is untouched."""
    p = _proc(k)
    fd = _file(t, p, b"same")
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    t.call(p.splice, r, fd, 10)
    r2, w2 = t.call(p.pipe)
    t.call(p.splice, r2, fd, 10, None, None, SPLICE_F_NONBLOCK)
    t.call(p.close, w2)
    t.call(p.splice, r2, fd, 10)
    t.call(p.fstat, fd)


@scenario("splice_file_roundtrip")
def splice_file_roundtrip(k, t):
    """File -> pipe -> another file, page by page, keeps every byte."""
    p = _proc(k)
    data = _pattern(5 * PAGE + 77)
    fd = _file(t, p, data)
    out = t.call(p.open, "/tmp/copy", os.O_RDWR | os.O_CREAT, 0o600)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)

    def copy():
        total = 0
        while True:
            n = p.splice(fd, w, 3 * PAGE)
            if not n:
                return total
            while n:
                m = p.splice(r, out, n)
                n -= m
                total += m
    t.step("copy", copy)
    t.call(p.lseek, out, 0, os.SEEK_SET)
    t.step("same", lambda: p.read(out, 100000) == data)


@scenario("sendfile_to_pipe", params={"offset": (None, 0, 100, 3 * PAGE + 123, 10 ** 6)})
def sendfile_to_pipe(k, t, offset):
    """sendfile into a pipe: from ``offset`` (the position untouched) or
    the position (advanced); one pipe-full at most."""
    p = _proc(k)
    fd = _file(t, p, _pattern(3 * PAGE + 123))
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    t.call(p.lseek, fd, 5, os.SEEK_SET)
    t.call(p.sendfile, w, fd, offset, 2 * PAGE)
    t.call(p.lseek, fd, 0, os.SEEK_CUR)
    t.call(p.read, r, 100000)
    t.call(p.sendfile, w, fd, offset, 100 * PAGE)
    t.call(p.ioctl, r, FIONREAD)


@scenario("sendfile_to_socket", params={"type": ("SOCK_STREAM", "SOCK_DGRAM", "SOCK_SEQPACKET")})
def sendfile_to_socket(k, t, type):
    """sendfile into a socket: everything (a datagram per batch); the
    receiver gets the bytes in order."""
    p = _proc(k)
    data = _pattern(5 * PAGE + 10)
    fd = _file(t, p, data)
    a, b = t.call(p.socketpair, socket.AF_UNIX, getattr(socket, type))
    t.call(p.sendfile, a, fd, None, 3 * PAGE)
    t.call(p.lseek, fd, 0, os.SEEK_CUR)
    t.call(p.recv, b, 100000, socket.MSG_DONTWAIT)
    t.call(p.sendfile, a, fd, 7, 100)
    t.call(p.recv, b, 100000, socket.MSG_DONTWAIT)
    t.call(p.sendfile, a, fd, 10 ** 6, 100)
    t.call(p.recv, b, 100000, socket.MSG_DONTWAIT)


@scenario("sendfile_stream_page_shared")
def sendfile_stream_page_shared(k, t):
    """To a stream socket the file's pages themselves are queued: a write
    to the file before the receiver reads shows in what it reads."""
    p = _proc(k)
    fd = _file(t, p, b"C" * 100)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    t.call(p.sendfile, a, fd, 0, 20)
    t.call(p.write, fd, b"E" * 10)
    t.call(p.recv, b, 100, socket.MSG_DONTWAIT)


@scenario("sendfile_dgram_copied")
def sendfile_dgram_copied(k, t):
    """A datagram carries a copy: a later write to the file does not show."""
    p = _proc(k)
    fd = _file(t, p, b"C" * 100)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_DGRAM)
    t.call(p.sendfile, a, fd, 0, 20)
    t.call(p.write, fd, b"E" * 10)
    t.call(p.recv, b, 100, socket.MSG_DONTWAIT)


@scenario("sendfile_socket_errors")
def sendfile_socket_errors(k, t):
    """Into a socket: ENOTCONN unconnected, EPIPE + SIGPIPE once the peer
    is gone, EAGAIN when a non-blocking socket's buffer is full (a short
    count when some went)."""
    p = _proc(k)
    fd = _file(t, p, _pattern(64 * PAGE))
    c = t.call(p.socket, socket.AF_UNIX, socket.SOCK_STREAM)
    t.call(p.sendfile, c, fd, 0, 10)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    t.call(p.close, b)
    t.call(p.sendfile, a, fd, 0, 10)
    _pending(t, p)
    t.call(p.lseek, fd, 0, os.SEEK_CUR)


@scenario("sendfile_pages_fill_send_buffer")
def sendfile_pages_fill_send_buffer(k, t):
    """Pages sendfile or splice queues on a stream socket are charged their
    length against the send buffer: into a non-blocking socket, 1 MiB of a
    file goes 64 KiB at a time until the buffer is full, then EAGAIN."""
    p = _proc(k)
    fd = _file(t, p, _pattern(1 << 20))
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    t.call(p.sendfile, a, fd, 0, 1 << 20)
    t.call(p.sendfile, a, fd, 0, 1 << 20)
    c, d = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    for i in range(6):
        t.call(p.splice, fd, w, 16 * PAGE, i * 16 * PAGE)
        t.call(p.splice, r, c, 16 * PAGE)
    t.call(p.recv, d, 100000, socket.MSG_DONTWAIT)


@scenario("sendfile_args")
def sendfile_args(k, t):
    """do_sendfile's checks in order: the input (EBADF, ESPIPE for an
    offset on a pipe, EINVAL for a negative offset), the output (EBADF),
    an input that cannot be spliced from (a pipe, a directory: EINVAL), an
    O_APPEND output (EINVAL); a count of 0; a file to a file copies."""
    p = _proc(k)
    fd = _file(t, p, b"0123456789")
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    wo = t.call(p.open, FILE, os.O_WRONLY)
    ro = t.call(p.open, FILE, os.O_RDONLY)
    ap = t.call(p.open, FILE, os.O_WRONLY | os.O_APPEND)
    d = t.call(p.open, "/tmp", os.O_RDONLY | os.O_DIRECTORY)
    out = t.call(p.open, "/tmp/out", os.O_RDWR | os.O_CREAT, 0o600)
    t.call(p.sendfile, w, 99, 0, 10)
    t.call(p.sendfile, w, wo, 0, 10)
    t.call(p.sendfile, w, r, 0, 10)
    t.call(p.sendfile, w, r, None, 10)
    t.call(p.sendfile, w, fd, -1, 10)
    t.call(p.sendfile, 99, fd, 0, 10)
    t.call(p.sendfile, ro, fd, 0, 10)
    t.call(p.sendfile, w, d, 0, 10)
    t.call(p.sendfile, ap, fd, 0, 10)
    t.call(p.sendfile, w, fd, 0, 0)
    t.call(p.sendfile, out, fd, 2, 5)
    t.call(p.sendfile, out, fd, None, 100)
    t.call(p.lseek, fd, 0, os.SEEK_CUR)
    t.call(p.lseek, out, 0, os.SEEK_SET)
    t.call(p.read, out, 100)


@scenario("sendfile_pipe_full")
def sendfile_pipe_full(k, t):
    """A full pipe: EAGAIN when it is O_NONBLOCK; EPIPE + SIGPIPE without a
    reader."""
    p = _proc(k)
    fd = _file(t, p, b"y" * 100)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    t.step("fill", _fill, p, w)
    t.call(p.sendfile, w, fd, 0, 10)
    t.call(p.close, r)
    t.call(p.sendfile, w, fd, 0, 10)
    _pending(t, p)


@scenario("sendfile_socket_to_pipe", params={"type": ("SOCK_STREAM", "SOCK_DGRAM", "SOCK_SEQPACKET")})
def sendfile_socket_to_pipe(k, t, type):
    """sendfile from an AF_UNIX socket into a pipe reads as splice does
    (a stream across sends, another type one message, cut to the count);
    EAGAIN on an empty non-blocking socket; once the peer is gone, 0 (EOF)
    from a connected stream or seqpacket socket, EAGAIN from a datagram
    one; an unconnected socket: EINVAL, ENOTCONN or EAGAIN by type."""
    p = _proc(k)
    sotype = getattr(socket, type)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    a, b = t.call(p.socketpair, socket.AF_UNIX, sotype)
    t.call(p.send, a, b"hello")
    t.call(p.send, a, b"world!")
    t.call(p.sendfile, w, b, None, 3)
    t.call(p.sendfile, w, b, None, 100)
    t.call(p.ioctl, r, FIONREAD)
    t.call(p.read, r, 100)
    t.call(p.fcntl, b, 4, os.O_NONBLOCK)        # F_SETFL
    t.call(p.sendfile, w, b, None, 100)
    t.call(p.close, a)
    t.call(p.sendfile, w, b, None, 100)
    c = t.call(p.socket, socket.AF_UNIX, sotype | socket.SOCK_NONBLOCK)
    t.call(p.sendfile, w, c, None, 100)


@scenario("splice_to_pipe_room_first",
          params={"src": ("eof_file", "directory", "stream", "dgram"),
                  "pipe": ("full", "no_reader")})
def splice_to_pipe_room_first(k, t, src, pipe):
    """Into a pipe, splice and sendfile wait for room before they look at
    what they read from (splice_file_to_pipe): a full O_NONBLOCK pipe is
    EAGAIN and one without a reader EPIPE + SIGPIPE even for a file at its
    end, a directory (else EINVAL), an empty socket, or a sendfile of 0
    bytes."""
    p = _proc(k)
    if src == "eof_file":
        fd = _file(t, p, b"abc")
        t.call(p.lseek, fd, 0, os.SEEK_END)
    elif src == "directory":
        fd = t.call(p.open, "/tmp", os.O_RDONLY | os.O_DIRECTORY)
    else:
        fd, _ = t.call(p.socketpair, socket.AF_UNIX,
                       (socket.SOCK_STREAM if src == "stream" else socket.SOCK_DGRAM)
                       | socket.SOCK_NONBLOCK)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    if pipe == "full":
        t.step("fill", _fill, p, w)
    else:
        t.call(p.close, r)
    t.call(p.splice, fd, w, 5)
    t.call(p.sendfile, w, fd, None, 5)
    t.call(p.sendfile, w, fd, None, 0)
    _pending(t, p)


@scenario("vmsplice_into_pipe", params={"sizes": ((5,), (3, 4), (PAGE,), (PAGE + 1, 10), (0, 7))})
def vmsplice_into_pipe(k, t, sizes):
    """User buffers into a pipe: every byte, in order."""
    p = _proc(k)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    bufs = [bytes([65 + i]) * n for i, n in enumerate(sizes)]
    t.call(p.vmsplice, w, bufs)
    t.call(p.ioctl, r, FIONREAD)
    t.call(p.read, r, 100000)


@scenario("vmsplice_from_pipe")
def vmsplice_from_pipe(k, t):
    """On a read end vmsplice reads into the buffers in turn; EAGAIN when
    empty with SPLICE_F_NONBLOCK (O_NONBLOCK alone would wait), 0 at EOF."""
    p = _proc(k)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    t.call(p.write, w, b"abcdefgh")
    one, two = bytearray(3), bytearray(10)
    t.call(p.vmsplice, r, [one, two])
    t.step("buffers", lambda: (bytes(one), bytes(two)))
    t.call(p.vmsplice, r, [one], SPLICE_F_NONBLOCK)
    t.call(p.close, w)
    t.call(p.vmsplice, r, [one])


@scenario("vmsplice_packet_pipe", params={"sizes": ((7,), (2,), (6,), (1, 5))})
def vmsplice_packet_pipe(k, t, sizes):
    """An O_DIRECT pipe's packets are not read whole by vmsplice: it reads
    across them, and the rest of a packet it cut stays for read(2), still
    a packet.  Bytes vmspliced in are not packets."""
    p = _proc(k)
    r, w = t.call(p.pipe2, os.O_NONBLOCK | os.O_DIRECT)
    t.call(p.write, w, b"abcde")
    t.call(p.vmsplice, w, [b"f"])
    t.call(p.write, w, b"ghi")
    bufs = [bytearray(n) for n in sizes]
    t.call(p.vmsplice, r, bufs, SPLICE_F_NONBLOCK)
    t.step("buffers", lambda: [bytes(b) for b in bufs])
    t.call(p.ioctl, r, FIONREAD)
    t.call(p.read, r, 2)
    t.call(p.read, r, 100)
    t.call(p.vmsplice, w, [b"xyz", b"uvw"])
    t.call(p.read, r, 2)
    t.call(p.read, r, 100)


@scenario("vmsplice_args")
def vmsplice_args(k, t):
    """EINVAL for an unknown flag, EBADF for a bad fd or a file that is not
    a pipe, 0 for no buffers, EPIPE + SIGPIPE
    without a reader; SPLICE_F_GIFT of ordinary memory is a plain
    vmsplice."""
    p = _proc(k)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    fd = _file(t, p, b"f")
    t.call(p.vmsplice, w, [b"x"], 0x10)
    t.call(p.vmsplice, 99, [b"x"])
    t.call(p.vmsplice, fd, [b"x"])
    t.call(p.vmsplice, w, [])
    t.call(p.vmsplice, w, [b"gift"], SPLICE_F_GIFT)
    t.call(p.read, r, 10)
    t.step("fill", _fill, p, w)
    t.call(p.vmsplice, w, [b"x"], SPLICE_F_NONBLOCK)
    t.call(p.close, r)
    t.call(p.vmsplice, w, [b"x"])
    _pending(t, p)


@scenario("vmsplice_not_a_pipe", params={"file": ("stream", "dgram", "rdonly")})
def vmsplice_not_a_pipe(k, t, file):
    """On a file that is not a pipe the buffers are counted first: more than
    IOV_MAX of them is EINVAL and no byte in them returns 0 (no buffer, or
    only empty ones); a byte makes it EBADF."""
    p = _proc(k)
    if file == "rdonly":
        fd = _file(t, p, b"f", os.O_RDONLY)
    else:
        fd, _ = t.call(p.socketpair, socket.AF_UNIX,
                       socket.SOCK_STREAM if file == "stream" else socket.SOCK_DGRAM)
    t.call(p.vmsplice, fd, [])
    t.call(p.vmsplice, fd, [b"", b""])
    t.call(p.vmsplice, fd, [b""] * 1025)
    t.call(p.vmsplice, fd, [b"", b"x"])
    t.call(p.vmsplice, fd, [bytearray(2)], SPLICE_F_NONBLOCK)
    t.call(p.vmsplice, fd, [], 0x10)


TYPES = {"type": ("SOCK_STREAM", "SOCK_DGRAM", "SOCK_SEQPACKET")}


@scenario("splice_pipe_to_socket", params=dict(TYPES, count=(3, 5005, 100000)))
def splice_pipe_to_socket(k, t, type, count):
    """From a pipe into a connected socket: up to ``count`` bytes of what
    the pipe holds (a stream gets them as a byte stream; a datagram or
    seqpacket socket one message per batch of buffers)."""
    p = _proc(k)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    a, b = t.call(p.socketpair, socket.AF_UNIX, getattr(socket, type))
    t.call(p.write, w, b"hello")
    t.call(p.write, w, _pattern(5000))
    t.call(p.write, w, b"!" * PAGE)
    t.call(p.splice, r, a, count)
    t.call(p.ioctl, r, FIONREAD)
    t.call(p.recv, b, 200000, socket.MSG_DONTWAIT)
    t.call(p.recv, b, 200000, socket.MSG_DONTWAIT)


@scenario("splice_pipe_to_socket_errors", params=TYPES)
def splice_pipe_to_socket_errors(k, t, type):
    """An empty pipe: EAGAIN (O_NONBLOCK on it, or SPLICE_F_NONBLOCK), 0 at
    EOF; an offset on the socket: EINVAL; an unconnected socket: ENOTCONN;
    the peer gone: the socket's errno (EPIPE + SIGPIPE, or ECONNREFUSED for
    a datagram); the data stays in the pipe."""
    p = _proc(k)
    sock = getattr(socket, type)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    a, b = t.call(p.socketpair, socket.AF_UNIX, sock)
    t.call(p.splice, r, a, 10)
    r2, w2 = t.call(p.pipe)
    t.call(p.splice, r2, a, 10, None, None, SPLICE_F_NONBLOCK)
    t.call(p.close, w2)
    t.call(p.splice, r2, a, 10)
    t.call(p.write, w, b"data")
    t.call(p.splice, r, a, 10, None, 0)
    if sock != socket.SOCK_DGRAM:
        c = t.call(p.socket, socket.AF_UNIX, sock)
        t.call(p.splice, r, c, 10)
    t.call(p.close, b)
    t.call(p.splice, r, a, 10)
    _pending(t, p)
    t.call(p.ioctl, r, FIONREAD)


@scenario("splice_pipe_to_socket_full")
def splice_pipe_to_socket_full(k, t):
    """A non-blocking stream socket whose peer's queue is full: EAGAIN, the
    pipe keeping its data."""
    p = _proc(k)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    t.call(p.fcntl, a, 4, os.O_NONBLOCK)

    def fill():
        total = 0
        while True:
            try:
                total += p.send(a, b"s" * 65536)
            except BlockingIOError:
                return total > 0
    t.step("fill", fill)
    t.call(p.write, w, b"queued")
    t.call(p.splice, r, a, 10)
    t.call(p.ioctl, r, FIONREAD)


def _nonblock(t, p, fd):
    t.call(p.fcntl, fd, 4, os.O_NONBLOCK)       # F_SETFL


@scenario("splice_socket_to_pipe", params=dict(TYPES, count=(3, 100, 70000)))
def splice_socket_to_pipe(k, t, type, count):
    """From a socket into a pipe: a stream is read across messages up to
    ``count`` bytes; a datagram or seqpacket socket gives one message,
    the rest of it lost when ``count`` is shorter."""
    p = _proc(k)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    a, b = t.call(p.socketpair, socket.AF_UNIX, getattr(socket, type))
    _nonblock(t, p, b)
    t.call(p.send, a, b"world")
    t.call(p.send, a, _pattern(6000))
    t.call(p.splice, b, w, count)
    t.call(p.ioctl, r, FIONREAD)
    t.call(p.read, r, 100000)
    t.call(p.recv, b, 100000, socket.MSG_DONTWAIT)


_STREAM_SENDS = {
    "small": (100,) * 20, "linear": (3000,) * 20, "paged": (20000,) * 11,
    "one_large": (70000,), "two_skbs": (40000,), "page_tails": (3777, 4096, 8000, 12288) * 3,
}


@scenario("splice_stream_to_pipe_pieces", params={"sends": tuple(_STREAM_SENDS)})
def splice_stream_to_pipe_pieces(k, t, sends):
    """From a stream socket a pipe's slots take what Linux's skbs give:
    per skb its linear bytes (copied into the task's 32 KiB page
    fragment, a piece ending where a fragment page does) and each page
    fragment, while slots last -- so how many bytes one call moves depends
    on how the data was sent.  The fragment persists across calls: reused
    from its start once its bytes are read, else filled on."""
    p = _proc(k)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    _nonblock(t, p, a)
    _nonblock(t, p, b)
    for n in _STREAM_SENDS[sends]:
        t.call(p.send, a, _pattern(n))
    for drain in (0, 5000, 0, 100000):
        t.call(p.splice, b, w, 70000)
        t.call(p.ioctl, r, FIONREAD)
        if drain:
            t.call(p.read, r, drain)
    t.call(p.splice, b, w, 70000)
    t.call(p.read, r, 100000)
    t.call(p.splice, b, w, 70000)
    t.call(p.read, r, 100000)


@scenario("splice_socket_to_pipe_shut_rd", params=dict(TYPES, nonblock=(False, True)))
def splice_socket_to_pipe_shut_rd(k, t, type, nonblock):
    """A socket shut for reading with nothing queued: a datagram socket's
    read says EAGAIN when it may not wait and 0 when it may (Linux's
    __skb_wait_for_more_packets), a seqpacket or stream socket's 0."""
    p = _proc(k)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    a, b = t.call(p.socketpair, socket.AF_UNIX, getattr(socket, type))
    if nonblock:
        _nonblock(t, p, b)
    t.call(p.shutdown, b, socket.SHUT_RD)
    t.call(p.splice, b, w, 10)
    t.call(p.recv, b, 10, socket.MSG_DONTWAIT)
    t.call(p.send, a, b"late")
    t.call(p.splice, b, w, 10)
    t.call(p.read, r, 100)


@scenario("splice_socket_to_pipe_errors", params=TYPES)
def splice_socket_to_pipe_errors(k, t, type):
    """An offset on the socket: EINVAL; an empty non-blocking socket:
    EAGAIN; no reader on the pipe: EPIPE + SIGPIPE, the data left in the
    socket; a full pipe: EAGAIN; the peer gone: 0 on a connection, EAGAIN
    on a datagram socket."""
    p = _proc(k)
    sock = getattr(socket, type)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    a, b = t.call(p.socketpair, socket.AF_UNIX, sock)
    _nonblock(t, p, b)
    t.call(p.splice, b, w, 10, 0)
    t.call(p.splice, b, w, 10)
    t.call(p.send, a, b"abc")
    r2, w2 = t.call(p.pipe)
    t.call(p.close, r2)
    t.call(p.splice, b, w2, 10)
    _pending(t, p)
    t.step("fill", _fill, p, w)
    t.call(p.splice, b, w, 10)
    t.call(p.recv, b, 10, socket.MSG_DONTWAIT)
    t.call(p.close, a)
    t.call(p.read, r, 100000)
    t.call(p.splice, b, w, 10)


@scenario("splice_socket_to_pipe_unconnected", params={"type": ("SOCK_STREAM", "SOCK_SEQPACKET")})
def splice_socket_to_pipe_unconnected(k, t, type):
    """An unconnected stream socket: EINVAL; seqpacket: ENOTCONN."""
    p = _proc(k)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    c = t.call(p.socket, socket.AF_UNIX, getattr(socket, type))
    t.call(p.splice, c, w, 10)


@scenario("splice_stream_nonblock_flag")
def splice_stream_nonblock_flag(k, t):
    """A blocking stream socket read into a pipe does not wait with
    SPLICE_F_NONBLOCK or an O_NONBLOCK pipe: EAGAIN."""
    p = _proc(k)
    a, b = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    r, w = t.call(p.pipe)
    t.call(p.splice, b, w, 10, None, None, SPLICE_F_NONBLOCK)
    r2, w2 = t.call(p.pipe2, os.O_NONBLOCK)
    t.call(p.splice, b, w2, 10)


@scenario("splice_relay")
def splice_relay(k, t):
    """A relay: socket A -> pipe -> socket B moves every byte in order."""
    p = _proc(k)
    a1, a2 = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    b1, b2 = t.call(p.socketpair, socket.AF_UNIX, socket.SOCK_STREAM)
    r, w = t.call(p.pipe2, os.O_NONBLOCK)
    data = _pattern(50000)
    t.call(p.send, a1, data)

    def relay():
        moved = 0
        while moved < len(data):
            n = p.splice(a2, w, 65536)
            while n:
                m = p.splice(r, b1, n)
                n -= m
                moved += m
        return moved
    t.step("relay", relay)
    t.step("received", lambda: p.recv(b2, 100000, socket.MSG_DONTWAIT) == data)
