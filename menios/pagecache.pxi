# Included by _unix.pyx: the page cache of regular VFS files, and the moves
# of its pages into pipes and sockets (Linux's filemap_splice_read,
# iter_file_splice_write, splice_to_socket, vmsplice_to_pipe).
#
# A file's data are refcounted pages (mm/page.h), a page run per 4096 bytes
# of the file, NULL for a hole.  A write that fills FOLIO_PAGES aligned hole
# pages at once puts them in one run of that many pages (as Linux's large
# folios): each of its pages holds a reference to the run, and consecutive
# pages of one run go to a stream socket as one page skb.  Splicing a file
# into a pipe puts references to those very pages in the pipe, and sendfile
# to a stream socket queues them as page skbs: a later write to the file is
# seen by whoever reads that page from the pipe or the socket, as on Linux
# (the page is shared, not copied).  Truncating drops the cache's
# references; a pipe or a message holding a page keeps it (the whole run,
# for a large one).

# The page cache's allocator: static, so it outlives every page (a page in a
# pipe or a message may outlive the file, the VFS and the Kernel).
cdef page_pool _FILE_PAGES

#: Most page buffers one move takes at once: a default pipe's capacity (the
#: internal pipe of Linux's do_splice_direct is as large).
SPLICE_BATCH = PIPE_DEF_BUFFERS
#: The pages of a file's large page run (a 64 KiB folio; as many as one
#: SPLICE_BATCH takes, by coincidence of the two sizes).
cdef Py_ssize_t FOLIO_PAGES = 16


cdef inline unsigned int _page_off(page_run *run, Py_ssize_t i) noexcept nogil:
    """Where file page @i starts in @run, the run that holds it: a large
    run covers FOLIO_PAGES pages from an aligned index."""
    return <unsigned int>((i % <Py_ssize_t>run.npages) * PAGE_SIZE)


def pagecache_pages():
    """Pages held by regular files' data, pipes and messages that share them."""
    return page_pool_live(&_FILE_PAGES)


cdef class PageRefs:
    """Page buffers a call holds while it moves them: each a page reference
    with an offset and a length (a pipe_buffer).  Those not handed on are
    released with the object."""
    cdef pipe_buffer *bufs
    cdef unsigned int n, start, cap
    cdef readonly size_t nbytes

    def __cinit__(self, unsigned int cap):
        self.bufs = <pipe_buffer *>malloc(sizeof(pipe_buffer) * (cap if cap else 1))
        if self.bufs == NULL:
            raise MemoryError()
        self.cap = cap

    def __dealloc__(self):
        cdef unsigned int i
        if self.bufs != NULL:
            for i in range(self.start, self.n):
                page_run_put(self.bufs[i].page)
            free(self.bufs)
            self.bufs = NULL

    def __len__(self):
        return self.n - self.start

    cdef void add(self, page_run *run, unsigned int off, unsigned int length) noexcept:
        """Take a reference to @run's bytes [off, off+length)."""
        page_run_get(run)
        self.bufs[self.n].page = run
        self.bufs[self.n].offset = off
        self.bufs[self.n].len = length
        self.bufs[self.n].flags = 0
        self.n += 1
        self.nbytes += length

    cdef size_t handed(self, unsigned int k) noexcept:
        """The first @k buffers were handed on with their references: the
        bytes they held."""
        cdef size_t b = 0
        cdef unsigned int i
        for i in range(self.start, self.start + k):
            b += self.bufs[i].len
        self.start += k
        self.nbytes -= b
        return b


cdef class PageCache:
    """A regular file's data in pages (``Inode.data``).  ``len()`` is the
    file size.  Not locked: its inode's users serialise (the VFS lock)."""
    cdef page_run **pages
    cdef Py_ssize_t cap
    cdef readonly Py_ssize_t size

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self.pages != NULL:
            for i in range(self.cap):
                if self.pages[i] != NULL:
                    page_run_put(self.pages[i])
            free(self.pages)
            self.pages = NULL

    def __len__(self):
        return self.size

    cdef int _reserve(self, Py_ssize_t npages) except -1:
        cdef Py_ssize_t newcap
        cdef page_run **p
        if npages <= self.cap:
            return 0
        newcap = max(npages, self.cap * 2, 4)
        p = <page_run **>realloc(self.pages, sizeof(page_run *) * newcap)
        if p == NULL:
            raise MemoryError()
        memset(p + self.cap, 0, sizeof(page_run *) * (newcap - self.cap))
        self.pages = p
        self.cap = newcap
        return 0

    cdef void _fill_folios(self, Py_ssize_t pos, Py_ssize_t n) noexcept:
        """Before a write of @n bytes at @pos: each aligned group of
        FOLIO_PAGES hole pages the write covers whole gets one large run
        (not zeroed: the write fills it).  Capacity is reserved; a failed
        allocation leaves the holes to ``_page``."""
        cdef Py_ssize_t g, end, i
        cdef page_run *run
        g = (pos + FOLIO_PAGES * PAGE_SIZE - 1) // (FOLIO_PAGES * PAGE_SIZE) * FOLIO_PAGES
        end = (pos + n) // PAGE_SIZE
        while g + FOLIO_PAGES <= end:
            for i in range(g, g + FOLIO_PAGES):
                if self.pages[i] != NULL:
                    break
            else:
                run = page_run_alloc(&_FILE_PAGES, <size_t>FOLIO_PAGES, 0)
                if run == NULL:
                    return
                for i in range(g, g + FOLIO_PAGES):
                    if i > g:
                        page_run_get(run)
                    self.pages[i] = run
            g += FOLIO_PAGES

    cdef page_run *_page(self, Py_ssize_t i) except NULL:
        """Page @i, allocated (zero-filled) if it is a hole."""
        cdef page_run *run
        self._reserve(i + 1)
        run = self.pages[i]
        if run == NULL:
            run = page_run_alloc(&_FILE_PAGES, 1, 1)
            if run == NULL:
                raise MemoryError()
            self.pages[i] = run
        return run

    def read(self, Py_ssize_t pos, Py_ssize_t n):
        """Up to ``n`` bytes at ``pos`` (b'' at or past the end)."""
        cdef Py_ssize_t end, i, off, c, done = 0
        cdef unsigned char *out
        if pos < 0 or n < 0:
            raise ValueError("negative position or count")
        end = self.size if n >= self.size - pos else pos + n
        if pos >= end:
            return b""
        res = PyBytes_FromStringAndSize(NULL, end - pos)
        out = <unsigned char *>PyBytes_AS_STRING(res)
        while pos < end:
            i = pos // PAGE_SIZE
            off = pos % PAGE_SIZE
            c = min(PAGE_SIZE - off, end - pos)
            if i < self.cap and self.pages[i] != NULL:
                memcpy(out + done, self.pages[i].mem + _page_off(self.pages[i], i) + off, c)
            else:
                memset(out + done, 0, c)
            done += c
            pos += c
        return res

    def write(self, Py_ssize_t pos, data):
        """Write ``data`` at ``pos`` into the file's pages (in place: a pipe
        or message sharing a page sees the new bytes); the file grows to
        cover it, a gap reading as zeros.  Returns the count."""
        cdef Py_buffer view
        cdef Py_ssize_t i, off, c, done = 0
        cdef page_run *run
        if pos < 0:
            raise ValueError("negative position")
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            if view.len:
                self._reserve((pos + view.len + PAGE_SIZE - 1) // PAGE_SIZE)
                if view.len >= FOLIO_PAGES * PAGE_SIZE:
                    self._fill_folios(pos, view.len)
            while done < view.len:
                i = (pos + done) // PAGE_SIZE
                off = (pos + done) % PAGE_SIZE
                c = min(PAGE_SIZE - off, view.len - done)
                run = self._page(i)
                memcpy(run.mem + _page_off(run, i) + off, <unsigned char *>view.buf + done, c)
                done += c
            if done and pos + done > self.size:
                self.size = pos + done
            return done
        finally:
            PyBuffer_Release(&view)

    def truncate(self, Py_ssize_t length):
        """Set the size.  Shrinking drops the pages wholly past the end (a
        pipe or message holding one keeps it) and zeroes the rest of the
        last page, as truncate_inode_pages_range."""
        cdef Py_ssize_t i, keep
        if length < 0:
            raise ValueError("negative length")
        if length < self.size:
            keep = (length + PAGE_SIZE - 1) // PAGE_SIZE
            for i in range(keep, self.cap):
                if self.pages[i] != NULL:
                    page_run_put(self.pages[i])
                    self.pages[i] = NULL
            if length % PAGE_SIZE and keep - 1 < self.cap and self.pages[keep - 1] != NULL:
                memset(self.pages[keep - 1].mem + _page_off(self.pages[keep - 1], keep - 1)
                       + length % PAGE_SIZE, 0,
                       PAGE_SIZE - length % PAGE_SIZE)
        self.size = length

    def refs(self, Py_ssize_t pos, Py_ssize_t n, unsigned int max_bufs=SPLICE_BATCH):
        """References to the pages holding up to ``n`` bytes at ``pos``,
        at most ``max_bufs`` page buffers (filemap_splice_read: none at or
        past the end).  A hole gets a zero-filled page of its own."""
        cdef PageRefs r = PageRefs(max_bufs)
        cdef Py_ssize_t end, i, off, c
        cdef page_run *run
        end = self.size if n >= self.size - pos else pos + n
        while pos < end and r.n < max_bufs:
            i = pos // PAGE_SIZE
            off = pos % PAGE_SIZE
            c = min(PAGE_SIZE - off, end - pos)
            run = self._page(i)
            r.add(run, _page_off(run, i) + <unsigned int>off, <unsigned int>c)
            pos += c
        return r

    def refs_for_write(self, Py_ssize_t pos, Py_ssize_t n, unsigned int max_bufs=SPLICE_BATCH):
        """References to the pages that will hold ``n`` bytes written at
        ``pos`` (allocated as needed; the size does not change until
        ``extend(end)``)."""
        cdef PageRefs r = PageRefs(max_bufs)
        cdef Py_ssize_t end = pos + n, i, off, c
        cdef page_run *run
        self._reserve((end + PAGE_SIZE - 1) // PAGE_SIZE)
        while pos < end and r.n < max_bufs:
            i = pos // PAGE_SIZE
            off = pos % PAGE_SIZE
            c = min(PAGE_SIZE - off, end - pos)
            run = self._page(i)
            r.add(run, _page_off(run, i) + <unsigned int>off, <unsigned int>c)
            pos += c
        return r

    def extend(self, Py_ssize_t end):
        """Bytes up to ``end`` were written in place: the size covers them."""
        if end > self.size:
            self.size = end


def user_refs(buffers, bint gift):
    """vmsplice's page buffers from the user's ``buffers``: a ``Pages`` (or
    a received ``PageBuffer``) is shared page by page, its pages handed
    over when ``gift`` (the owner may write them again only after
    ``wait()`` and ``reclaim()``); any other bytes-like object is copied
    into fresh pages (page-sized buffers, as iter_to_pipe)."""
    bufs = list(buffers)
    cdef Py_ssize_t total_pages = 0, ln, off, c, pg_off
    cdef Pages pg
    cdef PageBuffer pb
    cdef page_run *run
    cdef Py_buffer view
    cdef PageRefs r
    for b in bufs:
        if isinstance(b, Pages):
            total_pages += ((<Pages>b).nbytes + PAGE_SIZE - 1) // PAGE_SIZE
        elif isinstance(b, PageBuffer):
            total_pages += ((<PageBuffer>b).nbytes + 2 * PAGE_SIZE - 1) // PAGE_SIZE
        else:
            total_pages += (len(memoryview(b).cast("B")) + 2 * PAGE_SIZE - 1) // PAGE_SIZE
    r = PageRefs(<unsigned int>min(total_pages, 1 << 20))
    for b in bufs:
        if isinstance(b, Pages):
            pg = <Pages>b
            pg._check()
            if gift:
                if pg.writable_exports:
                    raise BufferError("release writable views of the pages before gifting them")
                menios_page_set_gifted(pg.run, 1)
            off = 0
            while off < pg.nbytes and r.n < r.cap:
                r.add(pg.run, <unsigned int>off, <unsigned int>min(PAGE_SIZE, pg.nbytes - off))
                off += PAGE_SIZE
        elif isinstance(b, PageBuffer):
            pb = <PageBuffer>b
            if pb.run == NULL:
                raise ValueError("page buffer already released")
            off = <Py_ssize_t>pb.off
            ln = pb.nbytes
            while ln > 0 and r.n < r.cap:
                c = min(PAGE_SIZE - off % PAGE_SIZE, ln)
                r.add(pb.run, <unsigned int>off, <unsigned int>c)
                off += c
                ln -= c
        else:
            PyObject_GetBuffer(b, &view, PyBUF_SIMPLE)
            try:
                off = 0
                while off < view.len and r.n < r.cap:
                    # one buffer per page of the user's memory, as iter_to_pipe
                    pg_off = (<size_t>view.buf + off) % PAGE_SIZE
                    c = min(PAGE_SIZE - pg_off, view.len - off)
                    run = page_run_alloc(&_FILE_PAGES, 1, 0)
                    if run == NULL:
                        raise MemoryError()
                    memcpy(run.mem + pg_off, <unsigned char *>view.buf + off, c)
                    r.add(run, <unsigned int>pg_off, <unsigned int>c)
                    page_run_put(run)
                    off += c
            finally:
                PyBuffer_Release(&view)
    return r


def pipe_add_refs(PipeFile pipe not None, PageRefs refs not None, bint nonblock, bint zerocopy):
    """Put ``refs``' page buffers in ``pipe``, as many as fit once there is
    room (pipe_add_bufs): (bytes added, SIGPIPE due).  The buffers that went
    in leave ``refs``; empty ``refs`` only wait for room.  EAGAIN when
    ``nonblock`` and full; EPIPE (SIGPIPE due) with no reader."""
    cdef _call c
    cdef ssize_t r
    c.op = CALL_PIPE_ADD
    c.task = NULL
    c.nogil = False
    c.pipe = pipe.pipe
    c.bufs = refs.bufs + refs.start
    c.nbufs = refs.n - refs.start
    c.used = 0
    c.zerocopy = zerocopy
    c.sigpipe = 0
    r = _syscall(&c, nonblock)
    if r > 0:
        refs.handed(c.used)
    if r < 0:
        if c.sigpipe:
            raise SigPipe(-r, os.strerror(<int>-r))
        _raise(r)
    return r, c.sigpipe != 0


def pipe_read_refs(PipeFile pipe not None, PageRefs refs not None, bint nonblock):
    """Read from ``pipe`` into the bytes ``refs`` describe, in order
    (pipe_read: what is there, waiting for some unless ``nonblock``; 0 at
    EOF): the count.  The pages are written in place."""
    cdef _call c
    cdef pipe_io io
    cdef pipe_iov *iov
    cdef unsigned int i, n = refs.n - refs.start
    cdef ssize_t r
    if n == 0:
        return 0
    iov = <pipe_iov *>malloc(sizeof(pipe_iov) * n)
    if iov == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            iov[i].base = refs.bufs[refs.start + i].page.mem + refs.bufs[refs.start + i].offset
            iov[i].len = refs.bufs[refs.start + i].len
        memset(&io, 0, sizeof(pipe_io))
        io.iov = iov
        io.iovlen = n
        c.op = CALL_PIPE_READ
        c.task = NULL
        c.nogil = False
        c.pipe = pipe.pipe
        c.pio = &io
        c.want = 0
        r = _syscall(&c, nonblock)
        _check(r)
        return r
    finally:
        free(iov)


def socket_send_refs(Socket sock not None, PageRefs refs not None, proc, bint pages):
    """Send ``refs``' bytes on ``sock`` for the process ``proc``
    (splice_to_socket): with ``pages`` (a stream socket) the page buffers
    are queued as page skbs sharing their pages, one per stretch of
    buffers that follow each other in one page run, in one call that waits
    for room as a blocking send does; otherwise they go as one message,
    copied.  Returns the bytes sent; what was sent leaves ``refs``.  An
    error after some bytes went ends the call with those; else it is
    raised (SigPipe for EPIPE with SIGPIPE due)."""
    cdef unix_msg m
    cdef unix_iov *iov
    cdef unsigned int i, n = refs.n - refs.start
    cdef size_t total = 0
    cdef ssize_t r
    cdef pipe_buffer *b
    cdef _call c
    cdef _task t
    if n == 0:
        return 0
    if pages:
        c.op = CALL_SEND_BUFS
        _task_init(&t, proc)
        c.task = &t
        c.nogil = False
        c.sk = sock.sk
        c.bufs = refs.bufs + refs.start
        c.nbufs = n
        c.used = 0
        c.done = 0
        c.fmode = 0
        c.sigpipe = 0
        c.sock_full = 0
        sock._enter()
        try:
            r = _syscall(&c, (sock.f_flags & O_NONBLOCK) != 0)
        finally:
            sock._leave()
            for i in range(c.used):     # the skbs hold their own references
                page_run_put(refs.bufs[refs.start + i].page)
            refs.handed(c.used)
        if r < 0:
            if c.sigpipe:
                raise SigPipe(-r, os.strerror(<int>-r))
            _raise(r)
        return r
    iov = <unix_iov *>malloc(sizeof(unix_iov) * n)
    if iov == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            b = &refs.bufs[refs.start + i]
            iov[i].base = b.page.mem + b.offset
            iov[i].len = b.len
            total += b.len
        _msg_init(&m, iov, n, 0)
        r = sock._send(&m, total, proc)
    finally:
        free(iov)
    # a datagram goes whole: every buffer was sent
    while refs.start < refs.n:
        page_run_put(refs.bufs[refs.start].page)
        refs.handed(1)
    return r


def pipe_read_into(PipeFile pipe not None, buffers, bint nonblock):
    """vmsplice_to_user: one pipe_read into the writable ``buffers`` in
    turn (what is there, waiting for some unless ``nonblock``; 0 at EOF),
    across packet boundaries (an O_DIRECT pipe's packets are not read
    whole): the count.  EFAULT for a read-only buffer."""
    cdef list bufs = list(buffers)
    cdef Py_ssize_t n = len(bufs), i, got = 0
    cdef Py_buffer *views
    cdef pipe_iov *iov
    cdef pipe_io io
    cdef _call c
    cdef ssize_t r
    views = <Py_buffer *>malloc(sizeof(Py_buffer) * (n + 1))
    iov = <pipe_iov *>malloc(sizeof(pipe_iov) * (n + 1))
    if views == NULL or iov == NULL:
        free(views)
        free(iov)
        raise MemoryError()
    try:
        for i in range(n):
            try:
                PyObject_GetBuffer(bufs[i], &views[i], PyBUF_WRITABLE)
            except BufferError:
                raise OSError(EFAULT, os.strerror(EFAULT)) from None
            got += 1
            iov[i].base = views[i].buf
            iov[i].len = <size_t>views[i].len
        memset(&io, 0, sizeof(pipe_io))
        io.iov = iov
        io.iovlen = <unsigned int>n
        io.splice = 1
        c.op = CALL_PIPE_READ
        c.task = NULL
        c.nogil = False
        c.pipe = pipe.pipe
        c.pio = &io
        c.want = 0
        r = _syscall(&c, nonblock)
        _check(r)
        return r
    finally:
        for i in range(got):
            PyBuffer_Release(&views[i])
        free(views)
        free(iov)


def splice_pipe_to_socket(PipeFile pipe not None, Socket sock not None, size_t count,
                          bint pipe_nonblock, proc):
    """splice from a pipe into an AF_UNIX socket (pipe_splice_to_socket):
    (bytes moved, SIGPIPE due).  A stream socket gets the pipe's pages
    as page skbs, the others a copy per batch.  EAGAIN when the pipe is
    empty and ``pipe_nonblock``, or the socket is O_NONBLOCK and full;
    the socket's own errors (EPIPE with SIGPIPE due, ENOTCONN ...)."""
    cdef _call c
    cdef _task t
    cdef ssize_t r
    c.op = CALL_PIPE_TO_SOCK
    _task_init(&t, proc)
    c.task = &t
    c.nogil = False
    c.pipe = pipe.pipe
    c.sk = sock.sk
    c.want = count
    c.done = 0
    c.pipe_nonblock = pipe_nonblock
    c.fmode = (sock.f_flags & O_NONBLOCK) != 0          # MSG_DONTWAIT
    c.zerocopy = sock.type == SOCK_STREAM               # page skbs
    c.sigpipe = 0
    c.sock_full = 0
    sock._enter()
    try:
        r = _syscall(&c, False)
    finally:
        sock._leave()
    if r < 0:
        if c.sigpipe:
            raise SigPipe(-r, os.strerror(<int>-r))
        _raise(r)
    return r, c.sigpipe != 0


def splice_socket_to_pipe(Socket sock not None, PipeFile pipe not None, size_t count,
                          bint pipe_nonblock, bint dontwait, ProcessBase proc not None):
    """splice from an AF_UNIX socket into a pipe (pipe_splice_from_socket):
    (bytes moved, SIGPIPE due).  A stream's skbs go in as Linux's would:
    their linear bytes copied into ``proc``'s page fragment, their page
    fragments by reference; another type's message by reference if it was
    sent in pages, else copied.  Files a message carried are closed, as a
    read without control space does."""
    cdef _call c
    cdef ssize_t r
    cdef unix_msg m
    c.op = CALL_SOCK_TO_PIPE
    c.frag = NULL
    if sock.type == SOCK_STREAM:
        # a process's sockets are all its kernel's: that net's pool gives
        # the fragment's page, and the reference keeps the pool
        proc.frag_net = sock.net
        c.frag = &proc.frag
    c.task = NULL
    c.nogil = False
    c.pipe = pipe.pipe
    c.sk = sock.sk
    c.want = count
    c.pipe_nonblock = pipe_nonblock
    c.fmode = dontwait
    c.sigpipe = 0
    c.rfp = NULL
    sock._enter()
    try:
        r = _syscall(&c, False)
    finally:
        sock._leave()
        if c.rfp != NULL:
            memset(&m, 0, sizeof(unix_msg))
            m.rfp = c.rfp
            for f in sock._take_files(&m):
                f.fput()
    if r < 0:
        if c.sigpipe:
            raise SigPipe(-r, os.strerror(<int>-r))
        _raise(r)
    return r, c.sigpipe != 0
