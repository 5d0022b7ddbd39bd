/*
 * bench/copyfloor.c - what moving a stream between two threads costs with no
 * kernel and no Python: the floor `menios bench` reports beside its stream
 * rows.  Not part of the AF_UNIX core; plain C11 with pthreads.
 *
 * copies == 2, a ring: the producer copies each chunk into one of RING_SLOTS
 * chunk-sized slots, the consumer copies it out into its own buffer -- the
 * two copies of a socket's send and recv.
 * copies == 1, a handoff: the consumer publishes that its buffer is ready and
 * waits; the producer copies the chunk straight into it -- a send into a
 * receiver already waiting with its buffer.
 *
 * Both threads spin (no sleeping, no system calls on the way).  Every chunk
 * carries its sequence number in its first and last eight bytes, written by
 * the producer before the copy and checked by the consumer after it, so the
 * data is moved and verified as the socket rows move and verify theirs.
 *
 * The baton (baton_pass_wait) is the floor of a round trip between two
 * Python threads that never sleep: each hands the other the turn and spins,
 * with the GIL released, until it comes back.  Its sleeping form
 * (baton_pass_sleep) is the floor of a round trip between two Python
 * threads that sleep: each hands the turn over, wakes the other (a futex
 * wake, made with the GIL released) and sleeps on a futex until the turn
 * comes back -- what the cheapest blocking exchange costs when spinning
 * does not pay (a loaded machine).
 *
 * Locking: none; the producer and the consumer share the ring's head and
 * tail (or the handoff's ready and filled words) as acquire/release atomics,
 * each written by one side only; the baton's turn is one atomic word.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "copyfloor.h"

#define RING_SLOTS	4
#define CLOCK_EVERY	16	/* chunks between two looks at the clock */
#define BATON_CLOCK_EVERY 4096	/* spins between two looks at the clock */

struct floor_run {
	size_t chunk;
	int copies;
	int64_t budget_ns;
	unsigned char *src;		/* producer's buffer */
	unsigned char *dst;		/* consumer's buffer */
	unsigned char *ring;		/* RING_SLOTS * chunk (copies == 2) */
	_Alignas(64) atomic_uint_fast64_t head;	/* ring: chunks produced; handoff: chunks filled */
	_Alignas(64) atomic_uint_fast64_t tail;	/* ring: chunks consumed; handoff: buffers offered */
	_Alignas(64) atomic_uint_fast64_t last;	/* chunks the producer will make; UINT64_MAX until known */
	uint64_t bad;			/* consumer: chunks whose stamps were wrong */
	int64_t elapsed_ns;		/* consumer: first chunk wait to last chunk checked */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void stamp(unsigned char *buf, size_t len, uint64_t seq)
{
	memcpy(buf, &seq, sizeof(seq));
	memcpy(buf + len - sizeof(seq), &seq, sizeof(seq));
}

static int stamped(const unsigned char *buf, size_t len, uint64_t seq)
{
	uint64_t a, b;

	memcpy(&a, buf, sizeof(a));
	memcpy(&b, buf + len - sizeof(b), sizeof(b));
	return a == seq && b == seq;
}

/* Has the producer stopped before chunk @seq? */
static int finished(struct floor_run *r, uint64_t seq)
{
	return seq >= atomic_load_explicit(&r->last, memory_order_acquire);
}

static void *producer(void *arg)
{
	struct floor_run *r = arg;
	int64_t end = now_ns() + r->budget_ns;
	uint64_t seq;

	for (seq = 0;; seq++) {
		if (seq % CLOCK_EVERY == 0 && seq && now_ns() >= end)
			break;
		stamp(r->src, r->chunk, seq);
		if (r->copies == 2) {
			while (seq - atomic_load_explicit(&r->tail, memory_order_acquire) >= RING_SLOTS)
				relax();
			memcpy(r->ring + (seq % RING_SLOTS) * r->chunk, r->src, r->chunk);
		} else {
			/* wait for the consumer to offer its buffer for chunk seq */
			while (atomic_load_explicit(&r->tail, memory_order_acquire) <= seq)
				relax();
			memcpy(r->dst, r->src, r->chunk);
		}
		atomic_store_explicit(&r->head, seq + 1, memory_order_release);
	}
	atomic_store_explicit(&r->last, seq, memory_order_release);
	return NULL;
}

static void *consumer(void *arg)
{
	struct floor_run *r = arg;
	int64_t t0 = now_ns();
	uint64_t seq;

	for (seq = 0;; seq++) {
		if (r->copies == 1)	/* offer the buffer for chunk seq */
			atomic_store_explicit(&r->tail, seq + 1, memory_order_release);
		while (atomic_load_explicit(&r->head, memory_order_acquire) <= seq) {
			if (finished(r, seq))
				goto out;
			relax();
		}
		if (r->copies == 2) {
			memcpy(r->dst, r->ring + (seq % RING_SLOTS) * r->chunk, r->chunk);
			atomic_store_explicit(&r->tail, seq + 1, memory_order_release);
		}
		if (!stamped(r->dst, r->chunk, seq))
			r->bad++;
	}
out:
	r->elapsed_ns = now_ns() - t0;
	return NULL;
}

int copy_floor_run(size_t chunk, int copies, int64_t budget_ns, struct copy_floor_result *out)
{
	struct floor_run *r;
	pthread_t pt, ct;
	int err = 0;

	if (chunk < 2 * sizeof(uint64_t) || (copies != 1 && copies != 2) || budget_ns <= 0)
		return -EINVAL;
	r = aligned_alloc(64, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	r->chunk = chunk;
	r->copies = copies;
	r->budget_ns = budget_ns;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->last, UINT64_MAX);
	r->src = malloc(chunk);
	r->dst = malloc(chunk);
	r->ring = copies == 2 ? malloc(RING_SLOTS * chunk) : NULL;
	if (!r->src || !r->dst || (copies == 2 && !r->ring)) {
		err = -ENOMEM;
		goto out;
	}
	/* touch every page first, as the socket rows' buffers are warm */
	memset(r->src, 'x', chunk);
	memset(r->dst, 0, chunk);
	if (r->ring)
		memset(r->ring, 0, RING_SLOTS * chunk);
	err = -pthread_create(&ct, NULL, consumer, r);
	if (err)
		goto out;
	err = -pthread_create(&pt, NULL, producer, r);
	if (err) {
		/* no producer: let the consumer see the end at chunk 0 */
		atomic_store_explicit(&r->last, 0, memory_order_release);
		pthread_join(ct, NULL);
		goto out;
	}
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	out->chunks = atomic_load(&r->last);
	out->bad = r->bad;
	out->elapsed_ns = r->elapsed_ns;
out:
	free(r->ring);
	free(r->dst);
	free(r->src);
	free(r);
	return err;
}

void baton_give(atomic_int *turn, int to)
{
	atomic_store_explicit(turn, to, memory_order_release);
}

int baton_wait(atomic_int *turn, int me, int64_t timeout_ns)
{
	int64_t end = now_ns() + timeout_ns;
	unsigned int spins = 0;

	while (atomic_load_explicit(turn, memory_order_acquire) != me) {
		relax();
		if (++spins % BATON_CLOCK_EVERY == 0 && now_ns() >= end)
			return -ETIMEDOUT;
	}
	return 0;
}

int baton_pass_wait(atomic_int *turn, int me, int64_t timeout_ns)
{
	baton_give(turn, !me);
	return baton_wait(turn, me, timeout_ns);
}

void baton_give_wake(atomic_int *turn, int to)
{
	atomic_store_explicit(turn, to, memory_order_release);
	syscall(SYS_futex, (int *)turn, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

int baton_sleep(atomic_int *turn, int me, int64_t timeout_ns)
{
	int64_t end = now_ns() + timeout_ns, left;
	struct timespec ts;
	int t;

	while ((t = atomic_load_explicit(turn, memory_order_acquire)) != me) {
		left = end - now_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		ts.tv_sec = (time_t)(left / 1000000000);
		ts.tv_nsec = (long)(left % 1000000000);
		/* returns at once if the turn moved since the load above */
		syscall(SYS_futex, (int *)turn, FUTEX_WAIT_PRIVATE, t, &ts, NULL, 0);
	}
	return 0;
}

int baton_pass_sleep(atomic_int *turn, int me, int64_t timeout_ns)
{
	baton_give_wake(turn, !me);
	return baton_sleep(turn, me, timeout_ns);
}
