"""The fd table hands out the lowest free number (>= the F_DUPFD minimum),
EMFILE at RLIMIT_NOFILE, whatever sequence of opens, closes, dups and
reservations came before: checked against a model of POSIX's rule, since
the table keeps a hint (Linux's files->next_fd) that must never skip a free
number."""
import errno

import pytest
from hypothesis import given, settings, strategies as st

import menios
from menios import F_DUPFD

LIMIT = 24

ops = st.lists(st.one_of(
    st.tuples(st.just("socket")),
    st.tuples(st.just("socketpair")),
    st.tuples(st.just("pipe")),
    st.tuples(st.just("close"), st.integers(0, LIMIT - 1)),
    st.tuples(st.just("dup"), st.integers(0, LIMIT - 1)),
    st.tuples(st.just("dup2"), st.integers(0, LIMIT - 1), st.integers(0, LIMIT - 1)),
    st.tuples(st.just("dupfd"), st.integers(0, LIMIT - 1), st.integers(0, LIMIT + 2)),
    st.tuples(st.just("failed_accept")),
), max_size=60)


def _lowest(model, minfd=0):
    fd = minfd
    while fd in model:
        fd += 1
    return fd if fd < LIMIT else None


def _expect_new(model, got, minfd=0):
    want = _lowest(model, minfd)
    if want is None:
        assert got == errno.EMFILE
        return False
    assert got == want, (got, want, sorted(model))
    model.add(got)
    return True


@settings(max_examples=300, deadline=None)
@given(ops)
def test_lowest_free_fd_whatever_came_before(seq):
    with menios.Kernel() as k:
        p = k.spawn(rlimit_nofile=LIMIT)
        lst = p.socket()
        p.bind(lst, "/tmp/l")
        p.listen(lst)
        p.fcntl(lst, menios.F_SETFL, menios.O_NONBLOCK)
        model = {lst}
        listening = True            # lst is still the listener

        def call(fn, *args):
            try:
                return fn(*args)
            except OSError as e:
                return e.errno
        for op, *args in seq:
            if op == "socket":
                _expect_new(model, call(p.socket))
            elif op in ("socketpair", "pipe"):
                got = call(getattr(p, op))
                if isinstance(got, tuple):
                    for fd in got:
                        _expect_new(model, fd)
                else:               # EMFILE: neither end is left open
                    assert got == errno.EMFILE and len(model) >= LIMIT - 1
            elif op == "close":
                got = call(p.close, args[0])
                assert (got is None) == (args[0] in model)
                model.discard(args[0])
                listening = listening and args[0] != lst
            elif op == "dup":
                if args[0] in model:
                    _expect_new(model, call(p.dup, args[0]))
            elif op == "dup2":
                if args[0] in model:
                    assert call(p.dup2, args[0], args[1]) == args[1]
                    model.add(args[1])
                    listening = listening and (args[1] != lst or args[0] == lst)
            elif op == "dupfd":
                if args[0] in model:
                    got = call(p.fcntl, args[0], F_DUPFD, args[1])
                    if args[1] >= LIMIT:
                        assert got == errno.EINVAL
                    else:
                        _expect_new(model, got, args[1])
            elif listening:         # accept reserves a slot, fails, gives it back
                assert call(p.accept, lst) in (errno.EAGAIN, errno.EMFILE)
            assert set(fd for fd in range(LIMIT) if call(p.fcntl, fd, menios.F_GETFD)
                       != errno.EBADF) == model


@pytest.mark.parametrize("n", [2000])
def test_many_fds_in_one_process(n):
    """Thousands of fds in one process: lowest-first numbering still holds
    after holes are punched anywhere."""
    with menios.Kernel() as k:
        p = k.spawn(rlimit_nofile=2 * n + 8)
        for i in range(n):
            assert p.socketpair() == (2 * i, 2 * i + 1)
        for fd in (1500, 3, 2999):
            p.close(fd)
        assert [p.socket() for _ in range(4)] == [3, 1500, 2999, 2 * n]
