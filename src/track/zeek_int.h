/* zeek_int.h -- what zeek.c (per segment) and zeek_record.c (the record at
 * the end) both read of a tl_zeek. Internal to src/track/. */
#ifndef TL_TRACK_ZEEK_INT_H
#define TL_TRACK_ZEEK_INT_H

#include "track/zeek.h"

/* Zeek's originator is ep[0] until a late SYN swaps the roles. */
static inline int orig_slot(const tl_zeek *z) { return z->swapped ? 1 : 0; }

/* The history letters, in place while short, on the heap once longer. */
static inline const char *history(const tl_zeek *z)
{
    return z->hist_len < TL_ZK_HIST_INLINE ? z->hist.in : z->hist.heap;
}

/* A 32-bit sequence number with its wraps, as one 64-bit number. */
static inline uint64_t full_seq(uint32_t seq, uint32_t wraps)
{
    return ((uint64_t)wraps << 32) + seq;
}

#endif
