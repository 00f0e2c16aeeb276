/* test_source_build.h -- byte-by-byte capture builders shared by the
 * source tests (pcapng blocks, classic pcap records, small TCP/UDP frames),
 * so every expected value comes from the test, not from another tool.
 * Include after <cmocka.h>.
 */
#ifndef TEST_SOURCE_BUILD_H
#define TEST_SOURCE_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
    bool be;  /* byte order of what put16/put32 write */
} bytes;

static inline void put(bytes *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n)
        memcpy(b->p + b->len, src, n);
    b->len += n;
}

static inline void put16(bytes *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(b->be ? v >> 8 : v), (uint8_t)(b->be ? v : v >> 8)};
    put(b, x, 2);
}

static inline void put32(bytes *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[b->be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    put(b, x, 4);
}

static inline void put64(bytes *b, uint64_t v)
{
    /* pcapng 64-bit option values are in the section's byte order. */
    if (b->be) {
        put32(b, (uint32_t)(v >> 32));
        put32(b, (uint32_t)v);
    } else {
        put32(b, (uint32_t)v);
        put32(b, (uint32_t)(v >> 32));
    }
}

static inline void pad4(bytes *b)
{
    static const uint8_t z[4] = {0};
    put(b, z, (4 - b->len % 4) % 4);
}

/* Ethernet + IPv4 + TCP (54 bytes) or UDP (42 bytes) with given ports. */
static inline size_t make_frame(uint8_t *f, int proto, uint16_t sport, uint16_t dport)
{
    size_t l4 = proto == 6 ? 20 : 8;
    memset(f, 0, 14 + 20 + l4);
    f[12] = 0x08;  /* IPv4 */
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + l4) >> 8);
    ip[3] = (uint8_t)(20 + l4);
    ip[8] = 64;
    ip[9] = (uint8_t)proto;
    memcpy(ip + 12, (uint8_t[]){192, 0, 2, 1}, 4);
    memcpy(ip + 16, (uint8_t[]){192, 0, 2, 2}, 4);
    uint8_t *th = ip + 20;
    th[0] = (uint8_t)(sport >> 8);
    th[1] = (uint8_t)sport;
    th[2] = (uint8_t)(dport >> 8);
    th[3] = (uint8_t)dport;
    if (proto == 6)
        th[12] = 5 << 4;
    else
        th[5] = 8;
    return 14 + 20 + l4;
}

/* ---- pcapng ---------------------------------------------------------- */

static inline void ng_shb(bytes *b)
{
    put32(b, 0x0A0D0D0Au);
    put32(b, 28);
    put32(b, 0x1A2B3C4Du);
    put16(b, 1);
    put16(b, 0);
    put32(b, 0xffffffffu);  /* section length -1: not given */
    put32(b, 0xffffffffu);
    put32(b, 28);
}

/* IDB; tsresol < 0 = no if_tsresol option; tsoffset written when has_off. */
static inline void ng_idb_full(bytes *b, uint16_t linktype, uint32_t snaplen, int tsresol,
                               bool has_off, int64_t tsoffset)
{
    uint32_t len = 20 + (tsresol >= 0 ? 8 : 0) + (has_off ? 12 : 0) +
                   (tsresol >= 0 || has_off ? 4 : 0);
    put32(b, 1);
    put32(b, len);
    put16(b, linktype);
    put16(b, 0);
    put32(b, snaplen);
    if (tsresol >= 0) {
        put16(b, 9);  /* if_tsresol */
        put16(b, 1);
        uint8_t v = (uint8_t)tsresol;
        put(b, &v, 1);
        pad4(b);
    }
    if (has_off) {
        put16(b, 14);  /* if_tsoffset */
        put16(b, 8);
        put64(b, (uint64_t)tsoffset);
    }
    if (tsresol >= 0 || has_off)
        put32(b, 0);  /* opt_endofopt */
    put32(b, len);
}

static inline void ng_idb(bytes *b, uint16_t linktype, int tsresol)
{
    ng_idb_full(b, linktype, 0, tsresol, false, 0);
}

/* Enhanced packet block; returns its offset. */
static inline size_t ng_epb(bytes *b, uint32_t ifid, uint64_t ts, const uint8_t *d,
                            uint32_t caplen, uint32_t len)
{
    size_t start = b->len;
    uint32_t blen = 32 + ((caplen + 3u) & ~3u);
    put32(b, 6);
    put32(b, blen);
    put32(b, ifid);
    put32(b, (uint32_t)(ts >> 32));
    put32(b, (uint32_t)ts);
    put32(b, caplen);
    put32(b, len);
    put(b, d, caplen);
    pad4(b);
    put32(b, blen);
    return start;
}

/* Any other block with `body` bytes of zeros (skipped by readers). */
static inline size_t ng_other(bytes *b, uint32_t type, uint32_t body)
{
    size_t start = b->len;
    put32(b, type);
    put32(b, 12 + body);
    for (uint32_t i = 0; i < body; i += 4)
        put32(b, 0);
    put32(b, 12 + body);
    return start;
}

/* ---- classic pcap ---------------------------------------------------- */

static inline void pcap_header_snap(bytes *b, uint32_t magic, uint32_t snaplen,
                                    uint32_t linktype)
{
    put32(b, magic);
    put16(b, 2);
    put16(b, 4);
    put32(b, 0);
    put32(b, 0);
    put32(b, snaplen);
    put32(b, linktype);
}

static inline void pcap_rec(bytes *b, uint32_t sec, uint32_t frac, const uint8_t *d,
                            uint32_t caplen, uint32_t len)
{
    put32(b, sec);
    put32(b, frac);
    put32(b, caplen);
    put32(b, len);
    put(b, d, caplen);
}

static inline void write_bytes(const char *path, const bytes *b)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b->p, 1, b->len, f), b->len);
    assert_int_equal(fclose(f), 0);
}

static inline void tmp_name(char *out, size_t n, const char *name)
{
    const char *dir = getenv("TMPDIR");
    snprintf(out, n, "%s/tl-src-%ld-%s", dir && *dir ? dir : "/tmp", (long)getpid(), name);
}

#endif
