/*
 * net/unix/dgram.c - SOCK_DGRAM and SOCK_SEQPACKET send and receive.
 *
 * Linux's unix_dgram_sendmsg / __unix_dgram_recvmsg: one skb per message,
 * sent to a name or to the peer, waiting on the receiver's peer_wait while
 * its queue is full (max_dgram_qlen); a seqpacket socket is a connected
 * datagram socket with stream's connection checks.
 *
 * Locking: the state locks of the sender and the receiver, never both at
 * once; the receive queue's lock; the reader's iolock (unix_socket.h).
 */
#include "../../lib/string.h"
#include "af_unix.h"

/*
 * Room grants.  A receive that takes a message off a datagram socket's full
 * queue makes room for one, and Linux wakes one sender asleep for room
 * (peer_wait, exclusive) at every receive.  A woken sender queues its
 * message and goes back to its caller -- in the Python bridge, by taking
 * the GIL, which the reader holds while it drains.  Woken one per message,
 * every sender comes back for that one message, finds the queue full again
 * and sleeps: a GIL hand-over and a sleep per message.  So a receive wakes
 * a sender only when no sender it woke is still on its way
 * (sk->room_granted, set by the grant of __wake_up_grant), and pollers at
 * every receive as before.  The granted sender, once back with its caller
 * (unix_room_release), passes the grant on to the next sleeper if room is
 * left; a granted sender that finds no room (another sender took it first)
 * lets its grant go before it sleeps again, and one whose call fails
 * passes it on.  So no sender sleeps while there is room unless a running
 * thread holds the grant and will pass it on; Linux gives no order among
 * senders woken for room, and none is lost.  Called with @sk's state lock
 * held: a receive made room on @sk, or its granted sender lets go.
 */
static void __unix_room_pass(struct unix_sock *sk)
{
	sk->room_granted = 0;
	if (!unix_recvq_full(sk))
		sk->room_granted = __wake_up_grant(&sk->peer_wait, 0);
}

void __unix_room_made(struct unix_sock *sk)
{
	if (sk->room_granted)
		__wake_up(&sk->peer_wait, 0);	/* pollers only */
	else
		sk->room_granted = __wake_up_grant(&sk->peer_wait, 1);
}

void unix_room_release(struct unix_msg *msg)
{
	struct unix_sock *other = msg->granted;

	if (!other)
		return;
	msg->granted = NULL;
	unix_state_lock(other);
	__unix_room_pass(other);
	unix_state_unlock(other);
	sock_put(other);
}

/*
 * Datagram and seqpacket send, to msg->name (a sendto()) or to the peer.
 * Our state lock for our own state, the receiver's (alone) to check it and
 * queue, as Linux's unix_dgram_sendmsg; the copy with no lock held.
 */
ssize_t unix_dgram_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
			   struct wait_ctl *ctl)
{
	struct unix_sock *other = NULL;
	struct sk_buff *skb = NULL;
	size_t len = msg_total(msg), data_len = 0;
	int err, granted = 0;	/* woken with a grant of room on @other */

	err = unix_scm_send(task, sk->net, msg);
	if (err)
		return err;
	if (msg->flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (msg->name && (!msg->namelen || msg->namelen > UNIX_PATH_MAX))
		return -EINVAL;		/* unix_validate_addr */

	/*
	 * Linux's order: autobind (SO_PASSCRED, unnamed, and somewhere to
	 * send: a name or a peer); the size; then sock_alloc_send_pskb's
	 * pending error, SEND_SHUTDOWN (EPIPE) and wait for room
	 * (__unix_wait_wmem); the files (ETOOMANYREFS) and the copy; only then
	 * the destination -- the peer (ENOTCONN), or the name, looked up with
	 * no lock held (unix_find_other).
	 */
	if ((READ_ONCE(sk->flags) & UNIX_F_MAY_PASSCRED) && !unix_addr(sk) &&
	    (msg->name || READ_ONCE(sk->peer))) {
		err = __unix_autobind(sk);
		if (err)
			return err;
	}
	unix_state_lock(sk);
	if (len > (size_t)(sk->sndbuf - 32)) {
		err = -EMSGSIZE;
		goto out_unlock;
	}
	if (len > SKB_MAX_ALLOC) {
		data_len = min_sz(len - SKB_MAX_ALLOC, MAX_SKB_FRAGS * PAGE_SZ);
		data_len = PAGE_ALIGN(data_len);
	}
	wait_ctl_begin(ctl, (msg->flags & MSG_DONTWAIT) ? 0 : sk->sndtimeo);
	err = __unix_wait_wmem(sk, ctl);
	if (err)
		goto out_unlock;
	/*
	 * @other is held (unix_find_other's reference, or unix_peer_get's)
	 * until the call returns: a sleep below queues us on its peer_wait,
	 * and the peer link alone may go -- a connect() elsewhere then a
	 * close() of the peer -- before we wake and leave that queue.
	 */
	if (!msg->name) {
		other = sk->peer;
		if (other)
			sock_hold(other);
	}
	unix_state_unlock(sk);
	if (msg->pages) {
		skb = __unix_page_skb(sk, msg, len);
		if (!skb) {
			err = -ENOMEM;
			goto out;
		}
	} else {
		skb = __unix_skb_new(sk, len, skb_truesize(len - data_len, data_len));
	}
	if (!skb) {
		err = -ENOMEM;
		goto out;
	}
	err = __unix_attach_fds(skb, msg);
	if (err) {
		kfree_skb(skb);		/* nothing copied yet */
		goto out;
	}
	if (!skb->pages) {	/* else handed over: nothing to copy */
		unix_msg_copy(msg, skb->data, len, 0);
		unix_copied(sk, len, 0);
	}

	if (msg->name) {
		err = unix_find_other(task, sk->net, msg->name, msg->namelen, sk->type, &other);
		if (err)
			goto out_free;
	} else if (!other) {
		err = -ENOTCONN;
		goto out_free;
	}
	if (msg->drop) {
		/* lost on the way (fault injection): its files never reach a
		 * queue, so they go back to the caller to release */
		__unix_unattach_fds(skb, msg);
		kfree_skb(skb);
		err = (int)len;
		goto out;
	}
restart:
	if (!other) {
		err = -ECONNRESET;	/* the association went while we slept */
		goto out_free;
	}
	unix_state_lock(other);
	if (other->type != sk->type) {
		err = -EPROTOTYPE;
		goto out_unlock_free;
	}
	if (!unix_may_send(sk, other)) {
		err = -EPERM;
		goto out_unlock_free;
	}
	if (other->flags & UNIX_F_DEAD) {
		if (granted)
			__unix_room_pass(other);
		unix_state_unlock(other);
		err = -ECONNREFUSED;	/* sent by name to a socket that died: the name is gone too */
		if (sk->type == SOCK_SEQPACKET) {
			err = -EPIPE;
		} else {
			int was_peer;

			unix_state_lock(sk);
			was_peer = sk->peer == other;
			if (was_peer) {
				WRITE_ONCE(sk->peer, NULL);
				WRITE_ONCE(sk->state, UNIX_CLOSE);
				__wake_up_all(&sk->wq);	/* unix_dgram_peer_wake_disconnect_wakeup */
			}
			unix_state_unlock(sk);
			if (was_peer) {
				plat_mutex_lock(&sk->iolock);
				unix_dgram_disconnected(sk, other);
				plat_mutex_unlock(&sk->iolock);
				sock_put(other);	/* the peer link's */
			}
		}
		goto out_free;
	}
	if (other->shutdown & RCV_SHUTDOWN) {
		err = -EPIPE;
		goto out_unlock_free;
	}
	if (skb->cb.fp && (other->flags & UNIX_F_NOPASSRIGHTS)) {
		err = -EPERM;
		goto out_unlock_free;
	}
	if (other != sk && other->peer != sk && unix_recvq_full(other)) {
		if (granted) {		/* another sender took the room first */
			granted = 0;
			other->room_granted = 0;
		}
		ctl->granted = 0;
		err = __unix_sleep(other, &other->peer_wait, ctl, 1);
		granted = ctl->granted;
		if (err)
			goto out_unlock_free;
		unix_state_unlock(other);
		if (!msg->name) {
			struct unix_sock *peer;

			unix_state_lock(sk);
			peer = sk->peer;
			if (peer != other) {
				/* our association changed while we slept: use the new peer */
				if (peer)
					sock_hold(peer);
				unix_state_unlock(sk);
				if (granted) {
					granted = 0;
					unix_state_lock(other);
					__unix_room_pass(other);
					unix_state_unlock(other);
				}
				sock_put(other);
				other = peer;
			} else {
				unix_state_unlock(sk);
			}
		}
		goto restart;
	}
	__unix_skb_creds(skb, msg, sk, other);
	if (other->flags & UNIX_F_RCVTSTAMP)
		skb->tstamp = plat_realtime_ns();	/* __net_timestamp */
	__unix_queue_skb(other, skb, 0);
	__wake_up_all(&other->wq);
	if (granted) {
		if (msg->keep_grant) {
			sock_hold(other);
			msg->granted = other;
		} else {
			__unix_room_pass(other);
		}
	}
	unix_state_unlock(other);
	err = (int)len;
	goto out;

out_unlock_free:
	if (granted)
		__unix_room_pass(other);
	unix_state_unlock(other);
out_free:
	msg_rewind(msg, len);
	__unix_unattach_fds(skb, msg);
	kfree_skb(skb);
out:
	if (other)
		sock_put(other);
	return err;
out_unlock:
	unix_state_unlock(sk);
	return err;
}

ssize_t unix_seqpacket_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
			       struct wait_ctl *ctl)
{
	int err;

	msg->name = NULL;	/* an address is ignored on a seqpacket socket */
	unix_state_lock(sk);
	err = -sk->err;
	WRITE_ONCE(sk->err, 0);
	if (!err && sk->state != UNIX_ESTABLISHED)
		err = -ENOTCONN;
	unix_state_unlock(sk);
	if (err)
		return err;
	/*
	 * Linux's seqpacket send is the dgram one: its EPIPE (peer gone or
	 * shut down) comes from sock_alloc_send_pskb/unix_dgram_sendmsg and,
	 * unlike stream's, raises no SIGPIPE.
	 */
	return unix_dgram_sendmsg(task, sk, msg, ctl);
}

/*
 * Datagram and seqpacket receive, Linux's __unix_dgram_recvmsg: the iolock
 * for the whole call, the queue's lock to find and unlink the message, the
 * state lock to wake senders waiting for room (and to sleep); the copy
 * under the iolock alone.
 */
ssize_t unix_dgram_recvmsg(struct unix_sock *sk, struct unix_msg *msg,
			   struct wait_ctl *ctl)
{
	struct sk_buff_head *q = &sk->receive_queue;
	int flags = msg->flags;
	size_t size = msg_total(msg), skblen;
	struct sk_buff *skb = NULL;
	unsigned int skflags;
	int err, skip = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	wait_ctl_begin(ctl, (flags & MSG_DONTWAIT) ? 0 : READ_ONCE(sk->rcvtimeo));

	plat_mutex_lock(&sk->iolock);
	for (;;) {
		if (READ_ONCE(sk->err)) {
			err = __unix_sock_error(sk);
			if (err)
				break;
		}
		skip = 0;
		if (flags & MSG_PEEK) {
			skip = READ_ONCE(sk->peek_off);
			if (skip < 0)
				skip = 0;
		}
		plat_mutex_lock(&q->lock);
		for (skb = skb_peek(q); skb; skb = skb_peek_next(skb, q)) {
			if ((unsigned int)skip < skb->len || (skip == 0))
				break;
			skip -= (int)skb->len;
		}
		if (skb && !(flags & MSG_PEEK))
			__unix_unlink_skb_locked(sk, skb);
		plat_mutex_unlock(&q->lock);
		if (skb) {
			err = 0;
			break;
		}
		err = -EAGAIN;
		if (ctl->deadline <= plat_now_ns())
			break;		/* non-blocking or timed out */
		/* __skb_wait_for_more_packets */
		if (READ_ONCE(sk->shutdown) & RCV_SHUTDOWN) {
			err = 0;
			break;
		}
		if (sk->type == SOCK_SEQPACKET && READ_ONCE(sk->state) != UNIX_ESTABLISHED) {
			err = -ENOTCONN;
			break;
		}
		err = unix_wait_for_packet(sk, ctl);
		if (err && err != -EAGAIN)
			return err;
		plat_mutex_lock(&sk->iolock);
	}
	if (!skb) {
		if (sk->type == SOCK_SEQPACKET && err == -EAGAIN &&
		    (READ_ONCE(sk->shutdown) & RCV_SHUTDOWN))
			err = 0;	/* EOF on a disconnected non-blocking seqpacket */
		plat_mutex_unlock(&sk->iolock);
		return err;
	}

	/* Room on our queue for one message: wake every poller and, unless
	 * one is already on its way, one sender waiting for it (room grants,
	 * above), under our state lock, which they check the queue under --
	 * senders wait exclusively, as wake_up_interruptible_sync_poll wakes
	 * them, and waking them all would send all but one back to sleep. */
	unix_state_lock(sk);
	__unix_room_made(sk);
	unix_state_unlock(sk);
	unix_copy_addr(msg, skb->sk);

	skblen = skb->len - (size_t)skip;
	if (size > skblen)
		size = skblen;
	else if (size < skblen)
		msg->msg_flags |= MSG_TRUNC;

	msg->cred = skb->cb.cred;
	msg->got_scm = 1;
	skflags = READ_ONCE(sk->flags);
	msg->want_creds = !!(skflags & UNIX_F_MAY_PASSCRED);
	if (skflags & UNIX_F_RCVTSTAMP) {
		/* sock_recv_timestamp: a message queued while the option was
		 * off is stamped now, once (we hold the iolock, as any other
		 * reader or peeker of it would) */
		if (!skb->tstamp)
			skb->tstamp = plat_realtime_ns();
		msg->tstamp = skb->tstamp;
		msg->tstamp_type = (skflags & UNIX_F_TSTAMP_NEW) ?
			((skflags & UNIX_F_RCVTSTAMPNS) ? SO_TIMESTAMPNS_NEW : SO_TIMESTAMP_NEW) :
			((skflags & UNIX_F_RCVTSTAMPNS) ? SO_TIMESTAMPNS_OLD : SO_TIMESTAMP_OLD);
	}
	if (!(flags & MSG_PEEK)) {
		if (skb->cb.fp)
			__unix_detach_fds(skb, msg);
		sk_peek_offset_bwd(sk, (int)skb->len);
	} else {
		sk_peek_offset_fwd(sk, (int)size);
		if (skb->cb.fp)
			unix_peek_fds(skb, msg);
	}

	/* a peeked skb is still queued, but only the iolock holder unlinks it */
	unix_msg_copy(msg, skb->data + skip, size, 1);
	unix_copied(sk, size, 1);
	plat_mutex_unlock(&sk->iolock);
	if (!(flags & MSG_PEEK))
		kfree_skb(skb);
	return (flags & MSG_TRUNC) ? (ssize_t)skblen : (ssize_t)size;
}

ssize_t unix_seqpacket_recvmsg(struct unix_sock *sk, struct unix_msg *msg,
			       struct wait_ctl *ctl)
{
	if (READ_ONCE(sk->state) != UNIX_ESTABLISHED)
		return -ENOTCONN;
	return unix_dgram_recvmsg(sk, msg, ctl);
}
