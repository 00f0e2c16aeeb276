/* decode.c -- tl_decode(): link layer, then IP, then TCP; result and
 * reason names.
 *
 * The only per-packet clearing is of the tl_packet itself; every stage
 * reads through one bounds-checked cursor over [data, data + caplen).
 * The common layout is taken in one pass (decode_plain), everything else
 * layer by layer (tl__decode_layers).
 */
#include <stddef.h>
#include <string.h>

#include "decode/decode_int.h"

static const char *const reason_names[TL_REASON_COUNT] = {
    [TL_REASON_NONE] = "none",
    [TL_REASON_UNKNOWN_LINKTYPE] = "unknown_linktype",
    [TL_REASON_LINK_TRUNCATED] = "link_truncated",
    [TL_REASON_IP_TRUNCATED] = "ip_truncated",
    [TL_REASON_IP_VERSION] = "ip_version",
    [TL_REASON_IPV4_IHL] = "ipv4_ihl",
    [TL_REASON_IPV4_TOTAL_LEN] = "ipv4_total_len",
    [TL_REASON_IPV4_OPTIONS] = "ipv4_options",
    [TL_REASON_IPV6_EXT] = "ipv6_ext",
    [TL_REASON_TCP_TRUNCATED] = "tcp_truncated",
    [TL_REASON_TCP_DATA_OFFSET] = "tcp_data_offset",
    [TL_REASON_TCP_OPTIONS] = "tcp_options",
};

const char *tl_decode_reason_name(tl_decode_reason r)
{
    if ((unsigned)r >= TL_REASON_COUNT) return "unknown";
    return reason_names[r];
}

const char *tl_decode_result_name(tl_decode_result r)
{
    switch (r) {
    case TL_DECODE_OK: return "ok";
    case TL_DECODE_NOT_TCP: return "not_tcp";
    case TL_DECODE_FRAGMENT: return "fragment";
    case TL_DECODE_TRUNCATED: return "truncated";
    case TL_DECODE_MALFORMED: return "malformed";
    }
    return "unknown";
}

size_t tl__grab_short(tl_cursor *c, uint8_t *spare, size_t n)
{
    size_t got = c->truncated ? 0 : tl_cur_remaining(c);
    if (got > n) got = n; /* only reached with fewer than n captured */
    tl_cursor s = tl_cur_sub(c, got);
    tl_rd_bytes(&s, spare, got);
    for (size_t i = got; i < n; i++) spare[i] = 0;
    c->truncated = true;
    return got;
}

/* Clears *pkt in pieces of at most 64 bytes, which compilers expand to
 * plain vector stores (12 instructions for the whole packet). One memset
 * of the whole becomes `rep stos`, whose start-up cost was a tenth of the
 * decode time; copying a zero packet also loads it (22 instructions). */
static void clear_packet(tl_packet *pkt)
{
    unsigned char *b = (unsigned char *)pkt;
    size_t off = 0;
    for (; sizeof *pkt - off > 64; off += 64) memset(b + off, 0, 64);
    memset(b + off, 0, sizeof *pkt - off);
}

/* The one pass's clear. On TL__LE_WORDS builds not [ack, payload_caplen),
 * which plain_tcp then writes whole, padding included: 11 -> 9 stores;
 * 108.4 -> 106.6 instructions per frame. test_decode_plain fills packets
 * with garbage to check every byte is written. */
static TL__ALWAYS_INLINE void plain_clear(tl_packet *pkt)
{
#if TL__LE_WORDS
    enum { from = offsetof(tl_packet, ack), to = offsetof(tl_packet, payload_caplen) };
    unsigned char *b = (unsigned char *)pkt;
    size_t off = 0;
    for (; from - off > 64; off += 64) memset(b + off, 0, 64);
    memset(b + off, 0, from - off);
    for (off = to; sizeof *pkt - off > 64; off += 64) memset(b + off, 0, 64);
    memset(b + off, 0, sizeof *pkt - off);
#else
    clear_packet(pkt);
#endif
}

tl_decode_result tl__decode_layers(int linktype, const uint8_t *data, uint32_t caplen,
                                   bool verify_cksum, tl_packet *pkt, tl_decode_reason *reason)
{
    tl_cursor c = tl_cursor_make(data, caplen);
    tl__l3 l3 = TL__L3_OTHER;
    tl_decode_result res = tl__decode_link(linktype, &c, pkt, &l3, reason);
    if (res != TL_DECODE_OK) return res;
    if (l3 == TL__L3_OTHER) return TL_DECODE_NOT_TCP;
    return tl__decode_ip(l3, &c, verify_cksum, pkt, reason);
}

/* The layer by layer walk on a cleared packet: every frame the one pass
 * does not take. Out of line, with the options parser below, so that the
 * one pass keeps everything in scratch registers: saving and restoring
 * registers for these calls cost 17 of its instructions per frame. */
static TL__NOINLINE tl_decode_result decode_walk(int linktype, const uint8_t *data,
                                                 uint32_t caplen, bool verify_cksum,
                                                 tl_packet *pkt, tl_decode_reason *reason)
{
    static const uint8_t empty[1];
    tl_decode_reason ignored;
    if (reason == NULL) reason = &ignored;
    *reason = TL_REASON_NONE;
    clear_packet(pkt);
    if (data == NULL) { /* NULL + 0 is undefined; read nothing instead */
        data = empty;
        caplen = 0;
    }
    return tl__decode_layers(linktype, data, caplen, verify_cksum, pkt, reason);
}

/* Options other than NOP,NOP,timestamp; *pkt is complete but for them.
 * The SYN layouts of Linux (MSS, SACK-permitted, timestamps, NOP, window
 * scale) and Windows (MSS, NOP, window scale, NOP, NOP, SACK-permitted)
 * are read at fixed offsets: 7% of the frames of h10m, 183 -> 48
 * instructions each. Others go through the parser the walk uses;
 * malformed ones are the walk's to judge. */
static TL__NOINLINE tl_decode_result plain_options(int linktype, const uint8_t *data,
                                                   uint32_t caplen, tl_packet *pkt,
                                                   tl_decode_reason *reason)
{
    uint32_t n = pkt->tcp_hlen - 20;
    const uint8_t *o = pkt->payload - n;
    if (n == 20 && tl__be16(o) == 0x0204 && tl__be32(o + 4) == 0x0402080au &&
        tl__be32(o + 16) >> 8 == 0x010303u) {
        pkt->opt.present = TL_OPT_MSS | TL_OPT_SACK_PERM | TL_OPT_TIMESTAMP | TL_OPT_WSCALE;
        pkt->opt.mss = tl__be16(o + 2);
        pkt->opt.ts_val = tl__be32(o + 8);
        pkt->opt.ts_ecr = tl__be32(o + 12);
        pkt->opt.wscale = o[19];
        return TL_DECODE_OK;
    }
    if (n == 12 && tl__be16(o) == 0x0204 && tl__be32(o + 4) >> 8 == 0x010303u &&
        tl__be32(o + 8) == 0x01010402u) {
        pkt->opt.present = TL_OPT_MSS | TL_OPT_WSCALE | TL_OPT_SACK_PERM;
        pkt->opt.mss = tl__be16(o + 2);
        pkt->opt.wscale = o[7];
        return TL_DECODE_OK;
    }
    if (tl__parse_tcp_options(tl_cursor_make(o, n), &pkt->opt)) return TL_DECODE_OK;
    return decode_walk(linktype, data, caplen, false, pkt, reason);
}

/* Nearly every frame is plain Ethernet or raw IP carrying IPv4 without
 * options (not a fragment) or IPv6 without extension headers, then TCP
 * with well-formed options, if any. That layout is recognised here in
 * one pass, bounds checked by caplen up front, and decoded as the layer by layer
 * walk would (tests/unit/test_decode_plain.c compares the two); anything
 * else -- tags, IP options, malformed TCP options, offload or jumbo
 * lengths, truncation, any contradiction -- goes to the walk, which
 * decides. Measured on h1m --conns, tl_decode with its stages per frame:
 * 342 -> 158 instructions with the one pass for 96% of the frames; 161 ->
 * 156 once the SYNs' (4%) options were parsed here too, about 490 -> 360
 * each; 154 -> 141 with the walk and the options parser tail calls and
 * fields written as found. With a copy of the steps below for each link
 * type and IP version (all inlined), none tests what it already knows, and
 * one length check covers the link, IP and fixed TCP headers: 137 -> 117
 * per frame (h10m, first 1 M frames, tl_decode_frames). data is used only
 * once caplen says the headers are there. */
#define WALK() decode_walk(linktype, data, caplen, false, pkt, reason)

/* The TCP header at th: avail bytes captured from th (at least 20), seg_len
 * the bytes the IP header claims for it (negative when IPv4's total length
 * is shorter than its header). The IP fields are written. */
static TL__ALWAYS_INLINE tl_decode_result plain_tcp(int linktype, const uint8_t *data,
                                                    uint32_t caplen, const uint8_t *th,
                                                    size_t avail, int64_t seg_len,
                                                    tl_packet *pkt, tl_decode_reason *reason)
{
    /* The segment is what the IP length claims, as far as it was captured
     * (Ethernet pads short frames). */
    int64_t cap = seg_len < (int64_t)avail ? seg_len : (int64_t)avail;
    uint32_t tcp_hlen = (uint32_t)(th[12] & 0xf0) >> 2; /* masked: 106.6 -> 104.8 per frame */
    if (tcp_hlen < 20 || tcp_hlen > cap) return WALK(); /* also cap < 20 */

    if (reason) *reason = TL_REASON_NONE;
    tl__tcp_fixed_header(th, pkt);
    pkt->tcp_hlen = tcp_hlen;
#if TL__LE_WORDS /* with the padding after it, which plain_clear leaves */
    _Static_assert(offsetof(tl_packet, payload) == offsetof(tl_packet, payload_len) + 8, "len");
    uint64_t payload_len = (uint32_t)seg_len - tcp_hlen;
    memcpy((unsigned char *)pkt + offsetof(tl_packet, payload_len), &payload_len, 8);
#else
    pkt->payload_len = (uint32_t)seg_len - tcp_hlen;
#endif
    pkt->payload = th + tcp_hlen;
    pkt->payload_caplen = (uint32_t)cap - tcp_hlen;
    /* NOP,NOP,timestamp is nearly every segment with options. */
    if (tcp_hlen == 20) return TL_DECODE_OK;
    if (tcp_hlen != 32 || tl__be32(th + 20) != 0x0101080au)
        return plain_options(linktype, data, caplen, pkt, reason);
    pkt->opt.ts_val = tl__be32(th + 24);
    pkt->opt.ts_ecr = tl__be32(th + 28);
    pkt->opt.present = TL_OPT_TIMESTAMP;
    return TL_DECODE_OK;
}

/* IPv4 at ip, avail bytes captured from it (at least 40). */
static TL__ALWAYS_INLINE tl_decode_result plain_ipv4(int linktype, const uint8_t *data,
                                                     uint32_t caplen, const uint8_t *ip,
                                                     size_t avail, tl_packet *pkt,
                                                     tl_decode_reason *reason)
{
    /* No options; protocol TCP, not a fragment: flags and fragment offset
     * (bar DF), TTL, protocol read as one word. */
    if (ip[0] != 0x45 || (tl__be32(ip + 6) & 0x3fff00ffu) != TL__IPPROTO_TCP) return WALK();
    uint32_t ip_len = tl__be16(ip + 2);
    /* Fields are written as they are found (fewer live registers); the
     * walk clears them again. */
    plain_clear(pkt);
    pkt->ip_version = 4;
    pkt->src.family = pkt->dst.family = 4;
    memcpy(pkt->src.bytes, ip + 12, 4);
    memcpy(pkt->dst.bytes, ip + 16, 4);
    pkt->ttl = ip[8];
    pkt->ip_len = ip_len;
    pkt->ip_hlen = 20;
    return plain_tcp(linktype, data, caplen, ip + 20, avail - 20, (int64_t)ip_len - 20, pkt,
                     reason);
}

/* IPv6 at ip, avail bytes captured from it (at least 60). A payload length
 * of 0 (jumbogram) leaves no room for TCP: the walk's. */
static TL__ALWAYS_INLINE tl_decode_result plain_ipv6(int linktype, const uint8_t *data,
                                                     uint32_t caplen, const uint8_t *ip,
                                                     size_t avail, tl_packet *pkt,
                                                     tl_decode_reason *reason)
{
    if ((ip[0] >> 4) != 6 || ip[6] != TL__IPPROTO_TCP) return WALK();
    uint32_t plen = tl__be16(ip + 4);
    plain_clear(pkt);
    pkt->ip_version = 6;
    pkt->src.family = pkt->dst.family = 6;
    memcpy(pkt->src.bytes, ip + 8, 16);
    memcpy(pkt->dst.bytes, ip + 24, 16);
    pkt->ttl = ip[7];
    pkt->ip_len = 40 + plen;
    pkt->ip_hlen = 40;
    return plain_tcp(linktype, data, caplen, ip + 40, avail - 40, plen, pkt, reason);
}

static TL__ALWAYS_INLINE tl_decode_result decode_plain(int linktype, const uint8_t *data,
                                                       uint32_t caplen, tl_packet *pkt,
                                                       tl_decode_reason *reason)
{
    if (linktype == TL__DLT_EN10MB) {
        if (caplen < 14 + 20 + 20) return WALK();
        uint16_t et = tl__be16(data + 12);
        if (et == TL__ETH_IPV4)
            return plain_ipv4(linktype, data, caplen, data + 14, caplen - 14, pkt, reason);
        if (et == TL__ETH_IPV6 && caplen >= 14 + 40 + 20)
            return plain_ipv6(linktype, data, caplen, data + 14, caplen - 14, pkt, reason);
        return WALK();
    }
    /* raw IP: the version nibble decides; DLT_IPV4/IPV6 announce it */
    bool raw = linktype == TL__DLT_RAW || linktype == TL__LINKTYPE_RAW;
    if (!raw && linktype != TL__DLT_IPV4 && linktype != TL__DLT_IPV6) return WALK();
    if (caplen < 20 + 20) return WALK();
    if ((data[0] >> 4) == 4 && linktype != TL__DLT_IPV6)
        return plain_ipv4(linktype, data, caplen, data, caplen, pkt, reason);
    if (caplen >= 40 + 20 && linktype != TL__DLT_IPV4)
        return plain_ipv6(linktype, data, caplen, data, caplen, pkt, reason);
    return WALK();
}
#undef WALK

static TL__ALWAYS_INLINE tl_decode_result decode_one(int linktype, const uint8_t *data,
                                                     uint32_t caplen, bool verify_cksum,
                                                     tl_packet *pkt, tl_decode_reason *reason)
{
    /* Checksums are verified by the walk only. A NULL frame (caplen 0)
     * fails the one pass's length checks before data is used: the walk's. */
    if (verify_cksum)
        return decode_walk(linktype, data, caplen, verify_cksum, pkt, reason);
    return decode_plain(linktype, data, caplen, pkt, reason);
}

tl_decode_result tl_decode(int linktype, const uint8_t *data, uint32_t caplen,
                           bool verify_cksum, tl_packet *pkt, tl_decode_reason *reason)
{
    return decode_one(linktype, data, caplen, verify_cksum, pkt, reason);
}

void tl_decode_frames(const tl_frame *fs, int n, bool verify_cksum, tl_decoded *out)
{
    if (verify_cksum) {   /* one test per batch, not per frame */
        for (int i = 0; i < n; i++)
            out[i].res = decode_one(fs[i].linktype, fs[i].data, fs[i].caplen, true, &out[i].pkt,
                                    &out[i].reason);
        return;
    }
    for (int i = 0; i < n; i++)
        out[i].res = decode_one(fs[i].linktype, fs[i].data, fs[i].caplen, false, &out[i].pkt,
                                &out[i].reason);
}
