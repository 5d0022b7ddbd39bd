/*
 * net/unix/zerocopy.c - page handoff: messages sent and received as pages.
 *
 * A zero-copy send queues an skb whose data are the sender's pages (a page
 * reference, no copy); a zero-copy receive takes such an skb's pages whole.
 * Pages come from the net's page pool (mm/page.h).
 *
 * Locking: as the datagram and stream paths (unix_socket.h): a receive
 * under the iolock, the queue's lock to unlink, the state lock to wake.
 */
#include "../../lib/string.h"
#include "af_unix.h"
#include "../../mm/page.h"

/*
 * An skb whose data are @msg's pages themselves: the zero-copy handoff.  The
 * skb holds a page reference.  Its truesize is the skb alone for a
 * MSG_ZEROCOPY send: the pages are the sender's memory, accounted by the
 * page pool (as Linux charges pinned MSG_ZEROCOPY pages to the user's
 * locked memory, not the socket buffer); spliced pages (@msg->splice) are
 * charged their length too, as Linux's skb_splice_from_iter grows the
 * truesize, so a relay's or sendfile's queue is bounded by the send buffer.
 */
struct sk_buff *__unix_page_skb(struct unix_sock *sk, struct unix_msg *msg, size_t len)
{
	unsigned int truesize = skb_truesize(0, 0) + (msg->splice ? (unsigned int)len : 0);
	struct sk_buff *skb = __unix_skb_new(sk, 0, truesize);

	if (!skb)
		return NULL;
	skb->len = (unsigned int)len;
	skb->headlen = 0;		/* all page fragments, as MSG_SPLICE_PAGES makes them */
	skb->data = (unsigned char *)msg->iov[0].base;
	skb->pages = msg->pages;
	page_run_get(msg->pages);
	msg_advance(msg, len);
	unix_sk_stat_add(sk, bytes_zerocopy, len);
	unix_cnt_add(sk->net, bytes_zerocopy, (int64_t)len);
	trace_event(TRACE_HANDOFF, 0, sk->ino, len, trace_id(msg->pages));
	return skb;
}

/*
 * Take the next message if it is a page skb (zero-copy send) and unread:
 * msg->rpages gets a page reference, msg->rpages_off/done its extent, and
 * the skb is consumed without copying.  Returns the length, 0 at EOF, or
 * -ENOBUFS when the next message is ordinary data, partly read, or longer
 * than msg->iov[0].len when the caller gives an iov (the caller copies it
 * with unix_recvmsg), or -errno.  Ancillary data cannot travel with pages.
 */
ssize_t unix_recv_pages(struct unix_sock *sk, struct unix_msg *msg, struct wait_ctl *ctl)
{
	struct sk_buff_head *q = &sk->receive_queue;
	struct sk_buff *skb;
	unsigned int len = 0;
	ssize_t ret;
	int err;

	wait_ctl_begin(ctl, (msg->flags & MSG_DONTWAIT) ? 0 : READ_ONCE(sk->rcvtimeo));
	plat_mutex_lock(&sk->iolock);
	for (;;) {
		int state = READ_ONCE(sk->state);

		if (sk->type != SOCK_DGRAM && state != UNIX_ESTABLISHED) {
			ret = sk->type == SOCK_STREAM ? -EINVAL : -ENOTCONN;
			goto out;
		}
		plat_mutex_lock(&q->lock);
		skb = skb_peek(q);
		if (skb && (!skb->pages || skb->cb.fp || (msg->flags & MSG_PEEK))) {
			plat_mutex_unlock(&q->lock);
			ret = -ENOBUFS;
			goto out;
		}
		if (skb) {
			len = skb->cb.consumed ? 0 : skb->len;
			if (msg->iovlen && len > msg->iov[0].len)
				len = 0;
			if (!len) {
				plat_mutex_unlock(&q->lock);
				ret = -ENOBUFS;
				goto out;
			}
			__unix_unlink_skb_locked(sk, skb);
			break;
		}
		plat_mutex_unlock(&q->lock);
		if (READ_ONCE(sk->err)) {
			ret = __unix_sock_error(sk);
			if (ret)
				goto out;
		}
		if (sk->type != SOCK_STREAM && ctl->deadline <= plat_now_ns()) {
			/* as unix_dgram_recvmsg: EAGAIN before a shutdown is
			 * looked at, but a seqpacket socket's EOF */
			ret = sk->type == SOCK_SEQPACKET &&
			      (READ_ONCE(sk->shutdown) & RCV_SHUTDOWN) ? 0 : -EAGAIN;
			goto out;
		}
		if (READ_ONCE(sk->shutdown) & RCV_SHUTDOWN) {
			ret = 0;
			goto out;
		}
		err = unix_wait_for_packet(sk, ctl);
		if (err)
			return err;
		plat_mutex_lock(&sk->iolock);
	}
	page_run_get(skb->pages);
	msg->rpages = skb->pages;
	msg->rpages_off = (size_t)(skb->data - skb->pages->mem);
	plat_mutex_unlock(&q->lock);
	msg->done = len;
	ret = (ssize_t)len;
	unix_sk_stat_add(sk, bytes_zerocopy, len);
	unix_sk_stat_add(sk, bytes_zerocopy_out, len);
	trace_event(TRACE_HANDOFF, 1, sk->ino, len, trace_id(skb->pages));
	unix_state_lock(sk);
	__unix_room_made(sk);	/* as unix_dgram_recvmsg */
	unix_state_unlock(sk);
	plat_mutex_unlock(&sk->iolock);
	kfree_skb(skb);
	unix_ready_flush(sk->net);
	return ret;
out:
	plat_mutex_unlock(&sk->iolock);
	return ret;
}

struct page_run *unix_alloc_pages(struct unix_net *net, size_t npages, int zero)
{
	return page_run_alloc(&net->pool, npages, zero);
}
