"""Constants with Linux's numeric values (identical to the stdlib's on Linux)."""
import socket as _s

AF_UNSPEC = 0
AF_UNIX = 1
AF_LOCAL = 1
PF_UNIX = 1

SOCK_STREAM = 1
SOCK_DGRAM = 2
SOCK_RAW = 3
SOCK_SEQPACKET = 5
SOCK_NONBLOCK = 0o4000
SOCK_CLOEXEC = 0o2000000

SOL_SOCKET = 1
SCM_RIGHTS = 1
SCM_CREDENTIALS = 2
SCM_MAX_FD = 253
UNIX_PATH_MAX = 108
SOMAXCONN = 4096

SO_DEBUG = 1
SO_REUSEADDR = 2
SO_TYPE = 3
SO_ERROR = 4
SO_DONTROUTE = 5
SO_BROADCAST = 6
SO_SNDBUF = 7
SO_RCVBUF = 8
SO_KEEPALIVE = 9
SO_OOBINLINE = 10
SO_NO_CHECK = 11
SO_PASSCRED = 16
SO_PEERCRED = 17
SO_RCVLOWAT = 18
SO_SNDLOWAT = 19
SO_RCVTIMEO = 20
SO_SNDTIMEO = 21
SO_ACCEPTCONN = 30
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
SO_PASSSEC = 34
SO_PROTOCOL = 38
SO_DOMAIN = 39
SO_RXQ_OVFL = 40
SO_WIFI_STATUS = 41
SO_PEEK_OFF = 42
SO_NOFCS = 43
SO_LOCK_FILTER = 44
SO_SELECT_ERR_QUEUE = 45
SO_BUSY_POLL = 46
SO_RCVMARK = 75
SO_RCVPRIORITY = 82
SO_PASSRIGHTS = 83

MSG_OOB = 0x1
MSG_PEEK = 0x2
MSG_DONTROUTE = 0x4
MSG_CTRUNC = 0x8
MSG_TRUNC = 0x20
MSG_DONTWAIT = 0x40
MSG_EOR = 0x80
MSG_WAITALL = 0x100
MSG_NOSIGNAL = 0x4000
MSG_MORE = 0x8000
MSG_ZEROCOPY = 0x4000000
MSG_CMSG_CLOEXEC = 0x40000000

SHUT_RD = 0
SHUT_WR = 1
SHUT_RDWR = 2

POLLIN = 0x001
POLLPRI = 0x002
POLLOUT = 0x004
POLLERR = 0x008
POLLHUP = 0x010
POLLNVAL = 0x020
POLLRDNORM = 0x040
POLLRDBAND = 0x080
POLLWRNORM = 0x100
POLLWRBAND = 0x200
POLLRDHUP = 0x2000

FIONREAD = SIOCINQ = 0x541B
SIOCOUTQ = 0x5411
SIOCATMARK = 0x8905
FIOSETOWN = 0x8901
SIOCSPGRP = 0x8902
FIOGETOWN = 0x8903
SIOCGPGRP = 0x8904

O_RDONLY = 0
O_WRONLY = 1
O_RDWR = 2
O_ACCMODE = 3
O_CREAT = 0o100
O_EXCL = 0o200
O_NOCTTY = 0o400
O_TRUNC = 0o1000
O_APPEND = 0o2000
O_NONBLOCK = 0o4000
O_DIRECTORY = 0o200000
O_NOFOLLOW = 0o400000
O_CLOEXEC = 0o2000000

F_DUPFD = 0
F_GETFD = 1
F_SETFD = 2
F_GETFL = 3
F_SETFL = 4
F_SETOWN = 8
F_GETOWN = 9
F_DUPFD_CLOEXEC = 1030
FD_CLOEXEC = 1

SEEK_SET = 0
SEEK_CUR = 1
SEEK_END = 2

SIGPIPE = 13
SIGURG = 23

CMSG_LEN = _s.CMSG_LEN
CMSG_SPACE = _s.CMSG_SPACE

__all__ = [n for n in dir() if n.isupper() and not n.startswith("_")]

# Values the simulated kernel uses internally, under Linux's names; not
# exported by ``menios`` (they are defined after ``__all__``).
SOCK_TYPE_MASK = 0xf            # the type bits of socket()'s type argument
SOCK_MAX = 11                   # one past the highest socket type (SOCK_PACKET)
NPROTO = 46                     # AF_MAX: one past the highest address family
TCP_ESTABLISHED = 1             # sk_state values, as Kernel.unix_sockets names them
TCP_CLOSE = 7
TCP_LISTEN = 10
O_LARGEFILE = 0o100000          # the kernel's value (os.O_LARGEFILE is 0 on 64-bit)
S_IRWXUGO = 0o777               # the permission bits of a mode
INT_MIN = -2**31
INT_MAX = 2**31 - 1
U32_MAX = 2**32 - 1
SIZEOF_INT = 4
SIZEOF_CMSGHDR = 16             # struct cmsghdr on 64-bit Linux
SOCKADDR_STORAGE_SIZE = 128     # _K_SS_MAXSIZE: the most a syscall copies in as an address
SA_FAMILY_SIZE = 2              # sizeof(sa_family_t), before sun_path
OVERFLOWUID = OVERFLOWGID = 65534   # what an id with no mapping reads as
HZ = 250                        # jiffies per second on the reference kernel
USEC_PER_SEC = 1000000
NSEC_PER_SEC = 1000000000
