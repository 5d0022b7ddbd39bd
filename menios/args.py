"""Syscall arguments and errors, converted as the stdlib converts them.

Every call of the simulated kernel takes its integer arguments through
``as_int`` (any ``__index__`` object, TypeError otherwise) or ``as_cint``
(also OverflowError outside a C int), and fails with ``err(errno)``: an
``OSError`` whose subclass and message are the ones ``os`` would raise.
"""
import operator
import os

from .constants import INT_MAX, INT_MIN


def err(code):
    """``OSError(code, strerror(code))``, as a failed syscall raises it."""
    return OSError(code, os.strerror(code))


def as_int(value):
    """An int argument (an fd, flags, a size), as the stdlib converts it."""
    if type(value) is int:
        return value
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError("an integer is required (got type %s)"
                        % type(value).__name__) from None


def as_cint(value):
    """An int argument that must fit a C int, as the stdlib converts it."""
    value = as_int(value)
    if not INT_MIN <= value <= INT_MAX:
        raise OverflowError("signed integer is %s than %s" % (
            ("greater", "maximum") if value > 0 else ("less", "minimum")))
    return value
