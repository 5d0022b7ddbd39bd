/*
 * bench/readyfloor.h - what keeping a readiness fd in step costs per
 * send+recv pair on the host, with no Python and no core in the way: the
 * floor `menios bench` reports beside socket_objects_64's armed row.
 */
#ifndef MENIOS_BENCH_READYFLOOR_H
#define MENIOS_BENCH_READYFLOOR_H

#include <stdint.h>

enum ready_floor_kind {
	READY_FLOOR_SOCKETPAIR,	/* the readiness fd's own transitions */
	READY_FLOOR_EVENTFD,	/* an eventfd's: cheaper, but no "neither" state */
	READY_FLOOR_SYSCALLS,	/* two system calls that do nothing */
};

struct ready_floor_result {
	uint64_t pairs;		/* on+off transition pairs made */
	uint64_t bad;		/* pairs whose fd did not show what it should */
	int64_t elapsed_ns;
};

/*
 * Turn a host fd readable and back, as a message's send and recv do to the
 * receiver's readiness fd, for @budget_ns; the fd is registered with an
 * epoll instance for read and write, as a selector registers it.  Returns
 * 0, -EINVAL or a setup call's -errno.
 */
int ready_floor_run(int kind, int64_t budget_ns, struct ready_floor_result *out);

#endif
