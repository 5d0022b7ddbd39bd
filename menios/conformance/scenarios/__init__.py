"""Conformance scenarios, grouped by subject.  Importing this package
registers every scenario in ``menios.conformance.harness.SCENARIOS``."""
import importlib
import pkgutil

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(__name__ + "." + _mod.name)
