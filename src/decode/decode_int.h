/* decode_int.h -- interfaces between the decode stage's files.
 *
 * The stages hand each other a cursor positioned at the next header. Every
 * function fills what it learns into the caller's tl_packet, stores a reason
 * on failure, and returns a tl_decode_result.
 */
#ifndef TL_DECODE_INT_H
#define TL_DECODE_INT_H

#include "tcplens/packet.h"
#include "util/cursor.h"

#include <stddef.h>
#include <string.h>

/* Link-layer type values (libpcap DLT_* / LINKTYPE_*), spelled out so the
 * decoder does not depend on pcap headers. */
enum {
    TL__DLT_NULL = 0,
    TL__DLT_EN10MB = 1,
    TL__DLT_RAW = 12,
    TL__LINKTYPE_RAW = 101,
    TL__DLT_LOOP = 108,
    TL__DLT_LINUX_SLL = 113,
    TL__DLT_IPV4 = 228,
    TL__DLT_IPV6 = 229,
    TL__DLT_LINUX_SLL2 = 276,
};

/* Ethertypes the link decoders act on. */
enum {
    TL__ETH_IPV4 = 0x0800,
    TL__ETH_IPV6 = 0x86dd,
    TL__ETH_VLAN = 0x8100,      /* 802.1Q C-tag */
    TL__ETH_QINQ = 0x88a8,      /* 802.1ad S-tag */
    TL__ETH_QINQ_OLD = 0x9100,  /* pre-standard QinQ */
    TL__ETH_QINQ_OLD2 = 0x9200,
    TL__ETH_PPPOE_SESS = 0x8864,
    TL__ETH_MPLS = 0x8847,
    TL__ETH_MPLS_MC = 0x8848,
};

/* What the link layer says follows it. */
typedef enum tl__l3 {
    TL__L3_OTHER = 0,  /* not IP */
    TL__L3_IPV4,       /* IPv4 announced: version nibble must be 4 */
    TL__L3_IPV6,       /* IPv6 announced: version nibble must be 6 */
    TL__L3_IP_ANY,     /* raw IP: the version nibble decides */
} tl__l3;

#define TL__IPPROTO_TCP 6

#include "util/compiler.h"

/* A fixed-size header is read through one bounds check and its fields
 * taken at constant offsets: the same safety as reading field by field, a
 * fraction of the branches. Returns the next n bytes in place and sets
 * *got = n when they were all captured; otherwise copies what was captured
 * into spare (n bytes) with the rest zeroed, marks the cursor truncated,
 * sets *got to the count captured and returns spare. */
size_t tl__grab_short(tl_cursor *c, uint8_t *spare, size_t n);

static inline const uint8_t *tl__grab(tl_cursor *c, uint8_t *spare, size_t n, size_t *got)
{
    if (tl_cur_has(c, n)) {
        *got = n;
        return tl_cur_take(c, n);
    }
    *got = tl__grab_short(c, spare, n);
    return spare;
}

static inline uint16_t tl__be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t tl__be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Little-endian GCC or clang: adjacent fields are read and written as one
 * word where measured to pay (tl__tcp_fixed_header, decode.c plain_tcp). */
#ifndef TL__LE_WORDS
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TL__LE_WORDS 1
#else
#define TL__LE_WORDS 0
#endif
#endif

/* The fixed 20 bytes of a TCP header at h (the caller checked they are
 * there), for the one-pass decode and the TCP stage alike. */
static inline void tl__tcp_fixed_header(const uint8_t *h, tl_packet *pkt)
{
#if TL__LE_WORDS
    /* Adjacent fields in one load, byte swap and store each: ports (one
     * byte swap, then the halves swapped back), seq and ack likewise, the
     * urgent pointer and checksum (reversed in tl_packet: one byte swap).
     * 7 of the one pass's 117 instructions per frame. */
    _Static_assert(offsetof(tl_packet, dport) == offsetof(tl_packet, sport) + 2, "ports");
    _Static_assert(offsetof(tl_packet, ack) == offsetof(tl_packet, seq) + 4, "seq, ack");
    _Static_assert(offsetof(tl_packet, cksum) == offsetof(tl_packet, urg_ptr) + 2, "urg, cksum");
    unsigned char *b = (unsigned char *)pkt;
    uint32_t ports, urg_cksum;
    uint64_t seq_ack;
    memcpy(&ports, h, 4);
    ports = __builtin_bswap32(ports);
    ports = ports << 16 | ports >> 16;
    memcpy(b + offsetof(tl_packet, sport), &ports, 4);
    memcpy(&seq_ack, h + 4, 8);
    seq_ack = __builtin_bswap64(seq_ack);
    seq_ack = seq_ack << 32 | seq_ack >> 32;
    memcpy(b + offsetof(tl_packet, seq), &seq_ack, 8);
    _Static_assert(offsetof(tl_packet, win) == offsetof(tl_packet, flags) + 2, "flags, win");
    uint16_t flags = h[13]; /* and the padding after it: decode.c plain_clear */
    memcpy(b + offsetof(tl_packet, flags), &flags, 2);
    pkt->win = tl__be16(h + 14);
    memcpy(&urg_cksum, h + 16, 4);
    urg_cksum = __builtin_bswap32(urg_cksum);
    memcpy(b + offsetof(tl_packet, urg_ptr), &urg_cksum, 4);
#else
    pkt->sport = tl__be16(h);
    pkt->dport = tl__be16(h + 2);
    pkt->seq = tl__be32(h + 4);
    pkt->ack = tl__be32(h + 8);
    pkt->flags = h[13];
    pkt->win = tl__be16(h + 14);
    pkt->cksum = tl__be16(h + 16);
    pkt->urg_ptr = tl__be16(h + 18);
#endif
}

/* Pseudo-header facts the TCP stage needs to verify the checksum. */
typedef struct tl__pseudo {
    bool verify;       /* caller asked and the IP length is trustworthy */
    uint32_t sum;      /* un-folded one's complement sum of the pseudo-header */
} tl__pseudo;

/* decode.c: the layer by layer walk tl_decode falls back to for frames
 * other than the common layout; *pkt must be zeroed and data not NULL. Tests
 * compare it with tl_decode. */
tl_decode_result tl__decode_layers(int linktype, const uint8_t *data, uint32_t caplen,
                                   bool verify_cksum, tl_packet *pkt, tl_decode_reason *reason);

/* decode_link.c: consume the link header of linktype, set *l3. */
tl_decode_result tl__decode_link(int linktype, tl_cursor *c, tl_packet *pkt,
                                 tl__l3 *l3, tl_decode_reason *reason);

/* decode_ip.c: IP header(s) then TCP. c is positioned at the IP header. */
tl_decode_result tl__decode_ip(tl__l3 l3, tl_cursor *c, bool verify_cksum,
                               tl_packet *pkt, tl_decode_reason *reason);

/* decode_tcp.c: the TCP header at c. seg_len is the segment length the IP
 * layer declares; c covers at most that many bytes (fewer if not captured). */
tl_decode_result tl__decode_tcp(tl_cursor *c, uint32_t seg_len, const tl__pseudo *ph,
                                tl_packet *pkt, tl_decode_reason *reason);

/* decode_tcp.c: the TCP options in o, which covers exactly the option
 * bytes, into *out (zeroed by the caller). False when malformed, with what
 * came before the bad option kept. */
bool tl__parse_tcp_options(tl_cursor o, tl_tcp_options *out);

/* checksum.c: RFC 1071 one's complement arithmetic. tl__cksum_add returns
 * sum plus the 16-bit big-endian words of [p, p+len) (an odd tail byte is
 * padded with zero); tl__cksum_fold folds and complements. */
uint32_t tl__cksum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t tl__cksum_fold(uint32_t sum);

#endif
