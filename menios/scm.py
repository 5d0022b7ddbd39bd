"""Control messages: SCM_RIGHTS and SCM_CREDENTIALS parsed on send and
built on receive, with the control-buffer sizes of 64-bit Linux (Linux's
net/core/scm.c: __scm_send, scm_check_creds, scm_recv, scm_detach_fds).

Ancillary data is a list of ``(level, type, data)`` as the stdlib's
sendmsg/recvmsg take and return it; an SCM_RIGHTS payload is an array of
C ints, an SCM_CREDENTIALS payload a ``struct ucred``.
"""
import array
import errno
import struct

from .args import as_int, err
from .constants import (
    CMSG_SPACE, MSG_CMSG_CLOEXEC, MSG_CTRUNC, OVERFLOWGID, OVERFLOWUID, SCM_CREDENTIALS,
    SCM_MAX_FD, SCM_RIGHTS, SIZEOF_CMSGHDR, SIZEOF_INT, SOL_SOCKET)

#: struct ucred: pid, uid, gid.
UCRED = struct.Struct("3i")


# ----------------------------------------------------------------------- send
def scm_send(proc, ancdata, files):
    """Parse control messages as Linux's __scm_send; return the
    credentials to send, or None.  Each SCM_RIGHTS file is appended to
    ``files`` with a reference taken under the fd table's lock
    (scm_fp_copy's fget_raw), so a close racing the send cannot release
    it; the caller drops them, also on error.

    EINVAL: more than SCM_MAX_FD fds, a malformed ucred, an unknown
    SOL_SOCKET type, an id of -1.  EBADF: a bad fd.  EPERM: credentials the
    sender may not claim.  ESRCH: no process with the pid claimed.
    Messages at other levels are skipped."""
    creds = None
    for item in ancdata:
        level, type_, data = item
        level, type_ = as_int(level), as_int(type_)
        data = bytes(memoryview(data))
        if level != SOL_SOCKET:
            continue
        if type_ == SCM_RIGHTS:
            n = len(data) // SIZEOF_INT
            if n <= 0:
                continue
            if n > SCM_MAX_FD or len(files) + n > SCM_MAX_FD:
                raise err(errno.EINVAL)
            for fd in array.array("i", data[:n * SIZEOF_INT]):
                if fd < 0:
                    raise err(errno.EBADF)
                files.append(proc.fdtable.fget(fd))
        elif type_ == SCM_CREDENTIALS:
            if len(data) != UCRED.size:
                raise err(errno.EINVAL)
            pid, uid, gid = UCRED.unpack(data)
            _check_creds(proc, pid, uid, gid)
            creds = (pid, uid, gid)
        else:
            raise err(errno.EINVAL)
    return creds


def _check_creds(proc, pid, uid, gid):
    """scm_check_creds: invalid ids first (EINVAL), then the permission
    check (EPERM); then __scm_send looks the pid up (ESRCH)."""
    c = proc.cred
    if uid == -1 or gid == -1:
        raise err(errno.EINVAL)
    admin = c.capable("CAP_SYS_ADMIN")
    if not ((pid == proc.pid or admin)
            and (uid in (c.uid, c.euid, c.suid) or c.capable("CAP_SETUID"))
            and (gid in (c.gid, c.egid, c.sgid) or c.capable("CAP_SETGID"))):
        raise err(errno.EPERM)
    if pid != proc.pid and pid not in proc.kernel.processes:
        raise err(errno.ESRCH)


def too_many_unix_fds(proc):
    """Linux's too_many_unix_fds: the files this user (its real uid)
    already has in flight exceed the sender's RLIMIT_NOFILE and it has
    neither CAP_SYS_RESOURCE nor CAP_SYS_ADMIN.  The message's own files
    are not counted yet.  The send fails ETOOMANYREFS where Linux
    attaches the files (unix_attach_fds), not while parsing them."""
    inflight = proc.kernel.net.user_inflight.get(proc.cred.uid, 0)
    return inflight > proc.rlimit_nofile and not (
        proc.cred.capable("CAP_SYS_RESOURCE") or proc.cred.capable("CAP_SYS_ADMIN"))


# -------------------------------------------------------------------- receive
def scm_recv(proc, ancbufsize, flags, mflags, cred, files):
    """Build the ancillary data as Linux's scm_recv puts it in a control
    buffer of ``ancbufsize`` bytes: the credentials (uid/gid -1 read as the
    overflow ids), then as many received files as fit, installed as fds
    (MSG_CMSG_CLOEXEC marks them close-on-exec).  What does not fit, or
    finds no free fd, is dropped and sets MSG_CTRUNC.  Returns
    ``(ancdata, msg_flags)``."""
    mflags |= flags & MSG_CMSG_CLOEXEC
    anc = []
    room = ancbufsize
    if room <= 0:
        if cred is not None or files:
            mflags |= MSG_CTRUNC
        for f in files:
            f.fput()
        return anc, mflags
    if cred is not None:
        pid, uid, gid = cred
        if uid == -1:
            uid = OVERFLOWUID
        if gid == -1:
            gid = OVERFLOWGID
        payload = UCRED.pack(pid, uid, gid)
        if room < SIZEOF_CMSGHDR:
            mflags |= MSG_CTRUNC
        else:
            cmlen = SIZEOF_CMSGHDR + len(payload)
            if room < cmlen:
                mflags |= MSG_CTRUNC
                cmlen = room
            anc.append((SOL_SOCKET, SCM_CREDENTIALS, payload[:cmlen - SIZEOF_CMSGHDR]))
            room -= min(CMSG_SPACE(len(payload)), room)
    if files:
        fdmax = (room - SIZEOF_CMSGHDR) // SIZEOF_INT if room > SIZEOF_CMSGHDR else 0
        fdmax = min(fdmax, len(files))
        got = []
        for f in files[:fdmax]:
            try:
                got.append(proc.fdtable.alloc(f, proc.rlimit_nofile, 0,
                                              flags & MSG_CMSG_CLOEXEC))
            except OSError:
                break
        for f in files[len(got):]:
            f.fput()
        if got:
            anc.append((SOL_SOCKET, SCM_RIGHTS, array.array("i", got).tobytes()))
        if len(got) < len(files):
            mflags |= MSG_CTRUNC
    return anc, mflags
