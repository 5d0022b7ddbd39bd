"""poll(2) over a process's fds: each fd's file is held for the whole call
and handed to the C core as what it polls (a socket or a pipe file as it
is, a live process's pidfd as the pipe its exit hangs up, any other file by
its fixed mask); the core waits on all of them at once (``_unix.poll``).
"""
import contextlib
import errno

from . import _unix
from .args import as_int
from .constants import POLLERR, POLLHUP, POLLNVAL
from .pidfd import EXITED, PidFile

_Socket = _unix.Socket
_PipeFile = _unix.PipeFile

#: pollfd.events is a short: higher bits are not passed in.
EVENTS_MASK = 0xffff
#: Reported whether asked for or not.
ALWAYS = POLLERR | POLLHUP


def poll(proc, fds, timeout_ms=None):
    """[(fd, events)] -> [(fd, revents)] for revents != 0, as poll(2):
    POLLNVAL for a bad fd, negative fds ignored, POLLERR/POLLHUP always.
    ``timeout_ms`` None or negative waits forever, 0 returns at once.
    ESRCH once the process exited."""
    entries = []
    exit_watches = []       # entries standing for a live process's pidfd
    # Each file is held until the poll ends, as Linux's __pollwait holds
    # the files it waits on, so a close by another thread cannot release
    # a socket being polled.
    with contextlib.ExitStack() as held:
        for item in fds:
            fd, events = item
            fd, events = as_int(fd), as_int(events) & EVENTS_MASK
            if fd < 0:
                entries.append((None, events, 0))
                continue
            try:
                f = held.enter_context(proc._hold(fd))
            except OSError as e:
                if e.errno == errno.ESRCH:
                    raise
                entries.append((None, events, POLLNVAL))
                continue
            if type(f) is _Socket or isinstance(f, _PipeFile):
                entries.append((f, events, 0))
            elif type(f) is PidFile and f.exit_watch is not None and not f.exited():
                # the exit hangs up the pipe the pidfd watches: POLLHUP,
                # reported whatever is asked, wakes the poll
                exit_watches.append((len(entries), events))
                entries.append((f.exit_watch, 0, 0))
            else:
                entries.append((None, events, f.poll_mask() & (events | ALWAYS)))
        if timeout_ms is not None:
            timeout_ms = as_int(timeout_ms)
        revents = _unix.poll(proc.kernel.net, entries, timeout_ms)
        for i, events in exit_watches:
            if revents[i]:
                revents[i] = EXITED & (events | ALWAYS)
    out = []
    for item, rev in zip(fds, revents):
        if rev:
            out.append((as_int(item[0]), rev))
    return out
