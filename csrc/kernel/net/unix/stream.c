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
 * Locking: net->lock and the socket's iolock (readers), as unix_socket.h says.
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
 * (unless MSG_NOSIGNAL); Linux's queue_oob raises none.
 */
static int __unix_stream_queue(struct unix_sock *sk, struct unix_sock *other,
			       struct sk_buff *skb, struct unix_msg *msg, size_t size,
			       int oob)
{
	int err;

	if ((other->flags & UNIX_F_DEAD) || (other->shutdown & RCV_SHUTDOWN)) {
		err = -EPIPE;
		goto unwind;
	}
	if (skb->cb.fp && (other->flags & UNIX_F_NOPASSRIGHTS)) {
		err = -EPERM;
		goto unwind;
	}
	__unix_skb_creds(skb, msg, sk, other);
	if (oob) {
		/* a mark not yet read becomes ordinary data ("ex-OOB") */
		__unix_set_oob_skb(other, skb);
		msg->urg = other->owner;	/* sk_send_sigurg, by the caller */
	}
	__unix_queue_skb(other, skb);
	__wake_up_all(&other->wq);
	return 0;

unwind:
	msg_rewind(msg, size);
	__unix_unattach_fds(skb, msg);
	__kfree_skb(skb);
	if (err == -EPIPE && !oob && !msg->done && !(msg->flags & MSG_NOSIGNAL))
		msg->sigpipe = 1;
	return err;
}

/*
 * queue_oob: the last byte of a MSG_OOB send, alone in an skb, becomes
 * @other's out-of-band mark.  The skb carries the files only if no data skb
 * did.  On success @msg->urg names the receiving file's owner, to whom the
 * caller sends SIGURG.
 */
static int __unix_queue_oob(struct unix_sock *sk, struct unix_sock *other,
			    struct unix_msg *msg, struct wait_ctl *ctl)
{
	struct sk_buff *skb;
	int err;

	err = __unix_wait_wmem(sk, ctl);
	if (err)
		return err;
	skb = __unix_skb_new(sk, 1, skb_truesize(1, 0));
	if (!skb)
		return -ENOMEM;
	err = __unix_attach_fds(skb, msg);
	if (err) {
		__kfree_skb(skb);
		return err;
	}
	msg_copy_from(msg, skb->data, 1);
	__unix_copied(sk, 1, 0);
	return __unix_stream_queue(sk, other, skb, msg, 1, 1);
}

/*
 * The direct handoff: with @other's reader asleep on an empty receive
 * queue offering its buffer (struct unix_handoff), copy up to @len bytes
 * of @msg straight into it, and account for them as if they had been
 * queued and read at once (copied in by @sk, out by @other, one message
 * each way, SO_PEEK_OFF moved back, the sender's address given to the
 * reader).  Only plain data goes this way: not when files or credentials
 * travel (SCM_RIGHTS, SCM_CREDENTIALS, SO_PASSCRED on either side: the
 * reader must see them with the bytes), nor when @other can no longer read
 * (the queueing path reports EPIPE), nor with another sender mid-copy.
 * Returns the bytes handed over, 0 when the caller must queue.  Caller
 * holds net->lock; the copy may drop it (__unix_msg_handoff).
 */
static size_t __unix_stream_handoff(struct unix_sock *sk, struct unix_sock *other,
				    struct unix_msg *msg, size_t len)
{
	struct unix_handoff *h = other->handoff;
	size_t n;

	if (!h || h->busy || !skb_queue_empty(&other->receive_queue) ||
	    (other->flags & (UNIX_F_DEAD | UNIX_F_PASSCRED)) ||
	    (other->shutdown & RCV_SHUTDOWN) || (sk->flags & UNIX_F_PASSCRED) ||
	    msg->fp || msg->has_creds)
		return 0;
	n = min_sz(len, h->room);
	h->busy = 1;
	__unix_copy_addr(h->msg, sk);
	__unix_msg_handoff(sk->net, h->msg, msg, n);
	h->busy = 0;
	h->got += n;
	h->room -= n;
	__unix_account_copy(sk, n, 0);
	__unix_account_copy(other, n, 1);
	sk->msgs_sent++;
	other->msgs_received++;
	__sk_peek_offset_bwd(other, (int)n);
	if (h->got >= h->want || !h->room) {
		/* the reader has what it waits for: end its wait, as the
		 * queued bytes' sk_data_ready would (a reader still short of
		 * its target would only go back to sleep) */
		other->handoff = NULL;
		__wake_up_all(&other->wq);
	}
	return n;
}

ssize_t unix_stream_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
			    struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	struct unix_sock *other;
	struct sk_buff *skb;
	size_t len = msg_total(msg);
	int oob = msg->flags & MSG_OOB;
	int err;

	err = unix_scm_send(task, net, msg);
	if (err)
		return err;
	if (oob) {
		if (!len)
			return -EOPNOTSUPP;
		len--;		/* the last byte goes out of band, after the rest */
	}

	plat_mutex_lock(&net->lock);
	if (msg->name) {
		err = sk->state == UNIX_ESTABLISHED ? -EISCONN : -EOPNOTSUPP;
		goto out_err;
	}
	other = sk->peer;
	if (!other) {
		err = -ENOTCONN;
		goto out_err;
	}
	if (sk->shutdown & SEND_SHUTDOWN) {
		if (!(msg->flags & MSG_NOSIGNAL))
			msg->sigpipe = 1;
		err = -EPIPE;
		goto out_err;
	}
	wait_ctl_begin(ctl, (msg->flags & MSG_DONTWAIT) ? 0 : sk->sndtimeo);

	if (msg->pages && msg->done < len) {
		err = __unix_wait_wmem(sk, ctl);
		if (err)
			goto out_err;
		skb = __unix_page_skb(sk, msg, len);
		if (!skb) {
			err = -ENOMEM;
			goto out_err;
		}
		err = __unix_stream_queue(sk, other, skb, msg, len, 0);
		if (err)
			goto out_err;
	}

	while (msg->done < len) {
		size_t size = len - msg->done, data_len;
		unsigned int truesize;

		size = min_sz(size, (size_t)((sk->sndbuf >> 1) - 64));
		size = min_sz(size, SKB_MAX_HEAD0 + UNIX_SKB_FRAGS_SZ);
		data_len = size > SKB_MAX_HEAD0 ? size - SKB_MAX_HEAD0 : 0;
		data_len = min_sz(size, PAGE_ALIGN(data_len));
		truesize = skb_truesize(size - data_len, data_len);

		err = __unix_wait_wmem(sk, ctl);
		if (err)
			goto out_err;
		if (other->handoff && !oob &&
		    __unix_stream_handoff(sk, other, msg, len - msg->done))
			continue;
		skb = __unix_skb_new_paged(sk, size, data_len, truesize);
		if (!skb) {
			err = -ENOMEM;
			goto out_err;
		}
		/* Only the first skb carries the files. */
		err = __unix_attach_fds(skb, msg);
		if (err) {
			__kfree_skb(skb);
			goto out_err;
		}

		__unix_msg_copy(net, msg, skb->data, size, 0);
		__unix_copied(sk, size, 0);

		err = __unix_stream_queue(sk, other, skb, msg, size, 0);
		if (err)
			goto out_err;
	}
	if (oob && msg->done == len) {
		err = __unix_queue_oob(sk, other, msg, ctl);
		if (err)
			goto out_err;
	}
	plat_mutex_unlock(&net->lock);
	return (ssize_t)msg->done;

out_err:
	plat_mutex_unlock(&net->lock);
	return unix_no_sendmsg_result(msg, err);
}


/*
 * recv(MSG_OOB), Linux's unix_stream_recv_urg: the out-of-band byte, or
 * EINVAL when there is none or SO_OOBINLINE is set.  Never waits.  Returns 1
 * even into an empty buffer (the byte is then consumed uncopied, as Linux's
 * short copy into a full iterator succeeds); carries no address, creds or
 * files.  Reading it also drops a consumed skb just before it.
 */
static ssize_t unix_stream_recv_urg(struct unix_sock *sk, struct unix_msg *msg)
{
	struct unix_net *net = sk->net;
	struct sk_buff *oob, *read_skb = NULL;
	ssize_t ret = 1;

	plat_mutex_lock(&sk->iolock);
	plat_mutex_lock(&net->lock);
	oob = sk->oob_skb;
	if ((sk->flags & UNIX_F_URGINLINE) || !oob) {
		ret = -EINVAL;
		goto out;
	}
	if (!(msg->flags & MSG_PEEK)) {
		__unix_set_oob_skb(sk, NULL);
		if (oob->prev != (struct sk_buff *)&sk->receive_queue &&
		    !unix_skb_len(oob->prev)) {
			read_skb = oob->prev;
			__unix_unlink_skb(sk, read_skb);
		}
	}
	if (msg_left(msg)) {
		msg_copy_to(msg, oob->data + oob->cb.consumed, 1);
		__unix_copied(sk, 1, 1);
	}
	if (!(msg->flags & MSG_PEEK))
		oob->cb.consumed++;
	msg->msg_flags |= MSG_OOB;
	if (read_skb)
		__kfree_skb(read_skb);
out:
	plat_mutex_unlock(&net->lock);
	plat_mutex_unlock(&sk->iolock);
	return ret;
}

/*
 * Linux's manage_oob: @skb is the next skb a stream reader would copy from;
 * return the one to copy from instead, or NULL to stop.  A reader steps over
 * (and, unless peeking, frees) consumed skbs, stops at the mark once it has
 * copied something, and -- without SO_OOBINLINE -- skips an unread OOB byte
 * it reaches first, dropping it unless peeking.  Linux 6.18 leaves such a
 * dropped byte counted in SIOCINQ (inq_stale).  Caller holds iolock and
 * net->lock.
 */
static struct sk_buff *__unix_manage_oob(struct unix_sock *sk, struct sk_buff *skb,
					 int flags, size_t copied)
{
	struct sk_buff *read_skb = NULL, *unread_skb = NULL, *oob = sk->oob_skb;
	int inline_oob = !!(sk->flags & UNIX_F_URGINLINE);

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
			__unix_unlink_skb(sk, read_skb);
		}
		if (!skb)
			goto out;
	}
	if (skb != oob)
		goto out;
	if (copied) {
		skb = NULL;
	} else if (!(flags & MSG_PEEK)) {
		__unix_set_oob_skb(sk, NULL);
		if (!inline_oob) {
			__unix_unlink_skb(sk, skb);
			unread_skb = skb;
			plat_mutex_lock(&sk->receive_queue.lock);
			sk->inq_stale++;
			plat_mutex_unlock(&sk->receive_queue.lock);
			skb = skb_peek(&sk->receive_queue);
		}
	} else if (!inline_oob) {
		skb = skb_peek_next(skb, &sk->receive_queue);
	}
out:
	if (read_skb)
		__kfree_skb(read_skb);
	if (unread_skb)
		__kfree_skb(unread_skb);
	return skb;
}

/*
 * A reader's wait is over: withdraw its offer if a sender has not, after
 * any copy into its buffer still running has finished (a sender copies
 * with net->lock dropped; the wait is that copy's length).  Returns the
 * bytes handed over.  Caller holds net->lock.
 */
static size_t __unix_handoff_end(struct unix_sock *sk, struct unix_handoff *h)
{
	while (h->busy) {
		plat_mutex_unlock(&sk->net->lock);
		plat_yield();
		plat_mutex_lock(&sk->net->lock);
	}
	if (sk->handoff == h)
		sk->handoff = NULL;
	return h->got;
}

ssize_t unix_stream_recvmsg(struct unix_sock *sk, struct unix_msg *msg,
			    struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	int flags = msg->flags;
	size_t size = msg_left(msg), copied = msg->done, target;
	int check_creds = 0, err = 0, skip, offered;
	struct sk_buff *skb, *last;
	unsigned int last_len;
	struct unix_handoff h;

	plat_mutex_lock(&net->lock);
	if (sk->state != UNIX_ESTABLISHED) {
		plat_mutex_unlock(&net->lock);
		return -EINVAL;
	}
	plat_mutex_unlock(&net->lock);
	if (flags & MSG_OOB)
		return unix_stream_recv_urg(sk, msg);

	target = (flags & MSG_WAITALL) ? msg_total(msg) : min_sz((size_t)sk->rcvlowat, msg_total(msg));
	if (!target)
		target = 1;
	wait_ctl_begin(ctl, (flags & MSG_DONTWAIT) ? 0 : sk->rcvtimeo);

	plat_mutex_lock(&sk->iolock);
	plat_mutex_lock(&net->lock);
	msg->want_creds = !!(sk->flags & UNIX_F_PASSCRED);
	skip = (flags & MSG_PEEK) && sk->peek_off > 0 ? sk->peek_off : 0;
	if (msg->got_scm && msg->want_creds)
		check_creds = 1;	/* continuing the call's non-blocking attempt */

	do {
		unsigned int chunk;

redo:
		if (sk->flags & UNIX_F_DEAD) {
			err = -ECONNRESET;
			break;
		}
		last = skb = skb_peek(&sk->receive_queue);
		last_len = last ? last->len : 0;
again:
		if (skb) {
			skb = __unix_manage_oob(sk, skb, flags, copied);
			if (!skb && copied)
				break;
		}
		if (!skb) {
			if (copied >= target)
				break;
			if (sk->err) {
				err = __unix_sock_error(sk);
				break;
			}
			if (sk->shutdown & RCV_SHUTDOWN)
				break;
			/* Sleep with iolock released, as Linux does, until
			 * something is appended after what we looked at --
			 * or, offering our buffer to senders meanwhile (a
			 * plain read of an empty queue), until they have
			 * handed over what we wait for. */
			last = skb_peek_tail(&sk->receive_queue);
			last_len = last ? last->len : 0;
			plat_mutex_unlock(&net->lock);
			plat_mutex_unlock(&sk->iolock);
			plat_mutex_lock(&net->lock);
			offered = !(flags & MSG_PEEK) && !msg->want_creds && !sk->handoff &&
				  skb_queue_empty(&sk->receive_queue) && ctl->deadline != WAIT_NONBLOCK;
			if (offered) {
				h = (struct unix_handoff){ msg, size, target - copied, 0, 0 };
				sk->handoff = &h;
			}
			__unix_wait_event(err, sk, &sk->wq, ctl, 0,
					  skb_peek_tail(&sk->receive_queue) != last ||
					  (last && last->len != last_len) ||
					  sk->err || (sk->shutdown & RCV_SHUTDOWN) ||
					  (sk->flags & UNIX_F_DEAD) ||
					  (offered && sk->handoff != &h));
			if (offered) {
				size_t got = __unix_handoff_end(sk, &h);

				copied += got;
				size -= got;
			}
			plat_mutex_unlock(&net->lock);
			if (err || (offered && !size)) {
				msg->done = copied;
				return copied ? (ssize_t)copied : err;
			}
			plat_mutex_lock(&sk->iolock);
			plat_mutex_lock(&net->lock);
			goto redo;
		}

		while ((unsigned int)skip >= unix_skb_len(skb)) {
			skip -= unix_skb_len(skb);
			last = skb;
			last_len = skb->len;
			skb = skb_peek_next(skb, &sk->receive_queue);
			if (!skb)
				goto again;
		}

		if (check_creds) {
			/* Never glue messages from different writers. */
			if (!unix_skb_scm_eq(skb, &msg->cred))
				break;
		} else if (sk->flags & UNIX_F_PASSCRED) {
			msg->cred = skb->cb.cred;
			msg->got_scm = 1;
			check_creds = 1;
		}

		__unix_copy_addr(msg, skb->sk);

		chunk = (unsigned int)min_sz(unix_skb_len(skb) - (unsigned int)skip, size);
		/* the skb stays put while the copy may run unlocked: see
		 * __unix_msg_copy() */
		__unix_msg_copy(net, msg, skb->data + skb->cb.consumed + skip, chunk, 1);
		__unix_copied(sk, chunk, 1);
		copied += chunk;
		size -= chunk;

		if (!(flags & MSG_PEEK)) {
			skb->cb.consumed += chunk;
			__sk_peek_offset_bwd(sk, (int)chunk);
			if (skb->cb.fp) {
				__unix_detach_fds(skb, msg);
				msg->got_scm = 1;
				msg->cred = skb->cb.cred;
			}
			if (unix_skb_len(skb))
				break;
			__unix_unlink_skb(sk, skb);
			__kfree_skb(skb);
			if (msg->rfp)
				break;
		} else {
			if (skb->cb.fp) {
				unix_peek_fds(skb, msg);
				msg->got_scm = 1;
				msg->cred = skb->cb.cred;
			}
			__sk_peek_offset_fwd(sk, (int)chunk);
			if (skb->cb.fp)
				break;
			skip = 0;
			last = skb;
			last_len = skb->len;
			skb = skb_peek_next(skb, &sk->receive_queue);
			if (skb)
				goto again;
			break;
		}
	} while (size);

	if (!copied && !err && msg->want_creds && !msg->got_scm) {
		/* EOF: Linux gives scm_recv_unix its zeroed cookie, so a
		 * SO_PASSCRED reader gets SCM_CREDENTIALS {0, 0, 0}. */
		memset(&msg->cred, 0, sizeof(msg->cred));
		msg->got_scm = 1;
	}
	plat_mutex_unlock(&net->lock);
	plat_mutex_unlock(&sk->iolock);
	msg->done = copied;
	return copied ? (ssize_t)copied : err;
}
