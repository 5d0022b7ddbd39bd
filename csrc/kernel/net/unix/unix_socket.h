/*
 * net/unix/unix_socket.h - the AF_UNIX socket and its calls.
 *
 * LOCKING CONTRACT
 *
 * As Linux's AF_UNIX: per-socket locks on the data path, no net-wide lock
 * on it.
 *
 *   unix_sock.lock  unix_state_lock(), one per socket: its state, peer
 *                   link, address, shutdown bits, pending error, flags
 *                   (options), buffer sizes, timeouts, SO_RCVLOWAT,
 *                   SO_PEEK_OFF, SO_BUSY_POLL and the options it only
 *                   stores, backlog, credentials (with sk->peer_groups,
 *                   whose references are atomics), owner,
 *                   uid, inode number, stream handoff offer
 *                   (sk->handoff) and datagram room grant
 *                   (sk->room_granted).  It is also the owner's lock of the
 *                   socket's two wait queues (sk->wq, sk->peer_wait): a
 *                   sleeper on them checks its condition under it, and
 *                   whoever changes such a condition -- a sender queueing
 *                   on the socket, a free returning its send buffer, a
 *                   reader making room, a shutdown or release -- holds it
 *                   when it wakes them, so no wake-up is lost
 *                   (sched/wait.h).  A free returning send buffer takes
 *                   it only when sk->nospace is set: whoever waits for
 *                   room sets that flag under the lock and looks at the
 *                   room again, each side's store and load sequentially
 *                   consistent, so one of the two sees the other
 *                   (__unix_set_nospace, af_unix.h).  Two sockets' state locks are taken as
 *                   unix_state_double_lock() takes them (the lower address
 *                   first: datagram connect, socketpair), except that a
 *                   listener's comes before the socket connecting to it
 *                   (unix_stream_connect: the connector checks it is in
 *                   UNIX_CLOSE, so not a listener, before it nests).
 *                   Everywhere else one state lock at a time: a stream
 *                   send takes its own only to wait for room, the peer's
 *                   alone to queue; a release or shutdown changes its
 *                   peer after its own.
 *   sk_buff_head.lock  One per receive queue: its skbs' links, the stream
 *                   out-of-band mark (sk->oob_skb) and inq_stale.  A sender
 *                   links under the receiver's state lock and this one; a
 *                   reader walks and unlinks under this one alone.
 *   unix_sock.iolock  One per socket.  Serialises readers of the socket: a
 *                   reader copies out of a queued skb holding its iolock
 *                   (and, for a small stream chunk, the queue's lock).  An
 *                   skb on a receive queue is unlinked only by the iolock
 *                   holder, by unix_net_shutdown() and a
 *                   datagram disconnect (which take the iolock), by the
 *                   socket's release (no reader can exist then: the caller
 *                   holds the last file reference) or by the garbage
 *                   collector (which only frees unreachable sockets).
 *   unix_net.names_lock  The abstract and path name tables (struct unix_net),
 *                   each socket's place on them (bind_link), and the
 *                   autobind seed.  A bind takes it inside the socket's
 *                   state lock; a lookup takes it alone and keeps what it
 *                   found with refcount_inc_not_zero().
 *   unix_net.gc_lock  Files in flight: the per-user counts (struct
 *                   unix_user), each socket's inflight, file_refs and
 *                   collector mark, unix_tot_inflight, the collector's state
 *                   (gc_maybe_cyclic, gc_in_progress) and the net's release
 *                   list.  The collector's marking walks receive queues
 *                   under it (gc_lock -> queue locks).
 *   unix_net.lock   The net's lists (sockets, pipes), next_ino, orphaned,
 *                   and what is not on the data path: a socket's release,
 *                   the collector's pass, listing, poll's passes and its
 *                   sleep, readiness records (ready.c) and pipes
 *                   (fs/pipe.h).  The last reference of a socket is dropped
 *                   under it (the socket leaves the list): unix_sock_put()
 *                   drops it with refcount_dec_not_one() first, as
 *                   refcount_dec_and_lock, so only that put takes it.
 *   unix_net.idle_lock, ready_lock  Leaves: the teardown's wait for
 *                   sleepers, and the list of readiness records woken.
 *   wait_queue_head.lock  One per wait queue: its sleepers' entries.  Taken
 *                   inside sched/wait.c by every add, remove and wake, a
 *                   leaf (sched/wait.h).
 *   atomics         A socket's refcount (refcount_t, kernel/refcount.h),
 *                   wmem_alloc, nospace (set under the state lock; cleared
 *                   there by a free that wakes), copy counters, an address's refcnt, the
 *                   net's counters (net->cnt, unix_cnt_add()), wait_stats,
 *                   sleepers and dead.  Fields written under a socket's
 *                   state lock and read by the data path without it (flags,
 *                   state, shutdown, error, peer, timeouts, peek offset,
 *                   listener, the out-of-band mark) are written and read
 *                   there with READ_ONCE/WRITE_ONCE (af_unix.h); such a read
 *                   is a hint, checked again under the lock before anything
 *                   depends on it.  An address is published with a release
 *                   store and never changes after.
 *
 *   Order: iolock -> state lock (two as above) -> receive queue lock;
 *   state lock -> names_lock; state lock -> gc_lock -> queue locks (a
 *   listener's before its embryos'); net.lock -> state locks, gc_lock,
 *   names_lock; iolock -> net.lock (a last put); anything -> a wait
 *   queue's lock, idle_lock, ready_lock, the trace ring's lock.  Never take
 *   net.lock holding a state or queue lock: an skb is freed (it may drop
 *   its sender's last reference, and it may take the sender's state lock
 *   to wake it) with no state or queue lock held -- readers unlink under the
 *   queue lock and free after they let go.  Never call back into the
 *   embedder with a core lock held: the host ops (unix_host.h: path
 *   lookup, mknod, fget/fput, credentials, receive_fd) are called with
 *   none, as Linux
 *   calls into the VFS and the fd table with no socket lock held; files
 *   dropped meanwhile go on the net's release list, and the caller drains
 *   it after the call returns.
 *
 *   A stream reader asleep on an empty queue may offer its message to
 *   senders (sk->handoff, struct unix_handoff in af_unix.h), under its
 *   state lock.  A sender that sets the offer's busy flag owns the reader's
 *   message and copies into it with the lock dropped; the reader, once
 *   awake, waits for busy to clear before it touches its message again.
 *
 *   Functions named __unix_*() expect the caller to hold the lock their
 *   comment names (net.lock unless said otherwise).
 *   One read takes no lock: unix_recv_hint() reads a receive queue's length
 *   and byte count with relaxed atomic loads (skbuff.h), for a hint only.
 *
 *   Sleeping: a blocking call sleeps in __unix_net_sleep_locked() (poll in
 *   unix_poll_many()), queued on a wait queue under its owner's lock -- a
 *   socket's state lock, or net.lock for a pipe's -- which the sleep drops
 *   (the caller drops its iolock before) and takes again before returning,
 *   as sched/wait.h describes.  A wake-up also runs the callback entries
 *   of readiness fds (ready.c) under the waker's lock, with the queue's
 *   lock released; they only mark their record for the waker's call to
 *   update before it returns (unix_ready_flush), and never sleep or call
 *   the embedder.
 *
 *   The collector (garbage.c) runs its pass under net.lock, its marking
 *   under gc_lock too.  A release never runs it itself: the pass must see
 *   the file references the release let go of, which the embedder puts
 *   only after the call returns, so unix_release() says whether a pass is
 *   due and the caller runs unix_gc_scheduled() once it has drained the
 *   release list.
 *
 * Every call returns 0 or a count on success and -errno on failure.
 */
#ifndef MENIOS_UNIX_SOCKET_H
#define MENIOS_UNIX_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "../../../include/sys/socket.h"
#include "../../../include/sys/un.h"
#include "../../../platform/platform.h"
#include "../../errno.h"
#include "../../types.h"
#include "../../refcount.h"
#include "../../list.h"
#include "../../sched/wait.h"
#include "../skbuff.h"
#include "../../mm/page.h"
#include "unix_host.h"

/* sk_state, as Linux names them for AF_UNIX */
enum {
	UNIX_ESTABLISHED = 1,
	UNIX_CLOSE = 7,
	UNIX_LISTEN = 10,
};

/* sk_shutdown bits */
#define RCV_SHUTDOWN	1
#define SEND_SHUTDOWN	2
#define SHUTDOWN_MASK	3

/* socket flags */
#define UNIX_F_DEAD		0x01	/* released: no file refers to it */
#define UNIX_F_PASSCRED		0x02	/* SO_PASSCRED */
#define UNIX_F_URGINLINE	0x08	/* SO_OOBINLINE: the OOB byte is read in line */
#define UNIX_F_NOPASSRIGHTS	0x10	/* SO_PASSRIGHTS off: SCM_RIGHTS to us is EPERM */
#define UNIX_F_PASSSEC		0x20	/* SO_PASSSEC (no LSM: nothing to pass) */
/* Options an AF_UNIX socket only stores and reports: Linux's sock flags. */
#define UNIX_F_DBG		0x40	/* SO_DEBUG */
#define UNIX_F_REUSE		0x80	/* SO_REUSEADDR */
#define UNIX_F_LOCALROUTE	0x100	/* SO_DONTROUTE */
#define UNIX_F_BROADCAST	0x200	/* SO_BROADCAST */
#define UNIX_F_KEEPOPEN		0x400	/* SO_KEEPALIVE */
#define UNIX_F_NO_CHECK		0x800	/* SO_NO_CHECK */
#define UNIX_F_RXQ_OVFL		0x1000	/* SO_RXQ_OVFL */
#define UNIX_F_WIFI_STATUS	0x2000	/* SO_WIFI_STATUS */
#define UNIX_F_NOFCS		0x4000	/* SO_NOFCS */
#define UNIX_F_FILTER_LOCKED	0x8000	/* SO_LOCK_FILTER: once set, never cleared */
#define UNIX_F_SELECT_ERR_QUEUE	0x10000	/* SO_SELECT_ERR_QUEUE */
#define UNIX_F_RCVMARK		0x20000	/* SO_RCVMARK */
#define UNIX_F_RCVPRIORITY	0x40000	/* SO_RCVPRIORITY */
#define UNIX_F_RECVMSG_INQ	0x80000	/* SO_INQ (stream): recvmsg reports SCM_INQ */
#define UNIX_F_LINGER		0x100000 /* SO_LINGER's l_onoff */
#define UNIX_F_PREFER_BUSY_POLL	0x200000 /* SO_PREFER_BUSY_POLL */
#define UNIX_F_PASSPIDFD	0x400000 /* SO_PASSPIDFD: SCM_PIDFD with each message */
/* SO_TIMESTAMP* (sock_set_timestamp): a datagram or seqpacket message
 * comes with its timestamp (RCVTSTAMP), in nanoseconds (RCVTSTAMPNS),
 * reported as the _NEW option's message (TSTAMP_NEW) */
#define UNIX_F_RCVTSTAMP	0x800000
#define UNIX_F_RCVTSTAMPNS	0x1000000
#define UNIX_F_TSTAMP_NEW	0x2000000
/* unix_may_passcred(): the socket takes its peers' credentials -- it
 * autobinds, has them attached to what it sends and receives, and a
 * stream read stops where they change */
#define UNIX_F_MAY_PASSCRED	(UNIX_F_PASSCRED | UNIX_F_PASSPIDFD)

/* sk_userlocks: SO_SNDBUF/SO_RCVBUF set by the user (SO_BUF_LOCK reads them) */
#define UNIX_SNDBUF_LOCK	1
#define UNIX_RCVBUF_LOCK	2
#define UNIX_BUF_LOCK_MASK	(UNIX_SNDBUF_LOCK | UNIX_RCVBUF_LOCK)
/* bpf_tell_extensions(): what SO_BPF_EXTENSIONS reads (SKF_AD_MAX) */
#define UNIX_SKF_AD_MAX		64
/* The reference kernel's CONFIG_HZ, and MAX_SCHEDULE_TIMEOUT: SO_LINGER
 * keeps its time in jiffies, and reads it back in whole seconds */
#define UNIX_HZ			250
#define UNIX_MAX_SCHEDULE_TIMEOUT INT64_MAX

/* What a new connection's socket copies from its listener at connect() time. */
#define UNIX_F_SCM_INHERIT	(UNIX_F_PASSCRED | UNIX_F_PASSPIDFD | UNIX_F_PASSSEC | \
				 UNIX_F_NOPASSRIGHTS)

#define UNIX_ADDR_MAX		(2 + UNIX_PATH_MAX)
#define UNIX_HASH_SIZE		256	/* buckets of each name table */
/* unix_autobind's names: NUL and five hex digits, 2^20 of them */
#define UNIX_AUTOBIND_DIGITS	5
#define UNIX_AUTOBIND_MASK	0xFFFFF

struct unix_address {
	int refcnt;			/* atomic */
	unsigned int len;		/* sun_path bytes stored, as Linux's addr_len - 2 */
	unsigned char path[UNIX_PATH_MAX + 1];
	/* The file a path name made (unix_sk(sk)->path), as the embedder's VFS
	 * numbers it: sock_diag's UNIX_DIAG_VFS.  Shared, like the name, by the
	 * connections accepted on it. */
	int has_vfs;
	uint32_t vfs_dev;		/* the kernel's dev_t: major << 20 | minor */
	uint64_t vfs_ino;
};

struct unix_sysctl {
	int max_dgram_qlen;		/* net.unix.max_dgram_qlen */
	int somaxconn;			/* net.core.somaxconn */
	int wmem_default, rmem_default;	/* net.core.[wr]mem_default */
	int wmem_max, rmem_max;		/* net.core.[wr]mem_max */
};

/*
 * The owner of a socket's file (F_SETOWN, FIOSETOWN): who gets SIGURG when
 * an out-of-band byte arrives.  pid > 0 a process, < 0 a process group, 0
 * nobody; uid/euid are the setter's, for Linux's sigio_perm check.
 */
struct unix_fown {
	int32_t pid;
	int32_t uid, euid;
};

/* One file passed with SCM_RIGHTS: an opaque reference owned by the embedder. */
struct scm_file {
	void *file;			/* the embedder's open file (it holds a reference) */
	struct unix_sock *usk;		/* the AF_UNIX socket behind it, or NULL */
};

/*
 * A user's files in flight (Linux's user_struct.unix_inflight), on the
 * net's user table under gc_lock while it has any.
 */
struct unix_user {
	struct list_head link;
	int32_t uid;
	int64_t inflight;
};

struct scm_fp_list {
	struct scm_fp_list *next;	/* on the net's release list */
	int count;
	int user;			/* the sender's real uid, charged while in flight */
	/* too_many_unix_fds, as of scm_send: the sender's RLIMIT_NOFILE, and
	 * whether CAP_SYS_RESOURCE or CAP_SYS_ADMIN lifts it */
	int64_t user_nofile;
	int user_unlimited;
	struct unix_user *charged;	/* the user entry charged, while in flight */
	struct scm_file files[];
};

/*
 * A control message as sendmsg's msg_control holds it on 64-bit Linux:
 * struct cmsghdr, then the data; each message starts at an 8-byte boundary.
 */
struct unix_cmsghdr {
	uint64_t cmsg_len;		/* header and data */
	int32_t cmsg_level;
	int32_t cmsg_type;
};
#define UNIX_CMSG_ALIGN(len)	(((len) + 7) & ~(size_t)7)
#define UNIX_CMSG_LEN(len)	(sizeof(struct unix_cmsghdr) + (len))

struct unix_counters {
	int64_t socks;			/* unix_sock structures not yet freed */
	int64_t live;			/* sockets not yet released (open files, embryos) */
	int64_t skbs;			/* live sk_buffs */
	int64_t bytes_queued;		/* data bytes in skbs on receive queues */
	int64_t inflight;		/* files in flight in SCM_RIGHTS messages */
	int64_t bytes_copied;		/* payload bytes copied in by sends and out by
					 * receives (a stream handoff's one copy
					 * counts both ways, as if queued and read) */
	int64_t bytes_zerocopy;		/* payload bytes handed over as pages */
	int64_t pages;			/* live pages */
	int64_t gc_runs;		/* collector passes run */
	/* from the net's wait_stats (sched/wait.h) */
	int64_t blocked;		/* threads asleep in a blocking call, not yet woken */
	int64_t kicks;			/* sleeps ended by teardown or a signal, not their event */
	int64_t wait_timeouts;		/* sleeps ended by their deadline */
	int64_t spin_wakes;		/* sleeps whose wake-up came while spinning */
};

/* Count @n on @net's counter @field: a relaxed atomic add, so counting
 * needs no lock (unix_net_counters() reads them the same way). */
#define unix_cnt_add(net, field, n) \
	((void)__atomic_fetch_add(&(net)->cnt.field, (int64_t)(n), __ATOMIC_RELAXED))

struct unix_net {
	plat_mutex_t lock;
	plat_mutex_t names_lock;	/* the name tables and autobind_seed */
	plat_mutex_t gc_lock;		/* files in flight and the collector */
	struct unix_sysctl sysctl;
	struct list_head socks;		/* every socket not yet freed */
	struct list_head pipes;		/* every pipe not yet freed (fs/pipe.h) */
	struct scm_fp_list *released;	/* files dropped under the lock, for the embedder to release */
	struct unix_counters cnt;
	int dead;			/* unix_net_shutdown() ran: every sleeper fails (atomic) */
	int sleepers;			/* threads asleep in this net (atomic) */
	plat_mutex_t idle_lock;		/* for idle */
	plat_cond_t idle;		/* signalled when sleepers drops to 0 after shutdown */
	/* readiness records woken since their last update (ready.c) */
	plat_mutex_t ready_lock;
	struct unix_ready *ready_dirty;
	int ready_pending;		/* records on ready_dirty (atomic: a hint) */
	struct wait_stats wstats;	/* every sleep in this net */
	int64_t busy_poll_ns;		/* net.core.busy_poll: poll's fixed spin, a new socket's SO_BUSY_POLL */
	int64_t spin_max_ns;		/* bound of the adaptive spin before a sleep; 0: none */
	struct wait_spin poll_spin;	/* poll's adaptive spin budget */
	uint64_t next_ino;
	uint64_t cookie;		/* SO_NETNS_COOKIE: unique among nets */
	int gc_in_progress;
	/* A cycle of sockets in flight may exist: set when a message carrying
	 * sockets is queued on a socket that is itself in flight (or on the
	 * embryo of one), recomputed by every collector pass. */
	int gc_maybe_cyclic;
	int orphaned;			/* unix_net_destroy() ran; freed with the last socket */
	struct page_pool pool;		/* zero-copy pages allocated in this net */
	int64_t unix_tot_inflight;	/* sockets in flight: a release schedules a
					 * collector pass only while > 0 */
	const struct unix_host_ops *host;	/* the embedder's VFS (unix_host.h) */
	/* Bound sockets, as Linux's unix_socket_table: abstract names hashed
	 * by name and type, path names by their inode (dev, ino). */
	struct list_head abstract_names[UNIX_HASH_SIZE];
	struct list_head bsd_names[UNIX_HASH_SIZE];
	uint32_t autobind_seed;		/* where the next autobind starts looking */
	struct list_head users[UNIX_HASH_SIZE];	/* struct unix_user, by uid */
};

struct unix_sock;
struct unix_msg;
struct poll_table;

/* One ops table per socket type; calls a type does not have point at a stub. */
/*
 * Supplementary groups as SO_PEERGROUPS reports them (Linux's group_info):
 * made once by the embedder, shared by reference, never changed.
 */
struct unix_groups {
	refcount_t ref;
	int n;
	int32_t gid[];
};
struct unix_groups *unix_groups_alloc(int n);
void unix_groups_put(struct unix_groups *g);

/* Another reference to @g (NULL stays NULL). */
static inline struct unix_groups *unix_groups_get(struct unix_groups *g)
{
	if (g)
		refcount_inc(&g->ref);
	return g;
}

/* SO_PEERCRED and SO_PEERGROUPS as listen, connect and socketpair take them
 * from the caller (init_peercred): its tgid, euid, egid and groups. */
struct unix_peercred {
	struct unix_cred id;
	struct unix_groups *groups;	/* NULL: none */
};

struct unix_proto_ops {
	int type;
	int (*connect)(struct unix_sock *sk, struct unix_sock *other,
		       const struct unix_peercred *cred, int flags, struct wait_ctl *ctl);
	/* @task: the caller, for the host ops a name lookup needs */
	int (*listen)(struct unix_sock *sk, int backlog, const struct unix_peercred *cred);
	int (*accept)(struct unix_sock *sk, struct unix_sock **newsk, int flags,
		      struct wait_ctl *ctl);
	ssize_t (*sendmsg)(void *task, struct unix_sock *sk, struct unix_msg *msg,
			   struct wait_ctl *ctl);
	ssize_t (*recvmsg)(struct unix_sock *sk, struct unix_msg *msg, struct wait_ctl *ctl);
	unsigned int (*poll)(struct unix_sock *sk, struct poll_table *pt, unsigned int events);
};

struct unix_sock {
	struct unix_net *net;
	const struct unix_proto_ops *ops;
	int type;
	int state;
	unsigned int flags;
	refcount_t refcnt;		/* atomic; the last put under net.lock */
	int shutdown;
	int err;			/* pending error (positive errno), reported once */
	struct unix_sock *peer;		/* holds a reference */
	struct unix_address *addr;	/* holds a reference */
	struct sk_buff_head receive_queue;
	struct wait_queue_head wq;	/* waiting to read, write, accept, or polling */
	struct wait_queue_head peer_wait; /* waiting for this socket's queue to have room */
	plat_mutex_t iolock;
	plat_mutex_t lock;		/* unix_state_lock */
	int64_t wmem_alloc;		/* truesize of this socket's skbs not yet freed */
	int sndbuf, rcvbuf;
	int64_t rcvtimeo, sndtimeo;	/* ns; -1: none */
	int rcvlowat;
	int peek_off;			/* SO_PEEK_OFF; negative: off */
	int max_ack_backlog;
	struct unix_cred peercred;	/* SO_PEERCRED; pid 0 uid/gid -1 when none */
	struct unix_groups *peer_groups; /* SO_PEERGROUPS (a reference); NULL: none */
	struct sk_buff *oob_skb;	/* stream MSG_OOB: the byte at the mark */
	unsigned int inq_stale;		/* stream: OOB bytes dropped unread that SIOCINQ
					 * still counts, as Linux 6.18's inq_len does */
	struct unix_fown owner;		/* F_SETOWN */
	int64_t busy_poll_ns;		/* SO_BUSY_POLL */
	/* Options Linux keeps on any socket that change nothing for AF_UNIX:
	 * stored as sk_setsockopt stores them, read back as sk_getsockopt
	 * reads them, under the state lock. */
	int priority;			/* SO_PRIORITY */
	uint32_t mark;			/* SO_MARK */
	int incoming_cpu;		/* SO_INCOMING_CPU; -1 until set */
	unsigned int userlocks;		/* UNIX_*BUF_LOCK */
	int64_t lingertime;		/* SO_LINGER, jiffies; kept while off */
	uint64_t max_pacing_rate;	/* SO_MAX_PACING_RATE; ~0: none */
	int32_t txtime_clockid;		/* SO_TXTIME */
	uint32_t txtime_flags;
	int bound_dev_if;		/* SO_BINDTOIFINDEX; 0: none */
	int busy_poll_budget;		/* SO_BUSY_POLL_BUDGET (write-only) */
	/* SO_COOKIE (sock_gen_cookie): unique among every net's sockets, made
	 * at its first reading; 0 until then (atomic) */
	uint64_t cookie;
	uint64_t ino;			/* socket inode number (sockfs), for listings */
	struct list_head link;		/* on net->socks */
	struct list_head bind_link;	/* on a name table while bound (not an
					 * accepted socket sharing its listener's name) */
	/* embryo: the listener whose queue holds it, until accepted or dropped
	 * (no reference: the listener frees its queue before itself) */
	struct unix_sock *listener;
	/* garbage collector */
	int64_t inflight;		/* times this socket's file is in flight */
	int64_t file_refs;		/* references to this socket's file the embedder holds */
	struct list_head gc_link;
	int64_t gc_refs;
	int gc_candidate;		/* marked by the pass under way */
	/* copy accounting */
	int64_t bytes_copied;		/* copied in (sends) and out (receives) */
	int64_t bytes_copied_out;	/* of which copied out by receives */
	int64_t bytes_zerocopy;		/* handed over as pages, sent and received */
	int64_t bytes_zerocopy_out;	/* of which received as pages */
	int64_t msgs_sent;		/* skbs this socket's sends queued on a receiver */
	int64_t msgs_received;		/* skbs queued on this socket's receive queue */
	int32_t uid;			/* the socket inode's owner (sock_i_uid) */
	/* atomic: a sender waiting for room or a poller found no room (Linux's
	 * SOCKWQ_ASYNC_NOSPACE); a free wakes the socket only while it is set */
	int nospace;
	struct unix_ready *ready;	/* readiness fds armed on it (ready.c) */
	/* stream: a reader asleep in recv, offering its buffer to senders
	 * while the receive queue is empty (stream.c), under its state lock */
	struct unix_handoff *handoff;
	/* datagram: a sender woken with the room a receive made is on its
	 * way and has not passed the grant on (dgram.c), under the state lock */
	int room_granted;
};

/*
 * Message descriptor for sendmsg/recvmsg.  @done carries one call's
 * progress from its first, non-blocking attempt into the blocking one; a
 * call interrupted by a signal returns that progress if there is any, else
 * -ERESTARTSYS/-EINTR with nothing done, and is then restarted from scratch.
 */
struct unix_iov {
	void *base;
	size_t len;
};

/*
 * Where a stream read for splice puts what it takes (Linux's
 * unix_stream_splice_actor): @actor is given @len bytes of @skb from @off,
 * returns how many it took -- fewer when its pipe is full, 0 or a
 * -errno when it took none -- and sets @copied to how many of those it
 * copied (the rest it took by reference).  Called with the socket's iolock
 * held and no other core lock; it may take net.lock.
 */
struct sk_buff;
struct unix_splice_sink {
	long (*actor)(struct unix_splice_sink *sink, struct sk_buff *skb, unsigned int off,
		      unsigned int len);
	size_t copied;
};

struct unix_msg {
	struct unix_iov *iov;
	unsigned int iovlen;
	unsigned int iov_idx;		/* cursor: current iov and offset in it */
	size_t iov_off;
	size_t done;			/* bytes transferred so far */
	int flags;			/* MSG_* given */
	int msg_flags;			/* MSG_* returned (recv) */
	int sigpipe;			/* out: the call would raise SIGPIPE */
	struct unix_fown urg;		/* out (send): SIGURG to this owner (pid 0: none) */
	/* send: the control messages (msg_control), parsed by the first
	 * attempt's scm_send into @fp and @creds and consumed (set to NULL) */
	const void *control;
	size_t controllen;
	/* send: the sender's credentials (scm_send reads them through the
	 * host's cred op), and explicit SCM_CREDENTIALS */
	struct unix_cred cur;
	int has_creds;
	struct unix_cred creds;
	struct scm_fp_list *fp;		/* send: files to pass (consumed on success) */
	struct page_run *pages;		/* send: zero-copy pages */
	/* send: @pages are spliced (splice_to_socket's MSG_SPLICE_PAGES): their
	 * length is charged to the send buffer, not only the skb's */
	int splice;
	/* send: the destination's sun_path bytes (msg_name), or NULL for none;
	 * @namelen may be 0 (an address of sun_family alone) */
	const unsigned char *name;
	unsigned int namelen;
	/* send (datagram), fault injection: lose the datagram on its way --
	 * after every check the sender makes, the copy and the destination's
	 * lookup it is freed instead of queued, and the call reports it sent */
	int drop;
	/* send (datagram): a grant of room this send was woken with and used
	 * (dgram.c) is passed on before the call returns, unless @keep_grant:
	 * then it is left in @granted (a reference on the receiver), for the
	 * caller to pass on with unix_room_release() once it is back with its
	 * own caller */
	int keep_grant;
	struct unix_sock *granted;
	/* recv results */
	struct unix_address *addr;	/* sender's address (a reference) or NULL */
	int want_creds;			/* the receiver takes credentials (UNIX_F_MAY_PASSCRED) */
	int got_scm;			/* cred/fp below are valid */
	struct unix_cred cred;
	struct scm_fp_list *rfp;	/* received files (caller installs or releases) */
	int rfp_peeked;			/* rfp is a copy: the caller takes new references */
	/* the message's receive timestamp (realtime ns) and the SCM_TIMESTAMP*
	 * type to report it as; 0: none */
	int64_t tstamp;
	int tstamp_type;
	struct page_run *rpages;	/* zero-copy pages received */
	size_t rpages_off;		/* where the message starts in them */
	/* recv on a stream socket for splice: each skb's part goes to the
	 * sink's actor instead of the iov, whose length only bounds the read */
	struct unix_splice_sink *sink;
	/* recv: msg_control, for unix_recvmsg's scm_recv (NULL: the caller
	 * takes @rfp and @cred itself).  Control messages are written at
	 * @rcontrol, which advances past them, and @rcontrollen, the room
	 * left, shrinks; a buffer larger than UNIX_SCM_RECV_MAX behaves as
	 * one of that size, one of 0 bytes as none (msg_control NULL).
	 * @creds_put, @fds_put: SCM_CREDENTIALS is written, the files a
	 * message carried are detached (a call's first attempt may write the
	 * credentials, its blocking one add the files; files end a stream
	 * read). */
	unsigned char *rcontrol;
	size_t rcontrollen;
	int creds_put, fds_put;
};

/* The most scm_recv writes: SCM_CREDENTIALS and SCM_MAX_FD files. */
#define UNIX_SCM_RECV_MAX	(UNIX_CMSG_ALIGN(UNIX_CMSG_LEN(sizeof(struct unix_cred))) + \
				 UNIX_CMSG_ALIGN(UNIX_CMSG_LEN(SCM_MAX_FD * sizeof(int32_t))))

/* net */
struct unix_net *unix_net_create(const struct unix_sysctl *sysctl);
void unix_net_shutdown(struct unix_net *net);
void unix_net_destroy(struct unix_net *net);
struct scm_fp_list *unix_net_take_released(struct unix_net *net);
void unix_net_counters(struct unix_net *net, struct unix_counters *out);
/* Destroyed by the embedder and no socket or pipe left (caller holds the lock). */
static inline int __unix_net_unused(struct unix_net *net)
{
	return net->orphaned && list_empty(&net->socks) && list_empty(&net->pipes);
}
void unix_net_free(struct unix_net *net);
/* The one sleep of the net's blocking calls (see af_unix.c): on a queue
 * whose owner's lock is @lock (a socket's state lock), or net.lock (pipes). */
int __unix_net_sleep_locked(struct unix_net *net, plat_mutex_t *lock,
			    struct wait_queue_head *wq, struct wait_ctl *ctl,
			    int64_t busy_poll_ns, int exclusive);
int __unix_net_sleep(struct unix_net *net, struct wait_queue_head *wq,
		     struct wait_ctl *ctl, int64_t busy_poll_ns, int exclusive);

/* lifetime */
int unix_create(struct unix_net *net, int type, int protocol, struct unix_sock **out);
void unix_sock_hold(struct unix_sock *sk);
void unix_sock_put(struct unix_sock *sk);
int unix_release(struct unix_sock *sk);

/* The embedder's host ops; set once, before any call that names a path. */
void unix_net_set_host(struct unix_net *net, const struct unix_host_ops *ops);

/*
 * calls: each is the whole syscall.  @task is the caller (unix_host.h);
 * names are sun_path bytes: @len 0 is an address of sun_family alone, a
 * leading NUL an abstract name, anything else a path up to its first NUL.
 * unix_connect's @path NULL is AF_UNSPEC.  listen, connect and socketpair
 * take SO_PEERCRED, and a send its default credentials, from the host's
 * cred op; a recvmsg with a control buffer (unix_msg.rcontrol) ends with
 * scm_recv writing the control messages into it.
 */
int unix_bind(void *task, struct unix_sock *sk, const void *path, unsigned int len);
int unix_socketpair(void *task, struct unix_sock *a, struct unix_sock *b);
int unix_listen(void *task, struct unix_sock *sk, int backlog);
int unix_connect(void *task, struct unix_sock *sk, const void *path, unsigned int len,
		 int flags, struct wait_ctl *ctl);
int unix_accept(struct unix_sock *sk, struct unix_sock **newsk, int flags,
		struct wait_ctl *ctl);
ssize_t unix_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
		     struct wait_ctl *ctl);
/* Pass on the grant of room a send left in msg->granted (msg->keep_grant). */
void unix_room_release(struct unix_msg *msg);
ssize_t unix_recvmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
		     struct wait_ctl *ctl);
/* The end of a recvmsg with a control buffer whose last attempt returned
 * what the call returns, >= 0: after the control messages each attempt
 * put, SCM_PIDFD with SO_PASSPIDFD, then SCM_INQ for a stream socket with
 * SO_INQ (scm.c). */
void unix_scm_recv_end(void *task, struct unix_sock *sk, struct unix_msg *msg);
size_t unix_recv_hint(const struct unix_sock *sk);	/* lockless: a hint */
int unix_shutdown(struct unix_sock *sk, int how);
int unix_getname(struct unix_sock *sk, int peer, unsigned char *path, unsigned int *len);
/* An option's value as an int64; SO_LINGER's and SO_TXTIME's two fields
 * as its low and high 32 bits (l_onoff, l_linger; clockid, flags), a
 * SO_MAX_PACING_RATE as its 64 bits.  The checks that compare with what
 * the socket holds get the caller's capability above an int's 32 bits:
 * UNIX_SOCKOPT_NET_ADMIN for SO_BUSY_POLL_BUDGET (raising the budget),
 * UNIX_SOCKOPT_NET_RAW for SO_BINDTOIFINDEX (changing a bound device).
 * The embedder parses the caller's buffer, checks its length and the
 * other capabilities, and lays the answer out. */
#define UNIX_SOCKOPT_NET_ADMIN	((int64_t)1 << 32)
#define UNIX_SOCKOPT_NET_RAW	((int64_t)1 << 33)
int unix_getsockopt(struct unix_sock *sk, int level, int optname, int64_t *val);
int unix_setsockopt(struct unix_sock *sk, int level, int optname, int64_t val);
int unix_get_peercred(struct unix_sock *sk, struct unix_cred *out);
/* SO_PEERGROUPS: a reference to the peer's groups in *@out (NULL for
 * none), or -ENODATA without peer credentials. */
int unix_get_peergroups(struct unix_sock *sk, struct unix_groups **out);
void unix_set_owner(struct unix_sock *sk, const struct unix_fown *owner);
void unix_get_owner(struct unix_sock *sk, struct unix_fown *out);
int unix_ioctl(struct unix_sock *sk, unsigned long cmd, int *out);
void unix_msg_release(struct unix_sock *sk, struct unix_msg *msg);
/* scm_destroy: drop the files of a message that was not sent (host fput). */
void unix_scm_destroy(struct unix_net *net, struct unix_msg *msg);

/* poll over many sockets; see af_unix.c */
struct pipe_inode_info;
struct unix_pollfd {
	struct unix_sock *sk;		/* NULL: not a socket, revents preset by the caller */
	unsigned int events;
	unsigned int revents;
	struct pipe_inode_info *pipe;	/* or a pipe file (sk NULL): fs/pipe.h */
	int pipe_fmode;			/* PIPE_FMODE_* of the pipe file */
	unsigned int pipe_version;	/* the file's w_counter at open */
};
int unix_poll_many(struct unix_net *net, struct unix_pollfd *fds, unsigned int n,
		   struct wait_ctl *ctl);

/* zero copy */
ssize_t unix_recv_pages(struct unix_sock *sk, struct unix_msg *msg, struct wait_ctl *ctl);
struct page_run *unix_alloc_pages(struct unix_net *net, size_t npages, int zero);

/* in-flight files */
struct scm_fp_list *scm_fp_alloc(int count);
/* The users with files in flight: up to @max (uid, count) pairs; returns
 * how many there are. */
int unix_users_inflight(struct unix_net *net, int32_t *uids, int64_t *counts, int max);
void scm_fp_free(struct scm_fp_list *fpl);
void unix_file_ref(struct unix_sock *sk, int delta);
int unix_gc(struct unix_net *net);
int unix_gc_scheduled(struct unix_net *net);
int __unix_gc_due(struct unix_net *net);
void __unix_gc_queued(struct unix_sock *receiver, const struct scm_fp_list *fpl);
void __unix_gc_purge(struct unix_sock *sk);
void __unix_gc_free(struct unix_sock *sk);

/*
 * Listing, as /proc/net/unix and sock_diag (net/unix/diag.c) see the sockets:
 * one record per socket not yet freed.  @ino is 0 for
 * an embryo (a connection not yet accepted has no socket inode, so sock_diag
 * skips it), @rqueue/@wqueue are UNIX_DIAG_RQLEN's: for a listener the
 * pending connections and the backlog, else what SIOCINQ and SIOCOUTQ
 * answer.  @mem is SK_MEMINFO_*.  A listener's pending connections' peers
 * (UNIX_DIAG_ICONS) are @nicons inode numbers at @icons_off in the @icons
 * array.  Fills up to @max records and @max_icons icons; returns the number
 * of sockets and sets *@n_icons to the number of icons (call again with
 * more room when either is short).
 */
#define UNIX_MEMINFO_VARS	9
struct unix_sock_info {
	uint64_t ino;
	int type, state, flags, refcnt, listening;
	unsigned int addr_len;
	unsigned char path[UNIX_PATH_MAX + 1];
	unsigned int rqueue, wqueue;
	uint64_t peer_ino;		/* 0: no peer, or a peer without an inode */
	int shutdown;
	int32_t uid;
	int has_vfs;
	uint32_t vfs_dev;
	uint64_t vfs_ino;
	uint32_t mem[UNIX_MEMINFO_VARS];
	size_t icons_off, nicons;
	uint64_t listener_ino;		/* an embryo's listener */
	int64_t inflight;		/* times its file is in flight (SCM_RIGHTS) */
	int64_t bytes_copied_in, bytes_copied_out;
	int64_t bytes_zerocopy_in, bytes_zerocopy_out;
	int64_t msgs_sent, msgs_received;
};
/* sk_get_meminfo: what SO_MEMINFO and sock_diag's UNIX_DIAG_MEMINFO report,
 * SK_MEMINFO_RMEM_ALLOC .. SK_MEMINFO_DROPS.  No lock needed. */
void unix_meminfo(struct unix_sock *sk, uint32_t mem[UNIX_MEMINFO_VARS]);
int unix_list(struct unix_net *net, struct unix_sock_info *out, int max,
	      uint64_t *icons, size_t max_icons, size_t *n_icons);
/* sock_graft: an accepted socket gets its file, and with it an inode number. */
void unix_graft(struct unix_sock *sk);
/* The owner of the socket's inode (sock_i_uid): its creator's fsuid. */
void unix_set_uid(struct unix_sock *sk, int32_t uid);

/*
 * Readiness fds (ready.c): a host fd kept readable/writable exactly while
 * the socket polls so, for host event loops.  Becoming ready comes with a
 * wake-up of a queue the socket polls, which marks the record for the
 * waker's call to update before it returns (unix_ready_flush); becoming
 * unready only comes from the socket's own calls (its recv empties the
 * queue, its send fills its buffer), after which the caller runs
 * unix_ready_refresh().  Both recompute the mask and update the host fd
 * under net.lock.
 */
struct unix_ready;
int unix_ready_arm(struct unix_sock *sk, struct unix_ready **out);
int unix_ready_fd(const struct unix_ready *r);
void unix_ready_disarm(struct unix_ready *r);
void unix_ready_refresh_slow(struct unix_sock *sk);
void unix_ready_flush_slow(struct unix_net *net);
/* Update the records woken meanwhile; every call that may wake ends with it. */
static inline void unix_ready_flush(struct unix_net *net)
{
	if (__atomic_load_n(&net->ready_pending, __ATOMIC_RELAXED))
		unix_ready_flush_slow(net);
}
static inline void unix_ready_refresh(struct unix_sock *sk)
{
	if (__atomic_load_n(&sk->ready, __ATOMIC_RELAXED))
		unix_ready_refresh_slow(sk);
}

#endif
