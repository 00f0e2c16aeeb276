/* test_event_table.c -- the event table is complete and its names are a
 * stable, invertible interface; state, open and close names round-trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tcplens/event.h"
#include "tcplens/sink.h"
#include "tcplens/tcp_state.h"

static void every_event_kind_has_name_and_explanation(void **st)
{
    (void)st;
    for (int k = 0; k < TL_EV_COUNT; k++) {
        const char *n = tl_event_name((tl_event_kind)k);
        const char *e = tl_event_explain((tl_event_kind)k);
        assert_non_null(n);
        assert_string_not_equal(n, "unknown");
        assert_true(strlen(n) > 0);
        /* one sentence: starts upper case, ends with a full stop */
        assert_true(strlen(e) > 20);
        assert_true(e[0] >= 'A' && e[0] <= 'Z');
        assert_int_equal(e[strlen(e) - 1], '.');
    }
}

static void event_names_are_unique_and_parse_back(void **st)
{
    (void)st;
    for (int a = 0; a < TL_EV_COUNT; a++) {
        assert_int_equal(tl_event_parse(tl_event_name((tl_event_kind)a)), a);
        for (int b = a + 1; b < TL_EV_COUNT; b++)
            assert_string_not_equal(tl_event_name((tl_event_kind)a), tl_event_name((tl_event_kind)b));
    }
    assert_int_equal(tl_event_parse("no_such_event"), TL_EV_COUNT);
    assert_int_equal(tl_event_parse(""), TL_EV_COUNT);
    assert_int_equal(tl_event_parse(NULL), TL_EV_COUNT);
}

static void event_names_are_the_spec_names(void **st)
{
    (void)st;
    static const char *const spec[] = {
        "handshake", "simultaneous_open", "refused", "syn_retransmit", "data", "ack", "fin",
        "half_close", "close_4way", "close_3way", "simultaneous_close", "rst_abort",
        "rst_closed_socket", "rst_unread_data", "time_wait", "retransmission",
        "fast_retransmission", "spurious_retransmission", "out_of_order",
        "previous_segment_not_captured", "ack_unseen_segment", "dup_ack", "zero_window",
        "window_full", "window_update", "zero_window_probe", "keep_alive", "keep_alive_ack",
        "port_reused", "coalesced", "malformed", "evicted"};
    assert_int_equal(sizeof spec / sizeof spec[0], TL_EV_COUNT);
    for (int k = 0; k < TL_EV_COUNT; k++) assert_string_equal(tl_event_name((tl_event_kind)k), spec[k]);
}

static void out_of_range_event_kind_is_safe(void **st)
{
    (void)st;
    assert_string_equal(tl_event_name(TL_EV_COUNT), "unknown");
    assert_string_equal(tl_event_explain((tl_event_kind)-1), "");
    assert_false(tl_event_is_analysis(TL_EV_COUNT));
}

static void analysis_flags_are_wiresharks_set(void **st)
{
    (void)st;
    assert_true(tl_event_is_analysis(TL_EV_RETRANSMISSION));
    assert_true(tl_event_is_analysis(TL_EV_DUP_ACK));
    assert_true(tl_event_is_analysis(TL_EV_KEEP_ALIVE_ACK));
    assert_true(tl_event_is_analysis(TL_EV_PREVIOUS_SEGMENT_NOT_CAPTURED));
    assert_false(tl_event_is_analysis(TL_EV_HANDSHAKE));
    assert_false(tl_event_is_analysis(TL_EV_CLOSE_3WAY));
    assert_false(tl_event_is_analysis(TL_EV_MALFORMED));
}

static void role_names(void **st)
{
    (void)st;
    assert_string_equal(tl_role_name(TL_ROLE_CLIENT), "client");
    assert_string_equal(tl_role_name(TL_ROLE_SERVER), "server");
    assert_string_equal(tl_role_name(TL_ROLE_NONE), "");
}

static void state_names_round_trip(void **st)
{
    (void)st;
    for (int s = 0; s < TL_ST_COUNT; s++)
        assert_int_equal(tl_tcp_state_parse(tl_tcp_state_name((tl_tcp_state)s)), s);
    assert_string_equal(tl_tcp_state_name(TL_ST_FIN_WAIT_1), "FIN-WAIT-1");
    assert_string_equal(tl_tcp_state_name(TL_ST_SYN_RECEIVED), "SYN-RECEIVED");
    assert_string_equal(tl_tcp_state_name(TL_ST_TIME_WAIT), "TIME-WAIT");
    assert_string_equal(tl_tcp_state_name(TL_ST_UNKNOWN), "UNKNOWN");
    assert_string_equal(tl_tcp_state_name(TL_ST_COUNT), "UNKNOWN");
}

static void state_parse_accepts_kernel_and_ss_spellings(void **st)
{
    (void)st;
    assert_int_equal(tl_tcp_state_parse("ESTAB"), TL_ST_ESTABLISHED);
    assert_int_equal(tl_tcp_state_parse("SYN-SENT"), TL_ST_SYN_SENT);
    assert_int_equal(tl_tcp_state_parse("SYN_SENT"), TL_ST_SYN_SENT);
    assert_int_equal(tl_tcp_state_parse("SYN-RECV"), TL_ST_SYN_RECEIVED);
    assert_int_equal(tl_tcp_state_parse("SYN_RECV"), TL_ST_SYN_RECEIVED);
    assert_int_equal(tl_tcp_state_parse("FIN-WAIT-1"), TL_ST_FIN_WAIT_1);
    assert_int_equal(tl_tcp_state_parse("FIN_WAIT1"), TL_ST_FIN_WAIT_1);
    assert_int_equal(tl_tcp_state_parse("FIN-WAIT-2"), TL_ST_FIN_WAIT_2);
    assert_int_equal(tl_tcp_state_parse("FIN_WAIT2"), TL_ST_FIN_WAIT_2);
    assert_int_equal(tl_tcp_state_parse("TIME_WAIT"), TL_ST_TIME_WAIT);
    assert_int_equal(tl_tcp_state_parse("CLOSE"), TL_ST_CLOSED);
    assert_int_equal(tl_tcp_state_parse("CLOSED"), TL_ST_CLOSED);
    assert_int_equal(tl_tcp_state_parse("CLOSE_WAIT"), TL_ST_CLOSE_WAIT);
    assert_int_equal(tl_tcp_state_parse("CLOSE-WAIT"), TL_ST_CLOSE_WAIT);
    assert_int_equal(tl_tcp_state_parse("LAST_ACK"), TL_ST_LAST_ACK);
    assert_int_equal(tl_tcp_state_parse("LISTEN"), TL_ST_LISTEN);
    assert_int_equal(tl_tcp_state_parse("CLOSING"), TL_ST_CLOSING);
    assert_int_equal(tl_tcp_state_parse("estab"), TL_ST_ESTABLISHED);
    assert_int_equal(tl_tcp_state_parse("BOGUS"), TL_ST_UNKNOWN);
    assert_int_equal(tl_tcp_state_parse(NULL), TL_ST_UNKNOWN);
}

static void open_and_close_kind_names(void **st)
{
    (void)st;
    assert_string_equal(tl_open_kind_name(TL_OPEN_NONE), "");
    assert_string_equal(tl_open_kind_name(TL_OPEN_HANDSHAKE), "handshake");
    assert_string_equal(tl_open_kind_name(TL_OPEN_SIMULTANEOUS_OPEN), "simultaneous_open");
    assert_string_equal(tl_open_kind_name(TL_OPEN_MIDSTREAM), "midstream");
    assert_string_equal(tl_close_kind_name(TL_CLOSE_OPEN), "open");
    assert_string_equal(tl_close_kind_name(TL_CLOSE_4WAY), "close_4way");
    assert_string_equal(tl_close_kind_name(TL_CLOSE_3WAY), "close_3way");
    assert_string_equal(tl_close_kind_name(TL_CLOSE_SIMULTANEOUS), "simultaneous_close");
    assert_string_equal(tl_close_kind_name(TL_CLOSE_RST_ABORT), "rst_abort");
    assert_string_equal(tl_close_kind_name(TL_CLOSE_REFUSED), "refused");
    assert_string_equal(tl_close_kind_name(TL_CLOSE_SYN_UNANSWERED), "syn_unanswered");
    assert_string_equal(tl_close_kind_name(TL_CLOSE_HALF_CLOSED), "half_closed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_event_kind_has_name_and_explanation),
        cmocka_unit_test(event_names_are_unique_and_parse_back),
        cmocka_unit_test(event_names_are_the_spec_names),
        cmocka_unit_test(out_of_range_event_kind_is_safe),
        cmocka_unit_test(analysis_flags_are_wiresharks_set),
        cmocka_unit_test(role_names),
        cmocka_unit_test(state_names_round_trip),
        cmocka_unit_test(state_parse_accepts_kernel_and_ss_spellings),
        cmocka_unit_test(open_and_close_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
