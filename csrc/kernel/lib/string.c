/*
 * kernel/lib/string.c - plain memcpy, memset, memcmp and strlen, for an
 * environment that has none (see string.h).  The hosted builds take the C
 * library's; the deterministic platform's test build links these.
 *
 * Compile with -ffreestanding (or -fno-builtin and
 * -fno-tree-loop-distribute-patterns): otherwise gcc may recognise a loop
 * below as the very function it implements and turn it into a call to
 * itself.
 */
#include "string.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}
