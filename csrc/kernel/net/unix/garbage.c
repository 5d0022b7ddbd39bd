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
 * When it runs is Linux's rule (unix_release_sock -> unix_schedule_gc): on
 * the release of a socket, only while sockets are in flight, and only when
 * the in-flight graph may hold a cycle.  A cycle's last edge is always a
 * socket queued on a receiver that is itself in flight -- every member of
 * a cycle is -- so such a queueing sets net->gc_maybe_cyclic, and a pass
 * clears it unless some in-flight socket's queue still holds sockets.
 *
 * Locking: a pass runs under net->lock, its marking also under
 * net->gc_lock, which the in-flight counts it reads are written under, and
 * each receive queue it walks under that queue's lock (see unix_socket.h
 * and __unix_gc).
 */

#include "af_unix.h"

typedef void (*gc_visit)(struct unix_sock *target, void *arg);

/*
 * Call @fn on each in-flight socket referenced from @sk's queue(s), under
 * each queue's lock (a listener's before its embryos').  Caller holds
 * gc_lock, so no file enters or leaves flight meanwhile.
 */
static void scan_children(struct unix_sock *sk, gc_visit fn, void *arg)
{
	struct sk_buff *skb, *eskb;
	int i, listener = READ_ONCE(sk->state) == UNIX_LISTEN;

	plat_mutex_lock(&sk->receive_queue.lock);
	for (skb = skb_peek(&sk->receive_queue); skb;
	     skb = skb_peek_next(skb, &sk->receive_queue)) {
		struct scm_fp_list *fpl = skb->cb.fp;

		if (fpl) {
			for (i = 0; i < fpl->count; i++)
				if (fpl->files[i].usk)
					fn(fpl->files[i].usk, arg);
		}
		/* A listener's queue holds embryos; their queues count as its own. */
		if (listener && skb->sk != sk) {
			struct unix_sock *e = skb->sk;

			plat_mutex_lock(&e->receive_queue.lock);
			for (eskb = skb_peek(&e->receive_queue); eskb;
			     eskb = skb_peek_next(eskb, &e->receive_queue)) {
				fpl = eskb->cb.fp;
				if (!fpl)
					continue;
				for (i = 0; i < fpl->count; i++)
					if (fpl->files[i].usk)
						fn(fpl->files[i].usk, arg);
			}
			plat_mutex_unlock(&e->receive_queue.lock);
		}
	}
	plat_mutex_unlock(&sk->receive_queue.lock);
}

static void dec_gc_refs(struct unix_sock *target, void *arg)
{
	(void)arg;
	if (target->gc_candidate)
		target->gc_refs--;
}

static void mark_alive(struct unix_sock *target, void *work)
{
	if (target->gc_candidate) {
		target->gc_candidate = 0;
		list_del_init(&target->gc_link);
		list_add_tail(&target->gc_link, (struct list_head *)work);
	}
}

static void note_edge(struct unix_sock *target, void *found)
{
	(void)target;
	*(int *)found = 1;
}

/* May the in-flight graph hold a cycle: does an in-flight socket's queue
 * (or its embryos') hold a socket? */
static int __unix_graph_maybe_cyclic(struct unix_net *net)
{
	struct unix_sock *sk;
	struct list_head *pos, *n;
	int found = 0;

	list_for_each_safe(pos, n, &net->socks) {
		sk = list_entry(pos, struct unix_sock, link);
		if (sk->inflight > 0)
			scan_children(sk, note_edge, &found);
		if (found)
			return 1;
	}
	return 0;
}

/*
 * Files carrying @fpl were queued on @receiver.  An embryo's queue counts as
 * its listener's (the listener's file holds it); if that socket is in
 * flight, the sockets in @fpl may have closed a cycle.
 */
void __unix_gc_queued(struct unix_sock *receiver, const struct scm_fp_list *fpl)
{
	struct unix_sock *owner = READ_ONCE(receiver->listener);
	struct unix_net *net = receiver->net;
	int i;

	if (!owner)
		owner = receiver;
	plat_mutex_lock(&net->gc_lock);
	if (owner->inflight > 0) {
		for (i = 0; i < fpl->count; i++) {
			if (fpl->files[i].usk) {
				net->gc_maybe_cyclic = 1;
				break;
			}
		}
	}
	plat_mutex_unlock(&net->gc_lock);
}

/* Is a pass due now: sockets in flight, and maybe in a cycle. */
int __unix_gc_due(struct unix_net *net)
{
	int due;

	plat_mutex_lock(&net->gc_lock);
	due = net->unix_tot_inflight > 0 && net->gc_maybe_cyclic && !net->gc_in_progress;
	plat_mutex_unlock(&net->gc_lock);
	return due;
}

/*
 * One pass, under net->lock.  The marking runs under gc_lock too, so no
 * file enters or leaves flight meanwhile; the purge runs without it (an
 * skb freed there takes its files out of flight, under gc_lock), with
 * gc_in_progress keeping any other pass out of the candidates' gc_link.
 */
static int __unix_gc(struct unix_net *net)
{
	struct list_head candidates, alive, *pos, *n;
	int collected = 0;

	INIT_LIST_HEAD(&candidates);
	INIT_LIST_HEAD(&alive);
	plat_mutex_lock(&net->gc_lock);
	if (net->gc_in_progress) {
		plat_mutex_unlock(&net->gc_lock);
		return 0;
	}
	net->gc_in_progress = 1;
	unix_cnt_add(net, gc_runs, 1);
	trace_event(TRACE_GC_BEGIN, 0, net->unix_tot_inflight, 0, 0);

	list_for_each_safe(pos, n, &net->socks) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, link);

		if (sk->inflight > 0 && sk->file_refs == sk->inflight &&
		    !(READ_ONCE(sk->flags) & UNIX_F_DEAD)) {
			sk->gc_candidate = 1;
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

		refcount_inc(&sk->refcnt);
		sk->gc_candidate = 0;
	}
	plat_mutex_unlock(&net->gc_lock);
	list_for_each_safe(pos, n, &candidates) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, gc_link);

		__unix_gc_purge(sk);
		collected++;
	}
	list_for_each_safe(pos, n, &candidates) {
		struct unix_sock *sk = list_entry(pos, struct unix_sock, gc_link);

		list_del_init(&sk->gc_link);
		if (refcount_dec_and_test(&sk->refcnt))
			__unix_gc_free(sk);
	}
	plat_mutex_lock(&net->gc_lock);
	net->gc_maybe_cyclic = __unix_graph_maybe_cyclic(net);
	net->gc_in_progress = 0;
	plat_mutex_unlock(&net->gc_lock);
	trace_event(TRACE_GC_END, 0, collected, 0, 0);
	return collected;
}

/* A pass, whether due or not (the embedder forces one); returns sockets collected. */
int unix_gc(struct unix_net *net)
{
	int collected;

	plat_mutex_lock(&net->lock);
	collected = __unix_gc(net);
	plat_mutex_unlock(&net->lock);
	unix_ready_flush(net);	/* a purge returns send buffers: wake-ups */
	return collected;
}

/*
 * The pass a release scheduled (unix_release() returned 1), run by the
 * embedder once it has put the files the release let go of.  Whether it is
 * still due is decided again now, as Linux's work item does: a pass run
 * meanwhile may have found no cycle left.
 */
int unix_gc_scheduled(struct unix_net *net)
{
	int collected = 0;

	plat_mutex_lock(&net->lock);
	if (__unix_gc_due(net))
		collected = __unix_gc(net);
	plat_mutex_unlock(&net->lock);
	unix_ready_flush(net);
	return collected;
}
