/*
 * bench/copyfloor.h - two threads moving a stream with one or two memcpy()s
 * and no kernel, no Python: the floor of the stream benchmarks; and a turn
 * two threads take, spinning or asleep: the floors of the round trips.
 */
#ifndef MENIOS_BENCH_COPYFLOOR_H
#define MENIOS_BENCH_COPYFLOOR_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct copy_floor_result {
	uint64_t chunks;	/* chunks moved */
	uint64_t bad;		/* chunks whose sequence stamps were wrong on arrival */
	int64_t elapsed_ns;	/* the consumer's time, first wait to last check */
};

/*
 * Move @chunk-byte chunks from a producer thread to a consumer thread for
 * @budget_ns, with @copies memcpy()s per chunk (2: through a ring; 1: into
 * the consumer's waiting buffer).  Returns 0, -EINVAL or -ENOMEM, or a
 * pthread_create() error as -errno.
 */
int copy_floor_run(size_t chunk, int copies, int64_t budget_ns, struct copy_floor_result *out);

/* A turn two threads take in alternation, sides 0 and 1 (see copyfloor.c). */
void baton_give(atomic_int *turn, int to);
/* Spin until side @me has the turn: 0, or -ETIMEDOUT after @timeout_ns. */
int baton_wait(atomic_int *turn, int me, int64_t timeout_ns);
/* Give the turn to the other side and spin until it comes back to @me. */
int baton_pass_wait(atomic_int *turn, int me, int64_t timeout_ns);
/* The same, asleep on a futex: give the turn and wake the other side; sleep
 * until side @me has the turn; give, wake, then sleep. */
void baton_give_wake(atomic_int *turn, int to);
int baton_sleep(atomic_int *turn, int me, int64_t timeout_ns);
int baton_pass_sleep(atomic_int *turn, int me, int64_t timeout_ns);

#endif
