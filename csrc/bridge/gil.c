/*
 * bridge/gil.c - waiting for the GIL to be let go, and the state of the
 * request/reply guess (the contract is in gil.h).
 */
#include "gil.h"
#include "../platform/platform.h"

#define SETTLE_RELAX_NS		1000		/* cpu_relax before yields */
#define SETTLE_YIELD_LONG_NS	50000		/* a yield this long ends the wait */
#define SETTLE_YIELD_STALL_NS	200000		/* this long: yields held off */
#define SETTLE_HOLDOFF_MIN_NS	1000000
#define SETTLE_HOLDOFF_MAX_NS	100000000

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

_Thread_local struct gil_wake_pattern gil_wake_pattern
	__attribute__((tls_model("initial-exec")));
