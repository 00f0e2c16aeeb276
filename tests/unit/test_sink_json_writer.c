/* test_sink_json_writer.c -- the streaming JSON writer: escaping (control
 * characters, quotes, invalid UTF-8), integer extremes, exact fixed-point
 * timestamps, nesting and commas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "sink/json_writer.h"

typedef struct mem {
    FILE *fp;
    char *buf;
    size_t len;
    tl_json w;
} mem;

static void mem_open(mem *m)
{
    m->buf = NULL;
    m->len = 0;
    m->fp = open_memstream(&m->buf, &m->len);
    assert_non_null(m->fp);
    tl_json_init(&m->w, m->fp);
}

/* Flush and return what was written; caller frees via mem_close. */
static const char *mem_text(mem *m)
{
    tl_json_flush(&m->w);
    fflush(m->fp);
    return m->buf;
}

static void mem_close(mem *m)
{
    fclose(m->fp);
    free(m->buf);
}

static void check_str(const char *in, size_t n, const char *want)
{
    mem m;
    mem_open(&m);
    tl_json_strn(&m.w, in, n);
    assert_string_equal(mem_text(&m), want);
    mem_close(&m);
}

static void json_escapes_quotes_backslash_and_control_chars(void **st)
{
    (void)st;
    check_str("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    check_str("\n\r\t", 3, "\"\\n\\r\\t\"");
    check_str("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
    check_str("nul\0here", 8, "\"nul\\u0000here\"");
    check_str("", 0, "\"\"");
}

static void json_keeps_valid_utf8_and_escapes_invalid_bytes(void **st)
{
    (void)st;
    check_str("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");                 /* é */
    check_str("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");               /* € */
    check_str("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");       /* U+1F600 */
    check_str("\xff", 1, "\"\\u00ff\"");                            /* never valid */
    check_str("\xc3", 1, "\"\\u00c3\"");                            /* cut short */
    check_str("\xc0\xaf", 2, "\"\\u00c0\\u00af\"");                 /* overlong '/' */
    check_str("\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"");      /* surrogate */
    check_str("\xf4\x90\x80\x80", 4, "\"\\u00f4\\u0090\\u0080\\u0080\""); /* > U+10FFFF */
    check_str("a\x80z", 3, "\"a\\u0080z\"");                        /* stray continuation */
}

static void json_long_string_passes_the_buffer_intact(void **st)
{
    (void)st;
    size_t n = 3 * TL_JSON_BUF + 7;
    char *in = malloc(n);
    char *want = malloc(n + 3);
    assert_non_null(in);
    assert_non_null(want);
    for (size_t i = 0; i < n; i++) in[i] = (char)('a' + i % 26);
    want[0] = '"';
    memcpy(want + 1, in, n);
    want[n + 1] = '"';
    want[n + 2] = 0;
    check_str(in, n, want);
    free(in);
    free(want);
}

static void json_integers_at_their_limits(void **st)
{
    (void)st;
    mem m;
    mem_open(&m);
    tl_json_arr_begin(&m.w);
    tl_json_u64(&m.w, 0);
    tl_json_u64(&m.w, UINT64_MAX);
    tl_json_i64(&m.w, -1);
    tl_json_i64(&m.w, INT64_MIN);
    tl_json_i64(&m.w, INT64_MAX);
    tl_json_arr_end(&m.w);
    assert_string_equal(mem_text(&m),
                        "[0,18446744073709551615,-1,-9223372036854775808,9223372036854775807]");
    mem_close(&m);
}

static void json_u64_formatting_agrees_with_printf_at_every_length(void **st)
{
    (void)st;
    uint64_t v = 1;
    for (int d = 0; d < 20; d++, v *= 10) {
        uint64_t cases[3] = {v - 1, v, v + 1};
        for (int i = 0; i < 3; i++) {
            char want[32], got[32];
            snprintf(want, sizeof want, "%llu", (unsigned long long)cases[i]);
            size_t n = tl_fmt_u64(got, cases[i]);
            got[n] = 0;
            assert_string_equal(got, want);
        }
    }
}

static void json_timestamps_have_exact_digits_never_exponent(void **st)
{
    (void)st;
    mem m;
    mem_open(&m);
    tl_json_arr_begin(&m.w);
    tl_json_time(&m.w, (tl_time){1702890233, 504914000}, 6);
    tl_json_time(&m.w, (tl_time){1702890233, 504914123}, 9);
    tl_json_time(&m.w, (tl_time){1702890233, 504914999}, 6);   /* truncated, not rounded */
    tl_json_time(&m.w, (tl_time){0, 5}, 9);
    tl_json_time(&m.w, (tl_time){-3, 750000000}, 6);           /* -2.25 s */
    tl_json_time(&m.w, (tl_time){7, 0}, 0);
    tl_json_arr_end(&m.w);
    assert_string_equal(mem_text(&m),
                        "[1702890233.504914,1702890233.504914123,1702890233.504914,"
                        "0.000000005,-2.250000,7]");
    mem_close(&m);
}

static void json_doubles_are_fixed_point(void **st)
{
    (void)st;
    mem m;
    mem_open(&m);
    tl_json_arr_begin(&m.w);
    tl_json_double(&m.w, 0.000018, 6);
    tl_json_double(&m.w, 1e20, 2);
    tl_json_double(&m.w, -0.0000001, 6);      /* rounds to zero: no "-0" */
    tl_json_double(&m.w, NAN, 6);             /* NaN is not JSON */
    tl_json_arr_end(&m.w);
    assert_string_equal(mem_text(&m), "[0.000018,100000000000000000000.00,0.000000,null]");
    mem_close(&m);
}

/* Escaping scans 8 bytes at a time: each kind of byte that needs escaping,
 * at every position of a run longer than a word, is still found. */
static void json_escapes_wherever_the_byte_is(void **st)
{
    (void)st;
    static const struct { char c; const char *esc; } cases[] = {
        {'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\x01', "\\u0001"},
        {'\x1f', "\\u001f"}, {'\x7f', "\\u007f"}, {'\x80', "\\u0080"}, {'\xff', "\\u00ff"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (size_t pos = 0; pos < 20; pos++) {
            char in[20], want[64];
            memset(in, 'a', sizeof in);
            in[pos] = cases[k].c;
            snprintf(want, sizeof want, "\"%.*s%s%.*s\"", (int)pos, in, cases[k].esc,
                     (int)(sizeof in - pos - 1), in + pos + 1);
            check_str(in, sizeof in, want);
        }
}

/* Doubles are hand-formatted below 1e9: the same digits as printf's "%.*f"
 * (round to nearest, ties to even, on the exact binary value) at every
 * precision, including exact ties and values just beside them. */
static void json_doubles_round_as_printf_does(void **st)
{
    (void)st;
    static const double values[] = {
        0.0, 0.5, 1.5, 2.5, 0.125, 0.375, 1.0000005, 0.0000005, 0.0000015, 0.000444, 0.0123456,
        123456789.0000005, 999999999.9999999, 1e9, 4294967295.5, 1e-300, 5e-324, 12.3456789,
        0.1, 0.7, 1.005, 2.675, 1e20, 3.0, 60.000001,
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        for (int d = 0; d <= 12; d++) {
            char want[400], got[TL_JSON_DOUBLE_MAX + 1];
            snprintf(want, sizeof want, "%.*f", d, values[i]);
            size_t n = tl_fmt_double(got, values[i], d);
            got[n] = 0;
            assert_string_equal(got, want);
            /* negative: the same with a sign, unless it rounds to zero */
            n = tl_fmt_double(got, -values[i], d);
            got[n] = 0;
            if (strspn(want, "0.") == strlen(want)) assert_string_equal(got, want);
            else {
                assert_int_equal(got[0], '-');
                assert_string_equal(got + 1, want);
            }
        }
    char got[TL_JSON_DOUBLE_MAX];
    assert_int_equal(tl_fmt_double(got, NAN, 6), 4);
    assert_memory_equal(got, "null", 4);
}

/* The text table's times ("%.6f" through tl__fixed_scaled and
 * tl__put_scaled6): the same bytes as printf for exact ties (odd multiples
 * of 1/128), values beside them, sub-microsecond ones, .9999995 carries,
 * durations made from nanoseconds as the tracker makes them, and random
 * bit patterns below 1e9. */
static void check_fixed6(double v)
{
    char want[400], got[TL_JSON_DOUBLE_MAX + 32];
    snprintf(want, sizeof want, "%.6f", v);
    char *end = tl__put_scaled6(got, tl__fixed_scaled(v, 1000000));
    *end = 0;
    assert_string_equal(got, want);
    size_t n = tl_fmt_double(got, v, 6);
    got[n] = 0;
    assert_string_equal(got, want);
}

static void fixed6_prints_as_printf_does(void **st)
{
    (void)st;
    static const double values[] = {
        0.0, 5e-324, 1e-300, 4.6e-10, 4.7e-7, 4.999999e-7, 5e-7, 5.000001e-7, 1e-6, 1.5e-6,
        2.5e-6, 0.0000005, 0.0000015, 0.9999995, 0.99999949999, 0.9999994999999999,
        1.9999995, 9.9999995, 99.9999995, 999999.9999995, 999999999.9999995,
        999999999.9999999, 999999999.0, 123456789.0000005, 4294.967295, 1.0, 3.0, 60.000001,
        0.1, 0.7, 1.005, 2.675,
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        check_fixed6(values[i]);
        check_fixed6(nextafter(values[i], 0));
        check_fixed6(nextafter(values[i], 1e9));
    }
    for (int k = 1; k < 200000; k += 2) {            /* k / 128: exact ties */
        double v = k / 128.0;
        check_fixed6(v);
        check_fixed6(nextafter(v, 0));
        check_fixed6(nextafter(v, 1e9));
    }
    uint64_t x = 88172645463325252u;                 /* xorshift64 */
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* a duration as tl__time_diff makes it: seconds + (nsec - nsec) / 1e9 */
        int64_t sec = (int64_t)(x % 5000) - (i & 1);
        double nb = (double)((x >> 20) % 1000000000u), na = (double)((x >> 40) % 1000000u * 1000u);
        double d = (double)sec + (nb - na) / 1e9;
        if (d >= 0) check_fixed6(d);
        check_fixed6((double)(x % 1000000000000000u) / 1e9);   /* nanoseconds, then seconds */
        uint64_t bits = (x >> 2) % 0x41cdcd6500000000u;        /* the doubles below 1e9 */
        double v;
        memcpy(&v, &bits, sizeof v);
        check_fixed6(v);
    }
}

/* Whole seconds kept from the record before give the same text as
 * formatting each timestamp afresh, across second changes, negative
 * times and every precision. */
static void json_cached_seconds_give_the_same_timestamps(void **st)
{
    (void)st;
    static const tl_time times[] = {
        {1700000000, 268000}, {1700000000, 999999999}, {1700000001, 0}, {1700000001, 5},
        {1700000001, 1000000000}, {-3, 750000000}, {0, 0}, {9, 123456789}, {10, 1},
        {INT64_MAX, 999999999}, {1700000001, 42},
    };
    tl_sec_text c;
    tl_sec_text_init(&c);
    for (int d = 0; d <= 10; d++)
        for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
            char want[32], got[32];
            size_t n = tl_fmt_time(want, times[i], d);
            assert_int_equal(tl_fmt_time_cached(got, times[i], d, &c), n);
            assert_memory_equal(got, want, n);
        }
}

static void json_nesting_puts_commas_between_members_only(void **st)
{
    (void)st;
    mem m;
    mem_open(&m);
    tl_json_obj_begin(&m.w);
    tl_json_kv_str(&m.w, "type", "x");
    tl_json_key(&m.w, "a");
    tl_json_arr_begin(&m.w);
    tl_json_arr_begin(&m.w);
    tl_json_u64(&m.w, 1);
    tl_json_u64(&m.w, 2);
    tl_json_arr_end(&m.w);
    tl_json_arr_begin(&m.w);
    tl_json_arr_end(&m.w);
    tl_json_arr_end(&m.w);
    tl_json_key(&m.w, "o");
    tl_json_obj_begin(&m.w);
    tl_json_obj_end(&m.w);
    tl_json_kv_bool(&m.w, "t", true);
    tl_json_kv_null(&m.w, "n");
    tl_json_obj_end(&m.w);
    tl_json_end_line(&m.w);
    tl_json_obj_begin(&m.w);
    tl_json_kv_u64(&m.w, "second", 2);
    tl_json_obj_end(&m.w);
    tl_json_end_line(&m.w);
    assert_string_equal(mem_text(&m),
                        "{\"type\":\"x\",\"a\":[[1,2],[]],\"o\":{},\"t\":true,\"n\":null}\n"
                        "{\"second\":2}\n");
    mem_close(&m);
}

static void json_null_string_is_null(void **st)
{
    (void)st;
    mem m;
    mem_open(&m);
    tl_json_obj_begin(&m.w);
    tl_json_kv_str(&m.w, "s", NULL);
    tl_json_obj_end(&m.w);
    assert_string_equal(mem_text(&m), "{\"s\":null}");
    mem_close(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_escapes_quotes_backslash_and_control_chars),
        cmocka_unit_test(json_keeps_valid_utf8_and_escapes_invalid_bytes),
        cmocka_unit_test(json_long_string_passes_the_buffer_intact),
        cmocka_unit_test(json_integers_at_their_limits),
        cmocka_unit_test(json_u64_formatting_agrees_with_printf_at_every_length),
        cmocka_unit_test(json_timestamps_have_exact_digits_never_exponent),
        cmocka_unit_test(json_doubles_are_fixed_point),
        cmocka_unit_test(json_nesting_puts_commas_between_members_only),
        cmocka_unit_test(json_null_string_is_null),
        cmocka_unit_test(json_escapes_wherever_the_byte_is),
        cmocka_unit_test(json_doubles_round_as_printf_does),
        cmocka_unit_test(fixed6_prints_as_printf_does),
        cmocka_unit_test(json_cached_seconds_give_the_same_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
