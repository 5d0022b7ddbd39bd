"""menios: the Linux AF_UNIX socket subsystem, in user space.

A ``Kernel`` simulates processes with pids, credentials and fd tables, an
in-memory VFS where bound sockets appear as ``S_IFSOCK`` inodes, and the
whole AF_UNIX family with Linux's semantics.  docs/API.md in the source tree
is the API reference.
"""
from . import constants
from .constants import *  # noqa: F401,F403
from .kernel import Kernel
from .process import Process
from .current import as_process, current_process
from . import socket
from .patching import patch

__version__ = "0.1.0"
# Spelled so that type checkers see the exports too (they follow ``+=`` of
# a module's ``__all__``).
__all__ = ["Kernel", "Process", "as_process", "current_process", "patch", "__version__"]
__all__ += constants.__all__
