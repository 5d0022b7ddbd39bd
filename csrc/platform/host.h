/*
 * platform/host.h - the platform interface the AF_UNIX core is written against.
 *
 * Everything the core needs from "the rest of a kernel" comes through here:
 * a sleeping mutex, a condition variable with an absolute monotonic deadline,
 * an allocator and a monotonic clock.  This host implementation maps them to
 * pthreads and malloc; a kernel port maps them to its own primitives.
 */
#ifndef MENIOS_PLATFORM_HOST_H
#define MENIOS_PLATFORM_HOST_H

#include <pthread.h>
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

/* Monotonic clock, nanoseconds. */
int64_t plat_now_ns(void);

void *plat_alloc(size_t size);
void *plat_zalloc(size_t size);
void plat_free(void *p);

/* Relax the CPU inside a bounded busy-wait. */
void plat_cpu_relax(void);

#endif
