/*
 * mm/page.h - refcounted runs of pages for zero-copy handoff.
 *
 * A page_run is a page-aligned buffer of npages pages with a reference count.
 * Whoever holds a reference may read it; the owner may write it only while it
 * holds the sole reference and has not handed it off (see "gifted").  Dropping
 * the last reference frees the memory and never needs the embedder's runtime
 * lock (the GIL): completions are counted, not called back.
 *
 * The owner can sleep until the receivers have let go (page_run_wait):
 * every put that does not free the run posts the run's event, which lives
 * in the run itself -- the sleeper's own reference keeps it alive for the
 * poster -- and costs a system call only when someone sleeps on it.
 *
 * A pool keeps freed runs of up to PAGE_POOL_RUN_MAX pages (descriptor
 * and pages), up to PAGE_POOL_CACHE pages in all, for its next allocations
 * of the same size, as Linux's per-CPU page lists keep freed pages from
 * going back to the buddy allocator: a pipe or a page skb takes and drops a
 * page per 4 KiB moved, a stream send of 64 KiB a run of 16, and the host
 * allocator's aligned allocations cost more than the copy of the pages --
 * more still when the run is freed by another thread than the one that
 * made it, which is how a stream's skbs go.  page_pool_drain frees them
 * when the pool goes.
 *
 * Locking: refcnt, gifted and the event are atomics; nothing else of a run
 * in use is mutable.  pool->lock guards the pool's cache (free, nfree) and
 * is a leaf: nothing is called with it held.  The tracepoints take the
 * trace ring's lock, a leaf (kernel/trace/trace.h).
 */
#ifndef MENIOS_PAGE_H
#define MENIOS_PAGE_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../sched/wait.h"
#include "../../platform/platform.h"

#define PAGE_SIZE_BYTES 4096

struct page_run {
	atomic_int refcnt;
	atomic_int gifted;		/* handed to a socket: the owner may no longer write */
	struct page_pool *pool;		/* the allocator: its live-page counter, its cache */
	struct page_run *next_free;	/* in the pool's cache */
	atomic_long completions;	/* the sender's references released by receivers */
	plat_event_t released;		/* posted by every put that does not free */
	size_t npages;
	unsigned char *mem;
};

/* The longest run a pool keeps for reuse, and how many pages it keeps at
 * most (1 MiB). */
#define PAGE_POOL_RUN_MAX 32
#define PAGE_POOL_CACHE 256

/* All-zero storage is an empty pool. */
struct page_pool {
	atomic_long live_pages;		/* pages allocated and not yet freed */
	plat_mutex_t lock;		/* guards free; nfree changes under it */
	struct page_run *free[PAGE_POOL_RUN_MAX];	/* freed runs of i + 1 pages */
	atomic_uint nfree;		/* pages in free; read without the lock as a hint */
};

/* @zero: clear the pages (fresh pages handed to a user are zero-filled). */
struct page_run *page_run_alloc(struct page_pool *pool, size_t npages, int zero);
long page_pool_live(struct page_pool *pool);
/* Free the runs the pool keeps for reuse (the pool is going away). */
void page_pool_drain(struct page_pool *pool);
void page_run_get(struct page_run *run);
/* Drop a reference; the last one frees the pages. */
void page_run_put(struct page_run *run);
/*
 * Sleep, holding a reference, until at most @refs references are left, the
 * monotonic clock reaches @deadline_ns (PLAT_FOREVER: never) or, if @intr,
 * a signal interrupts the sleep (without @intr a signal is relayed, as
 * sched/wait.h describes).  Returns 0, -EAGAIN or -EINTR.
 */
int page_run_wait(struct page_run *run, int refs, int64_t deadline_ns, int intr);

/*
 * A task's page fragment (Linux's current->task_frag): where splice from a
 * stream socket copies an skb's linear bytes, which then go into the pipe
 * by reference (its owner writes only past the bytes it handed out, the
 * exception to the rule above).  skb_page_frag_refill's rule: a page no one else
 * references any more is reused from its start; a new one is taken when
 * fewer than PAGE_FRAG_MIN bytes are left.  @busy keeps two threads of one
 * task from sharing it: a thread that finds it taken uses a fragment of
 * its own for its call.  All-zero storage is an empty fragment.
 */
#define PAGE_FRAG_PAGES	8	/* SKB_FRAG_PAGE_ORDER 3: 32 KiB */
#define PAGE_FRAG_MIN	32
struct page_frag {
	struct page_run *page;
	unsigned int offset;
	atomic_int busy;
};

/* Room for PAGE_FRAG_MIN bytes at least: 0, or -ENOMEM. */
int page_frag_refill(struct page_pool *pool, struct page_frag *frag);
/* Take @frag for one call: 0 when another thread has it. */
int page_frag_claim(struct page_frag *frag);
void page_frag_unclaim(struct page_frag *frag);
/* Drop the fragment's page (its task is going), once no call has it. */
void page_frag_release(struct page_frag *frag);

#endif
