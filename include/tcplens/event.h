/* event.h -- stage 4 of the pipeline: named things that happened.
 *
 * Every event kind has a stable name (JSON "event", test assertions) and a
 * one-sentence explanation, both kept in one table (src/event/event_table.c).
 * Events are produced by the tracker and handed to sinks; a tl_event is
 * borrowed and valid only during the sink callback.
 */
#ifndef TCPLENS_EVENT_H
#define TCPLENS_EVENT_H

#include "tcplens/tcplens.h"

typedef enum tl_event_kind {
    TL_EV_HANDSHAKE = 0,
    TL_EV_SIMULTANEOUS_OPEN,
    TL_EV_REFUSED,
    TL_EV_SYN_RETRANSMIT,
    TL_EV_DATA,
    TL_EV_ACK,
    TL_EV_FIN,
    TL_EV_HALF_CLOSE,
    TL_EV_CLOSE_4WAY,
    TL_EV_CLOSE_3WAY,
    TL_EV_SIMULTANEOUS_CLOSE,
    TL_EV_RST_ABORT,
    TL_EV_RST_CLOSED_SOCKET,
    TL_EV_RST_UNREAD_DATA,
    TL_EV_TIME_WAIT,
    /* Wireshark's TCP analysis set */
    TL_EV_RETRANSMISSION,
    TL_EV_FAST_RETRANSMISSION,
    TL_EV_SPURIOUS_RETRANSMISSION,
    TL_EV_OUT_OF_ORDER,
    TL_EV_PREVIOUS_SEGMENT_NOT_CAPTURED,
    TL_EV_ACK_UNSEEN_SEGMENT,
    TL_EV_DUP_ACK,
    TL_EV_ZERO_WINDOW,
    TL_EV_WINDOW_FULL,
    TL_EV_WINDOW_UPDATE,
    TL_EV_ZERO_WINDOW_PROBE,
    TL_EV_KEEP_ALIVE,
    TL_EV_KEEP_ALIVE_ACK,
    /* identity */
    TL_EV_PORT_REUSED,
    TL_EV_COALESCED,       /* lab only */
    /* capture problems */
    TL_EV_MALFORMED,       /* decode failed; detail names the reason */
    TL_EV_EVICTED,         /* connection evicted by --max-conns / idle timeout */
    TL_EV_COUNT
} tl_event_kind;

/* Who an event is about. */
typedef enum tl_role {
    TL_ROLE_NONE = 0,
    TL_ROLE_CLIENT,
    TL_ROLE_SERVER,
} tl_role;

const char *tl_role_name(tl_role r);   /* "client", "server", "" */

/* Stable name ("close_3way") and the fixed one-sentence explanation. */
const char *tl_event_name(tl_event_kind k);
const char *tl_event_explain(tl_event_kind k);
/* Inverse of tl_event_name; returns TL_EV_COUNT when unknown. */
tl_event_kind tl_event_parse(const char *name);
/* True for the kinds Wireshark lists under tcp.analysis (shown per packet). */
bool tl_event_is_analysis(tl_event_kind k);

typedef struct tl_event {
    tl_event_kind kind;
    tl_time ts;
    uint64_t n;          /* packet number that caused it (0 = none, e.g. end of capture) */
    uint32_t conn;       /* connection number, 0 = none */
    tl_role by;          /* endpoint that did it */
    const char *text;    /* explanation with this event's numbers filled in (borrowed) */
    double value;        /* kind-specific number (RTT, backoff interval, ...), NAN if none */
} tl_event;

#endif
