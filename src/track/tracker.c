/* tracker.c -- glue of the track stage: frame -> connection -> sub-modules -> sink.
 *
 * Owns the connection table and slot pool, generations (port reuse),
 * roles, tshark-style relative sequence numbers and window scaling, and
 * the order of sink calls per frame: (start, at the first frame only),
 * packet, state changes, events, finished connection records. When a
 * connection ends for lack of packets or room (max conns, idle timeout,
 * linger after close) is expiry.c's; the state both share is in
 * tracker_int.h.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "track/track_out.h"
#include "track/tracker_int.h"

#define DEFAULT_MAX_CONNS 1000000u
#define DEFAULT_IDLE 300.0   /* Zeek's tcp_inactivity_timeout */

static const tl_conn_key *key_of(void *ctx, uint32_t slot)
{
    tl_tracker *tr = ctx;
    return &tr->conns[slot].key;
}

int tl_tracker_new(tl_tracker **out, const tl_tracker_config *cfg, const tl_sink *sink,
                   char *errbuf)
{
    tl_tracker *tr = calloc(1, sizeof *tr);
    if (!tr) return tl_err(errbuf, TL_ENOMEM, "tracker: out of memory");
    if (cfg) tr->cfg = *cfg;
    if (!tr->cfg.max_conns) tr->cfg.max_conns = DEFAULT_MAX_CONNS;
    if (tr->cfg.idle_timeout <= 0) tr->cfg.idle_timeout = DEFAULT_IDLE;
    tl__expiry_init(tr);
    if (!tr->cfg.hash_seed && getrandom(&tr->cfg.hash_seed, sizeof tr->cfg.hash_seed, 0) < 0)
        tr->cfg.hash_seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
    tr->sink = *sink;
    /* A packet view carries tshark's relative numbers, from the analysis. */
    tr->analysis = !(sink->ops && sink->ops->no_analysis) || (sink->ops && sink->ops->packet);
    tr->active.head = tr->active.tail = TL_NIL;
    tr->finished.head = tr->finished.tail = TL_NIL;
    tr->free_head = TL_NIL;
    tr->next_id = 1;
    if (tl_table_init(&tr->table, 1024, tr->cfg.hash_seed, key_of, tr) < 0) {
        free(tr);
        return tl_err(errbuf, TL_ENOMEM, "tracker: out of memory");
    }
    *out = tr;
    return TL_OK;
}

static void slot_free(tl_tracker *tr, uint32_t s)
{
    tr->links[s].next = tr->free_head;
    tr->free_head = s;
}

/* Per-slot arrays (connections, analysis) in anonymous pages: elements
 * start at a fixed place in their cache lines (malloc's 16-byte offset
 * made half of the 96-byte analysis states of the time span three lines);
 * growing is a remap, no copy, so memory never holds an array twice.
 * Pages never handed out are never touched: memory follows the
 * connections held. */
static void *pool_resize(void *old, size_t elem, uint32_t old_cap, uint32_t cap, bool huge)
{
    size_t old_bytes = (size_t)old_cap * elem, bytes = (size_t)cap * elem;
    void *p = old ? mremap(old, old_bytes, bytes, MREMAP_MAYMOVE)
                  : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    /* Huge pages where the system allows them (THP "madvise") for the
     * connections: every packet reads a random one of tens of MiB, and
     * with 4 KiB pages most of those reads first walk the page tables.
     * Memory then grows by 2 MiB steps. Not for the analysis states, a
     * sixth the size: there the rounding up to 2 MiB was 1.1 MiB of peak
     * RSS on h10m (text and JSON views, 41.6 -> 40.2 MiB), for no time
     * the bench could tell. */
    if (huge) (void)madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

static void pool_free(void *p, size_t elem, uint32_t cap)
{
    if (p) munmap(p, (size_t)cap * elem);
}

/* Freed slots first (most recently freed: still cached), then never used
 * ones. New capacity is not touched until handed out, so memory grows with
 * the peak of connections held, not with the doubled capacity (measured). */
static uint32_t slot_alloc(tl_tracker *tr)
{
    if (tr->free_head != TL_NIL) {
        uint32_t s = tr->free_head;
        tr->free_head = tr->links[s].next;
        return s;
    }
    if (tr->used == tr->cap) {
        uint32_t ncap = tr->cap ? tr->cap * 2 : 1024;
        /* each array may have grown already when a later one failed */
        if (tr->pool_cap < ncap) {
            tl_conn *n = pool_resize(tr->conns, sizeof *n, tr->pool_cap, ncap, true);
            if (!n) return TL_NIL;
            tr->conns = n;
            tr->pool_cap = ncap;
        }
        tl_conn_link *l = realloc(tr->links, (size_t)ncap * sizeof *l);
        if (!l) return TL_NIL;
        tr->links = l;
        if (tr->analysis && tr->an_cap < ncap) {
            tl_analysis *a = pool_resize(tr->an, sizeof *a, tr->an_cap, ncap, false);
            if (!a) return TL_NIL;
            tr->an = a;
            tr->an_cap = ncap;
        }
        tr->cap = ncap;
    }
    return tr->used++;
}

/* ---- emitting ----------------------------------------------------------- */

static tl_role role_of(int r) { return r == 0 ? TL_ROLE_CLIENT : TL_ROLE_SERVER; }

/* Appends kind k's 5-bit code after the codes of the kinds already seen. */
static void remember_event(tl_conn *c, tl_event_kind k)
{
    uint32_t bit = 1u << k;
    if (c->ev_seen & bit) return;
    unsigned pos = TL_CONN_EV_BITS * (unsigned)c->n_ev_kinds;
    unsigned v = (unsigned)k << (pos & 7);
    c->ev_order[pos >> 3] |= (uint8_t)v;
    if (v >> 8) c->ev_order[(pos >> 3) + 1] |= (uint8_t)(v >> 8);
    c->ev_seen |= bit;
    c->n_ev_kinds++;
}

static tl_event_kind event_at(const tl_conn *c, unsigned i)
{
    unsigned pos = TL_CONN_EV_BITS * i, b = pos >> 3;
    unsigned v = c->ev_order[b];
    if (b + 1 < sizeof c->ev_order) v |= (unsigned)c->ev_order[b + 1] << 8;
    return (tl_event_kind)((v >> (pos & 7)) & ((1u << TL_CONN_EV_BITS) - 1));
}

/* The n codes into out: the first twelve from one 64-bit word (the bytes
 * in little-endian order, as remember_event packs the bits), the rest by
 * event_at (h10m -c 1M: ~17 -> ~5 Ir per event). */
static void events_of(const tl_conn *c, tl_event_kind *out, unsigned n)
{
    _Static_assert(sizeof c->ev_order >= 8, "a whole word");
    const uint8_t *e = c->ev_order;   /* written out: gcc makes it one load */
    uint64_t w = (uint64_t)e[0] | (uint64_t)e[1] << 8 | (uint64_t)e[2] << 16 |
                 (uint64_t)e[3] << 24 | (uint64_t)e[4] << 32 | (uint64_t)e[5] << 40 |
                 (uint64_t)e[6] << 48 | (uint64_t)e[7] << 56;
    unsigned i = 0;
    for (; i < n && i < 64 / TL_CONN_EV_BITS; i++, w >>= TL_CONN_EV_BITS)
        out[i] = (tl_event_kind)(w & ((1u << TL_CONN_EV_BITS) - 1));
    for (; i < n; i++) out[i] = event_at(c, i);
}

static void emit_event(tl_tracker *tr, tl_conn *c, const tl_frame *f, tl_time ts,
                       const tl_track_event *te)
{
    if (c) {
        remember_event(c, te->kind);
        if (te->kind == TL_EV_HANDSHAKE && !isnan(te->value)) c->handshake_rtt = te->value;
        if (te->kind == TL_EV_RETRANSMISSION || te->kind == TL_EV_FAST_RETRANSMISSION ||
            te->kind == TL_EV_SPURIOUS_RETRANSMISSION)
            c->retransmissions++;
    }
    if (!tr->sink.ops->event) return;
    tl_event e = {te->kind, ts, f ? f->n : 0, c ? c->id : 0, te->by,
                  tl_event_explain(te->kind), te->value};
    tr->sink.ops->event(tr->sink.ctx, &e);
}

static void emit_changes(tl_tracker *tr, const tl_conn *c, const tl_frame *f,
                         const tl_track_out *o)
{
    if (!o->n_changes || !tr->sink.ops->state) return;  /* nearly every packet: none */
    for (uint8_t i = 0; i < o->n_changes; i++) {
        tl_state_change sc = {f->ts, f->n, c->id, o->changes[i].endpoint, o->changes[i].from,
                              o->changes[i].to};
        tr->sink.ops->state(tr->sink.ctx, &sc);
    }
}

static void fill_uid(char *uid, uint64_t seed, uint32_t id)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t x = seed ^ ((uint64_t)id * 0x9e3779b97f4a7c15ull);
    uid[0] = 'C';
    for (int i = 1; i < 18; i++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 32;
        uid[i] = b62[x % 62];
    }
    uid[18] = '\0';
}

/* Writes the record of slot s and frees it. */
void tl__tracker_finalize(tl_tracker *tr, uint32_t s, bool evicted, tl_time now)
{
    tl_conn *c = &tr->conns[s];
    tl_track_out o;
    tl_track_out_reset(&o);
    tl_fsm_finish(&c->fsm, &o);
    if (evicted) {
        tl_track_event ev = {TL_EV_EVICTED, TL_ROLE_NONE, tl__time_diff(conn_last(c), now)};
        emit_event(tr, c, NULL, now, &ev);
    }
    for (uint8_t i = 0; i < o.n_events; i++) emit_event(tr, c, NULL, now, &o.events[i]);

    /* Not a memset of the whole record (rep stosq: 52 stores, ~56 Ir per
     * record in callgrind). Every field is written below or by
     * tl_zeek_finish (duration too: its value, so none is computed here);
     * uid and the events array are cleared. (16-byte stores by hand for the
     * events were 14 Ir less a record, ~2.8 M for h10m's 200 k: not kept.) */
    tl_conn_record r;
    memset(r.uid, 0, sizeof r.uid);
    memset(r.events, 0, sizeof r.events);
    r.conn = c->id;
    if (!tr->sink.ops->no_uid) fill_uid(r.uid, tr->cfg.hash_seed, c->id);
    r.ts = conn_first_ts(c);
    /* the roles at the first packet; tl_zeek_finish applies a later flip */
    const uint8_t *ca = c->client_dir ? c->key.b : c->key.a, *sa = c->client_dir ? c->key.a : c->key.b;
    r.orig_h.family = r.resp_h.family = c->key.family;
    memcpy(r.orig_h.bytes, ca, 16);
    memcpy(r.resp_h.bytes, sa, 16);
    r.orig_p = c->client_dir ? c->key.pb : c->key.pa;
    r.resp_p = c->client_dir ? c->key.pa : c->key.pb;
    tl_zeek_finish(&c->zk, &r);
    r.opened = c->fsm.opened;
    r.closed = c->fsm.closed;
    r.closed_by = c->fsm.closed_by;
    r.client_state = c->fsm.ep[0].state;
    r.server_state = c->fsm.ep[1].state;
    r.handshake_rtt = c->handshake_rtt;
    r.retransmissions = c->retransmissions;
    r.evicted = evicted;
    r.n_events = c->n_ev_kinds;
    events_of(c, r.events, r.n_events);
    if (tr->sink.ops->conn) tr->sink.ops->conn(tr->sink.ctx, &r);
    if (evicted) tr->stats.evicted++;

    /* the hash is recomputed rather than kept: 8 bytes less per connection */
    tl_table_remove_slot(&tr->table, tl_conn_key_hash(&c->key, tr->cfg.hash_seed), s);
    tl__list_remove(tr, c->finished ? &tr->finished : &tr->active, s);
    tl_zeek_release(&c->zk);
    c->in_use = false;
    c->key.family = 0;   /* matches no packet's probe: conn_of tests no in_use */
    slot_free(tr, s);
    tr->live--;
}

/* ---- connections -------------------------------------------------------- */

#define CONN_ZEEK_END (offsetof(tl_conn, zk) + sizeof(tl_zeek))
#define CONN_FSM_END (offsetof(tl_conn, fsm) + sizeof(tl_fsm))
_Static_assert(CONN_ZEEK_END <= offsetof(tl_conn, fsm), "Zeek's part comes before the state machines'");

static uint32_t conn_new(tl_tracker *tr, const tl_conn_key *k, uint64_t hash, int dir,
                         const tl_packet *p, tl_time ts)
{
    if (tr->live >= tr->cfg.max_conns) {
        if (!tr->exact_order && tr->finished.head == TL_NIL) tl__make_active_exact(tr);
        uint32_t victim = tr->finished.head != TL_NIL ? tr->finished.head : tr->active.head;
        if (victim != TL_NIL) tl__tracker_finalize(tr, victim, tr->finished.head != victim, ts);
    }
    uint32_t s = slot_alloc(tr);
    if (s == TL_NIL || tl_table_insert(&tr->table, hash, s) < 0) {
        if (s != TL_NIL) {
            tr->conns[s].in_use = false;
            slot_free(tr, s);
        }
        return TL_NIL;
    }
    /* The next new connection's slot, asked for now: freed slots are
     * reused last freed first, and a sweep frees thousands at once, so
     * most had left the caches (perf on h10m: 2.5 % of the run waiting in
     * the memset below). */
    if (tr->free_head != TL_NIL) prefetch_slot(tr, tr->free_head);
    tl_conn *c = &tr->conns[s];
    /* Zeroed but for Zeek's and the state machines' parts, which their
     * inits clear whole (tl_zeek_init, tl_fsm_init): not written twice
     * (h10m: conn_new's own 173 -> 108 Ir per connection). */
    char *cb = (char *)c;
    memset(cb, 0, offsetof(tl_conn, zk));
    memset(cb + CONN_ZEEK_END, 0, offsetof(tl_conn, fsm) - CONN_ZEEK_END);
    memset(cb + CONN_FSM_END, 0, sizeof *c - CONN_FSM_END);
    c->in_use = true;
    c->key = *k;
    c->id = tr->next_id++;
    c->handshake_rtt = -1;
    tl_fsm_init(&c->fsm);
    if (tr->analysis) tl_analysis_init(&tr->an[s]);
    /* the connection's first time (conn_first_ts): the tracker's offsets
     * are Zeek's (conn_of) */
    tl_zeek_init(&c->zk, ts);
    /* Zeek decides who the originator is from the first packet. */
    bool flip = tl_zeek_first_packet_flips(&c->zk, p);
    c->client_dir = (uint8_t)(flip ? dir ^ 1 : dir);
    tl__list_append(tr, &tr->active, s);
    tr->live++;
    tr->stats.conns++;
    if (tr->live > tr->stats.peak_conns) tr->stats.peak_conns = tr->live;
    return s;
}

/* The view of a frame for the packet callback; built only when a sink
 * has one. Every field is set, but analysis[] only up to n_analysis (what
 * sinks read): no memset of the whole view per packet. */
static void view_init(tl_pkt_view *v, const tl_frame *f, tl_decode_result res,
                      tl_decode_reason reason, const tl_packet *pkt)
{
    v->frame = f;
    v->result = res;
    v->reason = reason;
    v->pkt = pkt;
    v->conn = 0;
    v->from = TL_ROLE_NONE;
    v->rel_seq = v->rel_ack = 0;
    v->rel_ack_valid = false;
    v->win_scaled = -1;
    v->client_state = v->server_state = TL_ST_UNKNOWN;
    v->client_before = v->server_before = TL_ST_UNKNOWN;
    v->n_analysis = 0;
    v->skipped = false;
}

/* tshark's relative seq/ack and scaled window, from the analysis state. */
static void fill_seq_view(const tl_analysis *an, int role, const tl_packet *p, tl_pkt_view *v)
{
    v->rel_seq = p->seq - tl_analysis_base_seq(an, role);
    v->rel_ack_valid = (p->flags & TL_TH_ACK) != 0;
    v->rel_ack = v->rel_ack_valid ? p->ack - tl_analysis_base_seq(an, role ^ 1) : 0;
    v->win_scaled = tl_analysis_win_scaled(an, role, p);
}

static void add_analysis(tl_pkt_view *v, const tl_track_out *o)
{
    for (uint8_t i = 0; i < o->n_events && v->n_analysis < TL_MAX_ANALYSIS; i++)
        if (tl_event_is_analysis(o->events[i].kind)) v->analysis[v->n_analysis++] = o->events[i].kind;
}

/* The states before the segment, kept for the packet view. */
typedef struct states_before {
    uint8_t client, server;
} states_before;

static void emit_packet(tl_tracker *tr, const tl_frame *f, tl_decode_reason reason,
                        const tl_packet *p, const tl_conn *c, const tl_analysis *an, int role,
                        states_before before, bool skipped, const tl_track_out *o)
{
    tl_pkt_view v;
    view_init(&v, f, TL_DECODE_OK, reason, p);
    v.conn = c->id;
    v.from = role_of(role);
    v.client_before = before.client;
    v.server_before = before.server;
    v.skipped = skipped;
    if (!skipped) {
        fill_seq_view(an, role, p, &v);
        add_analysis(&v, o);
    }
    v.client_state = c->fsm.ep[0].state;
    v.server_state = c->fsm.ep[1].state;
    tr->sink.ops->packet(tr->sink.ctx, &v);
}

/* The server answers a SYN with a SYN of its own before anything else: both
 * opened at once (RFC 9293 3.5, figure 7). Zeek would log a second
 * connection here ("SYN_seq_jump"); SPEC 2.3 asks for simultaneous_open. */
static bool is_simultaneous_open(const tl_conn *c, int role, const tl_packet *p)
{
    return role == 1 && (p->flags & (TL_TH_SYN | TL_TH_ACK)) == TL_TH_SYN &&
           c->fsm.ep[0].state == TL_ST_SYN_SENT &&
           (c->fsm.ep[1].state == TL_ST_LISTEN || c->fsm.ep[1].state == TL_ST_UNKNOWN);
}

/* Zeek's rules decide when a 4-tuple starts a new connection: a SYN after
 * a close or with a new ISN, or its timers having expired the old one. */
static bool starts_new_conn(tl_tracker *tr, uint32_t s, int dir, int64_t t,
                            const tl_packet *p, bool *reused)
{
    tl_conn *old = &tr->conns[s];
    int role = dir ^ old->client_dir;
    bool expired = tl_zeek_expired_at(&old->zk, t);
    /* Only a SYN can start one (zeek.h): no call for the others. */
    *reused = (p->flags & TL_TH_SYN) && !is_simultaneous_open(old, role, p) &&
              tl_zeek_is_new_conn(&old->zk, role == 0, p);
    return expired || *reused;
}

/* Ends the connection in slot s and starts the next one on its 4-tuple.
 * tshark splits less (only on a SYN with a new ISN, which the analysis
 * module detects itself), so its state carries over. */
static uint32_t conn_next(tl_tracker *tr, uint32_t s, int dir, const tl_frame *f,
                          const tl_packet *p)
{
    tl_conn *old = &tr->conns[s];
    tl_conn_key k = old->key;
    tl_analysis carried;
    if (tr->analysis) carried = tr->an[s];
    uint8_t carried_client_dir = old->client_dir;
    tl__tracker_finalize(tr, s, false, f->ts);
    s = conn_new(tr, &k, tl_conn_key_hash(&k, tr->cfg.hash_seed), dir, p, f->ts);
    if (s != TL_NIL && tr->analysis) {
        tr->an[s] = carried;
        if (tr->conns[s].client_dir != carried_client_dir) tl_analysis_swap(&tr->an[s]);
    }
    return s;
}

/* A new connection for p, whose hash is h. Out of line: only here is the
 * key written, and inlined its work would share registers with the
 * lookup's (measured). */
TL__NOINLINE static uint32_t conn_first(tl_tracker *tr, const tl_frame *f,
                                        const tl_packet *p, uint64_t h, int dir)
{
    tl_conn_key k;
    tl_conn_key_make(&k, p);
    return conn_new(tr, &k, h, dir, p, f->ts);
}

/* The slot of p's connection (TL_NIL: out of memory) and p's direction
 * bit; *reused when a SYN started a new connection on the 4-tuple.
 * `named` is the slot the table named for p's key when the batch's
 * look-ahead ran (prefetch_conns; TL_NIL: none). Frames before this one
 * may have ended that connection since, or put another in its slot; but
 * every slot in use is in the table under its own key, and no two hold
 * the same key, so a slot in use with p's key is the table's answer and
 * the probe need not be walked again. A free slot's key has family 0
 * (tl__tracker_finalize; never used: zero), which no probe has, so
 * in_use is not tested (2 Ir per segment). There is no cache of the last
 * packet's connection in front of this: the look-ahead has hashed and
 * probed every segment anyway, so a hit saved only the check of `named`
 * and every miss paid for the compare and the copy (measured without it:
 * 3 to 4 % fewer instructions on h1m, h10m and the Zeek corpus's real
 * bulk transfers). */
static uint32_t conn_of(tl_tracker *tr, const tl_frame *f, const tl_packet *p,
                        const tl_conn_probe *q, uint64_t h, uint32_t named, int *dir,
                        int64_t *t, bool *reused)
{
    *dir = q->dir;
    *t = 0;   /* a new connection's first packet */
    uint32_t s = named;
    if (s == TL_NIL || !tl_conn_key_is(&tr->conns[s].key, q))
        s = tl_table_find_probe(&tr->table, q, h, tr->conns, sizeof *tr->conns);
    if (s == TL_NIL) return conn_first(tr, f, p, h, *dir);
    /* Once a packet, for the list order, the expiry check and Zeek: its
     * first time is the connection's (conn_new). */
    *t = tl__time_off(conn_first_ts(&tr->conns[s]), f->ts);
    if (starts_new_conn(tr, s, *dir, *t, p, reused)) {
        s = conn_next(tr, s, *dir, f, p);
        *t = 0;
    }
    return s;
}

/* What a tracker does with every frame, fixed for its life: read once per
 * batch (tl_tracker_feed_many), not for each frame from memory the calls
 * in between might have changed. */
typedef struct feed_mode {
    bool want_view;   /* the sink takes packet views */
    bool verify;      /* --checksums=verify */
} feed_mode;

static void feed_tcp(tl_tracker *tr, feed_mode m, const tl_frame *f, tl_decode_reason reason,
                     const tl_packet *p, const tl_conn_probe *q, uint64_t hash, uint32_t named)
{
    int dir;
    int64_t t;   /* nanoseconds after the connection's first packet */
    bool reused = false;
    uint32_t s = conn_of(tr, f, p, q, hash, named, &dir, &t, &reused);
    if (s == TL_NIL) {
        tl_tracker_error(tr, f->file, f->offset, f->n, "tracker: out of memory for a new connection");
        if (tr->sink.ops->packet) {
            tl_pkt_view v;
            view_init(&v, f, TL_DECODE_OK, reason, p);
            tr->sink.ops->packet(tr->sink.ctx, &v);
        }
        return;
    }
    tl_conn *c = &tr->conns[s];
    /* The sub-modules' lines were asked for ahead (prefetch_conns). */
    tl_analysis *an = tr->an ? &tr->an[s] : NULL;   /* set when tr->analysis */
    int role = dir ^ c->client_dir;
    tl_role from = role_of(role);
    bool want_view = m.want_view;
    states_before before = {0, 0};
    if (want_view) before = (states_before){c->fsm.ep[0].state, c->fsm.ep[1].state};
    touch_active(tr, c, s, t);

    tl_track_out o;
    tl_track_out_reset(&o);
    if (reused) tl_track_out_event(&o, TL_EV_PORT_REUSED, from, NAN);

    bool skipped = m.verify && p->cksum_status == TL_CKSUM_BAD;
    if (skipped) {
        tl_zeek_bad_checksum(&c->zk, role == 0);
        tr->stats.bad_checksum++;
    } else {
        tl_zeek_segment_at(&c->zk, role == 0, p, t);
        tl_fsm_segment_from(&c->fsm, role, p, f->ts, &o);
        if (an) tl_analysis_segment(an, role, p, f->ts, -1, &o);
    }

    /* a packet op keeps the analysis on (tl_tracker_new) */
    if (want_view) emit_packet(tr, f, reason, p, c, an, role, before, skipped, &o);
    emit_changes(tr, c, f, &o);
    for (uint8_t i = 0; i < o.n_events; i++) emit_event(tr, c, f, f->ts, &o.events[i]);

    /* Only a state change can finish a connection (fsm.h). */
    if (o.n_changes && !c->finished && tl_fsm_is_finished(&c->fsm)) {
        c->finished = true;
        c->finished_ns = c->last_ns;
        tl__list_remove(tr, &tr->active, s);
        tl__list_append(tr, &tr->finished, s);
    }
}


/* Inlined into the batch loop only: the frame's prologue and the
 * registers it saves are paid once per batch, not per frame. */
static TL__ALWAYS_INLINE void feed_one(tl_tracker *tr, feed_mode m, const tl_frame *f,
                                       tl_decode_result res, tl_decode_reason reason,
                                       const tl_packet *pkt, const tl_conn_probe *q,
                                       uint64_t hash, uint32_t named)
{
    /* stats.packets and .tcp are counted per batch (tl_tracker_feed_many);
     * the first frame's start is there too. */
    if (sweep_due(tr, f->ts)) tl__sweep(tr, f->ts);

    if (res == TL_DECODE_OK) {
        feed_tcp(tr, m, f, reason, pkt, q, hash, named);
        return;
    }
    switch (res) {
    case TL_DECODE_OK: break;
    case TL_DECODE_NOT_TCP: tr->stats.other++; break;
    case TL_DECODE_FRAGMENT: tr->stats.fragments++; break;
    case TL_DECODE_TRUNCATED:
        tr->stats.truncated++;
        tr->stats.by_reason[reason]++;
        break;
    case TL_DECODE_MALFORMED:
        tr->stats.malformed++;
        tr->stats.by_reason[reason]++;
        break;
    }
    if (tr->sink.ops->packet) {
        tl_pkt_view v;
        view_init(&v, f, res, reason, pkt);
        tr->sink.ops->packet(tr->sink.ctx, &v);
    }
}

/* The cache lines a segment's lookup reads, asked for ahead: in a first
 * pass over a batch the table entry of each segment's key, then, those
 * having arrived, the connection the entry with the key's tag names. Only
 * hints: the lookup itself decides. Without them each lookup waited for
 * its entry, then for the connection, one after the other; at 20 k
 * connections nearly every packet missed the caches twice. Both helpers
 * are always inlined: as functions of their own GCC 12 judged them free of
 * side effects and deleted the calls (tests/bench/test_prefetch_kept.sh
 * counts the prefetches in the binary). */
static TL__ALWAYS_INLINE void prefetch_entry(const tl_tracker *tr, uint64_t h)
{
    uint32_t i = (uint32_t)h & tr->table.mask;
    __builtin_prefetch(&tr->table.e[i]);
    /* the last entry prefetch_conns reads: the same line but for 3 in 8 */
    __builtin_prefetch(&tr->table.e[i + 3]);   /* TL_TABLE_MIRROR: no wrap */
}

/* The lines of connection c that every segment reads (conn.h), asked for
 * with locality `loc`: a macro, as a prefetch's locality must be a
 * constant. Not its list link: few segments move it (touch_active). */
#define PREFETCH_HOT(c, loc)                                                        \
    do {                                                                           \
        __builtin_prefetch((c), 0, (loc));                                          \
        __builtin_prefetch((c) + TL_CONN_ZEEK_LINE * TL_CONN_LINE, 0, (loc));       \
        __builtin_prefetch((c) + (TL_CONN_ZEEK_LINE + 1) * TL_CONN_LINE, 0, (loc)); \
        __builtin_prefetch((c) + (TL_CONN_ZEEK_LINE + 2) * TL_CONN_LINE, 0, (loc)); \
        __builtin_prefetch((c) + TL_CONN_FSM_LINE * TL_CONN_LINE, 0, (loc));        \
    } while (0)

/* The second pass over a batch's k frames d[], the segments' hashes in
 * h[]; named[] gets the slot each segment's key seems to have (conn_of).
 * Into L2 (locality 2): prefetch_near brings the hot lines on to L1.
 * Nothing changes during the pass, so the table and pools are read into
 * locals once. */
_Static_assert(TL_TABLE_MIRROR >= 3, "prefetch_entry and prefetch_conns read 3 entries past the home one");

static TL__ALWAYS_INLINE void prefetch_conns(const tl_tracker *tr, const tl_decoded *d,
                                             const uint64_t *h, uint32_t *named, int k)
{
    const tl_table_entry *e = tr->table.e;
    const uint32_t mask = tr->table.mask;
    const tl_conn *conns = tr->conns;
    const tl_analysis *an = tr->an;
    for (int j = 0; j < k; j++) {
        if (d[j].res != TL_DECODE_OK) {
            named[j] = TL_NIL;
            continue;
        }
        /* Linear probing at up to half full puts a key past its home
         * entry for a quarter of segments (h10m: 75 % home, 14 % one
         * after, 5 % two, 2 % three, 2 % further). Four entries looked at,
         * not two: 10.4 -> 3.4 % of segments had their guess wrong, and
         * with it their connection's lines not asked for ahead. Selects
         * rather than a loop, whose exit was mispredicted (how far a
         * probe goes is random). When no entry holds the key, the slot
         * named is only a wrong guess: conn_of checks it. */
        uint32_t tag = (uint32_t)h[j];
        const tl_table_entry *x = &e[tag & mask];   /* x[3]: TL_TABLE_MIRROR */
        tl_table_entry e0 = x[0], e1 = x[1], e2 = x[2], e3 = x[3];
        uint32_t found = TL__UNPREDICTABLE(e2.tag == tag) ? e2.slot : e3.slot;
        found = TL__UNPREDICTABLE(e1.tag == tag) ? e1.slot : found;
        found = TL__UNPREDICTABLE(e0.tag == tag) ? e0.slot : found;
        named[j] = found - 1;   /* 0, no entry: TL_NIL */
        if (!found) continue;
        const char *c = (const char *)&conns[found - 1];
        PREFETCH_HOT(c, 2);
        /* A SYN, FIN or RST also reads Zeek's history and timers and the
         * state machines' rare fields (conn.h); for the others the same
         * prefetches name line 0 again, without a branch. */
        size_t rare = (d[j].pkt.flags & (TL_TH_SYN | TL_TH_FIN | TL_TH_RST)) != 0;
        __builtin_prefetch(c + rare * TL_CONN_ZEEK_RARE_LINE * TL_CONN_LINE, 0, 2);
        __builtin_prefetch(c + rare * (TL_CONN_ZEEK_RARE_LINE + 1) * TL_CONN_LINE, 0, 2);
        __builtin_prefetch(c + rare * TL_CONN_TAIL_LINE * TL_CONN_LINE, 0, 2);
        if (an) {   /* 88 bytes: two lines, a quarter of them three */
            const char *a = (const char *)&an[found - 1];
            __builtin_prefetch(a, 0, 2);
            __builtin_prefetch(a + sizeof *an / 2, 0, 2);
            __builtin_prefetch(a + sizeof *an - 1, 0, 2);
        }
    }
}

/* The look-ahead's lines are asked into L2 (prefetch_conns, locality 2)
 * and each segment's hot ones into L1 again NEAR_AHEAD segments before its
 * turn: asked into L1 all at once, a batch's nine lines a segment (37 KiB)
 * outgrew its 32 KiB, and the first segments' lines were gone again when
 * the feed reached them (callgrind's cache simulation: 1.7 L1 read misses
 * per segment in the feed). */
#define NEAR_AHEAD 4

static TL__ALWAYS_INLINE void prefetch_near(const tl_tracker *tr, uint32_t s)
{
    if (s == TL_NIL) return;
    const char *c = (const char *)&tr->conns[s];
    PREFETCH_HOT(c, 3);
}

void tl_tracker_feed_many(tl_tracker *tr, const tl_frame *fs, const tl_decoded *ds, int n)
{
    if (n <= 0) return;
    feed_mode m = {tr->sink.ops->packet != NULL, tr->cfg.verify_checksums};
    if (!tr->have_time) {
        tl__set_last_sweep(tr, fs[0].ts);
        tr->have_time = true;
        if (tr->sink.ops->start) tr->sink.ops->start(tr->sink.ctx, &fs[0]);
    }
    tr->stats.packets += (uint64_t)n;
    tl_conn_probe q[TL_TRACKER_BATCH];
    uint64_t hash[TL_TRACKER_BATCH];
    const tl_conn_hash_keys hk = tl_conn_hash_keys_of(tr->cfg.hash_seed);
    /* NEAR_AHEAD TL_NIL past a batch's k: the feed's look-ahead reads
     * them, no test of i + NEAR_AHEAD < k per frame */
    uint32_t named[TL_TRACKER_BATCH + NEAR_AHEAD];
    for (int at = 0; at < n; at += TL_TRACKER_BATCH) {
        int k = n - at < TL_TRACKER_BATCH ? n - at : TL_TRACKER_BATCH;
        const tl_decoded *d = ds + at;
        int others = 0;   /* frames not segments: counted, being rare */
        for (int i = 0; i < k; i++) {
            if (d[i].res != TL_DECODE_OK) {
                hash[i] = 0;   /* read only for segments; not left indeterminate */
                others++;
                continue;
            }
            if (d[i].pkt.src.family == 4)
                tl__conn_probe_v4(&q[i], &d[i].pkt);
            else
                tl__conn_probe_v6(&q[i], &d[i].pkt);
            hash[i] = tl_conn_probe_hash_k(&q[i], &hk);
            prefetch_entry(tr, hash[i]);
        }
        tr->stats.tcp += (uint64_t)(k - others);
        prefetch_conns(tr, d, hash, named, k);
        for (int i = 0; i < NEAR_AHEAD; i++) named[k + i] = TL_NIL;
        for (int i = 0; i < k && i < NEAR_AHEAD; i++) prefetch_near(tr, named[i]);
        for (int i = 0; i < k; i++) {
            prefetch_near(tr, named[i + NEAR_AHEAD]);
            feed_one(tr, m, &fs[at + i], d[i].res, d[i].reason, &d[i].pkt, &q[i], hash[i], named[i]);
        }
    }
}

/* The same work, and one copy of it in the program. */
void tl_tracker_feed(tl_tracker *tr, const tl_frame *f, tl_decode_result res,
                     tl_decode_reason reason, const tl_packet *pkt)
{
    tl_decoded d = {.pkt = *pkt, .res = res, .reason = reason};
    tl_tracker_feed_many(tr, f, &d, 1);
}

void tl_tracker_tick(tl_tracker *tr, tl_time now)
{
    if (tr->have_time && sweep_due(tr, now)) tl__sweep(tr, now);
}

void tl_tracker_error(tl_tracker *tr, const char *file, int64_t offset, uint64_t packet,
                      const char *text)
{
    tr->stats.errors++;
    tl_error_record e = {file, offset, packet, text};
    if (tr->sink.ops->error) tr->sink.ops->error(tr->sink.ctx, &e);
}

static int by_id(const void *a, const void *b, void *ctx)
{
    const tl_conn *conns = ctx;
    uint32_t x = conns[*(const uint32_t *)a].id, y = conns[*(const uint32_t *)b].id;
    return (x > y) - (x < y);
}

void tl_tracker_finish(tl_tracker *tr, const tl_source_stats *src)
{
    /* Records of connections still present, in order of first packet;
     * the last time seen taken in the same pass over the pool. Slots, not
     * (id, slot) pairs, are sorted: the array is allocated at the peak of
     * memory, and pairs were 4 bytes more per connection held (0.2 MiB of
     * peak RSS on h10m) for 0.08 % of the run. finalize reads a whole
     * connection, so the one two ahead is asked for. */
    uint32_t n = 0, *order = tr->live ? malloc((size_t)tr->live * sizeof *order) : NULL;
    tl_time now = {0, 0};
    for (uint32_t s = 0; s < tr->used; s++) {
        const tl_conn *c = &tr->conns[s];
        if (!c->in_use) continue;
        if (order) order[n++] = s;
        if (tl__time_cmp(conn_last(c), now) > 0) now = conn_last(c);
    }
    if (order) qsort_r(order, n, sizeof *order, by_id, tr->conns);
    for (uint32_t i = 0; i < n; i++) {
        if (i + 2 < n) prefetch_slot(tr, order[i + 2]);
        tl__tracker_finalize(tr, order[i], false, now);
    }
    free(order);
    /* Without memory for the ordering, still write every record. */
    for (uint32_t s = 0; s < tr->used; s++)
        if (tr->conns[s].in_use) tl__tracker_finalize(tr, s, false, now);

    if (src) {
        tr->stats.filtered = src->filtered;
        tr->stats.kernel_dropped = src->kernel_dropped;
        tr->stats.iface_dropped = src->iface_dropped;
        tr->stats.has_kernel_stats = src->has_kernel_stats;
    }
    if (tr->sink.ops->finish) tr->sink.ops->finish(tr->sink.ctx, &tr->stats);
}

void tl_tracker_free(tl_tracker *tr)
{
    if (!tr) return;
    tl_table_release(&tr->table);
    for (uint32_t s = 0; s < tr->used; s++)   /* freed without tl_tracker_finish */
        if (tr->conns[s].in_use) tl_zeek_release(&tr->conns[s].zk);
    pool_free(tr->conns, sizeof *tr->conns, tr->pool_cap);
    free(tr->links);
    pool_free(tr->an, sizeof *tr->an, tr->an_cap);
    free(tr->idle);
    free(tr);
}
