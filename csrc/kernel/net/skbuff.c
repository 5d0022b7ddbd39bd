/*
 * kernel/net/skbuff.c - socket buffers.
 */
#include "skbuff.h"
#include "../../platform/platform.h"
#include "../mm/page.h"
#include "../trace/trace.h"

#define SMP_CACHE_BYTES		64
#define SKB_DATA_ALIGN(x)	(((x) + SMP_CACHE_BYTES - 1) & ~(size_t)(SMP_CACHE_BYTES - 1))
#define SKB_SHINFO_SIZE		320	/* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64 */
#define SKB_STRUCT_SIZE		256	/* SKB_DATA_ALIGN(sizeof(struct sk_buff)) on x86-64 */
#define PAGE_SIZE		4096

/* The size kmalloc really hands out for a request of @n bytes. */
static size_t kmalloc_size(size_t n)
{
	size_t s;

	if (n <= 8)
		return 8;
	if (n <= 96 && n > 64)
		return 96;
	if (n <= 192 && n > 128)
		return 192;
	if (n <= 8192) {
		for (s = 16; s < n; s <<= 1)
			;
		return s;
	}
	/* Large allocations come straight from the page allocator. */
	for (s = PAGE_SIZE; s < n; s <<= 1)
		;
	return s;
}

unsigned int skb_truesize(size_t head, size_t frag)
{
	size_t pages = (frag + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);

	return (unsigned int)(kmalloc_size(SKB_DATA_ALIGN(head) + SKB_SHINFO_SIZE) +
			      SKB_STRUCT_SIZE + pages);
}

struct sk_buff *skb_alloc(size_t len, unsigned int truesize)
{
	struct sk_buff *skb = plat_alloc(sizeof(*skb) + len);

	if (!skb)
		return NULL;
	skb->next = skb->prev = NULL;
	skb->sk = NULL;
	skb->len = (unsigned int)len;
	skb->truesize = truesize;
	skb->cb.cred.pid = 0;
	skb->cb.cred.uid = -1;
	skb->cb.cred.gid = -1;
	skb->cb.fp = NULL;
	skb->cb.consumed = 0;
	skb->data = skb->head;
	skb->pages = NULL;
	skb->headlen = (unsigned int)len;
	skb->compound = 0;
	skb->tstamp = 0;
	trace_event(TRACE_SKB_ALLOC, 0, trace_id(skb), len, truesize);
	return skb;
}

void skb_free_mem(struct sk_buff *skb)
{
	trace_event(TRACE_SKB_FREE, 0, trace_id(skb), skb->len, 0);
	plat_free(skb);
}

void __skb_queue_tail(struct sk_buff_head *q, struct sk_buff *skb)
{
	struct sk_buff *last = q->prev;

	skb->next = (struct sk_buff *)q;
	skb->prev = last;
	last->next = skb;
	q->prev = skb;
	skb_queue_set_len(q, q->qlen + 1, q->bytes + skb->len);
	trace_event(TRACE_SKB_QUEUE, q->qlen, trace_id(skb), trace_id(q), skb->len);
}

void __skb_unlink(struct sk_buff *skb, struct sk_buff_head *q)
{
	skb->prev->next = skb->next;
	skb->next->prev = skb->prev;
	skb->next = skb->prev = NULL;
	skb_queue_set_len(q, q->qlen - 1, q->bytes - skb->len);
	trace_event(TRACE_SKB_DEQUEUE, q->qlen, trace_id(skb), trace_id(q), skb->len);
}

struct sk_buff *__skb_dequeue(struct sk_buff_head *q)
{
	struct sk_buff *skb = skb_peek(q);

	if (skb)
		__skb_unlink(skb, q);
	return skb;
}

unsigned int skb_segment_end(const struct sk_buff *skb, unsigned int off)
{
	const unsigned int page = PAGE_SIZE_BYTES;
	unsigned int pos = skb->headlen, rem, order = SKB_FRAG_ORDER_MAX;

	if (off < pos)
		return pos;
	if (!skb->compound) {
		size_t at = (size_t)(skb->data - skb->pages->mem) + off;
		unsigned int end = off + (page - (unsigned int)(at % page));

		return end < skb->len ? end : skb->len;
	}
	for (rem = skb->len - pos; rem; ) {
		unsigned int aligned = (rem + page - 1) & ~(page - 1), c;

		while (order && aligned < (page << order))
			order--;
		c = rem < (page << order) ? rem : (page << order);
		if (off < pos + c)
			return pos + c;
		pos += c;
		rem -= c;
	}
	return skb->len;
}
