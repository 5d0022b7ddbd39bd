"""``ss`` output made comparable between backends.

:func:`ss_step` runs ``k.ss(args)`` -- menios's :meth:`menios.Kernel.ss`, or
iproute2's ``ss`` run by :meth:`~menios.conformance.host.HostKernel.ss` in
the scenario's network namespace -- and records the text, normalised by
:func:`normalise`, as one step of the trace.  The rules, each for a thing
that cannot be equal on two kernels, and nothing else:

1. **Layout is checked, then set aside.**  The text is parsed into ss's
   columns (Netid, State, Recv-Q, Send-Q, Local Address, Port, Peer
   Address, Port, Process) and rendered again with :func:`menios.ss.render`;
   unless that gives back the very same text (every space included), the
   step records the raw text instead, which cannot match the other side.  So
   widths and alignment are compared exactly (the host's against ss's own
   renderer), though rule 2 changes the numbers they were measured on.
2. **Socket inode numbers become the holder's name**: ``p1/3`` for the
   socket open as fd 3 in the first process spawned or forked (the lowest
   such pair if several hold it, read with ``fstat``), ``~p1/3`` for a socket
   no fd holds whose peer is ``p1/3``, ``?`` for one with neither.  This in
   the Port columns and the ``peers:`` list of ``-e``; 0 stays 0.
3. **Rows are sorted** by that name: Linux lists sockets in its hash
   table's order, menios in creation order.
4. **Pids** in ``users:(...)`` become the process names (``p1``...), as
   everywhere in the traces; the command names and fds stay.
5. **Autobound names** (``@`` and five hex digits) become ``@auto1``... in
   order of first appearance (sorted rows; the trace's numbering, so a name
   already seen in ``getsockname`` keeps its number).
6. **The bound file's inode and device** of ``-e`` (``ino:N dev:M/m``)
   become ``ino:vfs1 dev:dev1``..., numbered by first appearance: the
   numbers are two different filesystems'.
"""
import re
import stat

from .. import ss as _ss

__all__ = ["ss_step", "normalise"]

_USER = re.compile(r'\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=(\d+)\)')
_VFS = re.compile(r" ino:(\d+) dev:(\d+)/(\d+)")
_PEERS = re.compile(r" peers:((?: \d+)*)")
_AUTOBIND = re.compile(r"^@[0-9a-f]{5}$")


def socket_inodes(proc):
    """``{fd: inode}`` of the sockets process ``proc`` has open: one request
    to a host process, ``fstat`` of each open fd of a menios one."""
    own = getattr(proc, "socket_inodes", None)
    if own is not None:
        return own()
    out = {}
    for fd, _ in proc.fdtable.open_files():
        st = proc.fstat(fd)
        if stat.S_ISSOCK(st.st_mode):
            out[fd] = st.st_ino
    return out


def _holders(trace):
    """inode -> (process index, fd, "pN/fd") of its first holder."""
    held = {}
    for index, (name, proc) in enumerate(trace.procs):
        try:
            inodes = socket_inodes(proc)
        except OSError:
            continue                        # exited
        for fd, ino in sorted(inodes.items()):
            held.setdefault(ino, (index, fd, f"{name}/{fd}"))
    return held


def _fields(line, columns):
    """The fields of one ss line under the enabled ``columns`` (header
    lines excepted), as ss wrote them, or None if it does not parse."""
    fixed = [c for c in columns if c < _ss.COL_PROC]
    parts = line.split(None, len(fixed))
    if len(parts) < len(fixed):
        return None
    row = [""] * 10
    for c, text in zip(fixed, parts):
        row[c] = text
    try:
        row[2] = "%-6d" % int(row[2])
        row[3] = "%-6d" % int(row[3])
        int(row[5])
        int(row[7])
    except ValueError:
        return None
    row[4] += " "
    row[6] += " "
    rest = parts[len(fixed)].rstrip() if len(parts) > len(fixed) else ""
    row[_ss.COL_PROC] = " " + rest if rest else ""
    return row


def normalise(text, args, trace):
    """``text`` (ss's output for ``args``) in the form :func:`ss_step`
    records: a tuple of the column titles (None without a header line) and
    the normalised rows (a tuple of fields each),
    or ``("unparsed layout", text)`` when rule 1 fails (see the module doc)."""
    o = _ss.parse(args)
    disabled = set()
    if not o.dbs & (o.dbs - 1):
        disabled.add(_ss.COL_NETID)
    if not o.states & (o.states - 1):
        disabled.add(_ss.COL_STATE)
    columns = [c for c in range(10) if c not in disabled]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = lines.pop(0) if o.show_header and lines else None
    rows = [_fields(line, columns) for line in lines]
    if any(r is None for r in rows) or _ss.render(o.show_header, rows, disabled) != text:
        return ("unparsed layout", text)
    held = _holders(trace)
    peer_of = {int(r[5]): int(r[7]) for r in rows}

    def label(ino):
        ino = int(ino)
        if ino == 0:
            return (0, 0, "0")
        if ino in held:
            return held[ino]
        peer = peer_of.get(ino, 0)
        if peer in held:
            index, fd, name = held[peer]
            return (index, fd + 0.5, "~" + name)
        return (len(trace.procs), 0, "?")

    rows.sort(key=lambda r: label(r[5])[:2] + (r[:5], r[6:]))
    vfs, devs = {}, {}
    out = []
    for r in rows:
        local = r[4][:-1]
        if _AUTOBIND.match(local):
            local = trace._norm(b"\0" + local[1:].encode())
        proc = _USER.sub(lambda m: '("%s",pid=%s,fd=%s)' % (
            m.group(1), trace._pids.get(int(m.group(2)), "pid?"), m.group(3)), r[8])
        proc = _VFS.sub(lambda m: " ino:%s dev:%s" % (
            vfs.setdefault(m.group(1), "vfs%d" % (len(vfs) + 1)),
            devs.setdefault(m.group(2, 3), "dev%d" % (len(devs) + 1))), proc)
        proc = _PEERS.sub(lambda m: " peers:" + "".join(
            " " + label(i)[2] for i in m.group(1).split()), proc)
        fields = {2: r[2].rstrip(), 3: r[3].rstrip(), 4: local, 5: label(r[5])[2],
                  6: r[6][:-1], 7: label(r[7])[2], 8: proc}
        out.append(tuple(fields.get(c, r[c]) for c in columns if c != _ss.COL_EXT))
    # The header line passed rule 1: it has the titles of the enabled columns.
    titles = (tuple(_ss._COLUMNS[c][1] for c in columns if c != _ss.COL_EXT)
              if header is not None else None)
    return (titles,) + tuple(out)


def ss_step(k, t, *args):
    """Record ``ss args`` on kernel ``k`` as one step of trace ``t``,
    normalised (see the module doc)."""
    args = list(args)
    return t.step("ss " + " ".join(args), lambda: normalise(k.ss(args), args, t))
