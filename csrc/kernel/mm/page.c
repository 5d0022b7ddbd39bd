/*
 * mm/page.c - refcounted page runs.
 *
 * Locking: see the contract in page.h.  In short: a run's refcount and
 * event are atomics; pool->lock guards the pool's cache and is a leaf.
 */
#include "../errno.h"
#include "../lib/string.h"
#include "page.h"
#include "../../platform/platform.h"
#include "../trace/trace.h"

_Static_assert(PAGE_SIZE_BYTES == PLAT_PAGE_SIZE, "a page run is made of platform pages");

/* A run of @npages from the pool's cache, or NULL. */
static struct page_run *page_pool_take(struct page_pool *pool, size_t npages)
{
	struct page_run *run;

	if (npages > PAGE_POOL_RUN_MAX ||
	    atomic_load_explicit(&pool->nfree, memory_order_relaxed) < npages)
		return NULL;	/* a hint: a miss only costs an allocation */
	plat_mutex_lock(&pool->lock);
	run = pool->free[npages - 1];
	if (run) {
		pool->free[npages - 1] = run->next_free;
		atomic_fetch_sub_explicit(&pool->nfree, (unsigned int)npages,
					  memory_order_relaxed);
	}
	plat_mutex_unlock(&pool->lock);
	return run;
}

/* Keep a freed run for reuse: 0 when it is too long or the cache is full. */
static int page_pool_keep(struct page_pool *pool, struct page_run *run)
{
	unsigned int n = (unsigned int)run->npages;
	int kept = 0;

	if (run->npages > PAGE_POOL_RUN_MAX ||
	    atomic_load_explicit(&pool->nfree, memory_order_relaxed) + n > PAGE_POOL_CACHE)
		return 0;	/* a hint, as above */
	plat_mutex_lock(&pool->lock);
	if (atomic_load_explicit(&pool->nfree, memory_order_relaxed) + n <= PAGE_POOL_CACHE) {
		run->next_free = pool->free[n - 1];
		pool->free[n - 1] = run;
		atomic_fetch_add_explicit(&pool->nfree, n, memory_order_relaxed);
		kept = 1;
	}
	plat_mutex_unlock(&pool->lock);
	return kept;
}

struct page_run *page_run_alloc(struct page_pool *pool, size_t npages, int zero)
{
	struct page_run *run = NULL;

	if (npages == 0 || npages > SIZE_MAX / PAGE_SIZE_BYTES)
		return NULL;
	run = page_pool_take(pool, npages);
	if (!run) {
		run = plat_zalloc(sizeof(*run));
		if (!run)
			return NULL;
		run->mem = plat_page_alloc(npages);
		if (!run->mem) {
			plat_free(run);
			return NULL;
		}
	}
	if (zero)
		memset(run->mem, 0, npages * PAGE_SIZE_BYTES);
	atomic_init(&run->refcnt, 1);
	atomic_init(&run->gifted, 0);
	atomic_init(&run->completions, 0);
	plat_event_arm(&run->released);
	run->npages = npages;
	run->pool = pool;
	run->next_free = NULL;
	atomic_fetch_add(&pool->live_pages, (long)npages);
	trace_event(TRACE_PAGE_ALLOC, 0, trace_id(run), npages, 0);
	return run;
}

void page_pool_drain(struct page_pool *pool)
{
	struct page_run *run, *next;
	size_t i;

	for (i = 0; i < PAGE_POOL_RUN_MAX; i++) {
		plat_mutex_lock(&pool->lock);
		run = pool->free[i];
		pool->free[i] = NULL;
		plat_mutex_unlock(&pool->lock);
		for (; run; run = next) {
			next = run->next_free;
			plat_page_free(run->mem, run->npages);
			plat_free(run);
		}
	}
	atomic_store_explicit(&pool->nfree, 0, memory_order_relaxed);
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
		struct page_pool *pool = run->pool;

		atomic_fetch_sub(&pool->live_pages, (long)run->npages);
		if (page_pool_keep(pool, run))
			return;
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

int page_frag_refill(struct page_pool *pool, struct page_frag *frag)
{
	if (frag->page) {
		if (atomic_load(&frag->page->refcnt) == 1) {
			frag->offset = 0;	/* only ours: reused */
			return 0;
		}
		if (frag->offset + PAGE_FRAG_MIN <= PAGE_FRAG_PAGES * PAGE_SIZE_BYTES)
			return 0;
		page_run_put(frag->page);
	}
	frag->offset = 0;
	frag->page = page_run_alloc(pool, PAGE_FRAG_PAGES, 0);
	return frag->page ? 0 : -ENOMEM;
}

int page_frag_claim(struct page_frag *frag)
{
	int free = 0;

	return atomic_compare_exchange_strong(&frag->busy, &free, 1);
}

void page_frag_unclaim(struct page_frag *frag)
{
	atomic_store(&frag->busy, 0);
}

void page_frag_release(struct page_frag *frag)
{
	while (!page_frag_claim(frag))
		plat_yield();
	if (frag->page)
		page_run_put(frag->page);
	frag->page = NULL;
	frag->offset = 0;
	page_frag_unclaim(frag);
}
