"""The README states the conformance suite's size as the registry has it,
and ``menios conform --list`` ends with the same numbers."""
import os
import re

import pytest

from menios import cli
from menios.conformance import harness
import menios.conformance.scenarios  # noqa: F401  (registers the scenarios)

README = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")
COUNTS = re.compile(r"(\d[\d,]*) scenarios / (\d[\d,]*) instances")


def registered():
    insts = harness.instances()
    return len({i.name for i in insts}), len({i.id for i in insts})


def test_readme_states_the_registered_counts():
    stated = [(int(s.replace(",", "")), int(m.replace(",", "")))
              for s, m in COUNTS.findall(open(README).read())]
    assert stated, "README.md states no 'N scenarios / M instances'"
    assert set(stated) == {registered()}


def test_conform_list_ends_with_the_counts(capsys):
    assert cli.main(["conform", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    scenarios, instances = registered()
    assert lines[-1] == f"{scenarios} scenarios / {instances} instances"
    assert len(lines) == scenarios + 1
    listed = {}
    for line in lines[:-1]:
        name, count, grid = line.split(" ", 2)
        grid, _, needs = grid.partition(" needs=")
        listed[name] = int(count)
        fn, params = harness.SCENARIOS[name]
        assert grid == harness.describe_grid(params)
        assert needs == ",".join(sorted(fn.needs))
    assert listed == {name: len(harness.instances_of(name)) for name in harness.SCENARIOS}


def test_every_instance_is_distinct():
    insts = harness.instances()
    assert len({i.id for i in insts}) == len(insts)


def test_a_grid_lists_each_value_once(monkeypatch):
    monkeypatch.setattr(harness, "SCENARIOS", {})
    with pytest.raises(ValueError, match="distinct values"):
        harness.scenario("twice", params={"kind": ("socketpair", "socketpair")})(lambda k, t: None)
    assert harness.SCENARIOS == {}
