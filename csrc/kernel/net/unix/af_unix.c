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
 * Locking: see the contract in unix_socket.h.  In short: one net lock over
 * all socket state and the conditions sleepers wait for; a lock per wait
 * queue over its sleepers, inside the net lock; a per-socket iolock
 * serialising readers so they can copy with the net lock dropped; order
 * iolock -> net lock -> wait queue lock.
 * Every blocking call sleeps in __unix_net_sleep() (poll in
 * unix_poll_many()), with the net lock dropped and no iolock held.
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
#include "../../lib/string.h"
#include "af_unix.h"
#include "../../mm/page.h"
#include "../../fs/pipe.h"

static const struct unix_proto_ops unix_stream_ops;
static const struct unix_proto_ops unix_dgram_ops;
static const struct unix_proto_ops unix_seqpacket_ops;

static void __unix_release_sock(struct unix_sock *sk, int embryo);

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
#define CNT(field)	__atomic_load_n(&net->cnt.field, __ATOMIC_RELAXED)
	plat_mutex_lock(&net->lock);
	/* Each counter is a relaxed atomic (unix_cnt_add); net.lock makes the
	 * set consistent with the paths that still count under it. */
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

/* ----------------------------------------------------------- refcounts --- */

void unix_addr_put(struct unix_address *addr)
{
	if (addr && --addr->refcnt == 0)
		plat_free(addr);
}

void __unix_destroy(struct unix_sock *sk)
{
	struct unix_net *net = sk->net;

	list_del_init(&sk->link);
	list_del_init(&sk->bind_link);	/* a collected socket was never released */
	unix_addr_put(sk->addr);
	unix_cnt_add(net, socks, -1);
	if (!(sk->flags & UNIX_F_DEAD))
		unix_cnt_add(net, live, -1);	/* an embryo purged at net shutdown, never released */
	plat_mutex_destroy(&sk->iolock);
	wq_destroy(&sk->wq);
	wq_destroy(&sk->peer_wait);
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
	owner->wmem_alloc += truesize;
	unix_cnt_add(owner->net, skbs, 1);
	return skb;
}

int unix_writable(const struct unix_sock *sk, int state)
{
	return state != UNIX_LISTEN && (sk->wmem_alloc << 2) <= sk->sndbuf;
}

/*
 * Free an skb: its files go to the release list (still in flight until the
 * embedder drops them), its truesize is returned to the sender, who may now
 * write again.
 */
void __kfree_skb(struct sk_buff *skb)
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
	unix_cnt_add(net, skbs, -1);
	__sock_put(owner);
	skb_free_mem(skb);
}

void __unix_queue_skb(struct unix_sock *other, struct sk_buff *skb)
{
	__skb_queue_tail(&other->receive_queue, skb);
	unix_cnt_add(other->net, bytes_queued, skb->len);
	if (other->state != UNIX_LISTEN) {	/* a message, not a connection request */
		skb->sk->msgs_sent++;
		other->msgs_received++;
	}
	if (skb->cb.fp)
		__unix_gc_queued(other, skb->cb.fp);
}

void __unix_unlink_skb(struct unix_sock *sk, struct sk_buff *skb)
{
	unix_cnt_add(sk->net, bytes_queued, -(int64_t)(skb->len));
	__skb_unlink(skb, &sk->receive_queue);
	if (skb->sk->listener == sk)
		skb->sk->listener = NULL;	/* an embryo leaves its listener */
}

void __unix_purge_queue(struct unix_sock *sk)
{
	struct sk_buff *skb;

	sk->oob_skb = NULL;		/* it is on the queue going away */
	while ((skb = skb_peek(&sk->receive_queue)) != NULL) {
		__unix_unlink_skb(sk, skb);
		__kfree_skb(skb);
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
	refcount_set(&sk->refcnt, 1);	/* the file's reference, dropped by unix_release() */
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
		unix_cnt_add(sk->net, live, -1);
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
int __unix_autobind(struct unix_sock *sk)
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
		plat_mutex_lock(&net->lock);
		other = __unix_find_abstract(net, name, len, type);
		if (other)
			sock_hold(other);
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
		sock_hold(other);
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

/*
 * prepare_peercred: the caller's credentials as SO_PEERCRED reports them
 * (its tgid, euid and egid), read with no lock held.
 */
static int unix_prepare_peercred(void *task, struct unix_net *net, struct unix_cred *out)
{
	struct unix_task_cred me;
	int err = unix_current_cred(task, net, &me);

	if (err)
		return err;
	out->pid = me.pid;
	out->uid = me.euid;
	out->gid = me.egid;
	return 0;
}

int unix_listen(void *task, struct unix_sock *sk, int backlog)
{
	struct unix_cred cred;
	int err = unix_prepare_peercred(task, sk->net, &cred);

	return err ? err : sk->ops->listen(sk, backlog, &cred);
}

int unix_recvq_full(const struct unix_sock *sk)
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
	sock_hold(skb->sk);		/* the new file's reference */
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
	sock_hold(sk);
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
	sock_hold(newsk);
	sk->peer = newsk;

	newsk->listener = other;
	__unix_queue_skb(other, skb);
	__wake_up(&other->wq, 1);
	__wake_up_all(&other->wq);	/* pollers of the listener */
	/* The embryo's only reference until accept is the queued skb's. */
	refcount_dec(&newsk->refcnt);
	err = 0;
out:
	plat_mutex_unlock(&net->lock);
	return err;
}

/* Dgram: drop a dissolved association's leftovers from the receive queue. */
void __unix_dgram_disconnected(struct unix_sock *sk, struct unix_sock *other)
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
		if (!unix_may_send(sk, other)) {
			err = -EPERM;
			goto out;
		}
		sk->state = UNIX_ESTABLISHED;
		other->state = UNIX_ESTABLISHED;
		sock_hold(other);
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
		 int flags, struct wait_ctl *ctl)
{
	struct unix_cred cred = { 0, -1, -1 };
	struct unix_sock *other;
	int err;

	if (!path)
		return sk->ops->connect(sk, NULL, &cred, flags, ctl);
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
	if (err)
		return err;
	err = sk->ops->connect(sk, other, &cred, flags, ctl);
	unix_sock_put(other);
	return err;
}

int unix_socketpair(void *task, struct unix_sock *a, struct unix_sock *b)
{
	struct unix_cred c;
	const struct unix_cred *cred = &c;
	int err = unix_prepare_peercred(task, a->net, &c);

	if (err)
		return err;
	plat_mutex_lock(&a->net->lock);
	sock_hold(a);
	sock_hold(b);
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
void __unix_dgram_peer_wake_disconnect(struct unix_sock *sk, struct unix_sock *other)
{
	(void)other;
	__wake_up_all(&sk->wq);
}

/* -------------------------------------------------------- send/recv --- */

/*
 * sock_alloc_send_pskb's wait for send-buffer space, as Linux's
 * sock_wait_for_wmem: a pending error, SEND_SHUTDOWN, or room
 * (wmem_alloc < sndbuf), re-checked each time the socket's wait queue is
 * woken -- and skb frees wake it only once the socket is writable
 * (wmem <= sndbuf / 4, unix_write_space), so a blocked sender stays asleep
 * until the reader has drained three quarters.  Caller holds net->lock.
 */
int __unix_wait_wmem(struct unix_sock *sk, struct wait_ctl *ctl)
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

/* @n payload bytes memcpy'd by @sk's send (@out 0) or receive (@out 1). */
void __unix_account_copy(struct unix_sock *sk, size_t n, int out)
{
	sk->bytes_copied += (int64_t)n;
	if (out)
		sk->bytes_copied_out += (int64_t)n;
	unix_cnt_add(sk->net, bytes_copied, (int64_t)n);
}

ssize_t unix_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
		     struct wait_ctl *ctl)
{
	return sk->ops->sendmsg(task, sk, msg, ctl);
}

void __unix_copy_addr(struct unix_msg *msg, struct unix_sock *from)
{
	if (msg->addr)
		return;
	if (from->addr) {
		from->addr->refcnt++;
		msg->addr = from->addr;
	}
}

/* recvmsg(2): the type's receive, then, with a control buffer, scm_recv. */
ssize_t unix_recvmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
		     struct wait_ctl *ctl)
{
	ssize_t r = sk->ops->recvmsg(sk, msg, ctl);

	if (msg->rcontrol)
		unix_scm_recv(task, sk, msg, r);
	return r;
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
			sock_hold(owner);
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
	i->refcnt = refcount_read(&sk->refcnt);
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
