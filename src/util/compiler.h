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

/* One body for a loop and its single-call wrapper; the compiler's own
 * choice moved parts of it out of line (measured where used). */
#if defined(__GNUC__)
#define TL__ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TL__ALWAYS_INLINE inline
#endif

/* A condition that is a coin toss per packet (a packet's direction, a
 * table probe's length): told so, GCC turns the select it guards into a
 * conditional move instead of a branch mispredicted half the time. */
#if defined(__clang__)
#define TL__UNPREDICTABLE(c) __builtin_unpredictable(!!(c))
#elif defined(__GNUC__)
#define TL__UNPREDICTABLE(c) __builtin_expect_with_probability(!!(c), 1, 0.5)
#else
#define TL__UNPREDICTABLE(c) (c)
#endif

#endif
