/* analysis.h -- Wireshark's TCP sequence analysis flags (tcp.analysis.*),
 * one small state per connection.
 *
 * The definitions follow Wireshark's packet-tcp.c (tcp_analyze_sequence_number
 * and the bookkeeping dissect_tcp does around it: window scale from the SYN
 * options, the initial RTT of the handshake, "is first ACK"), so that a
 * packet gets the flags tshark shows for it. Pure: no I/O, no allocation;
 * the caller owns the tl_analysis (88 bytes) and calls
 * tl_analysis_segment() once per TCP segment of the connection, in capture
 * order. Internal to the tracker.
 */
#ifndef TL_TRACK_ANALYSIS_H
#define TL_TRACK_ANALYSIS_H

#include <stdint.h>

#include "tcplens/packet.h"
#include "track/track_out.h"

/* What one direction (one sender) has shown so far; field names follow
 * Wireshark's tcp_flow / tcp_analyze_seq_flow_info_t. */
typedef struct tl_analysis_dir {
    int64_t nextseq_ns;        /* capture time when nextseq last advanced */
    int64_t lastack_ns;        /* capture time of this sender's last segment */
    uint32_t nextseq;          /* highest seq + len (+1 for SYN/FIN) seen; 0 = none yet */
    uint32_t maxseqtobeacked;  /* end of the contiguous data seen; 0 = none yet */
    uint32_t lastack;          /* this sender's last ACK number */
    uint32_t base_seq;         /* ISN (or seq - 1 when picked up mid-stream) */
    uint16_t window;           /* this sender's last raw window (TL_AD_WINDOW when set) */
    uint16_t last_flags;       /* analysis bits of this sender's last segment */
    int16_t dupacks;           /* duplicate ACKs in a row; -1 after an ACKed unseen segment */
    int8_t win_scale;          /* shift; -1 unknown, -2 no scaling in use */
    uint8_t bits;              /* internal state bits */
} tl_analysis_dir;

typedef struct tl_analysis {
    tl_analysis_dir d[2];      /* 0 = client -> server, 1 = server -> client */
    /* Until the handshake RTT is known, the time of the most recent SYN
     * without ACK (0 = none); then the RTT (first pure ACK - SYN), which
     * nothing after reads the SYN's time for. One field: 8 bytes less per
     * connection. Which one: TL_AD_RTT_KNOWN in analysis.c. */
    int64_t syn_or_rtt_ns;
} tl_analysis;

void tl_analysis_init(tl_analysis *a);

/* Analyse one segment sent in direction dir (0 = client -> server, 1 =
 * server -> client) at capture time ts. Appends one tl_track_event per flag
 * (kind TL_EV_RETRANSMISSION ... TL_EV_KEEP_ALIVE_ACK, by = TL_ROLE_CLIENT for
 * dir 0 else TL_ROLE_SERVER, value = the duplicate-ACK number for
 * TL_EV_DUP_ACK, NAN otherwise) to out.
 *
 * Window scaling: the module follows Wireshark's own bookkeeping from the
 * Window Scale options it sees (so flags match tshark even where the tracker
 * decides otherwise). win_scale is the tracker's view of the sender's shift
 * (-1 unknown, -2 none in use) and is taken only for a direction whose scale
 * no segment has settled (e.g. picked up mid-stream); tshark keeps -1 there. */
void tl_analysis_segment(tl_analysis *a, int dir, const tl_packet *p, tl_time ts,
                         int win_scale, tl_track_out *out);

/* tshark's relative-sequence base of direction dir: the ISN, or seq - 1 (or
 * the peer's ack - 1) when picked up mid-stream. Valid after a segment. */
static inline uint32_t tl_analysis_base_seq(const tl_analysis *a, int dir)
{
    return a->d[dir].base_seq;
}

/* tshark's tcp.window_size for segment p, just analysed in direction dir:
 * SYNs and directions without a known shift carry the raw window. */
static inline int64_t tl_analysis_win_scaled(const tl_analysis *a, int dir, const tl_packet *p)
{
    int shift = a->d[dir].win_scale;
    if ((p->flags & TL_TH_SYN) || shift < 0) return p->win;
    return (int64_t)p->win << shift;
}

/* The same connection seen with client and server swapped. */
static inline void tl_analysis_swap(tl_analysis *a)
{
    tl_analysis_dir t = a->d[0];
    a->d[0] = a->d[1];
    a->d[1] = t;
}

#endif
