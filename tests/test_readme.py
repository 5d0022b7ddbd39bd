"""The README's examples run as written."""
import os
import re

import pytest

README = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")
BLOCKS = re.findall(r"```python\n(.*?)```", open(README).read(), re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=["block%d" % i for i in range(len(BLOCKS))])
def test_readme_example_runs(code, capsys):
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert out                                  # every example prints what it shows


def test_readme_multi_user_answers(capsys):
    code = BLOCKS[1]
    exec(compile(code, "README.md", "exec"), {})
    assert "uid 1001: [Errno 13] Permission denied" in capsys.readouterr().out


def test_readme_first_example_output(capsys):
    exec(compile(BLOCKS[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "b'Hello'" in out
    assert "LISTEN" in out and "/tmp/server" in out


def test_readme_supervisor_hands_connections_to_workers(capsys):
    exec(compile(BLOCKS[2], "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert [l.split(": ")[-1] for l in lines] == ["b'hello uid 1000'", "b'hello uid 1001'",
                                                 "b'hello uid 1002'"]
    assert "uid 1000" in lines[0] and "worker pid 2" in lines[0] and "worker pid 3" in lines[1]


def test_readme_out_of_band_example(capsys):
    block = next(b for b in BLOCKS if "MSG_OOB" in b and "SIOCATMARK" in b)
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == ["b'hello' 1", "b'!' True"]


def test_readme_blocking_example(capsys):
    block = next(b for b in BLOCKS if "wait_blocked" in b)
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == ["1", "0", "[b'wake up']"]


def test_readme_socket_objects_example(capsys):
    block = next(b for b in BLOCKS if "menios.socket as socket" in b)
    exec(compile(block, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"<menios\.socket\.socket fd=\d+, family=1, type=1, proto=0, "
                        r"raddr=/tmp/echo>", lines[0])
    assert lines[1:] == ["b'HELLO\\n'", "timed out", "0"]


def test_readme_patch_example(capsys):
    block = next(b for b in BLOCKS if "menios.patch()" in b)
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == [
        "[b'HELLO ALICE\\n', b'HELLO BOB\\n']", "True []", "True", "False"]


def test_readme_fault_injection_example(capsys):
    block = next(b for b in BLOCKS if "k.faults.inject" in b)
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == ["4", "1 2", "b'hello, world'", "0"]


def test_readme_zero_copy_relay(capsys):
    block = next(b for b in BLOCKS if "p.splice(a2, w, 65536)" in b)
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == [
        "relay copied 4096 bytes", "True", "8192 sent, 0 copied"]


def test_readme_tracing_example(capsys):
    block = next(b for b in BLOCKS if "k.tracing()" in b)
    exec(compile(block, "README.md", "exec"), {})
    shown = [l.strip()[2:] for l in block.splitlines() if l.strip().startswith("# ")]
    assert capsys.readouterr().out.splitlines() == shown
