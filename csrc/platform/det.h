/*
 * platform/det.h - the deterministic platform: the core on one host
 * thread, its "threads" run by a small cooperative scheduler (det.c).
 *
 * It is what a hobby kernel's early boot looks like -- one CPU, no
 * preemption, no clock interrupt -- and it makes every run of a threaded
 * test an explicit interleaving:
 *   - a thread runs until it blocks (plat_event_wait, plat_cond_wait_until,
 *     det_thread_join, det_sleep_ns) or reaches a scheduling point: taking
 *     a lock while holding none, plat_yield, det_yield.  There the
 *     scheduler picks the next thread among the runnable ones with a
 *     pseudo-random generator seeded by det_seed (MENIOS_DET_SEED in the
 *     environment, 1 if unset), so a seed names one schedule and the same
 *     seed replays it exactly;
 *   - a thread is never switched out while it holds a lock, so every lock
 *     asserts it is free when taken, and every blocking call asserts the
 *     caller holds no lock (plat_cond_wait_until: none but the one it
 *     drops);
 *   - time is virtual: plat_now_ns only moves when every thread is blocked
 *     (to the earliest deadline) or when a thread yields (DET_YIELD_NS per
 *     yield, so a spin ends); a deadlock -- every thread blocked with no
 *     deadline -- aborts with the threads' states;
 *   - a "signal" to a thread (det_thread_signal) interrupts its
 *     plat_event_wait as a host signal handler does: -EINTR;
 *   - readiness fds are entries of a table here, with their two bits.
 *
 * The thread calling det's functions first becomes thread 0.  No pthreads
 * and no host signals are used: the whole program is one host thread.
 */
#ifndef MENIOS_PLATFORM_DET_H
#define MENIOS_PLATFORM_DET_H

#include "platform.h"

/* What a plat_mutex_t holds here: a mutex no one can find taken. */
struct det_mutex {
	int held;
	int owner;			/* thread id, while held */
};

/* A plat_cond_t holds nothing: its waiters are found by address. */
struct det_cond {
	int unused;
};

_Static_assert(sizeof(struct det_mutex) <= sizeof(plat_mutex_t),
	       "PLAT_MUTEX_SIZE is too small for det's mutex");
_Static_assert(_Alignof(struct det_mutex) <= _Alignof(plat_mutex_t),
	       "PLAT_LOCK_ALIGN is too small for det's mutex");
_Static_assert(sizeof(struct det_cond) <= sizeof(plat_cond_t),
	       "PLAT_COND_SIZE is too small for det's condition variable");

/* Virtual time a plat_yield costs. */
#define DET_YIELD_NS	1000

struct det_thread;

/* Start @fn(@arg) as a new runnable thread (it runs at a later scheduling
 * point); NULL when out of threads or memory. */
struct det_thread *det_thread_create(void *(*fn)(void *), void *arg);
/* Block until @t has returned; frees it and returns its result. */
void *det_thread_join(struct det_thread *t);
/* Interrupt @t's plat_event_wait, if it is in one: returns 1 if so. */
int det_thread_signal(struct det_thread *t);
/* Block for @ns of virtual time. */
void det_sleep_ns(int64_t ns);
/* A scheduling point. */
void det_yield(void);
/* Restart the schedule's generator (before any thread is created). */
void det_seed(uint64_t seed);
/* Scheduling decisions taken so far (a schedule's length). */
uint64_t det_switches(void);
/* A readiness fd's state as poll would see it: POLLIN 0x1, POLLOUT 0x4;
 * -1 for an fd that is not one. */
int det_readyfd_events(int fd);

#endif
