/* test_decode_build.h -- frame builders shared by the decode unit tests.
 *
 * Frames are written byte by byte (big-endian), so the tests do not rely on
 * the decoder's own code to produce their input. Checksums use the plain
 * RFC 1071 16-bit loop as an independent reference.
 */
#ifndef TEST_DECODE_BUILD_H
#define TEST_DECODE_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct tb {
    uint8_t b[4096];
    size_t n;
} tb;

static inline void tb_u8(tb *t, unsigned v) { t->b[t->n++] = (uint8_t)v; }
static inline void tb_u16(tb *t, unsigned v) { tb_u8(t, v >> 8); tb_u8(t, v); }
static inline void tb_u32(tb *t, uint32_t v) { tb_u16(t, v >> 16); tb_u16(t, v & 0xffff); }
static inline void tb_put(tb *t, const void *p, size_t n)
{
    memcpy(t->b + t->n, p, n);
    t->n += n;
}
static inline void tb_set16(tb *t, size_t at, unsigned v)
{
    t->b[at] = (uint8_t)(v >> 8);
    t->b[at + 1] = (uint8_t)v;
}

/* Reference checksum: 16-bit words, carries folded at the end. */
static inline uint16_t ref_cksum(const uint8_t *p, size_t n, uint32_t start)
{
    uint64_t s = start;
    for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) s += (uint32_t)p[n - 1] << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static inline void tb_eth(tb *t, unsigned ethertype)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
    tb_put(t, macs, 12);
    tb_u16(t, ethertype);
}

/* A TCP header with options (padded to 4 bytes with EOL) and payload,
 * checksum 0. Returns the offset where it starts. */
static inline size_t tb_tcp(tb *t, unsigned sport, unsigned dport, uint32_t seq,
                            uint32_t ack, unsigned flags, unsigned win,
                            const uint8_t *opts, size_t optlen,
                            const uint8_t *payload, size_t plen)
{
    size_t at = t->n;
    size_t padded = (optlen + 3) / 4 * 4;
    tb_u16(t, sport);
    tb_u16(t, dport);
    tb_u32(t, seq);
    tb_u32(t, ack);
    tb_u8(t, (unsigned)((5 + padded / 4) << 4));
    tb_u8(t, flags);
    tb_u16(t, win);
    tb_u16(t, 0);
    tb_u16(t, 0);
    if (optlen) tb_put(t, opts, optlen);
    for (size_t i = optlen; i < padded; i++) tb_u8(t, 0);
    if (plen) tb_put(t, payload, plen);
    return at;
}

/* IPv4 header (with optional options) announcing `l4len` bytes of payload
 * and protocol proto. Returns the offset where it starts. */
static inline size_t tb_ipv4(tb *t, const uint8_t src[4], const uint8_t dst[4],
                             unsigned proto, size_t l4len,
                             const uint8_t *opts, size_t optlen)
{
    size_t at = t->n;
    tb_u8(t, 0x40 | (unsigned)(5 + optlen / 4));
    tb_u8(t, 0);
    tb_u16(t, (unsigned)(20 + optlen + l4len));
    tb_u16(t, 0x1234);
    tb_u16(t, 0x4000);
    tb_u8(t, 64);
    tb_u8(t, proto);
    tb_u16(t, 0);
    tb_put(t, src, 4);
    tb_put(t, dst, 4);
    if (optlen) tb_put(t, opts, optlen);
    tb_set16(t, at + 10, ref_cksum(t->b + at, 20 + optlen, 0));
    return at;
}

static inline size_t tb_ipv6(tb *t, const uint8_t src[16], const uint8_t dst[16],
                             unsigned nh, size_t plen)
{
    size_t at = t->n;
    tb_u32(t, 0x60000000u);
    tb_u16(t, (unsigned)plen);
    tb_u8(t, nh);
    tb_u8(t, 61);
    tb_put(t, src, 16);
    tb_put(t, dst, 16);
    return at;
}

static const uint8_t TB_V4_SRC[4] = {192, 0, 2, 1};
static const uint8_t TB_V4_DST[4] = {198, 51, 100, 7};
static const uint8_t TB_V6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t TB_V6_DST[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* Ethernet + IPv4 + TCP with `plen` payload bytes 'a'.. and no options. */
static inline void tb_simple_v4(tb *t, size_t plen)
{
    uint8_t payload[256];
    for (size_t i = 0; i < plen; i++) payload[i] = (uint8_t)('a' + i % 26);
    t->n = 0;
    tb_eth(t, 0x0800);
    tb_ipv4(t, TB_V4_SRC, TB_V4_DST, 6, 20 + plen, NULL, 0);
    tb_tcp(t, 40000, 80, 1000, 2000, 0x18, 512, NULL, 0, payload, plen);
}

#endif
