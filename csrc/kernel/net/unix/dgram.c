/*
 * net/unix/dgram.c - SOCK_DGRAM and SOCK_SEQPACKET send and receive.
 *
 * Linux's unix_dgram_sendmsg / __unix_dgram_recvmsg: one skb per message,
 * sent to a name or to the peer, waiting on the receiver's peer_wait while
 * its queue is full (max_dgram_qlen); a seqpacket socket is a connected
 * datagram socket with stream's connection checks.
 *
 * Locking: net->lock and the socket's iolock (readers), as unix_socket.h says.
 */
#include "../../lib/string.h"
#include "af_unix.h"

/*
 * Datagram and seqpacket send, to msg->name (a sendto()) or to the peer.
 */
ssize_t unix_dgram_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
			   struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	struct unix_sock *other = NULL;
	struct sk_buff *skb = NULL;
	size_t len = msg_total(msg), data_len = 0;
	int err;

	err = unix_scm_send(task, net, msg);
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
	 * the lock dropped (unix_find_other).
	 */
	plat_mutex_lock(&net->lock);
	if ((sk->flags & UNIX_F_PASSCRED) && !sk->addr && (msg->name || sk->peer)) {
		err = __unix_autobind(sk);
		if (err)
			goto out;
	}
	if (len > (size_t)(sk->sndbuf - 32)) {
		err = -EMSGSIZE;
		goto out;
	}
	if (len > SKB_MAX_ALLOC) {
		data_len = min_sz(len - SKB_MAX_ALLOC, MAX_SKB_FRAGS * PAGE_SZ);
		data_len = PAGE_ALIGN(data_len);
	}
	wait_ctl_begin(ctl, (msg->flags & MSG_DONTWAIT) ? 0 : sk->sndtimeo);
	err = __unix_wait_wmem(sk, ctl);
	if (err)
		goto out;
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
		__kfree_skb(skb);	/* nothing copied yet */
		goto out;
	}
	if (!skb->pages) {	/* else handed over: nothing to copy */
		__unix_msg_copy(net, msg, skb->data, len, 0);
		__unix_copied(sk, len, 0);
	}

	/*
	 * @other is held (unix_find_other's reference, or unix_peer_get's)
	 * until the call returns: a sleep below queues us on its peer_wait,
	 * and the peer link alone may go -- a connect() elsewhere then a
	 * close() of the peer -- before we wake and leave that queue.
	 */
	if (msg->name) {
		plat_mutex_unlock(&net->lock);
		err = unix_find_other(task, net, msg->name, msg->namelen, sk->type, &other);
		plat_mutex_lock(&net->lock);
		if (err)
			goto out_free;
	} else if (!(other = sk->peer)) {
		err = -ENOTCONN;
		goto out_free;
	} else {
		sock_hold(other);
	}
	if (msg->drop) {
		/* lost on the way (fault injection): its files never reach a
		 * queue, so they go back to the caller to release */
		__unix_unattach_fds(skb, msg);
		__kfree_skb(skb);
		err = (int)len;
		goto out;
	}
restart:
	if (!other) {
		err = -ECONNRESET;	/* the association went while we slept */
		goto out_free;
	}
	if (other->type != sk->type) {
		err = -EPROTOTYPE;
		goto out_free;
	}
	if (!unix_may_send(sk, other)) {
		err = -EPERM;
		goto out_free;
	}
	if (other->flags & UNIX_F_DEAD) {
		if (sk->type == SOCK_SEQPACKET) {
			err = -EPIPE;
		} else if (sk->peer == other) {
			unix_state_lock(sk);
			sk->peer = NULL;
			sk->state = UNIX_CLOSE;
			unix_state_unlock(sk);
			__unix_dgram_peer_wake_disconnect(sk, other);
			__unix_dgram_disconnected(sk, other);
			__sock_put(other);
			err = -ECONNREFUSED;
		} else {
			/* Sent by name to a socket that died: the name is gone too. */
			err = -ECONNREFUSED;
		}
		goto out_free;
	}
	if (other->shutdown & RCV_SHUTDOWN) {
		err = -EPIPE;
		goto out_free;
	}
	if (skb->cb.fp && (other->flags & UNIX_F_NOPASSRIGHTS)) {
		err = -EPERM;
		goto out_free;
	}
	if (other != sk && other->peer != sk && unix_recvq_full(other)) {
		err = __unix_sleep(other, &other->peer_wait, ctl, 1);
		if (err)
			goto out_free;
		if (!msg->name && other != sk->peer) {
			/* our association changed while we slept: use the new peer */
			__sock_put(other);
			other = sk->peer;
			if (other)
				sock_hold(other);
		}
		goto restart;
	}
	__unix_skb_creds(skb, msg, sk, other);
	__unix_queue_skb(other, skb);
	__wake_up_all(&other->wq);
	err = (int)len;
	goto out;

out_free:
	msg_rewind(msg, len);
	__unix_unattach_fds(skb, msg);
	__kfree_skb(skb);
out:
	if (other)
		__sock_put(other);
	plat_mutex_unlock(&net->lock);
	return err;
}

ssize_t unix_seqpacket_sendmsg(void *task, struct unix_sock *sk, struct unix_msg *msg,
			       struct wait_ctl *ctl)
{
	int err;

	msg->name = NULL;	/* an address is ignored on a seqpacket socket */
	plat_mutex_lock(&sk->net->lock);
	err = __unix_sock_error(sk);
	if (!err && sk->state != UNIX_ESTABLISHED)
		err = -ENOTCONN;
	plat_mutex_unlock(&sk->net->lock);
	if (err)
		return err;
	/*
	 * Linux's seqpacket send is the dgram one: its EPIPE (peer gone or
	 * shut down) comes from sock_alloc_send_pskb/unix_dgram_sendmsg and,
	 * unlike stream's, raises no SIGPIPE.
	 */
	return unix_dgram_sendmsg(task, sk, msg, ctl);
}

ssize_t unix_dgram_recvmsg(struct unix_sock *sk, struct unix_msg *msg,
			   struct wait_ctl *ctl)
{
	struct unix_net *net = sk->net;
	int flags = msg->flags;
	size_t size = msg_total(msg), skblen;
	struct sk_buff *skb = NULL;
	int err, skip = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	wait_ctl_begin(ctl, (flags & MSG_DONTWAIT) ? 0 : sk->rcvtimeo);

	plat_mutex_lock(&sk->iolock);
	plat_mutex_lock(&net->lock);
	for (;;) {
		if (sk->err) {
			err = __unix_sock_error(sk);
			break;
		}
		skip = (flags & MSG_PEEK) && sk->peek_off > 0 ? sk->peek_off : 0;
		for (skb = skb_peek(&sk->receive_queue); skb;
		     skb = skb_peek_next(skb, &sk->receive_queue)) {
			if ((unsigned int)skip < skb->len || (skip == 0))
				break;
			skip -= (int)skb->len;
		}
		if (skb) {
			err = 0;
			break;
		}
		err = -EAGAIN;
		if (ctl->deadline <= plat_now_ns())
			break;		/* non-blocking or timed out */
		/* __skb_wait_for_more_packets */
		if (sk->shutdown & RCV_SHUTDOWN) {
			err = 0;
			break;
		}
		if (sk->type == SOCK_SEQPACKET && sk->state != UNIX_ESTABLISHED) {
			err = -ENOTCONN;
			break;
		}
		err = __unix_wait_for_packet(sk, ctl);
		if (err && err != -EAGAIN)
			return err;
		plat_mutex_lock(&sk->iolock);
		plat_mutex_lock(&net->lock);
	}
	if (!skb) {
		if (sk->type == SOCK_SEQPACKET && err == -EAGAIN &&
		    (sk->shutdown & RCV_SHUTDOWN))
			err = 0;	/* EOF on a disconnected non-blocking seqpacket */
		plat_mutex_unlock(&net->lock);
		plat_mutex_unlock(&sk->iolock);
		return err;
	}

	if (!(flags & MSG_PEEK))
		__unix_unlink_skb(sk, skb);
	if (wq_active(&sk->peer_wait))
		__wake_up_all(&sk->peer_wait);
	__unix_copy_addr(msg, skb->sk);

	skblen = skb->len - (size_t)skip;
	if (size > skblen)
		size = skblen;
	else if (size < skblen)
		msg->msg_flags |= MSG_TRUNC;

	msg->cred = skb->cb.cred;
	msg->got_scm = 1;
	msg->want_creds = !!(sk->flags & UNIX_F_PASSCRED);
	if (!(flags & MSG_PEEK)) {
		if (skb->cb.fp)
			__unix_detach_fds(skb, msg);
		__sk_peek_offset_bwd(sk, (int)skb->len);
	} else {
		__sk_peek_offset_fwd(sk, (int)size);
		if (skb->cb.fp)
			unix_peek_fds(skb, msg);
	}

	/* a peeked skb is still queued: see __unix_msg_copy() */
	__unix_msg_copy(net, msg, skb->data + skip, size, 1);
	__unix_copied(sk, size, 1);
	if (!(flags & MSG_PEEK))
		__kfree_skb(skb);
	plat_mutex_unlock(&net->lock);
	plat_mutex_unlock(&sk->iolock);
	return (flags & MSG_TRUNC) ? (ssize_t)skblen : (ssize_t)size;
}

ssize_t unix_seqpacket_recvmsg(struct unix_sock *sk, struct unix_msg *msg,
			       struct wait_ctl *ctl)
{
	int state;

	plat_mutex_lock(&sk->net->lock);
	state = sk->state;
	plat_mutex_unlock(&sk->net->lock);
	if (state != UNIX_ESTABLISHED)
		return -ENOTCONN;
	return unix_dgram_recvmsg(sk, msg, ctl);
}
