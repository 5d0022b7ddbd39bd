"""Kernel(monitor=True) and ``menios ss``: a kernel in another process is
shown by the CLI exactly as its own ``k.ss()`` prints it, only to its user."""
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from menios import cli, monitor

KERNEL = textwrap.dedent("""
    import json, sys
    import menios
    k = menios.Kernel(monitor=True)
    p = k.spawn(uid=1000, gid=1000, comm="bench")
    a, b = p.socketpair()
    p.send(a, b"queued")
    l = p.socket()
    p.bind(l, "/tmp/srv")
    p.listen(l, 4)
    print(json.dumps({"path": k.monitor.path, "ss": k.ss(sys.argv[1:])}), flush=True)
    sys.stdin.readline()
    k.close()
    print("closed", flush=True)
""")


# Child interpreters start outside the source tree: "-c" and "-m" put their
# working directory first on sys.path, and the checkout's menios/ (without
# its compiled extension) would shadow the installed package.
_OUTSIDE = tempfile.gettempdir()


@pytest.fixture
def rundir(tmp_path, monkeypatch):
    d = tmp_path / "rt"
    monkeypatch.setenv("MENIOS_RUNTIME_DIR", str(d))
    return d


def _readline(proc, timeout=60):
    assert select.select([proc.stdout], [], [], timeout)[0], "the kernel process is silent"
    return proc.stdout.readline()


@pytest.fixture
def kernel_process(rundir):
    procs = []

    def start(*args):
        proc = subprocess.Popen([sys.executable, "-c", KERNEL, *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=dict(os.environ),
                                cwd=_OUTSIDE)
        procs.append(proc)
        return proc, json.loads(_readline(proc))
    yield start
    for proc in procs:
        proc.kill()
        proc.wait(30)


def test_cli_shows_a_kernel_of_another_process(kernel_process, rundir, capsys):
    proc, hello = kernel_process("-xaepm")
    assert os.path.dirname(hello["path"]) == str(rundir)
    assert oct(os.stat(rundir).st_mode & 0o777) == "0o700"
    assert oct(os.stat(hello["path"]).st_mode & 0o777) == "0o600"
    assert cli.main(["ss", "-xaepm"]) == 0
    out = capsys.readouterr().out
    assert out == hello["ss"]
    assert 'users:(("bench",pid=1,fd=0))' in out and "LISTEN" in out
    assert cli.main(["ss", "-x", "state", "bogus"]) == 1
    assert "wrong state name" in capsys.readouterr().err
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert _readline(proc) == "closed\n"
    assert not os.path.exists(hello["path"])
    assert cli.main(["ss", "-xa"]) == 1
    assert "no live menios kernel" in capsys.readouterr().err


def test_two_kernels_each_under_a_heading(kernel_process, capsys):
    kernel_process("-xa")
    kernel_process("-xa")
    assert cli.main(["ss", "-xa"]) == 0
    out = capsys.readouterr().out
    assert out.count("# menios kernel of pid ") == 2
    assert out.count("Netid State") == 2


def test_watch_refreshes(kernel_process, rundir):
    kernel_process("-xa")
    watcher = subprocess.Popen([sys.executable, "-m", "menios.cli", "ss", "--watch=0.05", "-xa"],
                               stdout=subprocess.PIPE, env=dict(os.environ), cwd=_OUTSIDE)
    try:
        seen = b""
        while seen.count(b"\x1b[H\x1b[2J") < 3:
            assert select.select([watcher.stdout], [], [], 60)[0], "no refresh"
            chunk = os.read(watcher.stdout.fileno(), 65536)
            assert chunk, "the watcher ended"
            seen += chunk
        assert seen.count(b"u_str ESTAB") >= 2
    finally:
        watcher.kill()
        watcher.wait(30)


def test_stale_socket_is_removed(rundir):
    os.mkdir(rundir, 0o700)
    stale = str(rundir / "1-1.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(stale)
    s.close()                          # bound, never listened: its kernel is gone
    assert monitor.discover() == []
    assert not os.path.exists(stale)


def test_runtime_dir_must_be_private(rundir):
    os.mkdir(rundir, 0o755)
    os.chmod(rundir, 0o755)
    with pytest.raises(PermissionError):
        monitor.runtime_dir()
    assert monitor.discover() == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another uid")
def test_another_uid_sees_nothing(kernel_process, rundir):
    _, hello = kernel_process("-xa")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                       # as uid 1000: the directory is closed to it
        code = 1
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(1000, 1000, 1000)
            os.setresuid(1000, 1000, 1000)
            found = monitor.discover()
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(hello["path"])
                verdict = "connected"
            except PermissionError:
                verdict = "EACCES"
            os.write(w, json.dumps([found, verdict]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert json.loads(data) == [[], "EACCES"]


def test_menios_ss_shows_a_running_bench(rundir):
    """`menios bench --monitor` in one process, `menios ss` in another: the
    benchmark's socketpair is listed while it runs."""
    bench = subprocess.Popen([sys.executable, "-m", "menios.cli", "bench", "--monitor",
                              "--workload", "send_recv_64_stream", "--budget", "10"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=dict(os.environ), cwd=_OUTSIDE)
    try:
        text = ""
        deadline = time.monotonic() + 120
        while "u_str ESTAB" not in text:
            assert time.monotonic() < deadline, "the benchmark never showed a socket"
            assert bench.poll() is None, "the benchmark ended first"
            for path in monitor.discover():
                try:
                    text = monitor.query(path, {"op": "ss", "args": ["-xp"]})
                except (OSError, RuntimeError):
                    continue             # that kernel closed meanwhile
            time.sleep(0.05)
        assert 'users:(("python3",pid=1,' in text
    finally:
        bench.kill()
        bench.wait(30)
