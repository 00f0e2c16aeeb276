/* decode_link.c -- link-layer headers: Ethernet (802.1Q/802.1ad/QinQ tags,
 * 802.2 SNAP, PPPoE session, MPLS), Linux cooked SLL and SLL2, raw IP, and
 * BSD loopback (NULL, LOOP).
 *
 * References: IEEE 802.1Q (C-tag 0x8100, S-tag 0x88a8), RFC 1042 (SNAP),
 * RFC 2516 (PPPoE), RFC 3032 (MPLS label stack), libpcap's linktypes list
 * (https://www.tcpdump.org/linktypes.html) for SLL, SLL2, NULL and LOOP.
 */
#include "decode/decode_int.h"

/* ARPHRD_NETLINK: SLL's protocol field is then a netlink family, not an
 * ethertype (libpcap pcap-linux.c, Wireshark packet-sll.c). */
#define TL__ARPHRD_NETLINK 824

/* BSD address-family values for IPv6 differ per OS: 24 NetBSD/OpenBSD/
 * BSD/OS, 28 FreeBSD/DragonFly, 30 Darwin. AF_INET is 2 everywhere. */
static tl__l3 bsd_af_to_l3(uint32_t af)
{
    switch (af) {
    case 2: return TL__L3_IPV4;
    case 24: case 28: case 30: return TL__L3_IPV6;
    default: return TL__L3_OTHER;
    }
}

static tl_decode_result link_truncated(tl_decode_reason *reason)
{
    *reason = TL_REASON_LINK_TRUNCATED;
    return TL_DECODE_TRUNCATED;
}

/* The byte after an MPLS label stack carries no type; like tcpdump and
 * Wireshark, guess from the IP version nibble (0 would be a pseudowire
 * control word, which is not IP). */
static tl_decode_result mpls(tl_cursor *c, tl__l3 *l3, tl_decode_reason *reason)
{
    for (;;) {
        uint32_t entry = tl_rd_u32be(c);
        if (c->truncated) return link_truncated(reason);
        if (entry & 0x100u) break; /* bottom of stack */
    }
    tl_cursor peek = *c;
    uint8_t v = tl_rd_u8(&peek) >> 4;
    if (peek.truncated) return link_truncated(reason);
    *l3 = v == 4 ? TL__L3_IPV4 : v == 6 ? TL__L3_IPV6 : TL__L3_OTHER;
    return TL_DECODE_OK;
}

/* Follows an ethertype through tags and encapsulations to the network
 * layer. Every iteration consumes at least four bytes, so it ends. */
static tl_decode_result ethertype(uint16_t et, tl_cursor *c, tl_packet *pkt,
                                  tl__l3 *l3, tl_decode_reason *reason)
{
    for (;;) {
        switch (et) {
        case TL__ETH_IPV4:
            *l3 = TL__L3_IPV4;
            return TL_DECODE_OK;
        case TL__ETH_IPV6:
            *l3 = TL__L3_IPV6;
            return TL_DECODE_OK;
        case TL__ETH_VLAN:
        case TL__ETH_QINQ:
        case TL__ETH_QINQ_OLD:
        case TL__ETH_QINQ_OLD2: {
            uint16_t tci = tl_rd_u16be(c);
            et = tl_rd_u16be(c);
            if (c->truncated) return link_truncated(reason);
            /* Outermost tags first; deeper ones are walked but not kept. */
            if (pkt->n_vlan < 2) pkt->vlan[pkt->n_vlan++] = tci & 0x0fffu;
            continue;
        }
        case TL__ETH_PPPOE_SESS: {
            tl_cur_skip(c, 6); /* ver/type, code, session id, length */
            uint16_t proto = tl_rd_u16be(c);
            if (c->truncated) return link_truncated(reason);
            *l3 = proto == 0x0021 ? TL__L3_IPV4 : proto == 0x0057 ? TL__L3_IPV6 : TL__L3_OTHER;
            return TL_DECODE_OK;
        }
        case TL__ETH_MPLS:
        case TL__ETH_MPLS_MC:
            return mpls(c, l3, reason);
        default:
            break;
        }
        if (et <= 1500) {
            /* 802.3 length field: only LLC/SNAP with a zero OUI carries an
             * ethertype on (RFC 1042); other LLC frames are not IP. */
            uint8_t dsap = tl_rd_u8(c), ssap = tl_rd_u8(c);
            if (c->truncated) return link_truncated(reason);
            if (dsap == 0xaa && ssap == 0xaa) {
                uint8_t ctl = tl_rd_u8(c);
                uint32_t oui = ((uint32_t)tl_rd_u8(c) << 16) | tl_rd_u16be(c);
                uint16_t next = tl_rd_u16be(c);
                if (c->truncated) return link_truncated(reason);
                if (ctl == 0x03 && oui == 0) {
                    et = next;
                    continue;
                }
            }
        }
        *l3 = TL__L3_OTHER;
        return TL_DECODE_OK;
    }
}

static tl_decode_result ether(tl_cursor *c, tl_packet *pkt, tl__l3 *l3,
                              tl_decode_reason *reason)
{
    const uint8_t *h = tl_cur_take(c, 14); /* destination, source MAC, type */
    if (h == NULL) return link_truncated(reason);
    return ethertype(tl__be16(h + 12), c, pkt, l3, reason);
}

/* Linux cooked v1: packet type, ARPHRD, address length, 8 address bytes,
 * protocol. */
static tl_decode_result sll(tl_cursor *c, tl_packet *pkt, tl__l3 *l3,
                            tl_decode_reason *reason)
{
    tl_cur_skip(c, 2);
    uint16_t hatype = tl_rd_u16be(c);
    tl_cur_skip(c, 10);
    uint16_t proto = tl_rd_u16be(c);
    if (c->truncated) return link_truncated(reason);
    if (hatype == TL__ARPHRD_NETLINK) {
        *l3 = TL__L3_OTHER;
        return TL_DECODE_OK;
    }
    return ethertype(proto, c, pkt, l3, reason);
}

/* Linux cooked v2: protocol, reserved, interface index, ARPHRD, packet
 * type, address length, 8 address bytes. */
static tl_decode_result sll2(tl_cursor *c, tl_packet *pkt, tl__l3 *l3,
                             tl_decode_reason *reason)
{
    uint16_t proto = tl_rd_u16be(c);
    tl_cur_skip(c, 6);
    uint16_t hatype = tl_rd_u16be(c);
    tl_cur_skip(c, 10);
    if (c->truncated) return link_truncated(reason);
    if (hatype == TL__ARPHRD_NETLINK) {
        *l3 = TL__L3_OTHER;
        return TL_DECODE_OK;
    }
    return ethertype(proto, c, pkt, l3, reason);
}

/* DLT_NULL stores the address family in the capturing host's byte order;
 * a value that only makes sense swapped is read swapped (as libpcap and
 * Wireshark do, so captures moved between machines still decode). */
static tl_decode_result null_link(tl_cursor *c, tl__l3 *l3, tl_decode_reason *reason)
{
    uint32_t le = tl_rd_u32le(c);
    if (c->truncated) return link_truncated(reason);
    uint32_t be = ((le & 0xffu) << 24) | ((le & 0xff00u) << 8) |
                  ((le >> 8) & 0xff00u) | (le >> 24);
    *l3 = bsd_af_to_l3(le <= 0xffffu ? le : be);
    return TL_DECODE_OK;
}

static tl_decode_result loop_link(tl_cursor *c, tl__l3 *l3, tl_decode_reason *reason)
{
    uint32_t af = tl_rd_u32be(c);
    if (c->truncated) return link_truncated(reason);
    *l3 = bsd_af_to_l3(af);
    return TL_DECODE_OK;
}

tl_decode_result tl__decode_link(int linktype, tl_cursor *c, tl_packet *pkt,
                                 tl__l3 *l3, tl_decode_reason *reason)
{
    switch (linktype) {
    case TL__DLT_EN10MB: return ether(c, pkt, l3, reason);
    case TL__DLT_LINUX_SLL: return sll(c, pkt, l3, reason);
    case TL__DLT_LINUX_SLL2: return sll2(c, pkt, l3, reason);
    case TL__DLT_RAW:
    case TL__LINKTYPE_RAW:
        *l3 = TL__L3_IP_ANY;
        return TL_DECODE_OK;
    case TL__DLT_IPV4:
        *l3 = TL__L3_IPV4;
        return TL_DECODE_OK;
    case TL__DLT_IPV6:
        *l3 = TL__L3_IPV6;
        return TL_DECODE_OK;
    case TL__DLT_NULL: return null_link(c, l3, reason);
    case TL__DLT_LOOP: return loop_link(c, l3, reason);
    default:
        *l3 = TL__L3_OTHER;
        *reason = TL_REASON_UNKNOWN_LINKTYPE;
        return TL_DECODE_NOT_TCP;
    }
}
