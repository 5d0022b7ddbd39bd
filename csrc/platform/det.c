/*
 * platform/det.c - the deterministic platform (det.h): a cooperative
 * scheduler over ucontext, virtual time, locks that assert they are free.
 *
 * Locking: none.  Everything here runs on one host thread and a switch
 * happens only inside det_schedule(), so no state below is ever shared
 * with a concurrent caller.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* ucontext */
#endif

#include "det.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

#define DET_MAX_THREADS	64
#define DET_STACK_SIZE	(1024 * 1024)
#define DET_READYFDS	64
#define DET_READYFD0	1000	/* the first readiness fd number */
#define DET_T0		1000000000LL	/* virtual time at start: 1 s */

enum det_state {
	DET_FREE,
	DET_RUNNABLE,
	DET_BLOCKED,
	DET_DONE,
};

struct det_thread {
	int id;
	enum det_state state;
	ucontext_t ctx;
	void *stack;
	void *(*fn)(void *);
	void *arg, *ret;
	int locks_held;
	/* what a blocked thread waits for: any of these */
	plat_event_t *wait_ev;
	plat_cond_t *wait_cond;
	struct det_thread *wait_join;
	int64_t wake_at;		/* deadline, PLAT_FOREVER: none */
	int interrupted;		/* det_thread_signal ended its event wait */
};

static struct det_thread threads[DET_MAX_THREADS];
static struct det_thread *cur;
static int64_t now_ns = DET_T0;
static uint64_t rng = 1;
static int seeded;
static uint64_t switches;

static struct {
	int used;
	int readable, writable;
} readyfds[DET_READYFDS];

static void det_fail(const char *what)
{
	int i;

	fprintf(stderr, "det: %s (thread %d, t=%lld ns, %llu switches)\n", what,
		cur ? cur->id : -1, (long long)now_ns, (unsigned long long)switches);
	for (i = 0; i < DET_MAX_THREADS; i++) {
		struct det_thread *t = &threads[i];

		if (t->state == DET_FREE)
			continue;
		fprintf(stderr, "  thread %d: %s%s%s%s locks=%d wake_at=%lld\n", t->id,
			t->state == DET_RUNNABLE ? "runnable" :
			t->state == DET_BLOCKED ? "blocked" : "done",
			t->wait_ev ? " on an event" : "", t->wait_cond ? " on a cond" : "",
			t->wait_join ? " joining" : "", t->locks_held,
			t->wake_at == PLAT_FOREVER ? -1LL : (long long)t->wake_at);
	}
	abort();
}

#define DET_ASSERT(cond) do { if (!(cond)) det_fail("assertion failed: " #cond); } while (0)

static void det_init(void)
{
	const char *s;

	if (cur)
		return;
	if (!seeded && (s = getenv("MENIOS_DET_SEED")) && *s)
		det_seed(strtoull(s, NULL, 0));
	cur = &threads[0];
	cur->id = 0;
	cur->state = DET_RUNNABLE;
	cur->wake_at = PLAT_FOREVER;
}

void det_seed(uint64_t seed)
{
	rng = seed ? seed : 0x9e3779b97f4a7c15ull;
	seeded = 1;
}

uint64_t det_switches(void)
{
	return switches;
}

/* xorshift64*: the schedule's only source of choice. */
static uint64_t det_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/* Blocked threads whose wait is over become runnable. */
static void det_wake_due(void)
{
	int i;

	for (i = 0; i < DET_MAX_THREADS; i++) {
		struct det_thread *t = &threads[i];

		if (t->state == DET_BLOCKED && t->wake_at <= now_ns)
			t->state = DET_RUNNABLE;
	}
}

/*
 * Pick the next thread among the runnable ones and switch to it (it may be
 * the caller, if runnable).  With none runnable, virtual time jumps to the
 * earliest deadline; with no deadline either, the program is deadlocked.
 */
static void det_schedule(void)
{
	struct det_thread *run[DET_MAX_THREADS], *next, *prev;
	int i, n;

	for (;;) {
		n = 0;
		for (i = 0; i < DET_MAX_THREADS; i++)
			if (threads[i].state == DET_RUNNABLE)
				run[n++] = &threads[i];
		if (n)
			break;
		{
			int64_t t = PLAT_FOREVER;

			for (i = 0; i < DET_MAX_THREADS; i++)
				if (threads[i].state == DET_BLOCKED && threads[i].wake_at < t)
					t = threads[i].wake_at;
			if (t == PLAT_FOREVER)
				det_fail("deadlock: every thread is blocked with no deadline");
			if (t > now_ns)
				now_ns = t;
			det_wake_due();
		}
	}
	next = run[n > 1 ? det_rand() % (uint64_t)n : 0];
	switches++;
	if (next == cur)
		return;
	prev = cur;
	cur = next;
	if (swapcontext(&prev->ctx, &next->ctx) != 0)
		det_fail("swapcontext failed");
}

/* Block the caller until its wait is over (the waker or the clock makes it
 * runnable again). */
static void det_block(void)
{
	cur->state = DET_BLOCKED;
	det_schedule();
	cur->wait_ev = NULL;
	cur->wait_cond = NULL;
	cur->wait_join = NULL;
	cur->wake_at = PLAT_FOREVER;
}

void det_yield(void)
{
	det_init();
	DET_ASSERT(cur->locks_held == 0);
	det_schedule();
}

static void det_thread_entry(void)
{
	struct det_thread *t = cur;
	int i;

	t->ret = t->fn(t->arg);
	DET_ASSERT(t->locks_held == 0);
	t->state = DET_DONE;
	for (i = 0; i < DET_MAX_THREADS; i++)
		if (threads[i].state == DET_BLOCKED && threads[i].wait_join == t)
			threads[i].state = DET_RUNNABLE;
	det_schedule();
	det_fail("a finished thread was scheduled");
}

/* getcontext returns twice: kept apart from callers' locals. */
static __attribute__((noinline)) int det_make_context(struct det_thread *t)
{
	if (getcontext(&t->ctx) != 0)
		return -1;
	t->ctx.uc_stack.ss_sp = t->stack;
	t->ctx.uc_stack.ss_size = DET_STACK_SIZE;
	t->ctx.uc_link = NULL;
	makecontext(&t->ctx, det_thread_entry, 0);
	return 0;
}

struct det_thread *det_thread_create(void *(*fn)(void *), void *arg)
{
	struct det_thread *t = NULL;
	int i;

	det_init();
	for (i = 1; i < DET_MAX_THREADS; i++) {
		if (threads[i].state == DET_FREE) {
			t = &threads[i];
			break;
		}
	}
	if (!t)
		return NULL;
	t->stack = malloc(DET_STACK_SIZE);
	if (!t->stack)
		return NULL;
	if (det_make_context(t) != 0) {
		free(t->stack);
		t->stack = NULL;
		return NULL;
	}
	t->id = i;
	t->fn = fn;
	t->arg = arg;
	t->ret = NULL;
	t->locks_held = 0;
	t->wait_ev = NULL;
	t->wait_cond = NULL;
	t->wait_join = NULL;
	t->wake_at = PLAT_FOREVER;
	t->interrupted = 0;
	t->state = DET_RUNNABLE;
	return t;
}

void *det_thread_join(struct det_thread *t)
{
	void *ret;

	det_init();
	DET_ASSERT(t != cur && t->state != DET_FREE);
	DET_ASSERT(cur->locks_held == 0);
	while (t->state != DET_DONE) {
		cur->wait_join = t;
		det_block();
	}
	ret = t->ret;
	free(t->stack);
	t->stack = NULL;
	t->state = DET_FREE;
	return ret;
}

int det_thread_signal(struct det_thread *t)
{
	det_init();
	if (t->state != DET_BLOCKED || !t->wait_ev)
		return 0;
	t->interrupted = 1;
	t->state = DET_RUNNABLE;
	return 1;
}

void det_sleep_ns(int64_t ns)
{
	det_init();
	DET_ASSERT(cur->locks_held == 0);
	cur->wake_at = now_ns + (ns > 0 ? ns : 0);
	det_block();
}

/* ---------------------------------------------------------------- locks --- */

static inline struct det_mutex *dm(plat_mutex_t *m)
{
	return (struct det_mutex *)(void *)m->opaque;
}

void plat_mutex_init(plat_mutex_t *m)
{
	dm(m)->held = 0;
	dm(m)->owner = -1;
}

void plat_mutex_destroy(plat_mutex_t *m)
{
	DET_ASSERT(!dm(m)->held);
}

void plat_mutex_lock(plat_mutex_t *m)
{
	det_init();
	if (cur->locks_held == 0)
		det_schedule();		/* a scheduling point: nothing is held */
	DET_ASSERT(!dm(m)->held);
	dm(m)->held = 1;
	dm(m)->owner = cur->id;
	cur->locks_held++;
}

void plat_mutex_unlock(plat_mutex_t *m)
{
	DET_ASSERT(dm(m)->held && dm(m)->owner == cur->id);
	dm(m)->held = 0;
	dm(m)->owner = -1;
	cur->locks_held--;
}

#ifdef MENIOS_DEBUG_LOCKS
void plat_mutex_assert_held(plat_mutex_t *m)
{
	DET_ASSERT(dm(m)->held && dm(m)->owner == cur->id);
}
#endif

void plat_cond_init(plat_cond_t *c)
{
	(void)c;
}

void plat_cond_destroy(plat_cond_t *c)
{
	int i;

	for (i = 0; i < DET_MAX_THREADS; i++)
		DET_ASSERT(threads[i].state != DET_BLOCKED || threads[i].wait_cond != c);
}

/* Wake the waiters on @c: all, or one picked by the schedule. */
static void det_cond_wake(plat_cond_t *c, int all)
{
	struct det_thread *w[DET_MAX_THREADS];
	int i, n = 0;

	for (i = 0; i < DET_MAX_THREADS; i++)
		if (threads[i].state == DET_BLOCKED && threads[i].wait_cond == c)
			w[n++] = &threads[i];
	if (!n)
		return;
	if (all) {
		for (i = 0; i < n; i++)
			w[i]->state = DET_RUNNABLE;
	} else {
		w[det_rand() % (uint64_t)n]->state = DET_RUNNABLE;
	}
}

void plat_cond_signal(plat_cond_t *c)
{
	det_cond_wake(c, 0);
}

void plat_cond_broadcast(plat_cond_t *c)
{
	det_cond_wake(c, 1);
}

void plat_cond_wait_until(plat_cond_t *c, plat_mutex_t *m, int64_t deadline_ns)
{
	det_init();
	plat_mutex_unlock(m);
	DET_ASSERT(cur->locks_held == 0);
	if (deadline_ns > now_ns) {
		cur->wait_cond = c;
		cur->wake_at = deadline_ns;
		det_block();
	}
	DET_ASSERT(!dm(m)->held);
	dm(m)->held = 1;
	dm(m)->owner = cur->id;
	cur->locks_held++;
}

/* --------------------------------------------------------------- events --- */

void plat_event_arm(plat_event_t *e)
{
	atomic_store_explicit(&e->state, 0, memory_order_relaxed);
}

int plat_event_post(plat_event_t *e, uint32_t reason)
{
	int i;

	if (atomic_load_explicit(&e->state, memory_order_relaxed) & PLAT_EVENT_REASONS)
		return 0;
	atomic_store_explicit(&e->state, reason, memory_order_relaxed);
	for (i = 0; i < DET_MAX_THREADS; i++)
		if (threads[i].state == DET_BLOCKED && threads[i].wait_ev == e)
			threads[i].state = DET_RUNNABLE;
	return 1;
}

int plat_event_wait(plat_event_t *e, int64_t deadline_ns)
{
	uint32_t r;

	det_init();
	DET_ASSERT(cur->locks_held == 0);
	for (;;) {
		r = plat_event_reason(e);
		if (r)
			return (int)r;
		if (cur->interrupted) {
			cur->interrupted = 0;
			return -EINTR;
		}
		if (deadline_ns <= now_ns)
			return -ETIMEDOUT;
		cur->wait_ev = e;
		cur->wake_at = deadline_ns;
		det_block();
	}
}

/* ------------------------------------------------------- clock, memory --- */

int64_t plat_now_ns(void)
{
	return now_ns;
}

/* The wall clock: the virtual time from a fixed epoch (2026-01-01). */
#define DET_EPOCH_NS	(1767225600LL * 1000000000LL)

int64_t plat_realtime_ns(void)
{
	return DET_EPOCH_NS + now_ns;
}

void *plat_alloc(size_t size)
{
	return malloc(size);
}

void *plat_zalloc(size_t size)
{
	return calloc(1, size);
}

void plat_free(void *p)
{
	free(p);
}

void *plat_page_alloc(size_t npages)
{
	if (npages > SIZE_MAX / PLAT_PAGE_SIZE)
		return NULL;
	return aligned_alloc(PLAT_PAGE_SIZE, npages * PLAT_PAGE_SIZE);
}

void plat_page_free(void *p, size_t npages)
{
	(void)npages;
	free(p);
}

void plat_cpu_relax(void)
{
}

/* Posts wake their owner at once here: nothing is ever deferred. */
unsigned int plat_wake_hold(int hold)
{
	(void)hold;
	return 0;
}

void plat_wake_flush(void)
{
}

void plat_yield(void)
{
	det_init();
	now_ns += DET_YIELD_NS;
	det_wake_due();
	det_yield();
}

/* ------------------------------------------------------ readiness fds --- */

int plat_readyfd_open(int fds[2])
{
	int i;

	for (i = 0; i + 1 < DET_READYFDS; i += 2) {
		if (readyfds[i].used)
			continue;
		readyfds[i].used = readyfds[i + 1].used = 1;
		readyfds[i].readable = 0;
		readyfds[i].writable = 1;
		fds[0] = DET_READYFD0 + i;
		fds[1] = DET_READYFD0 + i + 1;
		return 0;
	}
	return -EMFILE;
}

void plat_readyfd_close(const int fds[2])
{
	readyfds[fds[0] - DET_READYFD0].used = 0;
	readyfds[fds[1] - DET_READYFD0].used = 0;
}

void plat_readyfd_set(const int fds[2], int readable, int writable)
{
	int i = fds[0] - DET_READYFD0;

	DET_ASSERT(readable < 0 || readable != readyfds[i].readable);
	DET_ASSERT(writable < 0 || writable != readyfds[i].writable);
	if (readable >= 0)
		readyfds[i].readable = readable;
	if (writable >= 0)
		readyfds[i].writable = writable;
}

int det_readyfd_events(int fd)
{
	int i = fd - DET_READYFD0;

	if (i < 0 || i >= DET_READYFDS || !readyfds[i].used || (i & 1))
		return -1;
	return (readyfds[i].readable ? 0x1 : 0) | (readyfds[i].writable ? 0x4 : 0);
}
