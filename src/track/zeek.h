/* zeek.h -- Zeek-compatible connection accounting (conn_state, history,
 * sizes), as Zeek's TCP analyzer computes them. Internal to src/track/.
 *
 * No I/O; the only allocation is a connection's out-of-order blocks while
 * some are held (rare). The tracker owns one tl_zeek per connection and
 * calls, in this order:
 *
 *   tl_zeek_init(z, first_ts);
 *   flip = tl_zeek_first_packet_flips(z, first);   // who is the originator
 *   per segment:  tl_zeek_segment(z, is_orig, p, ts)      (checksum ok)
 *           or tl_zeek_bad_checksum(z, is_orig)   (dropped: Zeek's default)
 *   tl_zeek_finish(z, &record);
 *
 * Times are kept as nanoseconds after z->start, the first packet's time
 * given to tl_zeek_init. A caller that has that offset already (the
 * tracker keeps its own from the same time) passes it to the _at forms:
 * one subtraction of times a packet, not three.
 *
 * `is_orig` is always relative to the roles decided by
 * tl_zeek_first_packet_flips(): true when the packet's source is the
 * originator chosen there. Zeek may still swap the roles later (a SYN that
 * arrives after the SYN-ACK it answers); the module keeps that internally and
 * tl_zeek_finish() reports the final roles, swapping the addresses given.
 *
 * Connection splitting (Zeek's rules, see tl_zeek_is_new_conn and
 * tl_zeek_expired): before feeding a packet to an existing connection, the
 * tracker should end the connection and start a new one when either says so.
 */
#ifndef TL_TRACK_ZEEK_H
#define TL_TRACK_ZEEK_H

#include "tcplens/packet.h"
#include "tcplens/sink.h"
#include "util/time_inline.h"

/* Zeek's idle timeouts in nanoseconds: udp_inactivity_timeout, which
 * applies until the handshake is over, and tcp_inactivity_timeout. */
#define TL_ZK_HANDSHAKE_IDLE_NS (60 * 1000000000LL)
#define TL_ZK_TCP_IDLE_NS (300 * 1000000000LL)

/* Zeek's endpoint states (TCP_Endpoint.h), in Zeek's order. */
typedef enum tl_zeek_state {
    TL_ZK_INACTIVE = 0,  /* nothing seen from this side */
    TL_ZK_SYN_SENT,      /* SYN seen, no ACK */
    TL_ZK_SYN_ACK_SENT,  /* SYN-ACK seen from the originator, no SYN */
    TL_ZK_PARTIAL,       /* data seen, no SYN */
    TL_ZK_ESTABLISHED,
    TL_ZK_CLOSED,        /* FIN seen */
    TL_ZK_RESET,         /* RST seen */
} tl_zeek_state;

/* "scaled" history letters: c (checksum), t (retransmit), w (zero window). */
enum { TL_ZK_SC_CHK, TL_ZK_SC_RXMT, TL_ZK_SC_WIN0, TL_ZK_SC_GAP, TL_ZK_SC_COUNT };

/* Out-of-order data held by the reassembly model, relative sequence space;
 * up to TL_ZK_MAX_BLOCKS per endpoint, allocated when the first is held. */
#define TL_ZK_MAX_BLOCKS 6
typedef struct tl_zeek_block {
    uint64_t seq, upper;
} tl_zeek_block;

/* One endpoint's per-segment state (72 bytes). Flags are bit-fields and
 * times 8-byte offsets: the tracker holds one tl_zeek per connection, tens of
 * thousands at once, and the bytes per connection decide its memory
 * (measured). What only SYN, FIN and RST segments or rare letters touch is
 * in tl_zeek_ep_hist, apart: the two endpoints' tl_zeek_ep and the header
 * before them are three cache lines (conn.h). */
typedef struct tl_zeek_ep {
    uint8_t state, prev_state;
    uint8_t n_blocks;            /* held blocks (in tl_zeek.blocks) */
    bool did_close : 1;          /* Zeek has reported this side closed */
    bool fin_seen : 1;           /* a FIN was sent (Zeek's FIN_cnt > 0) */
    uint32_t last_seq, ack_seq;  /* one past the highest seq sent; highest ack received */
    uint32_t seq_wraps, ack_wraps;
    uint32_t start_seq;          /* the ISN, or one before a partial side's first seq */
    uint64_t pkts, ip_bytes;     /* conn_size analyzer */
    uint64_t reassem, trim;      /* contiguous data delivered up to; acked up to */
    uint64_t fin_seq;            /* relative seq one past the FIN */
    uint64_t missed;             /* bytes in content gaps ('G') */
} tl_zeek_ep;

/* One endpoint's history bookkeeping (40 bytes), beside tl_zeek_ep. */
typedef struct tl_zeek_ep_hist {
    uint64_t last_syn, last_fin, last_rst;  /* relative seqs of the last S/H, F, R */
    uint32_t sc_cnt[TL_ZK_SC_COUNT];        /* scaled letters' counts */
} tl_zeek_ep_hist;

/* History letters kept in place while short (the usual case: 8 to 15
 * letters), in a heap buffer of TL_HISTORY_MAX once longer. */
#define TL_ZK_HIST_INLINE 16

typedef struct tl_zeek {
    /* What every segment reads (the expiry check, the fast path) first,
     * then the endpoints' per-segment fields: three cache lines in all
     * where tl_conn puts them (measured: fewer lines per packet). */
    tl_time start;               /* the first packet's time, which times below count from
                                  * (read only to rebuild a time: the tracker passes offsets) */
    /* nanoseconds after start (exact; INT64_MAX: no expire check pending) */
    int64_t last;                /* Zeek's last_time */
    int64_t next_timer;          /* the earliest of delete_at, attempt_at, expire_at and
                                  * the idle deadline (or earlier: tl__zk_update_next_timer) */
    tl_zeek_block *blocks;       /* [TL_ZK_MAX_BLOCKS] per endpoint while some are held, else NULL */
    uint32_t hist_seen;          /* Zeek's once-only history mask (resp << 16) */
    uint8_t hist_len;
    uint8_t first_seen;          /* 1 orig, 2 resp: first packet seen (Zeek's roles) */
    uint8_t fast_sides;          /* tl_zeek_segment's fast path: see update_fast_sides */
    bool swapped : 1;            /* Zeek flipped roles after the first packet */
    bool is_partial : 1;         /* a side's first packet was not its SYN */
    bool idle_long : 1;          /* handshake over: tcp_inactivity_timeout applies */
    bool have_time : 1;          /* a segment was counted: last is set */
    bool closed_timer : 1;       /* a delete timer is pending (close complete) */
    bool attempt_timer : 1;      /* tcp_attempt_delay timer pending */
    tl_zeek_ep ep[2];            /* [0] originator, [1] responder (Zeek's current roles) */
    tl_zeek_ep_hist eh[2];       /* as ep */
    int64_t delete_at, attempt_at, expire_at;  /* as last; the timers' deadlines */
    union {
        char in[TL_ZK_HIST_INLINE];  /* hist_len < TL_ZK_HIST_INLINE */
        char *heap;                  /* longer: TL_HISTORY_MAX bytes */
    } hist;
    /* per endpoint, next threshold: 10^level (see scaled_history); here
     * rather than in tl_zeek_ep, whose alignment would pad it */
    uint8_t sc_level[2][TL_ZK_SC_COUNT];
} tl_zeek;

/* first: the connection's first packet, counted or not (Zeek's start_time). */
void tl_zeek_init(tl_zeek *z, tl_time first);
/* Frees what the connection holds (blocks above a hole, a long history); z
 * may then be initialised again. Without it, they leak when z goes away. */
void tl_zeek_release(tl_zeek *z);

/* Decide roles on the first packet of a connection: returns true when the
 * originator is the first packet's DESTINATION. Zeek flips when the first
 * packet is a SYN-ACK, or when it is not a SYN and the source port is a
 * likely server port (and the destination port is not, or both are and the
 * source port is the lower one). A flip puts '^' in the history. The
 * addresses are not kept here (the caller's key holds them): see
 * tl_zeek_finish. */
bool tl_zeek_first_packet_flips(tl_zeek *z, const tl_packet *first);

/* One TCP segment with a good (or unchecked) checksum, at t nanoseconds
 * after z->start (tl__time_off(z->start, ts)). */
void tl_zeek_segment_at(tl_zeek *z, bool is_orig, const tl_packet *p, int64_t t);
static inline void tl_zeek_segment(tl_zeek *z, bool is_orig, const tl_packet *p, tl_time ts)
{
    tl_zeek_segment_at(z, is_orig, p, tl__time_off(z->start, ts));
}

/* A segment Zeek discarded for its bad checksum: only 'C'/'c' in history
 * (1, 10, 100... times), no counters, no state. */
void tl_zeek_bad_checksum(tl_zeek *z, bool is_orig);

/* Zeek's reuse rule (TCPSessionAdapter::IsReuse) for a packet on an existing
 * connection: true when the packet starts a new connection. Only a SYN can:
 * a SYN (or, while the originator was never seen, a SYN-ACK) after either
 * side has closed (FIN or RST reported), or while open with an initial
 * sequence number different from the one this connection started with. The
 * direction does not matter to Zeek. */
bool tl__zeek_syn_is_new_conn(const tl_zeek *z, const tl_packet *p);  /* the SYN case */
static inline bool tl_zeek_is_new_conn(const tl_zeek *z, bool is_orig, const tl_packet *p)
{
    (void)is_orig;  /* Zeek's rule does not look at the direction */
    return (p->flags & TL_TH_SYN) && tl__zeek_syn_is_new_conn(z, p);  /* inline: most are not SYNs */
}

/* Zeek's timers: true when Zeek would have removed the connection before a
 * packet at `now` (5 s after a complete close or a reset, 5 s after an
 * unanswered SYN, 1 min idle during the handshake, 5 min idle after, and the
 * periodic expire check of half-closed connections). Advances the periodic
 * timer, hence not const. Call before tl_zeek_is_new_conn. */
bool tl__zeek_expired_full(tl_zeek *z, int64_t t_now);  /* the idle or due case */
/* The same at t_now nanoseconds after z->start. */
static inline bool tl_zeek_expired_at(tl_zeek *z, int64_t t_now)
{
    /* Inline for nearly every packet: before every pending timer and the
     * idle deadline, which next_timer holds both of (measured: 48 -> 17
     * Ir/packet; the idle deadline in next_timer, h10m: 9 fewer here, 3.5
     * more in the fast path, 739.1 -> 733.7 M). Without a time yet,
     * next_timer is INT64_MAX: false, as Zeek would. */
    if (t_now < z->next_timer) return false;
    return tl__zeek_expired_full(z, t_now);
}
static inline bool tl_zeek_expired(tl_zeek *z, tl_time now)
{
    return tl_zeek_expired_at(z, tl__time_off(z->start, now));
}

/* Zeek's conn_state code for the current endpoint states ("SF", "S0", ...). */
const char *tl_zeek_conn_state(const tl_zeek *z);

/* On entry r->orig_h/orig_p/resp_h/resp_p hold the roles decided by
 * tl_zeek_first_packet_flips (originator = the first packet's source, or its
 * destination when that returned true); they are swapped when Zeek flipped
 * the roles later, so r ends with the final roles. Fills conn_state, history,
 * orig/resp pkts, bytes (by sequence space), ip_bytes and missed_bytes into
 * r. Also replaces r->duration by Zeek's (last_time - r->ts, where last_time
 * stops once both sides closed, so a final ACK does not count); r->ts must
 * hold the first packet's time. */
void tl_zeek_finish(const tl_zeek *z, tl_conn_record *r);

/* True when `port` is in Zeek's default likely_server_ports for TCP. */
bool tl_zeek_likely_server_port(uint16_t port);

#endif
