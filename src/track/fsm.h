/* fsm.h -- the RFC 9293 state machines of a connection's two endpoints.
 *
 * Pure: no I/O, no allocation. The tracker owns one tl_fsm per connection
 * and calls tl_fsm_segment() once per TCP segment, in capture order. The
 * observer model is SPEC 2.2's: both endpoints see a segment at its capture
 * time (loopback, the lab wire), so one segment moves its sender (send
 * event) and its receiver (receive event) as RFC 9293 section 3.10 says.
 * Every change and lifecycle event is appended to a tl_track_out.
 *
 * Kernel notes followed here (Linux, default sysctls):
 *  - an RST received in TIME-WAIT with seq == RCV.NXT kills the TIME-WAIT
 *    socket (net.ipv4.tcp_rfc1337 = 0, "TIME-WAIT assassination");
 *    any other RST there is ignored;
 *  - the FIN-WAIT-2 timeout and the end of TIME-WAIT are silent: no
 *    segment shows them, so the states stay until the capture ends.
 * Internal to the tracker.
 */
#ifndef TL_TRACK_FSM_H
#define TL_TRACK_FSM_H

#include "tcplens/packet.h"
#include "tcplens/sink.h"
#include "tcplens/tcp_state.h"
#include "track/seq.h"
#include "track/track_out.h"
#include "util/compiler.h"
#include "util/time_inline.h"

/* One endpoint as the segments it sent and received reveal it (36 bytes).
 * Enumerations are stored in a byte each and flags in bits: the tracker
 * holds one tl_fsm per connection, tens of thousands at once (measured).
 * What a plain segment reads comes first (tl_fsm_segment). */
typedef struct tl_endpoint {
    uint8_t state, prev_state; /* tl_tcp_state */
    bool isn_known : 1, seq_known : 1, ack_known : 1;
    bool syn_sent : 1, synack_sent : 1; /* sent a SYN without / with ACK */
    bool fin_sent : 1, fin_acked : 1;
    bool sent_data : 1;        /* sent payload */
    bool data_after_fin : 1;   /* sent payload after the peer's FIN */
    uint32_t snd_nxt;          /* highest seq + len (+SYN/FIN) sent (seq_known) */
    uint32_t last_ack;         /* highest ACK number sent (ack_known) */
    uint32_t isn;              /* sequence number of our SYN (isn_known) */
    uint32_t fin_seq;          /* sequence number of our FIN (fin_sent) */
    uint32_t hc_seq;           /* first byte sent after the peer's FIN (data_after_fin) */
    tl_time_packed syn_ts;     /* capture time of our latest SYN or SYN-ACK */
} tl_endpoint;

/* The flags first, then the endpoints: the flags and both endpoints'
 * per-segment fields are in one cache line where tl_conn puts it. */
typedef struct tl_fsm {
    bool started : 1;          /* a segment was seen */
    uint8_t opened;            /* tl_open_kind */
    uint8_t closed;            /* tl_close_kind decided; TL_CLOSE_OPEN until then */
    uint8_t closed_by;         /* tl_role: first FIN's or the RST's sender */
    uint8_t pending : 7;       /* tl_close_kind: both FINs seen, reported when done */
    bool half_close_seen : 1;  /* half_close event reported */
    /* Both ESTABLISHED, seq and ACK known, no FIN: tl_fsm_segment. A byte
     * of the padding before ep, not a bit: every full segment stores it,
     * and a bit's read-modify-write cost 5 Ir more (h10m -c 1M). */
    bool plain;
    tl_endpoint ep[2];         /* [0] client, [1] server */
} tl_fsm;

void tl_fsm_init(tl_fsm *f);

/* The sender's highest sequence number sent, and ACK number sent. The
 * flag is written only when it changes: one store less per segment. */
static inline void tl__fsm_advance_seq(tl_endpoint *e, uint32_t end)
{
    if (!e->seq_known) {
        e->seq_known = true;
        e->snd_nxt = end;
    } else {   /* a select: whether a segment is new is data, not habit */
        e->snd_nxt = TL__UNPREDICTABLE(tl_seq_gt(end, e->snd_nxt)) ? end : e->snd_nxt;
    }
}

static inline void tl__fsm_advance_ack(tl_endpoint *e, uint32_t ackno)
{
    if (!e->ack_known) {
        e->ack_known = true;
        e->last_ack = ackno;
    } else {
        e->last_ack = TL__UNPREDICTABLE(tl_seq_gt(ackno, e->last_ack)) ? ackno : e->last_ack;
    }
}

/* tl_fsm_segment for every segment but the plain ones (fsm.c). */
void tl__fsm_segment_full(tl_fsm *f, int sender_index, const tl_packet *p, tl_time ts,
                          tl_track_out *out);

/* One segment sent by endpoint i (0 client, 1 server) at capture time ts. Appends every state change (sender's first, then the receiver's
 * in RFC processing order: ACK before FIN) and the lifecycle events
 * (handshake, simultaneous_open, refused, syn_retransmit, fin, half_close,
 * close_4way, close_3way, simultaneous_close, rst_abort, rst_closed_socket,
 * rst_unread_data, time_wait) to out.
 *
 * Inline for the plain segments, nearly all of them: data or an ACK
 * between two ESTABLISHED endpoints neither of which has sent a FIN. They
 * change no state and have no FIN to look after, so only the sequence
 * numbers move (measured on h1m: 171 -> 66 Ir per segment, all kinds).
 * Both endpoints must also have sent a sequence and an ACK number: then
 * no segment here has a first one to record (an endpoint without is sent
 * the full way until it has). tl__fsm_segment_full keeps f->plain, the
 * condition, up to date. */
static inline void tl_fsm_segment_from(tl_fsm *f, int i, const tl_packet *p, tl_time ts,
                                       tl_track_out *out)
{
    if (!f->plain || (p->flags & (TL_TH_SYN | TL_TH_FIN | TL_TH_RST))) {
        tl__fsm_segment_full(f, i, p, ts, out);
        return;
    }
    /* i is 0 or 1; masked, GCC computes snd once instead of once for
     * the numbers and again for the sent_data bit (h10m -c 1M: -0.9 M Ir) */
    tl_endpoint *snd = f->ep + (i & 1);
    /* plain: seq_known and ack_known are set, only the maxima move. geq,
     * not gt: an equal number gives the same maximum, and GCC makes it a
     * cmp and a cmovns instead of mov, sub, test, cmovg. */
    uint32_t end = p->seq + p->payload_len;
    snd->snd_nxt = TL__UNPREDICTABLE(tl_seq_geq(end, snd->snd_nxt)) ? end : snd->snd_nxt;
    if (p->flags & TL_TH_ACK)
        snd->last_ack = TL__UNPREDICTABLE(tl_seq_geq(p->ack, snd->last_ack)) ? p->ack : snd->last_ack;
    /* the side's flag first: whether this segment has data is a coin
     * toss, whether the side ever sent some is not */
    if (!snd->sent_data && p->payload_len > 0) snd->sent_data = true;
}

/* The same with the sender as a role. */
static inline void tl_fsm_segment(tl_fsm *f, tl_role sender, const tl_packet *p, tl_time ts,
                                  tl_track_out *out)
{
    tl_fsm_segment_from(f, sender == TL_ROLE_SERVER, p, ts, out);
}

/* End of capture or eviction: decide the final close kind (a close whose
 * last ACK was not seen, syn_unanswered, half_closed, open) without changing
 * any state; may append the close event that was still pending. */
void tl_fsm_finish(tl_fsm *f, tl_track_out *out);

static inline bool tl__fsm_is_done(uint8_t state)
{
    return state == TL_ST_CLOSED || state == TL_ST_TIME_WAIT;
}

/* True when the connection is over (both endpoints CLOSED or TIME-WAIT, or
 * reset, or refused): a new SYN on the 4-tuple starts a new connection.
 * It becomes true only with a segment that changes a state (an RST moves
 * at least one unfinished endpoint to CLOSED), so the tracker asks only
 * then. */
static inline bool tl_fsm_is_finished(const tl_fsm *f)
{
    if (f->closed == TL_CLOSE_RST_ABORT || f->closed == TL_CLOSE_REFUSED) return true;
    return tl__fsm_is_done(f->ep[0].state) && tl__fsm_is_done(f->ep[1].state);
}

#endif
