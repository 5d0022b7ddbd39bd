"""C-level tests of the AF_UNIX core (csrc/), without the Cython bridge.

* ``tests/c/test_core.c`` is a plain C test program.  It is compiled from
  setup.py's C_SOURCES on the host platform -- under AddressSanitizer +
  UBSan, under ThreadSanitizer (where this machine can run it), and plain
  -O2 -- and once more on the deterministic platform (csrc/platform/det.c in
  place of host.c, the core's own kernel/lib/string.c in place of the C
  library's, UBSan), where it runs under several schedules; it must print
  ``N passed, 0 failed`` and exit 0 every time.
* A few checks drive the core through cffi (``ffi.dlopen`` of a shared
  library built from the same sources): Linux's truesize values and
  create/release cycles with the debug counters back at zero.

Everything is built into a temporary directory; nothing is written to the
tree.  Skipped when gcc is not installed.
"""
import ast
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "csrc")
TEST_C = os.path.join(ROOT, "tests", "c", "test_core.c")
GCC = shutil.which("gcc")

pytestmark = pytest.mark.skipif(GCC is None, reason="gcc is not installed")

WARN = ["-Wall", "-Wextra", "-Werror"]
SANITIZE_FLAGS = ["-std=c11", "-D_GNU_SOURCE", *WARN, "-O1", "-g",
                  "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                  "-fno-sanitize-recover=all", "-pthread"]
PLAIN_FLAGS = ["-std=c11", "-D_GNU_SOURCE", "-O2", *WARN, "-pthread"]
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}
RUN_TIMEOUT = 120


def c_sources():
    """setup.py's C_SOURCES list, read without running setup.py."""
    with open(os.path.join(ROOT, "setup.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read(), "setup.py")
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "C_SOURCES" for t in node.targets):
            return [os.path.join(ROOT, p) for p in ast.literal_eval(node.value)]
    raise AssertionError("setup.py has no C_SOURCES list")


def gcc(args, cwd):
    cmd = [GCC, *args]
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, "compile failed: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr)


def build_test_program(outdir, flags, name):
    exe = os.path.join(str(outdir), name)
    gcc([*flags, "-I", CSRC, TEST_C, *c_sources(), "-o", exe], cwd=ROOT)
    return exe


def run_test_program(exe, extra_env=None):
    env = dict(os.environ)
    env.update(extra_env or {})
    r = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True,
                       timeout=RUN_TIMEOUT, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 0, "%s exited with %d:\n%s" % (exe, r.returncode, out)
    last = [l for l in r.stdout.splitlines() if l.strip()][-1]
    assert last.endswith(" passed, 0 failed"), out
    assert int(last.split()[0]) > 0, out
    return r.stdout


DET_FLAGS = ["-std=c11", "-D_GNU_SOURCE", *WARN, "-O1", "-g", "-fsanitize=undefined",
             "-fno-sanitize-recover=all", "-DMENIOS_TEST_DET"]
HOST_PLATFORM = os.path.join(CSRC, "platform", "host.c")
DET_PLATFORM = os.path.join(CSRC, "platform", "det.c")
LIB_STRING = os.path.join(CSRC, "kernel", "lib", "string.c")


def det_sources():
    """C_SOURCES on the deterministic platform: det.c for host.c."""
    srcs = c_sources()
    assert HOST_PLATFORM in srcs
    return [DET_PLATFORM if p == HOST_PLATFORM else p for p in srcs]


def test_sources_listed_once():
    srcs = c_sources()
    assert srcs and len(srcs) == len(set(srcs))
    for p in srcs:
        assert os.path.isfile(p), p


def test_c_core_asan_ubsan(tmp_path):
    exe = build_test_program(tmp_path, SANITIZE_FLAGS, "test_core_asan")
    out = run_test_program(exe, SANITIZER_ENV)
    print(out)


TSAN_FLAGS = ["-std=c11", "-D_GNU_SOURCE", *WARN, "-O1", "-g", "-fsanitize=thread",
              "-pthread"]
TSAN_ENV = {"TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1"}


def tsan_works(outdir):
    """Whether gcc builds and this machine runs a ThreadSanitizer program:
    libtsan may be missing, and some kernels' address-space layout makes
    TSan abort at start-up."""
    probe_c = os.path.join(str(outdir), "tsan_probe.c")
    probe = os.path.join(str(outdir), "tsan_probe")
    with open(probe_c, "w", encoding="utf-8") as f:
        f.write("#include <pthread.h>\n"
                "static void *run(void *a) { return a; }\n"
                "int main(void) { pthread_t t; pthread_create(&t, 0, run, 0);"
                " return pthread_join(t, 0); }\n")
    r = subprocess.run([GCC, "-fsanitize=thread", "-pthread", probe_c, "-o", probe],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return False
    return subprocess.run([probe], capture_output=True, timeout=60).returncode == 0


def test_c_core_tsan(tmp_path):
    """The C tests under ThreadSanitizer: the threaded ones (lock order,
    wake-ups, bulk transfers, teardown while copying) must show no data
    race and no lock-order inversion."""
    if not tsan_works(tmp_path):
        pytest.skip("gcc cannot build or run ThreadSanitizer programs here")
    exe = build_test_program(tmp_path, TSAN_FLAGS, "test_core_tsan")
    out = run_test_program(exe, TSAN_ENV)
    print(out)


def test_c_core_plain_O2(tmp_path):
    exe = build_test_program(tmp_path, PLAIN_FLAGS, "test_core")
    out = run_test_program(exe)
    print(out)


# ------------------------------------------------ deterministic platform ---

DET_DECISIONS = re.compile(r"^det: (\d+) scheduling decisions$", re.M)


@pytest.fixture(scope="module")
def det_program(tmp_path_factory):
    out = tmp_path_factory.mktemp("cdet")
    # kernel/lib/string.c is built as a kernel would build it: freestanding,
    # so gcc cannot turn its loops back into calls to the C library.
    lib_o = os.path.join(str(out), "string.o")
    gcc(["-std=c11", "-ffreestanding", *WARN, "-O2", "-g", "-fsanitize=undefined",
         "-c", LIB_STRING, "-o", lib_o], cwd=ROOT)
    exe = os.path.join(str(out), "test_core_det")
    gcc([*DET_FLAGS, "-I", CSRC, TEST_C, *det_sources(), lib_o, "-o", exe], cwd=ROOT)
    return exe


def run_det(exe, seed):
    out = run_test_program(exe, {"MENIOS_DET_SEED": str(seed),
                                 "UBSAN_OPTIONS": SANITIZER_ENV["UBSAN_OPTIONS"]})
    m = DET_DECISIONS.search(out)
    assert m, out
    assert "det_race_schedule" in out, out
    return out, int(m.group(1))


def test_c_core_det_schedules(det_program):
    """The C tests on det, under several schedules: every one passes, a
    seed replays its schedule exactly, and the seeds differ."""
    decisions = {}
    for seed in (1, 2, 3, 12345):
        out, decisions[seed] = run_det(det_program, seed)
        print("seed %d: %s" % (seed, out.splitlines()[-2]))
    assert run_det(det_program, 1)[1] == decisions[1]
    assert len(set(decisions.values())) > 1, decisions


def test_det_links_no_pthreads(det_program):
    """The deterministic platform runs the core on one host thread: the
    program it builds calls no pthread function."""
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm is not installed")
    r = subprocess.run([nm, "-u", det_program], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert not [l for l in r.stdout.split() if l.startswith("pthread_")], r.stdout


# ------------------------------------------------------------------ cffi ---

CDEF = """
struct unix_net;
struct unix_sock;
struct unix_sysctl {
    int max_dgram_qlen;
    int somaxconn;
    int wmem_default, rmem_default;
    int wmem_max, rmem_max;
};
%(unix_counters)s
struct unix_net *unix_net_create(const struct unix_sysctl *sysctl);
void unix_net_shutdown(struct unix_net *net);
void unix_net_destroy(struct unix_net *net);
void unix_net_counters(struct unix_net *net, struct unix_counters *out);
int unix_create(struct unix_net *net, int type, int protocol, struct unix_sock **out);
int unix_release(struct unix_sock *sk);
void unix_sock_hold(struct unix_sock *sk);
void unix_sock_put(struct unix_sock *sk);
int unix_socketpair(void *task, struct unix_sock *a, struct unix_sock *b);
int unix_bind(void *task, struct unix_sock *sk, const void *path, unsigned int len);
int unix_listen(void *task, struct unix_sock *sk, int backlog);
int unix_getsockopt(struct unix_sock *sk, int level, int optname, int64_t *val);
int unix_gc(struct unix_net *net);
unsigned int skb_truesize(size_t head, size_t frag);
"""



def header_struct(header, name):
    """``struct name {...};`` as the header declares it, comments removed:
    the cdef must match the C layout field for field (ABI mode checks
    nothing, and a short struct is a buffer overflow in the C core)."""
    with open(os.path.join(CSRC, header), encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    m = re.search(r"^struct %s \{.*?^\};" % name, text, flags=re.S | re.M)
    assert m, "%s declares no struct %s" % (header, name)
    return m.group(0)


SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET = 1, 2, 5
SOL_SOCKET, SO_TYPE, SO_SNDBUF, SO_ACCEPTCONN = 1, 3, 7, 30


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    cffi = pytest.importorskip("cffi")
    out = tmp_path_factory.mktemp("ccore")
    lib_path = os.path.join(str(out), "libmenios_core.so")
    gcc(["-std=c11", "-D_GNU_SOURCE", *WARN, "-O1", "-g", "-shared", "-fPIC",
         "-pthread", "-I", CSRC, *c_sources(), "-o", lib_path], cwd=ROOT)
    ffi = cffi.FFI()
    ffi.cdef(CDEF % {"unix_counters": header_struct(
        os.path.join("kernel", "net", "unix", "unix_socket.h"), "unix_counters")})
    lib = ffi.dlopen(lib_path)
    return ffi, lib


@pytest.fixture
def net(core):
    ffi, lib = core
    sysctl = ffi.new("struct unix_sysctl *", {
        "max_dgram_qlen": 10, "somaxconn": 4096,
        "wmem_default": 212992, "rmem_default": 212992,
        "wmem_max": 212992, "rmem_max": 212992})
    n = lib.unix_net_create(sysctl)
    assert n != ffi.NULL
    yield n
    assert counters(core, n)[:4] == (0, 0, 0, 0), "leaked: %r" % (counters(core, n),)
    lib.unix_net_shutdown(n)
    lib.unix_net_destroy(n)


def counters(core, n):
    ffi, lib = core
    c = ffi.new("struct unix_counters *")
    lib.unix_net_counters(n, c)
    return (c.socks, c.skbs, c.bytes_queued, c.inflight)


def test_counters_cdef_is_the_header_struct(core):
    ffi, _ = core
    fields = [name for name, _ in ffi.typeof("struct unix_counters").fields]
    assert fields[:3] == ["socks", "live", "skbs"] and "blocked" in fields
    assert ffi.sizeof("struct unix_counters") == 8 * len(fields)


def create(core, n, type_, proto=0):
    ffi, lib = core
    out = ffi.new("struct unix_sock **")
    r = lib.unix_create(n, type_, proto, out)
    return r, (out[0] if r == 0 else None)


@pytest.mark.parametrize("head,frag,expected", [
    (1, 0, 768),           # a 1-byte linear skb
    (1000, 0, 2304),       # a 1000-byte linear skb
    (3776, 32768, 37120),  # the largest stream skb: SKB_MAX_HEAD(0) + 32 KiB of frags
    (0, 0, 768),
    (3776, 0, 4352),       # SKB_MAX_HEAD(0): the head just fits one page
])
def test_skb_truesize_matches_linux(core, head, frag, expected):
    _, lib = core
    assert lib.skb_truesize(head, frag) == expected


def test_create_release_cycles(core, net):
    ffi, lib = core
    val = ffi.new("int64_t *")
    for i in range(200):
        for t in (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET):
            r, a = create(core, net, t)
            assert r == 0
            r, b = create(core, net, t)
            assert r == 0
            assert counters(core, net)[0] == 2
            assert lib.unix_getsockopt(a, SOL_SOCKET, SO_TYPE, val) == 0
            assert val[0] == t
            assert lib.unix_socketpair(ffi.NULL, a, b) == 0
            # release in either order
            if i % 2:
                a, b = b, a
            lib.unix_release(a)
            lib.unix_release(b)
            assert counters(core, net)[0] == 0
    # a listener with a name, held by an extra reference across its release
    r, s = create(core, net, SOCK_STREAM)
    assert lib.unix_bind(core[0].NULL, s, b"\0name", 5) == 0
    assert lib.unix_listen(ffi.NULL, s, 0) == 0
    assert lib.unix_getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, val) == 0 and val[0] == 1
    lib.unix_sock_hold(s)
    lib.unix_release(s)
    assert counters(core, net)[0] == 1
    lib.unix_sock_put(s)
    assert lib.unix_gc(net) == 0


@pytest.mark.parametrize("type_,proto,err", [
    (0, 0, "ESOCKTNOSUPPORT"),
    (4, 0, "ESOCKTNOSUPPORT"),
    (11, 0, "EINVAL"),
    (SOCK_STREAM | 0x10, 0, "EINVAL"),
    (SOCK_STREAM, 2, "EPROTONOSUPPORT"),
])
def test_create_errnos(core, net, type_, proto, err):
    import errno
    r, _ = create(core, net, type_, proto)
    assert r == -getattr(errno, err)


# ------------------------------------------- det's own checks, failing ---

DET_MISUSE = {
    # a lock held across a blocking call: the next taker finds it held
    "lock_across_sleep": r"""
static plat_mutex_t m;
static void *holder(void *arg) { (void)arg; plat_mutex_lock(&m); det_sleep_ns(1000); plat_mutex_unlock(&m); return NULL; }
int main(void)
{
    struct det_thread *t;

    plat_mutex_init(&m);
    t = det_thread_create(holder, NULL);
    det_sleep_ns(10);
    det_thread_join(t);
    return 0;
}
""",
    # every thread blocked with no deadline
    "deadlock": r"""
static plat_event_t e;
static void *sleeper(void *arg) { (void)arg; plat_event_wait(&e, PLAT_FOREVER); return NULL; }
int main(void)
{
    plat_event_arm(&e);
    det_thread_join(det_thread_create(sleeper, NULL));
    return 0;
}
""",
}


@pytest.mark.parametrize("case,expect", [
    ("lock_across_sleep", "det: assertion failed: cur->locks_held == 0"),
    ("deadlock", "det: deadlock: every thread is blocked with no deadline"),
])
def test_det_aborts_on_misuse(tmp_path, case, expect):
    """det turns a broken locking rule or a deadlock into an abort that
    names it, with the threads' states."""
    src = tmp_path / (case + ".c")
    src.write_text('#include "platform/det.h"\n' + DET_MISUSE[case])
    exe = str(tmp_path / case)
    gcc(["-std=c11", *WARN, "-O1", "-g", "-I", CSRC, str(src), DET_PLATFORM, "-o", exe],
        cwd=ROOT)
    r = subprocess.run([exe], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert expect in r.stderr, r.stderr
    assert "thread 1:" in r.stderr, r.stderr
