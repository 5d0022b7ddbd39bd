"""``ss`` as iproute2 prints it, for the sockets of a menios kernel.

:func:`ss` takes the command line of iproute2's ``ss`` (misc/ss.c of
iproute2 6.1) and returns the text it would print for the kernel's
sockets, read from :meth:`menios.Kernel.diag` as ss reads sock_diag: the
options (``-x -a -l -p -e -m -n -r -o -H -O``, the families and socket
tables of ``-f``/``-A`` and the protocol flags), the ``state``/``exclude``
filters and the address filter expression (``src``/``dst`` patterns,
``autobound``, ``and``/``or``/``not``/parentheses).  The layout is ss's: its
columns, their alignment and widths measured over the whole output, as ss
renders when its output is not a terminal (on one, ss also spreads the
columns over the terminal's width: that is not done here).  Only AF_UNIX
sockets exist in a menios kernel: other families select nothing, but their
options still shape the columns as they do in ss.

``-p`` lists the holders of a socket as ``users:(("comm",pid=P,fd=F),...)``
in ss's order: ss scans /proc by ascending pid and fd and prepends each
find, so the last found comes first.
"""
from __future__ import annotations

import fnmatch
import os
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .kernel import Kernel

__all__ = ["ss", "parse", "render", "SsError", "STATE_NAMES"]

# Socket tables (misc/ss.c's enum), families and their defaults.
(TCP_DB, MPTCP_DB, DCCP_DB, UDP_DB, RAW_DB, UNIX_DG_DB, UNIX_ST_DB, UNIX_SQ_DB,
 PACKET_DG_DB, PACKET_R_DB, NETLINK_DB, SCTP_DB, VSOCK_ST_DB, VSOCK_DG_DB, TIPC_DB,
 XDP_DB, MAX_DB) = range(17)
SS_ESTABLISHED, SS_SYN_SENT, SS_SYN_RECV, SS_TIME_WAIT = 1, 2, 3, 6
SS_CLOSE, SS_LISTEN, SS_MAX = 7, 10, 12
SS_ALL = (1 << SS_MAX) - 1
SS_CONN = SS_ALL & ~((1 << SS_LISTEN) | (1 << SS_CLOSE) | (1 << SS_TIME_WAIT)
                     | (1 << SS_SYN_RECV))
TIPC_SS_CONN = (1 << SS_ESTABLISHED) | (1 << SS_LISTEN) | (1 << SS_CLOSE)
AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET = 1, 2, 10, 16, 17
AF_TIPC, AF_VSOCK, AF_XDP = 30, 40, 44
UNIX_DBM = (1 << UNIX_DG_DB) | (1 << UNIX_ST_DB) | (1 << UNIX_SQ_DB)
PACKET_DBM = (1 << PACKET_DG_DB) | (1 << PACKET_R_DB)
INET_L4_DBM = ((1 << TCP_DB) | (1 << MPTCP_DB) | (1 << UDP_DB) | (1 << DCCP_DB)
               | (1 << SCTP_DB))
INET_DBM = INET_L4_DBM | (1 << RAW_DB)
VSOCK_DBM = (1 << VSOCK_ST_DB) | (1 << VSOCK_DG_DB)
_INET = (1 << AF_INET) | (1 << AF_INET6)

#: db -> (default states, families)
_DEFAULT_DBS = {
    TCP_DB: (SS_CONN, _INET), MPTCP_DB: (SS_CONN, _INET), DCCP_DB: (SS_CONN, _INET),
    UDP_DB: (1 << SS_ESTABLISHED, _INET), RAW_DB: (1 << SS_ESTABLISHED, _INET),
    UNIX_DG_DB: (1 << SS_CLOSE, 1 << AF_UNIX), UNIX_ST_DB: (SS_CONN, 1 << AF_UNIX),
    UNIX_SQ_DB: (SS_CONN, 1 << AF_UNIX), PACKET_DG_DB: (1 << SS_CLOSE, 1 << AF_PACKET),
    PACKET_R_DB: (1 << SS_CLOSE, 1 << AF_PACKET), NETLINK_DB: (1 << SS_CLOSE, 1 << AF_NETLINK),
    SCTP_DB: (SS_CONN, _INET), VSOCK_ST_DB: (SS_CONN, 1 << AF_VSOCK),
    VSOCK_DG_DB: (SS_CONN, 1 << AF_VSOCK), TIPC_DB: (TIPC_SS_CONN, 1 << AF_TIPC),
    XDP_DB: (1 << SS_CLOSE, 1 << AF_XDP),
}
#: family -> (dbs, default states)
_DEFAULT_AFS = {
    AF_INET: (INET_DBM, SS_CONN), AF_INET6: (INET_DBM, SS_CONN), AF_UNIX: (UNIX_DBM, SS_CONN),
    AF_PACKET: (PACKET_DBM, 1 << SS_CLOSE), AF_NETLINK: (1 << NETLINK_DB, 1 << SS_CLOSE),
    AF_VSOCK: (VSOCK_DBM, SS_CONN), AF_TIPC: (1 << TIPC_DB, TIPC_SS_CONN),
    AF_XDP: (1 << XDP_DB, 1 << SS_CLOSE),
}
_DB_NAMES = {
    "all": (UDP_DB, DCCP_DB, TCP_DB, MPTCP_DB, RAW_DB, UNIX_ST_DB, UNIX_DG_DB, UNIX_SQ_DB,
            PACKET_R_DB, PACKET_DG_DB, NETLINK_DB, SCTP_DB, VSOCK_ST_DB, VSOCK_DG_DB, XDP_DB),
    "inet": (UDP_DB, DCCP_DB, TCP_DB, MPTCP_DB, SCTP_DB, RAW_DB),
    "udp": (UDP_DB,), "dccp": (DCCP_DB,), "tcp": (TCP_DB,), "mptcp": (MPTCP_DB,),
    "sctp": (SCTP_DB,), "raw": (RAW_DB,),
    "unix": (UNIX_ST_DB, UNIX_DG_DB, UNIX_SQ_DB),
    "unix_stream": (UNIX_ST_DB,), "u_str": (UNIX_ST_DB,),
    "unix_dgram": (UNIX_DG_DB,), "u_dgr": (UNIX_DG_DB,),
    "unix_seqpacket": (UNIX_SQ_DB,), "u_seq": (UNIX_SQ_DB,),
    "packet": (PACKET_R_DB, PACKET_DG_DB), "packet_raw": (PACKET_R_DB,),
    "p_raw": (PACKET_R_DB,), "packet_dgram": (PACKET_DG_DB,), "p_dgr": (PACKET_DG_DB,),
    "netlink": (NETLINK_DB,), "tipc": (TIPC_DB,), "vsock": (VSOCK_ST_DB, VSOCK_DG_DB),
    "vsock_stream": (VSOCK_ST_DB,), "v_str": (VSOCK_ST_DB,),
    "vsock_dgram": (VSOCK_DG_DB,), "v_dgr": (VSOCK_DG_DB,), "xdp": (XDP_DB,),
}
_FAMILY_NAMES = {"inet": AF_INET, "inet6": AF_INET6, "link": AF_PACKET, "unix": AF_UNIX,
                 "netlink": AF_NETLINK, "tipc": AF_TIPC, "vsock": AF_VSOCK, "xdp": AF_XDP}

STATE_NAMES = ("UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
               "TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING")
_STATE_ARGS = ("UNKNOWN", "established", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2",
               "time-wait", "unconnected", "close-wait", "last-ack", "listening", "closing")
_NETIDS = {1: "u_str", 5: "u_seq", 2: "u_dgr"}
_UNIX_TYPE_DB = {1: UNIX_ST_DB, 2: UNIX_DG_DB, 5: UNIX_SQ_DB}

#: Short options with an argument, and the long options (misc/ss.c's long_opts).
_ARG_SHORT = set("fADFN")
_LONG = {"numeric": "n", "resolve": "r", "options": "o", "extended": "e", "memory": "m",
         "info": "i", "processes": "p", "threads": "T", "dccp": "d", "tcp": "t",
         "sctp": "S", "udp": "u", "raw": "w", "unix": "x", "tipc": "tipc", "vsock": "vsock",
         "all": "a", "listening": "l", "ipv4": "4", "ipv6": "6", "packet": "0",
         "family": "f", "socket": "A", "query": "A", "summary": "s", "version": "V",
         "help": "h", "no-header": "H", "xdp": "xdp", "mptcp": "M", "oneline": "O"}
_LONG_ARG = {"family", "socket", "query"}


class SsError(ValueError):
    """A command line ss would refuse, with its message."""


def _scan_state(name):
    low = name.lower()
    if low in ("close", "closed"):
        return 1 << SS_CLOSE
    if low == "syn-rcv":
        return 1 << SS_SYN_RECV
    if low == "all":
        return SS_ALL
    if low == "connected":
        return SS_ALL & ~((1 << SS_CLOSE) | (1 << SS_LISTEN))
    if low == "synchronized":
        return SS_ALL & ~((1 << SS_CLOSE) | (1 << SS_LISTEN) | (1 << SS_SYN_SENT))
    if low == "bucket":
        return (1 << SS_SYN_RECV) | (1 << SS_TIME_WAIT)
    if low == "big":
        return SS_ALL & ~((1 << SS_SYN_RECV) | (1 << SS_TIME_WAIT))
    for i, state in enumerate(_STATE_ARGS):
        if low == state.lower():
            return 1 << i
    raise SsError("ss: wrong state name: %s" % name)


class Options:
    """A parsed ss command line (what misc/ss.c's main() sets up)."""

    def __init__(self):
        self.dbs = 0
        self.states = 0
        self.families = 0
        self.show_processes = self.show_mem = self.show_details = False
        self.show_header = True
        self.filter = None              # the address filter expression, or None
        self.preferred_family = 0


def _getopt(argv):
    """GNU getopt_long as ss calls it: options anywhere (the rest keeps its
    order), bundled short options, ``--`` ends the options."""
    opts, rest = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i + 1:])
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            matches = [n for n in _LONG if n.startswith(name)]
            if name in _LONG:
                matches = [name]
            if len(matches) != 1:
                raise SsError("ss: unrecognized option '%s'" % arg if not matches
                              else "ss: option '%s' is ambiguous" % arg)
            name = matches[0]
            if name in _LONG_ARG:
                if not eq:
                    i += 1
                    if i >= len(argv):
                        raise SsError("ss: option '--%s' requires an argument" % name)
                    value = argv[i]
                opts.append((_LONG[name], value))
            else:
                opts.append((_LONG[name], None))
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                ch = arg[j]
                if ch in _ARG_SHORT:
                    value = arg[j + 1:]
                    if not value:
                        i += 1
                        if i >= len(argv):
                            raise SsError("ss: option requires an argument -- '%s'" % ch)
                        value = argv[i]
                    opts.append((ch, value))
                    break
                opts.append((ch, None))
                j += 1
        else:
            rest.append(arg)
        i += 1
    return opts, rest


def parse(args):
    """An :class:`Options` for ss's command line ``args`` (a list of strings,
    or one string split as a shell would)."""
    if isinstance(args, str):
        args = shlex.split(args)
    args = list(args)
    for a in args:
        if not isinstance(a, str):
            raise TypeError("ss arguments must be str, not %s" % type(a).__name__)
    o = Options()
    do_default = True
    state_filter = 0
    saw_query = False

    def db_set(db, enable=True):
        nonlocal do_default
        if enable:
            o.states |= _DEFAULT_DBS[db][0]
            o.dbs |= 1 << db
        else:
            o.dbs &= ~(1 << db)
        do_default = False

    def af_set(af):
        nonlocal do_default
        o.states |= _DEFAULT_AFS[af][1]
        o.families |= 1 << af
        do_default = False
        o.preferred_family = af

    def db_parse(name):
        enable = not name.startswith("!")
        name = name.lstrip("!") if not enable else name
        if name not in _DB_NAMES:
            return False
        for db in _DB_NAMES[name]:
            db_set(db, enable)
        return True

    opts, rest = _getopt(args)
    for ch, value in opts:
        if ch in "nroTiOb":
            pass                        # nothing of these reaches an AF_UNIX line
        elif ch == "e":
            o.show_details = True
        elif ch == "m":
            o.show_mem = True
        elif ch == "p":
            o.show_processes = True
        elif ch in "dtSuwM":
            db_set({"d": DCCP_DB, "t": TCP_DB, "S": SCTP_DB, "u": UDP_DB, "w": RAW_DB,
                    "M": MPTCP_DB}[ch])
        elif ch == "x":
            af_set(AF_UNIX)
        elif ch in ("vsock", "tipc", "xdp", "4", "6", "0"):
            af_set({"vsock": AF_VSOCK, "tipc": AF_TIPC, "xdp": AF_XDP, "4": AF_INET,
                    "6": AF_INET6, "0": AF_PACKET}[ch])
        elif ch == "a":
            state_filter = SS_ALL
        elif ch == "l":
            state_filter = (1 << SS_LISTEN) | (1 << SS_CLOSE)
        elif ch == "f":
            if value not in _FAMILY_NAMES:
                raise SsError('ss: "%s" is invalid family' % value)
            af_set(_FAMILY_NAMES[value])
        elif ch == "A":
            if not saw_query:
                o.dbs = 0
                state_filter = state_filter or SS_CONN
                saw_query = True
                do_default = False
            for name in value.split(","):
                if not db_parse(name):
                    raise SsError('ss: "%s" is illegal socket table id' % name)
        elif ch == "H":
            o.show_header = False
        else:
            raise SsError("ss: option -%s is not supported by menios" % ch
                          if len(ch) == 1 else "ss: option --%s is not supported" % ch)

    saw_states = False
    while rest:
        if rest[0] == "state" or rest[0] in ("exclude", "excl"):
            if len(rest) < 2:
                raise SsError("ss: argument is missing for %s" % rest[0])
            if rest[0] == "state":
                if not saw_states:
                    state_filter = 0
                state_filter |= _scan_state(rest[1])
            else:
                if not saw_states:
                    state_filter = SS_ALL
                state_filter &= ~_scan_state(rest[1])
            saw_states = True
            rest = rest[2:]
        else:
            break
    if do_default:
        state_filter = state_filter or SS_CONN
        db_parse("all")
    if state_filter:
        o.states = state_filter
    for db in range(MAX_DB):                      # filter_merge_defaults
        if o.dbs & (1 << db) and not _DEFAULT_DBS[db][1] & o.families:
            o.families |= _DEFAULT_DBS[db][1]
    for af, (dbs, _) in _DEFAULT_AFS.items():
        if o.families & (1 << af) and not dbs & o.dbs:
            o.dbs |= dbs
    if o.dbs == 0:
        raise SsError("ss: no socket tables to show with such filter.")
    if o.families == 0:
        raise SsError("ss: no families to show with such filter.")
    if o.states == 0:
        raise SsError("ss: no socket states to show with such filter.")
    o.filter = _Filter(rest, o.preferred_family).parse() if rest else None
    return o


# ------------------------------------------------------------ the filter

class _Filter:
    """misc/ssfilter.y's grammar, for AF_UNIX: a list of expressions joined
    left to right by ``|``/``or``, ``&``/``and`` or nothing (and); an
    expression is ``( list )``, ``!``/``not`` expression, ``src [=] PATTERN``,
    ``dst [=] PATTERN`` or ``autobound``.  A pattern is a shell wildcard
    matched against the name as ss prints it (``unix:`` may prefix it)."""

    _WORDS = {"!": "!", "not": "!", "&": "&", "&&": "&", "and": "&", "|": "|", "||": "|",
              "or": "|", "(": "(", ")": ")", "=": "=", "==": "=", "eq": "="}

    def __init__(self, words, family):
        self.words = []
        for w in words:
            self.words.extend(w.split())
        self.family = family
        self.pos = 0

    def _peek(self):
        return self.words[self.pos] if self.pos < len(self.words) else None

    def _next(self):
        w = self._peek()
        self.pos += 1
        return w

    def parse(self):
        node = self._list()
        if self._peek() is not None:
            raise SsError('ss: bison bellows (while parsing filter): "syntax error!"')
        return node

    def _list(self):
        node = self._expr()
        while self._peek() is not None and self._peek() != ")":
            op = self._WORDS.get(self._peek())
            if op in ("&", "|"):
                self._next()
            else:
                op = "&"
            node = (op, node, self._expr())
        return node

    def _expr(self):
        w = self._next()
        if w is None:
            raise SsError('ss: bison bellows (while parsing filter): "syntax error!"')
        tok = self._WORDS.get(w, w)
        if tok == "(":
            node = self._list()
            if self._next() != ")":
                raise SsError('ss: bison bellows (while parsing filter): "syntax error!"')
            return node
        if tok == "!":
            return ("!", self._expr())
        if tok == "autobound":
            return ("auto",)
        if tok in ("src", "dst"):
            if self._WORDS.get(self._peek()) == "=":
                self._next()
            pattern = self._next()
            if pattern is None:
                raise SsError('ss: bison bellows (while parsing filter): "syntax error!"')
            if pattern.startswith("unix:"):
                pattern = pattern[5:]
            elif self.family != AF_UNIX:
                raise SsError("ss: menios has only AF_UNIX addresses: write unix:%s or use -x"
                              % pattern)
            return (tok, pattern)
        raise SsError("ss: filter word %r is not supported by menios" % w)

    @staticmethod
    def match(node, local, remote):
        """run_ssfilter: ``local``/``remote`` are the names as printed, or
        None (no name: matched as the empty string)."""
        kind = node[0]
        if kind == "&":
            return _Filter.match(node[1], local, remote) and _Filter.match(node[2], local, remote)
        if kind == "|":
            return _Filter.match(node[1], local, remote) or _Filter.match(node[2], local, remote)
        if kind == "!":
            return not _Filter.match(node[1], local, remote)
        if kind == "auto":
            return local is None or (len(local) == 6 and local[0] == "@"
                                     and all(c in "0123456789abcdef" for c in local[1:]))
        name = local if kind == "src" else remote
        return _fnmatch_casefold(node[1], name or "")


def _fnmatch_casefold(pattern, name):
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


# ------------------------------------------------------------ rendering

#: (align, header, left delimiter) of ss's columns; the last is "Ext".
_COLUMNS = (("L", "Netid", ""), ("L", "State", " "), ("L", "Recv-Q", " "),
            ("L", "Send-Q", " "), ("R", "Local Address:", " "), ("L", "Port", ""),
            ("R", "Peer Address:", " "), ("L", "Port", ""), ("L", "Process", ""),
            ("L", "", ""))
COL_NETID, COL_STATE, COL_PROC, COL_EXT = 0, 1, 8, 9


def render(header, rows, disabled=()):
    """The text ss prints for ``rows`` (lists of the 10 column fields, the
    last row's ``Process`` field included, ``Ext`` always empty) under
    ``header`` (True: the column titles), with the columns in ``disabled``
    left out: ss's render() and render_calc_width() for output that is not
    a terminal, which measure each column by its content alone."""
    cols = [i for i in range(len(_COLUMNS)) if i not in disabled]
    tokens = []                      # (column, text, flushed)
    if header:
        for c in cols:
            if c != COL_EXT:
                tokens.append((c, _COLUMNS[c][1], True))
    for r, row in enumerate(rows):
        if tokens:
            tokens.append((COL_EXT, "", True)) if COL_EXT in cols else None
        last = r == len(rows) - 1
        for c in cols:
            if c == COL_EXT:
                continue
            # The last field written is never flushed: its length does not
            # count in its column's width (ss's field_flush is not reached).
            tokens.append((c, row[c], not (last and c == COL_PROC)))
    if not rows and header and COL_EXT in cols:
        tokens.append((COL_EXT, "", False))
    if not tokens:
        return ""
    max_len = {c: 0 for c in cols}
    for c, text, flushed in tokens:
        if flushed:
            max_len[c] = max(max_len[c], len(text.encode("utf-8", "surrogateescape")))
    widths, first = {}, True
    for c in cols:
        w = max_len[c] + len(_COLUMNS[c][2]) if not first and max_len[c] else max_len[c]
        widths[c] = w
        if w:
            first = False
    out = []
    line_started = False
    ci = 0
    while ci < len(cols) and not widths[cols[ci]]:
        ci += 1
    for c, text, _ in tokens:
        c = cols[ci]
        align, _, delim = _COLUMNS[c]
        n = len(text.encode("utf-8", "surrogateescape"))
        printed = 0
        if line_started:
            out.append(delim)
            printed = len(delim)
        line_started = True
        if align == "R" and widths[c] - n - printed > 0:
            pad = widths[c] - n - printed
            out.append(" " * pad)
            printed += pad
        out.append(text)
        printed += n
        if align == "L" and widths[c] - printed > 0:
            out.append(" " * (widths[c] - printed))
        if ci == len(cols) - 1 or cols[ci] == COL_EXT:
            out.append("\n")
            line_started = False
            ci = 0
        else:
            ci += 1
    if line_started:
        out.append("\n")
    return "".join(out)


# ------------------------------------------------------------ the lines

def _printed_name(raw):
    """A name as ss prints it: the sun_path up to its NUL, an abstract name
    with each NUL as '@'; None when unbound."""
    if not raw:
        return None
    if raw[:1] == b"\0":
        return raw.replace(b"\0", b"@").decode("latin-1")
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _kernel_dev(st_dev):
    """The kernel's dev_t (sock_diag's udiag_vfs_dev) of a stat st_dev."""
    return (os.major(st_dev) << 20) | os.minor(st_dev)


def lines(records, o, comms):
    """The rows (10 fields) ss prints for diag ``records`` under options
    ``o``; ``comms`` maps a pid to its command name."""
    rows = []
    for d in records:
        if not d["inode"]:
            continue                    # an embryo: sock_diag skips it
        db = _UNIX_TYPE_DB.get(d["type"])
        if db is None or not o.dbs & (1 << db) or not o.families & (1 << AF_UNIX):
            continue
        if not o.states & (1 << d["state"]):
            continue
        local = _printed_name(d["raw_name"])
        if o.filter is not None and not _Filter.match(o.filter, local, None):
            continue
        proc = []
        if o.show_processes and d["holders"]:
            users = sorted(d["holders"], reverse=True)
            proc.append(" users:(%s)" % ",".join(
                '("%s",pid=%d,fd=%d)' % (comms.get(pid, ""), pid, fd) for pid, fd in users))
        if o.show_mem:
            m = d["meminfo"]
            proc.append(" skmem:(r%d,rb%d,t%d,tb%d,f%d,w%d,o%d,bl%d,d%d)" % (
                m["rmem_alloc"], m["rcvbuf"], m["wmem_alloc"], m["sndbuf"], m["fwd_alloc"],
                m["wmem_queued"], m["optmem"], m["backlog"], m["drops"]))
        if o.show_details:
            sd = d["shutdown"]
            proc.append(" %s-%s" % ("-" if sd & 1 else "<", "-" if sd & 2 else ">"))
            if d["vfs"] is not None:
                dev = _kernel_dev(d["vfs"][0])
                proc.append(" ino:%d dev:%d/%d" % (d["vfs"][1], os.major(dev), os.minor(dev)))
            if d["state"] == SS_LISTEN:
                proc.append(" peers:" + "".join(" %d" % i for i in d["pending"]))
        rows.append([_NETIDS[d["type"]], STATE_NAMES[d["state"]], "%-6d" % d["recv_q"],
                     "%-6d" % d["send_q"], (local if local is not None else "*") + " ",
                     "%d" % d["inode"], "* ", "%d" % d["peer"], "".join(proc), ""])
    return rows


def ss(kernel: Kernel, args: str | Iterable[str] = ("-xa",)) -> str:
    """The text iproute2's ss prints for ``kernel``'s sockets under the
    command line ``args`` (see the module doc).  Bad options raise
    :class:`SsError` with ss's message."""
    o = parse(args)
    disabled = set()
    if not o.dbs & (o.dbs - 1):
        disabled.add(COL_NETID)
    if not o.states & (o.states - 1):
        disabled.add(COL_STATE)
    with kernel.lock:
        comms = {pid: p.comm for pid, p in kernel.processes.items()}
    rows = lines(kernel.diag(), o, comms)
    return render(o.show_header, rows, disabled)
