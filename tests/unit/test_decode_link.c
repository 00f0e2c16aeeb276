/* test_decode_link.c -- every supported link type reaches the TCP header:
 * Ethernet with 802.1Q/802.1ad/QinQ tags, SNAP, PPPoE, MPLS, Linux SLL and
 * SLL2, raw IP (12, 101, 228, 229), NULL in both byte orders and LOOP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcplens/packet.h"
#include "test_decode_build.h"

/* Appends IPv4 + TCP (3 payload bytes) or IPv6 + TCP. */
static void add_v4(tb *t)
{
    tb_ipv4(t, TB_V4_SRC, TB_V4_DST, 6, 23, NULL, 0);
    tb_tcp(t, 1234, 80, 11, 22, 0x18, 100, NULL, 0, (const uint8_t *)"xyz", 3);
}

static void add_v6(tb *t)
{
    tb_ipv6(t, TB_V6_SRC, TB_V6_DST, 6, 23);
    tb_tcp(t, 1234, 443, 11, 22, 0x18, 100, NULL, 0, (const uint8_t *)"xyz", 3);
}

static tl_decode_result dec(int dlt, const tb *t, tl_packet *p, tl_decode_reason *r)
{
    return tl_decode(dlt, t->b, (uint32_t)t->n, false, p, r);
}

static void assert_v4_segment(const tl_packet *p)
{
    assert_int_equal(p->ip_version, 4);
    assert_int_equal(p->sport, 1234);
    assert_int_equal(p->dport, 80);
    assert_int_equal(p->payload_len, 3);
    assert_memory_equal(p->payload, "xyz", 3);
}

static void link_ethernet_ipv4(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x0800);
    add_v4(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_OK);
    assert_int_equal(r, TL_REASON_NONE);
    assert_v4_segment(&p);
    assert_int_equal(p.n_vlan, 0);
}

static void link_ethernet_ipv6(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x86dd);
    add_v6(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(p.dport, 443);
}

static void link_ethernet_arp_is_not_tcp(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x0806);
    for (int i = 0; i < 28; i++) tb_u8(&t, 0);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_NOT_TCP);
    assert_int_equal(r, TL_REASON_NONE);
}

static void link_ethernet_short_header_is_link_truncated(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x0800);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, t.b, 13, false, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_LINK_TRUNCATED);
}

static void link_ethertype_ipv4_with_ipv6_packet_is_ip_version(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x0800);
    add_v6(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_IP_VERSION);
}

static void link_vlan_8021q_tag_kept(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x8100);
    tb_u16(&t, 0x2000 | 42); /* priority 1, VID 42 */
    tb_u16(&t, 0x0800);
    add_v4(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.n_vlan, 1);
    assert_int_equal(p.vlan[0], 42);
    assert_v4_segment(&p);
}

static void link_qinq_8021ad_outer_then_inner(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x88a8);
    tb_u16(&t, 100);
    tb_u16(&t, 0x8100);
    tb_u16(&t, 200);
    tb_u16(&t, 0x86dd);
    add_v6(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.n_vlan, 2);
    assert_int_equal(p.vlan[0], 100);
    assert_int_equal(p.vlan[1], 200);
    assert_int_equal(p.ip_version, 6);
}

static void link_three_tags_walked_two_kept(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x9100);
    tb_u16(&t, 1);
    tb_u16(&t, 0x88a8);
    tb_u16(&t, 2);
    tb_u16(&t, 0x8100);
    tb_u16(&t, 3);
    tb_u16(&t, 0x0800);
    add_v4(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.n_vlan, 2);
    assert_int_equal(p.vlan[0], 1);
    assert_int_equal(p.vlan[1], 2);
    assert_v4_segment(&p);
}

static void link_vlan_tag_cut_is_link_truncated(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x8100);
    tb_u16(&t, 5);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_LINK_TRUNCATED);
}

static void link_llc_snap_carries_ipv4(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 8 + 43); /* 802.3 length */
    tb_u8(&t, 0xaa);
    tb_u8(&t, 0xaa);
    tb_u8(&t, 0x03);
    tb_u8(&t, 0);
    tb_u16(&t, 0);
    tb_u16(&t, 0x0800);
    add_v4(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_OK);
    assert_v4_segment(&p);
}

static void link_llc_stp_is_not_tcp(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 38);
    tb_u8(&t, 0x42);
    tb_u8(&t, 0x42);
    tb_u8(&t, 0x03);
    for (int i = 0; i < 35; i++) tb_u8(&t, 0);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_NOT_TCP);
}

static void link_pppoe_session_ipv4(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x8864);
    tb_u8(&t, 0x11);
    tb_u8(&t, 0);
    tb_u16(&t, 0x0001);
    tb_u16(&t, 45);
    tb_u16(&t, 0x0021);
    add_v4(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_OK);
    assert_v4_segment(&p);
}

static void link_mpls_two_labels_ipv4(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_eth(&t, 0x8847);
    tb_u32(&t, (16u << 12) | 64);           /* label 16, not bottom */
    tb_u32(&t, (17u << 12) | 0x100 | 64);   /* label 17, bottom of stack */
    add_v4(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(1, &t, &p, &r), TL_DECODE_OK);
    assert_v4_segment(&p);
}

static void link_sll_ipv4(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_u16(&t, 0);      /* to us */
    tb_u16(&t, 772);    /* ARPHRD_LOOPBACK */
    tb_u16(&t, 6);
    for (int i = 0; i < 8; i++) tb_u8(&t, 0);
    tb_u16(&t, 0x0800);
    add_v4(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(113, &t, &p, &r), TL_DECODE_OK);
    assert_v4_segment(&p);
}

static void link_sll_netlink_is_not_tcp(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_u16(&t, 4);
    tb_u16(&t, 824);    /* ARPHRD_NETLINK: protocol is a netlink family */
    tb_u16(&t, 0);
    for (int i = 0; i < 8; i++) tb_u8(&t, 0);
    tb_u16(&t, 0x0800);
    add_v4(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(113, &t, &p, &r), TL_DECODE_NOT_TCP);
}

static void link_sll_short_is_link_truncated(void **state)
{
    (void)state;
    uint8_t b[15] = {0};
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(113, b, sizeof b, false, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_LINK_TRUNCATED);
}

static void link_sll2_ipv6(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_u16(&t, 0x86dd);
    tb_u16(&t, 0);
    tb_u32(&t, 3);      /* ifindex */
    tb_u16(&t, 1);      /* ARPHRD_ETHER */
    tb_u8(&t, 4);       /* outgoing */
    tb_u8(&t, 6);
    for (int i = 0; i < 8; i++) tb_u8(&t, 0);
    add_v6(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(276, &t, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(p.payload_len, 3);
}

static void link_sll2_vlan_tag_followed(void **state)
{
    (void)state;
    tb t = {.n = 0};
    tb_u16(&t, 0x8100);
    tb_u16(&t, 0);
    tb_u32(&t, 3);
    tb_u16(&t, 1);
    tb_u8(&t, 0);
    tb_u8(&t, 6);
    for (int i = 0; i < 8; i++) tb_u8(&t, 0);
    tb_u16(&t, 7);
    tb_u16(&t, 0x0800);
    add_v4(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(276, &t, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.n_vlan, 1);
    assert_int_equal(p.vlan[0], 7);
}

static void link_raw_12_and_101_take_version_from_nibble(void **state)
{
    (void)state;
    tb t4 = {.n = 0}, t6 = {.n = 0};
    add_v4(&t4);
    add_v6(&t6);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(12, &t4, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(dec(12, &t6, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(dec(101, &t4, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(dec(101, &t6, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_version, 6);
}

static void link_raw_bad_version_nibble_is_ip_version(void **state)
{
    (void)state;
    tb t = {.n = 0};
    add_v4(&t);
    t.b[0] = 0x55;
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(12, &t, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_IP_VERSION);
}

static void link_raw_empty_frame_is_ip_truncated(void **state)
{
    (void)state;
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(12, NULL, 0, false, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_IP_TRUNCATED);
}

static void link_ipv4_228_and_ipv6_229_enforce_version(void **state)
{
    (void)state;
    tb t4 = {.n = 0}, t6 = {.n = 0};
    add_v4(&t4);
    add_v6(&t6);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(228, &t4, &p, &r), TL_DECODE_OK);
    assert_int_equal(dec(229, &t6, &p, &r), TL_DECODE_OK);
    assert_int_equal(dec(228, &t6, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_IP_VERSION);
    assert_int_equal(dec(229, &t4, &p, &r), TL_DECODE_MALFORMED);
    assert_int_equal(r, TL_REASON_IP_VERSION);
}

static void null_frame(tb *t, uint32_t af, int little, int v6)
{
    t->n = 0;
    if (little) {
        tb_u8(t, af & 0xff);
        tb_u8(t, (af >> 8) & 0xff);
        tb_u8(t, (af >> 16) & 0xff);
        tb_u8(t, af >> 24);
    } else {
        tb_u32(t, af);
    }
    if (v6) add_v6(t);
    else add_v4(t);
}

static void link_null_af_inet_both_byte_orders(void **state)
{
    (void)state;
    tb t;
    tl_packet p;
    tl_decode_reason r;
    null_frame(&t, 2, 1, 0);
    assert_int_equal(dec(0, &t, &p, &r), TL_DECODE_OK);
    assert_v4_segment(&p);
    null_frame(&t, 2, 0, 0);
    assert_int_equal(dec(0, &t, &p, &r), TL_DECODE_OK);
    assert_v4_segment(&p);
}

static void link_null_af_inet6_bsd_values(void **state)
{
    (void)state;
    const uint32_t afs[] = {24, 28, 30};
    for (int i = 0; i < 3; i++) {
        for (int little = 0; little < 2; little++) {
            tb t;
            tl_packet p;
            tl_decode_reason r;
            null_frame(&t, afs[i], little, 1);
            assert_int_equal(dec(0, &t, &p, &r), TL_DECODE_OK);
            assert_int_equal(p.ip_version, 6);
        }
    }
}

static void link_null_unknown_af_is_not_tcp(void **state)
{
    (void)state;
    tb t;
    tl_packet p;
    tl_decode_reason r;
    null_frame(&t, 7, 1, 0);
    assert_int_equal(dec(0, &t, &p, &r), TL_DECODE_NOT_TCP);
}

static void link_null_short_is_link_truncated(void **state)
{
    (void)state;
    const uint8_t b[3] = {2, 0, 0};
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(0, b, 3, false, &p, &r), TL_DECODE_TRUNCATED);
    assert_int_equal(r, TL_REASON_LINK_TRUNCATED);
}

static void link_loop_is_network_order_only(void **state)
{
    (void)state;
    tb t;
    tl_packet p;
    tl_decode_reason r;
    null_frame(&t, 2, 0, 0);
    assert_int_equal(dec(108, &t, &p, &r), TL_DECODE_OK);
    assert_v4_segment(&p);
    null_frame(&t, 30, 0, 1);
    assert_int_equal(dec(108, &t, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.ip_version, 6);
    null_frame(&t, 2, 1, 0); /* little-endian AF is not LOOP */
    assert_int_equal(dec(108, &t, &p, &r), TL_DECODE_NOT_TCP);
}

static void link_unknown_linktype_is_reported(void **state)
{
    (void)state;
    tb t = {.n = 0};
    add_v4(&t);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(dec(147, &t, &p, &r), TL_DECODE_NOT_TCP);
    assert_int_equal(r, TL_REASON_UNKNOWN_LINKTYPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(link_ethernet_ipv4),
        cmocka_unit_test(link_ethernet_ipv6),
        cmocka_unit_test(link_ethernet_arp_is_not_tcp),
        cmocka_unit_test(link_ethernet_short_header_is_link_truncated),
        cmocka_unit_test(link_ethertype_ipv4_with_ipv6_packet_is_ip_version),
        cmocka_unit_test(link_vlan_8021q_tag_kept),
        cmocka_unit_test(link_qinq_8021ad_outer_then_inner),
        cmocka_unit_test(link_three_tags_walked_two_kept),
        cmocka_unit_test(link_vlan_tag_cut_is_link_truncated),
        cmocka_unit_test(link_llc_snap_carries_ipv4),
        cmocka_unit_test(link_llc_stp_is_not_tcp),
        cmocka_unit_test(link_pppoe_session_ipv4),
        cmocka_unit_test(link_mpls_two_labels_ipv4),
        cmocka_unit_test(link_sll_ipv4),
        cmocka_unit_test(link_sll_netlink_is_not_tcp),
        cmocka_unit_test(link_sll_short_is_link_truncated),
        cmocka_unit_test(link_sll2_ipv6),
        cmocka_unit_test(link_sll2_vlan_tag_followed),
        cmocka_unit_test(link_raw_12_and_101_take_version_from_nibble),
        cmocka_unit_test(link_raw_bad_version_nibble_is_ip_version),
        cmocka_unit_test(link_raw_empty_frame_is_ip_truncated),
        cmocka_unit_test(link_ipv4_228_and_ipv6_229_enforce_version),
        cmocka_unit_test(link_null_af_inet_both_byte_orders),
        cmocka_unit_test(link_null_af_inet6_bsd_values),
        cmocka_unit_test(link_null_unknown_af_is_not_tcp),
        cmocka_unit_test(link_null_short_is_link_truncated),
        cmocka_unit_test(link_loop_is_network_order_only),
        cmocka_unit_test(link_unknown_linktype_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
