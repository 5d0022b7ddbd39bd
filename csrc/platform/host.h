/*
 * platform/host.h - the platform interface the AF_UNIX core is written against.
 *
 * Everything the core needs from "the rest of a kernel" comes through here:
 * a sleeping mutex, a condition variable, a wake-up event a thread sleeps on
 * (what schedule() and wake_up_process() are to Linux), an allocator and a
 * monotonic clock.  This host implementation maps them to pthreads, futexes
 * and malloc; a kernel port maps them to its own primitives.  It is the only
 * file of the core that calls libc or the host kernel.
 */
#ifndef MENIOS_PLATFORM_HOST_H
#define MENIOS_PLATFORM_HOST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	pthread_mutex_t m;
#ifdef MENIOS_DEBUG_LOCKS
	pthread_t owner;
	int held;
#endif
} plat_mutex_t;

typedef struct {
	pthread_cond_t c;
} plat_cond_t;

/*
 * A one-shot wake-up event for one sleeping thread.  A waker posts a reason
 * (any value in PLAT_EVENT_REASONS, 0 excluded); the first reason posted
 * sticks until the owner re-arms the event.  The word doubles as a futex:
 * PLAT_EVENT_SLEEPING says the owner is (about to be) asleep in the host
 * kernel, so a post costs a system call only when there is someone to wake.
 */
typedef struct {
	_Atomic uint32_t state;
} plat_event_t;

#define PLAT_EVENT_REASONS	0xffu
#define PLAT_EVENT_SLEEPING	0x100u

#define PLAT_FOREVER INT64_MAX

/* A mutex usable before any init call (a process-wide lock). */
#ifdef MENIOS_DEBUG_LOCKS
#define PLAT_MUTEX_INITIALIZER { PTHREAD_MUTEX_INITIALIZER, 0, 0 }
#else
#define PLAT_MUTEX_INITIALIZER { PTHREAD_MUTEX_INITIALIZER }
#endif

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
 * (PLAT_FOREVER: no deadline) or a signal handler runs in this thread.
 * Returns the reason posted, -ETIMEDOUT, or -EINTR.  A reason posted before
 * or with the signal wins, so a wake-up is never lost.  Without SA_RESTART
 * on the handler (CPython installs none) the signal ends the sleep at once.
 */
int plat_event_wait(plat_event_t *e, int64_t deadline_ns);

/* Monotonic clock, nanoseconds. */
int64_t plat_now_ns(void);

void *plat_alloc(size_t size);
void *plat_zalloc(size_t size);
void plat_free(void *p);

/* Relax the CPU inside a bounded busy-wait. */
void plat_cpu_relax(void);
/* Let another runnable thread have this CPU, if there is one (a busy-wait
 * that must not take the CPU from the thread it waits for). */
void plat_yield(void);

/*
 * A readiness fd: a host object whose readability and writability the core
 * sets, for host event loops to wait on.  It is a host AF_UNIX stream
 * socketpair: fds[0] is handed out, fds[1] stays with the core.  fds[0] is
 * readable while a byte sent from fds[1] is queued on it, and unwritable
 * while a block it sent to fds[1] is queued there (its SO_SNDBUF is set to
 * the minimum, so one block puts its send queue over the poll limit).
 * Both start readable-off and writable-on.  plat_readyfd_set turns each
 * direction on (1) or off (0), or leaves it (-1); it must only be asked for
 * a transition.  plat_readyfd_open returns 0 or -errno.
 */
int plat_readyfd_open(int fds[2]);
void plat_readyfd_close(const int fds[2]);
void plat_readyfd_set(const int fds[2], int readable, int writable);

#endif
