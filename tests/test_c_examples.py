"""The original issue's usage examples, in C, against the core.

``examples/c/`` holds a small embedder (``mk.c``: an fd table and a flat
name table behind the core's host ops, syscall wrappers named ``mk_*``) and
the examples written against it: a stream echo server and client, a
datagram ``sendto``/``recvfrom``, and an fd passed with ``SCM_RIGHTS``.
Each is compiled with -Wall -Wextra -Werror together with setup.py's
C_SOURCES under AddressSanitizer + UBSan, run, and its output checked: what
the original issue promises ("Hello" received, a datagram received, an fd
passed and used) and every socket gone at the end.

Skipped when gcc is not installed.
"""
import errno
import os
import subprocess

import pytest

from test_c_core import CSRC, GCC, ROOT, SANITIZE_FLAGS, SANITIZER_ENV, c_sources, gcc

pytestmark = pytest.mark.skipif(GCC is None, reason="gcc is not installed")

EXAMPLES = os.path.join(ROOT, "examples", "c")
RUN_TIMEOUT = 60


@pytest.fixture(scope="module")
def objects(tmp_path_factory):
    """The core and the embedder, compiled once for every example."""
    out = tmp_path_factory.mktemp("cexamples")
    sources = [*c_sources(), os.path.join(EXAMPLES, "mk.c")]
    names = [os.path.splitext(os.path.basename(s))[0] for s in sources]
    assert len(set(names)) == len(names), "object names collide: %r" % names
    gcc([*SANITIZE_FLAGS, "-I", CSRC, "-I", EXAMPLES, "-c", *sources], cwd=str(out))
    return out, [os.path.join(str(out), n + ".o") for n in names]


def run_example(objects, name):
    out, objs = objects
    exe = os.path.join(str(out), name)
    gcc([*SANITIZE_FLAGS, "-I", CSRC, "-I", EXAMPLES,
         os.path.join(EXAMPLES, name + ".c"), *objs, "-o", exe], cwd=ROOT)
    env = dict(os.environ)
    env.update(SANITIZER_ENV)
    r = subprocess.run([exe], cwd=str(out), capture_output=True, text=True,
                       timeout=RUN_TIMEOUT, env=env)
    assert r.returncode == 0, "%s exited with %d:\n%s%s" % (name, r.returncode, r.stdout, r.stderr)
    assert r.stderr == "", r.stderr
    return r.stdout.splitlines()


def test_every_example_is_tested():
    examples = sorted(f[:-2] for f in os.listdir(EXAMPLES)
                      if f.endswith(".c") and f != "mk.c")
    assert examples == ["dgram", "scm_rights", "stream_echo"]


def test_stream_echo(objects):
    assert run_example(objects, "stream_echo") == [
        "server: second bind of /tmp/server: errno %d (EADDRINUSE)" % errno.EADDRINUSE,
        'server: received "Hello" (5 bytes)',
        'client: echo "Hello"',
        "server: recv after the client closed: 0",
        "sockets left: 0",
    ]


def test_dgram(objects):
    assert run_example(objects, "dgram") == [
        "sendto: 7",
        "sendto: 3",
        'recvfrom: "Message" (7 bytes) from /tmp/dgram-client',
        'recvfrom: "Two" (3 bytes) from /tmp/dgram-client',
        "recv: -1, errno %d (EAGAIN)" % errno.EAGAIN,
        "sendto /tmp/nobody: -1, errno %d (ENOENT)" % errno.ENOENT,
        "sockets left: 0",
    ]


def test_scm_rights(objects):
    assert run_example(objects, "scm_rights") == [
        "sendmsg: 1",
        "received fd 3",
        "send on the received fd: 21",
        'read at the other end: "through the passed fd"',
        "sendmsg of fd 31: -1, errno %d (EBADF)" % errno.EBADF,
        "sockets left: 0",
    ]
