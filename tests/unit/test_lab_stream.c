/* test_lab_stream.c -- which of the peer's writes each read returned
 * (src/lab/lab_stream.c), the ground of the lab's `coalesced` event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lab/lab_int.h"

#define CLIENT_PORT 40000
#define SERVER_PORT 8888

/* A send or recv call of side on the connection from client port cport,
 * returning ret. */
static void call(tl_lab_result *r, int side, const char *name, int64_t ret, uint16_t cport)
{
    tl_call_rec c = {.type = TL_REC_CALL, .side = (uint8_t)side, .ret = ret};
    snprintf(c.call, sizeof c.call, "%s", name);
    c.lport = side == TL_LAB_CLIENT ? cport : SERVER_PORT;
    c.rport = side == TL_LAB_CLIENT ? SERVER_PORT : cport;
    assert_non_null(tl__lab_vec_push(&r->recs, &c));
}

/* tl__lab_writes_per_read's answer for each record, compared with want. */
static void assert_writes(tl_lab_result *r, const int *want, size_t n)
{
    assert_int_equal(r->recs.n, n);
    int got[32];
    tl__lab_writes_per_read(r, got);
    for (size_t i = 0; i < n; i++) assert_int_equal(got[i], want[i]);
    tl__lab_result_release(r);
}

/* The coalesce scenario: three 7-byte writes, one read of 21, then three
 * writes read 7 at a time. */
static void three_writes_one_read(void **state)
{
    (void)state;
    tl_lab_result r;
    tl__lab_result_init(&r, NULL);
    for (int i = 0; i < 3; i++) call(&r, TL_LAB_CLIENT, "send", 7, CLIENT_PORT);
    call(&r, TL_LAB_SERVER, "recv", 21, CLIENT_PORT);
    for (int i = 0; i < 3; i++) call(&r, TL_LAB_CLIENT, "send", 7, CLIENT_PORT);
    for (int i = 0; i < 3; i++) call(&r, TL_LAB_SERVER, "recv", 7, CLIENT_PORT);
    call(&r, TL_LAB_SERVER, "recv", 0, CLIENT_PORT);   /* EOF */
    const int want[] = {0, 0, 0, 3, 0, 0, 0, 1, 1, 1, 0};
    assert_writes(&r, want, sizeof want / sizeof want[0]);
}

/* Reads that cut writes: a read that starts inside one write and ends in
 * the next took bytes of both. */
static void reads_across_write_boundaries(void **state)
{
    (void)state;
    tl_lab_result r;
    tl__lab_result_init(&r, NULL);
    call(&r, TL_LAB_SERVER, "send", 10, CLIENT_PORT);
    call(&r, TL_LAB_SERVER, "send", 10, CLIENT_PORT);
    call(&r, TL_LAB_CLIENT, "recv", 5, CLIENT_PORT);
    call(&r, TL_LAB_CLIENT, "recv", 10, CLIENT_PORT);
    call(&r, TL_LAB_CLIENT, "recv", 5, CLIENT_PORT);
    const int want[] = {0, 0, 1, 2, 1};
    assert_writes(&r, want, sizeof want / sizeof want[0]);
}

/* Another connection's writes, failed writes and the reader's own writes
 * are not in the stream a read takes from. */
static void other_streams_do_not_count(void **state)
{
    (void)state;
    tl_lab_result r;
    tl__lab_result_init(&r, NULL);
    call(&r, TL_LAB_CLIENT, "send", 7, CLIENT_PORT + 1);
    call(&r, TL_LAB_CLIENT, "send", -1, CLIENT_PORT);
    call(&r, TL_LAB_SERVER, "send", 7, CLIENT_PORT);
    call(&r, TL_LAB_CLIENT, "send", 7, CLIENT_PORT);
    call(&r, TL_LAB_SERVER, "recv", 7, CLIENT_PORT);
    call(&r, TL_LAB_SERVER, "recv", 7, CLIENT_PORT + 1);
    const int want[] = {0, 0, 0, 0, 1, 1};
    assert_writes(&r, want, sizeof want / sizeof want[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_writes_one_read),
        cmocka_unit_test(reads_across_write_boundaries),
        cmocka_unit_test(other_streams_do_not_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
