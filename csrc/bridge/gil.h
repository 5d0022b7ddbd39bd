/*
 * bridge/gil.h - handing an embedder's global interpreter lock between the
 * threads that call into the core (Python's GIL, for the Cython bridge).
 * Not part of the kernel: a kernel port leaves csrc/bridge/ out.
 *
 * The bridge makes some core calls with the GIL released (a blocking
 * sleep, a large copy).  A thread that comes back from one while another
 * thread holds the GIL would sleep on the GIL's condition variable, and
 * the holder's next release would have to wake it: a futex sleep and a
 * wake-up for every hand-over.  Two threads streaming through a socket
 * hand the GIL over on every call -- each runs a little Python between
 * calls made without the GIL -- and a woken sleeper usually finds its
 * waker holding the GIL, since the call that woke it ran with it.
 *
 * So a thread coming back waits, with the GIL still released, until the
 * thread that may hold it lets go, and then takes it: gil_settle().  The
 * busy flag says "a thread of the bridge holds the GIL": gil_enter() sets
 * it when a thread makes a core call holding the GIL or takes it back
 * after a call made without it; gil_leave() clears it whenever a thread
 * of the bridge releases the GIL.  It is a hint -- a thread that goes on
 * to release the GIL outside the bridge (host I/O, a sleep) leaves it set
 * -- so the wait is bounded, and a wait that runs out clears it.
 *
 * The waking side: a futex wake-up often runs the woken thread at once on
 * the waker's CPU, preempting it with the GIL still held.  The platform
 * keeps such wake-ups until the bridge flushes them (plat_wake_hold), and
 * a thread that works in requests and replies -- its calls alternate
 * between sending and receiving on one socket -- lets go of the GIL
 * before it flushes: it is about to wait for the reply, and the woken
 * peer runs with the GIL free.  A thread that goes on the same way (a
 * writer streaming, a receiver draining a queue whose senders it wakes)
 * keeps the GIL and wakes at once: handing the GIL over there would only
 * stall it.  gil_wake_observe() learns which kind of thread it runs in.
 *
 * Concurrency: the busy flag and the settle hold-off are process-wide
 * atomics (relaxed, but for the release/acquire pair on the flag that
 * publishes the holder's let-go); the request/reply state is per thread.
 * No lock is taken.
 */
#ifndef MENIOS_BRIDGE_GIL_H
#define MENIOS_BRIDGE_GIL_H

#include <stdatomic.h>
#include <stdint.h>

extern _Atomic int gil_busy_flag;

/* A thread of the bridge holds the GIL (it just took it, or is about to
 * make a core call holding it). */
static inline void gil_enter(void)
{
	if (!atomic_load_explicit(&gil_busy_flag, memory_order_relaxed))
		atomic_store_explicit(&gil_busy_flag, 1, memory_order_relaxed);
}

/* A thread of the bridge releases the GIL. */
static inline void gil_leave(void)
{
	if (atomic_load_explicit(&gil_busy_flag, memory_order_relaxed))
		atomic_store_explicit(&gil_busy_flag, 0, memory_order_release);
}

static inline int gil_is_busy(void)
{
	return atomic_load_explicit(&gil_busy_flag, memory_order_acquire);
}

/* How a gil_settle() ended. */
enum gil_settle_end {
	GIL_SETTLE_IDLE,	/* the flag was clear on entry */
	GIL_SETTLE_FREE,	/* the holder let go while we waited */
	GIL_SETTLE_HELD_OFF,	/* yields are held off (see below): no wait past the spin */
	GIL_SETTLE_BOUND,	/* the bound ran out: the flag is cleared */
	GIL_SETTLE_LONG_YIELD,	/* a yield handed the CPU away for long */
};

/*
 * Wait up to @bound_ns for the busy flag to clear: a microsecond of
 * cpu_relax (the holder runs on another CPU and lets go that soon), then
 * yields (this thread's wake-up preempted the holder on this CPU).  A
 * yield that took long ends the wait; one that took very long handed a
 * time slice to some other thread -- a loaded machine, where a CPU hog
 * would get one at every wake-up -- and stops these yields for a while in
 * every thread (gil_settle_hold_off).  Returns an enum gil_settle_end.
 */
int gil_settle(int64_t bound_ns);

/*
 * A settling yield handed a time slice away at @now: hold yields off for
 * 1 ms, twice as long as last time (up to 100 ms) if that hold-off ended
 * less than its own length ago -- so a machine kept busy by a CPU hog
 * soon sees a yield at most every 100 ms, and a passing contention costs
 * a millisecond of settling without yields.  Returns the hold-off's
 * length.  (gil_settle calls it; exported for the tests.)
 */
int64_t gil_settle_hold_off(int64_t now);

/* The thread's request/reply counter and its last GIL-held call. */
struct gil_wake_pattern {
	int pred, op;
	const void *sk;
};

#define GIL_WAKE_PATTERN_MAX		3	/* the counter saturates here */
#define GIL_WAKE_PATTERN_REQREPLY	2	/* and says "request/reply" from here */

/* Defined in gil.c; initial-exec: one instruction an access, every call. */
extern _Thread_local struct gil_wake_pattern gil_wake_pattern
	__attribute__((tls_model("initial-exec")));

/*
 * A core call @op on @sk is about to be made with the GIL held: learn from
 * it whether this thread works in requests and replies (its calls
 * alternate between sending and receiving on one socket); returns 1 if it
 * does.  A per-thread counter, 0..3, that rises on each alternation and
 * falls otherwise.  Inline: it runs in every GIL-held system call.
 */
static inline int gil_wake_observe(int op, const void *sk)
{
	struct gil_wake_pattern *p = &gil_wake_pattern;

	if (sk == p->sk && op != p->op) {
		if (p->pred < GIL_WAKE_PATTERN_MAX)
			p->pred++;
	} else if (p->pred > 0) {
		p->pred--;
	}
	p->op = op;
	p->sk = sk;
	return p->pred >= GIL_WAKE_PATTERN_REQREPLY;
}

#endif
