/* test_analysis.c -- Wireshark's TCP analysis flags (src/track/analysis.c),
 * segment by segment as tshark would mark them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "track/analysis.h"

enum { C = 0, S = 1 };   /* direction: client -> server, server -> client */
#define CISN 1000u
#define SISN 5000u

/* Send one segment at t_ms milliseconds; returns what the module reported. */
static tl_track_out seg(tl_analysis *a, int dir, uint32_t seq, uint32_t ack, uint8_t flags,
                        uint16_t win, uint32_t len, double t_ms)
{
    tl_packet p;
    memset(&p, 0, sizeof p);
    p.seq = seq;
    p.ack = ack;
    p.flags = flags;
    p.win = win;
    p.payload_len = len;
    if (flags & TL_TH_SYN) {
        p.opt.present = TL_OPT_WSCALE;
        p.opt.wscale = 2;
    }
    int64_t ns = (int64_t)(t_ms * 1e6);
    tl_time ts = {1700000000 + ns / 1000000000, (uint32_t)(ns % 1000000000)};
    tl_track_out out;
    tl_track_out_reset(&out);
    tl_analysis_segment(a, dir, &p, ts, -1, &out);
    return out;
}

static int count(const tl_track_out *o, tl_event_kind k)
{
    int n = 0;
    for (int i = 0; i < o->n_events; i++)
        n += o->events[i].kind == k;
    return n;
}

static double value_of(const tl_track_out *o, tl_event_kind k)
{
    for (int i = 0; i < o->n_events; i++)
        if (o->events[i].kind == k)
            return o->events[i].value;
    return -1;
}

/* Handshake with WS 2 both ways: SYN at 0 ms, SYN/ACK at 10, ACK at 20 (iRTT 20 ms). */
static void open_conn(tl_analysis *a, uint32_t cisn, uint32_t sisn)
{
    tl_analysis_init(a);
    tl_track_out o;
    o = seg(a, C, cisn, 0, TL_TH_SYN, 64000, 0, 0);
    assert_int_equal(o.n_events, 0);
    o = seg(a, S, sisn, cisn + 1, TL_TH_SYN | TL_TH_ACK, 64000, 0, 10);
    assert_int_equal(o.n_events, 0);
    o = seg(a, C, cisn + 1, sisn + 1, TL_TH_ACK, 1000, 0, 20);
    assert_int_equal(o.n_events, 0);
}

static void analysis_state_stays_small(void **st)
{
    (void)st;
    assert_true(sizeof(tl_analysis) <= 88);
}

static void clean_exchange_has_no_flags(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    tl_track_out o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK | TL_TH_PSH, 1000, 100, 30);
    assert_int_equal(o.n_events, 0);
    o = seg(&a, S, SISN + 1, CISN + 101, TL_TH_ACK, 1000, 0, 40);
    assert_int_equal(o.n_events, 0);
    o = seg(&a, C, CISN + 101, SISN + 1, TL_TH_ACK | TL_TH_FIN, 1000, 0, 50);
    assert_int_equal(o.n_events, 0);
    o = seg(&a, S, SISN + 1, CISN + 102, TL_TH_ACK | TL_TH_FIN, 1000, 0, 60);
    assert_int_equal(o.n_events, 0);
}

static void retransmission_when_seq_below_next_expected(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    /* same bytes again 300 ms later (past the 20 ms iRTT), not yet ACKed */
    tl_track_out o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 330);
    assert_int_equal(count(&o, TL_EV_RETRANSMISSION), 1);
    assert_int_equal(o.n_events, 1);
    assert_int_equal(o.events[0].by, TL_ROLE_CLIENT);
    assert_true(isnan(o.events[0].value));
}

static void spurious_retransmission_of_acked_data(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    seg(&a, S, SISN + 1, CISN + 101, TL_TH_ACK, 1000, 0, 40);
    tl_track_out o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 330);
    assert_int_equal(count(&o, TL_EV_SPURIOUS_RETRANSMISSION), 1);
    assert_int_equal(count(&o, TL_EV_RETRANSMISSION), 0);
}

static void out_of_order_within_rtt(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    /* segment 2 overtakes segment 1; segment 1 arrives 5 ms later (< iRTT 20 ms) */
    tl_track_out o = seg(&a, C, CISN + 101, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    assert_int_equal(count(&o, TL_EV_PREVIOUS_SEGMENT_NOT_CAPTURED), 1);
    o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 35);
    assert_int_equal(count(&o, TL_EV_OUT_OF_ORDER), 1);
    assert_int_equal(o.n_events, 1);

    /* the same late arrival after more than the iRTT is a retransmission */
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 101, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 55);
    assert_int_equal(count(&o, TL_EV_OUT_OF_ORDER), 0);
    assert_int_equal(count(&o, TL_EV_RETRANSMISSION), 1);
}

/* Segment 2 overtakes segment 1 at t_ms, segment 1 comes `late_ms`
 * after it: out of order within the iRTT, else a retransmission. */
static tl_track_out overtaken(tl_analysis *a, int dir, double t_ms, double late_ms)
{
    seg(a, dir, CISN + 101, SISN + 1, TL_TH_ACK, 1000, 100, t_ms);
    return seg(a, dir, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, t_ms + late_ms);
}

/* The handshake RTT shares its field with the last SYN's time
 * (analysis.h): after a SYN seen again, or with the roles swapped, the
 * out-of-order threshold is still the 20 ms iRTT: 15 ms late is out of
 * order (not the 3 ms default), 25 ms late a retransmission. */
static void rtt_outlives_a_later_syn_and_a_swap(void **st)
{
    (void)st;
    tl_analysis a;
    for (int swapped = 0; swapped <= 1; swapped++) {
        for (int late = 15; late <= 25; late += 10) {
            open_conn(&a, CISN, SISN);
            int client = C;
            if (swapped) {
                tl_analysis_swap(&a);
                client = S;
            } else {
                seg(&a, C, CISN, 0, TL_TH_SYN, 64000, 0, 100);   /* the SYN again */
            }
            tl_track_out o = overtaken(&a, client, 130, late);
            assert_int_equal(count(&o, TL_EV_OUT_OF_ORDER), late < 20);
            assert_int_equal(count(&o, TL_EV_RETRANSMISSION), late > 20);
        }
    }

    /* an ACK at the SYN's own time gives no RTT and keeps the SYN's time,
     * so the next segment sets it (30 ms; lost, the 3 ms default would
     * make 5 ms late a retransmission) */
    tl_analysis_init(&a);
    seg(&a, C, CISN, 0, TL_TH_SYN, 64000, 0, 0);
    seg(&a, S, SISN, CISN + 1, TL_TH_SYN | TL_TH_ACK, 64000, 0, 0);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 0, 0);
    tl_track_out o = overtaken(&a, C, 30, 5);
    assert_int_equal(count(&o, TL_EV_OUT_OF_ORDER), 1);
}

static void previous_segment_not_captured_on_gap(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    tl_track_out o = seg(&a, C, CISN + 201, SISN + 1, TL_TH_ACK, 1000, 100, 31);
    assert_int_equal(count(&o, TL_EV_PREVIOUS_SEGMENT_NOT_CAPTURED), 1);
    /* an RST beyond the gap is not checked */
    o = seg(&a, C, CISN + 901, SISN + 1, TL_TH_RST | TL_TH_ACK, 0, 0, 32);
    assert_int_equal(count(&o, TL_EV_PREVIOUS_SEGMENT_NOT_CAPTURED), 0);
}

static void dup_ack_counts(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 25);
    for (int i = 1; i <= 3; i++) {
        tl_track_out o = seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 25 + i);
        assert_int_equal(count(&o, TL_EV_DUP_ACK), 1);
        assert_true(value_of(&o, TL_EV_DUP_ACK) == (double)i);
        assert_int_equal(o.events[0].by, TL_ROLE_SERVER);
    }
    /* a new ACK number ends the run; the next duplicate is number 1 again */
    tl_track_out o = seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 30);
    assert_true(value_of(&o, TL_EV_DUP_ACK) == 4.0);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 50, 31);
    o = seg(&a, S, SISN + 1, CISN + 51, TL_TH_ACK, 1000, 0, 32);
    assert_int_equal(count(&o, TL_EV_DUP_ACK), 0);
    o = seg(&a, S, SISN + 1, CISN + 51, TL_TH_ACK, 1000, 0, 33);
    assert_true(value_of(&o, TL_EV_DUP_ACK) == 1.0);
    /* a different window makes it a window update, not a duplicate */
    o = seg(&a, S, SISN + 1, CISN + 51, TL_TH_ACK, 2000, 0, 34);
    assert_int_equal(count(&o, TL_EV_DUP_ACK), 0);
}

static void fast_retransmission_after_two_dup_acks(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);   /* lost */
    seg(&a, C, CISN + 101, SISN + 1, TL_TH_ACK, 1000, 100, 31);
    seg(&a, C, CISN + 201, SISN + 1, TL_TH_ACK, 1000, 100, 32);
    seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 40);
    tl_track_out o = seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 41);
    assert_true(value_of(&o, TL_EV_DUP_ACK) == 1.0);
    o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 45);   /* one dup: not fast */
    assert_int_equal(count(&o, TL_EV_FAST_RETRANSMISSION), 0);

    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    seg(&a, C, CISN + 101, SISN + 1, TL_TH_ACK, 1000, 100, 31);
    seg(&a, C, CISN + 201, SISN + 1, TL_TH_ACK, 1000, 100, 32);
    seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 40);
    seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 41);
    o = seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 42);
    assert_true(value_of(&o, TL_EV_DUP_ACK) == 2.0);
    o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 50);   /* 8 ms later */
    assert_int_equal(count(&o, TL_EV_FAST_RETRANSMISSION), 1);
    assert_int_equal(o.n_events, 1);
}

static void fast_retransmission_needs_the_last_ack_within_20ms(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    seg(&a, C, CISN + 101, SISN + 1, TL_TH_ACK, 1000, 100, 31);
    seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 40);
    seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 41);
    seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 42);
    tl_track_out o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 70);
    assert_int_equal(count(&o, TL_EV_FAST_RETRANSMISSION), 0);
    assert_int_equal(count(&o, TL_EV_RETRANSMISSION), 1);
}

static void zero_window_and_window_update(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    tl_track_out o = seg(&a, S, SISN + 1, CISN + 101, TL_TH_ACK, 0, 0, 40);
    assert_int_equal(count(&o, TL_EV_ZERO_WINDOW), 1);
    /* FIN/SYN/RST never count as zero window */
    tl_analysis b;
    open_conn(&b, CISN, SISN);
    o = seg(&b, S, SISN + 1, CISN + 1, TL_TH_ACK | TL_TH_FIN, 0, 0, 40);
    assert_int_equal(count(&o, TL_EV_ZERO_WINDOW), 0);
}

static void window_update(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    seg(&a, S, SISN + 1, CISN + 101, TL_TH_ACK, 0, 0, 40);
    tl_track_out o = seg(&a, S, SISN + 1, CISN + 101, TL_TH_ACK, 500, 0, 50);
    assert_int_equal(count(&o, TL_EV_WINDOW_UPDATE), 1);
    assert_int_equal(o.n_events, 1);
    /* with data it is not a window update */
    o = seg(&a, S, SISN + 1, CISN + 101, TL_TH_ACK, 600, 10, 60);
    assert_int_equal(count(&o, TL_EV_WINDOW_UPDATE), 0);
}

static void window_full_uses_the_receivers_scaled_window(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    /* the server has sent a pure ACK, so its window 100 is scaled by 2^2 */
    seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 100, 0, 25);
    tl_track_out o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 300, 30);
    assert_int_equal(count(&o, TL_EV_WINDOW_FULL), 0);
    o = seg(&a, C, CISN + 301, SISN + 1, TL_TH_ACK, 1000, 100, 31);
    assert_int_equal(count(&o, TL_EV_WINDOW_FULL), 1);
}

static void zero_window_probe_one_byte_at_zero_window(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    seg(&a, S, SISN + 1, CISN + 101, TL_TH_ACK, 0, 0, 40);
    tl_track_out o = seg(&a, C, CISN + 101, SISN + 1, TL_TH_ACK, 1000, 1, 300);
    assert_int_equal(count(&o, TL_EV_ZERO_WINDOW_PROBE), 1);
    assert_int_equal(o.n_events, 1);
    /* the probe does not advance nextseq: the same byte again is a probe too,
     * and the receiver's unchanged zero-window answer is not a dup ACK */
    o = seg(&a, S, SISN + 1, CISN + 101, TL_TH_ACK, 0, 0, 310);
    assert_int_equal(count(&o, TL_EV_DUP_ACK), 0);
    o = seg(&a, C, CISN + 101, SISN + 1, TL_TH_ACK, 1000, 1, 600);
    assert_int_equal(count(&o, TL_EV_ZERO_WINDOW_PROBE), 1);
    /* two bytes are not a probe */
    tl_analysis b;
    open_conn(&b, CISN, SISN);
    seg(&b, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    seg(&b, S, SISN + 1, CISN + 101, TL_TH_ACK, 0, 0, 40);
    o = seg(&b, C, CISN + 101, SISN + 1, TL_TH_ACK, 1000, 2, 300);
    assert_int_equal(count(&o, TL_EV_ZERO_WINDOW_PROBE), 0);
}

static void keep_alive_seq_minus_one(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 5, 30);
    seg(&a, S, SISN + 1, CISN + 6, TL_TH_ACK, 1000, 0, 40);
    /* Linux's keep-alive: no data, seq = next expected - 1 */
    tl_track_out o = seg(&a, C, CISN + 5, SISN + 1, TL_TH_ACK, 1000, 0, 1040);
    assert_int_equal(count(&o, TL_EV_KEEP_ALIVE), 1);
    assert_int_equal(o.n_events, 1);   /* not a retransmission */
    o = seg(&a, S, SISN + 1, CISN + 6, TL_TH_ACK, 1000, 0, 1041);
    assert_int_equal(count(&o, TL_EV_KEEP_ALIVE_ACK), 1);
    assert_int_equal(o.n_events, 1);   /* not a dup ACK */
    /* the BSD form carries one garbage byte */
    o = seg(&a, C, CISN + 5, SISN + 1, TL_TH_ACK, 1000, 1, 2040);
    assert_int_equal(count(&o, TL_EV_KEEP_ALIVE), 1);
    assert_int_equal(count(&o, TL_EV_RETRANSMISSION), 0);
}

static void ack_unseen_segment(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    /* the server ACKs 100 more bytes than were captured, twice: reported once */
    tl_track_out o = seg(&a, S, SISN + 1, CISN + 201, TL_TH_ACK, 1000, 10, 40);
    assert_int_equal(count(&o, TL_EV_ACK_UNSEEN_SEGMENT), 1);
    o = seg(&a, S, SISN + 11, CISN + 201, TL_TH_ACK, 1000, 10, 41);
    assert_int_equal(count(&o, TL_EV_ACK_UNSEEN_SEGMENT), 0);
    /* the parked count: the client's next duplicate ACK is number 1 */
    o = seg(&a, C, CISN + 101, SISN + 1, TL_TH_ACK, 1000, 0, 45);
    assert_true(value_of(&o, TL_EV_DUP_ACK) == 1.0);
    /* the client's next segment shows the gap from its side */
    o = seg(&a, C, CISN + 201, SISN + 21, TL_TH_ACK, 1000, 10, 50);
    assert_int_equal(count(&o, TL_EV_PREVIOUS_SEGMENT_NOT_CAPTURED), 1);
}

static void seq_wraparound(void **st)
{
    (void)st;
    tl_analysis a;
    const uint32_t cisn = 0xFFFFFF00u;   /* data crosses 2^32 */
    open_conn(&a, cisn, SISN);
    uint32_t seq = cisn + 1;
    for (int i = 0; i < 2; i++, seq += 100) {
        tl_track_out o = seg(&a, C, seq, SISN + 1, TL_TH_ACK, 1000, 100, 30 + i);
        assert_int_equal(o.n_events, 0);
        o = seg(&a, S, SISN + 1, seq + 100, TL_TH_ACK, 1000, 0, 30.5 + i);
        assert_int_equal(o.n_events, 0);
    }
    /* a segment from just below 2^32 to just above it, and the next one */
    const uint32_t x = seq;
    tl_track_out o = seg(&a, C, x, SISN + 1, TL_TH_ACK, 1000, 100, 40);
    assert_int_equal(o.n_events, 0);
    o = seg(&a, C, x + 100, SISN + 1, TL_TH_ACK, 1000, 100, 41);
    assert_int_equal(o.n_events, 0);
    /* x again: below next expected across the wrap, so a retransmission */
    o = seg(&a, C, x, SISN + 1, TL_TH_ACK, 1000, 100, 500);
    assert_int_equal(count(&o, TL_EV_RETRANSMISSION), 1);
    assert_int_equal(o.n_events, 1);
    /* already ACKed data across the wrap: spurious */
    o = seg(&a, C, cisn + 101, SISN + 1, TL_TH_ACK, 1000, 100, 501);
    assert_int_equal(count(&o, TL_EV_SPURIOUS_RETRANSMISSION), 1);
    /* beyond next expected across the wrap: a gap */
    o = seg(&a, C, x + 300, SISN + 1, TL_TH_ACK, 1000, 100, 502);
    assert_int_equal(count(&o, TL_EV_PREVIOUS_SEGMENT_NOT_CAPTURED), 1);
}

static void new_isn_on_syn_starts_afresh(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    /* same SYN again: a retransmission */
    tl_track_out o = seg(&a, C, CISN, 0, TL_TH_SYN, 64000, 0, 400);
    assert_int_equal(count(&o, TL_EV_RETRANSMISSION), 1);
    /* a SYN with a new ISN (port reuse) carries no flags */
    o = seg(&a, C, 777777u, 0, TL_TH_SYN, 64000, 0, 5000);
    assert_int_equal(o.n_events, 0);
}

/* In-order segments (seq at the sender's next expected) take the module's
 * short path; each flag that can still apply to them must still come. */
static void in_order_segments_keep_their_flags(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    tl_track_out o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 100, 30);
    assert_int_equal(o.n_events, 0);
    /* the server ACKs 100 bytes more than the client sent */
    o = seg(&a, S, SISN + 1, CISN + 201, TL_TH_ACK, 1000, 0, 31);
    assert_int_equal(count(&o, TL_EV_ACK_UNSEEN_SEGMENT), 1);
    /* in order, yet below what the server ACKed: spurious */
    o = seg(&a, C, CISN + 101, SISN + 1, TL_TH_ACK, 1000, 100, 32);
    assert_int_equal(count(&o, TL_EV_SPURIOUS_RETRANSMISSION), 1);
    assert_int_equal(o.n_events, 1);
    /* the same ACK and window again: duplicate ACK number 1 (after the
     * ACKed unseen segment), then 2 */
    o = seg(&a, S, SISN + 1, CISN + 201, TL_TH_ACK, 1000, 0, 33);
    assert_true(value_of(&o, TL_EV_DUP_ACK) == 1.0);
    o = seg(&a, S, SISN + 1, CISN + 201, TL_TH_ACK, 1000, 0, 34);
    assert_true(value_of(&o, TL_EV_DUP_ACK) == 2.0);
    /* the same ACK with a new window: a window update, no duplicate */
    o = seg(&a, S, SISN + 1, CISN + 201, TL_TH_ACK, 2000, 0, 35);
    assert_int_equal(count(&o, TL_EV_WINDOW_UPDATE), 1);
    assert_int_equal(o.n_events, 1);
    /* a FIN in order takes one sequence number: its ACK flags nothing, its
     * copy is a retransmission */
    o = seg(&a, C, CISN + 201, SISN + 1, TL_TH_ACK | TL_TH_FIN, 1000, 0, 40);
    assert_int_equal(o.n_events, 0);
    o = seg(&a, S, SISN + 1, CISN + 202, TL_TH_ACK, 2000, 0, 41);
    assert_int_equal(o.n_events, 0);
    o = seg(&a, C, CISN + 201, SISN + 1, TL_TH_ACK | TL_TH_FIN, 1000, 0, 400);
    assert_int_equal(count(&o, TL_EV_RETRANSMISSION), 1);
    assert_int_equal(o.n_events, 1);
}

/* One byte at next expected is a zero-window probe only while the
 * receiver's last window is 0; once it reopens the byte is plain data. */
static void in_order_byte_is_a_probe_only_at_zero_window(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, CISN, SISN);
    tl_track_out o = seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 0, 0, 30);
    assert_int_equal(count(&o, TL_EV_ZERO_WINDOW), 1);
    o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 1, 31);
    assert_int_equal(count(&o, TL_EV_ZERO_WINDOW_PROBE), 1);
    o = seg(&a, S, SISN + 1, CISN + 1, TL_TH_ACK, 1000, 0, 32);
    assert_int_equal(count(&o, TL_EV_WINDOW_UPDATE), 1);
    o = seg(&a, C, CISN + 1, SISN + 1, TL_TH_ACK, 1000, 1, 33);
    assert_int_equal(o.n_events, 0);
}

/* A segment ending exactly at 2^32 leaves next expected at 0, which
 * Wireshark reads as "none yet": the following segment is taken as new. */
static void next_expected_of_zero_means_none_yet(void **st)
{
    (void)st;
    tl_analysis a;
    open_conn(&a, 0xFFFFFF00u, SISN);
    tl_track_out o = seg(&a, C, 0xFFFFFF01u, SISN + 1, TL_TH_ACK, 1000, 0xFF, 30);
    assert_int_equal(o.n_events, 0);
    o = seg(&a, C, 0, SISN + 1, TL_TH_ACK, 1000, 100, 31);
    assert_int_equal(o.n_events, 0);
    o = seg(&a, C, 100, SISN + 1, TL_TH_ACK, 1000, 100, 32);
    assert_int_equal(o.n_events, 0);
    o = seg(&a, C, 0, SISN + 1, TL_TH_ACK, 1000, 100, 500);
    assert_int_equal(count(&o, TL_EV_RETRANSMISSION), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(analysis_state_stays_small),
        cmocka_unit_test(clean_exchange_has_no_flags),
        cmocka_unit_test(retransmission_when_seq_below_next_expected),
        cmocka_unit_test(spurious_retransmission_of_acked_data),
        cmocka_unit_test(out_of_order_within_rtt),
        cmocka_unit_test(rtt_outlives_a_later_syn_and_a_swap),
        cmocka_unit_test(previous_segment_not_captured_on_gap),
        cmocka_unit_test(dup_ack_counts),
        cmocka_unit_test(fast_retransmission_after_two_dup_acks),
        cmocka_unit_test(fast_retransmission_needs_the_last_ack_within_20ms),
        cmocka_unit_test(zero_window_and_window_update),
        cmocka_unit_test(window_update),
        cmocka_unit_test(window_full_uses_the_receivers_scaled_window),
        cmocka_unit_test(zero_window_probe_one_byte_at_zero_window),
        cmocka_unit_test(keep_alive_seq_minus_one),
        cmocka_unit_test(ack_unseen_segment),
        cmocka_unit_test(seq_wraparound),
        cmocka_unit_test(new_isn_on_syn_starts_afresh),
        cmocka_unit_test(in_order_segments_keep_their_flags),
        cmocka_unit_test(in_order_byte_is_a_probe_only_at_zero_window),
        cmocka_unit_test(next_expected_of_zero_means_none_yet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
