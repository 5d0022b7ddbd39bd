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
 * Readable is what select(2) counts as readable (POLLIN, POLLRDNORM,
 * POLLRDBAND, POLLHUP, POLLERR), writable likewise (POLLOUT, POLLWRNORM,
 * POLLWRBAND, POLLERR), with the mask computed for POLLIN | POLLOUT.
 *
 * LOCKING: records, their entries and sk->ready are under net.lock; the
 * callback runs with it held (a waker's), and refresh takes it.  The host
 * fd is updated with net.lock held: it is the wake-up of host sleepers, as
 * a futex wake is of the core's, made where the state changes so that two
 * updates can never land out of order.  It costs one or two non-blocking
 * host syscalls on a transition and nothing otherwise; no Python runs here.
 * A record holds a reference on its socket.  The peer's queues are only
 * used while the socket's peer link (which holds the peer) points at it:
 * every change of that link wakes the socket's wq, and the callback moves
 * the entries before the old peer can go.
 */
#include <stddef.h>

#include "unix_socket.h"

struct unix_ready {
	struct unix_sock *sk;
	struct unix_ready *next;	/* on sk->ready */
	struct wait_queue_entry self;	/* on sk->wq */
	struct wait_queue_entry peer_wq, peer_room; /* on other->wq, other->peer_wait */
	struct unix_sock *other;	/* whose queues peer_wq/peer_room are on, or NULL */
	int fds[2];			/* plat_readyfd_open's */
	int readable, writable;		/* what fds[0] shows */
};

#define READY_IN	(POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)
#define READY_OUT	(POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)

/* The peer whose queues decide the socket's writability, as unix_dgram_poll. */
static struct unix_sock *__ready_other(struct unix_sock *sk)
{
	struct unix_sock *other = sk->peer;

	if (sk->type == SOCK_STREAM || !other || other->peer == sk ||
	    (other->flags & UNIX_F_DEAD))
		return NULL;
	return other;
}

#define READY_OF(e, member) \
	((struct unix_ready *)((char *)(e) - offsetof(struct unix_ready, member)))

/* The callbacks, one per entry of a record (each knows its own offset). */
static void ready_wake_self(struct wait_queue_entry *e, unsigned int events);
static void ready_wake_peer_wq(struct wait_queue_entry *e, unsigned int events);
static void ready_wake_peer_room(struct wait_queue_entry *e, unsigned int events);

static void __ready_update(struct unix_ready *r)
{
	struct unix_sock *sk = r->sk, *other = __ready_other(sk);
	unsigned int mask;
	int rd, wr;

	if (other != r->other) {
		if (r->other) {
			__wq_del(&r->peer_wq);
			__wq_del(&r->peer_room);
		}
		if (other) {
			__wq_add_callback(&other->wq, &r->peer_wq, ready_wake_peer_wq);
			__wq_add_callback(&other->peer_wait, &r->peer_room,
					  ready_wake_peer_room);
		}
		r->other = other;
	}
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

static void ready_wake_self(struct wait_queue_entry *e, unsigned int events)
{
	(void)events;
	__ready_update(READY_OF(e, self));
}

static void ready_wake_peer_wq(struct wait_queue_entry *e, unsigned int events)
{
	(void)events;
	__ready_update(READY_OF(e, peer_wq));
}

static void ready_wake_peer_room(struct wait_queue_entry *e, unsigned int events)
{
	(void)events;
	__ready_update(READY_OF(e, peer_room));
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
	__wq_add_callback(&sk->wq, &r->self, ready_wake_self);
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
	__wq_del(&r->self);
	if (r->other) {
		__wq_del(&r->peer_wq);
		__wq_del(&r->peer_room);
	}
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
