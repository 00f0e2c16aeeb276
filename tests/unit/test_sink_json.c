/* test_sink_json.c -- the JSON Lines sink writes SPEC.md 3.2's records
 * exactly: packet, malformed, state, event, conn, error and stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>
#include <sys/stat.h>

#include "tcplens/sink.h"
#include "test_sink_file.h"

typedef struct out {
    FILE *fp;
    char *buf;
    size_t len;
    tl_sink sink;
} out;

static void out_open(out *o, int digits)
{
    tl_output_opts opts = {.ts_digits = digits};
    o->buf = NULL;
    o->len = 0;
    o->fp = open_memstream(&o->buf, &o->len);
    assert_non_null(o->fp);
    assert_int_equal(tl_sink_json_new(&o->sink, o->fp, &opts), TL_OK);
}

static const char *out_text(out *o)
{
    fflush(o->fp);
    return o->buf;
}

static void out_close(out *o)
{
    tl_sink_free(&o->sink);
    fclose(o->fp);
    free(o->buf);
}

static void v4(tl_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
    memset(a, 0, sizeof *a);
    a->family = 4;
    a->bytes[0] = x;
    a->bytes[1] = y;
    a->bytes[2] = z;
    a->bytes[3] = w;
}

/* SPEC.md 3.2's example packet: server's PSH+ACK with 5 bytes. */
static void example_packet(tl_frame *f, tl_packet *p, tl_pkt_view *v)
{
    memset(f, 0, sizeof *f);
    memset(p, 0, sizeof *p);
    memset(v, 0, sizeof *v);
    f->n = 4;
    f->ts = (tl_time){1702890233, 504914000};
    p->ip_version = 4;
    v4(&p->src, 127, 0, 0, 1);
    v4(&p->dst, 127, 0, 0, 1);
    p->sport = 8079;
    p->dport = 48604;
    p->flags = TL_TH_PSH | TL_TH_ACK;
    p->seq = 2366941561u;
    p->ack = 1561972628u;
    p->win = 342;
    p->payload_len = 5;
    p->ip_len = 57;
    p->ip_hlen = 20;
    p->tcp_hlen = 32;
    p->opt.present = TL_OPT_TIMESTAMP;
    p->opt.ts_val = 3209706398u;
    p->opt.ts_ecr = 3209706398u;
    v->frame = f;
    v->result = TL_DECODE_OK;
    v->pkt = p;
    v->conn = 1;
    v->from = TL_ROLE_SERVER;
    v->rel_seq = 1;
    v->rel_ack = 1;
    v->rel_ack_valid = true;
    v->win_scaled = 43776;
    v->client_state = TL_ST_ESTABLISHED;
    v->server_state = TL_ST_ESTABLISHED;
}

static void json_packet_record_matches_spec_example(void **st)
{
    (void)st;
    tl_frame f;
    tl_packet p;
    tl_pkt_view v;
    out o;
    example_packet(&f, &p, &v);
    out_open(&o, 6);
    o.sink.ops->packet(o.sink.ctx, &v);
    assert_string_equal(out_text(&o),
        "{\"type\":\"packet\",\"n\":4,\"ts\":1702890233.504914,\"conn\":1,\"from\":\"server\","
        "\"src\":\"127.0.0.1\",\"sport\":8079,\"dst\":\"127.0.0.1\",\"dport\":48604,"
        "\"flags\":[\"PSH\",\"ACK\"],\"seq\":2366941561,\"ack\":1561972628,\"rel_seq\":1,\"rel_ack\":1,"
        "\"win\":342,\"win_scaled\":43776,\"len\":5,\"ip_len\":57,\"ip_hlen\":20,\"tcp_hlen\":32,"
        "\"options\":{\"ts_val\":3209706398,\"ts_ecr\":3209706398},"
        "\"client_state\":\"ESTABLISHED\",\"server_state\":\"ESTABLISHED\",\"analysis\":[]}\n");
    out_close(&o);
}

static void json_syn_lists_all_options_and_omits_unknowns(void **st)
{
    (void)st;
    tl_frame f;
    tl_packet p;
    tl_pkt_view v;
    out o;
    example_packet(&f, &p, &v);
    f.ts.nsec = 504914123;
    p.flags = TL_TH_SYN | TL_TH_ECE | TL_TH_CWR;
    p.payload_len = 0;
    p.opt.present = TL_OPT_MSS | TL_OPT_SACK_PERM | TL_OPT_WSCALE | TL_OPT_TIMESTAMP | TL_OPT_SACK;
    p.opt.mss = 65495;
    p.opt.wscale = 7;
    p.opt.ts_ecr = 0;
    p.opt.n_sack = 2;
    p.opt.sack[0][0] = 10;
    p.opt.sack[0][1] = 20;
    p.opt.sack[1][0] = 4294967295u;
    p.opt.sack[1][1] = 5;
    v.from = TL_ROLE_CLIENT;
    v.rel_seq = 0;
    v.rel_ack_valid = false;         /* rel_ack left out */
    v.win_scaled = -1;               /* win_scaled left out */
    v.client_state = TL_ST_SYN_SENT;
    v.server_state = TL_ST_LISTEN;
    v.n_analysis = 2;
    v.analysis[0] = TL_EV_RETRANSMISSION;
    v.analysis[1] = TL_EV_PORT_REUSED;
    out_open(&o, 9);
    o.sink.ops->packet(o.sink.ctx, &v);
    assert_string_equal(out_text(&o),
        "{\"type\":\"packet\",\"n\":4,\"ts\":1702890233.504914123,\"conn\":1,\"from\":\"client\","
        "\"src\":\"127.0.0.1\",\"sport\":8079,\"dst\":\"127.0.0.1\",\"dport\":48604,"
        "\"flags\":[\"SYN\",\"ECE\",\"CWR\"],\"seq\":2366941561,\"ack\":1561972628,\"rel_seq\":0,"
        "\"win\":342,\"len\":0,\"ip_len\":57,\"ip_hlen\":20,\"tcp_hlen\":32,"
        "\"options\":{\"mss\":65495,\"sack_perm\":true,\"wscale\":7,\"ts_val\":3209706398,\"ts_ecr\":0,"
        "\"sack\":[[10,20],[4294967295,5]]},"
        "\"client_state\":\"SYN-SENT\",\"server_state\":\"LISTEN\","
        "\"analysis\":[\"retransmission\",\"port_reused\"]}\n");
    out_close(&o);
}

static void json_malformed_frame_gets_malformed_record_and_non_tcp_none(void **st)
{
    (void)st;
    tl_frame f;
    tl_packet p;
    tl_pkt_view v;
    out o;
    example_packet(&f, &p, &v);
    out_open(&o, 6);
    v.result = TL_DECODE_NOT_TCP;
    o.sink.ops->packet(o.sink.ctx, &v);
    v.result = TL_DECODE_FRAGMENT;
    o.sink.ops->packet(o.sink.ctx, &v);
    v.result = TL_DECODE_MALFORMED;
    v.reason = TL_REASON_TCP_DATA_OFFSET;
    o.sink.ops->packet(o.sink.ctx, &v);
    assert_string_equal(out_text(&o),
        "{\"type\":\"malformed\",\"n\":4,\"ts\":1702890233.504914,"
        "\"reason\":\"tcp_data_offset\",\"result\":\"malformed\"}\n");
    out_close(&o);
}

static void json_state_and_event_records(void **st)
{
    (void)st;
    out o;
    out_open(&o, 6);
    tl_state_change c = {.ts = {100, 1000}, .n = 3, .conn = 1, .endpoint = TL_ROLE_CLIENT,
                         .from = TL_ST_SYN_SENT, .to = TL_ST_ESTABLISHED};
    o.sink.ops->state(o.sink.ctx, &c);
    tl_event e = {.kind = TL_EV_CLOSE_3WAY, .ts = {100, 2000}, .n = 8, .conn = 1,
                  .by = TL_ROLE_CLIENT, .text = "FIN \"quoted\"", .value = NAN};
    o.sink.ops->event(o.sink.ctx, &e);
    tl_event h = {.kind = TL_EV_HANDSHAKE, .ts = {100, 2000}, .n = 0, .conn = 2,
                  .by = TL_ROLE_NONE, .text = NULL, .value = 0.000018};
    o.sink.ops->event(o.sink.ctx, &h);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"type\":\"state\",\"ts\":100.000001,\"n\":3,\"conn\":1,\"endpoint\":\"client\","
             "\"from\":\"SYN-SENT\",\"to\":\"ESTABLISHED\"}\n"
             "{\"type\":\"event\",\"ts\":100.000002,\"n\":8,\"conn\":1,\"event\":\"close_3way\","
             "\"by\":\"client\",\"text\":\"FIN \\\"quoted\\\"\"}\n"
             "{\"type\":\"event\",\"ts\":100.000002,\"n\":null,\"conn\":2,\"event\":\"handshake\","
             "\"by\":null,\"text\":\"%s\",\"value\":0.000018}\n",
             tl_event_explain(TL_EV_HANDSHAKE));
    assert_string_equal(out_text(&o), want);
    out_close(&o);
}

static void json_conn_record_has_every_spec_field(void **st)
{
    (void)st;
    tl_conn_record r;
    memset(&r, 0, sizeof r);
    r.conn = 1;
    strcpy(r.uid, "CAbc123");
    r.ts = (tl_time){1702890233, 504000000};
    r.duration = 0.0123456;
    v4(&r.orig_h, 127, 0, 0, 1);
    v4(&r.resp_h, 127, 0, 0, 2);
    r.orig_p = 48604;
    r.resp_p = 8079;
    r.conn_state = "SF";
    strcpy(r.history, "ShADadFf");
    r.orig_pkts = 5;
    r.resp_pkts = 4;
    r.orig_bytes = 11;
    r.orig_ip_bytes = 311;
    r.resp_ip_bytes = 208;
    r.opened = TL_OPEN_HANDSHAKE;
    r.closed = TL_CLOSE_3WAY;
    r.closed_by = TL_ROLE_CLIENT;
    r.client_state = TL_ST_TIME_WAIT;
    r.server_state = TL_ST_CLOSED;
    r.handshake_rtt = 0.000018;
    r.n_events = 4;
    r.events[0] = TL_EV_HANDSHAKE;
    r.events[1] = TL_EV_DATA;
    r.events[2] = TL_EV_CLOSE_3WAY;
    r.events[3] = TL_EV_TIME_WAIT;
    out o;
    out_open(&o, 6);
    o.sink.ops->conn(o.sink.ctx, &r);
    r.handshake_rtt = -1;            /* unknown: left out */
    r.opened = TL_OPEN_NONE;
    r.closed_by = TL_ROLE_NONE;
    r.n_events = 0;
    r.evicted = true;
    o.sink.ops->conn(o.sink.ctx, &r);
    const char *common =
        "{\"type\":\"conn\",\"conn\":1,\"uid\":\"CAbc123\",\"ts\":1702890233.504000,\"duration\":0.012346,"
        "\"orig_h\":\"127.0.0.1\",\"orig_p\":48604,\"resp_h\":\"127.0.0.2\",\"resp_p\":8079,"
        "\"conn_state\":\"SF\",\"history\":\"ShADadFf\",\"orig_pkts\":5,\"resp_pkts\":4,"
        "\"orig_bytes\":11,\"resp_bytes\":0,\"orig_ip_bytes\":311,\"resp_ip_bytes\":208,\"missed_bytes\":0,";
    char want[2048];
    snprintf(want, sizeof want,
             "%s\"opened\":\"handshake\",\"closed\":\"close_3way\",\"closed_by\":\"client\","
             "\"client_state\":\"TIME-WAIT\",\"server_state\":\"CLOSED\",\"handshake_rtt\":0.000018,"
             "\"retransmissions\":0,\"evicted\":false,"
             "\"events\":[\"handshake\",\"data\",\"close_3way\",\"time_wait\"]}\n"
             "%s\"opened\":null,\"closed\":\"close_3way\",\"closed_by\":null,"
             "\"client_state\":\"TIME-WAIT\",\"server_state\":\"CLOSED\","
             "\"retransmissions\":0,\"evicted\":true,\"events\":[]}\n",
             common, common);
    assert_string_equal(out_text(&o), want);
    out_close(&o);
}

static void json_error_and_stats_records(void **st)
{
    (void)st;
    out o;
    out_open(&o, 6);
    tl_error_record e = {.file = "a.pcap", .offset = 123456, .packet = 812, .text = "bad record"};
    o.sink.ops->error(o.sink.ctx, &e);
    tl_error_record e2 = {.file = "b.pcap", .offset = -1, .packet = 0, .text = "x"};
    o.sink.ops->error(o.sink.ctx, &e2);
    tl_stats s;
    memset(&s, 0, sizeof s);
    s.packets = 10;
    s.tcp = 7;
    s.other = 1;
    s.malformed = 2;
    s.by_reason[TL_REASON_IPV4_IHL] = 2;
    s.conns = 3;
    o.sink.ops->finish(o.sink.ctx, &s);
    s.has_kernel_stats = true;
    s.kernel_dropped = 4;
    memset(s.by_reason, 0, sizeof s.by_reason);
    o.sink.ops->finish(o.sink.ctx, &s);
    assert_string_equal(out_text(&o),
        "{\"type\":\"error\",\"file\":\"a.pcap\",\"offset\":123456,\"packet\":812,\"text\":\"bad record\"}\n"
        "{\"type\":\"error\",\"file\":\"b.pcap\",\"offset\":null,\"packet\":null,\"text\":\"x\"}\n"
        "{\"type\":\"stats\",\"packets\":10,\"tcp\":7,\"other\":1,\"fragments\":0,\"malformed\":2,"
        "\"truncated\":0,\"by_reason\":{\"ipv4_ihl\":2},\"bad_checksum\":0,\"conns\":3,\"evicted\":0,"
        "\"errors\":0,\"filtered\":0,\"peak_conns\":0}\n"
        "{\"type\":\"stats\",\"packets\":10,\"tcp\":7,\"other\":1,\"fragments\":0,\"malformed\":2,"
        "\"truncated\":0,\"by_reason\":{},\"bad_checksum\":0,\"conns\":3,\"evicted\":0,"
        "\"errors\":0,\"filtered\":0,\"kernel_dropped\":4,\"iface_dropped\":0,\"peak_conns\":0}\n");
    out_close(&o);
}

/* Records written through a tee reach every sink, in order. */
static void tee_forwards_to_every_sink(void **st)
{
    (void)st;
    out a, b;
    out_open(&a, 6);
    out_open(&b, 9);
    tl_sink both[2] = {a.sink, b.sink}, tee;
    assert_int_equal(tl_sink_tee_new(&tee, both, 2), TL_OK);
    tl_error_record e = {.file = "f", .offset = 1, .packet = 2, .text = "t"};
    tee.ops->error(tee.ctx, &e);
    tl_sink_free(&tee);              /* frees both JSON sinks, flushing them */
    a.sink.ops = NULL;
    b.sink.ops = NULL;
    const char *want = "{\"type\":\"error\",\"file\":\"f\",\"offset\":1,\"packet\":2,\"text\":\"t\"}\n";
    assert_string_equal(out_text(&a), want);
    assert_string_equal(out_text(&b), want);
    out_close(&a);
    out_close(&b);
}

/* Packet records (enough for several blocks) to a FILE on a descriptor:
 * fully buffered it gets them in blocks, line-buffered (a live terminal)
 * each line as it is made; both get the bytes written to memory. */
static void json_file_output_has_the_same_bytes_batched_or_not(void **st)
{
    (void)st;
    enum { N = 100 };
    tl_frame f;
    tl_packet p;
    tl_pkt_view v;
    example_packet(&f, &p, &v);
    out m;
    out_open(&m, 6);
    for (int i = 0; i < N; i++) {
        f.n = (uint64_t)i + 1;
        m.sink.ops->packet(m.sink.ctx, &v);
    }
    const char *want = out_text(&m);
    assert_true(strlen(want) > 3 * 8192);
    for (int line_buffered = 0; line_buffered < 2; line_buffered++) {
        FILE *fp = tmpfile();
        assert_non_null(fp);
        if (line_buffered) assert_int_equal(setvbuf(fp, NULL, _IOLBF, 0), 0);
        tl_sink s;
        tl_output_opts opts = {.ts_digits = 6};
        assert_int_equal(tl_sink_json_new(&s, fp, &opts), TL_OK);
        const char *line_end = want;
        for (int i = 0; i < N; i++) {
            f.n = (uint64_t)i + 1;
            s.ops->packet(s.ctx, &v);
            line_end = strchr(line_end, '\n') + 1;
            if (line_buffered) {
                struct stat sb;
                assert_int_equal(fstat(fileno(fp), &sb), 0);
                assert_int_equal((size_t)sb.st_size, (size_t)(line_end - want));
            }
        }
        tl_sink_free(&s);
        char *got = file_text(fp);
        fclose(fp);
        assert_string_equal(got, want);
        free(got);
    }
    out_close(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_packet_record_matches_spec_example),
        cmocka_unit_test(json_syn_lists_all_options_and_omits_unknowns),
        cmocka_unit_test(json_malformed_frame_gets_malformed_record_and_non_tcp_none),
        cmocka_unit_test(json_state_and_event_records),
        cmocka_unit_test(json_conn_record_has_every_spec_field),
        cmocka_unit_test(json_error_and_stats_records),
        cmocka_unit_test(tee_forwards_to_every_sink),
        cmocka_unit_test(json_file_output_has_the_same_bytes_batched_or_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
