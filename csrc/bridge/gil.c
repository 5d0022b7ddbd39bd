/*
 * bridge/gil.c - waiting for the GIL to be let go, and the request/reply
 * guess (the contract is in gil.h).
 */
#include "gil.h"
#include "../platform/platform.h"

#define SETTLE_RELAX_NS		1000		/* cpu_relax before yields */
#define SETTLE_YIELD_LONG_NS	50000		/* a yield this long ends the wait */
#define SETTLE_YIELD_STALL_NS	200000		/* this long: yields held off */
#define SETTLE_HOLDOFF_MIN_NS	1000000
#define SETTLE_HOLDOFF_MAX_NS	100000000
#define WAKE_PATTERN_MAX	3		/* the request/reply counter saturates here */
#define WAKE_PATTERN_REQREPLY	2		/* and says "request/reply" from here */

_Atomic int gil_busy_flag;

/* No settling yields before this time (monotonic ns), and how long the
 * next such hold-off lasts. */
static _Atomic int64_t settle_holdoff, settle_holdoff_len;

int64_t gil_settle_hold_off(int64_t now)
{
	int64_t until = atomic_load_explicit(&settle_holdoff, memory_order_relaxed);
	int64_t len = atomic_load_explicit(&settle_holdoff_len, memory_order_relaxed);

	if (len > 0 && now - until < len)
		len = len * 2 < SETTLE_HOLDOFF_MAX_NS ? len * 2 : SETTLE_HOLDOFF_MAX_NS;
	else
		len = SETTLE_HOLDOFF_MIN_NS;
	atomic_store_explicit(&settle_holdoff_len, len, memory_order_relaxed);
	atomic_store_explicit(&settle_holdoff, now + len, memory_order_relaxed);
	return len;
}

int gil_settle(int64_t bound_ns)
{
	int64_t t0, t, t1;

	if (!gil_is_busy())
		return GIL_SETTLE_IDLE;
	t0 = t = plat_now_ns();
	while (t - t0 < SETTLE_RELAX_NS) {
		plat_cpu_relax();
		plat_cpu_relax();
		if (!gil_is_busy())
			return GIL_SETTLE_FREE;
		t = plat_now_ns();
	}
	if (t < atomic_load_explicit(&settle_holdoff, memory_order_relaxed))
		return GIL_SETTLE_HELD_OFF;
	while (gil_is_busy()) {
		if (t - t0 >= bound_ns) {
			gil_leave();
			return GIL_SETTLE_BOUND;
		}
		plat_yield();
		t1 = plat_now_ns();
		if (t1 - t > SETTLE_YIELD_LONG_NS) {
			if (t1 - t > SETTLE_YIELD_STALL_NS)
				gil_settle_hold_off(t1);
			return GIL_SETTLE_LONG_YIELD;
		}
		t = t1;
	}
	return GIL_SETTLE_FREE;
}

/* The thread's request/reply counter and its last GIL-held call
 * (initial-exec: one instruction an access, every call). */
struct wake_pattern {
	int pred, op;
	const void *sk;
};

static _Thread_local struct wake_pattern wake_pattern
	__attribute__((tls_model("initial-exec")));

int gil_wake_observe(int op, const void *sk)
{
	struct wake_pattern *p = &wake_pattern;

	if (sk == p->sk && op != p->op) {
		if (p->pred < WAKE_PATTERN_MAX)
			p->pred++;
	} else if (p->pred > 0) {
		p->pred--;
	}
	p->op = op;
	p->sk = sk;
	return p->pred >= WAKE_PATTERN_REQREPLY;
}
