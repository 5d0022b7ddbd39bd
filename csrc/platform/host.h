/*
 * platform/host.h - the host platform: the core as a user-space library
 * on Linux, over pthreads, futexes and malloc (host.c).
 *
 * The platform API is platform.h; this header holds what the host keeps in
 * its opaque lock storage.  It is for host.c (and for tests that look
 * inside): the core never includes it.
 */
#ifndef MENIOS_PLATFORM_HOST_H
#define MENIOS_PLATFORM_HOST_H

#include <pthread.h>

#include "platform.h"

/* What a plat_mutex_t holds on the host. */
struct host_mutex {
	pthread_mutex_t m;
#ifdef MENIOS_DEBUG_LOCKS
	pthread_t owner;
	int held;
#endif
};

/* What a plat_cond_t holds on the host. */
struct host_cond {
	pthread_cond_t c;
};

_Static_assert(sizeof(struct host_mutex) <= sizeof(plat_mutex_t),
	       "PLAT_MUTEX_SIZE is too small for the host's mutex");
_Static_assert(_Alignof(struct host_mutex) <= _Alignof(plat_mutex_t),
	       "PLAT_LOCK_ALIGN is too small for the host's mutex");
_Static_assert(sizeof(struct host_cond) <= sizeof(plat_cond_t),
	       "PLAT_COND_SIZE is too small for the host's condition variable");
_Static_assert(_Alignof(struct host_cond) <= _Alignof(plat_cond_t),
	       "PLAT_LOCK_ALIGN is too small for the host's condition variable");

/* The futex word's "owner is (about to be) asleep in the host kernel" bit:
 * a post costs a system call only when there is someone to wake. */
#define HOST_EVENT_SLEEPING	0x100u

#endif
