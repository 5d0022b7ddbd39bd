"""Every registered conformance scenario, run on menios and on the host
kernel, must produce the same trace step by step; and menios must leave no
socket, skb, queued byte or file in flight behind once the kernel closes."""
import pytest

from menios.conformance import harness
from menios.conformance.host import NeedsIds, unmet
import menios.conformance.scenarios  # noqa: F401  (registers the scenarios)

INSTANCES = harness.instances()


@pytest.mark.parametrize("inst", INSTANCES, ids=[i.id for i in INSTANCES])
def test_scenario_agrees_with_host(inst):
    reason = unmet(inst.needs)
    if reason:
        pytest.skip(reason)
    # assert_same judges by harness.compare: the same outcomes and types step
    # by step, no crash or timeout on either side, no leak left in menios.
    try:
        harness.assert_same(inst.fn, params=inst.params)
    except NeedsIds as e:
        pytest.fail(f"asks for ids an ordinary user's namespace lacks but is not tagged "
                    f"needs={{'ids'}}: {e}")


def test_enough_scenarios_registered():
    assert len({i.name for i in INSTANCES}) >= 1
