/*
 * net/unix/garbage.c - collection of AF_UNIX sockets reachable only from
 * messages in flight.
 *
 * A socket whose file is referenced only by SCM_RIGHTS messages queued on
 * other sockets (or on itself) can never be read again once those sockets are
 * unreachable too.  The collector is Linux's classic one:
 *
 *   1. candidates: sockets with inflight > 0 and file_refs == inflight;
 *   2. for every candidate, every in-flight reference held by its receive
 *      queue (and by the queues of its embryos, for a listener) to another
 *      candidate is subtracted from that candidate's gc_refs;
 *   3. a candidate left with gc_refs > 0 is referenced from outside: it and
 *      everything reachable from its queue are alive;
 *   4. the rest is garbage: their queues are purged, which hands the files
 *      to the embedder (the release list), whose last references then go.
 *
 * Locking: runs entirely under net->lock (see unix_socket.h).
 */
#include <errno.h>

#include "unix_socket.h"

void __unix_gc_purge(struct unix_sock *sk);

typedef void (*gc_visit)(struct unix_sock *target, struct list_head *work);

/* Call @fn on each in-flight socket referenced from @sk's queue(s). */
static void scan_children(struct unix_sock *sk, gc_visit fn, struct list_head *work)
{
	struct sk_buff *skb, *eskb;
	int i;

	for (skb = skb_peek(&sk->receive_queue); skb;
	     skb = skb_peek_next(skb, &sk->receive_queue)) {
		struct scm_fp_list *fpl = skb->cb.fp;

		if (fpl) {
			for (i = 0; i < fpl->count; i++)
				if (fpl->files[i].usk)
					fn(fpl->files[i].usk, work);
		}
		/* A listener's queue holds embryos; their queues count as its own. */
		if (sk->state == UNIX_LISTEN && skb->sk != sk) {
			struct unix_sock *e = skb->sk;

			for (eskb = skb_peek(&e->receive_queue); eskb;
			     eskb = skb_peek_next(eskb, &e->receive_queue)) {
				fpl = eskb->cb.fp;
				if (!fpl)
					continue;
				for (i = 0; i < fpl->count; i++)
					if (fpl->files[i].usk)
						fn(fpl->files[i].usk, work);
			}
		}
	}
}

static void dec_gc_refs(struct unix_sock *target, struct list_head *work)
{
	(void)work;
	if (target->flags & UNIX_F_INFLIGHT_SEEN)
		target->gc_refs--;
}

static void mark_alive(struct unix_sock *target, struct list_head *work)
{
	if (target->flags & UNIX_F_INFLIGHT_SEEN) {
		target->flags &= ~UNIX_F_INFLIGHT_SEEN;
		list_del_init(&target->gc_link);
		list_add_tail(&target->gc_link, work);
	}
}

int unix_gc(struct unix_net *net)
{
	struct list_head candidates, alive, *pos, *n;
	int collected = 0;

	INIT_LIST_HEAD(&candidates);
	INIT_LIST_HEAD(&alive);
	plat_mutex_lock(&net->lock);
	if (net->gc_in_progress) {
		plat_mutex_unlock(&net->lock);
		return 0;
	}
	net->gc_in_progress = 1;
	net->cnt.gc_runs++;

	list_for_each_safe(pos, n, &net->socks) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, link);

		if (sk->inflight > 0 && sk->file_refs == sk->inflight &&
		    !(sk->flags & UNIX_F_DEAD)) {
			sk->flags |= UNIX_F_INFLIGHT_SEEN;
			sk->gc_refs = sk->file_refs;
			list_add_tail(&sk->gc_link, &candidates);
		}
	}
	list_for_each_safe(pos, n, &candidates)
		scan_children(list_entry(pos, struct unix_sock, gc_link), dec_gc_refs, NULL);

	/* Externally referenced candidates and all they reach are alive. */
	list_for_each_safe(pos, n, &candidates) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, gc_link);

		if (sk->gc_refs > 0)
			mark_alive(sk, &alive);
	}
	while (!list_empty(&alive)) {
		struct unix_sock *sk = list_entry(alive.next, struct unix_sock, gc_link);

		list_del_init(&sk->gc_link);
		scan_children(sk, mark_alive, &alive);
	}

	/* What is left is garbage: hold each so purging cannot free it under us. */
	list_for_each_safe(pos, n, &candidates) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, gc_link);

		sk->refcnt++;
	}
	list_for_each_safe(pos, n, &candidates) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, gc_link);

		__unix_gc_purge(sk);
		collected++;
	}
	list_for_each_safe(pos, n, &candidates) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, gc_link);

		sk->flags &= ~UNIX_F_INFLIGHT_SEEN;
		list_del_init(&sk->gc_link);
		if (--sk->refcnt == 0)
			__unix_gc_free(sk);
	}
	net->gc_in_progress = 0;
	plat_mutex_unlock(&net->lock);
	return collected;
}
