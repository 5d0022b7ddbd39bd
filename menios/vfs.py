"""An in-memory filesystem with Linux's namespace and permission rules.

This is the VFS behind AF_UNIX filesystem names: ``bind`` creates a socket
inode with :meth:`VFS.mknod_socket`, ``connect`` and ``sendto`` find one
with :meth:`VFS.open_socket_inode`, and the usual file calls (``mkdir``,
``unlink``, ``rename``, ``chmod``, ``open`` ...) let a test bench model a
multi-user machine.  Every path method takes ``(cred, cwd, path, ...)``:
the caller's :class:`~menios.cred.Cred`, its working directory (an
:class:`Inode`; ``None`` means ``/``) and a ``str`` or bytes-like path.

The path walk, the permission checks and the order in which errors are
found follow ``fs/namei.c``, so every call fails with the errno Linux
gives for the same layout.  Errors are raised as
``OSError(errno, os.strerror(errno))``.  Like tmpfs, the filesystem keeps
everything in memory and has no size limits.

Differences from Linux, *not to fix*: one filesystem, so no mounts, EXDEV,
EROFS or EBUSY for mount points; no ACLs, xattrs, file capabilities,
immutable/append-only flags, idmapped mounts or user namespaces.
*To fix*: device nodes can be made but no driver answers their open
(ENXIO); atime is only updated by ``read`` (relatime rules).
"""

import contextlib
import errno
import functools
import os
import stat
import threading
import time
from stat import (S_IFDIR, S_IFREG, S_IFLNK, S_IFSOCK, S_IFIFO, S_IFCHR, S_IFBLK,
                  S_ISUID, S_ISGID, S_ISVTX, S_ISDIR, S_ISREG, S_ISLNK,
                  S_ISFIFO)

from . import _unix
from .args import err
from .cred import _check_id

__all__ = ["VFS", "Inode", "OpenFile", "MAY_EXEC", "MAY_WRITE", "MAY_READ",
           "PATH_MAX", "NAME_MAX", "MAXSYMLINKS"]

MAY_EXEC = 1
MAY_WRITE = 2
MAY_READ = 4

PATH_MAX = 4096          # including the terminating NUL
NAME_MAX = 255
MAXSYMLINKS = 40

#: tmpfs counts this many bytes of directory size per entry.
BOGO_DIRENT_SIZE = 20

#: ``st_dev`` of a VFS unless another is given.
DEFAULT_DEV = 0x4D45

#: The ``fs.*`` sysctls the VFS obeys, with the kernel's built-in defaults
#: (distributions usually set them to 1, 1, 2, 1 at boot).
SYSCTL_DEFAULTS = {
    "fs.protected_symlinks": 0,
    "fs.protected_hardlinks": 0,
    "fs.protected_regular": 0,
    "fs.protected_fifos": 0,
}

S_IFMT = 0o170000         # stat.S_IFMT is a function
_S_IALLUGO = 0o7777
_S_IXUGO = 0o111
_SEEK_DATA = getattr(os, "SEEK_DATA", 3)
_SEEK_HOLE = getattr(os, "SEEK_HOLE", 4)


def _fsencode(path):
    """Return *path* (str, bytes-like or path-like) as bytes.

    TypeError for anything else, ValueError for an embedded NUL, as the
    stdlib's ``os`` functions do.
    """
    if isinstance(path, str):
        path = os.fsencode(path)
    elif isinstance(path, (bytes, bytearray, memoryview)):
        path = bytes(path)
    else:
        path = os.fspath(path)
        path = os.fsencode(path) if isinstance(path, str) else bytes(path)
    if b"\0" in path:
        raise ValueError("embedded null byte")
    return path


def _getname(path):
    """Return *path* as bytes as ``getname()`` copies it in.

    ENAMETOOLONG when it does not fit in PATH_MAX with its NUL, ENOENT
    when empty.
    """
    name = _fsencode(path)
    if len(name) >= PATH_MAX:
        raise err(errno.ENAMETOOLONG)
    if not name:
        raise err(errno.ENOENT)
    return name


def _split(name):
    """Split a path into (absolute, components, trailing_slash)."""
    comps = [c for c in name.split(b"/") if c]
    return name.startswith(b"/"), comps, bool(comps) and name.endswith(b"/")


def _locked(method):
    """Run a VFS method holding the VFS's lock."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)
    return wrapper


class Inode:
    """An inode: type and permission bits in ``mode``, owner, links, times.

    A directory has ``children`` (name bytes -> Inode, in creation order),
    ``parent`` and its own ``name`` in the parent; ``dead`` is set once it
    has been removed.  A regular file has ``data``, its pages
    (``_unix.PageCache``: splice and sendfile share them), a symlink
    ``target`` (bytes), a socket ``sock``: the bound socket object, set and
    cleared by the socket layer and never interpreted here.
    """

    def __init__(self, ino, mode, uid, gid):
        self.ino = ino
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.nlink = 0
        self.rdev = 0
        self.atime = self.mtime = self.ctime = time.time()
        self.children = None
        self.parent = None
        self.name = None
        self.dead = False
        self.data = None
        self.target = None
        self.sock = None
        self.fifo = None                # a FIFO's pipe while files are open on it
        self.fifo_files = 0             # those files, and opens waiting (pipe->files)
        self.dev = DEFAULT_DEV
        kind = mode & S_IFMT
        if kind == S_IFDIR:
            self.children = {}
        elif kind == S_IFREG:
            self.data = _unix.PageCache()
        elif kind == S_IFLNK:
            self.target = b""

    @property
    def size(self):
        """``st_size``: bytes of data, of link target, or tmpfs's dir size."""
        kind = self.mode & S_IFMT
        if kind == S_IFREG:
            return len(self.data)
        if kind == S_IFLNK:
            return len(self.target)
        if kind == S_IFDIR:
            return 0 if self.dead else (
                (2 + len(self.children)) * BOGO_DIRENT_SIZE)
        return 0

    @property
    def blocks(self):
        """``st_blocks``: 512-byte units, whole 4096-byte pages of data."""
        if self.data is None:
            return 0
        return (len(self.data) + 4095) // 4096 * 8

    def isdir(self):
        return S_ISDIR(self.mode)

    def touch(self, now=None, m=True, c=True):
        """Set mtime and/or ctime to *now* (default: the current time)."""
        if now is None:
            now = time.time()
        if m:
            self.mtime = now
        if c:
            self.ctime = now

    def stat_result(self):
        """Return the inode's attributes as an ``os.stat_result``."""
        def ns(t):
            return int(round(t * 1e9))
        return os.stat_result(
            (self.mode, self.ino, self.dev, self.nlink, self.uid, self.gid,
             self.size, int(self.atime), int(self.mtime), int(self.ctime)),
            {"st_atime": self.atime, "st_mtime": self.mtime,
             "st_ctime": self.ctime, "st_atime_ns": ns(self.atime),
             "st_mtime_ns": ns(self.mtime), "st_ctime_ns": ns(self.ctime),
             "st_blksize": 4096, "st_blocks": self.blocks,
             "st_rdev": self.rdev})

    def __repr__(self):
        return "<Inode %d %s %o %d:%d nlink=%d>" % (
            self.ino, stat.filemode(self.mode), self.mode & _S_IALLUGO,
            self.uid, self.gid, self.nlink)


class OpenFile:
    """An open file description: ``inode``, ``flags``, ``pos``.

    ``flags`` keeps the access mode, ``O_APPEND`` and ``O_NONBLOCK``.
    """

    def __init__(self, inode, flags, lock=None):
        self.inode = inode
        self.flags = flags & (os.O_ACCMODE | os.O_APPEND | os.O_NONBLOCK)
        self.pos = 0
        self._lock = lock if lock is not None else contextlib.nullcontext()

    def readable(self):
        return self.flags & os.O_ACCMODE in (os.O_RDONLY, os.O_RDWR)

    def writable(self):
        return self.flags & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR)

    def read(self, n):
        """Read up to *n* bytes at the file position; EBADF, EISDIR."""
        with self._lock:
            return self._read(n)

    def _read(self, n):
        if n < 0:
            raise ValueError("negative count")
        if not self.readable():
            raise err(errno.EBADF)
        inode = self.inode
        if inode.isdir():
            raise err(errno.EISDIR)
        if inode.data is None:
            raise err(errno.EINVAL)
        data = inode.data.read(self.pos, n)
        self.pos += len(data)
        now = time.time()
        if (inode.atime <= inode.mtime or inode.atime <= inode.ctime
                or now - inode.atime >= 24 * 3600):
            inode.atime = now       # relatime
        return data

    def write(self, data, cred=None):
        """Write *data* at the file position (the end with O_APPEND).

        Returns the count written; EBADF when not open for writing.  With
        *cred* (the writer's), a writer without CAP_FSETID clears the file's
        setuid bit and its setgid bit when group-executable, as Linux does.
        """
        with self._lock:
            return self._write(data, cred)

    def _write(self, data, cred):
        data = memoryview(data).cast("B")
        if not self.writable():
            raise err(errno.EBADF)
        inode = self.inode
        if inode.data is None:
            raise err(errno.EINVAL)
        if not len(data):
            return 0
        if self.flags & os.O_APPEND:
            self.pos = len(inode.data)
        self.pos += inode.data.write(self.pos, data)
        self._written(cred)
        return len(data)

    def _written(self, cred):
        """After a write: file_remove_privs for *cred*, then the times."""
        inode = self.inode
        if cred is not None and not cred.capable("CAP_FSETID"):
            inode.mode &= ~_kill_bits(inode.mode)
        inode.touch()

    def lseek(self, offset, whence=os.SEEK_SET):
        """Move the file position; return it.  EINVAL for a bad *whence* or
        a negative result, ENXIO for SEEK_DATA/SEEK_HOLE past the end."""
        with self._lock:
            return self._lseek(offset, whence)

    def _lseek(self, offset, whence):
        size = self.inode.size
        if whence == os.SEEK_SET:
            new = offset
        elif whence == os.SEEK_CUR:
            new = self.pos + offset
        elif whence == os.SEEK_END:
            new = size + offset
        elif whence in (_SEEK_DATA, _SEEK_HOLE):
            if offset < 0 or offset >= size:
                raise err(errno.ENXIO)
            new = offset if whence == _SEEK_DATA else size
        else:
            raise err(errno.EINVAL)
        if new < 0:
            raise err(errno.EINVAL)
        self.pos = new
        return new

    def fstat(self):
        """Return the inode's ``os.stat_result``."""
        return self.inode.stat_result()

    def release(self):
        """Called when the last reference is closed; a no-op for files."""


def _kill_bits(mode):
    """The bits a write or truncate clears: setuid, and setgid with g+x."""
    if not S_ISREG(mode):
        return 0
    kill = mode & S_ISUID
    if mode & S_ISGID and mode & stat.S_IXGRP:
        kill |= S_ISGID
    return kill


class _Nameidata:
    """State of one path resolution: who walks, links followed so far, and
    the directory that holds the last component reached."""

    __slots__ = ("cred", "links", "dir")

    def __init__(self, cred):
        self.cred = cred
        self.links = 0
        self.dir = None


class VFS:
    """An in-memory filesystem with ``/``, ``/dev`` (0755) and ``/tmp`` (1777).

    *sysctl* may set ``fs.protected_symlinks``, ``fs.protected_hardlinks``,
    ``fs.protected_regular`` and ``fs.protected_fifos`` (other keys are
    ignored, so a kernel's whole sysctl dict can be passed).
    """

    def __init__(self, sysctl=None, dev=DEFAULT_DEV):
        self.sysctl = dict(SYSCTL_DEFAULTS)
        for key, value in (sysctl or {}).items():
            if key in self.sysctl:
                self.sysctl[key] = int(value)
        self.dev = dev
        self.lock = threading.RLock()
        self._last_ino = 0
        root = self._new_inode(S_IFDIR | 0o755, 0, 0)
        root.parent = root
        root.name = b"/"
        root.nlink = 2
        self.root = root
        for name, mode in ((b"dev", 0o755), (b"tmp", 0o1777)):
            child = self._new_inode(S_IFDIR | mode, 0, 0)
            self._attach(root, name, child)

    # -- inodes ----------------------------------------------------------

    def _new_inode(self, mode, uid, gid):
        self._last_ino += 1
        inode = Inode(self._last_ino, mode, uid, gid)
        inode.dev = self.dev
        return inode

    def _attach(self, dir, name, inode):
        """Link *inode* into *dir* as *name* and account for it."""
        dir.children[name] = inode
        inode.nlink += 1
        if inode.isdir():
            inode.nlink += 1            # its "."
            dir.nlink += 1              # its ".."
            inode.parent = dir
            inode.name = name
        dir.touch()

    def _detach(self, dir, name):
        """Remove *name* from *dir*; a directory removed becomes dead."""
        inode = dir.children.pop(name)
        if inode.isdir():
            inode.nlink = 0
            inode.dead = True
            dir.nlink -= 1
        else:
            inode.nlink -= 1
        now = time.time()
        inode.touch(now, m=False)
        dir.touch(now)
        return inode

    def _create(self, cred, dir, name, mode, umask=0):
        """Create an inode of *mode* (type included) owned by *cred* in *dir*.

        The gid and S_ISGID follow Linux's mode_strip_sgid(), which looks
        at the mode before the *umask* is applied, and inode_init_owner().
        """
        if dir.mode & S_ISGID:
            gid = dir.gid
            if S_ISDIR(mode):
                mode |= S_ISGID
            elif ((mode & (S_ISGID | stat.S_IXGRP)) == (S_ISGID | stat.S_IXGRP)
                  and not self._in_group_or_capable(cred, dir.gid)):
                mode &= ~S_ISGID
        else:
            gid = cred.fsgid
        mode &= ~(umask & 0o777)
        inode = self._new_inode(mode, cred.fsuid, gid)
        self._attach(dir, name, inode)
        return inode

    # -- permissions -----------------------------------------------------

    def may(self, cred, inode, mask):
        """True when *cred* has the MAY_* rights *mask* on *inode*."""
        mode = inode.mode
        mask &= MAY_READ | MAY_WRITE | MAY_EXEC
        if cred.fsuid == inode.uid:
            allowed = mode >> 6
        elif cred.in_group_p(inode.gid):
            allowed = mode >> 3
        else:
            allowed = mode
        if not mask & ~allowed & 7:
            return True
        if S_ISDIR(mode):
            if not mask & MAY_WRITE and cred.capable("CAP_DAC_READ_SEARCH"):
                return True
            return cred.capable("CAP_DAC_OVERRIDE")
        if mask == MAY_READ and cred.capable("CAP_DAC_READ_SEARCH"):
            return True
        if not mask & MAY_EXEC or mode & _S_IXUGO:
            return cred.capable("CAP_DAC_OVERRIDE")
        return False

    def permission(self, cred, inode, mask):
        """Check the MAY_* rights *mask* (R=4 W=2 X=1) on *inode*; EACCES.

        Owner, group (fsgid or supplementary) or other bits by fsuid/fsgid;
        root overrides read and write always, search on a directory always,
        and execute on anything else when some x bit is set.
        """
        if not self.may(cred, inode, mask):
            raise err(errno.EACCES)

    @staticmethod
    def _owner_or_capable(cred, inode):
        return cred.fsuid == inode.uid or cred.capable("CAP_FOWNER")

    @staticmethod
    def _in_group_or_capable(cred, gid):
        return cred.in_group_p(gid) or cred.capable("CAP_FSETID")

    def _may_create(self, cred, dir):
        if dir.dead:
            raise err(errno.ENOENT)
        self.permission(cred, dir, MAY_WRITE | MAY_EXEC)

    def _may_delete(self, cred, dir, victim, isdir):
        """may_delete(): EACCES, EPERM (sticky), ENOTDIR, EISDIR, ENOENT."""
        self.permission(cred, dir, MAY_WRITE | MAY_EXEC)
        if (dir.mode & S_ISVTX and cred.fsuid != victim.uid
                and cred.fsuid != dir.uid and not cred.capable("CAP_FOWNER")):
            raise err(errno.EPERM)
        if isdir:
            if not victim.isdir():
                raise err(errno.ENOTDIR)
        elif victim.isdir():
            raise err(errno.EISDIR)
        if dir.dead:
            raise err(errno.ENOENT)

    def _may_follow_link(self, nd, link):
        """fs.protected_symlinks: EACCES following another user's link in
        a sticky world-writable directory not owned by the link's owner."""
        if not self.sysctl["fs.protected_symlinks"]:
            return
        if link.uid == nd.cred.fsuid:
            return
        dir = nd.dir
        if dir.mode & (S_ISVTX | stat.S_IWOTH) != S_ISVTX | stat.S_IWOTH:
            return
        if dir.uid == link.uid:
            return
        raise err(errno.EACCES)

    def _may_linkat(self, cred, inode):
        """fs.protected_hardlinks: EPERM linking another's unsafe file."""
        if not self.sysctl["fs.protected_hardlinks"]:
            return
        if self._owner_or_capable(cred, inode):
            return
        mode = inode.mode
        if (S_ISREG(mode) and not mode & S_ISUID
                and (mode & (S_ISGID | stat.S_IXGRP))
                != (S_ISGID | stat.S_IXGRP)
                and self.may(cred, inode, MAY_READ | MAY_WRITE)):
            return
        raise err(errno.EPERM)

    def _may_create_in_sticky(self, nd, inode):
        """fs.protected_regular/fifos: EACCES for O_CREAT of an existing
        file another user owns in a sticky directory."""
        dir, mode = nd.dir, inode.mode
        if not dir.mode & S_ISVTX:
            return
        if S_ISREG(mode) and not self.sysctl["fs.protected_regular"]:
            return
        if S_ISFIFO(mode) and not self.sysctl["fs.protected_fifos"]:
            return
        if inode.uid == dir.uid or inode.uid == nd.cred.fsuid:
            return
        if dir.mode & stat.S_IWOTH:
            raise err(errno.EACCES)
        if dir.mode & stat.S_IWGRP:
            if S_ISFIFO(mode) and self.sysctl["fs.protected_fifos"] >= 2:
                raise err(errno.EACCES)
            if S_ISREG(mode) and self.sysctl["fs.protected_regular"] >= 2:
                raise err(errno.EACCES)

    # -- path walk -------------------------------------------------------

    def _component(self, dir, comp):
        """Look *comp* up in *dir*; None when absent.  ENAMETOOLONG."""
        if comp == b".":
            return dir
        if comp == b"..":
            return dir if dir is self.root else dir.parent
        if len(comp) > NAME_MAX:
            raise err(errno.ENAMETOOLONG)
        return dir.children.get(comp)

    def _parentat(self, nd, start, name):
        """Walk all but the last component of *name* from *start*.

        Returns ``(dir, last, trailing_slash)``; *last* is None for "/".
        Search permission is checked on every directory, including the
        one holding the last component.
        """
        absolute, comps, trailing = _split(name)
        dir = self.root if absolute or start is None else start
        if not comps:
            nd.dir = dir
            return dir, None, False
        for comp in comps[:-1]:
            self.permission(nd.cred, dir, MAY_EXEC)
            inode = self._component(dir, comp)
            if inode is None:
                raise err(errno.ENOENT)
            if S_ISLNK(inode.mode):
                nd.dir = dir
                inode = self._follow(nd, dir, inode, trailing=False)
            if not inode.isdir():
                raise err(errno.ENOTDIR)
            dir = inode
        self.permission(nd.cred, dir, MAY_EXEC)
        nd.dir = dir
        return dir, comps[-1], trailing

    def _follow(self, nd, dir, link, trailing):
        """Resolve the symlink *link* found in *dir*; ELOOP past 40 links."""
        if nd.links >= MAXSYMLINKS:
            raise err(errno.ELOOP)
        nd.links += 1
        if trailing:
            self._may_follow_link(nd, link)
        link.atime = time.time()
        return self._resolve(nd, dir, link.target, True, trailing)

    def _resolve(self, nd, start, name, follow, final=True):
        """Return the inode *name* names (a final symlink followed if
        *follow* or if the name ends in a slash, which also demands a
        directory).  *final* is false while resolving a symlink met in
        the middle of a path: only trailing symlinks are subject to
        fs.protected_symlinks."""
        if not name:
            raise err(errno.ENOENT)
        dir, last, trailing = self._parentat(nd, start, name)
        return self._last(nd, dir, last, trailing, follow, final)

    def _last(self, nd, dir, last, trailing, follow, final=True):
        if last is None:
            return dir
        inode = self._component(dir, last)
        if inode is None:
            raise err(errno.ENOENT)
        if S_ISLNK(inode.mode) and (follow or trailing):
            inode = self._follow(nd, dir, inode, trailing=final)
        if trailing and not inode.isdir():
            raise err(errno.ENOTDIR)
        return inode

    def _create_at(self, nd, cwd, name, want_dir):
        """filename_create(): walk to the parent of a name to be created.

        EEXIST if anything (a dangling symlink too) has the name or it is
        ".", ".." or "/"; ENOENT for a non-directory name with a trailing
        slash.  Returns ``(dir, last)``.
        """
        dir, last, trailing = self._parentat(nd, cwd, name)
        if last is None or last in (b".", b".."):
            raise err(errno.EEXIST)
        if self._component(dir, last) is not None:
            raise err(errno.EEXIST)
        if trailing and not want_dir:
            raise err(errno.ENOENT)
        return dir, last

    # -- lookups ---------------------------------------------------------

    @_locked
    def lookup(self, cred, cwd, path, follow=True):
        """Return the inode *path* names.

        ENOENT, ENOTDIR, EACCES (search), ENAMETOOLONG, ELOOP.  A final
        symlink is followed when *follow* or when the path ends in "/".
        """
        return self._resolve(_Nameidata(cred), cwd, _getname(path), follow)

    @_locked
    def lookup_dir(self, cred, cwd, path):
        """Return the directory *path* names, for ``chdir``.

        ENOTDIR if it is not one, EACCES without search permission on it,
        and the errors of :meth:`lookup`.
        """
        inode = self.lookup(cred, cwd, path)
        if not inode.isdir():
            raise err(errno.ENOTDIR)
        self.permission(cred, inode, MAY_EXEC)
        return inode

    @_locked
    def path_of(self, inode):
        """Return the absolute path of directory *inode*, for ``getcwd``.

        ENOENT once the directory has been removed.
        """
        parts = []
        node = inode
        while node is not self.root:
            if node.dead or not node.isdir():
                raise err(errno.ENOENT)
            parts.append(node.name)
            node = node.parent
        return os.fsdecode(b"/" + b"/".join(reversed(parts)))

    def stat(self, cred, cwd, path, follow=True):
        """Return the ``os.stat_result`` of *path*; errors of :meth:`lookup`."""
        return self.lookup(cred, cwd, path, follow).stat_result()

    def lstat(self, cred, cwd, path):
        """:meth:`stat` without following a final symlink."""
        return self.stat(cred, cwd, path, follow=False)

    @_locked
    def access(self, cred, cwd, path, mode):
        """Check *mode* (F_OK or R_OK|W_OK|X_OK) with the *real* ids.

        EINVAL for other bits, EACCES, and the errors of :meth:`lookup`.
        """
        if mode & ~7:
            raise err(errno.EINVAL)
        real = cred.access_cred()
        inode = self.lookup(real, cwd, path)
        if mode:
            self.permission(real, inode, mode)

    @_locked
    def listdir(self, cred, cwd, path="."):
        """Return the names in directory *path* (str, or bytes for a bytes
        path), in creation order.  ENOTDIR, EACCES (read), lookup errors."""
        inode = self.lookup(cred, cwd, path)
        if not inode.isdir():
            raise err(errno.ENOTDIR)
        self.permission(cred, inode, MAY_READ)
        names = list(inode.children)
        if isinstance(path, (bytes, bytearray, memoryview)):
            return names
        return [os.fsdecode(n) for n in names]

    @_locked
    def readlink(self, cred, cwd, path):
        """Return a symlink's target (bytes for a bytes path).

        EINVAL when *path* is not a symlink; the errors of :meth:`lookup`.
        """
        inode = self.lookup(cred, cwd, path, follow=False)
        if not S_ISLNK(inode.mode):
            raise err(errno.EINVAL)
        if isinstance(path, (bytes, bytearray, memoryview)):
            return bytes(inode.target)
        return os.fsdecode(inode.target)

    # -- creating and removing names -------------------------------------

    @_locked
    def mkdir(self, cred, cwd, path, mode=0o777, umask=0o022):
        """Create a directory with ``mode & ~umask & 01777``; return it.

        EEXIST, EACCES (write and search on the parent), ENOENT, ENOTDIR.
        A setgid parent passes on its group and S_ISGID.
        """
        nd = _Nameidata(cred)
        dir, last = self._create_at(nd, cwd, _getname(path), want_dir=True)
        self._may_create(cred, dir)
        return self._create(cred, dir, last,
                            S_IFDIR | (mode & ~umask & 0o1777))

    @_locked
    def mknod_socket(self, cred, cwd, path, mode):
        """Create the socket inode ``bind`` needs; return it.

        *mode* is the permission part, already masked by the caller's
        umask.  EADDRINUSE when anything, even a dangling symlink, exists
        at the name; EACCES without write and search on the parent;
        ENOENT, ENOTDIR for a bad parent.
        """
        nd = _Nameidata(cred)
        name = _getname(path)
        try:
            dir, last = self._create_at(nd, cwd, name, want_dir=False)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                raise err(errno.EADDRINUSE) from None
            raise
        self._may_create(cred, dir)
        return self._create(cred, dir, last, S_IFSOCK | (mode & _S_IALLUGO))

    @_locked
    def mknod(self, cred, cwd, path, mode, dev=0, umask=0o022):
        """mknod(2): create a FIFO, regular file, socket or device inode;
        return it.  Checked as do_mknodat/vfs_mknod: EPERM for a directory
        type, EINVAL for an unknown one (both before the walk); then
        EEXIST, ENOENT, ENOTDIR, EACCES (write and search on the parent);
        EPERM for a device node without CAP_MKNOD (a 0:0 character device,
        a whiteout, excepted).  A type of 0 means a
        regular file; the permission bits are masked by *umask*."""
        kind = mode & S_IFMT
        if kind == 0:
            mode |= S_IFREG
        elif kind == S_IFDIR:
            raise err(errno.EPERM)
        elif kind not in (S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK):
            raise err(errno.EINVAL)
        nd = _Nameidata(cred)
        dir, last = self._create_at(nd, cwd, _getname(path), want_dir=False)
        self._may_create(cred, dir)
        whiteout = kind == S_IFCHR and dev == 0     # overlayfs's 0:0 whiteout
        if kind in (S_IFCHR, S_IFBLK) and not whiteout and not cred.capable("CAP_MKNOD"):
            raise err(errno.EPERM)
        inode = self._create(cred, dir, last, mode & (S_IFMT | _S_IALLUGO), umask)
        if kind in (S_IFCHR, S_IFBLK):
            inode.rdev = dev
        return inode

    def open_socket_inode(self, cred, cwd, path):
        """Return the inode ``connect``/``sendto`` reach at *path*.

        Symlinks are followed; EACCES without write permission on the
        inode (or search on the way), ENOENT, ENOTDIR, ELOOP.  The inode
        may be of any type: the caller refuses a non-socket.
        """
        with self.lock:
            inode = self._walk_plain(cred, cwd, path, MAY_WRITE)
            if inode is None:
                inode = self._resolve(_Nameidata(cred), cwd, _getname(path), True)
                self.permission(cred, inode, MAY_WRITE)
            return inode

    def _walk_plain(self, cred, cwd, name, mask):
        """The common walk, in one pass: the inode the bytes path *name*
        reaches when it is made of existing directories' names and ends in
        an existing name that is not a symlink, with search permission on
        every directory and *mask* on the inode.  None for anything else
        (".", "..", a symlink, a missing name, a trailing slash, a denied
        check): the caller then walks with ``_resolve``, which finds the
        errno in Linux's order.  The checks made here are _resolve's, in
        its order, with no side effects, so a walk cut short and redone
        gives the same answer."""
        if type(name) is not bytes or len(name) >= PATH_MAX:
            return None
        comps = name.split(b"/")
        last = comps.pop()
        if not last:
            return None             # empty, or a trailing slash
        dir = self.root if name[0] == 0x2f or cwd is None else cwd
        may = self.may
        for comp in comps:
            if not comp:
                continue
            if not may(cred, dir, MAY_EXEC):
                return None
            inode = dir.children.get(comp)      # never ".", ".." nor too long
            if inode is None or not S_ISDIR(inode.mode):
                return None
            dir = inode
        if not may(cred, dir, MAY_EXEC):
            return None
        inode = dir.children.get(last)
        if inode is None or S_ISLNK(inode.mode) or not may(cred, inode, mask):
            return None
        return inode

    @_locked
    def symlink(self, cred, cwd, target, path):
        """Create a symlink *path* -> *target*; return it.

        ENOENT for an empty target, EEXIST, EACCES, ENOENT, ENOTDIR.
        """
        body = _fsencode(target)
        if len(body) >= PATH_MAX:
            raise err(errno.ENAMETOOLONG)
        if not body:
            raise err(errno.ENOENT)
        nd = _Nameidata(cred)
        dir, last = self._create_at(nd, cwd, _getname(path), want_dir=False)
        self._may_create(cred, dir)
        inode = self._create(cred, dir, last, S_IFLNK | 0o777)
        inode.target = body
        return inode

    @_locked
    def link(self, cred, cwd, old, new, follow=False):
        """Give the inode *old* names the new name *new* (``link(2)``).

        *old* is not followed if a symlink unless *follow* (``linkat``'s
        AT_SYMLINK_FOLLOW).  EEXIST, EPERM for a directory (and under
        fs.protected_hardlinks for a file one may not link), EACCES, ENOENT.
        """
        oldname, newname = _getname(old), _getname(new)
        inode = self._resolve(_Nameidata(cred), cwd, oldname, follow)
        dir, last = self._create_at(_Nameidata(cred), cwd, newname,
                                    want_dir=False)
        self._may_linkat(cred, inode)
        self._may_create(cred, dir)
        if inode.isdir():
            raise err(errno.EPERM)
        if inode.nlink == 0:
            raise err(errno.ENOENT)
        self._attach(dir, last, inode)
        inode.touch(m=False)
        return inode

    @_locked
    def unlink(self, cred, cwd, path):
        """Remove the name *path* of a non-directory; return its inode.

        EISDIR for a directory, EPERM in a sticky directory unless owner of
        the file or the directory or CAP_FOWNER, EACCES, ENOENT, ENOTDIR.
        The inode lives on while referenced (a bound socket keeps working).
        """
        nd = _Nameidata(cred)
        dir, last, trailing = self._parentat(nd, cwd, _getname(path))
        if last is None or last in (b".", b".."):
            raise err(errno.EISDIR)
        victim = self._component(dir, last)
        if victim is None:
            raise err(errno.ENOENT)
        if trailing:
            raise err(errno.EISDIR if victim.isdir() else errno.ENOTDIR)
        self._may_delete(cred, dir, victim, isdir=False)
        return self._detach(dir, last)

    @_locked
    def rmdir(self, cred, cwd, path):
        """Remove the empty directory *path*.

        ENOTEMPTY (also for ".."), EINVAL for ".", EBUSY for "/", ENOTDIR,
        EPERM (sticky), EACCES, ENOENT.
        """
        nd = _Nameidata(cred)
        dir, last, trailing = self._parentat(nd, cwd, _getname(path))
        if last is None:
            raise err(errno.EBUSY)
        if last == b".":
            raise err(errno.EINVAL)
        if last == b"..":
            raise err(errno.ENOTEMPTY)
        victim = self._component(dir, last)
        if victim is None:
            raise err(errno.ENOENT)
        self._may_delete(cred, dir, victim, isdir=True)
        if victim.children:
            raise err(errno.ENOTEMPTY)
        self._detach(dir, last)

    @_locked
    def rename(self, cred, cwd, old, new):
        """Rename *old* to *new*, replacing what *new* names.

        EBUSY for ".", ".." or "/", ENOENT, ENOTDIR/EISDIR for a directory
        against a non-directory, ENOTEMPTY for a non-empty target directory
        (or one that contains the source), EINVAL for moving a directory
        into itself, EPERM (sticky), EACCES.  Renaming a name onto another
        name of the same inode does nothing.
        """
        oldname, newname = _getname(old), _getname(new)
        odir, olast, otrail = self._parentat(_Nameidata(cred), cwd, oldname)
        ndir, nlast, ntrail = self._parentat(_Nameidata(cred), cwd, newname)
        if olast in (None, b".", b"..") or nlast in (None, b".", b".."):
            raise err(errno.EBUSY)
        source = self._component(odir, olast)
        if source is None:
            raise err(errno.ENOENT)
        target = self._component(ndir, nlast)
        is_dir = source.isdir()
        if not is_dir and (otrail or ntrail):
            raise err(errno.ENOTDIR)
        if odir is not ndir:
            if is_dir and self._is_ancestor(source, ndir):
                raise err(errno.EINVAL)
            if target is not None and target.isdir() and \
                    self._is_ancestor(target, odir):
                raise err(errno.ENOTEMPTY)
        if source is target:
            return
        self._may_delete(cred, odir, source, is_dir)
        if target is None:
            self._may_create(cred, ndir)
        else:
            self._may_delete(cred, ndir, target, is_dir)
        if odir is not ndir and is_dir:
            self.permission(cred, source, MAY_WRITE)
        if target is not None and target.children:
            raise err(errno.ENOTEMPTY)
        now = time.time()
        if target is not None:
            self._detach(ndir, nlast)
        del odir.children[olast]
        source.nlink -= 1
        if is_dir:
            odir.nlink -= 1
        self._attach(ndir, nlast, source)
        if is_dir:
            source.nlink -= 1         # _attach counted its "." again
        source.touch(now, m=False)
        odir.touch(now)
        ndir.touch(now)

    def _is_ancestor(self, node, dir):
        """True when directory *node* is *dir* or one of its ancestors."""
        while True:
            if dir is node:
                return True
            if dir is self.root:
                return False
            dir = dir.parent

    # -- attributes ------------------------------------------------------

    def chmod(self, cred, cwd, path, mode, follow=True):
        """Set the permission bits of *path* to ``mode & 07777``.

        EPERM unless owner or CAP_FOWNER; a caller not in the file's group
        and without CAP_FSETID has S_ISGID silently cleared.  EOPNOTSUPP on
        a symlink when not following.  The errors of :meth:`lookup`.
        """
        self.chmod_inode(cred, self.lookup(cred, cwd, path, follow), mode)

    @_locked
    def chmod_inode(self, cred, inode, mode):
        """``fchmod``: :meth:`chmod` on an inode."""
        if S_ISLNK(inode.mode):
            raise err(errno.EOPNOTSUPP)
        if not self._owner_or_capable(cred, inode):
            raise err(errno.EPERM)
        mode = (mode & _S_IALLUGO) | (inode.mode & S_IFMT)
        if not self._in_group_or_capable(cred, inode.gid):
            mode &= ~S_ISGID
        inode.mode = mode
        inode.touch(m=False)

    def chown(self, cred, cwd, path, uid, gid, follow=True):
        """Change the owner and group of *path*; -1 leaves one unchanged.

        Only CAP_CHOWN changes the owner; the owner may change the group
        to one it is in.  On a non-directory the setuid bit is cleared, and
        the setgid bit when group-executable (or when the caller is not in
        the group).  EPERM; the errors of :meth:`lookup`.
        """
        self.chown_inode(cred, self.lookup(cred, cwd, path, follow), uid, gid)

    @_locked
    def chown_inode(self, cred, inode, uid, gid):
        """``fchown``: :meth:`chown` on an inode."""
        uid, gid = _check_id(uid), _check_id(gid)
        new_mode = None
        if not inode.isdir():
            mode = inode.mode
            if mode & S_ISUID:
                new_mode = mode & ~S_ISUID
            if mode & S_ISGID and (
                    mode & stat.S_IXGRP
                    or not self._in_group_or_capable(cred, inode.gid)):
                new_mode = (mode if new_mode is None else new_mode) & ~S_ISGID
        if uid != -1 and not (
                (cred.fsuid == inode.uid and uid == inode.uid)
                or cred.capable("CAP_CHOWN")):
            raise err(errno.EPERM)
        if gid != -1 and not (
                (cred.fsuid == inode.uid
                 and (gid == inode.gid or cred.in_group_p(gid)))
                or cred.capable("CAP_CHOWN")):
            raise err(errno.EPERM)
        if new_mode is not None:
            if not self._owner_or_capable(cred, inode):
                raise err(errno.EPERM)
            if not self._in_group_or_capable(
                    cred, gid if gid != -1 else inode.gid):
                new_mode &= ~S_ISGID
            inode.mode = new_mode
        if uid != -1:
            inode.uid = uid
        if gid != -1:
            inode.gid = gid
        inode.touch(m=False)

    # -- regular files ---------------------------------------------------

    @_locked
    def open(self, cred, cwd, path, flags=os.O_RDONLY, mode=0o666,
             umask=0o022):
        """Open (and with O_CREAT maybe create) *path*; return an OpenFile.

        Honours O_CREAT, O_EXCL (which also refuses a symlink: EEXIST),
        O_TRUNC, O_APPEND, O_DIRECTORY (ENOTDIR), O_NOFOLLOW (ELOOP on a
        symlink) and the access mode.  EINVAL for O_CREAT|O_DIRECTORY,
        EISDIR for a directory opened for writing or with O_CREAT, ENXIO
        for a socket or device node, EACCES, ENOENT.  A FIFO opens like a
        file here; the caller turns it into its pipe (fifo_open).
        O_CLOEXEC is the caller's business.
        """
        if flags & os.O_CREAT and flags & os.O_DIRECTORY:
            raise err(errno.EINVAL)
        name = _getname(path)
        acc = (MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE,
               MAY_READ | MAY_WRITE)[flags & os.O_ACCMODE]
        if flags & os.O_TRUNC:
            acc |= MAY_WRITE
        creat = bool(flags & os.O_CREAT)
        excl = creat and bool(flags & os.O_EXCL)
        follow = not (flags & os.O_NOFOLLOW or excl)
        directory = bool(flags & os.O_DIRECTORY)
        nd = _Nameidata(cred)
        dir, last, trailing = self._parentat(nd, cwd, name)
        created = False
        while True:
            if last is None or last in (b".", b".."):
                inode = self._component(dir, last) if last else dir
                break
            if creat:
                if trailing:
                    raise err(errno.EISDIR)
                if dir.dead:
                    raise err(errno.ENOENT)
                inode = self._component(dir, last)
                if inode is None:
                    self.permission(cred, dir, MAY_WRITE | MAY_EXEC)
                    inode = self._create(cred, dir, last,
                                         S_IFREG | (mode & _S_IALLUGO), umask)
                    created = True
                    break
            else:
                directory |= trailing
                inode = self._component(dir, last)
                if inode is None:
                    raise err(errno.ENOENT)
            nd.dir = dir
            if not (S_ISLNK(inode.mode) and (follow or trailing)):
                break
            if nd.links >= MAXSYMLINKS:
                raise err(errno.ELOOP)
            nd.links += 1
            self._may_follow_link(nd, inode)
            dir, last, trailing = self._parentat(nd, dir, inode.target)
        if creat:
            if excl and not created:
                raise err(errno.EEXIST)
            if inode.isdir():
                raise err(errno.EISDIR)
            if not created:
                self._may_create_in_sticky(nd, inode)
        if directory and not inode.isdir():
            raise err(errno.ENOTDIR)
        if created:
            acc = 0
        kind = inode.mode & S_IFMT
        if kind == S_IFLNK:
            raise err(errno.ELOOP)
        if kind == S_IFDIR and acc & MAY_WRITE:
            raise err(errno.EISDIR)
        self.permission(cred, inode, acc)
        if kind in (S_IFSOCK, S_IFCHR, S_IFBLK):
            raise err(errno.ENXIO)      # no socket open(2); no device drivers
        if flags & os.O_TRUNC and kind == S_IFREG and not created:
            inode.data.truncate(0)
            if not cred.capable("CAP_FSETID"):
                inode.mode &= ~_kill_bits(inode.mode)
            inode.touch()
        return OpenFile(inode, flags, self.lock)
