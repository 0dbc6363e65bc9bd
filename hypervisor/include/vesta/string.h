/* String and memory primitives.
 *
 * The hypervisor is freestanding, so it brings its own (lib/string.c). Pure-logic modules that are also compiled
 * into host unit tests include this header; under VESTA_HOST_TEST it maps to the host C library instead. */
#ifndef VESTA_STRING_H
#define VESTA_STRING_H

#include <stddef.h>

#ifdef VESTA_HOST_TEST
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);
#endif

#endif
