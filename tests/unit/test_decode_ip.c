/* test_decode_ip.c -- IPv4 (IHL, total length, options, fragments, TSO
 * zero length, Ethernet padding) and IPv6 (extension-header walk,
 * fragments, jumbograms) as tl_decode() sees them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcplens/packet.h"
#include "test_decode_build.h"

#define IP4 14 /* offset of the IPv4 header in an Ethernet frame */

static tl_decode_result dec(const tb *t, tl_packet *p, tl_decode_reason *r)
{
    return tl_decode(1, t->b, (uint32_t)t->n, false, p, r);
}

/* Ethernet + IPv4 with the given options + TCP with 4 payload bytes. */
static void v4_with_options(tb *t, const uint8_t *opts, size_t optlen)
{
    t->n = 0;
    tb_eth(t, 0x0800);
    tb_ipv4(t, TB_V4_SRC, TB_V4_DST, 6, 24, opts, optlen);
    tb_tcp(t, 5, 6, 7, 8, 0x10, 9, NULL, 0, (const uint8_t *)"data", 4);
}

static void ipv4_plain_fields(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 10);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(p.src.family, 4);
    assert_memory_equal(p.src.bytes, TB_V4_SRC, 4);
    assert_memory_equal(p.dst.bytes, TB_V4_DST, 4);
    assert_int_equal(p.ttl, 64);
    assert_int_equal(p.ip_len, 50);
    assert_int_equal(p.ip_hlen, 20);
    assert_false(p.ip_options);
    assert_int_equal(p.payload_len, 10);
    assert_int_equal(p.payload_caplen, 10);
}

static void ipv4_options_walked_and_flagged(void **state)
{
    (void)state;
    /* NOP, Record Route (len 7, room for one address), EOL. */
    const uint8_t opts[] = {1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0};
    tb t;
    v4_with_options(&t, opts, sizeof opts);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_OK);
    assert_true(p.ip_options);
    assert_int_equal(p.ip_hlen, 32);
    assert_int_equal(p.ip_len, 56);
    assert_int_equal(p.payload_len, 4);
    assert_memory_equal(p.payload, "data", 4);
}

static void ipv4_option_past_header_is_malformed(void **state)
{
    (void)state;
    const uint8_t opts[] = {1, 7, 9, 4, 0, 0, 0, 0}; /* RR claims 9 of 7 bytes */
    tb t;
    v4_with_options(&t, opts, sizeof opts);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_IPV4_OPTIONS);
    assert_int_equal(p.src.family, 4); /* addresses still known */
}

static void ipv4_option_len_below_two_is_malformed(void **state)
{
    (void)state;
    const uint8_t opts[] = {0x44, 1, 0, 0};
    tb t;
    v4_with_options(&t, opts, sizeof opts);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_IPV4_OPTIONS);
}

static void ipv4_ihl_below_five_is_malformed(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 0);
    t.b[IP4] = 0x44;
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_IPV4_IHL);
}

static void ipv4_total_len_below_header_is_malformed(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 0);
    tb_set16(&t, IP4 + 2, 19);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_IPV4_TOTAL_LEN);

    /* With options the header is 24 bytes; 22 is still too short. */
    const uint8_t opts[] = {1, 1, 1, 0};
    v4_with_options(&t, opts, sizeof opts);
    tb_set16(&t, IP4 + 2, 22);
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_IPV4_TOTAL_LEN);
}

static void ipv4_fixed_header_cut_is_ip_truncated(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 0);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, t.b, IP4 + 19, false, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_IP_TRUNCATED);
}

static void ipv4_options_cut_is_ip_truncated(void **state)
{
    (void)state;
    const uint8_t opts[] = {1, 1, 1, 1, 1, 1, 1, 0};
    tb t;
    v4_with_options(&t, opts, sizeof opts);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, t.b, IP4 + 24, false, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_IP_TRUNCATED);
    assert_memory_equal(p.dst.bytes, TB_V4_DST, 4);
}

static void ipv4_more_fragments_is_fragment(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 8);
    tb_set16(&t, IP4 + 6, 0x2000);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_FRAGMENT);
    assert_int_equal(r, TL_REASON_NONE);
    assert_int_equal(p.ip_version, 4);
    assert_memory_equal(p.src.bytes, TB_V4_SRC, 4);
}

static void ipv4_nonzero_offset_is_fragment(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 8);
    tb_set16(&t, IP4 + 6, 0x0003);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_FRAGMENT);
}

static void ipv4_dont_fragment_alone_is_not_fragment(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 8);
    tb_set16(&t, IP4 + 6, 0x4000);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_OK);
}

static void ipv4_udp_is_not_tcp_with_addresses(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x0800);
    tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 17, 8, NULL, 0);
    tb_u32(&t, 0x00350035);
    tb_u32(&t, 0x00080000);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_NOT_TCP);
    assert_int_equal(r, TL_REASON_NONE);
    assert_int_equal(p.ip_version, 4);
    assert_memory_equal(p.dst.bytes, TB_V4_DST, 4);
}

static void ipv4_ethernet_padding_is_not_payload(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 2); /* 14 + 20 + 20 + 2 = 56: padded to 60 */
    for (int i = 0; i < 4; i++) tb_u8(&t, 0xee);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, t.b, (uint32_t)t.n, true, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.payload_len, 2);
    assert_int_equal(p.payload_caplen, 2);
}

static void ipv4_total_len_zero_presumed_tso(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 100);
    tb_set16(&t, IP4 + 2, 0);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, t.b, (uint32_t)t.n, true, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_len, 140);
    assert_int_equal(p.payload_len, 100);
    /* The length was guessed, so the checksum is not judged. */
    assert_int_equal(p.cksum_status, TL_CKSUM_UNCHECKED);
}

static void ipv4_snaplen_cut_keeps_ip_lengths(void **state)
{
    (void)state;
    tb t;
    tb_simple_v4(&t, 200);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, t.b, 96, true, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_len, 240);
    assert_int_equal(p.payload_len, 200);
    assert_int_equal(p.payload_caplen, 96 - 54);
    assert_int_equal(p.cksum_status, TL_CKSUM_UNCHECKED);
}

/* ---- IPv6 ---- */

#define TCP_LEN 23 /* TCP header + "xyz" */

static void add_tcp(tb *t)
{
    tb_tcp(t, 1234, 443, 11, 22, 0x18, 100, NULL, 0, (const uint8_t *)"xyz", 3);
}

/* Generic extension header of (len+1)*8 bytes filled with PadN. */
static void add_ext(tb *t, unsigned next, unsigned len8)
{
    tb_u8(t, next);
    tb_u8(t, len8);
    size_t body = (len8 + 1) * 8 - 2;
    tb_u8(t, 1); /* PadN */
    tb_u8(t, (unsigned)body - 2);
    for (size_t i = 0; i < body - 2; i++) tb_u8(t, 0);
}

static void ipv6_plain_fields(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x86dd);
    tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 6, TCP_LEN);
    add_tcp(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(p.src.family, 6);
    assert_memory_equal(p.src.bytes, TB_V6_SRC, 16);
    assert_memory_equal(p.dst.bytes, TB_V6_DST, 16);
    assert_int_equal(p.ttl, 61);
    assert_int_equal(p.ip_len, 40 + TCP_LEN);
    assert_int_equal(p.ip_hlen, 40);
    assert_int_equal(p.payload_len, 3);
}

static void ipv6_ext_chain_walked_to_tcp(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x86dd);
    /* hop-by-hop (8) -> destination options (16) -> routing (24) -> AH (16) -> TCP */
    tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 0, 8 + 16 + 24 + 16 + TCP_LEN);
    add_ext(&t, 60, 0);
    add_ext(&t, 43, 1);
    tb_u8(&t, 51);       /* routing type 2, segments left 0 */
    tb_u8(&t, 2);
    tb_u8(&t, 2);
    tb_u8(&t, 0);
    for (int i = 0; i < 20; i++) tb_u8(&t, 0);
    tb_u8(&t, 6);        /* AH: payload len 2 -> (2+2)*4 = 16 bytes */
    tb_u8(&t, 2);
    for (int i = 0; i < 14; i++) tb_u8(&t, 0);
    add_tcp(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_hlen, 40 + 8 + 16 + 24 + 16);
    assert_int_equal(p.payload_len, 3);
    assert_memory_equal(p.payload, "xyz", 3);
    assert_int_equal(p.sport, 1234);
}

static void ipv6_atomic_fragment_walked_through(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x86dd);
    tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 44, 8 + TCP_LEN);
    tb_u8(&t, 6);
    tb_u8(&t, 0);
    tb_u16(&t, 0); /* offset 0, M = 0 */
    tb_u32(&t, 0xabcd);
    add_tcp(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_hlen, 48);
    assert_int_equal(p.payload_len, 3);
}

static void v6_fragment(tb *t, unsigned next, unsigned offword)
{
    t->n = 0;
    tb_eth(t, 0x86dd);
    tb_ipv6(t, TB_V6_SRC, TB_V6_DST, 44, 8 + TCP_LEN);
    tb_u8(t, next);
    tb_u8(t, 0);
    tb_u16(t, offword);
    tb_u32(t, 0xabcd);
    add_tcp(t);
}

static void ipv6_first_fragment_is_fragment(void **state)
{
    (void)state;
    tb t;
    v6_fragment(&t, 6, 0x0001); /* offset 0, M = 1 */
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_FRAGMENT);
    assert_int_equal(r, TL_REASON_NONE);
    assert_int_equal(p.ip_version, 6);
    assert_memory_equal(p.dst.bytes, TB_V6_DST, 16);
}

static void ipv6_later_fragment_is_fragment(void **state)
{
    (void)state;
    tb t;
    v6_fragment(&t, 6, 185 << 3); /* offset 1480, last */
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_FRAGMENT);
}

static void ipv6_udp_fragment_is_not_tcp(void **state)
{
    (void)state;
    tb t;
    v6_fragment(&t, 17, 0x0001);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_NOT_TCP);
}

static void ipv6_esp_and_no_next_are_not_tcp(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x86dd);
    tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 50, TCP_LEN);
    add_tcp(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_NOT_TCP);
    assert_int_equal(p.ip_version, 6);
    t.b[14 + 6] = 59;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_NOT_TCP);
    /* A destination-options header leading to ICMPv6 is not TCP either. */
    t.n = 0;
    tb_eth(&t, 0x86dd);
    tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 60, 8 + 8);
    add_ext(&t, 58, 0);
    tb_u32(&t, 0x80000000u);
    tb_u32(&t, 0);
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_NOT_TCP);
}

static void ipv6_ext_past_payload_length_is_malformed(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x86dd);
    tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 60, 16); /* claims 16 bytes in all */
    add_ext(&t, 6, 3);                          /* a 32-byte header */
    add_tcp(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_IPV6_EXT);
}

static void ipv6_payload_length_shorter_than_ext_minimum_is_malformed(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x86dd);
    tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 0, 4);
    add_ext(&t, 6, 0);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(&t, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_IPV6_EXT);
}

static void ipv6_ext_cut_by_caplen_is_ip_truncated(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x86dd);
    tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 60, 32 + TCP_LEN);
    add_ext(&t, 6, 3);
    add_tcp(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, t.b, 14 + 40 + 20, false, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_IP_TRUNCATED);
    assert_int_equal(tl_decode(1, t.b, 14 + 40 + 1, false, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_IP_TRUNCATED);
}

static void ipv6_fixed_header_cut_is_ip_truncated(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x86dd);
    tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 6, TCP_LEN);
    add_tcp(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, t.b, 14 + 39, false, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_IP_TRUNCATED);
    assert_int_equal(p.ip_version, 6);
}

static void ipv6_jumbo_payload_option_gives_length(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_u32(&t, 0x60000000u);
    tb_u16(&t, 0);                 /* payload length 0: see hop-by-hop */
    tb_u8(&t, 0);
    tb_u8(&t, 64);
    tb_put(&t, TB_V6_SRC, 16);
    tb_put(&t, TB_V6_DST, 16);
    tb_u8(&t, 6);                  /* hop-by-hop, 8 bytes */
    tb_u8(&t, 0);
    tb_u8(&t, 0xc2);               /* Jumbo Payload */
    tb_u8(&t, 4);
    tb_u32(&t, 70000);
    add_tcp(&t);                   /* capture holds only the start */
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(229, t.b, (uint32_t)t.n, true, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_len, 40 + 70000);
    assert_int_equal(p.ip_hlen, 48);
    assert_int_equal(p.payload_len, 70000 - 8 - 20);
    assert_int_equal(p.payload_caplen, 3);
}

static void ipv6_zero_payload_length_presumed_tso(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 6, 0);
    add_tcp(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(229, t.b, (uint32_t)t.n, true, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_len, 40 + TCP_LEN);
    assert_int_equal(p.payload_len, 3);
    assert_int_equal(p.cksum_status, TL_CKSUM_UNCHECKED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_plain_fields),
        cmocka_unit_test(ipv4_options_walked_and_flagged),
        cmocka_unit_test(ipv4_option_past_header_is_malformed),
        cmocka_unit_test(ipv4_option_len_below_two_is_malformed),
        cmocka_unit_test(ipv4_ihl_below_five_is_malformed),
        cmocka_unit_test(ipv4_total_len_below_header_is_malformed),
        cmocka_unit_test(ipv4_fixed_header_cut_is_ip_truncated),
        cmocka_unit_test(ipv4_options_cut_is_ip_truncated),
        cmocka_unit_test(ipv4_more_fragments_is_fragment),
        cmocka_unit_test(ipv4_nonzero_offset_is_fragment),
        cmocka_unit_test(ipv4_dont_fragment_alone_is_not_fragment),
        cmocka_unit_test(ipv4_udp_is_not_tcp_with_addresses),
        cmocka_unit_test(ipv4_ethernet_padding_is_not_payload),
        cmocka_unit_test(ipv4_total_len_zero_presumed_tso),
        cmocka_unit_test(ipv4_snaplen_cut_keeps_ip_lengths),
        cmocka_unit_test(ipv6_plain_fields),
        cmocka_unit_test(ipv6_ext_chain_walked_to_tcp),
        cmocka_unit_test(ipv6_atomic_fragment_walked_through),
        cmocka_unit_test(ipv6_first_fragment_is_fragment),
        cmocka_unit_test(ipv6_later_fragment_is_fragment),
        cmocka_unit_test(ipv6_udp_fragment_is_not_tcp),
        cmocka_unit_test(ipv6_esp_and_no_next_are_not_tcp),
        cmocka_unit_test(ipv6_ext_past_payload_length_is_malformed),
        cmocka_unit_test(ipv6_payload_length_shorter_than_ext_minimum_is_malformed),
        cmocka_unit_test(ipv6_ext_cut_by_caplen_is_ip_truncated),
        cmocka_unit_test(ipv6_fixed_header_cut_is_ip_truncated),
        cmocka_unit_test(ipv6_jumbo_payload_option_gives_length),
        cmocka_unit_test(ipv6_zero_payload_length_presumed_tso),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
