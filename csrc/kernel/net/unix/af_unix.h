/*
 * net/unix/af_unix.h - what the files of the AF_UNIX core share among
 * themselves (not the embedder's interface: that is unix_socket.h).
 *
 *   af_unix.c   the net, sleeping, refcounts, skb queueing, create/release,
 *               names (bind, autobind, lookup), listen/accept, connect,
 *               shutdown, poll, options, listing and the ops tables
 *   stream.c    SOCK_STREAM send and receive, out-of-band data included
 *   dgram.c     SOCK_DGRAM and SOCK_SEQPACKET send and receive
 *   scm.c       control messages, files in flight and their accounting
 *   msg.c       the message's iovec cursor and its copies
 *   zerocopy.c  page handoff (send as pages, receive as pages)
 *
 * Locking: the contract in unix_socket.h.  A function named __unix_*() or
 * __sk_*() here expects the caller to hold the lock its comment names.
 * Tracepoints take the trace ring's lock, a leaf (kernel/trace/trace.h).
 */
#ifndef MENIOS_NET_UNIX_AF_UNIX_H
#define MENIOS_NET_UNIX_AF_UNIX_H

#include "unix_socket.h"
#include "../../trace/trace.h"

#define SKB_MAX_HEAD0		(4096 - 320)	/* SKB_MAX_HEAD(0) */
#define UNIX_SKB_FRAGS_SZ	32768
#define SKB_MAX_ALLOC		(16384 - 320)	/* SKB_MAX_ORDER(0, 2) */
#define MAX_SKB_FRAGS		17
#define PAGE_SZ			4096
#define PAGE_ALIGN(x)		(((x) + PAGE_SZ - 1) & ~(size_t)(PAGE_SZ - 1))
#define SOCK_MIN_SNDBUF		4608
#define SOCK_MIN_RCVBUF		2304
#define COPY_UNLOCKED_MIN	1024	/* a reader copies larger chunks with its queue unlocked */

static inline size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* ---------------------------------------------------------------- locks --- */

/*
 * A field written under a lock and also read without it (a hint, or a
 * check the reader repeats under the lock before it acts): both sides are
 * relaxed atomic accesses, as Linux's READ_ONCE / WRITE_ONCE.
 */
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Record SO_PEERCRED and SO_PEERGROUPS (init_peercred / copy_peercred):
 * @sk takes a reference to @groups and drops the one it had.  Caller holds
 * @sk's state lock. */
static inline void unix_set_peercred(struct unix_sock *sk, struct unix_cred id,
				     struct unix_groups *groups)
{
	struct unix_groups *old = sk->peer_groups;

	sk->peercred = id;
	sk->peer_groups = unix_groups_get(groups);
	unix_groups_put(old);
}

/* Set / clear flag bits of @sk (caller holds its state lock). */
static inline void unix_flags_set(struct unix_sock *sk, unsigned int f)
{
	__atomic_fetch_or(&sk->flags, f, __ATOMIC_RELAXED);
}

static inline void unix_flags_clear(struct unix_sock *sk, unsigned int f)
{
	__atomic_fetch_and(&sk->flags, ~f, __ATOMIC_RELAXED);
}

/* A per-socket statistic (copy counters): a relaxed atomic add. */
#define unix_sk_stat_add(sk, field, n) \
	((void)__atomic_fetch_add(&(sk)->field, (int64_t)(n), __ATOMIC_RELAXED))

/* Truesize of @sk's skbs not yet freed: charged and returned atomically. */
static inline int64_t unix_wmem(const struct unix_sock *sk)
{
	return __atomic_load_n(&sk->wmem_alloc, __ATOMIC_RELAXED);
}

/* A socket's address: published once with a release store, read with an
 * acquire load (its bytes never change). */
static inline struct unix_address *unix_addr(const struct unix_sock *sk)
{
	return __atomic_load_n(&sk->addr, __ATOMIC_ACQUIRE);
}

/* unix_state_lock: a socket's state lock (unix_socket.h says what it covers). */
static inline void unix_state_lock(struct unix_sock *sk)
{
	plat_mutex_lock(&sk->lock);
}

static inline void unix_state_unlock(struct unix_sock *sk)
{
	plat_mutex_unlock(&sk->lock);
}

/* Two sockets' state locks, the lower address first (one lock if @a == @b). */
void unix_state_double_lock(struct unix_sock *a, struct unix_sock *b);
void unix_state_double_unlock(struct unix_sock *a, struct unix_sock *b);

/* sock_error: take @sk's pending error, as a negative errno, or 0. */
static inline int __unix_sock_error(struct unix_sock *sk)
{
	int err;

	unix_state_lock(sk);
	err = sk->err;
	WRITE_ONCE(sk->err, 0);
	unix_state_unlock(sk);
	return -err;
}

/* ------------------------------------------------------------- sleeping --- */

/*
 * Sleep on @wq, one of @sk's own queues (sk->wq, sk->peer_wait), with its
 * SO_BUSY_POLL spin; the caller holds @sk's state lock, which the sleep
 * drops and takes again (__unix_net_sleep_locked, af_unix.c).
 */
static inline int __unix_sleep(struct unix_sock *sk, struct wait_queue_head *wq,
			       struct wait_ctl *ctl, int exclusive)
{
	return __unix_net_sleep_locked(sk->net, &sk->lock, wq, ctl,
				       READ_ONCE(sk->busy_poll_ns), exclusive);
}

/*
 * wait_event: sleep on @wq, a queue of @sk's, until @cond (checked under
 * @sk's state lock) holds.  @err is 0 then, else what ended the wait (see
 * __unix_net_sleep_locked).
 */
#define __unix_wait_event(err, sk, wq, ctl, exclusive, cond)			\
	do {									\
		(err) = 0;							\
		while (!(cond)) {						\
			(err) = __unix_sleep((sk), (wq), (ctl), (exclusive));	\
			if (err)						\
				break;						\
		}								\
	} while (0)

/*
 * __skb_wait_for_more_packets: sleep until @sk has a message to read, an
 * error or a receive shutdown.  Called with sk->iolock held and no other
 * lock; returns with none (the reader takes its iolock again before it
 * looks).  Senders queue under @sk's state lock, so the queue's length,
 * read under it, is exact here.
 */
static inline int unix_wait_for_packet(struct unix_sock *sk, struct wait_ctl *ctl)
{
	int err;

	plat_mutex_unlock(&sk->iolock);
	unix_state_lock(sk);
	__unix_wait_event(err, sk, &sk->wq, ctl, 0,
			  skb_queue_len_lockless(&sk->receive_queue) || sk->err ||
			  (sk->shutdown & RCV_SHUTDOWN));
	unix_state_unlock(sk);
	return err;
}

/* ------------------------------------------------------------ refcounts --- */

void __unix_destroy(struct unix_sock *sk);
void unix_addr_put(struct unix_address *addr);

/* Take a reference on @sk: the caller holds one, or found @sk under a
 * lock that keeps it (a name table's, a peer link's).  No lock needed. */
static inline void sock_hold(struct unix_sock *sk)
{
	refcount_inc(&sk->refcnt);
}

/* Drop a reference, holding net.lock; the last one frees @sk. */
static inline void __sock_put(struct unix_sock *sk)
{
	if (refcount_dec_and_test(&sk->refcnt))
		__unix_destroy(sk);
}

/* Drop a reference holding no lock but maybe an iolock: unix_sock_put. */
#define sock_put(sk)	unix_sock_put(sk)

/* --------------------------------------------------------- skbs, queues --- */

struct sk_buff *__unix_skb_new(struct unix_sock *owner, size_t len, unsigned int truesize);
int unix_writable(const struct unix_sock *sk, int state);

/*
 * Whoever waits for room on @sk -- a sender in __unix_wait_wmem, a poll
 * (and so a readiness fd) that finds no POLLOUT -- sets sk->nospace under
 * @sk's state lock, then looks at wmem_alloc again before it sleeps or
 * reports no room.  A free subtracts its truesize from wmem_alloc, then
 * takes @sk's state lock to wake only if it reads nospace set
 * (unix_skb_release).  The flag's store and load and wmem_alloc's update
 * and the load below are sequentially consistent, so the two
 * store-then-load pairs cannot both miss (Linux's wq_has_sleeper /
 * skwq_has_sleeper barriers): either the waiter's second look sees the
 * free's room (by coherence, the relaxed reads after the load below see
 * nothing older than it did), or the free sees the
 * flag, and then its state lock comes after the waiter has queued itself
 * and dropped the lock in its sleep.  The flag is cleared only under the
 * state lock by a free that wakes the queue: every waiter is woken then
 * and sets it again if it still finds no room.
 */
static inline void __unix_set_nospace(struct unix_sock *sk)
{
	__atomic_store_n(&sk->nospace, 1, __ATOMIC_SEQ_CST);
	(void)__atomic_load_n(&sk->wmem_alloc, __ATOMIC_SEQ_CST);
}

void __kfree_skb(struct sk_buff *skb);
void kfree_skb(struct sk_buff *skb);
void kfree_skb_list(struct sk_buff *list);

/* Put an unlinked @skb on a list to free once the caller's locks are dropped. */
static inline void skb_defer_free(struct sk_buff **list, struct sk_buff *skb)
{
	skb->next = *list;
	*list = skb;
}
void __unix_queue_skb(struct unix_sock *other, struct sk_buff *skb, int oob);
void __unix_unlink_skb(struct unix_sock *sk, struct sk_buff *skb);
void __unix_unlink_skb_locked(struct unix_sock *sk, struct sk_buff *skb);
void __unix_purge_queue(struct unix_sock *sk);
int unix_recvq_full(const struct unix_sock *sk);
void __unix_room_made(struct unix_sock *sk);
int __unix_wait_wmem(struct unix_sock *sk, struct wait_ctl *ctl);
void unix_account_copy(struct unix_sock *sk, size_t n, int out);

/* @n payload bytes copied by @sk's send (@out 0) or receive (@out 1):
 * counted (unix_account_copy) and traced. */
static inline void unix_copied(struct unix_sock *sk, size_t n, int out)
{
	unix_account_copy(sk, n, out);
	trace_event(TRACE_COPY, out, READ_ONCE(sk->ino), n, 0);
}
void unix_copy_addr(struct unix_msg *msg, struct unix_sock *from);

/* The bytes of @skb a stream reader has not consumed yet. */
static inline unsigned int unix_skb_len(const struct sk_buff *skb)
{
	return skb->len - skb->cb.consumed;
}

/*
 * SO_PEEK_OFF follows a read (back) and a peek (forward): sk_peek_offset_*.
 * Called with @sk's state lock held (the __ variants) or not.
 */
static inline void __sk_peek_offset_bwd(struct unix_sock *sk, int n)
{
	int off = sk->peek_off;

	if (off >= 0)
		WRITE_ONCE(sk->peek_off, off > n ? off - n : 0);
}

static inline void sk_peek_offset_bwd(struct unix_sock *sk, int n)
{
	if (READ_ONCE(sk->peek_off) >= 0) {
		unix_state_lock(sk);
		__sk_peek_offset_bwd(sk, n);
		unix_state_unlock(sk);
	}
}

static inline void sk_peek_offset_fwd(struct unix_sock *sk, int n)
{
	if (READ_ONCE(sk->peek_off) >= 0) {
		unix_state_lock(sk);
		if (sk->peek_off >= 0)
			WRITE_ONCE(sk->peek_off, sk->peek_off + n);
		unix_state_unlock(sk);
	}
}

/* Set @sk's out-of-band mark (an skb on its queue, or NULL), holding its
 * queue's lock; poll reads it without. */
static inline void __unix_set_oob_skb(struct unix_sock *sk, struct sk_buff *skb)
{
	WRITE_ONCE(sk->oob_skb, skb);
}

static inline void unix_set_oob_skb(struct unix_sock *sk, struct sk_buff *skb)
{
	plat_mutex_lock(&sk->receive_queue.lock);
	__unix_set_oob_skb(sk, skb);
	plat_mutex_unlock(&sk->receive_queue.lock);
}

/* --------------------------------------------------- names, association --- */

int __unix_autobind(struct unix_sock *sk);
int unix_find_other(void *task, struct unix_net *net, const unsigned char *name,
		    unsigned int len, int type, struct unix_sock **out);
void unix_dgram_disconnected(struct unix_sock *sk, struct unix_sock *other);
void __unix_dgram_peer_wake_disconnect(struct unix_sock *sk, struct unix_sock *other);

/*
 * unix_may_send: @sk may send to @other unless @other is connected to
 * someone else.
 */
static inline int unix_may_send(const struct unix_sock *sk, const struct unix_sock *other)
{
	return !other->peer || other->peer == sk;
}

/* -------------------------------------------------------- stream handoff --- */

/*
 * A stream reader asleep in recv for lack of data, offering its buffer:
 * while its receive queue stays empty, a sender copies straight into @msg
 * instead of queueing an skb -- one copy instead of two.  The reader puts
 * it on sk->handoff before it sleeps and takes it off after; a sender
 * takes it off once the reader has what it waits for.  sk->handoff and the
 * fields are under the reader's state lock, except that the reader's
 * message belongs to the sender that set @busy, which copies into it with
 * the lock dropped while the reader waits for @busy to clear before it
 * looks at its message again.
 */
struct unix_handoff {
	struct unix_msg *msg;		/* the reader's message; its cursor takes the bytes */
	size_t room;			/* bytes the reader still has room for */
	size_t want;			/* bytes that end the reader's wait (its target) */
	size_t got;			/* bytes handed over so far */
	int busy;			/* a sender is copying into @msg */
};

/* ------------------------------------------------------- per-type calls --- */

ssize_t unix_stream_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
			    struct wait_ctl *ctl);
ssize_t unix_stream_recvmsg(struct unix_sock *sk, struct unix_msg *msg, struct wait_ctl *ctl);
ssize_t unix_dgram_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
			   struct wait_ctl *ctl);
ssize_t unix_dgram_recvmsg(struct unix_sock *sk, struct unix_msg *msg, struct wait_ctl *ctl);
ssize_t unix_seqpacket_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
			       struct wait_ctl *ctl);
ssize_t unix_seqpacket_recvmsg(struct unix_sock *sk, struct unix_msg *msg,
			       struct wait_ctl *ctl);

/* ------------------------------------------------------------------ scm --- */

int unix_current_cred(void *task, struct unix_net *net, struct unix_task_cred *out);
int unix_scm_send(void *task, struct unix_net *net, struct unix_msg *msg);
void unix_scm_recv(void *task, struct unix_sock *sk, struct unix_msg *msg, ssize_t err);
long unix_inq_len(struct unix_sock *sk);
void __unix_notinflight(struct unix_net *net, struct scm_fp_list *fpl);
void __scm_fp_release(struct unix_net *net, struct scm_fp_list *fpl);
void __unix_skb_creds(struct sk_buff *skb, const struct unix_msg *msg,
		      const struct unix_sock *sk, const struct unix_sock *other);
int __unix_attach_fds(struct sk_buff *skb, struct unix_msg *msg);
void __unix_unattach_fds(struct sk_buff *skb, struct unix_msg *msg);
void __unix_detach_fds(struct sk_buff *skb, struct unix_msg *msg);
void unix_peek_fds(const struct sk_buff *skb, struct unix_msg *msg);
int unix_skb_scm_eq(const struct sk_buff *skb, const struct unix_cred *c);

/* ------------------------------------------------------------ msg cursor --- */

size_t msg_total(const struct unix_msg *m);
size_t msg_left(const struct unix_msg *m);
void msg_copy_from(struct unix_msg *m, unsigned char *dst, size_t n);
void msg_copy_to(struct unix_msg *m, const unsigned char *src, size_t n);
void msg_advance(struct unix_msg *m, size_t n);
void msg_rewind(struct unix_msg *m, size_t n);
void unix_msg_copy(struct unix_msg *msg, unsigned char *buf, size_t n, int to_msg);
void unix_msg_handoff(struct unix_msg *dst, struct unix_msg *src, size_t n);

/* ------------------------------------------------------------- zero copy --- */

struct sk_buff *__unix_page_skb(struct unix_sock *sk, struct unix_msg *msg, size_t len);

#endif
