/*
 * kernel/trace/trace.c - the trace ring (see trace.h).
 *
 * Locking: trace_lock guards ring, cap, head, count and dropped.  It is a
 * leaf: tracepoints take it under any core lock, and nothing is taken
 * while it is held.  trace_enabled is set only with the lock held, after
 * the ring is in place, and cleared before the ring is taken away, so a
 * tracepoint that saw it set finds a ring under the lock or none at all.
 */
#include "trace.h"
#include "../../platform/platform.h"

atomic_int trace_enabled;

static plat_mutex_t trace_lock = PLAT_MUTEX_INITIALIZER;
static struct trace_rec *ring;
static size_t cap, head, count;		/* oldest event at (head - count) mod cap */
static int64_t dropped;
/*
 * The per-thread context of the events (what Linux finds through current).
 * A port without thread-local storage defines TRACE_THREAD_LOCAL empty --
 * one context for every thread -- or builds with MENIOS_NO_TRACE.
 */
#ifndef TRACE_THREAD_LOCAL
#define TRACE_THREAD_LOCAL _Thread_local
#endif
static TRACE_THREAD_LOCAL int32_t cur_pid, cur_tid;

int32_t trace_set_pid(int32_t pid)
{
	int32_t old = cur_pid;

	cur_pid = pid;
	return old;
}

void trace_set_thread(int32_t tid)
{
	cur_tid = tid;
}

int32_t trace_thread(void)
{
	return cur_tid;
}

void __trace_record(unsigned int type, uint32_t nr, int64_t a, int64_t b, int64_t c)
{
	struct trace_rec *r;
	int64_t now = plat_now_ns();

	plat_mutex_lock(&trace_lock);
	if (!ring) {
		plat_mutex_unlock(&trace_lock);
		return;
	}
	if (count == cap) {
		dropped++;
		plat_mutex_unlock(&trace_lock);
		return;
	}
	r = &ring[head];
	head = head + 1 == cap ? 0 : head + 1;
	count++;
	r->ts = now;
	r->a = a;
	r->b = b;
	r->c = c;
	r->tid = cur_tid;
	r->pid = cur_pid;
	r->type = (uint16_t)type;
	r->pad = 0;
	r->nr = nr;
	plat_mutex_unlock(&trace_lock);
}

int trace_start(struct trace_rec *buf, size_t n)
{
	plat_mutex_lock(&trace_lock);
	if (ring || !buf || !n) {
		plat_mutex_unlock(&trace_lock);
		return 1;
	}
	ring = buf;
	cap = n;
	head = count = 0;
	dropped = 0;
	atomic_store(&trace_enabled, 1);
	plat_mutex_unlock(&trace_lock);
	return 0;
}

struct trace_rec *trace_stop(void)
{
	struct trace_rec *old;

	plat_mutex_lock(&trace_lock);
	atomic_store(&trace_enabled, 0);
	old = ring;
	ring = NULL;
	cap = head = count = 0;
	plat_mutex_unlock(&trace_lock);
	return old;
}

size_t trace_drain(struct trace_rec *out, size_t max)
{
	size_t n, i, tail;

	plat_mutex_lock(&trace_lock);
	n = count < max ? count : max;
	tail = (head + cap - count) % (cap ? cap : 1);
	for (i = 0; i < n; i++) {
		out[i] = ring[tail];
		tail = tail + 1 == cap ? 0 : tail + 1;
	}
	count -= n;
	plat_mutex_unlock(&trace_lock);
	return n;
}

size_t trace_pending(void)
{
	size_t n;

	plat_mutex_lock(&trace_lock);
	n = count;
	plat_mutex_unlock(&trace_lock);
	return n;
}

int64_t trace_dropped(void)
{
	int64_t n;

	plat_mutex_lock(&trace_lock);
	n = dropped;
	plat_mutex_unlock(&trace_lock);
	return n;
}
