/* test_tracker.c -- the tracker's own duties: connection numbering, records
 * for every connection (finished, evicted, still open), generations on a
 * reused 4-tuple, --max-conns and idle eviction, roles, tshark's relative
 * numbers, --checksums=verify, and the sink's start op. Sub-modules have
 * their own tests. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcplens/tracker.h"

#define MAXREC 64

typedef struct recorder {
    tl_pkt_view views[MAXREC];
    tl_conn_record recs[MAXREC];
    tl_event_kind events[MAXREC];
    uint32_t event_conn[MAXREC];
    int nviews, nrecs, nevents;
    tl_stats stats;
    int calls;                  /* ops called so far, start included */
    uint64_t digest;            /* of every view, event and record, in order */
    int nstarts, start_call;    /* start_call: calls before the start op */
    tl_time start_ts;
    uint64_t start_n;
} recorder;

static void mix(recorder *r, uint64_t v)
{
    r->digest = (r->digest ^ v) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull;
}

static void rec_start(void *ctx, const tl_frame *first)
{
    recorder *r = ctx;
    r->nstarts++;
    r->start_call = r->calls++;
    r->start_ts = first->ts;
    r->start_n = first->n;
}
static void rec_packet(void *ctx, const tl_pkt_view *v)
{
    recorder *r = ctx;
    r->calls++;
    mix(r, 1);
    mix(r, v->conn);
    mix(r, (uint64_t)v->client_state << 8 | v->server_state);
    if (r->nviews < MAXREC) r->views[r->nviews++] = *v;
}
static void rec_event(void *ctx, const tl_event *e)
{
    recorder *r = ctx;
    r->calls++;
    mix(r, 2);
    mix(r, (uint64_t)e->kind << 32 | e->conn);
    if (r->nevents < MAXREC) {
        r->event_conn[r->nevents] = e->conn;
        r->events[r->nevents++] = e->kind;
    }
}
static void rec_conn(void *ctx, const tl_conn_record *c)
{
    recorder *r = ctx;
    r->calls++;
    mix(r, 3);
    mix(r, c->conn);
    for (const char *h = c->history; *h; h++) mix(r, (uint8_t)*h);
    mix(r, c->orig_pkts << 32 | c->resp_pkts);
    mix(r, (uint64_t)c->client_state << 8 | c->server_state);
    if (r->nrecs < MAXREC) r->recs[r->nrecs++] = *c;
}
static void rec_finish(void *ctx, const tl_stats *st)
{
    recorder *r = ctx;
    r->calls++;
    r->stats = *st;
}
static const tl_sink_ops rec_ops = {.packet = rec_packet, .event = rec_event,
                                    .conn = rec_conn, .finish = rec_finish, .start = rec_start};
/* What `read --conns` asks for: no packets, so no views are built. */
static const tl_sink_ops rec_records_ops = {.conn = rec_conn, .finish = rec_finish,
                                            .start = rec_start};

/* The connection table's and conn.log's sinks: Wireshark's analysis unused. */
static const tl_sink_ops rec_no_analysis_ops = {.event = rec_event, .conn = rec_conn,
                                                .finish = rec_finish, .no_analysis = true};

/* no_analysis with a packet op: the views still need tshark's numbers. */
static const tl_sink_ops rec_packets_no_analysis_ops = {.packet = rec_packet, .conn = rec_conn,
                                                        .no_analysis = true};

/* The text views and the ladder: they never show a uid. */
static const tl_sink_ops rec_no_uid_ops = {.event = rec_event, .conn = rec_conn,
                                           .finish = rec_finish, .no_uid = true};

static recorder R;
static tl_tracker *tr;
static uint64_t frame_no;

static void start_sink(const tl_sink_ops *ops, uint32_t max_conns, double idle, bool verify)
{
    memset(&R, 0, sizeof R);
    frame_no = 0;
    tl_sink s = {ops, &R};
    tl_tracker_config cfg = {.max_conns = max_conns, .idle_timeout = idle,
                             .verify_checksums = verify, .hash_seed = 99};
    char err[TL_ERRBUF_SIZE];
    assert_int_equal(tl_tracker_new(&tr, &cfg, &s, err), 0);
}

static void start(uint32_t max_conns, double idle, bool verify)
{
    start_sink(&rec_ops, max_conns, idle, verify);
}

/* With batch > 0, frames wait in a queue and go to the tracker batch at a
 * time through tl_tracker_feed_many(), as the pipeline feeds them. */
static int batch;
static int queued;
static tl_frame queue_f[160];
static tl_decoded queue_d[160];

static void flush_queue(void)
{
    if (queued) tl_tracker_feed_many(tr, queue_f, queue_d, queued);
    queued = 0;
}

static void feed(const tl_frame *f, tl_decode_result res, tl_decode_reason why, const tl_packet *p)
{
    if (!batch) {
        tl_tracker_feed(tr, f, res, why, p);
        return;
    }
    queue_f[queued] = *f;
    queue_d[queued] = (tl_decoded){.pkt = *p, .res = res, .reason = why};
    if (++queued == batch) flush_queue();
}

static tl_frame frame_at(double t)
{
    return (tl_frame){NULL, 54, 54, {(int64_t)t, (uint32_t)((t - (int64_t)t) * 1e9)}, 1,
                      ++frame_no, -1, "test"};
}

/* A frame that is no TCP segment (res: not TCP, malformed, ...). */
static void other(double t, tl_decode_result res)
{
    tl_packet p;
    memset(&p, 0, sizeof p);
    tl_frame f = frame_at(t);
    feed(&f, res, res == TL_DECODE_MALFORMED ? TL_REASON_IPV4_IHL : TL_REASON_NONE, &p);
}

/* Host cport <-> server 10.0.0.2:80; client_sends picks the direction. */
static void seg(double t, uint16_t cport, bool client_sends, uint8_t flags, uint32_t seq,
                uint32_t ack, uint32_t len, tl_cksum_status ck)
{
    tl_packet p;
    memset(&p, 0, sizeof p);
    p.ip_version = 4;
    p.src.family = p.dst.family = 4;
    uint8_t c[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
    memcpy(client_sends ? p.src.bytes : p.dst.bytes, c, 4);
    memcpy(client_sends ? p.dst.bytes : p.src.bytes, s, 4);
    p.sport = client_sends ? cport : 80;
    p.dport = client_sends ? 80 : cport;
    p.flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.win = 1000;
    p.tcp_hlen = 20;
    p.ip_hlen = 20;
    p.payload_len = len;
    p.ip_len = 40 + len;
    p.cksum_status = ck;
    tl_frame f = frame_at(t);
    feed(&f, TL_DECODE_OK, TL_REASON_NONE, &p);
}

enum { S = TL_TH_SYN, A = TL_TH_ACK, F = TL_TH_FIN, R_ = TL_TH_RST, P = TL_TH_PSH };

static void handshake_and_close(double t, uint16_t port, uint32_t isn)
{
    seg(t, port, true, S, isn, 0, 0, 0);
    seg(t + .001, port, false, S | A, 5000, isn + 1, 0, 0);
    seg(t + .002, port, true, A, isn + 1, 5001, 0, 0);
    seg(t + .003, port, true, F | A, isn + 1, 5001, 0, 0);
    seg(t + .004, port, false, F | A, 5001, isn + 2, 0, 0);
    seg(t + .005, port, true, A, isn + 2, 5002, 0, 0);
}

static void finish(void)
{
    flush_queue();
    tl_tracker_finish(tr, NULL);
    tl_tracker_free(tr);
    tr = NULL;
}

static bool saw_event(tl_event_kind k, uint32_t conn)
{
    for (int i = 0; i < R.nevents; i++)
        if (R.events[i] == k && R.event_conn[i] == conn) return true;
    return false;
}

static void connections_numbered_by_first_packet_records_in_that_order(void **state)
{
    (void)state;
    start(0, 0, false);
    seg(1.0, 1001, true, S, 100, 0, 0, 0);
    seg(1.1, 1002, true, S, 200, 0, 0, 0);
    seg(1.2, 1001, false, S | A, 900, 101, 0, 0);
    finish();
    assert_int_equal(R.views[0].conn, 1);
    assert_int_equal(R.views[1].conn, 2);
    assert_int_equal(R.views[2].conn, 1);
    /* states before and after the SYN-ACK */
    assert_int_equal(R.views[2].client_before, TL_ST_SYN_SENT);
    assert_int_equal(R.views[2].server_before, TL_ST_LISTEN);
    assert_int_equal(R.views[2].client_state, TL_ST_ESTABLISHED);
    assert_int_equal(R.views[2].server_state, TL_ST_SYN_RECEIVED);
    assert_int_equal(R.nrecs, 2);
    assert_int_equal(R.recs[0].conn, 1);
    assert_int_equal(R.recs[1].conn, 2);
    assert_int_equal(R.stats.conns, 2);
    assert_int_equal(R.stats.tcp, 3);
}

static void syn_after_close_is_a_new_generation_with_port_reused(void **state)
{
    (void)state;
    start(0, 0, false);
    handshake_and_close(1.0, 1001, 100);
    handshake_and_close(2.0, 1001, 7777);
    finish();
    assert_int_equal(R.nrecs, 2);
    assert_string_equal(R.recs[0].conn_state, "SF");
    assert_string_equal(R.recs[1].conn_state, "SF");
    assert_int_equal(R.views[6].conn, 2);
    assert_true(saw_event(TL_EV_PORT_REUSED, 2));
    assert_false(saw_event(TL_EV_PORT_REUSED, 1));
    assert_int_equal(R.views[6].rel_seq, 0);   /* new ISN, new base */
}

static void max_conns_evicts_the_oldest_with_its_record(void **state)
{
    (void)state;
    start(2, 0, false);
    seg(1.0, 1001, true, S, 100, 0, 0, 0);
    seg(1.1, 1002, true, S, 200, 0, 0, 0);
    seg(1.2, 1003, true, S, 300, 0, 0, 0);
    assert_int_equal(R.nrecs, 1);             /* written before the third began */
    assert_int_equal(R.recs[0].conn, 1);
    assert_true(R.recs[0].evicted);
    assert_true(saw_event(TL_EV_EVICTED, 1));
    finish();
    assert_int_equal(R.nrecs, 3);
    assert_false(R.recs[1].evicted);
    assert_int_equal(R.stats.evicted, 1);
    assert_int_equal(R.stats.peak_conns, 2);
}

static void idle_connection_is_summarised_and_forgotten(void **state)
{
    (void)state;
    start(0, 10.0, false);
    seg(1.0, 1001, true, S, 100, 0, 0, 0);
    seg(1.001, 1001, false, S | A, 900, 101, 0, 0);
    seg(1.002, 1001, true, A, 101, 901, 0, 0);
    seg(30.0, 1002, true, S, 200, 0, 0, 0);   /* time moves on: conn 1 idle 29 s */
    assert_int_equal(R.nrecs, 1);
    assert_int_equal(R.recs[0].conn, 1);
    assert_true(R.recs[0].evicted);
    finish();
    assert_int_equal(R.nrecs, 2);
}

/* Packets of a 4-tuple after its connection went idle belong to a new
 * connection, not to the one just summarised. */
static void a_run_of_packets_outliving_its_connection_starts_a_new_one(void **state)
{
    (void)state;
    start(0, 10.0, false);
    seg(1.0, 1001, true, A | P, 100, 900, 10, 0);
    seg(1.1, 1001, true, A | P, 110, 900, 10, 0);
    seg(30.0, 1001, true, A | P, 120, 900, 10, 0);   /* conn 1 idle 28.9 s: summarised */
    assert_int_equal(R.nrecs, 1);
    assert_true(R.recs[0].evicted);
    assert_int_equal(R.views[1].conn, 1);
    assert_int_equal(R.views[2].conn, 2);
    finish();
    assert_int_equal(R.nrecs, 2);
    assert_int_equal(R.recs[1].conn, 2);
}

/* The active list is in idle order only to within an idle bucket (1.07 s
 * for a 10 s timeout): conn 1's packet at 1.9 s does not move it behind
 * conn 2. A sweep must still find conn 2 idle behind conn 1, which is not. */
static void sweep_finds_an_idle_connection_behind_a_busier_one(void **state)
{
    (void)state;
    start(0, 10.0, false);
    seg(1.0, 1001, true, A | P, 100, 900, 10, 0);
    seg(1.5, 1002, true, A | P, 100, 900, 10, 0);
    seg(1.9, 1001, true, A | P, 110, 900, 10, 0);
    seg(11.7, 1003, true, A | P, 100, 900, 10, 0);   /* conn 1 idle 9.8 s, conn 2 10.2 s */
    assert_int_equal(R.nrecs, 1);
    assert_int_equal(R.recs[0].conn, 2);
    assert_true(R.recs[0].evicted);
    finish();
    assert_int_equal(R.nrecs, 3);
}

/* Connections whose last packets have the same time are summarised in the
 * order of those packets, as when every packet moved its connection. */
static void idle_connections_end_in_the_order_of_their_last_packets(void **state)
{
    (void)state;
    start(0, 10.0, false);
    seg(1.0, 1001, true, A | P, 100, 900, 10, 0);
    seg(1.2, 1002, true, A | P, 100, 900, 10, 0);
    seg(1.5, 1002, true, A | P, 110, 900, 10, 0);
    seg(1.5, 1001, true, A | P, 110, 900, 10, 0);
    seg(12.0, 1003, true, A | P, 100, 900, 10, 0);
    assert_int_equal(R.nrecs, 2);
    assert_int_equal(R.recs[0].conn, 2);
    assert_int_equal(R.recs[1].conn, 1);
    finish();
}

/* --max-conns evicts the connection whose last packet is the oldest, also
 * when a later packet did not move its connection in the list (300 s
 * timeout: buckets of 4.3 s). */
static void max_conns_evicts_the_least_recently_seen(void **state)
{
    (void)state;
    start(2, 0, false);
    seg(1.0, 1001, true, A | P, 100, 900, 10, 0);
    seg(1.1, 1002, true, A | P, 100, 900, 10, 0);
    seg(1.2, 1001, true, A | P, 110, 900, 10, 0);
    seg(1.3, 1003, true, A | P, 100, 900, 10, 0);
    assert_int_equal(R.nrecs, 1);
    assert_int_equal(R.recs[0].conn, 2);
    seg(1.4, 1001, true, A | P, 120, 900, 10, 0);
    seg(1.5, 1004, true, A | P, 100, 900, 10, 0);   /* conn 3 (1.3) is older than conn 1 (1.4) */
    assert_int_equal(R.nrecs, 2);
    assert_int_equal(R.recs[1].conn, 3);
    finish();
}

static void tick_summarises_idle_connections_without_packets(void **state)
{
    (void)state;
    start(0, 10.0, false);
    seg(1.0, 1001, true, S, 100, 0, 0, 0);
    tl_time t5 = {5, 0}, t20 = {20, 0};
    tl_tracker_tick(tr, t5);
    assert_int_equal(R.nrecs, 0);             /* idle 4 s: kept */
    tl_tracker_tick(tr, t20);
    assert_int_equal(R.nrecs, 1);             /* idle 19 s: summarised */
    assert_true(R.recs[0].evicted);
    finish();
    assert_int_equal(R.nrecs, 1);
}

static void crossing_syns_are_one_connection_opened_simultaneously(void **state)
{
    (void)state;
    start(0, 0, false);
    seg(1.0, 1001, true, S, 100, 0, 0, 0);
    seg(1.0001, 1001, false, S, 900, 0, 0, 0);
    seg(1.001, 1001, true, S | A, 100, 901, 0, 0);
    seg(1.0011, 1001, false, S | A, 900, 101, 0, 0);
    finish();
    assert_int_equal(R.nrecs, 1);
    assert_int_equal(R.recs[0].opened, TL_OPEN_SIMULTANEOUS_OPEN);
    assert_true(saw_event(TL_EV_SIMULTANEOUS_OPEN, 1));
    assert_false(saw_event(TL_EV_PORT_REUSED, 1));
}

static void first_packet_syn_ack_makes_its_sender_the_server(void **state)
{
    (void)state;
    start(0, 0, false);
    seg(1.0, 1001, false, S | A, 900, 101, 0, 0);
    seg(1.001, 1001, true, A, 101, 901, 0, 0);
    finish();
    assert_int_equal(R.views[0].from, TL_ROLE_SERVER);
    assert_int_equal(R.views[1].from, TL_ROLE_CLIENT);
    assert_int_equal(R.recs[0].orig_p, 1001);
    assert_int_equal(R.recs[0].resp_p, 80);
}

static void midstream_relative_numbers_start_at_one_as_tshark(void **state)
{
    (void)state;
    start(0, 0, false);
    seg(1.0, 1001, true, A | P, 50000, 70000, 10, 0);
    seg(1.1, 1001, false, A, 70000, 50010, 0, 0);
    finish();
    assert_int_equal(R.views[0].rel_seq, 1);
    assert_int_equal(R.views[0].rel_ack, 1);
    assert_true(R.views[0].rel_ack_valid);
    assert_int_equal(R.views[1].rel_seq, 1);
    assert_int_equal(R.views[1].rel_ack, 11);
}

static void bad_checksum_is_skipped_when_verifying(void **state)
{
    (void)state;
    start(0, 0, true);
    seg(1.0, 1001, true, S, 100, 0, 0, TL_CKSUM_BAD);
    finish();
    assert_true(R.views[0].skipped);
    assert_int_equal(R.stats.bad_checksum, 1);
    assert_int_equal(R.nrecs, 1);
    assert_int_equal(R.recs[0].orig_pkts, 0);
    assert_string_equal(R.recs[0].history, "C");
}

/* Sinks without a packet op (--conns, -q) learn the capture's start from
 * the start op: once, before anything else, with the first frame even
 * when that is not a TCP segment. */
static void start_op_comes_once_first_with_the_first_frame(void **state)
{
    (void)state;
    start(0, 0, false);
    other(0.5, TL_DECODE_NOT_TCP);
    handshake_and_close(1.0, 1001, 100);
    other(2.0, TL_DECODE_MALFORMED);
    finish();
    assert_int_equal(R.nstarts, 1);
    assert_int_equal(R.start_call, 0);
    assert_int_equal(R.start_ts.sec, 0);
    assert_int_equal(R.start_ts.nsec, 500000000);
    assert_int_equal(R.start_n, 1);
    assert_int_equal(R.nviews, 8);
    assert_int_equal(R.views[0].result, TL_DECODE_NOT_TCP);

    /* a malformed first frame, and a sink that takes records only */
    start_sink(&rec_records_ops, 0, 0, false);
    other(3.25, TL_DECODE_MALFORMED);
    seg(4.0, 1001, true, S, 100, 0, 0, 0);
    finish();
    assert_int_equal(R.nstarts, 1);
    assert_int_equal(R.start_call, 0);
    assert_int_equal(R.start_ts.sec, 3);
    assert_int_equal(R.start_ts.nsec, 250000000);
    assert_int_equal(R.nviews, 0);
    assert_int_equal(R.nrecs, 1);
}

/* The views are the sink's only: a connection's record is the same
 * whether or not a packet op made the tracker build them. */
/* The fields every view shows, equal in r and with. */
static void assert_same_record(const tl_conn_record *r, const tl_conn_record *with)
{
    assert_string_equal(r->uid, with->uid);
    assert_string_equal(r->history, with->history);
    assert_string_equal(r->conn_state, with->conn_state);
    assert_int_equal(r->orig_pkts, with->orig_pkts);
    assert_int_equal(r->resp_pkts, with->resp_pkts);
    assert_int_equal(r->orig_bytes, with->orig_bytes);
    assert_int_equal(r->resp_bytes, with->resp_bytes);
    assert_int_equal(r->closed, with->closed);
    assert_int_equal(r->client_state, with->client_state);
    assert_int_equal(r->server_state, with->server_state);
    assert_true(r->handshake_rtt == with->handshake_rtt);
}

static void records_are_the_same_without_a_packet_op(void **state)
{
    (void)state;
    tl_conn_record with[2];
    for (int pass = 0; pass < 2; pass++) {
        start_sink(pass ? &rec_records_ops : &rec_ops, 0, 0, false);
        handshake_and_close(1.0, 1001, 100);
        seg(1.5, 1002, true, A | P, 50000, 70000, 10, 0);
        seg(1.6, 1002, true, A | P, 50000, 70000, 10, 0);   /* a retransmission */
        finish();
        assert_int_equal(R.nrecs, 2);
        if (!pass) {
            memcpy(with, R.recs, sizeof with);
            continue;
        }
        for (int i = 0; i < 2; i++) {
            assert_same_record(&R.recs[i], &with[i]);
            assert_int_equal(R.recs[i].retransmissions, with[i].retransmissions);
            assert_int_equal(R.recs[i].n_events, with[i].n_events);
        }
    }
}

/* A sink that shows no analysis gets no analysis events and records
 * without retransmissions; everything else is the same as with it. */
static void no_analysis_sink_gets_the_same_records_without_analysis(void **state)
{
    (void)state;
    tl_conn_record with[2];
    int analysis_events = 0;
    for (int pass = 0; pass < 2; pass++) {
        start_sink(pass ? &rec_no_analysis_ops : &rec_ops, 0, 0, false);
        handshake_and_close(1.0, 1001, 100);
        seg(1.5, 1002, true, A | P, 50000, 70000, 10, 0);
        seg(1.6, 1002, true, A | P, 50000, 70000, 10, 0);   /* a retransmission */
        seg(1.7, 1002, false, A, 70000, 50010, 0, 0);
        seg(1.8, 1002, false, A, 70000, 50010, 0, 0);       /* a duplicate ACK */
        finish();
        assert_int_equal(R.nrecs, 2);
        int n = 0;
        for (int i = 0; i < R.nevents; i++) n += tl_event_is_analysis(R.events[i]);
        if (!pass) {
            analysis_events = n;
            memcpy(with, R.recs, sizeof with);
            continue;
        }
        assert_true(analysis_events >= 2);   /* the capture has some to skip */
        assert_int_equal(n, 0);
        for (int i = 0; i < 2; i++) {
            assert_same_record(&R.recs[i], &with[i]);
            assert_int_equal(R.recs[i].retransmissions, 0);
            for (unsigned j = 0; j < R.recs[i].n_events; j++)
                assert_false(tl_event_is_analysis(R.recs[i].events[j]));
        }
        assert_true(with[1].retransmissions >= 1);
    }
}

/* A sink that reads no uid gets records with an empty one, the same
 * records otherwise, and the same events in the same order. */
static void no_uid_sink_gets_the_same_records_with_an_empty_uid(void **state)
{
    (void)state;
    tl_conn_record with[2];
    for (int pass = 0; pass < 2; pass++) {
        start_sink(pass ? &rec_no_uid_ops : &rec_no_analysis_ops, 0, 0, false);
        handshake_and_close(1.0, 1001, 100);
        seg(1.5, 1002, true, S, 50000, 0, 0, 0);
        finish();
        assert_int_equal(R.nrecs, 2);
        if (!pass) {
            memcpy(with, R.recs, sizeof with);
            assert_int_equal(strlen(with[0].uid), 18);
            assert_int_equal(with[0].uid[0], 'C');
            continue;
        }
        assert_true(R.recs[0].n_events >= 3);   /* handshake, fin, a close */
        for (int i = 0; i < 2; i++) {
            assert_string_equal(R.recs[i].uid, "");
            memcpy(R.recs[i].uid, with[i].uid, sizeof with[i].uid);
            assert_same_record(&R.recs[i], &with[i]);
            assert_int_equal(R.recs[i].n_events, with[i].n_events);
            assert_memory_equal(R.recs[i].events, with[i].events,
                                with[i].n_events * sizeof with[i].events[0]);
        }
    }
}

static void packet_op_keeps_relative_numbers_even_without_analysis(void **state)
{
    (void)state;
    start_sink(&rec_packets_no_analysis_ops, 0, 0, false);
    handshake_and_close(1.0, 1001, 100);
    finish();
    assert_int_equal(R.nviews, 6);
    assert_int_equal(R.views[2].rel_seq, 1);   /* the handshake's last ACK */
    assert_int_equal(R.views[2].rel_ack, 1);
    assert_int_equal(R.views[4].rel_seq, 1);   /* the server's FIN */
    assert_int_equal(R.views[4].rel_ack, 2);
}

/* The slot pool grows from 1024 slots by remapping (tracker.c): 5000
 * connections held at once keep their state across the growths, so every
 * SYN-ACK finds its connection and completes its handshake. */
static void connections_keep_their_state_as_the_pool_grows(void **state)
{
    (void)state;
    start_sink(&rec_records_ops, 0, 0, false);
    enum { N = 5000 };
    for (uint32_t i = 0; i < N; i++) seg(1.0 + i * 1e-5, (uint16_t)(1000 + i), true, S, 100 + i, 0, 0, 0);
    for (uint32_t i = 0; i < N; i++)
        seg(1.1 + i * 1e-5, (uint16_t)(1000 + i), false, S | A, 7000 + i, 101 + i, 0, 0);
    for (uint32_t i = 0; i < N; i++)
        seg(1.2 + i * 1e-5, (uint16_t)(1000 + i), true, A, 101 + i, 7001 + i, 0, 0);
    finish();
    assert_int_equal(R.stats.conns, N);
    assert_int_equal(R.stats.peak_conns, N);
    assert_int_equal(R.nrecs, MAXREC);   /* the first ones, in order */
    for (int i = 0; i < MAXREC; i++) {
        assert_int_equal(R.recs[i].conn, (uint32_t)i + 1);
        assert_int_equal(R.recs[i].orig_p, 1000 + i);
        assert_int_equal(R.recs[i].client_state, TL_ST_ESTABLISHED);
        assert_int_equal(R.recs[i].server_state, TL_ST_ESTABLISHED);
        assert_true(R.recs[i].handshake_rtt > 0.19 && R.recs[i].handshake_rtt < 0.21);
    }
}

/* A crafted capture may carry whole seconds in nsec (up to 4.29 s): the
 * sweep still runs by the exact time, not only when the second changes. */
static void sweep_runs_by_the_exact_time_when_nsec_exceeds_a_second(void **state)
{
    (void)state;
    start(0, 0, false);
    handshake_and_close(1.0, 1001, 100);   /* finished at 1.005 */
    other(2.0, TL_DECODE_NOT_TCP);         /* a sweep at 2.0: nothing due */
    assert_int_equal(R.nrecs, 0);
    tl_packet p;
    memset(&p, 0, sizeof p);
    tl_frame f = frame_at(2.0);
    f.ts.nsec = 4100000000u;               /* 6.1 s: past the 5 s linger */
    tl_tracker_feed(tr, &f, TL_DECODE_NOT_TCP, TL_REASON_NONE, &p);
    assert_int_equal(R.nrecs, 1);
    finish();
}

/* Batches of any size give the sink what frame by frame feeding gives, in
 * the same order: views, events and records, across new connections, a
 * reused 4-tuple, frames that are not TCP and a sweep inside a batch;
 * also batches longer than the tracker's look-ahead (TL_TRACKER_BATCH),
 * with connections made and ended between a segment's look-ahead and its
 * turn. */
static void batches_give_what_single_frames_give(void **state)
{
    (void)state;
    static recorder single;
    static const int sizes[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, TL_TRACKER_BATCH, 100, 160};
    for (size_t bi = 0; bi < sizeof sizes / sizeof *sizes; bi++) {
        int b = sizes[bi];
        batch = b;
        start(0, 0, false);
        handshake_and_close(1.0, 1001, 100);
        other(1.2, TL_DECODE_NOT_TCP);
        seg(1.5, 1002, true, A | P, 50000, 70000, 10, 0);
        seg(1.6, 1002, true, A | P, 50000, 70000, 10, 0);   /* a retransmission */
        handshake_and_close(2.0, 1001, 900);                  /* the 4-tuple again */
        other(2.1, TL_DECODE_MALFORMED);
        seg(9.0, 1003, true, S, 7, 0, 0, 0);                  /* a sweep is due */
        handshake_and_close(9.5, 1004, 300);
        for (int i = 0; i < 20; i++) {   /* two at once: every segment is looked up */
            double t = 10.0 + i * 0.01;
            uint16_t pa = (uint16_t)(2000 + i % 3), pb = (uint16_t)(3000 + i % 3);
            uint32_t ia = 1000u + 10u * (uint32_t)i, ib = 5000u + 10u * (uint32_t)i;
            seg(t, pa, true, S, ia, 0, 0, 0);
            seg(t, pb, true, S, ib, 0, 0, 0);
            seg(t + .001, pa, false, S | A, 7000, ia + 1, 0, 0);
            seg(t + .001, pb, false, S | A, 8000, ib + 1, 0, 0);
            seg(t + .002, pa, true, A, ia + 1, 7001, 0, 0);
            seg(t + .002, pb, true, A, ib + 1, 8001, 0, 0);
            seg(t + .003, pa, true, F | A, ia + 1, 7001, 0, 0);
            seg(t + .003, pb, false, R_ | A, 8001, ib + 1, 0, 0);
            seg(t + .004, pa, false, F | A, 7001, ia + 2, 0, 0);
            seg(t + .005, pa, true, A, ia + 2, 7002, 0, 0);
        }
        /* Idle past the default 300 s: the sweep at 400 s ends the first
         * connection, in the batch whose look-ahead named its slot for
         * the next packet; that packet must start a new connection. */
        seg(20.0, 1005, true, A | P, 100, 900, 10, 0);
        seg(20.1, 1005, false, A | P, 900, 110, 10, 0);
        seg(400.0, 1005, true, A | P, 110, 910, 10, 0);
        finish();
        batch = 0;
        if (b == 0) {
            single = R;
            assert_int_equal(single.nrecs, 47);
            continue;
        }
        assert_int_equal(R.calls, single.calls);
        assert_true(R.digest == single.digest);
        assert_int_equal(R.nviews, single.nviews);
        for (int i = 0; i < R.nviews; i++) {
            assert_int_equal(R.views[i].conn, single.views[i].conn);
            assert_int_equal(R.views[i].client_state, single.views[i].client_state);
            assert_int_equal(R.views[i].server_state, single.views[i].server_state);
        }
        assert_int_equal(R.nevents, single.nevents);
        assert_memory_equal(R.events, single.events, sizeof R.events);
        assert_memory_equal(R.event_conn, single.event_conn, sizeof R.event_conn);
        assert_int_equal(R.nrecs, single.nrecs);
        for (int i = 0; i < R.nrecs; i++) {
            assert_int_equal(R.recs[i].conn, single.recs[i].conn);
            assert_same_record(&R.recs[i], &single.recs[i]);
        }
        assert_memory_equal(&R.stats, &single.stats, sizeof R.stats);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connections_numbered_by_first_packet_records_in_that_order),
        cmocka_unit_test(syn_after_close_is_a_new_generation_with_port_reused),
        cmocka_unit_test(max_conns_evicts_the_oldest_with_its_record),
        cmocka_unit_test(idle_connection_is_summarised_and_forgotten),
        cmocka_unit_test(a_run_of_packets_outliving_its_connection_starts_a_new_one),
        cmocka_unit_test(tick_summarises_idle_connections_without_packets),
        cmocka_unit_test(sweep_finds_an_idle_connection_behind_a_busier_one),
        cmocka_unit_test(idle_connections_end_in_the_order_of_their_last_packets),
        cmocka_unit_test(max_conns_evicts_the_least_recently_seen),
        cmocka_unit_test(crossing_syns_are_one_connection_opened_simultaneously),
        cmocka_unit_test(first_packet_syn_ack_makes_its_sender_the_server),
        cmocka_unit_test(midstream_relative_numbers_start_at_one_as_tshark),
        cmocka_unit_test(bad_checksum_is_skipped_when_verifying),
        cmocka_unit_test(start_op_comes_once_first_with_the_first_frame),
        cmocka_unit_test(records_are_the_same_without_a_packet_op),
        cmocka_unit_test(no_analysis_sink_gets_the_same_records_without_analysis),
        cmocka_unit_test(no_uid_sink_gets_the_same_records_with_an_empty_uid),
        cmocka_unit_test(connections_keep_their_state_as_the_pool_grows),
        cmocka_unit_test(packet_op_keeps_relative_numbers_even_without_analysis),
        cmocka_unit_test(sweep_runs_by_the_exact_time_when_nsec_exceeds_a_second),
        cmocka_unit_test(batches_give_what_single_frames_give),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
