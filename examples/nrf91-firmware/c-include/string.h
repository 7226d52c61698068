/* Minimal <string.h> for compiling tinyrlibc's snprintf.c with a bare clang
 * (no newlib on this machine): the functions themselves come from
 * tinyrlibc's Rust code and compiler_builtins. */
#ifndef NRF91_FIRMWARE_STRING_H
#define NRF91_FIRMWARE_STRING_H
#include <stddef.h>
size_t strlen(const char *s);
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *s, int c, size_t n);
#endif
