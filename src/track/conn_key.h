/* conn_key.h -- direction-independent connection key.
 *
 * The (addr, port) pairs are ordered canonically so both directions of a
 * connection map to one key; `dir` tells which way a packet went (0: the
 * packet's source is the key's first endpoint). Address bytes past the
 * family's length (12 for IPv4) are always zero, so keys compare and hash
 * as whole words. Internal to src/track/.
 */
#ifndef TL_TRACK_CONN_KEY_H
#define TL_TRACK_CONN_KEY_H

#include <stddef.h>
#include <string.h>
#include "tcplens/packet.h"

typedef struct tl_conn_key {
    uint8_t a[16], b[16];   /* canonical order: (a, pa) <= (b, pb) */
    uint16_t pa, pb;
    uint8_t family;
} tl_conn_key;

_Static_assert(offsetof(tl_conn_key, pb) == offsetof(tl_conn_key, pa) + 2,
               "the ports are one 4-byte word");

static inline uint64_t tl__key_word(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint32_t tl__key_ports(const tl_conn_key *k)
{
    uint32_t w;
    memcpy(&w, (const uint8_t *)k + offsetof(tl_conn_key, pa), 4);
    return w;
}

/* memcmp(a, b, 16) as a sign, by two 8-byte words in big-endian order:
 * the libc call was 1 % of `read --conns` (measured). */
static inline int tl_conn_key_cmp16(const uint8_t *a, const uint8_t *b)
{
    for (int i = 0; i < 16; i += 8) {
        uint64_t x = tl__key_word(a + i), y = tl__key_word(b + i);
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

/* The IPv4 case of tl_conn_key_make (nearly every packet): one 4-byte
 * compare, and only the 4 address bytes read, so what the packet holds
 * past them does not matter. */
static inline int tl__conn_key_make_v4(tl_conn_key *k, const tl_packet *p)
{
    uint32_t s, d;
    memcpy(&s, p->src.bytes, 4);
    memcpy(&d, p->dst.bytes, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t so = __builtin_bswap32(s), dso = __builtin_bswap32(d);
#else
    uint32_t so = s, dso = d;
#endif
    int swap = so > dso || (so == dso && p->sport > p->dport);
    uint64_t lo = swap ? d : s, hi = swap ? s : d, zero = 0;
    memcpy(k->a, &lo, 8);   /* the address, then zeros */
    memcpy(k->a + 8, &zero, 8);
    memcpy(k->b, &hi, 8);
    memcpy(k->b + 8, &zero, 8);
    k->pa = swap ? p->dport : p->sport;
    k->pb = swap ? p->sport : p->dport;
    k->family = 4;
    return swap;
}

/* Fills key from a packet; returns the direction bit (0: src is `a`). */
static inline int tl_conn_key_make(tl_conn_key *k, const tl_packet *p)
{
    if (p->src.family == 4) return tl__conn_key_make_v4(k, p);
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

/* Ports and family first (they differ more often than addresses), then
 * the addresses word by word: one word each for IPv4, whose other bytes
 * are zero in every key. */
static inline bool tl_conn_key_equal(const tl_conn_key *x, const tl_conn_key *y)
{
    if (tl__key_ports(x) != tl__key_ports(y) || x->family != y->family) return false;
    uint64_t d = (tl__key_word(x->a) ^ tl__key_word(y->a)) | (tl__key_word(x->b) ^ tl__key_word(y->b));
    if (x->family != 4)
        d |= (tl__key_word(x->a + 8) ^ tl__key_word(y->a + 8)) |
             (tl__key_word(x->b + 8) ^ tl__key_word(y->b + 8));
    return d == 0;
}

/* High and low halves of the 128-bit product, folded. */
static inline uint64_t tl__key_mum(uint64_t a, uint64_t b)
{
    __extension__ unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Seeded hash of the key: wyhash-style folded 128-bit multiplies of the
 * key's words xored with seed-derived values, not SipHash: the key is
 * fixed-size and this runs for every packet not found by the last-flow
 * cache (measured on h1m: 46 -> 26 Ir per hash, call included). The
 * per-run random seed keeps crafted captures from predicting collisions.
 * An IPv4 key is two words, so it takes one multiply less; which path a
 * key takes depends on the key alone. */
static inline uint64_t tl_conn_key_hash(const tl_conn_key *k, uint64_t seed)
{
    const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                   k2 = 0x8ebc6af09c88c6e3ull, k3 = 0x589965cc75374cc3ull;
    uint64_t tail = (uint64_t)tl__key_ports(k) << 8 | k->family;
    uint64_t h;
    if (k->family == 4) {
        uint64_t addrs = (tl__key_word(k->a) & 0xffffffffu) | tl__key_word(k->b) << 32;
        h = tl__key_mum(addrs ^ seed ^ k0, tail ^ k1);
    } else {
        h = tl__key_mum(tl__key_word(k->a) ^ seed ^ k0, tl__key_word(k->a + 8) ^ k1) ^
            tl__key_mum(tl__key_word(k->b) ^ seed ^ k2, tl__key_word(k->b + 8) ^ k3) ^ tail;
    }
    return tl__key_mum(h ^ k2, seed ^ k3);
}

#endif
