"""Every registered conformance scenario, run on menios and on the host
kernel, must produce the same trace step by step."""
import os

import pytest

from menios.conformance import harness
import menios.conformance.scenarios  # noqa: F401  (registers the scenarios)

INSTANCES = harness.instances()

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="the host backend needs root (chroot, netns, setuid)")


@pytest.mark.parametrize("inst", INSTANCES, ids=[repr(i) for i in INSTANCES])
def test_scenario_agrees_with_host(inst):
    harness.assert_same(inst.fn, params=inst.params)
