/* zeek_int.h -- what zeek.c (per segment), zeek_history.c (the letters),
 * zeek_reasm.c (content gaps), zeek_timer.c (when Zeek forgets a
 * connection) and zeek_record.c (the record at the end) share of a
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

/* ---- roles -------------------------------------------------------------- */

static inline tl_zeek_ep *orig_ep(tl_zeek *z) { return &z->ep[orig_slot(z)]; }
static inline tl_zeek_ep *resp_ep(tl_zeek *z) { return &z->ep[orig_slot(z) ^ 1]; }
static inline bool ep_is_orig(const tl_zeek *z, const tl_zeek_ep *e) { return e == &z->ep[orig_slot(z)]; }
/* e's slot: a compare, where e - z->ep divides by the endpoint's size. */
static inline int ep_slot(const tl_zeek *z, const tl_zeek_ep *e) { return e == &z->ep[0] ? 0 : 1; }
static inline tl_zeek_ep_hist *ep_hist(tl_zeek *z, const tl_zeek_ep *e) { return &z->eh[ep_slot(z, e)]; }

/* Established or closing cleanly: only when both sides are is a hole a gap
 * (other states give false gaps). */
static inline bool is_clean(const tl_zeek_ep *e)
{
    return e->state == TL_ZK_ESTABLISHED ||
           (e->state == TL_ZK_CLOSED && e->prev_state == TL_ZK_ESTABLISHED);
}

/* ---- history letters (zeek_history.c) ------------------------------------ */

/* Once-only history masks (TCP_Endpoint::HistoryMasks); responder's << 16. */
enum {
    HIST_SYN = 0x1, HIST_FIN = 0x2, HIST_RST = 0x4, HIST_FIN_RST = 0x8,
    HIST_DATA = 0x10, HIST_ACK = 0x20, HIST_MULTI_FLAG = 0x40,
};

/* add_history once the letters fill the place they have in z. */
void tl__zk_add_history_long(tl_zeek *z, char c);

/* Inline while the letters fit in place (nearly always). Measured, h10m:
 * 29 Ir a letter out of line before; 728.0 -> 721.8 M in all, of which 3.4
 * Ir/packet in tl_zeek_segment_at, whose code GCC then lays out better. */
static inline void add_history(tl_zeek *z, char c)
{
    uint8_t n = z->hist_len;
    if (n + 1 >= TL_ZK_HIST_INLINE) {
        tl__zk_add_history_long(z, c);
        return;
    }
    z->hist.in[n] = c;
    z->hist.in[n + 1] = '\0';
    z->hist_len = (uint8_t)(n + 1);
}

static inline char role_letter(bool is_orig, char upper)
{
    return is_orig ? upper : (char)(upper - 'A' + 'a');
}

/* Connection::CheckHistory: adds the letter the first time; returns true
 * when it had been seen before. o: the sender is the originator. */
static inline bool check_history(tl_zeek *z, bool o, uint32_t mask, char upper)
{
    if (!o) mask <<= 16;
    if ((z->hist_seen & mask) == 0) {
        z->hist_seen |= mask;
        add_history(z, role_letter(o, upper));
        return false;
    }
    return true;
}

/* The thresholds of scaled letters, 1, 10, ... (zeek_history.c). */
extern const uint32_t tl__zk_sc_thresh[11];
/* The scaled letter `which` of e, its count having reached the threshold. */
void tl__zk_scaled_letter(tl_zeek *z, tl_zeek_ep *e, int which);

/* Connection::ScaledHistoryEntry: letter at the 1st, 10th, 100th... event.
 * slot: e's, when the caller knows it. */
static inline void scaled_history_slot(tl_zeek *z, tl_zeek_ep *e, int slot, int which)
{
    if (++z->eh[slot].sc_cnt[which] == tl__zk_sc_thresh[z->sc_level[slot][which]])
        tl__zk_scaled_letter(z, e, which);
}

static inline void scaled_history(tl_zeek *z, tl_zeek_ep *e, int which)
{
    scaled_history_slot(z, e, ep_slot(z, e), which);
}

/* ---- content gaps (zeek_reasm.c, TCP_Reassembler) ------------------------ */

/* Payload [seq, seq+len) of e in relative sequence space (DataSent/NewBlock). */
void tl__zk_data_sent(tl_zeek *z, tl_zeek_ep *e, uint64_t seq, uint64_t len);
/* The peer acknowledged e's data up to seq (AckReceived/TrimToSeq):
 * whatever was never seen below it is a content gap. */
void tl__zk_ack_received(tl_zeek *z, tl_zeek_ep *e, tl_zeek_ep *peer, uint64_t seq);

#endif
