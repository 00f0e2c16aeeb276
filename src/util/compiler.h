/* compiler.h -- attributes the hot paths use, in one place. */
#ifndef TL_UTIL_COMPILER_H
#define TL_UTIL_COMPILER_H

/* Keeps a rare path out of its caller, whose hot path then needs no
 * register saves or stack frame (measured where used). */
#if defined(__GNUC__)
#define TL__NOINLINE __attribute__((noinline))
#else
#define TL__NOINLINE
#endif

#endif
