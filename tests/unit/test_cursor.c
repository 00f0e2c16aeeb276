/* test_cursor.c -- the bounds-checked reader: short reads return 0 and set
 * a sticky flag; sub-cursors clamp to what was captured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/cursor.h"

static const uint8_t bytes[] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde};

static void cursor_reads_big_and_little_endian(void **state)
{
    (void)state;
    tl_cursor c = tl_cursor_make(bytes, sizeof bytes);
    assert_int_equal(tl_rd_u8(&c), 0x12);
    assert_int_equal(tl_rd_u16be(&c), 0x3456);
    assert_int_equal(tl_rd_u16le(&c), 0x9a78);
    assert_int_equal(tl_cur_remaining(&c), 2);
    assert_false(c.truncated);
    c = tl_cursor_make(bytes, sizeof bytes);
    assert_int_equal(tl_rd_u32be(&c), 0x12345678u);
    c = tl_cursor_make(bytes, sizeof bytes);
    assert_int_equal(tl_rd_u32le(&c), 0x78563412u);
}

static void cursor_short_read_returns_zero_and_sets_flag(void **state)
{
    (void)state;
    tl_cursor c = tl_cursor_make(bytes, 3);
    assert_int_equal(tl_rd_u16be(&c), 0x1234);
    assert_int_equal(tl_rd_u32be(&c), 0); /* only 1 byte left */
    assert_true(c.truncated);
    /* The failed read did not move the cursor. */
    assert_int_equal(tl_cur_remaining(&c), 1);
}

static void cursor_truncated_flag_is_sticky(void **state)
{
    (void)state;
    tl_cursor c = tl_cursor_make(bytes, 2);
    assert_int_equal(tl_rd_u32be(&c), 0);
    assert_true(c.truncated);
    /* Even a read that would fit fails once the flag is set. */
    assert_int_equal(tl_rd_u8(&c), 0);
    assert_false(tl_cur_has(&c, 1));
    assert_true(c.truncated);
}

static void cursor_skip_past_end_fails_without_moving(void **state)
{
    (void)state;
    tl_cursor c = tl_cursor_make(bytes, sizeof bytes);
    assert_true(tl_cur_skip(&c, 7));
    assert_int_equal(tl_cur_remaining(&c), 0);
    c = tl_cursor_make(bytes, sizeof bytes);
    assert_false(tl_cur_skip(&c, 8));
    assert_true(c.truncated);
    assert_int_equal(tl_cur_remaining(&c), 7);
}

static void cursor_rd_bytes_zero_fills_when_short(void **state)
{
    (void)state;
    uint8_t out[4] = {1, 1, 1, 1};
    tl_cursor c = tl_cursor_make(bytes, 3);
    assert_false(tl_rd_bytes(&c, out, 4));
    for (int i = 0; i < 4; i++) assert_int_equal(out[i], 0);
    c = tl_cursor_make(bytes, 4);
    assert_true(tl_rd_bytes(&c, out, 4));
    assert_int_equal(out[3], 0x78);
}

static void cursor_sub_clamps_to_captured_bytes(void **state)
{
    (void)state;
    tl_cursor c = tl_cursor_make(bytes, sizeof bytes);
    tl_rd_u8(&c);
    tl_cursor s = tl_cur_sub(&c, 100); /* asks for more than there is */
    assert_int_equal(tl_cur_remaining(&s), 6);
    assert_false(s.truncated);
    assert_int_equal(tl_cur_remaining(&c), 0); /* parent moved past them */
    assert_int_equal(tl_rd_u16be(&s), 0x3456);
}

static void cursor_sub_cannot_read_past_its_end(void **state)
{
    (void)state;
    tl_cursor c = tl_cursor_make(bytes, sizeof bytes);
    tl_cursor s = tl_cur_sub(&c, 2);
    assert_int_equal(tl_rd_u16be(&s), 0x1234);
    assert_int_equal(tl_rd_u8(&s), 0); /* the parent still has bytes; s does not */
    assert_true(s.truncated);
    assert_false(c.truncated);
    assert_int_equal(tl_rd_u8(&c), 0x56);
}

static void cursor_take_gives_bytes_in_place_or_null(void **state)
{
    (void)state;
    tl_cursor c = tl_cursor_make(bytes, sizeof bytes);
    const uint8_t *p = tl_cur_take(&c, 4);
    assert_ptr_equal(p, bytes); /* in place, not a copy */
    assert_int_equal(tl_cur_remaining(&c), 3);
    assert_null(tl_cur_take(&c, 4)); /* only 3 left */
    assert_true(c.truncated);
    assert_int_equal(tl_cur_remaining(&c), 3); /* did not move */
    assert_null(tl_cur_take(&c, 1)); /* sticky */
    c = tl_cursor_make(bytes, sizeof bytes);
    assert_ptr_equal(tl_cur_take(&c, sizeof bytes), bytes);
    assert_ptr_equal(tl_cur_take(&c, 0), bytes + sizeof bytes);
    assert_false(c.truncated);
}

static void cursor_empty_buffer_reads_nothing(void **state)
{
    (void)state;
    tl_cursor c = tl_cursor_make(bytes, 0);
    assert_false(tl_cur_has(&c, 1));
    assert_int_equal(tl_rd_u8(&c), 0);
    assert_true(c.truncated);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cursor_reads_big_and_little_endian),
        cmocka_unit_test(cursor_short_read_returns_zero_and_sets_flag),
        cmocka_unit_test(cursor_truncated_flag_is_sticky),
        cmocka_unit_test(cursor_skip_past_end_fails_without_moving),
        cmocka_unit_test(cursor_rd_bytes_zero_fills_when_short),
        cmocka_unit_test(cursor_sub_clamps_to_captured_bytes),
        cmocka_unit_test(cursor_sub_cannot_read_past_its_end),
        cmocka_unit_test(cursor_take_gives_bytes_in_place_or_null),
        cmocka_unit_test(cursor_empty_buffer_reads_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
