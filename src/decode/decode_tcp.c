/* decode_tcp.c -- the TCP header and its options.
 *
 * RFC 9293 section 3.1 (header, data offset, options: EOL, NOP, MSS),
 * RFC 7323 (window scale, timestamps), RFC 2018 (SACK-permitted, SACK).
 *
 * An option other than EOL and NOP needs 2 <= length <= the bytes left;
 * anything else is malformed and parsing stops there, keeping what came
 * before (tcpdump print-tcp.c, Linux tcp_parse_options). An option with a
 * known kind but the wrong length is kept as unknown (kind, length), which
 * is how Wireshark shows it ("option length should be N").
 */
#include <string.h>

#include "decode/decode_int.h"

enum {
    TL__TCPOPT_EOL = 0,
    TL__TCPOPT_NOP = 1,
    TL__TCPOPT_MSS = 2,
    TL__TCPOPT_WSCALE = 3,
    TL__TCPOPT_SACK_PERM = 4,
    TL__TCPOPT_SACK = 5,
    TL__TCPOPT_TIMESTAMP = 8,
};

static void keep_unknown(tl_tcp_options *out, uint8_t kind, uint8_t len)
{
    if (out->n_unknown >= TL_MAX_UNKNOWN_OPTS) return;
    out->unknown[out->n_unknown].kind = kind;
    out->unknown[out->n_unknown].len = len;
    out->n_unknown++;
}

/* o covers exactly the option bytes. A later copy of an option replaces an
 * earlier one, as the Linux receiver does. Each option is taken whole
 * through one bounds check and read at constant offsets (as tl__grab does
 * for headers): half the instructions of reading it field by field. */
bool tl__parse_tcp_options(tl_cursor o, tl_tcp_options *out)
{
    while (tl_cur_has(&o, 1)) {
        uint8_t kind = o.p[0];
        if (kind == TL__TCPOPT_EOL) return true; /* the rest is padding */
        if (kind == TL__TCPOPT_NOP) {
            o.p++;
            continue;
        }
        if (!tl_cur_has(&o, 2)) return false; /* no room for the length */
        uint8_t len = o.p[1];
        if (len < 2) return false;
        const uint8_t *v = tl_cur_take(&o, len); /* kind, length, value */
        if (v == NULL) return false;
        switch (kind) {
        case TL__TCPOPT_MSS:
            if (len != 4) break;
            out->mss = tl__be16(v + 2);
            out->present |= TL_OPT_MSS;
            continue;
        case TL__TCPOPT_WSCALE:
            if (len != 3) break;
            out->wscale = v[2];
            out->present |= TL_OPT_WSCALE;
            continue;
        case TL__TCPOPT_SACK_PERM:
            if (len != 2) break;
            out->present |= TL_OPT_SACK_PERM;
            continue;
        case TL__TCPOPT_SACK: {
            if (len < 10 || (len - 2) % 8 != 0) break;
            uint8_t n = (uint8_t)((len - 2) / 8);
            if (n > TL_MAX_SACK) n = TL_MAX_SACK; /* 40 option bytes hold at most 4 */
            for (uint8_t i = 0; i < n; i++) {
                out->sack[i][0] = tl__be32(v + 2 + 8 * i);
                out->sack[i][1] = tl__be32(v + 6 + 8 * i);
            }
            out->n_sack = n;
            out->present |= TL_OPT_SACK;
            continue;
        }
        case TL__TCPOPT_TIMESTAMP:
            if (len != 10) break;
            out->ts_val = tl__be32(v + 2);
            out->ts_ecr = tl__be32(v + 6);
            out->present |= TL_OPT_TIMESTAMP;
            continue;
        default:
            break;
        }
        keep_unknown(out, kind, len);
    }
    return true;
}

bool tl_decode_tcp_options(const uint8_t *opts, uint32_t len, tl_tcp_options *out)
{
    memset(out, 0, sizeof *out);
    if (opts == NULL || len == 0) return true;
    return tl__parse_tcp_options(tl_cursor_make(opts, len), out);
}

static tl_decode_result fail(tl_decode_reason *reason, tl_decode_result res,
                             tl_decode_reason why)
{
    *reason = why;
    return res;
}

/* NOP NOP TS is nearly every segment of a connection with timestamps:
 * taken without the general walk (as Linux's tcp_parse_aligned_timestamp
 * does). o covers exactly the option bytes; false = not that layout. */
static bool aligned_timestamp(tl_cursor o, tl_tcp_options *out)
{
    if (tl_cur_remaining(&o) != 12) return false;
    const uint8_t *ts = tl_cur_take(&o, 12);
    if (ts == NULL || tl__be32(ts) != 0x0101080au) return false;
    out->ts_val = tl__be32(ts + 4);
    out->ts_ecr = tl__be32(ts + 8);
    out->present = TL_OPT_TIMESTAMP;
    return true;
}

tl_decode_result tl__decode_tcp(tl_cursor *c, uint32_t seg_len, const tl__pseudo *ph,
                                tl_packet *pkt, tl_decode_reason *reason)
{
    const uint8_t *seg = c->p;
    size_t cap = tl_cur_remaining(c); /* <= seg_len: the IP layer clamped c */
    uint8_t spare[20];
    size_t got;
    const uint8_t *h = tl__grab(c, spare, 20, &got);
    tl__tcp_fixed_header(h, pkt);
    uint32_t hlen = (uint32_t)(h[12] >> 4) * 4;
    pkt->tcp_hlen = hlen;

    /* Lengths the headers declare contradict each other: malformed, even
     * when the capture is short. Bytes merely not captured: truncated. */
    if (seg_len < 20) return fail(reason, TL_DECODE_MALFORMED, TL_REASON_TCP_DATA_OFFSET);
    if (got > 12 && (hlen < 20 || hlen > seg_len))
        return fail(reason, TL_DECODE_MALFORMED, TL_REASON_TCP_DATA_OFFSET);
    if (got < 20 || cap < hlen)
        return fail(reason, TL_DECODE_TRUNCATED, TL_REASON_TCP_TRUNCATED);

    if (hlen > 20) {
        tl_cursor o = tl_cur_sub(c, hlen - 20);
        if (!aligned_timestamp(o, &pkt->opt) && !tl__parse_tcp_options(o, &pkt->opt))
            return fail(reason, TL_DECODE_MALFORMED, TL_REASON_TCP_OPTIONS);
    }

    pkt->payload_len = seg_len - hlen;
    pkt->payload = seg + hlen;
    pkt->payload_caplen = (uint32_t)(cap - hlen);

    if (ph->verify && cap == seg_len) {
        uint32_t sum = tl__cksum_add(ph->sum, seg, seg_len);
        pkt->cksum_status = tl__cksum_fold(sum) == 0 ? TL_CKSUM_GOOD : TL_CKSUM_BAD;
    }
    return TL_DECODE_OK;
}
