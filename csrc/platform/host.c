/*
 * platform/host.c - the platform interface (platform.h) over pthreads,
 * futexes and malloc: the core as a user-space library on Linux.
 *
 * It is the only file of the host build that calls libc or the host
 * kernel.  Signals reach a sleeper through the host kernel: a handler
 * installed without SA_RESTART (CPython installs none) makes the futex
 * sleep of the thread it runs in return EINTR, which plat_event_wait
 * reports as -EINTR.
 *
 * Locking: a plat_mutex_t is a pthread mutex; the debug fields of
 * struct host_mutex are written only by the thread holding it.
 *
 * Wake-ups are deferred past the waker's locks, as Linux's wake_q defers
 * wake_up_q(): the core posts a sleeper's event with the lock the sleeper
 * needs next still held, and a sleeper woken at once (often onto the
 * waker's own CPU, preempting it) would find that lock taken and sleep on
 * it -- a second futex sleep and wake per wake-up.  So a post made while
 * its thread holds any plat_mutex_t sets the event's word at once (a
 * spinning owner sees it) and queues only the FUTEX_WAKE, on a per-thread
 * list that the unlock of the thread's last lock, or its next sleep
 * (plat_cond_wait_until, plat_event_wait), flushes -- unless the thread
 * holds its wake-ups (plat_wake_hold), when only plat_wake_flush or a
 * sleep does.  The list is thread-local: no lock.  A
 * FUTEX_WAKE made after its sleeper has already left (its deadline came
 * between the post and the flush) is harmless: a private futex wake only
 * hashes the address, and every futex sleeper re-checks its word.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* PTHREAD_MUTEX_ADAPTIVE_NP, syscall() */
#endif

#include "host.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline struct host_mutex *hm(plat_mutex_t *m)
{
	return (struct host_mutex *)(void *)m->opaque;
}

/*
 * The calling thread's plat_mutex_t locks held, and its deferred wakes.
 * Every lock and unlock counts, so the thread-local storage is
 * initial-exec: one instruction an access, where the general-dynamic
 * model of a shared object costs a __tls_get_addr call (the 80 bytes come
 * from the static TLS that the C library keeps for objects loaded later).
 */
#define WAKE_Q_MAX 8
struct wake_q {
	unsigned int lock_depth;
	int held;
	unsigned int len;
	_Atomic uint32_t *words[WAKE_Q_MAX];
};
static __thread struct wake_q wq_self __attribute__((tls_model("initial-exec")));
#define lock_depth	(wq_self.lock_depth)
#define wake_q_held	(wq_self.held)
#define wake_q_len	(wq_self.len)
#define wake_q		(wq_self.words)

static void futex_wake_all(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* wake_up_q: make the wakes queued while this thread held locks (out of
 * line: the lock and unlock fast paths then need no stack frame). */
static __attribute__((noinline, cold)) void wake_q_flush(void)
{
	unsigned int i, n = wake_q_len;

	wake_q_len = 0;
	for (i = 0; i < n; i++)
		futex_wake_all(wake_q[i]);
}

unsigned int plat_wake_hold(int hold)
{
	wake_q_held = hold;
	return wake_q_len;
}

void plat_wake_flush(void)
{
	if (wake_q_len)
		wake_q_flush();
}

static inline pthread_cond_t *hc(plat_cond_t *c)
{
	return &((struct host_cond *)(void *)c->opaque)->c;
}

void plat_mutex_init(plat_mutex_t *m)
{
	pthread_mutexattr_t attr;

	/* Adaptive: a contended lock spins briefly before it sleeps.  The core
	 * holds its locks for short stretches and wakes sleepers with the lock
	 * held, so a woken thread usually finds it free within that spin. */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&hm(m)->m, &attr);
	pthread_mutexattr_destroy(&attr);
#ifdef MENIOS_DEBUG_LOCKS
	hm(m)->held = 0;
#endif
}

void plat_mutex_destroy(plat_mutex_t *m)
{
	pthread_mutex_destroy(&hm(m)->m);
}

void plat_mutex_lock(plat_mutex_t *m)
{
	lock_depth++;		/* first: the common path ends in a tail call */
	pthread_mutex_lock(&hm(m)->m);
#ifdef MENIOS_DEBUG_LOCKS
	assert(!hm(m)->held);
	hm(m)->held = 1;
	hm(m)->owner = pthread_self();
#endif
}

void plat_mutex_unlock(plat_mutex_t *m)
{
#ifdef MENIOS_DEBUG_LOCKS
	plat_mutex_assert_held(m);
	hm(m)->held = 0;
#endif
	if (__builtin_expect(!--lock_depth && wake_q_len && !wake_q_held, 0)) {
		pthread_mutex_unlock(&hm(m)->m);
		wake_q_flush();
		return;
	}
	pthread_mutex_unlock(&hm(m)->m);
}

#ifdef MENIOS_DEBUG_LOCKS
void plat_mutex_assert_held(plat_mutex_t *m)
{
	assert(hm(m)->held && pthread_equal(hm(m)->owner, pthread_self()));
}
#endif

void plat_cond_init(plat_cond_t *c)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(hc(c), &attr);
	pthread_condattr_destroy(&attr);
}

void plat_cond_destroy(plat_cond_t *c)
{
	pthread_cond_destroy(hc(c));
}

void plat_cond_signal(plat_cond_t *c)
{
	pthread_cond_signal(hc(c));
}

void plat_cond_broadcast(plat_cond_t *c)
{
	pthread_cond_broadcast(hc(c));
}

void plat_cond_wait_until(plat_cond_t *c, plat_mutex_t *m, int64_t deadline_ns)
{
	struct timespec ts;

	if (wake_q_len)
		wake_q_flush();		/* never sleep on wakes of our own */
#ifdef MENIOS_DEBUG_LOCKS
	plat_mutex_assert_held(m);
	hm(m)->held = 0;
#endif
	if (deadline_ns == PLAT_FOREVER) {
		pthread_cond_wait(hc(c), &hm(m)->m);
	} else {
		ts.tv_sec = (time_t)(deadline_ns / 1000000000);
		ts.tv_nsec = (long)(deadline_ns % 1000000000);
		pthread_cond_timedwait(hc(c), &hm(m)->m, &ts);
	}
#ifdef MENIOS_DEBUG_LOCKS
	hm(m)->held = 1;
	hm(m)->owner = pthread_self();
#endif
}

void plat_event_arm(plat_event_t *e)
{
	atomic_store_explicit(&e->state, 0, memory_order_release);
}

int plat_event_post(plat_event_t *e, uint32_t reason)
{
	uint32_t s = atomic_load_explicit(&e->state, memory_order_relaxed);

	do {
		if (s & PLAT_EVENT_REASONS)
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(&e->state, &s, reason,
						       memory_order_acq_rel,
						       memory_order_relaxed));
	if (s & HOST_EVENT_SLEEPING) {
		if ((lock_depth || wake_q_held) && wake_q_len < WAKE_Q_MAX)
			wake_q[wake_q_len++] = &e->state;
		else
			futex_wake_all(&e->state);
	}
	return 1;
}

int plat_event_wait(plat_event_t *e, int64_t deadline_ns)
{
	struct timespec ts, *tsp = NULL;
	uint32_t s;

	if (wake_q_len)
		wake_q_flush();		/* never sleep on wakes of our own */
	if (deadline_ns != PLAT_FOREVER) {
		ts.tv_sec = (time_t)(deadline_ns / 1000000000);
		ts.tv_nsec = (long)(deadline_ns % 1000000000);
		tsp = &ts;
	}
	for (;;) {
		s = atomic_load_explicit(&e->state, memory_order_acquire);
		if (s & PLAT_EVENT_REASONS)
			return (int)(s & PLAT_EVENT_REASONS);
		if (!(s & HOST_EVENT_SLEEPING)) {
			if (!atomic_compare_exchange_weak_explicit(&e->state, &s,
								   s | HOST_EVENT_SLEEPING,
								   memory_order_acq_rel,
								   memory_order_acquire))
				continue;
			s |= HOST_EVENT_SLEEPING;
		}
		/* FUTEX_WAIT_BITSET: an absolute CLOCK_MONOTONIC deadline;
		 * returns at once (EAGAIN) if a post changed the word. */
		if (syscall(SYS_futex, &e->state, FUTEX_WAIT_BITSET_PRIVATE, s, tsp,
			    NULL, FUTEX_BITSET_MATCH_ANY) == 0)
			continue;
		if (errno == EAGAIN)
			continue;
		s = atomic_load_explicit(&e->state, memory_order_acquire);
		if (s & PLAT_EVENT_REASONS)
			return (int)(s & PLAT_EVENT_REASONS);
		if (errno == ETIMEDOUT)
			return -ETIMEDOUT;
		if (errno == EINTR)
			return -EINTR;
		/* EFAULT/EINVAL cannot happen with a valid word and deadline */
	}
}

int64_t plat_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t plat_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

void plat_yield(void)
{
	sched_yield();
}

/*
 * A readiness fd is a host AF_UNIX stream socketpair: fds[0] is readable
 * while a byte sent from fds[1] is queued on it, and unwritable while a
 * block it sent to fds[1] is queued there (its SO_SNDBUF is set to the
 * minimum, so one block puts its send queue over the poll limit).
 */

/* What fds[0] sends to fds[1] to make itself unwritable: with the minimum
 * SO_SNDBUF (4608) an AF_UNIX socket stops polling writable once its queued
 * truesize passes a quarter of it, which one 1024-byte skb does. */
#define READYFD_BLOCK 1024

int plat_readyfd_open(int fds[2])
{
	int zero = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	if (setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &zero, sizeof(zero)) < 0) {
		int err = -errno;

		plat_readyfd_close(fds);
		return err;
	}
	return 0;
}

void plat_readyfd_close(const int fds[2])
{
	close(fds[0]);
	close(fds[1]);
}

/* Turn each direction on or off.  A failure (the user closed fds[0]) leaves
 * it as it was: nothing else can be done about it here. */
void plat_readyfd_set(const int fds[2], int readable, int writable)
{
	static const char block[READYFD_BLOCK];
	char buf[READYFD_BLOCK * 4];

	if (readable == 1)
		(void)send(fds[1], "r", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	else if (readable == 0)
		(void)recv(fds[0], buf, sizeof(buf), MSG_DONTWAIT);
	if (writable == 0)
		(void)send(fds[0], block, sizeof(block), MSG_DONTWAIT | MSG_NOSIGNAL);
	else if (writable == 1)
		while (recv(fds[1], buf, sizeof(buf), MSG_DONTWAIT) == (ssize_t)sizeof(buf))
			;
}
