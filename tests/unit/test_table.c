/* test_table.c -- the open-addressing connection table against a reference
 * model under heavy churn (insert/find/remove with backward-shift deletion),
 * and the canonical key's direction independence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "track/table.h"

#define N 20000

static tl_conn_key keys[N];
static bool present[N];

static const tl_conn_key *key_of(void *ctx, uint32_t slot)
{
    (void)ctx;
    return &keys[slot];
}

static void make_key(tl_conn_key *k, uint32_t i)
{
    memset(k, 0, sizeof *k);
    k->family = 4;
    k->a[0] = 10;
    k->a[3] = (uint8_t)(i & 0xff);
    k->b[0] = 192;
    k->pa = (uint16_t)(1024 + i / 256);
    k->pb = 80;
}

static void table_matches_reference_under_churn(void **state)
{
    (void)state;
    tl_table t;
    /* A constant seed and few table slots force long clusters. */
    assert_int_equal(tl_table_init(&t, 16, 42, key_of, NULL), 0);
    for (uint32_t i = 0; i < N; i++) make_key(&keys[i], i);
    uint64_t x = 88172645463325252ull;
    for (int step = 0; step < 200000; step++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        uint32_t i = (uint32_t)(x % N);
        uint64_t h = tl_conn_key_hash(&keys[i], t.seed);
        if (present[i]) {
            assert_int_equal(tl_table_find(&t, &keys[i], h), i);
            tl_table_remove(&t, &keys[i], h);
            present[i] = false;
        } else {
            assert_int_equal(tl_table_find(&t, &keys[i], h), UINT32_MAX);
            assert_int_equal(tl_table_insert(&t, h, i), 0);
            present[i] = true;
        }
    }
    uint32_t count = 0;
    for (uint32_t i = 0; i < N; i++) {
        uint64_t h = tl_conn_key_hash(&keys[i], t.seed);
        assert_int_equal(tl_table_find(&t, &keys[i], h), present[i] ? i : UINT32_MAX);
        count += present[i];
    }
    assert_int_equal(t.count, count);
    assert_true(t.count * 2 <= t.mask + 1);
    tl_table_release(&t);
}

static void key_is_the_same_for_both_directions(void **state)
{
    (void)state;
    tl_packet p;
    memset(&p, 0, sizeof p);
    p.src.family = p.dst.family = 6;
    p.src.bytes[15] = 1;
    p.dst.bytes[15] = 1;   /* same address: ports decide the order */
    p.sport = 40000;
    p.dport = 8080;
    tl_conn_key k1, k2;
    int d1 = tl_conn_key_make(&k1, &p);
    p.sport = 8080;
    p.dport = 40000;
    int d2 = tl_conn_key_make(&k2, &p);
    assert_true(tl_conn_key_equal(&k1, &k2));
    assert_int_not_equal(d1, d2);
    assert_true(tl_conn_key_hash(&k1, 7) == tl_conn_key_hash(&k2, 7));
}

static void hash_depends_on_the_seed(void **state)
{
    (void)state;
    tl_conn_key k;
    make_key(&k, 12345);
    assert_true(tl_conn_key_hash(&k, 1) != tl_conn_key_hash(&k, 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_matches_reference_under_churn),
        cmocka_unit_test(key_is_the_same_for_both_directions),
        cmocka_unit_test(hash_depends_on_the_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
