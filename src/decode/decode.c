/* decode.c -- tl_decode(): link layer, then IP, then TCP; result and
 * reason names.
 *
 * The only per-packet clearing is of the tl_packet itself; every stage
 * reads through one bounds-checked cursor over [data, data + caplen).
 */
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

tl_decode_result tl_decode(int linktype, const uint8_t *data, uint32_t caplen,
                           bool verify_cksum, tl_packet *pkt, tl_decode_reason *reason)
{
    static const uint8_t empty[1];
    /* Copying a zero packet compiles to plain vector stores; memset of
     * this size becomes `rep stos`, whose start-up cost was a tenth of
     * the decode time. */
    static const tl_packet zero_pkt;
    tl_decode_reason ignored;
    if (reason == NULL) reason = &ignored;
    *reason = TL_REASON_NONE;
    *pkt = zero_pkt;
    if (data == NULL) { /* NULL + 0 is undefined; read nothing instead */
        data = empty;
        caplen = 0;
    }

    tl_cursor c = tl_cursor_make(data, caplen);
    tl__l3 l3 = TL__L3_OTHER;
    tl_decode_result res = tl__decode_link(linktype, &c, pkt, &l3, reason);
    if (res != TL_DECODE_OK) return res;
    if (l3 == TL__L3_OTHER) return TL_DECODE_NOT_TCP;
    return tl__decode_ip(l3, &c, verify_cksum, pkt, reason);
}
