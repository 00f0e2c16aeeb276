/* sink.h -- stage 5 of the pipeline: where results go.
 *
 * A sink is a vtable plus its context. The tracker calls it with borrowed
 * records valid only during the call. Sinks write to a FILE * their creator
 * passed in, never straight to stdout. A sink may hold a few KiB of output
 * while that FILE is fully buffered on a descriptor (it would not reach
 * the reader sooner anyway); it hands everything over at finish and free,
 * and hands over each line at once when the FILE is line-buffered,
 * unbuffered or in memory. Implementations: text, json, zeek,
 * conns table, ladder, html (src/sink/), and a fan-out "tee" sink.
 */
#ifndef TCPLENS_SINK_H
#define TCPLENS_SINK_H

#include <stdio.h>
#include "tcplens/tcplens.h"
#include "tcplens/packet.h"
#include "tcplens/source.h"
#include "tcplens/tcp_state.h"
#include "tcplens/event.h"

/* How a connection began / ended (SPEC 2.4). Names: tl_open_kind_name etc. */
typedef enum tl_open_kind {
    TL_OPEN_NONE = 0,          /* nothing seen yet that decides it */
    TL_OPEN_HANDSHAKE,
    TL_OPEN_SIMULTANEOUS_OPEN,
    TL_OPEN_MIDSTREAM,
} tl_open_kind;

typedef enum tl_close_kind {
    TL_CLOSE_OPEN = 0,         /* still open when the capture ended */
    TL_CLOSE_4WAY,
    TL_CLOSE_3WAY,
    TL_CLOSE_SIMULTANEOUS,
    TL_CLOSE_RST_ABORT,
    TL_CLOSE_REFUSED,
    TL_CLOSE_SYN_UNANSWERED,
    TL_CLOSE_HALF_CLOSED,
} tl_close_kind;

const char *tl_open_kind_name(tl_open_kind k);   /* "handshake", ... */
const char *tl_close_kind_name(tl_close_kind k); /* "close_4way", ... "open" */

#define TL_MAX_ANALYSIS 6

/* One packet as the tracker saw it. */
typedef struct tl_pkt_view {
    const tl_frame *frame;
    tl_decode_result result;
    tl_decode_reason reason;
    const tl_packet *pkt;       /* meaningful fields when result == OK */
    uint32_t conn;              /* 0 when not part of a connection */
    tl_role from;               /* sender's role */
    uint32_t rel_seq, rel_ack;  /* relative to each direction's ISN (tshark's rules) */
    bool rel_ack_valid;         /* ACK flag set and the peer's ISN is known */
    int64_t win_scaled;         /* window << scale; -1 when the scale is unknown */
    tl_tcp_state client_state, server_state;   /* after this packet */
    tl_tcp_state client_before, server_before; /* before it */
    uint8_t n_analysis;
    tl_event_kind analysis[TL_MAX_ANALYSIS];   /* Wireshark-style flags on this packet;
                                                 * entries past n_analysis are unspecified */
    bool skipped;               /* ignored by the tracker (bad checksum with verify) */
} tl_pkt_view;

typedef struct tl_state_change {
    tl_time ts;
    uint64_t n;
    uint32_t conn;
    tl_role endpoint;
    tl_tcp_state from, to;
} tl_state_change;

#define TL_HISTORY_MAX 64
#define TL_MAX_CONN_EVENTS 40

/* The record of a finished (or evicted, or still open at the end) connection. */
typedef struct tl_conn_record {
    uint32_t conn;
    char uid[20];
    tl_time ts;                 /* first packet */
    double duration;
    tl_addr orig_h, resp_h;
    uint16_t orig_p, resp_p;
    const char *conn_state;     /* Zeek's code: "SF", "S0", "REJ", ... */
    char history[TL_HISTORY_MAX];
    uint64_t orig_pkts, resp_pkts;
    uint64_t orig_bytes, resp_bytes;       /* by sequence space, as Zeek */
    uint64_t orig_ip_bytes, resp_ip_bytes;
    uint64_t missed_bytes;
    tl_open_kind opened;
    tl_close_kind closed;
    tl_role closed_by;          /* who sent the RST / first FIN, NONE when n/a */
    tl_tcp_state client_state, server_state;
    double handshake_rtt;       /* seconds; < 0 when unknown */
    uint32_t retransmissions;
    bool evicted;
    uint8_t n_events;
    tl_event_kind events[TL_MAX_CONN_EVENTS]; /* distinct kinds, in order of first occurrence */
} tl_conn_record;

typedef struct tl_error_record {
    const char *file;
    int64_t offset;             /* -1 unknown */
    uint64_t packet;            /* 0 unknown */
    const char *text;
} tl_error_record;

typedef struct tl_stats {
    uint64_t packets;           /* frames read (after the filter) */
    uint64_t tcp;               /* decoded TCP segments */
    uint64_t other;             /* not TCP */
    uint64_t fragments;         /* IP fragments (not reassembled) */
    uint64_t malformed;         /* sum of by_reason for malformed */
    uint64_t truncated;         /* TCP header cut by the snap length */
    uint64_t by_reason[TL_REASON_COUNT];
    uint64_t bad_checksum;      /* skipped with --checksums=verify */
    uint64_t conns;             /* connections seen */
    uint64_t evicted;           /* connections evicted early */
    uint64_t errors;            /* source errors */
    uint64_t filtered;          /* rejected by the BPF filter */
    uint64_t kernel_dropped, iface_dropped;
    bool has_kernel_stats;
    uint64_t peak_conns;
} tl_stats;

typedef struct tl_sink_ops {
    void (*packet)(void *ctx, const tl_pkt_view *v);
    void (*state)(void *ctx, const tl_state_change *c);
    void (*event)(void *ctx, const tl_event *e);
    void (*conn)(void *ctx, const tl_conn_record *r);
    void (*error)(void *ctx, const tl_error_record *e);
    void (*finish)(void *ctx, const tl_stats *st);
    void (*free)(void *ctx);
    /* Once, with the first frame fed to the tracker whatever its decode
     * result (TCP or not, malformed, skipped), before any other op about
     * that frame: its packet, state changes, events. Only errors reported
     * before any frame come earlier; never called when no frame comes. For
     * sinks that need the capture's start (relative times) but not every
     * packet: a packet op makes the tracker build a view per packet. */
    void (*start)(void *ctx, const tl_frame *first);
    /* True when the sink shows nothing of Wireshark's sequence analysis:
     * no event of kind TL_EV_RETRANSMISSION .. TL_EV_KEEP_ALIVE_ACK, no
     * record's retransmissions or those kinds in its events. Unless the
     * sink also has a packet op (a view carries tshark's relative numbers,
     * which come with the analysis), the tracker then neither computes nor
     * stores it, and records carry none of it. For the connection table and
     * conn.log: read --conns on the first 2 M packets of h10m, 1,033 -> 889
     * Ir/packet, and the analysis state (then 96 bytes) less per connection
     * (measured). */
    bool no_analysis;
    /* True when the sink never reads a record's uid: the tracker leaves it
     * empty rather than derive it (250 instructions per record). */
    bool no_uid;
} tl_sink_ops;

/* Any op may be NULL (ignored). */
typedef struct tl_sink {
    const tl_sink_ops *ops;
    void *ctx;
} tl_sink;

/* Output options shared by the text-like sinks. */
typedef struct tl_output_opts {
    bool abs_time;      /* -tt */
    bool abs_seq;       /* -S */
    bool hex;           /* -x: hex + ASCII */
    bool ascii;         /* -A */
    bool color;
    bool quiet;         /* -q: events only */
    bool conns_only;    /* --conns */
    int ts_digits;      /* 6 or 9 */
} tl_output_opts;

TL_MUST_USE int tl_sink_text_new(tl_sink *out, FILE *fp, const tl_output_opts *o);
TL_MUST_USE int tl_sink_json_new(tl_sink *out, FILE *fp, const tl_output_opts *o);
/* --ladder: a sequence diagram per connection, drawn when it ends. */
TL_MUST_USE int tl_sink_ladder_new(tl_sink *out, FILE *fp, const tl_output_opts *o);
/* --html FILE: one self-contained page (SPEC 3.5) -- per connection a ladder
 * (SVG), state timeline, packet table and click-to-decode. Connections are
 * drawn when their record arrives; the page is completed when the sink is
 * freed. fp stays the caller's to close (after the free). */
TL_MUST_USE int tl_sink_html_new(tl_sink *out, FILE *fp, const tl_output_opts *o);
/* Fan out to n sinks (copied); frees them when freed. */
TL_MUST_USE int tl_sink_tee_new(tl_sink *out, const tl_sink *sinks, size_t n);

static inline void tl_sink_free(tl_sink *s)
{
    if (s->ops && s->ops->free) s->ops->free(s->ctx);
    s->ops = NULL;
    s->ctx = NULL;
}

#endif
