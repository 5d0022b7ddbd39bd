"""Credentials of a simulated process, with Linux's set*id rules.

A :class:`Cred` holds the ids Linux keeps in ``struct cred``: real,
effective, saved and filesystem user and group ids, and the supplementary
groups.  Capabilities are modelled simply: a credential is capable of
anything exactly when its effective uid is 0.  Linux clears the effective
capabilities when the euid leaves 0 and restores them from the permitted
set when it returns (``cap_emulate_setxuid``), and the permitted set is
only lost when no uid is 0 any more -- at which point euid can never
return to 0 -- so "euid == 0" is exact as long as ``setfsuid`` and
capability syscalls are not modelled (they are not).

Every call that fails raises ``OSError(errno, strerror)``; a value that
is not an id raises ``TypeError`` or ``OverflowError`` as the stdlib's
``os.setresuid`` does.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable

from .args import err

__all__ = ["Cred", "NGROUPS_MAX", "CAPABILITIES"]

#: Largest supplementary group list (``NGROUPS_MAX``).
NGROUPS_MAX = 65536

#: The capabilities :meth:`Cred.capable` knows by name.
CAPABILITIES = frozenset({
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
    "CAP_IPC_OWNER", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_MKNOD",
})

_ID_MAX = 0xFFFFFFFF       # (uid_t)-1, never a valid id


def _check_id(value, unchanged_ok=True):
    """Return *value* as an id, ``-1`` for "unchanged".

    Raises TypeError for a non-int, OverflowError out of range, as the
    stdlib's id converters do; ``(uid_t)-1`` given as 4294967295 is -1.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        if hasattr(type(value), "__index__"):
            value = value.__index__()
        else:
            raise TypeError("uid should be integer, not %s"
                            % type(value).__name__)
    if value == -1 or value == _ID_MAX:
        return -1
    if value < -1:
        raise OverflowError("uid is less than minimum")
    if value > _ID_MAX:
        raise OverflowError("uid is greater than maximum")
    return value


class Cred:
    """Mutable credentials: ``uid gid euid egid suid sgid fsuid fsgid groups``.

    ``Cred(uid, gid, groups)`` sets every user id to *uid* and every group
    id to *gid*; *groups* is the supplementary list, kept sorted as Linux's
    ``setgroups`` keeps it.
    """

    __slots__ = ("uid", "gid", "euid", "egid", "suid", "sgid",
                 "fsuid", "fsgid", "groups")
    uid: int
    gid: int
    euid: int
    egid: int
    suid: int
    sgid: int
    fsuid: int
    fsgid: int
    groups: tuple[int, ...]

    def __init__(self, uid: int = 0, gid: int = 0, groups: Iterable[int] = ()) -> None:
        uid = _check_id(uid)
        gid = _check_id(gid)
        if uid == -1 or gid == -1:
            raise ValueError("a credential needs real ids, not -1")
        self.uid = self.euid = self.suid = self.fsuid = uid
        self.gid = self.egid = self.sgid = self.fsgid = gid
        self.groups = self._group_list(groups)

    # -- queries ---------------------------------------------------------

    def capable(self, cap: str | None = None) -> bool:
        """True when the credential has capability *cap* (any cap: euid 0).

        *cap* is a name such as ``"CAP_DAC_OVERRIDE"``; ``ValueError`` for
        a name this module does not know.
        """
        if cap is not None and cap not in CAPABILITIES:
            raise ValueError("unknown capability %r" % (cap,))
        return self.euid == 0

    def in_group_p(self, gid: int) -> bool:
        """True when *gid* is the fsgid or a supplementary group."""
        return gid == self.fsgid or gid in self.groups

    def in_egroup_p(self, gid: int) -> bool:
        """True when *gid* is the egid or a supplementary group."""
        return gid == self.egid or gid in self.groups

    def copy(self) -> Cred:
        """Return an independent copy (what ``fork`` gives the child)."""
        new = Cred.__new__(Cred)
        for name in Cred.__slots__:
            setattr(new, name, getattr(self, name))
        return new

    def getresuid(self) -> tuple[int, int, int]:
        """Return ``(uid, euid, suid)``."""
        return (self.uid, self.euid, self.suid)

    def getresgid(self) -> tuple[int, int, int]:
        """Return ``(gid, egid, sgid)``."""
        return (self.gid, self.egid, self.sgid)

    def getgroups(self) -> list[int]:
        """Return the supplementary groups, sorted, as a list."""
        return list(self.groups)

    def access_cred(self) -> Cred:
        """Return the credential ``access(2)`` checks with.

        Linux overrides fsuid/fsgid with the real ids, and the effective
        capabilities with the permitted ones when the real uid is 0 (none
        otherwise); in this model that is euid = fsuid = uid, fsgid = gid.
        """
        new = self.copy()
        new.euid = new.fsuid = self.uid
        new.fsgid = self.gid
        return new

    # -- set*id ----------------------------------------------------------

    def setuid(self, uid: int) -> None:
        """Set the uid as ``setuid(2)``.

        With CAP_SETUID every uid becomes *uid*; otherwise only the euid and
        fsuid change, to the real or saved uid.  EINVAL for -1, EPERM.
        """
        uid = _check_id(uid)
        if uid == -1:
            raise err(errno.EINVAL)
        if self.capable("CAP_SETUID"):
            self.uid = self.suid = uid
        elif uid != self.uid and uid != self.suid:
            raise err(errno.EPERM)
        self.euid = self.fsuid = uid

    def setgid(self, gid: int) -> None:
        """Set the gid as ``setgid(2)``; EINVAL for -1, EPERM."""
        gid = _check_id(gid)
        if gid == -1:
            raise err(errno.EINVAL)
        if self.capable("CAP_SETGID"):
            self.gid = self.sgid = gid
        elif gid != self.gid and gid != self.sgid:
            raise err(errno.EPERM)
        self.egid = self.fsgid = gid

    def setreuid(self, ruid: int, euid: int) -> None:
        """Set real and effective uids as ``setreuid(2)`` (-1: unchanged).

        Without CAP_SETUID the real uid may become the real or effective
        uid, the effective uid the real, effective or saved uid.  The saved
        uid becomes the new euid when the real uid is set or the euid is set
        to something other than the old real uid.  EPERM.
        """
        ruid = _check_id(ruid)
        euid = _check_id(euid)
        priv = self.capable("CAP_SETUID")
        new_r, new_e = self.uid, self.euid
        if ruid != -1:
            if ruid != self.uid and ruid != self.euid and not priv:
                raise err(errno.EPERM)
            new_r = ruid
        if euid != -1:
            if euid not in (self.uid, self.euid, self.suid) and not priv:
                raise err(errno.EPERM)
            new_e = euid
        if ruid != -1 or (euid != -1 and euid != self.uid):
            self.suid = new_e
        self.uid, self.euid = new_r, new_e
        self.fsuid = new_e

    def setregid(self, rgid: int, egid: int) -> None:
        """Set real and effective gids as ``setregid(2)``; EPERM."""
        rgid = _check_id(rgid)
        egid = _check_id(egid)
        priv = self.capable("CAP_SETGID")
        new_r, new_e = self.gid, self.egid
        if rgid != -1:
            if rgid != self.gid and rgid != self.egid and not priv:
                raise err(errno.EPERM)
            new_r = rgid
        if egid != -1:
            if egid not in (self.gid, self.egid, self.sgid) and not priv:
                raise err(errno.EPERM)
            new_e = egid
        if rgid != -1 or (egid != -1 and egid != self.gid):
            self.sgid = new_e
        self.gid, self.egid = new_r, new_e
        self.fsgid = new_e

    def setresuid(self, ruid: int, euid: int, suid: int) -> None:
        """Set real, effective and saved uids as ``setresuid(2)``.

        -1 leaves an id unchanged.  Without CAP_SETUID each new id must be
        one of the current real, effective or saved uids.  The fsuid follows
        the euid.  EPERM.
        """
        ids = (_check_id(ruid), _check_id(euid), _check_id(suid))
        old = (self.uid, self.euid, self.suid)
        if not self.capable("CAP_SETUID"):
            for new in ids:
                if new != -1 and new not in old:
                    raise err(errno.EPERM)
        self.uid, self.euid, self.suid = (
            o if n == -1 else n for n, o in zip(ids, old))
        self.fsuid = self.euid

    def setresgid(self, rgid: int, egid: int, sgid: int) -> None:
        """Set real, effective and saved gids as ``setresgid(2)``; EPERM."""
        ids = (_check_id(rgid), _check_id(egid), _check_id(sgid))
        old = (self.gid, self.egid, self.sgid)
        if not self.capable("CAP_SETGID"):
            for new in ids:
                if new != -1 and new not in old:
                    raise err(errno.EPERM)
        self.gid, self.egid, self.sgid = (
            o if n == -1 else n for n, o in zip(ids, old))
        self.fsgid = self.egid

    def seteuid(self, euid: int) -> None:
        """Set the euid as glibc's ``seteuid``: setresuid(-1, euid, -1)."""
        if _check_id(euid) == -1:
            raise err(errno.EINVAL)
        self.setresuid(-1, euid, -1)

    def setegid(self, egid: int) -> None:
        """Set the egid as glibc's ``setegid``: setresgid(-1, egid, -1)."""
        if _check_id(egid) == -1:
            raise err(errno.EINVAL)
        self.setresgid(-1, egid, -1)

    def setgroups(self, groups: Iterable[int]) -> None:
        """Replace the supplementary groups as ``setgroups(2)``.

        EPERM without CAP_SETGID, EINVAL for more than NGROUPS_MAX groups.
        """
        groups = list(groups)
        if not self.capable("CAP_SETGID"):
            raise err(errno.EPERM)
        if len(groups) > NGROUPS_MAX:
            raise err(errno.EINVAL)
        self.groups = self._group_list(groups)

    @staticmethod
    def _group_list(groups):
        result = []
        for gid in groups:
            gid = _check_id(gid)
            if gid == -1:
                raise err(errno.EINVAL)
            result.append(gid)
        return tuple(sorted(result))

    # -- misc ------------------------------------------------------------

    def __eq__(self, other):
        if not isinstance(other, Cred):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n)
                   for n in Cred.__slots__)

    __hash__ = None  # type: ignore[assignment]   # mutable: unhashable

    def __repr__(self):
        return ("Cred(uid=%d, euid=%d, suid=%d, fsuid=%d, gid=%d, egid=%d, "
                "sgid=%d, fsgid=%d, groups=%r)"
                % (self.uid, self.euid, self.suid, self.fsuid, self.gid,
                   self.egid, self.sgid, self.fsgid, self.groups))
