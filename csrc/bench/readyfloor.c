/*
 * bench/readyfloor.c - the host system calls a readiness fd needs per
 * message, timed in a C loop: the floor of socket_objects_64's armed row.
 * Not part of the AF_UNIX core; plain C with the host's calls.
 *
 * A message sent to an armed socket whose queue was empty makes its
 * readiness fd readable, and the recv that empties the queue makes it
 * unreadable again: two transitions, each a host call made before the
 * menios call returns.  The loop does the same pair on a bare host fd:
 *
 * READY_FLOOR_SOCKETPAIR: what plat_readyfd_set does (csrc/platform/host.c):
 *   send one byte to the kept end of a socketpair, recv it from the handed-out
 *   end, whose SO_SNDBUF is shrunk as plat_readyfd_open shrinks it.
 * READY_FLOOR_EVENTFD: write 1 to an eventfd, read it back.  An eventfd shows
 *   readable, writable or both, never neither (eventfd_poll), so it cannot
 *   stand for a socket whose queue is empty and whose buffer is full.
 * READY_FLOOR_SYSCALLS: two getppid() calls, the least two host calls cost.
 *
 * The fd is registered with an epoll instance for EPOLLIN | EPOLLOUT, so
 * every transition to readable runs its wake-up callback, as under a
 * selector.  Every pair is checked: the recv or read must return what was
 * sent; at the end one poll() must show the fd writable and not readable.
 *
 * Locking: none; one thread.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "readyfloor.h"

#define CLOCK_EVERY	64	/* pairs between two looks at the clock */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One on+off pair on @fds (fds[0] is the watched fd); 0 or 1 if it went wrong. */
static int one_pair(int kind, const int fds[2])
{
	char buf[4096];
	uint64_t one = 1, v = 0;

	switch (kind) {
	case READY_FLOOR_SOCKETPAIR:
		if (send(fds[1], "r", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1)
			return 1;
		return recv(fds[0], buf, sizeof(buf), MSG_DONTWAIT) != 1;
	case READY_FLOOR_EVENTFD:
		if (write(fds[0], &one, sizeof(one)) != (ssize_t)sizeof(one))
			return 1;
		return read(fds[0], &v, sizeof(v)) != (ssize_t)sizeof(v) || v != 1;
	default:
		(void)getppid();
		(void)getppid();
		return 0;
	}
}

int ready_floor_run(int kind, int64_t budget_ns, struct ready_floor_result *out)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	struct pollfd pfd;
	int fds[2] = { -1, -1 }, ep, err = 0, zero = 0, i;
	uint64_t pairs = 0, bad = 0;
	int64_t t0, end, t;

	if (kind < READY_FLOOR_SOCKETPAIR || kind > READY_FLOOR_SYSCALLS || budget_ns <= 0)
		return -EINVAL;
	if (kind == READY_FLOOR_SOCKETPAIR) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
			return -errno;
		if (setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &zero, sizeof(zero)) < 0)
			err = -errno;
	} else if (kind == READY_FLOOR_EVENTFD) {
		fds[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (fds[0] < 0)
			return -errno;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 && !err)
		err = -errno;
	if (!err && fds[0] >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev) < 0)
		err = -errno;
	if (!err) {
		t0 = now_ns();
		end = t0 + budget_ns;
		do {
			for (i = 0; i < CLOCK_EVERY; i++)
				bad += one_pair(kind, fds);
			pairs += CLOCK_EVERY;
			t = now_ns();
		} while (t < end);
		out->elapsed_ns = t - t0;
		if (fds[0] >= 0) {
			pfd.fd = fds[0];
			pfd.events = POLLIN | POLLOUT;
			if (poll(&pfd, 1, 0) != 1 || pfd.revents != POLLOUT)
				bad++;
		}
		out->pairs = pairs;
		out->bad = bad;
	}
	if (ep >= 0)
		close(ep);
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return err;
}
