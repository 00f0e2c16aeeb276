/* tracker_int.h -- the tracker's state, shared by tracker.c (the feed,
 * connections, records) and expiry.c (when connections are ended: the
 * active and finished lists in idle order, sweeps, --max-conns eviction).
 * Internal to src/track/. What runs for every packet is inline here.
 */
#ifndef TL_TRACK_TRACKER_INT_H
#define TL_TRACK_TRACKER_INT_H

#include "tcplens/tracker.h"
#include "track/conn.h"
#include "track/table.h"
#include "util/compiler.h"
#include "util/time_inline.h"

/* Doubly linked list of slot indices, oldest first. The active list is in
 * idle order only to within an idle bucket (see touch_active). */
typedef struct conn_list {
    uint32_t head, tail;
} conn_list;

/* A slot's neighbours in the active or finished list; the free list is
 * chained through .next. Kept apart from tl_conn (see conn.h). */
typedef struct tl_conn_link {
    uint32_t prev, next;
} tl_conn_link;

/* An idle connection found by sweep_idle: its last packet's time and
 * place in the order of segments (tl_conn.last_order). */
typedef struct idle_conn {
    tl_time last;
    uint32_t order, slot;
} idle_conn;

struct tl_tracker {
    tl_tracker_config cfg;
    tl_sink sink;
    tl_table table;
    tl_conn *conns;            /* slot pool (pool_resize) */
    uint32_t pool_cap;         /* slots mapped at conns; >= cap */
    tl_conn_link *links;       /* list links of each slot */
    tl_analysis *an;           /* analysis state of each slot; NULL without analysis */
    uint32_t an_cap;           /* slots mapped at an (pool_resize) */
    uint32_t cap, free_head;   /* free slots chained through links[].next */
    uint32_t used;             /* slots [0, used) were ever handed out */
    conn_list active, finished;
    uint32_t live;             /* connections in the table */
    uint32_t next_id;
    uint8_t idle_shift;        /* idle buckets are 2^idle_shift ns (touch_active) */
    bool exact_order;          /* the active list is in exact idle order (tl__make_active_exact) */
    uint32_t segments_fed;     /* for tl_conn.last_order */
    idle_conn *idle;           /* sweep_idle's gathering, kept for the next sweep */
    uint32_t idle_cap;
    tl_time last_sweep;
    int64_t sweep_sec;         /* no sweep due before this second: see tl__set_last_sweep */
    bool have_time;
    bool analysis;             /* the sink shows Wireshark's analysis (sink.h) */
    tl_stats stats;
};

/* tracker.c: writes slot s's record, then frees the slot. */
void tl__tracker_finalize(tl_tracker *tr, uint32_t s, bool evicted, tl_time now);

/* expiry.c */
void tl__expiry_init(tl_tracker *tr);   /* after cfg.idle_timeout is set */
bool tl__second_passed(tl_time last, tl_time now);
void tl__set_last_sweep(tl_tracker *tr, tl_time now);
/* Ends the connections that lingered 5 s after closing or went idle. */
void tl__sweep(tl_tracker *tr, tl_time now);
void tl__make_active_exact(tl_tracker *tr);
void tl__list_remove(tl_tracker *tr, conn_list *l, uint32_t s);
void tl__list_append(tl_tracker *tr, conn_list *l, uint32_t s);

static inline tl_time conn_first_ts(const tl_conn *c) { return c->zk.start; }
static inline tl_time conn_last(const tl_conn *c) { return tl__time_at(conn_first_ts(c), c->last_ns); }

/* tl__list_remove + tl__list_append for a slot of l, in one pass
 * (touch_active). */
static inline void list_move_to_tail(tl_tracker *tr, conn_list *l, uint32_t s)
{
    if (s == l->tail) return;
    tl_conn_link *c = &tr->links[s];
    if (c->prev != TL_NIL) tr->links[c->prev].next = c->next; else l->head = c->next;
    tr->links[c->next].prev = c->prev;   /* not the tail: a next exists */
    tr->links[l->tail].next = s;
    c->prev = l->tail;
    c->next = TL_NIL;
    l->tail = s;
}

/* A packet of the connection in slot s, at t ns after its first. The
 * active list keeps connections in idle order to within an idle bucket
 * (sweep_idle finds the exact order): a connection moves to the tail at
 * its first packet in a bucket of its own time, not at every packet.
 * That move reads and writes three links at random, the slot's and its
 * neighbours' (perf on h10m: 3 % of the run on those loads), and with
 * buckets of 4.3 s 1.3 % of h10m's packets make one. Once --max-conns
 * has had to evict, every packet moves its connection
 * (tl__make_active_exact). */
static inline void touch_active(tl_tracker *tr, tl_conn *c, uint32_t s, int64_t t)
{
    bool new_bucket = ((uint64_t)(t ^ c->last_ns) >> tr->idle_shift) != 0;
    c->last_ns = t;
    c->last_order = tr->segments_fed++;
    if ((new_bucket || tr->exact_order) && !c->finished) list_move_to_tail(tr, &tr->active, s);
}

/* A second of capture time since the last sweep: one compare for nearly
 * every frame (see tl__set_last_sweep). */
static inline bool sweep_due(const tl_tracker *tr, tl_time now)
{
    if (now.sec < tr->sweep_sec && now.nsec < 1000000000) return false;
    return tl__second_passed(tr->last_sweep, now);
}

/* The whole of slot s, asked for ahead of tl__tracker_finalize(), which
 * reads every line to write the record; the slot's list link too. */
static TL__ALWAYS_INLINE void prefetch_slot(const tl_tracker *tr, uint32_t s)
{
    const char *c = (const char *)&tr->conns[s];
    for (size_t at = 0; at < sizeof(tl_conn); at += TL_CONN_LINE) __builtin_prefetch(c + at);
    __builtin_prefetch(&tr->links[s]);
}

#endif
