"""The public API is typed: ``mypy --strict`` accepts the way README.md and
docs/API.md use it (tests/typecheck/usage_ok.py), rejects wrong uses
(tests/typecheck/usage_wrong.py, each marked with the error it must raise),
README.md's examples agree with the types, the annotated modules agree with
their own annotations, and stubtest finds the stubs (menios/*.pyi) true to
the modules."""
import ast
import os
import re
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import menios
from menios import constants

mypy = pytest.importorskip("mypy", reason="mypy is not installed (pip install '.[test]')")

HERE = Path(__file__).parent / "typecheck"
PKG_ROOT = Path(menios.__file__).resolve().parent.parent
#: The modules that have stubs rather than inline annotations.
STUBBED = ("menios._unix", "menios._floor", "menios.process", "menios.socket")


def _run(tmp_path, *args):
    """``python -m MODULE ARGS`` (mypy or its stubtest) on the menios that
    the tests import: an installed one is found in site-packages, a source
    tree (an editable install, whose import hook mypy cannot follow)
    through MYPYPATH.  Errors inside menios's own modules are not reported
    (``follow_imports = silent``): what is checked is how the caller's code
    uses them."""
    env = dict(os.environ)
    installed = {os.path.realpath(p) for p in (
        *site.getsitepackages(), sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"])}
    if os.path.realpath(PKG_ROOT) not in installed:
        env["MYPYPATH"] = str(PKG_ROOT)
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nfollow_imports = silent\n")
    return subprocess.run([sys.executable, "-m", *args, "--config-file" if args[0] == "mypy"
                           else "--mypy-config-file", str(config)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def _mypy(tmp_path, source):
    target = tmp_path / source.name
    target.write_text(source.read_text())
    return _run(tmp_path, "mypy", "--strict", "--no-incremental",
                "--cache-dir", str(tmp_path / "cache"), str(target))


def test_public_api_passes_mypy_strict(tmp_path):
    r = _mypy(tmp_path, HERE / "usage_ok.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Success: no issues found" in r.stdout


def test_readme_examples_type_check(tmp_path):
    """README.md's examples, as written, agree with the types (mypy's
    default checks plus the bodies of unannotated functions; an empty list
    whose item type mypy cannot infer is not the README's business)."""
    blocks = re.findall(r"```python\n(.*?)```", (HERE.parent.parent / "README.md").read_text(),
                        re.S)
    assert blocks
    files = []
    for i, code in enumerate(blocks):
        files.append(tmp_path / ("readme_%02d.py" % i))
        files[-1].write_text(code)
    r = _run(tmp_path, "mypy", "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
             "--check-untyped-defs", "--disable-error-code", "var-annotated",
             "--disable-error-code", "has-type", *map(str, files))
    assert r.returncode == 0, r.stdout + r.stderr


def test_wrong_uses_are_rejected(tmp_path):
    source = HERE / "usage_wrong.py"
    expected = {}
    for n, line in enumerate(source.read_text().splitlines(), 1):
        m = re.search(r"# E: ([\w-]+)$", line)
        if m:
            expected[n] = m.group(1)
    assert len(expected) >= 5
    r = _mypy(tmp_path, source)
    assert r.returncode == 1, r.stdout + r.stderr
    got = {}
    for line in r.stdout.splitlines():
        m = re.match(r".*usage_wrong\.py:(\d+): error: .*\[([\w-]+)\]$", line)
        if m:
            got.setdefault(int(m.group(1)), m.group(2))
    assert got == expected, r.stdout


def test_typed_usage_runs():
    """usage_ok.py is real use of the API, not only well-typed code."""
    r = subprocess.run([sys.executable, str(HERE / "usage_ok.py")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[-1] == menios.__version__


#: The modules whose annotations (inline, or a stub beside them) are the
#: public surface.
TYPED = ("menios", "menios.constants", "menios.kernel", "menios.process", "menios.socket",
         "menios.faults", "menios.current", "menios.cred", "menios.ss", "menios.monitor",
         "menios.pytest_plugin", "menios.trace", "menios._unix", "menios._floor")


def test_annotations_agree_with_the_code(tmp_path):
    """The annotated functions' bodies type-check against their own
    annotations (mypy's default checks: an unannotated function's body is
    not looked at)."""
    r = _run(tmp_path, "mypy", "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
             *[arg for module in TYPED for arg in ("-m", module)])
    assert r.returncode == 0, r.stdout + r.stderr


def test_stubs_match_the_modules(tmp_path):
    """stubtest compares each stub with the module it describes (the built
    extension included): a method added, removed or renamed on either side
    fails here.  tests/typecheck/stubtest-allowlist.txt says what it may skip
    and why."""
    r = _run(tmp_path, "mypy.stubtest", "--concise", "--ignore-unused-allowlist",
             "--allowlist", str(HERE / "stubtest-allowlist.txt"), *STUBBED)
    assert r.returncode == 0, (
        "the stubs (menios/*.pyi) disagree with the modules; update them:\n"
        + r.stdout + r.stderr)


def test_constants_all_names_every_constant():
    """constants.__all__ is spelled out for type checkers: it must be every
    name the module defines before it, in order."""
    tree = ast.parse(Path(constants.__file__).read_text())
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if "__all__" in targets:
                break
            names += [t for t in targets if not t.startswith("_")]
    assert constants.__all__ == names
    assert set(menios.__all__) >= set(names)
