"""AF_UNIX addresses as the syscalls copy them in (Linux's
move_addr_to_kernel) and give them back (unix_getname).

Binding, autobind and the lookup of the socket a name reaches are the C
core's (unix_bind, unix_autobind, unix_find_other in af_unix.c): the
abstract namespace is a table there, keyed by name and type; a filesystem
name is an ``S_IFSOCK`` inode of the VFS, which the core asks for through
its host ops (see ``_unix``).  Failures raise ``OSError`` with Linux's
errno.
"""
import errno
import os

from .args import err
from .constants import SA_FAMILY_SIZE, SOCKADDR_STORAGE_SIZE, UNIX_PATH_MAX

#: The most sun_path bytes a sendto/sendmsg address can carry: the syscall
#: layer copies at most a sockaddr_storage in, sun_family included.
DEST_PATH_MAX = SOCKADDR_STORAGE_SIZE - SA_FAMILY_SIZE


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
    if not raw:
        return ""               # unnamed: what accept gives for most peers
    if raw[:1] == b"\0":
        return raw
    return os.fsdecode(raw.split(b"\0", 1)[0])
