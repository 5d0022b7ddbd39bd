"""menios.bench runs and reports a well-formed table (structure, not speed),
and its zero-copy workload fails on data that arrived wrong."""
import ctypes
import errno
import json

import pytest

import menios.process
from menios import bench


def test_bench_smoke(tmp_path):
    names = ["send_recv_64_stream", "connect_accept_abstract"]
    rows = bench.run(names, budget=0.05)
    assert [r["workload"] for r in rows] == [
        "send_recv_64_stream"] * 4 + ["connect_accept_abstract"] * 2
    assert [r["backend"] for r in rows] == ["menios", "host", "pipe", "menios_traced",
                                            "menios", "host"]
    for r in rows:
        assert "error" not in r, r
        assert r["ops"] > 0 and r["ops_s"] > 0
        assert isinstance(r["ratio"], float) and r["ratio"] > 0
        assert 0 < r["median_us"] <= r["p99_us"]
        qs = r["lat_quantiles_us"]
        assert [q for q, _ in qs] == sorted(bench.LAT_QUANTILES)
        assert [us for _, us in qs] == sorted(us for _, us in qs)
        assert dict(qs)[0.5] == r["median_us"] and dict(qs)[0.99] == r["p99_us"]
    assert "menios_traced" in rows[0]["ratio_vs"]
    for r in rows:
        if r["backend"] == "menios":
            assert r["target"]["goal"] and r["target"]["met"] in (True, False)
    table = bench.format_table(rows)
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["workload", "backend"]
    for name in names:
        for be in ("menios", "host"):
            assert any(ln.split()[:2] == [name, be] for ln in lines), (name, be)
    out = tmp_path / "b.json"
    bench.write_json(rows, str(out), True, 0.05)
    doc = json.loads(out.read_text())
    assert len(doc["results"]) == 6 and doc["machine"]["cpus"] >= 1


def test_plot_latency(tmp_path):
    pytest.importorskip("matplotlib")
    rows = bench.run(["wake_latency"], budget=0.05)
    out = tmp_path / "lat.png"
    bench.plot_latency(rows, str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError):
        bench.plot_latency([r for r in rows if r["primary"] != "lat"], str(out))


def test_bench_cli(capsys):
    from menios import cli
    assert cli.main(["bench", "--budget", "0.03", "--workload", "send_recv_64_dgram"]) == 0
    out = capsys.readouterr().out
    assert "send_recv_64_dgram" in out and "vs host" in out


def test_bench_cli_runs_reports_median_and_range(capsys, tmp_path):
    from menios import cli
    out_json = tmp_path / "runs.json"
    assert cli.main(["bench", "--budget", "0.03", "--runs", "3", "--json", str(out_json),
                     "--workload", "send_recv_64_dgram"]) == 0
    out = capsys.readouterr().out
    assert "median of 3 runs:" in out
    doc = json.loads(out_json.read_text())
    assert len(doc["runs"]) == 3
    (s,) = [s for s in doc["summary"] if s["backend"] == "menios"]
    ratios = [r["ratio"] for rows in doc["runs"] for r in rows if r["backend"] == "menios"]
    assert s["ratios"] == ratios
    assert s["median"] == sorted(ratios)[1]
    assert (s["min"], s["max"]) == (min(ratios), max(ratios))
    assert s["target"]["met"] == (s["median"] >= bench.TARGETS["send_recv_64_dgram"][1])
    assert "%.2fx" % s["median"] in out


def test_bench_cli_rejects_zero_runs(capsys):
    from menios import cli
    assert cli.main(["bench", "--runs", "0", "--workload", "send_recv_64_dgram"]) == 2
    assert "--runs" in capsys.readouterr().err


def _row(w, be, ratio=None, error=None):
    r = dict(workload=w, backend=be, primary=bench.WORKLOADS[w]["primary"])
    if error:
        r["error"] = error
    else:
        r["ratio"] = ratio
    return r


def test_summarize_judges_the_median_and_skips_failed_runs():
    w = "pingpong_64"                     # a "<=" target: lower is better
    thr = bench.TARGETS[w][1]
    runs = [[_row(w, "host", 1.0), _row(w, "menios", thr + 0.2)],
            [_row(w, "host", 1.0), _row(w, "menios", thr - 0.1)],
            [_row(w, "host", 1.0), _row(w, "menios", error="FAILED: boom")],
            [_row(w, "host", 1.0), _row(w, "menios", thr - 0.3)]]
    (s,) = bench.summarize(runs)
    assert s["runs"] == 4 and s["runs_ok"] == 3
    assert s["median"] == pytest.approx(thr - 0.1)
    assert s["target"]["met"] is True
    runs[1][1]["ratio"] = thr + 0.1
    (s,) = bench.summarize(runs)
    assert s["median"] == pytest.approx(thr + 0.1) and s["target"]["met"] is False
    text = bench.format_summary(bench.summarize(runs))
    assert "NOT met" in text and "-" in text.splitlines()[2]


def test_summarize_judges_memory_on_the_largest_run():
    w = "idle_pair_memory"
    thr = bench.TARGETS[w][1]

    def mem(v):
        return dict(workload=w, backend="menios", primary="mem", bytes_per_socket=v)
    runs = [[mem(thr + 1)], [mem(thr - 100)], [mem(thr - 200)]]
    (s,) = bench.summarize(runs)
    assert s["bytes_per_socket"] == [thr + 1, thr - 100, thr - 200]
    assert s["max_bytes"] == thr + 1 and s["target"]["met"] is False
    runs[0][0]["bytes_per_socket"] = thr
    (s,) = bench.summarize(runs)
    assert s["target"]["met"] is True
    assert "max %d B" % thr in bench.format_summary([s])


def test_summarize_reports_a_backend_that_never_ran():
    w = "send_recv_64_dgram"
    runs = [[_row(w, "host", 1.0), _row(w, "menios", error="not here")]] * 2
    (s,) = bench.summarize(runs)
    assert s["error"] == "not here" and s["runs_ok"] == 0 and "median" not in s
    assert "not here" in bench.format_summary([s])


# ------------------------------------------------------------- zerocopy_1m
# The zero-copy workload must fail, never count, a page whose stamp is wrong.
ZC_BACKENDS = ["menios", "host", "host_splice"]


def _zc(name, budget=0.05):
    try:
        return bench._zerocopy(name, budget)
    except bench.NotApplicable as e:
        pytest.skip(str(e))


def test_stamps_round_trip_and_name_the_bad_page():
    buf = bytearray(bench.ZC_SIZE)
    with pytest.raises(bench.VerificationError, match="handoff 0 page 0"):
        bench.verify_pages(buf, 0)                 # zero-filled: never a valid stamp
    bench.stamp_pages(buf, 7)
    bench.verify_pages(buf, 7)
    assert int.from_bytes(buf[3 * 4096:3 * 4096 + 8], "little") == 7 * 256 + 3 + 1
    with pytest.raises(bench.VerificationError, match="handoff 8 page 0"):
        bench.verify_pages(buf, 8)                 # stale: last message's stamps
    buf[200 * 4096 + 2] ^= 0x40
    with pytest.raises(bench.VerificationError, match="handoff 7 page 200"):
        bench.verify_pages(buf, 7)
    with pytest.raises(bench.VerificationError, match="bytes"):
        bench.verify_pages(buf[:4096], 7)


@pytest.mark.timeout(60)
def test_zerocopy_rows_check_every_page():
    rows = bench.run(["zerocopy_1m"], budget=0.05)
    assert [r["backend"] for r in rows] == ZC_BACKENDS
    by = {r["backend"]: r for r in rows}
    for r in rows:
        assert not r.get("failed"), r
    if "error" in by["host_splice"]:
        assert by["host_splice"]["error"].startswith("n/a"), by["host_splice"]
    for r in rows:
        if "error" in r:
            continue
        assert r["ops"] >= 2 * bench.ZC_RING + 2        # every buffer of the ring reused
        assert r["bytes_touched"] == r["ops"] * 2 * 8 * 256
        assert r["mb_s"] is None                        # no untouched MiB credited
    assert by["menios"]["bytes_copied_per_op"] == 0
    assert by["host"]["bytes_copied_per_op"] == 2 * bench.ZC_SIZE
    assert by["menios"]["target"]["goal"] == ">=5x"
    if "error" not in by["host_splice"]:
        assert by["menios"]["ratio_vs"]["host_splice"] > 0
        assert "vs host_splice" in bench.format_table(rows)


def _stale_page_stamper(monkeypatch, handoff, page):
    """Stamp every page but one: that page keeps what the buffer held before
    (the stamp of the message sent from this buffer one ring ago)."""
    orig = bench.stamp_pages
    off = page * bench.ZC_PAGE

    def stamp(buf, h):
        if h != handoff:
            return orig(buf, h)
        with memoryview(buf) as m:
            old = bytes(m[off:off + 8])
        orig(buf, h)
        with memoryview(buf) as m:
            m[off:off + 8] = old
    monkeypatch.setattr(bench, "stamp_pages", stamp)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ZC_BACKENDS)
def test_zerocopy_stale_page_fails(monkeypatch, name):
    h = bench.ZC_RING + 1
    _stale_page_stamper(monkeypatch, h, 5)
    # the ring's buffer last held message h - ZC_RING; host's one send buffer held h - 1
    last = h - 1 if name == "host" else h - bench.ZC_RING
    with pytest.raises(bench.VerificationError,
                       match="handoff %d page 5: stamp %#x" % (h, last * 256 + 5 + 1)):
        _zc(name)


@pytest.mark.timeout(60)
def test_zerocopy_page_corrupted_in_flight_fails(monkeypatch):
    """A page written after the handoff, before the reader looks at it."""
    orig = menios.process.Process.recv_pages
    seen = []

    def recv_pages(self, fd, *args):
        buf = orig(self, fd, *args)
        if len(buf) == bench.ZC_SIZE:
            seen.append(buf)
            if len(seen) == 3:
                ctypes.memmove(buf.address + 9 * bench.ZC_PAGE, b"\xee" * 8, 8)
        return buf
    monkeypatch.setattr(menios.process.Process, "recv_pages", recv_pages)
    with pytest.raises(bench.VerificationError, match="handoff 2 page 9: stamp 0xeeeeeeeeeeeeeeee"):
        _zc("menios")


@pytest.mark.timeout(60)
def test_zerocopy_failure_fails_the_row_and_the_command(monkeypatch, capsys):
    from menios import cli
    _stale_page_stamper(monkeypatch, bench.ZC_RING + 1, 0)
    rows = bench.run(["zerocopy_1m"], budget=0.05)
    for r in rows:
        if r["backend"] == "host_splice" and not r.get("failed"):
            assert r["error"].startswith("n/a")
            continue
        assert r["failed"] and "VerificationError" in r["error"], r
        assert "ops_s" not in r and "ratio" not in r
    assert "FAILED: VerificationError" in bench.format_table(rows)
    assert cli.main(["bench", "--budget", "0.05", "--workload", "zerocopy_1m"]) == 1
    captured = capsys.readouterr()
    assert "FAILED" in captured.out and "zerocopy_1m/menios" in captured.err


# --------------------------------------------- splice_relay, sendfile_1m, pipe_64k
# Their writers stamp every 4 KiB page with its number in the stream and
# their readers check every stamp: a page that arrives stale, zero-filled or
# wrong fails the row.
SPLICE_ROWS = {"splice_relay": bench._splice_relay, "sendfile_1m": bench._sendfile_1m,
               "pipe_64k": bench._pipe_64k}


def test_page_stamps_are_checked_in_one_slice():
    chunk = bench._stamped_chunk(bytearray(bench._CHUNK), 32)
    assert [int.from_bytes(chunk[i:i + 8], "little") for i in range(0, bench._CHUNK, 4096)] \
        == list(range(33, 49))
    reader = bench._StampReader(None, None, bench._CHUNK)
    reader.page = 32
    reader.check(bytes(chunk))
    assert (reader.page, reader.bytes) == (48, bench._CHUNK)
    chunk[3 * 4096 + 7] ^= 0x40
    reader.page = 32
    with pytest.raises(bench.VerificationError, match="page 35 arrived with a wrong stamp"):
        reader.check(chunk)


def _page_spoiler(monkeypatch, first, page):
    """``_stamped_chunk`` leaves one page of the chunk starting at page
    ``first`` as it was (stale: the previous chunk's stamp, or zeros in a
    fresh buffer)."""
    orig = bench._stamped_chunk
    off = page * 4096

    def stamp(template, f):
        old = bytes(template[off:off + 8])
        orig(template, f)
        if f == first:
            template[off:off + 8] = old
        return template
    monkeypatch.setattr(bench, "_stamped_chunk", stamp)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["menios", "host"])
@pytest.mark.parametrize("row", sorted(SPLICE_ROWS))
def test_splice_rows_fail_on_a_stale_page(monkeypatch, row, name):
    # sendfile stamps its file once (pages from 0); the others a chunk at a time
    first = 0 if row == "sendfile_1m" else 3 * 16
    _page_spoiler(monkeypatch, first, 5)
    with pytest.raises(bench.VerificationError,
                       match="page %d arrived with a wrong stamp" % (first + 5)):
        SPLICE_ROWS[row](name, 0.1)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["menios", "host"])
@pytest.mark.parametrize("row", sorted(SPLICE_ROWS))
def test_splice_rows_check_every_page(monkeypatch, row, name):
    checked = []
    orig = bench._StampReader.check

    def check(self, data):
        orig(self, data)
        checked.append(self.npages)
    monkeypatch.setattr(bench._StampReader, "check", check)
    r = SPLICE_ROWS[row](name, 0.05)
    assert r["ops"] > 0
    pages_per_op = 256 if row == "sendfile_1m" else 16      # 1 MiB file, 64 KiB chunk
    assert sum(checked) == r["ops"] * pages_per_op


@pytest.mark.timeout(60)
@pytest.mark.parametrize("nsenders", [1, 8])
@pytest.mark.parametrize("name", ["menios", "host"])
def test_dgram_burst_checks_every_datagram(name, nsenders):
    db = bench.DgramBurst(name, nsenders)
    try:
        assert db.burst() == 512
        # the receiver now expects datagram 11 of sender 0 twice: the burst
        # that delivers 10 where 11 is expected must fail
        db.msgs = [list(m) for m in db.msgs]
        db.msgs[0][10] = db.msgs[0][11]
        with pytest.raises(bench.VerificationError, match="not the next one of a sender"):
            db.burst()
    finally:
        db.close()
    assert not any(t.is_alive() for t in db.threads)


# ------------------------------------------------------------------ floors
@pytest.mark.parametrize("copies", [1, 2])
@pytest.mark.parametrize("chunk", [16, 4096, 65536])
def test_copy_floor_moves_and_checks_every_chunk(chunk, copies):
    from menios._floor import copy_floor
    chunks, elapsed, bad = copy_floor(chunk, copies, 0.02)
    assert chunks > 0 and elapsed > 0
    assert bad == 0


def test_copy_floor_rejects_bad_arguments():
    from menios._floor import copy_floor
    with pytest.raises(ValueError):
        copy_floor(8, 2, 0.01)             # no room for the two stamps
    with pytest.raises(OSError) as e:
        copy_floor(4096, 3, 0.01)
    assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        copy_floor(4096, 1, 0)
    assert e.value.errno == errno.EINVAL


def test_floor_rows_report_ratios():
    rows = bench.run(["stream_64k", "pingpong_64"], budget=0.05)
    by = {(r["workload"], r["backend"]): r for r in rows}
    for key in [("stream_64k", "c_ring"), ("stream_64k", "c_handoff"),
                ("pingpong_64", "gil_handoff"), ("pingpong_64", "gil_spin"),
                ("pingpong_64", "gil_sleep")]:
        assert "error" not in by[key], by[key]
        assert by[key]["ratio"] > 0
    assert set(by[("stream_64k", "menios")]["ratio_vs"]) == {"c_ring", "c_handoff"}
    assert set(by[("pingpong_64", "menios")]["ratio_vs"]) == {"gil_handoff", "gil_spin",
                                                              "gil_sleep"}


@pytest.mark.parametrize("kind", ["socketpair", "eventfd", "syscalls"])
def test_ready_floor_makes_and_checks_every_transition(kind):
    from menios._floor import ready_floor
    pairs, elapsed, bad = ready_floor(kind, 0.02)
    assert pairs > 0 and elapsed > 0
    assert bad == 0


def test_ready_floor_rejects_bad_arguments():
    from menios._floor import ready_floor
    with pytest.raises(ValueError):
        ready_floor("pipe", 0.01)
    with pytest.raises(OSError) as e:
        ready_floor("socketpair", 0)
    assert e.value.errno == errno.EINVAL


def test_ready_floor_rows_bound_the_armed_row():
    rows = bench.run(["socket_objects_64"], budget=0.05)
    by = {r["backend"]: r for r in rows}
    for be in ("c_readyfd", "c_eventfd", "c_syscalls"):
        assert "error" not in by[be], by[be]
        assert by[be]["ratio"] > 0
    assert set(by["menios_armed"]["ratio_vs"]) == {"c_readyfd"}
    assert "menios_armed" in by["menios"]["ratio_vs"]
    assert not set(by["menios"]["ratio_vs"]) & {"c_readyfd", "c_eventfd", "c_syscalls"}


def test_baton_alternates_two_threads():
    import threading
    from menios._floor import Baton
    baton = Baton()
    seen = []

    def side1():
        baton.wait(1)
        for i in range(100):
            seen.append(("b", i))
            baton.pass_wait(1) if i < 99 else baton.give(0)

    t = threading.Thread(target=side1, daemon=True)
    t.start()
    for i in range(100):
        seen.append(("a", i))
        baton.pass_wait(0)
    t.join(20)
    assert not t.is_alive()
    assert seen == [(s, i) for i in range(100) for s in ("a", "b")]
    with pytest.raises(ValueError):
        baton.pass_wait(2)
    with pytest.raises(TimeoutError):
        baton.wait(1, timeout=0.05)        # nobody is left to hand it over


# ---------------------------------------------------------------- streams
def _corrupting(base):
    """``base`` backend, with one byte of the 3rd read flipped on arrival."""
    class Corrupting(base):
        def pair(self, type_):
            pr = super().pair(type_)
            inner = pr["b_recv_into"]
            reads = [0]

            def recv_into(buf, n=0):
                got = inner(buf, n)
                reads[0] += 1
                if reads[0] == 3 and got:
                    buf[got - 1] ^= 0xFF
                return got
            pr["b_recv_into"] = recv_into
            return pr
    return Corrupting


@pytest.mark.parametrize("backend", ["menios", "host", "pipe"])
@pytest.mark.parametrize("size", [64, 65536])
def test_stream_rows_check_every_byte(backend, size):
    base = bench._BACKENDS[backend]
    be = _corrupting(base)()
    try:
        with pytest.raises(bench.VerificationError, match="arrived wrong"):
            bench._stream(be, 0.05, size)
    finally:
        be.close()
    be = base()
    try:
        res = bench._stream(be, 0.05, size)     # the same run, uncorrupted, passes
    finally:
        be.close()
    assert res["ops"] > 0 and res["mb_s"] > 0
