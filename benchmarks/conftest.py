"""Shared fixtures for the pytest-benchmark suites (not part of the main test run).

Run from the repository root: ``python3 -m pytest benchmarks/ --benchmark-only``.
The backends are menios.bench's: ``menios`` (a fresh Kernel and process),
``host`` (the stdlib socket module) and ``pipe`` (os.pipe, where it applies).
"""
import pytest

from menios import bench


@pytest.fixture
def backend(request):
    be = bench._BACKENDS[request.param]()
    yield be
    be.close()


def backends(*names):
    """Parametrize the ``backend`` fixture indirectly over these backends."""
    return pytest.mark.parametrize("backend", names, indirect=True)
