"""menios: the Linux AF_UNIX socket subsystem, in user space.

A ``Kernel`` simulates processes with pids, credentials and fd tables, an
in-memory VFS where bound sockets appear as ``S_IFSOCK`` inodes, and the
whole AF_UNIX family with Linux's semantics.  docs/API.md in the source tree
is the API reference.
"""
from .constants import *  # noqa: F401,F403
from .constants import __all__ as _const_all
from .kernel import Kernel
from .process import Process
from .current import as_process, current_process
from . import socket
from .patching import patch

__version__ = "0.1.0"
__all__ = ["Kernel", "Process", "as_process", "current_process", "patch", "__version__"] + list(_const_all)
