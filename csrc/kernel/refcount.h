/*
 * kernel/refcount.h - reference counts kept with atomics (Linux's
 * refcount_t, without its saturation), so that taking or dropping a
 * reference that is not the last needs no lock.
 *
 * Taking one is relaxed: the taker already holds a reference, or found
 * the object under the lock that keeps it reachable.  Dropping one is a
 * release, and dropping the last an acquire as well, so that whoever
 * frees the object sees every access other holders made before they let
 * go.  An object whose free needs a lock is put with refcount_dec_not_one()
 * outside it and, when that says the reference is the last, under the
 * lock (refcount_dec_and_lock).
 */
#ifndef MENIOS_KERNEL_REFCOUNT_H
#define MENIOS_KERNEL_REFCOUNT_H

typedef struct {
	int refs;
} refcount_t;

static inline void refcount_set(refcount_t *r, int n)
{
	__atomic_store_n(&r->refs, n, __ATOMIC_RELAXED);
}

static inline int refcount_read(const refcount_t *r)
{
	return __atomic_load_n(&r->refs, __ATOMIC_RELAXED);
}

static inline void refcount_inc(refcount_t *r)
{
	__atomic_fetch_add(&r->refs, 1, __ATOMIC_RELAXED);
}

/* Take a reference unless the count is already 0 (the object is being
 * freed, but still reachable under the lock its free takes): 1 if taken. */
static inline int refcount_inc_not_zero(refcount_t *r)
{
	int old = __atomic_load_n(&r->refs, __ATOMIC_RELAXED);

	do {
		if (old == 0)
			return 0;
	} while (!__atomic_compare_exchange_n(&r->refs, &old, old + 1, 1,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return 1;
}

/* Drop a reference the caller knows is not the last. */
static inline void refcount_dec(refcount_t *r)
{
	__atomic_fetch_sub(&r->refs, 1, __ATOMIC_RELEASE);
}

/* Drop a reference: 1 if it was the last (the caller frees the object). */
static inline int refcount_dec_and_test(refcount_t *r)
{
	return __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0;
}

/* Drop a reference unless it is the last: 1 if dropped, 0 (nothing
 * changed) if the caller holds the last one. */
static inline int refcount_dec_not_one(refcount_t *r)
{
	int old = __atomic_load_n(&r->refs, __ATOMIC_RELAXED);

	do {
		if (old == 1)
			return 0;
	} while (!__atomic_compare_exchange_n(&r->refs, &old, old - 1, 1,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	return 1;
}

#endif
