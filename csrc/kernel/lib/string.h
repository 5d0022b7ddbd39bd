/*
 * kernel/lib/string.h - the memory and string functions the core may
 * call.
 *
 * These are the C library's names and prototypes on purpose: gcc requires
 * even a freestanding environment to provide memcpy, memset and memcmp
 * (it emits calls to them on its own, for struct copies and zeroing), so
 * every environment the core runs in has them anyway -- the C library in user space, the kernel's own
 * lib/string.c in a kernel.  An environment without them links
 * kernel/lib/string.c, the plain versions here.  The prototypes match the
 * C library's, so a file may include this header and <string.h> together.
 */
#ifndef MENIOS_KERNEL_LIB_STRING_H
#define MENIOS_KERNEL_LIB_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
