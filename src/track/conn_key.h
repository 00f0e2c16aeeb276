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
    uint8_t zero;           /* always 0: the tail word's last byte */
} tl_conn_key;

/* The key's last 8 bytes, b[14..15] to `zero`, are its "tail word": the
 * ports and family compare and hash as one load (tl__key_tail). */
#define TL__KEY_TAIL 30
_Static_assert(offsetof(tl_conn_key, pb) == offsetof(tl_conn_key, pa) + 2,
               "the ports are one 4-byte word");
_Static_assert(offsetof(tl_conn_key, pa) == TL__KEY_TAIL + 2 &&
                   offsetof(tl_conn_key, zero) == TL__KEY_TAIL + 7 && sizeof(tl_conn_key) == 38,
               "the tail word is the key's last 8 bytes, and the key 38 bytes (conn.h)");

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

static inline uint64_t tl__key_tail(const tl_conn_key *k)
{
    return tl__key_word((const uint8_t *)k + TL__KEY_TAIL);
}

/* The tail word from its parts: b[14..15] and the ports word as memory
 * holds them (2 and 4 bytes), the family. */
static inline uint64_t tl__tail_of(uint16_t b_end, uint32_t ports, uint8_t family)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return b_end | (uint64_t)ports << 16 | (uint64_t)family << 48;
#else
    return (uint64_t)b_end << 48 | (uint64_t)ports << 16 | (uint64_t)family << 8;
#endif
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
    k->zero = 0;
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
    k->zero = 0;
    return swap;
}

/* The first words and the tail word (ports, family) in one test, then for
 * families but IPv4 the addresses' second words: an IPv4 key's other
 * address bytes are zero in every key. */
static inline bool tl_conn_key_equal(const tl_conn_key *x, const tl_conn_key *y)
{
    uint64_t d = (tl__key_word(x->a) ^ tl__key_word(y->a)) | (tl__key_word(x->b) ^ tl__key_word(y->b)) |
                 (tl__key_tail(x) ^ tl__key_tail(y));
    if (d) return false;
    return x->family == 4 || ((tl__key_word(x->a + 8) ^ tl__key_word(y->a + 8)) |
                              (tl__key_word(x->b + 8) ^ tl__key_word(y->b + 8))) == 0;
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

/* An IPv4 key's first word, tl__key_word() of its a or b: the address
 * (tl__key_v4), then zeros, as memory holds them on either byte order. */
static inline uint64_t tl__v4_word(uint32_t addr)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return addr;
#else
    return (uint64_t)addr << 32;
#endif
}

/* Both IPv4 addresses as one word for the hash, from the key's first words. */
static inline uint64_t tl__v4_pair(uint64_t a0, uint64_t b0)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return a0 | b0 << 32;
#else
    return a0 | b0 >> 32;
#endif
}

/* The seed's four terms, each computed once per batch of segments. GCC
 * re-associates `x ^ (seed ^ K)` into `(x ^ seed) ^ K`, a movabs and two
 * xors per term per segment; the empty asm hides where they came from, so
 * each is one xor (h10m: 4 Ir per segment). */
typedef struct tl_conn_hash_keys {
    uint64_t k0, k1, k2, k3;
} tl_conn_hash_keys;

static inline tl_conn_hash_keys tl_conn_hash_keys_of(uint64_t seed)
{
    tl_conn_hash_keys hk = {seed ^ TL__K0, seed ^ TL__K1, seed ^ TL__K2, seed ^ TL__K3};
#if defined(__GNUC__)
    __asm__("" : "+r"(hk.k0), "+r"(hk.k1), "+r"(hk.k2), "+r"(hk.k3));
#endif
    return hk;
}

/* The hash's IPv4 core: both addresses as one word, the tail word as the
 * key holds it. A stored key and a packet's probe (below) both end here,
 * so a key always hashes as the packets that must find it. */
static inline uint64_t tl__hash_v4(uint64_t addrs, uint64_t tail, const tl_conn_hash_keys *hk)
{
    uint64_t h = tl__key_mum(addrs ^ hk->k0, tail ^ hk->k1);
    return tl__key_mum(h ^ hk->k2, hk->k3);
}

/* The other families' core: both 16-byte addresses in key order. */
static inline uint64_t tl__hash_v6(const uint8_t *a, const uint8_t *b, uint64_t tail,
                                   const tl_conn_hash_keys *hk)
{
    uint64_t h = tl__key_mum(tl__key_word(a) ^ hk->k0, tl__key_word(a + 8) ^ TL__K1) ^
                 tl__key_mum(tl__key_word(b) ^ hk->k2, tl__key_word(b + 8) ^ TL__K3) ^ tail;
    return tl__key_mum(h ^ hk->k2, hk->k3);
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
    tl_conn_hash_keys hk = tl_conn_hash_keys_of(seed);
    if (k->family == 4)
        return tl__hash_v4(tl__v4_pair(tl__key_word(k->a), tl__key_word(k->b)), tl__key_tail(k), &hk);
    return tl__hash_v6(k->a, k->b, tl__key_tail(k), &hk);
}

/* A packet's connection as its key would hold it, read in place: the
 * lookup of a segment writes no key (40 bytes of stores, read back at
 * once) and compares the stored key against registers. tl_conn_key_make()
 * is left to new connections. */
typedef struct tl_conn_probe {
    union {
        struct {
            uint64_t a0, b0;      /* IPv4: the key's a and b first words (the address, zeros) */
        };
        struct {
            const uint8_t *a, *b; /* other families: the packet's addresses in key order */
        };
    };
    uint64_t tail;                /* tl__key_tail() of the key */
    uint8_t family;
    uint8_t dir;                  /* as tl_conn_key_make() returns */
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
    uint64_t s = tl__key_v4(p->src.bytes), d = tl__key_v4(p->dst.bytes);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* bswap64 of the zero-extended address: its bytes reversed, above 32
     * zero bits */
    uint64_t es = __builtin_bswap64(s) | p->sport, ed = __builtin_bswap64(d) | p->dport;
#else
    uint64_t es = s << 32 | p->sport, ed = d << 32 | p->dport;
#endif
    uint64_t m = 0 - (uint64_t)(es > ed), t = (s ^ d) & m;
    uint32_t ports = tl__packet_ports(p);
    ports ^= (ports ^ tl__ports_swapped(ports)) & (uint32_t)m;
    q->a0 = tl__v4_word((uint32_t)(s ^ t));
    q->b0 = tl__v4_word((uint32_t)(d ^ t));
    q->tail = tl__tail_of(0, ports, 4);
    q->family = 4;
    q->dir = (uint8_t)(m & 1);
}

/* Other families: the addresses compared as tl_conn_key_make() does. */
static inline void tl__conn_probe_v6(tl_conn_probe *q, const tl_packet *p)
{
    int swap = tl__addr_port_gt(p->src.bytes, p->sport, p->dst.bytes, p->dport);
    uint32_t ports = tl__packet_ports(p);
    uintptr_t src = (uintptr_t)p->src.bytes, dst = (uintptr_t)p->dst.bytes;
    const uint8_t *b = (const uint8_t *)tl__pick64(swap, dst, src);
    uint16_t b_end;
    memcpy(&b_end, b + 14, 2);
    q->a = (const uint8_t *)tl__pick64(swap, src, dst);
    q->b = b;
    q->tail = tl__tail_of(b_end, (uint32_t)tl__pick64(swap, ports, tl__ports_swapped(ports)),
                          p->src.family);
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

/* tl_conn_key_hash() of the key tl_conn_key_make() would build, with the
 * seed's terms from tl_conn_hash_keys_of(). */
static inline uint64_t tl_conn_probe_hash_k(const tl_conn_probe *q, const tl_conn_hash_keys *hk)
{
    if (q->family == 4) return tl__hash_v4(tl__v4_pair(q->a0, q->b0), q->tail, hk);
    return tl__hash_v6(q->a, q->b, q->tail, hk);
}

static inline uint64_t tl_conn_probe_hash(const tl_conn_probe *q, uint64_t seed)
{
    tl_conn_hash_keys hk = tl_conn_hash_keys_of(seed);
    return tl_conn_probe_hash_k(q, &hk);
}

/* tl_conn_key_equal() against the key tl_conn_key_make() would build: the
 * tail word holds the family, so a key of another family (or a free
 * slot's, family 0) differs there. */
static inline bool tl_conn_key_is(const tl_conn_key *k, const tl_conn_probe *q)
{
    uint64_t d = tl__key_tail(k) ^ q->tail;
    if (q->family == 4) return ((tl__key_word(k->a) ^ q->a0) | (tl__key_word(k->b) ^ q->b0) | d) == 0;
    return ((tl__key_word(k->a) ^ tl__key_word(q->a)) | (tl__key_word(k->a + 8) ^ tl__key_word(q->a + 8)) |
            (tl__key_word(k->b) ^ tl__key_word(q->b)) | (tl__key_word(k->b + 8) ^ tl__key_word(q->b + 8)) | d) == 0;
}

#endif
