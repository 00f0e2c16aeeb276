/* time_inline.h -- tl_time_diff() and tl_time_cmp() as inline functions for
 * the per-packet paths (measured: the out-of-line calls were 4.6 % of `read
 * --conns`). Same arithmetic as the exported functions in err.c, so results
 * are bit-identical; the exported ones stay for the public API.
 */
#ifndef TL_UTIL_TIME_INLINE_H
#define TL_UTIL_TIME_INLINE_H

#include "tcplens/tcplens.h"

/* b - a in seconds. */
static inline double tl__time_diff(tl_time a, tl_time b)
{
    return (double)(b.sec - a.sec) + ((double)b.nsec - (double)a.nsec) / 1e9;
}

static inline int tl__time_cmp(tl_time a, tl_time b)
{
    if (a.sec != b.sec) return a.sec < b.sec ? -1 : 1;
    if (a.nsec != b.nsec) return a.nsec < b.nsec ? -1 : 1;
    return 0;
}

/* Times kept in 8 bytes, as nanoseconds after a base time the owner keeps
 * whole (connections hold tens of thousands of times). t - base is exact
 * while the two are less than 292 years apart; unsigned arithmetic so that
 * crafted far-apart times wrap rather than overflow. */
static inline int64_t tl__time_off(tl_time base, tl_time t)
{
    return (int64_t)(((uint64_t)t.sec - (uint64_t)base.sec) * 1000000000u +
                     ((uint64_t)t.nsec - (uint64_t)base.nsec));
}

/* The inverse: base + off as a tl_time, nanoseconds below 1e9, so that
 * tl__time_diff() and tl__time_cmp() of the results equal those of the
 * original times (captures give nanoseconds below 1e9). */
static inline tl_time tl__time_at(tl_time base, int64_t off)
{
    int64_t s = off / 1000000000, ns = off % 1000000000;
    if (ns < 0) {
        ns += 1000000000;
        s--;
    }
    ns += (int64_t)base.nsec;
    s += ns / 1000000000;
    ns %= 1000000000;
    tl_time t = {(int64_t)((uint64_t)base.sec + (uint64_t)s), (uint32_t)ns};
    return t;
}

/* A tl_time in 12 bytes aligned to 4, not 16 aligned to 8: for times a
 * struct keeps beside 4-byte fields, where tl_time's padding would round the
 * struct up (tl_endpoint: 40 -> 36 bytes, which brings tl_conn to 512). */
typedef struct tl_time_packed {
    uint32_t sec_lo, sec_hi, nsec;
} tl_time_packed;

static inline tl_time_packed tl__time_pack(tl_time t)
{
    tl_time_packed p = {(uint32_t)t.sec, (uint32_t)((uint64_t)t.sec >> 32), t.nsec};
    return p;
}

static inline tl_time tl__time_unpack(tl_time_packed p)
{
    tl_time t = {(int64_t)((uint64_t)p.sec_hi << 32 | p.sec_lo), p.nsec};
    return t;
}

#endif
