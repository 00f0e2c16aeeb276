/* seq.h -- wraparound-safe TCP sequence number comparisons.
 *
 * RFC 9293 section 3.4: sequence numbers live in a 2^32 circle, so "a before
 * b" means the signed 32-bit difference a - b is negative (the same rule as
 * Linux before()/after() and BSD SEQ_LT). Valid while the two numbers are
 * less than 2^31 apart, which any one connection's window guarantees.
 * Inline, no state: usable by every tracker module.
 */
#ifndef TL_TRACK_SEQ_H
#define TL_TRACK_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* a - b as a signed distance (negative: a is before b). */
static inline int32_t tl_seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

static inline bool tl_seq_lt(uint32_t a, uint32_t b) { return tl_seq_diff(a, b) < 0; }
static inline bool tl_seq_leq(uint32_t a, uint32_t b) { return tl_seq_diff(a, b) <= 0; }
static inline bool tl_seq_gt(uint32_t a, uint32_t b) { return tl_seq_diff(a, b) > 0; }
static inline bool tl_seq_geq(uint32_t a, uint32_t b) { return tl_seq_diff(a, b) >= 0; }

/* lo <= x <= hi on the circle (both ends included). */
static inline bool tl_seq_between(uint32_t x, uint32_t lo, uint32_t hi)
{
    return x - lo <= hi - lo;
}

/* The later of two sequence numbers. */
static inline uint32_t tl_seq_max(uint32_t a, uint32_t b)
{
    return tl_seq_gt(a, b) ? a : b;
}

/* Short forms, as in BSD tcp_seq.h and the RFC's prose. */
#define TL_SEQ_LT(a, b) tl_seq_lt((a), (b))
#define TL_SEQ_LEQ(a, b) tl_seq_leq((a), (b))
#define TL_SEQ_GT(a, b) tl_seq_gt((a), (b))
#define TL_SEQ_GEQ(a, b) tl_seq_geq((a), (b))
#define TL_SEQ_BETWEEN(x, lo, hi) tl_seq_between((x), (lo), (hi))

#endif
