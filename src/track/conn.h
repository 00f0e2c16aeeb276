/* conn.h -- one tracked connection (internal to src/track/).
 *
 * Roles are indices: 0 = client (Zeek's originator), 1 = server. `client_dir`
 * maps the key's direction bit to the role, so a packet's sender role is
 * dir ^ client_dir. Sub-modules keep their own per-connection state: fsm
 * (RFC states and lifecycle), zeek (conn.log), and beside tl_conn,
 * analysis (Wireshark flags, and with them tshark's relative sequence bases
 * and window scaling).
 * The list links (active/finished order) live in the tracker's separate
 * tl_conn_link array: moving a connection to the list's tail then touches
 * 8-byte neighbours, not two other connections (measured). The analysis
 * state is in a third array, allocated only when the sink shows analysis
 * (sink.h no_analysis): 88 bytes less per connection for the connection
 * table and conn.log.
 *
 * Size matters: the tracker holds tens of thousands at once (every open
 * connection and every closed one for 5 s after), so times after the first
 * are 8-byte offsets, flags are bits, the addresses live only in the key and
 * the event list is packed.
 */
#ifndef TL_TRACK_CONN_H
#define TL_TRACK_CONN_H

#include "tcplens/sink.h"
#include "track/analysis.h"
#include "track/conn_key.h"
#include "track/fsm.h"
#include "track/zeek.h"

#define TL_NIL UINT32_MAX

/* Event kinds a connection has shown, in order of first occurrence: a mask
 * and 5-bit codes (41 bytes as an array of kinds, 24 so). */
#define TL_CONN_EV_BITS 5

#define TL_CONN_LINE 64
_Static_assert(TL_EV_COUNT <= 32, "event kinds fit the mask and 5-bit codes");

/* 512 bytes, in a pool aligned to cache lines (tracker.c). A plain segment
 * reads 5 of its 8 lines: the first (key, times), the three of Zeek's
 * header and per-segment endpoint fields, and the state machines' line;
 * the rest is read on SYN, FIN and RST segments, rare letters and records.
 * (Measured: a slot of 520 bytes at any 8-byte offset spanned seven.) */
typedef struct tl_conn {
    tl_conn_key key;
    uint8_t client_dir : 1;    /* key direction bit of client-sent packets */
    bool in_use : 1;
    bool finished : 1;         /* fsm says the connection is over */
    /* kinds in ev_seen: a count, not a popcount (without -mpopcnt that is
     * a libgcc call, 2 Ir/packet on h10m) */
    uint8_t n_ev_kinds;
    int64_t last_ns;           /* nanoseconds after the first packet (zk.start) */
    /* the tracker's count of segments at this connection's last one:
     * orders connections whose last packets have the same time */
    uint32_t last_order;
    /* lines 1 to 3: per segment; 4 and 5: not. Its start is the
     * connection's first packet time, kept only there. */
    _Alignas(TL_CONN_LINE) tl_zeek zk;
    tl_fsm fsm;                /* line 6 */
    /* per connection or per event, not per segment */
    uint32_t retransmissions;
    uint32_t ev_seen;          /* 1 << kind for each kind seen */
    int64_t finished_ns;       /* nanoseconds after the first packet */
    double handshake_rtt;
    uint8_t ev_order[(TL_EV_COUNT * TL_CONN_EV_BITS + 7) / 8];
    uint32_t id;               /* 1-based, in order of first packet */
} tl_conn;

/* The lines a plain segment reads, for the tracker's prefetches. */
#define TL_CONN_ZEEK_LINE (offsetof(tl_conn, zk) / TL_CONN_LINE)
#define TL_CONN_FSM_LINE (offsetof(tl_conn, fsm) / TL_CONN_LINE)
/* And those a SYN, FIN or RST reads too: Zeek's history and timers, then
 * the state machines' rare fields with the connection's event list. */
#define TL_CONN_ZEEK_RARE_LINE (offsetof(tl_conn, zk.eh) / TL_CONN_LINE)
#define TL_CONN_TAIL_LINE (offsetof(tl_conn, retransmissions) / TL_CONN_LINE)
_Static_assert(sizeof(tl_conn) == 8 * TL_CONN_LINE, "a connection is 8 whole cache lines");
_Static_assert(offsetof(tl_conn, zk) == TL_CONN_LINE &&
                   offsetof(tl_conn, zk.eh) <= (TL_CONN_ZEEK_LINE + 3) * TL_CONN_LINE,
               "Zeek's per-segment fields are lines 1 to 3");
_Static_assert(offsetof(tl_conn, fsm) % TL_CONN_LINE == 0 &&
                   offsetof(tl_fsm, ep[1].last_ack) + 4 <= TL_CONN_LINE,
               "the state machines' per-segment fields are one line");
_Static_assert(offsetof(tl_conn, zk) + sizeof(tl_zeek) <= (TL_CONN_ZEEK_RARE_LINE + 2) * TL_CONN_LINE &&
                   TL_CONN_TAIL_LINE == TL_CONN_FSM_LINE + 1 &&
                   offsetof(tl_conn, fsm) + sizeof(tl_fsm) <= (TL_CONN_TAIL_LINE + 1) * TL_CONN_LINE,
               "Zeek's rare fields are the two lines after its per-segment ones, and "
               "the state machines' rest is in the last line");

#endif
