/* test_fsm.c -- the two endpoint state machines, one test per transition.
 *
 * Each test builds the segments of a connection by hand (seg()), feeds them
 * to tl_fsm_segment() and checks the states, the exact changes (in order)
 * and the lifecycle events of the segment that matters. Client ISN 1000,
 * server ISN 5000 unless a test says otherwise.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "track/fsm.h"
#include "track/seq.h"

enum { S = TL_TH_SYN, A = TL_TH_ACK, F = TL_TH_FIN, R = TL_TH_RST, P = TL_TH_PSH };
#define C TL_ROLE_CLIENT
#define SV TL_ROLE_SERVER
#define CISN 1000u
#define SISN 5000u

static tl_packet seg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    tl_packet p;
    memset(&p, 0, sizeof p);
    p.flags = flags;
    p.seq = seq;
    p.ack = (flags & TL_TH_ACK) ? ack : 0;
    p.payload_len = len;
    return p;
}

static tl_time at(double t)
{
    tl_time x = {(int64_t)t, (uint32_t)((t - (double)(int64_t)t) * 1e9 + 0.5)};
    return x;
}

/* Feeds one segment at time t; returns what it produced. */
static tl_track_out feed(tl_fsm *f, tl_role who, uint8_t flags, uint32_t seq, uint32_t ack,
                         uint32_t len, double t)
{
    tl_track_out o;
    tl_track_out_reset(&o);
    tl_packet p = seg(flags, seq, ack, len);
    tl_fsm_segment(f, who, &p, at(t), &o);
    return o;
}

static void assert_change(const tl_track_out *o, int i, tl_role who, tl_tcp_state from,
                          tl_tcp_state to)
{
    assert_true(i < o->n_changes);
    assert_int_equal(o->changes[i].endpoint, who);
    assert_string_equal(tl_tcp_state_name(o->changes[i].from), tl_tcp_state_name(from));
    assert_string_equal(tl_tcp_state_name(o->changes[i].to), tl_tcp_state_name(to));
}

static int find_event(const tl_track_out *o, tl_event_kind k)
{
    for (int i = 0; i < o->n_events; i++)
        if (o->events[i].kind == k) return i;
    return -1;
}

static void assert_event(const tl_track_out *o, tl_event_kind k, tl_role by)
{
    int i = find_event(o, k);
    assert_true(i >= 0);
    assert_int_equal(o->events[i].by, by);
}

static void assert_states(const tl_fsm *f, tl_tcp_state cl, tl_tcp_state sv)
{
    assert_string_equal(tl_tcp_state_name(f->ep[0].state), tl_tcp_state_name(cl));
    assert_string_equal(tl_tcp_state_name(f->ep[1].state), tl_tcp_state_name(sv));
}

/* SYN at 0, SYN-ACK at 0.010, ACK at 0.025: both ESTABLISHED. */
static void handshake(tl_fsm *f)
{
    tl_fsm_init(f);
    feed(f, C, S, CISN, 0, 0, 0.0);
    feed(f, SV, S | A, SISN, CISN + 1, 0, 0.010);
    feed(f, C, A, CISN + 1, SISN + 1, 0, 0.025);
    assert_states(f, TL_ST_ESTABLISHED, TL_ST_ESTABLISHED);
}

/* ---- opening ------------------------------------------------------------ */

static void endpoint_fits_in_64_bytes(void **st)
{
    (void)st;
    assert_true(sizeof(tl_endpoint) <= 64);
}

static void client_syn_makes_server_listen_and_client_syn_sent(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    tl_track_out o = feed(&f, C, S, CISN, 0, 0, 0.0);
    assert_int_equal(o.n_changes, 2);
    assert_change(&o, 0, C, TL_ST_UNKNOWN, TL_ST_SYN_SENT);
    assert_change(&o, 1, SV, TL_ST_UNKNOWN, TL_ST_LISTEN);
    assert_false(tl_fsm_is_finished(&f));
}

static void listen_to_syn_received_on_syn(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, S, CISN, 0, 0, 0.0);
    tl_track_out o = feed(&f, SV, S | A, SISN, CISN + 1, 0, 0.01);
    assert_change(&o, 0, SV, TL_ST_LISTEN, TL_ST_SYN_RECEIVED);
    assert_int_equal(f.ep[1].prev_state, TL_ST_LISTEN);
}

static void syn_sent_to_established_on_syn_ack(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, S, CISN, 0, 0, 0.0);
    tl_track_out o = feed(&f, SV, S | A, SISN, CISN + 1, 0, 0.01);
    assert_int_equal(o.n_changes, 2);
    assert_change(&o, 1, C, TL_ST_SYN_SENT, TL_ST_ESTABLISHED);
    assert_int_equal(o.n_events, 0);   /* handshake completes on the third segment */
}

static void syn_sent_stays_on_syn_ack_with_wrong_ack(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, S, CISN, 0, 0, 0.0);
    feed(&f, SV, S | A, SISN, CISN + 7, 0, 0.01);
    assert_states(&f, TL_ST_SYN_SENT, TL_ST_SYN_RECEIVED);
}

static void syn_with_data_acked_past_isn_plus_one_establishes(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, S, CISN, 0, 20, 0.0);                /* TCP Fast Open: data on the SYN */
    tl_track_out o = feed(&f, SV, S | A, SISN, CISN + 21, 0, 0.01);
    assert_change(&o, 1, C, TL_ST_SYN_SENT, TL_ST_ESTABLISHED);
}

static void syn_received_to_established_on_final_ack_with_rtt(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, S, CISN, 0, 0, 0.0);
    feed(&f, SV, S | A, SISN, CISN + 1, 0, 0.010);
    tl_track_out o = feed(&f, C, A, CISN + 1, SISN + 1, 0, 0.025);
    assert_int_equal(o.n_changes, 1);
    assert_change(&o, 0, SV, TL_ST_SYN_RECEIVED, TL_ST_ESTABLISHED);
    int i = find_event(&o, TL_EV_HANDSHAKE);
    assert_true(i >= 0);
    assert_int_equal(o.events[i].by, C);
    assert_true(fabs(o.events[i].value - 0.025) < 1e-9);   /* SYN -> ACK, as Wireshark's iRTT */
    assert_int_equal(f.opened, TL_OPEN_HANDSHAKE);
}

static void syn_retransmit_reports_backoff_interval(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, S, CISN, 0, 0, 0.0);
    tl_track_out o1 = feed(&f, C, S, CISN, 0, 0, 1.0);
    tl_track_out o2 = feed(&f, C, S, CISN, 0, 0, 3.0);
    assert_int_equal(o1.n_changes, 0);
    int i = find_event(&o1, TL_EV_SYN_RETRANSMIT);
    assert_true(i >= 0 && fabs(o1.events[i].value - 1.0) < 1e-9);
    i = find_event(&o2, TL_EV_SYN_RETRANSMIT);
    assert_true(i >= 0 && fabs(o2.events[i].value - 2.0) < 1e-9);
    /* RTT counts from the latest SYN, as Wireshark's iRTT does. */
    feed(&f, SV, S | A, SISN, CISN + 1, 0, 3.5);
    tl_track_out o3 = feed(&f, C, A, CISN + 1, SISN + 1, 0, 3.75);
    i = find_event(&o3, TL_EV_HANDSHAKE);
    assert_true(i >= 0 && fabs(o3.events[i].value - 0.75) < 1e-9);
}

static void syn_ack_retransmit_is_reported_without_change(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, S, CISN, 0, 0, 0.0);
    feed(&f, SV, S | A, SISN, CISN + 1, 0, 0.5);
    tl_track_out o = feed(&f, SV, S | A, SISN, CISN + 1, 0, 1.5);
    assert_int_equal(o.n_changes, 0);
    assert_event(&o, TL_EV_SYN_RETRANSMIT, SV);
}

static void simultaneous_open_both_syn_received_then_established(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, S, CISN, 0, 0, 0.0);
    tl_track_out o = feed(&f, SV, S, SISN, 0, 0, 0.001);   /* SYN without ACK: crossed */
    assert_change(&o, 0, SV, TL_ST_LISTEN, TL_ST_SYN_SENT);
    assert_change(&o, 1, C, TL_ST_SYN_SENT, TL_ST_SYN_RECEIVED);
    assert_change(&o, 2, SV, TL_ST_SYN_SENT, TL_ST_SYN_RECEIVED);
    assert_event(&o, TL_EV_SIMULTANEOUS_OPEN, TL_ROLE_NONE);
    o = feed(&f, C, S | A, CISN, SISN + 1, 0, 0.002);
    assert_int_equal(o.n_changes, 1);
    assert_change(&o, 0, SV, TL_ST_SYN_RECEIVED, TL_ST_ESTABLISHED);
    assert_int_equal(find_event(&o, TL_EV_SYN_RETRANSMIT), -1);
    o = feed(&f, SV, S | A, SISN, CISN + 1, 0, 0.003);
    assert_change(&o, 0, C, TL_ST_SYN_RECEIVED, TL_ST_ESTABLISHED);
    assert_states(&f, TL_ST_ESTABLISHED, TL_ST_ESTABLISHED);
    assert_int_equal(f.opened, TL_OPEN_SIMULTANEOUS_OPEN);
    assert_int_equal(find_event(&o, TL_EV_HANDSHAKE), -1);
}

static void refused_syn_answered_by_rst(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, S, CISN, 0, 0, 0.0);
    tl_track_out o = feed(&f, SV, R | A, 0, CISN + 1, 0, 0.0001);
    assert_int_equal(o.n_changes, 2);
    assert_change(&o, 0, SV, TL_ST_LISTEN, TL_ST_CLOSED);
    assert_change(&o, 1, C, TL_ST_SYN_SENT, TL_ST_CLOSED);
    assert_event(&o, TL_EV_REFUSED, SV);
    assert_int_equal(f.closed, TL_CLOSE_REFUSED);
    assert_int_equal(f.closed_by, SV);
    assert_true(tl_fsm_is_finished(&f));
}

/* ---- closing ------------------------------------------------------------ */

static void established_to_fin_wait_1_and_close_wait_on_fin(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    tl_track_out o = feed(&f, C, F | A, CISN + 1, SISN + 1, 0, 1.0);
    assert_int_equal(o.n_changes, 2);
    assert_change(&o, 0, C, TL_ST_ESTABLISHED, TL_ST_FIN_WAIT_1);
    assert_change(&o, 1, SV, TL_ST_ESTABLISHED, TL_ST_CLOSE_WAIT);
    assert_event(&o, TL_EV_FIN, C);
    assert_int_equal(f.closed_by, C);
}

static void fin_wait_1_to_fin_wait_2_only_when_fin_acked(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, C, P | A, CISN + 1, SISN + 1, 10, 0.5);
    feed(&f, C, F | A, CISN + 11, SISN + 1, 0, 1.0);   /* FIN at 1011 */
    /* An ACK of the data but not of the FIN: still FIN-WAIT-1. */
    tl_track_out o = feed(&f, SV, A, SISN + 1, CISN + 11, 0, 1.1);
    assert_int_equal(o.n_changes, 0);
    assert_states(&f, TL_ST_FIN_WAIT_1, TL_ST_CLOSE_WAIT);
    o = feed(&f, SV, A, SISN + 1, CISN + 12, 0, 1.2);
    assert_int_equal(o.n_changes, 1);
    assert_change(&o, 0, C, TL_ST_FIN_WAIT_1, TL_ST_FIN_WAIT_2);
}

static void close_wait_to_last_ack_on_fin(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, C, F | A, CISN + 1, SISN + 1, 0, 1.0);
    feed(&f, SV, A, SISN + 1, CISN + 2, 0, 1.1);
    tl_track_out o = feed(&f, SV, F | A, SISN + 1, CISN + 2, 0, 1.2);
    assert_change(&o, 0, SV, TL_ST_CLOSE_WAIT, TL_ST_LAST_ACK);
    assert_change(&o, 1, C, TL_ST_FIN_WAIT_2, TL_ST_TIME_WAIT);
    assert_event(&o, TL_EV_FIN, SV);
    assert_event(&o, TL_EV_TIME_WAIT, C);
    assert_false(tl_fsm_is_finished(&f));
}

static void last_ack_to_closed_on_ack_is_close_4way(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, C, F | A, CISN + 1, SISN + 1, 0, 1.0);
    feed(&f, SV, A, SISN + 1, CISN + 2, 0, 1.1);
    feed(&f, SV, F | A, SISN + 1, CISN + 2, 0, 1.2);
    tl_track_out o = feed(&f, C, A, CISN + 2, SISN + 2, 0, 1.3);
    assert_int_equal(o.n_changes, 1);
    assert_change(&o, 0, SV, TL_ST_LAST_ACK, TL_ST_CLOSED);
    assert_event(&o, TL_EV_CLOSE_4WAY, C);
    assert_int_equal(f.closed, TL_CLOSE_4WAY);
    assert_states(&f, TL_ST_TIME_WAIT, TL_ST_CLOSED);
    assert_true(tl_fsm_is_finished(&f));
}

static void fin_ack_gives_two_transitions_ack_first(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, C, F | A, CISN + 1, SISN + 1, 0, 1.0);
    /* The server's FIN carries the first ACK of the client's FIN. */
    tl_track_out o = feed(&f, SV, F | A, SISN + 1, CISN + 2, 0, 1.1);
    assert_int_equal(o.n_changes, 3);
    assert_change(&o, 0, SV, TL_ST_CLOSE_WAIT, TL_ST_LAST_ACK);
    assert_change(&o, 1, C, TL_ST_FIN_WAIT_1, TL_ST_FIN_WAIT_2);
    assert_change(&o, 2, C, TL_ST_FIN_WAIT_2, TL_ST_TIME_WAIT);
    assert_int_equal(f.ep[0].prev_state, TL_ST_FIN_WAIT_2);
}

static void second_fin_carrying_first_ack_is_close_3way(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, SV, F | A, SISN + 1, CISN + 1, 0, 1.0);   /* server closes first */
    feed(&f, C, F | A, CISN + 1, SISN + 2, 0, 1.1);
    tl_track_out o = feed(&f, SV, A, SISN + 2, CISN + 2, 0, 1.2);
    assert_event(&o, TL_EV_CLOSE_3WAY, SV);
    assert_int_equal(find_event(&o, TL_EV_CLOSE_4WAY), -1);
    assert_int_equal(f.closed, TL_CLOSE_3WAY);
    assert_int_equal(f.closed_by, SV);
    assert_states(&f, TL_ST_CLOSED, TL_ST_TIME_WAIT);
}

static void fin_wait_1_to_closing_on_crossing_fin(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, C, F | A, CISN + 1, SISN + 1, 0, 1.0);
    /* The server's FIN does not ack the client's: sent before it arrived. */
    tl_track_out o = feed(&f, SV, F | A, SISN + 1, CISN + 1, 0, 1.0001);
    assert_int_equal(o.n_changes, 2);
    assert_change(&o, 0, SV, TL_ST_CLOSE_WAIT, TL_ST_CLOSING);
    assert_change(&o, 1, C, TL_ST_FIN_WAIT_1, TL_ST_CLOSING);
    o = feed(&f, C, A, CISN + 2, SISN + 2, 0, 1.001);
    assert_change(&o, 0, SV, TL_ST_CLOSING, TL_ST_TIME_WAIT);
    assert_int_equal(find_event(&o, TL_EV_SIMULTANEOUS_CLOSE), -1);
    o = feed(&f, SV, A, SISN + 2, CISN + 2, 0, 1.002);
    assert_change(&o, 0, C, TL_ST_CLOSING, TL_ST_TIME_WAIT);
    assert_event(&o, TL_EV_TIME_WAIT, C);
    assert_event(&o, TL_EV_SIMULTANEOUS_CLOSE, TL_ROLE_NONE);
    assert_int_equal(f.closed, TL_CLOSE_SIMULTANEOUS);
    assert_states(&f, TL_ST_TIME_WAIT, TL_ST_TIME_WAIT);
    assert_true(tl_fsm_is_finished(&f));
}

static void fin_retransmission_is_not_a_new_fin(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, C, F | A, CISN + 1, SISN + 1, 0, 1.0);
    tl_track_out o = feed(&f, C, F | A, CISN + 1, SISN + 1, 0, 1.2);
    assert_int_equal(o.n_changes, 0);
    assert_int_equal(find_event(&o, TL_EV_FIN), -1);
}

static void seq_wraparound_fin_ack_recognised(void **st)
{
    (void)st;
    const uint32_t cisn = 0xFFFFFFF0u, sisn = 0xFFFFFFFEu;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, S, cisn, 0, 0, 0.0);
    feed(&f, SV, S | A, sisn, cisn + 1, 0, 0.01);
    feed(&f, C, A, cisn + 1, sisn + 1, 0, 0.02);
    /* 32 bytes of data carry the client's sequence past 2^32. */
    feed(&f, C, P | A, cisn + 1, sisn + 1, 32, 0.03);
    uint32_t fin = cisn + 33;   /* 0x00000011 */
    assert_true(fin < cisn && tl_seq_gt(fin, cisn));
    feed(&f, C, F | A, fin, sisn + 1, 0, 0.04);
    /* An ACK of the first 8 bytes, still before the wrap: 0xFFFFFFF9 is
     * numerically above the FIN's 0x11 but before it on the circle. */
    tl_track_out o = feed(&f, SV, A, sisn + 1, cisn + 9, 0, 0.05);
    assert_int_equal(o.n_changes, 0);
    o = feed(&f, SV, A, sisn + 1, fin, 0, 0.055);                  /* all data, not the FIN */
    assert_int_equal(o.n_changes, 0);
    o = feed(&f, SV, F | A, sisn + 1, fin + 1, 0, 0.06);           /* server seq wraps too */
    assert_change(&o, 1, C, TL_ST_FIN_WAIT_1, TL_ST_FIN_WAIT_2);
    assert_change(&o, 2, C, TL_ST_FIN_WAIT_2, TL_ST_TIME_WAIT);
    o = feed(&f, C, A, fin + 1, sisn + 2, 0, 0.07);                /* ack 0x00000000 */
    assert_change(&o, 0, SV, TL_ST_LAST_ACK, TL_ST_CLOSED);
    assert_int_equal(f.closed, TL_CLOSE_3WAY);
}

static void half_close_when_fin_sender_acks_later_data(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, C, F | A, CISN + 1, SISN + 1, 0, 1.0);   /* shutdown(SHUT_WR) */
    feed(&f, SV, A, SISN + 1, CISN + 2, 0, 1.1);
    tl_track_out o = feed(&f, SV, P | A, SISN + 1, CISN + 2, 100, 1.2);
    assert_int_equal(find_event(&o, TL_EV_HALF_CLOSE), -1);   /* not yet known to be read */
    assert_states(&f, TL_ST_FIN_WAIT_2, TL_ST_CLOSE_WAIT);
    o = feed(&f, C, A, CISN + 2, SISN + 101, 0, 1.3);
    assert_event(&o, TL_EV_HALF_CLOSE, C);
    o = feed(&f, SV, F | A, SISN + 101, CISN + 2, 0, 1.4);
    assert_change(&o, 1, C, TL_ST_FIN_WAIT_2, TL_ST_TIME_WAIT);
    feed(&f, C, A, CISN + 2, SISN + 102, 0, 1.5);
    assert_int_equal(f.closed, TL_CLOSE_4WAY);
}

/* ---- resets ------------------------------------------------------------- */

static void rst_moves_receiver_and_sender_to_closed(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    tl_track_out o = feed(&f, C, R | A, CISN + 1, SISN + 1, 0, 1.0);
    assert_int_equal(o.n_changes, 2);
    assert_change(&o, 0, C, TL_ST_ESTABLISHED, TL_ST_CLOSED);
    assert_change(&o, 1, SV, TL_ST_ESTABLISHED, TL_ST_CLOSED);
    assert_true(tl_fsm_is_finished(&f));
}

static void rst_abort_after_sending_data_peer_sent_none(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    /* Client sends "hello world", the server ACKs, client aborts (SO_LINGER {1,0}). */
    feed(&f, C, P | A, CISN + 1, SISN + 1, 11, 0.5);
    feed(&f, SV, A, SISN + 1, CISN + 12, 0, 0.6);
    tl_track_out o = feed(&f, C, R | A, CISN + 12, SISN + 1, 0, 0.7);
    assert_event(&o, TL_EV_RST_ABORT, C);
    assert_int_equal(f.closed, TL_CLOSE_RST_ABORT);
    assert_int_equal(f.closed_by, C);
}

static void rst_abort_after_reading_the_reply(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    /* Request, reply, then the client aborts: it sent data, so abort. */
    feed(&f, C, P | A, CISN + 1, SISN + 1, 11, 0.5);
    feed(&f, SV, P | A, SISN + 1, CISN + 12, 2, 0.6);
    feed(&f, C, A, CISN + 12, SISN + 3, 0, 0.65);
    tl_track_out o = feed(&f, C, R | A, CISN + 12, SISN + 3, 0, 0.7);
    assert_event(&o, TL_EV_RST_ABORT, C);
    assert_int_equal(find_event(&o, TL_EV_RST_UNREAD_DATA), -1);
}

static void rst_unread_data_after_received_request(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    /* Client sends data; the server ACKs it and closes without reading. */
    feed(&f, C, P | A, CISN + 1, SISN + 1, 20, 0.5);
    feed(&f, SV, A, SISN + 1, CISN + 21, 0, 0.6);
    tl_track_out o = feed(&f, SV, R | A, SISN + 1, CISN + 21, 0, 0.7);
    assert_event(&o, TL_EV_RST_UNREAD_DATA, SV);
    assert_int_equal(find_event(&o, TL_EV_RST_ABORT), -1);
    assert_int_equal(f.closed, TL_CLOSE_RST_ABORT);
    assert_int_equal(f.closed_by, SV);
}

static void rst_after_answering_the_data_is_rst_abort(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, C, P | A, CISN + 1, SISN + 1, 20, 0.5);
    feed(&f, SV, P | A, SISN + 1, CISN + 21, 5, 0.6);    /* it replied: it read */
    tl_track_out o = feed(&f, SV, R | A, SISN + 6, CISN + 21, 0, 0.7);
    assert_event(&o, TL_EV_RST_ABORT, SV);
}

static void rst_closed_socket_answers_data_after_fin(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, SV, F | A, SISN + 1, CISN + 1, 0, 1.0);      /* server close() */
    feed(&f, C, A, CISN + 1, SISN + 2, 0, 1.1);
    assert_states(&f, TL_ST_CLOSE_WAIT, TL_ST_FIN_WAIT_2);
    feed(&f, C, P | A, CISN + 1, SISN + 2, 7, 1.2);       /* client send() */
    tl_track_out o = feed(&f, SV, R, SISN + 2, 0, 0, 1.3);
    assert_event(&o, TL_EV_RST_CLOSED_SOCKET, SV);
    assert_int_equal(find_event(&o, TL_EV_HALF_CLOSE), -1);
    assert_change(&o, 0, SV, TL_ST_FIN_WAIT_2, TL_ST_CLOSED);
    assert_change(&o, 1, C, TL_ST_CLOSE_WAIT, TL_ST_CLOSED);
    assert_int_equal(f.closed, TL_CLOSE_RST_ABORT);
}

static void rst_in_time_wait_at_rcv_nxt_kills_time_wait(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, C, F | A, CISN + 1, SISN + 1, 0, 1.0);
    feed(&f, SV, F | A, SISN + 1, CISN + 2, 0, 1.1);
    feed(&f, C, A, CISN + 2, SISN + 2, 0, 1.2);
    assert_states(&f, TL_ST_TIME_WAIT, TL_ST_CLOSED);
    tl_track_out o = feed(&f, SV, R, SISN + 2, 0, 0, 2.0);   /* Linux: tcp_rfc1337 = 0 */
    assert_int_equal(o.n_changes, 1);
    assert_change(&o, 0, C, TL_ST_TIME_WAIT, TL_ST_CLOSED);
    assert_int_equal(f.closed, TL_CLOSE_3WAY);   /* the close stays what it was */
    assert_int_equal(o.n_events, 0);
}

static void rst_in_time_wait_off_rcv_nxt_is_ignored(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, C, F | A, CISN + 1, SISN + 1, 0, 1.0);
    feed(&f, SV, F | A, SISN + 1, CISN + 2, 0, 1.1);
    feed(&f, C, A, CISN + 2, SISN + 2, 0, 1.2);
    tl_track_out o = feed(&f, SV, R, SISN + 900, 0, 0, 2.0);
    assert_int_equal(o.n_changes, 0);
    assert_states(&f, TL_ST_TIME_WAIT, TL_ST_CLOSED);
}

/* ---- mid-stream pickup -------------------------------------------------- */

static void midstream_data_both_ways_gives_established(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    tl_track_out o = feed(&f, C, P | A, 7000, 9000, 50, 0.0);
    assert_change(&o, 0, C, TL_ST_UNKNOWN, TL_ST_ESTABLISHED);
    assert_int_equal(f.ep[1].state, TL_ST_UNKNOWN);
    assert_int_equal(f.opened, TL_OPEN_MIDSTREAM);
    o = feed(&f, SV, A, 9000, 7050, 0, 0.1);
    assert_change(&o, 0, SV, TL_ST_UNKNOWN, TL_ST_ESTABLISHED);
    assert_int_equal(find_event(&o, TL_EV_HANDSHAKE), -1);
}

static void midstream_fin_from_unknown_gives_fin_wait_1(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    tl_track_out o = feed(&f, SV, F | A, 9000, 7000, 0, 0.0);
    assert_change(&o, 0, SV, TL_ST_UNKNOWN, TL_ST_FIN_WAIT_1);
    assert_change(&o, 1, C, TL_ST_UNKNOWN, TL_ST_CLOSE_WAIT);
    assert_int_equal(f.opened, TL_OPEN_MIDSTREAM);
    o = feed(&f, C, F | A, 7000, 9001, 0, 0.1);
    assert_change(&o, 0, C, TL_ST_CLOSE_WAIT, TL_ST_LAST_ACK);
    assert_change(&o, 2, SV, TL_ST_FIN_WAIT_2, TL_ST_TIME_WAIT);
}

static void midstream_pure_acks_alone_stay_unknown(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, A, 7000, 9000, 0, 0.0);
    feed(&f, SV, A, 9000, 7000, 0, 0.1);
    assert_states(&f, TL_ST_UNKNOWN, TL_ST_UNKNOWN);
}

static void midstream_syn_ack_first_is_not_a_handshake(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, SV, S | A, SISN, CISN + 1, 0, 0.0);
    tl_track_out o = feed(&f, C, A, CISN + 1, SISN + 1, 0, 0.1);
    assert_states(&f, TL_ST_ESTABLISHED, TL_ST_ESTABLISHED);
    assert_int_equal(f.opened, TL_OPEN_MIDSTREAM);
    assert_int_equal(find_event(&o, TL_EV_HANDSHAKE), -1);
}

/* Both ESTABLISHED, but the client never sent an ACK number: its first
 * one is recorded as it is, not compared with an unset last_ack (the
 * short path in fsm.h takes only endpoints that have one). */
static void first_ack_number_after_established_is_recorded(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, P, CISN + 1, 0, 10, 0.0);
    feed(&f, SV, A | P, SISN + 1, CISN + 11, 20, 0.1);
    assert_states(&f, TL_ST_ESTABLISHED, TL_ST_ESTABLISHED);
    assert_false(f.ep[0].ack_known);
    feed(&f, C, A, CISN + 11, 0x90000000u, 0, 0.2);   /* "before" 0 in sequence space */
    assert_true(f.ep[0].ack_known);
    assert_int_equal(f.ep[0].last_ack, 0x90000000u);
    assert_true(f.plain);
    feed(&f, C, A, CISN + 11, 0x90000005u, 0, 0.3);
    assert_int_equal(f.ep[0].last_ack, 0x90000005u);
    feed(&f, C, A, CISN + 11, 0x90000001u, 0, 0.4);   /* an older ACK leaves the maximum */
    assert_int_equal(f.ep[0].last_ack, 0x90000005u);
}

/* ---- end of capture ----------------------------------------------------- */

static void finish_syn_unanswered(void **st)
{
    (void)st;
    tl_fsm f;
    tl_fsm_init(&f);
    feed(&f, C, S, CISN, 0, 0, 0.0);
    feed(&f, C, S, CISN, 0, 0, 1.0);
    tl_track_out o;
    tl_track_out_reset(&o);
    tl_fsm_finish(&f, &o);
    assert_int_equal(f.closed, TL_CLOSE_SYN_UNANSWERED);
    assert_int_equal(o.n_changes, 0);
    assert_states(&f, TL_ST_SYN_SENT, TL_ST_LISTEN);
}

static void finish_half_closed_names_the_fin_sender(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, SV, F | A, SISN + 1, CISN + 1, 0, 1.0);   /* server killed: kernel FIN */
    feed(&f, C, A, CISN + 1, SISN + 2, 0, 1.1);
    tl_track_out o;
    tl_track_out_reset(&o);
    tl_fsm_finish(&f, &o);
    assert_int_equal(f.closed, TL_CLOSE_HALF_CLOSED);
    assert_int_equal(f.closed_by, SV);
    assert_states(&f, TL_ST_CLOSE_WAIT, TL_ST_FIN_WAIT_2);
    assert_false(tl_fsm_is_finished(&f));
}

static void finish_established_is_open(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    tl_track_out o;
    tl_track_out_reset(&o);
    tl_fsm_finish(&f, &o);
    assert_int_equal(f.closed, TL_CLOSE_OPEN);
    assert_int_equal(o.n_events, 0);
}

static void finish_reports_close_whose_last_ack_was_not_seen(void **st)
{
    (void)st;
    tl_fsm f;
    handshake(&f);
    feed(&f, C, F | A, CISN + 1, SISN + 1, 0, 1.0);
    feed(&f, SV, F | A, SISN + 1, CISN + 2, 0, 1.1);
    assert_false(tl_fsm_is_finished(&f));
    tl_track_out o;
    tl_track_out_reset(&o);
    tl_fsm_finish(&f, &o);
    assert_int_equal(f.closed, TL_CLOSE_3WAY);
    assert_event(&o, TL_EV_CLOSE_3WAY, C);
    assert_states(&f, TL_ST_TIME_WAIT, TL_ST_LAST_ACK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(endpoint_fits_in_64_bytes),
        cmocka_unit_test(client_syn_makes_server_listen_and_client_syn_sent),
        cmocka_unit_test(listen_to_syn_received_on_syn),
        cmocka_unit_test(syn_sent_to_established_on_syn_ack),
        cmocka_unit_test(syn_sent_stays_on_syn_ack_with_wrong_ack),
        cmocka_unit_test(syn_with_data_acked_past_isn_plus_one_establishes),
        cmocka_unit_test(syn_received_to_established_on_final_ack_with_rtt),
        cmocka_unit_test(syn_retransmit_reports_backoff_interval),
        cmocka_unit_test(syn_ack_retransmit_is_reported_without_change),
        cmocka_unit_test(simultaneous_open_both_syn_received_then_established),
        cmocka_unit_test(refused_syn_answered_by_rst),
        cmocka_unit_test(established_to_fin_wait_1_and_close_wait_on_fin),
        cmocka_unit_test(fin_wait_1_to_fin_wait_2_only_when_fin_acked),
        cmocka_unit_test(close_wait_to_last_ack_on_fin),
        cmocka_unit_test(last_ack_to_closed_on_ack_is_close_4way),
        cmocka_unit_test(fin_ack_gives_two_transitions_ack_first),
        cmocka_unit_test(second_fin_carrying_first_ack_is_close_3way),
        cmocka_unit_test(fin_wait_1_to_closing_on_crossing_fin),
        cmocka_unit_test(fin_retransmission_is_not_a_new_fin),
        cmocka_unit_test(seq_wraparound_fin_ack_recognised),
        cmocka_unit_test(half_close_when_fin_sender_acks_later_data),
        cmocka_unit_test(rst_moves_receiver_and_sender_to_closed),
        cmocka_unit_test(rst_abort_after_sending_data_peer_sent_none),
        cmocka_unit_test(rst_abort_after_reading_the_reply),
        cmocka_unit_test(rst_unread_data_after_received_request),
        cmocka_unit_test(rst_after_answering_the_data_is_rst_abort),
        cmocka_unit_test(rst_closed_socket_answers_data_after_fin),
        cmocka_unit_test(rst_in_time_wait_at_rcv_nxt_kills_time_wait),
        cmocka_unit_test(rst_in_time_wait_off_rcv_nxt_is_ignored),
        cmocka_unit_test(midstream_data_both_ways_gives_established),
        cmocka_unit_test(midstream_fin_from_unknown_gives_fin_wait_1),
        cmocka_unit_test(midstream_pure_acks_alone_stay_unknown),
        cmocka_unit_test(midstream_syn_ack_first_is_not_a_handshake),
        cmocka_unit_test(first_ack_number_after_established_is_recorded),
        cmocka_unit_test(finish_syn_unanswered),
        cmocka_unit_test(finish_half_closed_names_the_fin_sender),
        cmocka_unit_test(finish_established_is_open),
        cmocka_unit_test(finish_reports_close_whose_last_ack_was_not_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
