"""Control messages built on receive, with the control-buffer sizes of
64-bit Linux (Linux's net/core/scm.c: scm_recv, scm_detach_fds).  The
send side -- __scm_send, scm_check_creds, too_many_unix_fds -- is the C
core's (csrc/kernel/net/unix/scm.c).

Ancillary data is a list of ``(level, type, data)`` as the stdlib's
recvmsg returns it; an SCM_RIGHTS payload is an array of C ints, an
SCM_CREDENTIALS payload a ``struct ucred``.
"""
import array
import struct

from .constants import (
    CMSG_SPACE, MSG_CMSG_CLOEXEC, MSG_CTRUNC, OVERFLOWGID, OVERFLOWUID, SCM_CREDENTIALS,
    SCM_RIGHTS, SIZEOF_CMSGHDR, SIZEOF_INT, SOL_SOCKET)

#: struct ucred: pid, uid, gid.
UCRED = struct.Struct("3i")


# -------------------------------------------------------------------- receive
def scm_recv(proc, ancbufsize, flags, mflags, cred, files):
    """Build the ancillary data as Linux's scm_recv puts it in a control
    buffer of ``ancbufsize`` bytes: the credentials (uid/gid -1 read as the
    overflow ids), then as many received files as fit, installed as fds
    (MSG_CMSG_CLOEXEC marks them close-on-exec).  What does not fit, or
    finds no free fd, is dropped and sets MSG_CTRUNC.  Returns
    ``(ancdata, msg_flags)``."""
    anc, mflags, _ = scm_recv_fds(proc, ancbufsize, flags, mflags, cred, files)
    return anc, mflags


def scm_recv_fds(proc, ancbufsize, flags, mflags, cred, files):
    """``scm_recv``, also returning the fds it installed (the payload of its
    SCM_RIGHTS message, for recv_fds): ``(ancdata, msg_flags, [fd])``."""
    mflags |= flags & MSG_CMSG_CLOEXEC
    anc = []
    got = []
    room = ancbufsize
    if room <= 0:
        if cred is not None or files:
            mflags |= MSG_CTRUNC
        for f in files:
            f.fput()
        return anc, mflags, got
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
    return anc, mflags, got
