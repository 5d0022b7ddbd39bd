/*
 * kernel/sched/wait.h - wait queues.
 *
 * A wait queue is a list of entries, each pointing at a waiter: one thread
 * asleep on its own condition variable.  A thread waiting on several queues at
 * once (poll) adds one entry per queue, all pointing at the same waiter, and is
 * woken by whichever queue fires first.
 *
 * Locking: every wait queue is protected by the lock of the unix_net that owns
 * it (see net/unix/unix_socket.h); the functions prefixed "__" expect the
 * caller to hold it.  The waiter sleeps with that lock released.
 */
#ifndef MENIOS_WAIT_H
#define MENIOS_WAIT_H

#include <stdatomic.h>
#include <stdint.h>
#include "../list.h"
#include "../../platform/host.h"

struct wait_ctl;

struct waiter {
	plat_cond_t cond;
	atomic_int woken;	/* written under the net lock; read lock-free while busy-polling */
	struct wait_ctl *ctl;	/* the sleeping call's, for the blocked count (below) */
};

struct wait_queue_entry {
	struct list_head link;
	struct waiter *w;
	int exclusive;		/* woken one at a time (accept), after all non-exclusive ones */
	unsigned int key;	/* poll events it waits for; 0: any wake-up */
};

struct wait_queue_head {
	struct list_head head;
	/* bumped by every wake-up, so a sleeper that was off the queue between
	 * two slices can tell whether it missed one */
	unsigned long wake_seq;
};

/*
 * How long a blocking call may sleep.  @deadline is absolute (monotonic ns):
 * 0 until the call computes it from its timeout on first entry, PLAT_FOREVER
 * for no timeout.  @slice bounds one uninterrupted sleep: when it runs out the
 * call returns -ERESTARTSYS with its progress kept, so the caller can run
 * signal handlers and call again with the same wait_ctl.  0 means no slicing.
 */
struct wait_ctl {
	int64_t deadline;
	int64_t slice;
	int64_t slice_end;	/* private: set by wait_ctl_begin() */
	int64_t *blocked;	/* private: the count this call holds, or NULL */
};

/*
 * Blocked-call accounting (unix_counters.blocked): a call counts from its
 * first sleep until something wakes it -- the waker drops the count, so it
 * is exact the moment the waking call returns -- or until it gives up
 * (timeout, shutdown).  A call that ran out of its slice (-ERESTARTSYS) is
 * still blocked and keeps its count while its caller runs signal handlers;
 * a wakeup that lands in that gap finds no waiter, so the count is dropped
 * when the call ends: whoever drives a blocking call must end it with
 * unix_wait_end() (net/unix/unix_socket.h).  Under the net lock.
 */
static inline void __wait_ctl_block(struct wait_ctl *ctl, int64_t *counter)
{
	if (!ctl->blocked) {
		ctl->blocked = counter;
		++*counter;
	}
}

static inline void __wait_ctl_unblock(struct wait_ctl *ctl)
{
	if (ctl->blocked) {
		--*ctl->blocked;
		ctl->blocked = NULL;
	}
}

#ifndef ERESTARTSYS
#define ERESTARTSYS 512		/* kernel-internal: the caller restarts the call */
#endif

static inline void wq_init(struct wait_queue_head *wq)
{
	INIT_LIST_HEAD(&wq->head);
	wq->wake_seq = 0;
}

static inline int wq_active(const struct wait_queue_head *wq)
{
	return !list_empty(&wq->head);
}

void waiter_init(struct waiter *w);
void waiter_destroy(struct waiter *w);

void __wq_add(struct wait_queue_head *wq, struct wait_queue_entry *e,
	      struct waiter *w, int exclusive);
void __wq_del(struct wait_queue_entry *e);
/* Wake every non-exclusive waiter and up to @nr_exclusive exclusive ones. */
void __wake_up(struct wait_queue_head *wq, int nr_exclusive);
/* Wake everybody: state changes such as close, shutdown or net teardown. */
void __wake_up_all(struct wait_queue_head *wq);
void __wake_up_poll(struct wait_queue_head *wq, unsigned int events);

/* Start (or resume) a blocking call whose timeout is @timeo ns (-1: none). */
void wait_ctl_begin(struct wait_ctl *ctl, int64_t timeo);
/* Remaining timeout in ns: 0 when it has expired or the call is non-blocking. */
int64_t wait_ctl_remaining(const struct wait_ctl *ctl);

#endif
