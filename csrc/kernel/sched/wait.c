/*
 * kernel/sched/wait.c - wait queues and wakeups.
 *
 * Locking: all of it runs under the owning unix_net's lock (the caller's).
 */
#include "wait.h"

void waiter_init(struct waiter *w)
{
	plat_cond_init(&w->cond);
	w->woken = 0;
	w->ctl = NULL;
}

void waiter_destroy(struct waiter *w)
{
	plat_cond_destroy(&w->cond);
}

void __wq_add(struct wait_queue_head *wq, struct wait_queue_entry *e,
	      struct waiter *w, int exclusive)
{
	e->w = w;
	e->exclusive = exclusive;
	e->key = 0;
	if (exclusive)
		list_add_tail(&e->link, &wq->head);
	else
		list_add(&e->link, &wq->head);
}

void __wq_del(struct wait_queue_entry *e)
{
	list_del_init(&e->link);
}

static void waiter_wake(struct waiter *w)
{
	if (!w->woken) {
		w->woken = 1;
		if (w->ctl)
			__wait_ctl_unblock(w->ctl);
		plat_cond_signal(&w->cond);
	}
}

void __wake_up(struct wait_queue_head *wq, int nr_exclusive)
{
	struct list_head *pos, *n;

	wq->wake_seq++;
	list_for_each_safe(pos, n, &wq->head) {
		struct wait_queue_entry *e = list_entry(pos, struct wait_queue_entry, link);

		if (e->exclusive) {
			if (nr_exclusive <= 0)
				break;
			/* An exclusive waiter already woken does not count. */
			if (!e->w->woken)
				nr_exclusive--;
		}
		waiter_wake(e->w);
	}
}

void __wake_up_all(struct wait_queue_head *wq)
{
	struct list_head *pos, *n;

	wq->wake_seq++;
	list_for_each_safe(pos, n, &wq->head)
		waiter_wake(list_entry(pos, struct wait_queue_entry, link)->w);
}

/*
 * A wake-up about @events only (as Linux's wake_up_interruptible_poll with a
 * key): a poller waiting for none of them stays asleep, every other waiter
 * is woken.
 */
void __wake_up_poll(struct wait_queue_head *wq, unsigned int events)
{
	struct list_head *pos, *n;

	wq->wake_seq++;
	list_for_each_safe(pos, n, &wq->head) {
		struct wait_queue_entry *e = list_entry(pos, struct wait_queue_entry, link);

		if (!e->key || (e->key & events))
			waiter_wake(e->w);
	}
}

void wait_ctl_begin(struct wait_ctl *ctl, int64_t timeo)
{
	int64_t now = plat_now_ns();

	if (ctl->deadline == 0) {
		if (timeo < 0)
			ctl->deadline = PLAT_FOREVER;
		else if (timeo == 0)
			ctl->deadline = 1;	/* already in the past: non-blocking */
		else
			ctl->deadline = now + timeo;
	}
	ctl->slice_end = ctl->slice > 0 ? now + ctl->slice : PLAT_FOREVER;
}

int64_t wait_ctl_remaining(const struct wait_ctl *ctl)
{
	int64_t now;

	if (ctl->deadline == PLAT_FOREVER)
		return -1;
	now = plat_now_ns();
	return ctl->deadline > now ? ctl->deadline - now : 0;
}
