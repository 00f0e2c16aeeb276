/* analysis.c -- Wireshark's TCP analysis flags (retransmission, dup ACK,
 * zero window, keep-alive, ...) for one connection.
 *
 * The rules are those of Wireshark's packet-tcp.c tcp_analyze_sequence_number()
 * (the "TCP Analysis" chapter of the Wireshark User's Guide), including its
 * quirks: sequence numbers are absolute and 0 means "not seen yet"; windows
 * are compared raw and scaled only for "window full"; the out-of-order
 * threshold is the handshake RTT (3 ms when unknown); a fast retransmission
 * needs two duplicate ACKs and at most 20 ms since the last ACK. Sequence
 * comparisons wrap as in RFC 9293 section 3.4.
 */
#include <math.h>
#include <string.h>

#include "track/analysis.h"
#include "track/seq.h"
#include "util/compiler.h"

/* Analysis bits of one segment (Wireshark's TCP_A_*). */
enum {
    A_RETRANSMISSION = 1u << 0,
    A_FAST_RETRANSMISSION = 1u << 1,
    A_SPURIOUS_RETRANSMISSION = 1u << 2,
    A_OUT_OF_ORDER = 1u << 3,
    A_LOST_PACKET = 1u << 4,
    A_ACK_LOST_PACKET = 1u << 5,
    A_DUPLICATE_ACK = 1u << 6,
    A_ZERO_WINDOW = 1u << 7,
    A_WINDOW_FULL = 1u << 8,
    A_WINDOW_UPDATE = 1u << 9,
    A_ZERO_WINDOW_PROBE = 1u << 10,
    A_ZERO_WINDOW_PROBE_ACK = 1u << 11,
    A_KEEP_ALIVE = 1u << 12,
    A_KEEP_ALIVE_ACK = 1u << 13,
};

/* tl_analysis_dir.bits */
enum {
    TL_AD_BASE_SET = 1u << 0,   /* base_seq is known */
    TL_AD_FIRST_ACK = 1u << 1,  /* sent a SYN, no pure ACK since: window unscaled */
    TL_AD_WS_SET = 1u << 2,     /* win_scale decided by a segment */
    TL_AD_WINDOW = 1u << 3,     /* window holds a value */
    TL_AD_ZERO_WINDOW = 1u << 4, /* ... and it is 0: one test for the short path */
    /* syn_or_rtt_ns holds the RTT; set in both directions, so that
     * tl_analysis_swap() keeps it */
    TL_AD_RTT_KNOWN = 1u << 5,
};

/* Wireshark's first_rtt: 0 = unknown. */
static int64_t first_rtt(const tl_analysis *a)
{
    return (a->d[0].bits & TL_AD_RTT_KNOWN) ? a->syn_or_rtt_ns : 0;
}

/* Wireshark's "most recent SYN" time, read only while the RTT is unknown:
 * 0 = none. */
static int64_t mru_syn(const tl_analysis *a)
{
    return (a->d[0].bits & TL_AD_RTT_KNOWN) ? 0 : a->syn_or_rtt_ns;
}

/* The first pure ACK after a SYN: the RTT is known, unless it is 0 (a
 * zero RTT leaves it unknown, as in Wireshark, and the SYN's time kept). */
static void rtt_from_syn(tl_analysis *a, int64_t now)
{
    int64_t syn = mru_syn(a);
    if (!syn || now == syn) return;
    a->syn_or_rtt_ns = now - syn;
    a->d[0].bits |= TL_AD_RTT_KNOWN;
    a->d[1].bits |= TL_AD_RTT_KNOWN;
}

/* The last window as Wireshark keeps it: UINT32_MAX until one is seen. */
static uint32_t last_window(const tl_analysis_dir *d)
{
    return (d->bits & TL_AD_WINDOW) ? d->window : UINT32_MAX;
}

/* Which flag becomes which event, indexed by bit number: reporting the bits
 * from low to high keeps tshark's order. The zero-window-probe ACK has no
 * event kind (tshark reports it, SPEC does not list it) but still steers the
 * analysis. */
#define A_REPORTED ((uint16_t) ~A_ZERO_WINDOW_PROBE_ACK)
static const uint8_t tl_analysis_kinds[] = {
    TL_EV_RETRANSMISSION, TL_EV_FAST_RETRANSMISSION, TL_EV_SPURIOUS_RETRANSMISSION,
    TL_EV_OUT_OF_ORDER, TL_EV_PREVIOUS_SEGMENT_NOT_CAPTURED, TL_EV_ACK_UNSEEN_SEGMENT,
    TL_EV_DUP_ACK, TL_EV_ZERO_WINDOW, TL_EV_WINDOW_FULL, TL_EV_WINDOW_UPDATE,
    TL_EV_ZERO_WINDOW_PROBE, TL_EV_COUNT /* A_ZERO_WINDOW_PROBE_ACK */,
    TL_EV_KEEP_ALIVE, TL_EV_KEEP_ALIVE_ACK,
};
_Static_assert(sizeof tl_analysis_kinds == 14 && A_KEEP_ALIVE_ACK == 1u << 13,
               "one kind per analysis bit");
_Static_assert(TL_EV_COUNT <= UINT8_MAX, "kinds fit a byte");

#define TL_FAST_RETRANS_NS 20000000ull   /* 20 ms after the last duplicate ACK */
#define TL_OOO_DEFAULT_NS 3000000ull     /* out-of-order threshold without an RTT */

static int64_t ts_ns(tl_time t)
{
    return t.sec * 1000000000 + (int64_t)t.nsec;
}

void tl_analysis_init(tl_analysis *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < 2; i++)
        a->d[i].win_scale = -1;
}

/* What dissect_tcp does before the analysis for a SYN it has seen before:
 * a new ISN starts a new conversation; the same ISN (a retransmitted SYN)
 * restores nextseq, which an RST may have moved (Wireshark issue 17616). */
static void syn_seen_again(tl_analysis *a, int dir, const tl_packet *p)
{
    tl_analysis_dir *fwd = &a->d[dir];

    if (!(fwd->bits & TL_AD_BASE_SET))
        return;
    if ((p->flags & (TL_TH_SYN | TL_TH_ACK)) == TL_TH_SYN) {
        if (p->seq != fwd->base_seq)
            tl_analysis_init(a);
        else
            fwd->nextseq = fwd->maxseqtobeacked;
    } else if ((p->flags & (TL_TH_SYN | TL_TH_ACK)) == (TL_TH_SYN | TL_TH_ACK) &&
               p->seq != fwd->base_seq) {
        fwd->base_seq = p->seq;
    }
}

/* The flags that describe the sender's own sequence space and window, up to
 * Wireshark's "finished_fwd" label. */
static uint16_t analyse_fwd(tl_analysis_dir *fwd, const tl_analysis_dir *rev,
                            uint32_t seq, uint32_t ack, uint32_t seglen, uint8_t flags,
                            uint32_t window)
{
    const uint8_t sfr = TL_TH_SYN | TL_TH_FIN | TL_TH_RST;
    uint16_t f = 0;

    if (seglen == 1 && seq == fwd->nextseq && last_window(rev) == 0)
        return A_ZERO_WINDOW_PROBE;

    if (window == 0 && !(flags & sfr))
        f |= A_ZERO_WINDOW;

    if (fwd->nextseq && tl_seq_gt(seq, fwd->nextseq) && !(flags & TL_TH_RST))
        f |= A_LOST_PACKET;

    if (seglen <= 1 && seq == fwd->nextseq - 1 && !(flags & sfr))
        f |= A_KEEP_ALIVE;

    bool same_seq_ack = seq == fwd->nextseq && ack == fwd->lastack && !(flags & sfr);

    if (seglen == 0 && window && window != last_window(fwd) && same_seq_ack)
        f |= A_WINDOW_UPDATE;

    if (seglen > 0 && rev->win_scale != -1 && !(flags & sfr)) {
        int shift = (rev->bits & TL_AD_FIRST_ACK) || rev->win_scale < 0 ? 0 : rev->win_scale;
        if (seq + seglen == rev->lastack + (last_window(rev) << shift))
            f |= A_WINDOW_FULL;
    }

    if (seglen == 0 && window && window == last_window(fwd) && same_seq_ack &&
        (rev->last_flags & A_KEEP_ALIVE))
        return f | A_KEEP_ALIVE_ACK;

    if (seglen == 0 && window == 0 && window == last_window(fwd) && same_seq_ack &&
        (rev->last_flags & A_ZERO_WINDOW_PROBE))
        return f | A_ZERO_WINDOW_PROBE_ACK;

    if (seglen == 0 && window && window == last_window(fwd) && same_seq_ack) {
        /* after an ACKed unseen segment the count restarts at 1 */
        if (fwd->dupacks < 0)
            fwd->dupacks = 1;
        else if (fwd->dupacks < INT16_MAX)
            fwd->dupacks++;
        f |= A_DUPLICATE_ACK;
    }
    return f;
}

/* Retransmission, fast retransmission, spurious retransmission or
 * out-of-order, for a segment that occupies sequence space. */
static uint16_t analyse_retrans(const tl_analysis *a, const tl_analysis_dir *fwd,
                                const tl_analysis_dir *rev, uint32_t seq, uint32_t seglen,
                                uint8_t flags, int64_t now, uint16_t f)
{
    if (!(seglen > 0 || (flags & (TL_TH_SYN | TL_TH_FIN))) || (f & A_KEEP_ALIVE))
        return 0;

    bool not_advanced = fwd->nextseq && tl_seq_lt(seq, fwd->nextseq);
    /* more than a byte starting one below nextseq: new data after a probe */
    if (seglen > 1 && fwd->nextseq - 1 == seq)
        not_advanced = false;

    if (seglen > 0 && rev->lastack && tl_seq_leq(seq + seglen, rev->lastack))
        return A_SPURIOUS_RETRANSMISSION;

    /* Unsigned like Wireshark's: a time going backwards is "long ago". */
    uint64_t since_ack = (uint64_t)now - (uint64_t)rev->lastack_ns;
    if (not_advanced && rev->dupacks >= 2 && rev->lastack == seq &&
        since_ack < TL_FAST_RETRANS_NS)
        return A_FAST_RETRANSMISSION;

    uint64_t since_next = (uint64_t)now - (uint64_t)fwd->nextseq_ns;
    uint64_t ooo = first_rtt(a) ? (uint64_t)first_rtt(a) : TL_OOO_DEFAULT_NS;
    uint32_t end = seq + seglen + ((flags & (TL_TH_SYN | TL_TH_FIN)) ? 1 : 0);
    if (not_advanced && since_next < ooo && fwd->nextseq != end)
        return A_OUT_OF_ORDER;

    return not_advanced ? A_RETRANSMISSION : 0;
}

/* Wireshark's window-scale bookkeeping: the option's shift (at most 14,
 * RFC 7323 section 2.3) and, on SYNs, verify_tcp_window_scaling(). */
static void window_scale(tl_analysis_dir *fwd, tl_analysis_dir *rev, const tl_packet *p,
                         int win_scale)
{
    if (p->opt.present & TL_OPT_WSCALE) {
        fwd->win_scale = (int8_t)(p->opt.wscale > 14 ? 14 : p->opt.wscale);
        fwd->bits |= TL_AD_WS_SET;
    }
    if (p->flags & TL_TH_SYN) {
        if (fwd->win_scale == -1) {
            fwd->win_scale = rev->win_scale = -2;
            rev->bits |= TL_AD_WS_SET;
        } else if ((p->flags & TL_TH_ACK) && rev->win_scale == -2) {
            fwd->win_scale = -2;
        }
        fwd->bits |= TL_AD_WS_SET;
    }
    if (!(fwd->bits & TL_AD_WS_SET) && win_scale >= -2 && win_scale <= 14)
        fwd->win_scale = (int8_t)win_scale;
}

/* One event per reported bit, from the lowest. A duplicate ACK carries its
 * number: the sender's count, which nothing after analyse_fwd() changes. */
TL__NOINLINE static void report(uint16_t f, int dir, int16_t dupacks,
                                tl_track_out *out)
{
    const tl_role by = dir == 0 ? TL_ROLE_CLIENT : TL_ROLE_SERVER;
    for (unsigned m = f & A_REPORTED; m; m &= m - 1) {
        tl_event_kind kind = (tl_event_kind)tl_analysis_kinds[__builtin_ctz(m)];
        double v = kind == TL_EV_DUP_ACK ? (double)(uint16_t)dupacks : NAN;
        tl_track_out_event(out, kind, by, v);
    }
}

/* ACKed unseen segment: this ACK covers data never seen going the other
 * way. To report one loss once, maxseqtobeacked catches up with what was
 * seen, or else the other side's duplicate-ACK count is parked at -1 until
 * it sends a new ACK number (Wireshark 4.0's rule; plain '<' as there, not a
 * wrapping comparison). Called when ack is past rev->maxseqtobeacked. */
static uint16_t acked_unseen(tl_analysis_dir *rev)
{
    if (rev->maxseqtobeacked < rev->nextseq) {
        rev->maxseqtobeacked = rev->nextseq;
        return A_ACK_LOST_PACKET;
    }
    uint16_t f = rev->dupacks == 0 ? A_ACK_LOST_PACKET : 0;
    rev->dupacks = -1;
    return f;
}

/* A pure ACK repeating the sender's last ACK number at seq == nextseq, with
 * a non-zero window, no SYN/FIN/RST: what analyse_fwd() finds for it. */
static uint16_t same_ack_again(tl_analysis_dir *fwd, const tl_analysis_dir *rev,
                               uint32_t window)
{
    if (window != last_window(fwd))
        return A_WINDOW_UPDATE;
    if (rev->last_flags & A_KEEP_ALIVE)
        return A_KEEP_ALIVE_ACK;
    /* after an ACKed unseen segment the count restarts at 1 */
    if (fwd->dupacks < 0)
        fwd->dupacks = 1;
    else if (fwd->dupacks < INT16_MAX)
        fwd->dupacks++;
    return A_DUPLICATE_ACK;
}

/* The common segment: an ACK (or FIN/ACK) without SYN/RST or a Window Scale
 * option, starting exactly at the sender's nextseq, with a non-zero window
 * while the receiver's is not zero, both relative bases known. For it most
 * flags can not apply (zero window, lost segment, keep-alive, zero-window
 * probe, retransmission, out-of-order, the SYN bookkeeping), so it takes the
 * short path of next_in_order(); every other segment takes any_segment().
 * A sender's nextseq is set only after its base, so nextseq != 0 stands for
 * its base bit. */
static bool is_next_in_order(const tl_analysis_dir *fwd, const tl_analysis_dir *rev,
                             const tl_packet *p)
{
    return (p->flags & (TL_TH_SYN | TL_TH_RST | TL_TH_ACK)) == TL_TH_ACK &&
           p->seq == fwd->nextseq && p->seq != 0 && p->win != 0 &&
           (rev->bits & (TL_AD_BASE_SET | TL_AD_ZERO_WINDOW)) == TL_AD_BASE_SET &&
           !(p->opt.present & TL_OPT_WSCALE);
}

/* any_segment() reduced to what is_next_in_order() leaves possible. A FIN
 * rules out the window flags and takes one sequence number. */
static void next_in_order(tl_analysis *a, int dir, tl_analysis_dir *fwd, tl_analysis_dir *rev,
                          const tl_packet *p, int64_t now, int win_scale, tl_track_out *out)
{
    const uint32_t seq = p->seq, ack = p->ack, seglen = p->payload_len;
    const uint32_t fin = (p->flags & TL_TH_FIN) ? 1 : 0;
    uint16_t f = 0;

    /* dissect_tcp's bookkeeping after the analysis, done first as the
     * analysis of this segment reads neither the RTT nor the sender's own
     * window scale */
    rtt_from_syn(a, now);
    if (!(fwd->bits & TL_AD_WS_SET) && win_scale >= -2 && win_scale <= 14)
        fwd->win_scale = (int8_t)win_scale;

    if (ack != fwd->lastack)
        fwd->dupacks = 0;   /* finished_fwd: a new ACK number ends a run of duplicates */
    else if (seglen == 0 && !fin)
        f = same_ack_again(fwd, rev, p->win);

    if (seglen > 0) {
        if (rev->win_scale != -1 && !fin) {
            int shift = (rev->bits & TL_AD_FIRST_ACK) || rev->win_scale < 0 ? 0 : rev->win_scale;
            if (seq + seglen == rev->lastack + (last_window(rev) << shift))
                f |= A_WINDOW_FULL;
        }
        if (rev->lastack && tl_seq_leq(seq + seglen, rev->lastack))
            f |= A_SPURIOUS_RETRANSMISSION;
    }
    if (tl_seq_gt(seq + seglen + fin, seq)) {
        fwd->nextseq = seq + seglen + fin;
        fwd->nextseq_ns = now;
    }
    if (rev->maxseqtobeacked && tl_seq_gt(ack, rev->maxseqtobeacked))
        f |= acked_unseen(rev);

    if (seq == fwd->maxseqtobeacked || !fwd->maxseqtobeacked)
        fwd->maxseqtobeacked = fwd->nextseq;

    fwd->window = p->win;
    fwd->lastack = ack;
    fwd->lastack_ns = now;
    fwd->last_flags = f;
    fwd->bits = (uint8_t)((fwd->bits | TL_AD_WINDOW) & ~(TL_AD_ZERO_WINDOW | TL_AD_FIRST_ACK));

    if (f & A_REPORTED)
        report(f, dir, fwd->dupacks, out);
}

/* Any segment, following packet-tcp.c step by step. Kept out of line so
 * the short path does not pay for its registers. */
TL__NOINLINE static void any_segment(tl_analysis *a, int dir, const tl_packet *p,
                                     int64_t now, int win_scale, tl_track_out *out)
{
    if (p->flags & TL_TH_SYN)
        syn_seen_again(a, dir, p);

    tl_analysis_dir *fwd = dir ? &a->d[1] : &a->d[0], *rev = dir ? &a->d[0] : &a->d[1];
    const uint32_t seq = p->seq, ack = p->ack, seglen = p->payload_len, window = p->win;
    const uint8_t flags = p->flags;

    if (!(fwd->bits & TL_AD_BASE_SET)) {
        fwd->base_seq = (flags & TL_TH_SYN) ? seq : seq - 1;
        fwd->bits |= TL_AD_BASE_SET;
    }
    if (!(rev->bits & TL_AD_BASE_SET) && (flags & TL_TH_ACK)) {
        rev->base_seq = ack - 1;
        rev->bits |= TL_AD_BASE_SET;
    }

    uint16_t f = analyse_fwd(fwd, rev, seq, ack, seglen, flags, window);

    /* finished_fwd: a new ACK number ends a run of duplicates */
    if (ack != fwd->lastack)
        fwd->dupacks = 0;

    if (rev->maxseqtobeacked && tl_seq_gt(ack, rev->maxseqtobeacked) && (flags & TL_TH_ACK))
        f |= acked_unseen(rev);

    f |= analyse_retrans(a, fwd, rev, seq, seglen, flags, now, f);

    /* Remember the highest nextseq; a zero-window probe does not advance it. */
    uint32_t nextseq = seq + seglen + ((flags & (TL_TH_SYN | TL_TH_FIN)) ? 1 : 0);
    if ((tl_seq_gt(nextseq, fwd->nextseq) || !fwd->nextseq) && !(f & A_ZERO_WINDOW_PROBE)) {
        fwd->nextseq = nextseq;
        fwd->nextseq_ns = now;
    }
    if ((seq == fwd->maxseqtobeacked || !fwd->maxseqtobeacked) && !(f & A_ZERO_WINDOW_PROBE))
        fwd->maxseqtobeacked = fwd->nextseq;

    fwd->window = (uint16_t)window;
    fwd->bits = (uint8_t)((fwd->bits | TL_AD_WINDOW) & ~TL_AD_ZERO_WINDOW);
    if (window == 0)
        fwd->bits |= TL_AD_ZERO_WINDOW;
    fwd->lastack = ack;
    fwd->lastack_ns = now;
    fwd->last_flags = f;

    /* The rest of dissect_tcp's bookkeeping happens after the analysis. */
    window_scale(fwd, rev, p, win_scale);
    if ((flags & (TL_TH_SYN | TL_TH_ACK)) == TL_TH_SYN && !first_rtt(a))
        a->syn_or_rtt_ns = now;
    if (flags & TL_TH_SYN)
        fwd->bits |= TL_AD_FIRST_ACK;
    if ((flags & (TL_TH_SYN | TL_TH_ACK)) == TL_TH_ACK) {
        rtt_from_syn(a, now);
        fwd->bits &= (uint8_t)~TL_AD_FIRST_ACK;
    }
    if (f & A_REPORTED)
        report(f, dir, fwd->dupacks, out);
}

void tl_analysis_segment(tl_analysis *a, int dir, const tl_packet *p, tl_time ts,
                         int win_scale, tl_track_out *out)
{
    dir = dir ? 1 : 0;
    /* chosen, not indexed: the compiler then keeps both pointers instead of
     * recomputing dir * 40 at each use (measured: 136 -> 123 Ir/packet) */
    tl_analysis_dir *fwd = dir ? &a->d[1] : &a->d[0], *rev = dir ? &a->d[0] : &a->d[1];
    if (is_next_in_order(fwd, rev, p))
        next_in_order(a, dir, fwd, rev, p, ts_ns(ts), win_scale, out);
    else
        any_segment(a, dir, p, ts_ns(ts), win_scale, out);
}
