/*
 * fs/pipe.c - pipes, after Linux's fs/pipe.c: a ring of page buffers,
 * PIPE_BUF-atomic writes, small writes merged into the last page, O_DIRECT
 * packets, F_SETPIPE_SZ, pipe_poll's bits.  A write into an empty pipe
 * whose reader sleeps there is copied straight into the reader's buffer
 * (pipe_handoff; stream.c does the same for stream sockets): one copy and no
 * page instead of two copies, and the pipe stays empty for the write after
 * it.  The reader sees what Linux's would once it ran (the bytes, then the
 * rest of the write in the pipe); only a FIONREAD or poll between the write
 * and the reader's return can tell (the bytes are not in the pipe).
 *
 * Locking: see the contract in pipe.h.  In short: pipe.mutex serialises the
 * pipe's readers and writers and is held across copies; the net lock guards
 * the wait queues, the readers' offers and the state poll reads (head,
 * tail, max_usage, readers, writers), which change with both held.  Order
 * pipe.mutex -> net.lock.
 *
 * Splice with sockets (fs/splice.c's splice_to_socket and
 * splice_file_to_pipe over unix_stream_splice_read) lives here too:
 * pipe_splice_to_socket and pipe_splice_from_socket call the socket's
 * unix_sendmsg / unix_recvmsg / unix_recv_pages with the pipe's mutex held.
 *
 * Known differences from Linux:
 *   [TO FIX]
 *     - No per-user pipe-buffer accounting (pipe-user-pages-soft/hard): a
 *       new pipe always gets 16 slots and only pipe-max-size bounds growth.
 *     - A datagram or seqpacket message sent in pages goes into a pipe by
 *       reference only whole and when it fits the free slots; otherwise it
 *       is copied.
 *     - From a stream socket, Linux's skb_splice_bits gives each skb pipe
 *       buffers of its own: its head copied into the reading socket's
 *       32 KiB page fragment (linear_to_page; split where that page ends),
 *       then one buffer per page fragment, each a compound page of up to
 *       32 KiB (alloc_skb_with_frags).  Here plain skbs are copied into
 *       fresh pages across skb boundaries and a paged skb goes over one
 *       buffer per 4 KiB page, so a call may move more or fewer bytes
 *       (twenty 100-byte sends: Linux 1600, here 2000).
 *   [NOT TO FIX]
 *     - No notification pipes (O_NOTIFICATION_PIPE is ENOPKG, as a kernel
 *       built without CONFIG_WATCH_QUEUE answers).
 *     - A call blocked when the net is torn down fails with ESHUTDOWN.
 */
#include "../lib/string.h"
#include "pipe.h"
#include "../net/unix/unix_socket.h"

static inline unsigned int pipe_occupancy(unsigned int head, unsigned int tail)
{
	return head - tail;
}

static inline int pipe_empty(unsigned int head, unsigned int tail)
{
	return head == tail;
}

static inline int pipe_full(unsigned int head, unsigned int tail, unsigned int limit)
{
	return pipe_occupancy(head, tail) >= limit;
}

static inline struct pipe_buffer *pipe_buf(struct pipe_inode_info *pipe, unsigned int i)
{
	return &pipe->bufs[i & (pipe->ring_size - 1)];
}

/* ------------------------------------------------------------ lifetime --- */

struct pipe_inode_info *pipe_alloc(struct unix_net *net)
{
	struct pipe_inode_info *pipe = plat_zalloc(sizeof(*pipe));

	if (!pipe)
		return NULL;
	pipe->bufs = plat_zalloc(PIPE_DEF_BUFFERS * sizeof(*pipe->bufs));
	if (!pipe->bufs) {
		plat_free(pipe);
		return NULL;
	}
	plat_mutex_init(&pipe->mutex);
	pipe->net = net;
	pipe->ring_size = pipe->max_usage = PIPE_DEF_BUFFERS;
	pipe->refcnt = 1;
	wq_init(&pipe->rd_wait);
	wq_init(&pipe->wr_wait);
	plat_mutex_lock(&net->lock);
	list_add(&pipe->link, &net->pipes);
	plat_mutex_unlock(&net->lock);
	return pipe;
}

struct pipe_inode_info *pipe_create(struct unix_net *net)
{
	struct pipe_inode_info *pipe = pipe_alloc(net);

	if (!pipe)
		return NULL;
	/* get_pipe_inode: one reader and one writer, each counted as an open */
	pipe->readers = pipe->writers = 1;
	pipe->r_counter = pipe->w_counter = 1;
	return pipe;
}

void pipe_get(struct pipe_inode_info *pipe)
{
	plat_mutex_lock(&pipe->net->lock);
	pipe->refcnt++;
	plat_mutex_unlock(&pipe->net->lock);
}

static void pipe_buf_release(struct pipe_inode_info *pipe, struct pipe_buffer *buf);

void pipe_put(struct pipe_inode_info *pipe)
{
	struct unix_net *net = pipe->net;
	unsigned int i;
	int last, free_net;

	plat_mutex_lock(&net->lock);
	last = --pipe->refcnt == 0;
	if (last)
		list_del_init(&pipe->link);
	free_net = last && __unix_net_unused(net);
	plat_mutex_unlock(&net->lock);
	if (!last)
		return;
	/* free_pipe_info: nobody can reach the pipe any more */
	for (i = pipe->tail; i != pipe->head; i++)
		pipe_buf_release(pipe, pipe_buf(pipe, i));
	if (pipe->tmp_page)
		page_run_put(pipe->tmp_page);
	plat_free(pipe->bufs);
	plat_mutex_destroy(&pipe->mutex);
	wq_destroy(&pipe->rd_wait);
	wq_destroy(&pipe->wr_wait);
	plat_free(pipe);
	if (free_net)
		unix_net_free(net);
}

/*
 * wait_for_partner: sleep until *@cnt moves on from @cur.  Called and
 * returns with both locks held; sleeps with neither.
 */
static int __pipe_wait_for_partner(struct pipe_inode_info *pipe, unsigned int *cnt,
				   unsigned int cur, struct wait_ctl *ctl)
{
	struct unix_net *net = pipe->net;
	int err;

	plat_mutex_unlock(&net->lock);
	plat_mutex_unlock(&pipe->mutex);
	plat_mutex_lock(&net->lock);
	err = 0;
	while (*cnt == cur) {
		err = __unix_net_sleep(net, &pipe->rd_wait, ctl, 0, 0);
		if (err)
			break;
	}
	plat_mutex_unlock(&net->lock);
	plat_mutex_lock(&pipe->mutex);
	plat_mutex_lock(&net->lock);
	return *cnt == cur ? err : 0;
}

int pipe_fifo_open(struct pipe_inode_info *pipe, int fmode, int nonblock,
		   struct wait_ctl *ctl, unsigned int *version)
{
	struct unix_net *net = pipe->net;
	int err = 0, trying;

	wait_ctl_begin(ctl, -1);
	trying = ctl->deadline == WAIT_NONBLOCK;
	*version = 0;
	plat_mutex_lock(&pipe->mutex);
	plat_mutex_lock(&net->lock);
	switch (fmode) {
	case PIPE_FMODE_READ:
		if (trying && !nonblock && !pipe->writers) {
			err = -EAGAIN;
			break;
		}
		pipe->r_counter++;
		if (pipe->readers++ == 0)
			__wake_up_all(&pipe->rd_wait);	/* wake_up_partner */
		if (!pipe->writers) {
			if (nonblock) {
				*version = pipe->w_counter;
			} else {
				err = __pipe_wait_for_partner(pipe, &pipe->w_counter,
							      pipe->w_counter, ctl);
				if (err && !--pipe->readers)
					__wake_up(&pipe->wr_wait, 1);
			}
		}
		break;
	case PIPE_FMODE_WRITE:
		if (nonblock && !pipe->readers) {
			err = -ENXIO;
			break;
		}
		if (trying && !pipe->readers) {
			err = -EAGAIN;
			break;
		}
		pipe->w_counter++;
		if (!pipe->writers++)
			__wake_up_all(&pipe->rd_wait);
		if (!pipe->readers) {
			err = __pipe_wait_for_partner(pipe, &pipe->r_counter,
						      pipe->r_counter, ctl);
			if (err && !--pipe->writers)
				__wake_up_all(&pipe->rd_wait);
		}
		break;
	case PIPE_FMODE_READ | PIPE_FMODE_WRITE:
		pipe->readers++;
		pipe->writers++;
		pipe->r_counter++;
		pipe->w_counter++;
		if (pipe->readers == 1 || pipe->writers == 1)
			__wake_up_all(&pipe->rd_wait);
		break;
	default:
		err = -EINVAL;
	}
	plat_mutex_unlock(&net->lock);
	plat_mutex_unlock(&pipe->mutex);
	return err;
}

/* pipe_release: when one side is gone, wake the other (EOF, EPIPE). */
void pipe_release(struct pipe_inode_info *pipe, int fmode)
{
	struct unix_net *net = pipe->net;

	plat_mutex_lock(&pipe->mutex);
	plat_mutex_lock(&net->lock);
	if (fmode & PIPE_FMODE_READ)
		pipe->readers--;
	if (fmode & PIPE_FMODE_WRITE)
		pipe->writers--;
	if (!pipe->readers != !pipe->writers) {
		__wake_up_all(&pipe->rd_wait);
		__wake_up_all(&pipe->wr_wait);
	}
	plat_mutex_unlock(&net->lock);
	plat_mutex_unlock(&pipe->mutex);
}

void __pipe_kick_all(struct unix_net *net)
{
	struct list_head *pos, *n;

	list_for_each_safe(pos, n, &net->pipes) {
		struct pipe_inode_info *pipe = list_entry(pos, struct pipe_inode_info, link);

		__kick_all(&pipe->rd_wait);
		__kick_all(&pipe->wr_wait);
	}
}

/* ------------------------------------------------------------- buffers --- */

/* anon_pipe_buf_release: keep one page the pipe alone holds for the next write. */
static void pipe_buf_release(struct pipe_inode_info *pipe, struct pipe_buffer *buf)
{
	struct page_run *page = buf->page;

	buf->page = NULL;
	if (!page)
		return;
	if (!pipe->tmp_page && atomic_load(&page->refcnt) == 1)
		pipe->tmp_page = page;
	else
		page_run_put(page);
}

static size_t pipe_io_total(const struct pipe_io *io)
{
	size_t total = 0;
	unsigned int i;

	for (i = 0; i < io->iovlen; i++)
		total += io->iov[i].len;
	return total;
}

/* @c bytes of the current iovec were moved: advance the cursor past them. */
static void pipe_io_advance(struct pipe_io *io, size_t c)
{
	io->done += c;
	io->iov_off += c;
	if (io->iov_off == io->iov[io->iov_idx].len) {
		io->iov_idx++;
		io->iov_off = 0;
	}
}

/* Copy @n bytes between the user's buffers (from the cursor on) and @mem. */
static void pipe_io_copy(struct pipe_io *io, unsigned char *mem, size_t n, int to_user)
{
	while (n) {
		struct pipe_iov *v = &io->iov[io->iov_idx];
		size_t c = v->len - io->iov_off;

		if (c > n)
			c = n;
		if (to_user)
			memcpy((unsigned char *)v->base + io->iov_off, mem, c);
		else
			memcpy(mem, (unsigned char *)v->base + io->iov_off, c);
		mem += c;
		n -= c;
		pipe_io_advance(io, c);
	}
}

/*
 * Copy @n bytes from the writer's buffers @src into the reader's @dst, both
 * from their cursors on (the direct handoff).
 */
static void pipe_io_xfer(struct pipe_io *dst, struct pipe_io *src, size_t n)
{
	while (n) {
		struct pipe_iov *v = &dst->iov[dst->iov_idx];
		size_t c = v->len - dst->iov_off;

		if (c > n)
			c = n;
		pipe_io_copy(src, (unsigned char *)v->base + dst->iov_off, c, 0);
		n -= c;
		pipe_io_advance(dst, c);
	}
}

/*
 * A reader's offer is over: withdraw it if no writer took it, after any copy
 * into its buffer still running has finished.  Returns the bytes handed
 * over.  Caller holds net.lock.
 */
static size_t __pipe_handoff_end(struct pipe_inode_info *pipe, struct pipe_handoff *h)
{
	while (h->busy) {
		plat_mutex_unlock(&pipe->net->lock);
		plat_yield();
		plat_mutex_lock(&pipe->net->lock);
	}
	if (pipe->handoff == h)
		pipe->handoff = NULL;
	return h->got;
}

/* ---------------------------------------------------------------- read --- */

static int __pipe_readable(const struct pipe_inode_info *pipe)
{
	return !pipe_empty(pipe->head, pipe->tail) || !pipe->writers;
}

static int __pipe_writable(const struct pipe_inode_info *pipe)
{
	return !pipe_full(pipe->head, pipe->tail, pipe->max_usage) || !pipe->readers;
}

/*
 * Sleep until @cond (checked under net.lock) holds; 0 or what ended the
 * sleep (-EAGAIN non-blocking, -ERESTARTSYS/-EINTR, -ESHUTDOWN).
 */
#define __pipe_wait_event(err, net, wq, ctl, cond)				\
	do {									\
		(err) = 0;							\
		while (!(cond)) {						\
			(err) = __unix_net_sleep((net), (wq), (ctl), 0, 1);	\
			if (err)						\
				break;						\
		}								\
	} while (0)

ssize_t pipe_read(struct pipe_inode_info *pipe, struct pipe_io *io, struct wait_ctl *ctl)
{
	struct unix_net *net = pipe->net;
	size_t total_len = pipe_io_total(io) - io->done;
	ssize_t ret = 0;
	int was_full, wake_next_reader = 0, err, offered;
	struct pipe_handoff h;

	if (total_len == 0)
		return 0;	/* a null read succeeds at once */
	wait_ctl_begin(ctl, -1);	/* a pipe has no timeout */
	plat_mutex_lock(&pipe->mutex);
	was_full = pipe_full(pipe->head, pipe->tail, pipe->max_usage);
	for (;;) {
		unsigned int tail = pipe->tail;

		if (!pipe_empty(pipe->head, tail)) {
			struct pipe_buffer *buf = pipe_buf(pipe, tail);
			size_t chars = buf->len;

			if (chars > total_len)
				chars = total_len;
			pipe_io_copy(io, buf->page->mem + buf->offset, chars, 1);
			ret += (ssize_t)chars;
			buf->offset += (unsigned int)chars;
			buf->len -= (unsigned int)chars;
			if ((buf->flags & PIPE_BUF_FLAG_PACKET) && !io->splice) {
				total_len = chars;	/* a packet is read whole; the rest goes */
				buf->len = 0;
			}
			unix_cnt_add(net, bytes_copied, (int64_t)chars);	/* an atomic */
			if (!buf->len) {
				pipe_buf_release(pipe, buf);
				plat_mutex_lock(&net->lock);
				pipe->tail = ++tail;
				plat_mutex_unlock(&net->lock);
			}
			pipe->bytes_copied += (int64_t)chars;
			total_len -= chars;
			if (!total_len)
				break;
			if (!pipe_empty(pipe->head, tail))
				continue;
		}
		if (!pipe->writers)
			break;
		if (ret)
			break;
		plat_mutex_unlock(&pipe->mutex);
		plat_mutex_lock(&net->lock);
		if (was_full)
			__wake_up(&pipe->wr_wait, 1);
		/* A blocking read of an empty pipe offers its buffer to writers
		 * while it sleeps (pipe_handoff). */
		offered = ctl->deadline != WAIT_NONBLOCK && !pipe->handoff &&
			  pipe_empty(pipe->head, pipe->tail);
		if (offered) {
			h = (struct pipe_handoff){ io, total_len, 0, 0 };
			pipe->handoff = &h;
		}
		__pipe_wait_event(err, net, &pipe->rd_wait, ctl,
				  __pipe_readable(pipe) || (offered && pipe->handoff != &h));
		if (offered) {
			size_t got = __pipe_handoff_end(pipe, &h);

			ret += (ssize_t)got;
			total_len -= got;
		}
		plat_mutex_unlock(&net->lock);
		if (err && !ret)
			return err;
		plat_mutex_lock(&pipe->mutex);
		if (err || !total_len)
			break;
		was_full = pipe_full(pipe->head, pipe->tail, pipe->max_usage);
		wake_next_reader = 1;
	}
	if (pipe_empty(pipe->head, pipe->tail))
		wake_next_reader = 0;
	plat_mutex_unlock(&pipe->mutex);
	plat_mutex_lock(&net->lock);
	if (was_full)
		__wake_up(&pipe->wr_wait, 1);
	if (wake_next_reader)
		__wake_up(&pipe->rd_wait, 1);
	plat_mutex_unlock(&net->lock);
	return ret;
}

/* --------------------------------------------------------------- write --- */

/* Put a page with @len bytes at the head (with net.lock: poll sees it). */
static void pipe_push(struct pipe_inode_info *pipe, struct page_run *page,
		      unsigned int len, unsigned int flags)
{
	struct unix_net *net = pipe->net;
	struct pipe_buffer *buf = pipe_buf(pipe, pipe->head);

	buf->page = page;
	buf->offset = 0;
	buf->len = len;
	buf->flags = flags;
	plat_mutex_lock(&net->lock);
	pipe->head++;
	unix_cnt_add(net, bytes_copied, len);
	plat_mutex_unlock(&net->lock);
	pipe->bytes_copied += len;
}

/*
 * The direct handoff: with a reader asleep on the empty pipe offering its
 * buffer, copy up to *@total_len bytes of @io straight into it and end the
 * offer (a read returns once it has bytes).  What does not fit goes into
 * the pipe as usual.  Returns 1 when the whole write went over.  Caller
 * holds pipe.mutex, so no other writer comes between and no byte can be
 * in the pipe before these.
 */
static int pipe_handoff(struct pipe_inode_info *pipe, struct pipe_io *io, size_t *total_len)
{
	struct unix_net *net = pipe->net;
	struct pipe_handoff *h;
	size_t n;

	plat_mutex_lock(&net->lock);
	h = pipe->handoff;
	if (h && !h->busy)
		h->busy = 1;
	else
		h = NULL;
	plat_mutex_unlock(&net->lock);
	if (!h)
		return 0;
	n = *total_len < h->room ? *total_len : h->room;
	pipe_io_xfer(h->io, io, n);
	unix_cnt_add(net, bytes_copied, (int64_t)n);	/* an atomic */
	pipe->bytes_copied += (int64_t)n;
	*total_len -= n;
	plat_mutex_lock(&net->lock);
	h->got += n;
	h->room -= n;
	h->busy = 0;
	pipe->handoff = NULL;
	__wake_up_all(&pipe->rd_wait);
	plat_mutex_unlock(&net->lock);
	return *total_len == 0;
}

ssize_t pipe_write(struct pipe_inode_info *pipe, struct pipe_io *io, struct wait_ctl *ctl)
{
	struct unix_net *net = pipe->net;
	size_t total_len = pipe_io_total(io) - io->done, chars;
	size_t start = io->done;
	int was_empty, wake_next_writer = 0, err = 0;

	if (total_len == 0)
		return (ssize_t)io->done;	/* a null write succeeds, reader or not */
	wait_ctl_begin(ctl, -1);
	plat_mutex_lock(&pipe->mutex);
	if (!pipe->readers) {
		io->sigpipe = 1;
		err = -EPIPE;
		goto out;
	}
	was_empty = pipe_empty(pipe->head, pipe->tail);
	if (was_empty && !io->packet && pipe_handoff(pipe, io, &total_len))
		goto out;
	/*
	 * The odd bytes of a write (all of a small one) may go into the last
	 * page if they fit there whole: that is what keeps writes of up to
	 * PIPE_BUF bytes atomic while small writes share pages.  Only at the
	 * start of a call (a call continued after its non-blocking attempt is
	 * the same write).
	 */
	chars = total_len & (PAGE_SIZE_BYTES - 1);
	if (chars && !was_empty && io->done == 0) {
		struct pipe_buffer *buf = pipe_buf(pipe, pipe->head - 1);
		size_t offset = buf->offset + buf->len;

		if ((buf->flags & PIPE_BUF_FLAG_CAN_MERGE) && offset + chars <= PAGE_SIZE_BYTES) {
			pipe_io_copy(io, buf->page->mem + offset, chars, 0);
			plat_mutex_lock(&net->lock);
			buf->len += (unsigned int)chars;
			unix_cnt_add(net, bytes_copied, (int64_t)chars);
			plat_mutex_unlock(&net->lock);
			pipe->bytes_copied += (int64_t)chars;
			total_len -= chars;
			if (!total_len)
				goto out;
		}
	}
	for (;;) {
		if (!pipe->readers) {
			io->sigpipe = 1;
			err = -EPIPE;
			break;
		}
		if (!pipe_full(pipe->head, pipe->tail, pipe->max_usage)) {
			struct page_run *page = pipe->tmp_page;
			size_t copied = total_len < PAGE_SIZE_BYTES ? total_len : PAGE_SIZE_BYTES;

			if (!page) {
				page = page_run_alloc(&net->pool, 1, 0);
				if (!page) {
					err = -ENOMEM;
					break;
				}
			}
			pipe->tmp_page = NULL;
			pipe_io_copy(io, page->mem, copied, 0);
			pipe_push(pipe, page, (unsigned int)copied,
				  io->packet ? PIPE_BUF_FLAG_PACKET : PIPE_BUF_FLAG_CAN_MERGE);
			total_len -= copied;
			if (!total_len)
				break;
			continue;
		}
		/* Full: wait for a reader to make room. */
		plat_mutex_unlock(&pipe->mutex);
		plat_mutex_lock(&net->lock);
		if (was_empty || io->done > start)
			__wake_up(&pipe->rd_wait, 1);
		__pipe_wait_event(err, net, &pipe->wr_wait, ctl, __pipe_writable(pipe));
		plat_mutex_unlock(&net->lock);
		plat_mutex_lock(&pipe->mutex);
		if (err)
			break;
		was_empty = pipe_empty(pipe->head, pipe->tail);
		wake_next_writer = 1;
		if (was_empty && !io->packet && pipe_handoff(pipe, io, &total_len))
			break;
	}
out:
	if (pipe_full(pipe->head, pipe->tail, pipe->max_usage))
		wake_next_writer = 0;
	plat_mutex_unlock(&pipe->mutex);
	plat_mutex_lock(&net->lock);
	if (io->done > start)
		__wake_up(&pipe->rd_wait, 1);
	if (wake_next_writer)
		__wake_up(&pipe->wr_wait, 1);
	plat_mutex_unlock(&net->lock);
	return io->done ? (ssize_t)io->done : err;
}

/* -------------------------------------------------------------- splice --- */

/* ipipe_prep: wait (net.lock held) until @pipe has data or no writer. */
static int __pipe_ipipe_prep(struct pipe_inode_info *pipe, struct wait_ctl *ctl)
{
	int err = 0;

	while (pipe_empty(pipe->head, pipe->tail) && pipe->writers) {
		err = __unix_net_sleep(pipe->net, &pipe->rd_wait, ctl, 0, 0);
		if (err)
			break;
	}
	return err;
}

/* opipe_prep: wait (net.lock held) until @pipe has room; -EPIPE without reader. */
static int __pipe_opipe_prep(struct pipe_inode_info *pipe, struct wait_ctl *ctl,
			     int *sigpipe)
{
	int err = 0;

	while (pipe_full(pipe->head, pipe->tail, pipe->max_usage)) {
		if (!pipe->readers) {
			*sigpipe = 1;
			return -EPIPE;
		}
		err = __unix_net_sleep(pipe->net, &pipe->wr_wait, ctl, 0, 0);
		if (err)
			break;
	}
	return err;
}

/* pipe_double_lock: the two mutexes in address order, then net.lock. */
static void pipe_double_lock(struct pipe_inode_info *a, struct pipe_inode_info *b)
{
	if (a > b) {
		struct pipe_inode_info *t = a;

		a = b;
		b = t;
	}
	plat_mutex_lock(&a->mutex);
	plat_mutex_lock(&b->mutex);
	plat_mutex_lock(&a->net->lock);
}

static void pipe_double_unlock(struct pipe_inode_info *a, struct pipe_inode_info *b)
{
	plat_mutex_unlock(&a->net->lock);
	plat_mutex_unlock(&a->mutex);
	plat_mutex_unlock(&b->mutex);
}

/* Both preps, with the net lock only (they read what poll reads). */
static int pipe_splice_prep(struct pipe_inode_info *ipipe, struct pipe_inode_info *opipe,
			    struct wait_ctl *ctl, int *sigpipe)
{
	struct unix_net *net = ipipe->net;
	int err;

	plat_mutex_lock(&net->lock);
	err = __pipe_ipipe_prep(ipipe, ctl);
	if (!err)
		err = __pipe_opipe_prep(opipe, ctl, sigpipe);
	plat_mutex_unlock(&net->lock);
	return err;
}

ssize_t pipe_splice(struct pipe_inode_info *ipipe, struct pipe_inode_info *opipe,
		    size_t len, struct wait_ctl *ctl, int *sigpipe)
{
	struct unix_net *net = ipipe->net;
	int input_wakeup = 0, nonblock, err;
	ssize_t ret;

	if (!len)
		return 0;	/* sys_splice: before any check or wait */
	if (ipipe == opipe)
		return -EINVAL;
	wait_ctl_begin(ctl, -1);
	nonblock = ctl->deadline == WAIT_NONBLOCK;
retry:
	err = pipe_splice_prep(ipipe, opipe, ctl, sigpipe);
	if (err)
		return err;
	ret = 0;
	pipe_double_lock(ipipe, opipe);
	do {
		struct pipe_buffer *ibuf, *obuf;
		size_t o_len;

		if (!opipe->readers) {
			*sigpipe = 1;
			if (!ret)
				ret = -EPIPE;
			break;
		}
		if (pipe_empty(ipipe->head, ipipe->tail) && !ipipe->writers)
			break;
		if (pipe_empty(ipipe->head, ipipe->tail) ||
		    pipe_full(opipe->head, opipe->tail, opipe->max_usage)) {
			if (ret)
				break;
			if (nonblock) {
				ret = -EAGAIN;
				break;
			}
			pipe_double_unlock(ipipe, opipe);
			goto retry;	/* raced with another reader or writer */
		}
		ibuf = pipe_buf(ipipe, ipipe->tail);
		obuf = pipe_buf(opipe, opipe->head);
		if (len >= ibuf->len) {
			*obuf = *ibuf;		/* the whole buffer moves, page and all */
			ibuf->page = NULL;
			ipipe->tail++;
			input_wakeup = 1;
		} else {
			page_run_get(ibuf->page);	/* the page is shared */
			*obuf = *ibuf;
			obuf->flags &= ~PIPE_BUF_FLAG_CAN_MERGE;
			obuf->len = (unsigned int)len;
			ibuf->offset += (unsigned int)len;
			ibuf->len -= (unsigned int)len;
		}
		o_len = obuf->len;
		opipe->head++;
		unix_cnt_add(net, bytes_zerocopy, (int64_t)o_len);
		ret += (ssize_t)o_len;
		len -= o_len;
	} while (len);
	if (ret > 0)
		__wake_up(&opipe->rd_wait, 1);
	if (input_wakeup)
		__wake_up(&ipipe->wr_wait, 1);
	pipe_double_unlock(ipipe, opipe);
	return ret;
}

ssize_t pipe_tee(struct pipe_inode_info *ipipe, struct pipe_inode_info *opipe,
		 size_t len, struct wait_ctl *ctl, int *sigpipe)
{
	struct unix_net *net = ipipe->net;
	unsigned int i_tail;
	ssize_t ret = 0;
	int err;

	if (!len)
		return 0;	/* sys_tee: before any check or wait */
	if (ipipe == opipe)
		return -EINVAL;
	wait_ctl_begin(ctl, -1);
	err = pipe_splice_prep(ipipe, opipe, ctl, sigpipe);
	if (err)
		return err;
	pipe_double_lock(ipipe, opipe);
	i_tail = ipipe->tail;
	do {
		struct pipe_buffer *ibuf, *obuf;

		if (!opipe->readers) {
			*sigpipe = 1;
			if (!ret)
				ret = -EPIPE;
			break;
		}
		if (i_tail == ipipe->head || pipe_full(opipe->head, opipe->tail, opipe->max_usage))
			break;
		ibuf = pipe_buf(ipipe, i_tail);
		obuf = pipe_buf(opipe, opipe->head);
		page_run_get(ibuf->page);
		*obuf = *ibuf;
		obuf->flags &= ~PIPE_BUF_FLAG_CAN_MERGE;
		if (obuf->len > len)
			obuf->len = (unsigned int)len;
		ret += obuf->len;
		len -= obuf->len;
		unix_cnt_add(net, bytes_zerocopy, obuf->len);
		opipe->head++;
		i_tail++;
	} while (len);
	if (ret > 0)
		__wake_up(&opipe->rd_wait, 1);
	pipe_double_unlock(ipipe, opipe);
	return ret;
}

/* ------------------------------------------------------------- control --- */

long pipe_get_size(struct pipe_inode_info *pipe)
{
	long size;

	plat_mutex_lock(&pipe->mutex);
	size = (long)pipe->max_usage * PAGE_SIZE_BYTES;
	plat_mutex_unlock(&pipe->mutex);
	return size;
}

/* round_pipe_size: whole pages, a power of two of them; 0 when too big. */
static unsigned int round_pipe_size(unsigned int size)
{
	unsigned int r = PAGE_SIZE_BYTES;

	if (size > (1U << 31))
		return 0;
	while (r < size)
		r <<= 1;
	return r;
}

/* pipe_resize_ring: move the buffers in use to a ring of @nr_slots. */
static int pipe_resize_ring(struct pipe_inode_info *pipe, unsigned int nr_slots)
{
	struct unix_net *net = pipe->net;
	struct pipe_buffer *bufs;
	unsigned int n = pipe_occupancy(pipe->head, pipe->tail), i;

	if (nr_slots < n)
		return -EBUSY;
	bufs = plat_zalloc((size_t)nr_slots * sizeof(*bufs));
	if (!bufs)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		bufs[i] = *pipe_buf(pipe, pipe->tail + i);
	plat_mutex_lock(&net->lock);
	plat_free(pipe->bufs);
	pipe->bufs = bufs;
	pipe->tail = 0;
	pipe->head = n;
	pipe->ring_size = pipe->max_usage = nr_slots;
	__wake_up_all(&pipe->wr_wait);	/* growing may have made room */
	plat_mutex_unlock(&net->lock);
	return 0;
}

long pipe_set_size(struct pipe_inode_info *pipe, unsigned int arg,
		   unsigned int max_size, int privileged)
{
	unsigned int size = round_pipe_size(arg), nr_slots = size / PAGE_SIZE_BYTES;
	long ret;

	if (!nr_slots)
		return -EINVAL;
	plat_mutex_lock(&pipe->mutex);
	if (nr_slots > pipe->max_usage && size > max_size && !privileged) {
		ret = -EPERM;
		goto out;
	}
	ret = pipe_resize_ring(pipe, nr_slots);
	if (!ret)
		ret = (long)pipe->max_usage * PAGE_SIZE_BYTES;
out:
	plat_mutex_unlock(&pipe->mutex);
	return ret;
}

int pipe_nread(struct pipe_inode_info *pipe)
{
	unsigned int i;
	int count = 0;

	plat_mutex_lock(&pipe->mutex);
	for (i = pipe->tail; i != pipe->head; i++)
		count += (int)pipe_buf(pipe, i)->len;
	plat_mutex_unlock(&pipe->mutex);
	return count;
}

unsigned int __pipe_poll(struct pipe_inode_info *pipe, int fmode, unsigned int version)
{
	unsigned int mask = 0;

	if (fmode & PIPE_FMODE_READ) {
		if (!pipe_empty(pipe->head, pipe->tail))
			mask |= POLLIN | POLLRDNORM;
		if (!pipe->writers && version != pipe->w_counter)
			mask |= POLLHUP;
	}
	if (fmode & PIPE_FMODE_WRITE) {
		if (!pipe_full(pipe->head, pipe->tail, pipe->max_usage))
			mask |= POLLOUT | POLLWRNORM;
		if (!pipe->readers)
			mask |= POLLERR;
	}
	return mask;
}

/* ------------------------------------------------ buffers from outside --- */

/*
 * splice's wait_for_space: with pipe->mutex held (dropped while asleep, held
 * again on return), wait until the pipe has a free slot.  0, or -EPIPE (and
 * *sigpipe) with no reader, -EAGAIN when @nonblock, the sleep's error.
 */
static int pipe_wait_for_space(struct pipe_inode_info *pipe, int nonblock,
			       struct wait_ctl *ctl, int *sigpipe)
{
	struct unix_net *net = pipe->net;
	int err = 0;

	for (;;) {
		if (!pipe->readers) {
			*sigpipe = 1;
			return -EPIPE;
		}
		if (!pipe_full(pipe->head, pipe->tail, pipe->max_usage))
			return 0;
		if (nonblock)
			return -EAGAIN;
		plat_mutex_unlock(&pipe->mutex);
		plat_mutex_lock(&net->lock);
		__pipe_wait_event(err, net, &pipe->wr_wait, ctl, __pipe_writable(pipe));
		plat_mutex_unlock(&net->lock);
		plat_mutex_lock(&pipe->mutex);
		if (err)
			return err;
	}
}

ssize_t pipe_add_bufs(struct pipe_inode_info *pipe, struct pipe_buffer *bufs, unsigned int n,
		      int zerocopy, struct wait_ctl *ctl, int *sigpipe, unsigned int *used)
{
	struct unix_net *net = pipe->net;
	ssize_t ret = 0;
	unsigned int i = 0;
	int err = 0;

	*used = 0;
	wait_ctl_begin(ctl, -1);
	plat_mutex_lock(&pipe->mutex);
	err = pipe_wait_for_space(pipe, 0, ctl, sigpipe);
	if (err || !n)
		goto out;
	plat_mutex_lock(&net->lock);
	while (i < n && !pipe_full(pipe->head, pipe->tail, pipe->max_usage)) {
		struct pipe_buffer *buf = pipe_buf(pipe, pipe->head);

		*buf = bufs[i++];
		buf->flags &= ~PIPE_BUF_FLAG_CAN_MERGE;	/* the page is not the pipe's to write */
		pipe->head++;
		ret += buf->len;
	}
	if (zerocopy)
		unix_cnt_add(net, bytes_zerocopy, (int64_t)ret);
	__wake_up(&pipe->rd_wait, 1);
	plat_mutex_unlock(&net->lock);
out:
	plat_mutex_unlock(&pipe->mutex);
	*used = i;
	return ret ? ret : err;
}

/* Whether @buf's bytes follow the stretch @v of page run @page, so that
 * one page skb can carry both (a spliced skb's or a large file page's
 * pieces, as sendmsg(MSG_SPLICE_PAGES) puts a batch in one skb). */
static int pipe_buf_continues(const struct pipe_buffer *buf, const struct page_run *page,
			      const struct unix_iov *v)
{
	return buf->page == page &&
	       buf->page->mem + buf->offset == (const unsigned char *)v->base + v->len;
}

/* Drop @n bytes from the buffer at the tail (they went elsewhere). */
static void pipe_consume(struct pipe_inode_info *pipe, size_t n, int *input_wakeup)
{
	struct unix_net *net = pipe->net;

	while (n) {
		struct pipe_buffer *buf = pipe_buf(pipe, pipe->tail);
		size_t c = n < buf->len ? n : buf->len;

		buf->offset += (unsigned int)c;
		buf->len -= (unsigned int)c;
		n -= c;
		if (!buf->len) {
			pipe_buf_release(pipe, buf);
			plat_mutex_lock(&net->lock);
			pipe->tail++;
			plat_mutex_unlock(&net->lock);
			*input_wakeup = 1;
		}
	}
}

ssize_t pipe_splice_to_socket(void *task, struct pipe_inode_info *pipe, struct unix_sock *sk,
			      size_t len, size_t *done, int pipe_nonblock, int dontwait,
			      int stream, struct wait_ctl *ctl, int *sigpipe, int *sock_full)
{
	struct unix_net *net = pipe->net;
	struct unix_iov iov[PIPE_DEF_BUFFERS];
	struct unix_msg msg;
	struct wait_ctl sctl;
	int first = ctl->deadline == WAIT_NONBLOCK, input_wakeup = 0, err = 0;

	*sock_full = 0;
	if (*done >= len)
		return (ssize_t)*done;
	wait_ctl_begin(ctl, -1);
	plat_mutex_lock(&pipe->mutex);
	while (*done < len) {
		unsigned int nb = 0, taken = 0, tail;
		size_t chunk = 0;
		ssize_t n;

		/* splice_from_pipe_next: data, else EOF, else wait */
		while (pipe_empty(pipe->head, pipe->tail)) {
			if (!pipe->writers || *done)
				goto out;
			if (pipe_nonblock) {
				err = -EAGAIN;
				goto out;
			}
			plat_mutex_unlock(&pipe->mutex);
			plat_mutex_lock(&net->lock);
			if (input_wakeup)
				__wake_up(&pipe->wr_wait, 1);
			input_wakeup = 0;
			__pipe_wait_event(err, net, &pipe->rd_wait, ctl, __pipe_readable(pipe));
			plat_mutex_unlock(&net->lock);
			plat_mutex_lock(&pipe->mutex);
			if (err)
				goto out;
		}
		/* a datagram takes the batch, copied; a stream one page skb per
		 * run of buffers that follow each other in one page run (a
		 * spliced skb's or a large file page's pieces), as Linux's
		 * sendmsg(MSG_SPLICE_PAGES) puts a batch's pages in one skb */
		for (tail = pipe->tail; tail != pipe->head && taken < PIPE_DEF_BUFFERS &&
		     chunk < len - *done; tail++, taken++) {
			struct pipe_buffer *buf = pipe_buf(pipe, tail);
			size_t c = buf->len < len - *done - chunk ? buf->len : len - *done - chunk;

			if (stream && nb) {
				if (!pipe_buf_continues(buf, pipe_buf(pipe, pipe->tail)->page, &iov[0]))
					break;
				iov[0].len += c;
			} else {
				iov[nb].base = buf->page->mem + buf->offset;
				iov[nb].len = c;
				nb++;
			}
			chunk += c;
			if (c < buf->len)
				break;
		}
		memset(&msg, 0, sizeof(msg));
		msg.iov = iov;
		msg.iovlen = nb;
		msg.flags = dontwait ? MSG_DONTWAIT : 0;
		if (stream) {
			msg.pages = pipe_buf(pipe, pipe->tail)->page;
			msg.splice = 1;
		}
		sctl.deadline = first ? WAIT_NONBLOCK : 0;
		sctl.intr = ctl->intr;
		n = unix_sendmsg(task, sk, &msg, &sctl);
		if (n > 0) {
			pipe_consume(pipe, (size_t)n, &input_wakeup);
			*done += (size_t)n;
		}
		if (msg.sigpipe)
			*sigpipe = 1;
		if (n < 0 || (size_t)n < chunk) {
			*sock_full = n == -EAGAIN || (n >= 0 && (size_t)n < chunk);
			if (n < 0)
				err = (int)n;
			break;
		}
	}
out:
	plat_mutex_unlock(&pipe->mutex);
	if (input_wakeup) {
		plat_mutex_lock(&net->lock);
		__wake_up(&pipe->wr_wait, 1);
		plat_mutex_unlock(&net->lock);
	}
	return *done ? (ssize_t)*done : err;
}

ssize_t pipe_bufs_to_socket(void *task, struct unix_sock *sk, const struct pipe_buffer *bufs,
			    unsigned int nbufs, unsigned int *used, size_t *done,
			    const struct wait_ctl *ctl, int *sigpipe, int *sock_full)
{
	*sock_full = 0;
	while (*used < nbufs) {
		const struct pipe_buffer *b = &bufs[*used];
		struct unix_iov iov = { b->page->mem + b->offset, b->len };
		struct wait_ctl sctl;
		struct unix_msg msg;
		unsigned int k = 1;
		ssize_t n;

		while (*used + k < nbufs && k < PIPE_DEF_BUFFERS &&
		       pipe_buf_continues(&bufs[*used + k], b->page, &iov))
			iov.len += bufs[*used + k++].len;
		memset(&msg, 0, sizeof(msg));
		msg.iov = &iov;
		msg.iovlen = 1;
		msg.pages = b->page;
		msg.splice = 1;
		sctl.deadline = ctl->deadline == WAIT_NONBLOCK ? WAIT_NONBLOCK : 0;
		sctl.intr = ctl->intr;
		n = unix_sendmsg(task, sk, &msg, &sctl);	/* a page skb: all or nothing */
		if (msg.sigpipe)
			*sigpipe = 1;
		if (n < 0) {
			*sock_full = n == -EAGAIN;
			return *done ? (ssize_t)*done : n;
		}
		*used += k;
		*done += (size_t)n;
	}
	return (ssize_t)*done;
}

/* Put @n bytes of @run from @off at the head as page-sized buffers, each
 * with a reference of its own (caller holds pipe.mutex; they fit). */
static unsigned int pipe_push_run(struct pipe_inode_info *pipe, struct page_run *run,
				  size_t off, size_t n)
{
	struct unix_net *net = pipe->net;
	unsigned int pieces = 0;

	plat_mutex_lock(&net->lock);
	while (n) {
		struct pipe_buffer *buf = pipe_buf(pipe, pipe->head);
		size_t c = PAGE_SIZE_BYTES - off % PAGE_SIZE_BYTES;

		if (c > n)
			c = n;
		page_run_get(run);
		buf->page = run;
		buf->offset = (unsigned int)off;
		buf->len = (unsigned int)c;
		buf->flags = 0;
		pipe->head++;
		off += c;
		n -= c;
		pieces++;
	}
	plat_mutex_unlock(&net->lock);
	return pieces;
}

/*
 * unix_stream_splice_actor -> skb_splice_bits -> splice_to_pipe: the part
 * of an skb a stream read gives, in the pieces Linux's skb would give (at
 * most SPLICE_SEGS_MAX per skb): its linear bytes copied into the task's
 * page fragment (a piece ends where a fragment page does), its page
 * fragments by reference; then as many pieces as the pipe has free slots.
 * The fragment advances by every linear byte copied, pushed or not.
 */
#define SPLICE_SEGS_MAX 17	/* MAX_SKB_FRAGS */

struct pipe_splice_sink {
	struct unix_splice_sink sink;
	struct pipe_inode_info *pipe;
	struct page_frag *frag;
	unsigned int room;		/* free slots */
};

static long pipe_splice_actor(struct unix_splice_sink *sink, struct sk_buff *skb,
			      unsigned int off, unsigned int len)
{
	struct pipe_splice_sink *ps = (struct pipe_splice_sink *)sink;
	struct pipe_inode_info *pipe = ps->pipe;
	struct unix_net *net = pipe->net;
	struct pipe_buffer seg[SPLICE_SEGS_MAX];
	struct page_frag own = { NULL, 0, 0 }, *frag = ps->frag;
	unsigned int n = 0, i, end = off + len;
	size_t copied = 0, taken = 0;
	int claimed = frag && page_frag_claim(frag), err = 0;

	if (!claimed)
		frag = &own;
	while (off < end && n < SPLICE_SEGS_MAX) {
		unsigned int stop = skb_segment_end(skb, off), c;

		if (stop > end)
			stop = end;
		if (off < skb->headlen) {
			err = page_frag_refill(&net->pool, frag);
			if (err)
				break;
			c = PAGE_FRAG_PAGES * PAGE_SIZE_BYTES - frag->offset;
			if (c > stop - off)
				c = stop - off;
			memcpy(frag->page->mem + frag->offset, skb->data + off, c);
			page_run_get(frag->page);
			seg[n] = (struct pipe_buffer){ frag->page, frag->offset, c, 0 };
			frag->offset += c;
			copied += c;
		} else {
			c = stop - off;
			page_run_get(skb->pages);
			seg[n] = (struct pipe_buffer){ skb->pages,
				(unsigned int)(skb->data - skb->pages->mem) + off, c, 0 };
		}
		off += c;
		n++;
	}
	if (claimed)
		page_frag_unclaim(frag);
	plat_mutex_lock(&net->lock);
	for (i = 0; i < n && i < ps->room; i++) {
		*pipe_buf(pipe, pipe->head) = seg[i];
		pipe->head++;
		taken += seg[i].len;
	}
	plat_mutex_unlock(&net->lock);
	ps->room -= i;
	for (; i < n; i++)
		page_run_put(seg[i].page);
	if (own.page)
		page_run_put(own.page);
	/* the linear pieces come first: of what went in, these were copied */
	sink->copied = copied < taken ? copied : taken;
	return taken ? (long)taken : err;
}

ssize_t pipe_splice_from_socket(struct unix_sock *sk, struct pipe_inode_info *pipe, size_t len,
				int pipe_nonblock, int dontwait, struct page_frag *frag,
				struct wait_ctl *ctl, int *sigpipe, struct scm_fp_list **rfp)
{
	struct unix_net *net = pipe->net;
	int first = ctl->deadline == WAIT_NONBLOCK, err = 0;
	struct unix_iov iov;
	struct unix_msg m;
	struct wait_ctl sctl;
	struct page_run *run;
	unsigned int room;
	size_t done = 0, bound;
	ssize_t n;

	*rfp = NULL;
	wait_ctl_begin(ctl, -1);
	plat_mutex_lock(&pipe->mutex);
	err = pipe_wait_for_space(pipe, pipe_nonblock, ctl, sigpipe);
	if (err || !len)
		goto out;	/* do_splice_read: room first, then a len of 0 is 0 */
	room = pipe->max_usage - pipe_occupancy(pipe->head, pipe->tail);
	if (len > (size_t)room * PAGE_SIZE_BYTES)
		len = (size_t)room * PAGE_SIZE_BYTES;
	sctl.deadline = first ? WAIT_NONBLOCK : 0;
	sctl.intr = ctl->intr;
	memset(&m, 0, sizeof(m));
	m.iov = &iov;
	m.iovlen = 1;
	m.flags = dontwait ? MSG_DONTWAIT : 0;
	if (frag) {
		/* a stream: read skb by skb into the pipe's slots */
		struct pipe_splice_sink ps = { { pipe_splice_actor, 0 }, pipe, frag, room };

		iov.base = NULL;
		iov.len = len;
		m.sink = &ps.sink;
		n = unix_recvmsg(NULL, sk, &m, &sctl);
		unix_msg_release(sk, &m);
		*rfp = m.rfp;
		goto moved;
	}
	/* another type: one message, the sender's pages themselves if it was
	 * sent in pages and fits the free slots, else copied */
	bound = (size_t)(room - 1) * PAGE_SIZE_BYTES + 1;
	iov.base = NULL;
	iov.len = len < bound ? len : bound;
	n = unix_recv_pages(sk, &m, &sctl);
	if (n > 0) {
		pipe_push_run(pipe, m.rpages, m.rpages_off, (size_t)n);
		page_run_put(m.rpages);
		unix_cnt_add(net, bytes_zerocopy, n);	/* an atomic: no lock */
	} else if (n == -ENOBUFS) {
		run = page_run_alloc(&net->pool, (len + PAGE_SIZE_BYTES - 1) / PAGE_SIZE_BYTES, 0);
		if (!run) {
			n = -ENOMEM;
		} else {
			memset(&m, 0, sizeof(m));
			iov.base = run->mem;
			iov.len = len;
			m.iov = &iov;
			m.iovlen = 1;
			m.flags = dontwait ? MSG_DONTWAIT : 0;
			n = unix_recvmsg(NULL, sk, &m, &sctl);
			unix_msg_release(sk, &m);
			*rfp = m.rfp;
			if (n > 0)
				pipe_push_run(pipe, run, 0, (size_t)n);
			page_run_put(run);
		}
	}
moved:
	if (n > 0) {
		done = (size_t)n;
		plat_mutex_lock(&net->lock);
		__wake_up(&pipe->rd_wait, 1);
		plat_mutex_unlock(&net->lock);
	} else {
		err = (int)n;
	}
out:
	plat_mutex_unlock(&pipe->mutex);
	return done ? (ssize_t)done : err;
}
