/*
 * kernel/trace/trace.h - tracepoints of the core, recorded into one ring.
 *
 * A tracepoint is a call to trace_event() at a place worth watching: an
 * sk_buff allocated, queued, dequeued or freed, a sleep and the wake-up that
 * ends it, a page run handed on and let go, a garbage-collection pass, a
 * system call entering and leaving (the embedder emits those).  Like
 * Linux's tracepoints behind a static key, a disabled tracepoint costs one
 * load of a global flag and a branch predicted not taken; its arguments are
 * not even evaluated.  Built with MENIOS_NO_TRACE, tracepoints vanish, which
 * is how the cost of the disabled ones is measured (benchmarks/README.md).
 *
 * Enabled, each event is a fixed-size record (struct trace_rec) written into
 * a ring the embedder allocated; the embedder drains it.  A full ring drops
 * new events and counts them rather than block or overwrite: a trace has
 * holes, never lies.  The record carries the monotonic time and two
 * per-thread values the embedder sets: the thread's id (trace_set_thread(),
 * 0 until set) and the simulated process the thread is running a system
 * call for (trace_set_pid(); 0 outside system calls).
 *
 * Locking: trace_lock (trace.c) guards the ring: it is a leaf lock, taken
 * with or without any core lock held, and nothing is taken under it.  The
 * enable flag is an atomic read without the lock.
 */
#ifndef MENIOS_TRACE_H
#define MENIOS_TRACE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum trace_type {
	TRACE_SYS_ENTER = 1,	/* nr: call; a: fd; b: socket inode (0: none) */
	TRACE_SYS_EXIT,		/* nr: call; a: result (-errno); b: bytes copied; c: bytes handed off */
	TRACE_SKB_ALLOC,	/* a: skb; b: len; c: truesize */
	TRACE_SKB_QUEUE,	/* a: skb; b: queue; c: len; nr: queue length after */
	TRACE_SKB_DEQUEUE,	/* a: skb; b: queue; c: len; nr: queue length after */
	TRACE_SKB_FREE,		/* a: skb; b: len */
	TRACE_SLEEP,		/* a: waiter; b: spin budget ns */
	TRACE_SLEEP_END,	/* a: waiter; b: reason (WAKE_*) or -errno */
	TRACE_WAKEUP,		/* a: waiter woken; nr: reason (WAKE_*) */
	TRACE_PAGE_ALLOC,	/* a: run; b: pages */
	TRACE_PAGE_GET,		/* a: run; b: references after */
	TRACE_PAGE_PUT,		/* a: run; b: references after (0: freed) */
	TRACE_GC_BEGIN,		/* a: sockets in flight */
	TRACE_GC_END,		/* a: sockets collected */
	TRACE_BLOCK,		/* nr: call; the call goes on to sleep */
	TRACE_UNBLOCK,		/* nr: call; a: result */
	TRACE_COPY,		/* nr: 0 send, 1 receive; a: socket inode; b: payload bytes copied */
	TRACE_HANDOFF,		/* nr: 0 send, 1 receive; a: socket inode; b: bytes; c: page run */
	TRACE_NR_TYPES
};

/* One event: 48 bytes, the layout the embedder decodes. */
struct trace_rec {
	int64_t ts;		/* monotonic ns */
	int64_t a, b, c;
	int32_t tid;		/* thread (trace_set_thread) */
	int32_t pid;		/* simulated process, 0 outside a system call */
	uint16_t type;		/* enum trace_type */
	uint16_t pad;
	uint32_t nr;
};

extern atomic_int trace_enabled;

void __trace_record(unsigned int type, uint32_t nr, int64_t a, int64_t b, int64_t c);

#ifdef MENIOS_NO_TRACE
#define trace_on() 0
/* The arguments are named, never evaluated: no unused-variable warnings. */
#define trace_event(type, nr, a, b, c) \
	((void)sizeof((int64_t)(nr) + (int64_t)(a) + (int64_t)(b) + (int64_t)(c)))
#else
#define trace_on() __builtin_expect(atomic_load_explicit(&trace_enabled, memory_order_relaxed), 0)
#define trace_event(type, nr, a, b, c) do {					\
		if (trace_on())							\
			__trace_record((type), (uint32_t)(nr), (int64_t)(a),	\
				       (int64_t)(b), (int64_t)(c));		\
	} while (0)
#endif

/* A pointer as an event id. */
#define trace_id(p) ((int64_t)(intptr_t)(p))

/*
 * Start recording into @ring (@cap records, owned by the caller until
 * trace_stop returns).  Returns 0, or 1 if a trace is already running.
 */
int trace_start(struct trace_rec *ring, size_t cap);
/* Stop recording; returns the ring given to trace_start (NULL if none). */
struct trace_rec *trace_stop(void);
/* Move up to @max of the oldest recorded events to @out; returns how many. */
size_t trace_drain(struct trace_rec *out, size_t max);
/* Events recorded and not drained yet, and events dropped on a full ring. */
size_t trace_pending(void);
int64_t trace_dropped(void);
/* The simulated process this thread runs a system call for (0: none);
 * returns the previous value. */
int32_t trace_set_pid(int32_t pid);
/* The id this thread's events carry (the embedder's numbering: the bridge
 * uses the host's thread ids), and whether it has one yet (0: none). */
void trace_set_thread(int32_t tid);
int32_t trace_thread(void);

#endif
