/* zeek_timer.c -- whether Zeek has forgotten a connection by a given time:
 * the deadlines zeek.c sets (attempt, close and reset delays), the idle
 * timeouts and the periodic expire check of half-closed connections (see
 * tl_zeek_expired in zeek.h). Times are nanoseconds after z->start. */
#include "track/zeek_int.h"
#include "util/time_inline.h"

/* b - a in seconds for two times kept as offsets from z->start: the same
 * double as tl__time_diff() of the capture times. */
static inline double tdiff(const tl_zeek *z, int64_t a, int64_t b)
{
    return tl__time_diff(tl__time_at(z->start, a), tl__time_at(z->start, b));
}

bool tl__zeek_expired_full(tl_zeek *z, int64_t t_now)
{
    if (!z->have_time) return false;
    const tl_zeek_ep *o = &z->ep[orig_slot(z)], *r = &z->ep[orig_slot(z) ^ 1];
    if (z->closed_timer && t_now >= z->delete_at) return true;
    if (z->attempt_timer && t_now >= z->attempt_at) {
        if ((o->state == TL_ZK_SYN_SENT || o->state == TL_ZK_SYN_ACK_SENT) &&
            r->state == TL_ZK_INACTIVE)
            return true;
        z->attempt_timer = false;
    }
    /* Idle: compared in nanoseconds, the same verdict as the double of
     * tl__time_diff() for these whole-second limits (its rounding is far
     * below the 1 ns step near them), without rebuilding the times. */
    int64_t idle = z->idle_long ? TL_ZK_TCP_IDLE_NS : TL_ZK_HANDSHAKE_IDLE_NS;
    if ((int64_t)((uint64_t)t_now - (uint64_t)z->last) >= idle) return true;
    /* ExpireTimer: every tcp_session_timer, a connection idle for longer
     * than tcp_connection_linger goes if it is closed, reset or half-open.
     * Past the linger time the verdict no longer changes, so one check at
     * the first firing after it decides. */
    if (z->expire_at != INT64_MAX && z->expire_at <= t_now) {
        int64_t t = z->expire_at;
        double wait = tdiff(z, t, tl__zk_tadd(z->last, ZK_LINGER));
        if (wait >= 0) t = tl__zk_tadd(t, ZK_SESSION_TIMER * ((double)(int64_t)(wait / ZK_SESSION_TIMER) + 1));
        if (t <= t_now) {
            bool some_closed = o->did_close || r->did_close;
            bool done = (o->did_close && r->did_close) || o->state == TL_ZK_RESET ||
                        r->state == TL_ZK_RESET || o->state == TL_ZK_INACTIVE ||
                        r->state == TL_ZK_INACTIVE;
            if ((some_closed && done) || (o->state == TL_ZK_INACTIVE && r->state == TL_ZK_INACTIVE))
                return true;
        }
        double late = tdiff(z, z->expire_at, t_now);
        z->expire_at = tl__zk_tadd(z->expire_at, ZK_SESSION_TIMER * ((double)(int64_t)(late / ZK_SESSION_TIMER) + 1));
    }
    tl__zk_update_next_timer(z);
    return false;
}
