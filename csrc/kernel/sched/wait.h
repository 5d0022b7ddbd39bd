/*
 * kernel/sched/wait.h - wait queues and the one way a call sleeps.
 *
 * A wait queue is a list of entries, each pointing at a waiter: one thread
 * asleep on its own wake-up event (plat_event_t).  A thread waiting on
 * several queues at once (poll) adds one entry per queue, all pointing at
 * the same waiter, and is woken by whichever queue fires first.
 *
 * Sleeping follows Linux's prepare_to_wait / check the condition /
 * schedule / finish_wait: the caller checks its condition with the queue's
 * lock held, queues its waiter (__wq_add) without dropping the lock, and
 * only then lets __waiter_sleep() drop it.  A waker changes the state and
 * wakes under the same lock, so a wake-up between the check and the sleep
 * is posted on the waiter's event and the sleep returns at once: no wake-up
 * is lost.  __wait_sleep() is the whole pattern for one queue (the caller
 * loops on its condition around it, as Linux's wait_event does);
 * __waiter_sleep() is its core, for a waiter on several queues (poll).
 *
 * A sleep ends for one of four reasons, and nothing else -- there is no
 * periodic wake-up:
 *   - its event: a waker's __wake_up*() (returns 0; the caller re-checks);
 *   - a kick: __kick_all(), used by teardown (returns 0; the caller finds
 *     out what happened, e.g. the net is dead);
 *   - its deadline (returns -EAGAIN);
 *   - a signal, if the sleep is interruptible (wait_ctl.intr): -ERESTARTSYS,
 *     or -EINTR when the call has a timeout (Linux's sock_intr_errno).  The
 *     caller returns what it has done so far, else that error; the embedder
 *     runs its signal handlers and restarts the call from scratch.
 *
 * Signals reach a sleeper through the platform: plat_event_wait returns
 * -EINTR (on the host platform, a handler installed without SA_RESTART
 * makes the futex sleep of the thread it runs in return EINTR).  Only
 * interruptible sleepers act on it (in Python only the main
 * thread runs signal handlers, so the bridge makes only its sleeps
 * interruptible).  A process-directed signal may land on another thread
 * asleep here; that thread relays it -- it kicks every interruptible sleeper
 * (wait.c keeps a list of them) and goes back to sleep -- so a Ctrl-C that
 * lands on a reader thread still wakes the main thread.  Left open, as in
 * any blocking system call made from Python: a signal handled in the main
 * thread just before it starts to sleep is noticed only when the sleep ends
 * -- with the embedder's wait_signal_pending (below), only one handled in
 * the few instructions between the sleeper's last look at it and the
 * futex call.
 *
 * Spinning: before it sleeps in the host kernel a waiter may spin (with the
 * lock dropped, the waiter queued) for a wake-up that comes within
 * microseconds, which then costs no futex sleep or wake.  The bound is the
 * larger of a fixed spin (SO_BUSY_POLL) and an adaptive one: each wait
 * queue keeps a budget that grows when a spin catches its wake-up and
 * halves when it does not, down to zero (no spinning); after a run of
 * sleeps without spinning one short probe spin re-learns.  When the peer
 * is not running -- a loaded machine -- spins stop paying and the budget
 * decays to nothing.  An interruptible sleeper spins only if the embedder
 * can tell it a signal was caught (wait_signal_pending, below): a handler
 * that runs while it spins does not end its futex sleep, so the spin
 * checks for one as it goes, and so does every interruptible sleeper just
 * before the futex call -- which leaves only the few instructions between
 * that check and the call.  Without the hook an interruptible sleeper
 * does not spin and the window is the same few instructions, from its
 * last look at its condition.  Wakers post only to waiters
 * that exist (the queue is checked first) and enter the host kernel only
 * for a waiter really asleep in it -- once they have dropped their locks
 * (the platform defers that wake-up, as Linux's wake_q does: see
 * plat_wake_hold in platform.h).
 *
 * Locking: each wait queue has its own lock (wait_queue_head.lock, as
 * Linux's wait_queue_head_t has a spinlock) over its list of sleepers'
 * entries and its adaptive spin state.  Adding, removing and waking take
 * it themselves, so a waker needs no other lock to post a sleeper, and
 * the entries and waiters of a queue stay valid while its lock is held (a
 * sleeper takes its entry off under it before its stack frame goes).  The
 * functions prefixed "__" still expect the caller to hold the lock of the
 * queue's owner -- the one the sleeper passes to __wait_sleep (a
 * socket's state lock, or its net's lock for a pipe's queues; see
 * net/unix/unix_socket.h) -- because of three things that lock still
 * serialises:
 *   - the sleeper's condition: __wait_sleep's caller checks it before it
 *     queues, so a waker that changes it must hold that lock;
 *   - wq_active(), the wakers' unlocked fast-path check, exact only under
 *     it;
 *   - callback entries, on their own list of the queue: added, removed and
 *     run under the owner's lock, not the queue's (they recompute socket
 *     state, and may move their owner's entries between queues).
 * A waker holding no lock but the queue's own (which __wake_up*_slow()
 * take) is race-free for a queue without callback entries whose sleepers
 * queue before their last check of the condition, as a poll pass does
 * (prepare_to_wait, then the check).
 * Order: owner's lock -> queue lock; two queue locks are never held at
 * once.  The waiter sleeps with every lock released.  wait_stats and a
 * waiter's "counted" flag are atomic (relaxed): the waker that posts a
 * waiter and the waiter itself may drop its blocked count under different
 * locks, and exactly one of them does.  wait.c's list of interruptible
 * sleepers has its own process-wide lock, taken with or without the
 * owner's lock, never the other way round and never with a queue lock; the
 * signal relay takes it with no other lock held.
 */
#ifndef MENIOS_WAIT_H
#define MENIOS_WAIT_H

#include <stdint.h>
#include "../errno.h"
#include "../list.h"
#include "../../platform/platform.h"

/* Why a waiter's event was posted. */
enum {
	WAKE_EVENT = 1,		/* what it waited for may have happened */
	WAKE_KICK = 2,		/* teardown: stop waiting */
	WAKE_SIGNAL = 3,	/* a signal was delivered to another thread */
};

/* What the sleeps of one lock's queues add up to (exported as counters). */
struct wait_stats {
	int64_t blocked;	/* asleep and not yet woken */
	int64_t kicks;		/* sleeps ended by a kick or a signal, not their event */
	int64_t timeouts;	/* sleeps ended by their deadline */
	int64_t spin_wakes;	/* sleeps whose wake-up came while still spinning */
};

/* Adaptive spin budget (see above); -1 until first used. */
struct wait_spin {
	int32_t budget_ns;
	int32_t skipped;	/* sleeps in a row with no budget */
};

struct waiter {
	plat_event_t ev;
	struct wait_stats *stats;	/* whose blocked count this sleep holds */
	int counted;			/* counted in stats->blocked, not yet woken
					 * (atomic: the poster and the owner race
					 * to clear it) */
	struct list_head intr_link;	/* on the interruptible list while asleep */
	int granted;			/* woken by __wake_up_grant(): see there */
};

struct wait_queue_entry;
/* A callback entry's function: runs under the owner's lock at each wake-up
 * (@events: the poll key, ~0 for an unkeyed wake-up or a kick).  It may
 * add or remove its owner's entries on other queues and remove this one,
 * and must not touch other entries of the queue being woken. */
typedef void (*wait_func_t)(struct wait_queue_entry *e, unsigned int events);

struct wait_queue_entry {
	struct list_head link;
	struct wait_queue_head *wq;	/* the queue it is on (a sleeper's entry) */
	struct waiter *w;	/* the sleeper to wake, or NULL for a callback entry */
	wait_func_t func;	/* callback entry (Linux's wait_queue_entry.func) */
	int exclusive;		/* woken one at a time (accept), after all non-exclusive ones */
	unsigned int key;	/* poll events it waits for; 0: any wake-up */
};

struct wait_queue_head {
	plat_mutex_t lock;		/* head and spin (see Locking above) */
	struct list_head head;		/* sleepers' entries */
	struct list_head callbacks;	/* callback entries, under the owner's lock */
	struct wait_spin spin;
};

/*
 * How a blocking call may sleep.  @deadline is absolute (monotonic ns):
 * 0 until the call computes it from its timeout on first entry (a call
 * restarted after a signal keeps it, so a timeout bounds the whole call),
 * WAIT_NONBLOCK never to sleep, PLAT_FOREVER for no timeout.  @intr: a
 * signal ends the sleep.  @granted (out): the last __wait_sleep() was
 * handed a grant (__wake_up_grant), whatever ended it.
 */
struct wait_ctl {
	int64_t deadline;
	int intr;
	int granted;
};

#define WAIT_NONBLOCK 1		/* a deadline already past */

/* How long a waiter may spin before it sleeps. */
struct wait_spin_cfg {
	int64_t fixed_ns;	/* always spin this long (SO_BUSY_POLL) */
	int64_t adaptive_max_ns; /* bound of the adaptive spin; 0: none */
};

static inline void wait_spin_init(struct wait_spin *s)
{
	s->budget_ns = -1;
	s->skipped = 0;
}

static inline void wq_init(struct wait_queue_head *wq)
{
	plat_mutex_init(&wq->lock);
	INIT_LIST_HEAD(&wq->head);
	INIT_LIST_HEAD(&wq->callbacks);
	wait_spin_init(&wq->spin);
}

/* Before the queue's memory goes: nobody may be on it. */
static inline void wq_destroy(struct wait_queue_head *wq)
{
	plat_mutex_destroy(&wq->lock);
}

/* Anybody to wake?  (skwq_has_sleeper; the owner's lock makes it exact.) */
static inline int wq_active(const struct wait_queue_head *wq)
{
	return !list_empty(&wq->head) || !list_empty(&wq->callbacks);
}

/*
 * signal_pending(current), as the embedder knows it: set by an embedder
 * whose signal handlers only note the signal for its own code to act on
 * later (Python's C-level handler).  Called by interruptible sleepers
 * only; returns 1 if a signal was caught and not yet acted on, 0 if none,
 * -1 if it cannot tell.  NULL (the default) is "cannot tell".  1 ends the
 * sleep as a signal does (-ERESTARTSYS or -EINTR).
 */
extern int (*wait_signal_pending)(void);

/* Arm @w for one sleep (or one poll pass); @stats takes its blocked count. */
void waiter_init(struct waiter *w, struct wait_stats *stats);

void __wq_add(struct wait_queue_head *wq, struct wait_queue_entry *e,
	      struct waiter *w, int exclusive);
void __wq_del(struct wait_queue_entry *e);
/* Queue a callback entry (never exclusive): every wake-up of @wq calls @func
 * instead of posting a waiter (epoll's ep_poll_callback). */
void __wq_add_callback(struct wait_queue_head *wq, struct wait_queue_entry *e,
		       wait_func_t func);

void __wake_up_slow(struct wait_queue_head *wq, int nr_exclusive);
void __wake_up_all_slow(struct wait_queue_head *wq, uint32_t reason);
void __wake_up_poll_slow(struct wait_queue_head *wq, unsigned int events);

/* Wake every non-exclusive waiter and up to @nr_exclusive exclusive ones. */
static inline void __wake_up(struct wait_queue_head *wq, int nr_exclusive)
{
	if (wq_active(wq))
		__wake_up_slow(wq, nr_exclusive);
}

/*
 * A wake-up that hands something on to one exclusive waiter, as when a
 * reader hands the room it made to one sender: every non-exclusive waiter
 * and the callbacks are woken as by __wake_up() (if @shared), and the
 * first exclusive waiter not yet woken is woken with a grant -- its sleep
 * reports ctl->granted even if it also timed out or was signalled, and it
 * owes the queue's owner what the grant stands for (net/unix/dgram.c).
 * Returns 1 if a waiter was granted, 0 if none was there to take it.
 */
int __wake_up_grant_slow(struct wait_queue_head *wq, int shared);

static inline int __wake_up_grant(struct wait_queue_head *wq, int shared)
{
	return wq_active(wq) ? __wake_up_grant_slow(wq, shared) : 0;
}

/* Wake everybody: state changes such as close or shutdown. */
static inline void __wake_up_all(struct wait_queue_head *wq)
{
	if (wq_active(wq))
		__wake_up_all_slow(wq, WAKE_EVENT);
}

/* Kick everybody: teardown.  Counted as kicks, not as events. */
static inline void __kick_all(struct wait_queue_head *wq)
{
	if (wq_active(wq))
		__wake_up_all_slow(wq, WAKE_KICK);
}

/* A wake-up about @events only (wake_up_interruptible_poll with a key). */
static inline void __wake_up_poll(struct wait_queue_head *wq, unsigned int events)
{
	if (wq_active(wq))
		__wake_up_poll_slow(wq, events);
}

/*
 * schedule(): @w is armed and queued on every queue it waits on; drop
 * @lock, spin up to @spin_ns, sleep until @w's event, the deadline or (if
 * ctl->intr) a signal, and take @lock again.  Returns 0 (event or kick),
 * -EAGAIN, -ERESTARTSYS or -EINTR, and in *@spun (if not NULL) 1 if the
 * wake-up came while spinning, 0 if the spin ran out, -1 if it did not
 * spin, -2 if @w was woken before it could sleep.  The caller dequeues @w
 * afterwards.
 */
int __waiter_sleep(struct waiter *w, plat_mutex_t *lock, const struct wait_ctl *ctl,
		   int64_t spin_ns, int *spun);

/* How long to spin on a queue with adaptive state @s; then report how the
 * sleep went (@spun as __waiter_sleep's, @waited_ns spin included). */
int64_t __wait_spin_budget(struct wait_spin *s, const struct wait_spin_cfg *cfg);
void __wait_spin_result(struct wait_spin *s, const struct wait_spin_cfg *cfg,
			int spun, int64_t waited_ns);

/* One sleep on one queue: prepare, __waiter_sleep, finish; same returns. */
int __wait_sleep(struct wait_queue_head *wq, plat_mutex_t *lock, struct wait_ctl *ctl,
		 struct wait_stats *stats, const struct wait_spin_cfg *spin, int exclusive);

/* A signal ended a futex sleep of a thread that does not handle signals:
 * pass it on to every interruptible sleeper.  Call with no lock held. */
void wait_relay_signal(void);

/* Start (or restart) a blocking call whose timeout is @timeo ns (-1: none). */
void wait_ctl_begin(struct wait_ctl *ctl, int64_t timeo);
/* Remaining timeout in ns: 0 when it has expired or the call is non-blocking. */
int64_t wait_ctl_remaining(const struct wait_ctl *ctl);

#endif
