/* test_zeek.c -- Zeek-compatible conn_state, history, sizes and split rules
 * (src/track/zeek.c), each test named after the Zeek rule it proves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcplens/sink_zeek.h"
#include "track/zeek.h"

enum { F = TL_TH_FIN, S = TL_TH_SYN, R = TL_TH_RST, P = TL_TH_PSH, A = TL_TH_ACK };

#define CLI_ISN 1000u
#define SRV_ISN 5000u

/* A segment between client 10.0.0.1:40000 and server 10.0.0.2:80. */
static tl_packet seg(bool from_client, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    tl_packet p;
    memset(&p, 0, sizeof p);
    p.ip_version = 4;
    p.src.family = p.dst.family = 4;
    uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
    memcpy(p.src.bytes, from_client ? c : s, 4);
    memcpy(p.dst.bytes, from_client ? s : c, 4);
    p.sport = from_client ? 40000 : 80;
    p.dport = from_client ? 80 : 40000;
    p.flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.win = 1000;
    p.tcp_hlen = 20;
    p.ip_hlen = 20;
    p.payload_len = p.payload_caplen = len;
    p.ip_len = 40 + len;
    return p;
}

static tl_time at(double s)
{
    tl_time t = {1700000000 + (int64_t)s, (uint32_t)((s - (int64_t)s) * 1e9)};
    return t;
}

/* Feeds segments (the first decides roles); is_orig = sender is the
 * originator decided there. */
typedef struct conn {
    tl_zeek z;
    bool flipped;
    bool orig_is_client;
    double t;
    tl_conn_record roles;      /* originator/responder decided at the first packet */
} conn;

static void feed(conn *c, const tl_packet *p)
{
    bool from_client = p->sport == 40000;
    if (c->t == 0) {
        tl_zeek_init(&c->z, at(0));
        c->flipped = tl_zeek_first_packet_flips(&c->z, p);
        c->orig_is_client = from_client != c->flipped;
        /* the caller keeps the addresses (tl_zeek_finish swaps them on a later flip) */
        c->roles.orig_h = c->flipped ? p->dst : p->src;
        c->roles.resp_h = c->flipped ? p->src : p->dst;
        c->roles.orig_p = c->flipped ? p->dport : p->sport;
        c->roles.resp_p = c->flipped ? p->sport : p->dport;
    }
    tl_zeek_segment(&c->z, from_client == c->orig_is_client, p, at(c->t));
    c->t += 0.01;
}

static tl_conn_record finish(const conn *c)
{
    tl_conn_record r;
    memset(&r, 0, sizeof r);
    r.ts = at(0);
    r.orig_h = c->roles.orig_h;
    r.resp_h = c->roles.resp_h;
    r.orig_p = c->roles.orig_p;
    r.resp_p = c->roles.resp_p;
    tl_zeek_finish(&c->z, &r);
    return r;
}

/* SYN, SYN-ACK, ACK, 5 bytes up, ACK, 7 bytes down, ACK, FIN, FIN-ACK, ACK. */
static void normal_conn(conn *c)
{
    tl_packet ps[] = {
        seg(true, S, CLI_ISN, 0, 0),
        seg(false, S | A, SRV_ISN, CLI_ISN + 1, 0),
        seg(true, A, CLI_ISN + 1, SRV_ISN + 1, 0),
        seg(true, P | A, CLI_ISN + 1, SRV_ISN + 1, 5),
        seg(false, A, SRV_ISN + 1, CLI_ISN + 6, 0),
        seg(false, P | A, SRV_ISN + 1, CLI_ISN + 6, 7),
        seg(true, A, CLI_ISN + 6, SRV_ISN + 8, 0),
        seg(true, F | A, CLI_ISN + 6, SRV_ISN + 8, 0),
        seg(false, F | A, SRV_ISN + 8, CLI_ISN + 7, 0),
        seg(true, A, CLI_ISN + 7, SRV_ISN + 9, 0),
    };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) feed(c, &ps[i]);
}

static void sf_for_normal_close_history_ShADadFf(void **st)
{
    (void)st;
    conn c = {0};
    normal_conn(&c);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.conn_state, "SF");
    assert_string_equal(r.history, "ShADadFf");
    assert_int_equal(r.orig_pkts, 6);
    assert_int_equal(r.resp_pkts, 4);
    assert_int_equal(r.orig_bytes, 5);
    assert_int_equal(r.resp_bytes, 7);
    assert_int_equal(r.orig_ip_bytes, 6 * 40 + 5);
    assert_int_equal(r.resp_ip_bytes, 4 * 40 + 7);
    assert_int_equal(r.orig_p, 40000);
    assert_int_equal(r.resp_p, 80);
    /* The final ACK comes after both FINs: not part of Zeek's duration. */
    assert_true(r.duration > 0.079 && r.duration < 0.081);
}

static void rej_for_syn_answered_by_rst(void **st)
{
    (void)st;
    conn c = {0};
    tl_packet a = seg(true, S, CLI_ISN, 0, 0), b = seg(false, R | A, 0, CLI_ISN + 1, 0);
    feed(&c, &a);
    feed(&c, &b);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.conn_state, "REJ");
    assert_string_equal(r.history, "Sr");
}

static void s0_unanswered_syn_repeated_with_same_isn(void **st)
{
    (void)st;
    conn c = {0};
    tl_packet a = seg(true, S, CLI_ISN, 0, 0);
    feed(&c, &a);
    feed(&c, &a);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.conn_state, "S0");
    assert_string_equal(r.history, "S");  /* same sequence number: no second S */
    assert_int_equal(r.orig_pkts, 2);
    assert_int_equal(r.orig_bytes, 0);
}

/* Zeek re-bases the sequence space on the new SYN, so its relative sequence
 * number is 0 again: no second 'S', and bytes count from the new ISN. */
static void repeated_syn_with_new_isn_rebases_without_second_S(void **st)
{
    (void)st;
    conn c = {0};
    tl_packet a = seg(true, S, CLI_ISN, 0, 0), b = seg(true, S, CLI_ISN + 77, 0, 0);
    tl_packet sa = seg(false, S | A, SRV_ISN, CLI_ISN + 78, 0);
    tl_packet d = seg(true, P | A, CLI_ISN + 78, SRV_ISN + 1, 10);
    feed(&c, &a);
    feed(&c, &b);
    feed(&c, &sa);
    feed(&c, &d);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.history, "ShD");
    assert_int_equal(r.orig_bytes, 10);
}

/* SYN, SYN-ACK, ACK with the given initial sequence numbers. */
static void handshake_isns(conn *c, uint32_t cli_isn, uint32_t srv_isn)
{
    tl_packet ps[] = {
        seg(true, S, cli_isn, 0, 0),
        seg(false, S | A, srv_isn, cli_isn + 1, 0),
        seg(true, A, cli_isn + 1, srv_isn + 1, 0),
    };
    for (size_t i = 0; i < 3; i++) feed(c, &ps[i]);
}

static void handshake(conn *c)
{
    handshake_isns(c, CLI_ISN, SRV_ISN);
}

static void rsto_when_originator_resets_rstr_when_responder_does(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    tl_packet rst = seg(true, R | A, CLI_ISN + 1, SRV_ISN + 1, 0);
    feed(&c, &rst);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.conn_state, "RSTO");
    assert_string_equal(r.history, "ShAR");

    conn d = {0};
    handshake(&d);
    tl_packet rrst = seg(false, R | A, SRV_ISN + 1, CLI_ISN + 1, 0);
    feed(&d, &rrst);
    r = finish(&d);
    assert_string_equal(r.conn_state, "RSTR");
    assert_string_equal(r.history, "ShAr");
}

static void rstos0_for_syn_then_own_rst(void **st)
{
    (void)st;
    conn c = {0};
    tl_packet a = seg(true, S, CLI_ISN, 0, 0), b = seg(true, R, CLI_ISN + 1, 0, 0);
    feed(&c, &a);
    feed(&c, &b);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.conn_state, "RSTOS0");
    assert_string_equal(r.history, "SR");
}

static void sh_for_syn_then_fin_without_reply(void **st)
{
    (void)st;
    conn c = {0};
    tl_packet a = seg(true, S, CLI_ISN, 0, 0), b = seg(true, F | A, CLI_ISN + 1, 0, 0);
    feed(&c, &a);
    feed(&c, &b);
    assert_string_equal(finish(&c).conn_state, "SH");
}

static void s1_established_s2_s3_one_side_closed(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    assert_string_equal(finish(&c).conn_state, "S1");
    tl_packet fin = seg(true, F | A, CLI_ISN + 1, SRV_ISN + 1, 0);
    feed(&c, &fin);
    assert_string_equal(finish(&c).conn_state, "S2");

    conn d = {0};
    handshake(&d);
    tl_packet rfin = seg(false, F | A, SRV_ISN + 1, CLI_ISN + 1, 0);
    feed(&d, &rfin);
    assert_string_equal(finish(&d).conn_state, "S3");
}

static void flip_on_first_syn_ack_gives_caret(void **st)
{
    (void)st;
    conn c = {0};
    tl_packet a = seg(false, S | A, SRV_ISN, CLI_ISN + 1, 0);
    tl_packet b = seg(true, A, CLI_ISN + 1, SRV_ISN + 1, 0);
    feed(&c, &a);
    assert_true(c.flipped);
    feed(&c, &b);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.history, "^hA");
    assert_int_equal(r.orig_p, 40000);  /* the SYN-ACK's destination */
    assert_int_equal(r.resp_p, 80);
    assert_int_equal(r.orig_pkts, 1);
    assert_int_equal(r.resp_pkts, 1);
    assert_string_equal(r.conn_state, "S1");
}

/* The originator's SYN-ACK, then the SYN it answers (reordered): Zeek flips
 * the roles late, and tl_zeek_finish swaps the addresses it was given. */
static void late_flip_swaps_the_given_addresses(void **st)
{
    (void)st;
    tl_zeek z;
    tl_packet sa = seg(true, S | A, CLI_ISN, SRV_ISN + 1, 0);
    tl_packet syn = seg(false, S, SRV_ISN, 0, 0);
    tl_zeek_init(&z, at(0));  /* roles given without tl_zeek_first_packet_flips: not flipped */
    tl_zeek_segment(&z, true, &sa, at(0));
    tl_zeek_segment(&z, false, &syn, at(0.01));
    tl_conn_record r;
    memset(&r, 0, sizeof r);
    r.ts = at(0);
    r.orig_h = sa.src;
    r.resp_h = sa.dst;
    r.orig_p = sa.sport;
    r.resp_p = sa.dport;
    tl_zeek_finish(&z, &r);
    assert_non_null(strchr(r.history, '^'));
    assert_int_equal(r.orig_p, 80);      /* the SYN's sender */
    assert_int_equal(r.resp_p, 40000);
    assert_int_equal(r.orig_h.bytes[3], 2);
    assert_int_equal(r.resp_h.bytes[3], 1);
    tl_zeek_release(&z);
}

/* Histories longer than the in-place buffer move to the heap intact, up to
 * TL_HISTORY_MAX - 1 letters. */
static void long_history_kept_whole_up_to_the_maximum(void **st)
{
    (void)st;
    conn c = {0};
    tl_packet syn = seg(true, S, CLI_ISN, 0, 0);
    feed(&c, &syn);
    /* each FIN with a new sequence number adds another 'F' */
    for (uint32_t i = 1; i < 2 * TL_HISTORY_MAX; i++) {
        tl_packet fin = seg(true, F, CLI_ISN + i, 0, 0);
        tl_zeek_segment(&c.z, true, &fin, at(0));
    }
    tl_conn_record r = finish(&c);
    assert_int_equal(strlen(r.history), TL_HISTORY_MAX - 1);
    assert_int_equal(r.history[0], 'S');
    for (size_t i = 1; i < TL_HISTORY_MAX - 1; i++) assert_int_equal(r.history[i], 'F');
    tl_zeek_release(&c.z);
}

/* The record's history is the letters then zeros to its end, at every
 * length, in place (whatever lies past the letters there) or on the heap. */
static void record_history_is_the_letters_then_zeros(void **st)
{
    (void)st;
    for (uint32_t n = 1; n < TL_HISTORY_MAX; n++) {
        conn c = {0};
        tl_packet syn = seg(true, S, CLI_ISN, 0, 0);
        feed(&c, &syn);
        for (uint32_t i = 1; i < n; i++) {
            tl_packet fin = seg(true, F, CLI_ISN + i, 0, 0);
            tl_zeek_segment(&c.z, true, &fin, at(0));
        }
        assert_int_equal(c.z.hist_len, n);
        if (n + 1 < TL_ZK_HIST_INLINE) memset(c.z.hist.in + n + 1, 'X', TL_ZK_HIST_INLINE - n - 1);
        tl_conn_record r;
        memset(&r, 0x55, sizeof r);
        r.ts = at(0);
        tl_zeek_finish(&c.z, &r);
        assert_int_equal(r.history[0], 'S');
        for (uint32_t i = 1; i < n; i++) assert_int_equal(r.history[i], 'F');
        for (uint32_t i = n; i < TL_HISTORY_MAX; i++) assert_int_equal(r.history[i], 0);
        tl_zeek_release(&c.z);
    }
}

static void midstream_flip_only_from_likely_server_port(void **st)
{
    (void)st;
    tl_zeek z;
    tl_packet from_srv = seg(false, A, SRV_ISN, CLI_ISN, 10);
    tl_packet from_cli = seg(true, A, CLI_ISN, SRV_ISN, 10);
    tl_zeek_init(&z, at(0));
    assert_true(tl_zeek_first_packet_flips(&z, &from_srv));
    tl_zeek_init(&z, at(0));
    assert_false(tl_zeek_first_packet_flips(&z, &from_cli));
    /* Both on likely server ports: only a non-SYN from the lower port flips. */
    tl_packet both = seg(false, A, 1, 1, 0);
    both.sport = 80;
    both.dport = 6669;
    tl_zeek_init(&z, at(0));
    assert_true(tl_zeek_first_packet_flips(&z, &both));
    both.sport = 6669;
    both.dport = 80;
    tl_zeek_init(&z, at(0));
    assert_false(tl_zeek_first_packet_flips(&z, &both));
    /* A SYN never flips. */
    tl_packet syn = seg(false, S, 1, 0, 0);
    tl_zeek_init(&z, at(0));
    assert_false(tl_zeek_first_packet_flips(&z, &syn));
}

static void bytes_counted_by_sequence_space_not_payload_sum(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    /* 100 bytes sent twice (retransmission), then 50 bytes after 30 that were
     * never captured; the server acknowledges everything. Payload sum would
     * be 250, sequence space says 180. */
    tl_packet d1 = seg(true, P | A, CLI_ISN + 1, SRV_ISN + 1, 100);
    tl_packet d3 = seg(true, P | A, CLI_ISN + 131, SRV_ISN + 1, 50);
    tl_packet ack = seg(false, A, SRV_ISN + 1, CLI_ISN + 181, 0);
    feed(&c, &d1);
    feed(&c, &d1);
    feed(&c, &d3);
    feed(&c, &ack);
    tl_conn_record r = finish(&c);
    assert_int_equal(r.orig_bytes, 180);
    assert_int_equal(r.resp_bytes, 0);
    assert_int_equal(r.missed_bytes, 30);
    assert_string_equal(r.history, "ShADTaG");
}

/* ACKs of responder data the capture never saw: each hole is a content gap,
 * 'g' at the 1st and 10th (Zeek's scaled history), all of it missed_bytes,
 * and the bytes still count by sequence space. */
static void gaps_in_unseen_data_give_g_at_first_and_tenth(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    for (uint32_t k = 1; k <= 11; k++) {
        tl_packet a = seg(true, A, CLI_ISN + 1, SRV_ISN + 1 + 100 * k, 0);
        feed(&c, &a);
    }
    tl_packet ps[] = {
        seg(true, F | A, CLI_ISN + 1, SRV_ISN + 1101, 0),
        seg(false, F | A, SRV_ISN + 1101, CLI_ISN + 2, 0),
        seg(true, A, CLI_ISN + 2, SRV_ISN + 1102, 0),
    };
    for (size_t i = 0; i < 3; i++) feed(&c, &ps[i]);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.conn_state, "SF");
    assert_string_equal(r.history, "ShAggFf");
    assert_int_equal(r.orig_bytes, 0);
    assert_int_equal(r.resp_bytes, 1100);
    assert_int_equal(r.missed_bytes, 1100);
    assert_int_equal(r.orig_pkts, 15);
    assert_int_equal(r.resp_pkts, 2);
}

/* Data above a hole is held, and delivered once the hole fills: no gap. The
 * late segment does not advance the highest sequence number, which Zeek
 * counts as a retransmission ('T'). */
static void held_data_filled_later_is_no_gap_but_T(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    tl_packet ps[] = {
        seg(true, P | A, CLI_ISN + 1, SRV_ISN + 1, 100),
        seg(true, P | A, CLI_ISN + 201, SRV_ISN + 1, 100),
        seg(true, P | A, CLI_ISN + 101, SRV_ISN + 1, 100),
        seg(false, A, SRV_ISN + 1, CLI_ISN + 301, 0),
    };
    for (size_t i = 0; i < 4; i++) feed(&c, &ps[i]);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.conn_state, "S1");
    assert_string_equal(r.history, "ShADTa");
    assert_int_equal(r.orig_bytes, 300);
    assert_int_equal(r.missed_bytes, 0);
    tl_zeek_release(&c.z);
}

/* Over 4 GiB from an ISN just below 2^32: the sequence numbers wrap twice
 * and the byte count stays exact (conn.log sizes are 64-bit). */
static void bytes_exact_above_4_gib_across_sequence_wraps(void **st)
{
    (void)st;
    const uint32_t isn = 0xffff0000u, len = 60000, n = 80000;  /* 4.8 GB */
    conn c = {0};
    handshake_isns(&c, isn, SRV_ISN);
    uint32_t seq = isn + 1;
    for (uint32_t i = 0; i < n; i++) {
        tl_packet d = seg(true, P | A, seq, SRV_ISN + 1, len);
        seq += len;  /* modulo 2^32 */
        tl_packet a = seg(false, A, SRV_ISN + 1, seq, 0);
        feed(&c, &d);
        feed(&c, &a);
    }
    tl_packet fin[] = {
        seg(true, F | A, seq, SRV_ISN + 1, 0),
        seg(false, F | A, SRV_ISN + 1, seq + 1, 0),
        seg(true, A, seq + 1, SRV_ISN + 2, 0),
    };
    for (size_t i = 0; i < 3; i++) feed(&c, &fin[i]);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.conn_state, "SF");
    assert_string_equal(r.history, "ShADaFf");
    assert_int_equal(r.orig_bytes, (uint64_t)n * len);
    assert_int_equal(r.resp_bytes, 0);
    assert_int_equal(r.missed_bytes, 0);
    assert_int_equal(r.orig_pkts, 3 + n + 1);
}

/* The fast path (zeek.c: segment_fast) keeps each side's first 'D' and 'A'
 * by slot; after a late flip the letters still follow Zeek's roles. */
static void first_d_and_a_after_late_flip_follow_the_new_roles(void **st)
{
    (void)st;
    tl_zeek z;
    tl_zeek_init(&z, at(0));  /* roles given without tl_zeek_first_packet_flips */
    tl_packet ps[] = {
        seg(false, S | A, SRV_ISN, CLI_ISN + 1, 0),     /* slot 0: the server */
        seg(true, S, CLI_ISN, 0, 0),                    /* slot 1: flips the roles */
        seg(true, A, CLI_ISN + 1, SRV_ISN + 1, 0),
        seg(true, P | A, CLI_ISN + 1, SRV_ISN + 1, 5),
        seg(false, A, SRV_ISN + 1, CLI_ISN + 6, 0),
        seg(false, P | A, SRV_ISN + 1, CLI_ISN + 6, 7),
        seg(true, A, CLI_ISN + 6, SRV_ISN + 8, 0),
        seg(true, P | A, CLI_ISN + 6, SRV_ISN + 8, 5),
        seg(false, P | A, SRV_ISN + 8, CLI_ISN + 11, 7),
    };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        tl_zeek_segment(&z, ps[i].sport == 80, &ps[i], at(0.01 * (double)i));
    tl_conn_record r;
    memset(&r, 0, sizeof r);
    r.ts = at(0);
    tl_zeek_finish(&z, &r);
    assert_string_equal(r.history, "Hs^ADad");
    /* the SYN counts by its direction on arrival, before the flip */
    assert_int_equal(r.orig_pkts, 4);
    assert_int_equal(r.resp_pkts, 5);
    assert_int_equal(r.orig_bytes, 10);
    assert_int_equal(r.resp_bytes, 14);
    assert_int_equal(r.missed_bytes, 0);
    tl_zeek_release(&z);
}

/* ACKs of the responder's data across its sequence wrap, some older than the
 * highest ACK (counted back before the wrap): sizes exact, no gap. */
static void acks_across_a_wrap_and_old_acks_count_no_gap(void **st)
{
    (void)st;
    const uint32_t isn = 0xfffffc00u;
    conn c = {0};
    handshake_isns(&c, CLI_ISN, isn);
    uint32_t seq = isn + 1;
    for (int i = 0; i < 4; i++) {
        tl_packet d = seg(false, P | A, seq, CLI_ISN + 1, 500);
        tl_packet a = seg(true, A, CLI_ISN + 1, seq + 500, 0);
        tl_packet old = seg(true, A, CLI_ISN + 1, seq, 0);  /* before the wrap at i = 2 */
        feed(&c, &d);
        feed(&c, &a);
        feed(&c, &old);
        seq += 500;
    }
    tl_conn_record r = finish(&c);
    assert_string_equal(r.conn_state, "S1");
    assert_string_equal(r.history, "ShAd");
    assert_int_equal(r.resp_bytes, 2000);
    assert_int_equal(r.missed_bytes, 0);
    assert_int_equal(r.orig_pkts, 2 + 8);
}

/* Data held above a hole keeps its side off the fast path: the ACK past the
 * hole reports the gap ('G', missed_bytes) and delivers the held data; the
 * fast path takes the side again afterwards. */
static void ack_past_a_hole_with_held_data_reports_the_gap(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    tl_packet ps[] = {
        seg(true, P | A, CLI_ISN + 1, SRV_ISN + 1, 100),
        seg(true, P | A, CLI_ISN + 201, SRV_ISN + 1, 100),   /* held */
        seg(false, A, SRV_ISN + 1, CLI_ISN + 101, 0),
        seg(false, A, SRV_ISN + 1, CLI_ISN + 301, 0),        /* the hole: 100 bytes */
        seg(true, P | A, CLI_ISN + 301, SRV_ISN + 1, 100),
        seg(false, A, SRV_ISN + 1, CLI_ISN + 401, 0),
    };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) feed(&c, &ps[i]);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.history, "ShADaG");
    assert_int_equal(r.orig_bytes, 400);
    assert_int_equal(r.missed_bytes, 100);
    assert_int_equal(r.orig_pkts, 5);
    assert_int_equal(r.resp_pkts, 4);
    tl_zeek_release(&c.z);
}

static void retransmission_sets_T_once_then_at_ten(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    tl_packet d = seg(true, P | A, CLI_ISN + 1, SRV_ISN + 1, 10);
    for (int i = 0; i < 9; i++) feed(&c, &d);  /* 8 retransmissions */
    assert_string_equal(finish(&c).history, "ShADT");
    feed(&c, &d);
    feed(&c, &d);  /* the 10th retransmission */
    assert_string_equal(finish(&c).history, "ShADTT");
}

static void zero_window_sets_w_unless_rst(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    tl_packet z = seg(false, A, SRV_ISN + 1, CLI_ISN + 1, 0);
    z.win = 0;
    feed(&c, &z);
    assert_string_equal(finish(&c).history, "ShAaw");
    tl_packet zr = seg(true, R, CLI_ISN + 1, 0, 0);
    zr.win = 0;
    feed(&c, &zr);
    assert_string_equal(finish(&c).history, "ShAawR");
}

/* The handshake's own path (segment_handshake) keeps the letters' order and
 * the counts: a zero window after S and h, the ack of the SYN. */
static void zero_window_in_handshake_after_S_and_h(void **st)
{
    (void)st;
    conn c = {0};
    tl_packet syn = seg(true, S, CLI_ISN, 0, 0), sa = seg(false, S | A, SRV_ISN, CLI_ISN + 1, 0);
    syn.win = sa.win = 0;
    feed(&c, &syn);
    feed(&c, &sa);
    tl_packet ack = seg(true, A, CLI_ISN + 1, SRV_ISN + 1, 0);
    feed(&c, &ack);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.history, "SWhwA");
    assert_string_equal(r.conn_state, "S1");
    assert_int_equal(r.orig_pkts, 2);
    assert_int_equal(r.resp_pkts, 1);
    assert_int_equal(r.orig_ip_bytes, 80);
    assert_int_equal(r.resp_ip_bytes, 40);
    assert_int_equal(r.missed_bytes, 0);
    /* handshake over: Zeek's 5 min idle timeout, not 1 min */
    assert_false(tl_zeek_expired(&c.z, at(100)));
    assert_true(tl_zeek_expired(&c.z, at(400)));
}

/* The FIN's own path (segment_fin): a retransmitted FIN adds no letter; the
 * FIN's octet is not data. */
static void fin_retransmitted_adds_no_letter(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    tl_packet f = seg(true, F | A, CLI_ISN + 1, SRV_ISN + 1, 0);
    feed(&c, &f);
    feed(&c, &f);
    assert_string_equal(finish(&c).history, "ShAF");
    tl_packet ff = seg(false, F | A, SRV_ISN + 1, CLI_ISN + 2, 0);
    feed(&c, &ff);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.history, "ShAFf");
    assert_string_equal(r.conn_state, "SF");
    assert_int_equal(r.orig_pkts, 4);
    assert_int_equal(r.resp_pkts, 2);
    assert_int_equal(r.orig_bytes, 0);
    assert_int_equal(r.resp_bytes, 0);
    assert_int_equal(r.missed_bytes, 0);
    tl_zeek_release(&c.z);
}

static void fin_rst_together_is_I_syn_fin_is_Q(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    tl_packet fr = seg(true, F | R | A, CLI_ISN + 1, SRV_ISN + 1, 0);
    feed(&c, &fr);
    assert_string_equal(finish(&c).history, "ShAI");
    conn d = {0};
    tl_packet sf = seg(true, S | F, CLI_ISN, 0, 0);
    feed(&d, &sf);
    assert_string_equal(finish(&d).history, "Q");
}

static void bad_checksum_adds_C_without_counting(void **st)
{
    (void)st;
    tl_zeek z;
    tl_packet syn = seg(true, S, CLI_ISN, 0, 0);
    tl_zeek_init(&z, at(0));
    assert_false(tl_zeek_first_packet_flips(&z, &syn));
    tl_zeek_bad_checksum(&z, true);
    tl_conn_record r;
    memset(&r, 0, sizeof r);
    tl_zeek_finish(&z, &r);
    assert_string_equal(r.history, "C");
    assert_string_equal(r.conn_state, "OTH");
    assert_int_equal(r.orig_pkts, 0);
}

static void syn_after_close_or_with_new_isn_is_new_conn(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    tl_packet same = seg(true, S, CLI_ISN, 0, 0), other = seg(true, S, CLI_ISN + 999, 0, 0);
    tl_packet data = seg(true, A, CLI_ISN + 1, SRV_ISN + 1, 0);
    assert_false(tl_zeek_is_new_conn(&c.z, true, &same));   /* retransmitted SYN */
    assert_true(tl_zeek_is_new_conn(&c.z, true, &other));   /* new ISN while open */
    assert_false(tl_zeek_is_new_conn(&c.z, true, &data));   /* only SYNs start one */

    conn d = {0};
    normal_conn(&d);
    assert_true(tl_zeek_is_new_conn(&d.z, true, &same));    /* after the close, any SYN */
}

/* Zeek's last_time follows the capture times even back (out of order): the
 * idle timeout counts from the earlier one, before the delete timer of a
 * reset connection. */
static void idle_timeout_counts_from_a_time_that_went_back(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    tl_packet r = seg(true, R | A, CLI_ISN + 1, SRV_ISN + 1, 0);
    tl_zeek_segment(&c.z, true, &r, at(1000));  /* deleted 5 s later */
    tl_packet a = seg(false, A, SRV_ISN + 1, CLI_ISN + 1, 0);
    tl_zeek_segment(&c.z, false, &a, at(600));
    assert_false(tl_zeek_expired(&c.z, at(899)));
    assert_true(tl_zeek_expired(&c.z, at(901)));
    tl_zeek_release(&c.z);
}

/* The same when the segment that went back fails the fast path's checks
 * (data above a hole, which it sets last before): the idle timeout counts
 * from it, as from a segment the fast path takes. */
static void idle_timeout_from_a_time_that_went_back_above_a_hole(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    tl_packet d = seg(true, A, CLI_ISN + 1, SRV_ISN + 1, 100);
    tl_zeek_segment(&c.z, true, &d, at(400));
    tl_packet h = seg(true, A, CLI_ISN + 301, SRV_ISN + 1, 100);  /* 200 octets missing */
    tl_zeek_segment(&c.z, true, &h, at(100));
    assert_false(tl_zeek_expired(&c.z, at(399)));
    assert_true(tl_zeek_expired(&c.z, at(401)));
    tl_zeek_release(&c.z);
}

/* An ack repeated after the peer's second FIN, further on, is not the same
 * as before it: the FIN octet's clamp moved up, and the octets acked up to
 * it that were never seen are a gap now (the fast path's shortcut for a
 * repeated ack does not apply after a FIN). */
static void repeated_ack_after_a_later_fin_counts_the_gap(void **st)
{
    (void)st;
    conn c = {0};
    handshake(&c);
    tl_packet ps[] = {
        seg(true, P | A, CLI_ISN + 1, SRV_ISN + 1, 100),
        seg(true, F | A, CLI_ISN + 101, SRV_ISN + 1, 0),
        seg(false, A, SRV_ISN + 1, CLI_ISN + 202, 0),   /* past the FIN: clamped */
        seg(true, F | A, CLI_ISN + 201, SRV_ISN + 1, 0),  /* a FIN 100 octets on */
        seg(false, A, SRV_ISN + 1, CLI_ISN + 202, 0),   /* the same ack again */
    };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) feed(&c, &ps[i]);
    tl_conn_record r = finish(&c);
    assert_int_equal(r.missed_bytes, 100);
}

static void expired_after_unanswered_syn_attempt_delay(void **st)
{
    (void)st;
    conn c = {0};
    tl_packet syn = seg(true, S, CLI_ISN, 0, 0);
    feed(&c, &syn);
    assert_false(tl_zeek_expired(&c.z, at(4.9)));
    assert_true(tl_zeek_expired(&c.z, at(5.1)));
}

static void expired_five_seconds_after_complete_close(void **st)
{
    (void)st;
    conn c = {0};
    normal_conn(&c);  /* both FINs by t = 0.08 */
    assert_false(tl_zeek_expired(&c.z, at(4.0)));
    assert_true(tl_zeek_expired(&c.z, at(5.2)));
    conn d = {0};
    handshake(&d);
    assert_false(tl_zeek_expired(&d.z, at(200.0)));  /* established: 5 min idle */
    assert_true(tl_zeek_expired(&d.z, at(301.0)));
}

static void partial_connection_is_OTH_with_bytes_from_first_seq(void **st)
{
    (void)st;
    conn c = {0};
    tl_packet a = seg(true, P | A, 777, 888, 20), b = seg(false, P | A, 888, 797, 30);
    feed(&c, &a);
    feed(&c, &b);
    tl_conn_record r = finish(&c);
    assert_string_equal(r.conn_state, "OTH");
    assert_string_equal(r.history, "Dd");
    assert_int_equal(r.orig_bytes, 20);
    assert_int_equal(r.resp_bytes, 30);
}

/* The conn.log row: Zeek's columns, '-' for unset fields, and duration and
 * byte counts unset when the duration is zero (Zeek's set_conn). */
static void zeek_sink_writes_conn_log_rows_with_unset_fields(void **st)
{
    (void)st;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    tl_sink sink;
    assert_int_equal(tl_sink_zeek_new(&sink, fp), TL_OK);

    conn c = {0};
    normal_conn(&c);
    tl_conn_record r = finish(&c);
    memcpy(r.uid, "CabcdefghijklmnopQ", 19);
    sink.ops->conn(sink.ctx, &r);
    conn d = {0};
    tl_packet rst = seg(false, R, SRV_ISN, 0, 0);
    feed(&d, &rst);
    tl_conn_record r2 = finish(&d);
    memcpy(r2.uid, "Czzzzzzzzzzzzzzzzz", 19);
    sink.ops->conn(sink.ctx, &r2);
    tl_stats stats;
    memset(&stats, 0, sizeof stats);
    sink.ops->finish(sink.ctx, &stats);
    tl_sink_free(&sink);
    fclose(fp);

    assert_non_null(strstr(buf, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
                                "#unset_field\t-\n#path\tconn\n#open\t"));
    assert_non_null(strstr(buf, "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t"
                                "proto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\t"
                                "local_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\t"
                                "orig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n"));
    assert_non_null(strstr(buf, "\tCabcdefghijklmnopQ\t10.0.0.1\t40000\t10.0.0.2\t80\ttcp\t-\t"
                                "0.080000\t5\t7\tSF\t-\t-\t0\tShADadFf\t6\t245\t4\t167\t-\n"));
    /* A lone RST from port 80: flipped, RSTRH, no duration so no bytes. */
    assert_non_null(strstr(buf, "\tCzzzzzzzzzzzzzzzzz\t10.0.0.1\t40000\t10.0.0.2\t80\ttcp\t-\t"
                                "-\t-\t-\tRSTRH\t-\t-\t0\t^r\t0\t0\t1\t40\t-\n"));
    size_t n = strlen(buf);
    assert_true(n > 8 && strstr(buf, "\n#close\t") != NULL && buf[n - 1] == '\n');
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sf_for_normal_close_history_ShADadFf),
        cmocka_unit_test(rej_for_syn_answered_by_rst),
        cmocka_unit_test(s0_unanswered_syn_repeated_with_same_isn),
        cmocka_unit_test(repeated_syn_with_new_isn_rebases_without_second_S),
        cmocka_unit_test(rsto_when_originator_resets_rstr_when_responder_does),
        cmocka_unit_test(rstos0_for_syn_then_own_rst),
        cmocka_unit_test(sh_for_syn_then_fin_without_reply),
        cmocka_unit_test(s1_established_s2_s3_one_side_closed),
        cmocka_unit_test(flip_on_first_syn_ack_gives_caret),
        cmocka_unit_test(late_flip_swaps_the_given_addresses),
        cmocka_unit_test(long_history_kept_whole_up_to_the_maximum),
        cmocka_unit_test(record_history_is_the_letters_then_zeros),
        cmocka_unit_test(midstream_flip_only_from_likely_server_port),
        cmocka_unit_test(bytes_counted_by_sequence_space_not_payload_sum),
        cmocka_unit_test(retransmission_sets_T_once_then_at_ten),
        cmocka_unit_test(gaps_in_unseen_data_give_g_at_first_and_tenth),
        cmocka_unit_test(held_data_filled_later_is_no_gap_but_T),
        cmocka_unit_test(bytes_exact_above_4_gib_across_sequence_wraps),
        cmocka_unit_test(first_d_and_a_after_late_flip_follow_the_new_roles),
        cmocka_unit_test(acks_across_a_wrap_and_old_acks_count_no_gap),
        cmocka_unit_test(ack_past_a_hole_with_held_data_reports_the_gap),
        cmocka_unit_test(zero_window_sets_w_unless_rst),
        cmocka_unit_test(zero_window_in_handshake_after_S_and_h),
        cmocka_unit_test(fin_retransmitted_adds_no_letter),
        cmocka_unit_test(fin_rst_together_is_I_syn_fin_is_Q),
        cmocka_unit_test(bad_checksum_adds_C_without_counting),
        cmocka_unit_test(syn_after_close_or_with_new_isn_is_new_conn),
        cmocka_unit_test(expired_after_unanswered_syn_attempt_delay),
        cmocka_unit_test(idle_timeout_counts_from_a_time_that_went_back),
        cmocka_unit_test(idle_timeout_from_a_time_that_went_back_above_a_hole),
        cmocka_unit_test(repeated_ack_after_a_later_fin_counts_the_gap),
        cmocka_unit_test(expired_five_seconds_after_complete_close),
        cmocka_unit_test(partial_connection_is_OTH_with_bytes_from_first_seq),
        cmocka_unit_test(zeek_sink_writes_conn_log_rows_with_unset_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
