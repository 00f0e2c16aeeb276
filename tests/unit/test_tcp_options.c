/* test_tcp_options.c -- tl_decode_tcp_options(): every kind we parse, wrong
 * lengths kept as unknown, malformed lengths rejected with what came before
 * kept (RFC 9293 3.1, RFC 7323, RFC 2018). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcplens/packet.h"

#define PARSE(arr, out) tl_decode_tcp_options(arr, sizeof arr, out)

static void tcp_options_linux_syn_set(void **state)
{
    (void)state;
    /* MSS 65495, SACK_PERM, TS, NOP, WS 7: what Linux sends on loopback. */
    const uint8_t o[] = {2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0xbf, 0x4b, 0x3a, 0x9e,
                         0, 0, 0, 0, 1, 3, 3, 7};
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_int_equal(out.present, TL_OPT_MSS | TL_OPT_SACK_PERM | TL_OPT_TIMESTAMP | TL_OPT_WSCALE);
    assert_int_equal(out.mss, 65495);
    assert_int_equal(out.wscale, 7);
    assert_int_equal(out.ts_val, 0xbf4b3a9eu);
    assert_int_equal(out.ts_ecr, 0);
    assert_int_equal(out.n_unknown, 0);
}

static void tcp_options_empty_list_is_valid(void **state)
{
    (void)state;
    tl_tcp_options out;
    assert_true(tl_decode_tcp_options(NULL, 0, &out));
    assert_int_equal(out.present, 0);
}

static void tcp_options_eol_ends_parsing(void **state)
{
    (void)state;
    /* Bytes after EOL are padding, even if they look like a bad option. */
    const uint8_t o[] = {2, 4, 0x05, 0xb4, 0, 5, 0, 0};
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_int_equal(out.present, TL_OPT_MSS);
    assert_int_equal(out.mss, 1460);
}

static void tcp_options_nop_is_one_byte(void **state)
{
    (void)state;
    const uint8_t o[] = {1, 1, 1, 3, 3, 14};
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_int_equal(out.present, TL_OPT_WSCALE);
    assert_int_equal(out.wscale, 14);
}

static void tcp_options_wscale_above_14_kept_raw(void **state)
{
    (void)state;
    const uint8_t o[] = {3, 3, 200, 0};
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_int_equal(out.wscale, 200);
}

static void tcp_options_sack_one_to_four_blocks(void **state)
{
    (void)state;
    uint8_t o[2 + 32];
    o[0] = 5;
    for (int n = 1; n <= 4; n++) {
        o[1] = (uint8_t)(2 + 8 * n);
        for (int i = 0; i < 8 * n; i++) o[2 + i] = (uint8_t)(i + 1);
        tl_tcp_options out;
        assert_true(tl_decode_tcp_options(o, (uint32_t)(2 + 8 * n), &out));
        assert_int_equal(out.present, TL_OPT_SACK);
        assert_int_equal(out.n_sack, n);
        assert_int_equal(out.sack[0][0], 0x01020304u);
        assert_int_equal(out.sack[0][1], 0x05060708u);
        assert_int_equal(out.sack[n - 1][1], (uint32_t)((8 * n - 3) << 24 | (8 * n - 2) << 16 |
                                                        (8 * n - 1) << 8 | (8 * n)));
    }
}

static void tcp_options_sack_bad_length_kept_as_unknown(void **state)
{
    (void)state;
    /* 2 + 7 bytes: not a whole number of blocks. */
    const uint8_t o[] = {5, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1};
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_int_equal(out.present, 0);
    assert_int_equal(out.n_unknown, 1);
    assert_int_equal(out.unknown[0].kind, 5);
    assert_int_equal(out.unknown[0].len, 9);
}

static void tcp_options_mss_wrong_length_kept_as_unknown(void **state)
{
    (void)state;
    const uint8_t o[] = {2, 3, 0x05, 4, 2};
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_int_equal(out.present, TL_OPT_SACK_PERM);
    assert_int_equal(out.n_unknown, 1);
    assert_int_equal(out.unknown[0].kind, 2);
    assert_int_equal(out.unknown[0].len, 3);
}

static void tcp_options_timestamp_wrong_length_kept_as_unknown(void **state)
{
    (void)state;
    const uint8_t o[] = {8, 6, 1, 2, 3, 4};
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_false(out.present & TL_OPT_TIMESTAMP);
    assert_int_equal(out.n_unknown, 1);
    assert_int_equal(out.unknown[0].len, 6);
}

static void tcp_options_sack_perm_and_wscale_wrong_length_unknown(void **state)
{
    (void)state;
    const uint8_t o[] = {4, 3, 0, 3, 2};
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_int_equal(out.present, 0);
    assert_int_equal(out.n_unknown, 2);
    assert_int_equal(out.unknown[0].kind, 4);
    assert_int_equal(out.unknown[1].kind, 3);
    assert_int_equal(out.unknown[1].len, 2);
}

static void tcp_options_unknown_kind_kept_with_length(void **state)
{
    (void)state;
    /* TCP Fast Open cookie (34) and MPTCP (30), then MSS. */
    const uint8_t o[] = {34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 30, 4, 0, 0, 2, 4, 0x02, 0x18};
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_int_equal(out.n_unknown, 2);
    assert_int_equal(out.unknown[0].kind, 34);
    assert_int_equal(out.unknown[0].len, 10);
    assert_int_equal(out.unknown[1].kind, 30);
    assert_int_equal(out.unknown[1].len, 4);
    assert_int_equal(out.mss, 536);
}

static void tcp_options_unknown_list_caps_at_max(void **state)
{
    (void)state;
    uint8_t o[2 * (TL_MAX_UNKNOWN_OPTS + 3)];
    for (size_t i = 0; i < sizeof o; i += 2) {
        o[i] = (uint8_t)(100 + i / 2);
        o[i + 1] = 2;
    }
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_int_equal(out.n_unknown, TL_MAX_UNKNOWN_OPTS);
    assert_int_equal(out.unknown[TL_MAX_UNKNOWN_OPTS - 1].kind, 100 + TL_MAX_UNKNOWN_OPTS - 1);
}

static void tcp_options_reject_len_zero(void **state)
{
    (void)state;
    /* A zero length would loop forever in a parser that trusts it. */
    const uint8_t o[] = {2, 4, 0x05, 0xb4, 99, 0, 1, 1};
    tl_tcp_options out;
    assert_false(PARSE(o, &out));
    assert_int_equal(out.present, TL_OPT_MSS); /* what came before is kept */
    assert_int_equal(out.mss, 1460);
    assert_int_equal(out.n_unknown, 0);
}

static void tcp_options_reject_len_one(void **state)
{
    (void)state;
    const uint8_t o[] = {3, 3, 5, 8, 1, 1, 1, 1};
    tl_tcp_options out;
    assert_false(PARSE(o, &out));
    assert_int_equal(out.present, TL_OPT_WSCALE);
}

static void tcp_options_reject_len_past_end(void **state)
{
    (void)state;
    const uint8_t o[] = {1, 8, 10, 0, 0, 0, 1};
    tl_tcp_options out;
    assert_false(PARSE(o, &out));
    assert_int_equal(out.present, 0);
}

static void tcp_options_reject_kind_without_length_byte(void **state)
{
    (void)state;
    const uint8_t o[] = {1, 1, 1, 2};
    tl_tcp_options out;
    assert_false(PARSE(o, &out));
}

static void tcp_options_len_exactly_remaining_is_accepted(void **state)
{
    (void)state;
    const uint8_t o[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_int_equal(out.ts_val, 1);
    assert_int_equal(out.ts_ecr, 2);
}

static void tcp_options_later_copy_replaces_earlier(void **state)
{
    (void)state;
    const uint8_t o[] = {2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18};
    tl_tcp_options out;
    assert_true(PARSE(o, &out));
    assert_int_equal(out.mss, 536);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_options_linux_syn_set),
        cmocka_unit_test(tcp_options_empty_list_is_valid),
        cmocka_unit_test(tcp_options_eol_ends_parsing),
        cmocka_unit_test(tcp_options_nop_is_one_byte),
        cmocka_unit_test(tcp_options_wscale_above_14_kept_raw),
        cmocka_unit_test(tcp_options_sack_one_to_four_blocks),
        cmocka_unit_test(tcp_options_sack_bad_length_kept_as_unknown),
        cmocka_unit_test(tcp_options_mss_wrong_length_kept_as_unknown),
        cmocka_unit_test(tcp_options_timestamp_wrong_length_kept_as_unknown),
        cmocka_unit_test(tcp_options_sack_perm_and_wscale_wrong_length_unknown),
        cmocka_unit_test(tcp_options_unknown_kind_kept_with_length),
        cmocka_unit_test(tcp_options_unknown_list_caps_at_max),
        cmocka_unit_test(tcp_options_reject_len_zero),
        cmocka_unit_test(tcp_options_reject_len_one),
        cmocka_unit_test(tcp_options_reject_len_past_end),
        cmocka_unit_test(tcp_options_reject_kind_without_length_byte),
        cmocka_unit_test(tcp_options_len_exactly_remaining_is_accepted),
        cmocka_unit_test(tcp_options_later_copy_replaces_earlier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
