"""Every registered conformance scenario, run on menios and on the host
kernel, must produce the same trace step by step; and menios must leave no
socket, skb, queued byte or file in flight behind once the kernel closes."""
import pytest

from menios.conformance import harness
from menios.conformance.host import unmet
import menios.conformance.scenarios  # noqa: F401  (registers the scenarios)

INSTANCES = harness.instances()


@pytest.mark.parametrize("inst", INSTANCES, ids=[i.id for i in INSTANCES])
def test_scenario_agrees_with_host(inst):
    reason = unmet(inst.needs)
    if reason:
        pytest.skip(reason)
    kernels = []

    def menios_backend():
        k = harness.menios_backend()
        kernels.append(k)
        return k

    harness.assert_same(inst.fn, params=inst.params,
                        backends=(menios_backend, harness.host_backend))
    for k in kernels:
        c = k.counters()
        leaks = {n: c[n] for n in ("sockets", "skbs", "bytes_queued", "files_inflight") if c[n]}
        assert not leaks, "menios leaked after the scenario: %r" % leaks


def test_enough_scenarios_registered():
    assert len({i.name for i in INSTANCES}) >= 1
