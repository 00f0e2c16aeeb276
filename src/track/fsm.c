/* fsm.c -- both endpoints' RFC 9293 states, inferred segment by segment.
 *
 * RFC 9293 section 3.3.2 (state diagram) and 3.10.7 (SEGMENT ARRIVES),
 * RFC 1337 / Linux tcp_minisocks.c for RST in TIME-WAIT. Shape as in lwIP
 * tcp_process() and Linux tcp_rcv_state_process(): a switch on the state,
 * one static function per state, every change through set_state().
 *
 * One segment is handled in this order:
 *   1. an RST: classify it, sender and receiver to CLOSED (on_rst);
 *   2. the sender's own change (send_*): SYN sent, FIN sent;
 *   3. the receiver's changes (recv_*): SYN, then ACK, then FIN, as the RFC
 *      processes a segment -- so a FIN+ACK that acks our FIN gives
 *      FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT;
 *   4. bookkeeping of what the sender has sent and acknowledged.
 *
 * Inference when the capture starts mid-connection (UNKNOWN): an endpoint
 * that sends payload is ESTABLISHED (CLOSE-WAIT if the peer already sent a
 * FIN); one that only ACKs is ESTABLISHED once its peer is; a FIN from an
 * UNKNOWN endpoint gives FIN-WAIT-1 (LAST-ACK if the peer's FIN came first)
 * and its receiver CLOSE-WAIT.
 */
#include "track/fsm.h"

#include <math.h>
#include <string.h>

#include "track/seq.h"

/* What one segment says, in sequence space. */
typedef struct seg {
    bool syn, ack, fin, rst;
    uint32_t seq, ackno, len;
    uint32_t fin_seq;          /* where a FIN sits: seq + SYN + len */
    uint32_t end;              /* seq + SYN + len + FIN */
} seg;

static TL__ALWAYS_INLINE seg seg_of(const tl_packet *p)
{
    seg s;
    s.syn = p->flags & TL_TH_SYN;
    s.ack = p->flags & TL_TH_ACK;
    s.fin = p->flags & TL_TH_FIN;
    s.rst = p->flags & TL_TH_RST;
    s.seq = p->seq;
    s.ackno = p->ack;
    s.len = p->payload_len;
    s.fin_seq = s.seq + (s.syn ? 1u : 0u) + s.len;
    s.end = s.fin_seq + (s.fin ? 1u : 0u);
    return s;
}

/* Everything a handler needs; no file statics (unlike lwIP's globals).
 * Every handler is always inlined into tl__fsm_segment_full: no pointer
 * to the ctx or the seg escapes, so neither is built in memory on every
 * call (measured on h10m -c 1M: 217 -> 182 Ir per call). */
typedef struct ctx {
    tl_fsm *f;
    tl_track_out *out;
    const seg *s;
    tl_time ts;
    tl_role who, rwho;         /* the sender's and the receiver's roles */
    tl_endpoint *snd, *rcv;
} ctx;

static TL__ALWAYS_INLINE void event(ctx *c, tl_event_kind k, tl_role by, double value)
{
    tl_track_out_event(c->out, k, by, value);
}

/* The one place a state changes: records prev_state, reports the change,
 * and reports entering TIME-WAIT. The caller names e's role (c->who or
 * c->rwho): found from e's address it cost 8 Ir per call (h10m -c 1M). */
static TL__ALWAYS_INLINE void set_state(ctx *c, tl_endpoint *e, tl_role who, tl_tcp_state to)
{
    if (e->state == to) return;
    e->prev_state = e->state;
    tl_track_out_change(c->out, who, e->state, to);
    e->state = to;
    if (to == TL_ST_TIME_WAIT) event(c, TL_EV_TIME_WAIT, who, NAN);
}

static TL__ALWAYS_INLINE bool is_done(tl_tcp_state s)
{
    return tl__fsm_is_done(s);
}

/* The segment acknowledges e's FIN. */
static TL__ALWAYS_INLINE bool acks_fin(const seg *s, const tl_endpoint *e)
{
    return s->ack && e->fin_sent && tl_seq_geq(s->ackno, e->fin_seq + 1);
}

/* The segment acknowledges e's SYN (any ACK when e's ISN is unknown). */
static TL__ALWAYS_INLINE bool acks_syn(const seg *s, const tl_endpoint *e)
{
    if (!s->ack) return false;
    if (!e->isn_known) return true;
    uint32_t hi = e->seq_known ? e->snd_nxt : e->isn + 1;
    return tl_seq_gt(s->ackno, e->isn) && tl_seq_leq(s->ackno, hi);
}

/* ---- sending ------------------------------------------------------------ */

static TL__ALWAYS_INLINE void record_syn(ctx *c)
{
    tl_endpoint *e = c->snd;
    e->isn = c->s->seq;
    e->isn_known = true;
    e->syn_ts = tl__time_pack(c->ts);
    if (c->s->ack) e->synack_sent = true;
    else e->syn_sent = true;
}

/* SYN or SYN-ACK sent again with the same ISN: report the backoff. */
static TL__ALWAYS_INLINE bool syn_repeat(ctx *c)
{
    tl_endpoint *e = c->snd;
    bool same_kind = c->s->ack ? e->synack_sent : e->syn_sent;
    if (!same_kind || !e->isn_known || e->isn != c->s->seq) return false;
    event(c, TL_EV_SYN_RETRANSMIT, c->who, tl__time_diff(tl__time_unpack(e->syn_ts), c->ts));
    e->syn_ts = tl__time_pack(c->ts);
    return true;
}

/* The sender's FIN (first transmission): event, close kind, new state. */
static TL__ALWAYS_INLINE void send_fin(ctx *c, tl_tcp_state to)
{
    tl_fsm *f = c->f;
    tl_endpoint *e = c->snd, *peer = c->rcv;
    e->fin_sent = true;
    e->fin_seq = c->s->fin_seq;
    if (peer->fin_sent) {
        /* Second FIN: did it carry the first ACK of the peer's FIN? */
        if (!acks_fin(c->s, peer)) f->pending = TL_CLOSE_SIMULTANEOUS;
        else if (peer->fin_acked) f->pending = TL_CLOSE_4WAY;
        else f->pending = TL_CLOSE_3WAY;
    } else if (f->closed_by == TL_ROLE_NONE) {
        f->closed_by = c->who;
    }
    set_state(c, e, c->who, to);
    event(c, TL_EV_FIN, c->who, NAN);
}

/* A FIN this endpoint has not sent before (not a retransmission). */
static TL__ALWAYS_INLINE bool new_fin(const ctx *c)
{
    return c->s->fin && !c->snd->fin_sent;
}

static TL__ALWAYS_INLINE void send_unknown(ctx *c)
{
    const seg *s = c->s;
    if (s->syn) {
        record_syn(c);
        set_state(c, c->snd, c->who, s->ack ? TL_ST_SYN_RECEIVED : TL_ST_SYN_SENT);
        return;
    }
    if (new_fin(c)) {
        send_fin(c, c->rcv->fin_sent ? TL_ST_LAST_ACK : TL_ST_FIN_WAIT_1);
        return;
    }
    if (s->len > 0)
        set_state(c, c->snd, c->who, c->rcv->fin_sent ? TL_ST_CLOSE_WAIT : TL_ST_ESTABLISHED);
    else if (s->ack && c->rcv->state == TL_ST_ESTABLISHED)
        set_state(c, c->snd, c->who, TL_ST_ESTABLISHED);
}

static TL__ALWAYS_INLINE void send_closed(ctx *c)
{
    /* A CLOSED endpoint only starts over with a SYN (active open). */
    if (c->s->syn && !c->s->ack) {
        record_syn(c);
        set_state(c, c->snd, c->who, TL_ST_SYN_SENT);
    }
}

static TL__ALWAYS_INLINE void send_listen(ctx *c)
{
    const seg *s = c->s;
    if (!s->syn) return;
    record_syn(c);
    if (s->ack) {
        set_state(c, c->snd, c->who, TL_ST_SYN_RECEIVED);
        return;
    }
    /* A SYN without ACK from the endpoint we took for a listener: it had not
     * processed the peer's SYN when it sent its own -- the SYNs crossed. */
    set_state(c, c->snd, c->who, TL_ST_SYN_SENT);
}

static TL__ALWAYS_INLINE void send_syn_sent(ctx *c)
{
    const seg *s = c->s;
    if (!s->syn || syn_repeat(c)) return;
    record_syn(c);
    if (s->ack) set_state(c, c->snd, c->who, TL_ST_SYN_RECEIVED);
}

static TL__ALWAYS_INLINE void send_syn_received(ctx *c)
{
    if (c->s->syn) {
        if (!syn_repeat(c) && c->s->ack) record_syn(c);
        return;
    }
    if (new_fin(c)) send_fin(c, TL_ST_FIN_WAIT_1);   /* RFC: CLOSE in SYN-RECEIVED */
}

static TL__ALWAYS_INLINE void send_established(ctx *c)
{
    if (new_fin(c)) send_fin(c, TL_ST_FIN_WAIT_1);
}

static TL__ALWAYS_INLINE void send_close_wait(ctx *c)
{
    if (!new_fin(c)) return;
    if (c->rcv->fin_sent && !acks_fin(c->s, c->rcv)) {
        /* The FIN does not ack the peer's FIN: it was sent before the peer's
         * FIN was processed, so the FINs crossed. The kernel goes
         * FIN-WAIT-1 -> CLOSING; we had moved it to CLOSE-WAIT at the peer's
         * FIN's capture time, so it goes straight to CLOSING. */
        send_fin(c, TL_ST_CLOSING);
        return;
    }
    send_fin(c, TL_ST_LAST_ACK);
}

static TL__ALWAYS_INLINE void on_send(ctx *c)
{
    switch (c->snd->state) {
    case TL_ST_UNKNOWN: send_unknown(c); break;
    case TL_ST_CLOSED: send_closed(c); break;
    case TL_ST_LISTEN: send_listen(c); break;
    case TL_ST_SYN_SENT: send_syn_sent(c); break;
    case TL_ST_SYN_RECEIVED: send_syn_received(c); break;
    case TL_ST_ESTABLISHED: send_established(c); break;
    case TL_ST_CLOSE_WAIT: send_close_wait(c); break;
    default: break;   /* FIN already sent: nothing the sender does changes it */
    }
}

/* ---- receiving ---------------------------------------------------------- */

static TL__ALWAYS_INLINE void recv_fin_wait_2(ctx *c);
static TL__ALWAYS_INLINE void recv_established(ctx *c);

static TL__ALWAYS_INLINE void recv_unknown(ctx *c)
{
    const seg *s = c->s;
    if (s->syn && !s->ack) {
        if (c->snd->state == TL_ST_SYN_SENT) set_state(c, c->rcv, c->rwho, TL_ST_LISTEN);
        return;
    }
    if (s->syn && s->ack) {
        /* A SYN-ACK answers a SYN this endpoint sent before the capture. */
        set_state(c, c->rcv, c->rwho, TL_ST_ESTABLISHED);
        recv_established(c);
        return;
    }
    if (s->fin) set_state(c, c->rcv, c->rwho, TL_ST_CLOSE_WAIT);
}

static TL__ALWAYS_INLINE void recv_syn_sent(ctx *c)
{
    const seg *s = c->s;
    if (!s->syn) return;
    if (!s->ack) {
        /* The peer's SYN crossed ours: both go to SYN-RECEIVED. */
        set_state(c, c->rcv, c->rwho, TL_ST_SYN_RECEIVED);
        if (c->snd->state == TL_ST_SYN_SENT) set_state(c, c->snd, c->who, TL_ST_SYN_RECEIVED);
        if (c->f->opened == TL_OPEN_NONE) {
            c->f->opened = TL_OPEN_SIMULTANEOUS_OPEN;
            event(c, TL_EV_SIMULTANEOUS_OPEN, TL_ROLE_NONE, NAN);
        }
        return;
    }
    if (!acks_syn(s, c->rcv)) return;   /* unacceptable ACK: RFC answers with RST */
    set_state(c, c->rcv, c->rwho, TL_ST_ESTABLISHED);
    recv_established(c);
}

static TL__ALWAYS_INLINE void recv_syn_received(ctx *c)
{
    tl_fsm *f = c->f;
    if (!acks_syn(c->s, c->rcv)) return;
    set_state(c, c->rcv, c->rwho, TL_ST_ESTABLISHED);
    if (f->opened == TL_OPEN_NONE) {
        /* Handshake done. RTT as Wireshark's iRTT: latest SYN to this ACK. */
        tl_endpoint *cl = &f->ep[0];
        double rtt = cl->syn_sent ? tl__time_diff(tl__time_unpack(cl->syn_ts), c->ts) : NAN;
        f->opened = cl->syn_sent ? TL_OPEN_HANDSHAKE : TL_OPEN_MIDSTREAM;
        if (cl->syn_sent) event(c, TL_EV_HANDSHAKE, c->who, rtt);
    }
    recv_established(c);
}

static TL__ALWAYS_INLINE void recv_established(ctx *c)
{
    if (c->s->fin) set_state(c, c->rcv, c->rwho, TL_ST_CLOSE_WAIT);
}

static TL__ALWAYS_INLINE void recv_fin_wait_1(ctx *c)
{
    if (acks_fin(c->s, c->rcv)) {
        c->rcv->fin_acked = true;
        set_state(c, c->rcv, c->rwho, TL_ST_FIN_WAIT_2);
        recv_fin_wait_2(c);
        return;
    }
    if (c->s->fin) set_state(c, c->rcv, c->rwho, TL_ST_CLOSING);
}

static TL__ALWAYS_INLINE void recv_fin_wait_2(ctx *c)
{
    if (c->s->fin) set_state(c, c->rcv, c->rwho, TL_ST_TIME_WAIT);
}

static TL__ALWAYS_INLINE void recv_closing(ctx *c)
{
    if (!acks_fin(c->s, c->rcv)) return;
    c->rcv->fin_acked = true;
    set_state(c, c->rcv, c->rwho, TL_ST_TIME_WAIT);
}

static TL__ALWAYS_INLINE void recv_last_ack(ctx *c)
{
    if (!acks_fin(c->s, c->rcv)) return;
    c->rcv->fin_acked = true;
    set_state(c, c->rcv, c->rwho, TL_ST_CLOSED);
}

static TL__ALWAYS_INLINE void on_receive(ctx *c)
{
    switch (c->rcv->state) {
    case TL_ST_UNKNOWN: recv_unknown(c); break;
    case TL_ST_SYN_SENT: recv_syn_sent(c); break;
    case TL_ST_SYN_RECEIVED: recv_syn_received(c); break;
    case TL_ST_ESTABLISHED: recv_established(c); break;
    case TL_ST_FIN_WAIT_1: recv_fin_wait_1(c); break;
    case TL_ST_FIN_WAIT_2: recv_fin_wait_2(c); break;
    case TL_ST_CLOSING: recv_closing(c); break;
    case TL_ST_LAST_ACK: recv_last_ack(c); break;
    /* LISTEN stays until it answers; CLOSE-WAIT and TIME-WAIT only see
     * retransmissions; CLOSED answers with an RST we see separately. */
    default: break;
    }
}

/* ---- reset -------------------------------------------------------------- */

/* close() with unread data (Linux tcp_close(): RST instead of FIN, RFC 2525
 * 2.17). The wire cannot show reading, and an SO_LINGER {1,0} abort sends
 * the very same RST (seq = SND.NXT, ack = RCV.NXT), so this is a heuristic,
 * kept strict: the RST's sender never sent a FIN nor any payload, the peer
 * sent it payload, and the RST acks everything the peer sent (the data
 * arrived) at the sender's own snd_nxt. An endpoint that answered with data
 * is taken to have read, so its RST is rst_abort; a silent receiver that
 * aborts after reading is misnamed rst_unread_data. */
static TL__ALWAYS_INLINE bool rst_looks_unread(const ctx *c)
{
    const tl_endpoint *e = c->snd, *peer = c->rcv;
    const seg *s = c->s;
    if (e->fin_sent || e->sent_data || !peer->sent_data) return false;
    if (!s->ack || !peer->seq_known || s->ackno != peer->snd_nxt) return false;
    return !e->seq_known || s->seq == e->snd_nxt;
}

static TL__ALWAYS_INLINE void classify_rst(ctx *c)
{
    tl_fsm *f = c->f;
    if (f->closed != TL_CLOSE_OPEN || f->pending != TL_CLOSE_OPEN) return;
    tl_tcp_state ss = c->snd->state;
    if (c->rcv->state == TL_ST_SYN_SENT &&
        (ss == TL_ST_LISTEN || ss == TL_ST_UNKNOWN || ss == TL_ST_CLOSED)) {
        f->closed = TL_CLOSE_REFUSED;
        f->closed_by = c->who;
        event(c, TL_EV_REFUSED, c->who, NAN);
        return;
    }
    tl_event_kind k = TL_EV_RST_ABORT;
    if (c->snd->fin_sent && c->rcv->data_after_fin) k = TL_EV_RST_CLOSED_SOCKET;
    else if (rst_looks_unread(c)) k = TL_EV_RST_UNREAD_DATA;
    f->closed = TL_CLOSE_RST_ABORT;
    f->closed_by = c->who;
    event(c, k, c->who, NAN);
}

static TL__ALWAYS_INLINE void on_rst(ctx *c)
{
    if (!tl_fsm_is_finished(c->f)) classify_rst(c);
    /* The sender aborted, or has no socket for the segment it answers. */
    set_state(c, c->snd, c->who, TL_ST_CLOSED);
    if (c->rcv->state == TL_ST_TIME_WAIT) {
        /* Linux kills TIME-WAIT only for an RST at exactly RCV.NXT. */
        if (!c->snd->seq_known || c->s->seq == c->snd->snd_nxt)
            set_state(c, c->rcv, c->rwho, TL_ST_CLOSED);
        return;
    }
    set_state(c, c->rcv, c->rwho, TL_ST_CLOSED);
}

/* ---- bookkeeping -------------------------------------------------------- */

/* What the sender has now sent and acknowledged; half_close once the FIN's
 * sender acknowledges data that came after its FIN (it still reads, as
 * after shutdown(SHUT_WR); a closed socket would answer with an RST). */
static TL__ALWAYS_INLINE void account(ctx *c)
{
    tl_fsm *f = c->f;
    tl_endpoint *e = c->snd, *peer = c->rcv;
    const seg *s = c->s;
    if (s->len > 0) {
        e->sent_data = true;
        if (peer->fin_sent && !e->data_after_fin &&
            (!e->seq_known || tl_seq_gt(s->seq + s->len, e->snd_nxt))) {
            e->data_after_fin = true;
            e->hc_seq = s->seq;
        }
    }
    tl__fsm_advance_seq(e, s->end);
    if (s->ack) {
        tl__fsm_advance_ack(e, s->ackno);
        if (e->fin_sent && peer->data_after_fin && !f->half_close_seen &&
            tl_seq_gt(s->ackno, peer->hc_seq)) {
            f->half_close_seen = true;
            event(c, TL_EV_HALF_CLOSE, c->who, NAN);
        }
    }
}

/* Both endpoints done after both FINs: report how the close went. */
static TL__ALWAYS_INLINE void report_close(ctx *c)
{
    tl_fsm *f = c->f;
    if (f->pending == TL_CLOSE_OPEN || f->closed != TL_CLOSE_OPEN) return;
    f->closed = f->pending;
    tl_event_kind k = f->pending == TL_CLOSE_4WAY   ? TL_EV_CLOSE_4WAY
                      : f->pending == TL_CLOSE_3WAY ? TL_EV_CLOSE_3WAY
                                                    : TL_EV_SIMULTANEOUS_CLOSE;
    event(c, k, k == TL_EV_SIMULTANEOUS_CLOSE ? TL_ROLE_NONE : f->closed_by, NAN);
}

/* ---- API ---------------------------------------------------------------- */

void tl_fsm_init(tl_fsm *f)
{
    memset(f, 0, sizeof *f);
    f->ep[0].state = f->ep[0].prev_state = TL_ST_UNKNOWN;
    f->ep[1].state = f->ep[1].prev_state = TL_ST_UNKNOWN;
    f->opened = TL_OPEN_NONE;
    f->closed = TL_CLOSE_OPEN;
    f->pending = TL_CLOSE_OPEN;
    f->closed_by = TL_ROLE_NONE;
}

/* One endpoint as tl_fsm_segment's short path wants it (fsm.h). */
static TL__ALWAYS_INLINE bool ep_plain(const tl_endpoint *e)
{
    return e->state == TL_ST_ESTABLISHED && e->seq_known && e->ack_known && !e->fin_sent;
}

static TL__ALWAYS_INLINE void segment(tl_fsm *f, int i, const tl_packet *p, tl_time ts,
                                      tl_track_out *out)
{
    seg s = seg_of(p);
    tl_role who = i ? TL_ROLE_SERVER : TL_ROLE_CLIENT, rwho = i ? TL_ROLE_CLIENT : TL_ROLE_SERVER;
    ctx c = {f, out, &s, ts, who, rwho, &f->ep[i], &f->ep[i ^ 1]};

    /* The capture missed the opening SYN: a mid-stream pickup. */
    if (!f->started && !(s.syn && !s.ack)) f->opened = TL_OPEN_MIDSTREAM;
    f->started = true;

    if (s.rst) {
        on_rst(&c);
        return;
    }
    on_send(&c);
    on_receive(&c);
    account(&c);
    if (is_done(f->ep[0].state) && is_done(f->ep[1].state)) report_close(&c);
}

void tl__fsm_segment_full(tl_fsm *f, int i, const tl_packet *p, tl_time ts, tl_track_out *out)
{
    segment(f, i, p, ts, out);
    /* States, fin_sent, seq_known and ack_known change only here: the
     * short path's condition is kept up to date with them. */
    f->plain = ep_plain(&f->ep[0]) && ep_plain(&f->ep[1]);
}

void tl_fsm_finish(tl_fsm *f, tl_track_out *out)
{
    if (f->closed != TL_CLOSE_OPEN) return;
    if (f->pending != TL_CLOSE_OPEN) {
        /* Both FINs seen, the last ACK was not. */
        seg none;
        memset(&none, 0, sizeof none);
        tl_time t0 = {0, 0};
        ctx c = {f, out, &none, t0, TL_ROLE_NONE, TL_ROLE_NONE, &f->ep[0], &f->ep[1]};
        report_close(&c);
        return;
    }
    const tl_endpoint *cl = &f->ep[0], *sv = &f->ep[1];
    if (cl->state == TL_ST_SYN_SENT && !sv->synack_sent) {
        f->closed = TL_CLOSE_SYN_UNANSWERED;
        f->closed_by = TL_ROLE_NONE;
    } else if (cl->fin_sent != sv->fin_sent) {
        f->closed = TL_CLOSE_HALF_CLOSED;
        f->closed_by = cl->fin_sent ? TL_ROLE_CLIENT : TL_ROLE_SERVER;
    }
}

