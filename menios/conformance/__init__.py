"""Differential conformance: scenarios run on menios and on the host kernel.

:mod:`menios.conformance.host` runs menios's Kernel/Process API on the real
kernel; :mod:`menios.conformance.harness` records, normalises and compares
the two runs.  Nothing is imported here, so importing this package needs
neither menios' core nor root.
"""
