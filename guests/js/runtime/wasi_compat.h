/* wasi_compat.h — what QuickJS needs of its C library that wasi-libc has
 * but does not declare, or lacks. The Makefile includes it before each
 * QuickJS unit (with DOHOST_QUICKJS defined); the runtime's own files
 * include it for the declarations. */
#ifndef DOHOST_WASI_COMPAT_H
#define DOHOST_WASI_COMPAT_H

#include <fenv.h>
#include <stddef.h>
#include <stdio.h>

size_t malloc_usable_size(void *ptr);

/* wasm has one rounding mode, so wasi-libc names no other; QuickJS's
 * number formatting asks for these two, which rounding.c provides. */
#ifndef FE_UPWARD
#define FE_DOWNWARD 0x400
#define FE_UPWARD 0x800
#endif
int dohost_fesetround(int mode);
int dohost_snprintf(char *buf, size_t size, const char *fmt, ...);

#ifdef DOHOST_QUICKJS
#define fesetround dohost_fesetround
#define snprintf dohost_snprintf
#endif

#endif
