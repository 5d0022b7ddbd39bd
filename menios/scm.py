"""Control messages: ``struct ucred``, as SO_PEERCRED and SCM_CREDENTIALS
carry it.  Parsing the control messages of a send (__scm_send,
scm_check_creds, too_many_unix_fds) and writing those of a receive
(scm_recv, put_cmsg, scm_detach_fds, with the files installed as fds) is
the C core's (csrc/kernel/net/unix/scm.c); ``_unix.Socket.recvmsg`` lists
what it wrote as the stdlib's ``(level, type, data)`` ancdata.
"""
import struct

#: struct ucred: pid, uid, gid.
UCRED = struct.Struct("3i")
