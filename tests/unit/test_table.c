/* test_table.c -- the open-addressing connection table against a reference
 * model under heavy churn (insert/find/remove with backward-shift deletion),
 * the canonical key's direction independence, and the packet-side probe
 * agreeing with the stored key's hash, equality and direction bit. */
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
            /* by key and by slot, in turn */
            if (step & 1)
                tl_table_remove(&t, &keys[i], h);
            else
                tl_table_remove_slot(&t, h, i);
            present[i] = false;
        } else {
            assert_int_equal(tl_table_find(&t, &keys[i], h), UINT32_MAX);
            assert_int_equal(tl_table_insert(&t, h, i), 0);
            present[i] = true;
        }
        /* the first entries' copies after the last (TL_TABLE_MIRROR) */
        for (uint32_t j = 0; j < TL_TABLE_MIRROR; j++) {
            assert_int_equal(t.e[t.mask + 1 + j].slot, t.e[j].slot);
            assert_int_equal(t.e[t.mask + 1 + j].tag, t.e[j].tag);
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

/* The probe of p must hash, compare and orient as the key built from p:
 * the table holds keys' hashes (finalize removes by tl_conn_key_hash), the
 * lookup uses the probe's. Both directions, under two seeds. */
static void probe_matches_key(const tl_packet *p0)
{
    tl_packet p = *p0;
    for (int turn = 0; turn < 2; turn++) {
        tl_conn_key k;
        tl_conn_probe q;
        int dir = tl_conn_key_make(&k, &p);
        tl_conn_probe_make(&q, &p);
        assert_int_equal(q.dir, dir);
        assert_true(tl_conn_key_is(&k, &q));
        for (uint64_t seed = 1; seed < 1u << 20; seed = seed * 977 + 1)
            assert_true(tl_conn_probe_hash(&q, seed) == tl_conn_key_hash(&k, seed));
        tl_addr a = p.src;   /* the other direction */
        p.src = p.dst;
        p.dst = a;
        uint16_t port = p.sport;
        p.sport = p.dport;
        p.dport = port;
    }
}

static void set_addr(tl_addr *a, uint8_t family, uint64_t x, uint64_t y)
{
    memset(a, 0, sizeof *a);
    a->family = family;
    memcpy(a->bytes, &x, family == 4 ? 4 : 8);
    if (family != 4) memcpy(a->bytes + 8, &y, 8);
}

static void probe_hashes_and_orients_as_the_key(void **state)
{
    (void)state;
    tl_packet p;
    memset(&p, 0, sizeof p);
    for (uint8_t fam = 4; fam <= 6; fam += 2) {
        /* equal addresses: the ports decide, either way round, and equal ports */
        set_addr(&p.src, fam, 0x0100000aull, 7);
        p.dst = p.src;
        p.sport = 40000, p.dport = 8080;
        probe_matches_key(&p);
        p.sport = 8080, p.dport = 40000;
        probe_matches_key(&p);
        p.sport = p.dport = 443;
        probe_matches_key(&p);
        /* addresses equal but for the last byte, with ports ordered the other way */
        set_addr(&p.dst, fam, 0x0200000aull, 7);
        probe_matches_key(&p);
        p.sport = 1, p.dport = 65535;
        probe_matches_key(&p);
    }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 20000; i++) {
        uint64_t r[5];
        for (int j = 0; j < 5; j++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            r[j] = x;
        }
        uint8_t fam = (i & 1) ? 6 : 4;
        set_addr(&p.src, fam, r[0], r[1]);
        /* every fourth packet shares its source's first word: a later word decides */
        set_addr(&p.dst, fam, (i & 2) ? r[0] : r[2], r[3]);
        p.sport = (uint16_t)r[4];
        p.dport = (i & 4) ? p.sport : (uint16_t)(r[4] >> 16);
        /* what an IPv4 packet holds past its 4 address bytes must not matter */
        if (fam == 4) memset(p.src.bytes + 4, 0xa5, 12);
        probe_matches_key(&p);
    }
}

/* A probe is not equal to another connection's key: one port or address
 * bit, or the family, differs. */
static void probe_is_not_another_key(void **state)
{
    (void)state;
    tl_packet p;
    memset(&p, 0, sizeof p);
    for (uint8_t fam = 4; fam <= 6; fam += 2) {
        set_addr(&p.src, fam, 0x0100000aull, 0x55);
        set_addr(&p.dst, fam, 0x0200000aull, 0x66);
        p.sport = 40000, p.dport = 80;
        tl_conn_key k;
        tl_conn_probe q;
        tl_conn_key_make(&k, &p);
        tl_packet o = p;
        o.sport++;
        tl_conn_probe_make(&q, &o);
        assert_false(tl_conn_key_is(&k, &q));
        o = p;
        o.dst.bytes[fam == 4 ? 3 : 15] ^= 1;
        tl_conn_probe_make(&q, &o);
        assert_false(tl_conn_key_is(&k, &q));
        o = p;
        o.sport = 80, o.dport = 40000;   /* the ports swapped, not the addresses */
        tl_conn_probe_make(&q, &o);
        assert_false(tl_conn_key_is(&k, &q));
        /* the same bytes and ports as the other family: only the
         * family differs (the tail word's) */
        o = p;
        o.src.family = o.dst.family = fam == 4 ? 6 : 4;
        tl_conn_probe_make(&q, &o);
        assert_false(tl_conn_key_is(&k, &q));
    }
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
        cmocka_unit_test(probe_hashes_and_orients_as_the_key),
        cmocka_unit_test(probe_is_not_another_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
