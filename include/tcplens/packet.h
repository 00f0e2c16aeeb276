/* packet.h -- stage 2 of the pipeline: decoding a frame into a TCP segment.
 *
 * tl_decode() reads one link-layer frame through the bounds-checked cursor
 * (src/util/cursor.h) and fills a host-order tl_packet. It never reads past
 * caplen and never allocates. The packet borrows the frame's bytes
 * (payload pointer), so it is valid as long as the frame is.
 *
 * Lengths come from the IP header, not from caplen: a capture cut short by a
 * snap length still yields true payload lengths.
 */
#ifndef TCPLENS_PACKET_H
#define TCPLENS_PACKET_H

#include "tcplens/source.h"
#include "tcplens/tcplens.h"

/* TCP flag bits as in the header (byte 13) plus NS... we keep the 8 bits. */
enum {
    TL_TH_FIN = 0x01,
    TL_TH_SYN = 0x02,
    TL_TH_RST = 0x04,
    TL_TH_PSH = 0x08,
    TL_TH_ACK = 0x10,
    TL_TH_URG = 0x20,
    TL_TH_ECE = 0x40,
    TL_TH_CWR = 0x80,
};

typedef enum tl_decode_result {
    TL_DECODE_OK = 0,        /* a TCP segment; tl_packet filled */
    TL_DECODE_NOT_TCP,       /* valid frame, but not TCP (ARP, UDP, ...) */
    TL_DECODE_FRAGMENT,      /* IP fragment: counted, not reassembled */
    TL_DECODE_TRUNCATED,     /* caplen ended before the TCP header did */
    TL_DECODE_MALFORMED,     /* a header contradicts itself; see reason */
} tl_decode_result;

/* Why a frame was not decoded as a TCP segment. Names: tl_decode_reason_name. */
typedef enum tl_decode_reason {
    TL_REASON_NONE = 0,
    TL_REASON_UNKNOWN_LINKTYPE,
    TL_REASON_LINK_TRUNCATED,
    TL_REASON_IP_TRUNCATED,
    TL_REASON_IP_VERSION,        /* version nibble is not 4/6 or disagrees with link */
    TL_REASON_IPV4_IHL,          /* IHL < 5 */
    TL_REASON_IPV4_TOTAL_LEN,    /* total length shorter than the IP header */
    TL_REASON_IPV4_OPTIONS,      /* options running past the header */
    TL_REASON_IPV6_EXT,          /* extension header chain malformed */
    TL_REASON_TCP_TRUNCATED,
    TL_REASON_TCP_DATA_OFFSET,   /* data offset < 5 or beyond the segment */
    TL_REASON_TCP_OPTIONS,       /* an option runs past the header or len < 2 */
    TL_REASON_COUNT
} tl_decode_reason;

const char *tl_decode_reason_name(tl_decode_reason r);
const char *tl_decode_result_name(tl_decode_result r);

typedef struct tl_addr {
    uint8_t family;     /* 4 or 6 */
    uint8_t bytes[16];  /* IPv4 uses the first 4 */
} tl_addr;

/* Formats into buf (at least 46 bytes); returns buf. */
char *tl_addr_format(const tl_addr *a, char *buf, size_t buflen);
bool tl_addr_equal(const tl_addr *a, const tl_addr *b);

#define TL_MAX_SACK 4
#define TL_MAX_UNKNOWN_OPTS 8

enum {
    TL_OPT_MSS = 1u << 0,
    TL_OPT_WSCALE = 1u << 1,
    TL_OPT_SACK_PERM = 1u << 2,
    TL_OPT_SACK = 1u << 3,
    TL_OPT_TIMESTAMP = 1u << 4,
};

typedef struct tl_tcp_options {
    uint32_t present;          /* TL_OPT_* bits */
    uint16_t mss;
    uint8_t wscale;            /* shift as sent (may exceed 14; tshark shows it raw) */
    uint32_t ts_val, ts_ecr;
    uint8_t n_sack;
    uint32_t sack[TL_MAX_SACK][2];  /* raw left/right edges */
    uint8_t n_unknown;
    struct { uint8_t kind, len; } unknown[TL_MAX_UNKNOWN_OPTS];
} tl_tcp_options;

typedef enum tl_cksum_status {
    TL_CKSUM_UNCHECKED = 0,  /* not verified (not asked, or not fully captured) */
    TL_CKSUM_GOOD,
    TL_CKSUM_BAD,
} tl_cksum_status;

typedef struct tl_packet {
    /* link */
    uint8_t n_vlan;
    uint16_t vlan[2];
    /* IP */
    uint8_t ip_version;     /* 4 or 6 */
    tl_addr src, dst;
    uint8_t ttl;            /* TTL / hop limit */
    uint32_t ip_len;        /* IPv4 total length; IPv6 40 + payload length */
    uint32_t ip_hlen;       /* IPv4 IHL*4; IPv6 40 + extension headers */
    bool ip_options;        /* IPv4 had options */
    /* TCP */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;          /* TL_TH_* */
    uint16_t win;           /* raw window field */
    uint16_t urg_ptr;
    uint16_t cksum;
    uint32_t tcp_hlen;      /* data offset * 4 */
    uint32_t payload_len;   /* from IP lengths, not caplen */
    const uint8_t *payload; /* captured payload bytes (borrowed) */
    uint32_t payload_caplen;/* how many payload bytes were captured */
    tl_tcp_options opt;
    tl_cksum_status cksum_status;
} tl_packet;

/* Decode a frame of the given DLT. On TL_DECODE_OK, *pkt is complete. For
 * other results, *reason says why (TL_REASON_NONE for NOT_TCP/FRAGMENT) and
 * *pkt holds whatever was decoded before the problem (addresses when known).
 * If verify_cksum is true and the whole segment was captured, cksum_status is
 * set to GOOD or BAD. */
tl_decode_result tl_decode(int linktype, const uint8_t *data, uint32_t caplen,
                           bool verify_cksum, tl_packet *pkt, tl_decode_reason *reason);

/* A frame as decoded: what tl_decode() returned and wrote, kept together
 * so a batch of frames can be decoded before the tracker takes them. */
typedef struct tl_decoded {
    tl_packet pkt;
    tl_decode_result res;
    tl_decode_reason reason;
} tl_decoded;

/* Decodes fs[0..n) into out[0..n), as tl_decode() each: the pipeline's
 * loop, one call per batch. */
void tl_decode_frames(const tl_frame *fs, int n, bool verify_cksum, tl_decoded *out);

/* Parse TCP options from [opts, opts+len). Returns false when malformed
 * (length < 2 or running past the end); what was parsed before is kept. */
bool tl_decode_tcp_options(const uint8_t *opts, uint32_t len, tl_tcp_options *out);

#endif
