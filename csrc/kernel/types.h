/*
 * kernel/types.h - the core's basic types, from the compiler's freestanding
 * headers alone.
 *
 * size_t and NULL come from <stddef.h>, the fixed-width integers from
 * <stdint.h>.  ssize_t is the signed type of size_t's width, as Linux's
 * __kernel_ssize_t is on the ABIs gcc and clang target (long on LP64, int
 * on x86-32 and arm32): __PTRDIFF_TYPE__, the same type a C library's
 * <sys/types.h> names, so the two typedefs may meet in one file (a C11
 * typedef redefinition to the same type).
 */
#ifndef MENIOS_KERNEL_TYPES_H
#define MENIOS_KERNEL_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef __PTRDIFF_TYPE__ ssize_t;

#endif
