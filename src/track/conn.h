/* conn.h -- one tracked connection (internal to src/track/).
 *
 * Roles are indices: 0 = client (Zeek's originator), 1 = server. `client_dir`
 * maps the key's direction bit to the role, so a packet's sender role is
 * dir ^ client_dir. Sub-modules keep their own per-connection state: fsm
 * (RFC states and lifecycle), analysis (Wireshark flags, and with them
 * tshark's relative sequence bases and window scaling), zeek (conn.log).
 * The list links (active/finished order) live in the tracker's separate
 * tl_conn_link array: moving a connection to the list's tail then touches
 * 8-byte neighbours, not two other 1 KB connections (measured).
 */
#ifndef TL_TRACK_CONN_H
#define TL_TRACK_CONN_H

#include "tcplens/sink.h"
#include "track/analysis.h"
#include "track/conn_key.h"
#include "track/fsm.h"
#include "track/zeek.h"

#define TL_NIL UINT32_MAX

typedef struct tl_conn {
    /* what every packet reads first: key (lookup), times, flags */
    tl_conn_key key;
    uint8_t client_dir;        /* key direction bit of client-sent packets */
    bool in_use;
    bool finished;             /* fsm says the connection is over */
    uint8_t n_events;
    uint32_t id;               /* 1-based, in order of first packet */
    tl_time first_ts, last_ts, finished_ts;
    tl_fsm fsm;
    tl_analysis an;
    tl_zeek zk;
    double handshake_rtt;
    uint32_t retransmissions;
    uint8_t events[TL_MAX_CONN_EVENTS];
} tl_conn;

#endif
