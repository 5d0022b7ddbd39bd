# cython: language_level=3, embedsignature=True
"""Floors for ``menios bench``: what the same work costs with no kernel in
the way.  ``copy_floor`` runs two C threads moving a stream with one or two
``memcpy``s (csrc/bench/copyfloor.c); the GIL is released for the run.
``Baton`` lets two Python threads take turns with the GIL released, by
spinning or asleep on a futex: the floors of a round trip between threads
that never sleep and between threads that do.
``ready_floor`` times, in C, the host calls that keep a readiness fd in
step per send+recv pair (csrc/bench/readyfloor.c)."""

from libc.stdint cimport int64_t, uint64_t

import os

cdef extern from "bench/copyfloor.h":
    struct copy_floor_result:
        uint64_t chunks
        uint64_t bad
        int64_t elapsed_ns
    int copy_floor_run(size_t chunk, int copies, int64_t budget_ns,
                       copy_floor_result *out) nogil

cdef extern from "bench/readyfloor.h":
    struct ready_floor_result:
        uint64_t pairs
        uint64_t bad
        int64_t elapsed_ns
    int ready_floor_run(int kind, int64_t budget_ns, ready_floor_result *out) nogil

READY_FLOOR_KINDS = ("socketpair", "eventfd", "syscalls")

cdef extern from *:
    """
    #include <stdatomic.h>
    #include <stdlib.h>
    static atomic_int *menios_baton_new(void)
    {
        atomic_int *t = malloc(sizeof(*t));
        if (t)
            atomic_init(t, 0);
        return t;
    }
    """
    ctypedef int atomic_int
    atomic_int *menios_baton_new() nogil
    int baton_wait(atomic_int *turn, int me, int64_t timeout_ns) nogil
    void baton_give(atomic_int *turn, int to) nogil
    int baton_pass_wait(atomic_int *turn, int me, int64_t timeout_ns) nogil
    void baton_give_wake(atomic_int *turn, int to) nogil
    int baton_sleep(atomic_int *turn, int me, int64_t timeout_ns) nogil
    int baton_pass_sleep(atomic_int *turn, int me, int64_t timeout_ns) nogil

from libc.stdlib cimport free


def copy_floor(Py_ssize_t chunk, int copies, double seconds):
    """Move ``chunk``-byte chunks between two threads for ``seconds`` with
    ``copies`` (1 or 2) memcpys per chunk; return ``(chunks, elapsed_s,
    bad)``: bad counts chunks that arrived with a wrong sequence stamp."""
    cdef copy_floor_result res
    cdef int r
    cdef int64_t budget = <int64_t>(seconds * 1e9)
    if chunk < 16:
        raise ValueError("chunk must be at least 16 bytes")
    with nogil:
        r = copy_floor_run(<size_t>chunk, copies, budget, &res)
    if r < 0:
        raise OSError(-r, os.strerror(-r))
    return res.chunks, res.elapsed_ns / 1e9, res.bad


def ready_floor(kind, double seconds):
    """Make a host fd readable and unreadable again, as a message's send and
    recv do to an armed receiver's readiness fd, for ``seconds``; ``kind``
    is one of READY_FLOOR_KINDS.  Return ``(pairs, elapsed_s, bad)``: bad
    counts pairs whose calls did not return what was sent, plus one if the
    fd did not end writable and unreadable."""
    cdef ready_floor_result res
    cdef int r, k
    cdef int64_t budget = <int64_t>(seconds * 1e9)
    if kind not in READY_FLOOR_KINDS:
        raise ValueError("kind must be one of %r" % (READY_FLOOR_KINDS,))
    k = READY_FLOOR_KINDS.index(kind)
    with nogil:
        r = ready_floor_run(k, budget, &res)
    if r < 0:
        raise OSError(-r, os.strerror(-r))
    return res.pairs, res.elapsed_ns / 1e9, res.bad


cdef int _side(int me) except -1:
    if me != 0 and me != 1:
        raise ValueError("side must be 0 or 1")
    return me


cdef class Baton:
    """A turn shared by two threads, sides 0 and 1; side 0 has it first.
    A wait that lasts longer than ``timeout`` seconds raises TimeoutError
    (the other side is gone).  ``sleep=True``: a waiting side sleeps on a
    futex instead of spinning, and handing the turn over wakes it."""
    cdef atomic_int *turn
    cdef bint sleep

    def __cinit__(self, bint sleep=False):
        self.turn = menios_baton_new()
        if self.turn == NULL:
            raise MemoryError()
        self.sleep = sleep

    def __dealloc__(self):
        free(self.turn)

    def pass_wait(self, int me, double timeout=10.0):
        """Give the turn to the other side, then spin or sleep (GIL
        released) until it comes back to side ``me``."""
        self._spin(me, timeout, True)

    def wait(self, int me, double timeout=10.0):
        """Spin or sleep (GIL released) until side ``me`` has the turn."""
        self._spin(me, timeout, False)

    cdef int _spin(self, int me, double timeout, bint give) except -1:
        """Wait until side @me has the turn, handing it over first if @give."""
        cdef int r
        cdef int64_t t = <int64_t>(timeout * 1e9)
        _side(me)
        with nogil:
            if self.sleep:
                r = baton_pass_sleep(self.turn, me, t) if give else baton_sleep(self.turn, me, t)
            elif give:
                r = baton_pass_wait(self.turn, me, t)
            else:
                r = baton_wait(self.turn, me, t)
        if r < 0:
            raise TimeoutError("the turn did not come back" if give else "the turn did not come")
        return 0

    def give(self, int to):
        """Hand the turn to side ``to`` without waiting."""
        if self.sleep:
            baton_give_wake(self.turn, _side(to))
        else:
            baton_give(self.turn, _side(to))
