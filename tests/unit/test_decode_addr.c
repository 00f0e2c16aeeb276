/* test_decode_addr.c -- tl_addr_format() prints what inet_ntop(3) prints
 * (and tshark, which uses the same RFC 5952 text); tl_addr_equal().
 * glibc's inet_ntop is the oracle for millions of addresses weighted to the
 * cases the formatter decides: zero runs at every position and length,
 * ties, the IPv4-mapped and -compatible forms, digits with leading zeros. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "decode/addr_fmt.h"
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

/* xorshift64*: the same addresses on every run and every libc */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next_random(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545f4914f6cdd1du) >> 32);
}

/* tl__addr_put (the sinks' writer) and inet_ntop agree, and the writer
 * stays within TL__ADDR_TEXT_MAX. Returns false (after printing both) on
 * a difference so that loops stop at the first one. */
static bool same_as_inet_ntop(const tl_addr *a)
{
    char ref[INET6_ADDRSTRLEN];
    char out[TL__ADDR_TEXT_MAX + 16];
    memset(out, '#', sizeof out);
    if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, ref, sizeof ref)) return false;
    size_t n = tl__addr_put(out, a);
    for (size_t i = TL__ADDR_TEXT_MAX; i < sizeof out; i++)
        if (out[i] != '#') {
            print_error("wrote past TL__ADDR_TEXT_MAX for %s\n", ref);
            return false;
        }
    if (n != strlen(ref) || memcmp(out, ref, n) != 0) {
        print_error("inet_ntop \"%s\", tl__addr_put \"%.*s\"\n", ref, (int)(n < 64 ? n : 64), out);
        return false;
    }
    return true;
}

static void set_group(tl_addr *a, int g, unsigned w)
{
    a->bytes[2 * g] = (uint8_t)(w >> 8);
    a->bytes[2 * g + 1] = (uint8_t)w;
}

/* A nonzero group with 1 to 4 hex digits alike often, so that every
 * leading-zero count shows up; now and then 0xffff (the mapped prefix). */
static unsigned nonzero_group(void)
{
    uint32_t r = next_random();
    if ((r & 15) == 0) return 0xffffu;
    unsigned digits = 1 + (r >> 4 & 3);
    unsigned low = digits == 1 ? 1 : 1u << (4 * (digits - 1));
    return low + (r >> 8) % ((1u << (4 * digits)) - low);
}

/* groups in zero_mask (bit g: group g) are 0, the others are not */
static tl_addr v6_with_zero_groups(unsigned zero_mask)
{
    tl_addr a = {.family = 6};
    for (int g = 0; g < 8; g++) set_group(&a, g, (zero_mask >> g & 1) ? 0 : nonzero_group());
    return a;
}

static uint8_t random_octet(void)
{
    /* 1-, 2- and 3-digit octets and 0 alike often */
    uint32_t r = next_random();
    switch (r & 3) {
    case 0: return 0;
    case 1: return (uint8_t)(r >> 8) % 10;
    case 2: return (uint8_t)(10 + (r >> 8) % 90);
    default: return (uint8_t)(100 + (r >> 8) % 156);
    }
}

static void addr_format_ipv4_every_octet_matches_inet_ntop(void **state)
{
    (void)state;
    for (int pos = 0; pos < 4; pos++)
        for (int v = 0; v < 256; v++)
            for (int rep = 0; rep < 16; rep++) {
                tl_addr a = {.family = 4};
                for (int i = 0; i < 4; i++) a.bytes[i] = random_octet();
                a.bytes[pos] = (uint8_t)v;
                assert_true(same_as_inet_ntop(&a));
            }
    for (int i = 0; i < 1000000; i++) {
        tl_addr a = {.family = 4};
        uint32_t r = next_random();
        for (int k = 0; k < 4; k++) a.bytes[k] = (r >> 31) ? (uint8_t)(r >> (8 * k)) : random_octet();
        assert_true(same_as_inet_ntop(&a));
    }
}

static void addr_format_ipv6_every_zero_pattern_matches_inet_ntop(void **state)
{
    (void)state;
    /* Every set of zero groups: runs at each position and length, two or
     * three runs of equal length (ties), single zeros, none, all. */
    for (unsigned mask = 0; mask < 256; mask++)
        for (int rep = 0; rep < 256; rep++) {
            tl_addr a = v6_with_zero_groups(mask);
            assert_true(same_as_inet_ntop(&a));
        }
}

static void addr_format_ipv6_mapped_and_compatible_match_inet_ntop(void **state)
{
    (void)state;
    static const char *const fixed[] = {
        "::", "::1", "::2", "::ffff:0.0.0.0", "::ffff:0.0.0.1", "::ffff:1.0.0.0",
        "::0.1.0.0", "::0.0.1.0", "::1.0.0.0", "::1.2.0.0", "::0.0.255.255",
        "::ffff", "::ffff:0", "::1:ffff:1.2.3.4", "::ffff:ffff:1.2.3.4",
        "0:0:0:0:1:ffff:0:0", "::fffe:1.2.3.4", "1::ffff:1.2.3.4", "::ffff:0:0:0",
        "::1:0:0", "::1:0:0:0", "::1:0:0:0:0", "::101:0:0:0:0:0", "1::", "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8", "0:1:0:1:0:1:0:1", "1:0:0:2:0:0:3:4", "1:0:0:2:3:0:0:0",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        tl_addr a = v6(fixed[i]);
        assert_true(same_as_inet_ntop(&a));
    }
    /* Prefixes of 4 to 6 zero groups, group 5 zero, 0xffff or other, and
     * IPv4 tails with zero octets: the forms inet_ntop prints with dots
     * and the near misses it prints in hex. */
    static const unsigned group5[] = {0, 0xffffu, 0xfffeu, 1, 0xff};
    for (int i = 0; i < 200000; i++) {
        tl_addr a = {.family = 6};
        uint32_t r = next_random();
        int zero_prefix = 4 + (int)(r % 3);
        for (int g = zero_prefix; g < 6; g++) set_group(&a, g, nonzero_group());
        set_group(&a, 5, (r >> 4) % 3 ? group5[(r >> 8) % 5] : nonzero_group());
        for (int k = 12; k < 16; k++) a.bytes[k] = random_octet();
        if ((r >> 12 & 7) == 0) set_group(&a, (int)(r >> 16 & 7), 0);
        assert_true(same_as_inet_ntop(&a));
    }
}

static void addr_format_ipv6_random_weighted_matches_inet_ntop(void **state)
{
    (void)state;
    for (int i = 0; i < 2000000; i++) {
        uint32_t r = next_random();
        tl_addr a;
        switch (r & 7) {
        case 0:
        case 1: {
            /* a run of every length at every place, maybe a second one
             * of the same length (a tie) and stray zeros */
            unsigned len = (r >> 3) % 9, start = (r >> 7) % (9 - len);
            unsigned mask = ((1u << len) - 1) << start;
            unsigned start2 = (r >> 11) % 8;
            if (r >> 14 & 1) mask |= (((1u << len) - 1) << start2) & 0xffu;
            if (r >> 15 & 1) mask |= 1u << (r >> 16 & 7);
            a = v6_with_zero_groups(mask);
            break;
        }
        case 2:
        case 3:
            a = v6_with_zero_groups(r >> 8 & 0xff);
            break;
        case 4: {
            /* uniform: zero groups are rare, leading zeros are not */
            a.family = 6;
            for (int k = 0; k < 16; k++) a.bytes[k] = (uint8_t)(next_random() >> 24);
            break;
        }
        case 5: {
            /* IPv4-compatible / -mapped shapes */
            a = v6_with_zero_groups(0x1f | (r >> 8 & 0xe0));
            if (r >> 11 & 1) set_group(&a, 5, 0xffffu);
            break;
        }
        default: {
            /* bytes of 0, small, 0xff: groups like 0:f:ff:f00:ff00 */
            static const uint8_t bytes[] = {0, 0, 0, 1, 0xf, 0x10, 0xff, 0xab};
            a.family = 6;
            for (int k = 0; k < 16; k++) a.bytes[k] = bytes[next_random() >> 29];
            break;
        }
        }
        assert_true(same_as_inet_ntop(&a));
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
        cmocka_unit_test(addr_format_ipv4_every_octet_matches_inet_ntop),
        cmocka_unit_test(addr_format_ipv6_every_zero_pattern_matches_inet_ntop),
        cmocka_unit_test(addr_format_ipv6_mapped_and_compatible_match_inet_ntop),
        cmocka_unit_test(addr_format_ipv6_random_weighted_matches_inet_ntop),
        cmocka_unit_test(addr_format_short_buffer_is_cut_and_terminated),
        cmocka_unit_test(addr_equal_compares_family_and_used_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
