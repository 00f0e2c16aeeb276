/* decode_ip.c -- IPv4 (RFC 791) and IPv6 (RFC 8200) headers down to TCP.
 *
 * IPv4: IHL and total length validated, options walked (RFC 791 section
 * 3.1: EOL, NOP, then type-length-value), fragments flagged. A total length
 * of 0 is what a sending host's capture shows for a TSO/GSO super-segment;
 * as Wireshark does ("reported as 0, presumed to be because of TCP
 * segmentation offload"), the captured bytes stand in for it.
 *
 * IPv6: the extension-header chain is walked (hop-by-hop, routing,
 * destination options, fragment, AH; RFC 8200 section 4, RFC 4302); ESP
 * and "no next header" end it as not TCP. The routing header's final
 * destination is what the TCP pseudo-header uses (RFC 8200 section 8.1).
 * A payload length of 0 means a jumbogram (RFC 2675) when hop-by-hop
 * carries a Jumbo Payload option, else offload as for IPv4.
 */
#include <string.h>

#include "decode/decode_int.h"

enum {
    TL__NH_HOPOPTS = 0,
    TL__NH_ROUTING = 43,
    TL__NH_FRAGMENT = 44,
    TL__NH_ESP = 50,
    TL__NH_AH = 51,
    TL__NH_NONE = 59,
    TL__NH_DSTOPTS = 60,
};

static tl_decode_result fail(tl_decode_reason *reason, tl_decode_result res,
                             tl_decode_reason why)
{
    *reason = why;
    return res;
}

/* RFC 791 options: EOL ends the list, NOP is one byte, every other option
 * carries a length covering its type and length bytes. */
static bool ipv4_options_valid(tl_cursor o)
{
    while (tl_cur_remaining(&o) > 0) {
        uint8_t type = tl_rd_u8(&o);
        if (type == 0) return true;
        if (type == 1) continue;
        if (tl_cur_remaining(&o) < 1) return false;
        uint8_t len = tl_rd_u8(&o);
        if (len < 2 || (size_t)(len - 2) > tl_cur_remaining(&o)) return false;
        tl_cur_skip(&o, (size_t)len - 2);
    }
    return true;
}

static tl_decode_result ipv4(tl_cursor *c, bool verify, tl_packet *pkt,
                             tl_decode_reason *reason)
{
    size_t captured = tl_cur_remaining(c);
    uint8_t spare[20];
    size_t got;
    const uint8_t *h = tl__grab(c, spare, 20, &got);
    pkt->ip_version = 4;
    uint32_t hlen = (uint32_t)(h[0] & 0x0fu) * 4;
    if (hlen < 20) return fail(reason, TL_DECODE_MALFORMED, TL_REASON_IPV4_IHL);
    if (got < 20) return fail(reason, TL_DECODE_TRUNCATED, TL_REASON_IP_TRUNCATED);
    uint32_t total = tl__be16(h + 2);
    uint16_t frag = tl__be16(h + 6);
    uint8_t proto = h[9];
    memcpy(pkt->src.bytes, h + 12, 4);
    memcpy(pkt->dst.bytes, h + 16, 4);
    pkt->src.family = pkt->dst.family = 4;
    pkt->ttl = h[8];

    bool offload = total == 0;
    uint32_t ip_len = offload ? (uint32_t)captured : total;
    pkt->ip_len = ip_len;
    pkt->ip_hlen = hlen;
    pkt->ip_options = hlen > 20;
    if (!offload && total < hlen)
        return fail(reason, TL_DECODE_MALFORMED, TL_REASON_IPV4_TOTAL_LEN);

    /* From here on only the bytes the IP header claims (Ethernet pads
     * short frames; the padding is not TCP). ip_len >= 20 here: total >=
     * hlen, or captured >= got = 20. */
    tl_cursor ipc = tl_cur_sub(c, ip_len - 20);
    if (hlen > 20) {
        tl_cursor opts = tl_cur_sub(&ipc, hlen - 20);
        if (tl_cur_remaining(&opts) < hlen - 20)
            return fail(reason, TL_DECODE_TRUNCATED, TL_REASON_IP_TRUNCATED);
        if (!ipv4_options_valid(opts))
            return fail(reason, TL_DECODE_MALFORMED, TL_REASON_IPV4_OPTIONS);
    }

    if (proto != TL__IPPROTO_TCP) return TL_DECODE_NOT_TCP;
    if (frag & 0x3fffu) return TL_DECODE_FRAGMENT; /* MF set or offset != 0 */

    uint32_t seg_len = ip_len - hlen;
    tl__pseudo ph = {false, 0};
    if (verify && !offload) {
        ph.verify = true;
        ph.sum = tl__cksum_add(0, pkt->src.bytes, 4);
        ph.sum = tl__cksum_add(ph.sum, pkt->dst.bytes, 4);
        ph.sum += TL__IPPROTO_TCP + seg_len;
    }
    return tl__decode_tcp(&ipc, seg_len, &ph, pkt, reason);
}

static bool ipv6_is_ext(uint8_t nh)
{
    return nh == TL__NH_HOPOPTS || nh == TL__NH_ROUTING || nh == TL__NH_FRAGMENT ||
           nh == TL__NH_AH || nh == TL__NH_DSTOPTS;
}

/* The Jumbo Payload option (type 0xC2, length 4) in a hop-by-hop header
 * at h; 0 when absent or not captured. */
static uint32_t jumbo_len(tl_cursor h)
{
    tl_cur_skip(&h, 1);
    size_t ext = ((size_t)tl_rd_u8(&h) + 1) * 8;
    if (h.truncated) return 0;
    tl_cursor o = tl_cur_sub(&h, ext - 2);
    while (tl_cur_remaining(&o) > 0) {
        uint8_t type = tl_rd_u8(&o);
        if (type == 0) continue; /* Pad1 */
        uint8_t len = tl_rd_u8(&o);
        if (o.truncated) return 0;
        if (type == 0xc2 && len == 4) return tl_rd_u32be(&o);
        if (!tl_cur_skip(&o, len)) return 0;
    }
    return 0;
}

/* A routing header with segments left names the final destination, which
 * the checksum's pseudo-header must use (RFC 8200 section 8.1). Types 0
 * and 2 list addresses after 8 bytes, the last being final; a segment
 * routing header (type 4, RFC 8754) lists it first. */
static void routing_final_dst(tl_cursor e, uint8_t final_dst[16])
{
    tl_cur_skip(&e, 2);
    uint8_t type = tl_rd_u8(&e);
    uint8_t segs_left = tl_rd_u8(&e);
    tl_cur_skip(&e, 4);
    size_t n = tl_cur_remaining(&e) / 16;
    if (e.truncated || segs_left == 0 || n == 0) return;
    if (type == 0 || type == 2)
        tl_cur_skip(&e, (n - 1) * 16);
    else if (type != 4)
        return;
    tl_rd_bytes(&e, final_dst, 16);
}

static tl_decode_result ipv6(tl_cursor *c, bool verify, tl_packet *pkt,
                             tl_decode_reason *reason)
{
    size_t captured = tl_cur_remaining(c);
    pkt->ip_version = 6;
    uint8_t spare[40];
    size_t got;
    const uint8_t *h = tl__grab(c, spare, 40, &got);
    if (got < 40) return fail(reason, TL_DECODE_TRUNCATED, TL_REASON_IP_TRUNCATED);
    uint32_t plen = tl__be16(h + 4);
    uint8_t nh = h[6];
    uint8_t hops = h[7];
    memcpy(pkt->src.bytes, h + 8, 16);
    memcpy(pkt->dst.bytes, h + 24, 16);
    pkt->src.family = pkt->dst.family = 6;
    pkt->ttl = hops;

    bool offload = false;
    if (plen == 0 && nh != TL__NH_NONE) {
        plen = nh == TL__NH_HOPOPTS ? jumbo_len(*c) : 0;
        if (plen == 0) {
            offload = true;
            plen = (uint32_t)(captured - 40);
        }
    }
    /* 40 + a 32-bit jumbo length can exceed 32 bits; such a claim cannot
     * be met by any capture, so it is kept as the largest length. */
    uint32_t ip_len = plen > UINT32_MAX - 40 ? UINT32_MAX : 40 + plen;
    pkt->ip_len = ip_len;
    pkt->ip_hlen = 40;

    uint8_t final_dst[16];
    memcpy(final_dst, pkt->dst.bytes, 16);
    tl_cursor ipc = tl_cur_sub(c, ip_len - 40);
    uint32_t off = 40;
    /* Each extension header is at least 8 bytes and must fit in ip_len,
     * so the walk ends. */
    while (nh != TL__IPPROTO_TCP) {
        if (!ipv6_is_ext(nh)) return TL_DECODE_NOT_TCP; /* ESP, no next, UDP, ... */
        if (ip_len - off < 8)
            return fail(reason, TL_DECODE_MALFORMED, TL_REASON_IPV6_EXT);
        tl_cursor peek = ipc;
        uint8_t next = tl_rd_u8(&peek);
        uint8_t l = tl_rd_u8(&peek);
        uint16_t fragw = tl_rd_u16be(&peek);
        if (peek.truncated) return fail(reason, TL_DECODE_TRUNCATED, TL_REASON_IP_TRUNCATED);
        uint32_t ext = nh == TL__NH_FRAGMENT ? 8
                     : nh == TL__NH_AH      ? ((uint32_t)l + 2) * 4
                                            : ((uint32_t)l + 1) * 8;
        if (ext > ip_len - off)
            return fail(reason, TL_DECODE_MALFORMED, TL_REASON_IPV6_EXT);
        if (ext > tl_cur_remaining(&ipc))
            return fail(reason, TL_DECODE_TRUNCATED, TL_REASON_IP_TRUNCATED);
        tl_cursor e = tl_cur_sub(&ipc, ext);
        off += ext;
        pkt->ip_hlen = off;
        if (nh == TL__NH_FRAGMENT && (fragw & 0xfff9u) != 0) {
            /* Offset or M set: a real fragment (an atomic one, RFC 6946,
             * is walked through). Fragments of something other than TCP
             * or a further header are just not TCP. */
            return next == TL__IPPROTO_TCP || ipv6_is_ext(next) ? TL_DECODE_FRAGMENT
                                                                : TL_DECODE_NOT_TCP;
        }
        if (nh == TL__NH_ROUTING) routing_final_dst(e, final_dst);
        nh = next;
    }

    uint32_t seg_len = ip_len - off;
    tl__pseudo ph = {false, 0};
    if (verify && !offload) {
        ph.verify = true;
        ph.sum = tl__cksum_add(0, pkt->src.bytes, 16);
        ph.sum = tl__cksum_add(ph.sum, final_dst, 16);
        ph.sum += (seg_len >> 16) + (seg_len & 0xffffu) + TL__IPPROTO_TCP;
    }
    return tl__decode_tcp(&ipc, seg_len, &ph, pkt, reason);
}

tl_decode_result tl__decode_ip(tl__l3 l3, tl_cursor *c, bool verify_cksum,
                               tl_packet *pkt, tl_decode_reason *reason)
{
    if (!tl_cur_has(c, 1)) return fail(reason, TL_DECODE_TRUNCATED, TL_REASON_IP_TRUNCATED);
    /* The version nibble must agree with what the link layer announced. */
    unsigned v = c->p[0] >> 4;
    if (v == 4 && l3 != TL__L3_IPV6) return ipv4(c, verify_cksum, pkt, reason);
    if (v == 6 && l3 != TL__L3_IPV4) return ipv6(c, verify_cksum, pkt, reason);
    return fail(reason, TL_DECODE_MALFORMED, TL_REASON_IP_VERSION);
}
