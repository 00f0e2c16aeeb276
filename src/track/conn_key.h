/* conn_key.h -- direction-independent connection key.
 *
 * The (addr, port) pairs are ordered canonically so both directions of a
 * connection map to one key; `dir` tells which way a packet went (0: the
 * packet's source is the key's first endpoint). Internal to src/track/.
 */
#ifndef TL_TRACK_CONN_KEY_H
#define TL_TRACK_CONN_KEY_H

#include <string.h>
#include "tcplens/packet.h"

typedef struct tl_conn_key {
    uint8_t a[16], b[16];   /* canonical order: (a, pa) <= (b, pb) */
    uint16_t pa, pb;
    uint8_t family;
} tl_conn_key;

/* memcmp(a, b, 16) as a sign, by two 8-byte words in big-endian order:
 * the libc call was 1 % of `read --conns` (measured). */
static inline int tl_conn_key_cmp16(const uint8_t *a, const uint8_t *b)
{
    for (int i = 0; i < 16; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            x = __builtin_bswap64(x);
            y = __builtin_bswap64(y);
#endif
            return x < y ? -1 : 1;
        }
    }
    return 0;
}

/* Fills key from a packet; returns the direction bit (0: src is `a`). */
static inline int tl_conn_key_make(tl_conn_key *k, const tl_packet *p)
{
    int c = tl_conn_key_cmp16(p->src.bytes, p->dst.bytes);
    int swap = c > 0 || (c == 0 && p->sport > p->dport);
    const tl_addr *lo = swap ? &p->dst : &p->src, *hi = swap ? &p->src : &p->dst;
    memcpy(k->a, lo->bytes, 16);
    memcpy(k->b, hi->bytes, 16);
    k->pa = swap ? p->dport : p->sport;
    k->pb = swap ? p->sport : p->dport;
    k->family = p->src.family;
    return swap;
}

static inline bool tl_conn_key_equal(const tl_conn_key *x, const tl_conn_key *y)
{
    return x->pa == y->pa && x->pb == y->pb && x->family == y->family &&
           memcmp(x->a, y->a, 16) == 0 && memcmp(x->b, y->b, 16) == 0;
}

/* Seeded hash of the key. A keyed multiply-xorshift mix rather than SipHash:
 * the key is fixed-size and this runs once per packet on the hot path; the
 * per-run random seed keeps crafted captures from predicting collisions. */
uint64_t tl_conn_key_hash(const tl_conn_key *k, uint64_t seed);

#endif
