/* test_decode_addr.c -- tl_addr_format() prints what inet_ntop(3) prints
 * (and tshark, which uses the same RFC 5952 text); tl_addr_equal(). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "tcplens/packet.h"

static tl_addr v6(const char *text)
{
    tl_addr a = {.family = 6};
    assert_int_equal(inet_pton(AF_INET6, text, a.bytes), 1);
    return a;
}

static void expect_like_inet_ntop(const tl_addr *a)
{
    char mine[64], ref[64];
    assert_non_null(inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, ref, sizeof ref));
    tl_addr_format(a, mine, sizeof mine);
    assert_string_equal(mine, ref);
}

static void addr_format_ipv4_dotted_quad(void **state)
{
    (void)state;
    tl_addr a = {.family = 4, .bytes = {192, 0, 2, 1}};
    char buf[46];
    assert_string_equal(tl_addr_format(&a, buf, sizeof buf), "192.0.2.1");
    tl_addr b = {.family = 4, .bytes = {0, 10, 100, 255}};
    assert_string_equal(tl_addr_format(&b, buf, sizeof buf), "0.10.100.255");
    tl_addr c = {.family = 4, .bytes = {255, 255, 255, 255}};
    assert_string_equal(tl_addr_format(&c, buf, sizeof buf), "255.255.255.255");
}

static void addr_format_ipv6_as_tshark_prints(void **state)
{
    (void)state;
    /* Text checked against tshark -e ipv6.src on the same addresses. */
    static const char *const cases[][2] = {
        {"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
        {"::1.2.3.4", "::1.2.3.4"},
        {"1:0:0:1:0:0:0:1", "1:0:0:1::1"},
        {"1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"},
        {"::", "::"},
        {"::1", "::1"},
        {"fe80::1:0:0", "fe80::1:0:0"},
        {"2001:db8::", "2001:db8::"},
        {"0:0:1::", "0:0:1::"},
        {"::ffff:0:1.2.3.4", "::ffff:0:102:304"},
        {"::0.0.1.0", "::100"},
        {"64:ff9b::1.2.3.4", "64:ff9b::102:304"},
        {"2001:0DB8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    };
    char buf[46];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tl_addr a = v6(cases[i][0]);
        assert_string_equal(tl_addr_format(&a, buf, sizeof buf), cases[i][1]);
        expect_like_inet_ntop(&a);
    }
}

static void addr_format_random_matches_inet_ntop(void **state)
{
    (void)state;
    srand(99);
    for (int i = 0; i < 20000; i++) {
        tl_addr a = {.family = (i & 1) ? 6 : 4};
        /* Mostly-zero groups exercise the "::" choice. */
        for (int g = 0; g < 8; g++) {
            int r = rand();
            unsigned w = (r & 3) ? 0 : (r & 4) ? 0xffff : (unsigned)(r >> 8) & 0xffff;
            if ((r & 0x30) == 0) w &= 0xf;
            a.bytes[2 * g] = (uint8_t)(w >> 8);
            a.bytes[2 * g + 1] = (uint8_t)w;
        }
        expect_like_inet_ntop(&a);
    }
}

static void addr_format_short_buffer_is_cut_and_terminated(void **state)
{
    (void)state;
    tl_addr a = {.family = 4, .bytes = {192, 0, 2, 1}};
    char buf[6];
    memset(buf, 'x', sizeof buf);
    assert_string_equal(tl_addr_format(&a, buf, sizeof buf), "192.0");
    tl_addr bad = {.family = 0};
    char b2[46];
    assert_string_equal(tl_addr_format(&bad, b2, sizeof b2), "?");
}

static void addr_equal_compares_family_and_used_bytes(void **state)
{
    (void)state;
    tl_addr a = {.family = 4, .bytes = {10, 0, 0, 1}};
    tl_addr b = a;
    b.bytes[10] = 7; /* beyond the 4 IPv4 bytes: ignored */
    assert_true(tl_addr_equal(&a, &b));
    b.bytes[3] = 2;
    assert_false(tl_addr_equal(&a, &b));
    tl_addr c = a;
    c.family = 6;
    assert_false(tl_addr_equal(&a, &c));
    tl_addr d = v6("2001:db8::1"), e = v6("2001:db8::1");
    assert_true(tl_addr_equal(&d, &e));
    e.bytes[15] = 2;
    assert_false(tl_addr_equal(&d, &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addr_format_ipv4_dotted_quad),
        cmocka_unit_test(addr_format_ipv6_as_tshark_prints),
        cmocka_unit_test(addr_format_random_matches_inet_ntop),
        cmocka_unit_test(addr_format_short_buffer_is_cut_and_terminated),
        cmocka_unit_test(addr_equal_compares_family_and_used_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
