/*
 * net/unix/af_unix.c - the AF_UNIX socket family: the net, socket
 * lifetime, names, listen/accept/connect, shutdown, poll, options and the
 * per-type ops tables.  The data paths are in stream.c and dgram.c,
 * control messages and files in flight in scm.c, the message cursor in
 * msg.c, page handoff in zerocopy.c (af_unix.h lists what they share).
 *
 * Written against Linux's net/unix/af_unix.c semantics: the same checks in
 * the same order, the same errnos, the same truesize accounting (so back-
 * pressure hits at the same byte counts), the same wakeup rules.  Each
 * entry (unix_bind, unix_connect, unix_sendmsg...) is the whole syscall:
 * names, autobind and lookups, control messages (__scm_send, scm_recv),
 * files in flight per user (too_many_unix_fds) included.  The abstract
 * namespace and the table of path-bound sockets are here
 * (unix_find_socket_byname/byinode); the rest of the kernel is asked
 * through the host ops (unix_host.h) where Linux calls into the VFS and
 * the fd table -- unix_find_bsd's walk, unix_bind_bsd's mknod,
 * scm_fp_copy's fget_raw, receive_fd, current_cred() -- with no lock held.
 *
 * Locking: see the contract in unix_socket.h.  In short, as Linux: a
 * socket's state under its state lock (unix_state_lock; two in
 * unix_state_double_lock's order, or a listener before its connector),
 * its receive queue's links under the queue's lock, the names under
 * names_lock, files in flight under gc_lock, a per-socket iolock
 * serialising readers, who copy with no other lock held; a lock per wait
 * queue over its sleepers.  The net lock is off the data path: it keeps
 * the socket list, releases, the collector, listing, poll and readiness
 * records.  Every blocking call sleeps in __unix_net_sleep_locked(), on a
 * socket's queue with that socket's state lock dropped (poll in
 * unix_poll_many(), with the net lock dropped), and no iolock held.
 *
 * Known differences from Linux:
 *   [NOT TO FIX]
 *     - No BPF, LSM or sockmap: SO_PASSSEC passes nothing.  splice is
 *       fs/pipe.c's (pipe_splice_to_socket, pipe_splice_from_socket) over
 *       unix_sendmsg, unix_recvmsg and unix_recv_pages.
 *     - A connect blocked on a full backlog keeps the listener it looked up
 *       instead of looking the name up again after each wake-up: a
 *       listener released meanwhile is ECONNREFUSED, as a new lookup
 *       would find.
 *     - A call blocked when the net is torn down fails with ESHUTDOWN.
 */
#include "../../lib/string.h"
#include "af_unix.h"
#include "../../mm/page.h"
#include "../../fs/pipe.h"

static const struct unix_proto_ops unix_stream_ops;
static const struct unix_proto_ops unix_dgram_ops;
static const struct unix_proto_ops unix_seqpacket_ops;

static void __unix_release_sock(struct unix_sock *sk, int embryo);
static void unix_purge_queue(struct unix_sock *sk);

/* ---------------------------------------------------------------- net --- */

/* gen_cookie_next: numbers unique in this process, from 1, for the cookies
 * of sockets (SO_COOKIE) and nets (SO_NETNS_COOKIE) alike. */
static uint64_t unix_gen_cookie(void)
{
	static uint64_t last;

	return __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

/* sock_gen_cookie: @sk's cookie, made at the first call. */
static uint64_t unix_sock_cookie(struct unix_sock *sk)
{
	uint64_t c = __atomic_load_n(&sk->cookie, __ATOMIC_RELAXED), mine;

	if (c)
		return c;
	mine = unix_gen_cookie();
	if (__atomic_compare_exchange_n(&sk->cookie, &c, mine, 0, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED))
		return mine;
	return c;		/* another caller's won */
}

struct unix_net *unix_net_create(const struct unix_sysctl *sysctl)
{
	struct unix_net *net = plat_zalloc(sizeof(*net));
	int i;

	if (!net)
		return NULL;
	plat_mutex_init(&net->lock);
	plat_mutex_init(&net->names_lock);
	plat_mutex_init(&net->gc_lock);
	plat_mutex_init(&net->idle_lock);
	plat_mutex_init(&net->ready_lock);
	plat_cond_init(&net->idle);
	net->sysctl = *sysctl;
	INIT_LIST_HEAD(&net->socks);
	INIT_LIST_HEAD(&net->pipes);
	wait_spin_init(&net->poll_spin);
	net->next_ino = 1;
	for (i = 0; i < UNIX_HASH_SIZE; i++) {
		INIT_LIST_HEAD(&net->abstract_names[i]);
		INIT_LIST_HEAD(&net->bsd_names[i]);
		INIT_LIST_HEAD(&net->users[i]);
	}
	/* autobind's starting point, as Linux's get_random_u32() there */
	net->autobind_seed = (uint32_t)plat_now_ns() ^ (uint32_t)(uintptr_t)net;
	net->cookie = unix_gen_cookie();
	return net;
}

void unix_net_set_host(struct unix_net *net, const struct unix_host_ops *ops)
{
	net->host = ops;
}

/*
 * Kernel teardown: every sleeper (now or later) fails with -ESHUTDOWN; return
 * once all current sleepers have left.
 */
void unix_net_shutdown(struct unix_net *net)
{
	struct list_head *pos, *n;
	struct unix_sock **held = NULL;
	size_t i, count = 0, room = 0;

	plat_mutex_lock(&net->lock);
	__atomic_store_n(&net->dead, 1, __ATOMIC_SEQ_CST);
	/* A sleeper checks dead and queues under its queue owner's lock: a
	 * kick under that lock finds it queued, or it saw dead. */
	list_for_each_safe(pos, n, &net->socks) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, link);

		unix_state_lock(sk);
		__kick_all(&sk->wq);
		__kick_all(&sk->peer_wait);
		unix_state_unlock(sk);
		count++;
	}
	__pipe_kick_all(net);
	plat_mutex_unlock(&net->lock);
	plat_mutex_lock(&net->idle_lock);
	while (__atomic_load_n(&net->sleepers, __ATOMIC_SEQ_CST))
		plat_cond_wait_until(&net->idle, &net->idle_lock, PLAT_FOREVER);
	plat_mutex_unlock(&net->idle_lock);
	/*
	 * Nobody can read any more: drop every queued message, so files in
	 * flight (cycles included) go back to the embedder to release.  Each
	 * queue under its reader's iolock (a reader may still be copying out
	 * of its head), taken with no net.lock held: the sockets are held in
	 * an array meanwhile.
	 */
	for (;;) {
		held = plat_alloc(sizeof(*held) * (count ? count : 1));
		plat_mutex_lock(&net->lock);
		room = held ? count : 0;
		count = 0;
		list_for_each_safe(pos, n, &net->socks)
			count++;
		if (held && count <= room)
			break;
		plat_mutex_unlock(&net->lock);
		plat_free(held);
		if (!held)
			return;		/* no memory: the queues go with their sockets */
	}
	count = 0;
	list_for_each_safe(pos, n, &net->socks) {
		held[count] = list_entry(pos, struct unix_sock, link);
		sock_hold(held[count++]);
	}
	plat_mutex_unlock(&net->lock);
	for (i = 0; i < count; i++) {
		plat_mutex_lock(&held[i]->iolock);
		unix_purge_queue(held[i]);
		plat_mutex_unlock(&held[i]->iolock);
		sock_put(held[i]);
	}
	plat_free(held);
	unix_ready_flush(net);
}

void unix_net_free(struct unix_net *net)
{
	page_pool_drain(&net->pool);
	plat_cond_destroy(&net->idle);
	plat_mutex_destroy(&net->ready_lock);
	plat_mutex_destroy(&net->idle_lock);
	plat_mutex_destroy(&net->gc_lock);
	plat_mutex_destroy(&net->names_lock);
	plat_mutex_destroy(&net->lock);
	plat_free(net);
}

/*
 * The embedder lets go of the net.  Sockets still referenced (by embedder
 * objects not yet destroyed) keep it alive: the last unix_sock_put() frees it.
 */
void unix_net_destroy(struct unix_net *net)
{
	int free_now;

	plat_mutex_lock(&net->lock);
	net->orphaned = 1;
	free_now = __unix_net_unused(net);
	plat_mutex_unlock(&net->lock);
	if (free_now)
		unix_net_free(net);
}

struct scm_fp_list *unix_net_take_released(struct unix_net *net)
{
	struct scm_fp_list *l;

	plat_mutex_lock(&net->gc_lock);
	l = net->released;
	net->released = NULL;
	plat_mutex_unlock(&net->gc_lock);
	return l;
}

void unix_net_counters(struct unix_net *net, struct unix_counters *out)
{
#define CNT(field)	__atomic_load_n(&net->cnt.field, __ATOMIC_RELAXED)
	/* Each counter is a relaxed atomic (unix_cnt_add): a moment's view. */
	out->socks = CNT(socks);	/* structures */
	out->live = CNT(live);		/* not yet released */
	out->skbs = CNT(skbs);
	out->bytes_queued = CNT(bytes_queued);
	out->inflight = CNT(inflight);
	out->bytes_copied = CNT(bytes_copied);
	out->bytes_zerocopy = CNT(bytes_zerocopy);
	out->pages = CNT(pages);
	out->gc_runs = CNT(gc_runs);
#undef CNT
	/* a waker drops blocked under its queue's lock (sched/wait.h) */
	out->blocked = __atomic_load_n(&net->wstats.blocked, __ATOMIC_RELAXED);
	out->kicks = __atomic_load_n(&net->wstats.kicks, __ATOMIC_RELAXED);
	out->wait_timeouts = __atomic_load_n(&net->wstats.timeouts, __ATOMIC_RELAXED);
	out->spin_wakes = __atomic_load_n(&net->wstats.spin_wakes, __ATOMIC_RELAXED);
}

/* -------------------------------------------------------------- sleep --- */

/* A sleeper enters / leaves the net: unix_net_shutdown() waits for none. */
static void unix_net_enter(struct unix_net *net)
{
	__atomic_fetch_add(&net->sleepers, 1, __ATOMIC_SEQ_CST);
}

static void unix_net_leave(struct unix_net *net)
{
	if (__atomic_sub_fetch(&net->sleepers, 1, __ATOMIC_SEQ_CST) == 0 &&
	    __atomic_load_n(&net->dead, __ATOMIC_SEQ_CST)) {
		plat_mutex_lock(&net->idle_lock);
		plat_cond_broadcast(&net->idle);
		plat_mutex_unlock(&net->idle_lock);
	}
}

static int unix_net_dead(struct unix_net *net)
{
	return __atomic_load_n(&net->dead, __ATOMIC_SEQ_CST);
}

/*
 * Sleep on @wq until woken: the one sleep of every blocking call of the net,
 * sockets' and pipes' (the pattern is sched/wait.h's).  Caller holds @lock,
 * the lock of @wq's owner (a socket's state lock; net.lock for a pipe's
 * queues), has checked its condition under it, and re-checks it
 * afterwards.  Returns 0, -EAGAIN at the deadline, -ERESTARTSYS/-EINTR when
 * a signal interrupts the sleep, or -ESHUTDOWN once the net is torn down.
 * net->sleepers counts it so that unix_net_shutdown() can wait for it to
 * leave; shutdown sets dead before it kicks each queue under its owner's
 * lock, so a sleeper that read dead clear is queued before the kick.
 * @busy_poll_ns: the fixed spin (SO_BUSY_POLL).
 */
int __unix_net_sleep_locked(struct unix_net *net, plat_mutex_t *lock,
			    struct wait_queue_head *wq, struct wait_ctl *ctl,
			    int64_t busy_poll_ns, int exclusive)
{
	struct wait_spin_cfg spin = { busy_poll_ns, READ_ONCE(net->spin_max_ns) };
	int err;

	if (unix_net_dead(net))
		return -ESHUTDOWN;
	unix_net_enter(net);
	err = __wait_sleep(wq, lock, ctl, &net->wstats, &spin, exclusive);
	unix_net_leave(net);
	if (unix_net_dead(net))
		return -ESHUTDOWN;
	return err;
}

int __unix_net_sleep(struct unix_net *net, struct wait_queue_head *wq,
		     struct wait_ctl *ctl, int64_t busy_poll_ns, int exclusive)
{
	return __unix_net_sleep_locked(net, &net->lock, wq, ctl, busy_poll_ns, exclusive);
}

/* ----------------------------------------------------------- refcounts --- */

void unix_addr_put(struct unix_address *addr)
{
	if (addr && __atomic_sub_fetch(&addr->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		plat_free(addr);
}

static void unix_addr_get(struct unix_address *addr)
{
	__atomic_fetch_add(&addr->refcnt, 1, __ATOMIC_RELAXED);
}

void __unix_destroy(struct unix_sock *sk)
{
	struct unix_net *net = sk->net;

	list_del_init(&sk->link);
	plat_mutex_lock(&net->names_lock);
	list_del_init(&sk->bind_link);	/* a collected socket was never released */
	plat_mutex_unlock(&net->names_lock);
	/* An embryo's sender may still be checking, under gc_lock, whether
	 * its listener -- this socket -- is in flight (__unix_gc_queued). */
	plat_mutex_lock(&net->gc_lock);
	plat_mutex_unlock(&net->gc_lock);
	unix_addr_put(sk->addr);
	unix_groups_put(sk->peer_groups);
	unix_cnt_add(net, socks, -1);
	if (!(sk->flags & UNIX_F_DEAD))
		unix_cnt_add(net, live, -1);	/* an embryo purged at net shutdown, never released */
	plat_mutex_destroy(&sk->iolock);
	plat_mutex_destroy(&sk->lock);
	skb_queue_head_destroy(&sk->receive_queue);
	wq_destroy(&sk->wq);
	wq_destroy(&sk->peer_wait);
	plat_free(sk);
}

/* Collector hooks (garbage.c): purge a dead cycle member's queue, free a socket. */
void __unix_gc_purge(struct unix_sock *sk)
{
	struct sk_buff_head *q = &sk->receive_queue;
	struct sk_buff *skb;

	/*
	 * A listener's own queue holds only connection requests, no files;
	 * freeing them here would drop the embryos without releasing them
	 * (leaking each embryo's connector through its peer link).  They go
	 * with the listener's release, which the purge leads to; but the
	 * embryos hold files too.  Nothing unlinks a request meanwhile: only
	 * accept and the listener's release do, and a listener in a dead
	 * cycle has no file to call them on.
	 */
	if (READ_ONCE(sk->state) == UNIX_LISTEN) {
		plat_mutex_lock(&q->lock);
		for (skb = skb_peek(q); skb; skb = skb_peek_next(skb, q)) {
			if (skb->sk == sk)
				continue;
			plat_mutex_unlock(&q->lock);
			__unix_purge_queue(skb->sk);
			plat_mutex_lock(&q->lock);
		}
		plat_mutex_unlock(&q->lock);
		return;
	}
	__unix_purge_queue(sk);
}

void __unix_gc_free(struct unix_sock *sk)
{
	__unix_destroy(sk);
}

void unix_sock_hold(struct unix_sock *sk)
{
	sock_hold(sk);
}

void unix_sock_put(struct unix_sock *sk)
{
	struct unix_net *net = sk->net;
	int free_net;

	if (refcount_dec_not_one(&sk->refcnt))
		return;		/* not the last: nothing to free */
	plat_mutex_lock(&net->lock);
	__sock_put(sk);
	free_net = __unix_net_unused(net);
	plat_mutex_unlock(&net->lock);
	if (free_net)
		unix_net_free(net);
}

/* ---------------------------------------------------------------- skbs --- */

struct sk_buff *__unix_skb_new(struct unix_sock *owner, size_t len, unsigned int truesize)
{
	struct sk_buff *skb = skb_alloc(len, truesize);

	if (!skb)
		return NULL;
	skb->sk = owner;
	sock_hold(owner);
	__atomic_fetch_add(&owner->wmem_alloc, (int64_t)truesize, __ATOMIC_RELAXED);
	unix_cnt_add(owner->net, skbs, 1);
	return skb;
}

/*
 * Linux compares the refcount behind sk_wmem_alloc, which holds one more
 * than the truesize charged (the socket's own reference): a sender whose
 * skbs fill exactly a quarter of its buffer is no longer writable.
 */
int unix_writable(const struct unix_sock *sk, int state)
{
	return state != UNIX_LISTEN && ((unix_wmem(sk) + 1) << 2) <= sk->sndbuf;
}

/*
 * Free an skb: its files go to the release list (still in flight until the
 * embedder drops them), its truesize is returned to the sender, who may now
 * write again: unix_write_space, whose wake-up is under the sender's state
 * lock, taken only when a waiter for room may be asleep or polling
 * (sk->nospace, __unix_set_nospace).  The caller holds no state or queue
 * lock; __kfree_skb holds net.lock (the sender's last reference may go
 * with it), kfree_skb does not.
 */
static void unix_skb_release(struct sk_buff *skb)
{
	struct unix_sock *owner = skb->sk;
	struct unix_net *net = owner->net;

	if (skb->cb.fp) {
		__unix_notinflight(net, skb->cb.fp);
		__scm_fp_release(net, skb->cb.fp);
		skb->cb.fp = NULL;
	}
	if (skb->pages)
		page_run_put(skb->pages);
	/* both seq_cst: the other half of __unix_set_nospace's handshake */
	__atomic_fetch_sub(&owner->wmem_alloc, (int64_t)skb->truesize, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&owner->nospace, __ATOMIC_SEQ_CST)) {
		unix_state_lock(owner);
		if (unix_writable(owner, owner->state)) {	/* unix_write_space */
			WRITE_ONCE(owner->nospace, 0);
			__wake_up_poll(&owner->wq, POLLOUT | POLLWRNORM | POLLWRBAND);
		}
		unix_state_unlock(owner);
	}
	unix_cnt_add(net, skbs, -1);
}

void __kfree_skb(struct sk_buff *skb)
{
	struct unix_sock *owner = skb->sk;

	unix_skb_release(skb);
	__sock_put(owner);
	skb_free_mem(skb);
}

void kfree_skb(struct sk_buff *skb)
{
	struct unix_sock *owner = skb->sk;

	unix_skb_release(skb);
	sock_put(owner);
	skb_free_mem(skb);
}

/* Free the skbs skb_defer_free() put on @list (no lock held). */
void kfree_skb_list(struct sk_buff *list)
{
	while (list) {
		struct sk_buff *next = list->next;

		kfree_skb(list);
		list = next;
	}
}

/* Queue @skb on @other's receive queue -- as its out-of-band mark too when
 * @oob; caller holds @other's state lock. */
void __unix_queue_skb(struct unix_sock *other, struct sk_buff *skb, int oob)
{
	/* Once queued, the skb is the reader's: everything read first. */
	if (skb->cb.fp)
		__unix_gc_queued(other, skb->cb.fp);
	unix_cnt_add(other->net, bytes_queued, skb->len);
	if (other->state != UNIX_LISTEN) {	/* a message, not a connection request */
		unix_sk_stat_add(skb->sk, msgs_sent, 1);
		unix_sk_stat_add(other, msgs_received, 1);
	}
	plat_mutex_lock(&other->receive_queue.lock);
	__skb_queue_tail(&other->receive_queue, skb);
	if (oob)
		__unix_set_oob_skb(other, skb);	/* a mark not yet read becomes ordinary data */
	plat_mutex_unlock(&other->receive_queue.lock);
}

/* Unlink @skb from @sk's receive queue, holding the queue's lock. */
void __unix_unlink_skb_locked(struct unix_sock *sk, struct sk_buff *skb)
{
	unix_cnt_add(sk->net, bytes_queued, -(int64_t)(skb->len));
	__skb_unlink(skb, &sk->receive_queue);
	if (READ_ONCE(skb->sk->listener) == sk)
		WRITE_ONCE(skb->sk->listener, NULL);	/* an embryo leaves its listener */
}

void __unix_unlink_skb(struct unix_sock *sk, struct sk_buff *skb)
{
	plat_mutex_lock(&sk->receive_queue.lock);
	__unix_unlink_skb_locked(sk, skb);
	plat_mutex_unlock(&sk->receive_queue.lock);
}

/* Take @sk's head skb off its queue, or NULL. */
static struct sk_buff *unix_dequeue(struct unix_sock *sk)
{
	struct sk_buff *skb;

	plat_mutex_lock(&sk->receive_queue.lock);
	skb = skb_peek(&sk->receive_queue);
	if (skb)
		__unix_unlink_skb_locked(sk, skb);
	plat_mutex_unlock(&sk->receive_queue.lock);
	return skb;
}

/* Drop every skb queued on @sk (its out-of-band mark with them); the
 * caller holds net.lock (__) or no lock, and no reader can be copying. */
void __unix_purge_queue(struct unix_sock *sk)
{
	struct sk_buff *skb;

	unix_set_oob_skb(sk, NULL);	/* it is on the queue going away */
	while ((skb = unix_dequeue(sk)) != NULL)
		__kfree_skb(skb);
}

static void unix_purge_queue(struct unix_sock *sk)
{
	struct sk_buff *skb;

	unix_set_oob_skb(sk, NULL);
	while ((skb = unix_dequeue(sk)) != NULL)
		kfree_skb(skb);
}

/* ------------------------------------------------------------- create --- */

static struct unix_sock *__unix_create1(struct unix_net *net, int type)
{
	struct unix_sock *sk = plat_zalloc(sizeof(*sk));

	if (!sk)
		return NULL;
	sk->net = net;
	sk->type = type;
	sk->ops = type == SOCK_STREAM ? &unix_stream_ops :
		  type == SOCK_SEQPACKET ? &unix_seqpacket_ops : &unix_dgram_ops;
	sk->state = UNIX_CLOSE;
	refcount_set(&sk->refcnt, 1);	/* the file's reference, dropped by unix_release() */
	skb_queue_head_init(&sk->receive_queue);
	wq_init(&sk->wq);
	wq_init(&sk->peer_wait);
	plat_mutex_init(&sk->iolock);
	plat_mutex_init(&sk->lock);
	sk->sndbuf = net->sysctl.wmem_default;
	sk->rcvbuf = net->sysctl.rmem_default;
	sk->rcvtimeo = -1;
	sk->sndtimeo = -1;
	sk->rcvlowat = 1;
	sk->peek_off = -1;
	sk->incoming_cpu = -1;
	sk->max_pacing_rate = UINT64_MAX;
	sk->max_ack_backlog = net->sysctl.max_dgram_qlen;
	sk->peercred.pid = 0;
	sk->peercred.uid = -1;
	sk->peercred.gid = -1;
	sk->busy_poll_ns = net->busy_poll_ns;
	INIT_LIST_HEAD(&sk->gc_link);
	INIT_LIST_HEAD(&sk->bind_link);
	list_add_tail(&sk->link, &net->socks);
	unix_cnt_add(net, socks, 1);
	unix_cnt_add(net, live, 1);
	return sk;
}

int unix_create(struct unix_net *net, int type, int protocol, struct unix_sock **out)
{
	struct unix_sock *sk;
	int flags = type & ~SOCK_TYPE_MASK;

	type &= SOCK_TYPE_MASK;
	if (type < 0 || type >= SOCK_MAX)
		return -EINVAL;
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	if (protocol && protocol != PF_UNIX)
		return -EPROTONOSUPPORT;
	switch (type) {
	case SOCK_STREAM:
	case SOCK_SEQPACKET:
	case SOCK_DGRAM:
		break;
	case SOCK_RAW:		/* as Linux: SOCK_RAW is SOCK_DGRAM */
		type = SOCK_DGRAM;
		break;
	default:
		return -ESOCKTNOSUPPORT;
	}
	plat_mutex_lock(&net->lock);
	sk = __unix_create1(net, type);
	if (sk)
		sk->ino = net->next_ino++;	/* sock_alloc: the socket's inode */
	plat_mutex_unlock(&net->lock);
	if (!sk)
		return -ENOMEM;
	*out = sk;
	return 0;
}

void unix_graft(struct unix_sock *sk)
{
	plat_mutex_lock(&sk->net->lock);
	unix_state_lock(sk);
	if (!sk->ino)
		WRITE_ONCE(sk->ino, sk->net->next_ino++);
	unix_state_unlock(sk);
	plat_mutex_unlock(&sk->net->lock);
}

void unix_set_uid(struct unix_sock *sk, int32_t uid)
{
	unix_state_lock(sk);
	sk->uid = uid;
	unix_state_unlock(sk);
}

/* ------------------------------------------------------------ release --- */

/*
 * The last file reference is gone (close of the last fd, exit, or the
 * collector).  Wakes the peer with SHUTDOWN_MASK (and ECONNRESET if we had
 * unread data or were never accepted), drops queued data and embryos.
 *
 * Returns 1 when Linux would now run the in-flight collector (sockets are
 * in flight and may form a cycle): the caller drains the release list,
 * then calls unix_gc_scheduled().  Returns 0 otherwise.
 */
int unix_release(struct unix_sock *sk)
{
	struct unix_net *net = sk->net;
	int gc;

	plat_mutex_lock(&net->lock);
	__unix_release_sock(sk, 0);
	gc = __unix_gc_due(net);
	plat_mutex_unlock(&net->lock);
	unix_ready_flush(net);
	return gc;
}

static void __unix_release_sock(struct unix_sock *sk, int embryo)
{
	struct unix_sock *skpair;
	struct sk_buff *skb;
	int state;

	if (!(sk->flags & UNIX_F_DEAD))
		unix_cnt_add(sk->net, live, -1);
	plat_mutex_lock(&sk->net->names_lock);
	list_del_init(&sk->bind_link);	/* unix_remove_socket: the name is free */
	plat_mutex_unlock(&sk->net->names_lock);
	unix_state_lock(sk);
	unix_flags_set(sk, UNIX_F_DEAD);
	WRITE_ONCE(sk->shutdown, SHUTDOWN_MASK);
	state = sk->state;
	WRITE_ONCE(sk->state, UNIX_CLOSE);
	skpair = sk->peer;
	WRITE_ONCE(sk->peer, NULL);
	__wake_up_all(&sk->peer_wait);
	__wake_up_all(&sk->wq);
	unix_state_unlock(sk);
	unix_set_oob_skb(sk, NULL);

	if (skpair) {
		if (sk->type == SOCK_STREAM || sk->type == SOCK_SEQPACKET) {
			/* Unread data resets the peer; an empty skb at the head (a
			 * consumed OOB byte, a zero-length record) is not data, as in
			 * Linux since "Don't set -ECONNRESET for consumed OOB skb". */
			struct sk_buff *head;

			plat_mutex_lock(&sk->receive_queue.lock);
			head = skb_peek(&sk->receive_queue);
			if (head && head->len == head->cb.consumed)
				head = skb_peek_next(head, &sk->receive_queue);
			plat_mutex_unlock(&sk->receive_queue.lock);
			unix_state_lock(skpair);
			WRITE_ONCE(skpair->shutdown, SHUTDOWN_MASK);
			if (head || embryo)
				WRITE_ONCE(skpair->err, ECONNRESET);
			__wake_up_all(&skpair->wq);
			unix_state_unlock(skpair);
		}
		__unix_dgram_peer_wake_disconnect(sk, skpair);
		__sock_put(skpair);
	}

	while ((skb = unix_dequeue(sk)) != NULL) {
		if (state == UNIX_LISTEN && skb->sk != sk) {
			/* An embryo has no file reference for the release to
			 * drop (the skb's is its own): give it one. */
			sock_hold(skb->sk);
			__unix_release_sock(skb->sk, 1);
		}
		__kfree_skb(skb);
	}

	/* Drop the file's reference; the socket lives on while skbs or peers hold it. */
	__sock_put(sk);
}

/* ---------------------------------------------------------- bind/name --- */

static unsigned int unix_abstract_hash(const unsigned char *name, unsigned int len, int type)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	unsigned int i;

	for (i = 0; i < len; i++)
		h = (h ^ name[i]) * 16777619u;
	return (h ^ (uint32_t)type) % UNIX_HASH_SIZE;
}

static unsigned int unix_bsd_hash(uint32_t dev, uint64_t ino)
{
	return (unsigned int)((ino ^ (ino >> 32) ^ dev) % UNIX_HASH_SIZE);
}

/* unix_find_socket_byname: the socket bound to the abstract @name of @type. */
static struct unix_sock *__unix_find_abstract(struct unix_net *net, const unsigned char *name,
					      unsigned int len, int type)
{
	struct list_head *head = &net->abstract_names[unix_abstract_hash(name, len, type)];
	struct list_head *pos;

	list_for_each(pos, head) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, bind_link);

		if (sk->type == type && sk->addr->len == len && !memcmp(sk->addr->path, name, len))
			return sk;
	}
	return NULL;
}

/* unix_find_socket_byinode: the socket bound to the inode (@dev, @ino). */
static struct unix_sock *__unix_find_bsd(struct unix_net *net, uint32_t dev, uint64_t ino)
{
	struct list_head *pos;

	list_for_each(pos, &net->bsd_names[unix_bsd_hash(dev, ino)]) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, bind_link);

		if (sk->addr->vfs_dev == dev && sk->addr->vfs_ino == ino)
			return sk;
	}
	return NULL;
}

static struct unix_address *unix_create_addr(const void *path, unsigned int len)
{
	struct unix_address *addr = plat_zalloc(sizeof(*addr));

	if (!addr)
		return NULL;
	addr->refcnt = 1;
	addr->len = len;
	memcpy(addr->path, path, len);
	return addr;
}

/*
 * Bind @sk to the abstract @addr; caller holds @sk's state lock and the
 * names lock, and saw @sk unnamed.
 */
static void __unix_bind_abstract_name(struct unix_sock *sk, struct unix_address *addr)
{
	__atomic_store_n(&sk->addr, addr, __ATOMIC_RELEASE);
	list_add_tail(&sk->bind_link, &sk->net->abstract_names[
		unix_abstract_hash(addr->path, addr->len, sk->type)]);
}

/*
 * unix_autobind: a free abstract name of five hex digits, tried from a
 * random start on; -ENOSPC when every one is taken.  Nothing to do when
 * already bound.  Takes @sk's state lock and the names lock.
 */
int __unix_autobind(struct unix_sock *sk)
{
	struct unix_net *net = sk->net;
	struct unix_address *addr;
	uint32_t ordernum, lastnum;
	static const char hex[] = "0123456789abcdef";
	int i, err = 0;

	if (unix_addr(sk))
		return 0;
	addr = unix_create_addr("\0", 1);	/* NUL + 5 hex digits */
	if (!addr)
		return -ENOMEM;
	addr->len = 1 + UNIX_AUTOBIND_DIGITS;
	unix_state_lock(sk);
	plat_mutex_lock(&net->names_lock);
	if (sk->addr) {
		err = 1;	/* bound meanwhile: nothing to do */
		goto out;
	}
	/* xorshift: each autobind starts somewhere new */
	net->autobind_seed ^= net->autobind_seed << 13;
	net->autobind_seed ^= net->autobind_seed >> 17;
	net->autobind_seed ^= net->autobind_seed << 5;
	ordernum = net->autobind_seed & UNIX_AUTOBIND_MASK;
	lastnum = ordernum;
	for (;;) {
		ordernum = (ordernum + 1) & UNIX_AUTOBIND_MASK;
		for (i = 0; i < UNIX_AUTOBIND_DIGITS; i++)
			addr->path[UNIX_AUTOBIND_DIGITS - i] = (unsigned char)hex[(ordernum >> (4 * i)) & 0xf];
		if (!__unix_find_abstract(net, addr->path, addr->len, sk->type))
			break;
		if (ordernum == lastnum) {
			err = -ENOSPC;
			break;
		}
	}
	if (!err)
		__unix_bind_abstract_name(sk, addr);
out:
	plat_mutex_unlock(&net->names_lock);
	unix_state_unlock(sk);
	if (err)
		plat_free(addr);
	return err > 0 ? 0 : err;
}

/* An unnamed socket with SO_PASSCRED or SO_PASSPIDFD autobinds before it
 * connects or sends. */
static int unix_passcred_autobind(struct unix_sock *sk)
{
	if ((READ_ONCE(sk->flags) & UNIX_F_MAY_PASSCRED) && !unix_addr(sk))
		return __unix_autobind(sk);
	return 0;
}

/* unix_bind_abstract: EINVAL when bound, EADDRINUSE when the name is taken. */
static int unix_bind_abstract(struct unix_sock *sk, const void *path, unsigned int len)
{
	struct unix_address *addr = unix_create_addr(path, len);
	int err = 0;

	if (!addr)
		return -ENOMEM;
	unix_state_lock(sk);
	plat_mutex_lock(&sk->net->names_lock);
	if (sk->addr)
		err = -EINVAL;
	else if (__unix_find_abstract(sk->net, addr->path, len, sk->type))
		err = -EADDRINUSE;
	else
		__unix_bind_abstract_name(sk, addr);
	plat_mutex_unlock(&sk->net->names_lock);
	unix_state_unlock(sk);
	if (err)
		plat_free(addr);
	return err;
}

/*
 * unix_bind_bsd: the socket inode is made first (the VFS's errnos:
 * EADDRINUSE, ENOENT, EACCES...); a socket found bound meanwhile gets
 * EINVAL and the inode is removed again.  The name is stored up to its
 * first NUL and with it, as unix_mkname_bsd: a 108-byte path takes 109.
 */
static int unix_bind_bsd(void *task, struct unix_sock *sk, const unsigned char *path,
			 unsigned int len)
{
	const struct unix_host_ops *host = sk->net->host;
	struct unix_address *addr;
	unsigned int plen = 0;
	uint32_t dev;
	uint64_t ino;
	int err;

	while (plen < len && path[plen])
		plen++;
	addr = unix_create_addr(path, plen);	/* zeroed: the NUL follows */
	if (!addr)
		return -ENOMEM;
	addr->len = plen + 1;
	if (!host) {
		err = -EOPNOTSUPP;		/* an embedder without a VFS */
		goto out;
	}
	err = host->mknod_bsd(task, (const char *)addr->path, &dev, &ino);
	if (err)
		goto out;
	addr->has_vfs = 1;
	addr->vfs_dev = dev;
	addr->vfs_ino = ino;
	unix_state_lock(sk);
	if (sk->addr) {
		unix_state_unlock(sk);
		host->unlink_bsd(task, (const char *)addr->path);
		err = -EINVAL;
		goto out;
	}
	plat_mutex_lock(&sk->net->names_lock);
	__atomic_store_n(&sk->addr, addr, __ATOMIC_RELEASE);
	list_add_tail(&sk->bind_link, &sk->net->bsd_names[unix_bsd_hash(dev, ino)]);
	plat_mutex_unlock(&sk->net->names_lock);
	unix_state_unlock(sk);
	return 0;
out:
	plat_free(addr);
	return err;
}

/* bind(2): an empty address autobinds, a leading NUL is abstract, else a path. */
int unix_bind(void *task, struct unix_sock *sk, const void *path, unsigned int len)
{
	int err;

	if (len == 0) {
		err = __unix_autobind(sk);
		return err;
	}
	if (len > UNIX_PATH_MAX)
		return -EINVAL;		/* unix_validate_addr */
	if (((const unsigned char *)path)[0])
		return unix_bind_bsd(task, sk, path, len);
	return unix_bind_abstract(sk, path, len);
}

/*
 * unix_find_other: the socket a name reaches, with a reference.  An
 * abstract name: ECONNREFUSED when nothing of @type is bound to it.  A
 * path: the VFS's errnos (host->find_bsd, called unlocked), ECONNREFUSED
 * when nothing is bound to the inode, EPROTOTYPE for another type.
 */
int unix_find_other(void *task, struct unix_net *net, const unsigned char *name,
		    unsigned int len, int type, struct unix_sock **out)
{
	struct unix_sock *other;
	char path[UNIX_PATH_MAX + 1];
	unsigned int plen = 0;
	uint32_t dev;
	uint64_t ino;
	int err;

	if (!name[0]) {
		plat_mutex_lock(&net->names_lock);
		other = __unix_find_abstract(net, name, len, type);
		if (other && !refcount_inc_not_zero(&other->refcnt))
			other = NULL;	/* being freed */
		plat_mutex_unlock(&net->names_lock);
		if (!other)
			return -ECONNREFUSED;
		*out = other;
		return 0;
	}
	if (!net->host)
		return -ECONNREFUSED;
	while (plen < len && name[plen])
		plen++;
	memcpy(path, name, plen);
	path[plen] = '\0';
	err = net->host->find_bsd(task, path, &dev, &ino);
	if (err)
		return err;
	plat_mutex_lock(&net->names_lock);
	other = __unix_find_bsd(net, dev, ino);
	if (other && !refcount_inc_not_zero(&other->refcnt))
		other = NULL;	/* being freed */
	if (!other)
		err = -ECONNREFUSED;
	else if (other->type != type)
		err = -EPROTOTYPE;
	plat_mutex_unlock(&net->names_lock);
	if (err == -EPROTOTYPE)
		sock_put(other);
	if (err)
		return err;
	*out = other;
	return 0;
}

static void __unix_copy_name(const struct unix_address *addr, unsigned char *path,
			     unsigned int *len)
{
	if (!addr) {
		*len = 0;
		return;
	}
	memcpy(path, addr->path, addr->len);
	*len = addr->len;
}

int unix_getname(struct unix_sock *sk, int peer, unsigned char *path, unsigned int *len)
{
	struct unix_sock *s = sk;
	int err = 0;

	unix_state_lock(sk);
	if (peer) {
		s = sk->peer;	/* held by the link, which our lock keeps */
		if (!s) {
			err = -ENOTCONN;
			goto out;
		}
	}
	__unix_copy_name(unix_addr(s), path, len);
out:
	unix_state_unlock(sk);
	return err;
}

/* ------------------------------------------------------ listen/accept --- */

static int unix_no_listen(struct unix_sock *sk, int backlog, const struct unix_peercred *cred)
{
	(void)sk; (void)backlog; (void)cred;
	return -EOPNOTSUPP;
}

static int unix_no_accept(struct unix_sock *sk, struct unix_sock **newsk, int flags,
			  struct wait_ctl *ctl)
{
	(void)sk; (void)newsk; (void)flags; (void)ctl;
	return -EOPNOTSUPP;
}

static int unix_stream_listen(struct unix_sock *sk, int backlog, const struct unix_peercred *cred)
{
	int err = -EINVAL;

	unix_state_lock(sk);
	if (!sk->addr)
		goto out;	/* no listens on an unbound socket */
	if (sk->state != UNIX_CLOSE && sk->state != UNIX_LISTEN)
		goto out;
	if ((unsigned int)backlog > (unsigned int)sk->net->sysctl.somaxconn)
		backlog = sk->net->sysctl.somaxconn;
	if (backlog > sk->max_ack_backlog)
		__wake_up_all(&sk->peer_wait);
	WRITE_ONCE(sk->max_ack_backlog, backlog);
	WRITE_ONCE(sk->state, UNIX_LISTEN);
	unix_set_peercred(sk, cred->id, cred->groups);	/* so connect can copy them */
	err = 0;
out:
	unix_state_unlock(sk);
	return err;
}

/*
 * prepare_peercred: the caller's credentials as SO_PEERCRED and
 * SO_PEERGROUPS report them (its tgid, euid, egid and groups), read with
 * no lock held.  The groups are a reference: unix_put_peercred.
 */
static int unix_prepare_peercred(void *task, struct unix_net *net, struct unix_peercred *out)
{
	const struct unix_host_ops *host = net->host;
	struct unix_task_cred me;
	int err = unix_current_cred(task, net, &me);

	out->groups = NULL;
	if (err)
		return err;
	out->id.pid = me.pid;
	out->id.uid = me.euid;
	out->id.gid = me.egid;
	if (host && host->groups)
		out->groups = host->groups(task);
	return 0;
}

static void unix_put_peercred(struct unix_peercred *pc)
{
	unix_groups_put(pc->groups);
	pc->groups = NULL;
}

int unix_listen(void *task, struct unix_sock *sk, int backlog)
{
	struct unix_peercred cred;
	int err = unix_prepare_peercred(task, sk->net, &cred);

	if (!err)
		err = sk->ops->listen(sk, backlog, &cred);
	unix_put_peercred(&cred);
	unix_ready_flush(sk->net);
	return err;
}

/* More connection requests (or datagrams) queued than the backlog allows;
 * exact under @sk's state lock, a hint without. */
int unix_recvq_full(const struct unix_sock *sk)
{
	return (int)skb_queue_len_lockless(&sk->receive_queue) > READ_ONCE(sk->max_ack_backlog);
}

static int unix_stream_accept(struct unix_sock *sk, struct unix_sock **newsk, int flags,
			      struct wait_ctl *ctl)
{
	struct sk_buff *skb;
	int err;

	unix_state_lock(sk);
	if (sk->state != UNIX_LISTEN) {
		err = -EINVAL;
		goto out;
	}
	wait_ctl_begin(ctl, (flags & MSG_DONTWAIT) ? 0 : sk->rcvtimeo);
	for (;;) {
		if (sk->err) {
			err = -sk->err;
			WRITE_ONCE(sk->err, 0);
			goto out;
		}
		skb = unix_dequeue(sk);
		if (skb)
			break;
		if (sk->shutdown & RCV_SHUTDOWN) {
			err = -EINVAL;
			goto out;
		}
		err = __unix_sleep(sk, &sk->wq, ctl, 1);
		if (err)
			goto out;
		if (sk->state != UNIX_LISTEN) {
			err = -EINVAL;
			goto out;
		}
	}
	*newsk = skb->sk;
	sock_hold(skb->sk);		/* the new file's reference */
	__wake_up(&sk->peer_wait, 1);
	unix_state_unlock(sk);
	kfree_skb(skb);
	return 0;
out:
	unix_state_unlock(sk);
	return err;
}

int unix_accept(struct unix_sock *sk, struct unix_sock **newsk, int flags,
		struct wait_ctl *ctl)
{
	int err = sk->ops->accept(sk, newsk, flags, ctl);

	unix_ready_flush(sk->net);
	return err;
}

/* ------------------------------------------------------------ connect --- */

/* Drop an embryo that never reached a listener, with its request skb. */
static void unix_drop_embryo(struct unix_sock *newsk, struct sk_buff *skb)
{
	struct unix_net *net = newsk->net;

	if (skb)
		kfree_skb(skb);
	plat_mutex_lock(&net->lock);
	__unix_release_sock(newsk, 0);
	plat_mutex_unlock(&net->lock);
}

static int unix_stream_connect(struct unix_sock *sk, struct unix_sock *other,
			       const struct unix_peercred *cred, int flags, struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	struct unix_sock *newsk;
	struct unix_address *addr;
	struct sk_buff *skb;
	int err, state;

	if (!other)
		return -EINVAL;		/* AF_UNSPEC: not a valid AF_UNIX address */

	/* The embryo and its request first, as Linux: no lock is held yet. */
	plat_mutex_lock(&net->lock);
	newsk = __unix_create1(net, sk->type);
	plat_mutex_unlock(&net->lock);
	if (!newsk)
		return -ENOMEM;
	skb = __unix_skb_new(newsk, 0, skb_truesize(1, 0));
	if (!skb) {
		unix_drop_embryo(newsk, NULL);
		return -ENOMEM;
	}

	wait_ctl_begin(ctl, (flags & MSG_DONTWAIT) ? 0 : READ_ONCE(sk->sndtimeo));
	unix_state_lock(other);
	for (;;) {
		if ((other->flags & UNIX_F_DEAD) || other->type != sk->type) {
			err = -ECONNREFUSED;
			goto out;
		}
		if (other->state != UNIX_LISTEN || (other->shutdown & RCV_SHUTDOWN)) {
			err = -ECONNREFUSED;
			goto out;
		}
		if (!unix_recvq_full(other))
			break;
		err = __unix_sleep(other, &other->peer_wait, ctl, 1);
		if (err)
			goto out;
	}
	/*
	 * Our state lock inside the listener's: a listener before the socket
	 * connecting to it.  Checked first without our lock, as Linux does,
	 * so that a listener (or a connected socket) never takes its own lock
	 * inside another listener's.
	 */
	state = READ_ONCE(sk->state);
	if (state != UNIX_CLOSE) {
		err = state == UNIX_ESTABLISHED ? -EISCONN : -EINVAL;
		goto out;
	}
	unix_state_lock(sk);
	if (sk->state != UNIX_CLOSE) {
		err = sk->state == UNIX_ESTABLISHED ? -EISCONN : -EINVAL;
		unix_state_unlock(sk);
		goto out;
	}

	/* The way is open: the embryo's peer is us, ours the embryo (which
	 * nobody else can reach yet). */
	sock_hold(sk);
	newsk->peer = sk;
	newsk->state = UNIX_ESTABLISHED;
	unix_set_peercred(newsk, cred->id, cred->groups);
	newsk->flags |= other->flags & UNIX_F_SCM_INHERIT;	/* as of connect(), not accept() */
	addr = other->addr;
	if (addr) {
		unix_addr_get(addr);
		newsk->addr = addr;
	}
	unix_set_peercred(sk, other->peercred, other->peer_groups);
	WRITE_ONCE(sk->state, UNIX_ESTABLISHED);
	sock_hold(newsk);
	WRITE_ONCE(sk->peer, newsk);
	unix_state_unlock(sk);

	WRITE_ONCE(newsk->listener, other);
	/* The embryo's only reference until accept is the queued skb's. */
	refcount_dec(&newsk->refcnt);
	__unix_queue_skb(other, skb, 0);
	__wake_up(&other->wq, 1);
	__wake_up_all(&other->wq);	/* pollers of the listener */
	unix_state_unlock(other);
	return 0;
out:
	unix_state_unlock(other);
	unix_drop_embryo(newsk, skb);
	return err;
}

/*
 * Dgram: drop a dissolved association's leftovers from the receive queue
 * (under @sk's iolock, which the caller holds: a reader may be copying out
 * of the head), and reset the old peer if it was connected back to us.
 */
void unix_dgram_disconnected(struct unix_sock *sk, struct unix_sock *other)
{
	if (skb_queue_len_lockless(&sk->receive_queue)) {
		unix_purge_queue(sk);
		unix_state_lock(sk);
		__wake_up_all(&sk->peer_wait);
		unix_state_unlock(sk);
		unix_state_lock(other);
		if (!(other->flags & UNIX_F_DEAD) && other->peer == sk) {
			WRITE_ONCE(other->err, ECONNRESET);
			__wake_up_all(&other->wq);
		}
		unix_state_unlock(other);
	}
}

static int unix_dgram_connect(struct unix_sock *sk, struct unix_sock *other,
			      const struct unix_peercred *cred, int flags, struct wait_ctl *ctl)
{
	struct unix_sock *old_peer;
	int err = 0;

	(void)cred; (void)flags; (void)ctl;
	/* Purging our queue may free skbs a reader is copying from: take iolock. */
	plat_mutex_lock(&sk->iolock);
	if (other) {
		unix_state_double_lock(sk, other);
		if ((other->flags & UNIX_F_DEAD) || other->type != sk->type) {
			err = -ECONNREFUSED;
			goto out;
		}
		if (!unix_may_send(sk, other)) {
			err = -EPERM;
			goto out;
		}
		WRITE_ONCE(sk->state, UNIX_ESTABLISHED);
		WRITE_ONCE(other->state, UNIX_ESTABLISHED);
		sock_hold(other);
	} else {
		unix_state_lock(sk);
	}
	old_peer = sk->peer;
	WRITE_ONCE(sk->peer, other);
	if (old_peer && !other)
		WRITE_ONCE(sk->state, UNIX_CLOSE);
	if (old_peer)
		__wake_up_all(&sk->wq);		/* unix_dgram_peer_wake_disconnect_wakeup */
	if (other)
		unix_state_double_unlock(sk, other);
	else
		unix_state_unlock(sk);
	if (old_peer) {
		if (other != old_peer) {
			unix_dgram_disconnected(sk, old_peer);
			unix_state_lock(old_peer);
			if (!old_peer->peer)
				WRITE_ONCE(old_peer->state, UNIX_CLOSE);
			unix_state_unlock(old_peer);
		}
		sock_put(old_peer);
	}
	plat_mutex_unlock(&sk->iolock);
	return 0;
out:
	unix_state_double_unlock(sk, other);
	plat_mutex_unlock(&sk->iolock);
	return err;
}

/*
 * connect(2), as unix_stream_connect / unix_dgram_connect begin: AF_UNSPEC
 * (@path NULL) goes to the type's connect, which dissolves a datagram
 * association and is EINVAL elsewhere; an empty address is EINVAL
 * (unix_validate_addr); an unnamed socket with SO_PASSCRED autobinds; the
 * name is looked up (unix_find_other) with no lock held; then the type's
 * connect makes the rest of the checks.
 */
int unix_connect(void *task, struct unix_sock *sk, const void *path, unsigned int len,
		 int flags, struct wait_ctl *ctl)
{
	struct unix_peercred cred = { { 0, -1, -1 }, NULL };
	struct unix_sock *other;
	int err;

	if (!path) {
		err = sk->ops->connect(sk, NULL, &cred, flags, ctl);
		goto out;
	}
	if (len == 0 || len > UNIX_PATH_MAX)
		return -EINVAL;
	err = unix_passcred_autobind(sk);
	if (err)
		return err;
	/* a connection's SO_PEERCRED, as unix_stream_connect prepares it */
	if (sk->type != SOCK_DGRAM) {
		err = unix_prepare_peercred(task, sk->net, &cred);
		if (err)
			return err;
	}
	err = unix_find_other(task, sk->net, path, len, sk->type, &other);
	if (err) {
		unix_put_peercred(&cred);
		return err;
	}
	err = sk->ops->connect(sk, other, &cred, flags, ctl);
	unix_sock_put(other);
	unix_put_peercred(&cred);
out:
	unix_ready_flush(sk->net);
	return err;
}

int unix_socketpair(void *task, struct unix_sock *a, struct unix_sock *b)
{
	struct unix_peercred c;
	int err = unix_prepare_peercred(task, a->net, &c);

	if (err)
		return err;
	unix_state_double_lock(a, b);
	sock_hold(a);
	sock_hold(b);
	WRITE_ONCE(a->peer, b);
	WRITE_ONCE(b->peer, a);
	unix_set_peercred(a, c.id, c.groups);
	unix_set_peercred(b, c.id, c.groups);
	WRITE_ONCE(a->state, UNIX_ESTABLISHED);
	WRITE_ONCE(b->state, UNIX_ESTABLISHED);
	unix_state_double_unlock(a, b);
	unix_put_peercred(&c);
	return 0;
}

void unix_state_double_lock(struct unix_sock *a, struct unix_sock *b)
{
	if (a == b) {
		unix_state_lock(a);
		return;
	}
	if ((uintptr_t)a > (uintptr_t)b) {
		struct unix_sock *t = a;

		a = b;
		b = t;
	}
	unix_state_lock(a);
	unix_state_lock(b);
}

void unix_state_double_unlock(struct unix_sock *a, struct unix_sock *b)
{
	unix_state_unlock(a);
	if (a != b)
		unix_state_unlock(b);
}

/* ------------------------------------------------- dgram peer wake relay --- */

/*
 * A connected datagram sender that found its peer's queue full parks itself
 * on the peer's peer_wait (Linux's peer_wake relay); a reader of the peer
 * wakes it.  In this implementation a sleeper waits on the peer's peer_wait
 * directly, and poll registers there too, so the relay is the wait queue
 * itself: nothing to disconnect but to wake @sk's own sleepers and pollers,
 * which may have been waiting on @other's.  Takes @sk's state lock.
 */
void __unix_dgram_peer_wake_disconnect(struct unix_sock *sk, struct unix_sock *other)
{
	(void)other;
	unix_state_lock(sk);
	__wake_up_all(&sk->wq);
	unix_state_unlock(sk);
}

/* -------------------------------------------------------- send/recv --- */

/*
 * sock_alloc_send_pskb's wait for send-buffer space, as Linux's
 * sock_wait_for_wmem: a pending error, SEND_SHUTDOWN, or room
 * (wmem_alloc < sndbuf), re-checked each time the socket's wait queue is
 * woken -- and skb frees wake it only once the socket is writable
 * (wmem <= sndbuf / 4, unix_write_space), so a blocked sender stays asleep
 * until the reader has drained three quarters.  Caller holds @sk's state
 * lock (a free returns the truesize, then wakes under it if the waiter set
 * sk->nospace before its last look: __unix_set_nospace).
 */
int __unix_wait_wmem(struct unix_sock *sk, struct wait_ctl *ctl)
{
	int err;

	for (;;) {
		if (sk->err) {
			err = -sk->err;
			WRITE_ONCE(sk->err, 0);
			return err;
		}
		if (sk->shutdown & SEND_SHUTDOWN)
			return -EPIPE;
		if (unix_wmem(sk) < sk->sndbuf)
			return 0;
		__unix_set_nospace(sk);		/* then look again */
		if (unix_wmem(sk) < sk->sndbuf)
			return 0;
		err = __unix_sleep(sk, &sk->wq, ctl, 0);
		if (err)
			return err;
	}
}

/* @n payload bytes memcpy'd by @sk's send (@out 0) or receive (@out 1). */
void unix_account_copy(struct unix_sock *sk, size_t n, int out)
{
	unix_sk_stat_add(sk, bytes_copied, n);
	if (out)
		unix_sk_stat_add(sk, bytes_copied_out, n);
	unix_cnt_add(sk->net, bytes_copied, (int64_t)n);
}

ssize_t unix_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
		     struct wait_ctl *ctl)
{
	ssize_t ret = sk->ops->sendmsg(task, sk, msg, ctl);

	unix_ready_flush(sk->net);
	return ret;
}

/* The sender's address for a receiver's msg_name (a reference). */
void unix_copy_addr(struct unix_msg *msg, struct unix_sock *from)
{
	struct unix_address *addr;

	if (msg->addr)
		return;
	addr = unix_addr(from);
	if (addr) {
		unix_addr_get(addr);
		msg->addr = addr;
	}
}

/* recvmsg(2): the type's receive, then, with a control buffer, scm_recv. */
ssize_t unix_recvmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
		     struct wait_ctl *ctl)
{
	ssize_t ret = sk->ops->recvmsg(sk, msg, ctl);

	if (msg->rcontrol)
		unix_scm_recv(task, sk, msg, ret);
	unix_ready_flush(sk->net);
	return ret;
}

/*
 * About how many bytes a recv on @sk would copy now, read without a lock
 * as Linux's unix_recvq_full_lockless reads a queue: a stream's queued
 * bytes, else the mean queued datagram.  A hint (the embedder's choice of
 * how to run the copy), never a promise: the queue may change at once.
 */
size_t unix_recv_hint(const struct unix_sock *sk)
{
	size_t bytes = skb_queue_bytes_lockless(&sk->receive_queue);
	unsigned int qlen;

	if (sk->type == SOCK_STREAM)
		return bytes;
	qlen = skb_queue_len_lockless(&sk->receive_queue);
	return qlen ? bytes / qlen : 0;
}

/* Release what a recvmsg left in @msg that the caller did not take. */
void unix_msg_release(struct unix_sock *sk, struct unix_msg *msg)
{
	(void)sk;
	unix_addr_put(msg->addr);
	msg->addr = NULL;
}

/* ------------------------------------------------------------ shutdown --- */

int unix_shutdown(struct unix_sock *sk, int how)
{
	struct unix_sock *other;
	int mode;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	mode = how + 1;
	unix_state_lock(sk);
	WRITE_ONCE(sk->shutdown, sk->shutdown | mode);
	other = sk->peer;
	if (other)
		sock_hold(other);
	__wake_up_all(&sk->wq);
	__wake_up_all(&sk->peer_wait);
	unix_state_unlock(sk);
	if (other && (sk->type == SOCK_STREAM || sk->type == SOCK_SEQPACKET)) {
		int peer_mode = 0;

		if (mode & RCV_SHUTDOWN)
			peer_mode |= SEND_SHUTDOWN;
		if (mode & SEND_SHUTDOWN)
			peer_mode |= RCV_SHUTDOWN;
		unix_state_lock(other);
		WRITE_ONCE(other->shutdown, other->shutdown | peer_mode);
		__wake_up_all(&other->wq);
		__wake_up_all(&other->peer_wait);
		unix_state_unlock(other);
	}
	if (other)
		sock_put(other);
	unix_ready_flush(sk->net);
	return 0;
}

/* ---------------------------------------------------------------- poll --- */

/* A poller's entry on a wait queue, the lock of the queue's owner, and the
 * socket it holds, if any. */
struct poll_entry {
	struct wait_queue_entry e;
	plat_mutex_t *lock;
	struct unix_sock *held;
};

struct poll_table {
	struct waiter *w;
	struct poll_entry *entries;
	unsigned int n, max;
	unsigned int key;	/* the events of the fd being polled, as pollwake's */
};

/*
 * Queue the poller on @wq, whose owner's lock @lock the caller holds (a
 * socket's state lock; net.lock for a pipe's queues).  @owner, when not
 * NULL, is held until the entry is taken off again (__poll_unwait): a wait
 * queue of another socket than the one polled (a peer's peer_wait) must
 * outlive the sleep.
 */
static void __poll_wait(struct poll_table *pt, struct wait_queue_head *wq,
			plat_mutex_t *lock, struct unix_sock *owner)
{
	if (pt && pt->n < pt->max) {
		struct poll_entry *pe = &pt->entries[pt->n++];

		__wq_add(wq, &pe->e, pt->w, 0);
		pe->e.key = pt->key;
		pe->lock = lock;
		pe->held = owner;
		if (owner)
			sock_hold(owner);
	}
}

/* Take the poller off every queue, each under its owner's lock as wakers
 * read the queue under it.  Caller holds net.lock. */
static void __poll_unwait(struct poll_table *pt, struct unix_net *net)
{
	unsigned int i;

	for (i = 0; i < pt->n; i++) {
		struct poll_entry *pe = &pt->entries[i];

		if (pe->lock != &net->lock)
			plat_mutex_lock(pe->lock);
		__wq_del(&pe->e);
		if (pe->lock != &net->lock)
			plat_mutex_unlock(pe->lock);
		if (pe->held)
			__sock_put(pe->held);
	}
	pt->n = 0;
}

/*
 * unix_writable for a poll, under @sk's state lock: when there is no room,
 * @sk is marked for the free that makes some to wake its queue, and looked
 * at again (__unix_set_nospace).
 */
static int __unix_poll_writable(struct unix_sock *sk, int state)
{
	if (state == UNIX_LISTEN)
		return 0;		/* never writable: nothing to wait for */
	if (unix_writable(sk, state))
		return 1;
	__unix_set_nospace(sk);
	return unix_writable(sk, state);
}

/* Poll a stream socket: under its state lock, with net.lock held. */
static unsigned int __unix_poll(struct unix_sock *sk, struct poll_table *pt,
				unsigned int events)
{
	unsigned int mask = 0;
	int shutdown, state;

	(void)events;
	unix_state_lock(sk);
	shutdown = sk->shutdown;
	state = sk->state;
	__poll_wait(pt, &sk->wq, &sk->lock, NULL);
	if (sk->err)
		mask |= POLLERR;
	if (shutdown == SHUTDOWN_MASK)
		mask |= POLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (skb_queue_len_lockless(&sk->receive_queue))
		mask |= POLLIN | POLLRDNORM;
	if (READ_ONCE(sk->oob_skb))
		mask |= POLLPRI;
	if (state == UNIX_CLOSE)
		mask |= POLLHUP;
	if (__unix_poll_writable(sk, state))
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	unix_state_unlock(sk);
	return mask;
}

/*
 * Poll a datagram or seqpacket socket: its own state under its lock, then
 * its peer's room under the peer's (never both at once), with net.lock
 * held.
 */
static unsigned int __unix_dgram_poll(struct unix_sock *sk, struct poll_table *pt,
				      unsigned int events)
{
	unsigned int mask = 0;
	int shutdown, state, writable;
	struct unix_sock *other = NULL;

	unix_state_lock(sk);
	shutdown = sk->shutdown;
	state = sk->state;
	__poll_wait(pt, &sk->wq, &sk->lock, NULL);
	if (sk->err)
		mask |= POLLERR;
	if (shutdown & RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (shutdown == SHUTDOWN_MASK)
		mask |= POLLHUP;
	if (skb_queue_len_lockless(&sk->receive_queue))
		mask |= POLLIN | POLLRDNORM;
	if (sk->type == SOCK_SEQPACKET && state == UNIX_CLOSE)
		mask |= POLLHUP;
	if (!(events & (POLLWRBAND | POLLWRNORM | POLLOUT))) {
		unix_state_unlock(sk);
		return mask;
	}
	writable = __unix_poll_writable(sk, state);
	if (writable && sk->peer) {
		other = sk->peer;
		sock_hold(other);
	}
	unix_state_unlock(sk);
	if (other) {
		unix_state_lock(other);
		if (other->peer != sk && unix_recvq_full(other) &&
		    !(other->flags & UNIX_F_DEAD)) {
			/* the peer-wake relay: a reader of other wakes us */
			__poll_wait(pt, &other->peer_wait, &other->lock, other);
			writable = 0;
		}
		unix_state_unlock(other);
		__sock_put(other);
	}
	if (writable)
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return mask;
}

/*
 * do_poll: one pass over the sockets with the waiter queued on every queue
 * that may change their readiness, then one sleep until any of them fires,
 * the deadline (ctl->deadline, set by the caller) or a signal; repeat.
 * Returns the number of ready entries, 0 at the deadline, or -errno.  The
 * pass runs under net.lock (a pipe's state, the sockets' each under its own
 * state lock inside it); a poller queues on a socket's queue before it
 * reads the state its wakers change under that socket's lock.
 */
int unix_poll_many(struct unix_net *net, struct unix_pollfd *fds, unsigned int n,
		   struct wait_ctl *ctl)
{
	struct wait_spin_cfg spin = { net->busy_poll_ns, net->spin_max_ns };
	struct poll_table pt;
	struct waiter w;
	unsigned int i;
	int ready, err = 0, timed_out = 0;

	pt.entries = plat_alloc(sizeof(*pt.entries) * (n ? 2 * n : 1));
	if (!pt.entries)
		return -ENOMEM;
	pt.max = 2 * n;
	pt.w = &w;
	pt.n = 0;
	plat_mutex_lock(&net->lock);
	for (;;) {
		int64_t spin_ns, t0;
		int spun;

		waiter_init(&w, &net->wstats);
		pt.n = 0;
		ready = 0;
		for (i = 0; i < n; i++) {
			struct unix_sock *sk = fds[i].sk;
			unsigned int mask;

			if (fds[i].pipe) {
				struct pipe_inode_info *pipe = fds[i].pipe;

				pt.key = fds[i].events | POLLERR | POLLHUP;
				if (fds[i].pipe_fmode & PIPE_FMODE_READ)
					__poll_wait(&pt, &pipe->rd_wait, &net->lock, NULL);
				if (fds[i].pipe_fmode & PIPE_FMODE_WRITE)
					__poll_wait(&pt, &pipe->wr_wait, &net->lock, NULL);
				mask = __pipe_poll(pipe, fds[i].pipe_fmode, fds[i].pipe_version);
				fds[i].revents = mask & (fds[i].events | POLLERR | POLLHUP);
				if (fds[i].revents)
					ready++;
				continue;
			}
			if (!sk) {
				if (fds[i].revents)
					ready++;
				continue;
			}
			pt.key = fds[i].events | POLLERR | POLLHUP;
			mask = sk->ops->poll(sk, &pt, fds[i].events);
			fds[i].revents = mask & (fds[i].events | POLLERR | POLLHUP);
			if (fds[i].revents)
				ready++;
		}
		if (ready || timed_out)
			break;
		if (unix_net_dead(net)) {
			err = -ESHUTDOWN;
			break;
		}
		if (ctl->deadline <= plat_now_ns())
			break;
		spin_ns = __wait_spin_budget(&net->poll_spin, &spin);
		t0 = plat_now_ns();
		unix_net_enter(net);
		err = __waiter_sleep(&w, &net->lock, ctl, spin_ns, &spun);
		if (spun >= 0)
			__wait_spin_result(&net->poll_spin, &spin, spun, plat_now_ns() - t0);
		__poll_unwait(&pt, net);
		unix_net_leave(net);
		if (err == -EAGAIN) {
			err = 0;	/* timed out: one last pass, as do_poll */
			timed_out = 1;
		} else if (err) {
			break;
		}
	}
	__poll_unwait(&pt, net);
	plat_mutex_unlock(&net->lock);
	plat_free(pt.entries);
	return err ? err : ready;
}

/* ------------------------------------------------------------ options --- */

/*
 * The SOL_SOCKET options that sk_setsockopt keeps as a sock flag
 * (sock_valbool_flag) and sk_getsockopt reports as 0 or 1: their flag, or 0.
 */
static unsigned int __unix_bool_opt(int optname)
{
	switch (optname) {
	case SO_DEBUG: return UNIX_F_DBG;
	case SO_REUSEADDR: return UNIX_F_REUSE;
	case SO_DONTROUTE: return UNIX_F_LOCALROUTE;
	case SO_BROADCAST: return UNIX_F_BROADCAST;
	case SO_KEEPALIVE: return UNIX_F_KEEPOPEN;
	case SO_OOBINLINE: return UNIX_F_URGINLINE;
	case SO_NO_CHECK: return UNIX_F_NO_CHECK;
	case SO_PASSCRED: return UNIX_F_PASSCRED;
	case SO_PASSPIDFD: return UNIX_F_PASSPIDFD;
	case SO_PASSSEC: return UNIX_F_PASSSEC;
	case SO_RXQ_OVFL: return UNIX_F_RXQ_OVFL;
	case SO_WIFI_STATUS: return UNIX_F_WIFI_STATUS;
	case SO_NOFCS: return UNIX_F_NOFCS;
	case SO_LOCK_FILTER: return UNIX_F_FILTER_LOCKED;
	case SO_SELECT_ERR_QUEUE: return UNIX_F_SELECT_ERR_QUEUE;
	case SO_RCVMARK: return UNIX_F_RCVMARK;
	case SO_RCVPRIORITY: return UNIX_F_RCVPRIORITY;
	default: return 0;
	}
}

int unix_getsockopt(struct unix_sock *sk, int level, int optname, int64_t *val)
{
	unsigned int flag;
	int err = 0;

	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	unix_state_lock(sk);
	switch (optname) {
	case SO_TYPE: *val = sk->type; break;
	case SO_DOMAIN: *val = AF_UNIX; break;
	case SO_PROTOCOL: *val = 0; break;
	case SO_ACCEPTCONN: *val = sk->state == UNIX_LISTEN; break;
	case SO_ERROR: *val = sk->err; WRITE_ONCE(sk->err, 0); break;
	case SO_SNDBUF: *val = sk->sndbuf; break;
	case SO_RCVBUF: *val = sk->rcvbuf; break;
	case SO_RCVTIMEO: *val = sk->rcvtimeo; break;
	case SO_SNDTIMEO: *val = sk->sndtimeo; break;
	case SO_RCVLOWAT: *val = sk->rcvlowat; break;
	case SO_SNDLOWAT: *val = 1; break;
	case SO_PEEK_OFF: *val = sk->peek_off; break;
	case SO_BUSY_POLL: *val = sk->busy_poll_ns / 1000; break;
	case SO_PASSRIGHTS: *val = !(sk->flags & UNIX_F_NOPASSRIGHTS); break;
	case SO_PRIORITY: *val = sk->priority; break;
	case SO_MARK: *val = (int32_t)sk->mark; break;
	case SO_INCOMING_CPU: *val = sk->incoming_cpu; break;
	case SO_BUF_LOCK: *val = sk->userlocks & UNIX_BUF_LOCK_MASK; break;
	case SO_LINGER:
		*val = (int64_t)(((uint64_t)(uint32_t)(sk->lingertime / UNIX_HZ) << 32) |
				 ((sk->flags & UNIX_F_LINGER) ? 1u : 0u));
		break;
	case SO_MAX_PACING_RATE: *val = (int64_t)sk->max_pacing_rate; break;
	case SO_TXTIME:
		*val = (int64_t)(((uint64_t)sk->txtime_flags << 32) | (uint32_t)sk->txtime_clockid);
		break;
	case SO_PREFER_BUSY_POLL: *val = !!(sk->flags & UNIX_F_PREFER_BUSY_POLL); break;
	case SO_TIMESTAMP_OLD:
		*val = (sk->flags & (UNIX_F_RCVTSTAMP | UNIX_F_RCVTSTAMPNS | UNIX_F_TSTAMP_NEW)) ==
		       UNIX_F_RCVTSTAMP;
		break;
	case SO_TIMESTAMPNS_OLD:
		*val = (sk->flags & (UNIX_F_RCVTSTAMPNS | UNIX_F_TSTAMP_NEW)) == UNIX_F_RCVTSTAMPNS;
		break;
	case SO_TIMESTAMP_NEW:
		*val = (sk->flags & (UNIX_F_RCVTSTAMP | UNIX_F_TSTAMP_NEW)) ==
		       (UNIX_F_RCVTSTAMP | UNIX_F_TSTAMP_NEW);
		break;
	case SO_TIMESTAMPNS_NEW:
		*val = (sk->flags & (UNIX_F_RCVTSTAMPNS | UNIX_F_TSTAMP_NEW)) ==
		       (UNIX_F_RCVTSTAMPNS | UNIX_F_TSTAMP_NEW);
		break;
	case SO_BPF_EXTENSIONS: *val = UNIX_SKF_AD_MAX; break;
	case SO_BINDTOIFINDEX: *val = sk->bound_dev_if; break;
	case SO_COOKIE: *val = (int64_t)unix_sock_cookie(sk); break;
	case SO_NETNS_COOKIE: *val = (int64_t)sk->net->cookie; break;
	case SO_REUSEPORT:		/* never on: not an inet socket */
	case SO_ZEROCOPY:		/* never on: not an inet or RDS socket */
	case SO_RESERVE_MEM:		/* nothing reserved: no memory accounting */
	case SO_INCOMING_NAPI_ID:	/* no NAPI: nothing arrives from a device */
		*val = 0;
		break;
	case SO_TXREHASH:		/* TCP's */
		err = -EOPNOTSUPP;
		break;
	default:
		flag = __unix_bool_opt(optname);
		if (flag)
			*val = !!(sk->flags & flag);
		else
			err = -ENOPROTOOPT;
	}
	unix_state_unlock(sk);
	return err;
}

/* sock_valbool_flag: a boolean option is a flag bit. */
static inline void __unix_valbool_flag(struct unix_sock *sk, unsigned int flag, int on)
{
	if (on)
		unix_flags_set(sk, flag);
	else
		unix_flags_clear(sk, flag);
}

int unix_setsockopt(struct unix_sock *sk, int level, int optname, int64_t val)
{
	struct unix_net *net = sk->net;
	unsigned int flag;
	int err = 0;
	int64_t v;

	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	unix_state_lock(sk);
	switch (optname) {
	case SO_SNDBUF:
	case SO_SNDBUFFORCE:
		v = (uint32_t)(int32_t)val;
		if (optname == SO_SNDBUF && v > net->sysctl.wmem_max)
			v = net->sysctl.wmem_max;
		if (v > INT32_MAX / 2)
			v = INT32_MAX / 2;
		sk->userlocks |= UNIX_SNDBUF_LOCK;
		WRITE_ONCE(sk->sndbuf, (int)(v * 2 > SOCK_MIN_SNDBUF ? v * 2 : SOCK_MIN_SNDBUF));
		__wake_up_all(&sk->wq);
		break;
	case SO_RCVBUF:
	case SO_RCVBUFFORCE:
		v = (uint32_t)(int32_t)val;
		if (optname == SO_RCVBUF && v > net->sysctl.rmem_max)
			v = net->sysctl.rmem_max;
		if (v > INT32_MAX / 2)
			v = INT32_MAX / 2;
		sk->userlocks |= UNIX_RCVBUF_LOCK;
		WRITE_ONCE(sk->rcvbuf, (int)(v * 2 > SOCK_MIN_RCVBUF ? v * 2 : SOCK_MIN_RCVBUF));
		break;
	case SO_RCVTIMEO: WRITE_ONCE(sk->rcvtimeo, val); break;
	case SO_SNDTIMEO: WRITE_ONCE(sk->sndtimeo, val); break;
	case SO_RCVLOWAT:
		v = (int32_t)val;
		if (v < 0)
			v = INT32_MAX;
		WRITE_ONCE(sk->rcvlowat, v ? (int)v : 1);
		__wake_up_all(&sk->wq);
		break;
	case SO_SNDLOWAT:
		err = -ENOPROTOOPT;
		break;
	case SO_PEEK_OFF:	/* unix_set_peek_off: any negative value is off */
		WRITE_ONCE(sk->peek_off, (int)val);
		break;
	case SO_BUSY_POLL:
		if (val < 0)
			err = -EINVAL;
		else
			WRITE_ONCE(sk->busy_poll_ns, val * 1000);
		break;
	case SO_PASSRIGHTS:
		__unix_valbool_flag(sk, UNIX_F_NOPASSRIGHTS, val == 0);
		break;
	case SO_PRIORITY: WRITE_ONCE(sk->priority, (int)val); break;
	case SO_MARK: WRITE_ONCE(sk->mark, (uint32_t)val); break;
	case SO_INCOMING_CPU: WRITE_ONCE(sk->incoming_cpu, (int)val); break;
	case SO_BUF_LOCK:
		if (val & ~(int64_t)UNIX_BUF_LOCK_MASK)
			err = -EINVAL;
		else
			sk->userlocks = (sk->userlocks & ~UNIX_BUF_LOCK_MASK) | (unsigned int)val;
		break;
	case SO_LINGER:		/* off keeps the time; on sets it */
		if (!(int32_t)val) {
			unix_flags_clear(sk, UNIX_F_LINGER);
		} else {
			/* l_linger as an unsigned long: a negative one is forever */
			uint64_t t_sec = (uint64_t)(int64_t)(int32_t)((uint64_t)val >> 32);

			WRITE_ONCE(sk->lingertime,
				   t_sec >= (uint64_t)UNIX_MAX_SCHEDULE_TIMEOUT / UNIX_HZ ?
				   UNIX_MAX_SCHEDULE_TIMEOUT : (int64_t)t_sec * UNIX_HZ);
			unix_flags_set(sk, UNIX_F_LINGER);
		}
		break;
	case SO_MAX_PACING_RATE: WRITE_ONCE(sk->max_pacing_rate, (uint64_t)val); break;
	case SO_TXTIME:
		WRITE_ONCE(sk->txtime_clockid, (int32_t)val);
		WRITE_ONCE(sk->txtime_flags, (uint32_t)((uint64_t)val >> 32));
		break;
	case SO_PREFER_BUSY_POLL:
		__unix_valbool_flag(sk, UNIX_F_PREFER_BUSY_POLL, val != 0);
		break;
	case SO_TIMESTAMP_OLD:		/* sock_set_timestamp */
	case SO_TIMESTAMPNS_OLD:
	case SO_TIMESTAMP_NEW:
	case SO_TIMESTAMPNS_NEW:
		if (val) {
			__unix_valbool_flag(sk, UNIX_F_TSTAMP_NEW, optname == SO_TIMESTAMP_NEW ||
					    optname == SO_TIMESTAMPNS_NEW);
			__unix_valbool_flag(sk, UNIX_F_RCVTSTAMPNS, optname == SO_TIMESTAMPNS_OLD ||
					    optname == SO_TIMESTAMPNS_NEW);
			unix_flags_set(sk, UNIX_F_RCVTSTAMP);
		} else {
			unix_flags_clear(sk, UNIX_F_RCVTSTAMP | UNIX_F_RCVTSTAMPNS);
		}
		break;
	case SO_REUSEPORT:		/* on only for inet sockets */
		if (val)
			err = -EOPNOTSUPP;
		break;
	case SO_ZEROCOPY:		/* inet and RDS only, whatever the value */
	case SO_TXREHASH:		/* TCP only */
		err = -EOPNOTSUPP;
		break;
	case SO_RESERVE_MEM:		/* sk_has_account(): no memory accounting here */
		err = val < 0 ? -EINVAL : -EOPNOTSUPP;
		break;
	case SO_DEVMEM_DONTNEED:	/* TCP only */
		err = -EBADF;
		break;
	case SO_CNX_ADVICE:		/* dst_negative_advice: no route to drop */
		break;
	case SO_BUSY_POLL_BUDGET:
		v = (int32_t)val;
		if (v > sk->busy_poll_budget && !(val & UNIX_SOCKOPT_NET_ADMIN))
			err = -EPERM;
		else if (v < 0 || v > UINT16_MAX)
			err = -EINVAL;
		else
			WRITE_ONCE(sk->busy_poll_budget, (int)v);
		break;
	case SO_BINDTOIFINDEX:		/* sock_bindtoindex_locked (the embedder
					 * resolves SO_BINDTODEVICE's name) */
		v = (int32_t)val;
		if (sk->bound_dev_if && !(val & UNIX_SOCKOPT_NET_RAW))
			err = -EPERM;
		else if (v < 0)
			err = -EINVAL;
		else
			WRITE_ONCE(sk->bound_dev_if, (int)v);
		break;
	case SO_INQ:
		/* unix_setsockopt: a stream socket's own option, 0 or 1; the
		 * other types leave it to sock_setsockopt, which has no such
		 * option.  Not readable back: getsockopt is ENOPROTOOPT. */
		if (sk->type != SOCK_STREAM)
			err = -ENOPROTOOPT;
		else if (val < 0 || val > 1)
			err = -EINVAL;
		else
			__unix_valbool_flag(sk, UNIX_F_RECVMSG_INQ, (int)val);
		break;
	case SO_LOCK_FILTER:
		if ((sk->flags & UNIX_F_FILTER_LOCKED) && !val)
			err = -EPERM;
		else
			__unix_valbool_flag(sk, UNIX_F_FILTER_LOCKED, val != 0);
		break;
	default:
		flag = __unix_bool_opt(optname);
		if (flag)
			__unix_valbool_flag(sk, flag, val != 0);
		else
			err = -ENOPROTOOPT;
	}
	unix_state_unlock(sk);
	unix_ready_flush(net);
	return err;
}

int unix_get_peercred(struct unix_sock *sk, struct unix_cred *out)
{
	unix_state_lock(sk);
	*out = sk->peercred;
	unix_state_unlock(sk);
	return 0;
}

int unix_get_peergroups(struct unix_sock *sk, struct unix_groups **out)
{
	int err = 0;

	unix_state_lock(sk);
	if (sk->peercred.uid == -1 && !sk->peercred.pid) {
		err = -ENODATA;		/* sk_get_peer_cred(): none recorded */
		*out = NULL;
	} else {
		*out = unix_groups_get(sk->peer_groups);
	}
	unix_state_unlock(sk);
	return err;
}

struct unix_groups *unix_groups_alloc(int n)
{
	struct unix_groups *g;

	if (n < 0)
		return NULL;
	g = plat_alloc(sizeof(*g) + (size_t)n * sizeof(g->gid[0]));
	if (!g)
		return NULL;
	refcount_set(&g->ref, 1);
	g->n = n;
	return g;
}

void unix_groups_put(struct unix_groups *g)
{
	if (g && refcount_dec_and_test(&g->ref))
		plat_free(g);
}

void unix_set_owner(struct unix_sock *sk, const struct unix_fown *owner)
{
	unix_state_lock(sk);
	sk->owner = *owner;
	unix_state_unlock(sk);
}

void unix_get_owner(struct unix_sock *sk, struct unix_fown *out)
{
	unix_state_lock(sk);
	*out = sk->owner;
	unix_state_unlock(sk);
}

/*
 * unix_inq_len: bytes a read would see -- a stream or seqpacket socket's
 * whole queue, a datagram socket's first message.  Not for a listener.
 * Caller holds the queue's lock.
 */
static long __unix_inq_len(struct unix_sock *sk)
{
	struct sk_buff *skb;
	long amount = 0;

	if (sk->type == SOCK_STREAM || sk->type == SOCK_SEQPACKET) {
		for (skb = skb_peek(&sk->receive_queue); skb;
		     skb = skb_peek_next(skb, &sk->receive_queue))
			amount += unix_skb_len(skb);
		amount += sk->inq_stale;
	} else {
		skb = skb_peek(&sk->receive_queue);
		if (skb)
			amount = skb->len;
	}
	return amount;
}

/* The bytes left to read (SIOCINQ's answer, SCM_INQ's value). */
long unix_inq_len(struct unix_sock *sk)
{
	long amount;

	plat_mutex_lock(&sk->receive_queue.lock);
	amount = __unix_inq_len(sk);
	plat_mutex_unlock(&sk->receive_queue.lock);
	return amount;
}

#define SIOCINQ_	0x541B
#define SIOCOUTQ_	0x5411
#define SIOCATMARK_	0x8905

int unix_ioctl(struct unix_sock *sk, unsigned long cmd, int *out)
{
	struct sk_buff *skb;
	long amount = 0;
	int err = 0;

	unix_state_lock(sk);
	plat_mutex_lock(&sk->receive_queue.lock);
	switch (cmd) {
	case SIOCOUTQ_:
		amount = (long)unix_wmem(sk);
		break;
	case SIOCINQ_:
		if (sk->state == UNIX_LISTEN) {
			err = -EINVAL;
			break;
		}
		amount = __unix_inq_len(sk);
		break;
	case SIOCATMARK_:
		/* At the mark: the OOB byte is next, or nothing is left of the
		 * head skb and the mark (if any) follows it. */
		if (sk->type != SOCK_STREAM) {
			err = -EOPNOTSUPP;
			break;
		}
		skb = skb_peek(&sk->receive_queue);
		if (skb) {
			struct sk_buff *next = skb_peek_next(skb, &sk->receive_queue);

			amount = skb == sk->oob_skb ||
				 (!unix_skb_len(skb) && (!sk->oob_skb || next == sk->oob_skb));
		}
		break;
	default:
		err = -ENOTTY;
	}
	plat_mutex_unlock(&sk->receive_queue.lock);
	unix_state_unlock(sk);
	*out = (int)amount;
	return err;
}

/* ------------------------------------------------------------- listing --- */

/* sk_diag_fill's view of one socket; the icons go to @icons from *@ni on.
 * Caller holds net.lock, @sk's state lock and its queue's lock. */
static void __unix_sock_info(struct unix_sock *sk, struct unix_sock_info *i,
			     uint64_t *icons, size_t max_icons, size_t *ni)
{
	struct sk_buff *skb;

	i->ino = sk->ino;
	i->type = sk->type;
	i->state = sk->state;
	i->flags = (int)sk->flags;
	i->refcnt = refcount_read(&sk->refcnt);
	i->listening = sk->state == UNIX_LISTEN;
	__unix_copy_name(sk->addr, i->path, &i->addr_len);	/* set under our lock */
	i->has_vfs = sk->addr && sk->addr->has_vfs;
	i->vfs_dev = i->has_vfs ? sk->addr->vfs_dev : 0;
	i->vfs_ino = i->has_vfs ? sk->addr->vfs_ino : 0;
	/* sk_diag_dump_peer: a released peer has no inode left */
	i->peer_ino = sk->peer && !(READ_ONCE(sk->peer->flags) & UNIX_F_DEAD) ?
		      READ_ONCE(sk->peer->ino) : 0;
	i->shutdown = sk->shutdown;
	i->uid = sk->uid;
	i->icons_off = *ni;
	i->nicons = 0;
	if (sk->state == UNIX_LISTEN) {		/* sk_diag_show_rqlen */
		i->rqueue = sk->receive_queue.qlen;
		i->wqueue = (unsigned int)sk->max_ack_backlog;
		for (skb = skb_peek(&sk->receive_queue); skb;	/* sk_diag_dump_icons */
		     skb = skb_peek_next(skb, &sk->receive_queue)) {
			struct unix_sock *req = skb->sk;

			struct unix_sock *p = READ_ONCE(req->peer);

			if (*ni < max_icons)
				icons[*ni] = p && !(READ_ONCE(p->flags) & UNIX_F_DEAD) ?
					     READ_ONCE(p->ino) : 0;
			(*ni)++;
			i->nicons++;
		}
	} else {
		i->rqueue = (unsigned int)__unix_inq_len(sk);
		i->wqueue = (unsigned int)unix_wmem(sk);
	}
	unix_meminfo(sk, i->mem);
	i->listener_ino = READ_ONCE(sk->listener) ? READ_ONCE(sk->listener->ino) : 0;
	i->inflight = READ_ONCE(sk->inflight);
	i->bytes_copied_in = READ_ONCE(sk->bytes_copied) - READ_ONCE(sk->bytes_copied_out);
	i->bytes_copied_out = READ_ONCE(sk->bytes_copied_out);
	i->bytes_zerocopy_in = READ_ONCE(sk->bytes_zerocopy) - READ_ONCE(sk->bytes_zerocopy_out);
	i->bytes_zerocopy_out = READ_ONCE(sk->bytes_zerocopy_out);
	i->msgs_sent = READ_ONCE(sk->msgs_sent);
	i->msgs_received = READ_ONCE(sk->msgs_received);
}

/* An AF_UNIX socket charges its skbs to the sender (SK_MEMINFO_WMEM_ALLOC)
 * and nothing to the receiver; it has no forward allocation, write queue,
 * option memory, backlog or drops. */
void unix_meminfo(struct unix_sock *sk, uint32_t mem[UNIX_MEMINFO_VARS])
{
	memset(mem, 0, UNIX_MEMINFO_VARS * sizeof(mem[0]));
	mem[1] = (uint32_t)READ_ONCE(sk->rcvbuf);
	mem[2] = (uint32_t)unix_wmem(sk);
	mem[3] = (uint32_t)READ_ONCE(sk->sndbuf);
}

int unix_list(struct unix_net *net, struct unix_sock_info *out, int max,
	      uint64_t *icons, size_t max_icons, size_t *n_icons)
{
	struct list_head *pos, *n;
	size_t ni = 0;
	int count = 0;

	plat_mutex_lock(&net->lock);
	list_for_each_safe(pos, n, &net->socks) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, link);

		if (READ_ONCE(sk->flags) & UNIX_F_DEAD)
			continue;	/* released and going away */
		unix_state_lock(sk);
		plat_mutex_lock(&sk->receive_queue.lock);
		if (count < max)
			__unix_sock_info(sk, &out[count], icons, max_icons, &ni);
		else if (sk->state == UNIX_LISTEN)
			ni += sk->receive_queue.qlen;
		plat_mutex_unlock(&sk->receive_queue.lock);
		unix_state_unlock(sk);
		count++;
	}
	plat_mutex_unlock(&net->lock);
	if (n_icons)
		*n_icons = ni;
	return count;
}

/* ---------------------------------------------------------- ops tables --- */

static const struct unix_proto_ops unix_stream_ops = {
	.type = SOCK_STREAM,
	.connect = unix_stream_connect,
	.listen = unix_stream_listen,
	.accept = unix_stream_accept,
	.sendmsg = unix_stream_sendmsg,
	.recvmsg = unix_stream_recvmsg,
	.poll = __unix_poll,
};

static const struct unix_proto_ops unix_dgram_ops = {
	.type = SOCK_DGRAM,
	.connect = unix_dgram_connect,
	.listen = unix_no_listen,
	.accept = unix_no_accept,
	.sendmsg = unix_dgram_sendmsg,
	.recvmsg = unix_dgram_recvmsg,
	.poll = __unix_dgram_poll,
};

static const struct unix_proto_ops unix_seqpacket_ops = {
	.type = SOCK_SEQPACKET,
	.connect = unix_stream_connect,
	.listen = unix_stream_listen,
	.accept = unix_stream_accept,
	.sendmsg = unix_seqpacket_sendmsg,
	.recvmsg = unix_seqpacket_recvmsg,
	.poll = __unix_dgram_poll,
};
