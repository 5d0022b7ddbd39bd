"""AF_UNIX names: addresses as the syscalls copy them in, binding in the
filesystem and in the abstract namespace, autobind, and the lookup of the
socket a name reaches (Linux's unix_bind, unix_autobind, unix_find_other).

A filesystem name is an ``S_IFSOCK`` inode of the VFS whose ``sock`` is
the bound socket; an abstract name (a leading NUL) is a key of
``kernel.abstract``, ``(name, type)``, under ``kernel.lock``.  Functions
that act for a process take it first; failures raise ``OSError`` with
Linux's errno.
"""
import errno
import os
import stat

from .args import err
from .constants import (
    MSG_OOB, SA_FAMILY_SIZE, S_IRWXUGO, SOCK_STREAM, SOCKADDR_STORAGE_SIZE,
    SOL_SOCKET, SO_PASSCRED, UNIX_PATH_MAX)

#: The most sun_path bytes a sendto/sendmsg address can carry: the syscall
#: layer copies at most a sockaddr_storage in, sun_family included.
DEST_PATH_MAX = SOCKADDR_STORAGE_SIZE - SA_FAMILY_SIZE

#: How many abstract names autobind can hand out: five hex digits.
AUTOBIND_NAMES = 1 << 20


# ------------------------------------------------------------------ addresses
def addr_bytes(addr):
    """The sun_path bytes of an AF_UNIX address (str or bytes-like).
    TypeError for anything else."""
    if isinstance(addr, str):
        return os.fsencode(addr)
    if isinstance(addr, (bytes, bytearray, memoryview)):
        return bytes(addr)
    raise TypeError("a bytes-like object or str is required for an AF_UNIX address, "
                    "not '%s'" % type(addr).__name__)


def sockaddr(addr):
    """The sun_path bytes of a bind/connect address: EINVAL past sun_path."""
    raw = addr_bytes(addr)
    if len(raw) > UNIX_PATH_MAX:
        raise err(errno.EINVAL)
    return raw


def dest(addr):
    """A sendto/sendmsg destination as move_addr_to_kernel copies it in:
    None, or the sun_path bytes; EINVAL beyond a sockaddr_storage.  The
    AF_UNIX checks come later, where each socket type makes them."""
    if addr is None:
        return None
    raw = addr_bytes(addr)
    if len(raw) > DEST_PATH_MAX:
        raise err(errno.EINVAL)
    return raw


def decode_name(raw):
    """A stored name as the stdlib returns it: None (unnamed), bytes for
    an abstract name, str up to the first NUL for a filesystem name."""
    if raw is None:
        return None
    if raw[:1] == b"\0":
        return raw
    return os.fsdecode(raw.split(b"\0", 1)[0])


# -------------------------------------------------------------------- binding
def bind(proc, s, raw):
    """unix_bind for the sun_path bytes ``raw``: empty autobinds (nothing
    to do when already bound), a leading NUL takes an abstract name
    (EINVAL if bound, EADDRINUSE if taken), anything else makes an
    ``S_IFSOCK`` inode with the process's umask (the VFS's mknod errnos:
    EADDRINUSE if the path exists, ENOENT, EACCES...) and binds to it
    (EINVAL if the socket turns out bound: the node is removed again)."""
    k = proc.kernel
    if not raw:
        with k.lock:
            if not s.getname(False):
                autobind(k, s)
        return
    if raw[0] == 0:
        with k.lock:
            if s.getname(False):
                raise err(errno.EINVAL)
            key = (raw, s.type)
            if key in k.abstract:
                raise err(errno.EADDRINUSE)
            s.bind(raw)
            s.name_key = key
            k.abstract[key] = s
        return
    path = raw.split(b"\0", 1)[0]
    inode = k.vfs.mknod_socket(proc.cred, proc._cwd, path, S_IRWXUGO & ~proc.umask)
    with k.lock:
        if s.getname(False):
            # unix_bind_bsd makes the node before it finds the socket bound.
            try:
                k.vfs.unlink(proc.cred, proc._cwd, path)
            except OSError:
                pass
            raise err(errno.EINVAL)
        s.bind(path + b"\0")
        s.inode = inode
        inode.sock = s


def autobind_name(kernel, type_):
    """A free abstract name of five hex digits, as unix_autobind picks it:
    the next after the last one handed out.  ENOSPC when all are taken."""
    with kernel.lock:
        for _ in range(AUTOBIND_NAMES):
            kernel._autobind = (kernel._autobind + 1) % AUTOBIND_NAMES
            name = b"\0%05x" % kernel._autobind
            if (name, type_) not in kernel.abstract:
                return name
    raise err(errno.ENOSPC)


def autobind(kernel, s):
    """Bind ``s`` to a free abstract name.  The caller holds kernel.lock
    and has seen ``s`` unnamed."""
    name = autobind_name(kernel, s.type)
    s.bind(name)
    s.name_key = (name, s.type)
    kernel.abstract[s.name_key] = s


def maybe_autobind(kernel, s):
    """An unnamed socket with SO_PASSCRED autobinds on connect and send."""
    if s.getsockopt(SOL_SOCKET, SO_PASSCRED) and not s.getname(False):
        with kernel.lock:
            if not s.getname(False):
                autobind(kernel, s)


def passcred_autobind(proc, s, flags=0):
    """unix_dgram_sendmsg (datagram and seqpacket) autobinds a connected
    sender that has SO_PASSCRED and no name (after the ENOTCONN check and
    after MSG_OOB's EOPNOTSUPP, which leaves the socket unnamed)."""
    if (s.type == SOCK_STREAM or flags & MSG_OOB
            or not s.getsockopt(SOL_SOCKET, SO_PASSCRED)):
        return
    try:
        s.getname(True)
    except OSError:
        return                          # not connected: the send fails first
    maybe_autobind(proc.kernel, s)


def forget(kernel, sock):
    """A socket is gone: its inode and abstract name let go of it."""
    inode = sock.inode
    if inode is not None and getattr(inode, "sock", None) is sock:
        inode.sock = None
    sock.inode = None
    key = sock.name_key
    if key is not None:
        with kernel.lock:
            if kernel.abstract.get(key) is sock:
                del kernel.abstract[key]
        sock.name_key = None


# --------------------------------------------------------------------- lookup
def find_other(proc, raw, type_):
    """unix_find_other: the socket the name ``raw`` reaches.  An abstract
    name: ECONNREFUSED if unbound.  A path: the VFS's lookup errnos
    (ENOENT, EACCES without write permission...), ECONNREFUSED when it is
    not a socket or nothing is bound to it, EPROTOTYPE for another type."""
    k = proc.kernel
    if raw[0] == 0:
        other = k.abstract.get((raw, type_))
        if other is None:
            raise err(errno.ECONNREFUSED)
        return other
    path = raw.split(b"\0", 1)[0]
    inode = k.vfs.open_socket_inode(proc.cred, proc._cwd, path)
    other = inode.sock if stat.S_ISSOCK(inode.mode) else None
    if other is None:
        raise err(errno.ECONNREFUSED)
    if other.type != type_:
        raise err(errno.EPROTOTYPE)
    return other


def destination(proc, s, raw, flags=0):
    """A send's destination copied in by ``dest`` (``raw`` None: no
    address), as ``(target, resolve)`` for Socket.send/sendmsg.  A stream
    socket takes any name to the core, which says EISCONN/EOPNOTSUPP.  A
    datagram send checks MSG_OOB (EOPNOTSUPP) and the name (EINVAL, as
    unix_validate_addr) and autobinds here; the core then does the rest in
    unix_dgram_sendmsg's order and calls ``resolve`` (unix_find_other)
    after the copy."""
    if raw is None:
        return None, None
    if s.type == SOCK_STREAM:
        return s, None
    if flags & MSG_OOB:
        raise err(errno.EOPNOTSUPP)
    if not raw or len(raw) > UNIX_PATH_MAX:
        raise err(errno.EINVAL)
    maybe_autobind(proc.kernel, s)
    return None, lambda: find_other(proc, raw, s.type)
