/*
 * net/unix/stream.c - SOCK_STREAM send and receive, out-of-band data included.
 *
 * Linux's unix_stream_sendmsg / unix_stream_read_generic: a send cuts the
 * message into skbs of at most half the send buffer (SKB_MAX_HEAD(0) of
 * head, the rest in page frags) and queues each on the peer; MSG_OOB
 * sends the last byte alone as the peer's out-of-band mark (queue_oob).
 * A receive copies across skbs up to its target (SO_RCVLOWAT, MSG_WAITALL),
 * never gluing messages from different writers when credentials are passed,
 * and steps around the mark as manage_oob does.  One departure in how, not
 * what: a reader asleep on an empty queue offers its buffer, and a sender
 * copies plain data straight into it instead of queueing an skb (one copy
 * instead of two; __unix_stream_handoff), accounted as if queued and read.
 *
 * Locking (unix_socket.h): a sender reads its own state without its lock
 * (taking it only for an error or to wait for room) and takes the peer's,
 * alone, to queue (with the queue's lock inside); a reader holds its
 * iolock, walks its queue under the queue's lock, copies a large chunk
 * with no lock but the iolock, and takes its state lock only to sleep.
 * Skbs are freed with no state or queue lock held.
 */
#include "../../lib/string.h"
#include "af_unix.h"
#include "../../mm/page.h"

/*
 * A stream skb of @len bytes, @data_len of them in page fragments on Linux
 * (alloc_skb_with_frags): with fragments, all its data live in pages of
 * the net's pool, so that splice can hand them to a pipe by reference
 * (skb_splice_bits; fs/pipe.c's pipe_splice_from_socket).  The truesize is
 * Linux's either way.
 */
static struct sk_buff *__unix_skb_new_paged(struct unix_sock *owner, size_t len,
					    size_t data_len, unsigned int truesize)
{
	struct sk_buff *skb;
	struct page_run *run;

	if (!data_len)
		return __unix_skb_new(owner, len, truesize);
	run = page_run_alloc(&owner->net->pool, PAGE_ALIGN(len) / PAGE_SZ, 0);
	if (!run)
		return NULL;
	skb = __unix_skb_new(owner, 0, truesize);
	if (!skb) {
		page_run_put(run);
		return NULL;
	}
	skb->len = (unsigned int)len;
	skb->headlen = (unsigned int)(len - data_len);
	skb->compound = 1;
	skb->pages = run;
	skb->data = run->mem;
	return skb;
}

/* What a stream send that stopped on @err returns: what it queued, if any. */
static ssize_t unix_no_sendmsg_result(struct unix_msg *msg, int err)
{
	return msg->done ? (ssize_t)msg->done : err;
}

/*
 * Queue a filled stream skb of @size bytes on @other -- as its out-of-band
 * mark when @oob -- or, when @other can no longer read (EPIPE) or refuses
 * files (SO_PASSRIGHTS off: EPERM), give its bytes and files back to @msg
 * and free it.  A data skb's EPIPE raises SIGPIPE if nothing was sent yet
 * (unless MSG_NOSIGNAL); Linux's queue_oob raises none.  Takes @other's
 * state lock (Linux's stream send takes only the peer's), the caller holds
 * none.
 */
static int unix_stream_queue(struct unix_sock *sk, struct unix_sock *other,
			     struct sk_buff *skb, struct unix_msg *msg, size_t size,
			     int oob)
{
	int err;

	unix_state_lock(other);
	if ((other->flags & UNIX_F_DEAD) || (other->shutdown & RCV_SHUTDOWN)) {
		err = -EPIPE;
		goto unwind;
	}
	if (skb->cb.fp && (other->flags & UNIX_F_NOPASSRIGHTS)) {
		err = -EPERM;
		goto unwind;
	}
	__unix_skb_creds(skb, msg, sk, other);
	if (oob)
		msg->urg = other->owner;	/* sk_send_sigurg, by the caller */
	__unix_queue_skb(other, skb, oob);	/* as the mark when @oob */
	__wake_up_all(&other->wq);
	unix_state_unlock(other);
	return 0;

unwind:
	unix_state_unlock(other);
	msg_rewind(msg, size);
	__unix_unattach_fds(skb, msg);
	kfree_skb(skb);
	if (err == -EPIPE && !oob && !msg->done && !(msg->flags & MSG_NOSIGNAL))
		msg->sigpipe = 1;
	return err;
}

static int unix_stream_wait_wmem(struct unix_sock *sk, struct wait_ctl *ctl);

/*
 * queue_oob: the last byte of a MSG_OOB send, alone in an skb, becomes
 * @other's out-of-band mark.  The skb carries the files only if no data skb
 * did.  On success @msg->urg names the receiving file's owner, to whom the
 * caller sends SIGURG.  The caller holds no lock.
 */
static int __unix_queue_oob(struct unix_sock *sk, struct unix_sock *other,
			    struct unix_msg *msg, struct wait_ctl *ctl)
{
	struct sk_buff *skb;
	int err;

	err = unix_stream_wait_wmem(sk, ctl);
	if (err)
		return err;
	skb = __unix_skb_new(sk, 1, skb_truesize(1, 0));
	if (!skb)
		return -ENOMEM;
	err = __unix_attach_fds(skb, msg);
	if (err) {
		kfree_skb(skb);
		return err;
	}
	msg_copy_from(msg, skb->data, 1);
	unix_copied(sk, 1, 0);
	return unix_stream_queue(sk, other, skb, msg, 1, 1);
}

/*
 * The direct handoff: with @other's reader asleep on an empty receive
 * queue offering its buffer (struct unix_handoff), copy up to @len bytes
 * of @msg straight into it, and account for them as if they had been
 * queued and read at once (copied in by @sk, out by @other, one message
 * each way, SO_PEEK_OFF moved back, the sender's address given to the
 * reader).  Only plain data goes this way: not when files or credentials
 * travel (SCM_RIGHTS, SCM_CREDENTIALS, SO_PASSCRED or SO_PASSPIDFD on
 * either side: the reader must see them with the bytes), nor when @other
 * can no longer read (the queueing path reports EPIPE), nor with another
 * sender mid-copy.
 * Returns the bytes handed over, 0 when the caller must queue.  Takes
 * @other's state lock, and copies with it dropped; the caller holds none.
 */
static size_t unix_stream_handoff(struct unix_sock *sk, struct unix_sock *other,
				  struct unix_msg *msg, size_t len)
{
	struct unix_handoff *h;
	size_t n;

	if (msg->fp || msg->has_creds || (READ_ONCE(sk->flags) & UNIX_F_MAY_PASSCRED))
		return 0;
	unix_state_lock(other);
	h = other->handoff;
	if (!h || h->busy || skb_queue_len_lockless(&other->receive_queue) ||
	    (other->flags & (UNIX_F_DEAD | UNIX_F_MAY_PASSCRED)) ||
	    (other->shutdown & RCV_SHUTDOWN)) {
		unix_state_unlock(other);
		return 0;
	}
	n = min_sz(len, h->room);
	h->busy = 1;
	unix_state_unlock(other);
	unix_copy_addr(h->msg, sk);
	unix_msg_handoff(h->msg, msg, n);
	unix_account_copy(sk, n, 0);
	unix_account_copy(other, n, 1);
	unix_sk_stat_add(sk, msgs_sent, 1);
	unix_sk_stat_add(other, msgs_received, 1);
	unix_state_lock(other);
	h->busy = 0;
	h->got += n;
	h->room -= n;
	__sk_peek_offset_bwd(other, (int)n);
	if (h->got >= h->want || !h->room) {
		/* the reader has what it waits for: end its wait, as the
		 * queued bytes' sk_data_ready would (a reader still short of
		 * its target would only go back to sleep) */
		WRITE_ONCE(other->handoff, NULL);
		__wake_up_all(&other->wq);
	}
	unix_state_unlock(other);
	return n;
}

/*
 * sock_alloc_send_pskb's checks before each skb: without our state lock
 * while there is room, no error and no shutdown (each a hint read with
 * READ_ONCE, as Linux reads them), else under it, where the error is
 * taken and the wait for room sleeps (__unix_wait_wmem).
 */
static int unix_stream_wait_wmem(struct unix_sock *sk, struct wait_ctl *ctl)
{
	int err;

	if (!READ_ONCE(sk->err) && !(READ_ONCE(sk->shutdown) & SEND_SHUTDOWN) &&
	    unix_wmem(sk) < READ_ONCE(sk->sndbuf))
		return 0;
	unix_state_lock(sk);
	err = __unix_wait_wmem(sk, ctl);
	unix_state_unlock(sk);
	return err;
}

ssize_t unix_stream_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
			    struct wait_ctl *ctl)
{
	struct unix_sock *other;
	struct sk_buff *skb;
	size_t len = msg_total(msg);
	int oob = msg->flags & MSG_OOB;
	int err;

	err = unix_scm_send(task, sk->net, msg);
	if (err)
		return err;
	if (oob) {
		if (!len)
			return -EOPNOTSUPP;
		len--;		/* the last byte goes out of band, after the rest */
	}

	/*
	 * As Linux's stream send: our own state read without our lock (the
	 * peer link of a connected stream socket only goes with our own
	 * release, so @other stays while we run), the peer's state lock taken
	 * alone to queue; our lock only to take an error or to wait for room.
	 */
	if (msg->name)
		return unix_no_sendmsg_result(msg, READ_ONCE(sk->state) == UNIX_ESTABLISHED ?
					      -EISCONN : -EOPNOTSUPP);
	other = READ_ONCE(sk->peer);
	if (!other)
		return unix_no_sendmsg_result(msg, -ENOTCONN);
	if (READ_ONCE(sk->shutdown) & SEND_SHUTDOWN) {
		if (!(msg->flags & MSG_NOSIGNAL))
			msg->sigpipe = 1;
		return unix_no_sendmsg_result(msg, -EPIPE);
	}
	wait_ctl_begin(ctl, (msg->flags & MSG_DONTWAIT) ? 0 : READ_ONCE(sk->sndtimeo));

	if (msg->pages && msg->done < len) {
		err = unix_stream_wait_wmem(sk, ctl);
		if (err)
			return unix_no_sendmsg_result(msg, err);
		skb = __unix_page_skb(sk, msg, len);
		if (!skb)
			return unix_no_sendmsg_result(msg, -ENOMEM);
		err = unix_stream_queue(sk, other, skb, msg, len, 0);
		if (err)
			return unix_no_sendmsg_result(msg, err);
	}

	while (msg->done < len) {
		size_t size = len - msg->done, data_len;
		unsigned int truesize;

		size = min_sz(size, (size_t)((READ_ONCE(sk->sndbuf) >> 1) - 64));
		size = min_sz(size, SKB_MAX_HEAD0 + UNIX_SKB_FRAGS_SZ);
		data_len = size > SKB_MAX_HEAD0 ? size - SKB_MAX_HEAD0 : 0;
		data_len = min_sz(size, PAGE_ALIGN(data_len));
		truesize = skb_truesize(size - data_len, data_len);

		err = unix_stream_wait_wmem(sk, ctl);
		if (err)
			return unix_no_sendmsg_result(msg, err);
		if (!oob && READ_ONCE(other->handoff) &&
		    unix_stream_handoff(sk, other, msg, len - msg->done))
			continue;
		skb = __unix_skb_new_paged(sk, size, data_len, truesize);
		if (!skb)
			return unix_no_sendmsg_result(msg, -ENOMEM);
		/* Only the first skb carries the files. */
		err = __unix_attach_fds(skb, msg);
		if (err) {
			kfree_skb(skb);
			return unix_no_sendmsg_result(msg, err);
		}

		unix_msg_copy(msg, skb->data, size, 0);
		unix_copied(sk, size, 0);

		err = unix_stream_queue(sk, other, skb, msg, size, 0);
		if (err)
			return unix_no_sendmsg_result(msg, err);
	}
	if (oob && msg->done == len) {
		err = __unix_queue_oob(sk, other, msg, ctl);
		if (err)
			return unix_no_sendmsg_result(msg, err);
	}
	return (ssize_t)msg->done;
}


/*
 * recv(MSG_OOB), Linux's unix_stream_recv_urg: the out-of-band byte, or
 * EINVAL when there is none or SO_OOBINLINE is set.  Never waits.  Returns 1
 * even into an empty buffer (the byte is then consumed uncopied, as Linux's
 * short copy into a full iterator succeeds); carries no address, creds or
 * files.  Reading it also drops a consumed skb just before it.  Under the
 * iolock and the queue's lock, as Linux's.
 */
static ssize_t unix_stream_recv_urg(struct unix_sock *sk, struct unix_msg *msg)
{
	struct sk_buff *oob, *read_skb = NULL;
	ssize_t ret = 1;

	plat_mutex_lock(&sk->iolock);
	plat_mutex_lock(&sk->receive_queue.lock);
	oob = sk->oob_skb;
	if ((READ_ONCE(sk->flags) & UNIX_F_URGINLINE) || !oob) {
		ret = -EINVAL;
		goto out;
	}
	if (!(msg->flags & MSG_PEEK)) {
		__unix_set_oob_skb(sk, NULL);
		if (oob->prev != (struct sk_buff *)&sk->receive_queue &&
		    !unix_skb_len(oob->prev)) {
			read_skb = oob->prev;
			__unix_unlink_skb_locked(sk, read_skb);
		}
	}
	if (msg_left(msg)) {
		msg_copy_to(msg, oob->data + oob->cb.consumed, 1);
		unix_copied(sk, 1, 1);
	}
	if (!(msg->flags & MSG_PEEK))
		oob->cb.consumed++;
	msg->msg_flags |= MSG_OOB;
out:
	plat_mutex_unlock(&sk->receive_queue.lock);
	plat_mutex_unlock(&sk->iolock);
	if (read_skb)
		kfree_skb(read_skb);
	return ret;
}

/*
 * Linux's manage_oob: @skb is the next skb a stream reader would copy from;
 * return the one to copy from instead, or NULL to stop.  A reader steps over
 * (and, unless peeking, unlinks to @tofree) consumed skbs, stops at the mark
 * once it has copied something, and -- without SO_OOBINLINE -- skips an
 * unread OOB byte it reaches first, dropping it unless peeking.  Linux 6.18
 * leaves such a dropped byte counted in SIOCINQ (inq_stale).  Caller holds
 * iolock and the queue's lock.
 */
static struct sk_buff *__unix_manage_oob(struct unix_sock *sk, struct sk_buff *skb,
					 int flags, size_t copied, int inline_oob,
					 struct sk_buff **tofree)
{
	struct sk_buff *read_skb = NULL, *oob = sk->oob_skb;

	if (unix_skb_len(skb) && skb != oob)
		return skb;
	if (!unix_skb_len(skb)) {
		if (copied && (!oob || skb == oob)) {
			skb = NULL;
		} else if (flags & MSG_PEEK) {
			skb = skb_peek_next(skb, &sk->receive_queue);
		} else {
			read_skb = skb;
			skb = skb_peek_next(skb, &sk->receive_queue);
			__unix_unlink_skb_locked(sk, read_skb);
			skb_defer_free(tofree, read_skb);
		}
		if (!skb)
			return NULL;
	}
	if (skb != oob)
		return skb;
	if (copied) {
		skb = NULL;
	} else if (!(flags & MSG_PEEK)) {
		__unix_set_oob_skb(sk, NULL);
		if (!inline_oob) {
			__unix_unlink_skb_locked(sk, skb);
			skb_defer_free(tofree, skb);
			sk->inq_stale++;
			skb = skb_peek(&sk->receive_queue);
		}
	} else if (!inline_oob) {
		skb = skb_peek_next(skb, &sk->receive_queue);
	}
	return skb;
}

/*
 * A reader's wait is over: withdraw its offer if a sender has not, after
 * any copy into its buffer still running has finished (a sender copies
 * with the state lock dropped; the wait is that copy's length).  Returns
 * the bytes handed over.  Caller holds @sk's state lock.
 */
static size_t __unix_handoff_end(struct unix_sock *sk, struct unix_handoff *h)
{
	while (h->busy) {
		unix_state_unlock(sk);
		plat_yield();
		unix_state_lock(sk);
	}
	if (sk->handoff == h)
		WRITE_ONCE(sk->handoff, NULL);
	return h->got;
}

/* unix_stream_data_wait's condition: something after what the reader saw. */
static int unix_stream_data_moved(struct unix_sock *sk, struct sk_buff *last,
				  unsigned int last_len)
{
	struct sk_buff *tail;
	int moved;

	plat_mutex_lock(&sk->receive_queue.lock);
	tail = skb_peek_tail(&sk->receive_queue);
	moved = tail != last || (tail && tail->len != last_len);
	plat_mutex_unlock(&sk->receive_queue.lock);
	return moved;
}

ssize_t unix_stream_recvmsg(struct unix_sock *sk, struct unix_msg *msg,
			    struct wait_ctl *ctl)
{
	struct sk_buff_head *q = &sk->receive_queue;
	int flags = msg->flags;
	size_t size = msg_left(msg), copied = msg->done, target;
	int check_creds = 0, err = 0, skip, offered, inline_oob, rcvlowat, used_up;
	struct sk_buff *skb, *last, *tofree = NULL;
	unsigned int last_len, skflags;
	struct unix_handoff h;
	int64_t rcvtimeo;

	if (READ_ONCE(sk->state) != UNIX_ESTABLISHED)
		return -EINVAL;
	rcvlowat = READ_ONCE(sk->rcvlowat);
	rcvtimeo = READ_ONCE(sk->rcvtimeo);
	if (flags & MSG_OOB)
		return unix_stream_recv_urg(sk, msg);

	target = (flags & MSG_WAITALL) ? msg_total(msg) : min_sz((size_t)rcvlowat, msg_total(msg));
	if (!target)
		target = 1;
	wait_ctl_begin(ctl, (flags & MSG_DONTWAIT) ? 0 : rcvtimeo);

	plat_mutex_lock(&sk->iolock);
	skflags = READ_ONCE(sk->flags);
	msg->want_creds = !!(skflags & UNIX_F_MAY_PASSCRED);
	inline_oob = !!(skflags & UNIX_F_URGINLINE);
	skip = 0;
	if (flags & MSG_PEEK) {
		skip = READ_ONCE(sk->peek_off);
		if (skip < 0)
			skip = 0;
	}
	if (msg->got_scm && msg->want_creds)
		check_creds = 1;	/* continuing the call's non-blocking attempt */

	plat_mutex_lock(&q->lock);
	do {
		unsigned int chunk;

redo:
		if (READ_ONCE(sk->flags) & UNIX_F_DEAD) {
			err = -ECONNRESET;
			break;
		}
		last = skb = skb_peek(q);
		last_len = last ? last->len : 0;
again:
		if (skb) {
			skb = __unix_manage_oob(sk, skb, flags, copied, inline_oob, &tofree);
			if (!skb && copied)
				break;
		}
		if (!skb) {
			if (copied >= target)
				break;
			last = skb_peek_tail(q);
			last_len = last ? last->len : 0;
			plat_mutex_unlock(&q->lock);
			kfree_skb_list(tofree);
			tofree = NULL;
			/*
			 * Senders queue under our state lock: under it, the
			 * queue still ending where we looked, the error and
			 * shutdown checks and the sleep are one step.
			 */
			unix_state_lock(sk);
			if (unix_stream_data_moved(sk, last, last_len)) {
				unix_state_unlock(sk);
				plat_mutex_lock(&q->lock);
				goto redo;
			}
			if (sk->err) {
				err = -sk->err;
				WRITE_ONCE(sk->err, 0);
			}
			if (err || (sk->shutdown & RCV_SHUTDOWN)) {
				unix_state_unlock(sk);
				plat_mutex_lock(&q->lock);
				break;
			}
			/* Sleep with iolock released, as Linux does, until
			 * something is appended after what we looked at --
			 * or, offering our buffer to senders meanwhile (a
			 * plain read of an empty queue), until they have
			 * handed over what we wait for. */
			plat_mutex_unlock(&sk->iolock);
			offered = !(flags & MSG_PEEK) && !msg->want_creds && !msg->sink && !sk->handoff &&
				  !skb_queue_len_lockless(q) && ctl->deadline != WAIT_NONBLOCK;
			if (offered) {
				h = (struct unix_handoff){ msg, size, target - copied, 0, 0 };
				WRITE_ONCE(sk->handoff, &h);
			}
			__unix_wait_event(err, sk, &sk->wq, ctl, 0,
					  unix_stream_data_moved(sk, last, last_len) ||
					  sk->err || (sk->shutdown & RCV_SHUTDOWN) ||
					  (sk->flags & UNIX_F_DEAD) ||
					  (offered && sk->handoff != &h));
			if (offered) {
				size_t got = __unix_handoff_end(sk, &h);

				copied += got;
				size -= got;
			}
			unix_state_unlock(sk);
			if (err || (offered && !size)) {
				msg->done = copied;
				return copied ? (ssize_t)copied : err;
			}
			plat_mutex_lock(&sk->iolock);
			plat_mutex_lock(&q->lock);
			goto redo;
		}

		while ((unsigned int)skip >= unix_skb_len(skb)) {
			skip -= unix_skb_len(skb);
			last = skb;
			last_len = skb->len;
			skb = skb_peek_next(skb, q);
			if (!skb)
				goto again;
		}

		if (check_creds) {
			/* Never glue messages from different writers. */
			if (!unix_skb_scm_eq(skb, &msg->cred))
				break;
		} else if (msg->want_creds) {
			msg->cred = skb->cb.cred;
			msg->got_scm = 1;
			check_creds = 1;
		}

		unix_copy_addr(msg, skb->sk);

		chunk = (unsigned int)min_sz(unix_skb_len(skb) - (unsigned int)skip, size);
		if (msg->sink) {
			/* splice (never a peek): the actor takes what fits
			 * its pipe, with the queue unlocked (only the iolock
			 * holder unlinks the skb); a part ends the read */
			long took;

			plat_mutex_unlock(&q->lock);
			took = msg->sink->actor(msg->sink, skb, skb->cb.consumed, chunk);
			plat_mutex_lock(&q->lock);
			if (took <= 0) {
				if (!copied)
					err = took ? (int)took : -EAGAIN;
				break;
			}
			chunk = (unsigned int)took;
			unix_copied(sk, msg->sink->copied, 1);
			unix_sk_stat_add(sk, bytes_zerocopy, chunk - msg->sink->copied);
			unix_sk_stat_add(sk, bytes_zerocopy_out, chunk - msg->sink->copied);
			unix_cnt_add(sk->net, bytes_zerocopy, (int64_t)(chunk - msg->sink->copied));
			skb->cb.consumed += chunk;
			used_up = !unix_skb_len(skb);
			if (used_up)
				__unix_unlink_skb_locked(sk, skb);
			plat_mutex_unlock(&q->lock);
		} else if (!(flags & MSG_PEEK)) {
			/* Copied, then consumed (and, emptied, unlinked) under
			 * the queue's lock SIOCINQ reads it under; a large copy
			 * with the lock dropped (only the iolock holder
			 * unlinks the skb). */
			if (chunk >= COPY_UNLOCKED_MIN) {
				plat_mutex_unlock(&q->lock);
				unix_msg_copy(msg, skb->data + skb->cb.consumed, chunk, 1);
				unix_copied(sk, chunk, 1);
				plat_mutex_lock(&q->lock);
			} else {
				unix_msg_copy(msg, skb->data + skb->cb.consumed, chunk, 1);
				unix_copied(sk, chunk, 1);
			}
			skb->cb.consumed += chunk;
			used_up = !unix_skb_len(skb);
			if (used_up)
				__unix_unlink_skb_locked(sk, skb);
			plat_mutex_unlock(&q->lock);
		} else {
			/* The skb stays put while we copy with the queue
			 * unlocked: only the iolock holder unlinks it. */
			plat_mutex_unlock(&q->lock);
			unix_msg_copy(msg, skb->data + skb->cb.consumed + skip, chunk, 1);
			unix_copied(sk, chunk, 1);
		}
		copied += chunk;
		size -= chunk;

		if (!(flags & MSG_PEEK)) {
			sk_peek_offset_bwd(sk, (int)chunk);
			if (skb->cb.fp) {
				__unix_detach_fds(skb, msg);
				msg->got_scm = 1;
				msg->cred = skb->cb.cred;
			}
			if (!used_up)
				goto out_unlocked;
			skb_defer_free(&tofree, skb);
			if (msg->rfp || !size)
				goto out_unlocked;
			plat_mutex_lock(&q->lock);
		} else {
			if (skb->cb.fp) {
				unix_peek_fds(skb, msg);
				msg->got_scm = 1;
				msg->cred = skb->cb.cred;
			}
			sk_peek_offset_fwd(sk, (int)chunk);
			plat_mutex_lock(&q->lock);
			if (skb->cb.fp)
				break;
			skip = 0;
			last = skb;
			last_len = skb->len;
			skb = skb_peek_next(skb, q);
			if (skb)
				goto again;
			break;
		}
	} while (size);
	plat_mutex_unlock(&q->lock);
out_unlocked:

	if (!copied && !err && msg->want_creds && !msg->got_scm) {
		/* EOF: Linux gives scm_recv_unix its zeroed cookie, so a
		 * SO_PASSCRED reader gets SCM_CREDENTIALS {0, 0, 0}. */
		memset(&msg->cred, 0, sizeof(msg->cred));
		msg->got_scm = 1;
	}
	plat_mutex_unlock(&sk->iolock);
	kfree_skb_list(tofree);
	msg->done = copied;
	return copied ? (ssize_t)copied : err;
}
