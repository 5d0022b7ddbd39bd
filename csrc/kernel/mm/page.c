/*
 * mm/page.c - refcounted page runs.
 */
#include "../errno.h"
#include "../lib/string.h"
#include "page.h"
#include "../../platform/platform.h"
#include "../trace/trace.h"

_Static_assert(PAGE_SIZE_BYTES == PLAT_PAGE_SIZE, "a page run is made of platform pages");

struct page_run *page_run_alloc(struct page_pool *pool, size_t npages, int zero)
{
	struct page_run *run;

	if (npages == 0 || npages > SIZE_MAX / PAGE_SIZE_BYTES)
		return NULL;
	run = plat_zalloc(sizeof(*run));
	if (!run)
		return NULL;
	run->mem = plat_page_alloc(npages);
	if (!run->mem) {
		plat_free(run);
		return NULL;
	}
	if (zero)
		memset(run->mem, 0, npages * PAGE_SIZE_BYTES);
	atomic_init(&run->refcnt, 1);
	atomic_init(&run->gifted, 0);
	atomic_init(&run->completions, 0);
	plat_event_arm(&run->released);
	run->npages = npages;
	run->live_pages = &pool->live_pages;
	atomic_fetch_add(&pool->live_pages, (long)npages);
	trace_event(TRACE_PAGE_ALLOC, 0, trace_id(run), npages, 0);
	return run;
}

void page_run_get(struct page_run *run)
{
	int was = atomic_fetch_add(&run->refcnt, 1);

	trace_event(TRACE_PAGE_GET, 0, trace_id(run), was + 1, 0);
}

void page_run_put(struct page_run *run)
{
	int was = atomic_fetch_sub(&run->refcnt, 1);

	trace_event(TRACE_PAGE_PUT, 0, trace_id(run), was - 1, 0);
	if (was == 1) {
		atomic_fetch_sub(run->live_pages, (long)run->npages);
		plat_page_free(run->mem, run->npages);
		plat_free(run);
	} else {
		plat_event_post(&run->released, WAKE_EVENT);	/* see page_run_wait() */
	}
}

int page_run_wait(struct page_run *run, int refs, int64_t deadline_ns, int intr)
{
	int r;

	for (;;) {
		plat_event_arm(&run->released);	/* before the check: no post is lost */
		if (atomic_load(&run->refcnt) <= refs)
			return 0;
		r = plat_event_wait(&run->released, deadline_ns);
		if (r == -ETIMEDOUT)
			return atomic_load(&run->refcnt) <= refs ? 0 : -EAGAIN;
		if (r == -EINTR) {
			if (intr)
				return -EINTR;
			wait_relay_signal();
		}
	}
}

long page_pool_live(struct page_pool *pool)
{
	return atomic_load(&pool->live_pages);
}
