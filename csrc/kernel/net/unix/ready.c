/*
 * net/unix/ready.c - readiness fds: a host fd that host event loops
 * (select, poll, epoll, asyncio) see readable and writable exactly when an
 * AF_UNIX socket of the core polls so.
 *
 * A record (struct unix_ready) owns a host socketpair made by the platform
 * (plat_readyfd_open: one end handed out, one kept) and remembers what the
 * handed-out end shows.  Like an epoll item (ep_poll_callback), it queues a
 * callback entry on the socket's wait queue; a connected datagram or
 * seqpacket socket whose peer is not connected back also depends on that
 * peer's queue and its room (unix_dgram_poll's peer-wake relay), so the
 * record then has entries on the peer's wq and peer_wait as well.  Every
 * wake-up of those queues runs the callback, which recomputes the socket's
 * poll mask and turns the host fd's directions on or off where they
 * changed.  A socket stops being ready only through its own calls (a recv
 * empties the queue, a send fills the buffer), which wake nobody: after
 * such a call the bridge runs unix_ready_refresh(), which does the same
 * recomputation -- an unarmed socket pays one load for it.
 *
 * The host fd is a socket because only a socket can show each of the four
 * states on one fd, neither readable nor writable included (an empty queue
 * and a full send buffer): an eventfd is never neither (eventfd_poll), a
 * pipe end shows one direction, an epoll fd only POLLIN (ep_eventpoll_poll).
 * A message to an armed socket whose queue was empty therefore costs two
 * host calls, readable on the send and unreadable on the recv; `menios
 * bench` times them alone as the c_readyfd floor (csrc/bench/readyfloor.c).
 *
 * Readable is what select(2) counts as readable (POLLIN, POLLRDNORM,
 * POLLRDBAND, POLLHUP, POLLERR), writable likewise (POLLOUT, POLLWRNORM,
 * POLLWRBAND, POLLERR), with the mask computed for POLLIN | POLLOUT.
 *
 * LOCKING: a callback runs under the lock of the queue's owner -- the
 * waker's state lock of some socket -- where it can neither take another
 * socket's lock nor read the other socket's state, so it only marks its
 * record dirty (r->dirty and the net's ready_dirty list, under
 * net.ready_lock, a leaf) and the waker's call updates the dirty records
 * before it returns (unix_ready_flush, with no lock held).  Updates, arming
 * and disarming are serialised by net.lock, and take the sockets' state
 * locks one at a time inside it: the self entry is added and removed
 * under its socket's lock, the peer entries under the peer's, as every
 * entry of a queue is.  The host fd is updated under net.lock, so two
 * updates never land out of order; an update recomputes the mask from the
 * sockets' state at that time, so the last update shows the last state.
 * It costs one or two non-blocking host syscalls on a transition and
 * nothing otherwise; no Python runs here.  A record holds a reference on
 * its socket, and on the peer whose queues its peer entries are on.
 */
#include <stddef.h>

#include "af_unix.h"

struct unix_ready {
	struct unix_sock *sk;
	struct unix_ready *next;	/* on sk->ready */
	struct wait_queue_entry self;	/* on sk->wq */
	struct wait_queue_entry peer_wq, peer_room; /* on other->wq, other->peer_wait */
	struct unix_sock *other;	/* whose queues peer_wq/peer_room are on, or NULL (held) */
	int fds[2];			/* plat_readyfd_open's */
	int readable, writable;		/* what fds[0] shows */
	int dirty;			/* on the net's ready_dirty list */
	struct unix_ready *dirty_next;
};

#define READY_IN	(POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)
#define READY_OUT	(POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)

/*
 * The peer whose queues decide the socket's writability, as unix_dgram_poll,
 * held; or NULL.  Each socket's state under its own lock, one at a time.
 */
static struct unix_sock *ready_other(struct unix_sock *sk)
{
	struct unix_sock *other;
	int keep;

	if (sk->type == SOCK_STREAM)
		return NULL;
	unix_state_lock(sk);
	other = sk->peer;
	if (other)
		sock_hold(other);
	unix_state_unlock(sk);
	if (!other)
		return NULL;
	unix_state_lock(other);
	keep = other->peer != sk && !(other->flags & UNIX_F_DEAD);
	unix_state_unlock(other);
	if (!keep) {
		__sock_put(other);
		return NULL;
	}
	return other;
}

#define READY_OF(e, member) \
	((struct unix_ready *)((char *)(e) - offsetof(struct unix_ready, member)))

/* The callbacks, one per entry of a record (each knows its own offset). */
static void ready_wake_self(struct wait_queue_entry *e, unsigned int events);
static void ready_wake_peer_wq(struct wait_queue_entry *e, unsigned int events);
static void ready_wake_peer_room(struct wait_queue_entry *e, unsigned int events);

/* Take the peer entries off r->other's queues (under net.lock). */
static void __ready_drop_other(struct unix_ready *r)
{
	if (!r->other)
		return;
	unix_state_lock(r->other);
	__wq_del(&r->peer_wq);
	__wq_del(&r->peer_room);
	unix_state_unlock(r->other);
	__sock_put(r->other);
	r->other = NULL;
}

/* Recompute and show the socket's state.  Caller holds net.lock. */
static void __ready_update(struct unix_ready *r)
{
	struct unix_sock *sk = r->sk, *other = ready_other(sk);
	unsigned int mask;
	int rd, wr;

	if (other != r->other) {
		__ready_drop_other(r);
		if (other) {
			unix_state_lock(other);
			__wq_add_callback(&other->wq, &r->peer_wq, ready_wake_peer_wq);
			__wq_add_callback(&other->peer_wait, &r->peer_room,
					  ready_wake_peer_room);
			unix_state_unlock(other);
			r->other = other;	/* keeps ready_other's reference */
			other = NULL;
		}
	}
	if (other)
		__sock_put(other);
	mask = sk->ops->poll(sk, NULL, POLLIN | POLLOUT);
	rd = (mask & READY_IN) != 0;
	wr = (mask & READY_OUT) != 0;
	if (rd != r->readable || wr != r->writable) {
		plat_readyfd_set(r->fds, rd != r->readable ? rd : -1,
				 wr != r->writable ? wr : -1);
		r->readable = rd;
		r->writable = wr;
	}
}

/* A wake-up of one of the record's queues, under that queue's owner's lock. */
static void ready_mark(struct unix_ready *r)
{
	struct unix_net *net = r->sk->net;

	plat_mutex_lock(&net->ready_lock);
	if (!r->dirty) {
		r->dirty = 1;
		r->dirty_next = net->ready_dirty;
		net->ready_dirty = r;
		__atomic_fetch_add(&net->ready_pending, 1, __ATOMIC_RELAXED);
	}
	plat_mutex_unlock(&net->ready_lock);
}

static void ready_wake_self(struct wait_queue_entry *e, unsigned int events)
{
	(void)events;
	ready_mark(READY_OF(e, self));
}

static void ready_wake_peer_wq(struct wait_queue_entry *e, unsigned int events)
{
	(void)events;
	ready_mark(READY_OF(e, peer_wq));
}

static void ready_wake_peer_room(struct wait_queue_entry *e, unsigned int events)
{
	(void)events;
	ready_mark(READY_OF(e, peer_room));
}

/* Take @r off the dirty list if it is on it.  Caller holds net.lock. */
static void __ready_undirty(struct unix_ready *r)
{
	struct unix_net *net = r->sk->net;
	struct unix_ready **pp;

	plat_mutex_lock(&net->ready_lock);
	if (r->dirty) {
		for (pp = &net->ready_dirty; *pp; pp = &(*pp)->dirty_next) {
			if (*pp == r) {
				*pp = r->dirty_next;
				break;
			}
		}
		r->dirty = 0;
		__atomic_fetch_sub(&net->ready_pending, 1, __ATOMIC_RELAXED);
	}
	plat_mutex_unlock(&net->ready_lock);
}

/* Update every record woken since its last update. */
void unix_ready_flush_slow(struct unix_net *net)
{
	struct unix_ready *r;

	plat_mutex_lock(&net->lock);
	for (;;) {
		plat_mutex_lock(&net->ready_lock);
		r = net->ready_dirty;
		if (r) {
			net->ready_dirty = r->dirty_next;
			r->dirty = 0;
			__atomic_fetch_sub(&net->ready_pending, 1, __ATOMIC_RELAXED);
		}
		plat_mutex_unlock(&net->ready_lock);
		if (!r)
			break;
		__ready_update(r);
	}
	plat_mutex_unlock(&net->lock);
}

/*
 * Arm a new readiness fd on @sk: the host fd starts showing the socket's
 * state at once.  Returns 0 and the record in *@out, or -errno (the
 * platform's, or -ENOMEM).
 */
int unix_ready_arm(struct unix_sock *sk, struct unix_ready **out)
{
	struct unix_net *net = sk->net;
	struct unix_ready *r = plat_zalloc(sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	err = plat_readyfd_open(r->fds);
	if (err) {
		plat_free(r);
		return err;
	}
	unix_sock_hold(sk);
	r->sk = sk;
	r->writable = 1;	/* as plat_readyfd_open leaves it */
	plat_mutex_lock(&net->lock);
	unix_state_lock(sk);
	__wq_add_callback(&sk->wq, &r->self, ready_wake_self);
	unix_state_unlock(sk);
	r->next = sk->ready;
	__atomic_store_n(&sk->ready, r, __ATOMIC_RELAXED);
	__ready_update(r);
	plat_mutex_unlock(&net->lock);
	*out = r;
	return 0;
}

/* The host fd to hand out. */
int unix_ready_fd(const struct unix_ready *r)
{
	return r->fds[0];
}

/* Take the record off its socket, close its host fds and free it. */
void unix_ready_disarm(struct unix_ready *r)
{
	struct unix_sock *sk = r->sk;
	struct unix_ready **pp;

	plat_mutex_lock(&sk->net->lock);
	unix_state_lock(sk);
	__wq_del(&r->self);
	unix_state_unlock(sk);
	__ready_drop_other(r);
	__ready_undirty(r);
	for (pp = &sk->ready; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			__atomic_store_n(pp, r->next, __ATOMIC_RELAXED);
			break;
		}
	}
	plat_mutex_unlock(&sk->net->lock);
	plat_readyfd_close(r->fds);
	unix_sock_put(sk);
	plat_free(r);
}

/* After a call of @sk's own: show what it may have taken away. */
void unix_ready_refresh_slow(struct unix_sock *sk)
{
	struct unix_ready *r;

	plat_mutex_lock(&sk->net->lock);
	for (r = sk->ready; r; r = r->next)
		__ready_update(r);
	plat_mutex_unlock(&sk->net->lock);
}
