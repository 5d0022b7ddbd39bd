/*
 * platform/platform.h - what the AF_UNIX core asks of the machine it runs
 * on, and the only platform header the core includes.
 *
 * Everything the core needs from "the rest of a kernel" besides the host ops
 * table (net/unix/unix_host.h) comes through here: a sleeping mutex, a
 * condition variable, a wake-up event one thread sleeps on (what schedule()
 * and wake_up_process() are to Linux), an allocator for objects and one for
 * page runs, a monotonic clock, cpu_relax and yield, and the readiness fds
 * of net/unix/ready.c.  A platform implements them in one .c file with one
 * .h of its own (host.c/host.h: pthreads, futexes and malloc; det.c/det.h:
 * a deterministic cooperative scheduler); csrc/PORTING.md lists them.
 *
 * The lock types are opaque storage of a fixed size: the core embeds them
 * in its structs by value without knowing what a platform keeps in them.
 * Each platform's .c static_asserts that its own type fits.  All-zero
 * storage is an unlocked mutex that needs no plat_mutex_init
 * (PLAT_MUTEX_INITIALIZER, for process-wide locks).
 *
 * Freestanding: this header uses only the compiler's <stddef.h>,
 * <stdint.h> and <stdatomic.h>.
 */
#ifndef MENIOS_PLATFORM_H
#define MENIOS_PLATFORM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PLAT_MUTEX_SIZE	64
#define PLAT_COND_SIZE	48
#define PLAT_LOCK_ALIGN	8

typedef struct {
	_Alignas(PLAT_LOCK_ALIGN) unsigned char opaque[PLAT_MUTEX_SIZE];
} plat_mutex_t;

typedef struct {
	_Alignas(PLAT_LOCK_ALIGN) unsigned char opaque[PLAT_COND_SIZE];
} plat_cond_t;

/* A mutex usable before any init call (a process-wide lock). */
#define PLAT_MUTEX_INITIALIZER { { 0 } }

/*
 * A one-shot wake-up event for one sleeping thread.  A waker posts a reason
 * (any value in PLAT_EVENT_REASONS, 0 excluded); the first reason posted
 * sticks until the owner re-arms the event.  The reason is the low byte of
 * @state, which anyone may read (plat_event_reason); the other bits belong
 * to the platform (the host's futex keeps its "sleeping" bit there).
 */
typedef struct {
	_Atomic uint32_t state;
} plat_event_t;

#define PLAT_EVENT_REASONS	0xffu

#define PLAT_FOREVER INT64_MAX

void plat_mutex_init(plat_mutex_t *m);
void plat_mutex_destroy(plat_mutex_t *m);
void plat_mutex_lock(plat_mutex_t *m);
void plat_mutex_unlock(plat_mutex_t *m);
/* Debug builds assert lock state; release builds make these no-ops. */
#ifdef MENIOS_DEBUG_LOCKS
void plat_mutex_assert_held(plat_mutex_t *m);
#else
#define plat_mutex_assert_held(m) ((void)(m))
#endif

void plat_cond_init(plat_cond_t *c);
void plat_cond_destroy(plat_cond_t *c);
void plat_cond_signal(plat_cond_t *c);
void plat_cond_broadcast(plat_cond_t *c);
/* Wait until signalled or until the monotonic clock reaches @deadline_ns
 * (PLAT_FOREVER: no deadline).  Spurious wakeups are allowed. */
void plat_cond_wait_until(plat_cond_t *c, plat_mutex_t *m, int64_t deadline_ns);

/* Arm @e (no reason posted).  Only its owner calls this, while no waker
 * can reach it or after taking it back from every waker. */
void plat_event_arm(plat_event_t *e);
/* The reason posted so far, 0 if none (never blocks). */
static inline uint32_t plat_event_reason(plat_event_t *e)
{
	return atomic_load_explicit(&e->state, memory_order_acquire) & PLAT_EVENT_REASONS;
}
/* Post @reason (1..PLAT_EVENT_REASONS) unless a reason is already posted;
 * wake the owner if it sleeps.  Returns 1 if this call posted. */
int plat_event_post(plat_event_t *e, uint32_t reason);
/*
 * Sleep until a reason is posted, the monotonic clock reaches @deadline_ns
 * (PLAT_FOREVER: no deadline) or a signal interrupts this thread.  Returns
 * the reason posted, -ETIMEDOUT, or -EINTR.  A reason posted before or with
 * the signal wins, so a wake-up is never lost.  The caller holds no lock.
 */
int plat_event_wait(plat_event_t *e, int64_t deadline_ns);

/*
 * Deferred wake-ups (Linux's wake_q).  A post that must wake a thread
 * asleep in the host kernel, made while the posting thread holds a
 * plat_mutex_t, is carried out when that thread drops its last one (or
 * before it sleeps), so the woken thread does not find the lock it needs
 * next still taken.  plat_wake_hold(1) makes the thread keep such wake-ups
 * past its last unlock too, until plat_wake_flush() -- for an embedder
 * that holds a lock of its own across the call (Python's GIL) and wants to
 * release it before the woken thread runs.  plat_wake_hold(0) ends the
 * hold and returns how many wake-ups are pending; the caller then flushes
 * them (its next unlock of a last lock, or its next sleep, would too).  A
 * platform with nothing to defer returns 0.
 */
unsigned int plat_wake_hold(int hold);
void plat_wake_flush(void);

/* Monotonic clock, nanoseconds. */
int64_t plat_now_ns(void);
/* Wall clock (CLOCK_REALTIME), nanoseconds since the epoch: receive
 * timestamps (SO_TIMESTAMP). */
int64_t plat_realtime_ns(void);

/* Objects: any size, aligned for any type; plat_zalloc zero-fills. */
void *plat_alloc(size_t size);
void *plat_zalloc(size_t size);
void plat_free(void *p);

/* Page runs (mm/page.c): @npages pages of PLAT_PAGE_SIZE, page-aligned,
 * contents undefined; freed with the same @npages. */
#define PLAT_PAGE_SIZE 4096
void *plat_page_alloc(size_t npages);
void plat_page_free(void *p, size_t npages);

/* Relax the CPU inside a bounded busy-wait. */
void plat_cpu_relax(void);
/* Let another runnable thread have this CPU, if there is one (a busy-wait
 * that must not take the CPU from the thread it waits for). */
void plat_yield(void);

/*
 * A readiness fd: an object of the embedder's kernel whose readability and
 * writability the core sets, for event loops to wait on.  The platform
 * gives a pair: fds[0] is handed out, fds[1] stays with the core.  Both
 * start readable-off and writable-on.  plat_readyfd_set turns each
 * direction on (1) or off (0), or leaves it (-1); it must only be asked for
 * a transition, and never sleeps (it runs under the net lock).
 * plat_readyfd_open returns 0 or -errno.
 */
int plat_readyfd_open(int fds[2]);
void plat_readyfd_close(const int fds[2]);
void plat_readyfd_set(const int fds[2], int readable, int writable);

#endif
