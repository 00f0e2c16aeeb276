/* test_time.c -- the inline time helpers of src/util/time_inline.h. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/time_inline.h"

/* The packed form keeps every tl_time a capture can give: any second
 * (negative and the extremes included) and any 32-bit fraction. */
static void packed_time_round_trips(void **state)
{
    (void)state;
    const int64_t secs[] = {0, 1, 1700000000, 4294967295LL, 4294967296LL, -1, -4294967296LL,
                            INT64_MAX, INT64_MIN};
    const uint32_t nsecs[] = {0, 1, 999999999u, 4294967295u};
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++)
        for (size_t j = 0; j < sizeof nsecs / sizeof nsecs[0]; j++) {
            tl_time t = {secs[i], nsecs[j]};
            tl_time u = tl__time_unpack(tl__time_pack(t));
            assert_true(u.sec == t.sec);
            assert_int_equal(u.nsec, t.nsec);
        }
    assert_int_equal(sizeof(tl_time_packed), 12);
    assert_int_equal(_Alignof(tl_time_packed), 4);
}

/* An offset from a base and back gives the same time, and the difference
 * of two times is the same from the offsets as from the times. */
static void offsets_and_back(void **state)
{
    (void)state;
    tl_time base = {1700000000, 999999999u};
    const int64_t offs[] = {0, 1, 999999999, 1000000000, -1, -1000000001, 86400LL * 1000000000};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        tl_time t = tl__time_at(base, offs[i]);
        assert_true(t.nsec < 1000000000u);
        assert_true(tl__time_off(base, t) == offs[i]);
        assert_true(fabs(tl__time_diff(base, t) - (double)offs[i] / 1e9) < 1e-6);
    }
    tl_time a = {5, 0}, b = {5, 1};
    assert_int_equal(tl__time_cmp(a, b), -1);
    assert_int_equal(tl__time_cmp(b, a), 1);
    assert_int_equal(tl__time_cmp(a, a), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(packed_time_round_trips),
        cmocka_unit_test(offsets_and_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
