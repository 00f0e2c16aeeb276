/* decode.c -- tl_decode(): link layer, then IP, then TCP; result and
 * reason names.
 *
 * The only per-packet clearing is of the tl_packet itself; every stage
 * reads through one bounds-checked cursor over [data, data + caplen).
 * The common layout is taken in one pass (decode_plain), everything else
 * layer by layer (tl__decode_layers).
 */
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
 * one pass, one bounds check per header, and decoded as the layer by layer
 * walk would (tests/unit/test_decode_plain.c compares the two); anything
 * else -- tags, IP options, malformed TCP options, offload or jumbo
 * lengths, truncation, any contradiction -- goes to the walk, which
 * decides. Measured on h1m --conns, tl_decode with its stages per frame:
 * 342 -> 158 instructions with the one pass for 96% of the frames; 161 ->
 * 156 once the SYNs' (4%) options were parsed here too, about 490 -> 360
 * each; 154 -> 141 with the walk and the options parser tail calls and
 * fields written as found. data is not NULL. */
static TL__ALWAYS_INLINE tl_decode_result decode_plain(int linktype, const uint8_t *data,
                                                       uint32_t caplen, tl_packet *pkt,
                                                       tl_decode_reason *reason)
{
#define WALK() decode_walk(linktype, data, caplen, false, pkt, reason)
    tl_cursor c = tl_cursor_make(data, caplen);
    unsigned version; /* the IP version the link layer announces, 0 = either */
    if (linktype == TL__DLT_EN10MB) {
        const uint8_t *eth = tl_cur_take(&c, 14);
        if (eth == NULL) return WALK();
        uint16_t et = tl__be16(eth + 12);
        if (et != TL__ETH_IPV4 && et != TL__ETH_IPV6) return WALK();
        version = et == TL__ETH_IPV4 ? 4 : 6;
    } else if (linktype == TL__DLT_RAW || linktype == TL__LINKTYPE_RAW) {
        version = 0;
    } else if (linktype == TL__DLT_IPV4 || linktype == TL__DLT_IPV6) {
        version = linktype == TL__DLT_IPV4 ? 4 : 6;
    } else {
        return WALK();
    }

    /* Fields are written as they are found (fewer live registers); the
     * walk clears them again. */
    clear_packet(pkt);
    uint32_t ip_hlen, ip_len;
    if (tl_cur_has(&c, 20) && c.p[0] == 0x45 && version != 6) {
        const uint8_t *ip = tl_cur_take(&c, 20);
        ip_hlen = 20;
        ip_len = tl__be16(ip + 2);
        bool fragment = (tl__be16(ip + 6) & 0x3fffu) != 0;
        if (ip_len < 20 || ip[9] != TL__IPPROTO_TCP || fragment) return WALK();
        pkt->ip_version = 4;
        pkt->src.family = pkt->dst.family = 4;
        memcpy(pkt->src.bytes, ip + 12, 4);
        memcpy(pkt->dst.bytes, ip + 16, 4);
        pkt->ttl = ip[8];
    } else if (tl_cur_has(&c, 40) && (c.p[0] >> 4) == 6 && version != 4) {
        const uint8_t *ip = tl_cur_take(&c, 40);
        ip_hlen = 40;
        ip_len = 40u + tl__be16(ip + 4);
        if (ip_len == 40 || ip[6] != TL__IPPROTO_TCP) return WALK();
        pkt->ip_version = 6;
        pkt->src.family = pkt->dst.family = 6;
        memcpy(pkt->src.bytes, ip + 8, 16);
        memcpy(pkt->dst.bytes, ip + 24, 16);
        pkt->ttl = ip[7];
    } else {
        return WALK();
    }
    pkt->ip_len = ip_len;
    pkt->ip_hlen = ip_hlen;

    /* The segment is what the IP length claims, as far as it was captured
     * (Ethernet pads short frames). */
    uint32_t seg_len = ip_len - ip_hlen;
    tl_cursor seg = tl_cur_sub(&c, seg_len);
    uint32_t cap = (uint32_t)tl_cur_remaining(&seg);
    if (cap < 20) return WALK();
    const uint8_t *th = seg.p;
    uint32_t tcp_hlen = (uint32_t)(th[12] >> 4) * 4;
    if (tcp_hlen < 20 || tcp_hlen > cap) return WALK(); /* cap <= seg_len */
#undef WALK

    if (reason) *reason = TL_REASON_NONE;
    tl__tcp_fixed_header(th, pkt);
    pkt->tcp_hlen = tcp_hlen;
    pkt->payload_len = seg_len - tcp_hlen;
    pkt->payload = th + tcp_hlen;
    pkt->payload_caplen = cap - tcp_hlen;
    /* NOP,NOP,timestamp is nearly every segment with options. */
    if (tcp_hlen == 20) return TL_DECODE_OK;
    if (tcp_hlen != 32 || tl__be32(th + 20) != 0x0101080au)
        return plain_options(linktype, data, caplen, pkt, reason);
    pkt->opt.ts_val = tl__be32(th + 24);
    pkt->opt.ts_ecr = tl__be32(th + 28);
    pkt->opt.present = TL_OPT_TIMESTAMP;
    return TL_DECODE_OK;
}

static TL__ALWAYS_INLINE tl_decode_result decode_one(int linktype, const uint8_t *data,
                                                     uint32_t caplen, bool verify_cksum,
                                                     tl_packet *pkt, tl_decode_reason *reason)
{
    /* Checksums are verified by the walk only. */
    if (verify_cksum || data == NULL)
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
