/* zeek_int.h -- what zeek.c (per segment), zeek_timer.c (when Zeek forgets
 * a connection) and zeek_record.c (the record at the end) share of a
 * tl_zeek. Internal to src/track/. */
#ifndef TL_TRACK_ZEEK_INT_H
#define TL_TRACK_ZEEK_INT_H

#include "track/zeek.h"

/* Zeek's defaults (init-bare.zeek) that the segment and timer code share. */
#define ZK_SESSION_TIMER 6.0        /* tcp_session_timer: later expire checks */
#define ZK_LINGER 5.0               /* tcp_connection_linger */

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

/* t + s seconds, the fraction rounded to a nanosecond. */
static inline int64_t tl__zk_tadd(int64_t t, double s)
{
    int64_t whole = (int64_t)s;
    return t + whole * 1000000000 + (int64_t)((s - (double)whole) * 1e9 + 0.5);
}

/* The earliest pending timer or the idle deadline (last + the idle
 * timeout), for tl_zeek_expired's one compare. Timers and idle_long are set
 * only by segment_full, segment_handshake and tl__zeek_expired_full, which
 * call this last (after a segment counted: have_time). z->last moves on
 * in the fast path too, which does not call this: later, the deadline kept
 * is early, and the packet past it finds tl__zeek_expired_full, which says
 * false and moves it; earlier (capture times out of order), it lowers
 * next_timer to the new idle deadline if below, which keeps it early or
 * exact. */
static inline void tl__zk_update_next_timer(tl_zeek *z)
{
    int64_t t = z->last + (z->idle_long ? TL_ZK_TCP_IDLE_NS : TL_ZK_HANDSHAKE_IDLE_NS);
    if (z->expire_at < t) t = z->expire_at;
    if (z->closed_timer && z->delete_at < t) t = z->delete_at;
    if (z->attempt_timer && z->attempt_at < t) t = z->attempt_at;
    z->next_timer = t;
}

#endif
