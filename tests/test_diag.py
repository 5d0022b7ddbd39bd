"""Kernel.diag() (what sock_diag reports, with holders and counters),
Kernel.ss() (iproute2's ss text) and the ss normalisation of the
conformance harness.  The differential check of ss against the host's is
the ss_* conformance scenarios; these pin single fields and layouts."""
import os
import socket
import stat

import pytest

import menios
from menios import ss as ssmod
from menios.conformance import harness, sstext

AF_UNIX, STREAM, DGRAM, SEQPACKET = (socket.AF_UNIX, socket.SOCK_STREAM, socket.SOCK_DGRAM,
                                     socket.SOCK_SEQPACKET)
SIOCINQ, SIOCOUTQ = 0x541B, 0x5411


@pytest.fixture
def k():
    with menios.Kernel() as kernel:
        yield kernel


def by_inode(k):
    return {d["inode"]: d for d in k.diag() if d["inode"]}


def test_listener_with_three_pending(k):
    p = k.spawn(uid=1000, gid=1000)
    lfd = p.socket(AF_UNIX, STREAM)
    p.bind(lfd, "/tmp/srv")
    p.listen(lfd, 7)
    clients = []
    for _ in range(3):
        c = p.socket(AF_UNIX, STREAM)
        p.connect(c, "/tmp/srv")
        clients.append(p.fstat(c).st_ino)
    socks = by_inode(k)
    lst = socks[p.fstat(lfd).st_ino]
    assert (lst["recv_q"], lst["send_q"]) == (3, 7)          # UNIX_DIAG_RQLEN of a listener
    assert lst["pending"] == clients                          # UNIX_DIAG_ICONS, queue order
    assert lst["state"] == 10 and lst["name"] == "/tmp/srv"
    st = p.stat("/tmp/srv")
    assert lst["vfs"] == (st.st_dev, st.st_ino)
    embryos = [d for d in k.diag() if d["inode"] == 0]
    assert len(embryos) == 3
    assert sorted(e["peer"] for e in embryos) == sorted(clients)
    assert all(e["listener"] == lst["inode"] and e["holders"] == [] for e in embryos)
    for ino in clients:                    # an embryo has no inode: the peer shows 0
        assert socks[ino]["peer"] == 0
    nfd, _ = p.accept(lfd)
    acc = by_inode(k)[p.fstat(nfd).st_ino]
    assert acc["vfs"] == lst["vfs"] and acc["name"] == "/tmp/srv"
    assert acc["peer"] == clients[0] and by_inode(k)[clients[0]]["peer"] == acc["inode"]
    assert by_inode(k)[lst["inode"]]["recv_q"] == 2


def test_inodes_agree_with_fstat_and_proc_listing(k):
    p = k.spawn()
    fds = list(p.socketpair(AF_UNIX, DGRAM)) + [p.socket(AF_UNIX, SEQPACKET)]
    inodes = [p.fstat(fd).st_ino for fd in fds]
    assert len(set(inodes)) == 3 and all(inodes)
    assert all(stat.S_ISSOCK(p.fstat(fd).st_mode) for fd in fds)
    assert sorted(d["inode"] for d in k.diag()) == sorted(inodes)
    assert sorted(s["inode"] for s in k.unix_sockets()) == sorted(inodes)
    r, w = p.pipe()                        # a pipe's buffer is no socket to list
    assert len(k.diag()) == 3
    p.close(fds[2])
    assert sorted(d["inode"] for d in k.diag()) == sorted(inodes[:2])


def test_queues_memory_and_shutdown(k):
    p = k.spawn()
    a, b = p.socketpair(AF_UNIX, STREAM)
    p.send(a, b"x" * 100)
    p.send(a, b"y" * 50)
    p.setsockopt(b, socket.SOL_SOCKET, socket.SO_RCVBUF, 5000)
    p.shutdown(b, socket.SHUT_WR)
    socks = by_inode(k)
    da, db = socks[p.fstat(a).st_ino], socks[p.fstat(b).st_ino]
    assert db["recv_q"] == 150 == p.ioctl(b, SIOCINQ)
    assert da["send_q"] == p.ioctl(a, SIOCOUTQ) == da["meminfo"]["wmem_alloc"] > 150
    assert db["meminfo"]["rcvbuf"] == p.getsockopt(b, socket.SOL_SOCKET, socket.SO_RCVBUF)
    assert da["meminfo"]["sndbuf"] == p.getsockopt(a, socket.SOL_SOCKET, socket.SO_SNDBUF)
    assert db["meminfo"]["rmem_alloc"] == 0          # AF_UNIX charges the sender only
    assert (db["shutdown"], da["shutdown"]) == (2, 1)  # SEND_SHUTDOWN here, RCV there
    d1 = p.socket(AF_UNIX, DGRAM)
    p.bind(d1, b"\0q")
    d2 = p.socket(AF_UNIX, DGRAM)
    p.sendto(d2, b"m" * 33, b"\0q")
    p.sendto(d2, b"n" * 3, b"\0q")
    assert by_inode(k)[p.fstat(d1).st_ino]["recv_q"] == 33   # the first datagram
    assert by_inode(k)[p.fstat(d1).st_ino]["name"] == b"\0q"


def test_holders_uid_and_comm(k):
    p = k.spawn(uid=1000, gid=1000, comm="server")
    a, b = p.socketpair()
    p.dup2(a, 7)
    c = p.fork()
    assert c.comm == "server"
    r = k.spawn(comm="x" * 20)
    assert r.comm == "x" * 15
    assert k.spawn().comm == "python3"
    with pytest.raises(TypeError):
        k.spawn(comm=b"bytes")
    d = by_inode(k)[p.fstat(a).st_ino]
    assert d["holders"] == [(p.pid, 0), (p.pid, 7), (c.pid, 0), (c.pid, 7)]
    assert d["uid"] == 1000
    root_sock = r.socket()
    assert by_inode(k)[r.fstat(root_sock).st_ino]["uid"] == 0
    text = k.ss("-xp")
    assert ('users:(("server",pid=%d,fd=7),("server",pid=%d,fd=0),("server",pid=%d,fd=7),'
            '("server",pid=%d,fd=0))' % (c.pid, c.pid, p.pid, p.pid)) in text


def test_counters(k):
    p = k.spawn()
    a, b = p.socketpair(AF_UNIX, SEQPACKET)
    p.send(a, b"abc")
    p.send(a, b"defgh")
    assert p.recv(b, 2) == b"ab"           # seqpacket: the rest of the record is dropped
    socks = by_inode(k)
    da, db = socks[p.fstat(a).st_ino], socks[p.fstat(b).st_ino]
    assert (da["bytes_copied_in"], da["bytes_copied_out"]) == (8, 0)
    assert (db["bytes_copied_in"], db["bytes_copied_out"]) == (0, 2)
    assert (da["msgs_sent"], db["msgs_received"]) == (2, 2)
    s, r = p.socketpair(AF_UNIX, DGRAM)
    pages = k.alloc_pages(8)
    n = len(pages)
    p.sendmsg(s, [pages], (), menios.constants.MSG_ZEROCOPY)
    buf = p.recv_pages(r, n)
    assert len(buf) == n
    socks = by_inode(k)
    assert socks[p.fstat(s).st_ino]["bytes_zerocopy_in"] == n
    assert socks[p.fstat(r).st_ino]["bytes_zerocopy_out"] == n
    assert socks[p.fstat(s).st_ino]["bytes_copied_in"] == 0


# ------------------------------------------------------------------ ss text

def test_ss_socketpair_text(k):
    p = k.spawn()
    p.socketpair()
    assert k.ss("-xa") == (
        "Netid State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
        "u_str ESTAB 0      0                  * 1               * 2          \n"
        "u_str ESTAB 0      0                  * 2               * 1          \n")
    assert k.ss(["-x", "-a", "-H"]) == (
        "u_str ESTAB 0      0      * 1 * 2\n"
        "u_str ESTAB 0      0      * 2 * 1\n")


def test_ss_listener_text(k):
    p = k.spawn(comm="srv")
    lfd = p.socket()
    p.bind(lfd, "/tmp/s")
    p.listen(lfd, 5)
    c = p.socket()
    p.connect(c, "/tmp/s")
    p.send(c, b"x")
    st = p.stat("/tmp/s")
    assert k.ss("-xl") == (
        "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
        "u_str LISTEN 1      5             /tmp/s 1               * 0          \n")
    # sock_diag gives the kernel's dev_t (major << 20 | minor); ss decodes it
    # with glibc's major()/minor(), made for the other encoding, as on Linux
    # (254:0 shows as 0/65024 there).
    kdev = (os.major(st.st_dev) << 20) | os.minor(st.st_dev)
    assert k.ss("-x state listening -e") == (
        "Netid Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
        "u_str 1      5             /tmp/s 1               * 0    <-> ino:%d dev:%d/%d peers: 2\n"
        % (st.st_ino, os.major(kdev), os.minor(kdev)))
    lines = k.ss("-xa -m -p").splitlines()
    assert lines[2] == ('u_str ESTAB  0      768                * 2               * 0    '
                        'users:(("srv",pid=1,fd=1)) '
                        'skmem:(r0,rb212992,t768,tb212992,f0,w0,o0,bl0,d0)')
    # The last line's Process field does not count in the column's width
    # (ss never flushes it); the header is padded to the longest other one.
    assert len(lines[0]) == len("Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port"
                                + ' users:(("srv",pid=1,fd=0)) '
                                'skmem:(r0,rb212992,t0,tb212992,f0,w0,o0,bl0,d0)')
    assert k.ss("-xa src /tmp/s").count("\n") == 2
    assert k.ss("-A u_dgr -a") == "State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"


def test_ss_empty_and_errors(k):
    assert k.ss("-xl") == "Netid State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
    assert k.ss("-xlH") == ""
    with pytest.raises(ssmod.SsError, match="wrong state name: bogus"):
        k.ss("-x state bogus")
    with pytest.raises(ssmod.SsError, match="illegal socket table id"):
        k.ss("-A nope")
    with pytest.raises(ssmod.SsError):
        k.ss("-x src")
    with pytest.raises(TypeError):
        k.ss([b"-x"])


# ------------------------------------------------------------ normalisation

def test_normalise_rejects_a_layout_ss_would_not_print(k):
    t = harness.Trace()
    kp = t.kernel(k)
    q = kp.spawn()
    q.socketpair()
    text = k.ss("-xa")
    norm = sstext.normalise(text, ["-xa"], t)
    assert norm[0][0] == "Netid" and len(norm) == 3
    assert norm[1][4:8] == ("*", "p1/0", "*", "p1/1")
    bad = text.replace("ESTAB 0      0 ", "ESTAB 0     0  ", 1)
    assert sstext.normalise(bad, ["-xa"], t) == ("unparsed layout", bad)


# ------------------------------------------------------- planted divergences

def _run_planted(monkeypatch, name, patch):
    from menios.conformance.host import unmet
    import menios.conformance.scenarios  # noqa: F401  (registers the scenarios)
    fn, _ = harness.SCENARIOS[name]
    reason = unmet(fn.needs)
    if reason:
        pytest.skip(reason)
    clean = harness.compare(*harness.run_scenario(fn))
    assert clean == ""
    patch()
    return harness.compare(*harness.run_scenario(fn))


def test_planted_wrong_queue_length_is_caught(monkeypatch):
    real = ssmod.lines

    def lines(records, o, comms):
        rows = real(records, o, comms)
        rows[0][3] = "%-6d" % (int(rows[0][3]) + 1)
        return rows
    report = _run_planted(monkeypatch, "ss_stream_queued",
                          lambda: monkeypatch.setattr(ssmod, "lines", lines))
    assert "traces differ" in report and "ss -xam" in report


def test_planted_wrong_layout_is_caught(monkeypatch):
    real = menios.Kernel.ss

    def ss(self, args=("-xa",)):
        text = real(self, args)
        return text.replace("\n", " \n", 1)        # one space too many after the header
    report = _run_planted(monkeypatch, "ss_empty",
                          lambda: monkeypatch.setattr(menios.Kernel, "ss", ss))
    assert "unparsed layout" in report
