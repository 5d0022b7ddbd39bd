/*
 * net/unix/af_unix.c - the AF_UNIX socket family: SOCK_STREAM, SOCK_DGRAM
 * and SOCK_SEQPACKET state machines, one ops table per type.
 *
 * Written against Linux's net/unix/af_unix.c semantics: the same checks in
 * the same order, the same errnos, the same truesize accounting (so back-
 * pressure hits at the same byte counts), the same wakeup rules.  Each
 * entry (unix_bind, unix_connect, unix_sendmsg...) is the whole syscall:
 * names, autobind and lookups, control messages (__scm_send), files in
 * flight per user (too_many_unix_fds) included.  The abstract namespace
 * and the table of path-bound sockets are here
 * (unix_find_socket_byname/byinode); the rest of the kernel is asked
 * through the host ops (unix_host.h) where Linux calls into the VFS and
 * the fd table -- unix_find_bsd's walk, unix_bind_bsd's mknod,
 * scm_fp_copy's fget_raw, current_cred() -- with no lock held.
 *
 * Locking: see the contract in unix_socket.h.  In short: one net lock over
 * all socket state and wait queues; a per-socket iolock serialising readers
 * so they can copy with the net lock dropped; order iolock -> net lock.
 * Every blocking call sleeps in __unix_sleep() (poll in unix_poll_many()),
 * with the net lock dropped and no iolock held.
 *
 * Known differences from Linux:
 *   [TO FIX]
 *     - One lock per net instead of per-socket state locks: correct, but
 *       senders to different sockets serialise on queueing.
 *   [NOT TO FIX]
 *     - No BPF, LSM, sockmap or SO_PASSPIDFD/SO_PASSSEC.  splice is
 *       fs/pipe.c's (pipe_splice_to_socket, pipe_splice_from_socket) over
 *       unix_sendmsg, unix_recvmsg and unix_recv_pages.
 *     - A connect blocked on a full backlog keeps the listener it looked up
 *       instead of looking the name up again after each wake-up: a
 *       listener released meanwhile is ECONNREFUSED, as a new lookup
 *       would find.
 *     - A call blocked when the net is torn down fails with ESHUTDOWN.
 */
#include <errno.h>
#include <string.h>

#include "unix_socket.h"
#include "../../mm/page.h"
#include "../../fs/pipe.h"

#define SKB_MAX_HEAD0		(4096 - 320)	/* SKB_MAX_HEAD(0) */
#define UNIX_SKB_FRAGS_SZ	32768
#define SKB_MAX_ALLOC		(16384 - 320)	/* SKB_MAX_ORDER(0, 2) */
#define MAX_SKB_FRAGS		17
#define PAGE_SZ			4096
#define PAGE_ALIGN(x)		(((x) + PAGE_SZ - 1) & ~(size_t)(PAGE_SZ - 1))
#define SOCK_MIN_SNDBUF		4608
#define SOCK_MIN_RCVBUF		2304
#define COPY_UNLOCKED_MIN	1024	/* copy larger chunks with the net lock dropped */

static const struct unix_proto_ops unix_stream_ops;
static const struct unix_proto_ops unix_dgram_ops;
static const struct unix_proto_ops unix_seqpacket_ops;

static inline size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static void __unix_purge_queue(struct unix_sock *sk);
static void msg_copy_to(struct unix_msg *m, const unsigned char *src, size_t n);

/* ---------------------------------------------------------------- net --- */

struct unix_net *unix_net_create(const struct unix_sysctl *sysctl)
{
	struct unix_net *net = plat_zalloc(sizeof(*net));
	int i;

	if (!net)
		return NULL;
	plat_mutex_init(&net->lock);
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

	plat_mutex_lock(&net->lock);
	net->dead = 1;
	list_for_each_safe(pos, n, &net->socks) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, link);

		__kick_all(&sk->wq);
		__kick_all(&sk->peer_wait);
	}
	__pipe_kick_all(net);
	while (net->sleepers)
		plat_cond_wait_until(&net->idle, &net->lock, PLAT_FOREVER);
	/* Nobody can read any more: drop every queued message, so files in
	 * flight (cycles included) go back to the embedder to release. */
	list_for_each_safe(pos, n, &net->socks)
		__unix_purge_queue(list_entry(pos, struct unix_sock, link));
	plat_mutex_unlock(&net->lock);
}

void unix_net_free(struct unix_net *net)
{
	plat_cond_destroy(&net->idle);
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

	plat_mutex_lock(&net->lock);
	l = net->released;
	net->released = NULL;
	plat_mutex_unlock(&net->lock);
	return l;
}

void unix_net_counters(struct unix_net *net, struct unix_counters *out)
{
	plat_mutex_lock(&net->lock);
	*out = net->cnt;	/* "socks": structures; "live": not yet released */
	out->blocked = net->wstats.blocked;
	out->kicks = net->wstats.kicks;
	out->wait_timeouts = net->wstats.timeouts;
	out->spin_wakes = net->wstats.spin_wakes;
	plat_mutex_unlock(&net->lock);
}

/* -------------------------------------------------------------- sleep --- */

/*
 * Sleep on @wq until woken: the one sleep of every blocking call of the net,
 * sockets' and pipes' (the pattern is sched/wait.h's).  Caller holds
 * net->lock, has checked its condition under it, and re-checks it
 * afterwards.  Returns 0, -EAGAIN at the deadline, -ERESTARTSYS/-EINTR when
 * a signal interrupts the sleep, or -ESHUTDOWN once the net is torn down.
 * net->sleepers counts it so that unix_net_shutdown() can wait for it to
 * leave.  @busy_poll_ns: the fixed spin (SO_BUSY_POLL).
 */
int __unix_net_sleep(struct unix_net *net, struct wait_queue_head *wq,
		     struct wait_ctl *ctl, int64_t busy_poll_ns, int exclusive)
{
	struct wait_spin_cfg spin = { busy_poll_ns, net->spin_max_ns };
	int err;

	if (net->dead)
		return -ESHUTDOWN;
	net->sleepers++;
	err = __wait_sleep(wq, &net->lock, ctl, &net->wstats, &spin, exclusive);
	net->sleepers--;
	if (net->dead) {
		if (!net->sleepers)
			plat_cond_broadcast(&net->idle);
		return -ESHUTDOWN;
	}
	return err;
}

static int __unix_sleep(struct unix_sock *sk, struct wait_queue_head *wq,
			struct wait_ctl *ctl, int exclusive)
{
	return __unix_net_sleep(sk->net, wq, ctl, sk->busy_poll_ns, exclusive);
}

/*
 * wait_event: sleep on @wq until @cond (checked under net->lock) holds.
 * @err is 0 then, else what ended the wait (see __unix_sleep).
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
 * A reader copying out of an skb still on a receive queue drops net->lock
 * for the copy.  unix_net_shutdown() purges every queue without the readers'
 * iolocks, so it must wait for such copies as it waits for sleepers: count
 * them in net->sleepers.  Call with net->lock held; it is held again after.
 */
static void __unix_copy_unlocked(struct unix_net *net, struct unix_msg *msg,
				 const unsigned char *src, size_t n)
{
	net->sleepers++;
	plat_mutex_unlock(&net->lock);
	msg_copy_to(msg, src, n);
	plat_mutex_lock(&net->lock);
	if (--net->sleepers == 0 && net->dead)
		plat_cond_broadcast(&net->idle);
}

/* ----------------------------------------------------------- refcounts --- */

static void unix_addr_put(struct unix_address *addr)
{
	if (addr && --addr->refcnt == 0)
		plat_free(addr);
}

static void __unix_destroy(struct unix_sock *sk)
{
	struct unix_net *net = sk->net;

	list_del_init(&sk->link);
	list_del_init(&sk->bind_link);	/* a collected socket was never released */
	unix_addr_put(sk->addr);
	net->cnt.socks--;
	if (!(sk->flags & UNIX_F_DEAD))
		net->cnt.live--;	/* an embryo purged at net shutdown, never released */
	plat_mutex_destroy(&sk->iolock);
	plat_free(sk);
}

/* Collector hooks (garbage.c): purge a dead cycle member's queue, free a socket. */
void __unix_gc_purge(struct unix_sock *sk)
{
	struct sk_buff *skb;

	/* Embryos of a listener in the cycle hold files too. */
	for (skb = skb_peek(&sk->receive_queue); skb;
	     skb = skb_peek_next(skb, &sk->receive_queue))
		if (sk->state == UNIX_LISTEN && skb->sk != sk)
			__unix_purge_queue(skb->sk);
	/*
	 * A listener's own queue holds only connection requests, no files;
	 * freeing them here would drop the embryos without releasing them
	 * (leaking each embryo's connector through its peer link).  They go
	 * with the listener's release, which the purge above leads to.
	 */
	if (sk->state != UNIX_LISTEN)
		__unix_purge_queue(sk);
}

void __unix_gc_free(struct unix_sock *sk)
{
	__unix_destroy(sk);
}

static inline void __sock_hold(struct unix_sock *sk)
{
	sk->refcnt++;
}

static inline void __sock_put(struct unix_sock *sk)
{
	if (--sk->refcnt == 0)
		__unix_destroy(sk);
}

void unix_sock_hold(struct unix_sock *sk)
{
	plat_mutex_lock(&sk->net->lock);
	__sock_hold(sk);
	plat_mutex_unlock(&sk->net->lock);
}

void unix_sock_put(struct unix_sock *sk)
{
	struct unix_net *net = sk->net;
	int free_net;

	plat_mutex_lock(&net->lock);
	__sock_put(sk);
	free_net = __unix_net_unused(net);
	plat_mutex_unlock(&net->lock);
	if (free_net)
		unix_net_free(net);
}

/* ---------------------------------------------------------------- scm --- */

struct scm_fp_list *scm_fp_alloc(int count)
{
	struct scm_fp_list *fpl;

	fpl = plat_zalloc(sizeof(*fpl) + (size_t)count * sizeof(struct scm_file));
	if (fpl)
		fpl->count = count;
	return fpl;
}

void scm_fp_free(struct scm_fp_list *fpl)
{
	plat_free(fpl);
}

/* The user table entry of @uid, made if @create; NULL if none (or no memory). */
static struct unix_user *__unix_user(struct unix_net *net, int32_t uid, int create)
{
	struct list_head *head = &net->users[(uint32_t)uid % UNIX_HASH_SIZE];
	struct list_head *pos;
	struct unix_user *u;

	list_for_each(pos, head) {
		u = list_entry(pos, struct unix_user, link);
		if (u->uid == uid)
			return u;
	}
	if (!create || !(u = plat_zalloc(sizeof(*u))))
		return NULL;
	u->uid = uid;
	list_add_tail(&u->link, head);
	return u;
}

/*
 * too_many_unix_fds: the sender's user already has more files in flight
 * than its RLIMIT_NOFILE, and no CAP_SYS_RESOURCE or CAP_SYS_ADMIN.  The
 * message's own files are not counted.
 */
static int __too_many_unix_fds(struct unix_net *net, const struct scm_fp_list *fpl)
{
	struct unix_user *u = __unix_user(net, fpl->user, 0);

	return u && u->inflight > fpl->user_nofile && !fpl->user_unlimited;
}

/* Files of @fpl enter flight (attached to an skb), charged to @u. */
static void __unix_inflight(struct unix_net *net, struct scm_fp_list *fpl, struct unix_user *u)
{
	int i;

	net->cnt.inflight += fpl->count;
	fpl->charged = u;
	u->inflight += fpl->count;
	for (i = 0; i < fpl->count; i++) {
		if (fpl->files[i].usk) {
			fpl->files[i].usk->inflight++;
			net->unix_tot_inflight++;
		}
	}
}

/* Files of @fpl leave flight (received, or their skb freed). */
static void __unix_notinflight(struct unix_net *net, struct scm_fp_list *fpl)
{
	struct unix_user *u = fpl->charged;
	int i;

	net->cnt.inflight -= fpl->count;
	fpl->charged = NULL;
	u->inflight -= fpl->count;
	if (!u->inflight) {
		list_del_init(&u->link);
		plat_free(u);
	}
	for (i = 0; i < fpl->count; i++) {
		if (fpl->files[i].usk) {
			fpl->files[i].usk->inflight--;
			net->unix_tot_inflight--;
		}
	}
}

int unix_users_inflight(struct unix_net *net, int32_t *uids, int64_t *counts, int max)
{
	struct list_head *pos;
	int i, n = 0;

	plat_mutex_lock(&net->lock);
	for (i = 0; i < UNIX_HASH_SIZE; i++) {
		list_for_each(pos, &net->users[i]) {
			struct unix_user *u = list_entry(pos, struct unix_user, link);

			if (n < max) {
				uids[n] = u->uid;
				counts[n] = u->inflight;
			}
			n++;
		}
	}
	plat_mutex_unlock(&net->lock);
	return n;
}

/* Hand the files of @fpl back to the embedder to drop after unlocking. */
static void __scm_fp_release(struct unix_net *net, struct scm_fp_list *fpl)
{
	fpl->next = net->released;
	net->released = fpl;
}

void unix_file_ref(struct unix_sock *sk, int delta)
{
	plat_mutex_lock(&sk->net->lock);
	sk->file_refs += delta;
	plat_mutex_unlock(&sk->net->lock);
}

/* ---------------------------------------------------------------- skbs --- */

static struct sk_buff *__unix_skb_new(struct unix_sock *owner, size_t len,
				      unsigned int truesize)
{
	struct sk_buff *skb = skb_alloc(len, truesize);

	if (!skb)
		return NULL;
	skb->sk = owner;
	__sock_hold(owner);
	owner->wmem_alloc += truesize;
	owner->net->cnt.skbs++;
	return skb;
}

/*
 * A stream skb of @len bytes, @data_len of them in page fragments on Linux
 * (alloc_skb_with_frags): with fragments, all its data live in pages of
 * the net's pool, so that splice can hand them to a pipe by reference
 * (skb_splice_bits).  The truesize is Linux's either way.
 */
static struct sk_buff *__unix_skb_new_paged(struct unix_sock *owner, size_t len,
					    size_t data_len, unsigned int truesize)
{
	struct sk_buff *skb;
	struct page_run *run;

	if (!data_len)
		return __unix_skb_new(owner, len, truesize);
	run = page_run_alloc(&owner->net->pool, PAGE_ALIGN(len) / PAGE_SZ, 0);
	if (!run)
		return NULL;
	skb = __unix_skb_new(owner, 0, truesize);
	if (!skb) {
		page_run_put(run);
		return NULL;
	}
	skb->len = (unsigned int)len;
	skb->pages = run;
	skb->data = run->mem;
	return skb;
}

static int unix_writable(const struct unix_sock *sk, int state)
{
	return state != UNIX_LISTEN && (sk->wmem_alloc << 2) <= sk->sndbuf;
}

/*
 * Free an skb: its files go to the release list (still in flight until the
 * embedder drops them), its truesize is returned to the sender, who may now
 * write again.
 */
static void __kfree_skb(struct sk_buff *skb)
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
	owner->wmem_alloc -= skb->truesize;
	if (unix_writable(owner, owner->state))		/* unix_write_space */
		__wake_up_poll(&owner->wq, POLLOUT | POLLWRNORM | POLLWRBAND);
	net->cnt.skbs--;
	__sock_put(owner);
	skb_free_mem(skb);
}

static void __unix_queue_skb(struct unix_sock *other, struct sk_buff *skb)
{
	__skb_queue_tail(&other->receive_queue, skb);
	other->net->cnt.bytes_queued += skb->len;
	if (other->state != UNIX_LISTEN) {	/* a message, not a connection request */
		skb->sk->msgs_sent++;
		other->msgs_received++;
	}
	if (skb->cb.fp)
		__unix_gc_queued(other, skb->cb.fp);
}

static void __unix_unlink_skb(struct unix_sock *sk, struct sk_buff *skb)
{
	sk->net->cnt.bytes_queued -= skb->len;
	__skb_unlink(skb, &sk->receive_queue);
	if (skb->sk->listener == sk)
		skb->sk->listener = NULL;	/* an embryo leaves its listener */
}

static void __unix_purge_queue(struct unix_sock *sk)
{
	struct sk_buff *skb;

	sk->oob_skb = NULL;		/* it is on the queue going away */
	while ((skb = skb_peek(&sk->receive_queue)) != NULL) {
		__unix_unlink_skb(sk, skb);
		__kfree_skb(skb);
	}
}

/* --------------------------------------------------------- msg cursor --- */

static size_t msg_total(const struct unix_msg *m)
{
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < m->iovlen; i++)
		n += m->iov[i].len;
	return n;
}

static size_t msg_left(const struct unix_msg *m)
{
	return msg_total(m) - m->done;
}

/* Copy @n bytes from the message cursor into @dst (send side). */
static void msg_copy_from(struct unix_msg *m, unsigned char *dst, size_t n)
{
	while (n) {
		struct unix_iov *v = &m->iov[m->iov_idx];
		size_t c = min_sz(n, v->len - m->iov_off);

		memcpy(dst, (unsigned char *)v->base + m->iov_off, c);
		dst += c;
		n -= c;
		m->done += c;
		m->iov_off += c;
		if (m->iov_off == v->len) {
			m->iov_idx++;
			m->iov_off = 0;
		}
	}
	/* Skip empty iovs so the cursor always points at room. */
	while (m->iov_idx < m->iovlen && m->iov[m->iov_idx].len == 0)
		m->iov_idx++;
}

/* Copy @n bytes from @src to the message cursor (receive side). */
static void msg_copy_to(struct unix_msg *m, const unsigned char *src, size_t n)
{
	while (n) {
		struct unix_iov *v;
		size_t c;

		while (m->iov[m->iov_idx].len == m->iov_off) {
			m->iov_idx++;
			m->iov_off = 0;
		}
		v = &m->iov[m->iov_idx];
		c = min_sz(n, v->len - m->iov_off);
		memcpy((unsigned char *)v->base + m->iov_off, src, c);
		src += c;
		n -= c;
		m->done += c;
		m->iov_off += c;
	}
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
	sk->refcnt = 1;		/* the file's reference, dropped by unix_release() */
	skb_queue_head_init(&sk->receive_queue);
	wq_init(&sk->wq);
	wq_init(&sk->peer_wait);
	plat_mutex_init(&sk->iolock);
	sk->sndbuf = net->sysctl.wmem_default;
	sk->rcvbuf = net->sysctl.rmem_default;
	sk->rcvtimeo = -1;
	sk->sndtimeo = -1;
	sk->rcvlowat = 1;
	sk->peek_off = -1;
	sk->max_ack_backlog = net->sysctl.max_dgram_qlen;
	sk->peercred.pid = 0;
	sk->peercred.uid = -1;
	sk->peercred.gid = -1;
	sk->busy_poll_ns = net->busy_poll_ns;
	INIT_LIST_HEAD(&sk->gc_link);
	INIT_LIST_HEAD(&sk->bind_link);
	list_add_tail(&sk->link, &net->socks);
	net->cnt.socks++;
	net->cnt.live++;
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
	if (!sk->ino)
		sk->ino = sk->net->next_ino++;
	plat_mutex_unlock(&sk->net->lock);
}

void unix_set_uid(struct unix_sock *sk, int32_t uid)
{
	plat_mutex_lock(&sk->net->lock);
	sk->uid = uid;
	plat_mutex_unlock(&sk->net->lock);
}

/* ------------------------------------------------------------ release --- */

static void __unix_dgram_peer_wake_disconnect(struct unix_sock *sk, struct unix_sock *other);
static void __unix_release_sock(struct unix_sock *sk, int embryo);

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
	return gc;
}

static void __unix_release_sock(struct unix_sock *sk, int embryo)
{
	struct unix_sock *skpair;
	struct sk_buff *skb;
	int state;

	if (!(sk->flags & UNIX_F_DEAD))
		sk->net->cnt.live--;
	list_del_init(&sk->bind_link);	/* unix_remove_socket: the name is free */
	sk->flags |= UNIX_F_DEAD;
	sk->shutdown = SHUTDOWN_MASK;
	state = sk->state;
	sk->state = UNIX_CLOSE;
	skpair = sk->peer;
	sk->peer = NULL;
	sk->oob_skb = NULL;

	__wake_up_all(&sk->peer_wait);
	__wake_up_all(&sk->wq);

	if (skpair) {
		if (sk->type == SOCK_STREAM || sk->type == SOCK_SEQPACKET) {
			/* Unread data resets the peer; an empty skb at the head (a
			 * consumed OOB byte, a zero-length record) is not data, as in
			 * Linux since "Don't set -ECONNRESET for consumed OOB skb". */
			struct sk_buff *head = skb_peek(&sk->receive_queue);

			if (head && head->len == head->cb.consumed)
				head = skb_peek_next(head, &sk->receive_queue);
			skpair->shutdown = SHUTDOWN_MASK;
			if (head || embryo)
				skpair->err = ECONNRESET;
			__wake_up_all(&skpair->wq);
		}
		__unix_dgram_peer_wake_disconnect(sk, skpair);
		__sock_put(skpair);
	}

	while ((skb = skb_peek(&sk->receive_queue)) != NULL) {
		__unix_unlink_skb(sk, skb);
		if (state == UNIX_LISTEN && skb->sk != sk) {
			/* An embryo has no file reference for the release to
			 * drop (the skb's is its own): give it one. */
			__sock_hold(skb->sk);
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

/* Bind @sk to the abstract @addr; caller holds net->lock and saw @sk unnamed. */
static void __unix_bind_abstract_name(struct unix_sock *sk, struct unix_address *addr)
{
	sk->addr = addr;
	list_add_tail(&sk->bind_link, &sk->net->abstract_names[
		unix_abstract_hash(addr->path, addr->len, sk->type)]);
}

/*
 * unix_autobind: a free abstract name of five hex digits, tried from a
 * random start on; -ENOSPC when every one is taken.  Nothing to do when
 * already bound.
 */
static int __unix_autobind(struct unix_sock *sk)
{
	struct unix_net *net = sk->net;
	struct unix_address *addr;
	uint32_t ordernum, lastnum;
	static const char hex[] = "0123456789abcdef";
	int i;

	if (sk->addr)
		return 0;
	addr = unix_create_addr("\0", 1);	/* NUL + 5 hex digits */
	if (!addr)
		return -ENOMEM;
	addr->len = 1 + UNIX_AUTOBIND_DIGITS;
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
			plat_free(addr);
			return -ENOSPC;
		}
	}
	__unix_bind_abstract_name(sk, addr);
	return 0;
}

/* An unnamed socket with SO_PASSCRED autobinds before it connects or sends. */
static int unix_passcred_autobind(struct unix_sock *sk)
{
	int err = 0;

	plat_mutex_lock(&sk->net->lock);
	if ((sk->flags & UNIX_F_PASSCRED) && !sk->addr)
		err = __unix_autobind(sk);
	plat_mutex_unlock(&sk->net->lock);
	return err;
}

/* unix_bind_abstract: EINVAL when bound, EADDRINUSE when the name is taken. */
static int unix_bind_abstract(struct unix_sock *sk, const void *path, unsigned int len)
{
	struct unix_address *addr = unix_create_addr(path, len);
	int err = 0;

	if (!addr)
		return -ENOMEM;
	plat_mutex_lock(&sk->net->lock);
	if (sk->addr)
		err = -EINVAL;
	else if (__unix_find_abstract(sk->net, addr->path, len, sk->type))
		err = -EADDRINUSE;
	else
		__unix_bind_abstract_name(sk, addr);
	plat_mutex_unlock(&sk->net->lock);
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
	plat_mutex_lock(&sk->net->lock);
	if (sk->addr) {
		plat_mutex_unlock(&sk->net->lock);
		host->unlink_bsd(task, (const char *)addr->path);
		err = -EINVAL;
		goto out;
	}
	addr->has_vfs = 1;
	addr->vfs_dev = dev;
	addr->vfs_ino = ino;
	sk->addr = addr;
	list_add_tail(&sk->bind_link, &sk->net->bsd_names[unix_bsd_hash(dev, ino)]);
	plat_mutex_unlock(&sk->net->lock);
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
		plat_mutex_lock(&sk->net->lock);
		err = __unix_autobind(sk);
		plat_mutex_unlock(&sk->net->lock);
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
static int unix_find_other(void *task, struct unix_net *net, const unsigned char *name,
			   unsigned int len, int type, struct unix_sock **out)
{
	struct unix_sock *other;
	char path[UNIX_PATH_MAX + 1];
	unsigned int plen = 0;
	uint32_t dev;
	uint64_t ino;
	int err;

	if (!name[0]) {
		plat_mutex_lock(&net->lock);
		other = __unix_find_abstract(net, name, len, type);
		if (other)
			__sock_hold(other);
		plat_mutex_unlock(&net->lock);
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
	plat_mutex_lock(&net->lock);
	other = __unix_find_bsd(net, dev, ino);
	if (!other)
		err = -ECONNREFUSED;
	else if (other->type != type)
		err = -EPROTOTYPE;
	else
		__sock_hold(other);
	plat_mutex_unlock(&net->lock);
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

	plat_mutex_lock(&sk->net->lock);
	if (peer) {
		s = sk->peer;
		if (!s) {
			err = -ENOTCONN;
			goto out;
		}
	}
	__unix_copy_name(s->addr, path, len);
out:
	plat_mutex_unlock(&sk->net->lock);
	return err;
}

/* ------------------------------------------------------ listen/accept --- */

static int unix_no_listen(struct unix_sock *sk, int backlog, const struct unix_cred *cred)
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

static int unix_stream_listen(struct unix_sock *sk, int backlog, const struct unix_cred *cred)
{
	int err = -EINVAL;

	plat_mutex_lock(&sk->net->lock);
	if (!sk->addr)
		goto out;	/* no listens on an unbound socket */
	if (sk->state != UNIX_CLOSE && sk->state != UNIX_LISTEN)
		goto out;
	if ((unsigned int)backlog > (unsigned int)sk->net->sysctl.somaxconn)
		backlog = sk->net->sysctl.somaxconn;
	if (backlog > sk->max_ack_backlog)
		__wake_up_all(&sk->peer_wait);
	sk->max_ack_backlog = backlog;
	sk->state = UNIX_LISTEN;
	sk->peercred = *cred;	/* so connect can copy them */
	err = 0;
out:
	plat_mutex_unlock(&sk->net->lock);
	return err;
}

int unix_listen(struct unix_sock *sk, int backlog, const struct unix_cred *cred)
{
	return sk->ops->listen(sk, backlog, cred);
}

static int unix_recvq_full(const struct unix_sock *sk)
{
	return (int)sk->receive_queue.qlen > sk->max_ack_backlog;
}

static int unix_stream_accept(struct unix_sock *sk, struct unix_sock **newsk, int flags,
			      struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	struct sk_buff *skb;
	int err;

	plat_mutex_lock(&net->lock);
	if (sk->state != UNIX_LISTEN) {
		err = -EINVAL;
		goto out;
	}
	wait_ctl_begin(ctl, (flags & MSG_DONTWAIT) ? 0 : sk->rcvtimeo);
	for (;;) {
		if (sk->err) {
			err = -sk->err;
			sk->err = 0;
			goto out;
		}
		skb = skb_peek(&sk->receive_queue);
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
	__unix_unlink_skb(sk, skb);
	*newsk = skb->sk;
	__sock_hold(skb->sk);		/* the new file's reference */
	__kfree_skb(skb);
	__wake_up(&sk->peer_wait, 1);
	err = 0;
out:
	plat_mutex_unlock(&net->lock);
	return err;
}

int unix_accept(struct unix_sock *sk, struct unix_sock **newsk, int flags,
		struct wait_ctl *ctl)
{
	return sk->ops->accept(sk, newsk, flags, ctl);
}

/* ------------------------------------------------------------ connect --- */

static int unix_stream_connect(struct unix_sock *sk, struct unix_sock *other,
			       const struct unix_cred *cred, int flags, struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	struct unix_sock *newsk;
	struct sk_buff *skb;
	int err;

	if (!other)
		return -EINVAL;		/* AF_UNSPEC: not a valid AF_UNIX address */

	plat_mutex_lock(&net->lock);
	wait_ctl_begin(ctl, (flags & MSG_DONTWAIT) ? 0 : sk->sndtimeo);
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
	if (sk->state != UNIX_CLOSE) {
		err = sk->state == UNIX_ESTABLISHED ? -EISCONN : -EINVAL;
		goto out;
	}

	newsk = __unix_create1(net, sk->type);
	if (!newsk) {
		err = -ENOMEM;
		goto out;
	}
	skb = __unix_skb_new(newsk, 0, skb_truesize(1, 0));
	if (!skb) {
		__unix_release_sock(newsk, 0);
		err = -ENOMEM;
		goto out;
	}

	/* The way is open: the embryo's peer is us, ours the embryo. */
	__sock_hold(sk);
	newsk->peer = sk;
	newsk->state = UNIX_ESTABLISHED;
	newsk->peercred = *cred;
	newsk->flags |= other->flags & UNIX_F_SCM_INHERIT;	/* as of connect(), not accept() */
	if (other->addr) {
		other->addr->refcnt++;
		newsk->addr = other->addr;
	}
	sk->peercred = other->peercred;
	sk->state = UNIX_ESTABLISHED;
	__sock_hold(newsk);
	sk->peer = newsk;

	newsk->listener = other;
	__unix_queue_skb(other, skb);
	__wake_up(&other->wq, 1);
	__wake_up_all(&other->wq);	/* pollers of the listener */
	/* The embryo's only reference until accept is the queued skb's. */
	newsk->refcnt--;
	err = 0;
out:
	plat_mutex_unlock(&net->lock);
	return err;
}

/* Dgram: drop a dissolved association's leftovers from the receive queue. */
static void __unix_dgram_disconnected(struct unix_sock *sk, struct unix_sock *other)
{
	if (!skb_queue_empty(&sk->receive_queue)) {
		__unix_purge_queue(sk);
		__wake_up_all(&sk->peer_wait);
		if (!(other->flags & UNIX_F_DEAD) && other->peer == sk) {
			other->err = ECONNRESET;
			__wake_up_all(&other->wq);
		}
	}
}

static int unix_dgram_connect(struct unix_sock *sk, struct unix_sock *other,
			      const struct unix_cred *cred, int flags, struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	struct unix_sock *old_peer;
	int err = 0;

	(void)cred; (void)flags; (void)ctl;
	/* Purging our queue may free skbs a reader is copying from: take iolock. */
	plat_mutex_lock(&sk->iolock);
	plat_mutex_lock(&net->lock);
	if (other) {
		if ((other->flags & UNIX_F_DEAD) || other->type != sk->type) {
			err = -ECONNREFUSED;
			goto out;
		}
		if (other->peer && other->peer != sk) {
			err = -EPERM;	/* unix_may_send */
			goto out;
		}
		sk->state = UNIX_ESTABLISHED;
		other->state = UNIX_ESTABLISHED;
		__sock_hold(other);
	}
	old_peer = sk->peer;
	sk->peer = other;
	if (old_peer) {
		if (!other)
			sk->state = UNIX_CLOSE;
		__unix_dgram_peer_wake_disconnect(sk, old_peer);
		__wake_up_all(&sk->wq);
		if (other != old_peer) {
			__unix_dgram_disconnected(sk, old_peer);
			if (!old_peer->peer)
				old_peer->state = UNIX_CLOSE;
		}
		__sock_put(old_peer);
	}
out:
	plat_mutex_unlock(&net->lock);
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
		 const struct unix_cred *cred, int flags, struct wait_ctl *ctl)
{
	struct unix_sock *other;
	int err;

	if (!path)
		return sk->ops->connect(sk, NULL, cred, flags, ctl);
	if (len == 0 || len > UNIX_PATH_MAX)
		return -EINVAL;
	err = unix_passcred_autobind(sk);
	if (err)
		return err;
	err = unix_find_other(task, sk->net, path, len, sk->type, &other);
	if (err)
		return err;
	err = sk->ops->connect(sk, other, cred, flags, ctl);
	unix_sock_put(other);
	return err;
}

int unix_socketpair(struct unix_sock *a, struct unix_sock *b, const struct unix_cred *cred)
{
	plat_mutex_lock(&a->net->lock);
	__sock_hold(a);
	__sock_hold(b);
	a->peer = b;
	b->peer = a;
	a->peercred = *cred;
	b->peercred = *cred;
	a->state = UNIX_ESTABLISHED;
	b->state = UNIX_ESTABLISHED;
	plat_mutex_unlock(&a->net->lock);
	return 0;
}

/* ------------------------------------------------- dgram peer wake relay --- */

/*
 * A connected datagram sender that found its peer's queue full parks itself
 * on the peer's peer_wait (Linux's peer_wake relay); a reader of the peer
 * wakes it.  In this implementation a sleeper waits on the peer's peer_wait
 * directly, and poll registers there too, so the relay is the wait queue
 * itself: nothing to disconnect.
 */
static void __unix_dgram_peer_wake_disconnect(struct unix_sock *sk, struct unix_sock *other)
{
	(void)other;
	__wake_up_all(&sk->wq);
}

/* ---------------------------------------------------------------- send --- */

/*
 * scm_check_creds: SCM_CREDENTIALS may claim the sender's own pid (any pid
 * with CAP_SYS_ADMIN), one of its uids (any with CAP_SETUID) and one of its
 * gids (any with CAP_SETGID); an id of -1 is EINVAL, the rest EPERM.
 */
static int scm_check_creds(const struct unix_cred *c, const struct unix_task_cred *me)
{
	if (c->uid == -1 || c->gid == -1)
		return -EINVAL;
	if ((c->pid == me->pid || (me->caps & UNIX_CAP_SYS_ADMIN)) &&
	    (c->uid == me->uid || c->uid == me->euid || c->uid == me->suid ||
	     (me->caps & UNIX_CAP_SETUID)) &&
	    (c->gid == me->gid || c->gid == me->egid || c->gid == me->sgid ||
	     (me->caps & UNIX_CAP_SETGID)))
		return 0;
	return -EPERM;
}

/* Walking a control buffer: where the next message starts, what is left. */
struct cmsg_iter {
	const unsigned char *p;
	size_t left;
};

/*
 * The next control message: 1 with its header in @h and its data at
 * *@data (*@dlen bytes), 0 at the end, -EINVAL for a malformed header
 * (CMSG_OK).  Trailing bytes shorter than a header end the buffer.
 */
static int cmsg_next(struct cmsg_iter *it, struct unix_cmsghdr *h,
		     const unsigned char **data, size_t *dlen)
{
	size_t step;

	if (it->left < sizeof(*h))
		return 0;
	memcpy(h, it->p, sizeof(*h));
	if (h->cmsg_len < sizeof(*h) || h->cmsg_len > it->left)
		return -EINVAL;
	*data = it->p + sizeof(*h);
	*dlen = h->cmsg_len - sizeof(*h);
	step = UNIX_CMSG_ALIGN(h->cmsg_len);
	if (step >= it->left) {
		it->left = 0;
	} else {
		it->p += step;
		it->left -= step;
	}
	return 1;
}

/*
 * scm_fp_copy: the @num fds at @fds join @msg->fp (room for @room files),
 * each a reference the embedder takes (fget_raw).  EINVAL past
 * SCM_MAX_FD in all; EBADF for a negative fd or one not open (the files
 * taken so far stay in @msg->fp, for unix_scm_destroy).
 */
static int scm_fp_copy(void *task, const struct unix_host_ops *host, struct unix_msg *msg,
		       const unsigned char *fds, int num, int room)
{
	struct scm_fp_list *fpl = msg->fp;
	int i, err;

	if (num <= 0)
		return 0;
	if (num > SCM_MAX_FD)
		return -EINVAL;
	if (!fpl) {
		fpl = scm_fp_alloc(room);
		if (!fpl)
			return -ENOMEM;
		fpl->count = 0;
		msg->fp = fpl;
	}
	if (fpl->count + num > SCM_MAX_FD)
		return -EINVAL;
	for (i = 0; i < num; i++) {
		int32_t fd;
		struct scm_file *f = &fpl->files[fpl->count];

		memcpy(&fd, fds + (size_t)i * sizeof(fd), sizeof(fd));
		if (fd < 0)
			return -EBADF;
		err = host->fget(task, fd, &f->file, &f->usk);
		if (err)
			return err;
		fpl->count++;
	}
	return 0;
}

/*
 * __scm_send: parse the control messages, once per call (the first attempt
 * consumes msg->control).  A malformed header, an unknown SOL_SOCKET type
 * or a malformed ucred is EINVAL; other levels are skipped.  SCM_RIGHTS
 * takes references to the files (scm_fp_copy); SCM_CREDENTIALS is checked
 * (scm_check_creds, then ESRCH for a pid naming no process).  The files
 * are charged to the caller's real uid, and its limit noted for
 * too_many_unix_fds.  Called with no lock held.
 */
static int __scm_send(void *task, struct unix_net *net, struct unix_msg *msg)
{
	const struct unix_host_ops *host = net->host;
	struct cmsg_iter it = { msg->control, msg->controllen };
	struct unix_cmsghdr h;
	const unsigned char *data;
	struct unix_task_cred me;
	size_t dlen;
	int have_me = 0, room = 0, err;

	/* the files to make room for: at most SCM_MAX_FD, else EINVAL below */
	while (cmsg_next(&it, &h, &data, &dlen) > 0)
		if (h.cmsg_level == SOL_SOCKET && h.cmsg_type == SCM_RIGHTS)
			room += (int)min_sz(dlen / sizeof(int32_t), SCM_MAX_FD);
	room = room < SCM_MAX_FD ? room : SCM_MAX_FD;

	it.p = msg->control;
	it.left = msg->controllen;
	msg->control = NULL;
	msg->controllen = 0;
	while ((err = cmsg_next(&it, &h, &data, &dlen)) > 0) {
		if (h.cmsg_level != SOL_SOCKET)
			continue;
		if (!host)
			return -EINVAL;
		if (!have_me && (h.cmsg_type == SCM_RIGHTS || h.cmsg_type == SCM_CREDENTIALS)) {
			err = host->cred(task, &me);
			if (err)
				return err;
			have_me = 1;
		}
		switch (h.cmsg_type) {
		case SCM_RIGHTS:
			err = scm_fp_copy(task, host, msg, data, (int)(dlen / sizeof(int32_t)), room);
			break;
		case SCM_CREDENTIALS:
			if (dlen != sizeof(struct unix_cred))
				return -EINVAL;
			memcpy(&msg->creds, data, sizeof(msg->creds));
			err = scm_check_creds(&msg->creds, &me);
			if (!err && msg->creds.pid != me.pid && !host->pid_exists(task, msg->creds.pid))
				err = -ESRCH;
			msg->has_creds = !err;
			break;
		default:
			err = -EINVAL;
		}
		if (err)
			return err;
	}
	if (err)
		return err;		/* a malformed header */
	if (msg->fp && !msg->fp->count) {
		scm_fp_free(msg->fp);
		msg->fp = NULL;
	}
	if (msg->fp) {
		msg->fp->user = me.uid;
		msg->fp->user_nofile = me.rlimit_nofile;
		msg->fp->user_unlimited = !!(me.caps & (UNIX_CAP_SYS_RESOURCE | UNIX_CAP_SYS_ADMIN));
	}
	return 0;
}

/* A send's scm_send, first thing; a zero-copy send carries no control data. */
static int unix_scm_send(void *task, struct unix_net *net, struct unix_msg *msg)
{
	int err;

	if (msg->control) {
		err = __scm_send(task, net, msg);
		if (err)
			return err;
	}
	if (msg->pages && (msg->fp || msg->has_creds))
		return -EINVAL;
	return 0;
}

/* scm_destroy: the files of a message that was not sent go back, unlocked. */
void unix_scm_destroy(struct unix_net *net, struct unix_msg *msg)
{
	struct scm_fp_list *fpl = msg->fp;
	int i;

	if (!fpl)
		return;
	msg->fp = NULL;
	for (i = 0; i < fpl->count; i++)
		net->host->fput(fpl->files[i].file);
	scm_fp_free(fpl);
}

/* What a stream send that stopped on @err returns: what it queued, if any. */
static ssize_t unix_no_sendmsg_result(struct unix_msg *msg, int err)
{
	return msg->done ? (ssize_t)msg->done : err;
}

/*
 * sock_alloc_send_pskb's wait for send-buffer space, as Linux's
 * sock_wait_for_wmem: a pending error, SEND_SHUTDOWN, or room
 * (wmem_alloc < sndbuf), re-checked each time the socket's wait queue is
 * woken -- and skb frees wake it only once the socket is writable
 * (wmem <= sndbuf / 4, unix_write_space), so a blocked sender stays asleep
 * until the reader has drained three quarters.  Caller holds net->lock.
 */
static int __unix_wait_wmem(struct unix_sock *sk, struct wait_ctl *ctl)
{
	int err;

	for (;;) {
		if (sk->err) {
			err = -sk->err;
			sk->err = 0;
			return err;
		}
		if (sk->shutdown & SEND_SHUTDOWN)
			return -EPIPE;
		if (sk->wmem_alloc < sk->sndbuf)
			return 0;
		err = __unix_sleep(sk, &sk->wq, ctl, 0);
		if (err)
			return err;
	}
}

/* Credentials the skb carries (maybe_add_creds / unix_scm_to_skb). */
static void __unix_skb_creds(struct sk_buff *skb, const struct unix_msg *msg,
			     const struct unix_sock *sk, const struct unix_sock *other)
{
	if (msg->has_creds) {
		skb->cb.cred = msg->creds;
		return;
	}
	if ((sk->flags & UNIX_F_PASSCRED) || (other->flags & UNIX_F_PASSCRED) ||
	    (other->flags & UNIX_F_DEAD))
		skb->cb.cred = msg->cur;
}

/*
 * unix_attach_fds: the files go on @skb, charged to the sender's user --
 * or ETOOMANYREFS when that user is over its limit (too_many_unix_fds).
 */
static int __unix_attach_fds(struct sk_buff *skb, struct unix_msg *msg)
{
	struct unix_net *net = skb->sk->net;
	struct unix_user *u;

	if (msg->fp) {
		if (__too_many_unix_fds(net, msg->fp))
			return -ETOOMANYREFS;
		u = __unix_user(net, msg->fp->user, 1);
		if (!u)
			return -ENOMEM;
		skb->cb.fp = msg->fp;
		msg->fp = NULL;
		__unix_inflight(net, skb->cb.fp, u);
	}
	return 0;
}

/* An skb that will not be queued gives its files back to the message. */
static void __unix_unattach_fds(struct sk_buff *skb, struct unix_msg *msg)
{
	if (skb->cb.fp) {
		__unix_notinflight(skb->sk->net, skb->cb.fp);
		msg->fp = skb->cb.fp;
		skb->cb.fp = NULL;
	}
}

/* Move the message cursor back by @n bytes. */
static void msg_rewind(struct unix_msg *m, size_t n)
{
	m->done -= n;
	while (n) {
		size_t c;

		if (m->iov_off == 0) {
			m->iov_idx--;
			m->iov_off = m->iov[m->iov_idx].len;
			continue;
		}
		c = min_sz(n, m->iov_off);
		m->iov_off -= c;
		n -= c;
	}
}

/* Advance the message cursor by @n bytes without copying (zero-copy send). */
static void msg_advance(struct unix_msg *m, size_t n)
{
	while (n) {
		struct unix_iov *v = &m->iov[m->iov_idx];
		size_t c = min_sz(n, v->len - m->iov_off);

		n -= c;
		m->done += c;
		m->iov_off += c;
		if (m->iov_off == v->len) {
			m->iov_idx++;
			m->iov_off = 0;
		}
	}
}

/*
 * An skb whose data are @msg's pages themselves: the zero-copy handoff.  The
 * skb holds a page reference.  Its truesize is the skb alone: the pages are
 * the sender's memory, accounted by the page pool (as Linux charges pinned
 * MSG_ZEROCOPY pages to the user's locked memory, not the socket buffer).
 */
static struct sk_buff *__unix_page_skb(struct unix_sock *sk, struct unix_msg *msg, size_t len)
{
	struct sk_buff *skb = __unix_skb_new(sk, 0, skb_truesize(0, 0));

	if (!skb)
		return NULL;
	skb->len = (unsigned int)len;
	skb->data = (unsigned char *)msg->iov[0].base;
	skb->pages = msg->pages;
	page_run_get(msg->pages);
	msg_advance(msg, len);
	sk->bytes_zerocopy += (int64_t)len;
	sk->net->cnt.bytes_zerocopy += (int64_t)len;
	return skb;
}

/* @n payload bytes memcpy'd by @sk's send (@out 0) or receive (@out 1). */
static void __unix_account_copy(struct unix_sock *sk, size_t n, int out)
{
	sk->bytes_copied += (int64_t)n;
	if (out)
		sk->bytes_copied_out += (int64_t)n;
	sk->net->cnt.bytes_copied += (int64_t)n;
}

/*
 * Queue a filled stream skb of @size bytes on @other -- as its out-of-band
 * mark when @oob -- or, when @other can no longer read (EPIPE) or refuses
 * files (SO_PASSRIGHTS off: EPERM), give its bytes and files back to @msg
 * and free it.  A data skb's EPIPE raises SIGPIPE if nothing was sent yet
 * (unless MSG_NOSIGNAL); Linux's queue_oob raises none.
 */
static int __unix_stream_queue(struct unix_sock *sk, struct unix_sock *other,
			       struct sk_buff *skb, struct unix_msg *msg, size_t size,
			       int oob)
{
	int err;

	if ((other->flags & UNIX_F_DEAD) || (other->shutdown & RCV_SHUTDOWN)) {
		err = -EPIPE;
		goto unwind;
	}
	if (skb->cb.fp && (other->flags & UNIX_F_NOPASSRIGHTS)) {
		err = -EPERM;
		goto unwind;
	}
	__unix_skb_creds(skb, msg, sk, other);
	if (oob) {
		/* a mark not yet read becomes ordinary data ("ex-OOB") */
		other->oob_skb = skb;
		msg->urg = other->owner;	/* sk_send_sigurg, by the caller */
	}
	__unix_queue_skb(other, skb);
	__wake_up_all(&other->wq);
	return 0;

unwind:
	msg_rewind(msg, size);
	__unix_unattach_fds(skb, msg);
	__kfree_skb(skb);
	if (err == -EPIPE && !oob && !msg->done && !(msg->flags & MSG_NOSIGNAL))
		msg->sigpipe = 1;
	return err;
}

/*
 * queue_oob: the last byte of a MSG_OOB send, alone in an skb, becomes
 * @other's out-of-band mark.  The skb carries the files only if no data skb
 * did.  On success @msg->urg names the receiving file's owner, to whom the
 * caller sends SIGURG.
 */
static int __unix_queue_oob(struct unix_sock *sk, struct unix_sock *other,
			    struct unix_msg *msg, struct wait_ctl *ctl)
{
	struct sk_buff *skb;
	int err;

	err = __unix_wait_wmem(sk, ctl);
	if (err)
		return err;
	skb = __unix_skb_new(sk, 1, skb_truesize(1, 0));
	if (!skb)
		return -ENOMEM;
	err = __unix_attach_fds(skb, msg);
	if (err) {
		__kfree_skb(skb);
		return err;
	}
	msg_copy_from(msg, skb->data, 1);
	__unix_account_copy(sk, 1, 0);
	return __unix_stream_queue(sk, other, skb, msg, 1, 1);
}

static ssize_t unix_stream_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
				   struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	struct unix_sock *other;
	struct sk_buff *skb;
	size_t len = msg_total(msg);
	int oob = msg->flags & MSG_OOB;
	int err;

	err = unix_scm_send(task, net, msg);
	if (err)
		return err;
	if (oob) {
		if (!len)
			return -EOPNOTSUPP;
		len--;		/* the last byte goes out of band, after the rest */
	}

	plat_mutex_lock(&net->lock);
	if (msg->name) {
		err = sk->state == UNIX_ESTABLISHED ? -EISCONN : -EOPNOTSUPP;
		goto out_err;
	}
	other = sk->peer;
	if (!other) {
		err = -ENOTCONN;
		goto out_err;
	}
	if (sk->shutdown & SEND_SHUTDOWN) {
		if (!(msg->flags & MSG_NOSIGNAL))
			msg->sigpipe = 1;
		err = -EPIPE;
		goto out_err;
	}
	wait_ctl_begin(ctl, (msg->flags & MSG_DONTWAIT) ? 0 : sk->sndtimeo);

	if (msg->pages && msg->done < len) {
		err = __unix_wait_wmem(sk, ctl);
		if (err)
			goto out_err;
		skb = __unix_page_skb(sk, msg, len);
		if (!skb) {
			err = -ENOMEM;
			goto out_err;
		}
		err = __unix_stream_queue(sk, other, skb, msg, len, 0);
		if (err)
			goto out_err;
	}

	while (msg->done < len) {
		size_t size = len - msg->done, data_len, copy_now;
		unsigned int truesize;

		size = min_sz(size, (size_t)((sk->sndbuf >> 1) - 64));
		size = min_sz(size, SKB_MAX_HEAD0 + UNIX_SKB_FRAGS_SZ);
		data_len = size > SKB_MAX_HEAD0 ? size - SKB_MAX_HEAD0 : 0;
		data_len = min_sz(size, PAGE_ALIGN(data_len));
		truesize = skb_truesize(size - data_len, data_len);

		err = __unix_wait_wmem(sk, ctl);
		if (err)
			goto out_err;
		skb = __unix_skb_new_paged(sk, size, data_len, truesize);
		if (!skb) {
			err = -ENOMEM;
			goto out_err;
		}
		/* Only the first skb carries the files. */
		err = __unix_attach_fds(skb, msg);
		if (err) {
			__kfree_skb(skb);
			goto out_err;
		}

		copy_now = size;
		if (size >= COPY_UNLOCKED_MIN) {
			plat_mutex_unlock(&net->lock);
			msg_copy_from(msg, skb->data, size);
			plat_mutex_lock(&net->lock);
		} else {
			msg_copy_from(msg, skb->data, size);
		}
		__unix_account_copy(sk, copy_now, 0);

		err = __unix_stream_queue(sk, other, skb, msg, size, 0);
		if (err)
			goto out_err;
	}
	if (oob && msg->done == len) {
		err = __unix_queue_oob(sk, other, msg, ctl);
		if (err)
			goto out_err;
	}
	plat_mutex_unlock(&net->lock);
	return (ssize_t)msg->done;

out_err:
	plat_mutex_unlock(&net->lock);
	return unix_no_sendmsg_result(msg, err);
}


/*
 * Datagram and seqpacket send, to msg->name (a sendto()) or to the peer.
 */
static ssize_t unix_dgram_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
				  struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	struct unix_sock *other = NULL;
	struct sk_buff *skb = NULL;
	size_t len = msg_total(msg), data_len = 0;
	int err;

	err = unix_scm_send(task, net, msg);
	if (err)
		return err;
	if (msg->flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (msg->name && (!msg->namelen || msg->namelen > UNIX_PATH_MAX))
		return -EINVAL;		/* unix_validate_addr */

	/*
	 * Linux's order: autobind (SO_PASSCRED, unnamed, and somewhere to
	 * send: a name or a peer); the size; then sock_alloc_send_pskb's
	 * pending error, SEND_SHUTDOWN (EPIPE) and wait for room
	 * (__unix_wait_wmem); the files (ETOOMANYREFS) and the copy; only then
	 * the destination -- the peer (ENOTCONN), or the name, looked up with
	 * the lock dropped (unix_find_other).
	 */
	plat_mutex_lock(&net->lock);
	if ((sk->flags & UNIX_F_PASSCRED) && !sk->addr && (msg->name || sk->peer)) {
		err = __unix_autobind(sk);
		if (err)
			goto out;
	}
	if (len > (size_t)(sk->sndbuf - 32)) {
		err = -EMSGSIZE;
		goto out;
	}
	if (len > SKB_MAX_ALLOC) {
		data_len = min_sz(len - SKB_MAX_ALLOC, MAX_SKB_FRAGS * PAGE_SZ);
		data_len = PAGE_ALIGN(data_len);
	}
	wait_ctl_begin(ctl, (msg->flags & MSG_DONTWAIT) ? 0 : sk->sndtimeo);
	err = __unix_wait_wmem(sk, ctl);
	if (err)
		goto out;
	if (msg->pages) {
		skb = __unix_page_skb(sk, msg, len);
		if (!skb) {
			err = -ENOMEM;
			goto out;
		}
	} else {
		skb = __unix_skb_new(sk, len, skb_truesize(len - data_len, data_len));
	}
	if (!skb) {
		err = -ENOMEM;
		goto out;
	}
	err = __unix_attach_fds(skb, msg);
	if (err) {
		__kfree_skb(skb);	/* nothing copied yet */
		goto out;
	}
	if (skb->pages) {
		/* handed over: nothing to copy */
	} else if (len >= COPY_UNLOCKED_MIN) {
		plat_mutex_unlock(&net->lock);
		msg_copy_from(msg, skb->data, len);
		plat_mutex_lock(&net->lock);
	} else {
		msg_copy_from(msg, skb->data, len);
	}
	if (!skb->pages)
		__unix_account_copy(sk, len, 0);

	/*
	 * @other is held (unix_find_other's reference, or unix_peer_get's)
	 * until the call returns: a sleep below queues us on its peer_wait,
	 * and the peer link alone may go -- a connect() elsewhere then a
	 * close() of the peer -- before we wake and leave that queue.
	 */
	if (msg->name) {
		plat_mutex_unlock(&net->lock);
		err = unix_find_other(task, net, msg->name, msg->namelen, sk->type, &other);
		plat_mutex_lock(&net->lock);
		if (err)
			goto out_free;
	} else if (!(other = sk->peer)) {
		err = -ENOTCONN;
		goto out_free;
	} else {
		__sock_hold(other);
	}
	if (msg->drop) {
		/* lost on the way (fault injection): its files never reach a
		 * queue, so they go back to the caller to release */
		__unix_unattach_fds(skb, msg);
		__kfree_skb(skb);
		err = (int)len;
		goto out;
	}
restart:
	if (!other) {
		err = -ECONNRESET;	/* the association went while we slept */
		goto out_free;
	}
	if (other->type != sk->type) {
		err = -EPROTOTYPE;
		goto out_free;
	}
	if (other->peer && other->peer != sk) {
		err = -EPERM;		/* unix_may_send */
		goto out_free;
	}
	if (other->flags & UNIX_F_DEAD) {
		if (sk->type == SOCK_SEQPACKET) {
			err = -EPIPE;
		} else if (sk->peer == other) {
			sk->peer = NULL;
			__unix_dgram_peer_wake_disconnect(sk, other);
			sk->state = UNIX_CLOSE;
			__unix_dgram_disconnected(sk, other);
			__sock_put(other);
			err = -ECONNREFUSED;
		} else {
			/* Sent by name to a socket that died: the name is gone too. */
			err = -ECONNREFUSED;
		}
		goto out_free;
	}
	if (other->shutdown & RCV_SHUTDOWN) {
		err = -EPIPE;
		goto out_free;
	}
	if (skb->cb.fp && (other->flags & UNIX_F_NOPASSRIGHTS)) {
		err = -EPERM;
		goto out_free;
	}
	if (other != sk && other->peer != sk && unix_recvq_full(other)) {
		err = __unix_sleep(other, &other->peer_wait, ctl, 1);
		if (err)
			goto out_free;
		if (!msg->name && other != sk->peer) {
			/* our association changed while we slept: use the new peer */
			__sock_put(other);
			other = sk->peer;
			if (other)
				__sock_hold(other);
		}
		goto restart;
	}
	__unix_skb_creds(skb, msg, sk, other);
	__unix_queue_skb(other, skb);
	__wake_up_all(&other->wq);
	err = (int)len;
	goto out;

out_free:
	msg_rewind(msg, len);
	__unix_unattach_fds(skb, msg);
	__kfree_skb(skb);
out:
	if (other)
		__sock_put(other);
	plat_mutex_unlock(&net->lock);
	return err;
}

static ssize_t unix_seqpacket_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
				      struct wait_ctl *ctl)
{
	int err;

	msg->name = NULL;	/* an address is ignored on a seqpacket socket */
	plat_mutex_lock(&sk->net->lock);
	err = sk->err;
	sk->err = 0;
	if (!err && sk->state != UNIX_ESTABLISHED)
		err = ENOTCONN;
	plat_mutex_unlock(&sk->net->lock);
	if (err)
		return -err;
	/*
	 * Linux's seqpacket send is the dgram one: its EPIPE (peer gone or
	 * shut down) comes from sock_alloc_send_pskb/unix_dgram_sendmsg and,
	 * unlike stream's, raises no SIGPIPE.
	 */
	return unix_dgram_sendmsg(task, sk, msg, ctl);
}

ssize_t unix_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
		     struct wait_ctl *ctl)
{
	return sk->ops->sendmsg(task, sk, msg, ctl);
}

/* ---------------------------------------------------------------- recv --- */

static unsigned int unix_skb_len(const struct sk_buff *skb)
{
	return skb->len - skb->cb.consumed;
}

static int unix_skb_scm_eq(const struct sk_buff *skb, const struct unix_cred *c)
{
	return skb->cb.cred.pid == c->pid && skb->cb.cred.uid == c->uid &&
	       skb->cb.cred.gid == c->gid;
}

static void __unix_copy_addr(struct unix_msg *msg, struct unix_sock *from)
{
	if (msg->addr)
		return;
	if (from->addr) {
		from->addr->refcnt++;
		msg->addr = from->addr;
	}
}

static void __sk_peek_offset_bwd(struct unix_sock *sk, int n)
{
	if (sk->peek_off >= 0)
		sk->peek_off = sk->peek_off > n ? sk->peek_off - n : 0;
}

static void __sk_peek_offset_fwd(struct unix_sock *sk, int n)
{
	if (sk->peek_off >= 0)
		sk->peek_off += n;
}

/* Duplicate the file list of a peeked message; the embedder takes new references. */
static struct scm_fp_list *scm_fp_dup(const struct scm_fp_list *fpl)
{
	struct scm_fp_list *n = scm_fp_alloc(fpl->count);

	if (n) {
		memcpy(n->files, fpl->files, (size_t)fpl->count * sizeof(struct scm_file));
		n->user = fpl->user;
	}
	return n;
}

/*
 * recv(MSG_OOB), Linux's unix_stream_recv_urg: the out-of-band byte, or
 * EINVAL when there is none or SO_OOBINLINE is set.  Never waits.  Returns 1
 * even into an empty buffer (the byte is then consumed uncopied, as Linux's
 * short copy into a full iterator succeeds); carries no address, creds or
 * files.  Reading it also drops a consumed skb just before it.
 */
static ssize_t unix_stream_recv_urg(struct unix_sock *sk, struct unix_msg *msg)
{
	struct unix_net *net = sk->net;
	struct sk_buff *oob, *read_skb = NULL;
	ssize_t ret = 1;

	plat_mutex_lock(&sk->iolock);
	plat_mutex_lock(&net->lock);
	oob = sk->oob_skb;
	if ((sk->flags & UNIX_F_URGINLINE) || !oob) {
		ret = -EINVAL;
		goto out;
	}
	if (!(msg->flags & MSG_PEEK)) {
		sk->oob_skb = NULL;
		if (oob->prev != (struct sk_buff *)&sk->receive_queue &&
		    !unix_skb_len(oob->prev)) {
			read_skb = oob->prev;
			__unix_unlink_skb(sk, read_skb);
		}
	}
	if (msg_left(msg)) {
		msg_copy_to(msg, oob->data + oob->cb.consumed, 1);
		__unix_account_copy(sk, 1, 1);
	}
	if (!(msg->flags & MSG_PEEK))
		oob->cb.consumed++;
	msg->msg_flags |= MSG_OOB;
	if (read_skb)
		__kfree_skb(read_skb);
out:
	plat_mutex_unlock(&net->lock);
	plat_mutex_unlock(&sk->iolock);
	return ret;
}

/*
 * Linux's manage_oob: @skb is the next skb a stream reader would copy from;
 * return the one to copy from instead, or NULL to stop.  A reader steps over
 * (and, unless peeking, frees) consumed skbs, stops at the mark once it has
 * copied something, and -- without SO_OOBINLINE -- skips an unread OOB byte
 * it reaches first, dropping it unless peeking.  Linux 6.18 leaves such a
 * dropped byte counted in SIOCINQ (inq_stale).  Caller holds iolock and
 * net->lock.
 */
static struct sk_buff *__unix_manage_oob(struct unix_sock *sk, struct sk_buff *skb,
					 int flags, size_t copied)
{
	struct sk_buff *read_skb = NULL, *unread_skb = NULL, *oob = sk->oob_skb;
	int inline_oob = !!(sk->flags & UNIX_F_URGINLINE);

	if (unix_skb_len(skb) && skb != oob)
		return skb;
	if (!unix_skb_len(skb)) {
		if (copied && (!oob || skb == oob)) {
			skb = NULL;
		} else if (flags & MSG_PEEK) {
			skb = skb_peek_next(skb, &sk->receive_queue);
		} else {
			read_skb = skb;
			skb = skb_peek_next(skb, &sk->receive_queue);
			__unix_unlink_skb(sk, read_skb);
		}
		if (!skb)
			goto out;
	}
	if (skb != oob)
		goto out;
	if (copied) {
		skb = NULL;
	} else if (!(flags & MSG_PEEK)) {
		sk->oob_skb = NULL;
		if (!inline_oob) {
			__unix_unlink_skb(sk, skb);
			unread_skb = skb;
			sk->inq_stale++;
			skb = skb_peek(&sk->receive_queue);
		}
	} else if (!inline_oob) {
		skb = skb_peek_next(skb, &sk->receive_queue);
	}
out:
	if (read_skb)
		__kfree_skb(read_skb);
	if (unread_skb)
		__kfree_skb(unread_skb);
	return skb;
}

static ssize_t unix_stream_recvmsg(struct unix_sock *sk, struct unix_msg *msg,
				   struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	int flags = msg->flags;
	size_t size = msg_left(msg), copied = msg->done, target;
	int check_creds = 0, err = 0, skip;
	struct sk_buff *skb, *last;
	unsigned int last_len;

	plat_mutex_lock(&net->lock);
	if (sk->state != UNIX_ESTABLISHED) {
		plat_mutex_unlock(&net->lock);
		return -EINVAL;
	}
	plat_mutex_unlock(&net->lock);
	if (flags & MSG_OOB)
		return unix_stream_recv_urg(sk, msg);

	target = (flags & MSG_WAITALL) ? msg_total(msg) : min_sz((size_t)sk->rcvlowat, msg_total(msg));
	if (!target)
		target = 1;
	wait_ctl_begin(ctl, (flags & MSG_DONTWAIT) ? 0 : sk->rcvtimeo);

	plat_mutex_lock(&sk->iolock);
	plat_mutex_lock(&net->lock);
	msg->want_creds = !!(sk->flags & UNIX_F_PASSCRED);
	skip = (flags & MSG_PEEK) && sk->peek_off > 0 ? sk->peek_off : 0;
	if (msg->got_scm && msg->want_creds)
		check_creds = 1;	/* continuing the call's non-blocking attempt */

	do {
		unsigned int chunk;

redo:
		if (sk->flags & UNIX_F_DEAD) {
			err = -ECONNRESET;
			break;
		}
		last = skb = skb_peek(&sk->receive_queue);
		last_len = last ? last->len : 0;
again:
		if (skb) {
			skb = __unix_manage_oob(sk, skb, flags, copied);
			if (!skb && copied)
				break;
		}
		if (!skb) {
			if (copied >= target)
				break;
			if (sk->err) {
				err = -sk->err;
				sk->err = 0;
				break;
			}
			if (sk->shutdown & RCV_SHUTDOWN)
				break;
			/* Sleep with iolock released, as Linux does, until
			 * something is appended after what we looked at. */
			last = skb_peek_tail(&sk->receive_queue);
			last_len = last ? last->len : 0;
			plat_mutex_unlock(&net->lock);
			plat_mutex_unlock(&sk->iolock);
			plat_mutex_lock(&net->lock);
			__unix_wait_event(err, sk, &sk->wq, ctl, 0,
					  skb_peek_tail(&sk->receive_queue) != last ||
					  (last && last->len != last_len) ||
					  sk->err || (sk->shutdown & RCV_SHUTDOWN) ||
					  (sk->flags & UNIX_F_DEAD));
			plat_mutex_unlock(&net->lock);
			if (err) {
				msg->done = copied;
				return copied ? (ssize_t)copied : err;
			}
			plat_mutex_lock(&sk->iolock);
			plat_mutex_lock(&net->lock);
			goto redo;
		}

		while ((unsigned int)skip >= unix_skb_len(skb)) {
			skip -= unix_skb_len(skb);
			last = skb;
			last_len = skb->len;
			skb = skb_peek_next(skb, &sk->receive_queue);
			if (!skb)
				goto again;
		}

		if (check_creds) {
			/* Never glue messages from different writers. */
			if (!unix_skb_scm_eq(skb, &msg->cred))
				break;
		} else if (sk->flags & UNIX_F_PASSCRED) {
			msg->cred = skb->cb.cred;
			msg->got_scm = 1;
			check_creds = 1;
		}

		__unix_copy_addr(msg, skb->sk);

		chunk = (unsigned int)min_sz(unix_skb_len(skb) - (unsigned int)skip, size);
		if (chunk >= COPY_UNLOCKED_MIN) {
			/* skb stays put: only iolock holders unlink it (and a
			 * net shutdown, which waits for the copy). */
			__unix_copy_unlocked(net, msg, skb->data + skb->cb.consumed + skip,
					     chunk);
		} else {
			msg_copy_to(msg, skb->data + skb->cb.consumed + skip, chunk);
		}
		__unix_account_copy(sk, chunk, 1);
		copied += chunk;
		size -= chunk;

		if (!(flags & MSG_PEEK)) {
			skb->cb.consumed += chunk;
			__sk_peek_offset_bwd(sk, (int)chunk);
			if (skb->cb.fp) {
				__unix_notinflight(net, skb->cb.fp);
				msg->rfp = skb->cb.fp;
				skb->cb.fp = NULL;
				msg->got_scm = 1;
				msg->cred = skb->cb.cred;
			}
			if (unix_skb_len(skb))
				break;
			__unix_unlink_skb(sk, skb);
			__kfree_skb(skb);
			if (msg->rfp)
				break;
		} else {
			if (skb->cb.fp) {
				msg->rfp = scm_fp_dup(skb->cb.fp);
				msg->rfp_peeked = 1;
				msg->got_scm = 1;
				msg->cred = skb->cb.cred;
			}
			__sk_peek_offset_fwd(sk, (int)chunk);
			if (skb->cb.fp)
				break;
			skip = 0;
			last = skb;
			last_len = skb->len;
			skb = skb_peek_next(skb, &sk->receive_queue);
			if (skb)
				goto again;
			break;
		}
	} while (size);

	if (!copied && !err && msg->want_creds && !msg->got_scm) {
		/* EOF: Linux gives scm_recv_unix its zeroed cookie, so a
		 * SO_PASSCRED reader gets SCM_CREDENTIALS {0, 0, 0}. */
		memset(&msg->cred, 0, sizeof(msg->cred));
		msg->got_scm = 1;
	}
	plat_mutex_unlock(&net->lock);
	plat_mutex_unlock(&sk->iolock);
	msg->done = copied;
	return copied ? (ssize_t)copied : err;
}

static ssize_t unix_dgram_recvmsg(struct unix_sock *sk, struct unix_msg *msg,
				  struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	int flags = msg->flags;
	size_t size = msg_total(msg), skblen;
	struct sk_buff *skb = NULL;
	int err, skip = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	wait_ctl_begin(ctl, (flags & MSG_DONTWAIT) ? 0 : sk->rcvtimeo);

	plat_mutex_lock(&sk->iolock);
	plat_mutex_lock(&net->lock);
	for (;;) {
		if (sk->err) {
			err = -sk->err;
			sk->err = 0;
			break;
		}
		skip = (flags & MSG_PEEK) && sk->peek_off > 0 ? sk->peek_off : 0;
		for (skb = skb_peek(&sk->receive_queue); skb;
		     skb = skb_peek_next(skb, &sk->receive_queue)) {
			if ((unsigned int)skip < skb->len || (skip == 0))
				break;
			skip -= (int)skb->len;
		}
		if (skb) {
			err = 0;
			break;
		}
		err = -EAGAIN;
		if (ctl->deadline <= plat_now_ns())
			break;		/* non-blocking or timed out */
		/* __skb_wait_for_more_packets */
		if (sk->shutdown & RCV_SHUTDOWN) {
			err = 0;
			break;
		}
		if (sk->type == SOCK_SEQPACKET && sk->state != UNIX_ESTABLISHED) {
			err = -ENOTCONN;
			break;
		}
		plat_mutex_unlock(&net->lock);
		plat_mutex_unlock(&sk->iolock);
		plat_mutex_lock(&net->lock);
		__unix_wait_event(err, sk, &sk->wq, ctl, 0,
				  !skb_queue_empty(&sk->receive_queue) || sk->err ||
				  (sk->shutdown & RCV_SHUTDOWN));
		plat_mutex_unlock(&net->lock);
		if (err && err != -EAGAIN)
			return err;
		plat_mutex_lock(&sk->iolock);
		plat_mutex_lock(&net->lock);
	}
	if (!skb) {
		if (sk->type == SOCK_SEQPACKET && err == -EAGAIN &&
		    (sk->shutdown & RCV_SHUTDOWN))
			err = 0;	/* EOF on a disconnected non-blocking seqpacket */
		plat_mutex_unlock(&net->lock);
		plat_mutex_unlock(&sk->iolock);
		return err;
	}

	if (!(flags & MSG_PEEK))
		__unix_unlink_skb(sk, skb);
	if (wq_active(&sk->peer_wait))
		__wake_up_all(&sk->peer_wait);
	__unix_copy_addr(msg, skb->sk);

	skblen = skb->len - (size_t)skip;
	if (size > skblen)
		size = skblen;
	else if (size < skblen)
		msg->msg_flags |= MSG_TRUNC;

	msg->cred = skb->cb.cred;
	msg->got_scm = 1;
	msg->want_creds = !!(sk->flags & UNIX_F_PASSCRED);
	if (!(flags & MSG_PEEK)) {
		if (skb->cb.fp) {
			__unix_notinflight(net, skb->cb.fp);
			msg->rfp = skb->cb.fp;
			skb->cb.fp = NULL;
		}
		__sk_peek_offset_bwd(sk, (int)skb->len);
	} else {
		__sk_peek_offset_fwd(sk, (int)size);
		if (skb->cb.fp) {
			msg->rfp = scm_fp_dup(skb->cb.fp);
			msg->rfp_peeked = 1;
		}
	}

	if (size >= COPY_UNLOCKED_MIN) {
		/* a peeked skb is still queued: see __unix_copy_unlocked() */
		__unix_copy_unlocked(net, msg, skb->data + skip, size);
	} else {
		msg_copy_to(msg, skb->data + skip, size);
	}
	__unix_account_copy(sk, size, 1);
	if (!(flags & MSG_PEEK))
		__kfree_skb(skb);
	plat_mutex_unlock(&net->lock);
	plat_mutex_unlock(&sk->iolock);
	return (flags & MSG_TRUNC) ? (ssize_t)skblen : (ssize_t)size;
}

static ssize_t unix_seqpacket_recvmsg(struct unix_sock *sk, struct unix_msg *msg,
				      struct wait_ctl *ctl)
{
	int state;

	plat_mutex_lock(&sk->net->lock);
	state = sk->state;
	plat_mutex_unlock(&sk->net->lock);
	if (state != UNIX_ESTABLISHED)
		return -ENOTCONN;
	return unix_dgram_recvmsg(sk, msg, ctl);
}

ssize_t unix_recvmsg(struct unix_sock *sk, struct unix_msg *msg, struct wait_ctl *ctl)
{
	return sk->ops->recvmsg(sk, msg, ctl);
}

/*
 * About how many bytes a recv on @sk would copy now, read without the net
 * lock as Linux's unix_recvq_full_lockless reads a queue: a stream's queued
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
	plat_mutex_lock(&sk->net->lock);
	unix_addr_put(msg->addr);
	msg->addr = NULL;
	plat_mutex_unlock(&sk->net->lock);
}

/* ------------------------------------------------------------ shutdown --- */

int unix_shutdown(struct unix_sock *sk, int how)
{
	struct unix_sock *other;
	int mode;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	mode = how + 1;
	plat_mutex_lock(&sk->net->lock);
	sk->shutdown |= mode;
	__wake_up_all(&sk->wq);
	__wake_up_all(&sk->peer_wait);
	other = sk->peer;
	if (other && (sk->type == SOCK_STREAM || sk->type == SOCK_SEQPACKET)) {
		int peer_mode = 0;

		if (mode & RCV_SHUTDOWN)
			peer_mode |= SEND_SHUTDOWN;
		if (mode & SEND_SHUTDOWN)
			peer_mode |= RCV_SHUTDOWN;
		other->shutdown |= peer_mode;
		__wake_up_all(&other->wq);
		__wake_up_all(&other->peer_wait);
	}
	plat_mutex_unlock(&sk->net->lock);
	return 0;
}

/* ---------------------------------------------------------------- poll --- */

/* A poller's entry on a wait queue, and the socket it holds, if any. */
struct poll_entry {
	struct wait_queue_entry e;
	struct unix_sock *held;
};

struct poll_table {
	struct waiter *w;
	struct poll_entry *entries;
	unsigned int n, max;
	unsigned int key;	/* the events of the fd being polled, as pollwake's */
};

/*
 * Queue the poller on @wq.  @owner, when not NULL, is held until the entry
 * is taken off again (__poll_unwait): a wait queue of another socket than
 * the one polled (a peer's peer_wait) must outlive the sleep.
 */
static void __poll_wait(struct poll_table *pt, struct wait_queue_head *wq,
			struct unix_sock *owner)
{
	if (pt && pt->n < pt->max) {
		struct poll_entry *pe = &pt->entries[pt->n++];

		__wq_add(wq, &pe->e, pt->w, 0);
		pe->e.key = pt->key;
		pe->held = owner;
		if (owner)
			__sock_hold(owner);
	}
}

static void __poll_unwait(struct poll_table *pt)
{
	unsigned int i;

	for (i = 0; i < pt->n; i++) {
		__wq_del(&pt->entries[i].e);
		if (pt->entries[i].held)
			__sock_put(pt->entries[i].held);
	}
	pt->n = 0;
}

static unsigned int __unix_poll(struct unix_sock *sk, struct poll_table *pt,
				unsigned int events)
{
	unsigned int mask = 0;
	int shutdown = sk->shutdown, state = sk->state;

	(void)events;
	__poll_wait(pt, &sk->wq, NULL);
	if (sk->err)
		mask |= POLLERR;
	if (shutdown == SHUTDOWN_MASK)
		mask |= POLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (!skb_queue_empty(&sk->receive_queue))
		mask |= POLLIN | POLLRDNORM;
	if (sk->oob_skb)
		mask |= POLLPRI;
	if (state == UNIX_CLOSE)
		mask |= POLLHUP;
	if (unix_writable(sk, state))
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return mask;
}

static unsigned int __unix_dgram_poll(struct unix_sock *sk, struct poll_table *pt,
				      unsigned int events)
{
	unsigned int mask = 0;
	int shutdown = sk->shutdown, state = sk->state, writable;
	struct unix_sock *other;

	__poll_wait(pt, &sk->wq, NULL);
	if (sk->err)
		mask |= POLLERR;
	if (shutdown & RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (shutdown == SHUTDOWN_MASK)
		mask |= POLLHUP;
	if (!skb_queue_empty(&sk->receive_queue))
		mask |= POLLIN | POLLRDNORM;
	if (sk->type == SOCK_SEQPACKET && state == UNIX_CLOSE)
		mask |= POLLHUP;
	if (!(events & (POLLWRBAND | POLLWRNORM | POLLOUT)))
		return mask;
	writable = unix_writable(sk, state);
	if (writable) {
		other = sk->peer;
		if (other && other->peer != sk && unix_recvq_full(other) &&
		    !(other->flags & UNIX_F_DEAD)) {
			/* the peer-wake relay: a reader of other wakes us */
			__poll_wait(pt, &other->peer_wait, other);
			writable = 0;
		}
	}
	if (writable)
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return mask;
}

/*
 * do_poll: one pass over the sockets with the waiter queued on every queue
 * that may change their readiness, then one sleep until any of them fires,
 * the deadline (ctl->deadline, set by the caller) or a signal; repeat.
 * Returns the number of ready entries, 0 at the deadline, or -errno.
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
					__poll_wait(&pt, &pipe->rd_wait, NULL);
				if (fds[i].pipe_fmode & PIPE_FMODE_WRITE)
					__poll_wait(&pt, &pipe->wr_wait, NULL);
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
		if (net->dead) {
			err = -ESHUTDOWN;
			break;
		}
		if (ctl->deadline <= plat_now_ns())
			break;
		spin_ns = __wait_spin_budget(&net->poll_spin, &spin);
		t0 = plat_now_ns();
		net->sleepers++;
		err = __waiter_sleep(&w, &net->lock, ctl, spin_ns, &spun);
		net->sleepers--;
		if (spun >= 0)
			__wait_spin_result(&net->poll_spin, &spin, spun, plat_now_ns() - t0);
		__poll_unwait(&pt);
		if (net->dead && !net->sleepers)
			plat_cond_broadcast(&net->idle);
		if (err == -EAGAIN) {
			err = 0;	/* timed out: one last pass, as do_poll */
			timed_out = 1;
		} else if (err) {
			break;
		}
	}
	__poll_unwait(&pt);
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
	plat_mutex_lock(&sk->net->lock);
	switch (optname) {
	case SO_TYPE: *val = sk->type; break;
	case SO_DOMAIN: *val = AF_UNIX; break;
	case SO_PROTOCOL: *val = 0; break;
	case SO_ACCEPTCONN: *val = sk->state == UNIX_LISTEN; break;
	case SO_ERROR: *val = sk->err; sk->err = 0; break;
	case SO_SNDBUF: *val = sk->sndbuf; break;
	case SO_RCVBUF: *val = sk->rcvbuf; break;
	case SO_RCVTIMEO: *val = sk->rcvtimeo; break;
	case SO_SNDTIMEO: *val = sk->sndtimeo; break;
	case SO_RCVLOWAT: *val = sk->rcvlowat; break;
	case SO_SNDLOWAT: *val = 1; break;
	case SO_PEEK_OFF: *val = sk->peek_off; break;
	case SO_BUSY_POLL: *val = sk->busy_poll_ns / 1000; break;
	case SO_PASSRIGHTS: *val = !(sk->flags & UNIX_F_NOPASSRIGHTS); break;
	default:
		flag = __unix_bool_opt(optname);
		if (flag)
			*val = !!(sk->flags & flag);
		else
			err = -ENOPROTOOPT;
	}
	plat_mutex_unlock(&sk->net->lock);
	return err;
}

/* sock_valbool_flag: a boolean option is a flag bit. */
static inline void __unix_valbool_flag(struct unix_sock *sk, unsigned int flag, int on)
{
	if (on)
		sk->flags |= flag;
	else
		sk->flags &= ~flag;
}

int unix_setsockopt(struct unix_sock *sk, int level, int optname, int64_t val)
{
	struct unix_net *net = sk->net;
	unsigned int flag;
	int err = 0;
	int64_t v;

	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	plat_mutex_lock(&net->lock);
	switch (optname) {
	case SO_SNDBUF:
	case SO_SNDBUFFORCE:
		v = (uint32_t)(int32_t)val;
		if (optname == SO_SNDBUF && v > net->sysctl.wmem_max)
			v = net->sysctl.wmem_max;
		if (v > INT32_MAX / 2)
			v = INT32_MAX / 2;
		sk->sndbuf = (int)(v * 2 > SOCK_MIN_SNDBUF ? v * 2 : SOCK_MIN_SNDBUF);
		__wake_up_all(&sk->wq);
		break;
	case SO_RCVBUF:
	case SO_RCVBUFFORCE:
		v = (uint32_t)(int32_t)val;
		if (optname == SO_RCVBUF && v > net->sysctl.rmem_max)
			v = net->sysctl.rmem_max;
		if (v > INT32_MAX / 2)
			v = INT32_MAX / 2;
		sk->rcvbuf = (int)(v * 2 > SOCK_MIN_RCVBUF ? v * 2 : SOCK_MIN_RCVBUF);
		break;
	case SO_RCVTIMEO: sk->rcvtimeo = val; break;
	case SO_SNDTIMEO: sk->sndtimeo = val; break;
	case SO_RCVLOWAT:
		v = (int32_t)val;
		if (v < 0)
			v = INT32_MAX;
		sk->rcvlowat = v ? (int)v : 1;
		__wake_up_all(&sk->wq);
		break;
	case SO_SNDLOWAT:
		err = -ENOPROTOOPT;
		break;
	case SO_PEEK_OFF:	/* unix_set_peek_off: any negative value is off */
		sk->peek_off = (int)val;
		break;
	case SO_BUSY_POLL:
		if (val < 0)
			err = -EINVAL;
		else
			sk->busy_poll_ns = val * 1000;
		break;
	case SO_PASSRIGHTS:
		__unix_valbool_flag(sk, UNIX_F_NOPASSRIGHTS, val == 0);
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
	plat_mutex_unlock(&net->lock);
	return err;
}

int unix_get_peercred(struct unix_sock *sk, struct unix_cred *out)
{
	plat_mutex_lock(&sk->net->lock);
	*out = sk->peercred;
	plat_mutex_unlock(&sk->net->lock);
	return 0;
}

void unix_set_owner(struct unix_sock *sk, const struct unix_fown *owner)
{
	plat_mutex_lock(&sk->net->lock);
	sk->owner = *owner;
	plat_mutex_unlock(&sk->net->lock);
}

void unix_get_owner(struct unix_sock *sk, struct unix_fown *out)
{
	plat_mutex_lock(&sk->net->lock);
	*out = sk->owner;
	plat_mutex_unlock(&sk->net->lock);
}

/*
 * unix_inq_len: bytes a read would see -- a stream or seqpacket socket's
 * whole queue, a datagram socket's first message.  Not for a listener.
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

#define SIOCINQ_	0x541B
#define SIOCOUTQ_	0x5411
#define SIOCATMARK_	0x8905

int unix_ioctl(struct unix_sock *sk, unsigned long cmd, int *out)
{
	struct sk_buff *skb;
	long amount = 0;
	int err = 0;

	plat_mutex_lock(&sk->net->lock);
	switch (cmd) {
	case SIOCOUTQ_:
		amount = (long)sk->wmem_alloc;
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
	plat_mutex_unlock(&sk->net->lock);
	*out = (int)amount;
	return err;
}

/* ------------------------------------------------------------- listing --- */

/* sk_diag_fill's view of one socket; the icons go to @icons from *@ni on. */
static void __unix_sock_info(struct unix_sock *sk, struct unix_sock_info *i,
			     uint64_t *icons, size_t max_icons, size_t *ni)
{
	struct sk_buff *skb;

	i->ino = sk->ino;
	i->type = sk->type;
	i->state = sk->state;
	i->flags = (int)sk->flags;
	i->refcnt = sk->refcnt;
	i->listening = sk->state == UNIX_LISTEN;
	__unix_copy_name(sk->addr, i->path, &i->addr_len);
	i->has_vfs = sk->addr && sk->addr->has_vfs;
	i->vfs_dev = i->has_vfs ? sk->addr->vfs_dev : 0;
	i->vfs_ino = i->has_vfs ? sk->addr->vfs_ino : 0;
	/* sk_diag_dump_peer: a released peer has no inode left */
	i->peer_ino = sk->peer && !(sk->peer->flags & UNIX_F_DEAD) ? sk->peer->ino : 0;
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

			if (*ni < max_icons)
				icons[*ni] = req->peer && !(req->peer->flags & UNIX_F_DEAD) ?
					     req->peer->ino : 0;
			(*ni)++;
			i->nicons++;
		}
	} else {
		i->rqueue = (unsigned int)__unix_inq_len(sk);
		i->wqueue = (unsigned int)sk->wmem_alloc;
	}
	/* sk_get_meminfo: an AF_UNIX socket charges its skbs to the sender
	 * (SK_MEMINFO_WMEM_ALLOC) and nothing to the receiver. */
	memset(i->mem, 0, sizeof(i->mem));
	i->mem[1] = (uint32_t)sk->rcvbuf;
	i->mem[2] = (uint32_t)sk->wmem_alloc;
	i->mem[3] = (uint32_t)sk->sndbuf;
	i->listener_ino = sk->listener ? sk->listener->ino : 0;
	i->inflight = sk->inflight;
	i->bytes_copied_in = sk->bytes_copied - sk->bytes_copied_out;
	i->bytes_copied_out = sk->bytes_copied_out;
	i->bytes_zerocopy_in = sk->bytes_zerocopy - sk->bytes_zerocopy_out;
	i->bytes_zerocopy_out = sk->bytes_zerocopy_out;
	i->msgs_sent = sk->msgs_sent;
	i->msgs_received = sk->msgs_received;
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

		if (sk->flags & UNIX_F_DEAD)
			continue;	/* released and going away */
		if (count < max)
			__unix_sock_info(sk, &out[count], icons, max_icons, &ni);
		else if (sk->state == UNIX_LISTEN)
			ni += sk->receive_queue.qlen;
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

/* ------------------------------------------------------------ zero copy --- */

/*
 * Take the next message if it is a page skb (zero-copy send) and unread:
 * msg->rpages gets a page reference, msg->rpages_off/done its extent, and
 * the skb is consumed without copying.  Returns the length, 0 at EOF, or
 * -ENOBUFS when the next message is ordinary data or longer than
 * msg->iov[0].len when the caller gives an iov (the caller copies it with
 * unix_recvmsg), or -errno.  Ancillary data cannot travel with pages.
 */
ssize_t unix_recv_pages(struct unix_sock *sk, struct unix_msg *msg, struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	struct sk_buff *skb;
	ssize_t ret;
	int err;

	wait_ctl_begin(ctl, (msg->flags & MSG_DONTWAIT) ? 0 : sk->rcvtimeo);
	plat_mutex_lock(&sk->iolock);
	plat_mutex_lock(&net->lock);
	for (;;) {
		if (sk->type != SOCK_DGRAM && sk->state != UNIX_ESTABLISHED) {
			ret = sk->type == SOCK_STREAM ? -EINVAL : -ENOTCONN;
			goto out;
		}
		skb = skb_peek(&sk->receive_queue);
		if (skb)
			break;
		if (sk->err) {
			ret = -sk->err;
			sk->err = 0;
			goto out;
		}
		if (sk->shutdown & RCV_SHUTDOWN) {
			ret = 0;
			goto out;
		}
		plat_mutex_unlock(&net->lock);
		plat_mutex_unlock(&sk->iolock);
		plat_mutex_lock(&net->lock);
		__unix_wait_event(err, sk, &sk->wq, ctl, 0,
				  !skb_queue_empty(&sk->receive_queue) || sk->err ||
				  (sk->shutdown & RCV_SHUTDOWN));
		plat_mutex_unlock(&net->lock);
		if (err)
			return err;
		plat_mutex_lock(&sk->iolock);
		plat_mutex_lock(&net->lock);
	}
	if (!skb->pages || skb->cb.consumed || skb->cb.fp || (msg->flags & MSG_PEEK) ||
	    (msg->iovlen && skb->len > msg->iov[0].len)) {
		ret = -ENOBUFS;
		goto out;
	}
	__unix_unlink_skb(sk, skb);
	page_run_get(skb->pages);
	msg->rpages = skb->pages;
	msg->rpages_off = (size_t)(skb->data - skb->pages->mem);
	msg->done = skb->len;
	ret = (ssize_t)skb->len;
	sk->bytes_zerocopy += skb->len;
	sk->bytes_zerocopy_out += skb->len;
	__kfree_skb(skb);
	if (wq_active(&sk->peer_wait))
		__wake_up_all(&sk->peer_wait);
out:
	plat_mutex_unlock(&net->lock);
	plat_mutex_unlock(&sk->iolock);
	return ret;
}

struct page_run *unix_alloc_pages(struct unix_net *net, size_t npages, int zero)
{
	return page_run_alloc(&net->pool, npages, zero);
}

