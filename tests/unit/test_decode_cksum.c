/* test_decode_cksum.c -- TCP checksum verification over IPv4 and IPv6.
 *
 * frame1..frame4 below were built by a script and checked with
 * `tshark -o tcp.check_checksum:TRUE` (tcp.checksum.status == Good for all
 * four), so they do not depend on this code's arithmetic:
 *   1  Ethernet/IPv4 SYN with MSS, SACK_PERM, TS, NOP, WS options
 *   2  Ethernet/IPv4 PSH|ACK with a 5-byte (odd) payload
 *   3  Ethernet/IPv6 PSH|ACK with a 7-byte payload
 *   4  Ethernet/IPv6 with a type-0 routing header (segments left 1): the
 *      pseudo-header uses the final destination 2001:db8::99
 * The random tests compare against a plain 16-bit reference sum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decode/decode_int.h"
#include "tcplens/packet.h"
#include "test_decode_build.h"

static const uint8_t frame1[74] = {
    0x02,0x00,0x00,0x00,0x00,0x02,0x02,0x00,0x00,0x00,0x00,0x01,
    0x08,0x00,0x45,0x00,0x00,0x3c,0x12,0x34,0x40,0x00,0x40,0x06,
    0x3c,0x4c,0xc0,0x00,0x02,0x01,0xc6,0x33,0x64,0x07,0x9c,0x40,
    0x00,0x50,0x01,0x02,0x03,0x04,0x00,0x00,0x00,0x00,0xa0,0x02,
    0xfa,0xf0,0x7b,0xd6,0x00,0x00,0x02,0x04,0x05,0xb4,0x04,0x02,
    0x08,0x0a,0x11,0x22,0x33,0x44,0x00,0x00,0x00,0x00,0x01,0x03,
    0x03,0x07,
};
static const uint8_t frame2[59] = {
    0x02,0x00,0x00,0x00,0x00,0x02,0x02,0x00,0x00,0x00,0x00,0x01,
    0x08,0x00,0x45,0x00,0x00,0x2d,0x12,0x34,0x40,0x00,0x40,0x06,
    0x3c,0x5b,0xc0,0x00,0x02,0x01,0xc6,0x33,0x64,0x07,0x9c,0x40,
    0x00,0x50,0x01,0x02,0x03,0x05,0xa0,0xb0,0xc0,0xd0,0x50,0x18,
    0x01,0xf6,0x7b,0xaa,0x00,0x00,0x68,0x65,0x6c,0x6c,0x6f,
};
static const uint8_t frame3[81] = {
    0x02,0x00,0x00,0x00,0x00,0x02,0x02,0x00,0x00,0x00,0x00,0x01,
    0x86,0xdd,0x60,0x00,0x00,0x00,0x00,0x1b,0x06,0x40,0x20,0x01,
    0x0d,0xb8,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,
    0x00,0x01,0x20,0x01,0x0d,0xb8,0x00,0x00,0x00,0x00,0x00,0x00,
    0x00,0x00,0x00,0x00,0x00,0x02,0x9c,0x41,0x01,0xbb,0x00,0x00,
    0x00,0x07,0x00,0x00,0x00,0x09,0x50,0x18,0x03,0xe8,0xf5,0x2c,
    0x00,0x00,0x70,0x61,0x79,0x6c,0x6f,0x61,0x64,
};
static const uint8_t frame4[101] = {
    0x02,0x00,0x00,0x00,0x00,0x02,0x02,0x00,0x00,0x00,0x00,0x01,
    0x86,0xdd,0x60,0x00,0x00,0x00,0x00,0x2f,0x2b,0x40,0x20,0x01,
    0x0d,0xb8,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,
    0x00,0x01,0x20,0x01,0x0d,0xb8,0x00,0x00,0x00,0x00,0x00,0x00,
    0x00,0x00,0x00,0x00,0x00,0x02,0x06,0x02,0x00,0x01,0x00,0x00,
    0x00,0x00,0x20,0x01,0x0d,0xb8,0x00,0x00,0x00,0x00,0x00,0x00,
    0x00,0x00,0x00,0x00,0x00,0x99,0x9c,0x42,0x00,0x16,0x00,0x00,
    0x00,0x01,0x00,0x00,0x00,0x02,0x50,0x10,0x00,0x64,0xf2,0xa3,
    0x00,0x00,0x61,0x62,0x63,
};

static tl_cksum_status verify(const uint8_t *f, size_t n)
{
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, f, (uint32_t)n, true, &p, &r), TL_DECODE_OK);
    return p.cksum_status;
}

static void cksum_ipv4_syn_with_options_good(void **state)
{
    (void)state;
    assert_int_equal(verify(frame1, sizeof frame1), TL_CKSUM_GOOD);
}

static void cksum_ipv4_odd_payload_good(void **state)
{
    (void)state;
    assert_int_equal(verify(frame2, sizeof frame2), TL_CKSUM_GOOD);
}

static void cksum_ipv6_good(void **state)
{
    (void)state;
    assert_int_equal(verify(frame3, sizeof frame3), TL_CKSUM_GOOD);
}

static void cksum_ipv6_routing_header_uses_final_destination(void **state)
{
    (void)state;
    assert_int_equal(verify(frame4, sizeof frame4), TL_CKSUM_GOOD);
}

/* Flipping any single bit of the segment or the addresses makes it bad. */
static void flip_each_bit_is_bad(const uint8_t *f, size_t n, size_t from)
{
    uint8_t b[256];
    memcpy(b, f, n);
    for (size_t i = from; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            b[i] ^= (uint8_t)(1u << bit);
            tl_packet p;
            tl_decode_reason r;
            if (tl_decode(1, b, (uint32_t)n, true, &p, &r) == TL_DECODE_OK)
                assert_int_equal(p.cksum_status, TL_CKSUM_BAD);
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
}

static void cksum_ipv4_corrupted_is_bad(void **state)
{
    (void)state;
    flip_each_bit_is_bad(frame2, sizeof frame2, 14 + 12); /* from the source address */
    flip_each_bit_is_bad(frame1, sizeof frame1, 14 + 20);
}

static void cksum_ipv6_corrupted_is_bad(void **state)
{
    (void)state;
    flip_each_bit_is_bad(frame3, sizeof frame3, 14 + 8);
}

static void cksum_not_verified_unless_asked(void **state)
{
    (void)state;
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, frame2, sizeof frame2, false, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.cksum_status, TL_CKSUM_UNCHECKED);
}

static void cksum_not_verified_when_payload_cut(void **state)
{
    (void)state;
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, frame2, sizeof frame2 - 1, true, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.cksum_status, TL_CKSUM_UNCHECKED);
    assert_int_equal(p.payload_len, 5);
    assert_int_equal(p.payload_caplen, 4);
}

static void cksum_random_segments_v4_and_v6_match_reference(void **state)
{
    (void)state;
    srand(12345);
    for (int iter = 0; iter < 400; iter++) {
        uint8_t payload[200];
        size_t plen = (size_t)(rand() % 200);
        for (size_t i = 0; i < plen; i++) payload[i] = (uint8_t)rand();
        bool v6 = iter & 1;
        tb t = {.n = 0};
        tb_eth(&t, v6 ? 0x86dd : 0x0800);
        size_t ip = t.n;
        if (v6) tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 6, 20 + plen);
        else tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 6, 20 + plen, NULL, 0);
        size_t tcp = tb_tcp(&t, (unsigned)rand() & 0xffff, 80, (uint32_t)rand(),
                            (uint32_t)rand(), 0x18, 1000, NULL, 0, payload, plen);
        /* Pseudo-header sum, then the reference over the segment. */
        uint8_t ph[40];
        size_t phn;
        if (v6) {
            memcpy(ph, t.b + ip + 8, 32);
            ph[32] = 0; ph[33] = 0;
            ph[34] = (uint8_t)((20 + plen) >> 8); ph[35] = (uint8_t)(20 + plen);
            ph[36] = 0; ph[37] = 0; ph[38] = 0; ph[39] = 6;
            phn = 40;
        } else {
            memcpy(ph, t.b + ip + 12, 8);
            ph[8] = 0; ph[9] = 6;
            ph[10] = (uint8_t)((20 + plen) >> 8); ph[11] = (uint8_t)(20 + plen);
            phn = 12;
        }
        uint16_t phsum = (uint16_t)~ref_cksum(ph, phn, 0);
        tb_set16(&t, tcp + 16, ref_cksum(t.b + tcp, t.n - tcp, phsum));
        assert_int_equal(verify(t.b, t.n), TL_CKSUM_GOOD);
        t.b[t.n - 1 - (plen ? rand() % plen : 0)] ^= 0x40;
        assert_int_equal(verify(t.b, t.n), TL_CKSUM_BAD);
    }
}

static void cksum_add_matches_reference_for_every_length(void **state)
{
    (void)state;
    uint8_t b[300];
    srand(7);
    for (size_t i = 0; i < sizeof b; i++) b[i] = (uint8_t)rand();
    for (size_t n = 0; n <= sizeof b; n++) {
        for (size_t off = 0; off < 3 && off <= n; off++)
            assert_int_equal(tl__cksum_fold(tl__cksum_add(0, b + off, n - off)),
                             ref_cksum(b + off, n - off, 0));
    }
    /* All-ones data is the carry-heavy case. */
    memset(b, 0xff, sizeof b);
    assert_int_equal(tl__cksum_fold(tl__cksum_add(0xffff, b, sizeof b)),
                     ref_cksum(b, sizeof b, 0xffff));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cksum_ipv4_syn_with_options_good),
        cmocka_unit_test(cksum_ipv4_odd_payload_good),
        cmocka_unit_test(cksum_ipv6_good),
        cmocka_unit_test(cksum_ipv6_routing_header_uses_final_destination),
        cmocka_unit_test(cksum_ipv4_corrupted_is_bad),
        cmocka_unit_test(cksum_ipv6_corrupted_is_bad),
        cmocka_unit_test(cksum_not_verified_unless_asked),
        cmocka_unit_test(cksum_not_verified_when_payload_cut),
        cmocka_unit_test(cksum_random_segments_v4_and_v6_match_reference),
        cmocka_unit_test(cksum_add_matches_reference_for_every_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
