/*
 * net/unix/scm.c - control messages and files in flight.
 *
 * Linux's net/core/scm.c and net/unix/scm.c: __scm_send parses
 * msg_control (SCM_RIGHTS takes file references through the host ops,
 * SCM_CREDENTIALS is checked against the caller's credentials); the files
 * ride on an skb, charged to the sender's user (unix_inflight,
 * too_many_unix_fds: ETOOMANYREFS), until a receiver detaches them or the
 * skb is freed, when they go to the net's release list for the embedder.
 * scm_recv writes a receive's control messages (put_cmsg) and installs its
 * files as the caller's fds through the host ops (scm_detach_fds).
 *
 * Locking: the user table, the in-flight counts and a socket's file_refs
 * are under net->gc_lock (a leaf: nothing is taken inside it), as
 * unix_socket.h says; __scm_send and unix_scm_recv run with no lock held
 * (they call the host ops).
 */
#include "../../lib/string.h"
#include "af_unix.h"

/* ----------------------------------------------------- files in flight --- */

struct scm_fp_list *scm_fp_alloc(int count)
{
	struct scm_fp_list *fpl;

	fpl = plat_zalloc(sizeof(*fpl) + (size_t)count * sizeof(struct scm_file));
	if (fpl)
		fpl->count = count;
	return fpl;
}

void scm_fp_free(struct scm_fp_list *fpl)
{
	plat_free(fpl);
}

/* The user table entry of @uid, made if @create; NULL if none (or no memory). */
static struct unix_user *__unix_user(struct unix_net *net, int32_t uid, int create)
{
	struct list_head *head = &net->users[(uint32_t)uid % UNIX_HASH_SIZE];
	struct list_head *pos;
	struct unix_user *u;

	list_for_each(pos, head) {
		u = list_entry(pos, struct unix_user, link);
		if (u->uid == uid)
			return u;
	}
	if (!create || !(u = plat_zalloc(sizeof(*u))))
		return NULL;
	u->uid = uid;
	list_add_tail(&u->link, head);
	return u;
}

/*
 * too_many_unix_fds: the sender's user already has more files in flight
 * than its RLIMIT_NOFILE, and no CAP_SYS_RESOURCE or CAP_SYS_ADMIN.  The
 * message's own files are not counted.
 */
static int __too_many_unix_fds(struct unix_net *net, const struct scm_fp_list *fpl)
{
	struct unix_user *u = __unix_user(net, fpl->user, 0);

	return u && u->inflight > fpl->user_nofile && !fpl->user_unlimited;
}

/* Files of @fpl enter flight (attached to an skb), charged to @u. */
static void __unix_inflight(struct unix_net *net, struct scm_fp_list *fpl, struct unix_user *u)
{
	int i;

	unix_cnt_add(net, inflight, fpl->count);
	fpl->charged = u;
	u->inflight += fpl->count;
	for (i = 0; i < fpl->count; i++) {
		if (fpl->files[i].usk) {
			WRITE_ONCE(fpl->files[i].usk->inflight, fpl->files[i].usk->inflight + 1);
			net->unix_tot_inflight++;
		}
	}
}

/* Files of @fpl leave flight (received, or their skb freed). */
void __unix_notinflight(struct unix_net *net, struct scm_fp_list *fpl)
{
	struct unix_user *u = fpl->charged;
	int i;

	plat_mutex_lock(&net->gc_lock);
	unix_cnt_add(net, inflight, -(int64_t)(fpl->count));
	fpl->charged = NULL;
	u->inflight -= fpl->count;
	if (!u->inflight) {
		list_del_init(&u->link);
		plat_free(u);
	}
	for (i = 0; i < fpl->count; i++) {
		if (fpl->files[i].usk) {
			WRITE_ONCE(fpl->files[i].usk->inflight, fpl->files[i].usk->inflight - 1);
			net->unix_tot_inflight--;
		}
	}
	plat_mutex_unlock(&net->gc_lock);
}

int unix_users_inflight(struct unix_net *net, int32_t *uids, int64_t *counts, int max)
{
	struct list_head *pos;
	int i, n = 0;

	plat_mutex_lock(&net->gc_lock);
	for (i = 0; i < UNIX_HASH_SIZE; i++) {
		list_for_each(pos, &net->users[i]) {
			struct unix_user *u = list_entry(pos, struct unix_user, link);

			if (n < max) {
				uids[n] = u->uid;
				counts[n] = u->inflight;
			}
			n++;
		}
	}
	plat_mutex_unlock(&net->gc_lock);
	return n;
}

/* Hand the files of @fpl back to the embedder to drop after the call
 * (the release list is under gc_lock). */
void __scm_fp_release(struct unix_net *net, struct scm_fp_list *fpl)
{
	plat_mutex_lock(&net->gc_lock);
	fpl->next = net->released;
	net->released = fpl;
	plat_mutex_unlock(&net->gc_lock);
}

void unix_file_ref(struct unix_sock *sk, int delta)
{
	plat_mutex_lock(&sk->net->gc_lock);
	sk->file_refs += delta;
	plat_mutex_unlock(&sk->net->gc_lock);
}

/* --------------------------------------------------- control messages --- */

/*
 * current_cred(): the caller's credentials through the host's cred op,
 * called with no lock held.  An embedder without one runs every task as
 * pid 0 with no ids (-1, the overflow ids when reported) and no limits.
 */
int unix_current_cred(void *task, struct unix_net *net, struct unix_task_cred *out)
{
	const struct unix_host_ops *host = net->host;

	if (host && host->cred)
		return host->cred(task, out);
	memset(out, 0, sizeof(*out));
	out->uid = out->euid = out->suid = -1;
	out->gid = out->egid = out->sgid = -1;
	return 0;
}

/*
 * scm_check_creds: SCM_CREDENTIALS may claim the sender's own pid (any pid
 * with CAP_SYS_ADMIN), one of its uids (any with CAP_SETUID) and one of its
 * gids (any with CAP_SETGID); an id of -1 is EINVAL, the rest EPERM.
 */
static int scm_check_creds(const struct unix_cred *c, const struct unix_task_cred *me)
{
	if (c->uid == -1 || c->gid == -1)
		return -EINVAL;
	if ((c->pid == me->pid || (me->caps & UNIX_CAP_SYS_ADMIN)) &&
	    (c->uid == me->uid || c->uid == me->euid || c->uid == me->suid ||
	     (me->caps & UNIX_CAP_SETUID)) &&
	    (c->gid == me->gid || c->gid == me->egid || c->gid == me->sgid ||
	     (me->caps & UNIX_CAP_SETGID)))
		return 0;
	return -EPERM;
}

/* Walking a control buffer: where the next message starts, what is left. */
struct cmsg_iter {
	const unsigned char *p;
	size_t left;
};

/*
 * The next control message: 1 with its header in @h and its data at
 * *@data (*@dlen bytes), 0 at the end, -EINVAL for a malformed header
 * (CMSG_OK).  Trailing bytes shorter than a header end the buffer.
 */
static int cmsg_next(struct cmsg_iter *it, struct unix_cmsghdr *h,
		     const unsigned char **data, size_t *dlen)
{
	size_t step;

	if (it->left < sizeof(*h))
		return 0;
	memcpy(h, it->p, sizeof(*h));
	if (h->cmsg_len < sizeof(*h) || h->cmsg_len > it->left)
		return -EINVAL;
	*data = it->p + sizeof(*h);
	*dlen = h->cmsg_len - sizeof(*h);
	step = UNIX_CMSG_ALIGN(h->cmsg_len);
	if (step >= it->left) {
		it->left = 0;
	} else {
		it->p += step;
		it->left -= step;
	}
	return 1;
}

/*
 * scm_fp_copy: the @num fds at @fds join @msg->fp (room for @room files),
 * each a reference the embedder takes (fget_raw).  EINVAL past
 * SCM_MAX_FD in all; EBADF for a negative fd or one not open (the files
 * taken so far stay in @msg->fp, for unix_scm_destroy).
 */
static int scm_fp_copy(void *task, const struct unix_host_ops *host, struct unix_msg *msg,
		       const unsigned char *fds, int num, int room)
{
	struct scm_fp_list *fpl = msg->fp;
	int i, err;

	if (num <= 0)
		return 0;
	if (num > SCM_MAX_FD)
		return -EINVAL;
	if (!fpl) {
		fpl = scm_fp_alloc(room);
		if (!fpl)
			return -ENOMEM;
		fpl->count = 0;
		msg->fp = fpl;
	}
	if (fpl->count + num > SCM_MAX_FD)
		return -EINVAL;
	for (i = 0; i < num; i++) {
		int32_t fd;
		struct scm_file *f = &fpl->files[fpl->count];

		memcpy(&fd, fds + (size_t)i * sizeof(fd), sizeof(fd));
		if (fd < 0)
			return -EBADF;
		err = host->fget(task, fd, &f->file, &f->usk);
		if (err)
			return err;
		fpl->count++;
	}
	return 0;
}

/*
 * __scm_send: parse the control messages, once per call (the first attempt
 * consumes msg->control).  A malformed header, an unknown SOL_SOCKET type
 * or a malformed ucred is EINVAL; other levels are skipped.  SCM_RIGHTS
 * takes references to the files (scm_fp_copy); SCM_CREDENTIALS is checked
 * (scm_check_creds, then ESRCH for a pid naming no process).  The files
 * are charged to the caller's real uid, and its limit noted for
 * too_many_unix_fds.  Called with no lock held.
 */
static int __scm_send(void *task, struct unix_net *net, struct unix_msg *msg,
		      const struct unix_task_cred *cur)
{
	const struct unix_host_ops *host = net->host;
	const struct unix_task_cred me = *cur;
	struct cmsg_iter it = { msg->control, msg->controllen };
	struct unix_cmsghdr h;
	const unsigned char *data;
	size_t dlen;
	int room = 0, err;

	/* the files to make room for: at most SCM_MAX_FD, else EINVAL below */
	while (cmsg_next(&it, &h, &data, &dlen) > 0)
		if (h.cmsg_level == SOL_SOCKET && h.cmsg_type == SCM_RIGHTS)
			room += (int)min_sz(dlen / sizeof(int32_t), SCM_MAX_FD);
	room = room < SCM_MAX_FD ? room : SCM_MAX_FD;

	it.p = msg->control;
	it.left = msg->controllen;
	msg->control = NULL;
	msg->controllen = 0;
	while ((err = cmsg_next(&it, &h, &data, &dlen)) > 0) {
		if (h.cmsg_level != SOL_SOCKET)
			continue;
		if (!host)
			return -EINVAL;
		switch (h.cmsg_type) {
		case SCM_RIGHTS:
			err = scm_fp_copy(task, host, msg, data, (int)(dlen / sizeof(int32_t)), room);
			break;
		case SCM_CREDENTIALS:
			if (dlen != sizeof(struct unix_cred))
				return -EINVAL;
			memcpy(&msg->creds, data, sizeof(msg->creds));
			err = scm_check_creds(&msg->creds, &me);
			if (!err && msg->creds.pid != me.pid && !host->pid_exists(task, msg->creds.pid))
				err = -ESRCH;
			msg->has_creds = !err;
			break;
		default:
			err = -EINVAL;
		}
		if (err)
			return err;
	}
	if (err)
		return err;		/* a malformed header */
	if (msg->fp && !msg->fp->count) {
		scm_fp_free(msg->fp);
		msg->fp = NULL;
	}
	if (msg->fp) {
		msg->fp->user = me.uid;
		msg->fp->user_nofile = me.rlimit_nofile;
		msg->fp->user_unlimited = !!(me.caps & (UNIX_CAP_SYS_RESOURCE | UNIX_CAP_SYS_ADMIN));
	}
	return 0;
}

/*
 * A send's scm_send, first thing: the caller's pid and real ids become the
 * message's default credentials (scm_set_cred), which it carries when
 * either end has SO_PASSCRED; then the control messages.  A zero-copy send
 * carries no control data.  Called with no lock held.
 */
int unix_scm_send(void *task, struct unix_net *net, struct unix_msg *msg)
{
	struct unix_task_cred me;
	int err;

	err = unix_current_cred(task, net, &me);
	if (err)
		return err;
	msg->cur.pid = me.pid;
	msg->cur.uid = me.uid;
	msg->cur.gid = me.gid;
	if (msg->control) {
		err = __scm_send(task, net, msg, &me);
		if (err)
			return err;
	}
	if (msg->pages && (msg->fp || msg->has_creds))
		return -EINVAL;
	return 0;
}

/* scm_destroy: the files of a message that was not sent go back, unlocked. */
void unix_scm_destroy(struct unix_net *net, struct unix_msg *msg)
{
	struct scm_fp_list *fpl = msg->fp;
	int i;

	if (!fpl)
		return;
	msg->fp = NULL;
	for (i = 0; i < fpl->count; i++)
		net->host->fput(fpl->files[i].file);
	scm_fp_free(fpl);
}

/* Credentials the skb carries (maybe_add_creds / unix_scm_to_skb); the
 * caller holds @other's state lock. */
void __unix_skb_creds(struct sk_buff *skb, const struct unix_msg *msg,
		      const struct unix_sock *sk, const struct unix_sock *other)
{
	if (msg->has_creds) {
		skb->cb.cred = msg->creds;
		return;
	}
	if ((READ_ONCE(sk->flags) & UNIX_F_MAY_PASSCRED) || (other->flags & UNIX_F_MAY_PASSCRED) ||
	    (other->flags & UNIX_F_DEAD))
		skb->cb.cred = msg->cur;
}

/*
 * unix_attach_fds: the files go on @skb, charged to the sender's user --
 * or ETOOMANYREFS when that user is over its limit (too_many_unix_fds).
 */
int __unix_attach_fds(struct sk_buff *skb, struct unix_msg *msg)
{
	struct unix_net *net = skb->sk->net;
	struct unix_user *u;
	int err = 0;

	if (msg->fp) {
		plat_mutex_lock(&net->gc_lock);
		if (__too_many_unix_fds(net, msg->fp)) {
			err = -ETOOMANYREFS;
		} else if (!(u = __unix_user(net, msg->fp->user, 1))) {
			err = -ENOMEM;
		} else {
			skb->cb.fp = msg->fp;
			msg->fp = NULL;
			__unix_inflight(net, skb->cb.fp, u);
		}
		plat_mutex_unlock(&net->gc_lock);
	}
	return err;
}

/* An skb that will not be queued gives its files back to the message. */
void __unix_unattach_fds(struct sk_buff *skb, struct unix_msg *msg)
{
	if (skb->cb.fp) {
		__unix_notinflight(skb->sk->net, skb->cb.fp);
		msg->fp = skb->cb.fp;
		skb->cb.fp = NULL;
	}
}

int unix_skb_scm_eq(const struct sk_buff *skb, const struct unix_cred *c)
{
	return skb->cb.cred.pid == c->pid && skb->cb.cred.uid == c->uid &&
	       skb->cb.cred.gid == c->gid;
}

/* Duplicate the file list of a peeked message; the embedder takes new references. */
static struct scm_fp_list *scm_fp_dup(const struct scm_fp_list *fpl)
{
	struct scm_fp_list *n = scm_fp_alloc(fpl->count);

	if (n) {
		memcpy(n->files, fpl->files, (size_t)fpl->count * sizeof(struct scm_file));
		n->user = fpl->user;
	}
	return n;
}

/* unix_detach_fds: a read takes @skb's files out of flight, to install. */
void __unix_detach_fds(struct sk_buff *skb, struct unix_msg *msg)
{
	__unix_notinflight(skb->sk->net, skb->cb.fp);
	msg->rfp = skb->cb.fp;
	skb->cb.fp = NULL;
}

/* unix_peek_fds: a peek gets a copy of @skb's files, which stay in flight. */
void unix_peek_fds(const struct sk_buff *skb, struct unix_msg *msg)
{
	msg->rfp = scm_fp_dup(skb->cb.fp);
	msg->rfp_peeked = 1;
}

/* ------------------------------------------------------------- receive --- */

/* overflowuid, overflowgid: what an id with no mapping reads as */
#define UNIX_OVERFLOWUID	65534
#define UNIX_OVERFLOWGID	65534

/*
 * put_cmsg: one control message at @msg->rcontrol, cut to the room left
 * (MSG_CTRUNC) -- none at all when not even its header fits.  The room
 * shrinks by the message's aligned length, or to nothing.
 */
static void put_cmsg(struct unix_msg *msg, int level, int type, const void *data, size_t len)
{
	struct unix_cmsghdr h;
	size_t cmlen = UNIX_CMSG_LEN(len);

	if (msg->rcontrollen < sizeof(h)) {
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	if (msg->rcontrollen < cmlen) {
		msg->msg_flags |= MSG_CTRUNC;
		cmlen = msg->rcontrollen;
	}
	h.cmsg_len = cmlen;
	h.cmsg_level = level;
	h.cmsg_type = type;
	memcpy(msg->rcontrol, &h, sizeof(h));
	memcpy(msg->rcontrol + sizeof(h), data, cmlen - sizeof(h));
	cmlen = min_sz(UNIX_CMSG_ALIGN(UNIX_CMSG_LEN(len)), msg->rcontrollen);
	msg->rcontrol += cmlen;
	msg->rcontrollen -= cmlen;
}

/*
 * scm_detach_fds: as many of the received files as the room left holds
 * become the caller's fds (the host's receive_fd, O_CLOEXEC with
 * MSG_CMSG_CLOEXEC), up to the first that finds no free fd; one
 * SCM_RIGHTS message lists them.  Files left over, or no room for a
 * single fd, set MSG_CTRUNC; the message's files not installed are put.
 */
static void scm_detach_fds(void *task, struct unix_net *net, struct unix_msg *msg)
{
	const struct unix_host_ops *host = net->host;
	struct scm_fp_list *fpl = msg->rfp;
	int cloexec = !!(msg->msg_flags & MSG_CMSG_CLOEXEC);
	int fdmax = 0, i, fd;
	struct unix_cmsghdr h;
	size_t cmlen;

	msg->rfp = NULL;
	msg->fds_put = 1;
	if (msg->rcontrollen > sizeof(h) && host->receive_fd)
		fdmax = (int)min_sz((msg->rcontrollen - sizeof(h)) / sizeof(int32_t),
				    (size_t)fpl->count);
	for (i = 0; i < fdmax; i++) {
		fd = host->receive_fd(task, fpl->files[i].file, cloexec, msg->rfp_peeked);
		if (fd < 0)
			break;
		memcpy(msg->rcontrol + sizeof(h) + (size_t)i * sizeof(int32_t), &fd, sizeof(fd));
	}
	if (i > 0) {
		h.cmsg_len = UNIX_CMSG_LEN((size_t)i * sizeof(int32_t));
		h.cmsg_level = SOL_SOCKET;
		h.cmsg_type = SCM_RIGHTS;
		memcpy(msg->rcontrol, &h, sizeof(h));
		cmlen = min_sz(UNIX_CMSG_ALIGN(h.cmsg_len), msg->rcontrollen);
		msg->rcontrol += cmlen;
		msg->rcontrollen -= cmlen;
	}
	if (i < fpl->count)
		msg->msg_flags |= MSG_CTRUNC;
	if (!msg->rfp_peeked)
		for (; i < fpl->count; i++)
			host->fput(fpl->files[i].file);
	scm_fp_free(fpl);
}

/*
 * scm_recv, at the end of a recvmsg (@err its result) with a control
 * buffer: SCM_CREDENTIALS when the receiver has SO_PASSCRED (ids of -1
 * read as the overflow ids), then the files (scm_detach_fds).  A buffer
 * of 0 bytes stands for none (msg_control NULL): what would have gone in
 * it sets MSG_CTRUNC, SO_PASSSEC's security context too (scm_has_secdata)
 * although with no LSM there is none to put in a buffer.  A call that
 * failed installs nothing.  MSG_CMSG_CLOEXEC is reported back in
 * msg_flags, as ____sys_recvmsg reports it.  Called with no lock held.
 */
void unix_scm_recv(void *task, struct unix_sock *sk, struct unix_msg *msg, ssize_t err)
{
	struct unix_cred c;
	int i;

	msg->msg_flags |= msg->flags & MSG_CMSG_CLOEXEC;
	if (err < 0) {
		/* nothing is delivered: files the call took go back */
		if (msg->rfp) {
			for (i = 0; !msg->rfp_peeked && i < msg->rfp->count; i++)
				sk->net->host->fput(msg->rfp->files[i].file);
			scm_fp_free(msg->rfp);
			msg->rfp = NULL;
		}
		return;
	}
	if (msg->tstamp_type) {
		/* __sock_recv_timestamp, ahead of scm_recv_unix: a timeval, or
		 * a timespec for the NS options */
		int64_t ts[2] = { msg->tstamp / 1000000000, msg->tstamp % 1000000000 };

		if (msg->tstamp_type == SO_TIMESTAMP_OLD || msg->tstamp_type == SO_TIMESTAMP_NEW)
			ts[1] /= 1000;
		put_cmsg(msg, SOL_SOCKET, msg->tstamp_type, ts, sizeof(ts));
		msg->tstamp_type = 0;
	}
	if (!msg->rcontrollen) {
		if (READ_ONCE(sk->flags) & UNIX_F_PASSSEC)
			msg->msg_flags |= MSG_CTRUNC;
	}
	if ((READ_ONCE(sk->flags) & UNIX_F_PASSCRED) && msg->got_scm && !msg->creds_put) {
		c = msg->cred;
		if (c.uid == -1)
			c.uid = UNIX_OVERFLOWUID;
		if (c.gid == -1)
			c.gid = UNIX_OVERFLOWGID;
		put_cmsg(msg, SOL_SOCKET, SCM_CREDENTIALS, &c, sizeof(c));
		msg->creds_put = 1;
	}
	if (msg->rfp)
		scm_detach_fds(task, sk->net, msg);
}

/*
 * scm_pidfd_recv: with SO_PASSPIDFD, SCM_PIDFD, a new pidfd for the
 * message's sender (the pid its credentials name; none when they name
 * none, as at EOF).  A buffer without room for the whole message gets
 * none and MSG_CTRUNC -- whether or not there was a sender -- and no fd
 * is made; a pidfd the host cannot install is reported as its -errno.
 */
static void scm_pidfd_recv(void *task, struct unix_sock *sk, struct unix_msg *msg)
{
	const struct unix_host_ops *host = sk->net->host;
	int32_t pidfd;

	if (msg->rcontrollen < UNIX_CMSG_LEN(sizeof(pidfd))) {
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	if (!msg->got_scm || !msg->cred.pid || !host || !host->pidfd)
		return;
	pidfd = host->pidfd(task, msg->cred.pid);
	put_cmsg(msg, SOL_SOCKET, SCM_PIDFD, &pidfd, sizeof(pidfd));
}

/*
 * The end of a recvmsg (scm_recv_unix's last step, then
 * unix_stream_read_generic's with SO_INQ on): SCM_PIDFD with SO_PASSPIDFD,
 * after the credentials and files every attempt of the call put; then for
 * a stream socket with SO_INQ, SCM_INQ, an int, the bytes left to read
 * once the call is done (after a peek, all of them).  A read of the OOB
 * byte (unix_stream_recv_urg) reports neither, nor does a datagram or
 * seqpacket call that read no message (its EOF returns before
 * scm_recv_unix).  The embedder calls it once, after the call's last
 * attempt, which is what a call that blocked learns only when it returns.
 * No lock held.
 */
void unix_scm_recv_end(void *task, struct unix_sock *sk, struct unix_msg *msg)
{
	unsigned int flags = READ_ONCE(sk->flags);
	int inq;

	if (sk->type == SOCK_STREAM ? (msg->flags & MSG_OOB) : !msg->got_scm)
		return;
	if (flags & UNIX_F_PASSPIDFD)
		scm_pidfd_recv(task, sk, msg);
	if (sk->type != SOCK_STREAM || !(flags & UNIX_F_RECVMSG_INQ))
		return;
	inq = (int)unix_inq_len(sk);
	put_cmsg(msg, SOL_SOCKET, SCM_INQ, &inq, sizeof(inq));
}
