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
 * Locking: refcnt, gifted and the event are atomics; nothing else is mutable.
 * The tracepoints take the trace ring's lock, a leaf (kernel/trace/trace.h).
 */
#ifndef MENIOS_PAGE_H
#define MENIOS_PAGE_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../sched/wait.h"

#define PAGE_SIZE_BYTES 4096

struct page_run {
	atomic_int refcnt;
	atomic_int gifted;		/* handed to a socket: the owner may no longer write */
	atomic_long *live_pages;	/* the allocator's live-page counter */
	atomic_long completions;	/* the sender's references released by receivers */
	plat_event_t released;		/* posted by every put that does not free */
	size_t npages;
	unsigned char *mem;
};

struct page_pool {
	atomic_long live_pages;		/* pages allocated and not yet freed */
};

/* @zero: clear the pages (fresh pages handed to a user are zero-filled). */
struct page_run *page_run_alloc(struct page_pool *pool, size_t npages, int zero);
long page_pool_live(struct page_pool *pool);
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

#endif
