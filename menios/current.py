"""Which simulated process ordinary Python code runs as.

``menios.socket`` objects made without ``process=`` belong to the current
process: the one set by the innermost ``as_process(p)`` of the running
context, else the process of the active ``menios.patch``.  The value lives
in a ``contextvars.ContextVar``, so it follows the code that set it: a
thread starts without one (run it as a process with ``as_process`` inside
the thread, or start it with ``contextvars.copy_context().run``) and so runs
as the patch's process, if any; an asyncio task keeps the one that was
current when it was created.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .process import Process

_current: contextvars.ContextVar[Process | None] = contextvars.ContextVar(
    "menios_current_process", default=None)
_fallback: Process | None = None        # the active menios.patch's process


def current_process() -> Process | None:
    """The process that ``as_process`` made current here, else the active
    ``menios.patch``'s, else ``None``."""
    p = _current.get()
    return _fallback if p is None else p


def set_fallback(process: Process | None) -> Process | None:
    """Make ``process`` current wherever ``as_process`` says nothing (the
    patch does this); ``None`` undoes it.  Returns the previous one."""
    global _fallback
    old, _fallback = _fallback, process
    return old


@contextlib.contextmanager
def as_process(process: Process) -> Iterator[Process]:
    """``with as_process(p):`` -- inside the block, socket objects made
    without ``process=`` belong to ``p``.  Nests; also a decorator.  A
    ``TypeError`` for anything that is not a ``menios.Process``."""
    from .process import Process
    if not isinstance(process, Process):
        raise TypeError("as_process() needs a menios.Process, not %r"
                        % type(process).__name__)
    token = _current.set(process)
    try:
        yield process
    finally:
        _current.reset(token)
