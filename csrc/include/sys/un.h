/*
 * sys/un.h - AF_UNIX addresses.
 *
 * Hosted, the C library's <sys/un.h> declares struct sockaddr_un (Linux's
 * layout) and this header adds UNIX_PATH_MAX; freestanding (a kernel), it
 * declares both.  See sys/socket.h.
 */
#ifndef MENIOS_SYS_UN_H
#define MENIOS_SYS_UN_H

#ifndef UNIX_PATH_MAX
#define UNIX_PATH_MAX	108
#endif

#if __STDC_HOSTED__ && defined(__has_include)
#if __has_include(<sys/un.h>)
#include <sys/un.h>
#define MENIOS_LIBC_SOCKADDR_UN 1
#endif
#endif

#ifndef MENIOS_LIBC_SOCKADDR_UN
struct sockaddr_un {
	unsigned short sun_family;	/* AF_UNIX */
	char sun_path[UNIX_PATH_MAX];	/* pathname, or NUL + abstract name */
};
#endif

#endif
