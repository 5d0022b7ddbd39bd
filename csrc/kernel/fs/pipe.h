/*
 * fs/pipe.h - pipes: a ring of page buffers between readers and writers.
 *
 * As Linux's pipe_inode_info: a power-of-two ring of pipe_buffers, each a
 * reference to a page run (mm/page.h) plus an offset and a length, so a
 * page can sit in a pipe and elsewhere at once, counted, never copied to
 * move.  max_usage slots may be used (16 by default, F_SETPIPE_SZ changes
 * both); head is where writers add buffers, tail where readers take them.
 *
 * A pipe belongs to a unix_net (the simulated kernel's core): its pages come
 * from the net's pool, its sleepers are the net's (teardown kicks them and
 * fails them with -ESHUTDOWN, as it does a socket's), and poll waits on
 * pipes and sockets together (unix_poll_many).
 *
 * LOCKING CONTRACT
 *
 *   pipe.mutex      One per pipe (Linux's pipe->mutex).  Serialises readers,
 *                   writers, resizes and FIONREAD, and is held across the
 *                   copies into and out of the pages.  It protects the ring
 *                   contents (bufs[], their pages, offsets and lengths),
 *                   tmp_page and the merge state.
 *   unix_net.lock   The net's lock.  Protects the state poll and the
 *                   pipe's sleepers test: head, tail, max_usage, readers,
 *                   writers and the open counters.  These are written with
 *                   BOTH locks held and read with either, so poll needs only
 *                   net.lock.  The wait queues' lists have their own locks,
 *                   taken inside net.lock (sched/wait.h).
 *
 *   Order: pipe.mutex -> net.lock -> wait queue lock; splice and tee between two pipes take
 *   both mutexes in address order (pipe_double_lock), then net.lock.
 *   pipe_splice_to_socket and pipe_splice_from_socket hold pipe.mutex
 *   across unix_sendmsg / unix_recvmsg, which take the socket's locks:
 *   pipe.mutex -> (socket iolock, state and queue locks).  The stream
 *   read's actor (pipe_splice_actor) pushes with the iolock held:
 *   pipe.mutex -> iolock -> net.lock, the unix order's iolock -> net.lock.
 *   A sleeper drops pipe.mutex before it
 *   sleeps on a wait queue under net.lock (pipe_read/pipe_write's
 *   wait_event_interruptible_exclusive); the sleep drops net.lock.
 *   Functions named __pipe_*() expect the caller to hold net.lock.
 *
 *   A reader asleep on an empty pipe may offer its buffer to writers
 *   (pipe->handoff, struct pipe_handoff), set and taken under net.lock.  A
 *   writer that sets the offer's busy flag (under net.lock, holding
 *   pipe.mutex) owns the reader's pipe_io and copies into it with only
 *   pipe.mutex held; the reader, once awake, waits for busy to clear under
 *   net.lock (dropping it while it yields) before it touches its io again.
 *
 * Every call returns 0 or a count on success and -errno on failure.
 */
#ifndef MENIOS_PIPE_H
#define MENIOS_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "../../platform/platform.h"
#include "../errno.h"
#include "../types.h"
#include "../list.h"
#include "../sched/wait.h"
#include "../mm/page.h"

struct unix_net;
struct unix_sock;
struct unix_cred;
struct scm_fp_list;

#define PIPE_BUF_SIZE		4096	/* PIPE_BUF: writes up to this size are atomic */
#define PIPE_DEF_BUFFERS	16
#define PIPE_MAX_SIZE_DEFAULT	1048576	/* /proc/sys/fs/pipe-max-size */

/* pipe_buffer.flags */
#define PIPE_BUF_FLAG_PACKET	0x08	/* read as a whole packet (O_DIRECT) */
#define PIPE_BUF_FLAG_CAN_MERGE	0x10	/* later small writes may append to it */

struct pipe_buffer {
	struct page_run *page;		/* one reference */
	unsigned int offset, len;	/* bytes of page->mem[offset .. offset+len) */
	unsigned int flags;
};

struct pipe_inode_info {
	plat_mutex_t mutex;
	struct unix_net *net;
	unsigned int head, tail;	/* free-running indices; slot = index & (ring_size-1) */
	unsigned int max_usage;		/* slots writers may fill */
	unsigned int ring_size;		/* power of two, >= max_usage */
	unsigned int readers, writers;	/* open files for reading / writing */
	unsigned int r_counter, w_counter; /* opens for reading / writing, ever (FIFOs) */
	int refcnt;			/* under net.lock: files and embedder objects */
	struct pipe_buffer *bufs;
	struct page_run *tmp_page;	/* a spare page kept by the last reader */
	struct wait_queue_head rd_wait, wr_wait;
	struct list_head link;		/* on net->pipes */
	int64_t bytes_copied;		/* payload bytes copied in and out */
	struct pipe_handoff *handoff;	/* under net.lock: a sleeping reader's offer */
};

/*
 * A reader asleep on an empty pipe offers its buffer: a writer copies
 * straight into it (one copy instead of two, no page) and ends the offer.
 */
struct pipe_handoff {
	struct pipe_io *io;		/* the reader's call; its cursor takes the bytes */
	size_t room;			/* bytes the reader has room for */
	size_t got;			/* bytes handed over */
	int busy;			/* a writer is copying into @io */
};

/* The caller's side of a pipe file (FMODE_READ / FMODE_WRITE). */
#define PIPE_FMODE_READ		1
#define PIPE_FMODE_WRITE	2

/*
 * One read or write.  @iov..@iovlen is the user's buffer list; @done
 * carries the call's progress from its non-blocking first attempt into the
 * blocking one (as unix_msg's).  @packet: the writer's file is O_DIRECT.
 * @splice: the reader is vmsplice (splice_from_pipe_feed), which reads
 * across packet boundaries and leaves the rest of a packet in the pipe.
 * @sigpipe is set when a write finds no reader (the caller raises SIGPIPE).
 */
struct pipe_iov {
	void *base;
	size_t len;
};

struct pipe_io {
	struct pipe_iov *iov;
	unsigned int iovlen;
	unsigned int iov_idx;
	size_t iov_off;
	size_t done;
	int packet;
	int splice;
	int sigpipe;
};

/* Create a pipe with one reader and one writer (create_pipe_files). */
struct pipe_inode_info *pipe_create(struct unix_net *net);
/* A new, unopened pipe (a FIFO's, before its first open). */
struct pipe_inode_info *pipe_alloc(struct unix_net *net);
void pipe_get(struct pipe_inode_info *pipe);
void pipe_put(struct pipe_inode_info *pipe);

/*
 * fifo_open: open a FIFO's pipe with @fmode.  A reader waits for a writer
 * and a writer for a reader unless @nonblock (O_NONBLOCK): then a reader
 * succeeds at once (*@version set so that POLLHUP waits for a writer to
 * come and go) and a writer without a reader fails -ENXIO; O_RDWR never
 * waits.  While @ctl is non-blocking (a first attempt) a call that would
 * wait changes nothing and returns -EAGAIN.  -ERESTARTSYS/-EINTR on a
 * signal, -ESHUTDOWN at teardown: the open is undone.
 */
int pipe_fifo_open(struct pipe_inode_info *pipe, int fmode, int nonblock,
		   struct wait_ctl *ctl, unsigned int *version);
/* A file on the pipe opened with @fmode (PIPE_FMODE_*) is released. */
void pipe_release(struct pipe_inode_info *pipe, int fmode);

/*
 * pipe_read / pipe_write with fs/pipe.c's semantics: a zero-length call
 * returns 0 at once; a read returns what is there (at most one packet from
 * an O_DIRECT writer), 0 at EOF (no writers), -EAGAIN when empty and
 * non-blocking; a write of up to PIPE_BUF_SIZE bytes is atomic, a larger
 * one may be split; -EPIPE (io->sigpipe set) when no reader is left.
 * @ctl's deadline WAIT_NONBLOCK means O_NONBLOCK.
 */
ssize_t pipe_read(struct pipe_inode_info *pipe, struct pipe_io *io, struct wait_ctl *ctl);
ssize_t pipe_write(struct pipe_inode_info *pipe, struct pipe_io *io, struct wait_ctl *ctl);

/*
 * splice between two pipes (splice_pipe_to_pipe): move up to @len bytes
 * from @ipipe to @opipe, whole buffers by moving their page references, a
 * part of one by sharing its page.  tee (link_pipe): the same without
 * consuming @ipipe.  Both wait for input and for room unless @ctl is
 * non-blocking (SPLICE_F_NONBLOCK, O_NONBLOCK on either file: -EAGAIN);
 * return the bytes moved, 0 at EOF on @ipipe or at once for a @len of 0,
 * -EPIPE (*@sigpipe set) when @opipe has no reader, -EINVAL for one pipe
 * on both sides.
 */
ssize_t pipe_splice(struct pipe_inode_info *ipipe, struct pipe_inode_info *opipe,
		    size_t len, struct wait_ctl *ctl, int *sigpipe);
ssize_t pipe_tee(struct pipe_inode_info *ipipe, struct pipe_inode_info *opipe,
		 size_t len, struct wait_ctl *ctl, int *sigpipe);

/*
 * pipe_add_bufs (splice_file_to_pipe's wait_for_space, then add_to_pipe;
 * vmsplice_to_pipe): wait until @pipe has a free slot, then put as many of
 * @bufs[0..@n) at its head as fit, each with the page reference it holds;
 * *@used says how many went in (the caller keeps the rest).  The buffers
 * never merge later writes: their pages are not the pipe's to write.
 * @zerocopy: count the bytes as moved without a copy.  With @n 0 it only
 * waits for room (a splice_read that then moves nothing: a count of 0, a
 * file at its end or one that cannot be spliced from).  Returns the bytes
 * added, -EAGAIN when full and @ctl non-blocking, -EPIPE (*@sigpipe set)
 * with no reader, -ERESTARTSYS/-EINTR, -ESHUTDOWN.
 */
ssize_t pipe_add_bufs(struct pipe_inode_info *pipe, struct pipe_buffer *bufs, unsigned int n,
		      int zerocopy, struct wait_ctl *ctl, int *sigpipe, unsigned int *used);

/*
 * splice_to_socket for an AF_UNIX socket @sk: send what @pipe holds, up to
 * @len bytes in all (*@done carries the progress of earlier attempts and
 * is advanced), consuming from the pipe exactly what the socket took.  On
 * a @stream socket each buffer goes as a page skb sharing the buffer's
 * page (no copy), buffers that follow each other in one page run as one
 * skb (up to PIPE_DEF_BUFFERS of them), charged to the send buffer with
 * their length (unix_msg.splice); otherwise a batch of up to PIPE_DEF_BUFFERS buffers goes
 * as one message, copied.  Waits for data unless @pipe_nonblock (-EAGAIN);
 * stops at EOF or, once something moved, when the pipe runs empty.  The
 * send is unix_sendmsg's (MSG_DONTWAIT if @dontwait; the socket's
 * timeout), never sleeping while @ctl is non-blocking: *@sock_full then
 * says the socket took less than it was given.  @task: the sender, for
 * scm_send's credentials.  Returns *@done if non-zero, else the error (-EPIPE with
 * *@sigpipe as the send set it).  Holds pipe.mutex across the sends, as
 * Linux holds pipe_lock across sock_sendmsg.
 */
ssize_t pipe_splice_to_socket(void *task, struct pipe_inode_info *pipe, struct unix_sock *sk,
			      size_t len, size_t *done, int pipe_nonblock, int dontwait,
			      int stream, struct wait_ctl *ctl, int *sigpipe, int *sock_full);

/*
 * Send the page buffers @bufs[*@used..@nbufs) to the stream socket @sk as
 * pipe_splice_to_socket sends a pipe's: a page skb per stretch of buffers
 * that follow each other in one page run (up to PIPE_DEF_BUFFERS), the
 * pages shared and charged to the send buffer (sendfile's
 * splice_to_socket, with the buffers taken from the page cache).  Each
 * send is unix_sendmsg's with the socket's timeout, or never sleeping if
 * @ctl is non-blocking.  Advances *@used and *@done past what went;
 * stops at the first send that fails: returns *@done if non-zero, else
 * its error (*@sock_full if it was -EAGAIN; *@sigpipe if it was an EPIPE
 * that raises SIGPIPE).  No lock is held across the sends.
 */
ssize_t pipe_bufs_to_socket(void *task, struct unix_sock *sk, const struct pipe_buffer *bufs,
			    unsigned int nbufs, unsigned int *used, size_t *done,
			    const struct wait_ctl *ctl, int *sigpipe, int *sock_full);

/*
 * splice_file_to_pipe for an AF_UNIX socket @sk (unix_stream_splice_read;
 * sock_splice_read's copy for the other types): wait for room in @pipe
 * (-EAGAIN if @pipe_nonblock, -EPIPE with *@sigpipe without a reader),
 * then, for a @len of 0, return 0 (do_splice_read; the socket is not
 * looked at), else receive up to @len bytes, at most what the free slots
 * hold.  A stream socket (@frag, its task's page fragment, given) is read
 * skb by skb, each in the pieces Linux's skb_splice_bits makes: its linear
 * bytes copied into @frag, its page fragments by reference, while the
 * slots last (pipe_splice_actor).  Another type gives one message: by
 * reference in page-sized buffers if it was sent in pages (a page skb)
 * and fits the slots whole, else copied into fresh pages, truncated.  The
 * receive is the
 * socket's (MSG_DONTWAIT if @dontwait; its timeout; never sleeping while
 * @ctl is non-blocking).  Files a message carried come back in *@rfp for
 * the caller to release.  Returns the bytes moved, 0 at EOF, or the error.
 */
ssize_t pipe_splice_from_socket(struct unix_sock *sk, struct pipe_inode_info *pipe, size_t len,
				int pipe_nonblock, int dontwait, struct page_frag *frag,
				struct wait_ctl *ctl, int *sigpipe, struct scm_fp_list **rfp);

/* F_GETPIPE_SZ: the capacity in bytes. */
long pipe_get_size(struct pipe_inode_info *pipe);
/*
 * F_SETPIPE_SZ (pipe_set_size): @size rounded up to a power-of-two number
 * of pages (at least one); -EINVAL above 2^31, -EPERM above @max_size
 * (pipe-max-size) for a caller without CAP_SYS_RESOURCE (@privileged) when
 * growing, -EBUSY when fewer slots than are in use.  Returns the new size.
 */
long pipe_set_size(struct pipe_inode_info *pipe, unsigned int size,
		   unsigned int max_size, int privileged);
/* FIONREAD: bytes in the pipe. */
int pipe_nread(struct pipe_inode_info *pipe);

/*
 * pipe_poll's mask for a file opened with @fmode; @version is the file's
 * w_counter at open (a FIFO reader sees POLLHUP only once a writer it could
 * have seen has gone).  The poller waits on rd_wait (read side) and wr_wait
 * (write side); unix_poll_many queues it.
 */
unsigned int __pipe_poll(struct pipe_inode_info *pipe, int fmode, unsigned int version);

/* Teardown of the net: kick every pipe sleeper (caller holds net.lock). */
void __pipe_kick_all(struct unix_net *net);

#endif
