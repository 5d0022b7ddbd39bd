/*
 * net/unix/msg.c - the message cursor: where a send or receive is in its iovec.
 *
 * The cursor walks @msg->iov as iov_iter does: copy out of it (send), into
 * it (receive), skip (zero-copy send) or step back (a send that could not
 * queue what it copied), or copy into another message's cursor (a stream
 * handoff).
 *
 * Locking: the cursor belongs to the caller's call, under no lock; the
 * copies run with no state lock held (see unix_msg_copy).
 */
#include "../../lib/string.h"
#include "af_unix.h"

size_t msg_total(const struct unix_msg *m)
{
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < m->iovlen; i++)
		n += m->iov[i].len;
	return n;
}

size_t msg_left(const struct unix_msg *m)
{
	return msg_total(m) - m->done;
}

/*
 * The cursor's current segment, stepping over exhausted and empty iovs:
 * its address and length.  Only called with bytes left (msg_left > 0).
 */
static unsigned char *msg_seg(struct unix_msg *m, size_t *len)
{
	while (m->iov[m->iov_idx].len == m->iov_off) {
		m->iov_idx++;
		m->iov_off = 0;
	}
	*len = m->iov[m->iov_idx].len - m->iov_off;
	return (unsigned char *)m->iov[m->iov_idx].base + m->iov_off;
}

/*
 * Move the cursor @n bytes forward (at most msg_left), copying out of the
 * iovec into @out (send side) or into it from @in (receive side), or
 * neither (a zero-copy send's pages are the iovec itself).
 */
static void msg_iter(struct unix_msg *m, unsigned char *out, const unsigned char *in, size_t n)
{
	while (n) {
		size_t c;
		unsigned char *p = msg_seg(m, &c);

		c = min_sz(n, c);
		if (out) {
			memcpy(out, p, c);
			out += c;
		} else if (in) {
			memcpy(p, in, c);
			in += c;
		}
		n -= c;
		m->done += c;
		m->iov_off += c;
	}
}

/* Copy @n bytes from the message cursor into @dst (send side). */
void msg_copy_from(struct unix_msg *m, unsigned char *dst, size_t n)
{
	msg_iter(m, dst, NULL, n);
}

/* Copy @n bytes from @src to the message cursor (receive side). */
void msg_copy_to(struct unix_msg *m, const unsigned char *src, size_t n)
{
	msg_iter(m, NULL, src, n);
}

/* Advance the message cursor by @n bytes without copying (zero-copy send). */
void msg_advance(struct unix_msg *m, size_t n)
{
	msg_iter(m, NULL, NULL, n);
}

/* Move the message cursor back by @n bytes. */
void msg_rewind(struct unix_msg *m, size_t n)
{
	m->done -= n;
	while (n) {
		size_t c;

		if (m->iov_off == 0) {
			m->iov_idx--;
			m->iov_off = m->iov[m->iov_idx].len;
			continue;
		}
		c = min_sz(n, m->iov_off);
		m->iov_off -= c;
		n -= c;
	}
}

/*
 * The copies of a send or a receive: @n bytes between @msg's cursor and
 * @buf, into the message when @to_msg (a receive), out of it otherwise (a
 * send), or -- unix_msg_handoff -- from one message's cursor straight into
 * another's.  They run with no state lock held (a stream reader copies a
 * small chunk under its queue's lock, a large one without), so a sender
 * and a receiver copy at the same time.  That is safe because the memory cannot
 * go away meanwhile: a sender's skb is not queued yet, a reader's skb is
 * only unlinked by an iolock holder -- the reader itself, or
 * unix_net_shutdown() and a datagram disconnect, which take that iolock --
 * and a handoff's reader waits for the copy (unix_handoff.busy).
 */
void unix_msg_copy(struct unix_msg *msg, unsigned char *buf, size_t n, int to_msg)
{
	msg_iter(msg, to_msg ? NULL : buf, to_msg ? buf : NULL, n);
}

void unix_msg_handoff(struct unix_msg *dst, struct unix_msg *src, size_t n)
{
	while (n) {
		size_t c;
		unsigned char *p = msg_seg(src, &c);

		c = min_sz(n, c);
		msg_iter(dst, NULL, p, c);
		src->done += c;
		src->iov_off += c;
		n -= c;
	}
}
