/*
 * kernel/net/skbuff.h - socket buffers and their queues.
 *
 * An sk_buff holds one chunk of data in flight: a stream segment, a datagram,
 * a seqpacket record, or (with len 0) a connection request.  Its truesize is
 * what it costs its sender's send buffer, computed as Linux computes it, so
 * that back-pressure hits at the same byte counts as on Linux.
 *
 * Locking: a queue has its own lock (sk_buff_head.lock, as Linux's
 * sk_receive_queue.lock), held by whoever links or unlinks an skb; its
 * owner's contract says which other lock a reader of the list holds
 * (net/unix/unix_socket.h).  An skb on a queue is owned by the queue, an
 * skb off every queue by whoever unlinked it.  A queue's length and byte
 * count are also read without any lock, as hints (Linux's
 * skb_queue_len_lockless): written with relaxed atomic stores under the
 * lock, read with relaxed atomic loads.  The tracepoints take the trace
 * ring's lock, a leaf (kernel/trace/trace.h).
 */
#ifndef MENIOS_SKBUFF_H
#define MENIOS_SKBUFF_H

#include <stddef.h>
#include <stdint.h>

#include "../../platform/platform.h"

struct unix_sock;
struct scm_fp_list;
struct page_run;

struct unix_cred {
	int32_t pid;		/* 0: none attached */
	int32_t uid;		/* -1: none attached (delivered as the overflow id) */
	int32_t gid;
};

struct unix_skb_parms {
	struct unix_cred cred;
	struct scm_fp_list *fp;		/* files in flight, or NULL */
	unsigned int consumed;		/* stream: bytes of this skb already read */
};

struct sk_buff {
	struct sk_buff *next, *prev;
	struct unix_sock *sk;		/* sender (or the embryo of a connect request); holds a reference */
	unsigned int len;		/* bytes of data */
	unsigned int truesize;		/* charged to sk's send buffer */
	struct unix_skb_parms cb;
	unsigned char *data;		/* head[] or zero-copy pages */
	struct page_run *pages;		/* zero-copy: the pages data points into, or NULL */
	/* Where Linux's skb would keep the bytes, which splice into a pipe
	 * shows (skb_segment_end): @headlen bytes of linear data, then page
	 * fragments -- alloc_skb_with_frags' compound pages for a send's own
	 * (@compound), else one per page @data spans (a zero-copy skb's) */
	unsigned int headlen;
	unsigned char compound;
	/* realtime ns (SO_TIMESTAMP); 0: not stamped yet.  Set by the sender
	 * before it queues the skb, else by its first reader, under the
	 * receiver's iolock */
	int64_t tstamp;
	unsigned char head[];
};

struct sk_buff_head {
	struct sk_buff *next, *prev;
	unsigned int qlen;
	size_t bytes;			/* sum of len over the queue */
	plat_mutex_t lock;		/* links and unlinks (see Locking above) */
};

/* Under the queue's lock: set its length and byte count for lockless readers. */
static inline void skb_queue_set_len(struct sk_buff_head *q, unsigned int qlen, size_t bytes)
{
	__atomic_store_n(&q->qlen, qlen, __ATOMIC_RELAXED);
	__atomic_store_n(&q->bytes, bytes, __ATOMIC_RELAXED);
}

/* Without the lock: the queue's length and byte count a moment ago. */
static inline unsigned int skb_queue_len_lockless(const struct sk_buff_head *q)
{
	return __atomic_load_n(&q->qlen, __ATOMIC_RELAXED);
}

static inline size_t skb_queue_bytes_lockless(const struct sk_buff_head *q)
{
	return __atomic_load_n(&q->bytes, __ATOMIC_RELAXED);
}

static inline void skb_queue_head_init(struct sk_buff_head *q)
{
	q->next = q->prev = (struct sk_buff *)q;
	skb_queue_set_len(q, 0, 0);
	plat_mutex_init(&q->lock);
}

/* Before the queue's memory goes: nobody holds its lock. */
static inline void skb_queue_head_destroy(struct sk_buff_head *q)
{
	plat_mutex_destroy(&q->lock);
}

static inline int skb_queue_empty(const struct sk_buff_head *q)
{
	return q->next == (const struct sk_buff *)q;
}

static inline struct sk_buff *skb_peek(const struct sk_buff_head *q)
{
	return skb_queue_empty(q) ? NULL : q->next;
}

static inline struct sk_buff *skb_peek_tail(const struct sk_buff_head *q)
{
	return skb_queue_empty(q) ? NULL : q->prev;
}

/* The skb after @skb on @q, or NULL at the end. */
static inline struct sk_buff *skb_peek_next(const struct sk_buff *skb,
					    const struct sk_buff_head *q)
{
	return skb->next == (const struct sk_buff *)q ? NULL : skb->next;
}

void __skb_queue_tail(struct sk_buff_head *q, struct sk_buff *skb);
void __skb_unlink(struct sk_buff *skb, struct sk_buff_head *q);
struct sk_buff *__skb_dequeue(struct sk_buff_head *q);

/* Allocate an skb with @len bytes of inline data and the given truesize. */
struct sk_buff *skb_alloc(size_t len, unsigned int truesize);
/* Free the memory of an skb whose references were already dropped. */
void skb_free_mem(struct sk_buff *skb);

/*
 * Linux's truesize for an skb of @head linear bytes plus @frag page bytes:
 * the slab size of the head allocation (data + skb_shared_info) plus the
 * sk_buff itself, plus whole pages for the fragments.
 */
unsigned int skb_truesize(size_t head, size_t frag);

/*
 * The end of the piece of @skb's data that holds offset @off, in the layout
 * Linux's skb_splice_bits walks: the linear part, then each page fragment
 * (compound ones as alloc_skb_with_frags makes them, largest first, of at
 * most 2^SKB_FRAG_ORDER_MAX pages).
 */
#define SKB_FRAG_ORDER_MAX 3
unsigned int skb_segment_end(const struct sk_buff *skb, unsigned int off);

#endif
