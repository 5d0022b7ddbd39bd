/*
 * kernel/sched/wait.c - wait queues, wakeups and the sleep itself.
 *
 * Locking (the whole contract is in wait.h): a queue's sleepers' entries
 * and spin state are under its own lock, wq->lock, which every add, remove
 * and wake takes; its callback entries are under the owner's lock (the
 * caller's), which their functions run with, and no queue lock.  A
 * waiter's event word is atomic (a spinning or sleeping owner reads it
 * without a lock), as are wait_stats, a waiter's counted flag and the spin
 * hold-off time (relaxed: counters and a hint).  intr_lock guards
 * intr_sleepers, the interruptible waiters now asleep; it nests inside the
 * owner's lock or is taken alone, never with a queue lock, and nothing is
 * taken while holding it.  The tracepoints take the trace ring's lock, a
 * leaf (kernel/trace/trace.h).
 */
#include <stdatomic.h>

#include "../errno.h"
#include "wait.h"
#include "../trace/trace.h"

static plat_mutex_t intr_lock = PLAT_MUTEX_INITIALIZER;
static struct list_head intr_sleepers = { &intr_sleepers, &intr_sleepers };

#define SPIN_MIN_NS	1000	/* a budget below this is no budget */
#define SPIN_PROBE_EVERY 32	/* sleeps with no budget before one probe spin */
#define SPIN_YIELD_LONG_NS 50000	/* a yield this long with no wake-up, */
#define SPIN_YIELD_STALL_NS 200000	/* or this long at all: the CPU is contended */
#define SPIN_HOLDOFF_NS	100000000	/* then no spinning for 100 ms */

/* No spinning before this time (monotonic ns): see wait_spin(). */
static _Atomic int64_t spin_holdoff_until;

/* Relaxed counter updates: wait_stats are read only as statistics. */
#define STAT_ADD(field, n)	__atomic_fetch_add(&(field), (n), __ATOMIC_RELAXED)

void waiter_init(struct waiter *w, struct wait_stats *stats)
{
	plat_event_arm(&w->ev);
	w->stats = stats;
	__atomic_store_n(&w->counted, 0, __ATOMIC_RELAXED);
	INIT_LIST_HEAD(&w->intr_link);
	w->granted = 0;
}

/* Drop @w's blocked count if it still holds one: its poster or itself,
 * whichever comes first. */
static void waiter_uncount(struct waiter *w)
{
	if (__atomic_exchange_n(&w->counted, 0, __ATOMIC_RELAXED))
		STAT_ADD(w->stats->blocked, -1);
}

/* Under wq->lock. */
static void wq_link(struct wait_queue_head *wq, struct wait_queue_entry *e,
		    struct waiter *w, int exclusive)
{
	e->wq = wq;
	e->w = w;
	e->func = NULL;
	e->exclusive = exclusive;
	e->key = 0;
	if (exclusive)
		list_add_tail(&e->link, &wq->head);
	else
		list_add(&e->link, &wq->head);
}

void __wq_add(struct wait_queue_head *wq, struct wait_queue_entry *e,
	      struct waiter *w, int exclusive)
{
	plat_mutex_lock(&wq->lock);
	wq_link(wq, e, w, exclusive);
	plat_mutex_unlock(&wq->lock);
}

void __wq_del(struct wait_queue_entry *e)
{
	if (e->func) {
		list_del_init(&e->link);	/* under the owner's lock */
		return;
	}
	plat_mutex_lock(&e->wq->lock);
	list_del_init(&e->link);
	plat_mutex_unlock(&e->wq->lock);
}

void __wq_add_callback(struct wait_queue_head *wq, struct wait_queue_entry *e,
		       wait_func_t func)
{
	e->wq = wq;
	e->w = NULL;
	e->func = func;
	e->exclusive = 0;
	e->key = 0;
	list_add(&e->link, &wq->callbacks);
}

/* Under the queue's lock. */
static void waiter_wake(struct waiter *w, uint32_t reason)
{
	if (!plat_event_post(&w->ev, reason))
		return;
	trace_event(TRACE_WAKEUP, reason, trace_id(w), 0, 0);
	waiter_uncount(w);
}

/*
 * Run @wq's callback entries with @events, under the owner's lock and not
 * the queue's: a callback may take its own entry off, or move its owner's
 * entries on other queues.
 */
static void __wq_run_callbacks(struct wait_queue_head *wq, unsigned int events)
{
	struct list_head *pos, *n;

	list_for_each_safe(pos, n, &wq->callbacks) {
		struct wait_queue_entry *e = list_entry(pos, struct wait_queue_entry, link);

		e->func(e, events);
	}
}

static int waiter_woken(struct waiter *w)
{
	return plat_event_reason(&w->ev) != 0;
}

/*
 * Sleepers first, then callbacks.  Every callback entry runs at every
 * wake-up, as when both shared one list: callbacks were never exclusive,
 * and non-exclusive entries all come before the exclusive ones.
 */
void __wake_up_slow(struct wait_queue_head *wq, int nr_exclusive)
{
	struct list_head *pos;

	plat_mutex_lock(&wq->lock);
	list_for_each(pos, &wq->head) {
		struct wait_queue_entry *e = list_entry(pos, struct wait_queue_entry, link);

		if (e->exclusive) {
			if (nr_exclusive <= 0)
				break;
			/* An exclusive waiter already woken does not count. */
			if (!waiter_woken(e->w))
				nr_exclusive--;
		}
		waiter_wake(e->w, WAKE_EVENT);
	}
	plat_mutex_unlock(&wq->lock);
	__wq_run_callbacks(wq, ~0u);
}

int __wake_up_grant_slow(struct wait_queue_head *wq, int shared)
{
	struct list_head *pos;
	int granted = 0;

	plat_mutex_lock(&wq->lock);
	list_for_each(pos, &wq->head) {
		struct wait_queue_entry *e = list_entry(pos, struct wait_queue_entry, link);

		if (!e->exclusive) {
			if (shared)
				waiter_wake(e->w, WAKE_EVENT);
		} else if (!waiter_woken(e->w)) {
			e->w->granted = 1;	/* read by its sleeper under this lock */
			waiter_wake(e->w, WAKE_EVENT);
			granted = 1;
			break;
		}
	}
	plat_mutex_unlock(&wq->lock);
	if (shared)
		__wq_run_callbacks(wq, ~0u);
	return granted;
}

void __wake_up_all_slow(struct wait_queue_head *wq, uint32_t reason)
{
	struct list_head *pos;

	plat_mutex_lock(&wq->lock);
	list_for_each(pos, &wq->head)
		waiter_wake(list_entry(pos, struct wait_queue_entry, link)->w, reason);
	plat_mutex_unlock(&wq->lock);
	__wq_run_callbacks(wq, ~0u);
}

/*
 * A poller waiting for none of @events stays asleep (pollwake's key
 * check); every other waiter is woken.
 */
void __wake_up_poll_slow(struct wait_queue_head *wq, unsigned int events)
{
	struct list_head *pos;

	plat_mutex_lock(&wq->lock);
	list_for_each(pos, &wq->head) {
		struct wait_queue_entry *e = list_entry(pos, struct wait_queue_entry, link);

		if (!e->key || (e->key & events))
			waiter_wake(e->w, WAKE_EVENT);
	}
	plat_mutex_unlock(&wq->lock);
	__wq_run_callbacks(wq, events);
}

void wait_relay_signal(void)
{
	struct list_head *pos;

	plat_mutex_lock(&intr_lock);
	for (pos = intr_sleepers.next; pos != &intr_sleepers; pos = pos->next)
		plat_event_post(&list_entry(pos, struct waiter, intr_link)->ev, WAKE_SIGNAL);
	plat_mutex_unlock(&intr_lock);
}

int (*wait_signal_pending)(void);

/*
 * The spin: yield the CPU until @w's event is posted or the clock reaches
 * @end.  Yielding, not a PAUSE loop: the thread that will post is often
 * runnable on this very CPU (a futex wake-up puts the woken thread where
 * its waker ran), and a yield lets it run at once; in a VM a PAUSE loop
 * also risks the host descheduling the whole vCPU.  A yield that took long
 * without bringing the wake-up, or very long, means another thread had
 * this CPU for a while -- a loaded machine, where spinning only takes CPU
 * from threads that have work (and a yield to a CPU hog costs a time
 * slice): every spin in the process then stops for SPIN_HOLDOFF_NS.
 * An interruptible sleeper's spin (@intr) ends as soon as the embedder
 * reports a signal caught (WAKE_SIGNAL).  Returns the reason, or 0.
 */
static int wait_spin(struct waiter *w, int64_t end, int intr)
{
	int64_t t = plat_now_ns(), t1;
	int r;

	while (!(r = (int)plat_event_reason(&w->ev)) && t < end) {
		if (intr && wait_signal_pending() > 0)
			return WAKE_SIGNAL;
		plat_yield();
		t1 = plat_now_ns();
		if (t1 - t > SPIN_YIELD_LONG_NS) {
			r = (int)plat_event_reason(&w->ev);
			if (!r || t1 - t > SPIN_YIELD_STALL_NS)
				atomic_store_explicit(&spin_holdoff_until,
						      t1 + SPIN_HOLDOFF_NS,
						      memory_order_relaxed);
			return r;
		}
		t = t1;
	}
	return r;
}

/* sock_intr_errno: restart a call with no timeout, else report EINTR. */
static int wait_intr_errno(const struct wait_ctl *ctl)
{
	return ctl->deadline == PLAT_FOREVER ? -ERESTARTSYS : -EINTR;
}

int __waiter_sleep(struct waiter *w, plat_mutex_t *lock, const struct wait_ctl *ctl,
		   int64_t spin_ns, int *spun)
{
	struct wait_stats *st = w->stats;
	int64_t now;
	int r;

	if (spun)
		*spun = -2;	/* woken before it slept: nothing to wait for */
	r = (int)plat_event_reason(&w->ev);
	if (r)
		goto woken;
	if (spun)
		*spun = -1;	/* did not spin */
	now = plat_now_ns();
	if (ctl->deadline <= now) {
		if (ctl->deadline != WAIT_NONBLOCK)
			STAT_ADD(st->timeouts, 1);
		return -EAGAIN;
	}
	STAT_ADD(st->blocked, 1);
	__atomic_store_n(&w->counted, 1, __ATOMIC_RELAXED);
	trace_event(TRACE_SLEEP, 0, trace_id(w), spin_ns, 0);
	if (ctl->intr) {
		plat_mutex_lock(&intr_lock);
		list_add(&w->intr_link, &intr_sleepers);
		plat_mutex_unlock(&intr_lock);
	}
	plat_mutex_unlock(lock);

	if (spin_ns > 0 && (!ctl->intr || (wait_signal_pending && wait_signal_pending() == 0)) &&
	    now >= atomic_load_explicit(&spin_holdoff_until, memory_order_relaxed)) {
		int64_t end = ctl->deadline - now < spin_ns ? ctl->deadline : now + spin_ns;

		r = wait_spin(w, end, ctl->intr);
		if (spun)
			*spun = r != 0;
	}
	if (!r && ctl->intr && wait_signal_pending && wait_signal_pending() > 0)
		r = WAKE_SIGNAL;	/* caught before the futex call could see it */
	while (!r) {
		r = plat_event_wait(&w->ev, ctl->deadline);
		if (r == -EINTR && !ctl->intr) {
			wait_relay_signal();
			r = 0;	/* not ours to handle: sleep on */
		}
	}

	if (ctl->intr) {
		plat_mutex_lock(&intr_lock);
		list_del_init(&w->intr_link);
		plat_mutex_unlock(&intr_lock);
	}
	plat_mutex_lock(lock);
	trace_event(TRACE_SLEEP_END, 0, trace_id(w), r, 0);
	waiter_uncount(w);
woken:
	switch (r) {
	case WAKE_EVENT:
		if (spun && *spun > 0)
			STAT_ADD(st->spin_wakes, 1);
		return 0;
	case WAKE_KICK:
		STAT_ADD(st->kicks, 1);
		return 0;
	case WAKE_SIGNAL:
	case -EINTR:
		STAT_ADD(st->kicks, 1);
		return wait_intr_errno(ctl);
	default:	/* -ETIMEDOUT */
		STAT_ADD(st->timeouts, 1);
		return -EAGAIN;
	}
}

int64_t __wait_spin_budget(struct wait_spin *s, const struct wait_spin_cfg *cfg)
{
	int64_t budget = 0;

	if (cfg->adaptive_max_ns > 0) {
		if (s->budget_ns < 0 || s->budget_ns > cfg->adaptive_max_ns)
			s->budget_ns = (int32_t)(cfg->adaptive_max_ns / 2);
		budget = s->budget_ns;
		if (!budget && ++s->skipped >= SPIN_PROBE_EVERY) {
			s->skipped = 0;
			budget = cfg->adaptive_max_ns / 8;	/* probe */
		}
	}
	return budget > cfg->fixed_ns ? budget : cfg->fixed_ns;
}

/*
 * Learn from one sleep that spun (@spun as __waiter_sleep's) and waited
 * @waited_ns in all: a wake-up caught while spinning grows the budget to
 * twice what it took and a quarter more; a spin that ran out halves it,
 * down to nothing.
 */
void __wait_spin_result(struct wait_spin *s, const struct wait_spin_cfg *cfg,
			int spun, int64_t waited_ns)
{
	int64_t b = s->budget_ns > 0 ? s->budget_ns : 0;

	if (cfg->adaptive_max_ns <= 0 || spun < 0)
		return;
	if (spun) {
		if (b < 2 * waited_ns)
			b = 2 * waited_ns;
		b += b / 4 + SPIN_MIN_NS;
		if (b > cfg->adaptive_max_ns)
			b = cfg->adaptive_max_ns;
	} else {
		b /= 2;
		if (b < SPIN_MIN_NS)
			b = 0;
	}
	s->budget_ns = (int32_t)b;
}

int __wait_sleep(struct wait_queue_head *wq, plat_mutex_t *lock, struct wait_ctl *ctl,
		 struct wait_stats *stats, const struct wait_spin_cfg *spin, int exclusive)
{
	struct wait_queue_entry e;
	struct waiter w;
	int64_t spin_ns = 0, t0 = 0;
	int r, spun;

	waiter_init(&w, stats);
	plat_mutex_lock(&wq->lock);
	wq_link(wq, &e, &w, exclusive);
	if (spin)
		spin_ns = __wait_spin_budget(&wq->spin, spin);
	plat_mutex_unlock(&wq->lock);
	if (spin)
		t0 = plat_now_ns();
	r = __waiter_sleep(&w, lock, ctl, spin_ns, &spun);
	plat_mutex_lock(&wq->lock);
	list_del_init(&e.link);
	ctl->granted = w.granted;	/* final: no grant reaches an entry off the queue */
	if (spin && spun >= 0)
		__wait_spin_result(&wq->spin, spin, spun, plat_now_ns() - t0);
	plat_mutex_unlock(&wq->lock);
	return r;
}

void wait_ctl_begin(struct wait_ctl *ctl, int64_t timeo)
{
	if (ctl->deadline == 0) {
		if (timeo < 0)
			ctl->deadline = PLAT_FOREVER;
		else if (timeo == 0)
			ctl->deadline = WAIT_NONBLOCK;
		else
			ctl->deadline = plat_now_ns() + timeo;
	}
}

int64_t wait_ctl_remaining(const struct wait_ctl *ctl)
{
	int64_t now;

	if (ctl->deadline == PLAT_FOREVER)
		return -1;
	now = plat_now_ns();
	return ctl->deadline > now ? ctl->deadline - now : 0;
}
