/* track_out.h -- what the tracker's sub-modules report for one segment.
 *
 * fsm.c (endpoint states, close kinds) and analysis.c (Wireshark-style
 * flags) append to one tl_track_out per packet; tracker.c turns it into
 * sink calls (state records, events, the packet's analysis list). Internal.
 */
#ifndef TL_TRACK_OUT_H
#define TL_TRACK_OUT_H

#include "tcplens/event.h"
#include "tcplens/tcp_state.h"

#define TL_OUT_MAX_CHANGES 8
#define TL_OUT_MAX_EVENTS 12

typedef struct tl_track_change {
    tl_role endpoint;
    tl_tcp_state from, to;
} tl_track_change;

typedef struct tl_track_event {
    tl_event_kind kind;
    tl_role by;
    double value;        /* NAN when the kind carries no number */
} tl_track_event;

typedef struct tl_track_out {
    uint8_t n_changes;
    uint8_t n_events;
    tl_track_change changes[TL_OUT_MAX_CHANGES];
    tl_track_event events[TL_OUT_MAX_EVENTS];
} tl_track_out;

static inline void tl_track_out_reset(tl_track_out *o)
{
    o->n_changes = 0;
    o->n_events = 0;
}

static inline void tl_track_out_change(tl_track_out *o, tl_role ep, tl_tcp_state from,
                                       tl_tcp_state to)
{
    if (o->n_changes < TL_OUT_MAX_CHANGES) {
        tl_track_change c = {ep, from, to};
        o->changes[o->n_changes++] = c;
    }
}

static inline void tl_track_out_event(tl_track_out *o, tl_event_kind k, tl_role by, double value)
{
    if (o->n_events < TL_OUT_MAX_EVENTS) {
        tl_track_event e = {k, by, value};
        o->events[o->n_events++] = e;
    }
}

#endif
