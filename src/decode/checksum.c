/* checksum.c -- Internet checksum for TCP over IPv4 and IPv6.
 *
 * RFC 1071 (one's complement sum), RFC 9293 section 3.1 (the TCP pseudo-
 * header), RFC 8200 section 8.1 (the IPv6 pseudo-header). The caller passes
 * a range it has already bounds-checked against caplen.
 *
 * Because 2^16 = 1 (mod 2^16 - 1), summing 32-bit big-endian words into a
 * 64-bit accumulator and folding gives the same result as summing 16-bit
 * words, with half the additions and no overflow for any captured length.
 */
#include "decode/decode_int.h"

static uint32_t fold64(uint64_t acc)
{
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffffffu) + (acc >> 32);
    /* Keep the running sum small enough that callers can add to it. */
    uint32_t s = (uint32_t)acc;
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return s;
}

uint32_t tl__cksum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t acc = sum;
    size_t i = 0;
    for (; i + 4 <= len; i += 4)
        acc += ((uint32_t)p[i] << 24) | ((uint32_t)p[i + 1] << 16) |
               ((uint32_t)p[i + 2] << 8) | p[i + 3];
    if (i + 2 <= len) {
        acc += ((uint32_t)p[i] << 8) | p[i + 1];
        i += 2;
    }
    if (i < len)
        acc += (uint32_t)p[i] << 8;
    return fold64(acc);
}

uint16_t tl__cksum_fold(uint32_t sum)
{
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}
