/* expiry.c -- when the tracker ends connections: 5 s after they closed
 * (Zeek's tcp_close_delay), after the idle timeout, and at --max-conns.
 * Keeps the active list in idle order to within an idle bucket (see
 * touch_active in tracker_int.h) and finds the exact order when it
 * matters: the idle ones of a sweep, the victim of an eviction.
 */
#include <stdlib.h>

#include "track/tracker_int.h"

#define LINGER_AFTER_CLOSE 5.0 /* Zeek's tcp_close_delay: late ACKs/RSTs still belong */

/* Doubly linked lists of slots (tracker_int.h). */
void tl__list_remove(tl_tracker *tr, conn_list *l, uint32_t s)
{
    tl_conn_link *c = &tr->links[s];
    if (c->prev != TL_NIL) tr->links[c->prev].next = c->next; else l->head = c->next;
    if (c->next != TL_NIL) tr->links[c->next].prev = c->prev; else l->tail = c->prev;
    c->prev = c->next = TL_NIL;
}

void tl__list_append(tl_tracker *tr, conn_list *l, uint32_t s)
{
    tl_conn_link *c = &tr->links[s];
    c->next = TL_NIL;
    c->prev = l->tail;
    if (l->tail != TL_NIL) tr->links[l->tail].next = s; else l->head = s;
    l->tail = s;
}

/* Idle buckets of at most an eighth of the timeout, and of at most 2^32 ns
 * (4.3 s): a sweep walks the connections idle for between the timeout less
 * one bucket and the timeout (sweep_idle). */
void tl__expiry_init(tl_tracker *tr)
{
    tr->idle_shift = 0;
    while (tr->idle_shift < 32 &&
           (double)(1ull << (tr->idle_shift + 1)) <= tr->cfg.idle_timeout * 1e9 / 8)
        tr->idle_shift++;
}

static int by_age(const void *a, const void *b, void *ctx)
{
    const tl_tracker *tr = ctx;
    /* segments since each one's last: the counter may have wrapped */
    uint32_t x = tr->segments_fed - tr->conns[*(const uint32_t *)a].last_order;
    uint32_t y = tr->segments_fed - tr->conns[*(const uint32_t *)b].last_order;
    return (x < y) - (x > y);
}

/* --max-conns evicts the connection whose last packet is the oldest, the
 * head of an active list in exact order. The first time, the list is put
 * in the order of the connections' last packets, and from then on every
 * packet moves its connection. Without memory for the sort the list stays
 * in order to within an idle bucket. */
void tl__make_active_exact(tl_tracker *tr)
{
    tr->exact_order = true;
    /* live counts the finished ones too: enough room for the active */
    uint32_t n = 0, *order = tr->live ? malloc((size_t)tr->live * sizeof *order) : NULL;
    if (!order) return;
    for (uint32_t s = tr->active.head; s != TL_NIL; s = tr->links[s].next) order[n++] = s;
    qsort_r(order, n, sizeof *order, by_age, tr);
    tr->active.head = tr->active.tail = TL_NIL;
    for (uint32_t i = 0; i < n; i++) tl__list_append(tr, &tr->active, order[i]);
    free(order);
}

/* tl__time_diff(last, now) >= 1.0 without doubles, the same verdict for
 * any tl_time (nsec may exceed 1e9 in a crafted capture): the difference
 * in whole nanoseconds against 1e9. Past a few seconds either way the
 * nanoseconds (< 2^32) cannot change it. */
bool tl__second_passed(tl_time last, tl_time now)
{
    int64_t ds = (int64_t)((uint64_t)now.sec - (uint64_t)last.sec);
    if (ds > 5 || ds < -5) return ds > 0;
    return ds * 1000000000 + ((int64_t)now.nsec - (int64_t)last.nsec) >= 1000000000;
}

/* With a normalised time (nsec < 1e9, as every capture format gives
 * unless crafted), no second has passed while the frame's second is below
 * last.sec + 1: then one compare per frame decides (sweep_due;
 * tl__second_passed() costs 12 Ir). Otherwise every frame takes the exact
 * test. */
void tl__set_last_sweep(tl_tracker *tr, tl_time now)
{
    tr->last_sweep = now;
    tr->sweep_sec = now.nsec < 1000000000 && now.sec < INT64_MAX ? now.sec + 1 : INT64_MIN;
}

/* A sweep ends connections in list order, each long untouched: without
 * asking ahead, each waited for its lines, then for its table entry
 * (perf on h10m: 3 % of the run in sweep and tl_table_remove, nearly all
 * of it on those loads). So the connection two ahead is asked for, and
 * the table entry of the next one, whose key has arrived by then. */
static TL__ALWAYS_INLINE void prefetch_expiry(const tl_tracker *tr, uint32_t s)
{
    uint32_t next = tr->links[s].next;
    if (next == TL_NIL) return;
    uint64_t h = tl_conn_key_hash(&tr->conns[next].key, tr->cfg.hash_seed);
    __builtin_prefetch(&tr->table.e[(uint32_t)h & tr->table.mask]);
    uint32_t after = tr->links[next].next;
    if (after != TL_NIL) prefetch_slot(tr, after);
}

static int by_last(const void *a, const void *b)
{
    const idle_conn *x = a, *y = b;
    int c = tl__time_cmp(x->last, y->last);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static bool reserve_idle(tl_tracker *tr, uint32_t n)
{
    if (n < tr->idle_cap) return true;
    uint32_t cap = tr->idle_cap ? tr->idle_cap * 2 : 64;
    idle_conn *g = cap > tr->idle_cap ? realloc(tr->idle, (size_t)cap * sizeof *g) : NULL;
    if (!g) return false;
    tr->idle = g;
    tr->idle_cap = cap;
    return true;
}

/* Ends the active connections idle for longer than the timeout, in the
 * order of their last packets, as an exact idle order would list them.
 * The active list is in order of each connection's last move to its
 * tail, and a connection's last packet came less than one idle bucket
 * after that move (touch_active): behind a connection idle for no more
 * than the timeout less a bucket, none is idle for longer than the
 * timeout, and the walk stops there. The idle ones are gathered first:
 * tl__tracker_finalize unlinks them. Without memory for that, each is
 * ended where it is found. */
static void sweep_idle(tl_tracker *tr, tl_time now)
{
    const double timeout = tr->cfg.idle_timeout;
    const double none_behind = timeout - (double)(1ull << tr->idle_shift) / 1e9 - 1e-6;
    uint32_t n = 0;
    for (uint32_t s = tr->active.head, next; s != TL_NIL; s = next) {
        next = tr->links[s].next;
        tl_time last = conn_last(&tr->conns[s]);
        double idle = tl__time_diff(last, now);
        if (idle <= none_behind) break;
        if (idle <= timeout) continue;
        if (reserve_idle(tr, n))
            tr->idle[n++] = (idle_conn){last, tr->conns[s].last_order, s};
        else
            tl__tracker_finalize(tr, s, true, now);
    }
    if (n > 1) qsort(tr->idle, n, sizeof *tr->idle, by_last);   /* tr->idle may be NULL */
    for (uint32_t i = 0; i < n; i++) {
        if (i + 2 < n) prefetch_slot(tr, tr->idle[i + 2].slot);
        tl__tracker_finalize(tr, tr->idle[i].slot, true, now);
    }
}

/* Expire connections that ended LINGER seconds ago or went idle. */
void tl__sweep(tl_tracker *tr, tl_time now)
{
    while (tr->finished.head != TL_NIL &&
           tl__time_diff(tl__time_at(conn_first_ts(&tr->conns[tr->finished.head]),
                                     tr->conns[tr->finished.head].finished_ns), now) > LINGER_AFTER_CLOSE) {
        prefetch_expiry(tr, tr->finished.head);
        tl__tracker_finalize(tr, tr->finished.head, false, now);
    }
    sweep_idle(tr, now);
    tl__set_last_sweep(tr, now);
}
