/* test_decode_tcp.c -- the TCP header inside tl_decode(): fields, data
 * offset checks, truncated header versus truncated payload, options in a
 * packet, and the result/reason names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tcplens/packet.h"
#include "test_decode_build.h"

#define TCP 34 /* offset of the TCP header behind Ethernet + IPv4 */

static tl_decode_result dec_n(const tb *t, size_t n, tl_packet *p, tl_decode_reason *r)
{
    return tl_decode(1, t->b, (uint32_t)n, false, p, r);
}

static void tcp_header_fields_in_host_order(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x0800);
    tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 6, 20, NULL, 0);
    tb_tcp(&t, 0xfedc, 0x0102, 0xdeadbeef, 0x80000001u, 0xff, 0xabcd, NULL, 0, NULL, 0);
    tb_set16(&t, TCP + 16, 0x1357);
    tb_set16(&t, TCP + 18, 0x2468);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec_n(&t, t.n, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.sport, 0xfedc);
    assert_int_equal(p.dport, 0x0102);
    assert_int_equal(p.seq, 0xdeadbeefu);
    assert_int_equal(p.ack, 0x80000001u);
    assert_int_equal(p.flags, TL_TH_FIN | TL_TH_SYN | TL_TH_RST | TL_TH_PSH | TL_TH_ACK |
                                  TL_TH_URG | TL_TH_ECE | TL_TH_CWR);
    assert_int_equal(p.win, 0xabcd);
    assert_int_equal(p.cksum, 0x1357);
    assert_int_equal(p.urg_ptr, 0x2468);
    assert_int_equal(p.tcp_hlen, 20);
    assert_int_equal(p.payload_len, 0);
    assert_int_equal(p.payload_caplen, 0);
    assert_int_equal(p.opt.present, 0);
}

static void tcp_data_offset_below_five_is_malformed(void **state)
{
    (void)state;
    for (unsigned doff = 0; doff < 5; doff++) {
        tb t;
        tb_simple_v4(&t, 8);
        t.b[TCP + 12] = (uint8_t)(doff << 4);
        tl_packet p;
        tl_decode_reason r;
        assert_int_equal(dec_n(&t, t.n, &p, &r), TL_DECODE_MALFORMED);
        assert_int_equal(r, TL_REASON_TCP_DATA_OFFSET);
        assert_int_equal(p.sport, 40000); /* fields read before the check stay */
    }
}

static void tcp_data_offset_beyond_segment_is_malformed(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 8); /* segment is 28 bytes */
    t.b[TCP + 12] = 8 << 4; /* claims a 32-byte header */
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec_n(&t, t.n, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_TCP_DATA_OFFSET);
    /* Even when the capture is cut inside the header, the IP length says
     * the header cannot fit: still malformed, not truncated. */
    assert_int_equal(dec_n(&t, TCP + 14, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_TCP_DATA_OFFSET);
}

static void tcp_data_offset_exactly_segment_is_ok(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 8);
    t.b[TCP + 12] = 7 << 4; /* 28-byte header: the 8 "payload" bytes are options */
    memset(t.b + TCP + 20, 1, 8); /* NOPs */
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec_n(&t, t.n, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.tcp_hlen, 28);
    assert_int_equal(p.payload_len, 0);
}

static void tcp_segment_shorter_than_twenty_is_malformed(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x0800);
    tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 6, 12, NULL, 0);
    for (int i = 0; i < 12; i++) tb_u8(&t, 0x50);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec_n(&t, t.n, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_TCP_DATA_OFFSET);
}

static void tcp_header_cut_by_caplen_is_truncated(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 8);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec_n(&t, TCP + 19, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_TCP_TRUNCATED);
    assert_int_equal(dec_n(&t, TCP + 4, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_TCP_TRUNCATED);
    assert_int_equal(p.sport, 40000);
    assert_int_equal(p.dport, 80);
    assert_int_equal(dec_n(&t, TCP, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_TCP_TRUNCATED);
}

static void tcp_options_cut_by_caplen_is_truncated(void **state)
{
    (void)state;
    const uint8_t opts[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};
    tb t = {.n = 0};
    tb_eth(&t, 0x0800);
    tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 6, 28, NULL, 0);
    tb_tcp(&t, 1, 2, 3, 4, 0x02, 5, opts, sizeof opts, NULL, 0);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec_n(&t, t.n - 1, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_TCP_TRUNCATED);
    assert_int_equal(dec_n(&t, t.n, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.opt.present, TL_OPT_MSS | TL_OPT_SACK_PERM);
    assert_int_equal(p.opt.mss, 1460);
}

static void tcp_payload_cut_keeps_ip_derived_length(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 100);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec_n(&t, TCP + 20 + 30, &p, &r), TL_DECODE_OK);
    assert_int_equal(r, TL_REASON_NONE);
    assert_int_equal(p.payload_len, 100);
    assert_int_equal(p.payload_caplen, 30);
    assert_ptr_equal(p.payload, t.b + TCP + 20);
    /* No payload bytes at all, header complete: still OK. */
    assert_int_equal(dec_n(&t, TCP + 20, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.payload_len, 100);
    assert_int_equal(p.payload_caplen, 0);
}

static void tcp_malformed_option_in_packet_keeps_earlier_options(void **state)
{
    (void)state;
    const uint8_t opts[] = {2, 4, 0x05, 0xb4, 3, 9, 7, 0}; /* WS claims 9 of 4 bytes */
    tb t = {.n = 0};
    tb_eth(&t, 0x0800);
    tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 6, 28, NULL, 0);
    tb_tcp(&t, 1, 2, 3, 4, 0x02, 5, opts, sizeof opts, NULL, 0);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec_n(&t, t.n, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_TCP_OPTIONS);
    assert_int_equal(p.opt.present, TL_OPT_MSS);
    assert_int_equal(p.opt.mss, 1460);
    assert_int_equal(p.sport, 1);
}

static void tcp_sack_blocks_in_packet(void **state)
{
    (void)state;
    const uint8_t opts[] = {1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20,
                            0, 0, 0, 30, 0, 0, 0, 40};
    tb t = {.n = 0};
    tb_eth(&t, 0x86dd);
    tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 6, 40);
    tb_tcp(&t, 1, 2, 3, 4, 0x10, 5, opts, sizeof opts, NULL, 0);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec_n(&t, t.n, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.tcp_hlen, 40);
    assert_int_equal(p.opt.n_sack, 2);
    assert_int_equal(p.opt.sack[0][0], 10);
    assert_int_equal(p.opt.sack[0][1], 20);
    assert_int_equal(p.opt.sack[1][0], 30);
    assert_int_equal(p.opt.sack[1][1], 40);
}

static tl_tcp_options opts_of(const uint8_t *opts, size_t n)
{
    tb t = {.n = 0};
    tb_eth(&t, 0x0800);
    tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 6, 20 + n, NULL, 0);
    tb_tcp(&t, 1, 2, 3, 4, 0x10, 5, opts, n, NULL, 0);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec_n(&t, t.n, &p, &r), TL_DECODE_OK);
    return p.opt;
}

static void tcp_aligned_timestamp_same_as_general_parse(void **state)
{
    (void)state;
    /* NOP NOP TS takes a shortcut; TS NOP NOP and TS EOL take the walk. */
    const uint8_t aligned[] = {1, 1, 8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 9};
    const uint8_t trailing[] = {8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 9, 1, 1};
    const uint8_t eol[] = {8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 9, 0, 0};
    tl_tcp_options a = opts_of(aligned, sizeof aligned);
    tl_tcp_options b = opts_of(trailing, sizeof trailing);
    tl_tcp_options c = opts_of(eol, sizeof eol);
    tl_tcp_options ref;
    assert_true(tl_decode_tcp_options(aligned, sizeof aligned, &ref));
    assert_memory_equal(&a, &ref, sizeof ref);
    assert_memory_equal(&b, &ref, sizeof ref);
    assert_memory_equal(&c, &ref, sizeof ref);
    assert_int_equal(a.present, TL_OPT_TIMESTAMP);
    assert_int_equal(a.ts_val, 0xdeadbeefu);
    assert_int_equal(a.ts_ecr, 9);
    /* Same 12 bytes but a bad TS length after NOP NOP: not the shortcut. */
    const uint8_t bad[] = {1, 1, 8, 9, 0, 0, 0, 1, 0, 0, 0, 0};
    tl_tcp_options d = opts_of(bad, sizeof bad);
    assert_int_equal(d.present, 0);
    assert_int_equal(d.n_unknown, 1);
}

static void tcp_decode_clears_previous_packet(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 8);
    tl_packet p;
    memset(&p, 0xa5, sizeof p);
    tl_decode_reason r;
    assert_int_equal(dec_n(&t, t.n, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.n_vlan, 0);
    assert_int_equal(p.opt.present, 0);
    assert_int_equal(p.opt.n_unknown, 0);
    assert_int_equal(p.cksum_status, TL_CKSUM_UNCHECKED);
    /* A NULL reason pointer is allowed. */
    assert_int_equal(tl_decode(1, t.b, (uint32_t)t.n, false, &p, NULL), TL_DECODE_OK);
}

static void decode_names_are_distinct_and_total(void **state)
{
    (void)state;
    for (int i = 0; i < TL_REASON_COUNT; i++) {
        const char *a = tl_decode_reason_name((tl_decode_reason)i);
        assert_non_null(a);
        assert_string_not_equal(a, "unknown");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(a, tl_decode_reason_name((tl_decode_reason)j));
    }
    assert_string_equal(tl_decode_reason_name(TL_REASON_TCP_DATA_OFFSET), "tcp_data_offset");
    assert_string_equal(tl_decode_reason_name(TL_REASON_COUNT), "unknown");
    assert_string_equal(tl_decode_result_name(TL_DECODE_OK), "ok");
    assert_string_equal(tl_decode_result_name(TL_DECODE_NOT_TCP), "not_tcp");
    assert_string_equal(tl_decode_result_name(TL_DECODE_FRAGMENT), "fragment");
    assert_string_equal(tl_decode_result_name(TL_DECODE_TRUNCATED), "truncated");
    assert_string_equal(tl_decode_result_name(TL_DECODE_MALFORMED), "malformed");
    assert_string_equal(tl_decode_result_name((tl_decode_result)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_header_fields_in_host_order),
        cmocka_unit_test(tcp_data_offset_below_five_is_malformed),
        cmocka_unit_test(tcp_data_offset_beyond_segment_is_malformed),
        cmocka_unit_test(tcp_data_offset_exactly_segment_is_ok),
        cmocka_unit_test(tcp_segment_shorter_than_twenty_is_malformed),
        cmocka_unit_test(tcp_header_cut_by_caplen_is_truncated),
        cmocka_unit_test(tcp_options_cut_by_caplen_is_truncated),
        cmocka_unit_test(tcp_payload_cut_keeps_ip_derived_length),
        cmocka_unit_test(tcp_malformed_option_in_packet_keeps_earlier_options),
        cmocka_unit_test(tcp_sack_blocks_in_packet),
        cmocka_unit_test(tcp_aligned_timestamp_same_as_general_parse),
        cmocka_unit_test(tcp_decode_clears_previous_packet),
        cmocka_unit_test(decode_names_are_distinct_and_total),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
