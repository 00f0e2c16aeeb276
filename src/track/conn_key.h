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

/* An IPv4 address: its 4 bytes as one word, the same for a key and a
 * packet on either byte order. */
static inline uint32_t tl__key_v4(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
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

/* tl_conn_key_cmp16(a, b) > 0 || (equal && pa > pb) without a branch:
 * the words compared as numbers, most significant first. */
static inline int tl__addr_port_gt(const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
    uint64_t a0 = tl__key_word(a), a1 = tl__key_word(a + 8);
    uint64_t b0 = tl__key_word(b), b1 = tl__key_word(b + 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    a0 = __builtin_bswap64(a0), a1 = __builtin_bswap64(a1);
    b0 = __builtin_bswap64(b0), b1 = __builtin_bswap64(b1);
#endif
    int gt1 = (a1 > b1) | ((a1 == b1) & (pa > pb));
    return (a0 > b0) | ((a0 == b0) & gt1);
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

#define TL__K0 0xa0761d6478bd642full
#define TL__K1 0xe7037ed1a0b428dbull
#define TL__K2 0x8ebc6af09c88c6e3ull
#define TL__K3 0x589965cc75374cc3ull

/* The hash's IPv4 core: both addresses as one word, the ports word as the
 * key holds it. A stored key and a packet's probe (below) both end here,
 * so a key always hashes as the packets that must find it. */
static inline uint64_t tl__hash_v4(uint64_t addrs, uint32_t ports, uint64_t seed)
{
    uint64_t h = tl__key_mum(addrs ^ seed ^ TL__K0, ((uint64_t)ports << 8 | 4) ^ TL__K1);
    return tl__key_mum(h ^ TL__K2, seed ^ TL__K3);
}

/* The other families' core: both 16-byte addresses in key order. */
static inline uint64_t tl__hash_v6(const uint8_t *a, const uint8_t *b, uint32_t ports,
                                   uint8_t family, uint64_t seed)
{
    uint64_t h = tl__key_mum(tl__key_word(a) ^ seed ^ TL__K0, tl__key_word(a + 8) ^ TL__K1) ^
                 tl__key_mum(tl__key_word(b) ^ seed ^ TL__K2, tl__key_word(b + 8) ^ TL__K3) ^
                 ((uint64_t)ports << 8 | family);
    return tl__key_mum(h ^ TL__K2, seed ^ TL__K3);
}

/* Seeded hash of the key: wyhash-style folded 128-bit multiplies of the
 * key's words xored with seed-derived values, not SipHash: the key is
 * fixed-size and this runs for every segment (measured on h1m: 46 -> 26
 * Ir per hash, call included). The per-run random seed keeps crafted
 * captures from predicting collisions.
 * An IPv4 key is two words, so it takes one multiply less; which path a
 * key takes depends on the key alone. */
static inline uint64_t tl_conn_key_hash(const tl_conn_key *k, uint64_t seed)
{
    if (k->family == 4)
        return tl__hash_v4(tl__key_v4(k->a) | (uint64_t)tl__key_v4(k->b) << 32, tl__key_ports(k), seed);
    return tl__hash_v6(k->a, k->b, tl__key_ports(k), k->family, seed);
}

/* A packet's connection as its key would hold it, read in place: the
 * lookup of a segment writes no key (40 bytes of stores, read back at
 * once) and compares the stored key against registers. tl_conn_key_make()
 * is left to new connections. */
typedef struct tl_conn_probe {
    uint64_t addrs;           /* IPv4: the key's a, then b, 4 bytes each */
    const uint8_t *a, *b;     /* other families: the packet's addresses in key order */
    uint32_t ports;           /* pa, then pb, as the key's ports word */
    uint8_t family;
    uint8_t dir;              /* as tl_conn_key_make() returns */
} tl_conn_probe;

_Static_assert(offsetof(tl_packet, dport) == offsetof(tl_packet, sport) + 2,
               "a packet's ports are one 4-byte word");

static inline uint32_t tl__packet_ports(const tl_packet *p)
{
    uint32_t w;
    memcpy(&w, (const uint8_t *)p + offsetof(tl_packet, sport), 4);
    return w;
}

/* Swapping the two 2-byte halves swaps the ports, on either byte order. */
static inline uint32_t tl__ports_swapped(uint32_t w)
{
    return w << 16 | w >> 16;
}

/* `swap ? y : x` as a mask: the direction is a coin toss per packet, and
 * GCC turned the selects into a branch (callgrind's branch simulation on
 * h10m: a third of a misprediction per packet). */
static inline uint64_t tl__pick64(int swap, uint64_t x, uint64_t y)
{
    return x ^ ((x ^ y) & (0 - (uint64_t)swap));
}

/* IPv4: each endpoint as its address big-endian above its port, so one
 * 64-bit compare orders them as tl__conn_key_make_v4() does. */
static inline void tl__conn_probe_v4(tl_conn_probe *q, const tl_packet *p)
{
    uint32_t s = tl__key_v4(p->src.bytes), d = tl__key_v4(p->dst.bytes);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t es = (uint64_t)__builtin_bswap32(s) << 16 | p->sport,
             ed = (uint64_t)__builtin_bswap32(d) << 16 | p->dport;
#else
    uint64_t es = (uint64_t)s << 16 | p->sport, ed = (uint64_t)d << 16 | p->dport;
#endif
    int swap = es > ed;
    uint32_t ports = tl__packet_ports(p);
    q->addrs = tl__pick64(swap, s | (uint64_t)d << 32, d | (uint64_t)s << 32);
    q->ports = (uint32_t)tl__pick64(swap, ports, tl__ports_swapped(ports));
    q->family = 4;
    q->dir = (uint8_t)swap;
}

/* Other families: the addresses compared as tl_conn_key_make() does. */
static inline void tl__conn_probe_v6(tl_conn_probe *q, const tl_packet *p)
{
    int swap = tl__addr_port_gt(p->src.bytes, p->sport, p->dst.bytes, p->dport);
    uint32_t ports = tl__packet_ports(p);
    uintptr_t src = (uintptr_t)p->src.bytes, dst = (uintptr_t)p->dst.bytes;
    q->addrs = 0;   /* unread: for the compiler's uninitialised-use check */
    q->a = (const uint8_t *)tl__pick64(swap, src, dst);
    q->b = (const uint8_t *)tl__pick64(swap, dst, src);
    q->ports = (uint32_t)tl__pick64(swap, ports, tl__ports_swapped(ports));
    q->family = p->src.family;
    q->dir = (uint8_t)swap;
}

/* Orients p like its key: the order and direction bit of
 * tl_conn_key_make(). */
static inline void tl_conn_probe_make(tl_conn_probe *q, const tl_packet *p)
{
    if (p->src.family == 4)
        tl__conn_probe_v4(q, p);
    else
        tl__conn_probe_v6(q, p);
}

/* tl_conn_key_hash() of the key tl_conn_key_make() would build. */
static inline uint64_t tl_conn_probe_hash(const tl_conn_probe *q, uint64_t seed)
{
    if (q->family == 4) return tl__hash_v4(q->addrs, q->ports, seed);
    return tl__hash_v6(q->a, q->b, q->ports, q->family, seed);
}

/* tl_conn_key_equal() against the key tl_conn_key_make() would build. */
static inline bool tl_conn_key_is(const tl_conn_key *k, const tl_conn_probe *q)
{
    if (tl__key_ports(k) != q->ports || k->family != q->family) return false;
    if (q->family == 4) return (tl__key_v4(k->a) | (uint64_t)tl__key_v4(k->b) << 32) == q->addrs;
    return ((tl__key_word(k->a) ^ tl__key_word(q->a)) | (tl__key_word(k->a + 8) ^ tl__key_word(q->a + 8)) |
            (tl__key_word(k->b) ^ tl__key_word(q->b)) | (tl__key_word(k->b + 8) ^ tl__key_word(q->b + 8))) == 0;
}

#endif
