"""The kernel core needs no C library, and its headers sit beside one.

* ``.ci/run freestanding`` compiles every csrc/kernel .c file with
  ``-ffreestanding -nostdinc`` (only the compiler's own include directory)
  and ``-Wall -Wextra -Werror``, and must print nothing else.
* ``grep -R '#include <' csrc/kernel`` finds only the compiler's
  freestanding headers.
* The uapi headers (csrc/include/sys/), the errno numbers, ssize_t and the
  string prototypes compile warning-free next to the C library's headers,
  included before or after them, and on their own freestanding.

Skipped when gcc is not installed.
"""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "csrc")
GCC = shutil.which("gcc")

pytestmark = pytest.mark.skipif(GCC is None, reason="gcc is not installed")

FREESTANDING_HEADERS = {"stddef.h", "stdint.h", "stdbool.h", "stdatomic.h"}
WARN = ["-Wall", "-Wextra", "-Werror"]


def kernel_c_files():
    out = []
    for root, _, files in os.walk(os.path.join(CSRC, "kernel")):
        out += [os.path.join(root, f) for f in files if f.endswith(".c")]
    return sorted(out)


def test_ci_freestanding_step():
    r = subprocess.run([os.path.join(ROOT, ".ci", "run"), "freestanding"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    n = len(kernel_c_files())
    assert n > 0
    assert r.stdout.splitlines() == [
        "freestanding: %d csrc/kernel files compiled with "
        "-ffreestanding -nostdinc -Wall -Wextra -Werror" % n]


def test_kernel_includes_only_freestanding_headers():
    r = subprocess.run(["grep", "-R", "#include <", "csrc/kernel"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode in (0, 1), r.stderr
    hits = r.stdout.splitlines()
    headers = {re.search(r"#include <([^>]+)>", h).group(1) for h in hits}
    assert headers <= FREESTANDING_HEADERS, [
        h for h in hits if re.search(r"#include <([^>]+)>", h).group(1)
        not in FREESTANDING_HEADERS]


def test_freestanding_step_catches_a_libc_include(tmp_path):
    """The compile fails on a libc header: -nostdinc really removes them."""
    src = tmp_path / "bad.c"
    src.write_text('#include <string.h>\nint x;\n')
    cc_include = subprocess.run([GCC, "-print-file-name=include"], capture_output=True,
                                text=True, check=True).stdout.strip()
    r = subprocess.run([GCC, "-std=c11", "-ffreestanding", "-nostdinc", "-isystem",
                        cc_include, *WARN, "-c", str(src), "-o", os.devnull],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "string.h" in r.stderr


OURS = [
    '"include/sys/socket.h"',
    '"include/sys/un.h"',
    '"kernel/errno.h"',
    '"kernel/types.h"',
    '"kernel/lib/string.h"',
]
LIBC = ["<sys/socket.h>", "<sys/un.h>", "<sys/uio.h>", "<sys/types.h>", "<poll.h>",
        "<errno.h>", "<string.h>", "<stdio.h>", "<unistd.h>", "<fcntl.h>"]

# What a user of the headers relies on: Linux's values and layouts.
USES = r"""
_Static_assert(AF_UNIX == 1 && SOCK_SEQPACKET == 5 && SOL_SOCKET == 1, "");
_Static_assert(SCM_RIGHTS == 1 && SCM_MAX_FD == 253 && SO_PASSRIGHTS == 83, "");
_Static_assert(MSG_CMSG_CLOEXEC == 0x40000000 && POLLRDHUP == 0x2000, "");
_Static_assert(UNIX_PATH_MAX == 108 && sizeof(struct sockaddr_un) == 110, "");
_Static_assert(sizeof(struct msghdr) == 56 && sizeof(struct cmsghdr) == 16, "");
_Static_assert(CMSG_SPACE(sizeof(int)) == 24 && CMSG_LEN(sizeof(int)) == 20, "");
_Static_assert(EAGAIN == 11 && EWOULDBLOCK == EAGAIN && ETOOMANYREFS == 109, "");
_Static_assert(ERESTARTSYS == 512 && ERESTARTNOINTR == 513, "");
_Static_assert(sizeof(ssize_t) == sizeof(size_t) && (ssize_t)-1 < 0, "");

int walk(struct msghdr *m)
{
    struct cmsghdr *c;
    int n = 0;

    for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
        n += c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS;
    return n + (int)strlen((const char *)CMSG_DATA(c ? c : (struct cmsghdr *)m));
}
"""


def compile_tu(tmp_path, name, includes, flags):
    src = tmp_path / (name + ".c")
    src.write_text("".join("#include %s\n" % i for i in includes) + USES)
    r = subprocess.run([GCC, "-std=c11", *WARN, *flags, "-I", CSRC, "-c", str(src),
                        "-o", os.devnull], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stderr == "", "%s:\n%s" % (name, r.stderr)


@pytest.mark.parametrize("gnu", [False, True], ids=["c11", "gnu_source"])
@pytest.mark.parametrize("order", ["libc_first", "ours_first"])
def test_headers_beside_libc(tmp_path, order, gnu):
    includes = LIBC + OURS if order == "libc_first" else OURS + LIBC
    compile_tu(tmp_path, order, includes, ["-D_GNU_SOURCE"] if gnu else [])


def test_headers_freestanding(tmp_path):
    cc_include = subprocess.run([GCC, "-print-file-name=include"], capture_output=True,
                                text=True, check=True).stdout.strip()
    compile_tu(tmp_path, "freestanding", OURS,
               ["-ffreestanding", "-nostdinc", "-isystem", cc_include])
