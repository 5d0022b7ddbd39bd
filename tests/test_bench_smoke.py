"""menios.bench runs and reports a well-formed table (structure, not speed)."""
import json

from menios import bench


def test_bench_smoke(tmp_path):
    names = ["send_recv_64_stream", "connect_accept_abstract"]
    rows = bench.run(names, budget=0.05)
    assert [r["workload"] for r in rows] == [
        "send_recv_64_stream"] * 3 + ["connect_accept_abstract"] * 2
    assert [r["backend"] for r in rows] == ["menios", "host", "pipe", "menios", "host"]
    for r in rows:
        assert "error" not in r, r
        assert r["ops"] > 0 and r["ops_s"] > 0
        assert isinstance(r["ratio"], float) and r["ratio"] > 0
        assert 0 < r["median_us"] <= r["p99_us"]
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
    assert len(doc["results"]) == 5 and doc["machine"]["cpus"] >= 1


def test_bench_cli(capsys):
    from menios import cli
    assert cli.main(["bench", "--budget", "0.03", "--workload", "send_recv_64_dgram"]) == 0
    out = capsys.readouterr().out
    assert "send_recv_64_dgram" in out and "vs host" in out
